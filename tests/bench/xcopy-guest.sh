#!/bin/bash
# EXTENDED COPY benchmark, guest side: started by tests/bench/xcopy-run
# through tests/vm/run-vm (make bench-xcopy), not by hand.
#
# 1. Copy speed.  XFS with reflink=1 on a loop file that lives in a tmpfs
#    (guest RAM) holds the stores.  One source file of SIZE random bytes
#    serves two LUNs, both only read: the svm LUN xs and the LIO fileio LUN
#    fs.  Each copy goes to a destination of the same size (svm LUN xd, in
#    the copy group of xs; fileio LUN fd), all four exported through
#    tcm_loop.  Copies of all SIZE bytes, one after the other:
#      lio       sg_xcopy between the two fileio LUNs (LIO's in-kernel XCOPY)
#      bounce, kernel, reflink, auto
#                sg_xcopy xs -> xd with the svm mover pinned (mover= of xs,
#                the LUN the command is sent to: --on_src)
#      sgdd      sg_dd xs -> xd: the host copies (READ on one LUN, WRITE on
#                the other, BPT_DD blocks a command)
#      sgdd-fio  the same between the two fileio LUNs
#      lio2      LIO's XCOPY again (drift check)
#      cp        cp --reflink=always of the store file inside the guest (the
#                file-level reference; no SCSI)
#    Before each: the destination store is emptied (hole punched, fstrim,
#    so the copy allocates as a first copy would), sync and drop_caches.
#    Timed with bash's EPOCHREALTIME around the command (sg_xcopy's start,
#    INQUIRYs and RECEIVE COPY RESULTS included); sg_xcopy/sg_dd time=1
#    also give the copy loop alone; the sync after a copy is timed apart.
#    Then the destination is read through the initiator (O_DIRECT on its
#    /dev/sdX) and its sha256 compared with the source's.
# 2. Read latency during a copy.  fio 4 KiB random reads (libaio, direct,
#    iodepth LAT_QD) on xs for LAT_TIME s: with no copy; while sg_xcopy
#    copies LAT_SIZE from the start of xs to its middle again and again
#    (within one LUN), with mover=bounce and with mover=auto; with no copy
#    again.  fio reads from the end of the middle copy to the LUN's end,
#    where no copy reads or writes (so the copies' page cache does not
#    serve its reads).
# 3. Without reflink (SVM_XBENCH_NOREFLINK=1, the default): the same source
#    on an XFS with reflink=0, where copy_file_range really copies (on
#    reflink=1 XFS clones in copy_file_range, so the kernel mover is a
#    reflink there): lio, bounce, kernel, auto, lio2.
#
# Raw results in $SVM_OUTDIR/results/: copies.tsv (one line per copy),
# <fs>-<row>.out (the tool's output, sg_xcopy -v), lat-<phase>.json (fio),
# lat-<phase>-copies.tsv (the copies that ran during it), guest.txt,
# attrib.txt, vpd-*.txt, xfs-*.txt, tcmu-runner.log.  This script fails only
# when it could not measure: a slow copy never fails it, a copy that failed
# or came out different is recorded (copies.tsv: rc, sha_ok) and reported.
#
# Environment (optional, passed in by run-vm as SVM_*):
#   SVM_XBENCH_SIZE       bytes copied in part 1 and 3, and size of every
#                         LUN (default 1G; a multiple of 1 MiB)
#   SVM_XBENCH_BPT        sg_xcopy bpt (default 65528: the largest multiple
#                         of 8 blocks, i.e. of XFS's 4 KiB block, that fits
#                         the 16-bit NUMBER OF BLOCKS of a segment)
#   SVM_XBENCH_DD_BPT     sg_dd bpt (default 128: the svm LUN's MAXIMUM
#                         TRANSFER LENGTH, 64 KiB)
#   SVM_XBENCH_LAT_SIZE   bytes of one copy in part 2 (default 256M)
#   SVM_XBENCH_LAT_TIME   seconds of one fio run in part 2 (default 20)
#   SVM_XBENCH_LAT_QD     fio iodepth in part 2 (default 1)
#   SVM_XBENCH_NOREFLINK  1 (default): run part 3; 0: skip it
# shellcheck disable=SC2317
set -euo pipefail
. "$(dirname "$0")/../vm/lib.sh"
vm_require targetcli tcmu-runner sg_xcopy sg_dd sg_turs sg_vpd fio mkfs.xfs xfs_info losetup \
	fallocate fstrim sha256sum numfmt
