/* conf.c: the configuration file: one table of keys drives the loader, the
 * README reference and the template of `jwtgate init`. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conf.h"
#include "jwk.h"
#include "util.h"

#ifndef SYSCONFDIR
#error "SYSCONFDIR must be defined by the build (see Makefile.am)"
#endif

/* How a value is read. */
enum kind {
	K_URL,		/* absolute http(s) URL without user, query, fragment */
	K_PATH,		/* a path; relative ones from the file's folder */
	K_SECONDS,	/* whole seconds between min and max, int64_t */
	K_COUNT,	/* whole number between min and max, unsigned */
	K_BOOL,		/* yes/no, true/false, on/off, 1/0 */
	K_SIGN_ALG,	/* one asymmetric JWS algorithm */
	K_ALG_LIST,	/* asymmetric JWS algorithms (an [issuer] section's) */
	K_TEXT,		/* printable text, such as an audience */
	K_COOKIE_NAME,	/* an RFC 6265 cookie name */
	K_MEDIA_TYPE,	/* type/subtype */
	K_REALM,	/* printable ASCII fit for a quoted-string */
	K_ORIGIN_LIST,	/* browser origins, appended to a list */
	K_SCOPE_RULE,	/* "PREFIX SCOPE...", appended to a list */
	K_LOG_LEVEL
};

#define F_REQUIRED   0x1u	/* must be given */
#define F_LIST       0x2u	/* may repeat; each line adds to the list */
#define F_EMPTY_NULL 0x4u	/* an empty value leaves the field NULL (off) */
#define F_DERIVED    0x8u	/* the default comes from other keys */

struct key {
	const char *name;
	enum kind kind;
	size_t offset;		/* of the field */
	size_t count_offset;	/* lists: of the size_t count */
	int64_t min, max;	/* numbers */
	unsigned flags;
	const char *fallback;	/* the default as written in the file, or NULL */
	const char *default_doc;	/* the default as the README says it,
					 * when fallback cannot */
	const char *example;	/* for the template, when there is no fallback */
	const char *doc;	/* one sentence for the README and template */
};

#define G(f) offsetof(struct jg_config, f)
#define S(f) offsetof(struct jg_config_issuer, f)

/* Every global key, in the order of the README and the template.  Docs are
 * Markdown table cells: no "|". */
