#!/usr/bin/env bash
# test.sh - the whole suite, one command: dependencies, build, `make check` (unit and
# configuration tests), the format check (scripts/check-format.sh), then every
# tests/e2e/test_*.sh in turn, each bounded by a timeout. Ends with "N passed, N failed[,
# N skipped]"; exit status 1 on any failure.
#
#   scripts/test.sh [--e2e-only] [--no-deps] [--quick] [--builddir DIR] [PATTERN...]
#
#   --e2e-only    skip deps, builds, make check and the extra lanes (use an existing build)
#   --no-deps     do not run scripts/deps.sh
#   --quick       skip the fuzzing and the sanitizer (ASan + UBSan, TSan) lanes
#   --builddir    where the build is (default: the source tree)
#   PATTERN       run only e2e tests whose name contains one of these
#
# After the plain build's tests, the full run fuzzes every parser for a bounded time
# (fuzz/run.sh) and builds a second copy with ASan + UBSan whose unit and end-to-end
# tests run again: a sanitizer report or a leak fails them. A third copy built with
# TSan runs the tests that drive worker threads and the control thread together.
#
# Environment: E2E_TIMEOUT (seconds per e2e test, default 120), E2E_VALGRIND=1 (daemon
# under valgrind), TEST_LOGDIR (where logs go; default a new /tmp/sctpgw-test.* dir).
set -uo pipefail

srcdir=$(cd "$(dirname "$0")/.." && pwd)
builddir=$srcdir
do_deps=1
do_build=1
do_extra=1
patterns=()
while [ $# -gt 0 ]; do
	case $1 in
	--e2e-only) do_deps=0; do_build=0; do_extra=0 ;;
	--no-deps) do_deps=0 ;;
	--quick) do_extra=0 ;;
	--builddir) builddir=$2; shift ;;
	-h|--help) sed -n '2,21p' "$0"; exit 0 ;;
	-*) echo "test: unknown option $1" >&2; exit 2 ;;
	*) patterns+=("$1") ;;
	esac
	shift
done

timeout_s=${E2E_TIMEOUT:-120}
logdir=${TEST_LOGDIR:-$(mktemp -d /tmp/sctpgw-test.XXXXXX)}
mkdir -p "$logdir"
# Namespaces of this run share a prefix, so anything a killed test left is found.
ns_prefix="sgt$$"

passed=0
failed=0
skipped=0
results=()

record()
{
	local res=$1 name=$2 note=$3
	case $res in
	PASS) passed=$((passed + 1)) ;;
	SKIP) skipped=$((skipped + 1)) ;;
	*) failed=$((failed + 1)) ;;
	esac
	results+=("$(printf '%-4s %-28s %s' "$res" "$name" "$note")")
	printf '%-4s %-28s %s\n' "$res" "$name" "$note"
}

# Delete namespaces (and kill what runs in them) left by a test of this run.
sweep_namespaces()
{
	local ns pids n=0
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$ns_prefix-"); do
		pids=$(ip netns pids "$ns" 2>/dev/null)
		# shellcheck disable=SC2086
		[ -z "$pids" ] || kill -KILL $pids 2>/dev/null
		ip netns del "$ns" 2>/dev/null
		n=$((n + 1))
	done
	echo "$n"
}

echo "test: logs in $logdir"

if [ "$do_deps" = 1 ]; then
	if "$srcdir/scripts/deps.sh" >"$logdir/deps.log" 2>&1; then
		tail -n 1 "$logdir/deps.log"
	else
		tail -n 20 "$logdir/deps.log"
		echo "test: installing dependencies failed (see $logdir/deps.log)"
		exit 1
	fi
fi

