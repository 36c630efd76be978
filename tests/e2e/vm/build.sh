#!/usr/bin/env bash
# build.sh - the Linux kernel test VM's kernel and initramfs, built from Debian packages
# and cached: Debian's own kernel (linux-image-amd64's dependency, downloaded, never
# installed), its SCTP and virtio-net modules, static busybox, the static test programs
# sctpk.c and kbulk.c and the init script. Idempotent: a second run with nothing
# changed only checks. Prints VM_KERNEL=, VM_KERNEL_KIND=, VM_KERNEL_RELEASE=,
# VM_INITRD= lines.
#
#   tests/e2e/vm/build.sh [--quiet]
#
# Cache: SCTPGW_VM_CACHE, default /var/cache/sctp-udp-gw-test as root, else
# ${XDG_CACHE_HOME:-~/.cache}/sctp-udp-gw-test. Needs (scripts/deps.sh): apt, dpkg-deb,
# xz, cpio, gzip, binutils, gcc with a static libc, linux-libc-dev, busybox-static.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
quiet=0
[ "${1:-}" = --quiet ] && quiet=1
if [ -n "${SCTPGW_VM_CACHE:-}" ]; then
	cache=$SCTPGW_VM_CACHE
elif [ "$(id -u)" = 0 ]; then
	cache=/var/cache/sctp-udp-gw-test
else
	cache=${XDG_CACHE_HOME:-$HOME/.cache}/sctp-udp-gw-test
fi
mkdir -p "$cache"
log() { [ "$quiet" = 1 ] || echo "vm-build: $*" >&2; }
die() { echo "vm-build: $*" >&2; exit 1; }

# Modules to load, in load order; each one's depends= must be earlier here or built in
# (checked below). libcrc32c asks for "crc32c" (softdep) and nothing can load it on
# demand without modprobe, so crc32c_generic comes first.
MODULES=(
	crc32c_generic libcrc32c udp_tunnel ip6_udp_tunnel sctp
	virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci
	failover net_failover virtio_net
)

exec 9>"$cache/.lock"
flock 9

# ---- the kernel package ---------------------------------------------------------------

# linux-image-amd64 depends on exactly one linux-image-VERSION-amd64.
resolve_image()
{
	apt-cache depends linux-image-amd64 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ { print $2; exit }'
}
# Resolved again only when the package lists changed (apt-cache takes about a second).
resolved="$cache/resolved"
if [ -s "$resolved" ] && [ -z "$(find /var/lib/apt/lists -maxdepth 1 -newer "$resolved" -name '*Packages*' 2>/dev/null | head -n 1)" ]; then
	read -r pkg ver <"$resolved"
else
	pkg=$(resolve_image || true)
	ver=""
fi
if [ -z "$pkg" ]; then
	if [ "$(id -u)" = 0 ]; then
		log "no package lists for linux-image-amd64; apt-get update"
		apt-get update -q >/dev/null 2>&1 || true
		pkg=$(resolve_image || true)
	fi
fi
if [ -z "$pkg" ]; then
	# Offline: the newest kernel already in the cache will do.
	kdir=$(find "$cache" -maxdepth 1 -name 'kernel-*' ! -name '*.tmp' | sort -V | tail -n 1)
	[ -n "$kdir" ] || die "cannot resolve linux-image-amd64 (apt-get update?) and nothing cached"
	log "cannot resolve linux-image-amd64; using cached $(basename "$kdir")"
else
	[ -n "$ver" ] || ver=$(apt-cache policy "$pkg" | awk '/Candidate:/ { print $2 }')
	[ -n "$ver" ] || die "no candidate version of $pkg"
	echo "$pkg $ver" >"$resolved"
	kdir="$cache/kernel-$pkg-$ver"
fi

