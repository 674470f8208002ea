/* test_claims.c: JWT claim checks (RFC 7519 section 4.1, RFC 9068, RFC 8725). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claims.h"
#include "json.h"
#include "testutil.h"

/* The fixed "now" of every case: 2023-11-14T22:13:20Z. */
#define NOW 1700000000
#define ISS "https://as.example"
#define AUD "api"

#define HDR_AT "{\"alg\":\"ES256\",\"typ\":\"at+jwt\"}"
#define HDR_NOTYP "{\"alg\":\"ES256\"}"
#define BASE "\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"alice\""
/* exp NOW + 1 hour, iat and nbf NOW - 1 minute */
#define GOOD "{" BASE ",\"exp\":1700003600,\"iat\":1699999940,\"nbf\":1699999940}"
/* Policy fields most rows share. */
#define STD .iss = ISS, .aud = AUD, .typ = JG_TYP_ACCESS

static const char *const need_sub_jti[] = { "sub", "jti", NULL };
static const char *const need_client_id[] = { "client_id", NULL };

struct claims_case {
	const char *name;
	const char *header;	/* JSON text, or NULL for no header */
	const char *claims;	/* JSON text */
	enum jg_err want;
	const char *why;	/* expected reason unless want is JG_OK */
	int64_t leeway;
	const char *iss, *aud, *typ;
	bool typ_optional, exp_optional;
	const char *const *required;
};

