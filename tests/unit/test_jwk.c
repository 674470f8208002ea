/* test_jwk.c: JWK and JWK Set import and export, PEM, generation, RFC 7638
 * thumbprints and the key/algorithm fit of jg_jwk_usable. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "b64url.h"
#include "json.h"
#include "jwk.h"
#include "testutil.h"

/* RFC 7517 appendix A.1 (and RFC 7638 section 3.1): the RSA modulus. */
#define RFC7517_N \
	"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPF" \
	"FxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93l" \
	"qt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHz" \
	"u6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPks" \
	"INHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
/* RFC 7517 appendix A.2: the private members of that RSA key. */
#define RFC7517_D \
	"X4cTteJY_gn4FYPsXB8rdXix5vwsg1FLN5E3EaG6RJoVH-HLLKD9M7dx5oo7GURknchnrRweU" \
	"kC7hT5fJLM0WbFAKNLWY2vv7B6NqXSzUvxT0_YSfqijwp3RTzlBaCxWp4doFk5N2o8Gy_nHNK" \
	"roADIkJ46pRUohsXywbReAdYaMwFs9tv8d_cPVY3i07a3t8MN6TNwm0dSawm9v47UiCl3Sk5Z" \
	"iG7xojPLu4sbg1U2jx4IBTNBznbJSzFHK66jT8bgkuqsk0GjskDJk19Z4qwjwbsnn4j2WBii3" \
	"RL-Us2lGVkY8fkFzme1z0HbIkfz0Y6mqnOYtqc0X4jfcKoAC8Q"
#define RFC7517_P \
	"83i-7IvMGXoMXCskv73TKr8637FiO7Z27zv8oj6pbWUQyLPQBQxtPVnwD20R-60eTDmD2ujnM" \
	"t5PoqMrm8RfmNhVWDtjjMmCMjOpSXicFHj7XOuVIYQyqVWlWEh6dN36GVZYk93N8Bc9vY41xy" \
	"8B9RzzOGVQzXvNEvn7O0nVbfs"
#define RFC7517_Q \
	"3dfOR9cuYq-0S-mkFLzgItgMEfFzB2q3hWehMuG0oCuqnb3vobLyumqjVZQO1dIrdwgTnCdpY" \
	"zBcOfW5r370AFXjiWft_NGEiovonizhKpo9VVS78TzFgxkIdrecRezsZ-1kYd_s1qDbxtkDEg" \
	"fAITAG9LUnADun4vIcb6yelxk"
#define RFC7517_DP \
	"G4sPXkc6Ya9y8oJW9_ILj4xuppu0lzi_H7VTkS8xj5SdX3coE0oimYwxIi2emTAue0UOa5dpg" \
	"FGyBJ4c8tQ2VF402XRugKDTP8akYhFo5tAA77Qe_NmtuYZc3C3m3I24G2GvR5sSDxUyAN2zq8" \
	"Lfn9EUms6rY3Ob8YeiKkTiBj0"
#define RFC7517_DQ \
	"s9lAH9fggBsoFR8Oac2R_E2gw282rT2kGOAhvIllETE1efrA6huUUvMfBcMpn8lqeW6vzznYY" \
	"5SSQF7pMdC_agI3nG8Ibp1BUb0JUiraRNqUfLhcQb_d9GF4Dh7e74WbRsobRonujTYN1xCaP6" \
	"TO61jvWrX-L18txXw494Q_cgk"
#define RFC7517_QI \
	"GyM_p6JrXySiz1toFgKbWV-JdI3jQ4ypu9rbMWx3rQJBfmt0FoYzgUIZEVFEcOqwemRN81zoD" \
	"Aaa-Bk0KWNGDjJHZDdDmFhW3AN7lI-puxk_mHZGJ11rxyR8O55XLSe3SPmRfKwZI6yU24ZxvQ" \
	"KFYItdldUKGzO6Ia6zTKhAVRU"
/* RFC 7517 appendices A.1 and A.2: the P-256 key. */
#define RFC7517_X "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4"
#define RFC7517_Y "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"
#define RFC7517_ECD "870MB6gfuTJ4HtUnUvYMyJpr5eUZNP4Bk43bVdj3eAE"
/* RFC 8037 appendix A.1: the Ed25519 key. */
#define RFC8037_X "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
#define RFC8037_D "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"

/* RFC 7517 appendix A.1: the public key set. */
static const char rfc7517_a1[] =
	"{\"keys\":\n"
	"  [\n"
	"    {\"kty\":\"EC\",\n"
	"     \"crv\":\"P-256\",\n"
	"     \"x\":\"" RFC7517_X "\",\n"
	"     \"y\":\"" RFC7517_Y "\",\n"
	"     \"use\":\"enc\",\n"
	"     \"kid\":\"1\"},\n"
	"\n"
	"    {\"kty\":\"RSA\",\n"
	"     \"n\": \"" RFC7517_N "\",\n"
	"     \"e\":\"AQAB\",\n"
	"     \"alg\":\"RS256\",\n"
	"     \"kid\":\"2011-04-29\"}\n"
	"  ]\n"
	"}\n";

/* RFC 7517 appendix A.2: the private key set. */
static const char rfc7517_a2[] =
	"{\"keys\":\n"
	"  [\n"
	"    {\"kty\":\"EC\",\n"
	"     \"crv\":\"P-256\",\n"
	"     \"x\":\"" RFC7517_X "\",\n"
	"     \"y\":\"" RFC7517_Y "\",\n"
	"     \"d\":\"" RFC7517_ECD "\",\n"
	"     \"use\":\"enc\",\n"
	"     \"kid\":\"1\"},\n"
	"\n"
	"    {\"kty\":\"RSA\",\n"
	"     \"n\":\"" RFC7517_N "\",\n"
	"     \"e\":\"AQAB\",\n"
	"     \"d\":\"" RFC7517_D "\",\n"
	"     \"p\":\"" RFC7517_P "\",\n"
	"     \"q\":\"" RFC7517_Q "\",\n"
	"     \"dp\":\"" RFC7517_DP "\",\n"
	"     \"dq\":\"" RFC7517_DQ "\",\n"
	"     \"qi\":\"" RFC7517_QI "\",\n"
	"     \"alg\":\"RS256\",\n"
	"     \"kid\":\"2011-04-29\"}\n"
	"  ]\n"
	"}\n";

/* RFC 7517 appendix A.3: the symmetric key set. */
static const char rfc7517_a3[] =
	"{\"keys\":\n"
	"  [\n"
	"    {\"kty\":\"oct\",\n"
	"     \"alg\":\"A128KW\",\n"
	"     \"k\":\"GawgguFyGrWKav7AX4VKUg\"},\n"
	"\n"
	"    {\"kty\":\"oct\",\n"
	"     \"k\":\"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4"
	"hcgUuTwjAzZr1Z9CAow\",\n"
	"     \"kid\":\"HMAC key used in JWS spec Appendix A.1 example\"}\n"
	"  ]\n"
	"}\n";

/* RFC 7638 section 3.1: the JWK and its thumbprint. */
static const char rfc7638_jwk[] =
	"{\n"
	"  \"kty\": \"RSA\",\n"
	"  \"n\": \"" RFC7517_N "\",\n"
	"  \"e\": \"AQAB\",\n"
	"  \"alg\": \"RS256\",\n"
	"  \"kid\": \"2011-04-29\"\n"
	"}\n";
#define RFC7638_THUMBPRINT "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
/* RFC 8037 appendix A.3: the thumbprint of the A.2 Ed25519 public key. */
#define RFC8037_THUMBPRINT "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"

#define NO_ALG JG_ALG_UNKNOWN

/* Keys that take long to make, generated once per program. */
static struct jg_jwk *rsa_key;

static struct jg_jwk *
shared_rsa(void)
{
	if (rsa_key == NULL && jg_jwk_generate(JG_ALG_RS256, 0, &rsa_key) != JG_OK) {
		fprintf(stderr, "test setup: cannot generate an RSA key\n");
		abort();
	}
	return rsa_key;
}

