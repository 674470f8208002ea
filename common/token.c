/* token.c: the token, revocation and introspection endpoints, client
 * authentication, JWT access and ID tokens, and the PKCE S256 check. */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "token.h"
#include "b64url.h"
#include "claims.h"
#include "json.h"
#include "log.h"
#include "oauth.h"

/* Random bytes of a jti (128 bits) and of a refresh token (256 bits). */
#define JTI_BYTES 16
#define REFRESH_BYTES 32
/* Most scope-tokens in one scope list (as the store's consent rules). */
#define SCOPE_MAX_TOKENS 64

/* Scopes that name the user or their consent; a client_credentials token
 * has no user, so it never carries them. */
static const char *const user_scopes[] = {
	"openid", "profile", "email", "address", "phone", "offline_access", NULL
};

/* Every asymmetric algorithm: the key found by kid decides which one a
 * token may use (jg_jwk_usable), HMAC is never trusted here. */
static const enum jg_alg asymmetric_algs[] = {
	JG_ALG_RS256, JG_ALG_RS384, JG_ALG_RS512,
	JG_ALG_PS256, JG_ALG_PS384, JG_ALG_PS512,
	JG_ALG_ES256, JG_ALG_ES384, JG_ALG_ES512,
	JG_ALG_EDDSA
};

/* ---------------------------------------------------------------- PKCE */

static bool
unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~';
}

bool
jg_pkce_verifier_valid(const char *verifier)
{
	size_t len, i;

	if (verifier == NULL)
		return false;
	len = strnlen(verifier, JG_PKCE_VERIFIER_MAX + 1);
	if (len < JG_PKCE_VERIFIER_MIN || len > JG_PKCE_VERIFIER_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (!unreserved((unsigned char)verifier[i]))
			return false;
	return true;
}

bool
jg_pkce_challenge_valid(const char *challenge)
{
	unsigned char digest[32];
	size_t len;

	if (challenge == NULL ||
	    strnlen(challenge, JG_PKCE_CHALLENGE_LEN + 1) != JG_PKCE_CHALLENGE_LEN)
		return false;
	/* Strict decoding also refuses non-zero unused bits, so each digest
	 * has exactly one challenge spelling. */
	return jg_b64url_decode_into(challenge, JG_PKCE_CHALLENGE_LEN, digest,
				     sizeof(digest), &len) == JG_OK &&
	       len == sizeof(digest);
}

enum jg_err
jg_pkce_s256(const char *verifier, char **challenge)
{
	unsigned char digest[32];

	if (!jg_pkce_verifier_valid(verifier) || challenge == NULL)
		return JG_ERR_MALFORMED;
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, verifier, strlen(verifier),
			     digest) < 0)
		return JG_ERR_SYSTEM;
	*challenge = jg_b64url_encode(digest, sizeof(digest));
	jg_wipe(digest, sizeof(digest));
	return JG_OK;
}

bool
jg_pkce_verify(const char *verifier, const char *challenge, const char *method)
{
	char *computed = NULL;
	bool equal;

	if (method == NULL || strcmp(method, "S256") != 0 ||
	    !jg_pkce_challenge_valid(challenge) ||
	    jg_pkce_s256(verifier, &computed) != JG_OK)
		return false;
	equal = jg_ct_equal(computed, strlen(computed), challenge,
			    strlen(challenge));
	jg_free_secret(computed);
	return equal;
}

/* ---------------------------------------------------------------- scopes */

/* Returns true when s is a scope list as RFC 6749 section 3.3 writes it:
 * scope-tokens of %x21 / %x23-5B / %x5D-7E separated by single spaces, at
 * most SCOPE_MAX_TOKENS; "" is the empty list. */
static bool
scope_valid(const char *s)
{
	size_t tokens = 0;
	bool in_token = false;
	unsigned char c;

	for (; (c = (unsigned char)*s) != '\0'; s++) {
		if (c == ' ') {
			if (!in_token)
				return false;
			in_token = false;
			continue;
		}
		if (c < 0x21 || c > 0x7e || c == '"' || c == '\\')
			return false;
		if (!in_token && ++tokens > SCOPE_MAX_TOKENS)
			return false;
		in_token = true;
	}
	return tokens == 0 || in_token;
}

/* Returns true when the space-separated list has the token name. */
static bool
scope_has(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, ' ');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == n && memcmp(p, name, n) == 0)
			return true;
		p = end ? end + 1 : NULL;
	}
	return false;
}

/* Returns true when every token of want is in have. */
static bool
scope_subset(const char *want, const char *have)
{
	char *copy = jg_xstrdup(want), *tok, *save = NULL;
	bool ok = true;

	for (tok = strtok_r(copy, " ", &save); tok != NULL && ok;
	     tok = strtok_r(NULL, " ", &save))
		ok = scope_has(have, tok);
	free(copy);
	return ok;
}

static bool
is_user_scope(const char *tok)
{
	size_t i;

	for (i = 0; user_scopes[i] != NULL; i++)
		if (strcmp(tok, user_scopes[i]) == 0)
			return true;
	return false;
}

/* Returns a new list of the tokens of list that are not user scopes. */
static char *
scope_without_user(const char *list)
{
	char *copy = jg_xstrdup(list), *tok, *save = NULL;
	char *out = jg_xstrdup(""), *next;

	for (tok = strtok_r(copy, " ", &save); tok != NULL;
	     tok = strtok_r(NULL, " ", &save)) {
		if (is_user_scope(tok))
			continue;
		next = jg_xasprintf("%s%s%s", out, *out ? " " : "", tok);
		free(out);
		out = next;
	}
	free(copy);
	return out;
}

/* ---------------------------------------------------------------- answers */

