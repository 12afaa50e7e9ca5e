#!/bin/bash
# Conformance tier, guest side: started by tests/conformance/run through
# tests/vm/run-vm, not by hand.
#
# In one VM, two LUNs of the same size, each behind its own iSCSI target on
# 127.0.0.1:3260 (and nowhere else):
#   fileio  LIO's fileio backstore, the reference
#   svm     a user:svm backstore: tcmu-runner with build/handler_svm.so
# and libiscsi's  iscsi-test-cu -t SCSI --dataloss <url>  against each, both
# at once (SVM_CONF_SERIAL=1: one after the other).  Raw results go to
# $SVM_OUTDIR/conformance/:
#   <lun>.log    iscsi-test-cu's CUnit verbose output (stdout+stderr)
#   <lun>.tlog   the same lines, each prefixed with the guest's epoch time
#   <lun>.rc     its exit status (1 = some test failed; that is normal)
#   <lun>.time   its wall time in seconds
#   guest.txt    guest kernel, LUN size, test selection, iSCSI URLs
#   attrib.txt   the LIO attributes of both backstores
#   svm.died     present if tcmu-runner died during the run
#   tcmu-runner.log
# The verdict is the host's (tests/conformance/report.py); this script fails
# only when it could not produce the results.
#
# Environment (optional, passed in by run-vm as SVM_*):
#   SVM_CONF_SIZE    size of both LUNs (default 256M)
#   SVM_CONF_TESTS   iscsi-test-cu -t argument (default SCSI)
#   SVM_CONF_LIMIT   time limit of one iscsi-test-cu run, s (default 780)
#   SVM_CONF_SERIAL  1: run the two LUNs one after the other
#   SVM_CONF_ARGS    extra iscsi-test-cu options (e.g. -V for SCSI logging)
# shellcheck disable=SC2317
set -euo pipefail
. "$(dirname "$0")/../vm/lib.sh"
vm_require iscsi-test-cu targetcli tcmu-runner stdbuf timeout
trap vm_cleanup EXIT
vm_on_fail() { vm_dump_state; }

SIZE=${SVM_CONF_SIZE:-256M}
TESTS=${SVM_CONF_TESTS:-SCSI}
LIMIT=${SVM_CONF_LIMIT:-780}
RES=$SVM_OUTDIR/conformance
STORE=/var/lib/svm-conformance
mkdir -p "$RES" "$STORE"
{
	echo "guest_kernel: $(uname -r) ($(uname -v))"
	echo "lun_size: $SIZE"
	echo "tests: $TESTS"
	echo "extra_args: ${SVM_CONF_ARGS:-}"
	echo "serial: ${SVM_CONF_SERIAL:-0}"
} >"$RES/guest.txt"

# Persistent reservations with APTPL=1 make the kernel write
# <dbroot>/pr/aptpl_<wwn>; rtslib points dbroot at /etc/rtslib-fb-target,
# which has no pr/ until something creates it, and every such PROUT then
# fails with NOT READY / LOGICAL UNIT COMMUNICATION FAILURE (both LUNs:
# LIO handles PR for user: backstores too).  The guest's /etc is throw-away.
mkdir -p /etc/rtslib-fb-target/pr

vm_start_services || fail "services did not start"

# Everything in one targetcli process (each start costs 7-20 s under TCG).
IQN_FILEIO=$SVM_IQN_PREFIX:fileio
IQN_SVM=$SVM_IQN_PREFIX:svm
truncate -s "$SIZE" "$STORE/fileio.img"
cmds=(
	"set global auto_add_default_portal=false"
	"/backstores/fileio create name=fileio0 file_or_dev=$STORE/fileio.img size=$SIZE write_back=false"
	"/backstores/user:svm create name=svm0 size=$SIZE cfgstring=$STORE/svm.img"
)
while read -r iqn bs; do
	cmds+=(
		"/iscsi create $iqn"
		"/iscsi/$iqn/tpg1 set attribute authentication=0 generate_node_acls=1 cache_dynamic_acls=1 demo_mode_write_protect=0"
		"/iscsi/$iqn/tpg1/luns create storage_object=$bs lun=0"
		"/iscsi/$iqn/tpg1/portals create 127.0.0.1 3260"
	)
