/* test_token.c: token.fcgi behind a real lighttpd: every rule of the token,
 * revocation and introspection endpoints (RFC 6749, 7636, 7009, 7662,
 * 9068, 9700, OpenID Connect Core), with the database checked after each
 * step, the published discovery document and JWKS, and every issued access
 * and ID token verified by an independent implementation (Debian's
 * python3-jwt, PyJWT) against the JWKS the web server serves. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "testutil.h"
#include "b64url.h"
#include "conf.h"
#include "http.h"
#include "json.h"
#include "jws.h"
#include "keyring.h"
#include "oauth.h"
#include "store.h"
#include "token.h"
#include "util.h"

/* An http issuer is allowed for a loopback host.  The port of the web
 * server is only known once it runs, after the programs read their
 * configuration, so the issuer has none; requests go to the server URL. */
#define ISSUER "http://127.0.0.1"

#define APP_SECRET "app-secret-0123456789-abcdefghijklmnopqrstuvwxyz"
#define OTHER_SECRET "other-secret-0123456789-abcdefghijklmnopqrstuvw"
#define RS_SECRET "rs-secret-0123456789-abcdefghijklmnopqrstuvwxyz0"
#define QUICK_SECRET "quick-secret-0123456789-abcdefghijklmnopqrstuvw"
#define WEIRD_ID "weird client:1"
#define WEIRD_SECRET "weird secret+%:0123456789-abcdefghijklmnopqrstuv"

/* RFC 7636 appendix B. */
#define VERIFIER "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
#define CHALLENGE "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

#define APP_CB "https://app.example/cb"
#define APP_CB_ENC "https%3A%2F%2Fapp.example%2Fcb"
#define SPA_CB "https://spa.example/cb"
#define QUICK_CB "https://quick.example/cb"
#define TWO_SECRET "two-secret-0123456789-abcdefghijklmnopqrstuvwxyz"
#define TWO_CB1 "https://two.example/cb1"
#define ESID_SECRET "esid-secret-0123456789-abcdefghijklmnopqrstuvwx"
#define ESID_CB "https://esid.example/cb"

/* Shared by the tests of this suite, which run in order: the first sets up
 * the instance and starts lighttpd, the last stops it (the harness cleans
 * up at exit if a test dies). */
static struct {
	const char *dir;
	struct jg_config *config;
	struct jg_store *store;		/* the test's own handle, for assertions */
	struct jg_keyring *ring;
	struct jg_it_server *lt;
	struct jg_it_client *client;
	char *b_app, *b_other, *b_rs, *b_quick, *b_weird, *b_two;
	/* Every issued token, for the independent verifier. */
	struct json_object *issued;	/* [{"kind":"access"|"id","token":..,"aud":..}] */
} t;

#define ASSERT_STR(actual, expected) \
	CU_ASSERT_STRING_EQUAL((actual) ? (actual) : "(null)", (expected))

static const char *
jstr(const struct json_object *obj, const char *key)
{
	const char *v = NULL;

	if (obj == NULL || !jg_json_get_string(obj, key, &v))
		return NULL;
	return v;
}

static int64_t
jint(const struct json_object *obj, const char *key)
{
	int64_t v = -1;

	if (obj == NULL || !jg_json_get_int64(obj, key, &v))
		return -1;
	return v;
}

static char *
basic(const char *id, const char *secret)
{
	char *eid = jg_url_encode(id), *esec = jg_url_encode(secret);
	char *plain = jg_xasprintf("%s:%s", eid, esec);
	char *b64 = jg_b64std_encode(plain, strlen(plain));
	char *out = jg_xasprintf("Authorization: Basic %s", b64);

	free(eid);
	free(esec);
	free(plain);
	free(b64);
	return out;
}

/* One answer of the server: status, headers and the body parsed as JSON. */
struct answer {
	struct jg_it_response r;
	struct json_object *json;
};

static void
answer_clear(struct answer *a)
{
	jg_it_response_clear(&a->r);
	json_object_put(a->json);
	a->json = NULL;
}

/* POSTs a form body to path with an optional Authorization header line.
 * Successful token answers are remembered for the independent check. */
static long
post(const char *path, const char *auth_header, const char *body,
     struct answer *a)
{
	const char *headers[3] = { NULL, NULL, NULL };
	char *url = jg_xasprintf("%s%s", t.lt->url, path);
	size_t n = 0;

	if (auth_header != NULL)
		headers[n++] = auth_header;
	headers[n++] = "Content-Type: application/x-www-form-urlencoded";
	memset(a, 0, sizeof(*a));
	if (!jg_it_post(t.client, url, headers, body, &a->r))
		a->r.status = -1;
	free(url);
	if (a->r.body_len > 0)
		(void)jg_json_parse_object(a->r.body, a->r.body_len, &a->json, NULL);
	if (a->r.status == 200 && jstr(a->json, "access_token") != NULL) {
		struct json_object *e = json_object_new_object();

		json_object_object_add(e, "kind", json_object_new_string("access"));
		json_object_object_add(e, "token",
				       json_object_new_string(jstr(a->json, "access_token")));
		json_object_array_add(t.issued, e);
	}
	if (a->r.status == 200 && jstr(a->json, "id_token") != NULL) {
		struct json_object *e = json_object_new_object();

		json_object_object_add(e, "kind", json_object_new_string("id"));
		json_object_object_add(e, "token",
				       json_object_new_string(jstr(a->json, "id_token")));
		json_object_object_add(e, "access_token",
				       json_object_new_string(jstr(a->json, "access_token")));
		json_object_array_add(t.issued, e);
	}
	return a->r.status;
}

static void
assert_error(const struct answer *a, long status, const char *error)
{
	CU_ASSERT_EQUAL(a->r.status, status);
	if (a->r.status != status)
		fprintf(stderr, "expected %ld %s, got %ld: %s\n", status, error,
			a->r.status, a->r.body);
	ASSERT_STR(jstr(a->json, "error"), error);
	ASSERT_STR(jg_it_header(&a->r, "Content-Type"), "application/json");
	ASSERT_STR(jg_it_header(&a->r, "Cache-Control"), "no-store");
	/* RFC 6749 section 5.2: 401 with the Basic challenge only for a
	 * client that used the Authorization header. */
	if (status == 401) {
		ASSERT_STR(jg_it_header(&a->r, "WWW-Authenticate"), "Basic realm=\"jwtgate\"");
	} else {
		CU_ASSERT_PTR_NULL(jg_it_header(&a->r, "WWW-Authenticate"));
	}
}

