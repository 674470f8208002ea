/* test_config.c: unit tests of common/conf (the configuration file, its
 * README reference and its template). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "conf.h"
#include "util.h"

/* A scratch folder for the files of one test run. */
static char tmpdir[64];

static void
make_tmpdir(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/jg-config-XXXXXX",
		 base && *base && strlen(base) < 40 ? base : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		abort();
	}
}

/* Writes len bytes of text to tmpdir/name and returns the new path. */
static char *
write_conf(const char *name, const char *text, size_t len)
{
	char *path = jg_xasprintf("%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");

	if (f == NULL || fwrite(text, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		abort();
	}
	return path;
}

/* Loads text as a configuration file; returns the result, with *out or
 * *errmsg set. */
static enum jg_err
load_text(const char *text, size_t len, char **path, struct jg_config **out,
	  char **errmsg)
{
	*path = write_conf("jwtgate.conf", text, len);
	*out = NULL;
	*errmsg = NULL;
	return jg_config_load(*path, out, errmsg);
}

#define BASE \
	"issuer = https://id.example.org\n" \
	"database = /var/lib/jwtgate/jwtgate.db\n" \
	"key_dir = /var/lib/jwtgate/keys\n" \
	"htdocs = /var/www/jwtgate\n"
#define ISSUER_SECTION "[issuer https://accounts.example.com]\n"
#define MSG_SECONDS(lo, hi) "expected a whole number of seconds between " #lo " and " #hi
#define MSG_NUMBER(lo, hi) "expected a whole number between " #lo " and " #hi
#define MSG_ALG "expected one of RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA"
#define MSG_ALGS "expected one or more of RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA"
#define MSG_URL "expected an absolute http or https URL without user name, query or fragment"
#define MSG_HTTP "http is only allowed for localhost, 127.0.0.1 and [::1]; use https or set allow_insecure_http = yes"
#define MSG_COOKIE "expected a cookie name of letters, digits and !#$%&'*+-.^_`|~"
#define MSG_ORIGINS "expected origins such as https://app.example.com (scheme, lowercase host and optional port, nothing else)"
#define MSG_SCOPE "expected a path prefix starting with / and one or more scopes"
#define MSG_REALM "expected up to 128 printable ASCII characters without double quotes or backslashes"

struct bad_case {
	const char *text;
	const char *error;	/* what follows the file name */
};

/* Every class of bad input, each with the exact message.  BASE is four
 * lines, so what follows it starts on line 5. */
static const struct bad_case bad_cases[] = {
	/* numbers */
	{ BASE "access_token_lifetime = 0\n", ":5: access_token_lifetime: " MSG_SECONDS(1, 86400) },
	{ BASE "access_token_lifetime = 86401\n", ":5: access_token_lifetime: " MSG_SECONDS(1, 86400) },
	{ BASE "access_token_lifetime = 10m\n", ":5: access_token_lifetime: " MSG_SECONDS(1, 86400) },
	{ BASE "access_token_lifetime = -5\n", ":5: access_token_lifetime: " MSG_SECONDS(1, 86400) },
	{ BASE "access_token_lifetime = +5\n", ":5: access_token_lifetime: " MSG_SECONDS(1, 86400) },
	{ BASE "access_token_lifetime = 5 0\n", ":5: access_token_lifetime: " MSG_SECONDS(1, 86400) },
	{ BASE "access_token_lifetime = 99999999999999999999\n", ":5: access_token_lifetime: " MSG_SECONDS(1, 86400) },
	{ BASE "access_token_lifetime =\n", ":5: access_token_lifetime: " MSG_SECONDS(1, 86400) },
	{ BASE "code_lifetime = 601\n", ":5: code_lifetime: " MSG_SECONDS(1, 600) },
	{ BASE "leeway = 301\n", ":5: leeway: " MSG_SECONDS(0, 300) },
	{ BASE "refresh_idle_lifetime = 59\n", ":5: refresh_idle_lifetime: " MSG_SECONDS(60, 31536000) },
	{ BASE "busy_timeout_ms = 1.5\n", ":5: busy_timeout_ms: " MSG_NUMBER(0, 600000) },
	{ BASE "verified_cache_size = 1000001\n", ":5: verified_cache_size: " MSG_NUMBER(0, 1000000) },
	{ BASE "login_max_failures_user = 0\n", ":5: login_max_failures_user: " MSG_NUMBER(1, 1000000) },
	/* booleans, algorithms, names */
	{ BASE "bearer_form = maybe\n", ":5: bearer_form: expected yes or no" },
	{ BASE "bearer_query =\n", ":5: bearer_query: expected yes or no" },
	{ BASE "access_token_alg = HS256\n", ":5: access_token_alg: " MSG_ALG },
	{ BASE "access_token_alg = es256\n", ":5: access_token_alg: " MSG_ALG },
	{ BASE "id_token_alg = none\n", ":5: id_token_alg: " MSG_ALG },
	{ BASE "session_cookie = jg session\n", ":5: session_cookie: " MSG_COOKIE },
	{ BASE "session_cookie =\n", ":5: session_cookie: " MSG_COOKIE },
	{ BASE "bearer_cookie = a;b\n", ":5: bearer_cookie: " MSG_COOKIE },
	{ BASE "authorizer_html_accept = text\n", ":5: authorizer_html_accept: expected a media type such as text/html" },
	{ BASE "authorizer_html_accept = text/\n", ":5: authorizer_html_accept: expected a media type such as text/html" },
	{ BASE "realm = \"a\\\"b\"\n", ":5: realm: " MSG_REALM },
	{ BASE "realm = caf\xc3\xa9\n", ":5: realm: " MSG_REALM },
	{ BASE "log_level = verbose\n", ":5: log_level: expected error, warn, info or debug" },
	{ BASE "resource_audience =\n", ":5: resource_audience: expected text of 1 to 1024 characters" },
	{ BASE "templates = \"\"\n", ":5: templates: expected a path" },
	/* lists */
	{ BASE "cors_origin = *\n", ":5: cors_origin: " MSG_ORIGINS },
	{ BASE "cors_origin = https://app.example.com/\n", ":5: cors_origin: " MSG_ORIGINS },
	{ BASE "cors_origin = https://App.example.com\n", ":5: cors_origin: " MSG_ORIGINS },
	{ BASE "cors_origin = app.example.com\n", ":5: cors_origin: " MSG_ORIGINS },
	{ BASE "cors_origin = https://app.example.com:0\n", ":5: cors_origin: " MSG_ORIGINS },
	{ BASE "cors_origin =\n", ":5: cors_origin: " MSG_ORIGINS },
	{ BASE "require_scope = /api\n", ":5: require_scope: " MSG_SCOPE },
	{ BASE "require_scope = api admin\n", ":5: require_scope: " MSG_SCOPE },
	{ BASE "require_scope = /api ad\"min\n", ":5: require_scope: " MSG_SCOPE },
	{ BASE "require_scope = /a x\nrequire_scope = /a y\n",
	  ":6: require_scope: path prefix /a already has a rule on line 5" },
	/* the issuer */
	{ "issuer = http://id.example.org\ndatabase = /d\nkey_dir = /k\nhtdocs = /h\n",
	  ":1: issuer: " MSG_HTTP },
	{ "issuer = https://id.example.org?x=1\n", ":1: issuer: " MSG_URL },
	{ "issuer = https://id.example.org/#f\n", ":1: issuer: " MSG_URL },
	{ "issuer = https://user@id.example.org\n", ":1: issuer: " MSG_URL },
	{ "issuer = id.example.org\n", ":1: issuer: " MSG_URL },
	{ "issuer = https://\n", ":1: issuer: " MSG_URL },
	{ "issuer = https://id.example.org:99999\n", ":1: issuer: " MSG_URL },
	{ "issuer = https://id.example.org/a b\n", ":1: issuer: " MSG_URL },
	{ "issuer = https://id.example.org/%zz\n", ":1: issuer: " MSG_URL },
	/* keys and syntax */
	{ BASE "frobnicate = 1\n", ":5: frobnicate: unknown key" },
	{ BASE "Leeway = 1\n", ":5: Leeway: unknown key" },
	{ BASE "leeway = 10\nleeway = 20\n", ":6: leeway: already set on line 5" },
	{ BASE "issuer = https://other.example.org\n", ":5: issuer: already set on line 1" },
	{ BASE "leeway 10\n", ":5: leeway: expected key = value" },
	{ BASE "= 10\n", ":5: expected key = value" },
	{ BASE "realm = \"jwtgate\n", ":5: realm: unterminated double quote" },
	{ BASE "realm = \"jwtgate\" x\n", ":5: realm: text after the closing double quote" },
	{ BASE "realm = a\x01z\n", ":5: realm: control character in value" },
	{ BASE "realm = a\tz\n", ":5: realm: control character in value" },
	/* missing keys */
	{ "database = /d\nkey_dir = /k\nhtdocs = /h\n", ": missing required key issuer" },
	{ "issuer = https://id.example.org\ndatabase = /d\nkey_dir = /k\n", ": missing required key htdocs" },
	{ "", ": missing required key issuer" },
	{ "# only a comment\n", ": missing required key issuer" },
	/* sections */
	{ BASE "[server]\n", ":5: [server]: unknown section; expected [issuer URL]" },
	{ BASE "[issuer]\n", ":5: [issuer]: unknown section; expected [issuer URL]" },
	{ BASE "[issuer https://a.example\n", ":5: [issuer https://a.example: unknown section; expected [issuer URL]" },
	{ BASE "[issuer ftp://a.example]\n", ":5: [issuer ftp://a.example]: " MSG_URL },
	{ BASE ISSUER_SECTION, ":5: [issuer https://accounts.example.com]: missing required key audience" },
	{ BASE ISSUER_SECTION "algorithms = RS256\n[issuer https://b.example]\naudience = b\n",
	  ":5: [issuer https://accounts.example.com]: missing required key audience" },
	{ BASE ISSUER_SECTION "audience = x\nleeway = 5\n",
	  ":7: leeway: global keys must come before the first [issuer] section" },
	{ BASE ISSUER_SECTION "audience = x\ncolour = 5\n",
	  ":7: colour: unknown key in an [issuer] section" },
	{ BASE ISSUER_SECTION "audience = x\naudience = y\n", ":7: audience: already set on line 6" },
	{ BASE ISSUER_SECTION "audience = x\nalgorithms = HS256\n", ":7: algorithms: " MSG_ALGS },
	{ BASE ISSUER_SECTION "audience = x\nalgorithms = RS256, none\n", ":7: algorithms: " MSG_ALGS },
	{ BASE ISSUER_SECTION "audience = x\nalgorithms = ,\n", ":7: algorithms: " MSG_ALGS },
	{ BASE ISSUER_SECTION "audience = x\n" ISSUER_SECTION "audience = y\n",
	  ":7: [issuer https://accounts.example.com]: duplicate section, first on line 5" },
	{ BASE "[issuer http://accounts.example.com]\naudience = x\n",
	  ":5: [issuer http://accounts.example.com]: " MSG_HTTP },
	{ BASE "[issuer https://id.example.org]\naudience = x\n",
	  ":5: [issuer https://id.example.org]: this is the server's own issuer, whose keys are local" },
	{ BASE ISSUER_SECTION "audience = x\njwks_uri = http://accounts.example.com/jwks\n",
	  ":7: jwks_uri: " MSG_HTTP },
	{ BASE ISSUER_SECTION "audience = x\njwks_uri = https://accounts.example.com/jwks?v=1\n",
	  ":7: jwks_uri: " MSG_URL },
};

static void
test_bad_values(void)
{
	size_t i;

	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		struct jg_config *config;
		char *path, *errmsg, *want;
		enum jg_err err;

		err = load_text(bad_cases[i].text, strlen(bad_cases[i].text), &path,
				&config, &errmsg);
		want = jg_xasprintf("%s%s", path, bad_cases[i].error);
		CU_ASSERT_EQUAL(err, JG_ERR_MALFORMED);
		CU_ASSERT_PTR_NULL(config);
		CU_ASSERT_PTR_NOT_NULL(errmsg);
		if (errmsg == NULL || strcmp(errmsg, want) != 0)
			fprintf(stderr, "\nbad case %zu:\n  want %s\n  got  %s\n", i, want,
				errmsg ? errmsg : "(null)");
		if (errmsg)
			CU_ASSERT_STRING_EQUAL(errmsg, want);
		jg_config_free(config);
		free(errmsg);
		free(want);
		unlink(path);
		free(path);
	}
}

