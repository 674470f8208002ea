/* server.c: the FastCGI/CGI request loop every program shares. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "server.h"

extern char **environ;

/* FastCGI roles of the protocol (FCGI_RESPONDER ... in fastcgi.h). */
#define ROLE_RESPONDER 1
#define ROLE_AUTHORIZER 2

enum jg_err
jg_server_args(int argc, char *const *argv, struct jg_server_opts *opts)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc &&
		    argv[i + 1][0] != '\0') {
			opts->listen = argv[++i];
		} else if (strncmp(argv[i], "--listen=", 9) == 0 && argv[i][9]) {
			opts->listen = argv[i] + 9;
		} else {
			return JG_ERR_MALFORMED;
		}
	}
	return JG_OK;
}

/* ------------------------------------------------------------ answers */

static int64_t
request_time(const struct jg_server_handler *h, const struct jg_server_opts *o)
{
	return o->clock ? o->clock(h->ctx) : (int64_t)time(NULL);
}

static void
write_error(const struct jg_server_handler *h, const struct jg_server_opts *o,
	    const struct jg_request *req, int status, enum jg_err err,
	    const char *why, struct jg_response *resp)
{
	jg_response_clear(resp);
	if (o->error) {
		o->error(h->ctx, req, status, err, why, resp);
		if (resp->status != 0)
			return;
		jg_log(JG_LOG_ERROR, "the error hook wrote no answer");
		jg_response_clear(resp);
	}
	if (status == jg_http_status_for(o->style, err))
		jg_http_error_response(resp, o->style, err, o->realm, why);
	else
		jg_http_status_response(resp, o->style, status, why);
}

/* Parses one request, runs the handler, and leaves the answer in resp. */
static void
serve(const struct jg_server_handler *h, const struct jg_server_opts *o,
      const char *const *envp, enum jg_role role, const struct jg_body_source *body,
      struct jg_response *resp)
{
	struct jg_request req;
	const char *why = NULL;
	int status = 400;
	enum jg_err err;

	jg_request_init(&req);
	err = jg_request_parse(&req, envp, role, request_time(h, o), body,
			       o->max_body ? o->max_body : JG_HTTP_MAX_BODY,
			       &status, &why);
	if (err != JG_OK) {
		/* Never the query or headers: they may carry codes and tokens. */
		jg_log(JG_LOG_INFO, "refused %s %s: %d %s", req.method, req.path,
		       status, why ? why : "");
		write_error(h, o, &req, status, err, why, resp);
		goto out;
	}
	err = h->handle(h->ctx, &req, resp);
	if (err == JG_OK && resp->status == 0) {
		jg_log(JG_LOG_ERROR, "%s %s: the handler wrote no answer",
		       req.method, req.path);
		err = JG_ERR_SYSTEM;
		resp->error_description = NULL;
	}
	if (err != JG_OK) {
		why = resp->error_description ? resp->error_description
					      : jg_strerror(err);
		status = jg_http_status_for(o->style, err);
		jg_log(status >= 500 ? JG_LOG_WARN : JG_LOG_INFO, "%s %s: %d %s",
		       req.method, req.path, status, why);
		write_error(h, o, &req, status, err, why, resp);
	}
out:
	jg_request_clear(&req);
}

/* Serializes resp and hands it to put in one piece; wipes the copy. */
static bool
emit(const struct jg_response *resp,
     bool (*put)(void *dst, const char *data, size_t len), void *dst)
{
	size_t len;
	char *text = jg_response_serialize(resp, &len);
	bool ok = put(dst, text, len);

	jg_wipe(text, len);
	free(text);
	return ok;
}

/* ------------------------------------------------------------ FastCGI */

static long
fcgx_read(void *ctx, char *buf, size_t len)
{
	FCGX_Stream *in = ctx;
	int n = FCGX_GetStr(buf, len > INT_MAX ? INT_MAX : (int)len, in);

	if (n <= 0)
		return FCGX_GetError(in) ? -1 : 0;
	return n;
}

static bool
fcgx_put(void *dst, const char *data, size_t len)
{
	FCGX_Stream *out = dst;

	if (len > INT_MAX)
		return false;
	return FCGX_PutStr(data, (int)len, out) == (int)len;
}

/* Set by the stop signals.  The mutable globals here: a signal handler has
 * no other way to report.  stop_pipe's write end gets a byte on each stop
 * signal, so that a wait for the next connection cannot miss one. */
static volatile sig_atomic_t stop_requested;
static int stop_pipe[2] = { -1, -1 };

