# shellcheck shell=bash
# tests/vm/ceph.sh: a throw-away single-node Ceph cluster for guest test
# scripts of the VM rig (tests/vm/run-vm).  Source it after lib.sh:
#
#     #!/bin/bash
#     set -euo pipefail
#     . tests/vm/lib.sh
#     . tests/vm/ceph.sh
#     ceph_require                  # skip (77) without Debian's ceph packages
#     trap ceph_cleanup EXIT        # LIO and tcmu-runner first, then the cluster
#     vm_start_services /dir/with/handler_rbd.so
#     ceph_start                    # mon + OSD (memstore); --mgr adds a mgr
#     ceph_pool_create svm
#     rbd create --size 1G svm/img0 # CEPH_CONF is exported: the CLIs find it
#     bs=$(vm_user_backstore rbd r0 1G "svm/img0;conf=$SVM_CEPH_CONF")
#     ...
#
# What runs: one ceph-mon ("a"), one ceph-osd (osd.0, objectstore memstore:
# objects live in the OSD's memory, nothing on disk), optionally one
# ceph-mgr ("x"), all from Debian's own binaries (packages ceph-mon,
# ceph-osd, ceph-mgr, ceph-common), started by PID in the foreground (-f),
# no systemd, no cephadm.  Everything lives under $SVM_CEPH_DIR (a tmpfs in
# the guest): configuration, mon store, admin sockets, logs.  Messenger v2
# only, on 127.0.0.1 only; no authentication; every pool has one replica.
# The mon commands the set-up needs (osd new, pool create...) go through
# tests/vm/ceph-mon-cmd, one librados client in python, rather than the
# `ceph` tool, which costs 5-10 s a call under TCG.  docs/vm-rig.md ("Ceph
# in the VM") says why each setting is there and what it costs.
#
# Variables (may be set before sourcing or in the host environment, which
# run-vm passes into the guest):
#   SVM_CEPH_DIR       cluster directory (default /run/svm-ceph); removed by
#                      ceph_stop
#   SVM_CEPH_PORT      the mon's port on 127.0.0.1 (default 3300)
#   SVM_CEPH_MEM_BYTES memstore's size limit, what the OSD reports as its
#                      capacity (default 3 GiB; memstore only takes memory
#                      for what is written)
#   SVM_CEPH_TIMEOUT   seconds each start-up wait may take (default 180:
#                      TCG under host load is slow)
#   SVM_CEPH_CONF_EXTRA  more lines for the [global] section, e.g.
#                      "debug osd = 10" (later settings win)
#   SVM_CEPH_LOGDIR    where ceph_stop copies the daemons' logs (default
#                      $SVM_OUTDIR/ceph-<script name>)
# Set by ceph_start (exported):
#   SVM_CEPH_CONF      the cluster's ceph.conf
#   CEPH_CONF          the same: ceph, rbd, rados and librados read it
#   SVM_CEPH_START_MS  when ceph_start began (milliseconds, like _vm_ms), so
#                      that a test can log "usable N ms after start"
#
# Functions (return non-zero on failure, messages on stderr via vm_log):
#   ceph_require [--mgr]       skip (77) unless the binaries the cluster needs
#                              are installed, naming the Debian package
#   ceph_start [--mgr]         write the configuration, create and start the
#                              mon, create and start the OSD (and the mgr),
#                              wait until the OSD is up in the OSD map; logs
#                              the time of each stage.  Call it directly (not
#                              in $(...) or vm_step): it sets variables
#   ceph_pool_create NAME [PG_NUM]
#                              create a replicated pool (size 1, min_size 1,
#                              PG_NUM placement groups, default 8) with the
#                              rbd application enabled, and wait until it
#                              takes I/O (one object written and removed)
#   ceph_wait_health_ok [TIMEOUT_S]
#                              poll the cluster status until HEALTH_OK and,
#                              when a mgr was started, the mgr active and
#                              every placement group active+clean (default
#                              SVM_CEPH_TIMEOUT); logs the time since
#                              ceph_start; on timeout logs the status and
#                              `ceph health detail` and returns 1
#   ceph_mem                   log each daemon's resident memory (VmRSS)
#   ceph_daemon_pids           print the PIDs of every ceph-mon, ceph-osd and
#                              ceph-mgr process in the guest (ours or not)
#   ceph_dump_state            `ceph -s` and the tails of the daemons' logs,
#                              on stderr (for vm_on_fail)
#   ceph_stop                  stop the mgr and the OSD (SIGTERM, up to 15 s,
#                              then SIGKILL), then the mon (the same), copy
#                              the logs to $SVM_CEPH_LOGDIR, remove
#                              $SVM_CEPH_DIR; logs the time it took.  Returns
#                              1 if a daemon had to be killed.  Safe to call
#                              twice or without a cluster
#   ceph_cleanup               vm_cleanup (clears LIO, stops tcmu-runner, so
#                              that librbd clients close their images while
#                              the cluster still answers), then ceph_stop;
#                              keeps the script's exit status; for
#                              "trap ceph_cleanup EXIT".  (Not "trap
#                              'vm_cleanup; ceph_stop' EXIT": vm_cleanup
#                              returns the failing status, and set -e would
#                              end the trap before ceph_stop.)

