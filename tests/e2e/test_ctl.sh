#!/usr/bin/env bash
# sctpgwctl against a running daemon: every subcommand in text and JSON while one
# association is up, `show associations` filters (each kind, combined, no match),
# `show rules` with its per-rule association counters (moved by an association from
# inside and one from outside, reset by a reload), `show config` as a golden round trip
# of `sctp-udp-gw -n -d`, `set remote-udp-port` moving the next outbound datagrams to
# another port (seen in a capture), `flush associations`, `reload`; then the error
# paths: no daemon (exit 1), a socket the caller may not open (exit 1, permission
# message), usage errors and bad filters (exit 2).
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

# The port set by hand below; the peer drops it silently so the association survives.
ALT_PORT=9898

e2e_begin tshark setpriv

conf="$E2E_TMP/gw.conf"
gw_write_config "$conf" \
	"# statements in an order the daemon normalizes" \
	"timeout established 300" \
	"internal 10.10.1.0/24" \
	"internal 10.20.0.0/16" \
	"encapsulate to 203.0.113.0/24 remote-udp-port $ENCAPS_PORT" \
	"encapsulate to any" \
	"forward port 7 to $IN_ADDR" \
	"max-associations 1024" \
	"udp-port $ENCAPS_PORT"
gw_start "$conf"

fail_ctl()
{
	cap_stop
	ctl -j show stats 2>&1 | head -n 40
	ctl show associations 2>&1 | head -n 20
	e2e_fail "$*"
}

# ctl_ok NAME ARGS...: run sctpgwctl, stdout to $E2E_TMP/NAME, fail the test unless it
# exits 0 with an empty stderr.
ctl_ok()
{
	local name=$1 rc
	shift
	ctl "$@" >"$E2E_TMP/$name" 2>"$E2E_TMP/$name.stderr"
	rc=$?
	[ "$rc" = 0 ] || fail_ctl "sctpgwctl $*: exit status $rc: $(cat "$E2E_TMP/$name.stderr")"
	[ ! -s "$E2E_TMP/$name.stderr" ] ||
		fail_ctl "sctpgwctl $*: unexpected stderr: $(cat "$E2E_TMP/$name.stderr")"
}

# ---- show rules ----------------------------------------------------------------------
line_of() { grep -nx -- "$1" "$conf" | cut -d: -f1; }
L_ENC1=$(line_of "encapsulate to 203.0.113.0/24 remote-udp-port $ENCAPS_PORT")
L_ENC2=$(line_of "encapsulate to any")
L_FWD=$(line_of "forward port 7 to $IN_ADDR")

