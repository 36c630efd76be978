#!/usr/bin/env bash
# Fail-closed vs fail-open: the daemon killed with SIGKILL leaves its table behind, with
# nobody reading the queue. With `queue-bypass no` (the default) the kernel drops what
# the rules queue: a native client's INIT never reaches the legacy NAT. With
# `queue-bypass yes` (here switched on by a reload) the kernel accepts it and it goes on
# natively, so the NAT's SCTP drop counter moves. `nft list` shows the flag.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

e2e_begin

conf="$E2E_TMP/gw.conf"

# nft_rules: the gateway's table as nft prints it (compat warnings on stderr dropped).
nft_rules() { nsx "$NS_GW" nft list table inet sctp_udp_gw 2>/dev/null; }
# nat_drops_above N: 0 once the NAT dropped more than N SCTP packets.
# shellcheck disable=SC2317 # called through e2e_until
nat_drops_above() { [ "$(nat_sctp_drops)" -gt "$1" ]; }

# gw_kill: SIGKILL, no clean-up; the table must stay.
gw_kill()
{
	kill -KILL "$GW_PID"
	wait "$GW_PID" 2>/dev/null
	GW_PID=""
	gw_table_present || e2e_fail "the table vanished with a SIGKILL"
}

# A counter in GW ahead of the gateway's chain (prerouting, priority raw before its
# mangle): proves the client's packets arrived.
nsx "$NS_GW" nft -f - <<EOF || e2e_fail "cannot install the probe counter"
table inet probe {
	chain prerouting {
		type filter hook prerouting priority raw; policy accept;
		meta l4proto sctp counter
	}
}
EOF
gw_seen() { nsx "$NS_GW" nft list chain inet probe prerouting | grep -o 'packets [0-9]*' | cut -d' ' -f2; }

# ---- queue-bypass no: fail closed ----
gw_write_config "$conf" "internal 10.10.1.0/24" "encapsulate to any"
gw_start "$conf"
nft_rules >"$E2E_TMP/rules.no" || e2e_fail "cannot list the gateway's table"
grep -q "queue num 0" "$E2E_TMP/rules.no" || e2e_fail "no queue rule: $(cat "$E2E_TMP/rules.no")"
! grep -q "bypass" "$E2E_TMP/rules.no" ||
	e2e_fail "queue-bypass no, yet the rule has the bypass flag: $(cat "$E2E_TMP/rules.no")"
gw_kill
before=$(nat_sctp_drops)
echo_client_start closed "$NS_IN" "$PEER_ADDR" 7 0 0 0
# usrsctp sends its first INIT at once and retransmits after its initial RTO (1 s up).
sleep 4
after=$(nat_sctp_drops)
seen=$(gw_seen)
echo_close 1 || true
[ "$seen" -gt 0 ] || e2e_fail "the native client's packets never reached the gateway"
[ "$after" = "$before" ] ||
	e2e_fail "queue-bypass no: $((after - before)) native SCTP packet(s) reached the NAT with the daemon dead"
e2e_log "queue-bypass no: daemon dead, NAT's SCTP drop counter stayed at $after ($seen packet(s) dropped at the gateway)"

# ---- queue-bypass yes, set by a reload: fail open ----
gw_start "$conf"
gw_write_config "$conf" "internal 10.10.1.0/24" "encapsulate to any" "queue-bypass yes"
ctl reload >"$E2E_TMP/reload.out" 2>&1 || e2e_fail "reload failed: $(cat "$E2E_TMP/reload.out")"
ctl show config | grep -qx "queue-bypass yes" || e2e_fail "show config: $(ctl show config)"
nft_rules >"$E2E_TMP/rules.yes" || e2e_fail "cannot list the gateway's table"
grep -q "queue num 0 bypass" "$E2E_TMP/rules.yes" ||
	e2e_fail "queue-bypass yes, yet no bypass flag: $(cat "$E2E_TMP/rules.yes")"
gw_kill
before=$(nat_sctp_drops)
echo_client_start open "$NS_IN" "$PEER_ADDR" 7 0 0 0
e2e_until 8 nat_drops_above "$before" || {
	echo_close 1
	e2e_fail "queue-bypass yes: no native SCTP reached the NAT with the daemon dead (counter $(nat_sctp_drops))"
}
after=$(nat_sctp_drops)
echo_close 1 || true
e2e_log "queue-bypass yes: daemon dead, NAT dropped $((after - before)) native SCTP packet(s)"

# The table a dead daemon left behind goes with a restart and a clean stop.
gw_start "$conf"
gw_stop TERM || e2e_fail "daemon did not stop"
[ "$GW_STATUS" = 0 ] || e2e_fail "exit status $GW_STATUS"
gw_table_absent || e2e_fail "table left after a clean stop"

e2e_pass "daemon SIGKILLed: queue-bypass no drops internal SCTP at the gateway, yes lets it on natively ($((after - before)) reached the NAT); nft shows \"bypass\""
