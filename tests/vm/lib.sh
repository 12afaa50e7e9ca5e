# shellcheck shell=bash
# tests/vm/lib.sh: helpers for guest test scripts of the tcmu-svm VM rig.
#
# A guest script runs inside the VM started by tests/vm/run-vm, as root,
# with cwd = the repository root, stdin = /dev/null and stdout+stderr going
# to the console and to $SVM_OUTDIR/guest.log.  Source this file first:
#
#     #!/bin/bash
#     set -euo pipefail
#     . "$(dirname "$0")/lib.sh"      # or . tests/vm/lib.sh
#     trap vm_cleanup EXIT
#     vm_start_services
#     dev=$(vm_loop_lun "$(vm_fileio f0 /tmp/f0.img 64M)")
#     ...
#     pass "all good"
#
# Exit status convention (what run-vm reports): 0 pass, 77 skip, other fail.
#
# Variables (set by the rig; may be overridden before sourcing):
#   SVM_REPO         repository root (same absolute path as on the host)
#   SVM_OUTDIR       results directory, writable, shared with the host
#                    (/mnt/out in the guest; on the host: run-vm -o DIR)
#   SVM_HANDLER_DIR  directory holding handler_svm.so, given to tcmu-runner
#                    as --handler-path (default: $SVM_REPO/build)
#   SVM_TCMU_DEBUG=1 start tcmu-runner with -d (debug logging)
#   SVM_DEV_TIMEOUT  seconds to wait for a device node (default 60)
#   SVM_TCLI_SERVER=0  do not start the resident targetcli server (vm_tcli
#                    then starts targetcli for every call: 2-3 s or more each)
#   SVM_TCLI_PORT    its port on 127.0.0.1 (default 13260)
#   SVM_TCLI_TIMEOUT seconds vm_tcli waits for the server's answer (300)
#   SVM_IN_VM=1      set by the rig; the helpers refuse to run without it
#
# Functions.  "prints" means on stdout, meant for $(...); all progress and
# error messages go to stderr.  Functions return non-zero on failure (so
# set -e aborts the script) unless they are one of pass/fail/skip, which exit.
#
#   pass [MSG]                 print "PASS: MSG", exit 0
#   fail MSG                   print "FAIL: MSG", run the script's own
#                              vm_on_fail function if it defines one (e.g.
#                              to call vm_dump_state), exit 1
#   skip MSG                   print "SKIP: MSG", exit 77
#   vm_log MSG...              timestamped (guest uptime) message on stderr
#   vm_require CMD...          skip (77) unless every CMD is on PATH
#   vm_require_file FILE...    skip (77) unless every FILE exists
#   vm_show CMD [ARGS...]      run CMD (a command or a shell function), copy its
#                              stdout to stderr (the test's log) and print it;
#                              returns CMD's status. For grep <<<"$(vm_show ...)":
#                              "| tee /dev/stderr" would reopen the log file,
#                              truncating it
#   vm_step NAME TIMEOUT_S CMD [ARGS...]
#                              run CMD (a command or a shell function) in a
#                              subshell with set -e and a time limit; logs
#                              start, end and duration; returns 0 on success,
#                              otherwise calls fail (exit 1); on timeout CMD
#                              and all its descendants are killed first.
#                              Variables CMD sets do not reach the caller.
#                              Call it as a plain command, never as
#                              "vm_step ... || ..." (bash would then ignore
#                              set -e inside CMD)
#   vm_wait_for TIMEOUT_S DESC CMD [ARGS...]
#                              re-run CMD every 0.2 s until it succeeds;
#                              returns 1 (with a message naming DESC) on timeout
#   vm_modprobe MOD...         load kernel modules (no-op when loaded)
#   vm_start_services [HANDLER_DIR]
#                              load target_core_user, tcm_loop,
#                              iscsi_target_mod, sd_mod, sg; start the system
#                              D-Bus; start tcmu-runner with --handler-path
#                              HANDLER_DIR (default $SVM_HANDLER_DIR) and
#                              wait (30 s) until it owns org.kernel.TCMUService1;
#                              also the targetcli server (see vm_tcli; started
#                              first, waited for last; SVM_TCLI_SERVER=0: no).
#                              Sets SVM_TCMU_PID and SVM_TCMU_LOG
#                              (= $SVM_OUTDIR/tcmu-runner/tcmu-runner.log;
#                              its stdout/stderr: tcmu-runner.out beside it).
#                              Call it directly, not in $(...) or vm_step
#   vm_tcmu_alive              succeed iff the tcmu-runner we started runs
#   vm_tcmu_stop [SIGNAL]      stop that tcmu-runner (default SIGTERM; KILL
#                              to simulate a crash), wait up to 10 s for it
#   vm_tcmu_start [HANDLER_DIR]
#                              start tcmu-runner again (e.g. after
#                              vm_tcmu_stop; D-Bus must run), same as in
#                              vm_start_services; logs are appended to
#                              the same files
#   vm_stock_handler_dir       prints tcmu-runner's built-in handler
#                              directory (its stock handlers: fbo, zbc, ...)
#   vm_tcli CMDLINE...         run targetcli command lines (one argument each,
#                              absolute paths, e.g. "/loopback create") as one
#                              batch; stops at the first failing command
#                              (status 1); output on stderr.  Uses the
#                              resident targetcli server (tests/vm/tcli-batch
#                              --serve on 127.0.0.1) when it runs: well under
#                              a second a call, where a targetcli start costs
#                              2-3 s (more on a busy host); otherwise one
#                              targetcli process per call.  Plain `targetcli`
#                              works too, just slower
#   vm_tcli_server_start / vm_tcli_server_stop
#                              start / stop that server by hand (log:
#                              $SVM_OUTDIR/tcli-server.log)
#   vm_fileio NAME FILE SIZE   create a sparse FILE of SIZE (e.g. 64M) and a
#                              fileio backstore NAME on it; prints its path
#                              /backstores/fileio/NAME
#   vm_user_backstore SUBTYPE NAME SIZE [CFGSTRING]
#                              create a TCMU (tcmu-runner) backstore, e.g.
#                              vm_user_backstore svm d0 1G "<cfgstring>";
#                              prints /backstores/user:SUBTYPE/NAME.  The
#                              handler must be loaded by tcmu-runner
#   vm_loop_lun BACKSTORE [LUN]
#                              export BACKSTORE (e.g. /backstores/user:svm/d0)
#                              as LUN (default: next free) of the tcm_loop
#                              target (created on first use); waits for the
#                              disk and prints its node, e.g. /dev/sdb
#   vm_loop_lun_sg BACKSTORE [LUN]
#                              same, but waits for and prints the SCSI generic
#                              node (/dev/sgN); for any device type (a disk,
#                              a CD-ROM, ...), sd need not attach
#   vm_loop_disk_of BACKSTORE-NAME
#                              prints the /dev/sdX of the tcm_loop LUN that
#                              exports the backstore of that name (say,
#                              after restoreconfig brought the LUNs back);
#                              fails while there is none
#   vm_sg_of DEV               prints the SCSI generic node of /dev/sdX
#   vm_iscsi_lun BACKSTORE [NAME] [LUN]
#                              export BACKSTORE over iSCSI: target
#                              iqn.2003-01.org.linux-iscsi.svm-vm:NAME
#                              (default NAME "test"; created on first use,
#                              demo mode, no auth, writable, one portal
#                              127.0.0.1:3260); prints the libiscsi URL
#                              iscsi://127.0.0.1:3260/<iqn>/<lun>
#   vm_dump_state              targetcli tree + tail of the tcmu-runner log
#                              (for diagnosing a failure), on stderr
#   vm_cleanup                 clear the whole LIO configuration, stop
#                              tcmu-runner (and the D-Bus daemon we started);
#                              never exits, safe as "trap vm_cleanup EXIT"

