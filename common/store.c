/* store.c: the SQLite store shared by every jwtgate process. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <sqlite3.h>

#include "b64url.h"
#include "store.h"

/* Longest free text (scope lists, addresses, hashes) accepted. */
#define TEXT_MAX 65536
/* Most scope-tokens in one scope list. */
#define SCOPE_MAX 64
/* Hex SHA-256 plus NUL. */
#define HASH_HEX 65

/*
 * The schema.  Each entry brings version i to i + 1 and is never edited
 * once released: a change is a new entry.  Secrets (codes, refresh tokens,
 * session ids) are stored as hex SHA-256 in columns named hash.  Child
 * tables refer to users by sub and to clients by client_id, and cascade on
 * delete, so deleting a user or client ends everything issued to it.
 */
static const char *const builtin_migrations[] = {
	/* 1: the initial schema. */
	"CREATE TABLE users ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" sub TEXT NOT NULL UNIQUE,"
	" username TEXT NOT NULL UNIQUE,"
	" password_hash TEXT NOT NULL,"
	" name TEXT, given_name TEXT, family_name TEXT, email TEXT,"
	" email_verified INTEGER NOT NULL DEFAULT 0 CHECK (email_verified IN (0, 1)),"
	" phone_number TEXT, address TEXT,"
	" disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),"
	" created INTEGER NOT NULL);"
	"CREATE TABLE clients ("
	" client_id TEXT PRIMARY KEY NOT NULL,"
	" secret_hash TEXT,"
	" name TEXT,"
	" grant_types TEXT NOT NULL,"
	" scopes TEXT NOT NULL,"
	" first_party INTEGER NOT NULL DEFAULT 0 CHECK (first_party IN (0, 1)),"
	" access_token_lifetime INTEGER NOT NULL DEFAULT 0 CHECK (access_token_lifetime >= 0),"
	" refresh_idle_lifetime INTEGER NOT NULL DEFAULT 0 CHECK (refresh_idle_lifetime >= 0),"
	" refresh_absolute_lifetime INTEGER NOT NULL DEFAULT 0 CHECK (refresh_absolute_lifetime >= 0),"
	" id_token_alg TEXT,"
	" created INTEGER NOT NULL);"
	/* kind 0: redirect URI, 1: post-logout redirect URI. */
	"CREATE TABLE client_uris ("
	" client_id TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,"
	" kind INTEGER NOT NULL CHECK (kind IN (0, 1)),"
	" position INTEGER NOT NULL,"
	" uri TEXT NOT NULL,"
	" PRIMARY KEY (client_id, kind, position),"
	" UNIQUE (client_id, kind, uri)) WITHOUT ROWID;"
	"CREATE TABLE families ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" client_id TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,"
	" sub TEXT NOT NULL REFERENCES users(sub) ON DELETE CASCADE,"
	" scope TEXT NOT NULL,"
	" auth_time INTEGER NOT NULL,"
	" created INTEGER NOT NULL,"
	" absolute_expires INTEGER NOT NULL,"
	" revoked_at INTEGER);"
	"CREATE INDEX families_client ON families(client_id);"
	"CREATE INDEX families_sub ON families(sub);"
	"CREATE INDEX families_expires ON families(absolute_expires);"
	"CREATE TABLE refresh_tokens ("
	" hash TEXT PRIMARY KEY NOT NULL,"
	" family_id INTEGER NOT NULL REFERENCES families(id) ON DELETE CASCADE,"
	" created INTEGER NOT NULL,"
	" idle_expires INTEGER NOT NULL,"
	" rotated_at INTEGER) WITHOUT ROWID;"
	"CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);"
	"CREATE TABLE codes ("
	" hash TEXT PRIMARY KEY NOT NULL,"
	" client_id TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,"
	" sub TEXT NOT NULL REFERENCES users(sub) ON DELETE CASCADE,"
	" redirect_uri TEXT NOT NULL,"
	" scope TEXT NOT NULL,"
	" nonce TEXT, code_challenge TEXT, code_challenge_method TEXT, session_id TEXT,"
	" auth_time INTEGER NOT NULL,"
	" created INTEGER NOT NULL,"
	" expires INTEGER NOT NULL,"
	" used_at INTEGER,"
	" replayed_at INTEGER,"
	" issued INTEGER NOT NULL DEFAULT 0,"
	" family_id INTEGER REFERENCES families(id) ON DELETE SET NULL,"
	" jti TEXT, jti_expires INTEGER) WITHOUT ROWID;"
	"CREATE INDEX codes_client ON codes(client_id);"
	"CREATE INDEX codes_sub ON codes(sub);"
	"CREATE INDEX codes_family ON codes(family_id);"
	"CREATE INDEX codes_expires ON codes(expires);"
	"CREATE TABLE sessions ("
	" hash TEXT PRIMARY KEY NOT NULL,"
	" sub TEXT NOT NULL REFERENCES users(sub) ON DELETE CASCADE,"
	" auth_time INTEGER NOT NULL,"
	" created INTEGER NOT NULL,"
	" expires INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX sessions_sub ON sessions(sub);"
	"CREATE INDEX sessions_expires ON sessions(expires);"
	/* scope '' records consent to the client itself. */
	"CREATE TABLE consents ("
	" sub TEXT NOT NULL REFERENCES users(sub) ON DELETE CASCADE,"
	" client_id TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,"
	" scope TEXT NOT NULL,"
	" granted INTEGER NOT NULL,"
	" PRIMARY KEY (sub, client_id, scope)) WITHOUT ROWID;"
	"CREATE INDEX consents_client ON consents(client_id);"
	"CREATE TABLE revoked_jti ("
	" jti TEXT PRIMARY KEY NOT NULL,"
	" expires INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX revoked_jti_expires ON revoked_jti(expires);"
	"CREATE TABLE login_failures ("
	" id INTEGER PRIMARY KEY,"
	" key TEXT NOT NULL,"
	" at INTEGER NOT NULL);"
	"CREATE INDEX login_failures_key ON login_failures(key, at);"
	"CREATE INDEX login_failures_at ON login_failures(at);",
	/* 2: whether the authorization request left redirect_uri out (RFC
	 * 6749 section 4.1.3 requires it at the token endpoint otherwise). */
	"ALTER TABLE codes ADD COLUMN redirect_uri_omitted INTEGER NOT NULL"
	" DEFAULT 0;",
};

_Static_assert(sizeof(builtin_migrations) / sizeof(builtin_migrations[0]) ==
	       JG_STORE_SCHEMA_VERSION,
	       "JG_STORE_SCHEMA_VERSION must equal the number of migrations");

/* Every statement the store runs, prepared once per handle on first use. */
enum stmt_id {
	S_BEGIN, S_BEGIN_READ, S_COMMIT, S_ROLLBACK, S_USER_VERSION,
	S_USER_ADD, S_USER_GET, S_USER_GET_SUB, S_USER_LIST, S_USER_PROFILE,
	S_USER_PASSWORD, S_USER_DISABLED, S_USER_DELETE,
	S_CLIENT_ADD, S_CLIENT_URI_ADD, S_CLIENT_GET, S_CLIENT_URIS,
	S_CLIENT_LIST, S_CLIENT_DELETE,
	S_CODE_INSERT, S_CODE_REDEEM, S_CODE_REPLAY, S_CODE_EXISTS,
	S_CODE_SET_ISSUED,
	S_FAMILY_INSERT, S_TOKEN_INSERT, S_TOKEN_ROTATE, S_TOKEN_LOOKUP,
	S_FAMILY_REVOKE, S_FAMILY_REVOKE_USER,
	S_SESSION_INSERT, S_SESSION_GET, S_SESSION_DELETE, S_SESSION_DELETE_USER,
	S_CONSENT_PUT, S_CONSENT_GET, S_CONSENT_REVOKE,
	S_JTI_REVOKE, S_JTI_GET, S_JTI_PURGE,
	S_FAIL_RECORD, S_FAIL_COUNT, S_FAIL_CLEAR, S_FAIL_PURGE,
	S_PURGE_CODES, S_PURGE_FAMILIES, S_PURGE_SESSIONS,
	S_COUNT
};

#define USER_COLUMNS "id, sub, username, password_hash, name, given_name," \
	" family_name, email, email_verified, phone_number, address, disabled, created"
#define CLIENT_COLUMNS "client_id, secret_hash, name, grant_types, scopes," \
	" first_party, access_token_lifetime, refresh_idle_lifetime," \
	" refresh_absolute_lifetime, id_token_alg, created"
#define CODE_COLUMNS "client_id, redirect_uri, sub, scope, nonce, code_challenge," \
	" code_challenge_method, session_id, auth_time, created, expires," \
	" redirect_uri_omitted"

