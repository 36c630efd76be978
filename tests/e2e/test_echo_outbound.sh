#!/usr/bin/env bash
# A native SCTP client in IN reaches an RFC 6951 echo server beyond the legacy NAT,
# through the gateway. All echoes come back; the outside carries only
# SCTP in UDP with good checksums and never the private address; sctpgwctl shows the
# association, and it leaves "established" after the client's SHUTDOWN.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

COUNT=20

e2e_begin tshark

gw_up
gw_table_present || e2e_fail "daemon running but its nftables table is missing"

echo_server_start "$NS_PEER" "$ENCAPS_PORT" "$ENCAPS_PORT"
cap_start "$NS_NAT" out0 outside

echo_client_start native "$NS_IN" "$PEER_ADDR" 7 0 0 0
echo_send "$COUNT"
echo_wait "$COUNT" 20 || e2e_fail_dump "native client through the gateway: $ECHO_GOT of $COUNT echoes"
e2e_log "all $COUNT tokens echoed through the gateway"

# While the association is up: exactly one, established, as the outside sees it.
ctl_json assoc.json show associations
json_check "$E2E_TMP/assoc.json" "
a = d.get('associations', [])
if check(len(a) == 1, 'expected 1 association, got %d: %s' % (len(a), a)):
    a = a[0]
    check(a.get('state') == 'established', 'state %r, expected established' % a.get('state'))
    check(a.get('origin') == 'inside', 'origin %r, expected inside' % a.get('origin'))
    check(a.get('internal_address') == '$IN_ADDR', 'internal_address %r' % a.get('internal_address'))
    check(a.get('remote_port') == 7, 'remote_port %r, expected 7' % a.get('remote_port'))
    check(a.get('internal_port', 0) > 0, 'internal_port %r' % a.get('internal_port'))
    check(a.get('seen_port', 0) > 0, 'seen_port %r' % a.get('seen_port'))
    check(a.get('internal_tag', 0) != 0 and a.get('remote_tag', 0) != 0,
          'tags not both known: %r / %r' % (a.get('internal_tag'), a.get('remote_tag')))
    # INIT, COOKIE-ECHO and DATA out; INIT-ACK, COOKIE-ACK and DATA in (tokens are bundled).
    check(a.get('packets_out', 0) >= 3, 'packets_out %r, expected >= 3' % a.get('packets_out'))
    check(a.get('packets_in', 0) >= 3, 'packets_in %r, expected >= 3' % a.get('packets_in'))
    check(a.get('bytes_out', 0) > 0 and a.get('bytes_in', 0) > 0, 'byte counters zero')
    r = [x for x in a.get('remote_addresses', []) if x.get('address') == '$PEER_ADDR']
    if check(len(r) == 1, 'remote address $PEER_ADDR not listed: %s' % a.get('remote_addresses')):
        r = r[0]
        # The peer answers from its own encapsulation port (no NAT on its side).
        check(r.get('udp_port') == $ENCAPS_PORT, 'learned udp_port %r, expected $ENCAPS_PORT' % r.get('udp_port'))
        check(r.get('packets_in', 0) > 0, 'no packets counted from $PEER_ADDR')
        check(r.get('idle_ms', 10**9) < 30000, 'idle_ms %r' % r.get('idle_ms'))
" || { cat "$E2E_TMP/assoc.json"; e2e_fail_dump "association table does not match the exchange"; }

ctl_json stats.json show stats
json_check "$E2E_TMP/stats.json" "
s = d.get('stats', {})
check(s.get('out_packets', 0) >= 3, 'out_packets %r, expected >= 3' % s.get('out_packets'))
check(s.get('in_packets', 0) >= 3, 'in_packets %r, expected >= 3' % s.get('in_packets'))
check(s.get('associations_created', 1) == 1, 'associations_created %r' % s.get('associations_created'))
" || { cat "$E2E_TMP/stats.json"; e2e_fail_dump "counters do not match the exchange"; }

# EOF: the client sends SHUTDOWN; it must complete through the gateway.
echo_close 10 || e2e_fail_dump "client did not finish its SHUTDOWN within 10 s"

# The association leaves "established" (shutdown, closed, or already gone).
e2e_until 5 assocs_closed || {
	cat "$E2E_TMP/assoc-after.json"
	e2e_fail_dump "association not shut down after the client's EOF"
}
cap_stop

# What crossed the legacy NAT's outside interface.
cap_outside_ok "$IN_ADDR"
# The gateway sends from its encapsulation port; the NAT maps it into its range.
bad_ports=$(cap_count "$CAP_FILE" "ip.dst == $PEER_ADDR && !(udp.srcport >= $NAT_PORT_LO && udp.srcport <= $NAT_PORT_HI && udp.dstport == $ENCAPS_PORT)")
[ "$bad_ports" = 0 ] || e2e_fail "$bad_ports packet(s) to the peer with unexpected UDP ports"
shutdowns=$(cap_count "$CAP_FILE" "sctp.chunk_type == 14")
[ "$shutdowns" -gt 0 ] || e2e_fail "no SHUTDOWN-COMPLETE crossed the outside"

gw_stop TERM || e2e_fail "daemon did not stop on SIGTERM"
[ "$GW_STATUS" = 0 ] || e2e_fail "daemon exit status $GW_STATUS on SIGTERM"

e2e_pass "$COUNT/$COUNT echoes through the gateway; $CAP_SCTP SCTP-in-UDP packets outside, checksums good, no $IN_ADDR; association shut down"
