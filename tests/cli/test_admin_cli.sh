#!/usr/bin/env bash
# test_admin_cli.sh: drives the instance commands of jwtgate end to end
# (init, user, client, key generate/rotate/list/retire/publish) against a
# scratch instance, and checks what they leave in the configuration file,
# the SQLite database (read with the sqlite3 command), the key folder and
# the published .well-known files (read with python3's json module).
#
# Environment: JWTGATE = the jwtgate binary to test; JG_SRCDIR = source tree.
# Needs: sqlite3, python3 (/usr/bin/python3), sha256sum, setsid.
set -u

JWTGATE=${JWTGATE:?set JWTGATE to the jwtgate binary}
JG_SRCDIR=${JG_SRCDIR:-.}
PY=/usr/bin/python3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/admin-cli.XXXXXX") || exit 99
lock_pid=
cleanup() {
	if [ -n "$lock_pid" ]; then kill "$lock_pid" 2>/dev/null; fi
	rm -rf "$tmp"
}
trap cleanup EXIT
umask 022
unset JWTGATE_CONF

passed=0
failed=0

ok() {
	passed=$((passed + 1))
	echo "ok $((passed + failed)) - $1"
}

not_ok() {
	failed=$((failed + 1))
	echo "not ok $((passed + failed)) - $1"
	shift
	for line in "$@"; do
		echo "#   $line"
	done
	if [ -s "$tmp/err" ]; then
		sed 's/^/#   stderr: /' "$tmp/err" | head -5
	fi
}

# check NAME COMMAND...: passes when COMMAND succeeds.
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name" "failed: $*"; fi
}

# run ARGS...: runs jwtgate with no input, without a controlling terminal;
# stdout in $tmp/out, stderr in $tmp/err, exit status in $rc.
run() {
	setsid -w "$JWTGATE" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
	rc=$?
}

# run_input TEXT ARGS...: the same with TEXT (and a newline) on stdin.
run_input() {
	local input=$1
	shift
	printf '%s\n' "$input" | setsid -w "$JWTGATE" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}

lines() { # number of lines in a file
	awk 'END { print NR }' "$1"
}

expect_ok() {
	if [ "$rc" -eq 0 ]; then ok "$1"; else not_ok "$1" "exit status $rc, want 0"; fi
}

# expect_rejected NAME [REGEX]: exit 1, nothing on stdout, exactly one line
# on stderr starting with "jwtgate: " (and matching REGEX when given).
expect_rejected() {
	local name=$1 re=${2:-}
	if [ "$rc" -ne 1 ]; then
		not_ok "$name" "exit status $rc, want 1"
	elif [ -s "$tmp/out" ]; then
		not_ok "$name" "stdout not empty: $(head -c 200 "$tmp/out")"
	elif [ "$(lines "$tmp/err")" -ne 1 ]; then
		not_ok "$name" "want exactly one line on stderr, got $(lines "$tmp/err")"
	elif ! grep -q '^jwtgate: ' "$tmp/err"; then
		not_ok "$name" "stderr does not start with 'jwtgate: '"
	elif [ -n "$re" ] && ! grep -Eq -- "$re" "$tmp/err"; then
		not_ok "$name" "stderr does not match /$re/"
	else
		ok "$name"
	fi
}

# expect_usage NAME: exit 2, nothing on stdout, a "jwtgate: " message.
expect_usage() {
	if [ "$rc" -ne 2 ]; then
		not_ok "$1" "exit status $rc, want 2"
	elif [ -s "$tmp/out" ]; then
		not_ok "$1" "stdout not empty"
	elif ! grep -q '^jwtgate: ' "$tmp/err"; then
		not_ok "$1" "no 'jwtgate: ' message on stderr"
	else
		ok "$1"
	fi
}

# expect_out NAME TEXT: exit 0 and stdout is exactly TEXT (plus a newline).
expect_out() {
	local want
	want=$(printf '%s\n' "$2" | od -c)
	if [ "$rc" -ne 0 ]; then
		not_ok "$1" "exit status $rc, want 0"
	elif [ "$(od -c <"$tmp/out")" != "$want" ]; then
		not_ok "$1" "stdout: $(head -c 300 "$tmp/out")" "want:   $2"
	else
		ok "$1"
	fi
}

# expect_silent NAME: exit 0, nothing on stdout or stderr.
expect_silent() {
	if [ "$rc" -ne 0 ]; then
		not_ok "$1" "exit status $rc, want 0"
	elif [ -s "$tmp/out" ] || [ -s "$tmp/err" ]; then
		not_ok "$1" "output: $(head -c 200 "$tmp/out")"
	else
		ok "$1"
	fi
}

# sql DB QUERY: prints the result of a query (separator |).
sql() {
	sqlite3 -batch "$1" "$2" 2>&1
}

# json FILE EXPR: evaluates the python expression EXPR with d = the JSON in FILE.
json() {
	"$PY" -c 'import json, sys
with open(sys.argv[1]) as f:
    d = json.load(f)
r = eval(sys.argv[2])
print(r if not isinstance(r, (list, dict)) else json.dumps(r, sort_keys=True))' "$1" "$2" 2>&1
}

mode_of() {
	stat -c %a "$1" 2>/dev/null
}

# in_db_files TEXT: counts the database's files (with WAL) holding TEXT.
in_db_files() {
	local n=0 f
	for f in "$db" "$db-wal"; do
		if [ -f "$f" ] && grep -qaF -- "$1" "$f"; then n=$((n + 1)); fi
	done
	echo "$n"
}

for tool in sqlite3 sha256sum setsid; do
	if ! command -v "$tool" >/dev/null; then
		echo "Bail out! $tool is needed"
		exit 99
	fi
done
if [ ! -x "$PY" ]; then
	echo "Bail out! $PY is needed"
	exit 99
fi

# ------------------------------------------------------------ help and usage

for cmd in "init" "user" "user add" "user passwd" "user set" "user disable" \
	   "user enable" "user del" "user list" "user show" "user import-htpasswd" \
	   "client" "client add" "client del" "client list" "client show" \
	   "key" "key generate" "key rotate" "key list" "key retire" "key publish"; do
	# shellcheck disable=SC2086
	run $cmd --help
	if [ "$rc" -eq 0 ] && grep -q '^usage: jwtgate' "$tmp/out" && [ ! -s "$tmp/err" ]; then
		ok "jwtgate $cmd --help: usage on stdout, exit 0"
	else
		not_ok "jwtgate $cmd --help: usage on stdout, exit 0" "exit status $rc"
	fi
done
run --help
check "jwtgate --help lists init, user, client" \
	grep -q '^  init' "$tmp/out"
