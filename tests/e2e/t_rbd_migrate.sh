#!/bin/bash
# e2e: live migration between a file and Ceph RBD, and between two pools
# (issue 9, items 3 and 5), on the rig's single-node cluster
# (tests/vm/ceph.sh), each while fio's random 4 KiB crc32c-verified writes
# run through tcm_loop (migrate-lib.sh's rounds):
#  (a) file -> RBD (svmctl migrate --to rbd/svm/a, the file LUN's cfgstring
#      naming the cluster with conf=): the handler creates the image; the
#      LUN switches over; fio's rounds and --verify_only pass; the LUN
#      equals `rbd export` of the image, which outside fio's ranges is the
#      prefill; dev_config is svm/rbd/svm/a;conf=... (conf= kept); the
#      source file is deleted; the SVM log has the device's life and
#      "Mover: bounce" (the store-API copy);
#  (f) during (a)'s copy the destination is held with RBD's exclusive
#      lock: a second LUN's svmctl migrate --to the same image is refused
#      busy, naming the lock's owner, and another client's write (rbd bench)
#      is refused;
#  (b) RBD -> file: the image was imported sparse: the pass skips its
#      unallocated ranges (bytes_skipped), the image is removed after the
#      switchover (rbd ls), dev_config names the file;
# Pool to pool and a block device to RBD: t_rbd_migrate_pool.sh; a crash
# and a stopped OSD: t_rbd_migrate_fail.sh.
# Skips (77) without Debian's ceph packages.
# shellcheck disable=SC2317
set -euo pipefail
. "$(dirname "$0")/../vm/lib.sh"
. "$(dirname "$0")/../vm/ceph.sh"
. "$(dirname "$0")/migrate-lib.sh"
. "$(dirname "$0")/rbd-migrate-lib.sh"
vm_require targetcli tcmu-runner fio cmp truncate rbd rados
rbdmig_setup svm

# --- (a) file -> RBD, and (f) the locked destination ---------------------------------
SRC_A=$MIG_DIR/a.img
dev_a=$(mig_lun a 64 24 ";conf=$SVM_CEPH_CONF") || fail "could not create LUN a"
dev_b=$(mig_lun b 64 4 ";conf=$SVM_CEPH_CONF") || fail "could not create LUN b"
mig_fio_start a "$dev_a"
vm_step "fio writes to a" 150 mig_fio_wait_writing a "$dev_a" 100

start_a() {
	"$SVMCTL" migrate a --to rbd/svm/a --rate 1
	vm_wait_for 60 "a's migration to copy" mig_wait_phase a 1 copying
	grep -E "RBD image rbd/svm/a created" "$SVM_TCMU_LOG" | tail -n 1
}
vm_step "(a) svmctl migrate a --to rbd/svm/a" 120 start_a

second_opener() {
	local out rc=0 st
	out=$("$SVMCTL" migrate b --to rbd/svm/a 2>&1) || rc=$?
	echo "svmctl migrate b --to rbd/svm/a: exit $rc: $out"
	[ "$rc" -ne 0 ] || { echo "a second migration into a locked image started"; return 1; }
	grep -q "is in use: another client holds its exclusive lock" <<<"$out"
	grep -q "lock owner " <<<"$out"
	st=$(mig_json b)
	[ "$(jget "$st" phase)" = idle ] || { echo "b: $st"; return 1; }
	[ "$(jget "$(mig_json a)" phase)" = copying ] ||
		{ echo "a is no longer copying: the check came too late"; return 1; }
	rc=0
	out=$(timeout 120 rbd bench --io-type write --io-size 4096 --io-threads 1 \
		--io-total 4096 --io-pattern seq svm/a 2>&1) || rc=$?
	echo "rbd bench --io-type write svm/a: exit $rc: $(tail -n 3 <<<"$out")"
	[ "$rc" -ne 0 ] || { echo "another client wrote to the locked destination"; return 1; }
	echo "the destination held: a second svm migration and an rbd client's write refused"
}
vm_step "(f) a second opener of the locked destination gets busy" 240 second_opener

