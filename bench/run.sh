#!/usr/bin/env bash
# run.sh - the benchmarks of sctp-udp-gw (issue 6). Not tests: scripts/test.sh does not
# run them, and nothing here passes or fails on a figure. Writes bench/RESULTS.md with
# every figure, its spread over the repetitions and the command that reproduces it.
#
#   sudo bench/run.sh [-m] [-o FILE] [-r REPS] [-t SECS] [PHASE...]
#
#   PHASE     env assoc outbound inbound scaling latency tsctp perf (default: all; they run
#             in the order env, assoc, outbound + inbound, scaling, latency, perf, tsctp)
#   -m        merge: keep the figures of the phases not run from the raw file next to the
#             report (FILE.raw.tsv) and replace only those of the phases run, so one phase
#             can be measured again without re-running the others
#   -o FILE   where the report goes (default bench/RESULTS.md)
#   -r REPS   repetitions of every side-by-side pair (default 5; the scaling and latency
#             phases do at most 3, to keep the whole run near 10 minutes)
#   -t SECS   seconds per load measurement (default 3)
#   BENCH_BUSY_POLL=USEC  the daemon's busy-poll setting for every phase (default 0)
#
# Needs root and a built tree (scripts/build.sh): it links the benchmark programs against
# libgw.a and runs ./sctp-udp-gw. Traffic stays in three namespaces of its own,
# IN 10.10.1.2 - GW 10.10.1.1 / 203.0.113.1 - PEER 203.0.113.2 (no NAT: the NAT's cost
# is not the gateway's), built with the helpers of tests/e2e/lib.sh and removed at exit.
# Load generators run on CPU 0, the daemon (or its floor program) on CPU 1, so the two
# sides do not share a core. Raw logs stay in the artifact directory printed first.
set -uo pipefail

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
BENCH_SRC=$(cd "$BENCH_DIR/.." && pwd)
BENCH_BUILD=${SCTPGW_BUILDDIR:-$BENCH_SRC}
BENCH_OUT=$BENCH_DIR/RESULTS.md
REPS=5
SECS=3
MERGE=0
ALL_PHASES=(env assoc outbound inbound scaling latency tsctp perf)
PHASES=()
ARGS_GIVEN="$*"

while [ $# -gt 0 ]; do
	case $1 in
	-m) MERGE=1 ;;
	-o) BENCH_OUT=$(realpath -m "$2"); shift ;;
	-r) REPS=$2; shift ;;
	-t) SECS=$2; shift ;;
	-h|--help) sed -n '2,23p' "$0"; exit 0 ;;
	-*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	*) PHASES+=("$1") ;;
	esac
	shift
done
[ ${#PHASES[@]} -gt 0 ] || PHASES=("${ALL_PHASES[@]}")
for p in "${PHASES[@]}"; do
	case " ${ALL_PHASES[*]} " in
	*" $p "*) ;;
	*) echo "run.sh: unknown phase $p (phases: ${ALL_PHASES[*]})" >&2; exit 2 ;;
	esac
done
want() { case " ${PHASES[*]} " in *" $1 "*) return 0 ;; esac; return 1; }

export E2E_NS_PREFIX=${E2E_NS_PREFIX:-sgwbench} E2E_GW_DEBUG=0 E2E_KEEP=1
# shellcheck source=../tests/e2e/lib.sh
. "$BENCH_SRC/tests/e2e/lib.sh"
set +e # lib.sh sets -u and pipefail; a failed measurement is recorded, not fatal

BIN=$BENCH_DIR/bin
INTERNAL_NET=10.10.1.0/24
BGW_EXT=203.0.113.1   # the gateway's outside address in this topology
BENCH_ITAG=0x1a2b3c4d # as bench/benchpkt.h
SIZES=(64 1200)
LOW_RATE=1000
SCALE_ASSOCS=64 # associations of the scaling runs: their ports spread over the workers
SCALE_RATE=150000 # the fixed load of the scaling runs, below what the generator reaches
SHORT_REPS=3 # at most this many repetitions for scaling and latency (time budget)
# Other work on a shared machine (builds, fuzzers) competes for the two CPUs: the programs
# under test and the load generators run at a higher CFS priority to keep it out of the way.
NICE=${BENCH_NICE:--10}
T_START=$SECONDS
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- build -----------------------------------------------------------------------------

bench_build()
{
	local p libs
	if [ ! -f "$BENCH_BUILD/libgw.a" ] || [ ! -x "$BENCH_BUILD/sctp-udp-gw" ]; then
		echo "run.sh: no build in $BENCH_BUILD (run scripts/build.sh first)" >&2
		exit 1
	fi
	libs=$(pkg-config --libs libnetfilter_queue libnftnl libmnl libsystemd) || exit 1
	mkdir -p "$BIN"
	for p in sctpblast udpresponder nfq_floor nfq_rewrite udp_floor assoc_bench; do
		gcc -std=gnu11 -O2 -g -D_GNU_SOURCE -include "$BENCH_BUILD/build-config.h" \
			-I"$BENCH_SRC/include" -I"$BENCH_DIR" -Wall -Wextra -Wshadow \
			-Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
			-o "$BIN/$p" "$BENCH_DIR/$p.c" "$BENCH_BUILD/libgw.a" $libs ||
			{ echo "run.sh: cannot build $p" >&2; exit 1; }
	done
}

