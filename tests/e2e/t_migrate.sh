#!/bin/bash
# e2e: live migration (Storage vMotion) of a user:svm LUN with svmctl, in the
# real stack (tcmu-runner, targetcli, tcm_loop), while fio writes to it:
#  - svmctl doctor passes with everything up, and names what is missing
#    when tcmu-runner is stopped;
#  - every refusal (an unknown LUN, a relative path, a missing directory, a
#    destination that is not empty, a block device smaller than the LUN,
#    the source itself under three names, a migration already running)
#    has a clear message and a non-zero exit, and changes nothing;
#  - a plain migration from a file on one filesystem to a file on another
#    (ext4), rate-limited so that fio's random 4 KiB crc32c-verified writes
#    overlap it: the LUN switches over, fio's rounds and a final
#    --verify_only pass, the LUN read through the initiator equals the
#    destination file, outside fio's ranges both hold the prefill, the
#    source is deleted, LIO's dev_config names the destination, the
#    longest switchover pause is reported;
#  - the SVM log: every line in the vmkernel format, and the device's
#    life (SVM_MakeDev Success, Created, Copy started, Switched over,
#    Source deleted, the IO stats block, Destroyed) with the store ids;
#  - the destination keeps serving after a tcmu-runner restart, and after
#    saveconfig / clearconfig / restoreconfig (the saved JSON names it);
#  - svmctl abort mid-copy: the source stays authoritative, the partial
#    destination is removed, or kept with --keep-dest.
# shellcheck disable=SC2317
set -euo pipefail
. "$(dirname "$0")/../vm/lib.sh"
. "$(dirname "$0")/migrate-lib.sh"
vm_require targetcli tcmu-runner fio losetup mkfs.ext4 cmp truncate

mig_setup
mig_dst_ext4
SRC=$MIG_DIR/m1.img DST=/mnt/svm-dst/m1.img
dev=$(mig_lun m1 64 56) || fail "could not create LUN m1"

doctor() { # WANT-EXIT REGEX...: svmctl doctor exits so and prints a line matching each
	local want=$1 out rc=0 re
	shift
	out=$("$SVMCTL" doctor 2>&1) || rc=$?
	echo "$out"
	[ $rc -eq "$want" ] || { echo "  exit $rc, expected $want"; return 1; }
	for re in "$@"; do
		grep -qE "$re" <<<"$out" || { echo "  no line matches /$re/"; return 1; }
	done
}
vm_step "svmctl doctor passes with the stack up" 60 doctor 0 '5 of 5 checks passed'

# --- refusals ----------------------------------------------------------------
refused() { # WANT-EXIT REGEX SVMCTL-ARGS...: refused with that exit and message
	local want=$1 re=$2 out rc=0
	shift 2
	out=$("$SVMCTL" "$@" 2>&1) || rc=$?
	echo "svmctl $*: exit $rc: $out"
	[ $rc -eq "$want" ] || { echo "  expected exit $want"; return 1; }
	grep -qE "$re" <<<"$out" || { echo "  expected a message matching /$re/"; return 1; }
}
idle_on() { # LUN SOURCE: no migration, serving SOURCE, no record, no device created
	local st
	st=$(mig_json "$1")
	if [ "$(jget "$st" phase)" != idle ] || [ "$(jget "$st" source)" != "$2" ] ||
		[ "$(jget "$st" mirror)" != null ]; then
		echo "changed: $st"
		return 1
	fi
	[ -z "$(ls -A "$SVM_STATE_DIR/migrations" 2>/dev/null)" ] || {
		echo "a migration record appeared: $(ls "$SVM_STATE_DIR/migrations")"
		return 1
	}
	! grep -q 'Created device' <<<"$(svmlog_lines)" || { echo "a mirror device was created"; return 1; }
}
refusals() {
	local small sum
	refused 1 "no open user:svm LUN of that name" migrate nosuch --to /mnt/svm-dst/x.img
	refused 2 "relative path" migrate m1 --to svm-dst/m1.img
	refused 2 "directory '/mnt/svm-dst/nodir' of destination .* does not exist" \
		migrate m1 --to /mnt/svm-dst/nodir/m1.img
	head -c 1M /dev/urandom >/mnt/svm-dst/full.img
	sum=$(md5sum </mnt/svm-dst/full.img)
	refused 2 "exists and is not empty \(1048576 bytes\)" migrate m1 --to /mnt/svm-dst/full.img
	[ "$(md5sum </mnt/svm-dst/full.img)" = "$sum" ]
	refused 2 "is the LUN's source store" migrate m1 --to "$SRC"
	refused 2 "is the LUN's source store .*another name" migrate m1 --to "$MIG_DIR/./m1.img"
	ln -sf "$SRC" /mnt/svm-dst/link.img
	refused 2 "is the LUN's source store .*another name" migrate m1 --to /mnt/svm-dst/link.img
	# a zeroed 16 MiB device passes svmctl's checks; the handler refuses it, too small
	truncate -s 16M "$MIG_DIR/small.raw"
	small=$(losetup --find --show "$MIG_DIR/small.raw")
	refused 1 "$small.* (holds|less than|smaller)" migrate m1 --to "$small"
	losetup -d "$small"
	for f in /mnt/svm-dst/x.img /mnt/svm-dst/nodir /mnt/svm-dst/m1.img; do
		[ ! -e "$f" ] || { echo "$f was created"; return 1; }
	done
	idle_on m1 "$SRC"
	# the handler's refusal of the device is in the SVM log as a failed SVM_MakeDev
	svmlog_lines | grep -E "${MIG_LOG_RE}SVM_MakeDev\.[0-9]+: Creating device [0-9a-f]+-[0-9a-f]+-svmmirror: Failure: "
	echo "every refusal: clear message, non-zero exit, nothing changed"
}
vm_step "refusals change nothing" 120 refusals

