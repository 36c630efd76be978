#!/usr/bin/env bash
# Path MTU through the gateway (RFC 6951 5.5). The gateway never fragments the datagram
# of a packet sent with DF; one sent without DF may be fragmented, as IP-in-IP and GRE
# tunnels do (RFC 4459 3). A native tsctp client in IN sends messages whose packets fit
# a 1280-byte link natively but not once 8 bytes of UDP header are added.
#  1. local: the link GW - NAT has MTU 1280; IN sends 1280-byte packets (1232-byte
#     messages). The kernel forwards them (they fit the route), the gateway's UDP send
#     fails with EMSGSIZE, and it answers IN with "fragmentation needed", MTU 1272,
#     quoting IN's own packet. (Bigger DF packets reach the queue as well, since the
#     router chain sits in prerouting, before the kernel's forwarding MTU check:
#     test_kernel_pmtu.)
#  2. remote: the link NAT - PEER has MTU 1280; IN sends 1448-byte packets. The NAT's
#     kernel answers the gateway's DF datagram with "fragmentation needed", MTU 1280;
#     the gateway maps the quoted SCTP header (ports, tag) to the association and tells
#     IN MTU 1272, quoting IN's packet.
#  3. the same small link, IN sends packets of exactly the MTU it was told (1272 bytes,
#     1224-byte messages): they fill the 1280-byte link exactly and all arrive.
#  4. the same small link, the native echo client in IN sends 1400-byte lines (its
#     1472-byte packets carry 15 of the client's 79-byte messages): every line is
#     echoed. IN's DF packet is refused with frag-needed, usrsctp retransmits it
#     without DF, IN's kernel fragments it to 1272, the gateway's kernel reassembles it
#     before the queue (the daemon's rules load conntrack), the daemon sends the
#     datagram fragmented to the 1280-byte path MTU, and the NAT and the peer reassemble.
# 1 and 2: the ICMP on IN's link names IN's address and port and the peer's tag, the
# counters move. In every phase no datagram above 1280 bytes crosses a small link, and
# each fragmented datagram of the gateway (and of the NAT after it) carries an SCTP
# packet IN sent without DF (matched by CRC32c, one IN packet per datagram): the
# gateway never fragments for a DF packet. Phase 3 sees no fragment at all, phase 4
# sees IN's fragments and the gateway's, and the queue never gets a fragment
# (out_malformed stays 0).
# What usrsctp (libusrsctp-examples on Debian 12, over raw sockets) does is its own
# business, logged per phase: it ignores ICMP and never shrinks its packets; only its
# T3 retransmissions clear DF. Once IN's kernel has learned the path MTU it refuses
# usrsctp's next DF packet above it locally (EMSGSIZE, IpFragFails), before the gateway
# sees it, and usrsctp retries that packet with DF forever. So in phases 1 and 2 only
# the first message gets through, and phase 4 makes IN forget the path MTU (route cache
# flush, as the expiry of a learned MTU would) before each line. A kernel SCTP stack
# takes the MTU from the ICMP and needs none of this.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

SMALL_MTU=1280
MSG_COUNT=5
TSCTP_PORT=5001
ECHO_LINES=4
ECHO_LINE_LEN=1400

e2e_begin tshark
[ -x "$USRSCTP_DIR/tsctp" ] || e2e_fail "tsctp not in $USRSCTP_DIR (libusrsctp-examples)"

gw_up

# The receiving end: tsctp in server mode, SCTP over UDP.
bg tsctp_server "$NS_PEER" "$USRSCTP_DIR/tsctp" -E "$ENCAPS_PORT" -U "$ENCAPS_PORT" -p "$TSCTP_PORT"
TSCTP_SERVER_PID=$BG_PID
e2e_until 5 port_bound "$NS_PEER" "$ENCAPS_PORT" || e2e_fail "tsctp server does not listen on UDP $ENCAPS_PORT"