# ---- raw results: one "kind<TAB>key<TAB>value" line each, turned into markdown at the end

rec() { printf 'val\t%s\t%s\n' "$1" "$2" >>"$RAW"; }
note() { printf 'info\t%s\t%s\n' "$1" "$2" >>"$RAW"; }
cmd() { printf 'cmd\t%s\t%s\n' "$1" "$2" >>"$RAW"; }
log() { e2e_log "$*"; }
commit_desc() { echo "$(git -C "$BENCH_SRC" rev-parse --short HEAD 2>/dev/null)$(git -C "$BENCH_SRC" diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"; }
# kv TEXT KEY: the value of KEY=VALUE in TEXT
kv() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1; }
calc() { python3 -c "print($1)"; }

# ---- topology and counters -------------------------------------------------------------

bench_topo_up()
{
	need_cmd ip nft ethtool python3 taskset
	ns_add "$NS_IN"
	ns_add "$NS_GW"
	ns_add "$NS_PEER"
	veth "$NS_IN" eth0 "$NS_GW" int0
	veth "$NS_GW" ext0 "$NS_PEER" eth0
	nsx "$NS_IN" ip addr add "$IN_ADDR/24" dev eth0
	nsx "$NS_IN" ip route add default via "$GW_INT_ADDR"
	nsx "$NS_GW" ip addr add "$GW_INT_ADDR/24" dev int0
	nsx "$NS_GW" ip addr add "$BGW_EXT/24" dev ext0
	nsx "$NS_GW" sysctl -qw net.ipv4.ip_forward=1
	nsx "$NS_PEER" ip addr add "$PEER_ADDR/24" dev eth0
	nsx "$NS_PEER" ip route add default via "$BGW_EXT"
	GW_CONF=$E2E_TMP/gw.conf
	gw_write_config "$GW_CONF" "udp-port $ENCAPS_PORT" "queue 0" "internal $INTERNAL_NET" \
		"encapsulate to $PEER_ADDR/32 remote-udp-port $ENCAPS_PORT" \
		"busy-poll ${BENCH_BUSY_POLL:-0}"
	log "topology up: IN $IN_ADDR - GW $GW_INT_ADDR/$BGW_EXT - PEER $PEER_ADDR"
}

# count_rules NS VERDICT: table inet bench in NS counting SCTP DATA arriving, native
# ("sctp_data") and inside UDP to 9899 ("udp_data"), and applying VERDICT to them. drop
# keeps the receiving kernel's own cost (socket delivery, ICMP) out of throughput runs;
# only DATA matches, so INIT / INIT-ACK still reach the responder and the blaster.
count_rules()
{
	nsx "$1" nft delete table inet bench 2>/dev/null
	nsx "$1" nft -f - <<EOF
table inet bench {
	counter udp_data { }
	counter sctp_data { }
	chain input {
		type filter hook input priority filter; policy accept;
		udp dport $ENCAPS_PORT @th,160,8 0 counter name udp_data $2
		meta l4proto sctp @th,96,8 0 counter name sctp_data $2
	}
}
EOF
}

count_rules_off() { nsx "$1" nft delete table inet bench 2>/dev/null; }
cnt() { nsx "$1" nft list counter inet bench "$2" | awk '/packets/ { print $2 }'; }

# /proc/PID/stat utime + stime in clock ticks (the daemon's comm has no spaces).
proc_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# CPU 1's busy, total, softirq and steal ticks from /proc/stat; all_ticks: the same for
# the whole machine (both CPUs).
cpu1_ticks() { awk '$1 == "cpu1" { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t, $8, $9 }' /proc/stat; }
all_ticks() { awk '$1 == "cpu" { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t, $8 }' /proc/stat; }
# utime + stime of every thread of PID, busiest first: "tid ticks" per line.
thread_ticks()
{
	local t
	for t in /proc/"$1"/task/*/stat; do
		awk '{ print $1, $14 + $15 }' "$t" 2>/dev/null
	done | sort -k2,2nr -k1,1n
}
CLK_TCK=$(getconf CLK_TCK)
# Where packets are lost: the queue's own drops in GW (queue full, or our socket full) and
# the kernel's backlog drops (all CPUs, all namespaces).
nfq_drops() { nsx "$NS_GW" awk '{ q += $6; u += $7 } END { print q + 0, u + 0 }' /proc/net/netfilter/nfnetlink_queue 2>/dev/null || echo 0 0; }
backlog_drops()
{
	local d=0 b rest
	while read -r _ b rest; do d=$((d + 16#$b)); done </proc/net/softnet_stat
	echo "$d"
}
udp_rcvbuf_errs() { nsx "$1" awk '/^Udp:/ { if (h) { print $6; exit } h = 1 }' /proc/net/snmp; }

# ---- the programs under test -------------------------------------------------------------

RESP_PID=""
responder_start()
{
	[ -n "$RESP_PID" ] && return 0
	bg responder "$NS_PEER" "$BIN/udpresponder"
	RESP_PID=$BG_PID
	e2e_until 5 grep -q ready "$E2E_TMP/responder.out" || e2e_fail "udpresponder did not start"
}

responder_stop()
{
	[ -n "$RESP_PID" ] || return 0
	kill -TERM "$RESP_PID" 2>/dev/null
	e2e_wait_pid "$RESP_PID" 3 || kill -KILL "$RESP_PID" 2>/dev/null
	wait "$RESP_PID" 2>/dev/null
	RESP_PID=""
}

# gw_up [CONF [CPUS]]: the daemon, every thread pinned to CPUS (default 1) at nice NICE;
# UUT_PID is what to measure.
gw_up()
{
	local t
	gw_start "${1:-$GW_CONF}"
	taskset -a -pc "${2:-1}" "$GW_PID" >/dev/null
	for t in /proc/"$GW_PID"/task/*; do
		renice -n "$NICE" -p "${t##*/}" >/dev/null
	done
	UUT_PID=$GW_PID
	CRC_IMPL=$(sed -n 's/.*CRC32c \([^,]*\),.*/\1/p' "$GW_LOG" | tail -n 1)
}