static void
assert_tokens(const struct answer *a)
{
	CU_ASSERT_EQUAL(a->r.status, 200);
	if (a->r.status != 200)
		fprintf(stderr, "expected 200, got %ld: %s\n", a->r.status, a->r.body);
	ASSERT_STR(jg_it_header(&a->r, "Cache-Control"), "no-store");
	ASSERT_STR(jg_it_header(&a->r, "Pragma"), "no-cache");
	ASSERT_STR(jstr(a->json, "token_type"), "Bearer");
	CU_ASSERT_PTR_NOT_NULL(jstr(a->json, "access_token"));
}

static void
add_client(const char *id, const char *secret, const char *redirect,
	   const char *grants, const char *scopes, int64_t idle, int64_t absolute)
{
	struct jg_client c;
	char *uris[1];

	memset(&c, 0, sizeof(c));
	c.client_id = (char *)(uintptr_t)id;
	if (secret != NULL)
		CU_ASSERT_EQUAL_FATAL(jg_client_secret_hash(secret, &c.secret_hash), JG_OK);
	uris[0] = (char *)(uintptr_t)redirect;
	c.redirect_uris = uris;
	c.n_redirect_uris = 1;
	c.grant_types = (char *)(uintptr_t)grants;
	c.scopes = (char *)(uintptr_t)scopes;
	c.refresh_idle_lifetime = idle;
	c.refresh_absolute_lifetime = absolute;
	CU_ASSERT_EQUAL_FATAL(jg_store_client_add(t.store, &c, time(NULL)), JG_OK);
	free(c.secret_hash);
}

/* Stores a code as authorize.fcgi would after a login; omitted says the
 * authorization request had left redirect_uri out. */
static void
put_code_ex(const char *code, const char *client, const char *redirect,
	    bool omitted, const char *scope, const char *nonce,
	    const char *challenge)
{
	struct jg_code c;
	int64_t now = time(NULL);

	memset(&c, 0, sizeof(c));
	c.redirect_uri_omitted = omitted;
	c.client_id = (char *)(uintptr_t)client;
	c.redirect_uri = (char *)(uintptr_t)redirect;
	c.sub = (char *)(uintptr_t)"sub-alice";
	c.scope = (char *)(uintptr_t)scope;
	c.nonce = (char *)(uintptr_t)nonce;
	c.code_challenge = (char *)(uintptr_t)challenge;
	c.code_challenge_method = (char *)(uintptr_t)(challenge ? "S256" : NULL);
	c.auth_time = now - 10;
	c.created = now;
	c.expires = now + 60;
	CU_ASSERT_EQUAL_FATAL(jg_store_code_insert(t.store, code, &c), JG_OK);
}

/* The same for an authorization request that had a redirect_uri. */
static void
put_code(const char *code, const char *client, const char *redirect,
	 const char *scope, const char *nonce, const char *challenge)
{
	put_code_ex(code, client, redirect, false, scope, nonce, challenge);
}

/* The database: whether a code is still unused (redeeming it to see). */
static bool
code_unused(const char *code)
{
	struct jg_code *c = NULL;
	struct jg_code_replay r;
	enum jg_err err = jg_store_code_redeem(t.store, code, time(NULL), &c, &r);

	jg_code_free(c);
	jg_code_replay_clear(&r);
	return err == JG_OK;
}

/* The database: the refresh token's row (caller frees), or NULL. */
static struct jg_refresh *
rt_row(const char *rt)
{
	struct jg_refresh *r = NULL;

	if (rt == NULL || jg_store_refresh_lookup(t.store, rt, time(NULL), &r) != JG_OK)
		return NULL;
	return r;
}

static bool
rt_active(const char *rt)
{
	struct jg_refresh *r = rt_row(rt);
	bool active = r != NULL && r->active;

	jg_refresh_free(r);
	return active;
}

/* The database: whether the access token's jti is on the deny list. */
static bool
at_denied(const char *access_token)
{
	struct jg_jws *jws = NULL;
	struct json_object *claims = NULL;
	const char *jti;
	bool revoked = false;

	if (access_token == NULL ||
	    jg_jws_decode(access_token, strlen(access_token), &jws, NULL) != JG_OK)
		return false;
	if (jg_json_parse_object((const char *)jws->payload, jws->payload_len,
				 &claims, NULL) == JG_OK &&
	    jg_json_get_string(claims, "jti", &jti))
		CU_ASSERT_EQUAL(jg_store_jti_is_revoked(t.store, jti, &revoked), JG_OK);
	json_object_put(claims);
	jg_jws_free(jws);
	return revoked;
}

/* Introspects token as the resource server's client. */
static void
introspect(const char *token, struct answer *a)
{
	char *enc = jg_url_encode(token), *body = jg_xasprintf("token=%s", enc);

	post("/oauth/introspect", t.b_rs, body, a);
	free(enc);
	free(body);
}

static void
assert_inactive(const char *token)
{
	struct answer a;

	introspect(token, &a);
	CU_ASSERT_EQUAL(a.r.status, 200);
	ASSERT_STR(a.r.body, "{\"active\":false}");
	answer_clear(&a);
}

/* ------------------------------------------------------------ setup */

