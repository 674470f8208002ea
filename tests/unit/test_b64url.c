/* test_b64url.c: strict base64url and padded base64, valid and invalid inputs. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64url.h"
#include "testutil.h"

/* RFC 4648 section 10 test vectors.  base64url (section 5) differs from
 * base64 only in the characters for 62 and 63 and drops the padding, so the
 * same vectors serve both with the '=' removed. */
static const struct {
	const char *plain;
	const char *std;
	const char *url;
} rfc4648[] = {
	{ "", "", "" },
	{ "f", "Zg==", "Zg" },
	{ "fo", "Zm8=", "Zm8" },
	{ "foo", "Zm9v", "Zm9v" },
	{ "foob", "Zm9vYg==", "Zm9vYg" },
	{ "fooba", "Zm9vYmE=", "Zm9vYmE" },
	{ "foobar", "Zm9vYmFy", "Zm9vYmFy" },
};

/* Binary vectors that use the characters for 62 and 63. */
static const struct {
	const char *source;
	const char *hex;
	const char *std;
	const char *url;
} binary[] = {
	/* RFC 7515 appendix C: octets [3, 236, 255, 224, 193]. */
	{ "RFC 7515 appendix C", "03ecffe0c1", "A+z/4ME=", "A-z_4ME" },
	/* 0xfb 0xff: the sextets 62, 63, 60. */
	{ "sextets 62 63", "fbff", "+/8=", "-_8" },
	{ "all ones", "ffffff", "////", "____" },
	{ "zero bytes", "000000", "AAAA", "AAAA" },
	{ "single zero", "00", "AA==", "AA" },
	/* RFC 7515 appendix A.1: the JWS Protected Header octets
	 * {"typ":"JWT",\r\n "alg":"HS256"}. */
	{ "RFC 7515 appendix A.1 header",
	  "7b22747970223a224a5754222c0d0a2022616c67223a224853323536227d",
	  "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9",
	  "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9" },
};

struct decode_case {
	const char *name;
	const char *in;
	size_t len;		/* bytes of in (may hold NUL) */
	enum jg_err want;
	const char *hex;	/* expected output when want is JG_OK */
};

#define S(s) s, sizeof(s) - 1

/* Strict base64url decoding: every row's expected result. */
static const struct decode_case url_cases[] = {
	{ "empty", S(""), JG_OK, "" },
	{ "two chars, zero unused bits", S("QQ"), JG_OK, "41" },
	{ "three chars, zero unused bits", S("QUE"), JG_OK, "4141" },
	{ "four chars", S("QUFB"), JG_OK, "414141" },
	{ "url alphabet 62 and 63", S("-_8"), JG_OK, "fbff" },
	{ "padding ==", S("Zg=="), JG_ERR_MALFORMED, NULL },
	{ "padding =", S("Zm8="), JG_ERR_MALFORMED, NULL },
	{ "padding after full quantum", S("Zm9vYmFy="), JG_ERR_MALFORMED, NULL },
	{ "padding only", S("="), JG_ERR_MALFORMED, NULL },
	{ "padding inside", S("Zg==Zm9v"), JG_ERR_MALFORMED, NULL },
	{ "plus (standard alphabet)", S("A+z"), JG_ERR_MALFORMED, NULL },
	{ "slash (standard alphabet)", S("_/8"), JG_ERR_MALFORMED, NULL },
	{ "space inside", S("Zm 9v"), JG_ERR_MALFORMED, NULL },
	{ "leading space", S(" Zm9v"), JG_ERR_MALFORMED, NULL },
	{ "trailing newline", S("Zm9vYg\n"), JG_ERR_MALFORMED, NULL },
	{ "CR LF inside", S("Zm9v\r\nYmFy"), JG_ERR_MALFORMED, NULL },
	{ "tab", S("Zm9v\tYmFy"), JG_ERR_MALFORMED, NULL },
	{ "NUL inside", S("Zm\0v"), JG_ERR_MALFORMED, NULL },
	{ "NUL at the end", S("Zm9\0"), JG_ERR_MALFORMED, NULL },
	{ "length 1", S("Z"), JG_ERR_MALFORMED, NULL },
	{ "length 5 (1 mod 4)", S("Zm9vY"), JG_ERR_MALFORMED, NULL },
	{ "length 9 (1 mod 4)", S("Zm9vYmFyZ"), JG_ERR_MALFORMED, NULL },
	{ "non-zero unused bits QR", S("QR"), JG_ERR_MALFORMED, NULL },
	{ "non-zero unused bits Zh", S("Zh"), JG_ERR_MALFORMED, NULL },
	{ "non-zero unused bits QUF", S("QUF"), JG_ERR_MALFORMED, NULL },
	{ "non-zero unused bits Zm9", S("Zm9"), JG_ERR_MALFORMED, NULL },
	{ "non-zero unused bits A-z_4MF", S("A-z_4MF"), JG_ERR_MALFORMED, NULL },
	{ "dot", S("Zm9v.A"), JG_ERR_MALFORMED, NULL },
	{ "tilde", S("Zm9v~A"), JG_ERR_MALFORMED, NULL },
	{ "non-ASCII byte", S("Zm9v\xc3\xa9"), JG_ERR_MALFORMED, NULL },
	{ "byte 0xff", S("\xff\xff\xff\xff"), JG_ERR_MALFORMED, NULL },
	{ "bad char in the last quantum", S("Zm9vYm!y"), JG_ERR_MALFORMED, NULL },
	{ "bad char in the tail", S("Zm9vY!"), JG_ERR_MALFORMED, NULL },
};

