/* test_server.c: the request loop of common/server.c behind a real lighttpd
 * (and Apache with mod_fcgid), as a process-managed FastCGI responder, as
 * an authorizer, as a standalone --listen program, and as plain CGI.
 * Driven with libcurl through tests/integration/harness.c. */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "harness.h"
#include "http.h"
#include "json.h"
#include "testutil.h"
#include "util.h"

/* Shared by the tests of this suite, which run in order: the first starts
 * the servers, the last stops them (atexit cleans up if a test dies). */
static struct {
	char *echo;			/* path of echo_fcgi */
	const char *work;		/* temporary folder for standalone sockets */
	char *unix_socket;
	int tcp_port;
	pid_t standalone_unix, standalone_tcp;
	struct jg_it_server *lt;
	struct jg_it_client *client;
} t;

/* CU_ASSERT_STRING_EQUAL with a NULL actual value fails instead of
 * crashing. */
#define ASSERT_STR(actual, expected) \
	CU_ASSERT_STRING_EQUAL((actual) ? (actual) : "(null)", (expected))

/* Parses a response body as a JSON object (NULL when it is not one). */
static struct json_object *
body_json(const struct jg_it_response *r)
{
	struct json_object *o = NULL;

	if (jg_json_parse_object(r->body, r->body_len, &o, NULL) != JG_OK) {
		fprintf(stderr, "not a JSON object: %s\n", r->body);
		return NULL;
	}
	return o;
}

/* Returns the string at "key" or "object.key" of o, or NULL. */
static const char *
jstr(const struct json_object *o, const char *path)
{
	const char *dot = strchr(path, '.'), *s = NULL;

	if (o == NULL)
		return NULL;
	if (dot) {
		char *first = jg_xstrndup(path, (size_t)(dot - path));
		const struct json_object *inner = jg_json_get(o, first);

		free(first);
		return jstr(inner, dot + 1);
	}
	return jg_json_get_string(o, path, &s) ? s : NULL;
}

static int64_t
jint(const struct json_object *o, const char *key)
{
	int64_t v = -1;

	return o && jg_json_get_int64(o, key, &v) ? v : -1;
}

static char *
url(const char *path)
{
	return jg_xasprintf("%s%s", t.lt->url, path);
}

/* GET path through lighttpd; returns the status, fills r. */
static long
get(const char *path, const char *const *headers, struct jg_it_response *r)
{
	char *u = url(path);
	bool ok = jg_it_get(t.client, u, headers, r);

	free(u);
	return ok ? r->status : -1;
}

static long
post(const char *path, const char *const *headers, const char *body,
     struct jg_it_response *r)
{
	char *u = url(path);
	bool ok = jg_it_post(t.client, u, headers, body, r);

	free(u);
	return ok ? r->status : -1;
}

/* ------------------------------------------------------------ setup */

static bool
wait_for_socket(const char *path, int timeout_ms)
{
	struct stat st;
	int waited;

	for (waited = 0; waited < timeout_ms; waited += 20) {
		if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
			return true;
		usleep(20 * 1000);
	}
	return false;
}

/* Waits until the standalone log holds line; false after timeout_ms. */
static bool
wait_for_log(const char *line, int timeout_ms)
{
	char *path = jg_xasprintf("%s/standalone.log", t.work), *text;
	size_t len;
	bool found = false;
	int waited;

	for (waited = 0; waited < timeout_ms && !found; waited += 20) {
		if (jg_read_file(path, 1 << 20, &text, &len) == JG_OK) {
			found = strstr(text, line) != NULL;
			free(text);
		}
		if (!found)
			usleep(20 * 1000);
	}
	free(path);
	return found;
}

