/* cli.c: command dispatch, messages and input helpers of the jwtgate tool. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

void
jg_cli_print_commands(FILE *f, const char *path,
		      const struct jg_cli_command *table)
{
	const struct jg_cli_command *cmd;

	if (path[0] == '\0')
		fputs("usage: jwtgate [--help | --version] COMMAND [ARGS]\n", f);
	else
		fprintf(f, "usage: jwtgate %s COMMAND [ARGS]\n", path);
	fputs("\ncommands:\n", f);
	for (cmd = table; cmd->name != NULL; cmd++)
		fprintf(f, "  %-10s %s\n", cmd->name, cmd->summary);
	fprintf(f, "\nRun 'jwtgate %s%sCOMMAND --help' for the options of a command.\n",
		path, path[0] != '\0' ? " " : "");
}

static const struct jg_cli_command *
find_command(const struct jg_cli_command *table, const char *name)
{
	const struct jg_cli_command *cmd;

	for (cmd = table; cmd->name != NULL; cmd++)
		if (strcmp(cmd->name, name) == 0)
			return cmd;
	return NULL;
}

static bool
is_help(const char *arg)
{
	return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0 ||
	    strcmp(arg, "help") == 0;
}

/* Prints "jwtgate: PATH: " (or only "jwtgate: " at the top level). */
static void
path_prefix(const char *path)
{
	if (path[0] == '\0')
		fputs("jwtgate: ", stderr);
	else
		fprintf(stderr, "jwtgate: %s: ", path);
}

static int
unknown_command(const char *path, const struct jg_cli_command *table,
		const char *name)
{
	path_prefix(path);
	fprintf(stderr, "unknown %s '%s'\n", name[0] == '-' ? "option" : "command",
		name);
	jg_cli_print_commands(stderr, path, table);
	return JG_EXIT_USAGE;
}

int
jg_cli_dispatch(const char *path, const struct jg_cli_command *table,
		int argc, char **argv)
{
	const struct jg_cli_command *cmd;
	char help_option[] = "--help";
	char *help_argv[3];

	if (argc < 2) {
		path_prefix(path);
		fputs("missing command\n", stderr);
		jg_cli_print_commands(stderr, path, table);
		return JG_EXIT_USAGE;
	}
	if (is_help(argv[1])) {
		if (strcmp(argv[1], "help") != 0 || argc < 3) {
			jg_cli_print_commands(stdout, path, table);
			return JG_EXIT_OK;
		}
		/* "help NAME" is "NAME --help". */
		cmd = find_command(table, argv[2]);
		if (cmd == NULL)
			return unknown_command(path, table, argv[2]);
		help_argv[0] = argv[2];
		help_argv[1] = help_option;
		help_argv[2] = NULL;
		return cmd->run(2, help_argv);
	}
	cmd = find_command(table, argv[1]);
	if (cmd == NULL)
		return unknown_command(path, table, argv[1]);
	return cmd->run(argc - 1, argv + 1);
}

void
jg_cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("jwtgate: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
jg_cli_usage_error(const char *path, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "jwtgate: %s: ", path);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'jwtgate %s --help'.\n", path);
	return JG_EXIT_USAGE;
}

int
jg_cli_option_error(const char *path, int c, char *const argv[])
{
	const char *what = c == ':' ? "needs an argument" : "is unknown";

	/* For a short option getopt names it in optopt; a long one (their
	 * values are above 127 in jwtgate) is the argument it just stepped
	 * over. */
	if (optopt > 0 && optopt < 128)
		return jg_cli_usage_error(path, "option '-%c' %s", optopt, what);
	if (optind > 0 && argv[optind - 1] != NULL)
		return jg_cli_usage_error(path, "option '%s' %s", argv[optind - 1],
					  what);
	return jg_cli_usage_error(path, "an option %s", what);
}

int
jg_cli_help(const char *usage)
{
	fputs(usage, stdout);
	return JG_EXIT_OK;
}

enum jg_err
jg_cli_read_stdin(size_t max, char **out, size_t *len)
{
	size_t used = 0, cap = 4096;
	char *buf = jg_xmalloc(cap);
	ssize_t n;
	int saved;

	for (;;) {
		if (used + 1 >= cap) {
			if (cap > max + 1) {
				free(buf);
				return JG_ERR_MALFORMED;
			}
			cap *= 2;
			buf = jg_xrealloc(buf, cap);
		}
		n = read(STDIN_FILENO, buf + used, cap - used - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			saved = errno;
			free(buf);
			errno = saved;
			return JG_ERR_SYSTEM;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	if (used > max) {
		free(buf);
		return JG_ERR_MALFORMED;
	}
	buf[used] = '\0';
	*out = buf;
	*len = used;
	return JG_OK;
}

int
jg_cli_read_token(const char *arg, size_t max, char **out, size_t *len)
{
	enum jg_err err;
	size_t n;
	char *buf;

	if (strcmp(arg, "-") != 0) {
		*len = strlen(arg);
		*out = jg_xstrdup(arg);
		return JG_EXIT_OK;
	}
	/* Room for the newline stripped below; a token that is still too long
	 * after that is the library's to reject, with its own reason. */
	err = jg_cli_read_stdin(max + 2, &buf, &n);
	if (err == JG_ERR_MALFORMED) {
		jg_cli_error("rejected: token on standard input is longer than %zu bytes",
			     max);
		return JG_EXIT_REJECTED;
	}
	if (err != JG_OK) {
		jg_cli_error("cannot read standard input: %s", strerror(errno));
		return JG_EXIT_REJECTED;
	}
	if (n > 0 && buf[n - 1] == '\n') {
		buf[--n] = '\0';
		if (n > 0 && buf[n - 1] == '\r')
			buf[--n] = '\0';
	}
	*out = buf;
	*len = n;
	return JG_EXIT_OK;
}

bool
jg_cli_parse_int64(const char *arg, int64_t min, int64_t max, int64_t *out)
{
	long long v;
	char *end;

	/* strtoll skips leading white space and accepts a sign; neither is
	 * a number a user meant to type here except a leading '-'. */
	if (arg[0] == '\0' || !(arg[0] == '-' || (arg[0] >= '0' && arg[0] <= '9')))
		return false;
	errno = 0;
	v = strtoll(arg, &end, 10);
	if (errno != 0 || *end != '\0' || end == arg)
		return false;
	if (v < min || v > max)
		return false;
	*out = (int64_t)v;
	return true;
}

int
jg_cli_write_stdout(const void *data, size_t len)
{
	if (len > 0 && fwrite(data, 1, len, stdout) != len) {
		jg_cli_error("cannot write standard output: %s", strerror(errno));
		return JG_EXIT_REJECTED;
	}
	return JG_EXIT_OK;
}
