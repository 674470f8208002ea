/* jws.c: JWS compact serialization (RFC 7515): decode, sign and verify. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <strings.h>
#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "b64url.h"
#include "json.h"
#include "jwk.h"
#include "jws.h"

/* The largest signature accepted: RSA-4096.  Signatures are decoded into a
 * stack buffer of this size, so larger ones are refused as malformed. */
#define MAX_SIG 512
/* Longest "kid" and "typ" header values looked at. */
#define MAX_KID 256
#define MAX_TYP 256
/* Signature checks one jg_jws_verify may make: a token without "kid" against
 * a big key set must not cost more than a few verifications. */
#define MAX_ATTEMPTS 4
/* Largest decoded header: JG_JWS_MAX_HEADER characters of base64url. */
#define MAX_HEADER_BYTES (JG_JWS_MAX_HEADER / 4 * 3 + 2)

enum family {
	FAMILY_NONE = 0,
	FAMILY_HMAC,
	FAMILY_RSA,	/* RSASSA-PKCS1-v1_5 */
	FAMILY_PSS,	/* RSASSA-PSS, MGF1 with the same hash, salt = hash size */
	FAMILY_ECDSA,
	FAMILY_EDDSA
};

struct alg_info {
	enum family family;
	gnutls_sign_algorithm_t sign;	/* asymmetric algorithms */
	gnutls_mac_algorithm_t mac;	/* HMAC */
	gnutls_ecc_curve_t curve;	/* ECDSA */
	size_t size;			/* HMAC tag, or ECDSA scalar, in bytes */
};

static const struct alg_info algs[JG_ALG_COUNT] = {
	[JG_ALG_HS256] = { FAMILY_HMAC, GNUTLS_SIGN_UNKNOWN, GNUTLS_MAC_SHA256,
			   GNUTLS_ECC_CURVE_INVALID, 32 },
	[JG_ALG_HS384] = { FAMILY_HMAC, GNUTLS_SIGN_UNKNOWN, GNUTLS_MAC_SHA384,
			   GNUTLS_ECC_CURVE_INVALID, 48 },
	[JG_ALG_HS512] = { FAMILY_HMAC, GNUTLS_SIGN_UNKNOWN, GNUTLS_MAC_SHA512,
			   GNUTLS_ECC_CURVE_INVALID, 64 },
	[JG_ALG_RS256] = { FAMILY_RSA, GNUTLS_SIGN_RSA_SHA256, GNUTLS_MAC_UNKNOWN,
			   GNUTLS_ECC_CURVE_INVALID, 0 },
	[JG_ALG_RS384] = { FAMILY_RSA, GNUTLS_SIGN_RSA_SHA384, GNUTLS_MAC_UNKNOWN,
			   GNUTLS_ECC_CURVE_INVALID, 0 },
	[JG_ALG_RS512] = { FAMILY_RSA, GNUTLS_SIGN_RSA_SHA512, GNUTLS_MAC_UNKNOWN,
			   GNUTLS_ECC_CURVE_INVALID, 0 },
	[JG_ALG_PS256] = { FAMILY_PSS, GNUTLS_SIGN_RSA_PSS_RSAE_SHA256,
			   GNUTLS_MAC_UNKNOWN, GNUTLS_ECC_CURVE_INVALID, 0 },
	[JG_ALG_PS384] = { FAMILY_PSS, GNUTLS_SIGN_RSA_PSS_RSAE_SHA384,
			   GNUTLS_MAC_UNKNOWN, GNUTLS_ECC_CURVE_INVALID, 0 },
	[JG_ALG_PS512] = { FAMILY_PSS, GNUTLS_SIGN_RSA_PSS_RSAE_SHA512,
			   GNUTLS_MAC_UNKNOWN, GNUTLS_ECC_CURVE_INVALID, 0 },
	[JG_ALG_ES256] = { FAMILY_ECDSA, GNUTLS_SIGN_ECDSA_SHA256,
			   GNUTLS_MAC_UNKNOWN, GNUTLS_ECC_CURVE_SECP256R1, 32 },
	[JG_ALG_ES384] = { FAMILY_ECDSA, GNUTLS_SIGN_ECDSA_SHA384,
			   GNUTLS_MAC_UNKNOWN, GNUTLS_ECC_CURVE_SECP384R1, 48 },
	[JG_ALG_ES512] = { FAMILY_ECDSA, GNUTLS_SIGN_ECDSA_SHA512,
			   GNUTLS_MAC_UNKNOWN, GNUTLS_ECC_CURVE_SECP521R1, 66 },
	[JG_ALG_EDDSA] = { FAMILY_EDDSA, GNUTLS_SIGN_EDDSA_ED25519,
			   GNUTLS_MAC_UNKNOWN, GNUTLS_ECC_CURVE_INVALID, 0 },
};

