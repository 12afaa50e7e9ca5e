#!/bin/bash
# Benchmark, guest side: started by tests/bench/run through tests/vm/run-vm,
# not by hand.
#
# In one VM: an ext4 file system on a RAM block device (brd, /dev/ram0)
# holds three stores of the same size, each behind a LUN of the tcm_loop
# target, seen by the guest as a SCSI disk /dev/sdX:
#   svm     user:svm backstore (tcmu-runner + build/handler_svm.so), a file
#   fileio  LIO's fileio backstore on a file, write_back=true (buffered)
#   qcow    user:qcow backstore (tcmu-runner's stock handler_qcow.so) on a
#           qcow2 image made by qemu-img
# All three stores are fully allocated first (files written with zeros,
# qcow2 with preallocation=full), so every run measures overwrites in the
# steady state, not first-touch allocation.
#
# Both user: backstores (svm and qcow) are created with hw_max_sectors=2048
# (1 MiB commands; LIO's default for them is 128, 64 KiB; docs/tuning.md
# says why), set on targetcli's create command, before the LUN is exported.
#
# fio (libaio, direct=1) then measures, in ROUNDS rounds (default 3): 1 MiB
# sequential write, 1 MiB sequential read and 4 KiB random write on each LUN,
# and 4 KiB random write on three more LUNs on new, sparse stores made for
# that round ("newwrite": the cost of first writes, qcow2 cluster
# allocation included; the three are deleted after their run, store files
# included).  One fio process per phase and round runs the three LUNs one
# after the other (stonewall; a fio start costs 5-10 s under TCG); odd
# rounds go seqwrite, seqread, randwrite, newwrite with the LUNs svm,
# fileio, qcow, even rounds the mirror image (newwrite, randwrite, seqread,
# seqwrite; qcow, fileio, svm), so a linear drift of the machine's speed
# weighs the same on every LUN.  Every ratio is taken within one round;
# tests/bench/report.py gives each one's minimum and maximum over the rounds
# and how many rounds met each target.  Before every job: sync and
# drop_caches (tests/bench/mark).
#
# Raw results go to $SVM_OUTDIR/results/:
#   <phase>-r<round>.fio   the fio job file
#   <phase>-r<round>.json  fio --output-format=json (one job per LUN)
#   marks.tsv       start/end of every job: guest epoch, guest CPU ticks
#                   (/proc/stat), tcmu-runner CPU ticks
#   devices.tsv     per LUN: /dev/sdX, queue limits, cache type
#   attrib.txt      the LIO attributes of the three backstores
#   guest.txt       guest kernel, CPUs, memory, versions, parameters
#   perf-<lun>.txt  (SVM_BENCH_PROFILE=1) perf profile under 4k randwrite
#   tcmu-runner.log
# The report is the host's (tests/bench/report.py).  This script fails only
# when it could not measure; how fast anything was never fails it.
#
# Environment (optional, passed in by run-vm as SVM_*):
#   SVM_BENCH_SIZE      size of each LUN (default 1G)
#   SVM_BENCH_ROUNDS    measured rounds (default 3)
#   SVM_BENCH_RW_TIME   seconds of one 4k randwrite job (default 20)
#   SVM_BENCH_SEQ_TIME  seconds of one 1M sequential job (default 10)
#   SVM_BENCH_HW_MAX_SECTORS  hw_max_sectors of both user: backstores (svm,
#                       qcow), in 512-byte sectors (default 2048); 0: none
#                       given, LIO's default (128)
#   SVM_BENCH_SVM_SO    handler_svm.so to load instead of build/'s (to
#                       compare a variant build; outside /tmp and /run)
#   SVM_THREADS, SVM_LUN_THREADS  the handler's worker pool and one LUN's
#                       share of it (docs/tuning.md); unset: the defaults
#   SVM_BENCH_PROFILE   1: after the measurements, a perf profile (8 s,
#                       cpu-clock, whole guest) of each LUN under 4k
#                       randwrite; 0 (default): none.  Off by default: in
#                       one run the profile filed as fileio's showed
#                       tcmu-runner threads at work and qcow's came out
#                       empty, so which LUN a profile belongs to is not
#                       to be trusted yet.
# shellcheck disable=SC2317
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../vm/lib.sh"
vm_require fio targetcli tcmu-runner qemu-img mkfs.ext4 numfmt
trap vm_cleanup EXIT
vm_on_fail() { vm_dump_state; }

