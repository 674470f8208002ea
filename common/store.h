/* store.h: the SQLite store shared by every jwtgate process: users, clients,
 * authorization codes, refresh-token families, SSO sessions, consents,
 * revoked token ids and login-failure counters. */
#ifndef JG_STORE_H
#define JG_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "util.h"

/*
 * Conventions that hold for every function below.
 *
 * - A handle is used by one thread at a time and must not cross fork():
 *   each process opens its own.  Many processes may share one file.
 * - Time is always a parameter: int64_t seconds since the epoch.  Something
 *   with an expiry time e is valid while now < e.
 * - Authorization codes, refresh tokens and session ids are secrets: the
 *   functions take the raw value, and the store keeps only its SHA-256.
 *   Raw values are 1 to JG_STORE_SECRET_MAX bytes; anything else is
 *   JG_ERR_MALFORMED.
 * - Strings passed in are only read; the caller keeps ownership.  Strings
 *   and structs handed out are new and owned by the caller, who frees them
 *   with the matching _free function.  *out parameters are written only when
 *   JG_OK is returned, unless a comment says otherwise.
 * - Errors: JG_ERR_BUSY when the database is locked or busy for longer than
 *   the busy timeout (the caller answers 503 with Retry-After and may try
 *   again; no transaction is left open); JG_ERR_EXISTS when a unique name or
 *   secret is taken; JG_ERR_NOT_FOUND when the named row, or a row it must
 *   refer to (user, client, family), does not exist; JG_ERR_MALFORMED for
 *   NULL, empty or oversized arguments; JG_ERR_SYSTEM for any other SQLite
 *   or crypto failure (jg_store_errmsg says more).
 */

/* The schema version jg_store_open brings a database to. */
#define JG_STORE_SCHEMA_VERSION 2

/* Longest raw secret (code, refresh token, session id) accepted. */
#define JG_STORE_SECRET_MAX 512

/* Longest key, jti, username, client id or URI accepted. */
#define JG_STORE_NAME_MAX 2048

/* How long a used authorization code is kept after it expired, so that a
 * late replay still finds it and revokes what it issued. */
#define JG_STORE_CODE_RETENTION 86400

struct jg_store;

/* ---------------------------------------------------------------- handle */

/* Opens (creating it with mode 0600 when missing) the SQLite database at
 * path, brings its schema to JG_STORE_SCHEMA_VERSION and sets WAL journal,
 * synchronous=NORMAL, foreign keys and a busy timeout: a call that finds
 * the database locked retries with short sleeps for up to busy_timeout_ms
 * milliseconds in all (0: fail at once) before it returns JG_ERR_BUSY.
 * Several processes may open and migrate one new file at the same time.
 * On success *out is a new handle (close with jg_store_close) and *errmsg,
 * when errmsg is not NULL, is set to NULL.  On failure returns
 * JG_ERR_MALFORMED for a NULL or empty path, JG_ERR_BUSY when the database
 * stayed locked, JG_ERR_SYSTEM otherwise (cannot open, failed migration,
 * schema newer than this program), and when errmsg is not NULL stores a new
 * English message there (caller frees). */
enum jg_err jg_store_open(const char *path, unsigned busy_timeout_ms,
			  struct jg_store **out, char **errmsg);

/* Like jg_store_open with the given list of migrations instead of the
 * built-in one; exported for the unit tests only.  migrations[i] is SQL text
 * (several statements allowed) that brings version i to version i + 1; each
 * runs in its own IMMEDIATE transaction together with the user_version
 * update, so a failing step is rolled back entirely and leaves the database
 * at the version before it. */
enum jg_err jg_store_open_with_migrations(const char *path,
					  unsigned busy_timeout_ms,
					  const char *const *migrations,
					  size_t n_migrations,
					  struct jg_store **out, char **errmsg);

/* Finalizes the cached statements and closes the database.  Accepts NULL. */
void jg_store_close(struct jg_store *st);

/* Returns the schema version (PRAGMA user_version) of the open database,
 * or -1 when it cannot be read. */
int jg_store_schema_version(struct jg_store *st);

/* Returns the English message of the last SQLite error on this handle, for
 * logs.  It names tables and columns, never stored values.  Never NULL; valid
 * until the next call on the handle. */
const char *jg_store_errmsg(struct jg_store *st);

/* Returns a new base64url string (no padding) of nbytes bytes from the
 * GnuTLS key-level CSPRNG, for codes, refresh tokens, session ids, subject
 * ids and jtis.  nbytes must be 16 to 256 (at least 128 bits).  Returns NULL
 * when nbytes is out of range or the generator fails.  The caller frees the
 * result with jg_free_secret. */
