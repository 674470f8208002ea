/* jwks_fetch.c: external issuers' keys over libcurl with an on-disk cache. */
#include "config.h"

#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <curl/curl.h>
#include <gnutls/crypto.h>
#include <json-c/json.h>

#include "b64url.h"
#include "json.h"
#include "jwks_fetch.h"
#include "log.h"

/* What one process knows of one issuer. */
struct issuer_state {
	char *issuer;
	char *path;		/* the cache file */
	struct jg_jwks *keys;	/* NULL until loaded or fetched */
	char *jwks_uri;		/* as discovered (or configured) */
	int64_t fetched;	/* of the keys held, shared through the file */
	int64_t expires;
	int64_t last_attempt;	/* this process's last fetch, 0: never */
	bool have_file;		/* identity of the file last read */
	dev_t dev;
	ino_t ino;
	struct timespec mtime;
};

/* libcurl, loaded with dlopen on the first jg_jwks_fetch_new rather than
 * linked: only a gate with [issuer] sections fetches anything, and linking
 * libcurl made every start of every program load some twenty more shared
 * libraries (twice the relocations, about 2.4 MiB more resident; see
 * bench/README.md).  The names of Debian's libcurl4-gnutls-dev first. */
static const char *const curl_sonames[] = {
	"libcurl-gnutls.so.4", "libcurl.so.4"
};

struct curl_api {
	void *handle;		/* from dlopen; NULL: libcurl unavailable */
	CURLcode (*global_init)(long);
	void (*global_cleanup)(void);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	const char *(*easy_strerror)(CURLcode);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	void (*easy_cleanup)(CURL *);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
};

struct jg_jwks_fetch {
	const struct jg_config *config;
	struct curl_api curl;
	struct issuer_state *states;
	size_t nstates;
	uint64_t generation;
	unsigned requests;
};

/* A body being received, with its cap, and the Cache-Control header. */
struct download {
	char *data;
	size_t len;
	bool too_big;
	char *cache_control;
};

bool
jg_jwks_fetch_url_ok(const char *url)
{
	static const char *const loopback[] = {
		"http://127.0.0.1:", "http://127.0.0.1/", "http://[::1]:",
		"http://[::1]/", "http://localhost:", "http://localhost/"
	};
	const unsigned char *p;
	const char *host, *end;
	size_t i;
	bool ok = false;

	if (url == NULL)
		return false;
	for (p = (const unsigned char *)url; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f)
			return false;
	if (strncmp(url, "https://", 8) == 0) {
		host = url + 8;
		ok = true;
	} else {
		host = url + 7;
		for (i = 0; i < sizeof(loopback) / sizeof(loopback[0]); i++)
			if (strncmp(url, loopback[i], strlen(loopback[i])) == 0)
				ok = true;
	}
	if (!ok)
		return false;
	end = host + strcspn(host, "/?#");
	if (end == host || memchr(host, '@', (size_t)(end - host)) != NULL)
		return false;
	return true;
}

bool
jg_jwks_fetch_max_age(const char *cc, int64_t *age)
{
	const char *p = cc;
	int64_t v;

	if (cc == NULL)
		return false;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (strncasecmp(p, "no-store", 8) == 0 || strncasecmp(p, "no-cache", 8) == 0) {
			*age = 0;
			return true;
		}
		if (strncasecmp(p, "max-age=", 8) == 0) {
			p += 8;
			if (*p == '"')
				p++;
			if (!isdigit((unsigned char)*p))
				return false;
			for (v = 0; isdigit((unsigned char)*p); p++) {
				if (v > JG_JWKS_FETCH_MAX_AGE)
					continue;	/* capped below anyway */
				v = v * 10 + (*p - '0');
			}
			*age = v;
			return true;
		}
		p += strcspn(p, ",");
	}
	return false;
}