static void
test_start(void)
{
	static const char *const env[] = { "JWTGATE_CONF=/etc/jwtgate-test.conf", NULL };
	struct jg_it_program programs[4];
	struct jg_it_server_opts opts;
	char *sock_listen, *tcp_listen, *link;

	t.echo = jg_it_build_path("tests/integration/echo_fcgi");
	CU_ASSERT_EQUAL_FATAL(access(t.echo, X_OK), 0);
	t.work = jg_it_tempdir();
	CU_ASSERT_PTR_NOT_NULL_FATAL(t.work);

	/* Two standalone programs, as Apache mod_authnz_fcgi needs them. */
	t.unix_socket = jg_xasprintf("%s/standalone.sock", t.work);
	sock_listen = jg_xasprintf("--listen=%s", t.unix_socket);
	t.tcp_port = jg_it_free_port();
	tcp_listen = jg_xasprintf("127.0.0.1:%d", t.tcp_port);
	{
		const char *a1[] = { t.echo, sock_listen, NULL };
		const char *a2[] = { t.echo, "--listen", tcp_listen, NULL };
		char *log = jg_xasprintf("%s/standalone.log", t.work);

		t.standalone_unix = jg_it_spawn(a1, log);
		t.standalone_tcp = jg_it_spawn(a2, log);
		free(log);
	}
	CU_ASSERT_FATAL(t.standalone_unix > 0 && t.standalone_tcp > 0);
	CU_ASSERT_FATAL(jg_it_wait_port(t.tcp_port, t.standalone_tcp, 10000));
	CU_ASSERT_FATAL(wait_for_socket(t.unix_socket, 10000));

	memset(programs, 0, sizeof(programs));
	programs[0].prefix = "/echo";
	programs[0].bin = t.echo;
	programs[0].env = env;
	programs[1].prefix = "/gated/";
	programs[1].bin = t.echo;
	programs[1].authorizer = true;
	programs[2].prefix = "/standalone-unix";
	programs[2].socket = t.unix_socket;
	programs[3].prefix = "/standalone-tcp";
	programs[3].socket = tcp_listen;
	memset(&opts, 0, sizeof(opts));
	opts.programs = programs;
	opts.nprograms = 4;
	opts.cgi = true;
	t.lt = jg_it_lighttpd_start(&opts);
	free(sock_listen);
	free(tcp_listen);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t.lt);

	/* Content behind the authorizer: a static file and a CGI script. */
	CU_ASSERT(jg_it_write_file(t.lt->htdocs, "gated/file.txt", "secret file\n", 0644));
	link = jg_xasprintf("%s/gated/echo.cgi", t.lt->htdocs);
	CU_ASSERT_EQUAL(symlink(t.echo, link), 0);
	free(link);
	t.client = jg_it_client_new();
}

/* ------------------------------------------------------------ responder */

static void
test_get_query(void)
{
	struct jg_it_response r;
	struct json_object *o;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t.lt);
	CU_ASSERT_EQUAL(get("/echo/x?a=1&b=hello+world&c=%C3%A9", NULL, &r), 200);
	ASSERT_STR(jg_it_header(&r, "Content-Type"), "application/json");
	ASSERT_STR(jg_it_header(&r, "Cache-Control"), "no-store");
	o = body_json(&r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	ASSERT_STR(jstr(o, "role"), "responder");
	ASSERT_STR(jstr(o, "method"), "GET");
	ASSERT_STR(jstr(o, "path"), "/echo/x");
	ASSERT_STR(jstr(o, "script_name"), "/echo");
	ASSERT_STR(jstr(o, "path_info"), "/x");
	ASSERT_STR(jstr(o, "query"), "a=1&b=hello+world&c=%C3%A9");
	ASSERT_STR(jstr(o, "params.a"), "1");
	ASSERT_STR(jstr(o, "params.b"), "hello world");
	ASSERT_STR(jstr(o, "params.c"), "\xc3\xa9");
	ASSERT_STR(jstr(o, "remote_addr"), "127.0.0.1");
	ASSERT_STR(jstr(o, "env.FCGI_ROLE"), "RESPONDER");
	/* bin-environment reaches the process environment. */
	ASSERT_STR(jstr(o, "conf"), "/etc/jwtgate-test.conf");
	CU_ASSERT_PTR_NULL(jstr(o, "authorization"));
	json_object_put(o);
	jg_it_response_clear(&r);
}

static void
test_post_form(void)
{
	static const char *const h[] = {
		"Content-Type: application/x-www-form-urlencoded; charset=UTF-8", NULL,
	};
	struct jg_it_response r;
	struct json_object *o;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t.lt);
	CU_ASSERT_EQUAL(post("/echo?q=ignored", h,
			     "grant_type=authorization_code&code=abc%2Fdef&empty=", &r), 200);
	o = body_json(&r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	ASSERT_STR(jstr(o, "method"), "POST");
	ASSERT_STR(jstr(o, "path"), "/echo");
	ASSERT_STR(jstr(o, "params.grant_type"), "authorization_code");
	ASSERT_STR(jstr(o, "params.code"), "abc/def");
	ASSERT_STR(jstr(o, "params.empty"), "");
	CU_ASSERT_PTR_NULL(jstr(o, "params.q"));
	CU_ASSERT_EQUAL(jint(o, "body_length"), 51);
	json_object_put(o);
	jg_it_response_clear(&r);
}

