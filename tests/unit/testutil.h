/* testutil.h: the shared CUnit runner and helpers of the unit suites. */
#ifndef JG_TESTUTIL_H
#define JG_TESTUTIL_H

#include <stddef.h>
#include <CUnit/CUnit.h>
#include <json-c/json.h>

struct jg_test {
	const char *name;
	void (*fn)(void);
};

/* Runs the NULL-terminated list of tests as one CUnit suite named suite,
 * printing CUnit's verbose report.  Returns the process exit status: 0 when
 * every assertion passed, 1 otherwise.  Use as main's return value. */
int jg_test_main(const char *suite, const struct jg_test *tests);

/* Decodes a hex string into a new buffer (caller frees); aborts the test
 * program on bad hex, which is a bug in the test. */
unsigned char *jg_test_unhex(const char *hex, size_t *len);

/* Returns the source tree's top folder ($JG_SRCDIR, else "."). */
const char *jg_test_srcdir(void);

/* Reads a file into a new NUL-terminated buffer; aborts on failure. */
char *jg_test_slurp(const char *path, size_t *len);

/* Loads a JSON file with json-c (the test's own trusted input); aborts on
 * failure.  Caller puts the result. */
struct json_object *jg_test_load_json(const char *path);

#endif
