/* harness.h: integration-test helpers: start a real lighttpd or Apache
 * (mod_fcgid) on a free loopback port with a generated configuration in a
 * temporary folder, stop it and remove the folder even when a test fails,
 * run a program as plain CGI, and drive servers with libcurl or raw bytes.
 *
 * Test code, so the registry of running servers and temporary folders is a
 * file-level global: the atexit and signal handlers need it to clean up
 * after a test that failed or crashed. */
#ifndef JG_HARNESS_H
#define JG_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* One FastCGI program in a server's configuration. */
struct jg_it_program {
	/* The URL path it serves, such as "/oauth/token", "/api/" or
	 * "/private/" (lighttpd matches it as a prefix; Apache maps it with
	 * Alias, or with <Location> for an authorizer). */
	const char *prefix;
	/* Absolute path of the program (started by the web server: lighttpd
	 * bin-path, mod_fcgid).  NULL with socket set: lighttpd connects to
	 * a program that runs on its own (--listen). */
	const char *bin;
	/* lighttpd only: "PATH" of a Unix socket or "127.0.0.1:PORT" of a
	 * program started by the test itself; NULL for the usual bin-path. */
	const char *socket;
	/* FastCGI AUTHORIZER in front of what the server serves under prefix
	 * (lighttpd "mode" => "authorizer"; Apache FcgidAccessChecker with
	 * "Require all granted" in a <Location>).  Apache sends an allow's
	 * Variable-* headers to the client: remove them with "Header always
	 * unset Variable-NAME" lines in extra. */
	bool authorizer;
	/* lighttpd authorizer only: serve static files from this folder after
	 * approval ("docroot"); NULL: the request goes on to the other
	 * modules (static files of the document root, mod_cgi). */
	const char *docroot;
	/* NULL-terminated "NAME=value" list for the program's environment
	 * (lighttpd bin-environment; Apache FcgidInitialEnv, server-wide),
	 * such as "JWTGATE_CONF=/tmp/.../jwtgate.conf"; or NULL. */
	const char *const *env;
	/* Processes the server keeps (lighttpd max-procs); 0 means 1. */
	unsigned max_procs;
};

struct jg_it_server_opts {
	const struct jg_it_program *programs;
	size_t nprograms;
	/* When true, files ending in ".cgi" run as CGI scripts (lighttpd
	 * mod_cgi, everywhere; Apache mod_cgi is not set up). */
	bool cgi;
	/* Raw lines appended to the generated configuration, or NULL. */
	const char *extra;
};

enum jg_it_kind {
	JG_IT_LIGHTTPD,
	JG_IT_APACHE
};

/* A running web server.  Everything is owned by the harness. */
struct jg_it_server {
	enum jg_it_kind kind;
	pid_t pid;		/* the server process, leader of its process group */
	int port;		/* on 127.0.0.1 */
	char *dir;		/* temporary folder: config, logs, sockets */
	char *htdocs;		/* DIR/htdocs, the document root */
	char *url;		/* "http://127.0.0.1:PORT" */
	char *error_log;	/* DIR/error.log */
	char *output;		/* DIR/server.out: the server's stdout and stderr,
				 * where lighttpd's FastCGI programs write */
};

/* Returns the build tree's top folder ($JG_BUILDDIR, else "."). */
const char *jg_it_builddir(void);
/* Returns a new path (caller frees): the build folder joined with rel,
 * such as jg_it_build_path("tests/integration/echo_fcgi"). */
char *jg_it_build_path(const char *rel);

/* Makes a new temporary folder /tmp/jgit-XXXXXX (mode 0755, so a server
 * that drops privileges can read it) that is removed at exit, even when
 * the test dies of a signal.  Returns its path (owned by the harness) or
 * NULL. */
const char *jg_it_tempdir(void);

/* Writes a file below dir (made with the given mode); "a/b.txt" creates
 * folder a.  Returns false on failure (with a message on stderr). */
bool jg_it_write_file(const char *dir, const char *rel, const char *content,
		      unsigned mode);

/* Returns a port on 127.0.0.1 that was free a moment ago (bound to port 0
 * and closed) and is none of the last 32 this process was given, or -1. */
int jg_it_free_port(void);

/* Starts lighttpd (/usr/sbin/lighttpd -D) with a configuration made from
 * opts in a new temporary folder, and waits until it accepts connections.
 * Retries with another port when the first one was taken meanwhile.
 * Returns the server (stop it with jg_it_server_stop) or NULL with the
 * reason and the error log on stderr. */
struct jg_it_server *jg_it_lighttpd_start(const struct jg_it_server_opts *opts);

/* Starts Apache 2.4 (/usr/sbin/apache2 -DFOREGROUND, mpm_event) with
 * mod_fcgid in the same way: FcgidIPCDir and FcgidProcessTableFile in the
 * temporary folder, "FcgidPassHeader Authorization", one "Alias PREFIX BIN"
 * plus "SetHandler fcgid-script" per responder.  When run as root the
 * workers run as www-data (Apache refuses to serve as root), so files the
 * programs write must be writable by www-data: the temporary folder is
 * given to www-data, and the programs are run from copies in DIR/bin (a
 * folder above the build tree may be closed to www-data). */
