#!/bin/bash
# The TCMU ceiling, guest side (make bench-ceiling; issue 10's targets):
# how fast can any tcmu-runner handler be against LIO's in-kernel fileio on
# this machine?  Not part of `make bench`; `make bench-ceiling` builds the
# instrument and runs
#
#   tests/vm/run-vm -t 2400 -m 4096 -o build/bench-ceiling tests/bench/ceiling-guest.sh
#
# In one VM and one tcmu-runner, four LUNs exported through tcm_loop:
#   null    user:svmnull (tests/bench/null/handler_svmnull.c): answers
#           READ/WRITE/SYNCHRONIZE CACHE with GOOD at once on tcmu-runner's
#           command thread and does no work at all; what it measures is
#           TCMU's and tcmu-runner's own cost, the bound for every handler
#   svm     user:svm (this handler) on a preallocated file
#   fileio  LIO fileio, write_back=true, on a preallocated file
#   qcow    user:qcow (tcmu-runner's stock handler_qcow.so) on a qcow2 image
#           with every cluster allocated, as in make bench: with it the
#           ceiling can be set against the issue's "≥ 1.1× qcow" too
# (ext4 on a RAM disk, SVM_CEILING_SIZE each, default 512M; the user:
# backstores with hw_max_sectors=2048, as in make bench).  fio as in make
# bench: 4 KiB randwrite iodepth 16 (3 s ramp + SVM_CEILING_RW_TIME s,
# default 20), 1 MiB seqwrite and seqread iodepth 8 (2 s ramp +
# SVM_CEILING_SEQ_TIME s, default 10), libaio, direct=1, in
# SVM_CEILING_ROUNDS (default 3) interleaved rounds, the LUN order rotated
# every round, each job after sync + drop_caches (tests/bench/mark).
#
# Results in $SVM_OUTDIR/results/ (fio JSON, marks.tsv) and tables in
# $SVM_OUTDIR/ceiling.md.  Fails only when it could not measure.
# shellcheck disable=SC2317
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../vm/lib.sh"
vm_require fio targetcli tcmu-runner mkfs.ext4 numfmt python3
trap vm_cleanup EXIT
vm_on_fail() { vm_dump_state; }

SIZE=${SVM_CEILING_SIZE:-512M}
ROUNDS=${SVM_CEILING_ROUNDS:-3}
RW_TIME=${SVM_CEILING_RW_TIME:-20}
SEQ_TIME=${SVM_CEILING_SEQ_TIME:-10}
RES=$SVM_OUTDIR/results
STORE=/var/lib/svm-ceiling
MARK=$SVM_REPO/tests/bench/mark
NULL_SO=$SVM_REPO/build/instruments/handler_svmnull.so
QCOW_SO=$(vm_stock_handler_dir)/handler_qcow.so
mkdir -p "$RES"
vm_require qemu-img
vm_require_file "$SVM_REPO/build/handler_svm.so" "$NULL_SO" "$MARK" "$QCOW_SO"
size_bytes=$(numfmt --from=iec "$SIZE")

HDIR=/run/svm-ceiling-handlers
mkdir -p "$HDIR"
ln -sf "$SVM_REPO/build/handler_svm.so" "$HDIR/handler_svm.so"
ln -sf "$NULL_SO" "$HDIR/handler_svmnull.so"
ln -sf "$QCOW_SO" "$HDIR/handler_qcow.so"
vm_start_services "$HDIR" || fail "services did not start"

setup() {
	local kib=$(((3 * size_bytes + (256 << 20)) / 1024)) f
	modprobe brd rd_nr=1 rd_size="$kib" max_part=0
	mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 /dev/ram0
	mkdir -p "$STORE"
	mount -t ext4 /dev/ram0 "$STORE"
	for f in svm fileio; do
		dd if=/dev/zero of="$STORE/$f.img" bs=1M count=$((size_bytes >> 20)) conv=fsync status=none
	done
	# as tests/bench/guest.sh: qcow2 v2 (tcmu-runner 1.5.4's format), every cluster allocated
	qemu-img create -q -f qcow2 -o compat=0.10,cluster_size=65536,preallocation=full \
		"$STORE/qcow.qcow2" "$size_bytes"
	sync
}
vm_step "ext4 on a RAM disk, three preallocated stores" 600 setup

