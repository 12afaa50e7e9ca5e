#!/bin/bash
# e2e: data integrity under concurrent load (queue depth 2 x 32), many
# commands in flight at the store at once, UNMAP deallocating on a file and
# on a block device, FUA/SYNCHRONIZE CACHE, sense data for bad CDBs, VERIFY
# 11b held to the maximum transfer length, MODE SENSE on a LUN of more than
# 2^24 blocks, and no UNMAP offered on a filesystem without punch-hole — all
# through tcm_loop /dev/sdX.
# shellcheck disable=SC2317
set -euo pipefail
. "$(dirname "$0")/../vm/lib.sh"
vm_require targetcli fio sg_raw sg_unmap sg_sync sg_vpd losetup blkdiscard dmsetup od
trap 'vm_cleanup || :; dmsetup remove svm-slow 2>/dev/null || :; umount /mnt/nopunch 2>/dev/null || :; umount /mnt/svm-dio 2>/dev/null || :; losetup -D || :' EXIT
vm_on_fail() { vm_dump_state; }

vm_start_services || fail "services did not start"
vm_modprobe loop dm_mod dm_delay
mkdir -p /var/lib/svm

# Stores: a file; a block device (loop over a file) for UNMAP; a dm-delay
# device that holds every I/O for 100 ms, to count commands in flight.
# (No udev in the guest: use /dev/dm-N, not the /dev/mapper name.)
truncate -s 64M /var/lib/svm/blk.raw /var/lib/svm/slow.raw
loopb=$(losetup --find --show /var/lib/svm/blk.raw)
loops=$(losetup --find --show /var/lib/svm/slow.raw)
echo "0 $((64 << 11)) delay $loops 0 100" | dmsetup create svm-slow
slow=/dev/$(dmsetup info -c --noheadings -o blkdevname svm-slow | tr -d ' ')
vm_tcli "/backstores/user:svm create name=io0 size=256M cfgstring=/var/lib/svm/io0.img" \
	"/backstores/user:svm create name=blk0 size=64M cfgstring=$loopb" \
	"/backstores/user:svm create name=slow0 size=64M cfgstring=$slow" ||
	fail "could not create the backstores"
d_file=$(vm_loop_lun /backstores/user:svm/io0)
d_blk=$(vm_loop_lun /backstores/user:svm/blk0)
d_slow=$(vm_loop_lun /backstores/user:svm/slow0)
vm_log "file store: $d_file, block store: $d_blk, 100 ms store ($slow): $d_slow"

fio_verify() {
	fio --name=verify --filename="$d_file" --direct=1 --ioengine=libaio --iodepth=32 \
		--numjobs=2 --offset_increment=96M --size=96M --rw=randwrite \
		--bsrange=4k-256k --verify=crc32c --verify_fatal=1 --do_verify=1 \
		--randrepeat=0 --group_reporting >/tmp/fio.out 2>&1 || { cat /tmp/fio.out; return 1; }
	grep -E 'err= *0' /tmp/fio.out | head -n1
	echo "fio wrote and verified 192 MiB with crc32c, queue depth 2x32"
}
vm_step "fio randwrite + crc32c verify, iodepth 32 x 2 jobs" 500 fio_verify

