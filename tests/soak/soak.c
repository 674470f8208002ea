/* soak.c: issue 9 point 3, load and soak.  One instance of the three
 * programs behind lighttpd (tests/integration/instance.c, max-procs 2),
 * then, one after the other, wrk at 64 connections for SOAK_SECONDS
 * (default 60) on
 *   gate:  GET /api/me with a valid access token (resource.fcgi), 200;
 *   token: POST /oauth/token, client_credentials (token.fcgi), 200;
 *   login: POST /oauth/authorize with a wrong password for alice, throttling
 *          set out of reach (authorize.fcgi), 200 (the form again);
 * each counted by a Lua script (every status and every socket error), and
 * the resident memory of the FastCGI processes (VmRSS summed from /proc)
 * taken at second 10 and at the end (wrk runs in two phases, 10 s and the
 * rest, so that both are taken with no request in flight): it must grow by
 * less than 1 MiB, and the same processes must still run (none crashed
 * and was started again); the memory of each program is printed too.
 * $WRK names the wrk binary (default /usr/bin/wrk).  Only 127.0.0.1 is
 * contacted.  Not part of make check (3 minutes): run by
 * tests/soak/run.sh (make soak).  Exit status 0 when every run passed. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "instance.h"
#include "conf.h"
#include "http.h"
#include "util.h"

#define WEB_Q "client_id=web&redirect_uri=https%3A%2F%2Fapp.example%2Fcb" \
	"&response_type=code&state=soak&scope=openid"

/* The status counter shared by every run (wrk's Lua API: setup runs per
 * thread in the main state, response in each thread, done at the end). */
static const char counter_lua[] =
	"local threads = {}\n"
	"function setup(thread) table.insert(threads, thread) end\n"
	"function init(args) counts = {} end\n"
	"function response(status, headers, body)\n"
	"  counts[status] = (counts[status] or 0) + 1\n"
	"end\n"
	"function done(summary, latency, requests)\n"
	"  local total = {}\n"
	"  for _, t in ipairs(threads) do\n"
	"    for s, n in pairs(t:get(\"counts\")) do total[s] = (total[s] or 0) + n end\n"
	"  end\n"
	"  for s, n in pairs(total) do io.write(string.format(\"status %d %d\\n\", s, n)) end\n"
	"  local e = summary.errors\n"
	"  io.write(string.format(\"socket-errors %d\\n\",\n"
	"    e.connect + e.read + e.write + e.timeout))\n"
	"  io.write(string.format(\"p99-ms %.1f\\n\", latency:percentile(99) / 1000))\n"
	"end\n";

struct run {
	const char *name;
	const char *path;
	char *lua;		/* the request part of the script */
};

/* The CPU time (clock ticks) the FastCGI processes have used. */
static long long
fcgi_ticks(const struct jg_inst *in)
{
	pid_t pids[256];
	size_t n = jg_inst_fcgi_pids(in, pids, 256), i;
	long long sum = 0;

	for (i = 0; i < n; i++) {
		char path[64], buf[1024], *p;
		unsigned long long ut = 0, st = 0;
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pids[i]);
		f = fopen(path, "r");
		if (f == NULL)
			continue;
		if (fgets(buf, sizeof(buf), f) != NULL && (p = strrchr(buf, ')')) != NULL &&
		    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			   &ut, &st) == 2)
			sum += (long long)(ut + st);
		fclose(f);
	}
	return sum;
}

/* The programs whose memory is reported one by one. */
static const char *const programs[3] = { "authorize.fcgi", "token.fcgi",
	"resource.fcgi" };

/* The FastCGI processes of in at one moment: their sorted pids, and the
 * summed VmRSS (KiB) of each program of programs[] (by /proc/PID/comm,
 * with libtool's "lt-" prefix taken off). */
struct snapshot {
	pid_t pids[256];
	size_t npids;
	long rss[3];
};

static int
cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return x < y ? -1 : x > y;
}

static void
snapshot_take(const struct jg_inst *in, struct snapshot *s)
{
	size_t i, j;

	memset(s, 0, sizeof(*s));
	s->npids = jg_inst_fcgi_pids(in, s->pids, 256);
	qsort(s->pids, s->npids, sizeof(pid_t), cmp_pid);
	for (i = 0; i < s->npids; i++) {
		char path[64], line[256], comm[64] = "";
		const char *name;
		long kib = 0, v;
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%ld/comm", (long)s->pids[i]);
		f = fopen(path, "r");
		if (f == NULL)
			continue;
		if (fgets(comm, sizeof(comm), f) != NULL)
			comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
		snprintf(path, sizeof(path), "/proc/%ld/status", (long)s->pids[i]);
		f = fopen(path, "r");
		if (f == NULL)
			continue;
		while (fgets(line, sizeof(line), f) != NULL)
			if (sscanf(line, "VmRSS: %ld kB", &v) == 1)
				kib = v;
		fclose(f);
		name = strncmp(comm, "lt-", 3) == 0 ? comm + 3 : comm;
		for (j = 0; j < 3; j++)
			if (strcmp(name, programs[j]) == 0)
				s->rss[j] += kib;
	}
}