static void
test_authorization_header(void)
{
	static const char *const h[] = { "Authorization: Bearer abc.def-_~+/==", NULL };
	static const char *const bad[] = { "Authorization: Bearer a b", NULL };
	struct jg_it_response r;
	struct json_object *o;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t.lt);
	CU_ASSERT_EQUAL(get("/echo", h, &r), 200);
	o = body_json(&r);
	ASSERT_STR(jstr(o, "authorization"), "Bearer abc.def-_~+/==");
	json_object_put(o);
	jg_it_response_clear(&r);

	CU_ASSERT_EQUAL(get("/echo/bearer", h, &r), 200);
	o = body_json(&r);
	CU_ASSERT_EQUAL(jint(o, "token_length"), 14);
	json_object_put(o);
	jg_it_response_clear(&r);

	/* RFC 6750 section 3 answers relayed by the server. */
	CU_ASSERT_EQUAL(get("/echo/bearer", NULL, &r), 401);
	ASSERT_STR(jg_it_header(&r, "WWW-Authenticate"), "Bearer realm=\"echo\"");
	jg_it_response_clear(&r);
	CU_ASSERT_EQUAL(get("/echo/bearer", bad, &r), 400);
	ASSERT_STR(jg_it_header(&r, "WWW-Authenticate"),
			       "Bearer realm=\"echo\", error=\"invalid_request\", "
			       "error_description=\"malformed Authorization header\"");
	jg_it_response_clear(&r);
}

static void
test_body_limits(void)
{
	static const char *const h[] = {
		"Content-Type: application/x-www-form-urlencoded", NULL,
	};
	char *body = jg_xmalloc(JG_HTTP_MAX_BODY + 2);
	struct jg_it_response r;
	struct json_object *o;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t.lt);
	/* Exactly JG_HTTP_MAX_BODY (64 KiB) is accepted. */
	memcpy(body, "v=", 2);
	memset(body + 2, 'x', JG_HTTP_MAX_BODY - 2);
	body[JG_HTTP_MAX_BODY] = '\0';
	CU_ASSERT_EQUAL(post("/echo", h, body, &r), 200);
	o = body_json(&r);
	CU_ASSERT_EQUAL(jint(o, "body_length"), JG_HTTP_MAX_BODY);
	json_object_put(o);
	jg_it_response_clear(&r);
	/* One byte more is 413 in the program's error format. */
	body[JG_HTTP_MAX_BODY] = 'x';
	body[JG_HTTP_MAX_BODY + 1] = '\0';
	CU_ASSERT_EQUAL(post("/echo", h, body, &r), 413);
	ASSERT_STR(r.body, "{\"error\":\"invalid_request\","
			       "\"error_description\":\"the request body is too large\"}");
	jg_it_response_clear(&r);
	free(body);
}

struct bad_input {
	const char *path;
	const char *body;	/* POSTed as a form when not NULL */
	long status;
	const char *answer;
};

/* Each answered 400 by the error table, never 500 (SPEC.md "Bad input of
 * any kind gets a clear 4xx answer"). */
static const struct bad_input bad_inputs[] = {
	{ "/echo?a=1&a=2", NULL, 400,
	  "{\"error\":\"invalid_request\",\"error_description\":\"a parameter is repeated\"}" },
	{ "/echo", "a=1&b=2&a=3", 400,
	  "{\"error\":\"invalid_request\",\"error_description\":\"a parameter is repeated\"}" },
	/* In a query lighttpd rewrites a stray "%" as "%25"; in a body it
	 * reaches the program as sent. */
	{ "/echo", "a=%zz", 400,
	  "{\"error\":\"invalid_request\",\"error_description\":"
	  "\"a parameter value has a bad percent-encoding\"}" },
	{ "/echo", "a=%00", 400,
	  "{\"error\":\"invalid_request\",\"error_description\":"
	  "\"a parameter value holds a NUL byte\"}" },
	{ "/echo?a=%C3%28", NULL, 400,
	  "{\"error\":\"invalid_request\",\"error_description\":"
	  "\"a parameter value is not valid UTF-8\"}" },
	{ "/echo/busy", NULL, 503,
	  "{\"error\":\"temporarily_unavailable\",\"error_description\":\"the store is busy\"}" },
};

static void
test_bad_input(void)
{
	static const char *const h[] = {
		"Content-Type: application/x-www-form-urlencoded", NULL,
	};
	size_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t.lt);
	for (i = 0; i < sizeof(bad_inputs) / sizeof(bad_inputs[0]); i++) {
		const struct bad_input *c = &bad_inputs[i];
		struct jg_it_response r;
		long status = c->body ? post(c->path, h, c->body, &r) : get(c->path, NULL, &r);

		if (status != c->status)
			fprintf(stderr, "bad input %s: %ld %s\n", c->path, status, r.body);
		CU_ASSERT_EQUAL(status, c->status);
		ASSERT_STR(r.body, c->answer);
		if (c->status == 503) {
			ASSERT_STR(jg_it_header(&r, "Retry-After"), "1");
		}
		jg_it_response_clear(&r);
	}
}

