/* fuzz_json.c: libFuzzer harness for the strict JSON parser (common/json.c).
 * Besides finding crashes, leaks and undefined behaviour it checks, as a
 * differential test, that every document jg_json_parse accepts is also
 * accepted by json-c's own parser in strict mode (JSON_TOKENER_STRICT with
 * UTF-8 validation) and yields an equal value (numbers compared by value):
 * the strict parser only ever narrows what json-c accepts. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Parses text with json-c in strict mode.  Returns 1 and the value in *out
 * (NULL for the JSON null) when json-c accepts the whole text, else 0. */
static int
jsonc_strict(const char *text, size_t len, struct json_object **out)
{
	struct json_tokener *tok = json_tokener_new_ex(JG_JSON_MAX_DEPTH + 2);
	struct json_object *obj;
	enum json_tokener_error jerr;
	size_t end, i;

	*out = NULL;
	if (tok == NULL)
		abort();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	end = jerr == json_tokener_success ? json_tokener_get_parse_end(tok) : len;
	if (jerr == json_tokener_continue) {
		/* A lone number or literal is only complete at the end of
		 * input: feed the terminating NUL, after which nothing is
		 * left. */
		obj = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
	}
	json_tokener_free(tok);
	if (jerr != json_tokener_success)
		return 0;
	for (i = end; i < len; i++) {
		if (strchr(" \t\r\n", text[i]) == NULL) {
			json_object_put(obj);
			return 0;
		}
	}
	*out = obj;
	return 1;
}

static int
is_number(const struct json_object *o)
{
	return json_object_is_type(o, json_type_int) ||
	       json_object_is_type(o, json_type_double);
}

/* Decodes the UTF-8 sequence at *p (the strings are valid UTF-8: both
 * parsers check) and advances *p. */
static unsigned long
next_code_point(const unsigned char **p)
{
	const unsigned char *s = *p;
	unsigned long c = s[0];
	int n = c < 0x80 ? 0 : c < 0xe0 ? 1 : c < 0xf0 ? 2 : 3, i;

	if (n > 0)
		c &= 0x3fUL >> n;
	for (i = 1; i <= n; i++)
		c = c << 6 | (s[i] & 0x3f);
	*p = s + n + 1;
	return c;
}

/* Strings of equal value, except where json-c 0.16 turns the surrogate
 * pair of a code point into U+FFFD: it does so for some pairs
 * ("\ud837\ude00", U+1DE00, among them; "\ud83d\ude00" comes out
 * right), which RFC 8259 section 7 makes one character.  Only a
 * supplementary-plane character of ours may stand against json-c's
 * U+FFFD; everything else must be the same. */
static int
same_string(struct json_object *a, struct json_object *b)
{
	const unsigned char *pa = (const unsigned char *)json_object_get_string(a);
	const unsigned char *pb = (const unsigned char *)json_object_get_string(b);
	const unsigned char *ea = pa + json_object_get_string_len(a);
	const unsigned char *eb = pb + json_object_get_string_len(b);
	unsigned long ca, cb;

	while (pa < ea && pb < eb) {
		ca = next_code_point(&pa);
		cb = next_code_point(&pb);
		if (ca != cb && !(cb == 0xfffd && ca >= 0x10000))
			return 0;
	}
	return pa == ea && pb == eb;
}

/* json_object_equal, except for numbers: an integer outside int64 is a
 * double for jg_json_parse (by design, see json.c), while json-c makes it
 * an integer saturated at UINT64_MAX or INT64_MIN. */
static int
same(struct json_object *a, struct json_object *b)
{
	size_t i, n;

	if (is_number(a) && is_number(b)) {
		if (json_object_is_type(a, json_type_int) &&
		    json_object_is_type(b, json_type_int))
			return json_object_equal(a, b);
		if (json_object_is_type(b, json_type_int))
			/* json-c saturates at UINT64_MAX and INT64_MIN:
			 * jg_json_parse keeps such a value as a double. */
			return json_object_get_double(a) >= 9223372036854775807.0 ||
			       json_object_get_double(a) <= -9223372036854775808.0;
		return json_object_get_double(a) == json_object_get_double(b);
	}
	if (a == NULL || b == NULL)
		return a == b;
	if (json_object_get_type(a) != json_object_get_type(b))
		return 0;
	if (json_object_is_type(a, json_type_array)) {
		n = json_object_array_length(a);
		if (n != json_object_array_length(b))
			return 0;
		for (i = 0; i < n; i++)
			if (!same(json_object_array_get_idx(a, i),
				  json_object_array_get_idx(b, i)))
				return 0;
		return 1;
	}
	if (json_object_is_type(a, json_type_object)) {
		struct json_object *bv;

		if (json_object_object_length(a) != json_object_object_length(b))
			return 0;
		json_object_object_foreach(a, key, av) {
			if (!json_object_object_get_ex(b, key, &bv) || !same(av, bv))
				return 0;
		}
		return 1;
	}
	if (json_object_is_type(a, json_type_string))
		return same_string(a, b);
	return json_object_equal(a, b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct json_object *ours = NULL, *theirs;
	const char *why = NULL;
	char *dump;

	if (jg_json_parse(text, size, 0, &ours, &why) != JG_OK) {
		if (why == NULL)
			abort();
		return 0;
	}
	if (!jsonc_strict(text, size, &theirs)) {
		fprintf(stderr, "jg_json_parse accepted what json-c strict refuses\n");
		abort();
	}
	if (!same(ours, theirs)) {
		fprintf(stderr, "jg_json_parse and json-c disagree on the value\n");
		abort();
	}
	/* The compact dump parses again to the same value. */
	dump = jg_json_dump(ours);
	if (dump != NULL) {
		struct json_object *again = NULL;

		if (jg_json_parse(dump, strlen(dump), 0, &again, NULL) != JG_OK ||
		    !json_object_equal(ours, again)) {
			fprintf(stderr, "jg_json_dump output does not parse back\n");
			abort();
		}
		json_object_put(again);
		free(dump);
	}
	json_object_put(theirs);
	/* The object-only variant agrees with the type of the value. */
	theirs = NULL;
	if ((jg_json_parse_object(text, size, &theirs, NULL) == JG_OK) !=
	    json_object_is_type(ours, json_type_object))
		abort();
	json_object_put(theirs);
	json_object_put(ours);
	return 0;
}
