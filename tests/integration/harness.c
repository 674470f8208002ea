/* harness.c: integration-test helpers: real web servers on a loopback port,
 * CGI runs, libcurl and raw-socket clients, and cleanup that survives a
 * failing test. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <libgen.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>

#include "harness.h"
#include "util.h"

#define LIGHTTPD "/usr/sbin/lighttpd"
#define APACHE "/usr/sbin/apache2"
#define APACHE_MODULES "/usr/lib/apache2/modules"
#define MAX_TRACKED 64
#define MAX_BODY (16 * 1024 * 1024)

/* ------------------------------------------------------------ cleanup */

/* What must be cleaned up at exit or on a fatal signal.  Test code: the
 * handlers have no other way to reach it. */
static struct {
	pid_t groups[MAX_TRACKED];
	char *dirs[MAX_TRACKED];
	bool hooked;
} tracked;

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void
remove_tree(const char *dir)
{
	nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void
untrack_group(pid_t pgid)
{
	size_t i;

	for (i = 0; i < MAX_TRACKED; i++)
		if (tracked.groups[i] == pgid)
			tracked.groups[i] = 0;
}

static void
untrack_dir(const char *dir)
{
	size_t i;

	for (i = 0; i < MAX_TRACKED; i++)
		if (tracked.dirs[i] && strcmp(tracked.dirs[i], dir) == 0) {
			free(tracked.dirs[i]);
			tracked.dirs[i] = NULL;
		}
}

static void
kill_all(int sig)
{
	size_t i;

	for (i = 0; i < MAX_TRACKED; i++)
		if (tracked.groups[i] > 0)
			kill(-tracked.groups[i], sig);
}

static void
cleanup_at_exit(void)
{
	size_t i;
	int waited;

	kill_all(SIGTERM);
	for (waited = 0; waited < 2000; waited += 20) {
		bool any = false;

		for (i = 0; i < MAX_TRACKED; i++)
			if (tracked.groups[i] > 0 && jg_it_leftovers(tracked.groups[i], NULL))
				any = true;
		if (!any)
			break;
		usleep(20 * 1000);
	}
	kill_all(SIGKILL);
	for (i = 0; i < MAX_TRACKED; i++) {
		tracked.groups[i] = 0;
		if (tracked.dirs[i]) {
			remove_tree(tracked.dirs[i]);
			free(tracked.dirs[i]);
			tracked.dirs[i] = NULL;
		}
	}
}

static void
fatal_signal(int sig)
{
	size_t i;

	/* Not async-signal-safe in full (nftw), but the process is dying
	 * and a left-over server or folder is worse. */
	kill_all(SIGKILL);
	for (i = 0; i < MAX_TRACKED; i++)
		if (tracked.dirs[i])
			remove_tree(tracked.dirs[i]);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
hook(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGABRT, SIGSEGV, SIGBUS };
	size_t i;

	if (tracked.hooked)
		return;
	tracked.hooked = true;
	atexit(cleanup_at_exit);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], fatal_signal);
	/* A server closing early must not kill the test with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void
track_group(pid_t pgid)
{
	size_t i;

	hook();
	for (i = 0; i < MAX_TRACKED; i++)
		if (tracked.groups[i] == 0) {
			tracked.groups[i] = pgid;
			return;
		}
	fprintf(stderr, "harness: too many processes to track\n");
	abort();
}

/* ------------------------------------------------------------ files */

const char *
jg_it_builddir(void)
{
	const char *d = getenv("JG_BUILDDIR");

	return d && *d ? d : ".";
}

char *
jg_it_build_path(const char *rel)
{
	return jg_xasprintf("%s/%s", jg_it_builddir(), rel);
}

const char *
jg_it_tempdir(void)
{
	char tmpl[] = "/tmp/jgit-XXXXXX";
	size_t i;

	hook();
	if (mkdtemp(tmpl) == NULL) {
		perror("harness: mkdtemp");
		return NULL;
	}
	chmod(tmpl, 0755);
	for (i = 0; i < MAX_TRACKED; i++)
		if (tracked.dirs[i] == NULL) {
			tracked.dirs[i] = jg_xstrdup(tmpl);
			return tracked.dirs[i];
		}
	remove_tree(tmpl);
	fprintf(stderr, "harness: too many temporary folders\n");
	return NULL;
}

