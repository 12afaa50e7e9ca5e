# shellcheck shell=bash
# Helpers of the live-migration e2e tests (tests/e2e/t_migrate*.sh), sourced
# after tests/vm/lib.sh. Not a test itself (guest-all.sh runs t_*.sh only).
#
# The pattern every migration scenario follows:
#   mig_lun NAME SIZE_MIB DATA_MIB    a user:svm LUN on a source prefilled
#                                     with DATA_MIB of random data (a hole
#                                     after it), exported over tcm_loop
#   mig_fio_start TAG DEV             fio in the background, in rounds: each
#                                     round writes every 4 KiB block of its
#                                     four disjoint ranges once in random
#                                     order (crc32c verify, numjobs=4,
#                                     direct, libaio), reading back and
#                                     checking every 128 blocks written
#                                     (so writes never pause for long) and
#                                     the rest at the end; rounds go on (a new seed
#                                     each) until mig_fio_stop, so the writes
#                                     span the whole migration
#   svmctl migrate ... --rate N       the copy lasts long enough to overlap
#   mig_wait_phase LUN SECS PHASE...  poll svmctl status --json
#   mig_fio_stop TAG                  the round under way finishes and checks
#   mig_fio_verify TAG DEV            fio --verify_only of the last round's
#                                     job: every acknowledged write is there
#   mig_check_outside DEV|FILE ORIG   bytes outside fio's ranges are the prefill
# The rounds make the last one always include the migration's end (the
# switchover, a failure, an abort), and a round's own verify reads what it
# wrote after whatever happened meanwhile. Different seeds per round let
# the verify tell a block of an earlier round (a lost write) from the last.

# Sourcing it installs the EXIT trap (mig_on_exit) and a vm_on_fail that
# dumps the stack's state; a test may define its own vm_on_fail after.

SVMCTL=${SVM_SVMCTL:-$SVM_REPO/build/cli/svmctl}
MIG_DIR=/var/lib/svm-mig # sources (the guest's overlay: tmpfs)
MIG_RUN=/tmp/svm-mig	 # fio job files and outputs, scratch
# The handler's state directory, in tcmu-runner's environment (vm_tcmu_start
# passes ours on): the tests' records stay apart from the other tests'.
export SVM_STATE_DIR=$MIG_DIR/state
MIG_SVMLOG=/var/log/tcmu-svm.log
MIG_FIO_JOBS=4
MIG_FIO_SIZE_MIB=${MIG_FIO_SIZE_MIB:-2}	  # per job
MIG_FIO_STRIDE_MIB=${MIG_FIO_STRIDE_MIB:-16} # job k writes [k*stride, k*stride + size)
# Writes per second and job: a steady stream that lasts a round about as
# long as a migration, rather than bursts with pauses between rounds.
MIG_FIO_RATE_IOPS=${MIG_FIO_RATE_IOPS:-64}
MIG_FIO_ROUNDS_MAX=30
# The SVM log's line prefix (docs/svmlog.md), POSIX extended.
# shellcheck disable=SC2034 # used by the tests that source this file
MIG_LOG_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z cpu[0-9]+:[0-9]+\)SVM: [0-9]+: '

mig_setup() {
	# The stack, the directories, a clean state; and the SVM log's offset
	# at the start, so that checks read only this test's lines.
	[ -x "$SVMCTL" ] || fail "svmctl is not built ($SVMCTL): make build/cli/svmctl"
	rm -rf "$MIG_DIR" "$MIG_RUN"
	mkdir -p "$MIG_DIR" "$MIG_RUN" "$SVM_STATE_DIR"
	MIG_LOG_START=$(($(stat -c %s "$MIG_SVMLOG" 2>/dev/null || echo 0) + 1))
	vm_start_services || fail "services did not start"
	vm_modprobe loop dm_mod
}

mig_dst_ext4() {
	# The destinations' filesystem, /mnt/svm-dst: ext4 on a loop device (the
	# sources live on the guest's overlay, another filesystem).
	truncate -s 256M "$MIG_DIR/dst.ext4"
	mkfs.ext4 -q -F "$MIG_DIR/dst.ext4"
	mkdir -p /mnt/svm-dst
	mount -o loop "$MIG_DIR/dst.ext4" /mnt/svm-dst
}

