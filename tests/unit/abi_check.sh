#!/bin/bash
# Check the built plugin against the ABI of Debian's tcmu-runner 1.5.4:
#  - it exports exactly one symbol, handler_init;
#  - it needs (DT_NEEDED) libc, librbd.so.1 and librados.so.2 and nothing else
#    (liburing is linked in statically);
#  - every symbol it needs is exported by the installed tcmu-runner binary,
#    libtcmu.so.2, glibc, or (rbd_*, rados_*) the installed librbd / librados.
# Prints "abi: N passed, N failed". Fails loudly if tcmu-runner is not installed.
set -u
so=${1:?usage: abi_check.sh build/handler_svm.so}
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL abi: $*" >&2; }

runner=$(command -v tcmu-runner || true)
libtcmu=$(ldconfig -p 2>/dev/null | awk '/libtcmu\.so\.2 /{print $NF; exit}')
[ -n "$libtcmu" ] || libtcmu=$(ls /usr/lib/*/libtcmu.so.2 2>/dev/null | head -n1)
if [ -z "$runner" ] || [ -z "$libtcmu" ]; then
	bad "tcmu-runner and libtcmu2 must be installed (run 'make deps')"
	echo "abi: $pass passed, $fail failed"
	exit 1
fi

exported=$(nm -D --defined-only "$so" | awk '$2 ~ /[TDBRVW]/ {print $3}')
if [ "$exported" = "handler_init" ]; then ok; else bad "exports: $(echo $exported)"; fi

needed=$(readelf -d "$so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | tr '\n' ' ')
if [ "$needed" = "libc.so.6 librados.so.2 librbd.so.1 " ]; then ok; else bad "needs: $needed"; fi

# the libraries the dynamic linker would load for those sonames
libpath() { ldconfig -p 2>/dev/null | awk -v n="$1" '$1 == n {print $NF; exit}'; }
librbd=$(libpath librbd.so.1) librados=$(libpath librados.so.2)
if [ -z "$librbd" ] || [ -z "$librados" ]; then
	bad "librbd1 and librados2 must be installed (run 'make deps')"
	echo "abi: $pass passed, $fail failed"
	exit 1
fi
provided=$( { nm -D --defined-only "$runner"; nm -D --defined-only "$libtcmu"; } |
	awk '{print $3}' | sort -u)
cephlibs=$( { nm -D --defined-only "$librbd"; nm -D --defined-only "$librados"; } |
	awk '$3 ~ /^(rbd|rados)_/ {print $3}' | sort -u)
for sym in $(nm -D --undefined-only "$so" | awk '$1 == "U" {print $2}'); do
	case $sym in
	*@GLIBC_*) ok ;;
	rbd_* | rados_*) if grep -qx "$sym" <<<"$cephlibs"; then ok; else bad "$sym is provided by neither $librbd nor $librados"; fi ;;
	*) if grep -qx "$sym" <<<"$provided"; then ok; else bad "$sym is provided by neither $runner nor $libtcmu"; fi ;;
	esac
done
echo "abi: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
