/* test_wycheproof.c: jg_jws_verify_raw against the Wycheproof vectors
 * (https://github.com/C2SP/wycheproof, files in $JG_WYCHEPROOF_DIR). */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "b64url.h"
#include "json.h"
#include "jwk.h"
#include "jws.h"

enum kind {
	KIND_ECDSA,	/* EcdsaP1363Verify: publicKeyJwk, else publicKeyPem */
	KIND_RSA,	/* RsassaPkcs1Verify: publicKeyPem */
	KIND_PSS,	/* RsassaPssVerify: publicKeyPem */
	KIND_EDDSA,	/* EddsaVerify: publicKeyJwk */
	KIND_HMAC	/* MacTest: an oct JWK built from the hex key */
};

/* Every file must be present: a missing one fails the suite.
 * accept_acceptable is the decision for "acceptable" vectors. */
struct vfile {
	const char *name;
	enum kind kind;
	enum jg_alg alg;
	bool accept_acceptable;
};

/* "acceptable" decisions: the only acceptable vectors in these files are
 * the RSASSA-PKCS1-v1_5 "MissingNull" ones (DigestInfo without the NULL
 * parameters, rsa_signature_* tcId 8).  RFC 8017 9.2 encodes the NULL and
 * GnuTLS compares against that encoding, so jwtgate refuses them. */
static const struct vfile files[] = {
	{ "ecdsa_secp256r1_sha256_p1363_test.json", KIND_ECDSA, JG_ALG_ES256, false },
	{ "ecdsa_secp384r1_sha384_p1363_test.json", KIND_ECDSA, JG_ALG_ES384, false },
	{ "ecdsa_secp521r1_sha512_p1363_test.json", KIND_ECDSA, JG_ALG_ES512, false },
	{ "rsa_signature_2048_sha256_test.json", KIND_RSA, JG_ALG_RS256, false },
	{ "rsa_signature_2048_sha384_test.json", KIND_RSA, JG_ALG_RS384, false },
	{ "rsa_signature_2048_sha512_test.json", KIND_RSA, JG_ALG_RS512, false },
	{ "rsa_signature_3072_sha256_test.json", KIND_RSA, JG_ALG_RS256, false },
	{ "rsa_pss_2048_sha256_mgf1_32_test.json", KIND_PSS, JG_ALG_PS256, false },
	{ "ed25519_test.json", KIND_EDDSA, JG_ALG_EDDSA, false },
	{ "hmac_sha256_test.json", KIND_HMAC, JG_ALG_HS256, false },
	{ "hmac_sha384_test.json", KIND_HMAC, JG_ALG_HS384, false },
	{ "hmac_sha512_test.json", KIND_HMAC, JG_ALG_HS512, false },
};

/* Vectors where jwtgate's answer differs from Wycheproof's, each with the
 * reason.  The test fails if one of these does not behave as listed. */
struct exception {
	const char *file;
	int tc_id;
	bool accepted;		/* jwtgate's answer */
	const char *reason;
};

static const struct exception exceptions[] = {
	/* "point duplication during verification" (flag PointDuplication):
	 * u1*G and u2*Q are the same point, so the final sum is a doubling.
	 * Nettle 3.8.1 (under GnuTLS 3.7.9) adds the two points with a
	 * formula that does not handle doubling and refuses the valid
	 * signature; checked against gnutls_pubkey_verify_data2 directly.
	 * Refusing a valid signature is safe; the signer would have had to
	 * choose this nonce on purpose. */
	{ "ecdsa_secp256r1_sha256_p1363_test.json", 204, false,
	  "nettle ECDSA verify does not handle point doubling" },
	{ "ecdsa_secp384r1_sha384_p1363_test.json", 228, false,
	  "nettle ECDSA verify does not handle point doubling" },
	{ "ecdsa_secp521r1_sha512_p1363_test.json", 269, false,
	  "nettle ECDSA verify does not handle point doubling" },
	{ NULL, 0, false, NULL }
};

/* Vectors that Wycheproof marks "valid" or "acceptable" and jwtgate
 * refuses by a rule of its own, each listed with its tcIds (inclusive
 * ranges) and the reason.  The test fails unless the vectors the rule
 * refuses are exactly these (every listed tcId met, refused, and no other). */