static void
test_html_and_cookies(void)
{
	struct jg_it_response r;
	struct json_object *o;
	char *sid;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t.lt);
	CU_ASSERT_EQUAL(get("/echo/html", NULL, &r), 200);
	ASSERT_STR(jg_it_header(&r, "Content-Type"), "text/html; charset=utf-8");
	ASSERT_STR(jg_it_header(&r, "Content-Security-Policy"),
			       "default-src 'self'; frame-ancestors 'none'; "
			       "form-action 'self'; base-uri 'none'");
	ASSERT_STR(jg_it_header(&r, "X-Frame-Options"), "DENY");
	ASSERT_STR(jg_it_header(&r, "Referrer-Policy"), "no-referrer");
	ASSERT_STR(r.body, "<!DOCTYPE html><p>hello</p>\n");
	jg_it_response_clear(&r);

	CU_ASSERT_EQUAL(get("/echo/cookie", NULL, &r), 200);
	ASSERT_STR(jg_it_header(&r, "Set-Cookie"),
			       "sid=abc; Max-Age=60; Path=/; HttpOnly; SameSite=Lax");
	jg_it_response_clear(&r);
	sid = jg_it_cookie(t.client, "sid");
	CU_ASSERT_PTR_NOT_NULL(sid);
	if (sid) {
		ASSERT_STR(sid, "abc");
	}
	free(sid);
	/* The jar sends it back. */
	CU_ASSERT_EQUAL(get("/echo", NULL, &r), 200);
	o = body_json(&r);
	ASSERT_STR(jstr(o, "cookie"), "sid=abc");
	json_object_put(o);
	jg_it_response_clear(&r);
}

static void
test_raw_request(void)
{
	static const char req[] =
		"GET /echo/raw?x=1 HTTP/1.1\r\nHost: test.example\r\nX-Test: one\r\n"
		"Connection: close\r\n\r\n";
	char *answer;
	int status;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t.lt);
	answer = jg_it_raw(t.lt->port, req, sizeof(req) - 1, &status);
	CU_ASSERT_PTR_NOT_NULL_FATAL(answer);
	CU_ASSERT_EQUAL(status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(answer, "\"HTTP_X_TEST\":\"one\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(answer, "\"host\":\"test.example\""));
	free(answer);
}

/* ------------------------------------------------------------ authorizer */

static void
test_authorizer(void)
{
	static const char *const allow[] = { "Authorization: Bearer let-me-in", NULL };
	static const char *const wrong[] = { "Authorization: Bearer nope", NULL };
	struct jg_it_response r;
	struct json_object *o;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t.lt);
	/* Allowed: the static file itself. */
	CU_ASSERT_EQUAL(get("/gated/file.txt", allow, &r), 200);
	ASSERT_STR(r.body, "secret file\n");
	CU_ASSERT_PTR_NULL(jg_it_header(&r, "Variable-X_USER"));
	jg_it_response_clear(&r);

	/* Denied without credentials: the program's 401 relayed as sent. */
	CU_ASSERT_EQUAL(get("/gated/file.txt", NULL, &r), 401);
	ASSERT_STR(jg_it_header(&r, "WWW-Authenticate"), "Bearer realm=\"echo\"");
	CU_ASSERT_PTR_NULL(strstr(r.body, "secret"));
	jg_it_response_clear(&r);

	/* The path an authorizer sees comes from REQUEST_URI, decoded and
	 * normalised as the server does before it serves the file. */
	CU_ASSERT_EQUAL(get("/gated/./sub/../%66ile.txt?x=%41", wrong, &r), 401);
	ASSERT_STR(jg_it_header(&r, "X-Echo-Path"), "/gated/file.txt");
	jg_it_response_clear(&r);

	CU_ASSERT_EQUAL(get("/gated/file.txt", wrong, &r), 401);
	ASSERT_STR(jg_it_header(&r, "WWW-Authenticate"),
			       "Bearer realm=\"echo\", error=\"invalid_token\", "
			       "error_description=\"the token is not let-me-in\"");
	ASSERT_STR(r.body, "{\"error\":\"invalid_token\","
			       "\"error_description\":\"the token is not let-me-in\"}");
	jg_it_response_clear(&r);

	/* Allowed: a CGI script behind the gate sees Variable-X_USER as X_USER,
	 * and the client never sees the Variable- header. */
	CU_ASSERT_EQUAL(get("/gated/echo.cgi?z=1", allow, &r), 200);
	CU_ASSERT_PTR_NULL(jg_it_header(&r, "Variable-X_USER"));
	o = body_json(&r);
	ASSERT_STR(jstr(o, "env.X_USER"), "alice");
	ASSERT_STR(jstr(o, "env.GATEWAY_INTERFACE"), "CGI/1.1");
	ASSERT_STR(jstr(o, "params.z"), "1");
	json_object_put(o);
	jg_it_response_clear(&r);
	CU_ASSERT_EQUAL(get("/gated/echo.cgi", NULL, &r), 401);
	jg_it_response_clear(&r);
}

/* ------------------------------------------------------------ plain CGI */

