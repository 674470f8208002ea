#!/usr/bin/python3
"""Issue 7 point 5: Debian's chromium, headless, drives the demo app
(htdocs/demo/) the way a person would: open it, click Log in, type the
credentials into jwtgate's login page, submit, come back to the app, see
the user's name and the answer of the protected API, fetch the page behind
the authorizer, log out, and see the app signed out (and the single sign-on
session gone: Log in shows the login page again).  A screenshot of each
step is written to OUT/NN-step.png.

Run by tests/browser/run.sh, which starts the server.  Needs Debian's
chromium, chromium-driver and python3-selenium.  Prints one line per check
and "browser: N passed, M failed"; exits 1 when a check failed."""

import argparse
import base64
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

START = None
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


class Steps:
    def __init__(self, driver, out):
        self.driver = driver
        self.out = out
        self.n = 0

    def shot(self, name, element_id=None):
        """Screenshot, with element_id (when given) scrolled into view."""
        if element_id is not None:
            self.driver.execute_script(
                "arguments[0].scrollIntoView({block: 'center'})",
                self.driver.find_element(By.ID, element_id))
        self.n += 1
        path = os.path.join(self.out, "%02d-%s.png" % (self.n, name))
        self.driver.save_screenshot(path)
        print("screenshot (%.1f s): %s" % (time.time() - START, path))


def wait_for(driver, cond, what, timeout=30):
    """Waits until cond holds; a check fails (and the walk stops) when it
    does not within timeout.  Errors while polling, as when an element goes
    away with a navigation under way, mean "not yet"."""
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.2,
                             ignored_exceptions=(WebDriverException,)).until(cond)
    except TimeoutException:
        check(what, False, "timed out at " + driver.current_url)
        raise


def visible(driver, element_id):
    return driver.find_element(By.ID, element_id).is_displayed()


def http(url, headers=None, data=None):
    """(status, body) of a request made outside the browser."""
    req = urllib.request.Request(url, headers=headers or {},
                                 data=data.encode() if data is not None else None)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def same_origin_only(driver, base):
    """The resources the page loaded, and those not from base (a CDN)."""
    names = driver.execute_script(
        "return performance.getEntriesByType('resource').map(function (e) {"
        " return e.name; })")
    attrs = driver.execute_script(
        "return Array.prototype.map.call(document.querySelectorAll("
        "'script[src], link[href], img[src], iframe[src]'), function (e) {"
        " return e.src || e.href; })")
    everything = names + attrs
    return everything, [u for u in everything if not u.startswith(base + "/")]


