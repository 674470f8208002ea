/* test_keyring.c: unit tests of common/keyring (the signing-key ring, its
 * rotation and retirement, and the published JWKS and discovery document). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "conf.h"
#include "json.h"
#include "jwk.h"
#include "jws.h"
#include "keyring.h"
#include "util.h"

/* The fixed clock of these tests. */
#define T0 1700000000
#define T0S "1700000000"
/* What jwtgate's retire window is made of in these tests: an access-token
 * lifetime of 600 s plus a leeway of 60 s. */
#define MAX_AGE 660

#define ISSUER "https://id.example.org/idp"

/* A scratch instance: folder, configuration (loaded from a file written by
 * jg_config_write_template, as `jwtgate init` does) and key folder. */
struct instance {
	char dir[64];
	char *key_dir;
	struct jg_config *config;
};

static void
instance_open(struct instance *in)
{
	const char *base = getenv("TMPDIR");
	char *path, *errmsg = NULL;
	FILE *f;

	memset(in, 0, sizeof(*in));
	snprintf(in->dir, sizeof(in->dir), "%s/jg-keyring-XXXXXX",
		 base && *base && strlen(base) < 40 ? base : "/tmp");
	if (mkdtemp(in->dir) == NULL) {
		perror("mkdtemp");
		abort();
	}
	path = jg_xasprintf("%s/jwtgate.conf", in->dir);
	f = fopen(path, "w");
	if (f == NULL || jg_config_write_template(f, ISSUER, in->dir) != JG_OK ||
	    fclose(f) != 0) {
		perror(path);
		abort();
	}
	if (jg_config_load(path, &in->config, &errmsg) != JG_OK) {
		fprintf(stderr, "test bug: %s\n", errmsg);
		abort();
	}
	free(path);
	in->key_dir = jg_xstrdup(in->config->key_dir);
	if (mkdir(in->key_dir, 0700) != 0) {
		perror(in->key_dir);
		abort();
	}
}

static void
instance_close(struct instance *in)
{
	char *cmd = jg_xasprintf("rm -rf '%s'", in->dir);

	if (system(cmd) != 0)
		fprintf(stderr, "warning: cannot remove %s\n", in->dir);
	free(cmd);
	jg_config_free(in->config);
	free(in->key_dir);
}

static char *
key_file(const struct instance *in, const char *kid)
{
	return jg_xasprintf("%s/%s.pem", in->key_dir, kid);
}

static bool
exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static unsigned
file_mode(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return 0;
	return (unsigned)(st.st_mode & 07777);
}

/* Loads the ring of in from disk; fails the test when it does not load. */
static struct jg_keyring *
reload(const struct instance *in)
{
	struct jg_keyring *ring = NULL;
	char *errmsg = NULL;
	enum jg_err err;

	err = jg_keyring_load(in->key_dir, &ring, &errmsg);
	CU_ASSERT_EQUAL(err, JG_OK);
	if (err != JG_OK)
		fprintf(stderr, "\n  load: %s\n", errmsg);
	free(errmsg);
	return ring;
}

/* ------------------------------------------------------------ names */

static void
test_names(void)
{
	enum jg_key_purpose p;

	CU_ASSERT_STRING_EQUAL(jg_key_purpose_name(JG_KEY_ACCESS), "access");
	CU_ASSERT_STRING_EQUAL(jg_key_purpose_name(JG_KEY_ID), "id");
	CU_ASSERT_PTR_NULL(jg_key_purpose_name(JG_KEY_PURPOSE_COUNT));
	CU_ASSERT_TRUE(jg_key_purpose_from_name("access", &p) && p == JG_KEY_ACCESS);
	CU_ASSERT_TRUE(jg_key_purpose_from_name("id", &p) && p == JG_KEY_ID);
	CU_ASSERT_FALSE(jg_key_purpose_from_name("ID", &p));
	CU_ASSERT_FALSE(jg_key_purpose_from_name("", &p));
	CU_ASSERT_FALSE(jg_key_purpose_from_name(NULL, &p));
	CU_ASSERT_STRING_EQUAL(jg_key_state_name(JG_KEY_NEXT), "next");
	CU_ASSERT_STRING_EQUAL(jg_key_state_name(JG_KEY_CURRENT), "current");
	CU_ASSERT_STRING_EQUAL(jg_key_state_name(JG_KEY_PREVIOUS), "previous");
	CU_ASSERT_FALSE(jg_keyring_alg_supported(JG_ALG_UNKNOWN));
	CU_ASSERT_FALSE(jg_keyring_alg_supported(JG_ALG_HS256));
	CU_ASSERT_FALSE(jg_keyring_alg_supported(JG_ALG_HS512));
	CU_ASSERT_TRUE(jg_keyring_alg_supported(JG_ALG_RS256));
	CU_ASSERT_TRUE(jg_keyring_alg_supported(JG_ALG_PS512));
	CU_ASSERT_TRUE(jg_keyring_alg_supported(JG_ALG_ES256));
	CU_ASSERT_TRUE(jg_keyring_alg_supported(JG_ALG_EDDSA));
	CU_ASSERT_FALSE(jg_keyring_alg_supported(JG_ALG_COUNT));
}

/* ------------------------------------------------------------ generate, rotate */

static void
test_missing_index(void)
{
	struct jg_keyring *ring = NULL;
	struct instance in;
	char *errmsg = NULL;

	instance_open(&in);
	CU_ASSERT_EQUAL(jg_keyring_load(in.key_dir, &ring, &errmsg), JG_ERR_NOT_FOUND);
	CU_ASSERT_PTR_NULL(ring);
	CU_ASSERT_PTR_NOT_NULL(errmsg);
	if (errmsg)
		CU_ASSERT_PTR_NOT_NULL(strstr(errmsg, "keyring.json"));
	free(errmsg);

	/* A new ring is empty and writes nothing. */
	ring = jg_keyring_new(in.key_dir);
	CU_ASSERT_EQUAL(ring->count, 0);
	CU_ASSERT_EQUAL(jg_keyring_public_set(ring)->count, 0);
	CU_ASSERT_PTR_NULL(jg_keyring_current(ring, JG_KEY_ACCESS));
	CU_ASSERT_PTR_NULL(jg_keyring_current(ring, JG_KEY_ID));
	CU_ASSERT_PTR_NULL(jg_keyring_find(ring, "x"));
	{
		char *path = jg_xasprintf("%s/keyring.json", in.key_dir);

		CU_ASSERT_FALSE(exists(path));
		free(path);
	}
	jg_keyring_free(ring);
	jg_keyring_free(NULL);
	instance_close(&in);
}

