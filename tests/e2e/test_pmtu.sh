#!/usr/bin/env bash
# Path MTU through the gateway (RFC 6951 5.5; the gateway never fragments). A native
# tsctp client in IN sends messages whose packets fit a 1280-byte link natively but not
# once 8 bytes of UDP header are added.
#  1. local: the link GW - NAT has MTU 1280; IN sends 1280-byte packets (1232-byte
#     messages). The kernel forwards them (they fit the route), the gateway's UDP send
#     fails with EMSGSIZE, and it answers IN with "fragmentation needed", MTU 1272,
#     quoting IN's own packet. (Bigger packets never reach the gateway's queue: the
#     kernel's forwarding path refuses them first, with MTU 1280.)
#  2. remote: the link NAT - PEER has MTU 1280; IN sends 1448-byte packets. The NAT's
#     kernel answers the gateway's DF datagram with "fragmentation needed", MTU 1280;
#     the gateway maps the quoted SCTP header (ports, tag) to the association and tells
#     IN MTU 1272, quoting IN's packet.
#  3. the same small link, IN sends packets of exactly the MTU it was told (1272 bytes,
#     1224-byte messages): they fill the 1280-byte link exactly and all arrive.
# 1 and 2: the ICMP on IN's link names IN's address and port and the peer's tag, the
# counters move; in every phase no IP fragment and no datagram above 1280 bytes crosses
# the outside. What the usrsctp client does after the ICMP is logged: it is the peer's
# business, not the gateway's. Observed with libusrsctp-examples on Debian 12: usrsctp
# over raw sockets ignores the ICMP and keeps its packet size (it takes neither the
# interface MTU nor ICMP into account); its T3 retransmissions of the too-big chunk
# clear DF, so IN's kernel, which did learn the MTU from the ICMP, fragments them, and
# the gateway drops IP fragments (out_malformed): those messages never arrive.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

SMALL_MTU=1280
MSG_COUNT=5
TSCTP_PORT=5001

e2e_init
need_usrsctp
need_cmd tshark
need_gw
[ -x "$USRSCTP_DIR/tsctp" ] || e2e_fail "tsctp not in $USRSCTP_DIR (libusrsctp-examples)"
topo_up

conf="$E2E_TMP/gw.conf"
gw_write_config "$conf" \
	"internal 10.10.1.0/24" \
	"encapsulate to any" \
	"udp-port $ENCAPS_PORT" \
	"queue 0"
gw_start "$conf"

# The receiving end: tsctp in server mode, SCTP over UDP.
bg tsctp_server "$NS_PEER" "$USRSCTP_DIR/tsctp" -E "$ENCAPS_PORT" -U "$ENCAPS_PORT" -p "$TSCTP_PORT"
e2e_until 5 port_bound "$NS_PEER" "$ENCAPS_PORT" || e2e_fail "tsctp server does not listen on UDP $ENCAPS_PORT"

# Several captures at once (lib.sh's cap_start keeps one): pcap NS IF NAME.
PCAP_PIDS=()
pcap()
{
	bg "cap.$3" "$1" tshark -n -q -i "$2" -w "$E2E_TMP/$3.pcapng"
	PCAP_PIDS+=("$BG_PID")
	e2e_until 10 grep -qs "Capturing on" "$E2E_TMP/cap.$3.err" ||
		e2e_fail "tshark did not start on $1/$2: $(cat "$E2E_TMP/cap.$3.err")"
}
pcap_stop_all()
{
	local p
	sleep 0.5
	for p in "${PCAP_PIDS[@]}"; do
		kill -INT "$p" 2>/dev/null
	done
	for p in "${PCAP_PIDS[@]}"; do
		e2e_wait_pid "$p" 5 || kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	PCAP_PIDS=()
}

# num_ge N M: N is a number (not cap_count's "error") and at least M.
num_ge() { [ "$1" != error ] && [ "$1" -ge "$2" ]; }
stat_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["stats"].get(sys.argv[2], 0))' "$1" "$2"; }
stats_now() { ctl -j show stats >"$E2E_TMP/stats.json" 2>/dev/null; }
# shellcheck disable=SC2317 # called through e2e_until
icmp_sent_at_least()
{
	stats_now && [ "$(stat_of "$E2E_TMP/stats.json" icmp_sent)" -ge "$1" ]
}

fail_phase()
{
	pcap_stop_all
	ctl -j show stats 2>&1 | head -n 60
	ctl show associations 2>&1 | head -n 10
	e2e_fail "$PHASE: $*"
}

