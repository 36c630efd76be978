#!/usr/bin/env bash
# kernel_bulk.sh - kernel-to-kernel bulk SCTP through the gateway against the two kernels
# speaking UDP encapsulation themselves on the same path (issue 12). Not a test: nothing
# here passes or fails on a figure, and scripts/test.sh does not run it.
#
#   sudo bench/kernel_bulk.sh [-r REPS] [-n COUNT] [-o FILE]
#
#   -r REPS    repetitions of each pair (default 5)
#   -n COUNT   1200-byte messages per transfer (default 13981, about 16 MB)
#   -o FILE    the report to update (default bench/RESULTS.md): the section between the
#              "kernel_bulk" markers is replaced (bench/report.py keeps it)
#
# Two Linux kernel VMs (tests/e2e/vm) in the end-to-end topology, IN - GW - legacy NAT -
# PEER: a host in IN's place and an RFC 6951 peer in PEER's (net.sctp.udp_port and
# encap_port 9899, `kbulk recv 7`). Each repetition runs, back to back:
#   gw     the host sends natively (kbulk send), the daemon in GW encapsulates;
#   direct the host sends SCTP over UDP itself (kbulk send -e 9899, net.sctp.udp_port
#          9899 in the host too), GW only routes (the daemon runs but its queue takes
#          only native SCTP: its CPU there is the control).
# Figures: the receiver's rate (first byte to SHUTDOWN), the daemon's CPU (utime + stime
# of /proc/PID/stat, all threads) per MB and the whole machine's busy CPU per MB
# (/proc/stat; mostly the two emulated VMs). Emulated hosts cap the rate, so the
# daemon's CPU per MB is the figure that says what the gateway costs.
#
# The VMs' NICs run with event_idx=off (VM_NIC_OPTS; set it empty for qemu's default):
# with the default, in two runs of four, the receiving VM's NIC went silent in the
# middle of a transfer (guest idle, nothing received, no kernel message); with it off,
# in the two runs since, none did.
set -uo pipefail

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
BENCH_SRC=$(cd "$BENCH_DIR/.." && pwd)
OUT=$BENCH_DIR/RESULTS.md
REPS=5
COUNT=13981
LEN=1200
GO_PORT=5000
while [ $# -gt 0 ]; do
	case $1 in
	-r) REPS=$2; shift ;;
	-n) COUNT=$2; shift ;;
	-o) OUT=$(realpath -m "$2"); shift ;;
	-h | --help) sed -n '2,28p' "$0"; exit 0 ;;
	*) echo "kernel_bulk.sh: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done

export E2E_NS_PREFIX=${E2E_NS_PREFIX:-sgwbench} E2E_GW_DEBUG=0 E2E_KEEP=1
export VM_NIC_OPTS=${VM_NIC_OPTS-event_idx=off}
# shellcheck source=../tests/e2e/lib.sh
. "$BENCH_SRC/tests/e2e/lib.sh"
# shellcheck source=../tests/e2e/vm/lib.sh
. "$BENCH_SRC/tests/e2e/vm/lib.sh"
set +e # a failed measurement is reported, not fatal

T_START=$SECONDS
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
HZ=$(getconf CLK_TCK)
e2e_init
need_gw
vm_need
topo_up

vm_start peer "$NS_PEER" --nic eth0 "$PEER_ADDR/24" \
	--sysctl "net.sctp.udp_port=$ENCAPS_PORT" --sysctl "net.sctp.encap_port=$ENCAPS_PORT" -- \
	"kbulk recv 7"
# The host runs one transfer per word the bench sends to its TCP port GO_PORT.
send="kbulk send -n $COUNT -l $LEN"
vm_start host "$NS_IN" --nic eth0 "$IN_ADDR/24" --ip "route add default via $GW_INT_ADDR" \
	--sysctl "net.sctp.udp_port=$ENCAPS_PORT" -- \
	"while m=\$(nc -l -p $GO_PORT); do case \$m in" \
	"gw) $send $PEER_ADDR 7 ;; direct) $send -e $ENCAPS_PORT $PEER_ADDR 7 ;; *) break ;; esac;" \
	"done"
vm_wait_ready peer 30
vm_wait_ready host 30
vm_wait_line peer '^kbulk recv: listening' 10 || e2e_fail "kbulk recv does not listen"
gw_up

# Daemon and machine CPU ticks: "DAEMON BUSY".
cpu_ticks()
{
	local d
	d=$(awk '{ print $14 + $15 }' "/proc/$GW_PID/stat")
	awk -v d="$d" '/^cpu / { print d, $2 + $3 + $4 + $7 + $8 }' /proc/stat
}

