#!/usr/bin/env bash
# Two workers and ICMP errors. The kernel hands an ICMP error about one of the gateway's
# datagrams to a socket of the reuseport group by hash, not through the steering
# program, so it often reaches the worker that does not own the association. Nothing
# listens on UDP 9899 at PEER: every INIT of four native clients (ports 5001-5004, two
# per worker) draws a port unreachable, and each must become a protocol unreachable for
# IN (RFC 6951 5.5), whichever worker's socket got it: icmp_sent 4, none unverified.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

e2e_begin

conf="$E2E_TMP/gw.conf"
gw_write_config "$conf" \
	"internal 10.10.1.0/24" \
	"encapsulate to any" \
	"udp-port $ENCAPS_PORT" \
	"queue 0-1"
gw_start "$conf"

# stats_field NAME: one counter of show stats.
stats_field()
{
	ctl -j show stats | python3 -c 'import json, sys; print(json.load(sys.stdin)["stats"].get(sys.argv[1], 0))' "$1"
}

for port in 5001 5002 5003 5004; do
	# The client's INIT is never answered; it retransmits until timeout stops it.
	bg "client$port" "$NS_IN" timeout 2 "$USRSCTP_DIR/client" "$PEER_ADDR" 7 "$port" 0 0
done
# shellcheck disable=SC2317 # called through e2e_until
all_told() { [ "$(stats_field icmp_sent)" -ge 4 ]; }
e2e_until 10 all_told || {
	ctl show stats
	e2e_fail_dump "icmp_sent $(stats_field icmp_sent) of 4: an ICMP error reached a worker that does not own its association and was lost"
}

ctl -j show associations >"$E2E_TMP/assoc.json" || e2e_fail_dump "show associations failed"
json_check "$E2E_TMP/assoc.json" "
a = d.get('associations', [])
check(len(a) == 4, 'expected 4 associations, got %d' % len(a))
workers = sorted(set((x['id'] - 1) % 2 for x in a))
check(workers == [0, 1], 'associations on workers %r, expected both' % workers)
for x in a:
    check((x['id'] - 1) % 2 == (x['internal_port'] ^ 7) & 1,
          'association %d (port %d) on the wrong worker' % (x['id'], x['internal_port']))
" || e2e_fail_dump "associations do not match the ports"
unverified=$(stats_field drop_icmp_unverified)
[ "$unverified" = 0 ] || e2e_fail_dump "$unverified ICMP error(s) dropped as unverified"
sent=$(stats_field icmp_sent)
received=$(stats_field icmp_received)

gw_stop TERM || e2e_fail "daemon did not stop on SIGTERM"
[ "$GW_STATUS" = 0 ] || e2e_fail "daemon exit status $GW_STATUS on SIGTERM"
e2e_pass "2 workers: $received ICMP errors received, $sent protocol unreachables sent to IN, none lost to the wrong worker"
