/* cmd_admin.c: "jwtgate init", and the helpers every instance command
 * shares: configuration and store opening, keyring locking, messages,
 * password and line input. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "admin.h"
#include "json.h"
#include "password.h"

/* ---------------------------------------------------------------- helpers */

int
jg_admin_open(const char *config_path, bool with_store, struct jg_admin *a)
{
	char *errmsg = NULL;
	enum jg_err err;

	a->config = NULL;
	a->store = NULL;
	if (config_path == NULL)
		config_path = jg_config_path();
	err = jg_config_load(config_path, &a->config, &errmsg);
	if (err != JG_OK) {
		jg_cli_error("%s", errmsg ? errmsg : jg_strerror(err));
		free(errmsg);
		return JG_EXIT_REJECTED;
	}
	if (!with_store)
		return JG_EXIT_OK;
	err = jg_store_open(a->config->database, a->config->busy_timeout_ms,
			    &a->store, &errmsg);
	if (err != JG_OK) {
		if (err == JG_ERR_BUSY)
			jg_cli_error("database busy, try again");
		else
			jg_cli_error("cannot open the database: %s",
				     errmsg ? errmsg : jg_strerror(err));
		free(errmsg);
		jg_config_free(a->config);
		a->config = NULL;
		return JG_EXIT_REJECTED;
	}
	return JG_EXIT_OK;
}

void
jg_admin_close(struct jg_admin *a)
{
	jg_store_close(a->store);
	jg_config_free(a->config);
	a->store = NULL;
	a->config = NULL;
}

int
jg_admin_store_error(struct jg_store *st, enum jg_err err, const char *what)
{
	if (err == JG_ERR_BUSY)
		jg_cli_error("database busy, try again");
	else if (err == JG_ERR_SYSTEM && st != NULL)
		jg_cli_error("%s: %s", what, jg_store_errmsg(st));
	else
		jg_cli_error("%s: %s", what, jg_strerror(err));
	return JG_EXIT_REJECTED;
}

int
jg_admin_keyring_open(const struct jg_config *config, struct jg_keyring **ring,
		      int *lock_fd)
{
	char *errmsg = NULL;
	enum jg_err err;
	struct stat st;
	int fd = -1;

	if (mkdir(config->key_dir, 0700) != 0 && errno != EEXIST) {
		jg_cli_error("cannot create %s: %s", config->key_dir, strerror(errno));
		return JG_EXIT_REJECTED;
	}
	if (stat(config->key_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		jg_cli_error("%s: not a folder", config->key_dir);
		return JG_EXIT_REJECTED;
	}
	err = jg_keyring_lock(config->key_dir, config->busy_timeout_ms, &fd);
	if (err == JG_ERR_BUSY) {
		jg_cli_error("key folder busy (another jwtgate command holds %s/.lock),"
			     " try again", config->key_dir);
		return JG_EXIT_REJECTED;
	}
	if (err != JG_OK) {
		jg_cli_error("cannot lock %s/.lock: %s", config->key_dir, strerror(errno));
		return JG_EXIT_REJECTED;
	}
	err = jg_keyring_load(config->key_dir, ring, &errmsg);
	if (err == JG_ERR_NOT_FOUND) {
		*ring = jg_keyring_new(config->key_dir);
		err = JG_OK;
	}
	if (err != JG_OK) {
		jg_cli_error("%s", errmsg ? errmsg : jg_strerror(err));
		free(errmsg);
		jg_keyring_unlock(fd);
		return JG_EXIT_REJECTED;
	}
	free(errmsg);
	*lock_fd = fd;
	return JG_EXIT_OK;
}

void
jg_admin_keyring_close(struct jg_keyring *ring, int lock_fd)
{
	jg_keyring_free(ring);
	jg_keyring_unlock(lock_fd);
}

int64_t
jg_admin_now(void)
{
	return (int64_t)time(NULL);
}

char *
jg_admin_time(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "%lld", (long long)t);
	return buf;
}