static struct jg_jwk *
parse_ok(const char *text)
{
	struct jg_jwk *key = NULL;
	const char *why = NULL;
	enum jg_err err = jg_jwk_parse(text, strlen(text), &key, &why);

	if (err != JG_OK)
		fprintf(stderr, "unexpected failure: %s\n", why ? why : "?");
	CU_ASSERT_EQUAL_FATAL(err, JG_OK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(key);
	return key;
}

static void
assert_thumbprint(const struct jg_jwk *key, const char *want)
{
	char *tp = NULL;

	CU_ASSERT_EQUAL_FATAL(jg_jwk_thumbprint(key, &tp), JG_OK);
	CU_ASSERT_STRING_EQUAL(tp, want);
	free(tp);
}

static char *
thumbprint(const struct jg_jwk *key)
{
	char *tp = NULL;

	CU_ASSERT_EQUAL_FATAL(jg_jwk_thumbprint(key, &tp), JG_OK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tp);
	return tp;
}

/* Base64url of the decoded value of b64 changed by edit. */
enum edit { KEEP, LEADING_ZERO, TRUNCATE, FLIP_LAST, FIRST_HALF_ODD };

static char *
edited(const char *b64, enum edit how)
{
	unsigned char *raw, *buf;
	size_t len, n;
	char *out;

	if (jg_b64url_decode(b64, strlen(b64), &raw, &len) != JG_OK) {
		fprintf(stderr, "test bug: bad base64url fixture\n");
		abort();
	}
	buf = jg_xcalloc(1, len + 1);
	n = len;
	switch (how) {
	case KEEP:
		memcpy(buf, raw, len);
		break;
	case LEADING_ZERO:
		buf[0] = 0;
		memcpy(buf + 1, raw, len);
		n = len + 1;
		break;
	case TRUNCATE:
		memcpy(buf, raw, len);
		n = len - 1;
		break;
	case FLIP_LAST:
		memcpy(buf, raw, len);
		buf[len - 1] ^= 1;
		break;
	case FIRST_HALF_ODD:
		memcpy(buf, raw, len);
		n = len / 2;
		buf[n - 1] |= 1;
		break;
	}
	out = jg_b64url_encode(buf, n);
	free(raw);
	free(buf);
	return out;
}

/* Replaces each @NAME@ in tmpl with its fixture value. */
static char *
expand(const char *tmpl)
{
	static const struct {
		const char *name;
		const char *b64;
		enum edit how;
	} fix[] = {
		{ "@N@", RFC7517_N, KEEP },
		{ "@N_LZ@", RFC7517_N, LEADING_ZERO },
		{ "@N_1024@", RFC7517_N, FIRST_HALF_ODD },
		{ "@N_2040@", RFC7517_N, TRUNCATE },
		{ "@X@", RFC7517_X, KEEP },
		{ "@Y@", RFC7517_Y, KEEP },
		{ "@Y_OFF@", RFC7517_Y, FLIP_LAST },
		{ "@X_31@", RFC7517_X, TRUNCATE },
		{ "@ECD@", RFC7517_ECD, KEEP },
		{ "@ECD_31@", RFC7517_ECD, TRUNCATE },
		{ "@ECD_BAD@", RFC7517_ECD, FLIP_LAST },
		{ "@EDX@", RFC8037_X, KEEP },
		{ "@EDX_31@", RFC8037_X, TRUNCATE },
		{ "@EDD@", RFC8037_D, KEEP },
		{ "@EDD_BAD@", RFC8037_D, FLIP_LAST },
		{ "@QI_BAD@", RFC7517_QI, FLIP_LAST },
		{ "@D_BAD@", RFC7517_D, FLIP_LAST },
	};
	char *out = jg_xstrdup(tmpl), *at, *val, *next;
	size_t i;

	for (i = 0; i < sizeof(fix) / sizeof(fix[0]); i++) {
		while ((at = strstr(out, fix[i].name)) != NULL) {
			val = edited(fix[i].b64, fix[i].how);
			*at = '\0';
			next = jg_xasprintf("%s%s%s", out, val, at + strlen(fix[i].name));
			free(val);
			free(out);
			out = next;
		}
	}
	return out;
}

#define RSA_PUB "\"kty\":\"RSA\",\"n\":\"@N@\",\"e\":\"AQAB\""
#define RSA_CRT "\"p\":\"" RFC7517_P "\",\"q\":\"" RFC7517_Q "\",\"dp\":\"" \
	RFC7517_DP "\",\"dq\":\"" RFC7517_DQ "\",\"qi\":\"" RFC7517_QI "\""
#define RSA_PRIV RSA_PUB ",\"d\":\"" RFC7517_D "\"," RSA_CRT
#define EC_PUB "\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"@X@\",\"y\":\"@Y@\""
#define EC_PRIV EC_PUB ",\"d\":\"@ECD@\""
#define ED_PUB "\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"@EDX@\""
#define ED_PRIV ED_PUB ",\"d\":\"@EDD@\""
#define OCT32 "\"kty\":\"oct\",\"k\":\"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr8\""

struct row {
	const char *what;
	const char *json;	/* template for expand */
	enum jg_err want;
	enum jg_alg alg;	/* for the usable checks of accepted keys */
	bool sign, verify;	/* expected jg_jwk_usable(key, alg, ...) */
};

/* One JWK at a time through jg_jwk_parse; the key material comes from
 * RFC 7517 appendices A.1/A.2 and RFC 8037 appendix A.1, changed as named. */
static const struct row rows[] = {
	/* Accepted keys and what they may do. */
	{ "RSA public", "{" RSA_PUB "}", JG_OK, JG_ALG_RS256, false, true },
	{ "RSA public, PS512", "{" RSA_PUB "}", JG_OK, JG_ALG_PS512, false, true },
	{ "RSA private", "{" RSA_PRIV "}", JG_OK, JG_ALG_PS256, true, true },
	{ "RSA private, HS256 never", "{" RSA_PRIV "}", JG_OK, JG_ALG_HS256, false, false },
	{ "RSA private, ES256 never", "{" RSA_PRIV "}", JG_OK, JG_ALG_ES256, false, false },
	{ "RSA use enc", "{" RSA_PRIV ",\"use\":\"enc\"}", JG_OK, JG_ALG_RS256, false, false },
	{ "RSA use sig", "{" RSA_PRIV ",\"use\":\"sig\"}", JG_OK, JG_ALG_RS256, true, true },
	{ "RSA key_ops verify only", "{" RSA_PRIV ",\"key_ops\":[\"verify\"]}",
	  JG_OK, JG_ALG_RS256, false, true },
	{ "RSA key_ops sign only", "{" RSA_PRIV ",\"key_ops\":[\"sign\"]}",
	  JG_OK, JG_ALG_RS256, true, false },
	{ "RSA key_ops empty", "{" RSA_PRIV ",\"key_ops\":[]}", JG_OK, JG_ALG_RS256, false, false },
	{ "RSA key_ops foreign values ignored", "{" RSA_PRIV ",\"key_ops\":[\"sign\",\"frob\"]}",
	  JG_OK, JG_ALG_RS256, true, false },
	{ "RSA use sig and key_ops agree",
	  "{" RSA_PRIV ",\"use\":\"sig\",\"key_ops\":[\"verify\",\"sign\"]}",
	  JG_OK, JG_ALG_RS384, true, true },
	{ "RSA alg pinned RS256, asked RS256", "{" RSA_PRIV ",\"alg\":\"RS256\"}",
	  JG_OK, JG_ALG_RS256, true, true },
	{ "RSA alg pinned RS256, asked PS256", "{" RSA_PRIV ",\"alg\":\"RS256\"}",
	  JG_OK, JG_ALG_PS256, false, false },
	{ "RSA non-JWS alg: kept, never usable", "{" RSA_PRIV ",\"alg\":\"RSA-OAEP\"}",
	  JG_OK, JG_ALG_RS256, false, false },
	{ "RSA unknown members ignored", "{" RSA_PUB ",\"x5t\":\"abc\",\"foo\":[1]}",
	  JG_OK, JG_ALG_RS256, false, true },
	{ "EC public", "{" EC_PUB "}", JG_OK, JG_ALG_ES256, false, true },
	{ "EC public, ES384 never", "{" EC_PUB "}", JG_OK, JG_ALG_ES384, false, false },
	{ "EC private", "{" EC_PRIV "}", JG_OK, JG_ALG_ES256, true, true },
	{ "EC private, EdDSA never", "{" EC_PRIV "}", JG_OK, JG_ALG_EDDSA, false, false },
	{ "EC alg ES256", "{" EC_PRIV ",\"alg\":\"ES256\"}", JG_OK, JG_ALG_ES256, true, true },
	{ "Ed25519 public", "{" ED_PUB "}", JG_OK, JG_ALG_EDDSA, false, true },
	{ "Ed25519 private", "{" ED_PRIV "}", JG_OK, JG_ALG_EDDSA, true, true },
	{ "Ed25519, ES256 never", "{" ED_PRIV "}", JG_OK, JG_ALG_ES256, false, false },
	{ "oct 32 bytes, HS256", "{" OCT32 "}", JG_OK, JG_ALG_HS256, true, true },
	{ "oct 32 bytes, HS384 too short", "{" OCT32 "}", JG_OK, JG_ALG_HS384, false, false },
	{ "oct 32 bytes, RS256 never", "{" OCT32 "}", JG_OK, JG_ALG_RS256, false, false },
	{ "oct 16 bytes, HS256 too short", "{\"kty\":\"oct\",\"k\":\"GawgguFyGrWKav7AX4VKUg\"}",
	  JG_OK, JG_ALG_HS256, false, false },
	{ "oct use enc", "{" OCT32 ",\"use\":\"enc\"}", JG_OK, JG_ALG_HS256, false, false },

	/* Refused keys. */
	{ "not an object", "[]", JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "missing kty", "{\"n\":\"@N@\",\"e\":\"AQAB\"}", JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "kty a number", "{\"kty\":1,\"n\":\"@N@\",\"e\":\"AQAB\"}", JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "kty null", "{\"kty\":null,\"n\":\"@N@\",\"e\":\"AQAB\"}", JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "kty unknown (single key)", "{\"kty\":\"DSA\",\"y\":\"AQAB\"}", JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "kty wrong case", "{\"kty\":\"rsa\",\"n\":\"@N@\",\"e\":\"AQAB\"}", JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "kty with NUL", "{\"kty\":\"RSA\\u0000\",\"n\":\"@N@\",\"e\":\"AQAB\"}", JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "RSA 1024-bit modulus", "{\"kty\":\"RSA\",\"n\":\"@N_1024@\",\"e\":\"AQAB\"}",
	  JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "RSA 2040-bit modulus", "{\"kty\":\"RSA\",\"n\":\"@N_2040@\",\"e\":\"AQAB\"}",
	  JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "RSA n with leading zero", "{\"kty\":\"RSA\",\"n\":\"@N_LZ@\",\"e\":\"AQAB\"}",
	  JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "RSA e with leading zero", "{\"kty\":\"RSA\",\"n\":\"@N@\",\"e\":\"AAEAAQ\"}",
	  JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "RSA e even", "{\"kty\":\"RSA\",\"n\":\"@N@\",\"e\":\"AQAA\"}", JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "RSA e one", "{\"kty\":\"RSA\",\"n\":\"@N@\",\"e\":\"AQ\"}", JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "RSA missing e", "{\"kty\":\"RSA\",\"n\":\"@N@\"}", JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "RSA missing n", "{\"kty\":\"RSA\",\"e\":\"AQAB\"}", JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "RSA n a number", "{\"kty\":\"RSA\",\"n\":12345,\"e\":\"AQAB\"}", JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "RSA n bad base64url ('+')", "{\"kty\":\"RSA\",\"n\":\"0vx7+goebGcQ@N@\",\"e\":\"AQAB\"}",
	  JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "RSA e padded", "{\"kty\":\"RSA\",\"n\":\"@N@\",\"e\":\"AQAB====\"}", JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "RSA private with only d", "{" RSA_PUB ",\"d\":\"" RFC7517_D "\"}", JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "RSA CRT members without d", "{" RSA_PUB "," RSA_CRT "}", JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "RSA qi does not belong to the key",
	  "{" RSA_PUB ",\"d\":\"" RFC7517_D "\",\"p\":\"" RFC7517_P "\",\"q\":\"" RFC7517_Q
	  "\",\"dp\":\"" RFC7517_DP "\",\"dq\":\"" RFC7517_DQ "\",\"qi\":\"@QI_BAD@\"}",
	  JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "RSA d does not belong to the key",
	  "{" RSA_PUB ",\"d\":\"@D_BAD@\"," RSA_CRT "}", JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "RSA oth present", "{" RSA_PRIV ",\"oth\":[]}", JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "EC x 31 bytes", "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"@X_31@\",\"y\":\"@Y@\"}",
	  JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "EC point not on the curve", "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"@X@\",\"y\":\"@Y_OFF@\"}",
	  JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "EC P-256 point claimed as P-384", "{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"@X@\",\"y\":\"@Y@\"}",
	  JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "EC missing y", "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"@X@\"}", JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "EC crv unknown (single key)", "{\"kty\":\"EC\",\"crv\":\"P-192\",\"x\":\"@X@\",\"y\":\"@Y@\"}",
	  JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "EC crv missing", "{\"kty\":\"EC\",\"x\":\"@X@\",\"y\":\"@Y@\"}", JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "EC crv a number", "{\"kty\":\"EC\",\"crv\":256,\"x\":\"@X@\",\"y\":\"@Y@\"}",
	  JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "EC d 31 bytes", "{" EC_PUB ",\"d\":\"@ECD_31@\"}", JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "EC d not the key's", "{" EC_PUB ",\"d\":\"@ECD_BAD@\"}", JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "Ed25519 x 31 bytes", "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"@EDX_31@\"}",
	  JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "Ed25519 d not the key's", "{" ED_PUB ",\"d\":\"@EDD_BAD@\"}", JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "OKP X25519 (single key)", "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"@EDX@\"}",
	  JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "OKP crv P-256", "{\"kty\":\"OKP\",\"crv\":\"P-256\",\"x\":\"@EDX@\"}", JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "oct empty k", "{\"kty\":\"oct\",\"k\":\"\"}", JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "oct missing k", "{\"kty\":\"oct\"}", JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "oct k with non-zero unused bits", "{\"kty\":\"oct\",\"k\":\"AR\"}", JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "alg ES256 on an RSA key", "{" RSA_PUB ",\"alg\":\"ES256\"}", JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "alg HS256 on an RSA key", "{" RSA_PUB ",\"alg\":\"HS256\"}", JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "alg RS256 on an oct key", "{" OCT32 ",\"alg\":\"RS256\"}", JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "alg ES384 on a P-256 key", "{" EC_PUB ",\"alg\":\"ES384\"}", JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "alg EdDSA on a P-256 key", "{" EC_PUB ",\"alg\":\"EdDSA\"}", JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "alg none", "{" OCT32 ",\"alg\":\"none\"}", JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "alg a number", "{" RSA_PUB ",\"alg\":256}", JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "kid a number", "{" RSA_PUB ",\"kid\":1}", JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "kid null", "{" RSA_PUB ",\"kid\":null}", JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "use a number", "{" RSA_PUB ",\"use\":1}", JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "key_ops a string", "{" RSA_PUB ",\"key_ops\":\"sign\"}", JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "key_ops with a number", "{" RSA_PUB ",\"key_ops\":[\"verify\",1]}", JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "key_ops duplicate", "{" RSA_PUB ",\"key_ops\":[\"verify\",\"verify\"]}", JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "use sig with key_ops encrypt", "{" RSA_PUB ",\"use\":\"sig\",\"key_ops\":[\"encrypt\"]}",
	  JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "use enc with key_ops sign", "{" RSA_PUB ",\"use\":\"enc\",\"key_ops\":[\"sign\"]}",
	  JG_ERR_MALFORMED, NO_ALG, false, false },
	{ "duplicate member", "{" RSA_PUB ",\"e\":\"AQAB\"}", JG_ERR_MALFORMED, NO_ALG, false, false },
};

static void
test_rows(void)
{
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		char *text = expand(r->json);
		struct jg_jwk *key = NULL;
		const char *why = NULL;
		enum jg_err err = jg_jwk_parse(text, strlen(text), &key, &why);
		bool sign, verify;

		if (err != r->want)
			fprintf(stderr, "\n  row \"%s\": got %d (%s), want %d\n", r->what,
				(int)err, why ? why : "-", (int)r->want);
		CU_ASSERT_EQUAL(err, r->want);
		if (err == JG_OK && r->want == JG_OK) {
			sign = jg_jwk_usable(key, r->alg, JG_KEYOP_SIGN);
			verify = jg_jwk_usable(key, r->alg, JG_KEYOP_VERIFY);
			if (sign != r->sign || verify != r->verify)
				fprintf(stderr, "\n  row \"%s\": usable sign %d verify %d\n",
					r->what, sign, verify);
			CU_ASSERT_EQUAL(sign, r->sign);
			CU_ASSERT_EQUAL(verify, r->verify);
		} else if (err != JG_OK) {
			CU_ASSERT_PTR_NULL(key);
			CU_ASSERT_PTR_NOT_NULL(why);
		}
		jg_jwk_free(key);
		free(text);
	}
}