/* Group orders n of the NIST curves, big-endian, each exactly as long as the
 * curve's scalar in a JWS signature (SEC 2, FIPS 186-4 D.1.2). */
static const unsigned char order_p256[32] = {
	0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84,
	0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51
};
static const unsigned char order_p384[48] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xc7, 0x63, 0x4d, 0x81, 0xf4, 0x37, 0x2d, 0xdf,
	0x58, 0x1a, 0x0d, 0xb2, 0x48, 0xb0, 0xa7, 0x7a,
	0xec, 0xec, 0x19, 0x6a, 0xcc, 0xc5, 0x29, 0x73
};
static const unsigned char order_p521[66] = {
	0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xfa, 0x51, 0x86, 0x87, 0x83, 0xbf, 0x2f,
	0x96, 0x6b, 0x7f, 0xcc, 0x01, 0x48, 0xf7, 0x09,
	0xa5, 0xd0, 0x3b, 0xb5, 0xc9, 0xb8, 0x89, 0x9c,
	0x47, 0xae, 0xbb, 0x6f, 0xb7, 0x1e, 0x91, 0x38,
	0x64, 0x09
};

static const struct alg_info *
alg_info(enum jg_alg alg)
{
	if ((unsigned)alg >= JG_ALG_COUNT || algs[alg].family == FAMILY_NONE)
		return NULL;
	return &algs[alg];
}

/* Returns true when the key's type and material fit the algorithm family.
 * jg_jwk_usable decides this already; checking again here keeps an HMAC
 * from ever running over anything but an oct key's secret. */
static bool
key_fits(const struct jg_jwk *key, const struct alg_info *ai, bool sign)
{
	switch (ai->family) {
	case FAMILY_HMAC:
		return key->kty == JG_KTY_OCT && key->secret != NULL;
	case FAMILY_RSA:
	case FAMILY_PSS:
		if (key->kty != JG_KTY_RSA)
			return false;
		break;
	case FAMILY_ECDSA:
		if (key->kty != JG_KTY_EC || key->curve != ai->curve)
			return false;
		break;
	case FAMILY_EDDSA:
		if (key->kty != JG_KTY_OKP ||
		    key->curve != GNUTLS_ECC_CURVE_ED25519)
			return false;
		break;
	default:
		return false;
	}
	return sign ? key->priv != NULL : key->pub != NULL;
}

static const unsigned char *
curve_order(gnutls_ecc_curve_t curve)
{
	switch (curve) {
	case GNUTLS_ECC_CURVE_SECP256R1:
		return order_p256;
	case GNUTLS_ECC_CURVE_SECP384R1:
		return order_p384;
	case GNUTLS_ECC_CURVE_SECP521R1:
		return order_p521;
	default:
		return NULL;
	}
}

/* Returns true when the size-byte big-endian scalar v satisfies 0 < v < n. */
static bool
scalar_in_range(const unsigned char *v, const unsigned char *n, size_t size)
{
	size_t i;
	unsigned char any = 0;

	for (i = 0; i < size; i++)
		any |= v[i];
	return any != 0 && memcmp(v, n, size) < 0;
}

/* Copies the big-endian integer d into out, left-padded with zeros to
 * exactly size bytes.  Returns false when it does not fit. */
static bool
left_pad(const gnutls_datum_t *d, unsigned char *out, size_t size)
{
	const unsigned char *p = d->data;
	size_t n = d->size;

	while (n > 0 && *p == 0) {
		p++;
		n--;
	}
	if (n > size)
		return false;
	memset(out, 0, size - n);
	if (n > 0)
		memcpy(out + size - n, p, n);
	return true;
}

/* Computes the HMAC tag of len bytes at data with an oct key into tag (at
 * least ai->size bytes): from the key's pre-keyed state when there is one
 * (jwk.c), else keying a one-shot HMAC. */
static bool
hmac_tag(const struct jg_jwk *key, const struct alg_info *ai,
	 const void *data, size_t len, unsigned char *tag)
{
	size_t i = ai->mac == GNUTLS_MAC_SHA256 ? 0 :
		   ai->mac == GNUTLS_MAC_SHA384 ? 1 : 2;
	/* The flag is the key's only mutable part (jwk.h). */
	int *busy = (int *)(uintptr_t)&key->hmac_busy[i];
	bool ok;

	if (key->hmac[i] != NULL &&
	    __atomic_exchange_n(busy, 1, __ATOMIC_ACQUIRE) == 0) {
		ok = gnutls_hmac(key->hmac[i], data, len) >= 0;
		/* Also on failure: this returns the state to the keyed one. */
		gnutls_hmac_output(key->hmac[i], tag);
		__atomic_store_n(busy, 0, __ATOMIC_RELEASE);
		return ok;
	}
	/* No state, or another thread is using it (copying it now would
	 * copy a half-updated state). */
	return gnutls_hmac_fast(ai->mac, key->secret, key->secret_len, data,
				len, tag) >= 0;
}

