#!/bin/bash
# e2e: an svm LUN on a Ceph RBD image (issue 9, item 1, first cut: no
# migration). On the rig's throw-away single-node cluster (tests/vm/ceph.sh):
#  - targetcli creates user:svm with cfgstring rbd/svm/lun0;conf=... and
#    hw_max_sectors=2048; tcm_loop exposes it;
#  - fio 4 KiB random writes with crc32c verify over 32 MiB, and 1 MiB
#    sequential writes with verify;
#  - the first 4 MiB of the LUN equal the image's first RADOS object: the
#    data went to the cluster through librbd;
#  - UNMAP (sg_unmap) of a written range reads back zeroes, and the image
#    gives the space back (rbd du);
#  - an UNMAP of 5 blocks (no 64 KiB granule whole) reads back zeroes;
#  - GET LBA STATUS (rbd_diff_iterate2): unmapped deallocated, data mapped;
#  - SYNCHRONIZE CACHE (sg_sync) succeeds;
#  - EXTENDED COPY is not offered (INQUIRY 3PC clear) on RBD yet, and
#    svmctl migrate with a pinned kernel datamover is refused (it copies
#    between two files; migrations to and from RBD: t_rbd_migrate*.sh);
#  - deleting the backstore closes the image (`rbd rm` finds no watcher);
#  - tcmu-runner maps librbd and librados once it has loaded the handler
#    (handler_svm.so links them, as the issue and Debian's handler_rbd.so do);
#  - a cluster that cannot be reached at open (a conf naming a port nobody
#    listens on) makes the create fail with the handler's reason within a
#    bounded time, and tcmu-runner lives on.
# Skips (77) without Debian's ceph packages.
# shellcheck disable=SC2317
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../vm/lib.sh
. "$(dirname "$0")/../vm/lib.sh"
# shellcheck source-path=SCRIPTDIR source=../vm/ceph.sh
. "$(dirname "$0")/../vm/ceph.sh"
vm_require targetcli tcmu-runner fio dd cmp sg_unmap sg_sync sg_inq sg_vpd sg_readcap \
	sg_get_lba_status blockdev rbd rados
ceph_require
trap ceph_cleanup EXIT
vm_on_fail() {
	vm_dump_state
	ceph_dump_state
}

POOL=svm
IMAGE=lun0

vm_start_services || fail "services did not start"
# The handler links librbd/librados: the runner that loaded it maps them, RBD LUN or not.
for lib in librbd.so.1 librados.so.2; do
	grep -q "/$lib" "/proc/$SVM_TCMU_PID/maps" ||
		fail "tcmu-runner does not map $lib although it loaded handler_svm.so, which links it"
done
vm_log "tcmu-runner (pid $SVM_TCMU_PID) maps librbd.so.1 and librados.so.2 (linked by the handler)"
ceph_start || fail "the Ceph cluster did not start"

usable_image() {
	ceph_pool_create "$POOL"
	timeout "$SVM_CEPH_TIMEOUT" rbd create --size 1G "$POOL/$IMAGE"
	vm_log "ceph: 1 GiB image $POOL/$IMAGE created $(_ceph_since) ms after ceph_start"
}
vm_step "pool $POOL and a 1 GiB image" 300 usable_image

ceph_svm_lun r0 1G "$POOL/$IMAGE" hw_max_sectors=2048
dev=$LUN_DEV sg=$LUN_SG
grep "RBD store rbd/$POOL/$IMAGE opened\|LUN open on rbd/$POOL/$IMAGE" "$SVM_TCMU_LOG" >&2 ||
	vm_log "note: no open line for rbd/$POOL/$IMAGE in the runner's log (log level?)"

fio_rand() {
	fio --name=rand --filename="$dev" --direct=1 --ioengine=libaio --iodepth=16 \
		--rw=randwrite --bs=4k --size=32M --verify=crc32c --verify_fatal=1 \
		--do_verify=1 --randrepeat=0 >/tmp/fio-rand.out 2>&1 ||
		{ cat /tmp/fio-rand.out; return 1; }
	grep -E 'err= *0|IOPS=' /tmp/fio-rand.out
	echo "fio wrote 32 MiB in 4 KiB random writes and verified them (crc32c)"
}
vm_step "fio 4 KiB randwrite + crc32c verify on svm/RBD" 600 fio_rand

