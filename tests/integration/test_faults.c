/* test_faults.c: issue 9 point 4, faults, through a real lighttpd running
 * the three programs (tests/integration/instance.c) with the database on a
 * small tmpfs of its own (mount -t tmpfs: the test runs as root; without
 * the right to mount, the tests that need it fail with a message):
 *   - a FastCGI process killed with SIGKILL under load: lighttpd starts
 *     another, only requests in flight fail, then everything works and the
 *     database passes PRAGMA integrity_check;
 *   - the database locked by another process for 5 seconds (BEGIN
 *     EXCLUSIVE held): every answer is a success after waiting or a 503
 *     with Retry-After, never a 500;
 *   - a full disk (the tmpfs filled up after VACUUM and a TRUNCATE
 *     checkpoint left SQLite no spare room of its own): every token issue
 *     and login fails with a clean JSON or HTML error, never a hang; the
 *     database stays intact and works again once there is room;
 *   - the database read-only (a read-only bind mount of the tmpfs, under a
 *     second lighttpd), and at start a broken or missing configuration, a
 *     missing key folder, a key file missing, unreadable or garbage, a
 *     database that cannot be opened or is missing: under a second
 *     lighttpd each program answers every request with a clean error of
 *     its kind at once (token and gate: 500 server_error JSON; login: a
 *     500 HTML page that cannot be framed) and the web server's log
 *     (server.out) names the problem with each refused request; run as
 *     CGI, each program prints the problem and exits with status 1; a
 *     missing database is not created.
 * Nothing depends on how fast the machine is (make distcheck runs it
 * beside other suites on 2 cores, and check.sh under ASan): the load runs
 * until enough batches were answered after the kill, the 5 seconds of
 * lock start when every child is about to send, and "at once" means
 * within PROMPT seconds. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <sqlite3.h>

#include "instance.h"
#include "testutil.h"
#include "conf.h"
#include "http.h"
#include "util.h"

#define WEB_CB_ENC "https%3A%2F%2Fapp.example%2Fcb"
#define WEB_Q "client_id=web&redirect_uri=" WEB_CB_ENC \
	"&response_type=code&state=f&scope=openid"

static struct {
	struct jg_inst in;
	const char *mnt;	/* the tmpfs holding the database */
	bool mounted;
	char *db;
	char *token;		/* an access token for /api/me */
	char *cookie_hdr;	/* "Cookie: jg_csrf=..." */
	char *login_body;	/* a wrong-password login with that CSRF token */
	char *login_ok_body;	/* the same with the right password */
} t;

static const char *form_ct = "Content-Type: application/x-www-form-urlencoded";

/* "At once": an answer within PROMPT seconds.  What it rules out is a
 * hang (libcurl gives up after 60 s); it is generous because the suite
 * also runs under ASan and UBSan on a loaded machine. */
#define PROMPT 30

static void
unmount(void)
{
	if (t.mounted && umount2(t.mnt, MNT_DETACH) == 0)
		t.mounted = false;
}

/* ------------------------------------------------------------ requests */

struct answer {
	long status;
	char *body;
	char *head;
	double seconds;
};

static void
answer_clear(struct answer *a)
{
	free(a->body);
	free(a->head);
	memset(a, 0, sizeof(*a));
}

/* n parallel copies of one request of kind: 'c' client_credentials, 'g'
 * the gate, 'l' a wrong-password login, 'r' redeeming code (when not
 * NULL). */
