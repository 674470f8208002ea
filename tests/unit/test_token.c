/* test_token.c: unit tests of common/token (the token, revocation and
 * introspection endpoints, client authentication, PKCE) against a temporary
 * SQLite store and a generated keyring; every issued token is checked by
 * verifying it with the library against the ring's public keys. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sqlite3.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "testutil.h"
#include "b64url.h"
#include "claims.h"
#include "conf.h"
#include "http.h"
#include "json.h"
#include "jwk.h"
#include "jws.h"
#include "keyring.h"
#include "oauth.h"
#include "store.h"
#include "token.h"
#include "util.h"

/* The fixed clock of these tests. */
#define T0 1700000000
#define ISSUER "https://id.example.org"

#define APP_SECRET "app-secret-0123456789-abcdefghijklmnopqrstuvwxyz"
#define OTHER_SECRET "other-secret-0123456789-abcdefghijklmnopqrstuvw"
#define WEIRD_SECRET "weird secret+%:0123456789-abcdefghijklmnopqrstuv"
#define ES_SECRET "es-secret-0123456789-abcdefghijklmnopqrstuvwxyz"
#define SHORT_SECRET "short-secret-0123456789-abcdefghijklmnopqrstuvw"

/* RFC 7636 appendix B. */
#define RFC7636_VERIFIER "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
#define RFC7636_CHALLENGE "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

#define APP_CB "https://app.example/cb"
#define TWO_SECRET "two-secret-0123456789-abcdefghijklmnopqrstuvwxyz"
#define TWO_CB1 "https://two.example/cb1"
#define TWO_CB2 "https://two.example/cb2"
#define SPA_CB "https://spa.example/cb"

/* A scratch instance: configuration, store, keyring, endpoint context. */
struct fixture {
	char dir[64];
	struct jg_config *config;
	struct jg_store *store;
	struct jg_keyring *ring;
	struct jg_token_ctx ctx;
};

static void
die(const char *what, const char *msg)
{
	fprintf(stderr, "test bug: %s: %s\n", what, msg ? msg : "");
	abort();
}

static void
add_client(struct jg_store *st, const char *id, const char *secret,
	   const char *redirect, const char *grants, const char *scopes,
	   const char *id_alg, int64_t access_lifetime, int64_t idle,
	   int64_t absolute)
{
	struct jg_client c;
	char *uris[1];

	memset(&c, 0, sizeof(c));
	c.client_id = (char *)(uintptr_t)id;
	if (secret != NULL && jg_client_secret_hash(secret, &c.secret_hash) != JG_OK)
		die("hash", id);
	uris[0] = (char *)(uintptr_t)redirect;
	c.redirect_uris = uris;
	c.n_redirect_uris = 1;
	c.grant_types = (char *)(uintptr_t)grants;
	c.scopes = (char *)(uintptr_t)scopes;
	c.id_token_alg = (char *)(uintptr_t)id_alg;
	c.access_token_lifetime = access_lifetime;
	c.refresh_idle_lifetime = idle;
	c.refresh_absolute_lifetime = absolute;
	if (jg_store_client_add(st, &c, T0 - 1000) != JG_OK)
		die("client add", id);
	free(c.secret_hash);
}

static void
add_user(struct jg_store *st, const char *sub, const char *name, bool disabled)
{
	struct jg_user u;

	memset(&u, 0, sizeof(u));
	u.sub = (char *)(uintptr_t)sub;
	u.username = (char *)(uintptr_t)name;
	u.password_hash = (char *)(uintptr_t)"$y$j9T$not-used$in-these-tests";
	if (jg_store_user_add(st, &u, T0 - 1000) != JG_OK)
		die("user add", name);
	if (disabled && jg_store_user_set_disabled(st, name, true) != JG_OK)
		die("disable", name);
}

static void
fixture_open(struct fixture *fx, unsigned busy_ms)
{
	char *path, *errmsg = NULL;
	FILE *f;

	memset(fx, 0, sizeof(*fx));
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/jg-token-XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		die("mkdtemp", fx->dir);
	path = jg_xasprintf("%s/jwtgate.conf", fx->dir);
	f = fopen(path, "w");
	if (f == NULL || jg_config_write_template(f, ISSUER, fx->dir) != JG_OK ||
	    fclose(f) != 0)
		die("config", path);
	if (jg_config_load(path, &fx->config, &errmsg) != JG_OK)
		die("config load", errmsg);
	free(path);
	if (mkdir(fx->config->key_dir, 0700) != 0)
		die("mkdir", fx->config->key_dir);
	fx->ring = jg_keyring_new(fx->config->key_dir);
	if (jg_keyring_rotate(fx->ring, JG_KEY_ACCESS, JG_ALG_UNKNOWN,
			      fx->config->access_token_alg, T0 - 100, NULL,
			      &errmsg) != JG_OK ||
	    jg_keyring_rotate(fx->ring, JG_KEY_ID, JG_ALG_UNKNOWN,
			      fx->config->id_token_alg, T0 - 100, NULL,
			      &errmsg) != JG_OK)
		die("keyring", errmsg);
	if (jg_store_open(fx->config->database, busy_ms, &fx->store, &errmsg) != JG_OK)
		die("store", errmsg);
	add_user(fx->store, "sub-alice", "alice", false);
	add_user(fx->store, "sub-bob", "bob", true);
	add_client(fx->store, "app", APP_SECRET, APP_CB,
		   "authorization_code refresh_token client_credentials",
		   "openid profile offline_access api:read api:write", NULL, 0, 0, 0);
	add_client(fx->store, "spa", NULL, SPA_CB, "authorization_code",
		   "openid offline_access api:read", NULL, 0, 0, 0);
	add_client(fx->store, "other", OTHER_SECRET, "https://other.example/cb",
		   "authorization_code refresh_token", "openid api:read",
		   NULL, 0, 0, 0);
	add_client(fx->store, "weird client:1", WEIRD_SECRET, "https://w.example/cb",
		   "client_credentials", "api:read", NULL, 0, 0, 0);
	add_client(fx->store, "es", ES_SECRET, "https://es.example/cb",
		   "authorization_code", "openid api:read", "ES256", 0, 0, 0);
	add_client(fx->store, "short", SHORT_SECRET, "https://short.example/cb",
		   "authorization_code refresh_token", "openid api:read", "RS256",
		   120, 100, 250);
	{
		/* A client with two redirect URIs: it must name one. */
		char *uris[2] = { (char *)(uintptr_t)TWO_CB1, (char *)(uintptr_t)TWO_CB2 };
		struct jg_client c;

		memset(&c, 0, sizeof(c));
		c.client_id = (char *)(uintptr_t)"two";
		if (jg_client_secret_hash(TWO_SECRET, &c.secret_hash) != JG_OK)
			die("hash", "two");
		c.redirect_uris = uris;
		c.n_redirect_uris = 2;
		c.grant_types = (char *)(uintptr_t)"authorization_code";
		c.scopes = (char *)(uintptr_t)"openid api:read";
		if (jg_store_client_add(fx->store, &c, T0 - 1000) != JG_OK)
			die("client add", "two");
		free(c.secret_hash);
	}
	fx->ctx.config = fx->config;
	fx->ctx.store = fx->store;
	fx->ctx.ring = fx->ring;
}

static void
fixture_close(struct fixture *fx)
{
	char *cmd = jg_xasprintf("rm -rf '%s'", fx->dir);

	jg_store_close(fx->store);
	jg_keyring_free(fx->ctx.ring);	/* fx->ring, unless reloaded */
	jg_config_free(fx->config);
	if (system(cmd) != 0)
		fprintf(stderr, "warning: cannot remove %s\n", fx->dir);
	free(cmd);
}

/* Stores an authorization code bound as given; omitted says whether the
 * authorization request had left redirect_uri out. */
static void
put_code_ex(struct fixture *fx, const char *code, const char *client,
	    const char *redirect, bool omitted, const char *sub,
	    const char *scope, const char *nonce, const char *challenge,
	    int64_t expires)
{
	struct jg_code c;

	memset(&c, 0, sizeof(c));
	c.redirect_uri_omitted = omitted;
	c.client_id = (char *)(uintptr_t)client;
	c.redirect_uri = (char *)(uintptr_t)redirect;
	c.sub = (char *)(uintptr_t)sub;
	c.scope = (char *)(uintptr_t)scope;
	c.nonce = (char *)(uintptr_t)nonce;
	c.code_challenge = (char *)(uintptr_t)challenge;
	c.code_challenge_method = (char *)(uintptr_t)(challenge ? "S256" : NULL);
	c.auth_time = T0 - 30;
	c.created = T0 - 5;
	c.expires = expires;
	if (jg_store_code_insert(fx->store, code, &c) != JG_OK)
		die("code insert", code);
}

/* The same for an authorization request that had a redirect_uri. */
static void
put_code(struct fixture *fx, const char *code, const char *client,
	 const char *redirect, const char *sub, const char *scope,
	 const char *nonce, const char *challenge, int64_t expires)
{
	put_code_ex(fx, code, client, redirect, false, sub, scope, nonce,
		    challenge, expires);
}

/* ------------------------------------------------------------ requests */

struct body_reader {
	const char *data;
	size_t len, off;
};

static long
read_body(void *ctx, char *buf, size_t len)
{
	struct body_reader *r = ctx;
	size_t n = r->len - r->off;

	if (n > len)
		n = len;
	memcpy(buf, r->data + r->off, n);
	r->off += n;
	return (long)n;
}

/* The answer of one request: status, headers, and the body parsed. */
struct answer {
	struct jg_response resp;
	struct json_object *json;	/* NULL when the body is not JSON */
};

static void
answer_clear(struct answer *a)
{
	jg_response_clear(&a->resp);
	json_object_put(a->json);
	a->json = NULL;
}

