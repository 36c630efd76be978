#!/usr/bin/env bash
# sctp-udp-gw -u USER -g GROUP: once set up, the daemon runs as USER:GROUP with exactly
# CAP_NET_ADMIN and CAP_NET_RAW (permitted, effective and bounding sets), no other
# groups and no_new_privs; it logs so. It still works: an echo crosses the gateway, a
# reload installs changed nftables rules, and SIGTERM removes its table and its control
# socket. The socket and the directory the daemon made for it belong to USER:GROUP with
# mode 0660 / 0750. Control requests: root, USER and a member of GROUP (a supplementary
# group) may reload and read; a user who can connect without being a member (here
# through CAP_DAC_OVERRIDE, as an ACL would allow) may read but is refused reload, flush
# and set with "permission denied", each logged with a running count.
# Helpers below are called through other helpers and traps.
# shellcheck disable=SC2317
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

e2e_init
need_usrsctp
need_cmd setpriv useradd userdel groupadd groupdel getent nft
need_gw

# Accounts for this run only (system ids, no home); removed on exit once the daemon
# that runs as one of them is gone.
PRIV_GROUP="sgwg$$"
PRIV_USER="sgwd$$"
PRIV_MEMBER="sgwm$$"
NOBODY_UID=65534
NOBODY_GID=65534
priv_cleanup()
{
	local rc=$?
	gw_stop TERM >/dev/null 2>&1
	getent passwd "$PRIV_MEMBER" >/dev/null && userdel "$PRIV_MEMBER"
	getent passwd "$PRIV_USER" >/dev/null && userdel "$PRIV_USER"
	getent group "$PRIV_GROUP" >/dev/null && groupdel "$PRIV_GROUP"
	return "$rc"
}
trap 'priv_cleanup; e2e_cleanup' EXIT
groupadd --system "$PRIV_GROUP" || e2e_fail "groupadd $PRIV_GROUP"
useradd --system --no-create-home --home-dir / --shell /usr/sbin/nologin \
	--gid "$PRIV_GROUP" "$PRIV_USER" || e2e_fail "useradd $PRIV_USER"
useradd --system --no-create-home --home-dir / --shell /usr/sbin/nologin --no-user-group \
	--gid "$NOBODY_GID" --groups "$PRIV_GROUP" "$PRIV_MEMBER" || e2e_fail "useradd $PRIV_MEMBER"
D_UID=$(id -u "$PRIV_USER")
D_GID=$(getent group "$PRIV_GROUP" | cut -d: -f3)
M_UID=$(id -u "$PRIV_MEMBER")

topo_up

# Everyone may traverse the artifact directory; the daemon makes run/ itself, so it
# owns it and can remove its socket after the drop. The binaries are copied where the
# other users may run them; the daemon gets -u / -g through a wrapper.
chmod 0711 "$E2E_TMP"
# ... and every directory above it that the harness made (scripts/test.sh keeps its
# logs in a mktemp -d directory, mode 0700): the member must reach the socket.
d=$(dirname "$E2E_TMP")
while [ "$d" != / ] && [ "$d" != /tmp ]; do
	[ -O "$d" ] && chmod o+x "$d"
	d=$(dirname "$d")
done
mkdir -m 0755 "$E2E_TMP/bin"
install -m 0755 "$CTL_BIN" "$E2E_TMP/bin/sctpgwctl"
REAL_GW=$GW_BIN
GW_BIN="$E2E_TMP/bin/sctp-udp-gw-as-user"
printf '#!/bin/sh\nexec "%s" -u %s -g %s "$@"\n' "$REAL_GW" "$PRIV_USER" "$PRIV_GROUP" >"$GW_BIN"
chmod 0755 "$GW_BIN"
GW_SOCK="$E2E_TMP/run/control.sock"

conf="$E2E_TMP/gw.conf"
gw_write_config "$conf" "internal 10.10.1.0/24" "encapsulate to any" "udp-port $ENCAPS_PORT"
chmod 0644 "$conf"
gw_start "$conf"
gw_table_present || e2e_fail "daemon running but its nftables table is missing"

