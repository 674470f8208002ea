/* test_hostile.c: a table of hostile tokens, each guarding against one
 * class of JWT verification bug, run through jg_jwt_verify (and through
 * jg_jws_verify for the rows that are about the JWS layer only). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>

#include "testutil.h"
#include "b64url.h"
#include "claims.h"
#include "json.h"
#include "jwk.h"
#include "jws.h"

#define NOW 1700000000
#define ISS "https://issuer.example"
#define AUD "api://resource"

/* The claims every row uses unless it says otherwise: valid at NOW. */
#define CLAIMS_OK \
	"{\"iss\":\"" ISS "\",\"sub\":\"alice\",\"aud\":\"" AUD "\"," \
	"\"exp\":1700000300,\"iat\":1699999900,\"nbf\":1699999900}"
/* The header every row uses unless it says otherwise. */
#define HDR_OK "{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"ec-1\"}"
/* Claims with one member replaced. */
#define CLAIMS_WITH(exp_etc) \
	"{\"iss\":\"" ISS "\",\"sub\":\"alice\",\"aud\":\"" AUD "\"," exp_etc "}"

/* Who signs the crafted signing input. */
enum signer {
	S_EC,		/* the server's P-256 key "ec-1" */
	S_RSA,		/* the server's RSA key "rsa-1" */
	S_OCT,		/* the server's HMAC key "oct-1" */
	S_ATTACKER,	/* an attacker's own P-256 key */
	S_HMAC_RSA_PEM,	/* HMAC keyed with the RSA public key's PEM text */
	S_HMAC_RSA_DER,	/* ... its SPKI DER bytes */
	S_HMAC_RSA_N,	/* ... its modulus bytes */
	S_HMAC_EC_PEM	/* HMAC keyed with the EC public key's PEM text */
};

/* What is done to the raw signature afterwards (ECDSA R||S rows). */
enum sigmod {
	M_NONE,
	M_EMPTY,	/* no signature at all */
	M_ZERO,		/* r = s = 0 (CVE-2022-21449) */
	M_R_ZERO,	/* r = 0 */
	M_S_ZERO,	/* s = 0 */
	M_R_N,		/* r = n */
	M_S_N,		/* s = n */
	M_R_N1,		/* r = n + 1 */
	M_R_MAX,	/* r = 2^256 - 1 */
	M_DER,		/* the same r, s DER-encoded as GnuTLS and X.509 use */
	M_SHORT,	/* last byte dropped */
	M_LONG		/* a zero byte appended */
};

/* What is done to the token text afterwards. */
enum textmod {
	T_NONE,
	T_TWO,		/* header.payload */
	T_FOUR,		/* one more segment */
	T_FIVE,		/* the JWE shape */
	T_JSON,		/* flattened JWS JSON serialization of the same parts */
	T_PAD,		/* "==" padding after the signature */
	T_PLUS,		/* a '-' written as '+' (standard base64) */
	T_SLASH,	/* a '_' written as '/' */
	T_NEWLINE,	/* "\n" inside the payload segment */
	T_SPACE,	/* " " after the first '.' */
	T_TRAILING_NL,	/* "\n" after the token */
	T_NONCANON	/* unused low bits of the signature's last character set */
};

/* Special headers or claims built at run time. */
enum special {
	SP_NONE,
	SP_ATTACKER_JWK,	/* "jwk": the attacker's public key, no kid */
	SP_ATTACKER_JWK_KID,	/* the same with "kid":"ec-1" */
	SP_LONG_KID,		/* a 10 KiB kid */
	SP_OVERSIZED,		/* claims padded past JG_JWS_MAX_TOKEN */
	SP_EMPTY,		/* the empty string */
	SP_DOTS			/* ".." */
};

enum keyset { K_EC, K_RSA, K_OCT, K_ALL };
enum allow { A_ALL, A_NO_ES256 };

struct row {
	const char *bug;	/* the bug class the row guards against */
	const char *header;	/* protected header JSON text */
	const char *claims;	/* payload JSON text */
	enum signer signer;
	enum jg_alg sign_alg;	/* algorithm the signature is made with */
	enum sigmod sig;
	enum textmod text;
	enum special special;
	enum keyset set;
	enum allow allow;
	bool jws;		/* a JWS-layer row: jg_jws_verify must agree */
	enum jg_err expect;
};

#define ES JG_ALG_ES256

