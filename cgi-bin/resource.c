/* resource.c: resource.fcgi, the protected-resource gate: /oauth/userinfo,
 * /api/..., the nginx auth_request endpoint /oauth/gate and the FastCGI
 * AUTHORIZER role, as a FastCGI program or a plain CGI script.  The logic
 * is in common/gate.c. */
#include "config.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "gate.h"
#include "log.h"
#include "server.h"
#include "store.h"
#include "util.h"

static enum jg_err
handle(void *ctx, const struct jg_request *req, struct jg_response *resp)
{
	return jg_gate_handle(ctx, req, resp);
}

int
main(int argc, char **argv)
{
	struct jg_server_handler handler;
	struct jg_server_opts opts;
	struct jg_config *config = NULL;
	struct jg_store *store = NULL;
	struct jg_gate *gate = NULL;
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
	if (jg_server_args(argc, argv, &opts) != JG_OK) {
		fprintf(stderr, "usage: resource.fcgi [--listen SOCKET|127.0.0.1:PORT]\n");
		return 2;
	}
	if (jg_config_load(jg_config_path(), &config, &errmsg) != JG_OK) {
		fprintf(stderr, "resource.fcgi: %s\n", errmsg);
		goto broken;
	}
	jg_log_setup("resource.fcgi", (enum jg_log_level)config->log_level);
	/* The programs never make the database (jwtgate init does): a
	 * missing file is a fault to report, not an empty store to serve. */
	if (access(config->database, F_OK) != 0) {
		errmsg = jg_xasprintf("%s: %s (jwtgate init makes it)",
				      config->database, strerror(errno));
		fprintf(stderr, "resource.fcgi: %s\n", errmsg);
		goto broken;
	}
	if (jg_store_open(config->database, config->busy_timeout_ms, &store,
			  &errmsg) != JG_OK) {
		fprintf(stderr, "resource.fcgi: %s\n", errmsg);
		goto broken;
	}
	if (jg_gate_new(config, store, &gate, &errmsg) != JG_OK) {
		fprintf(stderr, "resource.fcgi: %s\n", errmsg);
		goto broken;
	}
	handler.handle = handle;
	handler.ctx = gate;
	opts.style = JG_STYLE_BEARER;
	opts.realm = config->realm;
	status = jg_server_run(&handler, &opts) == JG_OK ? 0 : 1;
	goto out;
broken:
	/* Answer every request with a clean error of the endpoint's kind,
	 * naming the problem in the log each time (server.h). */
	if (config == NULL)
		jg_log_setup("resource.fcgi", JG_LOG_WARN);
	opts.style = JG_STYLE_BEARER;
	(void)jg_server_run_broken(&opts, errmsg ? errmsg : "cannot start");
	status = 1;
out:
	free(errmsg);
	jg_gate_free(gate);
	jg_store_close(store);
	jg_config_free(config);
	return status;
}
