#!/bin/bash
# e2e: a live migration survives tcmu-runner being killed (SIGKILL) while
# fio's random 4 KiB crc32c-verified writes run through tcm_loop:
#  - mid-copy, with writes acknowledged to both stores (mirrored) and to
#    the source only: the record holds the checkpoint; after the restart
#    the migration resumes from it (status "resumed": true), switches over,
#    and fio's rounds and a final --verify_only pass: not one acknowledged
#    write is lost; the LUN equals the destination file; svmctl migrate
#    --wait follows it through the kill and the restart and exits 0;
#  - at the switchover itself, between the flip and the commit (the
#    handler's SVM_FAULT_COMMIT_DELAY_MS holds it there): the record says
#    switched while LIO's dev_config still names the source; after the
#    restart the LUN opens the destination, the commit finishes (dev_config
#    names the destination, the source is deleted), and fio verifies.
# shellcheck disable=SC2317
set -euo pipefail
. "$(dirname "$0")/../vm/lib.sh"
. "$(dirname "$0")/migrate-lib.sh"
vm_require targetcli tcmu-runner fio losetup mkfs.ext4 cmp truncate

# The switchover waits 10 s between the flip and the dev_config commit, in
# every migration of this test (a window to kill the runner in).
export SVM_FAULT_COMMIT_DELAY_MS=10000
mig_setup
mig_dst_ext4

record() { # SOURCE: the migration record's header, the newer of its two slots
	local f a b
	f=$SVM_STATE_DIR/migrations/$(sed 's|%|%25|g; s|/|%2F|g' <<<"$1")
	[ -f "$f" ] || { echo "no migration record $f" >&2; return 1; }
	a=$(head -c 2048 "$f" | tr -d '\0')
	b=$(tail -c +2049 "$f" | head -c 2048 | tr -d '\0')
	if [ "$(sed -n 's/^seq=//p' <<<"$a")" -gt "$(sed -n 's/^seq=//p' <<<"$b")" ]; then
		echo "$a"
	else
		echo "$b"
	fi
}

back_up() { # LUN: tcmu-runner answers for LUN again (it reopened it)
	vm_wait_for 120 "$1 to open again" mig_json "$1" || return 1
}

# --- 1. SIGKILL mid-copy -----------------------------------------------------------
SRC1=$MIG_DIR/c1.img DST1=/mnt/svm-dst/c1.img
dev1=$(mig_lun c1 64 56) || fail "could not create LUN c1"
mig_fio_start c1 "$dev1"
vm_step "fio writes to c1" 150 mig_fio_wait_writing c1 "$dev1" 200

# svmctl migrate --wait follows it all, through the kill and the restart
# (its polls go unanswered meanwhile, and are retried for --timeout seconds).
"$SVMCTL" migrate c1 --to "$DST1" --rate 2 --wait --interval 0.5 --timeout 180 \
	>"$MIG_RUN/c1.wait.out" 2>&1 </dev/null &
MIG_WAIT_PID=$!
mid_copy() {
	local st
	vm_wait_for 60 "the migration of c1 to start" mig_wait_phase c1 1 copying
	# past fio's first range (0-4 MiB): writes there go to both stores;
	# the others are still ahead of the copy (or in the chunk it copies)
	st=$(mig_wait_mid_copy c1) || { echo "$st"; return 1; }
	[ "$(jget "$st" bytes_copied)" -le $((48 << 20)) ] || { echo "too late: $st"; return 1; }
	echo "before the kill: $(mig_summary "$st")"
	echo "$st" >"$MIG_RUN/c1.before.json"
}
vm_step "migrate c1 and let the copy pass fio's first ranges" 180 mid_copy
w_before=$(mig_writes "$dev1")
vm_tcmu_stop KILL

killed_mid_copy() {
	local rec w
	rec=$(record "$SRC1")
	echo "$rec" | sed -n '/^phase=/p; /^cursor=/p; /^destination=/p; /^seq=/p'
	grep -q '^phase=copying$' <<<"$rec"
	[ "$(sed -n 's/^cursor=//p' <<<"$rec")" -gt 0 ]
	[ "$(sed -n 's/^cursor=//p' <<<"$rec")" -lt $((64 << 20)) ]
	# fio's writes are stuck in the ring, none completes without the runner
	w=$(mig_writes "$dev1")
	sleep 2
	[ "$(mig_writes "$dev1")" -eq "$w" ]
	echo "$((w - w_before)) writes completed after the kill (in flight); none since"
	[ -e "$SRC1" ]
	[ -e "$DST1" ]
}
vm_step "after SIGKILL: the record holds a checkpoint, fio waits" 60 killed_mid_copy
vm_tcmu_start || fail "tcmu-runner did not start again"

