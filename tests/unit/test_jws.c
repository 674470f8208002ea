/* test_jws.c: JWS signing and verification against the RFC examples, and
 * round trips for every algorithm. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/crypto.h>

#include "testutil.h"
#include "b64url.h"
#include "json.h"
#include "jwk.h"
#include "jws.h"

static const enum jg_alg all_algs[] = {
	JG_ALG_HS256, JG_ALG_HS384, JG_ALG_HS512,
	JG_ALG_RS256, JG_ALG_RS384, JG_ALG_RS512,
	JG_ALG_PS256, JG_ALG_PS384, JG_ALG_PS512,
	JG_ALG_ES256, JG_ALG_ES384, JG_ALG_ES512,
	JG_ALG_EDDSA,
};
#define NALGS (sizeof(all_algs) / sizeof(all_algs[0]))

/* ------------------------------------------------------------ vectors */

/* RFC 7515 A.1-A.3 share this payload, whose JSON holds CRLF. */
static const char rfc7515_payload[] =
	"{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n"
	" \"http://example.com/is_root\":true}";

/* RFC 7515 A.1.1: the JWK, and A.1.1's compact JWS (header
 * {"typ":"JWT",\r\n "alg":"HS256"} with its CRLF). */
static const char rfc7515_a1_key[] =
	"{\"kty\":\"oct\",\"k\":\"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T"
	"-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow\"}";
static const char rfc7515_a1_token[] =
	"eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
	".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
	"cGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
	".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

/* RFC 7515 A.2.1: the RSA key (private, with CRT members) and the JWS. */
static const char rfc7515_a2_key[] =
	"{\"kty\":\"RSA\","
	"\"n\":\"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddx"
	"HmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMs"
	"D1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSH"
	"SXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdV"
	"MTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8"
	"NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ\","
	"\"e\":\"AQAB\","
	"\"d\":\"Eq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyWPEAeP88vLNO97I"
	"jlA7_GQ5sLKMgvfTeXZx9SE-7YwVol2NXOoAJe46sui395IW_GO-pWJ1O0"
	"BkTGoVEn2bKVRUCgu-GjBVaYLU6f3l9kJfFNS3E0QbVdxzubSu3Mkqzjkn"
	"439X0M_V51gfpRLI9JYanrC4D4qAdGcopV_0ZHHzQlBjudU2QvXt4ehNYT"
	"CBr6XCLQUShb1juUO1ZdiYoFaFQT5Tw8bGUl_x_jTj3ccPDVZFD9pIuhLh"
	"BOneufuBiB4cS98l2SR_RQyGWSeWjnczT0QU91p1DhOVRuOopznQ\","
	"\"p\":\"4BzEEOtIpmVdVEZNCqS7baC4crd0pqnRH_5IB3jw3bcxGn6QLvnEtfdUdi"
	"YrqBdss1l58BQ3KhooKeQTa9AB0Hw_Py5PJdTJNPY8cQn7ouZ2KKDcmnPG"
	"BY5t7yLc1QlQ5xHdwW1VhvKn-nXqhJTBgIPgtldC-KDV5z-y2XDwGUc\","
	"\"q\":\"uQPEfgmVtjL0Uyyx88GZFF1fOunH3-7cepKmtH4pxhtCoHqpWmT8YAmZxa"
	"ewHgHAjLYsp1ZSe7zFYHj7C6ul7TjeLQeZD_YwD66t62wDmpe_HlB-TnBA"
	"-njbglfIsRLtXlnDzQkv5dTltRJ11BKBBypeeF6689rjcJIDEz9RWdc\","
	"\"dp\":\"BwKfV3Akq5_MFZDFZCnW-wzl-CCo83WoZvnLQwCTeDv8uzluRSnm71I3Q"
	"CLdhrqE2e9YkxvuxdBfpT_PI7Yz-FOKnu1R6HsJeDCjn12Sk3vmAktV2zb"
	"34MCdy7cpdTh_YVr7tss2u6vneTwrA86rZtu5Mbr1C1XsmvkxHQAdYo0\","
	"\"dq\":\"h_96-mK1R_7glhsum81dZxjTnYynPbZpHziZjeeHcXYsXaaMwkOlODsWa"
	"7I9xXDoRwbKgB719rrmI2oKr6N3Do9U0ajaHF-NKJnwgjMd2w9cjz3_-ky"
	"NlxAr2v4IKhGNpmM5iIgOS1VZnOZ68m6_pbLBSp3nssTdlqvd0tIiTHU\","
	"\"qi\":\"IYd7DHOhrWvxkwPQsRM2tOgrjbcrfvtQJipd-DlcxyVuuM9sQLdgjVk2o"
	"y26F0EmpScGLq2MowX7fhd_QJQ3ydy5cY7YIBi87w93IKLEdfnbJtoOPLU"
	"W0ITrJReOgo1cq9SbsxYawBgfp_gh6A5603k2-ZQwVK0JKSHuLFkuQ3U\"}";
static const char rfc7515_a2_token[] =
	"eyJhbGciOiJSUzI1NiJ9"
	".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
	"cGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
	".cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7"
	"AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4"
	"BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K"
	"0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqv"
	"hJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrB"
	"p0igcN_IoypGlUPQGe77Rw";

/* RFC 7515 A.3.1: the P-256 key and the ES256 JWS. */
static const char rfc7515_a3_key[] =
	"{\"kty\":\"EC\",\"crv\":\"P-256\","
	"\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
	"\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\","
	"\"d\":\"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI\"}";
static const char rfc7515_a3_token[] =
	"eyJhbGciOiJFUzI1NiJ9"
	".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
	"cGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
	".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSA"
	"pmWQxfKTUJqPP3-Kg6NU1Q";

/* RFC 7515 A.4.1: the P-521 key and the ES512 JWS of the payload
 * "Payload". */
static const char rfc7515_a4_key[] =
	"{\"kty\":\"EC\",\"crv\":\"P-521\","
	"\"x\":\"AekpBQ8ST8a8VcfVOTNl353vSrDCLLJXmPk06wTjxrrjcBpXp5EOnYG_"
	"NjFZ6OvLFV1jSfS9tsz4qUxcWceqwQGk\","
	"\"y\":\"ADSmRA43Z1DSNx_RvcLI87cdL07l6jQyyBXMoxVg_l2Th-x3S1WDhjDl"
	"y79ajL4Kkd0AZMaZmh9ubmf63e3kyMj2\","
	"\"d\":\"AY5pb7A0UFiB3RELSD64fTLOSV_jazdF7fLYyuTw8lOfRhWg6Y6rUrPA"
	"xerEzgdRhajnu0ferB0d53vM9mE15j2C\"}";
static const char rfc7515_a4_token[] =
	"eyJhbGciOiJFUzUxMiJ9.UGF5bG9hZA"
	".AdwMgeerwtHoh-l192l60hp9wAHZFVJbLfD_UxMi70cwnZOYaRI1bKPWROc-mZZq"
	"wqT2SI-KGDKB34XO0aw_7XdtAG8GaSwFKdCAPZgoXD2YBJZCPEX3xKpRwcdOO8Kp"
	"EHwJjyqOgzDO7iKvU8vcnwNrmxYbSW9ERBXukOXolLzeO_Jn";

/* RFC 7515 A.5: an unsecured JWS ("alg":"none", empty signature). */
static const char rfc7515_a5_token[] =
	"eyJhbGciOiJub25lIn0"
	".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
	"cGxlLmNvbS9pc19yb290Ijp0cnVlfQ.";

/* RFC 7520 3.4 (used by 4.1 and 4.2): Bilbo's RSA key. */
static const char rfc7520_rsa_key[] =
	"{\"kty\":\"RSA\",\"kid\":\"bilbo.baggins@hobbiton.example\",\"use\":\"sig\","
	"\"n\":\"n4EPtAOCc9AlkeQHPzHStgAbgs7bTZLwUBZdR8_KuKPEHLd4rHVTeT-O-XV2jRojdNhx"
	"JWTDvNd7nqQ0VEiZQHz_AJmSCpMaJMRBSFKrKb2wqVwGU_NsYOYL-QtiWN2lbzcEe6XC0dAp"
	"r5ydQLrHqkHHig3RBordaZ6Aj-oBHqFEHYpPe7Tpe-OfVfHd1E6cS6M1FZcD1NNLYD5lFHpP"
	"I9bTwJlsde3uhGqC0ZCuEHg8lhzwOHrtIQbS0FVbb9k3-tVTU4fg_3L_vniUFAKwuCLqKnS2"
	"BYwdq_mzSnbLY7h_qixoR7jig3__kRhuaxwUkRz5iaiQkqgc5gHdrNP5zw\","
	"\"e\":\"AQAB\","
	"\"d\":\"bWUC9B-EFRIo8kpGfh0ZuyGPvMNKvYWNtB_ikiH9k20eT-O1q_I78eiZkpXxXQ0UTEs2"
	"LsNRS-8uJbvQ-A1irkwMSMkK1J3XTGgdrhCku9gRldY7sNA_AKZGh-Q661_42rINLRCe8W-n"
	"Z34ui_qOfkLnK9QWDDqpaIsA-bMwWWSDFu2MUBYwkHTMEzLYGqOe04noqeq1hExBTHBOBdkM"
	"XiuFhUq1BU6l-DqEiWxqg82sXt2h-LMnT3046AOYJoRioz75tSUQfGCshWTBnP5uDjd18kKh"
	"yv07lhfSJdrPdM5Plyl21hsFf4L_mHCuoFau7gdsPfHPxxjVOcOpBrQzwQ\","
	"\"p\":\"3Slxg_DwTXJcb6095RoXygQCAZ5RnAvZlno1yhHtnUex_fp7AZ_9nRaO7HX_-SFfGQeu"
	"tao2TDjDAWU4Vupk8rw9JR0AzZ0N2fvuIAmr_WCsmGpeNqQnev1T7IyEsnh8UMt-n5CafhkikzhE"
	"srmndH6LxOrvRJlsPp6Zv8bUq0k\","
	"\"q\":\"uKE2dh-cTf6ERF4k4e_jy78GfPYUIaUyoSSJuBzp3Cubk3OCqs6grT8bR_cu0Dm1MZwW"
	"mtdqDyI95HrUeq3MP15vMMON8lHTeZu2lmKvwqW7anV5UzhM1iZ7z4yMkuUwFWoBvyY898EXvRD-"
	"hdqRxHlSqAZ192zB3pVFJ0s7pFc\","
	"\"dp\":\"B8PVvXkvJrj2L-GYQ7v3y9r6Kw5g9SahXBwsWUzp19TVlgI-YV85q1NIb1rxQtD-IsXX"
	"R3-TanevuRPRt5OBOdiMGQp8pbt26gljYfKU_E9xn-RULHz0-ed9E9gXLKD4VGngpz-PfQ_q29pk"
	"5xWHoJp009Qf1HvChixRX59ehik\","
	"\"dq\":\"CLDmDGduhylc9o7r84rEUVn7pzQ6PF83Y-iBZx5NT-TpnOZKF1pErAMVeKzFEl41DlH"
	"HqqBLSM0W1sOFbwTxYWZDm6sI6og5iTbwQGIC3gnJKbi_7k_vJgGHwHxgPaX2PnvP-zyEkDERuf-"
	"ry4c_Z11Cq9AqC2yeL6kdKT1cYF8\","
	"\"qi\":\"3PiqvXQN0zwMeE-sBvZgi289XP9XCQF3VWqPzMKnIgQp7_Tugo6-NZBKCQsMf3HaEGBj"
	"TVJs_jcK8-TRXvaKe-7ZMaQj8VfBdYkssbu0NKDDhjJ-GtiseaDVWt7dcH0cfwxgFUHpQh7FoCrj"
	"FJ6h6ZEpMF6xmujs4qMpPz8aaI4\"}";