def run(driver, args, steps):
    base = args.url
    wait = lambda cond, what: wait_for(driver, cond, what)

    # 1. The gated page without a token: the authorizer sends the browser
    # to the front page, which leads to the app, signed out.
    driver.get(base + "/protected/")
    wait(EC.visibility_of_element_located((By.ID, "signed-out")), "the app shows Log in")
    check("/protected/ without a token leads to the app, not to the page",
          driver.current_url == base + "/demo/" and
          "This is a plain static file" not in driver.page_source, driver.current_url)
    check("the app starts signed out", visible(driver, "signed-out") and
          not visible(driver, "signed-in"))
    text = driver.find_element(By.TAG_NAME, "body").text
    check("the page says the tokens are kept in sessionStorage, and why",
          "Where the tokens are kept: in this tab's sessionStorage" in text and
          "survive the trip through the login page" in text)
    loaded, foreign = same_origin_only(driver, base)
    check("the app loads its script and style from its own origin only",
          base + "/demo/app.js" in loaded and base + "/demo/demo.css" in loaded and
          not foreign, json.dumps(loaded))
    steps.shot("app-signed-out")

    # 2. Log in: jwtgate's login page, with the app's name.
    driver.find_element(By.ID, "login").click()
    wait(EC.visibility_of_element_located((By.ID, "username")), "the login page opens")
    check("Log in leads to jwtgate's authorization endpoint",
          driver.current_url.startswith(base + "/oauth/authorize?"), driver.current_url)
    check("the login page names the app", "jwtgate demo app" in driver.page_source)
    # The authorization request: code flow, PKCE S256 and state, made from
    # the verifier and state the app keeps for the callback (the login page
    # has the app's origin, so its sessionStorage is the app's).
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(driver.current_url).query))
    pending = json.loads(driver.execute_script(
        "return sessionStorage.getItem('jwtgate-demo.pending')") or "{}")
    verifier = pending.get("verifier") or ""
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    check("the request is the code flow for demo-app back to callback.html",
          q.get("response_type") == "code" and q.get("client_id") == "demo-app" and
          q.get("redirect_uri") == base + "/demo/callback.html" and
          "openid" in q.get("scope", "").split(), json.dumps(q))
    check("PKCE: S256 of the app's 43-character code_verifier",
          q.get("code_challenge_method") == "S256" and len(verifier) == 43 and
          q.get("code_challenge") == challenge, json.dumps(q))
    check("state and nonce: random, and the ones the app keeps",
          len(q.get("state", "")) >= 16 and q.get("state") == pending.get("state") and
          len(q.get("nonce", "")) >= 16 and q.get("nonce") == pending.get("nonce"),
          json.dumps(q))
    steps.shot("login-page")

    # 3. Type the credentials and submit.
    driver.find_element(By.ID, "username").send_keys(args.user)
    driver.find_element(By.ID, "password").send_keys(args.password)
    steps.shot("credentials-typed")
    driver.find_element(By.CSS_SELECTOR, 'button[name="jg_action"][value="login"]').click()

    # 4. Back in the app (first-party: no consent page), signed in, the
    # name from /oauth/userinfo.
    wait(EC.visibility_of_element_located((By.ID, "signed-in")), "the app shows the user")
    check("the browser comes back to the app", driver.current_url == base + "/demo/",
          driver.current_url)
    who = driver.find_element(By.ID, "who").text
    check("the app greets the user by name", who == args.name, who)
    at_claims = json.loads(driver.find_element(By.ID, "at-claims").text)
    id_claims = json.loads(driver.find_element(By.ID, "id-claims").text)
    check("the access token is for the app and the issuer",
          at_claims.get("client_id") == "demo-app" and at_claims.get("iss") == base,
          json.dumps(at_claims))
    check("the ID token names the same subject", bool(at_claims.get("sub")) and
          id_claims.get("sub") == at_claims.get("sub"))
    check("the ID token carries the nonce of the request",
          id_claims.get("nonce") == q.get("nonce"), json.dumps(id_claims))
    tokens = json.loads(driver.execute_script(
        "return sessionStorage.getItem('jwtgate-demo.tokens')") or "{}")
    check("the tokens are kept in sessionStorage",
          bool(tokens.get("access_token")) and bool(tokens.get("refresh_token")) and
          bool(tokens.get("id_token")), ",".join(sorted(tokens)))
    left = driver.find_element(By.ID, "at-left").text
    m = re.fullmatch(r"in (\d+) s", left)
    remaining = at_claims.get("exp", 0) - int(time.time())
    check("the page shows when the access token expires",
          driver.find_element(By.ID, "at-exp").text != "" and m is not None and
          abs(int(m.group(1)) - remaining) <= 5, left)
    check("the page shows when the ID token expires",
          driver.find_element(By.ID, "id-exp").text not in ("", "-") and
          re.fullmatch(r"in \d+ s", driver.find_element(By.ID, "id-left").text) is not None)
    steps.shot("app-signed-in")

    # 5. The protected API with the access token.
    driver.find_element(By.ID, "call-api").click()
    wait(EC.text_to_be_present_in_element((By.ID, "api-status"), "GET /api/me: 200"),
         "/api/me answers 200")
    answer = json.loads(driver.find_element(By.ID, "api-answer").text)
    check("/api/me answers with the user's sub", answer.get("sub") == at_claims["sub"],
          json.dumps(answer))
    steps.shot("api-answer", "api-status")

    # 6. The static page behind the authorizer.
    driver.find_element(By.ID, "fetch-protected").click()
    wait(EC.text_to_be_present_in_element((By.ID, "api-status"), "GET /protected/: 200"),
         "/protected/ answers 200")
    gated = driver.find_element(By.ID, "api-answer").text
    check("the gated page's content is shown", gated.startswith("Protected page") and
          "This is a plain static file" in gated, gated)
    steps.shot("protected-page", "api-status")

    # 6b. The same page as a browser navigation: the app puts the access
    # token in the cookie the demo configuration names as bearer_cookie.
    app_window = driver.current_window_handle
    before = set(driver.window_handles)
    driver.find_element(By.ID, "open-protected").click()
    wait(lambda d: len(set(d.window_handles) - before) == 1, "a new tab opens")
    driver.switch_to.window((set(driver.window_handles) - before).pop())
    wait(EC.presence_of_element_located((By.TAG_NAME, "h1")), "the new tab loads")
    check("the new tab shows the gated page through the cookie",
          driver.current_url == base + "/protected/" and
          driver.find_element(By.TAG_NAME, "h1").text == "Protected page" and
          "This is a plain static file" in driver.page_source, driver.current_url)
    steps.shot("protected-tab")
    driver.close()
    driver.switch_to.window(app_window)

    # 7. Refresh: new tokens, still signed in.
    old_jti = at_claims.get("jti")
    driver.find_element(By.ID, "refresh").click()
    wait(lambda d: json.loads(d.find_element(By.ID, "at-claims").text or "{}").get("jti")
         not in (None, old_jti), "the refresh gives a new access token")
    new = json.loads(driver.execute_script(
        "return sessionStorage.getItem('jwtgate-demo.tokens')") or "{}")
    check("the refresh gives a new access token and a rotated refresh token",
          new.get("access_token") not in (None, tokens.get("access_token")) and
          new.get("refresh_token") not in (None, tokens.get("refresh_token")))
    driver.find_element(By.ID, "call-api").click()
    wait(EC.text_to_be_present_in_element((By.ID, "api-status"), "GET /api/me: 200"),
         "/api/me answers 200 to the new token")
    steps.shot("refreshed", "at-claims")
    tokens = new

    # 8. Log out: back in the app, signed out, tokens forgotten.
    driver.find_element(By.ID, "logout").click()
    wait(EC.visibility_of_element_located((By.ID, "signed-out")), "the app is signed out")
    check("logout comes back to the app",
          driver.current_url.split("?")[0] == base + "/demo/", driver.current_url)
    check("the app shows the signed-out state", visible(driver, "signed-out") and
          not visible(driver, "signed-in"))
    kept = driver.execute_script(
        "return Object.keys(sessionStorage).filter(function (k) {"
        " return (sessionStorage.getItem(k) || '').indexOf('access_token') >= 0; }).length")
    check("no token is left in sessionStorage", kept == 0, str(kept))
    check("the SSO session cookie is gone",
          driver.get_cookie("jg_session") in (None,) or
          not driver.get_cookie("jg_session").get("value"))
    status, _ = http(base + "/api/me",
                     headers={"Authorization": "Bearer " + tokens.get("access_token", "")})
    check("the access token is revoked: /api/me answers 401", status == 401, str(status))
    status, _ = http(base + "/oauth/token", data=urllib.parse.urlencode({
        "grant_type": "refresh_token", "client_id": "demo-app",
        "refresh_token": tokens.get("refresh_token", "")}))
    check("the refresh token is revoked", status == 400, str(status))
    steps.shot("signed-out")

    # The gate cookie went with the logout: the gated page is closed again.
    driver.get(base + "/protected/")
    wait(EC.visibility_of_element_located((By.ID, "signed-out")), "the app shows Log in")
    check("after logout /protected/ leads to the app, not to the page",
          driver.current_url == base + "/demo/" and
          "This is a plain static file" not in driver.page_source, driver.current_url)

    # 9. Log in again: the login page, not a silent sign-in.
    driver.find_element(By.ID, "login").click()
    wait(EC.visibility_of_element_located((By.ID, "password")),
         "Log in asks for the password again")
    check("after logout Log in asks for the password again", True)
    steps.shot("login-again")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password-file", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    with open(args.password_file) as f:
        args.password = f.readline().strip()
    os.makedirs(args.out, exist_ok=True)

    global START
    START = time.time()
    profile = tempfile.mkdtemp(prefix="jg-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1100,1000",
                 "--user-data-dir=" + profile):
        opts.add_argument(flag)
    driver = None
    try:
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
        driver.set_page_load_timeout(30)
        steps = Steps(driver, args.out)
        try:
            run(driver, args, steps)
        except Exception as e:  # a check that timed out, or a broken page
            check("the walk through the app completes", False, repr(e))
            try:
                steps.shot("failure")
                for entry in driver.get_log("browser"):
                    print("console: " + entry.get("message", ""))
            except Exception:
                pass
    finally:
        if driver is not None:
            driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
    print("browser: %d passed, %d failed in %.1f s" % (PASSED, FAILED, time.time() - START))
    return 0 if FAILED == 0 and PASSED > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
