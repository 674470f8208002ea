#!/usr/bin/python3
"""Issue 7 point 4: the OpenID Connect flow against jwtgate, driven by an
independent client library (Debian's python3-authlib, with python3-requests
for the browser part: the login form and the consent page).

Usage: oidc_client.py ISSUER CLIENT_ID CLIENT_SECRET REDIRECT_URI USER PASSWORD

Run by tests/integration/test_oidc_client.sh through test_e2e --oidc-client,
which starts the server.  Discovers the issuer (OpenID Connect Discovery
1.0 section 4), runs the code flow with PKCE (RFC 7636) and a nonce,
exchanges the code with client_secret_basic, validates the ID token itself
(signature with the JWKS from jwks_uri, iss, aud, exp, iat, nonce, at_hash:
OpenID Connect Core 1.0 section 3.1.3.7), checks that a tampered token or
a wrong nonce is refused, and calls userinfo.  Prints one line per check
and "oidc_client: N passed, M failed"; exits 1 when a check failed."""

import sys
import time
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit, parse_qs

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt
from authlib.jose.errors import BadSignatureError, InvalidClaimError, JoseError
from authlib.oidc.core import CodeIDToken

PASSED = 0
FAILED = 0


def check(what, ok, detail=""):
    global PASSED, FAILED
    if ok:
        PASSED += 1
        print("PASS: " + what)
    else:
        FAILED += 1
        print("FAIL: " + what + (": " + detail if detail else ""))
    return ok


class FormParser(HTMLParser):
    """Collects the first form's action and its input fields."""

    def __init__(self):
        super().__init__()
        self.action = None
        self.fields = {}
        self.buttons = []
        self.in_form = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and self.action is None:
            self.action = a.get("action", "")
            self.in_form = True
        elif tag == "input" and self.in_form and a.get("name"):
            self.fields[a["name"]] = a.get("value") or ""
        elif tag == "button" and self.in_form and a.get("name"):
            self.buttons.append((a["name"], a.get("value", "")))

    def handle_endtag(self, tag):
        if tag == "form":
            self.in_form = False


def parse_form(page_url, html):
    p = FormParser()
    p.feed(html)
    return urljoin(page_url, p.action or ""), p.fields, p.buttons


def main(argv):
    if len(argv) != 7:
        print(__doc__, file=sys.stderr)
        return 2
    issuer, client_id, secret, redirect_uri, user, password = argv[1:]

    # A browser: a cookie jar, redirects not followed, no proxy.
    browser = requests.Session()
    browser.trust_env = False

    # Discovery.
    r = browser.get(issuer + "/.well-known/openid-configuration", timeout=30)
    check("discovery answers 200", r.status_code == 200, str(r.status_code))
    meta = r.json()
    check("discovery issuer is the issuer", meta.get("issuer") == issuer,
          str(meta.get("issuer")))
    check("S256 is supported",
          "S256" in meta.get("code_challenge_methods_supported", []))
    jwks = browser.get(meta["jwks_uri"], timeout=30).json()
    keys = JsonWebKey.import_key_set(jwks)

    client = OAuth2Session(client_id, secret, scope="openid profile email",
                           redirect_uri=redirect_uri,
                           token_endpoint_auth_method="client_secret_basic",
                           code_challenge_method="S256")
    client.trust_env = False
    nonce = generate_token(20)
    verifier = generate_token(48)
    url, state = client.create_authorization_url(
        meta["authorization_endpoint"], nonce=nonce, code_verifier=verifier)

    # The login form, posted with its hidden fields (the CSRF token).
    r = browser.get(url, allow_redirects=False, timeout=30)
    check("the authorization endpoint shows the login form",
          r.status_code == 200 and 'name="password"' in r.text, str(r.status_code))
    action, fields, _ = parse_form(r.url, r.text)
    check("the login form carries a CSRF token", len(fields.get("jg_csrf", "")) >= 32)
    fields.update(username=user, password=password, jg_action="login")
    r = browser.post(action, data=fields, allow_redirects=False, timeout=30)
    if r.status_code == 200 and 'value="allow"' in r.text:
        # Consent: the client is not first-party.
        action, fields, buttons = parse_form(r.url, r.text)
        check("the consent page offers allow", ("jg_action", "allow") in buttons)
        fields["jg_action"] = "allow"
        r = browser.post(action, data=fields, allow_redirects=False, timeout=30)
    check("the login ends in a redirect", r.status_code in (302, 303),
          str(r.status_code))
    location = r.headers.get("Location", "")
    check("the redirect goes to the redirect URI", location.startswith(redirect_uri + "?"),
          location.split("?")[0])
    q = parse_qs(urlsplit(location).query)
    check("the redirect carries the state", q.get("state") == [state])
    check("the redirect carries iss (RFC 9207)", q.get("iss") == [issuer], str(q.get("iss")))

    # The code exchange with the PKCE verifier (authlib checks the state).
    token = client.fetch_token(meta["token_endpoint"], authorization_response=location,
                               code_verifier=verifier)
    check("the token answer is a Bearer token",
          token.get("token_type", "").lower() == "bearer" and "access_token" in token)
    check("the token answer has an ID token", "id_token" in token)

    # The ID token, validated here with the published keys.
    options = {"iss": {"essential": True, "value": issuer},
               "aud": {"essential": True, "value": client_id},
               "nonce": {"essential": True}}
    params = {"nonce": nonce, "client_id": client_id,
              "access_token": token["access_token"]}
    claims = jwt.decode(token["id_token"], keys, claims_cls=CodeIDToken,
                        claims_options=options, claims_params=params)
    try:
        claims.validate(now=int(time.time()), leeway=5)
        check("the ID token validates (signature, iss, aud, exp, iat, nonce, at_hash)", True)
    except JoseError as e:
        check("the ID token validates", False, repr(e))
    check("the ID token names the user", bool(claims.get("sub")))

    # A wrong nonce, and a token with one byte of its signature changed.
    bad = jwt.decode(token["id_token"], keys, claims_cls=CodeIDToken,
                     claims_options=options, claims_params=dict(params, nonce="other"))
    try:
        bad.validate(now=int(time.time()), leeway=5)
        check("a wrong nonce is refused", False)
    except InvalidClaimError:
        check("a wrong nonce is refused", True)
    head, body, sig = token["id_token"].split(".")
    forged = ".".join([head, body, ("B" if sig[0] != "B" else "C") + sig[1:]])
    try:
        jwt.decode(forged, keys, claims_cls=CodeIDToken, claims_options=options,
                   claims_params=params)
        check("a forged signature is refused", False)
    except BadSignatureError:
        check("a forged signature is refused", True)

    # userinfo with the access token, through authlib's session.
    r = client.get(meta["userinfo_endpoint"], timeout=30)
    check("userinfo answers 200", r.status_code == 200, str(r.status_code))
    info = r.json() if r.status_code == 200 else {}
    check("userinfo names the ID token's subject", info.get("sub") == claims.get("sub"))
    check("userinfo has the profile and email claims",
          bool(info.get("name")) and bool(info.get("email")))

    print("oidc_client: %d passed, %d failed" % (PASSED, FAILED))
    return 0 if FAILED == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
