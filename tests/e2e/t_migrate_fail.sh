#!/bin/bash
# e2e: a live migration whose destination fails is stopped cleanly, while
# fio's random 4 KiB crc32c-verified writes run through tcm_loop, and the
# source stays authoritative: host I/O goes on, fio's rounds and a final
# --verify_only pass (nothing lost), the LUN equals its source file, the
# record is gone, the failure's reason is in svmctl status and in the SVM
# log (here a per-LUN svm_log= file) as "Migration failed on device ...":
#  - a destination block device that starts returning write errors
#    mid-copy (device-mapper: a linear table switched live to dm-flakey
#    with error_writes, or to dm-error when the kernel lacks dm-flakey);
#  - a destination file on a filesystem smaller than the LUN's data (a
#    24 MiB tmpfs): ENOSPC; the partial destination file is removed.
# shellcheck disable=SC2317
set -euo pipefail
. "$(dirname "$0")/../vm/lib.sh"
. "$(dirname "$0")/migrate-lib.sh"
vm_require targetcli tcmu-runner fio losetup dmsetup cmp truncate
mig_teardown() {
	dmsetup remove svm-mig-flaky 2>/dev/null
	umount /mnt/svm-small 2>/dev/null
}
vm_on_fail() { vm_dump_state; cat /var/log/tcmu-svm-f*.log >&2 2>/dev/null || true; }

mig_setup
rm -f /var/log/tcmu-svm-f1.log /var/log/tcmu-svm-f2.log

failed_cleanly() { # NAME SRC DEV SVMLOG REASON-REGEX: the migration failed, the source serves
	local st
	st=$(mig_wait_phase "$1" 120 "done" failed aborted)
	echo "$1: $(mig_summary "$st")"
	[ "$(jget "$st" phase)" = failed ] || return 1
	[ "$(jget "$st" source)" = "$2" ]
	[ "$(jget "$st" mirror)" = null ]
	jget "$st" error | grep -E "$5"
	[ -z "$(ls -A "$SVM_STATE_DIR/migrations")" ] || { echo "records left: $(ls "$SVM_STATE_DIR/migrations")"; return 1; }
	[ "$(mig_dev_config "$1")" = "svm/$2;svm_log=$4" ] || { echo "dev_config: $(mig_dev_config "$1")"; return 1; }
	# the SVM log: the failure, with its reason, then the stats and the device's end
	grep -E "${MIG_LOG_RE}Migration failed on device [0-9a-f]+-[0-9a-f]+-svmmirror during the copy: .*$5" "$4"
	grep -qE "${MIG_LOG_RE}SVM Mirrored mode IO stats for device: " "$4"
	grep -qE "${MIG_LOG_RE}Destroyed device " "$4"
	if grep -q "Switched over" "$4"; then echo "it switched over"; return 1; fi
	# host I/O goes on, on the source
	dd if=/dev/urandom of="$MIG_RUN/$1.blk" bs=4k count=1 status=none
	dd if="$MIG_RUN/$1.blk" of="$3" bs=4k seek=$((60 << 8)) oflag=direct conv=notrunc status=none
	cmp -n 4096 -i 0:$((60 << 20)) "$MIG_RUN/$1.blk" "$2"
	echo "a write after the failure landed in the source $2"
}

data_of() { # NAME DEV SRC: the LUN is its source's bytes, the prefill outside fio (up to 60 MiB)
	mig_lun_equals "$2" "$3"
	mig_check_outside "$3" "$MIG_RUN/$1.orig" 60
}

# --- 1. a destination that fails its writes (device-mapper) --------------------------
truncate -s 80M "$MIG_DIR/flaky.raw"
loop=$(losetup --find --show "$MIG_DIR/flaky.raw")
sectors=$((80 << 11))
echo "0 $sectors linear $loop 0" | dmsetup create svm-mig-flaky
fdev=/dev/$(dmsetup info -c --noheadings -o blkdevname svm-mig-flaky | tr -d ' ')
if modprobe dm_flakey 2>/dev/null; then
	bad_table="0 $sectors flakey $loop 0 0 3600 1 error_writes"
