#!/bin/bash
# e2e: EXTENDED COPY through sg_xcopy, the way a host offloads a copy:
#  - within one svm LUN;
#  - between two svm LUNs of one copy group (xcopy_group=), pushed (the
#    command sent to the source) and pulled (sent to the destination),
#    byte-identical (sha256);
#  - to a LUN outside the group: refused, COPY TARGET DEVICE NOT REACHABLE,
#    and nothing written;
#  - the same copy with each datamover pinned (mover= changed live with
#    set attribute dev_config), on XFS with reflink=1 so that all three
#    work; the runner's log says which mover moved the data.
# shellcheck disable=SC2317
set -euo pipefail
. "$(dirname "$0")/../vm/lib.sh"
vm_require targetcli tcmu-runner sg_xcopy sg_raw sg_vpd od sha256sum mkfs.xfs losetup
trap 'vm_cleanup || :; umount /mnt/svm-xfs 2>/dev/null || :; losetup -D || :' EXIT
vm_on_fail() { vm_dump_state; }

vm_start_services || fail "services did not start"
vm_modprobe loop xfs

# The stores on XFS with reflink, in a loop file inside the guest.
mkdir -p /var/lib/svm /mnt/svm-xfs
truncate -s 1G /var/lib/svm/xfs.raw
mkfs.xfs -q -f -m reflink=1 /var/lib/svm/xfs.raw
mount -o loop /var/lib/svm/xfs.raw /mnt/svm-xfs
S=/mnt/svm-xfs

vm_tcli "/backstores/user:svm create name=x1 size=64M cfgstring=$S/x1.img;xcopy_group=g" \
	"/backstores/user:svm create name=x2 size=64M cfgstring=$S/x2.img;xcopy_group=g" \
	"/backstores/user:svm create name=x3 size=64M cfgstring=$S/x3.img" ||
	fail "could not create the LUNs"
d1=$(vm_loop_lun /backstores/user:svm/x1)
d2=$(vm_loop_lun /backstores/user:svm/x2)
d3=$(vm_loop_lun /backstores/user:svm/x3)
# sg_xcopy talks SCSI generic; the data is checked through the disks
g1=$(vm_sg_of "$d1") g2=$(vm_sg_of "$d2") g3=$(vm_sg_of "$d3")
vm_log "x1 $d1 $g1, x2 $d2 $g2 (group g), x3 $d3 $g3 (no group)"

# 32 MiB of random data at the start of x1, written through the initiator.
head -c $((32 << 20)) /dev/urandom >/tmp/pat
dd if=/tmp/pat of="$d1" bs=1M oflag=direct status=none
want=$(sha256sum </tmp/pat | cut -d' ' -f1)

sum_of() { # DEV SKIP-MIB COUNT-MIB: sha256 of the range, read through the initiator
	dd if="$1" bs=1M skip="$2" count="$3" iflag=direct status=none | sha256sum | cut -d' ' -f1
}
xcopy() { # sg_xcopy ARGS...: 512-byte blocks, 8 MiB a segment
	sg_xcopy bs=512 bpt=16384 "$@" 2>&1
}

within() {
	xcopy if="$g1" of="$g1" skip=0 seek=$((40 << 11)) count=$((16 << 11))
	[ "$(sum_of "$d1" 40 16)" = "$(head -c $((16 << 20)) /tmp/pat | sha256sum | cut -d' ' -f1)" ]
	echo "16 MiB copied within x1: byte-identical"
}
vm_step "sg_xcopy within one LUN" 300 within

across() {
	xcopy if="$g1" of="$g2" count=$((32 << 11)) --on_src
	[ "$(sum_of "$d2" 0 32)" = "$want" ]
	echo "32 MiB pushed x1 -> x2 (command on the source): sha256 $want"
	xcopy if="$g1" of="$g2" seek=$((32 << 11)) count=$((32 << 11)) --on_dst
	[ "$(sum_of "$d2" 32 32)" = "$want" ]
	echo "32 MiB pulled x1 -> x2 (command on the destination): sha256 identical"
}
vm_step "sg_xcopy across two LUNs of one copy group, push and pull" 300 across