# rules_check TAG N_ENC1 N_ENC2 N_FWD: show rules, text and JSON, state what the daemon
# applies, and that the three rules have created N_* associations each.
rules_check()
{
	local tag=$1 n1=$2 n2=$3 nf=$4
	ctl_ok "rules-$tag.json" -j show rules
	json_check "$E2E_TMP/rules-$tag.json" "
r = d.get('rules', {})
m = r.get('queue_mechanism')
check(m in ('nft queue', 'xt NFQUEUE via nft_compat'), 'queue_mechanism %r' % m)
check(('queue 0 (%s)' % m) in open('$GW_LOG').read(),
      'queue_mechanism %r is not the one the daemon logged at start' % m)
check(r.get('queue') == 0, 'queue %r' % r.get('queue'))
check(r.get('mark') == 0x5c7b0000, 'mark %r, expected the default 0x5c7b0000' % r.get('mark'))
check(r.get('workers') == 1, 'workers %r, expected 1' % r.get('workers'))
check(r.get('host_mode') is False, 'host_mode %r, expected false' % r.get('host_mode'))
check(r.get('relay_ingest') is None and r.get('relay') == [],
      'relay_ingest %r / relay %r, expected none' % (r.get('relay_ingest'), r.get('relay')))
check(r.get('internal') == ['10.10.1.0/24', '10.20.0.0/16'], 'internal %r' % r.get('internal'))
check(r.get('encapsulate') == [
    {'to': '203.0.113.0/24', 'port': 0, 'remote_udp_port': $ENCAPS_PORT, 'line': $L_ENC1, 'associations': $n1},
    {'to': 'any', 'port': 0, 'remote_udp_port': 9899, 'line': $L_ENC2, 'associations': $n2}],
    'encapsulate %r' % r.get('encapsulate'))
check(r.get('forward') == [
    {'port': 7, 'to': '$IN_ADDR', 'to_port': 7, 'line': $L_FWD, 'associations': $nf}],
    'forward %r' % r.get('forward'))
open('$E2E_TMP/rules.mech', 'w').write(str(m))
" || { cat "$E2E_TMP/rules-$tag.json"; fail_ctl "-j show rules ($tag)"; }

	ctl_ok "rules-$tag.txt" show rules
	python3 - "$E2E_TMP/rules-$tag.txt" "$(cat "$E2E_TMP/rules.mech")" \
		"$L_ENC1" "$L_ENC2" "$L_FWD" "$n1" "$n2" "$nf" "$IN_ADDR" "$ENCAPS_PORT" <<'EOF' ||
import re, sys
path, mech, l1, l2, lf, n1, n2, nf, inaddr, eport = sys.argv[1:]
lines = open(path).read().split("\n")
bad = []
head = ["queue mechanism: " + mech, "queue: 0", "mark: 0x5c7b0000", "host mode: no",
        "internal: 10.10.1.0/24", "internal: 10.20.0.0/16", ""]
got = [re.sub(r" +", " ", l) for l in lines[:len(head)]]
if got != head:
    bad.append("header %r, expected %r" % (got, head))
table = [l for l in lines[len(head):] if l]
rows = [
    r"%s +encapsulate +to 203\.0\.113\.0/24 +remote-udp-port %s +%s" % (l1, eport, n1),
    r"%s +encapsulate +to any +remote-udp-port 9899 +%s" % (l2, n2),
    r"%s +forward +port 7 +to %s port 7 +%s" % (lf, re.escape(inaddr), nf),
]
if len(table) != 4 or not re.fullmatch(r"LINE +RULE +MATCH +ACTION +ASSOCIATIONS", table[0]):
    bad.append("expected a heading and 3 rules: %r" % table)
else:
    for want, l in zip(rows, table[1:]):
        if not re.fullmatch(want, l):
            bad.append("row %r does not match /%s/" % (l, want))
    # Aligned: every column starts where its heading does.
    starts = [m.start() for m in re.finditer(r"\S+", table[0])]
    for l in table[1:]:
        for c in starts[1:]:
            if len(l) <= c or l[c] == " " or l[c - 1] != " ":
                bad.append("row %r not aligned with the heading at column %d" % (l, c))
for b in bad:
    print("  " + b)
sys.exit(1 if bad else 0)
EOF
		fail_ctl "show rules ($tag): $(cat "$E2E_TMP/rules-$tag.txt")"
}

# Nothing has used a rule yet.
rules_check start 0 0 0

# ---- one association up ---------------------------------------------------------------
echo_server_start "$NS_PEER" "$ENCAPS_PORT" "$ENCAPS_PORT"
echo_client_start c1 "$NS_IN" "$PEER_ADDR" 7 0 0 0
echo_send 10
echo_wait 10 20 || fail_ctl "native client through the gateway: $ECHO_GOT of 10 echoes"

ctl_ok assoc.json -j show associations
json_check "$E2E_TMP/assoc.json" "
a = d.get('associations', [])
if check(len(a) == 1, 'expected 1 association, got %s' % a):
    a = a[0]
    check(isinstance(a.get('id'), int) and a['id'] > 0, 'id %r' % a.get('id'))
    check(a.get('state') == 'established', 'state %r' % a.get('state'))
    check(a.get('internal_address') == '$IN_ADDR', 'internal_address %r' % a.get('internal_address'))
    check(a.get('remote_port') == 7, 'remote_port %r' % a.get('remote_port'))
    r = a.get('remote_addresses', [])
    check(len(r) == 1 and r[0].get('address') == '$PEER_ADDR' and r[0].get('udp_port') == $ENCAPS_PORT,
          'remote_addresses %r' % r)
open('$E2E_TMP/assoc.vars', 'w').write('AID=%s\nIPORT=%s\n' % (a['id'], a['internal_port']))
" || { cat "$E2E_TMP/assoc.json"; fail_ctl "-j show associations does not show the association"; }
# shellcheck disable=SC1091
. "$E2E_TMP/assoc.vars"
e2e_log "association $AID from $IN_ADDR:$IPORT"

# The INIT to PEER_ADDR matched the first encapsulate rule, and only that one.
rules_check one-assoc 1 0 0