static void
stop_signal(int sig)
{
	int saved = errno;

	(void)sig;
	stop_requested = 1;
	/* libfcgi's flag (a volatile int) and write(2): async-signal-safe. */
	FCGX_ShutdownPending();
	if (stop_pipe[1] >= 0 && write(stop_pipe[1], "", 1) < 0) {
		/* Full pipe: a byte is already waiting. */
	}
	errno = saved;
}

/* The stop signals set the flag and write to stop_pipe.  SA_RESTART: a
 * signal during a request does not cut short its reads and writes (the
 * answer is written whole); the loop looks at the flag between requests,
 * and the wait for a connection watches the pipe. */
static bool
install_stop_handlers(void)
{
	struct sigaction sa;

	if (pipe(stop_pipe) != 0) {
		stop_pipe[0] = stop_pipe[1] = -1;
		return false;
	}
	if (fcntl(stop_pipe[0], F_SETFL, O_NONBLOCK) != 0 ||
	    fcntl(stop_pipe[1], F_SETFL, O_NONBLOCK) != 0 ||
	    fcntl(stop_pipe[0], F_SETFD, FD_CLOEXEC) != 0 ||
	    fcntl(stop_pipe[1], F_SETFD, FD_CLOEXEC) != 0)
		return false;
	/* FCGX_Init installed its own handler for SIGTERM and SIGUSR1. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = stop_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	return true;
}

/* Waits until the listening socket has a connection or a stop signal came;
 * false on an error of poll itself. */
static bool
wait_for_connection(int sock)
{
	struct pollfd fds[2];

	fds[0].fd = sock;
	fds[0].events = POLLIN;
	fds[1].fd = stop_pipe[0];
	fds[1].events = POLLIN;
	fds[0].revents = fds[1].revents = 0;
	return poll(fds, 2, -1) >= 0 || errno == EINTR;
}

/* True when the web server has sent all of request r and nothing of it
 * waits unread: libfcgi has read FCGI_STDIN to its end (for a request with
 * a body, http.c reads one byte past CONTENT_LENGTH, which gets there) and
 * the kernel holds no more input.  For a request without a body the end
 * of FCGI_STDIN is looked for here, with the socket non-blocking for that
 * one read, so that a web server that has not sent it yet is never waited
 * for (libfcgi usually has it in its buffer already: web servers send it
 * with the parameters).  A body left unread answers false. */
static bool
request_complete(FCGX_Request *r)
{
	const char *cl;
	int n = -1, c;

	if (r->ipcFd <= 0)
		return false;
	if (FCGX_HasSeenEOF(r->in) != EOF) {
		cl = FCGX_GetParam("CONTENT_LENGTH", r->envp);
		if (cl != NULL && cl[0] != '\0' && strcmp(cl, "0") != 0)
			return false;
		/* An accepted socket has no other file status flag set. */
		if (fcntl(r->ipcFd, F_SETFL, O_NONBLOCK) != 0)
			return false;
		c = FCGX_GetChar(r->in);
		if (fcntl(r->ipcFd, F_SETFL, 0) != 0 || c != EOF)
			return false;
	}
	/* libfcgi also marks the stream ended on a read error (EAGAIN
	 * above, or a broken connection): that is not the end. */
	if (FCGX_HasSeenEOF(r->in) != EOF || FCGX_GetError(r->in) != 0)
		return false;
	return ioctl(r->ipcFd, FIONREAD, &n) == 0 && n == 0;
}

static enum jg_err
fcgi_loop(const struct jg_server_handler *h, const struct jg_server_opts *o,
	  int sock)
{
	FCGX_Request r;
	struct jg_response resp;
	unsigned long served = 0;
	int flags;
	bool failed = false;

	if (FCGX_InitRequest(&r, sock, 0) != 0) {
		jg_log(JG_LOG_ERROR, "FCGX_InitRequest failed");
		return JG_ERR_SYSTEM;
	}
	/* The listening socket does not block: accept takes a waiting
	 * connection or says there is none, and only then does the loop wait
	 * in poll, with the stop pipe beside the socket.  (Processes sharing
	 * one socket, as under spawn-fcgi -F, all run this same loop.)  No
	 * signal mask changes per request. */
	flags = fcntl(sock, F_GETFL);
	if (flags < 0 || fcntl(sock, F_SETFL, flags | O_NONBLOCK) != 0 ||
	    !install_stop_handlers()) {
		jg_log(JG_LOG_ERROR, "preparing the FastCGI socket failed: %s",
		       strerror(errno));
		FCGX_Free(&r, 1);
		return JG_ERR_SYSTEM;
	}
	while (!stop_requested) {
		struct jg_body_source body;
		enum jg_role role;
		int rc;

		rc = FCGX_Accept_r(&r);
		if (rc == -EAGAIN || rc == -EWOULDBLOCK || rc == -EINTR) {
			if (!wait_for_connection(sock)) {
				failed = true;
				break;
			}
			continue;
		}
		if (rc < 0) {
			failed = !stop_requested;
			break;
		}
		body.read = fcgx_read;
		body.ctx = r.in;
		body.has_end = true;
		jg_response_init(&resp);
		if (r.role == ROLE_RESPONDER || r.role == ROLE_AUTHORIZER) {
			role = r.role == ROLE_AUTHORIZER ? JG_ROLE_AUTHORIZER
							 : JG_ROLE_RESPONDER;
			serve(h, o, (const char *const *)r.envp, role, &body, &resp);
		} else {
			jg_log(JG_LOG_WARN, "FastCGI role %d is not supported", r.role);
			jg_http_status_response(&resp, o->style, 400,
						"this FastCGI role is not supported");
		}
		if (!emit(&resp, fcgx_put, r.out))
			jg_log(JG_LOG_INFO, "the answer could not be written (the client went away?)");
		jg_response_clear(&resp);
		/* libfcgi ends a connection with a lingering close: shutdown,
		 * then wait for the web server to close its side and read
		 * whatever it still sends, so that a close with unread input
		 * cannot reset the connection before the web server has read
		 * the answer.  When the web server has sent the whole request
		 * and none of it is left unread, a plain close is as safe and
		 * saves the wait (a sleep and a wake-up per request).  A
		 * request whose body was not read to its end still lingers. */
		if (request_complete(&r))
			FCGX_Detach(&r);
		/* The answer is flushed whole before the stop flag is looked
		 * at again (SA_RESTART keeps a signal from cutting it). */
		FCGX_Finish_r(&r);
		FCGX_Attach(&r);
		served++;
	}
	FCGX_Free(&r, 1);
	if (failed) {
		jg_log(JG_LOG_ERROR, "accepting a FastCGI connection failed after %lu "
		       "requests", served);
		return JG_ERR_SYSTEM;
	}
	jg_log(JG_LOG_INFO, "shutting down after %lu requests", served);
	return JG_OK;
}

/* True for 127.0.0.0/8 and ::1. */
static bool
parse_loopback(const char *spec, struct sockaddr_storage *ss, socklen_t *sslen)
{
	char host[64];
	const char *colon = strrchr(spec, ':'), *port_s;
	unsigned long port;
	char *end;
	size_t hlen;

	if (colon == NULL)
		return false;
	port_s = colon + 1;
	hlen = (size_t)(colon - spec);
	if (hlen == 0 || hlen >= sizeof(host) || port_s[0] < '0' || port_s[0] > '9')
		return false;
	errno = 0;
	port = strtoul(port_s, &end, 10);
	if (errno || *end || port == 0 || port > 65535)
		return false;
	memcpy(host, spec, hlen);
	host[hlen] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (strcmp(host, "localhost") == 0)
		strcpy(host, "127.0.0.1");
	if (host[0] == '[' && host[hlen - 1] == ']') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		host[hlen - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &s6->sin6_addr) != 1 ||
		    !IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr))
			return false;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*sslen = sizeof(*s6);
		return true;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1 ||
		    (ntohl(s4->sin_addr.s_addr) >> 24) != 127)
			return false;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*sslen = sizeof(*s4);
		return true;
	}
}

