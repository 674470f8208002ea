#!/usr/bin/env bash
# test_configure.sh: issue 2 point 1.  Runs the source tree's configure in
# scratch folders and checks that
#   - a missing dependency stops it with a message that names the Debian
#     package to install: each pkg-config module in turn is made to look
#     missing (a pkg-config wrapper that denies it), and libfcgi's header
#     and library through their autoconf cache variables;
#   - --enable-werror and --enable-sanitizers (ASan + UBSan) reach the
#     compiler flags of the generated Makefile, and are off by default;
#   - --enable-static-deps links GnuTLS, SQLite and json-c into the
#     programs from their archives: resource.fcgi is built that way, loads
#     none of them as a shared library and answers as a plain CGI script.
# To keep it quick, the compiler probes are taken from the build tree's
# config.log ("Cache variables"), without the dependency results.
#
# Environment: JG_SRCDIR, JG_BUILDDIR = the source and build trees (make
# check sets them).
set -u

S=${JG_SRCDIR:?set JG_SRCDIR to the source tree}
B=${JG_BUILDDIR:?set JG_BUILDDIR to the build tree}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/jg-configure.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
# configure runs as a program of its own, not a part of the make around it.
unset MAKEFLAGS MFLAGS MAKELEVEL
unset GNUTLS_CFLAGS GNUTLS_LIBS JSONC_CFLAGS JSONC_LIBS CURL_CFLAGS CURL_LIBS \
	CUNIT_CFLAGS CUNIT_LIBS SQLITE_CFLAGS SQLITE_LIBS CRYPT_CFLAGS CRYPT_LIBS

passed=0
failed=0
check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then
		passed=$((passed + 1))
		echo "ok $((passed + failed)) - $what"
	else
		failed=$((failed + 1))
		echo "not ok $((passed + failed)) - $what"
		[ -s "$tmp/err" ] && sed 's/^/#   stderr: /' "$tmp/err" | tail -5
	fi
}

real_pkg_config=$(command -v pkg-config) || { echo "Bail out! pkg-config is needed"; exit 99; }
if [ ! -f "$B/config.log" ] || [ ! -x "$S/configure" ]; then
	echo "Bail out! need $B/config.log and $S/configure"
	exit 99
fi

# The cache: every result of the build tree's configure except the
# dependencies under test and the recorded environment.
sed -n '/^## Cache variables\. ##$/,/^## Output variables\. ##$/p' "$B/config.log" |
	grep -E '^[A-Za-z_][A-Za-z0-9_]*=' |
	grep -Ev '^(pkg_cv_|ac_cv_env_|ac_cv_header_fcgiapp_h=|ac_cv_lib_fcgi_)' >"$tmp/base.cache"
if ! grep -q '^ac_cv_prog_ac_ct_CC=\|^ac_cv_prog_CC=' "$tmp/base.cache"; then
	echo "Bail out! no cache variables in $B/config.log"
	exit 99
fi

# A pkg-config that reports the module named by $JG_DENY as missing.
cat >"$tmp/pkg-config" <<EOF
#!/bin/sh
for a in "\$@"; do
	case "\$a" in
	"\$JG_DENY"|"\$JG_DENY "*) exit 1 ;;
	esac
done
exec '$real_pkg_config' "\$@"
EOF
chmod +x "$tmp/pkg-config"

n=0
# run_configure [VAR=VALUE...] -- [CONFIGURE ARGS...]: in a new folder;
# stdout/stderr in $tmp/out and $tmp/err, exit status in $rc, folder in $dir.
run_configure() {
	local env=()
	while [ "$1" != -- ]; do
		env+=("$1")
		shift
	done
	shift
	n=$((n + 1))
	dir=$tmp/b$n
	mkdir "$dir"
	cp "$tmp/base.cache" "$dir/config.cache"
	(cd "$dir" && env PKG_CONFIG="$tmp/pkg-config" "${env[@]}" \
		"$S/configure" --cache-file=config.cache "$@") >"$tmp/out" 2>"$tmp/err"
	rc=$?
}

# module (as configure.ac asks pkg-config), Debian package
while read -r module package; do
	run_configure JG_DENY="$module" --
	check "configure without $module: exit status not 0 (got $rc)" test "$rc" -ne 0
	check "configure without $module: names the Debian package $package" \
		grep -q "^configure: error: .*install the Debian package $package (apt-get install $package)\$" "$tmp/err"
	check "configure without $module: writes no Makefile" test ! -e "$dir/Makefile"
