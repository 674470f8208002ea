/* jose_export.c: writes the keys and tokens that every JOSE peer of
 * `make bench` (libjwt, the jose npm package, PyJWT) signs and verifies,
 * made with jwtgate's library: for each of HS256 RS256 PS256 ES256 EdDSA,
 * DIR/ALG.token (an RFC 9068 access token: header alg, kid and typ at+jwt,
 * the same claims as bench/jws), DIR/ALG.jwk (private JWK), DIR/ALG.pem and
 * DIR/ALG.pub.pem (PKCS#8 and SubjectPublicKeyInfo; none for HS256), and
 * DIR/HS256.key (the raw secret).  libjwt 1.x refuses any typ but "JWT",
 * so DIR/ALG.jwt.token is the same token with typ JWT, for libjwt only.  DIR/claims.json holds the claims, the
 * payload the signers sign. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "claims.h"
#include "json.h"
#include "jwk.h"
#include "util.h"

static const char claims_text[] =
	"{\"iss\":\"https://auth.example.com\","
	"\"sub\":\"248289761001\","
	"\"aud\":\"https://api.example.com\","
	"\"client_id\":\"s6BhdRkqt3\","
	"\"scope\":\"openid profile email orders:read orders:write\","
	"\"iat\":1699999990,\"nbf\":1699999990,\"exp\":4102444800,"
	"\"auth_time\":1699999930,"
	"\"jti\":\"dGhpcyBpcyBhIHJhbmRvbSBqdGkgdmFsdWU\","
	"\"amr\":[\"pwd\",\"otp\"],"
	"\"sid\":\"08a5019c-17e1-4977-8f42-65a12843ea02\"}";

static void
put(const char *dir, const char *alg, const char *ext, const void *data, size_t len)
{
	char *path = jg_xasprintf("%s/%s%s", dir, alg, ext);
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "bench/jose_export: cannot write %s\n", path);
		exit(1);
	}
	free(path);
}

int
main(int argc, char **argv)
{
	static const enum jg_alg algs[] = { JG_ALG_HS256, JG_ALG_RS256, JG_ALG_PS256,
					    JG_ALG_ES256, JG_ALG_EDDSA };
	struct json_object *claims = NULL, *o;
	struct jg_jwk *key;
	char *text, *token;
	size_t i;

	if (argc != 2) {
		fputs("usage: bench/jose_export DIR\n", stderr);
		return 2;
	}
	if (jg_json_parse_object(claims_text, sizeof(claims_text) - 1, &claims, NULL) != JG_OK)
		return 1;
	put(argv[1], "claims", ".json", claims_text, sizeof(claims_text) - 1);
	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		const char *name = jg_alg_name(algs[i]);

		if (jg_jwk_generate(algs[i], 0, &key) != JG_OK)
			return 1;
		key->kid = jg_xasprintf("bench-%s", name);
		if (jg_jwt_sign(key, algs[i], JG_TYP_ACCESS, claims, &token) != JG_OK)
			return 1;
		put(argv[1], name, ".token", token, strlen(token));
		free(token);
		if (jg_jwt_sign(key, algs[i], "JWT", claims, &token) != JG_OK)
			return 1;
		put(argv[1], name, ".jwt.token", token, strlen(token));
		free(token);
		o = jg_jwk_to_json(key, true);
		text = jg_json_dump(o);
		put(argv[1], name, ".jwk", text, strlen(text));
		free(text);
		json_object_put(o);
		if (algs[i] == JG_ALG_HS256) {
			put(argv[1], name, ".key", key->secret, key->secret_len);
		} else {
			if (jg_jwk_to_pem(key, true, &text) != JG_OK)
				return 1;
			put(argv[1], name, ".pem", text, strlen(text));
			free(text);
			if (jg_jwk_to_pem(key, false, &text) != JG_OK)
				return 1;
			put(argv[1], name, ".pub.pem", text, strlen(text));
			free(text);
		}
		jg_jwk_free(key);
	}
	json_object_put(claims);
	return 0;
}
