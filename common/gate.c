/* gate.c: bearer-token extraction and verification, the verified-token
 * cache, scope rules, and the answers of resource.fcgi. */
#include "config.h"

#include <string.h>
#include <strings.h>
#include <gnutls/crypto.h>
#include <json-c/json.h>

#include "claims.h"
#include "gate.h"
#include "json.h"
#include "jwks_fetch.h"
#include "keyring.h"
#include "log.h"

/* One verified token in the cache.  An entry is used until the token's
 * exp, and for at most revocation_check_interval after its last check:
 * then a local token's jti is looked up again, an external token is
 * verified again (its issuer's keys may have changed). */
struct cache_entry {
	bool used;
	unsigned char hash[32];		/* SHA-256 of the whole token */
	struct jg_gate_token tok;
	int64_t checked;		/* last verification or revocation check */
	uint64_t generation;		/* of the local keys when verified */
};

struct jg_gate {
	const struct jg_config *config;
	struct jg_store *store;
	struct jg_keyring *ring;	/* NULL while there is none */
	struct jg_jwks *local_keys;	/* public access-token keys of ring */
	enum jg_alg local_algs[JG_ALG_COUNT];
	size_t nlocal_algs;
	int64_t ring_checked;		/* when the keyring was last looked at */
	bool ring_checked_once;
	uint64_t generation;		/* bumped when local_keys change */
	struct jg_jwks_fetch *fetch;	/* NULL without [issuer] sections */
	struct cache_entry *cache;	/* direct-mapped, cache_size slots */
	size_t cache_size;
	struct jg_gate_stats stats;
};

/* The claims RFC 9068 section 2.2 makes required. */
static const char *const required_claims[] = {
	"iss", "exp", "aud", "sub", "client_id", "iat", "jti", NULL
};

static void
token_clear(struct jg_gate_token *t)
{
	free(t->iss);
	free(t->sub);
	free(t->client_id);
	free(t->scope);
	free(t->jti);
	memset(t, 0, sizeof(*t));
}

void
jg_gate_token_free(struct jg_gate_token *tok)
{
	if (tok == NULL)
		return;
	token_clear(tok);
	free(tok);
}

static struct jg_gate_token *
token_copy(const struct jg_gate_token *t)
{
	struct jg_gate_token *c = jg_xcalloc(1, sizeof(*c));

	c->iss = jg_xstrdup(t->iss);
	c->sub = jg_xstrdup(t->sub);
	c->client_id = jg_xstrdup(t->client_id);
	c->scope = jg_xstrdup(t->scope);
	c->jti = jg_xstrdup(t->jti);
	c->exp = t->exp;
	c->local = t->local;
	return c;
}

bool
jg_gate_scope_has(const char *scope, const char *want)
{
	size_t n = strlen(want), len;
	const char *p = scope;

	if (scope == NULL || n == 0)
		return false;
	while (*p) {
		while (*p == ' ')
			p++;
		len = strcspn(p, " ");
		if (len == n && memcmp(p, want, n) == 0)
			return true;
		p += len;
	}
	return false;
}

/* ------------------------------------------------------------ local keys */

/* Takes ring as the local keyring: its access-token keys become the
 * trusted set, their algs the allow-list. */
static void
install_ring(struct jg_gate *g, struct jg_keyring *ring)
{
	struct jg_jwks *keys = jg_jwks_new();
	struct jg_jwk *pub;
	size_t i, j;

	g->nlocal_algs = 0;
	for (i = 0; i < ring->count; i++) {
		const struct jg_keyring_key *k = &ring->keys[i];

		if (k->purpose != JG_KEY_ACCESS || (pub = jg_jwk_public(k->pub)) == NULL)
			continue;
		jg_jwks_add(keys, pub);
		for (j = 0; j < g->nlocal_algs && g->local_algs[j] != k->alg; j++)
			;
		if (j == g->nlocal_algs && g->nlocal_algs < JG_ALG_COUNT)
			g->local_algs[g->nlocal_algs++] = k->alg;
	}
	jg_keyring_free(g->ring);
	jg_jwks_free(g->local_keys);
	g->ring = ring;
	g->local_keys = keys;
	g->generation++;
	g->stats.keyring_loads++;
}

/* Loads the keyring again when its index changed; looks at most once per
 * revocation_check_interval unless force (a token named an unknown kid:
 * one stat(2) is cheap).  A failed load keeps the keys held. */
