#!/bin/bash
# e2e: LUN identity through the path an admin takes. Three svm LUNs made
# with targetcli report, from their first command, the unit serial LIO
# holds in configfs (VPD 0x80) and the NAA LIO derives from it (VPD 0x83),
# each a different one; a LIO fileio LUN and an svm LUN given the same
# serial report the same NAA; the identity survives a tcmu-runner restart
# and targetcli saveconfig / clearconfig / restoreconfig, and
# restoreconfig reports no error.
# shellcheck disable=SC2317
set -euo pipefail
. "$(dirname "$0")/../vm/lib.sh"
vm_require targetcli tcmu-runner sg_vpd od
trap vm_cleanup EXIT
vm_on_fail() { vm_dump_state; }

vm_start_services || fail "services did not start"
mkdir -p /var/lib/svm
cfgfs=/sys/kernel/config/target/core

serial_of() { # DEV: VPD 0x80 as the initiator sees it
	sg_vpd -p sn "$1" | sed -n 's/^ *Unit serial number: *//p'
}
naa_of() { # DEV: the first designator of VPD 0x83 if it is an NAA one, as 32 hex digits
	local hex
	hex=$(sg_vpd -p di -r "$1" | od -An -tx1 -v | tr -d ' \n')
	# page header (4 bytes), then: code set binary, LU association + type NAA, length 16
	[ "${hex:8:8}" = 01030010 ] || { echo "first designator is not NAA: ${hex:0:48}" >&2; return 1; }
	echo "${hex:16:32}"
}
configfs_serial() { # BACKSTORE-DIR-GLOB
	sed -n 's/^T10 VPD Unit Serial Number: //p' "$1"/wwn/vpd_unit_serial
}
# LIO's NAA rule for a serial: 6 001405 and the serial's first 25 hex digits
lio_naa() {
	local d
	d=$(tr -cd '0-9a-fA-F' <<<"$1" | tr 'A-F' 'a-f')
	d=${d:0:25}
	while [ ${#d} -lt 25 ]; do d+=0; done
	echo "6001405$d"
}

vm_tcli "/backstores/user:svm create name=n1 size=64M cfgstring=/var/lib/svm/n1.img" \
	"/backstores/user:svm create name=n2 size=64M cfgstring=/var/lib/svm/n2.img" \
	"/backstores/user:svm create name=n3 size=64M cfgstring=/var/lib/svm/n3.img" ||
	fail "could not create the LUNs"
declare -A disk want
for n in n1 n2 n3; do
	disk[$n]=$(vm_loop_lun /backstores/user:svm/$n)
	want[$n]=$(configfs_serial "$(echo $cfgfs/user_*/$n)")
	[ -n "${want[$n]}" ] || fail "configfs holds no serial for $n"
done

check_three() {
	local n s naa seen=""
	for n in n1 n2 n3; do
		s=$(serial_of "${disk[$n]}")
		naa=$(naa_of "${disk[$n]}")
		echo "$n (${disk[$n]}): serial '$s', NAA 0x$naa; configfs serial '${want[$n]}'"
		[ "$s" = "${want[$n]}" ] || { echo "$n reports serial '$s'"; return 1; }
		[ "$naa" = "$(lio_naa "${want[$n]}")" ] || { echo "$n NAA is not LIO's"; return 1; }
		[ "$naa" != 60014050000000000000000000000000 ] || return 1
		case " $seen " in *" $naa "*) echo "NAA 0x$naa reported twice"; return 1 ;; esac
		seen+=" $naa"
	done
}
vm_step "three new LUNs report configfs's serial and LIO's NAA at once, all different" 120 check_three

# A LIO fileio LUN and an svm LUN with the same known serial: the same NAA
# (the value below is what LIO's fileio reported for it when this was written).
known=0724c596-265f-4fab-9e44-2d99d5036798
truncate -s 16M /var/lib/svm/f1.img
vm_tcli "/backstores/fileio create name=f1 file_or_dev=/var/lib/svm/f1.img size=16M wwn=$known" \
	"/backstores/user:svm create name=k1 size=16M cfgstring=/var/lib/svm/k1.img wwn=$known" ||
	fail "could not create the pair with a known serial"
d_f1=$(vm_loop_lun /backstores/fileio/f1)
d_k1=$(vm_loop_lun /backstores/user:svm/k1)
same_as_fileio() {
	local a b
	a=$(naa_of "$d_f1")
	b=$(naa_of "$d_k1")
	echo "serial $known: fileio NAA 0x$a, svm NAA 0x$b"
	[ "$a" = "$b" ] && [ "$a" = 60014050724c596265f4fab9e442d99d ]
	[ "$(serial_of "$d_f1")" = "$known" ] && [ "$(serial_of "$d_k1")" = "$known" ]
}
vm_step "svm and LIO fileio derive the same NAA from the same serial" 60 same_as_fileio

vm_tcmu_stop TERM
vm_tcmu_start || fail "tcmu-runner did not start again"
vm_step "the same identities after a tcmu-runner restart" 120 check_three

# saveconfig, clearconfig, restoreconfig with targetcli itself (its exit status counts)
vm_tcli_server_stop
targetcli saveconfig >/tmp/save.out 2>&1 || fail "saveconfig failed: $(cat /tmp/save.out)"
targetcli clearconfig confirm=True >/tmp/clear.out 2>&1 || fail "clearconfig failed: $(cat /tmp/clear.out)"
[ -z "$(ls -d $cfgfs/user_*/n1 2>/dev/null)" ] || fail "clearconfig left n1 behind"
if ! targetcli restoreconfig >/tmp/restore.out 2>&1; then
	cat /tmp/restore.out >&2
	fail "restoreconfig exited non-zero"
fi
cat /tmp/restore.out >&2
if grep -qi 'cannot\|error\|fail' /tmp/restore.out; then fail "restoreconfig reported a problem"; fi

for n in n1 n2 n3; do
	vm_wait_for 60 "the disk of $n after restoreconfig" vm_loop_disk_of "$n" || fail "no disk for $n after restore"
	disk[$n]=$(vm_loop_disk_of "$n")
	now=$(configfs_serial "$(echo $cfgfs/user_*/$n)")
	[ "$now" = "${want[$n]}" ] || fail "$n's configfs serial changed in the restore: $now"
done
vm_step "the same identities after saveconfig, clearconfig, restoreconfig" 120 check_three

grep -q 'has unit serial' "$SVM_TCMU_LOG" || fail "the runner log does not name the serials"
vm_tcmu_alive || fail "tcmu-runner died"
pass "serial and NAA from configfs, unique, LIO's rule, stable across restart and restore"
