#!/usr/bin/env bash
# The peer sits behind its own NAT (PNAT), and that NAT rebinds in the middle of the
# association: from one packet to the next the peer's datagrams arrive from another UDP
# port. The gateway must follow (RFC 6951 section 5.4: the remote encapsulation port is
# updated from every verified packet), so data keeps flowing both ways.
#
# The peer opens the association: a client behind PNAT talks to the legacy NAT's public
# address, which forwards UDP 9899 to the gateway, and a `forward port 7` rule takes it
# to a native echo server in IN. (If the gateway side opened it, PNAT's mapping would be
# a port forward of 9899 that a rebinding cannot move, and the legacy NAT would drop the
# peer's datagrams from a new port as unsolicited.)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

COUNT=10
OLD_LO=50000
OLD_HI=50999
NEW_LO=51000
NEW_HI=51999

TOPO_PEER_NAT=1
PNAT_PORT_LO=$OLD_LO
PNAT_PORT_HI=$OLD_HI
e2e_begin tshark conntrack

gw_up "forward port 7 to $IN_ADDR"

echo_server_start "$NS_IN" 0 0
cap_start "$NS_NAT" out0 outside

pnat_conntrack() { nsx "$NS_PNAT" conntrack -L 2>&1 | head -n 10; }
E2E_FAIL_HOOK=pnat_conntrack

# learned_port FILE: the UDP port the gateway has learned for the peer's public address.
learned_port()
{
	python3 - "$1" "$PEER_ADDR" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
for a in d.get("associations", []):
    for r in a.get("remote_addresses", []):
        if r.get("address") == sys.argv[2]:
            print(r.get("udp_port"))
            sys.exit(0)
print(0)
EOF
}

echo_client_start behindnat "$NS_PEER" "$NAT_OUT_ADDR" 7 0 "$ENCAPS_PORT" "$ENCAPS_PORT"
echo_send "$COUNT"
echo_wait "$COUNT" 20 || e2e_fail_dump "before the rebinding: $ECHO_GOT of $COUNT echoes"
e2e_log "before the rebinding: $COUNT/$COUNT echoes"

ctl_json assoc-before.json show associations
json_check "$E2E_TMP/assoc-before.json" "
a = d.get('associations', [])
if check(len(a) == 1, 'expected 1 association, got %d: %s' % (len(a), a)):
    a = a[0]
    check(a.get('origin') == 'outside', 'origin %r, expected outside' % a.get('origin'))
    check(a.get('state') == 'established', 'state %r, expected established' % a.get('state'))
    r = [x for x in a.get('remote_addresses', []) if x.get('address') == '$PEER_ADDR']
    if check(len(r) == 1, 'remote address $PEER_ADDR not listed: %s' % a.get('remote_addresses')):
        p = r[0].get('udp_port', 0)
        check($OLD_LO <= p <= $OLD_HI, 'udp_port %r, expected the peer NAT port in $OLD_LO-$OLD_HI' % p)
" || { cat "$E2E_TMP/assoc-before.json"; e2e_fail_dump "association before the rebinding"; }
port1=$(learned_port "$E2E_TMP/assoc-before.json")
ctl -j show stats >"$E2E_TMP/stats-before.json" 2>/dev/null
changes1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["stats"].get("port_changes", -1))' \
	"$E2E_TMP/stats-before.json") || changes1=-1
e2e_log "learned UDP port before the rebinding: $port1 (port_changes $changes1)"

# The peer's NAT forgets its mapping and maps the peer into another port range.
pnat_rebind "$NEW_LO" "$NEW_HI" || e2e_fail_dump "cannot rebind the peer's NAT"
e2e_log "peer NAT rebound: UDP source ports now $NEW_LO-$NEW_HI, conntrack flushed"

echo_send "$COUNT"
echo_wait $((2 * COUNT)) 30 ||
	e2e_fail_dump "after the rebinding: $ECHO_GOT of $((2 * COUNT)) echoes in all"
e2e_log "after the rebinding: $((2 * COUNT))/$((2 * COUNT)) echoes in all"