static void
test_generate_and_rotate(void)
{
	struct jg_keyring *ring, *disk;
	const struct jg_keyring_key *k;
	const char *kid = NULL, *kid2 = NULL;
	char *first = NULL, *second = NULL, *path, *errmsg = NULL;
	struct instance in;

	instance_open(&in);
	ring = jg_keyring_new(in.key_dir);

	/* A next key is published but does not sign. */
	CU_ASSERT_EQUAL(jg_keyring_generate(ring, JG_ALG_ES256, JG_KEY_ACCESS, T0,
					    &kid, &errmsg), JG_OK);
	CU_ASSERT_PTR_NULL(errmsg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(kid);
	first = jg_xstrdup(kid);
	CU_ASSERT_EQUAL(strlen(first), 43);
	k = jg_keyring_find(ring, first);
	CU_ASSERT_PTR_NOT_NULL_FATAL(k);
	CU_ASSERT_EQUAL(k->alg, JG_ALG_ES256);
	CU_ASSERT_EQUAL(k->purpose, JG_KEY_ACCESS);
	CU_ASSERT_EQUAL(k->state, JG_KEY_NEXT);
	CU_ASSERT_EQUAL(k->created, T0);
	CU_ASSERT_EQUAL(k->rotated_at, 0);
	CU_ASSERT_PTR_NULL(k->priv);
	CU_ASSERT_EQUAL(k->pub->alg, JG_ALG_ES256);
	CU_ASSERT_PTR_NULL(jg_keyring_current(ring, JG_KEY_ACCESS));
	CU_ASSERT_EQUAL(jg_keyring_public_set(ring)->count, 1);
	path = key_file(&in, first);
	CU_ASSERT_EQUAL(file_mode(path), 0600);
	free(path);
	path = jg_xasprintf("%s/keyring.json", in.key_dir);
	CU_ASSERT_EQUAL(file_mode(path), 0600);
	free(path);

	/* Rotation promotes that next key (rather than making a new one). */
	CU_ASSERT_EQUAL(jg_keyring_rotate(ring, JG_KEY_ACCESS, JG_ALG_UNKNOWN,
					  JG_ALG_EDDSA, T0 + 100, &kid, &errmsg), JG_OK);
	CU_ASSERT_STRING_EQUAL(kid, first);
	k = jg_keyring_find(ring, first);
	CU_ASSERT_EQUAL(k->state, JG_KEY_CURRENT);
	CU_ASSERT_EQUAL(k->rotated_at, T0 + 100);
	CU_ASSERT_PTR_NOT_NULL(jg_keyring_current(ring, JG_KEY_ACCESS));
	CU_ASSERT_PTR_EQUAL(jg_keyring_current(ring, JG_KEY_ACCESS), k->priv);
	CU_ASSERT_EQUAL(jg_keyring_current(ring, JG_KEY_ACCESS)->alg, JG_ALG_ES256);
	CU_ASSERT_STRING_EQUAL(jg_keyring_current(ring, JG_KEY_ACCESS)->kid, first);
	CU_ASSERT_PTR_NULL(jg_keyring_current(ring, JG_KEY_ID));

	/* With no next key, rotation generates one of the default alg, and
	 * the old current key becomes previous, still published. */
	CU_ASSERT_EQUAL(jg_keyring_rotate(ring, JG_KEY_ACCESS, JG_ALG_UNKNOWN,
					  JG_ALG_EDDSA, T0 + 200, &kid2, &errmsg), JG_OK);
	second = jg_xstrdup(kid2);
	CU_ASSERT_STRING_NOT_EQUAL(second, first);
	k = jg_keyring_find(ring, second);
	CU_ASSERT_EQUAL(k->alg, JG_ALG_EDDSA);
	CU_ASSERT_EQUAL(k->state, JG_KEY_CURRENT);
	CU_ASSERT_EQUAL(k->created, T0 + 200);
	CU_ASSERT_EQUAL(k->rotated_at, T0 + 200);
	k = jg_keyring_find(ring, first);
	CU_ASSERT_EQUAL(k->state, JG_KEY_PREVIOUS);
	CU_ASSERT_EQUAL(k->rotated_at, T0 + 200);
	CU_ASSERT_PTR_NULL(k->priv);
	CU_ASSERT_EQUAL(jg_keyring_public_set(ring)->count, 2);
	CU_ASSERT_STRING_EQUAL(jg_keyring_current(ring, JG_KEY_ACCESS)->kid, second);

	/* An explicit alg picks (or makes) a key of that alg. */
	CU_ASSERT_EQUAL(jg_keyring_generate(ring, JG_ALG_ES384, JG_KEY_ID, T0 + 300,
					    NULL, &errmsg), JG_OK);
	CU_ASSERT_EQUAL(jg_keyring_rotate(ring, JG_KEY_ID, JG_ALG_RS256, JG_ALG_ES384,
					  T0 + 400, &kid, &errmsg), JG_OK);
	CU_ASSERT_EQUAL(jg_keyring_current(ring, JG_KEY_ID)->alg, JG_ALG_RS256);
	/* The ES384 key stays next; access keys are untouched. */
	CU_ASSERT_EQUAL(ring->count, 4);
	CU_ASSERT_STRING_EQUAL(jg_keyring_current(ring, JG_KEY_ACCESS)->kid, second);

	/* The order: by purpose, then current, next, previous. */
	CU_ASSERT_EQUAL(ring->keys[0].purpose, JG_KEY_ACCESS);
	CU_ASSERT_EQUAL(ring->keys[0].state, JG_KEY_CURRENT);
	CU_ASSERT_EQUAL(ring->keys[1].state, JG_KEY_PREVIOUS);
	CU_ASSERT_EQUAL(ring->keys[2].purpose, JG_KEY_ID);
	CU_ASSERT_EQUAL(ring->keys[2].state, JG_KEY_CURRENT);
	CU_ASSERT_EQUAL(ring->keys[3].state, JG_KEY_NEXT);
	CU_ASSERT_EQUAL(ring->keys[3].alg, JG_ALG_ES384);

	/* What is on disk is what is in memory. */
	disk = reload(&in);
	CU_ASSERT_PTR_NOT_NULL_FATAL(disk);
	CU_ASSERT_EQUAL(disk->count, ring->count);
	for (size_t i = 0; i < disk->count && i < ring->count; i++) {
		CU_ASSERT_STRING_EQUAL(disk->keys[i].kid, ring->keys[i].kid);
		CU_ASSERT_EQUAL(disk->keys[i].alg, ring->keys[i].alg);
		CU_ASSERT_EQUAL(disk->keys[i].purpose, ring->keys[i].purpose);
		CU_ASSERT_EQUAL(disk->keys[i].state, ring->keys[i].state);
		CU_ASSERT_EQUAL(disk->keys[i].created, ring->keys[i].created);
		CU_ASSERT_EQUAL(disk->keys[i].rotated_at, ring->keys[i].rotated_at);
		CU_ASSERT_EQUAL(disk->keys[i].priv != NULL,
				disk->keys[i].state == JG_KEY_CURRENT);
	}
	CU_ASSERT_STRING_EQUAL(jg_keyring_current(disk, JG_KEY_ACCESS)->kid, second);
	CU_ASSERT_EQUAL(jg_keyring_public_set(disk)->count, 4);
	jg_keyring_free(disk);

	/* Refused: HMAC, unknown alg, unknown purpose. */
	CU_ASSERT_EQUAL(jg_keyring_generate(ring, JG_ALG_HS256, JG_KEY_ACCESS, T0,
					    NULL, &errmsg), JG_ERR_MALFORMED);
	free(errmsg);
	errmsg = NULL;
	CU_ASSERT_EQUAL(jg_keyring_generate(ring, JG_ALG_UNKNOWN, JG_KEY_ACCESS, T0,
					    NULL, &errmsg), JG_ERR_MALFORMED);
	free(errmsg);
	errmsg = NULL;
	CU_ASSERT_EQUAL(jg_keyring_generate(ring, JG_ALG_ES256, JG_KEY_PURPOSE_COUNT,
					    T0, NULL, &errmsg), JG_ERR_MALFORMED);
	free(errmsg);
	errmsg = NULL;
	CU_ASSERT_EQUAL(jg_keyring_rotate(ring, JG_KEY_ACCESS, JG_ALG_HS256,
					  JG_ALG_ES256, T0, NULL, &errmsg), JG_ERR_MALFORMED);
	free(errmsg);
	errmsg = NULL;
	CU_ASSERT_EQUAL(ring->count, 4);

	free(first);
	free(second);
	jg_keyring_free(ring);
	instance_close(&in);
}

/* ------------------------------------------------------------ retire */

static void
test_retire(void)
{
	struct jg_keyring *ring, *disk;
	char *old = NULL, *cur = NULL, *next = NULL, *path, *errmsg = NULL;
	const char *kid;
	int64_t after;
	struct instance in;

	instance_open(&in);
	ring = jg_keyring_new(in.key_dir);
	CU_ASSERT_EQUAL_FATAL(jg_keyring_rotate(ring, JG_KEY_ACCESS, JG_ALG_UNKNOWN,
						JG_ALG_ES256, T0, &kid, &errmsg), JG_OK);
	old = jg_xstrdup(kid);
	CU_ASSERT_EQUAL_FATAL(jg_keyring_rotate(ring, JG_KEY_ACCESS, JG_ALG_UNKNOWN,
						JG_ALG_ES256, T0 + 1000, &kid, &errmsg), JG_OK);
	cur = jg_xstrdup(kid);
	CU_ASSERT_EQUAL_FATAL(jg_keyring_generate(ring, JG_ALG_EDDSA, JG_KEY_ACCESS,
						  T0 + 1500, &kid, &errmsg), JG_OK);
	next = jg_xstrdup(kid);

	/* The current key never goes, not even with force. */
	after = 0;
	CU_ASSERT_EQUAL(jg_keyring_retire(ring, cur, T0 + 999999, MAX_AGE, false, &after,
					  &errmsg), JG_ERR_DENIED);
	CU_ASSERT_EQUAL(after, 0);
	CU_ASSERT_PTR_NOT_NULL(errmsg);
	free(errmsg);
	errmsg = NULL;
	CU_ASSERT_EQUAL(jg_keyring_retire(ring, cur, T0 + 999999, MAX_AGE, true, NULL,
					  &errmsg), JG_ERR_DENIED);
	free(errmsg);
	errmsg = NULL;

	/* Unknown kid. */
	CU_ASSERT_EQUAL(jg_keyring_retire(ring, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
					  T0, MAX_AGE, true, NULL, &errmsg), JG_ERR_NOT_FOUND);
	free(errmsg);
	errmsg = NULL;
	CU_ASSERT_EQUAL(jg_keyring_retire(ring, old, T0, -1, true, NULL, &errmsg),
			JG_ERR_MALFORMED);
	free(errmsg);
	errmsg = NULL;

	/* The previous key stopped signing at T0 + 1000: its tokens may be
	 * accepted until T0 + 1000 + MAX_AGE, the first second it may go. */
	after = 0;
	CU_ASSERT_EQUAL(jg_keyring_retire(ring, old, T0 + 1000, MAX_AGE, false, &after,
					  &errmsg), JG_ERR_DENIED);
	CU_ASSERT_EQUAL(after, T0 + 1000 + MAX_AGE);
	free(errmsg);
	errmsg = NULL;
	after = 0;
	CU_ASSERT_EQUAL(jg_keyring_retire(ring, old, T0 + 1000 + MAX_AGE - 1, MAX_AGE,
					  false, &after, &errmsg), JG_ERR_DENIED);
	CU_ASSERT_EQUAL(after, T0 + 1000 + MAX_AGE);
	free(errmsg);
	errmsg = NULL;
	CU_ASSERT_EQUAL(ring->count, 3);
	path = key_file(&in, old);
	CU_ASSERT_TRUE(exists(path));
	CU_ASSERT_EQUAL(jg_keyring_retire(ring, old, T0 + 1000 + MAX_AGE, MAX_AGE,
					  false, NULL, &errmsg), JG_OK);
	CU_ASSERT_PTR_NULL(errmsg);
	CU_ASSERT_FALSE(exists(path));
	CU_ASSERT_PTR_NULL(jg_keyring_find(ring, old));
	CU_ASSERT_EQUAL(ring->count, 2);
	CU_ASSERT_EQUAL(jg_keyring_public_set(ring)->count, 2);
	free(path);
	/* Gone from the index on disk too. */
	disk = reload(&in);
	CU_ASSERT_PTR_NOT_NULL_FATAL(disk);
	CU_ASSERT_EQUAL(disk->count, 2);
	CU_ASSERT_PTR_NULL(jg_keyring_find(disk, old));
	jg_keyring_free(disk);

	/* A next key never signed: it may go at once. */
	CU_ASSERT_EQUAL(jg_keyring_retire(ring, next, T0 + 1500, MAX_AGE, false, NULL,
					  &errmsg), JG_OK);
	CU_ASSERT_EQUAL(ring->count, 1);

	/* force: a previous key goes before its window, at the library level
	 * as on the command line. */
	CU_ASSERT_EQUAL_FATAL(jg_keyring_rotate(ring, JG_KEY_ACCESS, JG_ALG_UNKNOWN,
						JG_ALG_ES256, T0 + 2000, &kid, &errmsg), JG_OK);
	CU_ASSERT_EQUAL(jg_keyring_find(ring, cur)->state, JG_KEY_PREVIOUS);
	CU_ASSERT_EQUAL(jg_keyring_retire(ring, cur, T0 + 2001, MAX_AGE, false, NULL,
					  &errmsg), JG_ERR_DENIED);
	free(errmsg);
	errmsg = NULL;
	CU_ASSERT_EQUAL(jg_keyring_retire(ring, cur, T0 + 2001, MAX_AGE, true, NULL,
					  &errmsg), JG_OK);
	CU_ASSERT_PTR_NULL(jg_keyring_find(ring, cur));
	CU_ASSERT_EQUAL(ring->count, 1);

	/* A window that overflows int64 is "never" without force. */
	CU_ASSERT_EQUAL_FATAL(jg_keyring_rotate(ring, JG_KEY_ACCESS, JG_ALG_UNKNOWN,
						JG_ALG_ES256, INT64_MAX - 10, &kid, &errmsg), JG_OK);
	CU_ASSERT_EQUAL(jg_keyring_retire(ring, ring->keys[1].kid, INT64_MAX - 1, 1000,
					  false, &after, &errmsg), JG_ERR_DENIED);
	CU_ASSERT_EQUAL(after, INT64_MAX);
	free(errmsg);

	free(old);
	free(cur);
	free(next);
	jg_keyring_free(ring);
	instance_close(&in);
}

/* ------------------------------------------------------------ published files */

static struct json_object *
load_published(const struct instance *in, const char *name, unsigned *mode)
{
	char *path = jg_xasprintf("%s/.well-known/%s", in->config->htdocs, name);
	struct json_object *obj = NULL;
	const char *why = NULL;
	char *text;
	size_t len;

	*mode = file_mode(path);
	text = jg_test_slurp(path, &len);
	CU_ASSERT_EQUAL(jg_json_parse_object(text, len, &obj, &why), JG_OK);
	free(text);
	free(path);
	return obj;
}

static void
assert_string_member(const struct json_object *obj, const char *name, const char *want)
{
	const char *got = NULL;

	CU_ASSERT_TRUE(jg_json_get_string(obj, name, &got));
	if (got == NULL || strcmp(got, want) != 0) {
		fprintf(stderr, "\n  %s: got %s, want %s\n", name, got ? got : "(none)", want);
		CU_FAIL("string member differs");
	}
}

/* Checks that member name is exactly the array of strings want. */
static void
assert_array_member(const struct json_object *obj, const char *name,
		    const char *const *want, size_t n)
{
	struct json_object *arr = jg_json_get(obj, name);
	size_t i;

	CU_ASSERT_TRUE_FATAL(arr != NULL && json_object_is_type(arr, json_type_array));
	CU_ASSERT_EQUAL(json_object_array_length(arr), n);
	for (i = 0; i < n && i < json_object_array_length(arr); i++) {
		const char *got = json_object_get_string(json_object_array_get_idx(arr, i));

		if (strcmp(got, want[i]) != 0) {
			fprintf(stderr, "\n  %s[%zu]: got %s, want %s\n", name, i, got, want[i]);
			CU_FAIL("array member differs");
		}
	}
}

#define ASSERT_ARRAY(obj, name, ...) assert_array_member(obj, name, \
	(const char *const[]){ __VA_ARGS__ }, \
	sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *))

