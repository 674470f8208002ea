/* cmd_client.c: "jwtgate client": register, list, show and remove OAuth
 * clients. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "oauth.h"

/* Longest client id and display name, in bytes. */
#define CLIENT_ID_MAX 128
#define CLIENT_NAME_MAX 256
/* Longest redirect URI, in bytes. */
#define URI_MAX 2048
/* Most scopes a client may be allowed (the store's bound). */
#define SCOPES_MAX 64

#define CONFIG_OPTION \
"  --config FILE               the instance's configuration (default\n" \
"                              $JWTGATE_CONF, else " SYSCONFDIR "/jwtgate.conf)\n" \
"  --help                      print this help\n"

static const char add_usage[] =
"usage: jwtgate client add ID --redirect-uri URI [--redirect-uri URI]...\n"
"                          [--public | --secret-stdin] [--grant GRANT]...\n"
"                          [--scope SCOPE]... [--first-party] [--name NAME]\n"
"                          [--post-logout-uri URI]... [--id-token-alg ALG]\n"
"                          [--access-token-lifetime SECONDS]\n"
"                          [--refresh-idle-lifetime SECONDS]\n"
"                          [--refresh-absolute-lifetime SECONDS]\n"
"\n"
"Registers the OAuth client ID.  A confidential client (the default) gets\n"
"a new random secret of 43 characters (256 bits), printed once on standard\n"
"output and nothing else; only its SHA-256 is stored, so it cannot be shown\n"
"again.  With --secret-stdin the secret is read from the first line of\n"
"standard input instead (32 to 512 visible ASCII characters) and nothing\n"
"is printed.  A public client (--public: a browser or native app that\n"
"cannot keep a secret) has none and must use PKCE.\n"
"\n"
"Client ids are 1 to 128 characters of A-Z a-z 0-9 - . _ ~.\n"
"\n"
"Redirect URIs are matched exactly as registered.  Each must be an absolute\n"
"https URI, or http (meant for localhost; the login page warns otherwise),\n"
"or a private-use URI of a native app whose scheme holds a dot\n"
"(com.example.app:/callback, RFC 8252 section 7.1); no fragment, no user\n"
"name in it.  At least one is needed with the authorization_code grant.\n"
"\n"
"options:\n"
"  --redirect-uri URI          an allowed redirect URI (repeatable)\n"
"  --public                    a public client: no secret\n"
"  --secret-stdin              read the secret from standard input\n"
"  --grant GRANT               authorization_code, refresh_token or\n"
"                              client_credentials; repeatable, or several\n"
"                              separated by spaces or commas (default:\n"
"                              authorization_code refresh_token);\n"
"                              client_credentials needs a confidential client\n"
"  --scope SCOPE               scopes the client may ask for; repeatable, or\n"
"                              several separated by spaces (default: openid\n"
"                              profile email address phone, and offline_access\n"
"                              with the refresh_token grant; none for a\n"
"                              client_credentials-only client)\n"
"  --first-party               a client of the same operator: no consent page\n"
"                              (with consent_skip_first_party)\n"
"  --name NAME                 the name shown on the consent page\n"
"  --post-logout-uri URI       an allowed post_logout_redirect_uri (repeatable)\n"
"  --id-token-alg ALG          signature algorithm of this client's ID tokens\n"
"                              (default: the configured id_token_alg); an ID\n"
"                              key of ALG must be current ('jwtgate key rotate\n"
"                              --purpose id --alg ALG')\n"
"  --access-token-lifetime S   seconds this client's access tokens are valid\n"
"                              (1 to 86400; default: the configured one)\n"
"  --refresh-idle-lifetime S   (60 to 31536000; default: the configured one)\n"
"  --refresh-absolute-lifetime S (60 to 31536000; default: the configured one)\n"
CONFIG_OPTION
"\n"
"exit status: 0 registered, 1 refused (the client exists, bad id, URI or\n"
"secret, client_credentials for a public client, no current ID key of the\n"
"--id-token-alg, database busy), 2 usage error.\n";

