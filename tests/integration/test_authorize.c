/* test_authorize.c: authorize.fcgi behind a real lighttpd, driven with
 * libcurl (a cookie jar, redirects not followed): every rule of issue 4
 * points 1 to 4 (parameters, login form, CSRF, throttling, SSO session,
 * consent, logout) with the status, the headers of every HTML answer, the
 * Location parameters, and the database afterwards. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sqlite3.h>

#include "harness.h"
#include "testutil.h"
#include "claims.h"
#include "conf.h"
#include "http.h"
#include "keyring.h"
#include "password.h"
#include "store.h"
#include "util.h"

#define ISSUER "http://127.0.0.1"
#define PASSWORD "correct horse battery staple"
/* RFC 7636 appendix B. */
#define CHALLENGE "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
#define WEB_CB_ENC "https%3A%2F%2Fapp.example%2Fcb"
/* The scope comes last, so a test can append to it. */
#define WEB_Q "client_id=web&redirect_uri=" WEB_CB_ENC \
	"&response_type=code&state=st-1&nonce=n-1&scope=openid+email"
#define CSP_PLAIN "default-src 'self'; frame-ancestors 'none'; form-action 'self'; " \
	"base-uri 'none'"
#define CSP_APP "default-src 'self'; frame-ancestors 'none'; " \
	"form-action 'self' https://app.example; base-uri 'none'"

#define ASSERT_STR(actual, expected) \
	CU_ASSERT_STRING_EQUAL((actual) ? (actual) : "(null)", (expected))

static struct {
	const char *dir;
	struct jg_config *config;
	struct jg_store *store;
	struct jg_keyring *ring;
	struct jg_it_server *lt;
} t;

/* ------------------------------------------------------------ helpers */

static char *
url(const char *path)
{
	return jg_xasprintf("%s%s", t.lt->url, path);
}