gw_down() { gw_stop TERM; UUT_PID=""; }

# floor_up NAME ARGS...: a floor program in GW on CPU 1, once it says "ready".
floor_up()
{
	local name=$1
	shift
	: >"$E2E_TMP/$name.out"
	bg "$name" "$NS_GW" nice -n "$NICE" taskset -c 1 "$BIN/$name" "$@"
	UUT_PID=$BG_PID
	FLOOR_NAME=$name
	e2e_until 5 grep -q ready "$E2E_TMP/$name.out" ||
		e2e_fail "$name did not start: $(cat "$E2E_TMP/$name.err")"
}

floor_down()
{
	kill -TERM "$UUT_PID" 2>/dev/null
	e2e_wait_pid "$UUT_PID" 5 || kill -KILL "$UUT_PID" 2>/dev/null
	wait "$UUT_PID" 2>/dev/null
	UUT_PID=""
	cat "$E2E_TMP/$FLOOR_NAME.out" >>"$E2E_TMP/floors.log"
}

# handshake [N]: INIT from IN, INIT-ACK from the responder, through the gateway, for N
# associations (default 1).
handshake()
{
	local out
	out=$(nsx "$NS_IN" "$BIN/sctpblast" -m native -s "$IN_ADDR" -d "$PEER_ADDR" -H -t 0 \
		-n "${1:-1}") ||
		e2e_fail "handshake through the gateway failed: $out"
	log "$out"
}

# ---- one load measurement ------------------------------------------------------------------

# measure KEY DIR NS_COUNT COUNTER BLASTER_NS BLASTER_ARGS...: run the blaster on CPU 0,
# record delivered and offered packets/s, and the CPU use of UUT_PID and of CPU 1.
measure()
{
	local key=$1 ns_c=$2 counter=$3 ns_b=$4 c0 c1 p0 p1 b0 b1 t0 t1 s0 s1 st0 st1 q0 q1 u0 u1 k0 k1 r0 r1 out secs sent dlv
	local a0 a1 at0 at1 as0 as1 th0 th1
	shift 4
	c0=$(cnt "$ns_c" "$counter")
	read -r q0 u0 < <(nfq_drops)
	k0=$(backlog_drops)
	r0=$(udp_rcvbuf_errs "$NS_GW")
	p0=$(proc_ticks "$UUT_PID")
	th0=$(thread_ticks "$UUT_PID")
	read -r b0 t0 s0 st0 < <(cpu1_ticks)
	read -r a0 at0 as0 < <(all_ticks)
	out=$(nsx "$ns_b" nice -n "$NICE" taskset -c 0 "$BIN/sctpblast" "$@")
	read -r a1 at1 as1 < <(all_ticks)
	read -r b1 t1 s1 st1 < <(cpu1_ticks)
	p1=$(proc_ticks "$UUT_PID")
	th1=$(thread_ticks "$UUT_PID")
	sleep 0.3 # the queue and socket buffers drain
	c1=$(cnt "$ns_c" "$counter")
	read -r q1 u1 < <(nfq_drops)
	k1=$(backlog_drops)
	r1=$(udp_rcvbuf_errs "$NS_GW")
	secs=$(kv "$out" secs)
	sent=$(kv "$out" sent)
	if [ -z "$secs" ] || [ -z "$c0" ] || [ -z "$c1" ]; then
		log "$key: measurement failed: $out"
		return 1
	fi
	dlv=$(calc "round(($c1 - $c0) / $secs)")
	rec "$key.pps" "$dlv"
	rec "$key.offered" "$(kv "$out" pps)"
	rec "$key.uut_cpu" "$(calc "round(100.0 * ($p1 - $p0) / $CLK_TCK / $secs, 1)")"
	rec "$key.cpu1_busy" "$(calc "round(100.0 * ($b1 - $b0) / max(1, $t1 - $t0), 1)")"
	rec "$key.cpu1_softirq" "$(calc "round(100.0 * ($s1 - $s0) / max(1, $t1 - $t0), 1)")"
	rec "$key.cpu1_steal" "$(calc "round(100.0 * ($st1 - $st0) / max(1, $t1 - $t0), 1)")"
	# both CPUs together, in % of one CPU (200 = the whole machine)
	rec "$key.all_busy" "$(calc "round(200.0 * ($a1 - $a0) / max(1, $at1 - $at0), 1)")"
	rec "$key.all_softirq" "$(calc "round(200.0 * ($as1 - $as0) / max(1, $at1 - $at0), 1)")"
	note "$key.threads" "$(join -a 1 <(sort <<<"$th1") <(sort <<<"$th0") |
		awk -v hz="$CLK_TCK" -v s="$secs" '{ printf "%.1f\n", 100 * ($2 - ($3 == "" ? 0 : $3)) / hz / s }' |
		sort -rn | paste -sd ' ')"
	rec "$key.drop_queue" "$((q1 - q0 + u1 - u0))"
	rec "$key.drop_backlog" "$((k1 - k0))"
	rec "$key.drop_udp_rcvbuf" "$((r1 - r0))"
	rec "$key.loss" "$(calc "round(100.0 * (1 - ($c1 - $c0) / max(1, $sent)), 2)")"
	cmd "$key" "ip netns exec ${ns_b##*-} nice -n $NICE taskset -c 0 bench/bin/sctpblast $*"
	log "$key: offered $(kv "$out" pps)/s, delivered $dlv/s$( [ "$(kv "$out" errors)" = 0 ] || echo ", send errors $(kv "$out" errors)")"
}

