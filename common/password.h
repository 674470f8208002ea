/* password.h: password hashing and verification through crypt(3) from
 * libxcrypt, and the parser of Apache htpasswd files. */
#ifndef JG_PASSWORD_H
#define JG_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>
#include "util.h"

/* Passwords longer than this many bytes are refused by every function here.
 * It is the most libxcrypt accepts (CRYPT_MAX_PASSPHRASE_SIZE less the
 * NUL), and a bound is needed anyway: sha512-crypt costs time in proportion
 * to the length. */
#define JG_PASSWORD_MAX 511

/* The hash formats jwtgate stores and verifies, by prefix:
 *   "$y$"                  yescrypt, what jg_password_hash makes;
 *   "$2y$", "$2b$", "$2a$" bcrypt (Apache's htpasswd -B writes "$2y$";
 *                          "$2a$" is accepted because crypt(3) verifies it
 *                          correctly, with crypt_blowfish's safeguard for
 *                          8-bit passwords; the buggy "$2x$" is not);
 *   "$6$"                  sha512-crypt (shadow files, mkpasswd -m sha-512).
 * Everything else, such as Apache MD5 "$apr1$", SHA-1 "{SHA}", MD5-crypt
 * "$1$", sha256-crypt "$5$", DES crypt, plain text, and the "*" or "!" of a
 * locked account, never verifies.  bcrypt only looks at the first 72 bytes
 * of a password: that is the format, not a choice of jwtgate. */

/* Hashes password with yescrypt at libxcrypt's default cost and a random
 * salt from libxcrypt's own source (getentropy).  On success *out is a new
 * string (caller frees; it is not a secret) and JG_OK is returned.  An
 * empty password or one longer than JG_PASSWORD_MAX gives
 * JG_ERR_MALFORMED; a failure of libxcrypt or of the random source gives
 * JG_ERR_SYSTEM.  *out is written only on success.  No static buffers are
 * used, so this is safe in threads. */
enum jg_err jg_password_hash(const char *password, char **out);

/* Returns true when password matches hash, comparing the recomputed hash
 * with hash in constant time.  Returns false when it does not match, when
 * the password is empty or longer than JG_PASSWORD_MAX, and when hash is
 * not of a supported format (jg_password_hash_supported); for a hash of an
 * unsupported format the same work as jg_password_verify_dummy is done
 * first, so a locked account ("!", "*") answers in the time of a wrong
 * password.  Neither argument is kept or changed. */
bool jg_password_verify(const char *password, const char *hash);

/* For the unknown-user path of a login: does the work of verifying password
 * against a yescrypt hash of libxcrypt's default cost (the cost of every
 * hash jg_password_hash makes), so that an unknown user costs the same time
 * as a wrong password.  Always returns false, so a caller may write
 * "ok = user ? jg_password_verify(pw, user->hash) :
 * jg_password_verify_dummy(pw);".  The time is only equal for hashes made by
 * jg_password_hash; imported hashes of another cost differ until they are
 * rehashed (see jg_password_needs_rehash). */
bool jg_password_verify_dummy(const char *password);

/* Returns true when hash has one of the supported prefixes above, is
 * complete and well formed for its format (alphabet, lengths, cost field),
 * and libxcrypt accepts its setting (crypt_checksalt).  This is the check
 * the htpasswd importer applies; it does not compute a hash. */
bool jg_password_hash_supported(const char *hash);

/* Returns true when hash is not a yescrypt hash with libxcrypt's current
 * default parameters, so that after a successful login the caller should
 * store jg_password_hash of the password instead (an imported bcrypt or
 * sha512-crypt hash, or an older yescrypt cost). */
bool jg_password_needs_rehash(const char *hash);

/* Maximum length of one htpasswd line, in bytes. */
#define JG_HTPASSWD_MAX_LINE 4096

/* Parses an Apache htpasswd file of len bytes at text (not necessarily
 * NUL-terminated), calling accept or reject (with arg) for each entry.
 * Lines are "user:hash", numbered from 1; LF and CRLF line ends are
 * accepted; spaces and tabs around a line are ignored; empty lines and
 * lines whose first non-blank character is "#" are skipped silently.  The
 * hash is taken as it is, from after the first colon to the end of the
 * line.  A line is rejected, with its number and a reason, when it has no
 * colon, an empty user name, a control character or NUL byte, more than
 * JG_HTPASSWD_MAX_LINE bytes, an empty hash, or a hash that is not
 * jg_password_hash_supported (Apache MD5, SHA-1, MD5-crypt, DES crypt,
 * plain text, a truncated hash, ...).  Duplicate user names are passed on
 * as they come; refusing them is the caller's (the store's) job.
 *
 * accept gets each entry whose hash is supported; user and hash are
 * NUL-terminated copies valid only during the call.  Returning anything but
 * JG_OK stops the parse, and jg_htpasswd_parse returns that value.
 *
 * reject (may be NULL) gets each skipped line: reason is a static English
 * phrase ("Apache MD5 ($apr1$) cannot be verified by crypt(3)"); user is the
 * entry's user name, or NULL when the line is too malformed to name one or
 * the name itself is the fault (a name with control characters is never
 * passed, so user is always safe to print).
 *
 * Returns JG_OK when the whole text was read, or the first error accept
 * returned. */
enum jg_err jg_htpasswd_parse(const char *text, size_t len,
			      enum jg_err (*accept)(void *arg, unsigned line,
						    const char *user,
						    const char *hash),
			      void (*reject)(void *arg, unsigned line,
					     const char *user,
					     const char *reason),
			      void *arg);

#endif
