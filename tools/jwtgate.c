/* jwtgate.c: main of the jwtgate command: the table of top-level commands. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "cli.h"

/* One line per command; the handlers live in tools/cmd_*.c. */
static const struct jg_cli_command commands[] = {
	{ "init", jg_cmd_init, "set up an instance: configuration, database, keys" },
	{ "user", jg_cmd_user, "add, change, list and remove users" },
	{ "client", jg_cmd_client, "register, list and remove OAuth clients" },
	{ "key", jg_cmd_key, "create, rotate, list and retire signing keys" },
	{ "jws", jg_cmd_jws, "sign and verify JWS (RFC 7515) of any payload" },
	{ "jwt", jg_cmd_jwt, "sign, verify and decode JWTs (RFC 7519)" },
	{ NULL, NULL, NULL }
};

int
main(int argc, char **argv)
{
	int status;

	/* "jwtgate --config FILE COMMAND ...": the instance commands find
	 * their configuration through JWTGATE_CONF, as the programs do. */
	while (argc >= 2 && strncmp(argv[1], "--config", 8) == 0 &&
	       (argv[1][8] == '\0' || argv[1][8] == '=')) {
		const char *file = argv[1][8] == '=' ? argv[1] + 9 : argv[2];
		int used = argv[1][8] == '=' ? 1 : 2;

		if (file == NULL || file[0] == '\0') {
			fputs("jwtgate: option '--config' needs a file\n"
			      "Try 'jwtgate --help'.\n", stderr);
			return JG_EXIT_USAGE;
		}
		if (setenv("JWTGATE_CONF", file, 1) != 0) {
			jg_cli_error("cannot set JWTGATE_CONF: %s", strerror(errno));
			return JG_EXIT_REJECTED;
		}
		argv[used] = argv[0];
		argv += used;
		argc -= used;
	}
	if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
		printf("%s %s\n", PACKAGE_NAME, PACKAGE_VERSION);
		status = JG_EXIT_OK;
	} else {
		status = jg_cli_dispatch("", commands, argc, argv);
	}
	/* A full disk or a closed pipe must not pass for success. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		jg_cli_error("cannot write standard output: %s", strerror(errno));
		if (status == JG_EXIT_OK)
			status = JG_EXIT_REJECTED;
	}
	return status;
}
