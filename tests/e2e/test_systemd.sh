#!/usr/bin/env bash
# The daemon as a systemd service, installed by `make install`. A real systemd runs as
# PID 1 in its own PID, mount and cgroup namespaces inside the GW network namespace;
# `make install DESTDIR=...` output is laid over / in that mount namespace only (a
# read-only overlay), so the unit, binaries, man pages and example configuration are
# at their installed paths there and nowhere else. systemd loads only a few units of
# its own (journald, empty boot targets) plus the unit directory of the installation.
#
# Checks: the installed files; `systemd-analyze verify` clean and `security` at most
# MEDIUM; `systemctl start` (Type=notify) with only CAP_NET_ADMIN CAP_NET_RAW; STATUS=
# with live figures in `systemctl status`; WATCHDOG=1 pings; the start-up line in the
# journal; an echo through the gateway; `systemctl reload` (journal shows it, the
# association and the main PID stay); a bad file reloads as a warning that
# `journalctl -p warning` shows and info lines do not; `systemctl stop` removes the
# nftables table.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

e2e_init
need_usrsctp
need_cmd unshare nsenter make systemctl journalctl systemd-analyze findmnt
need_gw
# shellcheck source=sd.sh
. "$(dirname "$0")/sd.sh"
sd_need

# ---- make install into a staging directory -------------------------------------------
mkvar()
{
	make -s --no-print-directory -C "$E2E_BUILDDIR" -f Makefile -f - sgw-print-var V="$1" <<'EOF'
sgw-print-var:
	@echo '$($(V))'
EOF
}
# Not under $E2E_TMP: libtool's install cannot take a DESTDIR with spaces in it.
root=$(mktemp -d /tmp/sctpgw-systemd-root.XXXXXX) || e2e_fail "mktemp failed"
SD_CLEAN=$root
make -C "$E2E_BUILDDIR" install DESTDIR="$root" >"$E2E_TMP/install.log" 2>&1 ||
	{ tail -n 20 "$E2E_TMP/install.log"; e2e_fail "make install DESTDIR=$root failed"; }
sbindir=$(mkvar sbindir)
sysconfdir=$(mkvar sysconfdir)
unitdir=$(mkvar systemdsystemunitdir)
mandir=$(mkvar mandir)
gwconf="$sysconfdir/sctp-udp-gw/sctp-udp-gw.conf"
for f in "$sbindir/sctp-udp-gw" "$sbindir/sctpgwctl" "$unitdir/$UNIT" "$gwconf" \
	"$mandir/man8/sctp-udp-gw.8" "$mandir/man8/sctpgwctl.8" "$mandir/man5/sctp-udp-gw.conf.5"; do
	[ -f "$root$f" ] || e2e_fail "make install did not install $f"
done
cmp -s "$root$gwconf" "$E2E_SRCDIR/conf/sctp-udp-gw.conf" ||
	e2e_fail "installed $gwconf is not the example configuration"
grep -qx "ExecStart=$sbindir/sctp-udp-gw -f" "$root$unitdir/$UNIT" ||
	e2e_fail "installed unit does not start $sbindir/sctp-udp-gw: $(grep ExecStart "$root$unitdir/$UNIT")"
tops=$(cd "$root" && echo *)
# A sanitizer build: LeakSanitizer stops the world with ptrace at exit, which the unit's
# system call filter forbids on purpose, so it would fail every stop. Leaks are checked
# by the tests that run the daemon outside systemd; here only the unit is changed.
dropin=""
if [ -n "$(mkvar SAN_CFLAGS)" ]; then
	dropin=$'[Service]\nEnvironment=ASAN_OPTIONS=detect_leaks=0'
	e2e_log "sanitizer build: drop-in $UNIT.d/sanitizer.conf sets ASAN_OPTIONS=detect_leaks=0"
fi
e2e_log "installed under $root: $(cd "$root" && find . -type f | sort | tr '\n' ' ')"

topo_up
# The test's configuration in place of the example (in the staging tree only).
gw_write_config "$root$gwconf" "internal 10.10.1.0/24" "encapsulate to any" "udp-port $ENCAPS_PORT"

