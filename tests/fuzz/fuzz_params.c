/* fuzz_params.c: libFuzzer harness for query string and form parsing
 * (jg_params_parse, jg_form_decode, jg_url_encode in common/http.c).
 * Checks the documented guarantees on every accepted input: at most
 * JG_PARAMS_MAX_COUNT pairs, non-empty names of at most JG_PARAMS_MAX_NAME
 * bytes, names and values valid UTF-8 without NUL, no name twice; and that
 * re-encoding the pairs with jg_url_encode parses back to the same list. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "json.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_list(const struct jg_params *p)
{
	size_t i, j;

	if (p->count > JG_PARAMS_MAX_COUNT)
		abort();
	for (i = 0; i < p->count; i++) {
		const char *n = p->items[i].name, *v = p->items[i].value;

		if (n[0] == '\0' || strlen(n) > JG_PARAMS_MAX_NAME ||
		    !jg_utf8_valid(n, strlen(n)) || !jg_utf8_valid(v, strlen(v)))
			abort();
		for (j = 0; j < i; j++)
			if (strcmp(p->items[j].name, n) == 0)
				abort();
		if (jg_params_get(p, n) != v)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct jg_params p, again;
	const char *why = NULL;
	char *dec = NULL, *buf = NULL;
	size_t i, len = 0;

	jg_params_init(&p);
	jg_params_init(&again);
	if (jg_form_decode(s, size, &dec) == JG_OK) {
		if (!jg_utf8_valid(dec, strlen(dec)))
			abort();
		free(dec);
	}
	if (jg_params_parse(s, size, &p, &why) != JG_OK) {
		if (why == NULL || p.count != 0)
			abort();
		return 0;
	}
	check_list(&p);

	/* Re-encode and parse again: the same pairs in the same order. */
	for (i = 0; i < p.count; i++) {
		char *n = jg_url_encode(p.items[i].name);
		char *v = jg_url_encode(p.items[i].value);
		char *next = jg_xasprintf("%s%s%s=%s", buf ? buf : "", i ? "&" : "",
					  n, v);

		free(n);
		free(v);
		free(buf);
		buf = next;
	}
	if (buf != NULL) {
		len = strlen(buf);
		if (len <= JG_PARAMS_MAX_INPUT) {
			if (jg_params_parse(buf, len, &again, NULL) != JG_OK ||
			    again.count != p.count)
				abort();
			for (i = 0; i < p.count; i++)
				if (strcmp(again.items[i].name, p.items[i].name) != 0 ||
				    strcmp(again.items[i].value, p.items[i].value) != 0)
					abort();
		}
		free(buf);
	}
	jg_params_clear(&again);
	jg_params_clear(&p);
	return 0;
}
