#!/usr/bin/env bash
# Reload without a restart. A good changed file takes effect: a `forward` rule added
# by SIGHUP lets an association opened from outside reach a native server in IN2, and an
# internal network added / removed by `sctpgwctl reload` appears in / leaves the
# nftables table. A bad file changes nothing: the daemon logs `file:line: message`,
# `sctpgwctl reload` prints it and exits 1, and the running configuration, the table and
# the associations stay. Associations survive every reload: clients keep getting every
# echo, under the same association ids.
# shellcheck source-path=SCRIPTDIR source=lib.sh
TOPO_IN2=1
. "$(dirname "$0")/lib.sh"

OUT_PEER_ENCAPS=9911   # the client that is refused before the forward rule exists
IN_PEER_ENCAPS=9912    # the client opening the association after the reload
EXTRA_NET=10.30.0.0/16

e2e_begin

gw_up

fail_reload()
{
	ctl -j show stats 2>&1 | head -n 40
	ctl show associations 2>&1 | head -n 20
	nsx "$NS_GW" nft list table inet sctp_udp_gw 2>&1 | head -n 20
	e2e_fail "$*"
}

# reloads_logged: how many reloads the daemon has completed so far.
reloads_logged() { grep -cF "configuration reloaded from $GW_CONF" "$GW_LOG"; }
failures_logged() { grep -cF "reload failed, keeping the running configuration" "$GW_LOG"; }
# The file name as a regular expression (artifact paths may hold [ ] and spaces).
# shellcheck disable=SC2001 # a bracket expression, not a plain substitution
conf_re=$(sed 's/[][\.*^$+?(){}|]/\\&/g' <<<"$GW_CONF")

# sighup_reload WHAT: SIGHUP, then wait for the daemon to say it reloaded.
sighup_reload()
{
	local before
	before=$(reloads_logged)
	kill -HUP "$GW_PID"
	# shellcheck disable=SC2317 # called through e2e_until
	reloaded() { [ "$(reloads_logged)" -gt "$before" ]; }
	e2e_until 5 reloaded || fail_reload "no 'configuration reloaded' in the log 5 s after SIGHUP ($1)"
	e2e_log "SIGHUP reload: $1"
}

# assoc_ids: "ORIGIN:ID" of every association, sorted, one line.
assoc_ids()
{
	ctl -j show associations | python3 -c '
import json, sys
print(" ".join(sorted("%s:%s" % (a["origin"], a["id"]) for a in json.load(sys.stdin)["associations"])))'
}

# table_has NET: 0 when the daemon's nftables table queues from NET. (Not `nft | grep -q`:
# under pipefail, nft killed by SIGPIPE would fail the pipeline after a match.)
table_has()
{
	local t
	t=$(nsx "$NS_GW" nft list table inet sctp_udp_gw 2>/dev/null) || return 2
	grep -q "ip saddr $1 " <<<"$t"
}
# table_lacks NET: 0 when the table could be listed and does not queue from NET.
table_lacks() { table_has "$1"; [ $? = 1 ]; }

# more_echoes NAME COUNT: COUNT more tokens from client NAME, all echoed within 15 s.
more_echoes()
{
	echo_select "$1"
	echo_send "$2"
	echo_save # echo_client_start does not save the current client before switching
	echo_wait "$ECHO_SENT" 15 ||
		fail_reload "client $1: $ECHO_GOT of $ECHO_SENT tokens echoed ($3)"
}

echo_server_start "$NS_PEER" "$ENCAPS_PORT" "$ENCAPS_PORT"
echo_server_start "$NS_IN2" 0 0

# ---- an association from inside, before any reload -----------------------------------
echo_client_start out "$NS_IN" "$PEER_ADDR" 7 0 0 0
more_echoes out 10 "before any reload"
ids0=$(assoc_ids)
[[ "$ids0" =~ ^inside:[0-9]+$ ]] || fail_reload "expected one association from inside, got '$ids0'"
e2e_log "association from inside: $ids0"