RAW="$E2E_TMP/kernel_bulk.tsv"
printf 'rep\tmode\tbytes\tmsgs\tms\tdaemon_ticks\tbusy_ticks\n' >"$RAW"
# transfer REP MODE: one transfer, one line of RAW.
transfer()
{
	local rep=$1 mode=$2 n0 c0 c1 d0 u0 d1 u1 b m ms line deadline=$((SECONDS + 120))
	n0=$(grep -ac '^kbulk recv: [0-9]' "$E2E_TMP/vm.peer.console")
	c0=$(cpu_ticks)
	until nsx "$NS_GW" timeout 2 bash -c "echo $mode >/dev/tcp/$IN_ADDR/$GO_PORT" 2>/dev/null; do
		[ "$SECONDS" -lt "$deadline" ] || { e2e_log "rep $rep $mode: the host does not listen"; return 1; }
		sleep 0.2
	done
	until [ "$(grep -ac '^kbulk recv: [0-9]' "$E2E_TMP/vm.peer.console")" -gt "$n0" ]; do
		[ "$SECONDS" -lt "$deadline" ] || { e2e_log "rep $rep $mode: no transfer end within 120 s"; return 1; }
		sleep 0.1
	done
	c1=$(cpu_ticks)
	line=$(grep -a '^kbulk recv: [0-9]' "$E2E_TMP/vm.peer.console" | tail -n 1)
	# "kbulk recv: BYTES bytes MSGS msgs in MS ms"
	read -r _ _ b _ m _ _ ms _ <<<"$line"
	read -r d0 u0 <<<"$c0"
	read -r d1 u1 <<<"$c1"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rep" "$mode" "$b" "$m" "$ms" $((d1 - d0)) $((u1 - u0)) >>"$RAW"
	e2e_log "rep $rep $mode: $b bytes, $m msgs in $ms ms; daemon $((d1 - d0)) ticks, machine $((u1 - u0))"
}

# A transfer that does not end means a VM stopped answering (seen once: the peer's NIC
# went silent under a heavily loaded host); the VMs are not worth more time then.
FAILED=""
for rep in $(seq 1 "$REPS"); do
	transfer "$rep" gw || { FAILED="rep $rep gw"; break; }
	transfer "$rep" direct || { FAILED="rep $rep direct"; break; }
done
nsx "$NS_GW" timeout 2 bash -c "echo stop >/dev/tcp/$IN_ADDR/$GO_PORT" 2>/dev/null
ctl -j show stats >"$E2E_TMP/stats.json" 2>/dev/null
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
commit=$(git -C "$BENCH_SRC" rev-parse --short HEAD 2>/dev/null)
[ -z "$(git -C "$BENCH_SRC" status --porcelain --untracked-files=no 2>/dev/null)" ] ||
	commit="$commit (with uncommitted changes)"

python3 - "$RAW" "$OUT" "$HZ" "$COUNT" "$LEN" "$REPS" "$VM_KERNEL_RELEASE" "$commit" \
	"$LOAD_START" "$LOAD_END" "$((SECONDS - T_START))" "$(nproc)" "$FAILED" "$E2E_TMP/stats.json" <<'PYEOF'
import csv, json, os, statistics, sys, time
raw, out, hz, count, length, reps, kver, commit, load0, load1, secs, ncpu, failed, stats = sys.argv[1:]
hz = int(hz)
rows = list(csv.DictReader(open(raw), delimiter="\t"))
expect = int(count) * int(length)
def fig(xs, d=2):
    if not xs:
        return "n/a"
    return "%.*f (%.*f-%.*f)" % (d, statistics.median(xs), d, min(xs), d, max(xs))
res = {}
for mode in ("gw", "direct"):
    r = [x for x in rows if x["mode"] == mode]
    ok = [x for x in r if int(x["bytes"]) == expect and int(x["msgs"]) == int(count)]
    mb = [int(x["bytes"]) / 1e6 for x in ok]
    res[mode] = dict(
        n=len(r), ok=len(ok),
        rate=[m / (int(x["ms"]) / 1000) for m, x in zip(mb, ok) if int(x["ms"]) > 0],
        daemon=[int(x["daemon_ticks"]) * 1000 / hz / m for m, x in zip(mb, ok)],
        busy=[int(x["busy_ticks"]) * 1000 / hz / m for m, x in zip(mb, ok)])
pairs = {}
for x in rows:
    pairs.setdefault(x["rep"], {})[x["mode"]] = x
