#!/bin/bash
# e2e: a migration into Ceph RBD whose cluster stops answering, on the
# rig's single-node cluster (tests/vm/ceph.sh), while fio's random 4 KiB
# crc32c-verified writes run through tcm_loop:
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
vm_require targetcli tcmu-runner fio cmp truncate rbd rados
rbdmig_setup svm

osd_pid() { local p; read -r p <"$(_ceph_pidfile osd.0)"; echo "$p"; }
OSD_STOPPED=
mig_teardown() { # (mig_on_exit) never leave the OSD stopped: ceph_stop would wait on it
	[ -z "$OSD_STOPPED" ] || kill -CONT "$OSD_STOPPED" 2>/dev/null || true
}

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
# should this script be killed (guest-all's time limit) before it continues
# the OSD, the runner's RBD clients would hang and the next test with them
(sleep 420; kill -CONT "$OSD_STOPPED" 2>/dev/null) </dev/null >/dev/null 2>&1 &
OSD_WATCHDOG=$!
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
kill "$OSD_WATCHDOG" 2>/dev/null || true
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
pass "an OSD stopped mid-copy into RBD fails the migration; the LUN stays on its source, nothing lost"
