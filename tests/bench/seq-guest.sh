#!/bin/bash
# 1 MiB sequential I/O, svm variants against LIO fileio, guest side
# (make bench-seq, tests/bench/seq-run).  Not part of `make bench`: a short,
# focused measurement of where 1 MiB sequential reads and writes spend
# their time, the figures quoted in docs/tuning.md ("Large transfers").
#
# In one VM: ext4 on a RAM disk (brd) holds preallocated stores of
# SVM_SEQ_SIZE (default 512M), one per LUN:
#   fileio     LIO fileio, write_back=true (as in `make bench`)
#   svm        user:svm, hw_max_sectors=2048, the default cfgstring
#   svmdirect  user:svm, hw_max_sectors=2048, cfgstring direct=yes
#   svmbuf     user:svm, hw_max_sectors=2048, cfgstring direct=no
#   svmserial  user:svm, hw_max_sectors=2048, the default cfgstring, on a
#              store named svmserial.img (an experiment build may treat
#              such stores differently, docs/tuning.md)
# (SVM_SEQ_LUNS picks and orders them, default "svmbuf svm fileio").
# fio (libaio, direct=1, bs=1M, iodepth=8, 2 s ramp + SVM_SEQ_TIME s,
# default 10) runs seqwrite and seqread on every LUN, one LUN after the
# other, in SVM_SEQ_ROUNDS (default 3) interleaved rounds: odd rounds
# seqwrite then seqread with the LUNs in the given order, even rounds the
# mirror image.  Before every job: sync and drop_caches (tests/bench/mark
# through tests/bench/seq-mark), which also record guest CPU ticks and
# tcmu-runner's CPU ticks, user and kernel, and its page faults.
#
# Then the LUNs are deleted, so that tcmu-runner logs each svm LUN's
# counters (tcmu-runner.log: the close lines, and the store's direct-read
# line).  No perf profile: in this TCG guest, perf started next to the fio
# job recorded an idle guest, and perf started disabled first and enabled
# through its control fifo wrote reports with nothing in them (2026-12-01);
# the CPU split comes from /proc instead (tests/bench/seq-mark).
#
# Environment (passed in by run-vm as SVM_*):
#   SVM_SEQ_SVM_SO   handler_svm.so to load (default build/'s; a copy outside
#                    /tmp and /run, so that a rebuild does not change it)
#   SVM_SEQ_SIZE, SVM_SEQ_ROUNDS, SVM_SEQ_TIME, SVM_SEQ_LUNS
#
# Results in $SVM_OUTDIR/results/ (fio JSON, marks.tsv, tcmu.tsv,
# devices.tsv, tcmu-runner.log) and a table in $SVM_OUTDIR/seq.md.  Fails
# only when it could not measure.
# shellcheck disable=SC2317
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../vm/lib.sh"
vm_require fio targetcli tcmu-runner mkfs.ext4 numfmt python3
trap vm_cleanup EXIT
vm_on_fail() { vm_dump_state; }

SIZE=${SVM_SEQ_SIZE:-512M}
ROUNDS=${SVM_SEQ_ROUNDS:-3}
TIME=${SVM_SEQ_TIME:-10}
read -r -a LUNS <<<"${SVM_SEQ_LUNS:-svmbuf svm fileio}"
SVM_SO=${SVM_SEQ_SVM_SO:-$SVM_REPO/build/handler_svm.so}
RES=$SVM_OUTDIR/results
STORE=/var/lib/svm-seq
MARK=$SVM_REPO/tests/bench/seq-mark
mkdir -p "$RES"
vm_require_file "$SVM_SO" "$MARK" "$SVM_REPO/tests/bench/mark"
size_bytes=$(numfmt --from=iec "$SIZE")
{
	echo "guest_kernel: $(uname -r)"
	echo "guest_cpus: $(nproc)"
	echo "svm_so: $SVM_SO ($(sha256sum "$SVM_SO" | cut -c1-12))"
	echo "lun_size: $SIZE"
	echo "rounds: $ROUNDS"
	echo "time: $TIME"
	echo "luns: ${LUNS[*]}"
	echo "clk_tck: $(getconf CLK_TCK)"
} >"$RES/guest.txt"

HDIR=/run/svm-seq-handlers
mkdir -p "$HDIR"
ln -sf "$SVM_SO" "$HDIR/handler_svm.so"
vm_start_services "$HDIR" || fail "services did not start"

