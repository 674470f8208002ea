/* test_http.c: request parsing, form/query/cookie/Authorization parsing,
 * response writers, URL building and the error table of common/http.c. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "server.h"
#include "testutil.h"

/* Joins a parameter list as "name=value|name=value" for comparison. */
static char *
joined(const struct jg_params *p)
{
	size_t i, len = 1;
	char *s;

	for (i = 0; i < p->count; i++)
		len += strlen(p->items[i].name) + strlen(p->items[i].value) + 2;
	s = jg_xcalloc(1, len);
	for (i = 0; i < p->count; i++) {
		if (i)
			strcat(s, "|");
		strcat(s, p->items[i].name);
		strcat(s, "=");
		strcat(s, p->items[i].value);
	}
	return s;
}

/* ------------------------------------------------------------ params */

#define S(s) s, sizeof(s) - 1

struct params_case {
	const char *name;
	const char *in;
	size_t len;
	enum jg_err want;
	const char *pairs;	/* joined pairs (JG_OK) or the reason */
};

/* application/x-www-form-urlencoded as WHATWG URL "urlencoded parsing"
 * decodes it, with RFC 6749 section 3.1's ban on repeated parameters and
 * the strictness of SPEC.md on top. */
static const struct params_case params_cases[] = {
	{ "two pairs", S("a=1&b=2"), JG_OK, "a=1|b=2" },
	{ "empty input", S(""), JG_OK, "" },
	{ "empty value", S("a="), JG_OK, "a=" },
	{ "no equals sign", S("a"), JG_OK, "a=" },
	{ "empty pieces skipped", S("&a=1&&b=2&"), JG_OK, "a=1|b=2" },
	{ "plus is a space", S("q=hello+world"), JG_OK, "q=hello world" },
	{ "plus in a name", S("a+b=1"), JG_OK, "a b=1" },
	{ "encoded plus", S("q=a%2Bb"), JG_OK, "q=a+b" },
	{ "hex either case", S("q=%41%42%6a%6A"), JG_OK, "q=ABjj" },
	{ "UTF-8", S("q=caf%C3%A9"), JG_OK, "q=caf\xc3\xa9" },
	{ "raw UTF-8", S("q=caf\xc3\xa9"), JG_OK, "q=caf\xc3\xa9" },
	{ "encoded URL", S("redirect_uri=https%3A%2F%2Fc.example%2Fcb%3Fx%3D1"),
	  JG_OK, "redirect_uri=https://c.example/cb?x=1" },
	{ "equals sign in a value", S("a=b=c"), JG_OK, "a=b=c" },
	{ "encoded equals sign in a name", S("a%3D=1"), JG_OK, "a==1" },
	/* RFC 6749 section 4.1.1 example authorization request. */
	{ "RFC 6749 4.1.1",
	  S("response_type=code&client_id=s6BhdRkqt3&state=xyz"
	    "&redirect_uri=https%3A%2F%2Fclient%2Eexample%2Ecom%2Fcb"), JG_OK,
	  "response_type=code|client_id=s6BhdRkqt3|state=xyz"
	  "|redirect_uri=https://client.example.com/cb" },
	{ "repeated name", S("a=1&a=2"), JG_ERR_MALFORMED, "a parameter is repeated" },
	{ "repeated with the same value", S("a=1&b=2&a=1"), JG_ERR_MALFORMED,
	  "a parameter is repeated" },
	{ "repeated after decoding", S("%61=1&a=2"), JG_ERR_MALFORMED,
	  "a parameter is repeated" },
	{ "repeated empty", S("a&a="), JG_ERR_MALFORMED, "a parameter is repeated" },
	{ "percent at the end", S("a=%"), JG_ERR_MALFORMED,
	  "a parameter value has a bad percent-encoding" },
	{ "one hex digit", S("a=%4"), JG_ERR_MALFORMED,
	  "a parameter value has a bad percent-encoding" },
	{ "bad hex digit", S("a=%G1"), JG_ERR_MALFORMED,
	  "a parameter value has a bad percent-encoding" },
	{ "double percent", S("a=%%41"), JG_ERR_MALFORMED,
	  "a parameter value has a bad percent-encoding" },
	{ "bad percent in a name", S("%zz=1"), JG_ERR_MALFORMED,
	  "a parameter name is not correctly encoded (percent-encoding, NUL or UTF-8)" },
	{ "encoded NUL", S("a=%00"), JG_ERR_MALFORMED,
	  "a parameter value holds a NUL byte" },
	{ "encoded NUL in the middle", S("a=x%00y"), JG_ERR_MALFORMED,
	  "a parameter value holds a NUL byte" },
	{ "raw NUL", S("a=x\0y"), JG_ERR_MALFORMED, "a parameter value holds a NUL byte" },
	{ "NUL in a name", S("a%00=1"), JG_ERR_MALFORMED,
	  "a parameter name is not correctly encoded (percent-encoding, NUL or UTF-8)" },
	{ "truncated UTF-8", S("a=%C3"), JG_ERR_MALFORMED,
	  "a parameter value is not valid UTF-8" },
	{ "overlong UTF-8 slash", S("a=%C0%AF"), JG_ERR_MALFORMED,
	  "a parameter value is not valid UTF-8" },
	{ "UTF-8 surrogate", S("a=%ED%A0%80"), JG_ERR_MALFORMED,
	  "a parameter value is not valid UTF-8" },
	{ "byte 0xFF", S("a=%FF"), JG_ERR_MALFORMED, "a parameter value is not valid UTF-8" },
	{ "raw byte 0xFF", S("a=\xff"), JG_ERR_MALFORMED,
	  "a parameter value is not valid UTF-8" },
	{ "empty name", S("=1"), JG_ERR_MALFORMED, "a parameter has an empty name" },
	{ "empty name after a pair", S("a=1&=2"), JG_ERR_MALFORMED,
	  "a parameter has an empty name" },
};

static void
test_params_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(params_cases) / sizeof(params_cases[0]); i++) {
		const struct params_case *c = &params_cases[i];
		struct jg_params p = { NULL, 0 };
		const char *why = NULL;
		enum jg_err err = jg_params_parse(c->in, c->len, &p, &why);

		if (err != c->want)
			fprintf(stderr, "params case \"%s\": got %d\n", c->name, err);
		CU_ASSERT_EQUAL(err, c->want);
		if (c->want == JG_OK) {
			char *j = joined(&p);

			if (strcmp(j, c->pairs) != 0)
				fprintf(stderr, "params case \"%s\": got %s\n", c->name, j);
			CU_ASSERT_STRING_EQUAL(j, c->pairs);
			free(j);
		} else {
			CU_ASSERT_EQUAL(p.count, 0);
			CU_ASSERT_PTR_NULL(p.items);
			CU_ASSERT_PTR_NOT_NULL_FATAL(why);
			if (strcmp(why, c->pairs) != 0)
				fprintf(stderr, "params case \"%s\": why %s\n", c->name, why);
			CU_ASSERT_STRING_EQUAL(why, c->pairs);
		}
		jg_params_clear(&p);
	}
}

static char *
repeat_pairs(size_t n)
{
	char *s = jg_xcalloc(n, 16);
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(s + strlen(s), "%sp%zu=%zu", i ? "&" : "", i, i);
	return s;
}

static void
test_params_caps(void)
{
	struct jg_params p = { NULL, 0 };
	const char *why = NULL;
	char *s, name[JG_PARAMS_MAX_NAME + 4], *big;

	/* JG_PARAMS_MAX_COUNT pairs pass, one more fails. */
	s = repeat_pairs(JG_PARAMS_MAX_COUNT);
	CU_ASSERT_EQUAL(jg_params_parse(s, strlen(s), &p, &why), JG_OK);
	CU_ASSERT_EQUAL(p.count, JG_PARAMS_MAX_COUNT);
	CU_ASSERT_STRING_EQUAL(jg_params_get(&p, "p63"), "63");
	CU_ASSERT_PTR_NULL(jg_params_get(&p, "p64"));
	jg_params_clear(&p);
	CU_ASSERT_EQUAL(p.count, 0);
	free(s);
	s = repeat_pairs(JG_PARAMS_MAX_COUNT + 1);
	CU_ASSERT_EQUAL(jg_params_parse(s, strlen(s), &p, &why), JG_ERR_MALFORMED);
	CU_ASSERT_STRING_EQUAL(why, "too many parameters");
	free(s);

	/* A name of JG_PARAMS_MAX_NAME bytes passes, one more fails. */
	memset(name, 'n', JG_PARAMS_MAX_NAME);
	strcpy(name + JG_PARAMS_MAX_NAME, "=1");
	CU_ASSERT_EQUAL(jg_params_parse(name, strlen(name), &p, &why), JG_OK);
	jg_params_clear(&p);
	memset(name, 'n', JG_PARAMS_MAX_NAME + 1);
	strcpy(name + JG_PARAMS_MAX_NAME + 1, "=1");
	CU_ASSERT_EQUAL(jg_params_parse(name, strlen(name), &p, &why), JG_ERR_MALFORMED);
	CU_ASSERT_STRING_EQUAL(why, "a parameter name is too long");

	/* Input of JG_PARAMS_MAX_INPUT bytes passes, one more fails. */
	big = jg_xmalloc(JG_PARAMS_MAX_INPUT + 2);
	memcpy(big, "v=", 2);
	memset(big + 2, 'x', JG_PARAMS_MAX_INPUT - 2);
	CU_ASSERT_EQUAL(jg_params_parse(big, JG_PARAMS_MAX_INPUT, &p, &why), JG_OK);
	CU_ASSERT_EQUAL(strlen(jg_params_get(&p, "v")), JG_PARAMS_MAX_INPUT - 2);
	jg_params_clear(&p);
	big[JG_PARAMS_MAX_INPUT] = 'x';
	CU_ASSERT_EQUAL(jg_params_parse(big, JG_PARAMS_MAX_INPUT + 1, &p, &why),
			JG_ERR_MALFORMED);
	CU_ASSERT_STRING_EQUAL(why, "the parameters are too long");
	free(big);

	/* why may be NULL. */
	CU_ASSERT_EQUAL(jg_params_parse("a=1&a=1", 7, &p, NULL), JG_ERR_MALFORMED);
}