# ---- PID 1 ---------------------------------------------------------------------------
# Runs as PID 1 of the new namespaces: private /run, /tmp, /var/tmp and /dev, read-only
# /, /sys and the installation overlay, a cgroup2 of its own; then systemd.
cat >"$E2E_TMP/boot.sh" <<'EOF'
#!/bin/bash
set -eu
art=$1 root=$2 unitdir=$3 tops=$4 dropin=$5
mount --make-rprivate /
mount -t proc proc /proc
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
mkdir -p /run/sgw/art /run/sgw/units /run/sgw/none /run/systemd/system /run/systemd/journald.conf.d
mount --bind "$art" /run/sgw/art
for d in $tops; do
	mount -t overlay overlay -o "lowerdir=$root/$d:/$d" "/$d"
done
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /var/tmp
mkdir -p "$art"
mount --bind /run/sgw/art "$art"
# Device nodes of our own: nothing systemd does (e.g. the /dev/log symlink) reaches the
# host's /dev; the console is a file.
mount -t tmpfs -o mode=0755,nosuid tmpfs /dev
mknod -m 666 /dev/null c 1 3
mknod -m 666 /dev/zero c 1 5
mknod -m 666 /dev/full c 1 7
mknod -m 666 /dev/random c 1 8
mknod -m 666 /dev/urandom c 1 9
mknod -m 666 /dev/tty c 5 0
mkdir /dev/pts /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts /dev/pts
ln -s pts/ptmx /dev/ptmx
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
ln -s /proc/self/fd /dev/fd
touch /dev/console "$art/console.log"
mount --bind "$art/console.log" /dev/console
mount -o remount,ro /sys
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -o remount,bind,ro /
# Units: empty boot targets, journald, and the installation's unit directory.
u=/run/sgw/units
for t in sysinit basic sockets shutdown sgw-test; do
	printf '[Unit]\nDescription=%s (test)\n' "$t" >"$u/$t.target"
done
printf 'Wants=systemd-journald.service systemd-journald.socket systemd-journald-dev-log.socket\nAfter=systemd-journald.service\n' >>"$u/sgw-test.target"
printf '[Unit]\nDescription=System Slice\nDefaultDependencies=no\n' >"$u/system.slice"
for x in systemd-journald.service systemd-journald.socket systemd-journald-dev-log.socket \
	network.target network-online.target; do
	ln -s "/lib/systemd/system/$x" "$u/$x"
done
if [ -n "$dropin" ]; then
	mkdir "$u/sctp-udp-gw.service.d"
	printf '%s\n' "$dropin" >"$u/sctp-udp-gw.service.d/sanitizer.conf"
fi
printf '[Journal]\nStorage=volatile\nReadKMsg=no\nRateLimitBurst=0\n' \
	>/run/systemd/journald.conf.d/test.conf
export SYSTEMD_UNIT_PATH="$u:$unitdir" SYSTEMD_GENERATOR_PATH=/run/sgw/none \
	SYSTEMD_ENVIRONMENT_GENERATOR_PATH=/run/sgw/none container=sctp-udp-gw-test
exec "$SYSTEMD" --system --unit=sgw-test.target --show-status=no </dev/null
EOF
chmod +x "$E2E_TMP/boot.sh"

sd_boot "$E2E_TMP/boot.sh" "$E2E_TMP" "$root" "$unitdir" "$tops" "$dropin"
e2e_log "systemd $(sdx systemctl --version | head -n 1 | awk '{print $2}') is PID 1 (host pid $SD_PID) in $NS_GW: $SD_STATE"

# ---- the unit as installed -------------------------------------------------------------
sdx systemd-analyze verify "$unitdir/$UNIT" >"$E2E_TMP/verify.out" 2>&1 ||
	{ cat "$E2E_TMP/verify.out"; e2e_fail "systemd-analyze verify $unitdir/$UNIT failed"; }
[ ! -s "$E2E_TMP/verify.out" ] ||
	{ cat "$E2E_TMP/verify.out"; e2e_fail "systemd-analyze verify $unitdir/$UNIT is not clean"; }
sdx systemd-analyze security --offline=true --no-pager "$unitdir/$UNIT" >"$E2E_TMP/security.out" 2>&1
score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) \([A-Z]*\).*/\1 \2/p' "$E2E_TMP/security.out")
case ${score#* } in
SAFE|OK|MEDIUM) ;;
*) tail -n 5 "$E2E_TMP/security.out"; e2e_fail "systemd-analyze security: '$score', expected at most MEDIUM" ;;
esac
e2e_log "systemd-analyze verify clean; security exposure $score"
[ "$(sctl show -P FragmentPath "$UNIT")" = "$unitdir/$UNIT" ] ||
	e2e_fail "systemd loads $UNIT from '$(sctl show -P FragmentPath "$UNIT")', not $unitdir"