/* Runs one request through jg_token_handle.  ctype NULL means a form. */
static void
call_full(struct fixture *fx, const char *method, const char *path,
	  const char *query, const char *ctype, const char *authorization,
	  const char *body, int64_t now, struct answer *a)
{
	struct body_reader reader = { body ? body : "", body ? strlen(body) : 0, 0 };
	struct jg_body_source src = { read_body, &reader, true };
	char *env[8];
	size_t n = 0;
	struct jg_request req;
	int status = 0;

	env[n++] = jg_xasprintf("REQUEST_METHOD=%s", method);
	env[n++] = jg_xasprintf("SCRIPT_NAME=%s", path);
	env[n++] = jg_xasprintf("QUERY_STRING=%s", query ? query : "");
	env[n++] = jg_xasprintf("CONTENT_TYPE=%s",
				ctype ? ctype : "application/x-www-form-urlencoded");
	env[n++] = jg_xasprintf("CONTENT_LENGTH=%zu", reader.len);
	if (authorization != NULL)
		env[n++] = jg_xasprintf("HTTP_AUTHORIZATION=%s", authorization);
	env[n] = NULL;
	jg_request_init(&req);
	if (jg_request_parse(&req, (const char *const *)env, JG_ROLE_RESPONDER, now,
			     &src, JG_HTTP_MAX_BODY, &status, NULL) != JG_OK)
		die("request parse", path);
	jg_response_init(&a->resp);
	a->json = NULL;
	CU_ASSERT_EQUAL(jg_token_handle(&fx->ctx, &req, &a->resp), JG_OK);
	if (a->resp.body_len > 0)
		(void)jg_json_parse_object(a->resp.body, a->resp.body_len, &a->json, NULL);
	jg_request_clear(&req);
	while (n > 0)
		free(env[--n]);
}

static void
call(struct fixture *fx, const char *path, const char *authorization,
     const char *body, int64_t now, struct answer *a)
{
	call_full(fx, "POST", path, NULL, NULL, authorization, body, now, a);
}

/* Returns "Basic base64(id:secret)" with both form-url-encoded as RFC 6749
 * section 2.3.1 requires (caller frees). */
static char *
basic(const char *id, const char *secret)
{
	char *eid = jg_url_encode(id), *esec = jg_url_encode(secret);
	char *plain = jg_xasprintf("%s:%s", eid, esec);
	char *b64 = jg_b64std_encode(plain, strlen(plain));
	char *out = jg_xasprintf("Basic %s", b64);

	free(eid);
	free(esec);
	free(plain);
	free(b64);
	return out;
}

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

static bool
streq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Asserts an RFC 6749 section 5.2 error answer. */
static void
assert_error(const struct answer *a, int status, const char *error)
{
	CU_ASSERT_EQUAL(a->resp.status, status);
	CU_ASSERT_PTR_NOT_NULL(a->json);
	CU_ASSERT_TRUE(streq(jstr(a->json, "error"), error));
	CU_ASSERT_PTR_NULL(jstr(a->json, "access_token"));
	/* RFC 6749 section 5.2: the Basic challenge exactly with 401,
	 * which only a client that used the Authorization header gets. */
	if (status == 401) {
		CU_ASSERT_TRUE(streq(jg_response_header(&a->resp, "WWW-Authenticate"),
				     "Basic realm=\"jwtgate\""));
	} else {
		CU_ASSERT_PTR_NULL(jg_response_header(&a->resp, "WWW-Authenticate"));
	}
}

/* Verifies token with the ring's public keys as kind typ for audience aud.
 * Returns its claims (caller puts) or NULL. */
static struct json_object *
verify(struct fixture *fx, const char *token, const char *typ, const char *aud,
       int64_t now, enum jg_key_purpose purpose)
{
	static const enum jg_alg algs[] = {
		JG_ALG_RS256, JG_ALG_ES256, JG_ALG_EDDSA, JG_ALG_PS256
	};
	const struct jg_jwk *key = jg_keyring_current(fx->ring, purpose);
	struct jg_claims_policy policy;
	struct json_object *claims;
	struct jg_jwt *jwt = NULL;

	if (token == NULL)
		return NULL;
	memset(&policy, 0, sizeof(policy));
	policy.now = now;
	policy.iss = ISSUER;
	policy.aud = aud;
	policy.typ = typ;
	if (jg_jwt_verify(token, strlen(token), jg_keyring_public_set(fx->ring),
			  algs, 4, &policy, &jwt, NULL) != JG_OK)
		return NULL;
	/* Signed by the current key of the purpose, named by its kid. */
	CU_ASSERT_TRUE(streq(jwt->jws->kid, key->kid));
	CU_ASSERT_EQUAL(jwt->jws->alg, key->alg);
	CU_ASSERT_TRUE(streq(jwt->jws->typ, typ));
	claims = json_object_get(jwt->claims);
	jg_jwt_free(jwt);
	return claims;
}

/* The at_hash of OpenID Connect Core section 3.1.3.6 for an RS256 ID
 * token: the left half of SHA-256 of the ASCII access token, base64url. */
static char *
at_hash_rs256(const char *access_token)
{
	unsigned char d[32];

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, access_token, strlen(access_token), d) < 0)
		die("hash", "at_hash");
	return jg_b64url_encode(d, 16);
}

/* ------------------------------------------------------------ PKCE */

static void
test_pkce(void)
{
	static const struct {
		const char *source;
		const char *verifier, *challenge, *method;
		bool ok;
	} cases[] = {
		{ "RFC 7636 appendix B", RFC7636_VERIFIER, RFC7636_CHALLENGE, "S256", true },
		{ "plain is never accepted", RFC7636_VERIFIER, RFC7636_VERIFIER, "plain", false },
		{ "no method", RFC7636_VERIFIER, RFC7636_CHALLENGE, NULL, false },
		{ "lower-case method", RFC7636_VERIFIER, RFC7636_CHALLENGE, "s256", false },
		{ "other verifier", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj",
		  RFC7636_CHALLENGE, "S256", false },
		{ "verifier of 42 characters", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjX",
		  RFC7636_CHALLENGE, "S256", false },
		{ "verifier with a plus", "dBjftJeZ4CVP+mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
		  RFC7636_CHALLENGE, "S256", false },
		{ "challenge with padding", RFC7636_VERIFIER,
		  "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM=", "S256", false },
		{ "challenge with non-zero unused bits", RFC7636_VERIFIER,
		  "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN", "S256", false },
		{ "no challenge", RFC7636_VERIFIER, NULL, "S256", false },
		{ "no verifier", NULL, RFC7636_CHALLENGE, "S256", false },
	};
	char v128[129], v129[130], *ch = NULL;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (jg_pkce_verify(cases[i].verifier, cases[i].challenge,
				   cases[i].method) != cases[i].ok)
			fprintf(stderr, "pkce case failed: %s\n", cases[i].source);
		CU_ASSERT_EQUAL(jg_pkce_verify(cases[i].verifier, cases[i].challenge,
					       cases[i].method), cases[i].ok);
	}
	CU_ASSERT_EQUAL(jg_pkce_s256(RFC7636_VERIFIER, &ch), JG_OK);
	CU_ASSERT_TRUE(streq(ch, RFC7636_CHALLENGE));
	free(ch);
	/* RFC 7636 section 4.1: 43 to 128 unreserved characters. */
	memset(v128, '~', 128);
	v128[128] = '\0';
	memset(v129, 'a', 129);
	v129[129] = '\0';
	CU_ASSERT_TRUE(jg_pkce_verifier_valid(v128));
	CU_ASSERT_FALSE(jg_pkce_verifier_valid(v129));
	CU_ASSERT_TRUE(jg_pkce_verifier_valid("0123456789012345678901234567890123456789-._"));
	CU_ASSERT_FALSE(jg_pkce_verifier_valid("012345678901234567890123456789012345678901"));
	CU_ASSERT_FALSE(jg_pkce_verifier_valid(NULL));
	CU_ASSERT_EQUAL(jg_pkce_s256(v129, &ch), JG_ERR_MALFORMED);
	CU_ASSERT_TRUE(jg_pkce_challenge_valid(RFC7636_CHALLENGE));
	CU_ASSERT_FALSE(jg_pkce_challenge_valid("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c"));
	CU_ASSERT_FALSE(jg_pkce_challenge_valid("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM"));
}

/* ------------------------------------------------------------ request form */

static void
test_request_format(void)
{
	static const struct {
		const char *what, *method, *path, *query, *ctype, *body;
		int status;
		const char *error;
	} cases[] = {
		{ "GET", "GET", "/oauth/token", NULL, NULL, "", 405, "invalid_request" },
		{ "PUT on revoke", "PUT", "/oauth/revoke", NULL, NULL, "token=x", 405,
		  "invalid_request" },
		{ "JSON body", "POST", "/oauth/token", NULL, "application/json",
		  "{\"grant_type\":\"client_credentials\"}", 400, "invalid_request" },
		{ "no content type", "POST", "/oauth/token", NULL, "", "grant_type=client_credentials",
		  400, "invalid_request" },
		{ "parameters in the query", "POST", "/oauth/token",
		  "client_secret=" APP_SECRET, NULL, "grant_type=client_credentials&client_id=app",
		  400, "invalid_request" },
		{ "no grant_type", "POST", "/oauth/token", NULL, NULL,
		  "client_id=app&client_secret=" APP_SECRET, 400, "invalid_request" },
		{ "grant_type twice (RFC 6749 section 3.2)", "POST", "/oauth/token", NULL, NULL,
		  "grant_type=client_credentials&grant_type=client_credentials&client_id=app&"
		  "client_secret=" APP_SECRET, 400, "invalid_request" },
		{ "password grant is not offered", "POST", "/oauth/token", NULL, NULL,
		  "grant_type=password&username=alice&password=x&client_id=app&"
		  "client_secret=" APP_SECRET, 400, "unsupported_grant_type" },
		{ "implicit is not a grant_type", "POST", "/oauth/token", NULL, NULL,
		  "grant_type=implicit&client_id=app&client_secret=" APP_SECRET, 400,
		  "unsupported_grant_type" },
		{ "bad percent encoding", "POST", "/oauth/token", NULL, NULL,
		  "grant_type=client_credentials%zz", 400, "invalid_request" },
		{ "unknown path", "POST", "/oauth/other", NULL, NULL,
		  "grant_type=client_credentials", 404, "invalid_request" },
	};
	struct fixture fx;
	struct answer a;
	size_t i;

	fixture_open(&fx, 1000);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		call_full(&fx, cases[i].method, cases[i].path, cases[i].query,
			  cases[i].ctype, NULL, cases[i].body, T0, &a);
		if (a.resp.status != cases[i].status ||
		    !streq(jstr(a.json, "error"), cases[i].error))
			fprintf(stderr, "format case failed: %s (%d)\n", cases[i].what,
				a.resp.status);
		assert_error(&a, cases[i].status, cases[i].error);
		if (cases[i].status == 405)
			CU_ASSERT_TRUE(streq(jg_response_header(&a.resp, "Allow"), "POST"));
		CU_ASSERT_TRUE(streq(jg_response_header(&a.resp, "Cache-Control"), "no-store"));
		answer_clear(&a);
	}
	fixture_close(&fx);
}

/* ------------------------------------------------------------ client auth */