struct by_rule {
	const char *file;
	int first, last;
	const char *reason;
};

#define HMAC_SHORT_TAG "valid, refused: the tag is truncated below the hash" \
	" size, and a JWS HMAC signature is the full tag (RFC 7518 section 3.2)"
#define HMAC_SHORT_KEY "valid, refused: the key is shorter than the hash" \
	" output (RFC 7518 section 3.2; SPEC.md JOSE rules)"
#define RSA_MISSING_NULL "acceptable (MissingNull), refused: DigestInfo" \
	" without the NULL parameters; RFC 8017 section 9.2 encodes the NULL" \
	" and GnuTLS compares against that encoding"
/* Groups of the HMAC files (the same tcIds in all three): 82-162 tag of
 * half the hash size, 163-165 key of half the hash size, 166-168 both,
 * 172-174 a 520-bit key with a half-size tag. */
#define HMAC_RULES(f) \
	{ f, 82, 108, HMAC_SHORT_TAG }, \
	{ f, 163, 168, HMAC_SHORT_KEY }, \
	{ f, 172, 174, HMAC_SHORT_TAG }

static const struct by_rule by_rules[] = {
	{ "rsa_signature_2048_sha256_test.json", 8, 8, RSA_MISSING_NULL },
	{ "rsa_signature_2048_sha384_test.json", 8, 8, RSA_MISSING_NULL },
	{ "rsa_signature_2048_sha512_test.json", 8, 8, RSA_MISSING_NULL },
	{ "rsa_signature_3072_sha256_test.json", 8, 8, RSA_MISSING_NULL },
	HMAC_RULES("hmac_sha256_test.json"),
	HMAC_RULES("hmac_sha384_test.json"),
	HMAC_RULES("hmac_sha512_test.json"),
	{ NULL, 0, 0, NULL }
};

static const struct by_rule *
find_by_rule(const char *file, int tc_id)
{
	size_t i;

	for (i = 0; by_rules[i].file != NULL; i++)
		if (strcmp(by_rules[i].file, file) == 0 &&
		    tc_id >= by_rules[i].first && tc_id <= by_rules[i].last)
			return &by_rules[i];
	return NULL;
}

/* How many tcIds by_rules lists for file. */
static unsigned
by_rule_count(const char *file)
{
	unsigned n = 0;
	size_t i;

	for (i = 0; by_rules[i].file != NULL; i++)
		if (strcmp(by_rules[i].file, file) == 0)
			n += (unsigned)(by_rules[i].last - by_rules[i].first + 1);
	return n;
}

struct counts {
	unsigned run;
	unsigned by_rule;		/* refused by a rule, listed in by_rules[] */
	unsigned unlisted;		/* refused by a rule, not listed: each fails */
	unsigned accepted;		/* Wycheproof valid (or acceptable) */
	unsigned refused;		/* Wycheproof invalid (or acceptable) */
	unsigned acceptable;		/* of which "acceptable" */
	unsigned short_tag;		/* valid, refused: tag shorter than hash */
	unsigned short_key;		/* valid, refused: key shorter than hash */
	unsigned excepted;		/* listed in exceptions[] */
	unsigned wrong;			/* disagreements: each one fails */
};

static const struct exception *
find_exception(const char *file, int tc_id)
{
	size_t i;

	for (i = 0; exceptions[i].file != NULL; i++)
		if (strcmp(exceptions[i].file, file) == 0 &&
		    exceptions[i].tc_id == tc_id)
			return &exceptions[i];
	return NULL;
}

static const char *
str_member(struct json_object *obj, const char *name)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int
int_member(struct json_object *obj, const char *name)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, name, &v) ||
	    !json_object_is_type(v, json_type_int))
		return -1;
	return json_object_get_int(v);
}

/* Imports the group's public key, or returns NULL with why set. */
static struct jg_jwk *
group_key(const struct vfile *vf, struct json_object *group, const char **why)
{
	struct json_object *jwk;
	struct jg_jwk *key = NULL;
	const char *pem;
	enum jg_err err;

	*why = NULL;
	if ((vf->kind == KIND_ECDSA || vf->kind == KIND_EDDSA) &&
	    json_object_object_get_ex(group, "publicKeyJwk", &jwk)) {
		err = jg_jwk_from_json(jwk, &key, why);
	} else {
		pem = str_member(group, "publicKeyPem");
		CU_ASSERT_FATAL(pem != NULL);
		err = jg_jwk_from_pem(pem, strlen(pem), &key, why);
	}
	return err == JG_OK ? key : NULL;
}