static const char *const stmt_sql[S_COUNT] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_BEGIN_READ] = "BEGIN DEFERRED",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_USER_VERSION] = "PRAGMA user_version",

	[S_USER_ADD] = "INSERT INTO users (sub, username, password_hash, name,"
		" given_name, family_name, email, email_verified, phone_number,"
		" address, disabled, created)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
	[S_USER_GET] = "SELECT " USER_COLUMNS " FROM users WHERE username = ?1",
	[S_USER_GET_SUB] = "SELECT " USER_COLUMNS " FROM users WHERE sub = ?1",
	[S_USER_LIST] = "SELECT " USER_COLUMNS " FROM users ORDER BY username",
	[S_USER_PROFILE] = "UPDATE users SET name = ?2, given_name = ?3,"
		" family_name = ?4, email = ?5, email_verified = ?6,"
		" phone_number = ?7, address = ?8 WHERE username = ?1",
	[S_USER_PASSWORD] = "UPDATE users SET password_hash = ?2 WHERE username = ?1",
	[S_USER_DISABLED] = "UPDATE users SET disabled = ?2 WHERE username = ?1",
	[S_USER_DELETE] = "DELETE FROM users WHERE username = ?1",

	[S_CLIENT_ADD] = "INSERT INTO clients (" CLIENT_COLUMNS ")"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	[S_CLIENT_URI_ADD] = "INSERT INTO client_uris (client_id, kind, position, uri)"
		" VALUES (?1, ?2, ?3, ?4)",
	[S_CLIENT_GET] = "SELECT " CLIENT_COLUMNS " FROM clients WHERE client_id = ?1",
	[S_CLIENT_URIS] = "SELECT kind, uri FROM client_uris WHERE client_id = ?1"
		" ORDER BY kind, position",
	[S_CLIENT_LIST] = "SELECT " CLIENT_COLUMNS " FROM clients ORDER BY client_id",
	[S_CLIENT_DELETE] = "DELETE FROM clients WHERE client_id = ?1",

	[S_CODE_INSERT] = "INSERT INTO codes (hash, " CODE_COLUMNS ")"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
	/* The single atomic step of redemption: only one UPDATE can find
	 * used_at still NULL. */
	[S_CODE_REDEEM] = "UPDATE codes SET used_at = ?2"
		" WHERE hash = ?1 AND used_at IS NULL AND expires > ?2"
		" RETURNING " CODE_COLUMNS,
	[S_CODE_REPLAY] = "UPDATE codes SET replayed_at = coalesce(replayed_at, ?2)"
		" WHERE hash = ?1 AND used_at IS NOT NULL"
		" RETURNING family_id, jti, jti_expires",
	[S_CODE_EXISTS] = "SELECT 1 FROM codes WHERE hash = ?1",
	[S_CODE_SET_ISSUED] = "UPDATE codes SET issued = 1, family_id = ?2,"
		" jti = ?3, jti_expires = ?4 WHERE hash = ?1"
		" AND used_at IS NOT NULL AND replayed_at IS NULL AND issued = 0",

	[S_FAMILY_INSERT] = "INSERT INTO families (client_id, sub, scope,"
		" auth_time, created, absolute_expires)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
	/* A token never outlives its family. */
	[S_TOKEN_INSERT] = "INSERT INTO refresh_tokens (hash, family_id, created,"
		" idle_expires) SELECT ?1, id, ?3, min(?4, absolute_expires)"
		" FROM families WHERE id = ?2",
	[S_TOKEN_ROTATE] = "UPDATE refresh_tokens SET rotated_at = ?2"
		" WHERE hash = ?1 AND rotated_at IS NULL AND idle_expires > ?2"
		" AND EXISTS (SELECT 1 FROM families f"
		" WHERE f.id = refresh_tokens.family_id AND f.revoked_at IS NULL"
		" AND f.absolute_expires > ?2)"
		" RETURNING family_id",
	[S_TOKEN_LOOKUP] = "SELECT f.id, f.client_id, f.sub, f.scope, f.auth_time,"
		" f.created, f.absolute_expires, f.revoked_at, t.created,"
		" t.idle_expires, t.rotated_at"
		" FROM refresh_tokens t JOIN families f ON f.id = t.family_id"
		" WHERE t.hash = ?1",
	[S_FAMILY_REVOKE] = "UPDATE families SET revoked_at = coalesce(revoked_at, ?2)"
		" WHERE id = ?1",
	[S_FAMILY_REVOKE_USER] = "UPDATE families SET revoked_at = ?2"
		" WHERE sub = ?1 AND revoked_at IS NULL",

	[S_SESSION_INSERT] = "INSERT INTO sessions (hash, sub, auth_time, created,"
		" expires) VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_SESSION_GET] = "SELECT sub, auth_time, created, expires FROM sessions"
		" WHERE hash = ?1 AND expires > ?2",
	[S_SESSION_DELETE] = "DELETE FROM sessions WHERE hash = ?1",
	[S_SESSION_DELETE_USER] = "DELETE FROM sessions WHERE sub = ?1",

	[S_CONSENT_PUT] = "INSERT INTO consents (sub, client_id, scope, granted)"
		" VALUES (?1, ?2, ?3, ?4) ON CONFLICT (sub, client_id, scope)"
		" DO UPDATE SET granted = excluded.granted",
	[S_CONSENT_GET] = "SELECT 1 FROM consents"
		" WHERE sub = ?1 AND client_id = ?2 AND scope = ?3",
	[S_CONSENT_REVOKE] = "DELETE FROM consents WHERE sub = ?1 AND client_id = ?2",

	[S_JTI_REVOKE] = "INSERT INTO revoked_jti (jti, expires) VALUES (?1, ?2)"
		" ON CONFLICT (jti) DO UPDATE"
		" SET expires = max(expires, excluded.expires)",
	[S_JTI_GET] = "SELECT 1 FROM revoked_jti WHERE jti = ?1",
	[S_JTI_PURGE] = "DELETE FROM revoked_jti WHERE expires <= ?1",

	[S_FAIL_RECORD] = "INSERT INTO login_failures (key, at) VALUES (?1, ?2)",
	[S_FAIL_COUNT] = "SELECT count(*) FROM login_failures WHERE key = ?1 AND at >= ?2",
	[S_FAIL_CLEAR] = "DELETE FROM login_failures WHERE key = ?1",
	[S_FAIL_PURGE] = "DELETE FROM login_failures WHERE at < ?1",

	[S_PURGE_CODES] = "DELETE FROM codes WHERE expires <= ?1",
	[S_PURGE_FAMILIES] = "DELETE FROM families WHERE absolute_expires <= ?1"
		" OR NOT EXISTS (SELECT 1 FROM refresh_tokens t"
		" WHERE t.family_id = families.id AND t.idle_expires > ?1)",
	[S_PURGE_SESSIONS] = "DELETE FROM sessions WHERE expires <= ?1",
};

struct jg_store {
	sqlite3 *db;
	unsigned busy_timeout_ms;
	sqlite3_stmt *stmts[S_COUNT];
};

/* ---------------------------------------------------------------- helpers */

/* Maps an SQLite result code (extended codes are on) to the store's errors. */
static enum jg_err
map_rc(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return JG_OK;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_PROTOCOL:	/* WAL lock contention, transient */
		return JG_ERR_BUSY;
	case SQLITE_CONSTRAINT:
		switch (rc) {
		case SQLITE_CONSTRAINT_UNIQUE:
		case SQLITE_CONSTRAINT_PRIMARYKEY:
			return JG_ERR_EXISTS;
		case SQLITE_CONSTRAINT_FOREIGNKEY:
			return JG_ERR_NOT_FOUND;
		default:
			return JG_ERR_MALFORMED;
		}
	default:
		return JG_ERR_SYSTEM;
	}
}

/* Returns the cached statement id, preparing it on first use. */
static enum jg_err
prep(struct jg_store *st, enum stmt_id id, sqlite3_stmt **out)
{
	int rc;

	if (st->stmts[id] == NULL) {
		rc = sqlite3_prepare_v3(st->db, stmt_sql[id], -1,
					SQLITE_PREPARE_PERSISTENT, &st->stmts[id], NULL);
		if (rc != SQLITE_OK) {
			sqlite3_finalize(st->stmts[id]);
			st->stmts[id] = NULL;
			return map_rc(rc) == JG_ERR_BUSY ? JG_ERR_BUSY : JG_ERR_SYSTEM;
		}
	}
	*out = st->stmts[id];
	return JG_OK;
}

/* Readies a used statement for its next use. */
static void
finish(sqlite3_stmt *s)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

static bool
bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v == NULL)
		return sqlite3_bind_null(s, i) == SQLITE_OK;
	return sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT) == SQLITE_OK;
}

static bool
bind_int(sqlite3_stmt *s, int i, int64_t v)
{
	return sqlite3_bind_int64(s, i, (sqlite3_int64)v) == SQLITE_OK;
}

/* Binds v, or NULL when v is 0 (an absent id). */
static bool
bind_id(sqlite3_stmt *s, int i, int64_t v)
{
	if (v == 0)
		return sqlite3_bind_null(s, i) == SQLITE_OK;
	return bind_int(s, i, v);
}

/* Steps s once: JG_OK with *row telling whether a row came, or the error. */
static enum jg_err
step(sqlite3_stmt *s, bool *row)
{
	int rc = sqlite3_step(s);

	*row = rc == SQLITE_ROW;
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return JG_OK;
	return map_rc(rc);
}

/* Steps s until it is done, so that an autocommit write commits here and
 * its outcome is known. */
static enum jg_err
step_done(sqlite3_stmt *s)
{
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		;
	return rc == SQLITE_DONE ? JG_OK : map_rc(rc);
}

/* Prepares, runs to completion and resets a statement without parameters. */
static enum jg_err
exec_id(struct jg_store *st, enum stmt_id id)
{
	sqlite3_stmt *s;
	enum jg_err err;

	if ((err = prep(st, id, &s)) != JG_OK)
		return err;
	err = step_done(s);
	finish(s);
	return err;
}

/* Ends the open transaction, if SQLite has not ended it already. */
static void
rollback(struct jg_store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		(void)exec_id(st, S_ROLLBACK);
}

static enum jg_err
begin(struct jg_store *st)
{
	return exec_id(st, S_BEGIN);
}

/* Commits; on failure rolls back, so no transaction is left open. */
static enum jg_err
commit(struct jg_store *st)
{
	enum jg_err err = exec_id(st, S_COMMIT);

	if (err != JG_OK)
		rollback(st);
	return err;
}

/* Returns a copy of a text column, or NULL for SQL NULL. */
static char *
col_text(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	if (t == NULL)
		return NULL;
	return jg_xstrndup((const char *)t, (size_t)sqlite3_column_bytes(s, i));
}

static int64_t
col_int(sqlite3_stmt *s, int i)
{
	return (int64_t)sqlite3_column_int64(s, i);
}