static void
test_form_decode(void)
{
	char *out = NULL;

	CU_ASSERT_EQUAL(jg_form_decode("a%3Ab+c", 7, &out), JG_OK);
	CU_ASSERT_STRING_EQUAL(out, "a:b c");
	free(out);
	/* Only len bytes are looked at. */
	CU_ASSERT_EQUAL(jg_form_decode("ab%zz", 2, &out), JG_OK);
	CU_ASSERT_STRING_EQUAL(out, "ab");
	free(out);
	out = NULL;
	CU_ASSERT_EQUAL(jg_form_decode("ab%zz", 5, &out), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_form_decode("%00", 3, &out), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_form_decode("%80", 3, &out), JG_ERR_MALFORMED);
	CU_ASSERT_PTR_NULL(out);
}

/* ------------------------------------------------------------ Authorization */

struct bearer_case {
	const char *header;
	enum jg_err want;
	const char *token;
};

/* RFC 6750 section 2.1: credentials = "Bearer" 1*SP b64token; RFC 7235
 * section 2.1: the scheme is case-insensitive. */
static const struct bearer_case bearer_cases[] = {
	{ "Bearer abc", JG_OK, "abc" },
	{ "bearer abc", JG_OK, "abc" },
	{ "BEARER abc", JG_OK, "abc" },
	{ "BeArEr abc", JG_OK, "abc" },
	{ "Bearer  abc", JG_OK, "abc" },
	{ "Bearer abc  ", JG_OK, "abc" },
	{ "Bearer abc\t", JG_OK, "abc" },
	{ "Bearer mF_9.B5f-4.1JqM", JG_OK, "mF_9.B5f-4.1JqM" },	/* RFC 6750 2.1 */
	{ "Bearer a+/b~==", JG_OK, "a+/b~==" },
	{ "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln", JG_OK,
	  "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln" },
	{ "Bearer", JG_ERR_MALFORMED, NULL },
	{ "Bearer ", JG_ERR_MALFORMED, NULL },
	{ "Bearer    ", JG_ERR_MALFORMED, NULL },
	{ "Bearer =abc", JG_ERR_MALFORMED, NULL },
	{ "Bearer ab=c", JG_ERR_MALFORMED, NULL },
	{ "Bearer a b", JG_ERR_MALFORMED, NULL },
	{ "Bearer a,b", JG_ERR_MALFORMED, NULL },
	{ "Bearer a\"b", JG_ERR_MALFORMED, NULL },
	{ "Bearer a\tb", JG_ERR_MALFORMED, NULL },
	{ "Bearer \xc3\xa9", JG_ERR_MALFORMED, NULL },
	{ "Bearer abc\r\n", JG_ERR_MALFORMED, NULL },
	{ "Bearer\tabc", JG_ERR_NOT_FOUND, NULL },
	{ "Bearerabc", JG_ERR_NOT_FOUND, NULL },
	{ "Basic YWJj", JG_ERR_NOT_FOUND, NULL },
	{ "Token abc", JG_ERR_NOT_FOUND, NULL },
	{ " Bearer abc", JG_ERR_NOT_FOUND, NULL },
	{ "", JG_ERR_NOT_FOUND, NULL },
	{ NULL, JG_ERR_NOT_FOUND, NULL },
};

static void
test_bearer_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(bearer_cases) / sizeof(bearer_cases[0]); i++) {
		const struct bearer_case *c = &bearer_cases[i];
		char *token = NULL;
		enum jg_err err = jg_http_bearer_token(c->header, &token);

		if (err != c->want)
			fprintf(stderr, "bearer case %zu: got %d\n", i, err);
		CU_ASSERT_EQUAL(err, c->want);
		if (c->want == JG_OK) {
			CU_ASSERT_PTR_NOT_NULL_FATAL(token);
			CU_ASSERT_STRING_EQUAL(token, c->token);
		} else {
			CU_ASSERT_PTR_NULL(token);
		}
		jg_free_secret(token);
	}
}

static void
test_bearer_length(void)
{
	size_t n = 7 + JG_HTTP_MAX_PARAM_VALUE + 1;
	char *h = jg_xmalloc(n + 1), *token = NULL;

	memcpy(h, "Bearer ", 7);
	memset(h + 7, 'a', JG_HTTP_MAX_PARAM_VALUE);
	h[7 + JG_HTTP_MAX_PARAM_VALUE] = '\0';
	CU_ASSERT_EQUAL(jg_http_bearer_token(h, &token), JG_OK);
	CU_ASSERT_EQUAL(strlen(token), JG_HTTP_MAX_PARAM_VALUE);
	jg_free_secret(token);
	token = NULL;
	h[7 + JG_HTTP_MAX_PARAM_VALUE] = 'a';
	h[n] = '\0';
	CU_ASSERT_EQUAL(jg_http_bearer_token(h, &token), JG_ERR_MALFORMED);
	CU_ASSERT_PTR_NULL(token);
	free(h);
}

struct basic_case {
	const char *name;
	const char *header;
	enum jg_err want;
	const char *id, *secret;
};

/* RFC 7617 section 2 and RFC 6749 section 2.3.1 (id and secret are
 * form-urlencoded before base64). */
static const struct basic_case basic_cases[] = {
	{ "RFC 6749 2.3.1 example", "Basic czZCaGRSa3F0MzpnWDFmQmF0M2JW", JG_OK,
	  "s6BhdRkqt3", "gX1fBat3bV" },
	{ "RFC 7617 2 example", "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", JG_OK,
	  "Aladdin", "open sesame" },
	{ "lower-case scheme", "basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", JG_OK,
	  "Aladdin", "open sesame" },
	{ "two spaces", "Basic  QWxhZGRpbjpvcGVuIHNlc2FtZQ==", JG_OK,
	  "Aladdin", "open sesame" },
	{ "a%3Ab:c%20d decodes", "Basic YSUzQWI6YyUyMGQ=", JG_OK, "a:b", "c d" },
	{ "plus is a space", "Basic bXkrY2xpZW50OnM=", JG_OK, "my client", "s" },
	{ "split at the first colon", "Basic aWQ6YTpi", JG_OK, "id", "a:b" },
	{ "empty secret", "Basic aWQ6", JG_OK, "id", "" },
	{ "empty id", "Basic OnNlY3JldA==", JG_ERR_MALFORMED, NULL, NULL },
	{ "no colon", "Basic aWRvbmx5", JG_ERR_MALFORMED, NULL, NULL },
	{ "bad percent in id", "Basic YSV6ejpi", JG_ERR_MALFORMED, NULL, NULL },
	{ "NUL in id", "Basic YQBiOmM=", JG_ERR_MALFORMED, NULL, NULL },
	{ "encoded invalid UTF-8", "Basic YSVGRjpi", JG_ERR_MALFORMED, NULL, NULL },
	{ "encoded NUL in secret", "Basic YTpiJTAw", JG_ERR_MALFORMED, NULL, NULL },
	{ "not base64", "Basic !!!!", JG_ERR_MALFORMED, NULL, NULL },
	{ "base64 without padding", "Basic YTpiYw", JG_ERR_MALFORMED, NULL, NULL },
	{ "base64url alphabet", "Basic YT-_", JG_ERR_MALFORMED, NULL, NULL },
	{ "no credentials", "Basic", JG_ERR_MALFORMED, NULL, NULL },
	{ "only spaces", "Basic   ", JG_ERR_MALFORMED, NULL, NULL },
	{ "bearer scheme", "Bearer abc", JG_ERR_NOT_FOUND, NULL, NULL },
	{ "NULL", NULL, JG_ERR_NOT_FOUND, NULL, NULL },
};

static void
test_basic_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(basic_cases) / sizeof(basic_cases[0]); i++) {
		const struct basic_case *c = &basic_cases[i];
		char *id = NULL, *secret = NULL;
		enum jg_err err = jg_http_basic_credentials(c->header, &id, &secret);

		if (err != c->want)
			fprintf(stderr, "basic case \"%s\": got %d\n", c->name, err);
		CU_ASSERT_EQUAL(err, c->want);
		if (c->want == JG_OK) {
			CU_ASSERT_PTR_NOT_NULL_FATAL(id);
			CU_ASSERT_PTR_NOT_NULL_FATAL(secret);
			CU_ASSERT_STRING_EQUAL(id, c->id);
			CU_ASSERT_STRING_EQUAL(secret, c->secret);
		} else {
			CU_ASSERT_PTR_NULL(id);
			CU_ASSERT_PTR_NULL(secret);
		}
		free(id);
		jg_free_secret(secret);
	}
}

/* ------------------------------------------------------------ cookies */

struct cookie_case {
	const char *header;
	const char *name;
	enum jg_err want;
	const char *value;
	bool duplicate;
};