static void
test_plain_cgi(void)
{
	static const char *const env[] = {
		"GATEWAY_INTERFACE=CGI/1.1", "REQUEST_METHOD=POST", "SCRIPT_NAME=/cgi-bin/echo",
		"PATH_INFO=/more", "QUERY_STRING=x=1", "REMOTE_ADDR=192.0.2.1",
		"CONTENT_TYPE=application/x-www-form-urlencoded", "CONTENT_LENGTH=13",
		"HTTP_AUTHORIZATION=Bearer cgi", "HTTPS=on", NULL,
	};
	static const char *const short_body[] = {
		"REQUEST_METHOD=POST", "SCRIPT_NAME=/e", "CONTENT_LENGTH=20", NULL,
	};
	static const char *const by_hand[] = { "PATH=/usr/bin:/bin", NULL };
	struct json_object *o = NULL;
	char *out = NULL, *json;
	size_t len;

	CU_ASSERT_EQUAL(jg_it_run_cgi(t.echo, env, "a=1&b=x+y&c=3", 13, &out, &len), 0);
	CU_ASSERT_EQUAL_FATAL(strncmp(out, "Status: 200 OK\r\nContent-Type: application/json\r\n",
				      48), 0);
	json = strstr(out, "\r\n\r\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(json);
	CU_ASSERT_EQUAL(jg_json_parse_object(json + 4, strlen(json + 4), &o, NULL), JG_OK);
	ASSERT_STR(jstr(o, "path"), "/cgi-bin/echo/more");
	ASSERT_STR(jstr(o, "params.b"), "x y");
	ASSERT_STR(jstr(o, "authorization"), "Bearer cgi");
	CU_ASSERT_TRUE(json_object_get_boolean(jg_json_get(o, "https")));
	json_object_put(o);
	free(out);

	/* A body shorter than CONTENT_LENGTH: 400, and the process ends. */
	CU_ASSERT_EQUAL(jg_it_run_cgi(t.echo, short_body, "a=1", 3, &out, &len), 0);
	CU_ASSERT_EQUAL(strncmp(out, "Status: 400 Bad Request\r\n", 25), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "shorter than its Content-Length"));
	free(out);

	/* Run by hand (no CGI environment): exit status 1, nothing on stdout. */
	CU_ASSERT_EQUAL(jg_it_run_cgi(t.echo, by_hand, NULL, 0, &out, &len), 1);
	CU_ASSERT_EQUAL(len, 0);
	free(out);
}

/* ------------------------------------------------------------ standalone */

struct slow_request {
	const char *path;
	long status;
	int64_t pid;
};

static void *
slow_thread(void *arg)
{
	struct slow_request *s = arg;
	struct jg_it_client *c = jg_it_client_new();
	struct jg_it_response r;
	char *u = url(s->path);

	s->status = jg_it_get(c, u, NULL, &r) ? r.status : -1;
	if (s->status == 200) {
		struct json_object *o = body_json(&r);

		s->pid = jint(o, "pid");
		json_object_put(o);
	}
	jg_it_response_clear(&r);
	free(u);
	jg_it_client_free(c);
	return NULL;
}

/* SIGTERM during a request: the request is answered, then the program
 * exits with status 0 and removes its Unix socket. */
static void
check_standalone(const char *prefix, pid_t pid, const char *socket_path)
{
	struct slow_request s = { NULL, 0, 0 };
	struct jg_it_response r;
	struct json_object *o;
	pthread_t th;
	char *path, *marker;

	path = jg_xasprintf("%s/x?a=b", prefix);
	CU_ASSERT_EQUAL(get(path, NULL, &r), 200);
	free(path);
	o = body_json(&r);
	CU_ASSERT_EQUAL(jint(o, "pid"), (int64_t)pid);
	ASSERT_STR(jstr(o, "params.a"), "b");
	json_object_put(o);
	jg_it_response_clear(&r);

	path = jg_xasprintf("%s/slow", prefix);
	s.path = path;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, slow_thread, &s), 0);
	/* SIGTERM while the handler sleeps its 700 ms. */
	marker = jg_xasprintf("echo_fcgi[%ld]: info: slow request started", (long)pid);
	CU_ASSERT(wait_for_log(marker, 10000));
	free(marker);
	kill(pid, SIGTERM);
	pthread_join(th, NULL);
	free(path);
	CU_ASSERT_EQUAL(s.status, 200);
	CU_ASSERT_EQUAL(s.pid, (int64_t)pid);
	CU_ASSERT_EQUAL(jg_it_wait(pid, 5000), 0);
	if (socket_path) {
		struct stat st;

		CU_ASSERT_NOT_EQUAL(lstat(socket_path, &st), 0);
	}
}

static void
test_standalone_unix(void)
{
	CU_ASSERT_PTR_NOT_NULL_FATAL(t.lt);
	check_standalone("/standalone-unix", t.standalone_unix, t.unix_socket);
}

static void
test_standalone_tcp(void)
{
	CU_ASSERT_PTR_NOT_NULL_FATAL(t.lt);
	check_standalone("/standalone-tcp", t.standalone_tcp, NULL);
}

