#!/usr/bin/env bash
# Faults: the daemon killed with SIGKILL while an association carries data, then
# started again, re-learns the association from its traffic and keeps carrying it (no
# state file: the endpoints' own packets are the state). Also: a second instance refuses
# to start while one runs (same control socket, or same UDP port) without disturbing the
# first, and a UDP port taken by another program gives a clear error.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

e2e_begin

conf="$E2E_TMP/gw.conf"
gw_write_config "$conf" "internal 10.10.1.0/24" "encapsulate to any"
gw_start "$conf"
echo_server_start "$NS_PEER" "$ENCAPS_PORT" "$ENCAPS_PORT"
echo_client_start survivor "$NS_IN" "$PEER_ADDR" 7 0 0 0
echo_send 10
echo_wait 10 20 || e2e_fail "before the crash: $ECHO_GOT of 10 echoes"

# A second instance, same control socket: refused, the first one untouched.
if nsx "$NS_GW" timeout 5 "$GW_BIN" -f -c "$conf" -s "$GW_SOCK" >"$E2E_TMP/second.log" 2>&1; then
	e2e_fail "a second instance on the same control socket started"
fi
grep -q "in use by another running instance" "$E2E_TMP/second.log" ||
	e2e_fail "second instance: unclear error: $(cat "$E2E_TMP/second.log")"
# Same UDP port, another socket path: refused before it touches nftables.
if nsx "$NS_GW" timeout 5 "$GW_BIN" -f -c "$conf" -s "$E2E_TMP/other.sock" >"$E2E_TMP/third.log" 2>&1; then
	e2e_fail "a second instance on the same UDP port started"
fi
grep -q "UDP port $ENCAPS_PORT .*already in use" "$E2E_TMP/third.log" ||
	e2e_fail "second instance on the same port: unclear error: $(cat "$E2E_TMP/third.log")"
gw_table_present || e2e_fail "a refused second instance removed the first one's table"
gw_ready || e2e_fail "the first instance stopped answering after a refused second one"
echo_send 5
echo_wait 15 20 || e2e_fail "after the refused second instance: $ECHO_GOT of 15 echoes"

# SIGKILL: no clean-up happens. The table stays (fail-closed) and the socket goes stale.
kill -KILL "$GW_PID"
wait "$GW_PID" 2>/dev/null
GW_PID=""
gw_table_present || e2e_fail "the table vanished with a SIGKILL (expected it to stay, fail-closed)"
e2e_log "daemon killed with SIGKILL; table still installed"
echo_send 5 # queued while nobody reads the queue: the kernel drops them, SCTP retransmits
sleep 1
gw_start "$conf"
echo_wait 20 40 || {
	ctl show associations
	ctl -j show stats | grep -E '"(drop_|associations_)' | grep -v ': 0'
	e2e_fail "after the restart: $ECHO_GOT of 20 echoes"
}
echo_send 5
echo_wait 25 20 || e2e_fail "after the restart, new data: $ECHO_GOT of 25 echoes"

ctl -j show stats >"$E2E_TMP/stats.json" || e2e_fail "show stats failed"
ctl -j show associations >"$E2E_TMP/assoc.json" || e2e_fail "show associations failed"
json_check "$E2E_TMP/stats.json" "
s = d['stats']
check(s['associations_relearned'] == 1, 'associations_relearned %s' % s['associations_relearned'])
check(s['associations_created'] == 0, 'associations_created %s (no INIT after the restart)' % s['associations_created'])
" || e2e_fail "counters: $(cat "$E2E_TMP/stats.json")"
json_check "$E2E_TMP/assoc.json" "
a = d['associations']
check(len(a) == 1, '%d associations' % len(a))
a = a[0]
check(a['internal_tag'] != 0 and a['remote_tag'] != 0, 'tags not both re-learned: %s' % a)
check(a['state'] == 'established', 'state %s' % a['state'])
" || e2e_fail "re-learned association: $(cat "$E2E_TMP/assoc.json")"

echo_close 10 || e2e_log "client did not exit after EOF"
gw_stop TERM || e2e_fail "daemon did not stop"
[ "$GW_STATUS" = 0 ] || e2e_fail "exit status $GW_STATUS"

# A UDP port taken by another program: a clear error naming the port and the cause.
nsx "$NS_GW" python3 -c "
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('0.0.0.0', $ENCAPS_PORT)); time.sleep(20)" &
holder=$!
E2E_PIDS+=("$holder")
e2e_until 5 port_bound "$NS_GW" "$ENCAPS_PORT" || e2e_fail "could not occupy the UDP port"
if nsx "$NS_GW" timeout 5 "$GW_BIN" -f -c "$conf" -s "$GW_SOCK" >"$E2E_TMP/busy.log" 2>&1; then
	e2e_fail "the daemon started although UDP $ENCAPS_PORT was taken"
fi
grep -q "UDP port $ENCAPS_PORT (IPv4) is already in use" "$E2E_TMP/busy.log" ||
	e2e_fail "busy port: unclear error: $(cat "$E2E_TMP/busy.log")"
gw_table_absent || e2e_fail "a daemon that failed to start left its table behind"
kill "$holder" 2>/dev/null

e2e_pass "association survived SIGKILL + restart (re-learned, 25/25 echoes); second instance and busy port refused clearly"