/* A required identifier: non-empty and at most JG_STORE_NAME_MAX bytes. */
static bool
ok_name(const char *s)
{
	size_t n;

	if (s == NULL)
		return false;
	n = strnlen(s, JG_STORE_NAME_MAX + 1);
	return n > 0 && n <= JG_STORE_NAME_MAX;
}

/* A required text that may be empty. */
static bool
ok_text(const char *s)
{
	return s != NULL && strnlen(s, TEXT_MAX + 1) <= TEXT_MAX;
}

/* An optional text: NULL or a text. */
static bool
ok_opt(const char *s)
{
	return s == NULL || ok_text(s);
}

/* Writes the hex SHA-256 of a raw secret to out. */
static enum jg_err
hash_secret(const char *raw, char out[HASH_HEX])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char digest[32];
	size_t len, i;

	if (raw == NULL)
		return JG_ERR_MALFORMED;
	len = strnlen(raw, JG_STORE_SECRET_MAX + 1);
	if (len == 0 || len > JG_STORE_SECRET_MAX)
		return JG_ERR_MALFORMED;
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, raw, len, digest) < 0)
		return JG_ERR_SYSTEM;
	for (i = 0; i < sizeof(digest); i++) {
		out[2 * i] = hex[digest[i] >> 4];
		out[2 * i + 1] = hex[digest[i] & 0xf];
	}
	out[2 * sizeof(digest)] = '\0';
	return JG_OK;
}

/* a + b, or false when it overflows. */
static bool
add_time(int64_t a, int64_t b, int64_t *sum)
{
	return !__builtin_add_overflow(a, b, sum);
}

/* a - b, clamped at INT64_MIN. */
static int64_t
sub_time(int64_t a, int64_t b)
{
	int64_t d;

	if (__builtin_sub_overflow(a, b, &d))
		return INT64_MIN;
	return d;
}

char *
jg_random_token(size_t nbytes)
{
	unsigned char buf[256];
	char *s;

	if (nbytes < 16 || nbytes > sizeof(buf))
		return NULL;
	if (gnutls_rnd(GNUTLS_RND_KEY, buf, nbytes) != 0) {
		jg_wipe(buf, sizeof(buf));
		return NULL;
	}
	s = jg_b64url_encode(buf, nbytes);
	jg_wipe(buf, sizeof(buf));
	return s;
}

/* ---------------------------------------------------------------- open, migrate */

/* Milliseconds slept before the count-th retry of one lock attempt: 1 ms
 * four times, 2 ms six times, then 5 ms. */
static unsigned
busy_delay(int count)
{
	return count < 4 ? 1 : count < 10 ? 2 : 5;
}

/* Milliseconds slept before the first count retries together. */
static uint64_t
busy_slept(int count)
{
	uint64_t c = count > 0 ? (uint64_t)count : 0;

	if (c <= 4)
		return c;
	if (c <= 10)
		return 4 + 2 * (c - 4);
	return 16 + 5 * (c - 10);
}

/* The busy handler: SQLite calls it while another connection holds a lock
 * we need, with count = number of earlier calls for this attempt.  Returns
 * nonzero to retry, 0 to give up with SQLITE_BUSY.  Writers hold the lock
 * for well under a millisecond, so this polls with short sleeps (SQLite's
 * own busy_timeout backs off to 100 ms, which leaves the lock idle while
 * many processes wait). */
static int
busy_wait(void *ctx, int count)
{
	const struct jg_store *st = ctx;
	uint64_t waited = busy_slept(count);
	struct timespec ts;
	unsigned delay;

	if (waited >= st->busy_timeout_ms)
		return 0;
	delay = busy_delay(count);
	if (delay > st->busy_timeout_ms - waited)
		delay = (unsigned)(st->busy_timeout_ms - waited);
	ts.tv_sec = 0;
	ts.tv_nsec = (long)delay * 1000000L;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	return 1;
}

/* Reads PRAGMA user_version with a one-off statement. */
static int
read_user_version(sqlite3 *db, int *version)
{
	sqlite3_stmt *s = NULL;
	int rc;

	rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL);
	if (rc != SQLITE_OK)
		goto out;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*version = sqlite3_column_int(s, 0);
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		rc = SQLITE_ERROR;
	}
out:
	sqlite3_finalize(s);
	return rc;
}

/* Runs a pragma that answers one text row and checks the answer.  Returns
 * an SQLite code; SQLITE_MISMATCH when the answer differs. */
static int
pragma_expect(sqlite3 *db, const char *sql, const char *expect)
{
	sqlite3_stmt *s = NULL;
	const unsigned char *t;
	int rc;

	rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
	if (rc != SQLITE_OK)
		goto out;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		t = sqlite3_column_text(s, 0);
		rc = t && strcmp((const char *)t, expect) == 0 ? SQLITE_OK : SQLITE_MISMATCH;
	} else if (rc == SQLITE_DONE) {
		rc = SQLITE_MISMATCH;
	}
out:
	sqlite3_finalize(s);
	return rc;
}

/* Applies the missing migrations one transaction each.  Another process
 * may be migrating at the same time: the version is read again inside each
 * IMMEDIATE transaction, so every step runs exactly once. */
static enum jg_err
migrate(sqlite3 *db, const char *path, const char *const *migrations,
	size_t n, char **errmsg)
{
	char *sqlerr = NULL;
	char pragma[64];
	int version, rc;

	rc = read_user_version(db, &version);
	if (rc != SQLITE_OK)
		goto sqlfail;
	if (version < 0 || (size_t)version > n) {
		if (errmsg)
			*errmsg = jg_xasprintf("%s: schema version %d is newer than this"
					       " program's %zu", path, version, n);
		return JG_ERR_SYSTEM;
	}
	while ((size_t)version < n) {
		rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
		if (rc != SQLITE_OK)
			goto sqlfail;
		rc = read_user_version(db, &version);
		if (rc != SQLITE_OK)
			goto rollback;
		if (version < 0 || (size_t)version >= n) {
			/* Another process did the work in the meantime. */
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			if (version >= 0 && (size_t)version == n)
				break;
			if (errmsg)
				*errmsg = jg_xasprintf("%s: schema version %d is newer"
						       " than this program's %zu",
						       path, version, n);
			return JG_ERR_SYSTEM;
		}
		rc = sqlite3_exec(db, migrations[version], NULL, NULL, &sqlerr);
		if (rc != SQLITE_OK) {
			if (errmsg)
				*errmsg = jg_xasprintf("%s: migration to schema version %d"
						       " failed: %s", path, version + 1,
						       sqlerr ? sqlerr : sqlite3_errstr(rc));
			sqlite3_free(sqlerr);
			if (!sqlite3_get_autocommit(db))
				sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return map_rc(rc) == JG_ERR_BUSY ? JG_ERR_BUSY : JG_ERR_SYSTEM;
		}
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", version + 1);
		rc = sqlite3_exec(db, pragma, NULL, NULL, NULL);
		if (rc != SQLITE_OK)
			goto rollback;
		rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		if (rc != SQLITE_OK)
			goto rollback;
		version++;
	}
	return JG_OK;
rollback:
	if (errmsg)
		*errmsg = jg_xasprintf("%s: migration to schema version %d failed: %s",
				       path, version + 1, sqlite3_errmsg(db));
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return map_rc(rc) == JG_ERR_BUSY ? JG_ERR_BUSY : JG_ERR_SYSTEM;
sqlfail:
	if (errmsg)
		*errmsg = jg_xasprintf("%s: %s", path, sqlite3_errmsg(db));
	return map_rc(rc) == JG_ERR_BUSY ? JG_ERR_BUSY : JG_ERR_SYSTEM;
}

enum jg_err
jg_store_open_with_migrations(const char *path, unsigned busy_timeout_ms,
			      const char *const *migrations, size_t n_migrations,
			      struct jg_store **out, char **errmsg)
{
	struct jg_store *st = NULL;
	sqlite3_stmt *stmt;
	sqlite3 *db = NULL;
	enum jg_err err = JG_ERR_SYSTEM;
	int fd, rc, on = 1;

