#!/bin/bash
# hw_max_sectors 128 vs 2048 on svm LUNs, guest side: a short side-by-side
# measurement of 1 MiB sequential write and read, the figures quoted in
# docs/tuning.md ("Large transfers").  Not part of `make bench`; run it with
#
#   tests/vm/run-vm -t 900 -m 4096 -o build/bench-hwmax tests/bench/hwmax-guest.sh
#
# In one VM: ext4 on a RAM disk (brd) holds two preallocated svm stores of
# SVM_HWMAX_SIZE (default 512M).  svm128 is created the default way (LIO
# gives a user: backstore hw_max_sectors=128, 64 KiB), svm2048 with
# hw_max_sectors=2048 (1 MiB) on targetcli's create command.  fio (libaio,
# direct=1, bs=1M, iodepth=8, 2 s ramp + SVM_HWMAX_TIME s, default 10) runs
# seqwrite and seqread on both, in SVM_HWMAX_ROUNDS (default 2) interleaved
# rounds (odd rounds 128 first, even rounds 2048 first and the phases
# reversed), each job after sync + drop_caches (tests/bench/mark).
#
# It also records whether `set attribute hw_max_sectors=2048` works on a
# user:svm backstore that is not yet exported (attrib-set.txt), and checks
# that tcmu-runner's qcow handler serves 1 MiB commands (a short fio run on
# a qcow LUN with hw_max_sectors=2048; the full benchmark uses that).
#
# Results in $SVM_OUTDIR/results/ (fio JSON, marks.tsv, devices.tsv) and a
# summary table in $SVM_OUTDIR/hwmax.md.  Fails only when it could not
# measure.
# shellcheck disable=SC2317
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../vm/lib.sh"
vm_require fio targetcli tcmu-runner qemu-img mkfs.ext4 numfmt python3
trap vm_cleanup EXIT
vm_on_fail() { vm_dump_state; }

SIZE=${SVM_HWMAX_SIZE:-512M}
ROUNDS=${SVM_HWMAX_ROUNDS:-2}
TIME=${SVM_HWMAX_TIME:-10}
RES=$SVM_OUTDIR/results
STORE=/var/lib/svm-hwmax
MARK=$SVM_REPO/tests/bench/mark
QCOW_SO=$(vm_stock_handler_dir)/handler_qcow.so
mkdir -p "$RES"
vm_require_file "$SVM_REPO/build/handler_svm.so" "$QCOW_SO" "$MARK"
size_bytes=$(numfmt --from=iec "$SIZE")

HDIR=/run/svm-hwmax-handlers
mkdir -p "$HDIR"
ln -sf "$SVM_REPO/build/handler_svm.so" "$HDIR/handler_svm.so"
ln -sf "$QCOW_SO" "$HDIR/handler_qcow.so"
vm_start_services "$HDIR" || fail "services did not start"

setup() {
	local kib=$(((2 * size_bytes + (256 << 20)) / 1024)) f
	modprobe brd rd_nr=1 rd_size="$kib" max_part=0
	mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 /dev/ram0
	mkdir -p "$STORE"
	mount -t ext4 /dev/ram0 "$STORE"
	for f in svm128 svm2048; do
		dd if=/dev/zero of="$STORE/$f.img" bs=1M count=$((size_bytes >> 20)) conv=fsync status=none
	done
	qemu-img create -q -f qcow2 -o compat=0.10,cluster_size=65536,preallocation=full \
		"$STORE/qcow.qcow2" 64M
	sync
}
vm_step "ext4 on a RAM disk, two preallocated svm stores" 600 setup

# Can the attribute be set on an existing, unexported user: backstore?
try_set() {
	local rc=0 a=/sys/kernel/config/target/core
	vm_tcli "/backstores/user:svm create name=svmset size=64M cfgstring=$STORE/svmset.img" || return 1
	{
		echo "# targetcli /backstores/user:svm/svmset set attribute hw_max_sectors=2048"
		vm_tcli "/backstores/user:svm/svmset set attribute hw_max_sectors=2048" 2>&1 || rc=$?
		echo "exit status: $rc"
		echo "# configfs after it:"
		ls -l "$a"/user_*/svmset/attrib/hw_max_sectors 2>&1 || true
		grep -H . "$a"/user_*/svmset/attrib/hw_max_sectors 2>&1 || true
	} >"$RES/attrib-set.txt" 2>&1
	vm_tcli "/backstores/user:svm delete svmset" || return 1
	cat "$RES/attrib-set.txt" >&2
}
vm_step "set attribute hw_max_sectors on an unexported LUN" 120 try_set

vm_tcli "/backstores/user:svm create name=svm128 size=$size_bytes cfgstring=$STORE/svm128.img" \
	"/backstores/user:svm create name=svm2048 size=$size_bytes cfgstring=$STORE/svm2048.img hw_max_sectors=2048" \
	"/backstores/user:qcow create name=qcow2048 size=64M cfgstring=$STORE/qcow.qcow2 hw_max_sectors=2048" ||
	fail "targetcli could not create the backstores"