# Large transfers (direct=yes, the default): with 1 MiB commands
# (hw_max_sectors=2048) WRITEs of 256 KiB or more and cache-missing READs of
# 128 KiB or more go O_DIRECT, mixed with buffered small writes on the same
# file. fio verifies every block; the store's close line must show bytes
# moved both ways with O_DIRECT (the guest's root is tmpfs, which takes no
# O_DIRECT on 6.1: the store lives on ext4 over a loop device).
direct_io() {
	local img=/var/lib/svm/dio.raw loopd line rd wr
	truncate -s 160M "$img"
	loopd=$(losetup --find --show "$img")
	mkfs.ext4 -q -F "$loopd"
	mkdir -p /mnt/svm-dio
	mount -t ext4 "$loopd" /mnt/svm-dio
	vm_tcli "/backstores/user:svm create name=dio0 size=128M cfgstring=/mnt/svm-dio/dio0.img hw_max_sectors=2048"
	local d
	d=$(vm_loop_lun /backstores/user:svm/dio0)
	fio --name=seq --filename="$d" --direct=1 --ioengine=libaio --iodepth=8 --rw=write \
		--bs=1M --size=64M --verify=crc32c --verify_fatal=1 --do_verify=1 \
		--output=/tmp/dio1.out || { cat /tmp/dio1.out; return 1; }
	fio --name=mixed --filename="$d" --direct=1 --ioengine=libaio --iodepth=16 --rw=randwrite \
		--bsrange=4k-1M --size=128M --verify=crc32c --verify_fatal=1 --do_verify=1 \
		--randrepeat=0 --output=/tmp/dio2.out || { cat /tmp/dio2.out; return 1; }
	vm_tcli "/backstores/user:svm delete dio0"
	sleep 1
	line=$(grep -a 'store /mnt/svm-dio/dio0.img closed; O_DIRECT' "$SVM_TCMU_LOG" | tail -n1)
	vm_log "close line: ${line#*svm:0: }"
	rd=$(sed -n 's/.*O_DIRECT: \([0-9]*\) bytes read, \([0-9]*\) written.*/\1/p' <<<"$line")
	wr=$(sed -n 's/.*O_DIRECT: \([0-9]*\) bytes read, \([0-9]*\) written.*/\2/p' <<<"$line")
	[ "${rd:-0}" -gt 0 ] && [ "${wr:-0}" -gt 0 ] ||
		{ vm_log "expected bytes read and written with O_DIRECT, got read=${rd:-?} written=${wr:-?}"; return 1; }
	umount /mnt/svm-dio
	losetup -d "$loopd"
	echo "fio verified 64 MiB of 1 MiB writes and 128 MiB of 4 KiB-1 MiB random writes; O_DIRECT: $rd bytes read, $wr written"
}
vm_step "large transfers go O_DIRECT, verified by fio" 600 direct_io


