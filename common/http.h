/* http.h: the request model (parsed from CGI/FastCGI parameters), strict
 * parsing of query strings, form bodies, cookies and Authorization headers,
 * the response builder with its writers (JSON, OAuth errors, Bearer
 * challenges, HTML with security headers, redirects, cookies), URL building,
 * and the one table that maps enum jg_err to an HTTP status and OAuth error.
 *
 * Nothing here talks to libfcgi: common/server.c reads the parameters and
 * the body and writes the serialized response, so everything in this file
 * can be tested with plain arrays. */
#ifndef JG_HTTP_H
#define JG_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include "util.h"

/* Limits.  A request beyond them is answered by the server loop before any
 * handler runs (see jg_request_parse for the statuses). */
#define JG_HTTP_MAX_BODY (64 * 1024)	/* default request body cap */
#define JG_HTTP_MAX_PARAM_VALUE (16 * 1024)	/* one CGI/FastCGI parameter */
#define JG_HTTP_MAX_PARAM_NAME 128
#define JG_HTTP_MAX_ENV 256		/* CGI/FastCGI parameters per request */
#define JG_PARAMS_MAX_COUNT 64		/* pairs in a query string or form */
#define JG_PARAMS_MAX_NAME 128		/* bytes of a decoded name */
#define JG_PARAMS_MAX_INPUT JG_HTTP_MAX_BODY	/* bytes of encoded input */

/* ------------------------------------------------------------ parameters */

/* One name/value pair of a parsed list; both strings are owned by the list
 * holding it. */
struct jg_pair {
	char *name;
	char *value;
};

/* One name/value pair given as input (jg_url_append_query,
 * jg_http_authorizer_allow); both strings are borrowed. */
struct jg_kv {
	const char *name;
	const char *value;
};

/* A list of decoded name/value pairs: a query string, a form body or the
 * CGI/FastCGI parameters of a request.  Zero-initialise or jg_params_init
 * before use; jg_params_clear frees it. */
struct jg_params {
	struct jg_pair *items;
	size_t count;
};

/* Makes p an empty list. */
void jg_params_init(struct jg_params *p);
/* Wipes every name and value (a form may hold a password or a client
 * secret), frees them and leaves p empty.  Accepts NULL. */
void jg_params_clear(struct jg_params *p);

/* Returns the value of the first pair named exactly name, or NULL.  The
 * result points into p. */
const char *jg_params_get(const struct jg_params *p, const char *name);

/* Parses len bytes of application/x-www-form-urlencoded text (a query
 * string or a form body) strictly:
 *   - pairs are separated by "&"; empty pieces ("a=1&&b=2", a trailing "&")
 *     are skipped; a piece without "=" is a name with an empty value;
 *   - "+" decodes to a space, "%" must be followed by two hex digits;
 *   - after decoding, names and values must be valid UTF-8 without NUL;
 *     names must not be empty and at most JG_PARAMS_MAX_NAME bytes;
 *   - a name may appear only once (RFC 6749 section 3.1: "Request and
 *     response parameters MUST NOT be included more than once");
 *   - at most JG_PARAMS_MAX_COUNT pairs and JG_PARAMS_MAX_INPUT input bytes.
 * On success *out (which must be empty) receives the pairs in order and
 * JG_OK is returned.  Otherwise JG_ERR_MALFORMED, *out is left empty, and
 * when why is not NULL *why is a static English reason suitable for an
 * error_description (ASCII, no quotes or backslashes). */
enum jg_err jg_params_parse(const char *s, size_t len, struct jg_params *out,
			    const char **why);

/* Decodes len bytes of one form-urlencoded component ("+" is a space, %XX
 * strict) into a new NUL-terminated string (caller frees; wipe it when it
 * may be a secret).  The result must be valid UTF-8 without NUL.  Returns
 * JG_OK and writes *out, or JG_ERR_MALFORMED. */
