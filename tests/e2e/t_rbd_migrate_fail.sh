#!/bin/bash
# e2e: migrations into Ceph RBD that meet trouble, and a block device
# source, on the rig's single-node cluster (tests/vm/ceph.sh), each while
# fio's random 4 KiB crc32c-verified writes run through tcm_loop:
#  (d) tcmu-runner killed (SIGKILL) mid-copy, file -> RBD: the record holds
#      a checkpoint; after the restart the migration resumes (status
#      "resumed"), opening the image it created without creating it again
#      and taking its exclusive lock back from the dead client; it switches
#      over; fio's rounds and --verify_only pass; the LUN equals the image;
#      dev_config names rbd/...;conf=...; the source file is gone;
#  (g) a block device (a loop device) -> RBD: the LUN equals the image
#      after the switchover; the device is kept (only files and images are
#      deleted);
#  (e) the OSD stopped (SIGSTOP) mid-copy, file -> RBD: the destination's
#      I/O times out (rados_osd_op_timeout), the mirror breaks, the
#      migration fails naming the destination, the LUN stays on its source
#      file, fio's rounds and --verify_only pass: nothing lost; then the OSD
#      goes on (SIGCONT).
# Skips (77) without Debian's ceph packages.
# shellcheck disable=SC2317
set -euo pipefail
. "$(dirname "$0")/../vm/lib.sh"
. "$(dirname "$0")/../vm/ceph.sh"
. "$(dirname "$0")/migrate-lib.sh"
. "$(dirname "$0")/rbd-migrate-lib.sh"
vm_require targetcli tcmu-runner fio cmp truncate losetup rbd rados
rbdmig_setup svm

osd_pid() { local p; read -r p <"$(_ceph_pidfile osd.0)"; echo "$p"; }
OSD_STOPPED=
mig_teardown() { # (mig_on_exit) never leave the OSD stopped: ceph_stop would wait on it
	[ -z "$OSD_STOPPED" ] || kill -CONT "$OSD_STOPPED" 2>/dev/null || true
}

# --- (d) SIGKILL mid-copy, file -> RBD ----------------------------------------------
SRC_K=$MIG_DIR/k.img
dev_k=$(mig_lun k 64 24 ";conf=$SVM_CEPH_CONF") || fail "could not create LUN k"
mig_fio_start k "$dev_k"
vm_step "fio writes to k" 150 mig_fio_wait_writing k "$dev_k" 100
mid_copy_k() {
	local st
	"$SVMCTL" migrate k --to rbd/svm/k --rate 1
	vm_wait_for 60 "k's migration to copy" mig_wait_phase k 1 copying
	st=$(mig_wait_mid_copy k) || { echo "$st"; return 1; }
	echo "before the kill: $(mig_summary "$st")"
}
vm_step "(d) migrate k to rbd/svm/k, past fio's first range" 240 mid_copy_k
vm_tcmu_stop KILL
vm_tcmu_start || fail "tcmu-runner did not start again"
resumed_k() {
	vm_wait_for 240 "k to open again" mig_json k
	mig_wait_resumed_done k rbd/svm/k
	grep -E "k: migration to rbd/svm/k resumed at [0-9]+ of 67108864 bytes" "$SVM_TCMU_LOG"
	# opened, never created again
	[ "$(grep -c "RBD image rbd/svm/k created" "$SVM_TCMU_LOG")" -eq 1 ] ||
		{ echo "the image was created more than once"; return 1; }
}
vm_step "(d) k's migration resumes after the restart and switches over" 420 resumed_k
vm_step "(d) fio's rounds on k pass" 420 mig_fio_stop k
vm_step "(d) fio --verify_only on k" 300 mig_fio_verify k "$dev_k"
data_k() {
	rbdmig_export svm/k "$MIG_RUN/k.export"
	mig_lun_equals "$dev_k" "$MIG_RUN/k.export"
	mig_check_outside "$MIG_RUN/k.export" "$MIG_RUN/k.orig" 64
	[ ! -e "$SRC_K" ] || { echo "the source $SRC_K is still there"; return 1; }
	[ "$(mig_dev_config k)" = "svm/rbd/svm/k;conf=$SVM_CEPH_CONF" ] ||
		{ echo "dev_config: $(mig_dev_config k)"; return 1; }
	echo "source deleted, dev_config $(mig_dev_config k)"
}
vm_step "(d) k is the image; the file is gone" 300 data_k