check "jwtgate --help lists user" grep -q '^  user' "$tmp/out"
check "jwtgate --help lists client" grep -q '^  client' "$tmp/out"
for cmd in "frobnicate" "user frob" "client frob" "key frob"; do
	# shellcheck disable=SC2086
	run $cmd
	expect_usage "jwtgate $cmd: unknown command, exit 2"
done
run user
expect_usage "jwtgate user without a command: exit 2"
run init
expect_usage "init without --issuer: exit 2"
run init --issuer https://id.example.org --frob
expect_usage "init with an unknown option: exit 2"
run init --issuer https://id.example.org --dir "$tmp/x" extra
expect_usage "init with an extra argument: exit 2"
run --config
expect_usage "jwtgate --config without a file: exit 2"

# ------------------------------------------------------------ init

inst=$tmp/inst
conf=$inst/jwtgate.conf
db=$inst/jwtgate.db
keys=$inst/keys
wk=$inst/htdocs/.well-known

run init --issuer http://id.example.org --dir "$inst"
expect_rejected "init with a plain-http issuer (not loopback): exit 1" "issuer"
check "a refused init leaves no configuration file" test ! -e "$conf"
check "a refused init leaves no database" test ! -e "$db"
run init --issuer 'https://id.example.org/#frag' --dir "$inst"
expect_rejected "init with an issuer with a fragment: exit 1" "issuer"

run init --issuer https://id.example.org/idp --dir "$inst"
expect_ok "init: exit 0"
check "init prints where the configuration is" grep -qF "$conf" "$tmp/out"
check "init prints where the database is" grep -qF "$db" "$tmp/out"
check "init prints where the discovery document is" \
	grep -qF "$wk/openid-configuration" "$tmp/out"
check "init tells how to find the configuration (JWTGATE_CONF)" \
	grep -qF "JWTGATE_CONF=$conf" "$tmp/out"
check "init writes the configuration file" test -f "$conf"
check "the configuration names the issuer" \
	grep -qx 'issuer = https://id.example.org/idp' "$conf"
check "the configuration names the database in DIR" grep -qx "database = $db" "$conf"
check "the configuration names the key folder in DIR" grep -qx "key_dir = $keys" "$conf"
check "init leaves no temporary file" \
	test "$(find "$inst" -maxdepth 1 \( -name '*.init-*' -o -name '*.tmp.*' \) | wc -l)" -eq 0

# The configuration loads: a command using it succeeds.
run --config "$conf" user list
expect_silent "the written configuration loads (user list: empty)"

got=$(sql "$db" 'PRAGMA user_version')
check "init creates the database at schema version 2 (got '$got')" test "$got" = 2
got=$(sql "$db" "SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('users', 'clients', 'codes', 'families', 'sessions') ORDER BY name)")
check "the database has the users, clients, codes, families, sessions tables (got '$got')" \
	test "$got" = "clients codes families sessions users"
check "the database file has mode 600" test "$(mode_of "$db")" = 600
check "the key folder has mode 700" test "$(mode_of "$keys")" = 700
npem=$(find "$keys" -name '*.pem' | wc -l)
check "init makes two keys (got $npem)" test "$npem" -eq 2
bad_modes=$(find "$keys" -name '*.pem' ! -perm 600 | wc -l)
check "every key file has mode 600" test "$bad_modes" -eq 0
check "keyring.json has mode 600" test "$(mode_of "$keys/keyring.json")" = 600
check "every key file is a PKCS#8 private key" \
	test "$(grep -l '^-----BEGIN PRIVATE KEY-----$' "$keys"/*.pem | wc -l)" -eq 2

got=$(json "$keys/keyring.json" 'sorted((k["purpose"], k["alg"], k["state"]) for k in d["keys"])')
check "the keyring: an ES256 access key and an RS256 ID key, both current (got $got)" \
	test "$got" = '[["access", "ES256", "current"], ["id", "RS256", "current"]]'
access_kid=$(json "$keys/keyring.json" '[k["kid"] for k in d["keys"] if k["purpose"] == "access"][0]')
id_kid=$(json "$keys/keyring.json" '[k["kid"] for k in d["keys"] if k["purpose"] == "id"][0]')
check "the access key file is named by its kid" test -f "$keys/$access_kid.pem"
check "the ID key file is named by its kid" test -f "$keys/$id_kid.pem"

got=$(json "$wk/jwks.json" 'sorted(k["kid"] for k in d["keys"])')
want=$("$PY" -c 'import json, sys; print(json.dumps(sorted(sys.argv[1:])))' "$access_kid" "$id_kid")
check "jwks.json holds both keys (got $got)" test "$got" = "$want"
got=$(json "$wk/jwks.json" 'sorted((k["kty"], k["alg"], k["use"]) for k in d["keys"])')
check "jwks.json: kty, alg and use of each key (got $got)" \
	test "$got" = '[["EC", "ES256", "sig"], ["RSA", "RS256", "sig"]]'
got=$(json "$wk/jwks.json" 'sum(1 for k in d["keys"] for m in ("d", "p", "q", "dp", "dq", "qi") if m in k)')
check "jwks.json holds no private member (got $got)" test "$got" = 0
check "jwks.json has mode 644" test "$(mode_of "$wk/jwks.json")" = 644
got=$(json "$wk/openid-configuration" 'd["issuer"]')
check "openid-configuration: issuer (got $got)" test "$got" = https://id.example.org/idp
got=$(json "$wk/openid-configuration" 'd["jwks_uri"]')
check "openid-configuration: jwks_uri (got $got)" \
	test "$got" = https://id.example.org/idp/.well-known/jwks.json
got=$(json "$wk/openid-configuration" 'd["token_endpoint"]')
check "openid-configuration: token_endpoint (got $got)" \
	test "$got" = https://id.example.org/idp/oauth/token
got=$(json "$wk/openid-configuration" 'd["id_token_signing_alg_values_supported"]')
check "openid-configuration: id_token_signing_alg_values_supported (got $got)" \
	test "$got" = '["RS256"]'
got=$(json "$wk/openid-configuration" 'd["code_challenge_methods_supported"]')
check "openid-configuration: code_challenge_methods_supported (got $got)" \
	test "$got" = '["S256"]'

# Init twice: refused, nothing changed.
sum_before=$(cat "$conf" "$keys/keyring.json" | sha256sum)
run init --issuer https://other.example.org --dir "$inst"
expect_rejected "init over an existing configuration: exit 1" "exists; use --force"
check "the refused second init changed nothing" \
	test "$(cat "$conf" "$keys/keyring.json" | sha256sum)" = "$sum_before"

# ------------------------------------------------------------ configuration lookup

