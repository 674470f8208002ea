/* instance.c: see instance.h. */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include <sqlite3.h>

#include "instance.h"
#include "testutil.h"
#include "b64url.h"
#include "claims.h"
#include "conf.h"
#include "http.h"
#include "keyring.h"
#include "oauth.h"
#include "password.h"
#include "store.h"
#include "util.h"

static char *
basic(const char *id, const char *secret)
{
	char *plain = jg_xasprintf("%s:%s", id, secret);
	char *b64 = jg_b64std_encode(plain, strlen(plain));
	char *out = jg_xasprintf("Authorization: Basic %s", b64);

	free(plain);
	free(b64);
	return out;
}

static bool
add_client(struct jg_inst *in, const char *id, const char *secret, const char *uri,
	   const char *grants, const char *scopes, bool first_party)
{
	const char *uris[1] = { uri };
	struct jg_client c;
	bool ok;

	memset(&c, 0, sizeof(c));
	c.client_id = (char *)(uintptr_t)id;
	if (secret != NULL && jg_client_secret_hash(secret, &c.secret_hash) != JG_OK)
		return false;
	c.name = (char *)(uintptr_t)id;
	c.redirect_uris = (char **)(uintptr_t)uris;
	c.n_redirect_uris = 1;
	c.grant_types = (char *)(uintptr_t)grants;
	c.scopes = (char *)(uintptr_t)scopes;
	c.first_party = first_party;
	ok = jg_store_client_add(in->store, &c, time(NULL)) == JG_OK;
	free(c.secret_hash);
	return ok;
}

static bool
add_user(struct jg_inst *in, const char *username, const char *sub)
{
	struct jg_user u;
	char *hash = NULL;
	bool ok;

	if (jg_password_hash(JG_INST_PASSWORD, &hash) != JG_OK)
		return false;
	memset(&u, 0, sizeof(u));
	u.sub = (char *)(uintptr_t)sub;
	u.username = (char *)(uintptr_t)username;
	u.password_hash = hash;
	ok = jg_store_user_add(in->store, &u, time(NULL)) == JG_OK;
	free(hash);
	return ok;
}

bool
jg_inst_setup(struct jg_inst *in, const char *extra_conf)
{
	char *errmsg = NULL, *tmpl = NULL, *line;
	size_t tlen = 0;
	FILE *f, *tf;

	memset(in, 0, sizeof(*in));
	in->dir = jg_it_tempdir();
	if (in->dir == NULL)
		return false;
	in->conf = jg_xasprintf("%s/jwtgate.conf", in->dir);
	in->env_conf = jg_xasprintf("JWTGATE_CONF=%s", in->conf);
	f = fopen(in->conf, "w");
	if (f == NULL)
		return false;
	/* The template, without its database line when extra_conf has one. */
	tf = open_memstream(&tmpl, &tlen);
	if (jg_config_write_template(tf, JG_INST_ISSUER, in->dir) != JG_OK ||
	    fclose(tf) != 0) {
		fprintf(stderr, "instance: cannot write %s\n", in->conf);
		fclose(f);
		free(tmpl);
		return false;
	}
	if (extra_conf && (strncmp(extra_conf, "database = ", 11) == 0 ||
			   strstr(extra_conf, "\ndatabase = ") != NULL) &&
	    (line = strstr(tmpl, "\ndatabase = ")) != NULL)
		line[1] = '#';
	fputs(tmpl, f);
	free(tmpl);
	fprintf(f, "templates = %s/htdocs\n%s", jg_test_srcdir(),
		extra_conf ? extra_conf : "");
	if (fclose(f) != 0)
		return false;
	if (jg_config_load(in->conf, &in->config, &errmsg) != JG_OK)
		goto fail;
	if (mkdir(in->config->key_dir, 0700) != 0)
		return false;
	in->ring = jg_keyring_new(in->config->key_dir);
	if (jg_keyring_rotate(in->ring, JG_KEY_ACCESS, JG_ALG_UNKNOWN,
			      in->config->access_token_alg, time(NULL), NULL,
			      &errmsg) != JG_OK ||
	    jg_keyring_rotate(in->ring, JG_KEY_ID, JG_ALG_UNKNOWN,
			      in->config->id_token_alg, time(NULL), NULL, &errmsg) != JG_OK)
		goto fail;
	if (jg_store_open(in->config->database, 5000, &in->store, &errmsg) != JG_OK)
		goto fail;
	if (!add_user(in, "alice", "sub-alice") || !add_user(in, "bob", "sub-bob") ||
	    !add_client(in, "web", JG_INST_WEB_SECRET, JG_INST_WEB_CB,
			"authorization_code refresh_token",
			"openid profile email offline_access api:read", false) ||
	    !add_client(in, "other", JG_INST_OTHER_SECRET, JG_INST_OTHER_CB,
			"authorization_code refresh_token",
			"openid profile email offline_access api:read", false) ||
	    !add_client(in, "spa", NULL, "https://spa.example/cb",
			"authorization_code", "openid profile", false) ||
	    !add_client(in, "first", NULL, "http://127.0.0.1:8080/cb",
			"authorization_code", "openid profile", true) ||
	    !add_client(in, "m2m", JG_INST_M2M_SECRET, "https://m2m.example/cb",
			"client_credentials", "api:read", false)) {
		fprintf(stderr, "instance: cannot fill the store\n");
		return false;
	}
	in->b_web = basic("web", JG_INST_WEB_SECRET);
	in->b_other = basic("other", JG_INST_OTHER_SECRET);
	in->b_m2m = basic("m2m", JG_INST_M2M_SECRET);
	return true;
fail:
	fprintf(stderr, "instance: %s\n", errmsg ? errmsg : "failed");
	free(errmsg);
	return false;
}