# ---- no forward rule yet: an INIT from outside is refused ----------------------------
echo_client_start refused "$NS_PEER" "$NAT_OUT_ADDR" 7 0 "$OUT_PEER_ENCAPS" "$ENCAPS_PORT"
echo_send 1
# shellcheck disable=SC2317 # called through e2e_until
refused_counted()
{
	ctl -j show stats >"$E2E_TMP/stats-refused.json" 2>/dev/null &&
		json_check "$E2E_TMP/stats-refused.json" "
check(d['stats'].get('drop_in_no_forward_rule', 0) > 0, 'drop_in_no_forward_rule 0')" >/dev/null
}
e2e_until 5 refused_counted || fail_reload "INIT from outside without a forward rule not refused/counted"
[ "$(echo_count)" = 0 ] || fail_reload "an echo came back from outside without a forward rule"
echo_close 1 || true
[ "$(assoc_ids)" = "$ids0" ] || fail_reload "refused INIT changed the table: '$(assoc_ids)'"
table_lacks "$EXTRA_NET" || fail_reload "$EXTRA_NET in the table before it is configured"

# ---- good reload by SIGHUP: a forward rule and another internal network ---------------
gw_write_config "$GW_CONF" "${GW_CONF_BASE[@]}" "internal $EXTRA_NET" "forward port 7 to $IN2_ADDR"
sighup_reload "added forward port 7 to $IN2_ADDR and internal $EXTRA_NET"
table_has "$EXTRA_NET" || fail_reload "$EXTRA_NET not in the nftables table after the reload"
table_has 10.10.1.0/24 || fail_reload "10.10.1.0/24 missing from the nftables table after the reload"
ctl show config >"$E2E_TMP/config-1.txt" || fail_reload "show config failed"
grep -qx "forward port 7 to $IN2_ADDR port 7" "$E2E_TMP/config-1.txt" ||
	fail_reload "show config lacks the new forward rule: $(cat "$E2E_TMP/config-1.txt")"
[ "$(assoc_ids)" = "$ids0" ] || fail_reload "association changed by the reload: '$(assoc_ids)', was '$ids0'"
more_echoes out 10 "after the SIGHUP reload"

# The new rule works without a restart: from outside through the NAT to IN2.
echo_client_start in "$NS_PEER" "$NAT_OUT_ADDR" 7 0 "$IN_PEER_ENCAPS" "$ENCAPS_PORT"
more_echoes in 10 "from outside through the forward rule added by reload"
ids1=$(assoc_ids)
if ! [[ "$ids1" =~ ^inside:[0-9]+\ outside:[0-9]+$ ]] || [ "${ids1%% *}" != "$ids0" ]; then
	fail_reload "expected the old association and one from outside, got '$ids1'"
fi
e2e_log "association from outside through the new rule: ${ids1#* }"

# ---- good reload by sctpgwctl: the extra network goes away ----------------------------
gw_write_config "$GW_CONF" "${GW_CONF_BASE[@]}" "forward port 7 to $IN2_ADDR"
ctl reload >"$E2E_TMP/reload-2.out" 2>&1 || fail_reload "sctpgwctl reload failed: $(cat "$E2E_TMP/reload-2.out")"
grep -qx reloaded "$E2E_TMP/reload-2.out" || fail_reload "sctpgwctl reload printed: $(cat "$E2E_TMP/reload-2.out")"
table_lacks "$EXTRA_NET" || fail_reload "$EXTRA_NET still in the nftables table after it was removed"
table_has 10.10.1.0/24 || fail_reload "10.10.1.0/24 missing from the table after the reload"
[ "$(assoc_ids)" = "$ids1" ] || fail_reload "associations changed by sctpgwctl reload: '$(assoc_ids)', was '$ids1'"
more_echoes out 10 "after sctpgwctl reload"
more_echoes in 10 "after sctpgwctl reload"

# ---- bad files: nothing changes ------------------------------------------------------
ctl show config >"$E2E_TMP/config-good.txt" || fail_reload "show config failed"
nsx "$NS_GW" nft list table inet sctp_udp_gw >"$E2E_TMP/table-good.txt" 2>/dev/null

