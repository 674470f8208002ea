/* cmd_user.c: "jwtgate user": add, change, list, show, remove and import
 * user accounts. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "password.h"

/* Longest user name, in bytes. */
#define USERNAME_MAX 64
/* Longest profile value, in bytes; phone numbers are shorter. */
#define PROFILE_MAX 1024
#define PHONE_MAX 64
/* Largest htpasswd file imported. */
#define HTPASSWD_MAX (16 * 1024 * 1024)

#define NAME_RULES \
"User names are 1 to 64 bytes of UTF-8 without control characters, without\n" \
"\":\" (the htpasswd separator) and without spaces at either end; they\n" \
"compare exactly (case-sensitive).\n"

#define PROFILE_OPTIONS \
"  --name TEXT          full name (claim \"name\")\n" \
"  --given-name TEXT    given name\n" \
"  --family-name TEXT   family name\n" \
"  --email ADDRESS      e-mail address\n" \
"  --email-verified     the address is verified (claim \"email_verified\")\n" \
"  --phone NUMBER       phone number (claim \"phone_number\")\n" \
"  --address TEXT       postal address, as one formatted text (may hold\n" \
"                       newlines)\n"

#define CONFIG_OPTION \
"  --config FILE        the instance's configuration (default $JWTGATE_CONF,\n" \
"                       else " SYSCONFDIR "/jwtgate.conf)\n" \
"  --help               print this help\n"

static const char add_usage[] =
"usage: jwtgate user add NAME [--password-stdin] [PROFILE OPTIONS]\n"
"\n"
"Adds the user NAME with a new random subject identifier (\"sub\").  The\n"
"password is asked twice on the terminal, without echo, or read as one\n"
"line from standard input with --password-stdin.  It is stored as a\n"
"yescrypt hash.\n"
"\n"
NAME_RULES
"\n"
"options:\n"
"  --password-stdin     read the password from the first line of standard input\n"
PROFILE_OPTIONS
CONFIG_OPTION
"\n"
"exit status: 0 added, 1 refused (the user exists, bad name or value, empty\n"
"password, database busy), 2 usage error.\n";

static const char set_usage[] =
"usage: jwtgate user set NAME [PROFILE OPTIONS] [--email-unverified]\n"
"\n"
"Changes the profile of the user NAME: each option given replaces that\n"
"value; an empty TEXT removes it.\n"
"\n"
"options:\n"
PROFILE_OPTIONS
"  --email-unverified   the address is not verified\n"
CONFIG_OPTION
"\n"
"exit status: 0 changed, 1 refused (no such user, bad value, database\n"
"busy), 2 usage error.\n";

static const char passwd_usage[] =
"usage: jwtgate user passwd NAME [--password-stdin]\n"
"\n"
"Sets a new password for the user NAME, asked twice on the terminal\n"
"without echo, or read as one line from standard input with\n"
"--password-stdin.\n"
"\n"
"options:\n"
"  --password-stdin     read the password from the first line of standard input\n"
CONFIG_OPTION
"\n"
"exit status: 0 changed, 1 refused (no such user, empty password, database\n"
"busy), 2 usage error.\n";

static const char disable_usage[] =
"usage: jwtgate user disable NAME\n"
"\n"
"Disables the user NAME: they can no longer log in, their single sign-on\n"
"sessions end and their refresh tokens are revoked.  Access tokens already\n"
"issued stay valid until they expire (access_token_lifetime).\n"
"\n"
"options:\n"
CONFIG_OPTION
"\n"
"exit status: 0 disabled, 1 refused (no such user, database busy), 2 usage\n"
"error.\n";

static const char enable_usage[] =
"usage: jwtgate user enable NAME\n"
"\n"
"Enables the user NAME again after 'jwtgate user disable'.\n"
"\n"
"options:\n"
CONFIG_OPTION
"\n"
"exit status: 0 enabled, 1 refused (no such user, database busy), 2 usage\n"
"error.\n";

