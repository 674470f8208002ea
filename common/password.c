/* password.c: password hashing and verification through crypt(3) from
 * libxcrypt, and the parser of Apache htpasswd files. */
#include "config.h"

#include <crypt.h>
#include <stdlib.h>
#include <string.h>

#include "password.h"
#include "util.h"

_Static_assert(JG_PASSWORD_MAX < CRYPT_MAX_PASSPHRASE_SIZE,
	       "crypt(3) must accept every password jwtgate accepts");

/* The salt bytes of the setting the unknown-user path hashes with.  They
 * need not be secret: what matters is that the work is the same as for a
 * real hash, so the setting is made with libxcrypt's default cost. */
static const char dummy_rbytes[16] = {
	0x5b, 0x1e, 0x72, 0x0c, 0x3a, 0x66, 0x49, 0x11,
	0x7d, 0x28, 0x04, 0x53, 0x6e, 0x30, 0x19, 0x47
};

static bool
password_acceptable(const char *password)
{
	size_t len;

	if (password == NULL)
		return false;
	len = strnlen(password, JG_PASSWORD_MAX + 1);
	return len > 0 && len <= JG_PASSWORD_MAX;
}

static bool
is_ascii64(char c)
{
	return c == '.' || c == '/' || (c >= '0' && c <= '9') ||
	    (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* Returns how many characters from s on are of crypt's base-64 alphabet. */
static size_t
ascii64_span(const char *s)
{
	size_t n = 0;

	while (is_ascii64(s[n]))
		n++;
	return n;
}

/* "$2y$NN$" then 22 salt and 31 hash characters: 60 in all. */
static bool
bcrypt_well_formed(const char *hash)
{
	int cost;

	if (strncmp(hash, "$2y$", 4) != 0 && strncmp(hash, "$2b$", 4) != 0 &&
	    strncmp(hash, "$2a$", 4) != 0)
		return false;
	if (hash[4] < '0' || hash[4] > '9' || hash[5] < '0' || hash[5] > '9' ||
	    hash[6] != '$')
		return false;
	cost = (hash[4] - '0') * 10 + (hash[5] - '0');
	if (cost < 4 || cost > 31)
		return false;
	return ascii64_span(hash + 7) == 53 && hash[60] == '\0';
}

/* "$6$", optionally "rounds=N$", a salt of 1 to 16 characters, "$", then
 * 86 hash characters. */
static bool
sha512crypt_well_formed(const char *hash)
{
	const char *p = hash + 3;
	size_t n;

	if (strncmp(hash, "$6$", 3) != 0)
		return false;
	if (strncmp(p, "rounds=", 7) == 0) {
		p += 7;
		for (n = 0; p[n] >= '0' && p[n] <= '9'; n++)
			;
		if (n == 0 || n > 9 || p[n] != '$')
			return false;
		p += n + 1;
	}
	n = ascii64_span(p);
	if (n == 0 || n > 16 || p[n] != '$')
		return false;
	p += n + 1;
	return ascii64_span(p) == 86 && p[86] == '\0';
}

/* "$y$", parameters, "$", salt, "$", then 43 hash characters. */
static bool
yescrypt_well_formed(const char *hash)
{
	const char *p = hash + 3;
	size_t n;

	if (strncmp(hash, "$y$", 3) != 0)
		return false;
	n = ascii64_span(p);
	if (n == 0 || n > 32 || p[n] != '$')
		return false;
	p += n + 1;
	n = ascii64_span(p);
	if (n == 0 || n > 86 || p[n] != '$')
		return false;
	p += n + 1;
	return ascii64_span(p) == 43 && p[43] == '\0';
}

bool
jg_password_hash_supported(const char *hash)
{
	if (hash == NULL || strlen(hash) >= CRYPT_OUTPUT_SIZE)
		return false;
	if (!bcrypt_well_formed(hash) && !sha512crypt_well_formed(hash) &&
	    !yescrypt_well_formed(hash))
		return false;
	return crypt_checksalt(hash) == CRYPT_SALT_OK;
}

/* Hashes password under setting and compares the result with expected in
 * constant time.  The work area is wiped, since it held the password. */
static bool
crypt_matches(const char *password, const char *setting, const char *expected)
{
	struct crypt_data *data = jg_xcalloc(1, sizeof(*data));
	const char *out;
	bool ok = false;

	out = crypt_rn(password, setting, data, (int)sizeof(*data));
	if (out != NULL && out[0] != '*')
		ok = jg_ct_equal(out, strlen(out), expected, strlen(expected));
	jg_wipe(data, sizeof(*data));
	free(data);
	return ok;
}

/* Writes the setting of the unknown-user path: yescrypt, default cost,
 * fixed salt.  Returns false when libxcrypt refuses, which it only does
 * when it was built without yescrypt. */
static bool
dummy_setting(char *setting, int size)
{
	return crypt_gensalt_rn("$y$", 0, dummy_rbytes, (int)sizeof(dummy_rbytes),
				setting, size) != NULL;
}

bool
jg_password_verify_dummy(const char *password)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];

	if (!password_acceptable(password))
		return false;
	/* A setting never equals a full hash, so this never matches; only
	 * the work counts. */
	if (dummy_setting(setting, (int)sizeof(setting)))
		(void)crypt_matches(password, setting, setting);
	return false;
}

bool
jg_password_verify(const char *password, const char *hash)
{
	if (!password_acceptable(password))
		return false;
	if (!jg_password_hash_supported(hash))
		return jg_password_verify_dummy(password);
	return crypt_matches(password, hash, hash);
}