/* RFC 6265 section 4.2.1 (cookie-string) and 4.1.1 (cookie-octet). */
static const struct cookie_case cookie_cases[] = {
	{ "sid=abc", "sid", JG_OK, "abc", false },
	{ "a=1; sid=abc; b=2", "sid", JG_OK, "abc", false },
	{ "a=1;sid=abc", "sid", JG_OK, "abc", false },
	{ "  sid = abc  ", "sid", JG_OK, "abc", false },
	{ "sid=\"abc\"", "sid", JG_OK, "abc", false },
	{ "sid=", "sid", JG_OK, "", false },
	{ "sid=abc; sid=def", "sid", JG_OK, "abc", true },
	{ "sid=abc; x=1; sid=abc", "sid", JG_OK, "abc", true },
	{ "xsid=1; sid=2", "sid", JG_OK, "2", false },
	{ "sidx=1; sid=2", "sid", JG_OK, "2", false },
	{ "other={\"json\": [1, 2]}; sid=ok", "sid", JG_OK, "ok", false },
	{ "broken; sid=ok", "sid", JG_OK, "ok", false },
	{ "sid=a%20b", "sid", JG_OK, "a%20b", false },
	{ "sid", "sid", JG_ERR_NOT_FOUND, NULL, false },
	{ "SID=abc", "sid", JG_ERR_NOT_FOUND, NULL, false },
	{ "a=sid", "sid", JG_ERR_NOT_FOUND, NULL, false },
	{ "", "sid", JG_ERR_NOT_FOUND, NULL, false },
	{ NULL, "sid", JG_ERR_NOT_FOUND, NULL, false },
	{ "sid=a b", "sid", JG_ERR_MALFORMED, NULL, false },
	{ "sid=a,b", "sid", JG_ERR_MALFORMED, NULL, false },
	{ "sid=a\\b", "sid", JG_ERR_MALFORMED, NULL, false },
	{ "sid=\"a\"b\"", "sid", JG_ERR_MALFORMED, NULL, false },
	{ "sid=\xc3\xa9", "sid", JG_ERR_MALFORMED, NULL, false },
};

static void
test_cookie_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(cookie_cases) / sizeof(cookie_cases[0]); i++) {
		const struct cookie_case *c = &cookie_cases[i];
		char *value = NULL;
		bool dup = false;
		enum jg_err err = jg_cookie_get(c->header, c->name, &value, &dup);

		if (err != c->want)
			fprintf(stderr, "cookie case %zu: got %d\n", i, err);
		CU_ASSERT_EQUAL(err, c->want);
		if (c->want == JG_OK) {
			CU_ASSERT_PTR_NOT_NULL_FATAL(value);
			CU_ASSERT_STRING_EQUAL(value, c->value);
			CU_ASSERT_EQUAL(dup, c->duplicate);
		} else {
			CU_ASSERT_PTR_NULL(value);
		}
		jg_free_secret(value);
	}
}

/* ------------------------------------------------------------ escaping, URLs */

static void
test_html_escape(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "", "" },
		{ "plain text", "plain text" },
		{ "<script>alert('x')</script>",
		  "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" },
		{ "a & b", "a &amp; b" },
		{ "\"quoted\"", "&quot;quoted&quot;" },
		{ "&amp;", "&amp;amp;" },
		{ "caf\xc3\xa9", "caf\xc3\xa9" },
		{ "\" onmouseover=\"x", "&quot; onmouseover=&quot;x" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out = jg_html_escape(cases[i].in);

		CU_ASSERT_STRING_EQUAL(out, cases[i].out);
		free(out);
	}
}

static void
test_url_encode(void)
{
	char *out = jg_url_encode("AZaz09-._~ !\"#$%&'()*+,/:;=?@[]\xc3\xa9");

	/* RFC 3986 section 2.3: only unreserved characters stay. */
	CU_ASSERT_STRING_EQUAL(out, "AZaz09-._~%20%21%22%23%24%25%26%27%28%29%2A%2B%2C"
			       "%2F%3A%3B%3D%3F%40%5B%5D%C3%A9");
	free(out);
}

struct url_case {
	const char *base;
	const char *code, *state;
	const char *want;	/* NULL: refused */
};

static const struct url_case url_cases[] = {
	{ "https://c.example/cb", "abc", "xyz", "https://c.example/cb?code=abc&state=xyz" },
	{ "https://c.example/cb?x=1", "abc", "xyz",
	  "https://c.example/cb?x=1&code=abc&state=xyz" },
	{ "https://c.example/cb?", "abc", NULL, "https://c.example/cb?code=abc" },
	{ "https://c.example/cb?x=1&", "abc", NULL, "https://c.example/cb?x=1&code=abc" },
	{ "https://c.example/cb", "abc", NULL, "https://c.example/cb?code=abc" },
	{ "https://c.example/cb", NULL, NULL, "https://c.example/cb" },
	{ "https://c.example/cb", "abc", "a b&c=d/\xc3\xa9~",
	  "https://c.example/cb?code=abc&state=a%20b%26c%3Dd%2F%C3%A9~" },
	{ "https://c.example/cb#frag", "abc", NULL, "https://c.example/cb?code=abc#frag" },
	{ "https://c.example/cb?x=1#f", "abc", NULL, "https://c.example/cb?x=1&code=abc#f" },
	{ "https://c.example/?x=?", "abc", NULL, "https://c.example/?x=?&code=abc" },
	{ "https://c.example/cb\r\nX: y", "abc", NULL, NULL },
	{ "https://c.example/c b", "abc", NULL, NULL },
	{ "https://c.example/cb\x7f", "abc", NULL, NULL },
};

static void
test_url_append(void)
{
	size_t i;

	for (i = 0; i < sizeof(url_cases) / sizeof(url_cases[0]); i++) {
		const struct url_case *c = &url_cases[i];
		struct jg_kv pairs[2] = { { "code", c->code }, { "state", c->state } };
		char *out = jg_url_append_query(c->base, pairs, 2);

		if (c->want == NULL) {
			CU_ASSERT_PTR_NULL(out);
		} else {
			CU_ASSERT_PTR_NOT_NULL_FATAL(out);
			if (strcmp(out, c->want) != 0)
				fprintf(stderr, "url case %zu: got %s\n", i, out);
			CU_ASSERT_STRING_EQUAL(out, c->want);
		}
		free(out);
	}
}

/* RFC 9207 section 2.4: the iss parameter is URL-encoded. */
static void
test_url_iss(void)
{
	struct jg_kv pairs[] = {
		{ "code", "x1848ZT64p4IirMPT0R-X3141MFPTuBX-VFL_cvaplMH58" },
		{ "state", "ZWVlNDBlYzA1NjdkMDNhYjg3ZjUxZjAyNGQzMTM2NzI" },
		{ "iss", "https://honest.as.example" },
	};
	char *out = jg_url_append_query("https://client.example/cb", pairs, 3);

	CU_ASSERT_STRING_EQUAL(out, "https://client.example/cb"
			       "?code=x1848ZT64p4IirMPT0R-X3141MFPTuBX-VFL_cvaplMH58"
			       "&state=ZWVlNDBlYzA1NjdkMDNhYjg3ZjUxZjAyNGQzMTM2NzI"
			       "&iss=https%3A%2F%2Fhonest.as.example");
	free(out);
}

/* ------------------------------------------------------------ responses */

