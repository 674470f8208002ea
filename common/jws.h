/* jws.h: JWS compact serialization (RFC 7515), signing and verification. */
#ifndef JG_JWS_H
#define JG_JWS_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>
#include "util.h"
#include "jwk.h"

/* Bounds on what jg_jws_decode and jg_jws_verify look at. */
#define JG_JWS_MAX_TOKEN  16384	/* whole compact token, bytes */
#define JG_JWS_MAX_HEADER 2048	/* encoded protected header, bytes */

/* Signs len bytes at data with key under alg and writes the raw JWS
 * signature (for ECDSA, R||S of exactly twice the curve size) into a new
 * buffer *sig of *siglen bytes (caller frees).  The key must be usable for
 * signing with alg (jg_jwk_usable).  Returns JG_OK, JG_ERR_DENIED when the
 * key does not fit alg, or JG_ERR_SYSTEM. */
enum jg_err jg_jws_sign_raw(const struct jg_jwk *key, enum jg_alg alg,
			    const void *data, size_t len,
			    unsigned char **sig, size_t *siglen);

/* Verifies a raw JWS signature over len bytes at data.  The key must be
 * usable for verifying with alg.  ECDSA signatures must be exactly twice the
 * curve size with 0 < r, s < n; HMAC tags must have the full hash length and
 * are compared in constant time.  Returns JG_OK when valid, JG_ERR_DENIED
 * otherwise. */
enum jg_err jg_jws_verify_raw(const struct jg_jwk *key, enum jg_alg alg,
			      const void *data, size_t len,
			      const unsigned char *sig, size_t siglen);

/* Produces a compact JWS of len bytes at payload.  The protected header is
 * {"alg":..., "kid": key's kid when it has one, then the members of extra
 * (may be NULL; it must not hold "alg")}.  On success *token is a new string
 * (caller frees). */
enum jg_err jg_jws_sign(const struct jg_jwk *key, enum jg_alg alg,
			const struct json_object *extra_header,
			const void *payload, size_t len, char **token);

/* A decoded (and perhaps verified) JWS. */
struct jg_jws {
	struct json_object *header;	/* the protected header: NULL after a
					 * plain header was read without the
					 * JSON parser; use jg_jws_header */
	const char *header_text;	/* that plain header's text, or NULL */
	size_t header_len;
	unsigned char *payload;		/* decoded payload, NUL-terminated */
	size_t payload_len;
	enum jg_alg alg;		/* from the header */
	const char *kid;		/* into header, or NULL */
	const char *typ;		/* into header, or NULL */
	const struct jg_jwk *key;	/* the key that verified it (borrowed
					 * from the set), NULL when decoded only */
};

/* Decodes a compact JWS without checking the signature, applying every
 * structural rule: length bounds, exactly three strict base64url segments,
 * a strict-JSON object header with a known "alg" (never "none"), "crit"
 * refused (jwtgate understands no extension), "jwk", "jku", "x5u", "x5c"
 * refused, "kid" and "typ" strings when present.  On success *out is new
 * (caller frees with jg_jws_free).  Otherwise JG_ERR_MALFORMED or
 * JG_ERR_DENIED with a static reason in *why (when not NULL). */
enum jg_err jg_jws_decode(const char *token, size_t len, struct jg_jws **out,
			  const char **why);

/* Decodes as jg_jws_decode, then verifies: the header's alg must be in the
 * allow-list (nallowed entries at allowed), and a key of keys with a
 * matching kid (when the header has one; any key otherwise) must be usable
 * for verifying with that alg and validate the signature.  On success *out
 * is new and JG_OK returned; JG_ERR_DENIED for a bad signature, an alg not
 * allowed or no usable key; JG_ERR_MALFORMED for a malformed token. */
enum jg_err jg_jws_verify(const char *token, size_t len,
			  const struct jg_jwks *keys,
			  const enum jg_alg *allowed, size_t nallowed,
			  struct jg_jws **out, const char **why);

/* As jg_jws_decode, but the header always goes through the strict JSON
 * parser: a header of plain string members is otherwise read by a scanner
 * of its own, and the tests and the fuzzer compare the two with this. */
enum jg_err jg_jws_decode_strict(const char *token, size_t len,
				 struct jg_jws **out, const char **why);

/* The protected header as JSON, parsed on first use when the plain-header
 * scan read it; owned by jws.  NULL only when jws is NULL. */
struct json_object *jg_jws_header(struct jg_jws *jws);

/* Frees a decoded JWS.  Accepts NULL. */
void jg_jws_free(struct jg_jws *jws);

#endif
