/* test_e2e.c: issue 7 points 1 and 4, the whole flow end to end through
 * the web-server configuration templates as `make install` installs them:
 * main runs `make install DESTDIR=...` once, and each test starts a real
 * server on an ephemeral loopback port with the installed template
 * included, changed only where a hosting admin changes it (the install
 * folders, now below the DESTDIR; the configuration file; the document
 * root; the socket folder), in front of the installed authorize.fcgi,
 * token.fcgi and resource.fcgi:
 *
 *   lighttpd            lighttpd-jwtgate.conf (responders, authorizer)
 *   Apache mod_fcgid    apache-jwtgate.conf (FcgidAccessChecker gate)
 *   Apache authnz_fcgi  apache-jwtgate.conf minus its gate, plus
 *                       apache-authnz-fcgi.conf, resource.fcgi --listen
 *   nginx               nginx-jwtgate.conf (auth_request), the programs
 *                       under spawn-fcgi as the template's comment says
 *
 * A libcurl client with a cookie jar, redirects not followed, runs:
 *
 *   authorize GET -> login form -> POST credentials with the CSRF token ->
 *   consent (the client is not first-party) -> code in Location with state
 *   and iss -> token exchange with PKCE (RFC 7636) -> ID token verified
 *   with the published JWKS -> /api/me with Bearer -> the static page
 *   behind the gate, with and without a token, and a page of the gate
 *   whose require_scope the token lacks (403; 401 from mod_fcgid) ->
 *   userinfo -> refresh
 *   (rotation) -> revoke (RFC 7009) -> the revoked refresh token refused ->
 *   logout -> session gone
 *
 * with the status and headers of every answer and the database at the
 * end; then every process must exit on SIGTERM.
 *
 * Run as "test_e2e --oidc-client SCRIPT" it is the driver of
 * tests/integration/test_oidc_client.sh instead: it sets up the same
 * instance behind lighttpd, runs /usr/bin/python3 SCRIPT ISSUER CLIENT_ID
 * CLIENT_SECRET REDIRECT_URI USERNAME PASSWORD (python3-authlib drives the
 * OpenID Connect flow and validates the ID token itself), then once more
 * with "--expect-aud other" (the script must then fail: its validation is
 * not a formality), stops the server and exits 0 when both went so. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>
#include <sqlite3.h>

#include "harness.h"
#include "testutil.h"
#include "b64url.h"
#include "claims.h"
#include "conf.h"
#include "http.h"
#include "json.h"
#include "jwk.h"
#include "keyring.h"
#include "oauth.h"
#include "password.h"
#include "store.h"
#include "util.h"

#define PASSWORD "correct horse battery staple"
#define WEB_SECRET "e2e-web-secret-0123456789-abcdefghijklmnopqrstuv"
#define WEB_CB "https://app.example/cb"
#define WEB_CB_ENC "https%3A%2F%2Fapp.example%2Fcb"
/* RFC 7636 appendix B. */
#define VERIFIER "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
#define CHALLENGE "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
#define QUERY "response_type=code&client_id=web&redirect_uri=" WEB_CB_ENC \
	"&scope=openid+profile+email+offline_access+api%3Aread&state=e2e-state" \
	"&nonce=e2e-nonce&code_challenge=" CHALLENGE "&code_challenge_method=S256"

#define ASSERT_STR(actual, expected) \
	CU_ASSERT_STRING_EQUAL((actual) ? (actual) : "(null)", (expected))

/* The servers, each run with the configuration template `make install`
 * put in $(pkgdatadir)/conf, read from the staged install and changed only
 * where an admin would: the install folders (below the DESTDIR), the
 * configuration file, the document root and the socket folder.  Anything
 * else in the templates is as shipped. */
enum e2e_kind {
	E2E_LIGHTTPD,		/* lighttpd-jwtgate.conf */
	E2E_APACHE_FCGID,	/* apache-jwtgate.conf */
	E2E_APACHE_AUTHNZ,	/* apache-jwtgate.conf minus its gate, and
				 * apache-authnz-fcgi.conf with resource.fcgi
				 * --listen on a loopback port */
	E2E_NGINX		/* nginx-jwtgate.conf, the programs under spawn-fcgi */
};

#define E2E_MAX_PIDS 4

/* The staged install, made once by main (test code: the CUnit test
 * functions take no argument). */
static char *stage;

/* One instance: configuration, keys, store, and the server in front. */
struct e2e {
	enum e2e_kind kind;
	const char *dir;	/* instance, server configuration, logs, sockets */
	char *conf;
	char *env_conf;
	char *issuer;		/* http://127.0.0.1:PORT */
	int port;
	struct jg_config *config;
	struct jg_store *store;
	struct jg_keyring *ring;
	pid_t pids[E2E_MAX_PIDS];	/* [0] the server, then programs it talks to */
	size_t npids;
	char *basic;		/* "Authorization: Basic ..." of client web */
	char *gated;		/* the installed protected/index.html */
};

/* ------------------------------------------------------------ install */

/* Runs `make install DESTDIR=DIR/stage` in the build tree.  Returns the
 * stage folder (caller frees) or NULL with make's output on stderr. */
static char *
install_stage(void)
{
	const char *dir = jg_it_tempdir();
	char *out, *dest, *log, *text = NULL;
	size_t len;
	pid_t pid;
	int rc;

	if (dir == NULL)
		return NULL;
	out = jg_xasprintf("%s/stage", dir);
	dest = jg_xasprintf("DESTDIR=%s", out);
	log = jg_xasprintf("%s/install.log", dir);
	/* A make of its own, not a part of the make check around it. */
	unsetenv("MAKEFLAGS");
	unsetenv("MFLAGS");
	unsetenv("MAKELEVEL");
	unsetenv("DESTDIR");
	{
		const char *argv[] = { "/bin/sh", "-c",
				       "exec make -s --no-print-directory -C \"$1\" install \"$2\"",
				       "sh", jg_it_builddir(), dest, NULL };

		pid = jg_it_spawn(argv, log);
		rc = pid > 0 ? jg_it_wait(pid, 600000) : -1;
	}
	if (rc != 0) {
		fprintf(stderr, "e2e: make install %s failed (%d)\n", dest, rc);
		if (jg_read_file(log, 1 << 20, &text, &len) == JG_OK)
			fprintf(stderr, "%s\n", text);
		free(text);
		free(out);
		out = NULL;
	}
	free(dest);
	free(log);
	return out;
}

/* Returns the staged copy of an installed file (caller frees). */
static char *
staged(const char *installed)
{
	return jg_xasprintf("%s%s", stage, installed);
}

/* Returns text with every from replaced by to (new); *n receives the
 * number of replacements. */
static char *
subst(const char *text, const char *from, const char *to, int *n)
{
	char *out = NULL;
	size_t len = 0, flen = strlen(from);
	FILE *f = open_memstream(&out, &len);
	const char *p;

	*n = 0;
	while ((p = strstr(text, from)) != NULL) {
		fwrite(text, 1, (size_t)(p - text), f);
		fputs(to, f);
		text = p + flen;
		(*n)++;
	}
	fputs(text, f);
	fclose(f);
	return out;
}

