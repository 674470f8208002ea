#!/bin/sh
# Issue 7 point 4: the OpenID Connect flow driven by an independent client
# library, Debian's python3-authlib: test_e2e --oidc-client sets up an
# instance behind a real lighttpd on a loopback port and runs
# oidc_client.py against it (discovery, code flow with PKCE, ID token
# validated with the JWKS from jwks_uri and the nonce, userinfo).
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
