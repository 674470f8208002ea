/* test_password.c: unit tests of common/password (crypt(3) hashing and
 * verification, the htpasswd parser, unknown-user timing). */
#include "config.h"

#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testutil.h"
#include "password.h"
#include "util.h"

/* Where the fixed hashes below come from.  Every one was transcribed from
 * the tool's output on Debian 12 (apache2-utils 2.4.71-1~deb12u1, whois
 * 5.5.17 for mkpasswd, libcrypt 1:4.4.33-2), or from a published spec. */
#define HTPASSWD_B   "$2y$05$cRfX116yhvtpDFSay4.Wz.9iCnHL2fZyRvX73.x1twd2R339wrZ7m"	/* htpasswd -nbB alice secret */
#define HTPASSWD_B12 "$2y$12$jzYQfcGE7wLuJ/hQdmFKSOFoVVEt1c/HidyslE09xPnUDWUhXe532"	/* htpasswd -nbB -C 12 heidi 'pässwörd' (UTF-8) */
#define HTPASSWD_M   "$apr1$M3pz9bTx$nc4F5x3HaoNxAbq4pH7Jr/"	/* htpasswd -nbm bob secret */
#define HTPASSWD_S   "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ="	/* htpasswd -nbs carol secret */
#define HTPASSWD_D   "f9/8ICFGnvzis"	/* htpasswd -nbd dave secret */
#define MKPASSWD_2B  "$2b$05$jYKfbXEpfatdwybptjns7.ddNVdBWbWUnk9uqg4mKeVtJ04yKApdW"	/* mkpasswd -m bcrypt */
#define MKPASSWD_2B10 "$2b$10$ooKeA48atR4JDl23Pks86ev9Eh/OnuyAsrmd.rHkJdXXkAuQ/VWhy"	/* mkpasswd -m bcrypt -R 10 */
#define MKPASSWD_2A  "$2a$05$npKVDt2zUpqfb/YqJV9i0esdGq/uoAj3/mg.dNul1ZJVf5eXptQv2"	/* mkpasswd -m bcrypt-a */
#define MKPASSWD_6   "$6$cOE07FsLIc26tifs$7iJoxCNJdiUR14H84TFtXwV198gaioOvaDD0Z7PboIiyQFYcFBF4xMHOL9zK2/1Kpux5yJmSsaiciQ3X9TbQU0"	/* mkpasswd -m sha-512 */
#define MKPASSWD_6R  "$6$rounds=10000$cukUM57zZQzODdK3$lt7XOY6Rs6z3OeXFbSLGaOkXI35YGVq9wZjI3HdQZ7x1crbddh/.s6fY7NBW1w43zDGct.QUzrq6iwhwKRzbv0"	/* mkpasswd -m sha-512 -R 10000 */
#define MKPASSWD_Y   "$y$j9T$1on4wy05VYInAgTNhWBH8.$IF3IMqR8UyZfRujN.Rnjp/ZYng6Gt9f7e6/ea1l5i98"	/* mkpasswd -m yescrypt */
#define MKPASSWD_Y7  "$y$jBT$REsDUW3weQw7NgYZizD360$59/teBEeQLpbL68GJZUa1jD2dPpV9Gmow3x8FheHRr4"	/* mkpasswd -m yescrypt -R 7 */
#define MKPASSWD_5   "$5$BJDjiA4pvDfoYJUQ$aiFSb5z6J8UJ3D2RnAnZ5zQ0A2YC14Txiv2doqHk5/."	/* mkpasswd -m sha-256 */
#define MKPASSWD_1   "$1$JIVX.IDw$fJDlw9K5K/rBph1ez25ei/"	/* mkpasswd -m md5crypt */
#define MKPASSWD_BSDI "_J9..nUsKCGOriXPZbYs"	/* mkpasswd -m bsdicrypt */
/* Ulrich Drepper, "Unix crypt using SHA-256 and SHA-512", test vectors of
 * SHA-512 ("Hello world!"). */
#define DREPPER_6    "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"
#define DREPPER_6R   "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v."
/* Openwall crypt_blowfish 1.3, wrapper.c test vectors ("U*U"). */
#define OPENWALL_2A  "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"
#define OPENWALL_2Y  "$2y$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"

