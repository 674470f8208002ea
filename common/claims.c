/* claims.c: JWT (RFC 7519) claim validation, and signing/verifying JWTs. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "claims.h"
#include "json.h"

/* NumericDate claims outside +-2^53 are refused: beyond that a JSON number
 * is not exact in most implementations, and the arithmetic below stays far
 * from int64 overflow. */
#define NUMERIC_DATE_MAX ((int64_t)1 << 53)

/* Sets *why and returns err. */
static enum jg_err
refuse(enum jg_err err, const char **why, const char *reason)
{
	if (why)
		*why = reason;
	return err;
}

/* Returns true when obj has member key (even a null one), in *val. */
static bool
member(const struct json_object *obj, const char *key, struct json_object **val)
{
	*val = NULL;
	return json_object_object_get_ex(obj, key, val) != 0;
}

/* json-c's string getter takes a non-const pointer though it only reads. */
static const char *
string_of(const struct json_object *s, size_t *len)
{
	*len = (size_t)json_object_get_string_len(s);
	return json_object_get_string((struct json_object *)(uintptr_t)s);
}

/* Exact comparison of a JSON string (which may hold NUL bytes) with want. */
static bool
string_equal(const struct json_object *s, const char *want)
{
	size_t len;
	const char *v = string_of(s, &len);

	return len == strlen(want) && memcmp(v, want, len) == 0;
}

/* Compares n bytes ignoring ASCII case only, whatever the locale. */
static bool
ascii_case_equal(const char *a, const char *b, size_t n)
{
	unsigned char x, y;
	size_t i;

	for (i = 0; i < n; i++) {
		x = (unsigned char)a[i];
		y = (unsigned char)b[i];
		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y - 'A' + 'a');
		if (x != y)
			return false;
	}
	return true;
}

/* Drops a leading "application/" (any case), as RFC 7515 section 4.1.9
 * allows for media types without another "/". */
static const char *
strip_media_prefix(const char *s, size_t *len)
{
	static const char prefix[] = "application/";
	size_t n = sizeof(prefix) - 1;

	if (*len > n && ascii_case_equal(s, prefix, n) &&
	    memchr(s + n, '/', *len - n) == NULL) {
		*len -= n;
		return s + n;
	}
	return s;
}

static bool
typ_matches(const char *have, size_t have_len, const char *want)
{
	size_t want_len = strlen(want);

	have = strip_media_prefix(have, &have_len);
	want = strip_media_prefix(want, &want_len);
	return have_len == want_len && ascii_case_equal(have, want, want_len);
}

/* Reads NumericDate claim name into *out and *present.  Returns false when
 * it is there but not an integer within +-2^53. */
static bool
numeric_date(const struct json_object *claims, const char *name, int64_t *out,
	     bool *present)
{
	struct json_object *val;
	int64_t v;

	*present = member(claims, name, &val);
	if (!*present)
		return true;
	if (!json_object_is_type(val, json_type_int))
		return false;
	v = json_object_get_int64(val);
	if (v > NUMERIC_DATE_MAX || v < -NUMERIC_DATE_MAX)
		return false;
	*out = v;
	return true;
}

/* Returns true when x < a + b in exact arithmetic (b >= 0). */
static bool
less_than_sum(int64_t x, int64_t a, int64_t b)
{
	int64_t sum;

	/* With b >= 0 only an upward overflow can happen, and then the sum
	 * is above every int64. */
	if (__builtin_add_overflow(a, b, &sum))
		return true;
	return x < sum;
}

/* aud is a string or an array of strings.  Returns JG_OK when it is well
 * formed, with *found telling whether want (may be NULL) is in it. */
static enum jg_err
check_aud(const struct json_object *aud, const char *want, bool *found)
{
	struct json_object *item;
	size_t i, n;

	*found = false;
	if (json_object_is_type(aud, json_type_string)) {
		*found = want && string_equal(aud, want);
		return JG_OK;
	}
	if (!json_object_is_type(aud, json_type_array))
		return JG_ERR_MALFORMED;
	n = json_object_array_length(aud);
	for (i = 0; i < n; i++) {
		item = json_object_array_get_idx(aud, i);
		if (!json_object_is_type(item, json_type_string))
			return JG_ERR_MALFORMED;
		if (want && string_equal(item, want))
			*found = true;
	}
	return JG_OK;
}

/* The claims rules after the header's typ (typ_len bytes at typ, or typ
 * NULL when the header has none). */