/* Padded standard base64 decoding. */
static const struct decode_case std_cases[] = {
	{ "empty", S(""), JG_OK, "" },
	{ "one byte", S("QQ=="), JG_OK, "41" },
	{ "two bytes", S("QUE="), JG_OK, "4141" },
	{ "62 and 63", S("+/8="), JG_OK, "fbff" },
	{ "missing padding (2)", S("Zg"), JG_ERR_MALFORMED, NULL },
	{ "missing padding (3)", S("Zm8"), JG_ERR_MALFORMED, NULL },
	{ "short padding", S("Zg="), JG_ERR_MALFORMED, NULL },
	{ "three padding chars", S("Z==="), JG_ERR_MALFORMED, NULL },
	{ "padding only", S("===="), JG_ERR_MALFORMED, NULL },
	{ "padding inside", S("Zg==Zm9v"), JG_ERR_MALFORMED, NULL },
	{ "char after padding", S("Zg=A"), JG_ERR_MALFORMED, NULL },
	{ "non-zero unused bits Zh==", S("Zh=="), JG_ERR_MALFORMED, NULL },
	{ "non-zero unused bits Zm9=", S("Zm9="), JG_ERR_MALFORMED, NULL },
	{ "url alphabet", S("-_8="), JG_ERR_MALFORMED, NULL },
	{ "url minus", S("-/8="), JG_ERR_MALFORMED, NULL },
	{ "url underscore", S("+_8="), JG_ERR_MALFORMED, NULL },
	{ "newline", S("Zm9v\nYmFy"), JG_ERR_MALFORMED, NULL },
	{ "trailing newline", S("Zm9vYmFy\n"), JG_ERR_MALFORMED, NULL },
	{ "space", S("Zm9v YmF"), JG_ERR_MALFORMED, NULL },
	{ "NUL inside", S("Zm\0v"), JG_ERR_MALFORMED, NULL },
};

static void
run_decode_cases(const struct decode_case *cases, size_t n, bool url)
{
	unsigned char *out, *want;
	size_t i, outlen, wantlen;
	enum jg_err rc;

	for (i = 0; i < n; i++) {
		out = NULL;
		outlen = 12345;
		rc = url ? jg_b64url_decode(cases[i].in, cases[i].len, &out, &outlen) :
		    jg_b64std_decode(cases[i].in, cases[i].len, &out, &outlen);
		if (rc != cases[i].want)
			fprintf(stderr, "case '%s': got %d want %d\n",
				cases[i].name, rc, cases[i].want);
		CU_ASSERT_EQUAL(rc, cases[i].want);
		if (cases[i].want != JG_OK) {
			/* Out-parameters are written only on success. */
			CU_ASSERT_PTR_NULL(out);
			CU_ASSERT_EQUAL(outlen, 12345);
			continue;
		}
		want = jg_test_unhex(cases[i].hex, &wantlen);
		CU_ASSERT_PTR_NOT_NULL_FATAL(out);
		CU_ASSERT_EQUAL(outlen, wantlen);
		CU_ASSERT_EQUAL(memcmp(out, want, wantlen), 0);
		CU_ASSERT_EQUAL(out[outlen], 0);
		free(want);
		free(out);
	}
}