/* ------------------------------------------------ the end of a connection */

/* Appends one FastCGI record (request id 1) of type with n bytes. */
static size_t
fcgi_record(unsigned char *buf, size_t at, int type, const void *data, size_t n)
{
	buf[at] = 1;
	buf[at + 1] = (unsigned char)type;
	buf[at + 2] = 0;
	buf[at + 3] = 1;
	buf[at + 4] = (unsigned char)(n >> 8);
	buf[at + 5] = (unsigned char)n;
	buf[at + 6] = 0;
	buf[at + 7] = 0;
	if (n > 0)
		memcpy(buf + at + 8, data, n);
	return at + 8 + n;
}

/* Appends a name-value pair (both shorter than 128 bytes). */
static size_t
fcgi_pair(unsigned char *buf, size_t at, const char *name, const char *value)
{
	size_t nl = strlen(name), vl = strlen(value);

	buf[at] = (unsigned char)nl;
	buf[at + 1] = (unsigned char)vl;
	memcpy(buf + at + 2, name, nl);
	memcpy(buf + at + 2 + nl, value, vl);
	return at + 2 + nl + vl;
}

/* Sends one responder request to the standalone program's Unix socket:
 * method, CONTENT_LENGTH content_length (NULL: none) and body_sent bytes
 * of body ('a'), with the end of FCGI_STDIN when end_stdin.  Reads the
 * answer to its FCGI_END_REQUEST and then to the program's end of the
 * stream.  Returns the connection, still open on this side, or -1. */
static int
raw_request(const char *method, const char *content_length, size_t body_sent,
	    bool end_stdin, int *app_status)
{
	static const unsigned char begin[8] = { 0, 1, 0, 0, 0, 0, 0, 0 };
	unsigned char req[4096], params[1024], body[1000], in[8192];
	struct sockaddr_un sa;
	size_t at = 0, pn = 0, have = 0, pos, len;
	bool ended = false;
	ssize_t n;
	int fd;

	*app_status = -1;
	pn = fcgi_pair(params, pn, "REQUEST_METHOD", method);
	pn = fcgi_pair(params, pn, "REQUEST_URI", "/standalone-unix/x");
	pn = fcgi_pair(params, pn, "SCRIPT_NAME", "/standalone-unix");
	pn = fcgi_pair(params, pn, "PATH_INFO", "/x");
	pn = fcgi_pair(params, pn, "QUERY_STRING", "");
	pn = fcgi_pair(params, pn, "SERVER_PROTOCOL", "HTTP/1.1");
	pn = fcgi_pair(params, pn, "SERVER_NAME", "127.0.0.1");
	pn = fcgi_pair(params, pn, "SERVER_PORT", "80");
	pn = fcgi_pair(params, pn, "REMOTE_ADDR", "127.0.0.1");
	pn = fcgi_pair(params, pn, "HTTP_HOST", "127.0.0.1");
	if (content_length != NULL) {
		pn = fcgi_pair(params, pn, "CONTENT_LENGTH", content_length);
		pn = fcgi_pair(params, pn, "CONTENT_TYPE", "text/plain");
	}
	at = fcgi_record(req, at, 1, begin, sizeof(begin));
	at = fcgi_record(req, at, 4, params, pn);
	at = fcgi_record(req, at, 4, NULL, 0);
	memset(body, 'a', sizeof(body));
	if (body_sent > 0)
		at = fcgi_record(req, at, 5, body, body_sent);
	if (end_stdin)
		at = fcgi_record(req, at, 5, NULL, 0);

	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", t.unix_socket);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    send(fd, req, at, MSG_NOSIGNAL) != (ssize_t)at) {
		close(fd);
		return -1;
	}
	/* Records until FCGI_END_REQUEST (type 3), then the end of stream. */
	for (;;) {
		n = recv(fd, in + have, sizeof(in) - have, 0);
		if (n <= 0)
			break;
		have += (size_t)n;
		for (pos = 0; !ended && have - pos >= 8; pos += 8 + len + in[pos + 6]) {
			len = (size_t)in[pos + 4] << 8 | in[pos + 5];
			if (have - pos < 8 + len + in[pos + 6])
				break;
			if (in[pos + 1] == 3 && len >= 4) {
				*app_status = in[pos + 8] << 24 | in[pos + 9] << 16 |
					      in[pos + 10] << 8 | in[pos + 11];
				ended = true;
			}
		}
		if (have == sizeof(in))
			break;
	}
	if (!ended || n != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* How a program ends a FastCGI connection (server.c): a plain close when
 * the web server has sent the whole request (FCGI_STDIN ended) and none of
 * it is unread, else libfcgi's lingering close, which keeps reading after
 * its shutdown.  Seen from this side after the end of the
 * stream: a plain close has closed the socket (a write fails), a lingering
 * close still takes what is sent. */
static void
test_connection_end(void)
{
	int fd, status;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t.lt);
	/* A GET: nothing more to come, a plain close. */
	fd = raw_request("GET", NULL, 0, true, &status);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(status, 0);
	errno = 0;
	CU_ASSERT_EQUAL(send(fd, "x", 1, MSG_NOSIGNAL), -1);
	CU_ASSERT_EQUAL(errno, EPIPE);
	close(fd);
	/* A GET whose FCGI_STDIN has not ended yet: not waited for, and the
	 * program lingers (the web server may still send it). */
	fd = raw_request("GET", NULL, 0, false, &status);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(status, 0);
	CU_ASSERT_EQUAL(send(fd, "more", 4, MSG_NOSIGNAL), 4);
	close(fd);
	/* A POST whose body was read to the end: a plain close. */
	fd = raw_request("POST", "10", 10, true, &status);
	CU_ASSERT_FATAL(fd >= 0);
	errno = 0;
	CU_ASSERT_EQUAL(send(fd, "x", 1, MSG_NOSIGNAL), -1);
	CU_ASSERT_EQUAL(errno, EPIPE);
	close(fd);
	/* A body over the limit, refused unread: the program lingers and
	 * still reads what the web server sends. */
	fd = raw_request("POST", "100000000", 1000, false, &status);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(send(fd, "more", 4, MSG_NOSIGNAL), 4);
	close(fd);
	/* The program serves on. */
	fd = raw_request("GET", NULL, 0, true, &status);
	CU_ASSERT(fd >= 0);
	if (fd >= 0)
		close(fd);
}

