#!/usr/bin/env bash
# Several data-path workers (`queue 0-1`: two queues, two worker threads, each with its
# own queue, UDP socket in a reuseport group, raw sockets and association table). An
# association lives on one worker: outbound packets are dispatched by the nftables chain
# `dispatch` to queue (sport ^ dport) & 1, inbound datagrams are steered by a reuseport
# program on the same key of the SCTP ports they carry, and an association's id tells
# its worker, (id - 1) % 2. A queue range of 3 is refused at start. Then, with ports
# chosen so that both workers are used: 4 native clients in IN to the peer's echo server,
# 2 clients in PEER opening associations from outside (`forward port 7`), 2 native
# clients in IN through a relay rule (3868 -> the peer's 7): every echo comes back and
# every association sits on the worker its ports name; reload keeps the associations;
# SIGTERM exits 0 and removes the table. The workers busy-poll (busy-poll 300), so the
# polling path runs too (and under TSan in the full run).
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

COUNT=10
RELAY_PORT=3868

e2e_begin
T0=$SECONDS

conf="$E2E_TMP/gw.conf"

# Several usrsctp clients in IN at once: see usrsctp_ootb_filter in lib.sh.
usrsctp_ootb_filter "$NS_IN"

# worker_of PORT: the worker the key (PORT ^ 7) & 1 names (every peer port here is 7).
worker_of() { echo $((($1 ^ 7) & 1)); }

# assoc_check NAME PYTHON: `show associations` as JSON in $E2E_TMP/assoc.NAME.json, the
# list in `a`, and the assertions PYTHON; fails the test when one fails.
assoc_check()
{
	local f="$E2E_TMP/assoc.$1.json"
	ctl -j show associations >"$f" 2>"$E2E_TMP/ctl.err" ||
		e2e_fail_dump "$1: sctpgwctl -j show associations failed: $(cat "$E2E_TMP/ctl.err")"
	json_check "$f" "
a = d.get('associations', [])
def worker(x):
    return (x.get('id', 0) - 1) % 2
def key(x):
    return (x.get('seen_port', 0) ^ 7) & 1
$2" || { cat "$f"; e2e_fail_dump "$1: association table does not match"; }
}

# ---- 1. three queues: refused at start, with the reason ----
gw_write_config "$conf" \
	"internal 10.10.1.0/24" \
	"encapsulate to any" \
	"udp-port $ENCAPS_PORT" \
	"queue 0-2"
if nsx "$NS_GW" "$GW_BIN" -n -c "$conf" >"$E2E_TMP/bad-n.log" 2>&1; then
	e2e_fail "sctp-udp-gw -n accepts queue 0-2: $(cat "$E2E_TMP/bad-n.log")"
fi
rc=0
nsx "$NS_GW" timeout 5 "$GW_BIN" -f -c "$conf" -s "$GW_SOCK" >"$E2E_TMP/bad.log" 2>&1 || rc=$?
if [ "$rc" = 0 ] || [ "$rc" = 124 ]; then
	e2e_fail "queue 0-2: daemon exit status $rc (expected a refusal): $(tail -n 3 "$E2E_TMP/bad.log")"
fi
for f in bad-n.log bad.log; do
	grep -q "queue range .*0-2.* has 3 queues; a worker per queue needs 1, 2, 4 or 8 of them" \
		"$E2E_TMP/$f" || e2e_fail "queue 0-2: no clear reason in $f: $(tail -n 3 "$E2E_TMP/$f")"
done
gw_table_absent || e2e_fail "queue 0-2: refused, yet the daemon's table exists"
e2e_log "queue 0-2 refused (exit status $rc): $(grep -o 'queue range.*' "$E2E_TMP/bad.log" | head -n 1)"

# ---- 2. two workers ----
gw_write_config "$conf" \
	"internal 10.10.1.0/24" \
	"encapsulate to any" \
	"forward port 7 to $IN_ADDR" \
	"relay port $RELAY_PORT to $PEER_ADDR port 7" \
	"udp-port $ENCAPS_PORT" \
	"busy-poll 300" \
	"keepalive 1" \
	"queue 0-1"
gw_start "$conf"
grep -q "queues 0-1 (.*), 2 workers" "$GW_LOG" ||
	e2e_fail "the start-up line does not say 2 workers: $(grep started "$GW_LOG")"
grep -q "raw SCTP socket" "$GW_LOG" ||
	e2e_fail "the log does not say relay ingest by raw SCTP socket: $(tail -n 5 "$GW_LOG")"
nsx "$NS_GW" nft list table inet sctp_udp_gw >"$E2E_TMP/table.nft" 2>"$E2E_TMP/nft.err" ||
	e2e_fail "no table inet sctp_udp_gw: $(cat "$E2E_TMP/nft.err")"