static size_t
on_body(char *ptr, size_t size, size_t nmemb, void *ctx)
{
	struct download *d = ctx;
	size_t n = size * nmemb;

	if (d->len + n > JG_JWKS_FETCH_MAX_SIZE) {
		d->too_big = true;
		return 0;	/* aborts the transfer */
	}
	d->data = jg_xrealloc(d->data, d->len + n + 1);
	memcpy(d->data + d->len, ptr, n);
	d->len += n;
	d->data[d->len] = '\0';
	return n;
}

static size_t
on_header(char *ptr, size_t size, size_t nmemb, void *ctx)
{
	struct download *d = ctx;
	size_t n = size * nmemb, len;

	if (n > 14 && strncasecmp(ptr, "cache-control:", 14) == 0) {
		len = n - 14;
		while (len > 0 && (ptr[14 + len - 1] == '\r' || ptr[14 + len - 1] == '\n'))
			len--;
		free(d->cache_control);
		d->cache_control = jg_xstrndup(ptr + 14, len);
	}
	return n;
}

/* GETs url into d.  Returns JG_OK for a 200 answer, JG_ERR_SYSTEM
 * otherwise (logged without the body). */
static enum jg_err
http_get(struct jg_jwks_fetch *f, const char *url, struct download *d)
{
	const struct curl_api *c = &f->curl;
	CURL *curl;
	CURLcode rc;
	long status = 0;
	struct curl_slist *headers = NULL;
	enum jg_err err = JG_ERR_SYSTEM;

	if (!jg_jwks_fetch_url_ok(url)) {
		jg_log(JG_LOG_WARN, "refusing to fetch %s: https required", url);
		return JG_ERR_SYSTEM;
	}
	if (c->handle == NULL) {
		jg_log(JG_LOG_WARN, "cannot fetch %s: libcurl could not be loaded", url);
		return JG_ERR_SYSTEM;
	}
	curl = c->easy_init();
	if (curl == NULL)
		return JG_ERR_SYSTEM;
	f->requests++;
	headers = c->slist_append(headers, "Accept: application/json");
	c->easy_setopt(curl, CURLOPT_URL, url);
	c->easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	c->easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	c->easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	c->easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, (long)JG_JWKS_FETCH_CONNECT_TIMEOUT);
	c->easy_setopt(curl, CURLOPT_TIMEOUT, (long)JG_JWKS_FETCH_TIMEOUT);
	c->easy_setopt(curl, CURLOPT_NOPROXY, "127.0.0.1,localhost,::1");
	c->easy_setopt(curl, CURLOPT_USERAGENT, "jwtgate/" PACKAGE_VERSION);
	c->easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	c->easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	c->easy_setopt(curl, CURLOPT_WRITEDATA, d);
	c->easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	c->easy_setopt(curl, CURLOPT_HEADERDATA, d);
	rc = c->easy_perform(curl);
	if (rc != CURLE_OK) {
		jg_log(JG_LOG_WARN, "fetching %s failed: %s%s", url,
		       c->easy_strerror(rc), d->too_big ? " (too large)" : "");
		goto out;
	}
	c->easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		jg_log(JG_LOG_WARN, "fetching %s answered status %ld", url, status);
		goto out;
	}
	if (d->data == NULL) {
		d->data = jg_xstrdup("");
		d->len = 0;
	}
	err = JG_OK;
out:
	c->slist_free_all(headers);
	c->easy_cleanup(curl);
	return err;
}

static void
download_clear(struct download *d)
{
	free(d->data);
	free(d->cache_control);
	memset(d, 0, sizeof(*d));
}

/* Sets *fp (a function pointer, size bytes) to the symbol name of handle. */
static bool
curl_symbol(void *handle, const char *name, void *fp, size_t size)
{
	void *sym = dlsym(handle, name);

	if (sym == NULL || size != sizeof(sym))
		return false;
	memcpy(fp, &sym, size);
	return true;
}

/* Loads libcurl into c and initialises it; on failure c->handle is NULL
 * (logged once: every fetch then fails). */