# Text: a header and one row with the same facts.
ctl_ok assoc.txt show associations
[[ "$(head -n 1 "$E2E_TMP/assoc.txt")" =~ ^ID\ +STATE ]] ||
	fail_ctl "show associations: no header line: $(cat "$E2E_TMP/assoc.txt")"
[ "$(wc -l <"$E2E_TMP/assoc.txt")" = 2 ] ||
	fail_ctl "show associations: expected header + 1 row: $(cat "$E2E_TMP/assoc.txt")"
grep -Eq "^$AID +established +$IN_ADDR:$IPORT +$PEER_ADDR:7 +$ENCAPS_PORT " "$E2E_TMP/assoc.txt" ||
	fail_ctl "show associations: row does not match the JSON: $(cat "$E2E_TMP/assoc.txt")"

ctl_ok one.json -j show association "$AID"
json_check "$E2E_TMP/one.json" "
a = d.get('associations', [])
if check(len(a) == 1, 'expected exactly 1 association, got %s' % a):
    check(a[0].get('id') == $AID, 'id %r, expected $AID' % a[0].get('id'))
    check(a[0].get('internal_port') == $IPORT, 'internal_port %r' % a[0].get('internal_port'))
    check(a[0].get('remote_addresses', [{}])[0].get('address') == '$PEER_ADDR', 'remote address')
" || { cat "$E2E_TMP/one.json"; fail_ctl "-j show association $AID"; }
ctl_ok one.txt show association "$AID"
for re in "^id: +$AID\$" "^state: +established\$" "^internal: +$IN_ADDR\$" \
	"^internal port: +$IPORT\$" "^remote port: +7\$" "^remote address: +$PEER_ADDR\$" \
	"^  udp port: +$ENCAPS_PORT\$"; do
	grep -Eq "$re" "$E2E_TMP/one.txt" ||
		fail_ctl "show association $AID: no line /$re/: $(cat "$E2E_TMP/one.txt")"
done
# An id that does not exist: the daemon's message, exit 1, in text and JSON.
for j in "" -j; do
	# shellcheck disable=SC2086
	ctl $j show association 999999 >"$E2E_TMP/none.out" 2>"$E2E_TMP/none.err"
	rc=$?
	[ "$rc" = 1 ] || fail_ctl "sctpgwctl $j show association 999999: exit $rc, expected 1"
	grep -q "no association 999999" "$E2E_TMP/none.err" ||
		fail_ctl "sctpgwctl $j show association 999999: message $(cat "$E2E_TMP/none.err")"
done

# ---- show associations filters -------------------------------------------------------
# filter_ids EXPECTED FILTER...: -j show associations FILTER lists exactly the ids
# EXPECTED (space-separated, "" for none); the text form shows the same rows, or
# "no associations".
filter_ids()
{
	local want=$1 n
	shift
	ctl_ok filter.json -j show associations "$@"
	json_check "$E2E_TMP/filter.json" "
ids = [a['id'] for a in d.get('associations', [])]
check(ids == [int(x) for x in '$want'.split()], 'filter $*: ids %r, expected [$want]' % ids)
" || fail_ctl "-j show associations $*"
	ctl_ok filter.txt show associations "$@"
	if [ -z "$want" ]; then
		[ "$(cat "$E2E_TMP/filter.txt")" = "no associations" ] ||
			fail_ctl "show associations $*: expected \"no associations\": $(cat "$E2E_TMP/filter.txt")"
	else
		n=$(grep -Ec "^[0-9]+ " "$E2E_TMP/filter.txt")
		if [ "$n" != "$(wc -w <<<"$want")" ] || ! grep -Eq "^$want " "$E2E_TMP/filter.txt"; then
			fail_ctl "show associations $*: expected [$want]: $(cat "$E2E_TMP/filter.txt")"
		fi
	fi
}
filter_ids "$AID"
filter_ids "$AID" state established
filter_ids "$AID" state ESTABLISHED
filter_ids "" state init
filter_ids "" state shutdown
filter_ids "$AID" internal "$IN_ADDR"
filter_ids "" internal "$IN2_ADDR"
filter_ids "" internal "$PEER_ADDR"
filter_ids "$AID" remote "$PEER_ADDR"
filter_ids "" remote "$IN_ADDR"
filter_ids "" remote "$PEER_ADDR6"
filter_ids "$AID" port 7
filter_ids "$AID" port "$IPORT"
filter_ids "" port 9
filter_ids "$AID" state established internal "$IN_ADDR" remote "$PEER_ADDR" port 7
filter_ids "$AID" port "$IPORT" remote "$PEER_ADDR"
filter_ids "" state established internal "$IN_ADDR" remote "$PEER_ADDR" port 9
filter_ids "" remote "$PEER_ADDR" state cookie