static const struct claims_case cases[] = {
	{ "all good", HDR_AT, GOOD, JG_OK, NULL, STD },
	{ "claims not an object", HDR_AT, "[]", JG_ERR_MALFORMED,
	  "claims are not a JSON object", STD },

	/* exp: valid iff now < exp + leeway (RFC 7519 section 4.1.4) */
	{ "exp now+1", HDR_AT, "{" BASE ",\"exp\":1700000001}", JG_OK, NULL, STD },
	{ "exp == now", HDR_AT, "{" BASE ",\"exp\":1700000000}", JG_ERR_DENIED,
	  "token expired", STD },
	{ "exp now-1", HDR_AT, "{" BASE ",\"exp\":1699999999}", JG_ERR_DENIED,
	  "token expired", STD },
	{ "exp == now, leeway 1", HDR_AT, "{" BASE ",\"exp\":1700000000}", JG_OK,
	  NULL, .leeway = 1, STD },
	{ "exp now-59, leeway 60", HDR_AT, "{" BASE ",\"exp\":1699999941}", JG_OK,
	  NULL, .leeway = 60, STD },
	{ "exp now-60, leeway 60", HDR_AT, "{" BASE ",\"exp\":1699999940}",
	  JG_ERR_DENIED, "token expired", .leeway = 60, STD },
	{ "exp now-3600, leeway 60", HDR_AT, "{" BASE ",\"exp\":1699996400}",
	  JG_ERR_DENIED, "token expired", .leeway = 60, STD },
	{ "exp negative", HDR_AT, "{" BASE ",\"exp\":-1}", JG_ERR_DENIED,
	  "token expired", STD },
	{ "exp -2^53", HDR_AT, "{" BASE ",\"exp\":-9007199254740992}",
	  JG_ERR_DENIED, "token expired", STD },
	{ "exp 0", HDR_AT, "{" BASE ",\"exp\":0}", JG_ERR_DENIED, "token expired", STD },
	{ "exp 2^53", HDR_AT, "{" BASE ",\"exp\":9007199254740992}", JG_OK, NULL, STD },
	{ "exp missing", HDR_AT, "{" BASE "}", JG_ERR_DENIED, "token has no exp", STD },
	{ "exp missing, optional", HDR_AT, "{" BASE "}", JG_OK, NULL,
	  .exp_optional = true, STD },
	{ "exp as string", HDR_AT, "{" BASE ",\"exp\":\"1700003600\"}",
	  JG_ERR_MALFORMED, "exp is not an integer NumericDate", STD },
	{ "exp as float", HDR_AT, "{" BASE ",\"exp\":1700003600.5}",
	  JG_ERR_MALFORMED, "exp is not an integer NumericDate", STD },
	{ "exp as float with zero fraction", HDR_AT, "{" BASE ",\"exp\":1700003600.0}",
	  JG_ERR_MALFORMED, "exp is not an integer NumericDate", STD },
	{ "exp with exponent", HDR_AT, "{" BASE ",\"exp\":17000036e2}",
	  JG_ERR_MALFORMED, "exp is not an integer NumericDate", STD },
	{ "exp true", HDR_AT, "{" BASE ",\"exp\":true}",
	  JG_ERR_MALFORMED, "exp is not an integer NumericDate", STD },
	{ "exp null", HDR_AT, "{" BASE ",\"exp\":null}",
	  JG_ERR_MALFORMED, "exp is not an integer NumericDate", STD },
	{ "exp array", HDR_AT, "{" BASE ",\"exp\":[1700003600]}",
	  JG_ERR_MALFORMED, "exp is not an integer NumericDate", STD },
	{ "exp 1e300", HDR_AT, "{" BASE ",\"exp\":1e300}",
	  JG_ERR_MALFORMED, "exp is not an integer NumericDate", STD },
	{ "exp 2^53+1", HDR_AT, "{" BASE ",\"exp\":9007199254740993}",
	  JG_ERR_MALFORMED, "exp is not an integer NumericDate", STD },
	{ "exp 2^63-1", HDR_AT, "{" BASE ",\"exp\":9223372036854775807}",
	  JG_ERR_MALFORMED, "exp is not an integer NumericDate", STD },
	{ "exp 2^63", HDR_AT, "{" BASE ",\"exp\":9223372036854775808}",
	  JG_ERR_MALFORMED, "exp is not an integer NumericDate", STD },
	{ "exp -2^53-1", HDR_AT, "{" BASE ",\"exp\":-9007199254740993}",
	  JG_ERR_MALFORMED, "exp is not an integer NumericDate", STD },
	{ "exp -2^63", HDR_AT, "{" BASE ",\"exp\":-9223372036854775808}",
	  JG_ERR_MALFORMED, "exp is not an integer NumericDate", STD },
	{ "exp huge, leeway huge", HDR_AT, "{" BASE ",\"exp\":9007199254740992}",
	  JG_OK, NULL, .leeway = INT64_MAX, STD },

	/* nbf: valid iff nbf <= now + leeway (section 4.1.5) */
	{ "nbf == now", HDR_AT, "{" BASE ",\"exp\":1700003600,\"nbf\":1700000000}",
	  JG_OK, NULL, STD },
	{ "nbf now+1", HDR_AT, "{" BASE ",\"exp\":1700003600,\"nbf\":1700000001}",
	  JG_ERR_DENIED, "token not yet valid (nbf)", STD },
	{ "nbf now+30, leeway 30", HDR_AT,
	  "{" BASE ",\"exp\":1700003600,\"nbf\":1700000030}", JG_OK, NULL,
	  .leeway = 30, STD },
	{ "nbf now+31, leeway 30", HDR_AT,
	  "{" BASE ",\"exp\":1700003600,\"nbf\":1700000031}", JG_ERR_DENIED,
	  "token not yet valid (nbf)", .leeway = 30, STD },
	{ "nbf as string", HDR_AT,
	  "{" BASE ",\"exp\":1700003600,\"nbf\":\"1699999940\"}", JG_ERR_MALFORMED,
	  "nbf is not an integer NumericDate", STD },
	{ "nbf huge", HDR_AT,
	  "{" BASE ",\"exp\":1700003600,\"nbf\":9223372036854775807}",
	  JG_ERR_MALFORMED, "nbf is not an integer NumericDate", STD },

	/* iat: refused when issued in the future (section 4.1.6) */
	{ "iat now+1", HDR_AT, "{" BASE ",\"exp\":1700003600,\"iat\":1700000001}",
	  JG_ERR_DENIED, "token issued in the future (iat)", STD },
	{ "iat now+5, leeway 5", HDR_AT,
	  "{" BASE ",\"exp\":1700003600,\"iat\":1700000005}", JG_OK, NULL,
	  .leeway = 5, STD },
	{ "iat now+6, leeway 5", HDR_AT,
	  "{" BASE ",\"exp\":1700003600,\"iat\":1700000006}", JG_ERR_DENIED,
	  "token issued in the future (iat)", .leeway = 5, STD },
	{ "iat long ago", HDR_AT, "{" BASE ",\"exp\":1700003600,\"iat\":1}",
	  JG_OK, NULL, STD },
	{ "iat as float", HDR_AT, "{" BASE ",\"exp\":1700003600,\"iat\":1.5}",
	  JG_ERR_MALFORMED, "iat is not an integer NumericDate", STD },
	{ "iat false", HDR_AT, "{" BASE ",\"exp\":1700003600,\"iat\":false}",
	  JG_ERR_MALFORMED, "iat is not an integer NumericDate", STD },

	/* iss: exact string (section 4.1.1) */
	{ "iss mismatch", HDR_AT,
	  "{\"iss\":\"https://evil.example\",\"aud\":\"api\",\"exp\":1700003600}",
	  JG_ERR_DENIED, "iss is not the expected issuer", STD },
	{ "iss with trailing slash", HDR_AT,
	  "{\"iss\":\"https://as.example/\",\"aud\":\"api\",\"exp\":1700003600}",
	  JG_ERR_DENIED, "iss is not the expected issuer", STD },
	{ "iss differs in case", HDR_AT,
	  "{\"iss\":\"HTTPS://as.example\",\"aud\":\"api\",\"exp\":1700003600}",
	  JG_ERR_DENIED, "iss is not the expected issuer", STD },
	{ "iss longer", HDR_AT,
	  "{\"iss\":\"https://as.example.evil\",\"aud\":\"api\",\"exp\":1700003600}",
	  JG_ERR_DENIED, "iss is not the expected issuer", STD },
	{ "iss with NUL after the expected issuer", HDR_AT,
	  "{\"iss\":\"https://as.example\\u0000x\",\"aud\":\"api\",\"exp\":1700003600}",
	  JG_ERR_DENIED, "iss is not the expected issuer", STD },
	{ "iss missing", HDR_AT, "{\"aud\":\"api\",\"exp\":1700003600}",
	  JG_ERR_DENIED, "token has no iss", STD },
	{ "iss a number", HDR_AT, "{\"iss\":42,\"aud\":\"api\",\"exp\":1700003600}",
	  JG_ERR_MALFORMED, "iss is not a string", STD },
	{ "iss an array", HDR_AT,
	  "{\"iss\":[\"https://as.example\"],\"aud\":\"api\",\"exp\":1700003600}",
	  JG_ERR_MALFORMED, "iss is not a string", STD },
	{ "iss not required, any string", HDR_AT,
	  "{\"iss\":\"https://other.example\",\"exp\":1700003600}", JG_OK, NULL,
	  .typ = JG_TYP_ACCESS },
	{ "iss not required, still typed", HDR_AT,
	  "{\"iss\":null,\"exp\":1700003600}", JG_ERR_MALFORMED,
	  "iss is not a string", .typ = JG_TYP_ACCESS },

	/* aud: string or array of strings (section 4.1.3) */
	{ "aud array with us", HDR_AT,
	  "{\"iss\":\"" ISS "\",\"aud\":[\"other\",\"api\"],\"exp\":1700003600}",
	  JG_OK, NULL, STD },
	{ "aud array without us", HDR_AT,
	  "{\"iss\":\"" ISS "\",\"aud\":[\"other\",\"api2\"],\"exp\":1700003600}",
	  JG_ERR_DENIED, "aud does not include the expected audience", STD },
	{ "aud empty array", HDR_AT,
	  "{\"iss\":\"" ISS "\",\"aud\":[],\"exp\":1700003600}",
	  JG_ERR_DENIED, "aud does not include the expected audience", STD },
	{ "aud other string", HDR_AT,
	  "{\"iss\":\"" ISS "\",\"aud\":\"other\",\"exp\":1700003600}",
	  JG_ERR_DENIED, "aud does not include the expected audience", STD },
	{ "aud differs in case", HDR_AT,
	  "{\"iss\":\"" ISS "\",\"aud\":\"API\",\"exp\":1700003600}",
	  JG_ERR_DENIED, "aud does not include the expected audience", STD },
	{ "aud prefix", HDR_AT,
	  "{\"iss\":\"" ISS "\",\"aud\":\"ap\",\"exp\":1700003600}",
	  JG_ERR_DENIED, "aud does not include the expected audience", STD },
	{ "aud array with a non-string after us", HDR_AT,
	  "{\"iss\":\"" ISS "\",\"aud\":[\"api\",1],\"exp\":1700003600}",
	  JG_ERR_MALFORMED, "aud is not a string or an array of strings", STD },
	{ "aud array with null", HDR_AT,
	  "{\"iss\":\"" ISS "\",\"aud\":[null,\"api\"],\"exp\":1700003600}",
	  JG_ERR_MALFORMED, "aud is not a string or an array of strings", STD },
	{ "aud nested array", HDR_AT,
	  "{\"iss\":\"" ISS "\",\"aud\":[[\"api\"]],\"exp\":1700003600}",
	  JG_ERR_MALFORMED, "aud is not a string or an array of strings", STD },
	{ "aud a number", HDR_AT,
	  "{\"iss\":\"" ISS "\",\"aud\":42,\"exp\":1700003600}",
	  JG_ERR_MALFORMED, "aud is not a string or an array of strings", STD },
	{ "aud an object", HDR_AT,
	  "{\"iss\":\"" ISS "\",\"aud\":{\"api\":true},\"exp\":1700003600}",
	  JG_ERR_MALFORMED, "aud is not a string or an array of strings", STD },
	{ "aud missing", HDR_AT, "{\"iss\":\"" ISS "\",\"exp\":1700003600}",
	  JG_ERR_DENIED, "token has no aud", STD },
	{ "aud missing, not required", HDR_AT,
	  "{\"iss\":\"" ISS "\",\"exp\":1700003600}", JG_OK, NULL,
	  .iss = ISS, .typ = JG_TYP_ACCESS },
	{ "aud not required, still typed", HDR_AT,
	  "{\"iss\":\"" ISS "\",\"aud\":[1],\"exp\":1700003600}", JG_ERR_MALFORMED,
	  "aud is not a string or an array of strings",
	  .iss = ISS, .typ = JG_TYP_ACCESS },

	/* typ: RFC 9068 section 4, RFC 7515 section 4.1.9, RFC 8725 section 3.11 */
	{ "typ at+jwt", "{\"alg\":\"ES256\",\"typ\":\"at+jwt\"}", GOOD, JG_OK, NULL, STD },
	{ "typ AT+JWT", "{\"alg\":\"ES256\",\"typ\":\"AT+JWT\"}", GOOD, JG_OK, NULL, STD },
	{ "typ application/at+jwt", "{\"alg\":\"ES256\",\"typ\":\"application/at+jwt\"}",
	  GOOD, JG_OK, NULL, STD },
	{ "typ Application/At+Jwt", "{\"alg\":\"ES256\",\"typ\":\"Application/At+Jwt\"}",
	  GOOD, JG_OK, NULL, STD },
	{ "typ JWT for an access token", "{\"alg\":\"ES256\",\"typ\":\"JWT\"}", GOOD,
	  JG_ERR_DENIED, "wrong token typ", STD },
	{ "typ application/jwt for an access token",
	  "{\"alg\":\"ES256\",\"typ\":\"application/jwt\"}", GOOD,
	  JG_ERR_DENIED, "wrong token typ", STD },
	{ "typ missing for an access token", HDR_NOTYP, GOOD, JG_ERR_DENIED,
	  "token typ missing", STD },
	{ "typ missing, optional", HDR_NOTYP, GOOD, JG_OK, NULL,
	  .typ_optional = true, STD },
	{ "typ wrong, optional", "{\"alg\":\"ES256\",\"typ\":\"JWT\"}", GOOD,
	  JG_ERR_DENIED, "wrong token typ", .typ_optional = true, STD },
	{ "no header", NULL, GOOD, JG_ERR_DENIED, "token typ missing", STD },
	{ "typ a number", "{\"alg\":\"ES256\",\"typ\":1}", GOOD, JG_ERR_MALFORMED,
	  "typ is not a string", STD },
	{ "typ null", "{\"alg\":\"ES256\",\"typ\":null}", GOOD, JG_ERR_MALFORMED,
	  "typ is not a string", STD },
	{ "typ with trailing space", "{\"alg\":\"ES256\",\"typ\":\"at+jwt \"}", GOOD,
	  JG_ERR_DENIED, "wrong token typ", STD },
	{ "typ application/ alone", "{\"alg\":\"ES256\",\"typ\":\"application/\"}", GOOD,
	  JG_ERR_DENIED, "wrong token typ", STD },
	{ "typ double prefix",
	  "{\"alg\":\"ES256\",\"typ\":\"application/application/at+jwt\"}", GOOD,
	  JG_ERR_DENIED, "wrong token typ", STD },
	{ "typ other prefix", "{\"alg\":\"ES256\",\"typ\":\"text/at+jwt\"}", GOOD,
	  JG_ERR_DENIED, "wrong token typ", STD },
	/* "application/" is implied only for a typ without another '/' */
	{ "typ full media type", "{\"alg\":\"ES256\",\"typ\":\"TEXT/X+JWT\"}", GOOD,
	  JG_OK, NULL, .iss = ISS, .aud = AUD, .typ = "text/x+jwt" },
	{ "typ application/ before a full media type",
	  "{\"alg\":\"ES256\",\"typ\":\"application/text/x+jwt\"}", GOOD,
	  JG_ERR_DENIED, "wrong token typ", .iss = ISS, .aud = AUD,
	  .typ = "text/x+jwt" },
	{ "typ with NUL", "{\"alg\":\"ES256\",\"typ\":\"at+jwt\\u0000\"}", GOOD,
	  JG_ERR_DENIED, "wrong token typ", STD },
	{ "typ JWT for an ID token", "{\"alg\":\"ES256\",\"typ\":\"JWT\"}", GOOD,
	  JG_OK, NULL, .iss = ISS, .aud = AUD, .typ = JG_TYP_ID },
	{ "typ jwt for an ID token", "{\"alg\":\"ES256\",\"typ\":\"jwt\"}", GOOD,
	  JG_OK, NULL, .iss = ISS, .aud = AUD, .typ = JG_TYP_ID },
	{ "typ application/jwt for an ID token",
	  "{\"alg\":\"ES256\",\"typ\":\"application/jwt\"}", GOOD,
	  JG_OK, NULL, .iss = ISS, .aud = AUD, .typ = JG_TYP_ID },
	{ "typ at+jwt for an ID token", "{\"alg\":\"ES256\",\"typ\":\"at+jwt\"}", GOOD,
	  JG_ERR_DENIED, "wrong token typ", .iss = ISS, .aud = AUD, .typ = JG_TYP_ID },
	{ "typ application/at+jwt for an ID token",
	  "{\"alg\":\"ES256\",\"typ\":\"application/at+jwt\"}", GOOD,
	  JG_ERR_DENIED, "wrong token typ", .iss = ISS, .aud = AUD, .typ = JG_TYP_ID },
	{ "typ missing for an ID token", HDR_NOTYP, GOOD, JG_ERR_DENIED,
	  "token typ missing", .iss = ISS, .aud = AUD, .typ = JG_TYP_ID },
	{ "typ not checked", "{\"alg\":\"ES256\",\"typ\":\"anything\"}", GOOD,
	  JG_OK, NULL, .iss = ISS, .aud = AUD },

	/* sub and jti are strings when present (sections 4.1.2, 4.1.7) */
	{ "sub a number", HDR_AT,
	  "{\"iss\":\"" ISS "\",\"aud\":\"api\",\"sub\":42,\"exp\":1700003600}",
	  JG_ERR_MALFORMED, "sub is not a string", STD },
	{ "jti a number", HDR_AT,
	  "{" BASE ",\"jti\":7,\"exp\":1700003600}",
	  JG_ERR_MALFORMED, "jti is not a string", STD },
	{ "jti a string", HDR_AT,
	  "{" BASE ",\"jti\":\"j-1\",\"exp\":1700003600}", JG_OK, NULL, STD },

	/* required claims */
	{ "required present", HDR_AT, "{" BASE ",\"jti\":\"j-1\",\"exp\":1700003600}",
	  JG_OK, NULL, .required = need_sub_jti, STD },
	{ "required jti missing", HDR_AT, "{" BASE ",\"exp\":1700003600}",
	  JG_ERR_DENIED, "a required claim is missing", .required = need_sub_jti, STD },
	{ "required sub missing", HDR_AT,
	  "{\"iss\":\"" ISS "\",\"aud\":\"api\",\"jti\":\"j\",\"exp\":1700003600}",
	  JG_ERR_DENIED, "a required claim is missing", .required = need_sub_jti, STD },
	{ "required claim present as null", HDR_AT,
	  "{" BASE ",\"client_id\":null,\"exp\":1700003600}", JG_OK, NULL,
	  .required = need_client_id, STD },
};