if [ "$do_build" = 1 ]; then
	if "$srcdir/scripts/build.sh" --builddir "$builddir" >"$logdir/build.log" 2>&1; then
		record PASS build ""
		if make -C "$builddir" check >"$logdir/make-check.log" 2>&1; then
			record PASS "make check" "$(grep -E '^# (PASS|TOTAL)' "$logdir/make-check.log" | tr '\n' ' ')"
		else
			tail -n 30 "$logdir/make-check.log"
			note="see $logdir/make-check.log"
			if [ -f "$builddir/test-suite.log" ]; then
				cp "$builddir/test-suite.log" "$logdir/"
				note="$note and test-suite.log"
			fi
			record FAIL "make check" "$note"
		fi
	else
		tail -n 30 "$logdir/build.log"
		record FAIL build "see $logdir/build.log"
	fi
fi

# Every selected e2e test against the binaries in $1; $2 labels the lane.
run_e2e()
{
	local bdir=$1 lane=$2 t name log start rc secs left line note res
	for t in "$srcdir"/tests/e2e/test_*.sh; do
		name=$(basename "$t" .sh)
		if [ "${#patterns[@]}" -gt 0 ]; then
			hit=0
			for p in "${patterns[@]}"; do
				case $name in *"$p"*) hit=1 ;; esac
			done
			[ "$hit" = 1 ] || continue
		fi
		# A test that builds and runs binaries of its own (test_deb) says so; it
		# proves nothing more in a sanitizer lane.
		if [ -n "$lane" ] && grep -q '^# e2e-lane: own-binaries' "$t"; then
			continue
		fi
		log="$logdir/$name$lane.log"
		start=$SECONDS
		SCTPGW_BUILDDIR=$bdir E2E_LOGDIR="$logdir/artifacts$lane" E2E_NS_PREFIX=$ns_prefix \
			timeout -k 10 "$timeout_s" "$t" >"$log" 2>&1
		rc=$?
		secs=$((SECONDS - start))
		left=$(sweep_namespaces)
		line=$(grep -E "^(PASS|FAIL|SKIP) $name:" "$log" | tail -n 1)
		note=${line#*: }
		case $rc in
		0) res=PASS ;;
		77) res=SKIP ;;
		124|137) res=FAIL; note="timed out after ${timeout_s} s" ;;
		*) res=FAIL ;;
		esac
		if [ "$left" != 0 ]; then
			echo "test: $name left $left namespace(s) behind; removed" >>"$log"
			[ "$res" = FAIL ] || { res=FAIL; note="left $left namespace(s) behind"; }
		fi
		[ -n "$note" ] || note="exit status $rc"
		if [ "$res" = FAIL ]; then
			echo "---- $name$lane (last 60 lines of $log) ----"
			tail -n 60 "$log"
			echo "----"
		fi
		record "$res" "$name$lane" "($secs s) $note"
	done
}

if [ "$do_build" = 1 ]; then
	"$srcdir/scripts/check-format.sh" >"$logdir/format.log" 2>&1
	case $? in
	0) record PASS format "" ;;
	77) record SKIP format "clang-format 14 not installed" ;;
	*) record FAIL format "$(tail -n 1 "$logdir/format.log"); see $logdir/format.log" ;;
	esac
fi

# The kernel test VMs' kernel and initramfs (tests/e2e/vm/build.sh): fetched and built
# once into a cache before the tests, so no test's time includes a download.
vm_wanted=0
for t in "$srcdir"/tests/e2e/test_kernel_*.sh; do
	[ -e "$t" ] || continue
	[ "${#patterns[@]}" -gt 0 ] || vm_wanted=1
	for p in "${patterns[@]}"; do
		case $(basename "$t" .sh) in *"$p"*) vm_wanted=1 ;; esac
	done
done
if [ "$vm_wanted" = 1 ]; then
	start=$SECONDS
	if "$srcdir/tests/e2e/vm/build.sh" >"$logdir/vm-build.log" 2>&1; then
		record PASS "kernel VM image" "($((SECONDS - start)) s) $(grep -o 'ready: .*' "$logdir/vm-build.log")"
	else
		tail -n 20 "$logdir/vm-build.log"
		record FAIL "kernel VM image" "see $logdir/vm-build.log"
	fi
fi