static void
test_client_auth(void)
{
	char *b_app = basic("app", APP_SECRET), *b_wrong = basic("app", "x" APP_SECRET);
	char *b_weird = basic("weird client:1", WEIRD_SECRET);
	char *b_other = basic("other", OTHER_SECRET), *b_spa = basic("spa", "");
	char *b_nobody = basic("nobody", APP_SECRET);
	/* RFC 6749 section 2.3.1 and appendix B: application/x-www-form-
	 * urlencoded, so '+' stands for a space in both halves. */
	static const char plus_plain[] = "weird+client%3A1:weird+secret%2B%25%3A"
	    "0123456789-abcdefghijklmnopqrstuv";
	char *plus64 = jg_b64std_encode(plus_plain, strlen(plus_plain));
	char *b_plus = jg_xasprintf("Basic %s", plus64);
	char *plain = jg_xasprintf("weird client:1:%s", WEIRD_SECRET);
	char *b64 = jg_b64std_encode(plain, strlen(plain));
	char *raw_weird = jg_xasprintf("Basic %s", b64);
	const struct {
		const char *what, *authorization, *body;
		int status;
		const char *error;
	} cases[] = {
		{ "client_secret_basic", b_app, "grant_type=client_credentials", 200, NULL },
		{ "client_secret_basic, wrong secret", b_wrong,
		  "grant_type=client_credentials", 401, "invalid_client" },
		{ "client_secret_post", NULL, "grant_type=client_credentials&client_id=app&"
		  "client_secret=" APP_SECRET, 200, NULL },
		{ "client_secret_post, wrong secret: 400, no Basic challenge", NULL,
		  "grant_type=client_credentials&client_id=app&client_secret=x" APP_SECRET,
		  400, "invalid_client" },
		{ "confidential client without a secret", NULL,
		  "grant_type=client_credentials&client_id=app", 400, "invalid_client" },
		{ "two methods at once (RFC 6749 section 2.3)", b_app,
		  "grant_type=client_credentials&client_secret=" APP_SECRET, 400,
		  "invalid_request" },
		{ "client_id differs from Basic", b_app,
		  "grant_type=client_credentials&client_id=other", 401, "invalid_client" },
		{ "same client_id as Basic", b_app,
		  "grant_type=client_credentials&client_id=app", 200, NULL },
		{ "unknown client", NULL, "grant_type=client_credentials&client_id=nobody&"
		  "client_secret=" APP_SECRET, 400, "invalid_client" },
		{ "unknown client in Basic: 401 with the challenge", b_nobody,
		  "grant_type=client_credentials", 401, "invalid_client" },
		{ "public client sending a secret", NULL,
		  "grant_type=client_credentials&client_id=spa&client_secret=" APP_SECRET,
		  400, "invalid_client" },
		{ "public client, client_credentials (RFC 6749 section 4.4)", NULL,
		  "grant_type=client_credentials&client_id=spa", 400, "unauthorized_client" },
		{ "public client, Basic with an empty secret", b_spa,
		  "grant_type=client_credentials", 400, "unauthorized_client" },
		{ "no client at all", NULL, "grant_type=client_credentials", 400,
		  "invalid_client" },
		{ "Bearer is no client authentication", "Bearer abc",
		  "grant_type=client_credentials&client_id=app&client_secret=" APP_SECRET,
		  401, "invalid_client" },
		{ "malformed Basic", "Basic !!!!", "grant_type=client_credentials", 401,
		  "invalid_client" },
		{ "RFC 6749 section 2.3.1: encoded id and secret", b_weird,
		  "grant_type=client_credentials", 200, NULL },
		{ "RFC 6749 appendix B: '+' decodes to a space", b_plus,
		  "grant_type=client_credentials", 200, NULL },
		{ "RFC 6749 section 2.3.1: unencoded id splits at its colon", raw_weird,
		  "grant_type=client_credentials", 401, "invalid_client" },
		{ "client without the client_credentials grant", b_other,
		  "grant_type=client_credentials", 400, "unauthorized_client" },
	};
	struct fixture fx;
	struct answer a;
	size_t i;

	fixture_open(&fx, 1000);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		call(&fx, "/oauth/token", cases[i].authorization, cases[i].body, T0, &a);
		if (a.resp.status != cases[i].status)
			fprintf(stderr, "auth case failed: %s (%d)\n", cases[i].what,
				a.resp.status);
		if (cases[i].error != NULL) {
			assert_error(&a, cases[i].status, cases[i].error);
		} else {
			CU_ASSERT_EQUAL(a.resp.status, 200);
			CU_ASSERT_TRUE(streq(jstr(a.json, "token_type"), "Bearer"));
		}
		answer_clear(&a);
	}
	fixture_close(&fx);
	free(b_app);
	free(b_wrong);
	free(b_weird);
	free(b_other);
	free(b_spa);
	free(b_nobody);
	free(b_plus);
	free(plus64);
	free(raw_weird);
	free(plain);
	free(b64);
}

/* ------------------------------------------------------------ client_credentials */

static void
test_client_credentials(void)
{
	static const struct {
		const char *what, *scope;
		int status;
		const char *error, *granted;
	} cases[] = {
		{ "default scope: the client's, without user scopes", NULL, 200, NULL,
		  "api:read api:write" },
		{ "one allowed scope", "api:read", 200, NULL, "api:read" },
		{ "openid needs a user", "openid", 400, "invalid_scope", NULL },
		{ "offline_access needs a user", "api:read offline_access", 400,
		  "invalid_scope", NULL },
		{ "scope the client does not have", "api:delete", 400, "invalid_scope", NULL },
		{ "two spaces (RFC 6749 section 3.3)", "api:read  api:write", 400,
		  "invalid_scope", NULL },
	};
	struct fixture fx;
	struct answer a;
	size_t i;

	fixture_open(&fx, 1000);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *enc = cases[i].scope ? jg_url_encode(cases[i].scope) : NULL;
		char *body = jg_xasprintf("grant_type=client_credentials&client_id=app&"
					  "client_secret=%s%s%s", APP_SECRET,
					  enc ? "&scope=" : "", enc ? enc : "");
		struct json_object *claims;

		call(&fx, "/oauth/token", NULL, body, T0, &a);
		if (cases[i].error != NULL) {
			assert_error(&a, cases[i].status, cases[i].error);
		} else {
			CU_ASSERT_EQUAL(a.resp.status, 200);
			CU_ASSERT_TRUE(streq(jg_response_header(&a.resp, "Cache-Control"),
					     "no-store"));
			CU_ASSERT_TRUE(streq(jg_response_header(&a.resp, "Pragma"), "no-cache"));
			CU_ASSERT_TRUE(streq(jstr(a.json, "token_type"), "Bearer"));
			CU_ASSERT_EQUAL(jint(a.json, "expires_in"), 600);
			CU_ASSERT_TRUE(streq(jstr(a.json, "scope"), cases[i].granted));
			/* RFC 6749 section 4.4.3: no refresh token. */
			CU_ASSERT_PTR_NULL(jg_json_get(a.json, "refresh_token"));
			CU_ASSERT_PTR_NULL(jg_json_get(a.json, "id_token"));
			claims = verify(&fx, jstr(a.json, "access_token"), JG_TYP_ACCESS,
					ISSUER, T0, JG_KEY_ACCESS);
			CU_ASSERT_PTR_NOT_NULL_FATAL(claims);
			CU_ASSERT_TRUE(streq(jstr(claims, "sub"), "app"));
			CU_ASSERT_TRUE(streq(jstr(claims, "client_id"), "app"));
			CU_ASSERT_TRUE(streq(jstr(claims, "scope"), cases[i].granted));
			CU_ASSERT_EQUAL(jint(claims, "iat"), T0);
			CU_ASSERT_EQUAL(jint(claims, "exp"), T0 + 600);
			CU_ASSERT_EQUAL(strlen(jstr(claims, "jti")), 22);
			CU_ASSERT_PTR_NULL(jg_json_get(claims, "auth_time"));
			json_object_put(claims);
		}
		answer_clear(&a);
		free(enc);
		free(body);
	}
	fixture_close(&fx);
}

/* ------------------------------------------------------------ authorization_code */

/* Returns whether a code is still unused (redeeming it to find out). */
static bool
code_unused(struct fixture *fx, const char *code)
{
	struct jg_code *c = NULL;
	struct jg_code_replay r;
	enum jg_err err = jg_store_code_redeem(fx->store, code, T0, &c, &r);

	jg_code_free(c);
	jg_code_replay_clear(&r);
	return err == JG_OK;
}

