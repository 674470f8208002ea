/* cmd_jose.c: "jwtgate jws" and "jwtgate jwt": sign, verify and decode tokens. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "claims.h"
#include "json.h"
#include "jwk.h"
#include "jws.h"

/* ------------------------------------------------------------ help texts */

static const char jws_sign_usage[] =
"usage: jwtgate jws sign --key FILE [--alg ALG] [--kid KID] < PAYLOAD\n"
"\n"
"Signs standard input (any bytes) as a compact JWS and prints it with a\n"
"trailing newline.  The protected header is {\"alg\":ALG,\"kid\":KID}.\n"
"\n"
"options:\n"
"  --key FILE   private key: PEM (PKCS#8, RSA or EC), a private JWK, or a JWK\n"
"               Set (choose its key with --kid when it holds several)\n"
"  --alg ALG    algorithm; default: the key's \"alg\", else RS256 for RSA,\n"
"               ES256/ES384/ES512 for P-256/P-384/P-521, EdDSA for Ed25519,\n"
"               HS256 for oct keys\n"
"  --kid KID    header kid; default: the key's kid (the RFC 7638\n"
"               thumbprint for a PEM key)\n"
"  --help       print this help\n"
"\n"
"exit status: 0 signed, 1 not signed (bad key file, the key cannot sign\n"
"with ALG, token too long), 2 usage error.\n";

static const char jwt_sign_usage[] =
"usage: jwtgate jwt sign --key FILE [--alg ALG] [--kid KID] [--typ TYP] < CLAIMS\n"
"\n"
"Signs the JSON object on standard input as a JWT and prints it with a\n"
"trailing newline.  The claims are signed as given (strict JSON: no\n"
"duplicate names, valid UTF-8); add \"exp\" and \"iat\" yourself.\n"
"\n"
"options:\n"
"  --key FILE   private key: PEM (PKCS#8, RSA or EC), a private JWK, or a JWK\n"
"               Set (choose its key with --kid when it holds several)\n"
"  --alg ALG    algorithm; default: the key's \"alg\", else RS256 for RSA,\n"
"               ES256/ES384/ES512 for P-256/P-384/P-521, EdDSA for Ed25519,\n"
"               HS256 for oct keys\n"
"  --kid KID    header kid; default: the key's kid (the RFC 7638\n"
"               thumbprint for a PEM key)\n"
"  --typ TYP    header typ (default JWT; at+jwt for RFC 9068 access\n"
"               tokens); an empty TYP leaves typ out\n"
"  --help       print this help\n"
"\n"
"exit status: 0 signed, 1 not signed (claims not a strict JSON object, bad\n"
"key file, the key cannot sign with ALG, token too long), 2 usage error.\n";

static const char jws_verify_usage[] =
"usage: jwtgate jws verify --jwk FILE TOKEN\n"
"\n"
"Checks the signature of the compact JWS TOKEN (\"-\": read it from standard\n"
"input) and prints its payload, byte for byte, with nothing added.  Claims\n"
"are not looked at.  Every algorithm the key can do is accepted: the key\n"
"decides (an RSA key never verifies HS256).\n"
"\n"
"options:\n"
"  --jwk FILE   a JWK, a JWK Set or a PEM key; of a private key only the\n"
"               public part is used\n"
"  --help       print this help\n"
"\n"
"exit status: 0 valid, 1 rejected (one line on standard error says why),\n"
"2 usage error.\n";

