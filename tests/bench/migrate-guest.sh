#!/bin/bash
# Live migration benchmark, guest side: started by tests/bench/migrate-run
# through tests/vm/run-vm (make bench-migrate), not by hand.
#
# Two stacks that move a live LUN of SIZE (1 GiB) from one store to
# another, side by side on the same backing storage: a tmpfs in the
# guest's RAM holds every store as a sparse file behind a loop device.
#   svm  a user:svm LUN on /dev/loopA, moved to a new /dev/loopB by
#        `svmctl migrate LUN --to /dev/loopB --mover MOVER --wait`
#   lvm  a LIO iblock LUN on an LVM logical volume of SIZE whose only PV is
#        /dev/loopC, moved to a new PV /dev/loopD by `pvmove -i N C D`
#        (dm-mirror), what admins use for the same job today
# Both LUNs are exported through tcm_loop, and both stores were filled
# with data first (so the whole LUN is copied, no hole skipped).  Then,
# in this order:
#   base1-svm, base1-lvm   fio 4 KiB random writes (libaio, direct, iodepth
#                          QD) for BASE_TIME s with no migration
#   idle-svm, idle-lvm     a migration with no I/O; then svm's new store
#                          is compared (cmp) with the old one, which it
#                          leaves behind as it was (pvmove's too, with
#                          SVM_MBENCH_CHECK_LVM=1: LVM's data is not
#                          what this measures, and a cmp of 1 GiB takes
#                          minutes under TCG)
#   load-lvm, load-svm     a migration under the same fio load: fio
#                          starts; once its writes flow and RAMP s more
#                          have passed, the migration starts; fio is
#                          stopped (SIGINT) the moment it ends
#   base2-lvm, base2-svm   fio again with no migration (drift check)
# Every migration goes to a new, sparse store (the source of the previous
# one is given back to the tmpfs), so each allocates the same way.
# Then (REFLINK=1, the default) one reflink XFS on a loop file in the
# same tmpfs: a user:svm LUN on dir a/ is migrated to dir b/ with mover
# auto, then back to a/ with mover reflink, and `cp --reflink=always`
# copies the same file, timed apart from the `sync` after it; the LUN's
# last store is compared with a clone of the data made before.
#
# While a migration runs a poller records every POLL s the disk's write
# counters and, for svm, the LUN's status from the handler's control
# socket (the pass's progress over time); pvmove's own progress lines are
# stamped.  Before every run: sync and drop_caches.
#
# Raw results in $SVM_OUTDIR/results/: migrations.tsv (one line per
# migration or copy), runs.tsv (one line per fio run), fio-<run>.json and
# fio-<run>_{iops,lat,clat,slat}.1.log (500 ms windows, unix epoch ms; lat
# logs hold each window's maximum), mig-<id>.out (the command's output,
# each line stamped), mig-<id>-timeline.tsv, mig-<id>-devstat.tsv (the
# stores' block-device counters before and after), mig-<id>-status.json (svm),
# guest.txt, luns.tsv, attrib.txt, lvm.txt, tcmu-runner.log, tcmu-svm.log.
# This script fails only when it could not measure: a slow migration never
# fails it; a migration that failed or changed the data is recorded
# (migrations.tsv: rc, data_ok) and reported.
#
# Environment (optional, passed in by run-vm as SVM_*):
#   SVM_MBENCH_SIZE       size of each LUN (default 1G; a multiple of 64 MiB)
#   SVM_MBENCH_QD         fio iodepth (default 16)
#   SVM_MBENCH_BASE_TIME  seconds of a fio run without migration (default 30)
#   SVM_MBENCH_RAMP       seconds of fio before a migration starts (default 5)
#   SVM_MBENCH_MOVER      svmctl --mover of the loop-device migrations (auto)
#   SVM_MBENCH_INTERVAL   svmctl --interval and pvmove -i, s (default 1)
#   SVM_MBENCH_REFLINK_INTERVAL  svmctl --interval in the reflink part (0.1)
#   SVM_MBENCH_POLL       the poller's period, s (default 0.5)
#   SVM_MBENCH_REFLINK    1 (default): the reflink XFS part; 0: skip it
#   SVM_MBENCH_LOOP       1 (default): the loop-device part (svm vs pvmove);
#                         0: skip it (to try the reflink part alone)
#   SVM_MBENCH_SVMCTL     the svmctl to run (default build/cli/svmctl)
#   SVM_MBENCH_MAX_LOAD   longest fio load run, s (default 1800)
#   SVM_MBENCH_CHECK_LVM  1: compare pvmove's new PV with the old one too (0)
# shellcheck disable=SC2317
set -euo pipefail
. "$(dirname "$0")/../vm/lib.sh"
vm_require targetcli tcmu-runner fio losetup pvcreate vgcreate lvcreate pvmove vgextend vgreduce \
	pvremove dmsetup mkfs.xfs xfs_info python3 cmp numfmt
