/* fuzz_request.c: libFuzzer harness for jg_request_parse (common/http.c):
 * a fuzzed CGI/FastCGI environment and body.  Input layout: the first byte
 * picks the role (bit 0: authorizer), whether the body stream ends after
 * the body (bit 1, FastCGI stdin) and a small body cap (bit 2); then
 * "NAME=value" lines separated by "\n" up to an empty line; the rest is
 * the body, read in pieces of at most 7 bytes to exercise short reads.
 * On success the form body and the query are parsed too. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct body {
	const char *p;
	size_t left;
};

static long
body_read(void *ctx, char *buf, size_t len)
{
	struct body *b = ctx;
	size_t n = len < b->left ? len : b->left;

	if (n > 7)
		n = 7;
	memcpy(buf, b->p, n);
	b->p += n;
	b->left -= n;
	return (long)n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *end, *nl;
	char **env;
	size_t nenv = 0, cap = 16, i;
	struct body b;
	struct jg_body_source src;
	struct jg_request req;
	struct jg_params form;
	int status = 0;
	const char *why = NULL;
	enum jg_err err;
	unsigned flags;

	if (size < 1)
		return 0;
	flags = data[0];
	s++;
	end = (const char *)data + size;
	env = jg_xmalloc(cap * sizeof(*env));
	while (s < end) {
		nl = memchr(s, '\n', (size_t)(end - s));
		if (nl == NULL)
			nl = end;
		if (nl == s) {	/* empty line: the body follows */
			s++;
			break;
		}
		if (nenv + 1 >= cap) {
			cap *= 2;
			env = realloc(env, cap * sizeof(*env));
			if (env == NULL)
				abort();
		}
		env[nenv++] = jg_xstrndup(s, (size_t)(nl - s));
		s = nl < end ? nl + 1 : end;
	}
	env[nenv] = NULL;
	b.p = s;
	b.left = (size_t)(end - s);
	src.read = body_read;
	src.ctx = &b;
	src.has_end = (flags & 2) != 0;

	jg_request_init(&req);
	err = jg_request_parse(&req, (const char *const *)env,
			       (flags & 1) ? JG_ROLE_AUTHORIZER : JG_ROLE_RESPONDER,
			       1700000000, &src,
			       (flags & 4) ? 16 : JG_HTTP_MAX_BODY, &status, &why);
	if (err == JG_OK) {
		if (req.method == NULL || req.path == NULL || req.path[0] != '/' ||
		    req.query == NULL || req.body == NULL ||
		    req.body[req.body_len] != '\0')
			abort();
		jg_params_init(&form);
		if (jg_request_form(&req, &form, &why) == JG_OK)
			jg_params_clear(&form);
		jg_params_init(&form);
		if (jg_params_parse(req.query, strlen(req.query), &form, NULL) == JG_OK)
			jg_params_clear(&form);
		(void)jg_request_param(&req, "HTTP_X_ORIGINAL_URI");
	} else if (status < 400 || status > 499 || why == NULL) {
		abort();
	}
	jg_request_clear(&req);
	for (i = 0; i < nenv; i++)
		free(env[i]);
	free(env);
	return 0;
}
