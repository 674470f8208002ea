/* fuzz_jws.c: libFuzzer harness for compact JWS decoding and verification
 * (jg_jws_decode, jg_jws_verify in common/jws.c) with a fixed key set of
 * every type jwtgate supports: RSA (RS/PS), EC P-256, P-384, P-521,
 * Ed25519 and oct (HS256, HS512), loaded from tests/fuzz/keys/ (test keys,
 * made with "jwtgate key generate", never used anywhere else).  The seed
 * tokens in corpus/fuzz_jws were signed with these keys, so mutations reach
 * the signature checks.  A token that verifies must decode to the same
 * header and payload, and be refused once its algorithm is not allowed.
 * The JWT layer (common/claims.c) is fuzzed on the same input: the claims
 * of every decodable token go through jg_claims_check (unsigned, so that
 * mutated claims reach it), and jg_jwt_verify must accept exactly when
 * jg_jws_verify accepts, the payload is a strict JSON object and
 * jg_claims_check accepts it.  jg_jws_decode reads plain headers with a scan
 * of its own: jg_jws_decode_strict, which always uses the strict JSON
 * parser, must give the same answer, reason, fields and header (plain
 * headers seen before come from the thread's memo of the last header, so
 * the memo is compared too).  The input as one base64url text must decode
 * the same with the AVX2 decoder (common/b64url.c) and the scalar one. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "b64url.h"
#include "claims.h"
#include "json.h"
#include "jwk.h"
#include "jws.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct jg_jwks *keys;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const files[] = { "RS256", "PS256", "ES256", "ES384",
		"ES512", "EdDSA", "HS256", "HS512" };
	const char *dir = getenv("JG_FUZZ_KEYS");
	size_t i;

	(void)argc;
	(void)argv;
	if (dir == NULL)
		dir = JG_FUZZ_SRCDIR "/tests/fuzz/keys";
	keys = jg_jwks_new();
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct jg_jwks *one = NULL;
		const char *why = NULL;
		char path[4096];

		snprintf(path, sizeof(path), "%s/%s.key", dir, files[i]);
		if (jg_jwks_load_file(path, &one, &why) != JG_OK || one->count != 1) {
			fprintf(stderr, "fuzz_jws: cannot load %s: %s\n", path,
				why ? why : "?");
			abort();
		}
		jg_jwks_add(keys, one->keys[0]);
		one->count = 0;
		jg_jwks_free(one);
	}
	return 0;
}

/* The claims layer: dec is the decoded token (or NULL), ver the verified
 * one (or NULL).  The policy is that of an access token of the seeds. */
static void
check_jwt(const char *s, size_t size, struct jg_jws *dec,
	  const struct jg_jws *ver)
{
	static const enum jg_alg all[] = { JG_ALG_HS256, JG_ALG_HS512,
		JG_ALG_RS256, JG_ALG_RS384, JG_ALG_PS256, JG_ALG_PS512,
		JG_ALG_ES256, JG_ALG_ES384, JG_ALG_ES512, JG_ALG_EDDSA };
	static const char *const required[] = { "sub", "jti", NULL };
	struct jg_claims_policy pol;
	struct json_object *claims = NULL;
	struct jg_jwt *jwt = NULL;
	const char *why = NULL;
	enum jg_err cerr = JG_ERR_MALFORMED, jerr;
	size_t i;

	memset(&pol, 0, sizeof(pol));
	pol.now = 1800000000;
	pol.leeway = 60;
	pol.iss = "https://issuer.example";
	pol.aud = "api";
	pol.typ = JG_TYP_ID;
	pol.typ_optional = true;
	pol.required = required;
	if (dec != NULL &&
	    jg_json_parse_object((const char *)dec->payload, dec->payload_len,
				 &claims, NULL) == JG_OK) {
		cerr = jg_claims_check(jg_jws_header(dec), claims, &pol, &why);
		if (cerr != JG_OK && why == NULL)
			abort();
	}
	jerr = jg_jwt_verify(s, size, keys, all, sizeof(all) / sizeof(all[0]),
			     &pol, &jwt, &why);
	if (jerr == JG_OK) {
		if (ver == NULL || cerr != JG_OK || jwt == NULL ||
		    jwt->jws->key == NULL || !json_object_equal(jwt->claims, claims))
			abort();
	} else if (why == NULL || jwt != NULL) {
		abort();
	} else if (ver != NULL && cerr == JG_OK) {
		/* Verified with the wider list of the caller: only an alg
		 * missing from this list may refuse it. */
		for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
			if (all[i] == ver->alg)
				abort();
	}
	jg_jwt_free(jwt);
	json_object_put(claims);
}

