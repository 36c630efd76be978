#!/usr/bin/env bash
# Site to site: two gateways, each in front of hosts that speak only native SCTP and
# each behind a legacy NAT that drops SCTP, carry associations opened from either side.
# Both run the shipped examples conf/site-a.conf and conf/site-b.conf (router mode plus
# a `forward` rule); hosts address the other site by its NAT's public address.
#
#  HA 10.20.1.2 - 10.20.1.1 GWA 100.64.1.2 - 100.64.1.1 NATA 198.51.100.1
#                                                              |  "internet"
#  HB 10.30.1.2 - 10.30.1.1 GWB 100.64.2.2 - 100.64.2.1 NATB 198.51.100.2
#
# Each NAT masquerades (UDP into its own port range, so learned ports are visibly the
# NAT's), drops IP protocol 132 and forwards UDP 9899 on its public address to its
# gateway. Checked: 20/20 echoes HA -> 198.51.100.2:7 -> HB and HB -> 198.51.100.1:7
# -> HA; each gateway's table (origin inside on the opening side, outside on the
# answering side, the same tags on both ends, the NAT's port learned); only good
# SCTP-in-UDP 9899 and no private address between the NATs; with both gateways
# stopped, no echo and the NAT drops the native SCTP.
#
# Both directions run at once: HA and HB each hold a client and an echo server, so
# each gateway has an association from inside and one from outside at the same time,
# and both gateways' UDP 9899 flows cross both NATs in both directions.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=s2s.sh
. "$(dirname "$0")/s2s.sh"

COUNT=20

e2e_init
need_usrsctp
need_cmd ip nft ethtool python3 tshark
need_gw

s2s_init

# check_pair OPENER_JSON ANSWERER_JSON OPENER_HOST ANSWERER_HOST OPENER_PUB ANSWERER_PUB
# OPENER_NAT_PORTS: one association as the gateways of both ends see it.
# The opener's gateway has it from inside to the other site's public address, port 7;
# the answerer's from outside to its host's port 7, from the opener's public address.
# Both ends agree on ports and tags (no NAT touches SCTP), the opener's gateway learned
# UDP 9899 (answers come back through the other NAT's port forward) and the answerer's
# the port the opener's NAT mapped the datagrams to.
check_pair()
{
	local oj=$1 aj=$2 ohost=$3 ahost=$4 opub=$5 apub=$6 oports=$7
	python3 - "$oj" "$aj" "$ohost" "$ahost" "$opub" "$apub" "$oports" <<'EOF'
import json, sys
oj, aj, ohost, ahost, opub, apub, oports = sys.argv[1:]
lo, hi = (int(x) for x in oports.split("-"))
bad = []
def check(cond, msg):
    if not cond:
        bad.append(msg)
    return cond
def one(path, origin):
    a = [x for x in json.load(open(path)).get("associations", []) if x.get("origin") == origin]
    if check(len(a) == 1, "%s: expected 1 association of origin %s, got %s" % (path, origin, a)):
        return a[0]
    return None
def udp_port(a, addr):
    r = [x for x in a.get("remote_addresses", []) if x.get("address") == addr]
    check(len(r) == 1, "remote address %s not listed: %s" % (addr, a.get("remote_addresses")))
    return r[0].get("udp_port") if r else None
o, a = one(oj, "inside"), one(aj, "outside")
if o:
    check(o.get("state") == "established", "opener: state %r" % o.get("state"))
    check(o.get("internal_address") == ohost, "opener: internal_address %r" % o.get("internal_address"))
    check(o.get("remote_port") == 7, "opener: remote_port %r, expected 7" % o.get("remote_port"))
    p = udp_port(o, apub)
    check(p == 9899, "opener: udp_port %r for %s, expected 9899 (its NAT's port forward)" % (p, apub))
if a:
    check(a.get("state") == "established", "answerer: state %r" % a.get("state"))
    check(a.get("internal_address") == ahost, "answerer: internal_address %r" % a.get("internal_address"))
    check(a.get("internal_port") == 7 and a.get("seen_port") == 7,
          "answerer: internal_port %r seen_port %r, expected 7" % (a.get("internal_port"), a.get("seen_port")))
    p = udp_port(a, opub)
    check(p is not None and lo <= p <= hi,
          "answerer: udp_port %r for %s, expected the opener's NAT's %s" % (p, opub, oports))
if o and a:
    check(o.get("seen_port") == a.get("remote_port"),
          "ports differ: opener seen_port %r, answerer remote_port %r" % (o.get("seen_port"), a.get("remote_port")))
    check(o.get("internal_tag") == a.get("remote_tag") and o.get("remote_tag") == a.get("internal_tag"),
          "tags differ: opener %r/%r, answerer %r/%r" % (o.get("internal_tag"), o.get("remote_tag"),
                                                       a.get("remote_tag"), a.get("internal_tag")))
    for x, n in ((o, "opener"), (a, "answerer")):
        check(x.get("packets_in", 0) >= 3 and x.get("packets_out", 0) >= 3,
              "%s: packets in/out %r/%r, expected >= 3 each" % (n, x.get("packets_in"), x.get("packets_out")))
for m in bad:
    print("  " + m)
sys.exit(1 if bad else 0)
EOF
}

s2s_topo_up
# Each host runs an echo server and a client: two usrsctp stacks per namespace.
usrsctp_ootb_filter "$NS_HA"
usrsctp_ootb_filter "$NS_HB"
for f in "$CONF_A" "$CONF_B"; do
	[ -r "$f" ] || e2e_fail "missing example configuration $f"