static const struct key global_keys[] = {
	/* issuer first: finish() finds its line at seen[0]. */
	{ .name = "issuer", .kind = K_URL, .offset = G(issuer), .flags = F_REQUIRED,
	  .doc = "This server's issuer identifier, the `iss` of its tokens and the "
		 "base of its discovery document: an absolute `https` URL without "
		 "query or fragment (`http` only for `localhost`, `127.0.0.1` and "
		 "`[::1]`, or with `allow_insecure_http`)." },
	{ .name = "allow_insecure_http", .kind = K_BOOL, .offset = G(allow_insecure_http),
	  .fallback = "no",
	  .doc = "Allow `http` issuer and JWKS URLs on hosts other than loopback. "
		 "For tests only: tokens and passwords then cross the network in "
		 "clear text." },
	{ .name = "database", .kind = K_PATH, .offset = G(database), .flags = F_REQUIRED,
	  .doc = "The SQLite database. Its folder must be writable by the FastCGI "
		 "programs, for SQLite's journal." },
	{ .name = "key_dir", .kind = K_PATH, .offset = G(key_dir), .flags = F_REQUIRED,
	  .doc = "Folder of the signing keys (PEM files, mode 0600)." },
	{ .name = "htdocs", .kind = K_PATH, .offset = G(htdocs), .flags = F_REQUIRED,
	  .doc = "The document root the web server serves; `jwtgate` writes "
		 "`.well-known/openid-configuration` and `.well-known/jwks.json` "
		 "there." },
	{ .name = "templates", .kind = K_PATH, .offset = G(templates), .flags = F_DERIVED,
	  .default_doc = "the `htdocs` folder",
	  .doc = "Folder of the page templates `login.html`, `consent.html`, "
		 "`error.html`, `logout.html` and `signed-out.html`." },
	{ .name = "access_token_alg", .kind = K_SIGN_ALG, .offset = G(access_token_alg),
	  .fallback = "ES256",
	  .doc = "Signature algorithm of access tokens: `RS256`, `RS384`, `RS512`, "
		 "`PS256`, `PS384`, `PS512`, `ES256`, `ES384`, `ES512` or `EdDSA`." },
	{ .name = "id_token_alg", .kind = K_SIGN_ALG, .offset = G(id_token_alg),
	  .fallback = "RS256",
	  .doc = "Signature algorithm of ID tokens (OpenID Connect requires every "
		 "client to support `RS256`)." },
	{ .name = "access_token_lifetime", .kind = K_SECONDS, .offset = G(access_token_lifetime),
	  .min = 1, .max = 86400, .fallback = "600",
	  .doc = "Seconds an access token is valid (1 to 86400); a client may have "
		 "its own." },
	{ .name = "id_token_lifetime", .kind = K_SECONDS, .offset = G(id_token_lifetime),
	  .min = 1, .max = 86400, .fallback = "3600",
	  .doc = "Seconds an ID token is valid (1 to 86400)." },
	{ .name = "code_lifetime", .kind = K_SECONDS, .offset = G(code_lifetime),
	  .min = 1, .max = 600, .fallback = "60",
	  .doc = "Seconds an authorization code may wait to be redeemed (1 to 600)." },
	{ .name = "refresh_idle_lifetime", .kind = K_SECONDS, .offset = G(refresh_idle_lifetime),
	  .min = 60, .max = 31536000, .fallback = "1209600",
	  .doc = "Seconds a refresh token may go unused before it expires (60 to "
		 "31536000; the default is 14 days)." },
	{ .name = "refresh_absolute_lifetime", .kind = K_SECONDS,
	  .offset = G(refresh_absolute_lifetime),
	  .min = 60, .max = 31536000, .fallback = "7776000",
	  .doc = "Seconds after the login at which a refresh-token family expires "
		 "however it is used (60 to 31536000; the default is 90 days)." },
	{ .name = "session_lifetime", .kind = K_SECONDS, .offset = G(session_lifetime),
	  .min = 60, .max = 31536000, .fallback = "28800",
	  .doc = "Seconds a login (the single sign-on session) lasts (60 to "
		 "31536000; the default is 8 hours)." },
	{ .name = "resource_audience", .kind = K_TEXT, .offset = G(resource_audience),
	  .flags = F_DERIVED, .default_doc = "the `issuer`",
	  .doc = "The `aud` of access tokens: the identifier of the resources "
		 "they are for." },
	{ .name = "leeway", .kind = K_SECONDS, .offset = G(leeway),
	  .min = 0, .max = 300, .fallback = "60",
	  .doc = "Seconds of clock difference allowed when checking `exp`, `nbf` "
		 "and `iat` (0 to 300)." },
	{ .name = "busy_timeout_ms", .kind = K_COUNT, .offset = G(busy_timeout_ms),
	  .min = 0, .max = 600000, .fallback = "5000",
	  .doc = "Milliseconds to wait for a locked database before answering 503 "
		 "(0 to 600000)." },
	{ .name = "login_max_failures_user", .kind = K_COUNT,
	  .offset = G(login_max_failures_user),
	  .min = 1, .max = 1000000, .fallback = "5",
	  .doc = "Failed logins for one user name within `login_failure_window` "
		 "after which further attempts answer 429 (1 to 1000000)." },
	{ .name = "login_max_failures_ip", .kind = K_COUNT, .offset = G(login_max_failures_ip),
	  .min = 1, .max = 1000000, .fallback = "20",
	  .doc = "Failed logins from one client address within "
		 "`login_failure_window` after which further attempts answer 429 "
		 "(1 to 1000000)." },
	{ .name = "login_failure_window", .kind = K_SECONDS, .offset = G(login_failure_window),
	  .min = 1, .max = 86400, .fallback = "900",
	  .doc = "Seconds over which failed logins are counted (1 to 86400)." },
	{ .name = "session_cookie", .kind = K_COOKIE_NAME, .offset = G(session_cookie),
	  .fallback = "jg_session",
	  .doc = "Name of the single sign-on session cookie. When the issuer is "
		 "`https` the `__Host-` prefix is added, so `jg_session` is sent "
		 "as `__Host-jg_session`." },
	{ .name = "consent_skip_first_party", .kind = K_BOOL,
	  .offset = G(consent_skip_first_party), .fallback = "yes",
	  .doc = "Skip the consent page for clients registered as first-party." },
	{ .name = "bearer_cookie", .kind = K_COOKIE_NAME, .offset = G(bearer_cookie),
	  .flags = F_EMPTY_NULL, .fallback = "", .default_doc = "empty (off)",
	  .doc = "Name of a cookie the gate also takes an access token from, for "
		 "browser applications; empty: never from a cookie." },
	{ .name = "bearer_form", .kind = K_BOOL, .offset = G(bearer_form), .fallback = "no",
	  .doc = "Also take the access token from the `access_token` field of a "
		 "form POST (RFC 6750 section 2.2)." },
	{ .name = "bearer_query", .kind = K_BOOL, .offset = G(bearer_query), .fallback = "no",
	  .doc = "Also take the access token from the `access_token` query "
		 "parameter (RFC 6750 section 2.3); it then shows in server logs." },
	{ .name = "cors_origin", .kind = K_ORIGIN_LIST, .offset = G(cors_origin),
	  .count_offset = G(ncors_origin), .flags = F_LIST, .default_doc = "none",
	  .example = "https://app.example.com",
	  .doc = "Origins allowed to call the APIs from a browser, such as "
		 "`https://app.example.com`: several per line, and the key may "
		 "repeat. No wildcard." },
	{ .name = "require_scope", .kind = K_SCOPE_RULE, .offset = G(require_scope),
	  .count_offset = G(nrequire_scope), .flags = F_LIST, .default_doc = "none",
	  .example = "/api/admin admin",
	  .doc = "A path prefix and the scopes a token needs for the paths under "
		 "it, such as `/api/admin admin`; the longest matching prefix "
		 "applies; the key may repeat." },
	{ .name = "authorizer_login_redirect", .kind = K_BOOL,
	  .offset = G(authorizer_login_redirect), .fallback = "yes",
	  .doc = "In the authorizer role, send a browser navigation without a "
		 "token to the login (302) instead of answering 401." },
	{ .name = "authorizer_html_accept", .kind = K_MEDIA_TYPE,
	  .offset = G(authorizer_html_accept), .fallback = "text/html",
	  .doc = "The media type in `Accept` that marks a request as a browser "
		 "navigation, for `authorizer_login_redirect`." },
	{ .name = "realm", .kind = K_REALM, .offset = G(realm), .fallback = "jwtgate",
	  .doc = "The realm of `WWW-Authenticate: Bearer` answers." },
	{ .name = "revocation_check_interval", .kind = K_SECONDS,
	  .offset = G(revocation_check_interval),
	  .min = 0, .max = 3600, .fallback = "30",
	  .doc = "Seconds a token verified once is trusted from the cache before "
		 "its `jti` is checked against the revocation list again (0 to "
		 "3600; 0 checks on every request)." },
	{ .name = "verified_cache_size", .kind = K_COUNT, .offset = G(verified_cache_size),
	  .min = 0, .max = 1000000, .fallback = "1024",
	  .doc = "Verified tokens each gate process remembers, to skip repeated "
		 "signature checks (0 to 1000000; 0 turns the cache off)." },
	{ .name = "jwks_refresh_min_interval", .kind = K_SECONDS,
	  .offset = G(jwks_refresh_min_interval),
	  .min = 1, .max = 86400, .fallback = "60",
	  .doc = "Least seconds between two fetches of an external issuer's JWKS "
		 "caused by an unknown `kid` (1 to 86400)." },
	{ .name = "jwks_cache_dir", .kind = K_PATH, .offset = G(jwks_cache_dir),
	  .flags = F_DERIVED, .default_doc = "`jwks-cache` in the folder of `database`",
	  .doc = "Folder where the external issuers' discovery documents and JWKS "
		 "are cached for all processes; it must be writable by them." },
	{ .name = "log_level", .kind = K_LOG_LEVEL, .offset = G(log_level), .fallback = "info",
	  .doc = "The least severe messages written to the log: `error`, `warn`, "
		 "`info` or `debug`." },
};
#define NGLOBAL (sizeof(global_keys) / sizeof(global_keys[0]))

