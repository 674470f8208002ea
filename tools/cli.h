/* cli.h: the command tables and helpers shared by the jwtgate subcommands. */
#ifndef JG_CLI_H
#define JG_CLI_H

#include <stddef.h>
#include <stdio.h>
#include "util.h"

/* Exit status of every jwtgate command. */
#define JG_EXIT_OK       0	/* done; for verify commands: the token is valid */
#define JG_EXIT_REJECTED 1	/* bad input data: rejected token, bad key file,
				 * refused or failed operation */
#define JG_EXIT_USAGE    2	/* bad command syntax: unknown command or option,
				 * missing or malformed argument */

/* Upper bound on what a command reads from standard input. */
#define JG_CLI_MAX_INPUT (1024 * 1024)

/*
 * One command of a command table.  A handler is called like main: argv[0]
 * is the command's own name, argv[1..argc-1] its arguments, and argv[argc]
 * is NULL.  It returns one of the JG_EXIT_* values.  Tables end with an
 * entry whose name is NULL.
 *
 * To add a top-level command, declare its handler below and add one line to
 * the table in tools/jwtgate.c; to add a subcommand of "key", add one line
 * to the table in tools/cmd_key.c.
 */
struct jg_cli_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;	/* one line for the command list */
};

/* Top-level command handlers. */
int jg_cmd_key(int argc, char **argv);	/* tools/cmd_key.c */
int jg_cmd_jws(int argc, char **argv);	/* tools/cmd_jose.c */
int jg_cmd_jwt(int argc, char **argv);	/* tools/cmd_jose.c */

/*
 * Runs the subcommand named by argv[1] from table.  path is the command
 * that owns the table as the user types it after "jwtgate" ("key"; "" for
 * the top level), used in messages.  "--help", "-h" or "help" in argv[1] print the list of
 * subcommands on standard output and return JG_EXIT_OK ("help NAME" runs
 * NAME --help); a missing or unknown subcommand prints the list on standard
 * error and returns JG_EXIT_USAGE.  Otherwise returns what the handler
 * returns, called with argc - 1 and argv + 1.
 */
int jg_cli_dispatch(const char *path, const struct jg_cli_command *table,
		    int argc, char **argv);

/* Prints "usage: jwtgate PATH COMMAND [ARGS]" and the table's commands
 * with their summaries to f. */
void jg_cli_print_commands(FILE *f, const char *path,
			   const struct jg_cli_command *table);

/* Prints "jwtgate: " and the formatted message and a newline on standard
 * error. */
void jg_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "jwtgate: PATH: " and the formatted message on standard error,
 * then "Try 'jwtgate PATH --help'.", and returns JG_EXIT_USAGE.  path is
 * the command as typed after "jwtgate" ("jwt verify"). */
int jg_cli_usage_error(const char *path, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Reports the error getopt_long signalled by returning c ('?' for an
 * unknown option, ':' for a missing argument; the option string must begin
 * with ':' and opterr be 0) for the argv being parsed, as
 * jg_cli_usage_error does.  Returns JG_EXIT_USAGE. */
int jg_cli_option_error(const char *path, int c, char *const argv[]);

/* Prints usage (a complete help text ending in a newline) on standard
 * output and returns JG_EXIT_OK: what every --help does. */
int jg_cli_help(const char *usage);

/* Reads standard input to its end into a new NUL-terminated buffer (caller
 * frees) of *len bytes.  Returns JG_OK, JG_ERR_MALFORMED when more than max
 * bytes arrive (nothing is returned then), or JG_ERR_SYSTEM on a read error
 * (errno is kept). */
enum jg_err jg_cli_read_stdin(size_t max, char **out, size_t *len);

/*
 * Gets the TOKEN argument of a command: arg itself, or when arg is "-" the
 * whole of standard input with one trailing newline ("\n" or "\r\n")
 * removed; more than max + 2 bytes there are refused, and a token that is
 * still too long is the library's to reject.  *out is a new NUL-terminated
 * string (caller frees) of *len bytes.  On failure prints one
 * "jwtgate: ..." line and returns JG_EXIT_REJECTED; returns JG_EXIT_OK on
 * success.
 */
int jg_cli_read_token(const char *arg, size_t max, char **out, size_t *len);

/* Parses arg as a decimal integer in [min, max] with nothing after it.
 * Returns true and writes *out on success. */
bool jg_cli_parse_int64(const char *arg, int64_t min, int64_t max,
			int64_t *out);

/* Writes len bytes to standard output.  Returns JG_EXIT_OK, or prints a
 * message and returns JG_EXIT_REJECTED when the write fails. */
int jg_cli_write_stdout(const void *data, size_t len);

#endif