static void
test_alg_names(void)
{
	static const struct {
		const char *name;
		enum jg_alg alg;
		size_t hash;
	} names[] = {
		{ "HS256", JG_ALG_HS256, 32 }, { "HS384", JG_ALG_HS384, 48 },
		{ "HS512", JG_ALG_HS512, 64 }, { "RS256", JG_ALG_RS256, 32 },
		{ "RS384", JG_ALG_RS384, 48 }, { "RS512", JG_ALG_RS512, 64 },
		{ "PS256", JG_ALG_PS256, 32 }, { "PS384", JG_ALG_PS384, 48 },
		{ "PS512", JG_ALG_PS512, 64 }, { "ES256", JG_ALG_ES256, 32 },
		{ "ES384", JG_ALG_ES384, 48 }, { "ES512", JG_ALG_ES512, 64 },
		{ "EdDSA", JG_ALG_EDDSA, 64 },
	};
	static const char *const unknown[] = {
		"none", "None", "NONE", "hs256", "HS256 ", "", "EDDSA", "Ed25519",
		"RSA-OAEP", "A128KW", "ES256K", "HS1",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		CU_ASSERT_EQUAL(jg_alg_from_name(names[i].name), names[i].alg);
		CU_ASSERT_STRING_EQUAL(jg_alg_name(names[i].alg), names[i].name);
		CU_ASSERT_EQUAL(jg_alg_hash_len(names[i].alg), names[i].hash);
	}
	for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
		CU_ASSERT_EQUAL(jg_alg_from_name(unknown[i]), JG_ALG_UNKNOWN);
	CU_ASSERT_EQUAL(jg_alg_from_name(NULL), JG_ALG_UNKNOWN);
	CU_ASSERT_PTR_NULL(jg_alg_name(JG_ALG_UNKNOWN));
	CU_ASSERT_PTR_NULL(jg_alg_name(JG_ALG_COUNT));
	CU_ASSERT_EQUAL(jg_alg_hash_len(JG_ALG_UNKNOWN), 0);
}