static void
curl_load(struct curl_api *c)
{
	void *h = NULL;
	size_t i;
	bool ok;

	memset(c, 0, sizeof(*c));
	for (i = 0; h == NULL && i < sizeof(curl_sonames) / sizeof(curl_sonames[0]); i++)
		h = dlopen(curl_sonames[i], RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		jg_log(JG_LOG_ERROR, "cannot load libcurl (%s): external issuers' keys "
		       "cannot be fetched", curl_sonames[0]);
		return;
	}
#define CURL_SYM(member, name) curl_symbol(h, name, &c->member, sizeof(c->member))
	ok = CURL_SYM(global_init, "curl_global_init") &&
	    CURL_SYM(global_cleanup, "curl_global_cleanup") &&
	    CURL_SYM(easy_init, "curl_easy_init") &&
	    CURL_SYM(easy_setopt, "curl_easy_setopt") &&
	    CURL_SYM(easy_perform, "curl_easy_perform") &&
	    CURL_SYM(easy_strerror, "curl_easy_strerror") &&
	    CURL_SYM(easy_getinfo, "curl_easy_getinfo") &&
	    CURL_SYM(easy_cleanup, "curl_easy_cleanup") &&
	    CURL_SYM(slist_append, "curl_slist_append") &&
	    CURL_SYM(slist_free_all, "curl_slist_free_all");
#undef CURL_SYM
	if (!ok || c->global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		jg_log(JG_LOG_ERROR, "cannot use libcurl: external issuers' keys "
		       "cannot be fetched");
		dlclose(h);
		memset(c, 0, sizeof(*c));
		return;
	}
	c->handle = h;
}

struct jg_jwks_fetch *
jg_jwks_fetch_new(const struct jg_config *config)
{
	struct jg_jwks_fetch *f = jg_xcalloc(1, sizeof(*f));

	curl_load(&f->curl);
	f->config = config;
	return f;
}

static void
state_clear(struct issuer_state *s)
{
	free(s->issuer);
	free(s->path);
	free(s->jwks_uri);
	jg_jwks_free(s->keys);
}

void
jg_jwks_fetch_free(struct jg_jwks_fetch *f)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->nstates; i++)
		state_clear(&f->states[i]);
	free(f->states);
	if (f->curl.handle) {
		f->curl.global_cleanup();
		dlclose(f->curl.handle);
	}
	free(f);
}

unsigned
jg_jwks_fetch_count(const struct jg_jwks_fetch *f)
{
	return f->requests;
}

static struct issuer_state *
state_for(struct jg_jwks_fetch *f, const char *issuer)
{
	struct issuer_state *s;
	unsigned char digest[32];
	char *name;
	size_t i;

	for (i = 0; i < f->nstates; i++)
		if (strcmp(f->states[i].issuer, issuer) == 0)
			return &f->states[i];
	f->states = jg_xrealloc(f->states, (f->nstates + 1) * sizeof(*f->states));
	s = &f->states[f->nstates++];
	memset(s, 0, sizeof(*s));
	s->issuer = jg_xstrdup(issuer);
	gnutls_hash_fast(GNUTLS_DIG_SHA256, issuer, strlen(issuer), digest);
	name = jg_b64url_encode(digest, sizeof(digest));
	s->path = jg_xasprintf("%s/%s.json", f->config->jwks_cache_dir, name);
	free(name);
	return s;
}

/* Replaces the keys of s; the generation changes. */
static void
set_keys(struct jg_jwks_fetch *f, struct issuer_state *s, struct jg_jwks *keys,
	 const char *jwks_uri, int64_t fetched, int64_t expires)
{
	jg_jwks_free(s->keys);
	s->keys = keys;
	if (jwks_uri != s->jwks_uri) {
		free(s->jwks_uri);
		s->jwks_uri = jwks_uri ? jg_xstrdup(jwks_uri) : NULL;
	}
	s->fetched = fetched;
	s->expires = expires;
	f->generation++;
}