/* Builds an oct JWK for a Wycheproof HMAC key given in hex. */
static struct jg_jwk *
hmac_key(const char *hex, const char **why)
{
	size_t len;
	unsigned char *raw = jg_test_unhex(hex, &len);
	char *k = jg_b64url_encode(raw, len);
	struct json_object *obj = json_object_new_object();
	struct jg_jwk *key = NULL;

	json_object_object_add(obj, "kty", json_object_new_string("oct"));
	json_object_object_add(obj, "k", json_object_new_string(k));
	*why = NULL;
	if (jg_jwk_from_json(obj, &key, why) != JG_OK)
		key = NULL;
	json_object_put(obj);
	free(k);
	free(raw);
	return key;
}

static void
run_file(const struct vfile *vf)
{
	const char *dir = getenv("JG_WYCHEPROOF_DIR");
	struct json_object *root, *groups, *tests;
	struct counts c;
	char *path;
	size_t g, t, ngroups, ntests;
	size_t hash_bits = jg_alg_hash_len(vf->alg) * 8;
	int number_of_tests;

	memset(&c, 0, sizeof(c));
	if (dir == NULL || *dir == '\0') {
		fprintf(stderr, "JG_WYCHEPROOF_DIR is not set\n");
		CU_FAIL_FATAL("JG_WYCHEPROOF_DIR is not set");
		return;
	}
	path = jg_xasprintf("%s/%s", dir, vf->name);
	if (access(path, R_OK) != 0) {
		fprintf(stderr, "missing Wycheproof file %s\n", path);
		free(path);
		CU_FAIL_FATAL("missing Wycheproof file");
		return;
	}
	root = jg_test_load_json(path);
	free(path);
	number_of_tests = int_member(root, "numberOfTests");
	CU_ASSERT_FATAL(number_of_tests > 0);
	CU_ASSERT_FATAL(json_object_object_get_ex(root, "testGroups", &groups));
	ngroups = json_object_array_length(groups);
	CU_ASSERT_FATAL(ngroups > 0);

	for (g = 0; g < ngroups; g++) {
		struct json_object *group = json_object_array_get_idx(groups, g);
		struct jg_jwk *key = NULL;
		const char *key_why = NULL;
		bool short_tag = false;
		int tag_bits = -1, key_bits = -1;

		CU_ASSERT_FATAL(json_object_object_get_ex(group, "tests", &tests));
		if (vf->kind == KIND_HMAC) {
			tag_bits = int_member(group, "tagSize");
			key_bits = int_member(group, "keySize");
			CU_ASSERT_FATAL(tag_bits > 0 && key_bits > 0);
			/* A JWS HMAC signature is the full tag (RFC 7518
			 * 3.2): truncated-tag groups are refused. */
			short_tag = (size_t)tag_bits < hash_bits;
		} else {
			key = group_key(vf, group, &key_why);
			if (key == NULL)
				fprintf(stderr, "%s group %zu: key refused: %s\n",
					vf->name, g, key_why ? key_why : "?");
			CU_ASSERT(key != NULL);
		}
		ntests = json_object_array_length(tests);
		for (t = 0; t < ntests; t++) {
			struct json_object *tc = json_object_array_get_idx(tests, t);
			const char *result = str_member(tc, "result");
			const char *msg_hex = str_member(tc, "msg");
			const char *sig_hex = str_member(tc, vf->kind == KIND_HMAC ?
							 "tag" : "sig");
			const char *comment = str_member(tc, "comment");
			const struct exception *ex;
			bool ruled = false;
			int tc_id = int_member(tc, "tcId");
			unsigned char *msg, *sig;
			size_t msglen, siglen;
			bool expect, got, short_key = false;

			if (vf->kind == KIND_HMAC) {
				key = hmac_key(str_member(tc, "key"), &key_why);
				short_key = (size_t)key_bits < hash_bits;
				/* Keys shorter than the hash output are refused
				 * by jg_jwk_usable (SPEC: "HMAC keys shorter
				 * than the hash output are refused"); all
				 * others must import. */
				if (short_key) {
					CU_ASSERT(key == NULL ||
						  !jg_jwk_usable(key, vf->alg,
								 JG_KEYOP_VERIFY));
				} else if (key == NULL) {
					fprintf(stderr, "%s tcId %d: key refused: %s\n",
						vf->name, tc_id,
						key_why ? key_why : "?");
				}
				CU_ASSERT(short_key || key != NULL);
			}
			CU_ASSERT_FATAL(result && msg_hex && sig_hex && tc_id > 0);
			msg = jg_test_unhex(msg_hex, &msglen);
			sig = jg_test_unhex(sig_hex, &siglen);
			c.run++;

			if (strcmp(result, "valid") == 0)
				expect = true;
			else if (strcmp(result, "invalid") == 0)
				expect = false;
			else {
				CU_ASSERT_FATAL(strcmp(result, "acceptable") == 0);
				c.acceptable++;
				expect = vf->accept_acceptable;
				ruled = !expect;
			}
			/* Valid HMAC vectors jwtgate refuses by rule: a
			 * short key (jg_jwk_usable), else a truncated tag
			 * (jg_jws_verify_raw, RFC 7518 3.2). */
			if (vf->kind == KIND_HMAC && expect && short_key) {
				c.short_key++;
				expect = false;
				ruled = true;
			} else if (vf->kind == KIND_HMAC && expect && short_tag) {
				c.short_tag++;
				expect = false;
				ruled = true;
			}
			/* A refusal by rule must be listed, and only those are. */
			if (ruled != (find_by_rule(vf->name, tc_id) != NULL)) {
				c.unlisted++;
				fprintf(stderr, "%s tcId %d (%s): %s by rule, but"
					" by_rules[] says otherwise\n", vf->name,
					tc_id, result, ruled ? "refused" : "not refused");
			} else if (ruled) {
				c.by_rule++;
			}
			ex = find_exception(vf->name, tc_id);
			if (ex != NULL) {
				expect = ex->accepted;
				c.excepted++;
			}

			got = key != NULL &&
			      jg_jws_verify_raw(key, vf->alg, msg, msglen, sig,
						siglen) == JG_OK;
			if (got != expect) {
				c.wrong++;
				fprintf(stderr, "%s tcId %d (%s, %s): %s\n",
					vf->name, tc_id, result,
					comment ? comment : "",
					got ? "accepted" : "refused");
			} else if (got) {
				c.accepted++;
			} else {
				c.refused++;
			}

			/* A refused truncated tag must be a prefix of the
			 * full tag jwtgate computes, so the refusal is about
			 * the length only. */
			if (vf->kind == KIND_HMAC && short_tag && key != NULL &&
			    !short_key && strcmp(result, "valid") == 0) {
				unsigned char *full = NULL;
				size_t fulllen = 0;

				CU_ASSERT(jg_jws_sign_raw(key, vf->alg, msg, msglen,
							  &full, &fulllen) == JG_OK);
				CU_ASSERT(fulllen == hash_bits / 8 &&
					  siglen < fulllen &&
					  memcmp(full, sig, siglen) == 0);
				free(full);
			}
			free(msg);
			free(sig);
			if (vf->kind == KIND_HMAC) {
				jg_jwk_free(key);
				key = NULL;
			}
		}
		jg_jwk_free(key);
	}

	printf("\n    %s: %u tests (numberOfTests %d): %u accepted, %u refused "
	       "(%u acceptable, %u valid with a truncated tag, %u valid with a "
	       "key shorter than the hash; %u refused by a listed rule), "
	       "%u listed exceptions, %u wrong\n",
	       vf->name, c.run, number_of_tests, c.accepted, c.refused,
	       c.acceptable, c.short_tag, c.short_key, c.by_rule, c.excepted,
	       c.wrong);
	CU_ASSERT(c.run == (unsigned)number_of_tests);
	/* Every tcId by_rules[] lists for this file was met and refused. */
	CU_ASSERT(c.unlisted == 0);
	CU_ASSERT(c.by_rule == by_rule_count(vf->name));
	/* Every exception listed for this file was met. */
	{
		unsigned listed = 0;
		size_t i;

		for (i = 0; exceptions[i].file != NULL; i++)
			if (strcmp(exceptions[i].file, vf->name) == 0)
				listed++;
		CU_ASSERT(c.excepted == listed);
	}
	CU_ASSERT(c.wrong == 0);
	CU_ASSERT(c.accepted + c.refused == c.run);
	json_object_put(root);
}