static void
request(char kind, const char *code, size_t n, struct answer *out)
{
	const char *h[4] = { NULL, NULL, NULL, NULL };
	const char *path = "/oauth/token", *body = NULL;
	char *bearer = NULL, *owned = NULL, *url;
	long statuses[64];
	char *bodies[64], *heads[64];
	struct timespec a, b;
	size_t i;

	switch (kind) {
	case 'c':
		h[0] = t.in.b_m2m;
		h[1] = form_ct;
		body = "grant_type=client_credentials&scope=api%3Aread";
		break;
	case 'g':
		path = "/api/me";
		bearer = jg_xasprintf("Authorization: Bearer %s", t.token);
		h[0] = bearer;
		break;
	case 'l':
	case 'L':
		path = "/oauth/authorize";
		h[0] = t.cookie_hdr;
		h[1] = form_ct;
		body = kind == 'l' ? t.login_body : t.login_ok_body;
		break;
	default:
		h[0] = t.in.b_web;
		h[1] = form_ct;
		body = owned = jg_xasprintf("grant_type=authorization_code&code=%s"
					    "&redirect_uri=%s&code_verifier="
					    JG_INST_VERIFIER, code, WEB_CB_ENC);
		break;
	}
	url = jg_inst_url(&t.in, path);
	clock_gettime(CLOCK_MONOTONIC, &a);
	jg_inst_parallel(url, h, body, n, statuses, bodies, heads);
	clock_gettime(CLOCK_MONOTONIC, &b);
	for (i = 0; i < n; i++) {
		out[i].status = statuses[i];
		out[i].body = bodies[i];
		out[i].head = heads[i];
		out[i].seconds = (double)(b.tv_sec - a.tv_sec) +
		    (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	}
	free(url);
	free(bearer);
	free(owned);
}

static bool
head_has(const struct answer *a, const char *text)
{
	return a->head && strcasestr(a->head, text) != NULL;
}

/* A clean error: a status of 500 or 503, the content type of the
 * endpoint, a body; a 503 says when to retry. */
static bool
clean_error(const struct answer *a, char kind)
{
	const char *ct = kind == 'l' || kind == 'L' ? "Content-Type: text/html" :
	    "Content-Type: application/json";

	bool html = kind == 'l' || kind == 'L';

	/* An HTML answer of trouble carries the headers of every HTML
	 * answer (issue 4 point 5). */
	if (html && !(head_has(a, "Content-Type: text/html; charset=utf-8") &&
		      head_has(a, "Content-Security-Policy: default-src 'self'; "
			       "frame-ancestors 'none'; form-action 'self'") &&
		      head_has(a, "X-Frame-Options: DENY") &&
		      head_has(a, "Referrer-Policy: no-referrer") &&
		      head_has(a, "Cache-Control: no-store")))
		return false;
	return (a->status == 500 || a->status == 503) && head_has(a, ct) &&
	       a->body != NULL && a->body[0] != '\0' &&
	       (a->status != 503 || head_has(a, "Retry-After:"));
}

static bool
put_code(const char *code)
{
	return jg_inst_put_code(&t.in, code, "web", JG_INST_WEB_CB, "openid",
				JG_INST_CHALLENGE);
}

/* ------------------------------------------------------------ setup */

static void
test_start(void)
{
	struct jg_it_client *c;
	struct jg_it_response r;
	char *extra, *u, *cookie, *csrf;
	const char *p;

	t.mnt = jg_it_tempdir();
	CU_ASSERT_PTR_NOT_NULL_FATAL(t.mnt);
	if (mount("tmpfs", t.mnt, "tmpfs", 0, "size=16m,mode=0755") != 0) {
		fprintf(stderr, "faults: mount -t tmpfs %s: %s\n", t.mnt, strerror(errno));
		CU_FAIL_FATAL("mounting a tmpfs is not permitted here");
	}
	t.mounted = true;
	atexit(unmount);
	t.db = jg_xasprintf("%s/jwtgate.db", t.mnt);
	extra = jg_xasprintf("database = %s\n", t.db);
	CU_ASSERT_FATAL(jg_inst_setup(&t.in, extra));
	free(extra);
	CU_ASSERT_FATAL(jg_inst_start(&t.in, 2));
	t.token = jg_inst_mint(&t.in, "openid api:read");

	/* One login form: its CSRF cookie and token. */
	c = jg_it_client_new();
	u = jg_inst_url(&t.in, "/oauth/authorize?" WEB_Q);
	memset(&r, 0, sizeof(r));
	CU_ASSERT_FATAL(jg_it_get(c, u, NULL, &r) && r.status == 200);
	p = strstr(r.body, "name=\"jg_csrf\" value=\"");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	csrf = jg_xstrndup(p + 22, strcspn(p + 22, "\""));
	cookie = jg_it_cookie(c, "jg_csrf");
	CU_ASSERT_PTR_NOT_NULL_FATAL(cookie);
	t.cookie_hdr = jg_xasprintf("Cookie: jg_csrf=%s", cookie);
	t.login_body = jg_xasprintf("%s&jg_action=login&jg_csrf=%s"
				    "&username=alice&password=wrong", WEB_Q, csrf);
	t.login_ok_body = jg_xasprintf("%s&jg_action=login&jg_csrf=%s"
				       "&username=alice&password=%s", WEB_Q, csrf,
				       "correct+horse+battery+staple");
	free(csrf);
	free(cookie);
	free(u);
	jg_it_response_clear(&r);
	jg_it_client_free(c);
}

static void
test_stop(void)
{
	CU_ASSERT(jg_inst_integrity_ok(t.db));
	CU_ASSERT_TRUE(jg_inst_free(&t.in));
	unmount();
	CU_ASSERT_FALSE(t.mounted);
	free(t.db);
	free(t.token);
	free(t.cookie_hdr);
	free(t.login_body);
	free(t.login_ok_body);
}

/* ------------------------------------------------------------ SIGKILL */

/* The pids of the server's processes running bin (a name such as
 * "token.fcgi"). */
static size_t
pids_of(const char *bin, pid_t *out, size_t max)
{
	pid_t all[64];
	size_t n = jg_inst_fcgi_pids(&t.in, all, 64), i, k = 0;

	for (i = 0; i < n && k < max; i++) {
		char path[64], cmd[512];
		ssize_t len;
		int fd;

		snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long)all[i]);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		len = read(fd, cmd, sizeof(cmd) - 1);
		close(fd);
		if (len <= 0)
			continue;
		cmd[len] = '\0';
		if (strstr(cmd, bin) != NULL)
			out[k++] = all[i];
	}
	return k;
}