static void
refresh_ring(struct jg_gate *g, int64_t now, bool force)
{
	struct jg_keyring *ring = NULL;
	char *msg = NULL;
	enum jg_err err;

	if (!force && g->ring_checked_once &&
	    now - g->ring_checked < g->config->revocation_check_interval)
		return;
	g->ring_checked = now;
	g->ring_checked_once = true;
	if (g->ring && !jg_keyring_changed(g->ring))
		return;
	err = jg_keyring_load_public(g->config->key_dir, &ring, &msg);
	if (err == JG_OK) {
		install_ring(g, ring);
	} else if (!(err == JG_ERR_NOT_FOUND && g->ring == NULL)) {
		jg_log(JG_LOG_WARN, "keeping the keys loaded before: %s",
		       msg ? msg : jg_strerror(err));
	}
	free(msg);
}

enum jg_err
jg_gate_new(const struct jg_config *config, struct jg_store *store,
	    struct jg_gate **out, char **errmsg)
{
	struct jg_gate *g = jg_xcalloc(1, sizeof(*g));
	struct jg_keyring *ring = NULL;
	enum jg_err err;

	g->config = config;
	g->store = store;
	g->local_keys = jg_jwks_new();
	err = jg_keyring_load_public(config->key_dir, &ring, errmsg);
	if (err == JG_OK) {
		install_ring(g, ring);
	} else if (err == JG_ERR_NOT_FOUND) {
		if (errmsg) {
			free(*errmsg);
			*errmsg = NULL;
		}
	} else {
		jg_gate_free(g);
		return err;
	}
	if (config->nissuers > 0)
		g->fetch = jg_jwks_fetch_new(config);
	g->cache_size = config->verified_cache_size;
	if (g->cache_size > 0)
		g->cache = jg_xcalloc(g->cache_size, sizeof(*g->cache));
	*out = g;
	return JG_OK;
}

void
jg_gate_free(struct jg_gate *g)
{
	size_t i;

	if (g == NULL)
		return;
	for (i = 0; i < g->cache_size; i++)
		token_clear(&g->cache[i].tok);
	free(g->cache);
	jg_jwks_fetch_free(g->fetch);
	jg_jwks_free(g->local_keys);
	jg_keyring_free(g->ring);
	free(g);
}

void
jg_gate_stats(const struct jg_gate *g, struct jg_gate_stats *stats)
{
	*stats = g->stats;
}

/* ------------------------------------------------------------ extraction */

/* Records one more token found by a method; refuses a second one. */
static enum jg_err
take(char **found, char *candidate, const char **why)
{
	if (*found != NULL) {
		jg_free_secret(candidate);
		*why = "more than one method was used to send the access token";
		return JG_ERR_MALFORMED;
	}
	if (candidate[0] == '\0') {
		jg_free_secret(candidate);
		*why = "the access token is empty";
		return JG_ERR_MALFORMED;
	}
	*found = candidate;
	return JG_OK;
}

enum jg_err
jg_gate_extract(const struct jg_config *config, const struct jg_request *req,
		char **token, const char **why)
{
	struct jg_params params;
	const char *reason = NULL, *v;
	char *found = NULL, *t = NULL;
	bool dup = false;
	enum jg_err err;

	jg_params_init(&params);
	err = jg_http_bearer_token(req->authorization, &t);
	if (err == JG_ERR_MALFORMED) {
		reason = "the Authorization header is not a valid Bearer credential";
		goto out;
	}
	if (err == JG_OK && (err = take(&found, t, &reason)) != JG_OK)
		goto out;
	if (config->bearer_cookie) {
		err = jg_cookie_get(req->cookie, config->bearer_cookie, &t, &dup);
		if (err == JG_ERR_MALFORMED) {
			reason = "the access token cookie is malformed";
			goto out;
		}
		if (err == JG_OK) {
			if (dup) {
				jg_free_secret(t);
				err = JG_ERR_MALFORMED;
				reason = "the access token cookie is repeated";
				goto out;
			}
			if ((err = take(&found, t, &reason)) != JG_OK)
				goto out;
		}
	}
	if (config->bearer_form && req->role == JG_ROLE_RESPONDER &&
	    strcmp(req->method, "POST") == 0 &&
	    jg_http_media_type_is(req->content_type, "application/x-www-form-urlencoded")) {
		err = jg_request_form(req, &params, &reason);
		if (err != JG_OK)
			goto out;
		if ((v = jg_params_get(&params, "access_token")) != NULL &&
		    (err = take(&found, jg_xstrdup(v), &reason)) != JG_OK)
			goto out;
		jg_params_clear(&params);
	}
	if (config->bearer_query && req->query[0] != '\0') {
		err = jg_params_parse(req->query, strlen(req->query), &params, &reason);
		if (err != JG_OK)
			goto out;
		if ((v = jg_params_get(&params, "access_token")) != NULL &&
		    (err = take(&found, jg_xstrdup(v), &reason)) != JG_OK)
			goto out;
	}
	err = found ? JG_OK : JG_ERR_NOT_FOUND;
out:
	jg_params_clear(&params);
	if (err == JG_OK) {
		*token = found;
	} else {
		jg_free_secret(found);
		if (why)
			*why = reason;
	}
	return err;
}