static long
count(const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	long n = -1;

	CU_ASSERT_FATAL(sqlite3_open_v2(t.config->database, &db, SQLITE_OPEN_READONLY,
					NULL) == SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	CU_ASSERT_FATAL(sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

static void
get(struct jg_it_client *c, const char *path, struct jg_it_response *r)
{
	char *u = url(path);

	memset(r, 0, sizeof(*r));
	CU_ASSERT_FATAL(jg_it_get(c, u, NULL, r));
	free(u);
}

static void
post(struct jg_it_client *c, const char *path, const char *form,
     struct jg_it_response *r)
{
	static const char *const h[] = {
		"Content-Type: application/x-www-form-urlencoded", NULL
	};
	char *u = url(path);

	memset(r, 0, sizeof(*r));
	CU_ASSERT_FATAL(jg_it_post(c, u, h, form, r));
	free(u);
}

/* The headers every HTML answer carries (issue 4 point 5). */
static void
assert_html(const struct jg_it_response *r, long status, const char *csp)
{
	CU_ASSERT_EQUAL(r->status, status);
	ASSERT_STR(jg_it_header(r, "Content-Type"), "text/html; charset=utf-8");
	ASSERT_STR(jg_it_header(r, "Content-Security-Policy"), csp);
	ASSERT_STR(jg_it_header(r, "X-Frame-Options"), "DENY");
	ASSERT_STR(jg_it_header(r, "Referrer-Policy"), "no-referrer");
	ASSERT_STR(jg_it_header(r, "Cache-Control"), "no-store");
	CU_ASSERT_PTR_NULL(jg_it_header(r, "Location"));
}

static bool
has(const struct jg_it_response *r, const char *text)
{
	return r->body && strstr(r->body, text) != NULL;
}

/* The value of name in the query of the Location header (new), or NULL. */
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

/* GETs the login form of query q and posts it with user and password. */
static void
login(struct jg_it_client *c, const char *q, const char *user,
      const char *password, struct jg_it_response *r)
{
	char *path = jg_xasprintf("/oauth/authorize?%s", q), *token, *form;

	get(c, path, r);
	CU_ASSERT_EQUAL(r->status, 200);
	token = csrf_of(r);
	jg_it_response_clear(r);
	form = jg_xasprintf("%s&jg_action=login&jg_csrf=%s&username=%s&password=%s",
			    q, token, user, password);
	post(c, "/oauth/authorize", form, r);
	free(form);
	free(token);
	free(path);
}

static bool
add_client(const char *id, bool confidential, const char *uri, const char *uri2,
	   const char *logout_uri, const char *grants, const char *scopes,
	   bool first_party)
{
	const char *uris[2] = { uri, uri2 };
	const char *louts[1] = { logout_uri };
	struct jg_client c;

	memset(&c, 0, sizeof(c));
	c.client_id = (char *)(uintptr_t)id;
	c.secret_hash = confidential ? (char *)(uintptr_t)
	    "sha256:0000000000000000000000000000000000000000000000000000000000000000" : NULL;
	c.name = (char *)(uintptr_t)"Example <App>";
	c.redirect_uris = (char **)(uintptr_t)uris;
	c.n_redirect_uris = uri2 ? 2 : 1;
	c.post_logout_uris = (char **)(uintptr_t)louts;
	c.n_post_logout_uris = logout_uri ? 1 : 0;
	c.grant_types = (char *)(uintptr_t)grants;
	c.scopes = (char *)(uintptr_t)scopes;
	c.first_party = first_party;
	return jg_store_client_add(t.store, &c, time(NULL)) == JG_OK;
}

static bool
add_user(const char *username, const char *sub, bool disabled)
{
	struct jg_user u;
	char *hash = NULL;
	bool ok;

	if (jg_password_hash(PASSWORD, &hash) != JG_OK)
		return false;
	memset(&u, 0, sizeof(u));
	u.sub = (char *)(uintptr_t)sub;
	u.username = (char *)(uintptr_t)username;
	u.password_hash = hash;
	u.disabled = disabled;
	ok = jg_store_user_add(t.store, &u, time(NULL)) == JG_OK;
	free(hash);
	return ok;
}

/* ------------------------------------------------------------ setup */

static void
test_start(void)
{
	struct jg_it_program program;
	struct jg_it_server_opts opts;
	char *path, *errmsg = NULL, *env_conf, *bin, *extra;
	const char *env[2];
	FILE *f;

	t.dir = jg_it_tempdir();
	CU_ASSERT_PTR_NOT_NULL_FATAL(t.dir);
	path = jg_xasprintf("%s/jwtgate.conf", t.dir);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL_FATAL(jg_config_write_template(f, ISSUER, t.dir), JG_OK);
	/* The page templates of the source tree; a smaller address limit so
	 * the test reaches it quickly. */
	extra = jg_xasprintf("templates = %s/htdocs\nlogin_max_failures_ip = 9\n",
			     jg_test_srcdir());
	fputs(extra, f);
	free(extra);
	CU_ASSERT_EQUAL_FATAL(fclose(f), 0);
	if (jg_config_load(path, &t.config, &errmsg) != JG_OK)
		fprintf(stderr, "config: %s\n", errmsg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t.config);
	CU_ASSERT_EQUAL_FATAL(mkdir(t.config->key_dir, 0700), 0);
	t.ring = jg_keyring_new(t.config->key_dir);
	CU_ASSERT_EQUAL_FATAL(jg_keyring_rotate(t.ring, JG_KEY_ID, JG_ALG_ES256,
		JG_ALG_ES256, time(NULL), NULL, &errmsg), JG_OK);
	CU_ASSERT_EQUAL_FATAL(jg_store_open(t.config->database, 5000, &t.store,
					    &errmsg), JG_OK);
	CU_ASSERT_FATAL(add_client("web", true, "https://app.example/cb",
				   "https://app.example/cb2", "https://app.example/bye",
				   "authorization_code refresh_token",
				   "openid profile email offline_access", false));
	CU_ASSERT_FATAL(add_client("spa", false, "https://spa.example/cb", NULL, NULL,
				   "authorization_code", "openid profile", false));
	CU_ASSERT_FATAL(add_client("m2m", true, "https://m2m.example/cb", NULL, NULL,
				   "client_credentials", "api:read", false));
	CU_ASSERT_FATAL(add_client("first", false, "http://127.0.0.1:8080/cb", NULL,
				   NULL, "authorization_code", "openid profile", true));
	CU_ASSERT_FATAL(add_user("alice", "sub-alice", false));
	CU_ASSERT_FATAL(add_user("dave", "sub-dave", false));
	CU_ASSERT_FATAL(add_user("mallory", "sub-mallory", true));

	bin = jg_it_build_path("cgi-bin/authorize.fcgi");
	CU_ASSERT_EQUAL_FATAL(access(bin, X_OK), 0);
	env_conf = jg_xasprintf("JWTGATE_CONF=%s", path);
	env[0] = env_conf;
	env[1] = NULL;
	memset(&program, 0, sizeof(program));
	program.prefix = "/oauth/";
	program.bin = bin;
	program.env = env;
	program.max_procs = 2;
	memset(&opts, 0, sizeof(opts));
	opts.programs = &program;
	opts.nprograms = 1;
	t.lt = jg_it_lighttpd_start(&opts);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t.lt);
	free(path);
	free(env_conf);
	free(bin);
}

static void
test_stop(void)
{
	CU_ASSERT_TRUE(jg_it_server_stop(t.lt));
	jg_store_close(t.store);
	jg_keyring_free(t.ring);
	jg_config_free(t.config);
}

/* ------------------------------------------------------------ point 1 */

static const struct prow {
	const char *rule;
	const char *query;
	long status;		/* 400: the error page; 302: redirect */
	const char *error;	/* the Location's error for a 302 */
	const char *state;	/* its state */
} prows[] = {
	{ "no client_id", "response_type=code", 400, NULL, NULL },
	{ "unknown client", "client_id=nope&redirect_uri=" WEB_CB_ENC "&response_type=code",
	  400, NULL, NULL },
	{ "redirect_uri missing, two registered", "client_id=web&response_type=code",
	  400, NULL, NULL },
	{ "redirect_uri not registered", "client_id=web&redirect_uri="
	  "https%3A%2F%2Fevil.example%2Fcb&response_type=code", 400, NULL, NULL },
	{ "redirect_uri exact match only", "client_id=web&redirect_uri="
	  "https%3A%2F%2Fapp.example%2Fcb%2F&response_type=code", 400, NULL, NULL },
	{ "redirect_uri malformed", "client_id=web&redirect_uri=app.example%2Fcb"
	  "&response_type=code", 400, NULL, NULL },
	{ "repeated parameter", "client_id=web&client_id=web&response_type=code",
	  400, NULL, NULL },
	{ "request object", "client_id=spa&response_type=code&request=e30&state=a",
	  302, "request_not_supported", "a" },
	{ "request_uri", "client_id=spa&response_type=code&request_uri=urn%3Ax&state=a",
	  302, "request_uri_not_supported", "a" },
	{ "response_type missing", "client_id=web&redirect_uri=" WEB_CB_ENC "&state=b",
	  302, "invalid_request", "b" },
	{ "response_type token", "client_id=web&redirect_uri=" WEB_CB_ENC
	  "&response_type=token&state=b", 302, "unsupported_response_type", "b" },
	{ "client without the code grant", "client_id=m2m&response_type=code",
	  302, "unauthorized_client", NULL },
	{ "scope not allowed", "client_id=web&redirect_uri=" WEB_CB_ENC
	  "&response_type=code&scope=openid+admin", 302, "invalid_scope", NULL },
	{ "public client without PKCE", "client_id=spa&response_type=code&state=c",
	  302, "invalid_request", "c" },
	{ "PKCE plain", "client_id=spa&response_type=code&code_challenge=" CHALLENGE
	  "&code_challenge_method=plain", 302, "invalid_request", NULL },
	{ "code_challenge too short", "client_id=spa&response_type=code"
	  "&code_challenge=abc&code_challenge_method=S256", 302, "invalid_request", NULL },
	{ "prompt unknown", "client_id=web&redirect_uri=" WEB_CB_ENC
	  "&response_type=code&prompt=always", 302, "invalid_request", NULL },
	{ "prompt none with login", "client_id=web&redirect_uri=" WEB_CB_ENC
	  "&response_type=code&prompt=none+login", 302, "invalid_request", NULL },
	{ "max_age not a number", "client_id=web&redirect_uri=" WEB_CB_ENC
	  "&response_type=code&max_age=x", 302, "invalid_request", NULL },
	{ "prompt=none without a session", "client_id=web&redirect_uri=" WEB_CB_ENC
	  "&response_type=code&prompt=none&state=d", 302, "login_required", "d" },
	{ "accepted parameters and unknown ones: the login form",
	  "client_id=web&redirect_uri=" WEB_CB_ENC "&response_type=code&display=page"
	  "&ui_locales=en&claims_locales=en&acr_values=1&foo=bar", 200, NULL, NULL },
};

static void
test_parameters(void)
{
	struct jg_it_client *c = jg_it_client_new();
	size_t i;

	for (i = 0; i < sizeof(prows) / sizeof(prows[0]); i++) {
		const struct prow *row = &prows[i];
		struct jg_it_response r;
		char *path = jg_xasprintf("/oauth/authorize?%s", row->query);

		get(c, path, &r);
		if (r.status != row->status)
			fprintf(stderr, "row %zu (%s): status %ld\n", i, row->rule, r.status);
		if (row->status == 302) {
			CU_ASSERT_EQUAL(r.status, 302);
			assert_loc(&r, "error", row->error);
			assert_loc(&r, "state", row->state);
			assert_loc(&r, "iss", ISSUER);
			CU_ASSERT_PTR_NOT_NULL(jg_it_header(&r, "Location"));
			CU_ASSERT_EQUAL(r.body_len, 0);
		} else if (row->status == 400) {
			assert_html(&r, 400, CSP_PLAIN);
		} else {
			assert_html(&r, row->status, CSP_APP);
		}
		jg_it_response_clear(&r);
		free(path);
	}
	/* None of these wrote anything. */
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM codes"), 0);
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM sessions"), 0);
	jg_it_client_free(c);
}

/* ------------------------------------------------------------ points 2 and 3 */

static void
test_login_consent(void)
{
	struct jg_it_client *c = jg_it_client_new(), *other = jg_it_client_new();
	struct jg_it_response r, r2;
	struct jg_code *code = NULL;
	char *token, *form, *v, *sess, *csrf;
	const char *sc;

	/* The form: CSRF cookie, labels, autocomplete, client and scopes. */
	get(c, "/oauth/authorize?" WEB_Q "&login_hint=al%3Cice", &r);
	assert_html(&r, 200, CSP_APP);
	sc = jg_it_header(&r, "Set-Cookie");
	CU_ASSERT(sc && strncmp(sc, "jg_csrf=", 8) == 0 &&
		  strstr(sc, "; Path=/; HttpOnly; SameSite=Lax") != NULL);
	CU_ASSERT(has(&r, "<label for=\"username\">"));
	CU_ASSERT(has(&r, "autocomplete=\"username\""));
	CU_ASSERT(has(&r, "autocomplete=\"current-password\""));
	CU_ASSERT(has(&r, "value=\"al&lt;ice\""));
	CU_ASSERT(has(&r, "Example &lt;App&gt;"));
	CU_ASSERT(has(&r, "<code class=\"scope\">email</code>"));
	CU_ASSERT(has(&r, "href=\"/jwtgate.css\""));
	CU_ASSERT(!has(&r, "<script"));
	token = csrf_of(&r);
	jg_it_response_clear(&r);

	/* POST without a token, and with the token from another browser. */
	post(c, "/oauth/authorize", WEB_Q "&jg_action=login&username=alice"
	     "&password=" PASSWORD, &r);
	assert_html(&r, 403, CSP_PLAIN);
	jg_it_response_clear(&r);
	form = jg_xasprintf("%s&jg_action=login&jg_csrf=%s&username=alice&password=%s",
			    WEB_Q, token, PASSWORD);
	post(other, "/oauth/authorize", form, &r);
	assert_html(&r, 403, CSP_PLAIN);
	jg_it_response_clear(&r);
	free(form);
	free(token);
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM sessions"), 0);

	/* Wrong password and unknown user: the same message, counted. */
	login(c, WEB_Q, "alice", "wrong", &r);
	assert_html(&r, 200, CSP_APP);
	CU_ASSERT(has(&r, "The user name or password is incorrect."));
	jg_it_response_clear(&r);
	login(c, WEB_Q, "nobody", "wrong", &r2);
	assert_html(&r2, 200, CSP_APP);
	CU_ASSERT(has(&r2, "The user name or password is incorrect."));
	jg_it_response_clear(&r2);
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM login_failures WHERE key = 'user:alice'"), 1);
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM login_failures WHERE key = 'user:nobody'"), 1);
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM login_failures WHERE key = 'ip:127.0.0.1'"), 2);
	/* A disabled user fails the same way. */
	login(c, WEB_Q, "mallory", PASSWORD, &r);
	assert_html(&r, 200, CSP_APP);
	CU_ASSERT(has(&r, "The user name or password is incorrect."));
	jg_it_response_clear(&r);
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM sessions"), 0);

	/* The right password: session cookie, session row, consent page. */
	login(c, WEB_Q, "alice", PASSWORD, &r);
	assert_html(&r, 200, CSP_APP);
	sc = jg_it_header(&r, "Set-Cookie");
	CU_ASSERT(sc && strncmp(sc, "jg_session=", 11) == 0 &&
		  strstr(sc, "; Path=/; HttpOnly; SameSite=Lax") != NULL &&
		  strstr(sc, "Secure") == NULL);
	sess = jg_it_cookie(c, "jg_session");
	CU_ASSERT_PTR_NOT_NULL(sess);
	CU_ASSERT(sess && strlen(sess) == 43);
	free(sess);
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM sessions WHERE sub = 'sub-alice'"), 1);
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM sessions WHERE auth_time > 0 "
			      "AND auth_time <= strftime('%s','now')"), 1);
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM login_failures WHERE key = 'user:alice'"), 0);
	CU_ASSERT(has(&r, "value=\"allow\""));
	CU_ASSERT(has(&r, "value=\"deny\""));
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM consents"), 0);
	csrf = csrf_of(&r);
	jg_it_response_clear(&r);

	/* Allow: 303 to the client with code, state and iss. */
	form = jg_xasprintf("%s&jg_action=allow&jg_csrf=%s", WEB_Q, csrf);
	post(c, "/oauth/authorize", form, &r);
	free(form);
	free(csrf);
	CU_ASSERT_EQUAL(r.status, 303);
	CU_ASSERT(strncmp(jg_it_header(&r, "Location") ? jg_it_header(&r, "Location") : "",
			  "https://app.example/cb?code=", 28) == 0);
	assert_loc(&r, "state", "st-1");
	assert_loc(&r, "iss", ISSUER);
	CU_ASSERT(count("SELECT count(*) FROM consents") > 0);
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM codes"), 1);
	v = loc_param(&r, "code");
	jg_it_response_clear(&r);
	CU_ASSERT_FATAL(v != NULL);
	CU_ASSERT_EQUAL(strlen(v), 43);
	CU_ASSERT_EQUAL(jg_store_code_redeem(t.store, v, time(NULL), &code, NULL), JG_OK);
	if (code) {
		ASSERT_STR(code->client_id, "web");
		ASSERT_STR(code->redirect_uri, "https://app.example/cb");
		CU_ASSERT_FALSE(code->redirect_uri_omitted);
		ASSERT_STR(code->sub, "sub-alice");
		ASSERT_STR(code->scope, "openid email");
		ASSERT_STR(code->nonce, "n-1");
		CU_ASSERT(code->expires - code->created == t.config->code_lifetime);
	}
	jg_code_free(code);
	free(v);

	/* SSO: the session and the remembered consent skip both pages. */
	get(c, "/oauth/authorize?" WEB_Q, &r);
	CU_ASSERT_EQUAL(r.status, 302);
	v = loc_param(&r, "code");
	CU_ASSERT_PTR_NOT_NULL(v);
	free(v);
	jg_it_response_clear(&r);
	get(c, "/oauth/authorize?" WEB_Q "&prompt=none", &r);
	CU_ASSERT_EQUAL(r.status, 302);
	v = loc_param(&r, "code");
	CU_ASSERT_PTR_NOT_NULL(v);
	free(v);
	jg_it_response_clear(&r);
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM codes"), 3);
	/* Consent missing for a new scope with prompt=none. */
	get(c, "/oauth/authorize?" WEB_Q "+profile&prompt=none", &r);
	CU_ASSERT_EQUAL(r.status, 302);
	assert_loc(&r, "error", "consent_required");
	assert_loc(&r, "state", "st-1");
	jg_it_response_clear(&r);
	/* prompt=login and an exceeded max_age show the form again. */
	get(c, "/oauth/authorize?" WEB_Q "&prompt=login", &r);
	assert_html(&r, 200, CSP_APP);
	CU_ASSERT(has(&r, "autocomplete=\"current-password\""));
	jg_it_response_clear(&r);
	sleep(1);
	get(c, "/oauth/authorize?" WEB_Q "&max_age=0", &r);
	assert_html(&r, 200, CSP_APP);
	CU_ASSERT(has(&r, "autocomplete=\"current-password\""));
	jg_it_response_clear(&r);
	get(c, "/oauth/authorize?" WEB_Q "&max_age=3600", &r);
	CU_ASSERT_EQUAL(r.status, 302);
	jg_it_response_clear(&r);
	/* prompt=consent asks again; deny answers access_denied. */
	get(c, "/oauth/authorize?" WEB_Q "&prompt=consent", &r);
	assert_html(&r, 200, CSP_APP);
	csrf = csrf_of(&r);
	jg_it_response_clear(&r);
	form = jg_xasprintf("%s&prompt=consent&jg_action=deny&jg_csrf=%s", WEB_Q, csrf);
	post(c, "/oauth/authorize", form, &r);
	CU_ASSERT_EQUAL(r.status, 303);
	assert_loc(&r, "error", "access_denied");
	assert_loc(&r, "state", "st-1");
	assert_loc(&r, "iss", ISSUER);
	jg_it_response_clear(&r);
	free(form);
	free(csrf);
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM codes"), 4);

	/* A first-party public client: no consent page; PKCE stored. */
	get(c, "/oauth/authorize?client_id=first&response_type=code&scope=openid"
	    "&code_challenge=" CHALLENGE "&code_challenge_method=S256", &r);
	CU_ASSERT_EQUAL(r.status, 302);
	v = loc_param(&r, "code");
	jg_it_response_clear(&r);
	CU_ASSERT_FATAL(v != NULL);
	CU_ASSERT_EQUAL(jg_store_code_redeem(t.store, v, time(NULL), &code, NULL), JG_OK);
	if (code) {
		ASSERT_STR(code->code_challenge, CHALLENGE);
		ASSERT_STR(code->code_challenge_method, "S256");
	}
	jg_code_free(code);
	free(v);
	jg_it_client_free(c);
	jg_it_client_free(other);
}

