#!/bin/bash
# RBD benchmark, guest side: started by tests/bench/rbd-run through
# tests/vm/run-vm (make bench-rbd), not by hand.  Not a test: no bar.
#
# On the rig's throw-away single-node Ceph (tests/vm/ceph.sh: one mon, one
# memstore OSD, in this VM), two parts:
#
# 1. svm on RBD vs tcmu-runner's own rbd handler, same cluster, same pool
#    (bench, 8 PGs), hw_max_sectors=2048, through tcm_loop:
#      svm    user:svm, cfgstring rbd/bench/<image>;conf=<the cluster's conf>
#      svmnc  (NOCACHE=1) user:svm, cfgstring rbd/bench/<image>;conf=<the
#             cluster's conf with "rbd cache = false" in [client]>: svm with
#             the librbd setting user:rbd forces on itself (tcmu-runner's
#             rbd.c sets rbd_cache false before it connects)
#      rbd    user:rbd, cfgstring bench/<image>;conf=<the cluster's conf>
#      rbd2   (CONTROL=1) a second user:rbd LUN: the A/A control
#    One image per LUN (bench/img0, img1...; SIZE, 1G), rotated each round:
#    LUN k runs on image (k + round - 1) mod n, the LUNs deleted and created
#    again between rounds, so that over n rounds (ROUNDS a multiple of the
#    LUN count) every stack meets every image's object placement once.
#    The first REGION (256M) of each image is written once with 1 MiB writes
#    (so that reads read data, and random writes overwrite existing objects),
#    then fio (libaio, direct=1, RAMP s ramp + TIME s, over the first REGION):
#      randwrite  4 KiB random writes, iodepth 16
#      seqwrite   1 MiB sequential writes, iodepth SEQ_QD (8)
#      seqread    1 MiB sequential reads, iodepth SEQ_QD (8)
#    in ROUNDS interleaved rounds: odd rounds svm, svmnc, rbd, rbd2, even
#    rounds the other way round, each workload on every LUN before the
#    next.  Before every job: sync and drop_caches.  runs.tsv's dev column
#    is <device>:<image>.
#
# 2. (MIGRATE=1) a pool -> pool move of a MIG_SIZE (1G) image, full of data
#    (rbd bench, 4 MiB sequential writes), under fio 4 KiB random writes at
#    iodepth 16 through tcm_loop:
#      svm   user:svm LUN on rbd/bench/msvm moved live by
#            `svmctl migrate msvm --to rbd/bench2/msvm --wait`; the
#            initiator keeps its device.  (Needs svmctl/handler RBD
#            migration; a refusal is recorded, not hidden.)
#      ceph  user:rbd LUN on bench/mceph moved by Ceph's live migration,
#            `rbd migration prepare bench/mceph bench2/mceph`, `execute`,
#            `commit`.  prepare refuses an image that a client has open, so
#            the LUN is deleted first and recreated on bench2/mceph after
#            prepare: NOT transparent to the initiator: its disk goes away
#            and a new one (new /dev/sdX) appears; the outage is measured
#            from the moment fio is stopped on the old disk to the moment
#            fio starts on the new one; execute and commit then run under
#            load on the new disk.
#    Before each move, fio alone for MIG_BASE s (the baseline IOPS).  fio
#    logs IOPS every 500 ms (unix epoch ms): the report counts the writes
#    completed between the move's start and end.
#
# Raw results in $SVM_OUTDIR/results/: runs.tsv (one line per fio run),
# moves.tsv (one line per move), events.tsv (time stamps of the moves'
# steps), fio-<run>.json, fio-<run>_iops.1.log, mv-<stack>.out, guest.txt,
# attrib.txt, ceph-mem.txt, tcmu-runner.log.  Fails only when it could not
# measure.
#
# Environment (optional, passed in by run-vm as SVM_*):
#   SVM_RBENCH_SVM_SO    handler_svm.so to load (default build/'s)
#   SVM_RBENCH_SVMCTL    svmctl to run (default build/cli/svmctl)
#   SVM_RBENCH_SIZE      image size of part 1 (default 1G)
#   SVM_RBENCH_REGION    fio's range in part 1 (default 256M)
#   SVM_RBENCH_ROUNDS    rounds (default 3)
#   SVM_RBENCH_TIME      seconds per fio run in part 1 (default 15)
#   SVM_RBENCH_RAMP      fio ramp_time, s (default 2)
#   SVM_RBENCH_SEQ_QD    iodepth of the 1 MiB runs (default 8)
#   SVM_RBENCH_PART1     1 (default): part 1; 0: skip it
#   SVM_RBENCH_NOCACHE   1 (default): part 1 also measures svmnc; 0: not
#   SVM_RBENCH_CONTROL   1: part 1 also measures rbd2, a second user:rbd LUN
#                        (an A/A control: rbd2 / rbd is the rig's own spread);
#                        0 (default): not
#   SVM_RBENCH_MIGRATE   1 (default): part 2; 0: skip it
#   SVM_RBENCH_MIG_SIZE  image size of part 2 (default 1G)
#   SVM_RBENCH_MIG_BASE  seconds of the baseline fio run of part 2 (default 20)
#   SVM_RBENCH_MIG_RAMP  seconds of fio before a move starts (default 5)
#   SVM_RBENCH_MAX_LOAD  longest fio load run, s (default 1800)
# shellcheck disable=SC2317
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../vm/lib.sh
. "$(dirname "$0")/../vm/lib.sh"
# shellcheck source-path=SCRIPTDIR source=../vm/ceph.sh
. "$(dirname "$0")/../vm/ceph.sh"
vm_require fio targetcli tcmu-runner rbd python3 numfmt
ceph_require
trap ceph_cleanup EXIT
vm_on_fail() {
	vm_dump_state
	ceph_dump_state
}