static const char del_usage[] =
"usage: jwtgate user del NAME\n"
"\n"
"Deletes the user NAME with their sessions, consents, authorization codes\n"
"and refresh tokens.  Access tokens already issued stay valid until they\n"
"expire.\n"
"\n"
"options:\n"
CONFIG_OPTION
"\n"
"exit status: 0 deleted, 1 refused (no such user, database busy), 2 usage\n"
"error.\n";

static const char list_usage[] =
"usage: jwtgate user list\n"
"\n"
"Lists the users ordered by name, one per line: NAME, SUB and \"enabled\"\n"
"or \"disabled\", separated by tabs.\n"
"\n"
"options:\n"
CONFIG_OPTION
"\n"
"exit status: 0 listed, 1 failed, 2 usage error.\n";

static const char show_usage[] =
"usage: jwtgate user show NAME\n"
"\n"
"Prints the user NAME: \"key: value\" lines for the user name, sub, state,\n"
"creation time (UTC) and each profile claim that is set.  Never the\n"
"password hash.\n"
"\n"
"options:\n"
CONFIG_OPTION
"\n"
"exit status: 0 shown, 1 no such user or failed, 2 usage error.\n";

static const char import_usage[] =
"usage: jwtgate user import-htpasswd FILE [--update]\n"
"\n"
"Adds the users of the Apache htpasswd FILE (\"-\": standard input), each\n"
"with a new random sub and the hash as it is.  bcrypt ($2y$, from\n"
"htpasswd -B), sha512-crypt ($6$) and yescrypt ($y$) hashes are imported;\n"
"Apache MD5 ($apr1$), SHA-1 ({SHA}), crypt and plain-text entries cannot\n"
"be verified by crypt(3) and are skipped, each reported with its line\n"
"number on standard error, as are malformed lines, names that break the\n"
"user name rules and, without --update, users that exist already.\n"
"Prints \"imported N, updated N, skipped N\" at the end.  Running it again\n"
"is safe.\n"
"\n"
NAME_RULES
"\n"
"options:\n"
"  --update             replace the password hash of users that exist\n"
CONFIG_OPTION
"\n"
"exit status: 0 every entry imported (or updated), 1 some lines skipped (the\n"
"others are imported) or failed, 2 usage error.\n";

enum {
	OPT_PASSWORD_STDIN = JG_OPT_CONFIG + 1,
	OPT_NAME,
	OPT_GIVEN_NAME,
	OPT_FAMILY_NAME,
	OPT_EMAIL,
	OPT_EMAIL_VERIFIED,
	OPT_EMAIL_UNVERIFIED,
	OPT_PHONE,
	OPT_ADDRESS,
	OPT_UPDATE
};

static const struct option user_options[] = {
	{ "password-stdin", no_argument, NULL, OPT_PASSWORD_STDIN },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "given-name", required_argument, NULL, OPT_GIVEN_NAME },
	{ "family-name", required_argument, NULL, OPT_FAMILY_NAME },
	{ "email", required_argument, NULL, OPT_EMAIL },
	{ "email-verified", no_argument, NULL, OPT_EMAIL_VERIFIED },
	{ "email-unverified", no_argument, NULL, OPT_EMAIL_UNVERIFIED },
	{ "phone", required_argument, NULL, OPT_PHONE },
	{ "address", required_argument, NULL, OPT_ADDRESS },
	{ "update", no_argument, NULL, OPT_UPDATE },
	{ "config", required_argument, NULL, JG_OPT_CONFIG },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

#define ALLOW(opt) (1u << ((opt) - OPT_PASSWORD_STDIN))
#define PROFILE_ALLOWED (ALLOW(OPT_NAME) | ALLOW(OPT_GIVEN_NAME) | \
	ALLOW(OPT_FAMILY_NAME) | ALLOW(OPT_EMAIL) | ALLOW(OPT_EMAIL_VERIFIED) | \
	ALLOW(OPT_PHONE) | ALLOW(OPT_ADDRESS))

/* A profile value: given tells whether the option was used. */
struct field {
	bool given;
	const char *value;
};

/* What the options of one command say. */
struct args {
	const char *path;		/* "user add", for messages */
	const char *config;
	const char *name;		/* the NAME or FILE argument */
	bool password_stdin;
	bool update;
	struct field name_claim, given_name, family_name, email, phone, address;
	bool email_verified_given, email_verified;
};