/* ------------------------------------------------------------ verification */

static enum jg_err
check_revoked(struct jg_gate *g, const char *jti, const char **why)
{
	bool revoked = false;
	enum jg_err err;

	if (g->store == NULL)
		return JG_OK;
	g->stats.revocation_checks++;
	err = jg_store_jti_is_revoked(g->store, jti, &revoked);
	if (err != JG_OK) {
		*why = "the revocation list cannot be read";
		return err == JG_ERR_BUSY ? JG_ERR_BUSY : JG_ERR_SYSTEM;
	}
	if (revoked) {
		*why = "the token has been revoked";
		return JG_ERR_DENIED;
	}
	return JG_OK;
}

static bool
set_has_kid(const struct jg_jwks *keys, const char *kid)
{
	size_t i;

	for (i = 0; i < keys->count; i++)
		if (keys->keys[i]->kid && strcmp(keys->keys[i]->kid, kid) == 0)
			return true;
	return false;
}

/* Copies the string claim name into *out; false when it is not a string. */
static bool
claim_string(const struct json_object *claims, const char *name, char **out)
{
	const char *s;

	if (!jg_json_get_string(claims, name, &s))
		return false;
	*out = jg_xstrdup(s);
	return true;
}

/* Verifies a token not found in the cache into *tok. */
static enum jg_err
verify_full(struct jg_gate *g, const char *token, size_t len, int64_t now,
	    struct jg_gate_token *tok, const char **why)
{
	const struct jg_config *c = g->config;
	const struct jg_config_issuer *section = NULL;
	const struct jg_jwks *keys;
	const enum jg_alg *algs;
	struct jg_claims_policy policy;
	struct jg_jws *jws = NULL;
	struct jg_jwt *jwt = NULL;
	struct json_object *claims = NULL;
	const char *iss;
	size_t nalgs;
	enum jg_err err;
	bool local;

	memset(tok, 0, sizeof(*tok));
	/* The unverified payload only chooses whose keys to try; every claim
	 * is checked again below on the verified one. */
	err = jg_jws_decode(token, len, &jws, why);
	if (err != JG_OK)
		goto out;
	err = jg_json_parse_object((const char *)jws->payload, jws->payload_len,
				   &claims, NULL);
	if (err != JG_OK) {
		*why = "the token's claims are not a JSON object";
		goto out;
	}
	if (!jg_json_get_string(claims, "iss", &iss)) {
		err = JG_ERR_DENIED;
		*why = "the token has no iss";
		goto out;
	}
	local = strcmp(iss, c->issuer) == 0;
	if (local) {
		if (jws->kid && !set_has_kid(g->local_keys, jws->kid))
			refresh_ring(g, now, true);
		keys = g->local_keys;
		algs = g->local_algs;
		nalgs = g->nlocal_algs;
	} else if ((section = jg_config_find_issuer(c, iss)) != NULL && g->fetch) {
		err = jg_jwks_fetch_keys(g->fetch, section, jws->kid, now, &keys, NULL);
		if (err != JG_OK) {
			*why = "the issuer's keys cannot be fetched";
			goto out;
		}
		algs = section->algorithms;
		nalgs = section->nalgorithms;
	} else {
		err = JG_ERR_DENIED;
		*why = "the token's issuer is not trusted";
		goto out;
	}
	memset(&policy, 0, sizeof(policy));
	policy.now = now;
	policy.leeway = c->leeway;
	policy.iss = local ? c->issuer : section->issuer;
	policy.aud = local ? c->resource_audience : section->audience;
	policy.typ = JG_TYP_ACCESS;
	policy.required = required_claims;
	g->stats.signature_checks++;
	err = jg_jwt_verify(token, len, keys, algs, nalgs, &policy, &jwt, why);
	if (err != JG_OK)
		goto out;
	tok->local = local;
	if (!claim_string(jwt->claims, "iss", &tok->iss) ||
	    !claim_string(jwt->claims, "sub", &tok->sub) ||
	    !claim_string(jwt->claims, "client_id", &tok->client_id) ||
	    !claim_string(jwt->claims, "jti", &tok->jti) ||
	    !jg_json_get_int64(jwt->claims, "exp", &tok->exp)) {
		err = JG_ERR_DENIED;
		*why = "sub, client_id and jti must be strings";
		goto out;
	}
	if (jg_json_get(jwt->claims, "scope") == NULL) {
		tok->scope = jg_xstrdup("");
	} else if (!claim_string(jwt->claims, "scope", &tok->scope)) {
		err = JG_ERR_DENIED;
		*why = "scope must be a string";
		goto out;
	}
	if (local)
		err = check_revoked(g, tok->jti, why);
out:
	if (err != JG_OK)
		token_clear(tok);
	json_object_put(claims);
	jg_jws_free(jws);
	jg_jwt_free(jwt);
	return err;
}