SIZE=${SVM_BENCH_SIZE:-1G}
ROUNDS=${SVM_BENCH_ROUNDS:-3}
RW_TIME=${SVM_BENCH_RW_TIME:-20}
SEQ_TIME=${SVM_BENCH_SEQ_TIME:-10}
RW_RAMP=3
SEQ_RAMP=2
PROFILE=${SVM_BENCH_PROFILE:-0}
HWMAX=${SVM_BENCH_HW_MAX_SECTORS:-2048}
[ "$HWMAX" != 0 ] || HWMAX=
SVM_SO=${SVM_BENCH_SVM_SO:-$SVM_REPO/build/handler_svm.so}
RES=$SVM_OUTDIR/results
STORE=/var/lib/svm-bench
MARK=$SVM_REPO/tests/bench/mark
QCOW_SO=$(vm_stock_handler_dir)/handler_qcow.so
LUNS=(svm fileio qcow)
mkdir -p "$RES"
vm_require_file "$SVM_SO" "$QCOW_SO" "$MARK"

size_bytes=$(numfmt --from=iec "$SIZE")
[ "$size_bytes" -ge $((64 << 20)) ] || fail "SVM_BENCH_SIZE=$SIZE: want at least 64M"
[ $((size_bytes % (1 << 20))) -eq 0 ] || fail "SVM_BENCH_SIZE=$SIZE: want a multiple of 1 MiB"

# fio parameters: one place, so that guest.txt records exactly what ran.
FIO_GLOBAL=(ioengine=libaio direct=1 numjobs=1)
declare -A FIO_PHASE=(
	[seqwrite]="rw=write bs=1M iodepth=8 time_based ramp_time=$SEQ_RAMP runtime=$SEQ_TIME"
	[seqread]="rw=read bs=1M iodepth=8 time_based ramp_time=$SEQ_RAMP runtime=$SEQ_TIME"
	[randwrite]="rw=randwrite bs=4k iodepth=16 time_based ramp_time=$RW_RAMP runtime=$RW_TIME norandommap randrepeat=0"
	[newwrite]="rw=randwrite bs=4k iodepth=16 time_based ramp_time=$RW_RAMP runtime=$RW_TIME norandommap randrepeat=0"
)

{
	echo "guest_kernel: $(uname -r) ($(uname -v))"
	echo "guest_cpus: $(nproc)"
	echo "guest_cpu_model: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
	echo "guest_mem_kib: $(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo)"
	echo "fio_version: $(fio --version)"
	echo "qemu_img_version: $(qemu-img --version | head -n1)"
	echo "svm_so: $SVM_SO ($(sha256sum "$SVM_SO" | cut -c1-12)…)"
	echo "lun_size: $SIZE ($size_bytes bytes)"
	echo "rounds: $ROUNDS"
	echo "hw_max_sectors_user: ${HWMAX:-none}"
	echo "fio_global: ${FIO_GLOBAL[*]}"
	for p in seqwrite seqread randwrite newwrite; do echo "fio_$p: ${FIO_PHASE[$p]}"; done
	echo "clk_tck: $(getconf CLK_TCK)"
} >"$RES/guest.txt"

# --- tcmu-runner with both handlers ------------------------------------------
# tcmu-runner takes one --handler-path: a directory of symlinks to ours and
# to the stock qcow handler.
HDIR=/run/svm-bench-handlers
mkdir -p "$HDIR"
ln -sf "$SVM_SO" "$HDIR/handler_svm.so"
ln -sf "$QCOW_SO" "$HDIR/handler_qcow.so"
vm_start_services "$HDIR" || fail "services did not start"

# --- the file system holding all three stores --------------------------------
# A RAM block device, so that no host disk (and no other VM's I/O on it)
# enters the numbers; ext4 with its inode tables and journal initialised now
# rather than by a background thread during the runs.
# three preallocated stores, and three new ones at a time that grow during
# one random-write run each (a new qcow2 by up to the LUN size, 64 KiB
# clusters) and are deleted after it
brd_kib=$(((5 * size_bytes + (size_bytes / 4) + (256 << 20)) / 1024))
setup_fs() {
	modprobe brd rd_nr=1 rd_size="$brd_kib" max_part=0
	[ -b /dev/ram0 ]
	mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 -L svmbench /dev/ram0
	mkdir -p "$STORE"
	mount -t ext4 /dev/ram0 "$STORE"
	echo "store_fs: ext4 on /dev/ram0 (brd RAM disk, $((brd_kib / 1024)) MiB)" >>"$RES/guest.txt"
}
vm_step "ext4 on a RAM disk for the stores" 120 setup_fs

