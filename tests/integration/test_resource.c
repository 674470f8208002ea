/* test_resource.c: resource.fcgi behind real web servers: the RFC 6750
 * answers of /oauth/userinfo and /api/... through lighttpd, the FastCGI
 * authorizer in front of a static file and a CGI script (lighttpd "mode"
 * => "authorizer"; Apache mod_fcgid FcgidAccessChecker), the nginx
 * auth_request endpoint, CORS, the header, cookie, form and query token
 * sources, mod_authnz_fcgi in front of a static file and a CGI script, and
 * an external OpenID Connect issuer played by python3's http.server on
 * loopback (discovery, a key rotation there, refetch on an unknown kid at
 * most once per interval, its Cache-Control max-age honoured, and an
 * issuer that cannot be reached).  Tokens are minted with the library from
 * the keyring the test creates. */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>

#include "claims.h"
#include "harness.h"
#include "http.h"
#include "json.h"
#include "keyring.h"
#include "store.h"
#include "testutil.h"
#include "util.h"

#define ISSUER "https://issuer.test"
#define ALICE "sub-alice-it"

/* A CGI script that shows what the application behind the gate sees. */
#define ENV_CGI "#!/bin/sh\n" \
	"printf 'Content-Type: text/plain\\r\\n\\r\\n'\n" \
	"echo \"REMOTE_USER=$REMOTE_USER\"\n" \
	"echo \"JWT_SUB=$JWT_SUB\"\n" \
	"echo \"JWT_SCOPE=$JWT_SCOPE\"\n" \
	"echo \"JWT_CLIENT_ID=$JWT_CLIENT_ID\"\n"

/* The external issuer: python3's http.server serving DIR on 127.0.0.1:PORT,
 * one access-log line per request on stderr, with the Cache-Control header
 * the file DIR/.cache-control holds (none while it is missing). */
#define EXT_SERVER "import functools, http.server, os, sys\n" \
	"class H(http.server.SimpleHTTPRequestHandler):\n" \
	"    def end_headers(self):\n" \
	"        try:\n" \
	"            with open(os.path.join(self.directory, '.cache-control')) as f:\n" \
	"                self.send_header('Cache-Control', f.read().strip())\n" \
	"        except OSError:\n" \
	"            pass\n" \
	"        super().end_headers()\n" \
	"h = functools.partial(H, directory=sys.argv[1])\n" \
	"http.server.ThreadingHTTPServer(('127.0.0.1', int(sys.argv[2])), h)" \
	".serve_forever()\n"

#define ASSERT_STR(actual, expected) \
	CU_ASSERT_STRING_EQUAL((actual) ? (actual) : "(null)", (expected))

static struct {
	char *bin;		/* resource.fcgi */
	char *echo;		/* echo_fcgi, as a CGI script behind the gate */
	const char *work;
	char *conf;
	char *env_conf;		/* "JWTGATE_CONF=..." */
	char *ext;		/* the external issuer's URL */
	char *ext_dir;		/* the files its server serves */
	char *down;		/* an issuer nobody answers for */
	int ext_port;
	pid_t ext_pid;
	struct jg_keyring *ring;
	struct jg_store *store;
	struct jg_jwk *ext_a, *ext_b;	/* the external issuer's keys */
	struct jg_it_server *lt;
	struct jg_it_client *client;
	char *valid, *admin, *revoked, *expired, *ext_token_a, *ext_token_b,
	     *down_token;
} t;

/* ------------------------------------------------------------ helpers */

static char *
mint(const struct jg_jwk *key, const char *iss, const char *aud, const char *scope,
     const char *jti, int64_t exp)
{
	struct json_object *c = json_object_new_object();
	int64_t now = (int64_t)time(NULL);
	char *token = NULL;

	json_object_object_add(c, "iss", json_object_new_string(iss));
	json_object_object_add(c, "aud", json_object_new_string(aud));
	json_object_object_add(c, "sub", json_object_new_string(ALICE));
	json_object_object_add(c, "client_id", json_object_new_string("it-app"));
	json_object_object_add(c, "scope", json_object_new_string(scope));
	json_object_object_add(c, "jti", json_object_new_string(jti));
	json_object_object_add(c, "iat", json_object_new_int64(now - 5));
	json_object_object_add(c, "exp", json_object_new_int64(exp ? exp : now + 3600));
	CU_ASSERT_EQUAL(jg_jwt_sign(key, key->alg ? key->alg : JG_ALG_ES256,
				    JG_TYP_ACCESS, c, &token), JG_OK);
	json_object_put(c);
	return token;
}

/* "Authorization: Bearer TOKEN" as a header list for the client. */
struct hdrs {
	char *line[3];
	const char *list[4];
};

static const char *const *
bearer(struct hdrs *h, const char *token, const char *more)
{
	size_t n = 0;

	memset(h, 0, sizeof(*h));
	if (token)
		h->list[n++] = h->line[0] = jg_xasprintf("Authorization: Bearer %s", token);
	if (more)
		h->list[n++] = h->line[1] = jg_xstrdup(more);
	h->list[n] = NULL;
	return h->list;
}

static void
hdrs_clear(struct hdrs *h)
{
	free(h->line[0]);
	free(h->line[1]);
}

static long
http_send(const char *method, const char *base, const char *path, const char *token,
     const char *more, const char *body, struct jg_it_response *r)
{
	struct hdrs h;
	char *u = jg_xasprintf("%s%s", base, path);
	bool ok;

	memset(r, 0, sizeof(*r));
	ok = jg_it_request(t.client, method, u, bearer(&h, token, more), body,
			   body ? strlen(body) : 0, r);
	hdrs_clear(&h);
	free(u);
	return ok ? r->status : -1;
}

static long
get(const char *path, const char *token, const char *more, struct jg_it_response *r)
{
	return http_send("GET", t.lt->url, path, token, more, NULL, r);
}

static struct json_object *
body_json(const struct jg_it_response *r)
{
	struct json_object *o = NULL;

	if (jg_json_parse_object(r->body, r->body_len, &o, NULL) != JG_OK) {
		fprintf(stderr, "not a JSON object: %s\n", r->body);
		return NULL;
	}
	return o;
}

static const char *
jstr(const struct json_object *o, const char *key)
{
	const char *s = NULL;

	return o && jg_json_get_string(o, key, &s) ? s : NULL;
}

/* Counts the lines of the external issuer's access log holding text. */
static int
count_in_log(const char *text)
{
	char *path = jg_xasprintf("%s/ext.log", t.work), *data = NULL, *p;
	size_t len;
	int n = 0;

	if (jg_read_file(path, 1 << 20, &data, &len) == JG_OK)
		for (p = data; (p = strstr(p, text)) != NULL; p += strlen(text))
			n++;
	free(data);
	free(path);
	return n;
}

/* Publishes key as the external issuer's only key. */
static void
publish_ext(const struct jg_jwk *key)
{
	struct jg_jwks *set = jg_jwks_new();
	struct json_object *o;
	char *text;

	jg_jwks_add(set, jg_jwk_public(key));
	o = jg_jwks_to_json(set, false);
	text = jg_json_dump(o);
	CU_ASSERT(jg_it_write_file(t.work, "ext/jwks.json", text, 0644));
	free(text);
	json_object_put(o);
	jg_jwks_free(set);
}