# out_args SIZE [ASSOCIATIONS], in_args SIZE [ASSOCIATIONS]
out_args() { echo -m native -s "$IN_ADDR" -d "$PEER_ADDR" -l "$1" -t "$SECS" -n "${2:-1}"; }
in_args()
{
	echo -m udp -d "$BGW_EXT" -P "$ENCAPS_PORT" -B 9898 -S 5002 -D 5001 -V "$BENCH_ITAG" \
		-l "$1" -t "$SECS" -n "${2:-1}"
}

# ---- phases ------------------------------------------------------------------------------

phase_env()
{
	local perf_ok="no" f
	note cpu "$(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs, hypervisor: $(lscpu | sed -n 's/^Hypervisor vendor: *//p')"
	note kernel "$(uname -srm)"
	note gcc "$(gcc --version | head -n 1)"
	note commit "$(commit_desc)"
	note cflags "$(sed -n 's/^CFLAGS = //p' "$BENCH_BUILD/Makefile" 2>/dev/null)"
	note load_start "$(cut -d' ' -f1-3 /proc/loadavg)"
	f=$E2E_TMP/perf-check.data
	if perf record -q -o "$f" -- true >/dev/null 2>&1 && perf report -i "$f" --stdio >/dev/null 2>&1; then
		perf_ok="yes: perf $(perf --version | awk '{ print $3 }'), event $(perf evlist -i "$f" 2>/dev/null | head -n 1)"
	fi
	rm -f "$f" "$f.old"
	note perf "$perf_ok"
	note veth "veth pairs with TX checksum offload off (as the end-to-end tests)"
}

phase_assoc()
{
	local out
	log "association table: 5 runs of 1k, 100k, 1M"
	out=$("$BIN/assoc_bench" 5 1000 100000 1000000) || { log "assoc_bench failed"; return; }
	printf '%s\n' "$out" >"$E2E_TMP/assoc.txt"
	printf '%s\n' "$out" | while read -r line; do note assoc "$line"; done
	cmd assoc "bench/bin/assoc_bench 5 1000 100000 1000000"
}

# Outbound and inbound in the same sessions: the gateway, then the floors, per rep.
phase_load()
{
	local rep s dir_out=$1 dir_in=$2
	responder_start
	count_rules "$NS_PEER" drop
	count_rules "$NS_IN" drop
	for ((rep = 1; rep <= REPS; rep++)); do
		log "load rep $rep/$REPS: gateway"
		gw_up
		handshake
		if [ "$dir_out" = 1 ]; then
			for s in "${SIZES[@]}"; do
				# shellcheck disable=SC2046
				measure "out.gw.$s" "$NS_PEER" udp_data "$NS_IN" $(out_args "$s")
			done
		fi
		if [ "$dir_in" = 1 ]; then
			for s in "${SIZES[@]}"; do
				# shellcheck disable=SC2046
				measure "in.gw.$s" "$NS_IN" sctp_data "$NS_PEER" $(in_args "$s")
			done
		fi
		gw_down
		if [ "$dir_out" = 1 ]; then
			log "load rep $rep/$REPS: NFQUEUE floor"
			floor_up nfq_floor "$GW_CONF"
			for s in "${SIZES[@]}"; do
				# shellcheck disable=SC2046
				measure "out.floor.$s" "$NS_PEER" sctp_data "$NS_IN" $(out_args "$s")
			done
			floor_down
			log "load rep $rep/$REPS: rewrite in the verdict"
			floor_up nfq_rewrite "$GW_CONF" "$BGW_EXT"
			for s in "${SIZES[@]}"; do
				# shellcheck disable=SC2046
				measure "out.rw.$s" "$NS_PEER" udp_data "$NS_IN" $(out_args "$s")
			done
			floor_down
			log "load rep $rep/$REPS: the same loop, DROP + sendmmsg"
			floor_up nfq_rewrite -s "$GW_CONF" "$BGW_EXT"
			for s in "${SIZES[@]}"; do
				# shellcheck disable=SC2046
				measure "out.rws.$s" "$NS_PEER" udp_data "$NS_IN" $(out_args "$s")
			done
			floor_down
		fi
		if [ "$dir_in" = 1 ]; then
			log "load rep $rep/$REPS: UDP floor"
			floor_up udp_floor "$IN_ADDR"
			for s in "${SIZES[@]}"; do
				# shellcheck disable=SC2046
				measure "in.floor.$s" "$NS_IN" sctp_data "$NS_PEER" $(in_args "$s")
			done
			floor_down
		fi
	done
	cmd load.gw "ip netns exec gw nice -n $NICE taskset -c 1 ./sctp-udp-gw -f -c gw.conf  # gw.conf: $(grep -v '^#' "$GW_CONF" | paste -sd ';' | sed 's/;/; /g')"
	cmd load.nfq_floor "ip netns exec gw nice -n $NICE taskset -c 1 bench/bin/nfq_floor gw.conf"
	cmd load.nfq_rewrite "ip netns exec gw nice -n $NICE taskset -c 1 bench/bin/nfq_rewrite gw.conf $BGW_EXT"
	cmd load.nfq_rewrite_s "ip netns exec gw nice -n $NICE taskset -c 1 bench/bin/nfq_rewrite -s gw.conf $BGW_EXT"
	cmd load.udp_floor "ip netns exec gw nice -n $NICE taskset -c 1 bench/bin/udp_floor $IN_ADDR"
	cmd load.responder "ip netns exec peer bench/bin/udpresponder"
	cmd load.handshake "ip netns exec in bench/bin/sctpblast -m native -s $IN_ADDR -d $PEER_ADDR -H -t 0"
}