if [ "${SVM_IN_VM:-}" != 1 ]; then
	echo "ceph.sh: this is a guest-side library; run the script with tests/vm/run-vm" >&2
	exit 2
fi
declare -F vm_log >/dev/null || {
	echo "ceph.sh: source tests/vm/lib.sh first" >&2
	exit 2
}

: "${SVM_CEPH_DIR:=/run/svm-ceph}"
: "${SVM_CEPH_PORT:=3300}"
: "${SVM_CEPH_MEM_BYTES:=$((3 << 30))}"
: "${SVM_CEPH_TIMEOUT:=180}"
: "${SVM_CEPH_LOGDIR:=$SVM_OUTDIR/ceph-$(basename "$0" .sh)}"
SVM_CEPH_CONF=
SVM_CEPH_START_MS=

# The daemons by their ceph names; their PIDs are kept in $SVM_CEPH_DIR/pid/
# so that ceph_stop finds them from any subshell (vm_step, a trap).
_CEPH_MON=mon.a
_CEPH_OSD=osd.0
_CEPH_MGR=mgr.x

ceph_require() {
	local c pkg
	for c in ceph-mon:ceph-mon ceph-osd:ceph-osd ceph:ceph-common rbd:ceph-common \
		monmaptool:ceph-common ${1:+ceph-mgr:ceph-mgr}; do
		pkg=${c#*:}
		c=${c%%:*}
		command -v "$c" >/dev/null 2>&1 ||
			skip "required command '$c' not available (Debian package: $pkg)"
	done
}

_ceph_since() { # milliseconds since ceph_start began
	echo $(($(_vm_ms) - ${SVM_CEPH_START_MS:-$(_vm_ms)}))
}

_ceph_write_conf() {
	local fsid=$1 mgr=$2 d=$SVM_CEPH_DIR grace=
	# Without a mgr the mon warns "no active mgr" 2 minutes after mkfs:
	# a cluster started without one on purpose should stay HEALTH_OK.
	[ "$mgr" = 1 ] || grace="mon mgr mkfs grace = 86400"
	# Unescaped $d and $SVM_CEPH_* are expanded here; \$name, \$pid and
	# \$cluster are Ceph's own metavariables, expanded by each process.
	cat >"$d/ceph.conf" <<EOF
# Written by tests/vm/ceph.sh: a throw-away single-node test cluster.
[global]
fsid = $fsid
# messenger v2 only, on 127.0.0.1 only
mon host = v2:127.0.0.1:$SVM_CEPH_PORT
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind msgr1 = false
ms bind msgr2 = true
ms bind ipv6 = false
# no authentication
auth cluster required = none
auth service required = none
auth client required = none
# one OSD: one replica, and no warning about it
mon allow pool size one = true
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon warn on pool no redundancy = false
# cephx's global_id reclaim warnings mean nothing without cephx
mon warn on insecure global id reclaim = false
mon warn on insecure global id reclaim allowed = false
# the mon store sits on a tmpfs that tests fill; never refuse to run
mon data avail warn = 1
mon data avail crit = 0
# the mon batches map changes for 1 s by default: creating the OSD,
# booting it, a pool, the image each waited for it (usable image 7.3 s
# natively with 1 s, 1.3 s with 0.1 s)
paxos propose interval = 0.1
# daemons report their PGs to the mgr every second, not every 5 s
# (HEALTH_OK with the mgr natively at 4.5-7 s instead of 10.7 s)
mgr stats period = 1
# TCG is slow: an op is not "slow" before 2 minutes
osd op complaint time = 120
# the mon reads this one (at mkfs), hence [global]: only iostat, not
# restful (wants a certificate) nor nfs (wants an orchestrator)
mgr initial modules = iostat
$grace
# the OSD keeps objects in memory; page sets make large writes fast,
# 4 KiB pages keep small random writes from taking 64 KiB each
osd objectstore = memstore
memstore device bytes = $SVM_CEPH_MEM_BYTES
memstore page set = true
memstore page size = 4096
# everything under $d
mon data = $d/\$name
osd data = $d/\$name
mgr data = $d/\$name
run dir = $d/run
admin socket = $d/run/\$cluster-\$name.asok
log file = $d/log/\$name.log
mon cluster log file = $d/log/cluster.log
crash dir = $d/crash
${SVM_CEPH_CONF_EXTRA:+# from SVM_CEPH_CONF_EXTRA
$SVM_CEPH_CONF_EXTRA
}
[client]
# every client process (rbd, tcmu-runner's librbd...) its own socket and log
admin socket = $d/run/\$cluster-\$name.\$pid.asok
log file = $d/log/\$name.\$pid.log
EOF
}

_ceph_pidfile() { echo "$SVM_CEPH_DIR/pid/$1"; }

_ceph_daemon_alive() { # _ceph_daemon_alive NAME
	_vm_pidfile_alive "$(_ceph_pidfile "$1")"
}

_ceph_spawn() { # _ceph_spawn NAME BINARY ARGS...: start a daemon in the foreground, by PID
	local name=$1 bin=$2
	shift 2
	"$bin" -c "$SVM_CEPH_CONF" "$@" -f </dev/null >>"$SVM_CEPH_DIR/log/$name.out" 2>&1 &
	echo "$!" >"$(_ceph_pidfile "$name")"
	vm_log "ceph: started $name (pid $!) at $(_ceph_since) ms"
}

_ceph_run() { # _ceph_run DESC CMD...: run a set-up command, its output into the log
	local desc=$1 rc=0
	shift
	"$@" >>"$SVM_CEPH_DIR/log/setup.out" 2>&1 || rc=$?
	if [ "$rc" -ne 0 ]; then
		vm_log "ceph: $desc failed (status $rc); its output:"
		tail -n 20 "$SVM_CEPH_DIR/log/setup.out" >&2
		return 1
	fi
}

_ceph_osd_booted() {
	# The OSD logs this line once the mon has marked it up and it is active
	# (default log level); reading a file costs no process start.
	local line
	while IFS= read -r line; do
		case $line in *"state: booting -> active"*) return 0 ;; esac
	done <"$SVM_CEPH_DIR/log/$_CEPH_OSD.log"
	return 1
}

