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

e2e_init
need_usrsctp
need_cmd tshark
need_gw
vm_need
topo_up

echo_server_start "$NS_PEER" "$ENCAPS_PORT" "$ENCAPS_PORT"

# -r 500: INIT retransmitted every 0.5 s, so the association comes up as soon as the
# daemon is there, not at the kernel's next 3 s / 6 s / 12 s backoff.
client="sctpk client -r 500 -i 50 -n $COUNT"
drops0=$(nat_sctp_drops)
vm_start host "$NS_IN" --nic eth0 "$IN_ADDR/24 $IN_ADDR6/64" \
	--ip "route add default via $GW_INT_ADDR" --ip "-6 route add default via $GW_INT_ADDR6" -- \
	"sctpk client -t none -r 500 -n 3 -d 4 $PEER_ADDR 7; echo SGW-PHASE none done;" \
	"$client -t v4 -d 30 $PEER_ADDR 7 && $client -t v6 -d 20 $PEER_ADDR6 7"
vm_wait_ready host 30

# ---- 0. no daemon ----
vm_wait_line host '^SGW-PHASE none' 15 || e2e_fail "the kernel client without a daemon did not end"
vm_echoed host none
drops=$(( $(nat_sctp_drops) - drops0 ))
e2e_log "without the daemon: $VM_ECHOED echoes, the NAT dropped $drops SCTP packets"
[ "$VM_ECHOED" = 0 ] || e2e_fail "kernel host got '$VM_ECHOED' echoes without the daemon"
[ "$drops" -gt 0 ] || e2e_fail "the NAT's SCTP drop counter did not move: the kernel host sent nothing?"

# ---- 1. with the daemon ----
cap_start "$NS_NAT" out0 outside
conf="$E2E_TMP/gw.conf"
gw_write_config "$conf" \
	"internal 10.10.1.0/24" \
	"internal fd00:10::/64" \
	"encapsulate to any" \
	"udp-port $ENCAPS_PORT" \
	"queue 0"
gw_start "$conf"

vm_wait_result host 50 || e2e_fail_dump "kernel host's clients did not finish within 50 s"
vm_echoed host v4
v4=$VM_ECHOED
vm_echoed host v6
v6=$VM_ECHOED
e2e_log "kernel host through the gateway: IPv4 ${v4:-?}/$COUNT, IPv6 ${v6:-?}/$COUNT (rc $VM_RC)"
[ "$v4" = "$COUNT" ] || e2e_fail_dump "kernel host over IPv4: ${v4:-no result} of $COUNT echoes"
[ "$v6" = "$COUNT" ] || e2e_fail_dump "kernel host over IPv6: ${v6:-no result} of $COUNT echoes"
[ "$VM_RC" = 0 ] || e2e_fail_dump "the VM's command exited with status $VM_RC"

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
inits6=$(cap_count "$CAP_FILE" "ipv6 && sctp.chunk_type == 1")
[ "$inits6" -gt 0 ] || e2e_fail "no INIT over IPv6 crossed the outside"

gw_stop TERM || e2e_fail "daemon did not stop on SIGTERM"
[ "$GW_STATUS" = 0 ] || e2e_fail "daemon exit status $GW_STATUS on SIGTERM"

e2e_pass "Linux $VM_KERNEL_RELEASE host (up in $VM_BOOT_MS ms): no daemon 0 echoes ($drops drops); through the gateway $v4/$COUNT IPv4, $v6/$COUNT IPv6; $CAP_SCTP SCTP-in-UDP packets outside, checksums good, no internal address"
