/* test_gate.c: common/gate.c and common/jwks_fetch.c: bearer-token
 * extraction (RFC 6750 section 2), every RFC 6750 section 3 answer,
 * access-token validation (RFC 9068 section 4), scope rules, the
 * verified-token cache under a pinned clock, revocation, keyring reload,
 * the authorizer and nginx answers, CORS, userinfo claims (OpenID Connect
 * Core 1.0 section 5.4), and external issuer keys from a JWKS cache file. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <gnutls/crypto.h>
#include <json-c/json.h>

#include "b64url.h"
#include "claims.h"
#include "conf.h"
#include "gate.h"
#include "http.h"
#include "json.h"
#include "jwks_fetch.h"
#include "keyring.h"
#include "store.h"
#include "testutil.h"
#include "util.h"

#define T0 1700000000
#define ISSUER "https://issuer.test"
#define EXT "https://ext.test"
#define DOWN "https://down.test"
#define ALICE "sub-alice-0001"

#define ASSERT_STR(actual, expected) \
	CU_ASSERT_STRING_EQUAL((actual) ? (actual) : "(null)", (expected))

/* Tokens minted once for the whole suite. */
enum tok {
	TK_NONE = 0,
	TK_VALID,	/* openid profile email */
	TK_ADMIN,	/* openid admin */
	TK_API,		/* api only (no openid) */
	TK_PHONE,	/* openid phone address */
	TK_EXPIRED,
	TK_NBF,
	TK_AUD,
	TK_TYP_JWT,
	TK_TYP_NONE,
	TK_ID_KEY,
	TK_ISS,
	TK_NO_JTI,
	TK_NO_CLIENT,
	TK_FORGED,
	TK_HS256,
	TK_REVOKED,
	TK_NOUSER,
	TK_SCOPE_NUM,
	TK_EXT,		/* external issuer, its key */
	TK_EXT_AUD,	/* external issuer, our audience instead of its own */
	TK_EXT_KID,	/* external issuer, a kid its JWKS lacks */
	TK_DOWN,	/* issuer whose keys were never fetched */
	TK_COUNT
};

static struct {
	char dir[64];
	char *conf_path;
	struct jg_config *config;
	struct jg_store *store;
	struct jg_keyring *ring;
	struct jg_jwk *ext_key;		/* the external issuer's key */
	struct jg_jwk *ext_other;	/* a key it has not published */
	char *tokens[TK_COUNT];
} f;

/* ------------------------------------------------------------ fixture */

static char *
mint(const struct jg_jwk *key, enum jg_alg alg, const char *typ, const char *iss,
     const char *aud, const char *sub, const char *client, const char *scope,
     const char *jti, int64_t exp, int64_t nbf)
{
	struct json_object *c = json_object_new_object();
	char *token = NULL;

	if (iss)
		json_object_object_add(c, "iss", json_object_new_string(iss));
	if (aud)
		json_object_object_add(c, "aud", json_object_new_string(aud));
	if (sub)
		json_object_object_add(c, "sub", json_object_new_string(sub));
	if (client)
		json_object_object_add(c, "client_id", json_object_new_string(client));
	if (scope)
		json_object_object_add(c, "scope", json_object_new_string(scope));
	if (jti)
		json_object_object_add(c, "jti", json_object_new_string(jti));
	json_object_object_add(c, "iat", json_object_new_int64(T0 - 10));
	json_object_object_add(c, "exp", json_object_new_int64(exp));
	if (nbf)
		json_object_object_add(c, "nbf", json_object_new_int64(nbf));
	if (jg_jwt_sign(key, alg, typ, c, &token) != JG_OK) {
		fprintf(stderr, "test bug: cannot sign\n");
		abort();
	}
	json_object_put(c);
	return token;
}

/* Writes the JWKS cache file of issuer as jwks_fetch would. */
static void
write_cache(const char *issuer, const struct jg_jwk *key, int64_t fetched,
	    int64_t expires)
{
	struct json_object *o = json_object_new_object(), *set;
	struct jg_jwks *keys = jg_jwks_new();
	unsigned char digest[32];
	char *name, *path, *text;

	jg_jwks_add(keys, jg_jwk_public(key));
	set = jg_jwks_to_json(keys, false);
	json_object_object_add(o, "issuer", json_object_new_string(issuer));
	json_object_object_add(o, "fetched", json_object_new_int64(fetched));
	json_object_object_add(o, "expires", json_object_new_int64(expires));
	json_object_object_add(o, "jwks", set);
	gnutls_hash_fast(GNUTLS_DIG_SHA256, issuer, strlen(issuer), digest);
	name = jg_b64url_encode(digest, sizeof(digest));
	path = jg_xasprintf("%s/%s.json", f.config->jwks_cache_dir, name);
	text = jg_json_dump(o);
	if (jg_write_file_atomic(path, text, strlen(text), 0644) != JG_OK)
		abort();
	free(text);
	free(path);
	free(name);
	json_object_put(o);
	jg_jwks_free(keys);
}

static void
fixture_up(void)
{
	const struct jg_jwk *access, *idkey;
	struct jg_jwk *hs = NULL;
	struct jg_user u;
	char *errmsg = NULL, *text, *path;
	const char *kid = NULL;
	FILE *fp;

	snprintf(f.dir, sizeof(f.dir), "/tmp/jg-gate-XXXXXX");
	if (mkdtemp(f.dir) == NULL)
		abort();
	f.conf_path = jg_xasprintf("%s/jwtgate.conf", f.dir);
	fp = fopen(f.conf_path, "w");
	if (fp == NULL)
		abort();
	/* Port 1 on loopback refuses at once: the "unreachable" issuer. */
	fprintf(fp,
		"issuer = " ISSUER "\n"
		"database = %s/jwtgate.db\n"
		"key_dir = %s/keys\n"
		"htdocs = %s/htdocs\n"
		"leeway = 0\n"
		"revocation_check_interval = 30\n"
		"verified_cache_size = 64\n"
		"jwks_refresh_min_interval = 60\n"
		"jwks_cache_dir = %s/jwks\n"
		"require_scope = /api/admin admin\n"
		"cors_origin = https://app.test\n"
		"\n[issuer " EXT "]\naudience = https://api.test\nalgorithms = ES256\n"
		"jwks_uri = https://127.0.0.1:1/jwks.json\n"
		"\n[issuer " DOWN "]\naudience = https://api.test\nalgorithms = ES256\n"
		"jwks_uri = https://127.0.0.1:1/down.json\n",
		f.dir, f.dir, f.dir, f.dir);
	fclose(fp);
	if (jg_config_load(f.conf_path, &f.config, &errmsg) != JG_OK) {
		fprintf(stderr, "test bug: %s\n", errmsg);
		abort();
	}
	path = jg_xasprintf("%s/keys", f.dir);
	mkdir(path, 0700);
	free(path);
	mkdir(f.config->jwks_cache_dir, 0755);
	f.ring = jg_keyring_new(f.config->key_dir);
	if (jg_keyring_rotate(f.ring, JG_KEY_ACCESS, JG_ALG_ES256, JG_ALG_ES256, T0 - 100,
			      &kid, &errmsg) != JG_OK ||
	    jg_keyring_rotate(f.ring, JG_KEY_ID, JG_ALG_ES256, JG_ALG_ES256, T0 - 100,
			      &kid, &errmsg) != JG_OK) {
		fprintf(stderr, "test bug: %s\n", errmsg);
		abort();
	}
	if (jg_store_open(f.config->database, 1000, &f.store, &errmsg) != JG_OK) {
		fprintf(stderr, "test bug: %s\n", errmsg);
		abort();
	}
	memset(&u, 0, sizeof(u));
	u.sub = ALICE;
	u.username = "alice";
	u.password_hash = "$y$j9T$0123456789abcdef$0123456789abcdef0123456789abcdef0123456789a";
	u.name = "Alice Liddell";
	u.given_name = "Alice";
	u.family_name = "Liddell";
	u.email = "alice@example.org";
	u.email_verified = true;
	u.phone_number = "+1 555 0100";
	u.address = "1 Rabbit Hole, Oxford";
	if (jg_store_user_add(f.store, &u, T0 - 1000) != JG_OK)
		abort();
	if (jg_store_jti_revoke(f.store, "jti-revoked", T0 + 600) != JG_OK)
		abort();

	access = jg_keyring_current(f.ring, JG_KEY_ACCESS);
	idkey = jg_keyring_current(f.ring, JG_KEY_ID);
	if (jg_jwk_generate(JG_ALG_ES256, 0, &f.ext_key) != JG_OK ||
	    jg_jwk_generate(JG_ALG_ES256, 0, &f.ext_other) != JG_OK ||
	    jg_jwk_generate(JG_ALG_HS256, 0, &hs) != JG_OK)
		abort();
#define LOCAL(scope, jti) mint(access, access->alg, JG_TYP_ACCESS, ISSUER, ISSUER, \
			       ALICE, "app", scope, jti, T0 + 600, 0)
	f.tokens[TK_VALID] = LOCAL("openid profile email", "jti-valid");
	f.tokens[TK_ADMIN] = LOCAL("openid admin", "jti-admin");
	f.tokens[TK_API] = LOCAL("api", "jti-api");
	f.tokens[TK_PHONE] = LOCAL("openid phone address", "jti-phone");
	f.tokens[TK_REVOKED] = LOCAL("openid", "jti-revoked");