# ---- stats: text, JSON and Prometheus agree ------------------------------------------
ctl_ok stats.json -j show stats
ctl_ok stats.txt show stats
ctl_ok stats.prom show stats --prometheus
python3 - "$E2E_TMP/stats.json" "$E2E_TMP/stats.txt" "$E2E_TMP/stats.prom" <<'EOF' ||
import json, re, sys
bad = []
s = json.load(open(sys.argv[1])).get("stats", {})
if not s or not all(isinstance(v, int) for v in s.values()):
    bad.append("JSON stats empty or not all integers: %r" % s)
text = {}
for line in open(sys.argv[2]):
    m = re.fullmatch(r"([a-z0-9_]+) +([0-9]+)\n", line)
    if not m:
        bad.append("text stats line not 'name value': %r" % line)
        continue
    text[m.group(1)] = int(m.group(2))
if set(text) != set(s):
    bad.append("text and JSON name different counters: %s" % sorted(set(text) ^ set(s)))
for k in ("associations_active", "associations_created"):
    if s.get(k) != 1 or text.get(k) != 1:
        bad.append("%s: JSON %r, text %r, expected 1" % (k, s.get(k), text.get(k)))
if s.get("out_packets", 0) < 3 or s.get("in_packets", 0) < 3:
    bad.append("out_packets %r / in_packets %r" % (s.get("out_packets"), s.get("in_packets")))
prom, helps, types = {}, set(), {}
for line in open(sys.argv[3]):
    line = line.rstrip("\n")
    if line.startswith("# HELP "):
        helps.add(line.split()[2])
        continue
    if line.startswith("# TYPE "):
        f = line.split()
        types[f[2]] = f[3] if len(f) > 3 else None
        continue
    if line.startswith("#"):
        continue
    m = re.fullmatch(r"(sctp_udp_gw_[a-z0-9_]+) ([0-9]+(\.[0-9]+)?)", line)
    if not m:
        bad.append("prometheus line not 'sctp_udp_gw_name value': %r" % line)
        continue
    prom[m.group(1)] = float(m.group(2))
if len(prom) < len(s) - 1:
    bad.append("prometheus has %d samples for %d counters" % (len(prom), len(s)))
for name in prom:
    if name not in helps or types.get(name) not in ("counter", "gauge"):
        bad.append("%s without # HELP or a counter/gauge # TYPE" % name)
    if types.get(name) == "counter" and not name.endswith("_total"):
        bad.append("counter %s does not end in _total" % name)
if prom.get("sctp_udp_gw_associations_active") != 1:
    bad.append("sctp_udp_gw_associations_active %r" % prom.get("sctp_udp_gw_associations_active"))
if prom.get("sctp_udp_gw_associations_created_total") != 1:
    bad.append("sctp_udp_gw_associations_created_total %r"
               % prom.get("sctp_udp_gw_associations_created_total"))
for b in bad[:20]:
    print("  " + b)
sys.exit(1 if bad else 0)
EOF
	fail_ctl "show stats: text, JSON and --prometheus do not agree"

# ---- show config: the normalized file, and a fixed point -----------------------------
nsx "$NS_GW" "$GW_BIN" -n -d -c "$conf" >"$E2E_TMP/dump.out" 2>&1 ||
	fail_ctl "sctp-udp-gw -n -d -c $conf failed: $(cat "$E2E_TMP/dump.out")"
[ "$(tail -n 1 "$E2E_TMP/dump.out")" = "configuration OK" ] ||
	fail_ctl "sctp-udp-gw -n -d does not end with 'configuration OK'"
sed '$d' "$E2E_TMP/dump.out" >"$E2E_TMP/dump.conf"
ctl_ok showconf.txt show config
diff -u "$E2E_TMP/dump.conf" "$E2E_TMP/showconf.txt" ||
	fail_ctl "show config differs from sctp-udp-gw -n -d -c $conf"
