#!/usr/bin/env bash
# Site to site with Linux kernel hosts (Debian's kernel under qemu, tests/e2e/vm): the
# topology of test_site_to_site.sh (tests/e2e/s2s.sh), dual stack, with a kernel VM in
# HA's and in HB's place. The gateways run the shipped conf/site-a.conf and
# conf/site-b.conf plus IPv6: the internal /64, `encapsulate to` the other site's
# public IPv6 address, `forward port 8` to the host's IPv6 address, port 7. Each host
# runs the kernel echo server (sctpk server 7) and a client to the other site's public
# address, over IPv4 (port 7) and then IPv6 (port 8), so associations are opened from
# both sides at once.
#  0. Without the gateways: no echo either way (the NATs drop native SCTP).
#  1. With them: every token comes back both ways, over IPv4 and over IPv6; for each
#     family each gateway has one association from inside (to the other site's public
#     address, port 7 or 8, UDP 9899 learned: the other NAT's port forward) and one
#     from outside (to its host's port 7, the UDP port learned in the other NAT's
#     range); no ABORT, nothing dropped. Between the NATs only good SCTP in UDP between
#     their public addresses, no private address.
# The VMs wait in `nc -l` (vm_go) until both gateways are up (an INIT reaching a
# gateway not yet started draws a port unreachable, which the other gateway rightly
# turns into a protocol unreachable, and the kernel gives the association up), and
# again at the end until both clients are done (each host's server serves the other).
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=s2s.sh
. "$(dirname "$0")/s2s.sh"
# shellcheck source=vm/lib.sh
. "$(dirname "$0")/vm/lib.sh"

COUNT=20
GO_PORT=5000
TOPO_IPV6=1

e2e_init
need_cmd ip nft ethtool python3 tshark
need_gw
vm_need
s2s_init
s2s_topo_up

conf_a="$E2E_TMP/site-a.conf"
conf_b="$E2E_TMP/site-b.conf"
{ cat "$CONF_A"; printf '%s\n' "internal fd00:20::/64" \
	"encapsulate to $NATB_PUB_ADDR6/128 remote-udp-port $ENCAPS_PORT" "forward port 8 to $HA_ADDR6 port 7"; } >"$conf_a"
{ cat "$CONF_B"; printf '%s\n' "internal fd00:30::/64" \
	"encapsulate to $NATA_PUB_ADDR6/128 remote-udp-port $ENCAPS_PORT" "forward port 8 to $HB_ADDR6 port 7"; } >"$conf_b"

# -i 150: each association lasts 3 s, long enough to read both tables while both run.
client="sctpk client -r 500 -i 150 -n $COUNT"
gate="nc -l -p $GO_PORT </dev/null >/dev/null"
vm_start ha "$NS_HA" --nic eth0 "$HA_ADDR/24 $HA_ADDR6/64" \
	--ip "route add default via $GWA_INT_ADDR" --ip "-6 route add default via $GWA_INT_ADDR6" -- \
	"sctpk server 7 & sctpk client -t none -r 500 -n 3 -d 4 $NATB_PUB_ADDR 7; echo SGW-PHASE none done;" \
	"$gate; $client -t a2b -d 30 $NATB_PUB_ADDR 7; $client -t a2b6 -d 30 $NATB_PUB_ADDR6 8; $gate"
vm_start hb "$NS_HB" --nic eth0 "$HB_ADDR/24 $HB_ADDR6/64" \
	--ip "route add default via $GWB_INT_ADDR" --ip "-6 route add default via $GWB_INT_ADDR6" -- \
	"sctpk server 7 & sctpk client -t none -r 500 -n 3 -d 4 $NATA_PUB_ADDR 7; echo SGW-PHASE none done;" \
	"$gate; $client -t b2a -d 30 $NATA_PUB_ADDR 7; $client -t b2a6 -d 30 $NATA_PUB_ADDR6 8; $gate"
vm_wait_ready ha 30
vm_wait_ready hb 30

# ---- 0. no gateways ----
drops_a=$(site A nat_sctp_drops)
drops_b=$(site B nat_sctp_drops)
vm_wait_line ha '^SGW-PHASE none' 15 || e2e_fail "HA's client without the gateways did not end"
vm_wait_line hb '^SGW-PHASE none' 15 || e2e_fail "HB's client without the gateways did not end"
vm_echoed ha none
none_a=$VM_ECHOED
vm_echoed hb none
none_b=$VM_ECHOED
drops_a=$(($(site A nat_sctp_drops) - drops_a))
drops_b=$(($(site B nat_sctp_drops) - drops_b))
e2e_log "without the gateways: $none_a and $none_b echoes; NAT A dropped $drops_a, NAT B $drops_b SCTP packets"
if [ "$none_a" != 0 ] || [ "$none_b" != 0 ]; then
	e2e_fail "echoes without the gateways: HA $none_a, HB $none_b"
fi
if ! [ "$drops_a" -gt 0 ] || ! [ "$drops_b" -gt 0 ]; then
	e2e_fail "a NAT dropped no native SCTP: a host sent nothing?"
fi

# ---- 1. with the gateways ----
cap_start "$NS_NATA" out0 internet
site_gw_start A "$conf_a"
site_gw_start B "$conf_b"
vm_go ha "$NS_GWA" "$HA_ADDR" "$GO_PORT"
vm_go hb "$NS_GWB" "$HB_ADDR" "$GO_PORT"