/* Reads the cache file when it changed since it was last read. */
static void
load_file(struct jg_jwks_fetch *f, struct issuer_state *s)
{
	struct stat sb;
	struct json_object *obj = NULL;
	struct jg_jwks *keys = NULL;
	const char *iss = NULL, *uri = NULL, *why = NULL;
	int64_t fetched = 0, expires = 0;
	char *text = NULL;
	size_t len;

	if (stat(s->path, &sb) != 0)
		return;
	if (s->have_file && sb.st_dev == s->dev && sb.st_ino == s->ino &&
	    sb.st_mtim.tv_sec == s->mtime.tv_sec && sb.st_mtim.tv_nsec == s->mtime.tv_nsec)
		return;
	s->have_file = true;
	s->dev = sb.st_dev;
	s->ino = sb.st_ino;
	s->mtime = sb.st_mtim;
	if (jg_read_file(s->path, JG_JWKS_FETCH_MAX_SIZE * 2, &text, &len) != JG_OK)
		return;
	if (jg_json_parse_object(text, len, &obj, &why) != JG_OK ||
	    !jg_json_get_string(obj, "issuer", &iss) || strcmp(iss, s->issuer) != 0 ||
	    !jg_json_get_int64(obj, "fetched", &fetched) ||
	    !jg_json_get_int64(obj, "expires", &expires) ||
	    jg_jwks_from_json(jg_json_get(obj, "jwks"), &keys, &why) != JG_OK) {
		jg_log(JG_LOG_WARN, "ignoring the JWKS cache file %s: %s", s->path,
		       why ? why : "not a cache file");
		goto out;
	}
	if (s->keys && fetched < s->fetched) {
		/* Older than what this process fetched itself. */
		jg_jwks_free(keys);
		goto out;
	}
	(void)jg_json_get_string(obj, "jwks_uri", &uri);
	set_keys(f, s, keys, uri, fetched, expires);
out:
	json_object_put(obj);
	free(text);
}

/* Writes the cache file of s (keys already set). */
static void
save_file(struct jg_jwks_fetch *f, struct issuer_state *s)
{
	struct json_object *obj = json_object_new_object();
	struct stat sb;
	char *text;

	json_object_object_add(obj, "issuer", json_object_new_string(s->issuer));
	if (s->jwks_uri)
		json_object_object_add(obj, "jwks_uri", json_object_new_string(s->jwks_uri));
	json_object_object_add(obj, "fetched", json_object_new_int64(s->fetched));
	json_object_object_add(obj, "expires", json_object_new_int64(s->expires));
	json_object_object_add(obj, "jwks", jg_jwks_to_json(s->keys, false));
	text = jg_json_dump(obj);
	if (mkdir(f->config->jwks_cache_dir, 0755) != 0 && errno != EEXIST)
		jg_log(JG_LOG_WARN, "cannot create %s: %s", f->config->jwks_cache_dir,
		       strerror(errno));
	if (jg_write_file_atomic(s->path, text, strlen(text), 0644) != JG_OK) {
		jg_log(JG_LOG_WARN, "cannot write the JWKS cache %s: %s", s->path,
		       strerror(errno));
	} else if (stat(s->path, &sb) == 0) {
		/* Our own write needs no reading back. */
		s->have_file = true;
		s->dev = sb.st_dev;
		s->ino = sb.st_ino;
		s->mtime = sb.st_mtim;
	}
	free(text);
	json_object_put(obj);
}

