/* jws.c: benchmark of JWS signing and verification against bare GnuTLS. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>

#include "b64url.h"
#include "claims.h"
#include "json.h"
#include "jwk.h"
#include "jws.h"

/*
 * For each algorithm: one realistic RFC 9068 access token (header with kid
 * and typ at+jwt, about 350 bytes of claims) is signed once; then each
 * operation runs for a fixed wall time and its rate is reported (library
 * and primitive in alternating slices, so that load changes hit both):
 *   verify lib     jg_jws_verify on the whole token (decode, header checks,
 *                  key lookup, signature)
 *   verify gnutls  the bare primitive on the same signing input and
 *                  signature: gnutls_pubkey_verify_data2 (ECDSA signature
 *                  converted to DER in advance) or gnutls_hmac_fast + memcmp
 *   jwt verify     jg_jwt_verify: the above plus claims parsing and checks
 *   sign lib       jg_jws_sign of the same header and payload
 *   sign gnutls    gnutls_privkey_sign_data2 or gnutls_hmac_fast
 */

#define BENCH_NOW 1700000000	/* the claims' clock; fixed, so results repeat */

struct bench_alg {
	enum jg_alg alg;
	gnutls_sign_algorithm_t sign;	/* GNUTLS_SIGN_UNKNOWN for HMAC */
	gnutls_mac_algorithm_t mac;
	unsigned sign_flags, verify_flags;
};

static const struct bench_alg bench_algs[] = {
	{ JG_ALG_HS256, GNUTLS_SIGN_UNKNOWN, GNUTLS_MAC_SHA256, 0, 0 },
	{ JG_ALG_RS256, GNUTLS_SIGN_RSA_SHA256, GNUTLS_MAC_UNKNOWN, 0, 0 },
	{ JG_ALG_PS256, GNUTLS_SIGN_RSA_PSS_RSAE_SHA256, GNUTLS_MAC_UNKNOWN,
	  GNUTLS_PRIVKEY_FLAG_RSA_PSS_FIXED_SALT_LENGTH,
	  GNUTLS_VERIFY_RSA_PSS_FIXED_SALT_LENGTH },
	{ JG_ALG_ES256, GNUTLS_SIGN_ECDSA_SHA256, GNUTLS_MAC_UNKNOWN, 0, 0 },
	{ JG_ALG_ES384, GNUTLS_SIGN_ECDSA_SHA384, GNUTLS_MAC_UNKNOWN, 0, 0 },
	{ JG_ALG_EDDSA, GNUTLS_SIGN_EDDSA_ED25519, GNUTLS_MAC_UNKNOWN, 0, 0 },
};
#define BENCH_ALG_COUNT (sizeof(bench_algs) / sizeof(bench_algs[0]))

/* Everything one algorithm's operations need. */
struct bench_case {
	const struct bench_alg *ba;
	struct jg_jwk *key;		/* private */
	struct jg_jwks *set;		/* its public part */
	struct json_object *extra;	/* {"typ":"at+jwt"} */
	struct json_object *claims;
	char *payload;			/* the claims as JSON text */
	char *token;
	size_t token_len;
	gnutls_datum_t input;		/* the signing input: header.payload */
	gnutls_datum_t sig;		/* the signature as GnuTLS takes it */
	struct jg_claims_policy policy;
};

struct bench_result {
	double verify_lib, verify_prim, jwt_verify, sign_lib, sign_prim;
};

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *what, const struct bench_case *bc)
{
	fprintf(stderr, "bench/jws: %s failed for %s\n", what,
		bc ? jg_alg_name(bc->ba->alg) : "setup");
	exit(1);
}

/* ------------------------------------------------------------ operations */

static bool
op_verify_lib(const struct bench_case *bc)
{
	struct jg_jws *jws = NULL;
	enum jg_err err;

	err = jg_jws_verify(bc->token, bc->token_len, bc->set, &bc->ba->alg, 1,
			    &jws, NULL);
	jg_jws_free(jws);
	return err == JG_OK;
}

static bool
op_jwt_verify(const struct bench_case *bc)
{
	struct jg_jwt *jwt = NULL;
	enum jg_err err;

	err = jg_jwt_verify(bc->token, bc->token_len, bc->set, &bc->ba->alg, 1,
			    &bc->policy, &jwt, NULL);
	jg_jwt_free(jwt);
	return err == JG_OK;
}

static bool
op_verify_prim(const struct bench_case *bc)
{
	const struct jg_jwk *pub = bc->set->keys[0];
	unsigned char tag[64];

	if (bc->ba->sign == GNUTLS_SIGN_UNKNOWN) {
		if (gnutls_hmac_fast(bc->ba->mac, pub->secret, pub->secret_len,
				     bc->input.data, bc->input.size, tag) < 0)
			return false;
		return memcmp(tag, bc->sig.data, bc->sig.size) == 0;
	}
	return gnutls_pubkey_verify_data2(pub->pub, bc->ba->sign,
					  bc->ba->verify_flags, &bc->input,
					  &bc->sig) >= 0;
}

