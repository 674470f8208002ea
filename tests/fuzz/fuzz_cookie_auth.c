/* fuzz_cookie_auth.c: libFuzzer harness for the header parsers of
 * common/http.c: the Cookie header (jg_cookie_get), "Authorization:
 * Bearer" (jg_http_bearer_token) and "Authorization: Basic"
 * (jg_http_basic_credentials), plus jg_http_media_type_is.  The input is
 * one header value (cut at its first NUL, as a CGI variable would be); the
 * documented output rules are checked on success. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "json.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* RFC 6265 section 4.1.1 cookie-octet. */
static int
cookie_octet(unsigned char c)
{
	return c == 0x21 || (c >= 0x23 && c <= 0x2b) || (c >= 0x2d && c <= 0x3a) ||
	       (c >= 0x3c && c <= 0x5b) || (c >= 0x5d && c <= 0x7e);
}

/* RFC 6750 section 2.1 b64token. */
static int
b64token_ok(const char *t)
{
	size_t i = 0;

	if (t[0] == '\0')
		return 0;
	while (t[i] != '\0' && (strchr("-._~+/", t[i]) != NULL ||
	       (t[i] >= 'A' && t[i] <= 'Z') || (t[i] >= 'a' && t[i] <= 'z') ||
	       (t[i] >= '0' && t[i] <= '9')))
		i++;
	while (t[i] == '=')
		i++;
	return t[i] == '\0';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "jg_session", "__Host-jg_session",
		"a", "" };
	char *h = jg_xstrndup((const char *)data, size);
	char *value = NULL, *id = NULL, *secret = NULL, *token = NULL;
	bool dup = false;
	size_t i, j;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (jg_cookie_get(h, names[i], &value, &dup) == JG_OK) {
			for (j = 0; value[j] != '\0'; j++)
				if (!cookie_octet((unsigned char)value[j]))
					abort();
			jg_free_secret(value);
			value = NULL;
		}
	}
	(void)jg_cookie_get(NULL, "a", &value, NULL);
	if (jg_http_bearer_token(h, &token) == JG_OK) {
		if (!b64token_ok(token) || strlen(token) > JG_HTTP_MAX_PARAM_VALUE)
			abort();
		jg_free_secret(token);
	}
	if (jg_http_basic_credentials(h, &id, &secret) == JG_OK) {
		if (id[0] == '\0' || !jg_utf8_valid(id, strlen(id)) ||
		    !jg_utf8_valid(secret, strlen(secret)))
			abort();
		free(id);
		jg_free_secret(secret);
	}
	(void)jg_http_media_type_is(h, "application/x-www-form-urlencoded");
	(void)jg_http_media_type_is(h, "application/json");
	(void)jg_http_header_value_ok(h);
	free(h);
	return 0;
}