/* RFC 7517 appendix A.1: public keys. */
static void
test_rfc7517_a1(void)
{
	struct jg_jwks *set = NULL;
	const char *why = NULL;
	const struct jg_jwk *ec, *rsa;

	CU_ASSERT_EQUAL_FATAL(jg_jwks_parse(rfc7517_a1, strlen(rfc7517_a1), &set, &why), JG_OK);
	CU_ASSERT_EQUAL_FATAL(set->count, 2);
	ec = set->keys[0];
	CU_ASSERT_EQUAL(ec->kty, JG_KTY_EC);
	CU_ASSERT_EQUAL(ec->curve, GNUTLS_ECC_CURVE_SECP256R1);
	CU_ASSERT_EQUAL(ec->bits, 256);
	CU_ASSERT_EQUAL(ec->alg, JG_ALG_UNKNOWN);
	CU_ASSERT_STRING_EQUAL(ec->kid, "1");
	CU_ASSERT_EQUAL(ec->ops, 0);	/* "use":"enc" */
	CU_ASSERT_PTR_NOT_NULL(ec->pub);
	CU_ASSERT_PTR_NULL(ec->priv);
	CU_ASSERT_PTR_NULL(ec->secret);
	CU_ASSERT_FALSE(jg_jwk_usable(ec, JG_ALG_ES256, JG_KEYOP_VERIFY));

	rsa = set->keys[1];
	CU_ASSERT_EQUAL(rsa->kty, JG_KTY_RSA);
	CU_ASSERT_EQUAL(rsa->bits, 2048);
	CU_ASSERT_EQUAL(rsa->alg, JG_ALG_RS256);
	CU_ASSERT_STRING_EQUAL(rsa->kid, "2011-04-29");
	CU_ASSERT_EQUAL(rsa->ops, JG_KEYOP_SIGN | JG_KEYOP_VERIFY);
	CU_ASSERT_EQUAL(rsa->curve, GNUTLS_ECC_CURVE_INVALID);
	CU_ASSERT_PTR_NOT_NULL(rsa->pub);
	CU_ASSERT_PTR_NULL(rsa->priv);
	CU_ASSERT_TRUE(jg_jwk_usable(rsa, JG_ALG_RS256, JG_KEYOP_VERIFY));
	CU_ASSERT_FALSE(jg_jwk_usable(rsa, JG_ALG_RS256, JG_KEYOP_SIGN));
	CU_ASSERT_FALSE(jg_jwk_usable(rsa, JG_ALG_PS256, JG_KEYOP_VERIFY));
	assert_thumbprint(rsa, RFC7638_THUMBPRINT);
	jg_jwks_free(set);
}

/* RFC 7517 appendix A.2: private keys; exported again member for member. */
static void
test_rfc7517_a2(void)
{
	struct jg_jwks *set = NULL;
	struct json_object *obj;
	const char *why = NULL, *s;
	const struct jg_jwk *ec, *rsa;
	static const struct {
		const char *name, *value;
	} rsa_members[] = {
		{ "kty", "RSA" }, { "n", RFC7517_N }, { "e", "AQAB" }, { "d", RFC7517_D },
		{ "p", RFC7517_P }, { "q", RFC7517_Q }, { "dp", RFC7517_DP },
		{ "dq", RFC7517_DQ }, { "qi", RFC7517_QI }, { "alg", "RS256" },
		{ "kid", "2011-04-29" }, { "use", "sig" },
	};
	size_t i;

	CU_ASSERT_EQUAL_FATAL(jg_jwks_parse(rfc7517_a2, strlen(rfc7517_a2), &set, &why), JG_OK);
	CU_ASSERT_EQUAL_FATAL(set->count, 2);
	ec = set->keys[0];
	CU_ASSERT_EQUAL(ec->kty, JG_KTY_EC);
	CU_ASSERT_EQUAL(ec->curve, GNUTLS_ECC_CURVE_SECP256R1);
	CU_ASSERT_EQUAL(ec->bits, 256);
	CU_ASSERT_STRING_EQUAL(ec->kid, "1");
	CU_ASSERT_PTR_NOT_NULL(ec->pub);
	CU_ASSERT_PTR_NOT_NULL(ec->priv);
	CU_ASSERT_FALSE(jg_jwk_usable(ec, JG_ALG_ES256, JG_KEYOP_SIGN));	/* enc */

	rsa = set->keys[1];
	CU_ASSERT_EQUAL(rsa->kty, JG_KTY_RSA);
	CU_ASSERT_EQUAL(rsa->bits, 2048);
	CU_ASSERT_EQUAL(rsa->alg, JG_ALG_RS256);
	CU_ASSERT_STRING_EQUAL(rsa->kid, "2011-04-29");
	CU_ASSERT_PTR_NOT_NULL(rsa->pub);
	CU_ASSERT_PTR_NOT_NULL(rsa->priv);
	CU_ASSERT_TRUE(jg_jwk_usable(rsa, JG_ALG_RS256, JG_KEYOP_SIGN));
	CU_ASSERT_TRUE(jg_jwk_usable(rsa, JG_ALG_RS256, JG_KEYOP_VERIFY));
	assert_thumbprint(rsa, RFC7638_THUMBPRINT);

	obj = jg_jwk_to_json(rsa, true);
	CU_ASSERT_PTR_NOT_NULL_FATAL(obj);
	for (i = 0; i < sizeof(rsa_members) / sizeof(rsa_members[0]); i++) {
		CU_ASSERT_TRUE(jg_json_get_string(obj, rsa_members[i].name, &s) &&
			       strcmp(s, rsa_members[i].value) == 0);
	}
	CU_ASSERT_EQUAL(json_object_object_length(obj), 12);
	json_object_put(obj);

	obj = jg_jwk_to_json(rsa, false);
	CU_ASSERT_PTR_NOT_NULL_FATAL(obj);
	CU_ASSERT_EQUAL(json_object_object_length(obj), 6);	/* kty kid use alg n e */
	CU_ASSERT_PTR_NULL(jg_json_get(obj, "d"));
	CU_ASSERT_PTR_NULL(jg_json_get(obj, "p"));
	json_object_put(obj);

	obj = jg_jwk_to_json(ec, true);
	CU_ASSERT_PTR_NOT_NULL_FATAL(obj);
	CU_ASSERT_TRUE(jg_json_get_string(obj, "x", &s) && strcmp(s, RFC7517_X) == 0);
	CU_ASSERT_TRUE(jg_json_get_string(obj, "y", &s) && strcmp(s, RFC7517_Y) == 0);
	CU_ASSERT_TRUE(jg_json_get_string(obj, "d", &s) && strcmp(s, RFC7517_ECD) == 0);
	CU_ASSERT_TRUE(jg_json_get_string(obj, "crv", &s) && strcmp(s, "P-256") == 0);
	json_object_put(obj);
	jg_jwks_free(set);
}

/* RFC 7517 appendix A.3: symmetric keys.  The first is for A128KW, an
 * algorithm outside JWS: it imports but may never be used. */
static void
test_rfc7517_a3(void)
{
	struct jg_jwks *set = NULL;
	const char *why = NULL;
	const struct jg_jwk *kw, *hmac;
	struct json_object *obj;
	unsigned char *raw;
	size_t rawlen;

	CU_ASSERT_EQUAL_FATAL(jg_jwks_parse(rfc7517_a3, strlen(rfc7517_a3), &set, &why), JG_OK);
	CU_ASSERT_EQUAL_FATAL(set->count, 2);
	kw = set->keys[0];
	CU_ASSERT_EQUAL(kw->kty, JG_KTY_OCT);
	CU_ASSERT_EQUAL(kw->bits, 128);
	CU_ASSERT_EQUAL(kw->secret_len, 16);
	CU_ASSERT_EQUAL(kw->alg, JG_ALG_UNKNOWN);
	CU_ASSERT_EQUAL(kw->ops, 0);
	CU_ASSERT_PTR_NULL(kw->kid);
	CU_ASSERT_PTR_NULL(kw->pub);
	CU_ASSERT_PTR_NULL(kw->priv);
	CU_ASSERT_FALSE(jg_jwk_usable(kw, JG_ALG_HS256, JG_KEYOP_VERIFY));

	hmac = set->keys[1];
	CU_ASSERT_EQUAL(hmac->kty, JG_KTY_OCT);
	CU_ASSERT_EQUAL(hmac->bits, 512);
	CU_ASSERT_EQUAL_FATAL(hmac->secret_len, 64);
	CU_ASSERT_STRING_EQUAL(hmac->kid, "HMAC key used in JWS spec Appendix A.1 example");
	CU_ASSERT_EQUAL(jg_b64url_decode("AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4"
					 "hcgUuTwjAzZr1Z9CAow", 86, &raw, &rawlen), JG_OK);
	CU_ASSERT_TRUE(rawlen == 64 && memcmp(raw, hmac->secret, 64) == 0);
	free(raw);
	CU_ASSERT_TRUE(jg_jwk_usable(hmac, JG_ALG_HS256, JG_KEYOP_SIGN));
	CU_ASSERT_TRUE(jg_jwk_usable(hmac, JG_ALG_HS384, JG_KEYOP_VERIFY));
	CU_ASSERT_TRUE(jg_jwk_usable(hmac, JG_ALG_HS512, JG_KEYOP_SIGN));
	CU_ASSERT_FALSE(jg_jwk_usable(hmac, JG_ALG_RS256, JG_KEYOP_VERIFY));

	/* A secret key has no public form. */
	CU_ASSERT_PTR_NULL(jg_jwk_to_json(hmac, false));
	obj = jg_jwk_to_json(hmac, true);
	CU_ASSERT_PTR_NOT_NULL_FATAL(obj);
	CU_ASSERT_STRING_EQUAL(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
							      JSON_C_TO_STRING_NOSLASHESCAPE),
			       "{\"kty\":\"oct\",\"kid\":\"HMAC key used in JWS spec Appendix A.1 example\","
			       "\"use\":\"sig\",\"k\":\"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4"
			       "hcgUuTwjAzZr1Z9CAow\"}");
	json_object_put(obj);
	jg_jwks_free(set);
}