_ceph_wait_osd() {
	local deadline=$((SECONDS + SVM_CEPH_TIMEOUT))
	until [ -f "$SVM_CEPH_DIR/log/$_CEPH_OSD.log" ] && _ceph_osd_booted; do
		if ! _ceph_daemon_alive "$_CEPH_OSD"; then
			vm_log "ceph: $_CEPH_OSD exited during start-up"
			tail -n 30 "$SVM_CEPH_DIR/log/$_CEPH_OSD.out" "$SVM_CEPH_DIR/log/$_CEPH_OSD.log" >&2 2>/dev/null
			return 1
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			vm_log "ceph: $_CEPH_OSD not up within ${SVM_CEPH_TIMEOUT}s"
			return 1
		fi
		sleep 0.2
	done
}

ceph_start() {
	local mgr=0 fsid uuid mkfs rc=0 d=$SVM_CEPH_DIR
	case ${1:-} in
	--mgr) mgr=1 ;;
	'') ;;
	*) vm_log "ceph_start: unknown option '$1'"; return 2 ;;
	esac
	if [ -d "$d/pid" ]; then
		vm_log "ceph_start: $d holds a cluster already (ceph_stop first)"
		return 1
	fi
	SVM_CEPH_START_MS=$(_vm_ms)
	export SVM_CEPH_START_MS
	rm -rf "$d"
	mkdir -p "$d"/{pid,run,log,crash,"$_CEPH_MON","$_CEPH_OSD"}
	read -r fsid </proc/sys/kernel/random/uuid
	read -r uuid </proc/sys/kernel/random/uuid
	_ceph_write_conf "$fsid" "$mgr"
	SVM_CEPH_CONF=$d/ceph.conf
	CEPH_CONF=$SVM_CEPH_CONF
	export SVM_CEPH_CONF CEPH_CONF
	vm_log "ceph: configuration $SVM_CEPH_CONF (fsid $fsid, mon v2:127.0.0.1:$SVM_CEPH_PORT)"

	# The mon: a monmap naming only itself, its store, then the daemon.
	_ceph_run "monmaptool" monmaptool --create --fsid "$fsid" \
		--addv "${_CEPH_MON#mon.}" "[v2:127.0.0.1:$SVM_CEPH_PORT]" "$d/monmap" || return 1
	_ceph_run "ceph-mon --mkfs" ceph-mon -c "$SVM_CEPH_CONF" --mkfs -i "${_CEPH_MON#mon.}" --monmap "$d/monmap" || return 1
	_ceph_spawn "$_CEPH_MON" ceph-mon -i "${_CEPH_MON#mon.}"
	if [ "$mgr" = 1 ]; then
		# its python modules take long to load: start it early
		mkdir -p "$d/$_CEPH_MGR"
		_ceph_spawn "$_CEPH_MGR" ceph-mgr -i "${_CEPH_MGR#mgr.}"
	fi

	# The OSD: an empty memstore (made without asking the mon, so at the
	# same time as the next command), an id in the OSD map (this also
	# waits for the mon to answer), then the daemon.
	_ceph_run "ceph-osd --mkfs" ceph-osd -c "$SVM_CEPH_CONF" -i "${_CEPH_OSD#osd.}" \
		--mkfs --osd-uuid "$uuid" --no-mon-config &
	mkfs=$!
	_ceph_run "osd new" _ceph_mon_cmd cmd \
		"{\"prefix\": \"osd new\", \"uuid\": \"$uuid\", \"id\": ${_CEPH_OSD#osd.}}" || rc=1
	wait "$mkfs" || rc=1
	[ "$rc" = 0 ] || return 1
	vm_log "ceph: mon answers, $_CEPH_OSD in the OSD map at $(_ceph_since) ms"
	_ceph_spawn "$_CEPH_OSD" ceph-osd -i "${_CEPH_OSD#osd.}"
	_ceph_wait_osd || return 1
	vm_log "ceph: $_CEPH_OSD up at $(_ceph_since) ms"
}

