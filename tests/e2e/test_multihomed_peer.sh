#!/usr/bin/env bash
# A multi-homed peer: the echo server on PEER has two addresses, 203.0.113.2 and
# 203.0.113.3, and lists both in its INIT-ACK. The native client in IN then sends to
# (and heartbeats) both, through the gateway, which keeps one remote address entry per
# peer address, each with its own UDP port (RFC 6951 section 5.1). The second address
# is behind a port forward (UDP 9911 to the peer's 9899; lib.sh peer_addr2_rules) and an
# `encapsulate` rule says so: its entry must carry 9911 while the first keeps 9899, and
# both must have heard from the peer (their heartbeat answers came back through the
# gateway, each from its own address and port).
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

COUNT=20
PORT2=$PEER_ADDR2_PORT
CAP_EXTRA_PORTS=("$PORT2")
# usrsctp probes unconfirmed addresses right after the association comes up, long
# before its 30 s heartbeat interval; the bound allows for one lost probe and a
# retransmission after the interval.
HB_WAIT=40

TOPO_PEER_ADDR2=1
e2e_begin tshark

# The rule for PEER_ADDR2 must come before "encapsulate to any": the first match wins.
gw_write_config "$GW_CONF" \
	"internal 10.10.1.0/24" \
	"encapsulate to $PEER_ADDR2/32 remote-udp-port $PORT2" \
	"encapsulate to any" \
	"udp-port $ENCAPS_PORT" \
	"queue 0"
gw_start "$GW_CONF"

echo_server_start "$NS_PEER" "$ENCAPS_PORT" "$ENCAPS_PORT"
cap_start "$NS_NAT" out0 outside

echo_client_start multihomed "$NS_IN" "$PEER_ADDR" 7 0 0 0
echo_send "$COUNT"
echo_wait "$COUNT" 15 || e2e_fail_dump "$ECHO_GOT of $COUNT echoes"
e2e_log "$COUNT/$COUNT echoes; waiting for both peer addresses to answer heartbeats"

# both_paths_heard: both remote addresses listed, each heard from (idle_ms not null).
# shellcheck disable=SC2317 # called through e2e_until
both_paths_heard()
{
	ctl -j show associations >"$E2E_TMP/assoc.json" 2>/dev/null &&
		json_check "$E2E_TMP/assoc.json" "
a = d.get('associations', [])
check(len(a) == 1, 'associations: %d' % len(a))
for x in a:
    r = {p.get('address'): p for p in x.get('remote_addresses', [])}
    for addr in ('$PEER_ADDR', '$PEER_ADDR2'):
        check(addr in r and r[addr].get('idle_ms') is not None, '%s not heard from' % addr)
" >/dev/null
}
start=$SECONDS
e2e_until "$HB_WAIT" both_paths_heard || {
	cat "$E2E_TMP/assoc.json"
	e2e_fail_dump "both peer addresses not heard from within $HB_WAIT s"
}
e2e_log "both peer addresses heard from after $((SECONDS - start)) s"

# Data still flows (the primary path) after the second path came up.
echo_send "$COUNT"
echo_wait $((2 * COUNT)) 15 || e2e_fail_dump "after the heartbeats: $ECHO_GOT of $((2 * COUNT)) echoes"

ctl_json assoc.json show associations
json_check "$E2E_TMP/assoc.json" "
a = d.get('associations', [])
if check(len(a) == 1, 'expected 1 association, got %d: %s' % (len(a), a)):
    a = a[0]
    check(a.get('state') == 'established', 'state %r' % a.get('state'))
    r = {p.get('address'): p for p in a.get('remote_addresses', [])}
    check(len(r) == 2, 'expected exactly 2 remote addresses, got %s' % list(r))
    for addr, port in (('$PEER_ADDR', $ENCAPS_PORT), ('$PEER_ADDR2', $PORT2)):
        p = r.get(addr)
        if check(p is not None, 'remote address %s not listed' % addr):
            check(p.get('udp_port') == port, '%s: udp_port %r, expected %d' % (addr, p.get('udp_port'), port))
            check(p.get('idle_ms') is not None, '%s: never heard from' % addr)
            check(p.get('packets_in', 0) > 0 and p.get('packets_out', 0) > 0,
                  '%s: packets in/out %r/%r' % (addr, p.get('packets_in'), p.get('packets_out')))
" || { cat "$E2E_TMP/assoc.json"; e2e_fail_dump "remote addresses do not match the two paths"; }

ctl_json stats.json show stats
json_check "$E2E_TMP/stats.json" "
s = d.get('stats', {})
# Each address keeps its own port: nothing flips between 9899 and $PORT2.
check(s.get('port_changes') == 0, 'port_changes %r, expected 0' % s.get('port_changes'))
check(s.get('associations_created') == 1, 'associations_created %r' % s.get('associations_created'))
check(s.get('associations_relearned', 0) == 0, 'associations_relearned %r, expected 0' % s.get('associations_relearned'))
" || { cat "$E2E_TMP/stats.json"; e2e_fail_dump "counters"; }

echo_close 10 || e2e_fail_dump "client did not finish its SHUTDOWN within 10 s"
# The client confirmed the second address: its HEARTBEAT-ACK came back through the
# gateway. (The client's notices are stdio-buffered: read them once it has exited.)
grep -aq "Peer address $PEER_ADDR2 is now SCTP_ADDR_CONFIRMED" "$ECHO_OUT" ||
	e2e_fail_dump "the client never confirmed $PEER_ADDR2: $(grep -a 'Peer address' "$ECHO_OUT")"
cap_stop

cap_outside_ok "$IN_ADDR"
# The INIT-ACK really listed both addresses, and heartbeats crossed on both paths.
n=$(cap_count "$CAP_FILE" "sctp.chunk_type == 2 && sctp.parameter_ipv4_address == $PEER_ADDR2")
[ "$n" -gt 0 ] 2>/dev/null || { cap_summary "$CAP_FILE"; e2e_fail "no INIT-ACK listing $PEER_ADDR2"; }
hb2=$(cap_count "$CAP_FILE" "sctp.chunk_type == 4 && ip.dst == $PEER_ADDR2 && udp.dstport == $PORT2")
ack2=$(cap_count "$CAP_FILE" "sctp.chunk_type == 5 && ip.src == $PEER_ADDR2 && udp.srcport == $PORT2")
if ! [ "$hb2" -gt 0 ] || ! [ "$ack2" -gt 0 ]; then
	cap_summary "$CAP_FILE"
	e2e_fail "path $PEER_ADDR2:$PORT2: $hb2 HEARTBEAT, $ack2 HEARTBEAT-ACK on the outside"
fi
wrong=$(cap_count "$CAP_FILE" "ip.dst == $PEER_ADDR2 && udp.dstport != $PORT2")
[ "$wrong" = 0 ] || { cap_summary "$CAP_FILE"; e2e_fail "$wrong datagram(s) to $PEER_ADDR2 not to port $PORT2"; }

gw_stop TERM || e2e_fail "daemon did not stop on SIGTERM"
[ "$GW_STATUS" = 0 ] || e2e_fail "daemon exit status $GW_STATUS on SIGTERM"

e2e_pass "$((2 * COUNT))/$((2 * COUNT)) echoes; both peer addresses tracked ($PEER_ADDR udp $ENCAPS_PORT, $PEER_ADDR2 udp $PORT2, $hb2 heartbeats on the second); outside clean"