static const struct row rows[] = {
	/* ---- controls: these must pass, or the table proves nothing */
	{ "control: valid ES256 access token", HDR_OK, CLAIMS_OK, S_EC, ES,
	  M_NONE, T_NONE, SP_NONE, K_ALL, A_ALL, true, JG_OK },
	{ "control: valid RS256 token, RSA-only set",
	  "{\"alg\":\"RS256\",\"typ\":\"at+jwt\",\"kid\":\"rsa-1\"}", CLAIMS_OK,
	  S_RSA, JG_ALG_RS256, M_NONE, T_NONE, SP_NONE, K_RSA, A_ALL, true, JG_OK },
	{ "control: valid HS256 token with a real oct key",
	  "{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"kid\":\"oct-1\"}", CLAIMS_OK,
	  S_OCT, JG_ALG_HS256, M_NONE, T_NONE, SP_NONE, K_OCT, A_ALL, true, JG_OK },
	{ "control: exp one second after now",
	  HDR_OK, CLAIMS_WITH("\"exp\":1700000001"), S_EC, ES, M_NONE, T_NONE,
	  SP_NONE, K_ALL, A_ALL, false, JG_OK },
	{ "control: typ application/at+jwt (RFC 7515 4.1.9 prefix)",
	  "{\"alg\":\"ES256\",\"typ\":\"application/at+jwt\",\"kid\":\"ec-1\"}",
	  CLAIMS_OK, S_EC, ES, M_NONE, T_NONE, SP_NONE, K_ALL, A_ALL, false, JG_OK },
	{ "control: no kid, key found by trying the set",
	  "{\"alg\":\"ES256\",\"typ\":\"at+jwt\"}", CLAIMS_OK, S_EC, ES, M_NONE,
	  T_NONE, SP_NONE, K_ALL, A_ALL, true, JG_OK },

	/* ---- alg none (RFC 8725 2.1, 3.2), any case, with and without a
	 * signature */
	{ "alg none accepted as unsecured",
	  "{\"alg\":\"none\",\"typ\":\"at+jwt\",\"kid\":\"ec-1\"}", CLAIMS_OK,
	  S_EC, ES, M_EMPTY, T_NONE, SP_NONE, K_ALL, A_ALL, true, JG_ERR_DENIED },
	{ "alg none with a signature present",
	  "{\"alg\":\"none\",\"typ\":\"at+jwt\",\"kid\":\"ec-1\"}", CLAIMS_OK,
	  S_EC, ES, M_NONE, T_NONE, SP_NONE, K_ALL, A_ALL, true, JG_ERR_DENIED },
	{ "alg None (case-folded none check)",
	  "{\"alg\":\"None\",\"typ\":\"at+jwt\",\"kid\":\"ec-1\"}", CLAIMS_OK,
	  S_EC, ES, M_EMPTY, T_NONE, SP_NONE, K_ALL, A_ALL, true, JG_ERR_DENIED },
	{ "alg None with a signature",
	  "{\"alg\":\"None\",\"typ\":\"at+jwt\",\"kid\":\"ec-1\"}", CLAIMS_OK,
	  S_EC, ES, M_NONE, T_NONE, SP_NONE, K_ALL, A_ALL, true, JG_ERR_DENIED },
	{ "alg NONE (case-folded none check)",
	  "{\"alg\":\"NONE\",\"typ\":\"at+jwt\",\"kid\":\"ec-1\"}", CLAIMS_OK,
	  S_EC, ES, M_EMPTY, T_NONE, SP_NONE, K_ALL, A_ALL, true, JG_ERR_DENIED },
	{ "alg NONE with a signature",
	  "{\"alg\":\"NONE\",\"typ\":\"at+jwt\",\"kid\":\"ec-1\"}", CLAIMS_OK,
	  S_EC, ES, M_NONE, T_NONE, SP_NONE, K_ALL, A_ALL, true, JG_ERR_DENIED },
	{ "alg nOnE (case-folded none check)",
	  "{\"alg\":\"nOnE\",\"typ\":\"at+jwt\",\"kid\":\"ec-1\"}", CLAIMS_OK,
	  S_EC, ES, M_EMPTY, T_NONE, SP_NONE, K_ALL, A_ALL, true, JG_ERR_DENIED },
	{ "alg nOnE with a signature",
	  "{\"alg\":\"nOnE\",\"typ\":\"at+jwt\",\"kid\":\"ec-1\"}", CLAIMS_OK,
	  S_EC, ES, M_NONE, T_NONE, SP_NONE, K_ALL, A_ALL, true, JG_ERR_DENIED },

	/* ---- key confusion (RFC 8725 2.1, CVE-2015-9235): an HMAC keyed
	 * with public key material, only the asymmetric key in the set */
	{ "key confusion: HS256 keyed with the RSA public key PEM",
	  "{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"kid\":\"rsa-1\"}", CLAIMS_OK,
	  S_HMAC_RSA_PEM, JG_ALG_HS256, M_NONE, T_NONE, SP_NONE, K_RSA, A_ALL,
	  true, JG_ERR_DENIED },
	{ "key confusion: HS256 keyed with the RSA PEM, no kid",
	  "{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}", CLAIMS_OK,
	  S_HMAC_RSA_PEM, JG_ALG_HS256, M_NONE, T_NONE, SP_NONE, K_RSA, A_ALL,
	  true, JG_ERR_DENIED },
	{ "key confusion: HS256 keyed with the RSA SPKI DER",
	  "{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"kid\":\"rsa-1\"}", CLAIMS_OK,
	  S_HMAC_RSA_DER, JG_ALG_HS256, M_NONE, T_NONE, SP_NONE, K_RSA, A_ALL,
	  true, JG_ERR_DENIED },
	{ "key confusion: HS256 keyed with the RSA modulus bytes",
	  "{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"kid\":\"rsa-1\"}", CLAIMS_OK,
	  S_HMAC_RSA_N, JG_ALG_HS256, M_NONE, T_NONE, SP_NONE, K_RSA, A_ALL,
	  true, JG_ERR_DENIED },
	{ "key confusion: HS256 against an EC key set",
	  "{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"kid\":\"ec-1\"}", CLAIMS_OK,
	  S_HMAC_EC_PEM, JG_ALG_HS256, M_NONE, T_NONE, SP_NONE, K_EC, A_ALL,
	  true, JG_ERR_DENIED },

	/* ---- ECDSA signature encoding (CVE-2022-21449 and kin) */
	{ "psychic signature: r = s = 0 (64 zero bytes)", HDR_OK, CLAIMS_OK,
	  S_EC, ES, M_ZERO, T_NONE, SP_NONE, K_ALL, A_ALL, true, JG_ERR_DENIED },
	{ "ECDSA r = 0", HDR_OK, CLAIMS_OK, S_EC, ES, M_R_ZERO, T_NONE, SP_NONE,
	  K_ALL, A_ALL, true, JG_ERR_DENIED },
	{ "ECDSA s = 0", HDR_OK, CLAIMS_OK, S_EC, ES, M_S_ZERO, T_NONE, SP_NONE,
	  K_ALL, A_ALL, true, JG_ERR_DENIED },
	{ "ECDSA r = n (range check)", HDR_OK, CLAIMS_OK, S_EC, ES, M_R_N, T_NONE,
	  SP_NONE, K_ALL, A_ALL, true, JG_ERR_DENIED },
	{ "ECDSA s = n (range check)", HDR_OK, CLAIMS_OK, S_EC, ES, M_S_N, T_NONE,
	  SP_NONE, K_ALL, A_ALL, true, JG_ERR_DENIED },
	{ "ECDSA r = n + 1 (range check, reduction mod n)", HDR_OK, CLAIMS_OK,
	  S_EC, ES, M_R_N1, T_NONE, SP_NONE, K_ALL, A_ALL, true, JG_ERR_DENIED },
	{ "ECDSA r = 2^256 - 1 (range check)", HDR_OK, CLAIMS_OK, S_EC, ES,
	  M_R_MAX, T_NONE, SP_NONE, K_ALL, A_ALL, true, JG_ERR_DENIED },
	{ "ECDSA signature in DER instead of R||S", HDR_OK, CLAIMS_OK, S_EC, ES,
	  M_DER, T_NONE, SP_NONE, K_ALL, A_ALL, true, JG_ERR_DENIED },
	{ "ECDSA signature one byte short", HDR_OK, CLAIMS_OK, S_EC, ES, M_SHORT,
	  T_NONE, SP_NONE, K_ALL, A_ALL, true, JG_ERR_DENIED },
	{ "ECDSA signature one byte long", HDR_OK, CLAIMS_OK, S_EC, ES, M_LONG,
	  T_NONE, SP_NONE, K_ALL, A_ALL, true, JG_ERR_DENIED },

	/* ---- crit (RFC 7515 4.1.11): nothing is understood, so any crit,
	 * well formed or not, refuses the token */
	{ "crit [\"exp\"] ignored", "{\"alg\":\"ES256\",\"typ\":\"at+jwt\","
	  "\"kid\":\"ec-1\",\"crit\":[\"exp\"],\"exp\":1700000300}", CLAIMS_OK,
	  S_EC, ES, M_NONE, T_NONE, SP_NONE, K_ALL, A_ALL, true, JG_ERR_DENIED },
	{ "crit [] (empty list is malformed)", "{\"alg\":\"ES256\","
	  "\"typ\":\"at+jwt\",\"kid\":\"ec-1\",\"crit\":[]}", CLAIMS_OK, S_EC, ES,
	  M_NONE, T_NONE, SP_NONE, K_ALL, A_ALL, true, JG_ERR_DENIED },
	{ "crit \"x\" (not an array)", "{\"alg\":\"ES256\",\"typ\":\"at+jwt\","
	  "\"kid\":\"ec-1\",\"crit\":\"x\"}", CLAIMS_OK, S_EC, ES, M_NONE, T_NONE,
	  SP_NONE, K_ALL, A_ALL, true, JG_ERR_DENIED },
	{ "crit [1] (not strings)", "{\"alg\":\"ES256\",\"typ\":\"at+jwt\","
	  "\"kid\":\"ec-1\",\"crit\":[1]}", CLAIMS_OK, S_EC, ES, M_NONE, T_NONE,
	  SP_NONE, K_ALL, A_ALL, true, JG_ERR_DENIED },

	/* ---- keys named by the token itself (RFC 8725 3.10) */
	{ "embedded jwk header trusted (attacker's key, no kid)", NULL,
	  CLAIMS_OK, S_ATTACKER, ES, M_NONE, T_NONE, SP_ATTACKER_JWK, K_ALL,
	  A_ALL, true, JG_ERR_DENIED },
	{ "embedded jwk header trusted (attacker's key, our kid)", NULL,
	  CLAIMS_OK, S_ATTACKER, ES, M_NONE, T_NONE, SP_ATTACKER_JWK_KID, K_ALL,
	  A_ALL, true, JG_ERR_DENIED },
	{ "jku header followed (SSRF, attacker key set)",
	  "{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"ec-1\","
	  "\"jku\":\"https://attacker.example/jwks.json\"}", CLAIMS_OK, S_EC, ES,
	  M_NONE, T_NONE, SP_NONE, K_ALL, A_ALL, true, JG_ERR_DENIED },
	{ "x5u header followed",
	  "{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"ec-1\","
	  "\"x5u\":\"https://attacker.example/cert.pem\"}", CLAIMS_OK, S_EC, ES,
	  M_NONE, T_NONE, SP_NONE, K_ALL, A_ALL, true, JG_ERR_DENIED },
	{ "x5c header trusted",
	  "{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"ec-1\","
	  "\"x5c\":[\"MIIBAA==\"]}", CLAIMS_OK, S_EC, ES, M_NONE, T_NONE, SP_NONE,
	  K_ALL, A_ALL, true, JG_ERR_DENIED },

	/* ---- kid is an opaque lookup key (RFC 8725 3.10) */
	{ "kid path traversal",
	  "{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"../../etc/passwd\"}",
	  CLAIMS_OK, S_EC, ES, M_NONE, T_NONE, SP_NONE, K_ALL, A_ALL, true,
	  JG_ERR_DENIED },
	{ "kid SQL injection",
	  "{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"' OR 1=1 --\"}",
	  CLAIMS_OK, S_EC, ES, M_NONE, T_NONE, SP_NONE, K_ALL, A_ALL, true,
	  JG_ERR_DENIED },
	{ "kid of 10 KiB (unbounded header)", NULL, CLAIMS_OK, S_EC, ES, M_NONE,
	  T_NONE, SP_LONG_KID, K_ALL, A_ALL, true, JG_ERR_MALFORMED },
	{ "kid with NUL escape truncated to a known kid",
	  "{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"ec-1\\u0000x\"}",
	  CLAIMS_OK, S_EC, ES, M_NONE, T_NONE, SP_NONE, K_ALL, A_ALL, true,
	  JG_ERR_MALFORMED },
	{ "kid with trailing NUL escape",
	  "{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"ec-1\\u0000\"}",
	  CLAIMS_OK, S_EC, ES, M_NONE, T_NONE, SP_NONE, K_ALL, A_ALL, true,
	  JG_ERR_MALFORMED },
	{ "kid as a number",
	  "{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":1}", CLAIMS_OK, S_EC, ES,
	  M_NONE, T_NONE, SP_NONE, K_ALL, A_ALL, true, JG_ERR_MALFORMED },
	{ "kid as an array",
	  "{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":[\"ec-1\"]}", CLAIMS_OK,
	  S_EC, ES, M_NONE, T_NONE, SP_NONE, K_ALL, A_ALL, true, JG_ERR_MALFORMED },

	/* ---- strict JSON: parser differentials */
	{ "duplicate alg, none first (last-wins parser)",
	  "{\"alg\":\"none\",\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"ec-1\"}",
	  CLAIMS_OK, S_EC, ES, M_NONE, T_NONE, SP_NONE, K_ALL, A_ALL, true,
	  JG_ERR_MALFORMED },
	{ "duplicate alg, none last (first-wins parser)",
	  "{\"alg\":\"ES256\",\"alg\":\"none\",\"typ\":\"at+jwt\",\"kid\":\"ec-1\"}",
	  CLAIMS_OK, S_EC, ES, M_NONE, T_NONE, SP_NONE, K_ALL, A_ALL, true,
	  JG_ERR_MALFORMED },
	{ "duplicate exp in claims", HDR_OK,
	  CLAIMS_WITH("\"exp\":1,\"exp\":1700000300"), S_EC, ES, M_NONE, T_NONE,
	  SP_NONE, K_ALL, A_ALL, false, JG_ERR_MALFORMED },
	{ "NUL in a header member name (json-c truncates it to alg)",
	  "{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"ec-1\","
	  "\"alg\\u0000\":\"none\"}", CLAIMS_OK, S_EC, ES, M_NONE, T_NONE,
	  SP_NONE, K_ALL, A_ALL, true, JG_ERR_MALFORMED },
	{ "NUL in a claims member name (json-c truncates it to exp)", HDR_OK,
	  CLAIMS_WITH("\"exp\":1700000300,\"exp\\u0000x\":1"), S_EC, ES, M_NONE,
	  T_NONE, SP_NONE, K_ALL, A_ALL, false, JG_ERR_MALFORMED },
	{ "trailing bytes after the header JSON",
	  HDR_OK "{\"alg\":\"none\"}", CLAIMS_OK, S_EC, ES, M_NONE, T_NONE,
	  SP_NONE, K_ALL, A_ALL, true, JG_ERR_MALFORMED },
	{ "trailing byte after the header JSON", HDR_OK "x", CLAIMS_OK, S_EC, ES,
	  M_NONE, T_NONE, SP_NONE, K_ALL, A_ALL, true, JG_ERR_MALFORMED },
	{ "trailing bytes after the claims JSON", HDR_OK, CLAIMS_OK "[]", S_EC,
	  ES, M_NONE, T_NONE, SP_NONE, K_ALL, A_ALL, false, JG_ERR_MALFORMED },
	{ "overlong UTF-8 in the header",
	  "{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":\"ec-1\",\"x\":\"\xc0\xaf\"}",
	  CLAIMS_OK, S_EC, ES, M_NONE, T_NONE, SP_NONE, K_ALL, A_ALL, true,
	  JG_ERR_MALFORMED },
	{ "header is a JSON array", "[\"ES256\"]", CLAIMS_OK, S_EC, ES, M_NONE,
	  T_NONE, SP_NONE, K_ALL, A_ALL, true, JG_ERR_MALFORMED },
	{ "claims are a JSON array", HDR_OK, "[" CLAIMS_OK "]", S_EC, ES, M_NONE,
	  T_NONE, SP_NONE, K_ALL, A_ALL, false, JG_ERR_MALFORMED },
	{ "claims are not JSON", HDR_OK, "exp=1700000300", S_EC, ES, M_NONE,
	  T_NONE, SP_NONE, K_ALL, A_ALL, false, JG_ERR_MALFORMED },

	/* ---- compact serialization shape and strict base64url */
	{ "two segments (signature dropped)", HDR_OK, CLAIMS_OK, S_EC, ES, M_NONE,
	  T_TWO, SP_NONE, K_ALL, A_ALL, true, JG_ERR_MALFORMED },
	{ "four segments", HDR_OK, CLAIMS_OK, S_EC, ES, M_NONE, T_FOUR, SP_NONE,
	  K_ALL, A_ALL, true, JG_ERR_MALFORMED },
	{ "five segments (JWE shape)", HDR_OK, CLAIMS_OK, S_EC, ES, M_NONE,
	  T_FIVE, SP_NONE, K_ALL, A_ALL, true, JG_ERR_MALFORMED },
	{ "JWS JSON serialization {\"payload\":...}", HDR_OK, CLAIMS_OK, S_EC, ES,
	  M_NONE, T_JSON, SP_NONE, K_ALL, A_ALL, true, JG_ERR_MALFORMED },
	{ "base64 '=' padding on the signature", HDR_OK, CLAIMS_OK, S_EC, ES,
	  M_NONE, T_PAD, SP_NONE, K_ALL, A_ALL, true, JG_ERR_MALFORMED },
	{ "standard base64 '+' for '-'", HDR_OK, CLAIMS_OK, S_EC, ES, M_NONE,
	  T_PLUS, SP_NONE, K_ALL, A_ALL, true, JG_ERR_MALFORMED },
	{ "standard base64 '/' for '_'", HDR_OK, CLAIMS_OK, S_EC, ES, M_NONE,
	  T_SLASH, SP_NONE, K_ALL, A_ALL, true, JG_ERR_MALFORMED },
	{ "newline inside the payload segment", HDR_OK, CLAIMS_OK, S_EC, ES,
	  M_NONE, T_NEWLINE, SP_NONE, K_ALL, A_ALL, true, JG_ERR_MALFORMED },
	{ "space after a dot", HDR_OK, CLAIMS_OK, S_EC, ES, M_NONE, T_SPACE,
	  SP_NONE, K_ALL, A_ALL, true, JG_ERR_MALFORMED },
	{ "newline after the token", HDR_OK, CLAIMS_OK, S_EC, ES, M_NONE,
	  T_TRAILING_NL, SP_NONE, K_ALL, A_ALL, true, JG_ERR_MALFORMED },
	{ "non-canonical trailing bits in the signature (malleability)", HDR_OK,
	  CLAIMS_OK, S_EC, ES, M_NONE, T_NONCANON, SP_NONE, K_ALL, A_ALL, true,
	  JG_ERR_MALFORMED },
	{ "empty signature segment", HDR_OK, CLAIMS_OK, S_EC, ES, M_EMPTY, T_NONE,
	  SP_NONE, K_ALL, A_ALL, true, JG_ERR_MALFORMED },
	{ "oversized token (> JG_JWS_MAX_TOKEN)", HDR_OK, NULL, S_EC, ES, M_NONE,
	  T_NONE, SP_OVERSIZED, K_ALL, A_ALL, true, JG_ERR_MALFORMED },
	{ "empty string", NULL, NULL, S_EC, ES, M_NONE, T_NONE, SP_EMPTY, K_ALL,
	  A_ALL, true, JG_ERR_MALFORMED },
	{ "only dots", NULL, NULL, S_EC, ES, M_NONE, T_NONE, SP_DOTS, K_ALL,
	  A_ALL, true, JG_ERR_MALFORMED },

	/* ---- algorithm confusion and the allow-list */
	{ "alg header changed ES256 -> ES384 after signing",
	  "{\"alg\":\"ES384\",\"typ\":\"at+jwt\",\"kid\":\"ec-1\"}", CLAIMS_OK,
	  S_EC, ES, M_NONE, T_NONE, SP_NONE, K_ALL, A_ALL, true, JG_ERR_DENIED },
	{ "alg header EdDSA over an ECDSA signature",
	  "{\"alg\":\"EdDSA\",\"typ\":\"at+jwt\",\"kid\":\"ec-1\"}", CLAIMS_OK,
	  S_EC, ES, M_NONE, T_NONE, SP_NONE, K_ALL, A_ALL, true, JG_ERR_DENIED },
	{ "alg not in the allow-list though the key fits", HDR_OK, CLAIMS_OK,
	  S_EC, ES, M_NONE, T_NONE, SP_NONE, K_ALL, A_NO_ES256, true,
	  JG_ERR_DENIED },
	{ "unregistered alg ES256K", "{\"alg\":\"ES256K\",\"typ\":\"at+jwt\","
	  "\"kid\":\"ec-1\"}", CLAIMS_OK, S_EC, ES, M_NONE, T_NONE, SP_NONE, K_ALL,
	  A_ALL, true, JG_ERR_DENIED },
	{ "alg name in lower case (names are case-sensitive)",
	  "{\"alg\":\"es256\",\"typ\":\"at+jwt\",\"kid\":\"ec-1\"}", CLAIMS_OK,
	  S_EC, ES, M_NONE, T_NONE, SP_NONE, K_ALL, A_ALL, true, JG_ERR_DENIED },
	{ "alg with NUL escape (ES256\\u0000x read as ES256)",
	  "{\"alg\":\"ES256\\u0000x\",\"typ\":\"at+jwt\",\"kid\":\"ec-1\"}",
	  CLAIMS_OK, S_EC, ES, M_NONE, T_NONE, SP_NONE, K_ALL, A_ALL, true,
	  JG_ERR_MALFORMED },
	{ "alg missing", "{\"typ\":\"at+jwt\",\"kid\":\"ec-1\"}", CLAIMS_OK, S_EC,
	  ES, M_NONE, T_NONE, SP_NONE, K_ALL, A_ALL, true, JG_ERR_MALFORMED },

	/* ---- claims (RFC 7519 4.1, RFC 9068) */
	{ "exp as a string", HDR_OK, CLAIMS_WITH("\"exp\":\"9999999999\""), S_EC,
	  ES, M_NONE, T_NONE, SP_NONE, K_ALL, A_ALL, false, JG_ERR_MALFORMED },
	{ "exp negative", HDR_OK, CLAIMS_WITH("\"exp\":-1"), S_EC, ES, M_NONE,
	  T_NONE, SP_NONE, K_ALL, A_ALL, false, JG_ERR_DENIED },
	{ "exp fractional", HDR_OK, CLAIMS_WITH("\"exp\":1700000100.5"), S_EC, ES,
	  M_NONE, T_NONE, SP_NONE, K_ALL, A_ALL, false, JG_ERR_MALFORMED },
	{ "exp 1e300 (float overflow to int)", HDR_OK,
	  CLAIMS_WITH("\"exp\":1e300"), S_EC, ES, M_NONE, T_NONE, SP_NONE, K_ALL,
	  A_ALL, false, JG_ERR_MALFORMED },
	{ "exp 2^63 (int64 overflow)", HDR_OK,
	  CLAIMS_WITH("\"exp\":9223372036854775808"), S_EC, ES, M_NONE, T_NONE,
	  SP_NONE, K_ALL, A_ALL, false, JG_ERR_MALFORMED },
	{ "exp missing", HDR_OK, CLAIMS_WITH("\"iat\":1699999900"), S_EC, ES,
	  M_NONE, T_NONE, SP_NONE, K_ALL, A_ALL, false, JG_ERR_DENIED },
	{ "exp equal to now (off by one)", HDR_OK,
	  CLAIMS_WITH("\"exp\":1700000000"), S_EC, ES, M_NONE, T_NONE, SP_NONE,
	  K_ALL, A_ALL, false, JG_ERR_DENIED },
	{ "nbf in the future", HDR_OK,
	  CLAIMS_WITH("\"exp\":1700000300,\"nbf\":1700000100"), S_EC, ES, M_NONE,
	  T_NONE, SP_NONE, K_ALL, A_ALL, false, JG_ERR_DENIED },
	{ "iat in the future", HDR_OK,
	  CLAIMS_WITH("\"exp\":1700000300,\"iat\":1700000100"), S_EC, ES, M_NONE,
	  T_NONE, SP_NONE, K_ALL, A_ALL, false, JG_ERR_DENIED },
	{ "aud array without our audience", HDR_OK,
	  "{\"iss\":\"" ISS "\",\"sub\":\"alice\",\"aud\":[\"api://other\","
	  "\"api://resource2\"],\"exp\":1700000300}", S_EC, ES, M_NONE, T_NONE,
	  SP_NONE, K_ALL, A_ALL, false, JG_ERR_DENIED },
	{ "aud wrong string", HDR_OK,
	  "{\"iss\":\"" ISS "\",\"sub\":\"alice\",\"aud\":\"api://other\","
	  "\"exp\":1700000300}", S_EC, ES, M_NONE, T_NONE, SP_NONE, K_ALL, A_ALL,
	  false, JG_ERR_DENIED },
	{ "iss wrong", HDR_OK,
	  "{\"iss\":\"https://evil.example\",\"sub\":\"alice\",\"aud\":\"" AUD "\","
	  "\"exp\":1700000300}", S_EC, ES, M_NONE, T_NONE, SP_NONE, K_ALL, A_ALL,
	  false, JG_ERR_DENIED },
	{ "iss with a trailing slash (prefix match)", HDR_OK,
	  "{\"iss\":\"" ISS "/\",\"sub\":\"alice\",\"aud\":\"" AUD "\","
	  "\"exp\":1700000300}", S_EC, ES, M_NONE, T_NONE, SP_NONE, K_ALL, A_ALL,
	  false, JG_ERR_DENIED },
	{ "typ JWT (an ID token) where at+jwt is required",
	  "{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"ec-1\"}", CLAIMS_OK, S_EC,
	  ES, M_NONE, T_NONE, SP_NONE, K_ALL, A_ALL, false, JG_ERR_DENIED },
	{ "typ missing", "{\"alg\":\"ES256\",\"kid\":\"ec-1\"}", CLAIMS_OK, S_EC,
	  ES, M_NONE, T_NONE, SP_NONE, K_ALL, A_ALL, false, JG_ERR_DENIED },
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))