vm_on_fail() { vm_dump_state; }

SIZE=${SVM_XBENCH_SIZE:-1G}
BPT=${SVM_XBENCH_BPT:-65528}
DD_BPT=${SVM_XBENCH_DD_BPT:-128}
LAT_SIZE=${SVM_XBENCH_LAT_SIZE:-256M}
LAT_TIME=${SVM_XBENCH_LAT_TIME:-20}
LAT_QD=${SVM_XBENCH_LAT_QD:-1}
NOREFLINK=${SVM_XBENCH_NOREFLINK:-1}
RES=$SVM_OUTDIR/results
RAM=/var/lib/svm-xbench  # tmpfs: the XFS images
MNT=/mnt/svm-xbench      # XFS mounts: $MNT/reflink, $MNT/noreflink
GROUP=xbench
BS=512
mkdir -p "$RES" "$RAM" "$MNT"

size=$(numfmt --from=iec "$SIZE")
lat_size=$(numfmt --from=iec "$LAT_SIZE")
[ $((size % (1 << 20))) -eq 0 ] && [ "$size" -ge $((64 << 20)) ] ||
	fail "SVM_XBENCH_SIZE=$SIZE: want a multiple of 1 MiB, at least 64M"
[ $((lat_size % (1 << 20))) -eq 0 ] && [ $((2 * lat_size)) -le "$size" ] ||
	fail "SVM_XBENCH_LAT_SIZE=$LAT_SIZE: want a multiple of 1 MiB, at most half of $SIZE"
[ "$BPT" -ge 8 ] && [ "$BPT" -le 65535 ] || fail "SVM_XBENCH_BPT=$BPT: want 8..65535"
mib=$((size >> 20))
blocks=$((size / BS))
# The images are sparse; what they hold lives in the tmpfs: the source,
# one destination at a time, and in part 3 a second source for a while.
img_size=$((4 * size))
tmpfs_size=$((3 * size + (512 << 20)))
mem_kib=$(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo)
need_kib=$(((3 * size + (1 << 30)) / 1024))
[ "$mem_kib" -ge "$need_kib" ] ||
	fail "guest memory $((mem_kib >> 10)) MiB, want at least $((need_kib >> 10)) MiB for SIZE=$SIZE (run-vm -m)"

declare -A LOOPDEV=()
cleanup() {
	local rc=$? l
	set +e
	vm_cleanup
	for l in "${!LOOPDEV[@]}"; do
		umount "$MNT/$l" 2>/dev/null
		losetup -d "${LOOPDEV[$l]}" 2>/dev/null
	done
	umount "$RAM" 2>/dev/null
	return "$rc"
}
trap cleanup EXIT

{
	echo "guest_kernel: $(uname -r) ($(uname -v))"
	echo "guest_cpus: $(nproc)"
	echo "guest_mem_kib: $mem_kib"
	echo "clk_tck: $(getconf CLK_TCK)"
	echo "sg3_utils: $(sg_xcopy -V 2>&1 | head -n1)"
	echo "fio_version: $(fio --version)"
	echo "xfsprogs: $(mkfs.xfs -V | head -n1)"
	echo "size: $SIZE ($size bytes, $blocks blocks of $BS)"
	echo "bpt: $BPT"
	echo "dd_bpt: $DD_BPT"
	echo "lat_size: $LAT_SIZE ($lat_size bytes)"
	echo "lat_time: $LAT_TIME"
	echo "lat_qd: $LAT_QD"
	echo "tmpfs_size: $tmpfs_size"
	echo "img_size: $img_size"
	echo "svm_so: $SVM_HANDLER_DIR/handler_svm.so ($(sha256sum "$SVM_HANDLER_DIR/handler_svm.so" | cut -c1-12)…)"
} >"$RES/guest.txt"