/* Parses the options of "user CMD"; allowed holds ALLOW() bits.  Returns
 * -1 when the command should go on, or the exit status. */
static int
parse(int argc, char **argv, const char *path, const char *usage, unsigned allowed,
      bool positional, struct args *a)
{
	int c;

	memset(a, 0, sizeof(*a));
	a->path = path;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", user_options, NULL)) != -1) {
		if (c >= OPT_PASSWORD_STDIN && c <= OPT_UPDATE && !(allowed & ALLOW(c)))
			return jg_cli_usage_error(path, "unknown option '%s'", argv[optind - 1]);
		switch (c) {
		case 'h':
			return jg_cli_help(usage);
		case JG_OPT_CONFIG:
			a->config = optarg;
			break;
		case OPT_PASSWORD_STDIN:
			a->password_stdin = true;
			break;
		case OPT_UPDATE:
			a->update = true;
			break;
		case OPT_NAME:
			a->name_claim = (struct field){ true, optarg };
			break;
		case OPT_GIVEN_NAME:
			a->given_name = (struct field){ true, optarg };
			break;
		case OPT_FAMILY_NAME:
			a->family_name = (struct field){ true, optarg };
			break;
		case OPT_EMAIL:
			a->email = (struct field){ true, optarg };
			break;
		case OPT_PHONE:
			a->phone = (struct field){ true, optarg };
			break;
		case OPT_ADDRESS:
			a->address = (struct field){ true, optarg };
			break;
		case OPT_EMAIL_VERIFIED:
		case OPT_EMAIL_UNVERIFIED:
			if (a->email_verified_given &&
			    a->email_verified != (c == OPT_EMAIL_VERIFIED))
				return jg_cli_usage_error(path, "--email-verified and"
							  " --email-unverified exclude each other");
			a->email_verified_given = true;
			a->email_verified = c == OPT_EMAIL_VERIFIED;
			break;
		default:
			return jg_cli_option_error(path, c, argv);
		}
	}
	if (positional) {
		if (optind >= argc)
			return jg_cli_usage_error(path, "missing %s",
						  strcmp(path, "user import-htpasswd") == 0 ?
						  "FILE" : "NAME");
		a->name = argv[optind++];
	}
	if (optind < argc)
		return jg_cli_usage_error(path, "unexpected argument '%s'", argv[optind]);
	return -1;
}

/* Returns NULL when name is a valid user name, else why not. */
static const char *
username_problem(const char *name)
{
	size_t len = strlen(name);

	if (len == 0)
		return "it is empty";
	if (len > USERNAME_MAX)
		return "it is longer than 64 bytes";
	if (!jg_admin_text_valid(name, false))
		return "it is not UTF-8 text without control characters";
	if (strchr(name, ':') != NULL)
		return "it holds a \":\"";
	if (name[0] == ' ' || name[len - 1] == ' ')
		return "it starts or ends with a space";
	return NULL;
}

static bool
check_username(const char *name)
{
	const char *why = username_problem(name);

	if (why != NULL) {
		jg_cli_error("bad user name: %s", why);
		return false;
	}
	return true;
}

/* Checks the profile options; prints a message and returns false for a
 * bad value. */
static bool
check_profile(const struct args *a)
{
	const struct {
		const char *option;
		const struct field *f;
		size_t max;
		bool newlines;
	} fields[] = {
		{ "--name", &a->name_claim, PROFILE_MAX, false },
		{ "--given-name", &a->given_name, PROFILE_MAX, false },
		{ "--family-name", &a->family_name, PROFILE_MAX, false },
		{ "--email", &a->email, PROFILE_MAX, false },
		{ "--phone", &a->phone, PHONE_MAX, false },
		{ "--address", &a->address, PROFILE_MAX, true },
	};
	const char *at, *email = a->email.value;
	size_t i;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const struct field *f = fields[i].f;

		if (!f->given)
			continue;
		if (strlen(f->value) > fields[i].max) {
			jg_cli_error("%s: longer than %zu bytes", fields[i].option,
				     fields[i].max);
			return false;
		}
		if (!jg_admin_text_valid(f->value, fields[i].newlines)) {
			jg_cli_error("%s: not UTF-8 text without control characters",
				     fields[i].option);
			return false;
		}
	}
	if (a->email.given && email[0] != '\0') {
		at = strrchr(email, '@');
		if (at == NULL || at == email || at[1] == '\0' || strchr(email, ' ') != NULL) {
			jg_cli_error("--email: '%s' is not an e-mail address", email);
			return false;
		}
	}
	return true;
}