static void
test_hash_then_verify(void)
{
	char *a = NULL, *b = NULL;

	CU_ASSERT_EQUAL_FATAL(jg_password_hash("correct horse battery staple", &a), JG_OK);
	CU_ASSERT_EQUAL_FATAL(jg_password_hash("correct horse battery staple", &b), JG_OK);
	CU_ASSERT_EQUAL(strncmp(a, "$y$", 3), 0);
	CU_ASSERT_TRUE(jg_password_hash_supported(a));
	CU_ASSERT_FALSE(jg_password_needs_rehash(a));
	/* A fresh random salt each time. */
	CU_ASSERT_NOT_EQUAL(strcmp(a, b), 0);
	CU_ASSERT_TRUE(jg_password_verify("correct horse battery staple", a));
	CU_ASSERT_TRUE(jg_password_verify("correct horse battery staple", b));
	CU_ASSERT_FALSE(jg_password_verify("correct horse battery stapl", a));
	CU_ASSERT_FALSE(jg_password_verify("correct horse battery staple ", a));
	CU_ASSERT_FALSE(jg_password_verify("Correct horse battery staple", a));
	free(a);
	free(b);
}

static void
test_hash_refuses(void)
{
	char sentinel[] = "untouched";
	char *out = sentinel, *big = jg_xmalloc(JG_PASSWORD_MAX + 2);
	const char *const before = sentinel;

	CU_ASSERT_EQUAL(jg_password_hash("", &out), JG_ERR_MALFORMED);
	CU_ASSERT_PTR_EQUAL(out, before);
	CU_ASSERT_EQUAL(jg_password_hash(NULL, &out), JG_ERR_MALFORMED);
	CU_ASSERT_PTR_EQUAL(out, before);
	memset(big, 'p', JG_PASSWORD_MAX + 1);
	big[JG_PASSWORD_MAX + 1] = '\0';
	CU_ASSERT_EQUAL(jg_password_hash(big, &out), JG_ERR_MALFORMED);
	CU_ASSERT_PTR_EQUAL(out, before);
	/* Exactly the maximum is fine. */
	big[JG_PASSWORD_MAX] = '\0';
	CU_ASSERT_EQUAL_FATAL(jg_password_hash(big, &out), JG_OK);
	CU_ASSERT_TRUE(jg_password_verify(big, out));
	free(out);
	free(big);
}

struct verify_case {
	const char *source;
	const char *password;
	const char *hash;
	bool verifies;
};

