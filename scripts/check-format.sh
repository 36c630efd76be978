#!/usr/bin/env bash
# check-format.sh - list the C files that differ from what .clang-format makes of them.
# Exit 0 when none does, 1 when some do, 77 when clang-format 14 is not installed
# (another version formats differently). Fix with:
#   clang-format-14 -i $(git ls-files '*.c' '*.h')
#
#   scripts/check-format.sh [-d] [FILE...]   (-d: show the differences; default: all files)
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
show_diff=0
if [ "${1:-}" = "-d" ]; then
	show_diff=1
	shift
fi

cf=${CLANG_FORMAT:-}
if [ -z "$cf" ]; then
	for c in clang-format-14 clang-format; do
		if command -v "$c" >/dev/null && "$c" --version | grep -q 'version 14\.'; then
			cf=$c
			break
		fi
	done
fi
if [ -z "$cf" ]; then
	echo "check-format: clang-format 14 not installed (scripts/deps.sh installs it)" >&2
	exit 77
fi

if [ $# -eq 0 ]; then
	mapfile -t files < <(git ls-files '*.c' '*.h')
else
	files=("$@")
fi

bad=0
for f in "${files[@]}"; do
	if ! "$cf" --style=file "$f" | cmp -s - "$f"; then
		echo "$f"
		[ "$show_diff" = 0 ] || "$cf" --style=file "$f" | diff -u "$f" - | tail -n +3
		bad=$((bad + 1))
	fi
done
if [ "$bad" -gt 0 ]; then
	echo "check-format: $bad of ${#files[@]} files differ from .clang-format" >&2
	exit 1
fi
echo "check-format: ${#files[@]} files follow .clang-format"
