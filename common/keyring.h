/* keyring.h: the signing keys of a jwtgate instance (a key folder of PEM
 * files and an index, keyring.json), their rotation, and the static files
 * published from them: .well-known/jwks.json and
 * .well-known/openid-configuration. */
#ifndef JG_KEYRING_H
#define JG_KEYRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include "util.h"
#include "jwk.h"
#include "conf.h"

/*
 * The key folder (key_dir of the configuration) holds:
 *   KID.pem        one PKCS#8 PEM private key per key, mode 0600, named by
 *                  its kid (the RFC 7638 thumbprint, 43 base64url
 *                  characters);
 *   keyring.json   the index, mode 0600, replaced atomically:
 *                  {"keys":[{"kid":..., "alg":"ES256", "purpose":"access",
 *                   "state":"current", "created":T, "rotated_at":T}, ...]};
 *   .lock          the file the admin commands lock (flock) around every
 *                  read-modify-write of the index.
 *
 * Each key signs one kind of token, its purpose: access tokens or ID
 * tokens.  Its state is
 *   next      generated and published in the JWKS, not signing yet, so
 *             that verifiers with a cached JWKS know it before its first
 *             token;
 *   current   signing: at most one access key, and at most one ID key per
 *             algorithm (OpenID Connect lets each client choose the alg
 *             of its ID tokens: RS256 by default, another one per
 *             client), so several ID keys of different algs may sign;
 *   previous  no longer signing, still published until every token it
 *             signed has expired; then it may be retired (removed).
 * created is when the key was generated; rotated_at is when its state last
 * changed (for a previous key: when it stopped signing), 0 for a key that
 * never changed state.
 *
 * Readers (the FastCGI programs) take no lock: the index is only ever
 * replaced by rename, a new PEM file is written before the index names it,
 * and a retired one is removed after the index stopped naming it.
 * jg_keyring_load retries when it catches the index changing under it.
 */

/* What a key signs. */
enum jg_key_purpose {
	JG_KEY_ACCESS = 0,	/* access tokens (RFC 9068) */
	JG_KEY_ID,		/* OpenID Connect ID tokens */
	JG_KEY_PURPOSE_COUNT
};

enum jg_key_state {
	JG_KEY_NEXT = 0,
	JG_KEY_CURRENT,
	JG_KEY_PREVIOUS
};

/* Name of the index file inside the key folder. */
#define JG_KEYRING_INDEX "keyring.json"
/* Most keys one keyring holds. */
#define JG_KEYRING_MAX_KEYS 64

/* One key of the ring.  Read-only outside keyring.c. */
struct jg_keyring_key {
	char *kid;
	enum jg_alg alg;
	enum jg_key_purpose purpose;
	enum jg_key_state state;
	int64_t created;
	int64_t rotated_at;
	struct jg_jwk *pub;	/* the public key, its alg set to alg */
	struct jg_jwk *priv;	/* the private key, alg set, for the current
				 * keys only; NULL for the others */
};

/* A loaded keyring.  Read-only outside keyring.c. */
struct jg_keyring {
	char *dir;			/* the key folder */
	struct jg_keyring_key *keys;	/* ordered by purpose, then current,
					 * next, previous, then newest first */
	size_t count;
	struct jg_jwks *public_set;	/* public keys of every key */
	/* Identity of the index file as loaded, for jg_keyring_changed. */
	bool loaded_index;
	uint64_t index_dev, index_ino;
	int64_t index_mtime_sec, index_mtime_nsec;
};

/* Returns "access" or "id" (NULL for anything else). */
const char *jg_key_purpose_name(enum jg_key_purpose purpose);
/* Sets *out from "access" or "id" and returns true; false for other names. */
bool jg_key_purpose_from_name(const char *name, enum jg_key_purpose *out);
/* Returns "next", "current" or "previous" (NULL for anything else). */
const char *jg_key_state_name(enum jg_key_state state);
/* Returns true for the algorithms a keyring key may have: RS*, PS*, ES*
 * and EdDSA (never HMAC: an HMAC key cannot be published). */
bool jg_keyring_alg_supported(enum jg_alg alg);

