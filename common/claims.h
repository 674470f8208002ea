/* claims.h: JWT (RFC 7519) claim validation, and signing/verifying JWTs. */
#ifndef JG_CLAIMS_H
#define JG_CLAIMS_H

#include <stdbool.h>
#include <stdint.h>
#include <json-c/json.h>
#include "util.h"
#include "jwk.h"
#include "jws.h"

/* Header "typ" of each kind of token. */
#define JG_TYP_ACCESS "at+jwt"	/* RFC 9068 */
#define JG_TYP_ID     "JWT"	/* OpenID Connect ID tokens */

/* What a token must satisfy.  Zero-initialise and set what matters. */
struct jg_claims_policy {
	int64_t now;		/* current time, seconds since the epoch */
	int64_t leeway;		/* seconds of clock skew allowed (>= 0) */
	const char *iss;	/* exact "iss" required, or NULL */
	const char *aud;	/* must be "aud" or in the "aud" array, or NULL */
	const char *typ;	/* required header "typ" (case-insensitive,
				 * "application/" prefix allowed), or NULL */
	bool typ_optional;	/* with typ: an absent "typ" is accepted too */
	bool exp_optional;	/* "exp" may be absent (it is required otherwise) */
	const char *const *required; /* NULL-terminated names that must be
				      * present, or NULL */
};

/* Checks claims (and the header's typ) against policy.  NumericDate claims
 * (exp, nbf, iat) must be JSON integers within +-2^53; exp must be later
 * than now - leeway, nbf and iat no later than now + leeway.  Returns JG_OK,
 * JG_ERR_MALFORMED for wrongly typed claims, or JG_ERR_DENIED, with a static
 * reason in *why (when not NULL). */
enum jg_err jg_claims_check(const struct json_object *header,
			    const struct json_object *claims,
			    const struct jg_claims_policy *policy,
			    const char **why);

/* A verified JWT. */
struct jg_jwt {
	struct jg_jws *jws;		/* header, raw payload, verifying key */
	struct json_object *claims;	/* the payload parsed as a JSON object */
};

/* Verifies the signature (as jg_jws_verify), parses the payload as a strict
 * JSON object, and checks it against policy.  On success *out is new (caller
 * frees with jg_jwt_free). */
enum jg_err jg_jwt_verify(const char *token, size_t len,
			  const struct jg_jwks *keys,
			  const enum jg_alg *allowed, size_t nallowed,
			  const struct jg_claims_policy *policy,
			  struct jg_jwt **out, const char **why);

/* Signs claims (a JSON object) as a JWT with header typ (NULL for none).
 * On success *token is a new string (caller frees). */
enum jg_err jg_jwt_sign(const struct jg_jwk *key, enum jg_alg alg,
			const char *typ, const struct json_object *claims,
			char **token);

/* Frees a JWT.  Accepts NULL. */
void jg_jwt_free(struct jg_jwt *jwt);

#endif