static void
test_start(void)
{
	struct jg_it_program program;
	struct jg_it_server_opts opts;
	char *path, *errmsg = NULL, *env_conf, *bin, *saved;
	const char *env[2];
	struct jg_user u;
	FILE *f;

	t.issued = json_object_new_array();
	t.dir = jg_it_tempdir();
	CU_ASSERT_PTR_NOT_NULL_FATAL(t.dir);
	path = jg_xasprintf("%s/jwtgate.conf", t.dir);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL_FATAL(jg_config_write_template(f, ISSUER, t.dir), JG_OK);
	CU_ASSERT_EQUAL_FATAL(fclose(f), 0);
	CU_ASSERT_EQUAL_FATAL(jg_config_load(path, &t.config, &errmsg), JG_OK);
	CU_ASSERT_EQUAL_FATAL(mkdir(t.config->key_dir, 0700), 0);

	/* Keys: current ES256 access and RS256 ID keys, and a next access key
	 * that the JWKS must publish before it signs anything. */
	t.ring = jg_keyring_new(t.config->key_dir);
	CU_ASSERT_EQUAL_FATAL(jg_keyring_rotate(t.ring, JG_KEY_ACCESS, JG_ALG_UNKNOWN,
		t.config->access_token_alg, time(NULL), NULL, &errmsg), JG_OK);
	CU_ASSERT_EQUAL_FATAL(jg_keyring_rotate(t.ring, JG_KEY_ID, JG_ALG_UNKNOWN,
		t.config->id_token_alg, time(NULL), NULL, &errmsg), JG_OK);
	CU_ASSERT_EQUAL_FATAL(jg_keyring_generate(t.ring, JG_ALG_EDDSA, JG_KEY_ACCESS,
		time(NULL), NULL, &errmsg), JG_OK);
	/* A current ES256 ID key for the client that asks for it (issue 5
	 * point 3: another algorithm per client). */
	CU_ASSERT_EQUAL_FATAL(jg_keyring_rotate(t.ring, JG_KEY_ID, JG_ALG_ES256,
		t.config->id_token_alg, time(NULL), NULL, &errmsg), JG_OK);

	CU_ASSERT_EQUAL_FATAL(jg_store_open(t.config->database, 5000, &t.store,
					    &errmsg), JG_OK);
	memset(&u, 0, sizeof(u));
	u.sub = (char *)(uintptr_t)"sub-alice";
	u.username = (char *)(uintptr_t)"alice";
	u.password_hash = (char *)(uintptr_t)"$y$j9T$unused$unused";
	CU_ASSERT_EQUAL_FATAL(jg_store_user_add(t.store, &u, time(NULL)), JG_OK);
	add_client("app", APP_SECRET, APP_CB,
		   "authorization_code refresh_token client_credentials",
		   "openid profile offline_access api:read api:write", 0, 0);
	add_client("spa", NULL, SPA_CB, "authorization_code",
		   "openid offline_access api:read", 0, 0);
	add_client("other", OTHER_SECRET, "https://other.example/cb",
		   "authorization_code refresh_token", "openid api:read", 0, 0);
	add_client("rs", RS_SECRET, "https://rs.example/cb", "", "", 0, 0);
	add_client("quick", QUICK_SECRET, QUICK_CB, "authorization_code refresh_token",
		   "api:read", 3, 5);
	add_client(WEIRD_ID, WEIRD_SECRET, "https://w.example/cb", "client_credentials",
		   "api:read", 0, 0);
	t.b_app = basic("app", APP_SECRET);
	t.b_other = basic("other", OTHER_SECRET);
	t.b_rs = basic("rs", RS_SECRET);
	t.b_quick = basic("quick", QUICK_SECRET);
	t.b_weird = basic(WEIRD_ID, WEIRD_SECRET);
	{
		/* A client with two redirect URIs: it must always name one. */
		char *uris[2] = { (char *)(uintptr_t)TWO_CB1,
				  (char *)(uintptr_t)"https://two.example/cb2" };
		struct jg_client c;

		memset(&c, 0, sizeof(c));
		c.client_id = (char *)(uintptr_t)"two";
		CU_ASSERT_EQUAL_FATAL(jg_client_secret_hash(TWO_SECRET, &c.secret_hash), JG_OK);
		c.redirect_uris = uris;
		c.n_redirect_uris = 2;
		c.grant_types = (char *)(uintptr_t)"authorization_code";
		c.scopes = (char *)(uintptr_t)"openid api:read";
		CU_ASSERT_EQUAL_FATAL(jg_store_client_add(t.store, &c, time(NULL)), JG_OK);
		free(c.secret_hash);
	}
	t.b_two = basic("two", TWO_SECRET);
	{
		/* A client with its own ID-token algorithm. */
		char *uris[1] = { (char *)(uintptr_t)ESID_CB };
		struct jg_client c;

		memset(&c, 0, sizeof(c));
		c.client_id = (char *)(uintptr_t)"esid";
		CU_ASSERT_EQUAL_FATAL(jg_client_secret_hash(ESID_SECRET, &c.secret_hash), JG_OK);
		c.redirect_uris = uris;
		c.n_redirect_uris = 1;
		c.grant_types = (char *)(uintptr_t)"authorization_code refresh_token";
		c.scopes = (char *)(uintptr_t)"openid offline_access";
		c.id_token_alg = (char *)(uintptr_t)"ES256";
		CU_ASSERT_EQUAL_FATAL(jg_store_client_add(t.store, &c, time(NULL)), JG_OK);
		free(c.secret_hash);
	}

	bin = jg_it_build_path("cgi-bin/token.fcgi");
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

	/* Publish discovery and JWKS where this server serves static files,
	 * as `jwtgate` does into the configured htdocs. */
	saved = t.config->htdocs;
	t.config->htdocs = t.lt->htdocs;
	CU_ASSERT_EQUAL(jg_keyring_publish(t.config, t.ring, &errmsg), JG_OK);
	t.config->htdocs = saved;
	t.client = jg_it_client_new();
	free(path);
	free(env_conf);
	free(bin);
}

static void
test_stop(void)
{
	CU_ASSERT_TRUE(jg_it_server_stop(t.lt));
	jg_it_client_free(t.client);
	jg_store_close(t.store);
	jg_keyring_free(t.ring);
	jg_config_free(t.config);
	free(t.b_app);
	free(t.b_other);
	free(t.b_rs);
	free(t.b_quick);
	free(t.b_weird);
	free(t.b_two);
	json_object_put(t.issued);
}

/* ------------------------------------------------------------ discovery */

static bool
array_is(const struct json_object *obj, const char *key, const char *const *want)
{
	struct json_object *arr = jg_json_get(obj, key);
	size_t i, n;

	if (arr == NULL || !json_object_is_type(arr, json_type_array))
		return false;
	for (n = 0; want[n] != NULL; n++)
		;
	if (json_object_array_length(arr) != n)
		return false;
	for (i = 0; i < n; i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(arr, i));

		if (s == NULL || strcmp(s, want[i]) != 0)
			return false;
	}
	return true;
}