run_input 'pw-for-zed-1' user add zed --password-stdin --config "$conf"
expect_ok "user add with --config after the command: exit 0"
run --config "$conf" user list
check "jwtgate --config FILE user list finds the user" grep -q '^zed	' "$tmp/out"
run --config="$conf" user list
check "jwtgate --config=FILE user list finds the user" grep -q '^zed	' "$tmp/out"
JWTGATE_CONF=$conf run user list
check "JWTGATE_CONF finds the configuration" grep -q '^zed	' "$tmp/out"
JWTGATE_CONF=$tmp/none.conf run user list
expect_rejected "a missing configuration file: exit 1" "none.conf: cannot open"

cp "$conf" "$tmp/bad.conf"
echo "frobnicate = 1" >>"$tmp/bad.conf"
badline=$(lines "$tmp/bad.conf")
run --config "$tmp/bad.conf" user list
expect_rejected "an unknown key in the configuration: exit 1" \
	"^jwtgate: $tmp/bad.conf:$badline: frobnicate: unknown key\$"
run --config "$tmp/bad.conf" key list
expect_rejected "key list with a bad configuration: exit 1" "frobnicate: unknown key"

export JWTGATE_CONF=$conf

# init --force keeps the database and the keys, and is idempotent.
run init --issuer https://id.example.org/idp --dir "$inst" --force
expect_ok "init --force: exit 0"
run user list
check "init --force keeps the database (user zed is still there)" grep -q '^zed	' "$tmp/out"
got=$(json "$keys/keyring.json" 'sorted(k["kid"] for k in d["keys"])')
check "init --force keeps the keys" test "$got" = "$want"

# An init that fails after it made the database (here: the document root
# cannot be created, its parent is a file) leaves no configuration and no
# temporary file, and can simply be run again.
: >"$tmp/plainfile"
run init --issuer https://id.example.org --dir "$tmp/inst5" --htdocs "$tmp/plainfile/www"
expect_rejected "init with a document root that cannot be made: exit 1" "cannot create"
check "the failed init leaves no configuration file" test ! -e "$tmp/inst5/jwtgate.conf"
check "the failed init leaves no temporary configuration" \
	test "$(find "$tmp/inst5" -maxdepth 1 -name '*.init-*' | wc -l)" -eq 0
run init --issuer https://id.example.org --dir "$tmp/inst5"
expect_ok "init again after the failed one: exit 0"
check "the second init writes the configuration" test -f "$tmp/inst5/jwtgate.conf"
check "and two keys" test "$(find "$tmp/inst5/keys" -name '*.pem' | wc -l)" -eq 2

# ------------------------------------------------------------ init: other places

run init --issuer https://id.example.org --dir "$tmp/inst2" --htdocs "$tmp/www"
expect_ok "init --htdocs: exit 0"
check "init --htdocs writes the discovery document there" \
	test -f "$tmp/www/.well-known/openid-configuration"
check "init --htdocs writes jwks.json there" test -f "$tmp/www/.well-known/jwks.json"
check "init --htdocs names it in the configuration" \
	grep -qx "htdocs = $tmp/www" "$tmp/inst2/jwtgate.conf"
check "init --htdocs makes no DIR/htdocs" test ! -e "$tmp/inst2/htdocs"

# "RS256 for ID tokens and ES256 for access tokens unless configured
# otherwise": init can be told other algorithms, and writes them down.
run init --issuer https://id.example.org --dir "$tmp/inst4" \
	--access-token-alg EdDSA --id-token-alg PS256
expect_ok "init --access-token-alg EdDSA --id-token-alg PS256: exit 0"
got=$(json "$tmp/inst4/keys/keyring.json" 'sorted((k["purpose"], k["alg"], k["state"]) for k in d["keys"])')
check "the keyring: an EdDSA access key and a PS256 ID key (got $got)" \
	test "$got" = '[["access", "EdDSA", "current"], ["id", "PS256", "current"]]'
check "the configuration says access_token_alg = EdDSA" \
	grep -qx 'access_token_alg = EdDSA' "$tmp/inst4/jwtgate.conf"
check "the configuration says id_token_alg = PS256" \
	grep -qx 'id_token_alg = PS256' "$tmp/inst4/jwtgate.conf"
got=$(json "$tmp/inst4/htdocs/.well-known/openid-configuration" 'd["id_token_signing_alg_values_supported"]')
check "openid-configuration offers PS256 ID tokens (got $got)" test "$got" = '["PS256"]'
for bad in HS256 none rs256; do
	run init --issuer https://id.example.org --dir "$tmp/inst6" --access-token-alg "$bad"
	expect_usage "init --access-token-alg $bad: exit 2"
done
run init --issuer https://id.example.org --dir "$tmp/inst6" --id-token-alg HS512
expect_usage "init --id-token-alg HS512: exit 2"
check "the refused inits made nothing" test ! -e "$tmp/inst6"

JWTGATE_CONF=$tmp/inst3/my.conf run init --issuer http://localhost:8080
expect_ok "init with JWTGATE_CONF and no --dir: exit 0"
check "it writes the configuration JWTGATE_CONF names" test -f "$tmp/inst3/my.conf"
check "and puts the database beside it" test -f "$tmp/inst3/jwtgate.db"
check "and does not ask to set JWTGATE_CONF again" \
	test "$(grep -c JWTGATE_CONF "$tmp/out")" -eq 0

# ------------------------------------------------------------ users

password='Correct-Horse-7391-battery'
run_input "$password" user add alice --password-stdin --name 'Alice Example' \
	--email alice@example.org --email-verified
expect_silent "user add alice: exit 0, nothing printed"
got=$(sql "$db" "SELECT substr(password_hash, 1, 3) FROM users WHERE username = 'alice'")
check "alice's password is stored as a yescrypt hash (got '$got')" test "$got" = '$y$'
check "the password itself is nowhere in the database files" \
	test "$(in_db_files "$password")" -eq 0
got=$(sql "$db" "SELECT name || '|' || email || '|' || email_verified || '|' || disabled FROM users WHERE username = 'alice'")
check "alice's profile is stored (got '$got')" \
	test "$got" = 'Alice Example|alice@example.org|1|0'
sub=$(sql "$db" "SELECT sub FROM users WHERE username = 'alice'")
check "alice has a random sub of 22 base64url characters (got '$sub')" \
	grep -Eqx '[A-Za-z0-9_-]{22}' <<<"$sub"