static void
test_authorization_code(void)
{
	enum auth { POST, BASIC, PUBLIC };
	static const struct {
		const char *what;
		/* the code */
		const char *client, *redirect, *sub, *scope, *nonce;
		bool challenge;
		int64_t expires;
		/* the request */
		const char *as, *secret;
		enum auth auth;
		const char *redirect_sent, *verifier, *code_sent;
		/* the answer */
		int status;
		const char *error;
		bool refresh, id_token, code_left_unused;
	} cases[] = {
		{ "confidential client with PKCE (RFC 6749 4.1.3, RFC 7636 4.5)",
		  "app", APP_CB, "sub-alice", "openid offline_access api:read", "n-0S6_WzA2Mj",
		  true, T0 + 60, "app", APP_SECRET, BASIC, APP_CB, RFC7636_VERIFIER, NULL,
		  200, NULL, true, true, false },
		{ "confidential client without PKCE, client_secret_post",
		  "app", APP_CB, "sub-alice", "api:read", NULL, false, T0 + 60,
		  "app", APP_SECRET, POST, APP_CB, NULL, NULL, 200, NULL, true, false, false },
		{ "public client with PKCE: no refresh token without offline_access",
		  "spa", SPA_CB, "sub-alice", "openid api:read", "abc", true, T0 + 60,
		  "spa", NULL, PUBLIC, SPA_CB, RFC7636_VERIFIER, NULL,
		  200, NULL, false, true, false },
		{ "public client granted offline_access gets a refresh token",
		  "spa", SPA_CB, "sub-alice", "offline_access", NULL, true, T0 + 60,
		  "spa", NULL, PUBLIC, SPA_CB, RFC7636_VERIFIER, NULL,
		  200, NULL, true, false, false },
		{ "the code's client differs",
		  "app", APP_CB, "sub-alice", "api:read", NULL, true, T0 + 60,
		  "other", OTHER_SECRET, BASIC, APP_CB, RFC7636_VERIFIER, NULL,
		  400, "invalid_grant", false, false, false },
		{ "redirect_uri differs (RFC 6749 4.1.3)",
		  "app", APP_CB, "sub-alice", "api:read", NULL, true, T0 + 60,
		  "app", APP_SECRET, BASIC, APP_CB "/", RFC7636_VERIFIER, NULL,
		  400, "invalid_grant", false, false, false },
		{ "redirect_uri missing, client has two: refused before the code is used",
		  "two", TWO_CB1, "sub-alice", "api:read", NULL, true, T0 + 60,
		  "two", TWO_SECRET, BASIC, NULL, RFC7636_VERIFIER, NULL,
		  400, "invalid_request", false, false, true },
		{ "redirect_uri sent by the client with two",
		  "two", TWO_CB1, "sub-alice", "api:read", NULL, true, T0 + 60,
		  "two", TWO_SECRET, BASIC, TWO_CB1, RFC7636_VERIFIER, NULL,
		  200, NULL, false, false, false },
		{ "redirect_uri omitted, client has one (RFC 6749 4.1.3, OIDC Core 3.1.3.2)",
		  "app", APP_CB, "sub-alice", "api:read", NULL, true, T0 + 60,
		  "app", APP_SECRET, BASIC, NULL, RFC7636_VERIFIER, NULL,
		  200, NULL, true, false, false },
		{ "redirect_uri omitted, code bound to a URI not the registered one",
		  "app", "https://app.example/old", "sub-alice", "api:read", NULL, true, T0 + 60,
		  "app", APP_SECRET, BASIC, NULL, RFC7636_VERIFIER, NULL,
		  400, "invalid_grant", false, false, false },
		{ "code_verifier missing (RFC 7636 4.6)",
		  "app", APP_CB, "sub-alice", "api:read", NULL, true, T0 + 60,
		  "app", APP_SECRET, BASIC, APP_CB, NULL, NULL,
		  400, "invalid_grant", false, false, false },
		{ "code_verifier does not match",
		  "spa", SPA_CB, "sub-alice", "api:read", NULL, true, T0 + 60,
		  "spa", NULL, PUBLIC, SPA_CB, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj", NULL,
		  400, "invalid_grant", false, false, false },
		{ "malformed code_verifier: refused before the code is used",
		  "spa", SPA_CB, "sub-alice", "api:read", NULL, true, T0 + 60,
		  "spa", NULL, PUBLIC, SPA_CB, "short", NULL,
		  400, "invalid_request", false, false, true },
		{ "code_verifier for a code without challenge (RFC 9700 4.8.2)",
		  "app", APP_CB, "sub-alice", "api:read", NULL, false, T0 + 60,
		  "app", APP_SECRET, BASIC, APP_CB, RFC7636_VERIFIER, NULL,
		  400, "invalid_grant", false, false, false },
		{ "public client without PKCE",
		  "spa", SPA_CB, "sub-alice", "api:read", NULL, false, T0 + 60,
		  "spa", NULL, PUBLIC, SPA_CB, NULL, NULL,
		  400, "invalid_grant", false, false, false },
		{ "expired code",
		  "app", APP_CB, "sub-alice", "api:read", NULL, true, T0,
		  "app", APP_SECRET, BASIC, APP_CB, RFC7636_VERIFIER, NULL,
		  400, "invalid_grant", false, false, false },
		{ "unknown code",
		  "app", APP_CB, "sub-alice", "api:read", NULL, true, T0 + 60,
		  "app", APP_SECRET, BASIC, APP_CB, RFC7636_VERIFIER, "never-issued",
		  400, "invalid_grant", false, false, true },
		{ "disabled user",
		  "app", APP_CB, "sub-bob", "api:read", NULL, true, T0 + 60,
		  "app", APP_SECRET, BASIC, APP_CB, RFC7636_VERIFIER, NULL,
		  400, "invalid_grant", false, false, false },
		{ "client not registered for authorization_code",
		  "weird client:1", "https://w.example/cb", "sub-alice", "api:read", NULL,
		  true, T0 + 60, "weird client:1", WEIRD_SECRET, BASIC,
		  "https://w.example/cb", RFC7636_VERIFIER, NULL,
		  400, "unauthorized_client", false, false, true },
		{ "client ID-token alg without a key of that alg",
		  "es", "https://es.example/cb", "sub-alice", "openid", NULL, true, T0 + 60,
		  "es", ES_SECRET, BASIC, "https://es.example/cb", RFC7636_VERIFIER, NULL,
		  500, "server_error", false, false, false },
		{ "same client without openid needs no ID-token key",
		  "es", "https://es.example/cb", "sub-alice", "api:read", NULL, true, T0 + 60,
		  "es", ES_SECRET, BASIC, "https://es.example/cb", RFC7636_VERIFIER, NULL,
		  200, NULL, false, false, false },
	};
	struct fixture fx;
	struct answer a;
	size_t i;

	fixture_open(&fx, 1000);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *code = jg_xasprintf("code-%zu-0123456789abcdef", i);
		char *authz = NULL, *body, *tmp, *enc;
		struct json_object *at = NULL, *idt = NULL;
		struct jg_refresh *rt = NULL;

		/* The token request leaves redirect_uri out only where the
		 * authorization request did; test_redirect_uri_required
		 * covers the other combinations. */
		put_code_ex(&fx, code, cases[i].client, cases[i].redirect,
			    cases[i].redirect_sent == NULL, cases[i].sub,
			    cases[i].scope, cases[i].nonce,
			    cases[i].challenge ? RFC7636_CHALLENGE : NULL,
			    cases[i].expires);
		body = jg_xasprintf("grant_type=authorization_code&code=%s",
				    cases[i].code_sent ? cases[i].code_sent : code);
		if (cases[i].redirect_sent != NULL) {
			enc = jg_url_encode(cases[i].redirect_sent);
			tmp = jg_xasprintf("%s&redirect_uri=%s", body, enc);
			free(body);
			free(enc);
			body = tmp;
		}
		if (cases[i].verifier != NULL) {
			tmp = jg_xasprintf("%s&code_verifier=%s", body, cases[i].verifier);
			free(body);
			body = tmp;
		}
		if (cases[i].auth == BASIC) {
			authz = basic(cases[i].as, cases[i].secret);
		} else {
			enc = jg_url_encode(cases[i].as);
			tmp = jg_xasprintf("%s&client_id=%s%s%s", body, enc,
					   cases[i].auth == POST ? "&client_secret=" : "",
					   cases[i].auth == POST ? cases[i].secret : "");
			free(body);
			free(enc);
			body = tmp;
		}
		call(&fx, "/oauth/token", authz, body, T0, &a);
		if (a.resp.status != cases[i].status)
			fprintf(stderr, "code case failed: %s (%d %s)\n", cases[i].what,
				a.resp.status, a.resp.body);
		if (cases[i].error != NULL) {
			assert_error(&a, cases[i].status, cases[i].error);
			/* Nothing was issued: no refresh family for the user. */
		} else {
			CU_ASSERT_EQUAL(a.resp.status, 200);
			CU_ASSERT_TRUE(streq(jg_response_header(&a.resp, "Cache-Control"),
					     "no-store"));
			CU_ASSERT_TRUE(streq(jg_response_header(&a.resp, "Pragma"), "no-cache"));
			CU_ASSERT_TRUE(streq(jstr(a.json, "token_type"), "Bearer"));
			CU_ASSERT_EQUAL(jint(a.json, "expires_in"), 600);
			CU_ASSERT_TRUE(streq(jstr(a.json, "scope"), cases[i].scope));
			at = verify(&fx, jstr(a.json, "access_token"), JG_TYP_ACCESS, ISSUER,
				    T0, JG_KEY_ACCESS);
			CU_ASSERT_PTR_NOT_NULL_FATAL(at);
			/* RFC 9068 section 2.2. */
			CU_ASSERT_TRUE(streq(jstr(at, "sub"), cases[i].sub));
			CU_ASSERT_TRUE(streq(jstr(at, "client_id"), cases[i].client));
			CU_ASSERT_TRUE(streq(jstr(at, "scope"), cases[i].scope));
			CU_ASSERT_EQUAL(jint(at, "auth_time"), T0 - 30);
			CU_ASSERT_EQUAL(jint(at, "iat"), T0);
			CU_ASSERT_EQUAL(jint(at, "exp"), T0 + 600);
			CU_ASSERT_PTR_NOT_NULL(jstr(at, "jti"));
			CU_ASSERT_EQUAL(cases[i].refresh,
					jstr(a.json, "refresh_token") != NULL);
			CU_ASSERT_EQUAL(cases[i].id_token, jstr(a.json, "id_token") != NULL);
			if (cases[i].id_token) {
				char *h = at_hash_rs256(jstr(a.json, "access_token"));

				idt = verify(&fx, jstr(a.json, "id_token"), JG_TYP_ID,
					     cases[i].client, T0, JG_KEY_ID);
				CU_ASSERT_PTR_NOT_NULL_FATAL(idt);
				/* OpenID Connect Core section 2 and 3.1.3.6. */
				CU_ASSERT_TRUE(streq(jstr(idt, "sub"), cases[i].sub));
				CU_ASSERT_TRUE(streq(jstr(idt, "aud"), cases[i].client));
				CU_ASSERT_TRUE(streq(jstr(idt, "azp"), cases[i].client));
				CU_ASSERT_TRUE(streq(jstr(idt, "nonce"), cases[i].nonce));
				CU_ASSERT_TRUE(streq(jstr(idt, "at_hash"), h));
				CU_ASSERT_EQUAL(jint(idt, "auth_time"), T0 - 30);
				CU_ASSERT_EQUAL(jint(idt, "iat"), T0);
				CU_ASSERT_EQUAL(jint(idt, "exp"), T0 + 3600);
				free(h);
			}
			if (cases[i].refresh) {
				CU_ASSERT_EQUAL_FATAL(jg_store_refresh_lookup(fx.store,
					jstr(a.json, "refresh_token"), T0, &rt), JG_OK);
				CU_ASSERT_TRUE(rt->active);
				CU_ASSERT_TRUE(streq(rt->client_id, cases[i].client));
				CU_ASSERT_TRUE(streq(rt->sub, cases[i].sub));
				CU_ASSERT_TRUE(streq(rt->scope, cases[i].scope));
				CU_ASSERT_EQUAL(rt->auth_time, T0 - 30);
				CU_ASSERT_EQUAL(rt->absolute_expires, T0 + 7776000);
				CU_ASSERT_EQUAL(rt->idle_expires, T0 + 1209600);
			}
		}
		/* The database: a code is used up by any redemption attempt,
		 * and left alone by requests refused before it. */
		if (cases[i].code_sent == NULL)
			CU_ASSERT_EQUAL(code_unused(&fx, code), cases[i].code_left_unused);
		json_object_put(at);
		json_object_put(idt);
		jg_refresh_free(rt);
		answer_clear(&a);
		free(authz);
		free(body);
		free(code);
	}
	fixture_close(&fx);
}