static void
oauth_error(struct jg_response *resp, int status, const char *error,
	    const char *description)
{
	jg_http_oauth_error(resp, status, error, description);
}

static void
bad_request(struct jg_response *resp, const char *error, const char *description)
{
	oauth_error(resp, 400, error, description);
}

/* RFC 6749 section 5.2: a client that tried the Authorization header gets
 * 401 with the Basic challenge; one that authenticated (or only identified
 * itself) in the form gets 400, since a 401 must carry a challenge (RFC
 * 9110 section 15.5.2) that the client did not use. */
static void
invalid_client(const struct jg_token_ctx *ctx, const struct jg_request *req,
	       struct jg_response *resp, const char *description)
{
	if (req->authorization != NULL && req->authorization[0] != '\0')
		jg_http_oauth_invalid_client(resp, ctx->config->realm, description);
	else
		oauth_error(resp, 400, "invalid_client", description);
}

/* Answers a store failure: 503 with Retry-After for a busy store, 500
 * otherwise (logged, without any request data). */
static void
store_failed(const struct jg_token_ctx *ctx, struct jg_response *resp,
	     enum jg_err err, const char *what)
{
	if (err == JG_ERR_BUSY) {
		jg_log(JG_LOG_WARN, "store busy while %s", what);
		jg_http_error_response(resp, JG_STYLE_OAUTH, JG_ERR_BUSY, NULL,
				       "the server is busy, try again");
		return;
	}
	jg_log(JG_LOG_ERROR, "store failure while %s: %s: %s", what,
	       jg_strerror(err), jg_store_errmsg(ctx->store));
	jg_http_error_response(resp, JG_STYLE_OAUTH, JG_ERR_SYSTEM, NULL,
			       "internal error");
}

static void
server_error(struct jg_response *resp, const char *why)
{
	jg_log(JG_LOG_ERROR, "token endpoint: %s", why);
	jg_http_error_response(resp, JG_STYLE_OAUTH, JG_ERR_SYSTEM, NULL,
			       "internal error");
}

/* An answer of 200 with no body and the no-store headers (RFC 7009 2.2). */
static void
empty_ok(struct jg_response *resp)
{
	resp->status = 200;
	jg_response_set_body(resp, "", 0);
	jg_response_set_header(resp, "Cache-Control", "no-store");
	jg_response_set_header(resp, "Pragma", "no-cache");
}

/* Checks the method, query and content type of req and parses its body
 * into form.  Returns true, or false after answering. */
static bool
read_form(const struct jg_request *req, struct jg_params *form,
	  struct jg_response *resp)
{
	const char *why = NULL;

	if (strcmp(req->method, "POST") != 0) {
		oauth_error(resp, 405, "invalid_request", "use POST");
		jg_response_set_header(resp, "Allow", "POST");
		return false;
	}
	/* RFC 6749 section 3.2 and 2.3.1: parameters and credentials go in
	 * the body, never in the URL (where logs keep them). */
	if (req->query[0] != '\0') {
		bad_request(resp, "invalid_request",
			    "parameters must be sent in the request body");
		return false;
	}
	if (jg_request_form(req, form, &why) != JG_OK) {
		bad_request(resp, "invalid_request",
			    why ? why : "malformed request body");
		return false;
	}
	return true;
}

/* ---------------------------------------------------------------- clients */

struct client_auth {
	struct jg_client *client;
	bool confidential;	/* authenticated with its secret */
};

static void
client_auth_clear(struct client_auth *auth)
{
	jg_client_free(auth->client);
	auth->client = NULL;
}

/* Returns true when the client's registration lists the grant type. */
static bool
client_may(const struct jg_client *client, const char *grant)
{
	return client->grant_types != NULL && scope_has(client->grant_types, grant);
}

/* Authenticates the client of a request (RFC 6749 section 2.3).  Returns
 * true with auth filled, or false after answering. */
static bool
authenticate(const struct jg_token_ctx *ctx, const struct jg_request *req,
	     const struct jg_params *form, struct client_auth *auth,
	     struct jg_response *resp)
{
	const char *form_id = jg_params_get(form, "client_id");
	const char *form_secret = jg_params_get(form, "client_secret");
	char *id = NULL, *secret = NULL;
	struct jg_client *client = NULL;
	enum jg_err err;
	bool ok = false;

	err = jg_http_basic_credentials(req->authorization, &id, &secret);
	if (err == JG_OK) {
		if (form_secret != NULL) {
			bad_request(resp, "invalid_request",
				    "use only one client authentication method");
			goto out;
		}
		if (form_id != NULL && strcmp(form_id, id) != 0) {
			invalid_client(ctx, req, resp,
				       "client_id differs from the authenticated client");
			goto out;
		}
	} else if (err == JG_ERR_MALFORMED) {
		invalid_client(ctx, req, resp, "malformed Basic credentials");
		goto out;
	} else if (req->authorization != NULL && req->authorization[0] != '\0') {
		invalid_client(ctx, req, resp,
			       "unsupported client authentication scheme");
		goto out;
	} else {
		if (form_id == NULL || form_id[0] == '\0') {
			invalid_client(ctx, req, resp, "client authentication required");
			goto out;
		}
		id = jg_xstrdup(form_id);
		if (form_secret != NULL)
			secret = jg_xstrdup(form_secret);
	}