vm_start_services || fail "services did not start"
vm_modprobe loop xfs || fail "no loop or xfs module"
export SVM_TCMU_PID
echo "svm_threads: $(sed -n 's/.*svm: \([0-9]*\) worker threads, shared by all LUNs; at most \([0-9]*\) for one LUN.*/\1, at most \2 for one LUN/p' "$SVM_TCMU_LOG" | tail -n1)" >>"$RES/guest.txt"

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
df_used() { df -B1 --output=used "$1" | tail -n1 | tr -d ' '; }
sha_dev() {
	# sha_dev DEV MIB [SKIP_MIB]: sha256 of the range, read through the initiator
	dd if="$1" bs=1M count="$2" skip="${3:-0}" iflag=direct status=none | sha256sum | cut -d' ' -f1
}
clear_uas() {
	# consume pending unit attentions (REPORTED LUNS DATA HAS CHANGED...)
	# so that no timed command meets one
	local g
	for g in "$@"; do
		sg_turs "$g" >/dev/null 2>&1 || sg_turs "$g" >/dev/null 2>&1 || true
	done
}
set_mover() {
	# set_mover LUN STORE MOVER: the svm LUN's cfgstring, live
	vm_tcli "/backstores/user:svm/$1 set attribute dev_config=svm/$2;xcopy_group=$GROUP;mover=$3"
}
mkxfs() {
	# mkxfs NAME REFLINK(0|1): a sparse image in the tmpfs, XFS, mounted on
	# $MNT/NAME (call directly: sets LOOPDEV[NAME])
	local img=$RAM/$1.raw dev
	vm_log "XFS reflink=$2 on a loop file in the tmpfs: $img"
	truncate -s "$img_size" "$img"
	mkfs.xfs -q -f -m reflink="$2" "$img" || fail "mkfs.xfs failed"
	dev=$(losetup -f --show "$img") || fail "losetup failed"
	LOOPDEV[$1]=$dev
	mkdir -p "$MNT/$1"
	mount -t xfs "$dev" "$MNT/$1" || fail "cannot mount $img"
	{
		echo "# $1: $img ($img_size bytes, sparse, in a tmpfs of $tmpfs_size bytes) on $dev"
		echo "# mkfs.xfs -f -m reflink=$2"
		xfs_info "$MNT/$1"
	} >"$RES/xfs-$1.txt"
}
luns_up() {
	# luns_up FS SRCFILE: svm xs (SRCFILE) and xd, fileio fs (SRCFILE) and
	# fd, all of SIZE, on tcm_loop; sets DEV_* and SG_* (call directly)
	local fs=$1 src=$2 d=$MNT/$1
	truncate -s "$size" "$d/fd.img"
	vm_tcli \
		"/backstores/user:svm create name=xs size=$size cfgstring=$src;xcopy_group=$GROUP" \
		"/backstores/user:svm create name=xd size=$size cfgstring=$d/xd.img;xcopy_group=$GROUP" \
		"/backstores/fileio create name=fs file_or_dev=$src size=$size write_back=true" \
		"/backstores/fileio create name=fd file_or_dev=$d/fd.img size=$size write_back=true" ||
		fail "could not create the LUNs on $fs"
	DEV_XS=$(vm_loop_lun /backstores/user:svm/xs) || fail "no disk for xs"
	DEV_XD=$(vm_loop_lun /backstores/user:svm/xd) || fail "no disk for xd"
	DEV_FS=$(vm_loop_lun /backstores/fileio/fs) || fail "no disk for fs"
	DEV_FD=$(vm_loop_lun /backstores/fileio/fd) || fail "no disk for fd"
	SG_XS=$(vm_sg_of "$DEV_XS") SG_XD=$(vm_sg_of "$DEV_XD")
	SG_FS=$(vm_sg_of "$DEV_FS") SG_FD=$(vm_sg_of "$DEV_FD")
	local x
	for x in "$DEV_XS" "$DEV_XD" "$DEV_FS" "$DEV_FD"; do
		echo none >"/sys/block/${x#/dev/}/queue/scheduler" 2>/dev/null || true
	done
	clear_uas "$SG_XS" "$SG_XD" "$SG_FS" "$SG_FD"
	{
		printf 'fs\tlun\tbackstore\tstore\tdev\tsg\tmax_sectors_kb\n'
		printf '%s\txs\tuser:svm\t%s\t%s\t%s\t%s\n' "$fs" "$src" "$DEV_XS" "$SG_XS" "$(cat /sys/block/"${DEV_XS#/dev/}"/queue/max_sectors_kb)"
		printf '%s\txd\tuser:svm\t%s\t%s\t%s\t%s\n' "$fs" "$d/xd.img" "$DEV_XD" "$SG_XD" "$(cat /sys/block/"${DEV_XD#/dev/}"/queue/max_sectors_kb)"
		printf '%s\tfs\tfileio\t%s\t%s\t%s\t%s\n' "$fs" "$src" "$DEV_FS" "$SG_FS" "$(cat /sys/block/"${DEV_FS#/dev/}"/queue/max_sectors_kb)"
		printf '%s\tfd\tfileio\t%s\t%s\t%s\t%s\n' "$fs" "$d/fd.img" "$DEV_FD" "$SG_FD" "$(cat /sys/block/"${DEV_FD#/dev/}"/queue/max_sectors_kb)"
	} >"$RES/luns-$fs.tsv"
	grep -H . /sys/kernel/config/target/core/fileio_*/f[sd]/attrib/* \
		/sys/kernel/config/target/core/user_*/x[sd]/attrib/* \
		/sys/kernel/config/target/core/user_*/x[sd]/info 2>/dev/null |
		sed 's|^/sys/kernel/config/target/core/||' >"$RES/attrib-$fs.txt" || true
	for x in "$SG_XS" "$SG_FS"; do
		sg_vpd -p tpc "$x" >"$RES/vpd-$fs-${x#/dev/}-tpc.txt" 2>&1 || true
		sg_vpd -p bl "$x" >"$RES/vpd-$fs-${x#/dev/}-bl.txt" 2>&1 || true
	done
}
luns_down() {
	vm_tcli "clearconfig confirm=True" || fail "clearconfig failed"
}

empty() {
	# empty FILE MOUNT: punch the whole store (if it exists), give the freed
	# blocks back to the tmpfs (fstrim: the loop device punches its file)
	sync
	if [ -f "$1" ]; then
		fallocate -p -o 0 -l "$size" "$1"
	fi
	fstrim "$2" || true
}

printf 'fs\trow\tkind\ttarget\tmover\tbytes\twall_s\tloop_s\tsync_s\tdf_before\tdf_after\tbusy_ticks\ttotal_ticks\ttcmu_ticks\tcommands\trc\tsha_ok\tmoved\tstart\n' \
	>"$RES/copies.tsv"

row() {
	# row FS ROW KIND TARGET MOVER DSTFILE CHECK -- CMD...
	#   DSTFILE  the destination store, emptied first
	#   CHECK    a /dev/sdX to read the result through, or file:PATH
	local fs=$1 id=$2 kind=$3 target=$4 mover=$5 dfile=$6 check=$7
	shift 8
	local out=$RES/$fs-$id.out mnt=$MNT/$fs logn used0 used1 c0 c1 t0 t1 t2 rc=0 sum ok moved loop cmds
	empty "$dfile" "$mnt"
	logn=$(wc -l <"$SVM_TCMU_LOG")
	drop_caches
	used0=$(df_used "$mnt")
	c0=$(cpu_snap)
	t0=$EPOCHREALTIME
	"$@" >"$out" 2>&1 || rc=$?
	t1=$EPOCHREALTIME
	sync
	t2=$EPOCHREALTIME
	c1=$(cpu_snap)
	used1=$(df_used "$mnt")
	echo "# $*" >>"$out"
	echo "# exit status $rc" >>"$out"
	case $check in
	file:*) sum=$(sha256sum "${check#file:}" | cut -d' ' -f1) ;;
	*) sum=$(sha_dev "$check" "$mib") ;;
	esac
	ok=no
	[ "$sum" = "$WANT" ] && ok=yes
	empty "$dfile" "$mnt" # the tmpfs holds the source and one destination at a time
	moved=$(tail -n +"$((logn + 1))" "$SVM_TCMU_LOG" | grep -o 'EXTENDED COPY on LUN [^ ]* (mover=.*' | tail -n1 || true)
	loop=$(sed -n 's/^time to transfer data: *\([0-9.]*\) secs.*/\1/p' "$out" | tail -n1)
	cmds=$(sed -n 's/^sg_xcopy: [0-9]* blocks, \([0-9]*\) command.*/\1/p' "$out" | tail -n1)
	read -r -a c0 <<<"$c0"
	read -r -a c1 <<<"$c1"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
		"$fs" "$id" "$kind" "$target" "$mover" "$size" \
		"$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')" "${loop:--}" \
		"$(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.3f", b - a }')" \
		"$used0" "$used1" "$((c1[0] - c0[0]))" "$((c1[1] - c0[1]))" "$((c1[2] - c0[2]))" \
		"${cmds:--}" "$rc" "$ok" "${moved:--}" "$t0" >>"$RES/copies.tsv"
	vm_log "$fs/$id: exit $rc, $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }') s, sha256 identical: $ok${moved:+; $moved}"
	if [ "$ok" != yes ]; then
		vm_log "$fs/$id: the copy is not the source (sha256 $sum, want $WANT); its output:"
		tail -n 20 "$out" >&2
	fi
}

xcopy() {
	# xcopy SRC_SG DST_SG: the whole size, pushed (the command goes to the source)
	sg_xcopy -v time=1 bs=$BS bpt="$BPT" count="$blocks" if="$1" of="$2" --on_src
}
sgdd() {
	sg_dd if="$1" of="$2" bs=$BS bpt="$DD_BPT" count="$blocks" time=1
}
limit() { # generous: SIZE at 2 MB/s, plus the check
	echo $((size / 2000000 + 600))
}

copy_rows() {
	# copy_rows FS ROWS...: the rows of part 1 / 3 on the LUNs of luns_up
	local fs=$1 r d=$MNT/$1
	shift
	for r in "$@"; do
		case $r in
		lio | lio2)
			vm_step "$fs: $r: sg_xcopy between the fileio LUNs (LIO XCOPY)" "$(limit)" \
				row "$fs" "$r" xcopy fileio lio "$d/fd.img" "$DEV_FD" -- xcopy "$SG_FS" "$SG_FD" ;;
		bounce | kernel | reflink | auto)
			set_mover xs "$SRC" "$r" || fail "could not pin mover=$r"
			clear_uas "$SG_XS" "$SG_XD"
			vm_step "$fs: $r: sg_xcopy between the svm LUNs, mover=$r" "$(limit)" \
				row "$fs" "$r" xcopy svm "$r" "$d/xd.img" "$DEV_XD" -- xcopy "$SG_XS" "$SG_XD" ;;
		sgdd)
			vm_step "$fs: sg_dd between the svm LUNs" "$(limit)" \
				row "$fs" sgdd sg_dd svm - "$d/xd.img" "$DEV_XD" -- sgdd "$SG_XS" "$SG_XD" ;;
		sgdd-fio)
			vm_step "$fs: sg_dd between the fileio LUNs" "$(limit)" \
				row "$fs" sgdd-fio sg_dd fileio - "$d/fd.img" "$DEV_FD" -- sgdd "$SG_FS" "$SG_FD" ;;
		cp)
			rm -f "$d/cp.img"
			vm_step "$fs: cp --reflink=always of the store file" "$(limit)" \
				row "$fs" cp cp file - "$d/cp.img" "file:$d/cp.img" -- \
				cp --reflink=always "$SRC" "$d/cp.img"
			rm -f "$d/cp.img"
			fstrim "$d" || true ;;
		*) fail "unknown row $r" ;;
		esac
	done
}