bool
jg_it_write_file(const char *dir, const char *rel, const char *content, unsigned mode)
{
	char *path = jg_xasprintf("%s/%s", dir, rel), *p;
	size_t len = strlen(content), done = 0;
	int fd;

	for (p = path + strlen(dir) + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(path, 0755) != 0 && errno != EEXIST) {
			fprintf(stderr, "harness: mkdir %s: %s\n", path, strerror(errno));
			free(path);
			return false;
		}
		*p = '/';
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode);
	if (fd < 0) {
		fprintf(stderr, "harness: open %s: %s\n", path, strerror(errno));
		free(path);
		return false;
	}
	fchmod(fd, (mode_t)mode);
	while (done < len) {
		ssize_t n = write(fd, content + done, len - done);

		if (n <= 0) {
			fprintf(stderr, "harness: write %s: %s\n", path, strerror(errno));
			close(fd);
			free(path);
			return false;
		}
		done += (size_t)n;
	}
	close(fd);
	free(path);
	return true;
}

/* ------------------------------------------------------------ processes */

/* One port the kernel gives for a bind to port 0 on 127.0.0.1, or -1. */
static int
kernel_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* The port is free when asked, and not one this process was given
 * recently: the kernel may hand out the same port twice in a row once the
 * first probe socket is closed (a test that asked for two ports got one
 * twice, about once in many thousand runs). */
int
jg_it_free_port(void)
{
	static int recent[32];
	static size_t next;
	size_t i, tries;
	int port = -1;
	bool seen;

	for (tries = 0; tries < 64; tries++) {
		port = kernel_port();
		if (port <= 0)
			continue;
		seen = false;
		for (i = 0; i < sizeof(recent) / sizeof(recent[0]); i++)
			if (recent[i] == port)
				seen = true;
		if (!seen)
			break;
		port = -1;
	}
	if (port > 0) {
		recent[next] = port;
		next = (next + 1) % (sizeof(recent) / sizeof(recent[0]));
	}
	return port;
}

static int
decode_status(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return -1;
}

int
jg_it_wait(pid_t pid, int timeout_ms)
{
	int st, waited;

	for (waited = 0;; waited += 10) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid) {
			untrack_group(pid);
			return decode_status(st);
		}
		if (r < 0 && errno != EINTR) {
			untrack_group(pid);
			return -1;
		}
		if (waited >= timeout_ms)
			return -1;
		usleep(10 * 1000);
	}
}

pid_t
jg_it_spawn(const char *const *argv, const char *log)
{
	pid_t pid;

	hook();
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open("/dev/null", O_RDONLY);
		sigset_t none;

		setpgid(0, 0);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		if (fd >= 0) {
			dup2(fd, STDIN_FILENO);
			close(fd);
		}
		if (log) {
			fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
			if (fd >= 0) {
				dup2(fd, STDOUT_FILENO);
				dup2(fd, STDERR_FILENO);
				close(fd);
			}
		}
		execv(argv[0], (char *const *)(uintptr_t)argv);
		fprintf(stderr, "harness: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);
	track_group(pid);
	return pid;
}

/* The inode of the socket listening on 127.0.0.1:port or *:port (from
 * /proc/net/tcp), or 0 when there is none or it cannot be told. */
static unsigned long
listen_inode(int port)
{
	FILE *f = fopen("/proc/net/tcp", "r");
	char line[512];
	unsigned long inode = 0;

	if (f == NULL)
		return 0;
	while (inode == 0 && fgets(line, sizeof(line), f) != NULL) {
		unsigned int addr, lport, state;
		unsigned long ino;

		if (sscanf(line, " %*u: %x:%x %*x:%*x %x %*x:%*x %*x:%*x %*x %*u %*u %lu",
			   &addr, &lport, &state, &ino) == 4 && lport == (unsigned int)port &&
		    state == 0x0A && (addr == htonl(INADDR_LOOPBACK) || addr == 0))
			inode = ino;
	}
	fclose(f);
	return inode;
}

/* False only when the socket listening on port is known to belong to a
 * process other than pid: with make -j2 another test may have started a
 * server on the port jg_it_free_port gave out, and jg_it_wait_port then
 * connects to that server while ours fails to bind. */
static bool
port_is_ours(int port, pid_t pid)
{
	unsigned long inode = listen_inode(port);
	char *dir, want[64];
	struct dirent *e;
	bool found = false;
	DIR *d;

	if (inode == 0)
		return true;
	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	dir = jg_xasprintf("/proc/%ld/fd", (long)pid);
	d = opendir(dir);
	if (d == NULL) {
		free(dir);
		return true;
	}
	while (!found && (e = readdir(d)) != NULL) {
		char *link = jg_xasprintf("%s/%s", dir, e->d_name), target[64];
		ssize_t n = readlink(link, target, sizeof(target) - 1);

		if (n > 0) {
			target[n] = '\0';
			found = strcmp(target, want) == 0;
		}
		free(link);
	}
	closedir(d);
	free(dir);
	return found;
}

bool
jg_it_wait_port(int port, pid_t pid, int timeout_ms)
{
	struct sockaddr_in sa;
	int waited;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)port);
	for (waited = 0; waited <= timeout_ms; waited += 20) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), st;
		bool ok;

		if (fd < 0)
			return false;
		ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
		close(fd);
		if (ok)
			return true;
		if (pid > 0 && waitpid(pid, &st, WNOHANG) == pid) {
			untrack_group(pid);
			return false;
		}
		usleep(20 * 1000);
	}
	return false;
}