/* RFC 7638 section 3.1; and RFC 8037 appendices A.1-A.3 for Ed25519. */
static void
test_thumbprints(void)
{
	struct jg_jwk *key;
	char *text;

	key = parse_ok(rfc7638_jwk);
	assert_thumbprint(key, RFC7638_THUMBPRINT);
	jg_jwk_free(key);

	/* A.2: the public key; A.1: the private key has the same print. */
	key = parse_ok("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" RFC8037_X "\"}");
	CU_ASSERT_EQUAL(key->kty, JG_KTY_OKP);
	CU_ASSERT_EQUAL(key->curve, GNUTLS_ECC_CURVE_ED25519);
	CU_ASSERT_EQUAL(key->bits, 256);
	CU_ASSERT_PTR_NULL(key->priv);
	assert_thumbprint(key, RFC8037_THUMBPRINT);
	jg_jwk_free(key);
	key = parse_ok("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\n\"d\":\"" RFC8037_D "\",\n"
		       "\"x\":\"" RFC8037_X "\"}");
	CU_ASSERT_PTR_NOT_NULL(key->priv);
	assert_thumbprint(key, RFC8037_THUMBPRINT);
	jg_jwk_free(key);

	/* Members outside the required ones do not change the print. */
	text = expand("{" RSA_PRIV ",\"kid\":\"other\",\"use\":\"sig\",\"x5t\":\"x\"}");
	key = parse_ok(text);
	assert_thumbprint(key, RFC7638_THUMBPRINT);
	jg_jwk_free(key);
	free(text);
}

/* jg_jwks_from_json: unknown types and curves are skipped (RFC 7517
 * section 5), a broken key of a known type fails the whole set. */
static void
test_jwks_sets(void)
{
	static const struct {
		const char *what;
		const char *json;
		enum jg_err want;
		size_t count;
	} sets[] = {
		{ "unknown kty and crv skipped",
		  "{\"keys\":[{\"kty\":\"DSA\",\"y\":\"AQAB\"},"
		  "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"@EDX@\"},"
		  "{\"kty\":\"OKP\",\"crv\":\"Ed448\",\"x\":\"@EDX@\"},"
		  "{\"kty\":\"EC\",\"crv\":\"secp256k1\",\"x\":\"@X@\",\"y\":\"@Y@\"},"
		  "{\"kty\":\"ZZ\",\"kid\":7},"
		  "{" EC_PUB ",\"kid\":\"ec\"},{" ED_PUB ",\"kid\":\"ed\"}]}", JG_OK, 2 },
		{ "empty set", "{\"keys\":[]}", JG_OK, 0 },
		{ "bad RSA key fails the set",
		  "{\"keys\":[{" EC_PUB "},{\"kty\":\"RSA\",\"n\":\"@N_1024@\",\"e\":\"AQAB\"}]}",
		  JG_ERR_MALFORMED, 0 },
		{ "off-curve EC key fails the set",
		  "{\"keys\":[{" ED_PUB "},{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"@X@\",\"y\":\"@Y_OFF@\"}]}",
		  JG_ERR_MALFORMED, 0 },
		{ "missing kty fails the set", "{\"keys\":[{" EC_PUB "},{\"x\":\"@X@\"}]}",
		  JG_ERR_MALFORMED, 0 },
		{ "key not an object", "{\"keys\":[{" EC_PUB "},\"k\"]}", JG_ERR_MALFORMED, 0 },
		{ "keys not an array", "{\"keys\":{" EC_PUB "}}", JG_ERR_MALFORMED, 0 },
		{ "keys missing", "{\"key\":[]}", JG_ERR_MALFORMED, 0 },
		{ "not an object", "[{\"keys\":[]}]", JG_ERR_MALFORMED, 0 },
		{ "trailing garbage", "{\"keys\":[]} x", JG_ERR_MALFORMED, 0 },
	};
	struct jg_jwks *set;
	const char *why;
	char *text, *big;
	size_t i, off;
	enum jg_err err;

	for (i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		text = expand(sets[i].json);
		set = NULL;
		why = NULL;
		err = jg_jwks_parse(text, strlen(text), &set, &why);
		if (err != sets[i].want)
			fprintf(stderr, "\n  set \"%s\": got %d (%s)\n", sets[i].what,
				(int)err, why ? why : "-");
		CU_ASSERT_EQUAL(err, sets[i].want);
		if (err == JG_OK) {
			CU_ASSERT_EQUAL(set->count, sets[i].count);
		} else {
			CU_ASSERT_PTR_NULL(set);
			CU_ASSERT_PTR_NOT_NULL(why);
		}
		if (err == JG_OK && i == 0) {
			CU_ASSERT_STRING_EQUAL(set->keys[0]->kid, "ec");
			CU_ASSERT_STRING_EQUAL(set->keys[1]->kid, "ed");
		}
		jg_jwks_free(set);
		free(text);
	}

	/* More than 100 keys is refused, 100 are fine. */
	for (i = 100; i <= 101; i++) {
		size_t k;

		big = jg_xmalloc(i * 64 + 32);
		off = (size_t)sprintf(big, "{\"keys\":[");
		for (k = 0; k < i; k++)
			off += (size_t)sprintf(big + off, "%s{\"kty\":\"oct\",\"k\":\"AAAA\"}",
					       k ? "," : "");
		sprintf(big + off, "]}");
		set = NULL;
		err = jg_jwks_parse(big, strlen(big), &set, &why);
		CU_ASSERT_EQUAL(err, i == 100 ? JG_OK : JG_ERR_MALFORMED);
		if (err == JG_OK)
			CU_ASSERT_EQUAL(set->count, 100);
		jg_jwks_free(set);
		free(big);
	}
}

/* A copy of key without its "alg", so every algorithm is asked of it. */
static struct jg_jwk *
unpinned(const struct jg_jwk *key)
{
	struct json_object *obj = jg_jwk_to_json(key, true);
	struct jg_jwk *copy = NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(obj);
	json_object_object_del(obj, "alg");
	CU_ASSERT_EQUAL_FATAL(jg_jwk_from_json(obj, &copy, NULL), JG_OK);
	json_object_put(obj);
	CU_ASSERT_EQUAL(copy->alg, JG_ALG_UNKNOWN);
	return copy;
}

static struct jg_jwk *
oct_key(size_t len)
{
	unsigned char buf[64];
	struct jg_jwk *key;
	char *b64, *text;

	memset(buf, 0x5a, sizeof(buf));
	b64 = jg_b64url_encode(buf, len);
	text = jg_xasprintf("{\"kty\":\"oct\",\"k\":\"%s\"}", b64);
	key = parse_ok(text);
	free(text);
	free(b64);
	return key;
}