	if (errmsg)
		*errmsg = NULL;
	if (path == NULL || *path == '\0' || out == NULL ||
	    (migrations == NULL && n_migrations > 0) || n_migrations > INT_MAX ||
	    busy_timeout_ms > INT_MAX) {
		if (errmsg)
			*errmsg = jg_xstrdup("store: bad arguments");
		return JG_ERR_MALFORMED;
	}
	/* The file holds password hashes: create it private.  SQLite gives
	 * the -wal and -shm files the same mode. */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errmsg)
			*errmsg = jg_xasprintf("%s: %s", path, strerror(errno));
		return JG_ERR_SYSTEM;
	}
	close(fd);

	st = jg_xcalloc(1, sizeof(*st));
	st->busy_timeout_ms = busy_timeout_ms;
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK)
		goto sqlfail;
	sqlite3_extended_result_codes(db, 1);
	rc = sqlite3_busy_handler(db, busy_timeout_ms ? busy_wait : NULL, st);
	if (rc != SQLITE_OK)
		goto sqlfail;
	rc = sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
	if (rc != SQLITE_OK)
		goto sqlfail;
	rc = sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, (int *)NULL);
	if (rc != SQLITE_OK)
		goto sqlfail;
	rc = sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_FKEY, 1, &on);
	if (rc != SQLITE_OK)
		goto sqlfail;
	if (!on) {
		if (errmsg)
			*errmsg = jg_xasprintf("%s: SQLite lacks foreign keys", path);
		goto out;
	}
	rc = pragma_expect(db, "PRAGMA journal_mode = WAL", "wal");
	if (rc == SQLITE_MISMATCH) {
		if (errmsg)
			*errmsg = jg_xasprintf("%s: cannot use WAL journal mode", path);
		goto out;
	}
	if (rc != SQLITE_OK)
		goto sqlfail;
	rc = sqlite3_exec(db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		goto sqlfail;
	/* A 256 KiB page cache instead of SQLite's 2 MiB: it holds the hot
	 * b-tree pages, the kernel's page cache the rest, and a FastCGI
	 * process stays under 8 MiB resident (make bench, footprint). */
	rc = sqlite3_exec(db, "PRAGMA cache_size = -256", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		goto sqlfail;
	err = migrate(db, path, migrations, n_migrations, errmsg);
	if (err != JG_OK)
		goto out;

	st->db = db;
	/* Prepared now, so that ending a transaction never needs a prepare
	 * that could fail. */
	if ((err = prep(st, S_BEGIN, &stmt)) != JG_OK ||
	    (err = prep(st, S_COMMIT, &stmt)) != JG_OK ||
	    (err = prep(st, S_ROLLBACK, &stmt)) != JG_OK) {
		if (errmsg)
			*errmsg = jg_xasprintf("%s: %s", path, sqlite3_errmsg(db));
		jg_store_close(st);
		return err;
	}
	*out = st;
	return JG_OK;
sqlfail:
	err = map_rc(rc) == JG_ERR_BUSY ? JG_ERR_BUSY : JG_ERR_SYSTEM;
	if (errmsg)
		*errmsg = jg_xasprintf("%s: %s", path,
				       db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
out:
	sqlite3_close(db);
	free(st);
	return err;
}

enum jg_err
jg_store_open(const char *path, unsigned busy_timeout_ms, struct jg_store **out,
	      char **errmsg)
{
	return jg_store_open_with_migrations(path, busy_timeout_ms, builtin_migrations,
					     JG_STORE_SCHEMA_VERSION, out, errmsg);
}

void
jg_store_close(struct jg_store *st)
{
	size_t i;

	if (st == NULL)
		return;
	for (i = 0; i < S_COUNT; i++)
		sqlite3_finalize(st->stmts[i]);
	sqlite3_close(st->db);
	free(st);
}

int
jg_store_schema_version(struct jg_store *st)
{
	sqlite3_stmt *s;
	bool row;
	int v = -1;

	if (prep(st, S_USER_VERSION, &s) != JG_OK)
		return -1;
	if (step(s, &row) == JG_OK && row)
		v = sqlite3_column_int(s, 0);
	finish(s);
	return v;
}

const char *
jg_store_errmsg(struct jg_store *st)
{
	return sqlite3_errmsg(st->db);
}

enum jg_err
jg_store_purge(struct jg_store *st, int64_t now, int64_t failure_max_age)
{
	static const enum stmt_id ids[] = {
		S_PURGE_CODES, S_PURGE_FAMILIES, S_PURGE_SESSIONS, S_JTI_PURGE,
		S_FAIL_PURGE
	};
	sqlite3_stmt *s;
	enum jg_err err;
	int64_t when;
	size_t i;

	if (failure_max_age < 0)
		return JG_ERR_MALFORMED;
	if ((err = begin(st)) != JG_OK)
		return err;
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		if ((err = prep(st, ids[i], &s)) != JG_OK)
			goto fail;
		if (ids[i] == S_PURGE_CODES)
			when = sub_time(now, JG_STORE_CODE_RETENTION);
		else if (ids[i] == S_FAIL_PURGE)
			when = sub_time(now, failure_max_age);
		else
			when = now;
		err = bind_int(s, 1, when) ? step_done(s) : JG_ERR_SYSTEM;
		finish(s);
		if (err != JG_OK)
			goto fail;
	}
	return commit(st);
fail:
	rollback(st);
	return err;
}

/* ---------------------------------------------------------------- users */

void
jg_user_free(struct jg_user *u)
{
	if (u == NULL)
		return;
	free(u->sub);
	free(u->username);
	jg_free_secret(u->password_hash);
	free(u->name);
	free(u->given_name);
	free(u->family_name);
	free(u->email);
	free(u->phone_number);
	free(u->address);
	free(u);
}

void
jg_user_list_free(struct jg_user **list, size_t n)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; i < n; i++)
		jg_user_free(list[i]);
	free(list);
}

/* Builds a user from a row of USER_COLUMNS. */
static struct jg_user *
user_from_row(sqlite3_stmt *s)
{
	struct jg_user *u = jg_xcalloc(1, sizeof(*u));

	u->id = col_int(s, 0);
	u->sub = col_text(s, 1);
	u->username = col_text(s, 2);
	u->password_hash = col_text(s, 3);
	u->name = col_text(s, 4);
	u->given_name = col_text(s, 5);
	u->family_name = col_text(s, 6);
	u->email = col_text(s, 7);
	u->email_verified = col_int(s, 8) != 0;
	u->phone_number = col_text(s, 9);
	u->address = col_text(s, 10);
	u->disabled = col_int(s, 11) != 0;
	u->created = col_int(s, 12);
	return u;
}

static bool
ok_profile(const struct jg_user *u)
{
	return ok_opt(u->name) && ok_opt(u->given_name) && ok_opt(u->family_name) &&
		ok_opt(u->email) && ok_opt(u->phone_number) && ok_opt(u->address);
}

enum jg_err
jg_store_user_add(struct jg_store *st, const struct jg_user *u, int64_t now)
{
	sqlite3_stmt *s;
	enum jg_err err;

	if (u == NULL || !ok_name(u->sub) || !ok_name(u->username) ||
	    !ok_name(u->password_hash) || !ok_profile(u))
		return JG_ERR_MALFORMED;
	if ((err = prep(st, S_USER_ADD, &s)) != JG_OK)
		return err;
	if (bind_text(s, 1, u->sub) && bind_text(s, 2, u->username) &&
	    bind_text(s, 3, u->password_hash) && bind_text(s, 4, u->name) &&
	    bind_text(s, 5, u->given_name) && bind_text(s, 6, u->family_name) &&
	    bind_text(s, 7, u->email) && bind_int(s, 8, u->email_verified) &&
	    bind_text(s, 9, u->phone_number) && bind_text(s, 10, u->address) &&
	    bind_int(s, 11, u->disabled) && bind_int(s, 12, now))
		err = step_done(s);
	else
		err = JG_ERR_SYSTEM;
	finish(s);
	return err;
}

/* Runs a user query with one text parameter. */
static enum jg_err
user_get(struct jg_store *st, enum stmt_id id, const char *key, struct jg_user **out)
{
	sqlite3_stmt *s;
	enum jg_err err;
	bool row = false;

	if (!ok_name(key) || out == NULL)
		return JG_ERR_MALFORMED;
	if ((err = prep(st, id, &s)) != JG_OK)
		return err;
	err = bind_text(s, 1, key) ? step(s, &row) : JG_ERR_SYSTEM;
	if (err == JG_OK && !row)
		err = JG_ERR_NOT_FOUND;
	if (err == JG_OK)
		*out = user_from_row(s);
	finish(s);
	return err;
}

enum jg_err
jg_store_user_get(struct jg_store *st, const char *username, struct jg_user **out)
{
	return user_get(st, S_USER_GET, username, out);
}

enum jg_err
jg_store_user_get_by_sub(struct jg_store *st, const char *sub, struct jg_user **out)
{
	return user_get(st, S_USER_GET_SUB, sub, out);
}

/* Runs an UPDATE or DELETE that must touch a row: JG_ERR_NOT_FOUND when it
 * changed none.  The statement's parameters are bound already. */
static enum jg_err
change_one(struct jg_store *st, sqlite3_stmt *s)
{
	enum jg_err err = step_done(s);

	if (err == JG_OK && sqlite3_changes(st->db) == 0)
		err = JG_ERR_NOT_FOUND;
	finish(s);
	return err;
}

enum jg_err
jg_store_user_update_profile(struct jg_store *st, const struct jg_user *u)
{
	sqlite3_stmt *s;
	enum jg_err err;

	if (u == NULL || !ok_name(u->username) || !ok_profile(u))
		return JG_ERR_MALFORMED;
	if ((err = prep(st, S_USER_PROFILE, &s)) != JG_OK)
		return err;
	if (!bind_text(s, 1, u->username) || !bind_text(s, 2, u->name) ||
	    !bind_text(s, 3, u->given_name) || !bind_text(s, 4, u->family_name) ||
	    !bind_text(s, 5, u->email) || !bind_int(s, 6, u->email_verified) ||
	    !bind_text(s, 7, u->phone_number) || !bind_text(s, 8, u->address)) {
		finish(s);
		return JG_ERR_SYSTEM;
	}
	return change_one(st, s);
}

enum jg_err
jg_store_user_set_password(struct jg_store *st, const char *username,
			   const char *password_hash)
{
	sqlite3_stmt *s;
	enum jg_err err;

	if (!ok_name(username) || !ok_name(password_hash))
		return JG_ERR_MALFORMED;
	if ((err = prep(st, S_USER_PASSWORD, &s)) != JG_OK)
		return err;
	if (!bind_text(s, 1, username) || !bind_text(s, 2, password_hash)) {
		finish(s);
		return JG_ERR_SYSTEM;
	}
	return change_one(st, s);
}

enum jg_err
jg_store_user_set_disabled(struct jg_store *st, const char *username, bool disabled)
{
	sqlite3_stmt *s;
	enum jg_err err;

	if (!ok_name(username))
		return JG_ERR_MALFORMED;
	if ((err = prep(st, S_USER_DISABLED, &s)) != JG_OK)
		return err;
	if (!bind_text(s, 1, username) || !bind_int(s, 2, disabled)) {
		finish(s);
		return JG_ERR_SYSTEM;
	}
	return change_one(st, s);
}

enum jg_err
jg_store_user_disable(struct jg_store *st, const char *username, int64_t now,
		      size_t *sessions, size_t *families)
{
	struct jg_user *u = NULL;
	enum jg_err err;

	if (!ok_name(username))
		return JG_ERR_MALFORMED;
	if ((err = begin(st)) != JG_OK)
		return err;
	if ((err = jg_store_user_get(st, username, &u)) != JG_OK ||
	    (err = jg_store_user_set_disabled(st, username, true)) != JG_OK ||
	    (err = jg_store_session_delete_user(st, u->sub, sessions)) != JG_OK ||
	    (err = jg_store_family_revoke_user(st, u->sub, now, families)) != JG_OK)
		goto fail;
	jg_user_free(u);
	return commit(st);
fail:
	jg_user_free(u);
	rollback(st);
	return err;
}

