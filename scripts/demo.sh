#!/usr/bin/env bash
# demo.sh - show what sctp-udp-gw is for, in network namespaces on this machine:
# a native SCTP client cannot cross a legacy NAT; with the gateway in front of it, it
# can. Installs dependencies, builds, sets up the topology, explains, cleans up.
#
#   sudo scripts/demo.sh [--no-deps] [--no-build]
set -uo pipefail

srcdir=$(cd "$(dirname "$0")/.." && pwd)
do_deps=1
do_build=1
for a in "$@"; do
	case $a in
	--no-deps) do_deps=0 ;;
	--no-build) do_build=0 ;;
	*) echo "usage: $0 [--no-deps] [--no-build]" >&2; exit 2 ;;
	esac
done

say() { printf '\n== %s\n' "$*"; }

[ "$(id -u)" = 0 ] || { echo "demo: needs root (network namespaces): sudo $0" >&2; exit 1; }

if [ "$do_deps" = 1 ]; then
	say "Installing what the demo needs (scripts/deps.sh)"
	"$srcdir/scripts/deps.sh" || exit 1
fi
if [ "$do_build" = 1 ]; then
	say "Building sctp-udp-gw (scripts/build.sh, output in /tmp/sctpgw-demo-build.log)"
	if ! "$srcdir/scripts/build.sh" >/tmp/sctpgw-demo-build.log 2>&1; then
		tail -n 30 /tmp/sctpgw-demo-build.log
		echo "demo: the build failed (full output in /tmp/sctpgw-demo-build.log)" >&2
		exit 1
	fi
	tail -n 1 /tmp/sctpgw-demo-build.log
fi

# The test library builds the topology and cleans it up on exit, however we exit.
# shellcheck source-path=SCRIPTDIR/.. source=tests/e2e/lib.sh
. "$srcdir/tests/e2e/lib.sh"
e2e_init
need_usrsctp
need_gw

cat <<EOF

== The network (four network namespaces, removed when the demo ends)

   IN                    GW                          NAT                          PEER
   $IN_ADDR  ------  $GW_INT_ADDR | $GW_EXT_ADDR  ------  $NAT_IN_ADDR | $NAT_OUT_ADDR  ------  $PEER_ADDR
   native SCTP           sctp-udp-gw                 legacy NAT:                  SCTP over UDP
   client                                            masquerade, no SCTP          (RFC 6951) echo
                                                     (IP protocol 132) at all     server, port 7
EOF
topo_up
echo_server_start "$NS_PEER" "$ENCAPS_PORT" "$ENCAPS_PORT"

say "1. Without the gateway: native SCTP from IN to $PEER_ADDR port 7"
echo "   GW only routes. The client sends its INIT; the NAT has no idea what SCTP is and drops it."
drops0=$(nat_sctp_drops)
echo_client_start without "$NS_IN" "$PEER_ADDR" 7 0 0 0
echo_send 3
echo_wait 1 8
got=$ECHO_GOT
echo_close 1 || true
drops=$(( $(nat_sctp_drops) - drops0 ))
echo "   After 8 seconds: $got of 3 messages echoed; the NAT dropped $drops SCTP packet(s)."
[ "$got" = 0 ] || echo "   (unexpected: something got through)"

say "2. Start the gateway on GW with the example configuration (conf/sctp-udp-gw.conf)"
conf="$E2E_TMP/sctp-udp-gw.conf"
if [ -f "$srcdir/conf/sctp-udp-gw.conf" ]; then
	cp "$srcdir/conf/sctp-udp-gw.conf" "$conf"
else
	echo "   (conf/sctp-udp-gw.conf not found: using the same settings written out here)"
	gw_write_config "$conf" "internal 10.10.1.0/24" "encapsulate to any" \
		"forward port 7 to $IN_ADDR" "udp-port $ENCAPS_PORT" "queue 0"
fi
grep -Ev '^[[:space:]]*(#|$)' "$conf" | sed 's/^/   | /'
gw_start "$conf"
echo "   The gateway installed its nftables table: native SCTP from 10.10.1.0/24 is queued to it"
echo "   and leaves as SCTP inside UDP port $ENCAPS_PORT, which the NAT translates like any UDP."

say "3. With the gateway: the same native client, unchanged"
cap_start "$NS_NAT" out0 outside
echo_client_start with "$NS_IN" "$PEER_ADDR" 7 0 0 0
echo_send 3
ok=1
if echo_wait 3 15; then
	echo "   All 3 messages came back:"
	grep -ao "tok-with-$$-[0-9]*" "$ECHO_OUT" | sort -u | sed 's/^/   < /'
else
	ok=0
	echo "   Only $ECHO_GOT of 3 messages came back. Gateway log:"
	tail -n 20 "$GW_LOG" | sed 's/^/   | /'
fi

say "4. The gateway's view: sctpgwctl show associations"
ctl show associations | sed 's/^/   /'

echo_close 10 || true
cap_stop
say "5. What crossed the NAT's public side (tshark on the NAT's outside interface)"
cap_fields "$CAP_FILE" "ip" ip.src udp.srcport ip.dst udp.dstport _ws.col.Info |
	head -n 12 | awk -F'\t' '{ printf "   %s:%s -> %s:%s  UDP carrying SCTP %s\n", $1, $2, $3, $4, $5 }'
if [ "$ok" = 1 ] && cap_check_outside "$CAP_FILE" >/dev/null &&
	[ "$(cap_leaks "$CAP_FILE" "$IN_ADDR")" = 0 ]; then
	echo "   Only SCTP inside UDP ($ENCAPS_PORT at the peer's end), checksums good; the NAT changed"
	echo "   the UDP source port like any UDP flow, and $IN_ADDR is in no header or address parameter."
else
	ok=0
	echo "   Not what it should be:"
	cap_check_outside "$CAP_FILE"
fi

say "6. Stop the gateway: it removes its nftables table and exits"
gw_stop TERM
if gw_table_absent; then
	echo "   Exit status $GW_STATUS; table removed."
else
	echo "   Exit status $GW_STATUS; table still present!"
fi

if [ "$ok" = 1 ]; then
	say "Done: native SCTP crossed the legacy NAT through the gateway. Cleaning up."
	# shellcheck disable=SC2034 # read by the library's exit trap
	E2E_RESULT=pass
	exit 0
fi
say "The demo did not work as it should (artifacts below are kept). Cleaning up."
# shellcheck disable=SC2034
E2E_RESULT=fail
exit 1