mig_on_exit() {
	# The tests' EXIT trap. Every step runs whatever the one before did (a
	# step failing under set -e would skip vm_cleanup and leave tcmu-runner
	# running for the next test), and the test's exit status stays. A test
	# undoes its own mounts and devices in mig_teardown, if it defines one.
	set +e
	[ -z "${MIG_WAIT_PID:-}" ] || kill "$MIG_WAIT_PID" 2>/dev/null
	mig_fio_kill_all
	mig_save_logs
	# a test that failed right after killing tcmu-runner: without a runner
	# LIO cannot take its LUNs down, and the next test would find them
	vm_tcmu_alive || ! [ -S /run/dbus/system_bus_socket ] || vm_tcmu_start
	vm_cleanup
	! declare -F mig_teardown >/dev/null || mig_teardown
	! mountpoint -q /mnt/svm-dst || umount /mnt/svm-dst
	losetup -D
}

mig_fio_kill_all() {
	# No fio round may outlive the test (its disk goes with vm_cleanup's
	# clearconfig).
	local f
	for f in "$MIG_RUN"/*/pid; do
		[ -s "$f" ] || continue
		_vm_kill_tree "$(cat "$f")" KILL
		rm -f "$f"
	done
	return 0
}

mig_save_logs() {
	# For a failure's diagnosis: this test's SVM log lines and the state directory.
	local name
	name=$(basename "$0" .sh)
	tail -c "+${MIG_LOG_START:-1}" "$MIG_SVMLOG" >"$SVM_OUTDIR/$name.svm.log" 2>/dev/null || true
	ls -lR "$SVM_STATE_DIR" >"$SVM_OUTDIR/$name.state.txt" 2>&1 || true
	cp "$MIG_RUN"/*/fio.*.out "$SVM_OUTDIR/" 2>/dev/null || true
}

# svmlog_lines: this test's SVM log lines (of the default file).
svmlog_lines() { tail -c "+$MIG_LOG_START" "$MIG_SVMLOG"; }

# --- JSON (one STATUS line of svmctl status --json) --------------------------

jget() { # JSON KEY: the value of KEY: a number, true/false/null, or a string unquoted
	local re="\"$2\":(\"([^\"\\\\]|\\\\.)*\"|[^,}]*)" v
	[[ $1 =~ $re ]] || return 1
	v=${BASH_REMATCH[1]}
	case $v in \"*) v=${v#\"} v=${v%\"} ;; esac
	printf '%s\n' "$v"
}

mig_json() { "$SVMCTL" status "$1" --json; }

mig_wait_phase() { # LUN SECS PHASE...: until the phase is one of them; prints the STATUS
	local lun=$1 limit=$2 st phase deadline
	shift 2
	deadline=$((SECONDS + limit))
	while :; do
		st=$(mig_json "$lun" 2>/dev/null) && phase=$(jget "$st" phase) || phase=
		for p in "$@"; do
			if [ "$phase" = "$p" ]; then
				printf '%s\n' "$st"
				return 0
			fi
		done
		if [ "$SECONDS" -ge "$deadline" ]; then
			vm_log "$lun: still '$phase' after ${limit}s (waiting for $*): $st"
			return 1
		fi
		sleep 0.5
	done
}

mig_wait_mid_copy() { # LUN: until its copy is past fio's first range (12 MiB) with mirrored writes
	local st deadline=$((SECONDS + 120))
	until st=$(mig_json "$1") && [ "$(jget "$st" phase)" = copying ] &&
		[ "$(jget "$st" bytes_copied)" -ge $((12 << 20)) ] &&
		[ "$(jget "$st" mirrored_writes)" -gt 0 ]; do
		[ "$SECONDS" -lt "$deadline" ] || { echo "not there: $st"; return 1; }
		sleep 0.3
	done
	printf '%s\n' "$st"
}

mig_wait_resumed_done() { # LUN DST: a migration resumed after a restart switches over to DST
	local st
	st=$(mig_wait_phase "$1" 300 "done" failed aborted)
	echo "$1: $(mig_summary "$st")"
	[ "$(jget "$st" phase)" = "done" ]
	[ "$(jget "$st" resumed)" = true ]
	[ "$(jget "$st" source)" = "$2" ]
	[ "$(jget "$st" error)" = null ]
	[ "$(jget "$st" max_pause_ms)" -lt 30000 ]
}

