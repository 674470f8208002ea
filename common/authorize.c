/* authorize.c: the authorization endpoint, login and consent forms, SSO
 * session, logout and page templates of authorize.fcgi. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "authorize.h"
#include "b64url.h"
#include "claims.h"
#include "json.h"
#include "jws.h"
#include "log.h"
#include "password.h"
#include "token.h"

/* The browser's CSRF key cookie (the "__Host-" prefix is added over https
 * by jg_http_set_cookie). */
#define CSRF_COOKIE "jg_csrf"
#define CSRF_COOKIE_HOST "__Host-jg_csrf"
/* Form fields of our own pages; none collides with an OAuth parameter. */
#define F_ACTION "jg_action"
#define F_CSRF "jg_csrf"
#define F_USERNAME "username"
#define F_PASSWORD "password"
/* Longest user name looked up; longer ones fail like a wrong password. */
#define USERNAME_MAX 256
/* The same words for an unknown user, a wrong password and a disabled
 * account, so the page does not tell which. */
#define LOGIN_FAILED "The user name or password is incorrect."

/* ------------------------------------------------------------ buffers */

struct sbuf {
	char *p;
	size_t len, cap;
};

static void
sbuf_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap < b->len + n + 1)
			cap *= 2;
		b->p = jg_xrealloc(b->p, cap);
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
sbuf_str(struct sbuf *b, const char *s)
{
	sbuf_add(b, s, strlen(s));
}

static void
sbuf_escaped(struct sbuf *b, const char *s)
{
	char *e = jg_html_escape(s);

	sbuf_str(b, e);
	free(e);
}

/* Returns the text (never NULL; caller frees). */
static char *
sbuf_finish(struct sbuf *b)
{
	if (b->p == NULL)
		return jg_xstrdup("");
	return b->p;
}

/* ------------------------------------------------------------ the request */

void
jg_authz_request_init(struct jg_authz_request *r)
{
	memset(r, 0, sizeof(*r));
	r->max_age = -1;
}

void
jg_authz_request_clear(struct jg_authz_request *r)
{
	if (r == NULL)
		return;
	jg_client_free(r->client);
	free(r->scope);
	jg_authz_request_init(r);
}

/* RFC 6749 section 3.3 scope-token characters. */
static bool
is_scope_char(unsigned char c)
{
	return c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e);
}

/* Returns true when the space-separated list has tok. */
static bool
list_has(const char *list, const char *tok, size_t toklen)
{
	const char *p = list;

	while (p && *p) {
		size_t n;

		while (*p == ' ')
			p++;
		n = strcspn(p, " ");
		if (n == toklen && memcmp(p, tok, n) == 0)
			return true;
		p += n;
	}
	return false;
}

static bool
check_response_type(const char *v, struct jg_authz_request *r, const char **why)
{
	(void)r;
	*why = "only response_type=code is supported";
	return strcmp(v, "code") == 0;
}

/* Normalises the scope list: tokens separated by single spaces, duplicates
 * dropped, each one allowed to the client. */
static bool
check_scope(const char *v, struct jg_authz_request *r, const char **why)
{
	struct sbuf b = { NULL, 0, 0 };
	const char *p = v;
	size_t count = 0;

	while (*p) {
		size_t n, i;

		if (*p == ' ') {
			p++;
			continue;
		}
		n = strcspn(p, " ");
		for (i = 0; i < n; i++)
			if (!is_scope_char((unsigned char)p[i])) {
				*why = "scope holds a character RFC 6749 does not allow";
				goto fail;
			}
		if (!list_has(r->client->scopes, p, n)) {
			*why = "the client may not ask for this scope";
			goto fail;
		}
		if (!list_has(b.p, p, n)) {
			if (++count > 64) {
				*why = "too many scopes";
				goto fail;
			}
			if (b.len)
				sbuf_add(&b, " ", 1);
			sbuf_add(&b, p, n);
		}
		p += n;
	}
	free(r->scope);
	r->scope = sbuf_finish(&b);
	return true;
fail:
	free(b.p);
	return false;
}

/* Only S256 is offered, so a challenge is BASE64URL(SHA256(verifier)):
 * exactly 43 characters (RFC 7636 section 4.2), the rule the token
 * endpoint applies too.  A longer one could never match a verifier. */
static bool
check_code_challenge(const char *v, struct jg_authz_request *r, const char **why)
{
	*why = "code_challenge must be an S256 challenge: 43 base64url characters";
	if (!jg_pkce_challenge_valid(v))
		return false;
	r->code_challenge = v;
	return true;
}

static bool
check_code_challenge_method(const char *v, struct jg_authz_request *r,
			    const char **why)
{
	*why = "code_challenge_method must be S256";
	if (strcmp(v, "S256") != 0)
		return false;
	r->code_challenge_method = v;
	return true;
}

static bool
check_prompt(const char *v, struct jg_authz_request *r, const char **why)
{
	static const struct {
		const char *name;
		unsigned bit;
	} values[] = {
		{ "none", JG_AUTHZ_PROMPT_NONE },
		{ "login", JG_AUTHZ_PROMPT_LOGIN },
		{ "consent", JG_AUTHZ_PROMPT_CONSENT },
		{ "select_account", JG_AUTHZ_PROMPT_SELECT_ACCOUNT },
	};
	const char *p = v;
	unsigned bits = 0;

	while (*p) {
		size_t n, i;

		if (*p == ' ') {
			p++;
			continue;
		}
		n = strcspn(p, " ");
		for (i = 0; i < sizeof(values) / sizeof(values[0]); i++)
			if (strlen(values[i].name) == n &&
			    memcmp(values[i].name, p, n) == 0)
				break;
		if (i == sizeof(values) / sizeof(values[0])) {
			*why = "prompt has an unknown value";
			return false;
		}
		bits |= values[i].bit;
		p += n;
	}
	if ((bits & JG_AUTHZ_PROMPT_NONE) && bits != JG_AUTHZ_PROMPT_NONE) {
		*why = "prompt=none cannot be combined with another value";
		return false;
	}
	r->prompt = bits;
	return true;
}

static bool
check_max_age(const char *v, struct jg_authz_request *r, const char **why)
{
	size_t n = strlen(v), i;
	int64_t x = 0;

	*why = "max_age must be a whole number of seconds";
	if (n == 0 || n > 10)
		return false;
	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return false;
		x = x * 10 + (v[i] - '0');
	}
	r->max_age = x;
	return true;
}

static bool
take_nonce(const char *v, struct jg_authz_request *r, const char **why)
{
	(void)why;
	r->nonce = v;
	return true;
}

static bool
take_login_hint(const char *v, struct jg_authz_request *r, const char **why)
{
	(void)why;
	r->login_hint = v;
	return true;
}

static bool
take_id_token_hint(const char *v, struct jg_authz_request *r, const char **why)
{
	*why = "id_token_hint is too long";
	if (strlen(v) > JG_JWS_MAX_TOKEN)
		return false;
	r->id_token_hint = v;
	return true;
}

/* Accepted without effect (OpenID Connect Core 1.0 section 3.1.2.1). */
static bool
take_ignored(const char *v, struct jg_authz_request *r, const char **why)
{
	(void)v;
	(void)r;
	(void)why;
	return true;
}

