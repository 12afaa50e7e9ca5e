#!/bin/bash
# e2e: every cfgstring key, and live reconfiguration, through targetcli,
# the kernel and an initiator (tcm_loop /dev/sdX, sdparm, sg3_utils):
#  - keys separated by ';' reach the handler (configfs keeps the whole
#    string); wce=no shows as WCE 0 and writes go through; dst= is recorded;
#    create=no refuses a missing store; tcmu-runner's tcmur_cmd_time_out=
#    passes; ',' ':' and over-long strings are refused with a reason;
#  - set attribute dev_size grows the LUN (the initiator sees it after a
#    rescan) and a shrink is refused; emulate_write_cache switches WCE live;
#    dev_config is refused when unsafe and accepted when not;
#  - after those changes, saveconfig / clearconfig / restoreconfig and a
#    tcmu-runner restart bring back the same size, write cache and string,
#    and restoreconfig reports no error.
# shellcheck disable=SC2317
set -euo pipefail
. "$(dirname "$0")/../vm/lib.sh"
vm_require targetcli tcmu-runner sdparm sg_readcap blockdev strace losetup
trap 'vm_cleanup || :; losetup -D || :' EXIT
vm_on_fail() { vm_dump_state; }

vm_start_services || fail "services did not start"
mkdir -p /var/lib/svm
cfgfs=/sys/kernel/config/target/core
info_config() { sed -n 's/.*Config: \([^ ]*\) .*/\1/p' "$(echo $cfgfs/user_*/"$1")"/info; }
# sdparm also asks for saved values, which LIO's LUNs and ours refuse (SPC-4: SAVING
# PARAMETERS NOT SUPPORTED): it prints the current value and exits 5.
# LIO raises REPORTED LUNS DATA HAS CHANGED on the other LUNs of a target when one is
# added: sdparm does not retry that unit attention, so ask up to three times.
wce_of() {
	local i v
	for i in 1 2 3; do
		v=$({ sdparm --get=WCE "$1" 2>/dev/null || true; } | awk '$1 == "WCE" {print $2}')
		[ -z "$v" ] || break
	done
	echo "$v"
}
log_has() { grep -q -- "$1" "$SVM_TCMU_LOG"; }

# --- keys at creation ----------------------------------------------------
# Once with targetcli itself, quoted as docs/cfgstring.md shows.
vm_tcli_server_stop
targetcli /backstores/user:svm create name=c1 size=64M 'cfgstring=/var/lib/svm/c1.img;wce=no' \
	>/tmp/c1.out 2>&1 || fail "create with ';' failed: $(cat /tmp/c1.out)"
vm_tcli_server_start || true
[ "$(info_config c1)" = "svm//var/lib/svm/c1.img;wce=no" ] || fail "configfs keeps '$(info_config c1)'"
d_c1=$(vm_loop_lun /backstores/user:svm/c1)
keys_c1() {
	local w
	w=$(wce_of "$d_c1")
	echo "c1: configfs Config '$(info_config c1)', sdparm WCE=$w"
	[ "$w" = 0 ]
	log_has 'svm/c1: svm: LUN open on /var/lib/svm/c1.img .*write cache off'
	# write-through: the handler writes with RWF_DSYNC although the initiator sent no FUA
	grep -q 'RWF_DSYNC' <<<"$(vm_show writes_of "$d_c1")"
}
# writes_of DEV: the runner's pwritev2 calls while a 64 KiB write without FUA goes to DEV
writes_of() {
	local spid
	strace -f -qq -e trace=pwritev2 -p "$SVM_TCMU_PID" -o /tmp/strace.out &
	spid=$!
	sleep 1
	dd if=/dev/urandom of="$1" bs=64k count=1 seek=7 oflag=direct status=none
	sleep 0.5
	kill "$spid"
	wait "$spid" 2>/dev/null || true
	grep pwritev2 /tmp/strace.out
}
vm_step "wce=no after ';': configfs keeps it, WCE 0, writes go through" 60 keys_c1

truncate -s 64M /var/lib/svm/c2.img
vm_tcli "/backstores/user:svm create name=c2 size=64M cfgstring=/var/lib/svm/c2.img;dst=/var/lib/svm/c2-new.img;create=no;tcmur_cmd_time_out=45" ||
	fail "create with dst=, create=no and tcmur_cmd_time_out= failed"
d_c2=$(vm_loop_lun /backstores/user:svm/c2)
keys_c2() {
	echo "c2: configfs Config '$(info_config c2)', WCE=$(wce_of "$d_c2")"
	log_has 'svm/c2: svm: LUN open on /var/lib/svm/c2.img .*destination /var/lib/svm/c2-new.img'
	[ "$(wce_of "$d_c2")" = 1 ] # wce= defaults to yes
	[ "$(cat "$(echo $cfgfs/user_*/c2)"/attrib/emulate_write_cache)" = 1 ]
	[ "$(blockdev --getsize64 "$d_c2")" -eq $((64 << 20)) ]
	# write-back: no RWF_DSYNC
	! grep -q 'RWF_DSYNC' <<<"$(vm_show writes_of "$d_c2")"
}
vm_step "dst=, create=no (existing store), tcmur_cmd_time_out= reach the handler" 60 keys_c2