static void
test_discovery(void)
{
	static const char *const grants[] = {
		"authorization_code", "refresh_token", "client_credentials", NULL
	};
	static const char *const s256[] = { "S256", NULL };
	static const char *const id_algs[] = { "RS256", "ES256", NULL };
	static const char *const code[] = { "code", NULL };
	static const char *const auth[] = {
		"client_secret_basic", "client_secret_post", "none", NULL
	};
	static const char *const confidential[] = {
		"client_secret_basic", "client_secret_post", NULL
	};
	struct jg_it_response r;
	struct json_object *d = NULL, *jwks = NULL, *keys;
	char *url = jg_xasprintf("%s/.well-known/openid-configuration", t.lt->url);
	size_t i, found = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t.lt);
	CU_ASSERT_TRUE_FATAL(jg_it_get(t.client, url, NULL, &r));
	free(url);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_EQUAL(jg_json_parse_object(r.body, r.body_len, &d, NULL), JG_OK);
	jg_it_response_clear(&r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	/* RFC 8414 section 2 / OpenID Connect Discovery section 3, for what
	 * token.fcgi implements. */
	ASSERT_STR(jstr(d, "issuer"), ISSUER);
	ASSERT_STR(jstr(d, "token_endpoint"), ISSUER "/oauth/token");
	ASSERT_STR(jstr(d, "revocation_endpoint"), ISSUER "/oauth/revoke");
	ASSERT_STR(jstr(d, "introspection_endpoint"), ISSUER "/oauth/introspect");
	ASSERT_STR(jstr(d, "jwks_uri"), ISSUER "/.well-known/jwks.json");
	CU_ASSERT_TRUE(array_is(d, "grant_types_supported", grants));
	CU_ASSERT_TRUE(array_is(d, "code_challenge_methods_supported", s256));
	CU_ASSERT_TRUE(array_is(d, "response_types_supported", code));
	CU_ASSERT_TRUE(array_is(d, "token_endpoint_auth_methods_supported", auth));
	CU_ASSERT_TRUE(array_is(d, "introspection_endpoint_auth_methods_supported",
				confidential));
	CU_ASSERT_TRUE(json_object_get_boolean(jg_json_get(d,
		"authorization_response_iss_parameter_supported")));
	/* The algorithms of the current ID keys, as served (the next EdDSA
	 * access key signs nothing yet). */
	CU_ASSERT_TRUE(array_is(d, "id_token_signing_alg_values_supported", id_algs));
	/* Nothing else: the 22 members test_keyring's test_publish names. */
	CU_ASSERT_EQUAL(json_object_object_length(d), 22);
	json_object_put(d);

	/* The JWKS: every key of the ring (next included), public only. */
	url = jg_xasprintf("%s/.well-known/jwks.json", t.lt->url);
	CU_ASSERT_TRUE_FATAL(jg_it_get(t.client, url, NULL, &r));
	free(url);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_EQUAL(jg_json_parse_object(r.body, r.body_len, &jwks, NULL), JG_OK);
	jg_it_response_clear(&r);
	keys = jg_json_get(jwks, "keys");
	CU_ASSERT_FATAL(keys != NULL && json_object_is_type(keys, json_type_array));
	CU_ASSERT_EQUAL(json_object_array_length(keys), t.ring->count);
	for (i = 0; i < json_object_array_length(keys); i++) {
		struct json_object *k = json_object_array_get_idx(keys, i);

		CU_ASSERT_PTR_NULL(jg_json_get(k, "d"));
		CU_ASSERT_PTR_NULL(jg_json_get(k, "p"));
		if (jstr(k, "kid") != NULL && jg_keyring_find(t.ring, jstr(k, "kid")))
			found++;
	}
	CU_ASSERT_EQUAL(found, t.ring->count);
	json_object_put(jwks);
}

/* ------------------------------------------------------------ requests */

static void
test_request_rules(void)
{
	struct jg_it_response r;
	struct answer a;
	char *url = jg_xasprintf("%s/oauth/token", t.lt->url);
	const char *json_headers[] = { "Content-Type: application/json", NULL };

	/* Only POST (405 with Allow). */
	CU_ASSERT_TRUE(jg_it_get(t.client, url, NULL, &r));
	CU_ASSERT_EQUAL(r.status, 405);
	ASSERT_STR(jg_it_header(&r, "Allow"), "POST");
	jg_it_response_clear(&r);
	/* Only forms. */
	CU_ASSERT_TRUE(jg_it_post(t.client, url, json_headers,
				  "{\"grant_type\":\"client_credentials\"}", &r));
	CU_ASSERT_EQUAL(r.status, 400);
	jg_it_response_clear(&r);
	free(url);

	post("/oauth/token", t.b_app, "scope=api%3Aread", &a);
	assert_error(&a, 400, "invalid_request");
	answer_clear(&a);
	post("/oauth/token", t.b_app, "grant_type=password&username=alice&password=x", &a);
	assert_error(&a, 400, "unsupported_grant_type");
	answer_clear(&a);
	post("/oauth/token", t.b_app, "grant_type=client_credentials&"
	     "grant_type=client_credentials", &a);
	assert_error(&a, 400, "invalid_request");
	answer_clear(&a);
	post("/oauth/nothing-here", t.b_app, "grant_type=client_credentials", &a);
	CU_ASSERT_EQUAL(a.r.status, 404);
	answer_clear(&a);
}

static void
test_client_authentication(void)
{
	char *wrong = basic("app", "not-the-secret-0123456789-abcdefghijkl");
	struct answer a;

	/* client_secret_basic: 401 with the Basic challenge when it fails. */
	post("/oauth/token", wrong, "grant_type=client_credentials", &a);
	assert_error(&a, 401, "invalid_client");
	answer_clear(&a);
	post("/oauth/token", "Authorization: Basic bm90LWJhc2U2NA", "grant_type=client_credentials", &a);
	assert_error(&a, 401, "invalid_client");
	answer_clear(&a);
	/* client_secret_post. */
	post("/oauth/token", NULL, "grant_type=client_credentials&client_id=app&"
	     "client_secret=wrong", &a);
	assert_error(&a, 400, "invalid_client");
	answer_clear(&a);
	post("/oauth/token", NULL, "grant_type=client_credentials&client_id=app&"
	     "client_secret=" APP_SECRET, &a);
	assert_tokens(&a);
	answer_clear(&a);
	/* RFC 6749 section 2.3.1: id and secret form-url-encoded in Basic. */
	post("/oauth/token", t.b_weird, "grant_type=client_credentials", &a);
	assert_tokens(&a);
	answer_clear(&a);
	/* Two methods at once. */
	post("/oauth/token", t.b_app, "grant_type=client_credentials&client_secret="
	     APP_SECRET, &a);
	assert_error(&a, 400, "invalid_request");
	answer_clear(&a);
	/* A public client cannot use client_credentials. */
	post("/oauth/token", NULL, "grant_type=client_credentials&client_id=spa", &a);
	assert_error(&a, 400, "unauthorized_client");
	answer_clear(&a);
	free(wrong);
}

