/* test_badinput.c: hostile and broken requests through a real lighttpd in
 * front of all three programs (authorize.fcgi, token.fcgi, resource.fcgi):
 * oversized bodies and headers, missing or wrong Content-Type and
 * Content-Length, invalid UTF-8 and NUL bytes (%00) in parameters,
 * duplicate parameters, broken percent-encoding and methods an endpoint
 * does not take.  Each answer must be the documented 4xx (common/http.h:
 * jg_request_parse's 400/413/414/431 and jg_request_form; RFC 6749 section
 * 3.1 for duplicates; the 405s with Allow of token.c, authorize.c and
 * gate.c), never a 500, and the database must be byte-for-byte the same
 * (sqlite3 .dump) before and after the whole table of requests. */
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
#include "keyring.h"
#include "oauth.h"
#include "store.h"
#include "util.h"

#define ISSUER "http://127.0.0.1"
#define APP_SECRET "app-secret-0123456789-abcdefghijklmnopqrstuvwxyz"
#define APP_CB "https://app.example/cb"

static struct {
	const char *dir;
	char *db;
	struct jg_config *config;
	struct jg_it_server *lt;
	struct jg_it_client *client;
	char *basic;		/* "Authorization: Basic ..." of client app */
	char *bearer;		/* "Authorization: Bearer ..." of app's token */
	char *dump_before;
} t;

#define ASSERT_STR(actual, expected) \
	CU_ASSERT_STRING_EQUAL((actual) ? (actual) : "(null)", (expected))