static void
test_nul_byte(void)
{
	static const char text[] = BASE "realm = a\0b\n";
	struct jg_config *config;
	char *path, *errmsg, *want;

	CU_ASSERT_EQUAL(load_text(text, sizeof(text) - 1, &path, &config, &errmsg),
			JG_ERR_MALFORMED);
	want = jg_xasprintf("%s:5: NUL byte in line", path);
	CU_ASSERT_STRING_EQUAL(errmsg ? errmsg : "", want);
	free(want);
	free(errmsg);
	unlink(path);
	free(path);
}

static void
test_missing_file(void)
{
	struct jg_config *config = NULL;
	char *errmsg = NULL, *path, *want;

	path = jg_xasprintf("%s/no-such.conf", tmpdir);
	CU_ASSERT_EQUAL(jg_config_load(path, &config, &errmsg), JG_ERR_NOT_FOUND);
	CU_ASSERT_PTR_NULL(config);
	want = jg_xasprintf("%s: cannot open: No such file or directory", path);
	CU_ASSERT_STRING_EQUAL(errmsg ? errmsg : "", want);
	free(want);
	free(errmsg);
	free(path);

	/* A folder is not a configuration file. */
	errmsg = NULL;
	CU_ASSERT_EQUAL(jg_config_load(tmpdir, &config, &errmsg), JG_ERR_SYSTEM);
	want = jg_xasprintf("%s: cannot open: Is a directory", tmpdir);
	CU_ASSERT_STRING_EQUAL(errmsg ? errmsg : "", want);
	free(want);
	free(errmsg);
}

