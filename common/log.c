/* log.c: one-line messages to stderr, which is the web server's error log. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"

_Static_assert((int)JG_LOG_ERROR == (int)JG_CONFIG_LOG_ERROR &&
	       (int)JG_LOG_WARN == (int)JG_CONFIG_LOG_WARN &&
	       (int)JG_LOG_INFO == (int)JG_CONFIG_LOG_INFO &&
	       (int)JG_LOG_DEBUG == (int)JG_CONFIG_LOG_DEBUG,
	       "enum jg_log_level must match enum jg_config_log_level");

#define MESSAGE_MAX 1024

/* The single deliberate global (see log.h): written only by jg_log_setup. */
static struct {
	char program[64];
	enum jg_log_level level;
} settings = { "jwtgate", JG_LOG_WARN };

static const char *const level_names[] = {
	[JG_LOG_ERROR] = "error",
	[JG_LOG_WARN] = "warning",
	[JG_LOG_INFO] = "info",
	[JG_LOG_DEBUG] = "debug",
};

void
jg_log_setup(const char *program, enum jg_log_level level)
{
	const char *name = program ? program : "jwtgate";
	size_t i;

	/* Keep printable ASCII only: the name becomes part of every line. */
	for (i = 0; name[i] && i < sizeof(settings.program) - 1; i++)
		settings.program[i] = name[i] > 0x20 && name[i] < 0x7f ? name[i] : '_';
	settings.program[i] = '\0';
	if (level > JG_LOG_DEBUG)
		level = JG_LOG_DEBUG;
	settings.level = level;
}

bool
jg_log_enabled(enum jg_log_level level)
{
	return level <= settings.level;
}

void
jg_log(enum jg_log_level level, const char *fmt, ...)
{
	static const char hex[] = "0123456789abcdef";
	char message[MESSAGE_MAX + 1];
	/* Each message byte may grow to four; plus the prefix and newline. */
	char line[sizeof(settings.program) + 48 + 4 * MESSAGE_MAX + 2];
	size_t used, i;
	va_list ap;
	int saved = errno, n;

	if (!jg_log_enabled(level))
		return;
	if ((unsigned)level > JG_LOG_DEBUG)
		level = JG_LOG_DEBUG;
	va_start(ap, fmt);
	n = vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	if (n < 0)
		snprintf(message, sizeof(message), "(unprintable message)");
	n = snprintf(line, sizeof(line), "%s[%ld]: %s: ", settings.program,
		     (long)getpid(), level_names[level]);
	used = n > 0 ? (size_t)n : 0;
	for (i = 0; message[i]; i++) {
		unsigned char c = (unsigned char)message[i];

		if (c < 0x20 || c == 0x7f) {
			line[used++] = '\\';
			line[used++] = 'x';
			line[used++] = hex[c >> 4];
			line[used++] = hex[c & 15];
		} else {
			line[used++] = (char)c;
		}
	}
	line[used++] = '\n';
	/* One write: short lines from several processes stay whole. */
	while (write(STDERR_FILENO, line, used) < 0 && errno == EINTR)
		;
	errno = saved;
}