# --- a plain migration under fio ----------------------------------------------
mig_fio_start m1 "$dev"
vm_step "fio writes to m1" 150 mig_fio_wait_writing m1 "$dev" 200

start_plain() {
	local st out
	out=$("$SVMCTL" migrate m1 --to "$DST" --rate 2)
	echo "$out"
	grep -q "m1: migration started: $SRC -> $DST" <<<"$out"
	st=$(mig_json m1)
	echo "$st"
	[ "$(jget "$st" phase)" = copying ]
	[ "$(jget "$st" destination)" = "$DST" ]
	[ "$(jget "$st" rate)" = 2 ]
	jget "$st" mirror >"$MIG_RUN/m1.mirror"
	grep -qE '^[0-9a-f]{1,7}-[0-9a-f]{1,7}-svmmirror$' "$MIG_RUN/m1.mirror"
	# (no tee /dev/stderr: it would reopen, and truncate, the test's log)
	out=$("$SVMCTL" list)
	echo "$out"
	grep -qE "^m1 +copying +$SRC +$DST +$(cat "$MIG_RUN/m1.mirror")\$" <<<"$out"
	# the half-copied destination is held: another process's lock on it
	# fails, and a LUN on it is refused as in use
	if flock -n "$DST" true; then echo "$DST could be locked while being copied"; return 1; fi
	if out=$(vm_tcli "/backstores/user:svm create name=m1dup size=64M cfgstring=$DST;create=no" 2>&1); then
		echo "a second LUN opened the half-copied $DST"
		return 1
	fi
	grep -q "store '$DST' is in use" "$SVM_TCMU_LOG" || { echo "no 'in use' in the runner's log"; return 1; }
	[ -z "$(ls -d /sys/kernel/config/target/core/user_*/m1dup 2>/dev/null)" ]
	echo "$DST is held while copying: flock -n fails, a LUN on it is refused (in use)"
	# a second migration while this one runs: refused, and this one goes on
	refused 1 "under way" migrate m1 --to /mnt/svm-dst/other.img
	[ ! -e /mnt/svm-dst/other.img ]
	# (on a loaded host the checks above may outlast the copy)
	st=$(mig_json m1)
	[[ "$(jget "$st" phase)" =~ ^(copying|switching|done)$ ]]
	[ "$(jget "$st" destination)" = "$DST" ]
}
vm_step "svmctl migrate m1 --to $DST --rate 2" 60 start_plain

finish_plain() {
	local st
	st=$(mig_wait_phase m1 300 "done" failed aborted)
	echo "m1: $(mig_summary "$st")"
	echo "$st" >"$MIG_RUN/m1.done.json"
	[ "$(jget "$st" phase)" = "done" ]
	[ "$(jget "$st" source)" = "$DST" ]
	[ "$(jget "$st" mirror)" = null ]
	[ "$(jget "$st" error)" = null ]
	[ "$(jget "$st" mirrored_writes)" -gt 0 ]
	# 56 MiB of data: copied; the 8 MiB hole at the end: skipped
	[ "$(jget "$st" bytes_copied)" -ge $((48 << 20)) ]
	[ "$(jget "$st" bytes_skipped)" -ge $((8 << 20)) ]
	[ $(($(jget "$st" bytes_copied) + $(jget "$st" bytes_skipped))) -eq $((64 << 20)) ]
	# the switchover pause is reported; a sanity bound only (the machine is shared)
	grep -q '"max_pause_ms":[0-9]' <<<"$st"
	[ "$(jget "$st" max_pause_ms)" -lt 30000 ]
}
vm_step "m1 switches over to $DST" 360 finish_plain
vm_step "fio's rounds on m1 pass" 420 mig_fio_stop m1
vm_step "fio --verify_only on m1 after the switchover" 300 mig_fio_verify m1 "$dev"

