# shellcheck shell=bash
# s2s.sh - the site-to-site topology: two gateways, each in front of a native host and
# behind its own legacy NAT. Source after lib.sh; call s2s_init after e2e_init, then
# s2s_topo_up. With TOPO_IPV6=1 (set before e2e_init) dual stack: fd00:20::/64 and
# fd00:30::/64 inside, fd00:64:1::/64 and fd00:64:2::/64 between each gateway and its
# NAT, 2001:db8:51::/64 between the NATs (NAT66 as for IPv4).
#
#  HA 10.20.1.2 - 10.20.1.1 GWA 100.64.1.2 - 100.64.1.1 NATA 198.51.100.1
#                                                              |  "internet"
#  HB 10.30.1.2 - 10.30.1.1 GWB 100.64.2.2 - 100.64.2.1 NATB 198.51.100.2

# shellcheck disable=SC2034 # for the tests
HA_ADDR=10.20.1.2
GWA_INT_ADDR=10.20.1.1
GWA_EXT_ADDR=100.64.1.2
NATA_IN_ADDR=100.64.1.1
NATA_PUB_ADDR=198.51.100.1
NATB_PUB_ADDR=198.51.100.2
NATB_IN_ADDR=100.64.2.1
GWB_EXT_ADDR=100.64.2.2
GWB_INT_ADDR=10.30.1.1
HB_ADDR=10.30.1.2
# UDP source ports each NAT maps its gateway's datagrams to.
NATA_PORTS=40000-40999
NATB_PORTS=42000-42999
HA_ADDR6=fd00:20::2
GWA_INT_ADDR6=fd00:20::1
GWA_EXT_ADDR6=fd00:64:1::2
NATA_IN_ADDR6=fd00:64:1::1
NATA_PUB_ADDR6=2001:db8:51::1
NATB_PUB_ADDR6=2001:db8:51::2
NATB_IN_ADDR6=fd00:64:2::1
GWB_EXT_ADDR6=fd00:64:2::2
GWB_INT_ADDR6=fd00:30::1
HB_ADDR6=fd00:30::2

# s2s_init: the namespace names (they need e2e_init's prefix) and the per-site state.
s2s_init()
{
	NS_HA="$NS_PFX-ha"
	NS_GWA="$NS_PFX-gwa"
	NS_NATA="$NS_PFX-nata"
	NS_NATB="$NS_PFX-natb"
	NS_GWB="$NS_PFX-gwb"
	NS_HB="$NS_PFX-hb"
	CONF_A="$E2E_SRCDIR/conf/site-a.conf"
	CONF_B="$E2E_SRCDIR/conf/site-b.conf"

	# lib.sh knows one gateway and one NAT (NS_GW, GW_SOCK, GW_LOG, GW_PID, NS_NAT).
	# `site A|B CMD...` runs gw_start, gw_stop, ctl, nat_sctp_drops... against that site's
	# gateway and NAT, then puts site A's back, so the cleanup and the log dump see one.
	declare -gA S_NS_GW=([A]=$NS_GWA [B]=$NS_GWB) S_NS_NAT=([A]=$NS_NATA [B]=$NS_NATB)
	declare -gA S_SOCK=([A]="$E2E_TMP/gwa.sock" [B]="$E2E_TMP/gwb.sock")
	declare -gA S_LOG=([A]="$E2E_TMP/gwa.log" [B]="$E2E_TMP/gwb.log")
	declare -gA S_PID=([A]="" [B]="") S_STATUS=([A]="" [B]="")
	site_vars A
}

site_vars()
{
	NS_GW=${S_NS_GW[$1]}
	NS_NAT=${S_NS_NAT[$1]}
	GW_SOCK=${S_SOCK[$1]}
	GW_LOG=${S_LOG[$1]}
	GW_PID=${S_PID[$1]}
	GW_STATUS=${S_STATUS[$1]}
}