SVM_SO=${SVM_RBENCH_SVM_SO:-$SVM_REPO/build/handler_svm.so}
SVMCTL=${SVM_RBENCH_SVMCTL:-$SVM_REPO/build/cli/svmctl}
SIZE=${SVM_RBENCH_SIZE:-1G}
REGION=${SVM_RBENCH_REGION:-256M}
ROUNDS=${SVM_RBENCH_ROUNDS:-3}
TIME=${SVM_RBENCH_TIME:-15}
RAMP=${SVM_RBENCH_RAMP:-2}
SEQ_QD=${SVM_RBENCH_SEQ_QD:-8}
PART1=${SVM_RBENCH_PART1:-1}
NOCACHE=${SVM_RBENCH_NOCACHE:-1}
CONTROL=${SVM_RBENCH_CONTROL:-0}
MIGRATE=${SVM_RBENCH_MIGRATE:-1}
MIG_SIZE=${SVM_RBENCH_MIG_SIZE:-1G}
MIG_BASE=${SVM_RBENCH_MIG_BASE:-20}
MIG_RAMP=${SVM_RBENCH_MIG_RAMP:-5}
MAX_LOAD=${SVM_RBENCH_MAX_LOAD:-1800}
RES=$SVM_OUTDIR/results
mkdir -p "$RES"
rbd_so=$(vm_stock_handler_dir)/handler_rbd.so
vm_require_file "$SVM_SO" "$SVMCTL" "$rbd_so"

now() { echo "${EPOCHREALTIME/./}" | cut -c1-13; } # epoch ms
event() { # event STACK WHAT: one time stamp in events.tsv
	printf '%s\t%s\t%s\n' "$(now)" "$1" "$2" >>"$RES/events.tsv"
	vm_log "event $1: $2"
}
{
	echo "guest_kernel: $(uname -r)"
	echo "guest_cpus: $(nproc)"
	echo "guest_mem_mib: $(awk '/^MemTotal:/ { printf "%d", $2 / 1024 }' /proc/meminfo)"
	echo "ceph: $(ceph-osd --version 2>/dev/null | head -n1)"
	echo "fio: $(fio --version)"
	echo "size: $SIZE"
	echo "region: $REGION"
	echo "rounds: $ROUNDS"
	echo "time_s: $TIME"
	echo "ramp_s: $RAMP"
	echo "seq_qd: $SEQ_QD"
	echo "part1: $PART1"
	echo "nocache: $NOCACHE"
	echo "control: $CONTROL"
	echo "migrate: $MIGRATE"
	echo "mig_size: $MIG_SIZE"
	echo "mig_base_s: $MIG_BASE"
	echo "mig_ramp_s: $MIG_RAMP"
} >"$RES/guest.txt"
printf 'epoch_ms\tstack\tevent\n' >"$RES/events.tsv"
printf 'run\tround\tworkload\tlun\tdev\tiops\tmib_s\tclat_mean_us\tguest_load1\ttcmu_cpu_s\tosd_cpu_s\n' >"$RES/runs.tsv"