struct jg_it_server *jg_it_apache_start(const struct jg_it_server_opts *opts);

/* Stops the server: SIGTERM, up to 10 s for it to exit, then up to 5 s for
 * every other process of its group (FastCGI programs) to exit; what is
 * left is killed with SIGKILL.  Then removes the temporary folder and
 * frees s.  Returns true when everything exited on SIGTERM alone, no
 * process of the group is left, and neither log holds a sanitizer report
 * ("Sanitizer", "runtime error:"; printed to stderr when found: leaks are
 * reported when the programs exit).  Accepts NULL (returns true). */
bool jg_it_server_stop(struct jg_it_server *s);

/* Returns the number of live (not zombie) processes in process group pgid
 * or whose command line contains needle (when not NULL): what a test
 * checks at its end to prove it left no server behind. */
unsigned jg_it_leftovers(pid_t pgid, const char *needle);

/* Returns true when the server's error log or its output (see struct
 * jg_it_server) contains text. */
bool jg_it_log_contains(const struct jg_it_server *s, const char *text);

/* Waits up to timeout_ms for a TCP connection to 127.0.0.1:port to
 * succeed; gives up early when pid (if > 0) has exited.  Returns true when
 * connected. */
bool jg_it_wait_port(int port, pid_t pid, int timeout_ms);

/* ------------------------------------------------------------ processes */

/* Runs bin as a plain CGI script: env is its whole environment
 * (NULL-terminated "NAME=value"), stdin_data (len bytes) its standard input,
 * then closed.  Collects standard output into *out (new, NUL-terminated,
 * caller frees) and *out_len.  Returns the exit status (0..255), 128+N
 * when killed by signal N, or -1 when it could not be run.  Gives up and
 * kills it after 10 s. */
int jg_it_run_cgi(const char *bin, const char *const *env, const char *stdin_data,
		  size_t len, char **out, size_t *out_len);

/* Starts argv[0] with arguments argv (NULL-terminated) in its own process
 * group, stdin from /dev/null and stdout/stderr appended to log (or
 * inherited when NULL).  Returns the pid or -1.  The process is killed at
 * exit if still running; reap it with jg_it_wait. */
pid_t jg_it_spawn(const char *const *argv, const char *log);

/* Waits up to timeout_ms for pid to exit.  Returns its status as
 * jg_it_run_cgi does, or -1 on timeout (the process is left running). */
int jg_it_wait(pid_t pid, int timeout_ms);

/* ------------------------------------------------------------ HTTP client */

struct jg_it_header {
	char *name;
	char *value;
};

/* The last response of a transfer (after redirects, when followed). */
struct jg_it_response {
	long status;
	struct jg_it_header *headers;
	size_t nheaders;
	char *body;		/* NUL-terminated */
	size_t body_len;
};

/* One test client: a libcurl handle with its own in-memory cookie jar, so
 * cookies set by earlier answers are sent with later requests. */
struct jg_it_client;

/* Returns a new client (redirects not followed, no proxy ever, requests
 * sent as written: no path normalisation, 30 s timeout). */
struct jg_it_client *jg_it_client_new(void);
void jg_it_client_free(struct jg_it_client *c);
/* Follow redirects (off by default). */
void jg_it_client_follow(struct jg_it_client *c, bool follow);

/* Sends one request.  method "GET", "POST", "HEAD", "OPTIONS" ...;
 * headers a NULL-terminated list of "Name: value" or NULL; body of len
 * bytes or NULL (a POST without Content-Type header gets
 * application/x-www-form-urlencoded from libcurl).  Fills *resp (clear it
 * with jg_it_response_clear).  Returns true when an HTTP answer arrived;
 * false (with the libcurl error on stderr) otherwise. */
bool jg_it_request(struct jg_it_client *c, const char *method, const char *url,
		   const char *const *headers, const char *body, size_t len,
		   struct jg_it_response *resp);
bool jg_it_get(struct jg_it_client *c, const char *url, const char *const *headers,
	       struct jg_it_response *resp);
/* body is a NUL-terminated string. */
bool jg_it_post(struct jg_it_client *c, const char *url, const char *const *headers,
		const char *body, struct jg_it_response *resp);

/* Returns the value of the first header called name (case-insensitive) of
 * the response, or NULL. */
const char *jg_it_header(const struct jg_it_response *resp, const char *name);
/* Returns the number of headers called name. */
size_t jg_it_header_count(const struct jg_it_response *resp, const char *name);
void jg_it_response_clear(struct jg_it_response *resp);

/* Returns a new copy of the value of the cookie called name in the
 * client's jar, or NULL. */
char *jg_it_cookie(struct jg_it_client *c, const char *name);

/* Sends len raw bytes to 127.0.0.1:port (for requests libcurl will not
 * write: broken framing, duplicate headers ...), half-closes, and reads the
 * answer until the server closes (10 s at most).  Returns the answer
 * (new, NUL-terminated, caller frees) or NULL when no connection could be
 * made; *status (may be NULL) receives the status code of the answer's
 * first line, or 0. */
char *jg_it_raw(int port, const char *data, size_t len, int *status);

#endif