/* The rule table: every parameter of an authorization request jwtgate
 * understands, in the order it is checked.  Rows without check are
 * handled before the table runs (client_id, redirect_uri, state, and the
 * refused request objects); response_type is required and checked
 * separately when missing.  The names also list what the login and
 * consent forms carry along as hidden fields, and what their CSRF token
 * covers. */
static const struct rule {
	const char *name;
	bool (*check)(const char *value, struct jg_authz_request *r,
		      const char **why);
	const char *error;
} rules[] = {
	{ "client_id", NULL, NULL },
	{ "redirect_uri", NULL, NULL },
	{ "state", NULL, NULL },
	{ "response_type", check_response_type, "unsupported_response_type" },
	{ "scope", check_scope, "invalid_scope" },
	{ "code_challenge", check_code_challenge, "invalid_request" },
	{ "code_challenge_method", check_code_challenge_method, "invalid_request" },
	{ "prompt", check_prompt, "invalid_request" },
	{ "max_age", check_max_age, "invalid_request" },
	{ "nonce", take_nonce, "invalid_request" },
	{ "login_hint", take_login_hint, "invalid_request" },
	{ "id_token_hint", take_id_token_hint, "invalid_request" },
	{ "display", take_ignored, "invalid_request" },
	{ "ui_locales", take_ignored, "invalid_request" },
	{ "claims_locales", take_ignored, "invalid_request" },
	{ "acr_values", take_ignored, "invalid_request" },
};
#define NRULES (sizeof(rules) / sizeof(rules[0]))

/* An absolute URI (RFC 3986 scheme ":" ...) without fragment, white space,
 * control bytes or characters that never appear unencoded in a URI. */
static bool
redirect_uri_well_formed(const char *u)
{
	const unsigned char *p = (const unsigned char *)u;
	size_t n = strlen(u);

	if (n == 0 || n > JG_STORE_NAME_MAX)
		return false;
	if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
		return false;
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
	       (*p >= '0' && *p <= '9') || *p == '+' || *p == '-' || *p == '.')
		p++;
	if (*p != ':' || p[1] == '\0')
		return false;
	for (p = (const unsigned char *)u; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f || strchr("#\"<>\\^`{|}", *p))
			return false;
	return true;
}

static enum jg_err
verdict(struct jg_authz_request *r, enum jg_authz_outcome outcome,
	const char *error, const char *description)
{
	r->outcome = outcome;
	r->error = error;
	r->error_description = description;
	return JG_OK;
}

enum jg_err
jg_authorize_validate(struct jg_store *st, const struct jg_params *params,
		      struct jg_authz_request *out)
{
	const char *client_id, *redirect_uri, *v, *why;
	enum jg_err err;
	size_t i;

	out->outcome = JG_AUTHZ_VALID;
	out->max_age = -1;
	free(out->scope);
	out->scope = jg_xstrdup("");

	/* 1. Client and redirect URI: any fault here is shown to the user,
	 * never sent to a URI we cannot trust. */
	client_id = jg_params_get(params, "client_id");
	if (client_id == NULL || *client_id == '\0')
		return verdict(out, JG_AUTHZ_PAGE, "invalid_request",
			       "The request has no client_id.");
	if (strlen(client_id) > JG_STORE_NAME_MAX)
		return verdict(out, JG_AUTHZ_PAGE, "invalid_client",
			       "The client is not registered.");
	err = jg_store_client_get(st, client_id, &out->client);
	if (err == JG_ERR_NOT_FOUND || err == JG_ERR_MALFORMED)
		return verdict(out, JG_AUTHZ_PAGE, "invalid_client",
			       "The client is not registered.");
	if (err != JG_OK)
		return err;
	redirect_uri = jg_params_get(params, "redirect_uri");
	if (redirect_uri != NULL) {
		if (!redirect_uri_well_formed(redirect_uri))
			return verdict(out, JG_AUTHZ_PAGE, "invalid_request",
				       "The redirect_uri is not a valid absolute URI.");
		for (i = 0; i < out->client->n_redirect_uris; i++)
			if (strcmp(out->client->redirect_uris[i], redirect_uri) == 0)
				break;
		if (i == out->client->n_redirect_uris)
			return verdict(out, JG_AUTHZ_PAGE, "invalid_request",
				       "The redirect_uri is not registered for this client.");
		out->redirect_uri_sent = true;
	} else if (out->client->n_redirect_uris == 1) {
		redirect_uri = out->client->redirect_uris[0];
	} else {
		return verdict(out, JG_AUTHZ_PAGE, "invalid_request",
			       "The request has no redirect_uri and the client "
			       "has more than one.");
	}
	out->redirect_uri = redirect_uri;
	/* A registered URI the program cannot use is a registration fault. */
	if (!redirect_uri_well_formed(redirect_uri))
		return verdict(out, JG_AUTHZ_PAGE, "invalid_request",
			       "The registered redirect_uri is not a valid absolute URI.");
	out->state = jg_params_get(params, "state");

	/* 2. Everything else goes back to the client. */
	if (jg_params_get(params, "request") != NULL)
		return verdict(out, JG_AUTHZ_REDIRECT, "request_not_supported",
			       "Request objects are not supported.");
	if (jg_params_get(params, "request_uri") != NULL)
		return verdict(out, JG_AUTHZ_REDIRECT, "request_uri_not_supported",
			       "request_uri is not supported.");
	if (jg_params_get(params, "response_type") == NULL)
		return verdict(out, JG_AUTHZ_REDIRECT, "invalid_request",
			       "The request has no response_type.");
	for (i = 0; i < NRULES; i++) {
		if (rules[i].check == NULL)
			continue;
		v = jg_params_get(params, rules[i].name);
		if (v == NULL)
			continue;
		why = "invalid parameter";
		if (!rules[i].check(v, out, &why))
			return verdict(out, JG_AUTHZ_REDIRECT, rules[i].error, why);
		/* The grant type is checked right after response_type, so a
		 * client that may not use codes learns that first. */
		if (strcmp(rules[i].name, "response_type") == 0 &&
		    !list_has(out->client->grant_types, "authorization_code", 18))
			return verdict(out, JG_AUTHZ_REDIRECT, "unauthorized_client",
				       "The client may not use the authorization code grant.");
	}
	if (out->code_challenge_method != NULL && out->code_challenge == NULL)
		return verdict(out, JG_AUTHZ_REDIRECT, "invalid_request",
			       "code_challenge_method without code_challenge");
	if (out->code_challenge != NULL && out->code_challenge_method == NULL)
		/* RFC 7636 section 4.3: the default method is "plain", which
		 * jwtgate refuses (RFC 9700 section 2.1.1). */
		return verdict(out, JG_AUTHZ_REDIRECT, "invalid_request",
			       "code_challenge_method must be S256");
	if (out->code_challenge == NULL && out->client->secret_hash == NULL)
		return verdict(out, JG_AUTHZ_REDIRECT, "invalid_request",
			       "A public client must use PKCE (code_challenge with S256).");
	return JG_OK;
}

char *
jg_authorize_error_location(const struct jg_authz_request *r, const char *issuer,
			    const char *error, const char *description)
{
	struct jg_kv kv[] = {
		{ "error", error },
		{ "error_description", description },
		{ "state", r->state },
		{ "iss", issuer },
	};

	return jg_url_append_query(r->redirect_uri, kv, sizeof(kv) / sizeof(kv[0]));
}