/* RFC 6749 section 4.1.3: redirect_uri is REQUIRED at the token endpoint
 * when the authorization request included it, even for a client with one
 * registered URI; only a request that left it out may leave it out again. */
static void
test_redirect_uri_required(void)
{
	static const struct {
		const char *what;
		bool omitted;		/* by the authorization request */
		const char *sent;	/* by the token request; NULL: left out */
		int status;
		const char *error;
	} cases[] = {
		{ "sent to /authorize, left out at /token (RFC 6749 4.1.3)",
		  false, NULL, 400, "invalid_request" },
		{ "sent to both, equal", false, APP_CB, 200, NULL },
		{ "sent to both, differs by a trailing slash", false, APP_CB "/",
		  400, "invalid_grant" },
		{ "left out of both (RFC 6749 3.1.2.3, one registered URI)",
		  true, NULL, 200, NULL },
		{ "left out at /authorize, sent at /token, equal", true, APP_CB, 200, NULL },
		{ "left out at /authorize, another URI at /token", true,
		  "https://evil.example/cb", 400, "invalid_grant" },
	};
	struct fixture fx;
	struct answer a;
	size_t i;

	fixture_open(&fx, 1000);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *code = jg_xasprintf("ruri-%zu-0123456789abcdef", i);
		char *authz = basic("app", APP_SECRET), *body, *enc;

		put_code_ex(&fx, code, "app", APP_CB, cases[i].omitted, "sub-alice",
			    "api:read", NULL, RFC7636_CHALLENGE, T0 + 60);
		if (cases[i].sent != NULL) {
			enc = jg_url_encode(cases[i].sent);
			body = jg_xasprintf("grant_type=authorization_code&code=%s&"
					    "redirect_uri=%s&code_verifier="
					    RFC7636_VERIFIER, code, enc);
			free(enc);
		} else {
			body = jg_xasprintf("grant_type=authorization_code&code=%s&"
					    "code_verifier=" RFC7636_VERIFIER, code);
		}
		call(&fx, "/oauth/token", authz, body, T0, &a);
		if (a.resp.status != cases[i].status)
			fprintf(stderr, "redirect_uri case failed: %s (%d %s)\n",
				cases[i].what, a.resp.status, a.resp.body);
		if (cases[i].error != NULL) {
			assert_error(&a, cases[i].status, cases[i].error);
		} else {
			CU_ASSERT_EQUAL(a.resp.status, 200);
			CU_ASSERT_PTR_NOT_NULL(jstr(a.json, "access_token"));
		}
		/* Every row reached the code: it is used up either way. */
		CU_ASSERT_FALSE(code_unused(&fx, code));
		answer_clear(&a);
		free(authz);
		free(body);
		free(code);
	}

	/* Left out of both, but the client has been registered again with
	 * two URIs since: which one the code was for is no longer certain,
	 * so the request is refused. */
	{
		struct jg_client c;
		char *uris[2] = { (char *)(uintptr_t)"https://one.example/cb",
				  (char *)(uintptr_t)"https://one.example/cb2" };
		char *authz = basic("one", "one-secret-0123456789");

		add_client(fx.store, "one", "one-secret-0123456789", uris[0],
			   "authorization_code", "api:read", NULL, 0, 0, 0);
		CU_ASSERT_EQUAL_FATAL(jg_store_client_delete(fx.store, "one"), JG_OK);
		memset(&c, 0, sizeof(c));
		c.client_id = (char *)(uintptr_t)"one";
		CU_ASSERT_EQUAL_FATAL(jg_client_secret_hash("one-secret-0123456789",
							    &c.secret_hash), JG_OK);
		c.redirect_uris = uris;
		c.n_redirect_uris = 2;
		c.grant_types = (char *)(uintptr_t)"authorization_code";
		c.scopes = (char *)(uintptr_t)"api:read";
		CU_ASSERT_EQUAL_FATAL(jg_store_client_add(fx.store, &c, T0 - 10), JG_OK);
		free(c.secret_hash);
		put_code_ex(&fx, "ruri-two-0123456789abcdef", "one", uris[0], true,
			    "sub-alice", "api:read", NULL, RFC7636_CHALLENGE, T0 + 60);
		call(&fx, "/oauth/token", authz, "grant_type=authorization_code&"
		     "code=ruri-two-0123456789abcdef&code_verifier=" RFC7636_VERIFIER,
		     T0, &a);
		assert_error(&a, 400, "invalid_request");
		CU_ASSERT_TRUE(streq(jstr(a.json, "error_description"),
				     "redirect_uri is required"));
		/* Refused before the code is looked at: it is still there. */
		CU_ASSERT_TRUE(code_unused(&fx, "ruri-two-0123456789abcdef"));
		answer_clear(&a);
		free(authz);
	}
	fixture_close(&fx);
}

/* Redeems a fresh code of app (PKCE, scope) at now; the answer is in *a. */
static void
redeem(struct fixture *fx, const char *code, const char *scope, int64_t now,
       struct answer *a)
{
	char *authz = basic("app", APP_SECRET);
	char *body = jg_xasprintf("grant_type=authorization_code&code=%s&"
				  "redirect_uri=https%%3A%%2F%%2Fapp.example%%2Fcb&"
				  "code_verifier=" RFC7636_VERIFIER, code);

	put_code(fx, code, "app", APP_CB, "sub-alice", scope, "n1", RFC7636_CHALLENGE,
		 now + 60);
	call(fx, "/oauth/token", authz, body, now, a);
	free(authz);
	free(body);
}

static void
introspect_inactive(struct fixture *fx, const char *token, int64_t now)
{
	char *authz = basic("other", OTHER_SECRET);
	char *enc = jg_url_encode(token), *body = jg_xasprintf("token=%s", enc);
	struct answer a;

	call(fx, "/oauth/introspect", authz, body, now, &a);
	CU_ASSERT_EQUAL(a.resp.status, 200);
	/* RFC 7662 section 2.2: exactly this, nothing more. */
	CU_ASSERT_TRUE(a.resp.body != NULL && strcmp(a.resp.body, "{\"active\":false}") == 0);
	answer_clear(&a);
	free(authz);
	free(enc);
	free(body);
}

static void
test_code_replay(void)
{
	struct fixture fx;
	struct answer a1, a2;
	struct jg_refresh *rt = NULL;
	struct json_object *at;
	bool revoked = false;

	fixture_open(&fx, 1000);
	redeem(&fx, "replayed-code-0123456789", "openid offline_access api:read", T0, &a1);
	CU_ASSERT_EQUAL_FATAL(a1.resp.status, 200);
	at = verify(&fx, jstr(a1.json, "access_token"), JG_TYP_ACCESS, ISSUER, T0,
		    JG_KEY_ACCESS);
	CU_ASSERT_PTR_NOT_NULL_FATAL(at);

	/* The second redemption (RFC 6749 section 4.1.2): invalid_grant, and
	 * everything issued from the code is revoked. */
	{
		char *authz = basic("app", APP_SECRET);

		call(&fx, "/oauth/token", authz,
		     "grant_type=authorization_code&code=replayed-code-0123456789&"
		     "redirect_uri=https%3A%2F%2Fapp.example%2Fcb&code_verifier="
		     RFC7636_VERIFIER, T0 + 5, &a2);
		free(authz);
	}
	assert_error(&a2, 400, "invalid_grant");
	CU_ASSERT_EQUAL_FATAL(jg_store_refresh_lookup(fx.store,
		jstr(a1.json, "refresh_token"), T0 + 5, &rt), JG_OK);
	CU_ASSERT_FALSE(rt->active);
	CU_ASSERT_EQUAL(rt->revoked_at, T0 + 5);
	CU_ASSERT_EQUAL(jg_store_jti_is_revoked(fx.store, jstr(at, "jti"), &revoked), JG_OK);
	CU_ASSERT_TRUE(revoked);
	introspect_inactive(&fx, jstr(a1.json, "access_token"), T0 + 6);
	answer_clear(&a2);

	/* The revoked refresh token no longer works. */
	{
		char *authz = basic("app", APP_SECRET);
		char *body = jg_xasprintf("grant_type=refresh_token&refresh_token=%s",
					  jstr(a1.json, "refresh_token"));

		call(&fx, "/oauth/token", authz, body, T0 + 7, &a2);
		assert_error(&a2, 400, "invalid_grant");
		answer_clear(&a2);
		free(authz);
		free(body);
	}
	json_object_put(at);
	jg_refresh_free(rt);
	answer_clear(&a1);
	fixture_close(&fx);
}

/* ------------------------------------------------------------ refresh_token */

/* Presents refresh token rt as client (Basic) with an optional scope. */
static void
refresh(struct fixture *fx, const char *client, const char *secret,
	const char *rt, const char *scope, int64_t now, struct answer *a)
{
	char *authz = basic(client, secret), *enc = scope ? jg_url_encode(scope) : NULL;
	char *body = jg_xasprintf("grant_type=refresh_token&refresh_token=%s%s%s", rt,
				  enc ? "&scope=" : "", enc ? enc : "");

	call(fx, "/oauth/token", authz, body, now, a);
	free(authz);
	free(enc);
	free(body);
}

static bool
rt_active(struct fixture *fx, const char *rt, int64_t now)
{
	struct jg_refresh *r = NULL;
	bool active;

	if (jg_store_refresh_lookup(fx->store, rt, now, &r) != JG_OK)
		return false;
	active = r->active;
	jg_refresh_free(r);
	return active;
}

