/* oauth.h: OAuth 2.0 helpers shared by the programs and the admin tool:
 * client authentication (secret hashing and checking); redirect matching
 * and PKCE arrive with the authorization server. */
#ifndef JG_OAUTH_H
#define JG_OAUTH_H

#include <stdbool.h>
#include <stddef.h>
#include "util.h"

/* Shortest and longest client secret accepted, in bytes.  The shortest is
 * what jg_random_token(24) gives; `jwtgate client add` generates
 * jg_random_token(32), 43 characters (256 bits). */
#define JG_CLIENT_SECRET_MIN 32
#define JG_CLIENT_SECRET_MAX 512

/* Prefix of a stored client-secret hash; the rest is 64 lowercase hex
 * digits of SHA-256. */
#define JG_CLIENT_SECRET_HASH_PREFIX "sha256:"

/*
 * Client secrets are random strings of high entropy made by jwtgate, not
 * passwords a person chose, so one round of SHA-256 protects a stored
 * secret as well as a slow password hash would, without costing tens of
 * milliseconds on every token request.
 */

/* Returns true when secret is acceptable as a client secret: JG_CLIENT_SECRET_MIN
 * to JG_CLIENT_SECRET_MAX bytes, each a visible ASCII character (0x21 to
 * 0x7e; RFC 6749 appendix A.2 allows 0x20 too, but a space at either end
 * is lost too easily, so none is accepted). */
bool jg_client_secret_valid(const char *secret);

/* Hashes a client secret for storage.  On success *out is a new string
 * "sha256:" followed by the hex SHA-256 of the secret (caller frees; it is
 * not a secret) and JG_OK is returned.  JG_ERR_MALFORMED when secret is
 * NULL, empty or longer than JG_CLIENT_SECRET_MAX (this function does not
 * apply the other rules of jg_client_secret_valid, which are for new
 * secrets); JG_ERR_SYSTEM when hashing fails. */
enum jg_err jg_client_secret_hash(const char *secret, char **out);

/* Returns true when the presented secret (len bytes, not necessarily
 * NUL-terminated; it may hold any bytes) hashes to stored, a string made by
 * jg_client_secret_hash.  The hashes are compared in constant time.
 * Returns false for a NULL, empty or over-long secret, and for a stored
 * value of another format (NULL for a public client included). */
bool jg_client_secret_verify(const char *secret, size_t len, const char *stored);

#endif
