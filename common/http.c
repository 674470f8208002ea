/* http.c: request parsing, form/query/cookie/Authorization parsing, the
 * response builder and writers, URL building, and the error table. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "b64url.h"
#include "http.h"
#include "json.h"

/* ------------------------------------------------------------ helpers */

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* RFC 9110 section 5.6.2 tchar: ALPHA, DIGIT and "!#$%&'*+-.^_`|~" (a
 * table: every header name of every answer passes here). */
#define TCHAR_09 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
#define TCHAR_AZ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
static const unsigned char tchars[256] = {
	['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1,
	['*'] = 1, ['+'] = 1, ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1,
	['`'] = 1, ['|'] = 1, ['~'] = 1,
	['0'] = TCHAR_09,
	['A'] = TCHAR_AZ,
	['a'] = TCHAR_AZ,
};
#undef TCHAR_09
#undef TCHAR_AZ

static bool
is_tchar(unsigned char c)
{
	return tchars[c] != 0;
}

static bool
is_token(const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!is_tchar((unsigned char)s[i]) || i >= max)
			return false;
	return i > 0;
}

/* A growable string for building answers; out of memory aborts. */
struct buf {
	char *data;
	size_t len, cap;
};

static void
buf_add(struct buf *b, const char *s, size_t len)
{
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;

		while (cap < b->len + len + 1)
			cap *= 2;
		b->data = jg_xrealloc(b->data, cap);
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, len);
	b->len += len;
	b->data[b->len] = '\0';
}

static void
buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static char *
buf_finish(struct buf *b)
{
	if (b->data == NULL)
		return jg_xstrdup("");
	return b->data;
}

/* ------------------------------------------------------------ parameters */

void
jg_params_init(struct jg_params *p)
{
	p->items = NULL;
	p->count = 0;
}

void
jg_params_clear(struct jg_params *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->count; i++) {
		jg_free_secret(p->items[i].name);
		jg_free_secret(p->items[i].value);
	}
	free(p->items);
	jg_params_init(p);
}

const char *
jg_params_get(const struct jg_params *p, const char *name)
{
	size_t i;

	/* The first byte first: a request has some 25 parameters, looked up
	 * by name several times each. */
	for (i = 0; i < p->count; i++)
		if (p->items[i].name[0] == name[0] &&
		    strcmp(p->items[i].name, name) == 0)
			return p->items[i].value;
	return NULL;
}

/* Appends a pair, taking ownership of both strings.  The array grows in
 * powers of two from 16 (its capacity follows from count alone), so the
 * twenty-odd CGI variables of a request cost a few reallocations rather
 * than one each (make bench: /api/me). */
static void
params_push(struct jg_params *p, char *name, char *value)
{
	if (p->count == 0)
		p->items = jg_xrealloc(p->items, 16 * sizeof(*p->items));
	else if (p->count >= 16 && (p->count & (p->count - 1)) == 0)
		p->items = jg_xrealloc(p->items,
				       2 * p->count * sizeof(*p->items));
	p->items[p->count].name = name;
	p->items[p->count].value = value;
	p->count++;
}

enum decode_result {
	DECODE_OK = 0,
	DECODE_PERCENT,		/* "%" not followed by two hex digits */
	DECODE_NUL,		/* a NUL byte after decoding */
	DECODE_UTF8		/* invalid UTF-8 after decoding */
};

/* Decodes one component; writes *out only on DECODE_OK.  plus_space: "+"
 * means a space (forms), else it is kept. */
static enum decode_result
decode_component(const char *s, size_t len, bool plus_space, char **out)
{
	char *d = jg_xmalloc(len + 1);
	enum decode_result reason = DECODE_OK;
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '%') {
			int hi, lo;

			if (len - i < 3 || (hi = hex_value(s[i + 1])) < 0 ||
			    (lo = hex_value(s[i + 2])) < 0) {
				reason = DECODE_PERCENT;
				goto fail;
			}
			d[n++] = (char)(hi * 16 + lo);
			i += 2;
		} else if (s[i] == '+' && plus_space) {
			d[n++] = ' ';
		} else {
			d[n++] = s[i];
		}
	}
	d[n] = '\0';
	if (memchr(d, '\0', n) != NULL) {
		reason = DECODE_NUL;
		goto fail;
	}
	if (!jg_utf8_valid(d, n)) {
		reason = DECODE_UTF8;
		goto fail;
	}
	*out = d;
	return DECODE_OK;
fail:
	jg_wipe(d, n);
	free(d);
	return reason;
}

enum jg_err
jg_form_decode(const char *s, size_t len, char **out)
{
	return decode_component(s, len, true, out) == DECODE_OK ? JG_OK : JG_ERR_MALFORMED;
}

enum jg_err
jg_params_parse(const char *s, size_t len, struct jg_params *out,
		const char **why)
{
	struct jg_params list;
	const char *p = s, *end = s + len, *reason = NULL;

	jg_params_init(&list);
	if (len > JG_PARAMS_MAX_INPUT) {
		reason = "the parameters are too long";
		goto fail;
	}
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(stop - p));
		const char *name_end = eq ? eq : stop;
		char *name = NULL, *value = NULL;

		if (stop == p) {
			p = stop + 1;
			continue;
		}
		if (list.count == JG_PARAMS_MAX_COUNT) {
			reason = "too many parameters";
			goto fail;
		}
		if (name_end == p) {
			reason = "a parameter has an empty name";
			goto fail;
		}
		if (decode_component(p, (size_t)(name_end - p), true, &name) != DECODE_OK) {
			reason = "a parameter name is not correctly encoded (percent-encoding, NUL or UTF-8)";
			goto fail;
		}
		if (strlen(name) > JG_PARAMS_MAX_NAME) {
			free(name);
			reason = "a parameter name is too long";
			goto fail;
		}
		if (jg_params_get(&list, name) != NULL) {
			free(name);
			reason = "a parameter is repeated";
			goto fail;
		}
		if (eq) {
			static const char *const value_reasons[] = {
				[DECODE_PERCENT] = "a parameter value has a bad percent-encoding",
				[DECODE_NUL] = "a parameter value holds a NUL byte",
				[DECODE_UTF8] = "a parameter value is not valid UTF-8",
			};
			enum decode_result r = decode_component(eq + 1,
								(size_t)(stop - eq - 1),
								true, &value);

			if (r != DECODE_OK) {
				free(name);
				reason = value_reasons[r];
				goto fail;
			}
		} else {
			value = jg_xstrdup("");
		}
		params_push(&list, name, value);
		p = amp ? amp + 1 : end;
	}
	*out = list;
	return JG_OK;
