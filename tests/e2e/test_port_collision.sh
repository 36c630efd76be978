#!/usr/bin/env bash
# Two internal hosts, IN (10.10.1.2) and IN2 (10.10.1.3), open associations from the
# same SCTP port 5000 to the same echo server at the same time. Behind the gateway
# (and the legacy NAT) both come from one address and one UDP port, so to the peer
# they would be one association: the gateway gives the later one another source port
# (the port collision of draft-ietf-tsvwg-natsupp) and maps it back on the way in.
# (A non-colliding port keeping its number is covered by the unit tests: two usrsctp
# stacks in one namespace see each other's packets on their raw sockets and one may
# ABORT the other's association, which made a third client here flaky.)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

COUNT=20
LPORT=5000

TOPO_IN2=1
e2e_begin tshark

gw_up

echo_server_start "$NS_PEER" "$ENCAPS_PORT" "$ENCAPS_PORT"
cap_start "$NS_NAT" out0 outside

# Both at once; their INITs reach the gateway in whatever order.
echo_client_start in1 "$NS_IN" "$PEER_ADDR" 7 "$LPORT" 0 0
echo_client_start in2 "$NS_IN2" "$PEER_ADDR" 7 "$LPORT" 0 0
for c in in1 in2; do
	echo_select "$c"
	echo_send "$COUNT"
done
for c in in1 in2; do
	echo_select "$c"
	echo_wait "$COUNT" 20 || e2e_fail_dump "client $c: $ECHO_GOT of $COUNT echoes"
done
e2e_log "both clients got $COUNT/$COUNT echoes"

ctl_json assoc.json show associations
json_check "$E2E_TMP/assoc.json" "
a = d.get('associations', [])
check(len(a) == 2, 'expected 2 associations, got %d' % len(a))
for x in a:
    check(x.get('state') == 'established', 'association %s state %r' % (x.get('id'), x.get('state')))
    check(x.get('remote_port') == 7, 'association %s remote_port %r' % (x.get('id'), x.get('remote_port')))
    r = [p for p in x.get('remote_addresses', []) if p.get('address') == '$PEER_ADDR']
    check(len(r) == 1 and r[0].get('udp_port') == $ENCAPS_PORT and r[0].get('idle_ms') is not None,
          'association %s remote addresses %s' % (x.get('id'), x.get('remote_addresses')))
col = [x for x in a if x.get('internal_port') == $LPORT]
if check(len(col) == 2, 'expected 2 associations from port $LPORT, got %s' % col):
    check(sorted(x.get('internal_address') for x in col) == ['$IN_ADDR', '$IN2_ADDR'],
          'internal addresses %s' % [x.get('internal_address') for x in col])
    seen = [x.get('seen_port') for x in col]
    check(seen[0] != seen[1], 'both seen by the peer on port %r' % seen[0])
    check(seen.count($LPORT) == 1, 'expected exactly one to keep port $LPORT, seen ports %s' % seen)
    t = [s for s in seen if s != $LPORT]
    check(len(t) == 1 and 49152 <= t[0] <= 65535,
          'translated port %s, expected one from 49152-65535' % t)
" || { cat "$E2E_TMP/assoc.json"; e2e_fail_dump "association table does not show one translated port"; }
tport=$(python3 -c '
import json, sys
for x in json.load(open(sys.argv[1]))["associations"]:
    if x["internal_port"] == int(sys.argv[2]) and x["seen_port"] != x["internal_port"]:
        print(x["seen_port"], x["internal_address"])' "$E2E_TMP/assoc.json" "$LPORT")
read -r tport taddr <<<"$tport"
e2e_log "association of $taddr:$LPORT seen by the peer from port $tport"

ctl_json stats.json show stats
json_check "$E2E_TMP/stats.json" "
s = d.get('stats', {})
check(s.get('ports_translated') == 1, 'ports_translated %r, expected 1' % s.get('ports_translated'))
check(s.get('associations_created') == 2, 'associations_created %r, expected 2' % s.get('associations_created'))
check(s.get('associations_relearned', 0) == 0, 'associations_relearned %r, expected 0' % s.get('associations_relearned'))
" || { cat "$E2E_TMP/stats.json"; e2e_fail_dump "counters do not show one translation"; }

for c in in1 in2; do
	echo_select "$c"
	echo_close 10 || e2e_fail_dump "client $c did not finish its SHUTDOWN within 10 s"
done
cap_stop

cap_outside_ok "$IN_ADDR" "$IN2_ADDR"
# On the wire the peer sees exactly two SCTP source ports, and the translated one is
# used for a whole association (INIT to SHUTDOWN-COMPLETE), both directions.
ports=$(cap_fields "$CAP_FILE" "ip.dst == $PEER_ADDR && sctp" sctp.srcport | sort -un | tr '\n' ' ')
[ "$ports" = "$(printf '%s\n' "$LPORT" "$tport" | sort -n | tr '\n' ' ')" ] ||
	{ cap_summary "$CAP_FILE"; e2e_fail "SCTP source ports toward the peer: $ports, expected $LPORT $tport"; }
for ct in 1 2 14; do # INIT, INIT-ACK, SHUTDOWN-COMPLETE on the translated port
	n=$(cap_count "$CAP_FILE" "sctp.chunk_type == $ct && sctp.port == $tport")
	[ "$n" -gt 0 ] 2>/dev/null ||
		{ cap_summary "$CAP_FILE"; e2e_fail "no SCTP chunk type $ct on the translated port $tport"; }
done

gw_stop TERM || e2e_fail "daemon did not stop on SIGTERM"
[ "$GW_STATUS" = 0 ] || e2e_fail "daemon exit status $GW_STATUS on SIGTERM"

e2e_pass "IN and IN2 both from port $LPORT: $COUNT/$COUNT echoes each, $taddr seen from port $tport (ports_translated 1); outside clean"