	if (strlen(id) > JG_STORE_NAME_MAX) {
		invalid_client(ctx, req, resp, "client authentication failed");
		goto out;
	}
	err = jg_store_client_get(ctx->store, id, &client);
	if (err == JG_ERR_NOT_FOUND || err == JG_ERR_MALFORMED) {
		/* The same work as for a known client, so that timing does
		 * not tell which client ids exist. */
		if (secret != NULL)
			(void)jg_client_secret_verify(secret, strlen(secret),
				"sha256:0000000000000000000000000000000000000000000000000000000000000000");
		invalid_client(ctx, req, resp, "client authentication failed");
		goto out;
	}
	if (err != JG_OK) {
		store_failed(ctx, resp, err, "looking up a client");
		goto out;
	}
	if (client->secret_hash == NULL) {
		/* A public client is only identified; a secret it sends is a
		 * sign of confusion, refused rather than ignored. */
		if (secret != NULL && secret[0] != '\0') {
			invalid_client(ctx, req, resp, "client authentication failed");
			goto out;
		}
		auth->confidential = false;
	} else {
		if (secret == NULL ||
		    !jg_client_secret_verify(secret, strlen(secret),
					     client->secret_hash)) {
			invalid_client(ctx, req, resp, "client authentication failed");
			goto out;
		}
		auth->confidential = true;
	}
	auth->client = client;
	client = NULL;
	ok = true;
out:
	jg_client_free(client);
	free(id);
	jg_free_secret(secret);
	return ok;
}

/* ---------------------------------------------------------------- lifetimes */

static int64_t
access_lifetime(const struct jg_token_ctx *ctx, const struct jg_client *client)
{
	return client->access_token_lifetime > 0 ? client->access_token_lifetime :
	       ctx->config->access_token_lifetime;
}

static int64_t
idle_lifetime(const struct jg_token_ctx *ctx, const struct jg_client *client)
{
	return client->refresh_idle_lifetime > 0 ? client->refresh_idle_lifetime :
	       ctx->config->refresh_idle_lifetime;
}

static int64_t
absolute_lifetime(const struct jg_token_ctx *ctx, const struct jg_client *client)
{
	return client->refresh_absolute_lifetime > 0 ?
	       client->refresh_absolute_lifetime :
	       ctx->config->refresh_absolute_lifetime;
}

/* A refresh token is issued when the client is registered for the
 * refresh_token grant (its policy) or when the user granted offline_access;
 * the refresh_token grant accepts the same clients. */
static bool
may_refresh(const struct jg_client *client, const char *scope)
{
	return client_may(client, "refresh_token") ||
	       scope_has(scope, "offline_access");
}

/* ---------------------------------------------------------------- minting */

/* What one successful grant hands out. */
struct issued {
	char *access_token;
	char *jti;
	int64_t access_exp;
	int64_t expires_in;
	char *scope;
	char *refresh_token;	/* NULL when none */
	int64_t family_id;	/* 0 when none was created */
	char *id_token;		/* NULL when none */
};

static void
issued_clear(struct issued *out)
{
	jg_free_secret(out->access_token);
	jg_free_secret(out->jti);
	free(out->scope);
	jg_free_secret(out->refresh_token);
	jg_free_secret(out->id_token);
	memset(out, 0, sizeof(*out));
}

/* Signs an RFC 9068 access token for sub and scope into out.  auth_time 0
 * leaves the claim out (client_credentials: nobody logged in). */
static enum jg_err
mint_access(const struct jg_token_ctx *ctx, const struct jg_client *client,
	    const char *sub, const char *scope, int64_t auth_time, int64_t now,
	    struct issued *out)
{
	const struct jg_jwk *key = jg_keyring_current(ctx->ring, JG_KEY_ACCESS);
	struct json_object *claims;
	int64_t lifetime = access_lifetime(ctx, client);
	char *jti, *token = NULL;
	enum jg_err err;

	if (key == NULL)
		return JG_ERR_NOT_FOUND;
	jti = jg_random_token(JTI_BYTES);
	if (jti == NULL)
		return JG_ERR_SYSTEM;
	claims = json_object_new_object();
	json_object_object_add(claims, "iss", json_object_new_string(ctx->config->issuer));
	json_object_object_add(claims, "sub", json_object_new_string(sub));
	json_object_object_add(claims, "aud",
			       json_object_new_string(ctx->config->resource_audience));
	json_object_object_add(claims, "client_id",
			       json_object_new_string(client->client_id));
	json_object_object_add(claims, "iat", json_object_new_int64(now));
	json_object_object_add(claims, "exp", json_object_new_int64(now + lifetime));
	json_object_object_add(claims, "jti", json_object_new_string(jti));
	if (scope[0] != '\0')
		json_object_object_add(claims, "scope", json_object_new_string(scope));
	if (auth_time > 0)
		json_object_object_add(claims, "auth_time",
				       json_object_new_int64(auth_time));
	err = jg_jwt_sign(key, key->alg, JG_TYP_ACCESS, claims, &token);
	json_object_put(claims);
	if (err != JG_OK) {
		jg_free_secret(jti);
		return err;
	}
	out->access_token = token;
	out->jti = jti;
	out->access_exp = now + lifetime;
	out->expires_in = lifetime;
	out->scope = jg_xstrdup(scope);
	return JG_OK;
}

/* Returns the GnuTLS digest of an algorithm's hash, for at_hash (OpenID
 * Connect Core section 3.1.3.6: the hash of the ID token's alg; SHA-512 for
 * EdDSA with Ed25519). */
static gnutls_digest_algorithm_t
alg_digest(enum jg_alg alg)
{
	switch (jg_alg_hash_len(alg)) {
	case 32:
		return GNUTLS_DIG_SHA256;
	case 48:
		return GNUTLS_DIG_SHA384;
	case 64:
		return GNUTLS_DIG_SHA512;
	default:
		return GNUTLS_DIG_UNKNOWN;
	}
}

/* Signs an OpenID Connect ID token for the access token in out, into
 * out->id_token. */