fail:
	jg_params_clear(&list);
	if (why)
		*why = reason;
	return JG_ERR_MALFORMED;
}

static bool
is_unreserved(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static void
buf_url_encode(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p; p++) {
		if (is_unreserved(*p) && isascii(*p)) {
			buf_add(b, (const char *)p, 1);
		} else {
			char e[3] = { '%', hex[*p >> 4], hex[*p & 15] };

			buf_add(b, e, 3);
		}
	}
}

char *
jg_url_encode(const char *s)
{
	struct buf b = { NULL, 0, 0 };

	buf_url_encode(&b, s);
	return buf_finish(&b);
}

char *
jg_url_append_query(const char *base, const struct jg_kv *pairs, size_t npairs)
{
	struct buf b = { NULL, 0, 0 };
	const char *frag, *p;
	size_t head, i;
	bool first = true;

	for (p = base; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return NULL;
	frag = strchr(base, '#');
	head = frag ? (size_t)(frag - base) : strlen(base);
	buf_add(&b, base, head);
	for (i = 0; i < npairs; i++) {
		if (pairs[i].value == NULL)
			continue;
		if (first) {
			const char *q = memchr(base, '?', head);

			/* "?" starts the query; a later "?" is data. */
			if (q == NULL)
				buf_str(&b, "?");
			else if (q != base + head - 1 && base[head - 1] != '&')
				buf_str(&b, "&");
			first = false;
		} else {
			buf_str(&b, "&");
		}
		buf_url_encode(&b, pairs[i].name);
		buf_str(&b, "=");
		buf_url_encode(&b, pairs[i].value);
	}
	if (frag)
		buf_str(&b, frag);
	return buf_finish(&b);
}

/* ------------------------------------------------------------ request */

void
jg_request_init(struct jg_request *req)
{
	memset(req, 0, sizeof(*req));
	req->role = JG_ROLE_RESPONDER;
	jg_params_init(&req->env);
}

/* The string fields of struct jg_request taken from one parameter each;
 * keep_null: NULL when absent, else "". */
#define REQ_FIELD(name, field, keep_null) \
	{ name, sizeof(name) - 1, offsetof(struct jg_request, field), keep_null }
static const struct {
	const char *name;
	size_t len;
	size_t offset;
	bool keep_null;
} req_fields[] = {
	REQ_FIELD("REQUEST_METHOD", method, false),
	REQ_FIELD("QUERY_STRING", query, false),
	REQ_FIELD("REQUEST_URI", request_uri, false),
	REQ_FIELD("SCRIPT_NAME", script_name, false),
	REQ_FIELD("PATH_INFO", path_info, false),
	REQ_FIELD("REMOTE_ADDR", remote_addr, false),
	REQ_FIELD("HTTP_HOST", host, true),
	REQ_FIELD("CONTENT_TYPE", content_type, true),
	REQ_FIELD("HTTP_AUTHORIZATION", authorization, true),
	REQ_FIELD("HTTP_COOKIE", cookie, true),
	REQ_FIELD("HTTP_ACCEPT", accept, true),
	REQ_FIELD("HTTP_ORIGIN", origin, true),
};
#undef REQ_FIELD

static char **
req_field(struct jg_request *req, size_t i)
{
	return (char **)(void *)((char *)req + req_fields[i].offset);
}

/* True when s points into the request's parameter block. */
static bool
in_block(const struct jg_request *req, const char *s)
{
	uintptr_t p = (uintptr_t)s, b = (uintptr_t)req->block;

	return req->block != NULL && p >= b && p < b + req->block_len;
}

/* Frees a string field unless it lives in the parameter block. */
static void
field_free(const struct jg_request *req, char *s)
{
	if (s != NULL && !in_block(req, s))
		jg_free_secret(s);
}

void
jg_request_clear(struct jg_request *req)
{
	size_t i;

	if (req == NULL)
		return;
	/* Authorization and Cookie carry credentials; wipe everything alike. */
	for (i = 0; i < sizeof(req_fields) / sizeof(req_fields[0]); i++)
		field_free(req, *req_field(req, i));
	field_free(req, req->path);
	if (req->body && !in_block(req, req->body)) {
		jg_wipe(req->body, req->body_len);
		free(req->body);
	}
	if (req->env.items != NULL && !in_block(req, (const char *)req->env.items))
		jg_params_clear(&req->env);
	if (req->block) {
		jg_wipe(req->block, req->block_len);
		free(req->block);
	}
	jg_request_init(req);
}

const char *
jg_request_param(const struct jg_request *req, const char *name)
{
	return jg_params_get(&req->env, name);
}

/* The bytes of a parameter name: A-Z a-z 0-9 _ . - (a table: every name
 * of every request passes here). */
#define ENV_09 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
#define ENV_AZ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
static const unsigned char env_name_chars[256] = {
	['-'] = 1, ['.'] = 1,
	['0'] = ENV_09,
	['A'] = ENV_AZ,
	['_'] = 1,
	['a'] = ENV_AZ,
};
#undef ENV_09
#undef ENV_AZ

static bool
env_name_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > JG_HTTP_MAX_PARAM_NAME)
		return false;
	for (i = 0; i < len; i++)
		if (!env_name_chars[(unsigned char)s[i]])
			return false;
	return true;
}

/* The parameters whose overlong value fails the request with 400 instead
 * of being skipped. */
static bool
env_is_request_field(const char *name, size_t len)
{
	static const char *const fields[] = {
		"REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "CONTENT_TYPE",
		"CONTENT_LENGTH", "REMOTE_ADDR", "HTTPS", "REQUEST_SCHEME",
	};
	size_t i;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (strlen(fields[i]) == len && memcmp(fields[i], name, len) == 0)
			return true;
	return false;
}

/* One usable entry of envp: "NAME=value" with the lengths of both. */
struct env_entry {
	const char *entry;
	size_t nlen, vlen;
};

/* Picks the usable entries of envp into kept (at most JG_HTTP_MAX_ENV),
 * the first of each name; returns 0 or the status of the failure with *why
 * set (the entries picked until then stay in kept). */