/* Replaces from by to in *text; fails (with a message) unless it occurs
 * at least min and at most max times: a template that changed without
 * the test is a failure, not a silent pass. */
static bool
edit(char **text, const char *what, const char *from, const char *to, int min, int max)
{
	int n;
	char *t = subst(*text, from, to, &n);

	free(*text);
	*text = t;
	if (n < min || n > max) {
		fprintf(stderr, "e2e: %s: \"%s\" found %d times, expected %d..%d\n", what,
			from, n, min, max);
		return false;
	}
	return true;
}

/* Reads the installed template name from the stage (new), or NULL. */
static char *
template(const char *name)
{
	char *path = jg_xasprintf("%s%s/%s", stage, JG_E2E_CONFDIR, name), *text = NULL;
	size_t len;

	if (jg_read_file(path, 1 << 20, &text, &len) != JG_OK) {
		fprintf(stderr, "e2e: cannot read %s\n", path);
		text = NULL;
	}
	free(path);
	return text;
}

/* ------------------------------------------------------------ setup */

static bool
add_user(struct e2e *e)
{
	struct jg_user u;
	char *hash = NULL;
	bool ok;

	if (jg_password_hash(PASSWORD, &hash) != JG_OK)
		return false;
	memset(&u, 0, sizeof(u));
	u.sub = (char *)(uintptr_t)"sub-alice";
	u.username = (char *)(uintptr_t)"alice";
	u.password_hash = hash;
	u.name = (char *)(uintptr_t)"Alice Example";
	u.email = (char *)(uintptr_t)"alice@example.org";
	u.email_verified = true;
	ok = jg_store_user_add(e->store, &u, time(NULL)) == JG_OK;
	free(hash);
	return ok;
}

static bool
add_client(struct e2e *e)
{
	const char *uris[1] = { WEB_CB };
	const char *louts[1] = { "https://app.example/bye" };
	struct jg_client c;
	bool ok;

	memset(&c, 0, sizeof(c));
	c.client_id = (char *)(uintptr_t)"web";
	if (jg_client_secret_hash(WEB_SECRET, &c.secret_hash) != JG_OK)
		return false;
	c.name = (char *)(uintptr_t)"Example App";
	c.redirect_uris = (char **)(uintptr_t)uris;
	c.n_redirect_uris = 1;
	c.post_logout_uris = (char **)(uintptr_t)louts;
	c.n_post_logout_uris = 1;
	c.grant_types = (char *)(uintptr_t)"authorization_code refresh_token";
	c.scopes = (char *)(uintptr_t)"openid profile email offline_access api:read";
	c.first_party = false;
	ok = jg_store_client_add(e->store, &c, time(NULL)) == JG_OK;
	free(c.secret_hash);
	return ok;
}

static bool
write_text(const char *dir, const char *rel, const char *text)
{
	return text != NULL && jg_it_write_file(dir, rel, text, 0644);
}

/* lighttpd: the base a host has (port, document root, logs, types) and
 * the template included with its four variables set. */
static bool
lighttpd_conf(struct e2e *e)
{
	char *t = template("lighttpd-jwtgate.conf"), *from, *to, *base;
	bool ok;

	if (t == NULL)
		return false;
	from = jg_xasprintf("var.jwtgate_bin = \"%s\"", JG_E2E_CGIBINDIR);
	to = jg_xasprintf("var.jwtgate_bin = \"%s%s\"", stage, JG_E2E_CGIBINDIR);
	ok = edit(&t, "lighttpd", from, to, 1, 1);
	free(from);
	free(to);
	from = jg_xasprintf("var.jwtgate_conf = \"%s/jwtgate.conf\"", JG_E2E_SYSCONFDIR);
	to = jg_xasprintf("var.jwtgate_conf = \"%s\"", e->conf);
	ok = ok && edit(&t, "lighttpd", from, to, 1, 1);
	free(from);
	free(to);
	to = jg_xasprintf("var.jwtgate_docroot = \"%s/htdocs\"", e->dir);
	ok = ok && edit(&t, "lighttpd", "var.jwtgate_docroot = \"/var/www/html\"", to, 1, 1);
	free(to);
	to = jg_xasprintf("var.jwtgate_sockets = \"%s/run\"", e->dir);
	ok = ok && edit(&t, "lighttpd", "var.jwtgate_sockets = \"/run/lighttpd\"", to, 1, 1);
	free(to);
	ok = ok && write_text(e->dir, "jwtgate-lighttpd.conf", t);
	free(t);
	base = jg_xasprintf(
		"server.document-root = \"%s/htdocs\"\n"
		"server.bind = \"127.0.0.1\"\nserver.port = %d\n"
		"server.errorlog = \"%s/error.log\"\n"
		"mimetype.assign = ( \".html\" => \"text/html; charset=utf-8\", "
		"\".json\" => \"application/json\", \".css\" => \"text/css\" )\n"
		"include \"%s/jwtgate-lighttpd.conf\"\n",
		e->dir, e->port, e->dir, e->dir);
	ok = ok && write_text(e->dir, "server.conf", base);
	free(base);
	return ok;
}

/* Apache: a minimal apache2.conf with the modules Debian's a2enmod would
 * enable, and the template(s) included. */