preallocate() {
	# Plain files written with zeros (all blocks allocated and written: no
	# unwritten extents left to convert); the svm handler takes an existing
	# file as it is.  qcow2 version 2 (compat=0.10), the format tcmu-runner
	# 1.5.4's qcow handler was written for, 64 KiB clusters, every cluster
	# allocated and zeroed (preallocation=full).
	local mib=$((size_bytes >> 20)) f
	for f in svm fileio; do
		dd if=/dev/zero of="$STORE/$f.img" bs=1M count="$mib" conv=fsync status=none
	done
	qemu-img create -q -f qcow2 -o compat=0.10,cluster_size=65536,preallocation=full \
		"$STORE/qcow.qcow2" "$size_bytes"
	sync
	qemu-img info "$STORE/qcow.qcow2" >"$RES/qcow-info.txt"
	{
		echo "# du -k (allocated KiB), ls -l"
		du -k "$STORE"/*
		ls -l "$STORE"
	} >"$RES/stores.txt"
}
vm_step "preallocate the three stores" 600 preallocate

cmds=(
	"/backstores/fileio create name=fileio0 file_or_dev=$STORE/fileio.img size=$size_bytes write_back=true"
	"/backstores/user:svm create name=svm0 size=$size_bytes cfgstring=$STORE/svm.img${HWMAX:+ hw_max_sectors=$HWMAX}"
	"/backstores/user:qcow create name=qcow0 size=$size_bytes cfgstring=$STORE/qcow.qcow2${HWMAX:+ hw_max_sectors=$HWMAX}"
)
vm_tcli "${cmds[@]}" || fail "targetcli could not create the three backstores"
# the handler logs its worker pool's size when tcmu-runner loads it
echo "svm_threads: $(sed -n 's/.*svm: \([0-9]*\) worker threads, shared by all LUNs; at most \([0-9]*\) for one LUN.*/\1, at most \2 for one LUN/p' "$SVM_TCMU_LOG" | tail -n1)" >>"$RES/guest.txt"
declare -A BS=([svm]=/backstores/user:svm/svm0 [fileio]=/backstores/fileio/fileio0
	[qcow]=/backstores/user:qcow/qcow0)
declare -A DEV=()
for lun in "${LUNS[@]}"; do
	DEV[$lun]=$(vm_loop_lun "${BS[$lun]}") || fail "no disk for the $lun LUN"
done

# What each LUN looks like to the initiator and to LIO.  The I/O scheduler
# is set to none on all three: the comparison is about the targets.
{
	printf 'lun\tdev\tmax_sectors_kb\tmax_hw_sectors_kb\tqueue_depth\tnr_requests\tcache_type\tscheduler\tprovisioning_mode\n'
	for lun in "${LUNS[@]}"; do
		d=${DEV[$lun]#/dev/}
		q=/sys/block/$d/queue
		echo none >"$q/scheduler" 2>/dev/null || vm_log "$d: could not set scheduler none"
		ct=$(cat /sys/block/"$d"/device/scsi_disk/*/cache_type 2>/dev/null || echo "?")
		pm=$(cat /sys/block/"$d"/device/scsi_disk/*/provisioning_mode 2>/dev/null || echo "?")
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$lun" "/dev/$d" "$(cat "$q/max_sectors_kb")" \
			"$(cat "$q/max_hw_sectors_kb")" "$(cat /sys/block/"$d"/device/queue_depth)" \
			"$(cat "$q/nr_requests")" "$ct" "$(cat "$q/scheduler")" "$pm"
	done
} >"$RES/devices.tsv"
column -t -s $'\t' "$RES/devices.tsv" >&2 || cat "$RES/devices.tsv" >&2
grep -H . /sys/kernel/config/target/core/fileio_*/fileio0/attrib/* \
	/sys/kernel/config/target/core/user_*/svm0/attrib/* \
	/sys/kernel/config/target/core/user_*/qcow0/attrib/* 2>/dev/null |
	sed 's|^/sys/kernel/config/target/core/||' >"$RES/attrib.txt" || true

# --- measuring ---------------------------------------------------------------
export SVM_BENCH_RES=$RES SVM_BENCH_TCMU_PID=$SVM_TCMU_PID
printf 'event\tphase\tround\tlun\tepoch\tcpu_busy\tcpu_total\ttcmu_ticks\n' >"$RES/marks.tsv"
WORK=/tmp/svm-bench-fio # fio leaves <job>.prerun.txt files in its cwd
mkdir -p "$WORK"

write_jobfile() {
	# write_jobfile PHASE ROUND LUN...: a job file with one job per LUN,
	# run one after the other (stonewall); newwrite runs on the round's new
	# LUNs (NDEV), every other phase on the preallocated ones (DEV)
	local phase=$1 round=$2 lun o dev
	shift 2
	{
		echo "; tests/bench/guest.sh: phase $phase, round $round"
		echo "[global]"
		for o in "${FIO_GLOBAL[@]}" ${FIO_PHASE[$phase]}; do echo "$o"; done
		for lun in "$@"; do
			if [ "$phase" = newwrite ]; then dev=${NDEV[$lun]}; else dev=${DEV[$lun]}; fi
			echo
			echo "[$phase-r$round-$lun]"
			echo "filename=$dev"
			echo "stonewall"
			echo "exec_prerun=$MARK start $phase $round $lun"
			echo "exec_postrun=$MARK end $phase $round $lun"
		done
	}
}

fio_phase() {
	# fio_phase PHASE ROUND LUN...
	local phase=$1 round=$2 job=$RES/$1-r$2
	write_jobfile "$@" >"$job.fio"
	cd "$WORK"
	fio --output-format=json --output="$job.json" "$job.fio" </dev/null
}

step_limit() {
	# generous: fio's own time, start-up and a loaded host
	local t=$SEQ_TIME r=$SEQ_RAMP
	case $1 in randwrite | newwrite) t=$RW_TIME r=$RW_RAMP ;; esac
	echo $((3 * (t + r + 30) + 120))
}

# --- new stores: a LUN as it is first created --------------------------------
# In every round, the same three kinds on new, sparse stores made the default
# way: svm creates its missing file (sparse, create=yes), fileio on a sparse
# file made by truncate, qcow2 by qemu-img without preallocation.  One 4 KiB
# random write run each ("newwrite"), so the first write to a block (qcow: to
# a 64 KiB cluster) allocates it; then the three LUNs and their files go.
declare -A NDEV=()
new_bs() {
	# new_bs ROUND LUN: the backstore of that round's new LUN
	case $2 in
	svm) echo "/backstores/user:svm/svmnew$1" ;;
	fileio) echo "/backstores/fileio/fileionew$1" ;;
	qcow) echo "/backstores/user:qcow/qcownew$1" ;;
	esac
}
new_luns() {
	local r=$1
	qemu-img create -q -f qcow2 -o compat=0.10,cluster_size=65536 "$STORE/qcow-new-r$r.qcow2" "$size_bytes"
	# a file targetcli's fileio create makes itself came out fully allocated
	# (du), even with sparse=true: give it an existing sparse one instead
	truncate -s "$size_bytes" "$STORE/fileio-new-r$r.img"
	vm_tcli \
		"/backstores/fileio create name=fileionew$r file_or_dev=$STORE/fileio-new-r$r.img write_back=true" \
		"/backstores/user:svm create name=svmnew$r size=$size_bytes cfgstring=$STORE/svm-new-r$r.img${HWMAX:+ hw_max_sectors=$HWMAX}" \
		"/backstores/user:qcow create name=qcownew$r size=$size_bytes cfgstring=$STORE/qcow-new-r$r.qcow2${HWMAX:+ hw_max_sectors=$HWMAX}"
}
export_new_luns() {
	# in the script's own shell (sets NDEV)
	local r=$1 lun
	for lun in "${LUNS[@]}"; do
		NDEV[$lun]=$(vm_loop_lun "$(new_bs "$r" "$lun")") || fail "no disk for round $r's new $lun LUN"
		echo none >"/sys/block/${NDEV[$lun]#/dev/}/queue/scheduler" 2>/dev/null || true
	done
	{
		echo "# round $r, new stores before the run: du -k (allocated KiB)"
		du -k "$STORE"/*-new-r"$r".*
	} >>"$RES/stores.txt"
}
del_new_luns() {
	# unexport and delete round R's new LUNs, then their store files
	local r=$1 lun bs name tpg l so w cmds=()
	{
		echo "# round $r, new stores after the run: du -k (allocated KiB)"
		du -k "$STORE"/*-new-r"$r".*
	} >>"$RES/stores.txt"
	for lun in "${LUNS[@]}"; do
		bs=$(new_bs "$r" "$lun")
		name=${bs##*/}
		for tpg in /sys/kernel/config/target/loopback/naa.*/tpgt_1; do
			w=${tpg%/tpgt_1}
			for l in "$tpg"/lun/lun_*; do
				for so in "$l"/*; do
					if [ -L "$so" ] && [ "$(basename "$(readlink -f "$so")")" = "$name" ]; then
						cmds+=("/loopback/${w##*/}/luns delete lun=${l##*_}")
					fi
				done
			done
		done
		cmds+=("${bs%/*} delete $name")
	done
	vm_tcli "${cmds[@]}"
	rm -f "$STORE"/*-new-r"$r".*
}

for ((r = 1; r <= ROUNDS; r++)); do
	if [ $((r % 2)) -eq 1 ]; then
		phases="seqwrite seqread randwrite newwrite"
		order=(svm fileio qcow)
	else
		phases="newwrite randwrite seqread seqwrite"
		order=(qcow fileio svm)
	fi
	for phase in $phases; do
		if [ "$phase" = newwrite ]; then
			vm_step "round $r: new, sparse stores for ${order[*]}" 300 new_luns "$r"
			export_new_luns "$r"
		fi
		vm_step "round $r: $phase on ${order[*]}" "$(step_limit "$phase")" \
			fio_phase "$phase" "$r" "${order[@]}"
		if [ "$phase" = newwrite ]; then
			vm_step "round $r: delete the new LUNs" 300 del_new_luns "$r"
		fi
	done
done
vm_tcmu_alive || fail "tcmu-runner died during the benchmark"

# --- optional profile (after the measurements: it cannot disturb them) --------
profile_all() {
	# one fio process, one 4k randwrite job per LUN; each job's prerun
	# starts perf in the background, recording 8 s from 3 s into the job
	local lun o job=/tmp/svm-bench-profile.fio
	{
		echo "[global]"
		for o in "${FIO_GLOBAL[@]}"; do echo "$o"; done
		echo "rw=randwrite"
		echo "bs=4k"
		echo "iodepth=16"
		echo "time_based"
		echo "runtime=13"
		echo "norandommap"
		echo "randrepeat=0"
		for lun in "${LUNS[@]}"; do
			echo
			echo "[profile-$lun]"
			echo "filename=${DEV[$lun]}"
			echo "stonewall"
			echo "exec_prerun=$MARK perf $lun"
		done
	} >"$job"
	cd "$WORK"
	fio --output=/dev/null "$job" </dev/null
	sleep 2 # let the last perf finish writing
	for lun in "${LUNS[@]}"; do
		[ -s "/tmp/perf-$lun.data" ] || { vm_log "no perf data for $lun"; continue; }
		perf report -q -i "/tmp/perf-$lun.data" --stdio --no-children --sort comm,dso,sym \
			2>/dev/null | sed '/^$/d' | head -n 400 >"$RES/perf-$lun.txt" || true
	done
}
if [ "$PROFILE" = 1 ]; then
	if command -v perf >/dev/null 2>&1 && perf --version >/dev/null 2>&1; then
		# a profile is a bonus: its failure (or time-out) fails nothing
		timeout -k 5 300 bash -c "$(declare -p DEV FIO_GLOBAL RES WORK LUNS MARK); $(declare -f profile_all vm_log); profile_all" ||
			vm_log "profiling failed or timed out (ignored)"
	else
		vm_log "perf not usable: no profile"
	fi
fi

cp "$SVM_TCMU_LOG" "$RES/tcmu-runner.log" 2>/dev/null || true
vm_tcmu_alive || fail "tcmu-runner died"
pass "benchmark measured svm, fileio and qcow"