run_input "other-password" user add alice --password-stdin
expect_rejected "user add of an existing user: exit 1" "user 'alice' exists"
run_input "pw" user add 'bad:name' --password-stdin
expect_rejected "user add with ':' in the name: exit 1" "bad user name"
run_input "pw" user add ' alice' --password-stdin
expect_rejected "user add with a leading space: exit 1" "bad user name"
run_input "pw" user add "$(printf 'a%.0s' {1..65})" --password-stdin
expect_rejected "user add with a 65-byte name: exit 1" "longer than 64"
run_input "pw" user add "$(printf 'tab\there')" --password-stdin
expect_rejected "user add with a control character: exit 1" "bad user name"
run_input "" user add bob --password-stdin
expect_rejected "user add with an empty password: exit 1" "empty password"
run user add bob
expect_rejected "user add without a terminal or --password-stdin: exit 1" "--password-stdin"
run_input "pw" user add bob --password-stdin --email not-an-address
expect_rejected "user add with a bad --email: exit 1" "e-mail"
got=$(sql "$db" "SELECT count(*) FROM users WHERE username <> 'alice' AND username <> 'zed'")
check "no refused user was added (got $got)" test "$got" = 0

# The terminal: asked twice without echo (a pseudo-terminal from python3).
cat >"$tmp/prompt.py" <<'PYEOF'
import os, pty, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "user",
                           os.environ.get("PROMPT_VERB", "add"), sys.argv[2]])
out = b""
def read_for(seconds, to_prompt=True):
    global out
    end = time.time() + seconds
    while time.time() < end:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            return
        if not chunk:
            return
        out += chunk
        if to_prompt and out.endswith(b": "):
            return
for answer in sys.argv[3:]:
    read_for(10)
    os.write(fd, answer.encode() + b"\n")
read_for(10, False)
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace").replace("\r", ""))
sys.exit(os.WEXITSTATUS(status))
PYEOF
"$PY" "$tmp/prompt.py" "$JWTGATE" terry 'tty-secret-1' 'tty-secret-1' >"$tmp/out" 2>&1
rc=$?
expect_ok "user add on a terminal, the password typed twice: exit 0"
check "the terminal asks for the password twice" \
	test "$(grep -c -e '^New password for terry: ' -e '^Retype the password: ' "$tmp/out")" -eq 2
check "the typed password is not echoed" test "$(grep -c 'tty-secret-1' "$tmp/out")" -eq 0
check "user terry exists" \
	test "$(sql "$db" "SELECT count(*) FROM users WHERE username = 'terry'")" = 1
"$PY" "$tmp/prompt.py" "$JWTGATE" tina 'tty-secret-1' 'tty-secret-2' >"$tmp/out" 2>&1
rc=$?
check "user add on a terminal with two different passwords: exit 1 (got $rc)" test "$rc" -eq 1
check "the mismatch is reported" grep -q '^jwtgate: the passwords do not match' "$tmp/out"
check "user tina was not added" \
	test "$(sql "$db" "SELECT count(*) FROM users WHERE username = 'tina'")" = 0
hash_before=$(sql "$db" "SELECT password_hash FROM users WHERE username = 'terry'")
PROMPT_VERB=passwd "$PY" "$tmp/prompt.py" "$JWTGATE" terry 'tty-secret-2' 'tty-secret-2' >"$tmp/out" 2>&1
rc=$?
expect_ok "user passwd on a terminal, the new password typed twice: exit 0"
check "user passwd asks for the password twice" \
	test "$(grep -c -e '^New password for terry: ' -e '^Retype the password: ' "$tmp/out")" -eq 2
check "the password typed for user passwd is not echoed" \
	test "$(grep -c 'tty-secret-2' "$tmp/out")" -eq 0
hash_after=$(sql "$db" "SELECT password_hash FROM users WHERE username = 'terry'")
check "user passwd on a terminal stores a new yescrypt hash" \
	test "$hash_after" != "$hash_before" -a "${hash_after:0:3}" = '$y$'
PROMPT_VERB=passwd "$PY" "$tmp/prompt.py" "$JWTGATE" terry 'tty-secret-3' 'tty-secret-4' >"$tmp/out" 2>&1
rc=$?
check "user passwd on a terminal with two different passwords: exit 1 (got $rc)" test "$rc" -eq 1
check "the hash is unchanged after the mismatch" \
	test "$(sql "$db" "SELECT password_hash FROM users WHERE username = 'terry'")" = "$hash_after"
run user del terry
expect_ok "user del terry: exit 0"

run user show alice
check "user show: the user name" grep -qx 'username: alice' "$tmp/out"
check "user show: the sub" grep -qx "sub: $sub" "$tmp/out"
check "user show: enabled" grep -qx 'state: enabled' "$tmp/out"
check "user show: the e-mail address" grep -qx 'email: alice@example.org' "$tmp/out"
check "user show: never the hash" test "$(grep -c '\$y\$' "$tmp/out")" -eq 0
run user show nobody
expect_rejected "user show of an unknown user: exit 1" "no user 'nobody'"
run user list
expect_out "user list" "$(printf 'alice\t%s\tenabled\nzed\t%s\tenabled' "$sub" \
	"$(sql "$db" "SELECT sub FROM users WHERE username = 'zed'")")"

hash_before=$(sql "$db" "SELECT password_hash FROM users WHERE username = 'alice'")
run_input "new-$password" user passwd alice --password-stdin
expect_ok "user passwd: exit 0"
hash_after=$(sql "$db" "SELECT password_hash FROM users WHERE username = 'alice'")
check "user passwd stores a new yescrypt hash" \
	test "$hash_after" != "$hash_before" -a "${hash_after:0:3}" = '$y$'
run_input "x" user passwd nobody --password-stdin
expect_rejected "user passwd of an unknown user: exit 1" "no user"

sql "$db" "INSERT INTO sessions (hash, sub, auth_time, created, expires) SELECT 'h35-session', sub, 1, 1, 4102444800 FROM users WHERE username = 'alice'" >/dev/null
check "alice has a session before user disable" \
	test "$(sql "$db" "SELECT count(*) FROM sessions WHERE hash = 'h35-session'")" = 1
run user disable alice
expect_ok "user disable: exit 0"
check "user disable sets the flag" \
	test "$(sql "$db" "SELECT disabled FROM users WHERE username = 'alice'")" = 1
check "user disable ends the user's sessions" \
	test "$(sql "$db" "SELECT count(*) FROM sessions WHERE hash = 'h35-session'")" = 0
run user show alice
check "user show: disabled" grep -qx 'state: disabled' "$tmp/out"
run user enable alice
expect_ok "user enable: exit 0"
check "user enable clears the flag" \
	test "$(sql "$db" "SELECT disabled FROM users WHERE username = 'alice'")" = 0
run user disable nobody
expect_rejected "user disable of an unknown user: exit 1" "no user"