char *
jg_authorize_code_location(const struct jg_authz_request *r, const char *issuer,
			   const char *code)
{
	struct jg_kv kv[] = {
		{ "code", code },
		{ "state", r->state },
		{ "iss", issuer },
	};

	return jg_url_append_query(r->redirect_uri, kv, sizeof(kv) / sizeof(kv[0]));
}

char *
jg_authorize_origin(const char *uri)
{
	const char *colon, *p, *end;
	char *out;

	if (uri == NULL)
		return NULL;
	colon = strchr(uri, ':');
	if (colon == NULL || colon == uri)
		return NULL;
	for (p = uri; p < colon; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (p > uri && ((*p >= '0' && *p <= '9') || *p == '+' ||
				   *p == '-' || *p == '.'))))
			return NULL;
	if (strncmp(colon, "://", 3) == 0 &&
	    ((colon - uri == 4 && strncmp(uri, "http", 4) == 0) ||
	     (colon - uri == 5 && strncmp(uri, "https", 5) == 0))) {
		end = colon + 3 + strcspn(colon + 3, "/?#");
		if (end == colon + 3)
			return NULL;
	} else {
		end = colon + 1;
	}
	out = jg_xstrndup(uri, (size_t)(end - uri));
	for (p = out; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f ||
		    strchr(";,'\"", *p)) {
			free(out);
			return NULL;
		}
	return out;
}

/* ------------------------------------------------------------ templates */

static bool
is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_';
}

char *
jg_authorize_render(const char *tmpl, const struct jg_kv *vars, size_t nvars)
{
	struct sbuf b = { NULL, 0, 0 };
	const char *p = tmpl;

	while (*p) {
		const char *open = strstr(p, "{{"), *q, *name;
		size_t namelen, i;
		bool raw;

		if (open == NULL) {
			sbuf_str(&b, p);
			break;
		}
		sbuf_add(&b, p, (size_t)(open - p));
		q = open + 2;
		raw = *q == '{';
		if (raw)
			q++;
		while (*q == ' ')
			q++;
		name = q;
		while (is_name_char(*q))
			q++;
		namelen = (size_t)(q - name);
		while (*q == ' ')
			q++;
		if (namelen == 0 || strncmp(q, raw ? "}}}" : "}}", raw ? 3 : 2) != 0) {
			/* Not a placeholder: copy the braces and go on. */
			sbuf_add(&b, "{{", 2);
			p = open + 2;
			continue;
		}
		for (i = 0; i < nvars; i++)
			if (strlen(vars[i].name) == namelen &&
			    memcmp(vars[i].name, name, namelen) == 0)
				break;
		if (i < nvars && vars[i].value != NULL) {
			if (raw)
				sbuf_str(&b, vars[i].value);
			else
				sbuf_escaped(&b, vars[i].value);
		}
		p = q + (raw ? 3 : 2);
	}
	return sbuf_finish(&b);
}

/* Reads config->templates/file into *out (caller frees). */
static enum jg_err
load_template(const struct jg_config *config, const char *file, char **out)
{
	char *path = jg_xasprintf("%s/%s", config->templates, file);
	size_t len;
	enum jg_err err;

	err = jg_read_file(path, JG_AUTHZ_TEMPLATE_MAX, out, &len);
	if (err != JG_OK)
		jg_log(JG_LOG_ERROR, "cannot read the template %s: %s", path,
		       jg_strerror(err));
	free(path);
	return err;
}

/* Renders the template file into an HTML answer with the given status.
 * target, when not NULL, is an extra form-action source.  Returns
 * JG_ERR_SYSTEM when the template cannot be read. */
static enum jg_err
page(const struct jg_config *config, struct jg_response *resp, int status,
     const char *file, const struct jg_kv *vars, size_t nvars,
     const char *target)
{
	const char *targets[2] = { target, NULL };
	char *tmpl = NULL, *html;
	enum jg_err err;

	err = load_template(config, file, &tmpl);
	if (err != JG_OK)
		return JG_ERR_SYSTEM;
	html = jg_authorize_render(tmpl, vars, nvars);
	err = jg_http_html(resp, status, html, target ? targets : NULL);
	if (err != JG_OK)	/* an odd target: answer without it */
		err = jg_http_html(resp, status, html, NULL);
	free(html);
	free(tmpl);
	return err == JG_OK ? JG_OK : JG_ERR_SYSTEM;
}

/* An error page from error.html, or a built-in one when the template is
 * missing (the operator must still see why). */
static enum jg_err
error_page(const struct jg_config *config, struct jg_response *resp, int status,
	   const char *message)
{
	char code[16];
	struct jg_kv vars[] = {
		{ "status", code },
		{ "title", jg_http_reason(status) },
		{ "message", message },
	};

	snprintf(code, sizeof(code), "%d", status);
	if (page(config, resp, status, "error.html", vars, 3, NULL) != JG_OK) {
		char *html = jg_authorize_render(
		    "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
		    "<title>{{status}} {{title}}</title></head><body><h1>{{title}}</h1>"
		    "<p>{{message}}</p></body></html>\n", vars, 3);

		jg_http_html(resp, status, html, NULL);
		free(html);
	}
	return JG_OK;
}

/* ------------------------------------------------------------ the flow */

/* Everything one request of the authorization endpoint works with. */
struct flow {
	const struct jg_authorize_ctx *ctx;
	const struct jg_config *config;
	const struct jg_request *req;
	struct jg_response *resp;
	struct jg_params params;
	struct jg_authz_request ar;
	bool post;
	char *csrf_key;		/* the browser's CSRF cookie, or NULL */
	char *session_raw;	/* the session cookie, or NULL */
	struct jg_session *session;	/* the live session, or NULL */
	struct jg_user *user;		/* its user */
	char *target;		/* form-action source of the redirect URI */
};

/* Starts the flow of a request: f is set up (flow_end clears it, whatever
 * this returns) and the parameters are read from the form of a POST, else
 * from the query; *why is set as jg_params_parse sets it. */
static enum jg_err
flow_begin(struct flow *f, const struct jg_authorize_ctx *ctx,
	   const struct jg_request *req, struct jg_response *resp, const char **why)
{
	memset(f, 0, sizeof(*f));
	f->ctx = ctx;
	f->config = ctx->config;
	f->req = req;
	f->resp = resp;
	jg_params_init(&f->params);
	jg_authz_request_init(&f->ar);
	f->post = strcmp(req->method, "POST") == 0;
	return f->post ? jg_request_form(req, &f->params, why) :
	    jg_params_parse(req->query, strlen(req->query), &f->params, why);
}

/* Frees what flow_begin and the steps after it set up in f. */
static void
flow_end(struct flow *f)
{
	free(f->target);
	jg_free_secret(f->csrf_key);
	jg_free_secret(f->session_raw);
	jg_session_free(f->session);
	jg_user_free(f->user);
	jg_authz_request_clear(&f->ar);
	jg_params_clear(&f->params);
}

/* The parameters of a logout request (OpenID Connect RP-Initiated
 * Logout 1.0 section 2): what its confirmation form carries along. */
static const char *const logout_fields[] = {
	"client_id", "id_token_hint", "post_logout_redirect_uri", "state", NULL
};

/* The i-th field a form carries along: with names NULL those of the rule
 * table (a pending authorization request), else names[i].  NULL after the
 * last. */
static const char *
field_name(const char *const *names, size_t i)
{
	if (names == NULL)
		return i < NRULES ? rules[i].name : NULL;
	return names[i];
}

