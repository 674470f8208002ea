/* authorize.h: the browser side of the authorization-code flow (RFC 6749
 * section 4.1, RFC 7636, RFC 9207, OpenID Connect Core 1.0 section 3.1.2,
 * OpenID Connect RP-Initiated Logout 1.0): validation of authorization
 * requests, the login form with its CSRF token and throttling, the single
 * sign-on session, consent, logout, and the page templates. */
#ifndef JG_AUTHORIZE_H
#define JG_AUTHORIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "util.h"
#include "http.h"
#include "conf.h"
#include "store.h"
#include "keyring.h"

/* What the handlers need; everything is borrowed. */
struct jg_authorize_ctx {
	const struct jg_config *config;
	struct jg_store *store;
	/* The signing keys, for id_token_hint; NULL: every hint is refused
	 * as invalid. */
	const struct jg_keyring *keyring;
};

/* Bits of the prompt parameter (OpenID Connect Core 1.0 section 3.1.2.1). */
#define JG_AUTHZ_PROMPT_NONE		0x1u
#define JG_AUTHZ_PROMPT_LOGIN		0x2u
#define JG_AUTHZ_PROMPT_CONSENT		0x4u
#define JG_AUTHZ_PROMPT_SELECT_ACCOUNT	0x8u

/* Longest template file read, in bytes. */
#define JG_AUTHZ_TEMPLATE_MAX (64 * 1024)

/* The verdict on an authorization request. */
enum jg_authz_outcome {
	JG_AUTHZ_VALID = 0,	/* go on: log in, consent, issue a code */
	JG_AUTHZ_PAGE,		/* unknown client or bad redirect URI: answer
				 * with an HTML error page (400), never a
				 * redirect */
	JG_AUTHZ_REDIRECT	/* send error back to redirect_uri */
};

/* A validated authorization request.  The const strings point into the
 * jg_params it was validated from (which must outlive it); client and
 * scope are owned and freed by jg_authz_request_clear. */
struct jg_authz_request {
	enum jg_authz_outcome outcome;
	/* When outcome is not JG_AUTHZ_VALID: the OAuth error code
	 * ("invalid_request", "unsupported_response_type", ...) and a static
	 * English description (ASCII, no quotes). */
	const char *error;
	const char *error_description;

	struct jg_client *client;	/* NULL when not known */
	const char *redirect_uri;	/* the effective redirect URI: as sent,
					 * or the only registered one */
	bool redirect_uri_sent;		/* the request named it */
	const char *state;		/* NULL when absent */
	char *scope;			/* normalised: single spaces, no
					 * duplicates; "" when absent */
	const char *nonce;
	const char *code_challenge;
	const char *code_challenge_method;
	unsigned prompt;		/* JG_AUTHZ_PROMPT_* bits */
	int64_t max_age;		/* -1 when absent */
	const char *login_hint;
	const char *id_token_hint;
};

void jg_authz_request_init(struct jg_authz_request *r);
/* Frees the client and scope and leaves r as after init.  Accepts NULL. */
void jg_authz_request_clear(struct jg_authz_request *r);

/* Validates the authorization request parameters params through the rule
 * table of authorize.c, looking the client up in st.  First the client and
 * its redirect URI: a missing or unknown client_id, a redirect_uri that is
 * malformed (not an absolute URI, a fragment, white space or control
 * bytes) or differs from every registered one (exact string comparison),
 * or is missing while the client has more than one, give JG_AUTHZ_PAGE.
 * Then everything else gives JG_AUTHZ_REDIRECT with an RFC 6749 section
 * 4.1.2.1 / OpenID Connect error code: request and request_uri
 * (request_not_supported, request_uri_not_supported), response_type
 * (missing: invalid_request; other than "code": unsupported_response_type),
 * a client not registered for authorization_code (unauthorized_client),
 * scope (a malformed list or a scope the client may not ask for:
 * invalid_scope), PKCE (code_challenge of 43 to 128 RFC 7636 unreserved
 * characters, code_challenge_method "S256" only; "plain", a method without
 * a challenge or a challenge without a method, and a public client without
 * a challenge are invalid_request), prompt (none, login, consent,
 * select_account; "none" with another value or an unknown value is
 * invalid_request), max_age (decimal digits, at most 10).  display,
 * ui_locales, claims_locales, acr_values, nonce, state, login_hint and
 * id_token_hint are taken as they are; other names are ignored.
 *
 * out must be initialised; it is filled in whatever the verdict (clear it
 * afterwards).  Returns JG_OK when a verdict was reached (see
 * out->outcome), or JG_ERR_BUSY / JG_ERR_SYSTEM when the store failed. */
enum jg_err jg_authorize_validate(struct jg_store *st,
				  const struct jg_params *params,
				  struct jg_authz_request *out);

/* Returns a new URL (caller frees): r->redirect_uri with error,
 * error_description (when not NULL), state (when r has one) and iss
 * (RFC 9207) appended to its query; NULL when the URI cannot take them. */
char *jg_authorize_error_location(const struct jg_authz_request *r,
				  const char *issuer, const char *error,
				  const char *description);

/* Returns a new URL (caller frees): r->redirect_uri with code, state (when
 * r has one) and iss appended; NULL when the URI cannot take them. */
char *jg_authorize_code_location(const struct jg_authz_request *r,
				 const char *issuer, const char *code);

/* Returns the CSP form-action source of a redirect URI: "scheme://host[:port]"
 * for http and https, "scheme:" for other schemes.  NULL when uri has no
 * scheme or the source would hold a character a CSP source may not
 * (white space, ";", ",", quotes).  Caller frees. */
char *jg_authorize_origin(const char *uri);

/* Fills a template: "{{name}}" becomes the HTML-escaped value of the pair
 * called name, "{{{name}}}" its value unescaped (only for fragments the
 * program built and escaped itself); names are ASCII letters, digits and
 * "_", with optional spaces inside the braces; a name not in vars becomes
 * "" and anything else is copied as it is.  Returns a new string (caller
 * frees). */
char *jg_authorize_render(const char *tmpl, const struct jg_kv *vars,
			  size_t nvars);

/* Answers one request of authorize.fcgi: a path ending in
 * "/oauth/authorize" (GET and POST: the authorization endpoint, the login
 * form and the consent form), or in "/oauth/logout" (GET, POST).  Other
 * paths get a 404 page, other methods (HEAD too: a GET may issue a code or
 * end a session) 405 with Allow: GET, POST.  The pages come from the
 * templates login.html, consent.html, error.html, logout.html (the logout
 * confirmation; built in when the file is missing) and signed-out.html in
 * config->templates, read on every request.  Returns JG_OK with resp
 * filled, or JG_ERR_BUSY / JG_ERR_SYSTEM (answered by the server loop). */
enum jg_err jg_authorize_handle(const struct jg_authorize_ctx *ctx,
				const struct jg_request *req,
				struct jg_response *resp);

#endif
