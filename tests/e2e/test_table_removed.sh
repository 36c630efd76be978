#!/usr/bin/env bash
# The daemon owns exactly its own nftables table: present while it runs, gone after
# SIGTERM and after SIGINT, with every other rule in the namespace untouched, and it
# exits 0 on both signals.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

e2e_init
need_gw
topo_up

gw_write_config "$GW_CONF" "${GW_CONF_BASE[@]}"

# Some unrelated rules of "someone else" that must survive the daemon.
nsx "$NS_GW" nft -f - <<'EOF' || e2e_fail "cannot install the bystander ruleset"
table ip bystander {
	chain input {
		type filter hook input priority filter; policy accept;
		tcp dport 22 counter accept
	}
}
EOF

ruleset() { nsx "$NS_GW" nft list ruleset; }

ruleset >"$E2E_TMP/ruleset.before"
gw_table_absent || e2e_fail "a sctp_udp_gw table exists before the daemon started"

for sig in TERM INT; do
	gw_start "$GW_CONF"
	gw_table_present ||
		{ ruleset; e2e_fail "daemon running but its table (${GW_NFT_TABLES[*]}) is missing"; }
	ruleset >"$E2E_TMP/ruleset.running.$sig"
	grep -q "table ip bystander" "$E2E_TMP/ruleset.running.$sig" ||
		e2e_fail "the bystander table vanished while the daemon ran"

	gw_stop "$sig" || e2e_fail "daemon still running 5 s after SIG$sig"
	[ "$GW_STATUS" = 0 ] || e2e_fail "daemon exit status $GW_STATUS on SIG$sig, expected 0"
	ruleset >"$E2E_TMP/ruleset.after.$sig"
	if ! diff -u "$E2E_TMP/ruleset.before" "$E2E_TMP/ruleset.after.$sig"; then
		e2e_fail "ruleset after SIG$sig differs from the one before start"
	fi
	e2e_log "SIG$sig: table present while running, ruleset restored, exit 0"
done

e2e_pass "table present while running; ruleset identical after SIGTERM and SIGINT; exit status 0"