static void
test_header_injection(void)
{
	static const char *const bad_values[] = {
		"a\r\nSet-Cookie: x=1", "a\nb", "a\rb", "a\x01" "b", "a\x7f",
	};
	static const char *const bad_names[] = {
		"", "X Y", "X:Y", "X\r\nY", "X(Y)", "\xc3\xa9",
	};
	struct jg_response r;
	size_t i;

	jg_response_init(&r);
	for (i = 0; i < sizeof(bad_values) / sizeof(bad_values[0]); i++) {
		CU_ASSERT_FALSE(jg_http_header_value_ok(bad_values[i]));
		CU_ASSERT_EQUAL(jg_response_add_header(&r, "X-Test", bad_values[i]),
				JG_ERR_MALFORMED);
		CU_ASSERT_EQUAL(jg_response_set_header(&r, "X-Test", bad_values[i]),
				JG_ERR_MALFORMED);
		CU_ASSERT_EQUAL(jg_http_redirect(&r, 302, bad_values[i]), JG_ERR_MALFORMED);
	}
	for (i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++)
		CU_ASSERT_EQUAL(jg_response_add_header(&r, bad_names[i], "v"),
				JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(r.nheaders, 0);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_TRUE(jg_http_header_value_ok("tab\tis fine, so is \xc3\xa9"));

	/* A realm or description with CR LF ends up as "?" in a quoted
	 * string, never as a line break. */
	CU_ASSERT_EQUAL(jg_http_bearer_error(&r, "r\r\nX: y", "invalid_token",
					     "d\r\nSet-Cookie: a=b", NULL), JG_OK);
	CU_ASSERT_STRING_EQUAL(jg_response_header(&r, "WWW-Authenticate"),
			       "Bearer realm=\"r??X: y\", error=\"invalid_token\", "
			       "error_description=\"d??Set-Cookie: a=b\"");
	CU_ASSERT_PTR_NULL(jg_response_header(&r, "Set-Cookie"));
	/* Cookie values, CSP targets and authorizer variables too. */
	CU_ASSERT_EQUAL(jg_http_set_cookie(&r, "sid", "a\r\nb", -1, false), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_http_html(&r, 200, "x",
				     (const char *const[]){ "https://a.example\r\nX: y", NULL }),
			JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_http_authorizer_allow(&r, &(struct jg_kv){
				"USER", "a\nVariable-ADMIN: 1" }, 1),
			JG_ERR_MALFORMED);
	jg_response_clear(&r);
}

static void
test_headers_set_add(void)
{
	struct jg_response r;

	jg_response_init(&r);
	CU_ASSERT_EQUAL(jg_response_add_header(&r, "Vary", "Origin"), JG_OK);
	CU_ASSERT_EQUAL(jg_response_add_header(&r, "vary", "Accept"), JG_OK);
	CU_ASSERT_EQUAL(r.nheaders, 2);
	CU_ASSERT_STRING_EQUAL(jg_response_header(&r, "VARY"), "Origin");
	CU_ASSERT_EQUAL(jg_response_set_header(&r, "Vary", "Cookie"), JG_OK);
	CU_ASSERT_EQUAL(r.nheaders, 1);
	CU_ASSERT_STRING_EQUAL(jg_response_header(&r, "Vary"), "Cookie");
	CU_ASSERT_PTR_NULL(jg_response_header(&r, "Location"));
	jg_response_clear(&r);
	CU_ASSERT_EQUAL(r.nheaders, 0);
	jg_response_clear(NULL);
}

static void
test_serialize(void)
{
	struct jg_response r;
	size_t len;
	char *out;
	static const char want[] =
		"Status: 404 Not Found\r\n"
		"Content-Type: text/plain\r\n"
		"X-A: 1\r\n"
		"Content-Length: 5\r\n"
		"\r\n"
		"nope\n";

	jg_response_init(&r);
	r.status = 404;
	jg_response_set_header(&r, "Content-Type", "text/plain");
	jg_response_set_header(&r, "Content-Length", "999");
	jg_response_set_header(&r, "X-A", "1");
	jg_response_set_body(&r, "nope\n", 5);
	out = jg_response_serialize(&r, &len);
	CU_ASSERT_EQUAL(len, sizeof(want) - 1);
	CU_ASSERT_EQUAL(memcmp(out, want, sizeof(want) - 1), 0);
	free(out);
	jg_response_clear(&r);

	/* No status: a bug, answered 500. */
	out = jg_response_serialize(&r, &len);
	CU_ASSERT_STRING_EQUAL(out, "Status: 500 Internal Server Error\r\n"
			       "Content-Length: 0\r\n\r\n");
	free(out);
	CU_ASSERT_STRING_EQUAL(jg_http_reason(431), "Request Header Fields Too Large");
	CU_ASSERT_STRING_EQUAL(jg_http_reason(299), "Unknown");
}

static const char csp_default[] =
	"default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

/* SPEC.md "Every HTML page" and issue 4 point 5. */
static void
assert_html_headers(const struct jg_response *r, const char *csp)
{
	CU_ASSERT_STRING_EQUAL(jg_response_header(r, "Content-Type"),
			       "text/html; charset=utf-8");
	CU_ASSERT_STRING_EQUAL(jg_response_header(r, "Content-Security-Policy"), csp);
	CU_ASSERT_STRING_EQUAL(jg_response_header(r, "X-Frame-Options"), "DENY");
	CU_ASSERT_STRING_EQUAL(jg_response_header(r, "Referrer-Policy"), "no-referrer");
	CU_ASSERT_STRING_EQUAL(jg_response_header(r, "Cache-Control"), "no-store");
	CU_ASSERT_STRING_EQUAL(jg_response_header(r, "X-Content-Type-Options"), "nosniff");
}

static void
test_html(void)
{
	static const char *const targets[] = {
		"https://client.example", "http://127.0.0.1:8080/cb", NULL,
	};
	static const char *const bad_targets[] = {
		"https://a.example; script-src *", "https://a.example,x", "'unsafe-inline'",
		"\"x\"", "a b", "", "https://\xc3\xa9.example",
	};
	struct jg_response r;
	size_t i;

	jg_response_init(&r);
	CU_ASSERT_EQUAL(jg_http_html(&r, 200, "<p>hi</p>", NULL), JG_OK);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_STRING_EQUAL(r.body, "<p>hi</p>");
	assert_html_headers(&r, csp_default);
	CU_ASSERT_EQUAL(r.nheaders, 6);
	/* Calling again replaces, never duplicates, the headers. */
	CU_ASSERT_EQUAL(jg_http_html(&r, 403, "<p>no</p>", targets), JG_OK);
	CU_ASSERT_EQUAL(r.nheaders, 6);
	assert_html_headers(&r, "default-src 'self'; frame-ancestors 'none'; form-action "
			    "'self' https://client.example http://127.0.0.1:8080/cb; "
			    "base-uri 'none'");
	for (i = 0; i < sizeof(bad_targets) / sizeof(bad_targets[0]); i++) {
		const char *list[2] = { bad_targets[i], NULL };

		CU_ASSERT_EQUAL(jg_http_html(&r, 200, "x", list), JG_ERR_MALFORMED);
	}
	CU_ASSERT_EQUAL(r.status, 403);	/* refused calls changed nothing */
	CU_ASSERT_STRING_EQUAL(r.body, "<p>no</p>");
	jg_response_clear(&r);

	/* The error pages of the table and of jg_http_status_response too. */
	jg_response_init(&r);
	jg_http_error_response(&r, JG_STYLE_HTML, JG_ERR_MALFORMED, NULL,
			       "bad <thing> & \"more\"");
	CU_ASSERT_EQUAL(r.status, 400);
	assert_html_headers(&r, csp_default);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "<p>bad &lt;thing&gt; &amp; &quot;more&quot;</p>"));
	CU_ASSERT_PTR_NULL(strstr(r.body, "<thing>"));
	jg_response_clear(&r);
	jg_http_status_response(&r, JG_STYLE_HTML, 413, "too big");
	CU_ASSERT_EQUAL(r.status, 413);
	assert_html_headers(&r, csp_default);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "<title>413 Content Too Large</title>"));
	jg_response_clear(&r);
}

struct bearer_error_case {
	const char *realm, *error, *description, *scope;
	int status;
	const char *challenge;
	const char *body;
};

/* RFC 6750 section 3 and its examples (realm="example"). */
static const struct bearer_error_case bearer_error_cases[] = {
	{ "example", NULL, NULL, NULL, 401, "Bearer realm=\"example\"", "" },
	{ "example", NULL, "ignored", "ignored", 401, "Bearer realm=\"example\"", "" },
	{ "example", "invalid_token", "The access token expired", NULL, 401,
	  "Bearer realm=\"example\", error=\"invalid_token\", "
	  "error_description=\"The access token expired\"",
	  "{\"error\":\"invalid_token\",\"error_description\":\"The access token expired\"}" },
	{ "example", "insufficient_scope", NULL, "read write", 403,
	  "Bearer realm=\"example\", error=\"insufficient_scope\", scope=\"read write\"",
	  "{\"error\":\"insufficient_scope\"}" },
	{ "example", "insufficient_scope", "needs write", "write", 403,
	  "Bearer realm=\"example\", error=\"insufficient_scope\", "
	  "error_description=\"needs write\", scope=\"write\"",
	  "{\"error\":\"insufficient_scope\",\"error_description\":\"needs write\"}" },
	{ "example", "invalid_request", "two tokens", NULL, 400,
	  "Bearer realm=\"example\", error=\"invalid_request\", "
	  "error_description=\"two tokens\"",
	  "{\"error\":\"invalid_request\",\"error_description\":\"two tokens\"}" },
	{ "ex\"am\\ple", NULL, NULL, NULL, 401, "Bearer realm=\"ex\\\"am\\\\ple\"", "" },
	{ NULL, NULL, NULL, NULL, 401, "Bearer realm=\"jwtgate\"", "" },
};

static void
test_bearer_errors(void)
{
	size_t i;

	for (i = 0; i < sizeof(bearer_error_cases) / sizeof(bearer_error_cases[0]); i++) {
		const struct bearer_error_case *c = &bearer_error_cases[i];
		struct jg_response r;

		jg_response_init(&r);
		CU_ASSERT_EQUAL(jg_http_bearer_error(&r, c->realm, c->error, c->description,
						     c->scope), JG_OK);
		CU_ASSERT_EQUAL(r.status, c->status);
		CU_ASSERT_STRING_EQUAL(jg_response_header(&r, "WWW-Authenticate"),
				       c->challenge);
		CU_ASSERT_STRING_EQUAL(r.body, c->body);
		CU_ASSERT_STRING_EQUAL(jg_response_header(&r, "Cache-Control"), "no-store");
		if (c->error) {
			CU_ASSERT_STRING_EQUAL(jg_response_header(&r, "Content-Type"),
					       "application/json");
		} else {
			CU_ASSERT_PTR_NULL(jg_response_header(&r, "Content-Type"));
		}
		jg_response_clear(&r);
	}
	{
		struct jg_response r;

		jg_response_init(&r);
		CU_ASSERT_EQUAL(jg_http_bearer_error(&r, "x", "bad\"code", NULL, NULL),
				JG_ERR_MALFORMED);
		CU_ASSERT_EQUAL(r.status, 0);
		CU_ASSERT_EQUAL(r.nheaders, 0);
		jg_response_clear(&r);
	}
}

static void
test_oauth_errors(void)
{
	struct jg_response r;

	/* RFC 6749 section 5.2. */
	jg_response_init(&r);
	CU_ASSERT_EQUAL(jg_http_oauth_error(&r, 400, "invalid_request",
					    "missing grant_type"), JG_OK);
	CU_ASSERT_EQUAL(r.status, 400);
	CU_ASSERT_STRING_EQUAL(r.body, "{\"error\":\"invalid_request\","
			       "\"error_description\":\"missing grant_type\"}");
	CU_ASSERT_EQUAL(r.body_len, strlen(r.body));
	CU_ASSERT_STRING_EQUAL(jg_response_header(&r, "Content-Type"), "application/json");
	CU_ASSERT_STRING_EQUAL(jg_response_header(&r, "Cache-Control"), "no-store");
	CU_ASSERT_STRING_EQUAL(jg_response_header(&r, "Pragma"), "no-cache");
	CU_ASSERT_EQUAL(r.nheaders, 3);

	CU_ASSERT_EQUAL(jg_http_oauth_error(&r, 400, "invalid_grant", NULL), JG_OK);
	CU_ASSERT_STRING_EQUAL(r.body, "{\"error\":\"invalid_grant\"}");
	CU_ASSERT_EQUAL(r.nheaders, 3);

	/* Characters RFC 6749 does not allow in error_description become "?";
	 * "/" is not escaped by the JSON writer. */
	CU_ASSERT_EQUAL(jg_http_oauth_error(&r, 400, "invalid_scope",
					    "say \"hi\"\\ caf\xc3\xa9\n a/b"), JG_OK);
	CU_ASSERT_STRING_EQUAL(r.body, "{\"error\":\"invalid_scope\","
			       "\"error_description\":\"say ?hi?? caf??? a/b\"}");

	/* Refused error codes leave the response alone. */
	CU_ASSERT_EQUAL(jg_http_oauth_error(&r, 500, "bad\"code", NULL), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_http_oauth_error(&r, 500, "", NULL), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_http_oauth_error(&r, 500, NULL, NULL), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_http_oauth_error(&r, 700, "x", NULL), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(r.status, 400);
	jg_response_clear(&r);

	jg_response_init(&r);
	CU_ASSERT_EQUAL(jg_http_oauth_invalid_client(&r, "jwtgate", "unknown client"), JG_OK);
	CU_ASSERT_EQUAL(r.status, 401);
	CU_ASSERT_STRING_EQUAL(jg_response_header(&r, "WWW-Authenticate"),
			       "Basic realm=\"jwtgate\"");
	CU_ASSERT_STRING_EQUAL(r.body, "{\"error\":\"invalid_client\","
			       "\"error_description\":\"unknown client\"}");
	jg_response_clear(&r);
}

static void
test_json(void)
{
	struct jg_response r;
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "access_token", json_object_new_string("a/b"));
	json_object_object_add(o, "expires_in", json_object_new_int(600));
	jg_response_init(&r);
	CU_ASSERT_EQUAL(jg_http_json(&r, 200, o), JG_OK);
	CU_ASSERT_STRING_EQUAL(r.body, "{\"access_token\":\"a/b\",\"expires_in\":600}");
	CU_ASSERT_STRING_EQUAL(jg_response_header(&r, "Cache-Control"), "no-store");
	CU_ASSERT_STRING_EQUAL(jg_response_header(&r, "Pragma"), "no-cache");
	CU_ASSERT_EQUAL(jg_http_json(&r, 200, NULL), JG_ERR_MALFORMED);
	json_object_put(o);
	jg_response_clear(&r);
}