static const char del_usage[] =
"usage: jwtgate client del ID\n"
"\n"
"Deletes the client ID with its consents, authorization codes and refresh\n"
"tokens.  Access tokens already issued stay valid until they expire.\n"
"\n"
"options:\n"
CONFIG_OPTION
"\n"
"exit status: 0 deleted, 1 refused (no such client, database busy), 2 usage\n"
"error.\n";

static const char list_usage[] =
"usage: jwtgate client list\n"
"\n"
"Lists the clients ordered by id, one per line: ID, \"confidential\" or\n"
"\"public\", the grant types (comma-separated) and the name, separated by\n"
"tabs.\n"
"\n"
"options:\n"
CONFIG_OPTION
"\n"
"exit status: 0 listed, 1 failed, 2 usage error.\n";

static const char show_usage[] =
"usage: jwtgate client show ID\n"
"\n"
"Prints the client ID as \"key: value\" lines (one redirect_uri line per\n"
"URI).  Never the secret or its hash.\n"
"\n"
"options:\n"
CONFIG_OPTION
"\n"
"exit status: 0 shown, 1 no such client or failed, 2 usage error.\n";

enum {
	OPT_REDIRECT_URI = JG_OPT_CONFIG + 1,
	OPT_POST_LOGOUT_URI,
	OPT_PUBLIC,
	OPT_SECRET_STDIN,
	OPT_GRANT,
	OPT_SCOPE,
	OPT_FIRST_PARTY,
	OPT_NAME,
	OPT_ID_TOKEN_ALG,
	OPT_ACCESS_LIFETIME,
	OPT_REFRESH_IDLE,
	OPT_REFRESH_ABSOLUTE
};

static const struct option add_options[] = {
	{ "redirect-uri", required_argument, NULL, OPT_REDIRECT_URI },
	{ "post-logout-uri", required_argument, NULL, OPT_POST_LOGOUT_URI },
	{ "public", no_argument, NULL, OPT_PUBLIC },
	{ "secret-stdin", no_argument, NULL, OPT_SECRET_STDIN },
	{ "grant", required_argument, NULL, OPT_GRANT },
	{ "scope", required_argument, NULL, OPT_SCOPE },
	{ "first-party", no_argument, NULL, OPT_FIRST_PARTY },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "id-token-alg", required_argument, NULL, OPT_ID_TOKEN_ALG },
	{ "access-token-lifetime", required_argument, NULL, OPT_ACCESS_LIFETIME },
	{ "refresh-idle-lifetime", required_argument, NULL, OPT_REFRESH_IDLE },
	{ "refresh-absolute-lifetime", required_argument, NULL, OPT_REFRESH_ABSOLUTE },
	{ "config", required_argument, NULL, JG_OPT_CONFIG },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static const struct option plain_options[] = {
	{ "config", required_argument, NULL, JG_OPT_CONFIG },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/* The grant types, in the order they are stored. */
enum {
	GRANT_CODE = 1u << 0,
	GRANT_REFRESH = 1u << 1,
	GRANT_CLIENT_CREDENTIALS = 1u << 2
};

static const struct {
	const char *name;
	unsigned bit;
} grants[] = {
	{ "authorization_code", GRANT_CODE },
	{ "refresh_token", GRANT_REFRESH },
	{ "client_credentials", GRANT_CLIENT_CREDENTIALS },
};

#define NGRANTS (sizeof(grants) / sizeof(grants[0]))

/* A growing list of owned strings. */
struct list {
	char **items;
	size_t count;
};

static void
list_add(struct list *l, const char *s, size_t len)
{
	l->items = jg_xrealloc(l->items, (l->count + 1) * sizeof(l->items[0]));
	l->items[l->count++] = jg_xstrndup(s, len);
}

static void
list_free(struct list *l)
{
	size_t i;

	for (i = 0; i < l->count; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

static bool
list_has(const struct list *l, const char *s)
{
	size_t i;

	for (i = 0; i < l->count; i++)
		if (strcmp(l->items[i], s) == 0)
			return true;
	return false;
}

/* Returns NULL when id is a valid client id, else why not. */
static const char *
client_id_problem(const char *id)
{
	size_t len = strlen(id), i;

	if (len == 0 || len > CLIENT_ID_MAX)
		return "want 1 to 128 characters";
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)id[i]) && strchr("-._~", id[i]) == NULL)
			return "want only A-Z a-z 0-9 - . _ ~";
	return NULL;
}

