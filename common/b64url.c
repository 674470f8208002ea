/* b64url.c: strict base64url (RFC 4648 section 5) and padded base64 (section 4). */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "b64url.h"

static const char url_alphabet[64] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char std_alphabet[64] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Decoding tables: the 6-bit value of each character, or 0x80 for a byte
 * outside the alphabet.  Decoding ORs every looked-up value together and
 * tests bit 7 once at the end, so the inner loop has no per-character
 * branch. */
#define BAD 0x80
#define ROW_BAD16 BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, \
	BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD
#define ROWS_HIGH ROW_BAD16, ROW_BAD16, ROW_BAD16, ROW_BAD16, \
	ROW_BAD16, ROW_BAD16, ROW_BAD16, ROW_BAD16

static const unsigned char url_table[256] = {
	ROW_BAD16,
	ROW_BAD16,
	/* 0x20: ' ' ... '/'; '-' is 62 */
	BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
	BAD, BAD, BAD, BAD, BAD, 62, BAD, BAD,
	/* 0x30: '0'-'9' */
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, BAD, BAD, BAD, BAD, BAD, BAD,
	/* 0x40: '@', 'A'-'O' */
	BAD, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
	/* 0x50: 'P'-'Z', then '_' is 63 */
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, BAD, BAD, BAD, BAD, 63,
	/* 0x60: '`', 'a'-'o' */
	BAD, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	/* 0x70: 'p'-'z' */
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, BAD, BAD, BAD, BAD, BAD,
	ROWS_HIGH
};

static const unsigned char std_table[256] = {
	ROW_BAD16,
	ROW_BAD16,
	/* 0x20: '+' is 62, '/' is 63 */
	BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
	BAD, BAD, BAD, 62, BAD, BAD, BAD, 63,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, BAD, BAD, BAD, BAD, BAD, BAD,
	BAD, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, BAD, BAD, BAD, BAD, BAD,
	BAD, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, BAD, BAD, BAD, BAD, BAD,
	ROWS_HIGH
};

/* The base64url decoding table again, four times, with each character's
 * value already shifted to its place in a group of four characters (18, 12,
 * 6 and 0 bits), and bit 31 set for a byte outside the alphabet: a group is
 * then four loads and three ORs (jws.c decodes every token it checks). */
#define URL_VALUE(c) ((c) >= 'A' && (c) <= 'Z' ? (c) - 'A' : \
	(c) >= 'a' && (c) <= 'z' ? (c) - 'a' + 26 : \
	(c) >= '0' && (c) <= '9' ? (c) - '0' + 52 : \
	(c) == '-' ? 62 : (c) == '_' ? 63 : -1)
#define URL_PLACED(c, s) (URL_VALUE(c) < 0 ? UINT32_C(0x80000000) : \
	(uint32_t)URL_VALUE(c) << (s))
#define PLACED4(c, s) URL_PLACED(c, s), URL_PLACED((c) + 1, s), \
	URL_PLACED((c) + 2, s), URL_PLACED((c) + 3, s)
#define PLACED16(c, s) PLACED4(c, s), PLACED4((c) + 4, s), \
	PLACED4((c) + 8, s), PLACED4((c) + 12, s)
#define PLACED64(c, s) PLACED16(c, s), PLACED16((c) + 16, s), \
	PLACED16((c) + 32, s), PLACED16((c) + 48, s)
#define PLACED256(s) PLACED64(0, s), PLACED64(64, s), PLACED64(128, s), \
	PLACED64(192, s)

static const uint32_t url_placed[4][256] = {
	{ PLACED256(18) }, { PLACED256(12) }, { PLACED256(6) }, { PLACED256(0) }
};

/* Encodes len bytes with alphabet; pad adds '=' to a multiple of four.
 * Returns the number of characters written (no NUL is written). */
