/* setup.c: prepares the working folder of the HTTP and token-endpoint
 * benchmarks (bench/run.sh): a configuration, a keyring, a store with one
 * user and two clients, access tokens, and authorization codes and refresh
 * tokens stored in advance, each written as the form body of one token
 * request for wrk (bench/wrk/lines.lua). */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <json-c/json.h>

#include "claims.h"
#include "keyring.h"
#include "oauth.h"
#include "store.h"
#include "token.h"
#include "util.h"

#define BENCH_SECRET "bench-secret-0123456789abcdefghijklmnopqrstuvwxyz"
#define BENCH_REDIRECT "https://app.example/cb"
/* RFC 7636 appendix B. */
#define BENCH_VERIFIER "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
#define BENCH_CHALLENGE "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
#define BENCH_SUB "sub-bench-alice"

static void
die(const char *what, const char *errmsg)
{
	fprintf(stderr, "bench/setup: %s%s%s\n", what, errmsg ? ": " : "",
		errmsg ? errmsg : "");
	exit(1);
}

static void
write_text(const char *dir, const char *name, const char *text)
{
	char *path = jg_xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0)
		die("cannot write", path);
	free(path);
}

static char *
mint(const struct jg_jwk *key, const char *issuer, int64_t now)
{
	struct json_object *c = json_object_new_object();
	char *token = NULL;

	json_object_object_add(c, "iss", json_object_new_string(issuer));
	json_object_object_add(c, "aud", json_object_new_string(issuer));
	json_object_object_add(c, "sub", json_object_new_string(BENCH_SUB));
	json_object_object_add(c, "client_id", json_object_new_string("bench-app"));
	json_object_object_add(c, "scope", json_object_new_string("openid profile email"));
	json_object_object_add(c, "jti", json_object_new_string("bench-jti-0001"));
	json_object_object_add(c, "iat", json_object_new_int64(now - 5));
	json_object_object_add(c, "exp", json_object_new_int64(now + 6 * 3600));
	if (jg_jwt_sign(key, key->alg, JG_TYP_ACCESS, c, &token) != JG_OK)
		die("signing a token", NULL);
	json_object_put(c);
	return token;
}

static void
add_client(struct jg_store *st, const char *id, const char *grants, int64_t now)
{
	struct jg_client c;
	char *uris[1] = { (char *)(uintptr_t)BENCH_REDIRECT };

	memset(&c, 0, sizeof(c));
	c.client_id = (char *)(uintptr_t)id;
	if (jg_client_secret_hash(BENCH_SECRET, &c.secret_hash) != JG_OK)
		die("hashing the secret", NULL);
	c.redirect_uris = uris;
	c.n_redirect_uris = 1;
	c.grant_types = (char *)(uintptr_t)grants;
	c.scopes = (char *)(uintptr_t)"openid profile email offline_access api";
	c.first_party = true;
	if (jg_store_client_add(st, &c, now) != JG_OK)
		die("adding a client", jg_store_errmsg(st));
	free(c.secret_hash);
}

