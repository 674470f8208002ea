/* test_json.c: the strict JSON parser (RFC 8259 plus jwtgate's rules) and accessors. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "testutil.h"

struct parse_case {
	const char *in;
	size_t len;
	enum jg_err want;
	/* JG_OK: the expected compact dump; otherwise the expected reason. */
	const char *expect;
};

#define S(s) s, sizeof(s) - 1
#define OK(s, dump) { S(s), JG_OK, dump }
#define BAD(s, why) { S(s), JG_ERR_MALFORMED, why }

/* Grammar from RFC 8259 sections 2-8; the extra rules from the JOSE rules
 * of SPEC.md (duplicates, NUL in names, UTF-8, depth, trailing bytes). */
static const struct parse_case cases[] = {
	/* valid documents, with their compact form */
	OK("{}", "{}"),
	OK("[]", "[]"),
	OK(" \t\r\n{ \"a\" : 1 }\r\n\t ", "{\"a\":1}"),
	OK("{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"k1\"}",
	   "{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"k1\"}"),
	OK("\"top-level string\"", "\"top-level string\""),
	OK("true", "true"),
	OK("false", "false"),
	OK("null", "null"),
	OK("0", "0"),
	OK("-0", "0"),
	OK("42", "42"),
	OK("-42", "-42"),
	OK("9223372036854775807", "9223372036854775807"),
	OK("-9223372036854775808", "-9223372036854775808"),
	OK("1.5", "1.5"),
	OK("-0.25e-2", "-0.25e-2"),
	OK("1E3", "1E3"),
	OK("1e+300", "1e+300"),
	OK("[1,2.5,\"x\",true,false,null,{},[]]",
	   "[1,2.5,\"x\",true,false,null,{},[]]"),
	OK("{\"a\":{\"b\":[1,{\"c\":null}]}}", "{\"a\":{\"b\":[1,{\"c\":null}]}}"),
	/* the same name in different objects is no duplicate */
	OK("{\"a\":{\"a\":1},\"b\":{\"a\":2}}", "{\"a\":{\"a\":1},\"b\":{\"a\":2}}"),
	OK("{\"\":1}", "{\"\":1}"),
	OK("{\"url\":\"https:\\/\\/a.example\\/b\"}", "{\"url\":\"https://a.example/b\"}"),
	OK("[\"\\\"\\\\\\b\\f\\n\\r\\t\"]", "[\"\\\"\\\\\\b\\f\\n\\r\\t\"]"),
	OK("[\"\\u0041\\u00e9\\u20AC\"]", "[\"A\xc3\xa9\xe2\x82\xac\"]"),
	/* a surrogate pair escape: U+1F600 */
	OK("[\"\\ud83d\\ude00\"]", "[\"\xf0\x9f\x98\x80\"]"),
	/* NUL is allowed in values (not in names) */
	OK("{\"a\":\"x\\u0000y\"}", "{\"a\":\"x\\u0000y\"}"),
	/* raw UTF-8 at the edges of RFC 3629's table */
	OK("[\"\xc2\x80\xdf\xbf\"]", "[\"\xc2\x80\xdf\xbf\"]"),
	OK("[\"\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf\"]",
	   "[\"\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf\"]"),
	OK("[\"\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\"]", "[\"\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\"]"),
	OK("{\"\xc3\xa9\":\"\xc3\xa9\"}", "{\"\xc3\xa9\":\"\xc3\xa9\"}"),

	/* duplicate member names, also those visible only after unescaping */
	BAD("{\"a\":1,\"a\":2}", "duplicate member name"),
	BAD("{\"a\":1,\"\\u0061\":2}", "duplicate member name"),
	BAD("{\"\\u0061\":1,\"a\":2}", "duplicate member name"),
	BAD("{\"a/b\":1,\"a\\/b\":2}", "duplicate member name"),
	BAD("{\"x\":{\"a\":1,\"b\":2,\"a\":3}}", "duplicate member name"),
	BAD("[{\"alg\":\"none\",\"alg\":\"HS256\"}]", "duplicate member name"),
	/* NUL inside a member name (json-c would cut the name there) */
	BAD("{\"a\\u0000b\":1}", "NUL in member name"),
	BAD("{\"a\\u0000\":1,\"a\":2}", "NUL in member name"),
	/* trailing bytes */
	BAD("{\"a\":1} x", "trailing bytes after the JSON value"),
	BAD("{\"a\":1}{}", "trailing bytes after the JSON value"),
	BAD("{}\0", "trailing bytes after the JSON value"),
	BAD("{}\xff", "trailing bytes after the JSON value"),
	BAD("1 2", "trailing bytes after the JSON value"),
	BAD("{}]", "trailing bytes after the JSON value"),
	/* trailing commas, quotes, structure */
	BAD("[1,]", "unexpected character"),
	BAD("{\"a\":1,}", "expected a member name"),
	BAD("{'a':1}", "expected a member name"),
	BAD("['a']", "unexpected character"),
	BAD("{a:1}", "expected a member name"),
	BAD("{1:2}", "expected a member name"),
	BAD("{\"a\" 1}", "expected ':' after a member name"),
	BAD("{\"a\":1 \"b\":2}", "expected ',' or '}' in object"),
	BAD("[1 2]", "expected ',' or ']' in array"),
	BAD("[1,2", "expected ',' or ']' in array"),
	BAD("{\"a\":1", "expected ',' or '}' in object"),
	BAD("[1}", "expected ',' or ']' in array"),
	BAD("{\"a\":1]", "expected ',' or '}' in object"),
	BAD("{\"a\":}", "unexpected character"),
	BAD("[,1]", "unexpected character"),
	BAD("", "unexpected end of JSON text"),
	BAD(" \n ", "unexpected end of JSON text"),
	BAD("[", "unexpected end of JSON text"),
	BAD("{\"a\":", "unexpected end of JSON text"),
	BAD("\xef\xbb\xbf{}", "unexpected character"),
	BAD("\f{}", "unexpected character"),
	BAD("\v{}", "unexpected character"),
	BAD("[\0]", "unexpected character"),
	/* literals */
	BAD("tru", "unexpected character"),
	BAD("nul", "unexpected character"),
	BAD("True", "unexpected character"),
	BAD("nulll", "trailing bytes after the JSON value"),
	/* numbers (RFC 8259 section 6) */
	BAD("01", "number with a leading zero"),
	BAD("-01", "number with a leading zero"),
	BAD("[00]", "number with a leading zero"),
	BAD("NaN", "unexpected character"),
	BAD("Infinity", "unexpected character"),
	BAD("-Infinity", "invalid number"),
	BAD("+1", "unexpected character"),
	BAD(".5", "unexpected character"),
	BAD("1.", "invalid number"),
	BAD("1.e3", "invalid number"),
	BAD("1e", "invalid number"),
	BAD("1e+", "invalid number"),
	BAD("-", "invalid number"),
	BAD("0x10", "trailing bytes after the JSON value"),
	BAD("1e400", "number out of range"),
	BAD("-1e400", "number out of range"),
	/* strings */
	BAD("\"a\tb\"", "control character in string"),
	BAD("\"a\nb\"", "control character in string"),
	BAD("\"a\x01\"", "control character in string"),
	BAD("\"a\0b\"", "control character in string"),
	BAD("{\"a\x1f\":1}", "control character in string"),
	BAD("\"\\x41\"", "invalid escape in string"),
	BAD("\"\\'\"", "invalid escape in string"),
	BAD("\"\\U0041\"", "invalid escape in string"),
	BAD("\"\\u12\"", "invalid \\u escape"),
	BAD("\"\\u12g4\"", "invalid \\u escape"),
	BAD("\"\\u", "invalid \\u escape"),
	BAD("\"abc", "unterminated string"),
	BAD("\"abc\\", "unterminated string"),
	BAD("{\"a", "unterminated string"),
	/* lone surrogate escapes */
	BAD("\"\\ud800\"", "lone surrogate escape"),
	BAD("\"\\uDBFF\"", "lone surrogate escape"),
	BAD("\"\\udc00\"", "lone surrogate escape"),
	BAD("\"\\udc00\\ud800\"", "lone surrogate escape"),
	BAD("\"\\ud800\\u0041\"", "lone surrogate escape"),
	BAD("\"\\ud800x\"", "lone surrogate escape"),
	BAD("\"\\ud800\\ud800\"", "lone surrogate escape"),
	BAD("{\"\\ud800\":1}", "lone surrogate escape"),
	/* bad UTF-8 (RFC 3629 section 4) in values and names */
	BAD("\"\xc0\xaf\"", "invalid UTF-8 in string"),		/* overlong '/' */
	BAD("\"\xc1\xbf\"", "invalid UTF-8 in string"),		/* overlong */
	BAD("\"\xe0\x80\xaf\"", "invalid UTF-8 in string"),	/* overlong, 3 bytes */
	BAD("\"\xf0\x80\x80\xaf\"", "invalid UTF-8 in string"),	/* overlong, 4 bytes */
	BAD("\"\xed\xa0\x80\"", "invalid UTF-8 in string"),	/* U+D800 */
	BAD("\"\xed\xbf\xbf\"", "invalid UTF-8 in string"),	/* U+DFFF */
	BAD("\"\xf4\x90\x80\x80\"", "invalid UTF-8 in string"),	/* U+110000 */
	BAD("\"\xf5\x80\x80\x80\"", "invalid UTF-8 in string"),
	BAD("\"\xe2\x82\"", "invalid UTF-8 in string"),		/* truncated */
	BAD("\"\xe2\x82", "invalid UTF-8 in string"),		/* truncated at end */
	BAD("\"\xf0\x9f\x98\"", "invalid UTF-8 in string"),	/* truncated */
	BAD("\"\xff\"", "invalid UTF-8 in string"),
	BAD("\"\xfe\"", "invalid UTF-8 in string"),
	BAD("\"\x80\"", "invalid UTF-8 in string"),		/* lone continuation */
	BAD("\"\xc3\x28\"", "invalid UTF-8 in string"),		/* bad continuation */
	BAD("{\"\xff\":1}", "invalid UTF-8 in string"),
};