/* ------------------------------------------------------------ setup */

static void
test_setup(void)
{
	struct jg_it_program programs[4];
	struct jg_it_server_opts opts;
	const char *env[2];
	struct jg_user u;
	char *errmsg = NULL, *text, *keys;
	const char *kid = NULL;
	int down_port;

	t.bin = jg_it_build_path("cgi-bin/resource.fcgi");
	t.echo = jg_it_build_path("tests/integration/echo_fcgi");
	CU_ASSERT_EQUAL_FATAL(access(t.bin, X_OK), 0);
	CU_ASSERT_EQUAL_FATAL(access(t.echo, X_OK), 0);
	t.work = jg_it_tempdir();
	CU_ASSERT_PTR_NOT_NULL_FATAL(t.work);

	/* The external issuer: discovery and a JWKS as static files. */
	t.ext_port = jg_it_free_port();
	down_port = jg_it_free_port();
	CU_ASSERT_FATAL(t.ext_port > 0 && down_port > 0 && down_port != t.ext_port);
	t.ext = jg_xasprintf("http://127.0.0.1:%d", t.ext_port);
	t.down = jg_xasprintf("http://127.0.0.1:%d", down_port);
	t.ext_dir = jg_xasprintf("%s/ext", t.work);
	text = jg_xasprintf("{\"issuer\":\"%s\",\"jwks_uri\":\"%s/jwks.json\"}", t.ext, t.ext);
	CU_ASSERT(jg_it_write_file(t.work, "ext/.well-known/openid-configuration", text,
				   0644));
	free(text);
	CU_ASSERT_EQUAL_FATAL(jg_jwk_generate(JG_ALG_ES256, 0, &t.ext_a), JG_OK);
	CU_ASSERT_EQUAL_FATAL(jg_jwk_generate(JG_ALG_ES256, 0, &t.ext_b), JG_OK);
	publish_ext(t.ext_a);
	CU_ASSERT(jg_it_write_file(t.work, "ext-server.py", EXT_SERVER, 0644));
	{
		char *port = jg_xasprintf("%d", t.ext_port);
		char *log = jg_xasprintf("%s/ext.log", t.work);
		char *script = jg_xasprintf("%s/ext-server.py", t.work);
		const char *argv[] = { "/usr/bin/python3", script, t.ext_dir, port, NULL };

		t.ext_pid = jg_it_spawn(argv, log);
		free(script);
		free(port);
		free(log);
	}
	CU_ASSERT_FATAL(jg_it_wait_port(t.ext_port, t.ext_pid, 15000));

	/* The configuration, keyring and store of the gate. */
	t.conf = jg_xasprintf("%s/jwtgate.conf", t.work);
	text = jg_xasprintf(
		"issuer = " ISSUER "\n"
		"database = %s/jwtgate.db\n"
		"key_dir = %s/keys\n"
		"htdocs = %s/htdocs\n"
		"bearer_form = yes\n"
		"bearer_cookie = jg_at\n"
		"bearer_query = yes\n"
		"require_scope = /api/admin admin\n"
		"require_scope = /private/admin admin\n"
		"cors_origin = https://app.test\n"
		"revocation_check_interval = 1\n"
		"jwks_refresh_min_interval = 1\n"
		"jwks_cache_dir = %s/jwks\n"
		"log_level = debug\n"
		"\n[issuer %s]\naudience = https://api.test\nalgorithms = ES256\n"
		"\n[issuer %s]\naudience = https://api.test\nalgorithms = ES256\n",
		t.work, t.work, t.work, t.work, t.ext, t.down);
	CU_ASSERT_FATAL(jg_it_write_file(t.work, "jwtgate.conf", text, 0644));
	free(text);
	t.env_conf = jg_xasprintf("JWTGATE_CONF=%s", t.conf);
	keys = jg_xasprintf("%s/keys", t.work);
	mkdir(keys, 0700);
	text = jg_xasprintf("%s/jwks", t.work);
	mkdir(text, 0755);
	free(text);
	t.ring = jg_keyring_new(keys);
	CU_ASSERT_EQUAL_FATAL(jg_keyring_rotate(t.ring, JG_KEY_ACCESS, JG_ALG_ES256,
						JG_ALG_ES256, (int64_t)time(NULL) - 10,
						&kid, &errmsg), JG_OK);
	free(keys);
	text = jg_xasprintf("%s/jwtgate.db", t.work);
	CU_ASSERT_EQUAL_FATAL(jg_store_open(text, 5000, &t.store, &errmsg), JG_OK);
	free(text);
	memset(&u, 0, sizeof(u));
	u.sub = ALICE;
	u.username = "alice";
	u.password_hash = "$y$j9T$0123456789abcdef$0123456789abcdef0123456789abcdef0123456789a";
	u.name = "Alice Liddell";
	u.email = "alice@example.org";
	CU_ASSERT_EQUAL_FATAL(jg_store_user_add(t.store, &u, (int64_t)time(NULL)), JG_OK);
	CU_ASSERT_EQUAL_FATAL(jg_store_jti_revoke(t.store, "it-revoked",
						  (int64_t)time(NULL) + 3600), JG_OK);

	{
		const struct jg_jwk *k = jg_keyring_current(t.ring, JG_KEY_ACCESS);

		t.valid = mint(k, ISSUER, ISSUER, "openid profile email", "it-valid", 0);
		t.admin = mint(k, ISSUER, ISSUER, "openid admin", "it-admin", 0);
		t.revoked = mint(k, ISSUER, ISSUER, "openid", "it-revoked", 0);
		t.expired = mint(k, ISSUER, ISSUER, "openid", "it-expired",
				 (int64_t)time(NULL) - 120);
	}
	t.ext_token_a = mint(t.ext_a, t.ext, "https://api.test", "read", "ext-a", 0);
	t.ext_token_b = mint(t.ext_b, t.ext, "https://api.test", "read", "ext-b", 0);
	t.down_token = mint(t.ext_a, t.down, "https://api.test", "read", "down", 0);

	/* lighttpd: responders, the nginx endpoint, and the authorizer in
	 * front of /private/ (static files and CGI of the document root). */
	env[0] = t.env_conf;
	env[1] = NULL;
	memset(programs, 0, sizeof(programs));
	programs[0].prefix = "/oauth/userinfo";
	programs[1].prefix = "/api/";
	programs[2].prefix = "/oauth/gate";
	programs[3].prefix = "/private/";
	programs[3].authorizer = true;
	for (size_t i = 0; i < 4; i++) {
		programs[i].bin = t.bin;
		programs[i].env = env;
	}
	memset(&opts, 0, sizeof(opts));
	opts.programs = programs;
	opts.nprograms = 4;
	opts.cgi = true;
	t.lt = jg_it_lighttpd_start(&opts);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t.lt);
	CU_ASSERT(jg_it_write_file(t.lt->htdocs, "private/file.txt", "gated file\n", 0644));
	CU_ASSERT(jg_it_write_file(t.lt->htdocs, "private/admin/file.txt", "admin file\n",
				   0644));
	CU_ASSERT(jg_it_write_file(t.lt->htdocs, "private/env.cgi", ENV_CGI, 0755));
	t.client = jg_it_client_new();
}