static size_t
encode(const char *alphabet, const unsigned char *in, size_t len, char *out,
       bool pad)
{
	char *o = out;
	size_t i = 0;
	uint32_t v;

	for (; len - i >= 3; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		o[0] = alphabet[v >> 18];
		o[1] = alphabet[(v >> 12) & 63];
		o[2] = alphabet[(v >> 6) & 63];
		o[3] = alphabet[v & 63];
		o += 4;
	}
	if (len - i == 1) {
		v = (uint32_t)in[i] << 16;
		*o++ = alphabet[v >> 18];
		*o++ = alphabet[(v >> 12) & 63];
		if (pad) {
			*o++ = '=';
			*o++ = '=';
		}
	} else if (len - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		*o++ = alphabet[v >> 18];
		*o++ = alphabet[(v >> 12) & 63];
		*o++ = alphabet[(v >> 6) & 63];
		if (pad)
			*o++ = '=';
	}
	return (size_t)(o - out);
}

/* Decodes len characters (no padding) with table into out, which has room
 * for the decoded size.  Returns false on a character outside the alphabet,
 * a length of 1 mod 4, or non-zero unused trailing bits. */
static bool
decode(const unsigned char *table, const unsigned char *in, size_t len,
       unsigned char *out)
{
	size_t i = 0, rem = len % 4;
	unsigned bad = 0;
	uint32_t a, b, c, d;

	if (rem == 1)
		return false;
	for (; len - i >= 4; i += 4) {
		a = table[in[i]];
		b = table[in[i + 1]];
		c = table[in[i + 2]];
		d = table[in[i + 3]];
		bad |= a | b | c | d;
		a = a << 18 | b << 12 | c << 6 | d;
		out[0] = (unsigned char)(a >> 16);
		out[1] = (unsigned char)(a >> 8);
		out[2] = (unsigned char)a;
		out += 3;
	}
	if (rem == 2) {
		a = table[in[i]];
		b = table[in[i + 1]];
		bad |= a | b;
		/* The low 4 bits of the second character are unused. */
		bad |= (b & 0x0f) ? BAD : 0;
		out[0] = (unsigned char)(a << 2 | b >> 4);
	} else if (rem == 3) {
		a = table[in[i]];
		b = table[in[i + 1]];
		c = table[in[i + 2]];
		bad |= a | b | c;
		/* The low 2 bits of the third character are unused. */
		bad |= (c & 0x03) ? BAD : 0;
		out[0] = (unsigned char)(a << 2 | b >> 4);
		out[1] = (unsigned char)(b << 4 | c >> 2);
	}
	return (bad & BAD) == 0;
}

/* ------------------------------------------------ the AVX2 decoder (x86-64)
 *
 * 32 characters at a time.  Each byte c is checked by its two nibbles: the
 * high nibble picks one of six classes (a bit in hi_class), the low nibble
 * gives the classes in which it is not a base64url character (lo_invalid);
 * c is valid when the two share no bit.
 *   class  high nibble  valid low nibbles
 *   0x01   2            D ('-')
 *   0x02   3            0-9
 *   0x04   4, 6         1-F ('A'-'O', 'a'-'o')
 *   0x08   5            0-A, F ('P'-'Z', '_')
 *   0x10   7            0-A ('p'-'z')
 *   0x20   0, 1, 8-F    none
 * The 6-bit value is c plus an offset chosen by the high nibble, except for
 * '_', which gets 33 more than the rest of its row.  Four values a b c d
 * are then merged into a<<18|b<<12|c<<6|d by two multiply-adds, and a byte
 * shuffle writes each group's three bytes in order. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(JG_NO_VECTOR)
#include <immintrin.h>
#define JG_B64_AVX2 1

/* The same 16 bytes in both 128-bit lanes (shuffles work per lane). */
#define LANES2(...) __VA_ARGS__, __VA_ARGS__

/* Decodes len characters, a multiple of four and at least 32, into out
 * (len / 4 * 3 bytes).  A last part shorter than 32 characters is decoded
 * by a block that overlaps the one before; it writes the same bytes again.
 * Returns false when a character is outside the alphabet. */
