#!/usr/bin/env bash
# The Debian package: built with dpkg-buildpackage from a copy of the tree (git's files,
# so the tree's own build is not touched), checked by lintian, then installed with dpkg
# under a real systemd as PID 1 in private PID, mount and cgroup namespaces inside the
# GW network namespace, as in test_systemd.sh. There /etc, /usr and /var are writable
# overlays on a tmpfs of the namespace: dpkg and the maintainer scripts run for real and
# nothing reaches the host's files or its dpkg database.
#
# Checks: lintian reports no error; the package holds the binaries, unit, man pages and
# the example configuration, which is a conffile; installing does not start the unit (it
# is not enabled: see debian/README.source); `systemctl start` with the example
# configuration makes it active and `sctpgwctl show rules` answers; reinstalling the same
# .deb with --force-confold after editing the configuration keeps the edit and restarts
# the running daemon, which reads it; `dpkg -r` stops the daemon (its nftables table is
# removed) and keeps the conffile; `dpkg -P` removes it.
#
# The build skips `make check` (DEB_BUILD_OPTIONS=nocheck): the suite runs it itself,
# and debian/rules runs it in every other build. About 20 s on 2 cores (the build 12 s).
# e2e-lane: own-binaries (the package it builds; skipped in the sanitizer lanes)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

PKG=sctp-udp-gw
GWCONF=/etc/sctp-udp-gw/sctp-udp-gw.conf

e2e_init
need_cmd git dpkg-buildpackage dh lintian unshare nsenter systemctl findmnt
git -C "$E2E_SRCDIR" rev-parse --git-dir >/dev/null 2>&1 ||
	e2e_skip "$E2E_SRCDIR is not a git checkout (the package is built from git's files)"
# shellcheck source=sd.sh
. "$(dirname "$0")/sd.sh"
sd_need

# dpkg inside the test's systemd, with more time than sdx.
sdpkg() { timeout 120 nsenter -t "$SD_PID" -m -u -i -n -p -C env DEBIAN_FRONTEND=noninteractive dpkg "$@"; }

# ---- build -------------------------------------------------------------------------------
# Tracked and untracked (not ignored) files as they are in the working tree. Not under
# $E2E_TMP: libtool's install cannot take a path with spaces in it.
BUILD_ROOT=$(mktemp -d /tmp/sctpgw-deb.XXXXXX) || e2e_fail "mktemp failed"
SD_CLEAN=$BUILD_ROOT
src=$BUILD_ROOT/$PKG
mkdir "$src"
(cd "$E2E_SRCDIR" && git ls-files -z --cached --others --exclude-standard |
	while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
	xargs -0 cp -P --parents -t "$src") || e2e_fail "cannot copy the tree's files to $src"
build_start=$SECONDS
(cd "$src" && DEB_BUILD_OPTIONS="nocheck parallel=2" dpkg-buildpackage -b -us -uc) \
	>"$E2E_TMP/build.log" 2>&1 ||
	{ tail -n 30 "$E2E_TMP/build.log"; e2e_fail "dpkg-buildpackage -b -us -uc failed (see $E2E_TMP/build.log)"; }
build_secs=$((SECONDS - build_start))
changes=$(echo "$BUILD_ROOT"/"${PKG}"_*.changes)
deb=$(echo "$BUILD_ROOT"/"${PKG}"_*_*.deb)
if [ ! -f "$changes" ] || [ ! -f "$deb" ]; then
	e2e_fail "no .changes or .deb in $BUILD_ROOT: $(ls "$BUILD_ROOT")"
fi
e2e_log "built $(basename "$deb") in $build_secs s"

# lintian: any error fails; what else it says is logged (debian/README.source says why).
lintian --fail-on error -I -E --pedantic --tag-display-limit 0 "$changes" \
	>"$E2E_TMP/lintian.out" 2>&1
lrc=$?
grep -v '^running with root privileges' "$E2E_TMP/lintian.out" >"$E2E_TMP/lintian.tags"
if [ "$lrc" != 0 ] || grep -q '^E: ' "$E2E_TMP/lintian.tags"; then
	cat "$E2E_TMP/lintian.tags"
	e2e_fail "lintian reports errors (exit $lrc)"
fi
e2e_log "lintian: no errors; $(grep -c '^W: ' "$E2E_TMP/lintian.tags") warnings, $(grep -c '^[IP]: ' "$E2E_TMP/lintian.tags") info/pedantic: $(sed 's/^\([A-Z]\): [^:]*: \([^ ]*\).*/\1 \2/' "$E2E_TMP/lintian.tags" | tr '\n' ',' | sed 's/,$//')"

dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\.||' >"$E2E_TMP/contents"
for f in /usr/sbin/sctp-udp-gw /usr/sbin/sctpgwctl /lib/systemd/system/$UNIT "$GWCONF" \
	/usr/share/man/man8/sctp-udp-gw.8.gz /usr/share/man/man8/sctpgwctl.8.gz \
	/usr/share/man/man5/sctp-udp-gw.conf.5.gz /usr/share/doc/$PKG/copyright; do
	grep -qx "$f" "$E2E_TMP/contents" || e2e_fail "the package lacks $f"
