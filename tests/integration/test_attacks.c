/* test_attacks.c: issue 9 point 7, the attack catalogue, through a real
 * lighttpd running authorize.fcgi and token.fcgi: each attack is a test,
 * most of them tables of rows.  Sources: RFC 9700 (OAuth 2.0 Security Best
 * Current Practice) sections 2.1 and 4.1 (redirect URI matching), 4.4
 * (mix-up, RFC 9207 iss), 4.5 (code injection), 4.8 (PKCE downgrade),
 * 4.7 (CSRF), 4.16 (clickjacking); RFC 6749 section 4.1.2 (state echoed
 * unchanged); OWASP Authentication Cheat Sheet (login timing, throttling). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>

#include "instance.h"
#include "testutil.h"
#include "conf.h"
#include "http.h"
#include "json.h"
#include "store.h"
#include "util.h"

#define ISSUER JG_INST_ISSUER
#define WEB_CB_ENC "https%3A%2F%2Fapp.example%2Fcb"
#define WEB_BASE "client_id=web&redirect_uri=" WEB_CB_ENC \
	"&response_type=code&scope=openid"
#define WEB_Q WEB_BASE "&state=st-1"
#define FIRST_Q "client_id=first&response_type=code&scope=openid" \
	"&code_challenge=" JG_INST_CHALLENGE "&code_challenge_method=S256"

#define ASSERT_STR(actual, expected) \
	CU_ASSERT_STRING_EQUAL((actual) ? (actual) : "(null)", (expected))

static struct jg_inst in;

/* ------------------------------------------------------------ helpers */

static void
get(struct jg_it_client *c, const char *path, struct jg_it_response *r)
{
	char *u = jg_inst_url(&in, path);

	memset(r, 0, sizeof(*r));
	CU_ASSERT_FATAL(jg_it_get(c, u, NULL, r));
	free(u);
}

static void
post(struct jg_it_client *c, const char *path, const char *auth, const char *form,
     struct jg_it_response *r)
{
	const char *h[3] = { "Content-Type: application/x-www-form-urlencoded",
			     auth, NULL };
	char *u = jg_inst_url(&in, path);

	memset(r, 0, sizeof(*r));
	CU_ASSERT_FATAL(jg_it_post(c, u, h, form, r));
	free(u);
}

/* RFC 9700 section 4.16: no framing of any HTML page. */
static void
assert_noframe(const struct jg_it_response *r, const char *what)
{
	const char *csp = jg_it_header(r, "Content-Security-Policy");
	const char *xfo = jg_it_header(r, "X-Frame-Options");
	bool ok = csp && strstr(csp, "frame-ancestors 'none'") != NULL &&
		  xfo && strcmp(xfo, "DENY") == 0 &&
		  jg_it_header_count(r, "X-Frame-Options") == 1;

	CU_ASSERT(ok);
	ASSERT_STR(jg_it_header(r, "Content-Type"), "text/html; charset=utf-8");
	if (!ok)
		fprintf(stderr, "%s: CSP %s, X-Frame-Options %s\n", what,
			csp ? csp : "(none)", xfo ? xfo : "(none)");
}

static char *
loc_param(const struct jg_it_response *r, const char *name)
{
	const char *loc = jg_it_header(r, "Location"), *q;
	struct jg_params p;
	char *v = NULL;

	if (loc == NULL || (q = strchr(loc, '?')) == NULL)
		return NULL;
	jg_params_init(&p);
	if (jg_params_parse(q + 1, strlen(q + 1), &p, NULL) == JG_OK &&
	    jg_params_get(&p, name))
		v = jg_xstrdup(jg_params_get(&p, name));
	jg_params_clear(&p);
	return v;
}

static void
assert_loc(const struct jg_it_response *r, const char *name, const char *want)
{
	char *v = loc_param(r, name);

	if (want) {
		ASSERT_STR(v, want);
	} else {
		CU_ASSERT_PTR_NULL(v);
	}
	free(v);
}

static char *
csrf_of(const struct jg_it_response *r)
{
	const char *p = r->body ? strstr(r->body, "name=\"jg_csrf\" value=\"") : NULL;

	if (p == NULL)
		return jg_xstrdup("");
	p += strlen("name=\"jg_csrf\" value=\"");
	return jg_xstrndup(p, strcspn(p, "\""));
}

