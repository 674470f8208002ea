#!/usr/bin/env bash
# test_demo.sh: issue 7 point 2, ./demo.sh as a user runs it, on a copy of
# the checkout (so a fresh tree: autogen, configure, build) in a temporary
# folder, on a free loopback port.  Run by ./check.sh (not by make check:
# it builds a tree of its own).  Checks that
#   - the first run sets up .demo/ and prints the demo user and password,
#     and serves the discovery document with issuer http://127.0.0.1:PORT;
#   - while it runs, `JWTGATE_CONF=.demo/jwtgate.conf tools/jwtgate client
#     add` (tools/jwtgate: a link demo.sh makes while it runs) registers a
#     client whose client_credentials token opens the gated /protected/
#     page; the banner names that command;
#   - SIGINT stops it and leaves no lighttpd and no FastCGI program behind;
#   - a second run reuses the instance (same password, no new setup, the
#     client added before still there), and SIGTERM stops it cleanly too.
#
#   tests/demo/test_demo.sh [SOURCE_TREE]    (default: this checkout)
set -u
set -m	# background jobs keep SIGINT (a shell without job control ignores it)
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "${1:-$here/../..}" && pwd)
tmp=$(mktemp -d /tmp/jg-demo-XXXXXX) || exit 99
pid=
passed=0
failed=0

cleanup() {
  [ -n "$pid" ] && kill -KILL -- "-$pid" 2>/dev/null
  pkill -KILL -f "$tmp/" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

ok() { passed=$((passed + 1)); echo "ok - $1"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $1"; }
check() { # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then ok "$what"; else not_ok "$what"; fi
}

# A copy of the tracked files, as a fresh clone has them.
mkdir "$tmp/tree"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
  (cd "$src" && git ls-files -z | tar --null -T - -cf -) | tar -C "$tmp/tree" -xf -
else
  (cd "$src" && tar --exclude=./build --exclude='./build-*' --exclude=./.demo -cf - .) |
    tar -C "$tmp/tree" -xf -
fi
tree=$tmp/tree
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port

# Starts demo.sh in the background (its own process group); waits until
# it says it runs, or it ends.  $1: the output file.
start_demo() {
  local out=$1
  (cd "$tree" && PORT=$port exec ./demo.sh) >"$out" 2>&1 &
  pid=$!
  for _ in $(seq 1200); do
    grep -q 'Ctrl-C stops the demo' "$out" && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  echo "demo.sh did not come up; its output:"
  cat "$out"
  return 1
}

# Sends signal $1 to demo.sh alone (as a terminal's Ctrl-C reaches it),
# waits for it, and checks that nothing it started is left.
stop_demo() {
  local sig=$1 status left
  kill "-$sig" "$pid"
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  wait "$pid"
  status=$?
  check "SIG$sig: demo.sh ended" bash -c "! kill -0 $pid 2>/dev/null"
  pid=
  sleep 0.2
  left=$(pgrep -f "$tree/" | tr '\n' ' ')
  check "SIG$sig: no process left (lighttpd, *.fcgi) [$left]" test -z "$left"
  check "SIG$sig: port $port closed" bash -c "! (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null"
  check "SIG$sig: the tools/jwtgate link is gone" bash -c "[ ! -e '$tree/tools/jwtgate' ] && [ ! -L '$tree/tools/jwtgate' ]"
  echo "   demo.sh exit status $status"
}

# ---------------------------------------------------------------- run 1
if ! start_demo "$tmp/run1.out"; then
  not_ok "first run comes up"
  echo "test_demo: $passed passed, $failed failed"
  exit 1
fi
ok "first run comes up on port $port"
password=$(cat "$tree/.demo/demo-password")
check "prints the user" grep -Eq '^  Log in as +demo$' "$tmp/run1.out"
check "prints the password (the one in .demo/demo-password)" \
  grep -Eq "^  password +$password " "$tmp/run1.out"
check "sets up the instance in .demo/" grep -q 'setting up the instance in .demo/' "$tmp/run1.out"
check "configuration in .demo/jwtgate.conf" test -f "$tree/.demo/jwtgate.conf"
issuer=$(curl -sf "$base/.well-known/openid-configuration" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["issuer"])')
check "discovery: issuer $base" test "$issuer" = "$base"
check "the demo app is served" bash -c "curl -sf '$base/demo/' | grep -q '<title>'"

# Another client while it runs, as the README and the banner say.
check "the banner names tools/jwtgate" \
  grep -q '^  JWTGATE_CONF=.demo/jwtgate.conf tools/jwtgate client add' "$tmp/run1.out"
secret=$(cd "$tree" && JWTGATE_CONF=.demo/jwtgate.conf tools/jwtgate \
  client add extra --grant client_credentials 2>"$tmp/client-add.err")
[ -n "$secret" ] || cat "$tmp/client-add.err"
check "client add while running prints a secret" test -n "$secret"
token=$(curl -sf -u "extra:$secret" -d grant_type=client_credentials "$base/oauth/token" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])' 2>/dev/null)
check "the new client gets a token from the running demo" test -n "$token"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$base/protected/")
check "its token opens the gated page (200, got $code)" test "$code" = 200
code=$(curl -s -o /dev/null -w '%{http_code}' "$base/protected/")
check "without a token the gated page is refused (401, got $code)" test "$code" = 401
stop_demo INT

# ---------------------------------------------------------------- run 2
if start_demo "$tmp/run2.out"; then
  ok "second run comes up"
  check "second run: no new setup" bash -c "! grep -q 'setting up the instance' '$tmp/run2.out'"
  check "second run: the same password" grep -Eq "^  password +$password " "$tmp/run2.out"
  check "second run: the client added before is still there" \
    bash -c "cd '$tree' && JWTGATE_CONF=.demo/jwtgate.conf tools/jwtgate client show extra >/dev/null"
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$base/protected/")
  check "second run: the token of the first still opens the gated page (got $code)" test "$code" = 200
  stop_demo TERM
else
  not_ok "second run comes up"
fi

echo "test_demo: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