bool
jg_admin_has_option(int argc, char **argv, const char *name)
{
	size_t n = strlen(name);
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0)
			break;
		if (strncmp(a, "--", 2) == 0 && strncmp(a + 2, name, n) == 0 &&
		    (a[2 + n] == '\0' || a[2 + n] == '='))
			return true;
	}
	return false;
}

bool
jg_admin_instance_named(int argc, char **argv)
{
	const char *env = getenv("JWTGATE_CONF");

	return jg_admin_has_option(argc, argv, "config") ||
	    (env != NULL && env[0] != '\0') || access(jg_config_path(), F_OK) == 0;
}

bool
jg_admin_text_valid(const char *s, bool allow_newline)
{
	size_t i, len = strlen(s);

	if (!jg_utf8_valid(s, len))
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 || c == 0x7f) && !(allow_newline && c == '\n'))
			return false;
	}
	return true;
}

enum jg_err
jg_admin_read_line(int fd, size_t max, char **out)
{
	char *buf = jg_xmalloc(max + 2);
	bool too_long = false, nul = false, any = false;
	size_t used = 0;
	ssize_t n;
	char c;

	for (;;) {
		n = read(fd, &c, 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			jg_wipe(buf, max + 2);
			free(buf);
			return JG_ERR_SYSTEM;
		}
		if (n == 0 || c == '\n')
			break;
		any = true;
		if (c == '\0')
			nul = true;
		/* One byte more than max, for a "\r" before the newline. */
		if (used < max + 1)
			buf[used++] = c;
		else
			too_long = true;
	}
	c = 0;
	if (used > 0 && buf[used - 1] == '\r')
		used--;
	if (used > max)
		too_long = true;
	buf[used] = '\0';
	if (!any && n == 0) {
		free(buf);
		return JG_ERR_NOT_FOUND;
	}
	if (too_long || nul) {
		jg_wipe(buf, max + 2);
		free(buf);
		return JG_ERR_MALFORMED;
	}
	*out = buf;
	return JG_OK;
}

/* Asks for one line on the terminal fd without echo.  Signals that would
 * stop the process are held until the echo is back on, so that an
 * interrupt never leaves the terminal silent. */
static enum jg_err
ask_tty(int fd, const char *prompt, char **out)
{
	struct termios saved, quiet;
	sigset_t block, old;
	enum jg_err err;
	ssize_t w;

	if (tcgetattr(fd, &saved) != 0)
		return JG_ERR_SYSTEM;
	quiet = saved;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	quiet.c_lflag |= ECHONL;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGQUIT);
	sigaddset(&block, SIGTSTP);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &old);
	if (tcsetattr(fd, TCSAFLUSH, &quiet) != 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		return JG_ERR_SYSTEM;
	}
	w = write(fd, prompt, strlen(prompt));
	(void)w;
	err = jg_admin_read_line(fd, JG_PASSWORD_MAX, out);
	tcsetattr(fd, TCSAFLUSH, &saved);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return err;
}

int
jg_admin_get_password(const char *name, bool from_stdin, char **out)
{
	char *first = NULL, *second = NULL, *prompt;
	enum jg_err err;
	int fd = -1, status = JG_EXIT_REJECTED;

	if (from_stdin) {
		err = jg_admin_read_line(STDIN_FILENO, JG_PASSWORD_MAX, &first);
	} else {
		fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (fd < 0) {
			jg_cli_error("no terminal to ask for the password (%s);"
				     " use --password-stdin", strerror(errno));
			return JG_EXIT_REJECTED;
		}
		prompt = jg_xasprintf("New password for %s: ", name);
		err = ask_tty(fd, prompt, &first);
		free(prompt);
		if (err == JG_OK && first[0] != '\0') {
			err = ask_tty(fd, "Retype the password: ", &second);
			if (err == JG_OK && strcmp(first, second) != 0) {
				jg_cli_error("the passwords do not match");
				goto out;
			}
		}
	}
	if (err == JG_ERR_NOT_FOUND || (err == JG_OK && first[0] == '\0')) {
		jg_cli_error("empty password refused");
		goto out;
	}
	if (err == JG_ERR_MALFORMED) {
		jg_cli_error("password refused: longer than %d bytes or holding a NUL byte",
			     JG_PASSWORD_MAX);
		goto out;
	}
	if (err != JG_OK) {
		jg_cli_error("cannot read the password: %s", strerror(errno));
		goto out;
	}
	*out = first;
	first = NULL;
	status = JG_EXIT_OK;
out:
	if (fd >= 0)
		close(fd);
	jg_free_secret(first);
	jg_free_secret(second);
	return status;
}