static void
test_rfc4648_vectors(void)
{
	unsigned char *out;
	size_t i, len, outlen;
	char *enc;

	for (i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
		len = strlen(rfc4648[i].plain);
		enc = jg_b64url_encode(rfc4648[i].plain, len);
		CU_ASSERT_STRING_EQUAL(enc, rfc4648[i].url);
		CU_ASSERT_EQUAL(jg_b64url_encoded_len(len), strlen(rfc4648[i].url));
		free(enc);
		enc = jg_b64std_encode(rfc4648[i].plain, len);
		CU_ASSERT_STRING_EQUAL(enc, rfc4648[i].std);
		free(enc);

		CU_ASSERT_EQUAL_FATAL(jg_b64url_decode(rfc4648[i].url,
		    strlen(rfc4648[i].url), &out, &outlen), JG_OK);
		CU_ASSERT_EQUAL(outlen, len);
		CU_ASSERT_STRING_EQUAL((char *)out, rfc4648[i].plain);
		free(out);
		CU_ASSERT_EQUAL_FATAL(jg_b64std_decode(rfc4648[i].std,
		    strlen(rfc4648[i].std), &out, &outlen), JG_OK);
		CU_ASSERT_EQUAL(outlen, len);
		CU_ASSERT_STRING_EQUAL((char *)out, rfc4648[i].plain);
		free(out);
	}
}

static void
test_binary_vectors(void)
{
	unsigned char *bytes, *out;
	size_t i, len, outlen;
	char *enc;

	for (i = 0; i < sizeof(binary) / sizeof(binary[0]); i++) {
		bytes = jg_test_unhex(binary[i].hex, &len);
		enc = jg_b64url_encode(bytes, len);
		CU_ASSERT_STRING_EQUAL(enc, binary[i].url);
		free(enc);
		enc = jg_b64std_encode(bytes, len);
		CU_ASSERT_STRING_EQUAL(enc, binary[i].std);
		free(enc);
		CU_ASSERT_EQUAL_FATAL(jg_b64url_decode(binary[i].url,
		    strlen(binary[i].url), &out, &outlen), JG_OK);
		CU_ASSERT_EQUAL(outlen, len);
		CU_ASSERT_EQUAL(memcmp(out, bytes, len), 0);
		free(out);
		CU_ASSERT_EQUAL_FATAL(jg_b64std_decode(binary[i].std,
		    strlen(binary[i].std), &out, &outlen), JG_OK);
		CU_ASSERT_EQUAL(outlen, len);
		CU_ASSERT_EQUAL(memcmp(out, bytes, len), 0);
		free(out);
		free(bytes);
	}
}

static void
test_url_decode_table(void)
{
	run_decode_cases(url_cases, sizeof(url_cases) / sizeof(url_cases[0]), true);
}

static void
test_std_decode_table(void)
{
	run_decode_cases(std_cases, sizeof(std_cases) / sizeof(std_cases[0]), false);
}

/* The same table through jg_b64url_decode_into, which must agree. */
static void
test_decode_into_agrees(void)
{
	unsigned char buf[64];
	size_t i, outlen;
	enum jg_err rc;

	for (i = 0; i < sizeof(url_cases) / sizeof(url_cases[0]); i++) {
		outlen = 999;
		rc = jg_b64url_decode_into(url_cases[i].in, url_cases[i].len,
					   buf, sizeof(buf), &outlen);
		CU_ASSERT_EQUAL(rc, url_cases[i].want);
		if (rc != JG_OK)
			CU_ASSERT_EQUAL(outlen, 999);
	}
}

static void
test_decode_into_capacity(void)
{
	unsigned char buf[8];
	size_t outlen = 0;

	/* "foobar" is 6 bytes: cap 5 is too small, 6 is enough. */
	CU_ASSERT_EQUAL(jg_b64url_decode_into("Zm9vYmFy", 8, buf, 5, &outlen),
			JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_b64url_decode_into("Zm9vYmFy", 8, buf, 6, &outlen), JG_OK);
	CU_ASSERT_EQUAL(outlen, 6);
	CU_ASSERT_EQUAL(memcmp(buf, "foobar", 6), 0);
	/* "fooba" (7 chars) needs 5. */
	CU_ASSERT_EQUAL(jg_b64url_decode_into("Zm9vYmE", 7, buf, 4, &outlen),
			JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_b64url_decode_into("Zm9vYmE", 7, buf, 5, &outlen), JG_OK);
	CU_ASSERT_EQUAL(outlen, 5);
	CU_ASSERT_EQUAL(jg_b64url_decode_into("", 0, buf, 0, &outlen), JG_OK);
	CU_ASSERT_EQUAL(outlen, 0);
}

