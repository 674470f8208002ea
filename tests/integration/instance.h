/* instance.h: one complete jwtgate instance for the hardening tests
 * (issue 9): a configuration, a keyring, a store with users and clients,
 * and a lighttpd serving authorize.fcgi, token.fcgi and resource.fcgi, plus
 * a parallel HTTP client (libcurl multi) for races and the process and
 * memory helpers of the soak and fault tests.  Test code: everything here
 * is owned by the struct jg_inst and freed by jg_inst_free. */
#ifndef JG_INSTANCE_H
#define JG_INSTANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "harness.h"

#define JG_INST_ISSUER "http://127.0.0.1"
#define JG_INST_PASSWORD "correct horse battery staple"
#define JG_INST_WEB_SECRET "web-secret-0123456789-abcdefghijklmnopqrstuvwxyz0"
#define JG_INST_OTHER_SECRET "other-secret-0123456789-abcdefghijklmnopqrstuvw"
#define JG_INST_M2M_SECRET "m2m-secret-0123456789-abcdefghijklmnopqrstuvwxyz0"
#define JG_INST_WEB_CB "https://app.example/cb"
#define JG_INST_OTHER_CB "https://other.example/cb"
/* RFC 7636 appendix B. */
#define JG_INST_VERIFIER "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
#define JG_INST_CHALLENGE "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

struct jg_inst {
	const char *dir;		/* the harness's temporary folder */
	char *conf;			/* DIR/jwtgate.conf */
	char *env_conf;			/* "JWTGATE_CONF=..." */
	struct jg_config *config;
	struct jg_store *store;		/* the test's own handle */
	struct jg_keyring *ring;
	struct jg_it_server *lt;
	/* "Authorization: Basic ..." lines of the confidential clients. */
	char *b_web, *b_other, *b_m2m;
};

/* Makes the instance in a new temporary folder: configuration (templates
 * of the source tree, then the lines of extra_conf, may be NULL), keys,
 * store (a "database = PATH" line in extra_conf replaces the template's)
 * with users alice and bob (password JG_INST_PASSWORD), and the
 * clients web and other (confidential, authorization_code refresh_token,
 * openid profile email offline_access api:read), spa (public) and m2m
 * (client_credentials, api:read); "first" is a first-party public client
 * with redirect http://127.0.0.1:8080/cb.  Returns false with a message
 * on stderr. */
bool jg_inst_setup(struct jg_inst *in, const char *extra_conf);

/* Starts lighttpd with /oauth/authorize and /oauth/logout on
 * authorize.fcgi, /oauth/token on
 * token.fcgi, /api/ on resource.fcgi, each with
 * max_procs processes. */
bool jg_inst_start(struct jg_inst *in, unsigned max_procs);

/* Stops the server (returns jg_it_server_stop's verdict) and frees all. */
bool jg_inst_free(struct jg_inst *in);

/* SERVER_URL + path (new). */
char *jg_inst_url(const struct jg_inst *in, const char *path);

/* An access token for alice from the current access key (new). */
char *jg_inst_mint(const struct jg_inst *in, const char *scope);

/* Stores an authorization code for alice as authorize.fcgi would. */
bool jg_inst_put_code(const struct jg_inst *in, const char *code, const char *client,
		      const char *redirect, const char *scope, const char *challenge);

/* The first column of the first row of sql on a read-only connection of
 * its own, or -1. */
long jg_inst_count(const struct jg_inst *in, const char *sql);

/* True when PRAGMA integrity_check answers "ok". */
bool jg_inst_integrity_ok(const char *database);

/* The pids of the server's process group other than the server itself
 * (its FastCGI programs); returns how many were stored. */
size_t jg_inst_fcgi_pids(const struct jg_inst *in, pid_t *pids, size_t max);

/* The sum of VmRSS of those processes, in KiB. */
long jg_inst_fcgi_rss_kib(const struct jg_inst *in);

/* Sends n copies of one request (POST when body is not NULL, else GET) at
 * once over n connections (libcurl multi) and stores each status in
 * statuses (0 when no answer) and each body in bodies (new, may be NULL
 * when bodies is NULL) and the header block of each answer in heads (new,
 * may be NULL). */
void jg_inst_parallel(const char *url, const char *const *headers, const char *body,
		      size_t n, long *statuses, char **bodies, char **heads);

#endif