# ---- start ---------------------------------------------------------------------------
sctl start "$UNIT" >"$E2E_TMP/start.out" 2>&1 ||
	{ cat "$E2E_TMP/start.out"; sjournal -n 30; fail_sd "systemctl start $UNIT failed"; }
[ "$(sctl is-active "$UNIT")" = active ] || fail_sd "$UNIT not active after start"
gw_table_present || fail_sd "$UNIT active but its nftables table is missing"
main_pid=$(sctl show -P MainPID "$UNIT")
[ "$main_pid" -gt 1 ] || fail_sd "no main PID"
for kv in Type=notify NotifyAccess=main WatchdogUSec=30s; do
	v=$(sctl show -P "${kv%%=*}" "$UNIT")
	[ "$v" = "${kv#*=}" ] || fail_sd "${kv%%=*}=$v, expected ${kv#*=}"
done
# Only CAP_NET_ADMIN (12) and CAP_NET_RAW (13), no new privileges, a seccomp filter.
sdx cat "/proc/$main_pid/status" >"$E2E_TMP/proc-status" || fail_sd "cannot read /proc/$main_pid/status"
for kv in "CapEff:	0000000000003000" "CapBnd:	0000000000003000" "CapPrm:	0000000000003000" \
	"NoNewPrivs:	1" "Seccomp:	2"; do
	grep -qx "$kv" "$E2E_TMP/proc-status" ||
		fail_sd "daemon ${kv%%:*}: $(grep "^${kv%%:*}:" "$E2E_TMP/proc-status"), expected ${kv#*:	}"
done
e2e_log "$UNIT active, main PID $main_pid, capabilities CAP_NET_ADMIN CAP_NET_RAW only"

# shellcheck disable=SC2317 # called through e2e_until
journal_has()
{
	local j
	j=$(sjournal -o cat "${@:2}" 2>/dev/null) && grep -Eq "$1" <<<"$j"
}
e2e_until 5 journal_has "started: UDP port $ENCAPS_PORT" ||
	{ sjournal -n 20; fail_sd "journal lacks the start-up line 'started: UDP port $ENCAPS_PORT'"; }

# WATCHDOG=1 from the event loop: systemd's timestamp of the last ping moves.
wd1=$(sctl show -P WatchdogTimestampMonotonic "$UNIT")
# shellcheck disable=SC2317 # called through e2e_until
wd_moved() { [ "$(sctl show -P WatchdogTimestampMonotonic "$UNIT")" != "$wd1" ]; }
e2e_until 5 wd_moved || fail_sd "no WATCHDOG=1 within 5 s (WatchdogTimestampMonotonic stays $wd1)"

# ---- an echo through the gateway systemd runs -------------------------------------------
echo_server_start "$NS_PEER" "$ENCAPS_PORT" "$ENCAPS_PORT"
echo_client_start c1 "$NS_IN" "$PEER_ADDR" 7 0 0 0
echo_send 10
echo_wait 10 20 || fail_sd "native client through the systemd-run gateway: $ECHO_GOT of 10 echoes"
sdx "$sbindir/sctpgwctl" -j show associations >"$E2E_TMP/assoc.json" 2>&1 ||
	fail_sd "installed sctpgwctl on the default socket: $(cat "$E2E_TMP/assoc.json")"
json_check "$E2E_TMP/assoc.json" "
a = d.get('associations', [])
check(len(a) == 1 and a[0].get('state') == 'established', 'associations %r' % a)
if a: open('$E2E_TMP/aid', 'w').write(str(a[0]['id']))
" || fail_sd "sctpgwctl does not show the association"
aid=$(cat "$E2E_TMP/aid")

# STATUS= with live figures: systemctl status shows the association and the packets.
# shellcheck disable=SC2317 # called through e2e_until
status_live()
{
	sctl status "$UNIT" >"$E2E_TMP/status.out" 2>&1
	grep -Eq '^ +Status: "1 associations; out [1-9][0-9]* pkts, in [1-9][0-9]* pkts; queue via ' \
		"$E2E_TMP/status.out"
}
e2e_until 5 status_live || { cat "$E2E_TMP/status.out"; e2e_fail "systemctl status shows no live Status: line"; }
grep -q 'Active: active (running)' "$E2E_TMP/status.out" || fail_sd "status is not active (running)"
e2e_log "status: $(grep -E '^ +Status:' "$E2E_TMP/status.out" | sed 's/^ *//')"