/* ------------------------------------------------------------ point 4 */

static void
test_logout(void)
{
	struct jg_it_client *c = jg_it_client_new();
	struct jg_it_response r;
	struct json_object *claims = json_object_new_object();
	const struct jg_jwk *key = jg_keyring_current(t.ring, JG_KEY_ID);
	char *hint = NULL, *path, *v, *csrf, *form;
	long before;

	CU_ASSERT_EQUAL_FATAL(jg_store_fail_clear(t.store, "ip:127.0.0.1"), JG_OK);
	login(c, "client_id=first&response_type=code&code_challenge=" CHALLENGE
	      "&code_challenge_method=S256", "alice", PASSWORD, &r);
	CU_ASSERT_EQUAL(r.status, 303);
	jg_it_response_clear(&r);
	v = jg_it_cookie(c, "jg_session");
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	free(v);
	before = count("SELECT count(*) FROM sessions");

	/* Without id_token_hint the user is asked first (RP-Initiated
	 * Logout 1.0 section 2), so a link or an image elsewhere cannot sign
	 * them out: the confirmation page, the session row kept. */
	get(c, "/oauth/logout?client_id=web&post_logout_redirect_uri="
	    "https%3A%2F%2Fapp.example%2Fbye&state=L1", &r);
	assert_html(&r, 200, CSP_APP);
	CU_ASSERT(has(&r, "value=\"logout\""));
	CU_ASSERT(has(&r, "value=\"stay\""));
	csrf = csrf_of(&r);
	jg_it_response_clear(&r);
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM sessions"), before);
	/* A post without the form's token: 403, still signed in. */
	post(c, "/oauth/logout", "client_id=web&post_logout_redirect_uri="
	     "https%3A%2F%2Fapp.example%2Fbye&state=L1&jg_action=logout", &r);
	assert_html(&r, 403, CSP_PLAIN);
	jg_it_response_clear(&r);
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM sessions"), before);
	/* "Stay signed in": back to the client, session kept. */
	form = jg_xasprintf("client_id=web&post_logout_redirect_uri=https%%3A%%2F%%2F"
			    "app.example%%2Fbye&state=L1&jg_action=stay&jg_csrf=%s", csrf);
	post(c, "/oauth/logout", form, &r);
	free(form);
	CU_ASSERT_EQUAL(r.status, 303);
	ASSERT_STR(jg_it_header(&r, "Location"), "https://app.example/bye?state=L1");
	CU_ASSERT_PTR_NULL(jg_it_header(&r, "Set-Cookie"));
	jg_it_response_clear(&r);
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM sessions"), before);

	/* "Sign out" with the registered post-logout URI: 303 with state;
	 * row deleted, cookie expired. */
	form = jg_xasprintf("client_id=web&post_logout_redirect_uri=https%%3A%%2F%%2F"
			    "app.example%%2Fbye&state=L1&jg_action=logout&jg_csrf=%s", csrf);
	post(c, "/oauth/logout", form, &r);
	free(form);
	free(csrf);
	CU_ASSERT_EQUAL(r.status, 303);
	ASSERT_STR(jg_it_header(&r, "Location"), "https://app.example/bye?state=L1");
	ASSERT_STR(jg_it_header(&r, "Set-Cookie"),
		   "jg_session=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax");
	jg_it_response_clear(&r);
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM sessions"), before - 1);
	v = jg_it_cookie(c, "jg_session");
	CU_ASSERT(v == NULL || *v == '\0');
	free(v);
	get(c, "/oauth/authorize?" WEB_Q "&prompt=none", &r);
	CU_ASSERT_EQUAL(r.status, 302);
	assert_loc(&r, "error", "login_required");
	jg_it_response_clear(&r);

	/* An unregistered URI: the signed-out page, never a redirect. */
	get(c, "/oauth/logout?client_id=web&post_logout_redirect_uri="
	    "https%3A%2F%2Fevil.example%2F", &r);
	assert_html(&r, 200, CSP_PLAIN);
	CU_ASSERT(has(&r, "Signed out"));
	jg_it_response_clear(&r);

	/* POST with an id_token_hint (expired: still a valid hint) naming the
	 * client: 303 to its post-logout URI. */
	json_object_object_add(claims, "iss", json_object_new_string(ISSUER));
	json_object_object_add(claims, "sub", json_object_new_string("sub-alice"));
	json_object_object_add(claims, "aud", json_object_new_string("web"));
	json_object_object_add(claims, "exp", json_object_new_int64(1000000000));
	CU_ASSERT_EQUAL_FATAL(jg_jwt_sign(key, key->alg, JG_TYP_ID, claims, &hint), JG_OK);
	json_object_put(claims);
	/* Signed in again: a hint naming the signed-in user ends the
	 * session at once, no question asked. */
	login(c, "client_id=first&response_type=code&code_challenge=" CHALLENGE
	      "&code_challenge_method=S256", "alice", PASSWORD, &r);
	CU_ASSERT_EQUAL(r.status, 303);
	jg_it_response_clear(&r);
	before = count("SELECT count(*) FROM sessions");
	path = jg_xasprintf("id_token_hint=%s&post_logout_redirect_uri="
			    "https%%3A%%2F%%2Fapp.example%%2Fbye", hint);
	post(c, "/oauth/logout", path, &r);
	CU_ASSERT_EQUAL(r.status, 303);
	ASSERT_STR(jg_it_header(&r, "Location"), "https://app.example/bye");
	ASSERT_STR(jg_it_header(&r, "Set-Cookie"),
		   "jg_session=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax");
	jg_it_response_clear(&r);
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM sessions"), before - 1);
	free(path);
	/* A forged hint: a 400 page. */
	path = jg_xasprintf("/oauth/logout?id_token_hint=%sx", hint);
	get(c, path, &r);
	assert_html(&r, 400, CSP_PLAIN);
	jg_it_response_clear(&r);
	free(path);
	free(hint);
	jg_it_client_free(c);
}