static const char jwt_verify_usage[] =
"usage: jwtgate jwt verify (--jwks FILE | --key FILE) [--alg ALG]...\n"
"                          [--iss ISS] [--aud AUD] [--typ TYP]\n"
"                          [--leeway SECONDS] [--now EPOCH] TOKEN\n"
"\n"
"Checks the signature and the claims of the JWT TOKEN (\"-\": read it from\n"
"standard input) and prints the claims as one line of JSON.  \"exp\" is\n"
"required; \"exp\", \"nbf\" and \"iat\" are checked against the time.\n"
"\n"
"options:\n"
"  --jwks FILE       a JWK Set (a single JWK or a PEM key is fine too)\n"
"  --key FILE        a JWK or a PEM key; of a private key only the public\n"
"                    part is used\n"
"  --alg ALG         accept ALG; repeat for several.  Default: every\n"
"                    algorithm, and the key decides (an RSA key never\n"
"                    verifies HS256)\n"
"  --iss ISS         require \"iss\" to be exactly ISS\n"
"  --aud AUD         require AUD as \"aud\" or in the \"aud\" array\n"
"  --typ TYP         require header typ TYP (case-insensitive, an\n"
"                    \"application/\" prefix allowed); not checked without\n"
"  --leeway SECONDS  clock skew allowed (default 60)\n"
"  --now EPOCH       check the time as if it were EPOCH (seconds since\n"
"                    1970; default: now)\n"
"  --help            print this help\n"
"\n"
"exit status: 0 valid, 1 rejected (one line on standard error says why,\n"
"e.g. \"jwtgate: rejected: token expired\"), 2 usage error.\n";

static const char jwt_decode_usage[] =
"usage: jwtgate jwt decode TOKEN\n"
"\n"
"Prints header and claims of TOKEN (\"-\": read it from standard input)\n"
"WITHOUT checking the signature, as one line of JSON:\n"
"{\"header\":{...},\"claims\":{...},\"unverified\":true}, and a warning on\n"
"standard error.  The structural rules still apply: three strict base64url\n"
"segments, a strict-JSON header with a known alg, a JSON object payload.\n"
"\n"
"options:\n"
"  --help       print this help\n"
"\n"
"exit status: 0 decoded, 1 malformed token, 2 usage error.\n";

/* ------------------------------------------------------------ options */

enum {
	OPT_KEY = 256,
	OPT_JWK,
	OPT_JWKS,
	OPT_ALG,
	OPT_KID,
	OPT_TYP,
	OPT_ISS,
	OPT_AUD,
	OPT_LEEWAY,
	OPT_NOW
};

