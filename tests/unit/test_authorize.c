/* test_authorize.c: unit tests of common/authorize: the rule table of
 * authorization-request validation (RFC 6749 section 4.1.1 and 4.1.2.1,
 * RFC 7636 section 4, RFC 9207, OpenID Connect Core 1.0 section 3.1.2),
 * redirect building, the template engine, and the whole login / consent /
 * logout flow driven through jg_authorize_handle with a real store. */
#include "config.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sqlite3.h>

#include "testutil.h"
#include "authorize.h"
#include "claims.h"
#include "conf.h"
#include "http.h"
#include "keyring.h"
#include "password.h"
#include "store.h"
#include "util.h"

#define ISSUER "http://127.0.0.1:9999"
#define T0 1700000000
#define PASSWORD "correct horse battery staple"
/* RFC 7636 appendix B: the S256 code_challenge of its example verifier. */
#define CHALLENGE "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

#define ASSERT_STR(actual, expected) \
	CU_ASSERT_STRING_EQUAL((actual) ? (actual) : "(null)", (expected))

static char tmpdir[] = "/tmp/jg-test-authorize-XXXXXX";

static struct {
	struct jg_config *config;
	struct jg_store *store;
	struct jg_keyring *ring;
	char *db;
	char *alice_sub;
} g;

/* ---------------------------------------------------------------- fixture */

static bool
add_client(const char *id, bool confidential, const char *const *uris, size_t n,
	   const char *const *logout_uris, size_t nlogout, const char *grants,
	   const char *scopes, bool first_party, const char *name)
{
	struct jg_client c;

	memset(&c, 0, sizeof(c));
	c.client_id = (char *)(uintptr_t)id;
	c.secret_hash = confidential ? (char *)(uintptr_t)
	    "sha256:0000000000000000000000000000000000000000000000000000000000000000" : NULL;
	c.name = (char *)(uintptr_t)name;
	c.redirect_uris = (char **)(uintptr_t)uris;
	c.n_redirect_uris = n;
	c.post_logout_uris = (char **)(uintptr_t)logout_uris;
	c.n_post_logout_uris = nlogout;
	c.grant_types = (char *)(uintptr_t)grants;
	c.scopes = (char *)(uintptr_t)scopes;
	c.first_party = first_party;
	return jg_store_client_add(g.store, &c, T0) == JG_OK;
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
	u.name = (char *)(uintptr_t)"Alice <A&B>";
	u.disabled = disabled;
	ok = jg_store_user_add(g.store, &u, T0) == JG_OK;
	free(hash);
	return ok;
}

static int
setup(void)
{
	static const char *const web_uris[] = {
		"https://app.example/cb", "https://app.example/cb2?x=1",
	};
	static const char *const web_logout[] = { "https://app.example/bye" };
	static const char *const spa_uris[] = { "https://spa.example/cb" };
	static const char *const m2m_uris[] = { "https://m2m.example/cb" };
	static const char *const first_uris[] = { "http://127.0.0.1:8080/cb" };
	char *conf, *text, *msg = NULL;
	const char *kid = NULL;
	int fd = -1;

	if (mkdtemp(tmpdir) == NULL)
		return 1;
	conf = jg_xasprintf("%s/jwtgate.conf", tmpdir);
	g.db = jg_xasprintf("%s/db.sqlite", tmpdir);
	text = jg_xasprintf("issuer = " ISSUER "\ndatabase = %s\nkey_dir = %s/keys\n"
			    "htdocs = %s/htdocs\n", g.db, tmpdir, jg_test_srcdir());
	if (jg_write_file_atomic(conf, text, strlen(text), 0600) != JG_OK)
		return 1;
	free(text);
	if (jg_config_load(conf, &g.config, &msg) != JG_OK) {
		fprintf(stderr, "config: %s\n", msg);
		return 1;
	}
	free(conf);
	if (jg_store_open(g.db, 2000, &g.store, &msg) != JG_OK)
		return 1;
	text = jg_xasprintf("%s/keys", tmpdir);
	if (mkdir(text, 0700) != 0)
		return 1;
	g.ring = jg_keyring_new(text);
	if (jg_keyring_lock(text, 1000, &fd) != JG_OK ||
	    jg_keyring_rotate(g.ring, JG_KEY_ID, JG_ALG_ES256, JG_ALG_ES256, T0,
			      &kid, &msg) != JG_OK)
		return 1;
	jg_keyring_unlock(fd);
	free(text);

	g.alice_sub = jg_xstrdup("sub-alice-0001");
	if (!add_client("web", true, web_uris, 2, web_logout, 1,
			"authorization_code refresh_token",
			"openid profile email offline_access api:read", false,
			"Web <App> & Co") ||
	    !add_client("spa", false, spa_uris, 1, NULL, 0, "authorization_code",
			"openid profile", false, NULL) ||
	    !add_client("m2m", true, m2m_uris, 1, NULL, 0, "client_credentials",
			"api:read", false, NULL) ||
	    !add_client("first", false, first_uris, 1, NULL, 0, "authorization_code",
			"openid profile", true, "First") ||
	    !add_user("alice", g.alice_sub, false) ||
	    !add_user("mallory", "sub-mallory-0002", true))
		return 1;
	return 0;
}