/* ------------------------------------------------------------ hints */

/* Signs an ID-token-shaped hint (or, with typ at+jwt, an access token) for
 * sub and aud with the current ID key. */
static char *
sign_hint(const char *sub, const char *aud, const char *typ)
{
	struct json_object *claims = json_object_new_object();
	const struct jg_jwk *key = jg_keyring_current(t.ring, JG_KEY_ID);
	char *token = NULL;

	json_object_object_add(claims, "iss", json_object_new_string(ISSUER));
	json_object_object_add(claims, "sub", json_object_new_string(sub));
	json_object_object_add(claims, "aud", json_object_new_string(aud));
	json_object_object_add(claims, "exp", json_object_new_int64(1000000000));
	CU_ASSERT_EQUAL(jg_jwt_sign(key, key->alg, typ, claims, &token), JG_OK);
	json_object_put(claims);
	return token;
}

#define FIRST_Q "client_id=first&response_type=code&state=s-h&code_challenge=" \
	CHALLENGE "&code_challenge_method=S256"

/* Point 1: prompt=select_account and id_token_hint through the server. */
static void
test_hints(void)
{
	struct jg_it_client *c = jg_it_client_new();
	struct jg_it_response r;
	char *alice = sign_hint("sub-alice", "first", JG_TYP_ID);
	char *dave = sign_hint("sub-dave", "first", JG_TYP_ID);
	char *access = sign_hint("sub-alice", "first", JG_TYP_ACCESS);
	char *path, *code;
	long codes, sessions;

	CU_ASSERT_EQUAL_FATAL(jg_store_fail_clear(t.store, "ip:127.0.0.1"), JG_OK);
	login(c, FIRST_Q, "alice", PASSWORD, &r);
	CU_ASSERT_EQUAL(r.status, 303);
	assert_loc(&r, "state", "s-h");
	jg_it_response_clear(&r);
	codes = count("SELECT count(*) FROM codes");

	/* select_account with a live session: the form again, no code. */
	get(c, "/oauth/authorize?" FIRST_Q "&prompt=select_account", &r);
	assert_html(&r, 200, "default-src 'self'; frame-ancestors 'none'; "
		    "form-action 'self' http://127.0.0.1:8080; base-uri 'none'");
	CU_ASSERT(has(&r, "autocomplete=\"current-password\""));
	jg_it_response_clear(&r);
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM codes"), codes);

	/* A hint for the session's user (expired, still a hint): a code. */
	path = jg_xasprintf("/oauth/authorize?%s&prompt=none&id_token_hint=%s",
			    FIRST_Q, alice);
	get(c, path, &r);
	CU_ASSERT_EQUAL(r.status, 302);
	assert_loc(&r, "error", NULL);
	assert_loc(&r, "iss", ISSUER);
	code = loc_param(&r, "code");
	CU_ASSERT(code != NULL && strlen(code) >= 22);
	free(code);
	jg_it_response_clear(&r);
	free(path);
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM codes"), codes + 1);

	/* A hint for another user: login_required with prompt=none, else
	 * the form. */
	path = jg_xasprintf("/oauth/authorize?%s&prompt=none&id_token_hint=%s",
			    FIRST_Q, dave);
	get(c, path, &r);
	CU_ASSERT_EQUAL(r.status, 302);
	assert_loc(&r, "error", "login_required");
	assert_loc(&r, "state", "s-h");
	jg_it_response_clear(&r);
	free(path);
	path = jg_xasprintf("/oauth/authorize?%s&id_token_hint=%s", FIRST_Q, dave);
	get(c, path, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT(has(&r, "autocomplete=\"current-password\""));
	jg_it_response_clear(&r);
	free(path);

	/* An access token is no ID token hint. */
	path = jg_xasprintf("/oauth/authorize?%s&id_token_hint=%s", FIRST_Q, access);
	get(c, path, &r);
	CU_ASSERT_EQUAL(r.status, 302);
	assert_loc(&r, "error", "invalid_request");
	jg_it_response_clear(&r);
	free(path);
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM codes"), codes + 1);

	/* Logout: a hint for client first with client_id=spa is a 400 page,
	 * and the session survives it. */
	sessions = count("SELECT count(*) FROM sessions WHERE sub = 'sub-alice'");
	CU_ASSERT(sessions >= 1);
	path = jg_xasprintf("/oauth/logout?id_token_hint=%s&client_id=spa", alice);
	get(c, path, &r);
	assert_html(&r, 400, CSP_PLAIN);
	jg_it_response_clear(&r);
	free(path);
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM sessions WHERE sub = 'sub-alice'"),
			sessions);

	free(alice);
	free(dave);
	free(access);
	jg_it_client_free(c);
}

