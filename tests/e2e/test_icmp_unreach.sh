#!/usr/bin/env bash
# ICMP port unreachable for the gateway's datagram becomes protocol unreachable for the
# native host (RFC 6951 5.5), and unverifiable ICMP is dropped silently.
#  1. Nothing listens on UDP 9899 at PEER. IN's INIT goes out in UDP; PEER's kernel
#     answers port unreachable (through the NAT, which translates the quoted header
#     back); the gateway finds the association by the quoted ports and the INIT's
#     initiate tag and sends IN "protocol unreachable" quoting IN's own INIT.
#  2. A forged port unreachable from the NAT quoting the gateway's ports with a tag no
#     association has: counted as unverified, nothing reaches IN.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

TSCTP_PORT=5001

e2e_begin tshark
[ -x "$USRSCTP_DIR/tsctp" ] || e2e_fail "tsctp not in $USRSCTP_DIR (libusrsctp-examples)"

gw_up

# num_ge N M: N is a number (not cap_count's "error") and at least M.
num_ge() { [ "$1" != error ] && [ "$1" -ge "$2" ]; }
stat_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["stats"].get(sys.argv[2], 0))' "$1" "$2"; }
stats_now() { ctl -j show stats >"$E2E_TMP/stats.json" 2>/dev/null; }
# shellcheck disable=SC2317 # called through e2e_until
stat_at_least() { stats_now && [ "$(stat_of "$E2E_TMP/stats.json" "$1")" -ge "$2" ]; }

fail_dump()
{
	cap_stop
	ctl -j show stats 2>&1 | grep -E 'icmp|too_big'
	ctl show associations 2>&1 | head -n 10
	e2e_fail "$*"
}

# ---- 1. port unreachable from the peer's host --------------------------------------------
cap_start "$NS_IN" eth0 inside
bg client "$NS_IN" timeout 20 "$USRSCTP_DIR/tsctp" -E 0 -l 100 -n 1 -p "$TSCTP_PORT" "$PEER_ADDR"
CLIENT_PID=$BG_PID
e2e_until 10 stat_at_least icmp_sent 1 || fail_dump "no ICMP sent to IN within 10 s"
ctl -j show associations >"$E2E_TMP/assoc.json" || fail_dump "sctpgwctl show associations failed"
cp "$E2E_TMP/stats.json" "$E2E_TMP/stats-1.json"
kill -TERM "$CLIENT_PID" 2>/dev/null
cap_stop

read -r iport itag < <(python3 -c '
import json, sys
a = json.load(open(sys.argv[1]))["associations"]
print(a[0]["internal_port"], a[0]["internal_tag"]) if a else print("none none")' "$E2E_TMP/assoc.json")
[ "$iport" != none ] || fail_dump "no association in the table"
itagx=$(printf '0x%08x' "$itag")
e2e_log "ICMP on IN's link (src, dst, type, code, quoted ports, tag, chunk, initiate tag):"
cap_fields "$CAP_FILE" "icmp" ip.src ip.dst icmp.type icmp.code sctp.srcport sctp.dstport \
	sctp.verification_tag sctp.chunk_type sctp.init_initiate_tag | head -n 5
n=$(cap_count "$CAP_FILE" "icmp.type == 3 && icmp.code == 2 && icmp.checksum.status == 1 &&
	ip.src == $GW_INT_ADDR && ip.dst == $IN_ADDR && ip.proto == 132 &&
	sctp.srcport == $iport && sctp.dstport == $TSCTP_PORT && sctp.verification_tag == 0 &&
	sctp.chunk_type == 1 && sctp.init_initiate_tag == $itagx")
num_ge "$n" 1 ||
	fail_dump "IN got no protocol unreachable quoting its INIT (port $iport, initiate tag $itagx)"
n=$(cap_count "$CAP_FILE" "icmp.type == 3 && icmp.code == 3")
[ "$n" = 0 ] || fail_dump "$n port unreachable reached IN untranslated"
json_check "$E2E_TMP/stats-1.json" "
s = d.get('stats', {})
check(s.get('icmp_received', 0) >= 1, 'icmp_received %r' % s.get('icmp_received'))
check(s.get('icmp_sent', 0) >= 1, 'icmp_sent %r' % s.get('icmp_sent'))
check(s.get('drop_icmp_unverified', 0) == 0, 'drop_icmp_unverified %r' % s.get('drop_icmp_unverified'))
" || fail_dump "counters after the port unreachable"
SENT_BEFORE=$(stat_of "$E2E_TMP/stats-1.json" icmp_sent)
e2e_log "protocol unreachable for IN quoting its INIT (port $iport, initiate tag $itagx)"

# ---- 2. a forged port unreachable with a tag no association has -------------------------
cap_start "$NS_IN" eth0 forged
nsx "$NS_NAT" python3 - "$GW_EXT_ADDR" "$PEER_ADDR" "$ENCAPS_PORT" "$iport" "$TSCTP_PORT" <<'PYEOF' ||
import socket, struct, sys
gw, peer, uport, sport, dport = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

# Our datagram as the gateway would have sent it, with a DATA chunk and a wrong tag.
sctp = struct.pack("!HHII", sport, dport, 0x0badf00d, 0) + struct.pack("!BBH", 0, 3, 20) + bytes(16)
udp = struct.pack("!HHHH", uport, uport, 8 + len(sctp), 0) + sctp
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 63, 17, 0,
                 socket.inet_aton(gw), socket.inet_aton(peer))
ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
icmp = struct.pack("!BBHI", 3, 3, 0, 0) + ip + udp
icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
for _ in range(3):
    s.sendto(icmp, (gw, 0))
PYEOF
	fail_dump "cannot send the forged ICMP from NAT"
e2e_until 5 stat_at_least drop_icmp_unverified 3 || fail_dump "the forged ICMP errors were not counted as unverified"
sleep 0.5
cap_stop
stats_now
[ "$(stat_of "$E2E_TMP/stats.json" icmp_sent)" = "$SENT_BEFORE" ] ||
	fail_dump "an ICMP was sent to IN for a forged error"
n=$(cap_count "$CAP_FILE" "icmp")
[ "$n" = 0 ] || fail_dump "$n ICMP messages reached IN after the forged errors"

gw_stop TERM || e2e_fail "daemon did not stop on SIGTERM"
[ "$GW_STATUS" = 0 ] || e2e_fail "daemon exit status $GW_STATUS on SIGTERM"
e2e_pass "port unreachable became protocol unreachable quoting IN's INIT; 3 forged errors with a wrong tag dropped and counted"