declare -A DEV=()
for lun in svm128 svm2048; do
	DEV[$lun]=$(vm_loop_lun "/backstores/user:svm/$lun") || fail "no disk for $lun"
done
DEV[qcow2048]=$(vm_loop_lun /backstores/user:qcow/qcow2048) || fail "no disk for qcow2048"
{
	printf 'lun\tdev\tmax_sectors_kb\tmax_hw_sectors_kb\thw_max_sectors\n'
	for lun in svm128 svm2048 qcow2048; do
		d=${DEV[$lun]#/dev/}
		echo none >"/sys/block/$d/queue/scheduler" 2>/dev/null || true
		printf '%s\t%s\t%s\t%s\t%s\n' "$lun" "/dev/$d" "$(cat "/sys/block/$d/queue/max_sectors_kb")" \
			"$(cat "/sys/block/$d/queue/max_hw_sectors_kb")" \
			"$(cat /sys/kernel/config/target/core/user_*/"$lun"/attrib/hw_max_sectors)"
	done
} >"$RES/devices.tsv"
cat "$RES/devices.tsv" >&2

qcow_check() {
	fio --name=qcow-1m --filename="${DEV[qcow2048]}" --ioengine=libaio --direct=1 --bs=1M \
		--iodepth=8 --rw=write --size=64M --verify=crc32c --verify_fatal=1 \
		--output="$RES/qcow2048.txt" </dev/null
	grep -E 'err=|WRITE:|READ:' "$RES/qcow2048.txt" >&2
}
vm_step "qcow with hw_max_sectors=2048: 1 MiB writes and verify" 300 qcow_check

export SVM_BENCH_RES=$RES SVM_BENCH_TCMU_PID=$SVM_TCMU_PID
printf 'event\tphase\tround\tlun\tepoch\tcpu_busy\tcpu_total\ttcmu_ticks\n' >"$RES/marks.tsv"
WORK=/tmp/svm-hwmax-fio
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
	if [ $((r % 2)) -eq 1 ]; then
		phases="seqwrite seqread"
		order=(svm128 svm2048)
	else
		phases="seqread seqwrite"
		order=(svm2048 svm128)
	fi
	for p in $phases; do
		vm_step "round $r: $p on ${order[*]}" $((2 * (TIME + 40) + 120)) run_phase "$p" "$r" "${order[@]}"
	done
done
vm_tcmu_alive || fail "tcmu-runner died"

python3 - "$RES" "$ROUNDS" >"$SVM_OUTDIR/hwmax.md" <<'EOF'
import json, sys, os
res, rounds = sys.argv[1], int(sys.argv[2])
marks = {}
for line in open(os.path.join(res, "marks.tsv")).read().splitlines()[1:]:
    ev, ph, rd, lun, ep, busy, tot, tcmu = line.split("\t")
    marks[(ph, rd, lun, ev)] = (float(ep), int(tcmu))
clk = os.sysconf("SC_CLK_TCK")
rows = {}
print("| phase | round | LUN | MiB/s | clat mean ms | clat p99 ms | tcmu-runner CPU |")
print("| --- | ---: | --- | ---: | ---: | ---: | ---: |")
for ph in ("seqwrite", "seqread"):
    for rd in range(1, rounds + 1):
        t = open(os.path.join(res, "%s-r%d.json" % (ph, rd))).read()
        for job in json.loads(t[t.find("{"):])["jobs"]:
            lun = job["jobname"].rsplit("-", 1)[-1]
            x = job["read" if ph == "seqread" else "write"]
            s, e = marks[(ph, str(rd), lun, "start")], marks[(ph, str(rd), lun, "end")]
            cpu = 100.0 * (e[1] - s[1]) / clk / (e[0] - s[0])
            mibs = x["bw_bytes"] / 2 ** 20
            rows.setdefault((ph, lun), []).append(mibs)
            print("| %s | %d | %s | %.1f | %.1f | %.1f | %.0f%% |" % (
                ph, rd, lun, mibs, x["clat_ns"]["mean"] / 1e6,
                x["clat_ns"]["percentile"]["99.000000"] / 1e6, cpu))
print()
print("| phase | 128: MiB/s per round | 2048: MiB/s per round | 2048 / 128 per round |")
print("| --- | --- | --- | --- |")
for ph in ("seqwrite", "seqread"):
    a, b = rows[(ph, "svm128")], rows[(ph, "svm2048")]
    print("| %s | %s | %s | %s |" % (ph, ", ".join("%.1f" % v for v in a),
          ", ".join("%.1f" % v for v in b), ", ".join("%.2f×" % (y / x) for x, y in zip(a, b))))
EOF
cat "$SVM_OUTDIR/hwmax.md"
pass "hw_max_sectors 128 vs 2048 measured"