static const enum jg_alg every_alg[] = {
	JG_ALG_HS256, JG_ALG_HS384, JG_ALG_HS512,
	JG_ALG_RS256, JG_ALG_RS384, JG_ALG_RS512,
	JG_ALG_PS256, JG_ALG_PS384, JG_ALG_PS512,
	JG_ALG_ES256, JG_ALG_ES384, JG_ALG_ES512,
	JG_ALG_EDDSA,
};
static const enum jg_alg all_but_es256[] = {
	JG_ALG_HS256, JG_ALG_HS384, JG_ALG_HS512,
	JG_ALG_RS256, JG_ALG_RS384, JG_ALG_RS512,
	JG_ALG_PS256, JG_ALG_PS384, JG_ALG_PS512,
	JG_ALG_ES384, JG_ALG_ES512,
	JG_ALG_EDDSA,
};

/* P-256 group order n (SEC 2 2.4.2). */
static const unsigned char p256_n[32] = {
	0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84,
	0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51
};

static const char b64url_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Keys and sets the rows use, built once per run. */
struct fixture {
	struct jg_jwk *ec, *rsa, *oct, *attacker;
	struct jg_jwks *set_ec, *set_rsa, *set_oct, *set_all;
	struct jg_jwk *hmac_rsa_pem, *hmac_rsa_der, *hmac_rsa_n, *hmac_ec_pem;
	char *attacker_jwk;	/* the attacker's public JWK as JSON text */
};