# tcmu-runner gets both handlers and nothing else (each costs time to load under TCG).
HDIR=/tmp/handlers-rbench
mkdir -p "$HDIR"
ln -sf "$SVM_SO" "$HDIR/handler_svm.so"
ln -sf "$rbd_so" "$HDIR/handler_rbd.so"
vm_start_services "$HDIR" || fail "services did not start"
ceph_start || fail "the Ceph cluster did not start"
ceph_pool_create bench || fail "pool bench"
ceph_pool_create bench2 || fail "pool bench2"
ceph_mem 2>&1 | tee -a "$RES/ceph-mem.txt" >&2

drop_caches() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
}

cpu_ticks() { # cpu_ticks PID: utime + stime of PID in clock ticks (0 if gone)
	local f
	f=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return 0; }
	f=${f##*) } # the fields after comm, from state (field 3) on
	# shellcheck disable=SC2086 # split into fields on purpose
	set -- $f
	echo $((${12} + ${13}))
}
osd_pid() { # the OSD's PID, or 0
	local p
	p=$(cat "$(_ceph_pidfile "$_CEPH_OSD")" 2>/dev/null) || p=0
	echo "${p:-0}"
}

# fio_json_row RUN ROUND WORKLOAD LUN DEV [TCMU_TICKS OSD_TICKS]: a runs.tsv line
# from fio-RUN.json; the CPU ticks tcmu-runner and the OSD used during the run.
fio_json_row() {
	python3 - "$RES/fio-$1.json" "$@" <<'EOF' >>"$RES/runs.tsv"
import json, os, sys
path, run, rnd, wl, lun, dev = sys.argv[1:7]
hz = os.sysconf("SC_CLK_TCK")
cpu = ["%.2f" % (int(t) / hz) for t in sys.argv[7:9]] or ["", ""]
j = json.load(open(path))
job = j["jobs"][0]
side = job["read"] if job["read"]["io_bytes"] > job["write"]["io_bytes"] else job["write"]
load1 = open("/proc/loadavg").read().split()[0]
print("\t".join([run, rnd, wl, lun, dev, "%.1f" % side["iops"], "%.2f" % (side["bw"] / 1024.0),
                 "%.0f" % (side["clat_ns"]["mean"] / 1000.0), load1] + cpu))
EOF
}

run_fio() { # run_fio RUN ROUND WORKLOAD LUN DEV[:IMAGE] (runs.tsv's dev column keeps both)
	local run=$1 rnd=$2 wl=$3 lun=$4 dev=${5%%:*} rw bs qd
	case $wl in
	randwrite) rw=randwrite bs=4k qd=16 ;;
	seqwrite) rw=write bs=1M qd=$SEQ_QD ;;
	seqread) rw=read bs=1M qd=$SEQ_QD ;;
	*) return 2 ;;
	esac
	drop_caches
	local t0 o0 opid
	opid=$(osd_pid)
	t0=$(cpu_ticks "$SVM_TCMU_PID") o0=$(cpu_ticks "$opid")
	fio --name="$run" --filename="$dev" --direct=1 --ioengine=libaio --iodepth="$qd" \
		--rw="$rw" --bs="$bs" --size="$REGION" --time_based --runtime="$TIME" \
		--ramp_time="$RAMP" --norandommap --randrepeat=0 \
		--output-format=json --output="$RES/fio-$run.json" >"$RES/fio-$run.err" 2>&1 ||
		{ cat "$RES/fio-$run.err" >&2; return 1; }
	fio_json_row "$run" "$rnd" "$wl" "$lun" "$5" $(($(cpu_ticks "$SVM_TCMU_PID") - t0)) \
		$(($(cpu_ticks "$opid") - o0))
	vm_log "$(tail -n1 "$RES/runs.tsv")"
}