static enum jg_err
mint_id(const struct jg_token_ctx *ctx, const struct jg_client *client,
	const char *sub, int64_t auth_time, const char *nonce, int64_t now,
	struct issued *out)
{
	const struct jg_jwk *key;
	enum jg_alg want = ctx->config->id_token_alg;
	unsigned char digest[64];
	struct json_object *claims;
	gnutls_digest_algorithm_t dig;
	char *at_hash, *token = NULL;
	enum jg_err err;
	size_t half;

	/* The client's own alg, else the configured one; the keyring has at
	 * most one current ID key per alg.  Without one of that alg the
	 * instance is misconfigured ('jwtgate key rotate --purpose id --alg'). */
	if (client->id_token_alg != NULL && client->id_token_alg[0] != '\0')
		want = jg_alg_from_name(client->id_token_alg);
	key = jg_keyring_current_alg(ctx->ring, JG_KEY_ID, want);
	if (key == NULL) {
		jg_log(JG_LOG_ERROR, "client %s wants ID tokens signed with %s, but "
		       "the keyring has no current ID-token key of that alg",
		       client->client_id, jg_alg_name(want) ? jg_alg_name(want) :
		       client->id_token_alg);
		return JG_ERR_NOT_FOUND;
	}
	dig = alg_digest(key->alg);
	half = jg_alg_hash_len(key->alg) / 2;
	if (dig == GNUTLS_DIG_UNKNOWN ||
	    gnutls_hash_fast(dig, out->access_token, strlen(out->access_token),
			     digest) < 0)
		return JG_ERR_SYSTEM;
	at_hash = jg_b64url_encode(digest, half);

	claims = json_object_new_object();
	json_object_object_add(claims, "iss", json_object_new_string(ctx->config->issuer));
	json_object_object_add(claims, "sub", json_object_new_string(sub));
	json_object_object_add(claims, "aud", json_object_new_string(client->client_id));
	json_object_object_add(claims, "exp",
			       json_object_new_int64(now + ctx->config->id_token_lifetime));
	json_object_object_add(claims, "iat", json_object_new_int64(now));
	json_object_object_add(claims, "auth_time", json_object_new_int64(auth_time));
	if (nonce != NULL)
		json_object_object_add(claims, "nonce", json_object_new_string(nonce));
	json_object_object_add(claims, "at_hash", json_object_new_string(at_hash));
	json_object_object_add(claims, "azp", json_object_new_string(client->client_id));
	err = jg_jwt_sign(key, key->alg, JG_TYP_ID, claims, &token);
	json_object_put(claims);
	free(at_hash);
	if (err == JG_OK)
		out->id_token = token;
	return err;
}

/* Writes the RFC 6749 section 5.1 answer for out. */
static void
answer_tokens(struct jg_response *resp, const struct issued *out)
{
	struct json_object *obj = json_object_new_object();

	json_object_object_add(obj, "access_token",
			       json_object_new_string(out->access_token));
	json_object_object_add(obj, "token_type", json_object_new_string("Bearer"));
	json_object_object_add(obj, "expires_in", json_object_new_int64(out->expires_in));
	if (out->scope[0] != '\0')
		json_object_object_add(obj, "scope", json_object_new_string(out->scope));
	if (out->refresh_token != NULL)
		json_object_object_add(obj, "refresh_token",
				       json_object_new_string(out->refresh_token));
	if (out->id_token != NULL)
		json_object_object_add(obj, "id_token",
				       json_object_new_string(out->id_token));
	jg_http_json(resp, 200, obj);
	json_object_put(obj);
}

/* Revokes what a replayed code had issued (RFC 6749 section 4.1.2, RFC 9700
 * section 4.5). */
static enum jg_err
revoke_issued(const struct jg_token_ctx *ctx, int64_t family_id,
	      const char *jti, int64_t jti_expires, int64_t now)
{
	enum jg_err err = JG_OK;

	if (family_id != 0) {
		err = jg_store_family_revoke(ctx->store, family_id, now);
		if (err == JG_ERR_NOT_FOUND)	/* purged meanwhile */
			err = JG_OK;
	}
	if (err == JG_OK && jti != NULL)
		err = jg_store_jti_revoke(ctx->store, jti, jti_expires);
	return err;
}

/* Returns true when the user sub exists and is not disabled; otherwise
 * answers (invalid_grant or a store error) and returns false. */
static bool
user_active(const struct jg_token_ctx *ctx, const char *sub,
	    struct jg_response *resp)
{
	struct jg_user *user = NULL;
	enum jg_err err = jg_store_user_get_by_sub(ctx->store, sub, &user);
	bool ok = err == JG_OK && !user->disabled;

	if (err == JG_OK || err == JG_ERR_NOT_FOUND) {
		if (!ok)
			bad_request(resp, "invalid_grant",
				    "the user no longer exists or is disabled");
	} else {
		store_failed(ctx, resp, err, "looking up a user");
	}
	jg_user_free(user);
	return ok;
}

/* ---------------------------------------------------------------- grants */

static void
grant_authorization_code(const struct jg_token_ctx *ctx,
			 const struct jg_request *req,
			 const struct jg_params *form,
			 const struct client_auth *auth,
			 struct jg_response *resp)
{
	const char *code = jg_params_get(form, "code");
	const char *redirect_uri = jg_params_get(form, "redirect_uri");
	const char *verifier = jg_params_get(form, "code_verifier");
	const struct jg_client *client = auth->client;
	struct jg_code *bound = NULL;
	struct jg_code_replay replay;
	struct issued out;
	enum jg_err err;

