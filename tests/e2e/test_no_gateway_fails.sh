#!/usr/bin/env bash
# Without the gateway, native SCTP from IN cannot cross the legacy NAT; SCTP in UDP
# (RFC 6951) spoken by IN itself can. Proves the topology is the problem the gateway
# solves, and checks the capture assertions the gateway tests rely on.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

e2e_init
need_usrsctp
need_cmd tshark
topo_up

echo_server_start "$NS_PEER" "$ENCAPS_PORT" "$ENCAPS_PORT"

# 1. Native SCTP (local encapsulation port 0: raw IP protocol 132) through the NAT.
drops0=$(nat_sctp_drops)
echo_client_start native "$NS_IN" "$PEER_ADDR" 7 0 0 0
echo_send 5
echo_wait 1 8
native_got=$ECHO_GOT
echo_close 1 || true
drops=$(( $(nat_sctp_drops) - drops0 ))
e2e_log "native SCTP: $native_got echoes, NAT dropped $drops SCTP packets"
[ "$native_got" = 0 ] ||
	e2e_fail "native SCTP got $native_got echoes through a NAT that should drop it"
[ "$drops" -gt 0 ] ||
	e2e_fail "the NAT's SCTP drop counter did not move: the native client sent nothing?"

# 2. The same client speaking UDP encapsulation itself: the NAT passes it.
cap_start "$NS_NAT" out0 direct
echo_exchange direct "$NS_IN" 20 15 "$PEER_ADDR" 7 0 "$ENCAPS_PORT" "$ENCAPS_PORT" ||
	{ cap_stop; cap_summary "$CAP_FILE"; e2e_fail "direct UDP encapsulation: $ECHO_GOT of 20 echoes"; }
cap_stop

# 3. The checks the gateway tests apply to the outside, on this known-good traffic.
if ! cap_check_outside "$CAP_FILE"; then
	cap_summary "$CAP_FILE"
	e2e_fail "capture checks reject direct UDP encapsulation on the NAT's outside"
fi
# ... and they do reject a damaged packet.
cap_corrupt "$CAP_FILE" "$E2E_TMP/corrupt.pcap" || e2e_fail "cannot make a corrupted capture"
if cap_check_outside "$E2E_TMP/corrupt.pcap" >"$E2E_TMP/corrupt.txt"; then
	cat "$E2E_TMP/corrupt.txt"
	e2e_fail "capture checks accept a packet with a flipped byte"
fi
if ! grep -q "CRC32c is not good" "$E2E_TMP/corrupt.txt" ||
	! grep -q "UDP datagrams whose checksum is not good" "$E2E_TMP/corrupt.txt"; then
	cat "$E2E_TMP/corrupt.txt"
	e2e_fail "capture checks miss the bad CRC32c or UDP checksum"
fi
# The NAT rewrote the source port into its range: the peer saw (and answered) that.
ports=$(cap_fields "$CAP_FILE" "udp.dstport == $ENCAPS_PORT" udp.srcport | sort -u | tr '\n' ' ')
for p in $ports; do
	if [ "$p" -lt "$NAT_PORT_LO" ] || [ "$p" -gt "$NAT_PORT_HI" ]; then
		e2e_fail "NAT source port $p outside $NAT_PORT_LO-$NAT_PORT_HI"
	fi
done
# usrsctp lists its own addresses in INIT: without a gateway the private address
# crosses the NAT. Informational; the gateway tests assert the opposite.
leaks=$(cap_leaks "$CAP_FILE" "$IN_ADDR")
e2e_log "direct UDP: $CAP_SCTP SCTP-in-UDP packets, NAT source port(s) $ports, $leaks frame(s) carry $IN_ADDR"

e2e_pass "native SCTP blocked by the NAT ($drops drops, 0 echoes); UDP encapsulation passes (20/20 echoes, checksums good)"