/* RFC 7520 4: the payload (with U+2019 quotes), base64url encoded. */
#define RFC7520_PAYLOAD_B64 \
	"SXTigJlzIGEgZGFuZ2Vyb3VzIGJ1c2luZXNzLCBGcm9kbywgZ29pbmcgb3V0IHlvdXIgZG9v" \
	"ci4gWW91IHN0ZXAgb250byB0aGUgcm9hZCwgYW5kIGlmIHlvdSBkb24ndCBrZWVwIHlvdXIg" \
	"ZmVldCwgdGhlcmXigJlzIG5vIGtub3dpbmcgd2hlcmUgeW91IG1pZ2h0IGJlIHN3ZXB0IG9m" \
	"ZiB0by4"

/* RFC 7520 4.1.3: RS256, compact serialization. */
static const char rfc7520_41_token[] =
	"eyJhbGciOiJSUzI1NiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9"
	"." RFC7520_PAYLOAD_B64 "."
	"MRjdkly7_-oTPTS3AXP41iQIGKa80A0ZmTuV5MEaHoxnW2e5CZ5NlKtainoFmKZopdHM1O2U4m"
	"wzJdQx996ivp83xuglII7PNDi84wnB-BDkoBwA78185hX-Es4JIwmDLJK3lfWRa-XtL0Rnltu"
	"Yv746iYTh_qHRD68BNt1uSNCrUCTJDt5aAE6x8wW1Kt9eRo4QPocSadnHXFxnt8Is9UzpERV0"
	"ePPQdLuW3IS_de3xyIrDaLGdjluPxUAhb6L2aXic1U12podGU0KLUQSE_oI-ZnmKJ3F4uOZDn"
	"d6QZWJushZ41Axf_fcIe8u9ipH84ogoree7vjbU5y18kDquDg";

/* RFC 7520 4.2.3: PS384, compact serialization (PSS is randomized: only
 * verification can be checked). */
static const char rfc7520_42_token[] =
	"eyJhbGciOiJQUzM4NCIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9"
	"." RFC7520_PAYLOAD_B64 "."
	"cu22eBqkYDKgIlTpzDXGvaFfz6WGoz7fUDcfT0kkOy42miAh2qyBzk1xEsnk2IpN6-tPid6Vr"
	"klHkqsGqDqHCdP6O8TTB5dDDItllVo6_1OLPpcbUrhiUSMxbbXUvdvWXzg-UD8biiReQFlfz2"
	"8zGWVsdiNAUf8ZnyPEgVFn442ZdNqiVJRmBqrYRXe8P_ijQ7p8Vdz0TTrxUeT3lm8d9shnr2l"
	"fJT8ImUjvAA2Xez2Mlp8cBE5awDzT0qI0n6uiP1aCN_2_jLAeQTlqRHtfa64QQSUmFAAjVKPb"
	"Byi7xho0uTOcbH510a6GYmJUAfmWjwZ6oD4ifKo8DYM-X72Eaw";

/* RFC 7520 3.2: Bilbo's P-521 key; 4.3.3: ES512, compact. */
static const char rfc7520_ec_key[] =
	"{\"kty\":\"EC\",\"kid\":\"bilbo.baggins@hobbiton.example\",\"use\":\"sig\","
	"\"crv\":\"P-521\","
	"\"x\":\"AHKZLLOsCOzz5cY97ewNUajB957y-C-U88c3v13nmGZx6sYl_oJXu9A5RkTKqjqvjyek"
	"WF-7ytDyRXYgCF5cj0Kt\","
	"\"y\":\"AdymlHvOiLxXkEhayXQnNCvDX4h9htZaCJN34kfmC6pV5OhQHiraVySsUdaQkAgDPrwQ"
	"rJmbnX9cwlGfP-HqHZR1\","
	"\"d\":\"AAhRON2r9cqXX1hg-RoI6R1tX5p2rUAYdmpHZoC1XNM56KtscrX6zbKipQrCW9CGZH3T"
	"4ubpnoTKLDYJ_fF3_rJt\"}";
static const char rfc7520_43_token[] =
	"eyJhbGciOiJFUzUxMiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9"
	"." RFC7520_PAYLOAD_B64 "."
	"AE_R_YZCChjn4791jSQCrdPZCNYqHXCTZH0-JZGYNlaAjP2kqaluUIIUnC9qvbu9Plon7KRTzo"
	"NEuT4Va2cmL1eJAQy3mtPBu_u_sDDyYjnAMDxXPn7XrT0lw-kvAD890jl8e2puQens_IEKBpHA"
	"BlsbEPX6sFY8OcGDqoRuBomu9xQ2";

/* RFC 7520 3.5: the symmetric key; 4.4.3: HS256, compact. */
static const char rfc7520_oct_key[] =
	"{\"kty\":\"oct\",\"kid\":\"018c0ae5-4d9b-471b-bfd6-eef314bc7037\","
	"\"use\":\"sig\",\"alg\":\"HS256\","
	"\"k\":\"hJtXIZ2uSN5kbQfbtTNWbpdmhkV8FJG-Onbc6mxCcYg\"}";
static const char rfc7520_44_token[] =
	"eyJhbGciOiJIUzI1NiIsImtpZCI6IjAxOGMwYWU1LTRkOWItNDcxYi1iZmQ2LWVlZjMxNGJjNzAz"
	"NyJ9"
	"." RFC7520_PAYLOAD_B64 "."
	"s0h6KThzkfBBBkLspW1h84VsJZFTsPPqMDA7g1Md7p0";

/* RFC 8037 A.1: the Ed25519 private key; A.4: its JWS. */
static const char rfc8037_key[] =
	"{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
	"\"d\":\"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A\","
	"\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}";
static const char rfc8037_payload[] = "Example of Ed25519 signing";
static const char rfc8037_token[] =
	"eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
	".hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVs"
	"Pt9g7sVvpAr_MuM0KAg";

/* ------------------------------------------------------------ helpers */

static struct jg_jwk *
parse_key(const char *json)
{
	struct jg_jwk *key = NULL;
	const char *why = NULL;
	enum jg_err err = jg_jwk_parse(json, strlen(json), &key, &why);

	if (err != JG_OK)
		fprintf(stderr, "key import failed: %s\n", why ? why : "?");
	CU_ASSERT_FATAL(err == JG_OK && key != NULL);
	return key;
}

/* A set holding a public copy of key. */
static struct jg_jwks *
public_set(const struct jg_jwk *key)
{
	struct jg_jwks *set = jg_jwks_new();
	struct jg_jwk *pub = jg_jwk_public(key);

	CU_ASSERT_FATAL(pub != NULL);
	jg_jwks_add(set, pub);
	return set;
}

/* Verifies token against set with alg the only allowed algorithm. */
static enum jg_err
verify1(const char *token, const struct jg_jwks *set, enum jg_alg alg,
	struct jg_jws **out)
{
	struct jg_jws *jws = NULL;
	const char *why = NULL;
	enum jg_err err;

	err = jg_jws_verify(token, strlen(token), set, &alg, 1, &jws, &why);
	if (err == JG_OK) {
		CU_ASSERT(jws != NULL);
		CU_ASSERT(why == NULL);
	} else {
		CU_ASSERT(why != NULL);
	}
	if (out)
		*out = jws;
	else
		jg_jws_free(jws);
	return err;
}

/* Length of the signing input (up to the second '.') of token. */
static size_t
signing_len(const char *token)
{
	const char *dot = strchr(token, '.');

	CU_ASSERT_FATAL(dot != NULL);
	dot = strchr(dot + 1, '.');
	CU_ASSERT_FATAL(dot != NULL);
	return (size_t)(dot - token);
}

/* Decodes the signature segment of token into a new buffer. */
static unsigned char *
token_sig(const char *token, size_t *len)
{
	const char *s = token + signing_len(token) + 1;
	unsigned char *sig = NULL;

	CU_ASSERT_FATAL(jg_b64url_decode(s, strlen(s), &sig, len) == JG_OK);
	return sig;
}

/* Returns a copy of token with the character at pos swapped for another
 * letter of the alphabet that keeps the segment well formed. */
static char *
flip_char(const char *token, size_t pos)
{
	char *t = jg_xstrdup(token);

	t[pos] = t[pos] == 'A' ? 'B' : 'A';
	return t;
}

/* ------------------------------------------------------------ RFC 7515 */