static int
scan_env(const char *const *envp, struct env_entry *kept, size_t *nkept,
	 const char **why)
{
	uint64_t lengths[JG_HTTP_MAX_PARAM_NAME / 64 + 1] = { 0 };	/* seen */
	size_t i, j, n = 0;
	int failed = 0;

	for (i = 0; envp && envp[i]; i++) {
		const char *entry = envp[i];
		size_t scan = strnlen(entry, JG_HTTP_MAX_PARAM_NAME + 1);
		const char *eq = memchr(entry, '=', scan);
		size_t nlen, vlen;

		if (eq == NULL || !env_name_ok(entry, (size_t)(eq - entry)))
			continue;
		nlen = (size_t)(eq - entry);
		vlen = strnlen(eq + 1, JG_HTTP_MAX_PARAM_VALUE + 1);
		if (vlen > JG_HTTP_MAX_PARAM_VALUE) {
			if (nlen > 5 && memcmp(entry, "HTTP_", 5) == 0) {
				*why = "a request header is too long";
				failed = 431;
				break;
			}
			if ((nlen == 12 && memcmp(entry, "QUERY_STRING", 12) == 0) ||
			    (nlen == 11 && memcmp(entry, "REQUEST_URI", 11) == 0)) {
				*why = "the request URI is too long";
				failed = 414;
				break;
			}
			if (env_is_request_field(entry, nlen)) {
				*why = "a request field is too long";
				failed = 400;
				break;
			}
			continue;
		}
		/* A name can only repeat one of its length, and names of one
		 * length mostly differ in their last byte. */
		j = n;
		if (lengths[nlen / 64] & (UINT64_C(1) << (nlen % 64))) {
			for (j = 0; j < n; j++)
				if (kept[j].nlen == nlen &&
				    kept[j].entry[nlen - 1] == entry[nlen - 1] &&
				    memcmp(kept[j].entry, entry, nlen) == 0)
					break;
		}
		if (j < n)
			continue;
		if (n == JG_HTTP_MAX_ENV) {
			*why = "too many request headers";
			failed = 431;
			break;
		}
		kept[n].entry = entry;
		kept[n].nlen = nlen;
		kept[n].vlen = vlen;
		n++;
		lengths[nlen / 64] |= UINT64_C(1) << (nlen % 64);
	}
	*nkept = n;
	return failed;
}

/* Copies the kept entries into req->block: env's pairs first, then each
 * name and value, then one "" that the absent "never NULL" fields, the
 * path and the body start out as; points the fields at their values. */
static void
build_env(struct jg_request *req, const struct env_entry *kept, size_t n)
{
	size_t i, k, size = n * sizeof(struct jg_pair) + 1;
	uint64_t field_lengths = 0;	/* the lengths of the fields' names */
	struct jg_pair *items;
	char *p, *empty;

	for (k = 0; k < sizeof(req_fields) / sizeof(req_fields[0]); k++)
		field_lengths |= UINT64_C(1) << req_fields[k].len;
	for (i = 0; i < n; i++)
		size += kept[i].nlen + kept[i].vlen + 2;
	req->block = jg_xmalloc(size);
	req->block_len = size;
	items = (struct jg_pair *)(void *)req->block;
	p = req->block + n * sizeof(struct jg_pair);
	for (i = 0; i < n; i++) {
		items[i].name = p;
		memcpy(p, kept[i].entry, kept[i].nlen);
		p[kept[i].nlen] = '\0';
		p += kept[i].nlen + 1;
		items[i].value = p;
		memcpy(p, kept[i].entry + kept[i].nlen + 1, kept[i].vlen);
		p[kept[i].vlen] = '\0';
		p += kept[i].vlen + 1;
		if (kept[i].nlen >= 64 || !(field_lengths & (UINT64_C(1) << kept[i].nlen)))
			continue;
		for (k = 0; k < sizeof(req_fields) / sizeof(req_fields[0]); k++) {
			if (req_fields[k].len == kept[i].nlen &&
			    req_fields[k].name[0] == items[i].name[0] &&
			    memcmp(req_fields[k].name, items[i].name, kept[i].nlen) == 0) {
				*req_field(req, k) = items[i].value;
				break;
			}
		}
	}
	empty = p;
	*empty = '\0';
	req->env.items = n > 0 ? items : NULL;
	req->env.count = n;
	for (k = 0; k < sizeof(req_fields) / sizeof(req_fields[0]); k++)
		if (*req_field(req, k) == NULL && !req_fields[k].keep_null)
			*req_field(req, k) = empty;
	req->path = empty;
	req->body = empty;
	req->body_len = 0;
}

/* Removes "." and ".." segments and repeated "/" from an absolute path
 * (RFC 3986 section 5.2.4, stricter: ".." above the root is an error).
 * Returns a new string or NULL. */
static char *
normalize_path(const char *in)
{
	size_t len = strlen(in), n = 0, i = 0;
	char *out = jg_xmalloc(len + 2);
	bool trailing = false;

	if (in[0] != '/')
		goto fail;
	while (i < len) {
		size_t start, seg;

		while (i < len && in[i] == '/')
			i++;
		start = i;
		while (i < len && in[i] != '/')
			i++;
		seg = i - start;
		trailing = i == len && seg == 0;
		if (seg == 0)
			continue;
		if (seg == 1 && in[start] == '.') {
			trailing = i == len;
			continue;
		}
		if (seg == 2 && in[start] == '.' && in[start + 1] == '.') {
			if (n == 0)
				goto fail;
			while (n > 0 && out[n - 1] != '/')
				n--;
			n--;	/* the "/" before the removed segment */
			trailing = i == len;
			continue;
		}
		out[n++] = '/';
		memcpy(out + n, in + start, seg);
		n += seg;
	}
	if (n == 0 || trailing)
		out[n++] = '/';
	out[n] = '\0';
	return out;
fail:
	free(out);
	return NULL;
}

/* Checks a decoded path for the bytes jwtgate never accepts in one. */
static bool
path_bytes_ok(const char *p)
{
	size_t i, len = strlen(p);

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c < 0x20 || c == 0x7f || c == '\\')
			return false;
	}
	return jg_utf8_valid(p, len);
}

