/* fuzz_jwk.c: libFuzzer harness for key import (common/jwk.c): the same
 * input as a JWK (jg_jwk_parse), a JWK Set (jg_jwks_parse) and a PEM key
 * (jg_jwk_from_pem).  Every imported key is exported again (jg_jwk_to_json,
 * public and private), re-imported, and must have the same RFC 7638
 * thumbprint; its public part too. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "jwk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
roundtrip(const struct jg_jwk *key)
{
	struct json_object *obj;
	struct jg_jwk *again = NULL, *pub;
	char *tp1 = NULL, *tp2 = NULL, *tp3 = NULL;
	const char *why = NULL;

	if (jg_jwk_thumbprint(key, &tp1) != JG_OK)
		abort();
	obj = jg_jwk_to_json(key, true);
	if (obj == NULL || jg_jwk_from_json(obj, &again, &why) != JG_OK) {
		fprintf(stderr, "exported key does not import again: %s\n",
			why ? why : "?");
		abort();
	}
	if (jg_jwk_thumbprint(again, &tp2) != JG_OK || strcmp(tp1, tp2) != 0)
		abort();
	pub = jg_jwk_public(key);
	if (pub == NULL || jg_jwk_thumbprint(pub, &tp3) != JG_OK ||
	    strcmp(tp1, tp3) != 0)
		abort();
	(void)jg_jwk_usable(key, JG_ALG_ES256, JG_KEYOP_VERIFY);
	(void)jg_jwk_usable(key, JG_ALG_HS256, JG_KEYOP_SIGN);
	json_object_put(obj);
	jg_jwk_free(again);
	jg_jwk_free(pub);
	free(tp1);
	free(tp2);
	free(tp3);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct jg_jwk *key = NULL;
	struct jg_jwks *set = NULL;
	struct json_object *obj;
	const char *why = NULL;
	size_t i;

	if (jg_jwk_parse(s, size, &key, &why) == JG_OK) {
		roundtrip(key);
		jg_jwk_free(key);
		key = NULL;
	} else if (why == NULL) {
		abort();
	}
	if (jg_jwks_parse(s, size, &set, &why) == JG_OK) {
		for (i = 0; i < set->count; i++)
			roundtrip(set->keys[i]);
		obj = jg_jwks_to_json(set, false);
		json_object_put(obj);
		jg_jwks_free(set);
	}
	if (jg_jwk_from_pem(s, size, &key, &why) == JG_OK) {
		char *pem = NULL;

		roundtrip(key);
		if (jg_jwk_to_pem(key, false, &pem) == JG_OK)
			free(pem);
		jg_jwk_free(key);
	}
	return 0;
}