unsigned
jg_it_leftovers(pid_t pgid, const char *needle)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	unsigned n = 0;
	pid_t self = getpid();

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		char path[64], buf[4096], *close_paren, state = 0;
		int pgrp = 0, ppid = 0;
		long pid;
		size_t got, i;
		FILE *f;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		pid = strtol(e->d_name, NULL, 10);
		if (pid == self)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		got = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[got] = '\0';
		close_paren = strrchr(buf, ')');
		if (close_paren == NULL ||
		    sscanf(close_paren + 1, " %c %d %d", &state, &ppid, &pgrp) != 3)
			continue;
		if (state == 'Z' || state == 'X')
			continue;
		if (pgid > 0 && pgrp == pgid) {
			n++;
			continue;
		}
		if (needle == NULL)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		got = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		for (i = 0; i < got; i++)
			if (buf[i] == '\0')
				buf[i] = ' ';
		buf[got] = '\0';
		if (strstr(buf, needle))
			n++;
	}
	closedir(d);
	return n;
}

int
jg_it_run_cgi(const char *bin, const char *const *env, const char *stdin_data,
	      size_t len, char **out, size_t *out_len)
{
	int in_pipe[2], out_pipe[2], status = -1, waited = 0;
	size_t sent = 0, used = 0, cap = 4096;
	char *buf;
	pid_t pid;

	hook();
	if (pipe2(in_pipe, O_CLOEXEC) != 0)
		return -1;
	if (pipe2(out_pipe, O_CLOEXEC) != 0) {
		close(in_pipe[0]);
		close(in_pipe[1]);
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		signal(SIGPIPE, SIG_DFL);
		dup2(in_pipe[0], STDIN_FILENO);
		dup2(out_pipe[1], STDOUT_FILENO);
		execve(bin, (char *const[]){ (char *)(uintptr_t)bin, NULL },
		       (char *const *)(uintptr_t)env);
		_exit(127);
	}
	close(in_pipe[0]);
	close(out_pipe[1]);
	if (pid < 0) {
		close(in_pipe[1]);
		close(out_pipe[0]);
		return -1;
	}
	setpgid(pid, pid);
	track_group(pid);
	if (len == 0) {
		close(in_pipe[1]);
		in_pipe[1] = -1;
	}
	buf = jg_xmalloc(cap);
	while (waited < 10000) {
		struct pollfd p[2] = {
			{ out_pipe[0], POLLIN, 0 },
			{ in_pipe[1], POLLOUT, 0 },
		};
		int r = poll(p, in_pipe[1] >= 0 ? 2 : 1, 100);

		if (r == 0) {
			waited += 100;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		if (in_pipe[1] >= 0 && (p[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t n = write(in_pipe[1], stdin_data + sent, len - sent);

			if (n > 0)
				sent += (size_t)n;
			if (n < 0 || sent == len) {
				close(in_pipe[1]);
				in_pipe[1] = -1;
			}
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n;

			if (used + 4096 > cap) {
				cap *= 2;
				buf = jg_xrealloc(buf, cap);
			}
			n = read(out_pipe[0], buf + used, cap - used - 1);
			if (n <= 0)
				break;
			used += (size_t)n;
		}
	}
	if (in_pipe[1] >= 0)
		close(in_pipe[1]);
	close(out_pipe[0]);
	status = jg_it_wait(pid, waited < 10000 ? 10000 - waited : 0);
	if (status < 0) {
		kill(-pid, SIGKILL);
		status = jg_it_wait(pid, 5000);
		fprintf(stderr, "harness: %s did not finish in time\n", bin);
	}
	buf[used] = '\0';
	*out = buf;
	*out_len = used;
	return status;
}

/* ------------------------------------------------------------ servers */

static struct jg_it_server *
server_new(enum jg_it_kind kind)
{
	struct jg_it_server *s = jg_xcalloc(1, sizeof(*s));
	const char *dir = jg_it_tempdir();

	if (dir == NULL) {
		free(s);
		return NULL;
	}
	s->kind = kind;
	s->dir = jg_xstrdup(dir);
	s->htdocs = jg_xasprintf("%s/htdocs", dir);
	s->error_log = jg_xasprintf("%s/error.log", dir);
	s->output = jg_xasprintf("%s/server.out", dir);
	mkdir(s->htdocs, 0755);
	return s;
}

static void
server_free(struct jg_it_server *s)
{
	untrack_dir(s->dir);
	free(s->dir);
	free(s->htdocs);
	free(s->url);
	free(s->error_log);
	free(s->output);
	free(s);
}

static void
dump_file(const char *path)
{
	char *text = NULL;
	size_t len;

	if (jg_read_file(path, 1 << 20, &text, &len) == JG_OK) {
		fprintf(stderr, "---- %s\n%s----\n", path, text);
		free(text);
	}
}

static bool
file_contains(const char *path, const char *text)
{
	char *log = NULL;
	size_t len;
	bool found;

	if (jg_read_file(path, 64 << 20, &log, &len) != JG_OK)
		return false;
	found = strstr(log, text) != NULL;
	free(log);
	return found;
}

bool
jg_it_log_contains(const struct jg_it_server *s, const char *text)
{
	return file_contains(s->error_log, text) || file_contains(s->output, text);
}

bool
jg_it_server_stop(struct jg_it_server *s)
{
	bool clean = true;
	int waited, st;

	if (s == NULL)
		return true;
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		st = jg_it_wait(s->pid, 10000);
		if (st < 0) {
			fprintf(stderr, "harness: the server did not stop on SIGTERM\n");
			clean = false;
			kill(-s->pid, SIGKILL);
			jg_it_wait(s->pid, 5000);
		}
		for (waited = 0; waited < 5000; waited += 20) {
			if (jg_it_leftovers(s->pid, s->dir) == 0)
				break;
			usleep(20 * 1000);
		}
		if (jg_it_leftovers(s->pid, s->dir) != 0) {
			fprintf(stderr, "harness: processes were left after the server stopped\n");
			clean = false;
			kill(-s->pid, SIGKILL);
			usleep(100 * 1000);
		}
		untrack_group(s->pid);
	}
	if (jg_it_log_contains(s, "Sanitizer") || jg_it_log_contains(s, "runtime error:")) {
		fprintf(stderr, "harness: a sanitizer reported an error:\n");
		dump_file(s->output);
		dump_file(s->error_log);
		clean = false;
	}
	remove_tree(s->dir);
	server_free(s);
	return clean;
}

/* Writes a string for a lighttpd configuration, quoted. */
static void
lt_quote(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static char *
lighttpd_config(const struct jg_it_server *s, const struct jg_it_server_opts *o)
{
	char *text = NULL;
	size_t len = 0, i, j;
	FILE *f = open_memstream(&text, &len);

	fprintf(f, "server.document-root = ");
	lt_quote(f, s->htdocs);
	fprintf(f, "\nserver.bind = \"127.0.0.1\"\nserver.port = %d\n", s->port);
	fprintf(f, "server.errorlog = ");
	lt_quote(f, s->error_log);
	fprintf(f, "\nserver.upload-dirs = ( ");
	lt_quote(f, s->dir);
	fprintf(f, " )\nserver.modules = ( \"mod_fastcgi\"%s )\n",
		o->cgi ? ", \"mod_cgi\"" : "");
	fprintf(f, "mimetype.assign = ( \".txt\" => \"text/plain\", "
		"\".html\" => \"text/html; charset=utf-8\", "
		"\".json\" => \"application/json\" )\n");
	if (o->cgi)
		fprintf(f, "cgi.assign = ( \".cgi\" => \"\" )\n");
	if (o->nprograms)
		fprintf(f, "fastcgi.server = (\n");
	for (i = 0; i < o->nprograms; i++) {
		const struct jg_it_program *p = &o->programs[i];

		fprintf(f, "  ");
		lt_quote(f, p->prefix);
		fprintf(f, " => ((\n");
		if (p->bin) {
			char *sock = jg_xasprintf("%s/fcgi-%zu.sock", s->dir, i);

			fprintf(f, "    \"bin-path\" => ");
			lt_quote(f, p->bin);
			fprintf(f, ",\n    \"socket\" => ");
			lt_quote(f, sock);
			fprintf(f, ",\n    \"max-procs\" => %u,\n",
				p->max_procs ? p->max_procs : 1);
			free(sock);
		} else if (p->socket && strchr(p->socket, '/')) {
			fprintf(f, "    \"socket\" => ");
			lt_quote(f, p->socket);
			fprintf(f, ",\n");
		} else if (p->socket) {
			const char *colon = strrchr(p->socket, ':');
			char *host = jg_xstrndup(p->socket, colon ? (size_t)(colon - p->socket) : 0);

			fprintf(f, "    \"host\" => ");
			lt_quote(f, host);
			fprintf(f, ",\n    \"port\" => %s,\n", colon ? colon + 1 : "0");
			free(host);
		}
		fprintf(f, "    \"check-local\" => \"disable\"");
		if (p->authorizer) {
			fprintf(f, ",\n    \"mode\" => \"authorizer\"");
			if (p->docroot) {
				fprintf(f, ",\n    \"docroot\" => ");
				lt_quote(f, p->docroot);
			}
		}
		if (p->env && p->bin) {
			fprintf(f, ",\n    \"bin-environment\" => (");
			for (j = 0; p->env[j]; j++) {
				const char *eq = strchr(p->env[j], '=');
				char *name = jg_xstrndup(p->env[j],
							 eq ? (size_t)(eq - p->env[j])
							    : strlen(p->env[j]));

				fprintf(f, "%s ", j ? "," : "");
				lt_quote(f, name);
				fprintf(f, " => ");
				lt_quote(f, eq ? eq + 1 : "");
				free(name);
			}
			fprintf(f, " )");
		}
		fprintf(f, "\n  ))%s\n", i + 1 < o->nprograms ? "," : "");
	}
	if (o->nprograms)
		fprintf(f, ")\n");
	if (o->extra)
		fprintf(f, "%s\n", o->extra);
	fclose(f);
	return text;
}

static char *
apache_config(const struct jg_it_server *s, const struct jg_it_server_opts *o,
	      bool as_root)
{
	static const char *const modules[][2] = {
		{ "mpm_event_module", "mod_mpm_event.so" },
		{ "authz_core_module", "mod_authz_core.so" },
		{ "authn_core_module", "mod_authn_core.so" },
		{ "mime_module", "mod_mime.so" },
		{ "dir_module", "mod_dir.so" },
		{ "alias_module", "mod_alias.so" },
		{ "headers_module", "mod_headers.so" },
		{ "env_module", "mod_env.so" },
		{ "fcgid_module", "mod_fcgid.so" },
	};
	static const char *const san_vars[] = {
		"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"
	};
	char *text = NULL;
	size_t len = 0, i, j;
	FILE *f = open_memstream(&text, &len);

	fprintf(f, "ServerRoot \"%s\"\nListen 127.0.0.1:%d\nServerName 127.0.0.1\n",
		s->dir, s->port);
	fprintf(f, "PidFile \"%s/httpd.pid\"\nDefaultRuntimeDir \"%s/run\"\n", s->dir, s->dir);
	fprintf(f, "Mutex file:%s/run default\n", s->dir);
	fprintf(f, "ErrorLog \"%s\"\nLogLevel warn\n", s->error_log);
	for (i = 0; i < sizeof(modules) / sizeof(modules[0]); i++)
		fprintf(f, "LoadModule %s %s/%s\n", modules[i][0], APACHE_MODULES,
			modules[i][1]);
	if (as_root)
		fprintf(f, "User www-data\nGroup www-data\n");
	fprintf(f, "StartServers 1\nServerLimit 2\nThreadsPerChild 8\n"
		"MaxRequestWorkers 16\nMinSpareThreads 1\nMaxSpareThreads 16\n");
	fprintf(f, "TypesConfig /etc/mime.types\nAddType text/plain .txt\n");
	fprintf(f, "DocumentRoot \"%s\"\n", s->htdocs);
	fprintf(f, "<Directory />\n  AllowOverride None\n  Require all denied\n</Directory>\n");
	fprintf(f, "<Directory \"%s\">\n  Require all granted\n</Directory>\n", s->htdocs);
	fprintf(f, "FcgidIPCDir \"%s/fcgid\"\n", s->dir);
	fprintf(f, "FcgidProcessTableFile \"%s/fcgid/table\"\n", s->dir);
	fprintf(f, "FcgidPassHeader Authorization\n");
	/* mod_fcgid gives its programs only FcgidInitialEnv: pass on the
	 * sanitizer options of the test (lighttpd's programs inherit them),
	 * so that both servers' programs run under the same options. */
	for (i = 0; i < sizeof(san_vars) / sizeof(san_vars[0]); i++) {
		const char *v = getenv(san_vars[i]);

		if (v != NULL && strchr(v, '"') == NULL)
			fprintf(f, "FcgidInitialEnv %s \"%s\"\n", san_vars[i], v);
	}
	for (i = 0; i < o->nprograms; i++) {
		const struct jg_it_program *p = &o->programs[i];

		for (j = 0; p->env && p->env[j]; j++) {
			const char *eq = strchr(p->env[j], '=');

			fprintf(f, "FcgidInitialEnv %.*s \"%s\"\n",
				(int)(eq ? (size_t)(eq - p->env[j]) : strlen(p->env[j])),
				p->env[j], eq ? eq + 1 : "");
		}
	}
	for (i = 0; i < o->nprograms; i++) {
		const struct jg_it_program *p = &o->programs[i];
		size_t plen = strlen(p->prefix);
		char *dir;

		if (p->bin == NULL)
			continue;
		while (plen > 1 && p->prefix[plen - 1] == '/')
			plen--;
		dir = jg_xstrdup(p->bin);
		if (p->authorizer) {
			fprintf(f, "<Location \"%.*s\">\n  FcgidAccessChecker \"%s\"\n"
				"  Require all granted\n</Location>\n",
				(int)plen, p->prefix, p->bin);
		} else {
			/* The program lies outside the document root: allow it,
			 * and map the prefix and everything below it to it. */
			fprintf(f, "<Directory \"%s\">\n  Require all granted\n</Directory>\n",
				dirname(dir));
			fprintf(f, "AliasMatch \"^%.*s(/.*)?$\" \"%s$1\"\n", (int)plen,
				p->prefix, p->bin);
			fprintf(f, "<Location \"%.*s\">\n  SetHandler fcgid-script\n"
				"  Options +ExecCGI\n  Require all granted\n</Location>\n",
				(int)plen, p->prefix);
		}
		free(dir);
	}
	if (o->extra)
		fprintf(f, "%s\n", o->extra);
	fclose(f);
	return text;
}

/* Gives the folder tree to www-data, so Apache's workers and the programs
 * they start may use it. */
static void
chown_tree(const char *dir, uid_t uid, gid_t gid)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (lchown(dir, uid, gid) != 0 || d == NULL) {
		if (d)
			closedir(d);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		char *path;
		struct stat st;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		path = jg_xasprintf("%s/%s", dir, e->d_name);
		if (lstat(path, &st) == 0) {
			if (S_ISDIR(st.st_mode))
				chown_tree(path, uid, gid);
			else
				lchown(path, uid, gid);
		}
		free(path);
	}
	closedir(d);
}

/* Copies a program into DIR/bin, so Apache's www-data workers can run it
 * even when a folder above the build tree is closed to them.  Returns the
 * new path (caller frees) or NULL. */
static char *
copy_program(const char *dir, const char *bin, size_t index)
{
	char *data = NULL, *base = jg_xstrdup(bin), *rel, *path;
	size_t len;
	int fd;

	if (jg_read_file(bin, 256 << 20, &data, &len) != JG_OK) {
		fprintf(stderr, "harness: cannot read %s\n", bin);
		free(base);
		return NULL;
	}
	rel = jg_xasprintf("bin/%zu-%s", index, basename(base));
	path = jg_xasprintf("%s/%s", dir, rel);
	/* Make the folder, then write the bytes (they may hold NULs). */
	jg_it_write_file(dir, rel, "", 0755);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len) {
		fprintf(stderr, "harness: cannot copy %s\n", bin);
		free(path);
		path = NULL;
	}
	if (fd >= 0)
		close(fd);
	free(data);
	free(rel);
	free(base);
	return path;
}

static struct jg_it_server *
server_start(enum jg_it_kind kind, const struct jg_it_server_opts *opts)
{
	const char *binary = kind == JG_IT_LIGHTTPD ? LIGHTTPD : APACHE;
	bool as_root = geteuid() == 0;
	int attempt;

	if (access(binary, X_OK) != 0) {
		fprintf(stderr, "harness: %s is missing: apt-get install %s\n", binary,
			kind == JG_IT_LIGHTTPD ? "lighttpd" : "apache2 libapache2-mod-fcgid");
		return NULL;
	}
	for (attempt = 0; attempt < 5; attempt++) {
		struct jg_it_server *s = server_new(kind);
		char *conf, *conf_path, *out_path;
		bool ok, taken = false;

		if (s == NULL)
			return NULL;
		s->port = jg_it_free_port();
		s->url = jg_xasprintf("http://127.0.0.1:%d", s->port);
		if (kind == JG_IT_APACHE && as_root) {
			struct jg_it_program *copies;
			struct jg_it_server_opts o = *opts;
			char **paths = jg_xcalloc(opts->nprograms + 1, sizeof(*paths));
			size_t i;

			copies = jg_xcalloc(opts->nprograms + 1, sizeof(*copies));
			for (i = 0; i < opts->nprograms; i++) {
				copies[i] = opts->programs[i];
				if (copies[i].bin) {
					paths[i] = copy_program(s->dir, copies[i].bin, i);
					copies[i].bin = paths[i] ? paths[i] : copies[i].bin;
				}
			}
			o.programs = copies;
			conf = apache_config(s, &o, as_root);
			for (i = 0; i < opts->nprograms; i++)
				free(paths[i]);
			free(paths);
			free(copies);
		} else {
			conf = kind == JG_IT_LIGHTTPD ? lighttpd_config(s, opts)
						      : apache_config(s, opts, as_root);
		}
		conf_path = jg_xasprintf("%s/server.conf", s->dir);
		out_path = jg_xstrdup(s->output);
		ok = jg_it_write_file(s->dir, "server.conf", conf, 0644);
		if (kind == JG_IT_APACHE) {
			char *d = jg_xasprintf("%s/run", s->dir);

			mkdir(d, 0755);
			free(d);
			d = jg_xasprintf("%s/fcgid", s->dir);
			mkdir(d, 0755);
			free(d);
			if (as_root) {
				struct passwd *pw = getpwnam("www-data");

				if (pw)
					chown_tree(s->dir, pw->pw_uid, pw->pw_gid);
			}
		}
		if (ok) {
			const char *lt_argv[] = { LIGHTTPD, "-D", "-f", conf_path, NULL };
			const char *ap_argv[] = { APACHE, "-DFOREGROUND", "-f", conf_path, NULL };

			s->pid = jg_it_spawn(kind == JG_IT_LIGHTTPD ? lt_argv : ap_argv, out_path);
			ok = s->pid > 0 && jg_it_wait_port(s->port, s->pid, 15000);
			if (ok && !port_is_ours(s->port, s->pid)) {
				fprintf(stderr, "harness: port %d is another server's\n",
					s->port);
				ok = false;
				taken = true;
			}
		}
		if (ok) {
			free(conf);
			free(conf_path);
			free(out_path);
			return s;
		}
		ok = taken || jg_it_log_contains(s, "in use") ||
		     jg_it_log_contains(s, "Address already");
		if (!ok) {
			fprintf(stderr, "harness: the server did not start; configuration:\n%s\n",
				conf);
			dump_file(out_path);
			dump_file(s->error_log);
		}
		free(conf);
		free(conf_path);
		free(out_path);
		jg_it_server_stop(s);
		if (!ok)
			return NULL;
	}
	fprintf(stderr, "harness: no free port found\n");
	return NULL;
}

struct jg_it_server *
jg_it_lighttpd_start(const struct jg_it_server_opts *opts)
{
	return server_start(JG_IT_LIGHTTPD, opts);
}

struct jg_it_server *
jg_it_apache_start(const struct jg_it_server_opts *opts)
{
	return server_start(JG_IT_APACHE, opts);
}

/* ------------------------------------------------------------ HTTP client */

struct jg_it_client {
	CURL *curl;
	bool follow;
};

struct jg_it_client *
jg_it_client_new(void)
{
	struct jg_it_client *c = jg_xcalloc(1, sizeof(*c));

	hook();
	c->curl = curl_easy_init();
	if (c->curl == NULL) {
		fprintf(stderr, "harness: curl_easy_init failed\n");
		abort();
	}
	/* The cookie engine, in memory: kept across curl_easy_reset. */
	curl_easy_setopt(c->curl, CURLOPT_COOKIEFILE, "");
	return c;
}

void
jg_it_client_free(struct jg_it_client *c)
{
	if (c == NULL)
		return;
	curl_easy_cleanup(c->curl);
	free(c);
}

void
jg_it_client_follow(struct jg_it_client *c, bool follow)
{
	c->follow = follow;
}

void
jg_it_response_clear(struct jg_it_response *resp)
{
	size_t i;

	for (i = 0; i < resp->nheaders; i++) {
		free(resp->headers[i].name);
		free(resp->headers[i].value);
	}
	free(resp->headers);
	free(resp->body);
	memset(resp, 0, sizeof(*resp));
}

static size_t
on_body(char *data, size_t size, size_t n, void *user)
{
	struct jg_it_response *r = user;
	size_t len = size * n;

	if (r->body_len + len > MAX_BODY)
		return 0;
	r->body = jg_xrealloc(r->body, r->body_len + len + 1);
	memcpy(r->body + r->body_len, data, len);
	r->body_len += len;
	r->body[r->body_len] = '\0';
	return len;
}

static size_t
on_header(char *data, size_t size, size_t n, void *user)
{
	struct jg_it_response *r = user;
	size_t len = size * n, i;
	char *line = jg_xstrndup(data, len), *colon, *v;

	if (strncmp(line, "HTTP/", 5) == 0) {
		/* A new response (after a redirect or 100 Continue). */
		for (i = 0; i < r->nheaders; i++) {
			free(r->headers[i].name);
			free(r->headers[i].value);
		}
		r->nheaders = 0;
	} else if ((colon = strchr(line, ':')) != NULL) {
		*colon = '\0';
		v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		i = strlen(v);
		while (i > 0 && (v[i - 1] == '\r' || v[i - 1] == '\n' || v[i - 1] == ' '))
			v[--i] = '\0';
		r->headers = jg_xrealloc(r->headers, (r->nheaders + 1) * sizeof(*r->headers));
		r->headers[r->nheaders].name = jg_xstrdup(line);
		r->headers[r->nheaders].value = jg_xstrdup(v);
		r->nheaders++;
	}
	free(line);
	return len;
}

bool
jg_it_request(struct jg_it_client *c, const char *method, const char *url,
	      const char *const *headers, const char *body, size_t len,
	      struct jg_it_response *resp)
{
	struct curl_slist *list = NULL;
	bool has_expect = false;
	CURLcode rc;
	size_t i;

	memset(resp, 0, sizeof(*resp));
	resp->body = jg_xstrdup("");
	/* No curl_easy_reset: it would drop the cookie engine.  Every option
	 * that differs between requests is set below each time instead. */
	curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, NULL);
	curl_easy_setopt(c->curl, CURLOPT_NOBODY, 0L);
	curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_PROXY, "");
	curl_easy_setopt(c->curl, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c->curl, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, c->follow ? 1L : 0L);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, resp);
	for (i = 0; headers && headers[i]; i++) {
		list = curl_slist_append(list, headers[i]);
		if (strncasecmp(headers[i], "Expect:", 7) == 0)
			has_expect = true;
	}
	if (!has_expect)
		list = curl_slist_append(list, "Expect:");
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, list);
	if (strcmp(method, "GET") == 0) {
		curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
	} else if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(c->curl, CURLOPT_NOBODY, 1L);
	} else {
		if (body || strcmp(method, "POST") == 0) {
			curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE,
					 (curl_off_t)(body ? len : 0));
			curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body ? body : "");
		}
		if (strcmp(method, "POST") != 0)
			curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
	}
	rc = curl_easy_perform(c->curl);
	curl_slist_free_all(list);
	if (rc != CURLE_OK) {
		fprintf(stderr, "harness: %s %s: %s\n", method, url, curl_easy_strerror(rc));
		return false;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &resp->status);
	return true;
}