resumed() {
	local st
	back_up c1
	st=$(mig_json c1)
	echo "after the restart: $(mig_summary "$st")"
	[ "$(jget "$st" resumed)" = true ]
	grep -E "c1: migration to $DST1 resumed at [0-9]+ of 67108864 bytes" "$SVM_TCMU_LOG"
	mig_wait_resumed_done c1 "$DST1"
}
vm_step "c1's migration resumes after the restart and switches over" 420 resumed
rc=0
wait "$MIG_WAIT_PID" || rc=$?
vm_log "svmctl migrate --wait: exit $rc: $(cat "$MIG_RUN/c1.wait.out")"
[ $rc -eq 0 ] || fail "svmctl migrate --wait exited $rc across the kill"
grep -q "c1: migration done: the LUN now serves $DST1" "$MIG_RUN/c1.wait.out" ||
	fail "svmctl migrate --wait did not report the switchover"
vm_step "fio's rounds on c1 pass" 420 mig_fio_stop c1
vm_step "fio --verify_only on c1" 300 mig_fio_verify c1 "$dev1"

data_of() { # NAME DEV SRC DST: the LUN is DST's bytes, the prefill outside fio, the source gone
	mig_lun_equals "$2" "$4"
	mig_check_outside "$4" "$MIG_RUN/$1.orig" 64
	[ ! -e "$3" ] || { echo "the source $3 is still there"; return 1; }
	[ "$(mig_dev_config "$1")" = "svm/$4" ] || { echo "dev_config: $(mig_dev_config "$1")"; return 1; }
	[ -z "$(ls -A "$SVM_STATE_DIR/migrations")" ] || { echo "records left: $(ls "$SVM_STATE_DIR/migrations")"; return 1; }
	echo "source deleted, dev_config names $4, no record left"
}
vm_step "c1's data after the resumed migration" 300 data_of c1 "$dev1" "$SRC1" "$DST1"

# --- 2. SIGKILL between the flip and the commit ---------------------------------------
SRC2=$MIG_DIR/c2.img DST2=/mnt/svm-dst/c2.img
dev2=$(mig_lun c2 64 56) || fail "could not create LUN c2"
mig_fio_start c2 "$dev2"
vm_step "fio writes to c2" 150 mig_fio_wait_writing c2 "$dev2" 200

at_switchover() {
	# The SVM log, not the runner's: the handler writes its lines at once,
	# the runner's log thread may lag by seconds on a loaded host.
	local deadline=$((SECONDS + 180)) n0
	n0=$(grep -c "Switched over device" <<<"$(svmlog_lines)") || true
	"$SVMCTL" migrate c2 --to "$DST2" --rate 16
	until [ "$(grep -c "Switched over device" <<<"$(svmlog_lines)")" -gt "$n0" ]; do
		[ "$SECONDS" -lt "$deadline" ] || { echo "no switchover: $(mig_json c2)"; return 1; }
		sleep 0.2
	done
}
vm_step "migrate c2 up to the switchover" 240 at_switchover
vm_tcmu_stop KILL

killed_at_switchover() {
	local rec
	grep -E "${MIG_LOG_RE}Switched over device [0-9a-f]+-[0-9a-f]+-svmmirror" \
		<(svmlog_lines) | tail -n1
	rec=$(record "$SRC2")
	echo "$rec" | sed -n '/^phase=/p; /^cursor=/p; /^seq=/p'
	grep -q '^phase=switched$' <<<"$rec"
	# the commit never happened: LIO still names the source, which is still there
	[ "$(mig_dev_config c2)" = "svm/$SRC2" ] || { echo "dev_config: $(mig_dev_config c2)"; return 1; }
	[ -e "$SRC2" ]
	[ -e "$DST2" ]
	echo "killed between the flip and the commit: record switched, dev_config still svm/$SRC2"
}
vm_step "after SIGKILL at the switchover" 60 killed_at_switchover
vm_tcmu_start || fail "tcmu-runner did not start again"

finished() {
	back_up c2
	grep -E "svm/c2: .*$DST2" "$SVM_TCMU_LOG" | tail -n 3
	mig_wait_resumed_done c2 "$DST2"
	grep -q "finishing the switchover to $DST2 that a restart interrupted" "$SVM_TCMU_LOG"
}
vm_step "c2 opens the destination and finishes the commit" 240 finished
vm_step "fio's rounds on c2 pass" 420 mig_fio_stop c2
vm_step "fio --verify_only on c2" 300 mig_fio_verify c2 "$dev2"
vm_step "c2's data after the finished switchover" 300 data_of c2 "$dev2" "$SRC2" "$DST2"

vm_tcmu_alive || fail "tcmu-runner died"
pass "SIGKILL mid-copy (resumed) and at the switchover (finished): nothing lost"
