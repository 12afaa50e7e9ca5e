#!/bin/bash
# Threads and memory of tcmu-runner per LUN count, guest side (issue 10,
# item 2: threads bounded per runner, not per LUN).  Not part of `make
# bench`; run it through tests/bench/threads-run (make bench-threads), or
#
#   tests/vm/run-vm -t 900 -m 3072 -o build/bench-threads tests/bench/threads-guest.sh
#
# In one VM and one tcmu-runner: user:svm LUNs on small sparse stores
# (SVM_THREADS_BENCH_SIZE, default 64M, in the guest's tmpfs /tmp), created
# with hw_max_sectors=2048 and exported through one tcm_loop target, in
# steps up to SVM_THREADS_BENCH_STEPS LUNs (default "1 16 64"; each step
# adds LUNs to the ones already there).  At every step:
#   idle-before  tcmu-runner's Threads and VmRSS (/proc/PID/status) before fio
#   load         fio on all LUNs at once (4 KiB randwrite, libaio, direct=1,
#                iodepth 4, one job per LUN, time_based SVM_THREADS_BENCH_TIME
#                s, default 10), sampled every SVM_THREADS_BENCH_SAMPLE s
#                (default 1) while fio runs; the maximum of each is kept
#   idle-after   the same, 3 s after fio ended
# plus fio's total IOPS and the thread names of tcmu-runner at peak load
# (comm histogram, threads-names-N.txt).  SVM_THREADS_BENCH_CFG is appended
# to every LUN's cfgstring: ";wce=no" makes every write wait on the store,
# on the handler's worker pool (the default LUNs write into the page cache
# on tcmu-runner's command thread and seldom use the pool).
#
# Results in $SVM_OUTDIR/results/: threads.tsv, samples.tsv, fio-N.json,
# threads-names-N.txt; a table in $SVM_OUTDIR/threads.md.  Fails only when
# it could not measure.
# shellcheck disable=SC2317
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../vm/lib.sh"
vm_require fio targetcli tcmu-runner python3
trap vm_cleanup EXIT
vm_on_fail() { vm_dump_state; }

SIZE=${SVM_THREADS_BENCH_SIZE:-64M}
TIME=${SVM_THREADS_BENCH_TIME:-10}
SAMPLE=${SVM_THREADS_BENCH_SAMPLE:-1}
CFG_TAIL=${SVM_THREADS_BENCH_CFG:-}
read -r -a STEPS <<<"${SVM_THREADS_BENCH_STEPS:-1 16 64}"
RES=$SVM_OUTDIR/results
STORE=/tmp/svm-threads
mkdir -p "$RES" "$STORE"
vm_require_file "$SVM_HANDLER_DIR/handler_svm.so"

vm_start_services "$SVM_HANDLER_DIR" || fail "services did not start"
PID=$SVM_TCMU_PID

# status_of: print "Threads VmRSS_kB" of tcmu-runner (bash builtins only:
# every process start is slow under TCG and would skew the sampling).
status_of() {
	local k v th=0 rss=0
	while IFS=: read -r k v; do
		case $k in
		Threads) th=${v//[!0-9]/} ;;
		VmRSS) rss=${v//[!0-9]/} ;;
		esac
	done <"/proc/$PID/status"
	echo "$th $rss"
}

# thread names of tcmu-runner, counted (pool workers have a number suffix)
thread_names() {
	local t c
	local -A by_name=()
	for t in /proc/"$PID"/task/*/comm; do
		c=
		read -r c <"$t" 2>/dev/null || continue
		c=${c%%[0-9]*}
		by_name[$c]=$((${by_name[$c]:-0} + 1))
	done
	for c in "${!by_name[@]}"; do printf '%s\t%s\n' "${by_name[$c]}" "$c"; done | sort -rn
}

TPG=$(_vm_loop_tpg) || fail "no tcm_loop target"
WWN=${TPG%/tpgt_1}
WWN=${WWN##*/}
HAVE=0

# add_luns TOTAL: create LUNs HAVE..TOTAL-1 in one targetcli batch
add_luns() {
	local total=$1 i cmds=() addr d
	for ((i = HAVE; i < total; i++)); do
		cmds+=("/backstores/user:svm create name=t$i size=$SIZE cfgstring=$STORE/t$i.img$CFG_TAIL hw_max_sectors=2048"
			"/loopback/$WWN/luns create storage_object=/backstores/user:svm/t$i lun=$i")
	done
	vm_tcli "${cmds[@]}" || return 1
	vm_wait_for 10 "tcm_loop nexus" test -s "$TPG/address" || return 1
	read -r addr <"$TPG/address"
	: >"$RES/devs.txt"
	for ((i = 0; i < total; i++)); do
		vm_wait_for "$SVM_DEV_TIMEOUT" "disk of LUN $i" _vm_loop_disk "$addr:$i" || return 1
		d=$(_vm_loop_disk "$addr:$i")
		echo none >"/sys/block/$d/queue/scheduler" 2>/dev/null || true
		echo "/dev/$d" >>"$RES/devs.txt"
	done
}