/* jg_gate_verify without the copy: *ref is the verified token, either in
 * the cache (valid until the next verification on g) or new in *owned
 * (without a cache), which the caller frees. */
static enum jg_err
verify_ref(struct jg_gate *g, const char *token, int64_t now,
	   const struct jg_gate_token **ref, struct jg_gate_token **owned,
	   const char **why)
{
	struct cache_entry *e = NULL;
	struct jg_gate_token tok;
	unsigned char hash[32];
	const char *reason = NULL;
	size_t len = strlen(token);
	uint64_t slot;
	enum jg_err err;

	if (len == 0 || len > JG_JWS_MAX_TOKEN) {
		if (why)
			*why = "the token is empty or too long";
		return JG_ERR_MALFORMED;
	}
	refresh_ring(g, now, false);
	if (g->cache_size > 0) {
		gnutls_hash_fast(GNUTLS_DIG_SHA256, token, len, hash);
		memcpy(&slot, hash, sizeof(slot));
		e = &g->cache[slot % g->cache_size];
		if (e->used && memcmp(e->hash, hash, sizeof(hash)) == 0) {
			if (now < e->tok.exp && e->tok.local && e->generation == g->generation) {
				if (now - e->checked >= g->config->revocation_check_interval) {
					err = check_revoked(g, e->tok.jti, &reason);
					if (err == JG_ERR_DENIED) {
						token_clear(&e->tok);
						e->used = false;
					}
					if (err != JG_OK)
						goto out;
					e->checked = now;
				}
				g->stats.cache_hits++;
				*ref = &e->tok;
				return JG_OK;
			}
			if (now < e->tok.exp && !e->tok.local &&
			    now - e->checked < g->config->revocation_check_interval) {
				g->stats.cache_hits++;
				*ref = &e->tok;
				return JG_OK;
			}
		}
	}
	err = verify_full(g, token, len, now, &tok, &reason);
	if (err != JG_OK)
		goto out;
	if (e) {
		token_clear(&e->tok);
		e->used = true;
		memcpy(e->hash, hash, sizeof(hash));
		e->tok = tok;
		e->checked = now;
		e->generation = g->generation;
		*ref = &e->tok;
	} else {
		*owned = jg_xcalloc(1, sizeof(**owned));
		**owned = tok;
		*ref = *owned;
	}
	return JG_OK;
out:
	if (why)
		*why = reason;
	return err;
}

enum jg_err
jg_gate_verify(struct jg_gate *g, const char *token, int64_t now,
	       struct jg_gate_token **out, const char **why)
{
	const struct jg_gate_token *ref = NULL;
	struct jg_gate_token *owned = NULL;
	enum jg_err err;

	err = verify_ref(g, token, now, &ref, &owned, why);
	if (err != JG_OK)
		return err;
	*out = owned ? owned : token_copy(ref);
	return JG_OK;
}

/* ------------------------------------------------------------ answers */

/* Writes the answer for a failed verification. */
static void
answer_verify_error(struct jg_gate *g, struct jg_response *resp, enum jg_err err,
		    const char *why)
{
	const char *realm = g->config->realm;

	if (err == JG_ERR_DENIED || err == JG_ERR_MALFORMED)
		jg_http_bearer_error(resp, realm, "invalid_token", why, NULL);
	else
		jg_http_error_response(resp, JG_STYLE_BEARER,
				       err == JG_ERR_BUSY ? JG_ERR_BUSY : JG_ERR_SYSTEM,
				       realm, why);
}

/* Takes the token of req, verifies it and checks the scope rule of path
 * (may be NULL) and the scope need (may be NULL).  On success *out is the
 * verified token (in the cache: valid for this request only) and true
 * returned, and *owned (NULL or the same token) is the caller's to free;
 * otherwise resp holds the complete answer, and *absent says whether the
 * request simply had no token. */