/* True when the same processes run in both snapshots: none died and was
 * started again (which would hide a leak and mean a crash). */
static bool
same_processes(const struct snapshot *a, const struct snapshot *b)
{
	return a->npids > 0 && a->npids == b->npids &&
	       memcmp(a->pids, b->pids, a->npids * sizeof(pid_t)) == 0;
}

/* Waits (up to 60 s) until the web server has answered what it had queued
 * when wrk stopped: the FastCGI processes use no CPU for half a second. */
static void
wait_idle(const struct jg_inst *in)
{
	long long before = fcgi_ticks(in), now;
	int i;

	for (i = 0; i < 120; i++) {
		usleep(500 * 1000);
		now = fcgi_ticks(in);
		if (now == before)
			return;
		before = now;
	}
}

/* Runs wrk for seconds on url with script, appending to log; parses what
 * the counter printed into the totals.  Returns false when wrk failed. */
static bool
wrk_phase(const char *url, const char *script, const char *log, unsigned seconds,
	  long *expected, long *unexpected, long *errors, double *p99)
{
	const char *wrk = getenv("WRK") ? getenv("WRK") : "/usr/bin/wrk";
	char *dur = jg_xasprintf("%us", seconds);
	const char *argv[] = { wrk, "-t2", "-c64", "-d", dur, "--timeout", "60s",
			       "-s", script, url, NULL };
	char *out = NULL, *line, *save = NULL;
	size_t len = 0;
	long errs = -1;
	pid_t pid;
	int status;

	unlink(log);
	pid = jg_it_spawn(argv, log);
	free(dur);
	if (pid < 0)
		return false;
	status = jg_it_wait(pid, (int)(seconds + 70) * 1000);
	if (jg_read_file(log, 1 << 20, &out, &len) != JG_OK)
		out = NULL;
	for (line = out ? strtok_r(out, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		long st, n;
		double p;

		if (sscanf(line, "status %ld %ld", &st, &n) == 2) {
			if (st == 200) {
				*expected += n;
			} else {
				*unexpected += n;
				fprintf(stderr, "soak: %ld answers %ld\n", n, st);
			}
		}
		(void)sscanf(line, "socket-errors %ld", &errs);
		if (sscanf(line, "p99-ms %lf", &p) == 1 && p > *p99)
			*p99 = p;
	}
	free(out);
	if (errs < 0)
		*errors = -1;
	else if (*errors >= 0)
		*errors += errs;
	return status == 0;
}

/* Runs wrk on one endpoint for seconds in two phases, 10 s and the rest,
 * and takes the FastCGI processes' resident memory after each, once the
 * requests in flight have been answered (memory a request holds while it
 * runs, such as the password hash's arena, is not a leak); returns true
 * when it passed. */
static bool
soak(const struct jg_inst *in, const struct run *run, unsigned seconds)
{
	char *script = jg_xasprintf("%s/%s.lua", in->dir, run->name);
	char *log = jg_xasprintf("%s/%s.out", in->dir, run->name);
	char *url = jg_inst_url(in, run->path);
	char *text = jg_xasprintf("%s%s", run->lua, counter_lua);
	long rss10, rssend, expected = 0, unexpected = 0, errors = 0;
	struct snapshot s10, send;
	double p99 = 0;
	bool ok, same;
	size_t i;

	jg_write_file_atomic(script, text, strlen(text), 0644);
	ok = wrk_phase(url, script, log, 10, &expected, &unexpected, &errors, &p99);
	wait_idle(in);
	rss10 = jg_inst_fcgi_rss_kib(in);
	snapshot_take(in, &s10);
	ok = wrk_phase(url, script, log, seconds - 10, &expected, &unexpected, &errors,
		       &p99) && ok;
	wait_idle(in);
	rssend = jg_inst_fcgi_rss_kib(in);
	snapshot_take(in, &send);
	same = same_processes(&s10, &send);
	for (i = 0; i < 3; i++)
		printf("soak %s: %s RSS %ld KiB at 10 s, %ld KiB at %u s (%+ld KiB)\n",
		       run->name, programs[i], s10.rss[i], send.rss[i], seconds,
		       send.rss[i] - s10.rss[i]);
	if (!same)
		printf("soak %s: a FastCGI process died and was replaced "
		       "(%zu processes at 10 s, %zu at the end)\n", run->name,
		       s10.npids, send.npids);
	ok = ok && same && expected > 0 && unexpected == 0 && errors == 0 &&
	     rss10 > 0 && rssend - rss10 < 1024;
	printf("%s: soak %s: %u s, %ld answers 200 (%.0f/s), %ld unexpected, "
	       "%ld socket errors, p99 %.1f ms, FastCGI RSS %ld KiB at 10 s, "
	       "%ld KiB at %u s (%+ld KiB)\n", ok ? "PASS" : "FAIL", run->name,
	       seconds, expected, (double)expected / seconds, unexpected, errors,
	       p99, rss10, rssend, seconds, rssend - rss10);
	fflush(stdout);
	free(script);
	free(log);
	free(url);
	free(text);
	return ok;
}

int
main(void)
{
	struct jg_inst in;
	struct jg_it_client *c;
	struct jg_it_response r;
	struct run runs[3];
	const char *env = getenv("SOAK_SECONDS"), *p;
	unsigned seconds = env ? (unsigned)strtoul(env, NULL, 10) : 60;
	char *token, *cookie, *csrf, *u;
	bool ok = true;
	size_t i;

	if (seconds < 15)
		seconds = 15;
	if (!jg_inst_setup(&in, "login_max_failures_user = 1000000\n"
			   "login_max_failures_ip = 1000000\n") ||
	    !jg_inst_start(&in, 2)) {
		fprintf(stderr, "soak: cannot start the instance\n");
		return 1;
	}

	/* The login form once: its CSRF cookie and token, sent by every
	 * request of the login run. */
	c = jg_it_client_new();
	u = jg_inst_url(&in, "/oauth/authorize?" WEB_Q);
	memset(&r, 0, sizeof(r));
	if (!jg_it_get(c, u, NULL, &r) || r.status != 200) {
		fprintf(stderr, "soak: no login form\n");
		return 1;
	}
	p = r.body ? strstr(r.body, "name=\"jg_csrf\" value=\"") : NULL;
	csrf = p ? jg_xstrndup(p + 22, strcspn(p + 22, "\"")) : jg_xstrdup("");
	cookie = jg_it_cookie(c, "jg_csrf");
	jg_it_response_clear(&r);
	jg_it_client_free(c);
	free(u);
	token = jg_inst_mint(&in, "openid api:read");

	runs[0].name = "gate";
	runs[0].path = "/api/me";
	runs[0].lua = jg_xasprintf("wrk.method = \"GET\"\n"
				   "wrk.headers[\"Authorization\"] = \"Bearer %s\"\n", token);
	runs[1].name = "token";
	runs[1].path = "/oauth/token";
	runs[1].lua = jg_xasprintf("wrk.method = \"POST\"\n"
				   "wrk.body = \"grant_type=client_credentials&scope=api%%3Aread\"\n"
				   "wrk.headers[\"Content-Type\"] = "
				   "\"application/x-www-form-urlencoded\"\n"
				   "wrk.headers[\"Authorization\"] = \"%s\"\n",
				   in.b_m2m + strlen("Authorization: "));
	runs[2].name = "login";
	runs[2].path = "/oauth/authorize";
	runs[2].lua = jg_xasprintf("wrk.method = \"POST\"\n"
				   "wrk.body = \"%s&jg_action=login&jg_csrf=%s"
				   "&username=alice&password=wrong\"\n"
				   "wrk.headers[\"Content-Type\"] = "
				   "\"application/x-www-form-urlencoded\"\n"
				   "wrk.headers[\"Cookie\"] = \"jg_csrf=%s\"\n",
				   WEB_Q, csrf, cookie ? cookie : "");
	for (i = 0; i < 3; i++) {
		const char *only = getenv("SOAK_ONLY");

		if (only == NULL || strcmp(only, runs[i].name) == 0)
			ok = soak(&in, &runs[i], seconds) && ok;
		free(runs[i].lua);
	}
	if (!jg_inst_integrity_ok(in.config->database)) {
		printf("FAIL: soak: the database fails PRAGMA integrity_check\n");
		ok = false;
	}
	if (!jg_inst_free(&in)) {
		printf("FAIL: soak: the server did not stop cleanly\n");
		ok = false;
	}
	free(token);
	free(cookie);
	free(csrf);
	printf("soak: %s\n", ok ? "PASS" : "FAIL");
	return ok ? 0 : 1;
}
