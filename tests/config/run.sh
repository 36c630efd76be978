#!/bin/sh
# run.sh - configuration golden tests: `sctp-udp-gw -n` on every tests/config/*.conf.
#
# For NAME.conf, NAME.expected holds stdout+stderr of `sctp-udp-gw -n -c NAME.conf`
# followed by a line "[exit N]". When NAME.dump exists it holds the output of
# `-n -d` (the normalized configuration, then "configuration OK"), and that dump, fed
# back with -n -d, must reproduce itself (round trip). The example configuration
# conf/sctp-udp-gw.conf must be valid too.
#
# Run from `make check` (top_srcdir / top_builddir in the environment) or by hand.
# `run.sh --update` rewrites the golden files from the current binary: review the diff.
# Exit 77 (skip) when the daemon binary has not been built.

here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$here/../..}"
: "${top_builddir:=$here/../..}"
srcdir=$(cd "$top_srcdir" && pwd) || exit 99
gw=$(cd "$top_builddir" 2>/dev/null && pwd)/sctp-udp-gw
update=0
[ "$1" = "--update" ] && update=1

if [ ! -x "$gw" ]; then
	echo "SKIP: $top_builddir/sctp-udp-gw not built"
	exit 77
fi

# strerror and friends must not depend on the caller's locale.
LC_ALL=C
export LC_ALL

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sctpgw-conftest.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

pass=0
fail=0

result() { # name, 0 = pass
	if [ "$2" -eq 0 ]; then
		echo "PASS: $1"
		pass=$((pass + 1))
	else
		echo "FAIL: $1"
		fail=$((fail + 1))
	fi
}

# run OUTFILE ARGS...: the daemon's stdout+stderr, then "[exit N]".
run() {
	out=$1
	shift
	"$gw" "$@" >"$out" 2>&1
	echo "[exit $?]" >>"$out"
}

# same EXPECTED ACTUAL: 0 when equal, else show the difference and return 1.
same() {
	cmp -s "$1" "$2" && return 0
	diff -u "$1" "$2" | sed 's/^/  /'
	return 1
}

# compare NAME GOLDEN ACTUAL: 0 when equal (or after rewriting GOLDEN with --update).
compare() {
	if [ "$update" -eq 1 ]; then
		cp "$3" "$2"
		return 0
	fi
	if [ ! -f "$2" ]; then
		echo "  $1: missing golden file $(basename "$2")"
		return 1
	fi
	same "$2" "$3"
}

# Paths in messages are as given on the command line: run from the directory with the
# bare file name, so the golden files do not depend on where the tree lives.
cd "$srcdir/tests/config" || exit 99

for conf in *.conf; do
	name=${conf%.conf}
	run "$tmp/$name.out" -n -c "$conf"
	compare "$name" "$name.expected" "$tmp/$name.out"
	result "$name" $?

	[ -f "$name.dump" ] || continue
	run "$tmp/$name.dout" -n -d -c "$conf"
	compare "$name (dump)" "$name.dump" "$tmp/$name.dout"
	result "$name (dump)" $?

	# The dump without its last two lines ("configuration OK", "[exit 0]") is a
	# configuration file: reading it back must give the very same dump.
	sed '$d' "$tmp/$name.dout" | sed '$d' >"$tmp/$name.rt.conf"
	(cd "$tmp" && run "$name.rt.out" -n -d -c "$name.rt.conf")
	same "$tmp/$name.dout" "$tmp/$name.rt.out"
	result "$name (round trip)" $?
done

# An unreadable file is reported with strerror and no line number.
run "$tmp/missing.out" -n -c does-not-exist.conf
printf 'sctp-udp-gw: does-not-exist.conf: No such file or directory\n[exit 1]\n' \
	>"$tmp/missing.expected"
same "$tmp/missing.expected" "$tmp/missing.out"
result "missing file" $?

# Every shipped example must stay valid.
printf 'configuration OK\n[exit 0]\n' >"$tmp/example.expected"
for example in "$srcdir"/conf/*.conf; do
	name=$(basename "$example")
	(cd "$srcdir/conf" && run "$tmp/example.out" -n -c "$name")
	same "$tmp/example.expected" "$tmp/example.out"
	result "example conf/$name" $?
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
