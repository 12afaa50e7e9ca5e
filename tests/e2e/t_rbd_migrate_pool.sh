#!/bin/bash
# e2e: live migration from RBD pool to pool, and from a block device into
# RBD (issue 9, items 3 and 5), on the rig's single-node cluster
# (tests/vm/ceph.sh), each while fio's random 4 KiB crc32c-verified writes
# run through tcm_loop (migrate-lib.sh's rounds):
#  (c) RBD pool svm -> pool svm2 (image to image): the source image was
#      imported sparse, the pass skips its unallocated ranges
#      (bytes_skipped); fio's rounds and --verify_only pass; the LUN equals
#      `rbd export` of the new image, which outside fio's ranges is the
#      prefill; dev_config is svm/rbd/svm2/d;conf=...; the source image is
#      removed (rbd ls);
#  (g) a block device (a loop device) -> RBD: the LUN equals the image
#      after the switchover; the device is kept (only files and images are
#      deleted); dev_config names the image;
#  (h) that image -> another block device (RBD -> block device): the LUN
#      equals the device after the switchover, dev_config names the
#      device, and the source image is removed.
# Skips (77) without Debian's ceph packages.
# shellcheck disable=SC2317
set -euo pipefail
. "$(dirname "$0")/../vm/lib.sh"
. "$(dirname "$0")/../vm/ceph.sh"
. "$(dirname "$0")/migrate-lib.sh"
. "$(dirname "$0")/rbd-migrate-lib.sh"
vm_require targetcli tcmu-runner fio cmp truncate losetup rbd rados
rbdmig_setup svm svm2

# --- (c) pool -> pool ------------------------------------------------------------------
dev_d=$(rbdmig_lun d svm 64 24) || fail "could not create LUN d on rbd/svm/d"
mig_fio_start d "$dev_d"
vm_step "fio writes to d" 150 mig_fio_wait_writing d "$dev_d" 100
migrate_d() {
	local st
	st=$(rbdmig_migrate_done d rbd/svm2/d 4 400)
	[ "$(jget "$st" bytes_skipped)" -ge $((16 << 20)) ] ||
		{ echo "the pass skipped too little of the RBD source"; return 1; }
}
vm_step "(c) svmctl migrate d (rbd/svm/d) --to rbd/svm2/d" 420 migrate_d
vm_step "(c) fio's rounds on d pass" 420 mig_fio_stop d
vm_step "(c) fio --verify_only on d" 300 mig_fio_verify d "$dev_d"
data_d() {
	rbdmig_export svm2/d "$MIG_RUN/d.export"
	mig_lun_equals "$dev_d" "$MIG_RUN/d.export"
	mig_check_outside "$MIG_RUN/d.export" "$MIG_RUN/d.orig" 64
	[ "$(mig_dev_config d)" = "svm/rbd/svm2/d;conf=$SVM_CEPH_CONF" ] ||
		{ echo "dev_config: $(mig_dev_config d)"; return 1; }
	! grep -qx d <<<"$(rbdmig_images svm)" || { echo "rbd/svm/d was not removed"; return 1; }
	echo "image rbd/svm/d removed, dev_config $(mig_dev_config d)"
}
vm_step "(c) the LUN is rbd/svm2/d; rbd/svm/d is gone" 300 data_d

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

# --- (h) RBD -> a block device ---------------------------------------------------------
truncate -s 64M "$MIG_DIR/h.img"
LOOP_H=$(losetup -f --show "$MIG_DIR/h.img") || fail "no loop device"
cp "$MIG_RUN/g.export" "$MIG_RUN/h.orig"
mig_fio_start h "$dev_g"
vm_step "fio writes to g again" 150 mig_fio_wait_writing h "$dev_g" 100
vm_step "(h) svmctl migrate g (rbd/svm/g) --to $LOOP_H" 420 rbdmig_migrate_done g "$LOOP_H" 4 400
vm_step "(h) fio's rounds on g pass" 420 mig_fio_stop h
vm_step "(h) fio --verify_only on g" 300 mig_fio_verify h "$dev_g"
data_h() {
	dd if="$LOOP_H" of="$MIG_RUN/h.dev" bs=1M iflag=direct status=none
	mig_lun_equals "$dev_g" "$MIG_RUN/h.dev"
	mig_check_outside "$MIG_RUN/h.dev" "$MIG_RUN/h.orig" 64
	[ "$(mig_dev_config g)" = "svm/$LOOP_H;conf=$SVM_CEPH_CONF" ] ||
		{ echo "dev_config: $(mig_dev_config g)"; return 1; }
	! grep -qx g <<<"$(rbdmig_images svm)" || { echo "rbd/svm/g was not removed"; return 1; }
	echo "g is $LOOP_H; rbd/svm/g removed; dev_config $(mig_dev_config g)"
}
vm_step "(h) g is the block device; the image is gone" 300 data_h

vm_step "dmesg" 30 rbdmig_dmesg_check
vm_tcmu_alive || fail "tcmu-runner died"
pass "RBD pool -> pool, block device -> RBD and RBD -> block device under fio verify"