/* Returns every row of the database as SQL text (sqlite3 .dump), or NULL. */
static char *
dump_db(void)
{
	char *cmd = jg_xasprintf("sqlite3 -readonly '%s' .dump", t.db);
	FILE *p = popen(cmd, "r");
	char *out = NULL;
	size_t cap = 0, len = 0, n;
	char buf[4096];

	free(cmd);
	if (p == NULL)
		return NULL;
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0) {
		if (len + n + 1 > cap) {
			cap = (len + n + 1) * 2;
			out = realloc(out, cap);
			if (out == NULL)
				abort();
		}
		memcpy(out + len, buf, n);
		len += n;
		out[len] = '\0';
	}
	if (pclose(p) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

static char *
basic(const char *id, const char *secret)
{
	char *plain = jg_xasprintf("%s:%s", id, secret);
	char *b64 = jg_b64std_encode(plain, strlen(plain));
	char *out = jg_xasprintf("Authorization: Basic %s", b64);

	free(plain);
	free(b64);
	return out;
}

static void
add_client(struct jg_store *st)
{
	struct jg_client c;
	char *uris[1] = { (char *)(uintptr_t)APP_CB };

	memset(&c, 0, sizeof(c));
	c.client_id = (char *)(uintptr_t)"app";
	CU_ASSERT_EQUAL_FATAL(jg_client_secret_hash(APP_SECRET, &c.secret_hash), JG_OK);
	c.redirect_uris = uris;
	c.n_redirect_uris = 1;
	c.grant_types = (char *)(uintptr_t)"authorization_code refresh_token client_credentials";
	c.scopes = (char *)(uintptr_t)"openid profile api:read";
	CU_ASSERT_EQUAL_FATAL(jg_store_client_add(st, &c, time(NULL)), JG_OK);
	free(c.secret_hash);
}

/* ------------------------------------------------------------ setup */

static void
test_start(void)
{
	static const char *const authorize_prefixes[] = { "/oauth/authorize",
		"/oauth/logout" };
	static const char *const token_prefixes[] = { "/oauth/token",
		"/oauth/revoke", "/oauth/introspect" };
	static const char *const resource_prefixes[] = { "/oauth/userinfo", "/api/" };
	struct jg_it_program programs[7];
	struct jg_it_server_opts opts;
	struct jg_keyring *ring;
	struct jg_store *st = NULL;
	struct jg_user u;
	char *path, *errmsg = NULL, *env_conf, *bins[3], *extra;
	const char *env[2];
	size_t i, n = 0;
	FILE *f;

	t.dir = jg_it_tempdir();
	CU_ASSERT_PTR_NOT_NULL_FATAL(t.dir);
	path = jg_xasprintf("%s/jwtgate.conf", t.dir);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL_FATAL(jg_config_write_template(f, ISSUER, t.dir), JG_OK);
	extra = jg_xasprintf("templates = %s/htdocs\n", jg_test_srcdir());
	fputs(extra, f);
	free(extra);
	CU_ASSERT_EQUAL_FATAL(fclose(f), 0);
	if (jg_config_load(path, &t.config, &errmsg) != JG_OK)
		fprintf(stderr, "config: %s\n", errmsg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t.config);
	CU_ASSERT_EQUAL_FATAL(mkdir(t.config->key_dir, 0700), 0);
	ring = jg_keyring_new(t.config->key_dir);
	CU_ASSERT_EQUAL_FATAL(jg_keyring_rotate(ring, JG_KEY_ACCESS, JG_ALG_UNKNOWN,
		t.config->access_token_alg, time(NULL) - 10, NULL, &errmsg), JG_OK);
	CU_ASSERT_EQUAL_FATAL(jg_keyring_rotate(ring, JG_KEY_ID, JG_ALG_UNKNOWN,
		t.config->id_token_alg, time(NULL) - 10, NULL, &errmsg), JG_OK);
	jg_keyring_free(ring);
	t.db = jg_xstrdup(t.config->database);
	CU_ASSERT_EQUAL_FATAL(jg_store_open(t.db, 5000, &st, &errmsg), JG_OK);
	add_client(st);
	memset(&u, 0, sizeof(u));
	u.sub = (char *)(uintptr_t)"sub-alice";
	u.username = (char *)(uintptr_t)"alice";
	u.password_hash = (char *)(uintptr_t)"$y$j9T$unused$unused";
	CU_ASSERT_EQUAL_FATAL(jg_store_user_add(st, &u, time(NULL)), JG_OK);
	jg_store_close(st);

	bins[0] = jg_it_build_path("cgi-bin/authorize.fcgi");
	bins[1] = jg_it_build_path("cgi-bin/token.fcgi");
	bins[2] = jg_it_build_path("cgi-bin/resource.fcgi");
	for (i = 0; i < 3; i++)
		CU_ASSERT_EQUAL_FATAL(access(bins[i], X_OK), 0);
	env_conf = jg_xasprintf("JWTGATE_CONF=%s", path);
	env[0] = env_conf;
	env[1] = NULL;
	memset(programs, 0, sizeof(programs));
	for (i = 0; i < 2; i++) {
		programs[n].prefix = authorize_prefixes[i];
		programs[n++].bin = bins[0];
	}
	for (i = 0; i < 3; i++) {
		programs[n].prefix = token_prefixes[i];
		programs[n++].bin = bins[1];
	}
	for (i = 0; i < 2; i++) {
		programs[n].prefix = resource_prefixes[i];
		programs[n++].bin = bins[2];
	}
	for (i = 0; i < n; i++) {
		programs[i].env = env;
		programs[i].max_procs = 1;
	}
	memset(&opts, 0, sizeof(opts));
	opts.programs = programs;
	opts.nprograms = n;
	/* Let header fields up to 64 KiB through lighttpd (default 8 KiB),
	 * so the programs' own 431 (JG_HTTP_MAX_PARAM_VALUE) is reached. */
	opts.extra = "server.max-request-field-size = 65535\n";
	t.lt = jg_it_lighttpd_start(&opts);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t.lt);
	t.client = jg_it_client_new();
	t.basic = basic("app", APP_SECRET);
	free(path);
	free(env_conf);
	for (i = 0; i < 3; i++)
		free(bins[i]);
}

/* Gets an access token for client app (client_credentials), used where an
 * endpoint checks its method only after the token; then takes the dump
 * every later request is compared against. */