mig_summary() { # STATUS: one line of what the migration did
	local st=$1
	echo "phase $(jget "$st" phase): copied $(jget "$st" bytes_copied) skipped" \
		"$(jget "$st" bytes_skipped) of $(jget "$st" bytes_total) bytes, mirrored writes" \
		"$(jget "$st" mirrored_writes), waited $(jget "$st" waited_writes), resumed" \
		"$(jget "$st" resumed), ${ST_ELAPSED:-}elapsed $(jget "$st" elapsed_ms) ms, max_pause_ms" \
		"$(jget "$st" max_pause_ms), error $(jget "$st" error)"
}

# --- stores and LUNs ---------------------------------------------------------

mig_prefill() { # FILE SIZE_MIB DATA_MIB: random data, then a hole up to the size
	head -c $(($3 << 20)) /dev/urandom >"$1"
	truncate -s $(($2 << 20)) "$1"
}

mig_lun() { # NAME SIZE_MIB DATA_MIB [CFGSTRING-TAIL]: prints the disk (/dev/sdX)
	local name=$1 src=$MIG_DIR/$1.img dev
	mig_prefill "$src" "$2" "$3"
	cp "$src" "$MIG_RUN/$name.orig"
	# cmd_time_out: a killed tcmu-runner's commands wait in the ring for its
	# successor; under TCG on a busy host its restart may outlast the 30 s
	# default. (LIO takes it only before the LUN is exported.)
	vm_tcli "/backstores/user:svm create name=$name size=$2M cfgstring=$src${4:-}" \
		"/backstores/user:svm/$name set attribute cmd_time_out=120" >&2 || return 1
	dev=$(vm_loop_lun "/backstores/user:svm/$name") || return 1
	# nor should the SCSI layer's own timeout fire meanwhile
	echo 180 >"/sys/block/${dev#/dev/}/device/timeout"
	echo "$dev"
}

mig_dev_config() { # NAME: LIO's dev_config of the backstore
	cat /sys/kernel/config/target/core/user_*/"$1"/attrib/dev_config
}