/* Builds req->path; returns false with *why set on failure. */
static bool
build_path(struct jg_request *req, const char **why)
{
	char *raw, *norm;
	size_t i, n;

	if (req->script_name[0] || req->path_info[0]) {
		size_t sl = strlen(req->script_name), pl = strlen(req->path_info);

		raw = jg_xmalloc(sl + pl + 1);
		memcpy(raw, req->script_name, sl);
		memcpy(raw + sl, req->path_info, pl + 1);
	} else {
		const char *uri = req->request_uri;
		size_t len = strcspn(uri, "?#");

		/* Percent-decode (no "+" rule in paths); an encoded "/" would
		 * make the path mean something else to us than to the web
		 * server, and NUL has no place in it. */
		raw = jg_xmalloc(len + 1);
		for (i = 0, n = 0; i < len; i++) {
			if (uri[i] == '%') {
				int hi, lo;

				if (len - i < 3 || (hi = hex_value(uri[i + 1])) < 0 ||
				    (lo = hex_value(uri[i + 2])) < 0) {
					*why = "the request path has a bad percent-encoding";
					goto fail;
				}
				if (hi * 16 + lo == '/' || hi * 16 + lo == 0) {
					*why = "the request path holds an encoded slash or NUL";
					goto fail;
				}
				raw[n++] = (char)(hi * 16 + lo);
				i += 2;
			} else {
				raw[n++] = uri[i];
			}
		}
		raw[n] = '\0';
	}
	if (!path_bytes_ok(raw)) {
		*why = "the request path holds a forbidden byte";
		goto fail;
	}
	norm = normalize_path(raw);
	if (norm == NULL) {
		*why = "the request path is not a valid absolute path";
		goto fail;
	}
	free(raw);
	if (!in_block(req, req->path))
		free(req->path);
	req->path = norm;
	return true;
fail:
	free(raw);
	return false;
}

/* Parses a CONTENT_LENGTH value: digits only, at most 18 of them. */
static bool
parse_length(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 18)
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (i == 0)
		return false;
	*out = v;
	return true;
}

static enum jg_err
read_body(struct jg_request *req, const struct jg_body_source *body,
	  size_t want, int *status, const char **why)
{
	char extra;
	long n;

	req->body = jg_xmalloc(want + 1);
	req->body_len = 0;
	req->body[0] = '\0';
	while (req->body_len < want) {
		n = body ? body->read(body->ctx, req->body + req->body_len,
				      want - req->body_len) : 0;
		if (n < 0) {
			*status = 400;
			*why = "the request body could not be read";
			return JG_ERR_SYSTEM;
		}
		if (n == 0) {
			*status = 400;
			*why = "the request body is shorter than its Content-Length";
			return JG_ERR_MALFORMED;
		}
		req->body_len += (size_t)n;
	}
	req->body[req->body_len] = '\0';
	if (body && body->has_end && body->read(body->ctx, &extra, 1) > 0) {
		*status = 400;
		*why = "the request body is longer than its Content-Length";
		return JG_ERR_MALFORMED;
	}
	return JG_OK;
}

enum jg_err
jg_request_parse(struct jg_request *req, const char *const *envp, enum jg_role role,
		 int64_t now, const struct jg_body_source *body, size_t max_body,
		 int *status, const char **why)
{
	struct env_entry kept[JG_HTTP_MAX_ENV];
	const char *reason = NULL, *v;
	int code = 400, failed;
	enum jg_err err = JG_ERR_MALFORMED;
	uint64_t length;
	size_t nkept;

	req->role = role;
	req->now = now;
	failed = scan_env(envp, kept, &nkept, &reason);
	build_env(req, kept, nkept);
	v = jg_params_get(&req->env, "HTTPS");
	req->https = v && (strcasecmp(v, "on") == 0 || strcmp(v, "1") == 0);
	v = jg_params_get(&req->env, "REQUEST_SCHEME");
	if (v && strcasecmp(v, "https") == 0)
		req->https = true;
	if (failed) {
		code = failed;
		goto fail;
	}
	if (!is_token(req->method, 16)) {
		reason = "the request method is missing or malformed";
		goto fail;
	}
	if (!build_path(req, &reason))
		goto fail;
	if (role != JG_ROLE_RESPONDER)
		goto done;
	v = jg_params_get(&req->env, "CONTENT_LENGTH");
	if (v == NULL || v[0] == '\0')
		goto done;
	if (!parse_length(v, &length)) {
		reason = "the Content-Length is malformed";
		goto fail;
	}
	if (length > (uint64_t)max_body) {
		code = 413;
		reason = "the request body is too large";
		goto fail;
	}
	req->body = NULL;	/* the block's "" */
	err = read_body(req, body, (size_t)length, &code, &reason);
	if (err != JG_OK)
		goto fail;
done:
	return JG_OK;
fail:
	if (status)
		*status = code;
	if (why)
		*why = reason;
	return err;
}

bool
jg_http_media_type_is(const char *content_type, const char *type)
{
	size_t start, end, tlen = strlen(type);

	if (content_type == NULL)
		return false;
	start = strspn(content_type, " \t");
	end = start + strcspn(content_type + start, ";");
	while (end > start && (content_type[end - 1] == ' ' ||
			       content_type[end - 1] == '\t'))
		end--;
	return end - start == tlen &&
	       strncasecmp(content_type + start, type, tlen) == 0;
}

enum jg_err
jg_request_form(const struct jg_request *req, struct jg_params *out,
		const char **why)
{
	if (!jg_http_media_type_is(req->content_type,
				   "application/x-www-form-urlencoded")) {
		if (why)
			*why = "the body must be application/x-www-form-urlencoded";
		return JG_ERR_MALFORMED;
	}
	return jg_params_parse(req->body, req->body_len, out, why);
}

/* ------------------------------------------------------------ headers */

/* RFC 6265 section 4.1.1 cookie-octet. */
static bool
is_cookie_octet(unsigned char c)
{
	return c == 0x21 || (c >= 0x23 && c <= 0x2b) || (c >= 0x2d && c <= 0x3a) ||
	       (c >= 0x3c && c <= 0x5b) || (c >= 0x5d && c <= 0x7e);
}