if [ "${SVM_IN_VM:-}" != 1 ]; then
	echo "lib.sh: this is a guest-side library; run the script with tests/vm/run-vm" >&2
	exit 2
fi

: "${SVM_REPO:=$(pwd -P)}"
: "${SVM_OUTDIR:=/mnt/out}"
: "${SVM_HANDLER_DIR:=$SVM_REPO/build}"
: "${SVM_DEV_TIMEOUT:=60}"
: "${SVM_TCLI_PORT:=13260}"
: "${SVM_TCLI_TIMEOUT:=300}"
SVM_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
SVM_STATE=/run/svm-vm
SVM_TCMU_PID=
SVM_TCMU_LOG=
# The runner's log is one file for all tests of a VM run: where this test's part begins.
SVM_TCMU_LOG_MARK=$(stat -c %s "${SVM_OUTDIR:-/nonexistent}/tcmu-runner/tcmu-runner.log" 2>/dev/null || echo 0)
SVM_IQN_PREFIX=iqn.2003-01.org.linux-iscsi.svm-vm
mkdir -p "$SVM_STATE"

# --- exit conventions and logging ------------------------------------------

vm_log() {
	local up _
	read -r up _ </proc/uptime
	printf '[%8s] %s\n' "$up" "$*" >&2
}