static void
test_token_and_dump(void)
{
	const char *headers[] = { t.basic,
		"Content-Type: application/x-www-form-urlencoded", NULL };
	struct jg_it_response r;
	struct json_object *obj = NULL;
	const char *at = NULL;
	char *url = jg_xasprintf("%s/oauth/token", t.lt->url);

	memset(&r, 0, sizeof(r));
	CU_ASSERT_FATAL(jg_it_post(t.client, url, headers,
				   "grant_type=client_credentials&scope=api%3Aread", &r));
	CU_ASSERT_EQUAL(r.status, 200);
	if (r.status == 200 &&
	    jg_json_parse_object(r.body, r.body_len, &obj, NULL) == JG_OK &&
	    jg_json_get_string(obj, "access_token", &at))
		t.bearer = jg_xasprintf("Authorization: Bearer %s", at);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t.bearer);
	json_object_put(obj);
	jg_it_response_clear(&r);
	free(url);
	t.dump_before = dump_db();
	CU_ASSERT_PTR_NOT_NULL_FATAL(t.dump_before);
	CU_ASSERT_PTR_NOT_NULL(strstr(t.dump_before, "INSERT INTO"));
}

/* ------------------------------------------------------------ the table */

#define FORM "Content-Type: application/x-www-form-urlencoded"
#define AUTH_BASIC ((const char *)1)	/* placeholder: t.basic */
#define AUTH_BEARER ((const char *)2)	/* placeholder: t.bearer */
#define BIG_BODY ((const char *)3)	/* placeholder: 70000 bytes */
#define BIG_HEADER ((const char *)4)	/* placeholder: a 20000-byte header */
#define HUGE_HEADER ((const char *)5)	/* placeholder: a 70000-byte header */
#define MANY_PARAMS ((const char *)6)	/* placeholder: a form of 70 pairs */
#define LONG_QUERY_TOKEN ((const char *)7)	/* placeholder: /oauth/token?
						 * and 20000 bytes */
#define LONG_QUERY_AUTHORIZE ((const char *)8)	/* the same, /oauth/authorize */

/* The answer formats. */
enum fmt {
	ANY,		/* status only (answers of lighttpd itself) */
	JSON,		/* an OAuth error object */
	HTML		/* an HTML page */
};

struct badcase {
	const char *name;
	const char *method;
	const char *path;	/* with the query */
	const char *h1, *h2;	/* header lines or placeholders, or NULL */
	const char *body;	/* or NULL, or BIG_BODY */
	long status;
	enum fmt fmt;
	const char *error;	/* the OAuth "error" for JSON, or NULL */
};