static void
test_refresh_rotation(void)
{
	struct fixture fx;
	struct answer a0, a1, a2, a;
	struct jg_refresh *r1 = NULL, *r2 = NULL;
	struct json_object *at;
	char *rt1, *rt2, *rt3;

	fixture_open(&fx, 1000);
	redeem(&fx, "code-for-refresh-0123456", "openid offline_access api:read api:write",
	       T0, &a0);
	CU_ASSERT_EQUAL_FATAL(a0.resp.status, 200);
	rt1 = jg_xstrdup(jstr(a0.json, "refresh_token"));

	/* Rotation (RFC 9700 section 4.14.2). */
	refresh(&fx, "app", APP_SECRET, rt1, NULL, T0 + 100, &a1);
	CU_ASSERT_EQUAL_FATAL(a1.resp.status, 200);
	rt2 = jg_xstrdup(jstr(a1.json, "refresh_token"));
	CU_ASSERT_FALSE(streq(rt1, rt2));
	CU_ASSERT_TRUE(streq(jstr(a1.json, "scope"), "openid offline_access api:read api:write"));
	CU_ASSERT_PTR_NOT_NULL(jstr(a1.json, "id_token"));
	CU_ASSERT_EQUAL(jg_store_refresh_lookup(fx.store, rt1, T0 + 100, &r1), JG_OK);
	CU_ASSERT_EQUAL(jg_store_refresh_lookup(fx.store, rt2, T0 + 100, &r2), JG_OK);
	if (r1 && r2) {
		CU_ASSERT_EQUAL(r1->rotated_at, T0 + 100);
		CU_ASSERT_FALSE(r1->active);
		CU_ASSERT_TRUE(r2->active);
		CU_ASSERT_EQUAL(r1->family_id, r2->family_id);
		CU_ASSERT_EQUAL(r2->idle_expires, T0 + 100 + 1209600);
	}
	at = verify(&fx, jstr(a1.json, "access_token"), JG_TYP_ACCESS, ISSUER, T0 + 100,
		    JG_KEY_ACCESS);
	CU_ASSERT_PTR_NOT_NULL(at);
	CU_ASSERT_EQUAL(jint(at, "auth_time"), T0 - 30);
	CU_ASSERT_EQUAL(jint(at, "iat"), T0 + 100);
	json_object_put(at);

	/* Narrowing (RFC 6749 section 6). */
	refresh(&fx, "app", APP_SECRET, rt2, "api:read", T0 + 200, &a2);
	CU_ASSERT_EQUAL_FATAL(a2.resp.status, 200);
	rt3 = jg_xstrdup(jstr(a2.json, "refresh_token"));
	CU_ASSERT_TRUE(streq(jstr(a2.json, "scope"), "api:read"));
	CU_ASSERT_PTR_NULL(jg_json_get(a2.json, "id_token"));
	at = verify(&fx, jstr(a2.json, "access_token"), JG_TYP_ACCESS, ISSUER, T0 + 200,
		    JG_KEY_ACCESS);
	CU_ASSERT_TRUE(streq(jstr(at, "scope"), "api:read"));
	json_object_put(at);
	/* ... the family keeps the whole grant. */
	refresh(&fx, "app", APP_SECRET, rt3, "api:write openid", T0 + 210, &a);
	CU_ASSERT_EQUAL(a.resp.status, 200);
	free(rt3);
	rt3 = jg_xstrdup(jstr(a.json, "refresh_token"));
	answer_clear(&a);

	/* Widening is refused and rotates nothing. */
	refresh(&fx, "app", APP_SECRET, rt3, "api:read admin", T0 + 300, &a);
	assert_error(&a, 400, "invalid_scope");
	answer_clear(&a);
	CU_ASSERT_TRUE(rt_active(&fx, rt3, T0 + 300));
	refresh(&fx, "app", APP_SECRET, rt3, "api:read\"", T0 + 300, &a);
	assert_error(&a, 400, "invalid_scope");
	answer_clear(&a);

	/* Another client: refused, the family untouched. */
	refresh(&fx, "other", OTHER_SECRET, rt3, NULL, T0 + 300, &a);
	assert_error(&a, 400, "invalid_grant");
	answer_clear(&a);
	CU_ASSERT_TRUE(rt_active(&fx, rt3, T0 + 300));

	/* Unknown and missing tokens. */
	refresh(&fx, "app", APP_SECRET, "no-such-token", NULL, T0 + 300, &a);
	assert_error(&a, 400, "invalid_grant");
	answer_clear(&a);
	call(&fx, "/oauth/token", NULL, "grant_type=refresh_token&client_id=app&"
	     "client_secret=" APP_SECRET, T0 + 300, &a);
	assert_error(&a, 400, "invalid_request");
	answer_clear(&a);

	/* Reuse of a rotated token revokes the family: the newest token too. */
	refresh(&fx, "app", APP_SECRET, rt1, NULL, T0 + 400, &a);
	assert_error(&a, 400, "invalid_grant");
	answer_clear(&a);
	CU_ASSERT_FALSE(rt_active(&fx, rt3, T0 + 400));
	jg_refresh_free(r1);
	r1 = NULL;
	CU_ASSERT_EQUAL(jg_store_refresh_lookup(fx.store, rt3, T0 + 400, &r1), JG_OK);
	CU_ASSERT_TRUE(r1 != NULL && r1->revoked_at == T0 + 400);
	refresh(&fx, "app", APP_SECRET, rt3, NULL, T0 + 401, &a);
	assert_error(&a, 400, "invalid_grant");
	answer_clear(&a);

	jg_refresh_free(r1);
	jg_refresh_free(r2);
	free(rt1);
	free(rt2);
	free(rt3);
	answer_clear(&a0);
	answer_clear(&a1);
	answer_clear(&a2);
	fixture_close(&fx);
}

/* Redeems a code of the client "short" (idle 100 s, absolute 250 s,
 * access tokens 120 s) at now and returns its refresh token. */
static char *
short_grant(struct fixture *fx, const char *code, int64_t now)
{
	char *authz = basic("short", SHORT_SECRET), *rt = NULL;
	char *body = jg_xasprintf("grant_type=authorization_code&code=%s&"
				  "redirect_uri=https%%3A%%2F%%2Fshort.example%%2Fcb", code);
	struct answer a;

	put_code(fx, code, "short", "https://short.example/cb", "sub-alice",
		 "openid api:read", NULL, NULL, now + 60);
	call(fx, "/oauth/token", authz, body, now, &a);
	CU_ASSERT_EQUAL(a.resp.status, 200);
	CU_ASSERT_EQUAL(jint(a.json, "expires_in"), 120);
	if (jstr(a.json, "refresh_token"))
		rt = jg_xstrdup(jstr(a.json, "refresh_token"));
	answer_clear(&a);
	free(authz);
	free(body);
	return rt;
}

/* Issue 5 point 3: RS256 ID tokens by default, another alg per client
 * (OpenID Connect Registration 1.0 section 2, id_token_signed_response_alg).
 * Once an ES256 ID key is current beside the RS256 one, the client "es"
 * (id_token_alg ES256) gets an ES256 ID token, verified with the JWKS as
 * published; a client without an alg still gets RS256. */
static void
test_client_id_token_alg(void)
{
	static const enum jg_alg es256[] = { JG_ALG_ES256 };
	static const enum jg_alg rs256[] = { JG_ALG_RS256 };
	static const struct {
		const char *what, *client, *secret, *redirect;
		const enum jg_alg *alg;
	} cases[] = {
		{ "client with id_token_alg ES256", "es", ES_SECRET,
		  "https://es.example/cb", es256 },
		{ "client without an alg: the configured RS256", "app", APP_SECRET,
		  APP_CB, rs256 },
	};
	struct fixture fx;
	struct answer a;
	struct jg_jwks *published = NULL;
	struct json_object *obj;
	const struct jg_jwk *want;
	char *errmsg = NULL, *text;
	const char *kid = NULL;
	size_t i;

	fixture_open(&fx, 1000);
	CU_ASSERT_PTR_NULL(jg_keyring_current_alg(fx.ring, JG_KEY_ID, JG_ALG_ES256));
	CU_ASSERT_EQUAL_FATAL(jg_keyring_rotate(fx.ring, JG_KEY_ID, JG_ALG_ES256,
						fx.config->id_token_alg, T0 - 50, &kid,
						&errmsg), JG_OK);
	/* Both ID keys are current; the RS256 one was not demoted. */
	CU_ASSERT_PTR_NOT_NULL_FATAL(jg_keyring_current_alg(fx.ring, JG_KEY_ID,
							    JG_ALG_RS256));
	CU_ASSERT_PTR_NOT_NULL_FATAL(jg_keyring_current_alg(fx.ring, JG_KEY_ID,
							    JG_ALG_ES256));
	CU_ASSERT_STRING_EQUAL(jg_keyring_current_alg(fx.ring, JG_KEY_ID,
						      JG_ALG_ES256)->kid, kid);
	/* The JWKS as jwks.json publishes it, parsed back. */
	obj = jg_keyring_jwks_json(fx.ring);
	text = jg_json_dump(obj);
	json_object_put(obj);
	CU_ASSERT_EQUAL_FATAL(jg_jwks_parse(text, strlen(text), &published, NULL), JG_OK);
	free(text);

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *code = jg_xasprintf("code-alg-%zu-0123456789abcdef", i);
		char *authz = basic(cases[i].client, cases[i].secret);
		char *enc = jg_url_encode(cases[i].redirect);
		char *body = jg_xasprintf("grant_type=authorization_code&code=%s&"
					  "redirect_uri=%s&code_verifier=" RFC7636_VERIFIER,
					  code, enc);
		struct jg_claims_policy policy;
		struct jg_jwt *jwt = NULL;
		char *h;

		want = jg_keyring_current_alg(fx.ring, JG_KEY_ID, cases[i].alg[0]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(want);
		put_code(&fx, code, cases[i].client, cases[i].redirect, "sub-alice",
			 "openid", "n-1", RFC7636_CHALLENGE, T0 + 60);
		call(&fx, "/oauth/token", authz, body, T0, &a);
		if (a.resp.status != 200)
			fprintf(stderr, "\n  %s: %d %s\n", cases[i].what, a.resp.status,
				a.resp.body);
		CU_ASSERT_EQUAL(a.resp.status, 200);
		CU_ASSERT_PTR_NOT_NULL_FATAL(jstr(a.json, "id_token"));
		memset(&policy, 0, sizeof(policy));
		policy.now = T0;
		policy.iss = ISSUER;
		policy.aud = cases[i].client;
		policy.typ = JG_TYP_ID;
		/* Only the alg the client registered is allowed here. */
		CU_ASSERT_EQUAL_FATAL(jg_jwt_verify(jstr(a.json, "id_token"),
						    strlen(jstr(a.json, "id_token")),
						    published, cases[i].alg, 1, &policy,
						    &jwt, NULL), JG_OK);
		CU_ASSERT_EQUAL(jwt->jws->alg, cases[i].alg[0]);
		CU_ASSERT_TRUE(streq(jwt->jws->kid, want->kid));
		CU_ASSERT_TRUE(streq(jstr(jwt->claims, "sub"), "sub-alice"));
		CU_ASSERT_TRUE(streq(jstr(jwt->claims, "nonce"), "n-1"));
		/* OpenID Connect Core section 3.1.3.6: ES256 and RS256 both
		 * hash with SHA-256. */
		h = at_hash_rs256(jstr(a.json, "access_token"));
		CU_ASSERT_TRUE(streq(jstr(jwt->claims, "at_hash"), h));
		free(h);
		jg_jwt_free(jwt);
		answer_clear(&a);
		free(body);
		free(enc);
		free(authz);
		free(code);
	}
	jg_jwks_free(published);
	fixture_close(&fx);
}