_vm_pidfile_alive() {
	# _vm_pidfile_alive FILE: the PID in FILE runs (builtins only: under TCG
	# every process start costs 0.05-0.2 s).
	local pid=
	[ -s "$1" ] && read -r pid <"$1" && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

pass() {
	echo "PASS: ${*:-$(basename "$0")}"
	exit 0
}

fail() {
	echo "FAIL: $*" >&2
	if declare -F vm_on_fail >/dev/null; then
		vm_on_fail || true
	fi
	exit 1
}

skip() {
	echo "SKIP: $*" >&2
	exit 77
}

_vm_pkg_of() {
	# The Debian package that ships command $1 (for skip messages).
	case $1 in
	targetcli) echo targetcli-fb ;;
	tcmu-runner) echo tcmu-runner ;;
	dbus-daemon | dbus-send) echo dbus ;;
	fio) echo fio ;;
	sg_*) echo sg3-utils ;;
	iscsi-*) echo libiscsi-bin ;;
	ip) echo iproute2 ;;
	ps) echo procps ;;
	modprobe) echo kmod ;;
	python3) echo python3 ;;
	*) echo "?" ;;
	esac
}

vm_require() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 ||
			skip "required command '$c' not available (Debian package: $(_vm_pkg_of "$c"))"
	done
}

vm_show() {
	local out rc=0
	out=$("$@") || rc=$?
	printf '%s\n' "$out" >&2
	printf '%s\n' "$out"
	return "$rc"
}

vm_require_file() {
	local f
	for f in "$@"; do
		[ -e "$f" ] || skip "required file '$f' not found"
	done
}

# --- processes and waiting -------------------------------------------------

_vm_kill_tree() {
	# _vm_kill_tree PID SIGNAL: signal PID and all its descendants.
	local pid=$1 sig=$2 child
	for child in $(ps -o pid= --ppid "$pid" 2>/dev/null); do
		_vm_kill_tree "$child" "$sig"
	done
	kill "-$sig" "$pid" 2>/dev/null || true
}

_vm_ms() {
	# Milliseconds since the epoch, without starting a process.
	local t=${EPOCHREALTIME/[.,]/}
	echo $((t / 1000))
}