vm_on_fail() { vm_dump_state; }

SIZE=${SVM_MBENCH_SIZE:-1G}
QD=${SVM_MBENCH_QD:-16}
BASE_TIME=${SVM_MBENCH_BASE_TIME:-30}
RAMP=${SVM_MBENCH_RAMP:-5}
MOVER=${SVM_MBENCH_MOVER:-auto}
INTERVAL=${SVM_MBENCH_INTERVAL:-1}
RINTERVAL=${SVM_MBENCH_REFLINK_INTERVAL:-0.1}
POLL=${SVM_MBENCH_POLL:-0.5}
REFLINK=${SVM_MBENCH_REFLINK:-1}
LOOP=${SVM_MBENCH_LOOP:-1}
SVMCTL=${SVM_MBENCH_SVMCTL:-$SVM_REPO/build/cli/svmctl}
MAX_LOAD=${SVM_MBENCH_MAX_LOAD:-1800}
RES=$SVM_OUTDIR/results
RAM=/var/lib/svm-mbench  # tmpfs: every store, PV and the XFS image
MNT=/mnt/svm-mbench      # the XFS of the reflink part
RUN=/run/svm-mbench      # scratch: poller, LVM configuration
SOCK=/run/tcmu-svm/control.sock
VG=vgmig
export SVM_STATE_DIR=$RAM/state # the handler's state directory (tcmu-runner's environment)
export LVM_SYSTEM_DIR=$RUN/lvm LVM_SUPPRESS_FD_WARNINGS=1
mkdir -p "$RES" "$RAM" "$MNT" "$RUN/lvm" /run/lock/lvm
vm_require_file "$SVMCTL"

size=$(numfmt --from=iec "$SIZE")
[ $((size % (64 << 20))) -eq 0 ] && [ "$size" -ge $((128 << 20)) ] ||
	fail "SVM_MBENCH_SIZE=$SIZE: want a multiple of 64 MiB, at least 128M"
mib=$((size >> 20))
# At most: the svm LUN's store and the LV's PV, plus one destination at a
# time; the page cache of the loop devices comes on top.
tmpfs_size=$((3 * size + (256 << 20)))
pv_size=$((size + (16 << 20))) # the LV plus LVM's metadata and a spare extent
mem_kib=$(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo)
need_kib=$(((4 * size + (1 << 30)) / 1024))
[ "$mem_kib" -ge "$need_kib" ] ||
	fail "guest memory $((mem_kib >> 10)) MiB, want at least $((need_kib >> 10)) MiB for SIZE=$SIZE (run-vm -m)"

LOOPS=() # loop devices to detach at the end
cleanup() {
	local rc=$? l
	set +e
	[ -z "${FIO_PID:-}" ] || kill -INT "$FIO_PID" 2>/dev/null
	vm_cleanup
	vgchange -an "$VG" >/dev/null 2>&1
	umount "$MNT/xfs" 2>/dev/null
	for l in "${LOOPS[@]}"; do
		losetup -d "$l" 2>/dev/null
	done
	umount "$RAM" 2>/dev/null
	return "$rc"
}
trap cleanup EXIT

mount -t tmpfs -o size="$tmpfs_size",mode=0700 svm-mbench "$RAM" || fail "no tmpfs"
mkdir -p "$SVM_STATE_DIR"
vm_start_services || fail "services did not start"
vm_modprobe loop dm_mod dm_mirror xfs target_core_iblock || fail "modules missing"
export SVM_TCMU_PID