/* The keys of an [issuer URL] section. */
static const struct key section_keys[] = {
	{ .name = "audience", .kind = K_TEXT, .offset = S(audience), .flags = F_REQUIRED,
	  .example = "https://api.example.org",
	  .doc = "The `aud` the issuer's access tokens must carry to be accepted "
		 "here." },
	{ .name = "algorithms", .kind = K_ALG_LIST, .offset = S(algorithms),
	  .count_offset = S(nalgorithms), .fallback = "RS256",
	  .doc = "Signature algorithms accepted from the issuer, separated by "
		 "spaces or commas; HMAC algorithms are refused." },
	{ .name = "jwks_uri", .kind = K_URL, .offset = S(jwks_uri),
	  .default_doc = "from discovery", .example = "https://accounts.example.com/jwks.json",
	  .doc = "URL of the issuer's JWKS, when it should not be taken from the "
		 "issuer's `/.well-known/openid-configuration`." },
};
#define NSECTION (sizeof(section_keys) / sizeof(section_keys[0]))

static const char *const log_levels[] = {
	[JG_CONFIG_LOG_ERROR] = "error",
	[JG_CONFIG_LOG_WARN] = "warn",
	[JG_CONFIG_LOG_INFO] = "info",
	[JG_CONFIG_LOG_DEBUG] = "debug",
};

#define MSG_URL "expected an absolute http or https URL without user name, query or fragment"
#define MSG_HTTP "http is only allowed for localhost, 127.0.0.1 and [::1]; " \
	"use https or set allow_insecure_http = yes"
#define MSG_ALGS "RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA"

/* The state of one load. */
struct parser {
	const char *file;
	char *base_dir;			/* absolute folder of file */
	struct jg_config *config;
	unsigned line;
	unsigned seen[NGLOBAL];		/* line each key was first set on */
	unsigned section_seen[NSECTION];
	bool in_section;		/* the last issuer is open */
	char *error;			/* the first error */
	char why[256];			/* room for a formatted reason */
};

/* ---------------------------------------------------------------- errors */

static void
fail_at(struct parser *p, unsigned line, const char *key, const char *why)
{
	if (p->error)
		return;
	if (line && key)
		p->error = jg_xasprintf("%s:%u: %s: %s", p->file, line, key, why);
	else if (line)
		p->error = jg_xasprintf("%s:%u: %s", p->file, line, why);
	else
		p->error = jg_xasprintf("%s: %s", p->file, why);
}

static void
fail(struct parser *p, const char *key, const char *why)
{
	fail_at(p, p->line, key, why);
}

/* ---------------------------------------------------------------- values */

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool
is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* RFC 7230 tchar: what a cookie name or media type may hold. */
static bool
is_tchar(char c)
{
	return is_alnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool
has_control(const char *s)
{
	for (; *s; s++)
		if (is_control((unsigned char)*s))
			return true;
	return false;
}

/* Reads a port of 1 to 65535 at s, ending at end. */
static bool
port_valid(const char *s, const char *end)
{
	long port = 0;

	if (s == end || end - s > 5)
		return false;
	for (; s < end; s++) {
		if (!is_digit(*s))
			return false;
		port = port * 10 + (*s - '0');
	}
	return port >= 1 && port <= 65535;
}

/* Checks the authority "host[:port]" of len bytes at s.  The host is a
 * bracketed IPv6 literal or a name of letters, digits, ".", "-", "_" and
 * "~"; with lower_only, letters must be lowercase.  *hostlen gets the
 * length of the host (brackets included). */
static bool
authority_valid(const char *s, size_t len, bool lower_only, size_t *hostlen)
{
	const char *end = s + len, *p = s;

	if (len == 0)
		return false;
	if (*p == '[') {
		for (p++; p < end && *p != ']'; p++)
			if (!is_hex(*p) && *p != ':' && *p != '.')
				return false;
		if (p == end || p == s + 1)
			return false;
		p++;
	} else {
		for (; p < end && *p != ':'; p++) {
			if (lower_only && *p >= 'A' && *p <= 'Z')
				return false;
			if (!is_alnum(*p) && *p != '.' && *p != '-' && *p != '_' && *p != '~')
				return false;
		}
		if (p == s)
			return false;
	}
	*hostlen = (size_t)(p - s);
	if (p == end)
		return true;
	return *p == ':' && port_valid(p + 1, end);
}

/* Checks an absolute http or https URL without user name, query or fragment.
 * *http tells whether it is plain http, *loopback whether its host is
 * localhost, 127.0.0.1 or [::1]. */
static bool
url_valid(const char *url, bool *http, bool *loopback)
{
	const char *p, *auth;
	size_t hostlen;

	if (strncmp(url, "https://", 8) == 0) {
		*http = false;
		auth = url + 8;
	} else if (strncmp(url, "http://", 7) == 0) {
		*http = true;
		auth = url + 7;
	} else
		return false;
	p = auth + strcspn(auth, "/");
	if (!authority_valid(auth, (size_t)(p - auth), false, &hostlen))
		return false;
	*loopback = (hostlen == 9 && strncasecmp(auth, "localhost", 9) == 0) ||
	    (hostlen == 9 && strncmp(auth, "127.0.0.1", 9) == 0) ||
	    (hostlen == 5 && strncmp(auth, "[::1]", 5) == 0);
	/* The path: unreserved, sub-delims, ":", "@", "/" and %XX. */
	for (; *p; p++) {
		if (*p == '%') {
			if (!is_hex(p[1]) || !is_hex(p[2]))
				return false;
			p += 2;
		} else if (!is_alnum(*p) && strchr("-._~!$&'()*+,;=:@/", *p) == NULL)
			return false;
	}
	return true;
}

/* Checks a browser origin: scheme, lowercase host, optional port. */
static bool
origin_valid(const char *s)
{
	size_t hostlen;

	if (strncmp(s, "https://", 8) == 0)
		s += 8;
	else if (strncmp(s, "http://", 7) == 0)
		s += 7;
	else
		return false;
	return strchr(s, '/') == NULL && authority_valid(s, strlen(s), true, &hostlen);
}

/* RFC 6749 section 3.3 scope-token characters. */
static bool
scope_token_valid(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x21 || *s == '"' || *s == '\\' ||
		    (unsigned char)*s > 0x7e)
			return false;
	return true;
}