/* Runs a DELETE or UPDATE keyed by one text parameter (checked by the
 * caller) that must touch a row. */
static enum jg_err
change_by_key(struct jg_store *st, enum stmt_id id, const char *key)
{
	sqlite3_stmt *s;
	enum jg_err err;

	if ((err = prep(st, id, &s)) != JG_OK)
		return err;
	if (!bind_text(s, 1, key)) {
		finish(s);
		return JG_ERR_SYSTEM;
	}
	return change_one(st, s);
}

enum jg_err
jg_store_user_delete(struct jg_store *st, const char *username)
{
	if (!ok_name(username))
		return JG_ERR_MALFORMED;
	return change_by_key(st, S_USER_DELETE, username);
}

enum jg_err
jg_store_user_list(struct jg_store *st, struct jg_user ***out, size_t *n)
{
	struct jg_user **list = NULL;
	size_t used = 0, cap = 0;
	sqlite3_stmt *s;
	enum jg_err err;
	bool row;

	if (out == NULL || n == NULL)
		return JG_ERR_MALFORMED;
	if ((err = prep(st, S_USER_LIST, &s)) != JG_OK)
		return err;
	while ((err = step(s, &row)) == JG_OK && row) {
		if (used == cap) {
			cap = cap ? 2 * cap : 8;
			list = jg_xrealloc(list, cap * sizeof(*list));
		}
		list[used++] = user_from_row(s);
	}
	finish(s);
	if (err != JG_OK) {
		jg_user_list_free(list, used);
		return err;
	}
	*out = list ? list : jg_xcalloc(1, sizeof(*list));
	*n = used;
	return JG_OK;
}

/* ---------------------------------------------------------------- clients */

static void
free_strings(char **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
jg_client_free(struct jg_client *c)
{
	if (c == NULL)
		return;
	free(c->client_id);
	jg_free_secret(c->secret_hash);
	free(c->name);
	free_strings(c->redirect_uris, c->n_redirect_uris);
	free_strings(c->post_logout_uris, c->n_post_logout_uris);
	free(c->grant_types);
	free(c->scopes);
	free(c->id_token_alg);
	free(c);
}

void
jg_client_list_free(struct jg_client **list, size_t n)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; i < n; i++)
		jg_client_free(list[i]);
	free(list);
}

/* True when the n URIs are non-empty, bounded and pairwise different. */
static bool
ok_uris(char *const *uris, size_t n)
{
	size_t i, j;

	if (n > JG_STORE_MAX_URIS || (n > 0 && uris == NULL))
		return false;
	for (i = 0; i < n; i++) {
		if (!ok_name(uris[i]))
			return false;
		for (j = 0; j < i; j++)
			if (strcmp(uris[i], uris[j]) == 0)
				return false;
	}
	return true;
}

/* Inserts the URIs of one kind of a client being added. */
static enum jg_err
add_uris(struct jg_store *st, const char *client_id, int kind, char *const *uris,
	 size_t n)
{
	sqlite3_stmt *s;
	enum jg_err err;
	size_t i;

	if ((err = prep(st, S_CLIENT_URI_ADD, &s)) != JG_OK)
		return err;
	for (i = 0; i < n && err == JG_OK; i++) {
		if (bind_text(s, 1, client_id) && bind_int(s, 2, kind) &&
		    bind_int(s, 3, (int64_t)i) && bind_text(s, 4, uris[i]))
			err = step_done(s);
		else
			err = JG_ERR_SYSTEM;
		finish(s);
	}
	return err;
}

enum jg_err
jg_store_client_add(struct jg_store *st, const struct jg_client *c, int64_t now)
{
	sqlite3_stmt *s;
	enum jg_err err;

	if (c == NULL || !ok_name(c->client_id) || !ok_opt(c->secret_hash) ||
	    (c->secret_hash && *c->secret_hash == '\0') || !ok_opt(c->name) ||
	    !ok_text(c->grant_types) || !ok_text(c->scopes) || !ok_opt(c->id_token_alg) ||
	    c->access_token_lifetime < 0 || c->refresh_idle_lifetime < 0 ||
	    c->refresh_absolute_lifetime < 0 ||
	    !ok_uris(c->redirect_uris, c->n_redirect_uris) ||
	    !ok_uris(c->post_logout_uris, c->n_post_logout_uris))
		return JG_ERR_MALFORMED;
	if ((err = begin(st)) != JG_OK)
		return err;
	if ((err = prep(st, S_CLIENT_ADD, &s)) != JG_OK)
		goto fail;
	if (bind_text(s, 1, c->client_id) && bind_text(s, 2, c->secret_hash) &&
	    bind_text(s, 3, c->name) && bind_text(s, 4, c->grant_types) &&
	    bind_text(s, 5, c->scopes) && bind_int(s, 6, c->first_party) &&
	    bind_int(s, 7, c->access_token_lifetime) &&
	    bind_int(s, 8, c->refresh_idle_lifetime) &&
	    bind_int(s, 9, c->refresh_absolute_lifetime) &&
	    bind_text(s, 10, c->id_token_alg) && bind_int(s, 11, now))
		err = step_done(s);
	else
		err = JG_ERR_SYSTEM;
	finish(s);
	if (err != JG_OK)
		goto fail;
	if ((err = add_uris(st, c->client_id, 0, c->redirect_uris,
			    c->n_redirect_uris)) != JG_OK ||
	    (err = add_uris(st, c->client_id, 1, c->post_logout_uris,
			    c->n_post_logout_uris)) != JG_OK)
		goto fail;
	return commit(st);
fail:
	rollback(st);
	return err;
}

/* Builds a client from a row of CLIENT_COLUMNS, without its URIs. */
static struct jg_client *
client_from_row(sqlite3_stmt *s)
{
	struct jg_client *c = jg_xcalloc(1, sizeof(*c));

	c->client_id = col_text(s, 0);
	c->secret_hash = col_text(s, 1);
	c->name = col_text(s, 2);
	c->grant_types = col_text(s, 3);
	c->scopes = col_text(s, 4);
	c->first_party = col_int(s, 5) != 0;
	c->access_token_lifetime = col_int(s, 6);
	c->refresh_idle_lifetime = col_int(s, 7);
	c->refresh_absolute_lifetime = col_int(s, 8);
	c->id_token_alg = col_text(s, 9);
	c->created = col_int(s, 10);
	return c;
}

/* Loads the URIs of c; the registration limit bounds the arrays. */
static enum jg_err
client_load_uris(struct jg_store *st, struct jg_client *c)
{
	sqlite3_stmt *s;
	enum jg_err err;
	bool row;

	if ((err = prep(st, S_CLIENT_URIS, &s)) != JG_OK)
		return err;
	if (!bind_text(s, 1, c->client_id)) {
		finish(s);
		return JG_ERR_SYSTEM;
	}
	while ((err = step(s, &row)) == JG_OK && row) {
		char ***v;
		size_t *n;

		if (col_int(s, 0) == 0) {
			v = &c->redirect_uris;
			n = &c->n_redirect_uris;
		} else {
			v = &c->post_logout_uris;
			n = &c->n_post_logout_uris;
		}
		if (*n >= JG_STORE_MAX_URIS) {
			err = JG_ERR_SYSTEM;
			break;
		}
		*v = jg_xrealloc(*v, (*n + 1) * sizeof(**v));
		(*v)[(*n)++] = col_text(s, 1);
	}
	finish(s);
	return err;
}

enum jg_err
jg_store_client_get(struct jg_store *st, const char *client_id,
		    struct jg_client **out)
{
	struct jg_client *c = NULL;
	sqlite3_stmt *s;
	enum jg_err err;
	bool row = false;

	if (!ok_name(client_id) || out == NULL)
		return JG_ERR_MALFORMED;
	/* One read snapshot for the client and its URIs. */
	if ((err = exec_id(st, S_BEGIN_READ)) != JG_OK)
		return err;
	if ((err = prep(st, S_CLIENT_GET, &s)) != JG_OK)
		goto done;
	err = bind_text(s, 1, client_id) ? step(s, &row) : JG_ERR_SYSTEM;
	if (err == JG_OK && !row)
		err = JG_ERR_NOT_FOUND;
	if (err == JG_OK)
		c = client_from_row(s);
	finish(s);
	if (err == JG_OK)
		err = client_load_uris(st, c);
done:
	rollback(st);
	if (err != JG_OK) {
		jg_client_free(c);
		return err;
	}
	*out = c;
	return JG_OK;
}

enum jg_err
jg_store_client_delete(struct jg_store *st, const char *client_id)
{
	if (!ok_name(client_id))
		return JG_ERR_MALFORMED;
	return change_by_key(st, S_CLIENT_DELETE, client_id);
}

enum jg_err
jg_store_client_list(struct jg_store *st, struct jg_client ***out, size_t *n)
{
	struct jg_client **list = NULL;
	size_t used = 0, cap = 0, i;
	sqlite3_stmt *s;
	enum jg_err err;
	bool row;

	if (out == NULL || n == NULL)
		return JG_ERR_MALFORMED;
	if ((err = exec_id(st, S_BEGIN_READ)) != JG_OK)
		return err;
	if ((err = prep(st, S_CLIENT_LIST, &s)) != JG_OK)
		goto done;
	while ((err = step(s, &row)) == JG_OK && row) {
		if (used == cap) {
			cap = cap ? 2 * cap : 8;
			list = jg_xrealloc(list, cap * sizeof(*list));
		}
		list[used++] = client_from_row(s);
	}
	finish(s);
	for (i = 0; i < used && err == JG_OK; i++)
		err = client_load_uris(st, list[i]);
done:
	rollback(st);
	if (err != JG_OK) {
		jg_client_list_free(list, used);
		return err;
	}
	*out = list ? list : jg_xcalloc(1, sizeof(*list));
	*n = used;
	return JG_OK;
}

