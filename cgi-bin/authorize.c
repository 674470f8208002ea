/* authorize.c: authorize.fcgi, the authorization endpoint with its login
 * and consent pages (/oauth/authorize) and RP-initiated logout
 * (/oauth/logout), as a FastCGI program or a plain CGI script.  The logic
 * is in common/authorize.c. */
#include "config.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "authorize.h"
#include "conf.h"
#include "keyring.h"
#include "log.h"
#include "server.h"
#include "store.h"
#include "util.h"

struct program {
	const struct jg_config *config;
	struct jg_store *store;
	struct jg_keyring *ring;
};

static enum jg_err
handle(void *arg, const struct jg_request *req, struct jg_response *resp)
{
	struct program *p = arg;
	struct jg_authorize_ctx ctx;

	/* `jwtgate key rotate` replaces the index: pick the new keys up
	 * without a restart (one stat(2) per request); keep the old ring
	 * when the new one cannot be read. */
	if (jg_keyring_changed(p->ring)) {
		struct jg_keyring *fresh = NULL;
		char *errmsg = NULL;

		if (jg_keyring_load_public(p->config->key_dir, &fresh, &errmsg) == JG_OK) {
			jg_keyring_free(p->ring);
			p->ring = fresh;
		} else {
			jg_log(JG_LOG_WARN, "keeping the old keys: %s", errmsg);
			free(errmsg);
		}
	}
	ctx.config = p->config;
	ctx.store = p->store;
	ctx.keyring = p->ring;
	return jg_authorize_handle(&ctx, req, resp);
}

int
main(int argc, char **argv)
{
	struct jg_server_handler handler;
	struct jg_server_opts opts;
	struct program prog;
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
	memset(&opts, 0, sizeof(opts));
	memset(&prog, 0, sizeof(prog));
	if (jg_server_args(argc, argv, &opts) != JG_OK) {
		fprintf(stderr, "usage: authorize.fcgi [--listen SOCKET|127.0.0.1:PORT]\n");
		return 2;
	}
	if (jg_config_load(jg_config_path(), &config, &errmsg) != JG_OK) {
		fprintf(stderr, "authorize.fcgi: %s\n", errmsg);
		goto broken;
	}
	jg_log_setup("authorize.fcgi", (enum jg_log_level)config->log_level);
	/* The programs never make the database (jwtgate init does): a
	 * missing file is a fault to report, not an empty store to serve. */
	if (access(config->database, F_OK) != 0) {
		errmsg = jg_xasprintf("%s: %s (jwtgate init makes it)",
				      config->database, strerror(errno));
		fprintf(stderr, "authorize.fcgi: %s\n", errmsg);
		goto broken;
	}
	if (jg_store_open(config->database, config->busy_timeout_ms, &store,
			  &errmsg) != JG_OK) {
		fprintf(stderr, "authorize.fcgi: %s\n", errmsg);
		goto broken;
	}
	if (jg_keyring_load_public(config->key_dir, &ring, &errmsg) != JG_OK) {
		fprintf(stderr, "authorize.fcgi: %s\n", errmsg);
		goto broken;
	}
	prog.config = config;
	prog.store = store;
	prog.ring = ring;
	handler.handle = handle;
	handler.ctx = &prog;
	opts.style = JG_STYLE_HTML;
	status = jg_server_run(&handler, &opts) == JG_OK ? 0 : 1;
	ring = prog.ring;	/* the handler may have replaced it */
	goto out;
broken:
	/* Answer every request with a clean error of the endpoint's kind,
	 * naming the problem in the log each time (server.h). */
	if (config == NULL)
		jg_log_setup("authorize.fcgi", JG_LOG_WARN);
	opts.style = JG_STYLE_HTML;
	(void)jg_server_run_broken(&opts, errmsg ? errmsg : "cannot start");
	status = 1;
out:
	free(errmsg);
	jg_keyring_free(ring);
	jg_store_close(store);
	jg_config_free(config);
	return status;
}