static void
test_redirect(void)
{
	struct jg_response r;

	jg_response_init(&r);
	jg_response_set_header(&r, "Content-Type", "text/html");
	CU_ASSERT_EQUAL(jg_http_redirect(&r, 302, "https://c.example/cb?code=1"), JG_OK);
	CU_ASSERT_EQUAL(r.status, 302);
	CU_ASSERT_STRING_EQUAL(jg_response_header(&r, "Location"),
			       "https://c.example/cb?code=1");
	CU_ASSERT_STRING_EQUAL(jg_response_header(&r, "Cache-Control"), "no-store");
	CU_ASSERT_STRING_EQUAL(jg_response_header(&r, "Referrer-Policy"), "no-referrer");
	CU_ASSERT_PTR_NULL(jg_response_header(&r, "Content-Type"));
	CU_ASSERT_EQUAL(r.body_len, 0);
	CU_ASSERT_EQUAL(jg_http_redirect(&r, 303, "/next"), JG_OK);
	CU_ASSERT_EQUAL(r.status, 303);
	CU_ASSERT_STRING_EQUAL(jg_response_header(&r, "Location"), "/next");
	CU_ASSERT_EQUAL(jg_http_redirect(&r, 301, "/x"), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_http_redirect(&r, 307, "/x"), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_http_redirect(&r, 200, "/x"), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_http_redirect(&r, 302, ""), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(jg_http_redirect(&r, 302, NULL), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(r.status, 303);
	jg_response_clear(&r);
}

struct cookie_set_case {
	const char *name, *value;
	int64_t max_age;
	bool https;
	enum jg_err want;
	const char *header;
};

static const struct cookie_set_case cookie_set_cases[] = {
	{ "sid", "abc", 3600, false, JG_OK,
	  "sid=abc; Max-Age=3600; Path=/; HttpOnly; SameSite=Lax" },
	{ "sid", "abc", 3600, true, JG_OK,
	  "__Host-sid=abc; Max-Age=3600; Path=/; HttpOnly; SameSite=Lax; Secure" },
	{ "__Host-sid", "abc", -1, true, JG_OK,
	  "__Host-sid=abc; Path=/; HttpOnly; SameSite=Lax; Secure" },
	{ "sid", "", 0, false, JG_OK, "sid=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax" },
	{ "sid", "a-_.~=/+", 60, false, JG_OK,
	  "sid=a-_.~=/+; Max-Age=60; Path=/; HttpOnly; SameSite=Lax" },
	{ "__Host-sid", "abc", 0, false, JG_ERR_MALFORMED, NULL },
	{ "s id", "abc", 0, false, JG_ERR_MALFORMED, NULL },
	{ "s;id", "abc", 0, false, JG_ERR_MALFORMED, NULL },
	{ "", "abc", 0, false, JG_ERR_MALFORMED, NULL },
	{ "sid", "a;b", 0, false, JG_ERR_MALFORMED, NULL },
	{ "sid", "a b", 0, false, JG_ERR_MALFORMED, NULL },
	{ "sid", "a,b", 0, false, JG_ERR_MALFORMED, NULL },
	{ "sid", "a\"b", 0, false, JG_ERR_MALFORMED, NULL },
	{ "sid", NULL, 0, false, JG_ERR_MALFORMED, NULL },
};

static void
test_set_cookie(void)
{
	size_t i;

	for (i = 0; i < sizeof(cookie_set_cases) / sizeof(cookie_set_cases[0]); i++) {
		const struct cookie_set_case *c = &cookie_set_cases[i];
		struct jg_response r;

		jg_response_init(&r);
		CU_ASSERT_EQUAL(jg_http_set_cookie(&r, c->name, c->value, c->max_age,
						   c->https), c->want);
		if (c->want == JG_OK) {
			CU_ASSERT_EQUAL(r.nheaders, 1);
			CU_ASSERT_STRING_EQUAL(jg_response_header(&r, "Set-Cookie"), c->header);
		} else {
			CU_ASSERT_EQUAL(r.nheaders, 0);
		}
		jg_response_clear(&r);
	}
	{
		/* Set-Cookie is added, not replaced, and survives the writers. */
		struct jg_response r;

		jg_response_init(&r);
		jg_http_set_cookie(&r, "a", "1", -1, false);
		jg_http_set_cookie(&r, "b", "2", -1, false);
		jg_http_redirect(&r, 302, "/x");
		CU_ASSERT_EQUAL(r.nheaders, 5);
		CU_ASSERT_STRING_EQUAL(r.headers[0].value, "a=1; Path=/; HttpOnly; SameSite=Lax");
		CU_ASSERT_STRING_EQUAL(r.headers[1].value, "b=2; Path=/; HttpOnly; SameSite=Lax");
		jg_response_clear(&r);
	}
}

static void
test_authorizer_allow(void)
{
	struct jg_kv vars[] = {
		{ "REMOTE_USER", "alice" },
		{ "JWT_SCOPE", "openid profile" },
	};
	struct jg_kv bad[] = {
		{ "remote_user", "x" },
		{ "", "x" },
		{ "A-B", "x" },
		{ "A", "x\r\ny" },
	};
	struct jg_response r;
	size_t i;

	jg_response_init(&r);
	CU_ASSERT_EQUAL(jg_http_authorizer_allow(&r, vars, 2), JG_OK);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_EQUAL(r.body_len, 0);
	CU_ASSERT_STRING_EQUAL(jg_response_header(&r, "Variable-REMOTE_USER"), "alice");
	CU_ASSERT_STRING_EQUAL(jg_response_header(&r, "Variable-JWT_SCOPE"), "openid profile");
	CU_ASSERT_EQUAL(r.nheaders, 2);
	jg_response_clear(&r);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		jg_response_init(&r);
		CU_ASSERT_EQUAL(jg_http_authorizer_allow(&r, &bad[i], 1), JG_ERR_MALFORMED);
		CU_ASSERT_EQUAL(r.status, 0);
		CU_ASSERT_EQUAL(r.nheaders, 0);
		jg_response_clear(&r);
	}
}

/* ------------------------------------------------------------ error table */

struct table_case {
	enum jg_http_style style;
	enum jg_err err;
	int status;
	const char *error;
};

static const struct table_case table_cases[] = {
	{ JG_STYLE_OAUTH, JG_OK, 200, NULL },
	{ JG_STYLE_OAUTH, JG_ERR_MALFORMED, 400, "invalid_request" },
	{ JG_STYLE_OAUTH, JG_ERR_DENIED, 400, "invalid_grant" },
	{ JG_STYLE_OAUTH, JG_ERR_NOT_FOUND, 400, "invalid_grant" },
	{ JG_STYLE_OAUTH, JG_ERR_EXISTS, 400, "invalid_request" },
	{ JG_STYLE_OAUTH, JG_ERR_BUSY, 503, "temporarily_unavailable" },
	{ JG_STYLE_OAUTH, JG_ERR_SYSTEM, 500, "server_error" },
	{ JG_STYLE_BEARER, JG_ERR_MALFORMED, 400, "invalid_request" },
	{ JG_STYLE_BEARER, JG_ERR_DENIED, 401, "invalid_token" },
	{ JG_STYLE_BEARER, JG_ERR_NOT_FOUND, 401, "invalid_token" },
	{ JG_STYLE_BEARER, JG_ERR_EXISTS, 400, "invalid_request" },
	{ JG_STYLE_BEARER, JG_ERR_BUSY, 503, "temporarily_unavailable" },
	{ JG_STYLE_BEARER, JG_ERR_SYSTEM, 500, "server_error" },
	{ JG_STYLE_HTML, JG_ERR_MALFORMED, 400, "invalid_request" },
	{ JG_STYLE_HTML, JG_ERR_DENIED, 403, "access_denied" },
	{ JG_STYLE_HTML, JG_ERR_NOT_FOUND, 404, "invalid_request" },
	{ JG_STYLE_HTML, JG_ERR_EXISTS, 409, "invalid_request" },
	{ JG_STYLE_HTML, JG_ERR_BUSY, 503, "temporarily_unavailable" },
	{ JG_STYLE_HTML, JG_ERR_SYSTEM, 500, "server_error" },
	/* Outside the enum: a bug, answered as a system error. */
	{ JG_STYLE_OAUTH, (enum jg_err)99, 500, "server_error" },
};

static void
test_error_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(table_cases) / sizeof(table_cases[0]); i++) {
		const struct table_case *c = &table_cases[i];
		const char *e = jg_http_error_for(c->style, c->err);

		CU_ASSERT_EQUAL(jg_http_status_for(c->style, c->err), c->status);
		if (c->error) {
			CU_ASSERT_STRING_EQUAL(e, c->error);
		} else {
			CU_ASSERT_PTR_NULL(e);
		}
	}
}