static void
test_rfc7515_a1_hs256(void)
{
	struct jg_jwk *key = parse_key(rfc7515_a1_key);
	struct jg_jwks *set = jg_jwks_new();
	struct jg_jws *jws = NULL;
	unsigned char *sig = NULL, *mac = NULL;
	size_t siglen, maclen, slen = signing_len(rfc7515_a1_token);

	jg_jwks_add(set, key);
	CU_ASSERT_FATAL(verify1(rfc7515_a1_token, set, JG_ALG_HS256, &jws) == JG_OK);
	CU_ASSERT(jws->alg == JG_ALG_HS256);
	CU_ASSERT(jws->key == key);
	CU_ASSERT(jws->kid == NULL);
	CU_ASSERT(jws->typ != NULL && strcmp(jws->typ, "JWT") == 0);
	CU_ASSERT(jws->payload_len == strlen(rfc7515_payload));
	CU_ASSERT(memcmp(jws->payload, rfc7515_payload, jws->payload_len) == 0);
	CU_ASSERT(jws->payload[jws->payload_len] == '\0');
	jg_jws_free(jws);

	/* The raw primitives over the exact bytes received, CRLF included:
	 * HMAC is deterministic, so signing reproduces A.1.1's tag. */
	sig = token_sig(rfc7515_a1_token, &siglen);
	CU_ASSERT(siglen == 32);
	CU_ASSERT(jg_jws_verify_raw(key, JG_ALG_HS256, rfc7515_a1_token, slen,
				    sig, siglen) == JG_OK);
	CU_ASSERT(jg_jws_sign_raw(key, JG_ALG_HS256, rfc7515_a1_token, slen,
				  &mac, &maclen) == JG_OK);
	CU_ASSERT(maclen == siglen && memcmp(mac, sig, siglen) == 0);
	/* A truncated or extended tag is not a JWS HS256 signature. */
	CU_ASSERT(jg_jws_verify_raw(key, JG_ALG_HS256, rfc7515_a1_token, slen,
				    sig, 16) == JG_ERR_DENIED);
	CU_ASSERT(jg_jws_verify_raw(key, JG_ALG_HS256, rfc7515_a1_token, slen,
				    sig, 31) == JG_ERR_DENIED);
	/* One byte off in the signing input. */
	CU_ASSERT(jg_jws_verify_raw(key, JG_ALG_HS256, rfc7515_a1_token,
				    slen - 1, sig, siglen) == JG_ERR_DENIED);
	/* The same key is good for HS384 and HS512 (64 bytes), but the tag
	 * is not. */
	CU_ASSERT(jg_jws_verify_raw(key, JG_ALG_HS512, rfc7515_a1_token, slen,
				    sig, siglen) == JG_ERR_DENIED);
	/* An RSA algorithm never runs with an oct key. */
	CU_ASSERT(!jg_jwk_usable(key, JG_ALG_RS256, JG_KEYOP_VERIFY));
	CU_ASSERT(jg_jws_verify_raw(key, JG_ALG_RS256, rfc7515_a1_token, slen,
				    sig, siglen) == JG_ERR_DENIED);
	/* HS256 only when allowed. */
	CU_ASSERT(verify1(rfc7515_a1_token, set, JG_ALG_HS384, NULL) ==
		  JG_ERR_DENIED);
	free(sig);
	free(mac);
	jg_jwks_free(set);
}

static void
test_rfc7515_a2_rs256(void)
{
	struct jg_jwk *priv = parse_key(rfc7515_a2_key);
	struct jg_jwks *set = public_set(priv);
	struct jg_jws *jws = NULL;
	unsigned char *sig = NULL, *mine = NULL;
	size_t siglen, minelen, slen = signing_len(rfc7515_a2_token);

	CU_ASSERT_FATAL(verify1(rfc7515_a2_token, set, JG_ALG_RS256, &jws) == JG_OK);
	CU_ASSERT(jws->alg == JG_ALG_RS256);
	CU_ASSERT(jws->key == set->keys[0]);
	CU_ASSERT(jws->typ == NULL);
	CU_ASSERT(jws->payload_len == strlen(rfc7515_payload) &&
		  memcmp(jws->payload, rfc7515_payload, jws->payload_len) == 0);
	jg_jws_free(jws);

	/* PKCS #1 v1.5 is deterministic: signing reproduces A.2.1. */
	sig = token_sig(rfc7515_a2_token, &siglen);
	CU_ASSERT(siglen == 256);
	CU_ASSERT_FATAL(jg_jws_sign_raw(priv, JG_ALG_RS256, rfc7515_a2_token,
					slen, &mine, &minelen) == JG_OK);
	CU_ASSERT(minelen == siglen && memcmp(mine, sig, siglen) == 0);
	/* The same signature is no RS384, RS512 or PS256 signature. */
	CU_ASSERT(jg_jws_verify_raw(set->keys[0], JG_ALG_RS384,
				    rfc7515_a2_token, slen, sig, siglen) ==
		  JG_ERR_DENIED);
	CU_ASSERT(jg_jws_verify_raw(set->keys[0], JG_ALG_RS512,
				    rfc7515_a2_token, slen, sig, siglen) ==
		  JG_ERR_DENIED);
	CU_ASSERT(jg_jws_verify_raw(set->keys[0], JG_ALG_PS256,
				    rfc7515_a2_token, slen, sig, siglen) ==
		  JG_ERR_DENIED);
	/* RFC 8017 8.2.2: a signature one octet short or long is refused. */
	CU_ASSERT(jg_jws_verify_raw(set->keys[0], JG_ALG_RS256,
				    rfc7515_a2_token, slen, sig, siglen - 1) ==
		  JG_ERR_DENIED);
	/* A public key cannot sign; an HMAC never runs with RSA material. */
	free(mine);
	mine = NULL;
	CU_ASSERT(jg_jws_sign_raw(set->keys[0], JG_ALG_RS256, "x", 1, &mine,
				  &minelen) == JG_ERR_DENIED);
	CU_ASSERT(mine == NULL);
	CU_ASSERT(!jg_jwk_usable(priv, JG_ALG_HS256, JG_KEYOP_SIGN));
	CU_ASSERT(!jg_jwk_usable(set->keys[0], JG_ALG_HS256, JG_KEYOP_VERIFY));
	CU_ASSERT(jg_jws_sign_raw(priv, JG_ALG_HS256, "x", 1, &mine,
				  &minelen) == JG_ERR_DENIED);
	CU_ASSERT(mine == NULL);
	free(sig);
	jg_jwk_free(priv);
	jg_jwks_free(set);
}

static void
test_rfc7515_a3_es256(void)
{
	struct jg_jwk *priv = parse_key(rfc7515_a3_key);
	struct jg_jwks *set = public_set(priv);
	struct jg_jws *jws = NULL;
	unsigned char *sig = NULL, *mine = NULL;
	size_t siglen, minelen, slen = signing_len(rfc7515_a3_token);

	CU_ASSERT_FATAL(verify1(rfc7515_a3_token, set, JG_ALG_ES256, &jws) == JG_OK);
	CU_ASSERT(jws->alg == JG_ALG_ES256);
	CU_ASSERT(jws->payload_len == strlen(rfc7515_payload) &&
		  memcmp(jws->payload, rfc7515_payload, jws->payload_len) == 0);
	jg_jws_free(jws);
	CU_ASSERT(verify1(rfc7515_a3_token, set, JG_ALG_ES384, NULL) ==
		  JG_ERR_DENIED);

	sig = token_sig(rfc7515_a3_token, &siglen);
	CU_ASSERT(siglen == 64);
	CU_ASSERT(jg_jws_verify_raw(set->keys[0], JG_ALG_ES256, rfc7515_a3_token,
				    slen, sig, siglen) == JG_OK);
	/* ECDSA is randomized: a fresh signature differs and verifies. */
	CU_ASSERT_FATAL(jg_jws_sign_raw(priv, JG_ALG_ES256, rfc7515_a3_token,
					slen, &mine, &minelen) == JG_OK);
	CU_ASSERT(minelen == 64);
	CU_ASSERT(jg_jws_verify_raw(set->keys[0], JG_ALG_ES256, rfc7515_a3_token,
				    slen, mine, minelen) == JG_OK);
	/* A P-256 key is no key for ES384 or ES512. */
	CU_ASSERT(!jg_jwk_usable(set->keys[0], JG_ALG_ES384, JG_KEYOP_VERIFY));
	CU_ASSERT(jg_jws_verify_raw(set->keys[0], JG_ALG_ES384, rfc7515_a3_token,
				    slen, sig, siglen) == JG_ERR_DENIED);
	free(sig);
	free(mine);
	jg_jwk_free(priv);
	jg_jwks_free(set);
}

static void
test_rfc7515_a4_es512(void)
{
	struct jg_jwk *priv = parse_key(rfc7515_a4_key);
	struct jg_jwks *set = public_set(priv);
	struct jg_jws *jws = NULL;
	unsigned char *sig;
	size_t siglen, slen = signing_len(rfc7515_a4_token);

	CU_ASSERT_FATAL(verify1(rfc7515_a4_token, set, JG_ALG_ES512, &jws) == JG_OK);
	CU_ASSERT(jws->alg == JG_ALG_ES512);
	CU_ASSERT(jws->payload_len == 7 && memcmp(jws->payload, "Payload", 7) == 0);
	jg_jws_free(jws);
	sig = token_sig(rfc7515_a4_token, &siglen);
	/* R||S of 66 octets each (521 bits rounded up). */
	CU_ASSERT(siglen == 132);
	CU_ASSERT(jg_jws_verify_raw(set->keys[0], JG_ALG_ES512, rfc7515_a4_token,
				    slen, sig, siglen) == JG_OK);
	CU_ASSERT(jg_jws_verify_raw(set->keys[0], JG_ALG_ES512, rfc7515_a4_token,
				    slen, sig, siglen - 1) == JG_ERR_DENIED);
	free(sig);
	jg_jwk_free(priv);
	jg_jwks_free(set);
}

static void
test_rfc7515_a5_none(void)
{
	struct jg_jwks *set = jg_jwks_new();
	struct jg_jws *jws = NULL;
	const char *why = NULL;

	jg_jwks_add(set, parse_key(rfc7515_a1_key));
	jg_jwks_add(set, parse_key(rfc7515_a3_key));
	CU_ASSERT(jg_jws_decode(rfc7515_a5_token, strlen(rfc7515_a5_token),
				&jws, &why) == JG_ERR_DENIED);
	CU_ASSERT(jws == NULL);
	CU_ASSERT(why != NULL);
	why = NULL;
	CU_ASSERT(jg_jws_verify(rfc7515_a5_token, strlen(rfc7515_a5_token),
				set, all_algs, NALGS, &jws, &why) ==
		  JG_ERR_DENIED);
	CU_ASSERT(jws == NULL);
	CU_ASSERT(why != NULL && strcmp(why, "alg none refused") == 0);
	jg_jwks_free(set);
}

/* ------------------------------------------------------------ RFC 7520 */

/* Verifies an RFC 7520 token, its payload and kid, against a set holding
 * the public part of key_json. */