# ---- what the daemon became ----------------------------------------------------------
st="/proc/$GW_PID/status"
field() { awk -v k="$1:" '$1 == k { $1 = ""; sub(/^ /, ""); print }' "$st"; }
[ "$(field Uid)" = "$D_UID $D_UID $D_UID $D_UID" ] || e2e_fail "Uid: $(field Uid), expected $D_UID x4"
[ "$(field Gid)" = "$D_GID $D_GID $D_GID $D_GID" ] || e2e_fail "Gid: $(field Gid), expected $D_GID x4"
[ -z "$(field Groups)" ] || e2e_fail "supplementary groups kept: $(field Groups)"
for f in CapPrm CapEff CapBnd; do
	[ "$(field $f)" = 0000000000003000 ] ||
		e2e_fail "$f $(field $f), expected 0000000000003000 (CAP_NET_ADMIN, CAP_NET_RAW)"
done
for f in CapInh CapAmb; do
	[ "$(field $f)" = 0000000000000000 ] || e2e_fail "$f $(field $f), expected none"
done
[ "$(field NoNewPrivs)" = 1 ] || e2e_fail "NoNewPrivs $(field NoNewPrivs)"
grep -q "running as $PRIV_USER (group $PRIV_GROUP) with CAP_NET_ADMIN, CAP_NET_RAW" "$GW_LOG" ||
	e2e_fail "no \"running as $PRIV_USER ... with CAP_NET_ADMIN, CAP_NET_RAW\" in the log"
[ "$(stat -c '%U:%G %a' "$GW_SOCK")" = "$PRIV_USER:$PRIV_GROUP 660" ] ||
	e2e_fail "control socket $(stat -c '%U:%G %a' "$GW_SOCK"), expected $PRIV_USER:$PRIV_GROUP 660"
[ "$(stat -c '%U:%G %a' "$E2E_TMP/run")" = "$PRIV_USER:$PRIV_GROUP 750" ] ||
	e2e_fail "socket directory $(stat -c '%U:%G %a' "$E2E_TMP/run"), expected $PRIV_USER:$PRIV_GROUP 750"
e2e_log "daemon runs as $D_UID:$D_GID, capabilities 0x3000, no_new_privs"

# ---- the data path -------------------------------------------------------------------
echo_server_start "$NS_PEER" "$ENCAPS_PORT" "$ENCAPS_PORT"
echo_exchange native "$NS_IN" 10 20 "$PEER_ADDR" 7 0 0 0 ||
	e2e_fail_dump "echo through the unprivileged gateway: $ECHO_GOT of 10"

# ---- control requests by who sends them ----------------------------------------------
# as_user UID GID [SETPRIV OPTS...] -- ARGS: sctpgwctl as someone else
as_user()
{
	local uid=$1 gid=$2 opts=()
	shift 2
	while [ "$1" != -- ]; do opts+=("$1"); shift; done
	shift
	nsx "$NS_GW" timeout 5 setpriv --reuid="$uid" --regid="$gid" "${opts[@]}" \
		"$E2E_TMP/bin/sctpgwctl" -s "$GW_SOCK" "$@"
}
member() { as_user "$M_UID" "$NOBODY_GID" --init-groups -- "$@"; }
daemon_user() { as_user "$D_UID" "$D_GID" --clear-groups -- "$@"; }
# Not in the group, but able to open the socket anyway.
outsider() { as_user "$NOBODY_UID" "$NOBODY_GID" --clear-groups --inh-caps=+dac_override \
	--ambient-caps=+dac_override -- "$@"; }

