# shellcheck shell=bash
# vm/lib.sh - Linux kernel SCTP hosts in the end-to-end tests: Debian's kernel under
# qemu (TCG), booted from the initramfs tests/e2e/vm/build.sh caches, attached to a
# namespace of the topology by a tap bridged with that namespace's own link, so the VM
# takes the namespace's place. Source after lib.sh:
#
#   vm_begin [TOOL...]                        e2e_begin with vm_need before topo_up
#   vm_need                                   build / find the kernel and initramfs
#   vm_start NAME NS [--nic LINK ADDRS]... [--ip ARGS]... [--sysctl K=V]... -- CMD
#   vm_wait_line NAME REGEX SECONDS           a line on the VM's serial console
#   vm_wait_result NAME SECONDS               CMD finished: VM_RC is its exit status
#   vm_echoed NAME TAG                        "sctpk client -t TAG" result: VM_ECHOED
#   vm_stop NAME                              kill the VM (by its PID)
#   vm_link NAME NIC on|off                   carrier of the VM's NIC (0 = eth0)
#   vm_in_link2                               a second IN - GW link for a two-NIC host
#   vm_go NAME NS ADDR PORT                   release a VM waiting in "nc -l -p PORT"
#   vm_host_start CMD...                      VM "host" in IN's place, dual stack
#   vm_peer_start CMD...                      VM "peer" in PEER's place, RFC 6951 on
#   vm_server_up NAME                         its "sctpk server" listens
#   vm_host_v4v6_start / vm_host_no_daemon / vm_v4v6_result NAME SECONDS WHO
#                                             host VM's clients without, then with, the
#                                             daemon to the peer over IPv4 and IPv6
#   cap_peer_encaps_ok                        the kernel peer's datagrams on the capture
#
# Inside, CMD runs under /bin/sh with busybox and sctpk (vm/sctpk.c) after the NICs are
# up; the console (kernel messages at loglevel 4 and CMD's output) goes to
# $E2E_TMP/vm.NAME.console, which the failure report shows.

VM_QEMU=${VM_QEMU:-qemu-system-x86_64}
# More virtio-net-pci properties for every NIC (e.g. event_idx=off), comma-separated.
VM_NIC_OPTS=${VM_NIC_OPTS:-}
declare -A VM_PID=() VM_START=()
VM_N=0

# vm_begin [TOOL...]: how the kernel tests begin: e2e_begin's steps (e2e_init, the
# usrsctp peers, the tools, a built daemon) and the VM image before topo_up.
# shellcheck disable=SC2120 # the arguments are optional
vm_begin()
{
	e2e_init
	need_usrsctp
	need_cmd "$@"
	need_gw
	vm_need
	topo_up
}

vm_need()
{
	local out
	need_cmd "$VM_QEMU" cpio
	[ -c /dev/net/tun ] || e2e_skip "no /dev/net/tun (kernel without tun/tap?)"
	out=$("$E2E_SRCDIR/tests/e2e/vm/build.sh" --quiet 2>"$E2E_TMP/vm-build.err") ||
		e2e_fail "tests/e2e/vm/build.sh failed: $(tail -n 5 "$E2E_TMP/vm-build.err")"
	eval "$out"
	if [ ! -r "$VM_KERNEL" ] || [ ! -r "$VM_INITRD" ]; then
		e2e_fail "vm build gave no kernel / initramfs"
	fi
	e2e_log "kernel VM: Linux $VM_KERNEL_RELEASE ($VM_KERNEL_KIND boot)"
}

# vm_attach NS LINK: the VM's NIC in place of NS's LINK: LINK loses its addresses and
# becomes a bridge port with a new tap, VM_TAP.
vm_attach()
{
	local ns=$1 link=$2 br="vbr-$2" tap="vtap-$2"
	VM_TAP=$tap
	if ! { nsx "$ns" ip addr flush dev "$link" &&
		nsx "$ns" ip link add "$br" type bridge mcast_snooping 0 &&
		nsx "$ns" ip tuntap add dev "$tap" mode tap &&
		nsx "$ns" ip link set "$link" master "$br" &&
		nsx "$ns" ip link set "$tap" master "$br" &&
		nsx "$ns" ip link set "$tap" up &&
		nsx "$ns" ip link set "$br" up; }; then
		e2e_fail "cannot bridge a tap with $ns/$link"
	fi
	# The namespace is only a switch now: nothing of its own on the bridge (with snooping
	# on, the bridge itself would send IGMP reports into a capture that runs already).
	nsx "$ns" sysctl -qw "net.ipv6.conf.$br.disable_ipv6=1" >/dev/null 2>&1
	return 0
}