/* ------------------------------------------------------------ responder */

static void
test_userinfo(void)
{
	struct jg_it_response r;
	struct json_object *o;
	char *body;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t.lt);
	/* RFC 6750 section 3: no credentials, no error code. */
	CU_ASSERT_EQUAL(get("/oauth/userinfo", NULL, NULL, &r), 401);
	ASSERT_STR(jg_it_header(&r, "WWW-Authenticate"), "Bearer realm=\"jwtgate\"");
	jg_it_response_clear(&r);

	CU_ASSERT_EQUAL(get("/oauth/userinfo", t.valid, NULL, &r), 200);
	ASSERT_STR(jg_it_header(&r, "Content-Type"), "application/json");
	ASSERT_STR(jg_it_header(&r, "Cache-Control"), "no-store");
	o = body_json(&r);
	ASSERT_STR(jstr(o, "sub"), ALICE);
	ASSERT_STR(jstr(o, "name"), "Alice Liddell");
	ASSERT_STR(jstr(o, "email"), "alice@example.org");
	json_object_put(o);
	jg_it_response_clear(&r);

	/* Scheme case-insensitive (RFC 6750 2.1 via RFC 9110 11.1). */
	{
		char *h = jg_xasprintf("Authorization: bearer %s", t.valid);

		CU_ASSERT_EQUAL(get("/oauth/userinfo", NULL, h, &r), 200);
		jg_it_response_clear(&r);
		free(h);
	}

	/* Form body (RFC 6750 2.2, enabled by bearer_form). */
	body = jg_xasprintf("access_token=%s", t.valid);
	CU_ASSERT_EQUAL(http_send("POST", t.lt->url, "/oauth/userinfo", NULL,
			     "Content-Type: application/x-www-form-urlencoded", body, &r), 200);
	o = body_json(&r);
	ASSERT_STR(jstr(o, "sub"), ALICE);
	json_object_put(o);
	jg_it_response_clear(&r);
	/* ... and with the header as well: two methods, 400 (RFC 6750 2). */
	CU_ASSERT_EQUAL(http_send("POST", t.lt->url, "/oauth/userinfo", t.valid,
			     "Content-Type: application/x-www-form-urlencoded", body, &r), 400);
	ASSERT_STR(jg_it_header(&r, "WWW-Authenticate"),
		   "Bearer realm=\"jwtgate\", error=\"invalid_request\", error_description="
		   "\"more than one method was used to send the access token\"");
	jg_it_response_clear(&r);
	free(body);

	/* The configured cookie (bearer_cookie = jg_at), and the query string
	 * (RFC 6750 2.3, bearer_query = yes); with the header as well, 400. */
	{
		char *cookie = jg_xasprintf("Cookie: theme=dark; jg_at=%s", t.valid);
		char *path = jg_xasprintf("/oauth/userinfo?access_token=%s", t.valid);

		CU_ASSERT_EQUAL(get("/oauth/userinfo", NULL, cookie, &r), 200);
		o = body_json(&r);
		ASSERT_STR(jstr(o, "sub"), ALICE);
		json_object_put(o);
		jg_it_response_clear(&r);
		CU_ASSERT_EQUAL(get("/oauth/userinfo", t.valid, cookie, &r), 400);
		ASSERT_STR(jg_it_header(&r, "WWW-Authenticate"),
			   "Bearer realm=\"jwtgate\", error=\"invalid_request\", error_description="
			   "\"more than one method was used to send the access token\"");
		jg_it_response_clear(&r);
		CU_ASSERT_EQUAL(get("/private/file.txt", NULL, cookie, &r), 200);
		ASSERT_STR(r.body, "gated file\n");
		jg_it_response_clear(&r);
		CU_ASSERT_EQUAL(get(path, NULL, NULL, &r), 200);
		o = body_json(&r);
		ASSERT_STR(jstr(o, "sub"), ALICE);
		json_object_put(o);
		jg_it_response_clear(&r);
		CU_ASSERT_EQUAL(get(path, t.valid, NULL, &r), 400);
		jg_it_response_clear(&r);
		free(cookie);
		free(path);
		cookie = jg_xasprintf("Cookie: jg_at=%s", t.expired);
		CU_ASSERT_EQUAL(get("/oauth/userinfo", NULL, cookie, &r), 401);
		ASSERT_STR(jg_it_header(&r, "WWW-Authenticate"),
			   "Bearer realm=\"jwtgate\", error=\"invalid_token\", "
			   "error_description=\"token expired\"");
		jg_it_response_clear(&r);
		free(cookie);
	}

	CU_ASSERT_EQUAL(get("/oauth/userinfo", NULL, "Authorization: Bearer", &r), 400);
	ASSERT_STR(jg_it_header(&r, "WWW-Authenticate"),
		   "Bearer realm=\"jwtgate\", error=\"invalid_request\", error_description="
		   "\"the Authorization header is not a valid Bearer credential\"");
	jg_it_response_clear(&r);

	CU_ASSERT_EQUAL(get("/oauth/userinfo", t.expired, NULL, &r), 401);
	ASSERT_STR(jg_it_header(&r, "WWW-Authenticate"),
		   "Bearer realm=\"jwtgate\", error=\"invalid_token\", "
		   "error_description=\"token expired\"");
	ASSERT_STR(r.body, "{\"error\":\"invalid_token\",\"error_description\":\"token expired\"}");
	jg_it_response_clear(&r);

	CU_ASSERT_EQUAL(get("/oauth/userinfo", t.revoked, NULL, &r), 401);
	ASSERT_STR(jg_it_header(&r, "WWW-Authenticate"),
		   "Bearer realm=\"jwtgate\", error=\"invalid_token\", "
		   "error_description=\"the token has been revoked\"");
	jg_it_response_clear(&r);
}