static bool
authenticate(struct jg_gate *g, const struct jg_request *req, const char *path,
	     const char *need, const struct jg_gate_token **out,
	     struct jg_gate_token **owned, struct jg_response *resp, bool *absent)
{
	const struct jg_config *c = g->config;
	const struct jg_config_scope_rule *rule = path ? jg_config_scope_rule(c, path) : NULL;
	const struct jg_gate_token *tok = NULL;
	const char *why = NULL;
	char *token = NULL, *scopes = NULL, *tmp;
	bool missing = false;
	enum jg_err err;
	size_t i;

	*absent = false;
	err = jg_gate_extract(c, req, &token, &why);
	if (err == JG_ERR_NOT_FOUND) {
		*absent = true;
		jg_http_bearer_error(resp, c->realm, NULL, NULL, NULL);
		return false;
	}
	if (err != JG_OK) {
		jg_http_bearer_error(resp, c->realm, "invalid_request", why, NULL);
		return false;
	}
	*owned = NULL;
	err = verify_ref(g, token, req->now, &tok, owned, &why);
	jg_free_secret(token);
	if (err != JG_OK) {
		answer_verify_error(g, resp, err, why);
		return false;
	}
	if (need) {
		scopes = jg_xstrdup(need);
		missing = !jg_gate_scope_has(tok->scope, need);
	}
	for (i = 0; rule && i < rule->nscopes; i++) {
		if (!jg_gate_scope_has(tok->scope, rule->scopes[i]))
			missing = true;
		if (scopes && jg_gate_scope_has(scopes, rule->scopes[i]))
			continue;
		tmp = scopes ? jg_xasprintf("%s %s", scopes, rule->scopes[i])
			     : jg_xstrdup(rule->scopes[i]);
		free(scopes);
		scopes = tmp;
	}
	if (missing) {
		jg_http_bearer_error(resp, c->realm, "insufficient_scope",
				     "the token lacks a scope this resource requires",
				     scopes);
		free(scopes);
		jg_gate_token_free(*owned);
		*owned = NULL;
		return false;
	}
	free(scopes);
	*out = tok;
	return true;
}

/* ------------------------------------------------------------ JSON answers */

/* The answers of /api/me and userinfo are written here directly rather
 * than built as json-c objects and dumped (make bench: that was a third of
 * the allocations of a request).  The bytes are those jg_json_dump writes
 * for the same members in the same order: json-c's plain style, with "/"
 * left as it is and the other escapes of json-c 0.16. */
struct jtext {
	char *data;
	size_t len, cap;
};

/* Makes room for n more bytes and the NUL. */
static void
jt_reserve(struct jtext *t, size_t n)
{
	size_t cap;

	if (t->len + n + 1 > t->cap) {
		cap = t->cap ? t->cap : 512;
		while (cap < t->len + n + 1)
			cap *= 2;
		t->data = jg_xrealloc(t->data, cap);
		t->cap = cap;
	}
}

static void
jt_add(struct jtext *t, const char *s, size_t n)
{
	jt_reserve(t, n);
	memcpy(t->data + t->len, s, n);
	t->len += n;
	t->data[t->len] = '\0';
}

/* Appends s as a JSON string. */
static void
jt_string(struct jtext *t, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s, *run = p;
	char esc[6];
	size_t n, i, len = strlen(s);

	/* Most strings need no escape: quoted in one go. */
	for (i = 0; i < len; i++)
		if (p[i] < 0x20 || p[i] == '"' || p[i] == '\\')
			break;
	if (i == len) {
		jt_reserve(t, len + 2);
		t->data[t->len] = '"';
		memcpy(t->data + t->len + 1, s, len);
		t->data[t->len + 1 + len] = '"';
		t->len += len + 2;
		t->data[t->len] = '\0';
		return;
	}
	jt_add(t, "\"", 1);
	for (; *p; p++) {
		if (*p >= 0x20 && *p != '"' && *p != '\\')
			continue;
		jt_add(t, (const char *)run, (size_t)(p - run));
		esc[0] = '\\';
		n = 2;
		switch (*p) {
		case '"':
			esc[1] = '"';
			break;
		case '\\':
			esc[1] = '\\';
			break;
		case '\b':
			esc[1] = 'b';
			break;
		case '\f':
			esc[1] = 'f';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		default:
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[*p >> 4];
			esc[5] = hex[*p & 15];
			n = 6;
			break;
		}
		jt_add(t, esc, n);
		run = p + 1;
	}
	jt_add(t, (const char *)run, (size_t)(p - run));
	jt_add(t, "\"", 1);
}