/* Every algorithm against every kind of key: which may sign, which verify. */
static void
test_usable_matrix(void)
{
	struct {
		const char *what;
		struct jg_jwk *key;
		const char *algs;	/* usable algorithms, by name, space-separated */
		bool sign;		/* whether those also sign */
	} keys[13];
	struct jg_jwk *gen;
	size_t n = 0, i;
	unsigned a;
	bool want;
	char name[16];

	keys[n].what = "RSA 2048 private";
	keys[n].key = unpinned(shared_rsa());
	keys[n].algs = " RS256 RS384 RS512 PS256 PS384 PS512 ";
	keys[n++].sign = true;
	keys[n].what = "RSA 2048 public";
	keys[n].key = jg_jwk_public(keys[0].key);
	keys[n].algs = " RS256 RS384 RS512 PS256 PS384 PS512 ";
	keys[n++].sign = false;
	CU_ASSERT_EQUAL_FATAL(jg_jwk_generate(JG_ALG_ES256, 0, &gen), JG_OK);
	keys[n].what = "P-256";
	keys[n].key = unpinned(gen);
	keys[n].algs = " ES256 ";
	keys[n++].sign = true;
	keys[n].what = "P-256 public";
	keys[n].key = jg_jwk_public(gen);
	keys[n].algs = " ES256 ";
	keys[n++].sign = false;
	jg_jwk_free(gen);
	CU_ASSERT_EQUAL_FATAL(jg_jwk_generate(JG_ALG_ES384, 0, &gen), JG_OK);
	keys[n].what = "P-384";
	keys[n].key = unpinned(gen);
	keys[n].algs = " ES384 ";
	keys[n++].sign = true;
	jg_jwk_free(gen);
	CU_ASSERT_EQUAL_FATAL(jg_jwk_generate(JG_ALG_ES512, 0, &gen), JG_OK);
	keys[n].what = "P-521";
	keys[n].key = unpinned(gen);
	keys[n].algs = " ES512 ";
	keys[n++].sign = true;
	jg_jwk_free(gen);
	CU_ASSERT_EQUAL_FATAL(jg_jwk_generate(JG_ALG_EDDSA, 0, &gen), JG_OK);
	keys[n].what = "Ed25519";
	keys[n].key = unpinned(gen);
	keys[n].algs = " EdDSA ";
	keys[n++].sign = true;
	jg_jwk_free(gen);
	keys[n].what = "oct 31 bytes (too short for any HMAC)";
	keys[n].key = oct_key(31);
	keys[n].algs = " ";
	keys[n++].sign = true;
	keys[n].what = "oct 32 bytes";
	keys[n].key = oct_key(32);
	keys[n].algs = " HS256 ";
	keys[n++].sign = true;
	keys[n].what = "oct 47 bytes";
	keys[n].key = oct_key(47);
	keys[n].algs = " HS256 ";
	keys[n++].sign = true;
	keys[n].what = "oct 48 bytes";
	keys[n].key = oct_key(48);
	keys[n].algs = " HS256 HS384 ";
	keys[n++].sign = true;
	keys[n].what = "oct 64 bytes";
	keys[n].key = oct_key(64);
	keys[n].algs = " HS256 HS384 HS512 ";
	keys[n++].sign = true;
	keys[n].what = "RSA pinned to RS256";
	keys[n].key = jg_jwk_public(shared_rsa());
	keys[n].algs = " RS256 ";
	keys[n++].sign = false;

	for (i = 0; i < n; i++) {
		CU_ASSERT_PTR_NOT_NULL_FATAL(keys[i].key);
		for (a = JG_ALG_UNKNOWN + 1; a < JG_ALG_COUNT; a++) {
			snprintf(name, sizeof(name), " %s ", jg_alg_name((enum jg_alg)a));
			want = strstr(keys[i].algs, name) != NULL;
			if (jg_jwk_usable(keys[i].key, (enum jg_alg)a, JG_KEYOP_VERIFY) != want ||
			    jg_jwk_usable(keys[i].key, (enum jg_alg)a, JG_KEYOP_SIGN) !=
			    (want && keys[i].sign))
				fprintf(stderr, "\n  %s with%s: wrong\n", keys[i].what, name);
			CU_ASSERT_EQUAL(jg_jwk_usable(keys[i].key, (enum jg_alg)a,
						      JG_KEYOP_VERIFY), want);
			CU_ASSERT_EQUAL(jg_jwk_usable(keys[i].key, (enum jg_alg)a,
						      JG_KEYOP_SIGN), want && keys[i].sign);
			/* Only one operation at a time, and a known one. */
			CU_ASSERT_FALSE(jg_jwk_usable(keys[i].key, (enum jg_alg)a, 0));
			CU_ASSERT_FALSE(jg_jwk_usable(keys[i].key, (enum jg_alg)a,
						      JG_KEYOP_SIGN | JG_KEYOP_VERIFY));
		}
		CU_ASSERT_FALSE(jg_jwk_usable(keys[i].key, JG_ALG_UNKNOWN, JG_KEYOP_VERIFY));
		CU_ASSERT_FALSE(jg_jwk_usable(keys[i].key, JG_ALG_COUNT, JG_KEYOP_VERIFY));
	}
	CU_ASSERT_FALSE(jg_jwk_usable(NULL, JG_ALG_RS256, JG_KEYOP_VERIFY));
	for (i = 0; i < n; i++)
		jg_jwk_free(keys[i].key);
}

/* jg_jwk_generate for every algorithm. */
static void
test_generate(void)
{
	static const struct {
		enum jg_alg alg;
		enum jg_kty kty;
		gnutls_ecc_curve_t curve;
		unsigned bits;
	} gens[] = {
		{ JG_ALG_HS256, JG_KTY_OCT, GNUTLS_ECC_CURVE_INVALID, 256 },
		{ JG_ALG_HS384, JG_KTY_OCT, GNUTLS_ECC_CURVE_INVALID, 384 },
		{ JG_ALG_HS512, JG_KTY_OCT, GNUTLS_ECC_CURVE_INVALID, 512 },
		{ JG_ALG_ES256, JG_KTY_EC, GNUTLS_ECC_CURVE_SECP256R1, 256 },
		{ JG_ALG_ES384, JG_KTY_EC, GNUTLS_ECC_CURVE_SECP384R1, 384 },
		{ JG_ALG_ES512, JG_KTY_EC, GNUTLS_ECC_CURVE_SECP521R1, 521 },
		{ JG_ALG_EDDSA, JG_KTY_OKP, GNUTLS_ECC_CURVE_ED25519, 256 },
	};
	struct jg_jwk *key, *other;
	const struct jg_jwk *rsa;
	char *tp;
	size_t i;

	for (i = 0; i < sizeof(gens) / sizeof(gens[0]); i++) {
		key = NULL;
		CU_ASSERT_EQUAL_FATAL(jg_jwk_generate(gens[i].alg, 0, &key), JG_OK);
		CU_ASSERT_EQUAL(key->kty, gens[i].kty);
		CU_ASSERT_EQUAL(key->curve, gens[i].curve);
		CU_ASSERT_EQUAL(key->bits, gens[i].bits);
		CU_ASSERT_EQUAL(key->alg, gens[i].alg);
		CU_ASSERT_EQUAL(key->ops, JG_KEYOP_SIGN | JG_KEYOP_VERIFY);
		if (gens[i].kty == JG_KTY_OCT) {
			CU_ASSERT_EQUAL(key->secret_len, jg_alg_hash_len(gens[i].alg));
			CU_ASSERT_PTR_NULL(key->pub);
		} else {
			CU_ASSERT_PTR_NOT_NULL(key->pub);
			CU_ASSERT_PTR_NOT_NULL(key->priv);
			CU_ASSERT_PTR_NULL(key->secret);
		}
		tp = thumbprint(key);
		CU_ASSERT_PTR_NOT_NULL_FATAL(key->kid);
		CU_ASSERT_STRING_EQUAL(key->kid, tp);
		CU_ASSERT_EQUAL(strlen(tp), 43);
		CU_ASSERT_TRUE(jg_jwk_usable(key, gens[i].alg, JG_KEYOP_SIGN));
		CU_ASSERT_TRUE(jg_jwk_usable(key, gens[i].alg, JG_KEYOP_VERIFY));
		/* A second key is a different key. */
		CU_ASSERT_EQUAL_FATAL(jg_jwk_generate(gens[i].alg, 0, &other), JG_OK);
		CU_ASSERT_STRING_NOT_EQUAL(key->kid, other->kid);
		jg_jwk_free(other);
		free(tp);
		jg_jwk_free(key);
	}
	rsa = shared_rsa();
	CU_ASSERT_EQUAL(rsa->kty, JG_KTY_RSA);
	CU_ASSERT_EQUAL(rsa->bits, 2048);
	CU_ASSERT_EQUAL(rsa->alg, JG_ALG_RS256);
	CU_ASSERT_PTR_NOT_NULL(rsa->priv);
	tp = thumbprint(rsa);
	CU_ASSERT_STRING_EQUAL(rsa->kid, tp);
	free(tp);

	key = NULL;
	CU_ASSERT_EQUAL(jg_jwk_generate(JG_ALG_RS256, 1024, &key), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_jwk_generate(JG_ALG_PS256, 2047, &key), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_jwk_generate(JG_ALG_UNKNOWN, 0, &key), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_jwk_generate(JG_ALG_COUNT, 0, &key), JG_ERR_MALFORMED);
	CU_ASSERT_PTR_NULL(key);
}