/* The defaults, each checked, from the smallest valid file. */
static void
test_defaults(void)
{
	struct jg_config *c;
	char *path, *errmsg;

	CU_ASSERT_EQUAL_FATAL(load_text(BASE, strlen(BASE), &path, &c, &errmsg), JG_OK);
	CU_ASSERT_STRING_EQUAL(c->file, path);
	CU_ASSERT_STRING_EQUAL(c->issuer, "https://id.example.org");
	CU_ASSERT_TRUE(c->https);
	CU_ASSERT_FALSE(c->allow_insecure_http);
	CU_ASSERT_STRING_EQUAL(c->database, "/var/lib/jwtgate/jwtgate.db");
	CU_ASSERT_STRING_EQUAL(c->key_dir, "/var/lib/jwtgate/keys");
	CU_ASSERT_STRING_EQUAL(c->htdocs, "/var/www/jwtgate");
	CU_ASSERT_STRING_EQUAL(c->templates, "/var/www/jwtgate");
	CU_ASSERT_EQUAL(c->access_token_alg, JG_ALG_ES256);
	CU_ASSERT_EQUAL(c->id_token_alg, JG_ALG_RS256);
	CU_ASSERT_EQUAL(c->access_token_lifetime, 600);
	CU_ASSERT_EQUAL(c->id_token_lifetime, 3600);
	CU_ASSERT_EQUAL(c->code_lifetime, 60);
	CU_ASSERT_EQUAL(c->refresh_idle_lifetime, 1209600);
	CU_ASSERT_EQUAL(c->refresh_absolute_lifetime, 7776000);
	CU_ASSERT_EQUAL(c->session_lifetime, 28800);
	CU_ASSERT_STRING_EQUAL(c->resource_audience, "https://id.example.org");
	CU_ASSERT_EQUAL(c->leeway, 60);
	CU_ASSERT_EQUAL(c->busy_timeout_ms, 5000);
	CU_ASSERT_EQUAL(c->login_max_failures_user, 5);
	CU_ASSERT_EQUAL(c->login_max_failures_ip, 20);
	CU_ASSERT_EQUAL(c->login_failure_window, 900);
	CU_ASSERT_STRING_EQUAL(c->session_cookie, "__Host-jg_session");
	CU_ASSERT_TRUE(c->consent_skip_first_party);
	CU_ASSERT_PTR_NULL(c->bearer_cookie);
	CU_ASSERT_FALSE(c->bearer_form);
	CU_ASSERT_FALSE(c->bearer_query);
	CU_ASSERT_EQUAL(c->ncors_origin, 0);
	CU_ASSERT_PTR_NULL(c->cors_origin);
	CU_ASSERT_EQUAL(c->nrequire_scope, 0);
	CU_ASSERT_TRUE(c->authorizer_login_redirect);
	CU_ASSERT_STRING_EQUAL(c->authorizer_html_accept, "text/html");
	CU_ASSERT_STRING_EQUAL(c->realm, "jwtgate");
	CU_ASSERT_EQUAL(c->revocation_check_interval, 30);
	CU_ASSERT_EQUAL(c->verified_cache_size, 1024);
	CU_ASSERT_EQUAL(c->jwks_refresh_min_interval, 60);
	CU_ASSERT_STRING_EQUAL(c->jwks_cache_dir, "/var/lib/jwtgate/jwks-cache");
	CU_ASSERT_EQUAL(c->nissuers, 0);
	CU_ASSERT_EQUAL(c->log_level, JG_CONFIG_LOG_INFO);
	CU_ASSERT_PTR_NULL(jg_config_scope_rule(c, "/api/me"));
	CU_ASSERT_PTR_NULL(jg_config_find_issuer(c, "https://id.example.org"));
	jg_config_free(c);
	unlink(path);
	free(path);
}

