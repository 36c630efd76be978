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

# s2s_site_up A|B: one site's host, gateway and NAT (the addresses above; the site's
# LAN is its host's /24, /64) and the NAT's ruleset; with TOPO_IPV6 dual stack.
s2s_site_up()
{
	local s=$1 ns v6=()
	local -n ns_h="NS_H$s" ns_g="NS_GW$s" ns_n="NS_NAT$s" h="H${s}_ADDR" \
		g_int="GW${s}_INT_ADDR" g_ext="GW${s}_EXT_ADDR" n_in="NAT${s}_IN_ADDR" \
		n_pub="NAT${s}_PUB_ADDR" ports="NAT${s}_PORTS" h6="H${s}_ADDR6" \
		g_int6="GW${s}_INT_ADDR6" g_ext6="GW${s}_EXT_ADDR6" n_in6="NAT${s}_IN_ADDR6" \
		n_pub6="NAT${s}_PUB_ADDR6"
	[ "$TOPO_IPV6" != 1 ] || v6=("$n_pub6" "$g_ext6")
	nsx "$ns_h" ip addr add "$h/24" dev eth0
	nsx "$ns_h" ip route add default via "$g_int"
	topo_gw_nat "$ns_g" int0 "$g_int" "$g_ext" "$ns_n" "$n_in" "$n_pub" "${h%.*}.0/24"
	legacy_nat_rules "$ns_n" "$n_pub" "$g_ext" "$ports" "${v6[@]}" ||
		e2e_fail "cannot install NAT $s's ruleset"
	[ "$TOPO_IPV6" = 1 ] || return 0

	addr6 "$ns_h" "$h6/64" eth0
	nsx "$ns_h" ip -6 route add default via "$g_int6"
	addr6 "$ns_g" "$g_int6/64" int0
	addr6 "$ns_g" "$g_ext6/64" ext0
	nsx "$ns_g" ip -6 route add default via "$n_in6"
	addr6 "$ns_n" "$n_in6/64" in0
	addr6 "$ns_n" "$n_pub6/64" out0
	nsx "$ns_n" ip -6 route add "${h6%::*}::/64" via "$g_ext6"
	for ns in "$ns_g" "$ns_n"; do
		nsx "$ns" sysctl -qw net.ipv6.conf.all.forwarding=1
	done
}

s2s_topo_up()
{
	local ns
	for ns in "$NS_HA" "$NS_GWA" "$NS_NATA" "$NS_NATB" "$NS_GWB" "$NS_HB"; do
		ns_add "$ns"
	done
	veth "$NS_HA" eth0 "$NS_GWA" int0
	veth "$NS_GWA" ext0 "$NS_NATA" in0
	veth "$NS_NATA" out0 "$NS_NATB" out0
	veth "$NS_NATB" in0 "$NS_GWB" ext0
	veth "$NS_GWB" int0 "$NS_HB" eth0
	s2s_site_up A
	s2s_site_up B

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

# s2s_stats_check CREATED: on both gateways `show stats` (stats.gwA.json, stats.gwB.json)
# has associations_created CREATED, no ABORT sent and no drop counter moved; else s2s_fail.
s2s_stats_check()
{
	local s
	for s in A B; do
		site "$s" ctl -j show stats >"$E2E_TMP/stats.gw$s.json" ||
			s2s_fail "gateway $s: sctpgwctl -j show stats failed"
		json_check "$E2E_TMP/stats.gw$s.json" "
st = d.get('stats', {})
check(st.get('associations_created') == $1, 'associations_created %r, expected $1' % st.get('associations_created'))
check(st.get('aborts_sent') == 0, 'aborts_sent %r' % st.get('aborts_sent'))
drops = {k: v for k, v in st.items() if k.startswith('drop_') and v}
check(not drops, 'packets dropped: %s' % drops)
" || s2s_fail "gateway $s: counters"
	done
}

# s2s_internet_ok PRIVATE_ADDRESS...: the (stopped) capture CAP_FILE between the NATs has
# only well-formed SCTP in UDP, no ABORT, only packets between the NATs' public
# addresses (with TOPO_IPV6 the IPv6 ones too) and none of the addresses given; else
# the test fails.
s2s_internet_ok()
{
	local n a leaks filter pub="{$NATA_PUB_ADDR, $NATB_PUB_ADDR}" pub6="{$NATA_PUB_ADDR6, $NATB_PUB_ADDR6}"
	if ! cap_check_outside "$CAP_FILE"; then
		cap_summary "$CAP_FILE"
		e2e_fail "the internet link carries something other than well-formed SCTP in UDP $ENCAPS_PORT"
	fi
	n=$(cap_count "$CAP_FILE" "sctp.chunk_type == 6")
	[ "$n" = 0 ] || { cap_summary "$CAP_FILE"; e2e_fail "$n ABORT(s) between the NATs"; }
	filter="ip && !(ip.src in $pub && ip.dst in $pub)"
	[ "$TOPO_IPV6" != 1 ] || filter="($filter) || (udp && ipv6 && !(ipv6.src in $pub6 && ipv6.dst in $pub6))"
	n=$(cap_count "$CAP_FILE" "$filter")
	[ "$n" = 0 ] || { cap_summary "$CAP_FILE"; e2e_fail "$n packet(s) between the NATs not between their public addresses"; }
	for a in "$@"; do
		leaks=$(cap_leaks "$CAP_FILE" "$a")
		[ "$leaks" = 0 ] || e2e_fail "$leaks packet(s) between the NATs contain the private address $a"
	done
}
