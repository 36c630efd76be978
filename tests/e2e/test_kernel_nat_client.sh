#!/usr/bin/env bash
# A Linux kernel SCTP client (Debian's kernel under qemu, tests/e2e/vm) behind its own
# NAT (TOPO_PEER_NAT: the VM in PEER's place, 192.168.77.2 / fd00:77::2 behind PNAT)
# opens associations to the legacy NAT's public address as an RFC 6951 endpoint
# (net.sctp.udp_port and encap_port 9899). The NAT forwards UDP 9899 to the gateway,
# whose `forward` rules take them to the native usrsctp echo server in IN: port 7 to
# 10.10.1.2 over IPv4, port 8 to fd00:10::2 port 7 over IPv6.
#  0. Without the daemon: no echo.
#  1. With it: every token comes back over IPv4, then over IPv6 (the echo server, dual
#     stack, lists both IN addresses in its INIT-ACKs, which the gateway strips). Each
#     association is "outside" in the gateway's table, and the UDP port learned for the
#     peer is PNAT's (50000-50999), not the 9899 the kernel sent from. On the wire: only SCTP in UDP
#     with good checksums, every datagram from the peer from a PNAT port, every one to
#     it to the port it came from, never an internal address.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=vm/lib.sh
. "$(dirname "$0")/vm/lib.sh"

COUNT=20
GO_PORT=5000
TOPO_PEER_NAT=1
TOPO_IPV6=1

vm_begin tshark

echo_server_start "$NS_IN" 0 0

# -i 150: the associations last 3 s, long enough to read them from the table.
client="sctpk client -e $ENCAPS_PORT -r 500 -i 150 -n $COUNT"
vm_start peer "$NS_PEER" --nic eth0 "$PEER_PRIV_ADDR/24 $PEER_PRIV_ADDR6/64" \
	--ip "route add default via $PNAT_IN_ADDR" --ip "-6 route add default via $PNAT_IN_ADDR6" \
	--sysctl "net.sctp.udp_port=$ENCAPS_PORT" --sysctl "net.sctp.encap_port=$ENCAPS_PORT" -- \
	"sctpk client -e $ENCAPS_PORT -t none -r 500 -n 3 -d 4 $NAT_OUT_ADDR 7; echo SGW-PHASE none done;" \
	"nc -l -p $GO_PORT </dev/null >/dev/null;" \
	"$client -t v4 -d 20 $NAT_OUT_ADDR 7 && $client -t v6 -d 20 $NAT_OUT_ADDR6 8"
vm_wait_ready peer 30

# ---- 0. no daemon ----
cap_start "$NS_NAT" out0 negative
vm_wait_line peer '^SGW-PHASE none' 15 || e2e_fail "the kernel client without a daemon did not end"
cap_stop
vm_echoed peer none
inits=$(cap_count "$CAP_FILE" "ip.src == $PEER_ADDR && udp.dstport == $ENCAPS_PORT && sctp.chunk_type == 1")
e2e_log "without the daemon: $VM_ECHOED echoes; $inits INIT(s) in UDP reached the NAT"
[ "$VM_ECHOED" = 0 ] || e2e_fail "kernel client got '$VM_ECHOED' echoes without the daemon"
[ "$inits" -gt 0 ] || e2e_fail "no INIT from the kernel client on the outside: nothing was tried"

# ---- 1. with the daemon ----
gw_up "internal fd00:10::/64" "forward port 7 to $IN_ADDR" "forward port 8 to $IN_ADDR6 port 7"
cap_start "$NS_NAT" out0 outside
vm_go peer "$NS_PNAT" "$PEER_PRIV_ADDR" "$GO_PORT"

# snap_assoc FILE ADDR: the table, once it has an established association with ADDR.
snap_assoc()
{
	local deadline=$((SECONDS + 20))
	until ctl -j show associations >"$E2E_TMP/$1" 2>/dev/null &&
		json_check "$E2E_TMP/$1" "
check(any(a.get('state') == 'established' and
          any(r.get('address') == '$2' for r in a.get('remote_addresses', []))
          for a in d.get('associations', [])), 'none')" >/dev/null; do
		[ "$SECONDS" -lt "$deadline" ] || e2e_fail_dump "no established association with $2 within 20 s"
		sleep 0.2
	done
}