site()
{
	local s=$1 rc
	shift
	site_vars "$s"
	"$@"
	rc=$?
	S_PID[$s]=$GW_PID
	S_STATUS[$s]=$GW_STATUS
	site_vars A
	return $rc
}

# The cleanup stops GW_PID only: the other gateway is in E2E_PIDS while it runs, so it
# gets SIGTERM too (and removes its table) rather than SIGKILL with its namespace.
site_gw_start()
{
	site "$1" gw_start "$2"
	E2E_PIDS+=("${S_PID[$1]}")
}

site_gw_stop()
{
	local pid=${S_PID[$1]} p keep=()
	site "$1" gw_stop TERM || return 1
	for p in "${E2E_PIDS[@]}"; do
		[ "$p" = "$pid" ] || keep+=("$p")
	done
	E2E_PIDS=("${keep[@]}")
}

# s2s_ipv6: the IPv6 addresses and routes of the dual-stack variant.
s2s_ipv6()
{
	local ns
	addr6 "$NS_HA" "$HA_ADDR6/64" eth0
	nsx "$NS_HA" ip -6 route add default via "$GWA_INT_ADDR6"
	addr6 "$NS_GWA" "$GWA_INT_ADDR6/64" int0
	addr6 "$NS_GWA" "$GWA_EXT_ADDR6/64" ext0
	nsx "$NS_GWA" ip -6 route add default via "$NATA_IN_ADDR6"
	addr6 "$NS_NATA" "$NATA_IN_ADDR6/64" in0
	addr6 "$NS_NATA" "$NATA_PUB_ADDR6/64" out0
	nsx "$NS_NATA" ip -6 route add fd00:20::/64 via "$GWA_EXT_ADDR6"
	addr6 "$NS_HB" "$HB_ADDR6/64" eth0
	nsx "$NS_HB" ip -6 route add default via "$GWB_INT_ADDR6"
	addr6 "$NS_GWB" "$GWB_INT_ADDR6/64" int0
	addr6 "$NS_GWB" "$GWB_EXT_ADDR6/64" ext0
	nsx "$NS_GWB" ip -6 route add default via "$NATB_IN_ADDR6"
	addr6 "$NS_NATB" "$NATB_IN_ADDR6/64" in0
	addr6 "$NS_NATB" "$NATB_PUB_ADDR6/64" out0
	nsx "$NS_NATB" ip -6 route add fd00:30::/64 via "$GWB_EXT_ADDR6"
	for ns in "$NS_GWA" "$NS_NATA" "$NS_NATB" "$NS_GWB"; do
		nsx "$ns" sysctl -qw net.ipv6.conf.all.forwarding=1
	done
}

