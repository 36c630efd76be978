#!/usr/bin/env bash
# build.sh - generate, configure and build sctp-udp-gw. Safe to run again: each step
# runs only when needed (configure again when its arguments change).
#
#   scripts/build.sh [--builddir DIR] [CONFIGURE-ARGS...]
#
# Default is an in-tree build (binaries at the top of the tree). With --builddir the
# build is out of tree (VPATH); that needs a source tree that was never configured
# in-tree (`make distclean` first).
set -euo pipefail

srcdir=$(cd "$(dirname "$0")/.." && pwd)
builddir=${BUILDDIR:-$srcdir}
if [ "${1:-}" = "--builddir" ]; then
	[ $# -ge 2 ] || { echo "build: --builddir needs a directory" >&2; exit 2; }
	builddir=$2
	shift 2
fi
mkdir -p "$builddir"
builddir=$(cd "$builddir" && pwd)

if [ ! -x "$srcdir/configure" ] || [ "$srcdir/configure.ac" -nt "$srcdir/configure" ]; then
	echo "build: autogen.sh"
	"$srcdir/autogen.sh"
fi

# Configure again only when there is no Makefile or the arguments differ from last time.
stamp="$builddir/.configure-args"
want=$(printf '%q ' "$@")
if [ ! -f "$builddir/Makefile" ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
	echo "build: configure $*"
	# Objects do not depend on the flags configure chose: rebuild them all.
	[ ! -f "$builddir/Makefile" ] || make -C "$builddir" clean >/dev/null
	(cd "$builddir" && "$srcdir/configure" "$@")
	printf '%s' "$want" >"$stamp"
fi

echo "build: make in $builddir"
make -C "$builddir" -j"$(nproc)"
echo "build: done: $builddir/sctp-udp-gw $builddir/sctpgwctl"