static const struct badcase cases[] = {
	/* ---- /oauth/token (RFC 6749 section 3.2: POST, form body) */
	{ "token: GET", "GET", "/oauth/token", NULL, NULL, NULL,
	  405, JSON, "invalid_request" },
	{ "token: PUT", "PUT", "/oauth/token", AUTH_BASIC, FORM,
	  "grant_type=client_credentials", 405, JSON, "invalid_request" },
	{ "token: DELETE", "DELETE", "/oauth/token", NULL, NULL, NULL,
	  405, JSON, "invalid_request" },
	{ "token: no Content-Type", "POST", "/oauth/token", AUTH_BASIC,
	  "Content-Type:", "grant_type=client_credentials", 400, JSON,
	  "invalid_request" },
	{ "token: JSON body", "POST", "/oauth/token", AUTH_BASIC,
	  "Content-Type: application/json", "{\"grant_type\":\"client_credentials\"}",
	  400, JSON, "invalid_request" },
	{ "token: text/plain", "POST", "/oauth/token", AUTH_BASIC,
	  "Content-Type: text/plain", "grant_type=client_credentials", 400, JSON,
	  "invalid_request" },
	{ "token: multipart", "POST", "/oauth/token", AUTH_BASIC,
	  "Content-Type: multipart/form-data; boundary=x",
	  "--x\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\n"
	  "client_credentials\r\n--x--\r\n", 400, JSON, "invalid_request" },
	{ "token: duplicate grant_type", "POST", "/oauth/token", AUTH_BASIC, FORM,
	  "grant_type=client_credentials&grant_type=client_credentials",
	  400, JSON, "invalid_request" },
	{ "token: duplicate scope", "POST", "/oauth/token", AUTH_BASIC, FORM,
	  "grant_type=client_credentials&scope=api%3Aread&scope=openid",
	  400, JSON, "invalid_request" },
	{ "token: broken %-encoding", "POST", "/oauth/token", AUTH_BASIC, FORM,
	  "grant_type=client%ZZcredentials", 400, JSON, "invalid_request" },
	{ "token: truncated %", "POST", "/oauth/token", AUTH_BASIC, FORM,
	  "grant_type=client_credentials&scope=api%3", 400, JSON, "invalid_request" },
	{ "token: NUL in a value", "POST", "/oauth/token", AUTH_BASIC, FORM,
	  "grant_type=client_credentials%00&scope=api%3Aread", 400, JSON,
	  "invalid_request" },
	{ "token: NUL in a name", "POST", "/oauth/token", AUTH_BASIC, FORM,
	  "grant_type=client_credentials&sc%00ope=api%3Aread", 400, JSON,
	  "invalid_request" },
	{ "token: invalid UTF-8", "POST", "/oauth/token", AUTH_BASIC, FORM,
	  "grant_type=client_credentials&scope=%FF%FE", 400, JSON, "invalid_request" },
	{ "token: overlong UTF-8 /", "POST", "/oauth/token", AUTH_BASIC, FORM,
	  "grant_type=client_credentials&scope=%C0%AF", 400, JSON, "invalid_request" },
	{ "token: UTF-16 surrogate", "POST", "/oauth/token", AUTH_BASIC, FORM,
	  "grant_type=client_credentials&scope=%ED%A0%80", 400, JSON,
	  "invalid_request" },
	{ "token: parameters in the query", "POST",
	  "/oauth/token?grant_type=client_credentials", AUTH_BASIC, FORM,
	  "grant_type=client_credentials", 400, JSON, "invalid_request" },
	{ "token: body over 64 KiB", "POST", "/oauth/token", AUTH_BASIC, FORM,
	  BIG_BODY, 413, JSON, "invalid_request" },
	{ "token: 20000-byte header", "POST", "/oauth/token", AUTH_BASIC, BIG_HEADER,
	  "grant_type=client_credentials", 431, JSON, "invalid_request" },
	{ "token: 70000-byte header (lighttpd)", "POST", "/oauth/token", AUTH_BASIC,
	  HUGE_HEADER, "grant_type=client_credentials", 431, ANY, NULL },
	{ "token: empty body (Content-Length: 0)", "POST", "/oauth/token", AUTH_BASIC,
	  FORM, "", 400, JSON, "invalid_request" },
	{ "token: PATCH", "PATCH", "/oauth/token", AUTH_BASIC, FORM,
	  "grant_type=client_credentials", 405, JSON, "invalid_request" },
	/* JG_PARAMS_MAX_COUNT (64) pairs at most. */
	{ "token: 70 parameters", "POST", "/oauth/token", AUTH_BASIC, FORM,
	  MANY_PARAMS, 400, JSON, "invalid_request" },
	/* JG_HTTP_MAX_PARAM_VALUE (16 KiB) for QUERY_STRING: 414. */
	{ "token: 20000-byte query", "POST", LONG_QUERY_TOKEN, AUTH_BASIC, FORM,
	  "grant_type=client_credentials", 414, JSON, "invalid_request" },
	{ "token: Basic with bad base64", "POST", "/oauth/token",
	  "Authorization: Basic ###", FORM, "grant_type=client_credentials",
	  401, JSON, "invalid_client" },
	{ "token: Basic with NUL", "POST", "/oauth/token",
	  "Authorization: Basic YXBwJTAwOng=", FORM, "grant_type=client_credentials",
	  401, JSON, "invalid_client" },

	/* ---- /oauth/revoke (RFC 7009) and /oauth/introspect (RFC 7662) */
	{ "revoke: GET", "GET", "/oauth/revoke?token=x", AUTH_BASIC, NULL, NULL,
	  405, JSON, "invalid_request" },
	{ "revoke: no Content-Type", "POST", "/oauth/revoke", AUTH_BASIC,
	  "Content-Type:", "token=abc", 400, JSON, "invalid_request" },
	{ "revoke: duplicate token", "POST", "/oauth/revoke", AUTH_BASIC, FORM,
	  "token=abc&token=def", 400, JSON, "invalid_request" },
	{ "revoke: NUL", "POST", "/oauth/revoke", AUTH_BASIC, FORM,
	  "token=ab%00c", 400, JSON, "invalid_request" },
	{ "revoke: broken %", "POST", "/oauth/revoke", AUTH_BASIC, FORM,
	  "token=%G1", 400, JSON, "invalid_request" },
	{ "revoke: body over 64 KiB", "POST", "/oauth/revoke", AUTH_BASIC, FORM,
	  BIG_BODY, 413, JSON, "invalid_request" },
	{ "introspect: PUT", "PUT", "/oauth/introspect", AUTH_BASIC, FORM,
	  "token=abc", 405, JSON, "invalid_request" },
	{ "introspect: JSON body", "POST", "/oauth/introspect", AUTH_BASIC,
	  "Content-Type: application/json", "{\"token\":\"abc\"}", 400, JSON,
	  "invalid_request" },
	{ "introspect: duplicate token", "POST", "/oauth/introspect", AUTH_BASIC,
	  FORM, "token=abc&token=abc", 400, JSON, "invalid_request" },
	{ "introspect: invalid UTF-8", "POST", "/oauth/introspect", AUTH_BASIC,
	  FORM, "token=%80", 400, JSON, "invalid_request" },

	/* ---- /oauth/authorize and /oauth/logout (HTML) */
	{ "authorize: PUT", "PUT", "/oauth/authorize", NULL, NULL, NULL,
	  405, HTML, NULL },
	{ "authorize: DELETE", "DELETE", "/oauth/authorize?client_id=app", NULL,
	  NULL, NULL, 405, HTML, NULL },
	{ "authorize: duplicate client_id", "GET",
	  "/oauth/authorize?response_type=code&client_id=app&client_id=app"
	  "&redirect_uri=https%3A%2F%2Fapp.example%2Fcb", NULL, NULL, NULL,
	  400, HTML, NULL },
	{ "authorize: duplicate redirect_uri", "GET",
	  "/oauth/authorize?response_type=code&client_id=app"
	  "&redirect_uri=https%3A%2F%2Fapp.example%2Fcb"
	  "&redirect_uri=https%3A%2F%2Fevil.example%2Fcb", NULL, NULL, NULL,
	  400, HTML, NULL },
	{ "authorize: broken %", "GET",
	  "/oauth/authorize?response_type=code&client_id=a%Zpp", NULL, NULL, NULL,
	  400, HTML, NULL },
	/* lighttpd refuses %00 in a URL itself (url-ctrls-reject). */
	{ "authorize: NUL (lighttpd)", "GET",
	  "/oauth/authorize?response_type=code&client_id=app%00", NULL, NULL, NULL,
	  400, ANY, NULL },
	{ "authorize: invalid UTF-8", "GET",
	  "/oauth/authorize?response_type=code&client_id=%C3%28", NULL, NULL, NULL,
	  400, HTML, NULL },
	{ "authorize: login POST without Content-Type", "POST", "/oauth/authorize",
	  "Content-Type:", NULL, "username=alice&password=x", 400, HTML, NULL },
	{ "authorize: login POST as JSON", "POST", "/oauth/authorize",
	  "Content-Type: application/json", NULL,
	  "{\"username\":\"alice\",\"password\":\"x\"}", 400, HTML, NULL },
	{ "authorize: login POST with duplicate username", "POST", "/oauth/authorize",
	  FORM, NULL, "username=alice&username=bob&password=x", 400, HTML, NULL },
	{ "authorize: login POST with NUL", "POST", "/oauth/authorize", FORM, NULL,
	  "username=alice%00&password=x", 400, HTML, NULL },
	{ "authorize: login POST over 64 KiB", "POST", "/oauth/authorize", FORM,
	  NULL, BIG_BODY, 413, HTML, NULL },
	{ "authorize: 20000-byte query", "GET", LONG_QUERY_AUTHORIZE, NULL, NULL,
	  NULL, 414, HTML, NULL },
	{ "authorize: login POST with 70 parameters", "POST", "/oauth/authorize",
	  FORM, NULL, MANY_PARAMS, 400, HTML, NULL },
	{ "authorize: 20000-byte header", "GET", "/oauth/authorize?client_id=app",
	  BIG_HEADER, NULL, NULL, 431, HTML, NULL },
	{ "logout: PUT", "PUT", "/oauth/logout", NULL, NULL, NULL, 405, HTML, NULL },
	/* A broken %-escape in a query never reaches the programs: lighttpd
	 * normalises the URL and sends "%G0" as "%25G0" (a literal "%"), so
	 * strict query decoding is covered by the unit tests and the fuzzer;
	 * through the server it is tested on form bodies, which lighttpd
	 * passes as they are. */
	{ "logout: POST with broken %", "POST", "/oauth/logout", FORM, NULL,
	  "client_id=%G0", 400, HTML, NULL },
	{ "logout: POST with a lone % at the end", "POST", "/oauth/logout", FORM,
	  NULL, "client_id=app%", 400, HTML, NULL },
	{ "logout: POST with invalid UTF-8", "POST", "/oauth/logout", FORM, NULL,
	  "state=%FF", 400, HTML, NULL },
	{ "logout: duplicate client_id", "GET",
	  "/oauth/logout?client_id=app&client_id=app", NULL, NULL, NULL,
	  400, HTML, NULL },
	{ "logout: POST without Content-Type", "POST", "/oauth/logout",
	  "Content-Type:", NULL, "client_id=app", 400, HTML, NULL },

	/* ---- /oauth/userinfo and /api/me (RFC 6750) */
	{ "userinfo: PUT", "PUT", "/oauth/userinfo", AUTH_BEARER, NULL, NULL,
	  405, JSON, "invalid_request" },
	{ "userinfo: DELETE", "DELETE", "/oauth/userinfo", AUTH_BEARER, NULL, NULL,
	  405, JSON, "invalid_request" },
	{ "userinfo: Bearer with NUL", "GET", "/oauth/userinfo",
	  "Authorization: Bearer ab%00cd", NULL, NULL, 400, JSON, "invalid_request" },
	/* RFC 6750 section 2.1: b64token is ASCII; a raw byte 0xFF (not
	 * UTF-8) in the header. */
	{ "userinfo: Bearer with a byte 0xFF", "GET", "/oauth/userinfo",
	  "Authorization: Bearer ab\xff" "cd", NULL, NULL, 400, JSON, "invalid_request" },
	{ "userinfo: Bearer with space inside", "GET", "/oauth/userinfo",
	  "Authorization: Bearer ab cd", NULL, NULL, 400, JSON, "invalid_request" },
	{ "userinfo: body over 64 KiB", "POST", "/oauth/userinfo", AUTH_BEARER,
	  FORM, BIG_BODY, 413, JSON, "invalid_request" },
	{ "userinfo: 20000-byte header", "GET", "/oauth/userinfo", AUTH_BEARER,
	  BIG_HEADER, NULL, 431, JSON, "invalid_request" },
	{ "api/me: POST", "POST", "/api/me", AUTH_BEARER, FORM, "a=1", 405, JSON,
	  "invalid_request" },
	{ "api/me: DELETE", "DELETE", "/api/me", AUTH_BEARER, NULL, NULL, 405, JSON,
	  "invalid_request" },
	{ "api/me: body over 64 KiB", "POST", "/api/me", AUTH_BEARER, FORM, BIG_BODY,
	  413, JSON, "invalid_request" },
	{ "api/me: 20000-byte header", "GET", "/api/me", AUTH_BEARER, BIG_HEADER,
	  NULL, 431, JSON, "invalid_request" },
	/* lighttpd keeps %2F encoded in the path (server.http-parseopts
	 * url-path-2f-decode is off), so "/api/me%2Fx" is a resource the gate
	 * does not have. */
	{ "api/me: encoded slash in the path", "GET", "/api/me%2Fx", AUTH_BEARER,
	  NULL, NULL, 404, JSON, "not_found" },
	{ "api/me: Bearer of two tokens", "GET", "/api/me",
	  "Authorization: Bearer a.b.c, Bearer d.e.f", NULL, NULL, 400, JSON,
	  "invalid_request" },
};

