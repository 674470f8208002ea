/* test_e2e.c: issue 7 point 4, the whole flow end to end through a real
 * lighttpd and a real Apache with mod_fcgid, each started on an ephemeral
 * loopback port with authorize.fcgi, token.fcgi and resource.fcgi, driven
 * by a libcurl client with a cookie jar and redirects not followed:
 *
 *   authorize GET -> login form -> POST credentials with the CSRF token ->
 *   consent (the client is not first-party) -> code in Location with state
 *   and iss -> token exchange with PKCE (RFC 7636) -> /api/me with Bearer ->
 *   userinfo -> refresh (rotation) -> revoke (RFC 7009) -> the revoked
 *   refresh token refused -> logout -> session gone
 *
 * with the status and headers of every answer and the database at the end.
 *
 * Run as "test_e2e --oidc-client SCRIPT" it is the driver of
 * tests/integration/test_oidc_client.sh instead: it sets up the same
 * instance behind lighttpd, runs /usr/bin/python3 SCRIPT ISSUER CLIENT_ID
 * CLIENT_SECRET REDIRECT_URI USERNAME PASSWORD (python3-authlib drives the
 * OpenID Connect flow and validates the ID token itself), stops the server
 * and exits with the script's status. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>
#include <sqlite3.h>

#include "harness.h"
#include "testutil.h"
#include "b64url.h"
#include "claims.h"
#include "conf.h"
#include "http.h"
#include "json.h"
#include "jwk.h"
#include "keyring.h"
#include "oauth.h"
#include "password.h"
#include "store.h"
#include "util.h"

#define PASSWORD "correct horse battery staple"
#define WEB_SECRET "e2e-web-secret-0123456789-abcdefghijklmnopqrstuv"
#define WEB_CB "https://app.example/cb"
#define WEB_CB_ENC "https%3A%2F%2Fapp.example%2Fcb"
/* RFC 7636 appendix B. */
#define VERIFIER "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
#define CHALLENGE "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
#define QUERY "response_type=code&client_id=web&redirect_uri=" WEB_CB_ENC \
	"&scope=openid+profile+email+offline_access+api%3Aread&state=e2e-state" \
	"&nonce=e2e-nonce&code_challenge=" CHALLENGE "&code_challenge_method=S256"

#define ASSERT_STR(actual, expected) \
	CU_ASSERT_STRING_EQUAL((actual) ? (actual) : "(null)", (expected))

/* One instance: configuration, keys, store, and the server in front. */
struct e2e {
	const char *dir;
	char *conf;
	char *env_conf;
	char *issuer;		/* http://127.0.0.1:PORT, a second listener */
	int port;
	struct jg_config *config;
	struct jg_store *store;
	struct jg_keyring *ring;
	struct jg_it_server *srv;
	char *basic;		/* "Authorization: Basic ..." of client web */
};

/* ------------------------------------------------------------ setup */

static bool
add_user(struct e2e *e)
{
	struct jg_user u;
	char *hash = NULL;
	bool ok;

	if (jg_password_hash(PASSWORD, &hash) != JG_OK)
		return false;
	memset(&u, 0, sizeof(u));
	u.sub = (char *)(uintptr_t)"sub-alice";
	u.username = (char *)(uintptr_t)"alice";
	u.password_hash = hash;
	u.name = (char *)(uintptr_t)"Alice Example";
	u.email = (char *)(uintptr_t)"alice@example.org";
	u.email_verified = true;
	ok = jg_store_user_add(e->store, &u, time(NULL)) == JG_OK;
	free(hash);
	return ok;
}

