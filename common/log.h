/* log.h: one-line messages to stderr, which is the web server's error log. */
#ifndef JG_LOG_H
#define JG_LOG_H

#include <stdbool.h>

/* Severity, most severe first.  The values equal those of enum
 * jg_config_log_level (common/conf.h), so a program may pass
 * (enum jg_log_level)config->log_level; log.c checks that at compile time. */
enum jg_log_level {
	JG_LOG_ERROR = 0,
	JG_LOG_WARN,
	JG_LOG_INFO,
	JG_LOG_DEBUG
};

/* Sets the program name printed before every message (the string is copied,
 * at most 63 bytes are kept; NULL means "jwtgate") and the threshold: a
 * message more verbose than level is dropped.  Call it once from main,
 * before anything logs.  Until it is called the name is "jwtgate" and the
 * threshold JG_LOG_WARN.
 *
 * This is the one deliberate mutable global of the library: the log is a
 * property of the process (its stderr), and threading a logger through
 * every function would only make it harder to log a failure where it is
 * found.  Nothing but jg_log_setup writes it. */
void jg_log_setup(const char *program, enum jg_log_level level);

/* Returns true when a message of this level would be written, so a caller
 * can skip building an expensive message. */
bool jg_log_enabled(enum jg_log_level level);

/* Writes "PROGRAM[PID]: LEVEL: message\n" to stderr in one write(2), so
 * lines of concurrent processes do not interleave.  The formatted message
 * is cut at 1024 bytes, and every byte below 0x20 (CR and LF included) or
 * 0x7f is written as \xHH, so request data placed in a message can never
 * forge a second log line.  Never pass a token, password, code, cookie or
 * secret, not even in part: name the kind of thing and its length instead.
 * errno is preserved. */
void jg_log(enum jg_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
