/* test_log.c: log line format, level filter and log-injection escaping. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "testutil.h"
#include "util.h"

/* Runs fn with stderr sent to a temporary file; returns what it wrote
 * (caller frees). */
static char *
capture(void (*fn)(void))
{
	char path[] = "/tmp/jg-test-log-XXXXXX";
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	size_t len;
	char *text;

	if (fd < 0 || saved < 0)
		abort();
	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	fn();
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fd);
	text = jg_test_slurp(path, &len);
	unlink(path);
	return text;
}

static void
log_injection(void)
{
	jg_log_setup("token.fcgi", JG_LOG_INFO);
	jg_log(JG_LOG_WARN, "client %s refused", "evil\r\ntoken.fcgi[1]: error: forged");
}

static void
log_levels(void)
{
	jg_log_setup("a b\n", JG_LOG_WARN);
	jg_log(JG_LOG_ERROR, "e%d", 1);
	jg_log(JG_LOG_WARN, "w");
	jg_log(JG_LOG_INFO, "dropped");
	jg_log(JG_LOG_DEBUG, "dropped too");
	jg_log_setup(NULL, JG_LOG_DEBUG);
	jg_log(JG_LOG_DEBUG, "tab\there \x7f");
}

static void
log_long(void)
{
	char big[3000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	jg_log_setup("p", JG_LOG_ERROR);
	jg_log(JG_LOG_ERROR, "%s", big);
}

static void
test_injection(void)
{
	char *out = capture(log_injection);
	char *want = jg_xasprintf("token.fcgi[%ld]: warning: client evil\\x0d\\x0atoken.fcgi[1]: "
				  "error: forged refused\n", (long)getpid());

	/* One line, with CR and LF visible as escapes. */
	CU_ASSERT_STRING_EQUAL(out, want);
	free(want);
	free(out);
}

static void
test_levels(void)
{
	char *out = capture(log_levels);
	long pid = (long)getpid();
	char *want = jg_xasprintf("a_b_[%ld]: error: e1\n"
				  "a_b_[%ld]: warning: w\n"
				  "jwtgate[%ld]: debug: tab\\x09here \\x7f\n", pid, pid, pid);

	CU_ASSERT_STRING_EQUAL(out, want);
	free(want);
	free(out);
	jg_log_setup("x", JG_LOG_WARN);
	CU_ASSERT_TRUE(jg_log_enabled(JG_LOG_ERROR));
	CU_ASSERT_TRUE(jg_log_enabled(JG_LOG_WARN));
	CU_ASSERT_FALSE(jg_log_enabled(JG_LOG_INFO));
}

static void
test_long(void)
{
	char *out = capture(log_long);
	char *prefix = jg_xasprintf("p[%ld]: error: ", (long)getpid());
	size_t n = strlen(prefix);

	/* The message is cut at 1024 bytes, the line still ends in "\n". */
	CU_ASSERT_EQUAL(strncmp(out, prefix, n), 0);
	CU_ASSERT_EQUAL(strlen(out), n + 1024 + 1);
	CU_ASSERT_EQUAL(out[strlen(out) - 1], '\n');
	free(prefix);
	free(out);
}

static void
keep_errno(void)
{
	errno = ERANGE;
	jg_log(JG_LOG_ERROR, "x");
	CU_ASSERT_EQUAL(errno, ERANGE);
}

static void
test_errno(void)
{
	free(capture(keep_errno));
}

int
main(void)
{
	static const struct jg_test tests[] = {
		{ "log injection escaped", test_injection },
		{ "levels and program name", test_levels },
		{ "long messages cut", test_long },
		{ "errno preserved", test_errno },
		{ NULL, NULL },
	};

	return jg_test_main("log", tests);
}
