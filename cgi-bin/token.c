/* token.c: token.fcgi, the token endpoint (/oauth/token), revocation
 * (/oauth/revoke) and introspection (/oauth/introspect), as a FastCGI
 * program or a plain CGI script.  The logic is in common/token.c. */
#include "config.h"

#include <errno.h>
#include <malloc.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "keyring.h"
#include "log.h"
#include "server.h"
#include "store.h"
#include "util.h"
#include "token.h"

static enum jg_err
handle(void *ctx, const struct jg_request *req, struct jg_response *resp)
{
	struct jg_token_ctx *tc = ctx;

	/* `jwtgate key rotate` replaces the index: pick the new keys up
	 * without a restart (one stat(2) per request). */
	jg_token_reload_keyring(tc);
	return jg_token_handle(tc, req, resp);
}

int
main(int argc, char **argv)
{
	struct jg_server_handler handler;
	struct jg_server_opts opts;
	struct jg_token_ctx ctx;
	struct jg_config *config = NULL;
	struct jg_store *store = NULL;
	struct jg_keyring *ring = NULL;
	char *errmsg = NULL;
	int status = 1;

	/* Started as a plain CGI script (RFC 3875 section 4.1.4; a FastCGI
	 * process gets its variables over the socket): one request, so no
	 * initial page-cache slab, before any other SQLite call.  SQLite
	 * would write a header into each of its 20 pages at the first read,
	 * some 18 page faults of a start that reads a few pages
	 * (bench/README.md); pages are then allocated as used. */
	if (getenv("GATEWAY_INTERFACE") != NULL)
		(void)sqlite3_config(SQLITE_CONFIG_PAGECACHE, NULL, 0, 0);
	/* SQLite's in-memory statement journal takes a 64 KiB chunk in every
	 * write transaction of several statements (a code exchange creates a
	 * refresh family); with glibc's default 128 KiB trim threshold the
	 * heap grew by brk(2) and shrank again around each one, zeroing fresh
	 * pages every grant.  Keep up to 512 KiB of free heap instead (the
	 * most this adds to the resident size). */
	(void)mallopt(M_TRIM_THRESHOLD, 512 * 1024);
	memset(&opts, 0, sizeof(opts));
	if (jg_server_args(argc, argv, &opts) != JG_OK) {
		fprintf(stderr, "usage: token.fcgi [--listen SOCKET|127.0.0.1:PORT]\n");
		return 2;
	}
	if (jg_config_load(jg_config_path(), &config, &errmsg) != JG_OK) {
		fprintf(stderr, "token.fcgi: %s\n", errmsg);
		goto broken;
	}
	jg_log_setup("token.fcgi", (enum jg_log_level)config->log_level);
	/* The programs never make the database (jwtgate init does): a
	 * missing file is a fault to report, not an empty store to serve. */
	if (access(config->database, F_OK) != 0) {
		errmsg = jg_xasprintf("%s: %s (jwtgate init makes it)",
				      config->database, strerror(errno));
		fprintf(stderr, "token.fcgi: %s\n", errmsg);
		goto broken;
	}
	if (jg_store_open(config->database, config->busy_timeout_ms, &store,
			  &errmsg) != JG_OK) {
		fprintf(stderr, "token.fcgi: %s\n", errmsg);
		goto broken;
	}
	if (jg_keyring_load(config->key_dir, &ring, &errmsg) != JG_OK) {
		fprintf(stderr, "token.fcgi: %s\n", errmsg);
		goto broken;
	}
	ctx.config = config;
	ctx.store = store;
	ctx.ring = ring;
	handler.handle = handle;
	handler.ctx = &ctx;
	opts.style = JG_STYLE_OAUTH;
	opts.realm = config->realm;
	status = jg_server_run(&handler, &opts) == JG_OK ? 0 : 1;
	ring = ctx.ring;	/* the handler may have replaced it */
	goto out;
broken:
	/* Answer every request with a clean error of the endpoint's kind,
	 * naming the problem in the log each time (server.h). */
	if (config == NULL)
		jg_log_setup("token.fcgi", JG_LOG_WARN);
	opts.style = JG_STYLE_OAUTH;
	(void)jg_server_run_broken(&opts, errmsg ? errmsg : "cannot start");
	status = 1;
out:
	free(errmsg);
	jg_keyring_free(ring);
	jg_store_close(store);
	jg_config_free(config);
	return status;
}