static const struct verify_case verify_cases[] = {
	/* Supported formats, right password. */
	{ "htpasswd -nbB", "secret", HTPASSWD_B, true },
	{ "htpasswd -nbB -C 12, UTF-8", "p\xc3\xa4ssw\xc3\xb6rd", HTPASSWD_B12, true },
	{ "mkpasswd -m bcrypt", "secret", MKPASSWD_2B, true },
	{ "mkpasswd -m bcrypt -R 10", "secret", MKPASSWD_2B10, true },
	{ "mkpasswd -m bcrypt-a", "secret", MKPASSWD_2A, true },
	{ "mkpasswd -m sha-512", "secret", MKPASSWD_6, true },
	{ "mkpasswd -m sha-512 -R 10000", "secret", MKPASSWD_6R, true },
	{ "mkpasswd -m yescrypt", "secret", MKPASSWD_Y, true },
	{ "mkpasswd -m yescrypt -R 7", "secret", MKPASSWD_Y7, true },
	{ "Drepper SHA-512 vector", "Hello world!", DREPPER_6, true },
	{ "Drepper SHA-512 rounds=10000 vector", "Hello world!", DREPPER_6R, true },
	{ "crypt_blowfish $2a$ vector", "U*U", OPENWALL_2A, true },
	{ "crypt_blowfish vector as $2y$", "U*U", OPENWALL_2Y, true },
	/* Supported formats, wrong password. */
	{ "htpasswd -nbB, wrong", "Secret", HTPASSWD_B, false },
	{ "htpasswd -nbB -C 12, Latin-1 bytes", "p\xe4ssw\xf6rd", HTPASSWD_B12, false },
	{ "mkpasswd -m bcrypt, wrong", "secreT", MKPASSWD_2B, false },
	{ "mkpasswd -m sha-512, wrong", "secret ", MKPASSWD_6, false },
	{ "mkpasswd -m yescrypt, wrong", "secre", MKPASSWD_Y, false },
	{ "Drepper vector, wrong", "Hello world", DREPPER_6R, false },
	{ "empty password", "", MKPASSWD_Y, false },
	{ "NULL password", NULL, MKPASSWD_Y, false },
	/* Formats crypt(3) cannot verify, or jwtgate refuses: the right
	 * password must still fail. */
	{ "htpasswd -nbm (Apache MD5)", "secret", HTPASSWD_M, false },
	{ "htpasswd -nbs (SHA-1)", "secret", HTPASSWD_S, false },
	{ "htpasswd -nbd (DES crypt)", "secret", HTPASSWD_D, false },
	{ "mkpasswd -m md5crypt", "secret", MKPASSWD_1, false },
	{ "mkpasswd -m sha-256", "secret", MKPASSWD_5, false },
	{ "mkpasswd -m bsdicrypt", "secret", MKPASSWD_BSDI, false },
	{ "bcrypt $2x$ (bug emulation)", "U*U",
	  "$2x$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", false },
	{ "plain text", "secret", "secret", false },
	{ "locked account *", "secret", "*", false },
	{ "locked account !", "secret", "!", false },
	{ "locked yescrypt !$y$...", "secret", "!" MKPASSWD_Y, false },
	{ "empty hash", "secret", "", false },
	{ "NULL hash", "secret", NULL, false },
	{ "yescrypt setting without hash", "secret", "$y$j9T$1on4wy05VYInAgTNhWBH8.", false },
	{ "yescrypt, last character cut", "secret",
	  "$y$j9T$1on4wy05VYInAgTNhWBH8.$IF3IMqR8UyZfRujN.Rnjp/ZYng6Gt9f7e6/ea1l5i9", false },
	{ "yescrypt, character appended", "secret", MKPASSWD_Y "8", false },
	{ "bcrypt, last character cut", "secret",
	  "$2y$05$cRfX116yhvtpDFSay4.Wz.9iCnHL2fZyRvX73.x1twd2R339wrZ7", false },
	{ "bcrypt, cost 03", "secret",
	  "$2y$03$cRfX116yhvtpDFSay4.Wz.9iCnHL2fZyRvX73.x1twd2R339wrZ7m", false },
	{ "sha512-crypt, trailing newline", "secret", MKPASSWD_6 "\n", false },
	{ "sha512-crypt, leading space", "secret", " " MKPASSWD_6, false },
};

static void
test_verify_vectors(void)
{
	size_t i;

	for (i = 0; i < sizeof(verify_cases) / sizeof(verify_cases[0]); i++) {
		const struct verify_case *c = &verify_cases[i];
		bool got = jg_password_verify(c->password, c->hash);

		if (got != c->verifies)
			fprintf(stderr, "verify case %zu (%s): got %d\n", i, c->source, got);
		CU_ASSERT_EQUAL(got, c->verifies);
	}
}

struct supported_case {
	const char *hash;
	bool supported;
	bool needs_rehash;
};

static const struct supported_case supported_cases[] = {
	{ MKPASSWD_Y, true, false },	/* j9T is libxcrypt 4.4's default */
	{ MKPASSWD_Y7, true, true },	/* another cost */
	{ HTPASSWD_B, true, true },
	{ MKPASSWD_2B, true, true },
	{ MKPASSWD_2A, true, true },
	{ MKPASSWD_6, true, true },
	{ DREPPER_6R, true, true },
	{ HTPASSWD_M, false, true },
	{ HTPASSWD_S, false, true },
	{ HTPASSWD_D, false, true },
	{ MKPASSWD_1, false, true },
	{ MKPASSWD_5, false, true },
	{ MKPASSWD_BSDI, false, true },
	{ "$y$", false, true },
	{ "$y$$$", false, true },
	{ "$2y$", false, true },
	{ "$6$", false, true },
	{ "$6$rounds=$abc$", false, true },
	{ "*", false, true },
	{ "", false, true },
	{ NULL, false, true },
};

static void
test_supported(void)
{
	size_t i;

	for (i = 0; i < sizeof(supported_cases) / sizeof(supported_cases[0]); i++) {
		const struct supported_case *c = &supported_cases[i];

		if (jg_password_hash_supported(c->hash) != c->supported)
			fprintf(stderr, "supported case %zu: %s\n", i,
				c->hash ? c->hash : "(null)");
		CU_ASSERT_EQUAL(jg_password_hash_supported(c->hash), c->supported);
		CU_ASSERT_EQUAL(jg_password_needs_rehash(c->hash), c->needs_rehash);
	}
}