static bool
number_valid(const char *s, int64_t min, int64_t max, int64_t *out)
{
	int64_t n = 0;
	size_t i;

	if (*s == '\0')
		return false;
	for (i = 0; s[i]; i++) {
		if (!is_digit(s[i]) || i >= 18)
			return false;
		n = n * 10 + (s[i] - '0');
	}
	if (n < min || n > max)
		return false;
	*out = n;
	return true;
}

static bool
bool_value(const char *s, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

/* An algorithm jwtgate may sign with or accept from a remote JWKS: any but
 * HMAC, whose secret would have to be shared. */
static enum jg_alg
asymmetric_alg(const char *name)
{
	enum jg_alg alg = jg_alg_from_name(name);

	if (alg == JG_ALG_HS256 || alg == JG_ALG_HS384 || alg == JG_ALG_HS512)
		return JG_ALG_UNKNOWN;
	return alg;
}

/* Returns path made absolute against the file's folder (new). */
static char *
resolve_path(const struct parser *p, const char *path)
{
	if (path[0] == '/')
		return jg_xstrdup(path);
	return jg_xasprintf("%s/%s", strcmp(p->base_dir, "/") == 0 ? "" : p->base_dir,
			    path);
}

/* Appends a new string to the list at field (a char **) with its count. */
static void
list_append(void *field, size_t *count, const char *s, size_t len)
{
	char ***list = field;

	*list = jg_xrealloc(*list, (*count + 1) * sizeof(**list));
	(*list)[*count] = jg_xstrndup(s, len);
	(*count)++;
}

static const char *
set_origins(void *field, size_t *count, const char *value)
{
	const char *s = value;
	size_t n;
	char *origin;
	bool ok;

	if (*s == '\0')
		goto bad;
	while (*s) {
		n = strcspn(s, " \t");
		origin = jg_xstrndup(s, n);
		ok = origin_valid(origin);
		free(origin);
		if (!ok)
			goto bad;
		list_append(field, count, s, n);
		s += n;
		while (is_blank(*s))
			s++;
	}
	return NULL;
bad:
	return "expected origins such as https://app.example.com "
	    "(scheme, lowercase host and optional port, nothing else)";
}

static const char *
set_scope_rule(struct parser *p, void *field, size_t *count, const char *value)
{
	struct jg_config_scope_rule **rules = field, rule;
	const char *s = value;
	size_t n, i;

	memset(&rule, 0, sizeof(rule));
	n = strcspn(s, " \t");
	if (s[0] != '/' || s[n] == '\0')
		return "expected a path prefix starting with / and one or more scopes";
	rule.prefix = jg_xstrndup(s, n);
	for (i = 0; i < *count; i++)
		if (strcmp((*rules)[i].prefix, rule.prefix) == 0) {
			snprintf(p->why, sizeof(p->why),
				 "path prefix %s already has a rule on line %u",
				 rule.prefix, (*rules)[i].line);
			free(rule.prefix);
			return p->why;
		}
	for (s += n; *s; s += n) {
		char *scope;
		bool ok;

		while (is_blank(*s))
			s++;
		n = strcspn(s, " \t");
		scope = jg_xstrndup(s, n);
		ok = scope_token_valid(scope);
		free(scope);
		if (!ok) {
			for (i = 0; i < rule.nscopes; i++)
				free(rule.scopes[i]);
			free(rule.scopes);
			free(rule.prefix);
			return "expected a path prefix starting with / and one or more scopes";
		}
		list_append(&rule.scopes, &rule.nscopes, s, n);
	}
	rule.line = p->line;
	*rules = jg_xrealloc(*rules, (*count + 1) * sizeof(**rules));
	(*rules)[*count] = rule;
	(*count)++;
	return NULL;
}

static const char *
set_algorithms(void *field, size_t *count, const char *value)
{
	enum jg_alg *algs = field, alg;
	const char *s = value;
	size_t n, i;
	char *name;

	*count = 0;
	for (;;) {
		while (is_blank(*s) || *s == ',')
			s++;
		if (*s == '\0')
			break;
		n = strcspn(s, " \t,");
		name = jg_xstrndup(s, n);
		alg = asymmetric_alg(name);
		free(name);
		if (alg == JG_ALG_UNKNOWN)
			goto bad;
		for (i = 0; i < *count && algs[i] != alg; i++)
			;
		if (i == *count && *count < JG_ALG_COUNT)
			algs[(*count)++] = alg;
		s += n;
	}
	if (*count > 0)
		return NULL;
bad:
	*count = 0;
	return "expected one or more of " MSG_ALGS;
}

/* Reads value for key k into the struct at base.  Returns NULL, or the
 * reason the value is refused (static or in p->why). */
static const char *
set_value(struct parser *p, const struct key *k, void *base, const char *value)
{
	void *field = (char *)base + k->offset;
	size_t *count = (size_t *)(void *)((char *)base + k->count_offset);
	int64_t n;
	bool b, http, loopback;
	size_t i, len = strlen(value);
	enum jg_alg alg;

	if (has_control(value) && k->kind != K_ORIGIN_LIST &&
	    k->kind != K_SCOPE_RULE && k->kind != K_ALG_LIST)
		return "control character in value";
	if (len == 0 && (k->flags & F_EMPTY_NULL))
		return NULL;
	switch (k->kind) {
	case K_URL:
		if (!url_valid(value, &http, &loopback))
			return MSG_URL;
		/* Sections come after the global keys, so allow_insecure_http
		 * is known here; the global issuer is checked in finish(). */
		if (p->in_section && http && !loopback && !p->config->allow_insecure_http)
			return MSG_HTTP;
		*(char **)field = jg_xstrdup(value);
		return NULL;
	case K_PATH:
		if (len == 0)
			return "expected a path";
		*(char **)field = resolve_path(p, value);
		return NULL;
	case K_SECONDS:
		if (!number_valid(value, k->min, k->max, &n)) {
			snprintf(p->why, sizeof(p->why),
				 "expected a whole number of seconds between %lld and %lld",
				 (long long)k->min, (long long)k->max);
			return p->why;
		}
		*(int64_t *)field = n;
		return NULL;
	case K_COUNT:
		if (!number_valid(value, k->min, k->max, &n)) {
			snprintf(p->why, sizeof(p->why),
				 "expected a whole number between %lld and %lld",
				 (long long)k->min, (long long)k->max);
			return p->why;
		}
		*(unsigned *)field = (unsigned)n;
		return NULL;
	case K_BOOL:
		if (!bool_value(value, &b))
			return "expected yes or no";
		*(bool *)field = b;
		return NULL;
	case K_SIGN_ALG:
		alg = asymmetric_alg(value);
		if (alg == JG_ALG_UNKNOWN)
			return "expected one of " MSG_ALGS;
		*(enum jg_alg *)field = alg;
		return NULL;
	case K_ALG_LIST:
		return set_algorithms(field, count, value);
	case K_TEXT:
		if (len == 0 || len > 1024)
			return "expected text of 1 to 1024 characters";
		*(char **)field = jg_xstrdup(value);
		return NULL;
	case K_COOKIE_NAME:
		for (i = 0; i < len && is_tchar(value[i]); i++)
			;
		if (len == 0 || len > 64 || i < len)
			return "expected a cookie name of letters, digits and !#$%&'*+-.^_`|~";
		*(char **)field = jg_xstrdup(value);
		return NULL;
	case K_MEDIA_TYPE:
		for (i = 0; i < len && is_tchar(value[i]); i++)
			;
		if (i == 0 || i + 1 >= len || value[i] != '/')
			return "expected a media type such as text/html";
		for (i++; i < len && is_tchar(value[i]); i++)
			;
		if (i < len)
			return "expected a media type such as text/html";
		*(char **)field = jg_xstrdup(value);
		return NULL;
	case K_REALM:
		for (i = 0; i < len; i++)
			if ((unsigned char)value[i] < 0x20 || (unsigned char)value[i] > 0x7e ||
			    value[i] == '"' || value[i] == '\\')
				break;
		if (len == 0 || len > 128 || i < len)
			return "expected up to 128 printable ASCII characters "
			    "without double quotes or backslashes";
		*(char **)field = jg_xstrdup(value);
		return NULL;
	case K_ORIGIN_LIST:
		return set_origins(field, count, value);
	case K_SCOPE_RULE:
		return set_scope_rule(p, field, count, value);
	case K_LOG_LEVEL:
		for (i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]); i++)
			if (strcmp(value, log_levels[i]) == 0) {
				*(enum jg_config_log_level *)field = (enum jg_config_log_level)i;
				return NULL;
			}
		return "expected error, warn, info or debug";
	}
	return "unknown kind of value";
}