enum jg_err jg_form_decode(const char *s, size_t len, char **out);

/* Returns a new string (caller frees) with every byte of s except the
 * RFC 3986 unreserved characters (ALPHA DIGIT - . _ ~) percent-encoded with
 * upper-case hex digits.  Spaces become %20, never "+". */
char *jg_url_encode(const char *s);

/* Returns a new URL (caller frees): base with the pairs appended to its
 * query, each name and value encoded by jg_url_encode.  Pairs whose value is
 * NULL are skipped, so optional parameters can stay in the list.  The
 * separator is "?" when base has no "?", nothing when the query is empty
 * (base ends with its first "?") or ends with "&", else "&".  A fragment
 * in base stays at the end.  Returns NULL when base contains a byte below
 * 0x21 or 0x7f (white space, CR, LF). */
char *jg_url_append_query(const char *base, const struct jg_kv *pairs,
			  size_t npairs);

/* ------------------------------------------------------------ request */

enum jg_role {
	JG_ROLE_RESPONDER = 1,		/* FastCGI RESPONDER, and every CGI run */
	JG_ROLE_AUTHORIZER = 2		/* FastCGI AUTHORIZER */
};

/* One request, copied out of the CGI environment or the FastCGI
 * parameters, so it stays valid after libfcgi frees them.  Every string is
 * owned by the request and freed (and wiped) by jg_request_clear.  Fields
 * marked "never NULL" are "" when the server did not send them; the
 * optional headers are NULL when the request had no such header. */
struct jg_request {
	enum jg_role role;
	int64_t now;		/* Unix time the request was received */

	char *method;		/* REQUEST_METHOD, never NULL */
	char *path;		/* decoded, normalised path without the query
				 * (see jg_request_parse), never NULL */
	char *query;		/* QUERY_STRING, still encoded, never NULL */
	char *request_uri;	/* REQUEST_URI as sent, never NULL */
	char *script_name;	/* SCRIPT_NAME, never NULL */
	char *path_info;	/* PATH_INFO, never NULL */
	char *remote_addr;	/* REMOTE_ADDR, never NULL */
	char *host;		/* HTTP_HOST, or NULL */
	bool https;		/* HTTPS=on/1 or REQUEST_SCHEME=https */

	char *content_type;	/* CONTENT_TYPE, or NULL */
	char *authorization;	/* HTTP_AUTHORIZATION, or NULL */
	char *cookie;		/* HTTP_COOKIE, or NULL */
	char *accept;		/* HTTP_ACCEPT, or NULL */
	char *origin;		/* HTTP_ORIGIN, or NULL */

	char *body;		/* body_len bytes plus a NUL, never NULL */
	size_t body_len;

	struct jg_params env;	/* the parameters kept (see jg_request_parse) */

	/* jg_request_parse copies the parameters into this one block (env's
	 * pairs, their strings, and the fields above that point into it), so
	 * a request costs one allocation and one wipe; jg_request_clear frees
	 * every string outside it on its own. */
	char *block;
	size_t block_len;
};

/* Where the body comes from.  read reads at most len bytes into buf and
 * returns the number read, 0 at the end of the body, or -1 on an error.
 * has_end is true when the stream ends exactly after the body (FastCGI
 * stdin), so a body longer than CONTENT_LENGTH can be detected; a CGI stdin
 * may be the client connection itself, where reading past CONTENT_LENGTH
 * would block. */
struct jg_body_source {
	long (*read)(void *ctx, char *buf, size_t len);
	void *ctx;
	bool has_end;
};

/* Makes req empty (every pointer NULL, role responder), ready for
 * jg_request_parse. */
void jg_request_init(struct jg_request *req);
/* Wipes and frees everything in req and leaves it as after
 * jg_request_init.  Accepts NULL. */
void jg_request_clear(struct jg_request *req);