bool
jg_inst_start(struct jg_inst *in, unsigned max_procs)
{
	struct jg_it_program p[4];
	struct jg_it_server_opts opts;
	const char *env[2] = { in->env_conf, NULL };
	char *bins[3];
	size_t i;

	bins[0] = jg_it_build_path("cgi-bin/authorize.fcgi");
	bins[1] = jg_it_build_path("cgi-bin/token.fcgi");
	bins[2] = jg_it_build_path("cgi-bin/resource.fcgi");
	memset(p, 0, sizeof(p));
	p[0].prefix = "/oauth/authorize";
	p[1].prefix = "/oauth/token";
	p[2].prefix = "/api/";
	p[3].prefix = "/oauth/logout";
	for (i = 0; i < 4; i++) {
		p[i].bin = bins[i < 3 ? i : 0];
		p[i].env = env;
		p[i].max_procs = max_procs;
	}
	memset(&opts, 0, sizeof(opts));
	opts.programs = p;
	opts.nprograms = 4;
	in->lt = jg_it_lighttpd_start(&opts);
	for (i = 0; i < 3; i++)
		free(bins[i]);
	return in->lt != NULL;
}

bool
jg_inst_free(struct jg_inst *in)
{
	bool ok = jg_it_server_stop(in->lt);

	in->lt = NULL;
	jg_store_close(in->store);
	jg_keyring_free(in->ring);
	jg_config_free(in->config);
	free(in->conf);
	free(in->env_conf);
	free(in->b_web);
	free(in->b_other);
	free(in->b_m2m);
	memset(in, 0, sizeof(*in));
	return ok;
}

char *
jg_inst_url(const struct jg_inst *in, const char *path)
{
	return jg_xasprintf("%s%s", in->lt->url, path);
}

char *
jg_inst_mint(const struct jg_inst *in, const char *scope)
{
	const struct jg_jwk *key = jg_keyring_current(in->ring, JG_KEY_ACCESS);
	struct json_object *c = json_object_new_object();
	int64_t now = (int64_t)time(NULL);
	char *token = NULL, *jti = jg_random_token(16);

	json_object_object_add(c, "iss", json_object_new_string(JG_INST_ISSUER));
	json_object_object_add(c, "aud", json_object_new_string(JG_INST_ISSUER));
	json_object_object_add(c, "sub", json_object_new_string("sub-alice"));
	json_object_object_add(c, "client_id", json_object_new_string("web"));
	json_object_object_add(c, "scope", json_object_new_string(scope));
	json_object_object_add(c, "jti", json_object_new_string(jti));
	json_object_object_add(c, "iat", json_object_new_int64(now - 5));
	json_object_object_add(c, "exp", json_object_new_int64(now + 3600));
	if (key == NULL || jg_jwt_sign(key, key->alg, JG_TYP_ACCESS, c, &token) != JG_OK)
		token = NULL;
	json_object_put(c);
	free(jti);
	return token;
}

bool
jg_inst_put_code(const struct jg_inst *in, const char *code, const char *client,
		 const char *redirect, const char *scope, const char *challenge)
{
	struct jg_code c;
	int64_t now = time(NULL);

	memset(&c, 0, sizeof(c));
	c.client_id = (char *)(uintptr_t)client;
	c.redirect_uri = (char *)(uintptr_t)redirect;
	c.sub = (char *)(uintptr_t)"sub-alice";
	c.scope = (char *)(uintptr_t)scope;
	c.code_challenge = (char *)(uintptr_t)challenge;
	c.code_challenge_method = (char *)(uintptr_t)(challenge ? "S256" : NULL);
	c.auth_time = now - 10;
	c.created = now;
	c.expires = now + 120;
	return jg_store_code_insert(in->store, code, &c) == JG_OK;
}

long
jg_inst_count(const struct jg_inst *in, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	long n = -1;

	if (sqlite3_open_v2(in->config->database, &db, SQLITE_OPEN_READONLY,
			    NULL) != SQLITE_OK)
		goto out;
	sqlite3_busy_timeout(db, 10000);
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
out:
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

bool
jg_inst_integrity_ok(const char *database)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	bool ok = false;

	if (sqlite3_open_v2(database, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		goto out;
	sqlite3_busy_timeout(db, 10000);
	if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL) != SQLITE_OK)
		goto out;
	ok = sqlite3_step(s) == SQLITE_ROW &&
	     strcmp((const char *)sqlite3_column_text(s, 0), "ok") == 0 &&
	     sqlite3_step(s) == SQLITE_DONE;
	if (!ok)
		fprintf(stderr, "integrity_check: %s\n", (const char *)sqlite3_column_text(s, 0));
out:
	sqlite3_finalize(s);
	sqlite3_close(db);
	return ok;
}