/* The MAC of a form: HMAC-SHA256 keyed with the browser's CSRF cookie over
 * the kind of form, the session it was shown in and every request
 * parameter it carries (names, see field_name), so a token is good only in
 * that browser, for that pending request and (for consent and logout) that
 * session. */
static char *
csrf_token(const char *key, const char *kind, const char *sid,
	   const struct jg_params *p, const char *const *names)
{
	struct sbuf b = { NULL, 0, 0 };
	unsigned char mac[32];
	const char *name;
	char *out = NULL;
	size_t i;

	sbuf_add(&b, "jwtgate-csrf-1", 15);
	sbuf_add(&b, kind, strlen(kind) + 1);
	sbuf_add(&b, sid ? sid : "", strlen(sid ? sid : "") + 1);
	for (i = 0; (name = field_name(names, i)) != NULL; i++) {
		const char *v = jg_params_get(p, name);

		/* Values hold no NUL (jg_params_parse), so this is
		 * unambiguous. */
		if (v == NULL)
			continue;
		sbuf_add(&b, name, strlen(name) + 1);
		sbuf_add(&b, v, strlen(v) + 1);
	}
	if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, key, strlen(key), b.p, b.len,
			     mac) == 0)
		out = jg_b64url_encode(mac, sizeof(mac));
	jg_wipe(mac, sizeof(mac));
	jg_wipe(b.p, b.len);
	free(b.p);
	return out;
}

static bool
csrf_valid(const struct flow *f, const char *kind, const char *sid,
	   const char *const *names)
{
	const char *sent = jg_params_get(&f->params, F_CSRF);
	char *want;
	bool ok;

	if (f->csrf_key == NULL || sent == NULL)
		return false;
	want = csrf_token(f->csrf_key, kind, sid, &f->params, names);
	ok = want && jg_ct_equal(want, strlen(want), sent, strlen(sent));
	jg_free_secret(want);
	return ok;
}

/* Makes sure the browser has a CSRF key, setting a new cookie when not. */
static enum jg_err
csrf_ensure(struct flow *f)
{
	if (f->csrf_key != NULL)
		return JG_OK;
	f->csrf_key = jg_random_token(32);
	if (f->csrf_key == NULL)
		return JG_ERR_SYSTEM;
	return jg_http_set_cookie(f->resp, CSRF_COOKIE, f->csrf_key, -1,
				  f->config->https) == JG_OK ? JG_OK : JG_ERR_SYSTEM;
}

/* The hidden fields that carry the pending request (names, see
 * field_name) through a form. */
static char *
hidden_fields(const struct jg_params *p, const char *const *names)
{
	struct sbuf b = { NULL, 0, 0 };
	const char *name;
	size_t i;

	for (i = 0; (name = field_name(names, i)) != NULL; i++) {
		const char *v = jg_params_get(p, name);

		if (v == NULL)
			continue;
		sbuf_str(&b, "<input type=\"hidden\" name=\"");
		sbuf_escaped(&b, name);
		sbuf_str(&b, "\" value=\"");
		sbuf_escaped(&b, v);
		sbuf_str(&b, "\">\n");
	}
	return sbuf_finish(&b);
}

/* The scope list as <li> items, each scope explained. */
static char *
scope_items(const char *scope)
{
	static const struct {
		const char *scope, *text;
	} known[] = {
		{ "openid", "Confirm who you are (your account identifier)" },
		{ "profile", "Your name and profile" },
		{ "email", "Your email address" },
		{ "address", "Your postal address" },
		{ "phone", "Your phone number" },
		{ "offline_access", "Keep access while you are not signed in" },
	};
	struct sbuf b = { NULL, 0, 0 };
	const char *p = scope;

	if (*scope == '\0')
		sbuf_str(&b, "<li>Basic access to your account</li>\n");
	while (*p) {
		size_t n = strcspn(p, " "), i;
		char *tok = jg_xstrndup(p, n);

		sbuf_str(&b, "<li><code class=\"scope\">");
		sbuf_escaped(&b, tok);
		sbuf_str(&b, "</code> ");
		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (strcmp(known[i].scope, tok) == 0)
				break;
		sbuf_escaped(&b, i < sizeof(known) / sizeof(known[0]) ?
			     known[i].text : "Access to this application's resources");
		sbuf_str(&b, "</li>\n");
		free(tok);
		p += n;
		while (*p == ' ')
			p++;
	}
	return sbuf_finish(&b);
}

static const char *
client_name(const struct jg_client *c)
{
	return c->name && *c->name ? c->name : c->client_id;
}

/* Shows the login form (status 200), with message when not NULL and the
 * user name field filled with username. */
static enum jg_err
login_page(struct flow *f, const char *username, const char *message)
{
	char *hidden = NULL, *scopes = NULL, *token = NULL, *msg_html = NULL;
	enum jg_err err;

	err = csrf_ensure(f);
	if (err != JG_OK)
		return err;
	token = csrf_token(f->csrf_key, "login", NULL, &f->params, NULL);
	if (token == NULL)
		return JG_ERR_SYSTEM;
	hidden = hidden_fields(&f->params, NULL);
	scopes = scope_items(f->ar.scope);
	if (message) {
		char *e = jg_html_escape(message);

		msg_html = jg_xasprintf("<p class=\"error\" role=\"alert\">%s</p>", e);
		free(e);
	}
	{
		struct jg_kv vars[] = {
			{ "client_name", client_name(f->ar.client) },
			{ "client_id", f->ar.client->client_id },
			{ "scopes", scopes },
			{ "action", f->req->path },
			{ "hidden", hidden },
			{ "csrf", token },
			{ "username", username ? username : "" },
			{ "error", msg_html ? msg_html : "" },
		};

		err = page(f->config, f->resp, 200, "login.html", vars,
			   sizeof(vars) / sizeof(vars[0]), f->target);
	}
	free(hidden);
	free(scopes);
	free(msg_html);
	jg_free_secret(token);
	return err;
}

static enum jg_err
consent_page(struct flow *f)
{
	char *hidden = NULL, *scopes = NULL, *token = NULL;
	enum jg_err err;

	err = csrf_ensure(f);
	if (err != JG_OK)
		return err;
	token = csrf_token(f->csrf_key, "consent", f->session->sid, &f->params, NULL);
	if (token == NULL)
		return JG_ERR_SYSTEM;
	hidden = hidden_fields(&f->params, NULL);
	scopes = scope_items(f->ar.scope);
	{
		struct jg_kv vars[] = {
			{ "client_name", client_name(f->ar.client) },
			{ "client_id", f->ar.client->client_id },
			{ "scopes", scopes },
			{ "action", f->req->path },
			{ "hidden", hidden },
			{ "csrf", token },
			{ "username", f->user->username },
		};

		err = page(f->config, f->resp, 200, "consent.html", vars,
			   sizeof(vars) / sizeof(vars[0]), f->target);
	}
	free(hidden);
	free(scopes);
	jg_free_secret(token);
	return err;
}

/* Redirects an error to the client: 302, or 303 after a form POST. */
static enum jg_err
redirect_error(struct flow *f, const char *error, const char *description)
{
	char *loc = jg_authorize_error_location(&f->ar, f->config->issuer, error,
						description);
	enum jg_err err;

	if (loc == NULL)
		return error_page(f->config, f->resp, 400,
				  "The redirect URI cannot take the answer.");
	err = jg_http_redirect(f->resp, f->post ? 303 : 302, loc);
	free(loc);
	return err == JG_OK ? JG_OK : JG_ERR_SYSTEM;
}