/* Re-imports key (private part too when present) with the given kid. */
static struct jg_jwk *
with_kid(const struct jg_jwk *key, const char *kid)
{
	struct json_object *obj = jg_jwk_to_json(key, true);
	struct jg_jwk *out = NULL;
	const char *why = NULL;

	CU_ASSERT_FATAL(obj != NULL);
	json_object_object_add(obj, "kid", json_object_new_string(kid));
	json_object_object_del(obj, "alg");
	if (jg_jwk_from_json(obj, &out, &why) != JG_OK)
		fprintf(stderr, "fixture key: %s\n", why ? why : "?");
	CU_ASSERT_FATAL(out != NULL);
	json_object_put(obj);
	return out;
}

/* An oct key holding len bytes at secret, as an attacker would build it. */
static struct jg_jwk *
oct_key(const void *secret, size_t len)
{
	char *k = jg_b64url_encode(secret, len);
	char *json = jg_xasprintf("{\"kty\":\"oct\",\"k\":\"%s\"}", k);
	struct jg_jwk *key = NULL;

	CU_ASSERT_FATAL(jg_jwk_parse(json, strlen(json), &key, NULL) == JG_OK);
	CU_ASSERT_FATAL(jg_jwk_usable(key, JG_ALG_HS256, JG_KEYOP_SIGN));
	free(json);
	free(k);
	return key;
}