static const struct option jws_sign_options[] = {
	{ "key", required_argument, NULL, OPT_KEY },
	{ "alg", required_argument, NULL, OPT_ALG },
	{ "kid", required_argument, NULL, OPT_KID },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static const struct option jwt_sign_options[] = {
	{ "key", required_argument, NULL, OPT_KEY },
	{ "alg", required_argument, NULL, OPT_ALG },
	{ "kid", required_argument, NULL, OPT_KID },
	{ "typ", required_argument, NULL, OPT_TYP },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static const struct option jws_verify_options[] = {
	{ "jwk", required_argument, NULL, OPT_JWK },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static const struct option jwt_verify_options[] = {
	{ "jwks", required_argument, NULL, OPT_JWKS },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "alg", required_argument, NULL, OPT_ALG },
	{ "iss", required_argument, NULL, OPT_ISS },
	{ "aud", required_argument, NULL, OPT_AUD },
	{ "typ", required_argument, NULL, OPT_TYP },
	{ "leeway", required_argument, NULL, OPT_LEEWAY },
	{ "now", required_argument, NULL, OPT_NOW },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static const struct option decode_options[] = {
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/* Bounds of --leeway and --now: RFC 7519 NumericDates that JSON numbers
 * (and the claims checker) handle exactly stay within 2^53. */
#define MAX_LEEWAY ((int64_t)1 << 31)
#define MAX_NOW    ((int64_t)1 << 53)

/* ------------------------------------------------------------ helpers */

/* Prints why a token was rejected: exactly one line. */
static int
rejected(enum jg_err err, const char *why)
{
	jg_cli_error("rejected: %s", why != NULL ? why : jg_strerror(err));
	return JG_EXIT_REJECTED;
}

/* Loads the keys of path into *out (caller frees).  With public_only every
 * key is replaced by its public part, so a private key file can serve to
 * verify.  Prints a message and returns JG_EXIT_REJECTED on failure. */
static int
load_keys(const char *path, bool public_only, struct jg_jwks **out)
{
	struct jg_jwks *set = NULL, *pub;
	struct jg_jwk *key;
	const char *why = NULL;
	enum jg_err err;
	size_t i;

	errno = 0;
	err = jg_jwks_load_file(path, &set, &why);
	if (err == JG_ERR_NOT_FOUND || (err == JG_ERR_SYSTEM && errno != 0)) {
		jg_cli_error("cannot read key file %s: %s", path,
			     strerror(err == JG_ERR_NOT_FOUND ? ENOENT : errno));
		return JG_EXIT_REJECTED;
	}
	if (err != JG_OK) {
		jg_cli_error("bad key file %s: %s", path,
			     why != NULL ? why : jg_strerror(err));
		return JG_EXIT_REJECTED;
	}
	if (set->count == 0) {
		jg_cli_error("bad key file %s: it holds no key jwtgate can use", path);
		jg_jwks_free(set);
		return JG_EXIT_REJECTED;
	}
	if (public_only) {
		pub = jg_jwks_new();
		for (i = 0; i < set->count; i++) {
			key = jg_jwk_public(set->keys[i]);
			if (key == NULL) {
				jg_cli_error("bad key file %s: cannot take the public part of key %zu",
					     path, i + 1);
				jg_jwks_free(pub);
				jg_jwks_free(set);
				return JG_EXIT_REJECTED;
			}
			jg_jwks_add(pub, key);
		}
		jg_jwks_free(set);
		set = pub;
	}
	*out = set;
	return JG_EXIT_OK;
}

/* The algorithm a key signs with when none is named. */
static enum jg_alg
natural_alg(const struct jg_jwk *key)
{
	if (key->alg != JG_ALG_UNKNOWN)
		return key->alg;
	switch (key->kty) {
	case JG_KTY_RSA:
		return JG_ALG_RS256;
	case JG_KTY_EC:
		if (key->curve == GNUTLS_ECC_CURVE_SECP256R1)
			return JG_ALG_ES256;
		if (key->curve == GNUTLS_ECC_CURVE_SECP384R1)
			return JG_ALG_ES384;
		if (key->curve == GNUTLS_ECC_CURVE_SECP521R1)
			return JG_ALG_ES512;
		return JG_ALG_UNKNOWN;
	case JG_KTY_OKP:
		return key->curve == GNUTLS_ECC_CURVE_ED25519 ? JG_ALG_EDDSA :
		    JG_ALG_UNKNOWN;
	case JG_KTY_OCT:
		return JG_ALG_HS256;
	}
	return JG_ALG_UNKNOWN;
}

/* Picks the signing key of set: the only one, or the one named kid. */
static int
signing_key(const struct jg_jwks *set, const char *path, const char *kid,
	    const struct jg_jwk **out)
{
	size_t i;

	if (set->count == 1) {
		*out = set->keys[0];
		return JG_EXIT_OK;
	}
	if (kid == NULL) {
		jg_cli_error("%s holds %zu keys; choose one with --kid", path,
			     set->count);
		return JG_EXIT_REJECTED;
	}
	for (i = 0; i < set->count; i++) {
		if (set->keys[i]->kid != NULL && strcmp(set->keys[i]->kid, kid) == 0) {
			*out = set->keys[i];
			return JG_EXIT_OK;
		}
	}
	jg_cli_error("%s holds no key with kid '%s'", path, kid);
	return JG_EXIT_REJECTED;
}

/* Reads the whole of standard input for signing, at most what a token of
 * JG_JWS_MAX_TOKEN bytes can carry. */
static int
read_input(const char *what, char **out, size_t *len)
{
	enum jg_err err;

	err = jg_cli_read_stdin(JG_JWS_MAX_TOKEN, out, len);
	if (err == JG_ERR_MALFORMED) {
		jg_cli_error("%s on standard input is longer than the %d bytes a token may have",
			     what, JG_JWS_MAX_TOKEN);
		return JG_EXIT_REJECTED;
	}
	if (err != JG_OK) {
		jg_cli_error("cannot read standard input: %s", strerror(errno));
		return JG_EXIT_REJECTED;
	}
	return JG_EXIT_OK;
}

/* Gets the single TOKEN operand left after the options. */
static int
token_operand(const char *path, int argc, char **argv, char **token,
	      size_t *len)
{
	if (optind >= argc)
		return jg_cli_usage_error(path, "missing TOKEN");
	if (optind + 1 < argc)
		return jg_cli_usage_error(path, "unexpected argument '%s'",
					  argv[optind + 1]);
	return jg_cli_read_token(argv[optind], JG_JWS_MAX_TOKEN, token, len);
}

/* ------------------------------------------------------------ sign */

/* "jws sign" and "jwt sign": they differ only in what they read. */
static int
sign_command(int argc, char **argv, bool jwt)
{
	const char *path = jwt ? "jwt sign" : "jws sign";
	const char *key_path = NULL, *typ = JG_TYP_ID, *why = NULL;
	char *kid = NULL;
	enum jg_alg alg = JG_ALG_UNKNOWN;
	struct json_object *claims = NULL;
	struct jg_jwks *set = NULL;
	const struct jg_jwk *key;
	struct jg_jwk view;
	char *input = NULL, *token = NULL;
	size_t input_len = 0;
	enum jg_err err;
	int c, status;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h",
				jwt ? jwt_sign_options : jws_sign_options,
				NULL)) != -1) {
		switch (c) {
		case 'h':
			return jg_cli_help(jwt ? jwt_sign_usage : jws_sign_usage);
		case OPT_KEY:
			key_path = optarg;
			break;
		case OPT_ALG:
			alg = jg_alg_from_name(optarg);
			if (alg == JG_ALG_UNKNOWN)
				return jg_cli_usage_error(path, "unknown algorithm '%s'",
							  optarg);
			break;
		case OPT_KID:
			if (optarg[0] == '\0')
				return jg_cli_usage_error(path, "--kid must not be empty");
			kid = optarg;
			break;
		case OPT_TYP:
			typ = optarg;
			break;
		default:
			return jg_cli_option_error(path, c, argv);
		}
	}
	if (optind < argc)
		return jg_cli_usage_error(path, "unexpected argument '%s'",
					  argv[optind]);
	if (key_path == NULL)
		return jg_cli_usage_error(path, "--key is required");

	status = load_keys(key_path, false, &set);
	if (status != JG_EXIT_OK)
		goto out;
	status = signing_key(set, key_path, kid, &key);
	if (status != JG_EXIT_OK)
		goto out;
	status = JG_EXIT_REJECTED;
	if (alg == JG_ALG_UNKNOWN)
		alg = natural_alg(key);
	if (alg == JG_ALG_UNKNOWN) {
		jg_cli_error("the key in %s has no natural algorithm; name one with --alg",
			     key_path);
		goto out;
	}
	if (!jg_jwk_usable(key, alg, JG_KEYOP_SIGN)) {
		jg_cli_error("the key in %s cannot sign with %s", key_path,
			     jg_alg_name(alg));
		goto out;
	}
	if (kid != NULL) {
		/* The library writes the key's own kid into the header and
		 * the key's fields are not ours to change: sign through a
		 * copy of the struct that differs only in kid.  It shares
		 * everything else with key and is never freed. */
		view = *key;
		view.kid = kid;
		key = &view;
	}

	if (read_input(jwt ? "the claims object" : "the payload", &input,
		       &input_len) != JG_EXIT_OK)
		goto out;
	if (jwt) {
		err = jg_json_parse_object(input, input_len, &claims, &why);
		if (err != JG_OK) {
			jg_cli_error("the claims on standard input are not a JSON object: %s",
				     why != NULL ? why : jg_strerror(err));
			goto out;
		}
		err = jg_jwt_sign(key, alg, typ[0] != '\0' ? typ : NULL, claims,
				  &token);
	} else {
		err = jg_jws_sign(key, alg, NULL, input, input_len, &token);
	}
	if (err != JG_OK) {
		jg_cli_error("cannot sign with %s: %s", jg_alg_name(alg),
			     jg_strerror(err));
		goto out;
	}
	if (strlen(token) > JG_JWS_MAX_TOKEN) {
		jg_cli_error("the token would be %zu bytes, more than the %d a verifier accepts",
			     strlen(token), JG_JWS_MAX_TOKEN);
		goto out;
	}
	printf("%s\n", token);
	status = JG_EXIT_OK;
out:
	free(token);
	json_object_put(claims);
	free(input);
	jg_jwks_free(set);
	return status;
}

static int
jws_sign(int argc, char **argv)
{
	return sign_command(argc, argv, false);
}

static int
jwt_sign(int argc, char **argv)
{
	return sign_command(argc, argv, true);
}

/* ------------------------------------------------------------ verify */

static const enum jg_alg every_alg[] = {
	JG_ALG_HS256, JG_ALG_HS384, JG_ALG_HS512,
	JG_ALG_RS256, JG_ALG_RS384, JG_ALG_RS512,
	JG_ALG_PS256, JG_ALG_PS384, JG_ALG_PS512,
	JG_ALG_ES256, JG_ALG_ES384, JG_ALG_ES512,
	JG_ALG_EDDSA
};
#define EVERY_ALG_COUNT (sizeof(every_alg) / sizeof(every_alg[0]))

static int
jws_verify(int argc, char **argv)
{
	const char *key_path = NULL, *why = NULL;
	struct jg_jwks *set = NULL;
	struct jg_jws *jws = NULL;
	char *token = NULL;
	size_t token_len = 0;
	enum jg_err err;
	int c, status;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", jws_verify_options, NULL)) != -1) {
		switch (c) {
		case 'h':
			return jg_cli_help(jws_verify_usage);
		case OPT_JWK:
			key_path = optarg;
			break;
		default:
			return jg_cli_option_error("jws verify", c, argv);
		}
	}
	if (key_path == NULL)
		return jg_cli_usage_error("jws verify", "--jwk is required");
	status = token_operand("jws verify", argc, argv, &token, &token_len);
	if (status != JG_EXIT_OK)
		return status;

	status = load_keys(key_path, true, &set);
	if (status != JG_EXIT_OK)
		goto out;
	err = jg_jws_verify(token, token_len, set, every_alg, EVERY_ALG_COUNT,
			    &jws, &why);
	if (err != JG_OK) {
		status = rejected(err, why);
		goto out;
	}
	status = jg_cli_write_stdout(jws->payload, jws->payload_len);
out:
	jg_jws_free(jws);
	jg_jwks_free(set);
	free(token);
	return status;
}

