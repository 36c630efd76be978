# shellcheck shell=bash
# lib.sh - shared helpers for the end-to-end tests; each test sources it.
#
# Topology (one set of namespaces per test run, names unique per test and pid):
#
#   IN 10.10.1.2 --- 10.10.1.1 GW 100.64.0.2 --- 100.64.0.1 NAT 203.0.113.1 --- 203.0.113.2 PEER
#   native SCTP       sctp-udp-gw                 legacy NAT: masquerade,     RFC 6951 peer
#                                                 drops IP proto 132,
#                                                 DNAT udp 9899 -> GW
#
# Every test: e2e_init; topo_up; ...; e2e_pass "message" (most begin with e2e_begin,
# which does both and the checks between, and start the daemon with gw_up). Teardown is
# in an EXIT trap (also reached on SIGTERM from timeout(1)), so nothing is left behind.
#
# Environment knobs:
#   SCTPGW_BUILDDIR   where sctp-udp-gw and sctpgwctl are (default: the source tree)
#   E2E_LOGDIR        keep each test's artifacts (logs, captures) under this directory
#   E2E_NS_PREFIX     namespace name prefix (test.sh sets one per run to sweep leftovers)
#   E2E_KEEP=1        keep the artifact directory even when the test passes
#   E2E_VALGRIND=1    run the daemon under valgrind (errors fail gw_stop)
#   E2E_GW_DEBUG=0    do not pass -d to the daemon
#
# Topology options, set by a test before topo_up (all off by default):
#   TOPO_IN2=1        a second internal host IN2 (10.10.1.3); GW's int0 and int1 are
#                     then ports of a bridge br0 that holds 10.10.1.1
#   TOPO_PEER_NAT=1   the peer sits behind its own NAT (namespace PNAT): PEER has the
#                     private 192.168.77.2, PNAT the public 203.0.113.2 (PEER_ADDR),
#                     masquerades UDP into PNAT_PORT_LO-HI and forwards UDP 9899 to PEER
#                     (IPv4 only; with TOPO_IPV6 also PEER fd00:77::2 behind PNAT's
#                     2001:db8:113::2, masqueraded the same way)
#   TOPO_PEER_ADDR2=1 the peer is multi-homed: a second address 203.0.113.3 behind a
#                     port forward (UDP PEER_ADDR2_PORT, 9911, to the peer's 9899); see
#                     peer_addr2_rules for how its answers leave from that address
#   TOPO_IPV6=1       IPv6 as well (dual stack): fd00:10::/64 inside, fd00:64::/64
#                     between GW and NAT, 2001:db8:113::/64 outside; NAT66 masquerade
#                     and the DNAT of UDP 9899 in the same inet table as for IPv4

set -u -o pipefail

E2E_NAME=$(basename "$0" .sh)
E2E_SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
E2E_BUILDDIR=${SCTPGW_BUILDDIR:-$E2E_SRCDIR}
GW_BIN=${SCTPGW_DAEMON:-$E2E_BUILDDIR/sctp-udp-gw}
CTL_BIN=${SCTPGW_CTL:-$E2E_BUILDDIR/sctpgwctl}
USRSCTP_DIR=${USRSCTP_DIR:-/usr/lib/usrsctp}

# Addresses of the topology, used by tests and by the demo.
IN_ADDR=10.10.1.2
GW_INT_ADDR=10.10.1.1
GW_EXT_ADDR=100.64.0.2
NAT_IN_ADDR=100.64.0.1
NAT_OUT_ADDR=203.0.113.1
PEER_ADDR=203.0.113.2
ENCAPS_PORT=9899
# More UDP ports the outside checks accept as SCTP encapsulation (a test whose peer
# listens elsewhere adds its port; tshark decodes only 9899 as SCTP by itself).
CAP_EXTRA_PORTS=()
# The NAT translates UDP source ports into this range, so a port the peer or the
# gateway learns is visibly not the one the sender chose.
NAT_PORT_LO=40000
NAT_PORT_HI=40999

# Optional parts (see the topology options above).
IN2_ADDR=10.10.1.3
PEER_ADDR2=203.0.113.3
PEER_ADDR2_PORT=9911
# The legacy NAT maps flows toward PEER_ADDR2 into their own range (peer_addr2_rules).
NAT_PORT2_LO=41000
NAT_PORT2_HI=41999
PEER_PRIV_ADDR=192.168.77.2
PNAT_IN_ADDR=192.168.77.1
PNAT_PORT_LO=50000
PNAT_PORT_HI=50999
PEER_PRIV_ADDR6=fd00:77::2
PNAT_IN_ADDR6=fd00:77::1
IN_ADDR6=fd00:10::2
GW_INT_ADDR6=fd00:10::1
GW_EXT_ADDR6=fd00:64::2
NAT_IN_ADDR6=fd00:64::1
NAT_OUT_ADDR6=2001:db8:113::1
PEER_ADDR6=2001:db8:113::2
TOPO_IN2=${TOPO_IN2:-0}
TOPO_PEER_NAT=${TOPO_PEER_NAT:-0}
TOPO_PEER_ADDR2=${TOPO_PEER_ADDR2:-0}
TOPO_IPV6=${TOPO_IPV6:-0}

E2E_PIDS=()
E2E_FIFO_FDS=()
E2E_NS=()
E2E_RESULT=""
GW_PID=""
GW_STATUS=""
CAP_PID=""

e2e_log() { printf '%s [%s] %s\n' "$(date +%T.%3N)" "$E2E_NAME" "$*"; }