/* ---------------------------------------------------------------- lines */

static const struct key *
find_key(const struct key *keys, size_t nkeys, const char *name, size_t *index)
{
	size_t i;

	for (i = 0; i < nkeys; i++)
		if (strcmp(keys[i].name, name) == 0) {
			*index = i;
			return &keys[i];
		}
	return NULL;
}

static struct jg_config_issuer *
current_issuer(struct parser *p)
{
	return &p->config->issuers[p->config->nissuers - 1];
}

/* Ends the open [issuer] section: required keys, then defaults. */
static void
close_section(struct parser *p)
{
	struct jg_config_issuer *iss;
	const char *why;
	char *label;
	size_t i;

	if (!p->in_section)
		return;
	p->in_section = false;
	iss = current_issuer(p);
	label = jg_xasprintf("[issuer %s]", iss->issuer);
	for (i = 0; i < NSECTION && !p->error; i++) {
		const struct key *k = &section_keys[i];

		if (p->section_seen[i])
			continue;
		if (k->flags & F_REQUIRED) {
			snprintf(p->why, sizeof(p->why), "missing required key %s", k->name);
			fail_at(p, iss->line, label, p->why);
		} else if (k->fallback) {
			why = set_value(p, k, iss, k->fallback);
			if (why)
				fail_at(p, iss->line, k->name, why);
		}
	}
	free(label);
}