done
site_gw_start A "$CONF_A"
site_gw_start B "$CONF_B"
cap_start "$NS_NATA" out0 internet

# Native echo servers on both sides, then (1) HA -> site B's public address, forwarded
# by GWB to HB, and (2) HB -> site A's public address, forwarded by GWA to HA, at once.
echo_server_start "$NS_HB" 0 0
HB_SERVER_PID=$ECHO_SERVER_PID
echo_server_start "$NS_HA" 0 0
echo_client_start a2b "$NS_HA" "$NATB_PUB_ADDR" 7 0 0 0
echo_client_start b2a "$NS_HB" "$NATA_PUB_ADDR" 7 0 0 0
echo_select a2b
echo_send "$COUNT"
echo_select b2a
echo_send "$COUNT"
echo_select a2b
echo_wait "$COUNT" 20 ||
	s2s_fail "HA -> $NATB_PUB_ADDR:7 across both gateways: $ECHO_GOT of $COUNT echoes"
echo_select b2a
echo_wait "$COUNT" 20 ||
	s2s_fail "HB -> $NATA_PUB_ADDR:7 across both gateways: $ECHO_GOT of $COUNT echoes"
e2e_log "all $COUNT tokens echoed each way (HA -> HB and HB -> HA at once)"

# (3) Each gateway has both associations: the one its site opened (inside) and the one
# the other site opened (outside), and the two ends of each agree.
save_assocs A "$E2E_TMP/assoc.gwa.json"
save_assocs B "$E2E_TMP/assoc.gwb.json"
check_pair "$E2E_TMP/assoc.gwa.json" "$E2E_TMP/assoc.gwb.json" "$HA_ADDR" "$HB_ADDR" \
	"$NATA_PUB_ADDR" "$NATB_PUB_ADDR" "$NATA_PORTS" ||
	s2s_fail "HA -> HB: the gateways' tables do not match (origin inside on A, outside on B)"
check_pair "$E2E_TMP/assoc.gwb.json" "$E2E_TMP/assoc.gwa.json" "$HB_ADDR" "$HA_ADDR" \
	"$NATB_PUB_ADDR" "$NATA_PUB_ADDR" "$NATB_PORTS" ||
	s2s_fail "HB -> HA: the gateways' tables do not match (origin inside on B, outside on A)"
for s in A B; do
	site "$s" ctl -j show rules >"$E2E_TMP/rules.gw$s.json" ||
		s2s_fail "gateway $s: sctpgwctl -j show rules failed"
	json_check "$E2E_TMP/rules.gw$s.json" "
r = d.get('rules', {})
e, f = r.get('encapsulate', []), r.get('forward', [])
check(len(e) == 1 and e[0].get('associations') == 1, 'encapsulate: %s, expected 1 association' % e)
check(len(f) == 1 and f[0].get('associations') == 1, 'forward: %s, expected 1 association' % f)
" || s2s_fail "gateway $s: associations per rule"
done
s2s_stats_check 2

echo_select a2b
echo_close 10 || s2s_fail "a2b: client did not finish its SHUTDOWN within 10 s"
echo_select b2a
echo_close 10 || s2s_fail "b2a: client did not finish its SHUTDOWN within 10 s"
cap_stop

# (4) Between the NATs: only good SCTP in UDP 9899, public addresses only.
s2s_internet_ok "$HA_ADDR" "$GWA_INT_ADDR" "$GWA_EXT_ADDR" "$HB_ADDR" "$GWB_INT_ADDR" "$GWB_EXT_ADDR"
e2e_log "internet link: $CAP_SCTP SCTP-in-UDP packets, no private address"

for s in A B; do
	site_gw_stop "$s" || e2e_fail "gateway $s did not stop on SIGTERM"
	[ "${S_STATUS[$s]}" = 0 ] || e2e_fail "gateway $s: exit status ${S_STATUS[$s]} on SIGTERM"
	site "$s" gw_table_absent || e2e_fail "gateway $s left its nftables table behind"
done

# (5) Without the gateways, native SCTP from HA reaches NAT A and is dropped there,
# though HB's echo server (started first, so not ECHO_SERVER_PID) still listens.
kill -0 "$HB_SERVER_PID" 2>/dev/null || e2e_fail "HB's echo server is gone"
drops=$(site A nat_sctp_drops)
cap_start "$NS_NATA" out0 negative
echo_client_start nogw "$NS_HA" "$NATB_PUB_ADDR" 7 0 0 0
echo_send 5
if echo_wait 1 6; then
	e2e_fail "an echo came back with both gateways stopped"
fi
echo_close 1 || true
cap_stop
after=$(site A nat_sctp_drops)
[ "$after" -gt "$drops" ] || e2e_fail "NAT A dropped no native SCTP without the gateways ($drops -> $after)"
n=$(cap_count "$CAP_FILE" "!arp")
[ "$n" = 0 ] || { cap_summary "$CAP_FILE"; e2e_fail "$n packet(s) crossed between the NATs without the gateways"; }
e2e_log "without gateways: no echo, NAT A dropped $((after - drops)) native SCTP packet(s)"

e2e_log "out-of-the-blue ABORTs of the hosts' usrsctp stacks dropped: HA $(usrsctp_ootb_drops "$NS_HA"), HB $(usrsctp_ootb_drops "$NS_HB")"
e2e_pass "$COUNT/$COUNT echoes each way between two sites behind legacy NATs; origins inside/outside, ports and tags agree on both gateways; only SCTP in UDP $ENCAPS_PORT between the NATs; none without the gateways"
