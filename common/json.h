/* json.h: strict JSON parsing on top of json-c, and small accessors. */
#ifndef JG_JSON_H
#define JG_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include "util.h"

/* Upper bounds applied by jg_json_parse. */
#define JG_JSON_MAX_DEPTH 32
#define JG_JSON_MAX_SIZE (1024 * 1024)

/* Returns true when len bytes at s are well-formed UTF-8 (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF). */
bool jg_utf8_valid(const char *s, size_t len);

/* Parses exactly len bytes as one JSON value under RFC 8259 with these extra
 * rules: valid UTF-8, no bytes after the value but white space, no duplicate
 * member names in any object (compared after unescaping), no NUL (\u0000)
 * in member names, no lone surrogate escapes, nesting at most max_depth
 * (0 means JG_JSON_MAX_DEPTH) and len at most JG_JSON_MAX_SIZE.
 * On success *out receives a new json-c object (caller puts it) and JG_OK
 * is returned.  Otherwise JG_ERR_MALFORMED and, when why is not NULL, a
 * static reason in *why. */
enum jg_err jg_json_parse(const char *text, size_t len, unsigned max_depth,
			  struct json_object **out, const char **why);

/* Like jg_json_parse, but the value must be an object. */
enum jg_err jg_json_parse_object(const char *text, size_t len,
				 struct json_object **out, const char **why);

/* Returns a new compact serialization of obj (no spaces, "/" unescaped).
 * The caller frees it. */
char *jg_json_dump(const struct json_object *obj);

/* Accessors: each returns true and writes *out only when obj is an object
 * with member key of exactly that JSON type.  Strings point into obj. */
bool jg_json_get_string(const struct json_object *obj, const char *key,
			const char **out);
bool jg_json_get_bool(const struct json_object *obj, const char *key, bool *out);
/* An integer: a JSON number without fraction or exponent that fits int64. */
bool jg_json_get_int64(const struct json_object *obj, const char *key,
		       int64_t *out);
/* Returns the member key of obj, or NULL; borrowed from obj. */
struct json_object *jg_json_get(const struct json_object *obj, const char *key);

#endif