# Four rules, one per (sport bit, dport bit), each to queue sport ^ dport, and a last
# one for packets too short to show ports; the forward chain jumps there.
python3 - "$E2E_TMP/table.nft" >"$E2E_TMP/dispatch.txt" <<'EOF' ||
import re, sys
chain, rules = None, {}
for line in open(sys.argv[1]):
    line = line.strip()
    m = re.match(r"chain (\S+) \{", line)
    if m:
        chain = m.group(1)
        rules[chain] = []
    elif chain and line and not line.startswith(("type ", "}")):
        rules[chain].append(line)
d = rules.get("dispatch")
if d is None:
    print("no chain dispatch; chains: %s" % sorted(rules))
    sys.exit(1)
bad, nums = [], set()
# The last rule takes what shows no ports (too short) to the first queue.
if not d or d[-1] != "queue num 0":
    bad.append("last rule %r, expected the catch-all 'queue num 0'" % (d[-1] if d else None))
d = d[:-1]
for r in d:
    m = re.fullmatch(r"th sport & 1 == (\d) th dport & 1 == (\d) queue num (\d+)", r)
    if not m or int(m.group(3)) != int(m.group(1)) ^ int(m.group(2)):
        bad.append(r)
    else:
        nums.add(int(m.group(3)))
jumps = [r for c in rules.values() for r in c if r.endswith("jump dispatch")]
print("%d queue rules in dispatch (queues %s), %d jump(s) to it%s"
      % (len(d), sorted(nums), len(jumps), "; not queue sport ^ dport: %s" % bad if bad else ""))
sys.exit(0 if len(d) == 4 and not bad and nums == {0, 1} and jumps else 1)
EOF
	{ cat "$E2E_TMP/table.nft"; e2e_fail "chain dispatch: $(cat "$E2E_TMP/dispatch.txt")"; }
e2e_log "table: $(cat "$E2E_TMP/dispatch.txt")"
ctl -j show rules >"$E2E_TMP/rules.json" 2>"$E2E_TMP/ctl.err" ||
	e2e_fail "sctpgwctl -j show rules failed: $(cat "$E2E_TMP/ctl.err")"
json_check "$E2E_TMP/rules.json" "
r = d.get('rules', {})
check(r.get('workers') == 2, 'workers %r, expected 2' % r.get('workers'))
check(r.get('relay_ingest') == 'raw SCTP socket', 'relay_ingest %r' % r.get('relay_ingest'))
" || { cat "$E2E_TMP/rules.json"; e2e_fail "show rules does not say 2 workers"; }
ctl show rules >"$E2E_TMP/rules.txt" 2>&1 || e2e_fail "sctpgwctl show rules failed"
grep -q "^queues: *0-1 (2 workers)" "$E2E_TMP/rules.txt" ||
	{ cat "$E2E_TMP/rules.txt"; e2e_fail "show rules does not print 'queues: 0-1 (2 workers)'"; }

# ---- 3. outbound: 4 native clients from IN, ports on both workers ----
t=$SECONDS
echo_server_start "$NS_PEER" "$ENCAPS_PORT" "$ENCAPS_PORT"
OUT_PORTS=(5000 5001 5002 5003)
for p in "${OUT_PORTS[@]}"; do
	echo_client_start "out$p" "$NS_IN" "$PEER_ADDR" 7 "$p" 0 0
done
for p in "${OUT_PORTS[@]}"; do
	echo_select "out$p"
	echo_send "$COUNT"
done
for p in "${OUT_PORTS[@]}"; do
	echo_select "out$p"
	echo_wait "$COUNT" 20 ||
		e2e_fail_dump "out$p (worker $(worker_of "$p")): $ECHO_GOT of $COUNT echoes"
done
e2e_log "outbound: 4 clients from ports ${OUT_PORTS[*]}: $COUNT/$COUNT echoes each"
assoc_check out "
check(len(a) == 4, 'expected 4 associations, got %d' % len(a))
for x in a:
    check(x.get('origin') == 'inside', 'association %s origin %r' % (x.get('id'), x.get('origin')))
    check(x.get('state') == 'established', 'association %s state %r' % (x.get('id'), x.get('state')))
    check(x.get('remote_port') == 7, 'association %s remote_port %r' % (x.get('id'), x.get('remote_port')))
    check(x.get('seen_port') == x.get('internal_port'),
          'association %s: port %r translated to %r' % (x.get('id'), x.get('internal_port'), x.get('seen_port')))
    check(worker(x) == key(x), 'association %s from port %r on worker %d, its ports name worker %d'
          % (x.get('id'), x.get('internal_port'), worker(x), key(x)))