vm_start()
{
	local name=$1 ns=$2 nic=0 conf cmd="" routes="" sysctls="" ifs=() netargs=()
	shift 2
	VM_N=$((VM_N + 1))
	while [ $# -gt 0 ]; do
		case $1 in
		--nic)
			vm_attach "$ns" "$2"
			ifs+=("VM_IF$nic=\"$3\"")
			netargs+=(-netdev "tap,id=n$nic,ifname=$VM_TAP,script=no,downscript=no"
				-device "virtio-net-pci,netdev=n$nic,mac=52:54:00:5c:$(printf %02x "$VM_N"):$(printf %02x "$nic"),romfile=,csum=off,guest_csum=off${VM_NIC_OPTS:+,$VM_NIC_OPTS}")
			nic=$((nic + 1))
			shift 3 ;;
		--ip) routes+="${routes:+;}$2"; shift 2 ;;
		--sysctl) sysctls+="${sysctls:+ }$2"; shift 2 ;;
		--) shift; cmd=$*; break ;;
		*) e2e_fail "vm_start: unknown option $1" ;;
		esac
	done
	[ -n "$cmd" ] || e2e_fail "vm_start $name: no command"
	# The per-VM part of the initramfs: /etc/vm.conf in a second cpio archive after
	# the cached one (the kernel unpacks them in turn).
	conf="$E2E_TMP/vm.$name.d"
	mkdir -p "$conf/etc"
	{
		printf '%s\n' "${ifs[@]}"
		printf 'VM_ROUTES=%q\nVM_SYSCTL=%q\nVM_CMD=%q\n' "$routes" "$sysctls" "$cmd"
	} >"$conf/etc/vm.conf"
	(cd "$conf" && find . | cpio -o -H newc --quiet) >"$E2E_TMP/vm.$name.cpio" ||
		e2e_fail "cannot pack the VM's configuration"
	cat "$VM_INITRD" "$E2E_TMP/vm.$name.cpio" >"$E2E_TMP/vm.$name.initrd"
	VM_START[$name]=$(date +%s.%N)
	bg "vm.$name" "$ns" "$VM_QEMU" -M pc,accel=tcg -smp 1 -m 256M \
		-nodefaults -no-user-config -display none -no-reboot \
		-serial "file:$E2E_TMP/vm.$name.console" \
		-kernel "$VM_KERNEL" -initrd "$E2E_TMP/vm.$name.initrd" \
		-monitor "unix:$E2E_TMP/vm.$name.monitor,server=on,wait=off" \
		-append "console=ttyS0 panic=-1 loglevel=4" "${netargs[@]}"
	VM_PID[$name]=$BG_PID
	e2e_log "VM $name in $ns (qemu pid $BG_PID): $cmd"
}

# vm_wait_line NAME REGEX SECONDS: 0 once the console has a line matching REGEX (grep
# -E); 1 at the deadline or when the VM is gone first.
vm_wait_line()
{
	local name=$1 re=$2 deadline=$((SECONDS + $3)) f="$E2E_TMP/vm.$1.console"
	while ! grep -aqE "$re" "$f" 2>/dev/null; do
		if ! kill -0 "${VM_PID[$name]}" 2>/dev/null; then
			grep -aqE "$re" "$f" 2>/dev/null
			return
		fi
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.1
	done
	return 0
}

# vm_wait_ready NAME SECONDS: the VM's network is up; VM_BOOT_MS is the wall time
# from qemu's start (kernel, modules, configuration).
vm_wait_ready()
{
	vm_wait_line "$1" '^SGW-VM-READY' "$2" ||
		e2e_fail "VM $1 not up within $2 s: $(vm_console_tail "$1")"
	VM_BOOT_MS=$(python3 -c 'import sys, time; print(int((time.time() - float(sys.argv[1])) * 1000))' "${VM_START[$1]}")
	grep -a '^SGW-VM-ERROR' "$E2E_TMP/vm.$1.console" && e2e_fail "VM $1: configuration failed"
	e2e_log "VM $1 up after $VM_BOOT_MS ms ($(grep -a '^SGW-VM-READY' "$E2E_TMP/vm.$1.console"))"
}