{
	echo "guest_kernel: $(uname -r) ($(uname -v))"
	echo "guest_cpus: $(nproc)"
	echo "guest_mem_kib: $mem_kib"
	echo "clk_tck: $(getconf CLK_TCK)"
	echo "fio_version: $(fio --version)"
	echo "lvm_version: $(lvm version 2>/dev/null | sed -n 's/^ *LVM version: *//p' | head -n1)"
	echo "dm_mirror: $(grep -q '^dm_mirror ' /proc/modules && echo loaded || echo 'not loaded')"
	echo "xfsprogs: $(mkfs.xfs -V | head -n1)"
	echo "svmctl: $("$SVMCTL" --version 2>&1 | head -n1)"
	echo "size: $SIZE ($size bytes)"
	echo "qd: $QD"
	echo "base_time: $BASE_TIME"
	echo "ramp: $RAMP"
	echo "mover: $MOVER"
	echo "interval: $INTERVAL"
	echo "reflink_interval: $RINTERVAL"
	echo "poll: $POLL"
	echo "loop_part: $LOOP"
	echo "reflink_part: $REFLINK"
	echo "tmpfs_size: $tmpfs_size"
	echo "pv_size: $pv_size"
	echo "svm_so: $SVM_HANDLER_DIR/handler_svm.so ($(sha256sum "$SVM_HANDLER_DIR/handler_svm.so" | cut -c1-12)…)"
	echo "svm_threads: $(sed -n 's/.*svm: \([0-9]*\) worker threads, shared by all LUNs; at most \([0-9]*\) for one LUN.*/\1, at most \2 for one LUN/p' "$SVM_TCMU_LOG" | tail -n1)"
} >"$RES/guest.txt"

