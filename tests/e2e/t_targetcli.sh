#!/bin/bash
# e2e: Debian's tcmu-runner loads handler_svm.so; targetcli creates a
# user:svm LUN exactly as README shows; it serves I/O over tcm_loop; bad
# cfgstrings are refused with the handler's reason; nothing is overwritten.
# shellcheck disable=SC2317
set -euo pipefail
. "$(dirname "$0")/../vm/lib.sh"
vm_require targetcli tcmu-runner sg_inq sg_readcap blockdev cmp
trap vm_cleanup EXIT
vm_on_fail() { vm_dump_state; }

vm_start_services || fail "services did not start"

# The handler registered with the runner: targetcli lists the backstore type.
grep -q 'user:svm' <<<"$(targetcli ls /backstores 2>&1)" || fail "targetcli does not list user:svm"

mkdir -p /var/lib/svm
out=$(targetcli /backstores/user:svm create name=lun0 size=1G cfgstring=/var/lib/svm/lun0.img 2>&1) ||
	fail "targetcli create failed: $out"
[ "$(stat -c %s /var/lib/svm/lun0.img)" -eq $((1 << 30)) ] || fail "store not created at 1 GiB"
dev=$(vm_loop_lun /backstores/user:svm/lun0) || fail "no disk for lun0"

check_identity() {
	grep -q 'Product identification: tcmu-svm' <<<"$(vm_show sg_inq "$dev")"
	[ "$(blockdev --getsize64 "$dev")" -eq $((1 << 30)) ]
	grep -q 'Logical block length=512 bytes' <<<"$(sg_readcap -l "$dev")"
}
vm_step "identity of $dev" 60 check_identity

roundtrip() {
	head -c $((8 << 20)) /dev/urandom >/tmp/pattern
	dd if=/tmp/pattern of="$dev" bs=1M seek=100 oflag=direct conv=fsync status=none
	echo 3 >/proc/sys/vm/drop_caches
	dd if="$dev" of=/tmp/back bs=1M skip=100 count=8 iflag=direct status=none
	cmp /tmp/pattern /tmp/back
	# the bytes are in the store file, where the LUN says
	dd if=/var/lib/svm/lun0.img of=/tmp/file bs=1M skip=100 count=8 status=none
	cmp /tmp/pattern /tmp/file
}
vm_step "8 MiB round trip through $dev into the store" 120 roundtrip

# Refusals: each must fail, print the handler's reason, and create nothing.
refuse() { # NAME CFGSTRING EXPECTED-REASON
	local out
	if out=$(targetcli /backstores/user:svm create name="$1" size=64M cfgstring="$2" 2>&1); then
		fail "cfgstring '$2' was accepted"
	fi
	grep -q -- "$3" <<<"$out" || fail "cfgstring '$2': expected '$3' in: $out"
	if grep -q "o- $1 " <<<"$(targetcli ls /backstores/user:svm 2>/dev/null)"; then
		fail "refused backstore $1 still exists"
	fi
	vm_log "refused '$2': $(tail -n1 <<<"$out")"
}
refuse bad1 /no/such/dir/x.img "neither does its directory"
refuse bad2 "/var/lib/svm/b4.img;speed=fast" "unknown key 'speed'"
refuse bad3 "/var/lib/svm/b4.img,wce=no" "separate elements with ';'"

# The rest through the same D-Bus call targetcli makes (CheckConfig on the
# runner's svm object), without a 10-second targetcli start each.
check_config() { # CFGSTRING EXPECTED-REASON
	local out
	out=$(dbus-send --system --print-reply --dest=org.kernel.TCMUService1 \
		/org/kernel/TCMUService1/svm org.kernel.TCMUService1.CheckConfig string:"svm/$1" 2>&1)
	grep -q 'boolean false' <<<"$out" || fail "CheckConfig accepted '$1': $out"
	grep -q -- "$2" <<<"$out" || fail "CheckConfig '$1': expected '$2' in: $out"
	vm_log "CheckConfig refused '$1': $(grep -o 'string ".*"' <<<"$out")"
}
check_config /dev/null "not a regular file or block device"
check_config "/var/lib/svm/lun0.img;dst=/var/lib/svm/lun0.img" "is the source"
check_config "/var/lib/svm/lun0.img;dst=/var/lib/svm/./lun0.img" "is the source"
check_config "/var/lib/svm/b5.img;create=perhaps" "malformed value 'perhaps'"
check_config "relative.img" "not absolute"
check_config "/var/lib/svm/absent.img;create=no" "does not exist"
check_config /var/lib/svm "not a regular file or block device"
check_config "/var/lib/svm/x.img;;wce=no" "malformed option"

# A store smaller than the LUN passes check_config (it cannot know the size)
# but open refuses it: the LUN must not come up, and the file is untouched.
head -c $((4 << 20)) /dev/urandom >/var/lib/svm/small.img
sum=$(md5sum </var/lib/svm/small.img)
if out=$(targetcli /backstores/user:svm create name=small size=64M cfgstring=/var/lib/svm/small.img 2>&1); then
	vm_log "create of a too-small store returned success: $out"
fi
grep -q "less than the LUN" "$SVM_TCMU_LOG" || fail "no clear reason in the tcmu-runner log"
grep "less than the LUN" "$SVM_TCMU_LOG" | tail -n1 >&2
[ "$(md5sum </var/lib/svm/small.img)" = "$sum" ] || fail "the small store was modified"
[ "$(stat -c %s /var/lib/svm/small.img)" -eq $((4 << 20)) ] || fail "the small store changed size"
if grep -q "o- small .*activated" <<<"$(targetcli ls /backstores/user:svm 2>/dev/null)"; then
	fail "the LUN on a too-small store is active"
fi
vm_tcmu_alive || fail "tcmu-runner died"
pass "targetcli create, I/O, and every refusal behave"
