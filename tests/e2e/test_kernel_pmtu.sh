#!/usr/bin/env bash
# The tunnel MTU on the first answer. A Linux kernel SCTP host (tests/e2e/vm) in IN's
# place sends messages bigger than the path allows, with DF, to the usrsctp RFC 6951
# echo server beyond the legacy NAT. The path beyond the gateway carries 1400 bytes (a
# locked route MTU on GW; every link stays at 1500, so the echoes coming back are not
# held up by the peer's own path MTU discovery), so the tunnel carries 1392.
#  router v4 / v6   the host talks to the peer through the gateway (internal rules)
#  relay v4 / v6    the host talks to the gateway's own address (relay rules)
# In each phase the FIRST "fragmentation needed" / "packet too big" on IN's link must
# say 1392 (from the daemon), none may say 1400 (the gateway host's own kernel: before
# the router chain moved to prerouting, its forwarding MTU check answered first), and
# every message must come back. Each phase's ICMP MTUs and the time until its
# first message came back are logged. Linux 6.1 resends at once the chunk an ICMP
# refused, unless the ICMP arrives while its sendmsg still holds the socket (here the
# gateway is microseconds away, so now and then it does): then the MTU only applies to
# the messages built next and that chunk waits for the T3 timer (about 2 s) whichever
# MTU the ICMP said; with the kernel's 1400 first, one more message was lost (a second
# 1400, then a 1392). Over IPv6 the chunk built before the packet-too-big goes out
# fragmented by the host; the gateway reassembles it, knows it was fragmented (the
# table's frag_mark chain marks IPv6 SCTP fragments before reassembly) and sends it in a
# fragmented datagram (before that, it answered 1392 again and the message never got
# through, nor the ordered ones behind it). Every message must come back, both families.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=vm/lib.sh
. "$(dirname "$0")/vm/lib.sh"

PATH_MTU=1400
TUNNEL_MTU=$((PATH_MTU - 8))
MSG_SIZE=1400
COUNT=3
TOPO_IPV6=1

vm_begin tshark

if ! { nsx "$NS_GW" ip route replace default via "$NAT_IN_ADDR" mtu lock "$PATH_MTU" &&
	nsx "$NS_GW" ip -6 route replace default via "$NAT_IN_ADDR6" mtu lock "$PATH_MTU"; }; then
	e2e_fail "cannot set the route MTU on GW"
fi
echo_server_start "$NS_PEER" "$ENCAPS_PORT" "$ENCAPS_PORT"

gw_up "internal fd00:10::/64" "relay port 7 to $PEER_ADDR" "relay port 8 to $PEER_ADDR6 port 7"
cap_start "$NS_GW" int0 inside

# name:destination:port; one client each, in turn, COUNT messages of MSG_SIZE bytes.
# IPv6 first: the peer lists its IPv4 address in the IPv6 association too, and the host
# would take the association's MTU from what the IPv4 phase taught it about that address.
PHASES=("router6:$PEER_ADDR6:7" "router4:$PEER_ADDR:7" "relay6:$GW_INT_ADDR6:8" "relay4:$GW_INT_ADDR:7")
cmd=""
for p in "${PHASES[@]}"; do
	name=${p%%:*}
	dst=${p#*:}
	port=${dst##*:}
	dst=${dst%:*}
	cmd+="sctpk client -t $name -n $COUNT -i 1000 -d 12 -m $MSG_SIZE $dst $port; "
done
vm_host_start "$cmd true"
vm_wait_ready host 30
vm_wait_result host 70 || e2e_fail_dump "the kernel host's clients did not finish within 70 s"
cap_stop

# first_icmp_mtu V DST: the MTU of the first frag-needed (v4) / packet-too-big (v6) on
# IN's link quoting a packet to DST, "none" without one; ICMP_MTUS: all of them.
first_icmp_mtu()
{
	local filter ip=ip
	if [ "$1" = 4 ]; then
		filter="icmp.type == 3 && icmp.code == 4 && ip.dst == $2"
		ICMP_MTUS=$(cap_fields "$CAP_FILE" "$filter" icmp.mtu | tr '\n' ' ')
	else
		ip=ipv6
		filter="icmpv6.type == 2 && ipv6.dst == $2"
		ICMP_MTUS=$(cap_fields "$CAP_FILE" "$filter" icmpv6.mtu | tr '\n' ' ')
	fi
	FIRST_MTU=$(echo "$ICMP_MTUS" | awk '{ print $1 }')
	FIRST_SRC=$(cap_fields "$CAP_FILE" "$filter" "$ip.src" | head -n 1 | cut -d, -f1)
	: "${FIRST_MTU:=none}"
}

summary=""
bad=""
for p in "${PHASES[@]}"; do
	name=${p%%:*}
	dst=${p#*:}
	dst=${dst%:*}
	v=4
	[ "${name: -1}" = 6 ] && v=6
	first_icmp_mtu "$v" "$dst"
	vm_echoed host "$name"
	# token 1 of this phase: its line comes between the phase's "connected" and result
	ms=$(awk -v tag="$name" '
		/^sctpk client: token 1 echoed after / { t = $7 }
		/^sctpk client: connected to / { t = "" }
		$0 ~ "^sctpk client: echoed [0-9]+/[0-9]+ tag " tag " " { print (t == "" ? "none" : t); exit }' \
		"$E2E_TMP/vm.host.console")
	e2e_log "$name: first ICMP to the host says MTU $FIRST_MTU (from ${FIRST_SRC:-?}; all: ${ICMP_MTUS:-none}); first $MSG_SIZE-byte message echoed after ${ms:-none} ms; echoed ${VM_ECHOED:-?}/$COUNT"
	summary+="${summary:+, }$name first ICMP $FIRST_MTU, echo $ms ms"
	[ "$FIRST_MTU" = "$TUNNEL_MTU" ] || bad+="$name: first ICMP says $FIRST_MTU, not $TUNNEL_MTU; "
	case " $ICMP_MTUS " in *" $PATH_MTU "*) bad+="$name: an ICMP says the path MTU $PATH_MTU; " ;; esac
	if [ "${VM_ECHOED:-}" != "$COUNT" ]; then
		bad+="$name: ${VM_ECHOED:-no result} of $COUNT echoes; "
	fi
done
# the IPv6 echoes came back because the gateway carried the host's fragments, not by luck
if [ "${E2E_GW_DEBUG:-1}" = 1 ] && ! grep -q 'packet fragmented by its source over the path MTU' "$GW_LOG"; then
	bad+="the daemon never logged an IPv6 packet its source fragmented; "
fi
[ -z "$bad" ] || e2e_fail_dump "$bad"

gw_stop_ok
e2e_pass "Linux $VM_KERNEL_RELEASE host, path MTU $PATH_MTU: $summary"