/* ------------------------------------------------------------ throttling */

static void
test_throttle(void)
{
	struct jg_it_client *c = jg_it_client_new();
	struct jg_it_response r;
	unsigned i;

	CU_ASSERT_EQUAL_FATAL(jg_store_fail_clear(t.store, "ip:127.0.0.1"), JG_OK);
	for (i = 0; i < 5; i++) {
		login(c, WEB_Q, "dave", "wrong", &r);
		CU_ASSERT_EQUAL(r.status, 200);
		jg_it_response_clear(&r);
	}
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM login_failures WHERE key = 'user:dave'"), 5);
	/* The sixth attempt, even with the right password: 429. */
	login(c, WEB_Q, "dave", PASSWORD, &r);
	assert_html(&r, 429, CSP_PLAIN);
	ASSERT_STR(jg_it_header(&r, "Retry-After"), "900");
	jg_it_response_clear(&r);
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM login_failures WHERE key = 'user:dave'"), 5);
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM sessions WHERE sub = 'sub-dave'"), 0);
	/* The address limit (9 in this configuration): four more failures
	 * of other names, then every name is refused. */
	for (i = 0; i < 4; i++) {
		login(c, WEB_Q, "alice", "wrong", &r);
		CU_ASSERT_EQUAL(r.status, 200);
		jg_it_response_clear(&r);
	}
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM login_failures WHERE key = 'ip:127.0.0.1'"), 9);
	login(c, WEB_Q, "alice", PASSWORD, &r);
	assert_html(&r, 429, CSP_PLAIN);
	ASSERT_STR(jg_it_header(&r, "Retry-After"), "900");
	jg_it_response_clear(&r);
	jg_it_client_free(c);
}

int
main(void)
{
	static const struct jg_test tests[] = {
		{ "start lighttpd with authorize.fcgi", test_start },
		{ "point 1: parameters", test_parameters },
		{ "points 2 and 3: login, CSRF, session, consent", test_login_consent },
		{ "point 4: logout", test_logout },
		{ "point 1: prompt=select_account and id_token_hint", test_hints },
		{ "point 2: throttling", test_throttle },
		{ "stop lighttpd", test_stop },
		{ NULL, NULL }
	};

	return jg_test_main("authorize-integration", tests);
}