	memset(&replay, 0, sizeof(replay));
	memset(&out, 0, sizeof(out));
	if (!client_may(client, "authorization_code")) {
		bad_request(resp, "unauthorized_client",
			    "the client may not use the authorization_code grant");
		goto out;
	}
	if (code == NULL || code[0] == '\0') {
		bad_request(resp, "invalid_request", "code is required");
		goto out;
	}
	/* RFC 6749 section 4.1.3 requires redirect_uri exactly when the
	 * authorization request had one.  A client with exactly one
	 * registered URI may leave it out of both (section 3.1.2.3); the
	 * code records whether it was left out and the URI in effect.  A
	 * client with several URIs always sent one, so the request is
	 * refused before the code is used up. */
	if (redirect_uri == NULL && client->n_redirect_uris != 1) {
		bad_request(resp, "invalid_request", "redirect_uri is required");
		goto out;
	}
	/* A malformed verifier is refused before the code is used up. */
	if (verifier != NULL && !jg_pkce_verifier_valid(verifier)) {
		bad_request(resp, "invalid_request", "malformed code_verifier");
		goto out;
	}
	if (strlen(code) > JG_STORE_SECRET_MAX) {
		bad_request(resp, "invalid_grant", "invalid authorization code");
		goto out;
	}

	err = jg_store_code_redeem(ctx->store, code, req->now, &bound, &replay);
	if (err == JG_ERR_DENIED && replay.replayed) {
		jg_log(JG_LOG_WARN, "authorization code presented again by client "
		       "%s: revoking what it issued", client->client_id);
		err = revoke_issued(ctx, replay.family_id, replay.jti,
				    replay.jti_expires, req->now);
		if (err != JG_OK)
			store_failed(ctx, resp, err, "revoking a replayed code's tokens");
		else
			bad_request(resp, "invalid_grant",
				    "the authorization code was already used");
		goto out;
	}
	if (err == JG_ERR_DENIED) {
		bad_request(resp, "invalid_grant", "the authorization code expired");
		goto out;
	}
	if (err == JG_ERR_NOT_FOUND || err == JG_ERR_MALFORMED) {
		bad_request(resp, "invalid_grant", "invalid authorization code");
		goto out;
	}
	if (err != JG_OK) {
		store_failed(ctx, resp, err, "redeeming a code");
		goto out;
	}

	/* The code is used up now, whatever is wrong below. */
	if (strcmp(bound->client_id, client->client_id) != 0) {
		bad_request(resp, "invalid_grant",
			    "the code was issued to another client");
		goto out;
	}
	if (redirect_uri == NULL && !bound->redirect_uri_omitted) {
		bad_request(resp, "invalid_request", "redirect_uri is required: "
			    "the authorization request had one");
		goto out;
	}
	/* Left out of both: the code must still be bound to the client's
	 * one registered URI (the registration may have changed since). */
	if (redirect_uri == NULL)
		redirect_uri = client->redirect_uris[0];	/* one: see above */
	if (strcmp(bound->redirect_uri, redirect_uri) != 0) {
		bad_request(resp, "invalid_grant",
			    "redirect_uri differs from the authorization request");
		goto out;
	}
	if (bound->code_challenge != NULL) {
		if (verifier == NULL) {
			bad_request(resp, "invalid_grant", "code_verifier is required");
			goto out;
		}
		if (!jg_pkce_verify(verifier, bound->code_challenge,
				    bound->code_challenge_method)) {
			bad_request(resp, "invalid_grant",
				    "code_verifier does not match the code_challenge");
			goto out;
		}
	} else if (verifier != NULL) {
		/* RFC 9700 section 4.8.2: a verifier for a code issued without
		 * a challenge points at a downgrade attack. */
		bad_request(resp, "invalid_grant",
			    "code_verifier given for a code issued without code_challenge");
		goto out;
	} else if (!auth->confidential) {
		bad_request(resp, "invalid_grant", "public clients must use PKCE");
		goto out;
	}
	if (!user_active(ctx, bound->sub, resp))
		goto out;

	err = mint_access(ctx, client, bound->sub, bound->scope, bound->auth_time,
			  req->now, &out);
	if (err == JG_OK && scope_has(bound->scope, "openid"))
		err = mint_id(ctx, client, bound->sub, bound->auth_time,
			      bound->nonce, req->now, &out);
	if (err != JG_OK) {
		server_error(resp, "cannot sign a token");
		goto out;
	}
	if (may_refresh(client, bound->scope)) {
		out.refresh_token = jg_random_token(REFRESH_BYTES);
		if (out.refresh_token == NULL) {
			server_error(resp, "no random refresh token");
			goto out;
		}
	}
	/* The refresh family (if any) and the code's record of what it
	 * issued, in one transaction; for a code replayed meanwhile the
	 * store revokes the new family in it. */
	err = jg_store_code_issue(ctx->store, code, out.refresh_token,
				  client->client_id, bound->sub, bound->scope,
				  bound->auth_time, req->now,
				  idle_lifetime(ctx, client),
				  absolute_lifetime(ctx, client), out.jti,
				  out.access_exp, &out.family_id);
	if (err == JG_ERR_NOT_FOUND) {
		bad_request(resp, "invalid_grant",
			    "the user or client no longer exists");
		goto out;
	}
	if (err != JG_OK) {
		/* Replayed meanwhile (or the store failed): what was signed
		 * must never be handed out.  The family is revoked already
		 * (or was never stored). */
		enum jg_err rev = revoke_issued(ctx, 0, out.jti, out.access_exp,
						req->now);

		if (err == JG_ERR_DENIED)
			err = rev;
		if (err == JG_OK)
			bad_request(resp, "invalid_grant",
				    "the authorization code was already used");
		else
			store_failed(ctx, resp, err, "recording issued tokens");
		goto out;
	}
	jg_log(JG_LOG_INFO, "authorization_code grant: tokens issued to client %s",
	       client->client_id);
	answer_tokens(resp, &out);
out:
	issued_clear(&out);
	jg_code_replay_clear(&replay);
	jg_code_free(bound);
}