refuse() { # CFGSTRING EXPECTED-REASON: targetcli create must fail with the handler's reason
	local out name=r$RANDOM
	if out=$(vm_tcli "/backstores/user:svm create name=$name size=64M cfgstring=$1" 2>&1); then
		fail "cfgstring '$1' was accepted"
	fi
	grep -q -- "$2" <<<"$out" || fail "cfgstring '$1': expected '$2' in: $out"
	[ -z "$(ls -d $cfgfs/user_*/$name 2>/dev/null)" ] || fail "refused backstore $name exists"
	vm_log "refused '$1': $(grep -o -- "$2.*" <<<"$out" | head -n1)"
}
refuse "/var/lib/svm/c3.img,wce=no" "separate elements with ';'"
refuse "/var/lib/svm/absent.img;create=no" "does not exist (create=no)"
refuse "/var/lib/svm/c3.img;dst=/var/lib/svm/c3.img" "is the source store"
refuse "/var/lib/svm/c3.img;wce=maybe" "malformed value 'maybe'"
refuse "/var/lib/svm/c3.img;speed=fast" "unknown key 'speed'"
refuse "/var/lib/svm/$(printf 'x%.0s' $(seq 240)).img" "kernel keeps only 255"
[ ! -e /var/lib/svm/absent.img ] || fail "create=no created the store"

# --- live reconfiguration -----------------------------------------------
vm_tcli "/backstores/user:svm create name=r1 size=64M cfgstring=/var/lib/svm/r1.img" ||
	fail "could not create r1"