char *jg_random_token(size_t nbytes);

/* Deletes what has expired: authorization codes JG_STORE_CODE_RETENTION
 * seconds after their expiry, refresh-token families past their absolute
 * expiry or whose every token is past its idle expiry, SSO sessions, revoked
 * jtis past their expiry, and login failures older than failure_max_age
 * seconds.  Returns JG_OK, JG_ERR_BUSY or JG_ERR_SYSTEM. */
enum jg_err jg_store_purge(struct jg_store *st, int64_t now,
			   int64_t failure_max_age);

/* ---------------------------------------------------------------- users */

/* A user account.  Profile fields are NULL when unset.  Usernames compare
 * exactly (case-sensitive), as in Apache htpasswd files. */
struct jg_user {
	int64_t id;		/* row id, set by the store */
	char *sub;		/* stable random subject identifier, never the username */
	char *username;
	char *password_hash;	/* crypt(3) string */
	char *name;
	char *given_name;
	char *family_name;
	char *email;
	bool email_verified;
	char *phone_number;
	char *address;		/* formatted address text */
	bool disabled;
	int64_t created;	/* set by the store from now */
};

/* Frees every string (wiping the password hash) and the struct.  Accepts NULL. */
void jg_user_free(struct jg_user *u);
/* Frees a list from jg_store_user_list.  Accepts NULL. */
void jg_user_list_free(struct jg_user **list, size_t n);

/* Adds a user.  sub, username and password_hash are required; u->id and
 * u->created are ignored (created is now).  JG_ERR_EXISTS when the username
 * or the sub is taken. */
enum jg_err jg_store_user_add(struct jg_store *st, const struct jg_user *u,
			      int64_t now);

/* Looks a user up by exact username or by sub.  On success *out is a new
 * user (caller frees).  JG_ERR_NOT_FOUND when there is none. */
enum jg_err jg_store_user_get(struct jg_store *st, const char *username,
			      struct jg_user **out);
enum jg_err jg_store_user_get_by_sub(struct jg_store *st, const char *sub,
				     struct jg_user **out);

/* Replaces the profile claims (name, given_name, family_name, email,
 * email_verified, phone_number, address; NULL clears one) of the user named
 * u->username.  Other fields of u are ignored.  JG_ERR_NOT_FOUND when there
 * is no such user. */
enum jg_err jg_store_user_update_profile(struct jg_store *st,
					 const struct jg_user *u);

/* Sets the password hash, or the disabled flag, of a user.  Disabling does
 * not end sessions or revoke refresh tokens: call
 * jg_store_session_delete_user and jg_store_family_revoke_user for that.
 * JG_ERR_NOT_FOUND when there is no such user. */
enum jg_err jg_store_user_set_password(struct jg_store *st, const char *username,
				       const char *password_hash);
enum jg_err jg_store_user_set_disabled(struct jg_store *st, const char *username,
				       bool disabled);

/* Disables the user username, deletes every session of the user and revokes
 * every refresh-token family at now, all in one transaction: either all of
 * it happens or none.  sessions and families (may be NULL) receive the
 * numbers deleted and revoked.  JG_ERR_NOT_FOUND when there is no such user,
 * JG_ERR_BUSY when the database is locked (nothing changed then). */
enum jg_err jg_store_user_disable(struct jg_store *st, const char *username,
				  int64_t now, size_t *sessions, size_t *families);

/* Deletes a user together with their codes, refresh-token families, sessions
 * and consents.  JG_ERR_NOT_FOUND when there is no such user. */
enum jg_err jg_store_user_delete(struct jg_store *st, const char *username);

/* Lists all users ordered by username.  On success *out is a new array of
 * *n new users (free with jg_user_list_free); an empty store gives n = 0. */
enum jg_err jg_store_user_list(struct jg_store *st, struct jg_user ***out,
			       size_t *n);

/* ---------------------------------------------------------------- clients */

/* Most redirect or post-logout URIs one client may register. */
#define JG_STORE_MAX_URIS 64

