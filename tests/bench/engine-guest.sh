#!/bin/bash
# SVM_ENGINE=pool vs SVM_ENGINE=uring (docs/tuning.md, "The io_uring
# engine"), guest side: the commands the two engines serve, side by side in
# one VM.  Not part of `make bench`; run it with
#
#   tests/vm/run-vm -t 1800 -m 4096 -o build/bench-engine tests/bench/engine-guest.sh
#
# In one VM: ext4 on a RAM disk (brd) holds two preallocated svm stores of
# SVM_ENGINE_SIZE (default 512M), both with hw_max_sectors=2048: `wb` with
# the write cache on (the default) and `wt` with it off (emulate_write_cache=0,
# which the handler keeps across the runner's restarts).  One
# tcmu-runner serves both; it is restarted with SVM_ENGINE=pool or uring
# before each engine's turn (the LUNs stay configured; the runner reopens
# them).  In SVM_ENGINE_ROUNDS rounds (default 2; odd rounds pool first, even
# rounds uring first) each engine runs, with fio (libaio, direct=1, 2 s ramp
# + SVM_ENGINE_TIME s, default 10; sync + drop_caches before each job):
#   seqread   1 MiB reads, iodepth 8, on wb   (every READ misses the cache)
#   randread  4 KiB random reads, iodepth 16, on wb (misses, mostly)
#   randwrite 4 KiB random writes, iodepth 16, on wt (every WRITE stable)
#   seqwrite  1 MiB writes, iodepth 8, on wt
# These are the commands that go through tcmu-runner's read/write callouts
# to the LUN's pool or to the ring.  Cached writes (wb) run on the command
# thread with either engine and are not measured here.
#
# SVM_BENCH_SVM_SO: the handler_svm.so to load (default build/'s; copy it
# outside /tmp and /run).  Results in $SVM_OUTDIR/results/ (fio JSON,
# marks.tsv, the runner's close lines per turn) and a summary in
# $SVM_OUTDIR/engine.md.  Fails only when it could not measure.
# shellcheck disable=SC2317
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../vm/lib.sh"
vm_require fio targetcli tcmu-runner mkfs.ext4 numfmt python3
trap vm_cleanup EXIT
vm_on_fail() { vm_dump_state; }

SIZE=${SVM_ENGINE_SIZE:-512M}
ROUNDS=${SVM_ENGINE_ROUNDS:-2}
TIME=${SVM_ENGINE_TIME:-10}
RES=$SVM_OUTDIR/results
STORE=/var/lib/svm-engine
MARK=$SVM_REPO/tests/bench/mark
SVM_SO=${SVM_BENCH_SVM_SO:-$SVM_REPO/build/handler_svm.so}
mkdir -p "$RES"
vm_require_file "$SVM_SO" "$MARK"
size_bytes=$(numfmt --from=iec "$SIZE")
echo "svm_so: $SVM_SO ($(sha256sum "$SVM_SO" | cut -c1-12)…) size $SIZE rounds $ROUNDS time $TIME" \
	>"$RES/guest.txt"

HDIR=/run/svm-engine-handlers
mkdir -p "$HDIR"
ln -sf "$SVM_SO" "$HDIR/handler_svm.so"
export SVM_ENGINE=pool
vm_start_services "$HDIR" || fail "services did not start"

setup() {
	local kib=$(((2 * size_bytes + (256 << 20)) / 1024)) f
	modprobe brd rd_nr=1 rd_size="$kib" max_part=0
	mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 /dev/ram0
	mkdir -p "$STORE"
	mount -t ext4 /dev/ram0 "$STORE"
	for f in wb wt; do
		dd if=/dev/zero of="$STORE/$f.img" bs=1M count=$((size_bytes >> 20)) conv=fsync status=none
	done
	sync
}
vm_step "ext4 on a RAM disk, two preallocated svm stores" 600 setup

vm_tcli "/backstores/user:svm create name=wb size=$size_bytes cfgstring=$STORE/wb.img hw_max_sectors=2048" \
	"/backstores/user:svm create name=wt size=$size_bytes cfgstring=$STORE/wt.img hw_max_sectors=2048" \
	"/backstores/user:svm/wt set attribute emulate_write_cache=0" ||
	fail "targetcli could not create the backstores"
declare -A DEV=()
for lun in wb wt; do
	DEV[$lun]=$(vm_loop_lun "/backstores/user:svm/$lun") || fail "no disk for $lun"
	echo none >"/sys/block/${DEV[$lun]#/dev/}/queue/scheduler" 2>/dev/null || true
