#!/usr/bin/env bash
# Runs a jwtgate demo on http://127.0.0.1:PORT (PORT defaults to 8080):
# installs what is missing (Debian 12, as root), builds in build-demo/, sets
# up an instance in .demo/ (configuration, database, keys, a demo user and
# the public client of the demo app), and runs lighttpd in the foreground
# with the three FastCGI programs.  Ctrl-C (SIGINT) or SIGTERM stops it and
# every process it started (so does closing its terminal).  A second run
# reuses the build and the instance.
set -euo pipefail
cd "$(dirname "$0")"
top=$(pwd)
port=${PORT:-8080}
jobs=$(nproc 2>/dev/null || echo 2)
build=$top/build-demo
demo=$top/.demo
issuer=http://127.0.0.1:$port

case $port in
  ''|*[!0-9]*) echo "demo.sh: PORT must be a number" >&2; exit 2 ;;
esac
case $top in
  *[\"\\\ ]*) echo "demo.sh: the checkout path must not hold quotes, backslashes or spaces: $top" >&2; exit 1 ;;
esac

# ------------------------------------------------------------ packages
packages=(
  build-essential autoconf automake libtool pkg-config
  libfcgi-dev libgnutls28-dev libjson-c-dev libcurl4-gnutls-dev
  libcunit1-dev libsqlite3-dev libcrypt-dev lighttpd
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "demo.sh: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "demo.sh: missing packages and not root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
# Debian starts a lighttpd service on port 80 when it installs the package;
# the demo runs its own and leaves that one alone.
lighttpd_bin=$(command -v lighttpd || echo /usr/sbin/lighttpd)

mkdir -p "$demo"
chmod 0700 "$demo"
# One demo per instance: the lock is held (by this script, lighttpd and the
# programs, which inherit it) until the last of them ends.
exec 9>"$demo/lock"
if ! flock -n 9; then
  echo "demo.sh: a demo is running already on this instance (.demo/); stop it first" >&2
  exit 1
fi
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  echo "demo.sh: port $port is in use; choose another with PORT=..." >&2
  exit 1
fi

# ------------------------------------------------------------ build
if [ ! -x configure ]; then
  echo "demo.sh: ./autogen.sh"
  ./autogen.sh >/dev/null 2>&1 || { ./autogen.sh; exit 1; }
fi
mkdir -p "$build"
if [ ! -f "$build/Makefile" ]; then
  echo "demo.sh: configuring in build-demo/"
  (cd "$build" && "$top/configure" >/dev/null)
fi
echo "demo.sh: building in build-demo/"
if ! make -C "$build" -j"$jobs" tools/jwtgate cgi-bin/authorize.fcgi \
     cgi-bin/token.fcgi cgi-bin/resource.fcgi >"$demo/build.log" 2>&1; then
  tail -30 "$demo/build.log" >&2
  echo "demo.sh: the build failed; the whole output is in .demo/build.log" >&2
  exit 1
fi
jwtgate=$build/tools/jwtgate
export JWTGATE_CONF=$demo/jwtgate.conf
# `tools/jwtgate`, the name the banner gives, is a link to the demo's build
# while the demo runs (an in-tree build's own tools/jwtgate is left alone).
# stop() removes it, and a later run replaces one left by a killed run.
link_made=
if [ -L tools/jwtgate ] && [ "$(readlink tools/jwtgate)" = ../build-demo/tools/jwtgate ]; then
  rm -f tools/jwtgate
fi
if [ ! -e tools/jwtgate ] && [ ! -L tools/jwtgate ]; then
  ln -s ../build-demo/tools/jwtgate tools/jwtgate
  link_made=1
fi
cli=build-demo/tools/jwtgate
[ -n "$link_made" ] && cli=tools/jwtgate

# ------------------------------------------------------------ instance
if [ ! -f "$JWTGATE_CONF" ]; then
  echo "demo.sh: setting up the instance in .demo/"
  "$jwtgate" init --issuer "$issuer" --dir "$demo" >/dev/null
  # The login and consent pages come from the source tree's htdocs; the
  # gate also takes the access token from the cookie jwtgate_demo_at, which
  # the demo app sets for /protected/ only (see htdocs/demo/index.html).
  sed -i -e "s|^#templates = .*|templates = $top/htdocs|" \
      -e "s|^#bearer_cookie =.*|bearer_cookie = jwtgate_demo_at|" "$JWTGATE_CONF"
fi
# The gate looks every token's jti up in the revocation list on every
# request (instead of every 30 s), so that a logout in the demo app shows at
# once; an instance that sets the key itself keeps its value.
sed -i "s|^#revocation_check_interval = .*|revocation_check_interval = 0|" "$JWTGATE_CONF"
old_issuer=$(sed -n 's/^issuer = //p' "$JWTGATE_CONF")
if [ "$old_issuer" != "$issuer" ]; then
  echo "demo.sh: the issuer changes from $old_issuer to $issuer"
  sed -i "s|^issuer = .*|issuer = $issuer|" "$JWTGATE_CONF"
  "$jwtgate" key publish >/dev/null
  "$jwtgate" client del demo-app >/dev/null 2>&1 || true
fi

# The demo user's password is made once and kept in .demo/demo-password.
if [ ! -s "$demo/demo-password" ]; then
  (umask 077; head -c 12 /dev/urandom | base64 | tr '+/' '-_' > "$demo/demo-password")
fi
password=$(cat "$demo/demo-password")
if ! "$jwtgate" user show demo >/dev/null 2>&1; then
  printf '%s\n' "$password" | "$jwtgate" user add demo --password-stdin \
    --name 'Demo User' --given-name Demo --family-name User \
    --email demo@example.org --email-verified >/dev/null
fi
if ! "$jwtgate" client show demo-app >/dev/null 2>&1; then
  "$jwtgate" client add demo-app --public --first-party --name 'jwtgate demo app' \
    --redirect-uri "$issuer/demo/callback.html" \
    --post-logout-uri "$issuer/demo/" >/dev/null
fi

# ------------------------------------------------------------ lighttpd
run=$demo/run
rm -rf "$run"
mkdir -p "$run"
sed -e "s|^var.jwtgate_bin = .*|var.jwtgate_bin = \"$build/cgi-bin\"|" \
    -e "s|^var.jwtgate_conf = .*|var.jwtgate_conf = \"$JWTGATE_CONF\"|" \
    -e "s|^var.jwtgate_docroot = .*|var.jwtgate_docroot = \"$top/htdocs\"|" \
    -e "s|^var.jwtgate_sockets = .*|var.jwtgate_sockets = \"$run\"|" \
    conf/lighttpd-jwtgate.conf.in > "$run/jwtgate.conf"
cat > "$run/lighttpd.conf" <<EOF
# Written by demo.sh on every start.
server.document-root = "$top/htdocs"
server.bind = "127.0.0.1"
server.port = $port
server.errorlog = "$demo/error.log"
server.upload-dirs = ( "$run" )
server.modules = ( "mod_alias", "mod_redirect", "mod_setenv" )
index-file.names = ( "index.html" )
mimetype.assign = (
  ".html" => "text/html; charset=utf-8",
  ".css" => "text/css; charset=utf-8",
  ".js" => "text/javascript; charset=utf-8",
  ".json" => "application/json",
  ".txt" => "text/plain; charset=utf-8",
  ".svg" => "image/svg+xml"
)
# The discovery document and the JWKS that jwtgate writes to .demo/htdocs.
alias.url = ( "/.well-known/" => "$demo/htdocs/.well-known/" )
# The front page is where the authorizer sends a browser without a token.
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
include "$run/jwtgate.conf"
EOF
"$lighttpd_bin" -tt -f "$run/lighttpd.conf" >/dev/null

# lighttpd leads a process group of its own, which the FastCGI programs it
# starts belong to as well: stop() ends that group, by its id, and waits
# until none of it is left.
lt_pid=
stop() {
  trap - INT TERM HUP EXIT
  if [ -n "$lt_pid" ]; then
    kill -TERM -- "-$lt_pid" 2>/dev/null || true
    wait "$lt_pid" 2>/dev/null || true
    for _ in $(seq 50); do
      kill -0 -- "-$lt_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL -- "-$lt_pid" 2>/dev/null || true
    lt_pid=
    echo
    echo "demo.sh: stopped"
  fi
  rm -rf "$run"
  if [ -n "$link_made" ] && [ -L "$top/tools/jwtgate" ] &&
     [ "$(readlink "$top/tools/jwtgate")" = ../build-demo/tools/jwtgate ]; then
    rm -f "$top/tools/jwtgate"
  fi
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap 'stop; exit 129' HUP
trap 'stop' EXIT

# setsid: a new process group (the script's own children are not group
# leaders, so setsid runs lighttpd itself and $! is its id).
setsid "$lighttpd_bin" -D -f "$run/lighttpd.conf" &
lt_pid=$!
for _ in $(seq 50); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  kill -0 "$lt_pid" 2>/dev/null || break
  sleep 0.1
done
if ! kill -0 "$lt_pid" 2>/dev/null; then
  lt_pid=
  echo "demo.sh: lighttpd did not start (port $port busy?); see $demo/error.log:" >&2
  tail -5 "$demo/error.log" >&2 || true
  exit 1
fi

cat <<EOF

jwtgate demo: $issuer/demo/

  Log in as    demo
  password     $password   (kept in .demo/demo-password)
  discovery    $issuer/.well-known/openid-configuration
  server log   .demo/error.log

More clients and users, while it runs (from $top):
  JWTGATE_CONF=.demo/jwtgate.conf $cli client add NAME --grant client_credentials
  JWTGATE_CONF=.demo/jwtgate.conf $cli user add NAME

Ctrl-C stops the demo.
EOF
set +e
wait "$lt_pid"
status=$?
set -e
echo "demo.sh: lighttpd exited with status $status; see $demo/error.log" >&2
stop
exit 1