# One worker (queue 0) against two (queue 0-1), same load, same run: SCALE_ASSOCS
# associations whose ports spread over both workers. Both daemons may use both CPUs
# (taskset 0-1), since a second worker needs a second CPU; the generator stays on CPU 0,
# so on this 2-CPU machine the second worker shares its CPU with the generator (and with
# the softirq work of both directions): the CPU time per packet tells more than pps here.
phase_scaling()
{
	local rep q conf reps=$((REPS < SHORT_REPS ? REPS : SHORT_REPS))
	rec scale.reps "$reps"
	responder_start
	count_rules "$NS_PEER" drop
	count_rules "$NS_IN" drop
	for q in 1 2; do
		conf=$E2E_TMP/gw.q$q.conf
		gw_write_config "$conf" "udp-port $ENCAPS_PORT" "queue 0$([ "$q" = 2 ] && echo -1)" \
			"internal $INTERNAL_NET" "encapsulate to $PEER_ADDR/32 remote-udp-port $ENCAPS_PORT" \
			"max-associations 4096"
	done
	for ((rep = 1; rep <= reps; rep++)); do
		for q in 1 2; do
			log "scaling rep $rep/$reps: $q worker(s), $SCALE_ASSOCS associations"
			gw_up "$E2E_TMP/gw.q$q.conf" 0-1
			handshake "$SCALE_ASSOCS"
			# outbound first: the inbound generator's UDP source port (9898) is learned as
			# the peer's new port, after which outbound goes there
			# shellcheck disable=SC2046
			measure "scale.q$q.out.max" "$NS_PEER" udp_data "$NS_IN" $(out_args 64 "$SCALE_ASSOCS")
			# shellcheck disable=SC2046
			measure "scale.q$q.out.fixed" "$NS_PEER" udp_data "$NS_IN" \
				$(out_args 64 "$SCALE_ASSOCS") -r "$SCALE_RATE"
			# shellcheck disable=SC2046
			measure "scale.q$q.in.max" "$NS_IN" sctp_data "$NS_PEER" $(in_args 64 "$SCALE_ASSOCS")
			# shellcheck disable=SC2046
			measure "scale.q$q.in.fixed" "$NS_IN" sctp_data "$NS_PEER" \
				$(in_args 64 "$SCALE_ASSOCS") -r "$SCALE_RATE"
			gw_down
		done
	done
	cmd scale.gw1 "ip netns exec gw nice -n $NICE taskset -c 0-1 ./sctp-udp-gw -f -c gw1.conf  # gw1.conf: $(grep -v '^#' "$E2E_TMP/gw.q1.conf" | paste -sd ';' | sed 's/;/; /g')"
	cmd scale.gw2 "ip netns exec gw nice -n $NICE taskset -c 0-1 ./sctp-udp-gw -f -c gw2.conf  # gw2.conf: $(grep -v '^#' "$E2E_TMP/gw.q2.conf" | paste -sd ';' | sed 's/;/; /g')"
	cmd scale.handshake "ip netns exec in bench/bin/sctpblast -m native -s $IN_ADDR -d $PEER_ADDR -H -t 0 -n $SCALE_ASSOCS"
	cmd scale.out "ip netns exec in nice -n $NICE taskset -c 0 bench/bin/sctpblast $(out_args 64 "$SCALE_ASSOCS")  # fixed load: -r $SCALE_RATE"
	cmd scale.in "ip netns exec peer nice -n $NICE taskset -c 0 bench/bin/sctpblast $(in_args 64 "$SCALE_ASSOCS")  # fixed load: -r $SCALE_RATE"
	rec scale.rate "$SCALE_RATE"
}