static bool
is_alpha(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Checks a redirect URI (see the help text).  Returns NULL when it is
 * acceptable, else why not; *plain_http tells whether it is http to a
 * host other than loopback. */
static const char *
redirect_uri_problem(const char *uri, bool *plain_http)
{
	const char *colon, *auth, *auth_end, *host_end, *p;
	size_t len = strlen(uri), scheme_len, host_len;
	bool http, dotted = false;

	*plain_http = false;
	if (len == 0 || len > URI_MAX)
		return "want 1 to 2048 characters";
	/* RFC 3986: only visible ASCII; anything else must be %-encoded. */
	for (p = uri; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f ||
		    strchr("\"<>\\^`{|}", *p) != NULL)
			return "characters outside RFC 3986 (spaces, quotes, non-ASCII"
				" must be %-encoded)";
	if (strchr(uri, '#') != NULL)
		return "a redirect URI must not have a fragment (RFC 6749 section 3.1.2)";
	colon = strchr(uri, ':');
	if (colon == NULL || colon == uri || !is_alpha(uri[0]))
		return "not an absolute URI (no scheme)";
	scheme_len = (size_t)(colon - uri);
	for (p = uri; p < colon; p++) {
		if (!is_alpha(*p) && !is_digit(*p) && *p != '+' && *p != '-' && *p != '.')
			return "not an absolute URI (bad scheme)";
		if (*p == '.')
			dotted = true;
	}
	http = scheme_len == 4 && strncasecmp(uri, "http", 4) == 0;
	if (http || (scheme_len == 5 && strncasecmp(uri, "https", 5) == 0)) {
		if (strncmp(colon, "://", 3) != 0)
			return "an http(s) URI needs \"//\" and a host";
		auth = colon + 3;
		auth_end = auth + strcspn(auth, "/?");
		if (memchr(auth, '@', (size_t)(auth_end - auth)) != NULL)
			return "a redirect URI must not hold a user name";
		if (*auth == '[') {
			host_end = memchr(auth, ']', (size_t)(auth_end - auth));
			if (host_end == NULL)
				return "bad IPv6 host";
			host_end++;
		} else {
			host_end = memchr(auth, ':', (size_t)(auth_end - auth));
			if (host_end == NULL)
				host_end = auth_end;
		}
		host_len = (size_t)(host_end - auth);
		if (host_len == 0)
			return "an http(s) URI needs a host";
		if (host_end < auth_end) {
			if (*host_end != ':' || host_end + 1 == auth_end)
				return "bad port";
			for (p = host_end + 1; p < auth_end; p++)
				if (!is_digit(*p))
					return "bad port";
		}
		if (http && !((host_len == 9 && strncasecmp(auth, "localhost", 9) == 0) ||
			      (host_len == 9 && strncmp(auth, "127.0.0.1", 9) == 0) ||
			      (host_len == 5 && strncmp(auth, "[::1]", 5) == 0)))
			*plain_http = true;
		return NULL;
	}
	/* A private-use scheme of a native app is a reversed domain name
	 * (RFC 8252 section 7.1), which also keeps out javascript:, data:,
	 * file: and the like. */
	if (!dotted)
		return "scheme is neither https, http nor a private-use scheme with a"
			" dot (com.example.app:/callback)";
	if (colon[1] == '\0')
		return "nothing after the scheme";
	return NULL;
}

static bool
scope_token_valid(const char *s, size_t len)
{
	size_t i;

	/* RFC 6749 section 3.3: %x21 / %x23-5B / %x5D-7E. */
	if (len == 0)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x21 || c > 0x7e || c == '"' || c == '\\')
			return false;
	}
	return true;
}

