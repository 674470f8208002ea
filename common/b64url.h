/* b64url.h: strict base64url (RFC 4648 section 5) without padding. */
#ifndef JG_B64URL_H
#define JG_B64URL_H

#include <stddef.h>
#include "util.h"

/* Number of characters jg_b64url_encode produces for len bytes. */
size_t jg_b64url_encoded_len(size_t len);

/* Returns a new NUL-terminated base64url string (no padding) of len bytes
 * at in.  The caller frees it. */
char *jg_b64url_encode(const void *in, size_t len);

/* Encodes len bytes into out, which has room for jg_b64url_encoded_len(len)
 * characters plus a NUL.  Returns the number of characters written. */
size_t jg_b64url_encode_into(const void *in, size_t len, char *out);

/* Decodes exactly len characters of strict base64url: only A-Z a-z 0-9 - _,
 * no padding, no white space, a length that is not 1 mod 4, and zero unused
 * trailing bits.  Writes at most cap bytes to out; on success writes the
 * decoded length to *outlen and returns JG_OK.  Returns JG_ERR_MALFORMED for
 * any violation or when the result would exceed cap (nothing useful is left
 * in out then). */
enum jg_err jg_b64url_decode_into(const char *in, size_t len,
				  unsigned char *out, size_t cap, size_t *outlen);

/* Like jg_b64url_decode_into, into a new buffer (caller frees) with a NUL
 * byte after the decoded bytes, so text can be used as a C string.  *out and
 * *outlen are written only on success. */
enum jg_err jg_b64url_decode(const char *in, size_t len,
			     unsigned char **out, size_t *outlen);

/* Whether the base64url decoder uses the CPU's vector unit (AVX2 on
 * x86-64; otherwise there is none and this returns 0).  on < 0 asks; 0 turns
 * it off and 1 back on where the CPU has it.  Returns 1 when it is in use.
 * Both decoders give the same answer for every input; tests compare them
 * through this switch.  Not thread-safe to change while decoding. */
int jg_b64url_vector(int on);

/* Standard base64 (RFC 4648 section 4, with padding) for PEM bodies and
 * HTTP Basic credentials.  Same ownership and error rules as above; the
 * decoder accepts no white space. */
char *jg_b64std_encode(const void *in, size_t len);
enum jg_err jg_b64std_decode(const char *in, size_t len,
			     unsigned char **out, size_t *outlen);

#endif