# latency_one KEY RATE HANDSHAKE: a receiver in PEER, RATE packets/s for SECS from IN.
latency_one()
{
	local key=$1 rate=$2 hs=$3 out res
	: >"$E2E_TMP/latrx.out"
	bg latrx "$NS_PEER" "$BIN/udpresponder" -R -i 1
	local rx=$BG_PID
	e2e_until 5 grep -q ready "$E2E_TMP/latrx.out" || e2e_fail "latency receiver did not start"
	[ "$hs" = 1 ] && handshake
	out=$(nsx "$NS_IN" nice -n "$NICE" taskset -c 0 "$BIN/sctpblast" -m native -s "$IN_ADDR" -d "$PEER_ADDR" \
		-l 64 -t "$SECS" -r "$rate")
	e2e_wait_pid "$rx" 5 || kill -TERM "$rx" 2>/dev/null
	e2e_wait_pid "$rx" 2 || kill -KILL "$rx" 2>/dev/null
	wait "$rx" 2>/dev/null
	res=$(grep samples= "$E2E_TMP/latrx.out")
	log "$key: sent $(kv "$out" sent) at $(kv "$out" pps)/s; $res"
	rec "$key.samples" "$(kv "$res" samples)"
	rec "$key.sent" "$(kv "$out" sent)"
	rec "$key.p50" "$(kv "$res" p50)"
	rec "$key.p99" "$(kv "$res" p99)"
	rec "$key.p999" "$(kv "$res" p999)"
	rec "$key.max" "$(kv "$res" max)"
	cmd "$key" "ip netns exec in nice -n $NICE taskset -c 0 bench/bin/sctpblast -m native -s $IN_ADDR -d $PEER_ADDR -l 64 -t $SECS -r $rate  # receiver: ip netns exec peer bench/bin/udpresponder -R -i 1"
}

phase_latency()
{
	local rep high rate reps=$((REPS < SHORT_REPS ? REPS : SHORT_REPS))
	rec lat.reps "$reps"
	high=$(python3 - "$RAW" <<'EOF'
import statistics, sys
v = [float(l.split("\t")[2]) for l in open(sys.argv[1]) if l.startswith("val\tout.gw.64.pps\t")]
print(int(statistics.median(v) / 2) if v else 0)
EOF
)
	responder_stop
	count_rules "$NS_PEER" accept
	if [ "$high" = 0 ]; then
		log "latency: measuring the gateway's maximum first (outbound phase not run)"
		responder_start
		count_rules "$NS_PEER" drop
		gw_up
		handshake
		# shellcheck disable=SC2046
		measure "out.gw.64" "$NS_PEER" udp_data "$NS_IN" $(out_args 64)
		gw_down
		responder_stop
		count_rules "$NS_PEER" accept
		high=$(python3 -c "import sys; print(int(float(sys.argv[1]) / 2))" \
			"$(awk -F'\t' '$2 == "out.gw.64.pps" { v = $3 } END { print v + 0 }' "$RAW")")
	fi
	rec lat.high_rate "$high"
	for ((rep = 1; rep <= reps; rep++)); do
		for rate in "$LOW_RATE" "$high"; do
			log "latency rep $rep/$reps at $rate/s"
			latency_one "lat.plain.$rate" "$rate" 0
			floor_up nfq_floor "$GW_CONF"
			latency_one "lat.floor.$rate" "$rate" 0
			floor_down
			gw_up
			latency_one "lat.gw.$rate" "$rate" 1
			gw_down
		done
	done
}

# tsctp's server prints one line per connection: "len, msgs, ..., bytes, secs, B/s, ...";
# the client's own figure stops when the last message is queued (testing-notes.md).
# Three paths, alternating in every repetition: "gw" (native client, the daemon
# encapsulates, UDP server), "direct" (UDP client and server, GW routes) and "native"
# (native client and server, the daemon stopped, so GW is a plain router: this topology
# has no NAT, nothing in GW drops or translates protocol 132). One tsctp server at a
# time in PEER: two usrsctp stacks there both see every native packet on their raw
# sockets, and the one without the association aborts it.
TSCTP_SRV=""
TSCTP_SRV_MODE=""
TSCTP_GW_MSGS=""

# raw_sctp_bound NS: a raw socket for protocol 132 is open in NS (ss shows the protocol
# number as the local "port"). Called through e2e_until.
# shellcheck disable=SC2317
raw_sctp_bound() { nsx "$1" ss -Hwa 'sport = :132' | grep -q .; }

# tsctp_srv MODE: the tsctp server in PEER for MODE (udp or native), the other stopped.
tsctp_srv()
{
	local args=(-E "$ENCAPS_PORT" -U "$ENCAPS_PORT")
	[ "$TSCTP_SRV_MODE" = "$1" ] && return 0
	tsctp_srv_stop
	[ "$1" = native ] && args=(-E 0 -U 0)
	bg "tsctp_server.$1" "$NS_PEER" "$USRSCTP_DIR/tsctp" "${args[@]}"
	TSCTP_SRV=$BG_PID
	TSCTP_SRV_MODE=$1
	if [ "$1" = native ]; then
		e2e_until 5 raw_sctp_bound "$NS_PEER" || e2e_fail "native tsctp server did not start"
	else
		e2e_until 5 port_bound "$NS_PEER" "$ENCAPS_PORT" || e2e_fail "tsctp server did not start"
	fi
}