__attribute__((target("avx2"))) static bool
decode_url_avx2(const unsigned char *in, size_t len, unsigned char *out)
{
	const __m256i lo_invalid = _mm256_setr_epi8(LANES2(
		0x25, 0x21, 0x21, 0x21, 0x21, 0x21, 0x21, 0x21,
		0x21, 0x21, 0x23, 0x3b, 0x3b, 0x3a, 0x3b, 0x33));
	const __m256i hi_class = _mm256_setr_epi8(LANES2(
		0x20, 0x20, 0x01, 0x02, 0x04, 0x08, 0x04, 0x10,
		0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20));
	const __m256i offset = _mm256_setr_epi8(LANES2(
		0, 0, 17, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0));
	const __m256i nibble = _mm256_set1_epi8(0x0f);
	const __m256i underscore = _mm256_set1_epi8('_');
	const __m256i underscore_fix = _mm256_set1_epi8(33);
	const __m256i merge_pairs = _mm256_set1_epi32(0x01400140);
	const __m256i merge_quads = _mm256_set1_epi32(0x00011000);
	const __m256i order = _mm256_setr_epi8(LANES2(
		2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1));
	const __m256i pack = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 3, 7);
	__m256i wrong = _mm256_setzero_si256(), c, hi, add, v;
	size_t i = 0;

	for (;;) {
		c = _mm256_loadu_si256((const __m256i *)(const void *)(in + i));
		hi = _mm256_and_si256(_mm256_srli_epi32(c, 4), nibble);
		wrong = _mm256_or_si256(wrong, _mm256_and_si256(
			_mm256_shuffle_epi8(lo_invalid,
					    _mm256_and_si256(c, nibble)),
			_mm256_shuffle_epi8(hi_class, hi)));
		add = _mm256_add_epi8(_mm256_shuffle_epi8(offset, hi),
				      _mm256_and_si256(underscore_fix,
						       _mm256_cmpeq_epi8(c, underscore)));
		v = _mm256_add_epi8(c, add);
		v = _mm256_maddubs_epi16(v, merge_pairs);
		v = _mm256_madd_epi16(v, merge_quads);
		v = _mm256_shuffle_epi8(v, order);
		v = _mm256_permutevar8x32_epi32(v, pack);
		_mm_storeu_si128((__m128i *)(void *)(out + i / 4 * 3),
				 _mm256_castsi256_si128(v));
		_mm_storel_epi64((__m128i *)(void *)(out + i / 4 * 3 + 16),
				 _mm256_extracti128_si256(v, 1));
		if (i + 32 == len)
			break;
		i += 32;
		if (len - i < 32)
			i = len - 32;
	}
	return _mm256_testz_si256(wrong, wrong) != 0;
}
#endif

/* 1 when decode_url may use the AVX2 decoder: the CPU has it and
 * jg_b64url_vector has not turned it off; -1 until first asked.  Read and
 * written atomically: threads may decode at the same time. */
static int use_avx2 = -1;

int
jg_b64url_vector(int on)
{
#ifdef JG_B64_AVX2
	int v = __atomic_load_n(&use_avx2, __ATOMIC_RELAXED);

	if (on < 0 && v >= 0)
		return v;
	v = (on != 0 && __builtin_cpu_supports("avx2")) ? 1 : 0;
	__atomic_store_n(&use_avx2, v, __ATOMIC_RELAXED);
	return v;
#else
	(void)on;
	(void)use_avx2;
	return 0;
#endif
}

/* decode for the base64url alphabet: whole groups through the AVX2 decoder
 * where there is one and at least 32 characters, else through url_placed;
 * the last two or three characters through decode. */