/* The length limit.  bcrypt only reads the first 72 bytes, so a bcrypt hash
 * of 72 "x" matches any longer run of "x": up to JG_PASSWORD_MAX it
 * verifies, one byte more is refused by jwtgate's own limit. */
static void
test_verify_length_limit(void)
{
	struct crypt_data *data = jg_xcalloc(1, sizeof(*data));
	char *pw = jg_xmalloc(JG_PASSWORD_MAX + 2);
	char *hash;

	memset(pw, 'x', JG_PASSWORD_MAX + 1);
	pw[72] = '\0';
	CU_ASSERT_PTR_NOT_NULL_FATAL(crypt_rn(pw, "$2b$04$abcdefghijklmnopqrstuu",
					      data, (int)sizeof(*data)));
	hash = jg_xstrdup(data->output);
	CU_ASSERT_TRUE(jg_password_hash_supported(hash));
	CU_ASSERT_TRUE(jg_password_verify(pw, hash));
	pw[72] = 'x';
	pw[JG_PASSWORD_MAX] = '\0';
	CU_ASSERT_TRUE(jg_password_verify(pw, hash));
	pw[JG_PASSWORD_MAX] = 'x';
	pw[JG_PASSWORD_MAX + 1] = '\0';
	CU_ASSERT_FALSE(jg_password_verify(pw, hash));
	free(hash);
	free(pw);
	free(data);
}

static void
test_dummy(void)
{
	/* Always false, whatever the password, and never a crash on bad
	 * input. */
	CU_ASSERT_FALSE(jg_password_verify_dummy("secret"));
	CU_ASSERT_FALSE(jg_password_verify_dummy(""));
	CU_ASSERT_FALSE(jg_password_verify_dummy(NULL));
}

/* ---------------------------------------------------------------- htpasswd */

#define MAX_SEEN 32

struct seen {
	unsigned accepted_lines[MAX_SEEN];
	char *accepted_users[MAX_SEEN];
	char *accepted_hashes[MAX_SEEN];
	size_t naccepted;
	unsigned rejected_lines[MAX_SEEN];
	char *rejected_users[MAX_SEEN];	/* "(null)" for NULL */
	const char *rejected_reasons[MAX_SEEN];
	size_t nrejected;
	unsigned stop_at;		/* accept fails at this line */
};

static enum jg_err
on_accept(void *arg, unsigned line, const char *user, const char *hash)
{
	struct seen *s = arg;

	if (line == s->stop_at)
		return JG_ERR_BUSY;
	if (s->naccepted < MAX_SEEN) {
		s->accepted_lines[s->naccepted] = line;
		s->accepted_users[s->naccepted] = jg_xstrdup(user);
		s->accepted_hashes[s->naccepted] = jg_xstrdup(hash);
	}
	s->naccepted++;
	return JG_OK;
}

static void
on_reject(void *arg, unsigned line, const char *user, const char *reason)
{
	struct seen *s = arg;

	if (s->nrejected < MAX_SEEN) {
		s->rejected_lines[s->nrejected] = line;
		s->rejected_users[s->nrejected] = jg_xstrdup(user ? user : "(null)");
		s->rejected_reasons[s->nrejected] = reason;
	}
	s->nrejected++;
}

static void
seen_clear(struct seen *s)
{
	size_t i;

	for (i = 0; i < s->naccepted && i < MAX_SEEN; i++) {
		free(s->accepted_users[i]);
		free(s->accepted_hashes[i]);
	}
	for (i = 0; i < s->nrejected && i < MAX_SEEN; i++)
		free(s->rejected_users[i]);
	memset(s, 0, sizeof(*s));
}

/* An htpasswd file as Apache's htpasswd writes it, mixed with everything an
 * importer meets: comments, blank lines, CRLF, other tools' formats and
 * broken lines.  The line numbers are in the comments. */
