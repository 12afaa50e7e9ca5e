#!/bin/bash
# e2e: the rig's throw-away Ceph cluster (tests/vm/ceph.sh) carries a LUN.
# Proves the foundation the RBD store tests stand on, without the svm
# handler: a single-node cluster (one mon, one memstore OSD; the mgr too
# with SVM_CEPH_MGR=1) starts in the guest on 127.0.0.1, takes a pool and a
# 1 GiB image, and tcmu-runner's own rbd handler (Debian's handler_rbd.so,
# backstore user:rbd) serves that image through tcm_loop:
#  - fio 4 KiB random writes with crc32c verify through /dev/sdX;
#  - the first 4 MiB of the LUN equal the image's first RADOS object, read
#    with `rados get`: the data is in the cluster;
#  - 4 KiB random writes at queue depth 16 for 20 s: the IOPS are logged
#    (the yardstick for svm's RBD store, issue 9);
#  - deleting the backstore closes the image (`rbd rm` finds no watcher);
#  - ceph_stop stops every daemon without SIGKILL, and no ceph-mon,
#    ceph-osd or ceph-mgr process remains.
# Start, HEALTH_OK (with the mgr), memory and teardown are logged with
# their times; docs/vm-rig.md ("Ceph in the VM") keeps the figures.
# Skips (77) without Debian's ceph-mon, ceph-osd and ceph-common packages
# or without tcmu-runner's rbd handler.
# shellcheck disable=SC2317
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../vm/lib.sh
. "$(dirname "$0")/../vm/lib.sh"
# shellcheck source-path=SCRIPTDIR source=../vm/ceph.sh
. "$(dirname "$0")/../vm/ceph.sh"
vm_require targetcli tcmu-runner fio dd cmp
mgr=
[ "${SVM_CEPH_MGR:-0}" != 1 ] || mgr=--mgr
ceph_require $mgr
rbd_so=$(vm_stock_handler_dir)/handler_rbd.so
vm_require_file "$rbd_so"
trap ceph_cleanup EXIT
vm_on_fail() {
	vm_dump_state
	ceph_dump_state
}

POOL=svm
IMAGE=lun0

# tcmu-runner gets only the stock rbd handler (not handler_svm.so: this
# test is about the rig, and every handler loaded costs time under TCG).
mkdir -p /tmp/handlers-rbd
ln -sf "$rbd_so" /tmp/handlers-rbd/
vm_start_services /tmp/handlers-rbd || fail "services did not start"

ceph_start $mgr || fail "the Ceph cluster did not start"
ceph_mem

usable_image() {
	ceph_pool_create "$POOL"
	timeout "$SVM_CEPH_TIMEOUT" rbd create --size 1G "$POOL/$IMAGE"
	vm_log "ceph: 1 GiB image $POOL/$IMAGE created $(_ceph_since) ms after ceph_start"
}
vm_step "pool $POOL and a 1 GiB image" 300 usable_image
ceph_mem

# (Without a mgr this is the mon's own view: nobody reports on the
# placement groups, but the pool took I/O above.)
vm_step "HEALTH_OK${mgr:+ with an active mgr}" 300 ceph_wait_health_ok 280
ceph_mem

bs=$(vm_user_backstore rbd r0 1G "$POOL/$IMAGE;conf=$SVM_CEPH_CONF") ||
	fail "could not create the user:rbd backstore"
dev=$(vm_loop_lun "$bs") || fail "no disk for $bs"
vm_log "user:rbd LUN $bs on $POOL/$IMAGE is $dev"

fio_verify() {
	fio --name=verify --filename="$dev" --direct=1 --ioengine=libaio --iodepth=16 \
		--rw=randwrite --bs=4k --size=32M --verify=crc32c --verify_fatal=1 \
		--do_verify=1 --randrepeat=0 >/tmp/fio-verify.out 2>&1 ||
		{ cat /tmp/fio-verify.out; return 1; }
	grep -E 'err= *0|IOPS=' /tmp/fio-verify.out
	echo "fio wrote 32 MiB in 4 KiB random writes and verified them (crc32c)"
}
vm_step "fio 4 KiB randwrite + crc32c verify on user:rbd" 400 fio_verify

in_rados() {
	local info prefix size
	# (Not "| tee /dev/stderr": stderr is the test's log file, and tee
	# would open it again with O_TRUNC.)
	info=$(rbd info "$POOL/$IMAGE")
	printf '%s\n' "$info" >&2
	prefix=$(sed -n 's/^[[:space:]]*block_name_prefix: //p' <<<"$info")
	[ -n "$prefix" ] || { echo "no block_name_prefix in rbd info"; return 1; }
	timeout 120 rados -p "$POOL" get "$prefix.0000000000000000" /tmp/obj0
	size=$(stat -c %s /tmp/obj0)
	[ "$size" -gt 0 ]
	dd if="$dev" of=/tmp/lun0-head bs=4M count=1 iflag=direct status=none
	cmp -n "$size" /tmp/obj0 /tmp/lun0-head
	echo "object $prefix.0000000000000000 ($size bytes) equals the LUN's first $size bytes"
}
vm_step "the LUN's data is in RADOS" 180 in_rados
ceph_mem

iops() {
	local v
	fio --name=iops --filename="$dev" --direct=1 --ioengine=libaio --iodepth=16 \
		--rw=randwrite --bs=4k --size=64M --norandommap --randrepeat=0 \
		--runtime=20 --time_based >/tmp/fio-iops.out 2>&1 ||
		{ cat /tmp/fio-iops.out; return 1; }
	v=$(sed -n 's/^ *write: IOPS=\([0-9.k]*\),.*/\1/p' /tmp/fio-iops.out)
	[ -n "$v" ] || { cat /tmp/fio-iops.out; return 1; }
	vm_log "user:rbd through tcm_loop: 4 KiB randwrite, queue depth 16, 20 s: $v IOPS"
	grep -E 'lat \(usec\)|lat \(msec\)|clat percentiles|99.00th' /tmp/fio-iops.out | head -n 4
}
vm_step "4 KiB randwrite qd16 for 20 s on user:rbd" 120 iops
ceph_mem
vm_log "tcmu-runner (librbd client) resident: $(($(_ceph_rss_kib "$SVM_TCMU_PID") / 1024)) MiB"

delete_lun() {
	local disk=${dev#/dev/}
	vm_tcli "/backstores/user:rbd delete r0"
	vm_wait_for 30 "$dev to go away" test ! -e "/sys/block/$disk"
	# librbd refuses to remove an image somebody still watches
	timeout 120 rbd rm --no-progress "$POOL/$IMAGE"
	echo "backstore deleted, $dev gone, image removed (tcmu-runner had closed it)"
}
vm_step "delete the LUN and the image" 180 delete_lun

errors=$(vm_tcmu_log_mine | grep ' \[ERROR\]') && { echo "$errors" >&2; fail "errors in the tcmu-runner log"; }
vm_tcmu_alive || fail "tcmu-runner died"

ceph_stop || fail "a Ceph daemon had to be killed"
left=$(ceph_daemon_pids)
[ -z "$left" ] || fail "ceph processes remain after ceph_stop: $left"
[ ! -e "$SVM_CEPH_DIR" ] || fail "$SVM_CEPH_DIR remains after ceph_stop"
pass "Ceph rig: cluster, user:rbd LUN with fio verify, clean teardown"