# Fed back to the parser, show config reproduces itself.
nsx "$NS_GW" "$GW_BIN" -n -d -c "$E2E_TMP/showconf.txt" >"$E2E_TMP/rt.out" 2>&1 ||
	fail_ctl "show config output is not a valid configuration: $(cat "$E2E_TMP/rt.out")"
sed '$d' "$E2E_TMP/rt.out" | diff -u "$E2E_TMP/showconf.txt" - ||
	fail_ctl "show config output, read back, is not a fixed point"
for want in "timeout established 300" "max-associations 1024" "internal 10.20.0.0/16" \
	"forward port 7 to $IN_ADDR port 7"; do
	grep -qx "$want" "$E2E_TMP/showconf.txt" || fail_ctl "show config lacks \"$want\""
done
ctl_ok showconf.json -j show config
json_check "$E2E_TMP/showconf.json" "
check(d.get('config') == open('$E2E_TMP/showconf.txt').read(), 'JSON config differs from text: %r' % d.get('config'))
" || fail_ctl "-j show config"

# ---- set remote-udp-port: the next datagrams go to the new port ----------------------
# The peer drops ALT_PORT silently (no ICMP), so the association only loses time.
nsx "$NS_PEER" nft -f - <<EOF || e2e_fail "cannot install the peer's drop rule"
table inet ctl_test {
	chain input {
		type filter hook input priority filter; policy accept;
		udp dport $ALT_PORT counter drop
	}
}
EOF
cap_start "$NS_GW" ext0 setport
ctl_ok setport.txt set remote-udp-port "$PEER_ADDR" "$ALT_PORT" "$AID"
grep -qx "updated 1 association" "$E2E_TMP/setport.txt" ||
	fail_ctl "set remote-udp-port: $(cat "$E2E_TMP/setport.txt")"
ctl_ok setport.json -j show associations
json_check "$E2E_TMP/setport.json" "
a = d['associations'][0]
check(a['remote_addresses'][0].get('udp_port') == $ALT_PORT, 'udp_port %r after set, expected $ALT_PORT' % a['remote_addresses'][0].get('udp_port'))
" || fail_ctl "show associations does not show the port set by hand"
ctl_ok setport2.txt show associations
grep -Eq "^$AID +established +$IN_ADDR:$IPORT +$PEER_ADDR:7 +$ALT_PORT " "$E2E_TMP/setport2.txt" ||
	fail_ctl "text show associations does not show port $ALT_PORT: $(cat "$E2E_TMP/setport2.txt")"
echo_send 5
# shellcheck disable=SC2317 # called through e2e_until
alt_seen() { [ "$(nsx "$NS_PEER" nft -j list table inet ctl_test | grep -o '"packets": [0-9]*' | grep -o '[0-9]*$')" -gt 0 ]; }
e2e_until 10 alt_seen || fail_ctl "no datagram reached the peer on UDP $ALT_PORT after set remote-udp-port"
# Back to the real port (JSON form, all associations): the queued tokens get through.
ctl_ok setback.json -j set remote-udp-port "$PEER_ADDR" "$ENCAPS_PORT"
json_check "$E2E_TMP/setback.json" "
check(d.get('result') == 'ok' and d.get('count') == 1, 'reply %r' % d)
" || fail_ctl "-j set remote-udp-port"
echo_wait 15 20 || fail_ctl "after setting port $ENCAPS_PORT again: $ECHO_GOT of 15 echoes"
cap_stop
n_alt=$(cap_count "$CAP_FILE" "ip.dst == $PEER_ADDR && udp.dstport == $ALT_PORT && sctp")
n_old=$(cap_count "$CAP_FILE" "ip.dst == $PEER_ADDR && udp.dstport == $ENCAPS_PORT && sctp.chunk_type == 0")
[ "$n_alt" -gt 0 ] || { cap_summary "$CAP_FILE"; e2e_fail "capture: no SCTP to $PEER_ADDR:$ALT_PORT"; }
[ "$n_old" -gt 0 ] || { cap_summary "$CAP_FILE"; e2e_fail "capture: no DATA to $PEER_ADDR:$ENCAPS_PORT after setting it back"; }
e2e_log "set remote-udp-port: $n_alt datagram(s) to $ALT_PORT, then DATA to $ENCAPS_PORT again"

