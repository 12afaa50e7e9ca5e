#!/bin/bash
# Conformance tier, guest side: started by tests/conformance/run through
# tests/vm/run-vm, not by hand.
#
# In one VM, two LUNs of the same size, each behind its own iSCSI target on
# 127.0.0.1:3260:
#   fileio  LIO's fileio backstore, the reference
#   svm     a user:svm backstore: tcmu-runner with build/handler_svm.so
#   rbd     (SVM_CONF_RBD=1, the default) a user:svm backstore whose store
#           is an RBD image (cfgstring rbd/conf/lun0;conf=...) on the rig's
#           throw-away single-node Ceph (tests/vm/ceph.sh), started in this
#           VM while the fileio and svm runs already go (so its ~30 s of
#           start-up overlap them); its runs go alongside theirs.  Every
#           command there costs a round trip through librbd to the OSD in
#           this TCG guest (the two shards took 1459 s and 1137 s in the
#           first run, host load 7-9: about 2600 s on one LUN), so its main
#           run is split in two shards, the suites taken alternately, run at
#           once on two RBD LUNs of the same size (rbd: conf/lun0, and
#           rbd-shard2: conf/lun1), each new as the fileio and svm LUNs are
# and for each, a scratch LUN of its kind (SVM_CONF_SANITIZE_SIZE) behind a
# target of its own with two portals, 127.0.0.1:3260 and 127.0.0.2:3260
# (lo answers all of 127/8; nothing listens anywhere else). For each kind,
# one after the other (the two kinds at once; SVM_CONF_SERIAL=1: one kind
# after the other), libiscsi's iscsi-test-cu:
#   main      -t SCSI --dataloss <url>                 the main LUN
#   mpath     -t SCSI.MultipathIO --dataloss <url> <url2>
#                                     the scratch LUN through both portals
#   sanitize  -t SCSI.Sanitize --dataloss --allow-sanitize <scratch url>
# The multipath tests run on the scratch LUN while it is new: their COMPARE
# AND WRITE test zeroes LBAs 0-255 but compares LBA 256 too, so it needs a
# LUN no other test wrote there (on the main LUN, tests fileio skips, such
# as GetLBAStatus.UnmapSingle, leave data at LBA 256).
# (mpath and sanitize run the tests of those suites that SVM_CONF_TESTS
# selects, if any; in the main run they skip themselves).  Raw results go
# to $SVM_OUTDIR/conformance/, <run> being <lun> (main), <lun>-mpath or
# <lun>-sanitize:
#   (rbd's main run is rbd (shard 1) + rbd-shard2; rbd-shard1.tests and
#   rbd-shard2.tests list their tests)
#   <run>.log    iscsi-test-cu's CUnit verbose output (stdout+stderr)
#   <run>.tlog   the same lines, each prefixed with the guest's epoch time
#   <run>.rc     its exit status (1 = some test failed; that is normal)
#   <run>.time   its wall time in seconds
#   guest.txt    guest kernel, LUN size, test selection, iSCSI URLs
#   attrib.txt   the LIO attributes of both backstores
#   svm.died     present if tcmu-runner died during the run
#   tcmu-runner.log
# The verdict is the host's (tests/conformance/report.py); this script fails
# only when it could not produce the results.
#
# Environment (optional, passed in by run-vm as SVM_*):
#   SVM_CONF_SIZE    size of both LUNs (default 256M)
#   SVM_CONF_SANITIZE_SIZE  size of the scratch LUNs (default 64M): each
#                    SANITIZE OVERWRITE writes all of it
#   SVM_CONF_TESTS   iscsi-test-cu -t argument (default SCSI)
#   SVM_CONF_LIMIT   time limit of one iscsi-test-cu run, s (default 1200)
#   SVM_CONF_SERIAL  1: run the two LUNs one after the other
#   SVM_CONF_ARGS    extra iscsi-test-cu options (e.g. -V for SCSI logging)
#   SVM_CONF_RBD     1 (default): the rbd kind too; 0: fileio and svm only
#   SVM_CONF_RBD_LIMIT  time limit of one iscsi-test-cu run on rbd, s
#                    (default 1500: every I/O goes through librbd to the OSD)
# shellcheck disable=SC2317
set -euo pipefail
. "$(dirname "$0")/../vm/lib.sh"
# shellcheck source-path=SCRIPTDIR source=../vm/ceph.sh
. "$(dirname "$0")/../vm/ceph.sh"
vm_require iscsi-test-cu targetcli tcmu-runner stdbuf timeout
RBD=${SVM_CONF_RBD:-1}
KINDS="fileio and svm"
if [ "$RBD" = 1 ]; then
	# (the host's run checked the packages: a missing one is an error there, not a skip)
	vm_require ceph-mon ceph-osd rbd monmaptool
	KINDS="fileio, svm and rbd"
