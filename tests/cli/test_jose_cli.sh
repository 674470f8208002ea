#!/usr/bin/env bash
# test_jose_cli.sh: drives the jwtgate command line (key, jws, jwt) end to end,
# and cross-checks its tokens with an independent implementation (PyJWT on
# python3-cryptography, Debian packages python3-jwt python3-cryptography).
#
# Environment: JWTGATE = the jwtgate binary to test; JG_SRCDIR = source tree.
set -u

JWTGATE=${JWTGATE:?set JWTGATE to the jwtgate binary}
JG_SRCDIR=${JG_SRCDIR:-.}
PY=/usr/bin/python3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/jose-cli.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
umask 022

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

# check NAME CONDITION...: passes when the command CONDITION succeeds.
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name" "failed: $*"; fi
}

# run ARGS...: runs jwtgate with no input; stdout in $tmp/out, stderr in
# $tmp/err, exit status in $rc.
run() {
	"$JWTGATE" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
	rc=$?
}

# run_in FILE ARGS...: the same with FILE as standard input.
run_in() {
	local input=$1
	shift
	"$JWTGATE" "$@" <"$input" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}

lines() { # number of lines in a file (a last line without \n counts)
	awk 'END { print NR }' "$1"
}

# expect_ok NAME: the last run exited 0.
expect_ok() {
	if [ "$rc" -eq 0 ]; then ok "$1"; else not_ok "$1" "exit status $rc, want 0"; fi
}

# expect_rejected NAME [REGEX]: exit 1, nothing on stdout, exactly one line
# on stderr that starts with "jwtgate: " (and matches REGEX when given).
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
		sed 's/^/#   /' "$tmp/err"
	fi
}

# expect_usage NAME: exit 2, nothing on stdout, a "jwtgate: ..." message.
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

# expect_out NAME WANT: exit 0 and stdout is exactly WANT plus a newline.
expect_out() {
	local got
	got=$(cat "$tmp/out"; echo x)
	got=${got%x}
	if [ "$rc" -ne 0 ]; then
		not_ok "$1" "exit status $rc, want 0"
	elif [ "$got" != "$2"$'\n' ]; then
		not_ok "$1" "stdout: $(head -c 300 "$tmp/out")" "want:   $2"
	else
		ok "$1"
	fi
}

segment() { # segment N TOKEN: the Nth (1-3) dot-separated part
	local IFS=. parts
	read -r -a parts <<<"$2"
	echo "${parts[$1 - 1]:-}"
}

b64url() { # base64url of standard input, unpadded
	base64 -w0 | tr '+/' '-_' | tr -d '='
}

# ------------------------------------------------------------ usage errors

run
expect_usage "no arguments: exit 2"
run frobnicate
expect_usage "unknown command: exit 2"
run --bogus
expect_usage "unknown top-level option: exit 2"
run jwt
expect_usage "jwt without subcommand: exit 2"
run jwt frobnicate
expect_usage "unknown jwt subcommand: exit 2"
run jws frobnicate
expect_usage "unknown jws subcommand: exit 2"
run key frobnicate
expect_usage "unknown key subcommand: exit 2"
run jwt verify --key /dev/null --bogus x
expect_usage "jwt verify unknown option: exit 2"
run jwt verify --key
expect_usage "jwt verify --key without its argument: exit 2"
run jwt verify --key /dev/null
expect_usage "jwt verify without TOKEN: exit 2"
run jwt verify a.b.c
expect_usage "jwt verify without --key/--jwks: exit 2"
run jwt verify --key /dev/null a.b.c extra
expect_usage "jwt verify with two TOKENs: exit 2"
run jwt verify --key /dev/null --jwks /dev/null a.b.c
expect_usage "jwt verify with both --key and --jwks: exit 2"
run jwt verify --key /dev/null --alg bogus a.b.c
expect_usage "jwt verify --alg bogus: exit 2"
run jwt verify --key /dev/null --alg none a.b.c
expect_usage "jwt verify --alg none: exit 2"
run jwt verify --key /dev/null --alg rs256 a.b.c
expect_usage "jwt verify --alg is case-sensitive (rs256): exit 2"
run jwt verify --key /dev/null --leeway -1 a.b.c
expect_usage "jwt verify --leeway -1: exit 2"
run jwt verify --key /dev/null --leeway 10s a.b.c
expect_usage "jwt verify --leeway 10s: exit 2"
run jwt verify --key /dev/null --now yesterday a.b.c
expect_usage "jwt verify --now yesterday: exit 2"
run jws verify a.b.c
expect_usage "jws verify without --jwk: exit 2"
run jws verify --jwk /dev/null
expect_usage "jws verify without TOKEN: exit 2"
run jws sign
expect_usage "jws sign without --key: exit 2"
run jws sign --key /dev/null --alg HS257
expect_usage "jws sign --alg HS257: exit 2"
run jwt sign --key /dev/null --kid ''
expect_usage "jwt sign --kid '': exit 2"
run jwt decode
expect_usage "jwt decode without TOKEN: exit 2"
run jwt decode --frob a.b.c
expect_usage "jwt decode unknown option: exit 2"
run key generate --out "$tmp/never.pem"
expect_usage "key generate without --alg: exit 2"
run key generate --alg ES256
expect_usage "key generate without --out: exit 2"
run key generate --alg ES257 --out "$tmp/never.pem"
expect_usage "key generate --alg ES257: exit 2"
run key generate --alg RS256 --bits 1024 --out "$tmp/never.pem"
expect_usage "key generate --bits 1024: exit 2"
run key generate --alg ES256 --bits 2048 --out "$tmp/never.pem"
expect_usage "key generate --bits with ES256: exit 2"
check "no key file left behind by usage errors" test ! -e "$tmp/never.pem"

