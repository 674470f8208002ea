/* jwk.c: JSON Web Keys (RFC 7517/7518/8037), key sets, PEM, thumbprints. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "b64url.h"
#include "json.h"
#include "jwk.h"

/* Largest RSA modulus accepted: what GnuTLS itself supports. */
#define RSA_MAX_BITS 16384
#define RSA_MAX_BYTES (RSA_MAX_BITS / 8)
/* Largest HMAC secret accepted, in bytes. */
#define OCT_MAX_BYTES 1024
/* Largest field element (P-521), in bytes. */
#define FIELD_MAX_BYTES 66
/* At most this many keys in a JWK Set, and entries in "key_ops". */
#define JWKS_MAX_KEYS 100
#define KEY_OPS_MAX 16
/* Largest key file jg_jwks_load_file reads. */
#define KEY_FILE_MAX (1024 * 1024)

#define OPS_ALL (JG_KEYOP_SIGN | JG_KEYOP_VERIFY)

struct alg_info {
	const char *name;
	size_t hash_len;
	enum jg_kty kty;
	gnutls_ecc_curve_t curve;	/* EC and OKP algorithms only */
};

static const struct alg_info algs[JG_ALG_COUNT] = {
	[JG_ALG_HS256] = { "HS256", 32, JG_KTY_OCT, GNUTLS_ECC_CURVE_INVALID },
	[JG_ALG_HS384] = { "HS384", 48, JG_KTY_OCT, GNUTLS_ECC_CURVE_INVALID },
	[JG_ALG_HS512] = { "HS512", 64, JG_KTY_OCT, GNUTLS_ECC_CURVE_INVALID },
	[JG_ALG_RS256] = { "RS256", 32, JG_KTY_RSA, GNUTLS_ECC_CURVE_INVALID },
	[JG_ALG_RS384] = { "RS384", 48, JG_KTY_RSA, GNUTLS_ECC_CURVE_INVALID },
	[JG_ALG_RS512] = { "RS512", 64, JG_KTY_RSA, GNUTLS_ECC_CURVE_INVALID },
	[JG_ALG_PS256] = { "PS256", 32, JG_KTY_RSA, GNUTLS_ECC_CURVE_INVALID },
	[JG_ALG_PS384] = { "PS384", 48, JG_KTY_RSA, GNUTLS_ECC_CURVE_INVALID },
	[JG_ALG_PS512] = { "PS512", 64, JG_KTY_RSA, GNUTLS_ECC_CURVE_INVALID },
	[JG_ALG_ES256] = { "ES256", 32, JG_KTY_EC, GNUTLS_ECC_CURVE_SECP256R1 },
	[JG_ALG_ES384] = { "ES384", 48, JG_KTY_EC, GNUTLS_ECC_CURVE_SECP384R1 },
	[JG_ALG_ES512] = { "ES512", 64, JG_KTY_EC, GNUTLS_ECC_CURVE_SECP521R1 },
	[JG_ALG_EDDSA] = { "EdDSA", 64, JG_KTY_OKP, GNUTLS_ECC_CURVE_ED25519 },
};

struct curve_info {
	const char *name;
	enum jg_kty kty;
	gnutls_ecc_curve_t curve;
	size_t size;		/* bytes of a coordinate or private scalar */
	unsigned bits;
};

static const struct curve_info curves[] = {
	{ "P-256", JG_KTY_EC, GNUTLS_ECC_CURVE_SECP256R1, 32, 256 },
	{ "P-384", JG_KTY_EC, GNUTLS_ECC_CURVE_SECP384R1, 48, 384 },
	{ "P-521", JG_KTY_EC, GNUTLS_ECC_CURVE_SECP521R1, 66, 521 },
	{ "Ed25519", JG_KTY_OKP, GNUTLS_ECC_CURVE_ED25519, 32, 256 },
};
#define NCURVES (sizeof(curves) / sizeof(curves[0]))

/* A decoded base64url member; data is NULL when the member is absent. */
struct bytes {
	unsigned char *data;
	size_t len;
};

/* The base64url members of a key, as jg_jwk_to_json and the thumbprint
 * write them; NULL when absent. */
struct parts {
	const char *crv;
	char *n, *e, *x, *y;
	char *d, *p, *q, *dp, *dq, *qi, *k;
};

const char *
jg_alg_name(enum jg_alg alg)
{
	if ((unsigned)alg >= JG_ALG_COUNT)
		return NULL;
	return algs[alg].name;
}

enum jg_alg
jg_alg_from_name(const char *name)
{
	if (name == NULL)
		return JG_ALG_UNKNOWN;
	return jg_alg_from_bytes(name, strlen(name));
}

enum jg_alg
jg_alg_from_bytes(const char *name, size_t n)
{
	unsigned i;

	if (name == NULL || n == 0)
		return JG_ALG_UNKNOWN;
	for (i = JG_ALG_UNKNOWN + 1; i < JG_ALG_COUNT; i++)
		if (algs[i].name[0] == name[0] && strlen(algs[i].name) == n &&
		    memcmp(algs[i].name, name, n) == 0)
			return (enum jg_alg)i;
	return JG_ALG_UNKNOWN;
}

size_t
jg_alg_hash_len(enum jg_alg alg)
{
	if ((unsigned)alg >= JG_ALG_COUNT)
		return 0;
	return algs[alg].hash_len;
}

static const struct curve_info *
curve_by_name(enum jg_kty kty, const char *name)
{
	size_t i;

	for (i = 0; i < NCURVES; i++)
		if (curves[i].kty == kty && strcmp(curves[i].name, name) == 0)
			return &curves[i];
	return NULL;
}

static const struct curve_info *
curve_by_id(enum jg_kty kty, gnutls_ecc_curve_t curve)
{
	size_t i;

	for (i = 0; i < NCURVES; i++)
		if (curves[i].kty == kty && curves[i].curve == curve)
			return &curves[i];
	return NULL;
}

/* True when alg is a signature algorithm for keys of this type and curve. */
static bool
alg_fits(enum jg_alg alg, enum jg_kty kty, gnutls_ecc_curve_t curve)
{
	if (alg <= JG_ALG_UNKNOWN || alg >= JG_ALG_COUNT)
		return false;
	if (algs[alg].kty != kty)
		return false;
	if (kty == JG_KTY_EC || kty == JG_KTY_OKP)
		return algs[alg].curve == curve;
	return true;
}

static void
bytes_clear(struct bytes *b)
{
	if (b->data) {
		jg_wipe(b->data, b->len);
		free(b->data);
	}
	b->data = NULL;
	b->len = 0;
}

static gnutls_datum_t
bytes_datum(const struct bytes *b)
{
	gnutls_datum_t d = { b->data, (unsigned)b->len };

	return d;
}

/* Wipes and frees a datum GnuTLS allocated. */
static void
datum_clear(gnutls_datum_t *d)
{
	if (d->data) {
		jg_wipe(d->data, d->size);
		gnutls_free(d->data);
	}
	d->data = NULL;
	d->size = 0;
}

static void
parts_clear(struct parts *pt)
{
	free(pt->n);
	free(pt->e);
	free(pt->x);
	free(pt->y);
	jg_free_secret(pt->d);
	jg_free_secret(pt->p);
	jg_free_secret(pt->q);
	jg_free_secret(pt->dp);
	jg_free_secret(pt->dq);
	jg_free_secret(pt->qi);
	jg_free_secret(pt->k);
	memset(pt, 0, sizeof(*pt));
}

/* Looks up member name.  Returns false when absent; otherwise true with
 * *value the member (NULL for a JSON null). */
static bool
member(const struct json_object *obj, const char *name, struct json_object **value)
{
	*value = NULL;
	return json_object_object_get_ex(obj, name, value);
}