fi
# LIO and tcmu-runner first (librbd closes its images while the cluster answers), then the cluster
trap ceph_cleanup EXIT
vm_on_fail() {
	vm_dump_state
	ceph_dump_state
}

SIZE=${SVM_CONF_SIZE:-256M}
SCRATCH_SIZE=${SVM_CONF_SANITIZE_SIZE:-64M}
TESTS=${SVM_CONF_TESTS:-SCSI}
PORTALS=(127.0.0.1 127.0.0.2)
LIMIT=${SVM_CONF_LIMIT:-1200}
RES=$SVM_OUTDIR/conformance
STORE=/var/lib/svm-conformance
mkdir -p "$RES" "$STORE"
{
	echo "guest_kernel: $(uname -r) ($(uname -v))"
	echo "lun_size: $SIZE"
	echo "scratch_size: $SCRATCH_SIZE"
	echo "tests: $TESTS"
	echo "extra_args: ${SVM_CONF_ARGS:-}"
	echo "serial: ${SVM_CONF_SERIAL:-0}"
	echo "rbd: $RBD"
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
IQN_FILEIO_SCRATCH=$SVM_IQN_PREFIX:fileio-scratch
IQN_SVM_SCRATCH=$SVM_IQN_PREFIX:svm-scratch
truncate -s "$SIZE" "$STORE/fileio.img"
truncate -s "$SCRATCH_SIZE" "$STORE/fileio-scratch.img"
cmds=(
	"set global auto_add_default_portal=false"
	"/backstores/fileio create name=fileio0 file_or_dev=$STORE/fileio.img size=$SIZE write_back=false"
	"/backstores/user:svm create name=svm0 size=$SIZE cfgstring=$STORE/svm.img"
	"/backstores/fileio create name=fileio1 file_or_dev=$STORE/fileio-scratch.img size=$SCRATCH_SIZE write_back=false"
	"/backstores/user:svm create name=svm1 size=$SCRATCH_SIZE cfgstring=$STORE/svm-scratch.img"
)
declare -A WANT_PORTALS=()
while read -r iqn bs nportals; do
	cmds+=(
		"/iscsi create $iqn"
		"/iscsi/$iqn/tpg1 set attribute authentication=0 generate_node_acls=1 cache_dynamic_acls=1 demo_mode_write_protect=0"
		"/iscsi/$iqn/tpg1/luns create storage_object=$bs lun=0"
	)
	WANT_PORTALS[$iqn]="${PORTALS[*]:0:$nportals}"
	for ip in ${WANT_PORTALS[$iqn]}; do
		cmds+=("/iscsi/$iqn/tpg1/portals create $ip 3260")
	done
done <<EOT
$IQN_FILEIO /backstores/fileio/fileio0 1
$IQN_SVM /backstores/user:svm/svm0 1
$IQN_FILEIO_SCRATCH /backstores/fileio/fileio1 2
$IQN_SVM_SCRATCH /backstores/user:svm/svm1 2
EOT
vm_tcli "${cmds[@]}" || fail "targetcli could not set up the LUNs"
# iSCSI on the loopback portals asked for only.
for iqn in "${!WANT_PORTALS[@]}"; do
	np=/sys/kernel/config/target/iscsi/$iqn/tpgt_1/np
	for ip in ${WANT_PORTALS[$iqn]}; do
		[ -d "$np/$ip:3260" ] || fail "$iqn has no $ip:3260 portal"
	done
	for p in "$np"/*; do
		ip=${p##*/}
		ip=${ip%:3260}
		[[ " ${WANT_PORTALS[$iqn]} " == *" $ip "* && ${p##*/} == "$ip:3260" ]] ||
			fail "$iqn has an unexpected portal ${p##*/}"
	done
done
# What the LUNs were configured with (hw_max_sectors, emulate_*, ...).
grep -H . /sys/kernel/config/target/core/fileio_*/fileio[01]/attrib/* \
	/sys/kernel/config/target/core/user_*/svm[01]/attrib/* 2>/dev/null |
	sed 's|^/sys/kernel/config/target/core/||' >"$RES/attrib.txt" || true
declare -A URL=(
	[fileio]="iscsi://127.0.0.1:3260/$IQN_FILEIO/0"
	[svm]="iscsi://127.0.0.1:3260/$IQN_SVM/0"
	[fileio-mpath]="iscsi://127.0.0.1:3260/$IQN_FILEIO_SCRATCH/0 iscsi://127.0.0.2:3260/$IQN_FILEIO_SCRATCH/0"
	[svm-mpath]="iscsi://127.0.0.1:3260/$IQN_SVM_SCRATCH/0 iscsi://127.0.0.2:3260/$IQN_SVM_SCRATCH/0"
	[fileio-sanitize]="iscsi://127.0.0.1:3260/$IQN_FILEIO_SCRATCH/0"
	[svm-sanitize]="iscsi://127.0.0.1:3260/$IQN_SVM_SCRATCH/0"
)
IQN_RBD=$SVM_IQN_PREFIX:rbd
IQN_RBD_SCRATCH=$SVM_IQN_PREFIX:rbd-scratch
IQN_RBD2=$SVM_IQN_PREFIX:rbd-shard2
URL[rbd]="iscsi://127.0.0.1:3260/$IQN_RBD/0"
URL[rbd-shard2]="iscsi://127.0.0.1:3260/$IQN_RBD2/0"
URL[rbd-mpath]="iscsi://127.0.0.1:3260/$IQN_RBD_SCRATCH/0 iscsi://127.0.0.2:3260/$IQN_RBD_SCRATCH/0"
URL[rbd-sanitize]="iscsi://127.0.0.1:3260/$IQN_RBD_SCRATCH/0"
RUNS=(fileio svm fileio-mpath svm-mpath fileio-sanitize svm-sanitize)
[ "$RBD" != 1 ] || RUNS+=(rbd rbd-shard2 rbd-mpath rbd-sanitize)
for run in "${RUNS[@]}"; do
	echo "url_$run: ${URL[$run]}" >>"$RES/guest.txt"
done

# The tests SVM_CONF_TESTS selects (FAMILY[.SUITE[.TEST]] globs, comma-separated) in SUITE
# (all suites if SUITE is empty).
selected_in() {
	local suite=$1 name nf ns nt p pf ps pt
	local -a pats
	IFS=, read -r -a pats <<<"$TESTS"
	iscsi-test-cu -l 2>/dev/null | while read -r name; do
		IFS=. read -r nf ns nt <<<"$name"
		if [ -z "$nt" ] || { [ -n "$suite" ] && [ "$ns" != "$suite" ]; }; then
			continue
		fi
		for p in "${pats[@]}"; do
			IFS=. read -r pf ps pt <<<"$p"
			# shellcheck disable=SC2053 # globs, on purpose
			if [[ $nf == ${pf:-*} && $ns == ${ps:-*} && $nt == ${pt:-*} ]]; then
				echo "$name"
				break
			fi
		done
	done
}

run_suite() {
	# run_suite RUN TESTS OPTION...: iscsi-test-cu -t TESTS OPTION... on RUN's
	# URL(s); stdout line-buffered (stdbuf) so that each line's arrival time
	# says when a test ended.
	local run=$1 tests=$2 rc=0 t0 t1 line limit=$LIMIT
	local -a extra urls
	shift 2
	[[ $run != rbd* ]] || limit=${SVM_CONF_RBD_LIMIT:-1500}
	read -r -a extra <<<"${SVM_CONF_ARGS:-}"
	read -r -a urls <<<"${URL[$run]}"
	t0=$EPOCHREALTIME
	{
		timeout -k 10 "$limit" stdbuf -oL -eL \
			iscsi-test-cu "${extra[@]}" -t "$tests" "$@" "${urls[@]}" </dev/null 2>&1 ||
			echo "conformance-guest: iscsi-test-cu exit status $?"
	} | while IFS= read -r line; do
		printf '%s\n' "$line" >&3
		printf '%s %s\n' "$EPOCHREALTIME" "$line" >&4
	done 3>"$RES/$run.log" 4>"$RES/$run.tlog"
	# the exit status travels in-band (the pipeline's status is the loop's)
	rc=$(sed -n 's/^conformance-guest: iscsi-test-cu exit status \([0-9]*\)$/\1/p' "$RES/$run.log" | tail -n1)
	sed -i '/^conformance-guest: iscsi-test-cu exit status [0-9]*$/d' "$RES/$run.log"
	t1=$EPOCHREALTIME
	echo "${rc:-0}" >"$RES/$run.rc"
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f\n", b - a }' >"$RES/$run.time"
	vm_log "iscsi-test-cu on $run: exit ${rc:-0} after $(cat "$RES/$run.time") s"
}

# The test lists of the extra runs (a file of names: iscsi-test-cu -t takes one).
selected_in MultipathIO >"$RES/mpath.tests" || true
selected_in Sanitize >"$RES/sanitize.tests" || true
if [ "$RBD" = 1 ]; then
	# rbd's two shards: the selected tests, whole suites taken alternately
	selected_in "" | awk -F. -v a="$RES/rbd-shard1.tests" -v b="$RES/rbd-shard2.tests" '
		$2 != last { n++; last = $2 }
		{ print > (n % 2 ? a : b) }'
	[ -s "$RES/rbd-shard1.tests" ] || fail "no test selected for rbd"
	[ -s "$RES/rbd-shard2.tests" ] || echo "$(head -n1 "$RES/rbd-shard1.tests")" >"$RES/rbd-shard2.tests"
fi

run_kind() {
	# run_kind LUN: the main run, then the multipath and sanitize runs (on the scratch LUN)
	local lun=$1 pid
	if [ "$lun" = rbd ]; then
		# shard 1 on rbd, meanwhile shard 2 on rbd-shard2 and then the scratch LUN's runs
		run_suite rbd "$RES/rbd-shard1.tests" --dataloss &
		pid=$!
		run_suite rbd-shard2 "$RES/rbd-shard2.tests" --dataloss
		if [ -s "$RES/mpath.tests" ]; then
			run_suite "$lun-mpath" "$RES/mpath.tests" --dataloss
		fi
		if [ -s "$RES/sanitize.tests" ]; then
			run_suite "$lun-sanitize" "$RES/sanitize.tests" --dataloss --allow-sanitize
		fi
		wait "$pid"
		return
	fi
	run_suite "$lun" "$TESTS" --dataloss
	if [ -s "$RES/mpath.tests" ]; then
		run_suite "$lun-mpath" "$RES/mpath.tests" --dataloss
	fi
	if [ -s "$RES/sanitize.tests" ]; then
		run_suite "$lun-sanitize" "$RES/sanitize.tests" --dataloss --allow-sanitize
	fi
}

# The rbd kind: the cluster, a pool, two images of the LUNs' sizes, then
# the same two targets as svm's, with user:svm backstores on the images.
setup_rbd() {
	local t0=$EPOCHREALTIME iqn bs ips ip
	local -a rcmds
	ceph_start || return 1
	ceph_pool_create conf || return 1
	timeout "$SVM_CEPH_TIMEOUT" rbd create --size "$SIZE" conf/lun0 || return 1
	timeout "$SVM_CEPH_TIMEOUT" rbd create --size "$SIZE" conf/lun1 || return 1
	timeout "$SVM_CEPH_TIMEOUT" rbd create --size "$SCRATCH_SIZE" conf/scratch0 || return 1
	rcmds=(
		"/backstores/user:svm create name=rbd0 size=$SIZE cfgstring=rbd/conf/lun0;conf=$SVM_CEPH_CONF"
		"/backstores/user:svm create name=rbd2 size=$SIZE cfgstring=rbd/conf/lun1;conf=$SVM_CEPH_CONF"
		"/backstores/user:svm create name=rbd1 size=$SCRATCH_SIZE cfgstring=rbd/conf/scratch0;conf=$SVM_CEPH_CONF"
	)
	while read -r iqn bs ips; do
		rcmds+=(
			"/iscsi create $iqn"
			"/iscsi/$iqn/tpg1 set attribute authentication=0 generate_node_acls=1 cache_dynamic_acls=1 demo_mode_write_protect=0"
			"/iscsi/$iqn/tpg1/luns create storage_object=/backstores/user:svm/$bs lun=0"
		)
		for ip in ${ips//,/ }; do
			rcmds+=("/iscsi/$iqn/tpg1/portals create $ip 3260")
		done
	done <<EOT2
$IQN_RBD rbd0 127.0.0.1
$IQN_RBD2 rbd2 127.0.0.1
$IQN_RBD_SCRATCH rbd1 127.0.0.1,127.0.0.2
EOT2
	vm_tcli "${rcmds[@]}" || return 1
	grep -H . /sys/kernel/config/target/core/user_*/rbd[012]/attrib/* 2>/dev/null |
		sed 's|^/sys/kernel/config/target/core/||' >>"$RES/attrib.txt" || true
	awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "rbd_setup_s: %.1f\n", b - a }' >>"$RES/guest.txt"
	vm_log "rbd: cluster, pool conf, images and LUNs ready in $(tail -n1 "$RES/guest.txt")"
	ceph_mem
}

vm_log "running iscsi-test-cu -t $TESTS on $KINDS"
if [ "${SVM_CONF_SERIAL:-0}" = 1 ]; then
	run_kind fileio
	run_kind svm
	if [ "$RBD" = 1 ]; then
		setup_rbd || fail "the Ceph cluster or the RBD LUNs could not be set up"
		run_kind rbd
	fi
else
	run_kind fileio &
	pid_f=$!
	run_kind svm &
	pid_s=$!
	pid_r=
	if [ "$RBD" = 1 ]; then
		# in this shell, not a subshell: ceph_start sets what ceph_cleanup needs
		setup_rbd || fail "the Ceph cluster or the RBD LUNs could not be set up"
		run_kind rbd &
		pid_r=$!
	fi
	wait "$pid_f" || fail "the fileio runs failed to record their results"
	wait "$pid_s" || fail "the svm runs failed to record their results"
	[ -z "$pid_r" ] || wait "$pid_r" || fail "the rbd runs failed to record their results"
fi
[ "$RBD" != 1 ] || ceph_mem
for run in "${RUNS[@]}"; do
	[ -f "$RES/$run.log" ] || continue
	grep -A3 '^Run Summary' "$RES/$run.log" | sed "s/^/$run: /" >&2 || vm_log "$run: no Run Summary"
done
cp "$SVM_TCMU_LOG" "$RES/tcmu-runner.log" 2>/dev/null || true
# A dead runner is the handler's failure, not the rig's: the report counts
# the svm tests it took down, so record it rather than failing here.
if ! vm_tcmu_alive; then
	vm_log "tcmu-runner DIED during the run"
	echo "tcmu-runner died during the run" >"$RES/svm.died"
	[ "$RBD" != 1 ] || echo "tcmu-runner died during the run" >"$RES/rbd.died"
fi
pass "iscsi-test-cu ran on $KINDS"
