#!/usr/bin/env bash
# Issue 7 point 5: the browser test of the demo app, run by ./check.sh.
#
#   tests/browser/run.sh [BUILD_DIR]     (default: $JG_BUILDDIR, else ./build)
#
# Sets up a fresh demo-like instance in a temporary folder (as demo.sh does
# in .demo/: `jwtgate init`, the demo user, the public first-party client
# demo-app), starts lighttpd on a free loopback port with the three
# programs from BUILD_DIR and the htdocs of the source tree, runs
# test_demo.py (Debian's chromium, headless, through chromium-driver and
# python3-selenium), and stops everything: no process is left behind.
# Screenshots of each step go to tests/browser/out/.
# Needs: apt-get install lighttpd chromium chromium-driver python3-selenium
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=$(cd "${1:-${JG_BUILDDIR:-$top/build}}" && pwd)
out=${JG_BROWSER_OUT:-$here/out}
python=/usr/bin/python3
jwtgate=$build/tools/jwtgate

for f in "$jwtgate" "$build/cgi-bin/authorize.fcgi" "$build/cgi-bin/token.fcgi" \
         "$build/cgi-bin/resource.fcgi"; do
  [ -x "$f" ] || { echo "browser: $f is missing: build first" >&2; exit 1; }
done
for f in /usr/sbin/lighttpd /usr/bin/chromium /usr/bin/chromedriver; do
  [ -x "$f" ] || { echo "browser: $f is missing: apt-get install lighttpd chromium chromium-driver" >&2; exit 1; }
done
"$python" -c 'import selenium' 2>/dev/null ||
  { echo "browser: apt-get install python3-selenium" >&2; exit 1; }

inst=$(mktemp -d /tmp/jg-browser-XXXXXX)
lt_pid=
test_pid=
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  # Each of lighttpd (with its FastCGI programs) and the test (with
  # chromedriver and chromium) leads its own process group.
  for pid in $test_pid $lt_pid; do
    kill -TERM -- "-$pid" 2>/dev/null || true
  done
  for _ in $(seq 50); do
    alive=
    for pid in $test_pid $lt_pid; do
      kill -0 -- "-$pid" 2>/dev/null && alive=1
    done
    [ -z "$alive" ] && break
    sleep 0.1
  done
  for pid in $test_pid $lt_pid; do
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
  rm -rf "$inst"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
issuer=http://127.0.0.1:$port
export JWTGATE_CONF=$inst/jwtgate.conf

# The instance, as demo.sh makes it.
"$jwtgate" init --issuer "$issuer" --dir "$inst" >/dev/null
sed -i -e "s|^#templates = .*|templates = $top/htdocs|" \
    -e "s|^#bearer_cookie =.*|bearer_cookie = jwtgate_demo_at|" "$JWTGATE_CONF"
sed -i "s|^#revocation_check_interval = .*|revocation_check_interval = 0|" "$JWTGATE_CONF"
grep -q "^templates = $top/htdocs\$" "$JWTGATE_CONF" ||
  { echo "browser: jwtgate init wrote no #templates line" >&2; exit 1; }
password=$(head -c 12 /dev/urandom | base64 | tr '+/' '-_')
printf '%s\n' "$password" | "$jwtgate" user add demo --password-stdin \
  --name 'Demo User' --given-name Demo --family-name User \
  --email demo@example.org --email-verified >/dev/null
"$jwtgate" client add demo-app --public --first-party --name 'jwtgate demo app' \
  --redirect-uri "$issuer/demo/callback.html" --post-logout-uri "$issuer/demo/" >/dev/null

# lighttpd, as demo.sh runs it (the conf/ template for the programs).
mkdir -p "$inst/run"
sed -e "s|^var.jwtgate_bin = .*|var.jwtgate_bin = \"$build/cgi-bin\"|" \
    -e "s|^var.jwtgate_conf = .*|var.jwtgate_conf = \"$JWTGATE_CONF\"|" \
    -e "s|^var.jwtgate_docroot = .*|var.jwtgate_docroot = \"$top/htdocs\"|" \
    -e "s|^var.jwtgate_sockets = .*|var.jwtgate_sockets = \"$inst/run\"|" \
    "$top/conf/lighttpd-jwtgate.conf.in" > "$inst/run/jwtgate.conf"
cat > "$inst/run/lighttpd.conf" <<EOF
server.document-root = "$top/htdocs"
server.bind = "127.0.0.1"
server.port = $port
server.errorlog = "$inst/error.log"
server.upload-dirs = ( "$inst/run" )
server.modules = ( "mod_alias", "mod_redirect", "mod_setenv" )
index-file.names = ( "index.html" )
mimetype.assign = (
  ".html" => "text/html; charset=utf-8",
  ".css" => "text/css; charset=utf-8",
  ".js" => "text/javascript; charset=utf-8",
  ".json" => "application/json",
  ".txt" => "text/plain; charset=utf-8"
)
alias.url = ( "/.well-known/" => "$inst/htdocs/.well-known/" )
url.redirect = ( "^/\$" => "/demo/" )
url.redirect-code = 302
\$HTTP["url"] =~ "^/(demo|protected)/" {
  setenv.add-response-header = (
    "Content-Security-Policy" => "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options" => "nosniff",
    "Referrer-Policy" => "no-referrer",
    "Cache-Control" => "no-cache"
  )
}
include "$inst/run/jwtgate.conf"
EOF
setsid /usr/sbin/lighttpd -D -f "$inst/run/lighttpd.conf" >"$inst/lighttpd.out" 2>&1 &
lt_pid=$!
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  kill -0 "$lt_pid" 2>/dev/null || break
  sleep 0.1
done
if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  echo "browser: lighttpd did not start:" >&2
  cat "$inst/lighttpd.out" "$inst/error.log" >&2 2>/dev/null || true
  exit 1
fi

mkdir -p "$out"
rm -f "$out"/*.png
status=0
setsid "$python" "$here/test_demo.py" --url "$issuer" --user demo \
  --password-file /dev/stdin --name 'Demo User' --out "$out" <<<"$password" &
test_pid=$!
wait "$test_pid" || status=$?
if [ "$status" -ne 0 ]; then
  echo "browser: the server's error log:" >&2
  tail -20 "$inst/error.log" >&2 2>/dev/null || true
fi
exit "$status"