static void
section_header(struct parser *p, char *line)
{
	struct jg_config *c = p->config;
	struct jg_config_issuer *iss;
	size_t len = strlen(line), i;
	char *url;
	bool http, loopback;

	close_section(p);
	if (p->error)
		return;
	if (line[len - 1] != ']' || strncmp(line + 1, "issuer", 6) != 0 ||
	    !is_blank(line[7])) {
		fail(p, line, "unknown section; expected [issuer URL]");
		return;
	}
	line[len - 1] = '\0';
	for (url = line + 7; is_blank(*url); url++)
		;
	for (i = strlen(url); i > 0 && is_blank(url[i - 1]); i--)
		url[i - 1] = '\0';
	if (!url_valid(url, &http, &loopback)) {
		char *label = jg_xasprintf("[issuer %s]", url);

		fail(p, label, MSG_URL);
		free(label);
		return;
	}
	if ((http && !loopback && !c->allow_insecure_http) ||
	    (c->issuer && strcmp(c->issuer, url) == 0)) {
		char *label = jg_xasprintf("[issuer %s]", url);

		fail(p, label, http && !loopback && !c->allow_insecure_http ? MSG_HTTP :
		     "this is the server's own issuer, whose keys are local");
		free(label);
		return;
	}
	for (i = 0; i < c->nissuers; i++)
		if (strcmp(c->issuers[i].issuer, url) == 0) {
			char *label = jg_xasprintf("[issuer %s]", url);

			snprintf(p->why, sizeof(p->why), "duplicate section, first on line %u",
				 c->issuers[i].line);
			fail(p, label, p->why);
			free(label);
			return;
		}
	c->issuers = jg_xrealloc(c->issuers, (c->nissuers + 1) * sizeof(*c->issuers));
	iss = &c->issuers[c->nissuers++];
	memset(iss, 0, sizeof(*iss));
	iss->issuer = jg_xstrdup(url);
	iss->line = p->line;
	p->in_section = true;
	memset(p->section_seen, 0, sizeof(p->section_seen));
}

/* Takes the value after "=": unquotes it in place when quoted.  Returns
 * NULL or the reason it is refused. */
static const char *
unquote(char *value)
{
	char *r = value + 1, *w = value;

	if (*value != '"')
		return NULL;
	for (; *r && *r != '"'; r++) {
		if (*r == '\\' && (r[1] == '"' || r[1] == '\\'))
			r++;
		*w++ = *r;
	}
	if (*r != '"')
		return "unterminated double quote";
	for (r++; is_blank(*r); r++)
		;
	if (*r)
		return "text after the closing double quote";
	*w = '\0';
	return NULL;
}

static void
key_value(struct parser *p, char *line)
{
	const struct key *k;
	size_t n = strcspn(line, " \t="), index;
	char *value;
	const char *why;
	bool equals;

	if (n == 0) {
		fail(p, NULL, "expected key = value");
		return;
	}
	value = line + n;
	while (is_blank(*value))
		value++;
	equals = *value == '=';
	line[n] = '\0';	/* may be the "=" itself */
	if (!equals) {
		fail(p, line, "expected key = value");
		return;
	}
	for (value++; is_blank(*value); value++)
		;
	why = unquote(value);
	if (why) {
		fail(p, line, why);
		return;
	}
	if (p->in_section) {
		k = find_key(section_keys, NSECTION, line, &index);
		if (k == NULL) {
			fail(p, line, find_key(global_keys, NGLOBAL, line, &index)
			     ? "global keys must come before the first [issuer] section"
			     : "unknown key in an [issuer] section");
			return;
		}
		if (p->section_seen[index]) {
			snprintf(p->why, sizeof(p->why), "already set on line %u",
				 p->section_seen[index]);
			fail(p, line, p->why);
			return;
		}
		p->section_seen[index] = p->line;
		why = set_value(p, k, current_issuer(p), value);
	} else {
		k = find_key(global_keys, NGLOBAL, line, &index);
		if (k == NULL) {
			fail(p, line, "unknown key");
			return;
		}
		if (p->seen[index] && !(k->flags & F_LIST)) {
			snprintf(p->why, sizeof(p->why), "already set on line %u",
				 p->seen[index]);
			fail(p, line, p->why);
			return;
		}
		if (!p->seen[index])
			p->seen[index] = p->line;
		why = set_value(p, k, p->config, value);
	}
	if (why)
		fail(p, line, why);
}

static void
parse_line(struct parser *p, const char *text, size_t len)
{
	char *line, *s;
	size_t n;

	if (len > 0 && text[len - 1] == '\r')
		len--;
	if (memchr(text, '\0', len) != NULL) {
		fail(p, NULL, "NUL byte in line");
		return;
	}
	line = jg_xstrndup(text, len);
	for (s = line; is_blank(*s); s++)
		;
	for (n = strlen(s); n > 0 && is_blank(s[n - 1]); n--)
		s[n - 1] = '\0';
	if (*s == '\0' || *s == '#')
		;
	else if (*s == '[')
		section_header(p, s);
	else
		key_value(p, s);
	free(line);
}

/* ---------------------------------------------------------------- finish */

static char *
folder_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return jg_xstrdup(".");
	if (slash == path)
		return jg_xstrdup("/");
	return jg_xstrndup(path, (size_t)(slash - path));
}

