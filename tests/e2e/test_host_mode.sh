#!/usr/bin/env bash
# Host mode: SCTP of the gateway host itself. Without the daemon a native client in GW
# does not get across the legacy NAT; with `host-mode yes` the daemon's output-hook
# chain queues what the host sends, so the same client reaches the peer's RFC 6951 echo
# server (association for the gateway's own address, only SCTP in UDP outside, SHUTDOWN
# completes), and a `forward` rule naming the gateway's own address takes an association
# opened from outside to a native echo server on the gateway host. No `internal` line.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

COUNT=20
PEER_ENCAPS=9911

e2e_begin tshark

echo_server_start "$NS_PEER" "$ENCAPS_PORT" "$ENCAPS_PORT"
peer_server=$ECHO_SERVER_PID

# 1. No daemon: native SCTP from the gateway host is dropped by the NAT.
drops0=$(nat_sctp_drops)
echo_client_start nodaemon "$NS_GW" "$PEER_ADDR" 7 0 0 0
echo_send 5
echo_wait 1 5
native_got=$ECHO_GOT
echo_close 1 || true
nodaemon_drops=$(( $(nat_sctp_drops) - drops0 ))
e2e_log "no daemon: $native_got echoes, NAT dropped $nodaemon_drops SCTP packets from GW"
[ "$native_got" = 0 ] ||
	e2e_fail "native SCTP from GW got $native_got echoes without the daemon"
[ "$nodaemon_drops" -gt 0 ] ||
	e2e_fail "the NAT's SCTP drop counter did not move: the client in GW sent nothing?"

# 2. Host mode. The forward rule is there from the start (phase 3), so no reload.
conf="$E2E_TMP/gw.conf"
gw_write_config "$conf" \
	"host-mode yes" \
	"encapsulate to any" \
	"forward port 7 to $GW_EXT_ADDR" \
	"udp-port $ENCAPS_PORT" \
	"queue 0"
gw_start "$conf"
gw_table_present || e2e_fail "daemon running but its nftables table is missing"
grep -q "host mode" "$GW_LOG" || e2e_fail "no 'host mode' line in the daemon's log"
nsx "$NS_GW" nft list chain inet sctp_udp_gw output_sctp >"$E2E_TMP/output_sctp.nft" 2>&1 ||
	{ cat "$E2E_TMP/output_sctp.nft"; e2e_fail "no chain output_sctp in the daemon's table"; }
grep -Eq "hook output priority (mangle|-150)" "$E2E_TMP/output_sctp.nft" ||
	{ cat "$E2E_TMP/output_sctp.nft"; e2e_fail "output_sctp is not on hook output, priority -150"; }

drops0=$(nat_sctp_drops)
cap_start "$NS_NAT" out0 outside

echo_client_start host "$NS_GW" "$PEER_ADDR" 7 0 0 0
echo_send "$COUNT"
echo_wait "$COUNT" 20 ||
	e2e_fail_dump "native client on the gateway host: $ECHO_GOT of $COUNT echoes"
e2e_log "all $COUNT tokens of the gateway host's client echoed"

ctl_json assoc.json show associations
json_check "$E2E_TMP/assoc.json" "
a = d.get('associations', [])
if check(len(a) == 1, 'expected 1 association, got %d: %s' % (len(a), a)):
    a = a[0]
    check(a.get('state') == 'established', 'state %r, expected established' % a.get('state'))
    check(a.get('origin') != 'outside', 'origin %r: opened by the host, not from outside' % a.get('origin'))
    check(a.get('internal_address') == '$GW_EXT_ADDR', 'internal_address %r, expected $GW_EXT_ADDR' % a.get('internal_address'))
    check(a.get('remote_port') == 7, 'remote_port %r, expected 7' % a.get('remote_port'))
    check(a.get('internal_tag', 0) != 0 and a.get('remote_tag', 0) != 0,
          'tags not both known: %r / %r' % (a.get('internal_tag'), a.get('remote_tag')))
    check(a.get('packets_out', 0) >= 3, 'packets_out %r, expected >= 3' % a.get('packets_out'))
    check(a.get('packets_in', 0) >= 3, 'packets_in %r, expected >= 3' % a.get('packets_in'))
    r = [x for x in a.get('remote_addresses', []) if x.get('address') == '$PEER_ADDR']
    if check(len(r) == 1, 'remote address $PEER_ADDR not listed: %s' % a.get('remote_addresses')):
        check(r[0].get('udp_port') == $ENCAPS_PORT, 'learned udp_port %r, expected $ENCAPS_PORT' % r[0].get('udp_port'))
        check(r[0].get('packets_in', 0) > 0, 'no packets counted from $PEER_ADDR')
" || { cat "$E2E_TMP/assoc.json"; e2e_fail_dump "association table does not match the host's exchange"; }

echo_close 10 || e2e_fail_dump "the host's client did not finish its SHUTDOWN within 10 s"