int
main(int argc, char **argv)
{
	const char *dir, *kid = NULL;
	char *path, *text, *errmsg = NULL, *tok;
	struct jg_keyring *ring;
	struct jg_store *st = NULL;
	struct jg_user u;
	struct jg_code code;
	int64_t now = (int64_t)time(NULL), fam;
	unsigned long n, i;
	FILE *codes, *refresh;
	int port;

	if (argc != 4) {
		fputs("usage: bench/setup DIR PORT COUNT\n"
		      "Writes DIR/jwtgate.conf (issuer http://127.0.0.1:PORT), DIR/keys,\n"
		      "DIR/jwtgate.db, DIR/token-rs256.txt, DIR/token-es256.txt, and\n"
		      "COUNT codes and refresh tokens as request bodies in\n"
		      "DIR/codes.txt and DIR/refresh.txt.\n", stderr);
		return 2;
	}
	dir = argv[1];
	port = atoi(argv[2]);
	n = strtoul(argv[3], NULL, 10);

	text = jg_xasprintf("issuer = http://127.0.0.1:%d\n"
			    "database = %s/jwtgate.db\n"
			    "key_dir = %s/keys\n"
			    "htdocs = %s/htdocs\n"
			    "access_token_alg = ES256\n"
			    "id_token_alg = ES256\n"
			    "log_level = error\n", port, dir, dir, dir);
	write_text(dir, "jwtgate.conf", text);
	free(text);

	/* The keyring: an RS256 access key, then an ES256 one made current
	 * (the default access_token_alg); the RS256 key stays published as
	 * previous, so the gate accepts tokens of both. */
	path = jg_xasprintf("%s/keys", dir);
	mkdir(path, 0700);
	ring = jg_keyring_new(path);
	free(path);
	text = jg_xasprintf("http://127.0.0.1:%d", port);
	if (jg_keyring_rotate(ring, JG_KEY_ACCESS, JG_ALG_RS256, JG_ALG_RS256,
			      now - 20, &kid, &errmsg) != JG_OK)
		die("rotating", errmsg);
	tok = mint(jg_keyring_current(ring, JG_KEY_ACCESS), text, now);
	write_text(dir, "token-rs256.txt", tok);
	free(tok);
	if (jg_keyring_rotate(ring, JG_KEY_ACCESS, JG_ALG_ES256, JG_ALG_ES256,
			      now - 10, &kid, &errmsg) != JG_OK ||
	    jg_keyring_rotate(ring, JG_KEY_ID, JG_ALG_ES256, JG_ALG_ES256,
			      now - 10, &kid, &errmsg) != JG_OK)
		die("rotating", errmsg);
	tok = mint(jg_keyring_current(ring, JG_KEY_ACCESS), text, now);
	write_text(dir, "token-es256.txt", tok);
	free(tok);
	free(text);
	jg_keyring_free(ring);

	path = jg_xasprintf("%s/jwtgate.db", dir);
	if (jg_store_open(path, 5000, &st, &errmsg) != JG_OK)
		die("opening the store", errmsg);
	free(path);
	memset(&u, 0, sizeof(u));
	u.sub = (char *)(uintptr_t)BENCH_SUB;
	u.username = (char *)(uintptr_t)"alice";
	u.password_hash = (char *)(uintptr_t)
		"$y$j9T$0123456789abcdef$0123456789abcdef0123456789abcdef0123456789a";
	u.name = (char *)(uintptr_t)"Alice Liddell";
	u.email = (char *)(uintptr_t)"alice@example.org";
	if (jg_store_user_add(st, &u, now) != JG_OK)
		die("adding the user", jg_store_errmsg(st));
	add_client(st, "bench-cc", "client_credentials", now);
	add_client(st, "bench-app", "authorization_code refresh_token", now);

	path = jg_xasprintf("%s/codes.txt", dir);
	codes = fopen(path, "w");
	free(path);
	path = jg_xasprintf("%s/refresh.txt", dir);
	refresh = fopen(path, "w");
	free(path);
	if (codes == NULL || refresh == NULL)
		die("cannot write the request lists", NULL);
	memset(&code, 0, sizeof(code));
	code.client_id = (char *)(uintptr_t)"bench-app";
	code.redirect_uri = (char *)(uintptr_t)BENCH_REDIRECT;
	code.sub = (char *)(uintptr_t)BENCH_SUB;
	code.scope = (char *)(uintptr_t)"openid profile offline_access";
	code.code_challenge = (char *)(uintptr_t)BENCH_CHALLENGE;
	code.code_challenge_method = (char *)(uintptr_t)"S256";
	code.auth_time = now - 10;
	code.created = now;
	code.expires = now + 3600;
	for (i = 0; i < n; i++) {
		tok = jg_random_token(32);
		if (tok == NULL || jg_store_code_insert(st, tok, &code) != JG_OK)
			die("storing a code", jg_store_errmsg(st));
		fprintf(codes, "grant_type=authorization_code&code=%s"
			"&redirect_uri=https%%3A%%2F%%2Fapp.example%%2Fcb"
			"&code_verifier=" BENCH_VERIFIER "\n", tok);
		jg_free_secret(tok);
		tok = jg_random_token(32);
		if (tok == NULL ||
		    jg_store_refresh_create(st, tok, "bench-app", BENCH_SUB,
					    "openid profile offline_access", now - 10,
					    now, 86400, 30 * 86400, &fam) != JG_OK)
			die("storing a refresh token", jg_store_errmsg(st));
		fprintf(refresh, "grant_type=refresh_token&refresh_token=%s\n", tok);
		jg_free_secret(tok);
	}
	if (fclose(codes) != 0 || fclose(refresh) != 0)
		die("cannot write the request lists", NULL);
	jg_store_close(st);
	return 0;
}