enum jg_err
jg_password_hash(const char *password, char **out)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *data;
	const char *hash;
	enum jg_err err = JG_ERR_SYSTEM;

	if (!password_acceptable(password))
		return JG_ERR_MALFORMED;
	/* NULL random bytes: libxcrypt takes them from getentropy. */
	if (crypt_gensalt_rn("$y$", 0, NULL, 0, setting, (int)sizeof(setting)) == NULL)
		return JG_ERR_SYSTEM;
	data = jg_xcalloc(1, sizeof(*data));
	hash = crypt_rn(password, setting, data, (int)sizeof(*data));
	if (hash != NULL && hash[0] != '*' && jg_password_hash_supported(hash)) {
		*out = jg_xstrdup(hash);
		err = JG_OK;
	}
	jg_wipe(data, sizeof(*data));
	free(data);
	return err;
}

bool
jg_password_needs_rehash(const char *hash)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	const char *end;

	if (!jg_password_hash_supported(hash) || strncmp(hash, "$y$", 3) != 0)
		return true;
	if (!dummy_setting(setting, (int)sizeof(setting)))
		return false;
	/* Compare "$y$PARAMS$", the part that holds the cost. */
	end = strchr(setting + 3, '$');
	if (end == NULL)
		return false;
	return strncmp(hash, setting, (size_t)(end - setting) + 1) != 0;
}

/* ---------------------------------------------------------------- htpasswd */

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool
is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* Says why hash, which is not supported, is refused. */
static const char *
unsupported_reason(const char *hash)
{
	size_t len = strlen(hash);

	if (len == 0)
		return "empty hash";
	if (strncmp(hash, "$apr1$", 6) == 0)
		return "Apache MD5 ($apr1$) cannot be verified by crypt(3)";
	if (strncmp(hash, "{SHA}", 5) == 0)
		return "SHA-1 ({SHA}) cannot be verified by crypt(3)";
	if (strncmp(hash, "$1$", 3) == 0)
		return "MD5-crypt ($1$) is too weak and not accepted";
	if (strncmp(hash, "$5$", 3) == 0)
		return "sha256-crypt ($5$) is not accepted";
	if (strncmp(hash, "$2x$", 4) == 0)
		return "bcrypt $2x$ (the emulation of an old bug) is not accepted";
	if (strncmp(hash, "$2y$", 4) == 0 || strncmp(hash, "$2b$", 4) == 0 ||
	    strncmp(hash, "$2a$", 4) == 0)
		return "malformed bcrypt hash";
	if (strncmp(hash, "$6$", 3) == 0)
		return "malformed sha512-crypt hash";
	if (strncmp(hash, "$y$", 3) == 0)
		return "malformed yescrypt hash";
	if (len == 13 && ascii64_span(hash) == 13)
		return "DES crypt is too weak and not accepted";
	if (len == 20 && hash[0] == '_' && ascii64_span(hash + 1) == 19)
		return "BSDi extended DES crypt is too weak and not accepted";
	if (hash[0] == '$' || hash[0] == '{')
		return "unknown hash format";
	return "not a hash crypt(3) can verify (plain text passwords are not accepted)";
}

/* Handles one line (without its line end) of len bytes. */
static enum jg_err
htpasswd_line(const char *line, size_t len, unsigned lineno,
	      enum jg_err (*accept)(void *, unsigned, const char *, const char *),
	      void (*reject)(void *, unsigned, const char *, const char *),
	      void *arg)
{
	const char *colon, *reason = NULL;
	char *user, *hash;
	size_t i, userlen;
	enum jg_err err = JG_OK;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	while (len > 0 && is_blank(line[0])) {
		line++;
		len--;
	}
	while (len > 0 && is_blank(line[len - 1]))
		len--;
	if (len == 0 || line[0] == '#')
		return JG_OK;
	if (len > JG_HTPASSWD_MAX_LINE) {
		if (reject)
			reject(arg, lineno, NULL, "line too long");
		return JG_OK;
	}
	colon = memchr(line, ':', len);
	if (colon == NULL) {
		if (reject)
			reject(arg, lineno, NULL, "no colon between user name and hash");
		return JG_OK;
	}
	userlen = (size_t)(colon - line);
	if (userlen == 0) {
		if (reject)
			reject(arg, lineno, NULL, "empty user name");
		return JG_OK;
	}
	for (i = 0; i < userlen; i++)
		if (is_control((unsigned char)line[i])) {
			if (reject)
				reject(arg, lineno, NULL,
				       "control character in user name");
			return JG_OK;
		}
	for (i = userlen + 1; i < len && !is_control((unsigned char)line[i]); i++)
		;
	user = jg_xstrndup(line, userlen);
	hash = jg_xstrndup(colon + 1, len - userlen - 1);
	if (i < len)
		reason = "control character in hash";
	else if (!jg_password_hash_supported(hash))
		reason = unsupported_reason(hash);
	if (reason == NULL)
		err = accept(arg, lineno, user, hash);
	else if (reject)
		reject(arg, lineno, user, reason);
	free(user);
	free(hash);
	return err;
}

enum jg_err
jg_htpasswd_parse(const char *text, size_t len,
		  enum jg_err (*accept)(void *, unsigned, const char *, const char *),
		  void (*reject)(void *, unsigned, const char *, const char *),
		  void *arg)
{
	size_t start = 0, end;
	unsigned lineno = 0;
	const char *nl;
	enum jg_err err;

	while (start < len) {
		lineno++;
		nl = memchr(text + start, '\n', len - start);
		end = nl ? (size_t)(nl - text) : len;
		err = htpasswd_line(text + start, end - start, lineno, accept,
				    reject, arg);
		if (err != JG_OK)
			return err;
		start = end + 1;
	}
	return JG_OK;
}