# --- part 1: XFS with reflink=1 ------------------------------------------------
mount -t tmpfs -o size="$tmpfs_size",mode=0700 svm-xbench "$RAM" || fail "no tmpfs"
mkxfs reflink 1
SRC=$MNT/reflink/src.img
vm_step "source: $SIZE of random data" "$(limit)" \
	dd if=/dev/urandom of="$SRC" bs=1M count="$mib" conv=fsync status=none
luns_up reflink "$SRC"
drop_caches
WANT=$(sha_dev "$DEV_XS" "$mib")
[ "$(sha_dev "$DEV_FS" "$mib")" = "$WANT" ] || fail "the fileio LUN on the source file reads differently"
echo "source_sha256: $WANT" >>"$RES/guest.txt"
vm_log "source: $SIZE, sha256 $WANT (through both source LUNs)"

copy_rows reflink lio bounce kernel reflink auto sgdd sgdd-fio lio2 cp

# --- part 2: read latency on xs during copies within it ----------------------
lat_phase() {
	# lat_phase NAME MOVER|none
	local name=$1 mover=$2 stop=/run/svm-xbench-stop lp started=/run/svm-xbench-started
	local job=$RES/lat-$name.json ctsv=$RES/lat-$name-copies.tsv f0 f1
	local half=$((size / 2 / BS)) n=$((lat_size / BS))
	rm -f "$stop" "$started"
	[ "$mover" = none ] || set_mover xs "$SRC" "$mover"
	clear_uas "$SG_XS"
	drop_caches
	printf 'i\tstart\tend\trc\tloop_s\n' >"$ctsv"
	if [ "$mover" != none ]; then
		(
			i=0
			: >"$started"
			while [ ! -e "$stop" ]; do
				s=$EPOCHREALTIME
				rc=0
				sg_xcopy time=1 bs=$BS bpt="$BPT" if="$SG_XS" of="$SG_XS" skip=0 seek="$half" \
					count="$n" >/run/svm-xbench-copy.out 2>&1 || rc=$?
				e=$EPOCHREALTIME
				l=$(sed -n 's/^time to transfer data: *\([0-9.]*\) secs.*/\1/p' /run/svm-xbench-copy.out)
				printf '%s\t%s\t%s\t%s\t%s\n' "$i" "$s" "$e" "$rc" "${l:--}" >>"$ctsv"
				[ "$rc" -eq 0 ] || cat /run/svm-xbench-copy.out >>"$RES/lat-$name-errors.txt"
				i=$((i + 1))
			done
		) &
		lp=$!
		vm_wait_for 30 "the copy loop" test -e "$started" || return 1
	fi
	f0=$EPOCHREALTIME
	# reads only where the copies neither read nor write: the page cache they
	# fill would otherwise speed up the reads they meet
	fio --name="randread-$name" --filename="$DEV_XS" --offset=$((size / 2 + lat_size)) \
		--size=$((size / 2 - lat_size)) --rw=randread --bs=4k --ioengine=libaio \
		--direct=1 --iodepth="$LAT_QD" --numjobs=1 --time_based --runtime="$LAT_TIME" --ramp_time=2 \
		--norandommap --randrepeat=0 --lat_percentiles=1 --percentile_list=50:90:99:99.9 \
		--output-format=json --output="$job" </dev/null
	f1=$EPOCHREALTIME
	if [ "$mover" != none ]; then
		: >"$stop"
		wait "$lp"
	fi
	printf 'fio_start\t%s\nfio_end\t%s\nmover\t%s\n' "$f0" "$f1" "$mover" >"$RES/lat-$name-window.tsv"
	if [ "$mover" != none ]; then
		# the last copy of the loop: byte-identical?
		local a b
		a=$(sha_dev "$DEV_XS" $((lat_size >> 20)) 0)
		b=$(sha_dev "$DEV_XS" $((lat_size >> 20)) $((size / 2 >> 20)))
		printf 'sha_ok\t%s\n' "$([ "$a" = "$b" ] && echo yes || echo no)" >>"$RES/lat-$name-window.tsv"
	fi
}
lat_limit=$((3 * LAT_TIME + 300))
vm_step "latency: fio randread on xs, no copy" "$lat_limit" lat_phase base none
vm_step "latency: fio randread on xs during copies, mover=bounce" "$lat_limit" lat_phase bounce bounce
vm_step "latency: fio randread on xs during copies, mover=auto" "$lat_limit" lat_phase auto auto
vm_step "latency: fio randread on xs, no copy (again)" "$lat_limit" lat_phase base2 none