/* Defaults of keys not given, then the checks that need the whole file. */
static void
finish(struct parser *p)
{
	struct jg_config *c = p->config;
	bool http, loopback;
	const char *why;
	char *folder;
	size_t i;

	close_section(p);
	for (i = 0; i < NGLOBAL && !p->error; i++) {
		const struct key *k = &global_keys[i];

		if (p->seen[i])
			continue;
		if (k->flags & F_REQUIRED) {
			snprintf(p->why, sizeof(p->why), "missing required key %s", k->name);
			fail_at(p, 0, NULL, p->why);
		} else if (k->fallback) {
			why = set_value(p, k, c, k->fallback);
			if (why)
				fail_at(p, 0, k->name, why);
		}
	}
	if (p->error)
		return;
	if (c->templates == NULL)
		c->templates = jg_xstrdup(c->htdocs);
	if (c->resource_audience == NULL)
		c->resource_audience = jg_xstrdup(c->issuer);
	if (c->jwks_cache_dir == NULL) {
		folder = folder_of(c->database);
		c->jwks_cache_dir = jg_xasprintf("%s/jwks-cache",
						 strcmp(folder, "/") == 0 ? "" : folder);
		free(folder);
	}

	/* Plain http only where allowed, now that allow_insecure_http is known. */
	(void)url_valid(c->issuer, &http, &loopback);
	c->https = !http;
	if (http && !loopback && !c->allow_insecure_http)
		fail_at(p, p->seen[0], "issuer", MSG_HTTP);
	if (p->error)
		return;
	if (c->https && strncmp(c->session_cookie, "__Host-", 7) != 0) {
		char *name = jg_xasprintf("__Host-%s", c->session_cookie);

		free(c->session_cookie);
		c->session_cookie = name;
	}
}