done
grep -H . /sys/block/{"${DEV[wb]#/dev/}","${DEV[wt]#/dev/}"}/device/scsi_disk/*/cache_type \
	>"$RES/devices.txt" 2>&1 || true

# The runner's pid from its pid file: vm_step runs each step in a subshell,
# so SVM_TCMU_PID set by a start inside one is not seen outside it.
runner_pid() { cat "$SVM_STATE/tcmu-runner.pid" 2>/dev/null || true; }

# engine_turn ENGINE: restart tcmu-runner with SVM_ENGINE=ENGINE, the LUNs answering again
engine_turn() {
	local e=$1 lun
	SVM_TCMU_PID=$(runner_pid)
	vm_tcmu_stop TERM
	export SVM_ENGINE=$e
	vm_tcmu_start "$HDIR" || return 1
	for lun in wb wt; do
		vm_wait_for 60 "$lun answering" dd if="${DEV[$lun]}" of=/dev/null bs=4k count=1 \
			iflag=direct status=none || return 1
	done
	grep -q "svm: engine $e" "$SVM_TCMU_LOG" || { vm_log "the runner did not take SVM_ENGINE=$e"; return 1; }
}

export SVM_BENCH_RES=$RES
printf 'event\tphase\tround\tlun\tepoch\tcpu_busy\tcpu_total\ttcmu_ticks\n' >"$RES/marks.tsv"
WORK=/tmp/svm-engine-fio
mkdir -p "$WORK"
declare -A JOB=(
	[seqread]="rw=read bs=1M iodepth=8"
	[randread]="rw=randread bs=4k iodepth=16 norandommap randrepeat=0"
	[randwrite]="rw=randwrite bs=4k iodepth=16 norandommap randrepeat=0"
	[seqwrite]="rw=write bs=1M iodepth=8"
)
declare -A ON=([seqread]=wb [randread]=wb [randwrite]=wt [seqwrite]=wt)
run_phase() {
	# run_phase PHASE ROUND ENGINE: one fio job; the "lun" of the marks is the engine
	local phase=$1 round=$2 e=$3 job=$RES/$1-r$2-$3
	export SVM_BENCH_TCMU_PID
	SVM_BENCH_TCMU_PID=$(runner_pid) # for the marks' tcmu-runner CPU
	{
		echo "[global]"
		printf '%s\n' ioengine=libaio direct=1 time_based ramp_time=2 "runtime=$TIME"
		printf '\n[%s-r%s-%s]\nfilename=%s\n' "$phase" "$round" "$e" "${DEV[${ON[$phase]}]}"
		printf '%s\n' ${JOB[$phase]}
		echo "exec_prerun=$MARK start $phase $round $e"
		echo "exec_postrun=$MARK end $phase $round $e"
	} >"$job.fio"
	cd "$WORK"
	fio --output-format=json --output="$job.json" "$job.fio" </dev/null
}
for ((r = 1; r <= ROUNDS; r++)); do
	if [ $((r % 2)) -eq 1 ]; then engines="pool uring"; else engines="uring pool"; fi
	for e in $engines; do
		vm_step "round $r: tcmu-runner with SVM_ENGINE=$e" 180 engine_turn "$e"
		for p in seqread randread randwrite seqwrite; do
			vm_step "round $r: $p, engine $e" $((TIME + 120)) run_phase "$p" "$r" "$e"
		done
	done
done
SVM_TCMU_PID=$(runner_pid)
vm_tcmu_stop TERM
grep -E "svm: (engine|LUN on .* (closed|io_uring))" "$SVM_TCMU_LOG" >"$RES/close-lines.txt" || true

python3 - "$RES" "$ROUNDS" >"$SVM_OUTDIR/engine.md" <<'EOF'
import json, sys, os
res, rounds = sys.argv[1], int(sys.argv[2])
marks = {}
for line in open(os.path.join(res, "marks.tsv")).read().splitlines()[1:]:
    ev, ph, rd, e, ep, busy, tot, tcmu = line.split("\t")
    marks[(ph, rd, e, ev)] = (float(ep), int(busy), int(tot), int(tcmu))
clk = os.sysconf("SC_CLK_TCK")
val = {}
print("| phase | round | engine | MiB/s | IOPS | clat mean ms | clat p99 ms | tcmu-runner CPU | guest CPU busy |")
print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for ph in ("seqread", "randread", "randwrite", "seqwrite"):
    for rd in range(1, rounds + 1):
        for e in ("pool", "uring"):
            t = open(os.path.join(res, "%s-r%d-%s.json" % (ph, rd, e))).read()
            job = json.loads(t[t.find("{"):])["jobs"][0]
            x = job["read" if "read" in ph else "write"]
            s, n = marks[(ph, str(rd), e, "start")], marks[(ph, str(rd), e, "end")]
            cpu = 100.0 * (n[3] - s[3]) / clk / (n[0] - s[0])
            busy = 100.0 * (n[1] - s[1]) / max(1, n[2] - s[2])
            v = x["bw_bytes"] / 2 ** 20 if ph.startswith("seq") else x["iops"]
            val[(ph, rd, e)] = v
            print("| %s | %d | %s | %.1f | %.0f | %.2f | %.2f | %.0f%% | %.0f%% |" % (
                ph, rd, e, x["bw_bytes"] / 2 ** 20, x["iops"], x["clat_ns"]["mean"] / 1e6,
                x["clat_ns"]["percentile"]["99.000000"] / 1e6, cpu, busy))
print()
print("| phase | unit | pool per round | uring per round | uring / pool per round |")
print("| --- | --- | --- | --- | --- |")
for ph in ("seqread", "randread", "randwrite", "seqwrite"):
    a = [val[(ph, rd, "pool")] for rd in range(1, rounds + 1)]
    b = [val[(ph, rd, "uring")] for rd in range(1, rounds + 1)]
    print("| %s | %s | %s | %s | %s |" % (ph, "MiB/s" if ph.startswith("seq") else "IOPS",
          ", ".join("%.1f" % v for v in a), ", ".join("%.1f" % v for v in b),
          ", ".join("%.2f×" % (y / x) if x else "-" for x, y in zip(a, b))))
EOF
cat "$SVM_OUTDIR/engine.md"
pass "SVM_ENGINE pool vs uring measured"