#undef LOCAL
	f.tokens[TK_EXPIRED] = mint(access, access->alg, JG_TYP_ACCESS, ISSUER, ISSUER,
				    ALICE, "app", "openid", "j1", T0 - 1, 0);
	f.tokens[TK_NBF] = mint(access, access->alg, JG_TYP_ACCESS, ISSUER, ISSUER,
				ALICE, "app", "openid", "j2", T0 + 600, T0 + 100);
	f.tokens[TK_AUD] = mint(access, access->alg, JG_TYP_ACCESS, ISSUER,
				"https://other.test", ALICE, "app", "openid", "j3",
				T0 + 600, 0);
	f.tokens[TK_TYP_JWT] = mint(access, access->alg, "JWT", ISSUER, ISSUER, ALICE,
				    "app", "openid", "j4", T0 + 600, 0);
	f.tokens[TK_TYP_NONE] = mint(access, access->alg, NULL, ISSUER, ISSUER, ALICE,
				     "app", "openid", "j5", T0 + 600, 0);
	f.tokens[TK_ID_KEY] = mint(idkey, idkey->alg, JG_TYP_ACCESS, ISSUER, ISSUER,
				   ALICE, "app", "openid", "j6", T0 + 600, 0);
	f.tokens[TK_ISS] = mint(access, access->alg, JG_TYP_ACCESS, "https://evil.test",
				ISSUER, ALICE, "app", "openid", "j7", T0 + 600, 0);
	f.tokens[TK_NO_JTI] = mint(access, access->alg, JG_TYP_ACCESS, ISSUER, ISSUER,
				   ALICE, "app", "openid", NULL, T0 + 600, 0);
	f.tokens[TK_NO_CLIENT] = mint(access, access->alg, JG_TYP_ACCESS, ISSUER, ISSUER,
				      ALICE, NULL, "openid", "j8", T0 + 600, 0);
	f.tokens[TK_FORGED] = jg_xstrdup(f.tokens[TK_VALID]);
	text = strrchr(f.tokens[TK_FORGED], '.') + 10;
	*text = *text == 'A' ? 'B' : 'A';
	f.tokens[TK_HS256] = mint(hs, JG_ALG_HS256, JG_TYP_ACCESS, ISSUER, ISSUER, ALICE,
				  "app", "openid", "j9", T0 + 600, 0);
	f.tokens[TK_NOUSER] = mint(access, access->alg, JG_TYP_ACCESS, ISSUER, ISSUER,
				   "svc-client", "svc-client", "openid api", "j10",
				   T0 + 600, 0);
	{
		/* "scope" as a number: RFC 9068 2.2.3 makes it a string. */
		struct json_object *c = json_object_new_object();

		json_object_object_add(c, "iss", json_object_new_string(ISSUER));
		json_object_object_add(c, "aud", json_object_new_string(ISSUER));
		json_object_object_add(c, "sub", json_object_new_string(ALICE));
		json_object_object_add(c, "client_id", json_object_new_string("app"));
		json_object_object_add(c, "scope", json_object_new_int(1));
		json_object_object_add(c, "jti", json_object_new_string("j11"));
		json_object_object_add(c, "iat", json_object_new_int64(T0 - 10));
		json_object_object_add(c, "exp", json_object_new_int64(T0 + 600));
		if (jg_jwt_sign(access, access->alg, JG_TYP_ACCESS, c,
				&f.tokens[TK_SCOPE_NUM]) != JG_OK)
			abort();
		json_object_put(c);
	}
	f.tokens[TK_EXT] = mint(f.ext_key, JG_ALG_ES256, JG_TYP_ACCESS, EXT,
				"https://api.test", "ext-user", "ext-app", "read", "e1",
				T0 + 600, 0);
	f.tokens[TK_EXT_AUD] = mint(f.ext_key, JG_ALG_ES256, JG_TYP_ACCESS, EXT, ISSUER,
				    "ext-user", "ext-app", "read", "e2", T0 + 600, 0);
	f.tokens[TK_EXT_KID] = mint(f.ext_other, JG_ALG_ES256, JG_TYP_ACCESS, EXT,
				    "https://api.test", "ext-user", "ext-app", "read",
				    "e3", T0 + 600, 0);
	f.tokens[TK_DOWN] = mint(f.ext_key, JG_ALG_ES256, JG_TYP_ACCESS, DOWN,
				 "https://api.test", "ext-user", "ext-app", "read", "e4",
				 T0 + 600, 0);
	jg_jwk_free(hs);
	write_cache(EXT, f.ext_key, T0, T0 + 3600);
}

