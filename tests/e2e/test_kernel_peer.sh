#!/usr/bin/env bash
# A Linux kernel SCTP peer (Debian's kernel under qemu, tests/e2e/vm) takes PEER's place
# as the RFC 6951 peer: net.sctp.udp_port=9899 and net.sctp.encap_port=9899, running the
# kernel-API echo server (sctpk server). A native usrsctp client in IN reaches it
# through the gateway and the legacy NAT, over IPv4 and then IPv6.
#  0. Without the daemon: no echo (the NAT drops native SCTP; its counter moves).
#  1. With it: every token comes back both times. The kernel answers from its UDP port
#     9899 to the port the NAT chose (it learns the encapsulation port from what it
#     receives, RFC 6951 section 5.4); the outside carries only SCTP in UDP with good
#     checksums and never an internal address.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=vm/lib.sh
. "$(dirname "$0")/vm/lib.sh"

COUNT=20
TOPO_IPV6=1

vm_begin tshark

vm_peer_start "sctpk server 7"
vm_wait_ready peer 30
vm_server_up peer

# ---- 0. no daemon ----
drops0=$(nat_sctp_drops)
echo_client_start none "$NS_IN" "$PEER_ADDR" 7 0 0 0
echo_send 3
echo_wait 1 5
none_got=$ECHO_GOT
echo_close 1 || true
drops=$(( $(nat_sctp_drops) - drops0 ))
e2e_log "without the daemon: $none_got echoes, the NAT dropped $drops SCTP packets"
[ "$none_got" = 0 ] || e2e_fail "native client got $none_got echoes from the kernel peer without the daemon"
[ "$drops" -gt 0 ] || e2e_fail "the NAT's SCTP drop counter did not move: the native client sent nothing?"

# ---- 1. with the daemon ----
gw_up "internal fd00:10::/64"
cap_start "$NS_NAT" out0 outside

echo_exchange v4 "$NS_IN" "$COUNT" 20 "$PEER_ADDR" 7 0 0 0 ||
	e2e_fail_dump "native client to the kernel peer over IPv4: $ECHO_GOT of $COUNT echoes"
echo_exchange v6 "$NS_IN" "$COUNT" 20 "$PEER_ADDR6" 7 0 0 0 ||
	e2e_fail_dump "native client to the kernel peer over IPv6: $ECHO_GOT of $COUNT echoes"
vm_wait_line peer 'association from' 1 || e2e_fail_dump "the kernel server saw no association"

stats_check 2
cap_stop

cap_outside_ok "$IN_ADDR" "$IN_ADDR6"
# The kernel's answers: from its own encapsulation port, to the NAT's port it saw.
cap_peer_encaps_ok
cap_expect "ipv6 && sctp.chunk_type == 2" "no INIT-ACK over IPv6 crossed the outside"

vm_stop peer
gw_stop_ok

e2e_pass "Linux $VM_KERNEL_RELEASE RFC 6951 peer (up in $VM_BOOT_MS ms): no daemon 0 echoes ($drops drops); through the gateway $COUNT/$COUNT IPv4 and IPv6; $CAP_FROM_PEER packets from the kernel all UDP $ENCAPS_PORT to the NAT's ports; outside checks pass, no internal address"