static void
test_parse_table(void)
{
	struct json_object *obj;
	const char *why;
	enum jg_err rc;
	size_t i;
	char *dump;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		obj = (struct json_object *)&obj;	/* must stay unless OK */
		why = NULL;
		rc = jg_json_parse(cases[i].in, cases[i].len, 0, &obj, &why);
		if (rc != cases[i].want)
			fprintf(stderr, "case %zu (%.*s): got %d (%s)\n", i,
				(int)cases[i].len, cases[i].in, rc, why ? why : "");
		CU_ASSERT_EQUAL(rc, cases[i].want);
		if (rc != JG_OK) {
			CU_ASSERT_PTR_EQUAL(obj, (struct json_object *)&obj);
			CU_ASSERT_PTR_NOT_NULL_FATAL(why);
			if (strcmp(why, cases[i].expect) != 0)
				fprintf(stderr, "case %zu: reason '%s', want '%s'\n",
					i, why, cases[i].expect);
			CU_ASSERT_STRING_EQUAL(why, cases[i].expect);
			continue;
		}
		CU_ASSERT_PTR_NULL(why);
		dump = jg_json_dump(obj);
		if (strcmp(dump, cases[i].expect) != 0)
			fprintf(stderr, "case %zu: dump '%s', want '%s'\n", i,
				dump, cases[i].expect);
		CU_ASSERT_STRING_EQUAL(dump, cases[i].expect);
		free(dump);
		json_object_put(obj);
	}
}