static const char htpasswd_text[] =
	"# users of the old site\n"				/* 1 */
	"alice:" HTPASSWD_B "\n"				/* 2 */
	"\n"							/* 3 */
	"bob:" HTPASSWD_M "\n"					/* 4 */
	"carol:" HTPASSWD_S "\n"				/* 5 */
	"dave:" HTPASSWD_D "\r\n"				/* 6 */
	"eve:" MKPASSWD_6 "\r\n"				/* 7 */
	"   # indented comment\n"				/* 8 */
	"  frank:" MKPASSWD_Y "  \t\n"				/* 9 */
	"no colon here\n"					/* 10 */
	":" MKPASSWD_2B "\n"					/* 11 */
	"gr\x01" "ace:" MKPASSWD_2B "\n"			/* 12 */
	"heidi:\n"						/* 13 */
	"ivan:" MKPASSWD_1 "\n"					/* 14 */
	"judy:" "$2y$05$cRfX116yhvtpDFSay4.Wz.9iCnHL2fZyRvX73.x1twd2R339wrZ7" "\n" /* 15 */
	"mallory:plaintext\n"					/* 16 */
	"ned:" MKPASSWD_2B ":comment\n"				/* 17 */
	"oscar:" MKPASSWD_5 "\n"				/* 18 */
	"peggy:" MKPASSWD_2A "\n"				/* 19 */
	"user with space:" MKPASSWD_2B "\n"			/* 20 */
	"quentin:" MKPASSWD_6 "\x1b[2J\n"			/* 21 */
	"\r\n"							/* 22 */
	"rupert:" HTPASSWD_B;					/* 23, no newline */

static void
test_htpasswd(void)
{
	static const struct {
		unsigned line;
		const char *user, *hash;
	} want_accepted[] = {
		{ 2, "alice", HTPASSWD_B },
		{ 7, "eve", MKPASSWD_6 },
		{ 9, "frank", MKPASSWD_Y },
		{ 19, "peggy", MKPASSWD_2A },
		{ 20, "user with space", MKPASSWD_2B },
		{ 23, "rupert", HTPASSWD_B },
	};
	static const struct {
		unsigned line;
		const char *user, *reason;
	} want_rejected[] = {
		{ 4, "bob", "Apache MD5 ($apr1$) cannot be verified by crypt(3)" },
		{ 5, "carol", "SHA-1 ({SHA}) cannot be verified by crypt(3)" },
		{ 6, "dave", "DES crypt is too weak and not accepted" },
		{ 10, "(null)", "no colon between user name and hash" },
		{ 11, "(null)", "empty user name" },
		{ 12, "(null)", "control character in user name" },
		{ 13, "heidi", "empty hash" },
		{ 14, "ivan", "MD5-crypt ($1$) is too weak and not accepted" },
		{ 15, "judy", "malformed bcrypt hash" },
		{ 16, "mallory", "not a hash crypt(3) can verify (plain text passwords are not accepted)" },
		{ 17, "ned", "malformed bcrypt hash" },
		{ 18, "oscar", "sha256-crypt ($5$) is not accepted" },
		{ 21, "quentin", "control character in hash" },
	};
	struct seen s;
	size_t i;

	memset(&s, 0, sizeof(s));
	CU_ASSERT_EQUAL(jg_htpasswd_parse(htpasswd_text, strlen(htpasswd_text),
					  on_accept, on_reject, &s), JG_OK);
	CU_ASSERT_EQUAL_FATAL(s.naccepted, sizeof(want_accepted) / sizeof(want_accepted[0]));
	CU_ASSERT_EQUAL_FATAL(s.nrejected, sizeof(want_rejected) / sizeof(want_rejected[0]));
	for (i = 0; i < s.naccepted; i++) {
		CU_ASSERT_EQUAL(s.accepted_lines[i], want_accepted[i].line);
		CU_ASSERT_STRING_EQUAL(s.accepted_users[i], want_accepted[i].user);
		CU_ASSERT_STRING_EQUAL(s.accepted_hashes[i], want_accepted[i].hash);
	}
	for (i = 0; i < s.nrejected; i++) {
		CU_ASSERT_EQUAL(s.rejected_lines[i], want_rejected[i].line);
		CU_ASSERT_STRING_EQUAL(s.rejected_users[i], want_rejected[i].user);
		CU_ASSERT_STRING_EQUAL(s.rejected_reasons[i], want_rejected[i].reason);
	}
	/* What was accepted verifies with the password htpasswd was given. */
	CU_ASSERT_TRUE(jg_password_verify("secret", s.accepted_hashes[0]));
	seen_clear(&s);

	/* reject may be NULL. */
	CU_ASSERT_EQUAL(jg_htpasswd_parse(htpasswd_text, strlen(htpasswd_text),
					  on_accept, NULL, &s), JG_OK);
	CU_ASSERT_EQUAL(s.naccepted, 6);
	seen_clear(&s);
}