/* ---------------------------------------------------------------- codes */

void
jg_code_free(struct jg_code *c)
{
	if (c == NULL)
		return;
	free(c->client_id);
	free(c->redirect_uri);
	free(c->sub);
	free(c->scope);
	free(c->nonce);
	free(c->code_challenge);
	free(c->code_challenge_method);
	free(c->session_id);
	free(c);
}

void
jg_code_replay_clear(struct jg_code_replay *r)
{
	if (r == NULL)
		return;
	free(r->jti);
	memset(r, 0, sizeof(*r));
}

enum jg_err
jg_store_code_insert(struct jg_store *st, const char *code, const struct jg_code *c)
{
	char h[HASH_HEX];
	sqlite3_stmt *s;
	enum jg_err err;

	if (c == NULL || !ok_name(c->client_id) || !ok_name(c->redirect_uri) ||
	    !ok_name(c->sub) || !ok_text(c->scope) || !ok_opt(c->nonce) ||
	    !ok_opt(c->code_challenge) || !ok_opt(c->code_challenge_method) ||
	    !ok_opt(c->session_id) || c->expires <= c->created)
		return JG_ERR_MALFORMED;
	if ((err = hash_secret(code, h)) != JG_OK)
		return err;
	if ((err = prep(st, S_CODE_INSERT, &s)) != JG_OK)
		return err;
	if (bind_text(s, 1, h) && bind_text(s, 2, c->client_id) &&
	    bind_text(s, 3, c->redirect_uri) && bind_text(s, 4, c->sub) &&
	    bind_text(s, 5, c->scope) && bind_text(s, 6, c->nonce) &&
	    bind_text(s, 7, c->code_challenge) &&
	    bind_text(s, 8, c->code_challenge_method) &&
	    bind_text(s, 9, c->session_id) && bind_int(s, 10, c->auth_time) &&
	    bind_int(s, 11, c->created) && bind_int(s, 12, c->expires) &&
	    bind_int(s, 13, c->redirect_uri_omitted ? 1 : 0))
		err = step_done(s);
	else
		err = JG_ERR_SYSTEM;
	finish(s);
	return err;
}

/* Builds a code from a row of CODE_COLUMNS. */
static struct jg_code *
code_from_row(sqlite3_stmt *s)
{
	struct jg_code *c = jg_xcalloc(1, sizeof(*c));

	c->client_id = col_text(s, 0);
	c->redirect_uri = col_text(s, 1);
	c->sub = col_text(s, 2);
	c->scope = col_text(s, 3);
	c->nonce = col_text(s, 4);
	c->code_challenge = col_text(s, 5);
	c->code_challenge_method = col_text(s, 6);
	c->session_id = col_text(s, 7);
	c->auth_time = col_int(s, 8);
	c->created = col_int(s, 9);
	c->expires = col_int(s, 10);
	c->redirect_uri_omitted = col_int(s, 11) != 0;
	return c;
}

/* Whether a code with hash h is stored. */
static enum jg_err
code_exists(struct jg_store *st, const char *h, bool *exists)
{
	sqlite3_stmt *s;
	enum jg_err err;

	if ((err = prep(st, S_CODE_EXISTS, &s)) != JG_OK)
		return err;
	err = bind_text(s, 1, h) ? step(s, exists) : JG_ERR_SYSTEM;
	finish(s);
	return err;
}

enum jg_err
jg_store_code_redeem(struct jg_store *st, const char *code, int64_t now,
		     struct jg_code **out, struct jg_code_replay *replay)
{
	struct jg_code *c = NULL;
	char h[HASH_HEX];
	sqlite3_stmt *s;
	enum jg_err err;
	bool row = false;

	if (replay)
		memset(replay, 0, sizeof(*replay));
	if (out == NULL)
		return JG_ERR_MALFORMED;
	if ((err = hash_secret(code, h)) != JG_OK)
		return err;

	if ((err = prep(st, S_CODE_REDEEM, &s)) != JG_OK)
		return err;
	err = bind_text(s, 1, h) && bind_int(s, 2, now) ? step(s, &row) : JG_ERR_SYSTEM;
	if (err == JG_OK && row) {
		c = code_from_row(s);
		err = step_done(s);
	}
	finish(s);
	if (err != JG_OK) {
		jg_code_free(c);
		return err;
	}
	if (c != NULL) {
		*out = c;
		return JG_OK;
	}

	/* Not redeemed now.  A code that was used is a replay: mark it, so
	 * that a jg_store_code_set_issued still to come fails, and report what
	 * it issued.  used_at is never cleared, so a code not used here was not
	 * used by the UPDATE above either, which then failed for expiry. */
	if ((err = prep(st, S_CODE_REPLAY, &s)) != JG_OK)
		return err;
	err = bind_text(s, 1, h) && bind_int(s, 2, now) ? step(s, &row) : JG_ERR_SYSTEM;
	if (err == JG_OK && row) {
		if (replay) {
			replay->replayed = true;
			replay->family_id = col_int(s, 0);
			replay->jti = col_text(s, 1);
			replay->jti_expires = col_int(s, 2);
		}
		err = step_done(s);
	}
	finish(s);
	if (err != JG_OK) {
		jg_code_replay_clear(replay);
		return err;
	}
	if (row)
		return JG_ERR_DENIED;
	if ((err = code_exists(st, h, &row)) != JG_OK)
		return err;
	return row ? JG_ERR_DENIED : JG_ERR_NOT_FOUND;
}

/* The work of jg_store_code_set_issued for the code with hash h. */
static enum jg_err
code_set_issued(struct jg_store *st, const char *h, int64_t family_id,
		const char *jti, int64_t jti_expires)
{
	sqlite3_stmt *s;
	enum jg_err err;
	bool exists, changed;

	if ((err = prep(st, S_CODE_SET_ISSUED, &s)) != JG_OK)
		return err;
	if (!bind_text(s, 1, h) || !bind_id(s, 2, family_id) ||
	    !bind_text(s, 3, jti) || !(jti ? bind_int(s, 4, jti_expires) : bind_id(s, 4, 0))) {
		finish(s);
		return JG_ERR_SYSTEM;
	}
	err = step_done(s);
	changed = err == JG_OK && sqlite3_changes(st->db) > 0;
	finish(s);
	/* A family that does not exist fails the foreign key: JG_ERR_NOT_FOUND. */
	if (err != JG_OK || changed)
		return err;
	/* No row changed: an unknown code, or one that is not redeemed,
	 * replayed, or recorded already. */
	if ((err = code_exists(st, h, &exists)) != JG_OK)
		return err;
	return exists ? JG_ERR_DENIED : JG_ERR_NOT_FOUND;
}

enum jg_err
jg_store_code_set_issued(struct jg_store *st, const char *code, int64_t family_id,
			 const char *jti, int64_t jti_expires)
{
	char h[HASH_HEX];
	enum jg_err err;

	if (family_id < 0 || (jti != NULL && !ok_name(jti)))
		return JG_ERR_MALFORMED;
	if ((err = hash_secret(code, h)) != JG_OK)
		return err;
	return code_set_issued(st, h, family_id, jti, jti_expires);
}

/* ---------------------------------------------------------------- refresh tokens */

void
jg_refresh_free(struct jg_refresh *r)
{
	if (r == NULL)
		return;
	free(r->client_id);
	free(r->sub);
	free(r->scope);
	free(r);
}

/* Inserts a token of family family_id expiring at expires or at the family's
 * end.  JG_ERR_NOT_FOUND when the family does not exist. */
static enum jg_err
token_insert(struct jg_store *st, const char *h, int64_t family_id, int64_t now,
	     int64_t expires)
{
	sqlite3_stmt *s;
	enum jg_err err;

	if ((err = prep(st, S_TOKEN_INSERT, &s)) != JG_OK)
		return err;
	if (!bind_text(s, 1, h) || !bind_int(s, 2, family_id) || !bind_int(s, 3, now) ||
	    !bind_int(s, 4, expires)) {
		finish(s);
		return JG_ERR_SYSTEM;
	}
	return change_one(st, s);
}

/* Looks up the token with hash h and its family.  When rotated is not NULL
 * it receives whether the token was rotated. */
static enum jg_err
token_lookup(struct jg_store *st, const char *h, int64_t now, struct jg_refresh **out,
	     bool *rotated)
{
	struct jg_refresh *r;
	sqlite3_stmt *s;
	enum jg_err err;
	bool row = false;

	if ((err = prep(st, S_TOKEN_LOOKUP, &s)) != JG_OK)
		return err;
	err = bind_text(s, 1, h) ? step(s, &row) : JG_ERR_SYSTEM;
	if (err == JG_OK && !row)
		err = JG_ERR_NOT_FOUND;
	if (err == JG_OK) {
		r = jg_xcalloc(1, sizeof(*r));
		r->family_id = col_int(s, 0);
		r->client_id = col_text(s, 1);
		r->sub = col_text(s, 2);
		r->scope = col_text(s, 3);
		r->auth_time = col_int(s, 4);
		r->family_created = col_int(s, 5);
		r->absolute_expires = col_int(s, 6);
		r->revoked_at = col_int(s, 7);
		r->created = col_int(s, 8);
		r->idle_expires = col_int(s, 9);
		r->rotated_at = col_int(s, 10);
		r->active = sqlite3_column_type(s, 7) == SQLITE_NULL &&
			sqlite3_column_type(s, 10) == SQLITE_NULL &&
			now < r->idle_expires && now < r->absolute_expires;
		if (rotated)
			*rotated = sqlite3_column_type(s, 10) != SQLITE_NULL;
		*out = r;
	}
	finish(s);
	return err;
}