/* Adds the space-separated scopes of arg to l (duplicates dropped).
 * Returns false (with a message) for a bad scope. */
static bool
add_scopes(struct list *l, const char *arg)
{
	const char *p = arg;
	size_t n;
	char *tok;

	for (;;) {
		p += strspn(p, " ");
		if (*p == '\0')
			return true;
		n = strcspn(p, " ");
		if (!scope_token_valid(p, n)) {
			jg_cli_error("bad scope '%.*s' (RFC 6749 section 3.3)", (int)n, p);
			return false;
		}
		tok = jg_xstrndup(p, n);
		if (!list_has(l, tok))
			list_add(l, p, n);
		free(tok);
		p += n;
	}
}

/* Adds the grants named in arg (separated by spaces or commas) to *bits.
 * Returns false for an unknown name, leaving it in *bad. */
static bool
add_grants(unsigned *bits, const char *arg, char **bad)
{
	const char *p = arg;
	size_t n, i;

	for (;;) {
		p += strspn(p, " ,");
		if (*p == '\0')
			return true;
		n = strcspn(p, " ,");
		for (i = 0; i < NGRANTS; i++)
			if (strlen(grants[i].name) == n && strncmp(grants[i].name, p, n) == 0)
				break;
		if (i == NGRANTS) {
			*bad = jg_xstrndup(p, n);
			return false;
		}
		*bits |= grants[i].bit;
		p += n;
	}
}

/* Joins the list with sep into a new string. */
static char *
join(char *const *items, size_t n, const char *sep)
{
	size_t len = 1, i;
	char *s;

	for (i = 0; i < n; i++)
		len += strlen(items[i]) + strlen(sep);
	s = jg_xmalloc(len);
	s[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0)
			strcat(s, sep);
		strcat(s, items[i]);
	}
	return s;
}

static bool
check_uris(const struct list *l, const char *option)
{
	const char *why;
	bool plain_http;
	size_t i, j;

	if (l->count > JG_STORE_MAX_URIS) {
		jg_cli_error("%s: at most %d", option, JG_STORE_MAX_URIS);
		return false;
	}
	for (i = 0; i < l->count; i++) {
		why = redirect_uri_problem(l->items[i], &plain_http);
		if (why != NULL) {
			jg_cli_error("%s '%s': %s", option, l->items[i], why);
			return false;
		}
		for (j = 0; j < i; j++)
			if (strcmp(l->items[i], l->items[j]) == 0) {
				jg_cli_error("%s '%s' given twice", option, l->items[i]);
				return false;
			}
		if (plain_http)
			fprintf(stderr, "jwtgate: warning: %s '%s' is plain http to a host"
				" other than loopback: codes and tokens cross the network"
				" unencrypted\n", option, l->items[i]);
	}
	return true;
}

/* ---------------------------------------------------------------- add */

/* What the options of "client add" say. */
struct add_args {
	const char *config;
	const char *id;
	const char *name;
	struct list redirect, post_logout, scope_args;
	bool public, secret_stdin, first_party;
	unsigned grant_bits;
	int64_t access_lifetime, idle, absolute;
	enum jg_alg id_alg;
};

static void
add_args_clear(struct add_args *a)
{
	list_free(&a->redirect);
	list_free(&a->post_logout);
	list_free(&a->scope_args);
}

/* Parses the command line of "client add": syntax only (exit 2 for what
 * is wrong there).  Returns -1 to go on, or the exit status. */