/* Copies the given profile options into u (an empty value clears). */
static void
apply_profile(const struct args *a, struct jg_user *u)
{
	const struct field *fields[] = {
		&a->name_claim, &a->given_name, &a->family_name, &a->email,
		&a->phone, &a->address
	};
	char **slots[] = {
		&u->name, &u->given_name, &u->family_name, &u->email,
		&u->phone_number, &u->address
	};
	size_t i;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (!fields[i]->given)
			continue;
		free(*slots[i]);
		*slots[i] = fields[i]->value[0] != '\0' ? jg_xstrdup(fields[i]->value) : NULL;
	}
	if (a->email_verified_given)
		u->email_verified = a->email_verified;
	else if (a->email.given && a->email.value[0] == '\0')
		u->email_verified = false;	/* no address, nothing verified */
}

/* Opens the instance with its store; prints and returns the status. */
static int
open_store(const struct args *a, struct jg_admin *admin)
{
	return jg_admin_open(a->config, true, admin);
}

static int
no_user(const char *name)
{
	jg_cli_error("no user '%s'", name);
	return JG_EXIT_REJECTED;
}

/* ---------------------------------------------------------------- add */

static int
user_add(int argc, char **argv)
{
	struct jg_admin admin = { NULL, NULL };
	struct jg_user *existing = NULL, u;
	char *password = NULL, *hash = NULL, *sub = NULL;
	struct args a;
	enum jg_err err;
	int status;

	status = parse(argc, argv, "user add", add_usage,
		       PROFILE_ALLOWED | ALLOW(OPT_PASSWORD_STDIN), true, &a);
	if (status >= 0)
		return status;
	if (!check_username(a.name) || !check_profile(&a))
		return JG_EXIT_REJECTED;
	status = open_store(&a, &admin);
	if (status != JG_EXIT_OK)
		return status;
	status = JG_EXIT_REJECTED;
	memset(&u, 0, sizeof(u));
	/* Refused before the password is asked for. */
	err = jg_store_user_get(admin.store, a.name, &existing);
	if (err == JG_OK) {
		jg_cli_error("user '%s' exists", a.name);
		goto out;
	}
	if (err != JG_ERR_NOT_FOUND) {
		jg_admin_store_error(admin.store, err, "cannot look the user up");
		goto out;
	}
	if (jg_admin_get_password(a.name, a.password_stdin, &password) != JG_EXIT_OK)
		goto out;
	err = jg_password_hash(password, &hash);
	if (err != JG_OK) {
		jg_cli_error("cannot hash the password: %s", jg_strerror(err));
		goto out;
	}
	sub = jg_random_token(16);
	if (sub == NULL) {
		jg_cli_error("cannot make a subject identifier: random generator failed");
		goto out;
	}
	u.username = jg_xstrdup(a.name);
	u.sub = sub;
	u.password_hash = hash;
	apply_profile(&a, &u);
	err = jg_store_user_add(admin.store, &u, jg_admin_now());
	if (err == JG_ERR_EXISTS)
		jg_cli_error("user '%s' exists", a.name);
	else if (err != JG_OK)
		jg_admin_store_error(admin.store, err, "cannot add the user");
	else
		status = JG_EXIT_OK;
out:
	free(u.username);
	free(u.name);
	free(u.given_name);
	free(u.family_name);
	free(u.email);
	free(u.phone_number);
	free(u.address);
	jg_free_secret(sub);
	jg_free_secret(hash);
	jg_free_secret(password);
	jg_user_free(existing);
	jg_admin_close(&admin);
	return status;
}

/* ---------------------------------------------------------------- set */