done <<'EOF'
gnutls libgnutls28-dev
json-c libjson-c-dev
libcurl libcurl4-gnutls-dev
cunit libcunit1-dev
sqlite3 libsqlite3-dev
libcrypt libcrypt-dev
EOF

run_configure JG_DENY=none ac_cv_header_fcgiapp_h=no --
check "configure without fcgiapp.h: exit status not 0 (got $rc)" test "$rc" -ne 0
check "configure without fcgiapp.h: names the Debian package libfcgi-dev" \
	grep -q '^configure: error: fcgiapp.h not found: install the Debian package libfcgi-dev' "$tmp/err"
run_configure JG_DENY=none ac_cv_lib_fcgi_FCGX_Accept_r=no --
check "configure without the fcgi library: exit status not 0 (got $rc)" test "$rc" -ne 0
check "configure without the fcgi library: names the Debian package libfcgi-dev" \
	grep -q '^configure: error: libfcgi not found: install the Debian package libfcgi-dev' "$tmp/err"

# The options.
mkvar() { # mkvar DIR NAME: the value of NAME in DIR/Makefile
	sed -n "s/^$2 = //p" "$1/Makefile"
}
run_configure JG_DENY=none -- --enable-werror --enable-sanitizers
check "configure --enable-werror --enable-sanitizers: exit 0 (got $rc)" test "$rc" -eq 0
check "--enable-werror: -Werror among the warning flags" \
	grep -qw -- '-Werror' <<<"$(mkvar "$dir" JG_WARN_CFLAGS)"
check "the warning flags of the house style are all there" \
	test "$(mkvar "$dir" JG_WARN_CFLAGS | tr ' ' '\n' | grep -cx -e -Wall -e -Wextra \
		-e -Wformat=2 -e -Wshadow -e -Wstrict-prototypes -e -Wmissing-prototypes \
		-e -Wvla -e -Wcast-qual -e -Wnull-dereference)" -eq 9
check "--enable-sanitizers: ASan and UBSan flags" \
	grep -q -- '-fsanitize=address,undefined' <<<"$(mkvar "$dir" JG_SAN_CFLAGS)"
run_configure JG_DENY=none --
check "configure without options: exit 0 (got $rc)" test "$rc" -eq 0
check "without --enable-werror: no -Werror" \
	test -n "$(mkvar "$dir" JG_WARN_CFLAGS)" -a \
	"$(mkvar "$dir" JG_WARN_CFLAGS | grep -cw -- '-Werror')" -eq 0
check "without --enable-sanitizers: no sanitizer flags" \
	test -z "$(mkvar "$dir" JG_SAN_CFLAGS)"

check "without --enable-static-deps: the programs link GnuTLS shared" \
	grep -qw -- '-lgnutls' <<<"$(mkvar "$dir" JG_CGI_DEPS)"

# --enable-static-deps: GnuTLS and the rest linked into the programs; one of
# them is built and run as a plain CGI script (unconfigured: a clean 500).
run_configure JG_DENY=none -- --enable-static-deps
check "configure --enable-static-deps: exit 0 (got $rc)" test "$rc" -eq 0
check "--enable-static-deps: the archives of GnuTLS, SQLite and json-c" \
	test "$(mkvar "$dir" JG_CGI_DEPS | tr ' ' '\n' |
		grep -cE '/lib(gnutls|sqlite3|json-c)\.a$')" -eq 3
if [ "$rc" -eq 0 ] && make -j2 -C "$dir" cgi-bin/resource.fcgi >"$tmp/out" 2>"$tmp/err"; then
	built=0
else
	built=1
fi
check "--enable-static-deps: cgi-bin/resource.fcgi builds" test "$built" -eq 0
check "--enable-static-deps: resource.fcgi loads no shared GnuTLS, SQLite or json-c" \
	test "$built" -eq 0 -a "$(ldd "$dir/cgi-bin/resource.fcgi" |
		grep -cE 'lib(gnutls|sqlite3|json-c)\.so')" -eq 0
check "--enable-static-deps: resource.fcgi answers as a plain CGI script" \
	test "$built" -eq 0 -a "$(JWTGATE_CONF=$tmp/none GATEWAY_INTERFACE=CGI/1.1 \
		REQUEST_METHOD=GET REQUEST_URI=/api/me "$dir/cgi-bin/resource.fcgi" \
		</dev/null 2>/dev/null | head -1 | tr -d '\r')" = "Status: 500 Internal Server Error"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