static int
parse_add(int argc, char **argv, struct add_args *a)
{
	char *bad = NULL;
	int c, status;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", add_options, NULL)) != -1) {
		switch (c) {
		case 'h':
			return jg_cli_help(add_usage);
		case JG_OPT_CONFIG:
			a->config = optarg;
			break;
		case OPT_REDIRECT_URI:
			list_add(&a->redirect, optarg, strlen(optarg));
			break;
		case OPT_POST_LOGOUT_URI:
			list_add(&a->post_logout, optarg, strlen(optarg));
			break;
		case OPT_PUBLIC:
			a->public = true;
			break;
		case OPT_SECRET_STDIN:
			a->secret_stdin = true;
			break;
		case OPT_GRANT:
			if (!add_grants(&a->grant_bits, optarg, &bad)) {
				status = jg_cli_usage_error("client add",
					"unknown grant type '%s' (want authorization_code,"
					" refresh_token or client_credentials)", bad);
				free(bad);
				return status;
			}
			break;
		case OPT_SCOPE:
			list_add(&a->scope_args, optarg, strlen(optarg));
			break;
		case OPT_FIRST_PARTY:
			a->first_party = true;
			break;
		case OPT_NAME:
			a->name = optarg;
			break;
		case OPT_ID_TOKEN_ALG:
			a->id_alg = jg_alg_from_name(optarg);
			if (!jg_keyring_alg_supported(a->id_alg))
				return jg_cli_usage_error("client add", "unsupported"
					" --id-token-alg '%s' (want RS*, PS*, ES* or EdDSA)",
					optarg);
			break;
		case OPT_ACCESS_LIFETIME:
			if (!jg_cli_parse_int64(optarg, 1, 86400, &a->access_lifetime))
				return jg_cli_usage_error("client add",
					"--access-token-lifetime must be 1 to 86400 seconds");
			break;
		case OPT_REFRESH_IDLE:
		case OPT_REFRESH_ABSOLUTE:
			if (!jg_cli_parse_int64(optarg, 60, 31536000,
						c == OPT_REFRESH_IDLE ? &a->idle : &a->absolute))
				return jg_cli_usage_error("client add",
					"--refresh-%s-lifetime must be 60 to 31536000 seconds",
					c == OPT_REFRESH_IDLE ? "idle" : "absolute");
			break;
		default:
			return jg_cli_option_error("client add", c, argv);
		}
	}
	if (optind >= argc)
		return jg_cli_usage_error("client add", "missing ID");
	a->id = argv[optind++];
	if (optind < argc)
		return jg_cli_usage_error("client add", "unexpected argument '%s'",
					  argv[optind]);
	if (a->public && a->secret_stdin)
		return jg_cli_usage_error("client add",
					  "--public and --secret-stdin exclude each other");
	if (a->grant_bits == 0)
		a->grant_bits = GRANT_CODE | GRANT_REFRESH;
	if ((a->grant_bits & GRANT_CODE) && a->redirect.count == 0)
		return jg_cli_usage_error("client add", "--redirect-uri is required"
					  " with the authorization_code grant");
	return -1;
}

/* Checks the values of "client add" and collects the scopes; prints a
 * message and returns false when one is refused. */
static bool
check_add(const struct add_args *a, struct list *scopes)
{
	const char *why;
	size_t i;

	why = client_id_problem(a->id);
	if (why != NULL) {
		jg_cli_error("bad client id '%s': %s", a->id, why);
		return false;
	}
	if ((a->grant_bits & GRANT_CLIENT_CREDENTIALS) && a->public) {
		jg_cli_error("a public client cannot use the client_credentials grant");
		return false;
	}
	if ((a->grant_bits & GRANT_REFRESH) && !(a->grant_bits & GRANT_CODE)) {
		jg_cli_error("the refresh_token grant needs the authorization_code grant");
		return false;
	}
	if (!(a->grant_bits & GRANT_CODE) &&
	    (a->redirect.count > 0 || a->post_logout.count > 0)) {
		jg_cli_error("redirect URIs are for the authorization_code grant only");
		return false;
	}
	if (!check_uris(&a->redirect, "--redirect-uri") ||
	    !check_uris(&a->post_logout, "--post-logout-uri"))
		return false;
	if (a->name != NULL && (strlen(a->name) > CLIENT_NAME_MAX || a->name[0] == '\0' ||
				!jg_admin_text_valid(a->name, false))) {
		jg_cli_error("--name: want 1 to %d bytes of UTF-8 text without"
			     " control characters", CLIENT_NAME_MAX);
		return false;
	}
	for (i = 0; i < a->scope_args.count; i++)
		if (!add_scopes(scopes, a->scope_args.items[i]))
			return false;
	if (a->scope_args.count == 0 && (a->grant_bits & GRANT_CODE)) {
		add_scopes(scopes, "openid profile email address phone");
		if (a->grant_bits & GRANT_REFRESH)
			add_scopes(scopes, "offline_access");
	}
	if (scopes->count > SCOPES_MAX) {
		jg_cli_error("--scope: at most %d scopes", SCOPES_MAX);
		return false;
	}
	return true;
}

