/* test_store.c: unit tests of the SQLite store against temporary databases,
 * including a busy database, a failed migration and multi-process races. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <sqlite3.h>

#include "store.h"
#include "testutil.h"

/* A fixed "now" (2023-11-14T22:13:20Z); every time in the tests is relative. */
#define T0 INT64_C(1700000000)

/* Processes racing for one code or one refresh token (the issue asks for
 * at least 50), and processes opening one new database at once. */
#define RACERS 50
#define OPENERS 20

static char tmpdir[] = "/tmp/jg-test-store-XXXXXX";
static unsigned db_counter;

/* ---------------------------------------------------------------- helpers */

/* Returns a new path (caller frees) of a database file that does not exist. */
static char *
new_path(void)
{
	return jg_xasprintf("%s/db%u.sqlite", tmpdir, ++db_counter);
}

/* Opens a new store at a new path; the test stops when it cannot. */
static struct jg_store *
open_new(char **path_out)
{
	struct jg_store *st = NULL;
	char *path = new_path(), *msg = NULL;
	enum jg_err err;

	err = jg_store_open(path, 2000, &st, &msg);
	if (err != JG_OK)
		fprintf(stderr, "open %s: %s\n", path, msg ? msg : "?");
	free(msg);
	CU_ASSERT_FATAL(err == JG_OK && st != NULL);
	if (path_out)
		*path_out = path;
	else
		free(path);
	return st;
}

/* Runs one SQL query through a separate connection and returns the first
 * column of its first row as new text (caller frees), or NULL when there is
 * no row. */