static int
jwt_verify(int argc, char **argv)
{
	const char *path = "jwt verify", *key_path = NULL, *why = NULL;
	struct jg_claims_policy policy;
	enum jg_alg allowed[EVERY_ALG_COUNT];
	size_t nallowed = 0, i;
	struct jg_jwks *set = NULL;
	struct jg_jwt *jwt = NULL;
	char *token = NULL, *text = NULL;
	size_t token_len = 0;
	bool have_now = false;
	enum jg_alg alg;
	enum jg_err err;
	int c, status;

	memset(&policy, 0, sizeof(policy));
	policy.leeway = 60;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", jwt_verify_options, NULL)) != -1) {
		switch (c) {
		case 'h':
			return jg_cli_help(jwt_verify_usage);
		case OPT_JWKS:
		case OPT_KEY:
			if (key_path != NULL)
				return jg_cli_usage_error(path,
							  "give one of --jwks and --key, once");
			key_path = optarg;
			break;
		case OPT_ALG:
			alg = jg_alg_from_name(optarg);
			if (alg == JG_ALG_UNKNOWN)
				return jg_cli_usage_error(path, "unknown algorithm '%s'",
							  optarg);
			for (i = 0; i < nallowed && allowed[i] != alg; i++)
				;
			if (i == nallowed)
				allowed[nallowed++] = alg;
			break;
		case OPT_ISS:
			policy.iss = optarg;
			break;
		case OPT_AUD:
			policy.aud = optarg;
			break;
		case OPT_TYP:
			policy.typ = optarg;
			break;
		case OPT_LEEWAY:
			if (!jg_cli_parse_int64(optarg, 0, MAX_LEEWAY, &policy.leeway))
				return jg_cli_usage_error(path,
							  "--leeway must be a number of seconds from 0 to %lld",
							  (long long)MAX_LEEWAY);
			break;
		case OPT_NOW:
			if (!jg_cli_parse_int64(optarg, 0, MAX_NOW, &policy.now))
				return jg_cli_usage_error(path,
							  "--now must be a number of seconds since 1970, from 0 to %lld",
							  (long long)MAX_NOW);
			have_now = true;
			break;
		default:
			return jg_cli_option_error(path, c, argv);
		}
	}
	if (key_path == NULL)
		return jg_cli_usage_error(path, "--jwks or --key is required");
	status = token_operand(path, argc, argv, &token, &token_len);
	if (status != JG_EXIT_OK)
		return status;
	if (!have_now)
		policy.now = (int64_t)time(NULL);

	status = load_keys(key_path, true, &set);
	if (status != JG_EXIT_OK)
		goto out;
	if (nallowed == 0) {
		memcpy(allowed, every_alg, sizeof(every_alg));
		nallowed = EVERY_ALG_COUNT;
	}
	err = jg_jwt_verify(token, token_len, set, allowed, nallowed, &policy,
			    &jwt, &why);
	if (err != JG_OK) {
		status = rejected(err, why);
		goto out;
	}
	text = jg_json_dump(jwt->claims);
	printf("%s\n", text);
	status = JG_EXIT_OK;