static void
test_publish(void)
{
	static const char *const private_members[] = { "d", "p", "q", "dp", "dq", "qi", "k" };
	struct json_object *jwks, *disc, *keys;
	struct jg_keyring *ring;
	struct jg_jwks *parsed = NULL;
	const char *kid, *why = NULL;
	char *access_kid, *id_kid, *next_kid, *errmsg = NULL, *path, *text;
	unsigned mode;
	size_t i, j, len;
	struct instance in;

	instance_open(&in);
	ring = jg_keyring_new(in.key_dir);
	CU_ASSERT_EQUAL_FATAL(jg_keyring_rotate(ring, JG_KEY_ID, JG_ALG_UNKNOWN,
						JG_ALG_RS256, T0, &kid, &errmsg), JG_OK);
	id_kid = jg_xstrdup(kid);
	CU_ASSERT_EQUAL_FATAL(jg_keyring_rotate(ring, JG_KEY_ACCESS, JG_ALG_UNKNOWN,
						JG_ALG_ES256, T0, &kid, &errmsg), JG_OK);
	access_kid = jg_xstrdup(kid);
	CU_ASSERT_EQUAL_FATAL(jg_keyring_generate(ring, JG_ALG_EDDSA, JG_KEY_ID, T0 + 1,
						  &kid, &errmsg), JG_OK);
	next_kid = jg_xstrdup(kid);
	/* The .well-known folder (and htdocs itself) is made when missing. */
	CU_ASSERT_FALSE(exists(in.config->htdocs));
	CU_ASSERT_EQUAL(jg_keyring_publish(in.config, ring, &errmsg), JG_OK);
	CU_ASSERT_PTR_NULL(errmsg);

	/* jwks.json: every key, public members only, kid, alg, use. */
	jwks = load_published(&in, "jwks.json", &mode);
	CU_ASSERT_EQUAL(mode, 0644);
	CU_ASSERT_PTR_NOT_NULL_FATAL(jwks);
	CU_ASSERT_EQUAL(json_object_object_length(jwks), 1);
	keys = jg_json_get(jwks, "keys");
	CU_ASSERT_TRUE_FATAL(keys != NULL && json_object_is_type(keys, json_type_array));
	CU_ASSERT_EQUAL(json_object_array_length(keys), 3);
	for (i = 0; i < json_object_array_length(keys); i++) {
		struct json_object *k = json_object_array_get_idx(keys, i);
		const char *k_kid = NULL, *alg = NULL, *kty = NULL;

		CU_ASSERT_TRUE(jg_json_get_string(k, "kid", &k_kid));
		CU_ASSERT_TRUE(jg_json_get_string(k, "alg", &alg));
		CU_ASSERT_TRUE(jg_json_get_string(k, "kty", &kty));
		assert_string_member(k, "use", "sig");
		for (j = 0; j < sizeof(private_members) / sizeof(private_members[0]); j++)
			CU_ASSERT_PTR_NULL(jg_json_get(k, private_members[j]));
		if (k_kid == NULL || alg == NULL || kty == NULL)
			continue;
		if (strcmp(k_kid, access_kid) == 0) {
			CU_ASSERT_STRING_EQUAL(alg, "ES256");
			CU_ASSERT_STRING_EQUAL(kty, "EC");
		} else if (strcmp(k_kid, id_kid) == 0) {
			CU_ASSERT_STRING_EQUAL(alg, "RS256");
			CU_ASSERT_STRING_EQUAL(kty, "RSA");
		} else if (strcmp(k_kid, next_kid) == 0) {
			CU_ASSERT_STRING_EQUAL(alg, "EdDSA");
			CU_ASSERT_STRING_EQUAL(kty, "OKP");
		} else {
			CU_FAIL("unknown kid in jwks.json");
		}
	}
	json_object_put(jwks);
	/* And the jwk module reads it as a set of three verification keys. */
	path = jg_xasprintf("%s/.well-known/jwks.json", in.config->htdocs);
	text = jg_test_slurp(path, &len);
	CU_ASSERT_EQUAL(jg_jwks_parse(text, len, &parsed, &why), JG_OK);
	CU_ASSERT_TRUE(parsed != NULL && parsed->count == 3);
	for (i = 0; parsed != NULL && i < parsed->count; i++)
		CU_ASSERT_PTR_NULL(parsed->keys[i]->priv);
	jg_jwks_free(parsed);
	free(text);
	free(path);

	/* openid-configuration: below the issuer's path, no "//". */
	disc = load_published(&in, "openid-configuration", &mode);
	CU_ASSERT_EQUAL(mode, 0644);
	CU_ASSERT_PTR_NOT_NULL_FATAL(disc);
	assert_string_member(disc, "issuer", ISSUER);
	assert_string_member(disc, "authorization_endpoint", ISSUER "/oauth/authorize");
	assert_string_member(disc, "token_endpoint", ISSUER "/oauth/token");
	assert_string_member(disc, "userinfo_endpoint", ISSUER "/oauth/userinfo");
	assert_string_member(disc, "jwks_uri", ISSUER "/.well-known/jwks.json");
	assert_string_member(disc, "revocation_endpoint", ISSUER "/oauth/revoke");
	assert_string_member(disc, "introspection_endpoint", ISSUER "/oauth/introspect");
	assert_string_member(disc, "end_session_endpoint", ISSUER "/oauth/logout");
	ASSERT_ARRAY(disc, "response_types_supported", "code");
	ASSERT_ARRAY(disc, "response_modes_supported", "query");
	ASSERT_ARRAY(disc, "grant_types_supported", "authorization_code",
		     "refresh_token", "client_credentials");
	ASSERT_ARRAY(disc, "subject_types_supported", "public");
	/* Only the current ID key's algorithm: the next EdDSA key does not
	 * sign yet. */
	ASSERT_ARRAY(disc, "id_token_signing_alg_values_supported", "RS256");
	ASSERT_ARRAY(disc, "token_endpoint_auth_methods_supported",
		     "client_secret_basic", "client_secret_post", "none");
	ASSERT_ARRAY(disc, "revocation_endpoint_auth_methods_supported",
		     "client_secret_basic", "client_secret_post", "none");
	ASSERT_ARRAY(disc, "introspection_endpoint_auth_methods_supported",
		     "client_secret_basic", "client_secret_post");
	ASSERT_ARRAY(disc, "code_challenge_methods_supported", "S256");
	ASSERT_ARRAY(disc, "scopes_supported", "openid", "profile", "email", "address",
		     "phone", "offline_access");
	ASSERT_ARRAY(disc, "claims_supported", "sub", "iss", "aud", "exp", "iat",
		     "auth_time", "nonce", "name", "given_name", "family_name", "email",
		     "email_verified", "phone_number", "address");
	{
		bool b = false;

		CU_ASSERT_TRUE(jg_json_get_bool(disc, "authorization_response_iss_parameter_supported", &b) && b);
		CU_ASSERT_TRUE(jg_json_get_bool(disc, "request_parameter_supported", &b) && !b);
		CU_ASSERT_TRUE(jg_json_get_bool(disc, "request_uri_parameter_supported", &b) && !b);
	}
	CU_ASSERT_EQUAL(json_object_object_length(disc), 22);
	json_object_put(disc);

	/* An issuer ending in "/" gives no "//"; with no ID key, the
	 * configured id_token_alg is listed. */
	{
		struct jg_keyring *empty = jg_keyring_new(in.key_dir);
		char *saved = in.config->issuer;

		in.config->issuer = jg_xstrdup("https://id.example.org/");
		disc = jg_keyring_discovery_json(in.config, empty);
		assert_string_member(disc, "issuer", "https://id.example.org/");
		assert_string_member(disc, "token_endpoint", "https://id.example.org/oauth/token");
		ASSERT_ARRAY(disc, "id_token_signing_alg_values_supported", "RS256");
		json_object_put(disc);
		free(in.config->issuer);
		in.config->issuer = saved;
		jwks = jg_keyring_jwks_json(empty);
		text = jg_json_dump(jwks);
		CU_ASSERT_STRING_EQUAL(text, "{\"keys\":[]}");
		free(text);
		json_object_put(jwks);
		jg_keyring_free(empty);
	}

	/* A document root that cannot be made is an error with a message. */
	{
		char *saved = in.config->htdocs;
		char *blocker = jg_xasprintf("%s/file", in.dir);
		FILE *f = fopen(blocker, "w");

		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		fclose(f);
		in.config->htdocs = jg_xasprintf("%s/sub", blocker);
		CU_ASSERT_EQUAL(jg_keyring_publish(in.config, ring, &errmsg), JG_ERR_SYSTEM);
		CU_ASSERT_PTR_NOT_NULL(errmsg);
		free(errmsg);
		free(in.config->htdocs);
		in.config->htdocs = saved;
		free(blocker);
	}

	free(access_kid);
	free(id_kid);
	free(next_kid);
	jg_keyring_free(ring);
	instance_close(&in);
}