static void
check_rfc7520(const char *key_json, const char *token, enum jg_alg alg)
{
	struct jg_jwk *priv = parse_key(key_json);
	struct jg_jwks *set = public_set(priv);
	struct jg_jws *jws = NULL;
	unsigned char *payload = NULL;
	size_t plen;
	char *tampered;

	CU_ASSERT_FATAL(jg_b64url_decode(RFC7520_PAYLOAD_B64,
					 strlen(RFC7520_PAYLOAD_B64), &payload,
					 &plen) == JG_OK);
	CU_ASSERT_FATAL(verify1(token, set, alg, &jws) == JG_OK);
	CU_ASSERT(jws->alg == alg);
	CU_ASSERT(jws->kid != NULL && strcmp(jws->kid, priv->kid) == 0);
	CU_ASSERT(jws->key == set->keys[0]);
	CU_ASSERT(jws->payload_len == plen &&
		  memcmp(jws->payload, payload, plen) == 0);
	jg_jws_free(jws);
	/* A changed payload character breaks it. */
	tampered = flip_char(token, (size_t)(strchr(token, '.') - token) + 10);
	CU_ASSERT(verify1(tampered, set, alg, NULL) == JG_ERR_DENIED);
	free(tampered);
	free(payload);
	jg_jwk_free(priv);
	jg_jwks_free(set);
}

static void
test_rfc7520_41_rs256(void)
{
	struct jg_jwk *priv = parse_key(rfc7520_rsa_key);
	unsigned char *payload = NULL;
	size_t plen;
	char *token = NULL;

	check_rfc7520(rfc7520_rsa_key, rfc7520_41_token, JG_ALG_RS256);
	/* Deterministic: jg_jws_sign writes {"alg":"RS256","kid":...}
	 * exactly as 4.1.2 does, so the whole token is reproduced. */
	CU_ASSERT_FATAL(jg_b64url_decode(RFC7520_PAYLOAD_B64,
					 strlen(RFC7520_PAYLOAD_B64), &payload,
					 &plen) == JG_OK);
	CU_ASSERT_FATAL(jg_jws_sign(priv, JG_ALG_RS256, NULL, payload, plen,
				    &token) == JG_OK);
	CU_ASSERT(strcmp(token, rfc7520_41_token) == 0);
	free(token);
	free(payload);
	jg_jwk_free(priv);
}

static void
test_rfc7520_42_ps384(void)
{
	struct jg_jwk *priv = parse_key(rfc7520_rsa_key);
	struct jg_jwks *set = public_set(priv);
	unsigned char *sig;
	size_t siglen, slen = signing_len(rfc7520_42_token);

	check_rfc7520(rfc7520_rsa_key, rfc7520_42_token, JG_ALG_PS384);
	/* The PSS signature is not a PS256/PS512/RS384 signature. */
	sig = token_sig(rfc7520_42_token, &siglen);
	CU_ASSERT(jg_jws_verify_raw(set->keys[0], JG_ALG_PS384, rfc7520_42_token,
				    slen, sig, siglen) == JG_OK);
	CU_ASSERT(jg_jws_verify_raw(set->keys[0], JG_ALG_PS256, rfc7520_42_token,
				    slen, sig, siglen) == JG_ERR_DENIED);
	CU_ASSERT(jg_jws_verify_raw(set->keys[0], JG_ALG_PS512, rfc7520_42_token,
				    slen, sig, siglen) == JG_ERR_DENIED);
	CU_ASSERT(jg_jws_verify_raw(set->keys[0], JG_ALG_RS384, rfc7520_42_token,
				    slen, sig, siglen) == JG_ERR_DENIED);
	free(sig);
	jg_jwk_free(priv);
	jg_jwks_free(set);
}

static void
test_rfc7520_43_es512(void)
{
	check_rfc7520(rfc7520_ec_key, rfc7520_43_token, JG_ALG_ES512);
}

static void
test_rfc7520_44_hs256(void)
{
	struct jg_jwk *key = parse_key(rfc7520_oct_key);
	unsigned char *payload = NULL;
	size_t plen;
	char *token = NULL;

	check_rfc7520(rfc7520_oct_key, rfc7520_44_token, JG_ALG_HS256);
	CU_ASSERT_FATAL(jg_b64url_decode(RFC7520_PAYLOAD_B64,
					 strlen(RFC7520_PAYLOAD_B64), &payload,
					 &plen) == JG_OK);
	CU_ASSERT_FATAL(jg_jws_sign(key, JG_ALG_HS256, NULL, payload, plen,
				    &token) == JG_OK);
	CU_ASSERT(strcmp(token, rfc7520_44_token) == 0);
	free(token);
	/* The key says "alg":"HS256": it is not an HS384 key. */
	token = NULL;
	CU_ASSERT(jg_jws_sign(key, JG_ALG_HS384, NULL, payload, plen, &token) ==
		  JG_ERR_DENIED);
	CU_ASSERT(token == NULL);
	free(payload);
	jg_jwk_free(key);
}

/* ------------------------------------------------------------ RFC 8037 */

static void
test_rfc8037_a4_ed25519(void)
{
	struct jg_jwk *priv = parse_key(rfc8037_key);
	struct jg_jwks *set = public_set(priv);
	struct jg_jws *jws = NULL;
	unsigned char *sig = NULL, *mine = NULL;
	size_t siglen, minelen, slen = signing_len(rfc8037_token);
	char *token = NULL;

	/* Ed25519 is deterministic: the raw signature and the whole token
	 * are reproduced byte for byte. */
	sig = token_sig(rfc8037_token, &siglen);
	CU_ASSERT(siglen == 64);
	CU_ASSERT_FATAL(jg_jws_sign_raw(priv, JG_ALG_EDDSA, rfc8037_token, slen,
					&mine, &minelen) == JG_OK);
	CU_ASSERT(minelen == siglen && memcmp(mine, sig, siglen) == 0);
	CU_ASSERT_FATAL(jg_jws_sign(priv, JG_ALG_EDDSA, NULL, rfc8037_payload,
				    strlen(rfc8037_payload), &token) == JG_OK);
	CU_ASSERT(strcmp(token, rfc8037_token) == 0);

	CU_ASSERT_FATAL(verify1(rfc8037_token, set, JG_ALG_EDDSA, &jws) == JG_OK);
	CU_ASSERT(jws->alg == JG_ALG_EDDSA);
	CU_ASSERT(jws->payload_len == strlen(rfc8037_payload) &&
		  memcmp(jws->payload, rfc8037_payload, jws->payload_len) == 0);
	jg_jws_free(jws);
	CU_ASSERT(jg_jws_verify_raw(set->keys[0], JG_ALG_EDDSA, rfc8037_token,
				    slen, sig, siglen - 1) == JG_ERR_DENIED);
	sig[10] ^= 1;
	CU_ASSERT(jg_jws_verify_raw(set->keys[0], JG_ALG_EDDSA, rfc8037_token,
				    slen, sig, siglen) == JG_ERR_DENIED);
	free(token);
	free(sig);
	free(mine);
	jg_jwk_free(priv);
	jg_jwks_free(set);
}

/* ------------------------------------------------------------ round trips */

/* Signature sizes RFC 7518 gives for generated keys (RSA 2048 bits). */
static size_t
expected_siglen(enum jg_alg alg)
{
	switch (alg) {
	case JG_ALG_HS256: return 32;
	case JG_ALG_HS384: return 48;
	case JG_ALG_HS512: return 64;
	case JG_ALG_ES256: return 64;
	case JG_ALG_ES384: return 96;
	case JG_ALG_ES512: return 132;
	case JG_ALG_EDDSA: return 64;
	default: return 256;
	}
}

static void
test_round_trips(void)
{
	static const char payload[] = "{\"sub\":\"alice\",\"n\":1}";
	struct jg_jwk *rsa_other = parse_key(rfc7515_a2_key);
	size_t i, j;

	for (i = 0; i < NALGS; i++) {
		enum jg_alg alg = all_algs[i], other_alg;
		struct jg_jwk *priv = NULL, *wrong = NULL;
		struct jg_jwks *set, *wrong_set;
		struct jg_jws *jws = NULL;
		struct json_object *extra = json_object_new_object();
		unsigned char *sig = NULL;
		size_t siglen = 0, slen;
		char *token = NULL, *bad;
		const char *why = NULL;

		CU_ASSERT_FATAL(jg_jwk_generate(alg, 0, &priv) == JG_OK);
		CU_ASSERT(priv->alg == alg);
		CU_ASSERT(priv->kid != NULL);
		CU_ASSERT(jg_jwk_usable(priv, alg, JG_KEYOP_SIGN));
		set = public_set(priv);
		if (alg >= JG_ALG_RS256 && alg <= JG_ALG_PS512) {
			wrong = jg_jwk_public(rsa_other);
		} else {
			struct jg_jwk *w = NULL;

			CU_ASSERT_FATAL(jg_jwk_generate(alg, 0, &w) == JG_OK);
			wrong = jg_jwk_public(w);
			jg_jwk_free(w);
		}
		wrong_set = jg_jwks_new();
		jg_jwks_add(wrong_set, wrong);

		json_object_object_add(extra, "typ",
				       json_object_new_string("at+jwt"));
		CU_ASSERT_FATAL(jg_jws_sign(priv, alg, extra, payload,
					    strlen(payload), &token) == JG_OK);
		CU_ASSERT_FATAL(verify1(token, set, alg, &jws) == JG_OK);
		CU_ASSERT(jws->alg == alg);
		CU_ASSERT(jws->key == set->keys[0]);
		CU_ASSERT(jws->kid != NULL && strcmp(jws->kid, priv->kid) == 0);
		CU_ASSERT(jws->typ != NULL && strcmp(jws->typ, "at+jwt") == 0);
		CU_ASSERT(jws->payload_len == strlen(payload) &&
			  memcmp(jws->payload, payload, jws->payload_len) == 0);
		CU_ASSERT(json_object_object_length(jg_jws_header(jws)) == 3);
		jg_jws_free(jws);

		/* The same token decoded only. */
		jws = NULL;
		CU_ASSERT(jg_jws_decode(token, strlen(token), &jws, &why) == JG_OK);
		CU_ASSERT(jws != NULL && jws->key == NULL && jws->alg == alg);
		jg_jws_free(jws);

		/* Each kind of damage is refused. */
		slen = signing_len(token);
		bad = flip_char(token, slen - 3);	/* payload */
		CU_ASSERT(verify1(bad, set, alg, NULL) == JG_ERR_DENIED);
		free(bad);
		bad = flip_char(token, slen + 5);	/* signature */
		CU_ASSERT(verify1(bad, set, alg, NULL) == JG_ERR_DENIED);
		free(bad);
		CU_ASSERT(verify1(token, wrong_set, alg, NULL) == JG_ERR_DENIED);
		other_alg = alg == JG_ALG_HS256 ? JG_ALG_HS384 : JG_ALG_HS256;
		CU_ASSERT(verify1(token, set, other_alg, NULL) == JG_ERR_DENIED);
		/* An allow-list of every other algorithm. */
		{
			enum jg_alg others[NALGS];
			size_t n = 0;

			for (j = 0; j < NALGS; j++)
				if (all_algs[j] != alg)
					others[n++] = all_algs[j];
			jws = NULL;
			CU_ASSERT(jg_jws_verify(token, strlen(token), set, others,
						n, &jws, &why) == JG_ERR_DENIED);
			CU_ASSERT(jws == NULL);
			CU_ASSERT(jg_jws_verify(token, strlen(token), set, NULL,
						0, &jws, &why) == JG_ERR_DENIED);
		}

		/* Raw primitives: lengths, and no other algorithm accepts
		 * the signature under the same key. */
		CU_ASSERT_FATAL(jg_jws_sign_raw(priv, alg, payload, strlen(payload),
						&sig, &siglen) == JG_OK);
		CU_ASSERT(siglen == expected_siglen(alg));
		CU_ASSERT(jg_jws_verify_raw(set->keys[0], alg, payload,
					    strlen(payload), sig, siglen) == JG_OK);
		for (j = 0; j < NALGS; j++)
			if (all_algs[j] != alg)
				CU_ASSERT(jg_jws_verify_raw(set->keys[0], all_algs[j],
							    payload, strlen(payload),
							    sig, siglen) ==
					  JG_ERR_DENIED);
		CU_ASSERT(jg_jws_verify_raw(set->keys[0], alg, payload,
					    strlen(payload) - 1, sig, siglen) ==
			  JG_ERR_DENIED);
		CU_ASSERT(jg_jws_verify_raw(set->keys[0], alg, payload,
					    strlen(payload), sig, siglen - 1) ==
			  JG_ERR_DENIED);
		free(sig);
		sig = NULL;
		/* A public key cannot sign (an oct key's public copy is the
		 * secret itself). */
		if (alg > JG_ALG_HS512) {
			CU_ASSERT(jg_jws_sign_raw(set->keys[0], alg, "x", 1,
						  &sig, &siglen) == JG_ERR_DENIED);
			CU_ASSERT(sig == NULL);
		}

		free(token);
		json_object_put(extra);
		jg_jwk_free(priv);
		jg_jwks_free(set);
		jg_jwks_free(wrong_set);
	}
	jg_jwk_free(rsa_other);
}