/* Gets the client's secret: from standard input, made new, or none for a
 * public client (*secret stays NULL).  Returns false after a message. */
static bool
get_secret(const struct add_args *a, char **secret)
{
	enum jg_err err;

	if (a->public)
		return true;
	if (!a->secret_stdin) {
		*secret = jg_random_token(32);
		if (*secret == NULL) {
			jg_cli_error("cannot make a client secret: random generator failed");
			return false;
		}
		return true;
	}
	err = jg_admin_read_line(STDIN_FILENO, JG_CLIENT_SECRET_MAX, secret);
	if (err == JG_ERR_SYSTEM) {
		jg_cli_error("cannot read standard input: %s", strerror(errno));
		return false;
	}
	if (err != JG_OK || !jg_client_secret_valid(*secret)) {
		jg_cli_error("client secret refused: want %d to %d visible ASCII"
			     " characters on the first line of standard input",
			     JG_CLIENT_SECRET_MIN, JG_CLIENT_SECRET_MAX);
		return false;
	}
	return true;
}

/* Returns true when the instance's keyring has a current ID-token key of
 * alg, so that the token endpoint can sign this client's ID tokens;
 * otherwise prints why not and returns false. */
static bool
id_key_exists(const struct jg_config *config, enum jg_alg alg)
{
	struct jg_keyring *ring = NULL;
	char *errmsg = NULL;
	enum jg_err err;
	bool ok;

	err = jg_keyring_load(config->key_dir, &ring, &errmsg);
	if (err != JG_OK && err != JG_ERR_NOT_FOUND) {
		jg_cli_error("cannot read the keyring: %s", errmsg ? errmsg : jg_strerror(err));
		free(errmsg);
		return false;
	}
	free(errmsg);
	ok = jg_keyring_current_alg(ring, JG_KEY_ID, alg) != NULL;
	if (!ok)
		jg_cli_error("the instance has no current %s ID-token key, so ID tokens"
			     " for this client could not be signed; run 'jwtgate key"
			     " rotate --purpose id --alg %s' first", jg_alg_name(alg),
			     jg_alg_name(alg));
	jg_keyring_free(ring);
	return ok;
}

