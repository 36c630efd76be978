#!/usr/bin/env bash
# Associations opened from outside to a Linux kernel host (Debian's kernel under qemu,
# tests/e2e/vm) in IN's place, running the kernel echo server (sctpk server 7): the
# usrsctp client on PEER speaks SCTP in UDP from port 9911 to the legacy NAT's public
# address, the NAT forwards UDP 9899 to the gateway, and `forward` rules take it to the
# kernel: port 7 to 10.10.1.2 over IPv4, port 8 to fd00:10::2 port 7 over IPv6.
#  0. Without the daemon: no echo.
#  1. With it: every token comes back over IPv4 and over IPv6; each association is
#     "outside", to the kernel's port 7, with the peer's 9911 learned. The peer's INITs
#     list both its addresses, so the kernel knows a second path of the other family
#     (the gateway carries the one the association runs on). The outside never shows
#     an internal address; every datagram to the peer goes from the NAT's public 9899
#     to 9911.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=vm/lib.sh
. "$(dirname "$0")/vm/lib.sh"

COUNT=20
PEER_ENCAPS=9911
TOPO_IPV6=1
CAP_EXTRA_PORTS=("$PEER_ENCAPS")

vm_begin tshark

vm_host_start "sctpk server 7"
vm_wait_ready host 30
vm_server_up host

# ---- 0. no daemon ----
echo_client_start none "$NS_PEER" "$NAT_OUT_ADDR" 7 0 "$PEER_ENCAPS" "$ENCAPS_PORT"
echo_send 3
echo_wait 1 5
none_got=$ECHO_GOT
echo_close 1 || true
e2e_log "without the daemon: $none_got echoes"
[ "$none_got" = 0 ] || e2e_fail "the peer got $none_got echoes from the kernel host without the daemon"

# ---- 1. with the daemon ----
gw_up "internal fd00:10::/64" "forward port 7 to $IN_ADDR" "forward port 8 to $IN_ADDR6 port 7"
cap_start "$NS_NAT" out0 outside

# inbound NAME DEST PORT HOST PEER: COUNT tokens from PEER to DEST:PORT, and the table
# while the association is up.
inbound()
{
	echo_client_start "$1" "$NS_PEER" "$2" "$3" 0 "$PEER_ENCAPS" "$ENCAPS_PORT"
	echo_send "$COUNT"
	echo_wait "$COUNT" 20 || e2e_fail_dump "$1: $ECHO_GOT of $COUNT echoes from the kernel host"
	ctl_json "assoc.$1.json" show associations
	json_check "$E2E_TMP/assoc.$1.json" "
a = [x for x in d.get('associations', []) if x.get('state') == 'established']
if check(len(a) == 1, 'expected 1 established association, got %s' % a):
    a = a[0]
    check(a.get('origin') == 'outside', 'origin %r, expected outside' % a.get('origin'))
    check(a.get('internal_address') == '$4' and a.get('internal_port') == 7,
          'internal %r port %r, expected $4 port 7' % (a.get('internal_address'), a.get('internal_port')))
    r = [x for x in a.get('remote_addresses', []) if x.get('address') == '$5']
    if check(len(r) == 1, 'remote address $5 not listed: %s' % a.get('remote_addresses')):
        check(r[0].get('udp_port') == $PEER_ENCAPS, 'udp_port %r, expected $PEER_ENCAPS' % r[0].get('udp_port'))
" || { cat "$E2E_TMP/assoc.$1.json"; e2e_fail_dump "$1: association table"; }
	echo_close 10 || e2e_fail_dump "$1: the peer's client did not finish its SHUTDOWN within 10 s"
	e2e_log "$1: $COUNT/$COUNT echoes from the kernel host"
}
inbound v4 "$NAT_OUT_ADDR" 7 "$IN_ADDR" "$PEER_ADDR"
inbound v6 "$NAT_OUT_ADDR6" 8 "$IN_ADDR6" "$PEER_ADDR6"
[ "$(grep -ac 'association from' "$E2E_TMP/vm.host.console")" -ge 2 ] ||
	e2e_fail_dump "the kernel server saw fewer than 2 associations"

stats_check 2 "$STATS_NO_ABORTS"
cap_stop

cap_outside_ok "$IN_ADDR" "$IN_ADDR6"
wrong=$(cap_count "$CAP_FILE" "(ip.dst == $PEER_ADDR || ipv6.dst == $PEER_ADDR6) && udp && !((ip.src == $NAT_OUT_ADDR || ipv6.src == $NAT_OUT_ADDR6) && udp.srcport == $ENCAPS_PORT && udp.dstport == $PEER_ENCAPS)")
[ "$wrong" = 0 ] || { cap_summary "$CAP_FILE"; e2e_fail "$wrong datagram(s) to the peer not from the NAT's $ENCAPS_PORT to $PEER_ENCAPS"; }
cap_expect "ipv6 && sctp.chunk_type == 2" "no INIT-ACK over IPv6 crossed the outside"

vm_stop host
gw_stop_ok

e2e_pass "Linux $VM_KERNEL_RELEASE host reached from outside through forward rules: no daemon 0 echoes; $COUNT/$COUNT IPv4 and IPv6; origin outside, $PEER_ENCAPS learned; $CAP_SCTP SCTP-in-UDP packets outside, checksums good, no internal address"