/* Finds the one value of name among the raw pairs of s (len bytes of
 * form-urlencoded text), decoded into *out (caller frees).  A pair
 * without "=" is a name with an empty value, as jg_params_parse reads it.
 * Returns JG_OK, JG_ERR_NOT_FOUND when name is absent, or
 * JG_ERR_MALFORMED when it appears more than once, its value does not
 * decode, or any name does not decode (it could be name). */
static enum jg_err
raw_param(const char *s, size_t len, const char *name, char **out)
{
	const char *p = s, *end = s + len;
	char *found = NULL;
	enum jg_err err = JG_ERR_NOT_FOUND;

	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(stop - p));
		const char *name_end = eq ? eq : stop;
		char *n = NULL, *v = NULL;

		if (name_end > p &&
		    jg_form_decode(p, (size_t)(name_end - p), &n) != JG_OK) {
			err = JG_ERR_MALFORMED;
			goto out;
		}
		if (n != NULL && strcmp(n, name) == 0) {
			free(n);
			if (found != NULL)
				err = JG_ERR_MALFORMED;
			else if (eq == NULL)
				v = jg_xstrdup("");
			else if (jg_form_decode(eq + 1, (size_t)(stop - eq - 1), &v) != JG_OK)
				err = JG_ERR_MALFORMED;
			if (err == JG_ERR_MALFORMED)
				goto out;
			found = v;
			err = JG_OK;
			n = NULL;
		}
		free(n);
		p = stop + 1;
	}
out:
	if (err == JG_OK)
		*out = found;
	else
		free(found);
	return err;
}

/* An authorization request whose parameters cannot all be read (one is
 * repeated or badly encoded) is still an error of a known client when
 * client_id and redirect_uri each appear at most once, decode, and name a
 * client and one of its redirect URIs: then it goes back there as
 * invalid_request (RFC 6749 section 4.1.2.1: "includes a parameter more
 * than once, or is otherwise malformed"), with state only when state
 * itself could be read.  Returns JG_OK after answering, JG_ERR_NOT_FOUND
 * when the client or its redirect URI is not known (the caller shows the
 * error page), or a store error. */
static enum jg_err
redirect_unreadable(struct flow *f, const char *description)
{
	static const char *const names[] = { "client_id", "redirect_uri", "state" };
	const char *raw = f->req->query;
	size_t len = strlen(raw), i;
	char *values[3] = { NULL, NULL, NULL }, *query = NULL, *next, *enc;
	enum jg_err err = JG_ERR_NOT_FOUND;

	if (f->post) {
		if (!jg_http_media_type_is(f->req->content_type,
					   "application/x-www-form-urlencoded"))
			return JG_ERR_NOT_FOUND;
		raw = f->req->body;
		len = f->req->body_len;
	}
	for (i = 0; i < 3; i++) {
		enum jg_err e = raw_param(raw, len, names[i], &values[i]);

		if (e == JG_ERR_MALFORMED && i < 2)
			goto out;	/* whose client, or where to? */
		if (e != JG_OK)
			continue;
		enc = jg_url_encode(values[i]);
		next = jg_xasprintf("%s%s%s=%s", query ? query : "", query ? "&" : "",
				    names[i], enc);
		free(enc);
		free(query);
		query = next;
	}
	if (values[0] == NULL || query == NULL)
		goto out;
	jg_params_clear(&f->params);
	if (jg_params_parse(query, strlen(query), &f->params, NULL) != JG_OK)
		goto out;
	err = jg_authorize_validate(f->ctx->store, &f->params, &f->ar);
	if (err != JG_OK)
		goto out;
	if (f->ar.outcome == JG_AUTHZ_PAGE) {
		err = JG_ERR_NOT_FOUND;
		goto out;
	}
	err = redirect_error(f, "invalid_request", description);
out:
	for (i = 0; i < 3; i++)
		free(values[i]);
	free(query);
	return err;
}

/* Issues a code for the session's user and redirects it to the client. */
static enum jg_err
issue_code(struct flow *f)
{
	const struct jg_config *cfg = f->config;
	struct jg_code *c = jg_xcalloc(1, sizeof(*c));
	char *code = NULL, *loc = NULL;
	enum jg_err err;

	code = jg_random_token(32);
	if (code == NULL) {
		err = JG_ERR_SYSTEM;
		goto out;
	}
	c->client_id = jg_xstrdup(f->ar.client->client_id);
	c->redirect_uri = jg_xstrdup(f->ar.redirect_uri);
	c->redirect_uri_omitted = !f->ar.redirect_uri_sent;
	c->sub = jg_xstrdup(f->session->sub);
	c->scope = jg_xstrdup(f->ar.scope);
	c->nonce = f->ar.nonce ? jg_xstrdup(f->ar.nonce) : NULL;
	c->code_challenge = f->ar.code_challenge ? jg_xstrdup(f->ar.code_challenge) : NULL;
	c->code_challenge_method = f->ar.code_challenge_method ?
	    jg_xstrdup(f->ar.code_challenge_method) : NULL;
	c->session_id = jg_xstrdup(f->session->sid);
	c->auth_time = f->session->auth_time;
	c->created = f->req->now;
	c->expires = f->req->now + cfg->code_lifetime;
	err = jg_store_code_insert(f->ctx->store, code, c);
	if (err != JG_OK) {
		jg_log(JG_LOG_ERROR, "cannot store an authorization code: %s",
		       jg_strerror(err));
		if (err != JG_ERR_BUSY)
			err = JG_ERR_SYSTEM;
		goto out;
	}
	loc = jg_authorize_code_location(&f->ar, cfg->issuer, code);
	if (loc == NULL) {
		err = error_page(cfg, f->resp, 400,
				 "The redirect URI cannot take the answer.");
		goto out;
	}
	err = jg_http_redirect(f->resp, f->post ? 303 : 302, loc) == JG_OK ?
	    JG_OK : JG_ERR_SYSTEM;
out:
	jg_free_secret(loc);
	jg_free_secret(code);
	jg_code_free(c);
	return err;
}

/* Verifies an id_token_hint: an ID token this server signed (a key of the
 * keyring, header typ "JWT", iss our issuer).  An expired one is accepted,
 * as OpenID Connect Core 1.0 section 3.1.2.1 asks: it is a hint about who
 * the client thinks is logged in, never a credential.  On success *sub and
 * *aud (the first audience, or NULL) are new strings.  Returns JG_OK or
 * JG_ERR_DENIED. */