static bool
apache_conf(struct e2e *e, int gate_port)
{
	static const char *const modules[][2] = {
		{ "mpm_event_module", "mod_mpm_event.so" },
		{ "authz_core_module", "mod_authz_core.so" },
		{ "authn_core_module", "mod_authn_core.so" },
		{ "authz_user_module", "mod_authz_user.so" },
		{ "mime_module", "mod_mime.so" },
		{ "alias_module", "mod_alias.so" },
		{ "headers_module", "mod_headers.so" },
		{ "fcgid_module", "mod_fcgid.so" },
		{ "authnz_fcgi_module", "mod_authnz_fcgi.so" },
	};
	char *t = template("apache-jwtgate.conf"), *a = NULL, *from, *to, *base = NULL;
	char *cut;
	size_t len = 0, i;
	bool ok;
	FILE *f;

	if (t == NULL)
		return false;
	from = jg_xasprintf("FcgidInitialEnv JWTGATE_CONF \"%s/jwtgate.conf\"",
			    JG_E2E_SYSCONFDIR);
	to = jg_xasprintf("FcgidInitialEnv JWTGATE_CONF \"%s\"", e->conf);
	ok = edit(&t, "apache", from, to, 1, 1);
	free(from);
	free(to);
	from = jg_xasprintf("\"%s", JG_E2E_CGIBINDIR);
	to = jg_xasprintf("\"%s%s", stage, JG_E2E_CGIBINDIR);
	/* <Directory>, four AliasMatch, FcgidAccessChecker. */
	ok = ok && edit(&t, "apache", from, to, 6, 6);
	free(from);
	free(to);
	if (ok && e->kind == E2E_APACHE_AUTHNZ) {
		/* README: with mod_authnz_fcgi, drop the <Location "/protected">
		 * block of apache-jwtgate.conf. */
		from = strstr(t, "<Location \"/protected\">");
		cut = from ? strstr(from, "</Location>") : NULL;
		ok = cut != NULL;
		if (ok)
			memmove(from, cut + strlen("</Location>"),
				strlen(cut + strlen("</Location>")) + 1);
		a = template("apache-authnz-fcgi.conf");
		to = jg_xasprintf("fcgi://127.0.0.1:%d/", gate_port);
		ok = ok && a != NULL && edit(&a, "authnz", "fcgi://127.0.0.1:9100/", to, 1, 1);
		free(to);
		ok = ok && write_text(e->dir, "jwtgate-authnz.conf", a);
		free(a);
	}
	ok = ok && write_text(e->dir, "jwtgate-apache.conf", t);
	free(t);

	f = open_memstream(&base, &len);
	fprintf(f, "ServerRoot \"%s\"\nListen 127.0.0.1:%d\nServerName 127.0.0.1\n",
		e->dir, e->port);
	fprintf(f, "PidFile \"%s/httpd.pid\"\nDefaultRuntimeDir \"%s/apache\"\n", e->dir,
		e->dir);
	fprintf(f, "Mutex file:%s/apache default\n", e->dir);
	fprintf(f, "ErrorLog \"%s/error.log\"\nLogLevel warn\n", e->dir);
	for (i = 0; i < sizeof(modules) / sizeof(modules[0]); i++)
		fprintf(f, "LoadModule %s /usr/lib/apache2/modules/%s\n", modules[i][0],
			modules[i][1]);
	if (geteuid() == 0)
		fprintf(f, "User www-data\nGroup www-data\n");
	fprintf(f, "StartServers 1\nServerLimit 2\nThreadsPerChild 8\n"
		"MaxRequestWorkers 16\nMinSpareThreads 1\nMaxSpareThreads 16\n");
	fprintf(f, "TypesConfig /etc/mime.types\nAddDefaultCharset utf-8\n");
	fprintf(f, "DocumentRoot \"%s/htdocs\"\n", e->dir);
	fprintf(f, "<Directory />\n  AllowOverride None\n  Require all denied\n</Directory>\n");
	fprintf(f, "<Directory \"%s/htdocs\">\n  Require all granted\n</Directory>\n", e->dir);
	/* Debian's fcgid.conf sets these two. */
	fprintf(f, "FcgidIPCDir \"%s/fcgid\"\n", e->dir);
	fprintf(f, "FcgidProcessTableFile \"%s/fcgid/table\"\n", e->dir);
	fprintf(f, "Include \"%s/jwtgate-apache.conf\"\n", e->dir);
	if (e->kind == E2E_APACHE_AUTHNZ)
		fprintf(f, "Include \"%s/jwtgate-authnz.conf\"\n", e->dir);
	fclose(f);
	ok = ok && write_text(e->dir, "server.conf", base);
	free(base);
	return ok;
}

/* nginx: a minimal nginx.conf whose server block includes the template,
 * with the socket folder /run/jwtgate moved into the instance. */
static bool
nginx_conf(struct e2e *e)
{
	char *t = template("nginx-jwtgate.conf"), *to, *base, *params = NULL;
	size_t len;
	bool ok;

	if (t == NULL)
		return false;
	to = jg_xasprintf("unix:%s/run/", e->dir);
	/* authorize, token, resource (userinfo, /api/, the gate). */
	ok = edit(&t, "nginx", "unix:/run/jwtgate/", to, 5, 5);
	free(to);
	ok = ok && write_text(e->dir, "jwtgate-nginx.conf", t);
	free(t);
	/* "include fastcgi_params" is relative to the folder of nginx.conf,
	 * /etc/nginx on a host. */
	ok = ok && jg_read_file("/etc/nginx/fastcgi_params", 1 << 20, &params, &len) == JG_OK &&
	     write_text(e->dir, "fastcgi_params", params);
	free(params);
	base = jg_xasprintf(
		"%s"
		"daemon off;\nmaster_process on;\nworker_processes 1;\n"
		"pid %s/nginx.pid;\nerror_log %s/error.log warn;\n"
		"events { worker_connections 64; }\n"
		"http {\n"
		"  include /etc/nginx/mime.types;\n"
		"  default_type application/octet-stream;\n"
		"  charset utf-8;\n"
		"  access_log off;\n"
		"  client_body_temp_path %s/nginx/body;\n"
		"  fastcgi_temp_path %s/nginx/fastcgi;\n"
		"  proxy_temp_path %s/nginx/proxy;\n"
		"  uwsgi_temp_path %s/nginx/uwsgi;\n"
		"  scgi_temp_path %s/nginx/scgi;\n"
		"  server {\n"
		"    listen 127.0.0.1:%d;\n"
		"    server_name 127.0.0.1;\n"
		"    root %s/htdocs;\n"
		"    include %s/jwtgate-nginx.conf;\n"
		"  }\n"
		"}\n",
		geteuid() == 0 ? "user www-data www-data;\n" : "", e->dir, e->dir, e->dir,
		e->dir, e->dir, e->dir, e->dir, e->port, e->dir, e->dir);
	ok = ok && write_text(e->dir, "server.conf", base);
	free(base);
	return ok;
}

/* Starts one staged program by itself: under spawn-fcgi on DIR/run/NAME.sock
 * (as the nginx template's comment shows), or with --listen on a loopback
 * port (as jwtgate-resource.service does).  As root it runs as www-data. */
static bool
start_program(struct e2e *e, const char *name, int port)
{
	char *bin = jg_xasprintf("%s%s/%s.fcgi", stage, JG_E2E_CGIBINDIR, name);
	char *sock = jg_xasprintf("%s/run/%s.sock", e->dir, name);
	char *listen = jg_xasprintf("127.0.0.1:%d", port);
	char *log = jg_xasprintf("%s/server.out", e->dir);
	bool root = geteuid() == 0;
	pid_t pid;

	/* The programs read JWTGATE_CONF from their environment. */
	setenv("JWTGATE_CONF", e->conf, 1);
	if (port == 0) {
		const char *as_root[] = { "/usr/bin/spawn-fcgi", "-n", "-s", sock,
					  "-u", "www-data", "-g", "www-data",
					  "-U", "www-data", "-G", "www-data", "--", bin, NULL };
		const char *plain[] = { "/usr/bin/spawn-fcgi", "-n", "-s", sock, "--", bin,
					NULL };

		pid = jg_it_spawn(root ? as_root : plain, log);
	} else {
		const char *as_root[] = { "/usr/bin/setpriv", "--reuid=www-data",
					  "--regid=www-data", "--clear-groups", bin,
					  "--listen", listen, NULL };
		const char *plain[] = { bin, "--listen", listen, NULL };

		pid = jg_it_spawn(root ? as_root : plain, log);
	}
	unsetenv("JWTGATE_CONF");
	if (pid > 0)
		e->pids[e->npids++] = pid;
	free(bin);
	free(sock);
	free(listen);
	free(log);
	return pid > 0;
}