if [ ! -f "$kdir/done" ]; then
	t0=$SECONDS
	rm -rf "$kdir" "$kdir.tmp"
	mkdir -p "$kdir.tmp/deb"
	log "downloading $pkg $ver"
	# apt's sandbox user cannot write to a root-only directory: download into a fresh one.
	(cd "$kdir.tmp/deb" && chmod 755 . && apt-get download -q "$pkg=$ver" >/dev/null 2>&1) ||
		{ [ "$(id -u)" = 0 ] && apt-get update -q >/dev/null 2>&1 &&
		  (cd "$kdir.tmp/deb" && apt-get download -q "$pkg=$ver" >/dev/null); } ||
		die "apt-get download $pkg=$ver failed"
	deb=$(ls "$kdir.tmp"/deb/*.deb)
	mkdir "$kdir.tmp/root"
	dpkg-deb -x "$deb" "$kdir.tmp/root"
	kver=$(ls "$kdir.tmp/root/lib/modules")
	mdir="$kdir.tmp/root/lib/modules/$kver"
	mkdir "$kdir.tmp/modules"
	for m in "${MODULES[@]}"; do
		f=$(find "$mdir/kernel" -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" | head -n 1)
		[ -n "$f" ] || die "module $m not in $pkg"
		case $f in
		*.xz) xz -dc "$f" >"$kdir.tmp/modules/$m.ko" ;;
		*.zst) zstd -qdc "$f" >"$kdir.tmp/modules/$m.ko" ;;
		*) cp "$f" "$kdir.tmp/modules/$m.ko" ;;
		esac
	done
	cp "$mdir/modules.builtin" "$kdir.tmp/modules.builtin"
	cp "$kdir.tmp/root/boot/config-$kver" "$kdir.tmp/config"
	# The uncompressed ELF boots directly (PVH) and skips the decompressor, ~2 s under TCG.
	# Find the payload's compression magic in the bzImage, as scripts/extract-vmlinux does.
	z="$kdir.tmp/root/boot/vmlinuz-$kver"
	for magic in '\xfd7zXZ\x00:xz -dc' '\x28\xb5\x2f\xfd:zstd -qdc' '\x1f\x8b\x08:gzip -dc'; do
		# shellcheck disable=SC2013 # byte offsets, one word each
		for off in $(LC_ALL=C grep -obUaP "${magic%%:*}" "$z" | cut -d: -f1); do
			tail -c "+$((off + 1))" "$z" | ${magic#*:} >"$kdir.tmp/vmlinux" 2>/dev/null || true
			if [ "$(head -c 4 "$kdir.tmp/vmlinux" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
				break 2
			fi
		done
	done
	if [ "$(head -c 4 "$kdir.tmp/vmlinux" 2>/dev/null | od -An -tx1 | tr -d ' ')" = 7f454c46 ] &&
		readelf -n "$kdir.tmp/vmlinux" 2>/dev/null | grep -q 'Xen.*(0x00000012)'; then
		echo pvh >"$kdir.tmp/kind"
	else
		log "no PVH vmlinux found in the bzImage; booting the bzImage (slower)"
		rm -f "$kdir.tmp/vmlinux"
		cp "$z" "$kdir.tmp/vmlinux"
		echo bzimage >"$kdir.tmp/kind"
	fi
	echo "$kver" >"$kdir.tmp/release"
	rm -rf "$kdir.tmp/root" "$kdir.tmp/deb"
	touch "$kdir.tmp/done"
	mv "$kdir.tmp" "$kdir"
	log "kernel $kver ($(cat "$kdir/kind")) cached in $kdir in $((SECONDS - t0)) s"
fi
kver=$(cat "$kdir/release")

# ---- the initramfs --------------------------------------------------------------------

# busybox-static installs /bin/busybox (and replaces the dynamic busybox package).
busybox=/bin/busybox
if [ ! -x "$busybox" ] || readelf -l "$busybox" 2>/dev/null | grep -q INTERP; then
	die "no static busybox in $busybox (apt-get install busybox-static)"
fi
[ -f /usr/include/linux/sctp.h ] || die "no linux/sctp.h (apt-get install linux-libc-dev)"

key=$( (echo "$kdir"; sha256sum "$busybox" "$here/init" "$here/sctpk.c" "$here/kbulk.c" "$here/build.sh" \
	/usr/include/linux/sctp.h; echo "${MODULES[*]}") | sha256sum | cut -c1-16)
initrd="$cache/initramfs-$key.cpio.gz"
if [ ! -f "$initrd" ]; then
	t0=$SECONDS
	tmp=$(mktemp -d "$cache/initramfs.XXXXXX")
	# Each module's depends= (from its .modinfo) loaded before it or built in.
	loaded=" "
	for m in "${MODULES[@]}"; do
		deps=$(objcopy -O binary --only-section=.modinfo "$kdir/modules/$m.ko" /dev/stdout |
			tr '\0' '\n' | sed -n 's/^depends=//p' | tr ',' ' ')
		for d in $deps; do
			case $loaded in *" $d "*) continue ;; esac
			grep -q "/$d.ko\$" "$kdir/modules.builtin" ||
				die "module $m depends on $d, which is neither earlier in MODULES nor built in"
		done
		loaded="$loaded$m "
	done

	mkdir -p "$tmp/root/bin" "$tmp/root/lib/modules" "$tmp/root/etc"
	cp "$busybox" "$tmp/root/bin/busybox"
	cp "$here/init" "$tmp/root/init"
	chmod 755 "$tmp/root/init"
	gcc -static -O2 -Wall -Wextra -Werror -o "$tmp/root/bin/sctpk" "$here/sctpk.c"
	strip "$tmp/root/bin/sctpk"
	# Bulk transfers for bench/kernel_bulk.sh.
	gcc -static -O2 -Wall -Wextra -Werror -o "$tmp/root/bin/kbulk" "$here/kbulk.c"
	strip "$tmp/root/bin/kbulk"
	for m in "${MODULES[@]}"; do
		cp "$kdir/modules/$m.ko" "$tmp/root/lib/modules/"
	done
	printf '%s\n' "${MODULES[@]}" >"$tmp/root/lib/modules/load-order"
	(cd "$tmp/root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -1) >"$tmp/initrd"
	# Zeros up to a 512-byte boundary: the kernel skips them and then finds the per-VM
	# archive vm_start appends (an uncompressed one must start 4-byte aligned).
	truncate -s "%512" "$tmp/initrd"
	mv "$tmp/initrd" "$initrd"
	rm -rf "$tmp"
	log "initramfs $initrd built in $((SECONDS - t0)) s"
fi
# Images of other checkouts stay while they are in use (a build marks its own as used).
touch "$initrd"
find "$cache" -maxdepth 1 -name 'initramfs-*.cpio.gz' -mtime +2 -delete

log "ready: $kver, $(basename "$initrd")"
# What vm_start needs, for eval.
cat <<EOF
VM_KERNEL=$kdir/vmlinux
VM_KERNEL_KIND=$(cat "$kdir/kind")
VM_KERNEL_RELEASE=$kver
VM_INITRD=$initrd
EOF
