/* test_oauth.c: unit tests of common/oauth (client-secret hashing and
 * checking). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "oauth.h"
#include "util.h"

/* SHA-256 test vectors of FIPS 180-2, appendix B.1 ("abc") and B.2. */
#define ABC_HASH "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define B2_INPUT "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
#define B2_HASH "sha256:248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"

static void
test_hash(void)
{
	char *out = NULL, *big;

	CU_ASSERT_EQUAL(jg_client_secret_hash("abc", &out), JG_OK);
	CU_ASSERT_STRING_EQUAL(out, ABC_HASH);
	free(out);
	out = NULL;
	CU_ASSERT_EQUAL(jg_client_secret_hash(B2_INPUT, &out), JG_OK);
	CU_ASSERT_STRING_EQUAL(out, B2_HASH);
	free(out);
	out = NULL;

	/* Refused: NULL, empty, longer than JG_CLIENT_SECRET_MAX; *out untouched. */
	CU_ASSERT_EQUAL(jg_client_secret_hash(NULL, &out), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_client_secret_hash("", &out), JG_ERR_MALFORMED);
	big = jg_xmalloc(JG_CLIENT_SECRET_MAX + 2);
	memset(big, 'a', JG_CLIENT_SECRET_MAX + 1);
	big[JG_CLIENT_SECRET_MAX + 1] = '\0';
	CU_ASSERT_EQUAL(jg_client_secret_hash(big, &out), JG_ERR_MALFORMED);
	CU_ASSERT_PTR_NULL(out);
	big[JG_CLIENT_SECRET_MAX] = '\0';
	CU_ASSERT_EQUAL(jg_client_secret_hash(big, &out), JG_OK);
	CU_ASSERT_TRUE(out != NULL && jg_client_secret_verify(big, JG_CLIENT_SECRET_MAX, out));
	free(out);
	free(big);
}

struct verify_case {
	const char *secret;
	size_t len;		/* 0: strlen(secret) */
	const char *stored;
	bool want;
};

static void
test_verify(void)
{
	static const struct verify_case cases[] = {
		{ "abc", 0, ABC_HASH, true },
		{ B2_INPUT, 0, B2_HASH, true },
		/* Wrong secrets. */
		{ "abd", 0, ABC_HASH, false },
		{ "ab", 0, ABC_HASH, false },
		{ "abcd", 0, ABC_HASH, false },
		{ "ABC", 0, ABC_HASH, false },
		{ B2_INPUT, 0, ABC_HASH, false },
		/* The length counts: "abc" followed by a NUL is not "abc". */
		{ "abc\0", 4, ABC_HASH, false },
		/* Malformed stored values never match. */
		{ "abc", 0, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", false },
		{ "abc", 0, "SHA256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", false },
		{ "abc", 0, "sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD", false },
		{ "abc", 0, ABC_HASH "0", false },
		{ "abc", 0, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a", false },
		{ "abc", 0, "$y$j9T$abc", false },
		{ "abc", 0, "", false },
		{ "abc", 0, NULL, false },
		/* Empty or missing secrets. */
		{ "", 0, ABC_HASH, false },
		{ NULL, 3, ABC_HASH, false },
	};
	size_t i, len;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct verify_case *c = &cases[i];

		len = c->len ? c->len : (c->secret ? strlen(c->secret) : 0);
		if (jg_client_secret_verify(c->secret, len, c->stored) != c->want) {
			fprintf(stderr, "\n  case %zu: want %s\n", i, c->want ? "true" : "false");
			CU_FAIL("jg_client_secret_verify");
		}
	}
	/* Longer than JG_CLIENT_SECRET_MAX: refused before hashing. */
	{
		char *big = jg_xmalloc(JG_CLIENT_SECRET_MAX + 1);

		memset(big, 'a', JG_CLIENT_SECRET_MAX + 1);
		CU_ASSERT_FALSE(jg_client_secret_verify(big, JG_CLIENT_SECRET_MAX + 1, ABC_HASH));
		free(big);
	}
}

static void
test_valid(void)
{
	static const struct {
		const char *secret;
		bool want;
	} cases[] = {
		/* 43 base64url characters, as `jwtgate client add` makes. */
		{ "Mq7W1T2nlVoCaAgUh56NjpmZQCTkPU4nJxZwKulrFfI", true },
		{ "0123456789abcdef0123456789abcdef", true },		/* 32: the least */
		{ "0123456789abcdef0123456789abcde", false },		/* 31 */
		{ "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~0", true },	/* every sign */
		{ "0123456789abcdef 0123456789abcdef", false },		/* a space */
		{ "0123456789abcdef\t0123456789abcdef", false },	/* a tab */
		{ "0123456789abcdef\x7f" "0123456789abcdef", false },	/* DEL */
		{ "0123456789abcdef\xc3\xa9" "0123456789abcdef", false },	/* non-ASCII */
		{ "", false },
		{ NULL, false },
	};
	char *big;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (jg_client_secret_valid(cases[i].secret) != cases[i].want) {
			fprintf(stderr, "\n  case %zu: want %s\n", i,
				cases[i].want ? "true" : "false");
			CU_FAIL("jg_client_secret_valid");
		}
	big = jg_xmalloc(JG_CLIENT_SECRET_MAX + 2);
	memset(big, 'x', JG_CLIENT_SECRET_MAX + 1);
	big[JG_CLIENT_SECRET_MAX] = '\0';
	CU_ASSERT_TRUE(jg_client_secret_valid(big));
	big[JG_CLIENT_SECRET_MAX] = 'x';
	big[JG_CLIENT_SECRET_MAX + 1] = '\0';
	CU_ASSERT_FALSE(jg_client_secret_valid(big));
	free(big);
}

static const struct jg_test tests[] = {
	{ "client secret hash: FIPS 180-2 vectors and bounds", test_hash },
	{ "client secret verify", test_verify },
	{ "client secret rules", test_valid },
	{ NULL, NULL }
};

int
main(void)
{
	return jg_test_main("oauth", tests);
}