/* ------------------------------------------------------------ signing */

/* Signs with the current key and verifies with the ring's public set (and
 * with jwks.json as published) across a rotation and a retirement. */
static void
test_sign_verify(void)
{
	static const char payload[] = "{\"sub\":\"test\"}";
	const enum jg_alg allowed[] = { JG_ALG_ES256, JG_ALG_EDDSA, JG_ALG_RS256 };
	struct jg_keyring *ring, *disk;
	const struct jg_jwk *signer;
	struct jg_jws *jws = NULL;
	struct jg_jwks *published = NULL;
	char *old_token = NULL, *new_token = NULL, *old_kid, *errmsg = NULL, *path, *text;
	const char *kid, *why = NULL;
	size_t len;
	struct instance in;

	instance_open(&in);
	ring = jg_keyring_new(in.key_dir);
	CU_ASSERT_EQUAL_FATAL(jg_keyring_rotate(ring, JG_KEY_ACCESS, JG_ALG_UNKNOWN,
						JG_ALG_ES256, T0, &kid, &errmsg), JG_OK);
	old_kid = jg_xstrdup(kid);
	jg_keyring_free(ring);

	/* As a program does: load, take the current key, sign with its alg. */
	disk = reload(&in);
	CU_ASSERT_PTR_NOT_NULL_FATAL(disk);
	signer = jg_keyring_current(disk, JG_KEY_ACCESS);
	CU_ASSERT_PTR_NOT_NULL_FATAL(signer);
	CU_ASSERT_TRUE(jg_jwk_usable(signer, JG_ALG_ES256, JG_KEYOP_SIGN));
	/* The key decides: its alg is set, so it signs nothing else. */
	CU_ASSERT_FALSE(jg_jwk_usable(signer, JG_ALG_ES384, JG_KEYOP_SIGN));
	CU_ASSERT_EQUAL(jg_jws_sign(signer, signer->alg, NULL, payload, strlen(payload),
				    &old_token), JG_OK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(old_token);
	CU_ASSERT_EQUAL(jg_jws_verify(old_token, strlen(old_token),
				      jg_keyring_public_set(disk), allowed, 3, &jws, &why),
			JG_OK);
	if (jws) {
		CU_ASSERT_STRING_EQUAL(jws->kid, old_kid);
		CU_ASSERT_STRING_EQUAL((const char *)jws->payload, payload);
	}
	jg_jws_free(jws);
	jws = NULL;
	/* The public set holds no private key. */
	CU_ASSERT_PTR_NULL(jg_keyring_public_set(disk)->keys[0]->priv);
	CU_ASSERT_EQUAL(jg_keyring_public_set(disk)->keys[0]->alg, JG_ALG_ES256);
	jg_keyring_free(disk);
	/* As a program that only verifies loads it: the same public set, no
	 * key to sign with. */
	disk = NULL;
	CU_ASSERT_EQUAL_FATAL(jg_keyring_load_public(in.key_dir, &disk, &errmsg), JG_OK);
	CU_ASSERT_PTR_NULL(jg_keyring_current(disk, JG_KEY_ACCESS));
	CU_ASSERT_PTR_NULL(jg_keyring_current_alg(disk, JG_KEY_ACCESS, JG_ALG_ES256));
	CU_ASSERT_EQUAL(jg_keyring_public_set(disk)->count, 1);
	CU_ASSERT_PTR_NULL(jg_keyring_public_set(disk)->keys[0]->priv);
	CU_ASSERT_EQUAL(jg_jws_verify(old_token, strlen(old_token),
				      jg_keyring_public_set(disk), allowed, 3, &jws, &why),
			JG_OK);
	if (jws)
		CU_ASSERT_STRING_EQUAL(jws->kid, old_kid);
	jg_jws_free(jws);
	jws = NULL;
	jg_keyring_free(disk);

	/* Rotate to an EdDSA key: new tokens verify, and so do old ones. */
	ring = reload(&in);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ring);
	CU_ASSERT_EQUAL_FATAL(jg_keyring_rotate(ring, JG_KEY_ACCESS, JG_ALG_EDDSA,
						JG_ALG_ES256, T0 + 100, &kid, &errmsg), JG_OK);
	CU_ASSERT_EQUAL(jg_keyring_publish(in.config, ring, &errmsg), JG_OK);
	signer = jg_keyring_current(ring, JG_KEY_ACCESS);
	CU_ASSERT_EQUAL(signer->alg, JG_ALG_EDDSA);
	CU_ASSERT_EQUAL(jg_jws_sign(signer, signer->alg, NULL, payload, strlen(payload),
				    &new_token), JG_OK);
	path = jg_xasprintf("%s/.well-known/jwks.json", in.config->htdocs);
	text = jg_test_slurp(path, &len);
	CU_ASSERT_EQUAL_FATAL(jg_jwks_parse(text, len, &published, &why), JG_OK);
	free(text);
	CU_ASSERT_EQUAL(jg_jws_verify(new_token, strlen(new_token), published,
				      allowed, 3, &jws, &why), JG_OK);
	jg_jws_free(jws);
	jws = NULL;
	CU_ASSERT_EQUAL(jg_jws_verify(old_token, strlen(old_token), published,
				      allowed, 3, &jws, &why), JG_OK);
	jg_jws_free(jws);
	jws = NULL;
	jg_jwks_free(published);
	published = NULL;

	/* Retired: the old key's tokens no longer verify. */
	CU_ASSERT_EQUAL(jg_keyring_retire(ring, old_kid, T0 + 100 + MAX_AGE, MAX_AGE,
					  false, NULL, &errmsg), JG_OK);
	CU_ASSERT_EQUAL(jg_keyring_publish(in.config, ring, &errmsg), JG_OK);
	text = jg_test_slurp(path, &len);
	CU_ASSERT_EQUAL_FATAL(jg_jwks_parse(text, len, &published, &why), JG_OK);
	free(text);
	CU_ASSERT_EQUAL(published->count, 1);
	CU_ASSERT_EQUAL(jg_jws_verify(old_token, strlen(old_token), published,
				      allowed, 3, &jws, &why), JG_ERR_DENIED);
	jg_jws_free(jws);
	jws = NULL;
	CU_ASSERT_EQUAL(jg_jws_verify(old_token, strlen(old_token),
				      jg_keyring_public_set(ring), allowed, 3, &jws, &why),
			JG_ERR_DENIED);
	jg_jws_free(jws);
	jws = NULL;
	CU_ASSERT_EQUAL(jg_jws_verify(new_token, strlen(new_token),
				      jg_keyring_public_set(ring), allowed, 3, &jws, &why),
			JG_OK);
	jg_jws_free(jws);

	jg_jwks_free(published);
	free(path);
	free(old_token);
	free(new_token);
	free(old_kid);
	jg_keyring_free(ring);
	instance_close(&in);
}