enum jg_err
jg_cookie_get(const char *header, const char *name, char **value, bool *duplicate)
{
	const char *p = header, *found = NULL;
	size_t found_len = 0, nlen = strlen(name), i;
	bool dup = false;

	if (header == NULL || nlen == 0)
		return JG_ERR_NOT_FOUND;
	while (*p) {
		const char *end = p + strcspn(p, ";"), *eq, *ns, *ne, *vs, *ve;

		ns = p;
		while (ns < end && (*ns == ' ' || *ns == '\t'))
			ns++;
		eq = memchr(ns, '=', (size_t)(end - ns));
		if (eq) {
			ne = eq;
			while (ne > ns && (ne[-1] == ' ' || ne[-1] == '\t'))
				ne--;
			vs = eq + 1;
			while (vs < end && (*vs == ' ' || *vs == '\t'))
				vs++;
			ve = end;
			while (ve > vs && (ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			if ((size_t)(ne - ns) == nlen && memcmp(ns, name, nlen) == 0) {
				if (found == NULL) {
					found = vs;
					found_len = (size_t)(ve - vs);
				} else {
					dup = true;
				}
			}
		}
		p = *end ? end + 1 : end;
	}
	if (found == NULL)
		return JG_ERR_NOT_FOUND;
	if (found_len >= 2 && found[0] == '"' && found[found_len - 1] == '"') {
		found++;
		found_len -= 2;
	}
	for (i = 0; i < found_len; i++)
		if (!is_cookie_octet((unsigned char)found[i]))
			return JG_ERR_MALFORMED;
	*value = jg_xstrndup(found, found_len);
	if (duplicate)
		*duplicate = dup;
	return JG_OK;
}

/* Matches "SCHEME" followed by a space or the end, case-insensitively.
 * Returns the rest after the spaces ("" when nothing follows), or NULL for
 * another scheme. */
static const char *
auth_scheme(const char *header, const char *scheme)
{
	size_t n = strlen(scheme);
	const char *p;

	if (header == NULL || strncasecmp(header, scheme, n) != 0)
		return NULL;
	p = header + n;
	if (*p != ' ' && *p != '\0')
		return NULL;
	while (*p == ' ')
		p++;
	return p;
}

/* Length of credentials at p once trailing spaces and tabs are dropped. */
static size_t
trimmed_len(const char *p)
{
	size_t n = strlen(p);

	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	return n;
}

/* The characters of RFC 6750's b64token, "=" aside, for strspn() (make
 * bench: a token is read on every request, and the C library's strspn
 * beats a test per character). */
static const char b64token_chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/";

enum jg_err
jg_http_bearer_token(const char *header, char **token)
{
	const char *p = auth_scheme(header, "Bearer");
	size_t n, i;

	if (p == NULL)
		return JG_ERR_NOT_FOUND;
	n = trimmed_len(p);
	if (n == 0 || n > JG_HTTP_MAX_PARAM_VALUE)
		return JG_ERR_MALFORMED;
	/* b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
	i = strspn(p, b64token_chars);
	if (i > n)
		i = n;	/* cannot happen: p[n] is a space, a tab or the end */
	if (i == 0)
		return JG_ERR_MALFORMED;
	while (i < n && p[i] == '=')
		i++;
	if (i != n)
		return JG_ERR_MALFORMED;
	*token = jg_xstrndup(p, n);
	return JG_OK;
}

enum jg_err
jg_http_basic_credentials(const char *header, char **id, char **secret)
{
	const char *p = auth_scheme(header, "Basic");
	unsigned char *plain = NULL;
	char *colon, *i_out = NULL, *s_out = NULL;
	enum jg_err err = JG_ERR_MALFORMED;
	size_t n, plain_len = 0;

	if (p == NULL)
		return JG_ERR_NOT_FOUND;
	n = trimmed_len(p);
	if (n == 0 || n > JG_HTTP_MAX_PARAM_VALUE)
		return JG_ERR_MALFORMED;
	if (jg_b64std_decode(p, n, &plain, &plain_len) != JG_OK)
		return JG_ERR_MALFORMED;
	if (memchr(plain, '\0', plain_len) != NULL)
		goto out;
	colon = memchr(plain, ':', plain_len);
	if (colon == NULL || colon == (char *)plain)
		goto out;
	if (jg_form_decode((char *)plain, (size_t)(colon - (char *)plain), &i_out) != JG_OK)
		goto out;
	if (jg_form_decode(colon + 1, plain_len - (size_t)(colon + 1 - (char *)plain),
			   &s_out) != JG_OK)
		goto out;
	if (i_out[0] == '\0')
		goto out;
	*id = i_out;
	*secret = s_out;
	i_out = s_out = NULL;
	err = JG_OK;
out:
	jg_free_secret(i_out);
	jg_free_secret(s_out);
	jg_wipe(plain, plain_len);
	free(plain);
	return err;
}

/* ------------------------------------------------------------ response */

void
jg_response_init(struct jg_response *resp)
{
	memset(resp, 0, sizeof(*resp));
}

static void
response_clear_body(struct jg_response *resp)
{
	if (resp->body) {
		jg_wipe(resp->body, resp->body_len);
		free(resp->body);
	}
	resp->body = NULL;
	resp->body_len = resp->body_cap = 0;
}

void
jg_response_clear(struct jg_response *resp)
{
	size_t i;

	if (resp == NULL)
		return;
	for (i = 0; i < resp->nheaders; i++) {
		free(resp->headers[i].name);
		jg_free_secret(resp->headers[i].value);
	}
	free(resp->headers);
	response_clear_body(resp);
	jg_response_init(resp);
}

bool
jg_http_header_value_ok(const char *value)
{
	const unsigned char *p;

	if (value == NULL)
		return false;
	for (p = (const unsigned char *)value; *p; p++)
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			return false;
	return true;
}

enum jg_err
jg_response_add_header(struct jg_response *resp, const char *name,
		       const char *value)
{
	size_t n = resp->nheaders;

	if (!is_token(name, 64) || !jg_http_header_value_ok(value))
		return JG_ERR_MALFORMED;
	/* The array grows in powers of two from 8 (its capacity follows
	 * from nheaders alone, as in params_push). */
	if (n == 0)
		resp->headers = jg_xrealloc(resp->headers, 8 * sizeof(*resp->headers));
	else if (n >= 8 && (n & (n - 1)) == 0)
		resp->headers = jg_xrealloc(resp->headers, 2 * n * sizeof(*resp->headers));
	resp->headers[resp->nheaders].name = jg_xstrdup(name);
	resp->headers[resp->nheaders].value = jg_xstrdup(value);
	resp->nheaders++;
	return JG_OK;
}

static void
remove_header(struct jg_response *resp, const char *name)
{
	size_t i = 0;

	while (i < resp->nheaders) {
		if (strcasecmp(resp->headers[i].name, name) == 0) {
			free(resp->headers[i].name);
			jg_free_secret(resp->headers[i].value);
			memmove(&resp->headers[i], &resp->headers[i + 1],
				(resp->nheaders - i - 1) * sizeof(*resp->headers));
			resp->nheaders--;
		} else {
			i++;
		}
	}
}

enum jg_err
jg_response_set_header(struct jg_response *resp, const char *name,
		       const char *value)
{
	if (!is_token(name, 64) || !jg_http_header_value_ok(value))
		return JG_ERR_MALFORMED;
	remove_header(resp, name);
	return jg_response_add_header(resp, name, value);
}

const char *
jg_response_header(const struct jg_response *resp, const char *name)
{
	size_t i;

	for (i = 0; i < resp->nheaders; i++)
		if (strcasecmp(resp->headers[i].name, name) == 0)
			return resp->headers[i].value;
	return NULL;
}

void
jg_response_set_body(struct jg_response *resp, const void *data, size_t len)
{
	response_clear_body(resp);
	resp->body = jg_xmalloc(len + 1);
	if (len)
		memcpy(resp->body, data, len);
	resp->body[len] = '\0';
	resp->body_len = len;
	resp->body_cap = len + 1;
}

static const struct {
	int status;
	const char *reason;
} reasons[] = {
	{ 200, "OK" }, { 201, "Created" }, { 204, "No Content" },
	{ 301, "Moved Permanently" }, { 302, "Found" }, { 303, "See Other" },
	{ 304, "Not Modified" }, { 307, "Temporary Redirect" },
	{ 400, "Bad Request" }, { 401, "Unauthorized" }, { 403, "Forbidden" },
	{ 404, "Not Found" }, { 405, "Method Not Allowed" },
	{ 406, "Not Acceptable" }, { 409, "Conflict" },
	{ 411, "Length Required" }, { 413, "Content Too Large" },
	{ 414, "URI Too Long" }, { 415, "Unsupported Media Type" },
	{ 429, "Too Many Requests" },
	{ 431, "Request Header Fields Too Large" },
	{ 500, "Internal Server Error" }, { 501, "Not Implemented" },
	{ 503, "Service Unavailable" },
};

const char *
jg_http_reason(int status)
{
	size_t i;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].status == status)
			return reasons[i].reason;
	return "Unknown";
}