bool
jg_it_get(struct jg_it_client *c, const char *url, const char *const *headers,
	  struct jg_it_response *resp)
{
	return jg_it_request(c, "GET", url, headers, NULL, 0, resp);
}

bool
jg_it_post(struct jg_it_client *c, const char *url, const char *const *headers,
	   const char *body, struct jg_it_response *resp)
{
	return jg_it_request(c, "POST", url, headers, body, body ? strlen(body) : 0, resp);
}

const char *
jg_it_header(const struct jg_it_response *resp, const char *name)
{
	size_t i;

	for (i = 0; i < resp->nheaders; i++)
		if (strcasecmp(resp->headers[i].name, name) == 0)
			return resp->headers[i].value;
	return NULL;
}

size_t
jg_it_header_count(const struct jg_it_response *resp, const char *name)
{
	size_t i, n = 0;

	for (i = 0; i < resp->nheaders; i++)
		if (strcasecmp(resp->headers[i].name, name) == 0)
			n++;
	return n;
}

char *
jg_it_cookie(struct jg_it_client *c, const char *name)
{
	struct curl_slist *list = NULL, *l;
	char *value = NULL;

	if (curl_easy_getinfo(c->curl, CURLINFO_COOKIELIST, &list) != CURLE_OK)
		return NULL;
	/* Netscape format: domain, tailmatch, path, secure, expires, name,
	 * value, separated by tabs. */
	for (l = list; l && value == NULL; l = l->next) {
		char *copy = jg_xstrdup(l->data), *fields[7], *save = NULL, *p = copy;
		size_t n = 0;

		while (n < 7 && (fields[n] = strtok_r(p, "\t", &save)) != NULL) {
			p = NULL;
			n++;
		}
		if (n == 7 && strcmp(fields[5], name) == 0)
			value = jg_xstrdup(fields[6]);
		else if (n == 6 && strcmp(fields[5], name) == 0)
			value = jg_xstrdup("");
		free(copy);
	}
	curl_slist_free_all(list);
	return value;
}

char *
jg_it_raw(int port, const char *data, size_t len, int *status)
{
	struct sockaddr_in sa;
	size_t sent = 0, used = 0, cap = 4096;
	int fd, waited = 0;
	char *buf;

	if (status)
		*status = 0;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)port);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return NULL;
	}
	while (sent < len) {
		ssize_t n = send(fd, data + sent, len - sent, MSG_NOSIGNAL);

		if (n <= 0)
			break;
		sent += (size_t)n;
	}
	buf = jg_xmalloc(cap);
	while (waited < 10000) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t n;
		int r = poll(&p, 1, 100);

		if (r == 0) {
			waited += 100;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		if (used + 4096 > cap) {
			cap *= 2;
			buf = jg_xrealloc(buf, cap);
		}
		n = recv(fd, buf + used, cap - used - 1, 0);
		if (n <= 0)
			break;
		used += (size_t)n;
	}
	close(fd);
	buf[used] = '\0';
	if (status && strncmp(buf, "HTTP/1.", 7) == 0 && used > 12)
		*status = atoi(buf + 9);
	return buf;
}