/* True when pid is gone or a zombie (killed, not yet reaped by lighttpd). */
static bool
dead(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	bool gone = true;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return true;
	if (fgets(buf, sizeof(buf), f) != NULL && (p = strrchr(buf, ')')) != NULL)
		gone = p[1] == ' ' && p[2] == 'Z';
	fclose(f);
	return gone;
}

/* True when the server runs two live processes of bin and neither is one
 * of the n victims. */
static bool
replaced(const char *bin, const pid_t *victims, size_t n)
{
	pid_t now[4];
	size_t k = pids_of(bin, now, 4), i, j;

	for (i = 0; i < k; i++)
		for (j = 0; j < n; j++)
			if (now[i] == victims[j])
				return false;
	return k == 2;
}

static void
test_sigkill(void)
{
	/* No fixed durations (a loaded machine may answer few batches a
	 * second): the child sends batches until AFTER batches have been
	 * answered after the kill and more than 10 batches' worth were
	 * answered 200, or until its deadline, which only a server that
	 * stopped answering reaches. */
	enum { BATCH = 8, BEFORE = 3, AFTER = 10, DEADLINE = 180 };
	char *file = jg_xasprintf("%s/load.txt", t.in.dir), *text = NULL;
	long ok = -1, failed = -1, batches = -1, after = -1;
	size_t rlen = 0;
	pid_t child, victims[4];
	size_t n, i;
	struct answer a[BATCH];
	int status, ready[2], killed[2];
	char c = 0;
	ssize_t got;

	CU_ASSERT_FATAL(pipe(ready) == 0 && pipe(killed) == 0);
	child = fork();
	CU_ASSERT_FATAL(child >= 0);
	if (child == 0) {
		time_t end = time(NULL) + DEADLINE;
		long k_ok = 0, k_failed = 0, k_batches = 0, k_after = -1;
		FILE *f;

		close(ready[0]);
		close(killed[1]);
		fcntl(killed[0], F_SETFL, O_NONBLOCK);
		while (time(NULL) < end) {
			request(k_batches % 2 ? 'g' : 'c', NULL, BATCH, a);
			for (i = 0; i < BATCH; i++) {
				if (a[i].status == 200)
					k_ok++;
				else
					k_failed++;
				answer_clear(&a[i]);
			}
			k_batches++;
			if (k_batches == BEFORE && write(ready[1], "r", 1) != 1)
				break;
			if (k_after >= 0)
				k_after++;
			else if (read(killed[0], &c, 1) == 1)
				k_after = 0;
			if (k_after >= AFTER && k_ok > 10 * BATCH)
				break;
		}
		f = fopen(file, "w");
		if (f != NULL) {
			fprintf(f, "%ld %ld %ld %ld\n", k_ok, k_failed, k_batches, k_after);
			fclose(f);
		}
		_exit(0);
	}
	close(ready[1]);
	close(killed[0]);
	/* The kill falls while the load runs: after its third batch. */
	got = read(ready[0], &c, 1);
	CU_ASSERT_EQUAL(got, 1);
	n = pids_of("token.fcgi", victims, 1);
	n += pids_of("resource.fcgi", victims + n, 1);
	CU_ASSERT_EQUAL(n, 2);
	for (i = 0; i < n; i++)
		CU_ASSERT_EQUAL(kill(victims[i], SIGKILL), 0);
	CU_ASSERT_EQUAL(write(killed[1], "k", 1), 1);
	CU_ASSERT_EQUAL(waitpid(child, &status, 0), child);
	close(ready[0]);
	close(killed[1]);
	CU_ASSERT_EQUAL(jg_read_file(file, 4096, &text, &rlen), JG_OK);
	CU_ASSERT(text && sscanf(text, "%ld %ld %ld %ld", &ok, &failed, &batches,
				 &after) == 4);
	fprintf(stderr, "SIGKILL under load: %ld answered 200, %ld failed, in %ld "
		"batches of %d, %ld of them after the kill\n", ok, failed, batches,
		BATCH, after);
	/* The server kept answering: the child did not need its deadline. */
	CU_ASSERT(after >= AFTER);
	/* Only what was in flight in the two killed processes (at most a
	 * batch each) may fail. */
	CU_ASSERT(ok > 10 * BATCH);
	CU_ASSERT(failed >= 0 && failed <= 2 * BATCH);
	free(text);
	free(file);

	/* Then everything works: lighttpd has started new processes. */
	for (i = 0; i < 20; i++) {
		request(i % 2 ? 'g' : 'c', NULL, 1, a);
		CU_ASSERT_EQUAL(a[0].status, 200);
		answer_clear(&a[0]);
	}
	/* The killed processes are dead, and lighttpd started others in
	 * their place: two live processes of each program again, none of
	 * them a victim (lighttpd restarts them on its own schedule: wait
	 * for it, up to 30 s). */
	for (i = 0; i < n; i++)
		CU_ASSERT(dead(victims[i]));
	for (i = 0; i < 300 && !(replaced("token.fcgi", victims, n) &&
				 replaced("resource.fcgi", victims, n)); i++)
		usleep(100 * 1000);
	CU_ASSERT(replaced("token.fcgi", victims, n));
	CU_ASSERT(replaced("resource.fcgi", victims, n));
	CU_ASSERT(jg_inst_integrity_ok(t.db));
}

