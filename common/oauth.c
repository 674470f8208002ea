/* oauth.c: OAuth 2.0 helpers: client-secret hashing and checking. */
#include "config.h"

#include <string.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "oauth.h"

#define PREFIX_LEN (sizeof(JG_CLIENT_SECRET_HASH_PREFIX) - 1)
#define DIGEST_LEN 32
/* "sha256:" + 64 hex digits + NUL. */
#define HASH_TEXT_LEN (PREFIX_LEN + 2 * DIGEST_LEN)

bool
jg_client_secret_valid(const char *secret)
{
	size_t len, i;

	if (secret == NULL)
		return false;
	len = strnlen(secret, JG_CLIENT_SECRET_MAX + 1);
	if (len < JG_CLIENT_SECRET_MIN || len > JG_CLIENT_SECRET_MAX)
		return false;
	for (i = 0; i < len; i++)
		if ((unsigned char)secret[i] < 0x21 || (unsigned char)secret[i] > 0x7e)
			return false;
	return true;
}

/* Writes "sha256:<hex>" and a NUL for len bytes at secret into out. */
static enum jg_err
hash_into(const void *secret, size_t len, char out[HASH_TEXT_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char digest[DIGEST_LEN];
	size_t i;

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, secret, len, digest) < 0)
		return JG_ERR_SYSTEM;
	memcpy(out, JG_CLIENT_SECRET_HASH_PREFIX, PREFIX_LEN);
	for (i = 0; i < DIGEST_LEN; i++) {
		out[PREFIX_LEN + 2 * i] = hex[digest[i] >> 4];
		out[PREFIX_LEN + 2 * i + 1] = hex[digest[i] & 0xf];
	}
	out[HASH_TEXT_LEN] = '\0';
	jg_wipe(digest, sizeof(digest));
	return JG_OK;
}

enum jg_err
jg_client_secret_hash(const char *secret, char **out)
{
	char text[HASH_TEXT_LEN + 1];
	enum jg_err err;
	size_t len;

	if (secret == NULL || out == NULL)
		return JG_ERR_MALFORMED;
	len = strnlen(secret, JG_CLIENT_SECRET_MAX + 1);
	if (len == 0 || len > JG_CLIENT_SECRET_MAX)
		return JG_ERR_MALFORMED;
	err = hash_into(secret, len, text);
	if (err != JG_OK)
		return err;
	*out = jg_xstrdup(text);
	return JG_OK;
}

bool
jg_client_secret_verify(const char *secret, size_t len, const char *stored)
{
	char text[HASH_TEXT_LEN + 1];
	bool equal;

	if (secret == NULL || len == 0 || len > JG_CLIENT_SECRET_MAX || stored == NULL)
		return false;
	/* The format is public (it is in this file), so checking it first
	 * leaks nothing; only the digest comparison must be constant time. */
	if (strnlen(stored, HASH_TEXT_LEN + 1) != HASH_TEXT_LEN ||
	    strncmp(stored, JG_CLIENT_SECRET_HASH_PREFIX, PREFIX_LEN) != 0)
		return false;
	if (hash_into(secret, len, text) != JG_OK)
		return false;
	equal = jg_ct_equal(text, HASH_TEXT_LEN, stored, HASH_TEXT_LEN);
	jg_wipe(text, sizeof(text));
	return equal;
}
