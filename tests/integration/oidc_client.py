#!/usr/bin/python3
"""Issue 7 point 4: the OpenID Connect flow against jwtgate, driven by an
independent client library (Debian's python3-authlib, with python3-requests
for the browser part: the login form and the consent page).

Usage: oidc_client.py ISSUER CLIENT_ID CLIENT_SECRET REDIRECT_URI USER PASSWORD
                      [--expect-aud=AUD]

Run by tests/integration/test_oidc_client.sh through test_e2e --oidc-client,
which starts the server.  Discovers the issuer (OpenID Connect Discovery
1.0 section 4), runs the code flow with PKCE (RFC 7636) and a nonce,
exchanges the code with client_secret_basic, validates the ID token itself
(signature with the JWKS from jwks_uri, only the announced algorithms, iss,
aud, exp, iat, nonce, at_hash: OpenID Connect Core 1.0 sections 3.1.3.7 and
3.1.3.8), checks that each claim check is live (a wrong nonce, issuer or
audience, a time past exp, another access token's at_hash, a changed
signature and alg "none" are each refused), and calls userinfo.
--expect-aud validates the ID token against another audience: the run
must then fail (the driver checks that it does).  Prints one line per check
and "oidc_client: N passed, M failed"; exits 1 when a check failed."""

import json
import sys
import time
from base64 import urlsafe_b64encode
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit, parse_qs

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, JsonWebToken
from authlib.jose.errors import JoseError
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
    expect_aud = None
    if len(argv) == 8 and argv[7].startswith("--expect-aud="):
        expect_aud = argv.pop()[len("--expect-aud="):]
    if len(argv) != 7:
        print(__doc__, file=sys.stderr)
        return 2
    issuer, client_id, secret, redirect_uri, user, password = argv[1:]
    expect_aud = expect_aud or client_id

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

    # The ID token, validated here with the published keys, accepting only
    # the algorithms the server announces (authlib's default jwt object
    # would take "none" too).
    algs = [a for a in meta.get("id_token_signing_alg_values_supported", [])
            if a != "none"]
    check("discovery announces ID token algorithms, none of them 'none'",
          bool(algs) and "none" not in meta.get("id_token_signing_alg_values_supported", []))
    decoder = JsonWebToken(algs)

    def validate(id_token, iss=issuer, aud=expect_aud, nonce_value=nonce,
                 access_token=token["access_token"], now=None):
        options = {"iss": {"essential": True, "value": iss},
                   "aud": {"essential": True, "value": aud},
                   "nonce": {"essential": True},
                   "exp": {"essential": True}, "iat": {"essential": True}}
        params = {"nonce": nonce_value, "client_id": aud, "access_token": access_token}
        claims = decoder.decode(id_token, keys, claims_cls=CodeIDToken,
                                claims_options=options, claims_params=params)
        claims.validate(now=int(time.time()) if now is None else now, leeway=5)
        return claims

    claims = {}
    try:
        claims = validate(token["id_token"])
        check("the ID token validates (signature, iss, aud, exp, iat, nonce, at_hash)", True)
    except JoseError as e:
        check("the ID token validates", False, repr(e))
    check("the ID token names the user", bool(claims.get("sub")))
    # authlib checks at_hash only when the claim is there.
    check("the ID token carries at_hash and nonce",
          bool(claims.get("at_hash")) and claims.get("nonce") == nonce)

    # Each claim check is live: one wrong expectation at a time, and tokens
    # changed on the way, must each be refused.
    head, body, sig = token["id_token"].split(".")
    none_head = urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    # (what, changed expectation or token, the error authlib must give)
    negatives = [
        ("a wrong nonce", dict(nonce_value="other-" + nonce), 'Invalid claim "nonce"'),
        ("a wrong issuer", dict(iss=issuer + "/other"), 'Invalid claim "iss"'),
        ("a wrong audience", dict(aud="other-client"), 'Invalid claim "aud"'),
        ("an ID token past its exp", dict(now=int(time.time()) + 7 * 86400),
         "expired_token"),
        ("an at_hash of another access token",
         dict(access_token=token["access_token"] + "x"), 'Invalid claim "at_hash"'),
        ("a changed signature",
         dict(id_token=".".join([head, body, ("B" if sig[0] != "B" else "C") + sig[1:]])),
         "bad_signature"),
        ("alg none", dict(id_token=none_head.decode().rstrip("=") + "." + body + "."),
         "unsupported_algorithm"),
    ]
    for what, kw, expected in negatives:
        id_token = kw.pop("id_token", token["id_token"])
        try:
            validate(id_token, **kw)
            check(what + " is refused", False, "accepted")
        except JoseError as e:
            said = "%s %s" % (e.error, e.description)
            check(what + " is refused (" + expected + ")", expected in said, said)

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