/* Waits until the Unix socket path accepts (spawn-fcgi made it). */
static bool
wait_socket(const char *path, pid_t pid)
{
	int i;

	for (i = 0; i < 500; i++) {
		struct stat st;

		if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode))
			return true;
		if (jg_it_wait(pid, 0) >= 0)
			return false;
		usleep(20 * 1000);
	}
	return false;
}

/* Makes the instance and starts the server of kind with the installed
 * template.  The issuer is http://127.0.0.1:PORT, the server's port, so
 * that the issuer, the discovery document and the URLs the client uses
 * are one and the same. */
static bool
e2e_start(struct e2e *e, enum e2e_kind kind)
{
	char *errmsg = NULL, *b64, *plain, *path, *tmpl;
	const char *server[8];
	int gate_port = 0;
	size_t len;
	FILE *f;

	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->dir = jg_it_tempdir();
	e->port = jg_it_free_port();
	if (stage == NULL || e->dir == NULL || e->port < 0)
		return false;
	e->issuer = jg_xasprintf("http://127.0.0.1:%d", e->port);
	e->conf = jg_xasprintf("%s/jwtgate.conf", e->dir);
	e->env_conf = jg_xasprintf("JWTGATE_CONF=%s", e->conf);
	f = fopen(e->conf, "w");
	if (f == NULL || jg_config_write_template(f, e->issuer, e->dir) != JG_OK) {
		if (f)
			fclose(f);
		return false;
	}
	/* The installed login and consent pages (README: templates may point
	 * at $(pkgdatadir)/htdocs). */
	tmpl = staged(JG_E2E_HTDOCSDIR);
	fprintf(f, "templates = %s\n", tmpl);
	/* A scope rule below the gate (issue 6 point 1: which path needs
	 * which scope is configuration). */
	fprintf(f, "require_scope = /protected/admin admin\n");
	free(tmpl);
	if (fclose(f) != 0)
		return false;
	if (jg_config_load(e->conf, &e->config, &errmsg) != JG_OK ||
	    mkdir(e->config->key_dir, 0700) != 0)
		goto fail;
	e->ring = jg_keyring_new(e->config->key_dir);
	if (jg_keyring_rotate(e->ring, JG_KEY_ACCESS, JG_ALG_UNKNOWN,
			      e->config->access_token_alg, time(NULL), NULL, &errmsg) != JG_OK ||
	    jg_keyring_rotate(e->ring, JG_KEY_ID, JG_ALG_UNKNOWN,
			      e->config->id_token_alg, time(NULL), NULL, &errmsg) != JG_OK ||
	    jg_store_open(e->config->database, 5000, &e->store, &errmsg) != JG_OK)
		goto fail;
	if (!add_user(e) || !add_client(e)) {
		fprintf(stderr, "e2e: cannot fill the store\n");
		return false;
	}
	plain = jg_xasprintf("web:%s", WEB_SECRET);
	b64 = jg_b64std_encode(plain, strlen(plain));
	e->basic = jg_xasprintf("Authorization: Basic %s", b64);
	free(plain);
	free(b64);

	/* The document root: discovery and JWKS as `jwtgate key publish`
	 * writes them, and the installed page behind the gate. */
	path = jg_xasprintf("%s/htdocs", e->dir);
	mkdir(path, 0755);
	if (strcmp(e->config->htdocs, path) != 0) {
		fprintf(stderr, "e2e: htdocs is %s\n", e->config->htdocs);
		free(path);
		return false;
	}
	free(path);
	if (jg_keyring_publish(e->config, e->ring, &errmsg) != JG_OK)
		goto fail;
	path = staged(JG_E2E_HTDOCSDIR "/protected/index.html");
	if (jg_read_file(path, 1 << 20, &e->gated, &len) != JG_OK ||
	    !write_text(e->dir, "htdocs/protected/index.html", e->gated) ||
	    !write_text(e->dir, "htdocs/protected/admin/index.html", "e2e admin page\n")) {
		fprintf(stderr, "e2e: cannot copy %s\n", path);
		free(path);
		return false;
	}
	free(path);
	path = jg_xasprintf("%s/run", e->dir);
	mkdir(path, 0755);
	free(path);
	path = jg_xasprintf("%s/apache", e->dir);
	mkdir(path, 0755);
	free(path);
	path = jg_xasprintf("%s/fcgid", e->dir);
	mkdir(path, 0755);
	free(path);
	path = jg_xasprintf("%s/nginx", e->dir);
	mkdir(path, 0755);
	free(path);

	switch (kind) {
	case E2E_LIGHTTPD:
		if (!lighttpd_conf(e))
			return false;
		break;
	case E2E_APACHE_FCGID:
	case E2E_APACHE_AUTHNZ:
		gate_port = kind == E2E_APACHE_AUTHNZ ? jg_it_free_port() : 0;
		if (gate_port < 0 || !apache_conf(e, gate_port))
			return false;
		break;
	case E2E_NGINX:
		if (!nginx_conf(e))
			return false;
		break;
	}
	/* As root, Apache's workers and the programs nginx talks to run as
	 * www-data: give them the instance (the store stays open here, so
	 * its files keep their owner). */
	if (kind != E2E_LIGHTTPD && geteuid() == 0) {
		char *cmd = jg_xasprintf("chown -R www-data:www-data '%s'", e->dir);
		int rc = system(cmd);

		free(cmd);
		if (rc != 0)
			return false;
	}

	path = jg_xasprintf("%s/server.conf", e->dir);
	plain = jg_xasprintf("%s/server.out", e->dir);
	b64 = jg_xasprintf("%s/error.log", e->dir);
	memset(server, 0, sizeof(server));
	switch (kind) {
	case E2E_LIGHTTPD:
		server[0] = "/usr/sbin/lighttpd";
		server[1] = "-D";
		server[2] = "-f";
		server[3] = path;
		break;
	case E2E_APACHE_FCGID:
	case E2E_APACHE_AUTHNZ:
		server[0] = "/usr/sbin/apache2";
		server[1] = "-DFOREGROUND";
		server[2] = "-f";
		server[3] = path;
		break;
	case E2E_NGINX:
		server[0] = "/usr/sbin/nginx";
		server[1] = "-e";
		server[2] = b64;
		server[3] = "-c";
		server[4] = path;
		break;
	}
	/* The server is pids[0]: started first when it starts the programs,
	 * last when they must be there before it. */
	e->npids = 1;
	if (kind == E2E_NGINX) {
		static const char *const names[] = { "authorize", "token", "resource" };
		size_t i;

		for (i = 0; i < 3; i++) {
			char *sock = jg_xasprintf("%s/run/%s.sock", e->dir, names[i]);
			bool up = start_program(e, names[i], 0) &&
				  wait_socket(sock, e->pids[e->npids - 1]);

			free(sock);
			if (!up) {
				fprintf(stderr, "e2e: spawn-fcgi %s did not start\n", names[i]);
				goto no_server;
			}
		}
	} else if (kind == E2E_APACHE_AUTHNZ) {
		if (!start_program(e, "resource", gate_port) ||
		    !jg_it_wait_port(gate_port, e->pids[1], 10000)) {
			fprintf(stderr, "e2e: resource.fcgi --listen did not start\n");
			goto no_server;
		}
	}
	e->pids[0] = jg_it_spawn(server, plain);
	if (e->pids[0] <= 0 || !jg_it_wait_port(e->port, e->pids[0], 15000)) {
		fprintf(stderr, "e2e: %s did not start\n", server[0]);
		goto no_server;
	}
	free(path);
	free(plain);
	free(b64);
	return true;
no_server:
	{
		char *text = NULL;

		if (jg_read_file(plain, 1 << 20, &text, &len) == JG_OK)
			fprintf(stderr, "---- %s\n%s\n", plain, text);
		free(text);
		text = NULL;
		if (jg_read_file(b64, 1 << 20, &text, &len) == JG_OK)
			fprintf(stderr, "---- %s\n%s\n", b64, text);
		free(text);
	}
	free(path);
	free(plain);
	free(b64);
	return false;
fail:
	fprintf(stderr, "e2e: %s\n", errmsg ? errmsg : "failed");
	free(errmsg);
	return false;
}