# Several captures at once (lib.sh's cap_start keeps one): pcap NS IF NAME.
PCAP_PIDS=()
pcap()
{
	bg "cap.$3" "$1" tshark -n -q -i "$2" -w "$E2E_TMP/$3.pcapng"
	PCAP_PIDS+=("$BG_PID")
	# "Capture started" comes once dumpcap really captures; "Capturing on" comes before.
	e2e_until 10 grep -qs "Capture started" "$E2E_TMP/cap.$3.err" ||
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

# df_frags NAME: every datagram the gateway sent fragmented (GW - NAT link), and every one
# the NAT passed on fragmented toward the peer, carries an SCTP packet that IN sent
# without DF: matched by CRC32c (the gateway changes no byte of a DATA packet), no more
# fragmented datagrams per CRC32c than IN sent such packets, so no DF packet's datagram
# was fragmented. tshark reassembles: the last fragment's frame has the SCTP fields.
# Sets FRAG_DGRAMS (fragmented datagrams of the gateway) and IN_FRAGS (IN's fragments).
df_frags()
{
	local p=$1 in="$E2E_TMP/$1-in.pcapng" ext="$E2E_TMP/$1-ext.pcapng" out="$E2E_TMP/$1-out.pcapng"
	local res
	cap_fields "$in" "ip.src == $IN_ADDR && sctp" ip.flags.df sctp.checksum >"$E2E_TMP/$p-in-df.txt" &&
		cap_fields "$ext" "ip.src == $GW_EXT_ADDR && udp && sctp && ip.frag_offset > 0" \
			sctp.checksum >"$E2E_TMP/$p-ext-frag.txt" &&
		cap_fields "$out" "ip.dst == $PEER_ADDR && udp && sctp && ip.frag_offset > 0" \
			sctp.checksum >"$E2E_TMP/$p-out-frag.txt" || fail_phase "tshark failed"
	res=$(python3 - "$E2E_TMP/$p-in-df.txt" "$E2E_TMP/$p-ext-frag.txt" "$E2E_TMP/$p-out-frag.txt" <<'PYEOF'
import collections, sys
def rows(path):
    return [l.rstrip("\n").split("\t") for l in open(path) if l.strip()]
nodf = collections.Counter(r[1].split(",")[0] for r in rows(sys.argv[1])
                           if len(r) > 1 and r[0].split(",")[0] in ("0", "False"))
bad = []
for path, name in ((sys.argv[2], "GW - NAT"), (sys.argv[3], "NAT - PEER")):
    frag = collections.Counter(r[0].split(",")[0] for r in rows(path))
    bad += ["%s: %d fragmented datagram(s) with CRC32c %s, IN sent %d such packet(s) without DF"
            % (name, n, c, nodf[c]) for c, n in frag.items() if n > nodf[c]]
print(len(rows(sys.argv[2])), sum(nodf.values()), "; ".join(bad) or "ok")
PYEOF
	) || fail_phase "df_frags: python failed"
	read -r FRAG_DGRAMS NODF_PKTS res <<<"$res"
	[ "$res" = ok ] || fail_phase "a DF packet's datagram was fragmented: $res"
	IN_FRAGS=$(cap_count "$in" "ip.src == $IN_ADDR && (ip.flags.mf == 1 || ip.frag_offset > 0)")
	e2e_log "$p: IN sent $NODF_PKTS SCTP packets without DF ($IN_FRAGS fragments); the gateway sent $FRAG_DGRAMS datagrams fragmented, each matching one of them"
}

# check_outside NAME: fragmented datagrams only for packets IN sent without DF (df_frags),
# and no datagram above the small MTU crossed a small link (GW - NAT in phase "local", the
# NAT's outside always).
check_outside()
{
	local p=$1 ext="$E2E_TMP/$1-ext.pcapng" out="$E2E_TMP/$1-out.pcapng" n big f small
	small=("$out")
	[ "$p" = local ] && small+=("$ext")
	df_frags "$p"
	for f in "${small[@]}"; do
		big=$(cap_count "$f" "udp && !icmp && ip.len > $SMALL_MTU")
		[ "$big" = 0 ] || fail_phase "$big datagrams above $SMALL_MTU bytes in $(basename "$f")"
	done
	n=$(cap_count "$out" "udp && sctp")
	e2e_log "$p: $n SCTP-in-UDP packets on the NAT's outside, none above $SMALL_MTU bytes"
	e2e_log "$p: stats: $(python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))["stats"]
print(" ".join("%s=%s" % (k, s.get(k)) for k in ("out_packets", "in_packets", "icmp_received", "icmp_sent", "drop_out_too_big", "drop_out_malformed", "drop_icmp_unverified", "drop_icmp_rate_limited")))' "$E2E_TMP/$p-stats.json")"
	json_check "$E2E_TMP/$p-stats.json" "
s = d.get('stats', {})
check(s.get('drop_out_malformed', 0) == 0, 'drop_out_malformed %r: the queue got IP fragments' % s.get('drop_out_malformed'))
" || fail_phase "counters"
}

# What the usrsctp client made of it: the server's report and the packet sizes it sent.
client_report()
{
	local p=$1 in="$E2E_TMP/$1-in.pcapng"
	e2e_log "$p: client exit: $CLIENT_STATUS; IN's packets to the peer (count, IP length, MF, offset, DF):"
	cap_fields "$in" "ip.src == $IN_ADDR && ip.proto == 132" ip.len ip.flags.mf \
		ip.frag_offset ip.flags.df | sort | uniq -c | sed 's/^/    /' | head -n 10
	e2e_log "$p: IN's sends refused by its own kernel (IpFragFails): $(nsx "$NS_IN" nstat -az IpFragFails | awk '/IpFragFails/ { print $2 }')"
	[ "$p" = echo ] && return
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
for f in "$E2E_TMP/exact-ext.pcapng" "$E2E_TMP/exact-out.pcapng"; do
	n=$(cap_count "$f" "ip.flags.mf == 1 || ip.frag_offset > 0")
	[ "$n" = 0 ] || fail_phase "$n IP fragments in $(basename "$f"), where every packet fits"
done
[ "$CLIENT_STATUS" = 0 ] || fail_phase "the client did not finish (status $CLIENT_STATUS)"
n=$(grep -acE "^$len, $MSG_COUNT, " "$E2E_TMP/tsctp_server.out")
[ "$n" -ge 1 ] || fail_phase "the server did not report $MSG_COUNT messages of $len bytes: ${SERVER_LINES:-nothing}"
n=$(cap_count "$E2E_TMP/exact-out.pcapng" "udp && ip.len == $SMALL_MTU && sctp.chunk_type == 0")
num_ge "$n" "$MSG_COUNT" ||
	fail_phase "expected $MSG_COUNT full-size ($SMALL_MTU-byte) datagrams outside, saw $n"

# ---- 4. large messages without DF: fragmented by IN, reassembled, fragmented by GW -------
PHASE=echo
# The echo server needs the peer's UDP port 9899, which the tsctp server holds.
kill -TERM "$TSCTP_SERVER_PID" 2>/dev/null
e2e_wait_pid "$TSCTP_SERVER_PID" 3 || kill -KILL "$TSCTP_SERVER_PID" 2>/dev/null
echo_server_start "$NS_PEER" "$ENCAPS_PORT" "$ENCAPS_PORT"
pcap "$NS_IN" eth0 echo-in
pcap "$NS_GW" ext0 echo-ext
pcap "$NS_NAT" out0 echo-out
echo_client_start big "$NS_IN" "$PEER_ADDR" 7 0 0 0
pad=$(printf '%*s' "$ECHO_LINE_LEN" '' | tr ' ' x)
t0=$(date +%s%N)
for ((i = 1; i <= ECHO_LINES; i++)); do
	# usrsctp never shrinks its packets: make IN forget the path MTU, or its kernel
	# refuses the line's first big packet itself (see the top of this file).
	nsx "$NS_IN" ip route flush cache
	line="tok-$ECHO_NAME-$$-$i-$pad"
	printf '%s\n' "${line:0:$((ECHO_LINE_LEN - 1))}" >&"$ECHO_FD"
	ECHO_SENT=$i
	echo_save
	echo_wait "$i" 10 || fail_phase "line $i of $ECHO_LINE_LEN bytes not echoed within 10 s ($ECHO_GOT of $i lines back)"
done
ms=$((($(date +%s%N) - t0) / 1000000))
CLIENT_STATUS=0
echo_close 5 || CLIENT_STATUS="killed after EOF"
stats_now && cp "$E2E_TMP/stats.json" "$E2E_TMP/echo-stats.json"
pcap_stop_all
e2e_log "echo: $ECHO_GOT/$ECHO_LINES lines of $ECHO_LINE_LEN bytes echoed in $ms ms"
check_outside echo
client_report echo
# usrsctp now and then remembers the MTU of an earlier ICMP and splits one line into two
# DATA chunks of its own (a 1260-byte packet and a small one, no IP fragments): every
# line must come back, but one of them may skip the fragment path.
num_ge "$IN_FRAGS" "$((2 * (ECHO_LINES - 1)))" ||
	fail_phase "IN sent $IN_FRAGS fragments; expected all lines but one fragmented (>= $((2 * (ECHO_LINES - 1))))"
num_ge "$FRAG_DGRAMS" "$((ECHO_LINES - 1))" ||
	fail_phase "the gateway sent $FRAG_DGRAMS fragmented datagrams, expected >= $((ECHO_LINES - 1)) (one per fragmented line)"
n=$(cap_count "$E2E_TMP/echo-ext.pcapng" "ip.src == $GW_EXT_ADDR && (ip.flags.mf == 1 || ip.frag_offset > 0) && ip.flags.df == 1")
[ "$n" = 0 ] || fail_phase "$n fragments from the gateway with DF set"
n=$(cap_count "$E2E_TMP/echo-out.pcapng" "ip.dst == $PEER_ADDR && udp && sctp && ip.frag_offset > 0 && ip.len <= $SMALL_MTU")
num_ge "$n" "$((ECHO_LINES - 1))" || fail_phase "only $n fragmented datagrams crossed the NAT's outside toward the peer"

gw_stop TERM || e2e_fail "daemon did not stop on SIGTERM"
[ "$GW_STATUS" = 0 ] || e2e_fail "daemon exit status $GW_STATUS on SIGTERM"
e2e_pass "IN told MTU $((SMALL_MTU - 8)) quoting its own packet, for a small local link and for one beyond the NAT; $MSG_COUNT/$MSG_COUNT packets of exactly $((SMALL_MTU - 8)) bytes through; $ECHO_LINES/$ECHO_LINES lines of $ECHO_LINE_LEN bytes echoed in $ms ms through IN's fragments, reassembled and sent as $FRAG_DGRAMS fragmented datagrams; no DF packet's datagram fragmented"