s2s_topo_up()
{
	local ns v6a=() v6b=()
	if [ "$TOPO_IPV6" = 1 ]; then
		v6a=("$NATA_PUB_ADDR6" "$GWA_EXT_ADDR6")
		v6b=("$NATB_PUB_ADDR6" "$GWB_EXT_ADDR6")
	fi
	for ns in "$NS_HA" "$NS_GWA" "$NS_NATA" "$NS_NATB" "$NS_GWB" "$NS_HB"; do
		ns_add "$ns"
	done
	veth "$NS_HA" eth0 "$NS_GWA" int0
	veth "$NS_GWA" ext0 "$NS_NATA" in0
	veth "$NS_NATA" out0 "$NS_NATB" out0
	veth "$NS_NATB" in0 "$NS_GWB" ext0
	veth "$NS_GWB" int0 "$NS_HB" eth0

	nsx "$NS_HA" ip addr add "$HA_ADDR/24" dev eth0
	nsx "$NS_HA" ip route add default via "$GWA_INT_ADDR"
	nsx "$NS_GWA" ip addr add "$GWA_INT_ADDR/24" dev int0
	nsx "$NS_GWA" ip addr add "$GWA_EXT_ADDR/24" dev ext0
	nsx "$NS_GWA" ip route add default via "$NATA_IN_ADDR"
	nsx "$NS_GWA" sysctl -qw net.ipv4.ip_forward=1
	nsx "$NS_NATA" ip addr add "$NATA_IN_ADDR/24" dev in0
	nsx "$NS_NATA" ip addr add "$NATA_PUB_ADDR/24" dev out0
	nsx "$NS_NATA" ip route add 10.20.1.0/24 via "$GWA_EXT_ADDR"
	nsx "$NS_NATA" sysctl -qw net.ipv4.ip_forward=1
	legacy_nat_rules "$NS_NATA" "$NATA_PUB_ADDR" "$GWA_EXT_ADDR" "$NATA_PORTS" "${v6a[@]}" ||
		e2e_fail "cannot install NAT A's ruleset"

	nsx "$NS_HB" ip addr add "$HB_ADDR/24" dev eth0
	nsx "$NS_HB" ip route add default via "$GWB_INT_ADDR"
	nsx "$NS_GWB" ip addr add "$GWB_INT_ADDR/24" dev int0
	nsx "$NS_GWB" ip addr add "$GWB_EXT_ADDR/24" dev ext0
	nsx "$NS_GWB" ip route add default via "$NATB_IN_ADDR"
	nsx "$NS_GWB" sysctl -qw net.ipv4.ip_forward=1
	nsx "$NS_NATB" ip addr add "$NATB_IN_ADDR/24" dev in0
	nsx "$NS_NATB" ip addr add "$NATB_PUB_ADDR/24" dev out0
	nsx "$NS_NATB" ip route add 10.30.1.0/24 via "$GWB_EXT_ADDR"
	nsx "$NS_NATB" sysctl -qw net.ipv4.ip_forward=1
	legacy_nat_rules "$NS_NATB" "$NATB_PUB_ADDR" "$GWB_EXT_ADDR" "$NATB_PORTS" "${v6b[@]}" ||
		e2e_fail "cannot install NAT B's ruleset"
	[ "$TOPO_IPV6" != 1 ] || s2s_ipv6

	if command -v ping >/dev/null 2>&1; then
		nsx "$NS_HA" ping -c1 -W2 "$NATB_PUB_ADDR" >/dev/null ||
			e2e_fail "topology: $HA_ADDR cannot ping $NATB_PUB_ADDR"
		nsx "$NS_HB" ping -c1 -W2 "$NATA_PUB_ADDR" >/dev/null ||
			e2e_fail "topology: $HB_ADDR cannot ping $NATA_PUB_ADDR"
	fi
	e2e_log "topology up: HA $HA_ADDR - GWA - NATA $NATA_PUB_ADDR ~ NATB $NATB_PUB_ADDR - GWB - HB $HB_ADDR$([ "$TOPO_IPV6" = 1 ] && echo "; IPv6 HA $HA_ADDR6 - NATA $NATA_PUB_ADDR6 ~ NATB $NATB_PUB_ADDR6 - HB $HB_ADDR6")"
}

s2s_fail()
{
	local s
	cap_stop
	[ -n "${CAP_FILE:-}" ] && [ -s "$CAP_FILE" ] && cap_summary "$CAP_FILE"
	for s in A B; do
		echo "---- gateway $s ----"
		site "$s" ctl show associations 2>&1 | head -n 10
		site "$s" ctl show stats 2>&1 | grep -v ' 0$' | head -n 40
		if [ "$s" = B ] && [ -s "${S_LOG[B]}" ]; then
			echo "---- gateway B log (last 40 lines) ----"
			tail -n 40 "${S_LOG[B]}"
		fi
	done
	e2e_fail "$*"
}

# save_assocs A|B FILE: that gateway's table as JSON.
save_assocs()
{
	site "$1" ctl -j show associations >"$2" 2>"$E2E_TMP/ctl.err" ||
		s2s_fail "gateway $1: sctpgwctl -j show associations failed: $(cat "$E2E_TMP/ctl.err")"
}
