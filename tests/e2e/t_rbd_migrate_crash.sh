#!/bin/bash
# e2e: tcmu-runner killed in the middle of a migration into Ceph RBD, on
# the rig's single-node cluster (tests/vm/ceph.sh), while fio's random
# 4 KiB crc32c-verified writes run through tcm_loop:
#  (d) tcmu-runner killed (SIGKILL) mid-copy, file -> RBD: the record holds
#      a checkpoint; after the restart the migration resumes (status
#      "resumed"), opening the image it created without creating it again
#      and taking its exclusive lock back from the dead client; it switches
#      over; fio's rounds and --verify_only pass; the LUN equals the image;
#      dev_config names rbd/...;conf=...; the source file is gone.
# Skips (77) without Debian's ceph packages.
# shellcheck disable=SC2317
set -euo pipefail
. "$(dirname "$0")/../vm/lib.sh"
. "$(dirname "$0")/../vm/ceph.sh"
. "$(dirname "$0")/migrate-lib.sh"
. "$(dirname "$0")/rbd-migrate-lib.sh"
vm_require targetcli tcmu-runner fio cmp truncate rbd rados
rbdmig_setup svm

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

vm_step "dmesg" 30 rbdmig_dmesg_check
vm_tcmu_alive || fail "tcmu-runner died"
pass "kill -9 mid-copy into RBD: the migration resumes, takes the image's lock back, switches over; nothing lost"
