/* jwk.h: JSON Web Keys (RFC 7517/7518/8037), key sets, PEM, thumbprints. */
#ifndef JG_JWK_H
#define JG_JWK_H

#include <stdbool.h>
#include <stddef.h>
#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <json-c/json.h>
#include "util.h"

/* The JWS algorithms jwtgate signs and verifies.  "none" has no value. */
enum jg_alg {
	JG_ALG_UNKNOWN = 0,
	JG_ALG_HS256, JG_ALG_HS384, JG_ALG_HS512,
	JG_ALG_RS256, JG_ALG_RS384, JG_ALG_RS512,
	JG_ALG_PS256, JG_ALG_PS384, JG_ALG_PS512,
	JG_ALG_ES256, JG_ALG_ES384, JG_ALG_ES512,
	JG_ALG_EDDSA,
	JG_ALG_COUNT
};

/* Returns the JWA name ("RS256", "EdDSA", ...), or NULL for an unknown value. */
const char *jg_alg_name(enum jg_alg alg);
/* Returns the algorithm with exactly this name (case-sensitive, as RFC 7515
 * requires), or JG_ALG_UNKNOWN; "none" is unknown. */
enum jg_alg jg_alg_from_name(const char *name);
/* The same for the n bytes at name (no NUL needed). */
enum jg_alg jg_alg_from_bytes(const char *name, size_t n);
/* Digest size in bytes of the algorithm's hash (32, 48, 64; 64 for EdDSA). */
size_t jg_alg_hash_len(enum jg_alg alg);

enum jg_kty {
	JG_KTY_RSA = 1,
	JG_KTY_EC,
	JG_KTY_OKP,
	JG_KTY_OCT
};

/* Operations a key may be used for, from "use" and "key_ops". */
#define JG_KEYOP_SIGN   0x1u
#define JG_KEYOP_VERIFY 0x2u

#define JG_RSA_MIN_BITS 2048

/* One key.  Fields are read-only outside jwk.c. */
struct jg_jwk {
	enum jg_kty kty;
	enum jg_alg alg;	/* the JWK's "alg" member, or JG_ALG_UNKNOWN */
	char *kid;		/* "kid" member, or NULL */
	unsigned ops;		/* JG_KEYOP_* permitted; both unless restricted */
	gnutls_ecc_curve_t curve; /* EC and OKP keys */
	unsigned bits;		/* RSA modulus, EC field, or oct key size in bits */
	gnutls_pubkey_t pub;	/* RSA, EC, OKP; NULL for oct */
	gnutls_privkey_t priv;	/* NULL unless the private part is present */
	unsigned char *secret;	/* oct keys only; wiped on free */
	size_t secret_len;
	/* oct keys: HMAC-SHA-256, -384 and -512 already keyed with secret, so
	 * that a signature or check does not hash the key pads again; NULL
	 * where GnuTLS could not make one that resets to the keyed state.
	 * jws.c uses a state in place while it holds hmac_busy[i] (taken
	 * atomically), and a freshly keyed HMAC when another thread holds
	 * it. */
	gnutls_hmac_hd_t hmac[3];
	int hmac_busy[3];
};

/* Imports a JWK from a json-c object.  Supports RSA (modulus of at least
 * JG_RSA_MIN_BITS bits), EC P-256/P-384/P-521 (point checked on the curve),
 * OKP Ed25519, and oct; a private key when "d" (and the RSA CRT members) are
 * present.  Honours "alg", "use", "key_ops" and "kid".  On success *out is a
 * new key (caller frees with jg_jwk_free).  Returns JG_ERR_MALFORMED with a
 * static reason in *why (when not NULL) for anything else. */
enum jg_err jg_jwk_from_json(const struct json_object *obj, struct jg_jwk **out,
			     const char **why);

/* Parses len bytes of strict JSON text as one JWK; as jg_jwk_from_json. */
enum jg_err jg_jwk_parse(const char *text, size_t len, struct jg_jwk **out,
			 const char **why);

/* Returns a new JSON object for the key (caller puts it): the public members,
 * and the private ones too when with_private is true and the key has them;
 * "kid", "alg", "use" when set. */
struct json_object *jg_jwk_to_json(const struct jg_jwk *key, bool with_private);

