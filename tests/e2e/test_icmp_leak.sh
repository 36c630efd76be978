#!/usr/bin/env bash
# The gateway host's own kernel must not leak internal addresses in ICMP. Two `forward`
# rules send associations opened from outside to internal addresses nobody has
# (10.10.1.99, fd00:10::99): the daemon injects the peer's INITs (source the peer as
# seen, destination the internal address), neighbour resolution fails, and the kernel
# answers the peer with host / address unreachable quoting the injected packet, i.e.
# the internal address. The table's output_icmp chain drops those errors.
#  1. with the chain: nothing on GW's outside link (ext0) contains either internal
#     address, and the chain's drop counters moved (the kernel did try).
#  2. negative control: the chain flushed, the same INIT retransmissions get ICMP
#     errors out to the peer that quote the internal addresses.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

GHOST=10.10.1.99
GHOST6=fd00:10::99
TOPO_IPV6=1
WAIT=10 # neighbour resolution gives up after 3 probes of 1 s; INITs are retransmitted

e2e_begin tshark

gw_up "internal fd00:10::/64" "forward port 7 to $GHOST" "forward port 8 to $GHOST6 port 7"
nsx "$NS_GW" nft list chain inet sctp_udp_gw output_icmp >"$E2E_TMP/chain.before" ||
	e2e_fail "no chain output_icmp in the daemon's table"

# icmp_dropped: packets counted by the chain's drop rules
icmp_dropped()
{
	nsx "$NS_GW" nft list chain inet sctp_udp_gw output_icmp |
		awk '/drop/ { for (i = 1; i < NF; i++) if ($i == "packets") n += $(i + 1) } END { print n + 0 }'
}

# leaks_to_peer FILE: ICMP errors on the outside that quote a ghost address, IPv4 IPv6
leaks_to_peer()
{
	echo "$(cap_count "$1" "icmp.type == 3 && ip.dst == $GHOST")" \
		"$(cap_count "$1" "icmpv6.type == 1 && ipv6.dst == $GHOST6")"
}

# phase NAME: both clients from PEER for WAIT seconds, with a capture on ext0
phase()
{
	cap_start "$NS_GW" ext0 "$1"
	echo_client_start "$1-4" "$NS_PEER" "$NAT_OUT_ADDR" 7 0 9911 "$ENCAPS_PORT"
	echo_client_start "$1-6" "$NS_PEER" "$NAT_OUT_ADDR6" 8 0 9912 "$ENCAPS_PORT"
	sleep "$WAIT"
	for c in "$1-4" "$1-6"; do
		echo_select "$c"
		echo_close 1 >/dev/null || true
	done
	cap_stop
}

phase guarded
dropped=$(icmp_dropped)
leaks4=$(cap_leaks "$CAP_FILE" "$GHOST")
leaks6=$(cap_leaks "$CAP_FILE" "$GHOST6")
e2e_log "with output_icmp: $dropped ICMP errors dropped, $leaks4 + $leaks6 packets outside with $GHOST / $GHOST6"
if [ "$leaks4" != 0 ] || [ "$leaks6" != 0 ]; then
	cap_summary "$CAP_FILE"
	e2e_fail_dump "$leaks4 + $leaks6 packet(s) outside contain $GHOST / $GHOST6"
fi
[ "$dropped" -ge 2 ] 2>/dev/null ||
	e2e_fail_dump "output_icmp dropped $dropped ICMP errors: the kernel never tried, the test proves nothing"

nsx "$NS_GW" nft flush chain inet sctp_udp_gw output_icmp || e2e_fail "cannot flush output_icmp"
phase control
read -r control4 control6 <<<"$(leaks_to_peer "$CAP_FILE")"
e2e_log "without output_icmp: $control4 ICMP errors outside quoting $GHOST, $control6 quoting $GHOST6"
if ! [ "$control4" -ge 1 ] 2>/dev/null || ! [ "$control6" -ge 1 ] 2>/dev/null; then
	cap_summary "$CAP_FILE"
	e2e_fail_dump "negative control: without the chain $control4 / $control6 ICMP errors leaked, expected some of each"
fi

gw_stop TERM || e2e_fail "daemon did not stop on SIGTERM"
[ "$GW_STATUS" = 0 ] || e2e_fail "daemon exit status $GW_STATUS on SIGTERM"
e2e_pass "ICMP errors about injected SCTP to $GHOST / $GHOST6: $dropped dropped by output_icmp, none outside; without it $control4 + $control6 leaked"
