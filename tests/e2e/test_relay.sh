#!/usr/bin/env bash
# Relay mode: IN has no route beyond its own LAN (its default route is deleted), so it
# cannot reach the peer at all; it opens a native association to an address and port
# of the gateway itself, and a `relay port P to ADDR [port Q]` rule carries it over
# SCTP in UDP to the peer. Without the daemon nothing answers. With `relay-ingest auto`
# (which picks the raw SCTP socket on this kernel, said in the log), with `raw` and
# port translation (3868 to the peer's 7), and with `queue` (the input_sctp chain):
# every echo comes back, sctpgwctl shows the relay association, IN only ever talks to
# the gateway's address and port and never learns the (multi-homed) peer's addresses,
# the outside carries only well-formed SCTP in UDP with no 10.10.1.x address, the
# SHUTDOWN completes and SIGTERM exits 0.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

COUNT=20

e2e_begin tshark
T0=$SECONDS

conf="$E2E_TMP/gw.conf"

# ---- IN reaches its LAN only ----
nsx "$NS_IN" ip route del default || e2e_fail "cannot delete IN's default route"
if nsx "$NS_IN" ip route get "$PEER_ADDR" >"$E2E_TMP/route.out" 2>&1; then
	e2e_fail "IN still has a route to $PEER_ADDR: $(cat "$E2E_TMP/route.out")"
fi
nsx "$NS_IN" ip route get "$GW_INT_ADDR" >/dev/null 2>&1 ||
	e2e_fail "IN has no route to the gateway's $GW_INT_ADDR"
e2e_log "IN: no route to $PEER_ADDR ($(head -n 1 "$E2E_TMP/route.out")), $GW_INT_ADDR on-link"

# A counter in GW's input hook, ahead of any chain of the daemon: proves IN's SCTP
# arrived at the gateway's own address.
nsx "$NS_GW" nft -f - <<EOF || e2e_fail "cannot install the probe counter"
table inet probe {
	chain input {
		type filter hook input priority raw; policy accept;
		ip daddr $GW_INT_ADDR meta l4proto sctp counter
	}
}
EOF
gw_seen() { nsx "$NS_GW" nft list chain inet probe input | grep -o 'packets [0-9]*' | cut -d' ' -f2; }

# The daemon's log since the last gw_log_mark (the log file grows across starts).
GW_LOG_MARK=0
gw_log_mark()
{
	GW_LOG_MARK=0
	[ ! -f "$GW_LOG" ] || GW_LOG_MARK=$(wc -l <"$GW_LOG")
}
gw_log_new() { tail -n "+$((GW_LOG_MARK + 1))" "$GW_LOG"; }
# No pipe into grep -q: an early exit would make tail fail under pipefail.
gw_log_has() { grep -q -- "$1" < <(gw_log_new); }
input_chain() { nsx "$NS_GW" nft list chain inet sctp_udp_gw input_sctp 2>/dev/null; }

# A second address on the peer, so that its INIT-ACK lists its addresses (usrsctp omits
# the list when it has one): none of them may reach IN, or IN would have a path around
# the gateway wherever its routing did lead somewhere.
nsx "$NS_PEER" ip addr add "$PEER_ADDR2/24" dev eth0
echo_server_start "$NS_PEER" "$ENCAPS_PORT" "$ENCAPS_PORT"

# ---- no daemon: nothing answers at 10.10.1.1:7 ----
seen0=$(gw_seen)
echo_client_start nogw "$NS_IN" "$GW_INT_ADDR" 7 0 0 0
echo_send 3
echo_wait 1 5
nogw_got=$ECHO_GOT
echo_close 1 || true
seen=$(( $(gw_seen) - seen0 ))
[ "$nogw_got" = 0 ] || e2e_fail "no daemon, yet $nogw_got echo(es) from $GW_INT_ADDR:7"
[ "$seen" -gt 0 ] || e2e_fail "no daemon: the client's SCTP never reached $GW_INT_ADDR (probe counter 0)"
e2e_log "no daemon: 0 echoes from $GW_INT_ADDR:7 ($seen SCTP packet(s) reached the gateway)"

# relay_exchange NAME PORT: COUNT echoes from a native client in IN to GW_INT_ADDR:PORT.
relay_exchange()
{
	echo_client_start "$1" "$NS_IN" "$GW_INT_ADDR" "$2" 0 0 0
	echo_send "$COUNT"
	echo_wait "$COUNT" 15 ||
		e2e_fail_dump "$1: native client to $GW_INT_ADDR:$2: $ECHO_GOT of $COUNT echoes"
	e2e_log "$1: all $COUNT tokens echoed through $GW_INT_ADDR:$2"
}

