#!/usr/bin/env bash
# deps.sh - install what building and testing sctp-udp-gw needs (Debian 12, as root).
# Does nothing, quickly, when everything is already installed.
set -euo pipefail

PACKAGES=(
	# build
	build-essential autoconf automake libtool pkg-config
	libmnl-dev libnftnl-dev libnetfilter-queue-dev libsystemd-dev libjansson-dev check
	# scripts/check-format.sh (the version .clang-format is written for)
	clang-format-14
	# fuzz/run.sh (libFuzzer) and the ThreadSanitizer lane
	clang libclang-rt-14-dev
	# end-to-end tests: SCTP peers, captures, namespaces and netfilter tools
	libusrsctp-examples tshark nftables iptables iproute2 ethtool conntrack
	python3 procps psmisc valgrind
	# Linux kernel SCTP hosts (tests/e2e/vm/build.sh): qemu, and what builds the initramfs
	qemu-system-x86 busybox-static linux-libc-dev cpio xz-utils zstd
	# Debian package (tests/e2e/test_deb.sh): dpkg-buildpackage with debhelper (its
	# dh-autoreconf), lintian, and git, whose file list the package is built from
	debhelper lintian git
)

missing=()
for p in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done

if [ "${#missing[@]}" -eq 0 ]; then
	echo "deps: all ${#PACKAGES[@]} packages present"
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing ${missing[*]}; run as root (sudo $0)" >&2
	exit 1
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; the answer does not matter here.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "deps: done"