static bool
file_has(const char *dir, const char *rel, const char *text)
{
	char *path = jg_xasprintf("%s/%s", dir, rel), *data = NULL;
	size_t len;
	bool found = false;

	if (jg_read_file(path, 64 << 20, &data, &len) == JG_OK)
		found = strstr(data, text) != NULL;
	if (found)
		fprintf(stderr, "e2e: %s holds \"%s\":\n%s\n", path, text, data);
	free(data);
	free(path);
	return found;
}

/* Stops the server, then the programs started by themselves: SIGTERM,
 * and each must exit on it with nothing of its process group left.  True
 * when all went so and no log holds a sanitizer report. */
static bool
e2e_stop(struct e2e *e)
{
	bool ok = true;
	size_t i;

	for (i = 0; i < e->npids; i++) {
		pid_t pid = e->pids[i];
		int waited;

		if (pid <= 0)
			continue;
		kill(pid, SIGTERM);
		if (jg_it_wait(pid, 10000) < 0) {
			fprintf(stderr, "e2e: process %ld did not stop on SIGTERM\n", (long)pid);
			kill(-pid, SIGKILL);
			jg_it_wait(pid, 5000);
			ok = false;
		}
		for (waited = 0; waited < 5000 && jg_it_leftovers(pid, NULL) != 0; waited += 20)
			usleep(20 * 1000);
		if (jg_it_leftovers(pid, NULL) != 0) {
			fprintf(stderr, "e2e: processes of group %ld were left\n", (long)pid);
			kill(-pid, SIGKILL);
			ok = false;
		}
	}
	if (e->dir && (file_has(e->dir, "server.out", "Sanitizer") ||
		       file_has(e->dir, "server.out", "runtime error:") ||
		       file_has(e->dir, "error.log", "Sanitizer") ||
		       file_has(e->dir, "error.log", "runtime error:")))
		ok = false;
	jg_store_close(e->store);
	jg_keyring_free(e->ring);
	jg_config_free(e->config);
	free(e->conf);
	free(e->env_conf);
	free(e->issuer);
	free(e->basic);
	free(e->gated);
	memset(e, 0, sizeof(*e));
	return ok;
}

/* ------------------------------------------------------------ helpers */

static long
count(const struct e2e *e, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	long n = -1;

	if (sqlite3_open_v2(e->config->database, &db, SQLITE_OPEN_READONLY, NULL) ==
	    SQLITE_OK) {
		sqlite3_busy_timeout(db, 5000);
		if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK &&
		    sqlite3_step(s) == SQLITE_ROW)
			n = sqlite3_column_int64(s, 0);
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

static void
request(const struct e2e *e, struct jg_it_client *c, const char *method,
	const char *path, const char *const *headers, const char *body,
	struct jg_it_response *r)
{
	char *u = jg_xasprintf("%s%s", e->issuer, path);

	memset(r, 0, sizeof(*r));
	CU_ASSERT_FATAL(jg_it_request(c, method, u, headers, body,
				      body ? strlen(body) : 0, r));
	free(u);
}

static bool
has(const struct jg_it_response *r, const char *text)
{
	return r->body != NULL && strstr(r->body, text) != NULL;
}

/* True when one of the Set-Cookie headers is exactly value. */
static bool
set_cookie(const struct jg_it_response *r, const char *value)
{
	size_t i;

	for (i = 0; i < r->nheaders; i++)
		if (strcasecmp(r->headers[i].name, "Set-Cookie") == 0 &&
		    strcmp(r->headers[i].value, value) == 0)
			return true;
	return false;
}

static char *
csrf_of(const struct jg_it_response *r)
{
	static const char mark[] = "name=\"jg_csrf\" value=\"";
	const char *p = r->body ? strstr(r->body, mark) : NULL;

	if (p == NULL)
		return jg_xstrdup("");
	p += strlen(mark);
	return jg_xstrndup(p, strcspn(p, "\""));
}

/* The value of name in the query of the Location header (new), or NULL. */
static char *
loc_param(const struct jg_it_response *r, const char *name)
{
	const char *loc = jg_it_header(r, "Location"), *q;
	struct jg_params p;
	char *v = NULL;

	if (loc == NULL || (q = strchr(loc, '?')) == NULL)
		return NULL;
	jg_params_init(&p);
	if (jg_params_parse(q + 1, strlen(q + 1), &p, NULL) == JG_OK &&
	    jg_params_get(&p, name))
		v = jg_xstrdup(jg_params_get(&p, name));
	jg_params_clear(&p);
	return v;
}

static struct json_object *
body_json(const struct jg_it_response *r)
{
	struct json_object *o = NULL;

	if (r->body == NULL || jg_json_parse_object(r->body, r->body_len, &o, NULL) != JG_OK)
		return NULL;
	return o;
}

static const char *
jstr(const struct json_object *o, const char *key)
{
	struct json_object *v = o ? jg_json_get(o, key) : NULL;

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v)
							      : NULL;
}

/* A token answer: 200, JSON, no-store (RFC 6749 section 5.1). */
static struct json_object *
token_answer(struct jg_it_response *r)
{
	struct json_object *o;

	CU_ASSERT_EQUAL(r->status, 200);
	if (r->status != 200)
		fprintf(stderr, "e2e: token endpoint: %ld %s\n", r->status,
			r->body ? r->body : "");
	ASSERT_STR(jg_it_header(r, "Content-Type"), "application/json");
	ASSERT_STR(jg_it_header(r, "Cache-Control"), "no-store");
	o = body_json(r);
	CU_ASSERT_PTR_NOT_NULL(o);
	ASSERT_STR(jstr(o, "token_type"), "Bearer");
	CU_ASSERT_PTR_NOT_NULL(jstr(o, "access_token"));
	CU_ASSERT_PTR_NOT_NULL(jstr(o, "refresh_token"));
	return o;
}