static int
client_add(int argc, char **argv)
{
	struct jg_admin admin = { NULL, NULL };
	struct add_args a;
	struct list scopes = { NULL, 0 }, grant_names = { NULL, 0 };
	struct jg_client c, *existing = NULL;
	char *secret = NULL, *hash = NULL;
	enum jg_err err;
	size_t i;
	int status;

	memset(&a, 0, sizeof(a));
	memset(&c, 0, sizeof(c));
	status = parse_add(argc, argv, &a);
	if (status >= 0)
		goto out;
	status = JG_EXIT_REJECTED;
	if (!check_add(&a, &scopes))
		goto out;
	if (jg_admin_open(a.config, true, &admin) != JG_EXIT_OK)
		goto out;
	/* A taken id is refused before a secret is read or made. */
	err = jg_store_client_get(admin.store, a.id, &existing);
	if (err == JG_OK) {
		jg_cli_error("client '%s' exists", a.id);
		goto out;
	}
	if (err != JG_ERR_NOT_FOUND) {
		jg_admin_store_error(admin.store, err, "cannot look the client up");
		goto out;
	}
	if (a.id_alg != JG_ALG_UNKNOWN && !id_key_exists(admin.config, a.id_alg))
		goto out;
	if (!get_secret(&a, &secret))
		goto out;
	if (secret != NULL) {
		err = jg_client_secret_hash(secret, &hash);
		if (err != JG_OK) {
			jg_cli_error("cannot hash the client secret: %s", jg_strerror(err));
			goto out;
		}
	}
	for (i = 0; i < NGRANTS; i++)
		if (a.grant_bits & grants[i].bit)
			list_add(&grant_names, grants[i].name, strlen(grants[i].name));

	c.client_id = jg_xstrdup(a.id);
	c.secret_hash = hash;
	c.name = a.name ? jg_xstrdup(a.name) : NULL;
	c.redirect_uris = a.redirect.items;
	c.n_redirect_uris = a.redirect.count;
	c.post_logout_uris = a.post_logout.items;
	c.n_post_logout_uris = a.post_logout.count;
	c.grant_types = join(grant_names.items, grant_names.count, " ");
	c.scopes = join(scopes.items, scopes.count, " ");
	c.first_party = a.first_party;
	c.access_token_lifetime = a.access_lifetime;
	c.refresh_idle_lifetime = a.idle;
	c.refresh_absolute_lifetime = a.absolute;
	c.id_token_alg = a.id_alg != JG_ALG_UNKNOWN ? jg_xstrdup(jg_alg_name(a.id_alg)) : NULL;
	err = jg_store_client_add(admin.store, &c, jg_admin_now());
	if (err == JG_ERR_EXISTS) {
		jg_cli_error("client '%s' exists", a.id);
		goto out;
	}
	if (err != JG_OK) {
		jg_admin_store_error(admin.store, err, "cannot add the client");
		goto out;
	}
	/* Printed once, only after it is stored: a failed registration
	 * never shows a secret that does not work. */
	if (secret != NULL && !a.secret_stdin)
		printf("%s\n", secret);
	status = JG_EXIT_OK;
out:
	free(c.client_id);
	free(c.name);
	free(c.grant_types);
	free(c.scopes);
	free(c.id_token_alg);
	jg_client_free(existing);
	jg_free_secret(secret);
	free(hash);
	list_free(&scopes);
	list_free(&grant_names);
	add_args_clear(&a);
	jg_admin_close(&admin);
	return status;
}

/* ---------------------------------------------------------------- del, list, show */

/* Parses "client CMD [ID]"; returns -1 to go on, or the exit status. */
static int
parse_plain(int argc, char **argv, const char *path, const char *usage,
	    bool positional, const char **config, const char **id)
{
	int c;

	*config = NULL;
	*id = NULL;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", plain_options, NULL)) != -1) {
		switch (c) {
		case 'h':
			return jg_cli_help(usage);
		case JG_OPT_CONFIG:
			*config = optarg;
			break;
		default:
			return jg_cli_option_error(path, c, argv);
		}
	}
	if (positional) {
		if (optind >= argc)
			return jg_cli_usage_error(path, "missing ID");
		*id = argv[optind++];
	}
	if (optind < argc)
		return jg_cli_usage_error(path, "unexpected argument '%s'", argv[optind]);
	return -1;
}

static int
client_del(int argc, char **argv)
{
	struct jg_admin admin = { NULL, NULL };
	const char *config, *id;
	enum jg_err err;
	int status;

	status = parse_plain(argc, argv, "client del", del_usage, true, &config, &id);
	if (status >= 0)
		return status;
	status = jg_admin_open(config, true, &admin);
	if (status != JG_EXIT_OK)
		return status;
	err = jg_store_client_delete(admin.store, id);
	if (err == JG_ERR_NOT_FOUND) {
		jg_cli_error("no client '%s'", id);
		status = JG_EXIT_REJECTED;
	} else if (err != JG_OK) {
		status = jg_admin_store_error(admin.store, err, "cannot delete the client");
	}
	jg_admin_close(&admin);
	return status;
}