static struct json_object *
parse(const char *text)
{
	struct json_object *obj = NULL;
	const char *why = NULL;

	if (text == NULL)
		return NULL;
	if (jg_json_parse(text, strlen(text), 0, &obj, &why) != JG_OK) {
		fprintf(stderr, "test bug: bad JSON %s: %s\n", text, why);
		abort();
	}
	return obj;
}

static void
test_table(void)
{
	struct jg_claims_policy policy;
	struct json_object *header, *claims;
	const char *why;
	enum jg_err rc;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&policy, 0, sizeof(policy));
		policy.now = NOW;
		policy.leeway = cases[i].leeway;
		policy.iss = cases[i].iss;
		policy.aud = cases[i].aud;
		policy.typ = cases[i].typ;
		policy.typ_optional = cases[i].typ_optional;
		policy.exp_optional = cases[i].exp_optional;
		policy.required = cases[i].required;
		header = parse(cases[i].header);
		claims = parse(cases[i].claims);
		why = NULL;
		rc = jg_claims_check(header, claims, &policy, &why);
		if (rc != cases[i].want || (cases[i].why && (why == NULL ||
		    strcmp(why, cases[i].why) != 0)))
			fprintf(stderr, "case '%s': got %d (%s)\n", cases[i].name,
				rc, why ? why : "-");
		CU_ASSERT_EQUAL(rc, cases[i].want);
		if (cases[i].want == JG_OK) {
			CU_ASSERT_PTR_NULL(why);
		} else {
			CU_ASSERT_PTR_NOT_NULL(why);
			if (why)
				CU_ASSERT_STRING_EQUAL(why, cases[i].why);
		}
		/* The result does not depend on whether a reason is wanted. */
		CU_ASSERT_EQUAL(jg_claims_check(header, claims, &policy, NULL),
				cases[i].want);
		json_object_put(header);
		json_object_put(claims);
	}
}