/* to_json and back keeps the key; with_private false drops the secrets. */
static void
test_json_round_trip(void)
{
	static const enum jg_alg algs[] = {
		JG_ALG_ES256, JG_ALG_ES384, JG_ALG_ES512, JG_ALG_EDDSA, JG_ALG_HS384,
	};
	struct jg_jwk *keys[6], *back;
	struct json_object *obj;
	struct jg_jwks *set, *set2;
	char *tp, *tp2, *text;
	const char *why;
	size_t i, n = 0;

	keys[n++] = jg_jwk_public(shared_rsa());	/* a copy we may free */
	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		CU_ASSERT_EQUAL_FATAL(jg_jwk_generate(algs[i], 0, &keys[n++]), JG_OK);
	/* The public copy of the RSA key is not enough: use the private one. */
	jg_jwk_free(keys[0]);
	obj = jg_jwk_to_json(shared_rsa(), true);
	CU_ASSERT_EQUAL_FATAL(jg_jwk_from_json(obj, &keys[0], NULL), JG_OK);
	json_object_put(obj);

	for (i = 0; i < n; i++) {
		tp = thumbprint(keys[i]);
		obj = jg_jwk_to_json(keys[i], true);
		CU_ASSERT_PTR_NOT_NULL_FATAL(obj);
		CU_ASSERT_PTR_NOT_NULL(jg_json_get(obj, keys[i]->kty == JG_KTY_OCT ? "k" : "d"));
		back = NULL;
		CU_ASSERT_EQUAL_FATAL(jg_jwk_from_json(obj, &back, NULL), JG_OK);
		json_object_put(obj);
		tp2 = thumbprint(back);
		CU_ASSERT_STRING_EQUAL(tp, tp2);
		CU_ASSERT_STRING_EQUAL(back->kid, keys[i]->kid);
		CU_ASSERT_EQUAL(back->alg, keys[i]->alg);
		CU_ASSERT_EQUAL(back->ops, keys[i]->ops);
		CU_ASSERT_EQUAL(back->bits, keys[i]->bits);
		CU_ASSERT_TRUE(jg_jwk_usable(back, keys[i]->alg, JG_KEYOP_SIGN));
		free(tp2);
		jg_jwk_free(back);

		obj = jg_jwk_to_json(keys[i], false);
		if (keys[i]->kty == JG_KTY_OCT) {
			CU_ASSERT_PTR_NULL(obj);
		} else {
			CU_ASSERT_PTR_NOT_NULL_FATAL(obj);
			CU_ASSERT_PTR_NULL(jg_json_get(obj, "d"));
			back = NULL;
			CU_ASSERT_EQUAL_FATAL(jg_jwk_from_json(obj, &back, NULL), JG_OK);
			CU_ASSERT_PTR_NULL(back->priv);
			tp2 = thumbprint(back);
			CU_ASSERT_STRING_EQUAL(tp, tp2);
			free(tp2);
			CU_ASSERT_FALSE(jg_jwk_usable(back, keys[i]->alg, JG_KEYOP_SIGN));
			CU_ASSERT_TRUE(jg_jwk_usable(back, keys[i]->alg, JG_KEYOP_VERIFY));
			jg_jwk_free(back);
			json_object_put(obj);
		}
		free(tp);
	}

	/* A published set leaves the secret key out; a private one keeps it. */
	set = jg_jwks_new();
	for (i = 0; i < n; i++)
		jg_jwks_add(set, keys[i]);
	obj = jg_jwks_to_json(set, false);
	text = jg_json_dump(obj);
	json_object_put(obj);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_PTR_NULL(strstr(text, "\"d\""));
	CU_ASSERT_PTR_NULL(strstr(text, "\"k\""));
	CU_ASSERT_EQUAL_FATAL(jg_jwks_parse(text, strlen(text), &set2, &why), JG_OK);
	CU_ASSERT_EQUAL(set2->count, n - 1);
	jg_jwks_free(set2);
	free(text);
	obj = jg_jwks_to_json(set, true);
	text = jg_json_dump(obj);
	json_object_put(obj);
	CU_ASSERT_EQUAL_FATAL(jg_jwks_parse(text, strlen(text), &set2, &why), JG_OK);
	CU_ASSERT_EQUAL(set2->count, n);
	for (i = 0; i < set2->count; i++) {
		CU_ASSERT_STRING_EQUAL(set2->keys[i]->kid, set->keys[i]->kid);
		CU_ASSERT_TRUE(set2->keys[i]->priv != NULL || set2->keys[i]->secret != NULL);
	}
	jg_jwks_free(set2);
	jg_free_secret(text);
	jg_jwks_free(set);
}

static bool
starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Legacy PEM ("RSA PRIVATE KEY", "EC PRIVATE KEY") of a key, by GnuTLS. */
static char *
legacy_pem(const struct jg_jwk *key)
{
	gnutls_x509_privkey_t xk;
	gnutls_datum_t out = { NULL, 0 };
	char *pem;

	CU_ASSERT_EQUAL_FATAL(gnutls_privkey_export_x509(key->priv, &xk), 0);
	CU_ASSERT_EQUAL_FATAL(gnutls_x509_privkey_export2(xk, GNUTLS_X509_FMT_PEM, &out), 0);
	pem = jg_xstrndup((const char *)out.data, out.size);
	gnutls_free(out.data);
	gnutls_x509_privkey_deinit(xk);
	return pem;
}

/* generate -> PEM -> import, for every key type, private and public. */
static void
test_pem_round_trip(void)
{
	static const enum jg_alg algs[] = {
		JG_ALG_RS256, JG_ALG_ES256, JG_ALG_ES384, JG_ALG_ES512, JG_ALG_EDDSA,
	};
	struct jg_jwk *gen, *back;
	const struct jg_jwk *key;
	char *pem, *pem2, *tp, *tp2;
	const char *why;
	size_t i;

	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		gen = NULL;
		if (algs[i] == JG_ALG_RS256)
			key = shared_rsa();
		else {
			CU_ASSERT_EQUAL_FATAL(jg_jwk_generate(algs[i], 0, &gen), JG_OK);
			key = gen;
		}
		tp = thumbprint(key);

		pem = NULL;
		CU_ASSERT_EQUAL_FATAL(jg_jwk_to_pem(key, true, &pem), JG_OK);
		CU_ASSERT_TRUE(starts_with(pem, "-----BEGIN PRIVATE KEY-----\n"));
		back = NULL;
		why = NULL;
		CU_ASSERT_EQUAL_FATAL(jg_jwk_from_pem(pem, strlen(pem), &back, &why), JG_OK);
		CU_ASSERT_EQUAL(back->kty, key->kty);
		CU_ASSERT_EQUAL(back->curve, key->curve);
		CU_ASSERT_EQUAL(back->bits, key->bits);
		CU_ASSERT_EQUAL(back->alg, JG_ALG_UNKNOWN);
		CU_ASSERT_EQUAL(back->ops, JG_KEYOP_SIGN | JG_KEYOP_VERIFY);
		CU_ASSERT_PTR_NOT_NULL(back->priv);
		CU_ASSERT_STRING_EQUAL(back->kid, tp);
		tp2 = thumbprint(back);
		CU_ASSERT_STRING_EQUAL(tp2, tp);
		free(tp2);
		CU_ASSERT_TRUE(jg_jwk_usable(back, algs[i], JG_KEYOP_SIGN));
		/* Exporting the imported key gives the same PEM. */
		CU_ASSERT_EQUAL(jg_jwk_to_pem(back, true, &pem2), JG_OK);
		CU_ASSERT_STRING_EQUAL(pem2, pem);
		jg_free_secret(pem2);
		jg_jwk_free(back);
		jg_free_secret(pem);

		CU_ASSERT_EQUAL_FATAL(jg_jwk_to_pem(key, false, &pem), JG_OK);
		CU_ASSERT_TRUE(starts_with(pem, "-----BEGIN PUBLIC KEY-----\n"));
		back = NULL;
		CU_ASSERT_EQUAL_FATAL(jg_jwk_from_pem(pem, strlen(pem), &back, &why), JG_OK);
		CU_ASSERT_PTR_NULL(back->priv);
		CU_ASSERT_EQUAL(back->bits, key->bits);
		CU_ASSERT_STRING_EQUAL(back->kid, tp);
		CU_ASSERT_FALSE(jg_jwk_usable(back, algs[i], JG_KEYOP_SIGN));
		CU_ASSERT_TRUE(jg_jwk_usable(back, algs[i], JG_KEYOP_VERIFY));
		/* A public key has no private PEM. */
		pem2 = NULL;
		CU_ASSERT_EQUAL(jg_jwk_to_pem(back, true, &pem2), JG_ERR_MALFORMED);
		CU_ASSERT_PTR_NULL(pem2);
		jg_jwk_free(back);
		free(pem);

		/* The traditional formats OpenSSL writes. */
		if (key->kty != JG_KTY_OKP) {
			pem = legacy_pem(key);
			CU_ASSERT_TRUE(starts_with(pem, key->kty == JG_KTY_RSA ?
						   "-----BEGIN RSA PRIVATE KEY-----\n" :
						   "-----BEGIN EC PRIVATE KEY-----\n"));
			back = NULL;
			CU_ASSERT_EQUAL_FATAL(jg_jwk_from_pem(pem, strlen(pem), &back, &why), JG_OK);
			CU_ASSERT_PTR_NOT_NULL(back->priv);
			CU_ASSERT_STRING_EQUAL(back->kid, tp);
			jg_jwk_free(back);
			jg_free_secret(pem);
		}
		free(tp);
		jg_jwk_free(gen);
	}
}

/* PEM input that must be refused, and the EC PARAMETERS block OpenSSL
 * writes before an EC key. */
