#!/usr/bin/env bash
# NAT keepalive (issue 12, part 1) with Linux kernel SCTP at both ends (tests/e2e/vm): a
# kernel host in IN's place (router mode) and a kernel RFC 6951 peer in PEER's place
# (net.sctp.udp_port / encap_port 9899), the legacy NAT forgetting idle UDP mappings
# after 10 s (its conntrack UDP timeouts, per namespace). Both endpoints have their own
# HEARTBEATs off, so an idle association sends nothing.
#
# IN opens two associations at once: to 203.0.113.2 port P1 (`keepalive 4`) and to
# 203.0.113.3 port P2 (`keepalive 0`, the negative control). Two peer addresses, each
# server bound to one, so the associations have separate UDP flows and so separate NAT
# mappings (one flow would be kept open for both). A few echoes, then 30 s of silence,
# then the peer sends first on both; IN echoes what it gets.
#  - P1: the echo is back within 1 s; the gateway's HEARTBEATs (info "sctpgwKA") crossed
#    the outside to the peer only, the peer answered, the counters say so.
#  - P2: nothing is delivered within 8 s: the peer's packets reach the NAT itself (no
#    mapping: its input counter moves, it answers port unreachable); no keepalive sent.
#  - IN never sees a HEARTBEAT or HEARTBEAT-ACK (capture on the gateway's internal side).
#  - During the silence, a forged answer (our magic, wrong MAC) and a replay of a
#    genuine one (taken off the peer's link) are sent to P1's mapping:
#    drop_in_keepalive_forged and drop_in_keepalive_replayed move by one each, and P1
#    still works afterwards (its first-send echo above).
# E2E_KA_OFF=1, the control for P1 itself: both rules `keepalive 0` (plain on a daemon
# without the option); then both associations lose their first-send message.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=vm/lib.sh
. "$(dirname "$0")/vm/lib.sh"

P1=5001
P2=5002
PEER_B=203.0.113.3
KA=4
NAT_TIMEOUT=10
IDLE=30
WAIT=8
KA_OFF=${E2E_KA_OFF:-0}
T0=$SECONDS

e2e_init
need_cmd tshark python3
need_gw
vm_need
topo_up

# ---- the legacy NAT: short UDP mappings, and counters that show a missing one ----
# Per network namespace on this kernel: the host's own values must not change.
ct=(net.netfilter.nf_conntrack_udp_timeout net.netfilter.nf_conntrack_udp_timeout_stream)
host_ct=$(sysctl -n "${ct[@]}" | tr '\n' ' ')
nsx "$NS_NAT" sysctl -qw "${ct[0]}=$NAT_TIMEOUT" "${ct[1]}=$NAT_TIMEOUT" ||
	e2e_fail "cannot set the NAT's conntrack UDP timeouts"
[ "$(nsx "$NS_NAT" sysctl -n "${ct[@]}" | tr '\n' ' ')" = "$NAT_TIMEOUT $NAT_TIMEOUT " ] ||
	e2e_fail "the NAT's conntrack UDP timeouts are not $NAT_TIMEOUT s"
[ "$(sysctl -n "${ct[@]}" | tr '\n' ' ')" = "$host_ct" ] ||
	e2e_fail "setting the NAT's conntrack UDP timeouts changed the host's (not per namespace here)"
# A peer datagram that reaches the NAT's own input had no mapping to follow.
nsx "$NS_NAT" nft -f - <<EOF || e2e_fail "cannot install the NAT's watch counters"
table ip ka_watch {
	chain input {
		type filter hook input priority filter; policy accept;
		iifname "out0" ip saddr $PEER_ADDR udp sport $ENCAPS_PORT counter comment "p1_unmapped"
		iifname "out0" ip saddr $PEER_B udp sport $ENCAPS_PORT counter comment "p2_unmapped"
	}
	chain output {
		type filter hook output priority filter; policy accept;
		oifname "out0" icmp type destination-unreachable counter comment "unreach"
	}
}
EOF
# watch_count COMMENT: packets of that counter so far.
watch_count()
{
	nsx "$NS_NAT" nft -j list table ip ka_watch | python3 -c '
import json, sys
for o in json.load(sys.stdin)["nftables"]:
    r = o.get("rule")
    if r and r.get("comment") == sys.argv[1]:
        print(sum(e["counter"]["packets"] for e in r["expr"] if "counter" in e))' "$1"
}

# stat_of FILE NAME: counter NAME of a saved `show stats` ("absent" if not there).
stat_of()
{
	python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["stats"].get(sys.argv[2], "absent"))' \
		"$E2E_TMP/$1" "$2"
}