/* ---------------------------------------------------------------- init */

static const char init_usage[] =
"usage: jwtgate init --issuer URL [--dir DIR] [--htdocs DIR] [--config FILE]\n"
"                    [--access-token-alg ALG] [--id-token-alg ALG] [--force]\n"
"\n"
"Sets up an instance: writes the configuration file, creates the database\n"
"(DIR/jwtgate.db) and the key folder (DIR/keys, mode 0700) with two signing\n"
"keys (ID tokens: RS256, which OpenID Connect requires; access tokens:\n"
"ES256; unless --id-token-alg or --access-token-alg say otherwise), and\n"
"writes .well-known/openid-configuration and\n"
".well-known/jwks.json into the document root (DIR/htdocs).  Prints where\n"
"everything is.\n"
"\n"
"Where the configuration goes: FILE with --config; DIR/jwtgate.conf with\n"
"--dir; otherwise $JWTGATE_CONF, or " SYSCONFDIR "/jwtgate.conf when it is\n"
"not set.  DIR defaults to the folder of the configuration file, or to\n"
SYSCONFDIR "/jwtgate when neither --config, --dir nor $JWTGATE_CONF is given.\n"
"\n"
"options:\n"
"  --issuer URL   the issuer identifier: an https URL without query or\n"
"                 fragment (http only for localhost, 127.0.0.1, [::1])\n"
"  --dir DIR      folder of the database, keys and document root\n"
"  --htdocs DIR   the web server's document root, instead of DIR/htdocs\n"
"  --config FILE  the configuration file to write\n"
"  --access-token-alg ALG\n"
"                 sign access tokens with ALG instead of ES256 (written to\n"
"                 the configuration as access_token_alg)\n"
"  --id-token-alg ALG\n"
"                 sign ID tokens with ALG instead of RS256 (id_token_alg)\n"
"                 ALG: RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384\n"
"                 ES512 EdDSA\n"
"  --force        rewrite an existing configuration file from the template\n"
"                 (edits to it are lost); the database and keys are kept,\n"
"                 missing ones are made: running init again is safe\n"
"  --help         print this help\n"
"\n"
"exit status: 0 done, 1 refused or failed (the configuration file exists,\n"
"bad issuer URL, I/O error; nothing is left half-written), 2 usage error.\n";

enum {
	OPT_ISSUER = JG_OPT_CONFIG + 1,
	OPT_DIR,
	OPT_HTDOCS,
	OPT_FORCE,
	OPT_ACCESS_ALG,
	OPT_ID_ALG
};

static const struct option init_options[] = {
	{ "issuer", required_argument, NULL, OPT_ISSUER },
	{ "dir", required_argument, NULL, OPT_DIR },
	{ "htdocs", required_argument, NULL, OPT_HTDOCS },
	{ "config", required_argument, NULL, JG_OPT_CONFIG },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "access-token-alg", required_argument, NULL, OPT_ACCESS_ALG },
	{ "id-token-alg", required_argument, NULL, OPT_ID_ALG },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/* Returns path made absolute (from the working folder) without trailing
 * slashes, or NULL when it is empty or holds control characters. */
