/* server.h: the request loop every program shares: FastCGI on the socket a
 * process manager passed on fd 0, FastCGI on a socket the program opens
 * itself (--listen, for Apache mod_authnz_fcgi and spawn-fcgi-less hosts),
 * or a single plain CGI request. */
#ifndef JG_SERVER_H
#define JG_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include "http.h"
#include "util.h"

/* Answers one request.  req is parsed and valid until handle returns (copy
 * what must outlive it).  On JG_OK the handler has filled resp, status
 * included (a response left at status 0 is a bug and answered 500).  Any
 * other return discards resp and the loop answers from the error table of
 * http.h in the program's style (opts->style, or opts->error), described by
 * resp->error_description when the handler set it (a static string).  A
 * handler that wants an exact error answer writes it and returns JG_OK. */
struct jg_server_handler {
	enum jg_err (*handle)(void *ctx, const struct jg_request *req,
			      struct jg_response *resp);
	void *ctx;
};

struct jg_server_opts {
	/* NULL: take the socket from fd 0 when a FastCGI process manager
	 * started the program, else serve one CGI request.  Otherwise open
	 * and serve this FastCGI socket: a path (a Unix socket, created with
	 * mode 0660; a stale socket file there is replaced, any other file
	 * is not) or a loopback TCP address "127.0.0.1:PORT", "[::1]:PORT"
	 * or "localhost:PORT" (other addresses are refused: anyone who can
	 * connect can send FastCGI parameters, and libfcgi's parameter
	 * parser has had overflows, CVE-2025-23016). */
	const char *listen;
	/* Largest request body accepted; 0 means JG_HTTP_MAX_BODY. */
	size_t max_body;
	/* The format of the error answers the loop writes itself. */
	enum jg_http_style style;
	/* The realm of Bearer challenges in JG_STYLE_BEARER; NULL: "jwtgate". */
	const char *realm;
	/* Optional: writes the answer for a request refused before the
	 * handler ran (status from jg_request_parse, err JG_ERR_MALFORMED or
	 * JG_ERR_SYSTEM; req may be only partly parsed, its method and path
	 * may be "") or for a handler's error return (status from
	 * jg_http_status_for).  why is a static English description or the
	 * handler's resp->error_description.  NULL: jg_http_error_response,
	 * or jg_http_status_response for the statuses outside the table. */
	void (*error)(void *ctx, const struct jg_request *req, int status,
		      enum jg_err err, const char *why, struct jg_response *resp);
	/* Optional: the time stamped on each request (req->now).  NULL:
	 * time(NULL).  Tests pin the time with it. */
	int64_t (*clock)(void *ctx);
};

/* Reads the command line of a program: no arguments, or "--listen ADDR" /
 * "--listen=ADDR" (stored in opts->listen, pointing into argv).  Returns
 * JG_OK, or JG_ERR_MALFORMED for anything else (the caller prints a usage
 * line and exits with status 2). */
enum jg_err jg_server_args(int argc, char *const *argv,
			   struct jg_server_opts *opts);

/* Runs the loop: chooses the mode (see opts->listen), parses each request
 * (jg_request_parse), calls the handler, writes the answer with one write,
 * then frees and wipes everything of the request.  SIGTERM, SIGUSR1 and
 * SIGINT stop the loop after the current request (they are blocked while a
 * request is handled, so a request is never cut short by them).  The
 * handler's ctx is passed to opts->error and opts->clock too.
 *
 * Returns JG_OK after a clean shutdown (FastCGI) or after the one request
 * was answered (CGI); JG_ERR_MALFORMED when run as CGI without a
 * REQUEST_METHOD (started by hand: a message tells how to run it);
 * JG_ERR_SYSTEM when the socket could not be opened or, in CGI mode, the
 * answer not written.  Failures are logged through jg_log. */
enum jg_err jg_server_run(const struct jg_server_handler *handler,
			  const struct jg_server_opts *opts);

/* Runs the loop of a program that cannot work (its configuration, keys or
 * database could not be loaded at start: why says what, as already
 * printed to stderr): every request is answered "500 server_error" in
 * opts->style (an HTML page, or the OAuth JSON) described only as "the
 * server is not configured correctly", and why is logged again with each
 * refused request, so the web server's error log names the problem next to
 * the request.  Staying up instead of exiting keeps the process manager
 * from restarting the program in a loop and gives the client an answer of
 * the endpoint's kind instead of the web server's own page; the program is
 * restarted once the problem is fixed (the configuration is read only at
 * start).  An authorizer refuses every request this way, so nothing behind
 * it is served.  Returns what jg_server_run returns; the caller still
 * exits with a failure status. */
enum jg_err jg_server_run_broken(const struct jg_server_opts *opts, const char *why);

#endif