static void
test_encode_into(void)
{
	char out[16];

	memset(out, 'x', sizeof(out));
	CU_ASSERT_EQUAL(jg_b64url_encode_into("fooba", 5, out), 7);
	CU_ASSERT_STRING_EQUAL(out, "Zm9vYmE");
	CU_ASSERT_EQUAL(jg_b64url_encode_into("", 0, out), 0);
	CU_ASSERT_STRING_EQUAL(out, "");
	CU_ASSERT_EQUAL(jg_b64url_encoded_len(0), 0);
	CU_ASSERT_EQUAL(jg_b64url_encoded_len(1), 2);
	CU_ASSERT_EQUAL(jg_b64url_encoded_len(2), 3);
	CU_ASSERT_EQUAL(jg_b64url_encoded_len(3), 4);
	CU_ASSERT_EQUAL(jg_b64url_encoded_len(32), 43);
	CU_ASSERT_EQUAL(jg_b64url_encoded_len(64), 86);
}

/* Every length from 0 to 99 and every byte value survives both codecs. */
static void
test_round_trip(void)
{
	unsigned char bytes[100], *out;
	size_t len, i, outlen;
	char *enc;

	for (i = 0; i < sizeof(bytes); i++)
		bytes[i] = (unsigned char)(i * 167 + 13);
	for (len = 0; len <= sizeof(bytes); len++) {
		enc = jg_b64url_encode(bytes, len);
		CU_ASSERT_EQUAL(strlen(enc), jg_b64url_encoded_len(len));
		CU_ASSERT_PTR_NULL(strchr(enc, '='));
		CU_ASSERT_EQUAL(jg_b64url_decode(enc, strlen(enc), &out, &outlen), JG_OK);
		CU_ASSERT_EQUAL(outlen, len);
		CU_ASSERT_EQUAL(memcmp(out, bytes, len), 0);
		free(out);
		free(enc);

		enc = jg_b64std_encode(bytes, len);
		CU_ASSERT_EQUAL(strlen(enc) % 4, 0);
		CU_ASSERT_EQUAL(jg_b64std_decode(enc, strlen(enc), &out, &outlen), JG_OK);
		CU_ASSERT_EQUAL(outlen, len);
		CU_ASSERT_EQUAL(memcmp(out, bytes, len), 0);
		free(out);
		free(enc);
	}
}

/* Every character outside the alphabet, at each position of a quantum. */
static void
test_every_bad_byte(void)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	static const char std_alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char buf[8], *out;
	char in[4];
	size_t outlen, pos;
	unsigned c, accepted = 0;

	for (c = 0; c < 256; c++) {
		bool good = c != 0 && strchr(alphabet, (int)c) != NULL;

		for (pos = 0; pos < 4; pos++) {
			memcpy(in, "AAAA", 4);
			in[pos] = (char)c;
			if (jg_b64url_decode_into(in, 4, buf, sizeof(buf), &outlen) == JG_OK) {
				accepted++;
				CU_ASSERT_TRUE(good);
			} else {
				CU_ASSERT_FALSE(good);
			}
		}
	}
	CU_ASSERT_EQUAL(accepted, 64 * 4);

	/* The same for standard base64, whose 62 and 63 are '+' and '/'. */
	accepted = 0;
	for (c = 0; c < 256; c++) {
		bool good = c != 0 && strchr(std_alphabet, (int)c) != NULL;

		for (pos = 0; pos < 4; pos++) {
			/* "AAA=" is the one valid quantum with a padding char. */
			bool want = good || (c == '=' && pos == 3);

			memcpy(in, "AAAA", 4);
			in[pos] = (char)c;
			out = NULL;
			if (jg_b64std_decode(in, 4, &out, &outlen) == JG_OK) {
				accepted++;
				CU_ASSERT_TRUE(want);
				free(out);
			} else {
				CU_ASSERT_FALSE(want);
			}
		}
	}
	CU_ASSERT_EQUAL(accepted, 64 * 4 + 1);
	out = NULL;
	CU_ASSERT_EQUAL(jg_b64url_decode("AAA\x80", 4, &out, &outlen), JG_ERR_MALFORMED);
	CU_ASSERT_PTR_NULL(out);
}

/* Decodes len characters at in with the vector decoder on and off (where
 * the CPU has one): both must give the same answer and the same bytes.
 * Returns the answer. */
static enum jg_err
decode_both(const char *in, size_t len)
{
	unsigned char a[256], b[256];
	size_t alen = 0, blen = 0;
	enum jg_err ea, eb;

	jg_b64url_vector(1);
	ea = jg_b64url_decode_into(in, len, a, sizeof(a), &alen);
	jg_b64url_vector(0);
	eb = jg_b64url_decode_into(in, len, b, sizeof(b), &blen);
	jg_b64url_vector(1);
	CU_ASSERT_EQUAL(ea, eb);
	if (ea == JG_OK && eb == JG_OK) {
		CU_ASSERT_EQUAL(alen, blen);
		CU_ASSERT(alen == blen && memcmp(a, b, alen) == 0);
	}
	return ea;
}

