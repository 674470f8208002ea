/* echo_fcgi.c: a test program built on common/server.c that answers with
 * the parsed request as JSON, so integration tests can see what a real web
 * server hands to a jwtgate program.  Not installed.
 *
 * Responder paths (matched on the last segment of the path):
 *   .../busy     the handler returns JG_ERR_BUSY (503 + Retry-After)
 *   .../slow     sleeps 0.7 s before answering (shutdown tests)
 *   .../html     an HTML page through jg_http_html
 *   .../cookie   sets the cookie "sid=abc" and echoes
 *   .../bearer   RFC 6750 answers for the Authorization header
 *   anything else: the request as JSON; the parameters are the form body
 *   for a form POST, else the query string; a malformed one is answered
 *   through the error table (400 invalid_request).
 * Authorizer role: "Authorization: Bearer let-me-in" is allowed with
 * Variable-X_USER: alice; anything else is denied with a Bearer challenge. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>

#include "http.h"
#include "log.h"
#include "server.h"

static const char *
last_segment(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static void
add_string(struct json_object *o, const char *key, const char *value)
{
	json_object_object_add(o, key, value ? json_object_new_string(value) : NULL);
}

static enum jg_err
authorize(const struct jg_request *req, struct jg_response *resp)
{
	static const struct jg_kv allow[] = { { "X_USER", "alice" } };
	char *token = NULL;
	enum jg_err err = jg_http_bearer_token(req->authorization, &token);

	if (err == JG_ERR_NOT_FOUND)
		return jg_http_bearer_error(resp, "echo", NULL, NULL, NULL);
	if (err != JG_OK)
		return jg_http_bearer_error(resp, "echo", "invalid_request",
					    "malformed Authorization header", NULL);
	if (strcmp(token, "let-me-in") == 0)
		err = jg_http_authorizer_allow(resp, allow, 1);
	else
		err = jg_http_bearer_error(resp, "echo", "invalid_token",
					   "the token is not let-me-in", NULL);
	jg_free_secret(token);
	/* Tell the test which path the authorizer derived from REQUEST_URI. */
	if (err == JG_OK && resp->status != 200)
		err = jg_response_set_header(resp, "X-Echo-Path", req->path);
	return err;
}

static enum jg_err
bearer(const struct jg_request *req, struct jg_response *resp)
{
	struct json_object *o;
	char *token = NULL;
	enum jg_err err = jg_http_bearer_token(req->authorization, &token);

	if (err == JG_ERR_NOT_FOUND)
		return jg_http_bearer_error(resp, "echo", NULL, NULL, NULL);
	if (err != JG_OK)
		return jg_http_bearer_error(resp, "echo", "invalid_request",
					    "malformed Authorization header", NULL);
	o = json_object_new_object();
	json_object_object_add(o, "token_length",
			       json_object_new_int64((int64_t)strlen(token)));
	jg_free_secret(token);
	err = jg_http_json(resp, 200, o);
	json_object_put(o);
	return err;
}

static enum jg_err
echo(const struct jg_request *req, struct jg_response *resp)
{
	static const char *const env_names[] = {
		"X_USER", "FCGI_ROLE", "GATEWAY_INTERFACE", "SERVER_PROTOCOL",
		"HTTP_X_TEST", "REMOTE_USER",
	};
	struct jg_params params = { NULL, 0 };
	struct json_object *o, *p, *e;
	const char *why = NULL;
	enum jg_err err;
	size_t i;

	if (strcmp(req->method, "POST") == 0 &&
	    jg_http_media_type_is(req->content_type, "application/x-www-form-urlencoded"))
		err = jg_request_form(req, &params, &why);
	else
		err = jg_params_parse(req->query, strlen(req->query), &params, &why);
	if (err != JG_OK) {
		resp->error_description = why;
		return err;
	}
	o = json_object_new_object();
	add_string(o, "role", req->role == JG_ROLE_AUTHORIZER ? "authorizer" : "responder");
	add_string(o, "method", req->method);
	add_string(o, "path", req->path);
	add_string(o, "query", req->query);
	add_string(o, "request_uri", req->request_uri);
	add_string(o, "script_name", req->script_name);
	add_string(o, "path_info", req->path_info);
	add_string(o, "remote_addr", req->remote_addr);
	add_string(o, "host", req->host);
	json_object_object_add(o, "https", json_object_new_boolean(req->https));
	add_string(o, "content_type", req->content_type);
	add_string(o, "authorization", req->authorization);
	add_string(o, "cookie", req->cookie);
	add_string(o, "accept", req->accept);
	add_string(o, "origin", req->origin);
	json_object_object_add(o, "body_length", json_object_new_int64((int64_t)req->body_len));
	json_object_object_add(o, "pid", json_object_new_int64((int64_t)getpid()));
	/* The process environment (lighttpd bin-environment, FcgidInitialEnv). */
	add_string(o, "conf", getenv("JWTGATE_CONF"));
	p = json_object_new_object();
	for (i = 0; i < params.count; i++)
		add_string(p, params.items[i].name, params.items[i].value);
	json_object_object_add(o, "params", p);
	e = json_object_new_object();
	for (i = 0; i < sizeof(env_names) / sizeof(env_names[0]); i++)
		add_string(e, env_names[i], jg_request_param(req, env_names[i]));
	json_object_object_add(o, "env", e);
	err = jg_http_json(resp, 200, o);
	json_object_put(o);
	jg_params_clear(&params);
	return err;
}

static enum jg_err
handle(void *ctx, const struct jg_request *req, struct jg_response *resp)
{
	const char *last = last_segment(req->path);
	enum jg_err err;

	(void)ctx;
	if (req->role == JG_ROLE_AUTHORIZER)
		return authorize(req, resp);
	if (strcmp(last, "busy") == 0) {
		resp->error_description = "the store is busy";
		return JG_ERR_BUSY;
	}
	if (strcmp(last, "html") == 0)
		return jg_http_html(resp, 200, "<!DOCTYPE html><p>hello</p>\n", NULL);
	if (strcmp(last, "bearer") == 0)
		return bearer(req, resp);
	if (strcmp(last, "slow") == 0) {
		struct timespec ts = { 0, 700 * 1000 * 1000 };

		/* The shutdown test waits for this line before its SIGTERM. */
		jg_log(JG_LOG_INFO, "slow request started");
		nanosleep(&ts, NULL);
	}
	if (strcmp(last, "cookie") == 0) {
		err = jg_http_set_cookie(resp, "sid", "abc", 60, req->https);
		if (err != JG_OK)
			return err;
	}
	return echo(req, resp);
}

int
main(int argc, char **argv)
{
	struct jg_server_handler handler = { handle, NULL };
	struct jg_server_opts opts;

	memset(&opts, 0, sizeof(opts));
	jg_log_setup("echo_fcgi", JG_LOG_INFO);
	if (jg_server_args(argc, argv, &opts) != JG_OK) {
		fprintf(stderr, "usage: echo_fcgi [--listen SOCKET|127.0.0.1:PORT]\n");
		return 2;
	}
	opts.style = JG_STYLE_OAUTH;
	return jg_server_run(&handler, &opts) == JG_OK ? 0 : 1;
}
