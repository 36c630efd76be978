# shellcheck shell=bash
# sd.sh - a real systemd as PID 1 in private PID, mount and cgroup namespaces, for the
# tests that need one (test_systemd, test_deb). Source after lib.sh and e2e_init:
#
#   sd_need                   skip (77) when the kernel lacks what this needs
#   SD_UNSHARE SD_PID SD_CGROUP   set by the test as it starts systemd; SD_CLEAN: a
#                             directory to remove at the end
#   sd_boot BOOT_SCRIPT ARGS...   start systemd, wait until it runs
#   sdx CMD... / sctl ARGS... / sjournal ARGS... / fail_sd MESSAGE
#
# The EXIT trap (sd_cleanup) runs before lib.sh's: PID 1 takes its whole PID namespace
# (and any tmpfs of its own) with it; then the cgroup tree it made, deepest first.

SYSTEMD=${SYSTEMD:-/lib/systemd/systemd}
UNIT=sctp-udp-gw.service
SD_UNSHARE=""
SD_PID=""
SD_CGROUP=""
SD_CLEAN=""

sd_need()
{
	[ -x "$SYSTEMD" ] || e2e_fail "no systemd at $SYSTEMD (set SYSTEMD=)"
	# Kernel features this needs beyond the topology: skip (77) only for those.
	unshare --fork --pid --mount --cgroup true 2>/dev/null ||
		e2e_skip "kernel cannot create PID, mount and cgroup namespaces"
	grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null ||
		e2e_skip "kernel without overlayfs"
	cg2=$(findmnt -n -t cgroup2 -o TARGET | head -n 1)
	[ -n "$cg2" ] || e2e_skip "no cgroup2 hierarchy mounted (systemd needs one)"
}

# shellcheck disable=SC2317 # called from the EXIT trap
sd_cleanup()
{
	local rc=$?
	if [ -n "$SD_PID" ] && kill -0 "$SD_PID" 2>/dev/null; then
		if [ "$rc" != 0 ] && [ "$rc" != 77 ]; then
			echo "---- journal in the test's systemd (last 80 lines) ----"
			sdx journalctl --no-pager -n 80 2>&1
		fi
		kill -KILL "$SD_PID" 2>/dev/null
	fi
	[ -z "$SD_UNSHARE" ] || e2e_wait_pid "$SD_UNSHARE" 5
	if [ -n "$SD_CGROUP" ] && [ -d "$SD_CGROUP" ]; then
		[ -e "$SD_CGROUP/cgroup.kill" ] && echo 1 >"$SD_CGROUP/cgroup.kill" 2>/dev/null
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			find "$SD_CGROUP" -depth -type d -exec rmdir {} + 2>/dev/null
			[ -d "$SD_CGROUP" ] || break
			sleep 0.2
		done
		[ ! -d "$SD_CGROUP" ] || echo "cannot remove cgroup $SD_CGROUP"
	fi
	[ -z "$SD_CLEAN" ] || rm -rf "$SD_CLEAN"
	(exit "$rc")
	e2e_cleanup
}
trap sd_cleanup EXIT

# sd_boot BOOT_SCRIPT ARGS...: run it (it mounts what it needs and execs systemd) in a
# new cgroup under the test's own and in private PID, mount and cgroup namespaces inside
# NS_GW; wait for PID 1 and for the system to be running (SD_STATE).
sd_boot()
{
	SD_CGROUP="$cg2$(sed -n 's/^0:://p' /proc/self/cgroup)"
	SD_CGROUP="${SD_CGROUP%/}/sctpgw-$E2E_NAME-$$"
	mkdir "$SD_CGROUP" || e2e_fail "cannot create cgroup $SD_CGROUP"
	# Into the new cgroup first: the cgroup namespace is rooted where unshare runs.
	(echo "$BASHPID" >"$SD_CGROUP/cgroup.procs" &&
		SYSTEMD=$SYSTEMD exec ip netns exec "$NS_GW" unshare --fork --pid --mount --cgroup \
			--propagation private -- "$@") \
		>"$E2E_TMP/systemd.out" 2>&1 </dev/null &
	SD_UNSHARE=$!
	E2E_PIDS+=("$SD_UNSHARE")
	e2e_until 10 sd_pid1_up || {
		cat "$E2E_TMP/systemd.out"
		e2e_fail "systemd did not come up as PID 1 in its namespaces"
	}
	e2e_until 20 sd_booted || {
		cat "$E2E_TMP/systemd.out"
		sctl list-units --failed
		e2e_fail "systemd not running within 20 s (state '$SD_STATE')"
	}
}

# shellcheck disable=SC2317 # called through e2e_until
sd_pid1_up()
{
	SD_PID=$(awk '{print $1}' "/proc/$SD_UNSHARE/task/$SD_UNSHARE/children" 2>/dev/null)
	[ -n "$SD_PID" ] && [ "$(cat "/proc/$SD_PID/comm" 2>/dev/null)" = systemd ]
}

# shellcheck disable=SC2317 # called through e2e_until
sd_booted()
{
	SD_STATE=$(sdx systemctl is-system-running 2>/dev/null)
	[ "$SD_STATE" = running ] || [ "$SD_STATE" = degraded ]
}

# sdx CMD...: a command inside the test's systemd (its mount, PID and cgroup namespaces).
sdx() { timeout 20 nsenter -t "$SD_PID" -m -u -i -n -p -C "$@"; }
sctl() { sdx systemctl --no-pager "$@"; }
sjournal() { sdx journalctl --no-pager -u "$UNIT" "$@"; }

fail_sd()
{
	sctl status "$UNIT" 2>&1 | head -n 30
	e2e_fail "$*"
}