static void
test_pem_invalid(void)
{
	struct jg_jwk *key = NULL, *ec;
	gnutls_privkey_t small;
	gnutls_x509_privkey_t xk;
	gnutls_datum_t out = { NULL, 0 };
	const char *why;
	char *pem, *text, *tp;
	size_t i;
	static const char *const bad[] = {
		"",
		"no PEM here",
		"-----BEGIN PRIVATE KEY-----\nMIIB\n",	/* no END line */
		"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
		"-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n",
		"-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n",
		"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
		"DEK-Info: AES-128-CBC,00000000000000000000000000000000\n\nAAAA\n"
		"-----END RSA PRIVATE KEY-----\n",
		"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
		"-----BEGIN RSA PUBLIC KEY-----\nAAAA\n-----END RSA PUBLIC KEY-----\n",
		"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
	};

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		CU_ASSERT_EQUAL(jg_jwk_from_pem(bad[i], strlen(bad[i]), &key, &why),
				JG_ERR_MALFORMED);
		CU_ASSERT_PTR_NOT_NULL(why);
		CU_ASSERT_PTR_NULL(key);
	}

	/* An RSA key of 1024 bits, made by GnuTLS directly. */
	CU_ASSERT_EQUAL_FATAL(gnutls_privkey_init(&small), 0);
	CU_ASSERT_EQUAL_FATAL(gnutls_privkey_generate2(small, GNUTLS_PK_RSA, 1024, 0, NULL, 0), 0);
	CU_ASSERT_EQUAL_FATAL(gnutls_privkey_export_x509(small, &xk), 0);
	CU_ASSERT_EQUAL_FATAL(gnutls_x509_privkey_export2_pkcs8(xk, GNUTLS_X509_FMT_PEM, NULL,
								GNUTLS_PKCS_PLAIN, &out), 0);
	why = NULL;
	CU_ASSERT_EQUAL(jg_jwk_from_pem((const char *)out.data, out.size, &key, &why),
			JG_ERR_MALFORMED);
	CU_ASSERT_PTR_NULL(key);
	CU_ASSERT_PTR_NOT_NULL(why);
	gnutls_free(out.data);
	gnutls_x509_privkey_deinit(xk);
	gnutls_privkey_deinit(small);

	/* oct keys have no PEM form. */
	key = oct_key(32);
	pem = NULL;
	CU_ASSERT_EQUAL(jg_jwk_to_pem(key, true, &pem), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_jwk_to_pem(key, false, &pem), JG_ERR_MALFORMED);
	CU_ASSERT_PTR_NULL(pem);
	jg_jwk_free(key);
	key = NULL;

	/* "EC PARAMETERS" (the P-256 OID) before the key is skipped. */
	CU_ASSERT_EQUAL_FATAL(jg_jwk_generate(JG_ALG_ES256, 0, &ec), JG_OK);
	pem = legacy_pem(ec);
	text = jg_xasprintf("-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n"
			    "-----END EC PARAMETERS-----\n%s", pem);
	CU_ASSERT_EQUAL_FATAL(jg_jwk_from_pem(text, strlen(text), &key, &why), JG_OK);
	tp = thumbprint(ec);
	CU_ASSERT_STRING_EQUAL(key->kid, tp);
	free(tp);
	jg_jwk_free(key);
	jg_free_secret(text);
	jg_free_secret(pem);
	jg_jwk_free(ec);
}

static char *
write_temp(const char *content)
{
	char *path = jg_xstrdup("/tmp/jwtgate-test-jwk-XXXXXX");
	int fd = mkstemp(path);
	size_t len = strlen(content);

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(write(fd, content, len) == (ssize_t)len);
	close(fd);
	return path;
}

/* jg_jwks_load_file: PEM, one JWK, a set, and what is not a key. */
static void
test_load_file(void)
{
	struct jg_jwks *set;
	struct jg_jwk *ed;
	const char *why;
	char *pem, *path, *text, *tp;
	enum jg_err err;
	size_t i;
	static const struct {
		const char *content;
		enum jg_err want;
		size_t count;
	} files[] = {
		{ "{\"keys\":[{" OCT32 "},{\"kty\":\"DSA\"}]}", JG_OK, 1 },
		{ "\n  {" OCT32 "}\n", JG_OK, 1 },
		{ "{\"kty\":\"DSA\"}", JG_ERR_MALFORMED, 0 },
		{ "{\"keys\":[{\"kty\":\"oct\",\"k\":\"\"}]}", JG_ERR_MALFORMED, 0 },
		{ "", JG_ERR_MALFORMED, 0 },
		{ "   -----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
		  JG_ERR_MALFORMED, 0 },
		{ "not JSON", JG_ERR_MALFORMED, 0 },
	};

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		path = write_temp(files[i].content);
		set = NULL;
		why = NULL;
		err = jg_jwks_load_file(path, &set, &why);
		CU_ASSERT_EQUAL(err, files[i].want);
		if (err == JG_OK) {
			CU_ASSERT_EQUAL(set->count, files[i].count);
			CU_ASSERT_EQUAL(set->keys[0]->kty, JG_KTY_OCT);
		} else {
			CU_ASSERT_PTR_NULL(set);
			CU_ASSERT_PTR_NOT_NULL(why);
		}
		jg_jwks_free(set);
		unlink(path);
		free(path);
	}

	CU_ASSERT_EQUAL_FATAL(jg_jwk_generate(JG_ALG_EDDSA, 0, &ed), JG_OK);
	CU_ASSERT_EQUAL_FATAL(jg_jwk_to_pem(ed, true, &pem), JG_OK);
	text = jg_xasprintf("\n\t %s", pem);
	path = write_temp(text);
	CU_ASSERT_EQUAL_FATAL(jg_jwks_load_file(path, &set, &why), JG_OK);
	CU_ASSERT_EQUAL_FATAL(set->count, 1);
	CU_ASSERT_PTR_NOT_NULL(set->keys[0]->priv);
	tp = thumbprint(ed);
	CU_ASSERT_STRING_EQUAL(set->keys[0]->kid, tp);
	free(tp);
	jg_jwks_free(set);
	unlink(path);
	CU_ASSERT_EQUAL(jg_jwks_load_file(path, &set, &why), JG_ERR_NOT_FOUND);
	free(path);
	jg_free_secret(text);
	jg_free_secret(pem);
	jg_jwk_free(ed);
}

/* jg_jwk_public drops the private part and keeps the rest. */
static void
test_public_copy(void)
{
	struct jg_jwk *pub, *oct;
	const struct jg_jwk *rsa = shared_rsa();

	pub = jg_jwk_public(rsa);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pub);
	CU_ASSERT_PTR_NULL(pub->priv);
	CU_ASSERT_PTR_NOT_NULL(pub->pub);
	CU_ASSERT_STRING_EQUAL(pub->kid, rsa->kid);
	CU_ASSERT_EQUAL(pub->alg, rsa->alg);
	CU_ASSERT_EQUAL(pub->bits, rsa->bits);
	CU_ASSERT_TRUE(jg_jwk_usable(pub, JG_ALG_RS256, JG_KEYOP_VERIFY));
	CU_ASSERT_FALSE(jg_jwk_usable(pub, JG_ALG_RS256, JG_KEYOP_SIGN));
	jg_jwk_free(pub);

	oct = oct_key(48);
	pub = jg_jwk_public(oct);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pub);
	CU_ASSERT_EQUAL(pub->secret_len, 48);
	CU_ASSERT_TRUE(memcmp(pub->secret, oct->secret, 48) == 0);
	jg_jwk_free(pub);
	jg_jwk_free(oct);
	CU_ASSERT_PTR_NULL(jg_jwk_public(NULL));
	jg_jwk_free(NULL);
	jg_jwks_free(NULL);
}

static void
test_cleanup(void)
{
	jg_jwk_free(rsa_key);
	rsa_key = NULL;
	CU_PASS("shared keys freed");
}

/* jg_jwk_set_alg: only an algorithm of the key's type and curve, and only
 * the one the key has if it has one. */
static void
test_set_alg(void)
{
	struct jg_jwk *ec = NULL, *ed = NULL, *pub;

	CU_ASSERT_EQUAL_FATAL(jg_jwk_generate(JG_ALG_ES256, 0, &ec), JG_OK);
	CU_ASSERT_EQUAL_FATAL(jg_jwk_generate(JG_ALG_EDDSA, 0, &ed), JG_OK);
	CU_ASSERT_EQUAL(jg_jwk_set_alg(NULL, JG_ALG_ES256), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_jwk_set_alg(ec, JG_ALG_UNKNOWN), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_jwk_set_alg(ec, JG_ALG_COUNT), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_jwk_set_alg(ec, JG_ALG_ES384), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_jwk_set_alg(ec, JG_ALG_RS256), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_jwk_set_alg(ec, JG_ALG_HS256), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_jwk_set_alg(ec, JG_ALG_ES256), JG_OK);
	CU_ASSERT_EQUAL(ec->alg, JG_ALG_ES256);
	CU_ASSERT_EQUAL(jg_jwk_set_alg(ed, JG_ALG_ES256), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(ed->alg, JG_ALG_EDDSA);
	/* A public copy keeps the alg, and so the key serves that alg only. */
	pub = jg_jwk_public(ec);
	CU_ASSERT_FATAL(pub != NULL);
	CU_ASSERT_EQUAL(pub->alg, JG_ALG_ES256);
	CU_ASSERT(jg_jwk_usable(pub, JG_ALG_ES256, JG_KEYOP_VERIFY));
	CU_ASSERT(!jg_jwk_usable(pub, JG_ALG_ES384, JG_KEYOP_VERIFY));
	jg_jwk_free(pub);
	jg_jwk_free(ec);
	jg_jwk_free(ed);
}

int
main(void)
{
	static const struct jg_test tests[] = {
		{ "alg names and hash sizes", test_alg_names },
		{ "RFC 7517 A.1 public keys", test_rfc7517_a1 },
		{ "RFC 7517 A.2 private keys", test_rfc7517_a2 },
		{ "RFC 7517 A.3 symmetric keys", test_rfc7517_a3 },
		{ "RFC 7638 and RFC 8037 thumbprints", test_thumbprints },
		{ "single JWKs, valid and invalid", test_rows },
		{ "JWK Sets", test_jwks_sets },
		{ "jg_jwk_generate", test_generate },
		{ "jg_jwk_usable matrix", test_usable_matrix },
		{ "JSON round trips", test_json_round_trip },
		{ "PEM round trips", test_pem_round_trip },
		{ "PEM refused", test_pem_invalid },
		{ "key files", test_load_file },
		{ "public copies", test_public_copy },
		{ "jg_jwk_set_alg", test_set_alg },
		{ "cleanup", test_cleanup },
		{ NULL, NULL },
	};

	return jg_test_main("jwk", tests);
}
