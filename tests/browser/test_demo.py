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
import json
import os
import shutil
import sys
import tempfile

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

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
        print("screenshot: " + path)


def wait_for(driver, cond, what, timeout=20):
    try:
        return WebDriverWait(driver, timeout).until(cond)
    except TimeoutException:
        check(what, False, "timed out at " + driver.current_url)
        raise


def visible(driver, element_id):
    return driver.find_element(By.ID, element_id).is_displayed()


def run(driver, args, steps):
    base = args.url
    wait = lambda cond, what: wait_for(driver, cond, what)

    # 1. The app, signed out.
    driver.get(base + "/demo/")
    wait(EC.visibility_of_element_located((By.ID, "signed-out")), "the app shows Log in")
    check("the app starts signed out", visible(driver, "signed-out") and
          not visible(driver, "signed-in"))
    steps.shot("app-signed-out")

    # 2. Log in: jwtgate's login page, with the app's name.
    driver.find_element(By.ID, "login").click()
    wait(EC.visibility_of_element_located((By.ID, "username")), "the login page opens")
    check("Log in leads to jwtgate's authorization endpoint",
          driver.current_url.startswith(base + "/oauth/authorize?"), driver.current_url)
    check("the login page names the app", "jwtgate demo app" in driver.page_source)
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
    stored = driver.execute_script("return Object.keys(sessionStorage).length")
    check("the tokens are kept in sessionStorage", stored >= 1, str(stored))
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
    check("the gated page's content is shown", gated.startswith("Protected page"), gated)
    steps.shot("protected-page", "api-status")

    # 7. Refresh: new tokens, still signed in.
    old_jti = at_claims.get("jti")
    driver.find_element(By.ID, "refresh").click()
    wait(lambda d: json.loads(d.find_element(By.ID, "at-claims").text or "{}").get("jti")
         not in (None, old_jti), "the refresh gives a new access token")
    check("the refresh gives a new access token", True)
    steps.shot("refreshed", "at-claims")

    # 8. Log out: back in the app, signed out, tokens forgotten.
    driver.find_element(By.ID, "logout").click()
    wait(EC.visibility_of_element_located((By.ID, "signed-out")), "the app is signed out")
    check("logout comes back to the app",
          driver.current_url.split("?")[0] == base + "/demo/", driver.current_url)
    check("the app shows the signed-out state", visible(driver, "signed-out") and
          not visible(driver, "signed-in"))
    tokens = driver.execute_script(
        "return Object.keys(sessionStorage).filter(function (k) {"
        " return (sessionStorage.getItem(k) || '').indexOf('access_token') >= 0; }).length")
    check("no token is left in sessionStorage", tokens == 0, str(tokens))
    check("the SSO session cookie is gone",
          driver.get_cookie("jg_session") in (None,) or
          not driver.get_cookie("jg_session").get("value"))
    steps.shot("signed-out")

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
    print("browser: %d passed, %d failed" % (PASSED, FAILED))
    return 0 if FAILED == 0 and PASSED > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