static char *
raw_text(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	char *v = NULL;

	CU_ASSERT_FATAL(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK);
	CU_ASSERT_FATAL(sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
		v = jg_xstrdup((const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

/* As raw_text, as an integer; -1 when there is no row. */
static long long
raw_int(const char *path, const char *sql)
{
	char *t = raw_text(path, sql);
	long long v = t ? strtoll(t, NULL, 10) : -1;

	free(t);
	return v;
}

static long long
raw_user_version(const char *path)
{
	return raw_int(path, "PRAGMA user_version");
}

/* 1 when table name exists, 0 when not. */
static long long
raw_table_exists(const char *path, const char *name)
{
	char *sql = jg_xasprintf("SELECT count(*) FROM sqlite_master WHERE type = 'table'"
				 " AND name = '%s'", name);
	long long v = raw_int(path, sql);

	free(sql);
	return v;
}

static char alice_sub[] = "sub-alice";
static char bob_sub[] = "sub-bob";

static struct jg_user
user_alice(void)
{
	struct jg_user u = {
		.sub = alice_sub,
		.username = "alice",
		.password_hash = "$y$j9T$abcdefghijklmnop$0123456789",
		.name = "Alice Liddell",
		.given_name = "Alice",
		.family_name = "Liddell",
		.email = "alice@example.org",
		.email_verified = true,
		.phone_number = "+1 555 0100",
		.address = "1 Rabbit Hole\nWonderland",
	};
	return u;
}

static char *app_redirects[] = { "https://z.example/cb", "https://a.example/cb" };
static char *app_logout[] = { "https://z.example/bye" };
static char *spa_redirects[] = { "http://127.0.0.1:8080/cb" };

static struct jg_client
client_app(void)
{
	struct jg_client c = {
		.client_id = "app",
		.secret_hash = "$y$j9T$secretsecret$abcdef",
		.name = "Example app",
		.redirect_uris = app_redirects,
		.n_redirect_uris = 2,
		.post_logout_uris = app_logout,
		.n_post_logout_uris = 1,
		.grant_types = "authorization_code refresh_token",
		.scopes = "openid profile email offline_access",
		.first_party = true,
		.access_token_lifetime = 300,
		.refresh_idle_lifetime = 3600,
		.refresh_absolute_lifetime = 86400,
		.id_token_alg = "ES256",
	};
	return c;
}

static struct jg_client
client_spa(void)
{
	struct jg_client c = {
		.client_id = "spa",
		.redirect_uris = spa_redirects,
		.n_redirect_uris = 1,
		.grant_types = "authorization_code",
		.scopes = "openid",
	};
	return c;
}

/* Adds users alice and bob and clients app and spa. */
static void
seed(struct jg_store *st)
{
	struct jg_user alice = user_alice();
	struct jg_user bob = { .sub = bob_sub, .username = "bob",
			       .password_hash = "$2y$10$bobbobbobbobbobbobbobu" };
	struct jg_client app = client_app(), spa = client_spa();

	CU_ASSERT_FATAL(jg_store_user_add(st, &alice, T0 - 1000) == JG_OK);
	CU_ASSERT_FATAL(jg_store_user_add(st, &bob, T0 - 999) == JG_OK);
	CU_ASSERT_FATAL(jg_store_client_add(st, &app, T0 - 998) == JG_OK);
	CU_ASSERT_FATAL(jg_store_client_add(st, &spa, T0 - 997) == JG_OK);
}

/* A code for alice at app, valid from T0 for 60 s. */
static struct jg_code
code_for_alice(void)
{
	struct jg_code c = {
		.client_id = "app",
		.redirect_uri = "https://a.example/cb",
		.sub = alice_sub,
		.scope = "openid profile",
		.nonce = "n-0S6_WzA2Mj",
		.code_challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		.code_challenge_method = "S256",
		.session_id = "sid-1",
		.auth_time = T0 - 5,
		.created = T0,
		.expires = T0 + 60,
	};
	return c;
}

static double
seconds_since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) +
		(double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* A string of n copies of c (caller frees). */
static char *
repeat(char c, size_t n)
{
	char *s = jg_xmalloc(n + 1);

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* ---------------------------------------------------------------- open, migrations */

static void
test_open_schema(void)
{
	struct jg_store *st;
	struct jg_user *u = NULL;
	struct jg_user alice = user_alice();
	struct stat sb;
	char *path, *text, sentinel, *msg = &sentinel;

	st = open_new(&path);
	CU_ASSERT_EQUAL(jg_store_schema_version(st), JG_STORE_SCHEMA_VERSION);
	CU_ASSERT_EQUAL(jg_store_user_add(st, &alice, T0), JG_OK);
	jg_store_close(st);

	/* The file is private: it holds password hashes. */
	CU_ASSERT_FATAL(stat(path, &sb) == 0);
	CU_ASSERT_EQUAL(sb.st_mode & 077, 0);
	CU_ASSERT_EQUAL(raw_user_version(path), JG_STORE_SCHEMA_VERSION);
	text = raw_text(path, "PRAGMA journal_mode");
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_STRING_EQUAL(text, "wal");
	free(text);

	/* Reopening an existing database keeps the data and migrates nothing. */
	st = NULL;
	CU_ASSERT_EQUAL_FATAL(jg_store_open(path, 2000, &st, &msg), JG_OK);
	CU_ASSERT_PTR_NULL(msg);
	CU_ASSERT_EQUAL(jg_store_schema_version(st), JG_STORE_SCHEMA_VERSION);
	CU_ASSERT_EQUAL_FATAL(jg_store_user_get(st, "alice", &u), JG_OK);
	CU_ASSERT_STRING_EQUAL(u->sub, "sub-alice");
	CU_ASSERT_EQUAL(u->created, T0);
	jg_user_free(u);
	jg_store_close(st);
	jg_store_close(NULL);
	free(path);
}

static void
test_open_errors(void)
{
	struct jg_store *st = NULL;
	char *path, *msg = NULL;
	sqlite3 *db;

	/* A folder that does not exist. */
	CU_ASSERT_EQUAL(jg_store_open("/nonexistent-jg-dir/x.sqlite", 100, &st, &msg),
			JG_ERR_SYSTEM);
	CU_ASSERT_PTR_NULL(st);
	CU_ASSERT_PTR_NOT_NULL(msg);
	CU_ASSERT_PTR_NOT_NULL(msg ? strstr(msg, "/nonexistent-jg-dir/x.sqlite") : NULL);
	free(msg);
	msg = NULL;

	/* Bad arguments. */
	CU_ASSERT_EQUAL(jg_store_open(NULL, 100, &st, &msg), JG_ERR_MALFORMED);
	CU_ASSERT_PTR_NOT_NULL(msg);
	free(msg);
	CU_ASSERT_EQUAL(jg_store_open("", 100, &st, NULL), JG_ERR_MALFORMED);
	CU_ASSERT_PTR_NULL(st);

	/* A database written by a newer program is left alone. */
	path = new_path();
	CU_ASSERT_FATAL(sqlite3_open(path, &db) == SQLITE_OK);
	CU_ASSERT_FATAL(sqlite3_exec(db, "CREATE TABLE x (y); PRAGMA user_version = 99",
				     NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	msg = NULL;
	CU_ASSERT_EQUAL(jg_store_open(path, 100, &st, &msg), JG_ERR_SYSTEM);
	CU_ASSERT_PTR_NULL(st);
	CU_ASSERT_PTR_NOT_NULL(msg ? strstr(msg, "newer") : NULL);
	free(msg);
	CU_ASSERT_EQUAL(raw_user_version(path), 99);
	CU_ASSERT_EQUAL(raw_table_exists(path, "users"), 0);
	free(path);
}

static const char *const steps_good[] = {
	"CREATE TABLE a (x INTEGER);",
	"CREATE TABLE b (y INTEGER); INSERT INTO a VALUES (2);",
};
static const char *const steps_bad_second[] = {
	"CREATE TABLE a (x INTEGER);",
	/* The first statement succeeds, the second fails: both must go. */
	"CREATE TABLE b (y INTEGER); INSERT INTO missing VALUES (1);",
};
static const char *const steps_bad_first[] = {
	"CREATE TABLE a (x INTEGER); CREATE TABLE a (x INTEGER);",
};

static void
test_migration_failure(void)
{
	struct jg_store *st = NULL;
	char *path = new_path(), *msg = NULL;
	sqlite3 *db;

	/* Step 1 applies, step 2 fails and is rolled back entirely. */
	CU_ASSERT_EQUAL(jg_store_open_with_migrations(path, 100, steps_bad_second, 2,
						      &st, &msg), JG_ERR_SYSTEM);
	CU_ASSERT_PTR_NULL(st);
	CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "schema version 2"));
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "no such table: missing"));
	free(msg);
	msg = NULL;
	CU_ASSERT_EQUAL(raw_user_version(path), 1);
	CU_ASSERT_EQUAL(raw_table_exists(path, "a"), 1);
	CU_ASSERT_EQUAL(raw_table_exists(path, "b"), 0);

	/* The database is still usable at version 1. */
	CU_ASSERT_EQUAL_FATAL(jg_store_open_with_migrations(path, 100, steps_good, 1,
							    &st, &msg), JG_OK);
	CU_ASSERT_PTR_NULL(msg);
	CU_ASSERT_EQUAL(jg_store_schema_version(st), 1);
	jg_store_close(st);
	st = NULL;
	CU_ASSERT_FATAL(sqlite3_open(path, &db) == SQLITE_OK);
	CU_ASSERT_EQUAL(sqlite3_exec(db, "INSERT INTO a VALUES (1)", NULL, NULL, NULL),
			SQLITE_OK);
	sqlite3_close(db);

	/* The fixed step 2 applies on top. */
	CU_ASSERT_EQUAL_FATAL(jg_store_open_with_migrations(path, 100, steps_good, 2,
							    &st, &msg), JG_OK);
	CU_ASSERT_EQUAL(jg_store_schema_version(st), 2);
	jg_store_close(st);
	st = NULL;
	CU_ASSERT_EQUAL(raw_table_exists(path, "b"), 1);
	CU_ASSERT_EQUAL(raw_int(path, "SELECT group_concat(x, '') FROM (SELECT x FROM a ORDER BY x)"),
			12);

	/* Going back to a program that knows only step 1 is refused. */
	CU_ASSERT_EQUAL(jg_store_open_with_migrations(path, 100, steps_good, 1,
						      &st, &msg), JG_ERR_SYSTEM);
	CU_ASSERT_PTR_NOT_NULL(msg ? strstr(msg, "newer") : NULL);
	free(msg);
	msg = NULL;
	CU_ASSERT_EQUAL(raw_user_version(path), 2);
	free(path);

	/* A failing first step on a new database leaves version 0, no table. */
	path = new_path();
	CU_ASSERT_EQUAL(jg_store_open_with_migrations(path, 100, steps_bad_first, 1,
						      &st, &msg), JG_ERR_SYSTEM);
	CU_ASSERT_PTR_NOT_NULL(msg ? strstr(msg, "already exists") : NULL);
	free(msg);
	CU_ASSERT_EQUAL(raw_user_version(path), 0);
	CU_ASSERT_EQUAL(raw_table_exists(path, "a"), 0);
	free(path);
}

static void
test_random_token(void)
{
	/* base64url without padding: 16 bytes -> 22 characters (RFC 4648 s. 5). */
	static const struct {
		size_t bytes;
		size_t chars;	/* 0: refused */
	} cases[] = {
		{ 0, 0 }, { 15, 0 }, { 16, 22 }, { 32, 43 }, { 33, 44 },
		{ 256, 342 }, { 257, 0 }, { SIZE_MAX, 0 },
	};
	char *a, *b;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		a = jg_random_token(cases[i].bytes);
		if (cases[i].chars == 0) {
			CU_ASSERT_PTR_NULL(a);
			continue;
		}
		CU_ASSERT_PTR_NOT_NULL_FATAL(a);
		CU_ASSERT_EQUAL(strlen(a), cases[i].chars);
		CU_ASSERT_EQUAL(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				       "0123456789-_"), cases[i].chars);
		jg_free_secret(a);
	}
	a = jg_random_token(16);
	b = jg_random_token(16);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_STRING_NOT_EQUAL(a, b);
	jg_free_secret(a);
	jg_free_secret(b);
}

/* ---------------------------------------------------------------- users */

static void
test_users(void)
{
	struct jg_store *st = open_new(NULL);
	struct jg_user alice = user_alice(), v, *u = NULL, **list = NULL;
	char *longname = repeat('x', JG_STORE_NAME_MAX + 1);
	size_t n = 99;

	CU_ASSERT_EQUAL(jg_store_user_list(st, &list, &n), JG_OK);
	CU_ASSERT_EQUAL(n, 0);
	jg_user_list_free(list, n);

	CU_ASSERT_EQUAL(jg_store_user_add(st, &alice, T0), JG_OK);

	/* Invalid and duplicate additions. */
	v = alice;
	v.sub = NULL;
	CU_ASSERT_EQUAL(jg_store_user_add(st, &v, T0), JG_ERR_MALFORMED);
	v = alice;
	v.username = "";
	CU_ASSERT_EQUAL(jg_store_user_add(st, &v, T0), JG_ERR_MALFORMED);
	v = alice;
	v.username = longname;
	CU_ASSERT_EQUAL(jg_store_user_add(st, &v, T0), JG_ERR_MALFORMED);
	v = alice;
	v.password_hash = NULL;
	CU_ASSERT_EQUAL(jg_store_user_add(st, &v, T0), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_store_user_add(st, NULL, T0), JG_ERR_MALFORMED);
	v = alice;
	v.sub = "sub-other";
	CU_ASSERT_EQUAL(jg_store_user_add(st, &v, T0), JG_ERR_EXISTS);
	CU_ASSERT_STRING_EQUAL(jg_store_errmsg(st), "UNIQUE constraint failed: users.username");
	v = alice;
	v.username = "alice2";
	CU_ASSERT_EQUAL(jg_store_user_add(st, &v, T0), JG_ERR_EXISTS);
	/* Usernames are case-sensitive, as in htpasswd. */
	v = alice;
	v.username = "Alice";
	v.sub = "sub-Alice";
	v.name = NULL;
	v.email_verified = false;
	v.disabled = true;
	CU_ASSERT_EQUAL(jg_store_user_add(st, &v, T0 + 1), JG_OK);

	/* Exact read-back. */
	CU_ASSERT_EQUAL_FATAL(jg_store_user_get(st, "alice", &u), JG_OK);
	CU_ASSERT(u->id > 0);
	CU_ASSERT_STRING_EQUAL(u->sub, "sub-alice");
	CU_ASSERT_STRING_EQUAL(u->username, "alice");
	CU_ASSERT_STRING_EQUAL(u->password_hash, alice.password_hash);
	CU_ASSERT_STRING_EQUAL(u->name, "Alice Liddell");
	CU_ASSERT_STRING_EQUAL(u->given_name, "Alice");
	CU_ASSERT_STRING_EQUAL(u->family_name, "Liddell");
	CU_ASSERT_STRING_EQUAL(u->email, "alice@example.org");
	CU_ASSERT_EQUAL(u->email_verified, true);
	CU_ASSERT_STRING_EQUAL(u->phone_number, "+1 555 0100");
	CU_ASSERT_STRING_EQUAL(u->address, "1 Rabbit Hole\nWonderland");
	CU_ASSERT_EQUAL(u->disabled, false);
	CU_ASSERT_EQUAL(u->created, T0);
	jg_user_free(u);
	u = NULL;

	CU_ASSERT_EQUAL_FATAL(jg_store_user_get_by_sub(st, "sub-Alice", &u), JG_OK);
	CU_ASSERT_STRING_EQUAL(u->username, "Alice");
	CU_ASSERT_PTR_NULL(u->name);
	CU_ASSERT_EQUAL(u->email_verified, false);
	CU_ASSERT_EQUAL(u->disabled, true);
	CU_ASSERT_EQUAL(u->created, T0 + 1);
	jg_user_free(u);
	u = NULL;

	CU_ASSERT_EQUAL(jg_store_user_get(st, "ALICE", &u), JG_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(jg_store_user_get(st, "nobody", &u), JG_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(jg_store_user_get_by_sub(st, "alice", &u), JG_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(jg_store_user_get(st, "", &u), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_store_user_get(st, NULL, &u), JG_ERR_MALFORMED);
	CU_ASSERT_PTR_NULL(u);

	/* Profile update replaces every profile claim, NULL clears. */
	v = alice;
	v.name = "Alice P. Liddell";
	v.given_name = NULL;
	v.email = "a@example.net";
	v.email_verified = false;
	v.password_hash = "ignored";
	CU_ASSERT_EQUAL(jg_store_user_update_profile(st, &v), JG_OK);
	CU_ASSERT_EQUAL_FATAL(jg_store_user_get(st, "alice", &u), JG_OK);
	CU_ASSERT_STRING_EQUAL(u->name, "Alice P. Liddell");
	CU_ASSERT_PTR_NULL(u->given_name);
	CU_ASSERT_STRING_EQUAL(u->family_name, "Liddell");
	CU_ASSERT_STRING_EQUAL(u->email, "a@example.net");
	CU_ASSERT_EQUAL(u->email_verified, false);
	CU_ASSERT_STRING_EQUAL(u->password_hash, alice.password_hash);
	jg_user_free(u);
	u = NULL;
	v.username = "nobody";
	CU_ASSERT_EQUAL(jg_store_user_update_profile(st, &v), JG_ERR_NOT_FOUND);

	/* Password and disabled flag. */
	CU_ASSERT_EQUAL(jg_store_user_set_password(st, "alice", "$y$new$hash"), JG_OK);
	CU_ASSERT_EQUAL(jg_store_user_set_password(st, "nobody", "$y$new$hash"),
			JG_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(jg_store_user_set_password(st, "alice", ""), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_store_user_set_disabled(st, "alice", true), JG_OK);
	CU_ASSERT_EQUAL(jg_store_user_set_disabled(st, "nobody", true), JG_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL_FATAL(jg_store_user_get(st, "alice", &u), JG_OK);
	CU_ASSERT_STRING_EQUAL(u->password_hash, "$y$new$hash");
	CU_ASSERT_EQUAL(u->disabled, true);
	jg_user_free(u);
	u = NULL;
	CU_ASSERT_EQUAL(jg_store_user_set_disabled(st, "alice", false), JG_OK);
	CU_ASSERT_EQUAL_FATAL(jg_store_user_get(st, "alice", &u), JG_OK);
	CU_ASSERT_EQUAL(u->disabled, false);
	jg_user_free(u);
	u = NULL;

	/* List in username order (binary: upper case first). */
	CU_ASSERT_EQUAL_FATAL(jg_store_user_list(st, &list, &n), JG_OK);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT_STRING_EQUAL(list[0]->username, "Alice");
	CU_ASSERT_STRING_EQUAL(list[1]->username, "alice");
	CU_ASSERT_STRING_EQUAL(list[1]->email, "a@example.net");
	jg_user_list_free(list, n);
	jg_user_list_free(NULL, 0);
	jg_user_free(NULL);

	/* Delete. */
	CU_ASSERT_EQUAL(jg_store_user_delete(st, "Alice"), JG_OK);
	CU_ASSERT_EQUAL(jg_store_user_delete(st, "Alice"), JG_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(jg_store_user_get_by_sub(st, "sub-Alice", &u), JG_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(jg_store_user_get(st, "alice", &u), JG_OK);
	jg_user_free(u);
	free(longname);
	jg_store_close(st);
}

/* ---------------------------------------------------------------- clients */

static void
test_clients(void)
{
	struct jg_store *st = open_new(NULL);
	struct jg_client app = client_app(), spa = client_spa(), v;
	struct jg_client *c = NULL, **list = NULL;
	char *dup_uris[] = { "https://a.example/cb", "https://a.example/cb" };
	char *empty_uri[] = { "" };
	char *null_uri[] = { NULL };
	char *many[JG_STORE_MAX_URIS + 1];
	char *uri_text[JG_STORE_MAX_URIS + 1];
	size_t n = 99, i;

	for (i = 0; i <= JG_STORE_MAX_URIS; i++) {
		uri_text[i] = jg_xasprintf("https://c.example/%zu", i);
		many[i] = uri_text[i];
	}

	CU_ASSERT_EQUAL(jg_store_client_add(st, &app, T0), JG_OK);
	CU_ASSERT_EQUAL(jg_store_client_add(st, &spa, T0 + 1), JG_OK);

	/* Invalid and duplicate registrations; nothing is stored for them. */
	CU_ASSERT_EQUAL(jg_store_client_add(st, &app, T0), JG_ERR_EXISTS);
	v = app;
	v.client_id = "bad";
	v.redirect_uris = dup_uris;
	v.n_redirect_uris = 2;
	CU_ASSERT_EQUAL(jg_store_client_add(st, &v, T0), JG_ERR_MALFORMED);
	v.redirect_uris = empty_uri;
	v.n_redirect_uris = 1;
	CU_ASSERT_EQUAL(jg_store_client_add(st, &v, T0), JG_ERR_MALFORMED);
	v.redirect_uris = null_uri;
	CU_ASSERT_EQUAL(jg_store_client_add(st, &v, T0), JG_ERR_MALFORMED);
	v.redirect_uris = NULL;
	CU_ASSERT_EQUAL(jg_store_client_add(st, &v, T0), JG_ERR_MALFORMED);
	v.redirect_uris = many;
	v.n_redirect_uris = JG_STORE_MAX_URIS + 1;
	CU_ASSERT_EQUAL(jg_store_client_add(st, &v, T0), JG_ERR_MALFORMED);
	v = app;
	v.client_id = "bad";
	v.post_logout_uris = dup_uris;
	v.n_post_logout_uris = 2;
	CU_ASSERT_EQUAL(jg_store_client_add(st, &v, T0), JG_ERR_MALFORMED);
	v = app;
	v.client_id = "bad";
	v.access_token_lifetime = -1;
	CU_ASSERT_EQUAL(jg_store_client_add(st, &v, T0), JG_ERR_MALFORMED);
	v = app;
	v.client_id = "bad";
	v.refresh_absolute_lifetime = -5;
	CU_ASSERT_EQUAL(jg_store_client_add(st, &v, T0), JG_ERR_MALFORMED);
	v = app;
	v.client_id = "bad";
	v.secret_hash = "";
	CU_ASSERT_EQUAL(jg_store_client_add(st, &v, T0), JG_ERR_MALFORMED);
	v = app;
	v.client_id = "bad";
	v.grant_types = NULL;
	CU_ASSERT_EQUAL(jg_store_client_add(st, &v, T0), JG_ERR_MALFORMED);
	v = app;
	v.client_id = "";
	CU_ASSERT_EQUAL(jg_store_client_add(st, &v, T0), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_store_client_get(st, "bad", &c), JG_ERR_NOT_FOUND);

	/* Exactly JG_STORE_MAX_URIS is allowed. */
	v = spa;
	v.client_id = "many";
	v.redirect_uris = many;
	v.n_redirect_uris = JG_STORE_MAX_URIS;
	CU_ASSERT_EQUAL(jg_store_client_add(st, &v, T0 + 2), JG_OK);
	CU_ASSERT_EQUAL_FATAL(jg_store_client_get(st, "many", &c), JG_OK);
	CU_ASSERT_EQUAL_FATAL(c->n_redirect_uris, JG_STORE_MAX_URIS);
	for (i = 0; i < JG_STORE_MAX_URIS; i++)
		CU_ASSERT_STRING_EQUAL(c->redirect_uris[i], uri_text[i]);
	jg_client_free(c);
	c = NULL;

	/* Exact read-back, URIs in registration order. */
	CU_ASSERT_EQUAL_FATAL(jg_store_client_get(st, "app", &c), JG_OK);
	CU_ASSERT_STRING_EQUAL(c->client_id, "app");
	CU_ASSERT_STRING_EQUAL(c->secret_hash, app.secret_hash);
	CU_ASSERT_STRING_EQUAL(c->name, "Example app");
	CU_ASSERT_EQUAL_FATAL(c->n_redirect_uris, 2);
	CU_ASSERT_STRING_EQUAL(c->redirect_uris[0], "https://z.example/cb");
	CU_ASSERT_STRING_EQUAL(c->redirect_uris[1], "https://a.example/cb");
	CU_ASSERT_EQUAL_FATAL(c->n_post_logout_uris, 1);
	CU_ASSERT_STRING_EQUAL(c->post_logout_uris[0], "https://z.example/bye");
	CU_ASSERT_STRING_EQUAL(c->grant_types, "authorization_code refresh_token");
	CU_ASSERT_STRING_EQUAL(c->scopes, "openid profile email offline_access");
	CU_ASSERT_EQUAL(c->first_party, true);
	CU_ASSERT_EQUAL(c->access_token_lifetime, 300);
	CU_ASSERT_EQUAL(c->refresh_idle_lifetime, 3600);
	CU_ASSERT_EQUAL(c->refresh_absolute_lifetime, 86400);
	CU_ASSERT_STRING_EQUAL(c->id_token_alg, "ES256");
	CU_ASSERT_EQUAL(c->created, T0);
	jg_client_free(c);
	c = NULL;

	CU_ASSERT_EQUAL_FATAL(jg_store_client_get(st, "spa", &c), JG_OK);
	CU_ASSERT_PTR_NULL(c->secret_hash);
	CU_ASSERT_PTR_NULL(c->name);
	CU_ASSERT_PTR_NULL(c->id_token_alg);
	CU_ASSERT_EQUAL(c->n_redirect_uris, 1);
	CU_ASSERT_EQUAL(c->n_post_logout_uris, 0);
	CU_ASSERT_PTR_NULL(c->post_logout_uris);
	CU_ASSERT_EQUAL(c->first_party, false);
	CU_ASSERT_EQUAL(c->access_token_lifetime, 0);
	CU_ASSERT_EQUAL(c->created, T0 + 1);
	jg_client_free(c);
	c = NULL;

	CU_ASSERT_EQUAL(jg_store_client_get(st, "APP", &c), JG_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(jg_store_client_get(st, NULL, &c), JG_ERR_MALFORMED);
	CU_ASSERT_PTR_NULL(c);

	/* List in client_id order, with URIs. */
	CU_ASSERT_EQUAL_FATAL(jg_store_client_list(st, &list, &n), JG_OK);
	CU_ASSERT_EQUAL_FATAL(n, 3);
	CU_ASSERT_STRING_EQUAL(list[0]->client_id, "app");
	CU_ASSERT_EQUAL(list[0]->n_redirect_uris, 2);
	CU_ASSERT_EQUAL(list[0]->n_post_logout_uris, 1);
	CU_ASSERT_STRING_EQUAL(list[1]->client_id, "many");
	CU_ASSERT_EQUAL(list[1]->n_redirect_uris, JG_STORE_MAX_URIS);
	CU_ASSERT_STRING_EQUAL(list[2]->client_id, "spa");
	CU_ASSERT_STRING_EQUAL(list[2]->redirect_uris[0], "http://127.0.0.1:8080/cb");
	jg_client_list_free(list, n);
	jg_client_list_free(NULL, 0);
	jg_client_free(NULL);

	/* Delete removes the URIs too: the id can be registered afresh. */
	CU_ASSERT_EQUAL(jg_store_client_delete(st, "app"), JG_OK);
	CU_ASSERT_EQUAL(jg_store_client_delete(st, "app"), JG_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(jg_store_client_get(st, "app", &c), JG_ERR_NOT_FOUND);
	app.n_redirect_uris = 1;
	CU_ASSERT_EQUAL(jg_store_client_add(st, &app, T0 + 5), JG_OK);
	CU_ASSERT_EQUAL_FATAL(jg_store_client_get(st, "app", &c), JG_OK);
	CU_ASSERT_EQUAL(c->n_redirect_uris, 1);
	CU_ASSERT_EQUAL(c->created, T0 + 5);
	jg_client_free(c);

	for (i = 0; i <= JG_STORE_MAX_URIS; i++)
		free(uri_text[i]);
	jg_store_close(st);
}

/* ---------------------------------------------------------------- codes */

static void
test_codes(void)
{
	struct jg_store *st = open_new(NULL);
	struct jg_code c = code_for_alice(), v, *out = NULL;
	struct jg_code_replay rep;
	char *longcode = repeat('c', JG_STORE_SECRET_MAX + 1);
	char *maxcode = repeat('c', JG_STORE_SECRET_MAX);
	int64_t fam = 0;

	seed(st);
	CU_ASSERT_EQUAL(jg_store_code_insert(st, "code-1", &c), JG_OK);

	/* Invalid and duplicate codes. */
	CU_ASSERT_EQUAL(jg_store_code_insert(st, "code-1", &c), JG_ERR_EXISTS);
	CU_ASSERT_EQUAL(jg_store_code_insert(st, "", &c), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_store_code_insert(st, NULL, &c), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_store_code_insert(st, longcode, &c), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_store_code_insert(st, maxcode, &c), JG_OK);
	CU_ASSERT_EQUAL(jg_store_code_insert(st, "code-x", NULL), JG_ERR_MALFORMED);
	v = c;
	v.client_id = "unknown";
	CU_ASSERT_EQUAL(jg_store_code_insert(st, "code-x", &v), JG_ERR_NOT_FOUND);
	v = c;
	v.sub = "sub-unknown";
	CU_ASSERT_EQUAL(jg_store_code_insert(st, "code-x", &v), JG_ERR_NOT_FOUND);
	v = c;
	v.expires = v.created;
	CU_ASSERT_EQUAL(jg_store_code_insert(st, "code-x", &v), JG_ERR_MALFORMED);
	v = c;
	v.redirect_uri = NULL;
	CU_ASSERT_EQUAL(jg_store_code_insert(st, "code-x", &v), JG_ERR_MALFORMED);
	v = c;
	v.scope = NULL;
	CU_ASSERT_EQUAL(jg_store_code_insert(st, "code-x", &v), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_store_code_redeem(st, "code-x", T0, &out, &rep), JG_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(rep.replayed, false);

	/* The first redemption returns everything the code is bound to. */
	CU_ASSERT_EQUAL_FATAL(jg_store_code_redeem(st, "code-1", T0 + 59, &out, &rep), JG_OK);
	CU_ASSERT_EQUAL(rep.replayed, false);
	CU_ASSERT_STRING_EQUAL(out->client_id, "app");
	CU_ASSERT_STRING_EQUAL(out->redirect_uri, "https://a.example/cb");
	CU_ASSERT_STRING_EQUAL(out->sub, "sub-alice");
	CU_ASSERT_STRING_EQUAL(out->scope, "openid profile");
	CU_ASSERT_STRING_EQUAL(out->nonce, "n-0S6_WzA2Mj");
	CU_ASSERT_STRING_EQUAL(out->code_challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
	CU_ASSERT_STRING_EQUAL(out->code_challenge_method, "S256");
	CU_ASSERT_STRING_EQUAL(out->session_id, "sid-1");
	CU_ASSERT_EQUAL(out->auth_time, T0 - 5);
	CU_ASSERT_EQUAL(out->created, T0);
	CU_ASSERT_EQUAL(out->expires, T0 + 60);
	jg_code_free(out);
	out = NULL;

	/* Record what was issued, then a replay reports it. */
	CU_ASSERT_EQUAL_FATAL(jg_store_refresh_create(st, "rt-from-code-1", "app", alice_sub,
						      "openid profile", T0 - 5, T0 + 59, 3600,
						      86400, &fam), JG_OK);
	CU_ASSERT_EQUAL(jg_store_code_set_issued(st, "code-1", fam, "jti-1", T0 + 359), JG_OK);
	/* Only once. */
	CU_ASSERT_EQUAL(jg_store_code_set_issued(st, "code-1", fam, "jti-1", T0 + 359),
			JG_ERR_DENIED);
	CU_ASSERT_EQUAL(jg_store_code_redeem(st, "code-1", T0 + 60, &out, &rep), JG_ERR_DENIED);
	CU_ASSERT_PTR_NULL(out);
	CU_ASSERT_EQUAL(rep.replayed, true);
	CU_ASSERT_EQUAL(rep.family_id, fam);
	CU_ASSERT_STRING_EQUAL(rep.jti, "jti-1");
	CU_ASSERT_EQUAL(rep.jti_expires, T0 + 359);
	jg_code_replay_clear(&rep);
	CU_ASSERT_PTR_NULL(rep.jti);
	CU_ASSERT_EQUAL(rep.replayed, false);
	/* A replay long after expiry is still a replay, while the code is kept. */
	CU_ASSERT_EQUAL(jg_store_code_redeem(st, "code-1", T0 + 5000, &out, NULL), JG_ERR_DENIED);
	CU_ASSERT_EQUAL(jg_store_code_redeem(st, "code-1", T0 + 5000, &out, &rep), JG_ERR_DENIED);
	CU_ASSERT_EQUAL(rep.replayed, true);
	CU_ASSERT_EQUAL(rep.family_id, fam);
	jg_code_replay_clear(&rep);

	/* A replay before jg_store_code_set_issued: the late recording fails,
	 * so the first redeemer learns that it must revoke what it issued. */
	CU_ASSERT_EQUAL(jg_store_code_insert(st, "code-2", &c), JG_OK);
	CU_ASSERT_EQUAL_FATAL(jg_store_code_redeem(st, "code-2", T0 + 1, &out, NULL), JG_OK);
	jg_code_free(out);
	out = NULL;
	CU_ASSERT_EQUAL(jg_store_code_redeem(st, "code-2", T0 + 2, &out, &rep), JG_ERR_DENIED);
	CU_ASSERT_EQUAL(rep.replayed, true);
	CU_ASSERT_EQUAL(rep.family_id, 0);
	CU_ASSERT_PTR_NULL(rep.jti);
	CU_ASSERT_EQUAL(rep.jti_expires, 0);
	jg_code_replay_clear(&rep);
	CU_ASSERT_EQUAL(jg_store_code_set_issued(st, "code-2", fam, "jti-2", T0 + 300),
			JG_ERR_DENIED);

	/* Expiry: valid while now < expires; an expired code is not a replay. */
	CU_ASSERT_EQUAL(jg_store_code_insert(st, "code-3", &c), JG_OK);
	CU_ASSERT_EQUAL(jg_store_code_redeem(st, "code-3", T0 + 60, &out, &rep), JG_ERR_DENIED);
	CU_ASSERT_EQUAL(rep.replayed, false);
	CU_ASSERT_EQUAL(jg_store_code_redeem(st, "code-3", T0 + 10, &out, &rep), JG_OK);
	CU_ASSERT_EQUAL(rep.replayed, false);
	jg_code_free(out);
	out = NULL;

	/* set_issued rules: unknown code, code not redeemed, unknown family,
	 * nothing issued (family 0, no jti) is recorded once too. */
	CU_ASSERT_EQUAL(jg_store_code_set_issued(st, "code-none", fam, "j", T0), JG_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(jg_store_code_insert(st, "code-4", &c), JG_OK);
	CU_ASSERT_EQUAL(jg_store_code_set_issued(st, "code-4", fam, "j", T0), JG_ERR_DENIED);
	CU_ASSERT_EQUAL(jg_store_code_redeem(st, "code-4", T0, &out, NULL), JG_OK);
	jg_code_free(out);
	out = NULL;
	CU_ASSERT_EQUAL(jg_store_code_set_issued(st, "code-4", fam + 1000, "j", T0),
			JG_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(jg_store_code_set_issued(st, "code-4", -1, "j", T0), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_store_code_set_issued(st, "code-4", 0, "", T0), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_store_code_set_issued(st, "code-4", 0, NULL, 0), JG_OK);
	CU_ASSERT_EQUAL(jg_store_code_set_issued(st, "code-4", 0, "j", T0), JG_ERR_DENIED);
	CU_ASSERT_EQUAL(jg_store_code_redeem(st, "code-4", T0, &out, &rep), JG_ERR_DENIED);
	CU_ASSERT_EQUAL(rep.replayed, true);
	CU_ASSERT_EQUAL(rep.family_id, 0);
	CU_ASSERT_PTR_NULL(rep.jti);
	jg_code_replay_clear(&rep);

	/* Optional bindings absent. */
	v = c;
	v.nonce = NULL;
	v.code_challenge = NULL;
	v.code_challenge_method = NULL;
	v.session_id = NULL;
	v.scope = "";
	CU_ASSERT_EQUAL(jg_store_code_insert(st, "code-5", &v), JG_OK);
	CU_ASSERT_EQUAL_FATAL(jg_store_code_redeem(st, "code-5", T0, &out, NULL), JG_OK);
	CU_ASSERT_PTR_NULL(out->nonce);
	CU_ASSERT_PTR_NULL(out->code_challenge);
	CU_ASSERT_PTR_NULL(out->code_challenge_method);
	CU_ASSERT_PTR_NULL(out->session_id);
	CU_ASSERT_STRING_EQUAL(out->scope, "");
	jg_code_free(out);
	out = NULL;

	/* Bad arguments to redeem. */
	CU_ASSERT_EQUAL(jg_store_code_redeem(st, "", T0, &out, &rep), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_store_code_redeem(st, longcode, T0, &out, &rep), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_store_code_redeem(st, "code-1", T0, NULL, &rep), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_store_code_redeem(st, maxcode, T0, &out, NULL), JG_OK);
	jg_code_free(out);
	jg_code_free(NULL);
	jg_code_replay_clear(NULL);

	free(longcode);
	free(maxcode);
	jg_store_close(st);
}

/* jg_store_code_issue (common/store.h): the refresh family and the code's
 * record of what it issued in one transaction, with the outcomes of
 * jg_store_refresh_create and jg_store_code_set_issued. */
static void
test_code_issue(void)
{
	struct jg_store *st = open_new(NULL);
	struct jg_code c = code_for_alice(), *out = NULL;
	struct jg_code_replay rep;
	struct jg_refresh *r = NULL;
	int64_t fam = -1, fam2 = -1;
	size_t i;

	seed(st);
	for (i = 0; i < 5; i++) {
		char name[16];

		snprintf(name, sizeof(name), "code-i%zu", i);
		CU_ASSERT_EQUAL(jg_store_code_insert(st, name, &c), JG_OK);
	}
	/* Invalid arguments store nothing. */
	CU_ASSERT_EQUAL(jg_store_code_issue(st, "code-i0", NULL, NULL, NULL, NULL,
					    0, T0, 0, 0, "j", T0, NULL), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_store_code_issue(st, "code-i0", NULL, NULL, NULL, NULL,
					    0, T0, 0, 0, "", T0, &fam), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_store_code_issue(st, "code-i0", "rt-x", "app", alice_sub,
					    "openid", 0, T0, 0, 86400, "j", T0, &fam),
			JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_store_refresh_lookup(st, "rt-x", T0, &r), JG_ERR_NOT_FOUND);

	/* Redeemed: the family, its first token and the record, together. */
	CU_ASSERT_EQUAL_FATAL(jg_store_code_redeem(st, "code-i0", T0 + 1, &out, NULL), JG_OK);
	jg_code_free(out);
	out = NULL;
	CU_ASSERT_EQUAL(jg_store_code_issue(st, "code-i0", "rt-i0", "app", alice_sub,
					    "openid profile", T0 - 5, T0 + 1, 3600, 86400,
					    "jti-i0", T0 + 301, &fam), JG_OK);
	CU_ASSERT(fam > 0);
	CU_ASSERT_EQUAL_FATAL(jg_store_refresh_lookup(st, "rt-i0", T0 + 2, &r), JG_OK);
	CU_ASSERT_EQUAL(r->family_id, fam);
	CU_ASSERT_STRING_EQUAL(r->client_id, "app");
	CU_ASSERT_STRING_EQUAL(r->sub, alice_sub);
	CU_ASSERT_STRING_EQUAL(r->scope, "openid profile");
	CU_ASSERT_EQUAL(r->auth_time, T0 - 5);
	CU_ASSERT_EQUAL(r->idle_expires, T0 + 1 + 3600);
	CU_ASSERT_EQUAL(r->absolute_expires, T0 + 1 + 86400);
	CU_ASSERT(r->active);
	jg_refresh_free(r);
	r = NULL;
	/* Recorded only once; a replay reports what it issued. */
	CU_ASSERT_EQUAL(jg_store_code_issue(st, "code-i0", NULL, NULL, NULL, NULL,
					    0, T0 + 2, 0, 0, "jti-z", T0, &fam2), JG_ERR_DENIED);
	CU_ASSERT_EQUAL(fam2, 0);
	CU_ASSERT_EQUAL(jg_store_code_redeem(st, "code-i0", T0 + 3, &out, &rep), JG_ERR_DENIED);
	CU_ASSERT_EQUAL(rep.replayed, true);
	CU_ASSERT_EQUAL(rep.family_id, fam);
	CU_ASSERT_STRING_EQUAL(rep.jti, "jti-i0");
	CU_ASSERT_EQUAL(rep.jti_expires, T0 + 301);
	jg_code_replay_clear(&rep);

	/* Without a refresh token: the record only, family 0. */
	CU_ASSERT_EQUAL_FATAL(jg_store_code_redeem(st, "code-i1", T0 + 1, &out, NULL), JG_OK);
	jg_code_free(out);
	out = NULL;
	CU_ASSERT_EQUAL(jg_store_code_issue(st, "code-i1", NULL, NULL, NULL, NULL,
					    0, T0 + 1, 0, 0, "jti-i1", T0 + 300, &fam), JG_OK);
	CU_ASSERT_EQUAL(fam, 0);
	CU_ASSERT_EQUAL(jg_store_code_redeem(st, "code-i1", T0 + 2, &out, &rep), JG_ERR_DENIED);
	CU_ASSERT_EQUAL(rep.family_id, 0);
	CU_ASSERT_STRING_EQUAL(rep.jti, "jti-i1");
	jg_code_replay_clear(&rep);

	/* An unknown user: nothing stored, the code can still record. */
	CU_ASSERT_EQUAL_FATAL(jg_store_code_redeem(st, "code-i2", T0 + 1, &out, NULL), JG_OK);
	jg_code_free(out);
	out = NULL;
	CU_ASSERT_EQUAL(jg_store_code_issue(st, "code-i2", "rt-i2", "app", "sub-unknown",
					    "openid", T0, T0 + 1, 3600, 86400, "jti-i2",
					    T0 + 300, &fam), JG_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(fam, 0);
	CU_ASSERT_EQUAL(jg_store_refresh_lookup(st, "rt-i2", T0 + 1, &r), JG_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(jg_store_code_issue(st, "code-i2", NULL, NULL, NULL, NULL,
					    0, T0 + 1, 0, 0, "jti-i2", T0 + 300, &fam), JG_OK);

	/* Replayed between redemption and recording: DENIED, and the family
	 * it started stays, revoked. */
	CU_ASSERT_EQUAL_FATAL(jg_store_code_redeem(st, "code-i3", T0 + 1, &out, NULL), JG_OK);
	jg_code_free(out);
	out = NULL;
	CU_ASSERT_EQUAL(jg_store_code_redeem(st, "code-i3", T0 + 2, &out, &rep), JG_ERR_DENIED);
	CU_ASSERT_EQUAL(rep.replayed, true);
	jg_code_replay_clear(&rep);
	CU_ASSERT_EQUAL(jg_store_code_issue(st, "code-i3", "rt-i3", "app", alice_sub,
					    "openid", T0, T0 + 3, 3600, 86400, "jti-i3",
					    T0 + 300, &fam), JG_ERR_DENIED);
	CU_ASSERT(fam > 0);
	CU_ASSERT_EQUAL_FATAL(jg_store_refresh_lookup(st, "rt-i3", T0 + 4, &r), JG_OK);
	CU_ASSERT_EQUAL(r->family_id, fam);
	CU_ASSERT_EQUAL(r->revoked_at, T0 + 3);
	CU_ASSERT(!r->active);
	jg_refresh_free(r);
	r = NULL;

	/* Not redeemed, or no such code: DENIED as well. */
	CU_ASSERT_EQUAL(jg_store_code_issue(st, "code-i4", NULL, NULL, NULL, NULL,
					    0, T0, 0, 0, "j", T0, &fam), JG_ERR_DENIED);
	CU_ASSERT_EQUAL(jg_store_code_issue(st, "code-none", NULL, NULL, NULL, NULL,
					    0, T0, 0, 0, "j", T0, &fam), JG_ERR_DENIED);
	CU_ASSERT_EQUAL(jg_store_code_redeem(st, "code-i4", T0 + 1, &out, NULL), JG_OK);
	jg_code_free(out);
	jg_store_close(st);
}

/* ---------------------------------------------------------------- refresh tokens */

static void
test_refresh(void)
{
	struct jg_store *st = open_new(NULL);
	struct jg_refresh *r = NULL;
	int64_t fam = 0, fam2 = 0, fam3 = 0, fam4 = 0, other;
	size_t count = 99;
	bool reuse = true;

	seed(st);
	CU_ASSERT_EQUAL_FATAL(jg_store_refresh_create(st, "rt-1", "app", alice_sub,
						      "openid offline_access", T0 - 100, T0,
						      3600, 86400, &fam), JG_OK);
	CU_ASSERT(fam > 0);

	/* Lookup changes nothing and tells the whole state. */
	CU_ASSERT_EQUAL_FATAL(jg_store_refresh_lookup(st, "rt-1", T0 + 3599, &r), JG_OK);
	CU_ASSERT_EQUAL(r->family_id, fam);
	CU_ASSERT_STRING_EQUAL(r->client_id, "app");
	CU_ASSERT_STRING_EQUAL(r->sub, "sub-alice");
	CU_ASSERT_STRING_EQUAL(r->scope, "openid offline_access");
	CU_ASSERT_EQUAL(r->auth_time, T0 - 100);
	CU_ASSERT_EQUAL(r->family_created, T0);
	CU_ASSERT_EQUAL(r->absolute_expires, T0 + 86400);
	CU_ASSERT_EQUAL(r->revoked_at, 0);
	CU_ASSERT_EQUAL(r->created, T0);
	CU_ASSERT_EQUAL(r->idle_expires, T0 + 3600);
	CU_ASSERT_EQUAL(r->rotated_at, 0);
	CU_ASSERT_EQUAL(r->active, true);
	jg_refresh_free(r);
	r = NULL;
	CU_ASSERT_EQUAL_FATAL(jg_store_refresh_lookup(st, "rt-1", T0 + 3600, &r), JG_OK);
	CU_ASSERT_EQUAL(r->active, false);
	jg_refresh_free(r);
	r = NULL;

	/* Rotation. */
	CU_ASSERT_EQUAL_FATAL(jg_store_refresh_rotate(st, "rt-1", "rt-2", T0 + 10, 3600,
						      &r, &reuse), JG_OK);
	CU_ASSERT_EQUAL(reuse, false);
	CU_ASSERT_EQUAL(r->family_id, fam);
	CU_ASSERT_STRING_EQUAL(r->scope, "openid offline_access");
	CU_ASSERT_EQUAL(r->created, T0 + 10);
	CU_ASSERT_EQUAL(r->idle_expires, T0 + 3610);
	CU_ASSERT_EQUAL(r->rotated_at, 0);
	CU_ASSERT_EQUAL(r->revoked_at, 0);
	CU_ASSERT_EQUAL(r->active, true);
	jg_refresh_free(r);
	r = NULL;
	CU_ASSERT_EQUAL_FATAL(jg_store_refresh_lookup(st, "rt-1", T0 + 11, &r), JG_OK);
	CU_ASSERT_EQUAL(r->rotated_at, T0 + 10);
	CU_ASSERT_EQUAL(r->active, false);
	jg_refresh_free(r);
	r = NULL;

	/* Presenting the rotated token again revokes the whole family. */
	CU_ASSERT_EQUAL(jg_store_refresh_rotate(st, "rt-1", "rt-3", T0 + 20, 3600, &r, &reuse),
			JG_ERR_DENIED);
	CU_ASSERT_EQUAL(reuse, true);
	CU_ASSERT_PTR_NULL(r);
	CU_ASSERT_EQUAL(jg_store_refresh_lookup(st, "rt-3", T0 + 20, &r), JG_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL_FATAL(jg_store_refresh_lookup(st, "rt-2", T0 + 21, &r), JG_OK);
	CU_ASSERT_EQUAL(r->revoked_at, T0 + 20);
	CU_ASSERT_EQUAL(r->rotated_at, 0);
	CU_ASSERT_EQUAL(r->active, false);
	jg_refresh_free(r);
	r = NULL;
	/* The current token of a revoked family is refused, without reuse. */
	CU_ASSERT_EQUAL(jg_store_refresh_rotate(st, "rt-2", "rt-4", T0 + 30, 3600, &r, &reuse),
			JG_ERR_DENIED);
	CU_ASSERT_EQUAL(reuse, false);
	CU_ASSERT_EQUAL(jg_store_refresh_lookup(st, "rt-4", T0 + 30, &r), JG_ERR_NOT_FOUND);
	/* Revoking again keeps the first time. */
	CU_ASSERT_EQUAL(jg_store_family_revoke(st, fam, T0 + 40), JG_OK);
	CU_ASSERT_EQUAL_FATAL(jg_store_refresh_lookup(st, "rt-2", T0 + 41, &r), JG_OK);
	CU_ASSERT_EQUAL(r->revoked_at, T0 + 20);
	jg_refresh_free(r);
	r = NULL;
	CU_ASSERT_EQUAL(jg_store_family_revoke(st, fam + 1000, T0), JG_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(jg_store_family_revoke(st, 0, T0), JG_ERR_MALFORMED);

	/* Idle expiry: refused at idle_expires, and nothing changes. */
	CU_ASSERT_EQUAL_FATAL(jg_store_refresh_create(st, "idle-1", "app", alice_sub, "openid",
						      T0, T0, 100, 1000, &fam2), JG_OK);
	CU_ASSERT(fam2 > fam);
	CU_ASSERT_EQUAL(jg_store_refresh_rotate(st, "idle-1", "idle-2", T0 + 100, 100, &r,
						&reuse), JG_ERR_DENIED);
	CU_ASSERT_EQUAL(reuse, false);
	CU_ASSERT_EQUAL_FATAL(jg_store_refresh_lookup(st, "idle-1", T0 + 99, &r), JG_OK);
	CU_ASSERT_EQUAL(r->rotated_at, 0);
	CU_ASSERT_EQUAL(r->revoked_at, 0);
	CU_ASSERT_EQUAL(r->active, true);
	jg_refresh_free(r);
	r = NULL;
	CU_ASSERT_EQUAL_FATAL(jg_store_refresh_rotate(st, "idle-1", "idle-2", T0 + 99, 100, &r,
						      &reuse), JG_OK);
	CU_ASSERT_EQUAL(r->idle_expires, T0 + 199);
	jg_refresh_free(r);
	r = NULL;

	/* Absolute expiry: a token never outlives its family. */
	CU_ASSERT_EQUAL_FATAL(jg_store_refresh_create(st, "abs-1", "app", alice_sub, "openid",
						      T0, T0, 100, 150, &fam3), JG_OK);
	CU_ASSERT_EQUAL_FATAL(jg_store_refresh_rotate(st, "abs-1", "abs-2", T0 + 90, 100, &r,
						      &reuse), JG_OK);
	CU_ASSERT_EQUAL(r->idle_expires, T0 + 150);
	CU_ASSERT_EQUAL(r->absolute_expires, T0 + 150);
	jg_refresh_free(r);
	r = NULL;
	CU_ASSERT_EQUAL(jg_store_refresh_rotate(st, "abs-2", "abs-3", T0 + 150, 100, &r,
						&reuse), JG_ERR_DENIED);
	CU_ASSERT_EQUAL(reuse, false);
	CU_ASSERT_EQUAL_FATAL(jg_store_refresh_create(st, "abs-short", "app", alice_sub, "",
						      T0, T0, 500, 50, &other), JG_OK);
	CU_ASSERT_EQUAL_FATAL(jg_store_refresh_lookup(st, "abs-short", T0, &r), JG_OK);
	CU_ASSERT_EQUAL(r->idle_expires, T0 + 50);
	CU_ASSERT_STRING_EQUAL(r->scope, "");
	jg_refresh_free(r);
	r = NULL;

	/* A new token that is taken already: nothing changes. */
	CU_ASSERT_EQUAL_FATAL(jg_store_refresh_create(st, "dup-1", "spa", bob_sub, "openid",
						      T0, T0, 100, 1000, &fam4), JG_OK);
	CU_ASSERT_EQUAL(jg_store_refresh_rotate(st, "dup-1", "idle-2", T0 + 1, 100, &r,
						&reuse), JG_ERR_EXISTS);
	CU_ASSERT_EQUAL(jg_store_refresh_rotate(st, "dup-1", "dup-1", T0 + 1, 100, &r,
						&reuse), JG_ERR_EXISTS);
	CU_ASSERT_EQUAL_FATAL(jg_store_refresh_lookup(st, "dup-1", T0 + 1, &r), JG_OK);
	CU_ASSERT_EQUAL(r->rotated_at, 0);
	CU_ASSERT_EQUAL(r->active, true);
	jg_refresh_free(r);
	r = NULL;
	CU_ASSERT_EQUAL_FATAL(jg_store_refresh_rotate(st, "dup-1", "dup-2", T0 + 2, 100, &r,
						      &reuse), JG_OK);
	CU_ASSERT_STRING_EQUAL(r->client_id, "spa");
	CU_ASSERT_STRING_EQUAL(r->sub, "sub-bob");
	jg_refresh_free(r);
	r = NULL;

	/* A failed create leaves no family behind. */
	CU_ASSERT_EQUAL(jg_store_refresh_create(st, "dup-2", "spa", bob_sub, "openid",
						T0, T0, 100, 1000, &other), JG_ERR_EXISTS);
	CU_ASSERT_EQUAL(jg_store_family_revoke_user(st, bob_sub, T0 + 3, &count), JG_OK);
	CU_ASSERT_EQUAL(count, 1);

	/* Unknown and bad arguments. */
	CU_ASSERT_EQUAL(jg_store_refresh_rotate(st, "no-such", "x-1", T0, 100, &r, &reuse),
			JG_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(reuse, false);
	CU_ASSERT_EQUAL(jg_store_refresh_lookup(st, "no-such", T0, &r), JG_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(jg_store_refresh_rotate(st, "abs-2", "x-1", T0, 0, &r, &reuse),
			JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_store_refresh_rotate(st, "abs-2", "", T0, 10, &r, &reuse),
			JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_store_refresh_rotate(st, "abs-2", "x-1", INT64_MAX, 10, &r, &reuse),
			JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_store_refresh_rotate(st, "abs-2", "x-1", T0, 10, NULL, NULL),
			JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_store_refresh_create(st, "x-1", "nope", alice_sub, "", T0, T0,
						10, 10, &other), JG_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(jg_store_refresh_create(st, "x-1", "app", "sub-nope", "", T0, T0,
						10, 10, &other), JG_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(jg_store_refresh_create(st, "x-1", "app", alice_sub, "", T0, T0,
						0, 10, &other), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_store_refresh_create(st, "x-1", "app", alice_sub, "", T0, T0,
						10, 0, &other), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_store_refresh_create(st, "x-1", "app", alice_sub, NULL, T0, T0,
						10, 10, &other), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_store_refresh_create(st, "", "app", alice_sub, "", T0, T0,
						10, 10, &other), JG_ERR_MALFORMED);
	CU_ASSERT_PTR_NULL(r);

	/* Revoke every family of alice: fam is revoked already; fam2, fam3
	 * and abs-short are not. */
	CU_ASSERT_EQUAL(jg_store_family_revoke_user(st, alice_sub, T0 + 500, &count), JG_OK);
	CU_ASSERT_EQUAL(count, 3);
	CU_ASSERT_EQUAL_FATAL(jg_store_refresh_lookup(st, "idle-2", T0 + 501, &r), JG_OK);
	CU_ASSERT_EQUAL(r->family_id, fam2);
	CU_ASSERT_EQUAL(r->revoked_at, T0 + 500);
	CU_ASSERT_EQUAL(r->active, false);
	jg_refresh_free(r);
	r = NULL;
	CU_ASSERT_EQUAL(jg_store_family_revoke_user(st, alice_sub, T0 + 600, NULL), JG_OK);
	CU_ASSERT_EQUAL(jg_store_family_revoke_user(st, alice_sub, T0 + 600, &count), JG_OK);
	CU_ASSERT_EQUAL(count, 0);
	jg_refresh_free(NULL);
	jg_store_close(st);
}

/* ---------------------------------------------------------------- sessions */

static void
test_sessions(void)
{
	struct jg_store *st = open_new(NULL);
	struct jg_session *s = NULL;
	size_t count = 99;

	seed(st);
	/* The stored id is SHA-256 of the cookie value; "abc" is the
	 * FIPS 180-2 appendix B.1 example. */
	CU_ASSERT_EQUAL(jg_store_session_create(st, "abc", alice_sub, T0 - 1, T0, T0 + 3600),
			JG_OK);
	CU_ASSERT_EQUAL(jg_store_session_create(st, "abc", bob_sub, T0, T0, T0 + 3600),
			JG_ERR_EXISTS);
	CU_ASSERT_EQUAL(jg_store_session_create(st, "s-2", "sub-nope", T0, T0, T0 + 3600),
			JG_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(jg_store_session_create(st, "s-2", alice_sub, T0, T0, T0),
			JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_store_session_create(st, "", alice_sub, T0, T0, T0 + 1),
			JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_store_session_create(st, "s-2", NULL, T0, T0, T0 + 1),
			JG_ERR_MALFORMED);

	CU_ASSERT_EQUAL_FATAL(jg_store_session_get(st, "abc", T0 + 3599, &s), JG_OK);
	CU_ASSERT_STRING_EQUAL(s->sid,
			       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	CU_ASSERT_STRING_EQUAL(s->sub, "sub-alice");
	CU_ASSERT_EQUAL(s->auth_time, T0 - 1);
	CU_ASSERT_EQUAL(s->created, T0);
	CU_ASSERT_EQUAL(s->expires, T0 + 3600);
	jg_session_free(s);
	s = NULL;
	/* Expired at expires. */
	CU_ASSERT_EQUAL(jg_store_session_get(st, "abc", T0 + 3600, &s), JG_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(jg_store_session_get(st, "abd", T0, &s), JG_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(jg_store_session_get(st, NULL, T0, &s), JG_ERR_MALFORMED);
	CU_ASSERT_PTR_NULL(s);

	CU_ASSERT_EQUAL(jg_store_session_delete(st, "abc"), JG_OK);
	CU_ASSERT_EQUAL(jg_store_session_delete(st, "abc"), JG_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(jg_store_session_get(st, "abc", T0, &s), JG_ERR_NOT_FOUND);

	CU_ASSERT_EQUAL(jg_store_session_create(st, "a-1", alice_sub, T0, T0, T0 + 10), JG_OK);
	CU_ASSERT_EQUAL(jg_store_session_create(st, "a-2", alice_sub, T0, T0, T0 + 10), JG_OK);
	CU_ASSERT_EQUAL(jg_store_session_create(st, "b-1", bob_sub, T0, T0, T0 + 10), JG_OK);
	CU_ASSERT_EQUAL(jg_store_session_delete_user(st, alice_sub, &count), JG_OK);
	CU_ASSERT_EQUAL(count, 2);
	CU_ASSERT_EQUAL(jg_store_session_delete_user(st, alice_sub, &count), JG_OK);
	CU_ASSERT_EQUAL(count, 0);
	CU_ASSERT_EQUAL(jg_store_session_get(st, "a-1", T0, &s), JG_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL_FATAL(jg_store_session_get(st, "b-1", T0, &s), JG_OK);
	CU_ASSERT_STRING_EQUAL(s->sub, "sub-bob");
	jg_session_free(s);
	jg_session_free(NULL);
	jg_store_close(st);
}

/* jg_store_user_disable: the flag, the sessions and the refresh-token
 * families change in one transaction.  A trigger that makes the last step
 * (revoking the families) fail must leave the first two undone. */
static void
test_user_disable(void)
{
	struct jg_store *st;
	struct jg_user *u = NULL;
	char *path;
	sqlite3 *db;
	int64_t fam_a, fam_b;
	size_t sessions = 99, families = 99;

	st = open_new(&path);
	seed(st);
	CU_ASSERT_EQUAL(jg_store_session_create(st, "a-1", alice_sub, T0, T0, T0 + 10), JG_OK);
	CU_ASSERT_EQUAL(jg_store_session_create(st, "a-2", alice_sub, T0, T0, T0 + 10), JG_OK);
	CU_ASSERT_EQUAL(jg_store_session_create(st, "b-1", bob_sub, T0, T0, T0 + 10), JG_OK);
	CU_ASSERT_EQUAL(jg_store_refresh_create(st, "rt-a", "app", alice_sub, "", T0, T0,
						100, 1000, &fam_a), JG_OK);
	CU_ASSERT_EQUAL(jg_store_refresh_create(st, "rt-b", "app", bob_sub, "", T0, T0,
						100, 1000, &fam_b), JG_OK);

	/* The last step fails: nothing at all changes. */
	CU_ASSERT_FATAL(sqlite3_open(path, &db) == SQLITE_OK);
	CU_ASSERT_FATAL(sqlite3_exec(db, "CREATE TRIGGER no_revoke BEFORE UPDATE OF revoked_at"
				     " ON families BEGIN SELECT RAISE(ABORT, 'no'); END",
				     NULL, NULL, NULL) == SQLITE_OK);
	CU_ASSERT_NOT_EQUAL(jg_store_user_disable(st, "alice", T0 + 1, NULL, NULL), JG_OK);
	CU_ASSERT_EQUAL(raw_int(path, "SELECT disabled FROM users WHERE username = 'alice'"), 0);
	CU_ASSERT_EQUAL(raw_int(path, "SELECT count(*) FROM sessions WHERE sub = 'sub-alice'"), 2);
	CU_ASSERT_EQUAL(raw_int(path, "SELECT count(*) FROM families WHERE revoked_at IS NOT NULL"),
			0);
	/* And the store is usable afterwards (no transaction left open). */
	CU_ASSERT_FATAL(sqlite3_exec(db, "DROP TRIGGER no_revoke", NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);

	/* The whole step. */
	CU_ASSERT_EQUAL(jg_store_user_disable(st, "alice", T0 + 2, &sessions, &families), JG_OK);
	CU_ASSERT_EQUAL(sessions, 2);
	CU_ASSERT_EQUAL(families, 1);
	CU_ASSERT_EQUAL_FATAL(jg_store_user_get(st, "alice", &u), JG_OK);
	CU_ASSERT_EQUAL(u->disabled, true);
	jg_user_free(u);
	u = NULL;
	CU_ASSERT_EQUAL(raw_int(path, "SELECT count(*) FROM sessions WHERE sub = 'sub-alice'"), 0);
	CU_ASSERT_EQUAL(raw_int(path, "SELECT revoked_at FROM families WHERE sub = 'sub-alice'"),
			T0 + 2);
	/* Bob is untouched. */
	CU_ASSERT_EQUAL(raw_int(path, "SELECT count(*) FROM sessions WHERE sub = 'sub-bob'"), 1);
	CU_ASSERT_EQUAL(raw_int(path, "SELECT count(*) FROM families WHERE sub = 'sub-bob'"
				" AND revoked_at IS NULL"), 1);
	CU_ASSERT_EQUAL_FATAL(jg_store_user_get(st, "bob", &u), JG_OK);
	CU_ASSERT_EQUAL(u->disabled, false);
	jg_user_free(u);

	CU_ASSERT_EQUAL(jg_store_user_disable(st, "nobody", T0, NULL, NULL), JG_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(jg_store_user_disable(st, NULL, T0, NULL, NULL), JG_ERR_MALFORMED);

	/* Another connection holds the write lock: busy, nothing changed. */
	CU_ASSERT_FATAL(sqlite3_open(path, &db) == SQLITE_OK);
	CU_ASSERT_FATAL(sqlite3_exec(db, "BEGIN EXCLUSIVE; UPDATE users SET name = 'B'"
				     " WHERE username = 'bob'", NULL, NULL, NULL) == SQLITE_OK);
	CU_ASSERT_EQUAL(jg_store_user_disable(st, "bob", T0 + 3, NULL, NULL), JG_ERR_BUSY);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
	CU_ASSERT_EQUAL(raw_int(path, "SELECT disabled FROM users WHERE username = 'bob'"), 0);
	CU_ASSERT_EQUAL(raw_int(path, "SELECT count(*) FROM sessions WHERE sub = 'sub-bob'"), 1);
	jg_store_close(st);
	free(path);
}

/* ---------------------------------------------------------------- consents */

static void
test_consents(void)
{
	/* RFC 6749 section 3.3 scope syntax. */
	static const char *const bad_scopes[] = {
		" openid", "openid ", "openid  profile", "open\"id", "open\\id",
		"openid\tprofile", "caf\xc3\xa9", NULL,
	};
	static const struct {
		const char *client;
		const char *scope;
		bool granted;
	} cases[] = {
		{ "app", "", true },
		{ "app", "openid", true },
		{ "app", "profile openid", true },
		{ "app", "openid profile email", false },
		{ "app", "email", false },
		{ "app", "OPENID", false },
		{ "spa", "", false },
		{ "spa", "openid", false },
	};
	struct jg_store *st = open_new(NULL);
	bool granted = true;
	char *many = NULL, *tmp;
	size_t i;

	seed(st);
	/* Before any grant, not even the empty list is covered. */
	CU_ASSERT_EQUAL(jg_store_consent_has(st, alice_sub, "app", "", &granted), JG_OK);
	CU_ASSERT_EQUAL(granted, false);

	CU_ASSERT_EQUAL(jg_store_consent_grant(st, alice_sub, "app", "openid profile", T0),
			JG_OK);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		granted = !cases[i].granted;
		CU_ASSERT_EQUAL(jg_store_consent_has(st, alice_sub, cases[i].client,
						     cases[i].scope, &granted), JG_OK);
		CU_ASSERT_EQUAL(granted, cases[i].granted);
	}
	/* Bob shares nothing of alice's consent. */
	CU_ASSERT_EQUAL(jg_store_consent_has(st, bob_sub, "app", "openid", &granted), JG_OK);
	CU_ASSERT_EQUAL(granted, false);

	/* Grants add up; granting again is fine. */
	CU_ASSERT_EQUAL(jg_store_consent_grant(st, alice_sub, "app", "email", T0 + 1), JG_OK);
	CU_ASSERT_EQUAL(jg_store_consent_grant(st, alice_sub, "app", "email", T0 + 2), JG_OK);
	CU_ASSERT_EQUAL(jg_store_consent_has(st, alice_sub, "app", "openid profile email",
					     &granted), JG_OK);
	CU_ASSERT_EQUAL(granted, true);
	/* The empty list records consent to the client itself. */
	CU_ASSERT_EQUAL(jg_store_consent_grant(st, alice_sub, "spa", "", T0), JG_OK);
	CU_ASSERT_EQUAL(jg_store_consent_has(st, alice_sub, "spa", "", &granted), JG_OK);
	CU_ASSERT_EQUAL(granted, true);
	CU_ASSERT_EQUAL(jg_store_consent_has(st, alice_sub, "spa", "openid", &granted), JG_OK);
	CU_ASSERT_EQUAL(granted, false);

	for (i = 0; bad_scopes[i]; i++) {
		CU_ASSERT_EQUAL(jg_store_consent_grant(st, alice_sub, "app", bad_scopes[i], T0),
				JG_ERR_MALFORMED);
		CU_ASSERT_EQUAL(jg_store_consent_has(st, alice_sub, "app", bad_scopes[i],
						     &granted), JG_ERR_MALFORMED);
	}
	CU_ASSERT_EQUAL(jg_store_consent_grant(st, alice_sub, "app", NULL, T0), JG_ERR_MALFORMED);
	/* 64 scope-tokens are accepted, 65 are not. */
	many = jg_xstrdup("s0");
	for (i = 1; i < 64; i++) {
		tmp = jg_xasprintf("%s s%zu", many, i);
		free(many);
		many = tmp;
	}
	CU_ASSERT_EQUAL(jg_store_consent_grant(st, bob_sub, "app", many, T0), JG_OK);
	CU_ASSERT_EQUAL(jg_store_consent_has(st, bob_sub, "app", many, &granted), JG_OK);
	CU_ASSERT_EQUAL(granted, true);
	tmp = jg_xasprintf("%s s64", many);
	CU_ASSERT_EQUAL(jg_store_consent_grant(st, bob_sub, "app", tmp, T0), JG_ERR_MALFORMED);
	free(tmp);
	free(many);

	CU_ASSERT_EQUAL(jg_store_consent_grant(st, alice_sub, "nope", "openid", T0),
			JG_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(jg_store_consent_grant(st, "sub-nope", "app", "openid", T0),
			JG_ERR_NOT_FOUND);

	CU_ASSERT_EQUAL(jg_store_consent_revoke(st, alice_sub, "app"), JG_OK);
	CU_ASSERT_EQUAL(jg_store_consent_revoke(st, alice_sub, "app"), JG_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(jg_store_consent_has(st, alice_sub, "app", "openid", &granted), JG_OK);
	CU_ASSERT_EQUAL(granted, false);
	CU_ASSERT_EQUAL(jg_store_consent_has(st, alice_sub, "spa", "", &granted), JG_OK);
	CU_ASSERT_EQUAL(granted, true);
	jg_store_close(st);
}

/* ---------------------------------------------------------------- revoked jtis */

static void
test_jti(void)
{
	struct jg_store *st = open_new(NULL);
	bool revoked = true;

	CU_ASSERT_EQUAL(jg_store_jti_is_revoked(st, "jti-1", &revoked), JG_OK);
	CU_ASSERT_EQUAL(revoked, false);
	CU_ASSERT_EQUAL(jg_store_jti_revoke(st, "jti-1", T0 + 100), JG_OK);
	CU_ASSERT_EQUAL(jg_store_jti_revoke(st, "jti-2", T0 + 200), JG_OK);
	/* Revoking again with an earlier exp keeps the later one. */
	CU_ASSERT_EQUAL(jg_store_jti_revoke(st, "jti-2", T0 + 50), JG_OK);
	CU_ASSERT_EQUAL(jg_store_jti_is_revoked(st, "jti-1", &revoked), JG_OK);
	CU_ASSERT_EQUAL(revoked, true);
	CU_ASSERT_EQUAL(jg_store_jti_is_revoked(st, "JTI-1", &revoked), JG_OK);
	CU_ASSERT_EQUAL(revoked, false);
	CU_ASSERT_EQUAL(jg_store_jti_is_revoked(st, "", &revoked), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_store_jti_revoke(st, NULL, T0), JG_ERR_MALFORMED);

	/* Purge at exp removes jti-1 only. */
	CU_ASSERT_EQUAL(jg_store_jti_purge(st, T0 + 100), JG_OK);
	CU_ASSERT_EQUAL(jg_store_jti_is_revoked(st, "jti-1", &revoked), JG_OK);
	CU_ASSERT_EQUAL(revoked, false);
	CU_ASSERT_EQUAL(jg_store_jti_is_revoked(st, "jti-2", &revoked), JG_OK);
	CU_ASSERT_EQUAL(revoked, true);
	CU_ASSERT_EQUAL(jg_store_jti_purge(st, T0 + 199), JG_OK);
	CU_ASSERT_EQUAL(jg_store_jti_is_revoked(st, "jti-2", &revoked), JG_OK);
	CU_ASSERT_EQUAL(revoked, true);
	CU_ASSERT_EQUAL(jg_store_jti_purge(st, T0 + 200), JG_OK);
	CU_ASSERT_EQUAL(jg_store_jti_is_revoked(st, "jti-2", &revoked), JG_OK);
	CU_ASSERT_EQUAL(revoked, false);
	jg_store_close(st);
}

/* ---------------------------------------------------------------- login failures */

static void
test_failures(void)
{
	struct jg_store *st = open_new(NULL);
	unsigned count = 99;

	CU_ASSERT_EQUAL(jg_store_fail_count(st, "user:alice", 0, &count), JG_OK);
	CU_ASSERT_EQUAL(count, 0);
	CU_ASSERT_EQUAL(jg_store_fail_record(st, "user:alice", T0), JG_OK);
	CU_ASSERT_EQUAL(jg_store_fail_record(st, "user:alice", T0 + 10), JG_OK);
	CU_ASSERT_EQUAL(jg_store_fail_record(st, "user:alice", T0 + 20), JG_OK);
	CU_ASSERT_EQUAL(jg_store_fail_record(st, "ip:192.0.2.1", T0 + 20), JG_OK);
	CU_ASSERT_EQUAL(jg_store_fail_record(st, "", T0), JG_ERR_MALFORMED);

	CU_ASSERT_EQUAL(jg_store_fail_count(st, "user:alice", T0, &count), JG_OK);
	CU_ASSERT_EQUAL(count, 3);
	CU_ASSERT_EQUAL(jg_store_fail_count(st, "user:alice", T0 + 10, &count), JG_OK);
	CU_ASSERT_EQUAL(count, 2);
	CU_ASSERT_EQUAL(jg_store_fail_count(st, "user:alice", T0 + 21, &count), JG_OK);
	CU_ASSERT_EQUAL(count, 0);
	CU_ASSERT_EQUAL(jg_store_fail_count(st, "ip:192.0.2.1", 0, &count), JG_OK);
	CU_ASSERT_EQUAL(count, 1);
	CU_ASSERT_EQUAL(jg_store_fail_count(st, "user:alice", 0, NULL), JG_ERR_MALFORMED);

	/* Purge keeps failures at or after before. */
	CU_ASSERT_EQUAL(jg_store_fail_purge(st, T0 + 10), JG_OK);
	CU_ASSERT_EQUAL(jg_store_fail_count(st, "user:alice", 0, &count), JG_OK);
	CU_ASSERT_EQUAL(count, 2);

	CU_ASSERT_EQUAL(jg_store_fail_clear(st, "user:alice"), JG_OK);
	CU_ASSERT_EQUAL(jg_store_fail_count(st, "user:alice", 0, &count), JG_OK);
	CU_ASSERT_EQUAL(count, 0);
	CU_ASSERT_EQUAL(jg_store_fail_count(st, "ip:192.0.2.1", 0, &count), JG_OK);
	CU_ASSERT_EQUAL(count, 1);
	/* Clearing nothing is not an error. */
	CU_ASSERT_EQUAL(jg_store_fail_clear(st, "user:alice"), JG_OK);
	jg_store_close(st);
}

/* ---------------------------------------------------------------- purge, cascade */

static void
test_purge(void)
{
	struct jg_store *st = open_new(NULL);
	struct jg_code c = code_for_alice(), *out = NULL;
	struct jg_code_replay rep;
	struct jg_refresh *r = NULL;
	struct jg_session *s = NULL;
	int64_t now = T0 + JG_STORE_CODE_RETENTION + 60, f1, f2, f3;
	unsigned count;
	bool revoked;

	seed(st);
	/* Codes: A expired at T0 + 60, past the retention now (purged); B
	 * expired at T0 + 61, still within it (kept); C redeemed and pointing
	 * at family f1, which goes. */
	CU_ASSERT_EQUAL(jg_store_code_insert(st, "code-A", &c), JG_OK);
	c.expires = T0 + 61;
	CU_ASSERT_EQUAL(jg_store_code_insert(st, "code-B", &c), JG_OK);
	c.expires = now + 1000;
	CU_ASSERT_EQUAL(jg_store_code_insert(st, "code-C", &c), JG_OK);
	CU_ASSERT_EQUAL_FATAL(jg_store_code_redeem(st, "code-C", T0, &out, NULL), JG_OK);
	jg_code_free(out);
	out = NULL;

	/* Families: f1 past its absolute expiry, f2 past every idle expiry,
	 * f3 alive. */
	CU_ASSERT_EQUAL(jg_store_refresh_create(st, "f1", "app", alice_sub, "", T0, T0,
						100, 100, &f1), JG_OK);
	CU_ASSERT_EQUAL(jg_store_refresh_create(st, "f2", "app", alice_sub, "", T0, T0,
						100, 10 * JG_STORE_CODE_RETENTION, &f2), JG_OK);
	CU_ASSERT_EQUAL(jg_store_refresh_create(st, "f3", "app", alice_sub, "", T0, T0,
						2 * JG_STORE_CODE_RETENTION,
						10 * JG_STORE_CODE_RETENTION, &f3), JG_OK);
	CU_ASSERT_EQUAL(jg_store_code_set_issued(st, "code-C", f1, "jti-C", T0 + 300), JG_OK);

	CU_ASSERT_EQUAL(jg_store_session_create(st, "s-old", alice_sub, T0, T0, now), JG_OK);
	CU_ASSERT_EQUAL(jg_store_session_create(st, "s-new", alice_sub, T0, T0, now + 1), JG_OK);
	CU_ASSERT_EQUAL(jg_store_jti_revoke(st, "j-old", now), JG_OK);
	CU_ASSERT_EQUAL(jg_store_jti_revoke(st, "j-new", now + 1), JG_OK);
	CU_ASSERT_EQUAL(jg_store_fail_record(st, "k", now - 3601), JG_OK);
	CU_ASSERT_EQUAL(jg_store_fail_record(st, "k", now - 3600), JG_OK);

	CU_ASSERT_EQUAL(jg_store_purge(st, now, -1), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL_FATAL(jg_store_purge(st, now, 3600), JG_OK);

	CU_ASSERT_EQUAL(jg_store_code_redeem(st, "code-A", now, &out, &rep), JG_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(jg_store_code_redeem(st, "code-B", now, &out, &rep), JG_ERR_DENIED);
	CU_ASSERT_EQUAL(rep.replayed, false);
	CU_ASSERT_EQUAL(jg_store_code_redeem(st, "code-C", now, &out, &rep), JG_ERR_DENIED);
	CU_ASSERT_EQUAL(rep.replayed, true);
	CU_ASSERT_EQUAL(rep.family_id, 0);	/* f1 is gone */
	CU_ASSERT_STRING_EQUAL(rep.jti, "jti-C");
	jg_code_replay_clear(&rep);

	CU_ASSERT_EQUAL(jg_store_refresh_lookup(st, "f1", now, &r), JG_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(jg_store_refresh_lookup(st, "f2", now, &r), JG_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL_FATAL(jg_store_refresh_lookup(st, "f3", now, &r), JG_OK);
	CU_ASSERT_EQUAL(r->family_id, f3);
	CU_ASSERT_EQUAL(r->active, true);
	jg_refresh_free(r);

	CU_ASSERT_EQUAL(jg_store_session_get(st, "s-old", T0, &s), JG_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL_FATAL(jg_store_session_get(st, "s-new", T0, &s), JG_OK);
	jg_session_free(s);
	CU_ASSERT_EQUAL(jg_store_jti_is_revoked(st, "j-old", &revoked), JG_OK);
	CU_ASSERT_EQUAL(revoked, false);
	CU_ASSERT_EQUAL(jg_store_jti_is_revoked(st, "j-new", &revoked), JG_OK);
	CU_ASSERT_EQUAL(revoked, true);
	CU_ASSERT_EQUAL(jg_store_fail_count(st, "k", 0, &count), JG_OK);
	CU_ASSERT_EQUAL(count, 1);
	jg_store_close(st);
}

static void
test_cascade(void)
{
	struct jg_store *st = open_new(NULL);
	struct jg_code c = code_for_alice(), *out = NULL;
	struct jg_refresh *r = NULL;
	struct jg_session *s = NULL;
	int64_t fam;
	bool granted;

	seed(st);
	CU_ASSERT_EQUAL(jg_store_code_insert(st, "code-a", &c), JG_OK);
	CU_ASSERT_EQUAL(jg_store_refresh_create(st, "rt-a", "app", alice_sub, "", T0, T0,
						100, 1000, &fam), JG_OK);
	CU_ASSERT_EQUAL(jg_store_refresh_create(st, "rt-b", "spa", bob_sub, "", T0, T0,
						100, 1000, &fam), JG_OK);
	CU_ASSERT_EQUAL(jg_store_session_create(st, "s-a", alice_sub, T0, T0, T0 + 100), JG_OK);
	CU_ASSERT_EQUAL(jg_store_consent_grant(st, alice_sub, "spa", "openid", T0), JG_OK);
	CU_ASSERT_EQUAL(jg_store_consent_grant(st, bob_sub, "app", "openid", T0), JG_OK);

	/* Deleting a user ends everything issued to them. */
	CU_ASSERT_EQUAL(jg_store_user_delete(st, "alice"), JG_OK);
	CU_ASSERT_EQUAL(jg_store_code_redeem(st, "code-a", T0, &out, NULL), JG_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(jg_store_refresh_lookup(st, "rt-a", T0, &r), JG_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(jg_store_session_get(st, "s-a", T0, &s), JG_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(jg_store_consent_revoke(st, alice_sub, "spa"), JG_ERR_NOT_FOUND);

	/* Deleting a client likewise. */
	CU_ASSERT_EQUAL(jg_store_client_delete(st, "spa"), JG_OK);
	CU_ASSERT_EQUAL(jg_store_refresh_lookup(st, "rt-b", T0, &r), JG_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(jg_store_consent_has(st, bob_sub, "app", "openid", &granted), JG_OK);
	CU_ASSERT_EQUAL(granted, true);
	CU_ASSERT_EQUAL(jg_store_client_delete(st, "app"), JG_OK);
	CU_ASSERT_EQUAL(jg_store_consent_has(st, bob_sub, "app", "openid", &granted), JG_OK);
	CU_ASSERT_EQUAL(granted, false);
	CU_ASSERT_PTR_NULL(out);
	CU_ASSERT_PTR_NULL(r);
	CU_ASSERT_PTR_NULL(s);
	jg_store_close(st);
}

/* ---------------------------------------------------------------- busy database */

static void
test_busy(void)
{
	struct jg_store *st = NULL, *st2 = NULL, *st3 = NULL;
	struct jg_code c = code_for_alice(), *out = NULL;
	struct jg_refresh *r = NULL;
	struct jg_user *u = NULL;
	struct jg_user carol = { .sub = "sub-carol", .username = "carol",
				 .password_hash = "$y$carol" };
	struct jg_client other = client_spa();
	struct timespec start;
	char *path, *path2, *msg = NULL;
	int64_t fam;
	sqlite3 *db;
	double waited;
	bool reuse = true;
	unsigned count = 99;

	st = open_new(&path);
	jg_store_close(st);
	st = NULL;
	CU_ASSERT_EQUAL_FATAL(jg_store_open(path, 100, &st, NULL), JG_OK);
	seed(st);
	CU_ASSERT_EQUAL(jg_store_code_insert(st, "code-busy", &c), JG_OK);
	CU_ASSERT_EQUAL(jg_store_refresh_create(st, "rt-busy", "app", alice_sub, "", T0, T0,
						100, 1000, &fam), JG_OK);

	/* Another connection holds the write lock. */
	CU_ASSERT_FATAL(sqlite3_open(path, &db) == SQLITE_OK);
	CU_ASSERT_FATAL(sqlite3_exec(db, "BEGIN EXCLUSIVE; INSERT INTO login_failures"
				     " (key, at) VALUES ('held', 1700000000)", NULL, NULL, NULL) == SQLITE_OK);

	clock_gettime(CLOCK_MONOTONIC, &start);
	CU_ASSERT_EQUAL(jg_store_fail_record(st, "user:alice", T0), JG_ERR_BUSY);
	waited = seconds_since(&start);
	/* The busy timeout (100 ms) was honoured, then the store gave up. */
	CU_ASSERT(waited >= 0.09);
	CU_ASSERT(waited < 5.0);
	CU_ASSERT_EQUAL(jg_store_code_redeem(st, "code-busy", T0, &out, NULL), JG_ERR_BUSY);
	CU_ASSERT_EQUAL(jg_store_refresh_rotate(st, "rt-busy", "rt-busy-2", T0, 100, &r, &reuse),
			JG_ERR_BUSY);
	CU_ASSERT_EQUAL(reuse, false);
	CU_ASSERT_EQUAL(jg_store_user_add(st, &carol, T0), JG_ERR_BUSY);
	other.client_id = "other";
	CU_ASSERT_EQUAL(jg_store_client_add(st, &other, T0), JG_ERR_BUSY);
	CU_ASSERT_EQUAL(jg_store_consent_grant(st, alice_sub, "app", "openid", T0), JG_ERR_BUSY);
	CU_ASSERT_EQUAL(jg_store_purge(st, T0, 10), JG_ERR_BUSY);
	CU_ASSERT_EQUAL(jg_store_refresh_create(st, "rt-busy-3", "app", alice_sub, "", T0, T0,
						100, 1000, &fam), JG_ERR_BUSY);
	CU_ASSERT_PTR_NULL(out);
	CU_ASSERT_PTR_NULL(r);

	/* WAL: readers are not blocked, and a second handle opens fine. */
	CU_ASSERT_EQUAL(jg_store_user_get(st, "alice", &u), JG_OK);
	jg_user_free(u);
	u = NULL;
	CU_ASSERT_EQUAL(jg_store_fail_count(st, "held", 0, &count), JG_OK);
	CU_ASSERT_EQUAL(count, 0);
	CU_ASSERT_EQUAL_FATAL(jg_store_open(path, 0, &st2, NULL), JG_OK);
	/* No busy timeout: BUSY at once. */
	clock_gettime(CLOCK_MONOTONIC, &start);
	CU_ASSERT_EQUAL(jg_store_jti_revoke(st2, "j", T0), JG_ERR_BUSY);
	CU_ASSERT(seconds_since(&start) < 0.09);

	/* Opening a database that needs migrating while it is locked. */
	path2 = new_path();
	{
		sqlite3 *db2;

		CU_ASSERT_FATAL(sqlite3_open(path2, &db2) == SQLITE_OK);
		CU_ASSERT_FATAL(sqlite3_exec(db2, "PRAGMA journal_mode = WAL; CREATE TABLE t (x);"
					     " BEGIN EXCLUSIVE; INSERT INTO t VALUES (1)",
					     NULL, NULL, NULL) == SQLITE_OK);
		CU_ASSERT_EQUAL(jg_store_open(path2, 100, &st3, &msg), JG_ERR_BUSY);
		CU_ASSERT_PTR_NULL(st3);
		CU_ASSERT_PTR_NOT_NULL(msg);
		free(msg);
		msg = NULL;
		CU_ASSERT_FATAL(sqlite3_exec(db2, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
		sqlite3_close(db2);
		CU_ASSERT_EQUAL(raw_user_version(path2), 0);
	}
	jg_store_close(st2);
	CU_ASSERT_EQUAL_FATAL(jg_store_open(path2, 100, &st3, NULL), JG_OK);
	CU_ASSERT_EQUAL(jg_store_schema_version(st3), JG_STORE_SCHEMA_VERSION);
	jg_store_close(st3);
	free(path2);

	/* Once the lock is gone everything works: no transaction was left
	 * open, and the busy attempts consumed nothing. */
	CU_ASSERT_FATAL(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	CU_ASSERT_EQUAL(jg_store_fail_record(st, "user:alice", T0), JG_OK);
	CU_ASSERT_EQUAL(jg_store_code_redeem(st, "code-busy", T0, &out, NULL), JG_OK);
	jg_code_free(out);
	CU_ASSERT_EQUAL(jg_store_refresh_rotate(st, "rt-busy", "rt-busy-2", T0, 100, &r, &reuse),
			JG_OK);
	CU_ASSERT_EQUAL(reuse, false);
	jg_refresh_free(r);
	CU_ASSERT_EQUAL(jg_store_user_add(st, &carol, T0), JG_OK);
	CU_ASSERT_EQUAL(jg_store_client_add(st, &other, T0), JG_OK);
	CU_ASSERT_EQUAL(jg_store_consent_grant(st, alice_sub, "app", "openid", T0), JG_OK);
	CU_ASSERT_EQUAL(jg_store_purge(st, T0, 10), JG_OK);
	CU_ASSERT_EQUAL(jg_store_fail_count(st, "held", 0, &count), JG_OK);
	CU_ASSERT_EQUAL(count, 1);
	jg_store_close(st);
	free(path);
}

/* ---------------------------------------------------------------- races */

enum race_kind { RACE_OPEN, RACE_CODE, RACE_REFRESH };

/* Child exit statuses. */
#define WON 0
#define LOST 1		/* definitively refused: replay or reuse detected */
#define FAILED 2	/* anything else: a bug */

/* One racing process: open the store, wait at the barrier, then try once,
 * retrying only while the store is busy.  Never returns. */
static void
race_child(const char *path, enum race_kind kind, int barrier, unsigned index)
{
	struct jg_store *st = NULL;
	struct jg_code *c = NULL;
	struct jg_code_replay rep = { 0 };
	struct jg_refresh *r = NULL;
	char *new_token = jg_xasprintf("rt-new-%u", index);
	enum jg_err err = JG_ERR_BUSY;
	bool reuse = false;
	int status = FAILED, tries;
	char b;

	if (kind == RACE_OPEN) {
		/* Wait first, then all open a new database at once. */
		while (read(barrier, &b, 1) < 0 && errno == EINTR)
			;
		err = JG_ERR_BUSY;
		for (tries = 0; tries < 100 && err == JG_ERR_BUSY; tries++)
			err = jg_store_open(path, 10000, &st, NULL);
		if (err == JG_OK && jg_store_schema_version(st) == JG_STORE_SCHEMA_VERSION &&
		    jg_store_fail_record(st, "opened", T0) == JG_OK)
			status = WON;
		jg_store_close(st);
		free(new_token);
		_exit(status);
	}
	for (tries = 0; tries < 100 && err == JG_ERR_BUSY; tries++)
		err = jg_store_open(path, 10000, &st, NULL);
	if (err != JG_OK)
		_exit(FAILED);
	while (read(barrier, &b, 1) < 0 && errno == EINTR)
		;
	err = JG_ERR_BUSY;
	for (tries = 0; tries < 100 && err == JG_ERR_BUSY; tries++) {
		if (kind == RACE_CODE)
			err = jg_store_code_redeem(st, "the-code", T0 + 1, &c, &rep);
		else
			err = jg_store_refresh_rotate(st, "the-token", new_token, T0 + 1, 3600,
						      &r, &reuse);
	}
	if (err == JG_OK)
		status = WON;
	else if (err == JG_ERR_DENIED && (kind == RACE_CODE ? rep.replayed : reuse))
		status = LOST;
	jg_code_free(c);
	jg_code_replay_clear(&rep);
	jg_refresh_free(r);
	free(new_token);
	jg_store_close(st);
	_exit(status);
}

/* Forks n (at most RACERS) processes that race on one database and
 * returns the number that won, the number that lost and the index of a
 * winner (or -1). */
static void
race_run(const char *path, enum race_kind kind, unsigned n, int *won_out,
	 int *lost_out, int *winner_out)
{
	pid_t pids[RACERS];
	int fds[2], status, won = 0, lost = 0, failed = 0, winner = -1;
	unsigned i, j, forked;
	pid_t pid;

	CU_ASSERT_FATAL(n <= RACERS);
	CU_ASSERT_FATAL(pipe(fds) == 0);
	fflush(NULL);
	for (forked = 0; forked < n; forked++) {
		pids[forked] = fork();
		if (pids[forked] < 0)
			break;
		if (pids[forked] == 0) {
			close(fds[1]);
			race_child(path, kind, fds[0], forked);
		}
	}
	/* All children wait for end of file on the pipe: closing the last
	 * write end starts them together.  (Also after a failed fork, so that
	 * the children forked so far finish and are reaped.) */
	close(fds[0]);
	close(fds[1]);
	CU_ASSERT_EQUAL(forked, n);
	n = forked;
	for (i = 0; i < n; i++) {
		pid = waitpid(-1, &status, 0);
		CU_ASSERT_FATAL(pid > 0);
		for (j = 0; j < n && pids[j] != pid; j++)
			;
		CU_ASSERT_FATAL(j < n);
		if (WIFEXITED(status) && WEXITSTATUS(status) == WON) {
			won++;
			winner = (int)j;
		} else if (WIFEXITED(status) && WEXITSTATUS(status) == LOST) {
			lost++;
		} else {
			failed++;
		}
	}
	CU_ASSERT_EQUAL(failed, 0);
	*won_out = won;
	*lost_out = lost;
	*winner_out = winner;
}

/* Races for one code or token; returns the index of the winner, or -1,
 * after checking that exactly one won and all the others were refused for
 * replay or reuse. */
static int
race(const char *path, enum race_kind kind)
{
	int won, lost, winner;

	race_run(path, kind, RACERS, &won, &lost, &winner);
	CU_ASSERT_EQUAL(won, 1);
	CU_ASSERT_EQUAL(lost, RACERS - 1);
	return won == 1 ? winner : -1;
}

static void
test_race_open(void)
{
	char *path = new_path();
	int won, lost, winner;

	/* Every process opens (and so migrates) a new database at once: all
	 * succeed, and the schema is created exactly once. */
	race_run(path, RACE_OPEN, OPENERS, &won, &lost, &winner);
	CU_ASSERT_EQUAL(won, OPENERS);
	CU_ASSERT_EQUAL(lost, 0);
	CU_ASSERT_EQUAL(raw_user_version(path), JG_STORE_SCHEMA_VERSION);
	CU_ASSERT_EQUAL(raw_int(path, "SELECT count(*) FROM login_failures"), OPENERS);
	free(path);
}

static void
test_race_code(void)
{
	struct jg_store *st;
	struct jg_code c = code_for_alice(), *out = NULL;
	struct jg_code_replay rep;
	char *path;

	st = open_new(&path);
	seed(st);
	CU_ASSERT_EQUAL_FATAL(jg_store_code_insert(st, "the-code", &c), JG_OK);
	/* No connection may cross fork(): close before, reopen after. */
	jg_store_close(st);

	CU_ASSERT(race(path, RACE_CODE) >= 0);

	CU_ASSERT_EQUAL_FATAL(jg_store_open(path, 2000, &st, NULL), JG_OK);
	CU_ASSERT_EQUAL(jg_store_code_redeem(st, "the-code", T0 + 2, &out, &rep), JG_ERR_DENIED);
	CU_ASSERT_EQUAL(rep.replayed, true);
	jg_code_replay_clear(&rep);
	/* The winner recording what it issued now fails: it was replayed. */
	CU_ASSERT_EQUAL(jg_store_code_set_issued(st, "the-code", 0, "jti-x", T0 + 300),
			JG_ERR_DENIED);
	jg_store_close(st);
	free(path);
}

static void
test_race_refresh(void)
{
	struct jg_store *st;
	struct jg_refresh *r = NULL;
	char *path, *tok;
	int64_t fam;
	int winner;
	unsigned i, found = 0;
	enum jg_err err;

	st = open_new(&path);
	seed(st);
	CU_ASSERT_EQUAL_FATAL(jg_store_refresh_create(st, "the-token", "app", alice_sub,
						      "openid", T0, T0, 3600, 86400, &fam), JG_OK);
	jg_store_close(st);

	winner = race(path, RACE_REFRESH);
	CU_ASSERT_FATAL(winner >= 0);

	/* Every loser presented the rotated token: the family is revoked at
	 * T0 + 1, the old token rotated at T0 + 1, and only the winner's new
	 * token exists, inactive. */
	CU_ASSERT_EQUAL_FATAL(jg_store_open(path, 2000, &st, NULL), JG_OK);
	CU_ASSERT_EQUAL_FATAL(jg_store_refresh_lookup(st, "the-token", T0 + 2, &r), JG_OK);
	CU_ASSERT_EQUAL(r->family_id, fam);
	CU_ASSERT_EQUAL(r->rotated_at, T0 + 1);
	CU_ASSERT_EQUAL(r->revoked_at, T0 + 1);
	CU_ASSERT_EQUAL(r->active, false);
	jg_refresh_free(r);
	r = NULL;
	for (i = 0; i < RACERS; i++) {
		tok = jg_xasprintf("rt-new-%u", i);
		err = jg_store_refresh_lookup(st, tok, T0 + 2, &r);
		if ((int)i == winner) {
			CU_ASSERT_EQUAL(err, JG_OK);
		} else {
			CU_ASSERT_EQUAL(err, JG_ERR_NOT_FOUND);
		}
		if (err == JG_OK) {
			found++;
			CU_ASSERT_EQUAL(r->family_id, fam);
			CU_ASSERT_EQUAL(r->created, T0 + 1);
			CU_ASSERT_EQUAL(r->rotated_at, 0);
			CU_ASSERT_EQUAL(r->revoked_at, T0 + 1);
			CU_ASSERT_EQUAL(r->active, false);
			jg_refresh_free(r);
			r = NULL;
		}
		free(tok);
	}
	CU_ASSERT_EQUAL(found, 1);
	jg_store_close(st);
	free(path);
}

/* ---------------------------------------------------------------- main */

/* Removes the temporary folder and the databases in it. */
static void
remove_tmpdir(void)
{
	struct dirent *e;
	DIR *d = opendir(tmpdir);
	char *p;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		p = jg_xasprintf("%s/%s", tmpdir, e->d_name);
		unlink(p);
		free(p);
	}
	closedir(d);
	rmdir(tmpdir);
}

int
main(void)
{
	static const struct jg_test tests[] = {
		{ "open: schema version, WAL, private file, reopen", test_open_schema },
		{ "open: errors and a newer schema", test_open_errors },
		{ "open: a failed migration is rolled back", test_migration_failure },
		{ "random tokens", test_random_token },
		{ "users", test_users },
		{ "clients", test_clients },
		{ "authorization codes", test_codes },
		{ "authorization codes: family and record in one transaction", test_code_issue },
		{ "refresh tokens", test_refresh },
		{ "SSO sessions", test_sessions },
		{ "user disable: one transaction", test_user_disable },
		{ "consents", test_consents },
		{ "revoked jtis", test_jti },
		{ "login failures", test_failures },
		{ "purge", test_purge },
		{ "delete cascades", test_cascade },
		{ "busy database", test_busy },
		{ "race: many processes open a new database", test_race_open },
		{ "race: one code, many redeemers", test_race_code },
		{ "race: one refresh token, many rotators", test_race_refresh },
		{ NULL, NULL }
	};
	int rc;

	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	rc = jg_test_main("store", tests);
	remove_tmpdir();
	return rc;
}