static char *
absolute_folder(const char *path)
{
	char *folder = folder_of(path), *cwd, *abs;

	if (folder[0] == '/')
		return folder;
	cwd = getcwd(NULL, 0);
	if (cwd == NULL)
		return folder;
	if (strcmp(folder, ".") == 0)
		abs = jg_xstrdup(cwd);
	else
		abs = jg_xasprintf("%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd, folder);
	free(cwd);
	free(folder);
	return abs;
}

const char *
jg_config_path(void)
{
	const char *env = getenv("JWTGATE_CONF");

	return env && *env ? env : SYSCONFDIR "/jwtgate.conf";
}

enum jg_err
jg_config_load(const char *path, struct jg_config **out, char **errmsg)
{
	struct parser p;
	char *text = NULL;
	size_t len, start, end;
	const char *nl;
	enum jg_err err;

	err = jg_read_file(path, JG_CONFIG_MAX_SIZE, &text, &len);
	if (err == JG_ERR_NOT_FOUND || err == JG_ERR_SYSTEM) {
		*errmsg = jg_xasprintf("%s: cannot open: %s", path, strerror(errno));
		return err;
	}
	if (err != JG_OK) {
		*errmsg = jg_xasprintf("%s: larger than %d bytes", path, JG_CONFIG_MAX_SIZE);
		return JG_ERR_MALFORMED;
	}
	memset(&p, 0, sizeof(p));
	p.file = path;
	p.base_dir = absolute_folder(path);
	p.config = jg_xcalloc(1, sizeof(*p.config));
	p.config->file = jg_xstrdup(path);
	for (start = 0; start < len && !p.error; start = end + 1) {
		p.line++;
		nl = memchr(text + start, '\n', len - start);
		end = nl ? (size_t)(nl - text) : len;
		parse_line(&p, text + start, end - start);
	}
	if (!p.error)
		finish(&p);
	free(text);
	free(p.base_dir);
	if (p.error) {
		jg_config_free(p.config);
		*errmsg = p.error;
		return JG_ERR_MALFORMED;
	}
	*out = p.config;
	return JG_OK;
}

void
jg_config_free(struct jg_config *c)
{
	size_t i, j;

	if (c == NULL)
		return;
	/* Every char * field of the table, then the lists. */
	for (i = 0; i < NGLOBAL; i++) {
		const struct key *k = &global_keys[i];

		switch (k->kind) {
		case K_URL: case K_PATH: case K_TEXT: case K_COOKIE_NAME:
		case K_MEDIA_TYPE: case K_REALM:
			free(*(char **)(void *)((char *)c + k->offset));
			break;
		default:
			break;
		}
	}
	for (i = 0; i < c->ncors_origin; i++)
		free(c->cors_origin[i]);
	free(c->cors_origin);
	for (i = 0; i < c->nrequire_scope; i++) {
		for (j = 0; j < c->require_scope[i].nscopes; j++)
			free(c->require_scope[i].scopes[j]);
		free(c->require_scope[i].scopes);
		free(c->require_scope[i].prefix);
	}
	free(c->require_scope);
	for (i = 0; i < c->nissuers; i++) {
		free(c->issuers[i].issuer);
		free(c->issuers[i].audience);
		free(c->issuers[i].jwks_uri);
	}
	free(c->issuers);
	free(c->file);
	free(c);
}

const struct jg_config_issuer *
jg_config_find_issuer(const struct jg_config *c, const char *iss)
{
	size_t i;

	for (i = 0; i < c->nissuers; i++)
		if (strcmp(c->issuers[i].issuer, iss) == 0)
			return &c->issuers[i];
	return NULL;
}

const struct jg_config_scope_rule *
jg_config_scope_rule(const struct jg_config *c, const char *path)
{
	const struct jg_config_scope_rule *best = NULL;
	size_t i, n, bestlen = 0;

	for (i = 0; i < c->nrequire_scope; i++) {
		const struct jg_config_scope_rule *r = &c->require_scope[i];

		n = strlen(r->prefix);
		if (strncmp(path, r->prefix, n) != 0)
			continue;
		/* "/api/admin" covers "/api/admin" and "/api/admin/x", not
		 * "/api/administrators". */
		if (path[n] != '\0' && path[n] != '/' && r->prefix[n - 1] != '/')
			continue;
		if (best == NULL || n > bestlen) {
			best = r;
			bestlen = n;
		}
	}
	return best;
}

/* ---------------------------------------------------------------- writers */

/* The default as the README shows it. */
static const char *
default_text(const struct key *k, char *buf, size_t size)
{
	if (k->flags & F_REQUIRED)
		return "required";
	if (k->default_doc)
		return k->default_doc;
	if (k->fallback) {
		snprintf(buf, size, "`%s`", k->fallback);
		return buf;
	}
	return "none";
}

static void
write_table(FILE *f, const struct key *keys, size_t nkeys)
{
	char buf[128];
	size_t i;

	fputs("| key | default | meaning |\n| --- | --- | --- |\n", f);
	for (i = 0; i < nkeys; i++)
		fprintf(f, "| `%s` | %s | %s |\n", keys[i].name,
			default_text(&keys[i], buf, sizeof(buf)), keys[i].doc);
}

void
jg_config_write_reference(FILE *f)
{
	write_table(f, global_keys, NGLOBAL);
	fputs("\nKeys of an `[issuer URL]` section:\n\n", f);
	write_table(f, section_keys, NSECTION);
}

/* Writes text as "# " comment lines of at most about 76 columns, without
 * the Markdown backquotes. */
static void
write_comment(FILE *f, const char *text)
{
	size_t col = 0, n;
	const char *s = text;

	while (*s) {
		while (*s == ' ')
			s++;
		n = strcspn(s, " ");
		if (n == 0)
			break;
		if (col > 0 && col + 1 + n > 76) {
			fputc('\n', f);
			col = 0;
		}
		fputs(col == 0 ? "# " : " ", f);
		col += col == 0 ? 2 : 1;
		for (; n > 0; n--, s++)
			if (*s != '`') {
				fputc(*s, f);
				col++;
			}
	}
	if (col > 0)
		fputc('\n', f);
}

/* Writes "key = value", quoting value when spaces at its ends or a leading
 * quote would change it. */
static void
write_setting(FILE *f, const char *prefix, const char *key, const char *value)
{
	size_t len = strlen(value);
	const char *s;

	if (len == 0) {
		fprintf(f, "%s%s =\n", prefix, key);
		return;
	}
	if (!is_blank(value[0]) && !is_blank(value[len - 1]) && value[0] != '"') {
		fprintf(f, "%s%s = %s\n", prefix, key, value);
		return;
	}
	fprintf(f, "%s%s = \"", prefix, key);
	for (s = value; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputs("\"\n", f);
}

enum jg_err
jg_config_write_template(FILE *f, const char *issuer, const char *dir)
{
	char buf[160], text[128], *v;
	bool http, loopback;
	size_t i;

	if (has_control(issuer) || !url_valid(issuer, &http, &loopback) ||
	    (http && !loopback) || dir[0] != '/' || has_control(dir))
		return JG_ERR_MALFORMED;
	if (strcmp(dir, "/") == 0)
		dir = "";
	fputs("# jwtgate configuration, written by `jwtgate init`.\n"
	      "#\n"
	      "# One \"key = value\" per line.  Lines starting with # are comments; a\n"
	      "# value may be written in double quotes.  Relative paths are taken from\n"
	      "# the folder of this file.  README.md (\"Configuration reference\")\n"
	      "# describes every key; the commented settings below are the defaults.\n\n", f);
	write_setting(f, "", "issuer", issuer);
	v = jg_xasprintf("%s/jwtgate.db", dir);
	write_setting(f, "", "database", v);
	free(v);
	v = jg_xasprintf("%s/keys", dir);
	write_setting(f, "", "key_dir", v);
	free(v);
	v = jg_xasprintf("%s/htdocs", dir);
	write_setting(f, "", "htdocs", v);
	free(v);
	for (i = 0; i < NGLOBAL; i++) {
		const struct key *k = &global_keys[i];

		if (k->flags & F_REQUIRED)
			continue;
		fputc('\n', f);
		write_comment(f, k->doc);
		if (k->fallback && !(k->flags & F_LIST)) {
			write_setting(f, "#", k->name, k->fallback);
			continue;
		}
		if (k->example) {
			write_setting(f, "#", k->name, k->example);
			continue;
		}
		/* A default made from other keys: say so, and show its value. */
		snprintf(buf, sizeof(buf), "Default: %s.", default_text(k, text, sizeof(text)));
		write_comment(f, buf);
		if (strcmp(k->name, "templates") == 0)
			v = jg_xasprintf("%s/htdocs", dir);
		else if (strcmp(k->name, "jwks_cache_dir") == 0)
			v = jg_xasprintf("%s/jwks-cache", dir);
		else if (strcmp(k->name, "resource_audience") == 0)
			v = jg_xstrdup(issuer);
		else
			continue;
		write_setting(f, "#", k->name, v);
		free(v);
	}
	fputs("\n# External OpenID Connect issuers whose access tokens the gate accepts:\n"
	      "# one section each, after all the keys above.\n"
	      "#[issuer https://accounts.example.com]\n", f);
	for (i = 0; i < NSECTION; i++) {
		const struct key *k = &section_keys[i];

		write_comment(f, k->doc);
		write_setting(f, "#", k->name, k->fallback ? k->fallback : k->example);
	}
	return ferror(f) ? JG_ERR_SYSTEM : JG_OK;
}