static bool
op_sign_lib(const struct bench_case *bc)
{
	char *token = NULL;
	enum jg_err err;

	err = jg_jws_sign(bc->key, bc->ba->alg, bc->extra, bc->payload,
			  strlen(bc->payload), &token);
	free(token);
	return err == JG_OK;
}

static bool
op_sign_prim(const struct bench_case *bc)
{
	gnutls_datum_t sig = { NULL, 0 };
	unsigned char tag[64];

	if (bc->ba->sign == GNUTLS_SIGN_UNKNOWN)
		return gnutls_hmac_fast(bc->ba->mac, bc->key->secret,
					bc->key->secret_len, bc->input.data,
					bc->input.size, tag) >= 0;
	if (gnutls_privkey_sign_data2(bc->key->priv, bc->ba->sign,
				      bc->ba->sign_flags, &bc->input, &sig) < 0)
		return false;
	gnutls_free(sig.data);
	return true;
}

/* Runs op for about seconds of wall time; adds the operations done to *n
 * and the time taken to *elapsed.  Every operation must succeed: a failing
 * one would not be measured. */
static void
run_for(const struct bench_case *bc, bool (*op)(const struct bench_case *),
	const char *what, double seconds, unsigned long *n, double *elapsed)
{
	double start = now_seconds(), t;
	unsigned long done = 0;

	do {
		/* Reading the clock every 8 operations keeps its cost out of
		 * the fast ones (an HMAC takes well under a microsecond). */
		for (int i = 0; i < 8; i++) {
			if (!op(bc))
				die(what, bc);
		}
		done += 8;
		t = now_seconds() - start;
	} while (t < seconds);
	*n += done;
	*elapsed += t;
}

#define ROUNDS 10

/* Measures two operations, a and b, for seconds each, in ROUNDS
 * alternating slices, so a change in machine load between them does not
 * skew their ratio.  Writes operations per second to *rate_a, *rate_b. */
static void
measure_pair(const struct bench_case *bc,
	     bool (*a)(const struct bench_case *), const char *what_a,
	     bool (*b)(const struct bench_case *), const char *what_b,
	     double seconds, double *rate_a, double *rate_b)
{
	unsigned long na = 0, nb = 0;
	double ta = 0, tb = 0;
	int round;

	if (!a(bc))		/* warm-up, and proof that they work */
		die(what_a, bc);
	if (!b(bc))
		die(what_b, bc);
	for (round = 0; round < ROUNDS; round++) {
		run_for(bc, a, what_a, seconds / ROUNDS, &na, &ta);
		run_for(bc, b, what_b, seconds / ROUNDS, &nb, &tb);
	}
	*rate_a = (double)na / ta;
	*rate_b = (double)nb / tb;
}

static double
measure(const struct bench_case *bc, bool (*op)(const struct bench_case *),
	const char *what, double seconds)
{
	unsigned long n = 0;
	double t = 0;

	if (!op(bc))
		die(what, bc);
	run_for(bc, op, what, seconds, &n, &t);
	return (double)n / t;
}

/* ------------------------------------------------------------ setup */

static struct json_object *
access_token_claims(void)
{
	static const char text[] =
		"{\"iss\":\"https://auth.example.com\","
		"\"sub\":\"248289761001\","
		"\"aud\":\"https://api.example.com\","
		"\"client_id\":\"s6BhdRkqt3\","
		"\"scope\":\"openid profile email orders:read orders:write\","
		"\"iat\":1699999990,\"nbf\":1699999990,\"exp\":1700000890,"
		"\"auth_time\":1699999930,"
		"\"jti\":\"dGhpcyBpcyBhIHJhbmRvbSBqdGkgdmFsdWU\","
		"\"amr\":[\"pwd\",\"otp\"],"
		"\"sid\":\"08a5019c-17e1-4977-8f42-65a12843ea02\"}";
	struct json_object *obj = NULL;

	if (jg_json_parse_object(text, sizeof(text) - 1, &obj, NULL) != JG_OK)
		die("claims parsing", NULL);
	return obj;
}