/* Integers that fit int64 are json_type_int; others are doubles. */
static void
test_number_types(void)
{
	static const struct {
		const char *in;
		enum json_type type;
		int64_t i;
		double d;
	} nums[] = {
		{ "0", json_type_int, 0, 0 },
		{ "-0", json_type_int, 0, 0 },
		{ "1700000000", json_type_int, 1700000000, 0 },
		{ "9007199254740993", json_type_int, 9007199254740993LL, 0 },
		{ "9223372036854775807", json_type_int, INT64_MAX, 0 },
		{ "-9223372036854775808", json_type_int, INT64_MIN, 0 },
		{ "9223372036854775808", json_type_double, 0, 9223372036854775808.0 },
		{ "-9223372036854775809", json_type_double, 0, -9223372036854775809.0 },
		{ "18446744073709551616", json_type_double, 0, 18446744073709551616.0 },
		{ "1.0", json_type_double, 0, 1.0 },
		{ "1e3", json_type_double, 0, 1000.0 },
		{ "1.5", json_type_double, 0, 1.5 },
		{ "1e300", json_type_double, 0, 1e300 },
		{ "1e-400", json_type_double, 0, 0.0 },
	};
	struct json_object *obj;
	size_t i;

	for (i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		obj = NULL;
		CU_ASSERT_EQUAL_FATAL(jg_json_parse(nums[i].in, strlen(nums[i].in),
		    0, &obj, NULL), JG_OK);
		CU_ASSERT_EQUAL(json_object_get_type(obj), nums[i].type);
		if (nums[i].type == json_type_int) {
			CU_ASSERT_EQUAL(json_object_get_int64(obj), nums[i].i);
		} else {
			CU_ASSERT_DOUBLE_EQUAL(json_object_get_double(obj), nums[i].d, 0.0);
		}
		json_object_put(obj);
	}
}