/* A registered client.  Lifetimes of 0 mean "use the global default". */
struct jg_client {
	char *client_id;
	char *secret_hash;	/* hashed secret; NULL for a public client */
	char *name;		/* display name, or NULL */
	char **redirect_uris;	/* exact strings */
	size_t n_redirect_uris;
	char **post_logout_uris;
	size_t n_post_logout_uris;
	char *grant_types;	/* space-separated, e.g. "authorization_code refresh_token" */
	char *scopes;		/* space-separated scopes the client may ask for */
	bool first_party;	/* skips the consent screen */
	int64_t access_token_lifetime;
	int64_t refresh_idle_lifetime;
	int64_t refresh_absolute_lifetime;
	char *id_token_alg;	/* JWS algorithm name, or NULL for the default */
	int64_t created;	/* set by the store from now */
};

/* Frees every string and array (wiping the secret hash) and the struct.
 * Accepts NULL. */
void jg_client_free(struct jg_client *c);
/* Frees a list from jg_store_client_list.  Accepts NULL. */
void jg_client_list_free(struct jg_client **list, size_t n);

/* Adds a client with its URIs in one transaction.  client_id, grant_types
 * and scopes are required (the last two may be empty strings); every URI
 * must be a non-empty string; at most JG_STORE_MAX_URIS of each kind, no
 * duplicates within a kind; lifetimes must not be negative.  JG_ERR_EXISTS
 * when the client id is taken. */
enum jg_err jg_store_client_add(struct jg_store *st, const struct jg_client *c,
				int64_t now);

/* Looks a client up by client_id.  On success *out is a new client (caller
 * frees) with its URIs in registration order.  JG_ERR_NOT_FOUND when there
 * is none. */
enum jg_err jg_store_client_get(struct jg_store *st, const char *client_id,
				struct jg_client **out);

/* Deletes a client together with its codes, refresh-token families and
 * consents.  JG_ERR_NOT_FOUND when there is no such client. */
enum jg_err jg_store_client_delete(struct jg_store *st, const char *client_id);

/* Lists all clients ordered by client_id, with their URIs.  On success *out
 * is a new array of *n new clients (free with jg_client_list_free). */
enum jg_err jg_store_client_list(struct jg_store *st, struct jg_client ***out,
				 size_t *n);

/* ---------------------------------------------------------------- codes */

/* What an authorization code is bound to. */
struct jg_code {
	char *client_id;
	char *redirect_uri;	/* exactly as sent in the authorization request */
	char *sub;
	char *scope;		/* granted scope, space-separated; may be empty */
	char *nonce;		/* NULL when the request had none */
	char *code_challenge;	/* PKCE; NULL when none */
	char *code_challenge_method; /* "S256", or NULL */
	char *session_id;	/* public sid of the SSO session (jg_session.sid), or NULL */
	int64_t auth_time;
	int64_t created;
	int64_t expires;	/* must be after created */
	bool redirect_uri_omitted; /* the authorization request had no
				    * redirect_uri (redirect_uri is then the
				    * client's only registered one), so the
				    * token request may leave it out too */
};

/* What a replayed code had issued, so that the caller can revoke it. */
struct jg_code_replay {
	bool replayed;		/* the code had been redeemed before */
	int64_t family_id;	/* refresh family issued from it; 0 when none (yet) */
	char *jti;		/* access-token jti issued from it, or NULL */
	int64_t jti_expires;	/* that token's exp */
};

/* Frees every string and the struct.  Accepts NULL. */
void jg_code_free(struct jg_code *c);
/* Frees what r holds and zeroes it.  Accepts NULL. */
void jg_code_replay_clear(struct jg_code_replay *r);

/* Stores a new authorization code (raw value code, which the caller made
 * with jg_random_token) bound to c.  client_id, redirect_uri, sub and scope
 * are required.  JG_ERR_NOT_FOUND when the client or the user does not
 * exist, JG_ERR_EXISTS when the code is already stored. */
enum jg_err jg_store_code_insert(struct jg_store *st, const char *code,
				 const struct jg_code *c);

/* Redeems a code in one atomic statement: of any number of processes that
 * present the same code, exactly one gets JG_OK.  On success *out is a new
 * copy of what the code is bound to (caller frees); the code is used up
 * whatever the caller then finds wrong with the request (client, redirect
 * URI, PKCE), so the caller must check all of them.  When replay is not
 * NULL it is zeroed on entry and, for a code redeemed before, filled in.
 * Returns:
 *   JG_OK             redeemed now;
 *   JG_ERR_DENIED     redeemed before (replay->replayed is true; revoke
 *                     replay->family_id and replay->jti when set; a
 *                     concurrent jg_store_code_set_issued then fails), or
 *                     expired unused (replay->replayed is false);
 *   JG_ERR_NOT_FOUND  no such code (never issued, or purged). */