# --help everywhere: usage on stdout, exit 0.
for cmd in "" "key" "jws" "jwt" "key generate" "jws sign" "jws verify" \
	   "jwt sign" "jwt verify" "jwt decode"; do
	# shellcheck disable=SC2086
	run $cmd --help
	if [ "$rc" -eq 0 ] && grep -q '^usage: jwtgate' "$tmp/out" && [ ! -s "$tmp/err" ]; then
		ok "jwtgate $cmd --help: usage on stdout, exit 0"
	else
		not_ok "jwtgate $cmd --help: usage on stdout, exit 0" "exit status $rc"
	fi
done
run help jwt
check "jwtgate help jwt lists the jwt subcommands" \
	grep -q '^  decode' "$tmp/out"
run help jwt
expect_ok "jwtgate help jwt: exit 0"
run --version
expect_out "jwtgate --version" "jwtgate $(sed -n 's/^AC_INIT(\[jwtgate\], \[\([^]]*\)\].*/\1/p' "$JG_SRCDIR/configure.ac")"

# ------------------------------------------------------------ key generate

# alg, kty, crv ("" for none), natural alg of the key file
key_table="HS256 oct - HS256
HS384 oct - HS384
HS512 oct - HS512
RS256 RSA - RS256
RS384 RSA - RS256
RS512 RSA - RS256
PS256 RSA - RS256
PS384 RSA - RS256
PS512 RSA - RS256
ES256 EC P-256 ES256
ES384 EC P-384 ES384
ES512 EC P-521 ES512
EdDSA OKP Ed25519 EdDSA"

keyfile() { # the private key file of an alg
	case $1 in
	HS*) echo "$tmp/$1.jwk" ;;
	*) echo "$tmp/$1.pem" ;;
	esac
}

while read -r alg kty crv natural; do
	kf=$(keyfile "$alg")
	run key generate --alg "$alg" --out "$kf"
	expect_ok "key generate --alg $alg: exit 0"
	cp "$tmp/out" "$tmp/$alg.pub.jwk"
	pub=$(cat "$tmp/$alg.pub.jwk")
	check "key generate $alg: file mode 0600" \
		test "$(stat -c %a "$kf" 2>/dev/null)" = 600
	check "key generate $alg: one line of JWK on stdout" \
		test "$(lines "$tmp/$alg.pub.jwk")" -eq 1
	check "key generate $alg: kty $kty" grep -q "\"kty\":\"$kty\"" "$tmp/$alg.pub.jwk"
	check "key generate $alg: alg $alg" grep -q "\"alg\":\"$alg\"" "$tmp/$alg.pub.jwk"
	check "key generate $alg: kid is a SHA-256 thumbprint" \
		grep -Eq '"kid":"[A-Za-z0-9_-]{43}"' "$tmp/$alg.pub.jwk"
	if [ "$kty" = oct ]; then
		kid=$(sed -n 's/.*"kid":"\([^"]*\)".*/\1/p' "$tmp/$alg.pub.jwk")
		check "key generate $alg: prints exactly kty, kid, alg (no secret)" \
			test "$pub" = "{\"kty\":\"oct\",\"kid\":\"$kid\",\"alg\":\"$alg\"}"
		check "key generate $alg: the file is a JWK holding the secret" \
			grep -Eq '"k":"[A-Za-z0-9_-]+"' "$kf"
	else
		check "key generate $alg: use sig" grep -q '"use":"sig"' "$tmp/$alg.pub.jwk"
		check "key generate $alg: a public JWK, no private member printed" \
			test -s "$tmp/$alg.pub.jwk" -a \
			-z "$(grep -Eo '"(d|p|q|dp|dq|qi|k)":' "$tmp/$alg.pub.jwk")"
		check "key generate $alg: the file is a PKCS#8 PEM private key" \
			test "$(head -1 "$kf")" = "-----BEGIN PRIVATE KEY-----"
		if [ "$crv" != - ]; then
			check "key generate $alg: crv $crv" grep -q "\"crv\":\"$crv\"" "$tmp/$alg.pub.jwk"
		fi
	fi