/* Appends the name of the next member of the object being written. */
static void
jt_key(struct jtext *t, const char *name)
{
	if (t->len > 0 && t->data[t->len - 1] != '{')
		jt_add(t, ",", 1);
	jt_string(t, name);
	jt_add(t, ":", 1);
}

static void
jt_member(struct jtext *t, const char *name, const char *value)
{
	jt_key(t, name);
	jt_string(t, value);
}

/* Adds the profile claims of the scopes granted in tok (OpenID Connect
 * Core 1.0 section 5.4) from u to the object being written. */
static void
add_user_claims(struct jtext *t, const struct jg_gate_token *tok,
		const struct jg_user *u)
{
	if (jg_gate_scope_has(tok->scope, "profile")) {
		if (u->name)
			jt_member(t, "name", u->name);
		if (u->given_name)
			jt_member(t, "given_name", u->given_name);
		if (u->family_name)
			jt_member(t, "family_name", u->family_name);
	}
	if (jg_gate_scope_has(tok->scope, "email") && u->email) {
		jt_member(t, "email", u->email);
		jt_key(t, "email_verified");
		if (u->email_verified)
			jt_add(t, "true", 4);
		else
			jt_add(t, "false", 5);
	}
	if (jg_gate_scope_has(tok->scope, "phone") && u->phone_number)
		jt_member(t, "phone_number", u->phone_number);
	if (jg_gate_scope_has(tok->scope, "address") && u->address) {
		/* Section 5.1.1: an address is an object; the store keeps
		 * the formatted text. */
		jt_key(t, "address");
		jt_add(t, "{", 1);
		jt_member(t, "formatted", u->address);
		jt_add(t, "}", 1);
	}
}

/* Looks the token's subject up; writes the answer and returns false when
 * it is not an enabled user (or when required and the store fails). */
static bool
load_user(struct jg_gate *g, const struct jg_gate_token *tok, bool required,
	  struct jg_user **out, struct jg_response *resp)
{
	enum jg_err err;

	*out = NULL;
	if (g->store == NULL || !tok->local) {
		if (!required)
			return true;
		jg_http_bearer_error(resp, g->config->realm, "invalid_token",
				     "the token's subject is not a user here", NULL);
		return false;
	}
	err = jg_store_user_get_by_sub(g->store, tok->sub, out);
	if (err == JG_OK && !(*out)->disabled)
		return true;
	jg_user_free(*out);
	*out = NULL;
	if (err == JG_ERR_NOT_FOUND && !required)
		return true;
	if (err == JG_OK || err == JG_ERR_NOT_FOUND)
		jg_http_bearer_error(resp, g->config->realm, "invalid_token",
				     err == JG_OK ? "the user is disabled"
						  : "the token's subject is not a user here",
				     NULL);
	else
		jg_http_error_response(resp, JG_STYLE_BEARER,
				       err == JG_ERR_BUSY ? JG_ERR_BUSY : JG_ERR_SYSTEM,
				       g->config->realm, NULL);
	return false;
}

static void
method_not_allowed(struct jg_response *resp, const char *allow)
{
	jg_http_oauth_error(resp, 405, "invalid_request", "method not allowed");
	jg_response_set_header(resp, "Allow", allow);
}

static void
not_found(struct jg_response *resp)
{
	jg_http_oauth_error(resp, 404, "not_found", "no such resource");
}

static void
userinfo(struct jg_gate *g, const struct jg_request *req, struct jg_response *resp)
{
	const struct jg_gate_token *tok = NULL;
	struct jg_gate_token *owned = NULL;
	struct jg_user *u = NULL;
	struct jtext t = { NULL, 0, 0 };
	bool absent;

	if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "POST") != 0) {
		method_not_allowed(resp, "GET, POST, OPTIONS");
		return;
	}
	/* OpenID Connect Core 5.3: the token of an OpenID request. */
	if (!authenticate(g, req, req->path, "openid", &tok, &owned, resp, &absent))
		return;
	if (load_user(g, tok, true, &u, resp)) {
		jt_add(&t, "{", 1);
		jt_member(&t, "sub", tok->sub);
		add_user_claims(&t, tok, u);
		jt_add(&t, "}", 1);
		jg_http_json_text(resp, 200, t.data, t.len);
	}
	jg_user_free(u);
	jg_gate_token_free(owned);
}