e2e_until 5 assocs_closed || {
	cat "$E2E_TMP/assoc-after.json"
	e2e_fail_dump "the host's association not shut down after the client's EOF"
}

# 3. From outside to an application on the gateway host. Only one usrsctp stack per
# namespace at a time: the host's client has exited, the peer's server goes now.
kill -TERM "$peer_server" 2>/dev/null
e2e_wait_pid "$peer_server" 3 || kill -KILL "$peer_server" 2>/dev/null
echo_server_start "$NS_GW" 0 0

echo_client_start fromoutside "$NS_PEER" "$NAT_OUT_ADDR" 7 0 "$PEER_ENCAPS" "$ENCAPS_PORT"
echo_send "$COUNT"
echo_wait "$COUNT" 20 ||
	e2e_fail_dump "peer to $NAT_OUT_ADDR:7, the server on the gateway host: $ECHO_GOT of $COUNT echoes"
e2e_log "all $COUNT tokens echoed by the native server on the gateway host"

ctl_json assoc-in.json show associations
json_check "$E2E_TMP/assoc-in.json" "
a = [x for x in d.get('associations', []) if x.get('origin') == 'outside']
if check(len(a) == 1, 'expected 1 association from outside, got %d: %s' % (len(a), d.get('associations'))):
    a = a[0]
    check(a.get('state') == 'established', 'state %r, expected established' % a.get('state'))
    check(a.get('internal_address') == '$GW_EXT_ADDR', 'internal_address %r, expected $GW_EXT_ADDR' % a.get('internal_address'))
    check(a.get('internal_port') == 7, 'internal_port %r, expected 7' % a.get('internal_port'))
    check(a.get('seen_port') == 7, 'seen_port %r, expected 7' % a.get('seen_port'))
    check(a.get('packets_in', 0) >= 3, 'packets_in %r, expected >= 3' % a.get('packets_in'))
    check(a.get('packets_out', 0) >= 3, 'packets_out %r, expected >= 3' % a.get('packets_out'))
    r = [x for x in a.get('remote_addresses', []) if x.get('address') == '$PEER_ADDR']
    if check(len(r) == 1, 'remote address $PEER_ADDR not listed: %s' % a.get('remote_addresses')):
        check(r[0].get('udp_port') == $PEER_ENCAPS,
              'udp_port %r, expected the port the peer sent from ($PEER_ENCAPS)' % r[0].get('udp_port'))
" || { cat "$E2E_TMP/assoc-in.json"; e2e_fail_dump "association table does not match the inbound exchange"; }

echo_close 10 || e2e_fail_dump "peer's client did not finish its SHUTDOWN within 10 s"
cap_stop

# Both phases on the NAT's outside: only well-formed SCTP in UDP, nothing native.
cap_outside_ok
drops=$(( $(nat_sctp_drops) - drops0 ))
[ "$drops" = 0 ] || e2e_fail "$drops native SCTP packet(s) from GW reached the NAT in host mode"
# INIT / INIT-ACK address parameters of the host are removed like an internal host's.
for a in "$GW_INT_ADDR" "$GW_EXT_ADDR"; do
	leaks=$(cap_leaks "$CAP_FILE" "$a")
	[ "$leaks" = 0 ] || e2e_fail "$leaks packet(s) on the outside contain the gateway's address $a"
done
# Phase 2 leaves through the NAT's masquerade to the peer's 9899; phase 3 answers the
# peer's own port from the NAT's public 9899.
wrong=$(cap_count "$CAP_FILE" "ip.dst == $PEER_ADDR &&
	!(udp.srcport >= $NAT_PORT_LO && udp.srcport <= $NAT_PORT_HI && udp.dstport == $ENCAPS_PORT) &&
	!(ip.src == $NAT_OUT_ADDR && udp.srcport == $ENCAPS_PORT && udp.dstport == $PEER_ENCAPS)")
[ "$wrong" = 0 ] || { cap_summary "$CAP_FILE"; e2e_fail "$wrong packet(s) to the peer with unexpected UDP ports"; }
shutdowns=$(cap_count "$CAP_FILE" "sctp.chunk_type == 14")
[ "$shutdowns" -ge 2 ] || e2e_fail "$shutdowns SHUTDOWN-COMPLETE(s) on the outside, expected one per association"

# 4. Stop: exit status 0, table gone.
gw_stop TERM || e2e_fail "daemon did not stop on SIGTERM"
[ "$GW_STATUS" = 0 ] || e2e_fail "daemon exit status $GW_STATUS on SIGTERM"
gw_table_absent || e2e_fail "the daemon's nftables table is still there after SIGTERM"

e2e_pass "no daemon: 0 echoes from GW ($nodaemon_drops NAT drops); host mode: $COUNT/$COUNT out and $COUNT/$COUNT in for $GW_EXT_ADDR, $CAP_SCTP SCTP-in-UDP packets outside, none native; table removed (${SECONDS} s)"