/* Fills req (which must be freshly initialised) from envp, a
 * NULL-terminated array of "NAME=value" strings (FastCGI parameters or
 * environ), reading the body from body (NULL: there is none).  role and
 * now are stored.  Entries without "=", with a name that is not made of
 * A-Z a-z 0-9 _ . - or is longer than JG_HTTP_MAX_PARAM_NAME, and repeated
 * names after the first are skipped (a CGI environment may hold anything).
 *
 * Checks, each with the status written to *status and a static reason to
 * *why (both may be NULL) when it fails:
 *   - more than JG_HTTP_MAX_ENV parameters kept, or an HTTP_ value longer
 *     than JG_HTTP_MAX_PARAM_VALUE: 431; a QUERY_STRING or REQUEST_URI
 *     that long: 414; another value of the request (REQUEST_METHOD,
 *     SCRIPT_NAME, PATH_INFO, CONTENT_TYPE, CONTENT_LENGTH, REMOTE_ADDR,
 *     HTTPS, REQUEST_SCHEME) that long: 400; other long values are
 *     skipped;
 *   - REQUEST_METHOD missing or not an RFC 9110 token of at most 16
 *     bytes: 400;
 *   - the path: SCRIPT_NAME followed by PATH_INFO (both already decoded by
 *     the server), or when both are empty the part of REQUEST_URI before
 *     "?" percent-decoded; then "." and ".." segments and repeated "/"
 *     removed.  It must start with "/", and must not hold an encoded "/",
 *     NUL, a control byte, a backslash or invalid UTF-8, nor climb above
 *     the root with "..": else 400;
 *   - for a responder, CONTENT_LENGTH (when present and not empty) that is
 *     not a plain decimal number (digits only, at most 18 of them): 400;
 *     larger than max_body: 413; a body shorter than CONTENT_LENGTH, or
 *     longer when body->has_end: 400.  Without CONTENT_LENGTH no body is
 *     read.  An authorizer never reads a body.
 * Returns JG_OK, or JG_ERR_MALFORMED for all of the above, or JG_ERR_SYSTEM
 * when reading the body failed (status 400 as well: the client went away).
 * On failure req holds whatever was parsed so far (method and path may be
 * set, for the error page) and must still be cleared. */
enum jg_err jg_request_parse(struct jg_request *req, const char *const *envp,
			     enum jg_role role, int64_t now,
			     const struct jg_body_source *body, size_t max_body,
			     int *status, const char **why);

/* Returns the value of any CGI/FastCGI parameter of the request (such as
 * "SERVER_NAME" or "HTTP_X_ORIGINAL_URI"), or NULL.  Points into req. */
const char *jg_request_param(const struct jg_request *req, const char *name);

/* Returns true when the media type of content_type (the part before ";",
 * white space trimmed) equals type, compared case-insensitively.  false
 * for NULL. */
bool jg_http_media_type_is(const char *content_type, const char *type);

/* Parses the body of req as a form: the request must have Content-Type
 * application/x-www-form-urlencoded (parameters such as charset allowed).
 * Returns what jg_params_parse returns; a missing or other content type is
 * JG_ERR_MALFORMED with *why "the body must be application/x-www-form-urlencoded". */
enum jg_err jg_request_form(const struct jg_request *req, struct jg_params *out,
			    const char **why);

/* ------------------------------------------------------------ headers */

/* Looks up the cookie called name in a Cookie header (RFC 6265 section
 * 4.2.1 cookie-string, "; " separated; white space around pairs is
 * tolerated and pairs that are not name=value are skipped, because other
 * applications on the same host may set odd cookies).  A value in double
 * quotes is returned without them.  When found, *value is a new string
 * (caller frees with jg_free_secret) holding the FIRST occurrence, and
 * *duplicate (when not NULL) says whether the name occurred more than once
 * (a sign of cookie tossing: the caller may refuse it).  Returns JG_OK,
 * JG_ERR_NOT_FOUND (no header or no such cookie), or JG_ERR_MALFORMED when
 * the first occurrence's value has bytes outside the RFC 6265 cookie-octet
 * set.  Outputs are written only on JG_OK. */