# relay_assoc_check NAME P Q: one established relay association IN -> GW_INT_ADDR:P,
# carried to PEER_ADDR port Q, the peer's UDP port learned.
relay_assoc_check()
{
	local f="$E2E_TMP/assoc.$1.json"
	ctl -j show associations >"$f" 2>"$E2E_TMP/ctl.err" ||
		e2e_fail_dump "$1: sctpgwctl -j show associations failed: $(cat "$E2E_TMP/ctl.err")"
	json_check "$f" "
a = d.get('associations', [])
if check(len(a) == 1, 'expected 1 association, got %d: %s' % (len(a), a)):
    a = a[0]
    check(a.get('state') == 'established', 'state %r, expected established' % a.get('state'))
    check(a.get('internal_address') == '$IN_ADDR', 'internal_address %r' % a.get('internal_address'))
    check(a.get('internal_port', 0) > 0, 'internal_port %r' % a.get('internal_port'))
    check(a.get('relay_address') == '$GW_INT_ADDR', 'relay_address %r, expected $GW_INT_ADDR' % a.get('relay_address'))
    check(a.get('relay_port') == $2, 'relay_port %r, expected $2' % a.get('relay_port'))
    check(a.get('remote_port') == $3, 'remote_port %r, expected $3' % a.get('remote_port'))
    check(a.get('packets_out', 0) >= 3, 'packets_out %r, expected >= 3' % a.get('packets_out'))
    check(a.get('packets_in', 0) >= 3, 'packets_in %r, expected >= 3' % a.get('packets_in'))
    r = [x for x in a.get('remote_addresses', []) if x.get('address') == '$PEER_ADDR']
    if check(len(r) == 1, 'remote address $PEER_ADDR not listed: %s' % a.get('remote_addresses')):
        check(r[0].get('udp_port') == $ENCAPS_PORT, 'learned udp_port %r, expected $ENCAPS_PORT' % r[0].get('udp_port'))
" || { cat "$f"; e2e_fail_dump "$1: association table does not match the relay"; }
}

# relay_close NAME: EOF to the client; its SHUTDOWN completes through the gateway.
relay_close()
{
	echo_close 10 || e2e_fail_dump "$1: client did not finish its SHUTDOWN within 10 s"
	e2e_until 5 assocs_closed || {
		cat "$E2E_TMP/assoc-after.json"
		e2e_fail_dump "$1: association not shut down after the client's EOF"
	}
}

# relay_stop NAME: SIGTERM, exit status 0, the daemon's table gone.
relay_stop()
{
	gw_stop TERM || e2e_fail "$1: daemon did not stop on SIGTERM"
	[ "$GW_STATUS" = 0 ] || e2e_fail "$1: daemon exit status $GW_STATUS on SIGTERM"
	gw_table_absent || e2e_fail "$1: the daemon's table is left after SIGTERM"
}

# relay_outside NAME: the capture of the NAT's outside holds only well-formed SCTP in
# UDP, neither IN's nor the gateway's internal address, and the SHUTDOWN-COMPLETE.
relay_outside()
{
	local a leaks
	if ! cap_check_outside "$CAP_FILE"; then
		cap_summary "$CAP_FILE"
		e2e_fail "$1: the outside carries something other than well-formed SCTP in UDP $ENCAPS_PORT"
	fi
	for a in "$IN_ADDR" "$GW_INT_ADDR"; do
		leaks=$(cap_leaks "$CAP_FILE" "$a")
		[ "$leaks" = 0 ] || e2e_fail "$1: $leaks packet(s) on the outside contain the internal address $a"
	done
	[ "$(cap_count "$CAP_FILE" "sctp.chunk_type == 14")" -gt 0 ] ||
		e2e_fail "$1: no SHUTDOWN-COMPLETE crossed the outside"
}

# ---- 1. relay-ingest auto (default): the raw SCTP socket on this kernel ----
t=$SECONDS
gw_write_config "$conf" \
	"relay port 7 to $PEER_ADDR" \
	"udp-port $ENCAPS_PORT" \
	"queue 0"
gw_log_mark
gw_start "$conf"
gw_log_has "raw SCTP socket" ||
	e2e_fail "auto: the log does not say it chose the raw SCTP socket: $(gw_log_new | tail -n 5)"
! input_chain >/dev/null || e2e_fail "auto: input_sctp chain installed although raw was chosen"
cap_start "$NS_NAT" out0 outside.auto
relay_exchange auto 7
relay_assoc_check auto 7 7
relay_close auto
cap_stop
relay_outside auto
n=$(cap_count "$CAP_FILE" "sctp.chunk_type == 2 && sctp.parameter_ipv4_address == $PEER_ADDR")
[ "$n" -gt 0 ] || { cap_summary "$CAP_FILE"; e2e_fail "auto: the peer's INIT-ACK lists no address (the inside check below would prove nothing)"; }
relay_stop auto
auto_sctp=$CAP_SCTP
e2e_log "auto (raw SCTP socket): $COUNT/$COUNT echoes, $auto_sctp SCTP-in-UDP packets outside clean, $((SECONDS - t)) s"