/* Removes a Unix socket file nobody listens on any more; leaves anything
 * else alone.  Returns false when path is in use or not a socket. */
static bool
clear_stale_socket(const char *path, const struct sockaddr_un *sun)
{
	struct stat st;
	int fd;
	bool stale;

	if (lstat(path, &st) != 0)
		return errno == ENOENT;
	if (!S_ISSOCK(st.st_mode))
		return false;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	stale = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) != 0 &&
		errno == ECONNREFUSED;
	close(fd);
	return stale && unlink(path) == 0;
}

/* Opens the --listen socket; returns the descriptor or -1 (logged). */
static int
open_listen(const char *spec, bool *is_unix)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	int fd = -1, one = 1;

	*is_unix = strchr(spec, '/') != NULL;
	if (*is_unix) {
		struct sockaddr_un sun;
		mode_t old;

		memset(&sun, 0, sizeof(sun));
		if (strlen(spec) >= sizeof(sun.sun_path)) {
			jg_log(JG_LOG_ERROR, "--listen %s: the socket path is too long", spec);
			return -1;
		}
		sun.sun_family = AF_UNIX;
		strcpy(sun.sun_path, spec);
		if (!clear_stale_socket(spec, &sun)) {
			jg_log(JG_LOG_ERROR, "--listen %s: the path exists and is not a stale socket",
			       spec);
			return -1;
		}
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			goto fail;
		/* Created 0660 at once: no window where others may connect. */
		old = umask(0117);
		if (bind(fd, (const struct sockaddr *)&sun, sizeof(sun)) != 0) {
			umask(old);
			goto fail;
		}
		umask(old);
	} else {
		if (!parse_loopback(spec, &ss, &sslen)) {
			jg_log(JG_LOG_ERROR, "--listen %s: expected a socket path or a loopback "
			       "address such as 127.0.0.1:9000", spec);
			return -1;
		}
		fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			goto fail;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (const struct sockaddr *)&ss, sslen) != 0)
			goto fail;
	}
	if (listen(fd, 64) != 0)
		goto fail;
	return fd;