enum jg_err jg_cookie_get(const char *header, const char *name, char **value,
			  bool *duplicate);

/* Extracts the token of an "Authorization: Bearer <token>" header (RFC 6750
 * section 2.1): the scheme compared case-insensitively, one or more spaces,
 * then a b64token (ALPHA DIGIT - . _ ~ + / followed by any number of "="),
 * optionally trailing spaces or tabs.  On success *token is a new string
 * (caller frees with jg_free_secret) and JG_OK is returned.
 * JG_ERR_NOT_FOUND: header is NULL, empty, or of another scheme (the
 * request carries no bearer credentials).  JG_ERR_MALFORMED: the scheme is
 * Bearer but the token is missing, has other characters or is longer than
 * JG_HTTP_MAX_PARAM_VALUE. */
enum jg_err jg_http_bearer_token(const char *header, char **token);

/* Extracts client credentials from "Authorization: Basic <base64>" (RFC
 * 7617, with the RFC 6749 section 2.3.1 rule that the client id and secret
 * are each application/x-www-form-urlencoded before the "id:secret" string
 * is base64-encoded).  The scheme is case-insensitive; the base64 is
 * RFC 4648 section 4 with padding; the decoded text is split at its first
 * ":" and each half form-decoded (jg_form_decode).  The id must not be
 * empty; the secret may be.  On success *id and *secret are new strings
 * (free the secret with jg_free_secret) and JG_OK is returned.
 * JG_ERR_NOT_FOUND: header NULL, empty or of another scheme.
 * JG_ERR_MALFORMED: bad base64, no ":", bad encoding, NUL or invalid UTF-8. */
enum jg_err jg_http_basic_credentials(const char *header, char **id,
				      char **secret);

/* ------------------------------------------------------------ response */

struct jg_response {
	int status;			/* 0 until a writer sets it */
	struct jg_pair *headers;	/* in order, owned */
	size_t nheaders;
	char *body;			/* owned; body_len bytes (+ NUL) */
	size_t body_len;
	size_t body_cap;
	/* A static English description a handler may set before returning
	 * an error to the server loop (see server.h); not owned. */
	const char *error_description;
};

/* Makes resp empty: status 0, no headers, no body. */
void jg_response_init(struct jg_response *resp);
/* Wipes the body (it may hold tokens), frees everything, and leaves resp
 * as after jg_response_init.  Accepts NULL. */
void jg_response_clear(struct jg_response *resp);

/* Returns true when value may go into a header: no CR, LF, NUL or other
 * control byte except tab.  Used by every header setter below, so a value
 * from a request can never split a response. */
bool jg_http_header_value_ok(const char *value);

/* Adds a header (both strings are copied).  name must be an RFC 9110 token
 * of at most 64 bytes and value pass jg_http_header_value_ok, else nothing
 * is added and
 * JG_ERR_MALFORMED is returned.  add appends (for Set-Cookie, Vary ...);
 * set first removes every header of that name (compared
 * case-insensitively). */
enum jg_err jg_response_add_header(struct jg_response *resp, const char *name,
				   const char *value);
enum jg_err jg_response_set_header(struct jg_response *resp, const char *name,
				   const char *value);
/* Returns the value of the first header called name (case-insensitive), or
 * NULL.  Points into resp. */
const char *jg_response_header(const struct jg_response *resp, const char *name);

/* Replaces the body with a copy of len bytes at data. */
void jg_response_set_body(struct jg_response *resp, const void *data, size_t len);

/* Returns the reason phrase of an HTTP status ("OK", "Not Found" ...), or
 * "Unknown" for codes outside the table. */
const char *jg_http_reason(int status);