/* Reads member name as a string.  Returns JG_OK with *out NULL when absent,
 * JG_OK with *out pointing into obj when it is a string without NUL bytes,
 * and JG_ERR_MALFORMED for any other JSON type. */
static enum jg_err
member_string(const struct json_object *obj, const char *name, const char **out,
	      size_t *len)
{
	struct json_object *v;
	const char *s;
	int n;

	*out = NULL;
	*len = 0;
	if (!member(obj, name, &v))
		return JG_OK;
	if (v == NULL || !json_object_is_type(v, json_type_string))
		return JG_ERR_MALFORMED;
	n = json_object_get_string_len(v);
	s = json_object_get_string(v);
	if (n < 0 || s == NULL || strlen(s) != (size_t)n)
		return JG_ERR_MALFORMED;
	*out = s;
	*len = (size_t)n;
	return JG_OK;
}

/* Decodes the base64url member name into *out (left empty when absent).
 * The member must be a string of strict base64url decoding to between 1
 * and max bytes; JG_ERR_MALFORMED otherwise. */
static enum jg_err
decode_member(const struct json_object *obj, const char *name, size_t max,
	      struct bytes *out)
{
	const char *s;
	size_t len, dlen;
	unsigned char *buf;

	out->data = NULL;
	out->len = 0;
	if (member_string(obj, name, &s, &len) != JG_OK)
		return JG_ERR_MALFORMED;
	if (s == NULL)
		return JG_OK;
	/* Bound the input before decoding it. */
	if (len == 0 || len > jg_b64url_encoded_len(max))
		return JG_ERR_MALFORMED;
	if (jg_b64url_decode(s, len, &buf, &dlen) != JG_OK)
		return JG_ERR_MALFORMED;
	if (dlen == 0 || dlen > max) {
		jg_wipe(buf, dlen);
		free(buf);
		return JG_ERR_MALFORMED;
	}
	out->data = buf;
	out->len = dlen;
	return JG_OK;
}

/* Number of significant bits of a big-endian number without leading zero
 * bytes. */
static unsigned
bit_length(const unsigned char *p, size_t len)
{
	unsigned bits;
	unsigned char top;

	if (len == 0)
		return 0;
	top = p[0];
	bits = (unsigned)(len - 1) * 8;
	while (top) {
		bits++;
		top >>= 1;
	}
	return bits;
}

/* Signs a fixed message with priv and verifies it with pub.  GnuTLS checks
 * that p * q = n but not that the CRT exponents and coefficient belong to
 * the key, and signing uses those; a mismatched key fails here rather than
 * at the first real signature. */
static bool
rsa_pair_matches(gnutls_privkey_t priv, gnutls_pubkey_t pub)
{
	unsigned char msg[] = "jwtgate RSA key consistency check";
	gnutls_datum_t data = { msg, sizeof(msg) - 1 };
	gnutls_datum_t sig = { NULL, 0 };
	bool ok;

	ok = gnutls_privkey_sign_data(priv, GNUTLS_DIG_SHA256, 0, &data, &sig) == 0 &&
	    gnutls_pubkey_verify_data2(pub, GNUTLS_SIGN_RSA_SHA256, 0, &data, &sig) >= 0;
	gnutls_free(sig.data);
	return ok;
}

/* Compares a number with and without leading zero bytes. */
static bool
same_number(const gnutls_datum_t *a, const gnutls_datum_t *b)
{
	const unsigned char *pa = a->data, *pb = b->data;
	size_t la = a->size, lb = b->size;

	while (la && *pa == 0) {
		pa++;
		la--;
	}
	while (lb && *pb == 0) {
		pb++;
		lb--;
	}
	return jg_ct_equal(pa, la, pb, lb);
}

/* GnuTLS recomputes dp, dq and qi from d, p and q on import and ignores
 * the given ones; a JWK whose CRT values do not belong to its key is
 * refused rather than silently repaired.  priv is d, p, q, dp, dq, qi. */
static bool
rsa_crt_matches(gnutls_privkey_t pk, const gnutls_datum_t *priv)
{
	gnutls_datum_t v[8];
	bool ok;
	size_t i;

	memset(v, 0, sizeof(v));
	ok = gnutls_privkey_export_rsa_raw2(pk, &v[0], &v[1], &v[2], &v[3], &v[4],
					    &v[5], &v[6], &v[7],
					    GNUTLS_EXPORT_FLAG_NO_LZ) == 0 &&
	    same_number(&v[2], &priv[0]) && same_number(&v[3], &priv[1]) &&
	    same_number(&v[4], &priv[2]) && same_number(&v[6], &priv[3]) &&
	    same_number(&v[7], &priv[4]) && same_number(&v[5], &priv[5]);
	for (i = 0; i < 8; i++)
		datum_clear(&v[i]);
	return ok;
}

/* Fills key's RSA fields from the modulus and exponent (big-endian, no
 * leading zero byte) and, when priv is not NULL, the six private values
 * d, p, q, dp, dq, qi. */
static enum jg_err
build_rsa(struct jg_jwk *key, const gnutls_datum_t *n, const gnutls_datum_t *e,
	  const gnutls_datum_t *priv, const char **reason)
{
	unsigned bits;
	size_t i;

	if (n->size == 0 || n->data[0] == 0 || e->size == 0 || e->data[0] == 0) {
		*reason = "RSA \"n\" and \"e\" must not have leading zero octets";
		return JG_ERR_MALFORMED;
	}
	bits = bit_length(n->data, n->size);
	if (bits < JG_RSA_MIN_BITS) {
		*reason = "RSA modulus shorter than 2048 bits";
		return JG_ERR_MALFORMED;
	}
	if (bits > RSA_MAX_BITS) {
		*reason = "RSA modulus too long";
		return JG_ERR_MALFORMED;
	}
	/* An even or tiny public exponent is no RSA key. */
	if (e->size > n->size || (e->data[e->size - 1] & 1) == 0 ||
	    (e->size == 1 && e->data[0] < 3)) {
		*reason = "bad RSA public exponent";
		return JG_ERR_MALFORMED;
	}
	if (gnutls_pubkey_init(&key->pub) < 0) {
		key->pub = NULL;
		*reason = "cannot allocate an RSA key";
		return JG_ERR_SYSTEM;
	}
	if (gnutls_pubkey_import_rsa_raw(key->pub, n, e) < 0 ||
	    gnutls_pubkey_verify_params(key->pub) < 0) {
		*reason = "GnuTLS refused the RSA public key";
		return JG_ERR_MALFORMED;
	}
	key->kty = JG_KTY_RSA;
	key->bits = bits;
	key->curve = GNUTLS_ECC_CURVE_INVALID;
	if (priv == NULL)
		return JG_OK;
	for (i = 0; i < 6; i++) {
		if (priv[i].size == 0) {
			*reason = "empty RSA private member";
			return JG_ERR_MALFORMED;
		}
	}
	if (gnutls_privkey_init(&key->priv) < 0) {
		key->priv = NULL;
		*reason = "cannot allocate an RSA key";
		return JG_ERR_SYSTEM;
	}
	/* GnuTLS calls the CRT coefficient u and the exponents e1, e2. */
	if (gnutls_privkey_import_rsa_raw(key->priv, n, e, &priv[0], &priv[1],
					  &priv[2], &priv[5], &priv[3], &priv[4]) < 0 ||
	    gnutls_privkey_verify_params(key->priv) < 0 ||
	    !rsa_crt_matches(key->priv, priv) ||
	    !rsa_pair_matches(key->priv, key->pub)) {
		*reason = "inconsistent RSA private key";
		return JG_ERR_MALFORMED;
	}
	return JG_OK;
}