naa_of() { # DEV: the NAA designator of VPD 0x83 as 32 hex digits (as t_identity.sh reads it)
	local hex
	hex=$(sg_vpd -p di -r "$1" | od -An -tx1 -v | tr -d ' \n')
	[ "${hex:8:8}" = 01030010 ] || return 1
	echo "${hex:16:32}"
}
hexbytes() { sed 's/../\\x&/g'; }
# An EXTENDED COPY(LID1) parameter list, LIST ID USAGE 11b: one segment of
# BLOCKS from LBA 0 of the LUN with NAA $1 to LBA 0 of the LUN with NAA $2.
xcopy_list() {
	{
		printf '\x00\x18\x00\x40\x00\x00\x00\x00\x00\x00\x00\x1c\x00\x00\x00\x00'
		for naa in "$1" "$2"; do
			printf '\xe4\x00\x00\x00\x01\x03\x00\x10'
			printf "$(hexbytes <<<"$naa")"
			printf '\x00\x00\x00\x00\x00\x00\x02\x00'
		done
		printf '\x02\x00\x00\x18\x00\x00\x00\x01\x00\x00'
		printf "$(printf '%04x' "$3" | hexbytes)"
		printf '\x00%.0s' $(seq 16)
	} >/tmp/list.bin
	[ "$(stat -c %s /tmp/list.bin)" -eq 108 ]
}

refused() {
	local out before after
	before=$(sum_of "$d3" 0 32)
	# sg_xcopy gives up with "Copy aborted"; sg_raw shows the sense in full
	if out=$(xcopy if="$g1" of="$g3" count=$((32 << 11)) --on_src); then
		echo "a copy to a LUN outside the group succeeded: $out"
		return 1
	fi
	echo "$out" | tail -n 2
	xcopy_list "$(naa_of "$d1")" "$(naa_of "$d3")" 2048
	out=$(sg_raw -s 108 -i /tmp/list.bin "$g1" 83 00 00 00 00 00 00 00 00 00 00 00 00 6c 00 00 2>&1 || true)
	echo "$out" | grep -i 'sense\|copy'
	grep -qi 'copy aborted' <<<"$out"
	grep -qi 'copy target device not reachable' <<<"$out"
	# the same list within the group goes through
	xcopy_list "$(naa_of "$d1")" "$(naa_of "$d2")" 2048
	sg_raw -s 108 -i /tmp/list.bin "$g1" 83 00 00 00 00 00 00 00 00 00 00 00 00 6c 00 00
	after=$(sum_of "$d3" 0 32)
	[ "$before" = "$after" ]
	echo "refused with COPY ABORTED, COPY TARGET DEVICE NOT REACHABLE; x3 unchanged"
}
vm_step "sg_xcopy to a LUN outside the group is refused" 120 refused

pinned() {
	local m n=0 line
	for m in bounce kernel reflink auto; do
		vm_tcli "/backstores/user:svm/x1 set attribute dev_config=svm/$S/x1.img;xcopy_group=g;mover=$m"
		xcopy if="$g1" of="$g2" seek=$((n << 11)) count=$((8 << 11)) --on_src
		[ "$(sum_of "$d2" "$n" 8)" = "$(head -c $((8 << 20)) /tmp/pat | sha256sum | cut -d' ' -f1)" ]
		line=$(grep "EXTENDED COPY on LUN $S/x1.img (mover=$m)" "$SVM_TCMU_LOG" | tail -n 1)
		echo "$line"
		case $m in
		auto) grep -q 'by reflink' <<<"$line" ;;
		*) grep -q "bytes, [0-9]* by $m\$" <<<"$line" ;;
		esac
		echo "mover=$m: 8 MiB copied, byte-identical"
		n=$((n + 8))
	done
}
vm_step "the same copy with each datamover pinned" 600 pinned

vm_tcmu_alive || fail "tcmu-runner died"
pass "EXTENDED COPY within a LUN, across a copy group both ways, refused outside it, every mover"