static void
fixture_down(void)
{
	char *cmd;
	size_t i;

	for (i = 0; i < TK_COUNT; i++)
		free(f.tokens[i]);
	jg_jwk_free(f.ext_key);
	jg_jwk_free(f.ext_other);
	jg_keyring_free(f.ring);
	jg_store_close(f.store);
	jg_config_free(f.config);
	free(f.conf_path);
	cmd = jg_xasprintf("rm -rf '%s'", f.dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", f.dir);
	free(cmd);
}

static struct jg_gate *
gate_new(void)
{
	struct jg_gate *g = NULL;
	char *errmsg = NULL;

	CU_ASSERT_EQUAL_FATAL(jg_gate_new(f.config, f.store, &g, &errmsg), JG_OK);
	CU_ASSERT_PTR_NULL(errmsg);
	return g;
}

/* ------------------------------------------------------------ requests */

struct body {
	const char *data;
	size_t len, pos;
};

static long
body_read(void *ctx, char *buf, size_t len)
{
	struct body *b = ctx;
	size_t n = b->len - b->pos < len ? b->len - b->pos : len;

	memcpy(buf, b->data + b->pos, n);
	b->pos += n;
	return (long)n;
}

/* Parses a request: method, uri (with its query), up to 4 extra
 * "NAME=value" parameters (NULL ends), an optional form body. */
static void
request(struct jg_request *req, enum jg_role role, const char *method,
	const char *uri, const char *const *extra, const char *form, int64_t now)
{
	const char *env[16];
	char *owned[8];
	struct body b = { form, form ? strlen(form) : 0, 0 };
	struct jg_body_source src = { body_read, &b, true };
	const char *q = strchr(uri, '?');
	size_t n = 0, no = 0, i;
	int status = 0;

	owned[no++] = jg_xasprintf("REQUEST_METHOD=%s", method);
	owned[no++] = jg_xasprintf("REQUEST_URI=%s", uri);
	owned[no++] = jg_xasprintf("QUERY_STRING=%s", q ? q + 1 : "");
	if (form) {
		owned[no++] = jg_xasprintf("CONTENT_LENGTH=%zu", strlen(form));
		owned[no++] = jg_xstrdup("CONTENT_TYPE=application/x-www-form-urlencoded");
	}
	for (i = 0; i < no; i++)
		env[n++] = owned[i];
	env[n++] = "REMOTE_ADDR=127.0.0.1";
	for (i = 0; extra && extra[i]; i++)
		env[n++] = extra[i];
	env[n] = NULL;
	jg_request_init(req);
	CU_ASSERT_EQUAL(jg_request_parse(req, env, role, now, form ? &src : NULL,
					 JG_HTTP_MAX_BODY, &status, NULL), JG_OK);
	for (i = 0; i < no; i++)
		free(owned[i]);
}

/* ------------------------------------------------------------ extraction */

enum { M_COOKIE = 1, M_FORM = 2, M_QUERY = 4 };

static void
test_extract(void)
{
	/* RFC 6750 section 2 (methods), 2.1 (header), 2.2 (form), 2.3
	 * (query); "more than one method" is the invalid_request of section 2
	 * ("Clients MUST NOT use more than one method"). */
	static const struct {
		unsigned methods;	/* which optional methods are enabled */
		const char *method, *uri, *auth, *cookie, *form;
		enum jg_err err;
		const char *token, *why;
	} cases[] = {
		{ 0, "GET", "/api/me", "Bearer abc.def.ghi", NULL, NULL, JG_OK, "abc.def.ghi", NULL },
		{ 0, "GET", "/api/me", "bEaReR abc", NULL, NULL, JG_OK, "abc", NULL },
		{ 0, "GET", "/api/me", "Bearer  abc= ", NULL, NULL, JG_OK, "abc=", NULL },
		{ 0, "GET", "/api/me", NULL, NULL, NULL, JG_ERR_NOT_FOUND, NULL, NULL },
		{ 0, "GET", "/api/me", "Basic YTpi", NULL, NULL, JG_ERR_NOT_FOUND, NULL, NULL },
		{ 0, "GET", "/api/me", "Bearer", NULL, NULL, JG_ERR_MALFORMED, NULL,
		  "the Authorization header is not a valid Bearer credential" },
		{ 0, "GET", "/api/me", "Bearer a b", NULL, NULL, JG_ERR_MALFORMED, NULL,
		  "the Authorization header is not a valid Bearer credential" },
		{ 0, "GET", "/api/me", "Bearer a\"b", NULL, NULL, JG_ERR_MALFORMED, NULL,
		  "the Authorization header is not a valid Bearer credential" },
		/* Disabled methods are not looked at. */
		{ 0, "GET", "/api/me?access_token=q", NULL, "at=c", NULL,
		  JG_ERR_NOT_FOUND, NULL, NULL },
		{ 0, "POST", "/api/me", NULL, NULL, "access_token=f", JG_ERR_NOT_FOUND, NULL, NULL },
		/* Cookie. */
		{ M_COOKIE, "GET", "/api/me", NULL, "x=1; at=cookietoken", NULL, JG_OK,
		  "cookietoken", NULL },
		{ M_COOKIE, "GET", "/api/me", NULL, "at=one; at=two", NULL, JG_ERR_MALFORMED,
		  NULL, "the access token cookie is repeated" },
		{ M_COOKIE, "GET", "/api/me", NULL, "at=a\\b", NULL, JG_ERR_MALFORMED, NULL,
		  "the access token cookie is malformed" },
		{ M_COOKIE, "GET", "/api/me", "Bearer h", "at=c", NULL, JG_ERR_MALFORMED, NULL,
		  "more than one method was used to send the access token" },
		/* Form body (RFC 6750 2.2). */
		{ M_FORM, "POST", "/oauth/userinfo", NULL, NULL, "access_token=formtoken",
		  JG_OK, "formtoken", NULL },
		{ M_FORM, "POST", "/oauth/userinfo", NULL, NULL, "other=1", JG_ERR_NOT_FOUND,
		  NULL, NULL },
		{ M_FORM, "POST", "/oauth/userinfo", "Bearer h", NULL, "access_token=f",
		  JG_ERR_MALFORMED, NULL,
		  "more than one method was used to send the access token" },
		{ M_FORM, "POST", "/oauth/userinfo", NULL, NULL, "access_token=a&access_token=b",
		  JG_ERR_MALFORMED, NULL, "a parameter is repeated" },
		{ M_FORM, "POST", "/oauth/userinfo", NULL, NULL, "access_token=", JG_ERR_MALFORMED,
		  NULL, "the access token is empty" },
		/* Query (RFC 6750 2.3). */
		{ M_QUERY, "GET", "/api/me?access_token=querytoken", NULL, NULL, NULL, JG_OK,
		  "querytoken", NULL },
		{ M_QUERY, "GET", "/api/me?access_token=q", "Bearer h", NULL, NULL,
		  JG_ERR_MALFORMED, NULL,
		  "more than one method was used to send the access token" },
		{ M_QUERY | M_FORM, "POST", "/api/me?access_token=q", NULL, NULL, "access_token=f",
		  JG_ERR_MALFORMED, NULL,
		  "more than one method was used to send the access token" },
		{ M_QUERY, "GET", "/api/me?access_token=%zz", NULL, NULL, NULL, JG_ERR_MALFORMED,
		  NULL, NULL },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct jg_request req;
		const char *extra[3];
		char *auth = NULL, *cookie = NULL, *token = NULL, *saved = f.config->bearer_cookie;
		const char *why = NULL;
		size_t n = 0;
		enum jg_err err;

		if (cases[i].auth)
			extra[n++] = auth = jg_xasprintf("HTTP_AUTHORIZATION=%s", cases[i].auth);
		if (cases[i].cookie)
			extra[n++] = cookie = jg_xasprintf("HTTP_COOKIE=%s", cases[i].cookie);
		extra[n] = NULL;
		f.config->bearer_cookie = (cases[i].methods & M_COOKIE) ? (char *)"at" : NULL;
		f.config->bearer_form = (cases[i].methods & M_FORM) != 0;
		f.config->bearer_query = (cases[i].methods & M_QUERY) != 0;
		request(&req, JG_ROLE_RESPONDER, cases[i].method, cases[i].uri, extra,
			cases[i].form, T0);
		err = jg_gate_extract(f.config, &req, &token, &why);
		if (err != cases[i].err)
			fprintf(stderr, "extract case %zu: %d\n", i, err);
		CU_ASSERT_EQUAL(err, cases[i].err);
		if (cases[i].token) {
			ASSERT_STR(token, cases[i].token);
		} else {
			CU_ASSERT_PTR_NULL(token);
		}
		if (cases[i].why)
			ASSERT_STR(why, cases[i].why);
		jg_free_secret(token);
		jg_request_clear(&req);
		free(auth);
		free(cookie);
		f.config->bearer_cookie = saved;
	}
	f.config->bearer_form = false;
	f.config->bearer_query = false;
}

/* ------------------------------------------------------------ answers */

static void
test_answers(void)
{
	/* RFC 6750 section 3 and 3.1: no credentials: no error code;
	 * invalid_request 400; invalid_token 401; insufficient_scope 403 with
	 * the scope.  Validation: RFC 9068 section 4, RFC 8725. */
#define ERR(code, desc) "Bearer realm=\"jwtgate\", error=\"" code \
		"\", error_description=\"" desc "\""
#define BAD(desc) ERR("invalid_token", desc)
	static const struct {
		const char *method, *path;
		enum tok tok;
		const char *auth;	/* a raw Authorization header instead */
		int status;
		const char *www;	/* exact, or NULL: none */
	} cases[] = {
		{ "GET", "/oauth/userinfo", TK_NONE, NULL, 401, "Bearer realm=\"jwtgate\"" },
		{ "GET", "/oauth/userinfo", TK_NONE, "Basic YTpi", 401, "Bearer realm=\"jwtgate\"" },
		{ "GET", "/oauth/userinfo", TK_NONE, "Bearer", 400,
		  ERR("invalid_request", "the Authorization header is not a valid Bearer credential") },
		{ "GET", "/oauth/userinfo", TK_NONE, "Bearer not-a-jwt", 401,
		  BAD("not three segments") },
		{ "GET", "/oauth/userinfo", TK_VALID, NULL, 200, NULL },
		{ "POST", "/oauth/userinfo", TK_VALID, NULL, 200, NULL },
		{ "PUT", "/oauth/userinfo", TK_VALID, NULL, 405, NULL },
		{ "GET", "/oauth/userinfo", TK_EXPIRED, NULL, 401, BAD("token expired") },
		{ "GET", "/oauth/userinfo", TK_NBF, NULL, 401, BAD("token not yet valid (nbf)") },
		{ "GET", "/oauth/userinfo", TK_AUD, NULL, 401,
		  BAD("aud does not include the expected audience") },
		{ "GET", "/oauth/userinfo", TK_TYP_JWT, NULL, 401, BAD("wrong token typ") },
		{ "GET", "/oauth/userinfo", TK_TYP_NONE, NULL, 401, BAD("token typ missing") },
		{ "GET", "/oauth/userinfo", TK_ID_KEY, NULL, 401, BAD("no key for kid") },
		{ "GET", "/oauth/userinfo", TK_ISS, NULL, 401,
		  BAD("the token's issuer is not trusted") },
		{ "GET", "/oauth/userinfo", TK_NO_JTI, NULL, 401, BAD("a required claim is missing") },
		{ "GET", "/oauth/userinfo", TK_NO_CLIENT, NULL, 401,
		  BAD("a required claim is missing") },
		{ "GET", "/oauth/userinfo", TK_FORGED, NULL, 401, BAD("signature invalid") },
		{ "GET", "/oauth/userinfo", TK_HS256, NULL, 401, BAD("algorithm not allowed") },
		{ "GET", "/oauth/userinfo", TK_REVOKED, NULL, 401, BAD("the token has been revoked") },
		{ "GET", "/oauth/userinfo", TK_SCOPE_NUM, NULL, 401, BAD("scope must be a string") },
		{ "GET", "/oauth/userinfo", TK_NOUSER, NULL, 401,
		  BAD("the token's subject is not a user here") },
		/* OpenID Connect Core 5.3: userinfo needs the openid scope. */
		{ "GET", "/oauth/userinfo", TK_API, NULL, 403,
		  ERR("insufficient_scope", "the token lacks a scope this resource requires")
		  ", scope=\"openid\"" },
		/* require_scope = /api/admin admin */
		{ "GET", "/api/admin", TK_VALID, NULL, 403,
		  ERR("insufficient_scope", "the token lacks a scope this resource requires")
		  ", scope=\"admin\"" },
		{ "GET", "/api/admin/users", TK_API, NULL, 403,
		  ERR("insufficient_scope", "the token lacks a scope this resource requires")
		  ", scope=\"admin\"" },
		{ "GET", "/api/admin", TK_ADMIN, NULL, 404, NULL },
		{ "GET", "/api/administrator", TK_VALID, NULL, 404, NULL },
		{ "GET", "/api/me", TK_API, NULL, 200, NULL },
		{ "GET", "/api/me", TK_NOUSER, NULL, 200, NULL },
		{ "POST", "/api/me", TK_API, NULL, 405, NULL },
		{ "GET", "/api/other", TK_API, NULL, 404, NULL },
		{ "GET", "/api/other", TK_NONE, NULL, 401, "Bearer realm=\"jwtgate\"" },
		{ "GET", "/elsewhere", TK_NONE, NULL, 404, NULL },
		/* External issuer: its audience, its key. */
		{ "GET", "/api/me", TK_EXT, NULL, 200, NULL },
		{ "GET", "/api/me", TK_EXT_AUD, NULL, 401,
		  BAD("aud does not include the expected audience") },
		{ "GET", "/oauth/userinfo", TK_EXT, NULL, 403,
		  ERR("insufficient_scope", "the token lacks a scope this resource requires")
		  ", scope=\"openid\"" },
	};
#undef BAD
#undef ERR
	struct jg_gate *g = gate_new();
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct jg_request req;
		struct jg_response resp;
		const char *extra[2] = { NULL, NULL };
		const char *www;
		char *auth = NULL;

		if (cases[i].auth)
			auth = jg_xasprintf("HTTP_AUTHORIZATION=%s", cases[i].auth);
		else if (cases[i].tok != TK_NONE)
			auth = jg_xasprintf("HTTP_AUTHORIZATION=Bearer %s",
					    f.tokens[cases[i].tok]);
		extra[0] = auth;
		request(&req, JG_ROLE_RESPONDER, cases[i].method, cases[i].path, extra,
			NULL, T0);
		jg_response_init(&resp);
		CU_ASSERT_EQUAL(jg_gate_handle(g, &req, &resp), JG_OK);
		if (resp.status != cases[i].status)
			fprintf(stderr, "answer case %zu: %d %s\n", i, resp.status,
				jg_response_header(&resp, "WWW-Authenticate"));
		CU_ASSERT_EQUAL(resp.status, cases[i].status);
		www = jg_response_header(&resp, "WWW-Authenticate");
		if (cases[i].www) {
			if (www == NULL || strcmp(www, cases[i].www) != 0)
				fprintf(stderr, "answer case %zu: %s\n", i, www ? www : "(none)");
			ASSERT_STR(www, cases[i].www);
		} else {
			CU_ASSERT_PTR_NULL(www);
		}
		if (cases[i].status == 405)
			CU_ASSERT_PTR_NOT_NULL(jg_response_header(&resp, "Allow"));
		if (cases[i].status != 401 || cases[i].www == NULL ||
		    strchr(cases[i].www, ',') != NULL)
			ASSERT_STR(jg_response_header(&resp, "Content-Type"), "application/json");
		jg_response_clear(&resp);
		jg_request_clear(&req);
		free(auth);
	}
	jg_gate_free(g);
}