tsctp_srv_stop()
{
	[ -n "$TSCTP_SRV" ] || return 0
	kill -TERM "$TSCTP_SRV" 2>/dev/null
	e2e_wait_pid "$TSCTP_SRV" 3 || kill -KILL "$TSCTP_SRV" 2>/dev/null
	wait "$TSCTP_SRV" 2>/dev/null
	TSCTP_SRV=""
	TSCTP_SRV_MODE=""
}

# tsctp_one PATH: one tsctp client run from IN on PATH (gw, direct or native), recorded
# from the server's line; the server and the daemon are set up for PATH first.
tsctp_one()
{
	local v=$1 out n before args=(-E 0 -U 0)
	case $v in
	gw)
		tsctp_srv udp
		[ -n "$GW_PID" ] || gw_up
		;;
	direct)
		args=(-E "$ENCAPS_PORT" -U "$ENCAPS_PORT")
		tsctp_srv udp
		;;
	native)
		if [ -n "$GW_PID" ]; then
			gw_down
			# what the daemon moved in this repetition's gateway run (the direct run's
			# datagrams are forwarded past it): packets per message tell retransmissions
			note tsctp.gw_stop "msgs=$TSCTP_GW_MSGS $(grep 'stopped:' "$GW_LOG" | tail -n 1 |
				sed -n 's/.*stopped: \([0-9]*\) packets out, \([0-9]*\) in,.*/out=\1 in=\2/p')"
		fi
		gw_table_absent || e2e_fail "the daemon's nftables table is still in GW"
		tsctp_srv native
		;;
	esac
	out=$E2E_TMP/tsctp_server.$TSCTP_SRV_MODE.out
	before=$(grep -c '^[0-9]' "$out")
	# native: -U 0 too, or usrsctp tries UDP without a UDP socket ("no valid source
	# addr") and the INIT never leaves IN
	log "tsctp $v: tsctp ${args[*]} -T 5 -l 1200 $PEER_ADDR"
	nsx "$NS_IN" timeout 30 "$USRSCTP_DIR/tsctp" "${args[@]}" -T 5 -l 1200 "$PEER_ADDR" \
		>>"$E2E_TMP/tsctp_client.$v.out" 2>&1
	e2e_until 10 test "$(grep -c '^[0-9]' "$out")" -gt "$before"
	n=$(grep '^[0-9]' "$out" | sed -n "$((before + 1))p")
	log "tsctp $v server line: $n"
	[ -n "$n" ] && rec "tsctp.$v.mbps" "$(printf '%s\n' "$n" | awk -F', *' '{ printf "%.2f", $6 / 1e6 }')"
	[ "$v" = gw ] && TSCTP_GW_MSGS=$(printf '%s\n' "$n" | awk -F', *' '{ print $2 }')
	sleep 1
}

phase_tsctp()
{
	local rep v tsctp=$USRSCTP_DIR/tsctp
	[ -x "$tsctp" ] || { note tsctp "not run: $tsctp missing (libusrsctp-examples)"; return; }
	responder_stop
	count_rules_off "$NS_PEER"
	count_rules_off "$NS_IN"
	for ((rep = 1; rep <= REPS; rep++)); do
		for v in gw direct native; do
			log "tsctp rep $rep/$REPS: $v"
			tsctp_one "$v"
		done
	done
	tsctp_srv_stop
	gw_down
	cmd tsctp.server "ip netns exec peer $tsctp -E $ENCAPS_PORT -U $ENCAPS_PORT  # for gw and direct"
	cmd tsctp.server_native "ip netns exec peer $tsctp -E 0 -U 0  # for native, the other server stopped"
	cmd tsctp.gw "ip netns exec in $tsctp -E 0 -U 0 -T 5 -l 1200 $PEER_ADDR  # native SCTP, through the gateway"
	cmd tsctp.direct "ip netns exec in $tsctp -E $ENCAPS_PORT -U $ENCAPS_PORT -T 5 -l 1200 $PEER_ADDR  # UDP encapsulation, routed past the daemon"
	cmd tsctp.native "ip netns exec in $tsctp -E 0 -U 0 -T 5 -l 1200 $PEER_ADDR  # native SCTP end to end, the daemon stopped: GW a plain router"
}