vm_step() {
	local name=$1 limit=$2 start rc=0 pid wd mark
	shift 2
	[ $# -gt 0 ] || fail "vm_step: no command for step '$name'"
	vm_log "STEP $name: start (limit ${limit}s)"
	start=$(_vm_ms)
	mark=$SVM_STATE/step-timeout.$BASHPID.$RANDOM
	rm -f "$mark"
	# A subshell, so that shell functions work too, with errexit on.  (Do
	# not call vm_step as "vm_step ... || x": bash then ignores set -e in
	# everything vm_step runs.)
	(set -e; "$@") &
	pid=$!
	# A watchdog rather than a polling loop: polling costs a process start
	# per round, which under TCG is slow and skews the time limit.
	(
		sleep "$limit"
		: >"$mark"
		_vm_kill_tree "$pid" TERM
		sleep 2
		_vm_kill_tree "$pid" KILL
	) &
	wd=$!
	wait "$pid" || rc=$?
	_vm_kill_tree "$wd" TERM
	wait "$wd" 2>/dev/null || true
	if [ -e "$mark" ]; then
		rm -f "$mark"
		vm_log "STEP $name: TIMEOUT after ${limit}s (killed)"
		fail "step '$name' timed out after ${limit}s"
	fi
	if [ "$rc" -ne 0 ]; then
		vm_log "STEP $name: FAILED (status $rc) after $(($(_vm_ms) - start)) ms"
		fail "step '$name' failed (status $rc)"
	fi
	vm_log "STEP $name: ok in $(($(_vm_ms) - start)) ms"
}

vm_wait_for() {
	local limit=$1 desc=$2 deadline
	shift 2
	deadline=$((SECONDS + limit))
	while ! "$@" >/dev/null 2>&1; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			vm_log "timed out after ${limit}s waiting for $desc"
			return 1
		fi
		sleep 0.2
	done
}

# --- services --------------------------------------------------------------

vm_modprobe() {
	# One modprobe for all: each process start costs ~0.1-0.2 s under TCG.
	modprobe -a "$@" || { vm_log "modprobe -a $* failed"; return 1; }
}

_vm_dbus_has_name() {
	dbus-send --system --print-reply --dest=org.freedesktop.DBus \
		/org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner "string:$1" 2>/dev/null |
		grep -q 'boolean true'
}

_vm_tcmu_pid() {
	# The PID also lives in a file, so it survives subshells (vm_step, $(...)).
	if [ -n "$SVM_TCMU_PID" ]; then
		echo "$SVM_TCMU_PID"
	elif [ -s "$SVM_STATE/tcmu-runner.pid" ]; then
		local pid
		read -r pid <"$SVM_STATE/tcmu-runner.pid" && echo "$pid"
	fi
}

vm_tcmu_alive() {
	local pid
	pid=$(_vm_tcmu_pid)
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

vm_stock_handler_dir() {
	# The --handler-path default compiled into tcmu-runner (its --help says).
	local dir
	dir=$(tcmu-runner --help 2>&1 | sed -n '/--handler-path/,/default is/s/.*default is \(\/[^ ]*\).*/\1/p' | head -n1)
	[ -n "$dir" ] || dir=/usr/lib/x86_64-linux-gnu/tcmu-runner
	echo "$dir"
}

vm_start_services() {
	local handler_dir=${1:-$SVM_HANDLER_DIR} logdir
	# target_core_mod keeps persistent-reservation/ALUA metadata under
	# /etc/target (kernel log: "db_root: cannot open: /etc/target" without
	# it); in the guest that lands in the throw-away overlay.
	[ -d /etc/target ] || mkdir -p /etc/target
	# The targetcli server's python imports take seconds: start them first
	# so that they overlap with module loading and tcmu-runner's start.
	[ "${SVM_TCLI_SERVER:-1}" != 1 ] || _vm_tcli_server_spawn
	vm_modprobe target_core_user tcm_loop iscsi_target_mod sd_mod sg || return 1

	if [ ! -S /run/dbus/system_bus_socket ]; then
		mkdir -p /run/dbus
		# --print-pid wants a file descriptor, not a file name.
		dbus-daemon --system --fork --print-pid=3 3>"$SVM_STATE/dbus.started" ||
			{ vm_log "could not start the system D-Bus daemon"; return 1; }
		vm_wait_for 10 "the system D-Bus socket" test -S /run/dbus/system_bus_socket || return 1
	fi

	vm_tcmu_start "$handler_dir" || return 1
	if [ "${SVM_TCLI_SERVER:-1}" = 1 ]; then
		_vm_tcli_server_wait || vm_log "targetcli server did not start; vm_tcli runs targetcli directly"
	fi
}

vm_tcmu_log_mine() { # the runner's log lines written since this test began
	tail -c "+$((SVM_TCMU_LOG_MARK + 1))" "$SVM_TCMU_LOG" 2>/dev/null
}

vm_tcmu_start() {
	local handler_dir=${1:-$SVM_HANDLER_DIR} logdir
	if vm_tcmu_alive; then
		vm_log "vm_tcmu_start: tcmu-runner already runs (pid $(_vm_tcmu_pid))"
		return 1
	fi
	if [ ! -d "$handler_dir" ]; then
		vm_log "handler directory '$handler_dir' does not exist"
		return 1
	fi
	if [ ! -S /run/dbus/system_bus_socket ]; then
		vm_log "vm_tcmu_start: no system D-Bus (use vm_start_services first)"
		return 1
	fi
	logdir=$SVM_OUTDIR/tcmu-runner
	mkdir -p "$logdir"
	SVM_TCMU_LOG=$logdir/tcmu-runner.log
	local args=(--handler-path "$handler_dir" -l "$logdir")
	[ "${SVM_TCMU_DEBUG:-0}" != 1 ] || args+=(-d)
	vm_log "starting tcmu-runner ${args[*]}"
	tcmu-runner "${args[@]}" >>"$logdir/tcmu-runner.out" 2>&1 </dev/null &
	SVM_TCMU_PID=$!
	echo "$SVM_TCMU_PID" >"$SVM_STATE/tcmu-runner.pid"
	# handler_svm.so links librbd and librados (large C++ libraries): loading
	# them costs a TCG guest seconds, many more on a loaded host
	local t0=$SECONDS limit=${SVM_TCMU_START_S:-120}
	local deadline=$((SECONDS + limit))
	until _vm_dbus_has_name org.kernel.TCMUService1; do
		if ! vm_tcmu_alive; then
			vm_log "tcmu-runner exited during start-up; its output:"
			tail -n 30 "$logdir/tcmu-runner.out" "$SVM_TCMU_LOG" >&2 2>/dev/null || true
			SVM_TCMU_PID=
			rm -f "$SVM_STATE/tcmu-runner.pid"
			return 1
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			vm_log "tcmu-runner did not register org.kernel.TCMUService1 on D-Bus within ${limit}s"
			return 1
		fi
		sleep 0.2
	done
	vm_log "tcmu-runner is up (pid $SVM_TCMU_PID, log $SVM_TCMU_LOG) after $((SECONDS - t0)) s"
}

vm_tcmu_stop() {
	local sig=${1:-TERM} pid deadline
	pid=$(_vm_tcmu_pid)
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		vm_log "stopping tcmu-runner (pid $pid, SIG$sig)"
		kill "-$sig" "$pid" 2>/dev/null || true
		deadline=$((SECONDS + 10))
		while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
			sleep 0.2
		done
		if kill -0 "$pid" 2>/dev/null; then
			vm_log "tcmu-runner (pid $pid) still runs 10s after SIG$sig; killing it"
			kill -KILL "$pid" 2>/dev/null || true
		fi
		wait "$pid" 2>/dev/null || true
	fi
	SVM_TCMU_PID=
	rm -f "$SVM_STATE/tcmu-runner.pid"
}

# --- LIO configuration -----------------------------------------------------

_vm_tcli_remote() {
	# _vm_tcli_remote CMDLINE...: run a batch on the resident tcli-batch
	# server with bash's /dev/tcp (no process start at all).  Status 3 when
	# the server cannot be reached (nothing was sent then).
	local fd line status=
	# (The braces keep 2>/dev/null from applying to the shell for good, as
	# a redirection on a bare exec would.)
	{ exec {fd}<>"/dev/tcp/127.0.0.1/$SVM_TCLI_PORT"; } 2>/dev/null || return 3
	printf '%s\n' "$@" . >&"$fd"
	while IFS= read -r -t "$SVM_TCLI_TIMEOUT" line <&"$fd"; do
		case $line in
		"=status "*) status=${line#=status } ;;
		*) printf '%s\n' "$line" >&2 ;;
		esac
	done
	exec {fd}>&-
	if [ -z "$status" ]; then
		vm_log "vm_tcli: no answer from the targetcli server (crashed, or slower than ${SVM_TCLI_TIMEOUT}s); see $SVM_OUTDIR/tcli-server.log"
		return 1
	fi
	return "$status"
}

_vm_tcli_server_alive() {
	_vm_pidfile_alive "$SVM_STATE/tcli.pid"
}

_vm_tcli_server_spawn() {
	# Start the server without waiting for it (its python imports take
	# seconds; vm_start_services overlaps them with tcmu-runner's start).
	# It writes tcli.pid once it listens; tcli.spawn has its PID from now.
	_vm_tcli_server_alive && return 0
	if _vm_pidfile_alive "$SVM_STATE/tcli.spawn"; then
		return 0
	fi
	rm -f "$SVM_STATE/tcli.pid"
	python3 "$SVM_LIB_DIR/tcli-batch" --serve "$SVM_TCLI_PORT" "$SVM_STATE/tcli.pid" \
		>>"$SVM_OUTDIR/tcli-server.log" 2>&1 </dev/null &
	echo "$!" >"$SVM_STATE/tcli.spawn"
}

_vm_tcli_server_ready() {
	# Succeeds once listening; fails for good (status 2) if it died.
	[ -s "$SVM_STATE/tcli.pid" ] && return 0
	_vm_pidfile_alive "$SVM_STATE/tcli.spawn" || return 2
	return 1
}

_vm_tcli_server_wait() {
	local deadline=$((SECONDS + 120)) rc
	while :; do
		rc=0
		_vm_tcli_server_ready || rc=$?
		[ "$rc" -eq 0 ] && break
		if [ "$rc" -eq 2 ]; then
			vm_log "the targetcli server exited; see $SVM_OUTDIR/tcli-server.log"
			return 1
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			vm_log "the targetcli server did not come up within 120s"
			vm_tcli_server_stop
			return 1
		fi
		sleep 0.2
	done
	vm_log "targetcli server up (pid $(cat "$SVM_STATE/tcli.pid"), 127.0.0.1:$SVM_TCLI_PORT, log $SVM_OUTDIR/tcli-server.log)"
}

vm_tcli_server_start() {
	_vm_tcli_server_spawn && _vm_tcli_server_wait
}

vm_tcli_server_stop() {
	local f
	for f in tcli.pid tcli.spawn; do
		if [ -s "$SVM_STATE/$f" ]; then
			kill -TERM "$(cat "$SVM_STATE/$f")" 2>/dev/null || true
		fi
		rm -f "${SVM_STATE:?}/$f"
	done
	return 0
}

vm_tcli() {
	local c rc
	for c in "$@"; do
		case $c in *$'\n'*) vm_log "vm_tcli: a command line must not contain a newline"; return 2 ;; esac
	done
	# A server still importing (spawned by vm_start_services): wait for it.
	if [ -s "$SVM_STATE/tcli.spawn" ] && ! _vm_tcli_server_alive; then
		rc=0
		_vm_tcli_server_ready || rc=$?
		[ "$rc" -ne 1 ] || _vm_tcli_server_wait || true
	fi
	if _vm_tcli_server_alive; then
		rc=0
		_vm_tcli_remote "$@" || rc=$?
		[ "$rc" -eq 3 ] || return "$rc"
		vm_log "vm_tcli: targetcli server unreachable, running targetcli directly"
	fi
	python3 "$SVM_LIB_DIR/tcli-batch" "$@" >&2
}

