#!/bin/sh
# Issue 7 point 4: the OpenID Connect flow driven by an independent client
# library, Debian's python3-authlib: test_e2e --oidc-client installs into a
# DESTDIR, sets up an instance behind a real lighttpd (the installed
# lighttpd-jwtgate.conf) on a loopback port and runs oidc_client.py against
# it (discovery, code flow with PKCE, the ID token validated by authlib
# with the JWKS from jwks_uri, iss, aud, exp, iat, nonce and at_hash, each
# of those checks shown live by a refused wrong value, userinfo); then runs
# it once more expecting another audience, and fails unless that run fails
# on the ID token's validation.
set -eu
srcdir=${JG_SRCDIR:-.}
builddir=${JG_BUILDDIR:-.}
# Debian's interpreter: PATH may put another python (pyenv) first.
if ! /usr/bin/python3 -c 'import authlib, requests' 2>/dev/null; then
  echo "test_oidc_client: python3-authlib and python3-requests are needed:" \
       "apt-get install python3-authlib python3-requests" >&2
  exit 1
fi
exec "$builddir/tests/integration/test_e2e" --oidc-client \
  "$srcdir/tests/integration/oidc_client.py"