# moved NAME WAS: counter NAME now differs from WAS (for e2e_until).
# shellcheck disable=SC2317 # called through e2e_until
moved() { ctl_json "stats.$1.json" show stats && [ "$(stat_of "stats.$1.json" "$1")" != "$2" ]; }

# ---- the gateway ----
if [ "$KA_OFF" = 1 ]; then
	# keepalive 0 where the daemon knows the option (its default is on).
	off=" keepalive 0"
	gw_write_config "$GW_CONF" "internal 10.10.1.0/24" "encapsulate to any$off" "udp-port $ENCAPS_PORT" "queue 0"
	nsx "$NS_GW" "$GW_BIN" -n -c "$GW_CONF" >/dev/null 2>&1 || off=""
	rules=("encapsulate to any port $P1$off" "encapsulate to any port $P2$off")
else
	rules=("encapsulate to any port $P1 keepalive $KA" "encapsulate to any port $P2 keepalive 0")
fi
gw_write_config "$GW_CONF" "internal 10.10.1.0/24" "${rules[@]}" "udp-port $ENCAPS_PORT" "queue 0"
gw_start "$GW_CONF"
cap_start "$NS_GW" int0 inside
IN_CAP_PID=$CAP_PID IN_CAP_FILE=$CAP_FILE
cap_start "$NS_NAT" out0 outside

# ---- the two kernels, booted in parallel ----
srv="sctpk server -H -s $IDLE -w $WAIT"
vm_start peer "$NS_PEER" --nic eth0 "$PEER_ADDR/24 $PEER_B/24" \
	--sysctl "net.sctp.udp_port=$ENCAPS_PORT" --sysctl "net.sctp.encap_port=$ENCAPS_PORT" -- \
	"$srv -b $PEER_ADDR $P1 & $srv -b $PEER_B $P2 & wait"
# -r 500: INITs every 0.5 s until the peer is up; -E: echo back what the peer sends.
cli="sctpk client -H -E -r 500 -n 3 -d 100"
vm_start host "$NS_IN" --nic eth0 "$IN_ADDR/24" --ip "route add default via $GW_INT_ADDR" -- \
	"$cli -t p1 $PEER_ADDR $P1 & $cli -t p2 $PEER_B $P2 & wait"
vm_wait_ready peer 30
peer_boot=$VM_BOOT_MS
vm_wait_ready host 30
host_boot=$VM_BOOT_MS

for t in p1 p2; do
	vm_wait_line host "^sctpk client: echoed 3/3 tag $t " 30 ||
		e2e_fail_dump "kernel host: association $t did not carry its 3 echoes"
done
e2e_log "both associations up and echoed; from now on $IDLE s of silence"
idle_start=$SECONDS
idle_epoch=$(date +%s.%N)
for v in host peer; do
	n=$(grep -ac 'heartbeats off' "$E2E_TMP/vm.$v.console")
	[ "$n" = 2 ] || e2e_fail_dump "VM $v: $n of 2 associations report their heartbeats off"
done

ctl_json assoc.json show associations
# assoc_field PORT FIELD: FIELD of the association to server port PORT.
assoc_field()
{
	python3 -c '
import json, sys
for a in json.load(open(sys.argv[1]))["associations"]:
    if a["remote_port"] == int(sys.argv[2]):
        print(a[sys.argv[3]])' "$E2E_TMP/assoc.json" "$1" "$2"
}
id1=$(assoc_field "$P1" id)
id2=$(assoc_field "$P2" id)
{ [ -n "$id1" ] && [ -n "$id2" ]; } || { cat "$E2E_TMP/assoc.json"; e2e_fail "the gateway does not list both associations"; }
if [ "$KA_OFF" != 1 ]; then
	json_check "$E2E_TMP/assoc.json" "
for a in d['associations']:
    want = {$P1: $KA, $P2: 0}[a['remote_port']]
    check(a.get('keepalive_interval') == want, 'association to port %d: keepalive_interval %r, expected %d' % (a['remote_port'], a.get('keepalive_interval'), want))
" || e2e_fail_dump "the rules' keepalive intervals are not the associations'"
fi
ctl_json stats0.json show stats