/* Fills key's EC or OKP fields from the coordinates (y NULL for OKP), each
 * exactly the curve's size, and the private scalar d (or NULL).  The point
 * is checked on the curve: GnuTLS imports any coordinates, and an off-curve
 * point opens the invalid-curve attack. */
static enum jg_err
build_curve(struct jg_jwk *key, const struct curve_info *ci,
	    const gnutls_datum_t *x, const gnutls_datum_t *y,
	    const gnutls_datum_t *d, const char **reason)
{
	if (x->size != ci->size || (ci->kty == JG_KTY_EC && y->size != ci->size)) {
		*reason = "public key coordinate is not the curve's size";
		return JG_ERR_MALFORMED;
	}
	if (d && d->size != ci->size) {
		*reason = "private key \"d\" is not the curve's size";
		return JG_ERR_MALFORMED;
	}
	if (gnutls_pubkey_init(&key->pub) < 0) {
		key->pub = NULL;
		*reason = "cannot allocate a key";
		return JG_ERR_SYSTEM;
	}
	if (gnutls_pubkey_import_ecc_raw(key->pub, ci->curve, x,
					 ci->kty == JG_KTY_EC ? y : NULL) < 0 ||
	    gnutls_pubkey_verify_params(key->pub) < 0) {
		*reason = "public key point is not on the curve";
		return JG_ERR_MALFORMED;
	}
	key->kty = ci->kty;
	key->curve = ci->curve;
	key->bits = ci->bits;
	if (d == NULL)
		return JG_OK;
	if (gnutls_privkey_init(&key->priv) < 0) {
		key->priv = NULL;
		*reason = "cannot allocate a key";
		return JG_ERR_SYSTEM;
	}
	/* verify_params checks that d generates the public point. */
	if (gnutls_privkey_import_ecc_raw(key->priv, ci->curve, x,
					  ci->kty == JG_KTY_EC ? y : NULL, d) < 0 ||
	    gnutls_privkey_verify_params(key->priv) < 0) {
		*reason = "private key \"d\" does not match the public key";
		return JG_ERR_MALFORMED;
	}
	return JG_OK;
}

/* Keys the HMAC states of an oct key once.  jws.c reuses a state in place:
 * gnutls_hmac_output gives the tag and returns the state to the keyed one.
 * A state is kept only when two messages in a row, through it, give the tags
 * a freshly keyed HMAC gives; otherwise jws.c keys one per operation. */
static void
keyed_hmac_states(struct jg_jwk *key)
{
	static const gnutls_mac_algorithm_t macs[3] = {
		GNUTLS_MAC_SHA256, GNUTLS_MAC_SHA384, GNUTLS_MAC_SHA512
	};
	static const char probe[2][12] = { "jwtgate-one", "jwtgate-two" };
	unsigned char got[64], want[64];
	size_t i, m, n;
	bool same;

	for (i = 0; i < 3; i++) {
		key->hmac[i] = NULL;
		key->hmac_busy[i] = 0;
		if (gnutls_hmac_init(&key->hmac[i], macs[i], key->secret,
				     key->secret_len) < 0) {
			key->hmac[i] = NULL;
			continue;
		}
		n = gnutls_hmac_get_len(macs[i]);
		same = n > 0 && n <= sizeof(got);
		for (m = 0; same && m < 2; m++) {
			same = gnutls_hmac(key->hmac[i], probe[m],
					   sizeof(probe[m])) >= 0;
			gnutls_hmac_output(key->hmac[i], got);
			same = same && gnutls_hmac_fast(macs[i], key->secret,
							key->secret_len,
							probe[m], sizeof(probe[m]),
							want) >= 0 &&
			       memcmp(got, want, n) == 0;
		}
		jg_wipe(got, sizeof(got));
		jg_wipe(want, sizeof(want));
		if (!same) {
			gnutls_hmac_deinit(key->hmac[i], NULL);
			key->hmac[i] = NULL;
		}
	}
}

static enum jg_err
build_oct(struct jg_jwk *key, const unsigned char *k, size_t len, const char **reason)
{
	if (len == 0 || len > OCT_MAX_BYTES) {
		*reason = "bad size of symmetric key \"k\"";
		return JG_ERR_MALFORMED;
	}
	key->kty = JG_KTY_OCT;
	key->secret = jg_xmalloc(len);
	memcpy(key->secret, k, len);
	key->secret_len = len;
	key->bits = (unsigned)(len * 8);
	key->curve = GNUTLS_ECC_CURVE_INVALID;
	keyed_hmac_states(key);
	return JG_OK;
}

static enum jg_err
rsa_from_json(const struct json_object *obj, struct jg_jwk *key, const char **reason)
{
	static const char *const names[8] = {
		"n", "e", "d", "p", "q", "dp", "dq", "qi"
	};
	static const char *const bad[8] = {
		"RSA \"n\" is not a string of strict base64url",
		"RSA \"e\" is not a string of strict base64url",
		"RSA \"d\" is not a string of strict base64url",
		"RSA \"p\" is not a string of strict base64url",
		"RSA \"q\" is not a string of strict base64url",
		"RSA \"dp\" is not a string of strict base64url",
		"RSA \"dq\" is not a string of strict base64url",
		"RSA \"qi\" is not a string of strict base64url",
	};
	struct bytes b[8];
	gnutls_datum_t dat[8];
	struct json_object *v;
	enum jg_err err = JG_ERR_MALFORMED;
	size_t i, nprivate = 0;

	memset(b, 0, sizeof(b));
	if (member(obj, "oth", &v)) {
		*reason = "multi-prime RSA keys (\"oth\") are not supported";
		goto out;
	}
	for (i = 0; i < 8; i++) {
		if (decode_member(obj, names[i], RSA_MAX_BYTES, &b[i]) != JG_OK) {
			*reason = bad[i];
			goto out;
		}
		dat[i] = bytes_datum(&b[i]);
		if (i >= 2 && b[i].data)
			nprivate++;
	}
	if (b[0].data == NULL || b[1].data == NULL) {
		*reason = "RSA key without \"n\" or \"e\"";
		goto out;
	}
	if (nprivate != 0 && nprivate != 6) {
		/* GnuTLS signs with the CRT values and cannot derive them
		 * from d alone. */
		*reason = b[2].data ? "private RSA key needs \"p\", \"q\", \"dp\", "
		    "\"dq\" and \"qi\" as well as \"d\" (GnuTLS signs with the "
		    "CRT values)" : "RSA CRT members without \"d\"";
		goto out;
	}
	err = build_rsa(key, &dat[0], &dat[1], nprivate ? &dat[2] : NULL, reason);
out:
	for (i = 0; i < 8; i++)
		bytes_clear(&b[i]);
	return err;
}

static enum jg_err
curve_from_json(const struct json_object *obj, struct jg_jwk *key,
		const struct curve_info *ci, const char **reason)
{
	struct bytes x = { NULL, 0 }, y = { NULL, 0 }, d = { NULL, 0 };
	gnutls_datum_t dx, dy, dd;
	enum jg_err err = JG_ERR_MALFORMED;

	if (decode_member(obj, "x", FIELD_MAX_BYTES, &x) != JG_OK || x.data == NULL) {
		*reason = "\"x\" missing or not a string of strict base64url";
		goto out;
	}
	if (ci->kty == JG_KTY_EC &&
	    (decode_member(obj, "y", FIELD_MAX_BYTES, &y) != JG_OK || y.data == NULL)) {
		*reason = "\"y\" missing or not a string of strict base64url";
		goto out;
	}
	if (decode_member(obj, "d", FIELD_MAX_BYTES, &d) != JG_OK) {
		*reason = "\"d\" is not a string of strict base64url";
		goto out;
	}
	dx = bytes_datum(&x);
	dy = bytes_datum(&y);
	dd = bytes_datum(&d);
	err = build_curve(key, ci, &dx, &dy, d.data ? &dd : NULL, reason);
out:
	bytes_clear(&x);
	bytes_clear(&y);
	bytes_clear(&d);
	return err;
}