# ---- reload: a changed file becomes the running configuration -------------------------
sed -i 's/^timeout established 300$/timeout established 400/' "$conf"
ctl_ok reload.txt reload
grep -qx reloaded "$E2E_TMP/reload.txt" || fail_ctl "reload printed: $(cat "$E2E_TMP/reload.txt")"
ctl_ok showconf2.txt show config
grep -qx "timeout established 400" "$E2E_TMP/showconf2.txt" ||
	fail_ctl "after reload, show config does not show the new timeout"
ctl_ok reload.json -j reload
json_check "$E2E_TMP/reload.json" "check(d == {'result': 'ok'}, 'reply %r' % d)" || fail_ctl "-j reload"
# A reload starts the rules' counters again: the file's rules may be other rules now.
rules_check reloaded 0 0 0
ctl_ok assoc-reload.json -j show associations
json_check "$E2E_TMP/assoc-reload.json" "
check([a['id'] for a in d['associations']] == [$AID], 'associations after reload: %r' % d)
" || fail_ctl "the association did not survive the reloads"

# ---- flush ---------------------------------------------------------------------------
ctl_ok flush.txt flush associations
grep -qx "flushed 1 association" "$E2E_TMP/flush.txt" || fail_ctl "flush printed: $(cat "$E2E_TMP/flush.txt")"
ctl_ok flushed.json -j show associations
json_check "$E2E_TMP/flushed.json" "check(d.get('associations') == [], 'after flush: %r' % d)" ||
	fail_ctl "associations left after flush"
ctl_ok flushed.txt show associations
[ "$(wc -l <"$E2E_TMP/flushed.txt")" -le 1 ] || fail_ctl "text list not empty after flush"
ctl_ok flush.json -j flush associations
json_check "$E2E_TMP/flush.json" "check(d == {'result': 'ok', 'count': 0}, 'reply %r' % d)" ||
	fail_ctl "-j flush associations on an empty table"
echo_close 3 || true

# ---- an association from outside through the forward rule ----------------------------
# The peer's client, from its own encapsulation port (its echo server holds 9899), to
# the NAT's public address, forwarded to a native echo server in IN.
echo_server_start "$NS_IN" 0 0
echo_client_start fromoutside "$NS_PEER" "$NAT_OUT_ADDR" 7 0 9911 "$ENCAPS_PORT"
echo_send 5
echo_wait 5 20 || fail_ctl "peer through the forward rule: $ECHO_GOT of 5 echoes"
ctl_ok rules-fwd.json -j show rules
json_check "$E2E_TMP/rules-fwd.json" "
f = d['rules']['forward']
check(len(f) == 1 and f[0].get('associations') == 1,
      'forward rule after one association from outside: %r' % f)
" || fail_ctl "-j show rules: the forward rule did not count the association from outside"
ctl_ok rules-fwd.txt show rules
grep -Eq "^$L_FWD +forward +port 7 +to $IN_ADDR port 7 +1\$" "$E2E_TMP/rules-fwd.txt" ||
	fail_ctl "show rules does not count the association from outside: $(cat "$E2E_TMP/rules-fwd.txt")"
echo_close 5 || true

# ---- errors --------------------------------------------------------------------------
# re_quote STRING: STRING as an extended regular expression (paths may hold [ ] and spaces).
# shellcheck disable=SC2001 # a bracket expression, not a plain substitution
re_quote() { sed 's/[][\.*^$+?(){}|]/\\&/g' <<<"$1"; }

# expect_fail WANT_RC PATTERN CMD...: CMD exits WANT_RC and says PATTERN on stderr.
expect_fail()
{
	local want=$1 pat=$2 rc
	shift 2
	"$@" >"$E2E_TMP/err.out" 2>"$E2E_TMP/err.err"
	rc=$?
	[ "$rc" = "$want" ] ||
		e2e_fail "$*: exit status $rc, expected $want (stderr: $(head -n 3 "$E2E_TMP/err.err"))"
	grep -Eq -- "$pat" "$E2E_TMP/err.err" ||
		e2e_fail "$*: stderr does not say /$pat/: $(head -n 3 "$E2E_TMP/err.err")"
	[ ! -s "$E2E_TMP/err.out" ] || e2e_fail "$*: wrote to stdout on error: $(head -n 3 "$E2E_TMP/err.out")"
}