/* Every key set to something other than its default, in all the ways the
 * format allows: comments, blank lines, CRLF, indentation, quotes, "#"
 * inside a value, list keys repeated, and two [issuer] sections. */
static const char all_keys[] =
	"# jwtgate test configuration\n"
	"\n"
	"   # an indented comment\n"
	"issuer = http://127.0.0.1:8080/tenant\r\n"
	"allow_insecure_http = On\n"
	"database=/srv/jg/db.sqlite\n"
	"\tkey_dir   =   /srv/jg/keys   \n"
	"htdocs = \"/srv/jg/my htdocs\"\n"
	"templates = /srv/jg/templates\n"
	"access_token_alg = EdDSA\n"
	"id_token_alg = PS384\n"
	"access_token_lifetime = 300\n"
	"id_token_lifetime = 86400\n"
	"code_lifetime = 30\n"
	"refresh_idle_lifetime = 86400\n"
	"refresh_absolute_lifetime = 31536000\n"
	"session_lifetime = 3600\n"
	"resource_audience = https://api.example.org\n"
	"leeway = 0\n"
	"busy_timeout_ms = 0\n"
	"login_max_failures_user = 3\n"
	"login_max_failures_ip = 100\n"
	"login_failure_window = 60\n"
	"session_cookie = sso\n"
	"consent_skip_first_party = false\n"
	"bearer_cookie = access\n"
	"bearer_form = TRUE\n"
	"bearer_query = 1\n"
	"cors_origin = https://app.example.com http://localhost:3000\n"
	"cors_origin = https://[2001:db8::1]:8443\n"
	"require_scope = /api/admin admin\n"
	"require_scope = /api  read\twrite\n"
	"require_scope = /files/ files:read\n"
	"authorizer_login_redirect = off\n"
	"authorizer_html_accept = application/xhtml+xml\n"
	"realm = \" my #1 realm \"\n"
	"revocation_check_interval = 0\n"
	"verified_cache_size = 0\n"
	"jwks_refresh_min_interval = 300\n"
	"jwks_cache_dir = /var/cache/jwtgate\n"
	"log_level = debug\n"
	"\n"
	"[issuer https://accounts.example.com]\n"
	"audience = my-api\n"
	"algorithms = ES256, PS256 ES256\n"
	"jwks_uri = https://accounts.example.com/keys#frag\n";