# ---- 2. relay-ingest raw, port translation 3868 -> the peer's 7 ----
t=$SECONDS
gw_write_config "$conf" \
	"relay-ingest raw" \
	"relay port 3868 to $PEER_ADDR port 7" \
	"udp-port $ENCAPS_PORT" \
	"queue 0"
gw_log_mark
gw_start "$conf"
gw_log_has "raw SCTP socket" ||
	e2e_fail "raw: the log does not say raw SCTP socket: $(gw_log_new | tail -n 5)"
# Inside this time: IN must see the gateway's address and port 3868 as its peer.
cap_start "$NS_GW" int0 inside.raw
relay_exchange raw 3868
relay_assoc_check raw 3868 7
relay_close raw
cap_stop
n=$(cap_count "$CAP_FILE" "sctp && ip.dst == $IN_ADDR")
[ "$n" -gt 0 ] || { cap_summary "$CAP_FILE"; e2e_fail "raw: no SCTP to $IN_ADDR on the gateway's inside"; }
bad=$(cap_count "$CAP_FILE" "sctp && ip.dst == $IN_ADDR && !(ip.src == $GW_INT_ADDR && sctp.srcport == 3868)")
[ "$bad" = 0 ] || { cap_summary "$CAP_FILE"; e2e_fail "raw: $bad SCTP packet(s) to IN not from $GW_INT_ADDR port 3868"; }
bad=$(cap_count "$CAP_FILE" "sctp && ip.src == $IN_ADDR && !(ip.dst == $GW_INT_ADDR && sctp.dstport == 3868)")
[ "$bad" = 0 ] || { cap_summary "$CAP_FILE"; e2e_fail "raw: $bad SCTP packet(s) from IN not to $GW_INT_ADDR port 3868"; }
bad=$(cap_count "$CAP_FILE" "sctp && sctp.checksum.status != 1")
[ "$bad" = 0 ] || { cap_summary "$CAP_FILE"; e2e_fail "raw: $bad SCTP packet(s) inside with a bad CRC32c"; }
# The addresses the peer's INIT-ACK lists outside are removed before IN sees it.
bad=$(cap_count "$CAP_FILE" "ip.dst == $IN_ADDR && (sctp.parameter_ipv4_address || sctp.parameter_ipv6_address)")
[ "$bad" = 0 ] || { cap_summary "$CAP_FILE"; e2e_fail "raw: $bad packet(s) give IN an address of the peer"; }
relay_stop raw
e2e_log "raw, 3868 -> 7: $COUNT/$COUNT echoes, $n packet(s) to IN all from $GW_INT_ADDR:3868, $((SECONDS - t)) s"

# ---- 3. relay-ingest queue: the input_sctp chain ----
t=$SECONDS
gw_write_config "$conf" \
	"relay-ingest queue" \
	"relay port 7 to $PEER_ADDR" \
	"udp-port $ENCAPS_PORT" \
	"queue 0"
gw_log_mark
gw_start "$conf"
gw_log_has "input hook" ||
	e2e_fail "queue: the log does not say input hook: $(gw_log_new | tail -n 5)"
input_chain >"$E2E_TMP/input_sctp.nft" ||
	e2e_fail "queue: no chain input_sctp in table inet sctp_udp_gw: $(nsx "$NS_GW" nft list table inet sctp_udp_gw 2>&1)"
grep -q "hook input" "$E2E_TMP/input_sctp.nft" ||
	e2e_fail "queue: input_sctp is not on the input hook: $(cat "$E2E_TMP/input_sctp.nft")"
cap_start "$NS_NAT" out0 outside.queue
relay_exchange queue 7
relay_assoc_check queue 7 7
relay_close queue
cap_stop
relay_outside queue
relay_stop queue
e2e_log "queue (input_sctp): $COUNT/$COUNT echoes, $CAP_SCTP SCTP-in-UDP packets outside clean, $((SECONDS - t)) s"

# Nothing native ever reached the legacy NAT.
drops=$(nat_sctp_drops)
[ "$drops" = 0 ] || e2e_fail "$drops native SCTP packet(s) reached the legacy NAT"

e2e_pass "IN without a route to the peer: no echo without the daemon; relay via auto (raw SCTP socket), raw with 3868 -> 7 and queue (input_sctp): $COUNT/$COUNT echoes each, outside clean (no 10.10.1.x), shutdowns complete, exit 0; $((SECONDS - T0)) s after topology"