vm_user_backstore() {
	local subtype=$1 name=$2 size=$3 cfg=${4:-}
	vm_tcli "/backstores/user:$subtype create name=$name size=$size${cfg:+ cfgstring=$cfg}" || return 1
	echo "/backstores/user:$subtype/$name"
}

vm_fileio() {
	local name=$1 file=$2 size=$3
	case $file in */*) mkdir -p "${file%/*}" ;; esac
	truncate -s "$size" "$file" || return 1
	vm_tcli "/backstores/fileio create name=$name file_or_dev=$file size=$size write_back=false" || return 1
	echo "/backstores/fileio/$name"
}

_vm_next_lun() {
	# _vm_next_lun TPG_CONFIGFS_DIR: smallest N without a lun_N.
	local n=0
	while [ -e "$1/lun/lun_$n" ]; do n=$((n + 1)); done
	echo "$n"
}

_vm_loop_tpg() {
	# Print the configfs dir of the (single) tcm_loop TPG, creating the
	# target on first use.
	local base=/sys/kernel/config/target/loopback tpg
	for tpg in "$base"/naa.*/tpgt_1; do
		if [ -d "$tpg" ]; then echo "$tpg"; return 0; fi
	done
	vm_tcli "/loopback create" || return 1
	for tpg in "$base"/naa.*/tpgt_1; do
		if [ -d "$tpg" ]; then echo "$tpg"; return 0; fi
	done
	vm_log "tcm_loop target not found in configfs after creating it"
	return 1
}