# Short unique prefix: interface names live inside the namespaces, so only namespace
# names need to be unique across concurrent tests.
e2e_init()
{
	if [ "$(id -u)" != 0 ]; then
		echo "FAIL $E2E_NAME: needs root (network namespaces, raw sockets, nftables)"
		exit 1
	fi
	local short=${E2E_NAME#test_}
	NS_PFX="${E2E_NS_PREFIX:-sgw}-${short:0:20}-$$"
	NS_IN="$NS_PFX-in"
	NS_GW="$NS_PFX-gw"
	NS_NAT="$NS_PFX-nat"
	NS_PEER="$NS_PFX-peer"
	NS_IN2="$NS_PFX-in2"
	NS_PNAT="$NS_PFX-pnat"
	if [ -n "${E2E_LOGDIR:-}" ]; then
		mkdir -p "$E2E_LOGDIR"
		E2E_TMP=$(mktemp -d "$E2E_LOGDIR/$E2E_NAME.XXXXXX")
	else
		E2E_TMP=$(mktemp -d "/tmp/sctpgw-$E2E_NAME.XXXXXX")
	fi
	GW_LOG="$E2E_TMP/gw.log"
	GW_CONF="$E2E_TMP/gw.conf"
	GW_SOCK="$E2E_TMP/gw.sock"
	trap e2e_cleanup EXIT
	trap 'e2e_log "interrupted (SIGTERM)"; exit 143' TERM
	trap 'e2e_log "interrupted (SIGINT)"; exit 130' INT
	trap 'exit 129' HUP
	e2e_log "namespaces $NS_PFX-*, artifacts in $E2E_TMP"
}

# e2e_begin [TOOL...]: how most tests begin: e2e_init, the usrsctp peers, the tools
# named, a built daemon, then the topology (with the TOPO_* options set before).
# shellcheck disable=SC2120 # the arguments are optional
e2e_begin()
{
	e2e_init
	need_usrsctp
	need_cmd "$@"
	need_gw
	topo_up
}

e2e_pass()
{
	E2E_RESULT=pass
	echo "PASS $E2E_NAME: $*"
	exit 0
}

e2e_fail()
{
	E2E_RESULT=fail
	echo "FAIL $E2E_NAME: $*"
	exit 1
}

e2e_skip()
{
	E2E_RESULT=skip
	echo "SKIP $E2E_NAME: $*"
	exit 77
}

need_cmd()
{
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || e2e_fail "missing tool: $c (run scripts/deps.sh)"
	done
}

need_usrsctp()
{
	if [ ! -x "$USRSCTP_DIR/client" ] || [ ! -x "$USRSCTP_DIR/echo_server" ]; then
		e2e_fail "usrsctp example programs not in $USRSCTP_DIR (apt-get install libusrsctp-examples)"
	fi
}

need_gw()
{
	[ -x "$GW_BIN" ] || e2e_fail "daemon not built: $GW_BIN (run scripts/build.sh)"
	[ -x "$CTL_BIN" ] || e2e_fail "control tool not built: $CTL_BIN (run scripts/build.sh)"
}

# Everything a test started: background processes first, then whatever is still in our
# namespaces (only processes we started can be there), then the namespaces.
e2e_cleanup()
{
	local rc=$? p ns pids fd
	trap - EXIT TERM INT HUP
	if [ -n "$GW_PID" ] && kill -0 "$GW_PID" 2>/dev/null; then
		kill -TERM "$GW_PID" 2>/dev/null
		e2e_wait_pid "$GW_PID" 3 || kill -KILL "$GW_PID" 2>/dev/null
	fi
	e2e_close_fifos
	for p in "${E2E_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${E2E_PIDS[@]}"; do
		e2e_wait_pid "$p" 2 || kill -KILL "$p" 2>/dev/null
	done
	for ns in "${E2E_NS[@]}"; do
		pids=$(ip netns pids "$ns" 2>/dev/null)
		if [ -n "$pids" ]; then
			# shellcheck disable=SC2086
			kill -KILL $pids 2>/dev/null
		fi
		ip netns del "$ns" 2>/dev/null
	done
	if [ "$rc" != 0 ] && [ "$rc" != 77 ]; then
		[ -n "$E2E_RESULT" ] || echo "FAIL $E2E_NAME: aborted (exit status $rc)"
		e2e_dump_logs
		echo "artifacts kept in $E2E_TMP"
	elif [ "${E2E_KEEP:-0}" = 1 ] || [ -n "${E2E_LOGDIR:-}" ]; then
		:
	else
		rm -rf "$E2E_TMP"
	fi
	exit "$rc"
}

# The daemon's log and the tail of every peer log: what a person needs to see first.
e2e_dump_logs()
{
	local f
	if [ -s "$GW_LOG" ]; then
		echo "---- daemon log ($GW_LOG, last 60 lines) ----"
		tail -n 60 "$GW_LOG"
	fi
	for f in "$E2E_TMP"/*.err; do
		[ -s "$f" ] || continue
		echo "---- $(basename "$f") (last 10 lines) ----"
		tail -n 10 "$f"
	done
	# Kernel test VMs (vm/lib.sh): their serial consoles.
	for f in "$E2E_TMP"/*.console; do
		[ -s "$f" ] || continue
		echo "---- $(basename "$f") (last 30 lines) ----"
		tail -n 30 "$f"
	done
	for f in "$E2E_TMP"/valgrind.*.log; do
		[ -s "$f" ] || continue
		echo "---- $(basename "$f") ----"
		tail -n 40 "$f"
	done
	echo "----"
}

# e2e_wait_pid PID SECONDS: 0 once PID is gone, 1 at the deadline. Polls, so a signal
# to the test is handled within 0.1 s.
e2e_wait_pid()
{
	local pid=$1 deadline=$((SECONDS + $2))
	while kill -0 "$pid" 2>/dev/null; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.1
	done
	return 0
}

# e2e_until SECONDS CMD...: run CMD until it succeeds or the deadline passes.
e2e_until()
{
	local deadline=$((SECONDS + $1))
	shift
	while ! "$@"; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.2
	done
	return 0
}

# Our ends of the client FIFOs: closed in the cleanup, and in every child we start, or
# a client would never see EOF while another process still held its FIFO open.
e2e_close_fifos()
{
	local fd
	for fd in "${E2E_FIFO_FDS[@]}"; do
		exec {fd}>&-
	done
}

# nsx NS CMD...: run a short command in a namespace.
nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# bg NAME NS CMD...: start a long-running command in a namespace in the background,
# stdout/stderr to $E2E_TMP/NAME.out / NAME.err; sets BG_PID.
bg()
{
	local name=$1 ns=$2
	shift 2
	(e2e_close_fifos; exec ip netns exec "$ns" "$@") \
		>"$E2E_TMP/$name.out" 2>"$E2E_TMP/$name.err" </dev/null &
	BG_PID=$!
	E2E_PIDS+=("$BG_PID")
}

ns_add()
{
	# The only kernel features the topology needs: a kernel without them skips (77).
	ip netns add "$1" || e2e_skip "cannot create network namespace $1 (kernel without netns?)"
	E2E_NS+=("$1")
	nsx "$1" ip link set lo up
	if [ "$TOPO_IPV6" = 1 ]; then
		# No duplicate address detection (addresses usable at once), no autoconf.
		nsx "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
			net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0
	else
		# IPv4 only: no router solicitations or MLD in the captures.
		nsx "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	fi
}

# addr6 NS ADDR/LEN DEV: an IPv6 address usable at once (testing-notes.md).
addr6() { nsx "$1" ip -6 addr add "$2" dev "$3" nodad; }

# veth NS1 IF1 NS2 IF2: a veth pair created directly inside the two namespaces, with TX
# checksum offload off so captures show the checksums really sent (testing-notes.md).
veth()
{
	ip -n "$1" link add "$2" type veth peer name "$4" netns "$3" ||
		e2e_skip "cannot create veth $1/$2 - $3/$4 (kernel without veth?)"
	nsx "$1" ethtool -K "$2" tx off >/dev/null
	nsx "$3" ethtool -K "$4" tx off >/dev/null
	ip -n "$1" link set "$2" up
	ip -n "$3" link set "$4" up
}

# legacy_nat_rules NS PUBLIC GW PORTS [PUBLIC6 GW6]: the legacy NAT in NS: masquerade out
# of "out0" (UDP source ports moved into PORTS, LO-HI), no SCTP forwarded in either
# direction, UDP 9899 to its public address(es) sent to GW.
legacy_nat_rules()
{
	local ns=$1 pub=$2 gw=$3 ports=$4 pub6=${5:-} gw6=${6:-} v6=""
	[ -z "$pub6" ] ||
		v6="iifname \"out0\" ip6 daddr $pub6 udp dport $ENCAPS_PORT dnat ip6 to [$gw6]:$ENCAPS_PORT"
	nsx "$ns" nft -f - <<EOF
table inet legacy_nat {
	chain forward_filter {
		type filter hook forward priority filter; policy accept;
		meta l4proto sctp counter drop comment "the legacy NAT: no SCTP"
	}
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		iifname "out0" ip daddr $pub udp dport $ENCAPS_PORT dnat ip to $gw:$ENCAPS_PORT
		$v6
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "out0" meta l4proto udp masquerade to :$ports
		oifname "out0" masquerade
	}
}
EOF
}

nat_rules()
{
	legacy_nat_rules "$NS_NAT" "$NAT_OUT_ADDR" "$GW_EXT_ADDR" "$NAT_PORT_LO-$NAT_PORT_HI" \
		"$NAT_OUT_ADDR6" "$GW_EXT_ADDR6"
}

# usrsctp_ootb_filter NS: several usrsctp stacks in one namespace each read every SCTP
# packet of the namespace on their raw sockets and may answer one for another stack's
# port as out of the blue, with an ABORT whose T bit reflects the tag; a gateway rightly
# carries it, the peer rightly accepts it, and the other stack's association dies (seen
# in about one run in seven with several clients, and in the site-to-site test where a
# host runs a client and an echo server). No stack sends an ABORT with the T bit for its
# own association here, so NS drops those. usrsctp_ootb_drops NS: how many so far.
usrsctp_ootb_filter()
{
	nsx "$1" nft -f - <<EOF || e2e_fail "cannot install the filter for out-of-the-blue ABORTs in $1"
table inet usrsctp_ootb {
	chain output {
		type filter hook output priority filter; policy accept;
		meta l4proto sctp @th,96,8 6 @th,104,8 & 1 == 1 counter drop comment "ABORT, T bit"
	}
}
EOF
}
usrsctp_ootb_drops()
{
	nsx "$1" nft list chain inet usrsctp_ootb output | grep -o 'packets [0-9]*' | cut -d' ' -f2
}

# SCTP packets the NAT dropped so far.
nat_sctp_drops()
{
	nsx "$NS_NAT" nft -j list chain inet legacy_nat forward_filter | python3 -c '
import json, sys
n = 0
for o in json.load(sys.stdin)["nftables"]:
    for e in o.get("rule", {}).get("expr", []):
        if "counter" in e:
            n += e["counter"]["packets"]
print(n)'
}

# The peer's own NAT (TOPO_PEER_NAT=1), a home router in front of it: masquerade out of
# "pub0" with UDP source ports in PNAT_PORT_LO-HI, UDP 9899 to its public address
# forwarded to PEER, and unsolicited UDP dropped silently (no port unreachable), as such
# NATs do. pnat_rebind moves the range.
pnat_rules()
{
	nsx "$NS_PNAT" nft -f - <<EOF
table inet peer_nat {
	chain input {
		type filter hook input priority filter; policy accept;
		iifname "pub0" meta l4proto udp counter drop comment "no port unreachable"
	}
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		iifname "pub0" ip daddr $PEER_ADDR udp dport $ENCAPS_PORT dnat ip to $PEER_PRIV_ADDR:$ENCAPS_PORT
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "pub0" meta l4proto udp masquerade to :$PNAT_PORT_LO-$PNAT_PORT_HI
		oifname "pub0" masquerade
	}
}
EOF
}

# pnat_rebind LO HI: the peer's NAT forgets its mappings and uses new UDP ports from now
# on (changing the range alone does not move existing flows: flush conntrack as well).
pnat_rebind()
{
	PNAT_PORT_LO=$1
	PNAT_PORT_HI=$2
	nsx "$NS_PNAT" nft flush chain inet peer_nat postrouting &&
		nsx "$NS_PNAT" nft add rule inet peer_nat postrouting oifname "pub0" \
			meta l4proto udp masquerade to ":$PNAT_PORT_LO-$PNAT_PORT_HI" &&
		nsx "$NS_PNAT" nft add rule inet peer_nat postrouting oifname "pub0" masquerade &&
		nsx "$NS_PNAT" conntrack -F 2>/dev/null
}

# The multi-homed peer (TOPO_PEER_ADDR2=1). usrsctp sends its UDP-encapsulated packets
# from a socket bound to the wildcard address, so the kernel picks the source address
# by route: every answer to the NAT's one public address would leave from PEER_ADDR,
# including heartbeat answers for PEER_ADDR2, and the gateway would never hear from
# PEER_ADDR2 (a property of that peer, not of SCTP). To model a peer that answers from
# the address it was probed on, the NAT maps flows toward PEER_ADDR2 into their own
# port range, and PEER rewrites, statelessly, what it sends into that range to come
# from PEER_ADDR2:PEER_ADDR2_PORT (and what arrives there to its own port 9899), so
# the second address also sits behind a port forward: its UDP port is not 9899.
peer_addr2_rules()
{
	nsx "$NS_NAT" nft insert rule inet legacy_nat postrouting oifname "out0" \
		ip daddr "$PEER_ADDR2" meta l4proto udp masquerade to ":$NAT_PORT2_LO-$NAT_PORT2_HI" ||
		return 1
	nsx "$NS_PEER" nft -f - <<EOF
table ip peer_addr2 {
	chain prerouting {
		type filter hook prerouting priority raw; policy accept;
		ip daddr $PEER_ADDR2 udp dport $PEER_ADDR2_PORT udp dport set $ENCAPS_PORT
	}
	chain output {
		type filter hook output priority raw; policy accept;
		ip saddr $PEER_ADDR ip daddr $NAT_OUT_ADDR udp sport $ENCAPS_PORT udp dport $NAT_PORT2_LO-$NAT_PORT2_HI ip saddr set $PEER_ADDR2 udp sport set $PEER_ADDR2_PORT
	}
}
EOF
}

# topo_gw_nat GW_NS INT_DEV INT_ADDR EXT_ADDR NAT_NS NAT_IN_ADDR NAT_OUT_ADDR LAN: IPv4 of
# a gateway (INT_DEV and ext0, /24s, default route via the NAT, forwarding) and of the
# NAT in front of it (in0 and out0, LAN routed back via the gateway, forwarding).
topo_gw_nat()
{
	nsx "$1" ip addr add "$3/24" dev "$2"
	nsx "$1" ip addr add "$4/24" dev ext0
	nsx "$1" ip route add default via "$6"
	nsx "$1" sysctl -qw net.ipv4.ip_forward=1

	nsx "$5" ip addr add "$6/24" dev in0
	nsx "$5" ip addr add "$7/24" dev out0
	nsx "$5" ip route add "$8" via "$4"
	nsx "$5" sysctl -qw net.ipv4.ip_forward=1
}

topo_up()
{
	need_cmd ip nft ethtool python3
	[ "$TOPO_PEER_NAT" = 1 ] && need_cmd conntrack
	ns_add "$NS_IN"
	ns_add "$NS_GW"
	ns_add "$NS_NAT"
	ns_add "$NS_PEER"
	[ "$TOPO_IN2" = 1 ] && ns_add "$NS_IN2"
	[ "$TOPO_PEER_NAT" = 1 ] && ns_add "$NS_PNAT"
	veth "$NS_IN" eth0 "$NS_GW" int0
	veth "$NS_GW" ext0 "$NS_NAT" in0
	if [ "$TOPO_PEER_NAT" = 1 ]; then
		veth "$NS_NAT" out0 "$NS_PNAT" pub0
		veth "$NS_PNAT" priv0 "$NS_PEER" eth0
	else
		veth "$NS_NAT" out0 "$NS_PEER" eth0
	fi

	nsx "$NS_IN" ip addr add "$IN_ADDR/24" dev eth0
	nsx "$NS_IN" ip route add default via "$GW_INT_ADDR"

	local gw_int=int0
	if [ "$TOPO_IN2" = 1 ]; then
		# Both internal hosts on one LAN: a bridge in GW.
		veth "$NS_IN2" eth0 "$NS_GW" int1
		nsx "$NS_GW" ip link add br0 type bridge
		nsx "$NS_GW" ip link set int0 master br0
		nsx "$NS_GW" ip link set int1 master br0
		nsx "$NS_GW" ip link set br0 up
		gw_int=br0
		nsx "$NS_IN2" ip addr add "$IN2_ADDR/24" dev eth0
		nsx "$NS_IN2" ip route add default via "$GW_INT_ADDR"
	fi
	topo_gw_nat "$NS_GW" "$gw_int" "$GW_INT_ADDR" "$GW_EXT_ADDR" \
		"$NS_NAT" "$NAT_IN_ADDR" "$NAT_OUT_ADDR" 10.10.1.0/24
	nat_rules || e2e_fail "cannot install the NAT ruleset"

	if [ "$TOPO_PEER_NAT" = 1 ]; then
		nsx "$NS_PNAT" ip addr add "$PEER_ADDR/24" dev pub0
		nsx "$NS_PNAT" ip addr add "$PNAT_IN_ADDR/24" dev priv0
		nsx "$NS_PNAT" sysctl -qw net.ipv4.ip_forward=1
		pnat_rules || e2e_fail "cannot install the peer NAT's ruleset"
		nsx "$NS_PEER" ip addr add "$PEER_PRIV_ADDR/24" dev eth0
		nsx "$NS_PEER" ip route add default via "$PNAT_IN_ADDR"
	else
		nsx "$NS_PEER" ip addr add "$PEER_ADDR/24" dev eth0
		if [ "$TOPO_PEER_ADDR2" = 1 ]; then
			nsx "$NS_PEER" ip addr add "$PEER_ADDR2/24" dev eth0
			peer_addr2_rules || e2e_fail "cannot install the second peer address's rules"
		fi
	fi

	if [ "$TOPO_IPV6" = 1 ]; then
		addr6 "$NS_IN" "$IN_ADDR6/64" eth0
		nsx "$NS_IN" ip -6 route add default via "$GW_INT_ADDR6"
		addr6 "$NS_GW" "$GW_INT_ADDR6/64" "$gw_int"
		addr6 "$NS_GW" "$GW_EXT_ADDR6/64" ext0
		nsx "$NS_GW" ip -6 route add default via "$NAT_IN_ADDR6"
		nsx "$NS_GW" sysctl -qw net.ipv6.conf.all.forwarding=1
		addr6 "$NS_NAT" "$NAT_IN_ADDR6/64" in0
		addr6 "$NS_NAT" "$NAT_OUT_ADDR6/64" out0
		nsx "$NS_NAT" ip -6 route add fd00:10::/64 via "$GW_EXT_ADDR6"
		nsx "$NS_NAT" sysctl -qw net.ipv6.conf.all.forwarding=1
		if [ "$TOPO_PEER_NAT" != 1 ]; then
			addr6 "$NS_PEER" "$PEER_ADDR6/64" eth0
		else
			# NAT66 in PNAT: the same inet masquerade rules as for IPv4.
			addr6 "$NS_PNAT" "$PEER_ADDR6/64" pub0
			addr6 "$NS_PNAT" "$PNAT_IN_ADDR6/64" priv0
			nsx "$NS_PNAT" sysctl -qw net.ipv6.conf.all.forwarding=1
			addr6 "$NS_PEER" "$PEER_PRIV_ADDR6/64" eth0
			nsx "$NS_PEER" ip -6 route add default via "$PNAT_IN_ADDR6"
		fi
	fi

	# Plain IP reachability end to end, when ping is there (it is not a dependency).
	if command -v ping >/dev/null 2>&1; then
		nsx "$NS_IN" ping -c1 -W2 "$PEER_ADDR" >/dev/null ||
			e2e_fail "topology: $IN_ADDR cannot ping $PEER_ADDR"
	fi
	e2e_log "topology up: IN $IN_ADDR - GW $GW_INT_ADDR/$GW_EXT_ADDR - NAT $NAT_IN_ADDR/$NAT_OUT_ADDR - PEER $PEER_ADDR$(topo_extras)"
}

topo_extras()
{
	[ "$TOPO_IN2" = 1 ] && printf '; IN2 %s' "$IN2_ADDR"
	[ "$TOPO_PEER_NAT" = 1 ] && printf '; PEER %s behind PNAT %s' "$PEER_PRIV_ADDR" "$PEER_ADDR"
	[ "$TOPO_PEER_ADDR2" = 1 ] && printf '; PEER also %s' "$PEER_ADDR2"
	[ "$TOPO_IPV6" = 1 ] && printf '; IPv6 IN %s - PEER %s' "$IN_ADDR6" "$PEER_ADDR6"
	return 0
}

# ---- the daemon ----------------------------------------------------------------------

# The one place that knows what the daemon installs in nftables.
GW_NFT_TABLES=("inet sctp_udp_gw")

# gw_table_present: 0 when every table of the daemon exists in GW.
gw_table_present()
{
	local t
	for t in "${GW_NFT_TABLES[@]}"; do
		# shellcheck disable=SC2086
		nsx "$NS_GW" nft list table $t >/dev/null 2>&1 || return 1
	done
	return 0
}

# gw_table_absent: 0 when no table of the daemon exists in GW.
gw_table_absent()
{
	local t
	for t in "${GW_NFT_TABLES[@]}"; do
		# shellcheck disable=SC2086
		! nsx "$NS_GW" nft list table $t >/dev/null 2>&1 || return 1
	done
	return 0
}

# ctl ARGS...: sctpgwctl against the test's daemon, bounded.
ctl() { nsx "$NS_GW" timeout 5 "$CTL_BIN" -s "$GW_SOCK" "$@"; }

gw_ready() { ctl show associations >/dev/null 2>&1; }

# gw_write_config FILE LINES...: a config file, one statement per argument.
gw_write_config()
{
	local f=$1
	shift
	printf '%s\n' "# written by $E2E_NAME" "$@" >"$f"
}

# The configuration most tests run: IN's network, encapsulation to any peer, the
# topology's UDP port and queue 0.
GW_CONF_BASE=("internal 10.10.1.0/24" "encapsulate to any" "udp-port $ENCAPS_PORT" "queue 0")

# gw_up [STATEMENT...]: write GW_CONF from GW_CONF_BASE and then the statements given,
# and start the daemon with it.
# shellcheck disable=SC2120 # the arguments are optional
gw_up()
{
	gw_write_config "$GW_CONF" "${GW_CONF_BASE[@]}" "$@"
	gw_start "$GW_CONF"
}

# gw_start CONFIG: the daemon in GW, in the foreground of a background job, logging to
# $GW_LOG; returns once sctpgwctl gets an answer, fails the test after 5 s.
gw_start()
{
	local conf=$1 wrap=() limit=5 dbg=()
	need_gw
	nsx "$NS_GW" "$GW_BIN" -n -c "$conf" >>"$GW_LOG" 2>&1 ||
		{ cat "$conf"; e2e_fail "sctp-udp-gw -n rejects the test's config $conf"; }
	[ "${E2E_GW_DEBUG:-1}" = 1 ] && dbg=(-d)
	if [ "${E2E_VALGRIND:-0}" = 1 ]; then
		need_cmd valgrind
		wrap=(valgrind --quiet --error-exitcode=99 --leak-check=full
		      --errors-for-leak-kinds=definite --log-file="$E2E_TMP/valgrind.%p.log")
		limit=30
	fi
	e2e_log "starting sctp-udp-gw -c $conf"
	(e2e_close_fifos
	 exec ip netns exec "$NS_GW" "${wrap[@]}" "$GW_BIN" -f -c "$conf" -s "$GW_SOCK" "${dbg[@]}") \
		>>"$GW_LOG" 2>&1 </dev/null &
	GW_PID=$!
	local deadline=$((SECONDS + limit))
	while ! gw_ready; do
		if ! kill -0 "$GW_PID" 2>/dev/null; then
			wait "$GW_PID"
			GW_STATUS=$?
			GW_PID=""
			e2e_fail "sctp-udp-gw exited with status $GW_STATUS during start-up"
		fi
		[ "$SECONDS" -lt "$deadline" ] ||
			e2e_fail "sctp-udp-gw not ready (sctpgwctl show associations) within ${limit} s"
		sleep 0.1
	done
	e2e_log "sctp-udp-gw ready (pid $GW_PID)"
}

# gw_stop [SIGNAL]: stop the daemon (default TERM); GW_STATUS is its exit status.
# Returns 1 if it had to be killed.
gw_stop()
{
	local sig=${1:-TERM}
	[ -n "$GW_PID" ] || return 0
	kill "-$sig" "$GW_PID" 2>/dev/null
	if ! e2e_wait_pid "$GW_PID" 5; then
		kill -KILL "$GW_PID" 2>/dev/null
		wait "$GW_PID" 2>/dev/null
		GW_STATUS=$?
		GW_PID=""
		e2e_log "sctp-udp-gw did not exit within 5 s of SIG$sig; killed"
		return 1
	fi
	wait "$GW_PID"
	GW_STATUS=$?
	GW_PID=""
	e2e_log "sctp-udp-gw stopped by SIG$sig, exit status $GW_STATUS"
	return 0
}

# gw_stop_ok: the daemon stops on SIGTERM with exit status 0; else the test fails.
gw_stop_ok()
{
	gw_stop TERM || e2e_fail "daemon did not stop on SIGTERM"
	[ "$GW_STATUS" = 0 ] || e2e_fail "daemon exit status $GW_STATUS on SIGTERM"
}

# ---- SCTP peers ----------------------------------------------------------------------

# echo_server_start NS LOCAL_ENCAPS REMOTE_ENCAPS: usrsctp echo server (SCTP port 7).
echo_server_start()
{
	local ns=$1
	bg "echo_server.$ns" "$ns" "$USRSCTP_DIR/echo_server" "$2" "$3"
	ECHO_SERVER_PID=$BG_PID
	# usrsctp opens its raw and UDP sockets at once; give it a moment and make sure it
	# is still alive (it exits if e.g. the UDP port is taken).
	sleep 0.5
	kill -0 "$ECHO_SERVER_PID" 2>/dev/null ||
		e2e_fail "echo_server in $ns exited: $(tail -n 3 "$E2E_TMP/echo_server.$ns.err")"
	if [ "$2" != 0 ]; then
		e2e_until 5 port_bound "$ns" "$2" ||
			e2e_fail "echo_server in $ns does not listen on UDP $2"
	fi
}

port_bound() { nsx "$1" ss -Hlun "sport = :$2" | grep -q .; }

# echo_client_start NAME NS ARGS...: usrsctp client ARGS in NS, stdin from a FIFO we
# hold open read-write (so it sees EOF only when we close it).
echo_client_start()
{
	local name=$1 ns=$2 fifo
	shift 2
	# Keep the current client's count before this one becomes current.
	[ "${ECHO_NAME:-}" ] && [ "${ECHO_SAVED[$ECHO_NAME]+x}" ] && echo_save
	fifo="$E2E_TMP/$name.fifo"
	mkfifo "$fifo"
	exec {ECHO_FD}<>"$fifo"
	E2E_FIFO_FDS+=("$ECHO_FD")
	ECHO_NAME=$name
	ECHO_OUT="$E2E_TMP/$name.out"
	ECHO_SENT=0
	# The client must not inherit our read-write descriptors, or it never sees EOF.
	(e2e_close_fifos; exec ip netns exec "$ns" "$USRSCTP_DIR/client" "$@") \
		<"$fifo" >"$ECHO_OUT" 2>"$E2E_TMP/$name.err" &
	ECHO_PID=$!
	E2E_PIDS+=("$ECHO_PID")
	echo_save
	e2e_log "client $name in $ns: client $*"
}

# Several clients at once: echo_client_start makes the new one current; echo_select
# NAME makes an earlier one current again for echo_send / echo_wait / echo_close.
declare -A ECHO_SAVED=()
echo_save() { ECHO_SAVED[$ECHO_NAME]="$ECHO_FD $ECHO_PID $ECHO_SENT"; }
echo_select()
{
	[ "${ECHO_NAME:-}" ] && [ "${ECHO_SAVED[$ECHO_NAME]+x}" ] && echo_save
	read -r ECHO_FD ECHO_PID ECHO_SENT <<<"${ECHO_SAVED[$1]}"
	ECHO_NAME=$1
	ECHO_OUT="$E2E_TMP/$1.out"
}

# echo_send COUNT: COUNT unique tokens, one message each.
echo_send()
{
	local i
	for ((i = 1; i <= $1; i++)); do
		printf 'tok-%s-%d-%d\n' "$ECHO_NAME" "$$" "$((ECHO_SENT + i))" >&"$ECHO_FD"
	done
	ECHO_SENT=$((ECHO_SENT + $1))
	echo_save
}

# echo_count: distinct tokens of this client echoed back so far.
echo_count()
{
	grep -ao "tok-$ECHO_NAME-$$-[0-9]*" "$ECHO_OUT" 2>/dev/null | sort -u | wc -l
}

# echo_wait WANT SECONDS: wait until WANT tokens came back; ECHO_GOT is the count.
echo_wait()
{
	local want=$1 deadline=$((SECONDS + $2))
	while :; do
		ECHO_GOT=$(echo_count)
		[ "$ECHO_GOT" -ge "$want" ] && return 0
		[ "$SECONDS" -lt "$deadline" ] || return 1
		kill -0 "$ECHO_PID" 2>/dev/null || { ECHO_GOT=$(echo_count); return 1; }
		sleep 0.2
	done
}

# echo_close SECONDS: EOF to the client (it sends SHUTDOWN) and wait for it to exit.
# 0 if it exited on its own, 1 if it had to be killed.
echo_close()
{
	exec {ECHO_FD}>&-
	if e2e_wait_pid "$ECHO_PID" "$1"; then
		wait "$ECHO_PID" 2>/dev/null
		return 0
	fi
	kill -TERM "$ECHO_PID" 2>/dev/null
	e2e_wait_pid "$ECHO_PID" 2 || kill -KILL "$ECHO_PID" 2>/dev/null
	wait "$ECHO_PID" 2>/dev/null
	return 1
}

# echo_exchange NAME NS COUNT SECONDS ARGS...: the whole exchange; ECHO_GOT tokens came
# back. Returns 0 when all did.
echo_exchange()
{
	local name=$1 ns=$2 count=$3 secs=$4 rc=0
	shift 4
	echo_client_start "$name" "$ns" "$@"
	echo_send "$count"
	echo_wait "$count" "$secs" || rc=1
	echo_close 5 || e2e_log "client $name did not exit after EOF; killed"
	ECHO_GOT=$(echo_count)
	e2e_log "client $name: $ECHO_GOT of $count tokens echoed"
	return $rc
}

# ---- captures ------------------------------------------------------------------------

# cap_start NS IF NAME: tshark writing $E2E_TMP/NAME.pcapng; returns once it captures.
cap_start()
{
	need_cmd tshark
	CAP_FILE="$E2E_TMP/$3.pcapng"
	bg "cap.$3" "$1" tshark -n -q -i "$2" -w "$CAP_FILE"
	CAP_PID=$BG_PID
	# "Capture started" comes once dumpcap really captures; "Capturing on" comes before.
	e2e_until 10 grep -qs "Capture started" "$E2E_TMP/cap.$3.err" ||
		e2e_fail "tshark did not start on $1/$2: $(cat "$E2E_TMP/cap.$3.err")"
}

cap_stop()
{
	[ -n "$CAP_PID" ] || return 0
	sleep 0.5 # let the last packets reach the file
	kill -INT "$CAP_PID" 2>/dev/null
	e2e_wait_pid "$CAP_PID" 5 || kill -KILL "$CAP_PID" 2>/dev/null
	wait "$CAP_PID" 2>/dev/null
	CAP_PID=""
}

# cap_fields FILE FILTER FIELDS...: tab-separated fields, checksums verified. A filter
# tshark rejects is an error (status 1, message on stderr), never "no packets".
cap_fields()
{
	local f=$1 filter=$2 args=() x out
	shift 2
	for x in "$@"; do
		args+=(-e "$x")
	done
	for x in "${CAP_EXTRA_PORTS[@]}"; do
		args+=(-d "udp.port==$x,sctp")
	done
	if ! out=$(tshark -n -r "$f" -o sctp.checksum:CRC-32C -o udp.check_checksum:TRUE \
		-Y "$filter" -T fields -E separator=/t "${args[@]}" 2>"$E2E_TMP/tshark.err"); then
		echo "tshark failed on filter '$filter': $(grep -v 'Running as user' "$E2E_TMP/tshark.err" | head -n 3)" >&2
		return 1
	fi
	[ -z "$out" ] || printf '%s\n' "$out"
}

# cap_count FILE FILTER: matching frames. On a tshark error it prints "error", which
# fails every numeric comparison the tests make, so a broken check never passes.
cap_count()
{
	local out
	out=$(cap_fields "$1" "$2" frame.number) || { echo error; return 1; }
	if [ -z "$out" ]; then echo 0; else printf '%s\n' "$out" | wc -l; fi
}

# cap_summary FILE: a few lines for a failure report.
cap_summary()
{
	echo "---- capture $1 ($(cap_count "$1" "frame") frames, first 30) ----"
	local x dec=()
	for x in "${CAP_EXTRA_PORTS[@]}"; do
		dec+=(-d "udp.port==$x,sctp")
	done
	tshark -n -r "$1" -o sctp.checksum:CRC-32C -o udp.check_checksum:TRUE "${dec[@]}" \
		2>/dev/null | head -n 30
}

# cap_check_outside FILE: what may cross the outside of the gateway. Prints one line per
# violation and a summary; returns the number of violations (0 = clean).
#  - only UDP with port ENCAPS_PORT (or one of CAP_EXTRA_PORTS) on one side (IPv4 or
#    IPv6), each datagram decoded
#    as SCTP; besides that only ARP and IPv6 neighbour discovery / MLD
#  - no native SCTP (IP protocol 132)
#  - every SCTP CRC32c good, every UDP checksum good
# CAP_SCTP is the number of SCTP-in-UDP packets seen.
cap_check_outside()
{
	local f=$1 bad=0 n p ports="udp.port == $ENCAPS_PORT"
	for p in "${CAP_EXTRA_PORTS[@]}"; do
		ports+=" || udp.port == $p"
	done
	CAP_SCTP=$(cap_count "$f" "udp && sctp")
	n=$(cap_count "$f" "ip.proto == 132")
	[ "$n" = 0 ] || { echo "  $n native SCTP packets (IP protocol 132)"; bad=$((bad + 1)); }
	n=$(cap_count "$f" "ipv6.nxt == 132")
	[ "$n" = 0 ] || { echo "  $n native SCTP packets over IPv6"; bad=$((bad + 1)); }
	n=$(cap_count "$f" "!($ports) && !arp && !(icmpv6.type == 133 || icmpv6.type == 134 || icmpv6.type == 135 || icmpv6.type == 136 || icmpv6.type == 143)")
	[ "$n" = 0 ] || { echo "  $n packets other than UDP port $ENCAPS_PORT ${CAP_EXTRA_PORTS[*]} (and ARP, ND)"; bad=$((bad + 1)); }
	n=$(cap_count "$f" "udp && !sctp")
	[ "$n" = 0 ] || { echo "  $n UDP datagrams not decoded as SCTP"; bad=$((bad + 1)); }
	n=$(cap_count "$f" "sctp && sctp.checksum.status != 1")
	[ "$n" = 0 ] || { echo "  $n SCTP packets whose CRC32c is not good"; bad=$((bad + 1)); }
	n=$(cap_count "$f" "udp && udp.checksum.status != 1")
	[ "$n" = 0 ] || { echo "  $n UDP datagrams whose checksum is not good"; bad=$((bad + 1)); }
	[ "$CAP_SCTP" -gt 0 ] || { echo "  no SCTP-in-UDP packet at all"; bad=$((bad + 1)); }
	echo "  $CAP_SCTP SCTP-in-UDP packets checked, $bad violation(s)"
	return $bad
}

# cap_corrupt IN OUT: a copy of capture IN (as pcap) with the last byte of the first
# SCTP DATA packet flipped; cap_check_outside must reject it (proves the checks check).
cap_corrupt()
{
	local n
	n=$(cap_fields "$1" "sctp.chunk_type == 0" frame.number | head -n 1)
	[ -n "$n" ] || return 1
	editcap -F pcap "$1" "$2.tmp" || return 1
	python3 - "$2.tmp" "$2" "$n" <<'PYEOF'
import struct, sys
src, dst, want = sys.argv[1], sys.argv[2], int(sys.argv[3])
b = bytearray(open(src, "rb").read())
end = "<" if b[:4] == bytes.fromhex("d4c3b2a1") else ">"
off, num = 24, 0
while off < len(b):
    incl = struct.unpack(end + "I", b[off + 8:off + 12])[0]
    num += 1
    if num == want:
        b[off + 16 + incl - 1] ^= 0xff
        break
    off += 16 + incl
open(dst, "wb").write(b)
PYEOF
	rm -f "$2.tmp"
}

# cap_leaks FILE ADDR: frames that show the IPv4 or IPv6 address ADDR: in an IP header
# (also one quoted in ICMP), in an SCTP address parameter, or anywhere in the raw bytes
# outside a State Cookie. The cookie is opaque to the gateway (built and HMAC-signed by
# the endpoint that answers the INIT, which may write its own addresses into it), so the
# gateway cannot and must not rewrite it. Prints what it found; echoes the count.
cap_leaks()
{
	local f=$1 a=$2 hex n hdr
	hex=$(python3 -c '
import ipaddress, sys
print(":".join("%02x" % b for b in ipaddress.ip_address(sys.argv[1]).packed))' "$a") ||
		{ echo error; return 1; }
	if [[ $a == *:* ]]; then
		hdr="ipv6.addr == $a || sctp.parameter_ipv6_address == $a"
	else
		hdr="ip.addr == $a || sctp.parameter_ipv4_address == $a"
	fi
	n=$(cap_count "$f" "$hdr ||
		(frame contains $hex && !(sctp.parameter_state_cookie contains $hex ||
		 sctp.cookie contains $hex))")
	if [ "$n" != 0 ]; then
		cap_fields "$f" "frame contains $hex" frame.number ip.src ip.dst ipv6.src ipv6.dst \
			sctp.chunk_type sctp.parameter_type | head -n 10 >&2
	fi
	echo "$n"
}

# cap_outside_ok [ADDRESS...]: the (stopped) capture CAP_FILE holds only well-formed SCTP
# in UDP (cap_check_outside) and none of the internal addresses given; else the test fails.
# shellcheck disable=SC2120 # the arguments are optional
cap_outside_ok()
{
	local a leaks
	if ! cap_check_outside "$CAP_FILE"; then
		cap_summary "$CAP_FILE"
		e2e_fail "the outside carries something other than well-formed SCTP in UDP $ENCAPS_PORT"
	fi
	for a in "$@"; do
		leaks=$(cap_leaks "$CAP_FILE" "$a")
		[ "$leaks" = 0 ] || e2e_fail "$leaks packet(s) on the outside contain the internal address $a"
	done
}

# cap_expect FILTER MESSAGE: the (stopped) capture CAP_FILE has a packet matching the
# display filter FILTER; else the test fails with MESSAGE.
cap_expect()
{
	[ "$(cap_count "$CAP_FILE" "$1")" -gt 0 ] || e2e_fail "$2"
}

# ---- JSON from sctpgwctl -------------------------------------------------------------

# ctl_json NAME ARGS...: `sctpgwctl -j ARGS` into $E2E_TMP/NAME; the test fails (with
# e2e_fail_dump) if sctpgwctl does.
ctl_json()
{
	local f="$E2E_TMP/$1"
	shift
	ctl -j "$@" >"$f" 2>"$E2E_TMP/ctl.err" ||
		e2e_fail_dump "sctpgwctl -j $* failed: $(cat "$E2E_TMP/ctl.err")"
}

# stats_check CREATED [CHECK...]: `show stats` (in stats.json) has associations_created
# CREATED and passes the further json_check lines given, on `s`, the counters (e.g.
# STATS_NO_ABORTS); else the counters are shown and the test fails.
# shellcheck disable=SC2034 # for the tests
STATS_NO_ABORTS="check(s.get('aborts_sent', 0) == 0, 'aborts_sent %r' % s.get('aborts_sent'))"
stats_check()
{
	local c py="s = d.get('stats', {})
check(s.get('associations_created', 0) == $1, 'associations_created %r, expected $1' % s.get('associations_created'))"
	shift
	for c in "$@"; do
		py+=$'\n'"$c"
	done
	ctl_json stats.json show stats
	json_check "$E2E_TMP/stats.json" "$py" ||
		{ cat "$E2E_TMP/stats.json"; e2e_fail_dump "counters do not match the exchange"; }
}

# assocs_closed: 0 when no association the daemon lists is still open (each is in
# shutdown or closed, or none is left); the last answer is in $E2E_TMP/assoc-after.json.
assocs_closed()
{
	ctl -j show associations >"$E2E_TMP/assoc-after.json" 2>/dev/null &&
		json_check "$E2E_TMP/assoc-after.json" "
for a in d.get('associations', []):
    check(a.get('state') in ('shutdown', 'closed'), 'association %s still %s' % (a.get('id'), a.get('state')))
" >/dev/null
}

# e2e_fail_dump MESSAGE: stop the capture and show what explains a failed exchange (the
# capture summary, the counters, the associations, and anything the test put in
# E2E_FAIL_HOOK), then fail.
E2E_FAIL_HOOK=""
e2e_fail_dump()
{
	cap_stop
	[ -n "${CAP_FILE:-}" ] && cap_summary "$CAP_FILE"
	ctl -j show stats 2>&1 | grep -v ': 0,\?$' | head -n 60
	ctl show associations 2>&1 | head -n 20
	[ -z "$E2E_FAIL_HOOK" ] || $E2E_FAIL_HOOK
	e2e_fail "$*"
}

# json_check FILE PYTHON: run assertions on the parsed document `d`; each failed
# `check(cond, msg)` prints msg; exit status 1 if any failed.
json_check()
{
	python3 - "$1" "$2" <<'EOF'
import json, sys
path, code = sys.argv[1], sys.argv[2]
failed = []
def check(cond, msg):
    if not cond:
        failed.append(msg)
    return cond
try:
    with open(path) as fh:
        d = json.load(fh)
except Exception as e:
    print("  not JSON (%s): %s" % (e, open(path).read()[:500]))
    sys.exit(1)
exec(code, {"d": d, "check": check})
for m in failed:
    print("  " + m)
sys.exit(1 if failed else 0)
EOF
}