enum jg_err jg_store_code_redeem(struct jg_store *st, const char *code,
				 int64_t now, struct jg_code **out,
				 struct jg_code_replay *replay);

/* Records what was issued from a redeemed code: the refresh family id (0 for
 * none) and the access token's jti (NULL for none) with its exp.  Call it
 * after jg_store_code_redeem and before answering.  Returns JG_OK;
 * JG_ERR_DENIED when the code was replayed in the meantime (or is not
 * redeemed, or was recorded already): the caller must then revoke what it
 * issued and not hand it out; JG_ERR_NOT_FOUND when there is no such code or
 * no such family. */
enum jg_err jg_store_code_set_issued(struct jg_store *st, const char *code,
				     int64_t family_id, const char *jti,
				     int64_t jti_expires);

/* ---------------------------------------------------------------- refresh tokens */

/* A refresh token and the family (one grant) it belongs to. */
struct jg_refresh {
	int64_t family_id;
	char *client_id;
	char *sub;
	char *scope;
	int64_t auth_time;
	int64_t family_created;
	int64_t absolute_expires;
	int64_t revoked_at;	/* when the family was revoked; 0 when not */
	int64_t created;	/* this token */
	int64_t idle_expires;	/* this token; never after absolute_expires */
	int64_t rotated_at;	/* when this token was rotated; 0 when not */
	bool active;		/* usable at the now given to the call */
};

/* Frees every string and the struct.  Accepts NULL. */
void jg_refresh_free(struct jg_refresh *r);

/* Starts a new family for (client_id, sub, scope, auth_time) with its first
 * token, raw value token, in one transaction.  The family ends at now +
 * absolute_lifetime; each token at now + idle_lifetime or at the family's
 * end, whichever is first.  Both lifetimes must be positive.  On success
 * *family_id is the new family's id (never reused).  JG_ERR_NOT_FOUND when
 * the client or the user does not exist, JG_ERR_EXISTS when the token is
 * already stored. */
enum jg_err jg_store_refresh_create(struct jg_store *st, const char *token,
				   const char *client_id, const char *sub,
				   const char *scope, int64_t auth_time,
				   int64_t now, int64_t idle_lifetime,
				   int64_t absolute_lifetime, int64_t *family_id);

/* What a code exchange stores, in one IMMEDIATE transaction (one commit
 * instead of the two of jg_store_refresh_create and
 * jg_store_code_set_issued): when token is not NULL, a new family with its
 * first token as jg_store_refresh_create makes it; then the code, redeemed
 * by jg_store_code_redeem, records that family (0 without token) and the
 * access token's jti (NULL for none) with its exp, as
 * jg_store_code_set_issued.  Either all of it is stored or none.  On
 * success *family_id is the new family's id (0 without token).  Returns
 * JG_OK; JG_ERR_NOT_FOUND when the client or the user does not exist;
 * JG_ERR_DENIED when the code cannot record it (replayed in the meantime,
 * not redeemed, recorded already, or gone): the new family is then stored
 * revoked (*family_id is its id), and the caller must revoke the jti and
 * hand nothing out; JG_ERR_EXISTS when the token is already stored; on any
 * other error nothing is stored. */
enum jg_err jg_store_code_issue(struct jg_store *st, const char *code,
				const char *token, const char *client_id,
				const char *sub, const char *scope,
				int64_t auth_time, int64_t now,
				int64_t idle_lifetime, int64_t absolute_lifetime,
				const char *jti, int64_t jti_expires,
				int64_t *family_id);

/* Rotates old_token to new_token in one IMMEDIATE transaction: of any
 * number of processes that present the same token, exactly one gets JG_OK.
 * On success *out (caller frees) describes the new token.  *reuse (when not
 * NULL) is always written: true only when old_token had been rotated
 * before, in which case the whole family has been revoked (and committed)
 * before returning.  Returns:
 *   JG_OK             rotated;
 *   JG_ERR_DENIED     reuse of a rotated token (family now revoked), family
 *                     revoked, or token or family expired;
 *   JG_ERR_NOT_FOUND  no such token;
 *   JG_ERR_EXISTS     new_token is already stored (nothing changed). */
enum jg_err jg_store_refresh_rotate(struct jg_store *st, const char *old_token,
				   const char *new_token, int64_t now,
				   int64_t idle_lifetime, struct jg_refresh **out,
				   bool *reuse);

/* Looks a refresh token up for introspection or revocation; changes
 * nothing.  On success *out (caller frees) tells its family and whether it
 * is active at now.  JG_ERR_NOT_FOUND when there is no such token. */