static void
test_client_credentials(void)
{
	struct answer a;
	struct jg_jws *jws = NULL;
	struct json_object *claims = NULL;

	post("/oauth/token", t.b_app, "grant_type=client_credentials&scope=api%3Aread", &a);
	assert_tokens(&a);
	ASSERT_STR(jstr(a.json, "scope"), "api:read");
	CU_ASSERT_EQUAL(jint(a.json, "expires_in"), 600);
	CU_ASSERT_PTR_NULL(jg_json_get(a.json, "refresh_token"));
	CU_ASSERT_PTR_NULL(jg_json_get(a.json, "id_token"));
	CU_ASSERT_EQUAL_FATAL(jg_jws_decode(jstr(a.json, "access_token"),
		strlen(jstr(a.json, "access_token")), &jws, NULL), JG_OK);
	CU_ASSERT_EQUAL(jg_json_parse_object((const char *)jws->payload,
					     jws->payload_len, &claims, NULL), JG_OK);
	ASSERT_STR(jstr(claims, "sub"), "app");
	ASSERT_STR(jstr(claims, "client_id"), "app");
	json_object_put(claims);
	jg_jws_free(jws);
	answer_clear(&a);
	post("/oauth/token", t.b_app, "grant_type=client_credentials&scope=openid", &a);
	assert_error(&a, 400, "invalid_scope");
	answer_clear(&a);
}

/* ------------------------------------------------------------ codes */

static void
test_code_rules(void)
{
	static const struct {
		const char *what, *client, *redirect, *challenge;
		const char *auth_header_of;	/* "app", "other" or NULL (public spa) */
		const char *params;		/* what the request adds */
		long status;
		const char *error;
		bool used_up;
	} cases[] = {
		{ "redirect_uri differs", "app", APP_CB, CHALLENGE, "app",
		  "&redirect_uri=https%3A%2F%2Fapp.example%2Fother&code_verifier=" VERIFIER,
		  400, "invalid_grant", true },
		{ "another client", "app", APP_CB, CHALLENGE, "other",
		  "&redirect_uri=" APP_CB_ENC "&code_verifier=" VERIFIER,
		  400, "invalid_grant", true },
		{ "PKCE verifier does not match", "spa", SPA_CB, CHALLENGE, NULL,
		  "&client_id=spa&redirect_uri=https%3A%2F%2Fspa.example%2Fcb&code_verifier="
		  "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj", 400, "invalid_grant", true },
		{ "PKCE verifier missing", "spa", SPA_CB, CHALLENGE, NULL,
		  "&client_id=spa&redirect_uri=https%3A%2F%2Fspa.example%2Fcb",
		  400, "invalid_grant", true },
		{ "verifier for a code without challenge", "app", APP_CB, NULL, "app",
		  "&redirect_uri=" APP_CB_ENC "&code_verifier=" VERIFIER,
		  400, "invalid_grant", true },
		{ "public client without PKCE", "spa", SPA_CB, NULL, NULL,
		  "&client_id=spa&redirect_uri=https%3A%2F%2Fspa.example%2Fcb",
		  400, "invalid_grant", true },
		{ "redirect_uri missing, client has two", "two", TWO_CB1, CHALLENGE, "two",
		  "&code_verifier=" VERIFIER, 400, "invalid_request", false },
	};
	struct answer a;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *code = jg_xasprintf("it-rule-code-%zu-0123456789", i);
		char *body = jg_xasprintf("grant_type=authorization_code&code=%s%s", code,
					  cases[i].params);
		const char *hdr = cases[i].auth_header_of == NULL ? NULL :
			strcmp(cases[i].auth_header_of, "app") == 0 ? t.b_app :
			strcmp(cases[i].auth_header_of, "two") == 0 ? t.b_two : t.b_other;

		put_code(code, cases[i].client, cases[i].redirect, "openid offline_access",
			 NULL, cases[i].challenge);
		post("/oauth/token", hdr, body, &a);
		if (a.r.status != cases[i].status)
			fprintf(stderr, "case failed: %s\n", cases[i].what);
		assert_error(&a, cases[i].status, cases[i].error);
		/* The database: used up by a redemption attempt, untouched by
		 * a request refused before. */
		CU_ASSERT_EQUAL(code_unused(code), !cases[i].used_up);
		answer_clear(&a);
		free(body);
		free(code);
	}

	/* RFC 6749 section 4.1.3 and OpenID Connect Core 1.0 section
	 * 3.1.3.2: a client with one registered URI that left redirect_uri
	 * out of the authorization request (authorize.fcgi then binds the
	 * code to that URI) may leave it out here too. */
	put_code_ex("it-rule-code-omitted-0123456789", "app", APP_CB, true,
		    "api:read", NULL, CHALLENGE);
	post("/oauth/token", t.b_app, "grant_type=authorization_code&code="
	     "it-rule-code-omitted-0123456789&code_verifier=" VERIFIER, &a);
	assert_tokens(&a);
	ASSERT_STR(jstr(a.json, "scope"), "api:read");
	answer_clear(&a);
	CU_ASSERT_FALSE(code_unused("it-rule-code-omitted-0123456789"));

	/* But when the authorization request had it, it is REQUIRED here
	 * (RFC 6749 section 4.1.3), although app has one URI; the code was
	 * reached, so it is used up. */
	put_code("it-rule-code-had-uri-0123456789", "app", APP_CB, "api:read", NULL,
		 CHALLENGE);
	post("/oauth/token", t.b_app, "grant_type=authorization_code&code="
	     "it-rule-code-had-uri-0123456789&code_verifier=" VERIFIER, &a);
	assert_error(&a, 400, "invalid_request");
	answer_clear(&a);
	CU_ASSERT_FALSE(code_unused("it-rule-code-had-uri-0123456789"));
}