/* The AVX2 decoder (b64url.c) against the scalar one: every length up to
 * 200 (whole 32-character blocks, the overlapping last block and the two or
 * three characters after it), every byte value at every position of a
 * 99-character text, every last character of texts whose length is 2 or 3
 * mod 4, and random texts over the alphabet plus bytes outside it. */
static void
test_vector_decoder(void)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	static const char mixed[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
		".=+/ \n@[`{:\x7f\x80\xff";
	unsigned char bytes[150], out[160];
	char text[256], *enc;
	size_t len, pos, i, outlen;
	unsigned c, seed = 12345, accepted;

#if defined(__x86_64__) && defined(__GNUC__)
	/* On x86-64 the vector decoder is there whenever the CPU has AVX2,
	 * and it is the default. */
	CU_ASSERT_EQUAL(jg_b64url_vector(-1),
			__builtin_cpu_supports("avx2") ? 1 : 0);
#endif
	for (i = 0; i < sizeof(bytes); i++)
		bytes[i] = (unsigned char)(i * 89 + 7);
	for (len = 0; len < sizeof(bytes); len++) {
		enc = jg_b64url_encode(bytes, len);
		CU_ASSERT_EQUAL(decode_both(enc, strlen(enc)), JG_OK);
		CU_ASSERT_EQUAL(jg_b64url_decode_into(enc, strlen(enc), out,
						      sizeof(out), &outlen), JG_OK);
		CU_ASSERT(outlen == len && memcmp(out, bytes, len) == 0);
		free(enc);
	}
	/* Lengths 0 to 200, 1 mod 4 included (refused by both). */
	memset(text, 'Q', sizeof(text));
	for (len = 0; len <= 200; len++)
		CU_ASSERT_EQUAL(decode_both(text, len) == JG_OK, len % 4 != 1);

	for (c = 0; c < 256; c++) {
		bool good = c != 0 && strchr(alphabet, (int)c) != NULL;

		accepted = 0;
		for (pos = 0; pos < 99; pos++) {
			memset(text, 'w', 99);
			/* 'w' is 48: a last character of 'w' leaves no
			 * unused bits only at a whole group, so end in 'A'. */
			text[98] = 'A';
			text[pos] = (char)c;
			if (decode_both(text, 99) == JG_OK)
				accepted++;
		}
		/* At position 98 only characters whose low two bits are
		 * zero are valid (99 is 3 mod 4). */
		if (!good) {
			CU_ASSERT_EQUAL(accepted, 0);
		} else {
			CU_ASSERT(accepted == 98 || accepted == 99);
		}
	}
	/* The unused bits of the last character, at 34 and 35 characters
	 * (one AVX2 block, then 2 or 3 characters). */
	for (len = 34; len <= 35; len++) {
		accepted = 0;
		for (i = 0; i < 64; i++) {
			memset(text, 'g', len);
			text[len - 1] = alphabet[i];
			if (decode_both(text, len) == JG_OK)
				accepted++;
		}
		CU_ASSERT_EQUAL(accepted, len == 34 ? 4 : 16);
	}
	/* Random texts: mostly alphabet, now and then another byte. */
	for (i = 0; i < 20000; i++) {
		seed = seed * 1103515245u + 12345u;
		len = (seed >> 8) % 180;
		for (pos = 0; pos < len; pos++) {
			seed = seed * 1103515245u + 12345u;
			text[pos] = (seed >> 16) % 97 == 0 ?
				    mixed[(seed >> 8) % (sizeof(mixed) - 1)] :
				    alphabet[(seed >> 8) % 64];
		}
		decode_both(text, len);
	}
}

int
main(void)
{
	static const struct jg_test tests[] = {
		{ "RFC 4648 section 10 vectors", test_rfc4648_vectors },
		{ "binary vectors (RFC 7515 appendices A.1, C)", test_binary_vectors },
		{ "base64url decode table", test_url_decode_table },
		{ "base64 decode table", test_std_decode_table },
		{ "decode_into agrees with decode", test_decode_into_agrees },
		{ "decode_into capacity", test_decode_into_capacity },
		{ "encode_into and encoded_len", test_encode_into },
		{ "round trip lengths 0..100", test_round_trip },
		{ "every byte outside the alphabets", test_every_bad_byte },
		{ "the vector decoder agrees with the scalar one", test_vector_decoder },
		{ NULL, NULL }
	};

	return jg_test_main("b64url", tests);
}