mig_store_id() { # PATH: the SVM log's id of a canonical path (FNV-1a 32, folded to 28 bits)
	local s=$1 h=2166136261 i c
	for ((i = 0; i < ${#s}; i++)); do
		printf -v c '%d' "'${s:i:1}"
		h=$((((h ^ c) * 16777619) & 0xffffffff))
	done
	printf '%x\n' $(((h >> 28) ^ (h & 0x0fffffff)))
}

mig_writes() { # DEV: writes completed by the initiator's disk so far (/sys/block/X/stat)
	local a
	read -r -a a <"/sys/block/${1#/dev/}/stat"
	echo "${a[4]}"
}

# --- fio -----------------------------------------------------------------------

_mig_fio_job() { # DEV SEED FILE
	cat >"$3" <<EOF
[global]
filename=$1
allow_file_create=0
ioengine=libaio
direct=1
iodepth=8
rw=randwrite
bs=4k
rate_iops=$MIG_FIO_RATE_IOPS
numjobs=$MIG_FIO_JOBS
size=${MIG_FIO_SIZE_MIB}M
offset_increment=${MIG_FIO_STRIDE_MIB}M
verify=crc32c
verify_fatal=1
do_verify=1
verify_backlog=128
verify_state_save=0
randseed=$2
group_reporting=1
[mig]
EOF
}

_mig_fio_loop() { # TAG DEV (background)
	local d=$MIG_RUN/$1 dev=$2 i=0 rc seed
	while [ $i -lt $MIG_FIO_ROUNDS_MAX ]; do
		# never a round on a disk that went away (the test failed meanwhile)
		[ -b "$dev" ] || break
		i=$((i + 1))
		seed=$((RANDOM * 32768 + RANDOM + 1))
		_mig_fio_job "$dev" "$seed" "$d/job.$i"
		rc=0
		fio --output="$d/fio.$i.out" "$d/job.$i" >/dev/null 2>&1 || rc=$?
		echo "$i" >"$d/rounds"
		if [ $rc -ne 0 ]; then
			echo "$rc" >"$d/rc"
			return
		fi
		[ ! -e "$d/stop" ] || break
	done
	echo 0 >"$d/rc"
}

mig_fio_start() { # TAG DEV: call directly (not in $(...) nor vm_step)
	local d=$MIG_RUN/$1
	rm -rf "$d"
	mkdir -p "$d"
	_mig_fio_loop "$1" "$2" </dev/null &
	echo $! >"$d/pid"
	vm_log "fio rounds on $2 started (pid $!), tag $1"
}

mig_fio_wait_writing() { # TAG DEV WRITES: until DEV completed WRITES more writes (fio runs)
	local w0
	local deadline=$((SECONDS + 120))
	w0=$(mig_writes "$2")
	until [ "$(mig_writes "$2")" -ge $((w0 + $3)) ]; do
		[ ! -e "$MIG_RUN/$1/rc" ] || { vm_log "fio ($1) ended early"; return 1; }
		[ "$SECONDS" -lt "$deadline" ] || { vm_log "fio ($1) wrote nothing in 120s"; return 1; }
		sleep 0.2
	done
}

mig_fio_stop() { # TAG: the round under way ends; fails unless every round passed
	local d=$MIG_RUN/$1 rc out
	: >"$d/stop"
	vm_wait_for 400 "fio ($1) to finish its round" test -e "$d/rc" || return 1
	rm -f "$d/pid"
	rc=$(cat "$d/rc")
	for out in "$d"/fio.*.out; do
		grep -E '^ *(write|read): IOPS' "$out" | sed "s|^ *|fio ${out##*/}: |"
	done
	if [ "$rc" -ne 0 ]; then
		echo "fio ($1) failed (status $rc) in round $(cat "$d/rounds"):"
		tail -n 30 "$d/fio.$(cat "$d/rounds").out"
		return 1
	fi
	echo "fio ($1): $(cat "$d/rounds") round(s) of $MIG_FIO_JOBS x ${MIG_FIO_SIZE_MIB} MiB random 4 KiB writes, each read back and verified (crc32c)"
}

mig_fio_verify() { # TAG DEV: fio --verify_only of the last round, on DEV (may differ from the round's)
	local d=$MIG_RUN/$1 n out
	n=$(cat "$d/rounds")
	sed "s|^filename=.*|filename=$2|; /^rate_iops=/d" "$d/job.$n" >"$d/verify.job"
	out=$d/verify.$(date +%s%N).out
	if ! fio --verify_only --output="$out" "$d/verify.job" >/dev/null 2>&1; then
		echo "fio --verify_only of round $n on $2 FAILED:"
		tail -n 30 "$out"
		return 1
	fi
	grep -E '^ *read: IOPS' "$out" | sed 's|^ *|fio verify_only: |'
	grep -q 'err= *0' "$out"
	echo "fio --verify_only on $2: every block of round $n as written ($MIG_FIO_JOBS x ${MIG_FIO_SIZE_MIB} MiB, crc32c)"
}

mig_check_outside() { # DEV|FILE ORIG SIZE_MIB: outside fio's ranges, equal to ORIG
	local k off len
	for ((k = 0; k < MIG_FIO_JOBS; k++)); do
		off=$(((k * MIG_FIO_STRIDE_MIB + MIG_FIO_SIZE_MIB) << 20))
		if [ $k -lt $((MIG_FIO_JOBS - 1)) ]; then
			len=$((((k + 1) * MIG_FIO_STRIDE_MIB << 20) - off))
		else
			len=$(($3 << 20))
			len=$((len - off))
		fi
		cmp -n "$len" -i "$off:$off" "$1" "$2" || {
			echo "$1 differs from the prefill outside fio's ranges (at $off, $len bytes)"
			return 1
		}
	done
	echo "$1: outside fio's ranges the prefill, byte for byte"
}

mig_lun_equals() { # DEV FILE: the whole LUN read through the initiator (no page cache) is FILE
	cmp <(dd if="$1" bs=4M iflag=direct status=none) "$2" || {
		echo "the LUN read through $1 differs from $2"
		return 1
	}
	echo "the LUN read through $1 equals $2, byte for byte"
}

vm_on_fail() { vm_dump_state; }
trap mig_on_exit EXIT