static void
test_all_keys(void)
{
	struct jg_config *c;
	char *path, *errmsg = NULL, *text;
	const struct jg_config_issuer *iss;
	const struct jg_config_scope_rule *r;

	/* The fragment in jwks_uri is refused: fix it, then load. */
	CU_ASSERT_EQUAL(load_text(all_keys, strlen(all_keys), &path, &c, &errmsg),
			JG_ERR_MALFORMED);
	text = jg_xasprintf("%s:46: jwks_uri: " MSG_URL, path);
	CU_ASSERT_STRING_EQUAL(errmsg ? errmsg : "", text);
	free(text);
	free(errmsg);
	unlink(path);
	free(path);
	text = jg_xasprintf("%.*s%s", (int)(strlen(all_keys) - strlen("#frag\n")), all_keys,
			    "\n[issuer http://localhost:9000/realms/x]\n"
			    "audience = \"a \\\"b\\\" \\\\ c\\d\"\n");
	CU_ASSERT_EQUAL_FATAL(load_text(text, strlen(text), &path, &c, &errmsg), JG_OK);
	CU_ASSERT_STRING_EQUAL(c->issuer, "http://127.0.0.1:8080/tenant");
	CU_ASSERT_FALSE(c->https);
	CU_ASSERT_TRUE(c->allow_insecure_http);
	CU_ASSERT_STRING_EQUAL(c->database, "/srv/jg/db.sqlite");
	CU_ASSERT_STRING_EQUAL(c->key_dir, "/srv/jg/keys");
	CU_ASSERT_STRING_EQUAL(c->htdocs, "/srv/jg/my htdocs");
	CU_ASSERT_STRING_EQUAL(c->templates, "/srv/jg/templates");
	CU_ASSERT_EQUAL(c->access_token_alg, JG_ALG_EDDSA);
	CU_ASSERT_EQUAL(c->id_token_alg, JG_ALG_PS384);
	CU_ASSERT_EQUAL(c->access_token_lifetime, 300);
	CU_ASSERT_EQUAL(c->id_token_lifetime, 86400);
	CU_ASSERT_EQUAL(c->code_lifetime, 30);
	CU_ASSERT_EQUAL(c->refresh_idle_lifetime, 86400);
	CU_ASSERT_EQUAL(c->refresh_absolute_lifetime, 31536000);
	CU_ASSERT_EQUAL(c->session_lifetime, 3600);
	CU_ASSERT_STRING_EQUAL(c->resource_audience, "https://api.example.org");
	CU_ASSERT_EQUAL(c->leeway, 0);
	CU_ASSERT_EQUAL(c->busy_timeout_ms, 0);
	CU_ASSERT_EQUAL(c->login_max_failures_user, 3);
	CU_ASSERT_EQUAL(c->login_max_failures_ip, 100);
	CU_ASSERT_EQUAL(c->login_failure_window, 60);
	/* Plain http: no __Host- prefix. */
	CU_ASSERT_STRING_EQUAL(c->session_cookie, "sso");
	CU_ASSERT_FALSE(c->consent_skip_first_party);
	CU_ASSERT_STRING_EQUAL(c->bearer_cookie ? c->bearer_cookie : "", "access");
	CU_ASSERT_TRUE(c->bearer_form);
	CU_ASSERT_TRUE(c->bearer_query);
	CU_ASSERT_EQUAL_FATAL(c->ncors_origin, 3);
	CU_ASSERT_STRING_EQUAL(c->cors_origin[0], "https://app.example.com");
	CU_ASSERT_STRING_EQUAL(c->cors_origin[1], "http://localhost:3000");
	CU_ASSERT_STRING_EQUAL(c->cors_origin[2], "https://[2001:db8::1]:8443");
	CU_ASSERT_EQUAL_FATAL(c->nrequire_scope, 3);
	CU_ASSERT_STRING_EQUAL(c->require_scope[1].prefix, "/api");
	CU_ASSERT_EQUAL_FATAL(c->require_scope[1].nscopes, 2);
	CU_ASSERT_STRING_EQUAL(c->require_scope[1].scopes[0], "read");
	CU_ASSERT_STRING_EQUAL(c->require_scope[1].scopes[1], "write");
	CU_ASSERT_EQUAL(c->require_scope[1].line, 32);
	CU_ASSERT_FALSE(c->authorizer_login_redirect);
	CU_ASSERT_STRING_EQUAL(c->authorizer_html_accept, "application/xhtml+xml");
	CU_ASSERT_STRING_EQUAL(c->realm, " my #1 realm ");
	CU_ASSERT_EQUAL(c->revocation_check_interval, 0);
	CU_ASSERT_EQUAL(c->verified_cache_size, 0);
	CU_ASSERT_EQUAL(c->jwks_refresh_min_interval, 300);
	CU_ASSERT_STRING_EQUAL(c->jwks_cache_dir, "/var/cache/jwtgate");
	CU_ASSERT_EQUAL(c->log_level, JG_CONFIG_LOG_DEBUG);

	/* Path rules: the longest prefix, on path-segment boundaries. */
	r = jg_config_scope_rule(c, "/api/admin/users");
	CU_ASSERT_STRING_EQUAL(r ? r->prefix : "", "/api/admin");
	r = jg_config_scope_rule(c, "/api/admin");
	CU_ASSERT_STRING_EQUAL(r ? r->prefix : "", "/api/admin");
	r = jg_config_scope_rule(c, "/api/administrators");
	CU_ASSERT_STRING_EQUAL(r ? r->prefix : "", "/api");
	r = jg_config_scope_rule(c, "/api");
	CU_ASSERT_STRING_EQUAL(r ? r->prefix : "", "/api");
	r = jg_config_scope_rule(c, "/files/a.txt");
	CU_ASSERT_STRING_EQUAL(r ? r->prefix : "", "/files/");
	CU_ASSERT_PTR_NULL(jg_config_scope_rule(c, "/files"));
	CU_ASSERT_PTR_NULL(jg_config_scope_rule(c, "/apix"));
	CU_ASSERT_PTR_NULL(jg_config_scope_rule(c, "/"));

	CU_ASSERT_EQUAL_FATAL(c->nissuers, 2);
	iss = jg_config_find_issuer(c, "https://accounts.example.com");
	CU_ASSERT_PTR_EQUAL_FATAL(iss, &c->issuers[0]);
	CU_ASSERT_STRING_EQUAL(iss->audience, "my-api");
	CU_ASSERT_EQUAL_FATAL(iss->nalgorithms, 2);
	CU_ASSERT_EQUAL(iss->algorithms[0], JG_ALG_ES256);
	CU_ASSERT_EQUAL(iss->algorithms[1], JG_ALG_PS256);
	CU_ASSERT_STRING_EQUAL(iss->jwks_uri ? iss->jwks_uri : "", "https://accounts.example.com/keys");
	CU_ASSERT_EQUAL(iss->line, 43);
	iss = jg_config_find_issuer(c, "http://localhost:9000/realms/x");
	CU_ASSERT_PTR_EQUAL_FATAL(iss, &c->issuers[1]);
	/* \" and \\ are unescaped; any other backslash stays. */
	CU_ASSERT_STRING_EQUAL(iss->audience, "a \"b\" \\ c\\d");
	CU_ASSERT_EQUAL_FATAL(iss->nalgorithms, 1);
	CU_ASSERT_EQUAL(iss->algorithms[0], JG_ALG_RS256);
	CU_ASSERT_PTR_NULL(iss->jwks_uri);
	/* Exact match only. */
	CU_ASSERT_PTR_NULL(jg_config_find_issuer(c, "https://accounts.example.com/"));
	jg_config_free(c);
	unlink(path);
	free(path);
	free(text);
}