/* Marks family id revoked at now, keeping an earlier revocation time.
 * JG_ERR_NOT_FOUND when there is no such family. */
static enum jg_err
family_revoke(struct jg_store *st, int64_t family_id, int64_t now)
{
	sqlite3_stmt *s;
	enum jg_err err;

	if ((err = prep(st, S_FAMILY_REVOKE, &s)) != JG_OK)
		return err;
	if (!bind_int(s, 1, family_id) || !bind_int(s, 2, now)) {
		finish(s);
		return JG_ERR_SYSTEM;
	}
	return change_one(st, s);
}

/* Inserts a family and its first token with hash h, inside the caller's
 * transaction; *family_id is the new family's id. */
static enum jg_err
family_create(struct jg_store *st, const char *h, const char *client_id,
	      const char *sub, const char *scope, int64_t auth_time, int64_t now,
	      int64_t idle_expires, int64_t absolute_expires, int64_t *family_id)
{
	int64_t id = 0;
	sqlite3_stmt *s;
	enum jg_err err;
	bool row = false;

	if ((err = prep(st, S_FAMILY_INSERT, &s)) != JG_OK)
		return err;
	if (bind_text(s, 1, client_id) && bind_text(s, 2, sub) &&
	    bind_text(s, 3, scope) && bind_int(s, 4, auth_time) &&
	    bind_int(s, 5, now) && bind_int(s, 6, absolute_expires))
		err = step(s, &row);
	else
		err = JG_ERR_SYSTEM;
	if (err == JG_OK && !row)
		err = JG_ERR_SYSTEM;
	if (err == JG_OK) {
		id = col_int(s, 0);
		err = step_done(s);
	}
	finish(s);
	if (err == JG_OK)
		err = token_insert(st, h, id, now, idle_expires);
	if (err == JG_OK)
		*family_id = id;
	return err;
}

/* Checks the arguments of a new family and hashes its token into h. */
static enum jg_err
family_args(const char *token, const char *client_id, const char *sub,
	    const char *scope, int64_t now, int64_t idle_lifetime,
	    int64_t absolute_lifetime, char h[HASH_HEX], int64_t *idle_expires,
	    int64_t *absolute_expires)
{
	if (!ok_name(client_id) || !ok_name(sub) || !ok_text(scope) ||
	    idle_lifetime <= 0 || absolute_lifetime <= 0 ||
	    !add_time(now, idle_lifetime, idle_expires) ||
	    !add_time(now, absolute_lifetime, absolute_expires))
		return JG_ERR_MALFORMED;
	return hash_secret(token, h);
}

enum jg_err
jg_store_refresh_create(struct jg_store *st, const char *token,
			const char *client_id, const char *sub, const char *scope,
			int64_t auth_time, int64_t now, int64_t idle_lifetime,
			int64_t absolute_lifetime, int64_t *family_id)
{
	char h[HASH_HEX];
	int64_t idle_expires, absolute_expires, id = 0;
	enum jg_err err;

	if (family_id == NULL)
		return JG_ERR_MALFORMED;
	if ((err = family_args(token, client_id, sub, scope, now, idle_lifetime,
			       absolute_lifetime, h, &idle_expires,
			       &absolute_expires)) != JG_OK)
		return err;
	if ((err = begin(st)) != JG_OK)
		return err;
	if ((err = family_create(st, h, client_id, sub, scope, auth_time, now,
				 idle_expires, absolute_expires, &id)) != JG_OK) {
		rollback(st);
		return err;
	}
	if ((err = commit(st)) != JG_OK)
		return err;
	*family_id = id;
	return JG_OK;
}

enum jg_err
jg_store_code_issue(struct jg_store *st, const char *code, const char *token,
		    const char *client_id, const char *sub, const char *scope,
		    int64_t auth_time, int64_t now, int64_t idle_lifetime,
		    int64_t absolute_lifetime, const char *jti,
		    int64_t jti_expires, int64_t *family_id)
{
	char code_h[HASH_HEX], h[HASH_HEX];
	int64_t idle_expires = 0, absolute_expires = 0, id = 0;
	enum jg_err err;

	if (family_id == NULL || (jti != NULL && !ok_name(jti)))
		return JG_ERR_MALFORMED;
	*family_id = 0;
	if ((err = hash_secret(code, code_h)) != JG_OK)
		return err;
	if (token != NULL &&
	    (err = family_args(token, client_id, sub, scope, now, idle_lifetime,
			       absolute_lifetime, h, &idle_expires,
			       &absolute_expires)) != JG_OK)
		return err;
	if ((err = begin(st)) != JG_OK)
		return err;
	if (token != NULL &&
	    (err = family_create(st, h, client_id, sub, scope, auth_time, now,
				 idle_expires, absolute_expires, &id)) != JG_OK)
		goto fail;
	err = code_set_issued(st, code_h, id, jti, jti_expires);
	if (err == JG_ERR_DENIED || err == JG_ERR_NOT_FOUND) {
		/* Replayed meanwhile (a NOT_FOUND is the code's: the family
		 * exists): the family stays, revoked, as the record of what
		 * the lost redemption started. */
		if (id != 0 && (err = family_revoke(st, id, now)) != JG_OK)
			goto fail;
		if ((err = commit(st)) != JG_OK)
			return err;
		*family_id = id;
		return JG_ERR_DENIED;
	}
	if (err != JG_OK)
		goto fail;
	if ((err = commit(st)) != JG_OK)
		return err;
	*family_id = id;
	return JG_OK;
fail:
	rollback(st);
	return err;
}

enum jg_err
jg_store_refresh_rotate(struct jg_store *st, const char *old_token,
			const char *new_token, int64_t now, int64_t idle_lifetime,
			struct jg_refresh **out, bool *reuse)
{
	char old_h[HASH_HEX], new_h[HASH_HEX];
	struct jg_refresh *r = NULL;
	int64_t idle_expires, family_id = 0;
	sqlite3_stmt *s;
	enum jg_err err;
	bool row = false;

	if (reuse)
		*reuse = false;
	if (out == NULL || idle_lifetime <= 0 ||
	    !add_time(now, idle_lifetime, &idle_expires))
		return JG_ERR_MALFORMED;
	if ((err = hash_secret(old_token, old_h)) != JG_OK ||
	    (err = hash_secret(new_token, new_h)) != JG_OK)
		return err;
	if ((err = begin(st)) != JG_OK)
		return err;

	/* Only one transaction can find rotated_at still NULL. */
	if ((err = prep(st, S_TOKEN_ROTATE, &s)) != JG_OK)
		goto fail;
	err = bind_text(s, 1, old_h) && bind_int(s, 2, now) ? step(s, &row) : JG_ERR_SYSTEM;
	if (err == JG_OK && row) {
		family_id = col_int(s, 0);
		err = step_done(s);
	}
	finish(s);
	if (err != JG_OK)
		goto fail;

	if (row) {
		if ((err = token_insert(st, new_h, family_id, now, idle_expires)) != JG_OK ||
		    (err = token_lookup(st, new_h, now, &r, NULL)) != JG_OK)
			goto fail;
		if ((err = commit(st)) != JG_OK) {
			jg_refresh_free(r);
			return err;
		}
		*out = r;
		return JG_OK;
	}

	/* Not rotated: unknown, rotated before (reuse), revoked or expired. */
	if ((err = token_lookup(st, old_h, now, &r, &row)) != JG_OK)
		goto fail;
	if (row) {
		/* Reuse of a rotated token: the family is compromised. */
		family_id = r->family_id;
		jg_refresh_free(r);
		r = NULL;
		if ((err = family_revoke(st, family_id, now)) != JG_OK)
			goto fail;
		if ((err = commit(st)) != JG_OK)
			return err;
		if (reuse)
			*reuse = true;
		return JG_ERR_DENIED;
	}
	jg_refresh_free(r);
	rollback(st);
	return JG_ERR_DENIED;
fail:
	jg_refresh_free(r);
	rollback(st);
	return err;
}

enum jg_err
jg_store_refresh_lookup(struct jg_store *st, const char *token, int64_t now,
			struct jg_refresh **out)
{
	char h[HASH_HEX];
	enum jg_err err;

	if (out == NULL)
		return JG_ERR_MALFORMED;
	if ((err = hash_secret(token, h)) != JG_OK)
		return err;
	return token_lookup(st, h, now, out, NULL);
}

enum jg_err
jg_store_family_revoke(struct jg_store *st, int64_t family_id, int64_t now)
{
	if (family_id <= 0)
		return JG_ERR_MALFORMED;
	return family_revoke(st, family_id, now);
}

enum jg_err
jg_store_family_revoke_user(struct jg_store *st, const char *sub, int64_t now,
			    size_t *count)
{
	sqlite3_stmt *s;
	enum jg_err err;

	if (!ok_name(sub))
		return JG_ERR_MALFORMED;
	if ((err = prep(st, S_FAMILY_REVOKE_USER, &s)) != JG_OK)
		return err;
	err = bind_text(s, 1, sub) && bind_int(s, 2, now) ? step_done(s) : JG_ERR_SYSTEM;
	if (err == JG_OK && count)
		*count = (size_t)sqlite3_changes(st->db);
	finish(s);
	return err;
}

/* ---------------------------------------------------------------- SSO sessions */

void
jg_session_free(struct jg_session *s)
{
	if (s == NULL)
		return;
	free(s->sid);
	free(s->sub);
	free(s);
}