done <<EOF
$key_table
EOF

run key generate --alg RS256 --bits 3072 --out "$tmp/rsa3072.pem"
expect_ok "key generate --alg RS256 --bits 3072: exit 0"
check "key generate --bits 3072: a 3072-bit modulus (512 base64url characters)" \
	grep -Eq '"n":"[A-Za-z0-9_-]{512}"' "$tmp/out"

(umask 0; "$JWTGATE" key generate --alg ES256 --out "$tmp/umask0.pem" >/dev/null 2>&1)
check "key generate under umask 0 still writes mode 0600" \
	test "$(stat -c %a "$tmp/umask0.pem" 2>/dev/null)" = 600

cp "$tmp/ES256.pem" "$tmp/ES256.pem.orig"
run key generate --alg ES256 --out "$tmp/ES256.pem"
expect_rejected "key generate refuses to overwrite an existing file" "exists"
check "the existing key file is unchanged" cmp -s "$tmp/ES256.pem" "$tmp/ES256.pem.orig"
run key generate --alg ES256 --out "$tmp/ES256.pem" --force
expect_ok "key generate --force replaces the file: exit 0"
check "the replaced key file is a new key" \
	test "$(cmp -s "$tmp/ES256.pem" "$tmp/ES256.pem.orig"; echo $?)" = 1
cp "$tmp/out" "$tmp/ES256.pub.jwk"
check "the replaced key file keeps mode 0600" \
	test "$(stat -c %a "$tmp/ES256.pem")" = 600
run key generate --alg ES256 --out "$tmp/no/such/dir/k.pem"
expect_rejected "key generate into a missing folder: exit 1"
check "key generate leaves no temporary file behind" \
	test "$(find "$tmp" -name '*.tmp.*' | wc -l)" -eq 0

# ------------------------------------------------------------ jws sign / verify

printf 'bin\000ary\001\377\376 "quotes" \\ \r\n\n' >"$tmp/payload"
printf '{"x":1}' >"$tmp/json_payload"
while read -r alg kty crv natural; do
	kf=$(keyfile "$alg")
	run_in "$tmp/payload" jws sign --key "$kf" --alg "$alg"
	expect_ok "jws sign $alg: exit 0"
	tok=$(cat "$tmp/out")
	check "jws sign $alg: one line, ending in a newline" \
		test "$(lines "$tmp/out")" -eq 1 -a "$(tail -c1 "$tmp/out" | od -An -c | tr -d ' ')" = '\n'
	check "jws sign $alg: compact serialization" \
		grep -Eq '^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$' "$tmp/out"
	run jws verify --jwk "$kf" "$tok"
	if [ "$rc" -eq 0 ] && cmp -s "$tmp/out" "$tmp/payload"; then
		ok "jws verify $alg with the key file: payload byte for byte"
	else
		not_ok "jws verify $alg with the key file: payload byte for byte" "exit status $rc"
	fi
	if [ "$kty" != oct ]; then
		run jws verify --jwk "$tmp/$alg.pub.jwk" "$tok"
		if [ "$rc" -eq 0 ] && cmp -s "$tmp/out" "$tmp/payload"; then
			ok "jws verify $alg with the printed public JWK"
		else
			not_ok "jws verify $alg with the printed public JWK" "exit status $rc"
		fi
	fi
	echo "$tok" >"$tmp/tok"
	run_in "$tmp/tok" jws verify --jwk "$kf" -
	if [ "$rc" -eq 0 ] && cmp -s "$tmp/out" "$tmp/payload"; then
		ok "jws verify $alg: TOKEN '-' from standard input"
	else
		not_ok "jws verify $alg: TOKEN '-' from standard input" "exit status $rc"
	fi
	# The key decides the algorithm when --alg is not given.
	run_in "$tmp/json_payload" jws sign --key "$kf"
	run jwt decode "$(cat "$tmp/out")"
	check "jws sign $alg key without --alg: header alg $natural" \
		grep -q "\"header\":{\"alg\":\"$natural\"" "$tmp/out"
