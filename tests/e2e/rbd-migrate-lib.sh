# shellcheck shell=bash
# Helpers of the RBD migration e2e tests (tests/e2e/t_rbd_migrate*.sh),
# sourced after tests/vm/lib.sh, tests/vm/ceph.sh and migrate-lib.sh. Not a
# test itself (guest-all.sh runs t_*.sh only).
#
#   rbdmig_setup POOL...   skip (77) without ceph; the stack (mig_setup), the
#                          cluster, the pools; an EXIT trap that takes LIO
#                          and tcmu-runner down before the cluster
#   rbdmig_lun NAME POOL SIZE_MIB DATA_MIB
#                          a user:svm LUN on RBD image POOL/NAME, imported
#                          (sparse) from random data followed by a hole;
#                          the data is kept in $MIG_RUN/NAME.orig; prints
#                          the disk
#   rbdmig_export POOL/IMAGE FILE   the image's bytes into FILE
#   rbdmig_images POOL     the pool's image names, one a line
#   rbdmig_dmesg_check     the kernel logged no BUG, WARNING or hung task
#                          since rbdmig_setup

rbdmig_on_exit() {
	local rc=$?
	mig_on_exit
	ceph_stop
	exit "$rc"
}

rbdmig_setup() {
	ceph_require
	mig_setup
	RBDMIG_DMESG0=$(dmesg | wc -l)
	trap rbdmig_on_exit EXIT
	vm_on_fail() {
		vm_dump_state
		ceph_dump_state
	}
	ceph_start || fail "the Ceph cluster did not start"
	local p
	for p in "$@"; do
		ceph_pool_create "$p" || fail "pool $p not created"
	done
}

rbdmig_lun() { # NAME POOL SIZE_MIB DATA_MIB: prints the disk (/dev/sdX)
	local name=$1 pool=$2 dev
	mig_prefill "$MIG_RUN/$name.orig" "$3" "$4"
	timeout 180 rbd import --no-progress "$MIG_RUN/$name.orig" "$pool/$name" >&2 || return 1
	vm_tcli "/backstores/user:svm create name=$name size=$3M cfgstring=rbd/$pool/$name;conf=$SVM_CEPH_CONF" \
		"/backstores/user:svm/$name set attribute cmd_time_out=120" >&2 || return 1
	dev=$(vm_loop_lun "/backstores/user:svm/$name") || return 1
	echo 180 >"/sys/block/${dev#/dev/}/device/timeout"
	echo "$dev"
}

rbdmig_export() { # POOL/IMAGE FILE
	rm -f "$2"
	timeout 180 rbd export --no-progress "$1" "$2" >&2
}

rbdmig_images() { # POOL
	timeout 120 rbd ls "$1"
}

rbdmig_dmesg_check() {
	local new
	new=$(dmesg | tail -n "+$((RBDMIG_DMESG0 + 1))")
	if grep -E 'BUG:|WARNING:|Call Trace|blocked for more than|Oops' <<<"$new" >&2; then
		echo "the kernel logged the lines above during the test"
		return 1
	fi
	echo "dmesg: no BUG, WARNING, Oops or hung task since the test began"
}

rbdmig_migrate_done() { # LUN TO RATE_MIBS SECS: svmctl migrate, until done; prints the STATUS
	"$SVMCTL" migrate "$1" --to "$2" --rate "$3" >&2 || return 1
	local st
	st=$(mig_wait_phase "$1" "$4" "done" failed aborted) || return 1
	echo "$1: $(mig_summary "$st")" >&2
	[ "$(jget "$st" phase)" = "done" ] || { echo "$st" >&2; return 1; }
	printf '%s\n' "$st"
}
