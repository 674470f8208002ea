/* token.h: the back channel of the authorization server: the token
 * endpoint (authorization_code with PKCE, refresh_token with rotation,
 * client_credentials), client authentication, JWT access tokens (RFC 9068)
 * and ID tokens (OpenID Connect Core), revocation (RFC 7009) and
 * introspection (RFC 7662); and the PKCE S256 check (RFC 7636). */
#ifndef JG_TOKEN_H
#define JG_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "util.h"
#include "conf.h"
#include "http.h"
#include "keyring.h"
#include "store.h"

/* Default paths of the three endpoints. */
#define JG_TOKEN_PATH "/oauth/token"
#define JG_REVOKE_PATH "/oauth/revoke"
#define JG_INTROSPECT_PATH "/oauth/introspect"

/* Shortest and longest PKCE code verifier (RFC 7636 section 4.1), and the
 * length of an S256 code challenge (43 base64url characters). */
#define JG_PKCE_VERIFIER_MIN 43
#define JG_PKCE_VERIFIER_MAX 128
#define JG_PKCE_CHALLENGE_LEN 43

/* ---------------------------------------------------------------- PKCE */

/* Returns true when verifier is a valid RFC 7636 code_verifier: 43 to 128
 * characters of ALPHA DIGIT "-" "." "_" "~".  false for NULL. */
bool jg_pkce_verifier_valid(const char *verifier);

/* Returns true when challenge is a well-formed S256 code_challenge: exactly
 * 43 base64url characters (a SHA-256 digest without padding).  false for
 * NULL. */
bool jg_pkce_challenge_valid(const char *challenge);

/* Computes the S256 challenge of a verifier, BASE64URL(SHA256(verifier))
 * (RFC 7636 section 4.2).  On success *challenge is a new string (caller
 * frees) and JG_OK is returned; JG_ERR_MALFORMED when the verifier is not
 * valid, JG_ERR_SYSTEM when hashing fails. */
enum jg_err jg_pkce_s256(const char *verifier, char **challenge);

/* Checks a code_verifier against the challenge stored with a code
 * (RFC 7636 section 4.6).  method must be "S256" (plain is never
 * accepted).  The challenges are compared in constant time.  Returns true
 * only when every argument is well formed and the verifier matches. */
bool jg_pkce_verify(const char *verifier, const char *challenge,
		    const char *method);

/* ---------------------------------------------------------------- endpoints */

/* What the endpoints work with.  Everything is borrowed: the program owns
 * the configuration, the store handle and the keyring, and may replace
 * ring between requests (see jg_token_reload_keyring). */
struct jg_token_ctx {
	const struct jg_config *config;
	struct jg_store *store;
	struct jg_keyring *ring;
};

/* Loads the keyring again when its index changed on disk
 * (jg_keyring_changed), replacing ctx->ring (the old ring is freed).  When
 * loading fails the old ring is kept and the failure logged.  Returns true
 * when ctx->ring was replaced. */
bool jg_token_reload_keyring(struct jg_token_ctx *ctx);

/*
 * Every handler below answers the request completely in resp and returns
 * JG_OK (the server loop then writes resp), also for errors: RFC 6749
 * section 5.2 JSON through jg_http_oauth_error, invalid_client as 401 with
 * "WWW-Authenticate: Basic" (jg_http_oauth_invalid_client), a busy store as
 * 503 with Retry-After (jg_http_error_response).  Successful answers carry
 * "Cache-Control: no-store" and "Pragma: no-cache".  Only POST with an
 * application/x-www-form-urlencoded body and an empty query string is
 * accepted: another method gets 405 with "Allow: POST", another body 400
 * invalid_request.  The time is req->now.
 *
 * Client authentication (RFC 6749 section 2.3): client_secret_basic (the
 * Authorization header, id and secret form-url-decoded), client_secret_post
 * (client_id and client_secret in the body) or, for a public client (no
 * stored secret), client_id alone.  One method per request.
 */

/* POST /oauth/token: the grants authorization_code (RFC 6749 section 4.1.3
 * with RFC 7636), refresh_token (section 6, rotated on every use) and
 * client_credentials (section 4.4). */
enum jg_err jg_token_endpoint(const struct jg_token_ctx *ctx,
			      const struct jg_request *req,
			      struct jg_response *resp);

/* POST /oauth/revoke (RFC 7009): a refresh token revokes its family, an
 * access token goes on the deny list (only tokens issued to the calling
 * client); any other token, unknown ones included, still answers 200. */
enum jg_err jg_token_revoke(const struct jg_token_ctx *ctx,
			    const struct jg_request *req,
			    struct jg_response *resp);

/* POST /oauth/introspect (RFC 7662): the caller must authenticate as a
 * confidential client.  An active access or refresh token answers
 * {"active":true, ...}; anything else exactly {"active":false}. */
enum jg_err jg_token_introspect(const struct jg_token_ctx *ctx,
				const struct jg_request *req,
				struct jg_response *resp);

/* Dispatches on req->path to the three handlers above; any other path gets
 * 404 with an invalid_request JSON body.  Returns JG_OK. */
enum jg_err jg_token_handle(const struct jg_token_ctx *ctx,
			    const struct jg_request *req,
			    struct jg_response *resp);

#endif