/* Signs with a key already found usable; *sig is allocated with malloc. */
static enum jg_err
sign_checked(const struct jg_jwk *key, const struct alg_info *ai,
	     const void *data, size_t len, unsigned char **sig, size_t *siglen)
{
	gnutls_datum_t in, der = { NULL, 0 }, r = { NULL, 0 }, s = { NULL, 0 };
	unsigned char *out = NULL;
	size_t outlen = 0;
	unsigned flags = 0;
	enum jg_err err = JG_ERR_SYSTEM;

	if (!key_fits(key, ai, true))
		return JG_ERR_DENIED;
	if (ai->family == FAMILY_HMAC) {
		out = jg_xmalloc(ai->size);
		if (!hmac_tag(key, ai, data, len, out)) {
			free(out);
			return JG_ERR_SYSTEM;
		}
		*sig = out;
		*siglen = ai->size;
		return JG_OK;
	}
	in.data = (unsigned char *)(uintptr_t)data;
	in.size = (unsigned)len;
	if ((size_t)in.size != len)
		return JG_ERR_SYSTEM;
	if (ai->family == FAMILY_PSS)
		flags |= GNUTLS_PRIVKEY_FLAG_RSA_PSS_FIXED_SALT_LENGTH;
	if (gnutls_privkey_sign_data2(key->priv, ai->sign, flags, &in, &der) < 0)
		goto out;
	if (ai->family == FAMILY_ECDSA) {
		/* GnuTLS writes DER; JWS wants R||S, each of the curve size. */
		if (gnutls_decode_rs_value(&der, &r, &s) < 0)
			goto out;
		outlen = 2 * ai->size;
		out = jg_xmalloc(outlen);
		if (!left_pad(&r, out, ai->size) ||
		    !left_pad(&s, out + ai->size, ai->size))
			goto out;
	} else {
		outlen = der.size;
		out = jg_xmalloc(outlen);
		memcpy(out, der.data, outlen);
	}
	*sig = out;
	*siglen = outlen;
	out = NULL;
	err = JG_OK;
out:
	free(out);
	gnutls_free(der.data);
	gnutls_free(r.data);
	gnutls_free(s.data);
	return err;
}

/* Verifies with a key already found usable. */
static enum jg_err
verify_checked(const struct jg_jwk *key, const struct alg_info *ai,
	       const void *data, size_t len, const unsigned char *sig,
	       size_t siglen)
{
	gnutls_datum_t in, sd, der = { NULL, 0 }, r, s;
	unsigned char tag[64];
	const unsigned char *order;
	unsigned flags = 0, bits = 0;
	size_t size;
	bool ok;
	int rc;

	if (!key_fits(key, ai, false))
		return JG_ERR_DENIED;
	if (ai->family == FAMILY_HMAC) {
		/* Only the full-length tag is a JWS HMAC signature. */
		if (siglen != ai->size)
			return JG_ERR_DENIED;
		if (!hmac_tag(key, ai, data, len, tag))
			return JG_ERR_DENIED;
		ok = jg_ct_equal(tag, ai->size, sig, siglen);
		jg_wipe(tag, sizeof(tag));
		return ok ? JG_OK : JG_ERR_DENIED;
	}
	in.data = (unsigned char *)(uintptr_t)data;
	in.size = (unsigned)len;
	if ((size_t)in.size != len || siglen == 0 || siglen > MAX_SIG)
		return JG_ERR_DENIED;
	sd.data = (unsigned char *)(uintptr_t)sig;
	sd.size = (unsigned)siglen;
	switch (ai->family) {
	case FAMILY_PSS:
		flags |= GNUTLS_VERIFY_RSA_PSS_FIXED_SALT_LENGTH;
		/* FALLTHROUGH */
	case FAMILY_RSA:
		/* RFC 8017 8.2.2: the signature is exactly as long as the
		 * modulus, leading zero octets included. */
		if (gnutls_pubkey_get_pk_algorithm(key->pub, &bits) !=
		    GNUTLS_PK_RSA || siglen != (bits + 7) / 8)
			return JG_ERR_DENIED;
		break;
	case FAMILY_EDDSA:
		if (siglen != 64)
			return JG_ERR_DENIED;
		break;
	case FAMILY_ECDSA:
		/* Length and range before any conversion: r = s = 0 (CVE-2022-
		 * 21449) and scalars of n or more never reach the primitive. */
		size = ai->size;
		order = curve_order(ai->curve);
		if (order == NULL || siglen != 2 * size ||
		    !scalar_in_range(sig, order, size) ||
		    !scalar_in_range(sig + size, order, size))
			return JG_ERR_DENIED;
		r.data = (unsigned char *)(uintptr_t)sig;
		r.size = (unsigned)size;
		s.data = (unsigned char *)(uintptr_t)(sig + size);
		s.size = (unsigned)size;
		/* Minimal integers for the DER encoder (both are nonzero). */
		while (r.size > 1 && r.data[0] == 0) {
			r.data++;
			r.size--;
		}
		while (s.size > 1 && s.data[0] == 0) {
			s.data++;
			s.size--;
		}
		if (gnutls_encode_rs_value(&der, &r, &s) < 0)
			return JG_ERR_DENIED;
		sd = der;
		break;
	default:
		return JG_ERR_DENIED;
	}
	rc = gnutls_pubkey_verify_data2(key->pub, ai->sign, flags, &in, &sd);
	gnutls_free(der.data);
	return rc >= 0 ? JG_OK : JG_ERR_DENIED;
}