fio_seq() {
	fio --name=seq --filename="$dev" --direct=1 --ioengine=libaio --iodepth=4 \
		--rw=write --bs=1M --offset=64M --size=64M --verify=crc32c --verify_fatal=1 \
		--do_verify=1 >/tmp/fio-seq.out 2>&1 ||
		{ cat /tmp/fio-seq.out; return 1; }
	grep -E 'err= *0|BW=' /tmp/fio-seq.out
	echo "fio wrote 64 MiB in 1 MiB sequential writes and verified them (crc32c)"
}
vm_step "fio 1 MiB sequential write + verify on svm/RBD" 600 fio_seq

in_rados() {
	local info prefix size
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

unmap_zeroes() {
	local bs lba=$((80 << 11)) n=$((8 << 11)) # 8 MiB at 80 MiB, in 512-byte blocks
	bs=$(blockdev --getss "$dev")
	[ "$bs" = 512 ] || { echo "block size $bs, expected 512"; return 1; }
	sg_vpd --page=lbpv "$sg" | tee /tmp/lbpv.out >&2
	grep -q 'Unmap command supported (LBPU): 1' /tmp/lbpv.out
	sg_readcap --long "$sg" | grep -E 'LBPME=1|lbpme=1' >&2 || sg_readcap --long "$sg" >&2
	dd if="$dev" bs=1M skip=80 count=8 iflag=direct status=none | cmp -s - /dev/zero &&
		{ echo "the range was zero before UNMAP: fio_seq wrote nothing there?"; return 1; }
	sg_unmap --force --lba="$lba" --num="$n" "$sg"
	dd if="$dev" bs=1M skip=80 count=8 iflag=direct status=none | cmp -n $((8 << 20)) - /dev/zero
	echo "UNMAP of 8 MiB at 80 MiB: reads back zeroes"
}
vm_step "UNMAP reads back zeroes" 180 unmap_zeroes

# An UNMAP that covers no 64 KiB granule whole (librbd would skip it by
# default, rbd_skip_partial_discard): 5 blocks at an odd LBA inside data.
unmap_partial() {
	local lba=$(((100 << 11) + 3))
	dd if="$dev" bs=512 skip="$lba" count=5 iflag=direct status=none | cmp -s - /dev/zero &&
		{ echo "the blocks were zero before UNMAP"; return 1; }
	sg_unmap --force --lba="$lba" --num=5 "$sg"
	dd if="$dev" bs=512 skip="$lba" count=5 iflag=direct status=none | cmp -n 2560 - /dev/zero
	dd if="$dev" bs=512 skip=$((lba + 5)) count=1 iflag=direct status=none | cmp -s - /dev/zero &&
		{ echo "the block after the UNMAP was zeroed too"; return 1; }
	echo "UNMAP of 5 blocks at LBA $lba: they read back zeroes, the next block keeps its data"
}
vm_step "a partial-granule UNMAP reads back zeroes (LBPRZ)" 120 unmap_partial

# GET LBA STATUS from rbd_diff_iterate2: the unmapped 8 MiB at 80 MiB is
# deallocated (provisioning status 1) and no more (data follows at 88 MiB:
# fio_seq wrote 64-128 MiB), the data at 64 MiB mapped (0).
# sg_get_lba_status --brief: "<lba_hex> <blocks_hex> <p_status> <add_status>".
lba_desc() { # LBA: the first descriptor's blocks and status, as "BLOCKS STATUS"
	sg_get_lba_status --brief --lba="$1" "$sg" >/tmp/lba.out
	cat /tmp/lba.out >&2
	local lba n st _
	read -r lba n st _ < <(grep '^0x' /tmp/lba.out | head -n 1)
	[ -n "$n" ] || return 1
	echo "$((n)) $st"
}
lba_status() {
	local d
	d=$(lba_desc $((80 << 11)))
	[ "$d" = "$((8 << 11)) 1" ] ||
		{ echo "at 80 MiB: '$d', expected $((8 << 11)) blocks deallocated (1)"; return 1; }
	d=$(lba_desc $((64 << 11)))
	[ "${d#* }" = 0 ] || { echo "at 64 MiB: '$d', expected mapped (0)"; return 1; }
	echo "GET LBA STATUS: 8 MiB deallocated at 80 MiB; 64 MiB mapped ($d)"
}
vm_step "GET LBA STATUS on RBD" 120 lba_status

sync_cache() {
	sg_sync "$sg"
	echo "SYNCHRONIZE CACHE: GOOD"
}
vm_step "SYNCHRONIZE CACHE" 60 sync_cache

no_3pc() {
	sg_inq "$sg" | tee /tmp/inq.out >&2
	grep -q '3PC=0' /tmp/inq.out
	echo "INQUIRY: 3PC=0 (EXTENDED COPY not offered on RBD yet)"
}
vm_step "EXTENDED COPY not offered on RBD" 60 no_3pc

migrate_refused() {
	local svmctl=$SVM_REPO/build/cli/svmctl out rc=0
	# migrations from and to RBD are tests/e2e/t_rbd_migrate*.sh; here only the refusal of a
	# pinned datamover that needs two files
	out=$("$svmctl" migrate r0 --to rbd/$POOL/other --mover kernel 2>&1) || rc=$?
	printf '%s\n' "$out" >&2
	[ "$rc" -ne 0 ] || { echo "svmctl migrate --mover kernel from RBD succeeded"; return 1; }
	grep -q 'copies between two files' <<<"$out"
	vm_tcmu_alive
	echo "svmctl migrate --mover kernel from RBD refused: the kernel datamover needs two files"
}
vm_step "svmctl migrate refuses a pinned kernel mover on RBD" 60 migrate_refused

delete_lun() {
	local disk=${dev#/dev/}
	vm_tcli "/backstores/user:svm delete r0"
	vm_wait_for 30 "$dev to go away" test ! -e "/sys/block/$disk"
	# librbd refuses to remove an image somebody still watches
	timeout 120 rbd rm --no-progress "$POOL/$IMAGE"
	echo "backstore deleted, $dev gone, image removed (the handler had closed it)"
}
vm_step "delete the LUN and the image" 180 delete_lun

unreachable() {
	local out t0 t1 rc=0
	timeout 120 rbd create --size 64M "$POOL/img1"
	# the same cluster's settings, its monitor moved to a port nobody listens on
	sed "s/127\.0\.0\.1:$SVM_CEPH_PORT/127.0.0.1:9/" "$SVM_CEPH_CONF" >/tmp/unreachable.conf
	grep -q '127.0.0.1:9' /tmp/unreachable.conf
	t0=$(date +%s)
	out=$(vm_tcli "/backstores/user:svm create name=r1 size=64M cfgstring=rbd/$POOL/img1;conf=/tmp/unreachable.conf" 2>&1) || rc=$?
	t1=$(date +%s)
	printf '%s\n' "$out" >&2
	[ "$rc" -ne 0 ] || { echo "the create succeeded"; return 1; }
	[ $((t1 - t0)) -le 90 ] || { echo "the refusal took $((t1 - t0)) s"; return 1; }
	vm_tcmu_alive || { echo "tcmu-runner died"; return 1; }
	grep 'cannot connect to the Ceph cluster' "$SVM_TCMU_LOG" | tail -n 1
	grep -q 'cannot connect to the Ceph cluster' "$SVM_TCMU_LOG"
	[ -z "$(ls -d /sys/kernel/config/target/core/user_*/r1 2>/dev/null)" ] ||
		vm_tcli "/backstores/user:svm delete r1" || true
	echo "create refused after $((t1 - t0)) s; tcmu-runner alive"
}
vm_step "cluster unreachable at open: clean refusal" 180 unreachable

vm_tcmu_alive || fail "tcmu-runner died"
ceph_stop || fail "a Ceph daemon had to be killed"
pass "svm LUN on RBD: fio verify, data in RADOS, UNMAP zeroes, SYNCHRONIZE CACHE, clean refusal of an unreachable cluster"
