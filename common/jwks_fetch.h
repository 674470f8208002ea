/* jwks_fetch.h: the signing keys of external OpenID Connect issuers (the
 * [issuer URL] sections of the configuration): discovery and jwks_uri
 * fetched with libcurl, cached on disk for every process, refreshed as
 * Cache-Control says and on an unknown kid. */
#ifndef JG_JWKS_FETCH_H
#define JG_JWKS_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "util.h"
#include "jwk.h"
#include "conf.h"

/* Largest discovery document or JWKS accepted, in bytes. */
#define JG_JWKS_FETCH_MAX_SIZE (256 * 1024)
/* Seconds to connect, and for a whole fetch. */
#define JG_JWKS_FETCH_CONNECT_TIMEOUT 3
#define JG_JWKS_FETCH_TIMEOUT 10
/* Bounds of the lifetime taken from Cache-Control max-age (without one,
 * JG_JWKS_FETCH_DEFAULT_AGE); the lower bound is the configuration's
 * jwks_refresh_min_interval. */
#define JG_JWKS_FETCH_DEFAULT_AGE 3600
#define JG_JWKS_FETCH_MAX_AGE 86400

/*
 * The cache: one file per issuer in config->jwks_cache_dir, named by the
 * base64url SHA-256 of the issuer URL plus ".json", holding
 *   {"issuer":..., "jwks_uri":..., "fetched":T, "expires":T, "jwks":{...}}
 * and replaced atomically (mode 0644: public keys only), so every process
 * of every program shares one fetch.  A process reads the file again when
 * it changed on disk.
 *
 * Keys are fetched again when
 *   - there are none (no file yet), or
 *   - the cached set has expired (max-age of the answer, bounded), or
 *   - a token names a kid the set lacks and the last fetch is at least
 *     jwks_refresh_min_interval old;
 * and a process never tries more often than once per
 * jwks_refresh_min_interval, so an unreachable issuer costs at most one
 * timeout per interval.  A failed fetch keeps the cached keys, even
 * expired ones.
 *
 * URLs: https, or http to a loopback host (127.0.0.1, [::1], localhost)
 * for tests; no redirects are followed; no proxy is used for loopback.
 * Without a configured jwks_uri, it comes from ISSUER/.well-known/
 * openid-configuration, whose "issuer" must equal the configured issuer
 * exactly (OpenID Connect Discovery 1.0 section 4.3).
 */

struct jg_jwks_fetch;

/* Returns a new fetcher for the issuers of config (which must outlive it).
 * Initialises libcurl. */
struct jg_jwks_fetch *jg_jwks_fetch_new(const struct jg_config *config);

/* Frees the fetcher and its keys.  Accepts NULL. */
void jg_jwks_fetch_free(struct jg_jwks_fetch *f);

/* Returns in *keys the key set of issuer (a section of the fetcher's
 * configuration), fetching or refreshing it first when the rules above say
 * so; kid is the token's kid or NULL.  The set is borrowed from f and valid
 * until the next call.  *generation (when not NULL) receives a number that
 * changes whenever any issuer's keys of this fetcher change, so a cache of
 * verified tokens can tell when to verify again.  Returns JG_OK, or
 * JG_ERR_BUSY when there are no keys at all (the issuer could not be
 * reached and nothing is cached: try again later). */
enum jg_err jg_jwks_fetch_keys(struct jg_jwks_fetch *f,
			       const struct jg_config_issuer *issuer,
			       const char *kid, int64_t now,
			       const struct jg_jwks **keys, uint64_t *generation);

/* Returns the number of HTTP requests this fetcher has made (for tests). */
unsigned jg_jwks_fetch_count(const struct jg_jwks_fetch *f);

/* Returns true when url may be fetched: an absolute https URL, or http to
 * 127.0.0.1, [::1] or localhost (any port); no white space or control
 * bytes, no user information. */
bool jg_jwks_fetch_url_ok(const char *url);

/* Returns the max-age of a Cache-Control header value in *age and true;
 * "no-cache" and "no-store" give 0; false when there is none. */
bool jg_jwks_fetch_max_age(const char *cache_control, int64_t *age);

#endif