/* Many ECDSA signatures, so R or S with leading zero octets (about one in
 * 128 signatures for P-256, and every P-521 one) go through the padding. */
static void
test_ecdsa_padding(void)
{
	static const enum jg_alg algs[] = { JG_ALG_ES256, JG_ALG_ES512 };
	size_t a, i, failures = 0;

	for (a = 0; a < 2; a++) {
		struct jg_jwk *priv = NULL, *pub;
		size_t rounds = algs[a] == JG_ALG_ES256 ? 400 : 40;

		CU_ASSERT_FATAL(jg_jwk_generate(algs[a], 0, &priv) == JG_OK);
		pub = jg_jwk_public(priv);
		for (i = 0; i < rounds; i++) {
			unsigned char *sig = NULL;
			size_t siglen = 0;
			char msg[32];

			snprintf(msg, sizeof(msg), "message %zu", i);
			if (jg_jws_sign_raw(priv, algs[a], msg, strlen(msg), &sig,
					    &siglen) != JG_OK ||
			    siglen != expected_siglen(algs[a]) ||
			    jg_jws_verify_raw(pub, algs[a], msg, strlen(msg), sig,
					      siglen) != JG_OK)
				failures++;
			free(sig);
		}
		jg_jwk_free(priv);
		jg_jwk_free(pub);
	}
	CU_ASSERT(failures == 0);
}

/* ------------------------------------------------------------ jg_jws_sign */

static void
test_sign_header(void)
{
	static const char expect_hdr[] =
		"eyJhbGciOiJIUzI1NiIsImtpZCI6IjAxOGMwYWU1LTRkOWItNDcx"
		"Yi1iZmQ2LWVlZjMxNGJjNzAzNyIsInR5cCI6ImF0K2p3dCIsImN0"
		"eSI6IngifQ.e30.";
	struct jg_jwk *key = parse_key(rfc7520_oct_key);
	struct jg_jwk *nokid = parse_key(rfc7515_a1_key);
	struct json_object *extra = json_object_new_object();
	struct json_object *bad = json_object_new_object();
	struct json_object *arr = json_object_new_array();
	struct jg_jws *jws = NULL;
	char *token = NULL;
	const char *why = NULL;

	json_object_object_add(extra, "typ", json_object_new_string("at+jwt"));
	json_object_object_add(extra, "cty", json_object_new_string("x"));
	CU_ASSERT_FATAL(jg_jws_sign(key, JG_ALG_HS256, extra, "{}", 2, &token) ==
			JG_OK);
	/* Compact: {"alg":"HS256","kid":"018c...","typ":"at+jwt","cty":"x"}. */
	CU_ASSERT(strncmp(token, expect_hdr, strlen(expect_hdr)) == 0);
	CU_ASSERT(jg_jws_decode(token, strlen(token), &jws, &why) == JG_OK);
	CU_ASSERT(jws != NULL && jws->typ && strcmp(jws->typ, "at+jwt") == 0);
	jg_jws_free(jws);
	free(token);

	/* extra must not hold "alg", nor "kid" when the key has one, and
	 * must be an object. */
	token = NULL;
	json_object_object_add(bad, "alg", json_object_new_string("none"));
	CU_ASSERT(jg_jws_sign(key, JG_ALG_HS256, bad, "{}", 2, &token) ==
		  JG_ERR_MALFORMED);
	CU_ASSERT(token == NULL);
	json_object_object_del(bad, "alg");
	json_object_object_add(bad, "kid", json_object_new_string("other"));
	CU_ASSERT(jg_jws_sign(key, JG_ALG_HS256, bad, "{}", 2, &token) ==
		  JG_ERR_MALFORMED);
	CU_ASSERT(token == NULL);
	CU_ASSERT(jg_jws_sign(nokid, JG_ALG_HS256, bad, "{}", 2, &token) == JG_OK);
	CU_ASSERT(token != NULL && strncmp(token,
		  "eyJhbGciOiJIUzI1NiIsImtpZCI6Im90aGVyIn0.e30.", 44) == 0);
	free(token);
	token = NULL;
	CU_ASSERT(jg_jws_sign(key, JG_ALG_HS256, arr, "{}", 2, &token) ==
		  JG_ERR_MALFORMED);
	CU_ASSERT(jg_jws_sign(key, JG_ALG_UNKNOWN, NULL, "{}", 2, &token) ==
		  JG_ERR_DENIED);
	CU_ASSERT(jg_jws_sign(key, JG_ALG_COUNT, NULL, "{}", 2, &token) ==
		  JG_ERR_DENIED);
	CU_ASSERT(token == NULL);
	/* An empty payload is legal JWS. */
	CU_ASSERT(jg_jws_sign(nokid, JG_ALG_HS256, NULL, "", 0, &token) == JG_OK);
	CU_ASSERT(token != NULL && strncmp(token, "eyJhbGciOiJIUzI1NiJ9..", 22) == 0);
	jws = NULL;
	CU_ASSERT(jg_jws_decode(token, strlen(token), &jws, &why) == JG_OK);
	CU_ASSERT(jws != NULL && jws->payload_len == 0 && jws->payload[0] == '\0');
	jg_jws_free(jws);
	free(token);

	json_object_put(extra);
	json_object_put(bad);
	json_object_put(arr);
	jg_jwk_free(key);
	jg_jwk_free(nokid);
}

/* ------------------------------------------------------------ decode */

/* Builds "b64(header).b64(payload).sig" for decode tests. */
static char *
compact(const char *header, const char *payload, const char *sig)
{
	char *h = jg_b64url_encode(header, strlen(header));
	char *p = jg_b64url_encode(payload, strlen(payload));
	char *t = jg_xasprintf("%s.%s.%s", h, p, sig);

	free(h);
	free(p);
	return t;
}

static void
test_decode_rules(void)
{
	static const struct {
		const char *header;
		const char *sig;
		enum jg_err expect;
		const char *what;
	} rows[] = {
		{ "{\"alg\":\"ES256\",\"kid\":\"k\",\"typ\":\"JWT\"}", "AAAA", JG_OK,
		  "control" },
		{ "{\"alg\":\"ES256\"}", "", JG_ERR_MALFORMED, "empty signature" },
		{ "{\"alg\":\"ES256\"}", "A", JG_ERR_MALFORMED, "signature 1 mod 4" },
		{ "{\"alg\":\"ES256\"}", "AAA=", JG_ERR_MALFORMED, "padding" },
		{ "{\"typ\":\"JWT\"}", "AAAA", JG_ERR_MALFORMED, "alg missing" },
		{ "{\"alg\":256}", "AAAA", JG_ERR_MALFORMED, "alg not a string" },
		{ "{\"alg\":null}", "AAAA", JG_ERR_MALFORMED, "alg null" },
		{ "{\"alg\":\"none\"}", "AAAA", JG_ERR_DENIED, "alg none" },
		{ "{\"alg\":\"NoNe\"}", "AAAA", JG_ERR_DENIED, "alg NoNe" },
		{ "{\"alg\":\"es256\"}", "AAAA", JG_ERR_DENIED,
		  "alg names are case-sensitive" },
		{ "{\"alg\":\"ES256K\"}", "AAAA", JG_ERR_DENIED, "alg unknown" },
		{ "{\"alg\":\"HS1\"}", "AAAA", JG_ERR_DENIED, "alg unknown" },
		{ "{\"alg\":\"\"}", "AAAA", JG_ERR_DENIED, "alg empty" },
		{ "{\"alg\":\"ES256\\u0000\"}", "AAAA", JG_ERR_MALFORMED,
		  "alg with NUL" },
		{ "{\"alg\":\"ES256\",\"kid\":7}", "AAAA", JG_ERR_MALFORMED,
		  "kid number" },
		{ "{\"alg\":\"ES256\",\"kid\":null}", "AAAA", JG_ERR_MALFORMED,
		  "kid null" },
		{ "{\"alg\":\"ES256\",\"typ\":[\"JWT\"]}", "AAAA", JG_ERR_MALFORMED,
		  "typ array" },
		{ "{\"alg\":\"ES256\",\"crit\":[\"b64\"],\"b64\":false}", "AAAA",
		  JG_ERR_DENIED, "crit b64 (RFC 7797) not understood" },
		{ "{\"alg\":\"ES256\",\"jwk\":{}}", "AAAA", JG_ERR_DENIED, "jwk" },
		{ "{\"alg\":\"ES256\",\"x5c\":[]}", "AAAA", JG_ERR_DENIED, "x5c" },
		{ "[\"alg\",\"ES256\"]", "AAAA", JG_ERR_MALFORMED, "header array" },
		{ "\"ES256\"", "AAAA", JG_ERR_MALFORMED, "header string" },
		{ "{\"alg\":\"ES256\"", "AAAA", JG_ERR_MALFORMED, "header cut" },
		{ "{\"alg\":\"ES256\"} ", "AAAA", JG_OK, "trailing white space" },
		{ "{\"alg\":\"ES256\"}x", "AAAA", JG_ERR_MALFORMED, "trailing byte" },
		{ "{\"alg\":\"ES256\",\"alg\":\"ES256\"}", "AAAA", JG_ERR_MALFORMED,
		  "duplicate alg" },
		{ "{\"alg\":\"ES256\",\"x\":\"\xff\"}", "AAAA", JG_ERR_MALFORMED,
		  "invalid UTF-8" },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *t = compact(rows[i].header, "{}", rows[i].sig);
		struct jg_jws *jws = NULL;
		const char *why = NULL;
		enum jg_err err = jg_jws_decode(t, strlen(t), &jws, &why);

		if (err != rows[i].expect)
			fprintf(stderr, "decode row %zu (%s): got %d (%s)\n", i,
				rows[i].what, err, why ? why : "-");
		CU_ASSERT(err == rows[i].expect);
		CU_ASSERT((err == JG_OK) == (jws != NULL));
		CU_ASSERT(err == JG_OK || why != NULL);
		jg_jws_free(jws);
		free(t);
	}
}