static enum jg_err
verify_hint(const struct jg_authorize_ctx *ctx, const char *hint, char **sub,
	    char **aud)
{
	static const enum jg_alg allowed[] = {
		JG_ALG_RS256, JG_ALG_RS384, JG_ALG_RS512,
		JG_ALG_PS256, JG_ALG_PS384, JG_ALG_PS512,
		JG_ALG_ES256, JG_ALG_ES384, JG_ALG_ES512, JG_ALG_EDDSA,
	};
	struct jg_jws *jws = NULL;
	struct json_object *claims = NULL, *a;
	const char *why, *iss = NULL, *s = NULL, *first = NULL;
	enum jg_err err = JG_ERR_DENIED;

	if (ctx->keyring == NULL)
		return JG_ERR_DENIED;
	if (jg_jws_verify(hint, strlen(hint), jg_keyring_public_set(ctx->keyring),
			  allowed, sizeof(allowed) / sizeof(allowed[0]), &jws,
			  &why) != JG_OK)
		goto out;
	if (jws->typ == NULL || strcasecmp(jws->typ, JG_TYP_ID) != 0)
		goto out;
	if (jg_json_parse_object((const char *)jws->payload, jws->payload_len,
				 &claims, &why) != JG_OK)
		goto out;
	if (!jg_json_get_string(claims, "iss", &iss) ||
	    strcmp(iss, ctx->config->issuer) != 0)
		goto out;
	if (!jg_json_get_string(claims, "sub", &s) || *s == '\0')
		goto out;
	if (!jg_json_get_string(claims, "aud", &first)) {
		a = jg_json_get(claims, "aud");
		if (a && json_object_is_type(a, json_type_array) &&
		    json_object_array_length(a) > 0 &&
		    json_object_is_type(json_object_array_get_idx(a, 0),
					json_type_string))
			first = json_object_get_string(json_object_array_get_idx(a, 0));
	}
	*sub = jg_xstrdup(s);
	*aud = first ? jg_xstrdup(first) : NULL;
	err = JG_OK;
out:
	json_object_put(claims);
	jg_jws_free(jws);
	return err;
}

/* Finds the live session of the browser and its (enabled) user.  A
 * session whose user is gone or disabled is deleted. */
static enum jg_err
load_session(struct flow *f)
{
	struct jg_store *st = f->ctx->store;
	enum jg_err err;

	err = jg_cookie_get(f->req->cookie, f->config->session_cookie,
			    &f->session_raw, NULL);
	if (err != JG_OK)
		return JG_OK;
	err = jg_store_session_get(st, f->session_raw, f->req->now, &f->session);
	if (err == JG_ERR_NOT_FOUND || err == JG_ERR_MALFORMED)
		return JG_OK;
	if (err != JG_OK)
		return err;
	err = jg_store_user_get_by_sub(st, f->session->sub, &f->user);
	if (err == JG_OK && !f->user->disabled)
		return JG_OK;
	if (err != JG_OK && err != JG_ERR_NOT_FOUND)
		return err;
	jg_user_free(f->user);
	f->user = NULL;
	jg_session_free(f->session);
	f->session = NULL;
	err = jg_store_session_delete(st, f->session_raw);
	return err == JG_ERR_NOT_FOUND ? JG_OK : err;
}

/* The 403 answer to a form without a valid CSRF token. */
static enum jg_err
forbidden(struct flow *f)
{
	return error_page(f->config, f->resp, 403,
			  "The form has expired or was not sent from this site. "
			  "Go back to the application and sign in again.");
}

static enum jg_err
store_err(enum jg_err err)
{
	return err == JG_ERR_BUSY ? JG_ERR_BUSY : JG_ERR_SYSTEM;
}

/* Handles the login form.  *logged_in is true when the user logged in and
 * f->session and f->user are the new session; otherwise the answer (the
 * form again, 429) is written. */
static enum jg_err
login_post(struct flow *f, bool *logged_in)
{
	const struct jg_config *cfg = f->config;
	struct jg_store *st = f->ctx->store;
	const char *username = jg_params_get(&f->params, F_USERNAME);
	const char *password = jg_params_get(&f->params, F_PASSWORD);
	char *ukey = NULL, *ikey = NULL, *raw = NULL;
	struct jg_user *user = NULL;
	struct jg_session *session = NULL;
	unsigned ucount = 0, icount = 0;
	int64_t now = f->req->now, since = now - cfg->login_failure_window;
	enum jg_err err;
	bool ok;

	*logged_in = false;
	if (username == NULL || *username == '\0' || password == NULL ||
	    *password == '\0') {
		err = login_page(f, username, "Enter your user name and password.");
		goto out;
	}
	if (strlen(username) <= USERNAME_MAX)
		ukey = jg_xasprintf("user:%s", username);
	ikey = jg_xasprintf("ip:%s", f->req->remote_addr);
	if (ukey && (err = jg_store_fail_count(st, ukey, since, &ucount)) != JG_OK)
		goto fail;
	if ((err = jg_store_fail_count(st, ikey, since, &icount)) != JG_OK)
		goto fail;
	if (ucount >= cfg->login_max_failures_user ||
	    icount >= cfg->login_max_failures_ip) {
		char secs[32];

		snprintf(secs, sizeof(secs), "%" PRId64, cfg->login_failure_window);
		jg_response_set_header(f->resp, "Retry-After", secs);
		err = error_page(cfg, f->resp, 429,
				 "Too many failed logins. Wait a while and try again.");
		goto out;
	}
	err = ukey ? jg_store_user_get(st, username, &user) : JG_ERR_NOT_FOUND;
	if (err != JG_OK && err != JG_ERR_NOT_FOUND)
		goto fail;
	/* The same work for an unknown user as for a wrong password. */
	ok = user ? jg_password_verify(password, user->password_hash) :
	    jg_password_verify_dummy(password);
	if (user && user->disabled)
		ok = false;
	if (!ok) {
		if (ukey && (err = jg_store_fail_record(st, ukey, now)) != JG_OK)
			goto fail;
		if ((err = jg_store_fail_record(st, ikey, now)) != JG_OK)
			goto fail;
		err = login_page(f, username, LOGIN_FAILED);
		goto out;
	}
	if ((err = jg_store_fail_clear(st, ukey)) != JG_OK)
		goto fail;
	if (jg_password_needs_rehash(user->password_hash)) {
		char *hash = NULL;

		if (jg_password_hash(password, &hash) == JG_OK &&
		    jg_store_user_set_password(st, user->username, hash) != JG_OK)
			jg_log(JG_LOG_WARN, "cannot store the new password hash of a user");
		free(hash);
	}
	/* A new session id at every login: an id planted before the login
	 * (session fixation) is never promoted. */
	if (f->session_raw)
		(void)jg_store_session_delete(st, f->session_raw);
	raw = jg_random_token(32);
	if (raw == NULL) {
		err = JG_ERR_SYSTEM;
		goto out;
	}
	err = jg_store_session_create(st, raw, user->sub, now, now,
				      now + cfg->session_lifetime);
	if (err != JG_OK)
		goto fail;
	err = jg_store_session_get(st, raw, now, &session);
	if (err != JG_OK)
		goto fail;
	if (jg_http_set_cookie(f->resp, cfg->session_cookie, raw,
			       cfg->session_lifetime, cfg->https) != JG_OK) {
		err = JG_ERR_SYSTEM;
		goto out;
	}
	jg_session_free(f->session);
	f->session = session;
	session = NULL;
	jg_user_free(f->user);
	f->user = user;
	user = NULL;
	*logged_in = true;
	err = JG_OK;
	goto out;
fail:
	jg_log(JG_LOG_ERROR, "login: store: %s", jg_strerror(err));
	err = store_err(err);
out:
	jg_session_free(session);
	jg_user_free(user);
	jg_free_secret(raw);
	free(ukey);
	free(ikey);
	return err;
}

