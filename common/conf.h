/* conf.h: the configuration file jwtgate.conf: the loader, and the README
 * reference and the template of `jwtgate init`, all made from one table of
 * keys.  (The module is "config"; its files are conf.c/conf.h because
 * config.h is autoconf's header, which every .c file includes first.) */
#ifndef JG_CONF_H
#define JG_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "util.h"
#include "jwk.h"

/* Largest configuration file read, in bytes. */
#define JG_CONFIG_MAX_SIZE (1024 * 1024)

/* Severity threshold of the log (key log_level). */
enum jg_config_log_level {
	JG_CONFIG_LOG_ERROR = 0,
	JG_CONFIG_LOG_WARN,
	JG_CONFIG_LOG_INFO,
	JG_CONFIG_LOG_DEBUG
};

/* One require_scope line: a request whose path is prefix, or lies under
 * prefix (the next character is "/", or prefix ends with "/"), needs a
 * token holding every one of the scopes. */
struct jg_config_scope_rule {
	char *prefix;
	char **scopes;
	size_t nscopes;
	unsigned line;		/* where it was configured */
};

/* One [issuer URL] section: an external OpenID Connect issuer whose access
 * tokens the gate accepts. */
struct jg_config_issuer {
	char *issuer;		/* the URL of the section header, exact */
	char *audience;		/* the "aud" its tokens must carry */
	enum jg_alg algorithms[JG_ALG_COUNT];	/* allowed, asymmetric only */
	size_t nalgorithms;
	char *jwks_uri;		/* NULL: take it from the issuer's discovery */
	unsigned line;		/* of the section header */
};

/* The whole configuration, every key a typed field named as the key.
 * Strings are owned by the struct; paths are absolute (a relative path in
 * the file is taken from the configuration file's folder). */
struct jg_config {
	char *file;			/* the file it was read from */

	char *issuer;
	bool https;			/* the issuer is an https URL */
	bool allow_insecure_http;
	char *database;
	char *key_dir;
	char *htdocs;
	char *templates;

	enum jg_alg access_token_alg;
	enum jg_alg id_token_alg;
	int64_t access_token_lifetime;	/* all durations in seconds */
	int64_t id_token_lifetime;
	int64_t code_lifetime;
	int64_t refresh_idle_lifetime;
	int64_t refresh_absolute_lifetime;
	int64_t session_lifetime;
	char *resource_audience;
	int64_t leeway;
	unsigned busy_timeout_ms;

	unsigned login_max_failures_user;
	unsigned login_max_failures_ip;
	int64_t login_failure_window;
	char *session_cookie;		/* the name as sent: with the __Host-
					 * prefix when the issuer is https */
	bool consent_skip_first_party;

	char *bearer_cookie;		/* NULL: tokens are not read from cookies */
	bool bearer_form;
	bool bearer_query;
	char **cors_origin;		/* ncors_origin origins */
	size_t ncors_origin;
	struct jg_config_scope_rule *require_scope;
	size_t nrequire_scope;
	bool authorizer_login_redirect;
	char *authorizer_html_accept;
	char *realm;
	int64_t revocation_check_interval;
	unsigned verified_cache_size;
	int64_t jwks_refresh_min_interval;
	char *jwks_cache_dir;
	struct jg_config_issuer *issuers;	/* the [issuer URL] sections */
	size_t nissuers;

	enum jg_config_log_level log_level;
};

/* Returns the path of the configuration file: $JWTGATE_CONF when set and
 * not empty, else SYSCONFDIR "/jwtgate.conf".  The string is the
 * environment's or static: do not free it. */
const char *jg_config_path(void);

/* Reads the configuration file at path.  The format: one "key = value" per
 * line; blank lines and lines whose first non-blank character is "#" are
 * ignored (a "#" inside a value is part of it); spaces around keys and
 * values are trimmed; a value may be written in double quotes, with \" and
 * \\ inside; only list keys (cors_origin, require_scope) may repeat; after
 * the global keys, any number of "[issuer URL]" sections with the keys
 * audience, algorithms and jwks_uri.  Every key not given takes its
 * default; required keys (issuer, database, key_dir, htdocs) must be given.
 *
 * On success *out is new (free with jg_config_free) and JG_OK is returned.
 * On failure *errmsg is a new one-line message (caller frees) naming the
 * file, line and key, such as
 *   "/etc/jwtgate.conf:12: access_token_lifetime: expected a whole number of
 *    seconds between 1 and 86400",
 *   "/etc/jwtgate.conf:3: frobnicate: unknown key",
 *   "/etc/jwtgate.conf: missing required key issuer",
 *   "/etc/jwtgate.conf: cannot open: No such file or directory",
 * and JG_ERR_NOT_FOUND (no such file), JG_ERR_SYSTEM (cannot read it) or
 * JG_ERR_MALFORMED (anything in it) is returned.  Outputs are written only
 * for the matching outcome. */
enum jg_err jg_config_load(const char *path, struct jg_config **out,
			   char **errmsg);

/* Frees a configuration and everything in it.  Accepts NULL. */
void jg_config_free(struct jg_config *config);

/* Returns the section of the external issuer whose URL is exactly iss, or
 * NULL.  The result points into config. */
const struct jg_config_issuer *jg_config_find_issuer(const struct jg_config *config,
						     const char *iss);

/* Returns the require_scope rule with the longest prefix that covers path
 * (see struct jg_config_scope_rule), or NULL when none does.  The result
 * points into config. */
const struct jg_config_scope_rule *jg_config_scope_rule(const struct jg_config *config,
							const char *path);

/* Writes the reference of every key, as the Markdown tables of the README's
 * "Configuration reference" (key, default, meaning), to f.  A unit test
 * checks that the README holds exactly this text. */
void jg_config_write_reference(FILE *f);

/* Writes a configuration file for `jwtgate init` to f: issuer = issuer,
 * database = DIR/jwtgate.db, key_dir = DIR/keys, htdocs = DIR/htdocs, and
 * every other key as a comment with its meaning and default, so that the
 * file loads with the defaults as written.  dir must be an absolute path;
 * issuer must be a valid issuer URL (an http URL only for a loopback
 * host).  Returns JG_OK, JG_ERR_MALFORMED for a bad issuer or dir (nothing
 * is written), or JG_ERR_SYSTEM when writing to f failed. */
enum jg_err jg_config_write_template(FILE *f, const char *issuer, const char *dir);

#endif