static void
test_refresh_expiry(void)
{
	static const struct {
		const char *what;
		int64_t at[4];		/* times of successive uses, 0 ends */
		int fails_at;		/* index of the use that must fail */
	} cases[] = {
		{ "used within the idle time, thrice", { 90, 180, 240, 0 }, -1 },
		{ "idle time passed (RFC 9700 4.14.2)", { 101, 0 }, 0 },
		{ "idle time passed after one rotation", { 50, 151, 0 }, 1 },
		{ "absolute lifetime passed although never idle", { 90, 180, 250, 0 }, 2 },
	};
	struct fixture fx;
	struct answer a;
	size_t i, j;

	fixture_open(&fx, 1000);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *code = jg_xasprintf("short-code-%zu-0123456789", i);
		char *rt = short_grant(&fx, code, T0), *next;

		CU_ASSERT_PTR_NOT_NULL_FATAL(rt);
		for (j = 0; j < 4 && cases[i].at[j] != 0; j++) {
			refresh(&fx, "short", SHORT_SECRET, rt, NULL, T0 + cases[i].at[j], &a);
			if ((int)j == cases[i].fails_at) {
				assert_error(&a, 400, "invalid_grant");
				CU_ASSERT_FALSE(rt_active(&fx, rt, T0 + cases[i].at[j]));
				answer_clear(&a);
				break;
			}
			CU_ASSERT_EQUAL(a.resp.status, 200);
			if (a.resp.status != 200)
				fprintf(stderr, "expiry case failed: %s, use %zu\n",
					cases[i].what, j);
			next = jstr(a.json, "refresh_token") ?
			       jg_xstrdup(jstr(a.json, "refresh_token")) : NULL;
			answer_clear(&a);
			if (next == NULL)
				break;
			free(rt);
			rt = next;
		}
		free(rt);
		free(code);
	}
	fixture_close(&fx);
}

static void
test_refresh_disabled_user(void)
{
	struct fixture fx;
	struct answer a0, a;

	fixture_open(&fx, 1000);
	redeem(&fx, "code-disabled-0123456789", "offline_access api:read", T0, &a0);
	CU_ASSERT_EQUAL_FATAL(a0.resp.status, 200);
	CU_ASSERT_EQUAL(jg_store_user_set_disabled(fx.store, "alice", true), JG_OK);
	refresh(&fx, "app", APP_SECRET, jstr(a0.json, "refresh_token"), NULL, T0 + 10, &a);
	assert_error(&a, 400, "invalid_grant");
	/* Not rotated: the token is still the family's current one. */
	CU_ASSERT_TRUE(rt_active(&fx, jstr(a0.json, "refresh_token"), T0 + 10));
	answer_clear(&a);
	answer_clear(&a0);
	fixture_close(&fx);
}

/* ------------------------------------------------------------ revocation */

static void
test_revoke(void)
{
	struct fixture fx;
	struct answer a0, a;
	struct json_object *at;
	char *b_app = basic("app", APP_SECRET), *b_other = basic("other", OTHER_SECRET);
	char *b_wrong_app = basic("app", "wrong");
	char *body;
	bool revoked = true;

	fixture_open(&fx, 1000);
	redeem(&fx, "code-revoke-0123456789ab", "offline_access api:read", T0, &a0);
	CU_ASSERT_EQUAL_FATAL(a0.resp.status, 200);
	at = verify(&fx, jstr(a0.json, "access_token"), JG_TYP_ACCESS, ISSUER, T0,
		    JG_KEY_ACCESS);
	CU_ASSERT_PTR_NOT_NULL_FATAL(at);

	/* Another client's tokens: 200, nothing revoked (RFC 7009 section 2.1). */
	body = jg_xasprintf("token=%s", jstr(a0.json, "refresh_token"));
	call(&fx, "/oauth/revoke", b_other, body, T0 + 1, &a);
	CU_ASSERT_EQUAL(a.resp.status, 200);
	answer_clear(&a);
	free(body);
	CU_ASSERT_TRUE(rt_active(&fx, jstr(a0.json, "refresh_token"), T0 + 1));
	body = jg_xasprintf("token=%s", jstr(a0.json, "access_token"));
	call(&fx, "/oauth/revoke", b_other, body, T0 + 1, &a);
	CU_ASSERT_EQUAL(a.resp.status, 200);
	answer_clear(&a);
	free(body);
	CU_ASSERT_EQUAL(jg_store_jti_is_revoked(fx.store, jstr(at, "jti"), &revoked), JG_OK);
	CU_ASSERT_FALSE(revoked);

	/* The access token goes on the deny list. */
	body = jg_xasprintf("token=%s&token_type_hint=access_token",
			    jstr(a0.json, "access_token"));
	call(&fx, "/oauth/revoke", b_app, body, T0 + 2, &a);
	CU_ASSERT_EQUAL(a.resp.status, 200);
	CU_ASSERT_EQUAL(a.resp.body_len, 0);
	CU_ASSERT_TRUE(streq(jg_response_header(&a.resp, "Cache-Control"), "no-store"));
	answer_clear(&a);
	free(body);
	CU_ASSERT_EQUAL(jg_store_jti_is_revoked(fx.store, jstr(at, "jti"), &revoked), JG_OK);
	CU_ASSERT_TRUE(revoked);
	introspect_inactive(&fx, jstr(a0.json, "access_token"), T0 + 3);

	/* The refresh token revokes its family; a wrong hint does not matter. */
	body = jg_xasprintf("token=%s&token_type_hint=access_token",
			    jstr(a0.json, "refresh_token"));
	call(&fx, "/oauth/revoke", b_app, body, T0 + 4, &a);
	CU_ASSERT_EQUAL(a.resp.status, 200);
	answer_clear(&a);
	free(body);
	CU_ASSERT_FALSE(rt_active(&fx, jstr(a0.json, "refresh_token"), T0 + 4));

	/* Unknown tokens answer 200 too (RFC 7009 section 2.2). */
	call(&fx, "/oauth/revoke", b_app, "token=unknown-token", T0 + 5, &a);
	CU_ASSERT_EQUAL(a.resp.status, 200);
	answer_clear(&a);
	call(&fx, "/oauth/revoke", b_app, "token=a.b.c", T0 + 5, &a);
	CU_ASSERT_EQUAL(a.resp.status, 200);
	answer_clear(&a);

	/* Errors. */
	call(&fx, "/oauth/revoke", b_app, "token_type_hint=refresh_token", T0 + 5, &a);
	assert_error(&a, 400, "invalid_request");
	answer_clear(&a);
	call(&fx, "/oauth/revoke", NULL, "token=unknown-token", T0 + 5, &a);
	assert_error(&a, 400, "invalid_client");
	answer_clear(&a);
	call(&fx, "/oauth/revoke", NULL, "token=unknown-token&client_id=app&"
	     "client_secret=wrong", T0 + 5, &a);
	assert_error(&a, 400, "invalid_client");
	answer_clear(&a);
	call(&fx, "/oauth/revoke", b_wrong_app, "token=unknown-token", T0 + 5, &a);
	assert_error(&a, 401, "invalid_client");
	answer_clear(&a);

	json_object_put(at);
	answer_clear(&a0);
	free(b_app);
	free(b_other);
	free(b_wrong_app);
	fixture_close(&fx);
}

static void
test_revoke_public(void)
{
	struct fixture fx;
	struct answer a0, a;
	char *body;

	fixture_open(&fx, 1000);
	put_code(&fx, "spa-code-0123456789abcd", "spa", SPA_CB, "sub-alice",
		 "offline_access", NULL, RFC7636_CHALLENGE, T0 + 60);
	call(&fx, "/oauth/token", NULL, "grant_type=authorization_code&client_id=spa&"
	     "code=spa-code-0123456789abcd&redirect_uri=https%3A%2F%2Fspa.example%2Fcb&"
	     "code_verifier=" RFC7636_VERIFIER, T0, &a0);
	CU_ASSERT_EQUAL_FATAL(a0.resp.status, 200);
	body = jg_xasprintf("client_id=spa&token=%s", jstr(a0.json, "refresh_token"));
	call(&fx, "/oauth/revoke", NULL, body, T0 + 1, &a);
	CU_ASSERT_EQUAL(a.resp.status, 200);
	CU_ASSERT_FALSE(rt_active(&fx, jstr(a0.json, "refresh_token"), T0 + 1));
	answer_clear(&a);
	free(body);
	answer_clear(&a0);
	fixture_close(&fx);
}

/* ------------------------------------------------------------ introspection */

