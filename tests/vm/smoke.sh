#!/bin/bash
# tests/vm/smoke.sh: proves the VM rig works, without the svm handler.
#
#   tests/vm/run-vm tests/vm/smoke.sh
#
# Inside the guest: starts D-Bus + tcmu-runner (stock handlers), exports a
# 64 MiB LIO fileio backstore through tcm_loop and checks it with dd and
# fio (crc32c verify) on /dev/sdX and with sg_inq; exports the same
# backstore over iSCSI on 127.0.0.1:3260 and checks it with libiscsi's
# iscsi-ls / iscsi-inq / iscsi-readcapacity16; finally runs one LUN through
# tcmu-runner (stock "fbo" file-backed optical handler, via UIO + netlink)
# and checks that it answers INQUIRY / READ CAPACITY.
# The check_* functions are run indirectly, through vm_step:
# shellcheck disable=SC2317
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

vm_require targetcli tcmu-runner dbus-daemon dbus-send fio dd cmp blockdev \
	sg_inq sg_readcap iscsi-ls iscsi-inq iscsi-readcapacity16

trap vm_cleanup EXIT
vm_on_fail() { vm_dump_state; }

SIZE_MB=64
SIZE_BYTES=$((SIZE_MB * 1024 * 1024))

# tcmu-runner gets a handler directory holding only the stock file-backed
# optical handler ("fbo"): loading the others (rbd pulls in librados) costs
# seconds under TCG and is not needed here.
mkdir -p /tmp/handlers
ln -sf "$(vm_stock_handler_dir)/handler_file_optical.so" /tmp/handlers/
vm_start_services /tmp/handlers || fail "services did not start"

# --- tcm_loop + fileio ------------------------------------------------------
bs=$(vm_fileio f0 /tmp/f0.img "${SIZE_MB}M") || fail "could not create the fileio backstore"
dev=$(vm_loop_lun "$bs") || fail "no block device for $bs over tcm_loop"

check_size() {
	local got
	got=$(blockdev --getsize64 "$dev")
	[ "$got" -eq "$SIZE_BYTES" ] || { echo "size of $dev is $got, expected $SIZE_BYTES"; return 1; }
	echo "$dev has $got bytes"
}
vm_step "size of $dev" 30 check_size

check_inquiry() {
	local out
	out=$(sg_inq "$dev")
	echo "$out"
	grep -q 'Vendor identification: LIO-ORG' <<<"$out"
}
vm_step "sg_inq $dev" 30 check_inquiry

dd_roundtrip() {
	head -c $((4 * 1024 * 1024)) /dev/urandom >/tmp/pattern
	dd if=/tmp/pattern of="$dev" bs=1M seek=8 oflag=direct conv=fsync status=none
	dd if="$dev" of=/tmp/readback bs=1M skip=8 count=4 iflag=direct status=none
	cmp /tmp/pattern /tmp/readback
	# Data must have reached the backing file too (fileio, write_back=false).
	dd if=/tmp/f0.img of=/tmp/filecopy bs=1M skip=8 count=4 status=none
	cmp /tmp/pattern /tmp/filecopy
	echo "4 MiB written and read back through $dev and found in /tmp/f0.img"
}
vm_step "dd round trip" 120 dd_roundtrip

fio_verify() {
	fio --name=smoke --filename="$dev" --direct=1 --ioengine=libaio --iodepth=8 \
		--rw=randwrite --bs=4k --size=16M --verify=crc32c --do_verify=1 \
		--verify_fatal=1 --randrepeat=0 --output-format=terse --terse-version=3 \
		>/tmp/fio.out
	cp /tmp/fio.out "$SVM_OUTDIR/fio-smoke.terse"
	echo "fio randwrite+verify (crc32c) of 16 MiB on $dev ok"
}
vm_step "fio crc32c verify" 300 fio_verify

# --- iSCSI on 127.0.0.1 ----------------------------------------------------
url=$(vm_iscsi_lun "$bs" smoke) || fail "could not export $bs over iSCSI"
iqn=${url#iscsi://127.0.0.1:3260/}
iqn=${iqn%/*}

check_iscsi() {
	local out
	# Only the loopback portal may exist.
	ls "/sys/kernel/config/target/iscsi/$iqn/tpgt_1/np"
	[ "$(ls "/sys/kernel/config/target/iscsi/$iqn/tpgt_1/np")" = "127.0.0.1:3260" ] ||
		{ echo "unexpected portals"; return 1; }
	out=$(iscsi-ls -s iscsi://127.0.0.1:3260)
	echo "$out"
	grep -q "$iqn" <<<"$out" || { echo "iscsi-ls does not list $iqn"; return 1; }
	out=$(iscsi-inq "$url")
	echo "$out"
	grep -q 'Vendor:LIO-ORG' <<<"$out" || grep -q 'LIO-ORG' <<<"$out" ||
		{ echo "iscsi-inq: no LIO-ORG vendor"; return 1; }
	out=$(iscsi-readcapacity16 -s "$url")
	echo "iscsi-readcapacity16 -s: $out"
	[ "$out" -eq "$SIZE_BYTES" ] || { echo "iSCSI LUN size $out, expected $SIZE_BYTES"; return 1; }
}
vm_step "iSCSI on 127.0.0.1" 120 check_iscsi

# --- a LUN served by tcmu-runner (stock fbo handler) -----------------------
vm_tcmu_alive || fail "tcmu-runner is not running"
truncate -s "${SIZE_MB}M" /tmp/optical.img
ubs=$(vm_user_backstore fbo opt0 "${SIZE_MB}M" /tmp/optical.img) ||
	fail "could not create a user:fbo backstore (tcmu-runner handler)"
sg=$(vm_loop_lun_sg "$ubs") || fail "no SCSI generic node for the user:fbo LUN"

check_tcmu_lun() {
	local out
	out=$(sg_inq "$sg")
	echo "$out"
	# file_optical reports a CD/DVD device (peripheral device type 5).
	grep -Eq 'PDT=5|cd/dvd' <<<"$out" || { echo "not an optical device"; return 1; }
	sg_readcap "$sg"
}
vm_step "tcmu-runner LUN $sg" 60 check_tcmu_lun
vm_tcmu_alive || fail "tcmu-runner died"

pass "VM rig smoke test"
