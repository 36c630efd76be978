#!/usr/bin/env bash
# A Linux kernel SCTP host (Debian's kernel under qemu, tests/e2e/vm) takes IN's place
# as the native internal host behind the gateway (router mode) and talks to the usrsctp
# RFC 6951 echo server beyond the legacy NAT, over IPv4 and then IPv6.
#  0. Without the daemon: no echo (the NAT drops native SCTP; its counter moves).
#  1. With it: every token comes back over IPv4, then over IPv6: the outside carries
#     only SCTP in UDP with good checksums and neither internal address. (A socket
#     bound to the wildcard lists no addresses in its INIT here; a host that binds
#     several does, and test_kernel_multihomed has the gateway strip and keep them.)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=vm/lib.sh
. "$(dirname "$0")/vm/lib.sh"

COUNT=20
TOPO_IPV6=1

vm_begin tshark

echo_server_start "$NS_PEER" "$ENCAPS_PORT" "$ENCAPS_PORT"

vm_host_v4v6_start
vm_wait_ready host 30

# ---- 0. no daemon ----
vm_host_no_daemon

# ---- 1. with the daemon ----
cap_start "$NS_NAT" out0 outside
gw_up "internal fd00:10::/64"

vm_v4v6_result host 50 "kernel host"

stats_check 2
cap_stop

cap_outside_ok "$IN_ADDR" "$IN_ADDR6"
cap_expect "ipv6 && sctp.chunk_type == 1" "no INIT over IPv6 crossed the outside"

gw_stop_ok

e2e_pass "Linux $VM_KERNEL_RELEASE host (up in $VM_BOOT_MS ms): no daemon 0 echoes ($DROPS drops); through the gateway $V4/$COUNT IPv4, $V6/$COUNT IPv6; $CAP_SCTP SCTP-in-UDP packets outside, checksums good, no internal address"