static char *
absolute_path(const char *path)
{
	char *cwd, *abs;
	size_t len;

	if (path[0] == '\0' || !jg_admin_text_valid(path, false))
		return NULL;
	if (path[0] == '/') {
		abs = jg_xstrdup(path);
	} else {
		cwd = getcwd(NULL, 0);
		if (cwd == NULL)
			return NULL;
		abs = jg_xasprintf("%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd, path);
		free(cwd);
	}
	len = strlen(abs);
	while (len > 1 && abs[len - 1] == '/')
		abs[--len] = '\0';
	return abs;
}

static char *
folder_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL || slash == path)
		return jg_xstrdup("/");
	return jg_xstrndup(path, (size_t)(slash - path));
}

/* mkdir -p with mode for the folders it creates. */
static int
make_folders(const char *path, mode_t mode)
{
	char *copy = jg_xstrdup(path), *p, c;
	struct stat st;
	int rc = 0;

	for (p = copy + 1; rc == 0; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		c = *p;
		*p = '\0';
		if (mkdir(copy, mode) != 0 && errno != EEXIST)
			rc = -1;
		*p = c;
		if (c == '\0')
			break;
	}
	if (rc == 0) {
		if (stat(path, &st) != 0) {
			rc = -1;
		} else if (!S_ISDIR(st.st_mode)) {
			errno = ENOTDIR;
			rc = -1;
		}
	}
	free(copy);
	return rc;
}

/* Writes "key = value" as the configuration loader reads it back. */
static char *
setting_line(const char *key, const char *value)
{
	size_t len = strlen(value), i;
	char *line, *p;

	if (len > 0 && value[0] != ' ' && value[0] != '\t' && value[0] != '"' &&
	    value[len - 1] != ' ' && value[len - 1] != '\t')
		return jg_xasprintf("%s = %s\n", key, value);
	line = jg_xmalloc(strlen(key) + 2 * len + 8);
	p = line + sprintf(line, "%s = \"", key);
	for (i = 0; i < len; i++) {
		if (value[i] == '"' || value[i] == '\\')
			*p++ = '\\';
		*p++ = value[i];
	}
	strcpy(p, "\"\n");
	return line;
}

/* Replaces the whole line old (with its newline) in *text by new. */
static bool
replace_line(char **text, const char *old, const char *new)
{
	char *at = *text, *result;
	size_t n = strlen(old);

	for (;;) {
		at = strstr(at, old);
		if (at == NULL)
			return false;
		if (at == *text || at[-1] == '\n')
			break;
		at++;
	}
	result = jg_xasprintf("%.*s%s%s", (int)(at - *text), *text, new, at + n);
	free(*text);
	*text = result;
	return true;
}

/* Returns the configuration text for init (caller frees), or NULL when
 * the template refuses issuer. */
static char *
config_text(const char *issuer, const char *dir, const char *htdocs)
{
	char *text = NULL, *old, *new;
	size_t size = 0;
	enum jg_err err;
	FILE *f;

	f = open_memstream(&text, &size);
	if (f == NULL)
		return NULL;
	err = jg_config_write_template(f, issuer, dir);
	if (fclose(f) != 0 || err != JG_OK) {
		free(text);
		return NULL;
	}
	if (htdocs == NULL)
		return text;
	/* The template knows only DIR/htdocs: put the document root the user
	 * named in its place, and in the commented default of templates. */
	old = jg_xasprintf("htdocs = %s/htdocs\n", strcmp(dir, "/") == 0 ? "" : dir);
	new = setting_line("htdocs", htdocs);
	if (!replace_line(&text, old, new)) {
		free(text);
		text = NULL;
	}
	free(old);
	free(new);
	if (text != NULL) {
		old = jg_xasprintf("#templates = %s/htdocs\n", strcmp(dir, "/") == 0 ? "" : dir);
		new = setting_line("#templates", htdocs);
		(void)replace_line(&text, old, new);
		free(old);
		free(new);
	}
	return text;
}

