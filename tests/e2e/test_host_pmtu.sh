#!/usr/bin/env bash
# Host mode's first answer to a packet too big for the tunnel says the tunnel MTU. A
# native usrsctp client on the gateway host itself (GW, host mode) sends 1400-byte
# lines with DF to the RFC 6951 echo server beyond the legacy NAT; GW's route to the
# peer carries 1400 bytes (locked route MTU; links at 1500), so the tunnel carries 1392.
# The output hook, where output_sctp queues, comes before the kernel enforces any MTU
# on a locally generated packet (usrsctp's IPv4 raw packets are checked only against
# the device's MTU when sent): every "fragmentation needed" on GW's loopback quoting a
# packet to the peer must be the daemon's, saying 1392, and none the kernel's 1400.
# IPv4 only: usrsctp's IPv6 raw sockets meet the route MTU in the kernel's send call,
# before any hook, and Linux kernel SCTP cannot run in GW (the host kernel has none;
# the daemon would have to run inside the VM). usrsctp never shrinks its packets, so
# nothing comes back: only the ICMP is checked.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

PATH_MTU=1400
TUNNEL_MTU=$((PATH_MTU - 8))
LINE_LEN=1400

e2e_begin tshark
nsx "$NS_GW" ip route replace default via "$NAT_IN_ADDR" mtu lock "$PATH_MTU" ||
	e2e_fail "cannot set the route MTU on GW"
echo_server_start "$NS_PEER" "$ENCAPS_PORT" "$ENCAPS_PORT"

conf="$E2E_TMP/gw.conf"
gw_write_config "$conf" "host-mode yes" "encapsulate to any" "udp-port $ENCAPS_PORT" "queue 0"
gw_start "$conf"
cap_start "$NS_GW" lo loopback

echo_client_start host "$NS_GW" "$PEER_ADDR" 7 0 0 0
echo_send 1 # a small line first: the association is up before the big one
echo_wait 1 10 || e2e_fail_dump "the gateway host's client got no echo of a small line"
pad=$(printf '%*s' "$LINE_LEN" '' | tr ' ' x)
line="tok-$ECHO_NAME-$$-2-$pad"
printf '%s\n' "${line:0:$((LINE_LEN - 1))}" >&"$ECHO_FD"
filter="icmp.type == 3 && icmp.code == 4 && ip.dst == $PEER_ADDR"
# shellcheck disable=SC2317 # called through e2e_until
icmp_seen() { [ "$(cap_count "$CAP_FILE" "$filter" 2>/dev/null)" -ge 1 ] 2>/dev/null; }
e2e_until 10 icmp_seen || true
sleep 3 # the retransmissions' answers too
echo_close 1 >/dev/null || true
cap_stop

mtus=$(cap_fields "$CAP_FILE" "$filter" icmp.mtu | tr '\n' ' ')
first=$(echo "$mtus" | awk '{ print $1 }')
e2e_log "ICMP frag-needed on GW's loopback for packets to $PEER_ADDR: ${mtus:-none}"
[ "${first:-none}" = "$TUNNEL_MTU" ] ||
	{ cap_summary "$CAP_FILE"; e2e_fail_dump "the first frag-needed says ${first:-none}, not $TUNNEL_MTU"; }
case " $mtus " in *" $PATH_MTU "*) e2e_fail_dump "a frag-needed says the route MTU $PATH_MTU (the kernel's)" ;; esac
grep -q "told the host" "$GW_LOG" || e2e_fail_dump "the daemon never logged telling the host the MTU"

gw_stop TERM || e2e_fail "daemon did not stop on SIGTERM"
[ "$GW_STATUS" = 0 ] || e2e_fail "daemon exit status $GW_STATUS on SIGTERM"
e2e_pass "host mode, route MTU $PATH_MTU: frag-needed on loopback say $mtus(the daemon's, first $first)"