static struct json_object *
call_json(struct jg_gate *g, const char *method, const char *path, enum tok tok,
	  int *status)
{
	struct jg_request req;
	struct jg_response resp;
	struct json_object *o = NULL;
	char *auth = jg_xasprintf("HTTP_AUTHORIZATION=Bearer %s", f.tokens[tok]);
	const char *extra[2] = { auth, NULL };

	request(&req, JG_ROLE_RESPONDER, method, path, extra, NULL, T0);
	jg_response_init(&resp);
	jg_gate_handle(g, &req, &resp);
	*status = resp.status;
	ASSERT_STR(jg_response_header(&resp, "Cache-Control"), "no-store");
	CU_ASSERT_EQUAL(jg_json_parse_object(resp.body, resp.body_len, &o, NULL), JG_OK);
	jg_response_clear(&resp);
	jg_request_clear(&req);
	free(auth);
	return o;
}

static const char *
jstr(const struct json_object *o, const char *key)
{
	const char *s = NULL;

	return o && jg_json_get_string(o, key, &s) ? s : NULL;
}

static void
test_userinfo_claims(void)
{
	/* OpenID Connect Core 1.0 section 5.4: scope -> claims; 5.1.1:
	 * address is an object. */
	struct jg_gate *g = gate_new();
	struct json_object *o, *addr, *profile;
	bool b = false;
	int status = 0;

	o = call_json(g, "GET", "/oauth/userinfo", TK_VALID, &status);
	CU_ASSERT_EQUAL(status, 200);
	ASSERT_STR(jstr(o, "sub"), ALICE);
	ASSERT_STR(jstr(o, "name"), "Alice Liddell");
	ASSERT_STR(jstr(o, "given_name"), "Alice");
	ASSERT_STR(jstr(o, "family_name"), "Liddell");
	ASSERT_STR(jstr(o, "email"), "alice@example.org");
	CU_ASSERT_TRUE(jg_json_get_bool(o, "email_verified", &b) && b);
	CU_ASSERT_PTR_NULL(jg_json_get(o, "phone_number"));
	CU_ASSERT_PTR_NULL(jg_json_get(o, "address"));
	CU_ASSERT_PTR_NULL(jg_json_get(o, "username"));
	CU_ASSERT_EQUAL(json_object_object_length(o), 6);
	json_object_put(o);

	o = call_json(g, "GET", "/oauth/userinfo", TK_PHONE, &status);
	CU_ASSERT_EQUAL(status, 200);
	ASSERT_STR(jstr(o, "phone_number"), "+1 555 0100");
	addr = jg_json_get(o, "address");
	ASSERT_STR(jstr(addr, "formatted"), "1 Rabbit Hole, Oxford");
	CU_ASSERT_PTR_NULL(jg_json_get(o, "name"));
	CU_ASSERT_PTR_NULL(jg_json_get(o, "email"));
	CU_ASSERT_EQUAL(json_object_object_length(o), 3);
	json_object_put(o);

	/* /api/me: the token's identity plus the granted profile. */
	o = call_json(g, "GET", "/api/me", TK_VALID, &status);
	CU_ASSERT_EQUAL(status, 200);
	ASSERT_STR(jstr(o, "sub"), ALICE);
	ASSERT_STR(jstr(o, "client_id"), "app");
	ASSERT_STR(jstr(o, "scope"), "openid profile email");
	ASSERT_STR(jstr(o, "iss"), ISSUER);
	profile = jg_json_get(o, "profile");
	ASSERT_STR(jstr(profile, "name"), "Alice Liddell");
	json_object_put(o);

	/* A client-credentials subject has no profile. */
	o = call_json(g, "GET", "/api/me", TK_NOUSER, &status);
	CU_ASSERT_EQUAL(status, 200);
	ASSERT_STR(jstr(o, "sub"), "svc-client");
	CU_ASSERT_PTR_NULL(jg_json_get(o, "profile"));
	json_object_put(o);

	o = call_json(g, "GET", "/api/other", TK_VALID, &status);
	CU_ASSERT_EQUAL(status, 404);
	ASSERT_STR(jstr(o, "error"), "not_found");
	json_object_put(o);
	jg_gate_free(g);
}

