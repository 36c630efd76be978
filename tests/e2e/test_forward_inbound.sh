#!/usr/bin/env bash
# An association opened from outside: PEER speaks SCTP in UDP to the NAT's public
# address, the NAT forwards UDP 9899 to the gateway, and a `forward port 7` rule takes
# it to a native echo server in IN. The peer sends from encapsulation port 9911, so the
# gateway must answer the port the INIT came from (RFC 6951 section 5.4), not 9899.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

COUNT=20
PEER_ENCAPS=9911

e2e_begin tshark

gw_up "forward port 7 to $IN_ADDR"

# Native echo server: raw IP protocol 132 only, no UDP.
echo_server_start "$NS_IN" 0 0
cap_start "$NS_NAT" out0 outside

echo_client_start fromoutside "$NS_PEER" "$NAT_OUT_ADDR" 7 0 "$PEER_ENCAPS" "$ENCAPS_PORT"
echo_send "$COUNT"
echo_wait "$COUNT" 20 ||
	e2e_fail_dump "peer to $NAT_OUT_ADDR:7 through NAT and gateway: $ECHO_GOT of $COUNT echoes"
e2e_log "all $COUNT tokens echoed by the native server in IN"

ctl_json assoc.json show associations
json_check "$E2E_TMP/assoc.json" "
a = d.get('associations', [])
if check(len(a) == 1, 'expected 1 association, got %d: %s' % (len(a), a)):
    a = a[0]
    check(a.get('origin') == 'outside', 'origin %r, expected outside' % a.get('origin'))
    check(a.get('state') == 'established', 'state %r, expected established' % a.get('state'))
    check(a.get('internal_address') == '$IN_ADDR', 'internal_address %r' % a.get('internal_address'))
    check(a.get('internal_port') == 7, 'internal_port %r, expected 7' % a.get('internal_port'))
    check(a.get('seen_port') == 7, 'seen_port %r, expected 7' % a.get('seen_port'))
    check(a.get('remote_port', 0) > 0, 'remote_port %r' % a.get('remote_port'))
    # INIT, COOKIE-ECHO and DATA in; INIT-ACK, COOKIE-ACK and DATA out (tokens are bundled).
    check(a.get('packets_in', 0) >= 3, 'packets_in %r, expected >= 3' % a.get('packets_in'))
    check(a.get('packets_out', 0) >= 3, 'packets_out %r, expected >= 3' % a.get('packets_out'))
    r = [x for x in a.get('remote_addresses', []) if x.get('address') == '$PEER_ADDR']
    if check(len(r) == 1, 'remote address $PEER_ADDR not listed: %s' % a.get('remote_addresses')):
        check(r[0].get('udp_port') == $PEER_ENCAPS,
              'udp_port %r, expected the port the peer sent from ($PEER_ENCAPS)' % r[0].get('udp_port'))
" || { cat "$E2E_TMP/assoc.json"; e2e_fail_dump "association table does not match the exchange"; }

echo_close 10 || e2e_fail_dump "peer's client did not finish its SHUTDOWN within 10 s"
cap_stop

cap_outside_ok
# Answers go back to the peer's own encapsulation port, from the NAT's public 9899.
wrong=$(cap_count "$CAP_FILE" "ip.dst == $PEER_ADDR && !(ip.src == $NAT_OUT_ADDR && udp.srcport == $ENCAPS_PORT && udp.dstport == $PEER_ENCAPS)")
[ "$wrong" = 0 ] || { cap_summary "$CAP_FILE"; e2e_fail "$wrong packet(s) to the peer not from $NAT_OUT_ADDR:$ENCAPS_PORT to port $PEER_ENCAPS"; }
leaks=$(cap_leaks "$CAP_FILE" "$IN_ADDR")
[ "$leaks" = 0 ] || e2e_fail "$leaks packet(s) on the outside contain the internal address $IN_ADDR"

gw_stop TERM || e2e_fail "daemon did not stop on SIGTERM"
[ "$GW_STATUS" = 0 ] || e2e_fail "daemon exit status $GW_STATUS on SIGTERM"

e2e_pass "$COUNT/$COUNT echoes for an association opened from outside (origin outside, peer UDP port $PEER_ENCAPS learned)"