static void
test_introspect(void)
{
	static const char *const members[] = {
		"active", "scope", "client_id", "sub", "exp", "iat", "iss", "aud",
		"jti", "token_type", NULL
	};
	struct fixture fx;
	struct answer a0, a;
	struct json_object *at, *forged;
	struct jg_jwk *stranger = NULL;
	char *b_other = basic("other", OTHER_SECRET), *b_app = basic("app", APP_SECRET);
	char *body, *token = NULL;
	const struct jg_jwk *idkey;
	size_t i;

	fixture_open(&fx, 1000);
	redeem(&fx, "code-introspect-0123456", "openid offline_access api:read", T0, &a0);
	CU_ASSERT_EQUAL_FATAL(a0.resp.status, 200);
	at = verify(&fx, jstr(a0.json, "access_token"), JG_TYP_ACCESS, ISSUER, T0,
		    JG_KEY_ACCESS);
	CU_ASSERT_PTR_NOT_NULL_FATAL(at);

	/* An active access token, asked by a resource server's client. */
	body = jg_xasprintf("token=%s", jstr(a0.json, "access_token"));
	call(&fx, "/oauth/introspect", b_other, body, T0 + 10, &a);
	CU_ASSERT_EQUAL(a.resp.status, 200);
	CU_ASSERT_TRUE(streq(jg_response_header(&a.resp, "Cache-Control"), "no-store"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(a.json);
	CU_ASSERT_EQUAL(json_object_object_length(a.json), 10);
	for (i = 0; members[i] != NULL; i++)
		CU_ASSERT_PTR_NOT_NULL(jg_json_get(a.json, members[i]));
	CU_ASSERT_TRUE(json_object_get_boolean(jg_json_get(a.json, "active")));
	CU_ASSERT_TRUE(streq(jstr(a.json, "scope"), "openid offline_access api:read"));
	CU_ASSERT_TRUE(streq(jstr(a.json, "client_id"), "app"));
	CU_ASSERT_TRUE(streq(jstr(a.json, "sub"), "sub-alice"));
	CU_ASSERT_TRUE(streq(jstr(a.json, "iss"), ISSUER));
	CU_ASSERT_TRUE(streq(jstr(a.json, "aud"), ISSUER));
	CU_ASSERT_TRUE(streq(jstr(a.json, "jti"), jstr(at, "jti")));
	CU_ASSERT_TRUE(streq(jstr(a.json, "token_type"), "Bearer"));
	CU_ASSERT_EQUAL(jint(a.json, "exp"), T0 + 600);
	CU_ASSERT_EQUAL(jint(a.json, "iat"), T0);
	answer_clear(&a);
	free(body);

	/* One second before exp: still active. */
	body = jg_xasprintf("token=%s", jstr(a0.json, "access_token"));
	call(&fx, "/oauth/introspect", b_other, body, T0 + 599, &a);
	CU_ASSERT_EQUAL(a.resp.status, 200);
	CU_ASSERT_TRUE(json_object_get_boolean(jg_json_get(a.json, "active")));
	answer_clear(&a);
	free(body);
	/* From exp on the token is inactive: the validation leeway (60 s in
	 * this configuration) is for other servers' clocks, not for the
	 * issuer's own (RFC 7662 section 2.2, RFC 7519 section 4.1.4). */
	CU_ASSERT_EQUAL(fx.config->leeway, 60);
	introspect_inactive(&fx, jstr(a0.json, "access_token"), T0 + 600);
	introspect_inactive(&fx, jstr(a0.json, "access_token"), T0 + 630);
	/* Expired (exp + leeway passed), an ID token, garbage: inactive. */
	introspect_inactive(&fx, jstr(a0.json, "access_token"), T0 + 600 + 60);
	introspect_inactive(&fx, jstr(a0.json, "id_token"), T0 + 10);
	introspect_inactive(&fx, "not-a-token", T0 + 10);
	introspect_inactive(&fx, "a.b.c", T0 + 10);
	/* A refresh token of another client: inactive for this caller. */
	introspect_inactive(&fx, jstr(a0.json, "refresh_token"), T0 + 10);

	/* The same claims signed by a stranger's key, and by our own
	 * ID-token key with typ at+jwt: inactive. */
	CU_ASSERT_EQUAL_FATAL(jg_jwk_generate(JG_ALG_ES256, 0, &stranger), JG_OK);
	CU_ASSERT_EQUAL(jg_jwt_sign(stranger, JG_ALG_ES256, JG_TYP_ACCESS, at, &token), JG_OK);
	introspect_inactive(&fx, token, T0 + 10);
	free(token);
	token = NULL;
	idkey = jg_keyring_current(fx.ring, JG_KEY_ID);
	forged = json_object_get(at);
	CU_ASSERT_EQUAL(jg_jwt_sign(idkey, idkey->alg, JG_TYP_ACCESS, forged, &token), JG_OK);
	introspect_inactive(&fx, token, T0 + 10);
	free(token);
	json_object_put(forged);
	jg_jwk_free(stranger);

	/* Its own refresh token, for the client it was issued to. */
	body = jg_xasprintf("token=%s&token_type_hint=refresh_token",
			    jstr(a0.json, "refresh_token"));
	call(&fx, "/oauth/introspect", b_app, body, T0 + 10, &a);
	CU_ASSERT_EQUAL(a.resp.status, 200);
	CU_ASSERT_TRUE(json_object_get_boolean(jg_json_get(a.json, "active")));
	CU_ASSERT_TRUE(streq(jstr(a.json, "token_type"), "refresh_token"));
	CU_ASSERT_TRUE(streq(jstr(a.json, "client_id"), "app"));
	CU_ASSERT_TRUE(streq(jstr(a.json, "sub"), "sub-alice"));
	CU_ASSERT_EQUAL(jint(a.json, "exp"), T0 + 1209600);
	answer_clear(&a);

	/* RFC 7662 section 2.2: exp is when it stops being usable, the
	 * earlier of its idle and its family's absolute expiry.  The store
	 * caps a new token's idle expiry at the family's end; a family whose
	 * end lies before it (a database changed by hand, or from before that
	 * cap) must still report the absolute one. */
	{
		sqlite3 *db = NULL;

		CU_ASSERT_EQUAL_FATAL(sqlite3_open(fx.config->database, &db), SQLITE_OK);
		CU_ASSERT_EQUAL(sqlite3_exec(db, "UPDATE families SET absolute_expires = "
					     "1700000500", NULL, NULL, NULL), SQLITE_OK);
		CU_ASSERT_EQUAL(sqlite3_changes(db), 1);
		sqlite3_close(db);
	}
	call(&fx, "/oauth/introspect", b_app, body, T0 + 10, &a);
	CU_ASSERT_EQUAL(a.resp.status, 200);
	CU_ASSERT_TRUE(json_object_get_boolean(jg_json_get(a.json, "active")));
	CU_ASSERT_EQUAL(jint(a.json, "exp"), T0 + 500);
	answer_clear(&a);
	/* And past that end it is inactive. */
	call(&fx, "/oauth/introspect", b_app, body, T0 + 500, &a);
	CU_ASSERT_EQUAL(a.resp.status, 200);
	CU_ASSERT_FALSE(json_object_get_boolean(jg_json_get(a.json, "active")));
	CU_ASSERT_PTR_NULL(jg_json_get(a.json, "exp"));
	answer_clear(&a);
	free(body);

	/* Callers: a public client may not introspect, a token is required. */
	body = jg_xasprintf("client_id=spa&token=%s", jstr(a0.json, "access_token"));
	call(&fx, "/oauth/introspect", NULL, body, T0 + 10, &a);
	assert_error(&a, 400, "invalid_client");
	answer_clear(&a);
	free(body);
	call(&fx, "/oauth/introspect", b_app, "", T0 + 10, &a);
	assert_error(&a, 400, "invalid_request");
	answer_clear(&a);

	json_object_put(at);
	answer_clear(&a0);
	free(b_other);
	free(b_app);
	fixture_close(&fx);
}

/* ------------------------------------------------------------ busy store */

static void
test_busy(void)
{
	struct fixture fx;
	struct answer a;
	sqlite3 *db = NULL;
	char *authz;

	/* No busy timeout: a locked database answers at once. */
	fixture_open(&fx, 0);
	put_code(&fx, "busy-code-0123456789abc", "app", APP_CB, "sub-alice", "api:read",
		 NULL, RFC7636_CHALLENGE, T0 + 60);
	CU_ASSERT_EQUAL_FATAL(sqlite3_open(fx.config->database, &db), SQLITE_OK);
	CU_ASSERT_EQUAL_FATAL(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	authz = basic("app", APP_SECRET);
	call(&fx, "/oauth/token", authz, "grant_type=authorization_code&"
	     "code=busy-code-0123456789abc&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&"
	     "code_verifier=" RFC7636_VERIFIER, T0, &a);
	assert_error(&a, 503, "temporarily_unavailable");
	CU_ASSERT_TRUE(streq(jg_response_header(&a.resp, "Retry-After"), "1"));
	answer_clear(&a);
	CU_ASSERT_EQUAL(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	/* The database did not change: the code still works. */
	call(&fx, "/oauth/token", authz, "grant_type=authorization_code&"
	     "code=busy-code-0123456789abc&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&"
	     "code_verifier=" RFC7636_VERIFIER, T0, &a);
	CU_ASSERT_EQUAL(a.resp.status, 200);
	answer_clear(&a);
	free(authz);
	fixture_close(&fx);
}

/* ------------------------------------------------------------ key rotation */

static void
test_reload_keyring(void)
{
	struct fixture fx;
	struct jg_keyring *admin = NULL;
	const char *new_kid = NULL;
	char *errmsg = NULL, *kid_copy;
	struct answer a;
	struct jg_jws *jws = NULL;
	const char *token;

	fixture_open(&fx, 1000);
	/* Loaded from disk, unchanged since: nothing to do. */
	CU_ASSERT_EQUAL_FATAL(jg_keyring_load(fx.config->key_dir, &admin, &errmsg), JG_OK);
	jg_keyring_free(fx.ctx.ring);
	fx.ctx.ring = admin;
	admin = NULL;
	CU_ASSERT_FALSE(jg_token_reload_keyring(&fx.ctx));
	/* `jwtgate key rotate` in another process replaces the index. */
	CU_ASSERT_EQUAL_FATAL(jg_keyring_load(fx.config->key_dir, &admin, &errmsg), JG_OK);
	CU_ASSERT_EQUAL_FATAL(jg_keyring_rotate(admin, JG_KEY_ACCESS, JG_ALG_EDDSA,
		JG_ALG_ES256, T0, &new_kid, &errmsg), JG_OK);
	kid_copy = jg_xstrdup(new_kid);
	jg_keyring_free(admin);
	CU_ASSERT_TRUE(jg_token_reload_keyring(&fx.ctx));
	fx.ring = fx.ctx.ring;
	call(&fx, "/oauth/token", NULL, "grant_type=client_credentials&client_id=app&"
	     "client_secret=" APP_SECRET, T0 + 1, &a);
	CU_ASSERT_EQUAL(a.resp.status, 200);
	token = jstr(a.json, "access_token");
	CU_ASSERT_PTR_NOT_NULL_FATAL(token);
	CU_ASSERT_EQUAL_FATAL(jg_jws_decode(token, strlen(token), &jws, NULL), JG_OK);
	CU_ASSERT_TRUE(streq(jws->kid, kid_copy));
	CU_ASSERT_EQUAL(jws->alg, JG_ALG_EDDSA);
	jg_jws_free(jws);
	answer_clear(&a);
	free(kid_copy);
	fixture_close(&fx);
}

int
main(void)
{
	static const struct jg_test tests[] = {
		{ "PKCE S256 (RFC 7636)", test_pkce },
		{ "method, content type, grant_type", test_request_format },
		{ "client authentication (RFC 6749 2.3)", test_client_auth },
		{ "client_credentials grant", test_client_credentials },
		{ "authorization_code grant checks", test_authorization_code },
		{ "redirect_uri required when the request had one", test_redirect_uri_required },
		{ "code replay revokes what it issued", test_code_replay },
		{ "refresh rotation, narrowing, reuse", test_refresh_rotation },
		{ "ID tokens in the client's own alg", test_client_id_token_alg },
		{ "refresh idle and absolute expiry", test_refresh_expiry },
		{ "refresh for a disabled user", test_refresh_disabled_user },
		{ "revocation (RFC 7009)", test_revoke },
		{ "revocation by a public client", test_revoke_public },
		{ "introspection (RFC 7662)", test_introspect },
		{ "busy store answers 503", test_busy },
		{ "a rotated keyring is picked up", test_reload_keyring },
		{ NULL, NULL }
	};

	return jg_test_main("token", tests);
}