check(sorted(x.get('internal_port') for x in a) == [${OUT_PORTS[*]/%/,}],
      'internal ports %s' % sorted(x.get('internal_port') for x in a))
check(sorted(set(worker(x) for x in a)) == [0, 1], 'workers used: %s' % sorted(set(worker(x) for x in a)))
"
ids_before=$(python3 -c 'import json,sys; print(" ".join(str(x["id"]) for x in sorted(json.load(open(sys.argv[1]))["associations"], key=lambda x: x["id"])))' "$E2E_TMP/assoc.out.json")

# Reload with the associations up: they stay, on their workers, and carry more echoes.
ctl reload >"$E2E_TMP/reload.out" 2>&1 || e2e_fail_dump "sctpgwctl reload failed: $(cat "$E2E_TMP/reload.out")"
for p in "${OUT_PORTS[@]}"; do
	echo_select "out$p"
	echo_send "$COUNT"
done
for p in "${OUT_PORTS[@]}"; do
	echo_select "out$p"
	echo_wait $((2 * COUNT)) 20 ||
		e2e_fail_dump "out$p after reload: $ECHO_GOT of $((2 * COUNT)) echoes"
done
assoc_check reload "
ids = ' '.join(str(x.get('id')) for x in sorted(a, key=lambda x: x.get('id', 0)))
check(ids == '$ids_before', 'association ids %s after reload, %s before' % (ids, '$ids_before'))
for x in a:
    check(x.get('state') == 'established', 'association %s state %r after reload' % (x.get('id'), x.get('state')))
"
for p in "${OUT_PORTS[@]}"; do
	echo_select "out$p"
	echo_close 10 || e2e_fail_dump "out$p did not finish its SHUTDOWN within 10 s"
done
e2e_log "outbound: associations $ids_before on workers 0 and 1, kept across reload ($((2 * COUNT)) echoes each), $((SECONDS - t)) s"

# ---- 4. inbound: 2 clients in PEER to the NAT's port 7, forwarded to IN ----
t=$SECONDS
echo_server_start "$NS_IN" 0 0
IN_SERVER_PID=$ECHO_SERVER_PID
IN_PORTS=(5000 5001)
enc=9911
for p in "${IN_PORTS[@]}"; do
	echo_client_start "in$p" "$NS_PEER" "$NAT_OUT_ADDR" 7 "$p" "$enc" "$ENCAPS_PORT"
	enc=$((enc + 1))
done
for p in "${IN_PORTS[@]}"; do
	echo_select "in$p"
	echo_send "$COUNT"
done
for p in "${IN_PORTS[@]}"; do
	echo_select "in$p"
	echo_wait "$COUNT" 20 ||
		e2e_fail_dump "in$p from outside (worker $(worker_of "$p")): $ECHO_GOT of $COUNT echoes"
done
e2e_log "inbound: 2 clients from ports ${IN_PORTS[*]}: $COUNT/$COUNT echoes each"
assoc_check in "
o = [x for x in a if x.get('origin') == 'outside' and x.get('state') == 'established']
check(len(o) == 2, 'expected 2 established associations from outside, got %s' % o)
for x in o:
    check(x.get('internal_port') == 7 and x.get('seen_port') == 7,
          'association %s ports %r/%r, expected 7' % (x.get('id'), x.get('internal_port'), x.get('seen_port')))
    w = (x.get('remote_port', 0) ^ 7) & 1
    check(worker(x) == w, 'association %s from port %r on worker %d, its ports name worker %d'
          % (x.get('id'), x.get('remote_port'), worker(x), w))
check(sorted(x.get('remote_port') for x in o) == [${IN_PORTS[*]/%/,}], 'remote ports %s' % [x.get('remote_port') for x in o])
"
for p in "${IN_PORTS[@]}"; do
	echo_select "in$p"
	echo_close 10 || e2e_fail_dump "in$p did not finish its SHUTDOWN within 10 s"
done
kill -TERM "$IN_SERVER_PID" 2>/dev/null
e2e_wait_pid "$IN_SERVER_PID" 3 || kill -KILL "$IN_SERVER_PID" 2>/dev/null
e2e_log "inbound: both workers, $((SECONDS - t)) s"

# ---- 5. relay: 2 native clients in IN to 10.10.1.1:3868, carried to the peer's 7 ----
t=$SECONDS
RELAY_PORTS=(6000 6001)
for p in "${RELAY_PORTS[@]}"; do
	echo_client_start "relay$p" "$NS_IN" "$GW_INT_ADDR" "$RELAY_PORT" "$p" 0 0
	echo_send "$COUNT"