/* True for the headers whose framing jg_response_serialize writes itself. */
static bool
framing_header(const char *name)
{
	return strcasecmp(name, "Content-Length") == 0 || strcasecmp(name, "Status") == 0;
}

/* Writes v in decimal at the end of buf (size 24); returns where it starts. */
static char *
decimal(char *buf, size_t v)
{
	char *p = buf + 23;

	*p = '\0';
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	return p;
}

char *
jg_response_serialize(const struct jg_response *resp, size_t *len)
{
	int status = resp->status ? resp->status : 500;
	char status_line[64], length_line[64], num[24];
	const char *reason = jg_http_reason(status), *d;
	size_t i, n, total, sl, ll;
	char *out, *p;

	/* Formatted by hand rather than with snprintf (make bench: every
	 * answer passes here).  The status is 100 to 599 or the handler's
	 * mistake; either way it is printed as the number it is. */
	d = decimal(num, status < 0 ? (size_t)-(long)status : (size_t)status);
	sl = (size_t)(stpcpy(stpcpy(stpcpy(stpcpy(stpcpy(stpcpy(status_line, "Status: "),
							     status < 0 ? "-" : ""), d),
					      " "), reason), "\r\n") - status_line);
	d = decimal(num, resp->body_len);
	ll = (size_t)(stpcpy(stpcpy(stpcpy(length_line, "Content-Length: "), d),
			     "\r\n\r\n") - length_line);
	/* Measured first, so the answer is built in one allocation. */
	total = sl + ll + resp->body_len;
	for (i = 0; i < resp->nheaders; i++)
		if (!framing_header(resp->headers[i].name))
			total += strlen(resp->headers[i].name) +
				 strlen(resp->headers[i].value) + 4;
	out = jg_xmalloc(total + 1);
	memcpy(out, status_line, sl);
	p = out + sl;
	for (i = 0; i < resp->nheaders; i++) {
		/* The framing is ours to write. */
		if (framing_header(resp->headers[i].name))
			continue;
		n = strlen(resp->headers[i].name);
		memcpy(p, resp->headers[i].name, n);
		p += n;
		*p++ = ':';
		*p++ = ' ';
		n = strlen(resp->headers[i].value);
		memcpy(p, resp->headers[i].value, n);
		p += n;
		*p++ = '\r';
		*p++ = '\n';
	}
	memcpy(p, length_line, ll);
	p += ll;
	if (resp->body_len)
		memcpy(p, resp->body, resp->body_len);
	p += resp->body_len;
	*p = '\0';
	*len = total;
	return out;
}

enum jg_err
jg_http_json_text(struct jg_response *resp, int status, char *text, size_t len)
{
	if (status < 100 || status > 599) {
		jg_free_secret(text);
		return JG_ERR_MALFORMED;
	}
	resp->status = status;
	/* The text becomes the body as it is, without a copy. */
	response_clear_body(resp);
	resp->body = text;
	resp->body_len = len;
	resp->body_cap = len + 1;
	jg_response_set_header(resp, "Content-Type", "application/json");
	jg_response_set_header(resp, "Cache-Control", "no-store");
	jg_response_set_header(resp, "Pragma", "no-cache");
	return JG_OK;
}

enum jg_err
jg_http_json(struct jg_response *resp, int status, const struct json_object *obj)
{
	char *text;

	if (obj == NULL || status < 100 || status > 599)
		return JG_ERR_MALFORMED;
	text = jg_json_dump(obj);
	return jg_http_json_text(resp, status, text, strlen(text));
}

