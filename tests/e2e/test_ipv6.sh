#!/usr/bin/env bash
# The outbound and inbound scenarios over IPv6: IN fd00:10::2 behind the gateway,
# a NAT66 (masquerade in the same inet table as NAT44) in front of it, and the peer
# at 2001:db8:113::2.
#  1. outbound: the native client in IN reaches the echo server on PEER through the
#     gateway, 20/20 echoes; the association shows the IPv6 addresses, learned port 9899.
#  2. inbound: with `forward port 7 to fd00:10::2`, a client on PEER (UDP port 9911)
#     reaches a native echo server in IN through the NAT66's public address.
# The outside carries only SCTP in UDP over IPv6 with good checksums, never fd00:10::2.
# The usrsctp example programs are IPv6 capable: both open AF_INET6 sockets (the
# server binds in6addr_any) and the client takes an IPv6 address string.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

COUNT=20
PEER_ENCAPS=9911

TOPO_IPV6=1
e2e_begin tshark

gw_up "internal fd00:10::/64" "forward port 7 to $IN_ADDR6"
gw_table_present || e2e_fail "daemon running but its nftables table is missing"
cap_start "$NS_NAT" out0 outside

# ---- 1. outbound ----
echo_server_start "$NS_PEER" "$ENCAPS_PORT" "$ENCAPS_PORT"
echo_client_start out6 "$NS_IN" "$PEER_ADDR6" 7 0 0 0
echo_send "$COUNT"
echo_wait "$COUNT" 20 || e2e_fail_dump "outbound over IPv6: $ECHO_GOT of $COUNT echoes"
e2e_log "outbound: $COUNT/$COUNT echoes over IPv6"

ctl_json assoc-out.json show associations
why=$(json_check "$E2E_TMP/assoc-out.json" "
# IN is dual stack and also heartbeats the peer's IPv4 address (listed in the INIT-ACK)
# from 10.10.1.2: those packets belong to this association, they must not make another.
o = [x for x in d.get('associations', []) if x.get('internal_address') != '$IN_ADDR6']
check(not o, 'extra association(s) %s for %s from packets of the IPv6 one' %
      ([x.get('id') for x in o], sorted(set(x.get('internal_address') for x in o))))
a = [x for x in d.get('associations', []) if x.get('internal_address') == '$IN_ADDR6']
if check(len(a) == 1, 'expected 1 association for $IN_ADDR6, got %d: %s' % (len(a), a)):
    a = a[0]
    check(a.get('state') == 'established', 'state %r' % a.get('state'))
    check(a.get('origin') == 'inside', 'origin %r' % a.get('origin'))
    check(a.get('remote_port') == 7, 'remote_port %r' % a.get('remote_port'))
    check(a.get('internal_tag', 0) != 0 and a.get('remote_tag', 0) != 0, 'tags %r / %r' % (a.get('internal_tag'), a.get('remote_tag')))
    check(a.get('packets_out', 0) >= 3 and a.get('packets_in', 0) >= 3, 'packets %r/%r' % (a.get('packets_out'), a.get('packets_in')))
    r = [x for x in a.get('remote_addresses', []) if x.get('address') == '$PEER_ADDR6']
    if check(len(r) == 1, 'remote address $PEER_ADDR6 not listed: %s' % a.get('remote_addresses')):
        check(r[0].get('udp_port') == $ENCAPS_PORT, 'udp_port %r' % r[0].get('udp_port'))
        check(r[0].get('idle_ms') is not None, 'never heard from $PEER_ADDR6')
") || {
	printf '%s\n' "$why"
	cat "$E2E_TMP/assoc-out.json"
	e2e_fail_dump "outbound association table:$(head -n 1 <<<"$why")"
}

echo_close 10 || e2e_fail_dump "client did not finish its SHUTDOWN within 10 s"
e2e_until 5 assocs_closed || { cat "$E2E_TMP/assoc-after.json"; e2e_fail_dump "outbound association not shut down"; }
kill "$ECHO_SERVER_PID" 2>/dev/null

# ---- 2. inbound through a forward rule ----
echo_server_start "$NS_IN" 0 0
echo_client_start in6 "$NS_PEER" "$NAT_OUT_ADDR6" 7 0 "$PEER_ENCAPS" "$ENCAPS_PORT"
echo_send "$COUNT"
echo_wait "$COUNT" 20 || e2e_fail_dump "inbound over IPv6: $ECHO_GOT of $COUNT echoes"
e2e_log "inbound: $COUNT/$COUNT echoes over IPv6 from the native server in IN"