static void
remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d && (e = readdir(d)) != NULL) {
		char *p;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		p = jg_xasprintf("%s/%s", dir, e->d_name);
		if (unlink(p) != 0)
			remove_tree(p);
		free(p);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

/* Counts rows with one SQL query through a separate connection. */
static long
count(const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	long n = -1;

	CU_ASSERT_FATAL(sqlite3_open_v2(g.db, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
	CU_ASSERT_FATAL(sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

/* ---------------------------------------------------------------- the rule table */

static const struct vrow {
	const char *rule;	/* the rule and its source */
	const char *query;
	enum jg_authz_outcome outcome;
	const char *error;	/* expected error code, NULL when valid */
	const char *scope;	/* expected normalised scope, or NULL */
} vrows[] = {
	/* RFC 6749 section 4.1.2.1: client and redirect URI faults are shown
	 * to the user, never redirected. */
	{ "no client_id", "response_type=code", JG_AUTHZ_PAGE, "invalid_request", NULL },
	{ "empty client_id", "client_id=&response_type=code", JG_AUTHZ_PAGE,
	  "invalid_request", NULL },
	{ "unknown client", "client_id=nope&redirect_uri=https%3A%2F%2Fapp.example%2Fcb"
	  "&response_type=code", JG_AUTHZ_PAGE, "invalid_client", NULL },
	{ "redirect_uri missing, two registered", "client_id=web&response_type=code",
	  JG_AUTHZ_PAGE, "invalid_request", NULL },
	{ "redirect_uri not registered",
	  "client_id=web&redirect_uri=https%3A%2F%2Fevil.example%2Fcb&response_type=code",
	  JG_AUTHZ_PAGE, "invalid_request", NULL },
	{ "redirect_uri exact match: trailing slash",
	  "client_id=web&redirect_uri=https%3A%2F%2Fapp.example%2Fcb%2F&response_type=code",
	  JG_AUTHZ_PAGE, "invalid_request", NULL },
	{ "redirect_uri exact match: scheme case",
	  "client_id=web&redirect_uri=HTTPS%3A%2F%2Fapp.example%2Fcb&response_type=code",
	  JG_AUTHZ_PAGE, "invalid_request", NULL },
	{ "redirect_uri exact match: extra query",
	  "client_id=web&redirect_uri=https%3A%2F%2Fapp.example%2Fcb%3Fa%3Db&response_type=code",
	  JG_AUTHZ_PAGE, "invalid_request", NULL },
	{ "redirect_uri malformed: fragment (RFC 6749 section 3.1.2)",
	  "client_id=web&redirect_uri=https%3A%2F%2Fapp.example%2Fcb%23f&response_type=code",
	  JG_AUTHZ_PAGE, "invalid_request", NULL },
	{ "redirect_uri malformed: relative",
	  "client_id=web&redirect_uri=%2Fcb&response_type=code",
	  JG_AUTHZ_PAGE, "invalid_request", NULL },
	{ "redirect_uri malformed: space",
	  "client_id=web&redirect_uri=https%3A%2F%2Fapp.example%2Fc+b&response_type=code",
	  JG_AUTHZ_PAGE, "invalid_request", NULL },
	{ "redirect_uri empty", "client_id=web&redirect_uri=&response_type=code",
	  JG_AUTHZ_PAGE, "invalid_request", NULL },
	/* Everything else is redirected. */
	{ "valid, confidential client, registered URI with a query",
	  "client_id=web&redirect_uri=https%3A%2F%2Fapp.example%2Fcb2%3Fx%3D1&response_type=code"
	  "&scope=openid&state=s1", JG_AUTHZ_VALID, NULL, "openid" },
	{ "redirect_uri omitted, one registered (RFC 6749 section 3.1.2.3)",
	  "client_id=spa&response_type=code&code_challenge=" CHALLENGE
	  "&code_challenge_method=S256", JG_AUTHZ_VALID, NULL, "" },
	{ "request objects (OIDC Core 6.1)", "client_id=spa&response_type=code&request=e30",
	  JG_AUTHZ_REDIRECT, "request_not_supported", NULL },
	{ "request_uri (OIDC Core 6.2)",
	  "client_id=spa&response_type=code&request_uri=https%3A%2F%2Fx",
	  JG_AUTHZ_REDIRECT, "request_uri_not_supported", NULL },
	{ "response_type missing", "client_id=spa&code_challenge=" CHALLENGE
	  "&code_challenge_method=S256", JG_AUTHZ_REDIRECT, "invalid_request", NULL },
	{ "response_type=token (implicit not offered)", "client_id=spa&response_type=token",
	  JG_AUTHZ_REDIRECT, "unsupported_response_type", NULL },
	{ "response_type=code id_token", "client_id=spa&response_type=code+id_token",
	  JG_AUTHZ_REDIRECT, "unsupported_response_type", NULL },
	{ "response_type empty", "client_id=spa&response_type=",
	  JG_AUTHZ_REDIRECT, "unsupported_response_type", NULL },
	{ "client without the code grant", "client_id=m2m&response_type=code",
	  JG_AUTHZ_REDIRECT, "unauthorized_client", NULL },
	{ "scope the client may not ask", "client_id=web&redirect_uri=https%3A%2F%2Fapp.example%2Fcb"
	  "&response_type=code&scope=openid+admin", JG_AUTHZ_REDIRECT, "invalid_scope", NULL },
	{ "scope with a quote (RFC 6749 section 3.3)",
	  "client_id=web&redirect_uri=https%3A%2F%2Fapp.example%2Fcb"
	  "&response_type=code&scope=openid+%22x", JG_AUTHZ_REDIRECT, "invalid_scope", NULL },
	{ "scope normalised: spaces and duplicates",
	  "client_id=web&redirect_uri=https%3A%2F%2Fapp.example%2Fcb"
	  "&response_type=code&scope=+openid++api%3Aread+openid+", JG_AUTHZ_VALID, NULL,
	  "openid api:read" },
	{ "public client without PKCE (RFC 9700 section 2.1.1)",
	  "client_id=spa&response_type=code", JG_AUTHZ_REDIRECT, "invalid_request", NULL },
	{ "confidential client without PKCE",
	  "client_id=web&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&response_type=code",
	  JG_AUTHZ_VALID, NULL, "" },
	{ "code_challenge of 42 characters (RFC 7636 section 4.2)",
	  "client_id=spa&response_type=code&code_challenge_method=S256"
	  "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c",
	  JG_AUTHZ_REDIRECT, "invalid_request", NULL },
	/* Only S256 is offered: a challenge is BASE64URL(SHA256(verifier)),
	 * exactly 43 characters (RFC 7636 section 4.2), as the token endpoint
	 * checks it; a longer one could never be redeemed. */
	{ "code_challenge of 44 characters (RFC 7636 section 4.2)",
	  "client_id=spa&response_type=code&code_challenge_method=S256"
	  "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cMA",
	  JG_AUTHZ_REDIRECT, "invalid_request", NULL },
	{ "code_challenge of 43 characters with '~' (unreserved, not base64url)",
	  "client_id=spa&response_type=code&code_challenge_method=S256"
	  "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw~cM",
	  JG_AUTHZ_REDIRECT, "invalid_request", NULL },
	{ "code_challenge with non-zero unused bits (RFC 4648 section 3.5)",
	  "client_id=spa&response_type=code&code_challenge_method=S256"
	  "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN",
	  JG_AUTHZ_REDIRECT, "invalid_request", NULL },
	{ "code_challenge of 128 characters (a plain verifier's length)",
	  "client_id=spa&response_type=code&code_challenge_method=S256&code_challenge="
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	  JG_AUTHZ_REDIRECT, "invalid_request", NULL },
	{ "code_challenge of 129 characters",
	  "client_id=spa&response_type=code&code_challenge_method=S256&code_challenge="
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	  JG_AUTHZ_REDIRECT, "invalid_request", NULL },
	{ "code_challenge with '+' (not unreserved)",
	  "client_id=spa&response_type=code&code_challenge_method=S256"
	  "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw%2BcM",
	  JG_AUTHZ_REDIRECT, "invalid_request", NULL },
	{ "code_challenge_method=plain refused",
	  "client_id=spa&response_type=code&code_challenge_method=plain"
	  "&code_challenge=" CHALLENGE, JG_AUTHZ_REDIRECT, "invalid_request", NULL },
	{ "code_challenge without method (the default is plain)",
	  "client_id=spa&response_type=code&code_challenge=" CHALLENGE,
	  JG_AUTHZ_REDIRECT, "invalid_request", NULL },
	{ "method without code_challenge",
	  "client_id=web&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&response_type=code"
	  "&code_challenge_method=S256", JG_AUTHZ_REDIRECT, "invalid_request", NULL },
	{ "prompt=none", "client_id=web&redirect_uri=https%3A%2F%2Fapp.example%2Fcb"
	  "&response_type=code&prompt=none", JG_AUTHZ_VALID, NULL, NULL },
	{ "prompt=login consent", "client_id=web&redirect_uri=https%3A%2F%2Fapp.example%2Fcb"
	  "&response_type=code&prompt=login+consent", JG_AUTHZ_VALID, NULL, NULL },
	{ "prompt=none login (OIDC Core 3.1.2.1)",
	  "client_id=web&redirect_uri=https%3A%2F%2Fapp.example%2Fcb"
	  "&response_type=code&prompt=none+login", JG_AUTHZ_REDIRECT, "invalid_request", NULL },
	{ "prompt unknown", "client_id=web&redirect_uri=https%3A%2F%2Fapp.example%2Fcb"
	  "&response_type=code&prompt=bogus", JG_AUTHZ_REDIRECT, "invalid_request", NULL },
	{ "max_age=0", "client_id=web&redirect_uri=https%3A%2F%2Fapp.example%2Fcb"
	  "&response_type=code&max_age=0", JG_AUTHZ_VALID, NULL, NULL },
	{ "max_age negative", "client_id=web&redirect_uri=https%3A%2F%2Fapp.example%2Fcb"
	  "&response_type=code&max_age=-1", JG_AUTHZ_REDIRECT, "invalid_request", NULL },
	{ "max_age not a number", "client_id=web&redirect_uri=https%3A%2F%2Fapp.example%2Fcb"
	  "&response_type=code&max_age=1h", JG_AUTHZ_REDIRECT, "invalid_request", NULL },
	{ "max_age of 11 digits", "client_id=web&redirect_uri=https%3A%2F%2Fapp.example%2Fcb"
	  "&response_type=code&max_age=12345678901", JG_AUTHZ_REDIRECT, "invalid_request", NULL },
	{ "display, ui_locales, claims_locales, acr_values accepted",
	  "client_id=web&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&response_type=code"
	  "&display=popup&ui_locales=fr-CA+en&claims_locales=de&acr_values=urn%3Ax",
	  JG_AUTHZ_VALID, NULL, NULL },
	{ "unknown parameters ignored",
	  "client_id=web&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&response_type=code"
	  "&frobnicate=1&response_mode=query", JG_AUTHZ_VALID, NULL, NULL },
};

static void
test_validate_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(vrows) / sizeof(vrows[0]); i++) {
		const struct vrow *row = &vrows[i];
		struct jg_params p;
		struct jg_authz_request r;
		bool ok;

		jg_params_init(&p);
		jg_authz_request_init(&r);
		CU_ASSERT_EQUAL_FATAL(jg_params_parse(row->query, strlen(row->query),
						      &p, NULL), JG_OK);
		CU_ASSERT_EQUAL(jg_authorize_validate(g.store, &p, &r), JG_OK);
		ok = r.outcome == row->outcome &&
		    (row->error ? r.error && strcmp(r.error, row->error) == 0 :
		     r.error == NULL) &&
		    (row->scope == NULL || (r.scope && strcmp(r.scope, row->scope) == 0));
		if (!ok)
			fprintf(stderr, "row %zu (%s): outcome %d error %s scope %s\n", i,
				row->rule, (int)r.outcome, r.error ? r.error : "-",
				r.scope ? r.scope : "-");
		CU_ASSERT(ok);
		if (row->outcome != JG_AUTHZ_VALID)
			CU_ASSERT_PTR_NOT_NULL(r.error_description);
		jg_authz_request_clear(&r);
		jg_params_clear(&p);
	}
}

/* The values a valid request hands on. */
static void
test_validate_fields(void)
{
	static const char q[] = "client_id=spa&response_type=code&state=xyz%20%26"
	    "&nonce=n-0S6_WzA2Mj&code_challenge=" CHALLENGE
	    "&code_challenge_method=S256&prompt=login+select_account&max_age=300"
	    "&login_hint=alice&scope=profile+openid";
	struct jg_params p;
	struct jg_authz_request r;

	jg_params_init(&p);
	jg_authz_request_init(&r);
	CU_ASSERT_EQUAL_FATAL(jg_params_parse(q, strlen(q), &p, NULL), JG_OK);
	CU_ASSERT_EQUAL(jg_authorize_validate(g.store, &p, &r), JG_OK);
	CU_ASSERT_EQUAL(r.outcome, JG_AUTHZ_VALID);
	ASSERT_STR(r.redirect_uri, "https://spa.example/cb");
	CU_ASSERT_FALSE(r.redirect_uri_sent);
	ASSERT_STR(r.state, "xyz &");
	ASSERT_STR(r.nonce, "n-0S6_WzA2Mj");
	ASSERT_STR(r.code_challenge, CHALLENGE);
	ASSERT_STR(r.code_challenge_method, "S256");
	CU_ASSERT_EQUAL(r.prompt, JG_AUTHZ_PROMPT_LOGIN | JG_AUTHZ_PROMPT_SELECT_ACCOUNT);
	CU_ASSERT_EQUAL(r.max_age, 300);
	ASSERT_STR(r.login_hint, "alice");
	ASSERT_STR(r.scope, "profile openid");
	CU_ASSERT_PTR_NULL(r.id_token_hint);
	jg_authz_request_clear(&r);
	jg_params_clear(&p);
}

/* ---------------------------------------------------------------- redirects */

static void
test_locations(void)
{
	struct jg_authz_request r;
	char *u;

	jg_authz_request_init(&r);
	r.redirect_uri = "https://app.example/cb";
	r.state = "a b&c";
	/* RFC 6749 section 4.1.2.1 plus RFC 9207 section 2. */
	u = jg_authorize_error_location(&r, ISSUER, "access_denied", "The user said no.");
	ASSERT_STR(u, "https://app.example/cb?error=access_denied"
		   "&error_description=The%20user%20said%20no."
		   "&state=a%20b%26c&iss=http%3A%2F%2F127.0.0.1%3A9999");
	free(u);
	/* RFC 6749 section 4.1.2: code and state; state left out when absent. */
	r.redirect_uri = "https://app.example/cb2?x=1";
	r.state = NULL;
	u = jg_authorize_code_location(&r, ISSUER, "SplxlOBeZQQYbYS6WxSbIA");
	ASSERT_STR(u, "https://app.example/cb2?x=1&code=SplxlOBeZQQYbYS6WxSbIA"
		   "&iss=http%3A%2F%2F127.0.0.1%3A9999");
	free(u);
	r.state = "xyz";
	u = jg_authorize_error_location(&r, ISSUER, "login_required", NULL);
	ASSERT_STR(u, "https://app.example/cb2?x=1&error=login_required&state=xyz"
		   "&iss=http%3A%2F%2F127.0.0.1%3A9999");
	free(u);
}

static void
test_origin(void)
{
	static const struct {
		const char *uri, *origin;
	} rows[] = {
		{ "https://app.example/cb?x=1", "https://app.example" },
		{ "https://app.example:8443/a/b", "https://app.example:8443" },
		{ "http://127.0.0.1:8080", "http://127.0.0.1:8080" },
		{ "com.example.app:/oauth", "com.example.app:" },
		{ "https://a.example;x/cb", NULL },
		{ "https:///cb", NULL },
		{ "/relative", NULL },
		{ "1x://a", NULL },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *o = jg_authorize_origin(rows[i].uri);

		if (rows[i].origin) {
			ASSERT_STR(o, rows[i].origin);
		} else {
			CU_ASSERT_PTR_NULL(o);
		}
		free(o);
	}
}

static void
test_render(void)
{
	static const struct jg_kv vars[] = {
		{ "name", "<b>\"A&B's\"</b>" },
		{ "raw", "<li>x</li>" },
		{ "empty", "" },
	};
	static const struct {
		const char *tmpl, *out;
	} rows[] = {
		{ "Hi {{name}}!", "Hi &lt;b&gt;&quot;A&amp;B&#39;s&quot;&lt;/b&gt;!" },
		{ "{{ name }}", "&lt;b&gt;&quot;A&amp;B&#39;s&quot;&lt;/b&gt;" },
		{ "<ul>{{{raw}}}</ul>", "<ul><li>x</li></ul>" },
		{ "[{{missing}}][{{empty}}]", "[][]" },
		{ "{{ not a var }} {{", "{{ not a var }} {{" },
		{ "{{name", "{{name" },
		{ "{}{{{raw}}", "{}{{{raw}}" },
		{ "", "" },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *o = jg_authorize_render(rows[i].tmpl, vars, 3);

		ASSERT_STR(o, rows[i].out);
		free(o);
	}
}

/* ---------------------------------------------------------------- the flow */

/* A browser: a cookie jar of a few cookies. */
struct jar {
	char *names[4];
	char *values[4];
};

static void
jar_clear(struct jar *j)
{
	size_t i;

	for (i = 0; i < 4; i++) {
		free(j->names[i]);
		free(j->values[i]);
		j->names[i] = j->values[i] = NULL;
	}
}

static void
jar_update(struct jar *j, const struct jg_response *resp)
{
	size_t h, i;

	for (h = 0; h < resp->nheaders; h++) {
		const char *v = resp->headers[h].value, *eq, *semi;
		char *name;
		bool del;

		if (strcasecmp(resp->headers[h].name, "Set-Cookie") != 0)
			continue;
		eq = strchr(v, '=');
		semi = strchr(v, ';');
		name = jg_xstrndup(v, (size_t)(eq - v));
		del = strstr(v, "Max-Age=0;") != NULL;
		for (i = 0; i < 4; i++)
			if (j->names[i] && strcmp(j->names[i], name) == 0) {
				free(j->names[i]);
				free(j->values[i]);
				j->names[i] = j->values[i] = NULL;
			}
		for (i = 0; !del && i < 4; i++)
			if (j->names[i] == NULL) {
				j->names[i] = jg_xstrdup(name);
				j->values[i] = jg_xstrndup(eq + 1, (size_t)(semi - eq - 1));
				break;
			}
		free(name);
	}
}

static char *
jar_header(const struct jar *j)
{
	char *h = NULL;
	size_t i;

	for (i = 0; i < 4; i++) {
		char *n;

		if (j->names[i] == NULL)
			continue;
		n = h ? jg_xasprintf("%s; %s=%s", h, j->names[i], j->values[i]) :
		    jg_xasprintf("%s=%s", j->names[i], j->values[i]);
		free(h);
		h = n;
	}
	return h;
}

struct body {
	const char *p;
	size_t len, off;
};

static long
body_read(void *ctx, char *buf, size_t len)
{
	struct body *b = ctx;
	size_t n = b->len - b->off < len ? b->len - b->off : len;

	memcpy(buf, b->p + b->off, n);
	b->off += n;
	return (long)n;
}

/* Sends one request through jg_authorize_handle as the browser j from
 * 192.0.2.7 at time now.  target is the path with the query. */
static void
send(struct jar *j, const char *method, const char *target, const char *form,
     int64_t now, struct jg_response *resp)
{
	struct jg_authorize_ctx ctx = { g.config, g.store, g.ring };
	struct jg_request req;
	struct body b = { form, form ? strlen(form) : 0, 0 };
	struct jg_body_source src = { body_read, &b, true };
	const char *q = strchr(target, '?');
	char *cookie = jar_header(j);
	char *env[10];
	size_t n = 0;

	env[n++] = jg_xasprintf("REQUEST_METHOD=%s", method);
	env[n++] = jg_xasprintf("REQUEST_URI=%s", target);
	env[n++] = jg_xasprintf("QUERY_STRING=%s", q ? q + 1 : "");
	env[n++] = jg_xstrdup("REMOTE_ADDR=192.0.2.7");
	if (cookie)
		env[n++] = jg_xasprintf("HTTP_COOKIE=%s", cookie);
	if (form) {
		env[n++] = jg_xstrdup("CONTENT_TYPE=application/x-www-form-urlencoded");
		env[n++] = jg_xasprintf("CONTENT_LENGTH=%zu", strlen(form));
	}
	env[n] = NULL;
	jg_request_init(&req);
	jg_response_init(resp);
	CU_ASSERT_EQUAL_FATAL(jg_request_parse(&req, (const char *const *)env,
					       JG_ROLE_RESPONDER, now,
					       form ? &src : NULL, JG_HTTP_MAX_BODY, NULL, NULL),
			      JG_OK);
	CU_ASSERT_EQUAL(jg_authorize_handle(&ctx, &req, resp), JG_OK);
	jar_update(j, resp);
	jg_request_clear(&req);
	while (n > 0)
		free(env[--n]);
	free(cookie);
}

/* Returns the value of the hidden jg_csrf field of a page (new string). */
static char *
csrf_of(const struct jg_response *resp)
{
	const char *p = resp->body ? strstr(resp->body, "name=\"jg_csrf\" value=\"") : NULL;

	if (p == NULL)
		return jg_xstrdup("");
	p += strlen("name=\"jg_csrf\" value=\"");
	return jg_xstrndup(p, strcspn(p, "\""));
}

static bool
body_has(const struct jg_response *resp, const char *text)
{
	return resp->body && strstr(resp->body, text) != NULL;
}

/* Every HTML answer: the headers of issue 4 point 5. */
static void
assert_html(const struct jg_response *resp, int status, const char *form_target)
{
	const char *csp = jg_response_header(resp, "Content-Security-Policy");
	char *want;

	CU_ASSERT_EQUAL(resp->status, status);
	ASSERT_STR(jg_response_header(resp, "Content-Type"), "text/html; charset=utf-8");
	ASSERT_STR(jg_response_header(resp, "X-Frame-Options"), "DENY");
	ASSERT_STR(jg_response_header(resp, "Referrer-Policy"), "no-referrer");
	ASSERT_STR(jg_response_header(resp, "Cache-Control"), "no-store");
	want = form_target ?
	    jg_xasprintf("default-src 'self'; frame-ancestors 'none'; form-action 'self' %s; "
			 "base-uri 'none'", form_target) :
	    jg_xstrdup("default-src 'self'; frame-ancestors 'none'; form-action 'self'; "
		       "base-uri 'none'");
	ASSERT_STR(csp, want);
	free(want);
}

/* Returns the value of parameter name in the query of the response's
 * Location (new string), or NULL. */
static char *
loc_param(const struct jg_response *resp, const char *name)
{
	const char *loc = jg_response_header(resp, "Location"), *q;
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
assert_loc(const struct jg_response *resp, const char *name, const char *want)
{
	char *v = loc_param(resp, name);

	if (want) {
		ASSERT_STR(v, want);
	} else {
		CU_ASSERT_PTR_NULL(v);
	}
	free(v);
}

/* The scope comes last, so a test can append to it. */
#define WEB_Q "client_id=web&redirect_uri=https%3A%2F%2Fapp.example%2Fcb" \
	"&response_type=code&state=st-1&nonce=n-1&scope=openid+email"

/* Logs alice in through the login form of query q; the answer is left in
 * resp. */
static void
login(struct jar *j, const char *q, const char *password, int64_t now,
      struct jg_response *resp)
{
	char *target = jg_xasprintf("/oauth/authorize?%s", q), *token, *form;

	send(j, "GET", target, NULL, now, resp);
	CU_ASSERT_EQUAL(resp->status, 200);
	token = csrf_of(resp);
	jg_response_clear(resp);
	form = jg_xasprintf("%s&jg_action=login&jg_csrf=%s&username=alice&password=%s",
			    q, token, password);
	send(j, "POST", "/oauth/authorize", form, now, resp);
	free(form);
	free(token);
	free(target);
}

static void
test_flow_pages(void)
{
	struct jar j = { { NULL }, { NULL } };
	struct jg_response r;

	/* Point 1: unknown client: a 400 page, no Location. */
	send(&j, "GET", "/oauth/authorize?client_id=nope&response_type=code", NULL, T0, &r);
	assert_html(&r, 400, NULL);
	CU_ASSERT_PTR_NULL(jg_response_header(&r, "Location"));
	CU_ASSERT(body_has(&r, "The client is not registered."));
	jg_response_clear(&r);
	/* Parameters that cannot all be read (RFC 6749 section 3.1: none may
	 * be repeated).  Section 4.1.2.1 makes "includes a parameter more
	 * than once, or is otherwise malformed" an invalid_request that goes
	 * back to the client, when client_id and redirect_uri can be read
	 * and trusted; otherwise a 400 page, never a redirect. */
	{
		static const struct {
			const char *what, *method, *params;
			int status;		/* 302/303: redirect; 400: page */
			const char *location;	/* up to the error_description */
			const char *state;	/* state in the Location */
			const char *why;	/* error_description */
		} rows[] = {
			{ "state repeated: back without state", "GET", WEB_Q "&state=again",
			  302, "https://app.example/cb?error=invalid_request", NULL,
			  "The request is malformed: a parameter is repeated." },
			{ "scope repeated: back with state", "GET", WEB_Q "&scope=profile",
			  302, "https://app.example/cb?error=invalid_request", "st-1",
			  "The request is malformed: a parameter is repeated." },
			{ "nonce repeated, redirect_uri omitted, one registered", "GET",
			  "client_id=spa&response_type=code&nonce=1&nonce=2&state=q",
			  302, "https://spa.example/cb?error=invalid_request", "q",
			  "The request is malformed: a parameter is repeated." },
			{ "nonce not UTF-8 (RFC 3629)", "GET",
			  "client_id=web&redirect_uri=https%3A%2F%2Fapp.example%2Fcb"
			  "&response_type=code&nonce=%C3%28&state=u",
			  302, "https://app.example/cb?error=invalid_request", "u",
			  "The request is malformed: a parameter value is not valid UTF-8." },
			{ "state not UTF-8 and nonce repeated: back without state", "GET",
			  "client_id=web&redirect_uri=https%3A%2F%2Fapp.example%2Fcb"
			  "&response_type=code&state=%C3%28&nonce=a&nonce=b",
			  302, "https://app.example/cb?error=invalid_request", NULL,
			  "The request is malformed: a parameter value is not valid UTF-8." },
			{ "a form POST: 303", "POST", WEB_Q "&state=again",
			  303, "https://app.example/cb?error=invalid_request", NULL,
			  "The request is malformed: a parameter is repeated." },
			{ "client_id repeated: which client?", "GET",
			  "client_id=web&client_id=web&redirect_uri=https%3A%2F%2Fapp.example"
			  "%2Fcb&response_type=code", 400, NULL, NULL, NULL },
			{ "redirect_uri repeated: where to?", "GET",
			  "client_id=web&redirect_uri=https%3A%2F%2Fapp.example%2Fcb"
			  "&redirect_uri=https%3A%2F%2Fevil.example%2Fcb&response_type=code",
			  400, NULL, NULL, NULL },
			{ "redirect_uri once bare, once set: repeated", "GET",
			  "client_id=web&redirect_uri&redirect_uri=https%3A%2F%2Fapp.example"
			  "%2Fcb&response_type=code&state=a", 400, NULL, NULL, NULL },
			{ "client_id once bare, once set: repeated", "GET",
			  "client_id&client_id=web&redirect_uri=https%3A%2F%2Fapp.example"
			  "%2Fcb&response_type=code&state=a", 400, NULL, NULL, NULL },
			{ "a name that does not decode (it could be redirect_uri)", "GET",
			  "client_id=web&redirect_uri=https%3A%2F%2Fapp.example%2Fcb"
			  "&redirect%G1uri=x&response_type=code", 400, NULL, NULL, NULL },
			{ "redirect_uri not registered", "GET",
			  "client_id=web&redirect_uri=https%3A%2F%2Fevil.example%2Fcb"
			  "&state=a&state=b", 400, NULL, NULL, NULL },
			{ "redirect_uri omitted, two registered", "GET",
			  "client_id=web&response_type=code&nonce=1&nonce=2", 400, NULL,
			  NULL, NULL },
			{ "client_id not UTF-8", "GET",
			  "client_id=%C3%28&redirect_uri=https%3A%2F%2Fapp.example%2Fcb"
			  "&state=a&state=b", 400, NULL, NULL, NULL },
			{ "no client_id", "GET", "response_type=code&state=a&state=b", 400,
			  NULL, NULL, NULL },
			{ "unknown client", "GET", "client_id=nope&redirect_uri=https%3A%2F%2F"
			  "app.example%2Fcb&state=a&state=b", 400, NULL, NULL, NULL },
		};
		size_t k;

		for (k = 0; k < sizeof(rows) / sizeof(rows[0]); k++) {
			bool post = strcmp(rows[k].method, "POST") == 0;
			char *target = post ? jg_xstrdup("/oauth/authorize") :
			    jg_xasprintf("/oauth/authorize?%s", rows[k].params);
			const char *loc;

			send(&j, rows[k].method, target, post ? rows[k].params : NULL, T0, &r);
			free(target);
			if (r.status != rows[k].status)
				fprintf(stderr, "unreadable row %zu (%s): %d\n", k,
					rows[k].what, r.status);
			if (rows[k].status == 400) {
				assert_html(&r, 400, NULL);
				CU_ASSERT_PTR_NULL(jg_response_header(&r, "Location"));
			} else {
				CU_ASSERT_EQUAL(r.status, rows[k].status);
				loc = jg_response_header(&r, "Location");
				CU_ASSERT(loc && strncmp(loc, rows[k].location,
							 strlen(rows[k].location)) == 0);
				assert_loc(&r, "state", rows[k].state);
				assert_loc(&r, "iss", ISSUER);
				assert_loc(&r, "error_description", rows[k].why);
				assert_loc(&r, "code", NULL);
			}
			jg_response_clear(&r);
		}
		CU_ASSERT_EQUAL(count("SELECT count(*) FROM codes"), 0);
	}
	/* An error after the client is known: 302 with error, state, iss. */
	send(&j, "GET", "/oauth/authorize?client_id=web&redirect_uri="
	     "https%3A%2F%2Fapp.example%2Fcb&response_type=token&state=s", NULL, T0, &r);
	CU_ASSERT_EQUAL(r.status, 302);
	ASSERT_STR(jg_response_header(&r, "Location"),
		   "https://app.example/cb?error=unsupported_response_type&error_description="
		   "only%20response_type%3Dcode%20is%20supported&state=s"
		   "&iss=http%3A%2F%2F127.0.0.1%3A9999");
	jg_response_clear(&r);
	/* The login form: escaped client name, hints, CSRF cookie and CSP
	 * naming the redirect target for form-action. */
	send(&j, "GET", "/oauth/authorize?" WEB_Q "&login_hint=%3Cbob%3E", NULL, T0, &r);
	assert_html(&r, 200, "https://app.example");
	CU_ASSERT(body_has(&r, "Web &lt;App&gt; &amp; Co"));
	CU_ASSERT(body_has(&r, "value=\"&lt;bob&gt;\""));
	CU_ASSERT(body_has(&r, "autocomplete=\"current-password\""));
	CU_ASSERT(body_has(&r, "<code class=\"scope\">email</code>"));
	CU_ASSERT(body_has(&r, "<input type=\"hidden\" name=\"state\" value=\"st-1\">"));
	CU_ASSERT_PTR_NOT_NULL(j.names[0]);
	ASSERT_STR(j.names[0], "jg_csrf");
	jg_response_clear(&r);
	/* Wrong method and path. */
	send(&j, "PUT", "/oauth/authorize", NULL, T0, &r);
	assert_html(&r, 405, NULL);
	ASSERT_STR(jg_response_header(&r, "Allow"), "GET, POST");
	jg_response_clear(&r);
	send(&j, "GET", "/oauth/other", NULL, T0, &r);
	assert_html(&r, 404, NULL);
	jg_response_clear(&r);
	jar_clear(&j);
}

static void
test_flow_csrf(void)
{
	struct jar j = { { NULL }, { NULL } }, other = { { NULL }, { NULL } };
	struct jg_response r;
	char *token, *form;

	send(&j, "GET", "/oauth/authorize?" WEB_Q, NULL, T0, &r);
	token = csrf_of(&r);
	CU_ASSERT_EQUAL(strlen(token), 43);
	jg_response_clear(&r);
	/* No token. */
	send(&j, "POST", "/oauth/authorize", WEB_Q "&jg_action=login&username=alice"
	     "&password=" PASSWORD, T0, &r);
	assert_html(&r, 403, NULL);
	jg_response_clear(&r);
	/* The token of another pending request (state changed). */
	form = jg_xasprintf("client_id=web&redirect_uri=https%%3A%%2F%%2Fapp.example%%2Fcb"
			    "&response_type=code&state=st-2&nonce=n-1&scope=openid+email"
			    "&jg_action=login&jg_csrf=%s&username=alice&password=x", token);
	send(&j, "POST", "/oauth/authorize", form, T0, &r);
	assert_html(&r, 403, NULL);
	jg_response_clear(&r);
	free(form);
	/* The right token from another browser (no CSRF cookie). */
	form = jg_xasprintf("%s"  "&jg_action=login&jg_csrf=%s&username=alice&password=x",
			    WEB_Q, token);
	send(&other, "POST", "/oauth/authorize", form, T0, &r);
	assert_html(&r, 403, NULL);
	jg_response_clear(&r);
	free(form);
	/* Nothing was counted or started. */
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM login_failures"), 0);
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM sessions"), 0);
	free(token);
	jar_clear(&j);
	jar_clear(&other);
}

static void
test_flow_login_consent_code(void)
{
	struct jar j = { { NULL }, { NULL } };
	struct jg_response r;
	struct jg_code *code = NULL;
	char *token, *form, *c, *csrf;

	/* A wrong password: the form again with the same words as for an
	 * unknown user, and one failure per key. */
	login(&j, WEB_Q, "wrong", T0, &r);
	assert_html(&r, 200, "https://app.example");
	CU_ASSERT(body_has(&r, "The user name or password is incorrect."));
	CU_ASSERT(body_has(&r, "value=\"alice\""));
	jg_response_clear(&r);
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM login_failures"), 2);

	/* The right one: a session cookie, then the consent page. */
	login(&j, WEB_Q, PASSWORD, T0 + 1, &r);
	assert_html(&r, 200, "https://app.example");
	CU_ASSERT(body_has(&r, "value=\"allow\""));
	CU_ASSERT(body_has(&r, "<strong>alice</strong>"));
	ASSERT_STR(j.names[1], "jg_session");
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM sessions WHERE auth_time = 1700000001"), 1);
	/* Success cleared the user's counter, not the address's. */
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM login_failures"), 1);
	token = csrf_of(&r);
	jg_response_clear(&r);

	/* Allow: 303 with code, state and iss; the consent is stored. */
	form = jg_xasprintf("%s"  "&jg_action=allow&jg_csrf=%s", WEB_Q, token);
	send(&j, "POST", "/oauth/authorize", form, T0 + 2, &r);
	CU_ASSERT_EQUAL(r.status, 303);
	assert_loc(&r, "state", "st-1");
	assert_loc(&r, "iss", ISSUER);
	assert_loc(&r, "error", NULL);
	c = loc_param(&r, "code");
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_EQUAL(strlen(c), 43);
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM consents"), 3);
	CU_ASSERT_EQUAL(jg_store_code_redeem(g.store, c, T0 + 3, &code, NULL), JG_OK);
	ASSERT_STR(code->client_id, "web");
	ASSERT_STR(code->redirect_uri, "https://app.example/cb");
	/* The request had redirect_uri: /token must get it (RFC 6749 4.1.3). */
	CU_ASSERT_FALSE(code->redirect_uri_omitted);
	ASSERT_STR(code->sub, g.alice_sub);
	ASSERT_STR(code->scope, "openid email");
	ASSERT_STR(code->nonce, "n-1");
	CU_ASSERT_PTR_NULL(code->code_challenge);
	CU_ASSERT_EQUAL(code->auth_time, T0 + 1);
	CU_ASSERT_EQUAL(code->expires, T0 + 2 + 60);
	jg_code_free(code);
	free(c);
	free(form);
	jg_response_clear(&r);

	/* Deny on a second consent (a new scope): access_denied. */
	send(&j, "GET", "/oauth/authorize?" WEB_Q "+offline_access", NULL, T0 + 3, &r);
	assert_html(&r, 200, "https://app.example");
	free(token);
	token = csrf_of(&r);
	jg_response_clear(&r);
	form = jg_xasprintf("%s"  "+offline_access&jg_action=deny&jg_csrf=%s", WEB_Q, token);
	send(&j, "POST", "/oauth/authorize", form, T0 + 3, &r);
	CU_ASSERT_EQUAL(r.status, 303);
	assert_loc(&r, "error", "access_denied");
	assert_loc(&r, "state", "st-1");
	assert_loc(&r, "iss", ISSUER);
	jg_response_clear(&r);
	free(form);
	free(token);

	/* The session and the remembered consent skip both pages. */
	send(&j, "GET", "/oauth/authorize?" WEB_Q, NULL, T0 + 4, &r);
	CU_ASSERT_EQUAL(r.status, 302);
	c = loc_param(&r, "code");
	CU_ASSERT_PTR_NOT_NULL(c);
	free(c);
	jg_response_clear(&r);
	/* prompt=none works with both; consent missing for a new scope. */
	send(&j, "GET", "/oauth/authorize?" WEB_Q "&prompt=none", NULL, T0 + 4, &r);
	CU_ASSERT_EQUAL(r.status, 302);
	c = loc_param(&r, "code");
	CU_ASSERT_PTR_NOT_NULL(c);
	free(c);
	jg_response_clear(&r);
	send(&j, "GET", "/oauth/authorize?" WEB_Q "+profile&prompt=none", NULL, T0 + 4, &r);
	CU_ASSERT_EQUAL(r.status, 302);
	assert_loc(&r, "error", "consent_required");
	jg_response_clear(&r);
	/* prompt=consent asks again; prompt=login and an exceeded max_age
	 * show the form again. */
	send(&j, "GET", "/oauth/authorize?" WEB_Q "&prompt=consent", NULL, T0 + 4, &r);
	assert_html(&r, 200, "https://app.example");
	CU_ASSERT(body_has(&r, "value=\"allow\""));
	jg_response_clear(&r);
	send(&j, "GET", "/oauth/authorize?" WEB_Q "&prompt=login", NULL, T0 + 4, &r);
	assert_html(&r, 200, "https://app.example");
	CU_ASSERT(body_has(&r, "autocomplete=\"current-password\""));
	jg_response_clear(&r);
	send(&j, "GET", "/oauth/authorize?" WEB_Q "&max_age=2", NULL, T0 + 4, &r);
	assert_html(&r, 200, "https://app.example");
	CU_ASSERT(body_has(&r, "autocomplete=\"current-password\""));
	jg_response_clear(&r);
	send(&j, "GET", "/oauth/authorize?" WEB_Q "&max_age=3", NULL, T0 + 4, &r);
	CU_ASSERT_EQUAL(r.status, 302);
	jg_response_clear(&r);

	/* Logout without id_token_hint (OpenID Connect RP-Initiated Logout
	 * 1.0 section 2: the OP MUST ask): the confirmation page, and the
	 * session is kept until the user answers. */
	send(&j, "GET", "/oauth/logout?client_id=web&post_logout_redirect_uri="
	     "https%3A%2F%2Fapp.example%2Fbye&state=l1", NULL, T0 + 5, &r);
	assert_html(&r, 200, "https://app.example");
	CU_ASSERT(body_has(&r, "value=\"logout\""));
	CU_ASSERT(body_has(&r, "value=\"stay\""));
	CU_ASSERT(body_has(&r, "<strong>Web &lt;App&gt; &amp; Co</strong> asks to sign you out."));
	CU_ASSERT(body_has(&r, "name=\"post_logout_redirect_uri\" "
			   "value=\"https://app.example/bye\""));
	CU_ASSERT_PTR_NULL(jg_response_header(&r, "Location"));
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM sessions"), 1);
	csrf = csrf_of(&r);
	jg_response_clear(&r);
	/* A GET carrying the answer does not count: only the form post. */
	send(&j, "GET", "/oauth/logout?client_id=web&jg_action=logout", NULL, T0 + 5, &r);
	assert_html(&r, 200, NULL);
	CU_ASSERT(body_has(&r, "value=\"stay\""));
	jg_response_clear(&r);
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM sessions"), 1);
	/* Posts without the token, with it from another browser, and with
	 * it for other parameters: 403, the session kept. */
	{
		static const char *const forms[] = {
			"client_id=web&post_logout_redirect_uri=https%3A%2F%2Fapp.example"
			"%2Fbye&state=l1&jg_action=logout",
			"client_id=web&post_logout_redirect_uri=https%3A%2F%2Fapp.example"
			"%2Fbye&state=l2&jg_action=logout&jg_csrf=",
			"client_id=web&post_logout_redirect_uri=https%3A%2F%2Fapp.example"
			"%2Fbye&state=l1&jg_action=stay&jg_csrf=",
		};
		struct jar other = { { NULL }, { NULL } };
		size_t k;

		for (k = 0; k < sizeof(forms) / sizeof(forms[0]); k++) {
			char *bad = jg_xasprintf("%s%s", forms[k], k > 0 ? csrf : "");

			send(&j, "POST", "/oauth/logout", bad, T0 + 5, &r);
			/* The third row is a valid token for "stay": it
			 * goes back with the session kept. */
			if (k == 2) {
				CU_ASSERT_EQUAL(r.status, 303);
				ASSERT_STR(jg_response_header(&r, "Location"),
					   "https://app.example/bye?state=l1");
				CU_ASSERT_PTR_NULL(jg_response_header(&r, "Set-Cookie"));
			} else {
				assert_html(&r, 403, NULL);
			}
			jg_response_clear(&r);
			free(bad);
			CU_ASSERT_EQUAL(count("SELECT count(*) FROM sessions"), 1);
		}
		/* The whole answer, from a browser without the cookies. */
		form = jg_xasprintf("client_id=web&post_logout_redirect_uri=https%%3A%%2F%%2F"
				    "app.example%%2Fbye&state=l1&jg_action=logout&jg_csrf=%s",
				    csrf);
		/* It has no session to end: back to the client, and no
		 * cookie touched. */
		send(&other, "POST", "/oauth/logout", form, T0 + 5, &r);
		CU_ASSERT_EQUAL(r.status, 303);
		CU_ASSERT_PTR_NULL(jg_response_header(&r, "Set-Cookie"));
		jg_response_clear(&r);
		CU_ASSERT_EQUAL(count("SELECT count(*) FROM sessions"), 1);
		jar_clear(&other);
		/* Confirmed: 303 to the registered post-logout URI with state;
		 * the session row is gone and the cookie expired. */
		send(&j, "POST", "/oauth/logout", form, T0 + 5, &r);
		free(form);
	}
	free(csrf);
	CU_ASSERT_EQUAL(r.status, 303);
	ASSERT_STR(jg_response_header(&r, "Location"), "https://app.example/bye?state=l1");
	ASSERT_STR(jg_response_header(&r, "Set-Cookie"),
		   "jg_session=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax");
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM sessions"), 0);
	jg_response_clear(&r);
	/* Without a session prompt=none is login_required. */
	send(&j, "GET", "/oauth/authorize?" WEB_Q "&prompt=none", NULL, T0 + 6, &r);
	CU_ASSERT_EQUAL(r.status, 302);
	assert_loc(&r, "error", "login_required");
	assert_loc(&r, "state", "st-1");
	jg_response_clear(&r);
	/* An unregistered post-logout URI: the signed-out page. */
	send(&j, "GET", "/oauth/logout?client_id=web&post_logout_redirect_uri="
	     "https%3A%2F%2Fevil.example%2F", NULL, T0 + 6, &r);
	assert_html(&r, 200, NULL);
	CU_ASSERT(body_has(&r, "Signed out"));
	CU_ASSERT_PTR_NULL(jg_response_header(&r, "Location"));
	jg_response_clear(&r);
	jar_clear(&j);
}

/* A first-party public client: no consent page, PKCE bound to the code. */
static void
test_flow_first_party(void)
{
	static const char q[] = "client_id=first&response_type=code&scope=openid"
	    "&code_challenge=" CHALLENGE "&code_challenge_method=S256";
	struct jar j = { { NULL }, { NULL } };
	struct jg_response r;
	struct jg_code *code = NULL;
	char *c;

	login(&j, q, PASSWORD, T0 + 10, &r);
	CU_ASSERT_EQUAL(r.status, 303);
	assert_loc(&r, "iss", ISSUER);
	assert_loc(&r, "state", NULL);
	c = loc_param(&r, "code");
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT(strncmp(jg_response_header(&r, "Location"),
			  "http://127.0.0.1:8080/cb?code=", 30) == 0);
	CU_ASSERT_EQUAL(jg_store_code_redeem(g.store, c, T0 + 11, &code, NULL), JG_OK);
	ASSERT_STR(code->code_challenge, CHALLENGE);
	ASSERT_STR(code->code_challenge_method, "S256");
	ASSERT_STR(code->redirect_uri, "http://127.0.0.1:8080/cb");
	/* Left out by the request (one registered URI): /token may too. */
	CU_ASSERT_TRUE(code->redirect_uri_omitted);
	jg_code_free(code);
	free(c);
	jg_response_clear(&r);

	/* HEAD is safe (RFC 9110 section 9.3.2): with the live session a GET
	 * issues a code, a HEAD is refused and stores none; on logout it
	 * ends no session. */
	{
		long codes = count("SELECT count(*) FROM codes");
		long sessions = count("SELECT count(*) FROM sessions");
		char *target = jg_xasprintf("/oauth/authorize?%s", q);

		CU_ASSERT(sessions >= 1);
		send(&j, "HEAD", target, NULL, T0 + 12, &r);
		assert_html(&r, 405, NULL);
		ASSERT_STR(jg_response_header(&r, "Allow"), "GET, POST");
		CU_ASSERT_PTR_NULL(jg_response_header(&r, "Location"));
		CU_ASSERT_EQUAL(count("SELECT count(*) FROM codes"), codes);
		jg_response_clear(&r);
		send(&j, "HEAD", "/oauth/logout", NULL, T0 + 12, &r);
		assert_html(&r, 405, NULL);
		ASSERT_STR(jg_response_header(&r, "Allow"), "GET, POST");
		CU_ASSERT_EQUAL(count("SELECT count(*) FROM sessions"), sessions);
		jg_response_clear(&r);
		/* The same request as a GET does issue one. */
		send(&j, "GET", target, NULL, T0 + 12, &r);
		CU_ASSERT_EQUAL(r.status, 302);
		c = loc_param(&r, "code");
		CU_ASSERT_PTR_NOT_NULL(c);
		free(c);
		CU_ASSERT_EQUAL(count("SELECT count(*) FROM codes"), codes + 1);
		jg_response_clear(&r);
		free(target);
	}
	jar_clear(&j);
}

static void
test_flow_throttle(void)
{
	struct jar j = { { NULL }, { NULL } };
	struct jg_response r;
	unsigned i;

	CU_ASSERT_EQUAL(jg_store_fail_clear(g.store, "user:alice"), JG_OK);
	CU_ASSERT_EQUAL(jg_store_fail_clear(g.store, "ip:192.0.2.7"), JG_OK);
	/* A disabled user fails like a wrong password. */
	login(&j, WEB_Q, "whatever", T0 + 20, &r);
	jg_response_clear(&r);
	{
		char *token, *form;

		send(&j, "GET", "/oauth/authorize?" WEB_Q, NULL, T0 + 20, &r);
		token = csrf_of(&r);
		jg_response_clear(&r);
		form = jg_xasprintf("%s"  "&jg_action=login&jg_csrf=%s&username=mallory"
				    "&password=" PASSWORD, WEB_Q, token);
		send(&j, "POST", "/oauth/authorize", form, T0 + 20, &r);
		assert_html(&r, 200, "https://app.example");
		CU_ASSERT(body_has(&r, "The user name or password is incorrect."));
		jg_response_clear(&r);
		free(form);
		free(token);
	}
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM login_failures WHERE key = 'user:mallory'"), 1);
	for (i = 1; i < 5; i++) {
		login(&j, WEB_Q, "wrong", T0 + 20 + i, &r);
		CU_ASSERT_EQUAL(r.status, 200);
		jg_response_clear(&r);
	}
	/* Five failures for alice within the window: 429, even with the
	 * right password, and nothing more is counted. */
	login(&j, WEB_Q, PASSWORD, T0 + 30, &r);
	assert_html(&r, 429, NULL);
	ASSERT_STR(jg_response_header(&r, "Retry-After"), "900");
	CU_ASSERT_PTR_NULL(jg_response_header(&r, "Set-Cookie"));
	jg_response_clear(&r);
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM login_failures WHERE key = 'user:alice'"), 5);
	/* After the window the right password works and clears the count. */
	login(&j, WEB_Q, PASSWORD, T0 + 30 + 900, &r);
	/* (consent to these scopes was given in an earlier test) */
	CU_ASSERT_EQUAL(r.status, 303);
	assert_loc(&r, "state", "st-1");
	jg_response_clear(&r);
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM login_failures WHERE key = 'user:alice'"), 0);
	jar_clear(&j);
}

/* id_token_hint: an ID token of our keyring (typ JWT), expired allowed. */
static void
test_flow_id_token_hint(void)
{
	struct jar j = { { NULL }, { NULL } };
	struct jg_response r;
	struct json_object *claims = json_object_new_object();
	const struct jg_jwk *key = jg_keyring_current(g.ring, JG_KEY_ID);
	char *hint = NULL, *at = NULL, *target;

	json_object_object_add(claims, "iss", json_object_new_string(ISSUER));
	json_object_object_add(claims, "sub", json_object_new_string(g.alice_sub));
	json_object_object_add(claims, "aud", json_object_new_string("web"));
	json_object_object_add(claims, "exp", json_object_new_int64(T0));
	CU_ASSERT_EQUAL_FATAL(jg_jwt_sign(key, key->alg, JG_TYP_ID, claims, &hint), JG_OK);
	CU_ASSERT_EQUAL_FATAL(jg_jwt_sign(key, key->alg, JG_TYP_ACCESS, claims, &at), JG_OK);
	json_object_put(claims);

	login(&j, WEB_Q, PASSWORD, T0 + 2000, &r);
	jg_response_clear(&r);
	/* Expired (exp T0) but ours: accepted; alice has a session but no
	 * consent for this scope yet, so prompt=none says consent_required. */
	target = jg_xasprintf("/oauth/authorize?%s"  "+profile&prompt=none&id_token_hint=%s",
			      WEB_Q, hint);
	send(&j, "GET", target, NULL, T0 + 2001, &r);
	CU_ASSERT_EQUAL(r.status, 302);
	assert_loc(&r, "error", "consent_required");
	jg_response_clear(&r);
	free(target);
	/* An access token is not an ID token (typ at+jwt). */
	target = jg_xasprintf("/oauth/authorize?%s"  "&id_token_hint=%s", WEB_Q, at);
	send(&j, "GET", target, NULL, T0 + 2001, &r);
	CU_ASSERT_EQUAL(r.status, 302);
	assert_loc(&r, "error", "invalid_request");
	jg_response_clear(&r);
	free(target);
	/* A hint naming another user than the session's: with prompt=none
	 * login_required (OIDC Core 3.1.2.1), else the login form. */
	{
		struct json_object *other = json_object_new_object();
		char *h2 = NULL;

		json_object_object_add(other, "iss", json_object_new_string(ISSUER));
		json_object_object_add(other, "sub", json_object_new_string("sub-mallory-0002"));
		json_object_object_add(other, "aud", json_object_new_string("web"));
		CU_ASSERT_EQUAL_FATAL(jg_jwt_sign(key, key->alg, JG_TYP_ID, other, &h2), JG_OK);
		json_object_put(other);
		target = jg_xasprintf("/oauth/authorize?%s&prompt=none&id_token_hint=%s",
				      WEB_Q, h2);
		send(&j, "GET", target, NULL, T0 + 2001, &r);
		CU_ASSERT_EQUAL(r.status, 302);
		assert_loc(&r, "error", "login_required");
		jg_response_clear(&r);
		free(target);
		target = jg_xasprintf("/oauth/authorize?%s&id_token_hint=%s", WEB_Q, h2);
		send(&j, "GET", target, NULL, T0 + 2001, &r);
		assert_html(&r, 200, "https://app.example");
		CU_ASSERT(body_has(&r, "autocomplete=\"current-password\""));
		jg_response_clear(&r);
		free(target);
		/* The same hint with the matching session user skips it. */
		target = jg_xasprintf("/oauth/authorize?%s&id_token_hint=%s", WEB_Q, hint);
		send(&j, "GET", target, NULL, T0 + 2001, &r);
		CU_ASSERT_EQUAL(r.status, 302);
		assert_loc(&r, "error", NULL);
		jg_response_clear(&r);
		free(target);
		/* Logout with another user's hint (RP-Initiated Logout 1.0
		 * section 2: the hint does not belong to the signed-in user,
		 * so the OP MUST ask): the confirmation page, session kept. */
		{
			long sessions = count("SELECT count(*) FROM sessions");
			char *saved = g.config->templates;
			char empty[] = "/tmp/jg-templates-XXXXXX";

			CU_ASSERT(sessions >= 1);
			target = jg_xasprintf("/oauth/logout?id_token_hint=%s", h2);
			send(&j, "GET", target, NULL, T0 + 2001, &r);
			assert_html(&r, 200, NULL);
			CU_ASSERT(body_has(&r, "value=\"stay\""));
			CU_ASSERT(body_has(&r, "<strong>Web &lt;App&gt; &amp; Co</strong> asks"));
			CU_ASSERT(body_has(&r, "name=\"id_token_hint\""));
			jg_response_clear(&r);
			CU_ASSERT_EQUAL(count("SELECT count(*) FROM sessions"), sessions);
			/* A templates folder from before logout.html: the
			 * built-in page, the same form. */
			CU_ASSERT_FATAL(mkdtemp(empty) != NULL);
			g.config->templates = empty;
			send(&j, "GET", target, NULL, T0 + 2001, &r);
			g.config->templates = saved;
			assert_html(&r, 200, NULL);
			CU_ASSERT(body_has(&r, "<h1>Sign out?</h1>"));
			CU_ASSERT(body_has(&r, "value=\"stay\""));
			CU_ASSERT(body_has(&r, "name=\"jg_csrf\" value=\""));
			jg_response_clear(&r);
			CU_ASSERT_EQUAL(rmdir(empty), 0);
			CU_ASSERT_EQUAL(count("SELECT count(*) FROM sessions"), sessions);
			free(target);
		}
		free(h2);
	}
	/* Logout with the hint only: the client comes from its aud. */
	target = jg_xasprintf("/oauth/logout?id_token_hint=%s&post_logout_redirect_uri="
			      "https%%3A%%2F%%2Fapp.example%%2Fbye", hint);
	send(&j, "POST", "/oauth/logout", target + strlen("/oauth/logout?"), T0 + 2002, &r);
	CU_ASSERT_EQUAL(r.status, 303);
	ASSERT_STR(jg_response_header(&r, "Location"), "https://app.example/bye");
	jg_response_clear(&r);
	free(target);
	/* A hint naming another client than client_id: a 400 page. */
	target = jg_xasprintf("/oauth/logout?id_token_hint=%s&client_id=spa", hint);
	send(&j, "GET", target, NULL, T0 + 2003, &r);
	assert_html(&r, 400, NULL);
	jg_response_clear(&r);
	free(target);
	free(hint);
	free(at);
	jar_clear(&j);
}

/* Over https the cookies get Secure and the __Host- prefix (RFC 6265bis
 * section 4.1.3.2), and are looked up under those names. */
static void
test_flow_https(void)
{
	static const char q[] = "client_id=first&response_type=code&scope=openid"
	    "&code_challenge=" CHALLENGE "&code_challenge_method=S256&state=h";
	struct jg_config *plain = g.config, *secure = NULL;
	struct jar j = { { NULL }, { NULL } };
	struct jg_response r;
	char *conf, *text, *msg = NULL, *sc;

	conf = jg_xasprintf("%s/https.conf", tmpdir);
	text = jg_xasprintf("issuer = https://id.example\ndatabase = %s\n"
			    "key_dir = %s/keys\nhtdocs = %s/htdocs\n", g.db, tmpdir,
			    jg_test_srcdir());
	CU_ASSERT_EQUAL_FATAL(jg_write_file_atomic(conf, text, strlen(text), 0600), JG_OK);
	CU_ASSERT_EQUAL_FATAL(jg_config_load(conf, &secure, &msg), JG_OK);
	g.config = secure;
	send(&j, "GET", "/oauth/authorize?client_id=first&response_type=code&scope=openid"
	     "&code_challenge=" CHALLENGE "&code_challenge_method=S256&state=h",
	     NULL, T0 + 40, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	sc = jg_xstrdup(jg_response_header(&r, "Set-Cookie") ?
			jg_response_header(&r, "Set-Cookie") : "");
	CU_ASSERT(strncmp(sc, "__Host-jg_csrf=", 15) == 0);
	CU_ASSERT(strstr(sc, "; Path=/; HttpOnly; SameSite=Lax; Secure") != NULL);
	free(sc);
	jg_response_clear(&r);
	login(&j, q, PASSWORD, T0 + 40, &r);
	CU_ASSERT_EQUAL(r.status, 303);
	assert_loc(&r, "iss", "https://id.example");
	assert_loc(&r, "state", "h");
	sc = jg_xstrdup(jg_response_header(&r, "Set-Cookie") ?
			jg_response_header(&r, "Set-Cookie") : "");
	CU_ASSERT(strncmp(sc, "__Host-jg_session=", 18) == 0);
	CU_ASSERT(strstr(sc, "; Max-Age=28800; Path=/; HttpOnly; SameSite=Lax; Secure") != NULL);
	free(sc);
	jg_response_clear(&r);
	/* The session is found under its prefixed name: no form again. */
	send(&j, "GET", "/oauth/authorize?client_id=first&response_type=code&scope=openid"
	     "&code_challenge=" CHALLENGE "&code_challenge_method=S256&prompt=none",
	     NULL, T0 + 41, &r);
	CU_ASSERT_EQUAL(r.status, 302);
	assert_loc(&r, "error", NULL);
	jg_response_clear(&r);
	g.config = plain;
	jg_config_free(secure);
	free(conf);
	free(text);
	jar_clear(&j);
}

int
main(void)
{
	static const struct jg_test tests[] = {
		{ "validation: one row per rule", test_validate_table },
		{ "validation: the values handed on", test_validate_fields },
		{ "redirect locations (RFC 6749 4.1.2, RFC 9207)", test_locations },
		{ "form-action origins", test_origin },
		{ "templates: escaping by default", test_render },
		{ "flow: error pages, redirects, login form", test_flow_pages },
		{ "flow: CSRF", test_flow_csrf },
		{ "flow: login, consent, code, prompt, max_age, logout",
		  test_flow_login_consent_code },
		{ "flow: first-party public client with PKCE", test_flow_first_party },
		{ "flow: throttling and disabled users", test_flow_throttle },
		{ "flow: id_token_hint", test_flow_id_token_hint },
		{ "flow: cookies over https", test_flow_https },
		{ NULL, NULL }
	};
	int rc;

	if (setup() != 0) {
		fprintf(stderr, "test_authorize: setup failed\n");
		remove_tree(tmpdir);
		return 1;
	}
	rc = jg_test_main("authorize", tests);
	jg_keyring_free(g.ring);
	jg_store_close(g.store);
	jg_config_free(g.config);
	free(g.db);
	free(g.alice_sub);
	remove_tree(tmpdir);
	return rc;
}