data_plain() {
	local out
	mig_lun_equals "$dev" "$DST"
	mig_check_outside "$DST" "$MIG_RUN/m1.orig" 64
	[ ! -e "$SRC" ] || { echo "the source $SRC was not deleted"; return 1; }
	[ "$(mig_dev_config m1)" = "svm/$DST" ] || { echo "dev_config: $(mig_dev_config m1)"; return 1; }
	out=$(vm_tcli "ls /backstores/user:svm" 2>&1)
	echo "$out"
	grep -q "o- m1 .*$DST" <<<"$out"
	echo "source deleted; LIO's dev_config and targetcli name $DST"
}
vm_step "m1's data after the switchover" 300 data_plain

svmlog_plain() {
	local devname p s lines n st
	devname=$(cat "$MIG_RUN/m1.mirror")
	p=$(mig_store_id "$SRC") s=$(mig_store_id "$(realpath "$DST")")
	[ "$devname" = "$p-$s-svmmirror" ] || { echo "device $devname, expected $p-$s-svmmirror"; return 1; }
	lines=$(svmlog_lines | grep -F "$devname")
	echo "$lines"
	# every line of the file in the format
	n=$(svmlog_lines | grep -cvE "${MIG_LOG_RE}") || true
	[ "$n" -eq 0 ] || { echo "$n lines not in the SVM log format"; return 1; }
	st=$(cat "$MIG_RUN/m1.done.json")
	local d=${devname//./\\.}
	local want=(
		"SVM_MakeDev\.([0-9]+): Creating device $d: Success$"
		"Created device $d, primary $p, secondary $s$"
		"Device $d: primary $p is $SRC, secondary $s is $DST$"
		"Copy started for device $d: mover [a-z]+, size 67108864 bytes, [0-9]+ bytes to copy$"
		"Switched over device $d to secondary $s: I/O paused [0-9]+\.[0-9]{3} ms$"
		"Source $p of device $d deleted: $SRC$"
		"SVM Mirrored mode IO stats for device: $d$"
		"Reads: [0-9]+, Writes: [0-9]+, Mirrored writes: $(jget "$st" mirrored_writes), Writes that waited for copy: [0-9]+$"
		"Bytes copied: $(jget "$st" bytes_copied), Bytes skipped: $(jget "$st" bytes_skipped), Mover: [a-z]+, Duration: [0-9]+\.[0-9]{3} s$"
		"Longest switchover pause: [0-9]+\.[0-9]{3} ms$"
		"Destroyed device $d$"
	)
	# in this order, each once, each with the prefix; the stats block's four lines adjacent
	local i=0 line re
	while IFS= read -r line; do
		[ $i -lt ${#want[@]} ] || { echo "an extra line: $line"; return 1; }
		re="${MIG_LOG_RE}${want[$i]}"
		[[ $line =~ $re ]] || { echo "line $((i + 1)) is '$line', expected /${want[$i]}/"; return 1; }
		i=$((i + 1))
	done < <(svmlog_lines | grep -E "$d|^.{30,60}SVM: [0-9]+: (Reads|Bytes copied|Longest switchover)" |
		grep -vE 'SVM_MakeDev.*Failure')
	[ $i -eq ${#want[@]} ] || { echo "only $i of ${#want[@]} lines"; return 1; }
	# SVM_MakeDev.NNNN carries the call site's number, as after "SVM:"
	svmlog_lines | grep -E "Creating device $d: Success" |
		grep -qE 'SVM: ([0-9]+): SVM_MakeDev\.\1: '
	echo "the SVM log tells the device's life, in order, in the vmkernel format"
}
vm_step "the SVM log of m1's migration" 60 svmlog_plain

# --- the destination keeps serving: runner restart, saveconfig/restoreconfig ---
serves_dst() { # m1 is idle on $DST
	local st
	st=$(mig_json m1)
	echo "$st"
	[ "$(jget "$st" phase)" = idle ]
	[ "$(jget "$st" source)" = "$DST" ]
}
after_restart() {
	serves_dst
	grep -q "svm: LUN open on $DST" "$SVM_TCMU_LOG"
	mig_fio_verify m1 "$dev"
}
vm_tcmu_stop TERM
vm_tcmu_start || fail "tcmu-runner did not start again"
vm_step "m1 serves $DST after a tcmu-runner restart" 300 after_restart

# (through the resident targetcli server: a targetcli start each costs seconds)
vm_tcli saveconfig 2>"$MIG_RUN/save.out" || fail "saveconfig failed: $(cat "$MIG_RUN/save.out")"
grep -q "\"config\": \"svm/$DST\"" /etc/rtslib-fb-target/saveconfig.json ||
	fail "the saved configuration does not name $DST: $(grep '"config"' /etc/rtslib-fb-target/saveconfig.json)"
vm_tcli "clearconfig confirm=True" 2>"$MIG_RUN/clear.out" || fail "clearconfig failed: $(cat "$MIG_RUN/clear.out")"
[ -z "$(ls -d /sys/kernel/config/target/core/user_*/m1 2>/dev/null)" ] || fail "clearconfig left m1 behind"
vm_tcli restoreconfig 2>"$MIG_RUN/restore.out" ||
	fail "restoreconfig failed: $(cat "$MIG_RUN/restore.out")"
! grep -qi 'cannot\|error\|fail' "$MIG_RUN/restore.out" || fail "restoreconfig: $(cat "$MIG_RUN/restore.out")"
vm_wait_for 60 "m1's disk after restoreconfig" vm_loop_disk_of m1 || fail "no disk for m1 after restoreconfig"
dev=$(vm_loop_disk_of m1)
echo 180 >"/sys/block/${dev#/dev/}/device/timeout"
after_restore() {
	serves_dst
	[ "$(mig_dev_config m1)" = "svm/$DST" ]
	# (no grep -q in a pipe: under pipefail the writer's SIGPIPE would fail it)
	grep -q "o- m1 .*$DST" <<<"$(vm_tcli "ls /backstores/user:svm" 2>&1)"
	mig_fio_verify m1 "$dev"
}
vm_step "m1 serves $DST after saveconfig / clearconfig / restoreconfig" 300 after_restore

# --- abort mid-copy: without and with --keep-dest -------------------------------
BACK=$MIG_DIR/m1-back.img
mig_fio_start abort "$dev"
vm_step "fio writes to m1 again" 150 mig_fio_wait_writing abort "$dev" 200
abort_one() { # KEEP(0|1)
	local st out
	"$SVMCTL" migrate m1 --to "$BACK" --rate 2
	st=$(mig_wait_phase m1 60 copying)
	local deadline=$((SECONDS + 60))
	# far enough that fio's writes went to both stores
	until [ "$(jget "$st" bytes_copied)" -ge $((8 << 20)) ] &&
		[ "$(jget "$st" mirrored_writes)" -gt 0 ]; do
		[ "$SECONDS" -lt "$deadline" ] || { echo "no progress: $st"; return 1; }
		sleep 0.5
		st=$(mig_json m1)
	done
	[ "$(jget "$st" phase)" = copying ]
	vm_log "aborting at: $(mig_summary "$st")"
	if [ "$1" = 1 ]; then
		out=$("$SVMCTL" abort m1 --keep-dest)
	else
		out=$("$SVMCTL" abort m1)
	fi
	echo "$out"
	grep -q "m1: migration aborted; the LUN serves $DST" <<<"$out"
	st=$(mig_json m1)
	echo "m1: $(mig_summary "$st")"
	[ "$(jget "$st" phase)" = aborted ]
	[ "$(jget "$st" source)" = "$DST" ]
	[ "$(jget "$st" mirror)" = null ]
	[ -z "$(ls -A "$SVM_STATE_DIR/migrations")" ]
	[ "$(mig_dev_config m1)" = "svm/$DST" ]
	if [ "$1" = 1 ]; then
		[ "$(stat -c %s "$BACK")" -eq $((64 << 20)) ]
		echo "aborted; the partial copy stays at $BACK"
		rm -f "$BACK"
	else
		[ ! -e "$BACK" ] || { echo "the partial destination $BACK is still there"; return 1; }
		echo "aborted; the partial destination is removed"
	fi
	svmlog_lines | grep -E "${MIG_LOG_RE}Migration aborted on device [0-9a-f]+-[0-9a-f]+-svmmirror" | tail -n1
	# another abort has nothing to stop
	refused 1 "no migration" abort m1
}
vm_step "svmctl abort m1 mid-copy" 180 abort_one 0
vm_step "svmctl abort m1 --keep-dest mid-copy" 180 abort_one 1
vm_step "fio's rounds across both aborts pass" 420 mig_fio_stop abort
after_abort() {
	mig_fio_verify abort "$dev"
	mig_lun_equals "$dev" "$DST"
}
vm_step "m1 still serves its source after the aborts" 300 after_abort

# --- doctor with tcmu-runner stopped ------------------------------------------
vm_tcmu_stop TERM
vm_step "svmctl doctor names what is missing with tcmu-runner stopped" 60 \
	doctor 1 '^\[FAIL\] .*tcmu-runner' '^\[ OK \] kernel module target_core_user'
vm_tcmu_start || fail "tcmu-runner did not start again"
vm_tcmu_alive || fail "tcmu-runner died"
pass "migration under fio: refusals, switchover, SVM log, restart, restoreconfig, abort, doctor"