# ---- forged and replayed answers, during the silence ----
forged=- replayed=-
if [ "$KA_OFF" != 1 ]; then
	bg sniff "$NS_PEER" python3 "$E2E_SRCDIR/tests/e2e/ka_inject.py" sniff eth0 "$PEER_ADDR" \
		"$E2E_TMP/ka-answer.hex" $((KA * 3))
	sniff_pid=$BG_PID
	e2e_wait_pid "$sniff_pid" $((KA * 3 + 2))
	wait "$sniff_pid" || e2e_fail_dump "no keepalive answer from the peer within $((KA * 3)) s: $(cat "$E2E_TMP/sniff.out")"
	e2e_log "$(cat "$E2E_TMP/sniff.out") after $((SECONDS - idle_start)) s of silence"
	# The answer names the association as the JSON does: the peer's port, the port the
	# peer sees, the internal host's tag.
	read -r sp dp vt < <(sed -n 's/.*SCTP ports \([0-9]*\) -> \([0-9]*\), tag \([0-9]*\).*/\1 \2 \3/p' "$E2E_TMP/sniff.out")
	want="$(assoc_field "$P1" remote_port) $(assoc_field "$P1" seen_port) $(assoc_field "$P1" internal_tag)"
	[ "$sp $dp $vt" = "$want" ] ||
		e2e_fail_dump "the keepalive answer carries ports and tag '$sp $dp $vt', the association '$want'"
	sleep 0.3 # the genuine answer is taken before its replay comes
	ctl_json stats1.json show stats
	f0=$(stat_of stats1.json drop_in_keepalive_forged)
	r0=$(stat_of stats1.json drop_in_keepalive_replayed)
	s0=$(stat_of stats1.json drop_in_keepalive_stale)
	# shellcheck disable=SC2086 # three words: ports and tag
	nsx "$NS_PEER" python3 "$E2E_SRCDIR/tests/e2e/ka_inject.py" forge eth0 "$E2E_TMP/ka-answer.hex" \
		$want >"$E2E_TMP/forge.out" 2>&1 || e2e_fail "ka_inject.py forge: $(cat "$E2E_TMP/forge.out")"
	e2e_log "$(cat "$E2E_TMP/forge.out")"
	e2e_until 3 moved drop_in_keepalive_forged "$f0" ||
		e2e_fail_dump "drop_in_keepalive_forged did not move (was $f0) after a forged answer"
	nsx "$NS_PEER" python3 "$E2E_SRCDIR/tests/e2e/ka_inject.py" replay eth0 "$E2E_TMP/ka-answer.hex" \
		>"$E2E_TMP/replay.out" 2>&1 || e2e_fail "ka_inject.py replay: $(cat "$E2E_TMP/replay.out")"
	e2e_log "$(cat "$E2E_TMP/replay.out")"
	e2e_until 3 moved drop_in_keepalive_replayed "$r0" ||
		e2e_fail_dump "drop_in_keepalive_replayed did not move (was $r0) after a replayed answer"
	sleep 0.5
	ctl_json stats2.json show stats
	forged=$(( $(stat_of stats2.json drop_in_keepalive_forged) - f0 ))
	replayed=$(( $(stat_of stats2.json drop_in_keepalive_replayed) - r0 ))
	stale=$(( $(stat_of stats2.json drop_in_keepalive_stale) - s0 ))
	e2e_log "forged +$forged, replayed +$replayed, stale +$stale"
	{ [ "$forged" = 1 ] && [ "$replayed" = 1 ] && [ "$stale" = 0 ]; } ||
		e2e_fail_dump "one forged and one replayed answer counted as forged +$forged, replayed +$replayed, stale +$stale"
fi

# ---- the peer speaks first after the silence ----
res1="^sctpk server: first-send port $P1 .*: (late )?(no )?echo"
res2="^sctpk server: first-send port $P2 .*: (late )?(no )?echo"
left=$((idle_start + IDLE + WAIT + 15 - SECONDS))
vm_wait_line peer "$res1" "$left" || e2e_fail_dump "no first-send result for port $P1"
vm_wait_line peer "$res2" $((idle_start + IDLE + WAIT + 15 - SECONDS)) ||
	e2e_fail_dump "no first-send result for port $P2"
# (the serial console ends its lines with CR LF)
line1=$(grep -aE "$res1" "$E2E_TMP/vm.peer.console" | head -n 1 | tr -d '\r')
line2=$(grep -aE "$res2" "$E2E_TMP/vm.peer.console" | head -n 1 | tr -d '\r')
sent1=$(grep -a "^sctpk server: first-send port $P1 .*sent after" "$E2E_TMP/vm.peer.console" | tr -d '\r' |
	sed 's/.*after \([0-9]*\) ms.*/\1/')