done_a() {
	local st
	st=$(mig_wait_phase a 400 "done" failed aborted)
	echo "a: $(mig_summary "$st")"
	[ "$(jget "$st" phase)" = "done" ]
	[ "$(jget "$st" source)" = rbd/svm/a ]
}
vm_step "(a) a switches over to rbd/svm/a" 420 done_a
vm_step "(a) fio's rounds on a pass" 420 mig_fio_stop a
vm_step "(a) fio --verify_only on a" 300 mig_fio_verify a "$dev_a"

data_a() {
	rbdmig_export svm/a "$MIG_RUN/a.export"
	mig_lun_equals "$dev_a" "$MIG_RUN/a.export"
	mig_check_outside "$MIG_RUN/a.export" "$MIG_RUN/a.orig" 64
	[ ! -e "$SRC_A" ] || { echo "the source $SRC_A is still there"; return 1; }
	[ "$(mig_dev_config a)" = "svm/rbd/svm/a;conf=$SVM_CEPH_CONF" ] ||
		{ echo "dev_config: $(mig_dev_config a)"; return 1; }
	[ -z "$(ls -A "$SVM_STATE_DIR/migrations")" ] ||
		{ echo "records left: $(ls "$SVM_STATE_DIR/migrations")"; return 1; }
	echo "source file deleted, dev_config $(mig_dev_config a), no record left"
}
vm_step "(a) the LUN is the image; the file is gone" 300 data_a

svmlog_a() {
	local lines
	lines=$(svmlog_lines)
	grep -E "${MIG_LOG_RE}Created device [0-9a-f]+-[0-9a-f]+-svmmirror" <<<"$lines" | head -n 1
	grep -E "${MIG_LOG_RE}Device .* is $SRC_A, secondary [0-9a-f]+ is rbd/svm/a" <<<"$lines"
	grep -E "${MIG_LOG_RE}Switched over device .*I/O paused" <<<"$lines" | head -n 1
	grep -E "${MIG_LOG_RE}Source [0-9a-f]+ of device .* deleted: $SRC_A" <<<"$lines"
	grep -E "${MIG_LOG_RE}Bytes copied: [1-9][0-9]*, Bytes skipped: [0-9]+, Mover: bounce" \
		<<<"$lines" | head -n 1
}
vm_step "(a) the SVM log tells the device's life" 60 svmlog_a

# --- (b) RBD -> file ---------------------------------------------------------------
dev_c=$(rbdmig_lun c svm 64 24) || fail "could not create LUN c on rbd/svm/c"
mig_fio_start c "$dev_c"
vm_step "fio writes to c" 150 mig_fio_wait_writing c "$dev_c" 100
migrate_c() {
	local st
	st=$(rbdmig_migrate_done c "$MIG_DIR/c-dst.img" 4 400)
	echo "c: $(mig_summary "$st")"
	# the image was imported sparse: 24 MiB of data, fio's 4 ranges of 2 MiB
	[ "$(jget "$st" bytes_skipped)" -ge $((16 << 20)) ] ||
		{ echo "the pass skipped too little of the RBD source"; return 1; }
}
vm_step "(b) svmctl migrate c (rbd/svm/c) --to a file" 420 migrate_c
vm_step "(b) fio's rounds on c pass" 420 mig_fio_stop c
vm_step "(b) fio --verify_only on c" 300 mig_fio_verify c "$dev_c"
data_c() {
	mig_lun_equals "$dev_c" "$MIG_DIR/c-dst.img"
	mig_check_outside "$MIG_DIR/c-dst.img" "$MIG_RUN/c.orig" 64
	[ "$(mig_dev_config c)" = "svm/$MIG_DIR/c-dst.img;conf=$SVM_CEPH_CONF" ] ||
		{ echo "dev_config: $(mig_dev_config c)"; return 1; }
	! grep -qx c <<<"$(rbdmig_images svm)" || { echo "rbd/svm/c was not removed"; return 1; }
	grep -qE "${MIG_LOG_RE}Source [0-9a-f]+ of device .* deleted: rbd/svm/c" <<<"$(svmlog_lines)"
	echo "image rbd/svm/c removed, dev_config $(mig_dev_config c)"
}
vm_step "(b) the LUN is the file; the image is gone" 300 data_c

vm_step "dmesg" 30 rbdmig_dmesg_check
vm_tcmu_alive || fail "tcmu-runner died"
pass "file -> RBD, RBD -> file under fio verify; a locked destination refuses a second opener"