/* The http rule: loopback hosts, or anything with allow_insecure_http
 * (which may come after the issuer line). */
static void
test_http_issuers(void)
{
	static const char *const ok[] = {
		"issuer = http://localhost\n",
		"issuer = http://LOCALHOST:8080/x\n",
		"issuer = http://127.0.0.1\n",
		"issuer = http://[::1]:8443\n",
		"issuer = http://id.example.org\nallow_insecure_http = yes\n",
		"allow_insecure_http = yes\nissuer = http://id.example.org\n",
	};
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct jg_config *c;
		char *path, *errmsg = NULL, *text;

		text = jg_xasprintf("%sdatabase = /d/db\nkey_dir = /k\nhtdocs = /h\n", ok[i]);
		CU_ASSERT_EQUAL(load_text(text, strlen(text), &path, &c, &errmsg), JG_OK);
		if (errmsg)
			fprintf(stderr, "\nhttp case %zu: %s\n", i, errmsg);
		if (c) {
			CU_ASSERT_FALSE(c->https);
			CU_ASSERT_STRING_EQUAL(c->session_cookie, "jg_session");
		}
		jg_config_free(c);
		free(errmsg);
		unlink(path);
		free(path);
		free(text);
	}
}

/* Relative paths are taken from the configuration file's folder; an
 * already prefixed cookie name is not prefixed twice. */
static void
test_relative_paths(void)
{
	static const char text[] =
		"issuer = https://id.example.org\n"
		"database = data/jwtgate.db\n"
		"key_dir = ./keys\n"
		"htdocs = ../www\n"
		"session_cookie = __Host-sso\n";
	struct jg_config *c;
	char *path, *errmsg, *want;

	CU_ASSERT_EQUAL_FATAL(load_text(text, strlen(text), &path, &c, &errmsg), JG_OK);
	want = jg_xasprintf("%s/data/jwtgate.db", tmpdir);
	CU_ASSERT_STRING_EQUAL(c->database, want);
	free(want);
	want = jg_xasprintf("%s/./keys", tmpdir);
	CU_ASSERT_STRING_EQUAL(c->key_dir, want);
	free(want);
	want = jg_xasprintf("%s/../www", tmpdir);
	CU_ASSERT_STRING_EQUAL(c->htdocs, want);
	CU_ASSERT_STRING_EQUAL(c->templates, want);
	free(want);
	want = jg_xasprintf("%s/data/jwks-cache", tmpdir);
	CU_ASSERT_STRING_EQUAL(c->jwks_cache_dir, want);
	free(want);
	CU_ASSERT_STRING_EQUAL(c->session_cookie, "__Host-sso");
	jg_config_free(c);
	unlink(path);
	free(path);
}