e2e_log "peer, port $P1: $line1 (after ${sent1:-?} ms of silence)"
e2e_log "peer, port $P2: $line2"
d1=$(sed -n 's/.*: echo in \([0-9]*\) ms$/\1/p' <<<"$line1")
in1=$(grep -a '^sctpk client: echo-back tag p1: .* bytes after' "$E2E_TMP/vm.host.console" | head -n 1 | tr -d '\r')
in2=$(grep -a '^sctpk client: echo-back tag p2: .* bytes after' "$E2E_TMP/vm.host.console" | head -n 1 | tr -d '\r')
e2e_log "host: ${in1:-p1 got nothing}; ${in2:-p2 got nothing}"
sleep 1 # the P2 retransmissions' last counts
p1_unmapped=$(watch_count p1_unmapped)
p2_unmapped=$(watch_count p2_unmapped)
unreach=$(watch_count unreach)
e2e_log "NAT: peer datagrams without a mapping: P1 $p1_unmapped, P2 $p2_unmapped; port unreachables sent $unreach"

# P2, the negative control (and P1 too without keepalives): lost to the NAT's expiry.
lost=(2)
[ "$KA_OFF" = 1 ] && lost=(1 2)
for k in "${lost[@]}"; do
	eval "line=\$line$k got_in=\$in$k unm=\$p${k}_unmapped port=\$P$k"
	# shellcheck disable=SC2154 # set by the eval
	[[ $line == *"no echo within"* ]] || e2e_fail_dump "port $port (no keepalive): the first-send came back: $line"
	# shellcheck disable=SC2154
	[ -z "$got_in" ] || e2e_fail_dump "port $port (no keepalive): IN got the peer's message: $got_in"
	# shellcheck disable=SC2154
	[ "$unm" -gt 0 ] || e2e_fail_dump "port $port: the NAT saw no unmapped datagram from the peer: the mapping did not expire?"
done
[ "$unreach" -gt 0 ] || e2e_fail_dump "the NAT sent no port unreachable for the unmapped datagrams"