_vm_loop_disk() {
	# _vm_loop_disk H:C:T:L: print the block device name (sdX) once it exists.
	local d
	for d in /sys/bus/scsi/devices/"$1"/block/*; do
		[ -e "$d" ] || return 1
		[ -b "/dev/${d##*/}" ] || return 1
		echo "${d##*/}"
		return 0
	done
	return 1
}

_vm_loop_add() {
	# _vm_loop_add BACKSTORE [LUN]: map BACKSTORE into the tcm_loop target;
	# prints the SCSI address H:C:T:L of the new LUN.
	local bs=$1 lun=${2:-} tpg wwn addr
	tpg=$(_vm_loop_tpg) || return 1
	wwn=${tpg%/tpgt_1}
	wwn=${wwn##*/}
	[ -n "$lun" ] || lun=$(_vm_next_lun "$tpg")
	vm_tcli "/loopback/$wwn/luns create storage_object=$bs lun=$lun" || return 1
	# tpgt_1/address holds "host:channel:target" of the tcm_loop SCSI host
	# (valid once the I_T nexus exists; targetcli creates it with the target).
	vm_wait_for 10 "tcm_loop nexus of $wwn" test -s "$tpg/address" || return 1
	read -r addr <"$tpg/address"
	vm_log "$bs is LUN $lun of $wwn, SCSI address $addr:$lun"
	echo "$addr:$lun"
}

_vm_scsi_sg() {
	# _vm_scsi_sg H:C:T:L: print the sgN name once /dev/sgN exists.
	local d
	for d in /sys/bus/scsi/devices/"$1"/scsi_generic/*; do
		[ -e "$d" ] && [ -c "/dev/${d##*/}" ] || return 1
		echo "${d##*/}"
		return 0
	done
	return 1
}