static enum jg_err
check_claims(const char *typ, size_t typ_len, const struct json_object *claims,
	     const struct jg_claims_policy *policy, const char **why)
{
	struct json_object *val;
	int64_t exp = 0, nbf = 0, iat = 0, leeway, now;
	bool has_exp, has_nbf, has_iat, found;
	const char *const *name;

	if (policy == NULL)
		return refuse(JG_ERR_MALFORMED, why, "no claims policy");
	if (!json_object_is_type(claims, json_type_object))
		return refuse(JG_ERR_MALFORMED, why, "claims are not a JSON object");
	now = policy->now;
	leeway = policy->leeway > 0 ? policy->leeway : 0;

	/* Header typ: one kind of token is never accepted as another. */
	if (policy->typ) {
		if (typ == NULL) {
			if (!policy->typ_optional)
				return refuse(JG_ERR_DENIED, why, "token typ missing");
		} else if (!typ_matches(typ, typ_len, policy->typ)) {
			return refuse(JG_ERR_DENIED, why, "wrong token typ");
		}
	}

	/* Types first: a wrongly typed claim is malformed whatever its value. */
	if (!numeric_date(claims, "exp", &exp, &has_exp))
		return refuse(JG_ERR_MALFORMED, why, "exp is not an integer NumericDate");
	if (!numeric_date(claims, "nbf", &nbf, &has_nbf))
		return refuse(JG_ERR_MALFORMED, why, "nbf is not an integer NumericDate");
	if (!numeric_date(claims, "iat", &iat, &has_iat))
		return refuse(JG_ERR_MALFORMED, why, "iat is not an integer NumericDate");
	if (member(claims, "iss", &val) && !json_object_is_type(val, json_type_string))
		return refuse(JG_ERR_MALFORMED, why, "iss is not a string");
	if (member(claims, "sub", &val) && !json_object_is_type(val, json_type_string))
		return refuse(JG_ERR_MALFORMED, why, "sub is not a string");
	if (member(claims, "jti", &val) && !json_object_is_type(val, json_type_string))
		return refuse(JG_ERR_MALFORMED, why, "jti is not a string");
	found = false;
	if (member(claims, "aud", &val) &&
	    check_aud(val, policy->aud, &found) != JG_OK)
		return refuse(JG_ERR_MALFORMED, why,
			      "aud is not a string or an array of strings");

	/* Time, in exact arithmetic: valid iff now < exp + leeway,
	 * nbf <= now + leeway and iat <= now + leeway. */
	if (!has_exp && !policy->exp_optional)
		return refuse(JG_ERR_DENIED, why, "token has no exp");
	if (has_exp && !less_than_sum(now, exp, leeway))
		return refuse(JG_ERR_DENIED, why, "token expired");
	if (has_nbf && !less_than_sum(nbf - 1, now, leeway))
		return refuse(JG_ERR_DENIED, why, "token not yet valid (nbf)");
	if (has_iat && !less_than_sum(iat - 1, now, leeway))
		return refuse(JG_ERR_DENIED, why, "token issued in the future (iat)");

	if (policy->iss) {
		if (!member(claims, "iss", &val))
			return refuse(JG_ERR_DENIED, why, "token has no iss");
		if (!string_equal(val, policy->iss))
			return refuse(JG_ERR_DENIED, why, "iss is not the expected issuer");
	}
	if (policy->aud) {
		if (!member(claims, "aud", &val))
			return refuse(JG_ERR_DENIED, why, "token has no aud");
		if (!found)
			return refuse(JG_ERR_DENIED, why,
				      "aud does not include the expected audience");
	}
	for (name = policy->required; name && *name; name++)
		if (!member(claims, *name, &val))
			return refuse(JG_ERR_DENIED, why, "a required claim is missing");
	return JG_OK;
}

enum jg_err
jg_claims_check(const struct json_object *header,
		const struct json_object *claims,
		const struct jg_claims_policy *policy, const char **why)
{
	struct json_object *val;
	const char *typ = NULL;
	size_t typ_len = 0;

	if (policy == NULL)
		return refuse(JG_ERR_MALFORMED, why, "no claims policy");
	if (!json_object_is_type(claims, json_type_object))
		return refuse(JG_ERR_MALFORMED, why, "claims are not a JSON object");
	if (policy->typ && header != NULL && member(header, "typ", &val)) {
		if (!json_object_is_type(val, json_type_string))
			return refuse(JG_ERR_MALFORMED, why, "typ is not a string");
		typ = string_of(val, &typ_len);
	}
	return check_claims(typ, typ_len, claims, policy, why);
}

enum jg_err
jg_jwt_verify(const char *token, size_t len, const struct jg_jwks *keys,
	      const enum jg_alg *allowed, size_t nallowed,
	      const struct jg_claims_policy *policy, struct jg_jwt **out,
	      const char **why)
{
	struct jg_jws *jws = NULL;
	struct json_object *claims = NULL;
	struct jg_jwt *jwt;
	enum jg_err rc;

	rc = jg_jws_verify(token, len, keys, allowed, nallowed, &jws, why);
	if (rc != JG_OK)
		return rc;
	rc = jg_json_parse_object((const char *)jws->payload, jws->payload_len,
				  &claims, NULL);
	if (rc != JG_OK) {
		rc = refuse(rc, why, "claims are not a strict JSON object");
		goto done;
	}
	/* jg_jws_verify took typ as a string without NUL, or refused. */
	rc = check_claims(jws->typ, jws->typ ? strlen(jws->typ) : 0, claims,
			  policy, why);
	if (rc != JG_OK)
		goto done;
	jwt = jg_xcalloc(1, sizeof(*jwt));
	jwt->jws = jws;
	jwt->claims = claims;
	jws = NULL;
	claims = NULL;
	*out = jwt;
done:
	json_object_put(claims);
	jg_jws_free(jws);
	return rc;
}

enum jg_err
jg_jwt_sign(const struct jg_jwk *key, enum jg_alg alg, const char *typ,
	    const struct json_object *claims, char **token)
{
	struct json_object *extra = NULL;
	char *payload;
	enum jg_err rc;

	if (!json_object_is_type(claims, json_type_object))
		return JG_ERR_MALFORMED;
	if (typ) {
		extra = json_object_new_object();
		if (extra == NULL || json_object_object_add(extra, "typ",
		    json_object_new_string(typ)) != 0) {
			json_object_put(extra);
			return JG_ERR_SYSTEM;
		}
	}
	payload = jg_json_dump(claims);
	rc = jg_jws_sign(key, alg, extra, payload, strlen(payload), token);
	jg_free_secret(payload);
	json_object_put(extra);
	return rc;
}

void
jg_jwt_free(struct jg_jwt *jwt)
{
	if (jwt == NULL)
		return;
	jg_jws_free(jwt->jws);
	json_object_put(jwt->claims);
	free(jwt);
}