static bool
add_client(struct e2e *e)
{
	const char *uris[1] = { WEB_CB };
	const char *louts[1] = { "https://app.example/bye" };
	struct jg_client c;
	bool ok;

	memset(&c, 0, sizeof(c));
	c.client_id = (char *)(uintptr_t)"web";
	if (jg_client_secret_hash(WEB_SECRET, &c.secret_hash) != JG_OK)
		return false;
	c.name = (char *)(uintptr_t)"Example App";
	c.redirect_uris = (char **)(uintptr_t)uris;
	c.n_redirect_uris = 1;
	c.post_logout_uris = (char **)(uintptr_t)louts;
	c.n_post_logout_uris = 1;
	c.grant_types = (char *)(uintptr_t)"authorization_code refresh_token";
	c.scopes = (char *)(uintptr_t)"openid profile email offline_access api:read";
	c.first_party = false;
	ok = jg_store_client_add(e->store, &c, time(NULL)) == JG_OK;
	free(c.secret_hash);
	return ok;
}

/* Makes the instance and starts the server of kind.  The issuer is
 * http://127.0.0.1:PORT, with PORT a second listener added to the server's
 * configuration, so that the issuer, the discovery document and the URLs
 * the client uses are one and the same. */
static bool
e2e_start(struct e2e *e, enum jg_it_kind kind)
{
	struct jg_it_program p[7];
	struct jg_it_server_opts opts;
	const char *env[2];
	char *bins[3], *errmsg = NULL, *extra, *saved, *b64, *plain;
	size_t i;
	FILE *f;

	memset(e, 0, sizeof(*e));
	e->dir = jg_it_tempdir();
	e->port = jg_it_free_port();
	if (e->dir == NULL || e->port < 0)
		return false;
	e->issuer = jg_xasprintf("http://127.0.0.1:%d", e->port);
	e->conf = jg_xasprintf("%s/jwtgate.conf", e->dir);
	e->env_conf = jg_xasprintf("JWTGATE_CONF=%s", e->conf);
	f = fopen(e->conf, "w");
	if (f == NULL || jg_config_write_template(f, e->issuer, e->dir) != JG_OK) {
		if (f)
			fclose(f);
		return false;
	}
	fprintf(f, "templates = %s/htdocs\n", jg_test_srcdir());
	if (fclose(f) != 0)
		return false;
	if (jg_config_load(e->conf, &e->config, &errmsg) != JG_OK ||
	    mkdir(e->config->key_dir, 0700) != 0)
		goto fail;
	e->ring = jg_keyring_new(e->config->key_dir);
	if (jg_keyring_rotate(e->ring, JG_KEY_ACCESS, JG_ALG_UNKNOWN,
			      e->config->access_token_alg, time(NULL), NULL, &errmsg) != JG_OK ||
	    jg_keyring_rotate(e->ring, JG_KEY_ID, JG_ALG_UNKNOWN,
			      e->config->id_token_alg, time(NULL), NULL, &errmsg) != JG_OK ||
	    jg_store_open(e->config->database, 5000, &e->store, &errmsg) != JG_OK)
		goto fail;
	if (!add_user(e) || !add_client(e)) {
		fprintf(stderr, "e2e: cannot fill the store\n");
		return false;
	}
	plain = jg_xasprintf("web:%s", WEB_SECRET);
	b64 = jg_b64std_encode(plain, strlen(plain));
	e->basic = jg_xasprintf("Authorization: Basic %s", b64);
	free(plain);
	free(b64);
	/* Apache's workers run as www-data: give them the instance (the
	 * store stays open here, so its files keep their owner). */
	if (kind == JG_IT_APACHE && geteuid() == 0) {
		char *cmd = jg_xasprintf("chown -R www-data:www-data '%s'", e->dir);
		int rc = system(cmd);

		free(cmd);
		if (rc != 0)
			return false;
	}

	bins[0] = jg_it_build_path("cgi-bin/authorize.fcgi");
	bins[1] = jg_it_build_path("cgi-bin/token.fcgi");
	bins[2] = jg_it_build_path("cgi-bin/resource.fcgi");
	env[0] = e->env_conf;
	env[1] = NULL;
	memset(p, 0, sizeof(p));
	p[0].prefix = "/oauth/authorize";
	p[0].bin = bins[0];
	p[1].prefix = "/oauth/logout";
	p[1].bin = bins[0];
	p[2].prefix = "/oauth/token";
	p[2].bin = bins[1];
	p[3].prefix = "/oauth/revoke";
	p[3].bin = bins[1];
	p[4].prefix = "/oauth/introspect";
	p[4].bin = bins[1];
	p[5].prefix = "/oauth/userinfo";
	p[5].bin = bins[2];
	p[6].prefix = "/api/";
	p[6].bin = bins[2];
	/* lighttpd sets the environment per program; Apache's
	 * FcgidInitialEnv is server-wide, so it is written once. */
	for (i = 0; i < 7; i++)
		p[i].env = i == 0 || kind == JG_IT_LIGHTTPD ? env : NULL;
	memset(&opts, 0, sizeof(opts));
	opts.programs = p;
	opts.nprograms = 7;
	if (kind == JG_IT_LIGHTTPD)
		extra = jg_xasprintf("$SERVER[\"socket\"] == \"127.0.0.1:%d\" { }", e->port);
	else
		extra = jg_xasprintf("Listen 127.0.0.1:%d", e->port);
	opts.extra = extra;
	e->srv = kind == JG_IT_LIGHTTPD ? jg_it_lighttpd_start(&opts)
					: jg_it_apache_start(&opts);
	free(extra);
	for (i = 0; i < 3; i++)
		free(bins[i]);
	if (e->srv == NULL || !jg_it_wait_port(e->port, e->srv->pid, 10000))
		return false;

	/* Discovery and JWKS where the server serves static files, as
	 * `jwtgate key publish` does into the configured htdocs. */
	saved = e->config->htdocs;
	e->config->htdocs = e->srv->htdocs;
	if (jg_keyring_publish(e->config, e->ring, &errmsg) != JG_OK) {
		e->config->htdocs = saved;
		goto fail;
	}
	e->config->htdocs = saved;
	if (kind == JG_IT_APACHE && geteuid() == 0) {
		char *cmd = jg_xasprintf("chmod -R a+rX '%s/.well-known'", e->srv->htdocs);

		if (system(cmd) != 0)
			fprintf(stderr, "e2e: chmod failed\n");
		free(cmd);
	}
	return true;
fail:
	fprintf(stderr, "e2e: %s\n", errmsg ? errmsg : "failed");
	free(errmsg);
	return false;
}