static void
test_error_responses(void)
{
	static const enum jg_http_style styles[] = {
		JG_STYLE_OAUTH, JG_STYLE_BEARER, JG_STYLE_HTML,
	};
	struct jg_response r;
	size_t i;

	/* Busy is 503 with Retry-After in every style, never 500. */
	for (i = 0; i < 3; i++) {
		jg_response_init(&r);
		jg_http_error_response(&r, styles[i], JG_ERR_BUSY, "x", "the store is busy");
		CU_ASSERT_EQUAL(r.status, 503);
		CU_ASSERT_STRING_EQUAL(jg_response_header(&r, "Retry-After"), "1");
		jg_response_clear(&r);
		jg_http_error_response(&r, styles[i], JG_ERR_SYSTEM, "x", NULL);
		CU_ASSERT_EQUAL(r.status, 500);
		CU_ASSERT_PTR_NULL(jg_response_header(&r, "Retry-After"));
		jg_response_clear(&r);
	}
	jg_http_error_response(&r, JG_STYLE_OAUTH, JG_ERR_BUSY, NULL, "busy");
	CU_ASSERT_STRING_EQUAL(r.body, "{\"error\":\"temporarily_unavailable\","
			       "\"error_description\":\"busy\"}");
	jg_response_clear(&r);

	jg_http_error_response(&r, JG_STYLE_OAUTH, JG_ERR_MALFORMED, NULL, "a parameter is repeated");
	CU_ASSERT_EQUAL(r.status, 400);
	CU_ASSERT_STRING_EQUAL(r.body, "{\"error\":\"invalid_request\","
			       "\"error_description\":\"a parameter is repeated\"}");
	CU_ASSERT_PTR_NULL(jg_response_header(&r, "WWW-Authenticate"));
	jg_response_clear(&r);

	jg_http_error_response(&r, JG_STYLE_BEARER, JG_ERR_DENIED, "api", "expired");
	CU_ASSERT_EQUAL(r.status, 401);
	CU_ASSERT_STRING_EQUAL(jg_response_header(&r, "WWW-Authenticate"),
			       "Bearer realm=\"api\", error=\"invalid_token\", "
			       "error_description=\"expired\"");
	jg_response_clear(&r);

	/* A 503 in Bearer style is no challenge. */
	jg_http_error_response(&r, JG_STYLE_BEARER, JG_ERR_BUSY, "api", NULL);
	CU_ASSERT_PTR_NULL(jg_response_header(&r, "WWW-Authenticate"));
	CU_ASSERT_STRING_EQUAL(r.body, "{\"error\":\"temporarily_unavailable\"}");
	jg_response_clear(&r);

	jg_http_status_response(&r, JG_STYLE_OAUTH, 413, "the request body is too large");
	CU_ASSERT_EQUAL(r.status, 413);
	CU_ASSERT_STRING_EQUAL(r.body, "{\"error\":\"invalid_request\","
			       "\"error_description\":\"the request body is too large\"}");
	jg_response_clear(&r);
}

/* ------------------------------------------------------------ request */

struct fake_body {
	const char *data;
	size_t len, pos;
	bool fail;
};

static long
fake_read(void *ctx, char *buf, size_t len)
{
	struct fake_body *b = ctx;
	size_t n = b->len - b->pos;

	if (b->fail)
		return -1;
	/* Hand out at most 3 bytes at a time: callers must loop. */
	if (n > len)
		n = len;
	if (n > 3)
		n = 3;
	memcpy(buf, b->data + b->pos, n);
	b->pos += n;
	return (long)n;
}

struct request_case {
	const char *name;
	const char *env[8];
	const char *body;
	bool has_end;
	enum jg_role role;
	enum jg_err want;
	int status;		/* when want is not JG_OK */
	const char *path;	/* when want is JG_OK */
	const char *body_want;
};

static const struct request_case request_cases[] = {
	{ "GET with query",
	  { "REQUEST_METHOD=GET", "SCRIPT_NAME=/oauth/authorize", "QUERY_STRING=a=1",
	    "REQUEST_URI=/oauth/authorize?a=1" },
	  "", true, JG_ROLE_RESPONDER, JG_OK, 0, "/oauth/authorize", "" },
	{ "SCRIPT_NAME and PATH_INFO",
	  { "REQUEST_METHOD=GET", "SCRIPT_NAME=/api", "PATH_INFO=/me" },
	  "", true, JG_ROLE_RESPONDER, JG_OK, 0, "/api/me", "" },
	{ "path from REQUEST_URI, decoded",
	  { "REQUEST_METHOD=GET", "REQUEST_URI=/private/a%20b.txt?x=1" },
	  "", true, JG_ROLE_AUTHORIZER, JG_OK, 0, "/private/a b.txt", "" },
	{ "dot segments removed",
	  { "REQUEST_METHOD=GET", "REQUEST_URI=/a/./b/../c" },
	  "", true, JG_ROLE_AUTHORIZER, JG_OK, 0, "/a/c", "" },
	{ "encoded dot segments removed",
	  { "REQUEST_METHOD=GET", "REQUEST_URI=/api/%2e%2e/admin" },
	  "", true, JG_ROLE_AUTHORIZER, JG_OK, 0, "/admin", "" },
	{ "encoded letters decoded",
	  { "REQUEST_METHOD=GET", "REQUEST_URI=/api/%61dmin" },
	  "", true, JG_ROLE_AUTHORIZER, JG_OK, 0, "/api/admin", "" },
	{ "repeated slashes",
	  { "REQUEST_METHOD=GET", "REQUEST_URI=//a//b" },
	  "", true, JG_ROLE_AUTHORIZER, JG_OK, 0, "/a/b", "" },
	{ "trailing slash kept",
	  { "REQUEST_METHOD=GET", "REQUEST_URI=/a/" },
	  "", true, JG_ROLE_AUTHORIZER, JG_OK, 0, "/a/", "" },
	{ "trailing dot",
	  { "REQUEST_METHOD=GET", "REQUEST_URI=/a/b/." },
	  "", true, JG_ROLE_AUTHORIZER, JG_OK, 0, "/a/b/", "" },
	{ "root",
	  { "REQUEST_METHOD=GET", "REQUEST_URI=/" },
	  "", true, JG_ROLE_AUTHORIZER, JG_OK, 0, "/", "" },
	{ "up to the root",
	  { "REQUEST_METHOD=GET", "REQUEST_URI=/a/.." },
	  "", true, JG_ROLE_AUTHORIZER, JG_OK, 0, "/", "" },
	{ "above the root",
	  { "REQUEST_METHOD=GET", "REQUEST_URI=/a/../../etc/passwd" },
	  "", true, JG_ROLE_AUTHORIZER, JG_ERR_MALFORMED, 400, NULL, NULL },
	{ "encoded slash",
	  { "REQUEST_METHOD=GET", "REQUEST_URI=/a%2fb" },
	  "", true, JG_ROLE_AUTHORIZER, JG_ERR_MALFORMED, 400, NULL, NULL },
	{ "encoded NUL",
	  { "REQUEST_METHOD=GET", "REQUEST_URI=/a%00.txt" },
	  "", true, JG_ROLE_AUTHORIZER, JG_ERR_MALFORMED, 400, NULL, NULL },
	{ "bad percent",
	  { "REQUEST_METHOD=GET", "REQUEST_URI=/a%zz" },
	  "", true, JG_ROLE_AUTHORIZER, JG_ERR_MALFORMED, 400, NULL, NULL },
	{ "backslash",
	  { "REQUEST_METHOD=GET", "REQUEST_URI=/a%5c..%5cb" },
	  "", true, JG_ROLE_AUTHORIZER, JG_ERR_MALFORMED, 400, NULL, NULL },
	{ "encoded newline",
	  { "REQUEST_METHOD=GET", "REQUEST_URI=/a%0d%0ab" },
	  "", true, JG_ROLE_AUTHORIZER, JG_ERR_MALFORMED, 400, NULL, NULL },
	{ "invalid UTF-8 path",
	  { "REQUEST_METHOD=GET", "REQUEST_URI=/a%C3" },
	  "", true, JG_ROLE_AUTHORIZER, JG_ERR_MALFORMED, 400, NULL, NULL },
	{ "relative path",
	  { "REQUEST_METHOD=GET", "REQUEST_URI=a/b" },
	  "", true, JG_ROLE_AUTHORIZER, JG_ERR_MALFORMED, 400, NULL, NULL },
	{ "no path at all",
	  { "REQUEST_METHOD=GET" },
	  "", true, JG_ROLE_RESPONDER, JG_ERR_MALFORMED, 400, NULL, NULL },
	{ "no method",
	  { "SCRIPT_NAME=/x" },
	  "", true, JG_ROLE_RESPONDER, JG_ERR_MALFORMED, 400, NULL, NULL },
	{ "method with a space",
	  { "REQUEST_METHOD=GE T", "SCRIPT_NAME=/x" },
	  "", true, JG_ROLE_RESPONDER, JG_ERR_MALFORMED, 400, NULL, NULL },
	{ "method of 17 bytes",
	  { "REQUEST_METHOD=AAAAAAAAAAAAAAAAA", "SCRIPT_NAME=/x" },
	  "", true, JG_ROLE_RESPONDER, JG_ERR_MALFORMED, 400, NULL, NULL },
	{ "POST body",
	  { "REQUEST_METHOD=POST", "SCRIPT_NAME=/t", "CONTENT_LENGTH=11" },
	  "a=1&b=hello", true, JG_ROLE_RESPONDER, JG_OK, 0, "/t", "a=1&b=hello" },
	{ "empty CONTENT_LENGTH is none",
	  { "REQUEST_METHOD=POST", "SCRIPT_NAME=/t", "CONTENT_LENGTH=" },
	  "", true, JG_ROLE_RESPONDER, JG_OK, 0, "/t", "" },
	{ "CONTENT_LENGTH 0",
	  { "REQUEST_METHOD=POST", "SCRIPT_NAME=/t", "CONTENT_LENGTH=0" },
	  "", true, JG_ROLE_RESPONDER, JG_OK, 0, "/t", "" },
	{ "CONTENT_LENGTH with plus",
	  { "REQUEST_METHOD=POST", "SCRIPT_NAME=/t", "CONTENT_LENGTH=+5" },
	  "hello", true, JG_ROLE_RESPONDER, JG_ERR_MALFORMED, 400, NULL, NULL },
	{ "CONTENT_LENGTH with space",
	  { "REQUEST_METHOD=POST", "SCRIPT_NAME=/t", "CONTENT_LENGTH=5 " },
	  "hello", true, JG_ROLE_RESPONDER, JG_ERR_MALFORMED, 400, NULL, NULL },
	{ "CONTENT_LENGTH negative",
	  { "REQUEST_METHOD=POST", "SCRIPT_NAME=/t", "CONTENT_LENGTH=-1" },
	  "hello", true, JG_ROLE_RESPONDER, JG_ERR_MALFORMED, 400, NULL, NULL },
	{ "CONTENT_LENGTH hex",
	  { "REQUEST_METHOD=POST", "SCRIPT_NAME=/t", "CONTENT_LENGTH=0x5" },
	  "hello", true, JG_ROLE_RESPONDER, JG_ERR_MALFORMED, 400, NULL, NULL },
	{ "CONTENT_LENGTH overflowing",
	  { "REQUEST_METHOD=POST", "SCRIPT_NAME=/t",
	    "CONTENT_LENGTH=18446744073709551621" },
	  "hello", true, JG_ROLE_RESPONDER, JG_ERR_MALFORMED, 400, NULL, NULL },
	{ "CONTENT_LENGTH over the cap",
	  { "REQUEST_METHOD=POST", "SCRIPT_NAME=/t", "CONTENT_LENGTH=65537" },
	  "hello", true, JG_ROLE_RESPONDER, JG_ERR_MALFORMED, 413, NULL, NULL },
	{ "body shorter than CONTENT_LENGTH",
	  { "REQUEST_METHOD=POST", "SCRIPT_NAME=/t", "CONTENT_LENGTH=9" },
	  "hello", true, JG_ROLE_RESPONDER, JG_ERR_MALFORMED, 400, NULL, NULL },
	{ "body longer than CONTENT_LENGTH",
	  { "REQUEST_METHOD=POST", "SCRIPT_NAME=/t", "CONTENT_LENGTH=3" },
	  "hello", true, JG_ROLE_RESPONDER, JG_ERR_MALFORMED, 400, NULL, NULL },
	{ "CGI stdin is not read past CONTENT_LENGTH",
	  { "REQUEST_METHOD=POST", "SCRIPT_NAME=/t", "CONTENT_LENGTH=3" },
	  "hello", false, JG_ROLE_RESPONDER, JG_OK, 0, "/t", "hel" },
	{ "an authorizer reads no body",
	  { "REQUEST_METHOD=POST", "REQUEST_URI=/t", "CONTENT_LENGTH=5" },
	  "", true, JG_ROLE_AUTHORIZER, JG_OK, 0, "/t", "" },
	{ "entries without = and odd names are skipped",
	  { "REQUEST_METHOD=GET", "NOEQUALS", "BASH_FUNC_x%%=() { :; }", "=x",
	    "SCRIPT_NAME=/ok" },
	  "", true, JG_ROLE_RESPONDER, JG_OK, 0, "/ok", "" },
	{ "the first of a repeated name wins",
	  { "REQUEST_METHOD=GET", "SCRIPT_NAME=/first", "SCRIPT_NAME=/second" },
	  "", true, JG_ROLE_RESPONDER, JG_OK, 0, "/first", "" },
};

