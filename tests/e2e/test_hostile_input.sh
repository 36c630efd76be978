#!/usr/bin/env bash
# Hostile input while an association carries data: 100,000 malformed SCTP-in-UDP
# datagrams at the encapsulation port (random bytes, truncated headers, bad CRC32c, zero
# tag on DATA, chunk lengths that overrun, INITs with huge parameter lists, spoofed tags,
# all from the peer's own address) and 20,000 malformed native packets from the inside.
# Afterwards the daemon is alive, the association still carries data, its learned UDP
# port did not move, its memory did not grow, and `show stats` counts every class.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

UDP_COUNT=${HOSTILE_UDP_COUNT:-100000}
NATIVE_COUNT=${HOSTILE_NATIVE_COUNT:-20000}
RSS_LIMIT_KB=1024
if [ "${E2E_VALGRIND:-0}" = 1 ]; then
	# Under valgrind the daemon is some 50 times slower: a full-speed burst would mostly
	# die in the kernel's socket and queue buffers, and valgrind's own memory moves.
	UDP_COUNT=${HOSTILE_UDP_COUNT:-7000}
	NATIVE_COUNT=${HOSTILE_NATIVE_COUNT:-1200}
	RSS_LIMIT_KB=16384
fi

e2e_begin

conf="$E2E_TMP/gw.conf"
gw_write_config "$conf" "internal 10.10.1.0/24" "encapsulate to any" "forward port 9 to $IN_ADDR"
# Debug logging would time every drop; the point here is the data path.
E2E_GW_DEBUG=0 gw_start "$conf"
echo_server_start "$NS_PEER" "$ENCAPS_PORT" "$ENCAPS_PORT"

echo_client_start victim "$NS_IN" "$PEER_ADDR" 7 0 0 0
echo_send 10
echo_wait 10 20 || e2e_fail "before the attack: $ECHO_GOT of 10 echoes"

ctl -j show associations >"$E2E_TMP/before.json" || e2e_fail "show associations failed"
read -r seen rport itag rtag iport udp_before < <(python3 -c '
import json, sys
a = json.load(open(sys.argv[1]))["associations"][0]
print(a["seen_port"], a["remote_port"], a["internal_tag"], a["remote_tag"], a["internal_port"],
      a["remote_addresses"][0]["udp_port"])' "$E2E_TMP/before.json") ||
	e2e_fail "cannot read the association: $(cat "$E2E_TMP/before.json")"
rss_before=$(awk '/^VmRSS/ {print $2}' "/proc/$GW_PID/status")
e2e_log "association: seen port $seen, remote port $rport, tags $itag/$rtag, udp port $udp_before; RSS ${rss_before} kB"

# From the peer's own address, to the NAT's public address (forwarded to the gateway).
nsx "$NS_PEER" timeout 120 python3 "$E2E_SRCDIR/tests/e2e/hostile.py" udp "$NAT_OUT_ADDR" \
	"$ENCAPS_PORT" "$UDP_COUNT" "$seen" "$rport" "$itag" >"$E2E_TMP/udp-attack.txt" ||
	e2e_fail "the UDP attacker failed: $(cat "$E2E_TMP/udp-attack.txt")"
# From the internal host, native, with its association's ports and the peer's tag.
nsx "$NS_IN" timeout 120 python3 "$E2E_SRCDIR/tests/e2e/hostile.py" native "$PEER_ADDR" \
	"$NATIVE_COUNT" "$iport" "$rport" "$rtag" >"$E2E_TMP/native-attack.txt" ||
	e2e_fail "the native attacker failed: $(cat "$E2E_TMP/native-attack.txt")"
e2e_log "sent: $(tr '\n' ' ' <"$E2E_TMP/udp-attack.txt") / native: $(tr '\n' ' ' <"$E2E_TMP/native-attack.txt")"

kill -0 "$GW_PID" 2>/dev/null || e2e_fail "the daemon died under hostile input"
echo_send 10
echo_wait 20 20 || e2e_fail "after the attack: $ECHO_GOT of 20 echoes"

ctl -j show associations >"$E2E_TMP/after.json" || e2e_fail "show associations failed after the attack"
ctl -j show stats >"$E2E_TMP/stats.json" || e2e_fail "show stats failed after the attack"
rss_after=$(awk '/^VmRSS/ {print $2}' "/proc/$GW_PID/status")
json_check "$E2E_TMP/after.json" "
a = d['associations']
check(len(a) == 1, 'expected exactly the one association, got %d' % len(a))
a = a[0]
check(a['state'] == 'established', 'state %s' % a['state'])
check(a['internal_tag'] == $itag and a['remote_tag'] == $rtag, 'tags changed')
check(len(a['remote_addresses']) == 1, 'remote addresses: %s' % a['remote_addresses'])
check(a['remote_addresses'][0]['udp_port'] == $udp_before,
      'learned udp port moved: $udp_before -> %s' % a['remote_addresses'][0]['udp_port'])
" || e2e_fail "the association changed under attack: $(cat "$E2E_TMP/after.json")"
json_check "$E2E_TMP/stats.json" "
s = d['stats']
for k in ('in_short', 'in_malformed', 'in_bad_checksum', 'in_no_association',
          'in_no_forward_rule', 'out_malformed', 'out_bad_checksum', 'out_no_association'):
    check(s.get('drop_' + k, 0) > 0, 'drop_%s not counted: %s' % (k, s.get('drop_' + k)))
total = sum(v for k, v in s.items() if k.startswith('drop_in_'))
check(total >= $UDP_COUNT * 0.5, 'only %d inbound drops counted for $UDP_COUNT sent' % total)
check(s['associations_active'] == 1, 'associations_active %s' % s['associations_active'])
print('  inbound drops counted: %d of $UDP_COUNT sent' % total)
" || e2e_fail "counters do not show the attack: $(cat "$E2E_TMP/stats.json")"

growth=$((rss_after - rss_before))
e2e_log "RSS ${rss_before} kB -> ${rss_after} kB"
[ "$growth" -lt "$RSS_LIMIT_KB" ] || e2e_fail "memory grew by $growth kB under hostile input"

echo_close 10 || e2e_log "client did not exit after EOF"
gw_stop TERM || e2e_fail "daemon did not stop on SIGTERM"
[ "$GW_STATUS" = 0 ] || e2e_fail "daemon exit status $GW_STATUS"
e2e_pass "daemon alive, association intact (udp port $udp_before, tags unchanged), 20/20 echoes, RSS +$growth kB"
