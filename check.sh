#!/usr/bin/env bash
# Installs what is missing, builds with warnings as errors and runs every
# test:
#   1. make check in build/ (unit, command-line and integration suites,
#      through real lighttpd and Apache with mod_fcgid);
#   2. make check again in build-asan/, built with ASan and UBSan;
#   3. valgrind memcheck on the unit suites, and beside it the libFuzzer
#      harnesses for 60 seconds each;
#   4. the load and soak run (wrk, 60 seconds per endpoint);
#   5. the browser test of the demo app in headless chromium;
#   6. ./demo.sh itself, on a copy of the checkout (tests/demo/test_demo.sh);
#   7. make distcheck.
# Each of stages 3 to 7 counts as one test.  The last line reads
# "check: N passed, N failed"; the exit status is 0 only when nothing failed.
set -euo pipefail
cd "$(dirname "$0")"
top=$(pwd)
jobs=$(nproc 2>/dev/null || echo 2)

# Debian packages the build and the tests need.
packages=(
  build-essential autoconf automake libtool pkg-config
  libfcgi-dev libgnutls28-dev libjson-c-dev libcurl4-gnutls-dev
  libcunit1-dev libsqlite3-dev libcrypt-dev sqlite3
  python3 python3-jwt python3-cryptography python3-authlib python3-requests
  lighttpd apache2 libapache2-mod-fcgid nginx spawn-fcgi
  clang libclang-rt-14-dev valgrind wrk
  chromium chromium-driver python3-selenium
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "check.sh: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "check.sh: missing packages and not root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

./autogen.sh >/dev/null 2>&1 || { ./autogen.sh; exit 1; }

summary() { # prints "PASS FAIL" summed over test-suite.log files
  local pass=0 fail=0 p f e
  for log in "$@"; do
    [ -f "$log" ] || continue
    p=$(sed -n 's/^# PASS: *\([0-9]*\)/\1/p' "$log" | head -1)
    f=$(sed -n 's/^# FAIL: *\([0-9]*\)/\1/p' "$log" | head -1)
    e=$(sed -n 's/^# ERROR: *\([0-9]*\)/\1/p' "$log" | head -1)
    pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0} + ${e:-0}))
  done
  echo "$pass $fail"
}

# A stage outside make check: its output goes to build/check-NAME.log and
# its result to build/check-NAME.result (a stage may run in the
# background, where it cannot set this shell's variables).
stage() {
  local name=$1 start=$SECONDS
  shift
  echo "== $name"
  if "$@" >"$top/build/check-$name.log" 2>&1; then
    echo "PASS: $name ($((SECONDS - start)) s)"
    echo PASS >"$top/build/check-$name.result"
  else
    echo "FAIL: $name ($((SECONDS - start)) s); the end of build/check-$name.log:"
    tail -40 "$top/build/check-$name.log"
    echo FAIL >"$top/build/check-$name.result"
  fi
}

status=0
t0=$SECONDS
echo "== build with -Werror and make check"
rm -rf build build-asan && mkdir build
(cd build && ../configure --enable-werror >/dev/null && make -j"$jobs" >/dev/null)
(cd build && make -j"$jobs" check) || status=1
echo "   ($((SECONDS - t0)) s)"

t0=$SECONDS
echo "== make check under AddressSanitizer and UndefinedBehaviorSanitizer"
mkdir build-asan
(cd build-asan && ../configure --enable-werror --enable-sanitizers >/dev/null &&
   make -j"$jobs" >/dev/null)
(cd build-asan &&
   ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
   UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:abort_on_error=1 \
   make -j"$jobs" check) || status=1
echo "   ($((SECONDS - t0)) s)"

# valgrind runs on one core, the fuzzers one at a time on the other.
stage valgrind make -C build valgrind &
vg=$!
stage fuzz make -C build fuzz FUZZ_SECONDS=60 FUZZ_JOBS=1
wait "$vg" || true
stage soak make -C build soak
stage browser tests/browser/run.sh build
stage demo tests/demo/test_demo.sh
stage distcheck make -C build -j"$jobs" distcheck

for f in build/test-suite.log build-asan/test-suite.log; do
  [ -f "$f" ] && grep -E '^(# |FAIL|ERROR)' "$f" | sed "s|^|$f: |" || true
done
read -r pass fail < <(summary build/test-suite.log build-asan/test-suite.log)
for name in valgrind fuzz soak browser demo distcheck; do
  if [ "$(cat "build/check-$name.result" 2>/dev/null)" = PASS ]; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    status=1
  fi
done
[ "$status" -eq 0 ] || [ "$fail" -gt 0 ] || fail=1
[ "$fail" -eq 0 ] || status=1
echo "check: $pass passed, $fail failed"
exit "$status"