static void
api(struct jg_gate *g, const struct jg_request *req, struct jg_response *resp)
{
	const struct jg_gate_token *tok = NULL;
	struct jg_gate_token *owned = NULL;
	struct jg_user *u = NULL;
	struct jtext t = { NULL, 0, 0 };
	bool absent;

	if (!authenticate(g, req, req->path, NULL, &tok, &owned, resp, &absent))
		return;
	if (strcmp(req->path, "/api/me") != 0) {
		not_found(resp);
		goto out;
	}
	if (strcmp(req->method, "GET") != 0) {
		method_not_allowed(resp, "GET, OPTIONS");
		goto out;
	}
	if (!load_user(g, tok, false, &u, resp))
		goto out;
	jt_add(&t, "{", 1);
	jt_member(&t, "sub", tok->sub);
	jt_member(&t, "client_id", tok->client_id);
	jt_member(&t, "scope", tok->scope);
	jt_member(&t, "iss", tok->iss);
	if (u) {
		jt_key(&t, "profile");
		jt_add(&t, "{", 1);
		add_user_claims(&t, tok, u);
		jt_add(&t, "}", 1);
	}
	jt_add(&t, "}", 1);
	jg_http_json_text(resp, 200, t.data, t.len);
out:
	jg_user_free(u);
	jg_gate_token_free(owned);
}

/* Copies the path of an X-Original-URI value (up to "?" or "#") into a
 * new string for the scope rules; NULL when it is not a clean absolute
 * path.  The value is nginx's $uri, already decoded and normalised, so it
 * is not decoded again: a "%" in it is refused, since decoding it (as an
 * encoded $request_uri would need) would make the rules judge another
 * path than the one nginx serves, and not decoding an encoded path would
 * let "%61dmin" slip past a rule for "admin".  A dotted or doubled
 * segment is refused for the same reason. */
static char *
original_path(const char *uri)
{
	size_t n = strcspn(uri, "?#");
	char *out = jg_xstrndup(uri, n);

	if (out[0] != '/' || strchr(out, '%') || strstr(out, "//") ||
	    strstr(out, "/./") || strstr(out, "/../") || strchr(out, '\\'))
		goto bad;
	if ((n >= 2 && strcmp(out + n - 2, "/.") == 0) ||
	    (n >= 3 && strcmp(out + n - 3, "/..") == 0))
		goto bad;
	return out;
bad:
	free(out);
	return NULL;
}

static void
nginx_gate(struct jg_gate *g, const struct jg_request *req, struct jg_response *resp)
{
	const char *uri = jg_request_param(req, "HTTP_X_ORIGINAL_URI");
	const struct jg_gate_token *tok = NULL;
	struct jg_gate_token *owned = NULL;
	char *path = NULL;
	bool absent;

	if (uri && (path = original_path(uri)) == NULL) {
		jg_http_bearer_error(resp, g->config->realm, "invalid_request",
				     "X-Original-URI is not a clean path", NULL);
		resp->status = 401;
		return;
	}
	if (!authenticate(g, req, path, NULL, &tok, &owned, resp, &absent)) {
		/* auth_request takes 401 and 403 as denials, anything else
		 * as a server error. */
		if (resp->status == 400)
			resp->status = 401;
		free(path);
		return;
	}
	resp->status = 204;
	jg_response_set_body(resp, "", 0);
	jg_response_set_header(resp, "X-Jwt-Sub", tok->sub);
	jg_response_set_header(resp, "X-Jwt-Scope", tok->scope);
	jg_response_set_header(resp, "X-Jwt-Client-Id", tok->client_id);
	jg_response_set_header(resp, "Cache-Control", "no-store");
	free(path);
	jg_gate_token_free(owned);
}

/* Returns true when the Accept header lists the media type (parameters
 * and white space ignored, case-insensitive); wildcards do not count. */
static bool
accept_has(const char *accept, const char *type)
{
	size_t n = strlen(type), len;
	const char *p = accept;

	if (accept == NULL)
		return false;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		len = strcspn(p, ",;");
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == n && strncasecmp(p, type, n) == 0)
			return true;
		p += strcspn(p, ",");
	}
	return false;
}

