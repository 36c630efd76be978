#!/bin/sh
# check-includes.sh - no include cycle among the modules of src/ and src/ctl/.
#
# A module is a .c file and its header (include/NAME.h or next to it). Module A depends on
# B when A.c or A.h includes B.h; the dependency graph must have no cycle (tsort finds
# one). Headers without a .c of their own (ctlproto.h, bytes.h) take part like any other.
set -eu
top=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$top"

edges=$(for f in src/*.c src/ctl/*.c src/ctl/*.h include/*.h; do
	from=$(basename "$f"); from=${from%.*}
	sed -n 's/^#include "\([a-z0-9_]*\)\.h".*/\1/p' "$f" | while read -r to; do
		[ "$to" = "$from" ] && continue
		[ -f "include/$to.h" ] || [ -f "src/ctl/$to.h" ] || continue
		echo "$from $to"
	done
done | sort -u)

if ! out=$(printf '%s\n' "$edges" | tsort 2>&1 >/dev/null) || [ -n "$out" ]; then
	echo "check-includes: include cycle among modules:" >&2
	printf '%s\n' "$out" | sed -n 's/^tsort: //p' | grep -v 'input contains a loop' >&2 || true
	exit 1
fi
echo "check-includes: no include cycle among $(printf '%s\n' "$edges" |
	tr ' ' '\n' | sort -u | wc -l) modules"