static void
test_decode_fields_and_bounds(void)
{
	struct jg_jws *jws = NULL;
	const char *why = NULL;
	char *kid, *hdr, *t;

	/* A 256-byte kid is fine, 257 bytes is not. */
	kid = jg_xmalloc(258);
	memset(kid, 'k', 257);
	kid[256] = '\0';
	hdr = jg_xasprintf("{\"alg\":\"EdDSA\",\"kid\":\"%s\"}", kid);
	t = compact(hdr, "hi", "AAAA");
	CU_ASSERT(jg_jws_decode(t, strlen(t), &jws, &why) == JG_OK);
	CU_ASSERT(jws && jws->kid && strcmp(jws->kid, kid) == 0);
	CU_ASSERT(jws && jws->alg == JG_ALG_EDDSA && jws->typ == NULL);
	CU_ASSERT(jws && jws->payload_len == 2 && memcmp(jws->payload, "hi", 3) == 0);
	jg_jws_free(jws);
	jws = NULL;
	free(hdr);
	free(t);
	kid[256] = 'k';
	kid[257] = '\0';
	hdr = jg_xasprintf("{\"alg\":\"EdDSA\",\"kid\":\"%s\"}", kid);
	t = compact(hdr, "hi", "AAAA");
	CU_ASSERT(jg_jws_decode(t, strlen(t), &jws, &why) == JG_ERR_MALFORMED);
	CU_ASSERT(jws == NULL);
	free(hdr);
	free(t);
	free(kid);

	/* Token length: JG_JWS_MAX_TOKEN is the limit.  The header is 20
	 * characters and the signature 4, so a payload of 12268 bytes (16358
	 * characters) makes 16384 exactly, and one byte more 16385. */
	{
		char *payload = jg_xmalloc(12270);
		char *full;

		memset(payload, 'p', 12269);
		payload[12269] = '\0';
		full = compact("{\"alg\":\"HS256\"}", payload, "AAAA");
		CU_ASSERT(strlen(full) == JG_JWS_MAX_TOKEN + 1);
		CU_ASSERT(jg_jws_decode(full, strlen(full), &jws, &why) ==
			  JG_ERR_MALFORMED);
		CU_ASSERT(jws == NULL);
		free(full);
		payload[12268] = '\0';
		full = compact("{\"alg\":\"HS256\"}", payload, "AAAA");
		CU_ASSERT(strlen(full) == JG_JWS_MAX_TOKEN);
		CU_ASSERT(jg_jws_decode(full, strlen(full), &jws, &why) == JG_OK);
		CU_ASSERT(jws && jws->payload_len == 12268);
		jg_jws_free(jws);
		jws = NULL;
		free(full);
		free(payload);
	}
	/* Encoded header: JG_JWS_MAX_HEADER (2048) characters, that is 1536
	 * bytes of JSON, is the limit. */
	{
		char *pad = jg_xmalloc(1516);
		char *hjson;

		memset(pad, 'h', 1515);
		pad[1514] = '\0';	/* {"alg":"HS256","x":""} is 22 bytes */
		hjson = jg_xasprintf("{\"alg\":\"HS256\",\"x\":\"%s\"}", pad);
		CU_ASSERT(strlen(hjson) == 1536);
		t = compact(hjson, "{}", "AAAA");
		CU_ASSERT(strchr(t, '.') - t == JG_JWS_MAX_HEADER);
		CU_ASSERT(jg_jws_decode(t, strlen(t), &jws, &why) == JG_OK);
		jg_jws_free(jws);
		jws = NULL;
		free(t);
		free(hjson);
		pad[1514] = 'h';
		pad[1515] = '\0';
		hjson = jg_xasprintf("{\"alg\":\"HS256\",\"x\":\"%s\"}", pad);
		t = compact(hjson, "{}", "AAAA");
		CU_ASSERT(strchr(t, '.') - t == JG_JWS_MAX_HEADER + 2);
		why = NULL;
		CU_ASSERT(jg_jws_decode(t, strlen(t), &jws, &why) ==
			  JG_ERR_MALFORMED);
		CU_ASSERT(why && strcmp(why, "header too long") == 0);
		CU_ASSERT(jws == NULL);
		free(t);
		free(hjson);
		free(pad);
	}
	/* Signatures: 512 bytes (RSA-4096) fit, 513 do not. */
	{
		unsigned char big[513];
		char *s;

		memset(big, 0x5a, sizeof(big));
		s = jg_b64url_encode(big, 512);
		t = compact("{\"alg\":\"RS512\"}", "{}", s);
		CU_ASSERT(jg_jws_decode(t, strlen(t), &jws, &why) == JG_OK);
		jg_jws_free(jws);
		jws = NULL;
		free(t);
		free(s);
		s = jg_b64url_encode(big, 513);
		t = compact("{\"alg\":\"RS512\"}", "{}", s);
		CU_ASSERT(jg_jws_decode(t, strlen(t), &jws, &why) ==
			  JG_ERR_MALFORMED);
		CU_ASSERT(jws == NULL);
		free(t);
		free(s);
	}

	t = compact("{\"alg\":\"HS256\"}", "{}", "AAAA");
	/* The same token with garbage after len. */
	hdr = jg_xasprintf("%s.extra", t);
	CU_ASSERT(jg_jws_decode(hdr, strlen(t), &jws, &why) == JG_OK);
	jg_jws_free(jws);
	jws = NULL;
	CU_ASSERT(jg_jws_decode(hdr, strlen(hdr), &jws, &why) == JG_ERR_MALFORMED);
	CU_ASSERT(jg_jws_decode(t, 0, &jws, &why) == JG_ERR_MALFORMED);
	CU_ASSERT(jg_jws_decode(NULL, 0, &jws, &why) == JG_ERR_MALFORMED);
	/* why may be NULL. */
	CU_ASSERT(jg_jws_decode(t, 3, &jws, NULL) == JG_ERR_MALFORMED);
	CU_ASSERT(jws == NULL);
	free(hdr);
	free(t);
	jg_jws_free(NULL);
}

/* ------------------------------------------------------------ key choice */

/* Re-imports key with a chosen kid, through its JWK form. */
static struct jg_jwk *
with_kid(const struct jg_jwk *key, const char *kid)
{
	struct json_object *obj = jg_jwk_to_json(key, key->priv != NULL ||
						 key->kty == JG_KTY_OCT);
	struct jg_jwk *out = NULL;

	json_object_object_add(obj, "kid", json_object_new_string(kid));
	CU_ASSERT_FATAL(jg_jwk_from_json(obj, &out, NULL) == JG_OK);
	json_object_put(obj);
	return out;
}