static struct jg_jwk *
generated(enum jg_alg alg, const char *kid)
{
	struct jg_jwk *k = NULL, *out;

	CU_ASSERT_FATAL(jg_jwk_generate(alg, 0, &k) == JG_OK);
	out = with_kid(k, kid);
	jg_jwk_free(k);
	return out;
}

static struct jg_jwks *
set_of(const struct jg_jwk *a, const struct jg_jwk *b, const struct jg_jwk *c)
{
	struct jg_jwks *set = jg_jwks_new();

	if (a)
		jg_jwks_add(set, jg_jwk_public(a));
	if (b)
		jg_jwks_add(set, jg_jwk_public(b));
	if (c)
		jg_jwks_add(set, jg_jwk_public(c));
	return set;
}

static void
fixture_init(struct fixture *f)
{
	struct json_object *obj, *n;
	gnutls_datum_t der = { NULL, 0 };
	unsigned char *nbytes = NULL;
	size_t nlen = 0;
	char *pem = NULL;
	struct jg_jwk *attacker_pub;

	memset(f, 0, sizeof(*f));
	f->ec = generated(JG_ALG_ES256, "ec-1");
	f->rsa = generated(JG_ALG_RS256, "rsa-1");
	f->oct = generated(JG_ALG_HS256, "oct-1");
	f->attacker = generated(JG_ALG_ES256, "attacker");
	f->set_ec = set_of(f->ec, NULL, NULL);
	f->set_rsa = set_of(f->rsa, NULL, NULL);
	f->set_oct = set_of(f->oct, NULL, NULL);
	f->set_all = set_of(f->ec, f->rsa, NULL);

	/* The public RSA key as PEM, SPKI DER and modulus: what an attacker
	 * finds in the JWKS and tries as an HMAC secret. */
	CU_ASSERT_FATAL(jg_jwk_to_pem(f->set_rsa->keys[0], false, &pem) == JG_OK);
	f->hmac_rsa_pem = oct_key(pem, strlen(pem));
	free(pem);
	CU_ASSERT_FATAL(gnutls_pubkey_export2(f->set_rsa->keys[0]->pub,
					      GNUTLS_X509_FMT_DER, &der) >= 0);
	f->hmac_rsa_der = oct_key(der.data, der.size);
	gnutls_free(der.data);
	obj = jg_jwk_to_json(f->set_rsa->keys[0], false);
	CU_ASSERT_FATAL(obj && json_object_object_get_ex(obj, "n", &n));
	CU_ASSERT_FATAL(jg_b64url_decode(json_object_get_string(n),
					 (size_t)json_object_get_string_len(n),
					 &nbytes, &nlen) == JG_OK);
	f->hmac_rsa_n = oct_key(nbytes, nlen);
	free(nbytes);
	json_object_put(obj);
	pem = NULL;
	CU_ASSERT_FATAL(jg_jwk_to_pem(f->set_ec->keys[0], false, &pem) == JG_OK);
	f->hmac_ec_pem = oct_key(pem, strlen(pem));
	free(pem);

	attacker_pub = jg_jwk_public(f->attacker);
	obj = jg_jwk_to_json(attacker_pub, false);
	f->attacker_jwk = jg_json_dump(obj);
	json_object_put(obj);
	jg_jwk_free(attacker_pub);
}