static void
test_code_and_replay(void)
{
	struct answer a, b;
	struct jg_refresh *row;
	const char *body = "grant_type=authorization_code&code=it-code-0123456789abcdef&"
		"redirect_uri=" APP_CB_ENC "&code_verifier=" VERIFIER;

	put_code("it-code-0123456789abcdef", "app", APP_CB,
		 "openid offline_access api:read", "n-0S6_WzA2Mj", CHALLENGE);
	post("/oauth/token", t.b_app, body, &a);
	assert_tokens(&a);
	ASSERT_STR(jstr(a.json, "scope"), "openid offline_access api:read");
	CU_ASSERT_EQUAL(jint(a.json, "expires_in"), 600);
	CU_ASSERT_PTR_NOT_NULL(jstr(a.json, "id_token"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(jstr(a.json, "refresh_token"));
	/* The database: one active family for app and alice. */
	row = rt_row(jstr(a.json, "refresh_token"));
	CU_ASSERT_PTR_NOT_NULL(row);
	if (row != NULL) {
		CU_ASSERT_TRUE(row->active);
		ASSERT_STR(row->client_id, "app");
		ASSERT_STR(row->sub, "sub-alice");
		ASSERT_STR(row->scope, "openid offline_access api:read");
	}
	jg_refresh_free(row);
	CU_ASSERT_FALSE(at_denied(jstr(a.json, "access_token")));

	/* The replay: invalid_grant, and what the code issued is revoked. */
	post("/oauth/token", t.b_app, body, &b);
	assert_error(&b, 400, "invalid_grant");
	answer_clear(&b);
	CU_ASSERT_FALSE(rt_active(jstr(a.json, "refresh_token")));
	CU_ASSERT_TRUE(at_denied(jstr(a.json, "access_token")));
	assert_inactive(jstr(a.json, "access_token"));
	answer_clear(&a);
}

/* ------------------------------------------------------------ refresh */

static char *
grant_with_refresh(const char *code, const char *client_hdr, const char *client,
		   const char *redirect, const char *redirect_enc, const char *scope)
{
	struct answer a;
	char *rt = NULL;
	char *body = jg_xasprintf("grant_type=authorization_code&code=%s&"
				  "redirect_uri=%s&code_verifier=" VERIFIER, code,
				  redirect_enc);

	put_code(code, client, redirect, scope, NULL, CHALLENGE);
	post("/oauth/token", client_hdr, body, &a);
	assert_tokens(&a);
	if (jstr(a.json, "refresh_token") != NULL)
		rt = jg_xstrdup(jstr(a.json, "refresh_token"));
	answer_clear(&a);
	free(body);
	return rt;
}

static long
refresh(const char *hdr, const char *rt, const char *scope, struct answer *a)
{
	char *enc = scope ? jg_url_encode(scope) : NULL;
	char *body = jg_xasprintf("grant_type=refresh_token&refresh_token=%s%s%s", rt,
				  enc ? "&scope=" : "", enc ? enc : "");
	long status = post("/oauth/token", hdr, body, a);

	free(enc);
	free(body);
	return status;
}

static void
test_refresh(void)
{
	struct answer a;
	struct jg_refresh *r1, *r2;
	char *rt1, *rt2, *rt3;

	rt1 = grant_with_refresh("it-refresh-code-0123456", t.b_app, "app", APP_CB,
				 APP_CB_ENC, "openid offline_access api:read api:write");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rt1);

	/* Rotation. */
	refresh(t.b_app, rt1, NULL, &a);
	assert_tokens(&a);
	rt2 = jg_xstrdup(jstr(a.json, "refresh_token") ? jstr(a.json, "refresh_token") : "");
	CU_ASSERT_STRING_NOT_EQUAL(rt1, rt2);
	answer_clear(&a);
	r1 = rt_row(rt1);
	r2 = rt_row(rt2);
	CU_ASSERT(r1 != NULL && r2 != NULL);
	if (r1 != NULL && r2 != NULL) {
		CU_ASSERT_FALSE(r1->active);
		CU_ASSERT_NOT_EQUAL(r1->rotated_at, 0);
		CU_ASSERT_TRUE(r2->active);
		CU_ASSERT_EQUAL(r1->family_id, r2->family_id);
	}
	jg_refresh_free(r1);
	jg_refresh_free(r2);

	/* Narrowing only. */
	refresh(t.b_app, rt2, "api:read", &a);
	assert_tokens(&a);
	ASSERT_STR(jstr(a.json, "scope"), "api:read");
	CU_ASSERT_PTR_NULL(jg_json_get(a.json, "id_token"));
	rt3 = jg_xstrdup(jstr(a.json, "refresh_token") ? jstr(a.json, "refresh_token") : "");
	answer_clear(&a);
	refresh(t.b_app, rt3, "api:read admin", &a);
	assert_error(&a, 400, "invalid_scope");
	answer_clear(&a);
	CU_ASSERT_TRUE(rt_active(rt3));

	/* Bound to its client. */
	refresh(t.b_other, rt3, NULL, &a);
	assert_error(&a, 400, "invalid_grant");
	answer_clear(&a);
	CU_ASSERT_TRUE(rt_active(rt3));

	/* Reuse of a rotated token revokes the family. */
	refresh(t.b_app, rt1, NULL, &a);
	assert_error(&a, 400, "invalid_grant");
	answer_clear(&a);
	CU_ASSERT_FALSE(rt_active(rt3));
	r1 = rt_row(rt3);
	CU_ASSERT_TRUE(r1 != NULL && r1->revoked_at != 0);
	jg_refresh_free(r1);
	refresh(t.b_app, rt3, NULL, &a);
	assert_error(&a, 400, "invalid_grant");
	answer_clear(&a);
	free(rt1);
	free(rt2);
	free(rt3);
}

static void
test_refresh_expiry(void)
{
	struct answer a;
	char *rt, *next;

	/* The client "quick": idle 3 s, absolute 5 s. */
	rt = grant_with_refresh("it-quick-code-idle-0123", t.b_quick, "quick", QUICK_CB,
				"https%3A%2F%2Fquick.example%2Fcb", "api:read");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rt);
	sleep(4);
	refresh(t.b_quick, rt, NULL, &a);
	assert_error(&a, 400, "invalid_grant");
	answer_clear(&a);
	CU_ASSERT_FALSE(rt_active(rt));
	free(rt);

	/* Used every 2 s, within the idle time, it still ends at the
	 * absolute expiry (t + 5; the last token's idle end would be t + 7). */
	rt = grant_with_refresh("it-quick-code-abs-01234", t.b_quick, "quick", QUICK_CB,
				"https%3A%2F%2Fquick.example%2Fcb", "api:read");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rt);
	sleep(2);
	refresh(t.b_quick, rt, NULL, &a);
	assert_tokens(&a);
	next = jg_xstrdup(jstr(a.json, "refresh_token") ? jstr(a.json, "refresh_token") : "x");
	answer_clear(&a);
	free(rt);
	rt = next;
	sleep(2);
	refresh(t.b_quick, rt, NULL, &a);
	assert_tokens(&a);
	next = jg_xstrdup(jstr(a.json, "refresh_token") ? jstr(a.json, "refresh_token") : "x");
	answer_clear(&a);
	free(rt);
	rt = next;
	sleep(2);
	refresh(t.b_quick, rt, NULL, &a);
	assert_error(&a, 400, "invalid_grant");
	answer_clear(&a);
	CU_ASSERT_FALSE(rt_active(rt));
	free(rt);
}