static enum jg_err
oct_from_json(const struct json_object *obj, struct jg_jwk *key, const char **reason)
{
	struct bytes k = { NULL, 0 };
	enum jg_err err;

	if (decode_member(obj, "k", OCT_MAX_BYTES, &k) != JG_OK || k.data == NULL) {
		*reason = "\"k\" missing, empty, too long or not strict base64url";
		return JG_ERR_MALFORMED;
	}
	err = build_oct(key, k.data, k.len, reason);
	bytes_clear(&k);
	return err;
}

/* Reads "use", "key_ops" (RFC 7517 sections 4.2, 4.3) into key->ops. */
static enum jg_err
ops_from_json(const struct json_object *obj, struct jg_jwk *key, const char **reason)
{
	static const char *const other_ops[] = {
		"encrypt", "decrypt", "wrapKey", "unwrapKey", "deriveKey", "deriveBits"
	};
	struct json_object *arr, *el;
	const char *use, *names[KEY_OPS_MAX];
	size_t use_len, n, i, j;
	unsigned use_ops = OPS_ALL, list_ops = OPS_ALL;
	bool has_list, other = false;

	if (member_string(obj, "use", &use, &use_len) != JG_OK) {
		*reason = "\"use\" is not a string";
		return JG_ERR_MALFORMED;
	}
	/* Anything but a signature key ("enc" or a private value) is never
	 * used for JWS. */
	if (use)
		use_ops = strcmp(use, "sig") == 0 ? OPS_ALL : 0;
	has_list = member(obj, "key_ops", &arr);
	if (has_list) {
		if (arr == NULL || !json_object_is_type(arr, json_type_array)) {
			*reason = "\"key_ops\" is not an array";
			return JG_ERR_MALFORMED;
		}
		n = json_object_array_length(arr);
		if (n > KEY_OPS_MAX) {
			*reason = "\"key_ops\" has too many entries";
			return JG_ERR_MALFORMED;
		}
		list_ops = 0;
		for (i = 0; i < n; i++) {
			el = json_object_array_get_idx(arr, i);
			if (el == NULL || !json_object_is_type(el, json_type_string) ||
			    strlen(json_object_get_string(el)) !=
			    (size_t)json_object_get_string_len(el)) {
				*reason = "\"key_ops\" entry is not a string";
				return JG_ERR_MALFORMED;
			}
			names[i] = json_object_get_string(el);
			for (j = 0; j < i; j++) {
				if (strcmp(names[i], names[j]) == 0) {
					*reason = "duplicate \"key_ops\" entry";
					return JG_ERR_MALFORMED;
				}
			}
			if (strcmp(names[i], "sign") == 0)
				list_ops |= JG_KEYOP_SIGN;
			else if (strcmp(names[i], "verify") == 0)
				list_ops |= JG_KEYOP_VERIFY;
			for (j = 0; j < sizeof(other_ops) / sizeof(other_ops[0]); j++)
				if (strcmp(names[i], other_ops[j]) == 0)
					other = true;
		}
	}
	/* RFC 7517 section 4.3: both present must agree. */
	if (use && has_list &&
	    ((use_ops && other) ||
	     (strcmp(use, "enc") == 0 && list_ops != 0))) {
		*reason = "\"use\" and \"key_ops\" disagree";
		return JG_ERR_MALFORMED;
	}
	key->ops = use_ops & list_ops;
	return JG_OK;
}

/* Imports one JWK.  *unknown is set when the key is of a type or curve
 * jwtgate does not know, which a JWK Set skips. */
static enum jg_err
key_from_json(const struct json_object *obj, struct jg_jwk **out,
	      const char **reason, bool *unknown)
{
	struct jg_jwk *key = NULL;
	const struct curve_info *ci = NULL;
	const char *kty, *crv, *alg, *kid;
	size_t len;
	enum jg_err err = JG_ERR_MALFORMED;
	bool foreign_alg = false;

	*unknown = false;
	if (obj == NULL || !json_object_is_type(obj, json_type_object)) {
		*reason = "a JWK must be a JSON object";
		goto out;
	}
	if (member_string(obj, "kty", &kty, &len) != JG_OK || kty == NULL) {
		*reason = "\"kty\" missing or not a string";
		goto out;
	}
	key = jg_xcalloc(1, sizeof(*key));
	if (strcmp(kty, "RSA") == 0)
		key->kty = JG_KTY_RSA;
	else if (strcmp(kty, "EC") == 0)
		key->kty = JG_KTY_EC;
	else if (strcmp(kty, "OKP") == 0)
		key->kty = JG_KTY_OKP;
	else if (strcmp(kty, "oct") == 0)
		key->kty = JG_KTY_OCT;
	else {
		*unknown = true;
		*reason = "unknown key type \"kty\"";
		goto out;
	}
	if (key->kty == JG_KTY_EC || key->kty == JG_KTY_OKP) {
		if (member_string(obj, "crv", &crv, &len) != JG_OK || crv == NULL) {
			*reason = "\"crv\" missing or not a string";
			goto out;
		}
		ci = curve_by_name(key->kty, crv);
		if (ci == NULL) {
			*unknown = true;
			*reason = "unsupported curve \"crv\"";
			goto out;
		}
		key->curve = ci->curve;
	}
	if (member_string(obj, "alg", &alg, &len) != JG_OK) {
		*reason = "\"alg\" is not a string";
		goto out;
	}
	if (alg) {
		if (strcmp(alg, "none") == 0) {
			*reason = "\"alg\" is \"none\"";
			goto out;
		}
		key->alg = jg_alg_from_name(alg);
		/* A key for an algorithm outside JWS (A128KW, RSA-OAEP, ...)
		 * is kept but never used: ops stays 0 below. */
		if (key->alg == JG_ALG_UNKNOWN)
			foreign_alg = true;
		else if (!alg_fits(key->alg, key->kty, key->curve)) {
			*reason = "\"alg\" does not fit the key type or curve";
			goto out;
		}
	}
	if (member_string(obj, "kid", &kid, &len) != JG_OK) {
		*reason = "\"kid\" is not a string";
		goto out;
	}
	if (kid)
		key->kid = jg_xstrdup(kid);
	if (ops_from_json(obj, key, reason) != JG_OK)
		goto out;
	if (foreign_alg)
		key->ops = 0;
	switch (key->kty) {
	case JG_KTY_RSA:
		err = rsa_from_json(obj, key, reason);
		break;
	case JG_KTY_EC:
	case JG_KTY_OKP:
		err = curve_from_json(obj, key, ci, reason);
		break;
	case JG_KTY_OCT:
		err = oct_from_json(obj, key, reason);
		break;
	}
	if (err != JG_OK)
		goto out;
	*out = key;
	key = NULL;
out:
	jg_jwk_free(key);
	return err;
}

enum jg_err
jg_jwk_from_json(const struct json_object *obj, struct jg_jwk **out,
		 const char **why)
{
	const char *reason = NULL;
	enum jg_err err;
	bool unknown;

	err = key_from_json(obj, out, &reason, &unknown);
	if (err != JG_OK && why)
		*why = reason;
	return err;
}

enum jg_err
jg_jwk_parse(const char *text, size_t len, struct jg_jwk **out, const char **why)
{
	struct json_object *obj = NULL;
	enum jg_err err;

	err = jg_json_parse_object(text, len, &obj, why);
	if (err != JG_OK)
		return err;
	err = jg_jwk_from_json(obj, out, why);
	json_object_put(obj);
	return err;
}