# --- helpers -------------------------------------------------------------------
drop_caches() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
}
cpu_snap() {
	# guest busy and total ticks (/proc/stat), tcmu-runner utime+stime
	local _c u n s i w q sq st _r f a tcmu=0
	read -r _c u n s i w q sq st _r </proc/stat
	if [ -r "/proc/$SVM_TCMU_PID/stat" ]; then
		read -r f <"/proc/$SVM_TCMU_PID/stat"
		f=${f##*) }
		read -r -a a <<<"$f"
		tcmu=$((a[11] + a[12]))
	fi
	echo "$((u + n + s + q + sq + st)) $((u + n + s + i + w + q + sq + st)) $tcmu"
}
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
stamp() {
	# each line of stdin, prefixed by the epoch (s.us) it was read at
	local line
	while IFS= read -r line; do
		printf '%s\t%s\n' "$EPOCHREALTIME" "$line"
	done
}
new_loop() {
	# new_loop FILE: a sparse FILE of SIZE + $2 (default 0) in the tmpfs
	# behind a new loop device; prints the device (call as $(...); the
	# caller adds it to LOOPS)
	rm -f "$1"
	truncate -s "$((size + ${2:-0}))" "$1"
	losetup -f --show "$1"
}
drop_loop() {
	# drop_loop DEV FILE: detach, give the file's memory back
	losetup -d "$1" || vm_log "losetup -d $1 failed"
	rm -f "$2"
}
fill() {
	# fill TARGET: write SIZE bytes of data (fio's random buffers) to a
	# file or device
	fio --name=fill --filename="$1" --rw=write --bs=1M --size="$size" --ioengine=libaio \
		--direct="$([ -b "$1" ] && echo 1 || echo 0)" --iodepth=4 --end_fsync=1 \
		--output="$RES/fill-$(basename "$1").txt" >/dev/null
}

# The LVM configuration: no udev, no lvmpolld, no dmeventd in this guest,
# and only our PVs scanned.  Written again whenever the PVs change.
lvm_conf() {
	local d f=
	for d in "$@"; do f="$f\"a|^$d\$|\", "; done
	cat >"$LVM_SYSTEM_DIR/lvm.conf" <<EOF
devices {
	filter = [ $f"r|.*|" ]
	global_filter = [ $f"r|.*|" ]
	obtain_device_list_from_udev = 0
	external_device_info_source = "none"
	use_devicesfile = 0
	multipath_component_detection = 0
	md_component_detection = 0
}
global {
	use_lvmpolld = 0
}
activation {
	udev_sync = 0
	udev_rules = 0
	verify_udev_operations = 1
	monitoring = 0
}
backup {
	backup = 0
	archive = 0
}
EOF
}

# fio: 4 KiB random writes over the whole LUN; logs in 500 ms windows
# with unix epoch stamps (lat logs: each window's maximum)
fio_args() {
	# fio_args NAME DEV
	echo --name="$1" --filename="$2" --rw=randwrite --bs=4k --ioengine=libaio --direct=1 \
		--iodepth="$QD" --numjobs=1 --time_based --norandommap --randrepeat=0 \
		--lat_percentiles=1 --percentile_list=50:90:99:99.9:99.99 \
		--write_iops_log="$RES/fio-$1" --write_lat_log="$RES/fio-$1" --log_avg_msec=500 \
		--log_max_value=1 --log_unix_epoch=1 --output-format=json --output="$RES/fio-$1.json"
}
printf 'run\tstack\tdev\tt0\tt1\tbusy_ticks\ttotal_ticks\ttcmu_ticks\n' >"$RES/runs.tsv"
record_run() {
	# record_run NAME STACK DEV T0 T1 C0 C1
	local c0 c1
	read -r -a c0 <<<"$6"
	read -r -a c1 <<<"$7"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" \
		"$((c1[0] - c0[0]))" "$((c1[1] - c0[1]))" "$((c1[2] - c0[2]))" >>"$RES/runs.tsv"
}
base_run() {
	# base_run NAME STACK DEV: fio with no migration
	local c0 c1 t0 t1
	drop_caches
	c0=$(cpu_snap)
	t0=$EPOCHREALTIME
	# shellcheck disable=SC2046
	fio $(fio_args "$1" "$3") --runtime="$BASE_TIME" --ramp_time="$RAMP" </dev/null >/dev/null
	t1=$EPOCHREALTIME
	c1=$(cpu_snap)
	record_run "$1" "$2" "$3" "$t0" "$t1" "$c0" "$c1"
	vm_log "$1: $(python3 -c 'import json,sys; t=open(sys.argv[1]).read(); w=json.loads(t[t.find("{"):])["jobs"][0]["write"]; print("%.0f IOPS, p99 %.0f us" % (w["iops"], w["lat_ns"]["percentile"]["99.000000"]/1000))' "$RES/fio-$1.json")"
}

# The poller of a migration: every POLL s the fio device's write counters
# (/sys/block/X/stat: writes completed, ms spent writing, in flight) and,
# for svm, the LUN's status from the handler's control socket.  One line
# per poll.
cat >"$RUN/poll.py" <<'EOF'
import json, os, socket, sys, time
sock, lun, dev, out, stop, ready, period = sys.argv[1:8]
period = float(period)
keys = ("phase", "bytes_copied", "bytes_skipped", "mirrored_writes", "waited_writes",
        "elapsed_ms", "max_pause_ms")
stat = "/sys/block/%s/stat" % os.path.basename(dev) if dev != "-" else None


def status():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(sock)
    s.sendall(("status %s\n" % lun).encode())
    data = b""
    while not data.endswith(b"\n"):
        c = s.recv(65536)
        if not c:
            break
        data += c
    s.close()
    return json.loads(data)


with open(out, "w") as f:
    f.write("epoch\twr_ios\twr_ms\tin_flight\t" + "\t".join(keys) + "\n")
    f.flush()
    open(ready, "w").close()
    while not os.path.exists(stop):
        t = time.time()
        d = ["-", "-", "-"]
        if stat:
            try:
                v = open(stat).read().split()
                d = [v[4], v[7], v[8]]
            except OSError:
                pass
        st = ["-"] * len(keys)
        if lun != "-":
            try:
                j = status()
                st = [str(j.get(k)) for k in keys]
            except Exception as e:  # a poll that fails is recorded, not fatal
                st = ["error: %s" % str(e).replace("\t", " ")] + ["-"] * (len(keys) - 1)
        f.write("%.3f\t%s\t%s\n" % (t, "\t".join(d), "\t".join(st)))
        f.flush()
        time.sleep(max(0.0, period - (time.time() - t)))
EOF
POLL_PID=
poll_start() {
	# poll_start ID LUN|- DEV|-: call directly
	rm -f "$RUN/poll.stop" "$RUN/poll.ready"
	python3 "$RUN/poll.py" "$SOCK" "$2" "$3" "$RES/mig-$1-timeline.tsv" "$RUN/poll.stop" \
		"$RUN/poll.ready" "$POLL" </dev/null >>"$RES/poll.err" 2>&1 &
	POLL_PID=$!
	vm_wait_for 60 "the poller" test -e "$RUN/poll.ready"
}
poll_stop() {
	[ -n "$POLL_PID" ] || return 0
	: >"$RUN/poll.stop"
	wait "$POLL_PID" || true
	POLL_PID=
}
dev_writes() {
	# writes completed by a disk so far (/sys/block/X/stat)
	local a
	read -r -a a <"/sys/block/${1#/dev/}/stat"
	echo "${a[4]}"
}
devstat() {
	# devstat ID WHEN FROM TO: the block-device counters (/sys/block/X/stat)
	# of the migration's source and destination, when they are devices
	local role dev line
	for role in from to; do
		[ "$role" = from ] && dev=$3 || dev=$4
		[ -b "$dev" ] || continue
		read -r line <"/sys/block/${dev#/dev/}/stat"
		printf '%s\t%s\t%s\t%s\n' "$2" "$role" "$dev" "$line" >>"$RES/mig-$1-devstat.tsv"
	done
}
fio_flowing() {
	# fio_flowing DEV W0: DEV completed 64 writes more than W0
	[ "$(dev_writes "$1")" -ge $(($2 + 64)) ]
}

printf 'id\tstack\tload\tfrom\tto\tmover\tfio_t0\tt0\tt1\twall_s\trc\tbusy_ticks\ttotal_ticks\ttcmu_ticks\tdata_ok\tsync_s\n' \
	>"$RES/migrations.tsv"
FIO_PID=
migrate() {
	# migrate ID STACK LOAD(0|1) DEV FROM TO MOVER -- CMD...: one migration
	# (or copy), timed by the wall clock around CMD; with LOAD, under fio on
	# DEV (the LUN's disk): fio starts, and once its writes flow and its
	# ramp (RAMP s) is over, CMD starts; fio is stopped when CMD ends.
	# Call directly (the poller and fio are its children).
	local id=$1 stack=$2 load=$3 dev=$4 from=$5 to=$6 mover=$7 c0 c1 t0 t1 tf=- w0 rc=0
	shift 8
	drop_caches
	if [ "$stack" = svm ]; then poll_start "$id" "$LUN" "$dev"; else poll_start "$id" - "$dev"; fi
	if [ "$load" = 1 ]; then
		w0=$(dev_writes "$dev")
		tf=$EPOCHREALTIME
		# shellcheck disable=SC2046
		fio $(fio_args "$id" "$dev") --runtime="$MAX_LOAD" --ramp_time="$RAMP" \
			</dev/null >/dev/null 2>"$RES/fio-$id.err" &
		FIO_PID=$!
		vm_wait_for 300 "fio's writes on $dev" fio_flowing "$dev" "$w0" || fail "fio does not write"
		vm_log "$id: fio writes $(secs "$tf" "$EPOCHREALTIME") s after its start"
		sleep "$RAMP"
	fi
	devstat "$id" before "$from" "$to"
	c0=$(cpu_snap)
	t0=$EPOCHREALTIME
	set +e
	"$@" </dev/null 2>&1 | stamp >"$RES/mig-$id.out"
	rc=${PIPESTATUS[0]}
	set -e
	t1=$EPOCHREALTIME
	c1=$(cpu_snap)
	devstat "$id" after "$from" "$to"
	if [ -n "$FIO_PID" ]; then
		kill -INT "$FIO_PID" 2>/dev/null || true
		wait "$FIO_PID" || true
		FIO_PID=
	fi
	poll_stop
	[ "$stack" != svm ] || "$SVMCTL" status "$LUN" --json >"$RES/mig-$id-status.json" 2>&1 || true
	read -r -a c0 <<<"$c0"
	read -r -a c1 <<<"$c1"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t-\t-\n' "$id" "$stack" "$load" \
		"$from" "$to" "$mover" "$tf" "$t0" "$t1" "$(secs "$t0" "$t1")" "$rc" \
		"$((c1[0] - c0[0]))" "$((c1[1] - c0[1]))" "$((c1[2] - c0[2]))" >>"$RES/migrations.tsv"
	vm_log "$id: exit $rc in $(secs "$t0" "$t1") s"
	[ "$rc" -eq 0 ] || tail -n 20 "$RES/mig-$id.out" >&2
}
set_field() {
	# set_field ID COLUMN VALUE: in migrations.tsv
	awk -F'\t' -v OFS='\t' -v id="$1" -v col="$2" -v v="$3" '
		NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i }
		NR > 1 && $1 == id { $c = v } { print }' "$RES/migrations.tsv" >"$RUN/m.tsv"
	cat "$RUN/m.tsv" >"$RES/migrations.tsv"
}
check_same() {
	# check_same ID A B [SKIP_A]: the first SIZE bytes of A (from byte
	# SKIP_A on) and B are equal (cmp: much cheaper than a hash under TCG)
	local out
	drop_caches
	if out=$(cmp -i "${4:-0}:0" -n "$size" "$2" "$3" 2>&1); then
		set_field "$1" data_ok yes
	else
		set_field "$1" data_ok no
		vm_log "$1: $3 differs from $2: $out"
	fi
}

loop_part() {
	# --- the two LUNs ------------------------------------------------------------------
	LUN=mb
	SVM_A=$(new_loop "$RAM/svm-1.img") || fail "no loop device"
	LOOPS+=("$SVM_A")
	vm_step "svm store: $SIZE of data on $SVM_A" 900 fill "$RAM/svm-1.img"
	vm_tcli "/backstores/user:svm create name=$LUN size=$size cfgstring=$SVM_A" \
		"/backstores/user:svm/$LUN set attribute cmd_time_out=120" || fail "no svm LUN"
	DEV_SVM=$(vm_loop_lun "/backstores/user:svm/$LUN") || fail "no disk for the svm LUN"

	LVM_A=$(new_loop "$RAM/pv-1.img" $((pv_size - size))) || fail "no loop device"
	LOOPS+=("$LVM_A")
	lvm_conf "$LVM_A"
	lvm_setup() {
		pvcreate -q "$LVM_A"
		vgcreate -q -s 4M "$VG" "$LVM_A"
		lvcreate -q -y -Wn -Zn -n lv -L "${mib}M" "$VG"
		test -b "/dev/mapper/$VG-lv"
	}
	vm_step "LVM: PV $LVM_A, VG $VG, LV lv of $SIZE" 300 lvm_setup
	# where the LV's data starts on its PV (to compare the PV left behind with the LV)
	PE_START=$(pvs --noheadings --nosuffix --units b -o pe_start "$LVM_A" | tr -d ' ')
	vm_step "LV: $SIZE of data" 900 fill "/dev/mapper/$VG-lv"
	vm_tcli "/backstores/block create name=lb dev=/dev/mapper/$VG-lv" || fail "no iblock LUN"
	DEV_LVM=$(vm_loop_lun /backstores/block/lb) || fail "no disk for the iblock LUN"
	for x in "$DEV_SVM" "$DEV_LVM"; do
		echo none >"/sys/block/${x#/dev/}/queue/scheduler" 2>/dev/null || true
		echo 180 >"/sys/block/${x#/dev/}/device/timeout" 2>/dev/null || true
	done
	{
		printf 'stack\tbackstore\tdev\tstore\tmax_sectors_kb\tcache_type\tqueue_depth\n'
		for x in "svm user:svm/$LUN $DEV_SVM $SVM_A" "lvm block/lb $DEV_LVM /dev/mapper/$VG-lv"; do
			# shellcheck disable=SC2086
			set -- $x
			printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" \
				"$(cat "/sys/block/${3#/dev/}/queue/max_sectors_kb")" \
				"$(cat /sys/block/"${3#/dev/}"/device/scsi_disk/*/cache_type 2>/dev/null || echo ?)" \
				"$(cat "/sys/block/${3#/dev/}/device/queue_depth" 2>/dev/null || echo ?)"
		done
	} >"$RES/luns.tsv"
	grep -H . /sys/kernel/config/target/core/user_*/"$LUN"/attrib/* \
		/sys/kernel/config/target/core/iblock_*/lb/attrib/* 2>/dev/null |
		sed 's|^/sys/kernel/config/target/core/||' >"$RES/attrib.txt" || true
	echo "pe_start: $PE_START" >>"$RES/guest.txt"

	# --- the runs ------------------------------------------------------------------------
	lvm_add_pv() {
		# lvm_add_pv DEV: a new PV in the VG
		pvcreate -q "$1"
		vgextend -q "$VG" "$1"
	}
	lvm_drop_pv() {
		# lvm_drop_pv DEV: out of the VG, no longer a PV
		vgreduce -q "$VG" "$1"
		pvremove -q "$1"
	}
	lvm_state() {
		{
			echo "# $1"
			pvs -o pv_name,vg_name,pv_size,pv_used,pe_start 2>&1
			lvs -a -o lv_name,seg_pe_ranges,devices 2>&1
			dmsetup table 2>&1
		} >>"$RES/lvm.txt"
	}
	base_step() {
		vm_step "$1: fio, no migration" $((BASE_TIME * 3 + 300)) base_run "$@"
	}

	base_step base1-svm svm "$DEV_SVM"
	base_step base1-lvm lvm "$DEV_LVM"

	# idle; the sources are kept, and compared with the destinations after
	SVM_B=$(new_loop "$RAM/svm-2.img") || fail "no loop device"
	LOOPS+=("$SVM_B")
	migrate idle-svm svm 0 "$DEV_SVM" "$SVM_A" "$SVM_B" "$MOVER" -- \
		"$SVMCTL" migrate "$LUN" --to "$SVM_B" --mover "$MOVER" --wait --interval "$INTERVAL"
	vm_step "idle-svm: the destination holds the source's data" 900 \
		check_same idle-svm "$SVM_A" "$SVM_B"
	drop_loop "$SVM_A" "$RAM/svm-1.img"

	LVM_B=$(new_loop "$RAM/pv-2.img" $((pv_size - size))) || fail "no loop device"
	LOOPS+=("$LVM_B")
	lvm_conf "$LVM_A" "$LVM_B"
	vm_step "LVM: new PV $LVM_B" 300 lvm_add_pv "$LVM_B"
	lvm_state "before idle-lvm"
	migrate idle-lvm lvm 0 "$DEV_LVM" "$LVM_A" "$LVM_B" pvmove -- pvmove -i "$INTERVAL" "$LVM_A" "$LVM_B"
	lvm_state "after idle-lvm"
	[ "${SVM_MBENCH_CHECK_LVM:-0}" != 1 ] ||
		vm_step "idle-lvm: the LV holds the old PV's data" 900 \
			check_same idle-lvm "$LVM_A" "/dev/mapper/$VG-lv" "$PE_START"
	vm_step "LVM: drop PV $LVM_A" 300 lvm_drop_pv "$LVM_A"
	drop_loop "$LVM_A" "$RAM/pv-1.img"

	# under load (pvmove first this time)
	LVM_C=$(new_loop "$RAM/pv-3.img" $((pv_size - size))) || fail "no loop device"
	LOOPS+=("$LVM_C")
	lvm_conf "$LVM_B" "$LVM_C"
	vm_step "LVM: new PV $LVM_C" 300 lvm_add_pv "$LVM_C"
	migrate load-lvm lvm 1 "$DEV_LVM" "$LVM_B" "$LVM_C" pvmove -- pvmove -i "$INTERVAL" "$LVM_B" "$LVM_C"
	lvm_state "after load-lvm"
	vm_step "LVM: drop PV $LVM_B" 300 lvm_drop_pv "$LVM_B"
	drop_loop "$LVM_B" "$RAM/pv-2.img"

	SVM_C=$(new_loop "$RAM/svm-3.img") || fail "no loop device"
	LOOPS+=("$SVM_C")
	migrate load-svm svm 1 "$DEV_SVM" "$SVM_B" "$SVM_C" "$MOVER" -- \
		"$SVMCTL" migrate "$LUN" --to "$SVM_C" --mover "$MOVER" --wait --interval "$INTERVAL"
	drop_loop "$SVM_B" "$RAM/svm-2.img"

	base_step base2-lvm lvm "$DEV_LVM"
	base_step base2-svm svm "$DEV_SVM"
}

# --- reflink XFS -----------------------------------------------------------------------
teardown() {
	vm_tcli "clearconfig confirm=True"
	vgremove -q -f "$VG"
	pvremove -q "$LVM_C"
	drop_loop "$LVM_C" "$RAM/pv-3.img"
	drop_loop "$SVM_C" "$RAM/svm-3.img"
}
reflink_part() {
	local x=$MNT/xfs dev rdev t0 t1
	truncate -s $((4 * size)) "$RAM/xfs.raw"
	mkfs.xfs -q -f -m reflink=1 "$RAM/xfs.raw" || fail "mkfs.xfs failed"
	dev=$(losetup -f --show "$RAM/xfs.raw") || fail "losetup failed"
	LOOPS+=("$dev")
	mkdir -p "$x"
	mount -t xfs "$dev" "$x" || fail "cannot mount the XFS"
	mkdir -p "$x/a" "$x/b"
	{
		echo "# $RAM/xfs.raw ($((4 * size)) bytes, sparse, in the tmpfs) on $dev"
		echo "# mkfs.xfs -f -m reflink=1"
		xfs_info "$x"
	} >"$RES/xfs.txt"
	vm_step "reflink: $SIZE of data in a/lun.img" 900 fill "$x/a/lun.img"
	# the reference the results are compared with: a clone (it shares the
	# blocks of every file below, which all start from this one)
	cp --reflink=always "$x/a/lun.img" "$x/ref.img"
	LUN=rl
	vm_tcli "/backstores/user:svm create name=$LUN size=$size cfgstring=$x/a/lun.img" \
		"/backstores/user:svm/$LUN set attribute cmd_time_out=120" || fail "no svm LUN on the XFS"
	rdev=$(vm_loop_lun "/backstores/user:svm/$LUN") || fail "no disk for the reflink LUN"
	migrate reflink-auto svm 0 "$rdev" "$x/a/lun.img" "$x/b/lun.img" auto -- \
		"$SVMCTL" migrate "$LUN" --to "$x/b/lun.img" --mover auto --wait --interval "$RINTERVAL"
	migrate reflink-reflink svm 0 "$rdev" "$x/b/lun.img" "$x/a/lun2.img" reflink -- \
		"$SVMCTL" migrate "$LUN" --to "$x/a/lun2.img" --mover reflink --wait --interval "$RINTERVAL"
	vm_step "reflink-reflink: the LUN's new store holds the data" 900 \
		check_same reflink-reflink "$x/ref.img" "$x/a/lun2.img"
	migrate reflink-cp cp 0 - "$x/a/lun2.img" "$x/b/cp.img" - -- \
		cp --reflink=always "$x/a/lun2.img" "$x/b/cp.img"
	t0=$EPOCHREALTIME
	sync
	t1=$EPOCHREALTIME
	set_field reflink-cp sync_s "$(secs "$t0" "$t1")"
	{
		echo "# df after"
		df -B1 "$x"
		ls -ls "$x" "$x/a" "$x/b"
	} >>"$RES/xfs.txt"
}
if [ "$LOOP" = 1 ]; then
	loop_part
fi
if [ "$REFLINK" = 1 ]; then
	[ "$LOOP" != 1 ] || vm_step "tear down the loop-device LUNs" 300 teardown
	reflink_part
fi

free -m >"$RES/free.txt"
cp "$SVM_TCMU_LOG" "$RES/tcmu-runner.log" 2>/dev/null || true
cp /var/log/tcmu-svm.log "$RES/tcmu-svm.log" 2>/dev/null || true
vm_tcmu_alive || fail "tcmu-runner died during the benchmark"
pass "live migration benchmark measured"