# vm_wait_result NAME SECONDS: the command ended (VM_RC) and the VM powered off.
vm_wait_result()
{
	local name=$1 line
	vm_wait_line "$name" '^SGW-VM-RESULT' "$2" || return 1
	line=$(grep -a '^SGW-VM-RESULT' "$E2E_TMP/vm.$name.console" | tail -n 1)
	VM_RC=${line##*rc=}
	VM_RC=${VM_RC%%[!0-9]*}
	e2e_wait_pid "${VM_PID[$name]}" 5 || vm_stop "$name"
	return 0
}

# vm_echoed NAME TAG: VM_ECHOED tokens of "sctpk client -t TAG" came back (its result
# line; "" if it has not ended).
vm_echoed()
{
	local line
	line=$(grep -a "^sctpk client: echoed [0-9]*/[0-9]* tag $2 " "$E2E_TMP/vm.$1.console" 2>/dev/null |
		tail -n 1)
	# shellcheck disable=SC2034 # for the tests
	VM_ECHOED=$(echo "$line" | sed -n 's/^sctpk client: echoed \([0-9]*\)\/.*/\1/p')
}

vm_stop()
{
	local pid=${VM_PID[$1]:-}
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	e2e_wait_pid "$pid" 3 || kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	VM_PID[$1]=""
}

vm_console_tail() { tail -n 15 "$E2E_TMP/vm.$1.console" 2>/dev/null; }

# vm_monitor NAME COMMAND: one qemu monitor command; prints its answer.
vm_monitor()
{
	python3 - "$E2E_TMP/vm.$1.monitor" "$2" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
s.connect(sys.argv[1])
def until_prompt():
    buf = b""
    while not buf.endswith(b"(qemu) "):
        d = s.recv(4096)
        if not d:
            break
        buf += d
    return buf.decode(errors="replace")
until_prompt()
s.sendall(sys.argv[2].encode() + b"\n")
out = until_prompt().replace("\r", "").splitlines()
print("\n".join(l for l in out[1:] if not l.startswith("(qemu)")))
EOF
}

# vm_link NAME NIC on|off: the carrier of the VM's NIC-th NIC (0 = eth0), as a cable
# pulled out: the guest sees NO-CARRIER, its routes over that NIC go down.
vm_link()
{
	vm_monitor "$1" "set_link n$2 $3" >/dev/null || e2e_fail "VM $1: set_link n$2 $3 failed"
	e2e_log "VM $1: eth$2 link $3"
}

# A two-interface kernel host (vm_start ... --nic eth0 ... --nic eth1 ...) needs a second
# link: vm_in_link2 adds IN eth1 --- GW int2, the LAN 10.10.2.0/24 (GW 10.10.2.1, the
# host's second address 10.10.2.2) and with TOPO_IPV6 fd00:12::/64; the NAT routes it
# back to GW. Call after topo_up; add both LANs to the daemon's `internal` list.
# shellcheck disable=SC2034 # for the tests
IN_ADDR_B=10.10.2.2
GW_INT_ADDR_B=10.10.2.1
# shellcheck disable=SC2034
IN_ADDR6_B=fd00:12::2
GW_INT_ADDR6_B=fd00:12::1
vm_in_link2()
{
	veth "$NS_IN" eth1 "$NS_GW" int2
	nsx "$NS_GW" ip addr add "$GW_INT_ADDR_B/24" dev int2
	nsx "$NS_NAT" ip route add 10.10.2.0/24 via "$GW_EXT_ADDR"
	if [ "$TOPO_IPV6" = 1 ]; then
		addr6 "$NS_GW" "$GW_INT_ADDR6_B/64" int2
		nsx "$NS_NAT" ip -6 route add fd00:12::/64 via "$GW_EXT_ADDR6"
	fi
	e2e_log "second internal link: IN eth1 - GW int2 $GW_INT_ADDR_B"
}

# A VM's command can wait for the test between phases: "nc -l -p PORT" in the VM
# returns once vm_go NAME NS ADDR PORT connects to it from namespace NS (one that can
# reach the VM's ADDR) and closes.
vm_go()
{
	local deadline=$((SECONDS + 10))
	until nsx "$2" timeout 2 bash -c "exec 3<>/dev/tcp/$3/$4" 2>/dev/null; do
		[ "$SECONDS" -lt "$deadline" ] || e2e_fail "VM $1: nothing listens on $3 TCP $4"
		sleep 0.2
	done
}

# ---- the usual kernel VMs of the one-gateway topology ---------------------------------

# vm_host_start CMD...: VM "host" in IN's place, IN's addresses (IPv4 and IPv6), default
# routes via GW, running CMD.
# shellcheck disable=SC2153 # lib.sh sets IN's and GW's addresses
vm_host_start()
{
	vm_start host "$NS_IN" --nic eth0 "$IN_ADDR/24 $IN_ADDR6/64" \
		--ip "route add default via $GW_INT_ADDR" --ip "-6 route add default via $GW_INT_ADDR6" -- "$@"
}

# vm_peer_start CMD...: VM "peer" in PEER's place, PEER's addresses, an RFC 6951
# endpoint (net.sctp.udp_port and encap_port ENCAPS_PORT), running CMD.
vm_peer_start()
{
	vm_start peer "$NS_PEER" --nic eth0 "$PEER_ADDR/24 $PEER_ADDR6/64" \
		--sysctl "net.sctp.udp_port=$ENCAPS_PORT" --sysctl "net.sctp.encap_port=$ENCAPS_PORT" -- "$@"
}

# vm_server_up NAME: the VM's "sctpk server" listens within 10 s, else the test fails.
vm_server_up()
{
	vm_wait_line "$1" '^sctpk server: listening' 10 || e2e_fail "the kernel echo server does not listen"
}

# vm_host_v4v6_start: VM "host" (vm_host_start) with three clients to PEER's port 7:
# "none" (3 tokens, for the phase without the daemon; then SGW-PHASE none), then "v4"
# and "v6", COUNT tokens each. DROPS0 is the NAT's SCTP drop counter before.
vm_host_v4v6_start()
{
	# -r 500: INIT retransmitted every 0.5 s, so the association comes up as soon as the
	# daemon is there, not at the kernel's next 3 s / 6 s / 12 s backoff.
	local client="sctpk client -r 500 -i 50 -n $COUNT"
	DROPS0=$(nat_sctp_drops)
	vm_host_start "sctpk client -t none -r 500 -n 3 -d 4 $PEER_ADDR 7; echo SGW-PHASE none done;" \
		"$client -t v4 -d 30 $PEER_ADDR 7 && $client -t v6 -d 20 $PEER_ADDR6 7"
}

# vm_host_no_daemon: the host's "none" client ends without an echo, and the NAT dropped
# native SCTP meanwhile (DROPS of them); else the test fails.
vm_host_no_daemon()
{
	vm_wait_line host '^SGW-PHASE none' 15 || e2e_fail "the kernel client without a daemon did not end"
	vm_echoed host none
	DROPS=$(($(nat_sctp_drops) - DROPS0))
	e2e_log "without the daemon: $VM_ECHOED echoes, the NAT dropped $DROPS SCTP packets"
	[ "$VM_ECHOED" = 0 ] || e2e_fail "kernel host got '$VM_ECHOED' echoes without the daemon"
	[ "$DROPS" -gt 0 ] || e2e_fail "the NAT's SCTP drop counter did not move: the kernel host sent nothing?"
}

# vm_v4v6_result NAME SECONDS WHO: VM NAME's command ends within SECONDS, its "v4" and
# "v6" clients got all COUNT echoes (V4, V6) and it exited 0; else the test fails,
# naming WHO ("kernel host", ...).
vm_v4v6_result()
{
	vm_wait_result "$1" "$2" || e2e_fail_dump "$3: the clients did not finish within $2 s"
	vm_echoed "$1" v4
	V4=$VM_ECHOED
	vm_echoed "$1" v6
	V6=$VM_ECHOED
	e2e_log "$3 through the gateway: IPv4 ${V4:-?}/$COUNT, IPv6 ${V6:-?}/$COUNT (rc $VM_RC)"
	[ "$V4" = "$COUNT" ] || e2e_fail_dump "$3 over IPv4: ${V4:-no result} of $COUNT echoes"
	[ "$V6" = "$COUNT" ] || e2e_fail_dump "$3 over IPv6: ${V6:-no result} of $COUNT echoes"
	[ "$VM_RC" = 0 ] || e2e_fail_dump "VM $1: its command exited with status $VM_RC"
}

# cap_peer_encaps_ok: the (stopped) capture CAP_FILE has SCTP from the kernel peer
# (CAP_FROM_PEER packets), all from its UDP ENCAPS_PORT to the NAT's port range (it
# learns the encapsulation port from what it receives, RFC 6951 section 5.4; IPv6
# neighbour discovery aside); else the test fails.
cap_peer_encaps_ok()
{
	local peer="(ip.src == $PEER_ADDR || ipv6.src == $PEER_ADDR6)" bad
	CAP_FROM_PEER=$(cap_count "$CAP_FILE" "$peer && sctp")
	bad=$(cap_count "$CAP_FILE" "$peer && !(icmpv6.type == 135 || icmpv6.type == 136) && !(udp.srcport == $ENCAPS_PORT && udp.dstport >= $NAT_PORT_LO && udp.dstport <= $NAT_PORT_HI)")
	[ "$CAP_FROM_PEER" -gt 0 ] || e2e_fail "nothing from the kernel peer on the capture"
	[ "$bad" = 0 ] || { cap_summary "$CAP_FILE"; e2e_fail "$bad packet(s) from the kernel peer not from UDP $ENCAPS_PORT to the NAT's port range"; }
}