vm_loop_lun() {
	local bs=$1 hctl disk
	hctl=$(_vm_loop_add "$@") || return 1
	vm_wait_for "$SVM_DEV_TIMEOUT" "a disk at SCSI address $hctl (LUN of $bs)" _vm_loop_disk "$hctl" || return 1
	disk=$(_vm_loop_disk "$hctl")
	vm_log "$bs is /dev/$disk"
	echo "/dev/$disk"
}

vm_loop_lun_sg() {
	local bs=$1 hctl sg
	hctl=$(_vm_loop_add "$@") || return 1
	vm_wait_for "$SVM_DEV_TIMEOUT" "a SCSI generic node at $hctl (LUN of $bs)" _vm_scsi_sg "$hctl" || return 1
	sg=$(_vm_scsi_sg "$hctl")
	vm_log "$bs is /dev/$sg"
	echo "/dev/$sg"
}

vm_loop_disk_of() {
	local tpg lun so addr d
	for tpg in /sys/kernel/config/target/loopback/naa.*/tpgt_1; do
		[ -s "$tpg/address" ] || continue
		read -r addr <"$tpg/address"
		for lun in "$tpg"/lun/lun_*; do
			for so in "$lun"/*; do
				[ -L "$so" ] && [ "$(basename "$(readlink -f "$so")")" = "$1" ] || continue
				for d in /sys/bus/scsi/devices/"$addr:${lun##*_}"/block/*; do
					[ -e "$d" ] && { echo "/dev/${d##*/}"; return 0; }
				done
			done
		done
	done
	return 1
}