#define FILE_TEST(n) static void test_file_##n(void) { run_file(&files[n]); }
FILE_TEST(0)
FILE_TEST(1)
FILE_TEST(2)
FILE_TEST(3)
FILE_TEST(4)
FILE_TEST(5)
FILE_TEST(6)
FILE_TEST(7)
FILE_TEST(8)
FILE_TEST(9)
FILE_TEST(10)
FILE_TEST(11)

/* Each exception names a file of the table and a vector the test meets. */
static void
test_exception_table(void)
{
	size_t i, j;

	for (i = 0; exceptions[i].file != NULL; i++) {
		bool known = false;

		for (j = 0; j < sizeof(files) / sizeof(files[0]); j++)
			if (strcmp(files[j].name, exceptions[i].file) == 0)
				known = true;
		CU_ASSERT(known);
		CU_ASSERT(exceptions[i].reason != NULL);
	}
	for (i = 0; by_rules[i].file != NULL; i++) {
		bool known = false;

		for (j = 0; j < sizeof(files) / sizeof(files[0]); j++)
			if (strcmp(files[j].name, by_rules[i].file) == 0)
				known = true;
		CU_ASSERT(known);
		CU_ASSERT(by_rules[i].reason != NULL);
		CU_ASSERT(by_rules[i].first > 0 && by_rules[i].first <= by_rules[i].last);
	}
	CU_ASSERT(sizeof(files) / sizeof(files[0]) == 12);
}