static bool
e2e_stop(struct e2e *e)
{
	bool ok = jg_it_server_stop(e->srv);

	jg_store_close(e->store);
	jg_keyring_free(e->ring);
	jg_config_free(e->config);
	free(e->conf);
	free(e->env_conf);
	free(e->issuer);
	free(e->basic);
	memset(e, 0, sizeof(*e));
	return ok;
}

/* ------------------------------------------------------------ helpers */

static long
count(const struct e2e *e, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	long n = -1;

	if (sqlite3_open_v2(e->config->database, &db, SQLITE_OPEN_READONLY, NULL) ==
	    SQLITE_OK) {
		sqlite3_busy_timeout(db, 5000);
		if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK &&
		    sqlite3_step(s) == SQLITE_ROW)
			n = sqlite3_column_int64(s, 0);
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

static void
request(const struct e2e *e, struct jg_it_client *c, const char *method,
	const char *path, const char *const *headers, const char *body,
	struct jg_it_response *r)
{
	char *u = jg_xasprintf("%s%s", e->issuer, path);

	memset(r, 0, sizeof(*r));
	CU_ASSERT_FATAL(jg_it_request(c, method, u, headers, body,
				      body ? strlen(body) : 0, r));
	free(u);
}

static bool
has(const struct jg_it_response *r, const char *text)
{
	return r->body != NULL && strstr(r->body, text) != NULL;
}

static char *
csrf_of(const struct jg_it_response *r)
{
	static const char mark[] = "name=\"jg_csrf\" value=\"";
	const char *p = r->body ? strstr(r->body, mark) : NULL;

	if (p == NULL)
		return jg_xstrdup("");
	p += strlen(mark);
	return jg_xstrndup(p, strcspn(p, "\""));
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

static struct json_object *
body_json(const struct jg_it_response *r)
{
	struct json_object *o = NULL;

	if (r->body == NULL || jg_json_parse_object(r->body, r->body_len, &o, NULL) != JG_OK)
		return NULL;
	return o;
}

static const char *
jstr(const struct json_object *o, const char *key)
{
	struct json_object *v = o ? jg_json_get(o, key) : NULL;

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v)
							      : NULL;
}

/* A token answer: 200, JSON, no-store (RFC 6749 section 5.1). */
static struct json_object *
token_answer(struct jg_it_response *r)
{
	struct json_object *o;

	CU_ASSERT_EQUAL(r->status, 200);
	if (r->status != 200)
		fprintf(stderr, "e2e: token endpoint: %ld %s\n", r->status,
			r->body ? r->body : "");
	ASSERT_STR(jg_it_header(r, "Content-Type"), "application/json");
	ASSERT_STR(jg_it_header(r, "Cache-Control"), "no-store");
	o = body_json(r);
	CU_ASSERT_PTR_NOT_NULL(o);
	ASSERT_STR(jstr(o, "token_type"), "Bearer");
	CU_ASSERT_PTR_NOT_NULL(jstr(o, "access_token"));
	CU_ASSERT_PTR_NOT_NULL(jstr(o, "refresh_token"));
	return o;
}

/* Verifies the ID token with the JWKS the server publishes, as a relying
 * party would (OpenID Connect Core section 3.1.3.7). */
static void
check_id_token(const struct e2e *e, struct jg_it_client *c, const char *id_token)
{
	static const enum jg_alg algs[] = { JG_ALG_RS256, JG_ALG_ES256, JG_ALG_EDDSA,
					    JG_ALG_PS256 };
	static const char *const required[] = { "sub", "iat", "exp", "auth_time", NULL };
	struct jg_claims_policy policy;
	struct jg_it_response r;
	struct jg_jwks *keys = NULL;
	struct jg_jwt *jwt = NULL;
	const char *why = NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(id_token);
	request(e, c, "GET", "/.well-known/jwks.json", NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_EQUAL_FATAL(jg_jwks_parse(r.body, r.body_len, &keys, &why), JG_OK);
	jg_it_response_clear(&r);
	memset(&policy, 0, sizeof(policy));
	policy.now = time(NULL);
	policy.leeway = 5;
	policy.iss = e->issuer;
	policy.aud = "web";
	policy.typ = JG_TYP_ID;
	policy.typ_optional = true;
	policy.required = required;
	CU_ASSERT_EQUAL(jg_jwt_verify(id_token, strlen(id_token), keys, algs,
				      sizeof(algs) / sizeof(algs[0]), &policy, &jwt, &why),
			JG_OK);
	if (jwt) {
		ASSERT_STR(jstr(jwt->claims, "sub"), "sub-alice");
		ASSERT_STR(jstr(jwt->claims, "nonce"), "e2e-nonce");
	}
	jg_jwt_free(jwt);
	jg_jwks_free(keys);
}

/* ------------------------------------------------------------ the flow */

static void
flow(enum jg_it_kind kind)
{
	static const char *const form_h[] = {
		"Content-Type: application/x-www-form-urlencoded", NULL
	};
	struct e2e e;
	struct jg_it_client *c;
	struct jg_it_response r;
	struct json_object *tok = NULL, *tok2 = NULL, *o;
	const char *tok_h[3], *loc;
	char *csrf, *form, *exchange, *code, *v, *bearer, *rt1, *rt2;

	CU_ASSERT_TRUE_FATAL(e2e_start(&e, kind));
	c = jg_it_client_new();

	/* 1. The authorization request: the login form. */
	request(&e, c, "GET", "/oauth/authorize?" QUERY, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	ASSERT_STR(jg_it_header(&r, "Content-Type"), "text/html; charset=utf-8");
	ASSERT_STR(jg_it_header(&r, "X-Frame-Options"), "DENY");
	ASSERT_STR(jg_it_header(&r, "Cache-Control"), "no-store");
	CU_ASSERT_PTR_NULL(jg_it_header(&r, "Location"));
	CU_ASSERT(has(&r, "Sign in"));
	CU_ASSERT(has(&r, "Example App"));
	csrf = csrf_of(&r);
	CU_ASSERT(strlen(csrf) >= 32);
	jg_it_response_clear(&r);

	/* 2. The credentials without the CSRF token: refused, no session. */
	request(&e, c, "POST", "/oauth/authorize", form_h,
		QUERY "&jg_action=login&username=alice&password=correct+horse+battery+staple",
		&r);
	CU_ASSERT_EQUAL(r.status, 403);
	CU_ASSERT_PTR_NULL(jg_it_header(&r, "Location"));
	jg_it_response_clear(&r);
	CU_ASSERT_EQUAL(count(&e, "SELECT count(*) FROM sessions"), 0);

	/* 3. With it: a session, then the consent page (web is not
	 * first-party). */
	form = jg_xasprintf("%s&jg_action=login&jg_csrf=%s&username=alice"
			    "&password=correct+horse+battery+staple", QUERY, csrf);
	request(&e, c, "POST", "/oauth/authorize", form_h, form, &r);
	free(form);
	free(csrf);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT(has(&r, "value=\"allow\""));
	CU_ASSERT(has(&r, "value=\"deny\""));
	v = jg_it_cookie(c, "jg_session");
	CU_ASSERT(v != NULL && strlen(v) == 43);
	free(v);
	CU_ASSERT_EQUAL(count(&e, "SELECT count(*) FROM sessions WHERE sub = 'sub-alice'"), 1);
	CU_ASSERT_EQUAL(count(&e, "SELECT count(*) FROM consents"), 0);
	csrf = csrf_of(&r);
	jg_it_response_clear(&r);

	/* 4. Allow: 303 to the redirect URI with code, state and iss
	 * (RFC 9207). */
	form = jg_xasprintf("%s&jg_action=allow&jg_csrf=%s", QUERY, csrf);
	request(&e, c, "POST", "/oauth/authorize", form_h, form, &r);
	free(form);
	free(csrf);
	CU_ASSERT_EQUAL(r.status, 303);
	loc = jg_it_header(&r, "Location");
	CU_ASSERT(loc != NULL && strncmp(loc, WEB_CB "?code=", strlen(WEB_CB "?code=")) == 0);
	v = loc_param(&r, "state");
	ASSERT_STR(v, "e2e-state");
	free(v);
	v = loc_param(&r, "iss");
	ASSERT_STR(v, e.issuer);
	free(v);
	code = loc_param(&r, "code");
	jg_it_response_clear(&r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(code);
	CU_ASSERT(count(&e, "SELECT count(*) FROM consents WHERE client_id = 'web'") > 0);
	CU_ASSERT_EQUAL(count(&e, "SELECT count(*) FROM codes WHERE used_at IS NULL"), 1);

	/* 5. The token exchange with the RFC 7636 appendix B verifier. */
	tok_h[0] = e.basic;
	tok_h[1] = "Content-Type: application/x-www-form-urlencoded";
	tok_h[2] = NULL;
	exchange = jg_xasprintf("grant_type=authorization_code&code=%s&redirect_uri=%s"
				"&code_verifier=%s", code, WEB_CB_ENC, VERIFIER);
	request(&e, c, "POST", "/oauth/token", tok_h, exchange, &r);
	tok = token_answer(&r);
	jg_it_response_clear(&r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tok);
	ASSERT_STR(jstr(tok, "scope"), "openid profile email offline_access api:read");
	check_id_token(&e, c, jstr(tok, "id_token"));

	/* 6. The API with the access token. */
	bearer = jg_xasprintf("Authorization: Bearer %s", jstr(tok, "access_token"));
	{
		const char *h[2] = { bearer, NULL };

		request(&e, c, "GET", "/api/me", h, NULL, &r);
		CU_ASSERT_EQUAL(r.status, 200);
		o = body_json(&r);
		ASSERT_STR(jstr(o, "sub"), "sub-alice");
		json_object_put(o);
		jg_it_response_clear(&r);
		request(&e, c, "GET", "/api/me", NULL, NULL, &r);
		CU_ASSERT_EQUAL(r.status, 401);
		ASSERT_STR(jg_it_header(&r, "WWW-Authenticate"), "Bearer realm=\"jwtgate\"");
		jg_it_response_clear(&r);

		/* 7. userinfo (OpenID Connect Core section 5.3). */
		request(&e, c, "GET", "/oauth/userinfo", h, NULL, &r);
		CU_ASSERT_EQUAL(r.status, 200);
		o = body_json(&r);
		ASSERT_STR(jstr(o, "sub"), "sub-alice");
		ASSERT_STR(jstr(o, "name"), "Alice Example");
		ASSERT_STR(jstr(o, "email"), "alice@example.org");
		json_object_put(o);
		jg_it_response_clear(&r);
	}

	/* 8. Refresh: a new refresh token, the old one rotated out. */
	rt1 = jg_xstrdup(jstr(tok, "refresh_token"));
	form = jg_xasprintf("grant_type=refresh_token&refresh_token=%s", rt1);
	request(&e, c, "POST", "/oauth/token", tok_h, form, &r);
	free(form);
	tok2 = token_answer(&r);
	jg_it_response_clear(&r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tok2);
	rt2 = jg_xstrdup(jstr(tok2, "refresh_token") ? jstr(tok2, "refresh_token") : "");
	CU_ASSERT(strcmp(rt1, rt2) != 0);
	CU_ASSERT(strcmp(jstr(tok, "access_token"), jstr(tok2, "access_token")) != 0);
	CU_ASSERT_EQUAL(count(&e, "SELECT count(*) FROM refresh_tokens WHERE rotated_at IS NOT NULL"), 1);
	CU_ASSERT_EQUAL(count(&e, "SELECT count(*) FROM refresh_tokens WHERE rotated_at IS NULL"), 1);
	{
		char *b2 = jg_xasprintf("Authorization: Bearer %s", jstr(tok2, "access_token"));
		const char *h[2] = { b2, NULL };

		request(&e, c, "GET", "/api/me", h, NULL, &r);
		CU_ASSERT_EQUAL(r.status, 200);
		jg_it_response_clear(&r);
		free(b2);
	}

	/* 9. Revoke the current refresh token (RFC 7009): 200, and the whole
	 * family is revoked. */
	form = jg_xasprintf("token=%s&token_type_hint=refresh_token", rt2);
	request(&e, c, "POST", "/oauth/revoke", tok_h, form, &r);
	free(form);
	CU_ASSERT_EQUAL(r.status, 200);
	jg_it_response_clear(&r);
	CU_ASSERT_EQUAL(count(&e, "SELECT count(*) FROM families WHERE revoked_at IS NOT NULL"), 1);

	/* 10. The revoked refresh token, and the rotated one, are refused. */
	form = jg_xasprintf("grant_type=refresh_token&refresh_token=%s", rt2);
	request(&e, c, "POST", "/oauth/token", tok_h, form, &r);
	free(form);
	CU_ASSERT_EQUAL(r.status, 400);
	o = body_json(&r);
	ASSERT_STR(jstr(o, "error"), "invalid_grant");
	json_object_put(o);
	jg_it_response_clear(&r);
	form = jg_xasprintf("grant_type=refresh_token&refresh_token=%s", rt1);
	request(&e, c, "POST", "/oauth/token", tok_h, form, &r);
	free(form);
	CU_ASSERT_EQUAL(r.status, 400);
	jg_it_response_clear(&r);
	free(rt1);
	free(rt2);
	/* The code is single-use (its replay comes last: it revokes what
	 * the code gave, RFC 6749 section 4.1.2). */
	request(&e, c, "POST", "/oauth/token", tok_h, exchange, &r);
	CU_ASSERT_EQUAL(r.status, 400);
	o = body_json(&r);
	ASSERT_STR(jstr(o, "error"), "invalid_grant");
	json_object_put(o);
	jg_it_response_clear(&r);
	free(exchange);
	free(code);

	/* 11. Logout with the registered post-logout URI. */
	CU_ASSERT_EQUAL(count(&e, "SELECT count(*) FROM sessions"), 1);
	request(&e, c, "GET", "/oauth/logout?client_id=web&post_logout_redirect_uri="
		"https%3A%2F%2Fapp.example%2Fbye&state=bye-1", NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 302);
	ASSERT_STR(jg_it_header(&r, "Location"), "https://app.example/bye?state=bye-1");
	ASSERT_STR(jg_it_header(&r, "Set-Cookie"),
		   "jg_session=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax");
	jg_it_response_clear(&r);

	/* 12. The session is gone: prompt=none answers login_required, and
	 * a plain request shows the login form again. */
	request(&e, c, "GET", "/oauth/authorize?" QUERY "&prompt=none", NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 302);
	v = loc_param(&r, "error");
	ASSERT_STR(v, "login_required");
	free(v);
	jg_it_response_clear(&r);
	request(&e, c, "GET", "/oauth/authorize?" QUERY, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT(has(&r, "name=\"password\""));
	jg_it_response_clear(&r);

	/* The database at the end. */
	CU_ASSERT_EQUAL(count(&e, "SELECT count(*) FROM sessions"), 0);
	CU_ASSERT_EQUAL(count(&e, "SELECT count(*) FROM codes"), 1);
	CU_ASSERT_EQUAL(count(&e, "SELECT count(*) FROM codes WHERE used_at IS NOT NULL "
				  "AND issued = 1"), 1);
	CU_ASSERT_EQUAL(count(&e, "SELECT count(*) FROM families"), 1);
	CU_ASSERT_EQUAL(count(&e, "SELECT count(*) FROM families WHERE revoked_at IS NULL"), 0);
	CU_ASSERT_EQUAL(count(&e, "SELECT count(*) FROM refresh_tokens"), 2);
	CU_ASSERT_EQUAL(count(&e, "SELECT count(*) FROM login_failures"), 0);
	CU_ASSERT(count(&e, "SELECT count(*) FROM consents WHERE sub = 'sub-alice' "
			    "AND client_id = 'web'") > 0);

	free(bearer);
	json_object_put(tok);
	json_object_put(tok2);
	jg_it_client_free(c);
	CU_ASSERT_TRUE(e2e_stop(&e));
}

static void
test_lighttpd(void)
{
	flow(JG_IT_LIGHTTPD);
}

static void
test_apache(void)
{
	flow(JG_IT_APACHE);
}

/* ------------------------------------------------------------ OIDC driver */

static int
oidc_client(const char *script)
{
	struct e2e e;
	char *cb;
	int rc;

	if (!e2e_start(&e, JG_IT_LIGHTTPD)) {
		fprintf(stderr, "e2e: the instance did not start\n");
		e2e_stop(&e);
		return 99;
	}
	cb = jg_xstrdup(WEB_CB);
	{
		const char *argv[] = { "/usr/bin/python3", script, e.issuer, "web", WEB_SECRET,
				       cb, "alice", PASSWORD, NULL };
		pid_t pid = jg_it_spawn(argv, NULL);

		rc = pid > 0 ? jg_it_wait(pid, 120000) : 99;
	}
	if (rc == 0 && count(&e, "SELECT count(*) FROM codes WHERE used_at IS NOT NULL") != 1) {
		fprintf(stderr, "e2e: the code was not redeemed once\n");
		rc = 1;
	}
	free(cb);
	if (!e2e_stop(&e) && rc == 0)
		rc = 1;
	return rc < 0 ? 99 : rc;
}

int
main(int argc, char **argv)
{
	static const struct jg_test tests[] = {
		{ "the whole flow through lighttpd", test_lighttpd },
		{ "the whole flow through Apache with mod_fcgid", test_apache },
		{ NULL, NULL }
	};

	if (argc == 3 && strcmp(argv[1], "--oidc-client") == 0)
		return oidc_client(argv[2]);
	return jg_test_main("e2e", tests);
}