# Concurrency: every write to the slow store is FUA (fio --sync=1 makes the
# initiator set it, and the handler writes it through with RWF_DSYNC), so
# each one waits 100 ms for the device. One command at a time could finish
# at most 10 per second; 16 queued must do several times that. The bound is
# physical (a slower machine only lowers the concurrent figure), and the
# runner threads caught waiting on the device at once are shown too.
concurrency() {
	local iops max=0 n
	fio --name=qd --filename="$d_slow" --direct=1 --sync=1 --ioengine=libaio --iodepth=16 \
		--rw=randwrite --bs=4k --size=64M --runtime=10 --time_based --norandommap \
		--output=/tmp/qd.out &
	local pid=$!
	sleep 3
	for _ in $(seq 30); do
		n=$( (grep -l '^State:.*D' /proc/"$SVM_TCMU_PID"/task/*/status 2>/dev/null || true) | wc -l)
		[ "$n" -gt $max ] && max=$n
		sleep 0.1
	done
	wait $pid
	iops=$(sed -n 's/^ *write: IOPS=\([0-9.k]*\),.*/\1/p' /tmp/qd.out)
	echo "4 KiB FUA writes at queue depth 16 on a 100 ms store: $iops IOPS (one at a time: <= 10)"
	echo "most runner threads seen waiting on the store at once: $max"
	case $iops in *k) iops=${iops%k}; iops=${iops%.*}000 ;; esac
	[ "${iops%.*}" -ge 40 ]
}
vm_step "16 queued commands are served concurrently" 120 concurrency

alloc_kib() { du -k "$1" | cut -f1; }

unmap_file() {
	local before after
	dd if=/dev/urandom of="$d_file" bs=1M count=32 seek=200 oflag=direct status=none
	sync -f /var/lib/svm/io0.img
	before=$(alloc_kib /var/lib/svm/io0.img)
	# LBA 409600 = 200 MiB, 65536 blocks = 32 MiB
	sg_unmap --lba=409600 --num=65536 "$d_file"
	after=$(alloc_kib /var/lib/svm/io0.img)
	echo "file store allocation: $before KiB -> $after KiB"
	[ $((before - after)) -ge 32000 ]
	cmp -n $((32 << 20)) <(dd if="$d_file" bs=1M skip=200 count=32 iflag=direct status=none) /dev/zero
}
vm_step "UNMAP punches a hole in a file store" 120 unmap_file

unmap_blockdev() {
	local before after
	dd if=/dev/urandom of="$d_blk" bs=1M count=16 oflag=direct status=none
	sync
	before=$(alloc_kib /var/lib/svm/blk.raw)
	# the Linux initiator's own discard path: sd sends UNMAP (LBP VPD page)
	blkdiscard -o 0 -l $((16 << 20)) "$d_blk"
	sync
	after=$(alloc_kib /var/lib/svm/blk.raw)
	echo "block store (loop over blk.raw) allocation: $before KiB -> $after KiB"
	[ $((before - after)) -ge 15000 ]
}
vm_step "UNMAP becomes BLKDISCARD on a block-device store" 120 unmap_blockdev

sense_of() { # prints sg_raw's sense summary for a raw CDB
	sg_raw -R -r 4096 "$@" 2>&1 | tr '\n' ' ' || true
}
sense_checks() {
	local s
	# READ(10) of LBA 524288 = one past the end of 256 MiB
	s=$(sense_of "$d_file" 28 00 00 08 00 00 00 00 01 00)
	grep -qi 'Logical block address out of range' <<<"$s" || { echo "READ(10) past end: $s"; return 1; }
	# READ(16) whose LBA + length wraps
	s=$(sense_of "$d_file" 88 00 ff ff ff ff ff ff ff ff 00 00 00 02 00 00)
	grep -qi 'Logical block address out of range' <<<"$s" || { echo "READ(16) wrap: $s"; return 1; }
	# an opcode the handler does not implement: LOG SENSE. (Not a
	# vendor-specific 0xC0-0xFF one: libtcmu 1.5.4 cannot size those CDBs and
	# drops them before any handler sees them.)
	s=$(sense_of "$d_file" 4d 00 00 00 00 00 00 00 00 00)
	grep -qi 'Invalid command operation code' <<<"$s" || { echo "opcode 4d: $s"; return 1; }
	# READ(10) with RDPROTECT set, no protection information
	s=$(sense_of "$d_file" 28 20 00 00 00 00 00 00 01 00)
	grep -qi 'Invalid field in cdb' <<<"$s" || { echo "RDPROTECT: $s"; return 1; }
	# WRITE(10) of 2 blocks that sends only 1 block of data-out
	head -c 512 /dev/zero >/tmp/one
	s=$(sg_raw -s 512 -i /tmp/one "$d_file" 2a 00 00 00 00 00 00 00 02 00 2>&1 | tr '\n' ' ' || true)
	grep -qi 'Invalid field in cdb' <<<"$s" || { echo "short data-out: $s"; return 1; }
	# WRITE(10) with FUA, then SYNCHRONIZE CACHE: both GOOD
	sg_raw -s 512 -i /tmp/one "$d_file" 2a 08 00 00 00 10 00 00 01 00
	sg_sync "$d_file"
	echo "LBA OUT OF RANGE, INVALID OPCODE, INVALID FIELD IN CDB as expected; FUA and SYNC good"
}
vm_step "sense data for bad CDBs" 120 sense_checks

# VERIFY with BYTCHK 11b (one block of data-out against every block of the
# range) is held to MAXIMUM TRANSFER LENGTH (hw_max_sectors, 128 here);
# LBA 480000 onwards has never been written, so it reads as zeroes.
verify_cap() {
	local s
	head -c 512 /dev/zero >/tmp/zero512
	# VERIFY(16) BYTCHK=11b, 128 blocks: compared, GOOD
	sg_raw -s 512 -i /tmp/zero512 "$d_file" 8f 06 00 00 00 00 00 07 53 00 00 00 00 80 00 00
	# 129 blocks: INVALID FIELD IN CDB, before any I/O
	s=$(sg_raw -s 512 -i /tmp/zero512 "$d_file" 8f 06 00 00 00 00 00 07 53 00 00 00 00 81 00 00 2>&1 | tr '\n' ' ' || true)
	grep -qi 'Invalid field in cdb' <<<"$s" || { echo "VERIFY(16) 11b of 129 blocks: $s"; return 1; }
	# the whole LUN (524288 blocks): refused at once, not read for minutes
	s=$(sg_raw -s 512 -i /tmp/zero512 "$d_file" 8f 06 00 00 00 00 00 00 00 00 00 08 00 00 00 00 2>&1 | tr '\n' ' ' || true)
	grep -qi 'Invalid field in cdb' <<<"$s" || { echo "VERIFY(16) 11b of the whole LUN: $s"; return 1; }
	echo "VERIFY(16) BYTCHK=11b: 128 blocks GOOD, 129 and the whole LUN INVALID FIELD IN CDB"
}
vm_step "VERIFY 11b is held to the maximum transfer length" 60 verify_cap

# MODE SENSE(6) short block descriptor: NUMBER OF LOGICAL BLOCKS is 4 bytes (SBC-4 6.5.2)
vm_tcli "/backstores/user:svm create name=big0 size=10G cfgstring=/var/lib/svm/big0.img" ||
	fail "could not create the 10 GiB LUN"
d_big=$(vm_loop_lun /backstores/user:svm/big0)
mode_sense_count() {
	local n
	sg_raw -r 252 -o /tmp/ms6.bin "$d_big" 1a 00 08 00 fc 00 2>/dev/null ||
		sg_raw -r 252 -o /tmp/ms6.bin "$d_big" 1a 00 08 00 fc 00 # a unit attention first
	n=$(od -An -tu1 -j4 -N4 /tmp/ms6.bin | awk '{print ($1 * 16777216) + ($2 * 65536) + ($3 * 256) + $4}')
	echo "10 GiB LUN: MODE SENSE(6) block descriptor says $n blocks of 512 bytes"
	[ "$n" -eq 20971520 ]
}
vm_step "MODE SENSE block descriptor counts more than 2^24 blocks" 60 mode_sense_count

# A store on a filesystem without punch-hole (ramfs has no fallocate at all;
# ext2 would not do: Debian mounts it with ext4's driver, which punches): the
# LUN does not offer UNMAP (no LBPU in the Logical Block Provisioning page)
# and refuses it with INVALID COMMAND OPERATION CODE rather than failing
# every UNMAP with 4/44/00.
mkdir -p /mnt/nopunch
mount -t ramfs -o size=32m svm-nopunch /mnt/nopunch
vm_tcli "/backstores/user:svm create name=np size=16M cfgstring=/mnt/nopunch/np.img" ||
	fail "could not create a LUN on ramfs"
d_np=$(vm_loop_lun /backstores/user:svm/np)
no_punch() {
	local s
	grep -q 'Unmap command supported (LBPU): 0' <<<"$(vm_show sg_vpd -p lbpv "$d_np")"
	s=$(sg_unmap --force --lba=0 --num=8 "$d_np" 2>&1 || true)
	echo "UNMAP on the ramfs store: $s"
	grep -qi 'invalid command operation code\|illegal request\|not supported' <<<"$s"
	grep -q 'store /mnt/nopunch/np.img cannot deallocate' "$SVM_TCMU_LOG"
	# and a LUN on a filesystem that can punch holes still offers it
	grep -q 'Unmap command supported (LBPU): 1' <<<"$(sg_vpd -p lbpv "$d_file")"
}
vm_step "no UNMAP offered on a store that cannot deallocate" 60 no_punch

errors=$(vm_tcmu_log_mine | grep ' \[ERROR\]') && { echo "$errors" >&2; fail "errors in the tcmu-runner log"; }
vm_tcmu_alive || fail "tcmu-runner died"
pass "integrity, concurrency, UNMAP and sense"