static void
test_api(void)
{
	struct jg_it_response r;
	struct json_object *o;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t.lt);
	CU_ASSERT_EQUAL(get("/api/me", t.valid, NULL, &r), 200);
	o = body_json(&r);
	ASSERT_STR(jstr(o, "sub"), ALICE);
	ASSERT_STR(jstr(o, "client_id"), "it-app");
	ASSERT_STR(jstr(o, "scope"), "openid profile email");
	json_object_put(o);
	jg_it_response_clear(&r);

	/* require_scope = /api/admin admin: RFC 6750 3.1 insufficient_scope. */
	CU_ASSERT_EQUAL(get("/api/admin/stats", t.valid, NULL, &r), 403);
	ASSERT_STR(jg_it_header(&r, "WWW-Authenticate"),
		   "Bearer realm=\"jwtgate\", error=\"insufficient_scope\", "
		   "error_description=\"the token lacks a scope this resource requires\", "
		   "scope=\"admin\"");
	jg_it_response_clear(&r);
	CU_ASSERT_EQUAL(get("/api/admin/stats", t.admin, NULL, &r), 404);
	jg_it_response_clear(&r);
	CU_ASSERT_EQUAL(get("/api/unknown", t.valid, NULL, &r), 404);
	ASSERT_STR(r.body, "{\"error\":\"not_found\",\"error_description\":\"no such resource\"}");
	jg_it_response_clear(&r);
	CU_ASSERT_EQUAL(get("/api/me", "garbage", NULL, &r), 401);
	ASSERT_STR(jg_it_header(&r, "WWW-Authenticate"),
		   "Bearer realm=\"jwtgate\", error=\"invalid_token\", "
		   "error_description=\"not three segments\"");
	jg_it_response_clear(&r);

	/* CORS preflight and an actual cross-origin call. */
	{
		const char *h[] = { "Origin: https://app.test",
				    "Access-Control-Request-Method: GET",
				    "Access-Control-Request-Headers: authorization", NULL };
		char *u = jg_xasprintf("%s/api/me", t.lt->url);

		CU_ASSERT_TRUE(jg_it_request(t.client, "OPTIONS", u, h, NULL, 0, &r));
		free(u);
		CU_ASSERT_EQUAL(r.status, 204);
		ASSERT_STR(jg_it_header(&r, "Access-Control-Allow-Origin"), "https://app.test");
		ASSERT_STR(jg_it_header(&r, "Access-Control-Allow-Headers"),
			   "Authorization, Content-Type");
		ASSERT_STR(jg_it_header(&r, "Access-Control-Allow-Methods"), "GET, POST");
		ASSERT_STR(jg_it_header(&r, "Access-Control-Max-Age"), "600");
		ASSERT_STR(jg_it_header(&r, "Vary"), "Origin");
		jg_it_response_clear(&r);
	}
	CU_ASSERT_EQUAL(get("/api/me", t.valid, "Origin: https://app.test", &r), 200);
	ASSERT_STR(jg_it_header(&r, "Access-Control-Allow-Origin"), "https://app.test");
	ASSERT_STR(jg_it_header(&r, "Vary"), "Origin");
	jg_it_response_clear(&r);
	CU_ASSERT_EQUAL(get("/api/me", t.valid, "Origin: https://evil.test", &r), 200);
	CU_ASSERT_PTR_NULL(jg_it_header(&r, "Access-Control-Allow-Origin"));
	jg_it_response_clear(&r);
}

static void
test_nginx_endpoint(void)
{
	struct jg_it_response r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t.lt);
	CU_ASSERT_EQUAL(get("/oauth/gate", t.valid, "X-Original-URI: /app/page", &r), 204);
	ASSERT_STR(jg_it_header(&r, "X-Jwt-Sub"), ALICE);
	ASSERT_STR(jg_it_header(&r, "X-Jwt-Client-Id"), "it-app");
	ASSERT_STR(jg_it_header(&r, "X-Jwt-Scope"), "openid profile email");
	jg_it_response_clear(&r);
	CU_ASSERT_EQUAL(get("/oauth/gate", NULL, "X-Original-URI: /app/page", &r), 401);
	ASSERT_STR(jg_it_header(&r, "WWW-Authenticate"), "Bearer realm=\"jwtgate\"");
	jg_it_response_clear(&r);
	CU_ASSERT_EQUAL(get("/oauth/gate", t.valid, "X-Original-URI: /api/admin", &r), 403);
	CU_ASSERT_PTR_NULL(jg_it_header(&r, "X-Jwt-Sub"));
	jg_it_response_clear(&r);
	CU_ASSERT_EQUAL(get("/oauth/gate", NULL, "Authorization: Bearer", &r), 401);
	jg_it_response_clear(&r);
}

/* ------------------------------------------------------------ authorizer */

static void
test_lighttpd_authorizer(void)
{
	struct jg_it_response r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t.lt);
	/* A static file. */
	CU_ASSERT_EQUAL(get("/private/file.txt", t.valid, NULL, &r), 200);
	ASSERT_STR(r.body, "gated file\n");
	CU_ASSERT_PTR_NULL(jg_it_header(&r, "Variable-JWT_SUB"));
	jg_it_response_clear(&r);
	CU_ASSERT_EQUAL(get("/private/file.txt", NULL, NULL, &r), 401);
	ASSERT_STR(jg_it_header(&r, "WWW-Authenticate"), "Bearer realm=\"jwtgate\"");
	CU_ASSERT_PTR_NULL(strstr(r.body, "gated file"));
	jg_it_response_clear(&r);
	CU_ASSERT_EQUAL(get("/private/file.txt", t.expired, NULL, &r), 401);
	ASSERT_STR(jg_it_header(&r, "WWW-Authenticate"),
		   "Bearer realm=\"jwtgate\", error=\"invalid_token\", "
		   "error_description=\"token expired\"");
	jg_it_response_clear(&r);
	/* A browser navigation goes to the login. */
	CU_ASSERT_EQUAL(get("/private/file.txt", NULL,
			    "Accept: text/html,application/xhtml+xml,*/*;q=0.8", &r), 302);
	ASSERT_STR(jg_it_header(&r, "Location"), ISSUER "/");
	jg_it_response_clear(&r);
	/* The scope rule of the gated path. */
	CU_ASSERT_EQUAL(get("/private/admin/file.txt", t.valid, NULL, &r), 403);
	CU_ASSERT_PTR_NULL(strstr(r.body, "admin file"));
	jg_it_response_clear(&r);
	CU_ASSERT_EQUAL(get("/private/admin/file.txt", t.admin, NULL, &r), 200);
	ASSERT_STR(r.body, "admin file\n");
	jg_it_response_clear(&r);

	/* A CGI script sees who calls. */
	CU_ASSERT_EQUAL(get("/private/env.cgi", t.valid, NULL, &r), 200);
	CU_ASSERT_PTR_NULL(jg_it_header(&r, "Variable-JWT_SUB"));
	ASSERT_STR(r.body, "REMOTE_USER=" ALICE "\nJWT_SUB=" ALICE "\n"
		   "JWT_SCOPE=openid profile email\nJWT_CLIENT_ID=it-app\n");
	jg_it_response_clear(&r);
	CU_ASSERT_EQUAL(get("/private/env.cgi", NULL, NULL, &r), 401);
	jg_it_response_clear(&r);

	/* CORS for gated content: the preflight carries no token, so the
	 * gate answers it for an allowed origin, and lighttpd relays that
	 * answer as sent; the content is not served. */
	{
		const char *h[] = { "Origin: https://app.test",
				    "Access-Control-Request-Method: GET",
				    "Access-Control-Request-Headers: authorization", NULL };
		const char *evil[] = { "Origin: https://evil.test",
				       "Access-Control-Request-Method: GET", NULL };
		char *u = jg_xasprintf("%s/private/file.txt", t.lt->url);

		CU_ASSERT_TRUE(jg_it_request(t.client, "OPTIONS", u, h, NULL, 0, &r));
		CU_ASSERT_EQUAL(r.status, 204);
		ASSERT_STR(jg_it_header(&r, "Access-Control-Allow-Origin"), "https://app.test");
		ASSERT_STR(jg_it_header(&r, "Access-Control-Allow-Headers"),
			   "Authorization, Content-Type");
		ASSERT_STR(jg_it_header(&r, "Access-Control-Allow-Methods"), "GET, POST");
		ASSERT_STR(jg_it_header(&r, "Access-Control-Max-Age"), "600");
		ASSERT_STR(jg_it_header(&r, "Vary"), "Origin");
		CU_ASSERT_PTR_NULL(strstr(r.body ? r.body : "", "gated file"));
		jg_it_response_clear(&r);
		/* Another origin's preflight meets the gate. */
		CU_ASSERT_TRUE(jg_it_request(t.client, "OPTIONS", u, evil, NULL, 0, &r));
		CU_ASSERT_EQUAL(r.status, 401);
		CU_ASSERT_PTR_NULL(jg_it_header(&r, "Access-Control-Allow-Origin"));
		jg_it_response_clear(&r);
		free(u);
	}
	/* The denial of a cross-origin call can be read by the page. */
	CU_ASSERT_EQUAL(get("/private/file.txt", NULL, "Origin: https://app.test", &r), 401);
	ASSERT_STR(jg_it_header(&r, "Access-Control-Allow-Origin"), "https://app.test");
	ASSERT_STR(jg_it_header(&r, "Access-Control-Expose-Headers"), "WWW-Authenticate");
	ASSERT_STR(jg_it_header(&r, "WWW-Authenticate"), "Bearer realm=\"jwtgate\"");
	jg_it_response_clear(&r);
}

