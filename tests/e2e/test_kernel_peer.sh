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

e2e_init
need_usrsctp
need_cmd tshark
need_gw
vm_need
topo_up

vm_start peer "$NS_PEER" --nic eth0 "$PEER_ADDR/24 $PEER_ADDR6/64" \
	--sysctl "net.sctp.udp_port=$ENCAPS_PORT" --sysctl "net.sctp.encap_port=$ENCAPS_PORT" -- \
	"sctpk server 7"
vm_wait_ready peer 30
vm_wait_line peer '^sctpk server: listening' 10 || e2e_fail "the kernel echo server does not listen"

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
conf="$E2E_TMP/gw.conf"
gw_write_config "$conf" \
	"internal 10.10.1.0/24" \
	"internal fd00:10::/64" \
	"encapsulate to any" \
	"udp-port $ENCAPS_PORT" \
	"queue 0"
gw_start "$conf"
cap_start "$NS_NAT" out0 outside

echo_exchange v4 "$NS_IN" "$COUNT" 20 "$PEER_ADDR" 7 0 0 0 ||
	e2e_fail_dump "native client to the kernel peer over IPv4: $ECHO_GOT of $COUNT echoes"
echo_exchange v6 "$NS_IN" "$COUNT" 20 "$PEER_ADDR6" 7 0 0 0 ||
	e2e_fail_dump "native client to the kernel peer over IPv6: $ECHO_GOT of $COUNT echoes"
vm_wait_line peer 'association from' 1 || e2e_fail_dump "the kernel server saw no association"

ctl -j show stats >"$E2E_TMP/stats.json" 2>"$E2E_TMP/ctl.err" ||
	e2e_fail_dump "sctpgwctl -j show stats failed: $(cat "$E2E_TMP/ctl.err")"
json_check "$E2E_TMP/stats.json" "
s = d.get('stats', {})
check(s.get('associations_created', 0) == 2, 'associations_created %r, expected 2' % s.get('associations_created'))
" || { cat "$E2E_TMP/stats.json"; e2e_fail_dump "counters do not match the exchange"; }
cap_stop

if ! cap_check_outside "$CAP_FILE"; then
	cap_summary "$CAP_FILE"
	e2e_fail "the outside carries something other than well-formed SCTP in UDP $ENCAPS_PORT"
fi
for a in "$IN_ADDR" "$IN_ADDR6"; do
	leaks=$(cap_leaks "$CAP_FILE" "$a")
	[ "$leaks" = 0 ] || e2e_fail "$leaks packet(s) on the outside contain the internal address $a"
done
# The kernel's answers: from its own encapsulation port, to the NAT's port it saw.
from_peer=$(cap_count "$CAP_FILE" "(ip.src == $PEER_ADDR || ipv6.src == $PEER_ADDR6) && sctp")
bad=$(cap_count "$CAP_FILE" "(ip.src == $PEER_ADDR || ipv6.src == $PEER_ADDR6) && !(icmpv6.type == 135 || icmpv6.type == 136) && !(udp.srcport == $ENCAPS_PORT && udp.dstport >= $NAT_PORT_LO && udp.dstport <= $NAT_PORT_HI)")
[ "$from_peer" -gt 0 ] || e2e_fail "nothing from the kernel peer on the capture"
[ "$bad" = 0 ] || { cap_summary "$CAP_FILE"; e2e_fail "$bad packet(s) from the kernel peer not from UDP $ENCAPS_PORT to the NAT's port range"; }
inits6=$(cap_count "$CAP_FILE" "ipv6 && sctp.chunk_type == 2")
[ "$inits6" -gt 0 ] || e2e_fail "no INIT-ACK over IPv6 crossed the outside"

vm_stop peer
gw_stop TERM || e2e_fail "daemon did not stop on SIGTERM"
[ "$GW_STATUS" = 0 ] || e2e_fail "daemon exit status $GW_STATUS on SIGTERM"

e2e_pass "Linux $VM_KERNEL_RELEASE RFC 6951 peer (up in $VM_BOOT_MS ms): no daemon 0 echoes ($drops drops); through the gateway $COUNT/$COUNT IPv4 and IPv6; $from_peer packets from the kernel all UDP $ENCAPS_PORT to the NAT's ports; outside checks pass, no internal address"