static enum jg_err
authorize(const struct jg_authorize_ctx *ctx, const struct jg_request *req,
	  struct jg_response *resp)
{
	const struct jg_config *cfg = ctx->config;
	struct flow f;
	const char *why = NULL, *action = NULL, *cname;
	char *hint_sub = NULL, *hint_aud = NULL, *msg;
	bool fresh = false, consented = false, need_login, need_consent;
	enum jg_err err;

	err = flow_begin(&f, ctx, req, resp, &why);
	if (err != JG_OK) {
		msg = jg_xasprintf("The request is malformed: %s.",
				   why ? why : "bad parameters");
		err = redirect_unreadable(&f, msg);
		if (err == JG_ERR_NOT_FOUND)
			err = error_page(cfg, resp, 400, msg);
		free(msg);
		goto out;
	}
	err = jg_authorize_validate(ctx->store, &f.params, &f.ar);
	if (err != JG_OK)
		goto out;
	if (f.ar.outcome == JG_AUTHZ_PAGE) {
		err = error_page(cfg, resp, 400, f.ar.error_description);
		goto out;
	}
	if (f.ar.outcome == JG_AUTHZ_REDIRECT) {
		err = redirect_error(&f, f.ar.error, f.ar.error_description);
		goto out;
	}
	f.target = jg_authorize_origin(f.ar.redirect_uri);
	cname = cfg->https ? CSRF_COOKIE_HOST : CSRF_COOKIE;
	if (jg_cookie_get(req->cookie, cname, &f.csrf_key, NULL) == JG_OK &&
	    strlen(f.csrf_key) < 32) {
		jg_free_secret(f.csrf_key);
		f.csrf_key = NULL;
	}
	if ((err = load_session(&f)) != JG_OK)
		goto out;
	if (f.ar.id_token_hint &&
	    verify_hint(ctx, f.ar.id_token_hint, &hint_sub, &hint_aud) != JG_OK) {
		err = redirect_error(&f, "invalid_request",
				     "id_token_hint is not a valid ID token of this server.");
		goto out;
	}

	if (f.post)
		action = jg_params_get(&f.params, F_ACTION);
	if (action && strcmp(action, "login") == 0) {
		if (!csrf_valid(&f, "login", NULL, NULL)) {
			err = forbidden(&f);
			goto out;
		}
		err = login_post(&f, &fresh);
		if (err != JG_OK || !fresh)
			goto out;
	} else if (action && (strcmp(action, "allow") == 0 ||
			      strcmp(action, "deny") == 0)) {
		/* The token names the session the page was shown in, so the
		 * answer counts only for the user who saw the page. */
		if (f.session == NULL ||
		    !csrf_valid(&f, "consent", f.session->sid, NULL)) {
			err = forbidden(&f);
			goto out;
		}
		if (strcmp(action, "deny") == 0) {
			err = redirect_error(&f, "access_denied",
					     "The user denied the request.");
			goto out;
		}
		err = jg_store_consent_grant(ctx->store, f.session->sub,
					     f.ar.client->client_id, f.ar.scope,
					     req->now);
		if (err != JG_OK) {
			err = store_err(err);
			goto out;
		}
		consented = true;
	} else if (action) {
		err = error_page(cfg, resp, 400, "The form sent an unknown action.");
		goto out;
	}

	/* Authentication.  Right after the login form, or on the consent
	 * form (shown to this session after it met these rules), the
	 * session is taken as it is, so prompt=login or max_age=0 cannot
	 * loop. */
	need_login = f.session == NULL;
	if (!need_login && !fresh && !consented) {
		if (f.ar.prompt & (JG_AUTHZ_PROMPT_LOGIN | JG_AUTHZ_PROMPT_SELECT_ACCOUNT))
			need_login = true;
		if (f.ar.max_age >= 0 && req->now - f.session->auth_time > f.ar.max_age)
			need_login = true;
		if (hint_sub && strcmp(hint_sub, f.session->sub) != 0)
			need_login = true;
	}
	if (need_login) {
		if (f.ar.prompt & JG_AUTHZ_PROMPT_NONE)
			err = redirect_error(&f, "login_required",
					     "The user must log in.");
		else
			err = login_page(&f, f.ar.login_hint, NULL);
		goto out;
	}

	/* Consent. */
	need_consent = !(f.ar.client->first_party && cfg->consent_skip_first_party) ||
	    (f.ar.prompt & JG_AUTHZ_PROMPT_CONSENT);
	if (need_consent && !consented) {
		bool granted = false;

		if (!(f.ar.prompt & JG_AUTHZ_PROMPT_CONSENT)) {
			err = jg_store_consent_has(ctx->store, f.session->sub,
						   f.ar.client->client_id,
						   f.ar.scope, &granted);
			if (err != JG_OK) {
				err = store_err(err);
				goto out;
			}
		}
		if (!granted) {
			if (f.ar.prompt & JG_AUTHZ_PROMPT_NONE)
				err = redirect_error(&f, "consent_required",
						     "The user must consent.");
			else
				err = consent_page(&f);
			goto out;
		}
	}
	err = issue_code(&f);
out:
	free(hint_sub);
	free(hint_aud);
	flow_end(&f);
	return err;
}

/* The confirmation page of a logout, for a templates folder without
 * logout.html (one from before it existed): the operator's restyled pages
 * keep working. */
#define LOGOUT_BUILTIN "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">" \
	"<title>Sign out?</title><link rel=\"stylesheet\" href=\"/jwtgate.css\"></head>" \
	"<body><main class=\"card\"><h1>Sign out?</h1>{{{request}}}" \
	"<p>You are signed in as <strong>{{username}}</strong>.</p>" \
	"<form method=\"post\" action=\"{{action}}\">{{{hidden}}}" \
	"<input type=\"hidden\" name=\"jg_csrf\" value=\"{{csrf}}\">" \
	"<p class=\"buttons\"><button type=\"submit\" name=\"jg_action\" value=\"logout\">" \
	"Sign out</button> <button type=\"submit\" name=\"jg_action\" value=\"stay\" " \
	"class=\"secondary\">Stay signed in</button></p></form></main></body></html>\n"

/* Asks the user of f->session whether to sign out (OpenID Connect
 * RP-Initiated Logout 1.0 section 2): a form, bound by its CSRF token to
 * this browser, this session and the logout parameters, that posts back
 * with jg_action "logout" or "stay".  client, when not NULL, is the client
 * that sent the user here. */
static enum jg_err
logout_page(struct flow *f, const struct jg_client *client)
{
	const char *targets[2] = { f->target, NULL };
	char *hidden = NULL, *token = NULL, *request = NULL, *tmpl = NULL, *html;
	enum jg_err err;

	err = csrf_ensure(f);
	if (err != JG_OK)
		return err;
	token = csrf_token(f->csrf_key, "logout", f->session->sid, &f->params,
			   logout_fields);
	if (token == NULL)
		return JG_ERR_SYSTEM;
	hidden = hidden_fields(&f->params, logout_fields);
	if (client) {
		char *e = jg_html_escape(client_name(client));

		request = jg_xasprintf("<p><strong>%s</strong> asks to sign you out.</p>", e);
		free(e);
	}
	{
		struct jg_kv vars[] = {
			{ "client_name", client ? client_name(client) : "" },
			{ "request", request ? request : "" },
			{ "username", f->user->username },
			{ "action", f->req->path },
			{ "hidden", hidden },
			{ "csrf", token },
		};
		size_t n = sizeof(vars) / sizeof(vars[0]);

		if (load_template(f->config, "logout.html", &tmpl) != JG_OK)
			tmpl = jg_xstrdup(LOGOUT_BUILTIN);
		html = jg_authorize_render(tmpl, vars, n);
		/* form-action covers where the answer to the form redirects. */
		err = jg_http_html(f->resp, 200, html, f->target ? targets : NULL);
		if (err != JG_OK)
			err = jg_http_html(f->resp, 200, html, NULL);
		err = err == JG_OK ? JG_OK : JG_ERR_SYSTEM;
		free(html);
	}
	free(tmpl);
	free(request);
	free(hidden);
	jg_free_secret(token);
	return err;
}