static int
client_list(int argc, char **argv)
{
	struct jg_admin admin = { NULL, NULL };
	struct jg_client **clients = NULL;
	const char *config, *id;
	enum jg_err err;
	size_t n = 0, i;
	char *p;
	int status;

	status = parse_plain(argc, argv, "client list", list_usage, false, &config, &id);
	if (status >= 0)
		return status;
	status = jg_admin_open(config, true, &admin);
	if (status != JG_EXIT_OK)
		return status;
	err = jg_store_client_list(admin.store, &clients, &n);
	if (err != JG_OK)
		status = jg_admin_store_error(admin.store, err, "cannot list the clients");
	for (i = 0; i < n; i++) {
		for (p = clients[i]->grant_types; *p; p++)
			if (*p == ' ')
				*p = ',';
		printf("%s\t%s\t%s\t%s\n", clients[i]->client_id,
		       clients[i]->secret_hash ? "confidential" : "public",
		       clients[i]->grant_types,
		       clients[i]->name ? clients[i]->name : "");
	}
	jg_client_list_free(clients, n);
	jg_admin_close(&admin);
	return status;
}

static void
show_lifetime(const char *key, int64_t seconds)
{
	if (seconds > 0)
		printf("%s: %lld\n", key, (long long)seconds);
	else
		printf("%s: default\n", key);
}

static int
client_show(int argc, char **argv)
{
	struct jg_admin admin = { NULL, NULL };
	struct jg_client *c = NULL;
	const char *config, *id;
	char when[32];
	enum jg_err err;
	size_t i;
	int status;

	status = parse_plain(argc, argv, "client show", show_usage, true, &config, &id);
	if (status >= 0)
		return status;
	status = jg_admin_open(config, true, &admin);
	if (status != JG_EXIT_OK)
		return status;
	err = jg_store_client_get(admin.store, id, &c);
	if (err == JG_ERR_NOT_FOUND) {
		jg_cli_error("no client '%s'", id);
		status = JG_EXIT_REJECTED;
	} else if (err != JG_OK) {
		status = jg_admin_store_error(admin.store, err, "cannot look the client up");
	} else {
		printf("client_id: %s\n", c->client_id);
		if (c->name)
			printf("name: %s\n", c->name);
		printf("type: %s\n", c->secret_hash ? "confidential" : "public");
		printf("grant_types: %s\n", c->grant_types);
		printf("scopes: %s\n", c->scopes);
		printf("first_party: %s\n", c->first_party ? "yes" : "no");
		for (i = 0; i < c->n_redirect_uris; i++)
			printf("redirect_uri: %s\n", c->redirect_uris[i]);
		for (i = 0; i < c->n_post_logout_uris; i++)
			printf("post_logout_redirect_uri: %s\n", c->post_logout_uris[i]);
		printf("id_token_alg: %s\n", c->id_token_alg ? c->id_token_alg : "default");
		show_lifetime("access_token_lifetime", c->access_token_lifetime);
		show_lifetime("refresh_idle_lifetime", c->refresh_idle_lifetime);
		show_lifetime("refresh_absolute_lifetime", c->refresh_absolute_lifetime);
		printf("created: %s\n", jg_admin_time(c->created, when, sizeof(when)));
	}
	jg_client_free(c);
	jg_admin_close(&admin);
	return status;
}

/* ---------------------------------------------------------------- table */

static const struct jg_cli_command client_commands[] = {
	{ "add", client_add, "register a client" },
	{ "del", client_del, "delete a client" },
	{ "list", client_list, "list the clients" },
	{ "show", client_show, "show a client (never its secret)" },
	{ NULL, NULL, NULL }
};

int
jg_cmd_client(int argc, char **argv)
{
	return jg_cli_dispatch("client", client_commands, argc, argv);
}
