#!/usr/bin/env bash
# Linux kernel SCTP at both ends (Debian's kernel under qemu, tests/e2e/vm): a kernel
# host in IN's place, native behind the gateway (router mode), and a kernel RFC 6951
# peer in PEER's place (net.sctp.udp_port and encap_port 9899, sctpk server 7) beyond
# the legacy NAT, over IPv4 and then IPv6.
#  0. Without the daemon: no echo (the NAT drops native SCTP; its counter moves).
#  1. With it: every token comes back both times. The peer, dual stack, lists both its
#     addresses in its INIT-ACKs (the host then knows a second path to it, of the
#     other family; the gateway carries only the one the association runs on). On the
#     wire: only SCTP in UDP with good checksums, the peer's datagrams all from UDP
#     9899 to the NAT's port range, never an internal address.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=vm/lib.sh
. "$(dirname "$0")/vm/lib.sh"

COUNT=20
TOPO_IPV6=1

vm_begin tshark

vm_peer_start "sctpk server 7"
vm_host_v4v6_start
vm_wait_ready peer 30
vm_server_up peer
vm_wait_ready host 30

# ---- 0. no daemon ----
vm_host_no_daemon

# ---- 1. with the daemon ----
cap_start "$NS_NAT" out0 outside
gw_up "internal fd00:10::/64"

vm_v4v6_result host 50 "kernel host to kernel peer"
[ "$(grep -ac 'association from' "$E2E_TMP/vm.peer.console")" -ge 2 ] ||
	e2e_fail_dump "the kernel server saw fewer than 2 associations"

stats_check 2 "$STATS_NO_ABORTS"
cap_stop

cap_outside_ok "$IN_ADDR" "$IN_ADDR6"
cap_peer_encaps_ok
cap_expect "ipv6 && sctp.chunk_type == 1" "no INIT over IPv6 crossed the outside"

vm_stop peer
gw_stop_ok

e2e_pass "Linux $VM_KERNEL_RELEASE host to Linux RFC 6951 peer: no daemon 0 echoes ($DROPS drops); through the gateway $V4/$COUNT IPv4, $V6/$COUNT IPv6; $CAP_FROM_PEER packets from the peer all UDP $ENCAPS_PORT to the NAT's ports; $CAP_SCTP SCTP-in-UDP packets outside, checksums good, no internal address"