static void
grant_refresh_token(const struct jg_token_ctx *ctx, const struct jg_request *req,
		    const struct jg_params *form, const struct client_auth *auth,
		    struct jg_response *resp)
{
	const char *token = jg_params_get(form, "refresh_token");
	const char *scope = jg_params_get(form, "scope");
	const struct jg_client *client = auth->client;
	struct jg_refresh *cur = NULL, *rotated = NULL;
	struct issued out;
	const char *granted;
	char *fresh = NULL;
	enum jg_err err;
	bool reuse = false;

	memset(&out, 0, sizeof(out));
	if (token == NULL || token[0] == '\0') {
		bad_request(resp, "invalid_request", "refresh_token is required");
		goto out;
	}
	if (scope != NULL && scope[0] == '\0')
		scope = NULL;	/* an empty scope asks for nothing new */
	if (scope != NULL && !scope_valid(scope)) {
		bad_request(resp, "invalid_scope", "malformed scope");
		goto out;
	}
	if (strlen(token) > JG_STORE_SECRET_MAX) {
		bad_request(resp, "invalid_grant", "invalid refresh token");
		goto out;
	}
	err = jg_store_refresh_lookup(ctx->store, token, req->now, &cur);
	if (err == JG_ERR_NOT_FOUND || err == JG_ERR_MALFORMED) {
		bad_request(resp, "invalid_grant", "invalid refresh token");
		goto out;
	}
	if (err != JG_OK) {
		store_failed(ctx, resp, err, "looking up a refresh token");
		goto out;
	}
	/* Bound to its client (RFC 6749 section 6): another client's
	 * attempt changes nothing. */
	if (strcmp(cur->client_id, client->client_id) != 0) {
		bad_request(resp, "invalid_grant",
			    "the refresh token was issued to another client");
		goto out;
	}
	if (!may_refresh(client, cur->scope)) {
		bad_request(resp, "unauthorized_client",
			    "the client may not use the refresh_token grant");
		goto out;
	}
	if (scope != NULL && !scope_subset(scope, cur->scope)) {
		bad_request(resp, "invalid_scope",
			    "the scope may only narrow the granted scope");
		goto out;
	}
	/* Sign before rotating: a failure after the rotation would leave the
	 * client with a rotated token, whose next use revokes the family.  An
	 * inactive token goes on to the rotation unsigned for, which refuses
	 * it and revokes the family when it was rotated before. */
	if (cur->active) {
		if (!user_active(ctx, cur->sub, resp))
			goto out;
		granted = scope != NULL ? scope : cur->scope;
		err = mint_access(ctx, client, cur->sub, granted, cur->auth_time,
				  req->now, &out);
		if (err == JG_OK && scope_has(granted, "openid"))
			err = mint_id(ctx, client, cur->sub, cur->auth_time, NULL,
				      req->now, &out);
		if (err != JG_OK) {
			server_error(resp, "cannot sign a token");
			goto out;
		}
	}
	fresh = jg_random_token(REFRESH_BYTES);
	if (fresh == NULL) {
		server_error(resp, "no random refresh token");
		goto out;
	}
	err = jg_store_refresh_rotate(ctx->store, token, fresh, req->now,
				      idle_lifetime(ctx, client), &rotated, &reuse);
	if (err == JG_ERR_DENIED) {
		if (reuse)
			jg_log(JG_LOG_WARN, "rotated refresh token presented again "
			       "by client %s: family %" PRId64 " revoked",
			       client->client_id, cur->family_id);
		bad_request(resp, "invalid_grant", reuse ?
			    "the refresh token was already used; its grant is revoked" :
			    "the refresh token expired or was revoked");
		goto out;
	}
	if (err == JG_ERR_NOT_FOUND) {
		bad_request(resp, "invalid_grant", "invalid refresh token");
		goto out;
	}
	if (err != JG_OK) {
		store_failed(ctx, resp, err, "rotating a refresh token");
		goto out;
	}
	if (out.access_token == NULL) {
		/* Inactive at the lookup yet rotated: the store contradicts
		 * itself; hand nothing out. */
		server_error(resp, "a refresh token became active during rotation");
		goto out;
	}
	out.refresh_token = fresh;
	fresh = NULL;
	out.family_id = rotated->family_id;
	jg_log(JG_LOG_INFO, "refresh_token grant: tokens issued to client %s",
	       client->client_id);
	answer_tokens(resp, &out);
out:
	jg_free_secret(fresh);
	issued_clear(&out);
	jg_refresh_free(cur);
	jg_refresh_free(rotated);
}

static void
grant_client_credentials(const struct jg_token_ctx *ctx,
			 const struct jg_request *req,
			 const struct jg_params *form,
			 const struct client_auth *auth,
			 struct jg_response *resp)
{
	const char *scope = jg_params_get(form, "scope");
	const struct jg_client *client = auth->client;
	char *allowed = scope_without_user(client->scopes ? client->scopes : "");
	struct issued out;

	memset(&out, 0, sizeof(out));
	if (!auth->confidential) {
		bad_request(resp, "unauthorized_client",
			    "client_credentials is for confidential clients only");
		goto out;
	}
	if (!client_may(client, "client_credentials")) {
		bad_request(resp, "unauthorized_client",
			    "the client may not use the client_credentials grant");
		goto out;
	}
	if (scope != NULL && (!scope_valid(scope) || !scope_subset(scope, allowed))) {
		bad_request(resp, "invalid_scope",
			    "the scope is not allowed for this client");
		goto out;
	}
	if (mint_access(ctx, client, client->client_id, scope ? scope : allowed, 0,
			req->now, &out) != JG_OK) {
		server_error(resp, "cannot sign a token");
		goto out;
	}
	jg_log(JG_LOG_INFO, "client_credentials grant: token issued to client %s",
	       client->client_id);
	answer_tokens(resp, &out);
out:
	issued_clear(&out);
	free(allowed);
}