/* ------------------------------------------------------------ external issuer */

static void
test_external_issuer(void)
{
	struct jg_it_response r;
	struct json_object *o;
	time_t t0, t1 = 0;
	int fetches;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t.lt);
	/* Discovery, then the JWKS, fetched by the gate. */
	CU_ASSERT_EQUAL(get("/api/me", t.ext_token_a, NULL, &r), 200);
	o = body_json(&r);
	ASSERT_STR(jstr(o, "iss"), t.ext);
	CU_ASSERT_PTR_NULL(jg_json_get(o, "profile"));
	json_object_put(o);
	jg_it_response_clear(&r);
	/* Cached on disk for every process: the /oauth/gate program (another
	 * process) uses the file and fetches nothing. */
	CU_ASSERT_EQUAL(count_in_log("GET /jwks.json"), 1);
	CU_ASSERT_EQUAL(count_in_log("GET /.well-known/openid-configuration"), 1);
	CU_ASSERT_EQUAL(get("/oauth/gate", t.ext_token_a, NULL, &r), 204);
	ASSERT_STR(jg_it_header(&r, "X-Jwt-Client-Id"), "it-app");
	jg_it_response_clear(&r);
	CU_ASSERT_EQUAL(count_in_log("GET /jwks.json"), 1);
	/* Our own token's audience is not the external issuer's. */
	{
		char *wrong = mint(t.ext_a, t.ext, ISSUER, "read", "ext-aud", 0);

		CU_ASSERT_EQUAL(get("/api/me", wrong, NULL, &r), 401);
		ASSERT_STR(jg_it_header(&r, "WWW-Authenticate"),
			   "Bearer realm=\"jwtgate\", error=\"invalid_token\", "
			   "error_description=\"aud does not include the expected audience\"");
		jg_it_response_clear(&r);
		free(wrong);
	}

	/* The issuer rotates to key B: the unknown kid makes the gate fetch
	 * again (once jwks_refresh_min_interval, 1 s, has passed). */
	publish_ext(t.ext_b);
	CU_ASSERT(jg_it_write_file(t.work, "ext/.cache-control", "public, max-age=4", 0644));
	sleep(2);
	fetches = count_in_log("GET /jwks.json");
	t0 = time(NULL);
	CU_ASSERT_EQUAL(get("/api/me", t.ext_token_b, NULL, &r), 200);
	jg_it_response_clear(&r);
	CU_ASSERT_EQUAL(count_in_log("GET /jwks.json"), fetches + 1);
	fetches = count_in_log("GET /jwks.json");

	/* Unknown kids refetch at most once per jwks_refresh_min_interval
	 * (1 s, on whole seconds): six requests with a kid the issuer never
	 * published fetch at most once per second passed since the fetch
	 * above (none when they all fall in its second). */
	{
		struct jg_jwk *c = NULL;
		char *token;

		CU_ASSERT_EQUAL_FATAL(jg_jwk_generate(JG_ALG_ES256, 0, &c), JG_OK);
		token = mint(c, t.ext, "https://api.test", "read", "ext-burst", 0);
		for (int i = 0; i < 6; i++) {
			CU_ASSERT_EQUAL(get("/api/me", token, NULL, &r), 401);
			ASSERT_STR(jg_it_header(&r, "WWW-Authenticate"),
				   "Bearer realm=\"jwtgate\", error=\"invalid_token\", "
				   "error_description=\"no key for kid\"");
			jg_it_response_clear(&r);
		}
		t1 = time(NULL);
		CU_ASSERT(count_in_log("GET /jwks.json") - fetches <= (int)(t1 - t0));
		free(token);
		jg_jwk_free(c);
	}
	/* Cache-Control: max-age=4 of that answer: the keys are not fetched
	 * again before it runs out (two seconds on, past the refresh interval
	 * and past the verified-token cache), and are once it has. */
	CU_ASSERT_FATAL(t1 - t0 <= 1);
	while (time(NULL) < t1 + 2)
		sleep(1);
	fetches = count_in_log("GET /jwks.json");
	CU_ASSERT_EQUAL(get("/api/me", t.ext_token_b, NULL, &r), 200);
	jg_it_response_clear(&r);
	CU_ASSERT_EQUAL(count_in_log("GET /jwks.json"), fetches);
	while (time(NULL) < t1 + 5)
		sleep(1);
	CU_ASSERT_EQUAL(get("/api/me", t.ext_token_b, NULL, &r), 200);
	jg_it_response_clear(&r);
	CU_ASSERT_EQUAL(count_in_log("GET /jwks.json"), fetches + 1);
	CU_ASSERT(count_in_log("\"GET /jwks.json HTTP/1.1\" 200") == count_in_log("GET /jwks.json"));
	/* Key A is gone from the set: once the cached verification is older
	 * than revocation_check_interval, its tokens fail. */
	sleep(2);
	CU_ASSERT_EQUAL(get("/api/me", t.ext_token_a, NULL, &r), 401);
	ASSERT_STR(jg_it_header(&r, "WWW-Authenticate"),
		   "Bearer realm=\"jwtgate\", error=\"invalid_token\", "
		   "error_description=\"no key for kid\"");
	jg_it_response_clear(&r);

	/* The issuer goes away: the cached keys still verify. */
	kill(t.ext_pid, SIGTERM);
	CU_ASSERT_EQUAL(jg_it_wait(t.ext_pid, 10000), 128 + SIGTERM);
	t.ext_pid = 0;
	sleep(2);
	{
		/* A kid it never published forces a fetch, which fails ... */
		struct jg_jwk *c = NULL;
		char *token;

		CU_ASSERT_EQUAL_FATAL(jg_jwk_generate(JG_ALG_ES256, 0, &c), JG_OK);
		token = mint(c, t.ext, "https://api.test", "read", "ext-c", 0);
		CU_ASSERT_EQUAL(get("/api/me", token, NULL, &r), 401);
		ASSERT_STR(jg_it_header(&r, "WWW-Authenticate"),
			   "Bearer realm=\"jwtgate\", error=\"invalid_token\", "
			   "error_description=\"no key for kid\"");
		jg_it_response_clear(&r);
		free(token);
		jg_jwk_free(c);
	}
	CU_ASSERT_TRUE(jg_it_log_contains(t.lt, "/.well-known/openid-configuration failed"));
	/* ... and the keys fetched before stay. */
	CU_ASSERT_EQUAL(get("/api/me", t.ext_token_b, NULL, &r), 200);
	jg_it_response_clear(&r);

	/* An issuer that never answered: no keys, try again later. */
	CU_ASSERT_EQUAL(get("/api/me", t.down_token, NULL, &r), 503);
	ASSERT_STR(jg_it_header(&r, "Retry-After"), "1");
	jg_it_response_clear(&r);
}