/* ------------------------------------------------------------ revoke, introspect */

static void
test_revoke_and_introspect(void)
{
	struct answer a, g;
	char *body;
	static const char *const members[] = {
		"active", "scope", "client_id", "sub", "exp", "iat", "iss", "aud",
		"jti", "token_type", NULL
	};
	size_t i;

	put_code("it-revoke-code-01234567", "app", APP_CB, "offline_access api:read",
		 NULL, CHALLENGE);
	post("/oauth/token", t.b_app, "grant_type=authorization_code&"
	     "code=it-revoke-code-01234567&redirect_uri=" APP_CB_ENC
	     "&code_verifier=" VERIFIER, &g);
	assert_tokens(&g);
	CU_ASSERT_PTR_NOT_NULL_FATAL(jstr(g.json, "refresh_token"));

	/* Introspection of the active access token. */
	introspect(jstr(g.json, "access_token"), &a);
	CU_ASSERT_EQUAL(a.r.status, 200);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a.json);
	CU_ASSERT_EQUAL(json_object_object_length(a.json), 10);
	for (i = 0; members[i] != NULL; i++)
		CU_ASSERT_PTR_NOT_NULL(jg_json_get(a.json, members[i]));
	CU_ASSERT_TRUE(json_object_get_boolean(jg_json_get(a.json, "active")));
	ASSERT_STR(jstr(a.json, "client_id"), "app");
	ASSERT_STR(jstr(a.json, "sub"), "sub-alice");
	ASSERT_STR(jstr(a.json, "iss"), ISSUER);
	ASSERT_STR(jstr(a.json, "aud"), ISSUER);
	ASSERT_STR(jstr(a.json, "token_type"), "Bearer");
	ASSERT_STR(jstr(a.json, "scope"), "offline_access api:read");
	answer_clear(&a);
	/* Public clients may not introspect; junk is inactive. */
	post("/oauth/introspect", NULL, "client_id=spa&token=abc", &a);
	assert_error(&a, 400, "invalid_client");
	answer_clear(&a);
	assert_inactive("junk");

	/* Another client's revocation changes nothing. */
	body = jg_xasprintf("token=%s", jstr(g.json, "refresh_token"));
	post("/oauth/revoke", t.b_other, body, &a);
	CU_ASSERT_EQUAL(a.r.status, 200);
	answer_clear(&a);
	CU_ASSERT_TRUE(rt_active(jstr(g.json, "refresh_token")));

	/* The client's own: the family is revoked. */
	post("/oauth/revoke", t.b_app, body, &a);
	CU_ASSERT_EQUAL(a.r.status, 200);
	ASSERT_STR(jg_it_header(&a.r, "Cache-Control"), "no-store");
	answer_clear(&a);
	free(body);
	CU_ASSERT_FALSE(rt_active(jstr(g.json, "refresh_token")));

	/* The access token goes on the deny list. */
	body = jg_xasprintf("token=%s&token_type_hint=access_token",
			    jstr(g.json, "access_token"));
	post("/oauth/revoke", t.b_app, body, &a);
	CU_ASSERT_EQUAL(a.r.status, 200);
	answer_clear(&a);
	free(body);
	CU_ASSERT_TRUE(at_denied(jstr(g.json, "access_token")));
	assert_inactive(jstr(g.json, "access_token"));

	/* Unknown tokens: 200; no token: 400; bad client in the form: 400. */
	post("/oauth/revoke", t.b_app, "token=never-issued", &a);
	CU_ASSERT_EQUAL(a.r.status, 200);
	answer_clear(&a);
	post("/oauth/revoke", t.b_app, "token_type_hint=access_token", &a);
	assert_error(&a, 400, "invalid_request");
	answer_clear(&a);
	post("/oauth/revoke", NULL, "token=never-issued&client_id=app&client_secret=x", &a);
	assert_error(&a, 400, "invalid_client");
	answer_clear(&a);
	answer_clear(&g);
}

/* ------------------------------------------------------------ independent check */

/* PyJWT verifies each token with the key of its kid from the served JWKS,
 * with the algorithm that key states; checks typ, iss, aud, exp and, for ID
 * tokens, at_hash by its own hashing.  Prints "verified N". */