enum jg_err jg_store_refresh_lookup(struct jg_store *st, const char *token,
				   int64_t now, struct jg_refresh **out);

/* Revokes one family at now (a family revoked before keeps its first
 * revocation time).  JG_ERR_NOT_FOUND when there is no such family. */
enum jg_err jg_store_family_revoke(struct jg_store *st, int64_t family_id,
				   int64_t now);

/* Revokes every family of the user sub; when count is not NULL it receives
 * the number of families newly revoked. */
enum jg_err jg_store_family_revoke_user(struct jg_store *st, const char *sub,
					int64_t now, size_t *count);

/* ---------------------------------------------------------------- SSO sessions */

struct jg_session {
	char *sid;		/* hex SHA-256 of the raw id: a public reference */
	char *sub;
	int64_t auth_time;
	int64_t created;
	int64_t expires;
};

/* Frees every string and the struct.  Accepts NULL. */
void jg_session_free(struct jg_session *s);

/* Stores a session with the raw id id (the cookie value).  expires must be
 * after now.  JG_ERR_NOT_FOUND when the user does not exist, JG_ERR_EXISTS
 * when the id is already stored. */
enum jg_err jg_store_session_create(struct jg_store *st, const char *id,
				   const char *sub, int64_t auth_time,
				   int64_t now, int64_t expires);

/* Looks a session up by raw id.  On success *out is a new session (caller
 * frees).  JG_ERR_NOT_FOUND when there is none or it expired at now. */
enum jg_err jg_store_session_get(struct jg_store *st, const char *id,
				int64_t now, struct jg_session **out);

/* Deletes the session with raw id id.  JG_ERR_NOT_FOUND when there is none. */
enum jg_err jg_store_session_delete(struct jg_store *st, const char *id);

/* Deletes every session of the user sub; when count is not NULL it receives
 * the number deleted (0 is not an error). */
enum jg_err jg_store_session_delete_user(struct jg_store *st, const char *sub,
					 size_t *count);

/* ---------------------------------------------------------------- consents */

/* Scopes are space-separated RFC 6749 scope-tokens (section 3.3: printable
 * ASCII except space, '"' and '\'), one space between two, no leading or
 * trailing space, at most 64; "" is the empty list.  A consent is
 * remembered per user, client and scope; granting also records consent to
 * the client itself, so that an empty request is covered only after a
 * first grant. */

/* Records that sub allowed client_id every scope in scope.  Returns
 * JG_ERR_MALFORMED for a bad scope list, JG_ERR_NOT_FOUND when the user or
 * the client does not exist. */
enum jg_err jg_store_consent_grant(struct jg_store *st, const char *sub,
				   const char *client_id, const char *scope,
				   int64_t now);

/* Sets *granted to true when sub allowed client_id every scope in scope
 * (and the client itself), false otherwise. */
enum jg_err jg_store_consent_has(struct jg_store *st, const char *sub,
				 const char *client_id, const char *scope,
				 bool *granted);

/* Forgets every consent sub gave client_id.  JG_ERR_NOT_FOUND when there
 * was none. */
enum jg_err jg_store_consent_revoke(struct jg_store *st, const char *sub,
				    const char *client_id);

/* ---------------------------------------------------------------- revoked token ids */

/* Records that the token with this jti is revoked until expires (its exp);
 * revoking again keeps the later expiry. */
enum jg_err jg_store_jti_revoke(struct jg_store *st, const char *jti,
				int64_t expires);

/* Sets *revoked to whether jti is recorded as revoked. */
enum jg_err jg_store_jti_is_revoked(struct jg_store *st, const char *jti,
				    bool *revoked);

/* Forgets revoked jtis whose expiry is at or before now (those tokens are
 * expired anyway). */
enum jg_err jg_store_jti_purge(struct jg_store *st, int64_t now);

/* ---------------------------------------------------------------- login failures */

/* Keys name what is throttled, e.g. "user:alice" or "ip:192.0.2.1". */

/* Records one failed login for key at now. */
enum jg_err jg_store_fail_record(struct jg_store *st, const char *key,
				 int64_t now);

/* Sets *count to the number of failures for key at or after since. */
enum jg_err jg_store_fail_count(struct jg_store *st, const char *key,
				int64_t since, unsigned *count);

/* Forgets every failure for key (after a successful login). */
enum jg_err jg_store_fail_clear(struct jg_store *st, const char *key);

/* Forgets every failure, of any key, before before. */
enum jg_err jg_store_fail_purge(struct jg_store *st, int64_t before);

#endif