/* Claims built with json-c directly, as a program signing tokens would. */
static void
test_constructed(void)
{
	static const struct {
		const char *name;
		int kind;	/* 0 int64, 1 uint64, 2 double, 3 string, 4 bool */
		int64_t i;
		uint64_t u;
		double d;
		enum jg_err want;
	} rows[] = {
		{ "int64 future", 0, NOW + 10, 0, 0, JG_OK },
		{ "int64 now", 0, NOW, 0, 0, JG_ERR_DENIED },
		{ "uint64 future", 1, 0, NOW + 10, 0, JG_OK },
		{ "uint64 2^63", 1, 0, (uint64_t)1 << 63, 0, JG_ERR_MALFORMED },
		{ "uint64 max", 1, 0, UINT64_MAX, 0, JG_ERR_MALFORMED },
		{ "int64 max", 0, INT64_MAX, 0, 0, JG_ERR_MALFORMED },
		{ "int64 min", 0, INT64_MIN, 0, 0, JG_ERR_MALFORMED },
		{ "double integral", 2, 0, 0, NOW + 10.0, JG_ERR_MALFORMED },
		{ "double 1e300", 2, 0, 0, 1e300, JG_ERR_MALFORMED },
		{ "string", 3, NOW + 10, 0, 0, JG_ERR_MALFORMED },
		{ "bool", 4, 1, 0, 0, JG_ERR_MALFORMED },
	};
	struct jg_claims_policy policy = { .now = NOW, .leeway = 0 };
	struct json_object *claims, *exp = NULL;
	char buf[32];
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		switch (rows[i].kind) {
		case 0:
			exp = json_object_new_int64(rows[i].i);
			break;
		case 1:
			exp = json_object_new_uint64(rows[i].u);
			break;
		case 2:
			exp = json_object_new_double(rows[i].d);
			break;
		case 3:
			snprintf(buf, sizeof(buf), "%lld", (long long)rows[i].i);
			exp = json_object_new_string(buf);
			break;
		default:
			exp = json_object_new_boolean(1);
			break;
		}
		claims = json_object_new_object();
		json_object_object_add(claims, "exp", exp);
		if (jg_claims_check(NULL, claims, &policy, NULL) != rows[i].want)
			fprintf(stderr, "constructed case '%s' failed\n", rows[i].name);
		CU_ASSERT_EQUAL(jg_claims_check(NULL, claims, &policy, NULL), rows[i].want);
		json_object_put(claims);
	}
	/* Not an object at all. */
	CU_ASSERT_EQUAL(jg_claims_check(NULL, NULL, &policy, NULL), JG_ERR_MALFORMED);
	claims = json_object_new_string("{}");
	CU_ASSERT_EQUAL(jg_claims_check(NULL, claims, &policy, NULL), JG_ERR_MALFORMED);
	json_object_put(claims);
}

