/* json.c: a strict one-pass JSON parser that builds json-c objects, and accessors. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/* Documents up to this size are parsed with no allocation of our own. */
#define SMALL_SCRATCH 1024

/* Character classes inside a string: everything not listed is copied as is. */
enum {
	CLASS_PLAIN = 0,
	CLASS_CONTROL,
	CLASS_QUOTE,
	CLASS_BACKSLASH,
	CLASS_HIGH
};

static const unsigned char string_class[256] = {
	[0x00 ... 0x1f] = CLASS_CONTROL,
	['"'] = CLASS_QUOTE,
	['\\'] = CLASS_BACKSLASH,
	[0x80 ... 0xff] = CLASS_HIGH,
};

/* An open object or array. */
struct frame {
	struct json_object *obj;
	bool is_array;
};

struct parser {
	const unsigned char *p;
	const unsigned char *end;
	const char *why;
};

/* json-c reports allocation failure by returning NULL; treat it like
 * jg_xmalloc does. */
static struct json_object *
need(struct json_object *obj)
{
	if (obj == NULL) {
		fprintf(stderr, "jwtgate: out of memory building a JSON value\n");
		abort();
	}
	return obj;
}

/* json-c's getters take non-const pointers though they only read. */
static struct json_object *
unconst(const struct json_object *obj)
{
	return (struct json_object *)(uintptr_t)obj;
}

static bool
fail(struct parser *ps, const char *why)
{
	ps->why = why;
	return false;
}

static void
skip_space(struct parser *ps)
{
	const unsigned char *p = ps->p, *end = ps->end;

	while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	ps->p = p;
}

/* Returns the length (1 to 4) of the well-formed UTF-8 sequence at p, which
 * must be before end, or 0 when it is not well formed (RFC 3629 section 4). */
static size_t
utf8_sequence(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0], lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (c < 0x80)
		return 1;
	if (c < 0xc2)		/* continuation bytes, overlong C0 and C1 */
		return 0;
	if (c < 0xe0) {
		n = 2;
	} else if (c < 0xf0) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0;	/* overlong */
		else if (c == 0xed)
			hi = 0x9f;	/* surrogates */
	} else if (c < 0xf5) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90;	/* overlong */
		else if (c == 0xf4)
			hi = 0x8f;	/* above U+10FFFF */
	} else {
		return 0;
	}
	if ((size_t)(end - p) < n || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

bool
jg_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	size_t n;

	while (p < end) {
		if (*p < 0x80) {
			p++;
			continue;
		}
		n = utf8_sequence(p, end);
		if (n == 0)
			return false;
		p += n;
	}
	return true;
}

static bool
hex4(const unsigned char *p, const unsigned char *end, unsigned *out)
{
	unsigned v = 0, i, c;

	if (end - p < 4)
		return false;
	for (i = 0; i < 4; i++) {
		c = p[i];
		if (c >= '0' && c <= '9')
			c -= '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			c = (c | 0x20) - 'a' + 10;
		else
			return false;
		v = v << 4 | c;
	}
	*out = v;
	return true;
}