static void
authorizer(struct jg_gate *g, const struct jg_request *req, struct jg_response *resp)
{
	const struct jg_config *c = g->config;
	const struct jg_gate_token *tok = NULL;
	struct jg_gate_token *owned = NULL;
	struct jg_kv vars[4];
	size_t n = strlen(c->issuer);
	char *login;
	bool absent;

	if (!authenticate(g, req, req->path, NULL, &tok, &owned, resp, &absent)) {
		if (absent && c->authorizer_login_redirect &&
		    accept_has(req->accept, c->authorizer_html_accept)) {
			/* The issuer's front page starts the login (see the
			 * README); a browser cannot follow a 401 anywhere. */
			login = jg_xasprintf("%s%s", c->issuer,
					     n > 0 && c->issuer[n - 1] == '/' ? "" : "/");
			jg_response_clear(resp);
			jg_http_redirect(resp, 302, login);
			free(login);
		}
		return;
	}
	vars[0].name = "REMOTE_USER";
	vars[0].value = tok->sub;
	vars[1].name = "JWT_SUB";
	vars[1].value = tok->sub;
	vars[2].name = "JWT_SCOPE";
	vars[2].value = tok->scope;
	vars[3].name = "JWT_CLIENT_ID";
	vars[3].value = tok->client_id;
	if (jg_http_authorizer_allow(resp, vars, 4) != JG_OK)
		jg_http_bearer_error(resp, c->realm, "invalid_token",
				     "the token's identity cannot be passed on", NULL);
	jg_gate_token_free(owned);
}

static bool
origin_allowed(const struct jg_config *c, const char *origin)
{
	size_t i;

	if (origin == NULL)
		return false;
	for (i = 0; i < c->ncors_origin; i++)
		if (strcmp(c->cors_origin[i], origin) == 0)
			return true;
	return false;
}

/* CORS headers of an actual (not preflight) answer. */
static void
cors(const struct jg_config *c, const struct jg_request *req, struct jg_response *resp)
{
	if (c->ncors_origin == 0)
		return;
	jg_response_add_header(resp, "Vary", "Origin");
	if (!origin_allowed(c, req->origin))
		return;
	jg_response_set_header(resp, "Access-Control-Allow-Origin", req->origin);
	jg_response_set_header(resp, "Access-Control-Expose-Headers", "WWW-Authenticate");
	if (c->bearer_cookie)
		jg_response_set_header(resp, "Access-Control-Allow-Credentials", "true");
}

static void
preflight(const struct jg_config *c, const struct jg_request *req, struct jg_response *resp)
{
	resp->status = 204;
	jg_response_set_body(resp, "", 0);
	jg_response_set_header(resp, "Allow", "GET, POST, OPTIONS");
	if (c->ncors_origin == 0)
		return;
	jg_response_add_header(resp, "Vary", "Origin");
	if (!origin_allowed(c, req->origin) ||
	    jg_request_param(req, "HTTP_ACCESS_CONTROL_REQUEST_METHOD") == NULL)
		return;
	jg_response_set_header(resp, "Access-Control-Allow-Origin", req->origin);
	jg_response_set_header(resp, "Access-Control-Allow-Methods", "GET, POST");
	jg_response_set_header(resp, "Access-Control-Allow-Headers",
			       "Authorization, Content-Type");
	jg_response_set_header(resp, "Access-Control-Max-Age", "600");
	if (c->bearer_cookie)
		jg_response_set_header(resp, "Access-Control-Allow-Credentials", "true");
}

enum jg_err
jg_gate_handle(struct jg_gate *g, const struct jg_request *req,
	       struct jg_response *resp)
{
	const char *path = req->path;

	if (req->role == JG_ROLE_AUTHORIZER) {
		/* A CORS preflight never carries credentials (Fetch standard,
		 * "CORS-preflight request"), so asking it for a token would
		 * break every cross-origin call to gated content.  For an
		 * allowed origin the gate answers the preflight itself: a
		 * non-200 answer, which lighttpd's authorizer mode relays as
		 * sent, and which reveals nothing of the content. */
		if (strcmp(req->method, "OPTIONS") == 0 &&
		    origin_allowed(g->config, req->origin) &&
		    jg_request_param(req, "HTTP_ACCESS_CONTROL_REQUEST_METHOD") != NULL) {
			preflight(g->config, req, resp);
			return JG_OK;
		}
		authorizer(g, req, resp);
		/* A denial carries the CORS headers, so the calling page can
		 * read the 401 or 403; an allow does not, since the content
		 * behind answers the request and sets its own. */
		if (resp->status != 200)
			cors(g->config, req, resp);
		return JG_OK;
	}
	if (strcmp(path, "/oauth/gate") == 0) {
		nginx_gate(g, req, resp);
		return JG_OK;
	}
	if (strcmp(req->method, "OPTIONS") == 0)
		preflight(g->config, req, resp);
	else if (strcmp(path, "/oauth/userinfo") == 0)
		userinfo(g, req, resp);
	else if (strcmp(path, "/api") == 0 || strncmp(path, "/api/", 5) == 0)
		api(g, req, resp);
	else
		not_found(resp);
	if (strcmp(req->method, "OPTIONS") != 0)
		cors(g->config, req, resp);
	return JG_OK;
}