else
	vm_log "no dm-flakey in this kernel: the destination turns into dm-error"
	bad_table="0 $sectors error"
fi
SRC1=$MIG_DIR/f1.img LOG1=/var/log/tcmu-svm-f1.log
dev1=$(mig_lun f1 64 56 ";svm_log=$LOG1") || fail "could not create LUN f1"
mig_fio_start f1 "$dev1"
vm_step "fio writes to f1" 150 mig_fio_wait_writing f1 "$dev1" 200

break_dst() {
	local st
	"$SVMCTL" migrate f1 --to "$fdev" --rate 2
	st=$(mig_wait_mid_copy f1) || { echo "$st"; return 1; }
	echo "before the failure: $(mig_summary "$st")"
	dmsetup suspend svm-mig-flaky
	dmsetup load svm-mig-flaky --table "$bad_table"
	dmsetup resume svm-mig-flaky
	echo "$fdev now: $(dmsetup table svm-mig-flaky)"
}
vm_step "migrate f1 to $fdev, whose writes then fail" 180 break_dst
vm_step "f1's migration fails cleanly" 180 failed_cleanly f1 "$SRC1" "$dev1" "$LOG1" "a (write to|flush of) the destination failed: Input/output error"
vm_step "fio's rounds on f1 pass" 420 mig_fio_stop f1
vm_step "fio --verify_only on f1" 300 mig_fio_verify f1 "$dev1"
vm_step "f1's data: its source" 300 data_of f1 "$dev1" "$SRC1"

# --- 2. ENOSPC: a destination filesystem smaller than the data ------------------------
mkdir -p /mnt/svm-small
mount -t tmpfs -o size=24M svm-small /mnt/svm-small
SRC2=$MIG_DIR/f2.img LOG2=/var/log/tcmu-svm-f2.log DST2=/mnt/svm-small/f2.img
dev2=$(mig_lun f2 64 56 ";svm_log=$LOG2") || fail "could not create LUN f2"
mig_fio_start f2 "$dev2"
vm_step "fio writes to f2" 150 mig_fio_wait_writing f2 "$dev2" 200
vm_step "migrate f2 to a 24 MiB filesystem" 60 "$SVMCTL" migrate f2 --to "$DST2" --rate 8
vm_step "f2's migration fails cleanly (ENOSPC)" 180 failed_cleanly f2 "$SRC2" "$dev2" "$LOG2" "a write to the destination failed: No space left on device"
gone() {
	[ ! -e "$DST2" ] || { echo "the partial destination $DST2 is still there"; return 1; }
	df -k /mnt/svm-small | tail -n1
	echo "the partial destination is removed"
}
vm_step "f2's partial destination is removed" 30 gone
vm_step "fio's rounds on f2 pass" 420 mig_fio_stop f2
vm_step "fio --verify_only on f2" 300 mig_fio_verify f2 "$dev2"
vm_step "f2's data: its source" 300 data_of f2 "$dev2" "$SRC2"

every_line() { # the per-LUN SVM logs: every line in the vmkernel format
	local f n
	for f in "$LOG1" "$LOG2"; do
		n=$(grep -cvE "$MIG_LOG_RE" "$f") || true
		[ "$n" -eq 0 ] || { echo "$f: $n lines not in the SVM log format"; return 1; }
		echo "$f: $(wc -l <"$f") lines, all in the format"
	done
	# svm_log= sent them there, not to the default file
	! grep -q 'Migration failed' <<<"$(svmlog_lines 2>/dev/null)"
}
vm_step "the svm_log= files" 30 every_line
vm_tcmu_alive || fail "tcmu-runner died"
pass "a failing (EIO) and a full (ENOSPC) destination: migrations fail cleanly, nothing lost"