enum jg_err
jg_store_session_create(struct jg_store *st, const char *id, const char *sub,
			int64_t auth_time, int64_t now, int64_t expires)
{
	char h[HASH_HEX];
	sqlite3_stmt *s;
	enum jg_err err;

	if (!ok_name(sub) || expires <= now)
		return JG_ERR_MALFORMED;
	if ((err = hash_secret(id, h)) != JG_OK)
		return err;
	if ((err = prep(st, S_SESSION_INSERT, &s)) != JG_OK)
		return err;
	if (bind_text(s, 1, h) && bind_text(s, 2, sub) && bind_int(s, 3, auth_time) &&
	    bind_int(s, 4, now) && bind_int(s, 5, expires))
		err = step_done(s);
	else
		err = JG_ERR_SYSTEM;
	finish(s);
	return err;
}

enum jg_err
jg_store_session_get(struct jg_store *st, const char *id, int64_t now,
		     struct jg_session **out)
{
	struct jg_session *sess;
	char h[HASH_HEX];
	sqlite3_stmt *s;
	enum jg_err err;
	bool row = false;

	if (out == NULL)
		return JG_ERR_MALFORMED;
	if ((err = hash_secret(id, h)) != JG_OK)
		return err;
	if ((err = prep(st, S_SESSION_GET, &s)) != JG_OK)
		return err;
	err = bind_text(s, 1, h) && bind_int(s, 2, now) ? step(s, &row) : JG_ERR_SYSTEM;
	if (err == JG_OK && !row)
		err = JG_ERR_NOT_FOUND;
	if (err == JG_OK) {
		sess = jg_xcalloc(1, sizeof(*sess));
		sess->sid = jg_xstrdup(h);
		sess->sub = col_text(s, 0);
		sess->auth_time = col_int(s, 1);
		sess->created = col_int(s, 2);
		sess->expires = col_int(s, 3);
		*out = sess;
	}
	finish(s);
	return err;
}

enum jg_err
jg_store_session_delete(struct jg_store *st, const char *id)
{
	char h[HASH_HEX];
	enum jg_err err;

	if ((err = hash_secret(id, h)) != JG_OK)
		return err;
	return change_by_key(st, S_SESSION_DELETE, h);
}

enum jg_err
jg_store_session_delete_user(struct jg_store *st, const char *sub, size_t *count)
{
	sqlite3_stmt *s;
	enum jg_err err;

	if (!ok_name(sub))
		return JG_ERR_MALFORMED;
	if ((err = prep(st, S_SESSION_DELETE_USER, &s)) != JG_OK)
		return err;
	err = bind_text(s, 1, sub) ? step_done(s) : JG_ERR_SYSTEM;
	if (err == JG_OK && count)
		*count = (size_t)sqlite3_changes(st->db);
	finish(s);
	return err;
}

/* ---------------------------------------------------------------- consents */

struct span {
	const char *p;
	size_t n;
};

/* RFC 6749 section 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ). */
static bool
scope_char(unsigned char c)
{
	return c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e);
}

/* Splits a scope list into at most SCOPE_MAX tokens.  Slot 0 is always the
 * empty token that stands for the client itself. */
static bool
split_scope(const char *scope, struct span tok[SCOPE_MAX + 1], size_t *n)
{
	const char *p = scope;
	size_t k = 1;

	if (!ok_text(scope))
		return false;
	tok[0].p = "";
	tok[0].n = 0;
	if (*p == '\0') {
		*n = 1;
		return true;
	}
	for (;;) {
		const char *start = p;

		while (*p && scope_char((unsigned char)*p))
			p++;
		if (p == start || k > SCOPE_MAX)
			return false;
		tok[k].p = start;
		tok[k].n = (size_t)(p - start);
		k++;
		if (*p == '\0')
			break;
		if (*p != ' ')
			return false;
		p++;
	}
	*n = k;
	return true;
}

static bool
bind_span(sqlite3_stmt *s, int i, const struct span *t)
{
	return sqlite3_bind_text(s, i, t->p, (int)t->n, SQLITE_TRANSIENT) == SQLITE_OK;
}

enum jg_err
jg_store_consent_grant(struct jg_store *st, const char *sub, const char *client_id,
		       const char *scope, int64_t now)
{
	struct span tok[SCOPE_MAX + 1];
	sqlite3_stmt *s;
	enum jg_err err;
	size_t n, i;

	if (!ok_name(sub) || !ok_name(client_id) || !split_scope(scope, tok, &n))
		return JG_ERR_MALFORMED;
	if ((err = begin(st)) != JG_OK)
		return err;
	if ((err = prep(st, S_CONSENT_PUT, &s)) != JG_OK)
		goto fail;
	for (i = 0; i < n && err == JG_OK; i++) {
		if (bind_text(s, 1, sub) && bind_text(s, 2, client_id) &&
		    bind_span(s, 3, &tok[i]) && bind_int(s, 4, now))
			err = step_done(s);
		else
			err = JG_ERR_SYSTEM;
		finish(s);
	}
	if (err != JG_OK)
		goto fail;
	return commit(st);
fail:
	rollback(st);
	return err;
}

enum jg_err
jg_store_consent_has(struct jg_store *st, const char *sub, const char *client_id,
		     const char *scope, bool *granted)
{
	struct span tok[SCOPE_MAX + 1];
	sqlite3_stmt *s;
	enum jg_err err;
	bool row = true;
	size_t n, i;

	if (!ok_name(sub) || !ok_name(client_id) || granted == NULL ||
	    !split_scope(scope, tok, &n))
		return JG_ERR_MALFORMED;
	if ((err = prep(st, S_CONSENT_GET, &s)) != JG_OK)
		return err;
	for (i = 0; i < n && row && err == JG_OK; i++) {
		if (bind_text(s, 1, sub) && bind_text(s, 2, client_id) &&
		    bind_span(s, 3, &tok[i]))
			err = step(s, &row);
		else
			err = JG_ERR_SYSTEM;
		finish(s);
	}
	if (err == JG_OK)
		*granted = row;
	return err;
}

enum jg_err
jg_store_consent_revoke(struct jg_store *st, const char *sub, const char *client_id)
{
	sqlite3_stmt *s;
	enum jg_err err;

	if (!ok_name(sub) || !ok_name(client_id))
		return JG_ERR_MALFORMED;
	if ((err = prep(st, S_CONSENT_REVOKE, &s)) != JG_OK)
		return err;
	if (!bind_text(s, 1, sub) || !bind_text(s, 2, client_id)) {
		finish(s);
		return JG_ERR_SYSTEM;
	}
	return change_one(st, s);
}

/* ---------------------------------------------------------------- revoked token ids */

enum jg_err
jg_store_jti_revoke(struct jg_store *st, const char *jti, int64_t expires)
{
	sqlite3_stmt *s;
	enum jg_err err;

	if (!ok_name(jti))
		return JG_ERR_MALFORMED;
	if ((err = prep(st, S_JTI_REVOKE, &s)) != JG_OK)
		return err;
	err = bind_text(s, 1, jti) && bind_int(s, 2, expires) ? step_done(s) : JG_ERR_SYSTEM;
	finish(s);
	return err;
}

enum jg_err
jg_store_jti_is_revoked(struct jg_store *st, const char *jti, bool *revoked)
{
	sqlite3_stmt *s;
	enum jg_err err;
	bool row = false;

	if (!ok_name(jti) || revoked == NULL)
		return JG_ERR_MALFORMED;
	if ((err = prep(st, S_JTI_GET, &s)) != JG_OK)
		return err;
	err = bind_text(s, 1, jti) ? step(s, &row) : JG_ERR_SYSTEM;
	finish(s);
	if (err == JG_OK)
		*revoked = row;
	return err;
}

/* Runs a DELETE with one integer parameter. */
static enum jg_err
delete_before(struct jg_store *st, enum stmt_id id, int64_t when)
{
	sqlite3_stmt *s;
	enum jg_err err;

	if ((err = prep(st, id, &s)) != JG_OK)
		return err;
	err = bind_int(s, 1, when) ? step_done(s) : JG_ERR_SYSTEM;
	finish(s);
	return err;
}

enum jg_err
jg_store_jti_purge(struct jg_store *st, int64_t now)
{
	return delete_before(st, S_JTI_PURGE, now);
}

/* ---------------------------------------------------------------- login failures */

enum jg_err
jg_store_fail_record(struct jg_store *st, const char *key, int64_t now)
{
	sqlite3_stmt *s;
	enum jg_err err;

	if (!ok_name(key))
		return JG_ERR_MALFORMED;
	if ((err = prep(st, S_FAIL_RECORD, &s)) != JG_OK)
		return err;
	err = bind_text(s, 1, key) && bind_int(s, 2, now) ? step_done(s) : JG_ERR_SYSTEM;
	finish(s);
	return err;
}

enum jg_err
jg_store_fail_count(struct jg_store *st, const char *key, int64_t since,
		    unsigned *count)
{
	sqlite3_stmt *s;
	enum jg_err err;
	int64_t n = 0;
	bool row = false;

	if (!ok_name(key) || count == NULL)
		return JG_ERR_MALFORMED;
	if ((err = prep(st, S_FAIL_COUNT, &s)) != JG_OK)
		return err;
	err = bind_text(s, 1, key) && bind_int(s, 2, since) ? step(s, &row) : JG_ERR_SYSTEM;
	if (err == JG_OK && !row)
		err = JG_ERR_SYSTEM;
	if (err == JG_OK)
		n = col_int(s, 0);
	finish(s);
	if (err == JG_OK)
		*count = n > UINT_MAX ? UINT_MAX : (unsigned)n;
	return err;
}

enum jg_err
jg_store_fail_clear(struct jg_store *st, const char *key)
{
	sqlite3_stmt *s;
	enum jg_err err;

	if (!ok_name(key))
		return JG_ERR_MALFORMED;
	if ((err = prep(st, S_FAIL_CLEAR, &s)) != JG_OK)
		return err;
	err = bind_text(s, 1, key) ? step_done(s) : JG_ERR_SYSTEM;
	finish(s);
	return err;
}

enum jg_err
jg_store_fail_purge(struct jg_store *st, int64_t before)
{
	return delete_before(st, S_FAIL_PURGE, before);
}