ctl_json assoc-after.json show associations
json_check "$E2E_TMP/assoc-after.json" "
a = d.get('associations', [])
if check(len(a) == 1, 'expected still 1 association, got %d: %s' % (len(a), a)):
    a = a[0]
    check(a.get('state') == 'established', 'state %r, expected established' % a.get('state'))
    r = [x for x in a.get('remote_addresses', []) if x.get('address') == '$PEER_ADDR']
    if check(len(r) == 1, 'remote address $PEER_ADDR not listed: %s' % a.get('remote_addresses')):
        p = r[0].get('udp_port', 0)
        check($NEW_LO <= p <= $NEW_HI, 'udp_port %r, expected the new peer NAT port in $NEW_LO-$NEW_HI' % p)
        check(r[0].get('idle_ms') is not None and r[0]['idle_ms'] < 30000, 'idle_ms %r' % r[0].get('idle_ms'))
" || { cat "$E2E_TMP/assoc-after.json"; e2e_fail_dump "association after the rebinding"; }
port2=$(learned_port "$E2E_TMP/assoc-after.json")

ctl_json stats-after.json show stats
json_check "$E2E_TMP/stats-after.json" "
s = d.get('stats', {})
check(s.get('port_changes', 0) >= 1, 'port_changes %r, expected >= 1' % s.get('port_changes'))
check(s.get('port_changes', 0) > $changes1, 'port_changes did not move (%r before)' % $changes1)
check(s.get('associations_created', 0) == 1, 'associations_created %r, expected 1' % s.get('associations_created'))
check(s.get('associations_relearned', 0) == 0, 'associations_relearned %r, expected 0' % s.get('associations_relearned'))
" || { cat "$E2E_TMP/stats-after.json"; e2e_fail_dump "counters after the rebinding"; }
e2e_log "learned UDP port after the rebinding: $port2"

echo_close 10 || e2e_fail_dump "peer's client did not finish its SHUTDOWN within 10 s"
cap_stop

cap_outside_ok "$IN_ADDR"

# Controls on the wire: the peer really came from both ports (else nothing was tested),
# and the gateway's datagrams followed it to the new one.
from_old=$(cap_count "$CAP_FILE" "ip.src == $PEER_ADDR && udp.srcport == $port1")
from_new=$(cap_count "$CAP_FILE" "ip.src == $PEER_ADDR && udp.srcport == $port2")
to_new=$(cap_count "$CAP_FILE" "ip.dst == $PEER_ADDR && udp.dstport == $port2 && ip.src == $NAT_OUT_ADDR && udp.srcport == $ENCAPS_PORT")
if ! [ "$from_old" -gt 0 ] || ! [ "$from_new" -gt 0 ]; then
	cap_summary "$CAP_FILE"
	e2e_fail "capture: $from_old datagrams from port $port1, $from_new from $port2 (the NAT did not rebind?)"
fi
[ "$to_new" -gt 0 ] ||
	{ cap_summary "$CAP_FILE"; e2e_fail "capture: no datagram from the gateway to the new port $port2"; }
# Once the gateway has sent to the new port, it must never go back to the old one.
first_new=$(cap_fields "$CAP_FILE" "ip.dst == $PEER_ADDR && udp.dstport == $port2" frame.number | head -n 1)
back=$(cap_count "$CAP_FILE" "frame.number > $first_new && ip.dst == $PEER_ADDR && udp.dstport == $port1")
[ "$back" = 0 ] || { cap_summary "$CAP_FILE"; e2e_fail "$back datagram(s) to the old port $port1 after the switch to $port2"; }

gw_stop TERM || e2e_fail "daemon did not stop on SIGTERM"
[ "$GW_STATUS" = 0 ] || e2e_fail "daemon exit status $GW_STATUS on SIGTERM"

e2e_pass "$((2 * COUNT))/$((2 * COUNT)) echoes across a peer NAT rebinding; learned UDP port $port1 -> $port2 ($from_old / $from_new datagrams from each), port_changes counted; outside clean"