/* ------------------------------------------------------------ cache */

static enum jg_err
verify_at(struct jg_gate *g, enum tok tok, int64_t now, const char **why)
{
	struct jg_gate_token *t = NULL;
	enum jg_err err = jg_gate_verify(g, f.tokens[tok], now, &t, why);

	if (err == JG_OK) {
		CU_ASSERT_PTR_NOT_NULL(t);
	} else {
		CU_ASSERT_PTR_NULL(t);
	}
	jg_gate_token_free(t);
	return err;
}

static void
test_cache(void)
{
	struct jg_gate *g;
	struct jg_gate_stats st;
	const char *why = NULL;
	struct jg_gate_token *t = NULL;
	unsigned saved = f.config->verified_cache_size;

	g = gate_new();
	/* Token fields. */
	CU_ASSERT_EQUAL(jg_gate_verify(g, f.tokens[TK_VALID], T0, &t, &why), JG_OK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	ASSERT_STR(t->iss, ISSUER);
	ASSERT_STR(t->sub, ALICE);
	ASSERT_STR(t->client_id, "app");
	ASSERT_STR(t->scope, "openid profile email");
	ASSERT_STR(t->jti, "jti-valid");
	CU_ASSERT_EQUAL(t->exp, T0 + 600);
	CU_ASSERT_TRUE(t->local);
	jg_gate_token_free(t);
	jg_gate_stats(g, &st);
	CU_ASSERT_EQUAL(st.signature_checks, 1);
	CU_ASSERT_EQUAL(st.cache_hits, 0);
	CU_ASSERT_EQUAL(st.revocation_checks, 1);

	/* Repeated within the revocation interval: no signature check, no
	 * store lookup. */
	CU_ASSERT_EQUAL(verify_at(g, TK_VALID, T0 + 29, &why), JG_OK);
	jg_gate_stats(g, &st);
	CU_ASSERT_EQUAL(st.signature_checks, 1);
	CU_ASSERT_EQUAL(st.cache_hits, 1);
	CU_ASSERT_EQUAL(st.revocation_checks, 1);

	/* Revoked meanwhile: the cache holds until the interval is over. */
	CU_ASSERT_EQUAL(jg_store_jti_revoke(f.store, "jti-valid", T0 + 600), JG_OK);
	CU_ASSERT_EQUAL(verify_at(g, TK_VALID, T0 + 29, &why), JG_OK);
	CU_ASSERT_EQUAL(verify_at(g, TK_VALID, T0 + 30, &why), JG_ERR_DENIED);
	ASSERT_STR(why, "the token has been revoked");
	jg_gate_stats(g, &st);
	CU_ASSERT_EQUAL(st.signature_checks, 1);
	CU_ASSERT_EQUAL(st.revocation_checks, 2);
	/* Evicted: the next attempt verifies in full and is refused again. */
	CU_ASSERT_EQUAL(verify_at(g, TK_VALID, T0 + 31, &why), JG_ERR_DENIED);
	jg_gate_stats(g, &st);
	CU_ASSERT_EQUAL(st.signature_checks, 2);

	/* An entry never outlives exp (leeway 0: exp T0 + 600). */
	CU_ASSERT_EQUAL(verify_at(g, TK_ADMIN, T0 + 590, &why), JG_OK);
	CU_ASSERT_EQUAL(verify_at(g, TK_ADMIN, T0 + 599, &why), JG_OK);
	jg_gate_stats(g, &st);
	CU_ASSERT_EQUAL(st.cache_hits, 3);
	CU_ASSERT_EQUAL(verify_at(g, TK_ADMIN, T0 + 600, &why), JG_ERR_DENIED);
	ASSERT_STR(why, "token expired");
	jg_gate_stats(g, &st);
	CU_ASSERT_EQUAL(st.cache_hits, 3);
	jg_gate_free(g);

	/* Bounded: one slot, two tokens evict each other. */
	f.config->verified_cache_size = 1;
	g = gate_new();
	CU_ASSERT_EQUAL(verify_at(g, TK_API, T0, &why), JG_OK);
	CU_ASSERT_EQUAL(verify_at(g, TK_PHONE, T0, &why), JG_OK);
	CU_ASSERT_EQUAL(verify_at(g, TK_API, T0, &why), JG_OK);
	CU_ASSERT_EQUAL(verify_at(g, TK_API, T0, &why), JG_OK);
	jg_gate_stats(g, &st);
	CU_ASSERT_EQUAL(st.signature_checks, 3);
	CU_ASSERT_EQUAL(st.cache_hits, 1);
	jg_gate_free(g);

	/* Size 0: no cache at all. */
	f.config->verified_cache_size = 0;
	g = gate_new();
	CU_ASSERT_EQUAL(verify_at(g, TK_API, T0, &why), JG_OK);
	CU_ASSERT_EQUAL(verify_at(g, TK_API, T0, &why), JG_OK);
	jg_gate_stats(g, &st);
	CU_ASSERT_EQUAL(st.signature_checks, 2);
	CU_ASSERT_EQUAL(st.cache_hits, 0);
	jg_gate_free(g);
	f.config->verified_cache_size = saved;

	/* A failed verification is never cached. */
	g = gate_new();
	CU_ASSERT_EQUAL(verify_at(g, TK_FORGED, T0, &why), JG_ERR_DENIED);
	CU_ASSERT_EQUAL(verify_at(g, TK_FORGED, T0, &why), JG_ERR_DENIED);
	jg_gate_stats(g, &st);
	CU_ASSERT_EQUAL(st.signature_checks, 2);
	CU_ASSERT_EQUAL(st.cache_hits, 0);
	t = NULL;
	CU_ASSERT_EQUAL(jg_gate_verify(g, "", T0, &t, &why), JG_ERR_MALFORMED);
	CU_ASSERT_PTR_NULL(t);
	jg_gate_free(g);
}

static void
test_keyring_reload(void)
{
	struct jg_gate *g = gate_new();
	struct jg_keyring *admin = NULL;
	struct jg_gate_stats st;
	const struct jg_jwk *key;
	const char *kid = NULL, *why = NULL;
	char *errmsg = NULL, *token;
	struct jg_gate_token *t = NULL;

	/* Looked at the keyring at T0: the interval (30 s) has not passed at
	 * T0 + 1, so only the unknown kid can make the gate look again. */
	CU_ASSERT_EQUAL(verify_at(g, TK_ADMIN, T0, &why), JG_OK);
	/* The admin rotates the access key in another process. */
	CU_ASSERT_EQUAL_FATAL(jg_keyring_load(f.config->key_dir, &admin, &errmsg), JG_OK);
	CU_ASSERT_EQUAL_FATAL(jg_keyring_rotate(admin, JG_KEY_ACCESS, JG_ALG_EDDSA,
						JG_ALG_EDDSA, T0, &kid, &errmsg), JG_OK);
	key = jg_keyring_current(admin, JG_KEY_ACCESS);
	token = mint(key, key->alg, JG_TYP_ACCESS, ISSUER, ISSUER, ALICE, "app", "openid",
		     "jti-rotated", T0 + 600, 0);
	/* A token of the new key (unknown kid) makes the gate look at once;
	 * the new alg is allowed because the key has it. */
	CU_ASSERT_EQUAL(jg_gate_verify(g, token, T0 + 1, &t, &why), JG_OK);
	jg_gate_token_free(t);
	t = NULL;
	jg_gate_stats(g, &st);
	CU_ASSERT_EQUAL(st.keyring_loads, 2);
	/* Tokens of the previous key are still accepted. */
	CU_ASSERT_EQUAL(verify_at(g, TK_ADMIN, T0 + 2, &why), JG_OK);
	/* An ID-token key is never trusted for access tokens. */
	CU_ASSERT_EQUAL(verify_at(g, TK_ID_KEY, T0 + 2, &why), JG_ERR_DENIED);
	ASSERT_STR(why, "no key for kid");
	free(token);
	jg_keyring_free(admin);
	jg_gate_free(g);
}

/* ------------------------------------------------------------ external */

static void
test_external_issuer(void)
{
	struct jg_gate *g = gate_new();
	const char *why = NULL;
	struct jg_gate_token *t = NULL;

	/* Keys come from the cache file: no request made. */
	CU_ASSERT_EQUAL(jg_gate_verify(g, f.tokens[TK_EXT], T0, &t, &why), JG_OK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	ASSERT_STR(t->iss, EXT);
	ASSERT_STR(t->sub, "ext-user");
	CU_ASSERT_FALSE(t->local);
	jg_gate_token_free(t);

	/* An unknown kid within jwks_refresh_min_interval of the fetch (file
	 * says fetched at T0): no refetch. */
	CU_ASSERT_EQUAL(verify_at(g, TK_EXT_KID, T0 + 59, &why), JG_ERR_DENIED);
	ASSERT_STR(why, "no key for kid");
	/* After it, one attempt (the issuer is unreachable), the cached keys
	 * stay and still verify. */
	CU_ASSERT_EQUAL(verify_at(g, TK_EXT_KID, T0 + 60, &why), JG_ERR_DENIED);
	CU_ASSERT_EQUAL(verify_at(g, TK_EXT_KID, T0 + 61, &why), JG_ERR_DENIED);
	CU_ASSERT_EQUAL(verify_at(g, TK_EXT, T0 + 62, &why), JG_OK);

	/* The rotated key published in the cache file by another process.
	 * The old key is gone from that set: its tokens fail once the
	 * cached verification is older than revocation_check_interval.
	 * (Asked before the new kid's token, which may take the same slot
	 * of the direct-mapped cache and evict it: the order made this
	 * fail about once in 64 runs.) */
	write_cache(EXT, f.ext_other, T0 + 100, T0 + 3600);
	CU_ASSERT_EQUAL(verify_at(g, TK_EXT, T0 + 90, &why), JG_OK);
	CU_ASSERT_EQUAL(verify_at(g, TK_EXT_KID, T0 + 100, &why), JG_OK);
	CU_ASSERT_EQUAL(verify_at(g, TK_EXT, T0 + 200, &why), JG_ERR_DENIED);

	/* Never fetched and unreachable: try again later (503). */
	CU_ASSERT_EQUAL(verify_at(g, TK_DOWN, T0, &why), JG_ERR_BUSY);
	ASSERT_STR(why, "the issuer's keys cannot be fetched");
	jg_gate_free(g);

	/* Per-issuer algorithms ("algorithms = ES256" for EXT): an ES384 key
	 * the issuer publishes, and its token with the right iss and aud,
	 * are refused (RFC 8725 section 3.1). */
	{
		struct jg_jwk *k384 = NULL;
		char *token;

		CU_ASSERT_EQUAL_FATAL(jg_jwk_generate(JG_ALG_ES384, 0, &k384), JG_OK);
		write_cache(EXT, k384, T0 + 300, T0 + 3600);
		token = mint(k384, JG_ALG_ES384, JG_TYP_ACCESS, EXT, "https://api.test",
			     "ext-user", "ext-app", "read", "e384", T0 + 600, 0);
		g = gate_new();
		t = NULL;
		CU_ASSERT_EQUAL(jg_gate_verify(g, token, T0 + 300, &t, &why), JG_ERR_DENIED);
		CU_ASSERT_PTR_NULL(t);
		ASSERT_STR(why, "algorithm not allowed");
		jg_gate_free(g);
		free(token);
		jg_jwk_free(k384);
	}
	write_cache(EXT, f.ext_key, T0, T0 + 3600);
}

static void
test_fetch_rules(void)
{
	static const struct {
		const char *url;
		bool ok;
	} urls[] = {
		{ "https://accounts.example.com/jwks", true },
		{ "https://127.0.0.1:8443/jwks", true },
		{ "http://127.0.0.1:8080/jwks.json", true },
		{ "http://[::1]:8080/jwks.json", true },
		{ "http://localhost/jwks.json", true },
		{ "http://example.com/jwks.json", false },
		{ "http://127.0.0.1.evil.test/jwks.json", false },
		{ "http://localhost.evil.test/", false },
		{ "https://user@example.com/jwks", false },
		{ "https:///jwks", false },
		{ "ftp://127.0.0.1/jwks", false },
		{ "https://example.com/a b", false },
		{ "", false },
	};
	/* RFC 9111 section 5.2.2: max-age, no-cache, no-store. */
	static const struct {
		const char *cc;
		bool found;
		int64_t age;
	} ages[] = {
		{ "max-age=300", true, 300 },
		{ "public, max-age=86400, must-revalidate", true, 86400 },
		{ "MAX-AGE=5", true, 5 },
		{ "no-store", true, 0 },
		{ "private, no-cache", true, 0 },
		{ "max-age=", false, 0 },
		{ "public", false, 0 },
		/* Capped while parsing, never overflowing: above the bound. */
		{ "max-age=99999999999999999999", true, -1 },
	};
	size_t i;
	int64_t age;

	for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		if (jg_jwks_fetch_url_ok(urls[i].url) != urls[i].ok)
			fprintf(stderr, "url case %zu\n", i);
		CU_ASSERT_EQUAL(jg_jwks_fetch_url_ok(urls[i].url), urls[i].ok);
	}
	CU_ASSERT_FALSE(jg_jwks_fetch_url_ok(NULL));
	for (i = 0; i < sizeof(ages) / sizeof(ages[0]); i++) {
		age = -1;
		CU_ASSERT_EQUAL(jg_jwks_fetch_max_age(ages[i].cc, &age), ages[i].found);
		if (ages[i].found && ages[i].age >= 0)
			CU_ASSERT_EQUAL(age, ages[i].age);
		if (ages[i].age < 0)
			CU_ASSERT_TRUE(age > JG_JWKS_FETCH_MAX_AGE);
		if (!ages[i].found)
			CU_ASSERT_EQUAL(age, -1);
	}
}

/* ------------------------------------------------------------ roles */

static void
test_authorizer(void)
{
	static const struct {
		enum tok tok;
		const char *accept, *uri;
		int status;
		const char *location;
	} cases[] = {
		{ TK_VALID, NULL, "/private/file.txt", 200, NULL },
		{ TK_NONE, "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8", "/private/", 302,
		  ISSUER "/" },
		{ TK_NONE, "TEXT/HTML; q=1", "/private/", 302, ISSUER "/" },
		{ TK_NONE, "application/json", "/private/", 401, NULL },
		{ TK_NONE, "*/*", "/private/", 401, NULL },
		{ TK_NONE, "text/htmlx", "/private/", 401, NULL },
		/* A bad token is never redirected: the client sent one. */
		{ TK_EXPIRED, "text/html", "/private/", 401, NULL },
		{ TK_VALID, NULL, "/api/admin/x", 403, NULL },
		{ TK_ADMIN, NULL, "/api/admin/x", 200, NULL },
	};
	struct jg_gate *g = gate_new();
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct jg_request req;
		struct jg_response resp;
		const char *extra[3] = { NULL, NULL, NULL };
		char *auth = NULL, *accept = NULL;
		size_t n = 0;

		if (cases[i].tok != TK_NONE)
			extra[n++] = auth = jg_xasprintf("HTTP_AUTHORIZATION=Bearer %s",
							 f.tokens[cases[i].tok]);
		if (cases[i].accept)
			extra[n++] = accept = jg_xasprintf("HTTP_ACCEPT=%s", cases[i].accept);
		request(&req, JG_ROLE_AUTHORIZER, "GET", cases[i].uri, extra, NULL, T0);
		jg_response_init(&resp);
		jg_gate_handle(g, &req, &resp);
		CU_ASSERT_EQUAL(resp.status, cases[i].status);
		if (cases[i].status == 200) {
			ASSERT_STR(jg_response_header(&resp, "Variable-REMOTE_USER"), ALICE);
			ASSERT_STR(jg_response_header(&resp, "Variable-JWT_SUB"), ALICE);
			ASSERT_STR(jg_response_header(&resp, "Variable-JWT_SCOPE"),
				   cases[i].tok == TK_ADMIN ? "openid admin"
							   : "openid profile email");
			ASSERT_STR(jg_response_header(&resp, "Variable-JWT_CLIENT_ID"), "app");
		} else {
			CU_ASSERT_PTR_NULL(jg_response_header(&resp, "Variable-JWT_SUB"));
		}
		if (cases[i].location) {
			ASSERT_STR(jg_response_header(&resp, "Location"), cases[i].location);
			CU_ASSERT_PTR_NULL(jg_response_header(&resp, "WWW-Authenticate"));
		}
		if (cases[i].status == 401)
			CU_ASSERT_PTR_NOT_NULL(jg_response_header(&resp, "WWW-Authenticate"));
		jg_response_clear(&resp);
		jg_request_clear(&req);
		free(auth);
		free(accept);
	}
	/* Off: a browser gets the 401 too. */
	f.config->authorizer_login_redirect = false;
	{
		struct jg_request req;
		struct jg_response resp;
		const char *extra[] = { "HTTP_ACCEPT=text/html", NULL };

		request(&req, JG_ROLE_AUTHORIZER, "GET", "/private/", extra, NULL, T0);
		jg_response_init(&resp);
		jg_gate_handle(g, &req, &resp);
		CU_ASSERT_EQUAL(resp.status, 401);
		jg_response_clear(&resp);
		jg_request_clear(&req);
	}
	f.config->authorizer_login_redirect = true;
	jg_gate_free(g);
}