/* Base64url of a datum left-padded with zeros to size bytes (GnuTLS drops
 * leading zeros of coordinates and scalars). */
static char *
encode_fixed(const gnutls_datum_t *d, size_t size)
{
	unsigned char buf[FIELD_MAX_BYTES];
	char *s;

	if (d->size > size || size > sizeof(buf))
		return NULL;
	memset(buf, 0, size - d->size);
	memcpy(buf + size - d->size, d->data, d->size);
	s = jg_b64url_encode(buf, size);
	jg_wipe(buf, sizeof(buf));
	return s;
}

static char *
encode_datum(const gnutls_datum_t *d)
{
	return jg_b64url_encode(d->data, d->size);
}

/* Exports the members of key as base64url into *pt: the public ones, the
 * private ones when with_private and the key has them, and always "k" of
 * an oct key. */
static enum jg_err
export_parts(const struct jg_jwk *key, bool with_private, struct parts *pt)
{
	gnutls_datum_t v[8];
	gnutls_ecc_curve_t curve;
	const struct curve_info *ci;
	enum jg_err err = JG_ERR_SYSTEM;
	size_t i;

	memset(pt, 0, sizeof(*pt));
	memset(v, 0, sizeof(v));
	switch (key->kty) {
	case JG_KTY_RSA:
		if (key->pub == NULL ||
		    gnutls_pubkey_export_rsa_raw2(key->pub, &v[0], &v[1],
						  GNUTLS_EXPORT_FLAG_NO_LZ) < 0)
			goto out;
		pt->n = encode_datum(&v[0]);
		pt->e = encode_datum(&v[1]);
		datum_clear(&v[0]);
		datum_clear(&v[1]);
		if (!with_private || key->priv == NULL)
			break;
		if (gnutls_privkey_export_rsa_raw2(key->priv, &v[0], &v[1], &v[2],
						   &v[3], &v[4], &v[5], &v[6], &v[7],
						   GNUTLS_EXPORT_FLAG_NO_LZ) < 0)
			goto out;
		pt->d = encode_datum(&v[2]);
		pt->p = encode_datum(&v[3]);
		pt->q = encode_datum(&v[4]);
		pt->qi = encode_datum(&v[5]);
		pt->dp = encode_datum(&v[6]);
		pt->dq = encode_datum(&v[7]);
		break;
	case JG_KTY_EC:
	case JG_KTY_OKP:
		ci = curve_by_id(key->kty, key->curve);
		if (ci == NULL || key->pub == NULL ||
		    gnutls_pubkey_export_ecc_raw2(key->pub, &curve, &v[0],
						  key->kty == JG_KTY_EC ? &v[1] : NULL,
						  GNUTLS_EXPORT_FLAG_NO_LZ) < 0 ||
		    curve != ci->curve)
			goto out;
		pt->crv = ci->name;
		pt->x = encode_fixed(&v[0], ci->size);
		if (pt->x == NULL)
			goto out;
		if (key->kty == JG_KTY_EC) {
			pt->y = encode_fixed(&v[1], ci->size);
			if (pt->y == NULL)
				goto out;
		}
		datum_clear(&v[0]);
		datum_clear(&v[1]);
		if (!with_private || key->priv == NULL)
			break;
		if (gnutls_privkey_export_ecc_raw2(key->priv, &curve, &v[0],
						   key->kty == JG_KTY_EC ? &v[1] : NULL,
						   &v[2], GNUTLS_EXPORT_FLAG_NO_LZ) < 0)
			goto out;
		pt->d = encode_fixed(&v[2], ci->size);
		if (pt->d == NULL)
			goto out;
		break;
	case JG_KTY_OCT:
		if (key->secret == NULL)
			goto out;
		pt->k = jg_b64url_encode(key->secret, key->secret_len);
		break;
	default:
		goto out;
	}
	err = JG_OK;
out:
	for (i = 0; i < 8; i++)
		datum_clear(&v[i]);
	if (err != JG_OK)
		parts_clear(pt);
	return err;
}

enum jg_err
jg_jwk_thumbprint(const struct jg_jwk *key, char **out)
{
	struct parts pt;
	unsigned char digest[32];
	char *json = NULL;
	enum jg_err err;

	if (key == NULL)
		return JG_ERR_MALFORMED;
	err = export_parts(key, false, &pt);
	if (err != JG_OK)
		return err;
	/* RFC 7638 section 3.2 (and RFC 8037 section 2 for OKP): the required
	 * members only, in lexicographic order, without white space. */
	switch (key->kty) {
	case JG_KTY_RSA:
		json = jg_xasprintf("{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}",
				    pt.e, pt.n);
		break;
	case JG_KTY_EC:
		json = jg_xasprintf("{\"crv\":\"%s\",\"kty\":\"EC\",\"x\":\"%s\","
				    "\"y\":\"%s\"}", pt.crv, pt.x, pt.y);
		break;
	case JG_KTY_OKP:
		json = jg_xasprintf("{\"crv\":\"%s\",\"kty\":\"OKP\",\"x\":\"%s\"}",
				    pt.crv, pt.x);
		break;
	case JG_KTY_OCT:
		json = jg_xasprintf("{\"k\":\"%s\",\"kty\":\"oct\"}", pt.k);
		break;
	}
	parts_clear(&pt);
	if (json == NULL)
		return JG_ERR_MALFORMED;
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, json, strlen(json), digest) < 0)
		err = JG_ERR_SYSTEM;
	else
		*out = jg_b64url_encode(digest, sizeof(digest));
	jg_free_secret(json);
	return err;
}

static void
add_string(struct json_object *obj, const char *name, const char *value)
{
	if (value)
		json_object_object_add(obj, name, json_object_new_string(value));
}

/* An oct key is secret through and through, so without with_private there
 * is nothing to show: jg_jwk_to_json returns NULL for it, and
 * jg_jwks_to_json leaves it out, so a published set never holds a secret. */
struct json_object *
jg_jwk_to_json(const struct jg_jwk *key, bool with_private)
{
	struct json_object *obj, *arr;
	struct parts pt;

	if (key == NULL || (key->kty == JG_KTY_OCT && !with_private))
		return NULL;
	if (export_parts(key, with_private, &pt) != JG_OK)
		return NULL;
	obj = json_object_new_object();
	add_string(obj, "kty", key->kty == JG_KTY_RSA ? "RSA" :
		   key->kty == JG_KTY_EC ? "EC" : key->kty == JG_KTY_OKP ? "OKP" : "oct");
	add_string(obj, "kid", key->kid);
	if (key->ops == OPS_ALL)
		add_string(obj, "use", "sig");
	else {
		/* A restricted key says exactly what it permits; an empty list
		 * keeps a key that may do nothing from doing anything. */
		arr = json_object_new_array();
		if (key->ops & JG_KEYOP_SIGN)
			json_object_array_add(arr, json_object_new_string("sign"));
		if (key->ops & JG_KEYOP_VERIFY)
			json_object_array_add(arr, json_object_new_string("verify"));
		json_object_object_add(obj, "key_ops", arr);
	}
	if (key->alg != JG_ALG_UNKNOWN)
		add_string(obj, "alg", jg_alg_name(key->alg));
	add_string(obj, "crv", pt.crv);
	add_string(obj, "n", pt.n);
	add_string(obj, "e", pt.e);
	add_string(obj, "x", pt.x);
	add_string(obj, "y", pt.y);
	add_string(obj, "d", pt.d);
	add_string(obj, "p", pt.p);
	add_string(obj, "q", pt.q);
	add_string(obj, "dp", pt.dp);
	add_string(obj, "dq", pt.dq);
	add_string(obj, "qi", pt.qi);
	add_string(obj, "k", pt.k);
	parts_clear(&pt);
	return obj;
}