done <<EOT
$IQN_FILEIO /backstores/fileio/fileio0
$IQN_SVM /backstores/user:svm/svm0
EOT
vm_tcli "${cmds[@]}" || fail "targetcli could not set up the two LUNs"
# iSCSI on the loopback portal only.
for iqn in "$IQN_FILEIO" "$IQN_SVM"; do
	np=/sys/kernel/config/target/iscsi/$iqn/tpgt_1/np
	[ -d "$np/127.0.0.1:3260" ] || fail "$iqn has no 127.0.0.1:3260 portal"
	for p in "$np"/*; do
		[ "${p##*/}" = 127.0.0.1:3260 ] || fail "$iqn has an unexpected portal ${p##*/}"
	done
done
# What the two LUNs were configured with (hw_max_sectors, emulate_*, ...).
grep -H . /sys/kernel/config/target/core/fileio_*/fileio0/attrib/* \
	/sys/kernel/config/target/core/user_*/svm0/attrib/* 2>/dev/null |
	sed 's|^/sys/kernel/config/target/core/||' >"$RES/attrib.txt" || true
declare -A URL=(
	[fileio]="iscsi://127.0.0.1:3260/$IQN_FILEIO/0"
	[svm]="iscsi://127.0.0.1:3260/$IQN_SVM/0"
)
for lun in fileio svm; do echo "url_$lun: ${URL[$lun]}" >>"$RES/guest.txt"; done

run_suite() {
	# run_suite LUN: iscsi-test-cu against LUN's URL; stdout line-buffered
	# (stdbuf) so that each line's arrival time says when a test ended.
	local lun=$1 rc=0 t0 t1 line
	local -a extra
	read -r -a extra <<<"${SVM_CONF_ARGS:-}"
	t0=$EPOCHREALTIME
	{
		timeout -k 10 "$LIMIT" stdbuf -oL -eL \
			iscsi-test-cu "${extra[@]}" -t "$TESTS" --dataloss "${URL[$lun]}" </dev/null 2>&1 ||
			echo "conformance-guest: iscsi-test-cu exit status $?"
	} | while IFS= read -r line; do
		printf '%s\n' "$line" >&3
		printf '%s %s\n' "$EPOCHREALTIME" "$line" >&4
	done 3>"$RES/$lun.log" 4>"$RES/$lun.tlog"
	# the exit status travels in-band (the pipeline's status is the loop's)
	rc=$(sed -n 's/^conformance-guest: iscsi-test-cu exit status \([0-9]*\)$/\1/p' "$RES/$lun.log" | tail -n1)
	sed -i '/^conformance-guest: iscsi-test-cu exit status [0-9]*$/d' "$RES/$lun.log"
	t1=$EPOCHREALTIME
	echo "${rc:-0}" >"$RES/$lun.rc"
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f\n", b - a }' >"$RES/$lun.time"
	vm_log "iscsi-test-cu on $lun: exit ${rc:-0} after $(cat "$RES/$lun.time") s"
}

vm_log "running iscsi-test-cu -t $TESTS on fileio and svm"
if [ "${SVM_CONF_SERIAL:-0}" = 1 ]; then
	run_suite fileio
	run_suite svm
else
	run_suite fileio &
	pid_f=$!
	run_suite svm &
	pid_s=$!
	wait "$pid_f" || fail "the fileio run failed to record its results"
	wait "$pid_s" || fail "the svm run failed to record its results"
fi
for lun in fileio svm; do
	grep -A3 '^Run Summary' "$RES/$lun.log" | sed "s/^/$lun: /" >&2 || vm_log "$lun: no Run Summary"
done
cp "$SVM_TCMU_LOG" "$RES/tcmu-runner.log" 2>/dev/null || true
# A dead runner is the handler's failure, not the rig's: the report counts
# the svm tests it took down, so record it rather than failing here.
if ! vm_tcmu_alive; then
	vm_log "tcmu-runner DIED during the run"
	echo "tcmu-runner died during the run" >"$RES/svm.died"
fi
pass "iscsi-test-cu ran on fileio and svm"