# Usage errors: exit 2, a usage line, nothing sent.
expect_fail 2 "^usage: sctpgwctl" ctl
expect_fail 2 "unknown command \"frobnicate\"" ctl frobnicate
expect_fail 2 "unknown command \"show nothing\"" ctl show nothing
expect_fail 2 "^usage: sctpgwctl show association ID" ctl show association
expect_fail 2 "unknown filter \"extra\"" ctl show associations extra
expect_fail 2 "^usage: sctpgwctl show associations \[state STATE\]" ctl show associations extra
expect_fail 2 "invalid state \"bogus\" \(closed, init, cookie, established or shutdown\)" \
	ctl show associations state bogus
expect_fail 2 "invalid internal address \"10\.10\.1\"" ctl show associations internal 10.10.1
expect_fail 2 "invalid remote address \"peer\"" ctl -j show associations remote peer
expect_fail 2 "invalid SCTP port \"0\"" ctl show associations port 0
expect_fail 2 "invalid SCTP port \"65536\"" ctl show associations state init port 65536
expect_fail 2 "filter \"port\" needs a value" ctl show associations state init port
expect_fail 2 "filter \"state\" given twice" ctl show associations state init state closed
expect_fail 2 "^usage: sctpgwctl show rules" ctl show rules extra
expect_fail 2 "invalid association id \"abc\"" ctl show association abc
expect_fail 2 "invalid association id \"0\"" ctl show association 0
expect_fail 2 "show stats \[--prometheus\]" ctl show stats --bogus
expect_fail 2 "not with -j" ctl -j show stats --prometheus
expect_fail 2 "^usage: sctpgwctl set remote-udp-port ADDRESS PORT" ctl set remote-udp-port "$PEER_ADDR"
expect_fail 2 "invalid address \"not-an-address\"" ctl set remote-udp-port not-an-address 9899
expect_fail 2 "invalid UDP port \"0\"" ctl set remote-udp-port "$PEER_ADDR" 0
expect_fail 2 "invalid UDP port \"65536\"" ctl set remote-udp-port "$PEER_ADDR" 65536
expect_fail 2 "invalid association id \"x\"" ctl set remote-udp-port "$PEER_ADDR" 9899 x
expect_fail 2 "^usage: sctpgwctl" nsx "$NS_GW" "$CTL_BIN" -s "$GW_SOCK" -x show stats

# A socket this user may not open: the daemon's socket is 0660 root. The directories on
# the way are made traversable and the binary copied out, so only the socket refuses.
chmod 0711 "$E2E_TMP"
mkdir -m 0755 "$E2E_TMP/bin"
install -m 0755 "$CTL_BIN" "$E2E_TMP/bin/sctpgwctl"
perm=$(stat -c %a "$GW_SOCK")
[ "$perm" = 660 ] || e2e_fail "control socket mode $perm, expected 660"
expect_fail 1 "cannot reach the daemon at $(re_quote "$GW_SOCK"): Permission denied \(run as root" \
	nsx "$NS_GW" timeout 5 setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$E2E_TMP/bin/sctpgwctl" -s "$GW_SOCK" show stats

# No daemon: no socket file, then a socket file nobody listens on.
expect_fail 1 "cannot reach the daemon at $(re_quote "$E2E_TMP/absent.sock"): No such file or directory \(is sctp-udp-gw running\?\)" \
	nsx "$NS_GW" timeout 5 "$CTL_BIN" -s "$E2E_TMP/absent.sock" show stats
python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.close()' \
	"$E2E_TMP/stale.sock"
expect_fail 1 "cannot reach the daemon at $(re_quote "$E2E_TMP/stale.sock"): Connection refused \(is sctp-udp-gw running\?\)" \
	nsx "$NS_GW" timeout 5 "$CTL_BIN" -s "$E2E_TMP/stale.sock" -j show associations

gw_stop TERM || e2e_fail "daemon did not stop on SIGTERM"
[ "$GW_STATUS" = 0 ] || e2e_fail "daemon exit status $GW_STATUS on SIGTERM"
[ ! -e "$GW_SOCK" ] || e2e_fail "control socket $GW_SOCK left behind after exit"
expect_fail 1 "cannot reach the daemon at $(re_quote "$GW_SOCK"): No such file or directory" ctl show stats

e2e_pass "every subcommand in text and JSON; show associations filters; show rules counted associations per rule and a reload reset them; show config is the normalized file and a fixed point; set remote-udp-port moved datagrams to $ALT_PORT and back; errors exit 1 (no daemon, permission) and 2 (usage)"