static void
test_htpasswd_stops(void)
{
	struct seen s;

	/* accept failing at line 7 (eve) stops the parse there: frank and
	 * the rest are never seen. */
	memset(&s, 0, sizeof(s));
	s.stop_at = 7;
	CU_ASSERT_EQUAL(jg_htpasswd_parse(htpasswd_text, strlen(htpasswd_text),
					  on_accept, on_reject, &s), JG_ERR_BUSY);
	CU_ASSERT_EQUAL(s.naccepted, 1);
	CU_ASSERT_EQUAL(s.nrejected, 3);
	seen_clear(&s);
}

static void
test_htpasswd_edges(void)
{
	static const char with_nul[] = "alice:" HTPASSWD_B "\nbo\0b:" HTPASSWD_B "\ncarol:" HTPASSWD_B;
	struct seen s;
	char *longline;
	size_t n, hl;

	/* Empty input, and input of only comments and blank lines. */
	memset(&s, 0, sizeof(s));
	CU_ASSERT_EQUAL(jg_htpasswd_parse("", 0, on_accept, on_reject, &s), JG_OK);
	CU_ASSERT_EQUAL(jg_htpasswd_parse("#\n\n \t\r\n#x", 9, on_accept, on_reject, &s), JG_OK);
	CU_ASSERT_EQUAL(s.naccepted + s.nrejected, 0);

	/* A NUL byte inside the text rejects that line only. */
	CU_ASSERT_EQUAL(jg_htpasswd_parse(with_nul, sizeof(with_nul) - 1,
					  on_accept, on_reject, &s), JG_OK);
	CU_ASSERT_EQUAL_FATAL(s.naccepted, 2);
	CU_ASSERT_EQUAL_FATAL(s.nrejected, 1);
	CU_ASSERT_EQUAL(s.accepted_lines[0], 1);
	CU_ASSERT_EQUAL(s.accepted_lines[1], 3);
	CU_ASSERT_EQUAL(s.rejected_lines[0], 2);
	CU_ASSERT_STRING_EQUAL(s.rejected_reasons[0], "control character in user name");
	seen_clear(&s);

	/* The text is not NUL-terminated: only len bytes count. */
	CU_ASSERT_EQUAL(jg_htpasswd_parse(htpasswd_text, strlen("# users of the old site\n") + 6 + 30,
					  on_accept, on_reject, &s), JG_OK);
	CU_ASSERT_EQUAL_FATAL(s.nrejected, 1);
	CU_ASSERT_EQUAL(s.naccepted, 0);
	CU_ASSERT_EQUAL(s.rejected_lines[0], 2);
	CU_ASSERT_STRING_EQUAL(s.rejected_reasons[0], "malformed bcrypt hash");
	seen_clear(&s);

	/* A line of JG_HTPASSWD_MAX_LINE bytes is read; one more is too long. */
	longline = jg_xmalloc(JG_HTPASSWD_MAX_LINE + 64);
	hl = strlen(":" HTPASSWD_B);
	n = JG_HTPASSWD_MAX_LINE - hl;
	memset(longline, 'u', n + 1);
	memcpy(longline + n, ":" HTPASSWD_B, hl);
	CU_ASSERT_EQUAL(jg_htpasswd_parse(longline, n + hl, on_accept, on_reject, &s), JG_OK);
	CU_ASSERT_EQUAL(s.naccepted, 1);
	CU_ASSERT_EQUAL(s.nrejected, 0);
	seen_clear(&s);
	longline[n] = 'u';
	memcpy(longline + n + 1, ":" HTPASSWD_B, hl);
	CU_ASSERT_EQUAL(jg_htpasswd_parse(longline, n + 1 + hl, on_accept, on_reject, &s), JG_OK);
	CU_ASSERT_EQUAL(s.naccepted, 0);
	CU_ASSERT_EQUAL_FATAL(s.nrejected, 1);
	CU_ASSERT_EQUAL(s.rejected_lines[0], 1);
	CU_ASSERT_STRING_EQUAL(s.rejected_reasons[0], "line too long");
	CU_ASSERT_STRING_EQUAL(s.rejected_users[0], "(null)");
	seen_clear(&s);
	free(longline);
}

/* ---------------------------------------------------------------- timing */