done <<EOF
$key_table
EOF

: >"$tmp/empty"
run_in "$tmp/empty" jws sign --key "$tmp/EdDSA.pem"
tok=$(cat "$tmp/out")
check "jws sign of an empty payload: empty middle segment" \
	grep -Eq '^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+$' <<<"$tok"
run jws verify --jwk "$tmp/EdDSA.pub.jwk" "$tok"
if [ "$rc" -eq 0 ] && [ ! -s "$tmp/out" ]; then
	ok "jws verify of an empty payload prints nothing"
else
	not_ok "jws verify of an empty payload prints nothing" "exit status $rc"
fi

run_in "$tmp/json_payload" jws sign --key "$tmp/ES256.pem" --kid my-key
kidtok=$(cat "$tmp/out")
run jwt decode "$kidtok"
check "jws sign --kid: header kid is the given one" \
	grep -q '"kid":"my-key"' "$tmp/out"
run jws verify --jwk "$tmp/ES256.pub.jwk" "$kidtok"
expect_rejected "jws verify: a kid no key has is rejected" '^jwtgate: rejected: '

run_in "$tmp/payload" jws sign --key "$tmp/ES256.pem" --alg RS256
expect_rejected "jws sign: an EC key cannot sign RS256" "cannot sign"
run_in "$tmp/payload" jws sign --key "$tmp/HS256.jwk" --alg HS512
expect_rejected "jws sign: a 256-bit HS256 key cannot sign HS512"
run_in "$tmp/payload" jws sign --key "$tmp/ES256.pub.jwk"
expect_rejected "jws sign: a public key cannot sign" "cannot sign"
run_in "$tmp/payload" jws sign --key "$tmp/missing.pem"
expect_rejected "jws sign: missing key file: exit 1" "missing.pem"
echo "not a key" >"$tmp/garbage.pem"
run_in "$tmp/payload" jws sign --key "$tmp/garbage.pem"
expect_rejected "jws sign: invalid key file: exit 1" "garbage.pem"
head -c 20000 /dev/zero >"$tmp/big"
run_in "$tmp/big" jws sign --key "$tmp/ES256.pem"
expect_rejected "jws sign: a payload too big for a token: exit 1"

# A set of several keys: verify finds the key by kid; sign needs --kid.
es_kid=$(sed -n 's/.*"kid":"\([^"]*\)".*/\1/p' "$tmp/ES256.pub.jwk")
echo "{\"keys\":[$(cat "$tmp/RS256.pub.jwk"),$(cat "$tmp/ES384.pub.jwk"),$(cat "$tmp/ES256.pub.jwk")]}" >"$tmp/set.jwks"
run_in "$tmp/payload" jws sign --key "$tmp/ES256.pem"
tok=$(cat "$tmp/out")
run jws verify --jwk "$tmp/set.jwks" "$tok"
if [ "$rc" -eq 0 ] && cmp -s "$tmp/out" "$tmp/payload"; then
	ok "jws verify with a JWK Set of three keys"
else
	not_ok "jws verify with a JWK Set of three keys" "exit status $rc"
fi
run jws verify --jwk "$tmp/RS256.pub.jwk" "$tok"
expect_rejected "jws verify with the wrong key: exit 1" '^jwtgate: rejected: '
run_in "$tmp/payload" jws sign --key "$tmp/set.jwks"
expect_rejected "jws sign with a set of several keys needs --kid" "--kid"

