/* jose_libjwt.c: verify and sign rates of libjwt (Debian's libjwt 1.x)
 * on the tokens and keys bench/jose_export wrote.  libjwt 1.10 has no
 * PS256 and no EdDSA: those rows print "n/a".  libjwt 1.x refuses a typ
 * other than "JWT" (RFC 9068's at+jwt included), so it verifies ALG.jwt.token,
 * the same token with typ JWT, and signs with typ JWT.  Prints one line per
 * algorithm: "ALG VERIFY_PER_S SIGN_PER_S". */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jwt.h>

#include "util.h"

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *
slurp(const char *dir, const char *name, size_t *len)
{
	char *path = jg_xasprintf("%s/%s", dir, name), *data = NULL;

	if (jg_read_file(path, 1 << 20, &data, len) != JG_OK) {
		fprintf(stderr, "bench/jose_libjwt: cannot read %s\n", path);
		exit(1);
	}
	free(path);
	return data;
}

struct lj_case {
	jwt_alg_t alg;
	const char *token;
	const unsigned char *vkey, *skey;
	size_t vkey_len, skey_len;
	const char *claims, *kid;
};

static int
op_verify(const struct lj_case *c)
{
	jwt_t *jwt = NULL;
	int rc = jwt_decode(&jwt, c->token, c->vkey, (int)c->vkey_len);

	jwt_free(jwt);
	return rc == 0;
}

static int
op_sign(const struct lj_case *c)
{
	jwt_t *jwt = NULL;
	char *out = NULL;
	int ok;

	ok = jwt_new(&jwt) == 0 &&
	     	     jwt_add_header(jwt, "kid", c->kid) == 0 &&
	     jwt_add_grants_json(jwt, c->claims) == 0 &&
	     jwt_set_alg(jwt, c->alg, c->skey, (int)c->skey_len) == 0 &&
	     (out = jwt_encode_str(jwt)) != NULL;
	free(out);
	jwt_free(jwt);
	return ok;
}

static double
rate(int (*op)(const struct lj_case *), const struct lj_case *c, double seconds)
{
	double start = now_seconds(), t;
	unsigned long n = 0;

	if (!op(c))
		return -1;
	do {
		for (int i = 0; i < 8; i++)
			if (!op(c))
				return -1;
		n += 8;
		t = now_seconds() - start;
	} while (t < seconds);
	return (double)n / t;
}

int
main(int argc, char **argv)
{
	static const char *const names[] = { "HS256", "RS256", "PS256", "ES256", "EdDSA" };
	double seconds;
	size_t i, len;

	if (argc != 3) {
		fputs("usage: bench/jose_libjwt DIR SECONDS\n", stderr);
		return 2;
	}
	seconds = strtod(argv[2], NULL);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct lj_case c;
		char *file, *token, *claims, *vkey, *skey;
		size_t vlen, slen;
		double v, s;

		c.alg = jwt_str_alg(names[i]);
		if (c.alg == JWT_ALG_INVAL) {
			printf("%s n/a n/a\n", names[i]);
			continue;
		}
		file = jg_xasprintf("%s.jwt.token", names[i]);
		token = slurp(argv[1], file, &len);
		free(file);
		claims = slurp(argv[1], "claims.json", &len);
		if (c.alg == JWT_ALG_HS256) {
			vkey = slurp(argv[1], "HS256.key", &vlen);
			skey = NULL;
			slen = vlen;
		} else {
			file = jg_xasprintf("%s.pub.pem", names[i]);
			vkey = slurp(argv[1], file, &vlen);
			free(file);
			file = jg_xasprintf("%s.pem", names[i]);
			skey = slurp(argv[1], file, &slen);
			free(file);
		}
		c.kid = file = jg_xasprintf("bench-%s", names[i]);
		c.token = token;
		c.claims = claims;
		c.vkey = (const unsigned char *)vkey;
		c.vkey_len = vlen;
		c.skey = (const unsigned char *)(skey ? skey : vkey);
		c.skey_len = slen;
		v = rate(op_verify, &c, seconds);
		s = rate(op_sign, &c, seconds);
		if (v < 0 || s < 0) {
			fprintf(stderr, "bench/jose_libjwt: %s %s failed\n", names[i],
				v < 0 ? "verify" : "sign");
			return 1;
		}
		printf("%s %.0f %.0f\n", names[i], v, s);
		fflush(stdout);
		free(file);
		free(token);
		free(claims);
		free(vkey);
		free(skey);
	}
	return 0;
}