/* ------------------------------------------------------------ lock */

static void
test_locked(void)
{
	static const char kinds[] = "lrcg";
	sqlite3 *db = NULL;
	pid_t kids[4];
	size_t k;
	int ready[2], nready = 0;
	char c;

	CU_ASSERT_FATAL(put_code("lock-code-0123456789abcdef"));
	CU_ASSERT_FATAL(pipe(ready) == 0);
	CU_ASSERT_FATAL(sqlite3_open_v2(t.db, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK);
	CU_ASSERT_FATAL(sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL) == SQLITE_OK);
	/* While it is held, one child per kind of request: a login (writes
	 * a failure), a code redemption, client_credentials, the gate. */
	for (k = 0; k < 4; k++) {
		kids[k] = fork();
		CU_ASSERT_FATAL(kids[k] >= 0);
		if (kids[k] == 0) {
			struct answer a[3];
			size_t n = kinds[k] == 'r' ? 1 : 3, i;
			char *file = jg_xasprintf("%s/lock-%c.txt", t.in.dir, kinds[k]);
			FILE *f = fopen(file, "w");

			close(ready[0]);
			if (write(ready[1], "r", 1) != 1)
				_exit(1);
			request(kinds[k], "lock-code-0123456789abcdef", n, a);
			for (i = 0; f && i < n; i++)
				fprintf(f, "%ld %d %d %.1f\n", a[i].status,
					head_has(&a[i], "Retry-After:"),
					clean_error(&a[i], kinds[k]), a[i].seconds);
			if (f)
				fclose(f);
			_exit(0);
		}
	}
	/* The 5 seconds start when every child is about to send (a fixed
	 * sleep from the fork could end before a child on a loaded machine
	 * has sent anything). */
	close(ready[1]);
	while (nready < 4 && read(ready[0], &c, 1) == 1)
		nready++;
	close(ready[0]);
	CU_ASSERT_EQUAL(nready, 4);
	sleep(5);
	CU_ASSERT(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	for (k = 0; k < 4; k++) {
		char *file = jg_xasprintf("%s/lock-%c.txt", t.in.dir, kinds[k]);
		char *text = NULL, *line, *save = NULL;
		int status, lines = 0;
		size_t rlen = 0;

		CU_ASSERT_EQUAL(waitpid(kids[k], &status, 0), kids[k]);
		CU_ASSERT_EQUAL(jg_read_file(file, 4096, &text, &rlen), JG_OK);
		for (line = text ? strtok_r(text, "\n", &save) : NULL; line;
		     line = strtok_r(NULL, "\n", &save)) {
			long st = 0;
			int ra = 0, clean = 0;
			double secs = 0;

			CU_ASSERT(sscanf(line, "%ld %d %d %lf", &st, &ra, &clean, &secs) == 4);
			fprintf(stderr, "locked database, request %c: %ld after %.1f s%s\n",
				kinds[k], st, secs, ra ? " (Retry-After)" : "");
			CU_ASSERT(st == 200 || (st == 503 && ra && clean));
			lines++;
		}
		CU_ASSERT_EQUAL(lines, kinds[k] == 'r' ? 1 : 3);
		free(text);
		free(file);
	}
	CU_ASSERT(jg_inst_integrity_ok(t.db));
	/* And everything works afterwards. */
	{
		struct answer a[1];

		request('c', NULL, 1, a);
		CU_ASSERT_EQUAL(a[0].status, 200);
		answer_clear(&a[0]);
	}
}

/* ------------------------------------------------------------ full disk */

/* Leaves SQLite no room it already owns: VACUUM empties the free list and
 * a TRUNCATE checkpoint empties the -wal file.  Without this, how many
 * writes still fit once the disk is full depends on how far the load of
 * test_sigkill left the WAL (SQLite reuses it from its start after each
 * checkpoint, without growing it) and on the free list: a matter of
 * timing. */
static bool
no_spare_room(const char *database)
{
	char *wal = jg_xasprintf("%s-wal", database);
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	struct stat st;
	bool ok = false;

	if (sqlite3_open_v2(database, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		goto out;
	sqlite3_busy_timeout(db, 30000);
	if (sqlite3_exec(db, "VACUUM", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "PRAGMA wal_checkpoint(TRUNCATE)", -1, &s,
			       NULL) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_ROW || sqlite3_column_int(s, 0) != 0)
		goto out;
	sqlite3_finalize(s);
	s = NULL;
	if (sqlite3_prepare_v2(db, "PRAGMA freelist_count", -1, &s, NULL) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_ROW || sqlite3_column_int(s, 0) != 0)
		goto out;
	ok = stat(wal, &st) == 0 && st.st_size == 0;
out:
	if (!ok)
		fprintf(stderr, "full disk: cannot empty the free list and the WAL: %s\n",
			db ? sqlite3_errmsg(db) : "open failed");
	sqlite3_finalize(s);
	sqlite3_close(db);
	free(wal);
	return ok;
}

static void
test_full_disk(void)
{
	enum { CODES = 300 };
	char *filler = jg_xasprintf("%s/filler", t.mnt), *code;
	static char chunk[65536];
	struct answer a[1];
	int fd, i, failures = 0, done = 0;
	bool clean = true;

	for (i = 0; i < CODES; i++) {
		code = jg_xasprintf("disk-code-%03d-0123456789abcdef", i);
		CU_ASSERT_FATAL(put_code(code));
		free(code);
	}
	CU_ASSERT_FATAL(no_spare_room(t.db));
	/* Fill the file system to the last byte. */
	fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CU_ASSERT_FATAL(fd >= 0);
	memset(chunk, 'x', sizeof(chunk));
	while (write(fd, chunk, sizeof(chunk)) > 0)
		;
	while (write(fd, chunk, 1) > 0)
		;
	CU_ASSERT_EQUAL(errno, ENOSPC);
	close(fd);

	/* Token issue: each redemption writes a family, a token and the
	 * code's record; they must start failing, each cleanly. */
	for (i = 0; i < CODES && failures < 5; i++) {
		code = jg_xasprintf("disk-code-%03d-0123456789abcdef", i);
		request('r', code, 1, a);
		if (a[0].status != 200) {
			failures++;
			/* A failed write is a 500 server_error (README,
			 * "Malformed requests and faults"). */
			if (!clean_error(&a[0], 'r') || a[0].status != 500 ||
			    strstr(a[0].body, "\"error\":\"server_error\"") == NULL) {
				clean = false;
				fprintf(stderr, "full disk, token: %ld %s\n", a[0].status,
					a[0].body ? a[0].body : "");
			}
		}
		CU_ASSERT(a[0].seconds < PROMPT);
		done++;
		answer_clear(&a[0]);
		free(code);
	}
	fprintf(stderr, "full disk: %d redemptions, %d clean failures\n", done, failures);
	/* SQLite has no room of its own left (no_spare_room), so every
	 * redemption fails. */
	CU_ASSERT(failures > 0 && failures == done);
	CU_ASSERT(clean);
	/* Logins with the right password: each must write a session, so
	 * once the database has no room left they fail, each with a clean
	 * 500 HTML page (a success is the consent page, 200). */
	failures = 0;
	for (i = 0; i < 20 && failures < 3; i++) {
		request('L', NULL, 1, a);
		if (a[0].status != 200) {
			failures++;
			if (!clean_error(&a[0], 'L') || a[0].status != 500) {
				clean = false;
				fprintf(stderr, "full disk, login: %ld\n", a[0].status);
			}
		}
		CU_ASSERT(a[0].seconds < PROMPT);
		answer_clear(&a[0]);
	}
	fprintf(stderr, "full disk: %d logins, %d clean failures\n", i, failures);
	CU_ASSERT(failures > 0 && failures == i);
	CU_ASSERT(clean);
	CU_ASSERT(jg_it_log_contains(t.in.lt, "full") ||
		  jg_it_log_contains(t.in.lt, "disk"));

	/* Room again: intact, and working. */
	CU_ASSERT_EQUAL(unlink(filler), 0);
	CU_ASSERT(jg_inst_integrity_ok(t.db));
	CU_ASSERT_FATAL(put_code("disk-after-0123456789abcdef"));
	request('r', "disk-after-0123456789abcdef", 1, a);
	CU_ASSERT_EQUAL(a[0].status, 200);
	answer_clear(&a[0]);
	/* The same login works again: the consent page of a new session. */
	request('L', NULL, 1, a);
	CU_ASSERT_EQUAL(a[0].status, 200);
	CU_ASSERT(a[0].body && strstr(a[0].body, "value=\"allow\"") != NULL);
	answer_clear(&a[0]);
	free(filler);
}

/* ------------------------------------------------------------ read-only */

static int start_with(const char *bin, const char *conf, char **log);
static char *conf_variant(const char *name, const char *from, const char *to);

/* A read-only view of the database's file system (a read-only bind mount
 * of the tmpfs: the tmpfs itself cannot be remounted read-only while the
 * programs hold the database open for writing), and a second lighttpd
 * whose programs use the database through it. */
static void
test_read_only(void)
{
	char *ro = jg_xasprintf("%s/ro", t.in.dir);
	char *from = jg_xasprintf("database = %s", t.db);
	char *to = jg_xasprintf("database = %s/jwtgate.db", ro);
	char *conf = conf_variant("rodb.conf", from, to);
	char *env = jg_xasprintf("JWTGATE_CONF=%s", conf), *saved_env = t.in.env_conf;
	struct jg_it_server *saved_lt = t.in.lt;
	struct answer a[1];
	bool started;

	CU_ASSERT_FATAL(mkdir(ro, 0755) == 0);
	CU_ASSERT_FATAL(mount(t.mnt, ro, NULL, MS_BIND, NULL) == 0);
	CU_ASSERT_FATAL(mount(NULL, ro, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) == 0);
	CU_ASSERT_FATAL(put_code("ro-code-0123456789abcdef"));
	t.in.env_conf = env;
	started = jg_inst_start(&t.in, 1);
	if (!started) {
		/* The programs refuse to start: each says why. */
		char *log = NULL;

		fprintf(stderr, "read-only database: lighttpd did not start\n");
		CU_ASSERT_EQUAL(start_with("cgi-bin/token.fcgi", conf, &log), 1);
		CU_ASSERT_PTR_NOT_NULL(strstr(log, "jwtgate.db"));
		free(log);
	} else {
		/* lighttpd runs, but the programs cannot open the database
		 * read-write: each answers every request with a clean error
		 * of its kind (server.h, jg_server_run_broken) at once, and
		 * the log names the file and the reason. */
		request('r', "ro-code-0123456789abcdef", 1, a);
		CU_ASSERT(clean_error(&a[0], 'r') && a[0].status == 500);
		CU_ASSERT(a[0].seconds < PROMPT);
		answer_clear(&a[0]);
		request('l', NULL, 1, a);
		CU_ASSERT(clean_error(&a[0], 'l') && a[0].status == 500);
		CU_ASSERT(head_has(&a[0], "X-Frame-Options: DENY"));
		CU_ASSERT(a[0].seconds < PROMPT);
		answer_clear(&a[0]);
		CU_ASSERT(jg_it_log_contains(t.in.lt, "token.fcgi: ") &&
			  jg_it_log_contains(t.in.lt, "/ro/jwtgate.db: Read-only file system") &&
			  jg_it_log_contains(t.in.lt, "refusing POST /oauth/token: "
					     "not configured: "));
		if (getenv("JG_FAULTS_DEBUG")) {
			char *cmd = jg_xasprintf("cat %s %s >&2", t.in.lt->output,
						 t.in.lt->error_log);
			(void)system(cmd);
			free(cmd);
		}
		CU_ASSERT(jg_it_server_stop(t.in.lt));
	}
	t.in.lt = saved_lt;
	t.in.env_conf = saved_env;
	CU_ASSERT(umount2(ro, MNT_DETACH) == 0);
	CU_ASSERT(jg_inst_integrity_ok(t.db));
	/* The code was not used up through the read-only view. */
	request('r', "ro-code-0123456789abcdef", 1, a);
	CU_ASSERT_EQUAL(a[0].status, 200);
	answer_clear(&a[0]);
	free(ro);
	free(from);
	free(to);
	free(conf);
	free(env);
}

/* ------------------------------------------------------------ at start */

/* Runs bin with configuration conf as a CGI request; returns its exit
 * status and the text it wrote to stderr in *log (new). */
static int
start_with(const char *bin, const char *conf, char **log)
{
	char *path = jg_it_build_path(bin);
	char *logfile = jg_xasprintf("%s/start.log", t.in.dir);
	const char *argv[] = { path, NULL };
	pid_t pid;
	int status;
	size_t rlen = 0;

	unlink(logfile);
	setenv("JWTGATE_CONF", conf, 1);
	setenv("GATEWAY_INTERFACE", "CGI/1.1", 1);
	setenv("REQUEST_METHOD", "GET", 1);
	setenv("SCRIPT_NAME", "/oauth/token", 1);
	pid = jg_it_spawn(argv, logfile);
	unsetenv("JWTGATE_CONF");
	unsetenv("GATEWAY_INTERFACE");
	unsetenv("REQUEST_METHOD");
	unsetenv("SCRIPT_NAME");
	status = pid > 0 ? jg_it_wait(pid, 10000) : -1;
	*log = NULL;
	if (jg_read_file(logfile, 65536, log, &rlen) != JG_OK)
		*log = jg_xstrdup("");
	/* Under ASan and UBSan: a report of the program fails the test
	 * (its exit status alone may be the expected 1). */
	if (strstr(*log, "Sanitizer") != NULL || strstr(*log, "runtime error:") != NULL) {
		fprintf(stderr, "%s: a sanitizer reported an error:\n%s\n", bin, *log);
		CU_FAIL("a sanitizer report from a program run as CGI");
	}
	free(path);
	free(logfile);
	return status;
}

/* The instance's configuration with line `from` replaced by `to`, written
 * to DIR/name; returns its path (new). */
static char *
conf_variant(const char *name, const char *from, const char *to)
{
	char *text = NULL, *path = jg_xasprintf("%s/%s", t.in.dir, name), *p, *out;
	size_t rlen = 0;

	CU_ASSERT_FATAL(jg_read_file(t.in.conf, 1 << 20, &text, &rlen) == JG_OK);
	p = strstr(text, from);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	*p = '\0';
	out = jg_xasprintf("%s%s%s", text, to, p + strlen(from));
	CU_ASSERT_FATAL(jg_write_file_atomic(path, out, strlen(out), 0644) == JG_OK);
	free(text);
	free(out);
	return path;
}

/* A copy of the key folder in DIR/name where the first PEM file is
 * missing ('m'), a folder ('d': it cannot be read) or garbage ('g').
 * Returns the folder (new) and the PEM file's name in *pem (new). */
static char *
keys_variant(const char *name, char how, char **pem)
{
	char *dir = jg_xasprintf("%s/%s", t.in.dir, name);
	DIR *d = opendir(t.in.config->key_dir);
	struct dirent *e;

	*pem = NULL;
	CU_ASSERT_FATAL(d != NULL && mkdir(dir, 0700) == 0);
	while ((e = readdir(d)) != NULL) {
		char *from, *to, *data = NULL;
		size_t len = 0;
		bool first_pem = *pem == NULL && strstr(e->d_name, ".pem") != NULL;

		if (e->d_name[0] == '.')
			continue;
		from = jg_xasprintf("%s/%s", t.in.config->key_dir, e->d_name);
		to = jg_xasprintf("%s/%s", dir, e->d_name);
		CU_ASSERT_FATAL(jg_read_file(from, 1 << 20, &data, &len) == JG_OK);
		if (first_pem) {
			*pem = jg_xstrdup(e->d_name);
			if (how == 'd') {
				CU_ASSERT(mkdir(to, 0700) == 0);
			} else if (how == 'g') {
				CU_ASSERT(jg_write_file_atomic(to, "garbage\n", 8, 0600) == JG_OK);
			}
		} else {
			CU_ASSERT(jg_write_file_atomic(to, data, len, 0600) == JG_OK);
		}
		free(data);
		free(from);
		free(to);
	}
	closedir(d);
	CU_ASSERT_PTR_NOT_NULL_FATAL(*pem);
	return dir;
}

/* A second lighttpd with the three programs on configuration conf: a
 * token request, a login and a gate request each get a clean 500 of the
 * endpoint's kind (JSON, an HTML page that cannot be framed, JSON; the
 * gate only when resource_too, else it may work), at once, and the web
 * server's log holds message and says the requests were refused. */
static void
served_broken(const char *what, const char *conf, const char *message,
	      bool resource_too)
{
	char *env = jg_xasprintf("JWTGATE_CONF=%s", conf), *saved_env = t.in.env_conf;
	struct jg_it_server *saved_lt = t.in.lt;
	struct answer a[1];
	bool ok;

	t.in.env_conf = env;
	CU_ASSERT_FATAL(jg_inst_start(&t.in, 1));
	request('c', NULL, 1, a);
	ok = clean_error(&a[0], 'c') && a[0].status == 500 &&
	     strstr(a[0].body, "\"error\":\"server_error\"") != NULL &&
	     head_has(&a[0], "Cache-Control: no-store") && a[0].seconds < PROMPT;
	CU_ASSERT(ok);
	if (!ok)
		fprintf(stderr, "%s, token: %ld %s\n", what, a[0].status,
			a[0].body ? a[0].body : "");
	answer_clear(&a[0]);
	request('l', NULL, 1, a);
	ok = clean_error(&a[0], 'l') && a[0].status == 500 &&
	     strstr(a[0].body, "not configured correctly") != NULL &&
	     head_has(&a[0], "X-Frame-Options: DENY") && a[0].seconds < PROMPT;
	CU_ASSERT(ok);
	if (!ok)
		fprintf(stderr, "%s, login: %ld %s\n", what, a[0].status,
			a[0].body ? a[0].body : "");
	answer_clear(&a[0]);
	if (resource_too) {
		request('g', NULL, 1, a);
		ok = clean_error(&a[0], 'g') && a[0].status == 500 &&
		     strstr(a[0].body, "\"error\":\"server_error\"") != NULL;
		CU_ASSERT(ok);
		if (!ok)
			fprintf(stderr, "%s, gate: %ld %s\n", what, a[0].status,
				a[0].body ? a[0].body : "");
		answer_clear(&a[0]);
	}
	ok = jg_it_log_contains(t.in.lt, message) &&
	     jg_it_log_contains(t.in.lt, "refusing POST /oauth/token: not configured: ") &&
	     jg_it_log_contains(t.in.lt, "refusing POST /oauth/authorize: not configured: ");
	CU_ASSERT(ok);
	if (!ok || getenv("JG_FAULTS_DEBUG")) {
		char *cmd = jg_xasprintf("cat %s %s >&2", t.in.lt->output,
					 t.in.lt->error_log);

		fprintf(stderr, "%s: the log (expected \"%s\"):\n", what, message);
		(void)system(cmd);
		free(cmd);
	}
	CU_ASSERT(jg_it_server_stop(t.in.lt));
	t.in.lt = saved_lt;
	t.in.env_conf = saved_env;
	free(env);
}

static void
test_at_start(void)
{
	static const char *const bins[] = {
		"cgi-bin/authorize.fcgi", "cgi-bin/token.fcgi", "cgi-bin/resource.fcgi"
	};
	char *keydir_line = jg_xasprintf("key_dir = %s", t.in.config->key_dir);
	char *db_line = jg_xasprintf("database = %s", t.db);
	char *broken = conf_variant("broken.conf", "\ntemplates = ",
				    "\nfrobnicate = 1\ntemplates = ");
	char *nokeys = conf_variant("nokeys.conf", keydir_line,
				    "key_dir = /nonexistent/jwtgate-keys");
	char *nodb = conf_variant("nodb.conf", db_line,
				  "database = /nonexistent/jwtgate/jwtgate.db");
	char *absent_line = jg_xasprintf("database = %s/absent.db", t.in.dir);
	char *absent = conf_variant("absent.conf", db_line, absent_line);
	char *absent_db = jg_xasprintf("%s/absent.db", t.in.dir);
	char *missing = jg_xasprintf("%s/missing.conf", t.in.dir);
	char *pem_m, *pem_d, *pem_g;
	char *keys_m = keys_variant("keys-m", 'm', &pem_m);
	char *keys_d = keys_variant("keys-d", 'd', &pem_d);
	char *keys_g = keys_variant("keys-g", 'g', &pem_g);
	char *line_m = jg_xasprintf("key_dir = %s", keys_m);
	char *line_d = jg_xasprintf("key_dir = %s", keys_d);
	char *line_g = jg_xasprintf("key_dir = %s", keys_g);
	char *conf_m = conf_variant("keys-m.conf", keydir_line, line_m);
	char *conf_d = conf_variant("keys-d.conf", keydir_line, line_d);
	char *conf_g = conf_variant("keys-g.conf", keydir_line, line_g);
	const struct {
		const char *what;
		const char *conf;
		const char *message;	/* in the log */
		bool resource_too;	/* resource.fcgi needs it as well */
	} rows[] = {
		{ "broken configuration", broken, "frobnicate: unknown key", true },
		{ "missing configuration", missing, "missing.conf", true },
		{ "missing key folder", nokeys, "/nonexistent/jwtgate-keys", false },
		{ "missing key file", conf_m, pem_m, false },
		{ "unreadable key file (a folder)", conf_d, pem_d, false },
		{ "garbage in a key file", conf_g, pem_g, false },
		{ "database cannot be opened", nodb, "/nonexistent/jwtgate/jwtgate.db", true },
		{ "database missing", absent, "absent.db: No such file or directory", true },
	};
	size_t i, b;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		/* Through lighttpd: every program starts, cannot work, and
		 * answers each request with a clean error of its kind while
		 * the log names the problem. */
		served_broken(rows[i].what, rows[i].conf, rows[i].message,
			      rows[i].resource_too);
		for (b = 0; b < 3; b++) {
			char *log = NULL;
			int status;

			if (b == 2 && !rows[i].resource_too)
				continue;
			status = start_with(bins[b], rows[i].conf, &log);
			if (status != 1 || strstr(log, rows[i].message) == NULL)
				fprintf(stderr, "%s, %s: status %d, log: %s\n", rows[i].what,
					bins[b], status, log);
			CU_ASSERT_EQUAL(status, 1);
			CU_ASSERT_PTR_NOT_NULL(strstr(log, rows[i].message));
			free(log);
		}
	}
	/* The programs did not make the missing database. */
	CU_ASSERT(access(absent_db, F_OK) != 0);
	free(absent_line);
	free(absent);
	free(absent_db);
	free(keydir_line);
	free(db_line);
	free(broken);
	free(nokeys);
	free(nodb);
	free(missing);
	free(pem_m);
	free(pem_d);
	free(pem_g);
	free(keys_m);
	free(keys_d);
	free(keys_g);
	free(line_m);
	free(line_d);
	free(line_g);
	free(conf_m);
	free(conf_d);
	free(conf_g);
}

int
main(void)
{
	static const struct jg_test tests[] = {
		{ "start lighttpd, the database on a 16 MiB tmpfs", test_start },
		{ "a FastCGI process killed with SIGKILL under load", test_sigkill },
		{ "the database locked for 5 seconds", test_locked },
		{ "a full disk", test_full_disk },
		{ "the database read-only", test_read_only },
		{ "broken configuration, keys or database at start", test_at_start },
		{ "stop lighttpd", test_stop },
		{ NULL, NULL }
	};

	return jg_test_main("faults", tests);
}