static void
case_init(struct bench_case *bc, const struct bench_alg *ba)
{
	gnutls_datum_t der = { NULL, 0 }, r, s;
	unsigned char *raw = NULL;
	const char *dot;
	size_t rawlen = 0, half;
	struct jg_jwk *pub;

	memset(bc, 0, sizeof(*bc));
	bc->ba = ba;
	if (jg_jwk_generate(ba->alg, 0, &bc->key) != JG_OK)
		die("key generation", bc);
	pub = jg_jwk_public(bc->key);
	if (pub == NULL)
		die("public key", bc);
	bc->set = jg_jwks_new();
	jg_jwks_add(bc->set, pub);
	bc->extra = json_object_new_object();
	json_object_object_add(bc->extra, "typ", json_object_new_string(JG_TYP_ACCESS));
	bc->claims = access_token_claims();
	bc->payload = jg_json_dump(bc->claims);
	if (jg_jwt_sign(bc->key, ba->alg, JG_TYP_ACCESS, bc->claims, &bc->token) != JG_OK)
		die("signing the token", bc);
	bc->token_len = strlen(bc->token);

	dot = strrchr(bc->token, '.');
	bc->input.data = (unsigned char *)bc->token;
	bc->input.size = (unsigned)(dot - bc->token);
	if (jg_b64url_decode(dot + 1, strlen(dot + 1), &raw, &rawlen) != JG_OK)
		die("signature decoding", bc);
	if (ba->sign == GNUTLS_SIGN_ECDSA_SHA256 || ba->sign == GNUTLS_SIGN_ECDSA_SHA384) {
		/* GnuTLS verifies DER; the conversion is not part of the
		 * primitive's time. */
		half = rawlen / 2;
		r.data = raw;
		r.size = (unsigned)half;
		s.data = raw + half;
		s.size = (unsigned)half;
		/* DER integers are minimal: no leading zero octets. */
		while (r.size > 1 && r.data[0] == 0) {
			r.data++;
			r.size--;
		}
		while (s.size > 1 && s.data[0] == 0) {
			s.data++;
			s.size--;
		}
		if (gnutls_encode_rs_value(&der, &r, &s) < 0)
			die("DER encoding", bc);
		bc->sig.data = jg_xmalloc(der.size);
		memcpy(bc->sig.data, der.data, der.size);
		bc->sig.size = der.size;
		gnutls_free(der.data);
		free(raw);
	} else {
		bc->sig.data = raw;
		bc->sig.size = (unsigned)rawlen;
	}

	bc->policy.now = BENCH_NOW;
	bc->policy.leeway = 60;
	bc->policy.iss = "https://auth.example.com";
	bc->policy.aud = "https://api.example.com";
	bc->policy.typ = JG_TYP_ACCESS;
}

static void
case_clear(struct bench_case *bc)
{
	free(bc->sig.data);
	free(bc->token);
	free(bc->payload);
	json_object_put(bc->claims);
	json_object_put(bc->extra);
	jg_jwks_free(bc->set);
	jg_jwk_free(bc->key);
}

/* The key and compact JWS of RFC 7515 appendix A.1 (HS256 over a
 * 70-byte payload): a token of the size of a session assertion, beside
 * the 600-byte access token of the table, since HMAC's cost grows with the
 * length and the library's work around it does not much. */
static const char rfc7515_a1_key[] =
	"{\"kty\":\"oct\",\"k\":\"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T"
	"-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow\"}";
static const char rfc7515_a1_token[] =
	"eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
	".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
	"cGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
	".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

/* Measures verify (library and bare HMAC) of the RFC 7515 A.1 token. */
static void
measure_rfc7515_a1(double seconds, bool markdown)
{
	static const struct bench_alg hs = { JG_ALG_HS256, GNUTLS_SIGN_UNKNOWN,
					     GNUTLS_MAC_SHA256, 0, 0 };
	struct bench_case bc;
	struct jg_jwk *key = NULL;
	unsigned char *raw = NULL;
	const char *dot;
	size_t rawlen = 0;
	double lib, prim;

	memset(&bc, 0, sizeof(bc));
	bc.ba = &hs;
	if (jg_jwk_parse(rfc7515_a1_key, strlen(rfc7515_a1_key), &key, NULL) != JG_OK)
		die("RFC 7515 A.1 key", &bc);
	bc.set = jg_jwks_new();
	jg_jwks_add(bc.set, key);
	bc.token = jg_xstrdup(rfc7515_a1_token);
	bc.token_len = strlen(bc.token);
	dot = strrchr(bc.token, '.');
	bc.input.data = (unsigned char *)bc.token;
	bc.input.size = (unsigned)(dot - bc.token);
	if (jg_b64url_decode(dot + 1, strlen(dot + 1), &raw, &rawlen) != JG_OK)
		die("RFC 7515 A.1 signature", &bc);
	bc.sig.data = raw;
	bc.sig.size = (unsigned)rawlen;
	if (!op_verify_lib(&bc) || !op_verify_prim(&bc))
		die("RFC 7515 A.1 verification", &bc);
	measure_pair(&bc, op_verify_lib, "jg_jws_verify", op_verify_prim,
		     "primitive verify", seconds, &lib, &prim);
	printf("%sHS256, RFC 7515 A.1 token (%zu bytes): verify lib %.0f/s, "
	       "gnutls %.0f/s, lib/gnutls %.0f%%\n", markdown ? "\n" : "\n# ",
	       bc.token_len, lib, prim, 100.0 * lib / prim);
	case_clear(&bc);
}