run user set alice --email alice@example.net --phone '+1 555 0100'
expect_ok "user set: exit 0"
got=$(sql "$db" "SELECT email || '|' || phone_number || '|' || name FROM users WHERE username = 'alice'")
check "user set changes only what it is given (got '$got')" \
	test "$got" = 'alice@example.net|+1 555 0100|Alice Example'

run user del zed
expect_ok "user del: exit 0"
run user del zed
expect_rejected "user del of a deleted user: exit 1" "no user 'zed'"
check "user del removes the row" \
	test "$(sql "$db" "SELECT count(*) FROM users WHERE username = 'zed'")" = 0

# ------------------------------------------------------------ import-htpasswd

htfile=$JG_SRCDIR/tests/cli/admin-import.htpasswd
run user import-htpasswd "$htfile"
check "import-htpasswd with skipped lines: exit 1 (got $rc)" test "$rc" -eq 1
check "import-htpasswd prints the counts" \
	grep -qx 'imported 3, updated 0, skipped 5' "$tmp/out"
check "each skipped line is reported once, with its number" \
	test "$(grep -c "^jwtgate: $htfile:\(10\|11\|14\|15\|16\): " "$tmp/err")" -eq 5 -a \
	"$(lines "$tmp/err")" -eq 5
check "line 10: Apache MD5 named" grep -q ":10: user 'erin' skipped: Apache MD5" "$tmp/err"
check "line 11: SHA-1 named" grep -q ":11: user 'frank' skipped: SHA-1" "$tmp/err"
check "line 14: no colon" grep -q ":14: line skipped" "$tmp/err"
check "line 15: plain text" grep -q ":15: user 'hank' skipped" "$tmp/err"
check "line 16: a name longer than 64 bytes" grep -q ":16: .*longer than 64 bytes" "$tmp/err"
got=$(sql "$db" "SELECT password_hash FROM users WHERE username = 'carol'")
check "the bcrypt hash is imported as it is" \
	test "$got" = '$2y$05$xFyDg.qDKak74adir/Vc1uH17ap3qW6uMxjTF5c/JkIPY4ncVGNGy'
got=$(sql "$db" "SELECT substr(password_hash, 1, 20) FROM users WHERE username = 'dave'")
check "the sha512-crypt hash is imported (got '$got')" test "$got" = '$6$Zq8sLr2vXy1Abc3D$'
got=$(sql "$db" "SELECT substr(password_hash, 1, 7) FROM users WHERE username = 'gina'")
check "the yescrypt hash is imported (got '$got')" test "$got" = '$y$j9T$'
got=$(sql "$db" "SELECT count(*) FROM users WHERE username IN ('erin', 'frank', 'hank')")
check "the unsupported entries are not in the database (got $got)" test "$got" = 0
got=$(sql "$db" "SELECT count(DISTINCT sub) FROM users")
check "every user has its own sub (got $got of 4)" test "$got" = 4

run user import-htpasswd "$htfile"
check "a second import: the existing users are skipped too" \
	grep -qx 'imported 0, updated 0, skipped 8' "$tmp/out"
check "a second import names the existing users" \
	grep -q ":8: user 'carol' skipped: exists" "$tmp/err"
sql "$db" "UPDATE users SET password_hash = '\$y\$j9T\$x' WHERE username = 'carol'" >/dev/null
run user import-htpasswd "$htfile" --update
check "import --update replaces the hashes of existing users" \
	grep -qx 'imported 0, updated 3, skipped 5' "$tmp/out"
got=$(sql "$db" "SELECT substr(password_hash, 1, 4) FROM users WHERE username = 'carol'")
check "carol has the bcrypt hash again (got '$got')" test "$got" = '$2y$'
sed -n '8,12p' "$htfile" | grep -v -e apr1 -e SHA >"$tmp/good.htpasswd"
echo 'ivan:$6$Zq8sLr2vXy1Abc3D$H2PWa14tctpXdMe.1yePf2xn93iDWUwG/5jAuBhXjGULv0ksI9ma998p9enIKnAPXDmgkIi6TdaET7rAAWexR0' >>"$tmp/good.htpasswd"
setsid -w "$JWTGATE" user import-htpasswd - --update <"$tmp/good.htpasswd" >"$tmp/out" 2>"$tmp/err"
rc=$?
expect_out "import of only supported entries from stdin: exit 0" \
	'imported 1, updated 3, skipped 0'
run user import-htpasswd "$tmp/nonexistent"
expect_rejected "import of a missing file: exit 1" "cannot read"

# ------------------------------------------------------------ clients

run client add web --redirect-uri https://app.example.org/cb --name 'Web App'
expect_ok "client add (confidential): exit 0"
secret=$(cat "$tmp/out")
check "the secret is printed once: one line of 43 base64url characters" \
	test "$(lines "$tmp/out")" -eq 1 -a "$(grep -Ecx '[A-Za-z0-9_-]{43}' "$tmp/out")" -eq 1
got=$(sql "$db" "SELECT secret_hash FROM clients WHERE client_id = 'web'")
want_hash="sha256:$(printf '%s' "$secret" | sha256sum | cut -d' ' -f1)"
check "the database holds only the SHA-256 of the secret" test "$got" = "$want_hash"
check "the secret itself is nowhere in the database files" \
	test "$(in_db_files "$secret")" -eq 0
got=$(sql "$db" "SELECT grant_types || '|' || scopes || '|' || name FROM clients WHERE client_id = 'web'")
check "defaults: code + refresh grants, OIDC scopes with offline_access (got '$got')" \
	test "$got" = 'authorization_code refresh_token|openid profile email address phone offline_access|Web App'
run client show web
check "client show: the redirect URI" grep -qx 'redirect_uri: https://app.example.org/cb' "$tmp/out"
check "client show: confidential" grep -qx 'type: confidential' "$tmp/out"
check "client show: never the secret or its hash" \
	test "$(grep -c -e "$secret" -e sha256 "$tmp/out")" -eq 0

run client add spa --public --redirect-uri http://localhost:5173/cb \
	--redirect-uri com.example.app:/oauth/cb --scope openid --scope 'profile email'
expect_silent "client add --public: exit 0, nothing printed"
got=$(sql "$db" "SELECT coalesce(secret_hash, 'NULL') || '|' || scopes FROM clients WHERE client_id = 'spa'")
check "a public client has no secret hash; scopes from repeated --scope (got '$got')" \
	test "$got" = 'NULL|openid profile email'
