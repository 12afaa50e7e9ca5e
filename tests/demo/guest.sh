#!/bin/bash
# The demo itself (natively or in the VM): create an svm LUN with targetcli,
# export it through tcm_loop, run a short fio workload, and say what happened.
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../vm/lib.sh"
vm_require targetcli tcmu-runner fio
trap vm_cleanup EXIT
vm_on_fail() { vm_dump_state; }
say() { printf '\n== %s\n' "$*"; }

vm_start_services "$SVM_HANDLER_DIR" || fail "tcmu-runner did not start"
mkdir -p /var/lib/svm
# hw_max_sectors=2048: 1 MiB commands instead of LIO's default of 64 KiB for a
# user: backstore (docs/tuning.md, "Large transfers").  It can only be given
# when the backstore is created: afterwards the attribute is read-only.
say "targetcli /backstores/user:svm create name=lun0 size=1G cfgstring=/var/lib/svm/demo-lun0.img hw_max_sectors=2048"
targetcli /backstores/user:svm create name=lun0 size=1G cfgstring=/var/lib/svm/demo-lun0.img hw_max_sectors=2048
dev=$(vm_loop_lun /backstores/user:svm/lun0)
say "the LUN is $dev (tcm_loop); what the initiator sees:"
sg_inq "$dev" | grep -E 'Vendor|Product identification'
sg_readcap -l "$dev" | grep -E 'Last LBA|Logical block length|lbpme'
echo "largest command: $(cat "/sys/block/${dev#/dev/}/queue/max_sectors_kb") KiB (max_sectors_kb)"

say "fio: 20 s of 4 KiB random read/write, queue depth 16, with crc32c verification"
fio --name=demo --filename="$dev" --direct=1 --ioengine=libaio --iodepth=16 --rw=randrw \
	--bs=4k --size=256M --runtime=20 --time_based --verify=crc32c --verify_backlog=1024 \
	--verify_fatal=1 --group_reporting --output="$SVM_OUTDIR/fio.txt" ||
	{ cat "$SVM_OUTDIR/fio.txt"; fail "fio reported an error"; }
grep -E '^ *(read|write): IOPS|err=' "$SVM_OUTDIR/fio.txt"

say "the store file: $(du -h --apparent-size /var/lib/svm/demo-lun0.img | cut -f1) apparent, $(du -h /var/lib/svm/demo-lun0.img | cut -f1) allocated"
say "tcmu-runner log ($SVM_TCMU_LOG):"
grep -E 'svm' "$SVM_TCMU_LOG" | tail -n 5
pass "an svm LUN served fio through LIO with no errors"