/* Extreme policy values must not overflow (the sanitizer build traps
 * signed overflow), and a negative leeway counts as none. */
static void
test_extreme_policy(void)
{
	struct jg_claims_policy policy = { 0 };
	struct json_object *claims;
	const char *why = NULL;

	claims = parse("{\"exp\":9007199254740992,\"nbf\":-9007199254740992,"
		       "\"iat\":-9007199254740992}");
	policy.now = INT64_MAX;
	policy.leeway = INT64_MAX;
	CU_ASSERT_EQUAL(jg_claims_check(NULL, claims, &policy, &why), JG_OK);
	policy.leeway = 0;
	CU_ASSERT_EQUAL(jg_claims_check(NULL, claims, &policy, &why), JG_ERR_DENIED);
	CU_ASSERT_STRING_EQUAL(why, "token expired");
	policy.now = INT64_MIN;
	policy.leeway = INT64_MAX;
	CU_ASSERT_EQUAL(jg_claims_check(NULL, claims, &policy, &why), JG_OK);
	policy.leeway = 0;
	CU_ASSERT_EQUAL(jg_claims_check(NULL, claims, &policy, &why), JG_ERR_DENIED);
	CU_ASSERT_STRING_EQUAL(why, "token not yet valid (nbf)");
	json_object_put(claims);

	claims = parse("{\"exp\":1700000001}");
	policy.now = NOW;
	policy.leeway = -10;
	CU_ASSERT_EQUAL(jg_claims_check(NULL, claims, &policy, NULL), JG_OK);
	policy.leeway = INT64_MIN;
	CU_ASSERT_EQUAL(jg_claims_check(NULL, claims, &policy, NULL), JG_OK);
	policy.now = NOW + 1;
	CU_ASSERT_EQUAL(jg_claims_check(NULL, claims, &policy, NULL), JG_ERR_DENIED);
	json_object_put(claims);

	CU_ASSERT_EQUAL(jg_claims_check(NULL, NULL, NULL, &why), JG_ERR_MALFORMED);
}