got=$(sql "$db" "SELECT group_concat(uri, ' ') FROM (SELECT uri FROM client_uris WHERE client_id = 'spa' AND kind = 0 ORDER BY position)")
check "both redirect URIs are stored in order (got '$got')" \
	test "$got" = 'http://localhost:5173/cb com.example.app:/oauth/cb'

run_input '0123456789abcdef0123456789abcdef' client add own --secret-stdin \
	--redirect-uri https://own.example.org/cb
expect_silent "client add --secret-stdin: exit 0, nothing printed"
got=$(sql "$db" "SELECT secret_hash FROM clients WHERE client_id = 'own'")
check "the given secret is stored as its SHA-256" \
	test "$got" = "sha256:$(printf '%s' 0123456789abcdef0123456789abcdef | sha256sum | cut -d' ' -f1)"
run_input 'too-short-secret' client add own2 --secret-stdin --redirect-uri https://own.example.org/cb
expect_rejected "client add --secret-stdin with a short secret: exit 1" "secret refused"

run client add svc --grant client_credentials --scope 'api:read api:write'
expect_ok "client add with only client_credentials: exit 0"
got=$(sql "$db" "SELECT grant_types || '|' || scopes FROM clients WHERE client_id = 'svc'")
check "client_credentials client: its grant and scopes (got '$got')" \
	test "$got" = 'client_credentials|api:read api:write'

for bad in 'https://app.example.org/cb#frag' '/relative/cb' 'javascript:alert(1)' \
	   'data:text/html,x' 'https://user@app.example.org/cb' 'https:///cb' \
	   'https://app.example.org:8x/cb' 'https://app.example.org/a b' 'app.example.org/cb'; do
	run client add bad --redirect-uri "$bad"
	expect_rejected "client add --redirect-uri '$bad': exit 1" "redirect-uri"
done
run client add bad --public --grant client_credentials
expect_rejected "a public client with client_credentials: exit 1" "public client"
run client add 'bad id' --redirect-uri https://a.example/cb
expect_rejected "client add with a space in the id: exit 1" "bad client id"
run client add web --redirect-uri https://app.example.org/cb
expect_rejected "client add of an existing id: exit 1" "client 'web' exists"
got=$(sql "$db" "SELECT count(*) FROM clients WHERE client_id IN ('bad', 'bad id', 'own2')")
check "no refused client was stored (got $got)" test "$got" = 0
run client add bad
expect_usage "client add without --redirect-uri: exit 2"
run client add bad --public --secret-stdin --redirect-uri https://a.example/cb
expect_usage "client add --public --secret-stdin: exit 2"
run client add bad --grant implicit --redirect-uri https://a.example/cb
expect_usage "client add --grant implicit: exit 2"
run client add bad --id-token-alg HS256 --redirect-uri https://a.example/cb
expect_usage "client add --id-token-alg HS256: exit 2"
run client add bad --access-token-lifetime 0 --redirect-uri https://a.example/cb
expect_usage "client add --access-token-lifetime 0: exit 2"

run client list
expect_out "client list" "$(printf 'own\tconfidential\tauthorization_code,refresh_token\t\nspa\tpublic\tauthorization_code,refresh_token\t\nsvc\tconfidential\tclient_credentials\t\nweb\tconfidential\tauthorization_code,refresh_token\tWeb App')"
run client del spa
expect_ok "client del: exit 0"
run client del spa
expect_rejected "client del of a deleted client: exit 1" "no client 'spa'"
run client show spa
expect_rejected "client show of a deleted client: exit 1" "no client 'spa'"
check "client del removes its redirect URIs" \
	test "$(sql "$db" "SELECT count(*) FROM client_uris WHERE client_id = 'spa'")" = 0

# Every option of client add lands in the database and in client show.
run client add fp --redirect-uri https://fp.example/cb --first-party \
	--post-logout-uri https://fp.example/bye --post-logout-uri https://fp.example/bye2 \
	--grant authorization_code --scope 'openid email' --name 'First Party' \
	--access-token-lifetime 300 --refresh-idle-lifetime 3600 \
	--refresh-absolute-lifetime 86400
expect_ok "client add with --first-party, --post-logout-uri and lifetimes: exit 0"
got=$(sql "$db" "SELECT first_party || '|' || grant_types || '|' || scopes || '|' || access_token_lifetime || '|' || refresh_idle_lifetime || '|' || refresh_absolute_lifetime || '|' || coalesce(id_token_alg, 'NULL') FROM clients WHERE client_id = 'fp'")
check "first_party, grant, scopes and lifetimes are stored (got '$got')" \
	test "$got" = '1|authorization_code|openid email|300|3600|86400|NULL'
got=$(sql "$db" "SELECT group_concat(uri, ' ') FROM (SELECT uri FROM client_uris WHERE client_id = 'fp' AND kind = 1 ORDER BY position)")
check "both post-logout redirect URIs are stored in order (got '$got')" \
	test "$got" = 'https://fp.example/bye https://fp.example/bye2'
got=$(sql "$db" "SELECT count(*) FROM clients WHERE client_id = 'web' AND first_party = 0")
check "a client without --first-party is not first-party" test "$got" = 1
run client show fp
check "client show: first_party yes" grep -qx 'first_party: yes' "$tmp/out"
check "client show: each post-logout URI" \
	test "$(grep -cx -e 'post_logout_redirect_uri: https://fp.example/bye' \
		-e 'post_logout_redirect_uri: https://fp.example/bye2' "$tmp/out")" -eq 2
check "client show: the access token lifetime" grep -qx 'access_token_lifetime: 300' "$tmp/out"
run client add fp2 --redirect-uri https://fp.example/cb --post-logout-uri 'https://fp.example/bye#x'
expect_rejected "client add --post-logout-uri with a fragment: exit 1" "post-logout"
check "the refused client was not stored" \
	test "$(sql "$db" "SELECT count(*) FROM clients WHERE client_id = 'fp2'")" = 0
run client del fp
expect_ok "client del fp: exit 0"

# ------------------------------------------------------------ keys

run key list
check "key list: two current keys" \
	test "$(lines "$tmp/out")" -eq 2 -a "$(grep -c ' current ' "$tmp/out")" -eq 2
check "key list names the access key" grep -q "^$access_kid  ES256  access  current  " "$tmp/out"

run key generate --alg ES384
expect_ok "key generate --alg ES384 (keyring form): exit 0"
next_kid=$(json "$keys/keyring.json" '[k["kid"] for k in d["keys"] if k["state"] == "next"][0]')
check "key generate prints the new public JWK" grep -q "\"kid\":\"$next_kid\"" "$tmp/out"
check "key generate prints no private member" test "$(grep -c '"d"' "$tmp/out")" -eq 0
got=$(json "$wk/jwks.json" 'len(d["keys"])')
check "jwks.json publishes the next key at once (3 keys, got $got)" test "$got" = 3