/* Field 5 (pgrp) of /proc/PID/stat, or -1; *zombie when state is Z. */
static long
proc_pgrp(const char *pid, bool *zombie)
{
	char path[64], buf[512], *p;
	FILE *f;
	long pgrp = -1;
	char state = 0;

	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	if (fgets(buf, sizeof(buf), f) != NULL && (p = strrchr(buf, ')')) != NULL &&
	    sscanf(p + 1, " %c %*d %ld", &state, &pgrp) != 2)
		pgrp = -1;
	fclose(f);
	*zombie = state == 'Z';
	return pgrp;
}

size_t
jg_inst_fcgi_pids(const struct jg_inst *in, pid_t *pids, size_t max)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	size_t n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL && n < max) {
		bool zombie = false;
		long pid;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		pid = strtol(e->d_name, NULL, 10);
		if (pid == in->lt->pid || proc_pgrp(e->d_name, &zombie) != in->lt->pid ||
		    zombie)
			continue;
		pids[n++] = (pid_t)pid;
	}
	closedir(d);
	return n;
}

long
jg_inst_fcgi_rss_kib(const struct jg_inst *in)
{
	pid_t pids[256];
	size_t n = jg_inst_fcgi_pids(in, pids, 256), i;
	long sum = 0;

	for (i = 0; i < n; i++) {
		char path[64], line[256];
		FILE *f;
		long kib;

		snprintf(path, sizeof(path), "/proc/%ld/status", (long)pids[i]);
		f = fopen(path, "r");
		if (f == NULL)
			continue;
		while (fgets(line, sizeof(line), f) != NULL)
			if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
				sum += kib;
		fclose(f);
	}
	return sum;
}

struct sink {
	char *data;
	size_t len;
};

static size_t
sink_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb;

	s->data = jg_xrealloc(s->data, s->len + n + 1);
	memcpy(s->data + s->len, ptr, n);
	s->len += n;
	s->data[s->len] = '\0';
	return n;
}

void
jg_inst_parallel(const char *url, const char *const *headers, const char *body,
		 size_t n, long *statuses, char **bodies, char **heads)
{
	CURLM *m = curl_multi_init();
	CURL **h = jg_xcalloc(n, sizeof(*h));
	struct sink *sinks = jg_xcalloc(n, sizeof(*sinks));
	struct sink *hsinks = jg_xcalloc(n, sizeof(*hsinks));
	struct curl_slist *list = NULL;
	int running = 0;
	size_t i;

	for (i = 0; headers && headers[i]; i++)
		list = curl_slist_append(list, headers[i]);
	curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)n);
	for (i = 0; i < n; i++) {
		h[i] = curl_easy_init();
		curl_easy_setopt(h[i], CURLOPT_URL, url);
		curl_easy_setopt(h[i], CURLOPT_PROXY, "");
		curl_easy_setopt(h[i], CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(h[i], CURLOPT_TIMEOUT, 60L);
		curl_easy_setopt(h[i], CURLOPT_FORBID_REUSE, 1L);
		curl_easy_setopt(h[i], CURLOPT_FRESH_CONNECT, 1L);
		curl_easy_setopt(h[i], CURLOPT_HTTPHEADER, list);
		curl_easy_setopt(h[i], CURLOPT_WRITEFUNCTION, sink_write);
		curl_easy_setopt(h[i], CURLOPT_WRITEDATA, &sinks[i]);
		curl_easy_setopt(h[i], CURLOPT_HEADERFUNCTION, sink_write);
		curl_easy_setopt(h[i], CURLOPT_HEADERDATA, &hsinks[i]);
		if (body != NULL)
			curl_easy_setopt(h[i], CURLOPT_POSTFIELDS, body);
		curl_multi_add_handle(m, h[i]);
	}
	do {
		curl_multi_perform(m, &running);
		if (running)
			curl_multi_poll(m, NULL, 0, 1000, NULL);
	} while (running);
	for (i = 0; i < n; i++) {
		long status = 0;

		curl_easy_getinfo(h[i], CURLINFO_RESPONSE_CODE, &status);
		statuses[i] = status;
		if (bodies)
			bodies[i] = sinks[i].data;
		else
			free(sinks[i].data);
		if (heads)
			heads[i] = hsinks[i].data;
		else
			free(hsinks[i].data);
		curl_multi_remove_handle(m, h[i]);
		curl_easy_cleanup(h[i]);
	}
	curl_slist_free_all(list);
	curl_multi_cleanup(m);
	free(h);
	free(sinks);
	free(hsinks);
}