/* RFC 6749 section 5.2: error and error_description characters. */
static bool
is_oauth_char(unsigned char c)
{
	return c == 0x20 || c == 0x21 || (c >= 0x23 && c <= 0x5b) ||
	       (c >= 0x5d && c <= 0x7e);
}

static bool
oauth_code_ok(const char *error)
{
	const unsigned char *p;

	if (error == NULL || error[0] == '\0')
		return false;
	for (p = (const unsigned char *)error; *p; p++)
		if (!is_oauth_char(*p))
			return false;
	return true;
}

static char *
oauth_text(const char *s)
{
	char *out = jg_xstrdup(s);
	char *p;

	for (p = out; *p; p++)
		if (!is_oauth_char((unsigned char)*p))
			*p = '?';
	return out;
}

enum jg_err
jg_http_oauth_error(struct jg_response *resp, int status, const char *error,
		    const char *description)
{
	struct json_object *obj;
	enum jg_err err;

	if (!oauth_code_ok(error))
		return JG_ERR_MALFORMED;
	obj = json_object_new_object();
	json_object_object_add(obj, "error", json_object_new_string(error));
	if (description) {
		char *d = oauth_text(description);

		json_object_object_add(obj, "error_description",
				       json_object_new_string(d));
		free(d);
	}
	err = jg_http_json(resp, status, obj);
	json_object_put(obj);
	return err;
}

/* Appends a quoted-string: '"' and '\' escaped, other bytes outside
 * printable ASCII replaced by "?". */
static void
buf_quoted(struct buf *b, const char *s)
{
	const unsigned char *p;

	buf_str(b, "\"");
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\') {
			char e[2] = { '\\', (char)*p };

			buf_add(b, e, 2);
		} else if (*p < 0x20 || *p > 0x7e) {
			buf_str(b, "?");
		} else {
			buf_add(b, (const char *)p, 1);
		}
	}
	buf_str(b, "\"");
}

enum jg_err
jg_http_oauth_invalid_client(struct jg_response *resp, const char *realm,
			     const char *description)
{
	struct buf b = { NULL, 0, 0 };
	char *challenge;
	enum jg_err err;

	buf_str(&b, "Basic realm=");
	buf_quoted(&b, realm ? realm : "jwtgate");
	challenge = buf_finish(&b);
	err = jg_http_oauth_error(resp, 401, "invalid_client", description);
	if (err == JG_OK)
		jg_response_set_header(resp, "WWW-Authenticate", challenge);
	free(challenge);
	return err;
}

enum jg_err
jg_http_bearer_error(struct jg_response *resp, const char *realm,
		     const char *error, const char *description, const char *scope)
{
	struct buf b = { NULL, 0, 0 };
	char *challenge;
	int status;

	if (error && !oauth_code_ok(error))
		return JG_ERR_MALFORMED;
	buf_str(&b, "Bearer realm=");
	buf_quoted(&b, realm ? realm : "jwtgate");
	if (error == NULL) {
		challenge = buf_finish(&b);
		resp->status = 401;
		jg_response_set_body(resp, "", 0);
		remove_header(resp, "Content-Type");
		jg_response_set_header(resp, "WWW-Authenticate", challenge);
		jg_response_set_header(resp, "Cache-Control", "no-store");
		free(challenge);
		return JG_OK;
	}
	buf_str(&b, ", error=");
	buf_quoted(&b, error);
	if (description) {
		buf_str(&b, ", error_description=");
		buf_quoted(&b, description);
	}
	if (scope) {
		buf_str(&b, ", scope=");
		buf_quoted(&b, scope);
	}
	challenge = buf_finish(&b);
	if (strcmp(error, "invalid_request") == 0)
		status = 400;
	else if (strcmp(error, "insufficient_scope") == 0)
		status = 403;
	else
		status = 401;
	jg_http_oauth_error(resp, status, error, description);
	jg_response_set_header(resp, "WWW-Authenticate", challenge);
	free(challenge);
	return JG_OK;
}

/* A CSP source expression may not break out of its directive. */
static bool
csp_source_ok(const char *s)
{
	const unsigned char *p;

	if (s[0] == '\0')
		return false;
	for (p = (const unsigned char *)s; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f || strchr(";,'\"", *p))
			return false;
	return true;
}

enum jg_err
jg_http_html(struct jg_response *resp, int status, const char *html,
	     const char *const *form_targets)
{
	struct buf b = { NULL, 0, 0 };
	char *csp;
	size_t i;

	if (html == NULL || status < 100 || status > 599)
		return JG_ERR_MALFORMED;
	for (i = 0; form_targets && form_targets[i]; i++)
		if (!csp_source_ok(form_targets[i]))
			return JG_ERR_MALFORMED;
	buf_str(&b, "default-src 'self'; frame-ancestors 'none'; form-action 'self'");
	for (i = 0; form_targets && form_targets[i]; i++) {
		buf_str(&b, " ");
		buf_str(&b, form_targets[i]);
	}
	buf_str(&b, "; base-uri 'none'");
	csp = buf_finish(&b);
	resp->status = status;
	jg_response_set_body(resp, html, strlen(html));
	jg_response_set_header(resp, "Content-Type", "text/html; charset=utf-8");
	jg_response_set_header(resp, "Content-Security-Policy", csp);
	jg_response_set_header(resp, "X-Frame-Options", "DENY");
	jg_response_set_header(resp, "Referrer-Policy", "no-referrer");
	jg_response_set_header(resp, "Cache-Control", "no-store");
	jg_response_set_header(resp, "X-Content-Type-Options", "nosniff");
	free(csp);
	return JG_OK;
}

enum jg_err
jg_http_redirect(struct jg_response *resp, int status, const char *url)
{
	if ((status != 302 && status != 303) || url == NULL || url[0] == '\0' ||
	    !jg_http_header_value_ok(url))
		return JG_ERR_MALFORMED;
	resp->status = status;
	jg_response_set_body(resp, "", 0);
	remove_header(resp, "Content-Type");
	jg_response_set_header(resp, "Location", url);
	jg_response_set_header(resp, "Cache-Control", "no-store");
	jg_response_set_header(resp, "Referrer-Policy", "no-referrer");
	return JG_OK;
}