ratio = [int(p["direct"]["ms"]) / int(p["gw"]["ms"]) for p in pairs.values()
         if "gw" in p and "direct" in p and int(p["gw"]["ms"]) > 0]
g, d = res["gw"], res["direct"]
# The daemon's counters move only in the gw transfers: packets per transfer.
try:
    st = json.load(open(stats))["stats"]
except (OSError, ValueError, KeyError):
    st = {}
ngw = max(g["n"], 1)
pout, pin = st.get("out_packets", 0) / ngw, st.get("in_packets", 0) / ngw
batch = st.get("out_packets", 0) / max(st.get("queue_batch_verdicts", 0), 1)
us_pkt = [int(x["daemon_ticks"]) * 1e6 / hz / (pout + pin) for x in rows if x["mode"] == "gw"] if pout + pin else []
L = []
w = L.append
w("<!-- kernel_bulk: written by bench/kernel_bulk.sh; bench/report.py keeps it -->")
w("## 9. Linux kernel to Linux kernel: bulk SCTP through the gateway against direct UDP encapsulation")
w("")
w(f"Generated by `sudo bench/kernel_bulk.sh -r {reps}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} in {secs} s"
  f" (commit {commit}, {ncpu} CPUs, load average {load0} at start, {load1} at end). Two Linux {kver} VMs under qemu"
  " (TCG, no KVM here) in the end-to-end topology IN - GW - legacy NAT - PEER; the peer is an RFC 6951 endpoint"
  " (`net.sctp.udp_port` and `encap_port` 9899). Each repetition sends, back to back, one association of"
  f" {count} messages of {length} bytes ({expect / 1e6:.1f} MB) from the host to the peer (tests/e2e/vm/kbulk.c):"
  " *gw*, the host native and the daemon encapsulating; *direct*, the host encapsulating itself (`net.sctp.udp_port`"
  " 9899 and `SCTP_REMOTE_UDP_ENCAPS_PORT`), the gateway host only routing (the daemon still runs; its queue takes"
  f" only native SCTP); the VMs' virtio NICs with `{os.environ.get('VM_NIC_OPTS') or 'qemu defaults'}`. Figures are *median (min-max)* over the repetitions; a transfer counts only when every"
  f" byte and message arrived ({g['ok']}/{g['n']} gw, {d['ok']}/{d['n']} direct)."
  + (f" The run stopped at {failed}: that transfer did not end within 120 s." if failed else ""))
w("")
w("| | gw | direct |")
w("| --- | --- | --- |")
w(f"| receiver's rate, MB/s (first byte to SHUTDOWN) | {fig(g['rate'])} | {fig(d['rate'])} |")
w(f"| daemon CPU (utime + stime), ms per MB | {fig(g['daemon'])} | {fig(d['daemon'])} |")
w(f"| whole machine busy CPU, ms per MB | {fig(g['busy'], 0)} | {fig(d['busy'], 0)} |")
w(f"| packets through the daemon per transfer, out (DATA) / in (SACKs etc.) | {pout:.0f} / {pin:.0f} | 0 / 0 |")
w(f"| daemon CPU per packet, us | {fig(us_pkt, 1)} | - |")
w("")
w(f"Per repetition, the direct transfer's time over the gw transfer's: {fig(ratio)} (below 1: the gateway's path is slower).")
w("The daemon's CPU per MB through the gateway is what the gateway costs; the emulated VMs set the rate"
  " (and most of the machine's busy time), so the rates say little about the gateway. Per packet it is"
  " several times the cost at saturation (sections 1 and 3): a kernel sender under emulation offers about"
  f" 10 000 packets/s, so the queue hands the daemon {batch:.1f} packets per verdict batch on average and"
  " the thread sleeps and wakes for nearly every batch (see section 4 on the wake-up). Raw figures: the"
  " kernel_bulk.tsv whose path the script prints.")
w("<!-- /kernel_bulk -->")
section = "\n".join(L) + "\n"
try:
    text = open(out).read()
except FileNotFoundError:
    text = ""
b, e = "<!-- kernel_bulk:", "<!-- /kernel_bulk -->"
if b in text and e in text:
    i, j = text.index(b), text.index(e) + len(e) + 1
    text = text[:i] + section + text[j:]
else:
    k = text.find("## Reproducing")
    text = text[:k] + section + "\n" + text[k:] if k >= 0 else text + "\n" + section
open(out, "w").write(text)
print(section)
PYEOF
e2e_log "raw figures in $RAW"
exit 0
