#!/bin/bash
# Guest side of the e2e tier: run every tests/e2e/t_*.sh (or those named on
# the command line) in this one VM, each in its own process under a time
# limit, and write one line per test to $SVM_OUTDIR/e2e-results:
#   <name> pass|fail|skip <seconds>
# Exit 0 only if no test failed. run-all (host side) prints the summary.
set -uo pipefail
. "$(dirname "$0")/../vm/lib.sh"
: "${SVM_E2E_TEST_TIMEOUT:=600}"

cd "$SVM_REPO"
tests=("$@")
[ ${#tests[@]} -gt 0 ] || mapfile -t tests < <(ls tests/e2e/t_*.sh)
results=$SVM_OUTDIR/e2e-results
: >"$results"
failed=0
for t in "${tests[@]}"; do
	name=$(basename "$t" .sh)
	vm_log "==== $name"
	start=$(date +%s)
	timeout -k 10 "$SVM_E2E_TEST_TIMEOUT" bash "$t" >"$SVM_OUTDIR/$name.log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	case $rc in
	0) verdict=pass ;;
	77) verdict=skip ;;
	*) verdict=fail; failed=1 ;;
	esac
	[ $rc -eq 124 ] && echo "timed out after ${SVM_E2E_TEST_TIMEOUT}s" >>"$SVM_OUTDIR/$name.log"
	echo "$name $verdict $secs" >>"$results"
	vm_log "==== $name: $verdict (${secs}s, rc $rc)"
	[ "$verdict" = pass ] || tail -n 30 "$SVM_OUTDIR/$name.log" >&2
	# a test that left LIO or the runner behind must not poison the next one
	targetcli clearconfig confirm=True >/dev/null 2>&1 || true
done
exit $failed