# ---- the wire: the silence was silent, IN never saw a HEARTBEAT ----
cap_stop
CAP_PID=$IN_CAP_PID
cap_stop
magic='sctp.parameter_heartbeat_information contains "sctpgwKA"'
# From 1 s after the last echo (delayed SACKs) to 2 s before the first-send: no SCTP
# on the outside but the gateway's keepalives and their answers.
q0=$(python3 -c 'import sys; print("%.3f" % (float(sys.argv[1]) + 1))' "$idle_epoch")
q1=$(python3 -c 'import sys; print("%.3f" % (float(sys.argv[1]) + int(sys.argv[2]) - 2))' "$idle_epoch" "$IDLE")
quiet=$(cap_count "$CAP_FILE" "frame.time_epoch > $q0 && frame.time_epoch < $q1 &&
	sctp && !((sctp.chunk_type == 4 || sctp.chunk_type == 5) && $magic)")
[ "$quiet" = 0 ] || e2e_fail "$quiet SCTP packets other than keepalives on the outside during the silence"
own_hb=$(cap_count "$CAP_FILE" "sctp.chunk_type == 4 && !($magic)")
[ "$own_hb" = 0 ] || e2e_fail "$own_hb HEARTBEATs of the endpoints themselves on the outside"
hb_in=$(cap_count "$IN_CAP_FILE" "sctp.chunk_type == 4 || sctp.chunk_type == 5")
ka_in=$(cap_count "$IN_CAP_FILE" 'frame contains "sctpgwKA"')
data_in=$(cap_count "$IN_CAP_FILE" "sctp.chunk_type == 0")
[ "$data_in" -gt 0 ] || e2e_fail "the inside capture holds no DATA: wrong interface?"
[ "$hb_in" = 0 ] || { cap_summary "$IN_CAP_FILE"; e2e_fail "$hb_in HEARTBEAT / HEARTBEAT-ACK packets on IN's link"; }
[ "$ka_in" = 0 ] || e2e_fail "$ka_in packets on IN's link carry the gateway's keepalive information"
# Only SCTP in UDP outside (the NAT's port unreachables quote it), checksums good (the
# forged answer's too: it must be judged by its MAC), no internal address.
cap_outside_ok "$IN_ADDR"

if [ "$KA_OFF" = 1 ]; then
	e2e_pass "without keepalives (E2E_KA_OFF=1): both first-sends lost after ${IDLE} s of silence (NAT timeout ${NAT_TIMEOUT} s: $p1_unmapped / $p2_unmapped unmapped datagrams, $unreach port unreachables); VMs up in $peer_boot / $host_boot ms; $((SECONDS - T0)) s"
fi

# P1: delivered, echoed within 1 s, the mapping never lapsed.
[ -n "$d1" ] || e2e_fail_dump "port $P1 (keepalive $KA): $line1"
[ "$d1" -le 1000 ] || e2e_fail_dump "port $P1 (keepalive $KA): echo after $d1 ms, more than 1 s"
[ -n "$in1" ] || e2e_fail_dump "port $P1: IN did not get the peer's message"
[ "$p1_unmapped" = 0 ] || e2e_fail_dump "port $P1: $p1_unmapped peer datagrams found no mapping at the NAT"

# ---- the counters ----
ctl_json assoc1-end.json show association "$id1"
ctl_json assoc2-end.json show association "$id2"
ctl_json stats-end.json show stats
json_check "$E2E_TMP/assoc1-end.json" "
a = d['associations'][0]
for p in a['remote_addresses']:
    s, n = p.get('keepalives_sent', 0), p.get('keepalives_answered', 0)
    print('  P1 path %s: keepalives sent %s, answered %s, rtt %s ms' % (p['address'], s, n, p.get('keepalive_rtt_ms')))
    check(p['address'] == '$PEER_ADDR', 'P1 path %s: not the peer address' % p['address'])
    check(s > 0 and n > 0, 'P1 path %s: keepalives sent %r, answered %r' % (p['address'], s, n))
    check(n <= s, 'P1 path %s: more keepalives answered (%r) than sent (%r): a replay taken?' % (p['address'], n, s))
" || e2e_fail_dump "P1's keepalive counters"
json_check "$E2E_TMP/assoc2-end.json" "
a = d['associations'][0]
for p in a['remote_addresses']:
    check(p.get('keepalives_sent', 0) == 0, 'P2 path %s: keepalives sent %r with keepalive 0' % (p['address'], p.get('keepalives_sent')))
" || e2e_fail_dump "P2's keepalive counters"
ka_sent=$(stat_of stats-end.json keepalives_sent)
ka_ans=$(stat_of stats-end.json keepalives_answered)
ka_sent0=$(stat_of stats0.json keepalives_sent)
ka_ans0=$(stat_of stats0.json keepalives_answered)
e2e_log "stats: keepalives_sent $ka_sent0 -> $ka_sent, keepalives_answered $ka_ans0 -> $ka_ans"
{ [ "$ka_sent" -gt "$ka_sent0" ] && [ "$ka_ans" -gt "$ka_ans0" ]; } ||
	e2e_fail_dump "stats keepalives_sent $ka_sent0 -> $ka_sent, keepalives_answered $ka_ans0 -> $ka_ans"

# ---- the wire: the keepalives outside ----
ka_out=$(cap_count "$CAP_FILE" "ip.src == $NAT_OUT_ADDR && ip.dst == $PEER_ADDR && sctp.chunk_type == 4 && $magic")
ka_ack=$(cap_count "$CAP_FILE" "ip.src == $PEER_ADDR && sctp.chunk_type == 5 && $magic")
ka_b=$(cap_count "$CAP_FILE" "ip.addr == $PEER_B && (sctp.chunk_type == 4 || sctp.chunk_type == 5)")
# Two of the answers are ours: the forged one and the replay.
ka_ack=$((ka_ack - 2))
e2e_log "outside: $ka_out keepalive HEARTBEATs to $PEER_ADDR, $ka_ack genuine answers, $ka_b HEARTBEAT chunks on $PEER_B"
[ "$ka_out" -gt 0 ] || e2e_fail "no keepalive HEARTBEAT crossed the outside"
[ "$ka_ack" -gt 0 ] || e2e_fail "no keepalive answered on the outside"
[ "$ka_b" = 0 ] || e2e_fail "$ka_b HEARTBEAT chunks on P2's path (keepalive 0)"

vm_stop peer
vm_stop host
gw_stop TERM || e2e_fail "daemon did not stop on SIGTERM"
[ "$GW_STATUS" = 0 ] || e2e_fail "daemon exit status $GW_STATUS on SIGTERM"

e2e_pass "Linux $VM_KERNEL_RELEASE host and peer (up in $host_boot / $peer_boot ms), NAT UDP timeout $NAT_TIMEOUT s, $IDLE s of silence: keepalive $KA: echo in $d1 ms, $ka_out keepalives / $ka_ack answers outside, none inside; keepalive 0: no echo within $WAIT s ($p2_unmapped unmapped datagrams at the NAT); forged +$forged, replayed +$replayed; $((SECONDS - T0)) s"