/* RFC 7515 appendix A.1: the HMAC key, and the JWT of RFC 7519 section 3.1
 * signed with it (claims {"iss":"joe","exp":1300819380,
 * "http://example.com/is_root":true}, header typ "JWT"). */
static const char rfc7515_a1_key[] =
	"{\"kty\":\"oct\",\"k\":\"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T"
	"-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow\"}";
static const char rfc7519_token[] =
	"eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
	".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
	"cGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
	".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

static void
test_jwt_verify_rfc7519(void)
{
	static const enum jg_alg hs256[] = { JG_ALG_HS256 };
	static const enum jg_alg rs256[] = { JG_ALG_RS256 };
	struct jg_claims_policy policy = { .now = 1300819379, .iss = "joe",
					   .typ = JG_TYP_ID };
	struct jg_jwt *jwt = NULL, *sentinel = (struct jg_jwt *)&policy;
	struct jg_jwk *key = NULL;
	struct jg_jwks *set;
	const char *why = NULL;
	size_t len = strlen(rfc7519_token);
	bool root = false;
	char *bad;

	CU_ASSERT_FATAL(jg_jwk_parse(rfc7515_a1_key, strlen(rfc7515_a1_key),
				     &key, &why) == JG_OK);
	set = jg_jwks_new();
	jg_jwks_add(set, key);

	CU_ASSERT_EQUAL_FATAL(jg_jwt_verify(rfc7519_token, len, set, hs256, 1,
					    &policy, &jwt, &why), JG_OK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(jwt);
	CU_ASSERT_TRUE(jg_json_get_bool(jwt->claims, "http://example.com/is_root",
					&root));
	CU_ASSERT_TRUE(root);
	CU_ASSERT_PTR_NOT_NULL_FATAL(jwt->jws);
	CU_ASSERT_STRING_EQUAL(jwt->jws->typ, "JWT");
	jg_jwt_free(jwt);

	/* One second later the token has expired. */
	policy.now = 1300819380;
	jwt = sentinel;
	CU_ASSERT_EQUAL(jg_jwt_verify(rfc7519_token, len, set, hs256, 1,
				      &policy, &jwt, &why), JG_ERR_DENIED);
	CU_ASSERT_STRING_EQUAL(why, "token expired");
	CU_ASSERT_PTR_EQUAL(jwt, sentinel);
	/* An ID-token typ is not an access token. */
	policy.now = 1300819379;
	policy.typ = JG_TYP_ACCESS;
	CU_ASSERT_EQUAL(jg_jwt_verify(rfc7519_token, len, set, hs256, 1,
				      &policy, &jwt, &why), JG_ERR_DENIED);
	CU_ASSERT_STRING_EQUAL(why, "wrong token typ");
	policy.typ = JG_TYP_ID;
	/* Another issuer or audience is refused. */
	policy.iss = "jane";
	CU_ASSERT_EQUAL(jg_jwt_verify(rfc7519_token, len, set, hs256, 1,
				      &policy, &jwt, &why), JG_ERR_DENIED);
	CU_ASSERT_STRING_EQUAL(why, "iss is not the expected issuer");
	policy.iss = "joe";
	policy.aud = "api";
	CU_ASSERT_EQUAL(jg_jwt_verify(rfc7519_token, len, set, hs256, 1,
				      &policy, &jwt, &why), JG_ERR_DENIED);
	CU_ASSERT_STRING_EQUAL(why, "token has no aud");
	policy.aud = NULL;
	/* The signature still decides first: alg not allowed, tampered. */
	CU_ASSERT_EQUAL(jg_jwt_verify(rfc7519_token, len, set, rs256, 1,
				      &policy, &jwt, &why), JG_ERR_DENIED);
	bad = jg_xstrdup(rfc7519_token);
	bad[len - 2] = bad[len - 2] == 'X' ? 'Y' : 'X';
	CU_ASSERT_EQUAL(jg_jwt_verify(bad, len, set, hs256, 1, &policy, &jwt, &why),
			JG_ERR_DENIED);
	free(bad);
	CU_ASSERT_PTR_EQUAL(jwt, sentinel);
	jg_jwks_free(set);
}

/* Signs payload (raw bytes) as a JWS with header typ at+jwt. */
static char *
sign_raw(const struct jg_jwk *key, const char *payload)
{
	struct json_object *extra = json_object_new_object();
	char *token = NULL;

	json_object_object_add(extra, "typ", json_object_new_string(JG_TYP_ACCESS));
	CU_ASSERT_FATAL(jg_jws_sign(key, JG_ALG_ES256, extra, payload,
				    strlen(payload), &token) == JG_OK);
	json_object_put(extra);
	return token;
}

static void
test_jwt_sign_verify(void)
{
	static const enum jg_alg es256[] = { JG_ALG_ES256 };
	static const struct {
		const char *payload;
		enum jg_err want;
		const char *why;
	} raw[] = {
		{ "{\"iss\":\"" ISS "\",\"aud\":\"api\",\"exp\":1700000060}",
		  JG_OK, NULL },
		{ "{\"iss\":\"" ISS "\",\"aud\":\"api\",\"exp\":1700000060,"
		  "\"exp\":1800000000}",
		  JG_ERR_MALFORMED, "claims are not a strict JSON object" },
		{ "{\"iss\":\"" ISS "\",\"aud\":\"api\",\"exp\":1700000060,"
		  "\"\\u0065xp\":1800000000}",
		  JG_ERR_MALFORMED, "claims are not a strict JSON object" },
		{ "[]", JG_ERR_MALFORMED, "claims are not a strict JSON object" },
		{ "{\"iss\":\"" ISS "\",\"aud\":\"api\",\"exp\":1700000060} ",
		  JG_OK, NULL },
		{ "{\"iss\":\"" ISS "\",\"aud\":\"api\",\"exp\":1700000060}x",
		  JG_ERR_MALFORMED, "claims are not a strict JSON object" },
		{ "{\"iss\":\"" ISS "\",\"aud\":\"api\",\"exp\":\"1700000060\"}",
		  JG_ERR_MALFORMED, "exp is not an integer NumericDate" },
		{ "{\"iss\":\"" ISS "\",\"aud\":\"api\",\"exp\":1700000000}",
		  JG_ERR_DENIED, "token expired" },
	};
	struct jg_claims_policy policy = { .now = NOW, .iss = ISS, .aud = AUD,
					   .typ = JG_TYP_ACCESS };
	struct json_object *claims, *aud;
	struct jg_jwk *key = NULL;
	struct jg_jwks *set;
	struct jg_jwt *jwt = NULL;
	const char *why = NULL;
	char *token = NULL, *a, *b;
	size_t i;

	CU_ASSERT_FATAL(jg_jwk_generate(JG_ALG_ES256, 0, &key) == JG_OK);
	set = jg_jwks_new();
	jg_jwks_add(set, jg_jwk_public(key));

	claims = json_object_new_object();
	json_object_object_add(claims, "iss", json_object_new_string(ISS));
	json_object_object_add(claims, "sub", json_object_new_string("alice"));
	aud = json_object_new_array();
	json_object_array_add(aud, json_object_new_string("other"));
	json_object_array_add(aud, json_object_new_string(AUD));
	json_object_object_add(claims, "aud", aud);
	json_object_object_add(claims, "exp", json_object_new_int64(NOW + 300));
	json_object_object_add(claims, "iat", json_object_new_int64(NOW));
	json_object_object_add(claims, "jti", json_object_new_string("id-1"));

	/* An access token verifies as one, and the claims come back whole. */
	CU_ASSERT_EQUAL_FATAL(jg_jwt_sign(key, JG_ALG_ES256, JG_TYP_ACCESS, claims,
					  &token), JG_OK);
	CU_ASSERT_EQUAL_FATAL(jg_jwt_verify(token, strlen(token), set, es256, 1,
					    &policy, &jwt, &why), JG_OK);
	a = jg_json_dump(claims);
	b = jg_json_dump(jwt->claims);
	CU_ASSERT_STRING_EQUAL(a, b);
	CU_ASSERT_STRING_EQUAL(jwt->jws->typ, JG_TYP_ACCESS);
	free(a);
	free(b);
	jg_jwt_free(jwt);
	jwt = NULL;
	free(token);

	/* An ID token (typ JWT) with the same claims is not an access token. */
	CU_ASSERT_EQUAL_FATAL(jg_jwt_sign(key, JG_ALG_ES256, JG_TYP_ID, claims,
					  &token), JG_OK);
	CU_ASSERT_EQUAL(jg_jwt_verify(token, strlen(token), set, es256, 1,
				      &policy, &jwt, &why), JG_ERR_DENIED);
	CU_ASSERT_STRING_EQUAL(why, "wrong token typ");
	free(token);

	/* Without typ the access policy refuses, unless typ is optional. */
	CU_ASSERT_EQUAL_FATAL(jg_jwt_sign(key, JG_ALG_ES256, NULL, claims,
					  &token), JG_OK);
	CU_ASSERT_EQUAL(jg_jwt_verify(token, strlen(token), set, es256, 1,
				      &policy, &jwt, &why), JG_ERR_DENIED);
	CU_ASSERT_STRING_EQUAL(why, "token typ missing");
	policy.typ_optional = true;
	CU_ASSERT_EQUAL(jg_jwt_verify(token, strlen(token), set, es256, 1,
				      &policy, &jwt, &why), JG_OK);
	jg_jwt_free(jwt);
	jwt = NULL;
	policy.typ_optional = false;
	free(token);

	/* Claims must be an object. */
	token = NULL;
	CU_ASSERT_EQUAL(jg_jwt_sign(key, JG_ALG_ES256, JG_TYP_ACCESS, aud, &token),
			JG_ERR_MALFORMED);
	CU_ASSERT_PTR_NULL(token);
	json_object_put(claims);

	/* Signed payloads that are not strict JSON objects, or break a rule. */
	for (i = 0; i < sizeof(raw) / sizeof(raw[0]); i++) {
		token = sign_raw(key, raw[i].payload);
		why = NULL;
		CU_ASSERT_EQUAL(jg_jwt_verify(token, strlen(token), set, es256, 1,
					      &policy, &jwt, &why), raw[i].want);
		if (raw[i].want == JG_OK) {
			CU_ASSERT_PTR_NOT_NULL(jwt);
			jg_jwt_free(jwt);
			jwt = NULL;
		} else {
			CU_ASSERT_PTR_NULL(jwt);
			CU_ASSERT_PTR_NOT_NULL_FATAL(why);
			CU_ASSERT_STRING_EQUAL(why, raw[i].why);
		}
		free(token);
	}
	jg_jwt_free(NULL);
	jg_jwks_free(set);
	jg_jwk_free(key);
}

int
main(void)
{
	static const struct jg_test tests[] = {
		{ "claims table", test_table },
		{ "claims built with json-c", test_constructed },
		{ "extreme policy values", test_extreme_policy },
		{ "jwt_verify: RFC 7519 section 3.1 token", test_jwt_verify_rfc7519 },
		{ "jwt_sign and jwt_verify", test_jwt_sign_verify },
		{ NULL, NULL }
	};

	return jg_test_main("claims", tests);
}