static int
user_set(int argc, char **argv)
{
	struct jg_admin admin = { NULL, NULL };
	struct jg_user *u = NULL;
	struct args a;
	enum jg_err err;
	int status;

	status = parse(argc, argv, "user set", set_usage,
		       PROFILE_ALLOWED | ALLOW(OPT_EMAIL_UNVERIFIED), true, &a);
	if (status >= 0)
		return status;
	if (!check_profile(&a))
		return JG_EXIT_REJECTED;
	status = open_store(&a, &admin);
	if (status != JG_EXIT_OK)
		return status;
	status = JG_EXIT_REJECTED;
	err = jg_store_user_get(admin.store, a.name, &u);
	if (err == JG_ERR_NOT_FOUND) {
		no_user(a.name);
		goto out;
	}
	if (err != JG_OK) {
		jg_admin_store_error(admin.store, err, "cannot look the user up");
		goto out;
	}
	apply_profile(&a, u);
	err = jg_store_user_update_profile(admin.store, u);
	if (err == JG_ERR_NOT_FOUND)
		no_user(a.name);
	else if (err != JG_OK)
		jg_admin_store_error(admin.store, err, "cannot change the user");
	else
		status = JG_EXIT_OK;
out:
	jg_user_free(u);
	jg_admin_close(&admin);
	return status;
}

/* ---------------------------------------------------------------- passwd */

static int
user_passwd(int argc, char **argv)
{
	struct jg_admin admin = { NULL, NULL };
	struct jg_user *u = NULL;
	char *password = NULL, *hash = NULL;
	struct args a;
	enum jg_err err;
	int status;

	status = parse(argc, argv, "user passwd", passwd_usage,
		       ALLOW(OPT_PASSWORD_STDIN), true, &a);
	if (status >= 0)
		return status;
	status = open_store(&a, &admin);
	if (status != JG_EXIT_OK)
		return status;
	status = JG_EXIT_REJECTED;
	err = jg_store_user_get(admin.store, a.name, &u);
	if (err == JG_ERR_NOT_FOUND) {
		no_user(a.name);
		goto out;
	}
	if (err != JG_OK) {
		jg_admin_store_error(admin.store, err, "cannot look the user up");
		goto out;
	}
	if (jg_admin_get_password(a.name, a.password_stdin, &password) != JG_EXIT_OK)
		goto out;
	err = jg_password_hash(password, &hash);
	if (err != JG_OK) {
		jg_cli_error("cannot hash the password: %s", jg_strerror(err));
		goto out;
	}
	err = jg_store_user_set_password(admin.store, a.name, hash);
	if (err == JG_ERR_NOT_FOUND)
		no_user(a.name);
	else if (err != JG_OK)
		jg_admin_store_error(admin.store, err, "cannot change the password");
	else
		status = JG_EXIT_OK;
out:
	jg_free_secret(hash);
	jg_free_secret(password);
	jg_user_free(u);
	jg_admin_close(&admin);
	return status;
}

/* ---------------------------------------------------------------- disable, enable, del */

static int
set_disabled(int argc, char **argv, bool disabled)
{
	struct jg_admin admin = { NULL, NULL };
	struct args a;
	enum jg_err err;
	int status;

	status = parse(argc, argv, disabled ? "user disable" : "user enable",
		       disabled ? disable_usage : enable_usage, 0, true, &a);
	if (status >= 0)
		return status;
	status = open_store(&a, &admin);
	if (status != JG_EXIT_OK)
		return status;
	status = JG_EXIT_REJECTED;
	/* A disabled user keeps no way in: no session, no refresh token, all
	 * in one transaction. */
	if (disabled)
		err = jg_store_user_disable(admin.store, a.name, jg_admin_now(),
					    NULL, NULL);
	else
		err = jg_store_user_set_disabled(admin.store, a.name, false);
	if (err == JG_ERR_NOT_FOUND)
		no_user(a.name);
	else if (err != JG_OK)
		jg_admin_store_error(admin.store, err, disabled ? "cannot disable the user" :
				     "cannot enable the user");
	else
		status = JG_EXIT_OK;
	jg_admin_close(&admin);
	return status;
}

static int
user_disable(int argc, char **argv)
{
	return set_disabled(argc, argv, true);
}