static const char verifier_py[] =
"import base64, hashlib, json, sys, time, urllib.request\n"
"import jwt\n"
"base, issuer, audience, path = sys.argv[1:5]\n"
"jwks = json.load(urllib.request.urlopen(base + '/.well-known/jwks.json'))\n"
"keys = {k['kid']: k for k in jwks['keys']}\n"
"tokens = json.load(open(path))\n"
"hashes = {'RS256': hashlib.sha256, 'PS256': hashlib.sha256, 'ES256': hashlib.sha256,\n"
"          'RS384': hashlib.sha384, 'PS384': hashlib.sha384, 'ES384': hashlib.sha384,\n"
"          'RS512': hashlib.sha512, 'PS512': hashlib.sha512, 'ES512': hashlib.sha512,\n"
"          'EdDSA': hashlib.sha512}\n"
"n = 0\n"
"algs = set()\n"
"for t in tokens:\n"
"    h = jwt.get_unverified_header(t['token'])\n"
"    algs.add(t['kind'] + ':' + h['alg'])\n"
"    k = keys[h['kid']]\n"
"    assert h['alg'] == k['alg'], (h, k['alg'])\n"
"    key = jwt.PyJWK(k).key\n"
"    if t['kind'] == 'access':\n"
"        assert h['typ'] == 'at+jwt', h\n"
"        c = jwt.decode(t['token'], key, algorithms=[k['alg']], audience=audience,\n"
"                       issuer=issuer, options={'require': ['exp', 'iat', 'sub', 'jti']})\n"
"        assert c['client_id'] and c['jti']\n"
"    else:\n"
"        assert h['typ'] == 'JWT', h\n"
"        u = jwt.decode(t['token'], options={'verify_signature': False})\n"
"        c = jwt.decode(t['token'], key, algorithms=[k['alg']], audience=u['aud'],\n"
"                       issuer=issuer, options={'require': ['exp', 'iat', 'sub', 'auth_time']})\n"
"        d = hashes[k['alg']](t['access_token'].encode()).digest()\n"
"        want = base64.urlsafe_b64encode(d[:len(d) // 2]).rstrip(b'=').decode()\n"
"        assert c['at_hash'] == want, 'at_hash'\n"
"        assert c['azp'] == c['aud']\n"
"    n += 1\n"
"print('verified', n, ' '.join(sorted(algs)))\n";

/* Issue 5 point 3: an ID token in the algorithm the client registered
 * (ES256), on the code grant and on refresh; the independent verifier
 * below checks these against the published JWKS as well. */
static void
test_client_id_alg(void)
{
	char *b_esid = basic("esid", ESID_SECRET), *body;
	const char *rt;
	struct answer a, b;
	size_t k;

	put_code("it-esid-code-0123456789abcdef", "esid", ESID_CB,
		 "openid offline_access", "n-es", CHALLENGE);
	post("/oauth/token", b_esid, "grant_type=authorization_code&code="
	     "it-esid-code-0123456789abcdef&redirect_uri=https%3A%2F%2Fesid.example"
	     "%2Fcb&code_verifier=" VERIFIER, &a);
	assert_tokens(&a);
	rt = jstr(a.json, "refresh_token");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rt);
	body = jg_xasprintf("grant_type=refresh_token&refresh_token=%s", rt);
	post("/oauth/token", b_esid, body, &b);
	assert_tokens(&b);
	for (k = 0; k < 2; k++) {
		const char *idt = jstr(k == 0 ? a.json : b.json, "id_token");
		const char *dot = idt ? strchr(idt, '.') : NULL;
		unsigned char *hdr = NULL;
		size_t len = 0;
		struct json_object *h = NULL;

		CU_ASSERT_PTR_NOT_NULL_FATAL(dot);
		CU_ASSERT_EQUAL_FATAL(jg_b64url_decode(idt, (size_t)(dot - idt), &hdr,
						       &len), JG_OK);
		CU_ASSERT_EQUAL_FATAL(jg_json_parse_object((const char *)hdr, len, &h,
							   NULL), JG_OK);
		ASSERT_STR(jstr(h, "alg"), "ES256");
		CU_ASSERT_PTR_NOT_NULL(jg_keyring_find(t.ring, jstr(h, "kid")));
		json_object_put(h);
		free(hdr);
	}
	answer_clear(&a);
	answer_clear(&b);
	free(body);
	free(b_esid);
}

static void
test_independent_verifier(void)
{
	char *tokens = jg_xasprintf("%s/issued.json", t.dir);
	char *script = jg_xasprintf("%s/verify.py", t.dir);
	char *cmd, *want, line[256] = "";
	const char *text = json_object_to_json_string_ext(t.issued, JSON_C_TO_STRING_PLAIN);
	size_t n = json_object_array_length(t.issued);
	size_t access = 0, id = 0, i;
	FILE *p;
	int status;

	for (i = 0; i < n; i++) {
		const char *kind = jstr(json_object_array_get_idx(t.issued, i), "kind");

		if (kind != NULL && strcmp(kind, "access") == 0)
			access++;
		else
			id++;
	}
	/* Enough of both kinds were issued above to make the check mean
	 * something. */
	CU_ASSERT_TRUE(access >= 10);
	CU_ASSERT_TRUE(id >= 2);
	CU_ASSERT_TRUE_FATAL(jg_it_write_file(t.dir, "issued.json", text, 0600));
	CU_ASSERT_TRUE_FATAL(jg_it_write_file(t.dir, "verify.py", verifier_py, 0600));
	cmd = jg_xasprintf("/usr/bin/python3 '%s' '%s' '%s' '%s' '%s' 2>&1", script,
			   t.lt->url, ISSUER, t.config->resource_audience, tokens);
	p = popen(cmd, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	while (fgets(line, sizeof(line), p) != NULL)
		if (strncmp(line, "verified", 8) != 0)
			fputs(line, stderr);
	status = pclose(p);
	CU_ASSERT_EQUAL(status, 0);
	/* Every kind in every algorithm it was issued in: access tokens in
	 * the configured ES256, ID tokens in the configured RS256 and in the
	 * ES256 that client esid asks for. */
	want = jg_xasprintf("verified %zu access:ES256 id:ES256 id:RS256\n", n);
	CU_ASSERT_STRING_EQUAL(line, want);
	free(want);
	free(cmd);
	free(script);
	free(tokens);
}

int
main(void)
{
	static const struct jg_test tests[] = {
		{ "start lighttpd with token.fcgi", test_start },
		{ "discovery and JWKS as served", test_discovery },
		{ "POST and forms only", test_request_rules },
		{ "client authentication", test_client_authentication },
		{ "client_credentials", test_client_credentials },
		{ "authorization_code rules", test_code_rules },
		{ "authorization_code and its replay", test_code_and_replay },
		{ "refresh rotation, narrowing, reuse", test_refresh },
		{ "refresh idle and absolute expiry", test_refresh_expiry },
		{ "revocation and introspection", test_revoke_and_introspect },
		{ "ID tokens in the client's own algorithm", test_client_id_alg },
		{ "every token checked by PyJWT", test_independent_verifier },
		{ "stop lighttpd", test_stop },
		{ NULL, NULL }
	};

	return jg_test_main("token-integration", tests);
}