static void
test_request_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(request_cases) / sizeof(request_cases[0]); i++) {
		const struct request_case *c = &request_cases[i];
		struct fake_body fb = { c->body, strlen(c->body), 0, false };
		struct jg_body_source src = { fake_read, &fb, c->has_end };
		struct jg_request req;
		const char *why = NULL;
		int status = 0;
		enum jg_err err;

		jg_request_init(&req);
		err = jg_request_parse(&req, (const char *const *)c->env, c->role, 1234, &src,
				       JG_HTTP_MAX_BODY, &status, &why);
		if (err != c->want)
			fprintf(stderr, "request case \"%s\": got %d (%s)\n", c->name, err,
				why ? why : "");
		CU_ASSERT_EQUAL(err, c->want);
		if (c->want == JG_OK) {
			CU_ASSERT_STRING_EQUAL(req.path, c->path);
			CU_ASSERT_EQUAL(req.body_len, strlen(c->body_want));
			CU_ASSERT_STRING_EQUAL(req.body, c->body_want);
			CU_ASSERT_EQUAL(req.role, c->role);
			CU_ASSERT_EQUAL(req.now, 1234);
		} else {
			if (status != c->status)
				fprintf(stderr, "request case \"%s\": status %d\n", c->name, status);
			CU_ASSERT_EQUAL(status, c->status);
			CU_ASSERT_PTR_NOT_NULL(why);
		}
		jg_request_clear(&req);
	}
}

static void
test_request_fields(void)
{
	const char *env[] = {
		"REQUEST_METHOD=POST", "SCRIPT_NAME=/oauth/token", "QUERY_STRING=x=1",
		"REQUEST_URI=/oauth/token?x=1", "REMOTE_ADDR=127.0.0.1",
		"HTTP_HOST=as.example", "HTTPS=on",
		"CONTENT_TYPE=application/x-www-form-urlencoded; charset=UTF-8",
		"CONTENT_LENGTH=18", "HTTP_AUTHORIZATION=Basic czZCaGRSa3F0MzpnWDFmQmF0M2JW",
		"HTTP_COOKIE=a=1", "HTTP_ACCEPT=text/html", "HTTP_ORIGIN=https://c.example",
		"SERVER_NAME=as.example", NULL,
	};
	struct fake_body fb = { "grant_type=x&b=%41", 18, 0, false };
	struct jg_body_source src = { fake_read, &fb, true };
	struct jg_request req;
	struct jg_params form = { NULL, 0 };
	const char *why;

	jg_request_init(&req);
	CU_ASSERT_EQUAL_FATAL(jg_request_parse(&req, (const char *const *)env, JG_ROLE_RESPONDER,
					       7, &src, 100, NULL, NULL), JG_OK);
	CU_ASSERT_STRING_EQUAL(req.method, "POST");
	CU_ASSERT_STRING_EQUAL(req.path, "/oauth/token");
	CU_ASSERT_STRING_EQUAL(req.query, "x=1");
	CU_ASSERT_STRING_EQUAL(req.request_uri, "/oauth/token?x=1");
	CU_ASSERT_STRING_EQUAL(req.script_name, "/oauth/token");
	CU_ASSERT_STRING_EQUAL(req.path_info, "");
	CU_ASSERT_STRING_EQUAL(req.remote_addr, "127.0.0.1");
	CU_ASSERT_STRING_EQUAL(req.host, "as.example");
	CU_ASSERT_TRUE(req.https);
	CU_ASSERT_STRING_EQUAL(req.authorization, "Basic czZCaGRSa3F0MzpnWDFmQmF0M2JW");
	CU_ASSERT_STRING_EQUAL(req.cookie, "a=1");
	CU_ASSERT_STRING_EQUAL(req.accept, "text/html");
	CU_ASSERT_STRING_EQUAL(req.origin, "https://c.example");
	CU_ASSERT_STRING_EQUAL(jg_request_param(&req, "SERVER_NAME"), "as.example");
	CU_ASSERT_PTR_NULL(jg_request_param(&req, "HTTP_X_NONE"));
	CU_ASSERT_EQUAL(jg_request_form(&req, &form, &why), JG_OK);
	CU_ASSERT_STRING_EQUAL(jg_params_get(&form, "grant_type"), "x");
	CU_ASSERT_STRING_EQUAL(jg_params_get(&form, "b"), "A");
	jg_params_clear(&form);
	jg_request_clear(&req);
	CU_ASSERT_PTR_NULL(req.method);
	jg_request_clear(NULL);

	/* Optional headers are NULL when absent; HTTPS=off and
	 * REQUEST_SCHEME=https. */
	{
		const char *env2[] = { "REQUEST_METHOD=GET", "SCRIPT_NAME=/x", "HTTPS=off", NULL };
		const char *env3[] = { "REQUEST_METHOD=GET", "SCRIPT_NAME=/x",
				       "REQUEST_SCHEME=https", "CONTENT_TYPE=application/json",
				       NULL };

		jg_request_init(&req);
		CU_ASSERT_EQUAL(jg_request_parse(&req, (const char *const *)env2, JG_ROLE_RESPONDER,
						 0, NULL, 100, NULL, NULL), JG_OK);
		CU_ASSERT_FALSE(req.https);
		CU_ASSERT_PTR_NULL(req.authorization);
		CU_ASSERT_PTR_NULL(req.cookie);
		CU_ASSERT_PTR_NULL(req.host);
		CU_ASSERT_PTR_NULL(req.content_type);
		CU_ASSERT_STRING_EQUAL(req.query, "");
		CU_ASSERT_EQUAL(jg_request_form(&req, &form, &why), JG_ERR_MALFORMED);
		CU_ASSERT_STRING_EQUAL(why, "the body must be application/x-www-form-urlencoded");
		jg_request_clear(&req);
		jg_request_init(&req);
		CU_ASSERT_EQUAL(jg_request_parse(&req, (const char *const *)env3, JG_ROLE_RESPONDER,
						 0, NULL, 100, NULL, NULL), JG_OK);
		CU_ASSERT_TRUE(req.https);
		CU_ASSERT_EQUAL(jg_request_form(&req, &form, &why), JG_ERR_MALFORMED);
		jg_request_clear(&req);
	}
}