/* ------------------------------------------------------------ Apache */

/* Issue 6 point 5: the answers of point 1 through Apache and mod_fcgid as
 * a responder (the same program as behind lighttpd). */
static void
apache_responder(const struct jg_it_server *ap)
{
	struct jg_it_response r;
	struct json_object *o;
	char *body, *h;

	/* Scheme case-insensitive. */
	h = jg_xasprintf("Authorization: bEaReR %s", t.valid);
	CU_ASSERT_EQUAL(http_send("GET", ap->url, "/oauth/userinfo", NULL, h, NULL, &r), 200);
	jg_it_response_clear(&r);
	free(h);
	/* Form body (RFC 6750 2.2, bearer_form = yes). */
	body = jg_xasprintf("access_token=%s", t.valid);
	CU_ASSERT_EQUAL(http_send("POST", ap->url, "/oauth/userinfo", NULL,
				  "Content-Type: application/x-www-form-urlencoded", body,
				  &r), 200);
	o = body_json(&r);
	ASSERT_STR(jstr(o, "sub"), ALICE);
	json_object_put(o);
	jg_it_response_clear(&r);
	free(body);
	/* Malformed: 400 invalid_request. */
	CU_ASSERT_EQUAL(http_send("GET", ap->url, "/oauth/userinfo", NULL,
				  "Authorization: Bearer", NULL, &r), 400);
	ASSERT_STR(jg_it_header(&r, "WWW-Authenticate"),
		   "Bearer realm=\"jwtgate\", error=\"invalid_request\", error_description="
		   "\"the Authorization header is not a valid Bearer credential\"");
	jg_it_response_clear(&r);
	/* Bad tokens: 401 invalid_token with a description. */
	CU_ASSERT_EQUAL(http_send("GET", ap->url, "/oauth/userinfo", t.revoked, NULL, NULL,
				  &r), 401);
	ASSERT_STR(jg_it_header(&r, "WWW-Authenticate"),
		   "Bearer realm=\"jwtgate\", error=\"invalid_token\", "
		   "error_description=\"the token has been revoked\"");
	jg_it_response_clear(&r);
	CU_ASSERT_EQUAL(http_send("GET", ap->url, "/api/me", t.expired, NULL, NULL, &r), 401);
	ASSERT_STR(jg_it_header(&r, "WWW-Authenticate"),
		   "Bearer realm=\"jwtgate\", error=\"invalid_token\", "
		   "error_description=\"token expired\"");
	jg_it_response_clear(&r);
	/* The API and its scope rule: 200, 403 insufficient_scope, 404. */
	CU_ASSERT_EQUAL(http_send("GET", ap->url, "/api/me", t.valid, NULL, NULL, &r), 200);
	o = body_json(&r);
	ASSERT_STR(jstr(o, "sub"), ALICE);
	ASSERT_STR(jstr(o, "client_id"), "it-app");
	ASSERT_STR(jstr(o, "scope"), "openid profile email");
	json_object_put(o);
	jg_it_response_clear(&r);
	CU_ASSERT_EQUAL(http_send("GET", ap->url, "/api/admin/stats", t.valid, NULL, NULL, &r),
			403);
	ASSERT_STR(jg_it_header(&r, "WWW-Authenticate"),
		   "Bearer realm=\"jwtgate\", error=\"insufficient_scope\", "
		   "error_description=\"the token lacks a scope this resource requires\", "
		   "scope=\"admin\"");
	jg_it_response_clear(&r);
	CU_ASSERT_EQUAL(http_send("GET", ap->url, "/api/admin/stats", t.admin, NULL, NULL, &r),
			404);
	jg_it_response_clear(&r);
	/* CORS: preflight and an actual call. */
	{
		const char *hp[] = { "Origin: https://app.test",
				     "Access-Control-Request-Method: GET",
				     "Access-Control-Request-Headers: authorization", NULL };
		char *u = jg_xasprintf("%s/api/me", ap->url);

		CU_ASSERT_TRUE(jg_it_request(t.client, "OPTIONS", u, hp, NULL, 0, &r));
		free(u);
		CU_ASSERT_EQUAL(r.status, 204);
		ASSERT_STR(jg_it_header(&r, "Access-Control-Allow-Origin"), "https://app.test");
		ASSERT_STR(jg_it_header(&r, "Access-Control-Allow-Headers"),
			   "Authorization, Content-Type");
		ASSERT_STR(jg_it_header(&r, "Access-Control-Max-Age"), "600");
		ASSERT_STR(jg_it_header(&r, "Vary"), "Origin");
		jg_it_response_clear(&r);
	}
	CU_ASSERT_EQUAL(http_send("GET", ap->url, "/api/me", t.valid, "Origin: https://app.test",
				  NULL, &r), 200);
	ASSERT_STR(jg_it_header(&r, "Access-Control-Allow-Origin"), "https://app.test");
	ASSERT_STR(jg_it_header(&r, "Vary"), "Origin");
	jg_it_response_clear(&r);
	/* Point 3 through Apache: the external issuer, whose server is gone
	 * by now; its keys come from the disk cache the lighttpd processes
	 * filled. */
	CU_ASSERT_EQUAL(http_send("GET", ap->url, "/api/me", t.ext_token_b, NULL, NULL, &r), 200);
	o = body_json(&r);
	ASSERT_STR(jstr(o, "iss"), t.ext);
	json_object_put(o);
	jg_it_response_clear(&r);
	CU_ASSERT_EQUAL(http_send("GET", ap->url, "/api/me", t.down_token, NULL, NULL, &r), 503);
	ASSERT_STR(jg_it_header(&r, "Retry-After"), "1");
	jg_it_response_clear(&r);
}

/* Issue 6 point 2 through mod_fcgid's access checker: what a denial
 * becomes (always 401, the program's challenge kept), the scope rule, and
 * the browser navigation (mod_fcgid turns the 302 into a 401 as well, as
 * the README says). */