#define TIMING_RUNS 15
/* Under valgrind (tests/valgrind.sh exports JG_UNDER_VALGRIND=1) one
 * yescrypt verification takes about 1.5 s, so the medians are taken of 5
 * runs each instead of 15; nowhere else. */
#define TIMING_RUNS_VALGRIND 5

static double
now_ms(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), compare_double);
	return v[n / 2];
}

/* An unknown user (jg_password_verify_dummy) and a locked account ("!")
 * cost what a wrong password against a hash of jg_password_hash costs: the
 * medians of 15 runs each (5 under valgrind), interleaved so that a change
 * of machine load hits all three alike, are within 25%, both in elapsed
 * time and in the CPU time of this thread (which a loaded machine does not
 * inflate: the check that stays exact when other processes compete). */
static void
test_unknown_user_timing(void)
{
	double dummy[TIMING_RUNS], locked[TIMING_RUNS], wrong[TIMING_RUNS];
	double cdummy[TIMING_RUNS], clocked[TIMING_RUNS], cwrong[TIMING_RUNS];
	double t, c, md, ml, mw;
	char *hash = NULL;
	const char *vg = getenv("JG_UNDER_VALGRIND");
	int i, runs = vg != NULL && vg[0] != '\0' ? TIMING_RUNS_VALGRIND : TIMING_RUNS;

	CU_ASSERT_EQUAL_FATAL(jg_password_hash("the real password", &hash), JG_OK);
	for (i = 0; i < 3 * runs; i++) {
		/* Rotate the order, so no kind always runs first. */
		int kind = (i + i / 3) % 3, run = i / 3;

		c = now_ms(CLOCK_THREAD_CPUTIME_ID);
		t = now_ms(CLOCK_MONOTONIC);
		if (kind == 0)
			CU_ASSERT_FALSE(jg_password_verify_dummy("a guess"));
		if (kind == 1)
			CU_ASSERT_FALSE(jg_password_verify("a guess", hash));
		if (kind == 2)
			CU_ASSERT_FALSE(jg_password_verify("a guess", "!"));
		t = now_ms(CLOCK_MONOTONIC) - t;
		c = now_ms(CLOCK_THREAD_CPUTIME_ID) - c;
		if (kind == 0) {
			dummy[run] = t;
			cdummy[run] = c;
		} else if (kind == 1) {
			wrong[run] = t;
			cwrong[run] = c;
		} else {
			locked[run] = t;
			clocked[run] = c;
		}
	}
	md = median(dummy, (size_t)runs);
	mw = median(wrong, (size_t)runs);
	ml = median(locked, (size_t)runs);
	fprintf(stderr, "\n    medians: unknown user %.2f ms, wrong password %.2f ms, "
		"locked account %.2f ms\n", md, mw, ml);
	CU_ASSERT(md <= mw * 1.25 && mw <= md * 1.25);
	CU_ASSERT(ml <= mw * 1.25 && mw <= ml * 1.25);
	md = median(cdummy, (size_t)runs);
	mw = median(cwrong, (size_t)runs);
	ml = median(clocked, (size_t)runs);
	fprintf(stderr, "    CPU time medians: unknown user %.2f ms, wrong password %.2f ms, "
		"locked account %.2f ms\n", md, mw, ml);
	CU_ASSERT(md <= mw * 1.25 && mw <= md * 1.25);
	CU_ASSERT(ml <= mw * 1.25 && mw <= ml * 1.25);
	/* And it is real work, not an early return: yescrypt at the default
	 * cost takes milliseconds on any machine. */
	CU_ASSERT(md > 1.0);
	free(hash);
}

static const struct jg_test tests[] = {
	{ "hash then verify (yescrypt)", test_hash_then_verify },
	{ "hash refuses empty and overlong passwords", test_hash_refuses },
	{ "verify: fixed vectors of every format", test_verify_vectors },
	{ "supported formats and rehash", test_supported },
	{ "verify: password length limit", test_verify_length_limit },
	{ "verify_dummy never matches", test_dummy },
	{ "htpasswd: accepted and rejected lines", test_htpasswd },
	{ "htpasswd: accept error stops the parse", test_htpasswd_stops },
	{ "htpasswd: NUL, long lines, empty input", test_htpasswd_edges },
	{ "unknown user costs a wrong password", test_unknown_user_timing },
	{ NULL, NULL }
};

int
main(void)
{
	return jg_test_main("password", tests);
}