/* Serializes resp as a CGI response: "Status: 200 OK", the headers, a
 * Content-Length, an empty line and the body, lines ended by CRLF (headers
 * named Content-Length or Status in resp are left out: the framing is
 * computed here).  Returns
 * a new buffer (caller frees; wipe it, it may hold tokens) and its length
 * in *len.  A status of 0 is serialized as 500. */
char *jg_response_serialize(const struct jg_response *resp, size_t *len);

/* The writers below replace the status and body of resp and set the
 * headers they name; headers added before (a Set-Cookie, Vary) are kept.
 * Each returns JG_OK or JG_ERR_MALFORMED for an argument it refuses, in
 * which case resp is unchanged. */

/* status and obj serialized compactly, "Content-Type: application/json",
 * "Cache-Control: no-store" and "Pragma: no-cache" (RFC 6749 section 5.1;
 * every JSON answer of jwtgate is specific to one client or user). */
enum jg_err jg_http_json(struct jg_response *resp, int status,
			 const struct json_object *obj);
/* The same with a JSON text the caller serialized: resp takes text (len
 * bytes, NUL-terminated, from malloc) as its body; status out of range:
 * JG_ERR_MALFORMED, and text is freed. */
enum jg_err jg_http_json_text(struct jg_response *resp, int status, char *text,
			      size_t len);

/* An RFC 6749 section 5.2 error: status and the JSON object
 * {"error":error,"error_description":description} (description left out
 * when NULL), with the headers of jg_http_json.  error must be made of the
 * characters RFC 6749 allows (%x20-21 / %x23-5B / %x5D-7E), else
 * JG_ERR_MALFORMED; in description other bytes are replaced by "?". */
enum jg_err jg_http_oauth_error(struct jg_response *resp, int status,
				const char *error, const char *description);

/* The invalid_client error of RFC 6749 section 5.2: 401 with
 * "WWW-Authenticate: Basic realm="realm"" (a challenge for the scheme the
 * token endpoint supports; required when the client used Basic) and the
 * JSON of jg_http_oauth_error. */
enum jg_err jg_http_oauth_invalid_client(struct jg_response *resp,
					 const char *realm,
					 const char *description);

/* An RFC 6750 section 3 answer.  error NULL: 401 with
 * "WWW-Authenticate: Bearer realm="realm"" and no error attributes (the
 * request had no credentials) and an empty body.  Otherwise the status is
 * 400 for "invalid_request", 403 for "insufficient_scope" and 401 for
 * anything else (such as "invalid_token"), the challenge is
 *   Bearer realm="realm", error="error", error_description="description"
 * plus scope="scope" when scope is not NULL (description too may be NULL),
 * and the body is the JSON of jg_http_oauth_error.  Every quoted value is a
 * quoted-string: '"' and '\' are escaped with "\", bytes outside printable
 * ASCII are replaced by "?". */
enum jg_err jg_http_bearer_error(struct jg_response *resp, const char *realm,
				 const char *error, const char *description,
				 const char *scope);

/* An HTML page: status, the html as body, and always
 *   Content-Type: text/html; charset=utf-8
 *   Content-Security-Policy: default-src 'self'; frame-ancestors 'none';
 *     form-action 'self'[ TARGET ...]; base-uri 'none'
 *   X-Frame-Options: DENY
 *   Referrer-Policy: no-referrer
 *   Cache-Control: no-store
 *   X-Content-Type-Options: nosniff
 * form_targets is a NULL-terminated list of extra form-action sources (the
 * origins a form POST may be redirected to, such as a client's redirect
 * URI), or NULL.  A target with white space, a control byte, ";", ",",
 * "'" or '"' is refused with JG_ERR_MALFORMED. */
enum jg_err jg_http_html(struct jg_response *resp, int status, const char *html,
			 const char *const *form_targets);

/* A redirect: status 302 or 303 (anything else is JG_ERR_MALFORMED),
 * "Location: url", "Cache-Control: no-store", "Referrer-Policy:
 * no-referrer" and an empty body.  A url that fails jg_http_header_value_ok
 * or is empty is refused. */