# both_established PUB_A PUB_B: gateway A's table has two established associations
# with PUB_B, B's two with PUB_A (saved in assoc.gw[ab].json).
# shellcheck disable=SC2317 # called through e2e_until
both_established()
{
	site A ctl -j show associations >"$E2E_TMP/assoc.gwa.json" 2>/dev/null &&
		site B ctl -j show associations >"$E2E_TMP/assoc.gwb.json" 2>/dev/null &&
		python3 - "$E2E_TMP/assoc.gwa.json" "$2" "$E2E_TMP/assoc.gwb.json" "$1" <<'PYEOF'
import json, sys
for p, pub in ((sys.argv[1], sys.argv[2]), (sys.argv[3], sys.argv[4])):
    if sum(a.get("state") == "established" and
           any(r.get("address") == pub for r in a.get("remote_addresses", []))
           for a in json.load(open(p)).get("associations", [])) < 2:
        sys.exit(1)
PYEOF
}

# check_site JSON HOST OTHER_PUB OTHER_PORTS PORT: the site's gateway has its host's
# association to OTHER_PUB:PORT (from inside, UDP 9899 learned) and OTHER_PUB's to its
# host's port 7 (from outside, the UDP port in OTHER_PORTS).
check_site()
{
	json_check "$1" "
lo, hi = (int(x) for x in '$4'.split('-'))
def port(a):
    r = [x.get('udp_port') for x in a.get('remote_addresses', []) if x.get('address') == '$3']
    return r[0] if r else None
est = [a for a in d.get('associations', []) if a.get('state') == 'established' and port(a) is not None]
i = [a for a in est if a.get('origin') == 'inside']
o = [a for a in est if a.get('origin') == 'outside']
if check(len(i) == 1, 'from inside: %s' % i):
    a = i[0]
    check(a.get('internal_address') == '$2' and a.get('remote_port') == $5, 'inside: %s' % a)
    check(port(a) == 9899, 'inside: udp_port %r for $3, expected 9899' % port(a))
if check(len(o) == 1, 'from outside: %s' % o):
    a = o[0]
    check(a.get('internal_address') == '$2' and a.get('internal_port') == 7, 'outside: %s' % a)
    check(lo <= port(a) <= hi, 'outside: udp_port %r for $3, expected $4' % port(a))
"
}

# check_family FAMILY SECONDS PORT HA HB PUB_A PUB_B: within SECONDS both gateways have
# both associations of that family (HA's to PUB_B:PORT, HB's to PUB_A:PORT), as above.
check_family()
{
	e2e_until "$2" both_established "$6" "$7" ||
		s2s_fail "$1: the gateways do not both have two established associations within $2 s"
	check_site "$E2E_TMP/assoc.gwa.json" "$4" "$7" "$NATB_PORTS" "$3" || s2s_fail "gateway A's table, $1"
	check_site "$E2E_TMP/assoc.gwb.json" "$5" "$6" "$NATA_PORTS" "$3" || s2s_fail "gateway B's table, $1"
}
check_family IPv4 20 7 "$HA_ADDR" "$HB_ADDR" "$NATA_PUB_ADDR" "$NATB_PUB_ADDR"
check_family IPv6 30 8 "$HA_ADDR6" "$HB_ADDR6" "$NATA_PUB_ADDR6" "$NATB_PUB_ADDR6"

vm_wait_line ha '^sctpk client: echoed [0-9]*/[0-9]* tag a2b6' 30 || s2s_fail "HA's clients did not finish"
vm_wait_line hb '^sctpk client: echoed [0-9]*/[0-9]* tag b2a6' 30 || s2s_fail "HB's clients did not finish"
vm_go ha "$NS_GWA" "$HA_ADDR" "$GO_PORT"
vm_go hb "$NS_GWB" "$HB_ADDR" "$GO_PORT"
got=""
for t in ha:a2b hb:b2a ha:a2b6 hb:b2a6; do
	vm_echoed "${t%%:*}" "${t#*:}"
	got+=" ${t#*:} ${VM_ECHOED:-?}/$COUNT"
	[ "$VM_ECHOED" = "$COUNT" ] || s2s_fail "${t#*:}: ${VM_ECHOED:-no result} of $COUNT echoes"
done
e2e_log "kernel hosts across both gateways:$got"

s2s_stats_check 4
cap_stop

s2s_internet_ok "$HA_ADDR" "$GWA_INT_ADDR" "$GWA_EXT_ADDR" "$HB_ADDR" "$GWB_INT_ADDR" "$GWB_EXT_ADDR" \
	"$HA_ADDR6" "$GWA_EXT_ADDR6" "$HB_ADDR6" "$GWB_EXT_ADDR6"
cap_expect "ipv6 && sctp.chunk_type == 1" "no INIT over IPv6 between the NATs"

for s in A B; do
	site_gw_stop "$s" || e2e_fail "gateway $s did not stop on SIGTERM"
	[ "${S_STATUS[$s]}" = 0 ] || e2e_fail "gateway $s: exit status ${S_STATUS[$s]} on SIGTERM"
done

e2e_pass "Linux $VM_KERNEL_RELEASE hosts at both sites: no gateways 0 echoes ($drops_a / $drops_b drops); at once each way, IPv4 then IPv6:$got; origins, learned ports, no drops on both gateways; $CAP_SCTP SCTP-in-UDP packets between the NATs, checksums good, no private address"
