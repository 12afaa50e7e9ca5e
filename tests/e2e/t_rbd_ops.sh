#!/bin/bash
# e2e: the RBD store's one-call operations and its write cache (issue 9,
# item 2). On the rig's single-node cluster (tests/vm/ceph.sh), an svm LUN
# on rbd/svm/ops0 through tcm_loop, driven with sg3_utils:
#  - MODE SENSE's caching page says WCE=1 with the rig's conf (librbd's
#    default rbd_cache=true, writearound), and WCE=0 for a LUN opened with
#    a copy of the conf that sets `rbd cache = false` under [client]
#    (every write librbd acknowledges is then stable); on that LUN, 16
#    writes send no rbd flush (librbd's "flush" counter stays; "wr" counts
#    them) and SYNCHRONIZE CACHE sends one; the data reads back;
#  - sg_write_same (10 and 16) of a nonzero block goes through librbd's
#    writesame: the runner's librbd perf counter "ws" (admin socket of the
#    rig's [client]) counts one per command, and the range reads back as
#    the block repeated, its neighbours untouched;
#  - sg_compare_and_write of 1 block goes through librbd's
#    compare_and_write (perf counter "cmp"): a matching compare writes; a
#    mismatching one fails with MISCOMPARE, INFORMATION the offset of the
#    first differing byte, and writes nothing; inside an object and at an
#    object's start (librbd releases report the offset differently);
#  - a 2-block COMPARE AND WRITE still works (the generic read-compare-write
#    under the LUN's range lock; "cmp" does not move).
# Skips (77) without Debian's ceph packages.
# shellcheck disable=SC2317
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../vm/lib.sh
. "$(dirname "$0")/../vm/lib.sh"
# shellcheck source-path=SCRIPTDIR source=../vm/ceph.sh
. "$(dirname "$0")/../vm/ceph.sh"
vm_require targetcli tcmu-runner dd cmp sdparm sg_write_same sg_compare_and_write sg_sync rbd ceph \
	python3
ceph_require
trap ceph_cleanup EXIT
vm_on_fail() {
	vm_dump_state
	ceph_dump_state
}

POOL=svm
IMAGE=ops0
# the handler's debug lines (svm_log DBG: each writesame, each miscompare's raw offset)
export SVM_TCMU_DEBUG=1

vm_start_services || fail "services did not start"
ceph_start || fail "the Ceph cluster did not start"

images() {
	ceph_pool_create "$POOL"
	timeout "$SVM_CEPH_TIMEOUT" rbd create --size 256M "$POOL/$IMAGE"
	timeout "$SVM_CEPH_TIMEOUT" rbd create --size 64M "$POOL/nocache"
	vm_log "ceph: images $POOL/$IMAGE and $POOL/nocache created $(_ceph_since) ms after ceph_start"
}
vm_step "pool $POOL and two images" 300 images

ceph_svm_lun o0 256M "$POOL/$IMAGE"
dev=$LUN_DEV sg=$LUN_SG

# LIO raises REPORTED LUNS DATA HAS CHANGED on a target's other LUNs when one is added:
# sdparm does not retry that unit attention, so ask up to three times (as t_config.sh).
wce_of() {
	local v
	for _ in 1 2 3; do
		v=$({ sdparm --get=WCE "$1" 2>/dev/null || true; } | awk '$1 == "WCE" {print $2}')
		[ -z "$v" ] || break
	done
	echo "$v"
}

