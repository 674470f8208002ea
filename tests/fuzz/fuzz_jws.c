/* fuzz_jws.c: libFuzzer harness for compact JWS decoding and verification
 * (jg_jws_decode, jg_jws_verify in common/jws.c) with a fixed key set of
 * every type jwtgate supports: RSA (RS/PS), EC P-256, P-384, P-521,
 * Ed25519 and oct (HS256, HS512), loaded from tests/fuzz/keys/ (test keys,
 * made with "jwtgate key generate", never used anywhere else).  The seed
 * tokens in corpus/fuzz_jws were signed with these keys, so mutations reach
 * the signature checks.  A token that verifies must decode to the same
 * header and payload, and be refused once its algorithm is not allowed. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

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

	err = jg_jws_decode(s, size, &dec, &why);
	if (err != JG_OK && why == NULL)
		abort();
	err = jg_jws_verify(s, size, keys, all, sizeof(all) / sizeof(all[0]),
			    &ver, &why);
	if (err == JG_OK) {
		if (dec == NULL || ver->key == NULL || ver->alg != dec->alg ||
		    ver->payload_len != dec->payload_len ||
		    memcmp(ver->payload, dec->payload, dec->payload_len) != 0 ||
		    !json_object_equal(ver->header, dec->header) ||
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
	jg_jws_free(again);
	jg_jws_free(ver);
	jg_jws_free(dec);
	return 0;
}