_ceph_mon_cmd() { # ceph-mon-cmd (one librados client in python) on our cluster
	/usr/bin/python3 "$SVM_LIB_DIR/ceph-mon-cmd" -c "$SVM_CEPH_CONF" -t "$SVM_CEPH_TIMEOUT" "$@"
}

ceph_pool_create() {
	local pool=$1 pgs=${2:-8}
	# creates it, enables the rbd application and writes one object, so it
	# returns once the pool's placement groups take I/O
	_ceph_run "creating pool $pool" _ceph_mon_cmd pool "$pool" "$pgs" || return 1
	vm_log "ceph: pool $pool ($pgs PGs, size 1) takes I/O at $(_ceph_since) ms"
}

# ceph_svm_lun NAME SIZE POOL/IMAGE [TARGETCLI-ARGS...]: targetcli creates the
# user:svm backstore NAME on rbd/POOL/IMAGE of this cluster (its conf), a step
# of its own, and a tcm_loop LUN for it; sets LUN_DEV (/dev/sdX) and LUN_SG.
# Fails the test when one of them does not come.
ceph_svm_lun() {
	local name=$1 size=$2 img=$3
	shift 3
	vm_step "targetcli creates user:svm $name on rbd/$img" 120 vm_tcli \
		"/backstores/user:svm create name=$name size=$size cfgstring=rbd/$img;conf=$SVM_CEPH_CONF${*:+ $*}"
	LUN_DEV=$(vm_loop_lun "/backstores/user:svm/$name") || fail "no disk for $name"
	LUN_SG=$(vm_sg_of "$LUN_DEV") || fail "no sg device for $LUN_DEV"
	vm_log "user:svm LUN $name on rbd/$img is $LUN_DEV ($LUN_SG)"
}