# A private JWK (not PEM) is used for its public part: RFC 7515 appendix
# A.3.1's P-256 key (with "d") and A.3's ES256 token, whose payload holds
# CRLF; printed byte for byte.  The same key in a JWK Set, and A.1.1's
# HMAC key with A.1's token (signing input with CRLF in the header).
cat >"$tmp/rfc7515-a3.jwk" <<'JWKEOF'
{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","d":"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"}
JWKEOF
echo "{\"keys\":[$(cat "$tmp/RS256.pub.jwk"),$(cat "$tmp/rfc7515-a3.jwk")]}" >"$tmp/rfc7515-a3.jwks"
printf '{"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true}' >"$tmp/rfc7515-payload"
a3_token=eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q
a1_token=eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk
printf '{"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}' >"$tmp/rfc7515-a1.jwk"
for f in rfc7515-a3.jwk rfc7515-a3.jwks; do
	run jws verify --jwk "$tmp/$f" "$a3_token"
	if [ "$rc" -eq 0 ] && cmp -s "$tmp/out" "$tmp/rfc7515-payload"; then
		ok "jws verify: RFC 7515 A.3 token with the private key A.3.1 in $f"
	else
		not_ok "jws verify: RFC 7515 A.3 token with the private key A.3.1 in $f" "exit status $rc"
	fi
done
run jws verify --jwk "$tmp/rfc7515-a1.jwk" "$a1_token"
if [ "$rc" -eq 0 ] && cmp -s "$tmp/out" "$tmp/rfc7515-payload"; then
	ok "jws verify: RFC 7515 A.1 HS256 token with the A.1.1 key"
else
	not_ok "jws verify: RFC 7515 A.1 HS256 token with the A.1.1 key" "exit status $rc"
fi
run jws verify --jwk "$tmp/rfc7515-a3.jwk" "${a3_token%?}A"
expect_rejected "jws verify: RFC 7515 A.3 token with its last character changed" '^jwtgate: rejected: '
run jwt verify --key "$tmp/rfc7515-a3.jwk" --now 1300819000 "$a3_token"
expect_out "jwt verify: RFC 7515 A.3 claims with --now before their exp" \
	'{"iss":"joe","exp":1300819380,"http://example.com/is_root":true}'
run jwt verify --key "$tmp/rfc7515-a3.jwk" "$a3_token"
expect_rejected "jwt verify: RFC 7515 A.3 claims expired in 2011" '^jwtgate: rejected: .*exp'

# ------------------------------------------------------------ jwt sign / verify

now=1700000000
exp=$((now + 600))
claims="{\"iss\":\"https://issuer.example\",\"sub\":\"alice\",\"aud\":[\"api\",\"other\"],\"iat\":$now,\"nbf\":$now,\"exp\":$exp,\"scope\":\"read write\",\"name\":\"Ålice \\\"A\\\" Ü\"}"
printf '%s\n' "$claims" >"$tmp/claims"

for alg in HS256 RS256 PS384 ES512 EdDSA; do
	run_in "$tmp/claims" jwt sign --key "$(keyfile "$alg")" --alg "$alg"
	expect_ok "jwt sign $alg: exit 0"
	tok=$(cat "$tmp/out")
	run jwt verify --key "$(keyfile "$alg")" --iss https://issuer.example \
		--aud api --typ JWT --now "$now" "$tok"
	expect_out "jwt verify $alg: prints the claims" "$claims"
done

kf=$(keyfile ES256)
run_in "$tmp/claims" jwt sign --key "$kf"
tok=$(cat "$tmp/out")
V=(jwt verify --key "$tmp/ES256.pub.jwk")

run "${V[@]}" --now "$now" "$tok"
expect_out "jwt verify with no claim options" "$claims"
run "${V[@]}" --iss https://issuer.example --aud other --typ jwt --now "$now" "$tok"
expect_out "jwt verify: aud from the array, typ case-insensitive" "$claims"
run "${V[@]}" --iss https://issuer.example/ --now "$now" "$tok"
expect_rejected "jwt verify: wrong --iss" '^jwtgate: rejected: .*iss'
run "${V[@]}" --aud nobody --now "$now" "$tok"
expect_rejected "jwt verify: wrong --aud" '^jwtgate: rejected: .*aud'
run "${V[@]}" --typ at+jwt --now "$now" "$tok"
expect_rejected "jwt verify: wrong --typ" '^jwtgate: rejected: .*typ'
run "${V[@]}" --now $((exp + 61)) "$tok"
expect_rejected "jwt verify: expired token (default leeway 60)" '^jwtgate: rejected: .*exp'
run "${V[@]}" --now $((exp + 59)) "$tok"
expect_out "jwt verify: 59 s after exp passes with the default leeway" "$claims"
run "${V[@]}" --leeway 0 --now "$exp" "$tok"
expect_rejected "jwt verify --leeway 0: at exp the token is expired" '^jwtgate: rejected: .*exp'
run "${V[@]}" --leeway 0 --now $((exp - 1)) "$tok"
expect_out "jwt verify --leeway 0: one second before exp passes" "$claims"
run "${V[@]}" --leeway 3600 --now $((exp + 3000)) "$tok"
expect_out "jwt verify --leeway 3600: 3000 s after exp passes" "$claims"
run "${V[@]}" --now $((now - 61)) "$tok"
expect_rejected "jwt verify: not yet valid (nbf)" '^jwtgate: rejected: '
run "${V[@]}" --now $((now - 59)) "$tok"
expect_out "jwt verify: 59 s before nbf passes with the default leeway" "$claims"
run "${V[@]}" "$tok"
expect_rejected "jwt verify: the real clock says the 2023 token expired" '^jwtgate: rejected: .*exp'
run "${V[@]}" --alg RS256 --alg EdDSA --now "$now" "$tok"
expect_rejected "jwt verify: ES256 not in the --alg list" '^jwtgate: rejected: '
run "${V[@]}" --alg RS256 --alg ES256 --now "$now" "$tok"
expect_out "jwt verify: ES256 in the --alg list" "$claims"
run jwt verify --key "$tmp/ES384.pub.jwk" --now "$now" "$tok"
expect_rejected "jwt verify: wrong key" '^jwtgate: rejected: '
run jwt verify --jwks "$tmp/set.jwks" --now "$now" "$tok"
expect_out "jwt verify --jwks with a set of three keys" "$claims"
run jwt verify --key "$tmp/ES256.pem" --now "$now" "$tok"
expect_out "jwt verify with the private PEM file (its public part)" "$claims"
echo "$tok" >"$tmp/tok"
run_in "$tmp/tok" "${V[@]}" --now "$now" -
expect_out "jwt verify: TOKEN '-' from standard input" "$claims"
printf '%s\r\n' "$tok" >"$tmp/tok"
run_in "$tmp/tok" "${V[@]}" --now "$now" -
expect_out "jwt verify: TOKEN '-' with CRLF" "$claims"
printf '%s\n\n' "$tok" >"$tmp/tok"
run_in "$tmp/tok" "${V[@]}" --now "$now" -
expect_rejected "jwt verify: only one trailing newline is stripped" '^jwtgate: rejected: '
run "${V[@]}" --now "$now" "$tok"x
expect_rejected "jwt verify: a byte appended to the signature" '^jwtgate: rejected: '
run "${V[@]}" --now "$now" ""
expect_rejected "jwt verify: empty token" '^jwtgate: rejected: '
run "${V[@]}" --now "$now" "$(head -c 20000 /dev/zero | tr '\0' a)"
expect_rejected "jwt verify: a 20000-byte token" '^jwtgate: rejected: '

# Tampering: each segment changed.
h=$(segment 1 "$tok")
p=$(segment 2 "$tok")
s=$(segment 3 "$tok")
forged_p=$(printf '%s' "${claims/alice/admin}" | b64url)
run "${V[@]}" --now "$now" "$h.$forged_p.$s"
expect_rejected "jwt verify: tampered payload" '^jwtgate: rejected: '
c=${s:20:1}
if [ "$c" = A ]; then c=B; else c=A; fi
run "${V[@]}" --now "$now" "$h.$p.${s:0:20}$c${s:21}"
expect_rejected "jwt verify: tampered signature" '^jwtgate: rejected: '
forged_h=$(printf '{"alg":"ES256","kid":"%s","typ":"at+jwt"}' "$es_kid" | b64url)
run "${V[@]}" --now "$now" "$forged_h.$p.$s"
expect_rejected "jwt verify: tampered header" '^jwtgate: rejected: '
none_h=$(printf '{"alg":"none"}' | b64url)
run "${V[@]}" --now "$now" "$none_h.$p."
expect_rejected "jwt verify: alg none" '^jwtgate: rejected: '
run "${V[@]}" --now "$now" "$h.$p"
expect_rejected "jwt verify: two segments" '^jwtgate: rejected: '

# The key decides: an HS256 token can never pass with an RSA key, whatever
# secret it was made with.
run_in "$tmp/claims" jwt sign --key "$tmp/HS256.jwk"
hstok=$(cat "$tmp/out")
run jwt verify --key "$tmp/RS256.pub.jwk" --now "$now" "$hstok"
expect_rejected "jwt verify: an HS256 token against an RSA key" '^jwtgate: rejected: '
run jws verify --jwk "$tmp/RS256.pem" "$hstok"
expect_rejected "jws verify: an HS256 token against an RSA key" '^jwtgate: rejected: '
run jwt verify --key "$tmp/HS256.jwk" --now "$now" "$hstok"
expect_out "jwt verify: HS256 with its oct key" "$claims"
run jwt verify --key "$tmp/HS512.jwk" --now "$now" "$hstok"
expect_rejected "jwt verify: HS256 token with another oct key" '^jwtgate: rejected: '

# Wrong keys that carry the token's kid, so the signature itself decides.
run key generate --alg ES256 --out "$tmp/other.pem"
sed "s/\"kid\":\"[^\"]*\"/\"kid\":\"$es_kid\"/" "$tmp/out" >"$tmp/other-same-kid.jwk"
run jwt verify --key "$tmp/other-same-kid.jwk" --now "$now" "$tok"
expect_rejected "jwt verify: another ES256 key with the same kid" '^jwtgate: rejected: .*signature'
run jws verify --jwk "$tmp/other-same-kid.jwk" "$tok"
expect_rejected "jws verify: another ES256 key with the same kid" '^jwtgate: rejected: .*signature'
# Algorithm confusion: an HS256 token whose HMAC secret is the RSA public
# JWK text, under the RSA key's kid, is refused by the RSA key.
rs_kid=$(sed -n 's/.*"kid":"\([^"]*\)".*/\1/p' "$tmp/RS256.pub.jwk")
printf '{"kty":"oct","k":"%s"}' "$(b64url <"$tmp/RS256.pub.jwk")" >"$tmp/confused.jwk"
run_in "$tmp/claims" jwt sign --key "$tmp/confused.jwk" --kid "$rs_kid"
expect_ok "jwt sign HS256 with the RSA public JWK as secret (setup)"
run jwt verify --key "$tmp/RS256.pub.jwk" --now "$now" "$(cat "$tmp/out")"
expect_rejected "jwt verify: HS256 made with the RSA public key as secret" '^jwtgate: rejected: '

# Typ and kid in the header.
run_in "$tmp/claims" jwt sign --key "$kf" --typ at+jwt
attok=$(cat "$tmp/out")
run "${V[@]}" --typ at+jwt --now "$now" "$attok"
expect_out "jwt sign --typ at+jwt verifies with --typ at+jwt" "$claims"
run "${V[@]}" --typ JWT --now "$now" "$attok"
expect_rejected "an at+jwt token is not accepted as --typ JWT" '^jwtgate: rejected: .*typ'
run_in "$tmp/claims" jwt sign --key "$kf" --typ ''
run jwt decode "$(cat "$tmp/out")"
expect_out "jwt sign --typ '': no typ in the header" \
	"{\"header\":{\"alg\":\"ES256\",\"kid\":\"$es_kid\"},\"claims\":$claims,\"unverified\":true}"
run_in "$tmp/claims" jwt sign --key "$kf" --kid 2024-01
run jwt decode "$(cat "$tmp/out")"
expect_out "jwt sign --kid 2024-01: header kid" \
	"{\"header\":{\"alg\":\"ES256\",\"kid\":\"2024-01\",\"typ\":\"JWT\"},\"claims\":$claims,\"unverified\":true}"

# Bad claims input: exit 1 with one line.
for bad in 'not json' '[1,2]' '"string"' '{"a":1,"a":2}' '{"a":1} x' '{"a":' ''; do
	printf '%s' "$bad" >"$tmp/bad"
	run_in "$tmp/bad" jwt sign --key "$kf"
	expect_rejected "jwt sign rejects claims '$bad'" 'claims'
done
printf '{"a":"\377"}' >"$tmp/bad"
run_in "$tmp/bad" jwt sign --key "$kf"
expect_rejected "jwt sign rejects claims with invalid UTF-8" 'claims'

# ------------------------------------------------------------ jwt decode

run jwt decode "$tok"
expect_out "jwt decode: header, claims, unverified" \
	"{\"header\":{\"alg\":\"ES256\",\"kid\":\"$es_kid\",\"typ\":\"JWT\"},\"claims\":$claims,\"unverified\":true}"
check "jwt decode: the warning on stderr" \
	test "$(cat "$tmp/err")" = "jwtgate: warning: signature NOT verified"
echo "$tok" >"$tmp/tok"
run_in "$tmp/tok" jwt decode -
expect_out "jwt decode: TOKEN '-' from standard input" \
	"{\"header\":{\"alg\":\"ES256\",\"kid\":\"$es_kid\",\"typ\":\"JWT\"},\"claims\":$claims,\"unverified\":true}"
run jwt decode "$h.$forged_p.$s"
check "jwt decode does not check the signature" grep -q '"sub":"admin"' "$tmp/out"
run_in "$tmp/payload" jws sign --key "$kf"
run jwt decode "$(cat "$tmp/out")"
expect_rejected "jwt decode: a payload that is not JSON" '^jwtgate: rejected: '
run jwt decode "$none_h.$p."
expect_rejected "jwt decode: alg none" '^jwtgate: rejected: '
run jwt decode "$h.$p=.$s"
expect_rejected "jwt decode: padding in a segment" '^jwtgate: rejected: '
dup_h=$(printf '{"alg":"ES256","alg":"HS256"}' | b64url)
run jwt decode "$dup_h.$p.$s"
expect_rejected "jwt decode: duplicate header member" '^jwtgate: rejected: '
crit_h=$(printf '{"alg":"ES256","crit":["exp"],"exp":1}' | b64url)
run jwt decode "$crit_h.$p.$s"
expect_rejected "jwt decode: crit header" '^jwtgate: rejected: '

# ------------------------------------------------------------ independent check

# PyJWT on python3-cryptography verifies what jwtgate signs, with the
# published public JWK, and jwtgate verifies what PyJWT signs.
if "$PY" -c 'import jwt, cryptography' 2>/dev/null; then
	ok "independent verifier present (PyJWT $("$PY" -c 'import jwt; print(jwt.__version__)'))"
	cat >"$tmp/indep.py" <<'PYEOF'
import base64, hashlib, json, sys, time
import jwt
from cryptography.hazmat.primitives.serialization import load_pem_private_key

def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))