static void
fixture_clear(struct fixture *f)
{
	jg_jwk_free(f->ec);
	jg_jwk_free(f->rsa);
	jg_jwk_free(f->oct);
	jg_jwk_free(f->attacker);
	jg_jwk_free(f->hmac_rsa_pem);
	jg_jwk_free(f->hmac_rsa_der);
	jg_jwk_free(f->hmac_rsa_n);
	jg_jwk_free(f->hmac_ec_pem);
	jg_jwks_free(f->set_ec);
	jg_jwks_free(f->set_rsa);
	jg_jwks_free(f->set_oct);
	jg_jwks_free(f->set_all);
	free(f->attacker_jwk);
}

static const struct jg_jwk *
signer_key(const struct fixture *f, enum signer s)
{
	switch (s) {
	case S_EC: return f->ec;
	case S_RSA: return f->rsa;
	case S_OCT: return f->oct;
	case S_ATTACKER: return f->attacker;
	case S_HMAC_RSA_PEM: return f->hmac_rsa_pem;
	case S_HMAC_RSA_DER: return f->hmac_rsa_der;
	case S_HMAC_RSA_N: return f->hmac_rsa_n;
	case S_HMAC_EC_PEM: return f->hmac_ec_pem;
	}
	return NULL;
}

/* Applies a signature modification to an ECDSA P-256 R||S in place (sig
 * has room for 80 bytes). */