static void
test_path_env(void)
{
	setenv("JWTGATE_CONF", "/srv/x/jwtgate.conf", 1);
	CU_ASSERT_STRING_EQUAL(jg_config_path(), "/srv/x/jwtgate.conf");
	setenv("JWTGATE_CONF", "", 1);
	CU_ASSERT_STRING_EQUAL(jg_config_path(), SYSCONFDIR "/jwtgate.conf");
	unsetenv("JWTGATE_CONF");
	CU_ASSERT_STRING_EQUAL(jg_config_path(), SYSCONFDIR "/jwtgate.conf");
}

/* Returns what f wrote to a memory stream (caller frees). */
static char *
reference_text(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		abort();
	jg_config_write_reference(f);
	fclose(f);
	return buf;
}

/* Uncomments the lines of the template that are settings: "#key = ..." and
 * "#[issuer ...]". */
static char *
uncomment_settings(const char *text)
{
	char *out = jg_xmalloc(strlen(text) + 1), *w = out;
	const char *s = text;

	while (*s) {
		const char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) + 1 : strlen(s);
		size_t key = strspn(s + 1, "abcdefghijklmnopqrstuvwxyz_");

		if (s[0] == '#' && ((key > 0 && strncmp(s + 1 + key, " =", 2) == 0) ||
				    strncmp(s, "#[issuer ", 9) == 0)) {
			s++;
			n--;
		}
		memcpy(w, s, n);
		w += n;
		s += n;
	}
	*w = '\0';
	return out;
}

static void
test_template(void)
{
	char *buf = NULL, *path, *errmsg = NULL, *want, *text;
	size_t len = 0;
	struct jg_config *c;
	FILE *f;

	f = open_memstream(&buf, &len);
	CU_ASSERT_EQUAL(jg_config_write_template(f, "https://id.example.org", tmpdir), JG_OK);
	fclose(f);
	CU_ASSERT_EQUAL_FATAL(load_text(buf, len, &path, &c, &errmsg), JG_OK);
	CU_ASSERT_STRING_EQUAL(c->issuer, "https://id.example.org");
	want = jg_xasprintf("%s/jwtgate.db", tmpdir);
	CU_ASSERT_STRING_EQUAL(c->database, want);
	free(want);
	want = jg_xasprintf("%s/keys", tmpdir);
	CU_ASSERT_STRING_EQUAL(c->key_dir, want);
	free(want);
	want = jg_xasprintf("%s/htdocs", tmpdir);
	CU_ASSERT_STRING_EQUAL(c->htdocs, want);
	free(want);
	CU_ASSERT_EQUAL(c->access_token_lifetime, 600);
	CU_ASSERT_EQUAL(c->nissuers, 0);
	jg_config_free(c);
	unlink(path);
	free(path);

	/* Every commented setting is the default, or a valid example. */
	text = uncomment_settings(buf);
	CU_ASSERT_EQUAL(load_text(text, strlen(text), &path, &c, &errmsg), JG_OK);
	if (errmsg)
		fprintf(stderr, "\nuncommented template: %s\n", errmsg);
	if (c) {
		CU_ASSERT_EQUAL(c->access_token_alg, JG_ALG_ES256);
		CU_ASSERT_EQUAL(c->refresh_absolute_lifetime, 7776000);
		CU_ASSERT_EQUAL(c->verified_cache_size, 1024);
		CU_ASSERT_PTR_NULL(c->bearer_cookie);
		CU_ASSERT_EQUAL(c->ncors_origin, 1);
		CU_ASSERT_EQUAL(c->nrequire_scope, 1);
		CU_ASSERT_EQUAL(c->nissuers, 1);
		CU_ASSERT_STRING_EQUAL(c->session_cookie, "__Host-jg_session");
		CU_ASSERT_STRING_EQUAL(c->resource_audience, "https://id.example.org");
		want = jg_xasprintf("%s/htdocs", tmpdir);
		CU_ASSERT_STRING_EQUAL(c->templates, want);
		free(want);
		want = jg_xasprintf("%s/jwks-cache", tmpdir);
		CU_ASSERT_STRING_EQUAL(c->jwks_cache_dir, want);
		free(want);
	}
	jg_config_free(c);
	free(errmsg);
	unlink(path);
	free(path);
	free(text);
	free(buf);

	/* A dir with spaces is quoted where needed and read back. */
	buf = NULL;
	f = open_memstream(&buf, &len);
	CU_ASSERT_EQUAL(jg_config_write_template(f, "http://127.0.0.1:8080", "/srv/my dir "), JG_OK);
	fclose(f);
	CU_ASSERT_EQUAL_FATAL(load_text(buf, len, &path, &c, &errmsg), JG_OK);
	CU_ASSERT_STRING_EQUAL(c->database, "/srv/my dir /jwtgate.db");
	CU_ASSERT_FALSE(c->https);
	jg_config_free(c);
	unlink(path);
	free(path);
	free(buf);

	/* Refused: relative dir, http on a public host, bad URL, newline. */
	buf = NULL;
	f = open_memstream(&buf, &len);
	CU_ASSERT_EQUAL(jg_config_write_template(f, "https://id.example.org", "srv"), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_config_write_template(f, "http://id.example.org", "/srv"), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_config_write_template(f, "https://id.example.org?a", "/srv"), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_config_write_template(f, "https://id.example.org", "/srv\n"), JG_ERR_MALFORMED);
	fclose(f);
	CU_ASSERT_EQUAL(len, 0);
	free(buf);
}