static bool
decode_url(const unsigned char *in, size_t len, unsigned char *out)
{
	size_t i = 0, rem = len % 4;
	uint32_t bad = 0, x;

	if (rem == 1)
		return false;
#ifdef JG_B64_AVX2
	if (len - rem >= 32 && jg_b64url_vector(-1) > 0) {
		i = len - rem;
		if (!decode_url_avx2(in, i, out))
			return false;
		out += i / 4 * 3;
	}
#endif
	for (; len - i >= 4; i += 4) {
		x = url_placed[0][in[i]] | url_placed[1][in[i + 1]] |
		    url_placed[2][in[i + 2]] | url_placed[3][in[i + 3]];
		bad |= x;
		out[0] = (unsigned char)(x >> 16);
		out[1] = (unsigned char)(x >> 8);
		out[2] = (unsigned char)x;
		out += 3;
	}
	if ((bad & UINT32_C(0x80000000)) != 0)
		return false;
	return rem == 0 || decode(url_table, in + i, rem, out);
}

/* Decoded size of len unpadded characters (len not 1 mod 4). */
static size_t
decoded_len(size_t len)
{
	size_t rem = len % 4;

	return len / 4 * 3 + (rem ? rem - 1 : 0);
}

size_t
jg_b64url_encoded_len(size_t len)
{
	size_t rem = len % 3;

	return len / 3 * 4 + (rem ? rem + 1 : 0);
}

char *
jg_b64url_encode(const void *in, size_t len)
{
	char *out = jg_xmalloc(jg_b64url_encoded_len(len) + 1);
	size_t n = encode(url_alphabet, in, len, out, false);

	out[n] = '\0';
	return out;
}

size_t
jg_b64url_encode_into(const void *in, size_t len, char *out)
{
	size_t n = encode(url_alphabet, in, len, out, false);

	out[n] = '\0';
	return n;
}

enum jg_err
jg_b64url_decode_into(const char *in, size_t len, unsigned char *out,
		      size_t cap, size_t *outlen)
{
	size_t n;

	if (len % 4 == 1)
		return JG_ERR_MALFORMED;
	n = decoded_len(len);
	if (n > cap)
		return JG_ERR_MALFORMED;
	if (!decode_url((const unsigned char *)in, len, out))
		return JG_ERR_MALFORMED;
	*outlen = n;
	return JG_OK;
}

enum jg_err
jg_b64url_decode(const char *in, size_t len, unsigned char **out,
		 size_t *outlen)
{
	unsigned char *buf;
	size_t n;

	if (len % 4 == 1)
		return JG_ERR_MALFORMED;
	n = decoded_len(len);
	buf = jg_xmalloc(n + 1);
	if (!decode_url((const unsigned char *)in, len, buf)) {
		jg_wipe(buf, n);
		free(buf);
		return JG_ERR_MALFORMED;
	}
	buf[n] = '\0';
	*out = buf;
	*outlen = n;
	return JG_OK;
}

char *
jg_b64std_encode(const void *in, size_t len)
{
	char *out = jg_xmalloc((len + 2) / 3 * 4 + 1);
	size_t n = encode(std_alphabet, in, len, out, true);

	out[n] = '\0';
	return out;
}

enum jg_err
jg_b64std_decode(const char *in, size_t len, unsigned char **out,
		 size_t *outlen)
{
	unsigned char *buf;
	size_t body = len, n;

	/* Padding is required: a multiple of four, with at most two '=' and
	 * only at the very end.  An '=' anywhere else fails the table. */
	if (len % 4 != 0)
		return JG_ERR_MALFORMED;
	if (len >= 1 && in[len - 1] == '=') {
		body--;
		if (in[len - 2] == '=')
			body--;
	}
	n = decoded_len(body);
	buf = jg_xmalloc(n + 1);
	if (!decode(std_table, (const unsigned char *)in, body, buf)) {
		jg_wipe(buf, n);
		free(buf);
		return JG_ERR_MALFORMED;
	}
	buf[n] = '\0';
	*out = buf;
	*outlen = n;
	return JG_OK;
}
