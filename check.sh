#!/usr/bin/env bash
# Installs what is missing, builds with warnings as errors, runs every test,
# then runs the unit tests again under ASan/UBSan and checks the tarball.
set -euo pipefail
cd "$(dirname "$0")"
top=$(pwd)
jobs=$(nproc 2>/dev/null || echo 2)

# Debian packages the build and the tests need.
packages=(
  build-essential autoconf automake libtool pkg-config
  libfcgi-dev libgnutls28-dev libjson-c-dev libcurl4-gnutls-dev
  libcunit1-dev libsqlite3-dev libcrypt-dev sqlite3
  python3 python3-jwt python3-cryptography
  lighttpd apache2 libapache2-mod-fcgid
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

summary() { # prints "PASS FAIL" summed over a build's test-suite.log files
  local pass=0 fail=0 p f
  for log in "$@"; do
    [ -f "$log" ] || continue
    p=$(sed -n 's/^# PASS: *\([0-9]*\)/\1/p' "$log" | head -1)
    f=$(sed -n 's/^# FAIL: *\([0-9]*\)/\1/p' "$log" | head -1)
    pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0}))
  done
  echo "$pass $fail"
}

status=0
echo "== build with -Werror and make check"
rm -rf build && mkdir build && cd build
../configure --enable-werror >/dev/null
make -j"$jobs" >/dev/null
make -j"$jobs" check || status=1
cd "$top"

echo "== unit tests under AddressSanitizer and UndefinedBehaviorSanitizer"
rm -rf build-asan && mkdir build-asan && cd build-asan
../configure --enable-werror --enable-sanitizers >/dev/null
make -j"$jobs" >/dev/null
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  make -j"$jobs" check-unit || status=1
cd "$top"

echo "== make distcheck"
(cd build && make -j"$jobs" distcheck >distcheck.out 2>&1) || { tail -50 build/distcheck.out; status=1; }

for f in build/test-suite.log build-asan/test-suite.log; do
  [ -f "$f" ] && grep -E '^(# |FAIL|ERROR)' "$f" | sed "s|^|$f: |" || true
done
read -r pass fail < <(summary build/test-suite.log build-asan/test-suite.log)
[ "$status" -eq 0 ] || [ "$fail" -gt 0 ] || fail=1
echo "check: $pass passed, $fail failed"
exit "$status"