/* The README documents every key with its default: its "Configuration
 * reference" section holds exactly what jg_config_write_reference writes,
 * and each key appears there as `key`. */
static void
test_readme(void)
{
	static const char *const keys[] = {
		"issuer", "allow_insecure_http", "database", "key_dir", "htdocs",
		"templates", "access_token_alg", "id_token_alg",
		"access_token_lifetime", "id_token_lifetime", "code_lifetime",
		"refresh_idle_lifetime", "refresh_absolute_lifetime",
		"session_lifetime", "resource_audience", "leeway",
		"busy_timeout_ms", "login_max_failures_user",
		"login_max_failures_ip", "login_failure_window", "session_cookie",
		"consent_skip_first_party", "bearer_cookie", "bearer_form",
		"bearer_query", "cors_origin", "require_scope",
		"authorizer_login_redirect", "authorizer_html_accept", "realm",
		"revocation_check_interval", "verified_cache_size",
		"jwks_refresh_min_interval", "jwks_cache_dir", "log_level",
		"audience", "algorithms", "jwks_uri", "JWTGATE_CONF",
	};
	char *readme_path, *readme, *section, *end, *ref, *needle;
	size_t i;

	readme_path = jg_xasprintf("%s/README.md", jg_test_srcdir());
	readme = jg_test_slurp(readme_path, NULL);
	section = strstr(readme, "\n## Configuration reference\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(section);
	end = strstr(section + 1, "\n## ");
	if (end)
		*end = '\0';
	ref = reference_text();
	if (strstr(section, ref) == NULL)
		fprintf(stderr, "\nREADME.md's configuration reference must hold exactly:\n%s\n", ref);
	CU_ASSERT_PTR_NOT_NULL(strstr(section, ref));
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		needle = jg_xasprintf("`%s`", keys[i]);
		if (strstr(section, needle) == NULL)
			fprintf(stderr, "\nREADME.md does not document %s\n", needle);
		CU_ASSERT_PTR_NOT_NULL(strstr(section, needle));
		/* The reference is made from the table: the table has it. */
		if (strcmp(keys[i], "JWTGATE_CONF") != 0)
			CU_ASSERT_PTR_NOT_NULL(strstr(ref, needle));
		free(needle);
	}
	/* The README's example file loads. */
	{
		char *example = strstr(section, "```ini\n"), *stop, *path, *errmsg = NULL;
		struct jg_config *c;

		CU_ASSERT_PTR_NOT_NULL_FATAL(example);
		example += strlen("```ini\n");
		stop = strstr(example, "```\n");
		CU_ASSERT_PTR_NOT_NULL_FATAL(stop);
		CU_ASSERT_EQUAL(load_text(example, (size_t)(stop - example), &path, &c,
					  &errmsg), JG_OK);
		if (errmsg)
			fprintf(stderr, "\nREADME example: %s\n", errmsg);
		if (c) {
			CU_ASSERT_STRING_EQUAL(c->realm, "Example API");
			CU_ASSERT_EQUAL(c->ncors_origin, 2);
			CU_ASSERT_EQUAL(c->nrequire_scope, 2);
			CU_ASSERT_EQUAL(c->nissuers, 1);
		}
		jg_config_free(c);
		free(errmsg);
		unlink(path);
		free(path);
	}
	/* Every row of the reference is one of the keys above: count rows. */
	{
		size_t rows = 0;
		const char *s;

		for (s = ref; (s = strstr(s, "\n| `")) != NULL; s++)
			rows++;
		CU_ASSERT_EQUAL(rows, sizeof(keys) / sizeof(keys[0]) - 1);
	}
	free(ref);
	free(readme);
	free(readme_path);
}

static void
cleanup_tmpdir(void)
{
	char *path = jg_xasprintf("%s/jwtgate.conf", tmpdir);

	unlink(path);
	free(path);
	if (rmdir(tmpdir) != 0 && errno != ENOENT)
		perror(tmpdir);
}

static const struct jg_test tests[] = {
	{ "every bad value class, exact message", test_bad_values },
	{ "NUL byte", test_nul_byte },
	{ "missing file and folder", test_missing_file },
	{ "defaults", test_defaults },
	{ "every key, lists, quotes, comments, sections", test_all_keys },
	{ "http issuers", test_http_issuers },
	{ "relative paths", test_relative_paths },
	{ "JWTGATE_CONF", test_path_env },
	{ "template round trip", test_template },
	{ "README documents every key", test_readme },
	{ NULL, NULL }
};

int
main(void)
{
	int status;

	make_tmpdir();
	status = jg_test_main("config", tests);
	cleanup_tmpdir();
	return status;
}