enum jg_err
jg_jws_sign_raw(const struct jg_jwk *key, enum jg_alg alg,
		const void *data, size_t len,
		unsigned char **sig, size_t *siglen)
{
	const struct alg_info *ai = alg_info(alg);

	if (ai == NULL || key == NULL || !jg_jwk_usable(key, alg, JG_KEYOP_SIGN))
		return JG_ERR_DENIED;
	return sign_checked(key, ai, data, len, sig, siglen);
}

enum jg_err
jg_jws_verify_raw(const struct jg_jwk *key, enum jg_alg alg,
		  const void *data, size_t len,
		  const unsigned char *sig, size_t siglen)
{
	const struct alg_info *ai = alg_info(alg);

	if (ai == NULL || key == NULL || sig == NULL ||
	    !jg_jwk_usable(key, alg, JG_KEYOP_VERIFY))
		return JG_ERR_DENIED;
	return verify_checked(key, ai, data, len, sig, siglen);
}

enum jg_err
jg_jws_sign(const struct jg_jwk *key, enum jg_alg alg,
	    const struct json_object *extra_header,
	    const void *payload, size_t len, char **token)
{
	const struct alg_info *ai = alg_info(alg);
	struct json_object *hdr = NULL;
	char *text = NULL, *buf = NULL;
	unsigned char *sig = NULL;
	size_t hlen, elen, plen, slen, siglen = 0, pos;
	enum jg_err err;

	if (ai == NULL || key == NULL || !jg_jwk_usable(key, alg, JG_KEYOP_SIGN))
		return JG_ERR_DENIED;
	if (extra_header != NULL &&
	    (!json_object_is_type(extra_header, json_type_object) ||
	     jg_json_get(extra_header, "alg") != NULL ||
	     (key->kid != NULL && jg_json_get(extra_header, "kid") != NULL)))
		return JG_ERR_MALFORMED;

	hdr = json_object_new_object();
	json_object_object_add(hdr, "alg",
			       json_object_new_string(jg_alg_name(alg)));
	if (key->kid != NULL)
		json_object_object_add(hdr, "kid",
				       json_object_new_string(key->kid));
	if (extra_header != NULL) {
		json_object_object_foreach(extra_header, name, val)
			json_object_object_add(hdr, name, json_object_get(val));
	}
	text = jg_json_dump(hdr);
	if (text == NULL) {
		err = JG_ERR_SYSTEM;
		goto out;
	}
	hlen = strlen(text);
	elen = jg_b64url_encoded_len(hlen);
	plen = jg_b64url_encoded_len(len);
	buf = jg_xmalloc(elen + 1 + plen + 1);
	pos = jg_b64url_encode_into(text, hlen, buf);
	buf[pos++] = '.';
	pos += jg_b64url_encode_into(payload, len, buf + pos);

	err = sign_checked(key, ai, buf, pos, &sig, &siglen);
	if (err != JG_OK)
		goto out;
	slen = jg_b64url_encoded_len(siglen);
	buf = jg_xrealloc(buf, pos + 1 + slen + 1);
	buf[pos++] = '.';
	pos += jg_b64url_encode_into(sig, siglen, buf + pos);
	buf[pos] = '\0';
	*token = buf;
	buf = NULL;
out:
	free(buf);
	free(sig);
	free(text);
	json_object_put(hdr);
	return err;
}

/* What decode learns beyond the struct: the signature and where the
 * signing input ends. */
struct parsed {
	size_t signing_len;		/* bytes of "header.payload" */
	size_t siglen;
	unsigned char sig[MAX_SIG];
};

/* Sets *why when the caller asked for a reason. */
static enum jg_err
refuse(enum jg_err err, const char **why, const char *reason)
{
	if (why)
		*why = reason;
	return err;
}

/* Reads a string member value: it must be a JSON string without NUL. */
static bool
header_string(struct json_object *val, const char **out)
{
	const char *s;
	int n;

	if (!json_object_is_type(val, json_type_string))
		return false;
	s = json_object_get_string(val);
	n = json_object_get_string_len(val);
	/* A NUL inside would make the C string say something else. */
	if (s == NULL || n < 0 || memchr(s, '\0', (size_t)n) != NULL)
		return false;
	*out = s;
	return true;
}