/* ---------------------------------------------------------------- endpoints */

enum jg_err
jg_token_endpoint(const struct jg_token_ctx *ctx, const struct jg_request *req,
		  struct jg_response *resp)
{
	struct client_auth auth = { NULL, false };
	struct jg_params form;
	const char *grant;

	jg_params_init(&form);
	if (!read_form(req, &form, resp))
		goto out;
	grant = jg_params_get(&form, "grant_type");
	if (grant == NULL || grant[0] == '\0') {
		bad_request(resp, "invalid_request", "grant_type is required");
		goto out;
	}
	if (!authenticate(ctx, req, &form, &auth, resp))
		goto out;
	if (strcmp(grant, "authorization_code") == 0)
		grant_authorization_code(ctx, req, &form, &auth, resp);
	else if (strcmp(grant, "refresh_token") == 0)
		grant_refresh_token(ctx, req, &form, &auth, resp);
	else if (strcmp(grant, "client_credentials") == 0)
		grant_client_credentials(ctx, req, &form, &auth, resp);
	else
		bad_request(resp, "unsupported_grant_type",
			    "grant_type must be authorization_code, refresh_token "
			    "or client_credentials");
out:
	client_auth_clear(&auth);
	jg_params_clear(&form);
	return JG_OK;
}

/* Verifies an access token of this server at now: signed by one of the
 * ring's access-token keys, typ at+jwt, our issuer and audience, not
 * expired.  On success *out is new (caller frees). */
static enum jg_err
verify_access(const struct jg_token_ctx *ctx, const char *token, int64_t now,
	      struct jg_jwt **out)
{
	static const char *const required[] = {
		"jti", "sub", "client_id", "iat", "exp", NULL
	};
	const struct jg_keyring_key *k;
	struct jg_claims_policy policy;
	struct jg_jwt *jwt = NULL;
	enum jg_err err;

	memset(&policy, 0, sizeof(policy));
	policy.now = now;
	policy.leeway = ctx->config->leeway;
	policy.iss = ctx->config->issuer;
	policy.aud = ctx->config->resource_audience;
	policy.typ = JG_TYP_ACCESS;
	policy.required = required;
	err = jg_jwt_verify(token, strlen(token), jg_keyring_public_set(ctx->ring),
			    asymmetric_algs,
			    sizeof(asymmetric_algs) / sizeof(asymmetric_algs[0]),
			    &policy, &jwt, NULL);
	if (err != JG_OK)
		return err;
	/* Only an access-token key vouches for an access token. */
	k = jwt->jws->kid ? jg_keyring_find(ctx->ring, jwt->jws->kid) : NULL;
	if (k == NULL || k->purpose != JG_KEY_ACCESS) {
		jg_jwt_free(jwt);
		return JG_ERR_DENIED;
	}
	*out = jwt;
	return JG_OK;
}

/* Returns true when token looks like a JWS (an access token) rather than
 * an opaque refresh token, which has no dots. */
static bool
looks_like_jwt(const char *token)
{
	return strchr(token, '.') != NULL;
}

enum jg_err
jg_token_revoke(const struct jg_token_ctx *ctx, const struct jg_request *req,
		struct jg_response *resp)
{
	struct client_auth auth = { NULL, false };
	struct jg_refresh *refresh = NULL;
	struct jg_jwt *jwt = NULL;
	struct jg_params form;
	const char *token, *jti, *cid;
	int64_t exp;
	enum jg_err err;

	jg_params_init(&form);
	if (!read_form(req, &form, resp) ||
	    !authenticate(ctx, req, &form, &auth, resp))
		goto out;
	token = jg_params_get(&form, "token");
	if (token == NULL || token[0] == '\0') {
		bad_request(resp, "invalid_request", "token is required");
		goto out;
	}
	/* token_type_hint is only a hint (RFC 7009 section 2.1): the form of
	 * the token tells the two kinds apart. */
	if (looks_like_jwt(token)) {
		if (verify_access(ctx, token, req->now, &jwt) == JG_OK &&
		    jg_json_get_string(jwt->claims, "client_id", &cid) &&
		    strcmp(cid, auth.client->client_id) == 0 &&
		    jg_json_get_string(jwt->claims, "jti", &jti) &&
		    jg_json_get_int64(jwt->claims, "exp", &exp)) {
			err = jg_store_jti_revoke(ctx->store, jti, exp);
			if (err != JG_OK) {
				store_failed(ctx, resp, err, "revoking an access token");
				goto out;
			}
			jg_log(JG_LOG_INFO, "access token of client %s revoked",
			       auth.client->client_id);
		}
	} else if (strlen(token) <= JG_STORE_SECRET_MAX) {
		err = jg_store_refresh_lookup(ctx->store, token, req->now, &refresh);
		if (err == JG_OK &&
		    strcmp(refresh->client_id, auth.client->client_id) == 0) {
			err = jg_store_family_revoke(ctx->store, refresh->family_id,
						     req->now);
			if (err == JG_OK)
				jg_log(JG_LOG_INFO, "refresh family %" PRId64
				       " of client %s revoked", refresh->family_id,
				       auth.client->client_id);
		}
		if (err != JG_OK && err != JG_ERR_NOT_FOUND &&
		    err != JG_ERR_MALFORMED) {
			store_failed(ctx, resp, err, "revoking a refresh token");
			goto out;
		}
	}
	/* Unknown tokens, and tokens of other clients, answer 200 as well:
	 * the caller learns nothing about tokens that are not its own. */
	empty_ok(resp);
out:
	jg_jwt_free(jwt);
	jg_refresh_free(refresh);
	client_auth_clear(&auth);
	jg_params_clear(&form);
	return JG_OK;
}