static void
test_nginx_gate(void)
{
	static const struct {
		enum tok tok;
		const char *auth, *original;
		int status;
	} cases[] = {
		{ TK_VALID, NULL, "/app/page", 204 },
		{ TK_VALID, NULL, NULL, 204 },
		{ TK_NONE, NULL, "/app/page", 401 },
		{ TK_EXPIRED, NULL, "/app/page", 401 },
		/* invalid_request becomes 401: auth_request knows 401/403 only. */
		{ TK_NONE, "Bearer", "/app/page", 401 },
		{ TK_VALID, NULL, "/api/admin?x=1", 403 },
		/* $uri is decoded already: a "%" is refused, never decoded
		 * (again), so neither of these is judged as another path. */
		{ TK_VALID, NULL, "/api/%61dmin", 401 },
		{ TK_ADMIN, NULL, "/api/admin/%2570ublic", 401 },
		{ TK_ADMIN, NULL, "/api/admin", 204 },
		{ TK_VALID, NULL, "/api/x/../admin", 401 },
		{ TK_VALID, NULL, "/api//admin", 401 },
		{ TK_VALID, NULL, "/api/%00", 401 },
		{ TK_VALID, NULL, "api/admin", 401 },
	};
	struct jg_gate *g = gate_new();
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct jg_request req;
		struct jg_response resp;
		const char *extra[3] = { NULL, NULL, NULL };
		char *auth = NULL, *orig = NULL;
		size_t n = 0;

		if (cases[i].auth)
			extra[n++] = auth = jg_xasprintf("HTTP_AUTHORIZATION=%s", cases[i].auth);
		else if (cases[i].tok != TK_NONE)
			extra[n++] = auth = jg_xasprintf("HTTP_AUTHORIZATION=Bearer %s",
							 f.tokens[cases[i].tok]);
		if (cases[i].original)
			extra[n++] = orig = jg_xasprintf("HTTP_X_ORIGINAL_URI=%s",
							 cases[i].original);
		request(&req, JG_ROLE_RESPONDER, "GET", "/oauth/gate", extra, NULL, T0);
		jg_response_init(&resp);
		jg_gate_handle(g, &req, &resp);
		if (resp.status != cases[i].status)
			fprintf(stderr, "gate case %zu: %d\n", i, resp.status);
		CU_ASSERT_EQUAL(resp.status, cases[i].status);
		if (cases[i].status == 204) {
			ASSERT_STR(jg_response_header(&resp, "X-Jwt-Sub"), ALICE);
			ASSERT_STR(jg_response_header(&resp, "X-Jwt-Client-Id"), "app");
			CU_ASSERT_PTR_NOT_NULL(jg_response_header(&resp, "X-Jwt-Scope"));
			CU_ASSERT_EQUAL(resp.body_len, 0);
		} else {
			CU_ASSERT_PTR_NULL(jg_response_header(&resp, "X-Jwt-Sub"));
			CU_ASSERT_PTR_NOT_NULL(jg_response_header(&resp, "WWW-Authenticate"));
		}
		jg_response_clear(&resp);
		jg_request_clear(&req);
		free(auth);
		free(orig);
	}
	jg_gate_free(g);
}

