/* util.c: the error table, allocation that never fails, and secret handling. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

static const char *const messages[] = {
	[JG_OK] = "success",
	[JG_ERR_MALFORMED] = "malformed input",
	[JG_ERR_DENIED] = "denied",
	[JG_ERR_NOT_FOUND] = "not found",
	[JG_ERR_EXISTS] = "already exists",
	[JG_ERR_BUSY] = "busy, try again later",
	[JG_ERR_SYSTEM] = "system error",
};

const char *
jg_strerror(enum jg_err err)
{
	if ((unsigned)err < sizeof(messages) / sizeof(messages[0]) && messages[err])
		return messages[err];
	return "unknown error";
}

static void
out_of_memory(size_t size)
{
	fprintf(stderr, "jwtgate: out of memory allocating %zu bytes\n", size);
	abort();
}

void *
jg_xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (p == NULL)
		out_of_memory(size);
	return p;
}

void *
jg_xcalloc(size_t count, size_t size)
{
	void *p = calloc(count ? count : 1, size ? size : 1);

	if (p == NULL)
		out_of_memory(count * size);
	return p;
}

void *
jg_xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);

	if (p == NULL)
		out_of_memory(size);
	return p;
}

char *
jg_xstrdup(const char *s)
{
	return jg_xstrndup(s, strlen(s));
}

char *
jg_xstrndup(const char *s, size_t len)
{
	char *p = jg_xmalloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *
jg_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		out_of_memory(strlen(fmt));
	return s;
}

void
jg_wipe(void *p, size_t len)
{
	if (len == 0)
		return;
	memset(p, 0, len);
	/* Tell the compiler the zeros are observed, so the store stays. */
	__asm__ __volatile__("" : : "r"(p) : "memory");
}

void
jg_free_secret(char *s)
{
	if (s == NULL)
		return;
	jg_wipe(s, strlen(s));
	free(s);
}

bool
jg_ct_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	const unsigned char *x = a, *y = b;
	unsigned char diff = 0;
	size_t i, n = alen < blen ? alen : blen;

	/* Walk the full length of a whatever b holds; the length difference
	 * is folded in at the end. */
	for (i = 0; i < alen; i++)
		diff |= (unsigned char)(x[i] ^ (i < n ? y[i] : (unsigned char)~x[i]));
	return diff == 0 && alen == blen;
}

enum jg_err
jg_read_file(const char *path, size_t max, char **out, size_t *len)
{
	struct stat st;
	char *buf = NULL;
	size_t used = 0, cap;
	ssize_t n;
	int fd, saved;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? JG_ERR_NOT_FOUND : JG_ERR_SYSTEM;
	if (fstat(fd, &st) != 0)
		goto fail;
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		goto fail;
	}
	cap = (S_ISREG(st.st_mode) && (size_t)st.st_size < max ? (size_t)st.st_size : 4096) + 1;
	buf = jg_xmalloc(cap);
	for (;;) {
		if (used + 1 >= cap) {
			if (cap > max) {
				jg_wipe(buf, used);
				free(buf);
				close(fd);
				return JG_ERR_MALFORMED;
			}
			cap *= 2;
			buf = jg_xrealloc(buf, cap);
		}
		n = read(fd, buf + used, cap - used - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	close(fd);
	if (used > max) {
		jg_wipe(buf, used);
		free(buf);
		return JG_ERR_MALFORMED;
	}
	buf[used] = '\0';
	*out = buf;
	*len = used;
	return JG_OK;
fail:
	saved = errno;
	if (buf) {
		jg_wipe(buf, used);
		free(buf);
	}
	close(fd);
	errno = saved;
	return JG_ERR_SYSTEM;
}

enum jg_err
jg_write_file_atomic(const char *path, const void *data, size_t len, unsigned mode)
{
	char *tmp = jg_xasprintf("%s.tmp.%ld", path, (long)getpid());
	const char *p = data;
	size_t done = 0;
	ssize_t n;
	int fd, saved;

	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, (mode_t)mode);
	if (fd < 0) {
		saved = errno;
		free(tmp);
		errno = saved;
		return JG_ERR_SYSTEM;
	}
	/* The umask must not widen or narrow what the caller asked for. */
	if (fchmod(fd, (mode_t)mode) != 0)
		goto fail;
	while (done < len) {
		n = write(fd, p + done, len - done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		done += (size_t)n;
	}
	if (fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto fail;
	free(tmp);
	return JG_OK;
fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
	errno = saved;
	return JG_ERR_SYSTEM;
}