attribs() { # attribs NAME...: the LIO attributes of the user backstores NAME
	local n
	for n in "$@"; do
		grep -H . /sys/kernel/config/target/core/user_*/"$n"/attrib/* 2>/dev/null |
			sed 's|^/sys/kernel/config/target/core/||' >>"$RES/attrib.txt" || true
	done
}

# ---- part 1: svm vs user:rbd -------------------------------------------------
if [ "$PART1" = 1 ]; then
	# LUN key -> backstore and cfgstring (IMAGE: the round's image)
	declare -A BS TMPL DEV IMGOF
	LUNS=(svm)
	BS[svm]=user:svm/svm0 TMPL[svm]="rbd/bench/IMAGE;conf=$SVM_CEPH_CONF"
	if [ "$NOCACHE" = 1 ]; then
		# the client settings user:rbd forces on itself: rbd_cache off (rbd.c,
		# tcmu_rbd_image_open), given to svm the documented way (its conf=)
		nc_conf=/tmp/ceph-nocache.conf
		if grep -q '^\[client\]' "$SVM_CEPH_CONF"; then
			sed '/^\[client\]/a rbd cache = false' "$SVM_CEPH_CONF" >"$nc_conf"
		else
			{ cat "$SVM_CEPH_CONF"; printf '[client]\nrbd cache = false\n'; } >"$nc_conf"
		fi
		LUNS+=(svmnc)
		BS[svmnc]=user:svm/svmnc0 TMPL[svmnc]="rbd/bench/IMAGE;conf=$nc_conf"
	fi
	LUNS+=(rbd)
	BS[rbd]=user:rbd/rbd0 TMPL[rbd]="bench/IMAGE;conf=$SVM_CEPH_CONF"
	if [ "$CONTROL" = 1 ]; then
		# a second user:rbd LUN: rbd2 / rbd is what this rig reads as a difference
		# between two identical stacks (an A/A control)
		LUNS+=(rbd2)
		BS[rbd2]=user:rbd/rbd2 TMPL[rbd2]="bench/IMAGE;conf=$SVM_CEPH_CONF"
	fi
	# One image per LUN, rotated every round: LUN k uses image (k + round - 1) mod
	# n, so over n rounds every stack runs on every image once. An image's 4 MiB
	# objects land on the pool's 8 PGs (and the OSD's shards) by their names,
	# at random, and that placement alone moved one stack against another by
	# more than the stacks differ (bench-rbd 06:15, same handler both ways).
	IMGS=()
	for k in "${!LUNS[@]}"; do
		IMGS+=("img$k")
		timeout "$SVM_CEPH_TIMEOUT" rbd create --size "$SIZE" "bench/img$k"
	done
	attach_luns() { # attach_luns ROUND: every LUN on its image of ROUND, DEV set
		local k lun img
		for k in "${!LUNS[@]}"; do
			lun=${LUNS[$k]}
			img=${IMGS[$(((k + $1 - 1) % ${#IMGS[@]}))]}
			vm_tcli "/backstores/${BS[$lun]%/*} create name=${BS[$lun]#*/} size=$SIZE cfgstring=${TMPL[$lun]/IMAGE/$img} hw_max_sectors=2048" ||
				return 1
			DEV[$lun]=$(vm_loop_lun "/backstores/${BS[$lun]}") || return 1
			IMGOF[$lun]=$img
			echo "round $1: $lun on bench/$img is ${DEV[$lun]} (max_sectors_kb $(cat "/sys/block/${DEV[$lun]#/dev/}/queue/max_sectors_kb"))" >>"$RES/guest.txt"
		done
	}
	detach_luns() {
		local lun
		for lun in "${LUNS[@]}"; do
			vm_tcli "/backstores/${BS[$lun]%/*} delete ${BS[$lun]#*/}" || return 1
		done
	}
	attach_luns 1 || fail "could not create the LUNs"
	for lun in "${LUNS[@]}"; do attribs "${BS[$lun]#*/}"; done
	fill() {
		local lun
		for lun in "${LUNS[@]}"; do
			drop_caches
			fio --name="fill-$lun" --filename="${DEV[$lun]}" --direct=1 --ioengine=libaio \
				--iodepth="$SEQ_QD" --rw=write --bs=1M --size="$REGION" \
				--output-format=json --output="$RES/fio-fill-$lun.json" >"$RES/fio-fill-$lun.err" 2>&1 ||
				{ cat "$RES/fio-fill-$lun.err" >&2; return 1; }
			fio_json_row "fill-$lun" 0 fill "$lun" "${DEV[$lun]}:${IMGOF[$lun]}"
			vm_log "$(tail -n1 "$RES/runs.tsv")"
		done
	}
	vm_step "write the first $REGION of every image" 1800 fill
	for ((r = 1; r <= ROUNDS; r++)); do
		if [ "$r" -gt 1 ]; then
			detach_luns || fail "could not delete the LUNs"
			attach_luns "$r" || fail "could not create the LUNs of round $r"
		fi
		order=("${LUNS[@]}")
		if [ $((r % 2)) = 0 ]; then # even rounds: the other way round
			order=()
			for ((i = ${#LUNS[@]} - 1; i >= 0; i--)); do order+=("${LUNS[$i]}"); done
		fi
		for wl in randwrite seqwrite seqread; do
			for lun in "${order[@]}"; do
				vm_step "round $r $wl $lun" $((TIME + RAMP + 300)) \
					run_fio "r$r-$wl-$lun" "$r" "$wl" "$lun" "${DEV[$lun]}:${IMGOF[$lun]}"
			done
		done
	done
	ceph_mem 2>&1 | tee -a "$RES/ceph-mem.txt" >&2
	vm_log "tcmu-runner resident: $(($(_ceph_rss_kib "$SVM_TCMU_PID") / 1024)) MiB" 2>&1 | tee -a "$RES/ceph-mem.txt" >&2
	# free the OSD's memory for part 2
	detach_luns || fail "could not delete the LUNs"
	for img in "${IMGS[@]}"; do
		timeout 300 rbd rm --no-progress "bench/$img" >&2
	done
fi

# ---- part 2: pool -> pool moves under load --------------------------------------
printf 'stack\trc\tt_start_ms\tt_end_ms\ttotal_s\toutage_s\tnote\n' >"$RES/moves.tsv"

FIO_PID=
load_start() { # load_start RUN DEV: fio 4 KiB random writes qd16 in the background
	local run=$1 dev=$2
	fio --name="$run" --filename="$dev" --direct=1 --ioengine=libaio --iodepth=16 \
		--rw=randwrite --bs=4k --size="$MIG_SIZE" --time_based --runtime="$MAX_LOAD" \
		--norandommap --randrepeat=0 --write_iops_log="$RES/fio-$run" --log_avg_msec=500 \
		--log_unix_epoch=1 --output-format=json --output="$RES/fio-$run.json" \
		>"$RES/fio-$run.err" 2>&1 &
	FIO_PID=$!
	local stack=${run#load-}
	event "${stack%2}" "fio $run started on $dev"
}
load_stop() { # load_stop RUN
	[ -n "$FIO_PID" ] || return 0
	kill -INT "$FIO_PID" 2>/dev/null || true
	wait "$FIO_PID" || { cat "$RES/fio-$1.err" >&2; FIO_PID=; return 1; }
	FIO_PID=
	local stack=${1#load-}
	event "${stack%2}" "fio $1 stopped"
}

mk_full_image() { # mk_full_image POOL/IMAGE: MIG_SIZE of data, written by rbd bench
	local t0
	t0=$(now)
	timeout "$SVM_CEPH_TIMEOUT" rbd create --size "$MIG_SIZE" "$1"
	timeout 1200 rbd bench --io-type write --io-size 4M --io-threads 4 --io-pattern seq \
		--io-total "$MIG_SIZE" "$1" >"$RES/fill-${1//\//_}.out" 2>&1 ||
		{ cat "$RES/fill-${1//\//_}.out" >&2; return 1; }
	vm_log "$1: $MIG_SIZE written by rbd bench in $(($(now) - t0)) ms"
}

base_run() { # base_run STACK DEV
	drop_caches
	fio --name="base-$1" --filename="$2" --direct=1 --ioengine=libaio --iodepth=16 \
		--rw=randwrite --bs=4k --size="$MIG_SIZE" --time_based --runtime="$MIG_BASE" \
		--ramp_time="$RAMP" --norandommap --randrepeat=0 \
		--output-format=json --output="$RES/fio-base-$1.json" >"$RES/fio-base-$1.err" 2>&1 ||
		{ cat "$RES/fio-base-$1.err" >&2; return 1; }
	fio_json_row "base-$1" 0 base "$1" "$2"
	vm_log "$(tail -n1 "$RES/runs.tsv")"
}

move_svm() {
	local dev rc=0 t0 t1 note=
	vm_step "bench/msvm: $MIG_SIZE of data" 1300 mk_full_image bench/msvm
	vm_tcli "/backstores/user:svm create name=msvm size=$MIG_SIZE cfgstring=rbd/bench/msvm;conf=$SVM_CEPH_CONF hw_max_sectors=2048" ||
		fail "could not create msvm"
	dev=$(vm_loop_lun /backstores/user:svm/msvm) || fail "no disk for msvm"
	attribs msvm
	vm_step "baseline fio on svm" $((MIG_BASE + 300)) base_run svm "$dev"
	drop_caches
	load_start load-svm "$dev"
	sleep "$MIG_RAMP"
	t0=$(now)
	event svm "svmctl migrate msvm --to rbd/bench2/msvm starts"
	timeout "$MAX_LOAD" "$SVMCTL" migrate msvm --to rbd/bench2/msvm --wait --interval 1 \
		> >(while IFS= read -r l; do printf '%s %s\n' "$(now)" "$l"; done >"$RES/mv-svm.out") 2>&1 || rc=$?
	t1=$(now)
	event svm "svmctl migrate ended (exit $rc)"
	load_stop load-svm || vm_log "fio load-svm failed"
	sleep 1
	cat "$RES/mv-svm.out" >&2
	"$SVMCTL" status msvm --json >"$RES/mv-svm-status.json" 2>&1 || true
	if [ "$rc" -ne 0 ]; then
		note="svmctl migrate failed (exit $rc): $(tail -n1 "$RES/mv-svm.out" | cut -d' ' -f2- | tr '\t' ' ')"
	fi
	printf 'svm\t%s\t%s\t%s\t%s\t0\t%s\n' "$rc" "$t0" "$t1" \
		"$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1000 }')" "$note" >>"$RES/moves.tsv"
	vm_tcli "/backstores/user:svm delete msvm" || true
	timeout 300 rbd rm --no-progress bench/msvm >&2 || true
	timeout 300 rbd rm --no-progress bench2/msvm >&2 2>/dev/null || true
}

move_ceph() {
	local dev dev2 rc=0 t0 t1 t_stop t_fio2 note=
	vm_step "bench/mceph: $MIG_SIZE of data" 1300 mk_full_image bench/mceph
	vm_tcli "/backstores/user:rbd create name=mceph size=$MIG_SIZE cfgstring=bench/mceph;conf=$SVM_CEPH_CONF hw_max_sectors=2048" ||
		fail "could not create mceph"
	dev=$(vm_loop_lun /backstores/user:rbd/mceph) || fail "no disk for mceph"
	attribs mceph
	vm_step "baseline fio on user:rbd" $((MIG_BASE + 300)) base_run ceph "$dev"
	drop_caches
	load_start load-ceph "$dev"
	sleep "$MIG_RAMP"
	# What the docs say (prepare fails while a client has the image open
	# read/write), checked here, before the timed move: it must be refused.
	local out prc=0
	out=$(timeout 300 rbd migration prepare bench/mceph bench2/mceph 2>&1) || prc=$?
	printf '%s\n' "$out" >"$RES/mv-ceph-open-prepare.out"
	event ceph "prepare with the LUN open: exit $prc: $(tail -n1 <<<"$out" | tr '\t' ' ')"
	if [ "$prc" = 0 ]; then
		timeout 300 rbd migration abort --no-progress bench2/mceph >>"$RES/mv-ceph-open-prepare.out" 2>&1 || true
		event ceph "prepare was accepted with the LUN open; aborted it"
	fi
	t0=$(now)
	event ceph "move starts: stop the initiator's I/O on $dev"
	# The old disk must go: prepare refuses an image a client has open.
	load_stop load-ceph || vm_log "fio load-ceph failed"
	t_stop=$(now)
	vm_tcli "/backstores/user:rbd delete mceph" || rc=1
	vm_wait_for 60 "$dev to go away" test ! -e "/sys/block/${dev#/dev/}" || rc=1
	event ceph "user:rbd LUN mceph deleted ($dev gone)"
	run_rbd() { # run_rbd WHAT ARGS...: a stamped rbd command
		local r=0
		event ceph "rbd $* starts"
		timeout "$MAX_LOAD" rbd "$@" >>"$RES/mv-ceph.out" 2>&1 || r=$?
		event ceph "rbd $1 $2 ended (exit $r)"
		return "$r"
	}
	[ "$rc" != 0 ] || run_rbd migration prepare bench/mceph bench2/mceph || rc=$?
	if [ "$rc" = 0 ]; then
		vm_tcli "/backstores/user:rbd create name=mceph2 size=$MIG_SIZE cfgstring=bench2/mceph;conf=$SVM_CEPH_CONF hw_max_sectors=2048" || rc=1
	fi
	if [ "$rc" = 0 ]; then
		dev2=$(vm_loop_lun /backstores/user:rbd/mceph2) || rc=1
		event ceph "user:rbd LUN mceph2 on bench2/mceph is ${dev2:-?}"
	fi
	if [ "$rc" = 0 ]; then
		load_start load-ceph2 "$dev2"
		t_fio2=$(now)
		run_rbd migration execute --no-progress bench2/mceph || rc=$?
		[ "$rc" != 0 ] || run_rbd migration commit --no-progress bench2/mceph || rc=$?
	fi
	t1=$(now)
	event ceph "move ends (rc $rc)"
	load_stop load-ceph2 || vm_log "fio load-ceph2 failed"
	cat "$RES/mv-ceph.out" >&2 || true
	[ "$rc" = 0 ] || note="Ceph's migration failed (status $rc): $(tail -n1 "$RES/mv-ceph.out" 2>/dev/null | tr '\t' ' ')"
	printf 'ceph\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rc" "$t0" "$t1" \
		"$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1000 }')" \
		"$(awk -v a="$t_stop" -v b="${t_fio2:-$t1}" 'BEGIN { printf "%.1f", (b - a) / 1000 }')" \
		"$note" >>"$RES/moves.tsv"
	timeout 120 rbd info bench2/mceph >"$RES/mceph-info.txt" 2>&1 || true
	vm_tcli "/backstores/user:rbd delete mceph2" || true
}

if [ "$MIGRATE" = 1 ]; then
	# (each move's stores are removed after it: the OSD keeps data in memory)
	move_svm
	ceph_mem 2>&1 | tee -a "$RES/ceph-mem.txt" >&2
	move_ceph
	ceph_mem 2>&1 | tee -a "$RES/ceph-mem.txt" >&2
fi

cp "$SVM_TCMU_LOG" "$RES/tcmu-runner.log" 2>/dev/null || true
vm_tcmu_alive || fail "tcmu-runner died"
pass "RBD benchmark measured"