/* Imports a PEM key: PKCS#8 "PRIVATE KEY" (also "RSA PRIVATE KEY" and "EC
 * PRIVATE KEY") or SPKI "PUBLIC KEY".  The kid is set to the RFC 7638
 * thumbprint and alg is left unknown.  Same ownership and errors as
 * jg_jwk_from_json. */
enum jg_err jg_jwk_from_pem(const char *pem, size_t len, struct jg_jwk **out,
			    const char **why);

/* Imports the public part of a PEM private key (the labels of
 * jg_jwk_from_pem; a "PUBLIC KEY" is refused, reason "not a private key"):
 * the new key has no private part, and the private members are parsed but
 * not checked against the public ones (no RSA consistency signature, no EC
 * point multiplication), which makes it much cheaper for a key that will
 * only verify.  kid is the RFC 7638 thumbprint.  Same ownership and errors
 * as jg_jwk_from_pem. */
enum jg_err jg_jwk_public_from_pem(const char *pem, size_t len,
				   struct jg_jwk **out, const char **why);

/* Exports a key as PEM: PKCS#8 private key when with_private (the key must
 * have one), otherwise SPKI public key.  oct keys cannot be exported.  On
 * success *out is a new NUL-terminated string (caller frees; it holds a
 * secret when with_private) and JG_OK returned. */
enum jg_err jg_jwk_to_pem(const struct jg_jwk *key, bool with_private, char **out);

/* Generates a new private key for alg: RSA of bits bits (0 means 2048; at
 * least JG_RSA_MIN_BITS) for RS* and PS*, the curve for ES*, Ed25519 for
 * EdDSA, and a random secret of the hash length for HS*.  The key's alg is
 * set, and kid is its RFC 7638 thumbprint.  Caller frees *out. */
enum jg_err jg_jwk_generate(enum jg_alg alg, unsigned bits, struct jg_jwk **out);

/* Computes the RFC 7638 SHA-256 thumbprint, base64url encoded, into a new
 * string *out (caller frees). */
enum jg_err jg_jwk_thumbprint(const struct jg_jwk *key, char **out);

/* Sets the key's "alg" (what a JWK's "alg" member would), so that it is used
 * for alg only.  JG_ERR_MALFORMED, and nothing changed, when alg does not fit
 * the key's type and curve or the key has another alg already. */
enum jg_err jg_jwk_set_alg(struct jg_jwk *key, enum jg_alg alg);

/* Returns a new key holding only the public part of key (for oct keys, a
 * copy).  Caller frees. */
struct jg_jwk *jg_jwk_public(const struct jg_jwk *key);

/* Returns true when the key decides that it may be used with alg for op
 * (JG_KEYOP_SIGN or JG_KEYOP_VERIFY): its type, curve and size fit alg, its
 * own "alg" (when present) equals alg, "use"/"key_ops" permit op, and for
 * signing it has a private part.  An HMAC algorithm is only ever usable with
 * an oct key, and an oct key only with HMAC. */
bool jg_jwk_usable(const struct jg_jwk *key, enum jg_alg alg, unsigned op);

/* Frees a key, wiping secret material.  Accepts NULL. */
void jg_jwk_free(struct jg_jwk *key);

/* A JWK Set. */
struct jg_jwks {
	struct jg_jwk **keys;
	size_t count;
};

/* Returns a new empty set. */
struct jg_jwks *jg_jwks_new(void);
/* Adds key to the set, which takes ownership. */
void jg_jwks_add(struct jg_jwks *set, struct jg_jwk *key);
/* Imports {"keys":[...]}.  Keys of a kty or crv jwtgate does not know are
 * skipped (RFC 7517 section 5); a malformed key of a known type fails the
 * whole set.  Caller frees *out. */
enum jg_err jg_jwks_from_json(const struct json_object *obj, struct jg_jwks **out,
			      const char **why);
enum jg_err jg_jwks_parse(const char *text, size_t len, struct jg_jwks **out,
			  const char **why);
/* Returns a new {"keys":[...]} object (caller puts it). */
struct json_object *jg_jwks_to_json(const struct jg_jwks *set, bool with_private);
/* Reads a file holding a PEM key, a JWK or a JWK Set into a new set. */
enum jg_err jg_jwks_load_file(const char *path, struct jg_jwks **out,
			      const char **why);
/* Frees the set and its keys.  Accepts NULL. */
void jg_jwks_free(struct jg_jwks *set);

#endif