phase_perf()
{
	local data=$E2E_TMP/perf.data blaster
	command -v perf >/dev/null || { note perf_top "perf not installed"; return; }
	responder_start
	count_rules "$NS_PEER" drop
	gw_up
	handshake
	nsx "$NS_IN" nice -n "$NICE" taskset -c 0 "$BIN/sctpblast" -m native -s "$IN_ADDR" -d "$PEER_ADDR" -l 64 \
		-t $((SECS + 4)) >"$E2E_TMP/perf-blast.out" &
	blaster=$!
	sleep 0.5
	perf stat -p "$GW_PID" -e task-clock,context-switches,cpu-migrations -- sleep 1 \
		2>"$E2E_TMP/perf-stat.txt" >/dev/null
	perf record -q -F 2999 -p "$GW_PID" -o "$data" -- sleep "$SECS" >/dev/null 2>&1
	wait "$blaster"
	gw_down
	perf report -i "$data" --stdio --no-children --sort symbol --percent-limit 0.3 2>/dev/null |
		grep -v '^#' | grep -v '^$' | head -n 25 >"$E2E_TMP/perf-top.txt"
	perf report -i "$data" --stdio --no-children --sort dso 2>/dev/null |
		grep -v '^#' | grep -v '^$' | head -n 8 >"$E2E_TMP/perf-dso.txt"
	perf report -i "$data" --stdio --no-children --sort dso,symbol 2>/dev/null |
		grep -F ' sctp-udp-gw ' | head -n 12 >"$E2E_TMP/perf-own.txt"
	printf 'file\tperf_own\t%s\n' "$E2E_TMP/perf-own.txt" >>"$RAW"
	printf 'file\tperf_top\t%s\n' "$E2E_TMP/perf-top.txt" >>"$RAW"
	printf 'file\tperf_dso\t%s\n' "$E2E_TMP/perf-dso.txt" >>"$RAW"
	printf 'file\tperf_stat\t%s\n' "$E2E_TMP/perf-stat.txt" >>"$RAW"
	cmd perf "perf record -F 2999 -p \$(pidof sctp-udp-gw) -- sleep $SECS  # during: sctpblast $(out_args 64 | sed "s/-t $SECS/-t $((SECS + 4))/")"
	cmd perf.report "perf report --stdio --no-children --sort symbol"
}

# ---- main ----------------------------------------------------------------------------------

bench_build
e2e_init
RAW=$E2E_TMP/raw.tsv
: >"$RAW"
note args "${ARGS_GIVEN:-(none)}"
note reps "$REPS"
note secs "$SECS"
note date "$(date -u '+%Y-%m-%d %H:%M UTC')"

want env && phase_env
want assoc && phase_assoc
if want outbound || want inbound || want scaling || want latency || want tsctp || want perf; then
	bench_topo_up
	o=0; i=0
	want outbound && o=1
	want inbound && i=1
	[ "$o$i" != 00 ] && phase_load "$o" "$i"
	want scaling && phase_scaling
	want latency && phase_latency
	want perf && phase_perf
	want tsctp && phase_tsctp
	responder_stop
fi
note crc32c "${CRC_IMPL:-unknown (the daemon was not started)}"
note load_end "$(cut -d' ' -f1-3 /proc/loadavg)"
note duration "$((SECONDS - T_START)) s"
RAW_OUT=${BENCH_OUT%.md}.raw.tsv
if [ "$MERGE" = 1 ] && [ -f "$RAW_OUT" ]; then
	note commit_run "$(commit_desc)"
	note load_run_start "$LOAD_START"
	# the old file's lines of the phases not run, then this run's lines of the phases run;
	# this run's header (date, args, load, ...) becomes one "merged" line
	python3 - "$RAW_OUT" "$RAW" "${PHASES[*]}" >"$E2E_TMP/merged.tsv" <<'EOF' ||
import sys
old, new, phases = sys.argv[1], sys.argv[2], set(sys.argv[3].split())
ENV = {"cpu", "kernel", "gcc", "commit", "cflags", "load_start", "perf", "veth"}
HEAD = {"args", "reps", "secs", "date", "crc32c", "load_end", "duration", "commit_run",
        "load_run_start"}
PREFIX = {"assoc": {"assoc"}, "outbound": {"out", "load"}, "inbound": {"in", "load"},
          "scaling": {"scale"}, "latency": {"lat"}, "tsctp": {"tsctp"},
          "perf": {"perf", "perf_own", "perf_top", "perf_dso", "perf_stat"}}

def phase_of(kind, key):
    if kind == "info" and key in ENV:
        return "env"
    first = key.split(".")[0]
    return [p for p, pre in PREFIX.items() if first in pre]

def ran(kind, key):
    p = phase_of(kind, key)
    return p in phases if isinstance(p, str) else any(x in phases for x in p)

def lines(path):
    return [l.rstrip("\n").split("\t", 2) for l in open(path) if l.count("\t") >= 2]

out = []
for kind, key, value in lines(old):
    if kind == "info" and key == "merged" and set(value.split(":")[0].split()) <= phases:
        continue # an earlier re-run of phases run again now
    if not ran(kind, key):
        out.append((kind, key, value))
head = {}
for kind, key, value in lines(new):
    if kind == "info" and key in HEAD:
        head[key] = value
    elif ran(kind, key):
        out.append((kind, key, value))
out.append(("info", "merged", f"{' '.join(sorted(phases))}: measured again on {head.get('date')} by"
            f" `sudo bench/run.sh {head.get('args')}` in {head.get('duration')} ({head.get('reps')}"
            f" repetitions, commit {head.get('commit_run')}, load average {head.get('load_run_start')}"
            f" at start, {head.get('load_end')} at end)"))
for l in out:
    print("\t".join(l))
EOF
		e2e_fail "cannot merge $RAW into $RAW_OUT"
	RAW=$E2E_TMP/merged.tsv
fi
python3 "$BENCH_DIR/report.py" "$RAW" "$BENCH_OUT" || e2e_fail "report.py failed on $RAW"
# the raw figures next to the report, so every number in it can be traced
cp "$RAW" "$RAW_OUT"
log "wrote $BENCH_OUT and $RAW_OUT (logs: $E2E_TMP)"
exit 0