static void
modify_sig(enum sigmod m, unsigned char *sig, size_t *len)
{
	gnutls_datum_t r, s, der = { NULL, 0 };
	int i;

	switch (m) {
	case M_NONE:
		return;
	case M_EMPTY:
		*len = 0;
		return;
	case M_SHORT:
		(*len)--;
		return;
	case M_LONG:
		sig[(*len)++] = 0;
		return;
	default:
		break;
	}
	CU_ASSERT_FATAL(*len == 64);
	switch (m) {
	case M_ZERO:
		memset(sig, 0, 64);
		break;
	case M_R_ZERO:
		memset(sig, 0, 32);
		break;
	case M_S_ZERO:
		memset(sig + 32, 0, 32);
		break;
	case M_R_N:
		memcpy(sig, p256_n, 32);
		break;
	case M_S_N:
		memcpy(sig + 32, p256_n, 32);
		break;
	case M_R_N1:
		memcpy(sig, p256_n, 32);
		for (i = 31; i >= 0 && ++sig[i] == 0; i--)
			;
		break;
	case M_R_MAX:
		memset(sig, 0xff, 32);
		break;
	case M_DER:
		r.data = sig;
		r.size = 32;
		s.data = sig + 32;
		s.size = 32;
		CU_ASSERT_FATAL(gnutls_encode_rs_value(&der, &r, &s) >= 0);
		CU_ASSERT_FATAL(der.size <= 80);
		memcpy(sig, der.data, der.size);
		*len = der.size;
		gnutls_free(der.data);
		break;
	default:
		break;
	}
}

/* Replaces the first from (searched after the first '.') with to.
 * Returns false when there is none. */
static bool
replace_char(char *t, char from, char to)
{
	char *p = strchr(strchr(t, '.'), from);

	if (p == NULL)
		return false;
	*p = to;
	return true;
}

/* Applies a text modification; returns a new token, or NULL when the
 * modification cannot apply to this token (the caller signs again). */
static char *
modify_text(enum textmod m, char *t)
{
	char *dot1 = strchr(t, '.'), *dot2 = strchr(dot1 + 1, '.');
	char *out = NULL, *last;
	const char *pos;
	size_t n;

	switch (m) {
	case T_NONE:
		return jg_xstrdup(t);
	case T_TWO:
		return jg_xstrndup(t, (size_t)(dot2 - t));
	case T_FOUR:
		return jg_xasprintf("%s.e30", t);
	case T_FIVE:
		return jg_xasprintf("%s.AAAA.e30", t);
	case T_JSON:
		*dot1 = *dot2 = '\0';
		out = jg_xasprintf("{\"protected\":\"%s\",\"payload\":\"%s\","
				   "\"signature\":\"%s\"}", t, dot1 + 1, dot2 + 1);
		*dot1 = *dot2 = '.';
		return out;
	case T_PAD:
		n = strlen(dot2 + 1);
		if (n % 4 == 0)
			return NULL;
		return jg_xasprintf("%s%s", t, n % 4 == 2 ? "==" : "=");
	case T_PLUS:
		out = jg_xstrdup(t);
		if (!replace_char(out, '-', '+')) {
			free(out);
			return NULL;
		}
		return out;
	case T_SLASH:
		out = jg_xstrdup(t);
		if (!replace_char(out, '_', '/')) {
			free(out);
			return NULL;
		}
		return out;
	case T_NEWLINE:
		n = (size_t)(dot1 - t) + 1 + (size_t)(dot2 - dot1 - 1) / 2;
		return jg_xasprintf("%.*s\n%s", (int)n, t, t + n);
	case T_SPACE:
		n = (size_t)(dot1 - t) + 1;
		return jg_xasprintf("%.*s %s", (int)n, t, t + n);
	case T_TRAILING_NL:
		return jg_xasprintf("%s\n", t);
	case T_NONCANON:
		/* 64 bytes are 86 characters; the last one carries 2 bits
		 * of data and 4 unused zero bits. */
		out = jg_xstrdup(t);
		last = out + strlen(out) - 1;
		pos = strchr(b64url_alphabet, *last);
		CU_ASSERT_FATAL(pos != NULL && strlen(dot2 + 1) % 4 == 2);
		CU_ASSERT_FATAL(((pos - b64url_alphabet) & 0xf) == 0);
		*last = b64url_alphabet[(pos - b64url_alphabet) | 1];
		return out;
	}
	return NULL;
}

/* Builds the row's token, signing with the library's own signer over the
 * crafted signing input.  Returns a new string. */
