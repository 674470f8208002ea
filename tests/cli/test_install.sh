#!/usr/bin/env bash
# test_install.sh: issue 7 point 6.  Runs `make install DESTDIR=TMP` in the
# build tree and checks, file by file, that the programs, the jwtgate
# command, the page templates, the demo app, the web-server configuration
# templates (with the install folders filled in) and the man page are in
# place; that the installed command runs; and that the man page has a
# section for every subcommand the installed jwtgate lists in its --help.
# Writes only into TMP, so it works in make distcheck's read-only source
# tree.
#
# Environment: JG_BUILDDIR, JG_SRCDIR = the build and source trees (make
# check sets them).
set -u

B=${JG_BUILDDIR:?set JG_BUILDDIR to the build tree}
S=${JG_SRCDIR:?set JG_SRCDIR to the source tree}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/jg-install.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
# The install is a make of its own, not a part of the make check around it.
unset MAKEFLAGS MFLAGS MAKELEVEL DESTDIR

passed=0
failed=0
check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@" >/dev/null 2>&1; then
		passed=$((passed + 1))
		echo "ok $((passed + failed)) - $what"
	else
		failed=$((failed + 1))
		echo "not ok $((passed + failed)) - $what"
	fi
}

# The install folders, as the build tree's Makefile has them.
dirs=$(printf 'jg-print-dirs:\n\t@echo $(bindir) $(cgibindir) $(htdocsdir) $(confdir) $(man1dir)\n' |
	make -s --no-print-directory -C "$B" -f Makefile -f - jg-print-dirs) || exit 99
read -r bindir cgibindir htdocsdir confdir man1dir <<<"$dirs"
if [ -z "$man1dir" ]; then
	echo "test_install: cannot read the install folders from $B/Makefile" >&2
	exit 99
fi

if make -s --no-print-directory -C "$B" install DESTDIR="$tmp/stage" >"$tmp/install.log" 2>&1; then
	check "make install DESTDIR=... succeeds" true
else
	check "make install DESTDIR=... succeeds" false
	sed 's/^/#   /' "$tmp/install.log" | tail -20
fi
D=$tmp/stage

# Programs.
check "bin/jwtgate is installed and executable" test -x "$D$bindir/jwtgate"
for p in authorize token resource; do
	check "$p.fcgi is installed and executable" test -x "$D$cgibindir/$p.fcgi"
done
check "the installed jwtgate runs" sh -c "'$D$bindir/jwtgate' --version | grep -q '^jwtgate '"
check "the installed jwtgate lists its commands" \
	sh -c "'$D$bindir/jwtgate' --help | grep -q '^  init '"

# Page templates, style sheet, demo app, the page behind the authorizer.
for f in login.html consent.html error.html signed-out.html jwtgate.css \
	demo/index.html demo/callback.html demo/app.js demo/demo.css \
	protected/index.html; do
	check "htdocs/$f is installed" test -s "$D$htdocsdir/$f"
	check "htdocs/$f is the source file" cmp -s "$D$htdocsdir/$f" "$S/htdocs/$f"
done

# Web-server configuration templates: the folders filled in.
for f in lighttpd-jwtgate.conf apache-jwtgate.conf apache-authnz-fcgi.conf \
	nginx-jwtgate.conf jwtgate-resource.service; do
	check "conf/$f is installed" test -s "$D$confdir/$f"
	check "conf/$f has no @...@ placeholder left" \
		sh -c "! grep -q '@[a-z]*dir@' '$D$confdir/$f'"
done
check "the lighttpd template points at the installed programs" \
	grep -qF "\"$cgibindir\"" "$D$confdir/lighttpd-jwtgate.conf"
check "the Apache template points at the installed programs" \
	grep -qF "$cgibindir/" "$D$confdir/apache-jwtgate.conf"

# The man page.
man=$D$man1dir/jwtgate.1
check "man1/jwtgate.1 is installed" test -s "$man"
check "the man page is man(7) with a NAME section" \
	sh -c "grep -q '^\\.TH JWTGATE 1' '$man' && grep -q '^\\.SH NAME' '$man'"
if command -v groff >/dev/null 2>&1; then
	check "groff formats the man page without a warning" \
		sh -c "test -z \"\$(groff -man -Tutf8 -ww -z '$man' 2>&1)\""
fi
# Every command and subcommand of the installed jwtgate has its section
# (read with the man(7) escapes of the hyphens removed).
sed 's/\\-/-/g' "$man" >"$tmp/man.txt" 2>/dev/null
for cmd in $("$D$bindir/jwtgate" --help | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p'); do
	check "the man page has a section for 'jwtgate $cmd'" \
		grep -q "^\\.SS jwtgate $cmd\\b" "$tmp/man.txt"
	[ "$cmd" = init ] && continue
	for sub in $("$D$bindir/jwtgate" "$cmd" --help |
		sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p'); do
		check "the man page has a section for 'jwtgate $cmd $sub'" \
			grep -q "^\\.SS jwtgate $cmd $sub\\b" "$tmp/man.txt"
	done
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