ceph_wait_health_ok() {
	local limit=${1:-$SVM_CEPH_TIMEOUT} with=
	# With a mgr, HEALTH_OK counts only once it is active and every PG is
	# active+clean: a mgr just activated says HEALTH_OK before it has heard
	# from the placement groups.
	[ ! -e "$(_ceph_pidfile "$_CEPH_MGR")" ] || with=--mgr
	if ! /usr/bin/python3 "$SVM_LIB_DIR/ceph-mon-cmd" -c "$SVM_CEPH_CONF" -t "$limit" health $with; then
		vm_log "ceph: not HEALTH_OK${with:+ with an active mgr and clean PGs} within ${limit}s"
		timeout 60 ceph health detail >&2 2>&1 || true
		return 1
	fi
	vm_log "ceph: HEALTH_OK${with:+, mgr active, PGs active+clean} at $(_ceph_since) ms"
}

_ceph_rss_kib() { # _ceph_rss_kib PID: VmRSS in KiB (builtins only)
	local k v _
	while read -r k v _; do
		[ "$k" = "VmRSS:" ] && { echo "$v"; return 0; }
	done <"/proc/$1/status"
	return 1
}

ceph_mem() {
	local n pid kib total=0 parts=()
	for n in "$_CEPH_MON" "$_CEPH_OSD" "$_CEPH_MGR"; do
		_ceph_daemon_alive "$n" || continue
		read -r pid <"$(_ceph_pidfile "$n")"
		kib=$(_ceph_rss_kib "$pid") || continue
		total=$((total + kib))
		parts+=("$n $((kib / 1024)) MiB")
	done
	vm_log "ceph: resident memory: ${parts[*]:-no daemon}, total $((total / 1024)) MiB"
}

ceph_daemon_pids() {
	local s comm
	for s in /proc/[0-9]*/comm; do
		read -r comm <"$s" 2>/dev/null || continue
		case $comm in ceph-mon | ceph-osd | ceph-mgr) s=${s%/comm}; echo "${s#/proc/}" ;; esac
	done
}

ceph_dump_state() {
	{
		[ -n "$SVM_CEPH_CONF" ] && [ -f "$SVM_CEPH_CONF" ] || return 0
		echo "---- ceph -s ----"
		timeout 30 ceph -s 2>&1 || true
		local f
		for f in "$SVM_CEPH_DIR"/log/*.log "$SVM_CEPH_DIR"/log/*.out; do
			[ -s "$f" ] || continue
			echo "---- tail of $f ----"
			tail -n 15 "$f"
		done
	} >&2
}

_ceph_stop_daemons() {
	# _ceph_stop_daemons NAME...: SIGTERM all, wait up to 15 s, then SIGKILL.
	# Returns 1 if one had to be killed.
	local n pid pids=() rc=0 deadline
	for n in "$@"; do
		_ceph_daemon_alive "$n" || continue
		read -r pid <"$(_ceph_pidfile "$n")"
		kill -TERM "$pid" 2>/dev/null || true
		pids+=("$n:$pid")
	done
	deadline=$((SECONDS + 15))
	for n in "${pids[@]}"; do
		pid=${n#*:}
		while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			vm_log "ceph: ${n%%:*} (pid $pid) still runs 15 s after SIGTERM; killing it"
			kill -KILL "$pid" 2>/dev/null || true
			rc=1
		fi
		# our child when started by this shell: reap it
		wait "$pid" 2>/dev/null || true
		rm -f "$(_ceph_pidfile "${n%%:*}")"
	done
	return "$rc"
}

ceph_stop() {
	local rc=0 start
	[ -d "$SVM_CEPH_DIR/pid" ] || return 0
	start=$(_vm_ms)
	# The OSD and the mgr before the mon: the OSD tells the mon it is going
	# down and waits for the answer.
	_ceph_stop_daemons "$_CEPH_MGR" "$_CEPH_OSD" || rc=1
	_ceph_stop_daemons "$_CEPH_MON" || rc=1
	vm_log "ceph: cluster stopped in $(($(_vm_ms) - start)) ms"
	if [ -d "$SVM_CEPH_DIR/log" ]; then
		mkdir -p "$SVM_CEPH_LOGDIR"
		cp -p "$SVM_CEPH_DIR"/log/* "$SVM_CEPH_LOGDIR"/ 2>/dev/null || true
		cp -p "$SVM_CEPH_DIR/ceph.conf" "$SVM_CEPH_LOGDIR"/ 2>/dev/null || true
	fi
	rm -rf "${SVM_CEPH_DIR:?}"
	return "$rc"
}

ceph_cleanup() {
	local rc=$? opts=$-
	set +e
	vm_cleanup
	ceph_stop
	case $opts in *e*) set -e ;; esac
	return "$rc"
}