# check_assoc FILE ADDR HOST: the association with ADDR came from outside, to HOST, and
# the gateway learned PNAT's UDP port for ADDR.
check_assoc()
{
	json_check "$E2E_TMP/$1" "
a = [x for x in d.get('associations', []) if x.get('state') == 'established' and
     any(r.get('address') == '$2' for r in x.get('remote_addresses', []))]
if check(len(a) == 1, 'expected 1 association with $2, got %s' % a):
    a = a[0]
    check(a.get('origin') == 'outside', 'origin %r, expected outside' % a.get('origin'))
    check(a.get('internal_address') == '$3', 'internal_address %r, expected $3' % a.get('internal_address'))
    p = [r.get('udp_port') for r in a['remote_addresses'] if r.get('address') == '$2'][0]
    check(p != $ENCAPS_PORT and $PNAT_PORT_LO <= p <= $PNAT_PORT_HI,
          'udp_port %r for $2, expected PNAT\'s $PNAT_PORT_LO-$PNAT_PORT_HI' % p)
" || { cat "$E2E_TMP/$1"; e2e_fail_dump "association with $2"; }
}

snap_assoc assoc-v4.json "$PEER_ADDR"
check_assoc assoc-v4.json "$PEER_ADDR" "$IN_ADDR"
snap_assoc assoc-v6.json "$PEER_ADDR6"
check_assoc assoc-v6.json "$PEER_ADDR6" "$IN_ADDR6"

vm_v4v6_result peer 40 "kernel client behind PNAT"

stats_check 2 "$STATS_NO_ABORTS" \
	"check(s.get('addr_params_removed', 0) >= 1, 'addr_params_removed %r: the INIT-ACKs list both IN addresses' % s.get('addr_params_removed'))"
cap_stop

cap_outside_ok "$IN_ADDR" "$IN_ADDR6"
# The peer's datagrams all leave PNAT from its port range (never the kernel's own 9899),
# and the gateway's go back to exactly the ports they came from.
peer="(ip.src == $PEER_ADDR || ipv6.src == $PEER_ADDR6)"
to_peer="(ip.dst == $PEER_ADDR || ipv6.dst == $PEER_ADDR6)"
from_peer=$(cap_count "$CAP_FILE" "$peer && sctp")
bad=$(cap_count "$CAP_FILE" "$peer && udp && !(udp.dstport == $ENCAPS_PORT && udp.srcport >= $PNAT_PORT_LO && udp.srcport <= $PNAT_PORT_HI)")
[ "$from_peer" -gt 0 ] || e2e_fail "nothing from the peer on the capture"
[ "$bad" = 0 ] || { cap_summary "$CAP_FILE"; e2e_fail "$bad datagram(s) from the peer not from a PNAT port to 9899"; }
peer_ports=$(cap_fields "$CAP_FILE" "$peer && udp" udp.srcport | sort -u | tr '\n' ' ')
gw_ports=$(cap_fields "$CAP_FILE" "$to_peer && udp" udp.dstport | sort -u | tr '\n' ' ')
if [ -z "$gw_ports" ] || [ "$gw_ports" != "$peer_ports" ]; then
	cap_summary "$CAP_FILE"
	e2e_fail "the gateway sent to UDP ports '$gw_ports', the peer came from '$peer_ports'"
fi
cap_expect "ipv6 && sctp.chunk_type == 1" "no INIT over IPv6 crossed the outside"

gw_stop_ok

e2e_pass "Linux $VM_KERNEL_RELEASE client behind PNAT (up in $VM_BOOT_MS ms): no daemon 0 echoes; through forward rules $V4/$COUNT IPv4, $V6/$COUNT IPv6; origin outside, learned UDP ports $peer_ports(PNAT's, not $ENCAPS_PORT); $CAP_SCTP SCTP-in-UDP packets outside, checksums good, no internal address"