static void
test_listen_refused(void)
{
	static const char *const bad[] = {
		"0.0.0.0:9", "192.0.2.1:9", "127.0.0.1:0", "127.0.0.1:99999", "[::]:9",
		"example.com:80",
	};
	size_t i;

	/* Non-loopback addresses and bad ports: exit status 1 at once, nothing
	 * bound (libfcgi's parameter parser must not face the network). */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *argv[] = { t.echo, "--listen", bad[i], NULL };
		pid_t pid = jg_it_spawn(argv, NULL);

		CU_ASSERT_EQUAL(jg_it_wait(pid, 5000), 1);
	}
	{
		/* A regular file in the way of the socket is left alone. */
		char *path = jg_xasprintf("%s/not-a-socket", t.work);
		const char *argv[] = { t.echo, "--listen", path, NULL };
		pid_t pid;
		struct stat st;

		CU_ASSERT(jg_it_write_file(t.work, "not-a-socket", "keep me", 0644));
		pid = jg_it_spawn(argv, NULL);
		CU_ASSERT_EQUAL(jg_it_wait(pid, 5000), 1);
		CU_ASSERT_EQUAL(stat(path, &st), 0);
		CU_ASSERT_TRUE(S_ISREG(st.st_mode));
		free(path);
	}
}

/* ------------------------------------------------------------ teardown */

static void
test_stop_lighttpd(void)
{
	char *dir;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t.lt);
	/* No sanitizer report from the programs lighttpd ran. */
	CU_ASSERT_FALSE(jg_it_log_contains(t.lt, "Sanitizer"));
	CU_ASSERT_FALSE(jg_it_log_contains(t.lt, "runtime error"));
	dir = jg_xstrdup(t.lt->dir);
	/* lighttpd stops its FastCGI processes on SIGTERM. */
	CU_ASSERT_TRUE(jg_it_server_stop(t.lt));
	t.lt = NULL;
	CU_ASSERT_EQUAL(jg_it_leftovers(0, dir), 0);
	CU_ASSERT_EQUAL(jg_it_leftovers(0, t.echo), 0);
	free(dir);
	jg_it_client_free(t.client);
	t.client = NULL;
}

/* ------------------------------------------------------------ Apache */