/* GETs the login form of query q and posts it with user and password;
 * returns the seconds the POST took. */
static double
login(struct jg_it_client *c, const char *q, const char *user,
      const char *password, struct jg_it_response *r)
{
	char *path = jg_xasprintf("/oauth/authorize?%s", q), *token, *form;
	struct timespec a, b;

	get(c, path, r);
	CU_ASSERT_EQUAL(r->status, 200);
	token = csrf_of(r);
	jg_it_response_clear(r);
	form = jg_xasprintf("%s&jg_action=login&jg_csrf=%s&username=%s&password=%s",
			    q, token, user, password);
	clock_gettime(CLOCK_MONOTONIC, &a);
	post(c, "/oauth/authorize", NULL, form, r);
	clock_gettime(CLOCK_MONOTONIC, &b);
	free(form);
	free(token);
	free(path);
	return (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
}

static char *
json_member(const struct jg_it_response *r, const char *key)
{
	struct json_object *o = NULL;
	const char *v = NULL;
	char *out = NULL;

	if (r->body != NULL &&
	    jg_json_parse_object(r->body, r->body_len, &o, NULL) == JG_OK &&
	    jg_json_get_string(o, key, &v))
		out = jg_xstrdup(v);
	json_object_put(o);
	return out;
}

static void
assert_token_error(const struct jg_it_response *r, long status, const char *error,
		   const char *what)
{
	char *e = json_member(r, "error");

	CU_ASSERT_EQUAL(r->status, status);
	ASSERT_STR(e, error);
	if (r->status != status || e == NULL || strcmp(e, error) != 0)
		fprintf(stderr, "%s: %ld %s\n", what, r->status, r->body ? r->body : "");
	free(e);
}

/* ------------------------------------------------------------ setup */

static void
test_start(void)
{
	/* Per-name throttling as configured by default (5), the per-address
	 * limit out of the way of the timing test. */
	CU_ASSERT_FATAL(jg_inst_setup(&in, "login_max_failures_ip = 1000000\n"));
	CU_ASSERT_FATAL(jg_inst_start(&in, 2));
}

static void
test_stop(void)
{
	CU_ASSERT(jg_inst_integrity_ok(in.config->database));
	CU_ASSERT_TRUE(jg_inst_free(&in));
}

/* ------------------------------------------------------------ redirect URIs */

/* The redirect_uri as the server receives it (after percent-decoding);
 * registered: https://app.example/cb.  RFC 9700 section 2.1: exact string
 * matching. */
static const struct {
	const char *kind;
	const char *uri;
} uri_rows[] = {
	{ "suffix", "https://app.example/cb/" },
	{ "suffix", "https://app.example/cbx" },
	{ "suffix", "https://app.example/cb/evil" },
	{ "suffix", "https://app.example/cb?x=1" },
	{ "suffix", "https://app.example/cb.evil.example" },
	{ "prefix", "https://app.example/c" },
	{ "prefix", "https://app.example/" },
	{ "prefix", "https://app.example" },
	{ "prefix", "https://evil.example/https://app.example/cb" },
	{ "case", "HTTPS://app.example/cb" },
	{ "case", "https://APP.EXAMPLE/cb" },
	{ "case", "https://app.example/CB" },
	{ "userinfo", "https://user@app.example/cb" },
	{ "userinfo", "https://app.example@evil.example/cb" },
	{ "userinfo", "https://app.example:443@evil.example/cb" },
	{ "fragment", "https://app.example/cb#" },
	{ "fragment", "https://app.example/cb#frag" },
	{ "dot segments", "https://app.example/./cb" },
	{ "dot segments", "https://app.example/x/../cb" },
	{ "dot segments", "https://app.example/cb/." },
	{ "dot segments", "https://app.example/cb/../cb" },
	{ "encoded", "https://app.example/%63b" },
	{ "encoded", "https://app.example/c%62" },
	{ "encoded", "https://app.example%2Fcb" },
	{ "encoded", "https://app.example/cb%2F" },
	{ "encoded", "https://app.example/cb%23x" },
	{ "encoded", "https://app.example/cb%3Fx" },
	{ "encoded", "https://app.example/cb%00" },
	{ "port", "https://app.example:443/cb" },
	{ "port", "https://app.example:8443/cb" },
	{ "port", "https://app.example:/cb" },
	{ "scheme", "http://app.example/cb" },
	{ "host", "https://app.example./cb" },
	{ "host", "https://app.example.evil.example/cb" },
	{ "whitespace", " https://app.example/cb" },
	{ "whitespace", "https://app.example/cb " },
};

static void
test_redirect_uri(void)
{
	struct jg_it_client *c = jg_it_client_new();
	struct jg_it_response r;
	size_t i;

	/* The registered URI itself: the login form (the row that shows the
	 * others fail for their URI alone). */
	get(c, "/oauth/authorize?" WEB_Q, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	jg_it_response_clear(&r);
	for (i = 0; i < sizeof(uri_rows) / sizeof(uri_rows[0]); i++) {
		char *enc = jg_url_encode(uri_rows[i].uri);
		char *path = jg_xasprintf("/oauth/authorize?client_id=web&response_type=code"
					  "&scope=openid&state=s1&redirect_uri=%s", enc);

		get(c, path, &r);
		if (r.status != 400 || jg_it_header(&r, "Location") != NULL)
			fprintf(stderr, "redirect_uri %s \"%s\": %ld %s\n", uri_rows[i].kind,
				uri_rows[i].uri, r.status,
				jg_it_header(&r, "Location") ? jg_it_header(&r, "Location") : "");
		CU_ASSERT_EQUAL(r.status, 400);
		CU_ASSERT_PTR_NULL(jg_it_header(&r, "Location"));
		assert_noframe(&r, "redirect_uri error page");
		jg_it_response_clear(&r);
		free(path);
		free(enc);
	}
	CU_ASSERT_EQUAL(jg_inst_count(&in, "SELECT count(*) FROM codes"), 0);
	jg_it_client_free(c);
}

/* ------------------------------------------------------------ code injection */

static void
test_code_injection(void)
{
	struct jg_it_client *c = jg_it_client_new();
	struct jg_it_response r;

	/* Client other redeems web's code, with its own redirect URI and
	 * with web's (RFC 9700 section 4.5; RFC 6749 section 4.1.3). */
	CU_ASSERT_FATAL(jg_inst_put_code(&in, "inj-code-a-0123456789abcdef", "web",
					 JG_INST_WEB_CB, "openid", JG_INST_CHALLENGE));
	CU_ASSERT_FATAL(jg_inst_put_code(&in, "inj-code-b-0123456789abcdef", "web",
					 JG_INST_WEB_CB, "openid", JG_INST_CHALLENGE));
	post(c, "/oauth/token", in.b_other, "grant_type=authorization_code"
	     "&code=inj-code-a-0123456789abcdef&redirect_uri=https%3A%2F%2Fother.example%2Fcb"
	     "&code_verifier=" JG_INST_VERIFIER, &r);
	assert_token_error(&r, 400, "invalid_grant", "other with its redirect");
	jg_it_response_clear(&r);
	post(c, "/oauth/token", in.b_other, "grant_type=authorization_code"
	     "&code=inj-code-b-0123456789abcdef&redirect_uri=" WEB_CB_ENC
	     "&code_verifier=" JG_INST_VERIFIER, &r);
	assert_token_error(&r, 400, "invalid_grant", "other with web's redirect");
	jg_it_response_clear(&r);
	/* Both codes are burned: web itself cannot use them any more. */
	post(c, "/oauth/token", in.b_web, "grant_type=authorization_code"
	     "&code=inj-code-a-0123456789abcdef&redirect_uri=" WEB_CB_ENC
	     "&code_verifier=" JG_INST_VERIFIER, &r);
	assert_token_error(&r, 400, "invalid_grant", "web after injection a");
	jg_it_response_clear(&r);
	post(c, "/oauth/token", in.b_web, "grant_type=authorization_code"
	     "&code=inj-code-b-0123456789abcdef&redirect_uri=" WEB_CB_ENC
	     "&code_verifier=" JG_INST_VERIFIER, &r);
	assert_token_error(&r, 400, "invalid_grant", "web after injection b");
	jg_it_response_clear(&r);
	/* A code redeemed at the right client with another registered-looking
	 * redirect URI (RFC 6749 section 4.1.3) is refused and burned too. */
	CU_ASSERT_FATAL(jg_inst_put_code(&in, "inj-code-c-0123456789abcdef", "web",
					 JG_INST_WEB_CB, "openid", JG_INST_CHALLENGE));
	post(c, "/oauth/token", in.b_web, "grant_type=authorization_code"
	     "&code=inj-code-c-0123456789abcdef&redirect_uri=https%3A%2F%2Fapp.example%2Fcb%2F"
	     "&code_verifier=" JG_INST_VERIFIER, &r);
	assert_token_error(&r, 400, "invalid_grant", "web with another redirect");
	jg_it_response_clear(&r);
	post(c, "/oauth/token", in.b_web, "grant_type=authorization_code"
	     "&code=inj-code-c-0123456789abcdef&redirect_uri=" WEB_CB_ENC
	     "&code_verifier=" JG_INST_VERIFIER, &r);
	assert_token_error(&r, 400, "invalid_grant", "web after the wrong redirect");
	jg_it_response_clear(&r);
	CU_ASSERT_EQUAL(jg_inst_count(&in, "SELECT count(*) FROM families"), 0);
	jg_it_client_free(c);
}

/* ------------------------------------------------------------ PKCE downgrade */

static const struct {
	const char *what;
	const char *challenge;	/* stored with the code (S256), or NULL */
	const char *verifier;	/* sent, or NULL */
	const char *error;
} pkce_rows[] = {
	/* RFC 7636 section 4.6. */
	{ "challenge sent, verifier omitted", JG_INST_CHALLENGE, NULL, "invalid_grant" },
	/* RFC 9700 section 4.8.2: downgrade to no PKCE. */
	{ "no challenge, verifier sent", NULL, JG_INST_VERIFIER, "invalid_grant" },
	{ "wrong verifier", JG_INST_CHALLENGE,
	  "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj", "invalid_grant" },
	/* Downgrade to plain: the challenge sent back as the verifier. */
	{ "challenge as verifier (plain)", JG_INST_CHALLENGE, JG_INST_CHALLENGE,
	  "invalid_grant" },
	{ "verifier too short", JG_INST_CHALLENGE, "abc", "invalid_request" },
	/* The control row. */
	{ "right verifier", JG_INST_CHALLENGE, JG_INST_VERIFIER, NULL },
};

static void
test_pkce_downgrade(void)
{
	struct jg_it_client *c = jg_it_client_new();
	struct jg_it_response r;
	size_t i;

	for (i = 0; i < sizeof(pkce_rows) / sizeof(pkce_rows[0]); i++) {
		char *code = jg_xasprintf("pkce-code-%zu-0123456789abcdef", i);
		char *form = jg_xasprintf("grant_type=authorization_code&code=%s"
					  "&redirect_uri=%s%s%s", code, WEB_CB_ENC,
					  pkce_rows[i].verifier ? "&code_verifier=" : "",
					  pkce_rows[i].verifier ? pkce_rows[i].verifier : "");

		CU_ASSERT_FATAL(jg_inst_put_code(&in, code, "web", JG_INST_WEB_CB,
						 "openid", pkce_rows[i].challenge));
		post(c, "/oauth/token", in.b_web, form, &r);
		if (pkce_rows[i].error) {
			assert_token_error(&r, 400, pkce_rows[i].error, pkce_rows[i].what);
		} else {
			CU_ASSERT_EQUAL(r.status, 200);
		}
		jg_it_response_clear(&r);
		free(form);
		free(code);
	}
	/* At the authorization endpoint: plain, an unknown method, and a
	 * public client without PKCE are error redirects, never a code. */
	get(c, "/oauth/authorize?client_id=spa&response_type=code&state=p1"
	    "&code_challenge=" JG_INST_CHALLENGE "&code_challenge_method=plain", &r);
	CU_ASSERT_EQUAL(r.status, 302);
	assert_loc(&r, "error", "invalid_request");
	assert_loc(&r, "code", NULL);
	assert_loc(&r, "iss", ISSUER);
	jg_it_response_clear(&r);
	get(c, "/oauth/authorize?client_id=spa&response_type=code&state=p1"
	    "&code_challenge=" JG_INST_CHALLENGE "&code_challenge_method=s256", &r);
	CU_ASSERT_EQUAL(r.status, 302);
	assert_loc(&r, "error", "invalid_request");
	jg_it_response_clear(&r);
	get(c, "/oauth/authorize?client_id=spa&response_type=code&state=p1", &r);
	CU_ASSERT_EQUAL(r.status, 302);
	assert_loc(&r, "error", "invalid_request");
	assert_loc(&r, "state", "p1");
	jg_it_response_clear(&r);
	jg_it_client_free(c);
}

/* ------------------------------------------------------------ login CSRF */

static void
test_login_csrf(void)
{
	struct jg_it_client *c = jg_it_client_new(), *c2 = jg_it_client_new(),
			    *c3 = jg_it_client_new();
	struct jg_it_response r;
	char *mine, *theirs, *form;
	long sessions = jg_inst_count(&in, "SELECT count(*) FROM sessions");

	get(c, "/oauth/authorize?" WEB_Q, &r);
	mine = csrf_of(&r);
	jg_it_response_clear(&r);
	get(c2, "/oauth/authorize?" WEB_Q, &r);
	theirs = csrf_of(&r);
	jg_it_response_clear(&r);
	CU_ASSERT(strlen(mine) > 0 && strcmp(mine, theirs) != 0);

	/* No token. */
	post(c, "/oauth/authorize", NULL, WEB_Q "&jg_action=login&username=alice"
	     "&password=" JG_INST_PASSWORD, &r);
	CU_ASSERT_EQUAL(r.status, 403);
	assert_noframe(&r, "403 without token");
	jg_it_response_clear(&r);
	/* An empty token. */
	post(c, "/oauth/authorize", NULL, WEB_Q "&jg_action=login&jg_csrf=&username=alice"
	     "&password=" JG_INST_PASSWORD, &r);
	CU_ASSERT_EQUAL(r.status, 403);
	jg_it_response_clear(&r);
	/* Another browser's token with this browser's cookie. */
	form = jg_xasprintf("%s&jg_action=login&jg_csrf=%s&username=alice"
			    "&password=" JG_INST_PASSWORD, WEB_Q, theirs);
	post(c, "/oauth/authorize", NULL, form, &r);
	CU_ASSERT_EQUAL(r.status, 403);
	jg_it_response_clear(&r);
	free(form);
	/* A valid token but no cookie (the attacker's page posting). */
	form = jg_xasprintf("%s&jg_action=login&jg_csrf=%s&username=alice"
			    "&password=" JG_INST_PASSWORD, WEB_Q, mine);
	post(c3, "/oauth/authorize", NULL, form, &r);
	CU_ASSERT_EQUAL(r.status, 403);
	jg_it_response_clear(&r);
	free(form);
	CU_ASSERT_EQUAL(jg_inst_count(&in, "SELECT count(*) FROM sessions"), sessions);
	free(mine);
	free(theirs);
	jg_it_client_free(c);
	jg_it_client_free(c2);
	jg_it_client_free(c3);
}

/* ------------------------------------------------------------ login timing */

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* One round of n interleaved pairs of failed logins, a known user (alice)
 * with a wrong password and an unknown one, the order swapped every pair
 * so that neither always runs first.  Returns the median over the pairs of
 * unknown / known: pairs taken back to back see the same load, so their
 * ratio is steadier on a busy machine than two separate medians. */
static double
timing_round(struct jg_it_client *c, int round, size_t n, double *mk, double *mu)
{
	double known[16], unknown[16], ratio[16];
	struct jg_it_response r;
	size_t i;

	for (i = 0; i < n; i++) {
		char *name = jg_xasprintf("nobody-%d-%zu", round, i);
		int k;

		CU_ASSERT_EQUAL(jg_store_fail_clear(in.store, "user:alice"), JG_OK);
		for (k = 0; k < 2; k++) {
			bool known_now = (k == 0) == (i % 2 == 0);
			double secs = login(c, WEB_Q, known_now ? "alice" : name, "wrong", &r);

			/* Both get the login form again with the same words. */
			CU_ASSERT_EQUAL(r.status, 200);
			CU_ASSERT(r.body && strstr(r.body, "name=\"jg_csrf\"") != NULL);
			jg_it_response_clear(&r);
			if (known_now)
				known[i] = secs;
			else
				unknown[i] = secs;
		}
		ratio[i] = unknown[i] / known[i];
		free(name);
	}
	qsort(known, n, sizeof(double), cmp_double);
	qsort(unknown, n, sizeof(double), cmp_double);
	qsort(ratio, n, sizeof(double), cmp_double);
	*mk = (known[n / 2 - 1] + known[n / 2]) / 2;
	*mu = (unknown[n / 2 - 1] + unknown[n / 2]) / 2;
	return (ratio[n / 2 - 1] + ratio[n / 2]) / 2;
}

/* OWASP Authentication Cheat Sheet: an unknown user costs the same as a
 * wrong password (jg_password_verify_dummy), within 20%: the median ratio
 * of a round lies in [0.8, 1.25].  A loaded machine may spoil one round,
 * so up to three are taken; an unknown-user path without the hash is
 * far faster and fails every round (checked against a build whose
 * unknown-user path skips jg_password_verify_dummy, on a loaded 2-core
 * machine: median ratios 0.005, 0.011 and 0.001, the only failed assertion
 * of the suite). */
static void
test_login_timing(void)
{
	struct jg_it_client *c = jg_it_client_new();
	struct jg_it_response r;
	double mk = 0, mu = 0, ratio = 0;
	bool within = false;
	int round;

	/* Warm up both paths once. */
	login(c, WEB_Q, "alice", "wrong", &r);
	jg_it_response_clear(&r);
	login(c, WEB_Q, "nobody-warm", "wrong", &r);
	jg_it_response_clear(&r);
	for (round = 0; round < 3 && !within; round++) {
		ratio = timing_round(c, round, 12, &mk, &mu);
		within = ratio >= 0.8 && ratio <= 1.25;
		fprintf(stderr, "login timing, round %d: median known %.1f ms, unknown "
			"%.1f ms, median ratio unknown/known %.3f%s\n", round + 1,
			mk * 1000, mu * 1000, ratio, within ? "" : " (outside 0.8-1.25)");
	}
	CU_ASSERT(within);
	CU_ASSERT_EQUAL(jg_store_fail_clear(in.store, "user:alice"), JG_OK);
	jg_it_client_free(c);
}

/* ------------------------------------------------------------ throttling */

static void
test_throttle(void)
{
	struct jg_it_client *c = jg_it_client_new();
	struct jg_it_response r;
	int i;

	for (i = 0; i < 5; i++) {
		login(c, WEB_Q, "bob", "wrong", &r);
		CU_ASSERT_EQUAL(r.status, 200);
		jg_it_response_clear(&r);
	}
	/* The sixth, with the right password: 429 with Retry-After (the
	 * window, 900 s by default), and no session. */
	login(c, WEB_Q, "bob", JG_INST_PASSWORD, &r);
	CU_ASSERT_EQUAL(r.status, 429);
	ASSERT_STR(jg_it_header(&r, "Retry-After"), "900");
	assert_noframe(&r, "429 page");
	jg_it_response_clear(&r);
	CU_ASSERT_EQUAL(jg_inst_count(&in, "SELECT count(*) FROM sessions "
				      "WHERE sub = 'sub-bob'"), 0);
	/* Another user is not affected by bob's limit. */
	login(c, WEB_Q, "alice", JG_INST_PASSWORD, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	jg_it_response_clear(&r);
	jg_it_client_free(c);
}

/* ------------------------------------------------------------ clickjacking */

static void
test_clickjacking(void)
{
	struct jg_it_client *c = jg_it_client_new();
	struct jg_it_response r;

	get(c, "/oauth/authorize?" WEB_Q, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	assert_noframe(&r, "login page");
	jg_it_response_clear(&r);
	/* Wrong password: the login page again. */
	login(c, WEB_Q, "alice", "wrong", &r);
	CU_ASSERT_EQUAL(r.status, 200);
	assert_noframe(&r, "login page with an error");
	jg_it_response_clear(&r);
	CU_ASSERT_EQUAL(jg_store_fail_clear(in.store, "user:alice"), JG_OK);
	/* The consent page (web is not first-party). */
	login(c, WEB_Q, "alice", JG_INST_PASSWORD, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT(r.body && strstr(r.body, "value=\"allow\"") != NULL);
	assert_noframe(&r, "consent page");
	jg_it_response_clear(&r);
	/* The error page. */
	get(c, "/oauth/authorize?client_id=nope&response_type=code", &r);
	CU_ASSERT_EQUAL(r.status, 400);
	assert_noframe(&r, "error page");
	jg_it_response_clear(&r);
	/* The signed-out page: a browser without a session (c has one
	 * since its login, so it would be asked to confirm). */
	{
		struct jg_it_client *a = jg_it_client_new();

		get(a, "/oauth/logout", &r);
		CU_ASSERT_EQUAL(r.status, 200);
		CU_ASSERT(r.body && strstr(r.body, "<h1>Signed out</h1>") != NULL);
		assert_noframe(&r, "signed-out page");
		jg_it_response_clear(&r);
		post(a, "/oauth/logout", NULL, "state=x", &r);
		CU_ASSERT_EQUAL(r.status, 200);
		CU_ASSERT(r.body && strstr(r.body, "<h1>Signed out</h1>") != NULL);
		assert_noframe(&r, "signed-out page after a POST");
		jg_it_response_clear(&r);
		jg_it_client_free(a);
	}
	/* The logout confirmation page (logout.html: a live session and no
	 * id_token_hint), and the signed-out page its button leads to. */
	{
		struct jg_it_client *s = jg_it_client_new();
		char *token, *form;

		login(s, FIRST_Q "&state=cj", "alice", JG_INST_PASSWORD, &r);
		CU_ASSERT_EQUAL(r.status, 303);
		jg_it_response_clear(&r);
		get(s, "/oauth/logout", &r);
		CU_ASSERT_EQUAL(r.status, 200);
		CU_ASSERT(r.body && strstr(r.body, "<h1>Sign out?</h1>") != NULL &&
			  strstr(r.body, "value=\"logout\"") != NULL);
		assert_noframe(&r, "logout confirmation page");
		token = csrf_of(&r);
		jg_it_response_clear(&r);
		form = jg_xasprintf("jg_action=logout&jg_csrf=%s", token);
		post(s, "/oauth/logout", NULL, form, &r);
		CU_ASSERT_EQUAL(r.status, 200);
		CU_ASSERT(r.body && strstr(r.body, "<h1>Signed out</h1>") != NULL);
		assert_noframe(&r, "signed-out page after signing out");
		jg_it_response_clear(&r);
		free(form);
		free(token);
		jg_it_client_free(s);
	}
	/* The error pages the request checks write before any endpoint
	 * logic: 405, 413, 400 (the 403 of CSRF and the 429 of throttling
	 * are checked in their tests, the 500 of a program that cannot start
	 * in test_faults). */
	{
		char *big = jg_xmalloc(70001), *u;
		const char *h[2] = { "Content-Type: application/x-www-form-urlencoded",
				     NULL };

		memset(big, 'a', 70000);
		big[70000] = '\0';
		u = jg_inst_url(&in, "/oauth/authorize?" WEB_Q);
		memset(&r, 0, sizeof(r));
		CU_ASSERT_FATAL(jg_it_request(c, "PUT", u, NULL, NULL, 0, &r));
		CU_ASSERT_EQUAL(r.status, 405);
		assert_noframe(&r, "405 page");
		jg_it_response_clear(&r);
		free(u);
		u = jg_inst_url(&in, "/oauth/authorize");
		CU_ASSERT_FATAL(jg_it_request(c, "POST", u, h, big, 70000, &r));
		CU_ASSERT_EQUAL(r.status, 413);
		assert_noframe(&r, "413 page");
		jg_it_response_clear(&r);
		free(u);
		free(big);
	}
	post(c, "/oauth/logout", NULL, "client_id=%G0", &r);
	CU_ASSERT_EQUAL(r.status, 400);
	assert_noframe(&r, "400 page of a broken form");
	jg_it_response_clear(&r);
	jg_it_client_free(c);
}

/* ------------------------------------------------------------ state and iss */

/* Values of state as the client meant them (sent percent-encoded). */
static const char *const states[] = {
	"plain-123",
	"a b+c",
	"&=?#/;,",
	"%41%2525",
	"<script>\"'</script>",
	"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
	"~!*()$@:[]{}|\\^`",
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
};

/* The authorization responses that are redirects (RFC 9207: iss in each,
 * success and error alike; RFC 6749 section 4.1.2: state unchanged). */
static void
test_state_and_iss(void)
{
	struct jg_it_client *c = jg_it_client_new(), *anon = jg_it_client_new();
	struct jg_it_response r;
	char *csrf, *form;
	size_t i;

	/* A session through the first-party client: the POST itself is the
	 * first success redirect. */
	login(c, FIRST_Q "&state=login-state", "alice", JG_INST_PASSWORD, &r);
	CU_ASSERT_EQUAL(r.status, 303);
	assert_loc(&r, "state", "login-state");
	assert_loc(&r, "iss", ISSUER);
	csrf = loc_param(&r, "code");
	CU_ASSERT_PTR_NOT_NULL(csrf);
	free(csrf);
	jg_it_response_clear(&r);

	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		char *enc = jg_url_encode(states[i]);
		char *path;
		char *code;

		/* Success: a code, the state, iss. */
		path = jg_xasprintf("/oauth/authorize?%s&state=%s", FIRST_Q, enc);
		get(c, path, &r);
		CU_ASSERT_EQUAL(r.status, 302);
		assert_loc(&r, "state", states[i]);
		assert_loc(&r, "iss", ISSUER);
		code = loc_param(&r, "code");
		CU_ASSERT_PTR_NOT_NULL(code);
		free(code);
		jg_it_response_clear(&r);
		free(path);
		/* Errors: unsupported response type, invalid scope,
		 * login_required. */
		path = jg_xasprintf("/oauth/authorize?client_id=web&redirect_uri=%s"
				    "&response_type=token&state=%s", WEB_CB_ENC, enc);
		get(c, path, &r);
		CU_ASSERT_EQUAL(r.status, 302);
		assert_loc(&r, "error", "unsupported_response_type");
		assert_loc(&r, "state", states[i]);
		assert_loc(&r, "iss", ISSUER);
		jg_it_response_clear(&r);
		free(path);
		path = jg_xasprintf("/oauth/authorize?client_id=web&redirect_uri=%s"
				    "&response_type=code&scope=openid+admin"
				    "&state=%s", WEB_CB_ENC, enc);
		get(c, path, &r);
		CU_ASSERT_EQUAL(r.status, 302);
		assert_loc(&r, "error", "invalid_scope");
		assert_loc(&r, "state", states[i]);
		assert_loc(&r, "iss", ISSUER);
		jg_it_response_clear(&r);
		free(path);
		path = jg_xasprintf("/oauth/authorize?%s&prompt=none&state=%s", WEB_BASE, enc);
		get(anon, path, &r);
		CU_ASSERT_EQUAL(r.status, 302);
		assert_loc(&r, "error", "login_required");
		assert_loc(&r, "state", states[i]);
		assert_loc(&r, "iss", ISSUER);
		jg_it_response_clear(&r);
		free(path);
		free(enc);
	}
	/* Consent denied: access_denied with state and iss; consent given:
	 * the code with state and iss. */
	get(c, "/oauth/authorize?" WEB_Q, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	csrf = csrf_of(&r);
	jg_it_response_clear(&r);
	form = jg_xasprintf("%s&jg_action=deny&jg_csrf=%s", WEB_Q, csrf);
	post(c, "/oauth/authorize", NULL, form, &r);
	CU_ASSERT_EQUAL(r.status, 303);
	assert_loc(&r, "error", "access_denied");
	assert_loc(&r, "state", "st-1");
	assert_loc(&r, "iss", ISSUER);
	jg_it_response_clear(&r);
	free(form);
	form = jg_xasprintf("%s&jg_action=allow&jg_csrf=%s", WEB_Q, csrf);
	post(c, "/oauth/authorize", NULL, form, &r);
	CU_ASSERT_EQUAL(r.status, 303);
	assert_loc(&r, "state", "st-1");
	assert_loc(&r, "iss", ISSUER);
	assert_loc(&r, "error", NULL);
	jg_it_response_clear(&r);
	free(form);
	free(csrf);
	jg_it_client_free(c);
	jg_it_client_free(anon);
}

int
main(void)
{
	static const struct jg_test tests[] = {
		{ "start lighttpd with the three programs", test_start },
		{ "redirect URI variations: 400 page, never a redirect", test_redirect_uri },
		{ "code injection into another client's flow", test_code_injection },
		{ "PKCE downgrade", test_pkce_downgrade },
		{ "login CSRF", test_login_csrf },
		{ "login timing: unknown user against a known one", test_login_timing },
		{ "brute-force throttling", test_throttle },
		{ "clickjacking headers on every HTML page", test_clickjacking },
		{ "state echoed unchanged, iss in every redirect", test_state_and_iss },
		{ "stop lighttpd", test_stop },
		{ NULL, NULL }
	};

	return jg_test_main("attacks", tests);
}