/* ---------------------------------------------------------------- reading */

/* Reads the keyring in key_dir: the index and every key it names.  Each
 * PEM file must hold the private key whose thumbprint is its kid and fit
 * its alg; the index must be well formed, name each kid once and have at
 * most one current access key and one current ID key per alg.  On success *out is new (free with
 * jg_keyring_free) and JG_OK is returned.  Otherwise *errmsg (when errmsg
 * is not NULL) is a new one-line English message naming the file (caller
 * frees) and the result is JG_ERR_NOT_FOUND when there is no index,
 * JG_ERR_MALFORMED for a bad index or key file (a missing key file too),
 * JG_ERR_SYSTEM for an I/O error. */
enum jg_err jg_keyring_load(const char *key_dir, struct jg_keyring **out,
			    char **errmsg);

/* Reads the keyring as jg_keyring_load does, for a program that only
 * verifies (resource.fcgi, authorize.fcgi): every key is imported for its
 * public part only, so the private parts are not checked against it (no
 * RSA consistency signature: about 2 ms of a cold start saved per RSA
 * key), and jg_keyring_current and jg_keyring_current_alg return NULL.
 * The PEM files must still parse as private keys of their kid and alg.
 * Same results and errors as jg_keyring_load. */
enum jg_err jg_keyring_load_public(const char *key_dir, struct jg_keyring **out,
				   char **errmsg);

/* Returns a new empty keyring for key_dir, as for a folder without an
 * index; nothing is written until a key is added.  Caller frees. */
struct jg_keyring *jg_keyring_new(const char *key_dir);

/* Frees a keyring and its keys, wiping private key material.  Accepts NULL. */
void jg_keyring_free(struct jg_keyring *ring);

/* Returns the current private key of purpose (its alg member set: sign with
 * key->alg), or NULL when the ring has none.  For JG_KEY_ID, where several
 * algs may be current, the first one in the ring's order: the RS256 key
 * when there is one (the OpenID Connect default), else the one of the
 * lowest enum jg_alg.  A caller that knows which alg it wants (the token
 * endpoint: a client's or the configured id_token_alg) uses
 * jg_keyring_current_alg instead.  Borrowed from ring. */
const struct jg_jwk *jg_keyring_current(const struct jg_keyring *ring,
					enum jg_key_purpose purpose);

/* Returns the current private key of purpose whose alg is alg, or NULL when
 * the ring has none.  Borrowed from ring. */
const struct jg_jwk *jg_keyring_current_alg(const struct jg_keyring *ring,
					    enum jg_key_purpose purpose,
					    enum jg_alg alg);

/* Returns the set of public keys of every key in the ring (next, current,
 * previous), each with kid and alg: what jwks.json publishes and what a
 * local verifier should trust.  Borrowed from ring; never NULL. */
const struct jg_jwks *jg_keyring_public_set(const struct jg_keyring *ring);

/* Returns the key with this kid, or NULL.  Borrowed from ring. */
const struct jg_keyring_key *jg_keyring_find(const struct jg_keyring *ring,
					     const char *kid);

/* Returns true when the index file was replaced, removed or created since
 * ring was loaded, so a long-running program should load the keyring
 * again.  One stat(2) call; cheap enough for every request. */
bool jg_keyring_changed(const struct jg_keyring *ring);

/* ---------------------------------------------------------------- changing */

/*
 * The functions below change the key folder and are for the admin command.
 * Call them between jg_keyring_lock and jg_keyring_unlock, on a ring loaded
 * (or made new) after taking the lock.  Each one writes what it changed to
 * disk before it returns (a new key file first, then the index); when it
 * fails, neither the folder nor ring has changed.  Errors: *errmsg (when
 * errmsg is not NULL) receives a new one-line message (caller frees).
 */

/* Locks key_dir/.lock (creating it, mode 0600) for this process, waiting
 * up to timeout_ms milliseconds for another holder.  On success *fd is the
 * lock (release with jg_keyring_unlock).  JG_ERR_BUSY when the wait timed
 * out, JG_ERR_SYSTEM when the file cannot be opened or locked (errno is
 * kept). */