run_e2e "$builddir" ""

# lane_build LANE DIR CONFIGURE-ARGS... [-- MAKE-TARGETS...]: a copy of the sources in
# DIR (the main tree may be configured in place), configured and built for a sanitizer
# lane; records "build [LANE]", the log is LANE-build.log.
lane_build()
{
	local lane=$1 dir=$2 cfg=()
	local log="$logdir/$lane-build.log"
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		cfg+=("$1")
		shift
	done
	[ $# -eq 0 ] || shift
	mkdir -p "$dir"
	if (cd "$srcdir" && git ls-files -z --cached --others --exclude-standard |
		xargs -0 cp --parents -t "$dir") 2>"$log" &&
		(cd "$dir" && ./autogen.sh && ./configure "${cfg[@]}" && make -j2 "$@") >>"$log" 2>&1; then
		record PASS "build [$lane]" ""
		return 0
	fi
	tail -n 30 "$log"
	record FAIL "build [$lane]" "see $log"
	return 1
}

if [ "$do_extra" = 1 ]; then
	if "$srcdir/fuzz/run.sh" "${FUZZ_SECONDS:-30}" >"$logdir/fuzz.log" 2>&1; then
		record PASS fuzz "$(grep -E 'Done [0-9]+ runs' "$logdir/fuzz.log" | tr '\n' ' ')"
	else
		tail -n 40 "$logdir/fuzz.log"
		record FAIL fuzz "see $logdir/fuzz.log"
	fi

	sandir="$logdir/asan"
	if lane_build asan "$sandir" --enable-sanitizers CFLAGS="-g -O1"; then
		if ASAN_OPTIONS=detect_leaks=1 make -C "$sandir" check >"$logdir/make-check-asan.log" 2>&1; then
			record PASS "make check [asan]" "$(grep -E '^# (PASS|TOTAL)' "$logdir/make-check-asan.log" | tr '\n' ' ')"
		else
			tail -n 30 "$logdir/make-check-asan.log"
			record FAIL "make check [asan]" "see $logdir/make-check-asan.log"
		fi
		ASAN_OPTIONS=detect_leaks=1 run_e2e "$sandir" " [asan]"
	fi

	# ThreadSanitizer on the tests that exercise the worker threads and the control
	# thread together (several workers, control requests, reloads, relay ingest).
	tsandir="$logdir/tsan"
	if lane_build tsan "$tsandir" CC=clang CFLAGS="-g -O1 -fsanitize=thread" \
		LDFLAGS="-fsanitize=thread" -- sctp-udp-gw sctpgwctl; then
		# The thread tests, or those of them the command line selected (other tests,
		# e.g. the memory bound of test_hostile_input, do not hold under TSan).
		saved=("${patterns[@]}")
		tsan_tests=()
		for t in workers ctl reload relay host_mode; do
			hit=$([ "${#saved[@]}" = 0 ] && echo 1 || echo 0)
			for p in "${saved[@]}"; do
				case test_$t in *"$p"*) hit=1 ;; esac
			done
			[ "$hit" = 0 ] || tsan_tests+=("test_$t")
		done
		if [ "${#tsan_tests[@]}" -gt 0 ]; then
			patterns=("${tsan_tests[@]}")
			TSAN_OPTIONS="halt_on_error=1 log_path=$logdir/tsan-report" run_e2e "$tsandir" " [tsan]"
		fi
		patterns=("${saved[@]}")
		if ls "$logdir"/tsan-report* >/dev/null 2>&1; then
			head -n 60 "$logdir"/tsan-report*
			record FAIL "tsan reports" "see $logdir/tsan-report*"
		else
			record PASS "tsan reports" "none"
		fi
	fi
fi

echo
echo "Summary (logs in $logdir):"
printf '  %s\n' "${results[@]}"
summary="$passed passed, $failed failed"
[ "$skipped" = 0 ] || summary="$summary, $skipped skipped"
echo "$summary"
[ "$failed" = 0 ]