def thumbprint(jwk):
    # RFC 7638 section 3: the required members in lexicographic order.
    req = {"RSA": ["e", "kty", "n"], "EC": ["crv", "kty", "x", "y"],
           "OKP": ["crv", "kty", "x"], "oct": ["k", "kty"]}[jwk["kty"]]
    text = json.dumps({k: jwk[k] for k in req}, separators=(",", ":"),
                      sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()

cmd = sys.argv[1]
if cmd == "thumbprint":
    with open(sys.argv[2]) as f:
        print(thumbprint(json.load(f)))
elif cmd == "verify":
    # verify JWKFILE ALG TOKEN: prints the claims
    with open(sys.argv[2]) as f:
        key = jwt.PyJWK(json.load(f), sys.argv[3])
    claims = jwt.decode(sys.argv[4], key.key, algorithms=[sys.argv[3]],
                        audience="api", issuer="https://issuer.example")
    print(json.dumps(claims, sort_keys=True))
elif cmd == "sign":
    # sign KEYFILE ALG KID: a token for the claims on stdin
    alg, kid = sys.argv[3], sys.argv[4]
    if alg.startswith("HS"):
        with open(sys.argv[2]) as f:
            key = b64d(json.load(f)["k"])
    else:
        with open(sys.argv[2], "rb") as f:
            key = load_pem_private_key(f.read(), password=None)
    print(jwt.encode(json.load(sys.stdin), key, algorithm=alg,
                     headers={"kid": kid}))
PYEOF
	real_now=$(date +%s)
	pyclaims="{\"iss\":\"https://issuer.example\",\"sub\":\"bob\",\"aud\":\"api\",\"iat\":$real_now,\"exp\":$((real_now + 3600))}"
	printf '%s' "$pyclaims" >"$tmp/pyclaims"
	want=$("$PY" -c 'import json,sys; print(json.dumps(json.load(sys.stdin), sort_keys=True))' <"$tmp/pyclaims")
	while read -r alg kty crv natural; do
		if [ "$kty" = oct ]; then
			pubfile=$(keyfile "$alg")	# the secret is the verification key
		else
			pubfile=$tmp/$alg.pub.jwk
		fi
		kid=$(sed -n 's/.*"kid":"\([^"]*\)".*/\1/p' "$tmp/$alg.pub.jwk")
		got=$("$PY" "$tmp/indep.py" thumbprint "$pubfile" </dev/null 2>&1)
		check "$alg: the printed kid is the RFC 7638 thumbprint (computed in Python)" \
			test "$got" = "$kid"
		run_in "$tmp/pyclaims" jwt sign --key "$(keyfile "$alg")" --alg "$alg"
		got=$("$PY" "$tmp/indep.py" verify "$pubfile" "$alg" "$(cat "$tmp/out")" </dev/null 2>&1)
		if [ "$got" = "$want" ]; then
			ok "$alg: PyJWT verifies the token jwtgate signed"
		else
			not_ok "$alg: PyJWT verifies the token jwtgate signed" "$got"
		fi
		pytok=$("$PY" "$tmp/indep.py" sign "$(keyfile "$alg")" "$alg" "$kid" <"$tmp/pyclaims" 2>&1)
		run jwt verify --key "$pubfile" --alg "$alg" --iss https://issuer.example --aud api "$pytok"
		expect_out "$alg: jwtgate verifies the token PyJWT signed" "$pyclaims"
	done <<EOF
$key_table
EOF
else
	not_ok "independent verifier present" \
		"install the Debian packages python3-jwt python3-cryptography"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
