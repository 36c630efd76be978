#!/usr/bin/env bash
# Build the libFuzzer targets with clang (ASan + UBSan) and run each for a bounded time
# on its committed seed corpus. Usage: fuzz/run.sh [SECONDS_PER_TARGET] (default 30).
# Exit 0 when no target crashed. Crash inputs are left in fuzz/out/.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
out=fuzz/out
mkdir -p "$out"
command -v clang >/dev/null || { echo "fuzz: clang not installed"; exit 77; }

printf '#define PACKAGE_VERSION "fuzz"\n#define _GNU_SOURCE 1\n' > "$out/build-config.h"
flags=(-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -include "$out/build-config.h" -Iinclude)
# The cores libgw.a is built from (src/core.am, plain make syntax).
# shellcheck disable=SC2016 # $(GW_CORE_SOURCES) is make's, not the shell's
read -ra core < <(printf 'include src/core.am\nall:\n\t@echo $(GW_CORE_SOURCES)\n' | make -s -f -)
[ "${#core[@]}" -gt 0 ] || { echo "fuzz: no GW_CORE_SOURCES in src/core.am"; exit 1; }

rc=0
for t in packet conf icmp ctl keepalive; do
	clang "${flags[@]}" "fuzz/fuzz_$t.c" "${core[@]}" -o "$out/fuzz_$t"
	mkdir -p "$out/corpus_$t"
	echo "fuzz_$t: ${secs}s"
	if ! "$out/fuzz_$t" -max_total_time="$secs" -max_len=4096 -artifact_prefix="$out/$t-" \
		"$out/corpus_$t" "fuzz/corpus/$t" > "$out/fuzz_$t.log" 2>&1; then
		echo "fuzz_$t: FAILED (see $out/fuzz_$t.log)"; tail -30 "$out/fuzz_$t.log"; rc=1
	else
		grep -E '^#[0-9]+.*DONE|Done [0-9]+ runs' "$out/fuzz_$t.log" | tail -1
	fi
done
exit $rc