printf 'luns\tphase\tthreads\trss_kib\tsamples\tfio_iops\tfio_s\n' >"$RES/threads.tsv"
printf 'luns\tepoch\tthreads\trss_kib\n' >"$RES/samples.tsv"
read -r th rss <<<"$(status_of)"
printf '0\tidle-before\t%s\t%s\t1\t\t\n' "$th" "$rss" >>"$RES/threads.tsv"
vm_log "no LUNs: tcmu-runner has $th threads, VmRSS $rss kB"

# run_load N: fio on all N LUNs, sampling tcmu-runner while it runs
run_load() {
	local n=$1 dev i=0 fpid th rss max_th=0 max_rss=0 cnt=0 t0 t1 iops
	{
		echo "[global]"
		printf '%s\n' ioengine=libaio direct=1 bs=4k iodepth=4 rw=randwrite \
			time_based "runtime=$TIME" thread group_reporting=0 randrepeat=0
		while read -r dev; do
			printf '\n[lun%d]\nfilename=%s\n' "$i" "$dev"
			i=$((i + 1))
		done <"$RES/devs.txt"
	} >"$RES/fio-$n.fio"
	t0=$(_vm_ms)
	fio --output-format=json --output="$RES/fio-$n.json" "$RES/fio-$n.fio" </dev/null &
	fpid=$!
	while kill -0 "$fpid" 2>/dev/null; do
		read -r th rss <<<"$(status_of)"
		printf '%s\t%s\t%s\t%s\n' "$n" "$EPOCHREALTIME" "$th" "$rss" >>"$RES/samples.tsv"
		cnt=$((cnt + 1))
		[ "$th" -le "$max_th" ] || { max_th=$th; thread_names >"$RES/threads-names-$n.txt"; }
		[ "$rss" -le "$max_rss" ] || max_rss=$rss
		sleep "$SAMPLE"
	done
	wait "$fpid" || return 1
	t1=$(_vm_ms)
	iops=$(python3 -c '
import json, sys
t = open(sys.argv[1]).read()
j = json.loads(t[t.find("{"):])
assert all(x["error"] == 0 for x in j["jobs"]), "fio job error"
print("%.0f" % sum(x["write"]["iops"] for x in j["jobs"]))' "$RES/fio-$n.json") || return 1
	printf '%s\tload\t%s\t%s\t%s\t%s\t%s\n' "$n" "$max_th" "$max_rss" "$cnt" "$iops" \
		"$(((t1 - t0) / 1000))" >>"$RES/threads.tsv"
	vm_log "$n LUNs under fio: max $max_th threads, max VmRSS $max_rss kB ($cnt samples), $iops IOPS in all"
}

record_idle() {
	local n=$1 phase=$2 th rss
	read -r th rss <<<"$(status_of)"
	printf '%s\t%s\t%s\t%s\t1\t\t\n' "$n" "$phase" "$th" "$rss" >>"$RES/threads.tsv"
	vm_log "$n LUNs $phase: $th threads, VmRSS $rss kB"
}

for n in "${STEPS[@]}"; do
	vm_step "create LUNs up to $n" $((60 + 10 * n)) add_luns "$n"
	HAVE=$n
	sleep 2
	record_idle "$n" idle-before
	vm_step "fio on $n LUNs" $((TIME * 3 + 120 + 2 * n)) run_load "$n"
	sleep 3
	record_idle "$n" idle-after
	vm_tcmu_alive || fail "tcmu-runner died"
done

python3 - "$RES/threads.tsv" >"$SVM_OUTDIR/threads.md" <<'EOF'
import sys
rows = [l.split("\t") for l in open(sys.argv[1]).read().splitlines()[1:]]
by = {}
for r in rows:
    by.setdefault(int(r[0]), {})[r[1]] = r
print("| LUNs | threads idle | threads under fio (max) | threads after fio | VmRSS idle MiB | VmRSS under fio (max) MiB | VmRSS after fio MiB | fio IOPS (all LUNs) |")
print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
mib = lambda r: "%.1f" % (int(r[3]) / 1024) if r else ""
th = lambda r: r[2] if r else ""
for n in sorted(by):
    p = by[n]
    b, l, a = p.get("idle-before"), p.get("load"), p.get("idle-after")
    print("| %d | %s | %s | %s | %s | %s | %s | %s |" % (
        n, th(b), th(l), th(a), mib(b), mib(l), mib(a), l[5] if l else ""))
EOF
cat "$SVM_OUTDIR/threads.md"
pass "threads and RSS measured for ${STEPS[*]} LUNs"