vm_tcli "/backstores/user:svmnull create name=null size=$size_bytes cfgstring=none hw_max_sectors=2048" \
	"/backstores/user:svm create name=svm size=$size_bytes cfgstring=$STORE/svm.img hw_max_sectors=2048" \
	"/backstores/fileio create name=fileio file_or_dev=$STORE/fileio.img size=$size_bytes write_back=true" \
	"/backstores/user:qcow create name=qcow size=$size_bytes cfgstring=$STORE/qcow.qcow2 hw_max_sectors=2048" ||
	fail "targetcli could not create the backstores"
declare -A DEV=()
DEV[null]=$(vm_loop_lun /backstores/user:svmnull/null) || fail "no disk for null"
DEV[svm]=$(vm_loop_lun /backstores/user:svm/svm) || fail "no disk for svm"
DEV[fileio]=$(vm_loop_lun /backstores/fileio/fileio) || fail "no disk for fileio"
DEV[qcow]=$(vm_loop_lun /backstores/user:qcow/qcow) || fail "no disk for qcow"
{
	printf 'lun\tdev\tmax_sectors_kb\n'
	for lun in null svm fileio qcow; do
		d=${DEV[$lun]#/dev/}
		echo none >"/sys/block/$d/queue/scheduler" 2>/dev/null || true
		printf '%s\t%s\t%s\n' "$lun" "/dev/$d" "$(cat "/sys/block/$d/queue/max_sectors_kb")"
	done
} >"$RES/devices.tsv"
cat "$RES/devices.tsv" >&2

export SVM_BENCH_RES=$RES SVM_BENCH_TCMU_PID=$SVM_TCMU_PID
printf 'event\tphase\tround\tlun\tepoch\tcpu_busy\tcpu_total\ttcmu_ticks\n' >"$RES/marks.tsv"
WORK=/tmp/svm-ceiling-fio
mkdir -p "$WORK"
run_phase() {
	# run_phase PHASE ROUND LUN...: one fio process, one job per LUN (stonewall)
	local phase=$1 round=$2 lun opts
	shift 2
	case $phase in
	randwrite) opts="bs=4k iodepth=16 rw=randwrite ramp_time=3 runtime=$RW_TIME" ;;
	seqwrite) opts="bs=1M iodepth=8 rw=write ramp_time=2 runtime=$SEQ_TIME" ;;
	seqread) opts="bs=1M iodepth=8 rw=read ramp_time=2 runtime=$SEQ_TIME" ;;
	esac
	{
		echo "[global]"
		# shellcheck disable=SC2086
		printf '%s\n' ioengine=libaio direct=1 numjobs=1 time_based $opts
		for lun in "$@"; do
			printf '\n[%s-r%s-%s]\nfilename=%s\nstonewall\n' "$phase" "$round" "$lun" "${DEV[$lun]}"
			echo "exec_prerun=$MARK start $phase $round $lun"
			echo "exec_postrun=$MARK end $phase $round $lun"
		done
	} >"$RES/$phase-r$round.fio"
	cd "$WORK"
	fio --output-format=json --output="$RES/$phase-r$round.json" "$RES/$phase-r$round.fio" </dev/null
}
LUNS=(null svm fileio qcow)
for ((r = 1; r <= ROUNDS; r++)); do
	# rotate: round 1 null svm fileio qcow, round 2 svm fileio qcow null, ...
	k=$(((r - 1) % ${#LUNS[@]}))
	order=("${LUNS[@]:$k}" "${LUNS[@]:0:$k}")
	for p in randwrite seqwrite seqread; do
		vm_step "round $r: $p on ${order[*]}" $((${#LUNS[@]} * (RW_TIME + 60) + 120)) run_phase "$p" "$r" "${order[@]}"
	done
done
vm_tcmu_alive || fail "tcmu-runner died"

python3 - "$RES" "$ROUNDS" >"$SVM_OUTDIR/ceiling.md" <<'PY'
import json, sys, os
res, rounds = sys.argv[1], int(sys.argv[2])
marks = {}
for line in open(os.path.join(res, "marks.tsv")).read().splitlines()[1:]:
    ev, ph, rd, lun, ep, busy, tot, tcmu = line.split("\t")
    marks[(ph, rd, lun, ev)] = (float(ep), int(busy), int(tot), int(tcmu))
clk = os.sysconf("SC_CLK_TCK")
val = {}
print("| phase | round | LUN | IOPS | MiB/s | clat mean µs | clat p99 µs | guest CPU | tcmu-runner CPU |")
print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for rd in range(1, rounds + 1):
    for ph in ("randwrite", "seqwrite", "seqread"):
        t = open(os.path.join(res, "%s-r%d.json" % (ph, rd))).read()
        for job in json.loads(t[t.find("{"):])["jobs"]:
            lun = job["jobname"].rsplit("-", 1)[-1]
            x = job["read" if ph == "seqread" else "write"]
            s, e = marks[(ph, str(rd), lun, "start")], marks[(ph, str(rd), lun, "end")]
            wall = e[0] - s[0]
            gcpu = 100.0 * (e[1] - s[1]) / max(1, e[2] - s[2])
            tcpu = 100.0 * (e[3] - s[3]) / clk / wall
            p99 = x["clat_ns"]["percentile"]["99.000000"] / 1e3
            val[(ph, rd, lun)] = (x["iops"], x["bw_bytes"] / 2 ** 20, p99)
            print("| %s | %d | %s | %.0f | %.1f | %.0f | %.0f | %.0f%% | %.0f%% |" % (
                ph, rd, lun, x["iops"], x["bw_bytes"] / 2 ** 20, x["clat_ns"]["mean"] / 1e3,
                p99, gcpu, tcpu))
print()
print("Ratios per round (IOPS or MiB/s; p99: lower is better):")
print()
print("| ratio | " + " | ".join("round %d" % r for r in range(1, rounds + 1)) + " | min | max |")
print("| --- |" + " ---: |" * (rounds + 2))
def row(name, f):
    v = [f(r) for r in range(1, rounds + 1)]
    print("| %s | %s | %.2f× | %.2f× |" % (name, " | ".join("%.2f×" % x for x in v), min(v), max(v)))
for ph, what in (("randwrite", "4 KiB random write IOPS"), ("seqwrite", "1 MiB sequential write MiB/s"),
                 ("seqread", "1 MiB sequential read MiB/s")):
    i = 0 if ph == "randwrite" else 1
    row("%s: null / fileio (the ceiling)" % what, lambda r: val[(ph, r, "null")][i] / val[(ph, r, "fileio")][i])
    row("%s: svm / fileio" % what, lambda r: val[(ph, r, "svm")][i] / val[(ph, r, "fileio")][i])
    row("%s: svm / null (svm's share of the ceiling)" % what, lambda r: val[(ph, r, "svm")][i] / val[(ph, r, "null")][i])
    row("%s: null / qcow (the ceiling against qcow)" % what, lambda r: val[(ph, r, "null")][i] / val[(ph, r, "qcow")][i])
    row("%s: svm / qcow" % what, lambda r: val[(ph, r, "svm")][i] / val[(ph, r, "qcow")][i])
row("4 KiB random write p99: null / fileio", lambda r: val[("randwrite", r, "null")][2] / val[("randwrite", r, "fileio")][2])
row("4 KiB random write p99: svm / fileio", lambda r: val[("randwrite", r, "svm")][2] / val[("randwrite", r, "fileio")][2])
row("4 KiB random write p99: qcow / fileio", lambda r: val[("randwrite", r, "qcow")][2] / val[("randwrite", r, "fileio")][2])
PY
cat "$SVM_OUTDIR/ceiling.md"
pass "TCMU ceiling measured"