static const char *
placeholder(const char *h, char **owned)
{
	if (h == AUTH_BASIC)
		return t.basic;
	if (h == AUTH_BEARER)
		return t.bearer;
	if (h == BIG_HEADER || h == HUGE_HEADER) {
		size_t n = h == BIG_HEADER ? 20000 : 70000;
		char *s = jg_xmalloc(n + 16);

		memcpy(s, "X-Padding: ", 11);
		memset(s + 11, 'a', n);
		s[11 + n] = '\0';
		*owned = s;
		return s;
	}
	return h;
}

static void
test_table(void)
{
	char *big = jg_xmalloc(70001), *many, *longq;
	size_t i;

	memset(big, 'a', 70000);
	memcpy(big, "token=", 6);
	big[70000] = '\0';
	many = jg_xstrdup("grant_type=client_credentials");
	for (i = 1; i < 70; i++) {
		char *more = jg_xasprintf("%s&p%zu=1", many, i);

		free(many);
		many = more;
	}
	longq = jg_xmalloc(20001);
	memset(longq, 'a', 20000);
	memcpy(longq, "client_id=app&x=", 16);
	longq[20000] = '\0';
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct badcase *c = &cases[i];
		char *own1 = NULL, *own2 = NULL;
		const char *headers[3] = { NULL, NULL, NULL };
		const char *body = c->body == BIG_BODY ? big :
				   c->body == MANY_PARAMS ? many : c->body;
		struct jg_it_response r;
		struct json_object *obj = NULL;
		const char *err = NULL, *ctype;
		char *url = c->path == LONG_QUERY_TOKEN ?
			    jg_xasprintf("%s/oauth/token?%s", t.lt->url, longq) :
			    c->path == LONG_QUERY_AUTHORIZE ?
			    jg_xasprintf("%s/oauth/authorize?%s", t.lt->url, longq) :
			    jg_xasprintf("%s%s", t.lt->url, c->path);
		size_t n = 0;
		bool ok;

		if (c->h1 != NULL)
			headers[n++] = placeholder(c->h1, &own1);
		if (c->h2 != NULL)
			headers[n++] = placeholder(c->h2, &own2);
		memset(&r, 0, sizeof(r));
		ok = jg_it_request(t.client, c->method, url, headers, body,
				   body ? strlen(body) : 0, &r);
		CU_ASSERT(ok);
		ctype = jg_it_header(&r, "Content-Type");
		if (c->fmt == JSON && r.body_len > 0 &&
		    jg_json_parse_object(r.body, r.body_len, &obj, NULL) == JG_OK)
			(void)jg_json_get_string(obj, "error", &err);
		CU_ASSERT_EQUAL(r.status, c->status);
		CU_ASSERT(r.status >= 400 && r.status < 500);
		if (c->fmt == JSON) {
			ASSERT_STR(ctype, "application/json");
			ASSERT_STR(err, c->error);
		} else if (c->fmt == HTML) {
			ASSERT_STR(ctype, "text/html; charset=utf-8");
			ASSERT_STR(jg_it_header(&r, "X-Frame-Options"), "DENY");
		}
		if (r.status == 405)
			CU_ASSERT_PTR_NOT_NULL(jg_it_header(&r, "Allow"));
		if (r.status != c->status ||
		    (c->fmt == JSON && (err == NULL || strcmp(err, c->error) != 0)) ||
		    (c->fmt == HTML && (ctype == NULL ||
					strcmp(ctype, "text/html; charset=utf-8") != 0)))
			fprintf(stderr, "%s: expected %ld %s, got %ld %s: %.300s\n",
				c->name, c->status, c->error ? c->error : "",
				r.status, ctype ? ctype : "-", r.body ? r.body : "");
		json_object_put(obj);
		jg_it_response_clear(&r);
		free(url);
		free(own1);
		free(own2);
	}
	free(longq);
	free(many);
	free(big);
}