static void
test_key_selection(void)
{
	struct jg_jwk *gen[6], *signer, *p;
	struct jg_jwks *set = jg_jwks_new(), *fakes = jg_jwks_new();
	struct jg_jws *jws = NULL;
	const char *why = NULL;
	enum jg_alg alg = JG_ALG_EDDSA;
	char *token = NULL, *nokid = NULL, name[8];
	unsigned char *sig = NULL;
	size_t i, siglen;
	char *h, *si;

	for (i = 0; i < 6; i++) {
		CU_ASSERT_FATAL(jg_jwk_generate(JG_ALG_EDDSA, 0, &gen[i]) == JG_OK);
		snprintf(name, sizeof(name), "k%zu", i);
		p = jg_jwk_public(gen[i]);
		jg_jwks_add(set, with_kid(p, name));
		jg_jwk_free(p);
	}
	/* Token signed by key 4, naming kid "k4": picked directly. */
	signer = with_kid(gen[4], "k4");
	CU_ASSERT_FATAL(jg_jws_sign(signer, alg, NULL, "{}", 2, &token) == JG_OK);
	CU_ASSERT(jg_jws_verify(token, strlen(token), set, &alg, 1, &jws, &why) ==
		  JG_OK);
	CU_ASSERT(jws && jws->key == set->keys[4]);
	jg_jws_free(jws);
	jws = NULL;

	/* The kid is compared exactly: "K4", "k4 " and "k" are other keys. */
	{
		static const char *const kids[] = { "K4", "k4 ", "k", "", "k40" };

		for (i = 0; i < sizeof(kids) / sizeof(kids[0]); i++) {
			struct jg_jwk *s2 = with_kid(gen[4], kids[i]);
			char *t2 = NULL;

			CU_ASSERT_FATAL(jg_jws_sign(s2, alg, NULL, "{}", 2, &t2) ==
					JG_OK);
			why = NULL;
			CU_ASSERT(jg_jws_verify(t2, strlen(t2), set, &alg, 1, &jws,
						&why) == JG_ERR_DENIED);
			CU_ASSERT(why && strcmp(why, "no key for kid") == 0);
			free(t2);
			jg_jwk_free(s2);
		}
	}

	/* Without kid, the keys are tried in order: key 4 is the fifth
	 * candidate, one more than the attempt bound of 4. */
	CU_ASSERT_FATAL(jg_jws_sign_raw(gen[4], alg, "eyJhbGciOiJFZERTQSJ9.e30",
					24, &sig, &siglen) == JG_OK);
	h = jg_b64url_encode(sig, siglen);
	nokid = jg_xasprintf("eyJhbGciOiJFZERTQSJ9.e30.%s", h);
	free(h);
	free(sig);
	why = NULL;
	CU_ASSERT(jg_jws_verify(nokid, strlen(nokid), set, &alg, 1, &jws, &why) ==
		  JG_ERR_DENIED);
	CU_ASSERT(jws == NULL);
	/* Key 3 (the fourth) is still reached. */
	CU_ASSERT_FATAL(jg_jws_sign_raw(gen[3], alg, "eyJhbGciOiJFZERTQSJ9.e30",
					24, &sig, &siglen) == JG_OK);
	h = jg_b64url_encode(sig, siglen);
	si = jg_xasprintf("eyJhbGciOiJFZERTQSJ9.e30.%s", h);
	CU_ASSERT(jg_jws_verify(si, strlen(si), set, &alg, 1, &jws, &why) == JG_OK);
	CU_ASSERT(jws && jws->key == set->keys[3]);
	jg_jws_free(jws);
	jws = NULL;
	free(h);
	free(sig);
	free(si);

	/* Keys that cannot verify the alg do not count as attempts: five
	 * oct keys first, then the right one. */
	for (i = 0; i < 5; i++) {
		struct jg_jwk *k = NULL;

		CU_ASSERT_FATAL(jg_jwk_generate(JG_ALG_HS256, 0, &k) == JG_OK);
		jg_jwks_add(fakes, k);
	}
	jg_jwks_add(fakes, jg_jwk_public(gen[4]));
	CU_ASSERT(jg_jws_verify(nokid, strlen(nokid), fakes, &alg, 1, &jws, &why) ==
		  JG_OK);
	CU_ASSERT(jws && jws->key == fakes->keys[5]);
	jg_jws_free(jws);
	jws = NULL;
	/* An empty set or no set. */
	{
		struct jg_jwks *empty = jg_jwks_new();

		why = NULL;
		CU_ASSERT(jg_jws_verify(nokid, strlen(nokid), empty, &alg, 1, &jws,
					&why) == JG_ERR_DENIED);
		CU_ASSERT(why && strcmp(why, "no usable key") == 0);
		CU_ASSERT(jg_jws_verify(nokid, strlen(nokid), NULL, &alg, 1, &jws,
					&why) == JG_ERR_DENIED);
		jg_jwks_free(empty);
	}
	/* A kid matching only a key of another type. */
	{
		struct jg_jwk *oct = NULL, *oct4;

		CU_ASSERT_FATAL(jg_jwk_generate(JG_ALG_HS256, 0, &oct) == JG_OK);
		oct4 = with_kid(oct, "k4");
		jg_jwk_free(oct);
		jg_jwks_free(fakes);
		fakes = jg_jwks_new();
		jg_jwks_add(fakes, oct4);
		why = NULL;
		CU_ASSERT(jg_jws_verify(token, strlen(token), fakes, &alg, 1, &jws,
					&why) == JG_ERR_DENIED);
		CU_ASSERT(why && strcmp(why, "no usable key for kid") == 0);
	}
	free(token);
	free(nokid);
	jg_jwk_free(signer);
	for (i = 0; i < 6; i++)
		jg_jwk_free(gen[i]);
	jg_jwks_free(set);
	jg_jwks_free(fakes);
}

/* Compares the plain-header scan with the strict parser on one header:
 * the same answer, reason, alg, kid, typ and header JSON; returns whether
 * the scan (not the parser) read it. */
static bool
same_both_ways(const char *header, enum jg_err want)
{
	struct jg_jws *fast = NULL, *strict = NULL;
	const char *why_fast = NULL, *why_strict = NULL;
	char *token = compact(header, "{}", "AAAA");
	enum jg_err ef, es;
	bool plain = false;

	/* Twice: the second time an accepted plain header comes from the
	 * thread's memo of the last header (jws.c), and must read the same. */
	ef = jg_jws_decode(token, strlen(token), &fast, &why_fast);
	jg_jws_free(fast);
	fast = NULL;
	ef = jg_jws_decode(token, strlen(token), &fast, &why_fast);
	es = jg_jws_decode_strict(token, strlen(token), &strict, &why_strict);
	CU_ASSERT_EQUAL(ef, want);
	CU_ASSERT_EQUAL(es, want);
	if (ef != JG_OK || es != JG_OK) {
		CU_ASSERT(why_fast != NULL && why_strict != NULL &&
			  strcmp(why_fast, why_strict) == 0);
	} else {
		/* The strict decoder never leaves the header unparsed. */
		CU_ASSERT(strict->header != NULL && strict->header_text == NULL);
		plain = fast->header == NULL && fast->header_text != NULL;
		CU_ASSERT_EQUAL(fast->alg, strict->alg);
		CU_ASSERT((fast->kid == NULL) == (strict->kid == NULL));
		if (fast->kid && strict->kid)
			CU_ASSERT_STRING_EQUAL(fast->kid, strict->kid);
		CU_ASSERT((fast->typ == NULL) == (strict->typ == NULL));
		if (fast->typ && strict->typ)
			CU_ASSERT_STRING_EQUAL(fast->typ, strict->typ);
		CU_ASSERT_STRING_EQUAL(
		    json_object_to_json_string(jg_jws_header(fast)),
		    json_object_to_json_string(jg_jws_header(strict)));
		/* Asked again, the same object. */
		CU_ASSERT(jg_jws_header(fast) == jg_jws_header(fast));
	}
	jg_jws_free(fast);
	jg_jws_free(strict);
	free(token);
	return plain;
}

/* The scan of plain headers (jws.c) against the strict JSON parser, on
 * headers it reads itself and on the ones it must hand over. */
static void
test_plain_header_scan(void)
{
	static const struct {
		const char *header;
		enum jg_err want;
		bool plain;	/* read by the scan, not the parser (seen only
				 * when the header is accepted) */
	} rows[] = {
		{ "{\"alg\":\"ES256\"}", JG_OK, true },
		{ "{\"alg\":\"HS256\",\"kid\":\"k1\",\"typ\":\"at+jwt\"}", JG_OK, true },
		{ " \t\r\n{ \"typ\" : \"JWT\" ,\r\n \"alg\" :\"RS256\" } \n", JG_OK, true },
		{ "{\"alg\":\"EdDSA\",\"kid\":\"\",\"x\":\"y\",\"zz\":\"\"}", JG_OK, true },
		{ "{\"alg\":\"ES256\",\"kid\":\"a/b+c=d~e\"}", JG_OK, true },
		{ "{\"alg\":\"ES256\",\"alg\":\"ES256\"}", JG_ERR_MALFORMED, false },
		{ "{\"alg\":\"ES256\",\"kid\":\"a\",\"kid\":\"b\"}", JG_ERR_MALFORMED, false },
		{ "{\"alg\":\"ES256\",\"k\\u0069d\":\"a\"}", JG_OK, false },
		{ "{\"alg\":\"ES256\",\"kid\":\"a\",\"k\\u0069d\":\"b\"}", JG_ERR_MALFORMED, false },
		{ "{\"alg\":\"ES256\",\"kid\":\"a\\\"b\"}", JG_OK, false },
		{ "{\"alg\":\"ES256\",\"kid\":\"\xc3\xa9\"}", JG_OK, false },
		{ "{\"alg\":\"ES256\",\"kid\":\"\x7f\"}", JG_OK, false },
		{ "{\"alg\":\"ES256\",\"kid\":\"a\tb\"}", JG_ERR_MALFORMED, false },
		{ "{\"alg\":\"ES256\",\"b64\":false}", JG_OK, false },
		{ "{\"alg\":\"ES256\",\"n\":1}", JG_OK, false },
		{ "{\"alg\":\"none\"}", JG_ERR_DENIED, true },
		{ "{\"alg\":\"NONE\",\"kid\":\"k\"}", JG_ERR_DENIED, true },
		{ "{\"alg\":\"ES999\"}", JG_ERR_DENIED, true },
		{ "{\"alg\":\"\"}", JG_ERR_DENIED, true },
		{ "{\"kid\":\"k\"}", JG_ERR_MALFORMED, true },
		{ "{\"alg\":\"ES256\",\"crit\":\"b64\"}", JG_ERR_DENIED, true },
		{ "{\"jku\":\"https://x\",\"alg\":\"ES256\"}", JG_ERR_DENIED, true },
		{ "{\"alg\":\"ES256\",\"x5u\":\"https://x\"}", JG_ERR_DENIED, true },
		{ "{\"alg\":\"ES256\",\"jwk\":\"x\"}", JG_ERR_DENIED, true },
		{ "{\"alg\":\"ES256\",\"x5c\":\"x\"}", JG_ERR_DENIED, true },
		{ "{\"alg\":\"ES256\",\"x5t\":\"x\",\"cri\":\"t\"}", JG_OK, true },
		{ "{\"alg\":\"ES256\"}x", JG_ERR_MALFORMED, false },
		{ "{\"alg\":\"ES256\",}", JG_ERR_MALFORMED, false },
		{ "{\"alg\":\"ES256\" \"kid\":\"k\"}", JG_ERR_MALFORMED, false },
		{ "{\"alg\" \"ES256\"}", JG_ERR_MALFORMED, false },
		{ "{\"alg\":\"ES256\"", JG_ERR_MALFORMED, false },
		{ "{\"alg\":\"ES256", JG_ERR_MALFORMED, false },
		{ "{}", JG_ERR_MALFORMED, false },
		{ "{\"alg\":\"ES256\"}{}", JG_ERR_MALFORMED, false },
		{ "\xef\xbb\xbf{\"alg\":\"ES256\"}", JG_ERR_MALFORMED, false },
		{ "{\"alg\":\"ES256\"}\v", JG_ERR_MALFORMED, false },
	};
	char big[400], many[512];
	size_t i, n;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		bool plain = same_both_ways(rows[i].header, rows[i].want);

		if (rows[i].want == JG_OK)
			CU_ASSERT_EQUAL(plain, rows[i].plain);
	}
	/* Length bounds at the edges: alg 32 bytes, kid and typ 256. */
	n = (size_t)snprintf(big, sizeof(big), "{\"alg\":\"%032d\"}", 0);
	CU_ASSERT(n < sizeof(big));
	same_both_ways(big, JG_ERR_DENIED);
	snprintf(big, sizeof(big), "{\"alg\":\"%033d\"}", 0);
	same_both_ways(big, JG_ERR_MALFORMED);
	snprintf(big, sizeof(big), "{\"alg\":\"ES256\",\"kid\":\"%0256d\"}", 0);
	CU_ASSERT(same_both_ways(big, JG_OK));
	snprintf(big, sizeof(big), "{\"alg\":\"ES256\",\"kid\":\"%0257d\"}", 0);
	same_both_ways(big, JG_ERR_MALFORMED);
	snprintf(big, sizeof(big), "{\"typ\":\"%0256d\",\"alg\":\"ES256\"}", 0);
	CU_ASSERT(same_both_ways(big, JG_OK));
	snprintf(big, sizeof(big), "{\"typ\":\"%0257d\",\"alg\":\"ES256\"}", 0);
	same_both_ways(big, JG_ERR_MALFORMED);
	/* Sixteen members are scanned, seventeen go to the parser. */
	for (n = 16; n <= 17; n++) {
		int at = snprintf(many, sizeof(many), "{\"alg\":\"ES256\"");

		for (i = 1; i < n; i++)
			at += snprintf(many + at, sizeof(many) - (size_t)at,
				       ",\"m%zu\":\"v\"", i);
		snprintf(many + at, sizeof(many) - (size_t)at, "}");
		CU_ASSERT_EQUAL(same_both_ways(many, JG_OK), n == 16);
	}
}

