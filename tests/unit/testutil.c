/* testutil.c: the shared CUnit runner and helpers of the unit suites. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <CUnit/Basic.h>

#include "testutil.h"
#include "util.h"

int
jg_test_main(const char *suite, const struct jg_test *tests)
{
	CU_pSuite s;
	unsigned failures;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite(suite, NULL, NULL);
	if (s == NULL)
		return 1;
	for (; tests->name; tests++)
		if (CU_add_test(s, tests->name, tests->fn) == NULL)
			return 1;
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	if (CU_get_number_of_tests_run() == 0)
		failures++;
	CU_cleanup_registry();
	return failures ? 1 : 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

unsigned char *
jg_test_unhex(const char *hex, size_t *len)
{
	size_t n = strlen(hex), i;
	unsigned char *out;

	if (n % 2) {
		fprintf(stderr, "test bug: odd hex length\n");
		abort();
	}
	out = jg_xmalloc(n / 2 + 1);
	for (i = 0; i < n / 2; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			fprintf(stderr, "test bug: bad hex\n");
			abort();
		}
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	*len = n / 2;
	return out;
}

const char *
jg_test_srcdir(void)
{
	const char *d = getenv("JG_SRCDIR");

	return d && *d ? d : ".";
}

char *
jg_test_slurp(const char *path, size_t *len)
{
	char *buf;
	size_t n;

	if (jg_read_file(path, 64u << 20, &buf, &n) != JG_OK) {
		fprintf(stderr, "test setup: cannot read %s\n", path);
		abort();
	}
	if (len)
		*len = n;
	return buf;
}

struct json_object *
jg_test_load_json(const char *path)
{
	struct json_object *obj = json_object_from_file(path);

	if (obj == NULL) {
		fprintf(stderr, "test setup: cannot load JSON %s\n", path);
		abort();
	}
	return obj;
}
