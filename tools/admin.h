/* admin.h: the instance commands of jwtgate (init, user, client, and the
 * keyring forms of key) and the helpers they share (tools/cmd_admin.c). */
#ifndef JG_ADMIN_H
#define JG_ADMIN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "cli.h"
#include "conf.h"
#include "keyring.h"
#include "store.h"

/* Top-level commands. */
int jg_cmd_init(int argc, char **argv);		/* tools/cmd_admin.c */
int jg_cmd_user(int argc, char **argv);		/* tools/cmd_user.c */
int jg_cmd_client(int argc, char **argv);	/* tools/cmd_client.c */

/* Subcommands of "key" that work on the instance's keyring
 * (tools/cmd_keyring.c).  jg_cmd_key_generate_instance is "key generate"
 * without --out. */
int jg_cmd_key_generate_instance(int argc, char **argv);
int jg_cmd_key_rotate(int argc, char **argv);
int jg_cmd_key_list(int argc, char **argv);
int jg_cmd_key_retire(int argc, char **argv);
int jg_cmd_key_publish(int argc, char **argv);

/* The value getopt_long returns for --config FILE in every instance
 * command; option values of the commands start above it. */
#define JG_OPT_CONFIG 1000

/* An open instance: its configuration and, when asked for, its store. */
struct jg_admin {
	struct jg_config *config;
	struct jg_store *store;
};

/* Loads the configuration from config_path, or when it is NULL from
 * jg_config_path() ($JWTGATE_CONF, which "jwtgate --config FILE" sets),
 * and opens the store when with_store.  On failure prints one
 * "jwtgate: ..." line (the loader's message as it is) and returns
 * JG_EXIT_REJECTED; a->config and a->store are then NULL.  Returns
 * JG_EXIT_OK on success; close with jg_admin_close. */
int jg_admin_open(const char *config_path, bool with_store, struct jg_admin *a);

/* Closes what jg_admin_open opened.  Accepts a zeroed struct. */
void jg_admin_close(struct jg_admin *a);

/* Prints the message for a failed store call (what names the action, such
 * as "cannot add user alice"): "database busy, try again" for
 * JG_ERR_BUSY, otherwise what and the store's message.  Returns
 * JG_EXIT_REJECTED. */
int jg_admin_store_error(struct jg_store *st, enum jg_err err, const char *what);

/* Locks and loads the keyring of config (an empty ring when the key folder
 * has no index yet, creating the folder, mode 0700, when it is missing).
 * On success *ring is new and *lock_fd held (release both with
 * jg_admin_keyring_close) and JG_EXIT_OK is returned; otherwise a message
 * is printed and JG_EXIT_REJECTED returned. */
int jg_admin_keyring_open(const struct jg_config *config, struct jg_keyring **ring,
			  int *lock_fd);
void jg_admin_keyring_close(struct jg_keyring *ring, int lock_fd);

/* The current time, seconds since the epoch. */
int64_t jg_admin_now(void);

/* Writes t as "YYYY-MM-DDTHH:MM:SSZ" (UTC) into buf of size bytes and
 * returns buf. */
char *jg_admin_time(int64_t t, char *buf, size_t size);

/* Returns true when argv[1..argc-1] holds the long option --name or
 * --name=VALUE before a "--". */
bool jg_admin_has_option(int argc, char **argv, const char *name);

/* Returns true when a command has an instance to work on: argv holds
 * --config, or $JWTGATE_CONF is set, or the default configuration file
 * (jg_config_path) exists. */
bool jg_admin_instance_named(int argc, char **argv);

/* Returns true when s (len bytes) is valid UTF-8 without control
 * characters (bytes below 0x20 and 0x7f), except "\n" when allow_newline. */
bool jg_admin_text_valid(const char *s, bool allow_newline);

/* Reads one line (the newline, and a "\r" before it, removed) of at most
 * max bytes from fd into a new string *out (caller frees with
 * jg_free_secret).  Returns JG_OK; JG_ERR_NOT_FOUND at end of input before
 * any byte; JG_ERR_MALFORMED for a longer line or a NUL byte in it (the
 * line is read to its end anyway); JG_ERR_SYSTEM on a read error. */
enum jg_err jg_admin_read_line(int fd, size_t max, char **out);

/* Gets a new password for user name: with from_stdin, one line of standard
 * input; otherwise asked twice on the terminal (/dev/tty) without echo,
 * and both must match.  Refuses an empty password and one longer than
 * JG_PASSWORD_MAX bytes.  On success *out is new (caller frees with
 * jg_free_secret) and JG_EXIT_OK returned; otherwise a message is printed
 * and JG_EXIT_REJECTED returned. */
int jg_admin_get_password(const char *name, bool from_stdin, char **out);

#endif