d_r1=$(vm_loop_lun /backstores/user:svm/r1)
r1dir=$(echo $cfgfs/user_*/r1)
scsi_dev=/sys/block/${d_r1#/dev/}/device

grow() {
	vm_tcli "/backstores/user:svm/r1 set attribute dev_size=134217728"
	echo 1 >"$scsi_dev/rescan"
	echo "after dev_size=128M: initiator sees $(blockdev --getsize64 "$d_r1") bytes, store file $(stat -c %s /var/lib/svm/r1.img)"
	[ "$(blockdev --getsize64 "$d_r1")" -eq $((128 << 20)) ]
	[ "$(stat -c %s /var/lib/svm/r1.img)" -eq $((128 << 20)) ]
	grep -q 'Last LBA=262143' <<<"$(sg_readcap "$d_r1")"
	# the new end is usable
	dd if=/dev/urandom of="$d_r1" bs=1M count=1 seek=127 oflag=direct status=none
	log_has 'svm/r1: svm: LUN on /var/lib/svm/r1.img grown from 131072 to 262144 blocks'
	# tcmu-runner raised CAPACITY DATA HAS CHANGED (6/2A/09) to the initiator
	grep -q 'Capacity data has changed' <<<"$(dmesg)"
}
vm_step "set attribute dev_size grows the LUN live" 120 grow
shrink_refused() {
	if vm_tcli "/backstores/user:svm/r1 set attribute dev_size=67108864"; then
		echo "a shrink was accepted"
		return 1
	fi
	log_has 'refusing dev_size: refusing to shrink the LUN'
	[ "$(cat "$r1dir"/attrib/dev_size)" = 134217728 ]
	[ "$(stat -c %s /var/lib/svm/r1.img)" -eq $((128 << 20)) ]
}
vm_step "a shrink is refused, with the reason in the runner log" 60 shrink_refused

# A block-device store grows only within the device: a 32 MiB LUN on a 64 MiB loop device
vm_modprobe loop
truncate -s 64M /var/lib/svm/blk.raw
loopdev=$(losetup --find --show /var/lib/svm/blk.raw)
vm_tcli "/backstores/user:svm create name=b1 size=32M cfgstring=$loopdev" || fail "could not create b1"
d_b1=$(vm_loop_lun /backstores/user:svm/b1)
grow_blockdev() {
	vm_tcli "/backstores/user:svm/b1 set attribute dev_size=67108864"
	echo 1 >"/sys/block/${d_b1#/dev/}/device/rescan"
	echo "b1 on $loopdev after dev_size=64M: $(blockdev --getsize64 "$d_b1") bytes"
	[ "$(blockdev --getsize64 "$d_b1")" -eq $((64 << 20)) ]
	if vm_tcli "/backstores/user:svm/b1 set attribute dev_size=134217728"; then
		echo "growing past the end of the device was accepted"
		return 1
	fi
	log_has "refusing dev_size: block device '$loopdev' holds 67108864 bytes"
	[ "$(cat "$(echo $cfgfs/user_*/b1)"/attrib/dev_size)" = 67108864 ]
}
vm_step "a block-device store grows only as far as the device" 60 grow_blockdev
vm_tcli "/backstores/user:svm delete b1" || fail "could not delete b1"

wce_live() {
	vm_tcli "/backstores/user:svm/r1 set attribute emulate_write_cache=0"
	echo "emulate_write_cache=0: sdparm WCE=$(wce_of "$d_r1")"
	[ "$(wce_of "$d_r1")" = 0 ]
	log_has 'svm/r1: svm: write cache off'
	vm_tcli "/backstores/user:svm/r1 set attribute emulate_write_cache=1"
	echo "emulate_write_cache=1: sdparm WCE=$(wce_of "$d_r1")"
	[ "$(wce_of "$d_r1")" = 1 ]
	vm_tcli "/backstores/user:svm/r1 set attribute emulate_write_cache=0"
	[ "$(wce_of "$d_r1")" = 0 ]
}
vm_step "set attribute emulate_write_cache switches WCE live" 60 wce_live

dev_config_live() {
	if vm_tcli "/backstores/user:svm/r1 set attribute dev_config=svm//var/lib/svm/c2.img"; then
		echo "switching to another store was accepted"
		return 1
	fi
	log_has "refusing dev_config: the source store cannot change"
	if vm_tcli "/backstores/user:svm/r1 set attribute dev_config=svm//var/lib/svm/r1.img,dst=/var/lib/svm/x.img"; then
		echo "',' was accepted"
		return 1
	fi
	log_has "refusing dev_config: ',' in"
	[ "$(info_config r1)" = "svm//var/lib/svm/r1.img" ]
	vm_tcli "/backstores/user:svm/r1 set attribute dev_config=svm//var/lib/svm/r1.img;dst=/var/lib/svm/r1-new.img"
	echo "accepted: configfs Config now '$(info_config r1)'"
	[ "$(info_config r1)" = "svm//var/lib/svm/r1.img;dst=/var/lib/svm/r1-new.img" ]
	log_has "svm/r1: svm: configuration now 'svm//var/lib/svm/r1.img;dst=/var/lib/svm/r1-new.img'"
	# still serving
	dd if="$d_r1" of=/dev/null bs=1M count=4 iflag=direct status=none
}
vm_step "set attribute dev_config: refused when unsafe, accepted when not" 60 dev_config_live

# --- the changes survive a runner restart and a restore ------------------
check_r1() {
	echo "r1: size $(blockdev --getsize64 "$d_r1"), WCE=$(wce_of "$d_r1"), Config '$(info_config r1)'"
	[ "$(blockdev --getsize64 "$d_r1")" -eq $((128 << 20)) ]
	[ "$(wce_of "$d_r1")" = 0 ]
	[ "$(info_config r1)" = "svm//var/lib/svm/r1.img;dst=/var/lib/svm/r1-new.img" ]
	echo "c1: WCE=$(wce_of "$d_c1"), c2: WCE=$(wce_of "$d_c2")"
	[ "$(wce_of "$d_c1")" = 0 ]
	[ "$(wce_of "$d_c2")" = 1 ]
}
vm_tcmu_stop TERM
vm_tcmu_start || fail "tcmu-runner did not start again"
vm_step "size, write cache and configuration after a tcmu-runner restart" 60 check_r1

vm_tcli_server_stop
targetcli saveconfig >/tmp/save.out 2>&1 || fail "saveconfig failed: $(cat /tmp/save.out)"
grep -q '"config": "svm//var/lib/svm/r1.img;dst=/var/lib/svm/r1-new.img"' /etc/rtslib-fb-target/saveconfig.json ||
	fail "saveconfig does not name r1's configuration"
targetcli clearconfig confirm=True >/tmp/clear.out 2>&1 || fail "clearconfig failed: $(cat /tmp/clear.out)"
if ! targetcli restoreconfig >/tmp/restore.out 2>&1; then
	cat /tmp/restore.out >&2
	fail "restoreconfig exited non-zero"
fi
cat /tmp/restore.out >&2
if grep -qi 'cannot\|error\|fail' /tmp/restore.out; then fail "restoreconfig reported a problem"; fi
for n in r1 c1 c2; do
	vm_wait_for 60 "the disk of $n after restoreconfig" vm_loop_disk_of $n || fail "no disk for $n"
done
d_r1=$(vm_loop_disk_of r1) d_c1=$(vm_loop_disk_of c1) d_c2=$(vm_loop_disk_of c2)
vm_step "size, write cache and configuration after saveconfig / clearconfig / restoreconfig" 60 check_r1

vm_tcmu_alive || fail "tcmu-runner died"
pass "every key, dev_size, emulate_write_cache and dev_config through targetcli"