vm_sg_of() {
	local dev=${1#/dev/} sg
	for sg in /sys/block/"$dev"/device/scsi_generic/*; do
		if [ -e "$sg" ]; then
			vm_wait_for 10 "/dev/${sg##*/}" test -c "/dev/${sg##*/}" || return 1
			echo "/dev/${sg##*/}"
			return 0
		fi
	done
	vm_log "no SCSI generic node for $1 (is the sg module loaded?)"
	return 1
}

vm_iscsi_lun() {
	local bs=$1 name=${2:-test} lun=${3:-} iqn tpgdir cmds=()
	iqn=$SVM_IQN_PREFIX:$name
	tpgdir=/sys/kernel/config/target/iscsi/$iqn/tpgt_1
	if [ ! -d "$tpgdir" ]; then
		# auto_add_default_portal=false: never listen on 0.0.0.0, only on
		# 127.0.0.1.  (The preference lives in /root/.targetcli of the
		# guest's throw-away overlay.)
		cmds+=(
			"set global auto_add_default_portal=false"
			"/iscsi create $iqn"
			"/iscsi/$iqn/tpg1 set attribute authentication=0 generate_node_acls=1 cache_dynamic_acls=1 demo_mode_write_protect=0"
			"/iscsi/$iqn/tpg1/portals create 127.0.0.1 3260"
		)
	fi
	if [ -z "$lun" ]; then
		if [ -d "$tpgdir" ]; then lun=$(_vm_next_lun "$tpgdir"); else lun=0; fi
	fi
	cmds+=("/iscsi/$iqn/tpg1/luns create storage_object=$bs lun=$lun")
	vm_tcli "${cmds[@]}" || return 1
	# A target made elsewhere (plain targetcli) may have the wildcard
	# portal: replace it by 127.0.0.1 (both cannot share port 3260).
	if [ -d "$tpgdir/np/0.0.0.0:3260" ]; then
		vm_tcli "/iscsi/$iqn/tpg1/portals delete 0.0.0.0 3260" || return 1
	fi
	if [ ! -d "$tpgdir/np/127.0.0.1:3260" ]; then
		vm_tcli "/iscsi/$iqn/tpg1/portals create 127.0.0.1 3260" || return 1
	fi
	vm_log "$bs is LUN $lun of $iqn on 127.0.0.1:3260"
	echo "iscsi://127.0.0.1:3260/$iqn/$lun"
}

# --- diagnostics and cleanup -----------------------------------------------

vm_dump_state() {
	{
		echo "---- targetcli ls ----"
		vm_tcli ls 2>&1 || true
		local log=$SVM_OUTDIR/tcmu-runner/tcmu-runner.log
		if [ -f "$log" ]; then
			echo "---- tail of $log ----"
			tail -n 40 "$log"
		fi
	} >&2
}

vm_cleanup() {
	local rc=$? opts=$-
	set +e
	if [ -d /sys/kernel/config/target ]; then
		vm_tcli "clearconfig confirm=True" || vm_log "clearconfig failed"
	fi
	vm_tcli_server_stop
	vm_tcmu_stop TERM
	if [ -s "$SVM_STATE/dbus.started" ]; then
		local dpid
		dpid=$(cat "$SVM_STATE/dbus.started")
		kill -TERM "$dpid" 2>/dev/null
		vm_wait_for 10 "the D-Bus daemon to exit" sh -c "! kill -0 $dpid 2>/dev/null"
		# a stale socket or pid file would stop the next test's D-Bus
		rm -f "$SVM_STATE/dbus.started" /run/dbus/system_bus_socket /run/dbus/pid
	fi
	case $opts in *e*) set -e ;; esac
	return "$rc"
}