int
jg_cmd_init(int argc, char **argv)
{
	const char *issuer = NULL, *dir_arg = NULL, *htdocs_arg = NULL;
	const char *config_arg = NULL, *env, *algs[2] = { NULL, NULL };
	char *conf = NULL, *dir = NULL, *htdocs = NULL, *text = NULL, *tmp = NULL;
	char *errmsg = NULL, *folder;
	struct jg_config *config = NULL;
	struct jg_keyring *ring = NULL;
	struct jg_store *store = NULL;
	bool force = false, tmp_written = false;
	enum jg_err err;
	struct stat st;
	unsigned p;
	size_t i;
	int c, lock_fd = -1, status = JG_EXIT_REJECTED;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", init_options, NULL)) != -1) {
		switch (c) {
		case 'h':
			return jg_cli_help(init_usage);
		case OPT_ISSUER:
			issuer = optarg;
			break;
		case OPT_DIR:
			dir_arg = optarg;
			break;
		case OPT_HTDOCS:
			htdocs_arg = optarg;
			break;
		case JG_OPT_CONFIG:
			config_arg = optarg;
			break;
		case OPT_FORCE:
			force = true;
			break;
		case OPT_ACCESS_ALG:
		case OPT_ID_ALG:
			if (!jg_keyring_alg_supported(jg_alg_from_name(optarg)))
				return jg_cli_usage_error("init", "unsupported algorithm"
					" '%s' (want RS*, PS*, ES* or EdDSA)", optarg);
			algs[c == OPT_ID_ALG] = optarg;
			break;
		default:
			return jg_cli_option_error("init", c, argv);
		}
	}
	if (optind < argc)
		return jg_cli_usage_error("init", "unexpected argument '%s'", argv[optind]);
	if (issuer == NULL)
		return jg_cli_usage_error("init", "--issuer is required");

	/* Where things go (see the help text). */
	env = getenv("JWTGATE_CONF");
	if (config_arg != NULL) {
		conf = absolute_path(config_arg);
		if (conf != NULL)
			dir = dir_arg ? absolute_path(dir_arg) : folder_of(conf);
	} else if (dir_arg != NULL) {
		dir = absolute_path(dir_arg);
		if (dir != NULL)
			conf = jg_xasprintf("%s/jwtgate.conf",
					    strcmp(dir, "/") == 0 ? "" : dir);
	} else if (env != NULL && env[0] != '\0') {
		conf = absolute_path(env);
		if (conf != NULL)
			dir = folder_of(conf);
	} else {
		/* Where every program looks when JWTGATE_CONF is not set. */
		conf = jg_xstrdup(SYSCONFDIR "/jwtgate.conf");
		dir = jg_xstrdup(SYSCONFDIR "/jwtgate");
	}
	if (conf == NULL || dir == NULL) {
		jg_cli_error("bad path for the configuration file or --dir");
		goto out;
	}
	if (htdocs_arg != NULL && (htdocs = absolute_path(htdocs_arg)) == NULL) {
		jg_cli_error("bad --htdocs path");
		goto out;
	}

	if (lstat(conf, &st) == 0 && !force) {
		jg_cli_error("%s exists; use --force to rewrite it (the database and"
			     " keys are kept)", conf);
		goto out;
	}
	text = config_text(issuer, dir, htdocs);
	if (text == NULL) {
		jg_cli_error("bad issuer URL '%s': want an https URL without query or"
			     " fragment (http only for localhost, 127.0.0.1, [::1])",
			     issuer);
		goto out;
	}
	/* The template has each algorithm as a commented default. */
	for (i = 0; i < 2; i++) {
		static const char *const alg_keys[2] = { "access_token_alg", "id_token_alg" };
		char *old, *new;
		bool replaced;

		if (algs[i] == NULL)
			continue;
		old = jg_xasprintf("#%s = %s\n", alg_keys[i], i ? "RS256" : "ES256");
		new = setting_line(alg_keys[i], algs[i]);
		replaced = replace_line(&text, old, new);
		free(old);
		free(new);
		if (!replaced) {
			jg_cli_error("the configuration template has no %s line", alg_keys[i]);
			goto out;
		}
	}

	/* The configuration is written under a temporary name first and
	 * renamed into place last, so a failed init leaves no configuration
	 * behind and can simply be run again. */
	folder = folder_of(conf);
	if (make_folders(folder, 0755) != 0 || make_folders(dir, 0755) != 0) {
		jg_cli_error("cannot create %s: %s",
			     access(folder, F_OK) == 0 ? dir : folder, strerror(errno));
		free(folder);
		goto out;
	}
	free(folder);
	tmp = jg_xasprintf("%s.init-%ld", conf, (long)getpid());
	if (jg_write_file_atomic(tmp, text, strlen(text), 0644) != JG_OK) {
		jg_cli_error("cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	tmp_written = true;
	err = jg_config_load(tmp, &config, &errmsg);
	if (err != JG_OK) {
		jg_cli_error("%s", errmsg ? errmsg : jg_strerror(err));
		goto out;
	}

	err = jg_store_open(config->database, config->busy_timeout_ms, &store, &errmsg);
	if (err != JG_OK) {
		if (err == JG_ERR_BUSY)
			jg_cli_error("database busy, try again");
		else
			jg_cli_error("cannot create the database: %s",
				     errmsg ? errmsg : jg_strerror(err));
		goto out;
	}
	if (make_folders(config->htdocs, 0755) != 0) {
		jg_cli_error("cannot create %s: %s", config->htdocs, strerror(errno));
		goto out;
	}
	if (jg_admin_keyring_open(config, &ring, &lock_fd) != JG_EXIT_OK)
		goto out;
	for (p = 0; p < JG_KEY_PURPOSE_COUNT; p++) {
		enum jg_key_purpose purpose = (enum jg_key_purpose)p;

		if (jg_keyring_current(ring, purpose) != NULL)
			continue;
		err = jg_keyring_rotate(ring, purpose, JG_ALG_UNKNOWN,
					purpose == JG_KEY_ID ? config->id_token_alg :
					config->access_token_alg,
					jg_admin_now(), NULL, &errmsg);
		if (err != JG_OK) {
			jg_cli_error("%s", errmsg ? errmsg : jg_strerror(err));
			goto out;
		}
	}
	err = jg_keyring_publish(config, ring, &errmsg);
	if (err != JG_OK) {
		jg_cli_error("%s", errmsg ? errmsg : jg_strerror(err));
		goto out;
	}
	if (rename(tmp, conf) != 0) {
		jg_cli_error("cannot write %s: %s", conf, strerror(errno));
		goto out;
	}
	tmp_written = false;

	printf("configuration  %s\n", conf);
	printf("issuer         %s\n", config->issuer);
	printf("database       %s\n", config->database);
	printf("keys           %s\n", config->key_dir);
	for (i = 0; i < ring->count; i++)
		if (ring->keys[i].state == JG_KEY_CURRENT)
			printf("  %-6s %-6s %s\n", jg_key_purpose_name(ring->keys[i].purpose),
			       jg_alg_name(ring->keys[i].alg), ring->keys[i].kid);
	printf("discovery      %s/.well-known/openid-configuration\n", config->htdocs);
	printf("jwks           %s/.well-known/jwks.json\n", config->htdocs);
	if (strcmp(conf, jg_config_path()) != 0)
		printf("\nSet JWTGATE_CONF=%s for the programs and for later jwtgate"
		       " commands\n(or give jwtgate --config %s).\n", conf, conf);
	status = JG_EXIT_OK;
out:
	if (tmp_written)
		unlink(tmp);
	jg_admin_keyring_close(ring, lock_fd);
	jg_store_close(store);
	jg_config_free(config);
	free(errmsg);
	free(tmp);
	free(text);
	free(htdocs);
	free(dir);
	free(conf);
	return status;
}