/* Every vector file in the folder is in files[], so none is left out. */
static void
test_every_file(void)
{
	const char *dir = getenv("JG_WYCHEPROOF_DIR");
	struct dirent *e;
	unsigned seen = 0;
	size_t j, len;
	DIR *d;

	CU_ASSERT_FATAL(dir != NULL && *dir != '\0');
	d = opendir(dir);
	if (d == NULL)
		fprintf(stderr, "cannot open %s\n", dir);
	CU_ASSERT_FATAL(d != NULL);
	while ((e = readdir(d)) != NULL) {
		bool known = false;

		len = strlen(e->d_name);
		if (len < 10 || strcmp(e->d_name + len - 10, "_test.json") != 0)
			continue;
		seen++;
		for (j = 0; j < sizeof(files) / sizeof(files[0]); j++)
			if (strcmp(files[j].name, e->d_name) == 0)
				known = true;
		if (!known)
			fprintf(stderr, "%s/%s is not in the test's table\n", dir,
				e->d_name);
		CU_ASSERT(known);
	}
	closedir(d);
	CU_ASSERT(seen == sizeof(files) / sizeof(files[0]));
}

static const struct jg_test tests[] = {
	{ "ecdsa_secp256r1_sha256_p1363 (ES256)", test_file_0 },
	{ "ecdsa_secp384r1_sha384_p1363 (ES384)", test_file_1 },
	{ "ecdsa_secp521r1_sha512_p1363 (ES512)", test_file_2 },
	{ "rsa_signature_2048_sha256 (RS256)", test_file_3 },
	{ "rsa_signature_2048_sha384 (RS384)", test_file_4 },
	{ "rsa_signature_2048_sha512 (RS512)", test_file_5 },
	{ "rsa_signature_3072_sha256 (RS256)", test_file_6 },
	{ "rsa_pss_2048_sha256_mgf1_32 (PS256)", test_file_7 },
	{ "ed25519 (EdDSA)", test_file_8 },
	{ "hmac_sha256 (HS256)", test_file_9 },
	{ "hmac_sha384 (HS384)", test_file_10 },
	{ "hmac_sha512 (HS512)", test_file_11 },
	{ "exception table", test_exception_table },
	{ "every vector file of the folder is run", test_every_file },
	{ NULL, NULL }
};

int
main(void)
{
	return jg_test_main("wycheproof", tests);
}