ctl_json assoc-in.json show associations
json_check "$E2E_TMP/assoc-in.json" "
a = [x for x in d.get('associations', []) if x.get('origin') == 'outside']
if check(len(a) == 1, 'expected 1 association from outside, got %s' % d.get('associations')):
    a = a[0]
    check(a.get('state') == 'established', 'state %r' % a.get('state'))
    check(a.get('internal_address') == '$IN_ADDR6', 'internal_address %r' % a.get('internal_address'))
    check(a.get('internal_port') == 7 and a.get('seen_port') == 7, 'ports %r/%r' % (a.get('internal_port'), a.get('seen_port')))
    r = [x for x in a.get('remote_addresses', []) if x.get('address') == '$PEER_ADDR6']
    if check(len(r) == 1, 'remote address $PEER_ADDR6 not listed: %s' % a.get('remote_addresses')):
        check(r[0].get('udp_port') == $PEER_ENCAPS, 'udp_port %r, expected $PEER_ENCAPS' % r[0].get('udp_port'))
" || { cat "$E2E_TMP/assoc-in.json"; e2e_fail_dump "inbound association table"; }

ctl_json stats.json show stats
json_check "$E2E_TMP/stats.json" "
s = d.get('stats', {})
check(s.get('associations_created') == 2, 'associations_created %r, expected 2' % s.get('associations_created'))
# Nothing was lost, so nothing is re-learned: in particular not the heartbeats the
# dual-stack IN sends from 10.10.1.2 to the peer's IPv4 address (listed in its INIT-ACK)
# for the association it has from fd00:10::2.
check(s.get('associations_relearned', 0) == 0, 'associations_relearned %r, expected 0' % s.get('associations_relearned'))
check(s.get('out_packets', 0) >= 6 and s.get('in_packets', 0) >= 6, 'packets %r/%r' % (s.get('out_packets'), s.get('in_packets')))
" || { cat "$E2E_TMP/stats.json"; e2e_fail_dump "counters"; }

echo_close 10 || e2e_fail_dump "peer's client did not finish its SHUTDOWN within 10 s"
cap_stop

cap_outside_ok "$IN_ADDR6"
# All of it over IPv6 (the IPv4 side was idle), with the NAT66's address and ports.
n=$(cap_count "$CAP_FILE" "udp && !ipv6")
[ "$n" = 0 ] || { cap_summary "$CAP_FILE"; e2e_fail "$n datagram(s) not over IPv6"; }
n=$(cap_count "$CAP_FILE" "ipv6.dst == $PEER_ADDR6 && udp.dstport == $ENCAPS_PORT && !(ipv6.src == $NAT_OUT_ADDR6 && udp.srcport >= $NAT_PORT_LO && udp.srcport <= $NAT_PORT_HI)")
[ "$n" = 0 ] || { cap_summary "$CAP_FILE"; e2e_fail "$n outbound datagram(s) not from the NAT66's port range"; }
n=$(cap_count "$CAP_FILE" "ipv6.dst == $PEER_ADDR6 && udp.dstport == $PEER_ENCAPS && ipv6.src == $NAT_OUT_ADDR6 && udp.srcport == $ENCAPS_PORT")
[ "$n" -gt 0 ] 2>/dev/null || { cap_summary "$CAP_FILE"; e2e_fail "no answer to the peer's port $PEER_ENCAPS from [$NAT_OUT_ADDR6]:$ENCAPS_PORT"; }
n=$(cap_count "$CAP_FILE" "sctp.chunk_type == 14")
[ "$n" -ge 2 ] 2>/dev/null || { cap_summary "$CAP_FILE"; e2e_fail "$n SHUTDOWN-COMPLETE on the outside, expected 2"; }

gw_stop TERM || e2e_fail "daemon did not stop on SIGTERM"
[ "$GW_STATUS" = 0 ] || e2e_fail "daemon exit status $GW_STATUS on SIGTERM"

e2e_pass "IPv6: $COUNT/$COUNT echoes outbound and $COUNT/$COUNT through a forward rule; $CAP_SCTP SCTP-in-UDP packets over IPv6 outside, checksums good, no $IN_ADDR6"