/* ------------------------------------------------------------ output */

static void
print_header(bool markdown)
{
	if (markdown) {
		puts("| alg | verify lib/s | verify gnutls/s | lib/gnutls "
		     "| jwt verify/s | sign lib/s | sign gnutls/s | lib/gnutls |");
		puts("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
		return;
	}
	printf("%-6s %13s %15s %10s %13s %11s %13s %10s\n", "alg",
	       "verify lib/s", "verify gnutls/s", "lib/gnutls", "jwt verify/s",
	       "sign lib/s", "sign gnutls/s", "lib/gnutls");
}

static void
print_row(const char *alg, const struct bench_result *r, bool markdown)
{
	double vr = r->verify_lib / r->verify_prim * 100.0;
	double sr = r->sign_lib / r->sign_prim * 100.0;

	if (markdown) {
		printf("| %s | %.0f | %.0f | %.0f%% | %.0f | %.0f | %.0f | %.0f%% |\n",
		       alg, r->verify_lib, r->verify_prim, vr, r->jwt_verify,
		       r->sign_lib, r->sign_prim, sr);
		return;
	}
	printf("%-6s %13.0f %15.0f %9.0f%% %13.0f %11.0f %13.0f %9.0f%%\n", alg,
	       r->verify_lib, r->verify_prim, vr, r->jwt_verify, r->sign_lib,
	       r->sign_prim, sr);
}

static void
usage(FILE *f)
{
	fputs("usage: bench/jws [--seconds X] [--markdown] [--alg ALG]\n"
	      "\n"
	      "Measures JWS verify and sign rates of the jwtgate library against\n"
	      "bare GnuTLS for HS256 RS256 PS256 ES256 ES384 EdDSA, each\n"
	      "operation for X seconds of wall time (default 1).  Run it on an\n"
	      "idle machine: the rates are wall-clock rates.  --alg ALG measures\n"
	      "one algorithm only (for a profiler: valgrind --tool=callgrind\n"
	      "--toggle-collect=op_verify_lib bench/jws --alg HS256).\n", f);
}

int
main(int argc, char **argv)
{
	struct bench_case bc;
	struct bench_result r;
	bool markdown = false;
	double seconds = 1.0;
	const char *only = NULL;
	bool header = false;
	char *end;
	size_t i;
	int a;

	for (a = 1; a < argc; a++) {
		if (strcmp(argv[a], "--markdown") == 0) {
			markdown = true;
		} else if (strcmp(argv[a], "--seconds") == 0 && a + 1 < argc) {
			seconds = strtod(argv[++a], &end);
			if (*end != '\0' || !(seconds > 0.0 && seconds <= 3600.0)) {
				fprintf(stderr, "bench/jws: --seconds wants a number from 0 to 3600\n");
				return 2;
			}
		} else if (strcmp(argv[a], "--alg") == 0 && a + 1 < argc) {
			only = argv[++a];
		} else if (strcmp(argv[a], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}

	if (only != NULL) {
		for (i = 0; i < BENCH_ALG_COUNT; i++) {
			if (strcmp(jg_alg_name(bench_algs[i].alg), only) == 0)
				break;
		}
		if (i == BENCH_ALG_COUNT) {
			fprintf(stderr, "bench/jws: --alg: not one of the measured algorithms\n");
			return 2;
		}
	}
	for (i = 0; i < BENCH_ALG_COUNT; i++) {
		if (only != NULL && strcmp(jg_alg_name(bench_algs[i].alg), only) != 0)
			continue;
		case_init(&bc, &bench_algs[i]);
		if (!header) {
			header = true;
			printf("%sGnuTLS %s, one thread, %.2g s per operation; "
			       "token %zu bytes, claims %zu bytes\n\n",
			       markdown ? "" : "# ", gnutls_check_version(NULL),
			       seconds, bc.token_len, strlen(bc.payload));
			print_header(markdown);
		}
		measure_pair(&bc, op_verify_lib, "jg_jws_verify", op_verify_prim,
			     "primitive verify", seconds, &r.verify_lib,
			     &r.verify_prim);
		r.jwt_verify = measure(&bc, op_jwt_verify, "jg_jwt_verify", seconds);
		measure_pair(&bc, op_sign_lib, "jg_jws_sign", op_sign_prim,
			     "primitive sign", seconds, &r.sign_lib, &r.sign_prim);
		print_row(jg_alg_name(bc.ba->alg), &r, markdown);
		fflush(stdout);
		case_clear(&bc);
	}
	if (only == NULL || strcmp(only, "HS256") == 0)
		measure_rfc7515_a1(seconds, markdown);
	return 0;
}