static void
test_request_limits(void)
{
	char *big = jg_xmalloc(JG_HTTP_MAX_PARAM_VALUE + 64);
	const char *env[4] = { "REQUEST_METHOD=GET", "SCRIPT_NAME=/x", big, NULL };
	static const struct {
		const char *name;
		size_t extra;	/* bytes over the cap */
		enum jg_err want;
		int status;
	} cases[] = {
		{ "HTTP_X_BIG", 0, JG_OK, 0 },
		{ "HTTP_X_BIG", 1, JG_ERR_MALFORMED, 431 },
		{ "QUERY_STRING", 1, JG_ERR_MALFORMED, 414 },
		{ "REQUEST_URI", 1, JG_ERR_MALFORMED, 414 },
		{ "CONTENT_TYPE", 1, JG_ERR_MALFORMED, 400 },
		{ "PATH_INFO", 1, JG_ERR_MALFORMED, 400 },
		{ "UNRELATED_VARIABLE", 1, JG_OK, 0 },	/* skipped */
	};
	struct fake_body fb = { "", 0, 0, true };
	struct jg_body_source src = { fake_read, &fb, true };
	struct jg_request req;
	const char **many;
	char **owned;
	size_t i;
	int status;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = strlen(cases[i].name);

		memcpy(big, cases[i].name, n);
		big[n] = '=';
		memset(big + n + 1, 'v', JG_HTTP_MAX_PARAM_VALUE + cases[i].extra);
		big[n + 1 + JG_HTTP_MAX_PARAM_VALUE + cases[i].extra] = '\0';
		status = 0;
		jg_request_init(&req);
		CU_ASSERT_EQUAL(jg_request_parse(&req, (const char *const *)env, JG_ROLE_RESPONDER,
						 0, NULL, 100, &status, NULL), cases[i].want);
		CU_ASSERT_EQUAL(status, cases[i].status);
		if (cases[i].want == JG_OK && cases[i].extra == 0) {
			CU_ASSERT_EQUAL(strlen(jg_request_param(&req, cases[i].name)),
					JG_HTTP_MAX_PARAM_VALUE);
		}
		if (cases[i].want == JG_OK && cases[i].extra) {
			CU_ASSERT_PTR_NULL(jg_request_param(&req, cases[i].name));
		}
		jg_request_clear(&req);
	}
	free(big);

	/* JG_HTTP_MAX_ENV parameters pass, one more is 431. */
	many = jg_xcalloc(JG_HTTP_MAX_ENV + 2, sizeof(*many));
	owned = jg_xcalloc(JG_HTTP_MAX_ENV, sizeof(*owned));
	many[0] = "REQUEST_METHOD=GET";
	many[1] = "SCRIPT_NAME=/x";
	for (i = 2; i < JG_HTTP_MAX_ENV; i++)
		many[i] = owned[i] = jg_xasprintf("HTTP_X_%zu=1", i);
	jg_request_init(&req);
	CU_ASSERT_EQUAL(jg_request_parse(&req, (const char *const *)many, JG_ROLE_RESPONDER,
					 0, NULL, 100, &status, NULL), JG_OK);
	CU_ASSERT_EQUAL(req.env.count, JG_HTTP_MAX_ENV);
	jg_request_clear(&req);
	many[JG_HTTP_MAX_ENV] = "HTTP_ONE_MORE=1";
	status = 0;
	jg_request_init(&req);
	CU_ASSERT_EQUAL(jg_request_parse(&req, (const char *const *)many, JG_ROLE_RESPONDER,
					 0, NULL, 100, &status, NULL), JG_ERR_MALFORMED);
	CU_ASSERT_EQUAL(status, 431);
	jg_request_clear(&req);
	for (i = 2; i < JG_HTTP_MAX_ENV; i++)
		free(owned[i]);
	free(owned);
	free(many);

	/* A read error is JG_ERR_SYSTEM with 400; the body cap is the
	 * caller's max_body. */
	{
		const char *env2[] = { "REQUEST_METHOD=POST", "SCRIPT_NAME=/x",
				       "CONTENT_LENGTH=4", NULL };
		struct fake_body ok = { "abcd", 4, 0, false };
		struct jg_body_source ok_src = { fake_read, &ok, true };

		jg_request_init(&req);
		CU_ASSERT_EQUAL(jg_request_parse(&req, (const char *const *)env2, JG_ROLE_RESPONDER,
						 0, &src, 100, &status, NULL), JG_ERR_SYSTEM);
		CU_ASSERT_EQUAL(status, 400);
		jg_request_clear(&req);
		jg_request_init(&req);
		CU_ASSERT_EQUAL(jg_request_parse(&req, (const char *const *)env2, JG_ROLE_RESPONDER,
						 0, &ok_src, 3, &status, NULL), JG_ERR_MALFORMED);
		CU_ASSERT_EQUAL(status, 413);
		jg_request_clear(&req);
		ok.pos = 0;
		jg_request_init(&req);
		CU_ASSERT_EQUAL(jg_request_parse(&req, (const char *const *)env2, JG_ROLE_RESPONDER,
						 0, &ok_src, 4, &status, NULL), JG_OK);
		CU_ASSERT_STRING_EQUAL(req.body, "abcd");
		jg_request_clear(&req);
		/* No body source: a declared body is missing. */
		jg_request_init(&req);
		CU_ASSERT_EQUAL(jg_request_parse(&req, (const char *const *)env2, JG_ROLE_RESPONDER,
						 0, NULL, 100, &status, NULL), JG_ERR_MALFORMED);
		CU_ASSERT_EQUAL(status, 400);
		jg_request_clear(&req);
	}
}

static void
test_media_type(void)
{
	CU_ASSERT_TRUE(jg_http_media_type_is("application/x-www-form-urlencoded",
					     "application/x-www-form-urlencoded"));
	CU_ASSERT_TRUE(jg_http_media_type_is("application/x-www-form-urlencoded; charset=UTF-8",
					     "application/x-www-form-urlencoded"));
	CU_ASSERT_TRUE(jg_http_media_type_is(" Application/X-WWW-Form-Urlencoded ;x=y",
					     "application/x-www-form-urlencoded"));
	CU_ASSERT_FALSE(jg_http_media_type_is("application/x-www-form-urlencodedx",
					      "application/x-www-form-urlencoded"));
	CU_ASSERT_FALSE(jg_http_media_type_is("application/json",
					      "application/x-www-form-urlencoded"));
	CU_ASSERT_FALSE(jg_http_media_type_is("", "application/json"));
	CU_ASSERT_FALSE(jg_http_media_type_is(NULL, "application/json"));
}

static void
test_server_args(void)
{
	static const struct {
		const char *argv[4];
		int argc;
		enum jg_err want;
		const char *listen;
	} cases[] = {
		{ { "p" }, 1, JG_OK, NULL },
		{ { "p", "--listen", "/run/j.sock" }, 3, JG_OK, "/run/j.sock" },
		{ { "p", "--listen=127.0.0.1:9000" }, 2, JG_OK, "127.0.0.1:9000" },
		{ { "p", "--listen" }, 2, JG_ERR_MALFORMED, NULL },
		{ { "p", "--listen", "" }, 3, JG_ERR_MALFORMED, NULL },
		{ { "p", "--listen=" }, 2, JG_ERR_MALFORMED, NULL },
		{ { "p", "-x" }, 2, JG_ERR_MALFORMED, NULL },
		{ { "p", "--listen", "/a", "extra" }, 4, JG_ERR_MALFORMED, NULL },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct jg_server_opts o;
		char *argv[4] = { NULL, NULL, NULL, NULL };
		int j;

		for (j = 0; j < cases[i].argc; j++)
			argv[j] = jg_xstrdup(cases[i].argv[j]);
		memset(&o, 0, sizeof(o));
		CU_ASSERT_EQUAL(jg_server_args(cases[i].argc, argv, &o), cases[i].want);
		if (cases[i].want == JG_OK && cases[i].listen) {
			CU_ASSERT_STRING_EQUAL(o.listen, cases[i].listen);
		}
		if (cases[i].want == JG_OK && cases[i].listen == NULL) {
			CU_ASSERT_PTR_NULL(o.listen);
		}
		for (j = 0; j < cases[i].argc; j++)
			free(argv[j]);
	}
}

int
main(void)
{
	static const struct jg_test tests[] = {
		{ "query and form parsing table", test_params_table },
		{ "query and form parsing caps", test_params_caps },
		{ "form component decoding", test_form_decode },
		{ "Bearer credentials table", test_bearer_table },
		{ "Bearer token length cap", test_bearer_length },
		{ "Basic credentials table", test_basic_table },
		{ "Cookie header table", test_cookie_table },
		{ "HTML escaping", test_html_escape },
		{ "URL encoding", test_url_encode },
		{ "URL query building", test_url_append },
		{ "URL with iss (RFC 9207)", test_url_iss },
		{ "header injection refused", test_header_injection },
		{ "header set and add", test_headers_set_add },
		{ "CGI serialization", test_serialize },
		{ "HTML security headers", test_html },
		{ "Bearer WWW-Authenticate answers", test_bearer_errors },
		{ "OAuth error JSON", test_oauth_errors },
		{ "JSON answers", test_json },
		{ "redirects", test_redirect },
		{ "Set-Cookie", test_set_cookie },
		{ "authorizer allow", test_authorizer_allow },
		{ "error table", test_error_table },
		{ "error answers", test_error_responses },
		{ "request parsing table", test_request_table },
		{ "request fields", test_request_fields },
		{ "request limits", test_request_limits },
		{ "media types", test_media_type },
		{ "server command line", test_server_args },
		{ NULL, NULL },
	};

	return jg_test_main("http", tests);
}