done
dpkg-deb --ctrl-tarfile "$deb" | tar -xOf - ./conffiles >"$E2E_TMP/conffiles" 2>/dev/null
grep -qx "$GWCONF" "$E2E_TMP/conffiles" || e2e_fail "$GWCONF is not in the package's conffiles"
# Inside the namespace /tmp is its own: the .deb goes where the artifacts are bound.
cp "$deb" "$E2E_TMP/" || e2e_fail "cannot copy the .deb to $E2E_TMP"
deb=$E2E_TMP/$(basename "$deb")

topo_up

# ---- PID 1 -------------------------------------------------------------------------------
# As in test_systemd.sh, but /etc, /usr and /var are writable overlays whose upper layers
# live on a tmpfs of this mount namespace, and the package's unit goes where Debian puts
# units, /lib/systemd/system, which systemd searches.
cat >"$E2E_TMP/boot.sh" <<'EOF'
#!/bin/bash
set -eu
art=$1
mount --make-rprivate /
mount -t proc proc /proc
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
mkdir -p /run/sgw/art /run/sgw/units /run/sgw/none /run/sgw/ov /run/systemd/system \
	/run/systemd/journald.conf.d
mount --bind "$art" /run/sgw/art
mount -t tmpfs -o mode=0755 tmpfs /run/sgw/ov
for d in etc usr var; do
	mkdir "/run/sgw/ov/$d" "/run/sgw/ov/$d.work"
	mount -t overlay overlay -o "lowerdir=/$d,upperdir=/run/sgw/ov/$d,workdir=/run/sgw/ov/$d.work" "/$d"
done
# The host may be a container image whose policy-rc.d forbids starting services; this
# system is not, and the maintainer scripts' start and stop are under test.
rm -f /usr/sbin/policy-rc.d
# The system unit directory holds journald's units and the network targets, nothing else
# of the host's (its sysinit.target.wants would mount, load modules, set sysctls), and
# whatever dpkg puts there.
mkdir /run/sgw/sysunits
for x in systemd-journald.service systemd-journald.socket systemd-journald-dev-log.socket \
	network.target network-online.target; do
	cp "/lib/systemd/system/$x" /run/sgw/sysunits/
done
mount --bind /run/sgw/sysunits /lib/systemd/system
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /var/tmp
mkdir -p "$art"
mount --bind /run/sgw/art "$art"
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
u=/run/sgw/units
for t in sysinit basic sockets shutdown sgw-test; do
	printf '[Unit]\nDescription=%s (test)\n' "$t" >"$u/$t.target"
done
printf 'Wants=systemd-journald.service systemd-journald.socket systemd-journald-dev-log.socket\nAfter=systemd-journald.service\n' >>"$u/sgw-test.target"
printf '[Unit]\nDescription=System Slice\nDefaultDependencies=no\n' >"$u/system.slice"
printf '[Journal]\nStorage=volatile\nReadKMsg=no\nRateLimitBurst=0\n' \
	>/run/systemd/journald.conf.d/test.conf
export SYSTEMD_UNIT_PATH="$u:/lib/systemd/system" SYSTEMD_GENERATOR_PATH=/run/sgw/none \
	SYSTEMD_ENVIRONMENT_GENERATOR_PATH=/run/sgw/none container=sctp-udp-gw-test
exec "$SYSTEMD" --system --unit=sgw-test.target --show-status=no </dev/null
EOF
chmod +x "$E2E_TMP/boot.sh"

sd_boot "$E2E_TMP/boot.sh" "$E2E_TMP"
# Installed (or its conffile left) on the host: purged here first, in the overlays only,
# so this install is a fresh one.
if sdx dpkg-query -W "$PKG" >/dev/null 2>&1; then
	sdpkg -P "$PKG" >"$E2E_TMP/purge0.log" 2>&1 ||
		{ cat "$E2E_TMP/purge0.log"; e2e_fail "cannot purge the host's $PKG inside the namespace"; }
	e2e_log "the host has $PKG installed: purged inside the namespace first"
fi

# ---- install ------------------------------------------------------------------------------
sdpkg -i "$deb" >"$E2E_TMP/install1.log" 2>&1 ||
	{ cat "$E2E_TMP/install1.log"; e2e_fail "dpkg -i $(basename "$deb") failed"; }
cmp -s <(sdx cat "$GWCONF") "$E2E_SRCDIR/conf/sctp-udp-gw.conf" ||
	e2e_fail "installed $GWCONF is not the example configuration"
# shellcheck disable=SC2016 # dpkg-query's field, not the shell's
sdx dpkg-query -W -f='${Conffiles}\n' "$PKG" >"$E2E_TMP/conffiles.db"
grep -Eq "^ $GWCONF [0-9a-f]{32}\$" "$E2E_TMP/conffiles.db" ||
	e2e_fail "dpkg does not list $GWCONF as a conffile: $(cat "$E2E_TMP/conffiles.db")"