# --- (g) a block device -> RBD -------------------------------------------------------
mig_prefill "$MIG_DIR/g.img" 64 24
cp "$MIG_DIR/g.img" "$MIG_RUN/g.orig"
LOOP_G=$(losetup -f --show "$MIG_DIR/g.img") || fail "no loop device"
vm_tcli "/backstores/user:svm create name=g size=64M cfgstring=$LOOP_G;conf=$SVM_CEPH_CONF" \
	"/backstores/user:svm/g set attribute cmd_time_out=120" >&2 || fail "could not create LUN g"
dev_g=$(vm_loop_lun /backstores/user:svm/g) || fail "no disk for g"
echo 180 >"/sys/block/${dev_g#/dev/}/device/timeout"
mig_fio_start g "$dev_g"
vm_step "fio writes to g" 150 mig_fio_wait_writing g "$dev_g" 100
vm_step "(g) svmctl migrate g ($LOOP_G) --to rbd/svm/g" 420 rbdmig_migrate_done g rbd/svm/g 4 400
vm_step "(g) fio's rounds on g pass" 420 mig_fio_stop g
vm_step "(g) fio --verify_only on g" 300 mig_fio_verify g "$dev_g"
data_g() {
	rbdmig_export svm/g "$MIG_RUN/g.export"
	mig_lun_equals "$dev_g" "$MIG_RUN/g.export"
	mig_check_outside "$MIG_RUN/g.export" "$MIG_RUN/g.orig" 64
	[ -b "$LOOP_G" ] || { echo "$LOOP_G went away"; return 1; }
	[ "$(mig_dev_config g)" = "svm/rbd/svm/g;conf=$SVM_CEPH_CONF" ] ||
		{ echo "dev_config: $(mig_dev_config g)"; return 1; }
	echo "g is rbd/svm/g; $LOOP_G kept; dev_config $(mig_dev_config g)"
}
vm_step "(g) g is the image" 300 data_g

# --- (e) the OSD stopped mid-copy ------------------------------------------------------
SRC_E=$MIG_DIR/e.img
dev_e=$(mig_lun e 64 24 ";conf=$SVM_CEPH_CONF") || fail "could not create LUN e"
mig_fio_start e "$dev_e"
vm_step "fio writes to e" 150 mig_fio_wait_writing e "$dev_e" 100
mid_copy_e() {
	local st
	"$SVMCTL" migrate e --to rbd/svm/e --rate 1
	vm_wait_for 60 "e's migration to copy" mig_wait_phase e 1 copying
	st=$(mig_wait_mid_copy e) || { echo "$st"; return 1; }
	echo "before the OSD stops: $(mig_summary "$st")"
}
vm_step "(e) migrate e to rbd/svm/e, past fio's first range" 240 mid_copy_e
OSD_STOPPED=$(osd_pid)
kill -STOP "$OSD_STOPPED"
vm_log "osd.0 (pid $OSD_STOPPED) stopped (SIGSTOP)"
failed_e() {
	local st
	st=$(mig_wait_phase e 400 failed "done" aborted)
	echo "e: $(mig_summary "$st")"
	[ "$(jget "$st" phase)" = failed ]
	[ "$(jget "$st" source)" = "$SRC_E" ]
	grep -q "destination" <<<"$(jget "$st" error)" || { echo "error: $(jget "$st" error)"; return 1; }
	grep -E "${MIG_LOG_RE}Migration failed on device .*" <<<"$(svmlog_lines)" | tail -n 1
}
vm_step "(e) the migration fails; e stays on its source" 460 failed_e
kill -CONT "$OSD_STOPPED"
vm_log "osd.0 (pid $OSD_STOPPED) continued (SIGCONT)"
OSD_STOPPED=
vm_step "(e) fio's rounds on e pass" 420 mig_fio_stop e
vm_step "(e) fio --verify_only on e" 300 mig_fio_verify e "$dev_e"
data_e() {
	mig_lun_equals "$dev_e" "$SRC_E"
	mig_check_outside "$SRC_E" "$MIG_RUN/e.orig" 64
	[ "$(mig_dev_config e)" = "svm/$SRC_E;conf=$SVM_CEPH_CONF" ] ||
		{ echo "dev_config: $(mig_dev_config e)"; return 1; }
	[ -z "$(ls -A "$SVM_STATE_DIR/migrations")" ] ||
		{ echo "records left: $(ls "$SVM_STATE_DIR/migrations")"; return 1; }
	echo "e serves $SRC_E, as written; no record left"
}
vm_step "(e) e's data is on its source, as fio wrote it" 300 data_e

vm_step "dmesg" 30 rbdmig_dmesg_check
vm_tcmu_alive || fail "tcmu-runner died"
pass "kill -9 mid-copy into RBD resumes; block device -> RBD; an OSD stopped mid-copy fails the migration, nothing lost"
