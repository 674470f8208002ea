/* gate.h: the resource side of jwtgate (RFC 6750, RFC 9068 section 4):
 * taking the access token out of a request, verifying it against the
 * issuers the configuration trusts, the per-process cache of verified
 * tokens, scope rules, and the answers of resource.fcgi: /oauth/userinfo,
 * /api/..., the nginx auth_request endpoint /oauth/gate and the FastCGI
 * AUTHORIZER role. */
#ifndef JG_GATE_H
#define JG_GATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "util.h"
#include "conf.h"
#include "http.h"
#include "store.h"

/* The identity a verified access token carries.  Strings are owned. */
struct jg_gate_token {
	char *iss;
	char *sub;
	char *client_id;
	char *scope;		/* space-separated; "" when the token has none */
	char *jti;
	int64_t exp;
	bool local;		/* signed by this jwtgate's own keyring */
};

/* Frees a token and its strings.  Accepts NULL. */
void jg_gate_token_free(struct jg_gate_token *tok);

/* Counters for tests and benchmarks. */
struct jg_gate_stats {
	unsigned long signature_checks;	/* full verifications run */
	unsigned long cache_hits;	/* tokens answered from the cache */
	unsigned long revocation_checks; /* store lookups of a jti */
	unsigned long keyring_loads;	/* local keyring (re)loaded */
};

struct jg_gate;

/* Returns a new gate for config (which must outlive it).  store (borrowed,
 * may be NULL: no revocation list and no userinfo) is used for revoked
 * jtis and user profiles.  The local keyring is loaded from
 * config->key_dir; a missing keyring is not an error (the gate trusts only
 * the external issuers until one appears).  On failure (a keyring that
 * exists but cannot be read) *errmsg receives a new message (caller
 * frees). */
enum jg_err jg_gate_new(const struct jg_config *config, struct jg_store *store,
			struct jg_gate **out, char **errmsg);

/* Frees the gate, its cache and keys.  Accepts NULL. */
void jg_gate_free(struct jg_gate *gate);

/* Takes the access token out of req under config's rules:
 *   - "Authorization: Bearer" (scheme case-insensitive, RFC 6750 2.1);
 *   - the cookie config->bearer_cookie, when set (a repeated cookie is
 *     refused: cookie tossing);
 *   - the form body field access_token (RFC 6750 2.2) when
 *     config->bearer_form, the method is POST and the body is
 *     application/x-www-form-urlencoded (never in the authorizer role,
 *     which has no body);
 *   - the query parameter access_token (RFC 6750 2.3) when
 *     config->bearer_query.
 * On success *token is a new string (free with jg_free_secret).  Returns
 * JG_ERR_NOT_FOUND when the request carries no token at all, and
 * JG_ERR_MALFORMED with a static reason in *why (may be NULL) for a
 * malformed header, cookie, form or query, or when more than one of the
 * methods is used (RFC 6750 section 2: invalid_request). */
enum jg_err jg_gate_extract(const struct jg_config *config,
			    const struct jg_request *req, char **token,
			    const char **why);

/* Verifies an access token at now (RFC 9068 section 4): header typ
 * "at+jwt"; iss exactly the configured issuer (then the keyring's access
 * keys and their algs, and aud must hold resource_audience) or an
 * [issuer URL] section (its JWKS through jwks_fetch, its algorithms and
 * audience); exp, nbf, iat with the configured leeway; iss, sub, aud,
 * client_id, iat, exp and jti present, "scope" a string when present.  A
 * token of the local issuer whose jti is revoked is refused.  Verified
 * tokens are kept in the gate's cache, keyed by the SHA-256 of the whole
 * token, until their exp, and are checked against the revocation list
 * again once per revocation_check_interval.
 *
 * On success *out is new (caller frees with jg_gate_token_free).  Returns
 * JG_ERR_DENIED or JG_ERR_MALFORMED (answer invalid_token) with a static
 * reason in *why, JG_ERR_BUSY when the store is locked or an external
 * issuer's keys cannot be had (answer 503), JG_ERR_SYSTEM otherwise. */
enum jg_err jg_gate_verify(struct jg_gate *gate, const char *token, int64_t now,
			   struct jg_gate_token **out, const char **why);

/* Returns true when the space-separated scope list holds want exactly. */
bool jg_gate_scope_has(const char *scope, const char *want);

/* Answers one request of resource.fcgi (see README "Protected resources
 * and the gate"):
 *   - the AUTHORIZER role: 200 with Variable-REMOTE_USER, Variable-JWT_SUB,
 *     Variable-JWT_SCOPE, Variable-JWT_CLIENT_ID for a valid token that
 *     satisfies the scope rule of the path; an RFC 6750 answer otherwise,
 *     or a 302 to the issuer URL for a browser navigation without a token
 *     (authorizer_login_redirect, Accept with authorizer_html_accept);
 *   - GET/POST /oauth/userinfo (scope openid): sub and the claims of the
 *     granted scopes (OpenID Connect Core 5.4) from the store;
 *   - GET /api/me: the token's sub, client_id, scope and iss plus the
 *     user's profile claims; other /api paths 404 (after the token);
 *   - /oauth/gate for nginx auth_request: 204 with X-Jwt-Sub,
 *     X-Jwt-Scope, X-Jwt-Client-Id, or 401/403 (a malformed request is a
 *     401 with error="invalid_request", since auth_request takes only 401
 *     and 403 as denials); the scope rule of the path in the
 *     X-Original-URI request header applies;
 *   - OPTIONS: CORS preflight for config->cors_origin; every other answer
 *     to an allowed Origin gets Access-Control-Allow-Origin and
 *     Vary: Origin.
 * Always returns JG_OK with resp complete. */
enum jg_err jg_gate_handle(struct jg_gate *gate, const struct jg_request *req,
			   struct jg_response *resp);

/* Copies the gate's counters into *stats. */
void jg_gate_stats(const struct jg_gate *gate, struct jg_gate_stats *stats);

#endif