# run_phase NAME LEN ICMP [TSCTP ARGS...]: one client, MSG_COUNT messages of LEN bytes;
# with ICMP=1 waits until the gateway sent IN an ICMP error. Returns once the client
# finished or had 20 s more.
run_phase()
{
	PHASE=$1
	local len=$2 want_icmp=$3
	shift 3
	pcap "$NS_IN" eth0 "$PHASE-in"
	pcap "$NS_GW" ext0 "$PHASE-ext"
	pcap "$NS_NAT" out0 "$PHASE-out"
	stats_now && cp "$E2E_TMP/stats.json" "$E2E_TMP/$PHASE-stats-before.json"
	e2e_log "$PHASE: native tsctp client in IN sends $MSG_COUNT messages of $len bytes $*"
	bg "$PHASE-client" "$NS_IN" timeout 40 "$USRSCTP_DIR/tsctp" -E 0 -l "$len" \
		-n "$MSG_COUNT" -p "$TSCTP_PORT" "$@" "$PEER_ADDR"
	CLIENT_PID=$BG_PID
	if [ "$want_icmp" = 1 ]; then
		e2e_until 15 icmp_sent_at_least $((ICMP_SENT_BEFORE + 1)) ||
			fail_phase "no ICMP error sent to IN within 15 s"
		ctl -j show associations >"$E2E_TMP/$PHASE-assoc.json" ||
			fail_phase "sctpgwctl show associations failed"
	fi
	# Does the client get its messages through after the ICMP? Give it 20 s.
	if e2e_wait_pid "$CLIENT_PID" 20; then
		wait "$CLIENT_PID"
		CLIENT_STATUS=$?
	else
		CLIENT_STATUS=timeout
		kill -TERM "$CLIENT_PID" 2>/dev/null
		e2e_wait_pid "$CLIENT_PID" 3 || kill -KILL "$CLIENT_PID" 2>/dev/null
	fi
	stats_now && cp "$E2E_TMP/stats.json" "$E2E_TMP/$PHASE-stats.json"
	ICMP_SENT_BEFORE=$(stat_of "$E2E_TMP/stats.json" icmp_sent)
	pcap_stop_all
}