done
for p in "${RELAY_PORTS[@]}"; do
	echo_select "relay$p"
	echo_wait "$COUNT" 20 ||
		e2e_fail_dump "relay$p (worker $(worker_of "$p")): $ECHO_GOT of $COUNT echoes"
done
assoc_check relay "
r = [x for x in a if x.get('relay_port') == $RELAY_PORT and x.get('state') == 'established']
check(len(r) == 2, 'expected 2 established relay associations, got %s' % r)
for x in r:
    check(x.get('relay_address') == '$GW_INT_ADDR', 'association %s relay_address %r' % (x.get('id'), x.get('relay_address')))
    check(x.get('remote_port') == 7, 'association %s remote_port %r' % (x.get('id'), x.get('remote_port')))
    check(x.get('seen_port') == x.get('internal_port'),
          'association %s: port %r translated to %r' % (x.get('id'), x.get('internal_port'), x.get('seen_port')))
    check(worker(x) == key(x), 'association %s from port %r on worker %d, its ports name worker %d'
          % (x.get('id'), x.get('internal_port'), worker(x), key(x)))
check(sorted(x.get('internal_port') for x in r) == [${RELAY_PORTS[*]/%/,}],
      'internal ports %s' % sorted(x.get('internal_port') for x in r))
"
for p in "${RELAY_PORTS[@]}"; do
	echo_select "relay$p"
	echo_close 10 || e2e_fail_dump "relay$p did not finish its SHUTDOWN within 10 s"
done
e2e_log "relay: ports ${RELAY_PORTS[*]} on workers $(worker_of 6000) and $(worker_of 6001), $COUNT/$COUNT echoes each, $((SECONDS - t)) s"

# ---- 6. counters, stop ----
# keepalive 1: the control thread sends HEARTBEATs on the workers' sockets while they
# carry traffic (what the ThreadSanitizer lane of this test is for); give the idle paths
# a few seconds to be answered.
# shellcheck disable=SC2317 # called through e2e_until
ka_answered() {
	ctl_json stats.json show stats
	python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["stats"].get("keepalives_answered", 0) > 0 else 1)' \
		"$E2E_TMP/stats.json"
}
e2e_until 5 ka_answered || { cat "$E2E_TMP/stats.json"; e2e_fail "keepalive 1: no keepalive answered"; }
ctl_json stats.json show stats
json_check "$E2E_TMP/stats.json" "
s = d.get('stats', {})
check(s.get('workers') == 2, 'workers %r, expected 2' % s.get('workers'))
check(s.get('out_packets', 0) > 0, 'out_packets %r' % s.get('out_packets'))
check(s.get('in_packets', 0) > 0, 'in_packets %r' % s.get('in_packets'))
check(s.get('associations_created') == 8, 'associations_created %r, expected 8' % s.get('associations_created'))
check(s.get('keepalives_sent', 0) >= s.get('keepalives_answered', 0) > 0, 'keepalives sent %r, answered %r' % (s.get('keepalives_sent'), s.get('keepalives_answered')))
check(s.get('drop_in_keepalive_forged', 0) == 0, 'drop_in_keepalive_forged %r' % s.get('drop_in_keepalive_forged'))
" || { cat "$E2E_TMP/stats.json"; e2e_fail_dump "counters do not match"; }

# Per-rule counts add up over both workers (the reload in step 3 restarted them).
ctl -j show rules >"$E2E_TMP/rules.end.json" 2>"$E2E_TMP/ctl.err" ||
	e2e_fail "sctpgwctl -j show rules failed: $(cat "$E2E_TMP/ctl.err")"
json_check "$E2E_TMP/rules.end.json" "
r = d.get('rules', {})
for kind in ('forward', 'relay'):
    n = [x.get('associations') for x in r.get(kind, [])]
    check(n == [2], '%s rule associations %s, expected [2]' % (kind, n))
" || { cat "$E2E_TMP/rules.end.json"; e2e_fail "show rules does not count both workers' associations"; }

gw_stop TERM || e2e_fail "daemon did not stop on SIGTERM"
[ "$GW_STATUS" = 0 ] || e2e_fail "daemon exit status $GW_STATUS on SIGTERM"
gw_table_absent || e2e_fail "the daemon's table is left after SIGTERM"

e2e_log "IN dropped $(usrsctp_ootb_drops "$NS_IN") out-of-the-blue ABORT(s) of its usrsctp stacks"

e2e_pass "queue 0-2 refused; 2 workers: 4 outbound, 2 inbound and 2 relay associations on the worker their ports name, every echo back, kept across reload; keepalives $(python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["stats"]; print("%d sent, %d answered" % (s["keepalives_sent"], s["keepalives_answered"]))' "$E2E_TMP/stats.json"); $((SECONDS - T0)) s after topology"