enum jg_err
jg_http_set_cookie(struct jg_response *resp, const char *name, const char *value,
		   int64_t max_age, bool https)
{
	static const char prefix[] = "__Host-";
	bool has_prefix = strncmp(name, prefix, sizeof(prefix) - 1) == 0;
	struct buf b = { NULL, 0, 0 };
	char *header, num[32];
	const unsigned char *p;
	enum jg_err err;

	if (!is_token(name, 128) || value == NULL || (has_prefix && !https))
		return JG_ERR_MALFORMED;
	for (p = (const unsigned char *)value; *p; p++)
		if (!is_cookie_octet(*p))
			return JG_ERR_MALFORMED;
	if (https && !has_prefix)
		buf_str(&b, prefix);
	buf_str(&b, name);
	buf_str(&b, "=");
	buf_str(&b, value);
	if (max_age >= 0) {
		snprintf(num, sizeof(num), "; Max-Age=%lld", (long long)max_age);
		buf_str(&b, num);
	}
	buf_str(&b, "; Path=/; HttpOnly; SameSite=Lax");
	if (https)
		buf_str(&b, "; Secure");
	header = buf_finish(&b);
	err = jg_response_add_header(resp, "Set-Cookie", header);
	jg_free_secret(header);
	return err;
}

enum jg_err
jg_http_authorizer_allow(struct jg_response *resp, const struct jg_kv *vars,
			 size_t nvars)
{
	size_t i, j;

	for (i = 0; i < nvars; i++) {
		const char *n = vars[i].name;

		if (n == NULL || n[0] == '\0' || strlen(n) > 64 ||
		    !jg_http_header_value_ok(vars[i].value))
			return JG_ERR_MALFORMED;
		for (j = 0; n[j]; j++)
			if (!((n[j] >= 'A' && n[j] <= 'Z') ||
			      (n[j] >= '0' && n[j] <= '9') || n[j] == '_'))
				return JG_ERR_MALFORMED;
	}
	resp->status = 200;
	jg_response_set_body(resp, "", 0);
	for (i = 0; i < nvars; i++) {
		/* "Variable-" and a name of at most 64 bytes (checked above). */
		char h[9 + 64 + 1];
		size_t n = strlen(vars[i].name);

		memcpy(h, "Variable-", 9);
		memcpy(h + 9, vars[i].name, n + 1);
		jg_response_set_header(resp, h, vars[i].value);
	}
	return JG_OK;
}

char *
jg_html_escape(const char *s)
{
	struct buf b = { NULL, 0, 0 };

	for (; *s; s++) {
		switch (*s) {
		case '&': buf_str(&b, "&amp;"); break;
		case '<': buf_str(&b, "&lt;"); break;
		case '>': buf_str(&b, "&gt;"); break;
		case '"': buf_str(&b, "&quot;"); break;
		case '\'': buf_str(&b, "&#39;"); break;
		default: buf_add(&b, s, 1); break;
		}
	}
	return buf_finish(&b);
}

/* ------------------------------------------------------------ errors */

/* The one table of jg_err to HTTP answers (see http.h). */
static const struct {
	int status[3];		/* by enum jg_http_style */
	const char *error[3];
} error_table[] = {
	[JG_OK] = { { 200, 200, 200 }, { NULL, NULL, NULL } },
	[JG_ERR_MALFORMED] = { { 400, 400, 400 },
		{ "invalid_request", "invalid_request", "invalid_request" } },
	[JG_ERR_DENIED] = { { 400, 401, 403 },
		{ "invalid_grant", "invalid_token", "access_denied" } },
	[JG_ERR_NOT_FOUND] = { { 400, 401, 404 },
		{ "invalid_grant", "invalid_token", "invalid_request" } },
	[JG_ERR_EXISTS] = { { 400, 400, 409 },
		{ "invalid_request", "invalid_request", "invalid_request" } },
	[JG_ERR_BUSY] = { { 503, 503, 503 },
		{ "temporarily_unavailable", "temporarily_unavailable",
		  "temporarily_unavailable" } },
	[JG_ERR_SYSTEM] = { { 500, 500, 500 },
		{ "server_error", "server_error", "server_error" } },
};

static bool
table_index(enum jg_http_style style, enum jg_err err, unsigned *row, unsigned *col)
{
	if ((unsigned)err >= sizeof(error_table) / sizeof(error_table[0]) ||
	    (unsigned)style > JG_STYLE_HTML)
		return false;
	*row = (unsigned)err;
	*col = (unsigned)style;
	return true;
}

int
jg_http_status_for(enum jg_http_style style, enum jg_err err)
{
	unsigned r, c;

	/* An error code outside the enum is a bug: answer as a system error. */
	if (!table_index(style, err, &r, &c))
		return 500;
	return error_table[r].status[c];
}

const char *
jg_http_error_for(enum jg_http_style style, enum jg_err err)
{
	unsigned r, c;

	if (!table_index(style, err, &r, &c))
		return "server_error";
	return error_table[r].error[c];
}

static void
html_error_page(struct jg_response *resp, int status, const char *description)
{
	char *escaped = jg_html_escape(description ? description : "");
	char *page = jg_xasprintf(
		"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		"<title>%d %s</title></head>\n<body><h1>%s</h1>\n<p>%s</p>\n"
		"</body></html>\n",
		status, jg_http_reason(status), jg_http_reason(status), escaped);

	jg_http_html(resp, status, page, NULL);
	free(page);
	free(escaped);
}

void
jg_http_error_response(struct jg_response *resp, enum jg_http_style style,
		       enum jg_err err, const char *realm, const char *description)
{
	int status = jg_http_status_for(style, err);
	const char *error = jg_http_error_for(style, err);

	if (error == NULL) {	/* JG_OK is no error: answer as a bug would */
		status = 500;
		error = "server_error";
	}
	if (style == JG_STYLE_HTML)
		html_error_page(resp, status, description);
	else if (style == JG_STYLE_BEARER && status < 500)
		jg_http_bearer_error(resp, realm, error, description, NULL);
	else
		jg_http_oauth_error(resp, status, error, description);
	if (err == JG_ERR_BUSY)
		jg_response_set_header(resp, "Retry-After", "1");
}

void
jg_http_status_response(struct jg_response *resp, enum jg_http_style style,
			int status, const char *description)
{
	if (style == JG_STYLE_HTML)
		html_error_page(resp, status, description);
	else
		jg_http_oauth_error(resp, status,
				    status >= 500 ? "server_error" : "invalid_request",
				    description);
}