/* Decodes token and checks its alg, kid, typ, header text and payload. */
static void
decoded_as(const char *token, enum jg_alg alg, const char *kid,
	   const char *typ, const char *header, const char *payload)
{
	struct jg_jws *jws = NULL;

	CU_ASSERT_EQUAL_FATAL(jg_jws_decode(token, strlen(token), &jws, NULL),
			      JG_OK);
	CU_ASSERT_EQUAL(jws->alg, alg);
	CU_ASSERT((jws->kid == NULL) == (kid == NULL));
	if (jws->kid != NULL && kid != NULL)
		CU_ASSERT_STRING_EQUAL(jws->kid, kid);
	CU_ASSERT((jws->typ == NULL) == (typ == NULL));
	if (jws->typ != NULL && typ != NULL)
		CU_ASSERT_STRING_EQUAL(jws->typ, typ);
	CU_ASSERT(jws->header_text != NULL &&
		  jws->header_len == strlen(header) &&
		  memcmp(jws->header_text, header, jws->header_len) == 0);
	CU_ASSERT(jws->payload_len == strlen(payload) &&
		  memcmp(jws->payload, payload, jws->payload_len) == 0);
	jg_jws_free(jws);
}

/* The memo of the last accepted plain header (jws.c): tokens that share a
 * header read it from there, a different header (even of the same length,
 * or one byte apart) is read anew, a refused header is never kept, and the
 * strict decoder never uses it. */
static void
test_header_memo(void)
{
	static const char h1[] = "{\"alg\":\"HS256\",\"kid\":\"k1\",\"typ\":\"at+jwt\"}";
	static const char h2[] = "{\"alg\":\"HS256\",\"kid\":\"k2\",\"typ\":\"at+jwt\"}";
	static const char h3[] = "{\"alg\":\"ES256\",\"kid\":\"k1\"}";
	static const char crit[] = "{\"alg\":\"HS256\",\"crit\":\"b64\"}";
	char *t1a = compact(h1, "{\"n\":1}", "AAAA");
	char *t1b = compact(h1, "{\"n\":22}", "AAAA");
	char *t2 = compact(h2, "{\"n\":3}", "AAAA");
	char *t3 = compact(h3, "{}", "AAAA");
	char *tc = compact(crit, "{}", "AAAA");
	char big[400], kid[260], *tbig;
	struct jg_jws *jws = NULL;
	const char *why = NULL;
	int round;

	for (round = 0; round < 2; round++) {
		decoded_as(t1a, JG_ALG_HS256, "k1", "at+jwt", h1, "{\"n\":1}");
		decoded_as(t1b, JG_ALG_HS256, "k1", "at+jwt", h1, "{\"n\":22}");
		decoded_as(t1b, JG_ALG_HS256, "k1", "at+jwt", h1, "{\"n\":22}");
		decoded_as(t2, JG_ALG_HS256, "k2", "at+jwt", h2, "{\"n\":3}");
		decoded_as(t1a, JG_ALG_HS256, "k1", "at+jwt", h1, "{\"n\":1}");
		decoded_as(t3, JG_ALG_ES256, "k1", NULL, h3, "{}");
		decoded_as(t3, JG_ALG_ES256, "k1", NULL, h3, "{}");
		/* A refused header, twice, then the last good one again. */
		CU_ASSERT_EQUAL(jg_jws_decode(tc, strlen(tc), &jws, &why),
				JG_ERR_DENIED);
		CU_ASSERT(jws == NULL && why != NULL &&
			  strcmp(why, "crit not supported") == 0);
		CU_ASSERT_EQUAL(jg_jws_decode(tc, strlen(tc), &jws, &why),
				JG_ERR_DENIED);
		decoded_as(t3, JG_ALG_ES256, "k1", NULL, h3, "{}");
		/* The strict decoder parses the header every time. */
		CU_ASSERT_EQUAL(jg_jws_decode_strict(t3, strlen(t3), &jws, NULL),
				JG_OK);
		CU_ASSERT(jws != NULL && jws->header != NULL &&
			  jws->header_text == NULL);
		jg_jws_free(jws);
		jws = NULL;
	}
	/* A header longer than the memo keeps is read every time. */
	snprintf(kid, sizeof(kid), "%0250d", 7);
	snprintf(big, sizeof(big), "{\"alg\":\"ES256\",\"kid\":\"%s\"}", kid);
	tbig = compact(big, "{}", "AAAA");
	decoded_as(tbig, JG_ALG_ES256, kid, NULL, big, "{}");
	CU_ASSERT_EQUAL(jg_jws_decode(tbig, strlen(tbig), &jws, NULL), JG_OK);
	CU_ASSERT(jws != NULL && strlen(jws->kid) == 250);
	jg_jws_free(jws);
	free(tbig);
	free(t1a);
	free(t1b);
	free(t2);
	free(t3);
	free(tc);
}

/* Two threads verify HS256 tokens with the same key (whose keyed HMAC state
 * one of them holds at a time; the other keys a fresh HMAC) and decode
 * headers of their own (each thread has its own header memo): every good
 * token passes with its own typ, every bad tag fails. */
struct thread_job {
	const struct jg_jwks *set;
	const char *good, *bad, *typ;
	unsigned failures;
};

static void *
verify_many(void *arg)
{
	static const enum jg_alg hs256 = JG_ALG_HS256;
	struct thread_job *job = arg;
	struct jg_jws *jws;
	int i;

	for (i = 0; i < 20000; i++) {
		jws = NULL;
		if (jg_jws_verify(job->good, strlen(job->good), job->set, &hs256,
				  1, &jws, NULL) != JG_OK || jws->typ == NULL ||
		    strcmp(jws->typ, job->typ) != 0)
			job->failures++;
		jg_jws_free(jws);
		jws = NULL;
		if (jg_jws_verify(job->bad, strlen(job->bad), job->set, &hs256,
				  1, &jws, NULL) != JG_ERR_DENIED || jws != NULL)
			job->failures++;
	}
	return NULL;
}

static void
test_threads(void)
{
	static const char *const typs[2] = { "thread-a", "thread-b" };
	struct jg_jwk *key = NULL;
	struct jg_jwks *set = jg_jwks_new();
	struct thread_job jobs[2];
	pthread_t th[2];
	char *good[2], *bad[2], *hdr, *h, *input, *t;
	unsigned char tag[32];
	size_t i, n;

	CU_ASSERT_FATAL(jg_jwk_generate(JG_ALG_HS256, 0, &key) == JG_OK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(key->kid);
	jg_jwks_add(set, key);
	for (i = 0; i < 2; i++) {
		/* Tagged here with gnutls_hmac_fast, not through jws.c. */
		hdr = jg_xasprintf("{\"alg\":\"HS256\",\"kid\":\"%s\","
				   "\"typ\":\"%s\"}", key->kid, typs[i]);
		h = jg_b64url_encode(hdr, strlen(hdr));
		input = jg_xasprintf("%s.eyJzdWIiOiJ4In0", h);
		CU_ASSERT_FATAL(gnutls_hmac_fast(GNUTLS_MAC_SHA256, key->secret,
						 key->secret_len, input,
						 strlen(input), tag) >= 0);
		t = jg_b64url_encode(tag, sizeof(tag));
		good[i] = jg_xasprintf("%s.%s", input, t);
		free(t);
		tag[5] ^= 1;
		t = jg_b64url_encode(tag, sizeof(tag));
		bad[i] = jg_xasprintf("%s.%s", input, t);
		free(t);
		free(input);
		free(h);
		free(hdr);
		jobs[i].set = set;
		jobs[i].good = good[i];
		jobs[i].bad = bad[i];
		jobs[i].typ = typs[i];
		jobs[i].failures = 0;
	}
	for (i = 0; i < 2; i++)
		CU_ASSERT_FATAL(pthread_create(&th[i], NULL, verify_many,
					       &jobs[i]) == 0);
	for (n = 0; n < 2; n++)
		pthread_join(th[n], NULL);
	CU_ASSERT_EQUAL(jobs[0].failures, 0);
	CU_ASSERT_EQUAL(jobs[1].failures, 0);
	for (i = 0; i < 2; i++) {
		free(good[i]);
		free(bad[i]);
	}
	jg_jwks_free(set);
}

static const struct jg_test tests[] = {
	{ "RFC 7515 A.1 HS256", test_rfc7515_a1_hs256 },
	{ "RFC 7515 A.2 RS256", test_rfc7515_a2_rs256 },
	{ "RFC 7515 A.3 ES256", test_rfc7515_a3_es256 },
	{ "RFC 7515 A.4 ES512", test_rfc7515_a4_es512 },
	{ "RFC 7515 A.5 alg none refused", test_rfc7515_a5_none },
	{ "RFC 7520 4.1 RS256", test_rfc7520_41_rs256 },
	{ "RFC 7520 4.2 PS384", test_rfc7520_42_ps384 },
	{ "RFC 7520 4.3 ES512", test_rfc7520_43_es512 },
	{ "RFC 7520 4.4 HS256", test_rfc7520_44_hs256 },
	{ "RFC 8037 A.4 Ed25519", test_rfc8037_a4_ed25519 },
	{ "round trips, every algorithm", test_round_trips },
	{ "ECDSA R||S padding", test_ecdsa_padding },
	{ "sign header", test_sign_header },
	{ "decode rules", test_decode_rules },
	{ "decode fields and bounds", test_decode_fields_and_bounds },
	{ "plain-header scan agrees with the strict parser", test_plain_header_scan },
	{ "key selection by kid, attempt bound", test_key_selection },
	{ "header memo", test_header_memo },
	{ "threads: HMAC state and header memo", test_threads },
	{ NULL, NULL }
};

int
main(void)
{
	return jg_test_main("jws", tests);
}