setup() {
	local kib=$(((${#LUNS[@]} * size_bytes + (256 << 20)) / 1024)) lun
	modprobe brd rd_nr=1 rd_size="$kib" max_part=0
	mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 /dev/ram0
	mkdir -p "$STORE"
	mount -t ext4 /dev/ram0 "$STORE"
	for lun in "${LUNS[@]}"; do
		dd if=/dev/zero of="$STORE/$lun.img" bs=1M count=$((size_bytes >> 20)) conv=fsync status=none
	done
	sync
}
vm_step "ext4 on a RAM disk, ${#LUNS[@]} preallocated stores" 600 setup

declare -A DEV=() BS=()
for lun in "${LUNS[@]}"; do
	case $lun in
	fileio)
		vm_tcli "/backstores/fileio create name=$lun file_or_dev=$STORE/$lun.img size=$size_bytes write_back=true" ||
			fail "cannot create $lun"
		BS[$lun]=/backstores/fileio/$lun
		;;
	svm | svmdirect | svmbuf | svmserial)
		cfg=$STORE/$lun.img
		[ "$lun" != svmdirect ] || cfg="$cfg;direct=yes"
		[ "$lun" != svmbuf ] || cfg="$cfg;direct=no"
		vm_tcli "/backstores/user:svm create name=$lun size=$size_bytes cfgstring=$cfg hw_max_sectors=2048" ||
			fail "cannot create $lun"
		BS[$lun]=/backstores/user:svm/$lun
		;;
	*) fail "unknown LUN kind $lun (SVM_SEQ_LUNS)" ;;
	esac
	DEV[$lun]=$(vm_loop_lun "${BS[$lun]}") || fail "no disk for $lun"
done
{
	printf 'lun\tdev\tmax_sectors_kb\tdev_config\n'
	for lun in "${LUNS[@]}"; do
		d=${DEV[$lun]#/dev/}
		echo none >"/sys/block/$d/queue/scheduler" 2>/dev/null || true
		printf '%s\t%s\t%s\t%s\n' "$lun" "/dev/$d" "$(cat "/sys/block/$d/queue/max_sectors_kb")" \
			"$(cat /sys/kernel/config/target/core/*/"$lun"/info 2>/dev/null | tr '\n' ' ' | cut -c1-200)"
	done
} >"$RES/devices.tsv"
cat "$RES/devices.tsv" >&2

export SVM_BENCH_RES=$RES SVM_BENCH_TCMU_PID=$SVM_TCMU_PID
printf 'event\tphase\tround\tlun\tepoch\tcpu_busy\tcpu_total\ttcmu_ticks\n' >"$RES/marks.tsv"
printf 'event\tphase\tround\tlun\tutime\tstime\tminflt\tmajflt\n' >"$RES/tcmu.tsv"
WORK=/tmp/svm-seq-fio
mkdir -p "$WORK"
run_phase() {
	# run_phase PHASE ROUND LUN...: one fio process, one job per LUN (stonewall)
	local phase=$1 round=$2 rw="write" lun
	shift 2
	[ "$phase" != seqread ] || rw="read"
	{
		echo "[global]"
		printf '%s\n' ioengine=libaio direct=1 bs=1M iodepth=8 "rw=$rw" time_based \
			ramp_time=2 "runtime=$TIME"
		for lun in "$@"; do
			printf '\n[%s-r%s-%s]\nfilename=%s\nstonewall\n' "$phase" "$round" "$lun" "${DEV[$lun]}"
			echo "exec_prerun=$MARK start $phase $round $lun"
			echo "exec_postrun=$MARK end $phase $round $lun"
		done
	} >"$RES/$phase-r$round.fio"
	cd "$WORK"
	fio --output-format=json --output="$RES/$phase-r$round.json" "$RES/$phase-r$round.fio" </dev/null
}
for ((r = 1; r <= ROUNDS; r++)); do
	order=("${LUNS[@]}")
	phases="seqwrite seqread"
	if [ $((r % 2)) -eq 0 ]; then
		phases="seqread seqwrite"
		order=()
		for ((i = ${#LUNS[@]} - 1; i >= 0; i--)); do order+=("${LUNS[$i]}"); done
	fi
	for p in $phases; do
		vm_step "round $r: $p on ${order[*]}" $((${#LUNS[@]} * (TIME + 40) + 120)) \
			run_phase "$p" "$r" "${order[@]}"
	done
done
vm_tcmu_alive || fail "tcmu-runner died"

# delete the LUNs: tcmu-runner logs each svm LUN's counters when it closes
for lun in "${LUNS[@]}"; do
	[ "$lun" = fileio ] || vm_tcli "/backstores/user:svm delete $lun" || vm_log "cannot delete $lun"
done
sleep 2
cp "$SVM_TCMU_LOG" "$RES/tcmu-runner.log" 2>/dev/null || true

python3 - "$RES" "$ROUNDS" "${LUNS[@]}" >"$SVM_OUTDIR/seq.md" <<'EOF'
import json, sys, os
res, rounds, luns = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
marks = {}
for line in open(os.path.join(res, "marks.tsv")).read().splitlines()[1:]:
    ev, ph, rd, lun, ep, busy, tot, tcmu = line.split("\t")
    marks[(ph, rd, lun, ev)] = (float(ep), int(busy), int(tot), int(tcmu))
split = {}
for line in open(os.path.join(res, "tcmu.tsv")).read().splitlines()[1:]:
    ev, ph, rd, lun, ut, st, mi, ma = line.split("\t")
    split[(ph, rd, lun, ev)] = (int(ut), int(st), int(mi), int(ma))
clk = os.sysconf("SC_CLK_TCK")
rows = {}
print("| phase | round | LUN | MiB/s | clat mean ms | clat p99 ms | guest CPU busy | tcmu-runner CPU | tcmu-runner CPU s per GiB | of it user / kernel | tcmu-runner page faults per MiB |")
print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for ph in ("seqwrite", "seqread"):
    for rd in range(1, rounds + 1):
        t = open(os.path.join(res, "%s-r%d.json" % (ph, rd))).read()
        for job in json.loads(t[t.find("{"):])["jobs"]:
            lun = job["jobname"].rsplit("-", 1)[-1]
            x = job["read" if ph == "seqread" else "write"]
            s, e = marks[(ph, str(rd), lun, "start")], marks[(ph, str(rd), lun, "end")]
            wall = e[0] - s[0]
            tcmu_s = (e[3] - s[3]) / clk
            busy = 100.0 * (e[1] - s[1]) / max(1, e[2] - s[2])
            mibs = x["bw_bytes"] / 2 ** 20
            gib = mibs * wall / 1024  # the job's rate over its whole window, ramp included
            rows.setdefault((ph, lun), []).append(mibs)
            a, b = split.get((ph, str(rd), lun, "start")), split.get((ph, str(rd), lun, "end"))
            us, fl = "-", "-"
            if a and b and (b[0] - a[0]) + (b[1] - a[1]) > 0:
                us = "%.0f%% / %.0f%%" % (100.0 * (b[0] - a[0]) / ((b[0] - a[0]) + (b[1] - a[1])),
                                          100.0 * (b[1] - a[1]) / ((b[0] - a[0]) + (b[1] - a[1])))
                fl = "%.0f" % ((b[2] - a[2]) / (gib * 1024)) if gib > 0 else "-"
            print("| %s | %d | %s | %.1f | %.1f | %.1f | %.0f%% | %.0f%% | %s | %s | %s |" % (
                ph, rd, lun, mibs, x["clat_ns"]["mean"] / 1e6,
                x["clat_ns"]["percentile"]["99.000000"] / 1e6, busy, 100.0 * tcmu_s / wall,
                "%.1f" % (tcmu_s / gib) if gib > 0 else "-", us, fl))
print()
ref = "fileio" if "fileio" in luns else None
print("| phase | LUN | MiB/s per round | / fileio per round |")
print("| --- | --- | --- | --- |")
for ph in ("seqwrite", "seqread"):
    for lun in luns:
        a = rows[(ph, lun)]
        rat = ""
        if ref and lun != ref:
            rat = ", ".join("%.2f×" % (y / x) if x else "-" for x, y in zip(rows[(ph, ref)], a))
        print("| %s | %s | %s | %s |" % (ph, lun, ", ".join("%.1f" % v for v in a), rat))
EOF
cat "$SVM_OUTDIR/seq.md"
pass "1 MiB sequential I/O measured"