static char *
nested(size_t depth, const char *open, const char *inner, const char *close)
{
	size_t olen = strlen(open), ilen = strlen(inner), clen = strlen(close), i;
	char *s = malloc(depth * (olen + clen) + ilen + 1), *p = s;

	for (i = 0; i < depth; i++, p += olen)
		memcpy(p, open, olen);
	memcpy(p, inner, ilen);
	p += ilen;
	for (i = 0; i < depth; i++, p += clen)
		memcpy(p, close, clen);
	*p = '\0';
	return s;
}

static enum jg_err
parse_text(const char *s, unsigned max_depth, const char **why)
{
	struct json_object *obj = NULL;
	enum jg_err rc = jg_json_parse(s, strlen(s), max_depth, &obj, why);

	json_object_put(obj);
	return rc;
}

static void
test_depth(void)
{
	const char *why = NULL;
	char *s;

	/* JG_JSON_MAX_DEPTH (32) levels pass, one more fails. */
	s = nested(JG_JSON_MAX_DEPTH, "[", "1", "]");
	CU_ASSERT_EQUAL(parse_text(s, 0, NULL), JG_OK);
	free(s);
	s = nested(JG_JSON_MAX_DEPTH + 1, "[", "1", "]");
	CU_ASSERT_EQUAL(parse_text(s, 0, &why), JG_ERR_MALFORMED);
	CU_ASSERT_STRING_EQUAL(why, "JSON nested too deeply");
	free(s);
	s = nested(JG_JSON_MAX_DEPTH, "{\"a\":", "{}", "}");
	CU_ASSERT_EQUAL(parse_text(s, 0, NULL), JG_ERR_MALFORMED);
	free(s);
	s = nested(JG_JSON_MAX_DEPTH - 1, "{\"a\":", "{}", "}");
	CU_ASSERT_EQUAL(parse_text(s, 0, NULL), JG_OK);
	free(s);
	/* An unclosed deep nest fails on depth, not on running out of input. */
	s = nested(100000, "[", "", "");
	CU_ASSERT_EQUAL(parse_text(s, 0, &why), JG_ERR_MALFORMED);
	CU_ASSERT_STRING_EQUAL(why, "JSON nested too deeply");
	free(s);

	/* An explicit max_depth. */
	CU_ASSERT_EQUAL(parse_text("[[1]]", 2, NULL), JG_OK);
	CU_ASSERT_EQUAL(parse_text("[[[1]]]", 2, NULL), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(parse_text("{\"a\":{\"b\":1}}", 1, NULL), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(parse_text("{\"a\":1}", 1, NULL), JG_OK);
	CU_ASSERT_EQUAL(parse_text("1", 1, NULL), JG_OK);
	/* A large max_depth is honoured without recursion. */
	s = nested(5000, "[", "", "]");
	CU_ASSERT_EQUAL(parse_text(s, 5000, NULL), JG_OK);
	CU_ASSERT_EQUAL(parse_text(s, 4999, NULL), JG_ERR_MALFORMED);
	free(s);
}

static void
test_size_bound(void)
{
	struct json_object *obj = NULL;
	const char *why = NULL;
	size_t len = JG_JSON_MAX_SIZE;
	char *s = malloc(len + 2);

	/* A string of exactly JG_JSON_MAX_SIZE bytes with its quotes. */
	memset(s, 'a', len + 1);
	s[0] = '"';
	s[len - 1] = '"';
	CU_ASSERT_EQUAL(jg_json_parse(s, len, 0, &obj, &why), JG_OK);
	CU_ASSERT_EQUAL(json_object_get_string_len(obj), (int)len - 2);
	json_object_put(obj);
	obj = NULL;
	/* One byte more (white space) is too large. */
	s[len] = ' ';
	CU_ASSERT_EQUAL(jg_json_parse(s, len + 1, 0, &obj, &why), JG_ERR_MALFORMED);
	CU_ASSERT_STRING_EQUAL(why, "JSON text too large");
	CU_ASSERT_PTR_NULL(obj);
	free(s);
}

/* Exactly len bytes are parsed: what follows in memory does not count. */
static void
test_exact_length(void)
{
	struct json_object *obj = NULL;
	const char *text = "{\"a\":1}garbage";

	CU_ASSERT_EQUAL(jg_json_parse(text, 7, 0, &obj, NULL), JG_OK);
	CU_ASSERT_TRUE(json_object_is_type(obj, json_type_object));
	json_object_put(obj);
	CU_ASSERT_EQUAL(jg_json_parse(text, 6, 0, &obj, NULL), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_json_parse(text, 8, 0, &obj, NULL), JG_ERR_MALFORMED);
}

/* Many members: duplicates are found past json-c's initial table size. */
static void
test_many_members(void)
{
	struct json_object *obj = NULL;
	const char *why = NULL;
	size_t cap = 64 * 1024, n = 0, i;
	char *s = malloc(cap);

	n += (size_t)snprintf(s + n, cap - n, "{");
	for (i = 0; i < 1000; i++)
		n += (size_t)snprintf(s + n, cap - n, "%s\"k%zu\":%zu", i ? "," : "", i, i);
	n += (size_t)snprintf(s + n, cap - n, "}");
	CU_ASSERT_EQUAL(jg_json_parse(s, n, 0, &obj, NULL), JG_OK);
	CU_ASSERT_EQUAL(json_object_object_length(obj), 1000);
	json_object_put(obj);
	/* Replace the final "}" with a duplicate of an early member. */
	n--;
	n += (size_t)snprintf(s + n, cap - n, ",\"k7\":0}");
	CU_ASSERT_EQUAL(jg_json_parse(s, n, 0, &obj, &why), JG_ERR_MALFORMED);
	CU_ASSERT_STRING_EQUAL(why, "duplicate member name");
	free(s);
}

static void
test_parse_object(void)
{
	struct json_object *obj = NULL;
	const char *why = NULL;

	CU_ASSERT_EQUAL(jg_json_parse_object("{}", 2, &obj, &why), JG_OK);
	CU_ASSERT_TRUE(json_object_is_type(obj, json_type_object));
	json_object_put(obj);
	obj = NULL;
	CU_ASSERT_EQUAL(jg_json_parse_object("[]", 2, &obj, &why), JG_ERR_MALFORMED);
	CU_ASSERT_STRING_EQUAL(why, "JSON value is not an object");
	CU_ASSERT_EQUAL(jg_json_parse_object("null", 4, &obj, &why), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_json_parse_object("\"{}\"", 4, &obj, &why), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_json_parse_object("{\"a\":1,\"a\":1}", 13, &obj, &why),
			JG_ERR_MALFORMED);
	CU_ASSERT_STRING_EQUAL(why, "duplicate member name");
	CU_ASSERT_PTR_NULL(obj);
}

static struct json_object *
parse_ok(const char *s)
{
	struct json_object *obj = NULL;

	CU_ASSERT_EQUAL_FATAL(jg_json_parse(s, strlen(s), 0, &obj, NULL), JG_OK);
	return obj;
}

static void
test_get_string(void)
{
	struct json_object *obj = parse_ok(
	    "{\"s\":\"v\",\"e\":\"\",\"n\":1,\"b\":true,\"z\":null,\"nul\":\"a\\u0000b\","
	    "\"a\":[\"x\"],\"o\":{}}");
	struct json_object *arr = parse_ok("[\"s\"]");
	const char *s = "unchanged";

	CU_ASSERT_TRUE(jg_json_get_string(obj, "s", &s));
	CU_ASSERT_STRING_EQUAL(s, "v");
	CU_ASSERT_TRUE(jg_json_get_string(obj, "e", &s));
	CU_ASSERT_STRING_EQUAL(s, "");
	s = "unchanged";
	CU_ASSERT_FALSE(jg_json_get_string(obj, "n", &s));
	CU_ASSERT_FALSE(jg_json_get_string(obj, "b", &s));
	CU_ASSERT_FALSE(jg_json_get_string(obj, "z", &s));
	CU_ASSERT_FALSE(jg_json_get_string(obj, "a", &s));
	CU_ASSERT_FALSE(jg_json_get_string(obj, "o", &s));
	CU_ASSERT_FALSE(jg_json_get_string(obj, "missing", &s));
	/* A string with NUL inside would read as "a": refused. */
	CU_ASSERT_FALSE(jg_json_get_string(obj, "nul", &s));
	CU_ASSERT_FALSE(jg_json_get_string(arr, "0", &s));
	CU_ASSERT_FALSE(jg_json_get_string(NULL, "s", &s));
	CU_ASSERT_STRING_EQUAL(s, "unchanged");
	json_object_put(obj);
	json_object_put(arr);
}

static void
test_get_bool(void)
{
	struct json_object *obj = parse_ok(
	    "{\"t\":true,\"f\":false,\"s\":\"true\",\"n\":1,\"z\":null}");
	bool b = false;

	CU_ASSERT_TRUE(jg_json_get_bool(obj, "t", &b));
	CU_ASSERT_TRUE(b);
	CU_ASSERT_TRUE(jg_json_get_bool(obj, "f", &b));
	CU_ASSERT_FALSE(b);
	b = true;
	CU_ASSERT_FALSE(jg_json_get_bool(obj, "s", &b));
	CU_ASSERT_FALSE(jg_json_get_bool(obj, "n", &b));
	CU_ASSERT_FALSE(jg_json_get_bool(obj, "z", &b));
	CU_ASSERT_FALSE(jg_json_get_bool(obj, "missing", &b));
	CU_ASSERT_TRUE(b);
	json_object_put(obj);
}

static void
test_get_int64(void)
{
	struct json_object *obj = parse_ok(
	    "{\"i\":42,\"neg\":-7,\"max\":9223372036854775807,"
	    "\"min\":-9223372036854775808,\"big\":9223372036854775808,"
	    "\"f\":1.5,\"f1\":1.0,\"e\":1e3,\"s\":\"42\",\"b\":true,\"z\":null,"
	    "\"a\":[1]}");
	int64_t v = 99;

	CU_ASSERT_TRUE(jg_json_get_int64(obj, "i", &v));
	CU_ASSERT_EQUAL(v, 42);
	CU_ASSERT_TRUE(jg_json_get_int64(obj, "neg", &v));
	CU_ASSERT_EQUAL(v, -7);
	CU_ASSERT_TRUE(jg_json_get_int64(obj, "max", &v));
	CU_ASSERT_EQUAL(v, INT64_MAX);
	CU_ASSERT_TRUE(jg_json_get_int64(obj, "min", &v));
	CU_ASSERT_EQUAL(v, INT64_MIN);
	v = 99;
	CU_ASSERT_FALSE(jg_json_get_int64(obj, "big", &v));
	CU_ASSERT_FALSE(jg_json_get_int64(obj, "f", &v));
	CU_ASSERT_FALSE(jg_json_get_int64(obj, "f1", &v));
	CU_ASSERT_FALSE(jg_json_get_int64(obj, "e", &v));
	CU_ASSERT_FALSE(jg_json_get_int64(obj, "s", &v));
	CU_ASSERT_FALSE(jg_json_get_int64(obj, "b", &v));
	CU_ASSERT_FALSE(jg_json_get_int64(obj, "z", &v));
	CU_ASSERT_FALSE(jg_json_get_int64(obj, "a", &v));
	CU_ASSERT_FALSE(jg_json_get_int64(obj, "missing", &v));
	CU_ASSERT_EQUAL(v, 99);
	/* json-c's unsigned integers: only values that fit int64. */
	json_object_object_add(obj, "u", json_object_new_uint64(UINT64_MAX));
	json_object_object_add(obj, "u5", json_object_new_uint64(5));
	CU_ASSERT_FALSE(jg_json_get_int64(obj, "u", &v));
	CU_ASSERT_TRUE(jg_json_get_int64(obj, "u5", &v));
	CU_ASSERT_EQUAL(v, 5);
	json_object_put(obj);
}

static void
test_get(void)
{
	struct json_object *obj = parse_ok("{\"a\":{\"b\":1},\"z\":null}");
	struct json_object *arr = parse_ok("[1]");
	struct json_object *a = jg_json_get(obj, "a");

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_TRUE(json_object_is_type(a, json_type_object));
	CU_ASSERT_PTR_NOT_NULL(jg_json_get(a, "b"));
	CU_ASSERT_PTR_NULL(jg_json_get(obj, "b"));
	CU_ASSERT_PTR_NULL(jg_json_get(obj, "z"));
	CU_ASSERT_PTR_NULL(jg_json_get(arr, "0"));
	CU_ASSERT_PTR_NULL(jg_json_get(NULL, "a"));
	json_object_put(obj);
	json_object_put(arr);
}

static void
test_dump(void)
{
	struct json_object *obj = json_object_new_object();
	char *s;

	json_object_object_add(obj, "iss", json_object_new_string("https://as.example/"));
	json_object_object_add(obj, "exp", json_object_new_int64(1700000000));
	json_object_object_add(obj, "aud", json_object_new_array());
	json_object_array_add(json_object_object_get(obj, "aud"),
			      json_object_new_string("a\"b"));
	s = jg_json_dump(obj);
	CU_ASSERT_STRING_EQUAL(s, "{\"iss\":\"https://as.example/\",\"exp\":1700000000,"
			       "\"aud\":[\"a\\\"b\"]}");
	free(s);
	json_object_put(obj);
	s = jg_json_dump(NULL);
	CU_ASSERT_STRING_EQUAL(s, "null");
	free(s);
}

static void
test_utf8_valid(void)
{
	CU_ASSERT_TRUE(jg_utf8_valid("", 0));
	CU_ASSERT_TRUE(jg_utf8_valid("plain", 5));
	CU_ASSERT_TRUE(jg_utf8_valid("a\0b", 3));
	CU_ASSERT_TRUE(jg_utf8_valid("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9));
	CU_ASSERT_TRUE(jg_utf8_valid("\xf4\x8f\xbf\xbf", 4));
	CU_ASSERT_FALSE(jg_utf8_valid("\xc0\xaf", 2));
	CU_ASSERT_FALSE(jg_utf8_valid("\xe0\x80\xaf", 3));
	CU_ASSERT_FALSE(jg_utf8_valid("\xed\xa0\x80", 3));
	CU_ASSERT_FALSE(jg_utf8_valid("\xf4\x90\x80\x80", 4));
	CU_ASSERT_FALSE(jg_utf8_valid("\xe2\x82", 2));
	/* the length counts: a valid sequence cut by len is invalid */
	CU_ASSERT_FALSE(jg_utf8_valid("\xc3\xa9", 1));
	CU_ASSERT_FALSE(jg_utf8_valid("\xff", 1));
	CU_ASSERT_FALSE(jg_utf8_valid("ok\x80", 3));
}

int
main(void)
{
	static const struct jg_test tests[] = {
		{ "parse table (valid and invalid documents)", test_parse_table },
		{ "number types", test_number_types },
		{ "depth bound", test_depth },
		{ "size bound", test_size_bound },
		{ "exactly len bytes", test_exact_length },
		{ "many members", test_many_members },
		{ "parse_object", test_parse_object },
		{ "get_string", test_get_string },
		{ "get_bool", test_get_bool },
		{ "get_int64", test_get_int64 },
		{ "get", test_get },
		{ "dump", test_dump },
		{ "utf8_valid", test_utf8_valid },
		{ NULL, NULL }
	};

	return jg_test_main("json", tests);
}