/* Header members jwtgate looks at. */
enum member {
	MEMBER_OTHER,
	MEMBER_ALG,
	MEMBER_KID,
	MEMBER_TYP,
	MEMBER_CRIT,
	MEMBER_KEYREF		/* jwk, jku, x5u, x5c */
};

/* Returns true when the three bytes at name are the word w. */
static bool
is3(const char *name, const char *w)
{
	return name[0] == w[0] && name[1] == w[1] && name[2] == w[2];
}

/* The kind of the member named by the n bytes at name; inline byte
 * compares, as this runs for every header member. */
static enum member
member_kind(const char *name, size_t n)
{
	if (n == 4)
		return memcmp(name, "crit", 4) == 0 ? MEMBER_CRIT : MEMBER_OTHER;
	if (n != 3)
		return MEMBER_OTHER;
	switch (name[0]) {
	case 'a':
		return is3(name, "alg") ? MEMBER_ALG : MEMBER_OTHER;
	case 'k':
		return is3(name, "kid") ? MEMBER_KID : MEMBER_OTHER;
	case 't':
		return is3(name, "typ") ? MEMBER_TYP : MEMBER_OTHER;
	case 'j':
		return is3(name, "jwk") || is3(name, "jku") ?
		       MEMBER_KEYREF : MEMBER_OTHER;
	case 'x':
		return is3(name, "x5u") || is3(name, "x5c") ?
		       MEMBER_KEYREF : MEMBER_OTHER;
	default:
		return MEMBER_OTHER;
	}
}

/* Sets jws->alg from the header's "alg" value, the n bytes at alg (NULL
 * when it has none): only an algorithm jwtgate implements; "none" in any
 * case refused. */
static enum jg_err
resolve_alg(struct jg_jws *jws, const char *alg, size_t n, const char **why)
{
	if (alg == NULL)
		return refuse(JG_ERR_MALFORMED, why, "alg missing");
	jws->alg = jg_alg_from_bytes(alg, n);
	if (alg_info(jws->alg) != NULL)
		return JG_OK;
	jws->alg = JG_ALG_UNKNOWN;
	if (n == 4 && strncasecmp(alg, "none", 4) == 0)
		return refuse(JG_ERR_DENIED, why, "alg none refused");
	return refuse(JG_ERR_DENIED, why, "alg unknown");
}

/* The rule for one header member of kind whose value is a JSON string
 * without NUL of len bytes (is_string false for any other value): JG_OK to
 * go on, else the refusal.  Both header readers apply it, member by member
 * in header order, so they refuse the same headers for the same reason. */
static enum jg_err
member_rule(enum member kind, bool is_string, size_t len, const char **why)
{
	switch (kind) {
	case MEMBER_ALG:
		if (!is_string || len > 32)
			return refuse(JG_ERR_MALFORMED, why, "alg is not a string");
		break;
	case MEMBER_KID:
		if (!is_string || len > MAX_KID)
			return refuse(JG_ERR_MALFORMED, why,
				      "kid is not a short string");
		break;
	case MEMBER_TYP:
		if (!is_string || len > MAX_TYP)
			return refuse(JG_ERR_MALFORMED, why,
				      "typ is not a short string");
		break;
	case MEMBER_CRIT:
		/* No extension is understood, so any crit (and a malformed
		 * one alike) makes the token unusable. */
		return refuse(JG_ERR_DENIED, why, "crit not supported");
	case MEMBER_KEYREF:
		return refuse(JG_ERR_DENIED, why,
			      "header key references not trusted");
	case MEMBER_OTHER:
		break;
	}
	return JG_OK;
}

/* Applies the header rules; on success fills jws->alg, kid and typ. */
static enum jg_err
check_header(struct jg_jws *jws, const char **why)
{
	const char *alg = NULL, *s;
	size_t alglen = 0, len;
	enum member kind;
	enum jg_err err;
	bool is_string;

	json_object_object_foreach(jws->header, name, val) {
		kind = member_kind(name, strlen(name));
		s = NULL;
		is_string = header_string(val, &s);
		len = is_string ? strlen(s) : 0;
		err = member_rule(kind, is_string, len, why);
		if (err != JG_OK)
			return err;
		if (kind == MEMBER_ALG) {
			alg = s;
			alglen = len;
		}
		else if (kind == MEMBER_KID)
			jws->kid = s;
		else if (kind == MEMBER_TYP)
			jws->typ = s;
	}
	return resolve_alg(jws, alg, alglen, why);
}

/* ------------------------------------------------- the plain-header scan */