# The runner's librados client has the rig's [client] admin socket (its first client
# in the process: o0's). counters [ASOK IMAGE [KEY...]] prints librbd's counters KEY
# (default "ws cmp") of IMAGE (default o0's) from the admin socket ASOK (default o0's).
asok=$SVM_CEPH_DIR/run/ceph-client.admin.$SVM_TCMU_PID.asok
counters() {
	local a=${1:-$asok} img=${2:-$IMAGE}
	if [ $# -gt 2 ]; then shift 2; else set -- ws cmp; fi
	[ -S "$a" ] || { echo "no admin socket $a" >&2; return 1; }
	timeout 120 ceph --admin-daemon "$a" perf dump >/tmp/perf.json
	python3 - "$POOL" "$img" "$@" <<'EOF'
import json, sys
d = json.load(open("/tmp/perf.json"))
names = [k for k in d if k.startswith("librbd-") and k.endswith("-%s-%s" % (sys.argv[1], sys.argv[2]))]
if not names:
    sys.exit("no librbd section for the image in perf dump: %s" % sorted(d))
s = d[names[0]]
missing = [k for k in sys.argv[3:] if k not in s]
if missing:
    sys.exit("no librbd counter %s; it has %s" % (missing, sorted(s)))
print(" ".join(str(s[k]) for k in sys.argv[3:]))
EOF
}

wce_on() {
	local w
	w=$(wce_of "$dev")
	[ "$w" = 1 ] || { echo "WCE '$w' on o0, expected 1 (librbd caches by default)"; return 1; }
	grep "RBD store rbd/$POOL/$IMAGE opened" "$SVM_TCMU_LOG" | tail -n 1 || true
	echo "o0 (rig's conf, rbd_cache default): MODE SENSE caching page WCE=1"
}
vm_step "WCE=1 with librbd's cache on" 120 wce_on

read_blocks() { # LBA COUNT FILE, in reads of up to 1 MiB (not one command per block)
	dd if="$dev" of="$3" bs=1M skip=$(($1 * 512)) count=$(($2 * 512)) \
		iflag=direct,skip_bytes,count_bytes status=none
}
tile() { # BLOCKFILE N: the block N times on stdout
	python3 -c 'import sys; sys.stdout.buffer.write(open(sys.argv[1], "rb").read() * int(sys.argv[2]))' "$1" "$2"
}

write_same() {
	local ws0 cmp0 ws1 cmp1 z
	head -c 512 /dev/urandom >/tmp/ws-blk
	read -r ws0 cmp0 < <(counters)
	# 10: 1 MiB at 2 MiB; 16: 24 MiB at 8 MiB, over six 4 MiB objects
	sg_write_same --in=/tmp/ws-blk --lba=4096 --num=2048 --xferlen=512 "$sg"
	sg_write_same --16 --in=/tmp/ws-blk --lba=16384 --num=49152 --xferlen=512 "$sg"
	read -r ws1 cmp1 < <(counters)
	[ -n "$ws0" ] && [ -n "$ws1" ] || { echo "no librbd counters"; return 1; }
	echo "librbd counters before: ws=$ws0 cmp=$cmp0, after: ws=$ws1 cmp=$cmp1"
	[ "$ws1" -eq $((ws0 + 2)) ] ||
		{ echo "librbd counted $((ws1 - ws0)) writesames for 2 WRITE SAMEs"; return 1; }
	tile /tmp/ws-blk 2048 >/tmp/ws-exp10
	read_blocks 4096 2048 /tmp/ws-got10
	cmp /tmp/ws-exp10 /tmp/ws-got10
	tile /tmp/ws-blk 49152 >/tmp/ws-exp16
	read_blocks 16384 49152 /tmp/ws-got16
	cmp /tmp/ws-exp16 /tmp/ws-got16
	head -c 512 /dev/zero >/tmp/zero-blk
	for z in 4095 6144 16383 65536; do
		read_blocks "$z" 1 /tmp/ws-nb
		cmp /tmp/zero-blk /tmp/ws-nb || { echo "block $z next to a WRITE SAME changed"; return 1; }
	done
	grep 'writesame of' "$SVM_TCMU_LOG" | tail -n 2 || true
	echo "WRITE SAME(10) 2048 blocks and WRITE SAME(16) 49152 blocks: 2 librbd writesames, data read back, neighbours zero"
}
vm_step "WRITE SAME through librbd writesame" 300 write_same

# COMPARE AND WRITE of one block at LBA: the file holds the verify block then the write block.
caw() { # LBA NUM FILE; prints sg_compare_and_write's output, returns its status
	sg_compare_and_write --in="$3" --lba="$1" --num="$2" --xferlen=$(($2 * 1024)) "$sg" 2>&1
}
caw_one() { # LBA BYTE: a match, then a miscompare at BYTE
	local lba=$1 byte=$2 out rc=0 old=/tmp/caw-old new=/tmp/caw-new
	head -c 512 /dev/urandom >"$old"
	head -c 512 /dev/urandom >"$new"
	dd if="$old" of="$dev" bs=512 seek="$lba" count=1 oflag=direct conv=notrunc status=none
	cat "$old" "$new" >/tmp/caw-in
	caw "$lba" 1 /tmp/caw-in
	read_blocks "$lba" 1 /tmp/caw-got
	cmp "$new" /tmp/caw-got || { echo "a matching CAW at $lba did not write"; return 1; }
	# the verify block differs from what is there at byte BYTE (and after it)
	python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[int(sys.argv[2])] ^= 0x81; b[500] ^= 1; sys.stdout.buffer.write(bytes(b))' \
		"$new" "$byte" >/tmp/caw-bad
	cat /tmp/caw-bad "$old" >/tmp/caw-in
	out=$(caw "$lba" 1 /tmp/caw-in) || rc=$?
	printf '%s\n' "$out"
	[ "$rc" -eq 14 ] || { echo "a miscompare at $lba: status $rc, expected 14 (MISCOMPARE)"; return 1; }
	grep -q "Miscompare at byte offset: $byte \[" <<<"$out" ||
		{ echo "INFORMATION is not byte $byte"; return 1; }
	read_blocks "$lba" 1 /tmp/caw-got
	cmp "$new" /tmp/caw-got || { echo "a miscompare at $lba wrote"; return 1; }
}

caw_librbd() {
	local ws0 cmp0 ws1 cmp1
	read -r ws0 cmp0 < <(counters)
	caw_one 2051 300  # inside object 0
	caw_one 16384 77  # at object 2's start
	read -r ws1 cmp1 < <(counters)
	[ -n "$ws0" ] && [ -n "$ws1" ] || { echo "no librbd counters"; return 1; }
	echo "librbd counters before: ws=$ws0 cmp=$cmp0, after: ws=$ws1 cmp=$cmp1"
	[ "$cmp1" -ge $((cmp0 + 2)) ] ||
		{ echo "librbd counted $((cmp1 - cmp0)) compare_and_writes for 4 CAWs"; return 1; }
	grep 'miscompared at image offset' "$SVM_TCMU_LOG" | tail -n 2 || true
	echo "1-block COMPARE AND WRITE through librbd: matches write; miscompares at bytes 300 and 77 report them and write nothing"
}
vm_step "1-block COMPARE AND WRITE through librbd compare_and_write" 300 caw_librbd

caw_two() {
	local ws0 cmp0 ws1 cmp1 out rc=0
	read -r ws0 cmp0 < <(counters)
	head -c 1024 /dev/urandom >/tmp/caw2-old
	head -c 1024 /dev/urandom >/tmp/caw2-new
	dd if=/tmp/caw2-old of="$dev" bs=512 seek=3000 count=2 oflag=direct conv=notrunc status=none
	cat /tmp/caw2-old /tmp/caw2-new >/tmp/caw2-in
	caw 3000 2 /tmp/caw2-in
	read_blocks 3000 2 /tmp/caw2-got
	cmp /tmp/caw2-new /tmp/caw2-got
	python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[517] ^= 4; sys.stdout.buffer.write(bytes(b))' \
		/tmp/caw2-new >/tmp/caw2-bad
	cat /tmp/caw2-bad /tmp/caw2-old >/tmp/caw2-in
	out=$(caw 3000 2 /tmp/caw2-in) || rc=$?
	printf '%s\n' "$out"
	[ "$rc" -eq 14 ] && grep -q 'Miscompare at byte offset: 517 \[' <<<"$out"
	read_blocks 3000 2 /tmp/caw2-got
	cmp /tmp/caw2-new /tmp/caw2-got
	read -r ws1 cmp1 < <(counters)
	[ "$cmp1" -eq "$cmp0" ] || { echo "a 2-block CAW went to librbd's compare_and_write"; return 1; }
	echo "2-block COMPARE AND WRITE (generic path, cmp stays $cmp1): match writes, miscompare at byte 517"
}
vm_step "2-block COMPARE AND WRITE (generic path)" 300 caw_two

wce_off() {
	local d1 w
	# the rig's conf, librbd's cache off for every client reading it (its own admin socket
	# and log: the runner's first client has the rig's; $cctid: one socket per librados
	# client, where two clients of one process would fight for one path and the first
	# to close would remove it)
	sed -e 's|^\(admin socket = .*\)\.asok$|\1.$cctid.nocache.asok|' \
		-e 's|^\(log file = .*\)\.log$|\1.nocache.log|' \
		-e 's|^\[client\]$|[client]\nrbd cache = false|' "$SVM_CEPH_CONF" >/tmp/nocache.conf
	grep -q '^rbd cache = false' /tmp/nocache.conf
	vm_tcli "/backstores/user:svm create name=o1 size=64M cfgstring=rbd/$POOL/nocache;conf=/tmp/nocache.conf"
	d1=$(vm_loop_lun /backstores/user:svm/o1)
	w=$(wce_of "$d1")
	grep "rbd/$POOL/nocache" "$SVM_TCMU_LOG" | grep -i 'cache' | tail -n 3 || true
	[ "$w" = 0 ] || { echo "WCE '$w' on o1, expected 0 (rbd cache = false)"; return 1; }
	grep -q "RBD store rbd/$POOL/nocache opened.*librbd does not cache (rbd_cache=false)" \
		"$SVM_TCMU_LOG"
	grep -q "LUN on rbd/$POOL/nocache: write cache off" "$SVM_TCMU_LOG"
	w=$(wce_of "$dev")
	[ "$w" = 1 ] || { echo "o0's WCE changed to '$w'"; return 1; }
	echo "o1 (rbd cache = false): WCE=0, o0 keeps WCE=1"
	echo "$d1" >/tmp/o1-dev
}
vm_step "WCE=0 when librbd does not cache" 180 wce_off

# With WCE 0 every write is stable before GOOD; librbd without its cache completes a
# write only once the OSDs committed it, so no rbd flush follows it (a flush would
# also wait for every write in flight). SYNCHRONIZE CACHE still flushes.
stable_writes() {
	local a1= a d1 wr0= fl0 wr1 fl1 wr2 fl2
	read -r d1 </tmp/o1-dev
	# ($cluster is the conf file's name: nocache-client.admin.<pid>.<cctid>.nocache.asok)
	for a in "$SVM_CEPH_DIR"/run/*-client.admin."$SVM_TCMU_PID".*.nocache.asok; do
		read -r wr0 fl0 < <(counters "$a" nocache wr flush 2>/dev/null) || continue
		a1=$a
		break
	done
	[ -n "$a1" ] || ls -l "$SVM_CEPH_DIR/run/"
	[ -n "$a1" ] && [ -n "$wr0" ] && [ -n "$fl0" ] || { echo "no librbd counters for o1"; return 1; }
	echo "o1's librados client: $a1"
	head -c 1M /dev/urandom >/tmp/stable-data
	dd if=/tmp/stable-data of="$d1" bs=64k oflag=direct status=none
	read -r wr1 fl1 < <(counters "$a1" nocache wr flush)
	echo "o1 librbd counters: wr $wr0 -> $wr1, flush $fl0 -> $fl1 after 16 writes of 64 KiB"
	[ "$((wr1 - wr0))" -ge 16 ] || { echo "fewer than 16 librbd writes"; return 1; }
	[ "$fl1" = "$fl0" ] || { echo "an rbd flush followed a write of a stable store"; return 1; }
	sg_sync "$d1"
	read -r wr2 fl2 < <(counters "$a1" nocache wr flush)
	echo "after SYNCHRONIZE CACHE: flush $fl1 -> $fl2"
	[ "$fl2" -gt "$fl1" ] || { echo "SYNCHRONIZE CACHE sent no rbd flush"; return 1; }
	dd if="$d1" of=/tmp/stable-back bs=64k count=16 iflag=direct status=none
	cmp /tmp/stable-data /tmp/stable-back
}
vm_step "stable writes: no flush after each write, SYNCHRONIZE CACHE flushes" 180 stable_writes

vm_tcmu_alive || fail "tcmu-runner died"
ceph_stop || fail "a Ceph daemon had to be killed"
pass "RBD ops: WCE follows rbd_cache, no flush after a stable write, WRITE SAME via librbd writesame, 1-block CAW via librbd compare_and_write (MISCOMPARE offset), 2-block CAW generic"