/* Finds the jwks_uri of the issuer through discovery into a new string. */
static enum jg_err
discover(struct jg_jwks_fetch *f, const char *issuer, char **out)
{
	struct download d = { 0 };
	struct json_object *obj = NULL;
	const char *iss = NULL, *uri = NULL, *why = NULL;
	size_t n = strlen(issuer);
	char *url;
	enum jg_err err;

	url = jg_xasprintf("%.*s/.well-known/openid-configuration",
			   (int)(n > 0 && issuer[n - 1] == '/' ? n - 1 : n), issuer);
	err = http_get(f, url, &d);
	if (err != JG_OK)
		goto out;
	err = JG_ERR_SYSTEM;
	if (jg_json_parse_object(d.data, d.len, &obj, &why) != JG_OK) {
		jg_log(JG_LOG_WARN, "discovery of %s: %s", issuer, why);
		goto out;
	}
	if (!jg_json_get_string(obj, "issuer", &iss) || strcmp(iss, issuer) != 0) {
		jg_log(JG_LOG_WARN, "discovery of %s names another issuer", issuer);
		goto out;
	}
	if (!jg_json_get_string(obj, "jwks_uri", &uri) || !jg_jwks_fetch_url_ok(uri)) {
		jg_log(JG_LOG_WARN, "discovery of %s has no usable jwks_uri", issuer);
		goto out;
	}
	*out = jg_xstrdup(uri);
	err = JG_OK;
out:
	json_object_put(obj);
	download_clear(&d);
	free(url);
	return err;
}

static enum jg_err
fetch(struct jg_jwks_fetch *f, struct issuer_state *s,
      const struct jg_config_issuer *issuer, int64_t now)
{
	struct download d = { 0 };
	struct jg_jwks *keys = NULL;
	const char *why = NULL;
	char *uri = NULL;
	int64_t age = JG_JWKS_FETCH_DEFAULT_AGE;
	enum jg_err err;

	s->last_attempt = now;
	if (issuer->jwks_uri)
		uri = jg_xstrdup(issuer->jwks_uri);
	else if ((err = discover(f, issuer->issuer, &uri)) != JG_OK)
		goto out;
	err = http_get(f, uri, &d);
	if (err != JG_OK)
		goto out;
	if (jg_jwks_parse(d.data, d.len, &keys, &why) != JG_OK) {
		jg_log(JG_LOG_WARN, "the JWKS of %s is malformed: %s", issuer->issuer, why);
		err = JG_ERR_SYSTEM;
		goto out;
	}
	(void)jg_jwks_fetch_max_age(d.cache_control, &age);
	if (age < f->config->jwks_refresh_min_interval)
		age = f->config->jwks_refresh_min_interval;
	if (age > JG_JWKS_FETCH_MAX_AGE)
		age = JG_JWKS_FETCH_MAX_AGE;
	set_keys(f, s, keys, uri, now, now + age);
	save_file(f, s);
	jg_log(JG_LOG_INFO, "fetched %zu keys of %s", keys->count, issuer->issuer);
out:
	free(uri);
	download_clear(&d);
	return err;
}

static bool
has_kid(const struct jg_jwks *keys, const char *kid)
{
	size_t i;

	for (i = 0; i < keys->count; i++)
		if (keys->keys[i]->kid && strcmp(keys->keys[i]->kid, kid) == 0)
			return true;
	return false;
}

enum jg_err
jg_jwks_fetch_keys(struct jg_jwks_fetch *f, const struct jg_config_issuer *issuer,
		   const char *kid, int64_t now, const struct jg_jwks **keys,
		   uint64_t *generation)
{
	struct issuer_state *s = state_for(f, issuer->issuer);
	int64_t min = f->config->jwks_refresh_min_interval;
	bool want;

	load_file(f, s);
	if (s->keys == NULL)
		want = true;
	else if (now >= s->expires)
		want = true;
	else
		want = kid != NULL && !has_kid(s->keys, kid) && now - s->fetched >= min;
	if (want && (s->last_attempt == 0 || now - s->last_attempt >= min))
		(void)fetch(f, s, issuer, now);
	if (generation)
		*generation = f->generation;
	if (s->keys == NULL)
		return JG_ERR_BUSY;
	*keys = s->keys;
	return JG_OK;
}