/* RP-initiated logout.  The session ends at once only for a valid
 * id_token_hint naming the signed-in user; otherwise the user is asked
 * first (RP-Initiated Logout 1.0 section 2: the OP MUST ask when there is
 * no id_token_hint or it does not belong to the current user), so that a
 * link or an image on any page cannot sign the user out.  Without a live
 * session there is nothing to ask about.  Afterwards the browser goes to
 * the post_logout_redirect_uri when it is registered for the client
 * (client_id, or the hint's aud), else it sees the signed-out page. */
static enum jg_err
logout(const struct jg_authorize_ctx *ctx, const struct jg_request *req,
       struct jg_response *resp)
{
	const struct jg_config *cfg = ctx->config;
	struct flow f;
	const char *why = NULL, *hint, *client_id, *plr, *state, *cid, *action = NULL;
	char *hint_sub = NULL, *hint_aud = NULL, *loc = NULL;
	struct jg_client *client = NULL;
	bool registered = false, end;
	enum jg_err err;
	size_t i;

	err = flow_begin(&f, ctx, req, resp, &why);
	if (err != JG_OK) {
		char *msg = jg_xasprintf("The request is malformed: %s.",
					 why ? why : "bad parameters");

		err = error_page(cfg, resp, 400, msg);
		free(msg);
		goto out;
	}
	hint = jg_params_get(&f.params, "id_token_hint");
	client_id = jg_params_get(&f.params, "client_id");
	plr = jg_params_get(&f.params, "post_logout_redirect_uri");
	state = jg_params_get(&f.params, "state");
	/* Only a form post can confirm: a GET never carries an answer. */
	if (f.post)
		action = jg_params_get(&f.params, F_ACTION);
	if (hint && (strlen(hint) > JG_JWS_MAX_TOKEN ||
		     verify_hint(ctx, hint, &hint_sub, &hint_aud) != JG_OK)) {
		err = error_page(cfg, resp, 400,
				 "The id_token_hint is not a valid ID token of this server.");
		goto out;
	}
	if (client_id && hint_aud && strcmp(client_id, hint_aud) != 0) {
		err = error_page(cfg, resp, 400,
				 "The client_id does not match the id_token_hint.");
		goto out;
	}
	cid = client_id ? client_id : hint_aud;
	if (cid && strlen(cid) <= JG_STORE_NAME_MAX) {
		err = jg_store_client_get(ctx->store, cid, &client);
		if (err != JG_OK && err != JG_ERR_NOT_FOUND && err != JG_ERR_MALFORMED) {
			err = store_err(err);
			goto out;
		}
		for (i = 0; plr && client && i < client->n_post_logout_uris; i++)
			if (strcmp(client->post_logout_uris[i], plr) == 0)
				registered = true;
	}
	if (registered)
		f.target = jg_authorize_origin(plr);
	if (jg_cookie_get(req->cookie, cfg->https ? CSRF_COOKIE_HOST : CSRF_COOKIE,
			  &f.csrf_key, NULL) == JG_OK && strlen(f.csrf_key) < 32) {
		jg_free_secret(f.csrf_key);
		f.csrf_key = NULL;
	}
	if ((err = load_session(&f)) != JG_OK) {
		err = store_err(err);
		goto out;
	}

	if (f.session != NULL) {
		end = hint_sub && strcmp(hint_sub, f.session->sub) == 0;
		if (!end && action) {
			if (!csrf_valid(&f, "logout", f.session->sid, logout_fields)) {
				err = forbidden(&f);
				goto out;
			}
			if (strcmp(action, "stay") == 0) {
				/* Back to the client, or to the site's front
				 * page, still signed in. */
				struct jg_kv kv[] = { { "state", state } };
				size_t n = strlen(cfg->issuer);

				loc = registered ? jg_url_append_query(plr, kv, 1) :
				    jg_xasprintf("%s%s", cfg->issuer,
						 n > 0 && cfg->issuer[n - 1] == '/' ? "" : "/");
				err = loc && jg_http_redirect(resp, 303, loc) == JG_OK ?
				    JG_OK : JG_ERR_SYSTEM;
				goto out;
			}
			if (strcmp(action, "logout") != 0) {
				err = error_page(cfg, resp, 400,
						 "The form sent an unknown action.");
				goto out;
			}
			end = true;
		}
		if (!end) {
			err = logout_page(&f, client);
			goto out;
		}
		/* End the session: delete its row and expire the cookie. */
		err = jg_store_session_delete(ctx->store, f.session_raw);
		if (err != JG_OK && err != JG_ERR_NOT_FOUND && err != JG_ERR_MALFORMED) {
			err = store_err(err);
			goto out;
		}
		jg_log(JG_LOG_INFO, "logout: a session ended%s",
		       hint_sub ? " (id_token_hint)" : " (confirmed)");
	}
	/* Expire the cookie of an ended, unknown or expired session. */
	if (f.session_raw)
		jg_http_set_cookie(resp, cfg->session_cookie, "", 0, cfg->https);

	if (registered) {
		struct jg_kv kv[] = { { "state", state } };

		loc = jg_url_append_query(plr, kv, 1);
		if (loc && jg_http_redirect(resp, f.post ? 303 : 302, loc) == JG_OK) {
			err = JG_OK;
			goto out;
		}
	}
	{
		struct jg_kv vars[] = {
			{ "client_name", client ? client_name(client) : "" },
		};

		err = page(cfg, resp, 200, "signed-out.html", vars, 1, NULL);
	}
out:
	free(loc);
	jg_client_free(client);
	free(hint_sub);
	free(hint_aud);
	flow_end(&f);
	return err;
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

enum jg_err
jg_authorize_handle(const struct jg_authorize_ctx *ctx,
		    const struct jg_request *req, struct jg_response *resp)
{
	const char *m = req->method;

	/* HEAD is refused (405) on both: a GET here has side effects (with a
	 * live session it issues and stores a code), which a HEAD, meant to
	 * be safe (RFC 9110 section 9.3.2), must not have. */
	if (ends_with(req->path, "/oauth/authorize")) {
		if (strcmp(m, "GET") == 0 || strcmp(m, "POST") == 0)
			return authorize(ctx, req, resp);
		jg_response_set_header(resp, "Allow", "GET, POST");
		return error_page(ctx->config, resp, 405,
				  "This method is not allowed here.");
	}
	if (ends_with(req->path, "/oauth/logout")) {
		if (strcmp(m, "GET") == 0 || strcmp(m, "POST") == 0)
			return logout(ctx, req, resp);
		jg_response_set_header(resp, "Allow", "GET, POST");
		return error_page(ctx->config, resp, 405,
				  "This method is not allowed here.");
	}
	return error_page(ctx->config, resp, 404, "There is no such page.");
}