static void
test_apache(void)
{
	static const char *const env[] = { "JWTGATE_CONF=/etc/jwtgate-apache.conf", NULL };
	static const char *const h[] = { "Authorization: Bearer through-apache", NULL };
	static const char *const form[] = {
		"Content-Type: application/x-www-form-urlencoded", NULL,
	};
	static const char *const allow[] = { "Authorization: Bearer let-me-in", NULL };
	struct jg_it_program programs[2];
	struct jg_it_server_opts opts;
	struct jg_it_server *ap;
	struct jg_it_client *c;
	struct jg_it_response r;
	struct json_object *o;
	char *u, *dir;

	memset(programs, 0, sizeof(programs));
	programs[0].prefix = "/echo";
	programs[0].bin = t.echo;
	programs[0].env = env;
	programs[1].prefix = "/gated/";
	programs[1].bin = t.echo;
	programs[1].authorizer = true;
	memset(&opts, 0, sizeof(opts));
	opts.programs = programs;
	opts.nprograms = 2;
	opts.extra = "Header always unset Variable-X_USER";
	ap = jg_it_apache_start(&opts);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ap);
	CU_ASSERT(jg_it_write_file(ap->htdocs, "gated/file.txt", "apache secret\n", 0644));
	c = jg_it_client_new();

	/* FcgidAccessChecker with "Require all granted": an allow serves the
	 * file (the Variable- header removed by the configuration), a denial
	 * reaches the client as 401 with the program's challenge. */
	u = jg_xasprintf("%s/gated/file.txt", ap->url);
	CU_ASSERT_TRUE(jg_it_get(c, u, allow, &r));
	CU_ASSERT_EQUAL(r.status, 200);
	ASSERT_STR(r.body, "apache secret\n");
	CU_ASSERT_PTR_NULL(jg_it_header(&r, "Variable-X_USER"));
	jg_it_response_clear(&r);
	CU_ASSERT_TRUE(jg_it_get(c, u, NULL, &r));
	free(u);
	CU_ASSERT_EQUAL(r.status, 401);
	ASSERT_STR(jg_it_header(&r, "WWW-Authenticate"), "Bearer realm=\"echo\"");
	CU_ASSERT_PTR_NULL(strstr(r.body, "apache secret"));
	jg_it_response_clear(&r);

	/* FcgidPassHeader Authorization: the header reaches the program. */
	u = jg_xasprintf("%s/echo/x?a=1", ap->url);
	CU_ASSERT_TRUE(jg_it_get(c, u, h, &r));
	free(u);
	CU_ASSERT_EQUAL(r.status, 200);
	o = body_json(&r);
	ASSERT_STR(jstr(o, "authorization"), "Bearer through-apache");
	ASSERT_STR(jstr(o, "path"), "/echo/x");
	ASSERT_STR(jstr(o, "params.a"), "1");
	ASSERT_STR(jstr(o, "conf"), "/etc/jwtgate-apache.conf");
	json_object_put(o);
	jg_it_response_clear(&r);

	u = jg_xasprintf("%s/echo", ap->url);
	CU_ASSERT_TRUE(jg_it_post(c, u, form, "a=1&a=2", &r));
	CU_ASSERT_EQUAL(r.status, 400);
	ASSERT_STR(r.body, "{\"error\":\"invalid_request\","
			       "\"error_description\":\"a parameter is repeated\"}");
	jg_it_response_clear(&r);
	CU_ASSERT_TRUE(jg_it_post(c, u, form, "code=x%2By", &r));
	free(u);
	CU_ASSERT_EQUAL(r.status, 200);
	o = body_json(&r);
	ASSERT_STR(jstr(o, "params.code"), "x+y");
	json_object_put(o);
	jg_it_response_clear(&r);
	jg_it_client_free(c);

	CU_ASSERT_FALSE(jg_it_log_contains(ap, "Sanitizer"));
	dir = jg_xstrdup(ap->dir);
	CU_ASSERT_TRUE(jg_it_server_stop(ap));
	CU_ASSERT_EQUAL(jg_it_leftovers(0, dir), 0);
	CU_ASSERT_EQUAL(jg_it_leftovers(0, t.echo), 0);
	free(dir);
}

static void
test_nothing_left(void)
{
	/* Every server and program this suite started is gone. */
	CU_ASSERT_EQUAL(jg_it_leftovers(t.standalone_unix, NULL), 0);
	CU_ASSERT_EQUAL(jg_it_leftovers(t.standalone_tcp, NULL), 0);
	CU_ASSERT_EQUAL(jg_it_leftovers(0, t.echo), 0);
	CU_ASSERT_EQUAL(jg_it_leftovers(0, t.work), 0);
	free(t.echo);
	free(t.unix_socket);
}

int
main(void)
{
	static const struct jg_test tests[] = {
		{ "start lighttpd and standalone programs", test_start },
		{ "GET with a query string", test_get_query },
		{ "POST of a form", test_post_form },
		{ "Authorization header reaches the program", test_authorization_header },
		{ "request body limit", test_body_limits },
		{ "bad input answered 4xx or 503", test_bad_input },
		{ "HTML headers and cookies", test_html_and_cookies },
		{ "raw request", test_raw_request },
		{ "lighttpd authorizer mode", test_authorizer },
		{ "plain CGI", test_plain_cgi },
		{ "the end of a FastCGI connection", test_connection_end },
		{ "standalone on a Unix socket, SIGTERM", test_standalone_unix },
		{ "standalone on loopback TCP, SIGTERM", test_standalone_tcp },
		{ "--listen refuses other addresses", test_listen_refused },
		{ "lighttpd stops cleanly", test_stop_lighttpd },
		{ "Apache with mod_fcgid", test_apache },
		{ "no process left", test_nothing_left },
		{ NULL, NULL },
	};

	return jg_test_main("server", tests);
}