/* ------------------------------------------------------------ bad key folders */

static void
write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0) {
		perror(path);
		abort();
	}
}

/* Replaces every "from" in s (a new string) with "to"; returns a new string. */
static char *
replace_all(const char *s, const char *from, const char *to)
{
	size_t n = 0, fl = strlen(from), tl = strlen(to);
	const char *p;
	char *out, *o;

	for (p = s; (p = strstr(p, from)) != NULL; p += fl)
		n++;
	out = jg_xmalloc(strlen(s) + n * tl + 1);
	for (o = out, p = s; *p;) {
		if (strncmp(p, from, fl) == 0) {
			memcpy(o, to, tl);
			o += tl;
			p += fl;
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
	return out;
}

struct bad_index {
	const char *what;
	const char *from, *to;	/* the edit made to a good index (KID1 and
				 * KID2 stand for the two kids) */
	const char *reason;	/* a part of the message */
};

static void
test_bad_index(void)
{
	static const struct bad_index cases[] = {
		{ "not JSON", "{", "[", "keyring.json" },
		{ "trailing garbage", "\n}\n", "\n}\nx", "keyring.json" },
		{ "duplicate member name", "\"keys\":", "\"keys\":[],\"keys\":", "keyring.json" },
		{ "extra top-level member", "\"keys\":", "\"extra\":1,\"keys\":", "only a \"keys\" array" },
		{ "keys not an array", "\"keys\":[", "\"keys\":\"x\",\"unused\":[", "only a \"keys\" array" },
		{ "extra member in a key", "\"state\":", "\"use\":\"sig\",\"state\":", "exactly kid, alg" },
		{ "missing member", "\"created\":" T0S ",", "", "exactly kid, alg" },
		{ "kid with a path", "\"kid\":\"KID1\"", "\"kid\":\"../../../../etc/passwd\"", "bad kid" },
		{ "kid too short", "\"kid\":\"KID1\"", "\"kid\":\"abc\"", "bad kid" },
		{ "kid not a string", "\"kid\":\"KID1\"", "\"kid\":1", "bad kid" },
		{ "HMAC alg", "\"alg\":\"ES256\"", "\"alg\":\"HS256\"", "bad alg" },
		{ "alg none", "\"alg\":\"ES256\"", "\"alg\":\"none\"", "bad alg" },
		{ "alg case", "\"alg\":\"ES256\"", "\"alg\":\"es256\"", "bad alg" },
		{ "alg the key cannot do", "\"alg\":\"ES256\"", "\"alg\":\"ES384\"", "cannot sign ES384" },
		{ "unknown purpose", "\"purpose\":\"access\"", "\"purpose\":\"refresh\"", "bad purpose" },
		{ "unknown state", "\"state\":\"next\"", "\"state\":\"retired\"", "bad state" },
		{ "two current keys", "\"state\":\"next\"", "\"state\":\"current\"", "more than one current" },
		{ "negative created", "\"created\":" T0S, "\"created\":-1", "non-negative" },
		{ "fractional time", "\"created\":" T0S, "\"created\":1.5", "non-negative" },
		{ "kid listed twice", "KID2", "KID1", "listed twice" },
		{ "no such key file", "KID1", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "No such file" },
		{ NULL, NULL, NULL, NULL }
	};
	const struct bad_index *c;
	struct jg_keyring *ring, *out;
	char *good, *index_path, *kid1, *kid2, *errmsg = NULL, *t1, *t2, *from, *to;
	const char *kid;
	size_t len;
	struct instance in;

	instance_open(&in);
	ring = jg_keyring_new(in.key_dir);
	CU_ASSERT_EQUAL_FATAL(jg_keyring_rotate(ring, JG_KEY_ACCESS, JG_ALG_UNKNOWN,
						JG_ALG_ES256, T0, &kid, &errmsg), JG_OK);
	kid1 = jg_xstrdup(kid);
	CU_ASSERT_EQUAL_FATAL(jg_keyring_generate(ring, JG_ALG_ES256, JG_KEY_ACCESS,
						  T0, &kid, &errmsg), JG_OK);
	kid2 = jg_xstrdup(kid);
	jg_keyring_free(ring);
	index_path = jg_xasprintf("%s/keyring.json", in.key_dir);
	good = jg_test_slurp(index_path, &len);
	/* The good index loads. */
	ring = reload(&in);
	CU_ASSERT_TRUE(ring != NULL && ring->count == 2);
	jg_keyring_free(ring);

	for (c = cases; c->what; c++) {
		t1 = replace_all(c->from, "KID1", kid1);
		from = replace_all(t1, "KID2", kid2);
		t2 = replace_all(c->to, "KID1", kid1);
		to = replace_all(t2, "KID2", kid2);
		free(t1);
		free(t2);
		{
			char *bad;
			const char *at = strstr(good, from);

			if (at == NULL) {
				fprintf(stderr, "\n  test bug: '%s' not in the index\n", c->what);
				CU_FAIL("test case does not apply");
				free(from);
				free(to);
				continue;
			}
			/* Only the first occurrence changes. */
			bad = jg_xasprintf("%.*s%s%s", (int)(at - good), good, to,
					   at + strlen(from));
			write_text(index_path, bad);
			free(bad);
		}
		out = NULL;
		errmsg = NULL;
		CU_ASSERT_EQUAL(jg_keyring_load(in.key_dir, &out, &errmsg), JG_ERR_MALFORMED);
		CU_ASSERT_PTR_NULL(out);
		if (errmsg == NULL || strstr(errmsg, c->reason) == NULL) {
			fprintf(stderr, "\n  %s: message '%s' lacks '%s'\n", c->what,
				errmsg ? errmsg : "(none)", c->reason);
			CU_FAIL("bad index not refused with the right message");
		}
		jg_keyring_free(out);
		free(errmsg);
		free(from);
		free(to);
	}

	/* A key file that holds another key than its name says. */
	write_text(index_path, good);
	{
		char *p1 = key_file(&in, kid1), *p2 = key_file(&in, kid2);
		char *pem1 = jg_test_slurp(p1, &len), *pem2 = jg_test_slurp(p2, &len);

		write_text(p1, pem2);
		out = NULL;
		errmsg = NULL;
		CU_ASSERT_EQUAL(jg_keyring_load(in.key_dir, &out, &errmsg), JG_ERR_MALFORMED);
		CU_ASSERT_TRUE(errmsg != NULL && strstr(errmsg, "holds another key") != NULL);
		free(errmsg);
		errmsg = NULL;
		CU_ASSERT_EQUAL(jg_keyring_load_public(in.key_dir, &out, &errmsg),
				JG_ERR_MALFORMED);
		CU_ASSERT_TRUE(errmsg != NULL && strstr(errmsg, "holds another key") != NULL);
		CU_ASSERT_PTR_NULL(out);
		free(errmsg);
		/* A public key where a private one belongs. */
		write_text(p1, "-----BEGIN PUBLIC KEY-----\n"
			   "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEf83OJ3D2xF1Bg8vub9tLe1gHMzV7\n"
			   "6e8Tus9uPHvRVEXH8UTNG72bfocs3+257rn0s2ldbqkLJK2KRiMohYjlrQ==\n"
			   "-----END PUBLIC KEY-----\n");
		errmsg = NULL;
		CU_ASSERT_EQUAL(jg_keyring_load(in.key_dir, &out, &errmsg), JG_ERR_MALFORMED);
		CU_ASSERT_TRUE(errmsg != NULL && strstr(errmsg, "not a private key") != NULL);
		free(errmsg);
		errmsg = NULL;
		CU_ASSERT_EQUAL(jg_keyring_load_public(in.key_dir, &out, &errmsg),
				JG_ERR_MALFORMED);
		CU_ASSERT_TRUE(errmsg != NULL && strstr(errmsg, "not a private key") != NULL);
		CU_ASSERT_PTR_NULL(out);
		free(errmsg);
		write_text(p1, "not a key\n");
		errmsg = NULL;
		CU_ASSERT_EQUAL(jg_keyring_load(in.key_dir, &out, &errmsg), JG_ERR_MALFORMED);
		CU_ASSERT_PTR_NOT_NULL(errmsg);
		free(errmsg);
		write_text(p1, pem1);
		ring = reload(&in);
		CU_ASSERT_PTR_NOT_NULL(ring);
		jg_keyring_free(ring);
		free(pem1);
		free(pem2);
		free(p1);
		free(p2);
	}

	free(good);
	free(index_path);
	free(kid1);
	free(kid2);
	instance_close(&in);
}

/* ------------------------------------------------------------ ID keys per alg */

/* The key kid of ring; the test stops when it is missing. */
static const struct jg_keyring_key *
find_key(const struct jg_keyring *ring, const char *kid)
{
	const struct jg_keyring_key *k = jg_keyring_find(ring, kid);

	CU_ASSERT_PTR_NOT_NULL_FATAL(k);
	return k;
}

/* The kid of the current key of purpose and alg, or "(none)". */
static const char *
current_kid(const struct jg_keyring *ring, enum jg_key_purpose purpose, enum jg_alg alg)
{
	const struct jg_jwk *k = jg_keyring_current_alg(ring, purpose, alg);

	return k != NULL && k->kid != NULL ? k->kid : "(none)";
}

/* Issue 5 point 3: RS256 ID tokens by default, another alg per client, so
 * one current ID key per alg; rotating one alg leaves the others signing. */
static void
test_id_keys_per_alg(void)
{
	struct jg_keyring *ring, *disk, *out = NULL;
	struct json_object *disc;
	char *es1, *es2, *ed, *rs1, *rs2, *errmsg = NULL, *index_path, *text, *bad;
	const char *kid = NULL, *at;
	int64_t after = 0;
	size_t len;
	struct instance in;

	instance_open(&in);
	ring = jg_keyring_new(in.key_dir);
	/* Made current in the order ES256, EdDSA, RS256. */
	CU_ASSERT_EQUAL_FATAL(jg_keyring_rotate(ring, JG_KEY_ID, JG_ALG_ES256,
						JG_ALG_RS256, T0, &kid, &errmsg), JG_OK);
	es1 = jg_xstrdup(kid);
	CU_ASSERT_EQUAL_FATAL(jg_keyring_rotate(ring, JG_KEY_ID, JG_ALG_EDDSA,
						JG_ALG_RS256, T0 + 1, &kid, &errmsg), JG_OK);
	ed = jg_xstrdup(kid);
	CU_ASSERT_EQUAL_FATAL(jg_keyring_rotate(ring, JG_KEY_ID, JG_ALG_UNKNOWN,
						JG_ALG_RS256, T0 + 2, &kid, &errmsg), JG_OK);
	rs1 = jg_xstrdup(kid);
	CU_ASSERT_EQUAL_FATAL(jg_keyring_rotate(ring, JG_KEY_ACCESS, JG_ALG_UNKNOWN,
						JG_ALG_ES256, T0 + 2, NULL, &errmsg), JG_OK);
	/* Three current ID keys, one per alg; none demoted another. */
	CU_ASSERT_EQUAL(find_key(ring, es1)->state, JG_KEY_CURRENT);
	CU_ASSERT_EQUAL(find_key(ring, ed)->state, JG_KEY_CURRENT);
	CU_ASSERT_EQUAL(find_key(ring, rs1)->state, JG_KEY_CURRENT);
	CU_ASSERT_EQUAL(find_key(ring, rs1)->alg, JG_ALG_RS256);
	CU_ASSERT_STRING_EQUAL(current_kid(ring, JG_KEY_ID, JG_ALG_ES256), es1);
	CU_ASSERT_STRING_EQUAL(current_kid(ring, JG_KEY_ID, JG_ALG_EDDSA), ed);
	CU_ASSERT_STRING_EQUAL(current_kid(ring, JG_KEY_ID, JG_ALG_RS256), rs1);
	CU_ASSERT_PTR_NULL(jg_keyring_current_alg(ring, JG_KEY_ID, JG_ALG_PS256));
	CU_ASSERT_PTR_NULL(jg_keyring_current_alg(ring, JG_KEY_ACCESS, JG_ALG_RS256));
	CU_ASSERT_PTR_NOT_NULL(jg_keyring_current_alg(ring, JG_KEY_ACCESS, JG_ALG_ES256));
	/* Without an alg: RS256, the OpenID Connect default, comes first. */
	CU_ASSERT_PTR_NOT_NULL_FATAL(jg_keyring_current(ring, JG_KEY_ID));
	CU_ASSERT_STRING_EQUAL(jg_keyring_current(ring, JG_KEY_ID)->kid, rs1);
	CU_ASSERT_EQUAL(ring->keys[1].alg, JG_ALG_RS256);
	CU_ASSERT_EQUAL(ring->keys[2].alg, JG_ALG_ES256);
	CU_ASSERT_EQUAL(ring->keys[3].alg, JG_ALG_EDDSA);

	/* Discovery lists every current ID alg, RS256 first. */
	disc = jg_keyring_discovery_json(in.config, ring);
	ASSERT_ARRAY(disc, "id_token_signing_alg_values_supported", "RS256", "ES256", "EdDSA");
	json_object_put(disc);

	/* Rotating ES256 demotes only the ES256 key. */
	CU_ASSERT_EQUAL_FATAL(jg_keyring_rotate(ring, JG_KEY_ID, JG_ALG_ES256,
						JG_ALG_RS256, T0 + 100, &kid, &errmsg), JG_OK);
	es2 = jg_xstrdup(kid);
	CU_ASSERT_STRING_NOT_EQUAL(es2, es1);
	CU_ASSERT_EQUAL(find_key(ring, es1)->state, JG_KEY_PREVIOUS);
	CU_ASSERT_EQUAL(find_key(ring, es1)->rotated_at, T0 + 100);
	CU_ASSERT_PTR_NULL(find_key(ring, es1)->priv);
	CU_ASSERT_EQUAL(find_key(ring, es2)->state, JG_KEY_CURRENT);
	CU_ASSERT_EQUAL(find_key(ring, rs1)->state, JG_KEY_CURRENT);
	CU_ASSERT_EQUAL(find_key(ring, rs1)->rotated_at, T0 + 2);
	CU_ASSERT_EQUAL(find_key(ring, ed)->state, JG_KEY_CURRENT);
	/* Rotating without an alg, with no next key: one of default_alg, and
	 * only the RS256 key goes. */
	CU_ASSERT_EQUAL_FATAL(jg_keyring_rotate(ring, JG_KEY_ID, JG_ALG_UNKNOWN,
						JG_ALG_RS256, T0 + 200, &kid, &errmsg), JG_OK);
	rs2 = jg_xstrdup(kid);
	CU_ASSERT_EQUAL(find_key(ring, rs1)->state, JG_KEY_PREVIOUS);
	CU_ASSERT_EQUAL(find_key(ring, rs2)->state, JG_KEY_CURRENT);
	CU_ASSERT_EQUAL(find_key(ring, es2)->state, JG_KEY_CURRENT);
	CU_ASSERT_EQUAL(find_key(ring, ed)->state, JG_KEY_CURRENT);
	disc = jg_keyring_discovery_json(in.config, ring);
	ASSERT_ARRAY(disc, "id_token_signing_alg_values_supported", "RS256", "ES256", "EdDSA");
	json_object_put(disc);

	/* Retire rules per key: a current key of any alg never goes; a
	 * previous one after its window. */
	CU_ASSERT_EQUAL(jg_keyring_retire(ring, ed, T0 + 100000, MAX_AGE, true, &after,
					  &errmsg), JG_ERR_DENIED);
	free(errmsg);
	errmsg = NULL;
	CU_ASSERT_EQUAL(jg_keyring_retire(ring, es1, T0 + 100 + MAX_AGE - 1, MAX_AGE,
					  false, &after, &errmsg), JG_ERR_DENIED);
	CU_ASSERT_EQUAL(after, T0 + 100 + MAX_AGE);
	free(errmsg);
	errmsg = NULL;
	CU_ASSERT_EQUAL(jg_keyring_retire(ring, es1, T0 + 100 + MAX_AGE, MAX_AGE,
					  false, &after, &errmsg), JG_OK);
	CU_ASSERT_PTR_NULL(jg_keyring_find(ring, es1));

	/* What is on disk loads with its three current ID keys. */
	disk = reload(&in);
	CU_ASSERT_PTR_NOT_NULL_FATAL(disk);
	CU_ASSERT_EQUAL(disk->count, ring->count);
	CU_ASSERT_STRING_EQUAL(current_kid(disk, JG_KEY_ID, JG_ALG_ES256), es2);
	CU_ASSERT_STRING_EQUAL(current_kid(disk, JG_KEY_ID, JG_ALG_RS256), rs2);
	CU_ASSERT_STRING_EQUAL(current_kid(disk, JG_KEY_ID, JG_ALG_EDDSA), ed);
	jg_keyring_free(disk);

	/* But two current ID keys of one alg are refused: make the previous
	 * RS256 key current in the index. */
	index_path = jg_xasprintf("%s/keyring.json", in.key_dir);
	text = jg_test_slurp(index_path, &len);
	at = strstr(text, rs1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(at);
	at = strstr(at, "\"previous\"");
	CU_ASSERT_PTR_NOT_NULL_FATAL(at);
	bad = jg_xasprintf("%.*s\"current\"%s", (int)(at - text), text,
			   at + strlen("\"previous\""));
	write_text(index_path, bad);
	CU_ASSERT_EQUAL(jg_keyring_load(in.key_dir, &out, &errmsg), JG_ERR_MALFORMED);
	CU_ASSERT_PTR_NULL(out);
	CU_ASSERT_TRUE(errmsg != NULL &&
		       strstr(errmsg, "more than one current id key of RS256") != NULL);
	free(errmsg);
	free(bad);
	free(text);
	free(index_path);

	free(es1);
	free(es2);
	free(ed);
	free(rs1);
	free(rs2);
	jg_keyring_free(ring);
	instance_close(&in);
}

/* ------------------------------------------------------------ changes, lock */

static void
test_changed_and_lock(void)
{
	struct jg_keyring *reader, *writer;
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	char *errmsg = NULL;
	int fd1 = -1, fd2 = -1;
	struct instance in;

	instance_open(&in);
	writer = jg_keyring_new(in.key_dir);
	CU_ASSERT_EQUAL_FATAL(jg_keyring_rotate(writer, JG_KEY_ACCESS, JG_ALG_UNKNOWN,
						JG_ALG_ES256, T0, NULL, &errmsg), JG_OK);
	reader = reload(&in);
	CU_ASSERT_PTR_NOT_NULL_FATAL(reader);
	CU_ASSERT_FALSE(jg_keyring_changed(reader));
	/* Another writer replaces the index: the reader notices.  (The pause
	 * makes the mtime differ on file systems with coarse timestamps; the
	 * inode differs anyway after the rename.) */
	nanosleep(&pause, NULL);
	CU_ASSERT_EQUAL(jg_keyring_rotate(writer, JG_KEY_ACCESS, JG_ALG_UNKNOWN,
					  JG_ALG_ES256, T0 + 1, NULL, &errmsg), JG_OK);
	CU_ASSERT_TRUE(jg_keyring_changed(reader));
	CU_ASSERT_FALSE(jg_keyring_changed(writer));
	jg_keyring_free(reader);
	reader = reload(&in);
	CU_ASSERT_FALSE(jg_keyring_changed(reader));
	/* A new ring with no index changes when one appears. */
	jg_keyring_free(writer);
	writer = jg_keyring_new(in.dir);
	CU_ASSERT_FALSE(jg_keyring_changed(writer));
	jg_keyring_free(writer);
	writer = jg_keyring_new(in.key_dir);
	CU_ASSERT_TRUE(jg_keyring_changed(writer));
	jg_keyring_free(writer);
	jg_keyring_free(reader);

	/* The lock excludes a second holder, which gives up after its
	 * timeout, and is free again after unlock. */
	CU_ASSERT_EQUAL(jg_keyring_lock(in.key_dir, 0, &fd1), JG_OK);
	CU_ASSERT_EQUAL(jg_keyring_lock(in.key_dir, 0, &fd2), JG_ERR_BUSY);
	CU_ASSERT_EQUAL(jg_keyring_lock(in.key_dir, 60, &fd2), JG_ERR_BUSY);
	jg_keyring_unlock(fd1);
	CU_ASSERT_EQUAL(jg_keyring_lock(in.key_dir, 0, &fd2), JG_OK);
	jg_keyring_unlock(fd2);
	jg_keyring_unlock(-1);
	/* No such folder. */
	CU_ASSERT_EQUAL(jg_keyring_lock("/nonexistent/jwtgate-keys", 0, &fd1),
			JG_ERR_SYSTEM);
	instance_close(&in);
}

static const struct jg_test tests[] = {
	{ "names of purposes, states and algorithms", test_names },
	{ "a folder without index", test_missing_index },
	{ "generate and rotate", test_generate_and_rotate },
	{ "retire: window, force, current and next keys", test_retire },
	{ "published jwks.json and openid-configuration", test_publish },
	{ "the current key signs, the published keys verify", test_sign_verify },
	{ "bad index and key files are refused", test_bad_index },
	{ "one current ID key per alg", test_id_keys_per_alg },
	{ "change detection and the lock", test_changed_and_lock },
	{ NULL, NULL }
};

int
main(void)
{
	return jg_test_main("keyring", tests);
}