out:
	free(text);
	jg_jwt_free(jwt);
	jg_jwks_free(set);
	free(token);
	return status;
}

/* ------------------------------------------------------------ decode */

static int
jwt_decode(int argc, char **argv)
{
	const char *why = NULL;
	struct json_object *claims = NULL, *result = NULL;
	struct jg_jws *jws = NULL;
	char *token = NULL, *text = NULL;
	size_t token_len = 0;
	enum jg_err err;
	int c, status;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", decode_options, NULL)) != -1) {
		switch (c) {
		case 'h':
			return jg_cli_help(jwt_decode_usage);
		default:
			return jg_cli_option_error("jwt decode", c, argv);
		}
	}
	status = token_operand("jwt decode", argc, argv, &token, &token_len);
	if (status != JG_EXIT_OK)
		return status;

	err = jg_jws_decode(token, token_len, &jws, &why);
	if (err != JG_OK) {
		status = rejected(err, why);
		goto out;
	}
	err = jg_json_parse_object((const char *)jws->payload, jws->payload_len,
				   &claims, &why);
	if (err != JG_OK) {
		jg_cli_error("rejected: the payload is not a JSON object: %s",
			     why != NULL ? why : jg_strerror(err));
		status = JG_EXIT_REJECTED;
		goto out;
	}
	result = json_object_new_object();
	json_object_object_add(result, "header", json_object_get(jg_jws_header(jws)));
	json_object_object_add(result, "claims", claims);
	claims = NULL;
	json_object_object_add(result, "unverified", json_object_new_boolean(1));
	text = jg_json_dump(result);
	printf("%s\n", text);
	jg_cli_error("warning: signature NOT verified");
	status = JG_EXIT_OK;
out:
	free(text);
	json_object_put(result);
	json_object_put(claims);
	jg_jws_free(jws);
	free(token);
	return status;
}

/* ------------------------------------------------------------ tables */

static const struct jg_cli_command jws_commands[] = {
	{ "sign", jws_sign, "sign standard input as a compact JWS" },
	{ "verify", jws_verify, "check a JWS signature and print the payload" },
	{ NULL, NULL, NULL }
};

static const struct jg_cli_command jwt_commands[] = {
	{ "sign", jwt_sign, "sign a JSON claims object from standard input" },
	{ "verify", jwt_verify, "check signature and claims, print the claims" },
	{ "decode", jwt_decode, "print header and claims WITHOUT verifying" },
	{ NULL, NULL, NULL }
};

int
jg_cmd_jws(int argc, char **argv)
{
	return jg_cli_dispatch("jws", jws_commands, argc, argv);
}

int
jg_cmd_jwt(int argc, char **argv)
{
	return jg_cli_dispatch("jwt", jwt_commands, argc, argv);
}