/* Most headers are a few string members of printable ASCII ({"alg":"ES256",
 * "kid":"...","typ":"at+jwt"}).  Such a header is read here without building
 * json-c objects; anything else (escapes, other bytes, other value types,
 * repeated names, more members) goes to the strict parser, which decides.
 * The two must agree on every header: tests/unit/test_jws.c and
 * tests/fuzz/fuzz_jws.c compare them (jg_jws_decode_strict). */
#define PLAIN_MEMBERS 16

struct span {
	const unsigned char *p;
	size_t n;
};

static const unsigned char *
plain_space(const unsigned char *p, const unsigned char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* 1 for the bytes a plain string may hold: 0x20 to 0x7e but '"' and '\'. */
#define PLAIN1(c) ((c) >= 0x20 && (c) <= 0x7e && (c) != '"' && (c) != '\\')
#define PLAIN4(c) PLAIN1(c), PLAIN1((c) + 1), PLAIN1((c) + 2), PLAIN1((c) + 3)
#define PLAIN16(c) PLAIN4(c), PLAIN4((c) + 4), PLAIN4((c) + 8), PLAIN4((c) + 12)
#define PLAIN64(c) PLAIN16(c), PLAIN16((c) + 16), PLAIN16((c) + 32), \
	PLAIN16((c) + 48)
static const unsigned char plain_byte[256] = {
	PLAIN64(0), PLAIN64(64), PLAIN64(128), PLAIN64(192)
};

/* A JSON string of bytes 0x20 to 0x7e without '"' or '\'; *p is at the
 * opening quote and ends after the closing one. */
static bool
plain_string(const unsigned char **p, const unsigned char *end,
	     struct span *out)
{
	const unsigned char *q = *p;

	if (q == end || *q != '"')
		return false;
	out->p = ++q;
	while (q < end && plain_byte[*q])
		q++;
	if (q == end || *q != '"')
		return false;
	out->n = (size_t)(q - out->p);
	*p = q + 1;
	return true;
}

/* Splits a plain header into its members, in order; returns how many, or 0
 * when the header is not plain. */
static size_t
plain_header(const unsigned char *h, size_t n, struct span *names,
	     struct span *vals)
{
	const unsigned char *p, *end = h + n;
	size_t count = 0, i;

	p = plain_space(h, end);
	if (p == end || *p != '{')
		return 0;
	p = plain_space(p + 1, end);
	for (;;) {
		if (count == PLAIN_MEMBERS ||
		    !plain_string(&p, end, &names[count]))
			return 0;
		p = plain_space(p, end);
		if (p == end || *p != ':')
			return 0;
		p = plain_space(p + 1, end);
		if (!plain_string(&p, end, &vals[count]))
			return 0;
		for (i = 0; i < count; i++)
			if (names[i].n == names[count].n &&
			    (names[i].n == 0 ||
			     (names[i].p[0] == names[count].p[0] &&
			      memcmp(names[i].p, names[count].p,
				     names[i].n) == 0)))
				return 0;
		count++;
		p = plain_space(p, end);
		if (p == end)
			return 0;
		if (*p == '}')
			break;
		if (*p != ',')
			return 0;
		p = plain_space(p + 1, end);
	}
	return plain_space(p + 1, end) == end ? count : 0;
}

/* check_header for a plain header: the same rules in the same member
 * order, so the same answer and reason.  On success the alg is set and
 * *kid and *typ name the values (or have p NULL). */
static enum jg_err
check_plain_header(const struct span *names, const struct span *vals,
		   size_t count, struct jg_jws *jws, struct span *kid,
		   struct span *typ, const char **why)
{
	const struct span *a = NULL;
	enum member kind;
	enum jg_err err;
	size_t i;

	kid->p = typ->p = NULL;
	kid->n = typ->n = 0;
	for (i = 0; i < count; i++) {
		kind = member_kind((const char *)names[i].p, names[i].n);
		err = member_rule(kind, true, vals[i].n, why);
		if (err != JG_OK)
			return err;
		if (kind == MEMBER_ALG)
			a = &vals[i];
		else if (kind == MEMBER_KID)
			*kid = vals[i];
		else if (kind == MEMBER_TYP)
			*typ = vals[i];
	}
	if (a == NULL)
		return refuse(JG_ERR_MALFORMED, why, "alg missing");
	return resolve_alg(jws, (const char *)a->p, a->n, why);
}

/* Copies n bytes to *at as a C string and returns it; *at moves on. */
static char *
put_string(char **at, const void *p, size_t n)
{
	char *s = *at;

	memcpy(s, p, n);
	s[n] = '\0';
	*at = s + n + 1;
	return s;
}

/* The last plain header this thread accepted, by its encoded text: tokens
 * from one issuer carry the same header byte for byte, so the next token
 * skips decoding and reading it.  Only a header that passed
 * check_plain_header is kept; what is kept is a function of the encoded
 * text alone (no key, no caller's choice enters it). */
#define MEMO_TEXT 256		/* longest encoded header kept */
#define MEMO_NONE SIZE_MAX	/* no kid or typ */

struct header_memo {
	size_t hlen;		/* 0 when empty */
	size_t n;		/* decoded length */
	enum jg_alg alg;
	size_t kid_off, kid_n, typ_off, typ_n;	/* into hdr */
	char text[MEMO_TEXT];
	unsigned char hdr[MEMO_TEXT / 4 * 3];
};

static __thread struct header_memo memo;

static void
remember_header(const char *text, size_t hlen, const unsigned char *hdr,
		size_t n, enum jg_alg alg, const struct span *kid,
		const struct span *typ)
{
	if (hlen > MEMO_TEXT || n > sizeof(memo.hdr))
		return;
	memcpy(memo.text, text, hlen);
	memcpy(memo.hdr, hdr, n);
	memo.n = n;
	memo.alg = alg;
	memo.kid_off = kid->p ? (size_t)(kid->p - hdr) : MEMO_NONE;
	memo.kid_n = kid->n;
	memo.typ_off = typ->p ? (size_t)(typ->p - hdr) : MEMO_NONE;
	memo.typ_n = typ->n;
	memo.hlen = hlen;
}

/* The decoder both public functions share.  On success *out is new; plain
 * says whether a plain header may skip the strict parser (and the memo). */
static enum jg_err
decode(const char *token, size_t len, bool plain, struct jg_jws **out,
       struct parsed *p, const char **why)
{
	const char *dot1, *dot2, *pay, *sig;
	unsigned char hbuf[MAX_HEADER_BYTES];
	const unsigned char *hdr = hbuf;
	struct span names[PLAIN_MEMBERS], vals[PLAIN_MEMBERS];
	struct span kid = { NULL, 0 }, typ = { NULL, 0 };
	size_t hlen, plen, slen, n, cap, count = 0, extra = 0;
	struct jg_jws *jws = NULL;
	bool known = false;
	char *at;
	enum jg_err err;

	if (token == NULL || len == 0)
		return refuse(JG_ERR_MALFORMED, why, "empty token");
	if (len > JG_JWS_MAX_TOKEN)
		return refuse(JG_ERR_MALFORMED, why, "token too long");
	if (token[0] == '{')
		return refuse(JG_ERR_MALFORMED, why,
			      "JSON serialization not supported");
	dot1 = memchr(token, '.', len);
	if (dot1 == NULL)
		return refuse(JG_ERR_MALFORMED, why, "not three segments");
	pay = dot1 + 1;
	dot2 = memchr(pay, '.', len - (size_t)(pay - token));
	if (dot2 == NULL)
		return refuse(JG_ERR_MALFORMED, why, "not three segments");
	sig = dot2 + 1;
	slen = len - (size_t)(sig - token);
	if (memchr(sig, '.', slen) != NULL)
		return refuse(JG_ERR_MALFORMED, why, "not three segments");
	hlen = (size_t)(dot1 - token);
	plen = (size_t)(dot2 - pay);
	if (hlen == 0)
		return refuse(JG_ERR_MALFORMED, why, "empty header");
	if (hlen > JG_JWS_MAX_HEADER)
		return refuse(JG_ERR_MALFORMED, why, "header too long");

	/* Header first, so a refused "alg" (even "none" with an empty
	 * signature) is reported as such. */
	if (plain && memo.hlen == hlen && memcmp(memo.text, token, hlen) == 0) {
		known = true;
		hdr = memo.hdr;
		n = memo.n;
		count = 1;
		if (memo.kid_off != MEMO_NONE) {
			kid.p = memo.hdr + memo.kid_off;
			kid.n = memo.kid_n;
		}
		if (memo.typ_off != MEMO_NONE) {
			typ.p = memo.hdr + memo.typ_off;
			typ.n = memo.typ_n;
		}
	} else {
		if (jg_b64url_decode_into(token, hlen, hbuf, sizeof(hbuf),
					  &n) != JG_OK)
			return refuse(JG_ERR_MALFORMED, why,
				      "header not base64url");
		if (plain)
			count = plain_header(hbuf, n, names, vals);
	}
	/* One allocation: the struct, the payload and, for a plain header,
	 * its text (for jg_jws_header) and the kid and typ strings, each
	 * shorter than the header. */
	cap = plen / 4 * 3 + 2;
	if (count > 0)
		extra = 3 * (n + 1);
	jws = jg_xmalloc(sizeof(*jws) + cap + 1 + extra);
	memset(jws, 0, sizeof(*jws));
	jws->payload = (unsigned char *)(jws + 1);
	if (count > 0) {
		if (known) {
			jws->alg = memo.alg;
		} else {
			err = check_plain_header(names, vals, count, jws, &kid,
						 &typ, why);
			if (err != JG_OK)
				goto fail;
			remember_header(token, hlen, hbuf, n, jws->alg, &kid,
					&typ);
		}
		at = (char *)jws->payload + cap + 1;
		jws->header_text = put_string(&at, hdr, n);
		jws->header_len = n;
		if (kid.p != NULL)
			jws->kid = put_string(&at, kid.p, kid.n);
		if (typ.p != NULL)
			jws->typ = put_string(&at, typ.p, typ.n);
	} else {
		if (jg_json_parse_object((const char *)hbuf, n, &jws->header,
					 NULL) != JG_OK) {
			jws->header = NULL;
			err = refuse(JG_ERR_MALFORMED, why,
				     "header is not a strict JSON object");
			goto fail;
		}
		err = check_header(jws, why);
		if (err != JG_OK)
			goto fail;
	}
	if (slen == 0 || jg_b64url_decode_into(sig, slen, p->sig,
					       sizeof(p->sig), &p->siglen) != JG_OK) {
		err = refuse(JG_ERR_MALFORMED, why, slen == 0 ?
			     "empty signature" : "signature not base64url");
		goto fail;
	}
	p->signing_len = (size_t)(dot2 - token);
	if (jg_b64url_decode_into(pay, plen, jws->payload, cap,
				  &jws->payload_len) != JG_OK) {
		err = refuse(JG_ERR_MALFORMED, why, "payload not base64url");
		goto fail;
	}
	jws->payload[jws->payload_len] = '\0';
	*out = jws;
	return JG_OK;
fail:
	jg_jws_free(jws);
	return err;
}

enum jg_err
jg_jws_decode(const char *token, size_t len, struct jg_jws **out,
	      const char **why)
{
	struct parsed p;

	return decode(token, len, true, out, &p, why);
}

enum jg_err
jg_jws_decode_strict(const char *token, size_t len, struct jg_jws **out,
		     const char **why)
{
	struct parsed p;

	return decode(token, len, false, out, &p, why);
}

struct json_object *
jg_jws_header(struct jg_jws *jws)
{
	if (jws == NULL)
		return NULL;
	/* A plain header is strict JSON by construction. */
	if (jws->header == NULL && jws->header_text != NULL &&
	    jg_json_parse_object(jws->header_text, jws->header_len,
				 &jws->header, NULL) != JG_OK)
		jws->header = NULL;
	return jws->header;
}

enum jg_err
jg_jws_verify(const char *token, size_t len, const struct jg_jwks *keys,
	      const enum jg_alg *allowed, size_t nallowed,
	      struct jg_jws **out, const char **why)
{
	const struct alg_info *ai;
	const struct jg_jwk *key;
	struct jg_jws *jws = NULL;
	struct parsed p;
	size_t i, kidlen = 0, attempts = 0, matched = 0;
	bool permitted = false;
	enum jg_err err;

	err = decode(token, len, true, &jws, &p, why);
	if (err != JG_OK)
		return err;
	for (i = 0; allowed != NULL && i < nallowed; i++)
		if (allowed[i] == jws->alg)
			permitted = true;
	if (!permitted) {
		err = refuse(JG_ERR_DENIED, why, "algorithm not allowed");
		goto fail;
	}
	ai = alg_info(jws->alg);
	if (jws->kid != NULL)
		kidlen = strlen(jws->kid);
	for (i = 0; keys != NULL && i < keys->count; i++) {
		key = keys->keys[i];
		if (key == NULL)
			continue;
		if (jws->kid != NULL &&
		    (key->kid == NULL || strlen(key->kid) != kidlen ||
		     memcmp(key->kid, jws->kid, kidlen) != 0))
			continue;
		matched++;
		if (!jg_jwk_usable(key, jws->alg, JG_KEYOP_VERIFY))
			continue;
		if (attempts++ == MAX_ATTEMPTS) {
			err = refuse(JG_ERR_DENIED, why,
				     "signature invalid (too many keys tried)");
			goto fail;
		}
		if (verify_checked(key, ai, token, p.signing_len, p.sig,
				   p.siglen) == JG_OK) {
			jws->key = key;
			*out = jws;
			return JG_OK;
		}
	}
	if (attempts > 0)
		err = refuse(JG_ERR_DENIED, why, "signature invalid");
	else if (jws->kid != NULL && matched == 0)
		err = refuse(JG_ERR_DENIED, why, "no key for kid");
	else if (jws->kid != NULL)
		err = refuse(JG_ERR_DENIED, why, "no usable key for kid");
	else
		err = refuse(JG_ERR_DENIED, why, "no usable key");
fail:
	jg_jws_free(jws);
	return err;
}

void
jg_jws_free(struct jg_jws *jws)
{
	if (jws == NULL)
		return;
	json_object_put(jws->header);
	/* The payload lives in the same allocation. */
	free(jws);
}