# check_phase NAME: what IN received and what crossed the outside.
check_phase()
{
	local p=$1 in="$E2E_TMP/$1-in.pcapng" ext="$E2E_TMP/$1-ext.pcapng" out="$E2E_TMP/$1-out.pcapng"
	local iport rtag want n big tagx

	read -r iport rtag < <(python3 -c '
import json, sys
a = json.load(open(sys.argv[1]))["associations"]
a = sorted((x for x in a if x.get("internal_address") == sys.argv[2]), key=lambda x: x["id"])
print(a[-1]["internal_port"], a[-1]["remote_tag"]) if a else print("none none")' \
		"$E2E_TMP/$p-assoc.json" "$IN_ADDR")
	[ "$iport" != none ] || fail_phase "no association of $IN_ADDR in the table"
	tagx=$(printf '0x%08x' "$rtag")
	want="icmp.type == 3 && icmp.code == 4 && icmp.mtu == $((SMALL_MTU - 8)) &&
		ip.src == $GW_INT_ADDR && ip.dst == $IN_ADDR && icmp.checksum.status == 1 &&
		sctp.srcport == $iport && sctp.dstport == $TSCTP_PORT && sctp.verification_tag == $tagx"
	n=$(cap_count "$in" "$want")
	e2e_log "$p: IN received $n ICMP frag-needed (MTU $((SMALL_MTU - 8)), port $iport, tag $tagx); all ICMP on IN's link:"
	cap_fields "$in" "icmp" frame.number ip.src ip.dst icmp.type icmp.code icmp.mtu \
		sctp.srcport sctp.dstport sctp.verification_tag frame.len | head -n 10
	num_ge "$n" 1 ||
		fail_phase "IN got no ICMP frag-needed with MTU $((SMALL_MTU - 8)) quoting port $iport and tag $tagx"
	# The quoted header is IN's own packet: its address to the peer, protocol SCTP.
	n=$(cap_count "$in" "icmp.type == 3 && !(ip.src == $IN_ADDR && ip.dst == $PEER_ADDR && ip.proto == 132)")
	[ "$n" = 0 ] || fail_phase "$n ICMP errors on IN's link do not quote $IN_ADDR -> $PEER_ADDR SCTP"
	check_outside "$p"
	json_check "$E2E_TMP/$p-stats.json" "
s = d.get('stats', {})
check(s.get('icmp_sent', 0) >= 1, 'icmp_sent %r' % s.get('icmp_sent'))
check(s.get('drop_icmp_send_error', 0) == 0, 'drop_icmp_send_error %r' % s.get('drop_icmp_send_error'))
" || fail_phase "counters"
}

# check_outside NAME: the gateway never fragments (no fragment on either link), and no
# datagram above the small MTU crossed a small link (GW - NAT in phase "local", the NAT's
# outside always: the NAT never fragments either, the DF bit is the gateway's).
check_outside()
{
	local p=$1 ext="$E2E_TMP/$1-ext.pcapng" out="$E2E_TMP/$1-out.pcapng" n big f small
	small=("$out")
	[ "$p" = local ] && small+=("$ext")
	for f in "$ext" "$out"; do
		n=$(cap_count "$f" "ip.flags.mf == 1 || ip.frag_offset > 0")
		[ "$n" = 0 ] || fail_phase "$n IP fragments in $(basename "$f")"
	done
	for f in "${small[@]}"; do
		big=$(cap_count "$f" "udp && !icmp && ip.len > $SMALL_MTU")
		[ "$big" = 0 ] || fail_phase "$big datagrams above $SMALL_MTU bytes in $(basename "$f")"
	done
	n=$(cap_count "$out" "udp && sctp")
	e2e_log "$p: $n SCTP-in-UDP packets on the NAT's outside, no fragments, none above $SMALL_MTU bytes"
	e2e_log "$p: stats: $(python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))["stats"]
print(" ".join("%s=%s" % (k, s.get(k)) for k in ("out_packets", "in_packets", "icmp_received", "icmp_sent", "drop_out_too_big", "drop_icmp_unverified", "drop_icmp_rate_limited")))' "$E2E_TMP/$p-stats.json")"
}

# What the usrsctp client made of it: the server's report and the packet sizes it sent.
client_report()
{
	local p=$1 in="$E2E_TMP/$1-in.pcapng"
	e2e_log "$p: client exit: $CLIENT_STATUS; IN's packets to the peer (count, IP length, MF, offset, DF):"
	cap_fields "$in" "ip.src == $IN_ADDR && ip.proto == 132" ip.len ip.flags.mf \
		ip.frag_offset ip.flags.df | sort | uniq -c | sed 's/^/    /' | head -n 10
	server_report
	e2e_log "$p: tsctp server: ${SERVER_LINES:-nothing}"
}

# The tsctp server prints "length, messages, ..." per finished connection.
server_report()
{
	SERVER_LINES=$(grep -aE '^[0-9]+, [0-9]+, ' "$E2E_TMP/tsctp_server.out" | tr '\n' ';')
}

ICMP_SENT_BEFORE=0

# ---- 1. the gateway's own link is small: local EMSGSIZE --------------------------------
nsx "$NS_GW" ip link set ext0 mtu "$SMALL_MTU"
nsx "$NS_NAT" ip link set in0 mtu "$SMALL_MTU"
run_phase local $((SMALL_MTU - 20 - 12 - 16)) 1
check_phase local
client_report local
json_check "$E2E_TMP/local-stats.json" "
s = d.get('stats', {})
check(s.get('drop_out_too_big', 0) >= 1, 'drop_out_too_big %r' % s.get('drop_out_too_big'))
" || fail_phase "counters"

# ---- 2. a link beyond the NAT is small: the NAT's ICMP reaches the gateway --------------
nsx "$NS_GW" ip link set ext0 mtu 1500
nsx "$NS_NAT" ip link set in0 mtu 1500
nsx "$NS_NAT" ip link set out0 mtu "$SMALL_MTU"
nsx "$NS_PEER" ip link set eth0 mtu "$SMALL_MTU"
# Forget the path MTUs learned so far: the first big datagram leaves GW with DF set.
nsx "$NS_GW" ip route flush cache
nsx "$NS_IN" ip route flush cache
run_phase remote 1400 1
check_phase remote
client_report remote
n=$(cap_count "$E2E_TMP/remote-ext.pcapng" "icmp.type == 3 && icmp.code == 4 && icmp.mtu == $SMALL_MTU && ip.dst == $GW_EXT_ADDR")
e2e_log "remote: the NAT sent $n frag-needed (MTU $SMALL_MTU) to the gateway"
num_ge "$n" 1 || fail_phase "no frag-needed from the NAT reached the gateway"
json_check "$E2E_TMP/remote-stats.json" "
s = d.get('stats', {})
check(s.get('icmp_received', 0) >= 1, 'icmp_received %r' % s.get('icmp_received'))
check(s.get('drop_icmp_unverified', 0) == 0, 'drop_icmp_unverified %r' % s.get('drop_icmp_unverified'))
" || fail_phase "the NAT's ICMP was not verified and translated"

# ---- 3. packets of exactly the reported MTU fit: everything arrives ---------------------
len=$((SMALL_MTU - 8 - 20 - 12 - 16))
run_phase exact "$len" 0
check_outside exact
client_report exact
[ "$CLIENT_STATUS" = 0 ] || fail_phase "the client did not finish (status $CLIENT_STATUS)"
n=$(grep -acE "^$len, $MSG_COUNT, " "$E2E_TMP/tsctp_server.out")
[ "$n" -ge 1 ] || fail_phase "the server did not report $MSG_COUNT messages of $len bytes: ${SERVER_LINES:-nothing}"
n=$(cap_count "$E2E_TMP/exact-out.pcapng" "udp && ip.len == $SMALL_MTU && sctp.chunk_type == 0")
num_ge "$n" "$MSG_COUNT" ||
	fail_phase "expected $MSG_COUNT full-size ($SMALL_MTU-byte) datagrams outside, saw $n"

gw_stop TERM || e2e_fail "daemon did not stop on SIGTERM"
[ "$GW_STATUS" = 0 ] || e2e_fail "daemon exit status $GW_STATUS on SIGTERM"
e2e_pass "IN told MTU $((SMALL_MTU - 8)) quoting its own packet, for a small local link and for one beyond the NAT; $MSG_COUNT/$MSG_COUNT packets of exactly $((SMALL_MTU - 8)) bytes through; no fragments outside"