fail:
	jg_log(JG_LOG_ERROR, "--listen %s: %s", spec, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

/* ------------------------------------------------------------ CGI */

static long
fd_read(void *ctx, char *buf, size_t len)
{
	int fd = *(const int *)ctx;
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -1 : (long)n;
}

static bool
fd_put(void *dst, const char *data, size_t len)
{
	int fd = *(const int *)dst;
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = write(fd, data + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		done += (size_t)n;
	}
	return true;
}

static enum jg_err
cgi_once(const struct jg_server_handler *h, const struct jg_server_opts *o)
{
	struct jg_body_source body;
	struct jg_response resp;
	int in = STDIN_FILENO, out = STDOUT_FILENO;
	bool ok;

	/* FCGX_IsCGI ran FCGX_Init, which caught SIGTERM: a CGI process must
	 * die when the web server gives up on it. */
	signal(SIGTERM, SIG_DFL);
	signal(SIGUSR1, SIG_DFL);
	if (getenv("REQUEST_METHOD") == NULL) {
		jg_log(JG_LOG_ERROR, "not started by a web server: run it under a FastCGI "
		       "process manager (mod_fcgid, lighttpd bin-path, spawn-fcgi), with "
		       "--listen SOCKET, or as a CGI script");
		return JG_ERR_MALFORMED;
	}
	/* httpoxy (CVE-2016-5385): in CGI a client's "Proxy:" header becomes
	 * the HTTP_PROXY variable, which HTTP clients may take for a proxy
	 * setting. */
	unsetenv("HTTP_PROXY");
	body.read = fd_read;
	body.ctx = &in;
	/* A CGI stdin may be the client's connection: never read past
	 * CONTENT_LENGTH. */
	body.has_end = false;
	jg_response_init(&resp);
	serve(h, o, (const char *const *)environ, JG_ROLE_RESPONDER, &body, &resp);
	ok = emit(&resp, fd_put, &out);
	jg_response_clear(&resp);
	if (!ok) {
		jg_log(JG_LOG_WARN, "the answer could not be written: %s", strerror(errno));
		return JG_ERR_SYSTEM;
	}
	return JG_OK;
}

enum jg_err
jg_server_run(const struct jg_server_handler *handler,
	      const struct jg_server_opts *opts)
{
	enum jg_err err;
	bool is_unix;
	int fd;

	if (opts->listen == NULL) {
		/* FCGX_IsCGI runs FCGX_Init and looks at fd 0: a listening
		 * socket there means a process manager started us. */
		if (FCGX_IsCGI())
			return cgi_once(handler, opts);
		return fcgi_loop(handler, opts, 0);
	}
	if (FCGX_Init() != 0) {
		jg_log(JG_LOG_ERROR, "FCGX_Init failed");
		return JG_ERR_SYSTEM;
	}
	fd = open_listen(opts->listen, &is_unix);
	if (fd < 0)
		return JG_ERR_SYSTEM;
	jg_log(JG_LOG_INFO, "listening on %s", opts->listen);
	err = fcgi_loop(handler, opts, fd);
	close(fd);
	if (is_unix)
		unlink(opts->listen);
	return err;
}

/* The handler of jg_server_run_broken: every request is refused. */
static enum jg_err
broken_handle(void *ctx, const struct jg_request *req, struct jg_response *resp)
{
	const char *why = ctx;

	jg_log(JG_LOG_ERROR, "refusing %s %s: not configured: %s", req->method,
	       req->path, why);
	resp->error_description = "the server is not configured correctly";
	return JG_ERR_SYSTEM;
}

enum jg_err
jg_server_run_broken(const struct jg_server_opts *opts, const char *why)
{
	struct jg_server_handler handler;

	handler.handle = broken_handle;
	handler.ctx = (void *)(uintptr_t)why;
	return jg_server_run(&handler, opts);
}