static bool
same_string(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* The plain-header scan against the strict parser: err and why are
 * jg_jws_decode's answer, dec its result. */
static void
check_strict(const char *s, size_t size, enum jg_err err, const char *why,
	     struct jg_jws *dec)
{
	struct jg_jws *strict = NULL;
	const char *why_strict = NULL;
	enum jg_err serr;

	serr = jg_jws_decode_strict(s, size, &strict, &why_strict);
	if (serr != err)
		abort();
	if (err != JG_OK) {
		if (strict != NULL || !same_string(why, why_strict))
			abort();
		return;
	}
	if (strict->header == NULL || strict->alg != dec->alg ||
	    !same_string(strict->kid, dec->kid) ||
	    !same_string(strict->typ, dec->typ) ||
	    strict->payload_len != dec->payload_len ||
	    memcmp(strict->payload, dec->payload, dec->payload_len) != 0 ||
	    !json_object_equal(jg_jws_header(dec), strict->header))
		abort();
	jg_jws_free(strict);
}

/* The vector base64url decoder against the scalar one. */
static void
check_b64(const char *s, size_t size)
{
	static unsigned char a[JG_JWS_MAX_TOKEN], b[JG_JWS_MAX_TOKEN];
	size_t alen = 0, blen = 0;
	enum jg_err ea, eb;
	int vector = jg_b64url_vector(-1);

	if (size > sizeof(a))
		return;
	ea = jg_b64url_decode_into(s, size, a, sizeof(a), &alen);
	jg_b64url_vector(0);
	eb = jg_b64url_decode_into(s, size, b, sizeof(b), &blen);
	jg_b64url_vector(vector);
	if (ea != eb || (ea == JG_OK && (alen != blen ||
					 memcmp(a, b, alen) != 0)))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum jg_alg all[] = { JG_ALG_HS256, JG_ALG_HS384,
		JG_ALG_HS512, JG_ALG_RS256, JG_ALG_RS384, JG_ALG_RS512,
		JG_ALG_PS256, JG_ALG_PS384, JG_ALG_PS512, JG_ALG_ES256,
		JG_ALG_ES384, JG_ALG_ES512, JG_ALG_EDDSA };
	const char *s = (const char *)data;
	struct jg_jws *dec = NULL, *ver = NULL, *again = NULL;
	const char *why = NULL;
	enum jg_err err;
	enum jg_alg others[JG_ALG_COUNT];
	size_t i, n = 0;

	check_b64(s, size);
	err = jg_jws_decode(s, size, &dec, &why);
	if (err != JG_OK && why == NULL)
		abort();
	check_strict(s, size, err, why, dec);
	err = jg_jws_verify(s, size, keys, all, sizeof(all) / sizeof(all[0]),
			    &ver, &why);
	if (err == JG_OK) {
		if (dec == NULL || ver->key == NULL || ver->alg != dec->alg ||
		    ver->payload_len != dec->payload_len ||
		    memcmp(ver->payload, dec->payload, dec->payload_len) != 0 ||
		    !json_object_equal(jg_jws_header(ver), jg_jws_header(dec)) ||
		    ver->payload[ver->payload_len] != '\0')
			abort();
		for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
			if (all[i] != ver->alg)
				others[n++] = all[i];
		if (jg_jws_verify(s, size, keys, others, n, &again, NULL) != JG_ERR_DENIED)
			abort();
	} else if (dec == NULL && err != JG_ERR_MALFORMED && err != JG_ERR_DENIED) {
		abort();
	}
	check_jwt(s, size, dec, ver);
	jg_jws_free(again);
	jg_jws_free(ver);
	jg_jws_free(dec);
	return 0;
}
