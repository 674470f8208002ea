#!/bin/sh
# run.sh: issue 9 point 3, the load and soak runs (tests/soak/soak.c): wrk
# at 64 connections for SOAK_SECONDS (default 60) each on the gate, the
# token endpoint and the login POST, one after the other (about 3.5
# minutes).  Not part of make check.  Usage, from a configured build tree:
#   make soak          (or: sh tests/soak/run.sh BUILDDIR)
# Needs wrk (Debian package wrk) and lighttpd.
set -eu
build=${1:-${JG_BUILDDIR:-.}}
build=$(cd "$build" && pwd)
src=${JG_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
WRK=${WRK:-$(command -v wrk || true)}
[ -n "$WRK" ] || { echo "soak: wrk is missing (apt-get install wrk)" >&2; exit 1; }
export WRK
make -C "$build" -s tests/soak/soak cgi-bin/authorize.fcgi cgi-bin/token.fcgi \
	cgi-bin/resource.fcgi
JG_SRCDIR=$src JG_BUILDDIR=$build exec "$build/tests/soak/soak"