/* Fills key from a GnuTLS private key, through the same checks as a JWK.
 * With public_only, key gets the public part only, and the private members
 * are not checked against it (no RSA signature, no EC point
 * multiplication): for a key that will never sign. */
static enum jg_err
key_from_privkey(gnutls_privkey_t pk, struct jg_jwk *key, bool public_only,
		 const char **reason)
{
	gnutls_datum_t v[8];
	gnutls_ecc_curve_t curve;
	const struct curve_info *ci;
	unsigned char x[FIELD_MAX_BYTES], y[FIELD_MAX_BYTES], d[FIELD_MAX_BYTES];
	gnutls_datum_t dx = { x, 0 }, dy = { y, 0 }, dd = { d, 0 };
	gnutls_datum_t priv[6];
	enum jg_err err = JG_ERR_MALFORMED;
	enum jg_kty kty;
	int algo;
	size_t i;

	memset(v, 0, sizeof(v));
	algo = gnutls_privkey_get_pk_algorithm(pk, NULL);
	switch (algo) {
	case GNUTLS_PK_RSA:
		if (gnutls_privkey_export_rsa_raw2(pk, &v[0], &v[1], &v[2], &v[3],
						   &v[4], &v[5], &v[6], &v[7],
						   GNUTLS_EXPORT_FLAG_NO_LZ) < 0) {
			*reason = "cannot read the RSA key";
			goto out;
		}
		/* JWK order d, p, q, dp, dq, qi from GnuTLS's d, p, q, u, e1, e2. */
		priv[0] = v[2];
		priv[1] = v[3];
		priv[2] = v[4];
		priv[3] = v[6];
		priv[4] = v[7];
		priv[5] = v[5];
		err = build_rsa(key, &v[0], &v[1], public_only ? NULL : priv, reason);
		break;
	case GNUTLS_PK_ECDSA:
	case GNUTLS_PK_EDDSA_ED25519:
		kty = algo == GNUTLS_PK_ECDSA ? JG_KTY_EC : JG_KTY_OKP;
		if (gnutls_privkey_export_ecc_raw2(pk, &curve, &v[0],
						   kty == JG_KTY_EC ? &v[1] : NULL,
						   &v[2], GNUTLS_EXPORT_FLAG_NO_LZ) < 0) {
			*reason = "cannot read the elliptic-curve key";
			goto out;
		}
		ci = curve_by_id(kty, curve);
		if (ci == NULL) {
			*reason = "unsupported curve";
			goto out;
		}
		/* Coordinates and scalar come back without leading zeros. */
		dx.size = dy.size = dd.size = (unsigned)ci->size;
		if (v[0].size > ci->size || v[1].size > ci->size || v[2].size > ci->size) {
			*reason = "bad elliptic-curve key";
			goto out;
		}
		memset(x, 0, sizeof(x));
		memset(y, 0, sizeof(y));
		memset(d, 0, sizeof(d));
		memcpy(x + ci->size - v[0].size, v[0].data, v[0].size);
		if (v[1].size)
			memcpy(y + ci->size - v[1].size, v[1].data, v[1].size);
		memcpy(d + ci->size - v[2].size, v[2].data, v[2].size);
		err = build_curve(key, ci, &dx, &dy, public_only ? NULL : &dd, reason);
		jg_wipe(d, sizeof(d));
		break;
	default:
		*reason = "unsupported key type (RSA, EC P-256/384/521 and Ed25519 only)";
		break;
	}
out:
	for (i = 0; i < 8; i++)
		datum_clear(&v[i]);
	return err;
}

/* Fills key from a GnuTLS public key, through the same checks as a JWK. */
static enum jg_err
key_from_pubkey(gnutls_pubkey_t pub, struct jg_jwk *key, const char **reason)
{
	gnutls_datum_t v[2];
	gnutls_ecc_curve_t curve;
	const struct curve_info *ci;
	unsigned char x[FIELD_MAX_BYTES], y[FIELD_MAX_BYTES];
	gnutls_datum_t dx = { x, 0 }, dy = { y, 0 };
	enum jg_err err = JG_ERR_MALFORMED;
	enum jg_kty kty;
	int algo;

	memset(v, 0, sizeof(v));
	algo = gnutls_pubkey_get_pk_algorithm(pub, NULL);
	switch (algo) {
	case GNUTLS_PK_RSA:
		if (gnutls_pubkey_export_rsa_raw2(pub, &v[0], &v[1],
						  GNUTLS_EXPORT_FLAG_NO_LZ) < 0) {
			*reason = "cannot read the RSA key";
			goto out;
		}
		err = build_rsa(key, &v[0], &v[1], NULL, reason);
		break;
	case GNUTLS_PK_ECDSA:
	case GNUTLS_PK_EDDSA_ED25519:
		kty = algo == GNUTLS_PK_ECDSA ? JG_KTY_EC : JG_KTY_OKP;
		if (gnutls_pubkey_export_ecc_raw2(pub, &curve, &v[0],
						  kty == JG_KTY_EC ? &v[1] : NULL,
						  GNUTLS_EXPORT_FLAG_NO_LZ) < 0) {
			*reason = "cannot read the elliptic-curve key";
			goto out;
		}
		ci = curve_by_id(kty, curve);
		if (ci == NULL) {
			*reason = "unsupported curve";
			goto out;
		}
		if (v[0].size > ci->size || v[1].size > ci->size) {
			*reason = "bad elliptic-curve key";
			goto out;
		}
		dx.size = dy.size = (unsigned)ci->size;
		memset(x, 0, sizeof(x));
		memset(y, 0, sizeof(y));
		memcpy(x + ci->size - v[0].size, v[0].data, v[0].size);
		if (v[1].size)
			memcpy(y + ci->size - v[1].size, v[1].data, v[1].size);
		err = build_curve(key, ci, &dx, &dy, NULL, reason);
		break;
	default:
		*reason = "unsupported key type (RSA, EC P-256/384/521 and Ed25519 only)";
		break;
	}
out:
	datum_clear(&v[0]);
	datum_clear(&v[1]);
	return err;
}

/* Sets kid to the thumbprint, ops to both, and hands key to *out. */
static enum jg_err
finish_new_key(struct jg_jwk *key, struct jg_jwk **out)
{
	enum jg_err err;

	key->ops = OPS_ALL;
	free(key->kid);
	key->kid = NULL;
	err = jg_jwk_thumbprint(key, &key->kid);
	if (err != JG_OK) {
		jg_jwk_free(key);
		return err;
	}
	*out = key;
	return JG_OK;
}

/* Finds the first PEM block other than "EC PARAMETERS" in len bytes at pem.
 * On success *label (a static name) and a new copy *block of the block from
 * BEGIN through END (caller wipes and frees) are set. */