static char *
build(const struct fixture *f, const struct row *r)
{
	unsigned char sigbuf[80], *sig = NULL;
	size_t siglen = 0, n;
	char *header = NULL, *claims = NULL, *h, *c, *s, *input, *token, *out;
	int tries;

	switch (r->special) {
	case SP_EMPTY:
		return jg_xstrdup("");
	case SP_DOTS:
		return jg_xstrdup("..");
	case SP_ATTACKER_JWK:
		header = jg_xasprintf("{\"alg\":\"ES256\",\"typ\":\"at+jwt\","
				      "\"jwk\":%s}", f->attacker_jwk);
		break;
	case SP_ATTACKER_JWK_KID:
		header = jg_xasprintf("{\"alg\":\"ES256\",\"typ\":\"at+jwt\","
				      "\"kid\":\"ec-1\",\"jwk\":%s}",
				      f->attacker_jwk);
		break;
	case SP_LONG_KID:
		n = 10240;
		header = jg_xmalloc(n + 64);
		n = (size_t)snprintf(header, 64, "{\"alg\":\"ES256\",\"typ\":"
				     "\"at+jwt\",\"kid\":\"");
		memset(header + n, 'k', 10240);
		strcpy(header + n + 10240, "\"}");
		break;
	case SP_OVERSIZED:
		claims = jg_xmalloc(JG_JWS_MAX_TOKEN + 256);
		n = (size_t)snprintf(claims, 256, "{\"iss\":\"%s\",\"aud\":\"%s\","
				     "\"exp\":1700000300,\"pad\":\"", ISS, AUD);
		memset(claims + n, 'x', JG_JWS_MAX_TOKEN);
		strcpy(claims + n + JG_JWS_MAX_TOKEN, "\"}");
		break;
	default:
		break;
	}
	if (header == NULL)
		header = jg_xstrdup(r->header);
	if (claims == NULL)
		claims = jg_xstrdup(r->claims);
	h = jg_b64url_encode(header, strlen(header));
	c = jg_b64url_encode(claims, strlen(claims));
	input = jg_xasprintf("%s.%s", h, c);

	/* ECDSA signatures are random: sign again until a text change that
	 * needs a given character can apply. */
	for (tries = 0; tries < 200; tries++) {
		CU_ASSERT_FATAL(jg_jws_sign_raw(signer_key(f, r->signer),
						r->sign_alg, input, strlen(input),
						&sig, &siglen) == JG_OK);
		CU_ASSERT_FATAL(siglen <= 64 || r->sig == M_NONE);
		if (siglen <= 64) {
			memcpy(sigbuf, sig, siglen);
			modify_sig(r->sig, sigbuf, &siglen);
			s = jg_b64url_encode(sigbuf, siglen);
		} else {
			s = jg_b64url_encode(sig, siglen);
		}
		free(sig);
		token = jg_xasprintf("%s.%s", input, s);
		free(s);
		out = modify_text(r->text, token);
		free(token);
		if (out != NULL)
			break;
	}
	CU_ASSERT_FATAL(out != NULL);
	free(input);
	free(h);
	free(c);
	free(header);
	free(claims);
	return out;
}

static const struct jg_jwks *
row_set(const struct fixture *f, enum keyset k)
{
	switch (k) {
	case K_EC: return f->set_ec;
	case K_RSA: return f->set_rsa;
	case K_OCT: return f->set_oct;
	case K_ALL: return f->set_all;
	}
	return NULL;
}

static const char *
err_name(enum jg_err e)
{
	switch (e) {
	case JG_OK: return "JG_OK";
	case JG_ERR_MALFORMED: return "JG_ERR_MALFORMED";
	case JG_ERR_DENIED: return "JG_ERR_DENIED";
	default: return jg_strerror(e);
	}
}

static void
test_hostile_table(void)
{
	struct jg_claims_policy policy;
	struct fixture f;
	size_t i, wrong = 0, controls = 0, jws_rows = 0;

	memset(&policy, 0, sizeof(policy));
	policy.now = NOW;
	policy.iss = ISS;
	policy.aud = AUD;
	policy.typ = JG_TYP_ACCESS;
	fixture_init(&f);

	for (i = 0; i < NROWS; i++) {
		const struct row *r = &rows[i];
		const struct jg_jwks *set = row_set(&f, r->set);
		const enum jg_alg *allowed = r->allow == A_ALL ? every_alg :
					     all_but_es256;
		size_t nallowed = r->allow == A_ALL ?
				  sizeof(every_alg) / sizeof(every_alg[0]) :
				  sizeof(all_but_es256) / sizeof(all_but_es256[0]);
		char *token = build(&f, r);
		struct jg_jwt *jwt = NULL;
		struct jg_jws *jws = NULL;
		const char *why = NULL, *why2 = NULL;
		enum jg_err err, err2;

		err = jg_jwt_verify(token, strlen(token), set, allowed, nallowed,
				    &policy, &jwt, &why);
		if (err != r->expect) {
			wrong++;
			printf("\n    row %zu \"%s\": jg_jwt_verify gave %s (%s), "
			       "expected %s", i, r->bug, err_name(err),
			       why ? why : "-", err_name(r->expect));
		}
		CU_ASSERT(err == r->expect);
		CU_ASSERT((err == JG_OK) == (jwt != NULL));
		CU_ASSERT(err == JG_OK || why != NULL);
		if (r->expect == JG_OK) {
			controls++;
			CU_ASSERT(jwt && jwt->jws && jwt->jws->key != NULL);
		}
		jg_jwt_free(jwt);

		if (r->jws) {
			jws_rows++;
			err2 = jg_jws_verify(token, strlen(token), set, allowed,
					     nallowed, &jws, &why2);
			if (err2 != r->expect) {
				wrong++;
				printf("\n    row %zu \"%s\": jg_jws_verify gave %s "
				       "(%s), expected %s", i, r->bug,
				       err_name(err2), why2 ? why2 : "-",
				       err_name(r->expect));
			}
			CU_ASSERT(err2 == r->expect);
			CU_ASSERT((err2 == JG_OK) == (jws != NULL));
			jg_jws_free(jws);
		}
		free(token);
	}
	printf("\n    %zu hostile-token rows (%zu controls, %zu also through "
	       "jg_jws_verify), %zu unexpected\n", (size_t)NROWS, controls,
	       jws_rows, wrong);
	CU_ASSERT(NROWS >= 45);
	CU_ASSERT(controls >= 1);
	fixture_clear(&f);
}

/* The key-confusion rows only mean something if the HMAC secrets really
 * are the public material: check the oct keys hold exactly those bytes. */
static void
test_confusion_material(void)
{
	struct fixture f;
	char *pem = NULL;

	fixture_init(&f);
	CU_ASSERT(jg_jwk_to_pem(f.set_rsa->keys[0], false, &pem) == JG_OK);
	CU_ASSERT(pem && strncmp(pem, "-----BEGIN PUBLIC KEY-----", 26) == 0);
	CU_ASSERT(pem && f.hmac_rsa_pem->secret_len == strlen(pem) &&
		  memcmp(f.hmac_rsa_pem->secret, pem, strlen(pem)) == 0);
	CU_ASSERT(f.hmac_rsa_n->secret_len == 256);
	CU_ASSERT(f.hmac_rsa_der->secret_len > 256);
	/* The RSA and EC keys are never usable for HMAC. */
	CU_ASSERT(!jg_jwk_usable(f.set_rsa->keys[0], JG_ALG_HS256,
				 JG_KEYOP_VERIFY));
	CU_ASSERT(!jg_jwk_usable(f.set_ec->keys[0], JG_ALG_HS256,
				 JG_KEYOP_VERIFY));
	free(pem);
	fixture_clear(&f);
}

static const struct jg_test tests[] = {
	{ "hostile token table", test_hostile_table },
	{ "key confusion material", test_confusion_material },
	{ NULL, NULL }
};

int
main(void)
{
	return jg_test_main("hostile", tests);
}
