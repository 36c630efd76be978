#!/usr/bin/env bash
# An INIT flood from outside against a forwarded port: an association opened from PEER
# (like test_forward_inbound) carries data; then PEER sends thousands of INITs with
# valid CRC32c to port 7 from hundreds of UDP ports. With init-rate-per-source 10 the
# gateway creates at most 10 (burst) + 10 per second of them, drops the rest as
# in_init_rate_limited, keeps the established association carrying data and its
# learned UDP port, and forgets the half-open entries after `timeout init`.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

PEER_ENCAPS=9911
FLOOD=5000
RATE_SRC=10

e2e_begin

conf="$E2E_TMP/gw.conf"
gw_write_config "$conf" \
	"internal 10.10.1.0/24" \
	"encapsulate to any" \
	"forward port 7 to $IN_ADDR" \
	"init-rate 50" \
	"init-rate-per-source $RATE_SRC" \
	"timeout init 2"
gw_start "$conf"
echo_server_start "$NS_IN" 0 0

echo_client_start fromoutside "$NS_PEER" "$NAT_OUT_ADDR" 7 0 "$PEER_ENCAPS" "$ENCAPS_PORT"
echo_send 10
echo_wait 10 20 || e2e_fail_dump "before the flood: $ECHO_GOT of 10 echoes"

# stats KEY: one counter of `show stats`.
stats()
{
	ctl -j show stats | python3 -c 'import json, sys; print(json.load(sys.stdin)["stats"][sys.argv[1]])' "$1"
}
# learned_port: the UDP port learned for PEER_ADDR on the established association.
learned_port()
{
	ctl -j show associations state established | python3 -c '
import json, sys
a = json.load(sys.stdin)["associations"]
print(",".join(str(r["udp_port"]) for x in a for r in x["remote_addresses"] if r["address"] == sys.argv[1]))' "$PEER_ADDR"
}
port0=$(learned_port)
[ "$port0" = "$PEER_ENCAPS" ] || e2e_fail_dump "learned port before the flood: '$port0', expected $PEER_ENCAPS"
created0=$(stats associations_created)

# The flood: INITs to port 7 with valid CRC32c, random SCTP ports and initiate tags,
# from 250 UDP sockets (so as many NAT mappings), spread over about one second. The
# sockets stay open a while so the INIT-ACKs find them (no port unreachable).
cat >"$E2E_TMP/flood.py" <<'PYEOF'
import os, random, socket, struct, sys, time
sys.path.insert(0, os.environ["HOSTILE_DIR"])
from hostile import chunk, sctp

dst, port, count, nsock = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), 250
rnd = random.Random(7)
pkts = []
for _ in range(count):
    itag = rnd.randint(1, 0xFFFFFFFF)
    # INIT: initiate tag, a_rwnd, 10 OS, 10 MIS, initial TSN
    init = chunk(1, 0, struct.pack("!IIHHI", itag, 65536, 10, 10, rnd.getrandbits(32)))
    pkts.append(sctp(rnd.randint(1024, 65535), 7, 0, init))
socks = []
for _ in range(nsock):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", 0))
    s.setblocking(False)
    socks.append(s)
print("started", flush=True)
start = time.monotonic()
sent = 0
for i, p in enumerate(pkts):
    try:
        socks[i % nsock].sendto(p, (dst, port))
        sent += 1
    except BlockingIOError:
        pass
    # pace to about one second in total
    ahead = (i + 1) / count - (time.monotonic() - start)
    if ahead > 0.002:
        time.sleep(ahead)
print("%d %.3f" % (sent, time.monotonic() - start), flush=True)
time.sleep(3)
PYEOF
bg flood "$NS_PEER" env HOSTILE_DIR="$E2E_SRCDIR/tests/e2e" \
	python3 "$E2E_TMP/flood.py" "$NAT_OUT_ADDR" "$ENCAPS_PORT" "$FLOOD"
flood_pid=$BG_PID
# shellcheck disable=SC2317 # called through e2e_until
flood_lines() { [ "$(wc -l <"$E2E_TMP/flood.out")" -ge "$1" ]; }
e2e_until 10 flood_lines 1 || e2e_fail "flood sender did not start: $(cat "$E2E_TMP/flood.err")"
# Data during the flood.
echo_send 10
e2e_until 10 flood_lines 2 || e2e_fail "flood sender: $(cat "$E2E_TMP/flood.err")"
read -r sent secs < <(sed -n 2p "$E2E_TMP/flood.out")
e2e_log "flood: $sent INITs in $secs s"
[ "$sent" -ge $((FLOOD * 9 / 10)) ] || e2e_fail "flood sender sent only $sent of $FLOOD"
echo_wait 20 20 || e2e_fail_dump "during the flood: $ECHO_GOT of 20 echoes"

created=$(($(stats associations_created) - created0))
limited=$(stats drop_in_init_rate_limited)
active=$(stats associations_active)
# Budget for one source: the burst plus the refill over the flood, plus 1 s of slack
# for the INITs still on the way when the sender stopped its clock.
budget=$(python3 -c "import math; print($RATE_SRC + math.ceil($RATE_SRC * ($secs + 1)))")
e2e_log "after the flood: $created associations created (budget $budget), $limited INITs rate-limited, $active active"
[ "$created" -ge 1 ] || e2e_fail_dump "no association created by the flood at all (is the rule working?)"
[ "$created" -le "$budget" ] || e2e_fail_dump "$created associations created, budget $budget"
[ "$limited" -ge $((sent - budget)) ] ||
	e2e_fail_dump "drop_in_init_rate_limited $limited, expected at least $((sent - budget))"
[ "$active" -le $((budget + 1)) ] || e2e_fail_dump "associations_active $active > $((budget + 1))"

# After the flood: more data, same learned port, and the half-open entries gone after
# `timeout init` (2 s, checked by the once-a-second expiry).
echo_send 10
echo_wait 30 20 || e2e_fail_dump "after the flood: $ECHO_GOT of 30 echoes"
port1=$(learned_port)
[ "$port1" = "$port0" ] || e2e_fail_dump "learned port moved during the flood: $port0 -> $port1"
# shellcheck disable=SC2317 # called through e2e_until
only_established() { [ "$(stats associations_active)" = 1 ]; }
e2e_until 8 only_established ||
	e2e_fail_dump "half-open entries not expired: associations_active $(stats associations_active)"
echo_send 5
echo_wait 35 20 || e2e_fail_dump "at the end: $ECHO_GOT of 35 echoes"
ctl -j show associations >"$E2E_TMP/assoc.json" || e2e_fail "show associations failed"
json_check "$E2E_TMP/assoc.json" "
a = d['associations']
if check(len(a) == 1, '%d associations left, expected 1' % len(a)):
    check(a[0]['state'] == 'established', 'state %s' % a[0]['state'])
    check(a[0]['origin'] == 'outside', 'origin %s' % a[0]['origin'])
" || e2e_fail_dump "association table after the flood"

echo_close 10 || e2e_log "client did not exit after EOF"
wait "$flood_pid" 2>/dev/null
gw_stop TERM || e2e_fail "daemon did not stop"
[ "$GW_STATUS" = 0 ] || e2e_fail "exit status $GW_STATUS"

e2e_pass "$sent INITs in $secs s: $created associations created (budget $budget), $limited rate-limited; 35/35 echoes on the established association, learned port $port0 kept, half-open entries expired"