# ok WHO ARGS...: exit 0 and no stderr
ok()
{
	local who=$1 out rc
	shift
	out=$("$who" "$@" 2>&1 >"$E2E_TMP/ok.out")
	rc=$?
	if [ "$rc" != 0 ] || [ -n "$out" ]; then
		e2e_fail "$who: sctpgwctl $*: exit $rc: $out"
	fi
}
# refused ARGS...: the outsider gets exit 1 and the permission message
refused()
{
	local out rc
	out=$(outsider "$@" 2>&1)
	rc=$?
	[ "$rc" = 1 ] || e2e_fail "outsider: sctpgwctl $*: exit $rc, expected 1: $out"
	grep -q "permission denied: .* needs root or group $PRIV_GROUP" <<<"$out" ||
		e2e_fail "outsider: sctpgwctl $*: $out"
}

ok member -j show associations
json_check "$E2E_TMP/ok.out" "check(len(d.get('associations', [])) >= 1, 'member sees no association: %s' % d)" ||
	e2e_fail "show associations as a member of $PRIV_GROUP"
ok member show stats
ok outsider show associations
ok outsider show rules
ok outsider -j show stats
refused reload
refused flush associations
refused set remote-udp-port "$PEER_ADDR" 9898
grep -q "control: reload refused to uid $NOBODY_UID gid $NOBODY_GID .* group $PRIV_GROUP (1 refused so far)" "$GW_LOG" ||
	e2e_fail "reload refusal not logged"
grep -q "control: set remote-udp-port refused to uid $NOBODY_UID .*(3 refused so far)" "$GW_LOG" ||
	e2e_fail "refusals not counted"
e2e_log "outsider may read, refused reload, flush and set; members may read"

# A reload that changes the rules: nftables again, with only the kept capabilities.
# (The listing is read whole: with pipefail, grep -q quitting early could fail nft.)
nft_has() { grep -q "$1" <<<"$(nsx "$NS_GW" nft list table inet sctp_udp_gw 2>/dev/null)"; }
gw_write_config "$conf" "internal 10.10.1.0/24" "internal 10.20.0.0/16" "encapsulate to any" \
	"udp-port $ENCAPS_PORT"
ok member reload
nft_has 10.20.0.0/16 || e2e_fail "reload by a member: rule for 10.20.0.0/16 not installed"
gw_write_config "$conf" "internal 10.10.1.0/24" "internal 10.30.0.0/16" "encapsulate to any" \
	"udp-port $ENCAPS_PORT"
ok ctl reload
nft_has 10.30.0.0/16 || e2e_fail "reload by root: rule for 10.30.0.0/16 not installed"
nft_has 10.20.0.0/16 && e2e_fail "reload by root: rule for 10.20.0.0/16 still there"
ok daemon_user reload
ok daemon_user flush associations
reloads() { grep -c "configuration reloaded" "$GW_LOG"; }
[ "$(reloads)" = 3 ] || e2e_fail "$(reloads) reloads logged, expected 3"
kill -HUP "$GW_PID"
reloaded_by_hup() { [ "$(reloads)" = 4 ]; }
e2e_until 5 reloaded_by_hup || e2e_fail "SIGHUP: no reload logged"
kill -0 "$GW_PID" 2>/dev/null || e2e_fail "daemon died"
e2e_log "reloads by a member, root, the daemon's user and SIGHUP installed the new rules"

# ---- exit ----------------------------------------------------------------------------
gw_stop TERM || e2e_fail "daemon did not stop on SIGTERM"
[ "$GW_STATUS" = 0 ] || e2e_fail "exit status $GW_STATUS on SIGTERM"
gw_table_absent || e2e_fail "nftables table left behind after SIGTERM (CAP_NET_ADMIN lost?)"
[ ! -e "$GW_SOCK" ] || e2e_fail "control socket left behind"
! grep -qiE "error|cannot remove" "$GW_LOG" || e2e_fail "errors in the log: $(grep -iE "error|cannot remove" "$GW_LOG" | head -3)"

e2e_pass "runs as $PRIV_USER:$PRIV_GROUP with CapEff/CapPrm/CapBnd 0x3000 and no_new_privs; echo works; member, root and the daemon's user may reload (new rules installed), a non-member that can connect may only read (3 refusals logged); SIGTERM removed the table and the socket"