static int
user_enable(int argc, char **argv)
{
	return set_disabled(argc, argv, false);
}

static int
user_del(int argc, char **argv)
{
	struct jg_admin admin = { NULL, NULL };
	struct args a;
	enum jg_err err;
	int status;

	status = parse(argc, argv, "user del", del_usage, 0, true, &a);
	if (status >= 0)
		return status;
	status = open_store(&a, &admin);
	if (status != JG_EXIT_OK)
		return status;
	err = jg_store_user_delete(admin.store, a.name);
	if (err == JG_ERR_NOT_FOUND)
		status = no_user(a.name);
	else if (err != JG_OK)
		status = jg_admin_store_error(admin.store, err, "cannot delete the user");
	jg_admin_close(&admin);
	return status;
}

/* ---------------------------------------------------------------- list, show */

static int
user_list(int argc, char **argv)
{
	struct jg_admin admin = { NULL, NULL };
	struct jg_user **users = NULL;
	struct args a;
	enum jg_err err;
	size_t n = 0, i;
	int status;

	status = parse(argc, argv, "user list", list_usage, 0, false, &a);
	if (status >= 0)
		return status;
	status = open_store(&a, &admin);
	if (status != JG_EXIT_OK)
		return status;
	err = jg_store_user_list(admin.store, &users, &n);
	if (err != JG_OK)
		status = jg_admin_store_error(admin.store, err, "cannot list the users");
	for (i = 0; i < n; i++)
		printf("%s\t%s\t%s\n", users[i]->username, users[i]->sub,
		       users[i]->disabled ? "disabled" : "enabled");
	jg_user_list_free(users, n);
	jg_admin_close(&admin);
	return status;
}

/* Prints "key: value", continuing the lines of a multi-line value with
 * two spaces of indentation. */
static void
show_value(const char *key, const char *value)
{
	const char *p;

	if (value == NULL)
		return;
	printf("%s: ", key);
	for (p = value; *p; p++) {
		putchar(*p);
		if (*p == '\n')
			fputs("  ", stdout);
	}
	putchar('\n');
}

static int
user_show(int argc, char **argv)
{
	struct jg_admin admin = { NULL, NULL };
	struct jg_user *u = NULL;
	char when[32];
	struct args a;
	enum jg_err err;
	int status;

	status = parse(argc, argv, "user show", show_usage, 0, true, &a);
	if (status >= 0)
		return status;
	status = open_store(&a, &admin);
	if (status != JG_EXIT_OK)
		return status;
	err = jg_store_user_get(admin.store, a.name, &u);
	if (err == JG_ERR_NOT_FOUND) {
		status = no_user(a.name);
	} else if (err != JG_OK) {
		status = jg_admin_store_error(admin.store, err, "cannot look the user up");
	} else {
		show_value("username", u->username);
		show_value("sub", u->sub);
		show_value("state", u->disabled ? "disabled" : "enabled");
		show_value("created", jg_admin_time(u->created, when, sizeof(when)));
		show_value("name", u->name);
		show_value("given_name", u->given_name);
		show_value("family_name", u->family_name);
		show_value("email", u->email);
		if (u->email)
			show_value("email_verified", u->email_verified ? "yes" : "no");
		show_value("phone_number", u->phone_number);
		show_value("address", u->address);
	}
	jg_user_free(u);
	jg_admin_close(&admin);
	return status;
}

/* ---------------------------------------------------------------- import-htpasswd */

struct import {
	struct jg_store *store;
	const char *file;
	bool update;
	int64_t now;
	unsigned imported, updated, skipped;
};

static void
import_reject(void *arg, unsigned line, const char *user, const char *reason)
{
	struct import *im = arg;

	im->skipped++;
	if (user != NULL)
		jg_cli_error("%s:%u: user '%s' skipped: %s", im->file, line, user, reason);
	else
		jg_cli_error("%s:%u: line skipped: %s", im->file, line, reason);
}