# --- part 3: XFS with reflink=0 ------------------------------------------------
if [ "$NOREFLINK" = 1 ]; then
	luns_down
	mkxfs noreflink 0
	vm_step "the source, copied over" "$(limit)" \
		dd if="$SRC" of="$MNT/noreflink/src.img" bs=1M conv=fsync status=none
	umount "$MNT/reflink"
	losetup -d "${LOOPDEV[reflink]}"
	unset 'LOOPDEV[reflink]'
	rm -f "$RAM/reflink.raw"
	SRC=$MNT/noreflink/src.img
	luns_up noreflink "$SRC"
	# part 2 copied within xs: the source's middle changed, so take its sum again
	drop_caches
	WANT=$(sha_dev "$DEV_XS" "$mib")
	[ "$(sha_dev "$DEV_FS" "$mib")" = "$WANT" ] || fail "the fileio LUN on the source file reads differently"
	echo "source_sha256_noreflink: $WANT" >>"$RES/guest.txt"
	copy_rows noreflink lio bounce kernel auto lio2
fi

free -m >"$RES/free.txt"
cp "$SVM_TCMU_LOG" "$RES/tcmu-runner.log" 2>/dev/null || true
vm_tcmu_alive || fail "tcmu-runner died during the benchmark"
pass "EXTENDED COPY benchmark measured"
