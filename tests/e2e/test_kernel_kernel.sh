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

e2e_init
need_usrsctp
need_cmd tshark
need_gw
vm_need
topo_up

vm_start peer "$NS_PEER" --nic eth0 "$PEER_ADDR/24 $PEER_ADDR6/64" \
	--sysctl "net.sctp.udp_port=$ENCAPS_PORT" --sysctl "net.sctp.encap_port=$ENCAPS_PORT" -- \
	"sctpk server 7"
# -r 500: INIT retransmitted every 0.5 s, so the association comes up as soon as the
# daemon is there, not at the kernel's next 3 s / 6 s / 12 s backoff.
client="sctpk client -r 500 -i 50 -n $COUNT"
drops0=$(nat_sctp_drops)
vm_start host "$NS_IN" --nic eth0 "$IN_ADDR/24 $IN_ADDR6/64" \
	--ip "route add default via $GW_INT_ADDR" --ip "-6 route add default via $GW_INT_ADDR6" -- \
	"sctpk client -t none -r 500 -n 3 -d 4 $PEER_ADDR 7; echo SGW-PHASE none done;" \
	"$client -t v4 -d 30 $PEER_ADDR 7 && $client -t v6 -d 20 $PEER_ADDR6 7"
vm_wait_ready peer 30
vm_wait_line peer '^sctpk server: listening' 10 || e2e_fail "the kernel echo server does not listen"
vm_wait_ready host 30

# ---- 0. no daemon ----
vm_wait_line host '^SGW-PHASE none' 15 || e2e_fail "the kernel client without a daemon did not end"
vm_echoed host none
drops=$(($(nat_sctp_drops) - drops0))
e2e_log "without the daemon: $VM_ECHOED echoes, the NAT dropped $drops SCTP packets"
[ "$VM_ECHOED" = 0 ] || e2e_fail "kernel host got '$VM_ECHOED' echoes without the daemon"
[ "$drops" -gt 0 ] || e2e_fail "the NAT's SCTP drop counter did not move: the kernel host sent nothing?"

# ---- 1. with the daemon ----
cap_start "$NS_NAT" out0 outside
gw_up "internal fd00:10::/64"

vm_wait_result host 50 || e2e_fail_dump "kernel host's clients did not finish within 50 s"
vm_echoed host v4
v4=$VM_ECHOED
vm_echoed host v6
v6=$VM_ECHOED
e2e_log "kernel host to kernel peer through the gateway: IPv4 ${v4:-?}/$COUNT, IPv6 ${v6:-?}/$COUNT (rc $VM_RC)"
[ "$v4" = "$COUNT" ] || e2e_fail_dump "kernel to kernel over IPv4: ${v4:-no result} of $COUNT echoes"
[ "$v6" = "$COUNT" ] || e2e_fail_dump "kernel to kernel over IPv6: ${v6:-no result} of $COUNT echoes"
[ "$VM_RC" = 0 ] || e2e_fail_dump "the host VM's command exited with status $VM_RC"
[ "$(grep -ac 'association from' "$E2E_TMP/vm.peer.console")" -ge 2 ] ||
	e2e_fail_dump "the kernel server saw fewer than 2 associations"

ctl_json stats.json show stats
json_check "$E2E_TMP/stats.json" "
s = d.get('stats', {})
check(s.get('associations_created', 0) == 2, 'associations_created %r, expected 2' % s.get('associations_created'))
check(s.get('aborts_sent', 0) == 0, 'aborts_sent %r' % s.get('aborts_sent'))
" || { cat "$E2E_TMP/stats.json"; e2e_fail_dump "counters do not match the exchange"; }
cap_stop

cap_outside_ok "$IN_ADDR" "$IN_ADDR6"
peer="(ip.src == $PEER_ADDR || ipv6.src == $PEER_ADDR6)"
from_peer=$(cap_count "$CAP_FILE" "$peer && sctp")
bad=$(cap_count "$CAP_FILE" "$peer && !(icmpv6.type == 135 || icmpv6.type == 136) && !(udp.srcport == $ENCAPS_PORT && udp.dstport >= $NAT_PORT_LO && udp.dstport <= $NAT_PORT_HI)")
[ "$from_peer" -gt 0 ] || e2e_fail "nothing from the kernel peer on the capture"
[ "$bad" = 0 ] || { cap_summary "$CAP_FILE"; e2e_fail "$bad packet(s) from the kernel peer not from UDP $ENCAPS_PORT to the NAT's port range"; }
inits6=$(cap_count "$CAP_FILE" "ipv6 && sctp.chunk_type == 1")
[ "$inits6" -gt 0 ] || e2e_fail "no INIT over IPv6 crossed the outside"

vm_stop peer
gw_stop TERM || e2e_fail "daemon did not stop on SIGTERM"
[ "$GW_STATUS" = 0 ] || e2e_fail "daemon exit status $GW_STATUS on SIGTERM"

e2e_pass "Linux $VM_KERNEL_RELEASE host to Linux RFC 6951 peer: no daemon 0 echoes ($drops drops); through the gateway $v4/$COUNT IPv4, $v6/$COUNT IPv6; $from_peer packets from the peer all UDP $ENCAPS_PORT to the NAT's ports; $CAP_SCTP SCTP-in-UDP packets outside, checksums good, no internal address"
