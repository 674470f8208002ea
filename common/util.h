/* util.h: the error enum, allocation that never fails, and secret handling. */
#ifndef JG_UTIL_H
#define JG_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Every fallible function in common/ returns one of these. */
enum jg_err {
	JG_OK = 0,
	JG_ERR_MALFORMED,	/* input is not well formed or breaks a rule */
	JG_ERR_DENIED,		/* well formed but refused (bad signature, expired, ...) */
	JG_ERR_NOT_FOUND,	/* no such user, client, key, code, file ... */
	JG_ERR_EXISTS,		/* the thing to create exists already */
	JG_ERR_BUSY,		/* the store is locked or busy: try again later */
	JG_ERR_SYSTEM		/* I/O, library or operating-system failure */
};

/* Returns a static English description of err; never NULL. */
const char *jg_strerror(enum jg_err err);

/* Allocation: these abort the process with a message when memory runs out,
 * so out of memory is never an error path.  jg_xmalloc(0) returns a
 * valid pointer.  The caller frees the result with free(). */
void *jg_xmalloc(size_t size);
void *jg_xcalloc(size_t count, size_t size);
void *jg_xrealloc(void *ptr, size_t size);
char *jg_xstrdup(const char *s);
char *jg_xstrndup(const char *s, size_t len);
/* Returns a newly allocated printf-formatted string. */
char *jg_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Overwrites len bytes at p with zeros in a way the compiler keeps.
 * Accepts NULL when len is 0. */
void jg_wipe(void *p, size_t len);
/* Wipes strlen(s) bytes of s and frees it.  Accepts NULL. */
void jg_free_secret(char *s);

/* Compares two buffers in time that depends only on the lengths.  Returns
 * true when the lengths and all bytes are equal. */
bool jg_ct_equal(const void *a, size_t alen, const void *b, size_t blen);

/* Reads a whole file of at most max bytes into a new NUL-terminated buffer.
 * On success *out (caller frees) and *len are written and JG_OK returned;
 * JG_ERR_NOT_FOUND when the file does not exist, JG_ERR_MALFORMED when it
 * is larger than max, JG_ERR_SYSTEM on other I/O errors (errno is kept). */
enum jg_err jg_read_file(const char *path, size_t max, char **out, size_t *len);

/* Writes len bytes to path atomically: a temporary file in the same folder
 * with the given mode, fsync, then rename over path.  On failure path is
 * unchanged and the temporary file removed.  Returns JG_OK or JG_ERR_SYSTEM
 * (errno is kept). */
enum jg_err jg_write_file_atomic(const char *path, const void *data, size_t len,
				 unsigned mode);

#endif