static enum jg_err
find_pem_block(const char *pem, size_t len, char **label, char **block,
	       const char **reason)
{
	static const char begin[] = "-----BEGIN ";
	const char *p = pem, *end = pem + len, *lab, *lab_end, *stop;
	char *name = NULL, *end_line = NULL;

	for (;;) {
		p = memmem(p, (size_t)(end - p), begin, sizeof(begin) - 1);
		if (p == NULL) {
			*reason = "no PEM block";
			return JG_ERR_MALFORMED;
		}
		lab = p + sizeof(begin) - 1;
		lab_end = memmem(lab, (size_t)(end - lab), "-----", 5);
		if (lab_end == NULL || lab_end - lab > 64 ||
		    memchr(lab, '\n', (size_t)(lab_end - lab))) {
			*reason = "bad PEM BEGIN line";
			return JG_ERR_MALFORMED;
		}
		name = jg_xstrndup(lab, (size_t)(lab_end - lab));
		end_line = jg_xasprintf("-----END %s-----", name);
		stop = memmem(lab_end, (size_t)(end - lab_end), end_line, strlen(end_line));
		if (stop == NULL) {
			free(name);
			free(end_line);
			*reason = "PEM block without its END line";
			return JG_ERR_MALFORMED;
		}
		stop += strlen(end_line);
		free(end_line);
		if (strcmp(name, "EC PARAMETERS") != 0)
			break;
		free(name);
		p = stop;
	}
	*label = name;
	*block = jg_xstrndup(p, (size_t)(stop - p));
	return JG_OK;
}

/* jg_jwk_from_pem, or with public_only jg_jwk_public_from_pem. */
static enum jg_err
import_pem(const char *pem, size_t len, bool public_only, struct jg_jwk **out,
	   const char **why)
{
	struct jg_jwk *key = NULL;
	gnutls_x509_privkey_t xk = NULL;
	gnutls_privkey_t pk = NULL;
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t data;
	char *label = NULL, *block = NULL;
	const char *reason = NULL;
	enum jg_err err;
	int r;

	err = find_pem_block(pem, len, &label, &block, &reason);
	if (err != JG_OK)
		goto out;
	err = JG_ERR_MALFORMED;
	data.data = (unsigned char *)block;
	data.size = (unsigned)strlen(block);
	key = jg_xcalloc(1, sizeof(*key));
	if (strcmp(label, "ENCRYPTED PRIVATE KEY") == 0 || strstr(block, "Proc-Type:")) {
		reason = "encrypted private keys are not supported";
		goto out;
	}
	if (strcmp(label, "PUBLIC KEY") == 0 && public_only) {
		reason = "not a private key";
	} else if (strcmp(label, "PUBLIC KEY") == 0) {
		if (gnutls_pubkey_init(&pub) < 0) {
			pub = NULL;
			err = JG_ERR_SYSTEM;
			goto out;
		}
		if (gnutls_pubkey_import(pub, &data, GNUTLS_X509_FMT_PEM) < 0) {
			reason = "bad SPKI public key";
			goto out;
		}
		err = key_from_pubkey(pub, key, &reason);
	} else if (strcmp(label, "PRIVATE KEY") == 0 ||
		   strcmp(label, "RSA PRIVATE KEY") == 0 ||
		   strcmp(label, "EC PRIVATE KEY") == 0) {
		if (gnutls_x509_privkey_init(&xk) < 0) {
			xk = NULL;
			err = JG_ERR_SYSTEM;
			goto out;
		}
		if (strcmp(label, "PRIVATE KEY") == 0)
			r = gnutls_x509_privkey_import_pkcs8(xk, &data, GNUTLS_X509_FMT_PEM,
							     NULL, GNUTLS_PKCS_PLAIN);
		else
			r = gnutls_x509_privkey_import(xk, &data, GNUTLS_X509_FMT_PEM);
		if (r < 0) {
			reason = "bad PEM private key";
			goto out;
		}
		if (gnutls_privkey_init(&pk) < 0) {
			pk = NULL;
			err = JG_ERR_SYSTEM;
			goto out;
		}
		if (gnutls_privkey_import_x509(pk, xk, GNUTLS_PRIVKEY_IMPORT_AUTO_RELEASE) < 0) {
			reason = "bad PEM private key";
			goto out;
		}
		xk = NULL;	/* pk owns it now */
		err = key_from_privkey(pk, key, public_only, &reason);
	} else {
		reason = "unsupported PEM type (PRIVATE KEY or PUBLIC KEY only)";
	}
	if (err != JG_OK)
		goto out;
	err = finish_new_key(key, out);
	key = NULL;
out:
	if (err != JG_OK && why)
		*why = reason ? reason : "cannot import the PEM key";
	jg_jwk_free(key);
	gnutls_privkey_deinit(pk);
	gnutls_x509_privkey_deinit(xk);
	gnutls_pubkey_deinit(pub);
	jg_free_secret(block);
	free(label);
	return err;
}

enum jg_err
jg_jwk_from_pem(const char *pem, size_t len, struct jg_jwk **out, const char **why)
{
	return import_pem(pem, len, false, out, why);
}

enum jg_err
jg_jwk_public_from_pem(const char *pem, size_t len, struct jg_jwk **out,
		       const char **why)
{
	return import_pem(pem, len, true, out, why);
}

enum jg_err
jg_jwk_to_pem(const struct jg_jwk *key, bool with_private, char **out)
{
	gnutls_x509_privkey_t xk = NULL;
	gnutls_datum_t pem = { NULL, 0 };
	enum jg_err err = JG_ERR_MALFORMED;

	if (key == NULL || key->kty == JG_KTY_OCT || key->pub == NULL)
		return JG_ERR_MALFORMED;
	if (with_private) {
		if (key->priv == NULL)
			return JG_ERR_MALFORMED;
		err = JG_ERR_SYSTEM;
		if (gnutls_privkey_export_x509(key->priv, &xk) < 0) {
			xk = NULL;
			goto out;
		}
		if (gnutls_x509_privkey_export2_pkcs8(xk, GNUTLS_X509_FMT_PEM, NULL,
						      GNUTLS_PKCS_PLAIN, &pem) < 0)
			goto out;
	} else {
		err = JG_ERR_SYSTEM;
		if (gnutls_pubkey_export2(key->pub, GNUTLS_X509_FMT_PEM, &pem) < 0)
			goto out;
	}
	*out = jg_xstrndup((const char *)pem.data, pem.size);
	err = JG_OK;
out:
	datum_clear(&pem);
	gnutls_x509_privkey_deinit(xk);
	return err;
}

enum jg_err
jg_jwk_generate(enum jg_alg alg, unsigned bits, struct jg_jwk **out)
{
	struct jg_jwk *key;
	gnutls_privkey_t pk = NULL;
	unsigned char secret[64];
	const char *reason = NULL;
	enum jg_err err = JG_ERR_SYSTEM;
	gnutls_pk_algorithm_t algo;
	unsigned param;
	size_t hlen;

	if (alg <= JG_ALG_UNKNOWN || alg >= JG_ALG_COUNT)
		return JG_ERR_MALFORMED;
	key = jg_xcalloc(1, sizeof(*key));
	switch (algs[alg].kty) {
	case JG_KTY_OCT:
		hlen = algs[alg].hash_len;
		if (gnutls_rnd(GNUTLS_RND_KEY, secret, hlen) < 0)
			goto out;
		err = build_oct(key, secret, hlen, &reason);
		jg_wipe(secret, sizeof(secret));
		goto built;
	case JG_KTY_RSA:
		if (bits == 0)
			bits = JG_RSA_MIN_BITS;
		if (bits < JG_RSA_MIN_BITS || bits > RSA_MAX_BITS) {
			err = JG_ERR_MALFORMED;
			goto out;
		}
		algo = GNUTLS_PK_RSA;
		param = bits;
		break;
	case JG_KTY_EC:
		algo = GNUTLS_PK_ECDSA;
		param = GNUTLS_CURVE_TO_BITS(algs[alg].curve);
		break;
	default:
		algo = GNUTLS_PK_EDDSA_ED25519;
		param = GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_ED25519);
		break;
	}
	if (gnutls_privkey_init(&pk) < 0) {
		pk = NULL;
		goto out;
	}
	if (gnutls_privkey_generate2(pk, algo, param, 0, NULL, 0) < 0)
		goto out;
	err = key_from_privkey(pk, key, false, &reason);
	if (err != JG_OK)
		err = JG_ERR_SYSTEM;	/* our own key failed: not the caller's input */