static void
apache_gate_answers(const struct jg_it_server *ap)
{
	struct jg_it_response r;

	CU_ASSERT_EQUAL(http_send("GET", ap->url, "/private/admin/file.txt", t.valid, NULL,
				  NULL, &r), 401);
	ASSERT_STR(jg_it_header(&r, "WWW-Authenticate"),
		   "Bearer realm=\"jwtgate\", error=\"insufficient_scope\", "
		   "error_description=\"the token lacks a scope this resource requires\", "
		   "scope=\"admin\"");
	CU_ASSERT_PTR_NULL(strstr(r.body ? r.body : "", "apache admin"));
	jg_it_response_clear(&r);
	CU_ASSERT_EQUAL(http_send("GET", ap->url, "/private/admin/file.txt", t.admin, NULL,
				  NULL, &r), 200);
	ASSERT_STR(r.body, "apache admin\n");
	CU_ASSERT_PTR_NULL(jg_it_header(&r, "Variable-JWT_SCOPE"));
	jg_it_response_clear(&r);
	CU_ASSERT_EQUAL(http_send("GET", ap->url, "/private/file.txt", NULL,
				  "Accept: text/html,application/xhtml+xml,*/*;q=0.8", NULL, &r),
			401);
	CU_ASSERT_PTR_NULL(jg_it_header(&r, "Location"));
	CU_ASSERT_PTR_NULL(strstr(r.body ? r.body : "", "apache gated"));
	jg_it_response_clear(&r);
	CU_ASSERT_EQUAL(http_send("GET", ap->url, "/private/file.txt", t.revoked, NULL, NULL,
				  &r), 401);
	ASSERT_STR(jg_it_header(&r, "WWW-Authenticate"),
		   "Bearer realm=\"jwtgate\", error=\"invalid_token\", "
		   "error_description=\"the token has been revoked\"");
	jg_it_response_clear(&r);
	/* mod_authnz_fcgi relays the program's answer: the browser
	 * navigation gets the 302 to the login. */
	CU_ASSERT_EQUAL(http_send("GET", ap->url, "/bearer/file.txt", NULL,
				  "Accept: text/html,application/xhtml+xml,*/*;q=0.8", NULL, &r),
			302);
	ASSERT_STR(jg_it_header(&r, "Location"), ISSUER "/");
	CU_ASSERT_PTR_NULL(strstr(r.body ? r.body : "", "authnz gated"));
	jg_it_response_clear(&r);
}

static void
test_apache_fcgid(void)
{
	struct jg_it_program programs[3];
	struct jg_it_server_opts opts;
	struct jg_it_server *ap;
	struct jg_it_response r;
	struct json_object *o;
	const char *env[2] = { t.env_conf, NULL };
	char *dir, *cmd, *listen, *log, *extra;
	pid_t standalone;
	int port;

	/* Apache's workers run as www-data: give them the instance. */
	if (geteuid() == 0) {
		cmd = jg_xasprintf("chown -R www-data:www-data '%s'", t.work);
		CU_ASSERT_EQUAL(system(cmd), 0);
		free(cmd);
	}
	memset(programs, 0, sizeof(programs));
	programs[0].prefix = "/oauth/userinfo";
	programs[0].bin = t.bin;
	programs[0].env = env;
	programs[1].prefix = "/private/";
	programs[1].bin = t.bin;
	programs[1].authorizer = true;
	programs[1].env = env;
	programs[2].prefix = "/api/";
	programs[2].bin = t.bin;
	programs[2].env = env;
	memset(&opts, 0, sizeof(opts));
	opts.programs = programs;
	opts.nprograms = 3;
	/* mod_authnz_fcgi does not start programs: resource.fcgi listens on
	 * a loopback port by itself. */
	port = jg_it_free_port();
	listen = jg_xasprintf("127.0.0.1:%d", port);
	log = jg_xasprintf("%s/standalone.log", t.work);
	setenv("JWTGATE_CONF", t.conf, 1);
	{
		const char *argv[] = { t.bin, "--listen", listen, NULL };

		standalone = jg_it_spawn(argv, log);
	}
	unsetenv("JWTGATE_CONF");
	CU_ASSERT_FATAL(standalone > 0 && jg_it_wait_port(port, standalone, 10000));
	extra = jg_xasprintf(
		"Header always unset Variable-REMOTE_USER\n"
		"Header always unset Variable-JWT_SUB\n"
		"Header always unset Variable-JWT_SCOPE\n"
		"Header always unset Variable-JWT_CLIENT_ID\n"
		"LoadModule authnz_fcgi_module /usr/lib/apache2/modules/mod_authnz_fcgi.so\n"
		"LoadModule authz_user_module /usr/lib/apache2/modules/mod_authz_user.so\n"
		"AuthnzFcgiDefineProvider authn JwtGate fcgi://%s/\n"
		"<Location \"/bearer/\">\n"
		"  AuthType Bearer\n  AuthName \"jwtgate\"\n  CGIPassAuth On\n"
		"  AuthnzFcgiCheckAuthnProvider JwtGate Authoritative On "
		"RequireBasicAuth Off UserExpr \"%%{reqenv:REMOTE_USER}\"\n"
		"  Require valid-user\n</Location>\n"
		"LoadModule cgid_module /usr/lib/apache2/modules/mod_cgid.so\n"
		"ScriptSock \"%s/cgid.sock\"\n"
		"<LocationMatch \"^/(private|bearer)/.*\\.cgi$\">\n"
		"  SetHandler cgi-script\n  Options +ExecCGI\n</LocationMatch>",
		listen, t.work);
	opts.extra = extra;
	ap = jg_it_apache_start(&opts);
	free(extra);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ap);
	CU_ASSERT(jg_it_write_file(ap->htdocs, "private/file.txt", "apache gated\n", 0644));
	CU_ASSERT(jg_it_write_file(ap->htdocs, "private/admin/file.txt", "apache admin\n", 0644));
	CU_ASSERT(jg_it_write_file(ap->htdocs, "bearer/file.txt", "authnz gated\n", 0644));
	CU_ASSERT(jg_it_write_file(ap->htdocs, "private/env.cgi", ENV_CGI, 0755));
	CU_ASSERT(jg_it_write_file(ap->htdocs, "bearer/env.cgi", ENV_CGI, 0755));

	/* FcgidPassHeader Authorization: the token reaches the responder. */
	CU_ASSERT_EQUAL(http_send("GET", ap->url, "/oauth/userinfo", t.valid, NULL, NULL, &r), 200);
	o = body_json(&r);
	ASSERT_STR(jstr(o, "sub"), ALICE);
	json_object_put(o);
	jg_it_response_clear(&r);
	CU_ASSERT_EQUAL(http_send("GET", ap->url, "/oauth/userinfo", NULL, NULL, NULL, &r), 401);
	ASSERT_STR(jg_it_header(&r, "WWW-Authenticate"), "Bearer realm=\"jwtgate\"");
	jg_it_response_clear(&r);
	CU_ASSERT_EQUAL(http_send("GET", ap->url, "/oauth/userinfo", t.admin, NULL, NULL, &r), 200);
	jg_it_response_clear(&r);
	apache_responder(ap);
	apache_gate_answers(ap);

	/* FcgidAccessChecker: allowed, and no Variable-* leaks. */
	CU_ASSERT_EQUAL(http_send("GET", ap->url, "/private/file.txt", t.valid, NULL, NULL, &r),
			200);
	ASSERT_STR(r.body, "apache gated\n");
	CU_ASSERT_PTR_NULL(jg_it_header(&r, "Variable-JWT_SUB"));
	CU_ASSERT_PTR_NULL(jg_it_header(&r, "Variable-REMOTE_USER"));
	jg_it_response_clear(&r);
	/* A CGI script behind the access checker sees who calls. */
	CU_ASSERT_EQUAL(http_send("GET", ap->url, "/private/env.cgi", t.valid, NULL, NULL, &r),
			200);
	ASSERT_STR(r.body, "REMOTE_USER=" ALICE "\nJWT_SUB=" ALICE "\n"
		   "JWT_SCOPE=openid profile email\nJWT_CLIENT_ID=it-app\n");
	CU_ASSERT_PTR_NULL(jg_it_header(&r, "Variable-JWT_SUB"));
	jg_it_response_clear(&r);
	CU_ASSERT_EQUAL(http_send("GET", ap->url, "/private/env.cgi", NULL, NULL, NULL, &r), 401);
	CU_ASSERT_PTR_NULL(strstr(r.body, "JWT_SUB"));
	jg_it_response_clear(&r);
	/* Denied: mod_fcgid answers 401 with the program's challenge. */
	CU_ASSERT_EQUAL(http_send("GET", ap->url, "/private/file.txt", t.expired, NULL, NULL, &r),
			401);
	ASSERT_STR(jg_it_header(&r, "WWW-Authenticate"),
		   "Bearer realm=\"jwtgate\", error=\"invalid_token\", "
		   "error_description=\"token expired\"");
	CU_ASSERT_PTR_NULL(strstr(r.body, "apache gated"));
	jg_it_response_clear(&r);
	CU_ASSERT_EQUAL(http_send("GET", ap->url, "/private/file.txt", NULL, NULL, NULL, &r), 401);
	CU_ASSERT_PTR_NULL(strstr(r.body, "apache gated"));
	jg_it_response_clear(&r);

	/* mod_authnz_fcgi (check_user_id with RequireBasicAuth Off): the
	 * program's status, challenge and body are relayed. */
	CU_ASSERT_EQUAL(http_send("GET", ap->url, "/bearer/file.txt", t.valid, NULL, NULL, &r),
			200);
	ASSERT_STR(r.body, "authnz gated\n");
	CU_ASSERT_PTR_NULL(jg_it_header(&r, "Variable-JWT_SUB"));
	jg_it_response_clear(&r);
	CU_ASSERT_EQUAL(http_send("GET", ap->url, "/bearer/file.txt", t.expired, NULL, NULL,
				  &r), 401);
	ASSERT_STR(jg_it_header(&r, "WWW-Authenticate"),
		   "Bearer realm=\"jwtgate\", error=\"invalid_token\", "
		   "error_description=\"token expired\"");
	CU_ASSERT_PTR_NULL(strstr(r.body, "authnz gated"));
	jg_it_response_clear(&r);
	CU_ASSERT_EQUAL(http_send("GET", ap->url, "/bearer/file.txt", NULL, NULL, NULL, &r),
			401);
	CU_ASSERT_PTR_NULL(strstr(r.body, "authnz gated"));
	jg_it_response_clear(&r);
	/* A CGI script behind mod_authnz_fcgi: REMOTE_USER from the
	 * provider's UserExpr, the JWT_* variables from its Variable-*
	 * headers, none of which reach the client. */
	CU_ASSERT_EQUAL(http_send("GET", ap->url, "/bearer/env.cgi", t.valid, NULL, NULL, &r),
			200);
	ASSERT_STR(r.body, "REMOTE_USER=" ALICE "\nJWT_SUB=" ALICE "\n"
		   "JWT_SCOPE=openid profile email\nJWT_CLIENT_ID=it-app\n");
	CU_ASSERT_PTR_NULL(jg_it_header(&r, "Variable-JWT_SUB"));
	CU_ASSERT_PTR_NULL(jg_it_header(&r, "Variable-REMOTE_USER"));
	jg_it_response_clear(&r);
	CU_ASSERT_EQUAL(http_send("GET", ap->url, "/bearer/env.cgi", NULL, NULL, NULL, &r), 401);
	CU_ASSERT_PTR_NULL(strstr(r.body ? r.body : "", "JWT_SUB"));
	jg_it_response_clear(&r);
	CU_ASSERT_EQUAL(http_send("GET", ap->url, "/bearer/env.cgi", t.revoked, NULL, NULL, &r),
			401);
	ASSERT_STR(jg_it_header(&r, "WWW-Authenticate"),
		   "Bearer realm=\"jwtgate\", error=\"invalid_token\", "
		   "error_description=\"the token has been revoked\"");
	CU_ASSERT_PTR_NULL(strstr(r.body ? r.body : "", "JWT_SUB"));
	jg_it_response_clear(&r);

	CU_ASSERT_FALSE(jg_it_log_contains(ap, "Sanitizer"));
	dir = jg_xstrdup(ap->dir);
	CU_ASSERT_TRUE(jg_it_server_stop(ap));
	CU_ASSERT_EQUAL(jg_it_leftovers(0, dir), 0);
	free(dir);
	/* The standalone program stops cleanly on SIGTERM. */
	kill(standalone, SIGTERM);
	CU_ASSERT_EQUAL(jg_it_wait(standalone, 10000), 0);
	free(listen);
	free(log);
}