static enum jg_err
import_accept(void *arg, unsigned line, const char *user, const char *hash)
{
	struct import *im = arg;
	struct jg_user u;
	const char *why;
	enum jg_err err;
	char *sub;

	why = username_problem(user);
	if (why != NULL) {
		/* The parser never passes a name with control characters, so
		 * it can be printed; a long one is cut. */
		im->skipped++;
		jg_cli_error("%s:%u: user '%.64s' skipped: bad user name: %s", im->file,
			     line, user, why);
		return JG_OK;
	}
	sub = jg_random_token(16);
	if (sub == NULL) {
		jg_cli_error("cannot make a subject identifier: random generator failed");
		return JG_ERR_SYSTEM;
	}
	memset(&u, 0, sizeof(u));
	u.username = jg_xstrdup(user);
	u.sub = sub;
	u.password_hash = jg_xstrdup(hash);
	err = jg_store_user_add(im->store, &u, im->now);
	free(u.username);
	jg_free_secret(u.password_hash);
	jg_free_secret(sub);
	if (err == JG_OK) {
		im->imported++;
		return JG_OK;
	}
	if (err != JG_ERR_EXISTS)
		return err;
	if (!im->update) {
		im->skipped++;
		jg_cli_error("%s:%u: user '%s' skipped: exists (--update replaces its"
			     " password)", im->file, line, user);
		return JG_OK;
	}
	err = jg_store_user_set_password(im->store, user, hash);
	if (err == JG_OK)
		im->updated++;
	return err;
}

static int
user_import(int argc, char **argv)
{
	struct jg_admin admin = { NULL, NULL };
	struct import im;
	char *text = NULL;
	size_t len = 0;
	struct args a;
	enum jg_err err;
	int status;

	status = parse(argc, argv, "user import-htpasswd", import_usage,
		       ALLOW(OPT_UPDATE), true, &a);
	if (status >= 0)
		return status;
	if (strcmp(a.name, "-") == 0)
		err = jg_cli_read_stdin(HTPASSWD_MAX, &text, &len);
	else
		err = jg_read_file(a.name, HTPASSWD_MAX, &text, &len);
	if (err == JG_ERR_MALFORMED) {
		jg_cli_error("%s: larger than %d bytes", a.name, HTPASSWD_MAX);
		return JG_EXIT_REJECTED;
	}
	if (err != JG_OK) {
		jg_cli_error("cannot read %s: %s", a.name, strerror(errno));
		return JG_EXIT_REJECTED;
	}
	status = open_store(&a, &admin);
	if (status != JG_EXIT_OK)
		goto out;
	memset(&im, 0, sizeof(im));
	im.store = admin.store;
	im.file = strcmp(a.name, "-") == 0 ? "stdin" : a.name;
	im.update = a.update;
	im.now = jg_admin_now();
	err = jg_htpasswd_parse(text, len, import_accept, import_reject, &im);
	if (err != JG_OK) {
		jg_admin_store_error(admin.store, err, "cannot import");
		printf("imported %u, updated %u, skipped %u; stopped early: run the"
		       " import again\n", im.imported, im.updated, im.skipped);
		status = JG_EXIT_REJECTED;
		goto out;
	}
	printf("imported %u, updated %u, skipped %u\n", im.imported, im.updated, im.skipped);
	status = im.skipped > 0 ? JG_EXIT_REJECTED : JG_EXIT_OK;
out:
	if (text) {
		jg_wipe(text, len);
		free(text);
	}
	jg_admin_close(&admin);
	return status;
}

/* ---------------------------------------------------------------- table */

static const struct jg_cli_command user_commands[] = {
	{ "add", user_add, "add a user" },
	{ "passwd", user_passwd, "set a user's password" },
	{ "set", user_set, "change a user's profile (name, e-mail, ...)" },
	{ "disable", user_disable, "stop a user from logging in; end their sessions" },
	{ "enable", user_enable, "let a disabled user log in again" },
	{ "del", user_del, "delete a user" },
	{ "list", user_list, "list the users" },
	{ "show", user_show, "show a user (never the password hash)" },
	{ "import-htpasswd", user_import, "add the users of an Apache htpasswd file" },
	{ NULL, NULL, NULL }
};

int
jg_cmd_user(int argc, char **argv)
{
	return jg_cli_dispatch("user", user_commands, argc, argv);
}