/* ------------------------------------------------------------ raw framing */

struct rawcase {
	const char *name;
	const char *request;	/* %s: nothing; sent as is */
	int status;
};

/* Requests libcurl will not write.  lighttpd refuses most of them itself
 * (RFC 9112 section 6.3); what matters is a 4xx and an intact database. */
static const struct rawcase raw_cases[] = {
	{ "Content-Length not a number",
	  "POST /oauth/token HTTP/1.1\r\nHost: x\r\n"
	  "Content-Type: application/x-www-form-urlencoded\r\n"
	  "Content-Length: abc\r\nConnection: close\r\n\r\ngrant_type=x", 400 },
	{ "negative Content-Length",
	  "POST /oauth/token HTTP/1.1\r\nHost: x\r\n"
	  "Content-Type: application/x-www-form-urlencoded\r\n"
	  "Content-Length: -5\r\nConnection: close\r\n\r\ngrant_type=x", 400 },
	{ "two different Content-Lengths",
	  "POST /oauth/token HTTP/1.1\r\nHost: x\r\n"
	  "Content-Type: application/x-www-form-urlencoded\r\n"
	  "Content-Length: 5\r\nContent-Length: 12\r\nConnection: close\r\n\r\n"
	  "grant_type=x", 400 },
	{ "Content-Length and chunked",
	  "POST /oauth/revoke HTTP/1.1\r\nHost: x\r\n"
	  "Content-Type: application/x-www-form-urlencoded\r\n"
	  "Content-Length: 9\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n"
	  "\r\n9\r\ntoken=abc\r\n0\r\n\r\n", 400 },
	{ "POST without Content-Length (HTTP/1.0): 411 Length Required",
	  "POST /oauth/token HTTP/1.0\r\nHost: x\r\n"
	  "Content-Type: application/x-www-form-urlencoded\r\n\r\n", 411 },
	/* The client half-closes before the body is complete: lighttpd
	 * drops the connection without an answer (status 0) and the request
	 * never reaches a program. */
	{ "body shorter than Content-Length",
	  "POST /oauth/introspect HTTP/1.1\r\nHost: x\r\n"
	  "Content-Type: application/x-www-form-urlencoded\r\n"
	  "Content-Length: 100\r\nConnection: close\r\n\r\ntoken=abc", 0 },
	{ "NUL byte in a header",
	  "GET /api/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\0b\r\n"
	  "Connection: close\r\n\r\n", 400 },
	{ "raw NUL in the query",
	  "GET /oauth/authorize?client_id=a\0pp HTTP/1.1\r\nHost: x\r\n"
	  "Connection: close\r\n\r\n", 400 },
	{ "invalid UTF-8 in the path",
	  "GET /oauth/authorize\xff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	  400 },
};

static void
test_raw(void)
{
	size_t i;

	for (i = 0; i < sizeof(raw_cases) / sizeof(raw_cases[0]); i++) {
		const char *req = raw_cases[i].request;
		/* The requests hold NUL bytes: their length is up to the
		 * blank line plus what follows it in the literal. */
		size_t len = strlen(req);
		int status = 0;
		char *answer;

		if (strstr(raw_cases[i].name, "NUL") != NULL)
			len += 1 + strlen(req + len + 1);
		answer = jg_it_raw(t.lt->port, req, len, &status);
		CU_ASSERT_PTR_NOT_NULL(answer);
		CU_ASSERT_EQUAL(status, raw_cases[i].status);
		CU_ASSERT(status == 0 || (status >= 400 && status < 500));
		if (status != raw_cases[i].status)
			fprintf(stderr, "raw %s: expected %d, got %d: %.300s\n",
				raw_cases[i].name, raw_cases[i].status, status,
				answer ? answer : "");
		free(answer);
	}
}

/* ------------------------------------------------------------ the end */

static void
test_database_unchanged(void)
{
	char *after = dump_db();

	CU_ASSERT_PTR_NOT_NULL_FATAL(after);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t.dump_before);
	CU_ASSERT_STRING_EQUAL(after, t.dump_before);
	/* No answer of the whole run was a 500 (lighttpd logs the status of
	 * every request only on error; the programs log "server_error"). */
	CU_ASSERT_FALSE(jg_it_log_contains(t.lt, "server_error"));
	free(after);
}

static void
test_stop(void)
{
	CU_ASSERT_TRUE(jg_it_server_stop(t.lt));
	jg_it_client_free(t.client);
	jg_config_free(t.config);
	free(t.db);
	free(t.basic);
	free(t.bearer);
	free(t.dump_before);
}

int
main(void)
{
	static const struct jg_test tests[] = {
		{ "start lighttpd with the three programs", test_start },
		{ "a token, and the database dump", test_token_and_dump },
		{ "bad requests get their 4xx", test_table },
		{ "broken HTTP framing gets a 4xx", test_raw },
		{ "the database is unchanged", test_database_unchanged },
		{ "stop lighttpd", test_stop },
		{ NULL, NULL }
	};

	return jg_test_main("badinput-integration", tests);
}