static void
test_cors(void)
{
	struct jg_gate *g = gate_new();
	struct jg_request req;
	struct jg_response resp;
	char *auth = jg_xasprintf("HTTP_AUTHORIZATION=Bearer %s", f.tokens[TK_API]);

	/* Preflight from a configured origin (Fetch standard, CORS protocol). */
	{
		const char *extra[] = { "HTTP_ORIGIN=https://app.test",
			"HTTP_ACCESS_CONTROL_REQUEST_METHOD=GET",
			"HTTP_ACCESS_CONTROL_REQUEST_HEADERS=authorization", NULL };

		request(&req, JG_ROLE_RESPONDER, "OPTIONS", "/api/me", extra, NULL, T0);
		jg_response_init(&resp);
		jg_gate_handle(g, &req, &resp);
		CU_ASSERT_EQUAL(resp.status, 204);
		ASSERT_STR(jg_response_header(&resp, "Access-Control-Allow-Origin"),
			   "https://app.test");
		ASSERT_STR(jg_response_header(&resp, "Access-Control-Allow-Methods"), "GET, POST");
		ASSERT_STR(jg_response_header(&resp, "Access-Control-Allow-Headers"),
			   "Authorization, Content-Type");
		ASSERT_STR(jg_response_header(&resp, "Access-Control-Max-Age"), "600");
		ASSERT_STR(jg_response_header(&resp, "Vary"), "Origin");
		/* No cookie method configured: no credentials. */
		CU_ASSERT_PTR_NULL(jg_response_header(&resp, "Access-Control-Allow-Credentials"));
		jg_response_clear(&resp);
		jg_request_clear(&req);
	}
	/* From another origin: no CORS grant. */
	{
		const char *extra[] = { "HTTP_ORIGIN=https://evil.test",
			"HTTP_ACCESS_CONTROL_REQUEST_METHOD=GET", NULL };

		request(&req, JG_ROLE_RESPONDER, "OPTIONS", "/api/me", extra, NULL, T0);
		jg_response_init(&resp);
		jg_gate_handle(g, &req, &resp);
		CU_ASSERT_EQUAL(resp.status, 204);
		CU_ASSERT_PTR_NULL(jg_response_header(&resp, "Access-Control-Allow-Origin"));
		ASSERT_STR(jg_response_header(&resp, "Vary"), "Origin");
		jg_response_clear(&resp);
		jg_request_clear(&req);
	}
	/* Actual requests: allowed origin echoed (never "*"), with the cookie
	 * method credentials allowed; errors carry it too so the browser app
	 * can read WWW-Authenticate. */
	f.config->bearer_cookie = (char *)"at";
	{
		const char *extra[] = { "HTTP_ORIGIN=https://app.test", auth, NULL };

		request(&req, JG_ROLE_RESPONDER, "GET", "/api/me", extra, NULL, T0);
		jg_response_init(&resp);
		jg_gate_handle(g, &req, &resp);
		CU_ASSERT_EQUAL(resp.status, 200);
		ASSERT_STR(jg_response_header(&resp, "Access-Control-Allow-Origin"),
			   "https://app.test");
		ASSERT_STR(jg_response_header(&resp, "Access-Control-Allow-Credentials"), "true");
		ASSERT_STR(jg_response_header(&resp, "Access-Control-Expose-Headers"),
			   "WWW-Authenticate");
		ASSERT_STR(jg_response_header(&resp, "Vary"), "Origin");
		jg_response_clear(&resp);
		jg_request_clear(&req);
	}
	{
		const char *extra[] = { "HTTP_ORIGIN=https://evil.test", NULL };

		request(&req, JG_ROLE_RESPONDER, "GET", "/api/me", extra, NULL, T0);
		jg_response_init(&resp);
		jg_gate_handle(g, &req, &resp);
		CU_ASSERT_EQUAL(resp.status, 401);
		CU_ASSERT_PTR_NULL(jg_response_header(&resp, "Access-Control-Allow-Origin"));
		CU_ASSERT_PTR_NULL(jg_response_header(&resp, "Access-Control-Allow-Credentials"));
		ASSERT_STR(jg_response_header(&resp, "Vary"), "Origin");
		jg_response_clear(&resp);
		jg_request_clear(&req);
	}
	f.config->bearer_cookie = NULL;
	free(auth);
	jg_gate_free(g);
}