built:
	if (err != JG_OK)
		goto out;
	key->alg = alg;
	err = finish_new_key(key, out);
	key = NULL;
out:
	gnutls_privkey_deinit(pk);
	jg_jwk_free(key);
	return err;
}

enum jg_err
jg_jwk_set_alg(struct jg_jwk *key, enum jg_alg alg)
{
	if (key == NULL || alg <= JG_ALG_UNKNOWN || alg >= JG_ALG_COUNT ||
	    !alg_fits(alg, key->kty, key->curve) ||
	    (key->alg != JG_ALG_UNKNOWN && key->alg != alg))
		return JG_ERR_MALFORMED;
	key->alg = alg;
	return JG_OK;
}

struct jg_jwk *
jg_jwk_public(const struct jg_jwk *key)
{
	struct jg_jwk *copy;
	const char *reason;

	if (key == NULL)
		return NULL;
	copy = jg_xcalloc(1, sizeof(*copy));
	if (key->kty == JG_KTY_OCT) {
		if (build_oct(copy, key->secret, key->secret_len, &reason) != JG_OK)
			goto fail;
	} else if (key->pub == NULL || key_from_pubkey(key->pub, copy, &reason) != JG_OK) {
		goto fail;
	}
	copy->alg = key->alg;
	copy->ops = key->ops;
	copy->kid = key->kid ? jg_xstrdup(key->kid) : NULL;
	return copy;
fail:
	jg_jwk_free(copy);
	return NULL;
}

bool
jg_jwk_usable(const struct jg_jwk *key, enum jg_alg alg, unsigned op)
{
	if (key == NULL || alg <= JG_ALG_UNKNOWN || alg >= JG_ALG_COUNT)
		return false;
	if (op != JG_KEYOP_SIGN && op != JG_KEYOP_VERIFY)
		return false;
	if ((key->ops & op) == 0)
		return false;
	if (key->alg != JG_ALG_UNKNOWN && key->alg != alg)
		return false;
	if (!alg_fits(alg, key->kty, key->curve))
		return false;
	switch (key->kty) {
	case JG_KTY_OCT:
		return key->secret != NULL && key->secret_len >= algs[alg].hash_len;
	case JG_KTY_RSA:
		if (key->bits < JG_RSA_MIN_BITS)
			return false;
		/* fall through */
	case JG_KTY_EC:
	case JG_KTY_OKP:
		if (key->pub == NULL)
			return false;
		return op == JG_KEYOP_VERIFY || key->priv != NULL;
	}
	return false;
}

void
jg_jwk_free(struct jg_jwk *key)
{
	size_t i;

	if (key == NULL)
		return;
	gnutls_pubkey_deinit(key->pub);
	gnutls_privkey_deinit(key->priv);
	if (key->secret) {
		jg_wipe(key->secret, key->secret_len);
		free(key->secret);
	}
	for (i = 0; i < 3; i++)
		if (key->hmac[i] != NULL)
			gnutls_hmac_deinit(key->hmac[i], NULL);
	free(key->kid);
	jg_wipe(key, sizeof(*key));
	free(key);
}

struct jg_jwks *
jg_jwks_new(void)
{
	return jg_xcalloc(1, sizeof(struct jg_jwks));
}

void
jg_jwks_add(struct jg_jwks *set, struct jg_jwk *key)
{
	set->keys = jg_xrealloc(set->keys, (set->count + 1) * sizeof(set->keys[0]));
	set->keys[set->count++] = key;
}

enum jg_err
jg_jwks_from_json(const struct json_object *obj, struct jg_jwks **out,
		  const char **why)
{
	struct jg_jwks *set = NULL;
	struct json_object *keys;
	struct jg_jwk *key;
	const char *reason = NULL;
	enum jg_err err = JG_ERR_MALFORMED;
	size_t i, n;
	bool unknown;

	if (obj == NULL || !json_object_is_type(obj, json_type_object)) {
		reason = "a JWK Set must be a JSON object";
		goto out;
	}
	if (!member(obj, "keys", &keys) || keys == NULL ||
	    !json_object_is_type(keys, json_type_array)) {
		reason = "\"keys\" missing or not an array";
		goto out;
	}
	n = json_object_array_length(keys);
	if (n > JWKS_MAX_KEYS) {
		reason = "too many keys in the JWK Set";
		goto out;
	}
	set = jg_jwks_new();
	for (i = 0; i < n; i++) {
		err = key_from_json(json_object_array_get_idx(keys, i), &key,
				    &reason, &unknown);
		if (err == JG_OK) {
			jg_jwks_add(set, key);
			continue;
		}
		/* RFC 7517 section 5: skip keys of a type we do not know. */
		if (unknown)
			continue;
		goto out;
	}
	err = JG_OK;
	*out = set;
	set = NULL;
out:
	if (err != JG_OK && why)
		*why = reason;
	jg_jwks_free(set);
	return err;
}

enum jg_err
jg_jwks_parse(const char *text, size_t len, struct jg_jwks **out, const char **why)
{
	struct json_object *obj = NULL;
	enum jg_err err;

	err = jg_json_parse_object(text, len, &obj, why);
	if (err != JG_OK)
		return err;
	err = jg_jwks_from_json(obj, out, why);
	json_object_put(obj);
	return err;
}

struct json_object *
jg_jwks_to_json(const struct jg_jwks *set, bool with_private)
{
	struct json_object *obj, *arr, *k;
	size_t i;

	obj = json_object_new_object();
	arr = json_object_new_array();
	for (i = 0; set && i < set->count; i++) {
		k = jg_jwk_to_json(set->keys[i], with_private);
		if (k)
			json_object_array_add(arr, k);
	}
	json_object_object_add(obj, "keys", arr);
	return obj;
}

enum jg_err
jg_jwks_load_file(const char *path, struct jg_jwks **out, const char **why)
{
	struct json_object *obj = NULL, *keys;
	struct jg_jwks *set = NULL;
	struct jg_jwk *key = NULL;
	char *text = NULL;
	size_t len, i;
	enum jg_err err;

	err = jg_read_file(path, KEY_FILE_MAX, &text, &len);
	if (err != JG_OK) {
		if (why)
			*why = err == JG_ERR_NOT_FOUND ? "key file not found" :
			    err == JG_ERR_MALFORMED ? "key file too large" :
			    "cannot read the key file";
		return err;
	}
	for (i = 0; i < len && (text[i] == ' ' || text[i] == '\t' ||
				text[i] == '\r' || text[i] == '\n'); i++)
		;
	if (len - i >= 10 && memcmp(text + i, "-----BEGIN", 10) == 0) {
		err = jg_jwk_from_pem(text, len, &key, why);
	} else {
		err = jg_json_parse_object(text, len, &obj, why);
		if (err != JG_OK)
			goto out;
		if (member(obj, "keys", &keys))
			err = jg_jwks_from_json(obj, &set, why);
		else
			err = jg_jwk_from_json(obj, &key, why);
	}
	if (err != JG_OK)
		goto out;
	if (set == NULL) {
		set = jg_jwks_new();
		jg_jwks_add(set, key);
		key = NULL;
	}
	*out = set;
	set = NULL;
out:
	json_object_put(obj);
	jg_jwk_free(key);
	jg_jwks_free(set);
	jg_wipe(text, len);
	free(text);
	return err;
}

void
jg_jwks_free(struct jg_jwks *set)
{
	size_t i;

	if (set == NULL)
		return;
	for (i = 0; i < set->count; i++)
		jg_jwk_free(set->keys[i]);
	free(set->keys);
	free(set);
}