run key generate --alg ES256 --out "$tmp/file.pem"
expect_ok "key generate --out still writes a key file with an instance around"
check "the key file is written" grep -q 'BEGIN PRIVATE KEY' "$tmp/file.pem"
check "and the keyring is not touched" \
	test "$(json "$keys/keyring.json" 'len(d["keys"])')" = 3

run key rotate --purpose access
expect_ok "key rotate --purpose access: exit 0"
check "key rotate promotes the next key" \
	grep -q "^access: $next_kid (ES384) is current; $access_kid is previous" "$tmp/out"
got=$(json "$keys/keyring.json" 'sorted((k["kid"] == "'"$access_kid"'", k["state"]) for k in d["keys"] if k["purpose"] == "access")')
check "the old access key is previous, the new one current (got $got)" \
	test "$got" = '[[false, "current"], [true, "previous"]]'
got=$(json "$wk/jwks.json" '"'"$access_kid"'" in [k["kid"] for k in d["keys"]] and "'"$next_kid"'" in [k["kid"] for k in d["keys"]]')
check "jwks.json keeps the old key and has the new one" test "$got" = True
run key list
check "key list shows when the previous key may be retired" \
	grep -Eq "^$access_kid  ES256  access  previous  [0-9TZ:-]+  [0-9]{4}-" "$tmp/out"

run key retire "$access_kid"
expect_rejected "key retire while its tokens may be valid: exit 1" "may be valid until"
check "the refused retire keeps the key file" test -f "$keys/$access_kid.pem"
run key retire "$next_kid"
expect_rejected "key retire of the current key: exit 1" "current access key"
run key retire AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
expect_rejected "key retire of an unknown kid: exit 1" "no key"
# One thumbprint in 64 starts with '-': it is a KID, not options, with
# or without "--" before it.
run key retire -AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
expect_rejected "key retire of an unknown kid starting with '-': exit 1" "no key"
run key retire --force -- -AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
expect_rejected "key retire -- and a kid starting with '-': exit 1" "no key"
run key retire -AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA -BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB
expect_usage "key retire with two kids: exit 2"
run key retire -AAAA
expect_usage "key retire -AAAA (not a thumbprint): an unknown option, exit 2"
run key retire
expect_usage "key retire without KID: exit 2"
run key retire "$access_kid" --force
expect_ok "key retire --force: exit 0"
check "the retired key file is gone" test ! -e "$keys/$access_kid.pem"
got=$(json "$wk/jwks.json" '"'"$access_kid"'" in [k["kid"] for k in d["keys"]]')
check "jwks.json no longer has the retired key" test "$got" = False
got=$(json "$wk/jwks.json" 'len(d["keys"])')
check "jwks.json has the two current keys (got $got)" test "$got" = 2

run key rotate
expect_ok "key rotate (both purposes): exit 0"
check "key rotate rotates both purposes" \
	test "$(grep -c '^access: .* is current; ' "$tmp/out")" -eq 1 -a \
	"$(grep -c '^id: .* (RS256) is current; ' "$tmp/out")" -eq 1
got=$(json "$wk/openid-configuration" 'd["id_token_signing_alg_values_supported"]')
check "openid-configuration after rotation (got $got)" test "$got" = '["RS256"]'
run key rotate --alg ES256
expect_usage "key rotate --alg without --purpose: exit 2"

# "ES256 for access tokens unless configured otherwise": with
# access_token_alg set in the configuration, rotation makes a key of it.
cp "$conf" "$tmp/eddsa.conf"
sed -i 's/^#access_token_alg = ES256$/access_token_alg = EdDSA/' "$tmp/eddsa.conf"
check "the configuration template has the access_token_alg line (set to EdDSA)" \
	grep -qx 'access_token_alg = EdDSA' "$tmp/eddsa.conf"
run --config "$tmp/eddsa.conf" key rotate --purpose access
expect_ok "key rotate --purpose access with access_token_alg = EdDSA: exit 0"
check "the new current access key is an EdDSA key" \
	grep -Eq '^access: [A-Za-z0-9_-]{43} \(EdDSA\) is current; ' "$tmp/out"
got=$(json "$keys/keyring.json" '[k["alg"] for k in d["keys"] if k["purpose"] == "access" and k["state"] == "current"]')
check "the keyring's current access key is EdDSA (got $got)" test "$got" = '["EdDSA"]'
got=$(json "$wk/jwks.json" 'sorted(k["crv"] for k in d["keys"] if k["kty"] == "OKP")')
check "jwks.json publishes the Ed25519 key (got $got)" test "$got" = '["Ed25519"]'

# One current ID key per algorithm (issue 5 point 3: RS256 ID tokens by
# default, another algorithm per client).  A client's algorithm needs a
# current ID key of it, or its ID tokens could not be signed.
idalgs() { # the algs of the current ID keys, sorted
	json "$keys/keyring.json" 'sorted(k["alg"] for k in d["keys"] if k["purpose"] == "id" and k["state"] == "current")'
}
run client add es --redirect-uri https://es.example/cb --id-token-alg ES256
expect_rejected "client add --id-token-alg ES256 without an ES256 ID key: exit 1" \
	"no current ES256 ID-token key.*key rotate --purpose id --alg ES256"
rs_kid=$(json "$keys/keyring.json" '[k["kid"] for k in d["keys"] if k["purpose"] == "id" and k["state"] == "current"][0]')
run key rotate --purpose id --alg ES256
expect_ok "key rotate --purpose id --alg ES256: exit 0"
check "it makes an ES256 ID key current and demotes no other" \
	grep -Eqx 'id: [A-Za-z0-9_-]{43} \(ES256\) is current' "$tmp/out"
got=$(idalgs)
check "RS256 and ES256 ID keys are both current (got $got)" test "$got" = '["ES256", "RS256"]'
got=$(json "$keys/keyring.json" '[k["state"] for k in d["keys"] if k["kid"] == "'"$rs_kid"'"]')
check "the RS256 ID key is still the current one (got $got)" test "$got" = '["current"]'
got=$(json "$wk/openid-configuration" 'd["id_token_signing_alg_values_supported"]')
check "openid-configuration lists both, RS256 first (got $got)" test "$got" = '["RS256", "ES256"]'
run client add es --redirect-uri https://es.example/cb --id-token-alg ES256
expect_ok "client add --id-token-alg ES256 with an ES256 ID key: exit 0"
check "its id_token_alg is stored" \
	test "$(sql "$db" "SELECT id_token_alg FROM clients WHERE client_id = 'es'")" = ES256