# ---- reload ----------------------------------------------------------------------------
sctl reload "$UNIT" >"$E2E_TMP/reload.out" 2>&1 || { cat "$E2E_TMP/reload.out"; fail_sd "systemctl reload failed"; }
e2e_until 5 journal_has "configuration reloaded from $gwconf; 1 associations kept" ||
	{ sjournal -n 20; fail_sd "journal shows no reload after systemctl reload"; }
[ "$(sctl is-active "$UNIT")" = active ] || fail_sd "not active after reload"
[ "$(sctl show -P MainPID "$UNIT")" = "$main_pid" ] || fail_sd "main PID changed on reload"
echo_send 10
echo_wait 20 20 || fail_sd "after systemctl reload: $ECHO_GOT of 20 echoes"
sdx "$sbindir/sctpgwctl" -j show associations >"$E2E_TMP/assoc2.json" 2>&1
json_check "$E2E_TMP/assoc2.json" "
check([a['id'] for a in d.get('associations', [])] == [$aid], 'associations after reload %r' % d)
" || fail_sd "association $aid did not survive systemctl reload"

# A bad file: a warning in the journal, at warning priority; info lines are not.
gw_write_config "$root$gwconf" "internal 10.10.1.0/24" "encapsulate to any" "tunnel to 192.0.2.1"
sctl reload "$UNIT" || fail_sd "systemctl reload (bad file) failed"
e2e_until 5 journal_has "reload failed, keeping the running configuration: $gwconf:4: unknown statement" -p warning ||
	{ sjournal -n 20; fail_sd "journalctl -p warning lacks the failed reload as file:line"; }
sjournal -o cat -p warning >"$E2E_TMP/warnings.out"
if grep -E "started: UDP port|configuration reloaded" "$E2E_TMP/warnings.out"; then
	fail_sd "journalctl -p warning shows info lines: log priorities are wrong"
fi
sjournal -o json >"$E2E_TMP/journal.json"
python3 - "$E2E_TMP/journal.json" <<'EOF' || fail_sd "journal fields of the daemon's lines are wrong"
import json, sys
want = {"started: UDP port": "6", "configuration reloaded from": "6", "reload failed": "4"}
seen, bad = {}, []
for line in open(sys.argv[1]):
    e = json.loads(line)
    m = e.get("MESSAGE", "")
    if not isinstance(m, str):
        continue
    for k, prio in want.items():
        if k in m:
            seen[k] = True
            if e.get("PRIORITY") != prio:
                bad.append("%r has PRIORITY %r, expected %s" % (m, e.get("PRIORITY"), prio))
            if e.get("SYSLOG_IDENTIFIER") != "sctp-udp-gw":
                bad.append("%r has SYSLOG_IDENTIFIER %r" % (m, e.get("SYSLOG_IDENTIFIER")))
            if m.startswith("sctp-udp-gw: "):
                bad.append("%r came through stderr, not sd_journal_send" % m)
for k in want:
    if k not in seen:
        bad.append("no journal entry with %r" % k)
for b in bad:
    print("  " + b)
sys.exit(1 if bad else 0)
EOF
gw_write_config "$root$gwconf" "internal 10.10.1.0/24" "encapsulate to any" "udp-port $ENCAPS_PORT"
echo_send 5
echo_wait 25 20 || fail_sd "after the failed reload: $ECHO_GOT of 25 echoes"
echo_close 5 || e2e_log "client did not exit after EOF; killed"

# ---- stop ------------------------------------------------------------------------------
sctl stop "$UNIT" >"$E2E_TMP/stop.out" 2>&1 || { cat "$E2E_TMP/stop.out"; fail_sd "systemctl stop failed"; }
state=$(sctl is-active "$UNIT")
[ "$state" = inactive ] || fail_sd "after stop: $state, expected inactive"
[ "$(sctl show -P Result "$UNIT")" = success ] || fail_sd "Result=$(sctl show -P Result "$UNIT") after stop"
gw_table_absent || e2e_fail "nftables table still there after systemctl stop"
e2e_until 5 journal_has "stopped: [0-9]+ packets out" || fail_sd "journal lacks the daemon's 'stopped:' line"

e2e_pass "systemd $SD_STATE as PID 1: make install'd unit verified (security $score), start (notify, 2 capabilities), STATUS and WATCHDOG, 25/25 echoes across systemctl reload, -p warning shows only warnings, stop removed the table"