/* The authorizer role and CORS: a preflight carries no credentials
 * (Fetch standard, CORS-preflight request), so for an allowed origin the
 * gate answers it itself; a denial carries the CORS headers so the page
 * can read it; an allow leaves CORS to the content behind. */
static void
test_authorizer_cors(void)
{
	static const struct {
		const char *what, *method, *origin, *acrm;
		enum tok tok;
		int status;
		bool acao;	/* Access-Control-Allow-Origin: https://app.test */
		bool vary;	/* Vary: Origin */
	} cases[] = {
		{ "preflight, allowed origin, no token", "OPTIONS", "https://app.test", "GET",
		  TK_NONE, 204, true, true },
		{ "preflight, other origin: the gate as usual", "OPTIONS", "https://evil.test",
		  "GET", TK_NONE, 401, false, true },
		{ "OPTIONS without Access-Control-Request-Method is no preflight", "OPTIONS",
		  "https://app.test", NULL, TK_NONE, 401, true, true },
		{ "OPTIONS without Origin is no preflight", "OPTIONS", NULL, "GET",
		  TK_NONE, 401, false, true },
		{ "GET without a token from the allowed origin", "GET", "https://app.test",
		  NULL, TK_NONE, 401, true, true },
		{ "GET with a bad token from the allowed origin", "GET", "https://app.test",
		  NULL, TK_EXPIRED, 401, true, true },
		{ "GET with a valid token: allowed, CORS left to the content", "GET",
		  "https://app.test", NULL, TK_VALID, 200, false, false },
	};
	struct jg_gate *g = gate_new();
	size_t i, saved;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct jg_request req;
		struct jg_response resp;
		const char *extra[4] = { NULL, NULL, NULL, NULL };
		char *owned[3] = { NULL, NULL, NULL };
		size_t n = 0;

		if (cases[i].origin)
			extra[n++] = owned[0] = jg_xasprintf("HTTP_ORIGIN=%s", cases[i].origin);
		if (cases[i].acrm)
			extra[n++] = owned[1] = jg_xasprintf(
				"HTTP_ACCESS_CONTROL_REQUEST_METHOD=%s", cases[i].acrm);
		if (cases[i].tok != TK_NONE)
			extra[n++] = owned[2] = jg_xasprintf("HTTP_AUTHORIZATION=Bearer %s",
							     f.tokens[cases[i].tok]);
		request(&req, JG_ROLE_AUTHORIZER, cases[i].method, "/private/data.json",
			extra, NULL, T0);
		jg_response_init(&resp);
		jg_gate_handle(g, &req, &resp);
		if (resp.status != cases[i].status)
			fprintf(stderr, "authorizer CORS case failed: %s (%d)\n",
				cases[i].what, resp.status);
		CU_ASSERT_EQUAL(resp.status, cases[i].status);
		if (cases[i].acao) {
			ASSERT_STR(jg_response_header(&resp, "Access-Control-Allow-Origin"),
				   "https://app.test");
		} else {
			CU_ASSERT_PTR_NULL(jg_response_header(&resp,
							      "Access-Control-Allow-Origin"));
		}
		if (cases[i].vary) {
			ASSERT_STR(jg_response_header(&resp, "Vary"), "Origin");
		} else {
			CU_ASSERT_PTR_NULL(jg_response_header(&resp, "Vary"));
		}
		if (cases[i].status == 204) {
			ASSERT_STR(jg_response_header(&resp, "Access-Control-Allow-Methods"),
				   "GET, POST");
			ASSERT_STR(jg_response_header(&resp, "Access-Control-Allow-Headers"),
				   "Authorization, Content-Type");
			ASSERT_STR(jg_response_header(&resp, "Access-Control-Max-Age"), "600");
			CU_ASSERT_PTR_NULL(jg_response_header(&resp, "WWW-Authenticate"));
			CU_ASSERT_EQUAL(resp.body_len, 0);
		}
		if (cases[i].status == 401)
			CU_ASSERT_PTR_NOT_NULL(jg_response_header(&resp, "WWW-Authenticate"));
		if (cases[i].status == 200) {
			ASSERT_STR(jg_response_header(&resp, "Variable-JWT_SUB"), ALICE);
		} else {
			CU_ASSERT_PTR_NULL(jg_response_header(&resp, "Variable-JWT_SUB"));
		}
		jg_response_clear(&resp);
		jg_request_clear(&req);
		free(owned[0]);
		free(owned[1]);
		free(owned[2]);
	}
	/* Without cors_origin the preflight is gated like any request. */
	saved = f.config->ncors_origin;
	f.config->ncors_origin = 0;
	{
		struct jg_request req;
		struct jg_response resp;
		const char *extra[] = { "HTTP_ORIGIN=https://app.test",
			"HTTP_ACCESS_CONTROL_REQUEST_METHOD=GET", NULL };

		request(&req, JG_ROLE_AUTHORIZER, "OPTIONS", "/private/data.json", extra,
			NULL, T0);
		jg_response_init(&resp);
		jg_gate_handle(g, &req, &resp);
		CU_ASSERT_EQUAL(resp.status, 401);
		CU_ASSERT_PTR_NULL(jg_response_header(&resp, "Access-Control-Allow-Origin"));
		CU_ASSERT_PTR_NULL(jg_response_header(&resp, "Vary"));
		jg_response_clear(&resp);
		jg_request_clear(&req);
	}
	f.config->ncors_origin = saved;
	jg_gate_free(g);
}

static void
test_scope_has(void)
{
	CU_ASSERT_TRUE(jg_gate_scope_has("openid profile", "profile"));
	CU_ASSERT_TRUE(jg_gate_scope_has("openid", "openid"));
	CU_ASSERT_FALSE(jg_gate_scope_has("openid profile", "prof"));
	CU_ASSERT_FALSE(jg_gate_scope_has("openidx", "openid"));
	CU_ASSERT_FALSE(jg_gate_scope_has("", "openid"));
	CU_ASSERT_FALSE(jg_gate_scope_has(NULL, "openid"));
	CU_ASSERT_FALSE(jg_gate_scope_has("a b", ""));
}

int
main(void)
{
	/* The suite runs in order: the first test builds the fixture, the
	 * last removes it; the cache test revokes TK_VALID's jti and the
	 * reload test rotates the access key, so they come late. */
	static const struct jg_test tests[] = {
		{ "scope lists", test_scope_has },
		{ "fetch URL and Cache-Control rules", test_fetch_rules },
		{ "set up keyring, store, tokens", fixture_up },
		{ "extraction (RFC 6750 section 2)", test_extract },
		{ "answers (RFC 6750 section 3, RFC 9068 section 4)", test_answers },
		{ "userinfo claims (OIDC Core 5.4)", test_userinfo_claims },
		{ "authorizer role", test_authorizer },
		{ "nginx auth_request endpoint", test_nginx_gate },
		{ "CORS", test_cors },
		{ "CORS in the authorizer role", test_authorizer_cors },
		{ "external issuer keys", test_external_issuer },
		{ "verified-token cache and revocation", test_cache },
		{ "keyring reload", test_keyring_reload },
		{ "tear down", fixture_down },
		{ NULL, NULL },
	};

	return jg_test_main("gate", tests);
}