run client add ed --redirect-uri https://ed.example/cb --id-token-alg EdDSA
expect_rejected "client add --id-token-alg EdDSA without an EdDSA ID key: exit 1" \
	"no current EdDSA ID-token key"
check "the refused client was not stored" \
	test "$(sql "$db" "SELECT count(*) FROM clients WHERE client_id = 'ed'")" = 0
run key rotate --purpose id
expect_ok "key rotate --purpose id (every current ID algorithm): exit 0"
check "it rotates the RS256 and the ES256 ID key, each to its own alg" \
	test "$(grep -c '^id: .* (RS256) is current; '"$rs_kid"' is previous$' "$tmp/out")" -eq 1 -a \
	"$(grep -c '^id: .* (ES256) is current; .* is previous$' "$tmp/out")" -eq 1 -a \
	"$(lines "$tmp/out")" -eq 2
got=$(idalgs)
check "still one current ID key of each (got $got)" test "$got" = '["ES256", "RS256"]'
run key generate --alg HS256
expect_usage "key generate --alg HS256 (keyring form): exit 2"
run key generate --alg ES256 --purpose refresh
expect_usage "key generate --purpose refresh: exit 2"
rm "$wk/jwks.json"
run key publish
expect_ok "key publish: exit 0"
check "key publish writes jwks.json again" test -f "$wk/jwks.json"

# ------------------------------------------------------------ a failure midway

# Issue 3 point 5, "never a half-written database or key file": with every
# write beyond 1 KiB failing (ulimit -f 1, SIGXFSZ ignored so that write(2)
# returns EFBIG), each command fails with one line and leaves the files
# whole: the database unchanged and intact, the key files and jwks.json as
# they were, and never a key signing that jwks.json does not publish.
run_limited() { # run_limited INPUT ARGS...: run with a 1 KiB file size limit
	local input=$1
	shift
	printf '%s\n' "$input" |
		(trap '' XFSZ; ulimit -f 1; exec setsid -w "$JWTGATE" "$@") >"$tmp/out" 2>"$tmp/err"
	rc=$?
}
key_files() { # checksums of the key folder and the published files
	(cd "$keys" && sha256sum -- *.pem keyring.json) 2>&1
	sha256sum "$wk/jwks.json" "$wk/openid-configuration" 2>&1
}
current_kids() {
	json "$keys/keyring.json" 'sorted(k["kid"] for k in d["keys"] if k["state"] == "current")'
}
unpublished() { # kids of keys that are current or previous but not in jwks.json
	"$PY" -c 'import json, sys
ring = json.load(open(sys.argv[1]))
pub = {k["kid"] for k in json.load(open(sys.argv[2]))["keys"]}
print(sorted(k["kid"] for k in ring["keys"] if k["state"] in ("current", "previous") and k["kid"] not in pub))' \
		"$keys/keyring.json" "$wk/jwks.json" 2>&1
}
before=$(key_files)
run_limited '' key rotate --purpose id
expect_rejected "key rotate --purpose id, an RS256 key file cannot be written: exit 1" \
	"nothing rotated"
check "the failed rotate left every key file and jwks.json as they were" \
	test "$(key_files)" = "$before"
check "the failed rotate left no temporary file" \
	test "$(find "$keys" "$wk" -name '*.tmp*' | wc -l)" -eq 0
kids=$(current_kids)
run_limited '' key rotate --purpose access
expect_rejected "key rotate --purpose access, jwks.json cannot be written: exit 1" \
	"nothing rotated"
check "the failed rotate made no key current (got $(current_kids))" \
	test "$(current_kids)" = "$kids"
got=$(unpublished)
check "every signing or previous key is in jwks.json (unpublished: $got)" test "$got" = '[]'
sum_before=$(sql "$db" "SELECT count(*), group_concat(username) FROM users")
run_limited 'limited-password-1' user add limited --password-stdin
expect_rejected "user add when the database cannot grow: exit 1"
check "the failed user add changed no user" \
	test "$(sql "$db" "SELECT count(*), group_concat(username) FROM users")" = "$sum_before"
run_limited '' client add limited --redirect-uri https://limited.example/cb --public
expect_rejected "client add when the database cannot grow: exit 1"
check "the failed client add stored nothing" \
	test "$(sql "$db" "SELECT count(*) FROM clients WHERE client_id = 'limited'") $(sql "$db" "SELECT count(*) FROM client_uris WHERE client_id = 'limited'")" = "0 0"
check "the database is intact (integrity_check)" \
	test "$(sql "$db" "PRAGMA integrity_check")" = ok
run key rotate --purpose access
expect_ok "key rotate --purpose access without the limit: exit 0"
check "now a new access key is current" test "$(current_kids)" != "$kids"
got=$(unpublished)
check "and every signing or previous key is in jwks.json (unpublished: $got)" test "$got" = '[]'

# ------------------------------------------------------------ database busy

cp "$conf" "$tmp/busy.conf"
echo 'busy_timeout_ms = 200' >>"$tmp/busy.conf"
mkfifo "$tmp/fifo"
sqlite3 "$db" <"$tmp/fifo" >"$tmp/sqlite.out" 2>&1 &
lock_pid=$!
exec 3>"$tmp/fifo"
echo "BEGIN EXCLUSIVE; INSERT INTO login_failures (key, at) VALUES ('lock', 1); SELECT 'locked';" >&3
for _ in $(seq 50); do
	grep -q locked "$tmp/sqlite.out" && break
	sleep 0.1
done
check "the database is held by another process" grep -q locked "$tmp/sqlite.out"
sum_before=$(sql "$db" "SELECT count(*), group_concat(username) FROM users")
run_input 'busy-password-1' --config "$tmp/busy.conf" user add busy --password-stdin
expect_rejected "user add while the database is locked: exit 1" "^jwtgate: database busy, try again\$"
run --config "$tmp/busy.conf" user del alice
expect_rejected "user del while the database is locked: exit 1" "database busy, try again"
run --config "$tmp/busy.conf" client add busy --redirect-uri https://busy.example/cb
expect_rejected "client add while the database is locked: exit 1" "database busy, try again"
echo "ROLLBACK;" >&3
exec 3>&-
wait "$lock_pid"
lock_pid=
check "after the lock: the database is unchanged" \
	test "$(sql "$db" "SELECT count(*), group_concat(username) FROM users")" = "$sum_before"
check "after the lock: no busy client" \
	test "$(sql "$db" "SELECT count(*) FROM clients WHERE client_id = 'busy'")" = 0
run_input 'busy-password-1' --config "$tmp/busy.conf" user add busy --password-stdin
expect_ok "after the lock: user add works again"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