/* ------------------------------------------------------------ teardown */

static void
test_teardown(void)
{
	char *dir;

	if (t.lt) {
		CU_ASSERT_FALSE(jg_it_log_contains(t.lt, "Sanitizer"));
		CU_ASSERT_FALSE(jg_it_log_contains(t.lt, "runtime error"));
		dir = jg_xstrdup(t.lt->dir);
		CU_ASSERT_TRUE(jg_it_server_stop(t.lt));
		t.lt = NULL;
		CU_ASSERT_EQUAL(jg_it_leftovers(0, dir), 0);
		free(dir);
	}
	if (t.ext_pid > 0) {
		kill(t.ext_pid, SIGTERM);
		jg_it_wait(t.ext_pid, 10000);
	}
	/* No check by program path here: under make -j other suites run
	 * resource.fcgi at the same time.  jg_it_server_stop above fails
	 * when anything of the server's process group is left. */
	jg_it_client_free(t.client);
	jg_store_close(t.store);
	jg_keyring_free(t.ring);
	jg_jwk_free(t.ext_a);
	jg_jwk_free(t.ext_b);
	free(t.valid);
	free(t.admin);
	free(t.revoked);
	free(t.expired);
	free(t.ext_token_a);
	free(t.ext_token_b);
	free(t.down_token);
	free(t.bin);
	free(t.echo);
	free(t.conf);
	free(t.env_conf);
	free(t.ext);
	free(t.ext_dir);
	free(t.down);
}

int
main(void)
{
	static const struct jg_test tests[] = {
		{ "start lighttpd, the JWKS server, keys and store", test_setup },
		{ "userinfo: RFC 6750 answers", test_userinfo },
		{ "api: scopes, 404, CORS", test_api },
		{ "nginx auth_request endpoint", test_nginx_endpoint },
		{ "lighttpd authorizer: static file and CGI", test_lighttpd_authorizer },
		{ "external issuer: discovery, rotation, unreachable", test_external_issuer },
		{ "Apache mod_fcgid: responder and access checker", test_apache_fcgid },
		{ "stop everything", test_teardown },
		{ NULL, NULL },
	};

	return jg_test_main("resource", tests);
}