/* Verifies the ID token with the JWKS the server publishes, as a relying
 * party would (OpenID Connect Core section 3.1.3.7). */
static void
check_id_token(const struct e2e *e, struct jg_it_client *c, const char *id_token)
{
	static const enum jg_alg algs[] = { JG_ALG_RS256, JG_ALG_ES256, JG_ALG_EDDSA,
					    JG_ALG_PS256 };
	static const char *const required[] = { "sub", "iat", "exp", "auth_time", NULL };
	struct jg_claims_policy policy;
	struct jg_it_response r;
	struct jg_jwks *keys = NULL;
	struct jg_jwt *jwt = NULL;
	const char *why = NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(id_token);
	request(e, c, "GET", "/.well-known/jwks.json", NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_EQUAL_FATAL(jg_jwks_parse(r.body, r.body_len, &keys, &why), JG_OK);
	jg_it_response_clear(&r);
	memset(&policy, 0, sizeof(policy));
	policy.now = time(NULL);
	policy.leeway = 5;
	policy.iss = e->issuer;
	policy.aud = "web";
	policy.typ = JG_TYP_ID;
	policy.typ_optional = true;
	policy.required = required;
	CU_ASSERT_EQUAL(jg_jwt_verify(id_token, strlen(id_token), keys, algs,
				      sizeof(algs) / sizeof(algs[0]), &policy, &jwt, &why),
			JG_OK);
	if (jwt) {
		ASSERT_STR(jstr(jwt->claims, "sub"), "sub-alice");
		ASSERT_STR(jstr(jwt->claims, "nonce"), "e2e-nonce");
	}
	jg_jwt_free(jwt);
	jg_jwks_free(keys);
}

/* The installed protected/index.html behind the gate of e's template:
 * served as it is with a valid token, and nothing of the token's identity
 * (Variable-* of mod_fcgid, X-Jwt-* of the nginx gate) reaches the
 * client; refused with 401 and the Bearer challenge (RFC 6750 section 3)
 * without a token and with a forged one. */
static void
gate(const struct e2e *e, struct jg_it_client *c, const char *bearer)
{
	const char *h[2] = { bearer, NULL };
	struct jg_it_response r;
	char *forged;
	size_t i, len = strlen(bearer);

	request(e, c, "GET", "/protected/index.html", h, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT(r.body != NULL && e->gated != NULL && strcmp(r.body, e->gated) == 0);
	CU_ASSERT(jg_it_header(&r, "Content-Type") != NULL &&
		  strncmp(jg_it_header(&r, "Content-Type"), "text/html", 9) == 0);
	for (i = 0; i < r.nheaders; i++) {
		CU_ASSERT(strncasecmp(r.headers[i].name, "Variable-", 9) != 0);
		CU_ASSERT(strncasecmp(r.headers[i].name, "X-Jwt-", 6) != 0);
	}
	CU_ASSERT_PTR_NULL(jg_it_header(&r, "WWW-Authenticate"));
	jg_it_response_clear(&r);

	request(e, c, "GET", "/protected/index.html", NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 401);
	ASSERT_STR(jg_it_header(&r, "WWW-Authenticate"), "Bearer realm=\"jwtgate\"");
	CU_ASSERT(r.body == NULL || strstr(r.body, "Protected page") == NULL);
	jg_it_response_clear(&r);

	/* The scope rule of /protected/admin: the token lacks "admin".
	 * lighttpd relays the gate's 403 as sent, and so do nginx's
	 * auth_request and mod_authnz_fcgi; mod_fcgid turns every denial of
	 * its access checker into 401 (README), the challenge kept. */
	request(e, c, "GET", "/protected/admin/index.html", h, NULL, &r);
	CU_ASSERT_EQUAL(r.status, e->kind == E2E_APACHE_FCGID ? 401 : 403);
	CU_ASSERT(r.body == NULL || strstr(r.body, "e2e admin page") == NULL);
	if (e->kind != E2E_NGINX)
		ASSERT_STR(jg_it_header(&r, "WWW-Authenticate"),
			   "Bearer realm=\"jwtgate\", error=\"insufficient_scope\", "
			   "error_description=\"the token lacks a scope this resource requires\", "
			   "scope=\"admin\"");
	for (i = 0; i < r.nheaders; i++) {
		CU_ASSERT(strncasecmp(r.headers[i].name, "Variable-", 9) != 0);
		CU_ASSERT(strncasecmp(r.headers[i].name, "X-Jwt-", 6) != 0);
	}
	jg_it_response_clear(&r);

	/* One character of the signature changed. */
	forged = jg_xstrdup(bearer);
	forged[len - 2] = forged[len - 2] == 'A' ? 'B' : 'A';
	h[0] = forged;
	request(e, c, "GET", "/protected/index.html", h, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 401);
	CU_ASSERT(jg_it_header(&r, "WWW-Authenticate") != NULL &&
		  strstr(jg_it_header(&r, "WWW-Authenticate"), "error=\"invalid_token\"") != NULL);
	CU_ASSERT(r.body == NULL || strstr(r.body, "Protected page") == NULL);
	jg_it_response_clear(&r);
	free(forged);
}

/* ------------------------------------------------------------ the flow */

static void
flow(enum e2e_kind kind)
{
	static const char *const form_h[] = {
		"Content-Type: application/x-www-form-urlencoded", NULL
	};
	struct e2e e;
	struct jg_it_client *c;
	struct jg_it_response r;
	struct json_object *tok = NULL, *tok2 = NULL, *o;
	const char *tok_h[3], *loc;
	char *csrf, *form, *exchange, *code, *v, *bearer, *rt1, *rt2;

	if (!e2e_start(&e, kind)) {
		CU_FAIL("the server did not start");
		e2e_stop(&e);
		return;
	}
	c = jg_it_client_new();

	/* 1. The authorization request: the login form. */
	request(&e, c, "GET", "/oauth/authorize?" QUERY, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	ASSERT_STR(jg_it_header(&r, "Content-Type"), "text/html; charset=utf-8");
	ASSERT_STR(jg_it_header(&r, "X-Frame-Options"), "DENY");
	ASSERT_STR(jg_it_header(&r, "Cache-Control"), "no-store");
	CU_ASSERT_PTR_NULL(jg_it_header(&r, "Location"));
	CU_ASSERT(has(&r, "Sign in"));
	CU_ASSERT(has(&r, "Example App"));
	csrf = csrf_of(&r);
	CU_ASSERT(strlen(csrf) >= 32);
	jg_it_response_clear(&r);

	/* 2. The credentials without the CSRF token: refused, no session. */
	request(&e, c, "POST", "/oauth/authorize", form_h,
		QUERY "&jg_action=login&username=alice&password=correct+horse+battery+staple",
		&r);
	CU_ASSERT_EQUAL(r.status, 403);
	CU_ASSERT_PTR_NULL(jg_it_header(&r, "Location"));
	jg_it_response_clear(&r);
	CU_ASSERT_EQUAL(count(&e, "SELECT count(*) FROM sessions"), 0);

	/* 3. With it: a session, then the consent page (web is not
	 * first-party). */
	form = jg_xasprintf("%s&jg_action=login&jg_csrf=%s&username=alice"
			    "&password=correct+horse+battery+staple", QUERY, csrf);
	request(&e, c, "POST", "/oauth/authorize", form_h, form, &r);
	free(form);
	free(csrf);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT(has(&r, "value=\"allow\""));
	CU_ASSERT(has(&r, "value=\"deny\""));
	v = jg_it_cookie(c, "jg_session");
	CU_ASSERT(v != NULL && strlen(v) == 43);
	free(v);
	CU_ASSERT_EQUAL(count(&e, "SELECT count(*) FROM sessions WHERE sub = 'sub-alice'"), 1);
	CU_ASSERT_EQUAL(count(&e, "SELECT count(*) FROM consents"), 0);
	csrf = csrf_of(&r);
	jg_it_response_clear(&r);

	/* 4. Allow: 303 to the redirect URI with code, state and iss
	 * (RFC 9207). */
	form = jg_xasprintf("%s&jg_action=allow&jg_csrf=%s", QUERY, csrf);
	request(&e, c, "POST", "/oauth/authorize", form_h, form, &r);
	free(form);
	free(csrf);
	CU_ASSERT_EQUAL(r.status, 303);
	loc = jg_it_header(&r, "Location");
	CU_ASSERT(loc != NULL && strncmp(loc, WEB_CB "?code=", strlen(WEB_CB "?code=")) == 0);
	v = loc_param(&r, "state");
	ASSERT_STR(v, "e2e-state");
	free(v);
	v = loc_param(&r, "iss");
	ASSERT_STR(v, e.issuer);
	free(v);
	code = loc_param(&r, "code");
	jg_it_response_clear(&r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(code);
	CU_ASSERT(count(&e, "SELECT count(*) FROM consents WHERE client_id = 'web'") > 0);
	CU_ASSERT_EQUAL(count(&e, "SELECT count(*) FROM codes WHERE used_at IS NULL"), 1);

	/* 5. The token exchange with the RFC 7636 appendix B verifier. */
	tok_h[0] = e.basic;
	tok_h[1] = "Content-Type: application/x-www-form-urlencoded";
	tok_h[2] = NULL;
	exchange = jg_xasprintf("grant_type=authorization_code&code=%s&redirect_uri=%s"
				"&code_verifier=%s", code, WEB_CB_ENC, VERIFIER);
	request(&e, c, "POST", "/oauth/token", tok_h, exchange, &r);
	tok = token_answer(&r);
	jg_it_response_clear(&r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tok);
	ASSERT_STR(jstr(tok, "scope"), "openid profile email offline_access api:read");
	check_id_token(&e, c, jstr(tok, "id_token"));

	/* 6. The API with the access token. */
	bearer = jg_xasprintf("Authorization: Bearer %s", jstr(tok, "access_token"));
	{
		const char *h[2] = { bearer, NULL };

		request(&e, c, "GET", "/api/me", h, NULL, &r);
		CU_ASSERT_EQUAL(r.status, 200);
		o = body_json(&r);
		ASSERT_STR(jstr(o, "sub"), "sub-alice");
		json_object_put(o);
		jg_it_response_clear(&r);
		request(&e, c, "GET", "/api/me", NULL, NULL, &r);
		CU_ASSERT_EQUAL(r.status, 401);
		ASSERT_STR(jg_it_header(&r, "WWW-Authenticate"), "Bearer realm=\"jwtgate\"");
		jg_it_response_clear(&r);

		/* 6b. The static page behind the gate (each template's
		 * authorizer, access checker, authnz provider or
		 * auth_request). */
		gate(&e, c, bearer);

		/* 7. userinfo (OpenID Connect Core section 5.3). */
		request(&e, c, "GET", "/oauth/userinfo", h, NULL, &r);
		CU_ASSERT_EQUAL(r.status, 200);
		o = body_json(&r);
		ASSERT_STR(jstr(o, "sub"), "sub-alice");
		ASSERT_STR(jstr(o, "name"), "Alice Example");
		ASSERT_STR(jstr(o, "email"), "alice@example.org");
		json_object_put(o);
		jg_it_response_clear(&r);
	}

	/* 8. Refresh: a new refresh token, the old one rotated out. */
	rt1 = jg_xstrdup(jstr(tok, "refresh_token"));
	form = jg_xasprintf("grant_type=refresh_token&refresh_token=%s", rt1);
	request(&e, c, "POST", "/oauth/token", tok_h, form, &r);
	free(form);
	tok2 = token_answer(&r);
	jg_it_response_clear(&r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tok2);
	rt2 = jg_xstrdup(jstr(tok2, "refresh_token") ? jstr(tok2, "refresh_token") : "");
	CU_ASSERT(strcmp(rt1, rt2) != 0);
	CU_ASSERT(strcmp(jstr(tok, "access_token"), jstr(tok2, "access_token")) != 0);
	CU_ASSERT_EQUAL(count(&e, "SELECT count(*) FROM refresh_tokens WHERE rotated_at IS NOT NULL"), 1);
	CU_ASSERT_EQUAL(count(&e, "SELECT count(*) FROM refresh_tokens WHERE rotated_at IS NULL"), 1);
	{
		char *b2 = jg_xasprintf("Authorization: Bearer %s", jstr(tok2, "access_token"));
		const char *h[2] = { b2, NULL };

		request(&e, c, "GET", "/api/me", h, NULL, &r);
		CU_ASSERT_EQUAL(r.status, 200);
		jg_it_response_clear(&r);
		free(b2);
	}

	/* 9. Revoke the current refresh token (RFC 7009): 200, and the whole
	 * family is revoked. */
	form = jg_xasprintf("token=%s&token_type_hint=refresh_token", rt2);
	request(&e, c, "POST", "/oauth/revoke", tok_h, form, &r);
	free(form);
	CU_ASSERT_EQUAL(r.status, 200);
	jg_it_response_clear(&r);
	CU_ASSERT_EQUAL(count(&e, "SELECT count(*) FROM families WHERE revoked_at IS NOT NULL"), 1);

	/* 10. The revoked refresh token, and the rotated one, are refused. */
	form = jg_xasprintf("grant_type=refresh_token&refresh_token=%s", rt2);
	request(&e, c, "POST", "/oauth/token", tok_h, form, &r);
	free(form);
	CU_ASSERT_EQUAL(r.status, 400);
	o = body_json(&r);
	ASSERT_STR(jstr(o, "error"), "invalid_grant");
	json_object_put(o);
	jg_it_response_clear(&r);
	form = jg_xasprintf("grant_type=refresh_token&refresh_token=%s", rt1);
	request(&e, c, "POST", "/oauth/token", tok_h, form, &r);
	free(form);
	CU_ASSERT_EQUAL(r.status, 400);
	jg_it_response_clear(&r);
	free(rt1);
	free(rt2);
	/* The code is single-use (its replay comes last: it revokes what
	 * the code gave, RFC 6749 section 4.1.2). */
	request(&e, c, "POST", "/oauth/token", tok_h, exchange, &r);
	CU_ASSERT_EQUAL(r.status, 400);
	o = body_json(&r);
	ASSERT_STR(jstr(o, "error"), "invalid_grant");
	json_object_put(o);
	jg_it_response_clear(&r);
	free(exchange);
	free(code);

	/* 11. Logout (OpenID Connect RP-Initiated Logout 1.0) with the
	 * registered post-logout URI.  Without an id_token_hint it only asks
	 * for a confirmation: the session stays. */
	CU_ASSERT_EQUAL(count(&e, "SELECT count(*) FROM sessions"), 1);
	request(&e, c, "GET", "/oauth/logout?client_id=web&post_logout_redirect_uri="
		"https%3A%2F%2Fapp.example%2Fbye&state=bye-1", NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT(has(&r, "value=\"logout\""));
	CU_ASSERT_PTR_NULL(jg_it_header(&r, "Location"));
	jg_it_response_clear(&r);
	CU_ASSERT_EQUAL(count(&e, "SELECT count(*) FROM sessions"), 1);
	/* With the ID token of the session's user as the hint it ends at
	 * once. */
	form = jg_xasprintf("/oauth/logout?id_token_hint=%s&post_logout_redirect_uri="
			    "https%%3A%%2F%%2Fapp.example%%2Fbye&state=bye-1",
			    jstr(tok, "id_token") ? jstr(tok, "id_token") : "");
	request(&e, c, "GET", form, NULL, NULL, &r);
	free(form);
	CU_ASSERT_EQUAL(r.status, 302);
	ASSERT_STR(jg_it_header(&r, "Location"), "https://app.example/bye?state=bye-1");
	CU_ASSERT(set_cookie(&r, "jg_session=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"));
	jg_it_response_clear(&r);

	/* 12. The session is gone: prompt=none answers login_required, and
	 * a plain request shows the login form again. */
	request(&e, c, "GET", "/oauth/authorize?" QUERY "&prompt=none", NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 302);
	v = loc_param(&r, "error");
	ASSERT_STR(v, "login_required");
	free(v);
	jg_it_response_clear(&r);
	request(&e, c, "GET", "/oauth/authorize?" QUERY, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT(has(&r, "name=\"password\""));
	jg_it_response_clear(&r);

	/* The database at the end. */
	CU_ASSERT_EQUAL(count(&e, "SELECT count(*) FROM sessions"), 0);
	CU_ASSERT_EQUAL(count(&e, "SELECT count(*) FROM codes"), 1);
	CU_ASSERT_EQUAL(count(&e, "SELECT count(*) FROM codes WHERE used_at IS NOT NULL "
				  "AND issued = 1"), 1);
	CU_ASSERT_EQUAL(count(&e, "SELECT count(*) FROM families"), 1);
	CU_ASSERT_EQUAL(count(&e, "SELECT count(*) FROM families WHERE revoked_at IS NULL"), 0);
	CU_ASSERT_EQUAL(count(&e, "SELECT count(*) FROM refresh_tokens"), 2);
	CU_ASSERT_EQUAL(count(&e, "SELECT count(*) FROM login_failures"), 0);
	CU_ASSERT(count(&e, "SELECT count(*) FROM consents WHERE sub = 'sub-alice' "
			    "AND client_id = 'web'") > 0);

	free(bearer);
	json_object_put(tok);
	json_object_put(tok2);
	jg_it_client_free(c);
	CU_ASSERT_TRUE(e2e_stop(&e));
}

static void
test_lighttpd(void)
{
	flow(E2E_LIGHTTPD);
}

static void
test_apache_fcgid(void)
{
	flow(E2E_APACHE_FCGID);
}

static void
test_apache_authnz(void)
{
	flow(E2E_APACHE_AUTHNZ);
}

static void
test_nginx(void)
{
	flow(E2E_NGINX);
}

/* ------------------------------------------------------------ OIDC driver */

/* Runs the script with the instance's arguments (plus extra, or NULL),
 * its output into log and then on stdout.  Returns its exit status, or
 * -1. */
static int
run_script(const struct e2e *e, const char *script, const char *extra, const char *log)
{
	const char *argv[] = { "/usr/bin/python3", script, e->issuer, "web", WEB_SECRET,
			       WEB_CB, "alice", PASSWORD, extra, NULL };
	pid_t pid = jg_it_spawn(argv, log);
	int rc = pid > 0 ? jg_it_wait(pid, 120000) : -1;
	char *text = NULL;
	size_t len;

	if (jg_read_file(log, 1 << 20, &text, &len) == JG_OK)
		fputs(text, stdout);
	free(text);
	return rc;
}

static int
oidc_client(const char *script)
{
	struct e2e e;
	char *log, *text = NULL;
	size_t len;
	int rc, bad;

	if (!e2e_start(&e, E2E_LIGHTTPD)) {
		fprintf(stderr, "e2e: the instance did not start\n");
		e2e_stop(&e);
		return 99;
	}
	log = jg_xasprintf("%s/oidc-client.log", e.dir);
	rc = run_script(&e, script, NULL, log);
	if (rc == 0 && count(&e, "SELECT count(*) FROM codes WHERE used_at IS NOT NULL") != 1) {
		fprintf(stderr, "e2e: the code was not redeemed once\n");
		rc = 1;
	}
	free(log);

	/* The same flow, with the script told to expect another audience:
	 * it must fail, and on the ID token's validation. */
	log = jg_xasprintf("%s/oidc-client-bad.log", e.dir);
	printf("---- once more, expecting the audience \"other\": must fail\n");
	bad = run_script(&e, script, "--expect-aud=other", log);
	if (bad != 1 || jg_read_file(log, 1 << 20, &text, &len) != JG_OK ||
	    strstr(text, "\nFAIL: the ID token validates") == NULL ||
	    strstr(text, "\nFAIL: the redirect") != NULL) {
		fprintf(stderr, "e2e: the script did not fail on the wrong audience (%d)\n", bad);
		if (rc == 0)
			rc = 1;
	} else {
		printf("---- it failed as it must\n");
	}
	free(text);
	free(log);
	if (!e2e_stop(&e) && rc == 0)
		rc = 1;
	return rc < 0 ? 99 : rc;
}

int
main(int argc, char **argv)
{
	static const struct jg_test tests[] = {
		{ "the whole flow through lighttpd-jwtgate.conf", test_lighttpd },
		{ "the whole flow through apache-jwtgate.conf (mod_fcgid)", test_apache_fcgid },
		{ "the whole flow through apache-authnz-fcgi.conf", test_apache_authnz },
		{ "the whole flow through nginx-jwtgate.conf and spawn-fcgi", test_nginx },
		{ NULL, NULL }
	};
	int rc;

	stage = install_stage();
	if (stage == NULL)
		return 99;
	if (argc == 3 && strcmp(argv[1], "--oidc-client") == 0)
		rc = oidc_client(argv[2]);
	else
		rc = jg_test_main("e2e", tests);
	free(stage);
	return rc;
}