static void
add_string(struct json_object *obj, const char *name, const char *value)
{
	json_object_object_add(obj, name, json_object_new_string(value));
}

enum jg_err
jg_token_introspect(const struct jg_token_ctx *ctx, const struct jg_request *req,
		    struct jg_response *resp)
{
	static const char *const copied[] = {
		"scope", "client_id", "sub", "iss", "aud", "jti", NULL
	};
	static const char *const times[] = { "exp", "iat", NULL };
	struct client_auth auth = { NULL, false };
	struct jg_refresh *refresh = NULL;
	struct json_object *obj = NULL, *v;
	struct jg_jwt *jwt = NULL;
	struct jg_params form;
	const char *token, *jti = NULL;
	int64_t exp = 0;
	enum jg_err err;
	bool revoked = true;
	size_t i;

	jg_params_init(&form);
	if (!read_form(req, &form, resp) ||
	    !authenticate(ctx, req, &form, &auth, resp))
		goto out;
	if (!auth.confidential) {
		invalid_client(ctx, req, resp,
			       "introspection needs an authenticated confidential client");
		goto out;
	}
	token = jg_params_get(&form, "token");
	if (token == NULL || token[0] == '\0') {
		bad_request(resp, "invalid_request", "token is required");
		goto out;
	}
	obj = json_object_new_object();
	if (looks_like_jwt(token)) {
		/* The leeway of verify_access is for other clocks; this
		 * server's own clock decides here, so a token is inactive
		 * from its exp on (RFC 7519 section 4.1.4). */
		if (verify_access(ctx, token, req->now, &jwt) == JG_OK &&
		    jg_json_get_int64(jwt->claims, "exp", &exp) && req->now < exp &&
		    jg_json_get_string(jwt->claims, "jti", &jti)) {
			err = jg_store_jti_is_revoked(ctx->store, jti, &revoked);
			if (err != JG_OK) {
				store_failed(ctx, resp, err, "checking a jti");
				goto out;
			}
		}
		if (jwt != NULL && !revoked) {
			json_object_object_add(obj, "active", json_object_new_boolean(1));
			for (i = 0; copied[i] != NULL; i++) {
				v = jg_json_get(jwt->claims, copied[i]);
				if (v != NULL)
					json_object_object_add(obj, copied[i],
							       json_object_get(v));
			}
			for (i = 0; times[i] != NULL; i++) {
				v = jg_json_get(jwt->claims, times[i]);
				if (v != NULL)
					json_object_object_add(obj, times[i],
							       json_object_get(v));
			}
			add_string(obj, "token_type", "Bearer");
		}
	} else if (strlen(token) <= JG_STORE_SECRET_MAX) {
		err = jg_store_refresh_lookup(ctx->store, token, req->now, &refresh);
		if (err != JG_OK && err != JG_ERR_NOT_FOUND &&
		    err != JG_ERR_MALFORMED) {
			store_failed(ctx, resp, err, "looking up a refresh token");
			goto out;
		}
		/* A refresh token is only of interest to its own client. */
		if (err == JG_OK && refresh->active &&
		    strcmp(refresh->client_id, auth.client->client_id) == 0) {
			json_object_object_add(obj, "active", json_object_new_boolean(1));
			add_string(obj, "scope", refresh->scope);
			add_string(obj, "client_id", refresh->client_id);
			add_string(obj, "sub", refresh->sub);
			/* It stops working at its idle expiry or its family's
			 * absolute one, whichever comes first. */
			json_object_object_add(obj, "exp", json_object_new_int64(
				refresh->idle_expires < refresh->absolute_expires ?
				refresh->idle_expires : refresh->absolute_expires));
			json_object_object_add(obj, "iat",
					       json_object_new_int64(refresh->created));
			add_string(obj, "iss", ctx->config->issuer);
			/* A refresh token is presented to the issuer only. */
			add_string(obj, "aud", ctx->config->issuer);
			add_string(obj, "token_type", "refresh_token");
		}
	}
	if (jg_json_get(obj, "active") == NULL)
		json_object_object_add(obj, "active", json_object_new_boolean(0));
	jg_http_json(resp, 200, obj);
out:
	json_object_put(obj);
	jg_jwt_free(jwt);
	jg_refresh_free(refresh);
	client_auth_clear(&auth);
	jg_params_clear(&form);
	return JG_OK;
}

enum jg_err
jg_token_handle(const struct jg_token_ctx *ctx, const struct jg_request *req,
		struct jg_response *resp)
{
	if (strcmp(req->path, JG_TOKEN_PATH) == 0)
		return jg_token_endpoint(ctx, req, resp);
	if (strcmp(req->path, JG_REVOKE_PATH) == 0)
		return jg_token_revoke(ctx, req, resp);
	if (strcmp(req->path, JG_INTROSPECT_PATH) == 0)
		return jg_token_introspect(ctx, req, resp);
	jg_http_status_response(resp, JG_STYLE_OAUTH, 404, "no such endpoint");
	return JG_OK;
}

bool
jg_token_reload_keyring(struct jg_token_ctx *ctx)
{
	struct jg_keyring *ring = NULL;
	char *errmsg = NULL;

	if (ctx->ring != NULL && !jg_keyring_changed(ctx->ring))
		return false;
	if (jg_keyring_load(ctx->config->key_dir, &ring, &errmsg) != JG_OK) {
		jg_log(JG_LOG_ERROR, "cannot reload the keyring, keeping the old "
		       "one: %s", errmsg ? errmsg : "unknown error");
		free(errmsg);
		return false;
	}
	jg_keyring_free(ctx->ring);
	ctx->ring = ring;
	return true;
}