enum jg_err jg_keyring_lock(const char *key_dir, unsigned timeout_ms, int *fd);

/* Releases a lock from jg_keyring_lock.  Accepts -1. */
void jg_keyring_unlock(int fd);

/* Generates a key of alg (RSA keys of 2048 bits) for purpose in state next,
 * created at now, writes KID.pem (mode 0600) and the index.  On success
 * *kid_out (when not NULL) points at the new key's kid, borrowed from ring
 * (valid until ring changes).  JG_ERR_MALFORMED for an alg that is not
 * jg_keyring_alg_supported or a purpose out of range; JG_ERR_DENIED when
 * the ring is full (JG_KEYRING_MAX_KEYS); JG_ERR_SYSTEM when generating or
 * writing fails. */
enum jg_err jg_keyring_generate(struct jg_keyring *ring, enum jg_alg alg,
				enum jg_key_purpose purpose, int64_t now,
				const char **kid_out, char **errmsg);

/* Makes a key of purpose current: the newest next key of purpose whose alg
 * is alg (of any alg when alg is JG_ALG_UNKNOWN); when there is none, a new
 * key, generated as jg_keyring_generate does, of alg or, when alg is
 * JG_ALG_UNKNOWN, of default_alg.  The current key it replaces, if any,
 * becomes previous: for JG_KEY_ACCESS the current access key; for
 * JG_KEY_ID only the current ID key of the new key's alg (current ID keys
 * of other algs stay current).  Both get rotated_at = now.  Writes the index.  On
 * success *kid_out (when not NULL) points at the new current key's kid,
 * borrowed from ring.  Errors as jg_keyring_generate; when the promotion
 * fails after a key was generated for it, that key stays, as next. */
enum jg_err jg_keyring_rotate(struct jg_keyring *ring, enum jg_key_purpose purpose,
			      enum jg_alg alg, enum jg_alg default_alg, int64_t now,
			      const char **kid_out, char **errmsg);

/* Removes the key kid from the index, then its PEM file.  A next key (it
 * never signed anything) may go at any time.  A previous key may go when
 * now >= rotated_at + max_token_age, where max_token_age is the longest
 * time a token it signed can be accepted (the longest lifetime of such a
 * token plus the verifiers' leeway), or at any time when force is true.
 * The current key never goes: rotate first.  Returns JG_OK;
 * JG_ERR_NOT_FOUND when the ring has no such kid; JG_ERR_DENIED when the
 * key is current, or previous and too young without force, in which case
 * *retire_after (when not NULL) is the first time it may go;
 * JG_ERR_SYSTEM when the index cannot be written. */
enum jg_err jg_keyring_retire(struct jg_keyring *ring, const char *kid,
			      int64_t now, int64_t max_token_age, bool force,
			      int64_t *retire_after, char **errmsg);

/* ---------------------------------------------------------------- publishing */

/* Returns a new JWK Set object (caller puts) of the ring's public keys,
 * each with "kid", "alg" and "use":"sig", never a private member. */
struct json_object *jg_keyring_jwks_json(const struct jg_keyring *ring);

/* Returns a new OpenID Connect Discovery 1.0 / RFC 8414 metadata object
 * (caller puts) for config's issuer: the endpoints below the issuer URL
 * (/oauth/authorize, /oauth/token, /oauth/userinfo, /oauth/revoke,
 * /oauth/introspect, /oauth/logout, /.well-known/jwks.json), and what the
 * server supports.  id_token_signing_alg_values_supported lists the algs
 * of the ring's current ID-token keys in the ring's order, RS256 first
 * (config's id_token_alg when the ring has none). */
struct json_object *jg_keyring_discovery_json(const struct jg_config *config,
					      const struct jg_keyring *ring);

/* Writes config->htdocs/.well-known/jwks.json and
 * .well-known/openid-configuration (mode 0644, each replaced atomically),
 * creating the .well-known folder (mode 0755) when missing.  Returns JG_OK,
 * or JG_ERR_SYSTEM with a new message in *errmsg (when not NULL). */
enum jg_err jg_keyring_publish(const struct jg_config *config,
			       const struct jg_keyring *ring, char **errmsg);

#endif