# bad_reload LINE_NO PATTERN: the file is bad at LINE_NO; sctpgwctl reload and SIGHUP both
# fail with "FILE:LINE_NO: ..." (PATTERN), and nothing changes.
bad_reload()
{
	local line=$1 pat=$2 rc before
	ctl reload >"$E2E_TMP/bad.out" 2>"$E2E_TMP/bad.err"
	rc=$?
	[ "$rc" = 1 ] || fail_reload "sctpgwctl reload of a bad file: exit $rc, expected 1"
	[ ! -s "$E2E_TMP/bad.out" ] || fail_reload "sctpgwctl reload of a bad file printed: $(cat "$E2E_TMP/bad.out")"
	grep -Eq "^sctpgwctl: $conf_re:$line: $pat" "$E2E_TMP/bad.err" ||
		fail_reload "sctpgwctl reload does not print '$GW_CONF:$line: $pat': $(cat "$E2E_TMP/bad.err")"
	grep -Eq "reload failed, keeping the running configuration: $conf_re:$line: $pat" "$GW_LOG" ||
		fail_reload "the daemon did not log '$GW_CONF:$line: $pat'"
	before=$(failures_logged)
	kill -HUP "$GW_PID"
	# shellcheck disable=SC2317 # called through e2e_until
	failed_again() { [ "$(failures_logged)" -gt "$before" ]; }
	e2e_until 5 failed_again || fail_reload "SIGHUP with a bad file: no failure logged"
	[ "$(grep "reload failed" "$GW_LOG" | tail -n 1 | grep -Ec "$conf_re:$line: $pat")" = 1 ] ||
		fail_reload "SIGHUP with a bad file: last failure is not '$GW_CONF:$line: $pat'"
	ctl show config | diff -u "$E2E_TMP/config-good.txt" - ||
		fail_reload "the running configuration changed after a failed reload"
	nsx "$NS_GW" nft list table inet sctp_udp_gw 2>/dev/null | diff -u "$E2E_TMP/table-good.txt" - ||
		fail_reload "the nftables table changed after a failed reload"
	[ "$(assoc_ids)" = "$ids1" ] || fail_reload "associations changed by a failed reload"
	kill -0 "$GW_PID" 2>/dev/null || fail_reload "the daemon exited on a bad reload"
}

# A syntax error on line 4 that also removes the forward rule: the rule must stay.
gw_write_config "$GW_CONF" "internal 10.10.1.0/24" "encapsulate to any" "tunnel to 192.0.2.1"
bad_reload 4 'unknown statement "tunnel"'
# A valid file that would need a restart (another UDP port) is refused as well.
gw_write_config "$GW_CONF" "${GW_CONF_BASE[@]/udp-port $ENCAPS_PORT/udp-port 9900}" "forward port 7 to $IN2_ADDR"
ctl reload 2>"$E2E_TMP/restart.err"
rc=$?
if [ "$rc" != 1 ] || ! grep -q 'changing "udp-port" needs a restart' "$E2E_TMP/restart.err"; then
	fail_reload "reload changing udp-port: exit $rc, $(cat "$E2E_TMP/restart.err")"
fi
ctl show config | diff -u "$E2E_TMP/config-good.txt" - ||
	fail_reload "the running configuration changed after a refused udp-port change"
# Both clients still get every echo: the old configuration still runs.
more_echoes out 10 "after the failed reloads"
more_echoes in 10 "after the failed reloads"

# ---- a good file again ---------------------------------------------------------------
gw_write_config "$GW_CONF" "${GW_CONF_BASE[@]}" "forward port 7 to $IN2_ADDR"
sighup_reload "good file again"
[ "$(assoc_ids)" = "$ids1" ] || fail_reload "associations changed: '$(assoc_ids)', was '$ids1'"
more_echoes out 5 "after the last reload"
more_echoes in 5 "after the last reload"

echo_select out
echo_close 5 || e2e_log "client out did not exit after EOF"
echo_select in
echo_close 5 || e2e_log "client in did not exit after EOF"
gw_stop TERM || e2e_fail "daemon did not stop on SIGTERM"
[ "$GW_STATUS" = 0 ] || e2e_fail "daemon exit status $GW_STATUS on SIGTERM"

e2e_pass "forward rule added by SIGHUP works from outside; $EXTRA_NET added to and removed from the table; bad files logged as file:line and refused by sctpgwctl (exit 1); associations $ids1 kept every echo across 4 reloads"