enum jg_err jg_http_redirect(struct jg_response *resp, int status, const char *url);

/* Adds a Set-Cookie header:
 *   NAME=VALUE; Max-Age=N; Path=/; HttpOnly; SameSite=Lax[; Secure]
 * With https the name gets the "__Host-" prefix unless it has it already,
 * and "Secure" is added; without https a name starting with "__Host-" is
 * refused (browsers would drop it).  max_age < 0 leaves Max-Age out (a
 * session cookie); 0 deletes the cookie.  name must be an RFC 9110 token,
 * value only cookie-octets (RFC 6265 section 4.1.1), else
 * JG_ERR_MALFORMED. */
enum jg_err jg_http_set_cookie(struct jg_response *resp, const char *name,
			       const char *value, int64_t max_age, bool https);

/* The allow answer of the FastCGI AUTHORIZER role: status 200, an empty
 * body and one "Variable-NAME: value" header per pair, which the web server
 * turns into request variables.  Names must be A-Z 0-9 _ and not empty,
 * values must pass jg_http_header_value_ok, else JG_ERR_MALFORMED. */
enum jg_err jg_http_authorizer_allow(struct jg_response *resp,
				     const struct jg_kv *vars, size_t nvars);

/* Returns a new string (caller frees) with & < > " ' replaced by &amp;
 * &lt; &gt; &quot; &#39;. */
char *jg_html_escape(const char *s);

/* ------------------------------------------------------------ errors */

/* The flavour of an error answer: each program answers in its own format. */
enum jg_http_style {
	JG_STYLE_OAUTH = 0,	/* RFC 6749 section 5.2 JSON (token.fcgi) */
	JG_STYLE_BEARER,	/* RFC 6750 section 3 (resource.fcgi) */
	JG_STYLE_HTML		/* an HTML error page (authorize.fcgi) */
};

/* The one table from enum jg_err to an HTTP answer:
 *
 *   error              OAUTH               BEARER              HTML
 *   JG_ERR_MALFORMED   400 invalid_request 400 invalid_request 400 invalid_request
 *   JG_ERR_DENIED      400 invalid_grant   401 invalid_token   403 access_denied
 *   JG_ERR_NOT_FOUND   400 invalid_grant   401 invalid_token   404 invalid_request
 *   JG_ERR_EXISTS      400 invalid_request 400 invalid_request 409 invalid_request
 *   JG_ERR_BUSY        503 temporarily_unavailable (all styles) + Retry-After: 1
 *   JG_ERR_SYSTEM      500 server_error (all styles)
 *   JG_OK              200, no error
 *
 * A busy store is never a 500: the client is told to retry. */
int jg_http_status_for(enum jg_http_style style, enum jg_err err);
/* The OAuth error code of the table (RFC 6749 sections 4.1.2.1 and 5.2,
 * RFC 6750 section 3.1), or NULL for JG_OK. */
const char *jg_http_error_for(enum jg_http_style style, enum jg_err err);

/* Writes the complete answer of the table for err in the given style:
 * OAUTH through jg_http_oauth_error, BEARER through jg_http_bearer_error
 * (realm used there; a 503 or 500 gets the OAuth JSON instead of a
 * challenge), HTML as a short page with the status, its reason phrase and
 * the escaped description.  Adds "Retry-After: 1" for JG_ERR_BUSY.
 * description may be NULL. */
void jg_http_error_response(struct jg_response *resp, enum jg_http_style style,
			    enum jg_err err, const char *realm,
			    const char *description);

/* Writes a complete error answer for a status chosen outside the table (the
 * 413, 414 and 431 of jg_request_parse): OAUTH and BEARER give the OAuth
 * JSON with error "invalid_request", HTML a short page. */
void jg_http_status_response(struct jg_response *resp, enum jg_http_style style,
			     int status, const char *description);

#endif
