#!/bin/sh
# valgrind.sh: runs every unit test binary of a normal (non-sanitizer)
# build under valgrind memcheck.  Fails when valgrind reports any error or
# a definitely lost block, or when a test fails.
#
# usage: tests/valgrind.sh [BUILDDIR]   (default: the current folder)
#   Build the tests first: make check TESTS= (or make check).
#   JG_VALGRIND_TESTS="test_json test_jws" limits the run to those tests.
# Suppressions: tests/valgrind.supp (third-party noise only, each entry
# explained there; none is needed so far).  JG_UNDER_VALGRIND=1 is
# exported: tests/unit/test_password.c then takes its timing medians of 5
# runs instead of 15 (one yescrypt costs about 1.5 s under valgrind).  The
# race tests of test_store fork children, which valgrind does not trace
# (--trace-children=no), so they keep their 50 processes.
# Takes about 8 minutes on 2 cores (Debian 12, valgrind 3.19).
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
build=$(cd "${1:-.}" && pwd)
command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind not installed" >&2; exit 1; }

JG_SRCDIR=$top; export JG_SRCDIR
JG_BUILDDIR=$build; export JG_BUILDDIR
: "${JG_WYCHEPROOF_DIR:=$(sed -n "s/^JG_WYCHEPROOF_DIR = //p" "$build/Makefile" 2>/dev/null | sed "s|\$(abs_top_srcdir)|$top|")}"
export JG_WYCHEPROOF_DIR
JWTGATE=$build/tools/jwtgate; export JWTGATE
JG_UNDER_VALGRIND=1; export JG_UNDER_VALGRIND

tests=${JG_VALGRIND_TESTS:-$(sed -n '/^UNIT_TESTS = /,/^[^	]/p' "$top/Makefile.am" |
	grep -o 'tests/unit/test_[a-z0-9_]*' | sed 's|tests/unit/||')}
mkdir -p "$build/valgrind"
status=0
for t in $tests; do
	bin=$build/tests/unit/$t
	if [ ! -x "$bin" ]; then
		echo "FAIL: $t: $bin not built"
		status=1
		continue
	fi
	log=$build/valgrind/$t.log
	start=$(date +%s)
	if valgrind --tool=memcheck --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite --show-leak-kinds=definite \
		--track-fds=no --trace-children=no --child-silent-after-fork=yes \
		--suppressions="$here/valgrind.supp" --num-callers=30 \
		"$bin" >"$log" 2>&1; then
		echo "PASS: $t ($(( $(date +%s) - start )) s)"
	else
		rc=$?
		echo "FAIL: $t (exit $rc, $(( $(date +%s) - start )) s, log $log)"
		grep -E '^==[0-9]+== (Invalid|Conditional|Use of|Syscall|Mismatched|Source|.*definitely lost)|^==[0-9]+==    (at|by)|FAIL|Assert' "$log" | head -40
		status=1
	fi
done
exit "$status"