/* Writes code point c (not a surrogate, at most U+10FFFF) as UTF-8. */
static size_t
utf8_put(char *d, unsigned c)
{
	if (c < 0x80) {
		d[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		d[0] = (char)(0xc0 | c >> 6);
		d[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		d[0] = (char)(0xe0 | c >> 12);
		d[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		d[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	d[0] = (char)(0xf0 | c >> 18);
	d[1] = (char)(0x80 | ((c >> 12) & 0x3f));
	d[2] = (char)(0x80 | ((c >> 6) & 0x3f));
	d[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

/* Parses the string whose opening quote is at ps->p, unescaping it into dst
 * (the unescaped form is never longer than the escaped one).  Writes the
 * length to *outlen and whether it holds a NUL to *has_nul. */
static bool
parse_string(struct parser *ps, char *dst, size_t *outlen, bool *has_nul)
{
	const unsigned char *p = ps->p + 1, *end = ps->end, *run;
	char *d = dst;
	bool nul = false;
	unsigned c, lo;
	size_t n;

	for (;;) {
		run = p;
		while (p < end && string_class[*p] == CLASS_PLAIN)
			p++;
		memcpy(d, run, (size_t)(p - run));
		d += p - run;
		if (p == end)
			return fail(ps, "unterminated string");
		switch (string_class[*p]) {
		case CLASS_QUOTE:
			ps->p = p + 1;
			*outlen = (size_t)(d - dst);
			*has_nul = nul;
			return true;
		case CLASS_CONTROL:
			return fail(ps, "control character in string");
		case CLASS_HIGH:
			n = utf8_sequence(p, end);
			if (n == 0)
				return fail(ps, "invalid UTF-8 in string");
			memcpy(d, p, n);
			d += n;
			p += n;
			break;
		default:	/* CLASS_BACKSLASH */
			if (++p == end)
				return fail(ps, "unterminated string");
			switch (*p++) {
			case '"':
				*d++ = '"';
				break;
			case '\\':
				*d++ = '\\';
				break;
			case '/':
				*d++ = '/';
				break;
			case 'b':
				*d++ = '\b';
				break;
			case 'f':
				*d++ = '\f';
				break;
			case 'n':
				*d++ = '\n';
				break;
			case 'r':
				*d++ = '\r';
				break;
			case 't':
				*d++ = '\t';
				break;
			case 'u':
				if (!hex4(p, end, &c))
					return fail(ps, "invalid \\u escape");
				p += 4;
				if (c >= 0xdc00 && c <= 0xdfff)
					return fail(ps, "lone surrogate escape");
				if (c >= 0xd800 && c <= 0xdbff) {
					if (end - p < 6 || p[0] != '\\' || p[1] != 'u' ||
					    !hex4(p + 2, end, &lo) ||
					    lo < 0xdc00 || lo > 0xdfff)
						return fail(ps, "lone surrogate escape");
					p += 6;
					c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
				}
				if (c == 0)
					nul = true;
				d += utf8_put(d, c);
				break;
			default:
				return fail(ps, "invalid escape in string");
			}
			break;
		}
	}
}

static bool
is_digit(const unsigned char *p, const unsigned char *end)
{
	return p < end && *p >= '0' && *p <= '9';
}

/* Parses the number at ps->p (RFC 8259 section 6).  An integer that fits
 * int64 becomes json_type_int, anything else json_type_double.  scratch has
 * room for the number's text and a NUL. */
static bool
parse_number(struct parser *ps, char *scratch, struct json_object **out)
{
	const unsigned char *p = ps->p, *end = ps->end, *start = p;
	uint64_t magnitude = 0;
	bool negative = false, integer = true, overflow = false;
	unsigned digit;
	size_t n;
	double v;

	if (*p == '-') {
		negative = true;
		p++;
	}
	if (!is_digit(p, end))
		return fail(ps, "invalid number");
	if (*p == '0') {
		p++;
		if (is_digit(p, end))
			return fail(ps, "number with a leading zero");
	} else {
		for (; is_digit(p, end); p++) {
			digit = *p - '0';
			if (magnitude > (UINT64_MAX - digit) / 10)
				overflow = true;
			else
				magnitude = magnitude * 10 + digit;
		}
	}
	if (p < end && *p == '.') {
		integer = false;
		if (!is_digit(++p, end))
			return fail(ps, "invalid number");
		while (is_digit(p, end))
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		integer = false;
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (!is_digit(p, end))
			return fail(ps, "invalid number");
		while (is_digit(p, end))
			p++;
	}
	ps->p = p;
	if (integer && !overflow) {
		if (!negative && magnitude <= (uint64_t)INT64_MAX) {
			*out = need(json_object_new_int64((int64_t)magnitude));
			return true;
		}
		if (negative && magnitude <= (uint64_t)INT64_MAX + 1) {
			*out = need(json_object_new_int64(
			    magnitude == (uint64_t)INT64_MAX + 1 ? INT64_MIN :
			    -(int64_t)magnitude));
			return true;
		}
	}
	n = (size_t)(p - start);
	memcpy(scratch, start, n);
	scratch[n] = '\0';
	v = strtod(scratch, NULL);
	if (!isfinite(v))
		return fail(ps, "number out of range");
	/* Keep the text, so a dump writes the number as it came. */
	*out = need(json_object_new_double_s(v, scratch));
	return true;
}

/* Parses a member name and the colon after it into scratch (NUL-terminated,
 * length in *keylen), refusing NUL inside and names obj already has. */
static bool
parse_member_name(struct parser *ps, struct json_object *obj, char *scratch,
		  size_t *keylen)
{
	bool has_nul;

	skip_space(ps);
	if (ps->p == ps->end || *ps->p != '"')
		return fail(ps, "expected a member name");
	if (!parse_string(ps, scratch, keylen, &has_nul))
		return false;
	if (has_nul)
		return fail(ps, "NUL in member name");
	scratch[*keylen] = '\0';
	if (json_object_object_get_ex(obj, scratch, NULL))
		return fail(ps, "duplicate member name");
	skip_space(ps);
	if (ps->p == ps->end || *ps->p != ':')
		return fail(ps, "expected ':' after a member name");
	ps->p++;
	return true;
}

static bool
literal(struct parser *ps, const char *word, size_t len)
{
	if ((size_t)(ps->end - ps->p) < len || memcmp(ps->p, word, len) != 0)
		return fail(ps, "unexpected character");
	ps->p += len;
	return true;
}

/* Parses the scalar at ps->p (a string, number or literal) into *out, using
 * scratch for its text. */
static bool
parse_scalar(struct parser *ps, char *scratch, struct json_object **out)
{
	size_t len;
	bool has_nul;

	switch (*ps->p) {
	case '"':
		if (!parse_string(ps, scratch, &len, &has_nul))
			return false;
		*out = need(json_object_new_string_len(scratch, (int)len));
		return true;
	case 't':
		if (!literal(ps, "true", 4))
			return false;
		*out = need(json_object_new_boolean(1));
		return true;
	case 'f':
		if (!literal(ps, "false", 5))
			return false;
		*out = need(json_object_new_boolean(0));
		return true;
	case 'n':
		if (!literal(ps, "null", 4))
			return false;
		*out = NULL;
		return true;
	case '-': case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		return parse_number(ps, scratch, out);
	default:
		return fail(ps, "unexpected character");
	}
}

/* Adds val to the innermost open container (the member name is at the
 * start of scratch), or makes it the root. */
static void
attach(struct frame *frames, size_t depth, const char *key,
       struct json_object **root, struct json_object *val)
{
	struct frame *top;

	if (depth == 0) {
		*root = val;
		return;
	}
	top = &frames[depth - 1];
	if (top->is_array) {
		if (json_object_array_add(top->obj, val) != 0)
			need(NULL);
	} else {
		/* parse_member_name checked the name is new. */
		if (json_object_object_add_ex(top->obj, key, val,
					      JSON_C_OBJECT_ADD_KEY_IS_NEW) != 0)
			need(NULL);
	}
}

/*
 * The parser is iterative, so its stack use does not depend on the input:
 * frames holds the open containers.  Each container is attached to its
 * parent as soon as it is opened, so on failure putting the root frees
 * everything.  scratch (len + 1 bytes) holds the current member name at its
 * start and the text of the current scalar after it: the unescaped name plus
 * NUL and the scalar's text never exceed the bytes they came from.
 */
enum jg_err
jg_json_parse(const char *text, size_t len, unsigned max_depth,
	      struct json_object **out, const char **why)
{
	struct frame small_frames[JG_JSON_MAX_DEPTH], *frames = small_frames, *top;
	char small_scratch[SMALL_SCRATCH], *scratch = small_scratch, *valbuf;
	struct json_object *root = NULL, *val;
	struct parser ps = { NULL, NULL, NULL };
	size_t depth = 0, nframes, keylen = 0;
	enum jg_err rc = JG_ERR_MALFORMED;
	unsigned char c;

	if (max_depth == 0)
		max_depth = JG_JSON_MAX_DEPTH;
	if (len > JG_JSON_MAX_SIZE) {
		ps.why = "JSON text too large";
		goto done;
	}
	if (len >= sizeof(small_scratch))
		scratch = jg_xmalloc(len + 1);
	/* Each level needs an opening byte, so len bounds the depth too. */
	nframes = max_depth < len ? max_depth : len;
	if (nframes > JG_JSON_MAX_DEPTH)
		frames = jg_xmalloc(nframes * sizeof(*frames));
	ps.p = (const unsigned char *)text;
	ps.end = ps.p + len;

	for (;;) {
		/* A value starts here. */
		skip_space(&ps);
		if (ps.p == ps.end) {
			ps.why = "unexpected end of JSON text";
			goto done;
		}
		c = *ps.p;
		if (c == '{' || c == '[') {
			if (depth >= max_depth) {
				ps.why = "JSON nested too deeply";
				goto done;
			}
			val = need(c == '{' ? json_object_new_object() :
				   json_object_new_array());
			attach(frames, depth, scratch, &root, val);
			frames[depth].obj = val;
			frames[depth].is_array = c == '[';
			depth++;
			ps.p++;
			skip_space(&ps);
			if (ps.p < ps.end && *ps.p == (c == '{' ? '}' : ']')) {
				ps.p++;
				depth--;
			} else if (c == '[') {
				continue;
			} else if (!parse_member_name(&ps, val, scratch, &keylen)) {
				goto done;
			} else {
				continue;
			}
		} else {
			top = depth ? &frames[depth - 1] : NULL;
			valbuf = top && !top->is_array ? scratch + keylen + 1 : scratch;
			if (!parse_scalar(&ps, valbuf, &val))
				goto done;
			attach(frames, depth, scratch, &root, val);
		}

		/* A value ended: close containers until one needs more. */
		for (;;) {
			if (depth == 0)
				goto finished;
			top = &frames[depth - 1];
			skip_space(&ps);
			if (ps.p < ps.end && *ps.p == ',') {
				ps.p++;
				if (!top->is_array &&
				    !parse_member_name(&ps, top->obj, scratch, &keylen))
					goto done;
				break;
			}
			if (ps.p < ps.end && *ps.p == (top->is_array ? ']' : '}')) {
				ps.p++;
				depth--;
				continue;
			}
			ps.why = top->is_array ? "expected ',' or ']' in array" :
			    "expected ',' or '}' in object";
			goto done;
		}
	}
finished:
	skip_space(&ps);
	if (ps.p != ps.end) {
		ps.why = "trailing bytes after the JSON value";
		goto done;
	}
	*out = root;
	root = NULL;
	rc = JG_OK;
done:
	json_object_put(root);
	if (scratch != small_scratch) {
		jg_wipe(scratch, len + 1);
		free(scratch);
	} else {
		jg_wipe(small_scratch, len < sizeof(small_scratch) ? len + 1 : 0);
	}
	if (frames != small_frames)
		free(frames);
	if (rc != JG_OK && why)
		*why = ps.why;
	return rc;
}

enum jg_err
jg_json_parse_object(const char *text, size_t len, struct json_object **out,
		     const char **why)
{
	struct json_object *obj = NULL;
	enum jg_err rc;

	rc = jg_json_parse(text, len, 0, &obj, why);
	if (rc != JG_OK)
		return rc;
	if (!json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		if (why)
			*why = "JSON value is not an object";
		return JG_ERR_MALFORMED;
	}
	*out = obj;
	return JG_OK;
}

char *
jg_json_dump(const struct json_object *obj)
{
	const char *s;

	s = json_object_to_json_string_ext(unconst(obj),
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s == NULL) {
		fprintf(stderr, "jwtgate: out of memory serializing JSON\n");
		abort();
	}
	return jg_xstrdup(s);
}

struct json_object *
jg_json_get(const struct json_object *obj, const char *key)
{
	struct json_object *val = NULL;

	if (obj == NULL || key == NULL || !json_object_is_type(obj, json_type_object))
		return NULL;
	if (!json_object_object_get_ex(obj, key, &val))
		return NULL;
	return val;
}

bool
jg_json_get_string(const struct json_object *obj, const char *key,
		   const char **out)
{
	struct json_object *val = jg_json_get(obj, key);
	const char *s;

	if (!json_object_is_type(val, json_type_string))
		return false;
	s = json_object_get_string(val);
	/* A string with a NUL inside (from \u0000) would be cut short as a C
	 * string, so that "a\u0000b" passed for "a": refuse it here. */
	if (strlen(s) != (size_t)json_object_get_string_len(val))
		return false;
	*out = s;
	return true;
}

bool
jg_json_get_bool(const struct json_object *obj, const char *key, bool *out)
{
	struct json_object *val = jg_json_get(obj, key);

	if (!json_object_is_type(val, json_type_boolean))
		return false;
	*out = json_object_get_boolean(val) != 0;
	return true;
}

bool
jg_json_get_int64(const struct json_object *obj, const char *key, int64_t *out)
{
	struct json_object *val = jg_json_get(obj, key);
	int64_t v;

	if (!json_object_is_type(val, json_type_int))
		return false;
	v = json_object_get_int64(val);
	/* json-c clamps an unsigned value above INT64_MAX (json_object_new_uint64)
	 * to INT64_MAX: that does not fit. */
	if (v == INT64_MAX && json_object_get_uint64(val) != (uint64_t)INT64_MAX)
		return false;
	*out = v;
	return true;
}