[ "$(sctl show -P FragmentPath "$UNIT")" = /lib/systemd/system/$UNIT ] ||
	e2e_fail "systemd loads $UNIT from '$(sctl show -P FragmentPath "$UNIT")'"
state=$(sctl is-active "$UNIT")
[ "$state" = inactive ] || fail_sd "installing started $UNIT ($state); it is meant to wait for 'systemctl enable --now'"
[ "$(sctl is-enabled "$UNIT")" = disabled ] || fail_sd "$UNIT is $(sctl is-enabled "$UNIT") after install, expected disabled"
e2e_log "dpkg -i: conffile $GWCONF, unit installed, disabled and not started"

# ---- start with the example configuration ----------------------------------------------------
sctl start "$UNIT" >"$E2E_TMP/start.out" 2>&1 ||
	{ cat "$E2E_TMP/start.out"; fail_sd "systemctl start $UNIT failed"; }
[ "$(sctl is-active "$UNIT")" = active ] || fail_sd "$UNIT not active after start"
gw_table_present || fail_sd "$UNIT active but its nftables table is missing"
pid1=$(sctl show -P MainPID "$UNIT")
sdx sctpgwctl show rules >"$E2E_TMP/rules.out" 2>&1 ||
	{ cat "$E2E_TMP/rules.out"; fail_sd "sctpgwctl show rules does not answer"; }
if ! grep -Eq '^internal: +10\.10\.1\.0/24$' "$E2E_TMP/rules.out" ||
	! grep -Eq '^[0-9]+ +forward +port 7 +to 10\.10\.1\.2 port 7' "$E2E_TMP/rules.out"; then
	cat "$E2E_TMP/rules.out"
	fail_sd "sctpgwctl show rules does not show the example configuration"
fi
e2e_log "systemctl start: active, main PID $pid1; sctpgwctl show rules answers with the example rules"

# ---- upgrade: the same .deb again after editing the conffile --------------------------------
# max-associations takes effect only at a start: the restarted daemon shows it.
sdx sh -c "printf '# edited by test_deb\nmax-associations 1234\n' >>$GWCONF" ||
	e2e_fail "cannot edit $GWCONF"
sdx cat "$GWCONF" >"$E2E_TMP/edited.conf"
sdpkg -i --force-confold "$deb" >"$E2E_TMP/install2.log" 2>&1 ||
	{ cat "$E2E_TMP/install2.log"; e2e_fail "dpkg -i --force-confold (upgrade) failed"; }
cmp -s <(sdx cat "$GWCONF") "$E2E_TMP/edited.conf" ||
	e2e_fail "the upgrade did not keep the edited $GWCONF"
[ -z "$(sdx sh -c 'ls /etc/sctp-udp-gw/*.dpkg-* 2>/dev/null')" ] ||
	e2e_fail "the upgrade left $(sdx sh -c 'ls /etc/sctp-udp-gw/*.dpkg-*')"
[ "$(sctl is-active "$UNIT")" = active ] || fail_sd "$UNIT not active after the upgrade"
pid2=$(sctl show -P MainPID "$UNIT")
[ "$pid2" != "$pid1" ] || fail_sd "the upgrade did not restart the running daemon (main PID $pid1)"
sdx sctpgwctl show config >"$E2E_TMP/config.out" 2>&1 ||
	{ cat "$E2E_TMP/config.out"; fail_sd "sctpgwctl show config failed after the upgrade"; }
grep -qx 'max-associations 1234' "$E2E_TMP/config.out" ||
	{ cat "$E2E_TMP/config.out"; fail_sd "the restarted daemon does not run the edited configuration"; }
e2e_log "upgrade with --force-confold: edited conffile kept, daemon restarted (PID $pid1 -> $pid2) and runs it"

# ---- remove, purge ---------------------------------------------------------------------------
sdpkg -r "$PKG" >"$E2E_TMP/remove.log" 2>&1 ||
	{ cat "$E2E_TMP/remove.log"; e2e_fail "dpkg -r $PKG failed"; }
state=$(sctl is-active "$UNIT")
[ "$state" = inactive ] || [ "$state" = unknown ] || fail_sd "after dpkg -r: $state"
gw_table_absent || e2e_fail "nftables table still there after dpkg -r"
sdx test -f "$GWCONF" || e2e_fail "dpkg -r removed the conffile"
sdpkg -P "$PKG" >"$E2E_TMP/purge.log" 2>&1 ||
	{ cat "$E2E_TMP/purge.log"; e2e_fail "dpkg -P $PKG failed"; }
! sdx test -e "$GWCONF" || e2e_fail "dpkg -P left $GWCONF"

e2e_pass "dpkg-buildpackage ($build_secs s), lintian without errors; dpkg -i under systemd: conffile, not started until asked; systemctl start with the example configuration; upgrade kept the edited conffile and restarted the daemon; dpkg -r stopped it, -P purged"
