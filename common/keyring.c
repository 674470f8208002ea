/* keyring.c: the signing keys of an instance, their rotation, and the
 * published JWKS and discovery document. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "json.h"
#include "keyring.h"

/* Largest index and PEM file read, in bytes. */
#define INDEX_MAX (256 * 1024)
#define PEM_MAX (64 * 1024)
/* A kid is an RFC 7638 SHA-256 thumbprint: 32 bytes, 43 base64url characters. */
#define KID_LEN 43
/* How often jg_keyring_load starts again when the index changes under it. */
#define LOAD_ATTEMPTS 5
/* Members of one index entry. */
#define ENTRY_MEMBERS 6

static const char *const purpose_names[JG_KEY_PURPOSE_COUNT] = {
	[JG_KEY_ACCESS] = "access",
	[JG_KEY_ID] = "id",
};

static const char *const state_names[] = {
	[JG_KEY_NEXT] = "next",
	[JG_KEY_CURRENT] = "current",
	[JG_KEY_PREVIOUS] = "previous",
};

#define NSTATES (sizeof(state_names) / sizeof(state_names[0]))

const char *
jg_key_purpose_name(enum jg_key_purpose purpose)
{
	if ((unsigned)purpose >= JG_KEY_PURPOSE_COUNT)
		return NULL;
	return purpose_names[purpose];
}

bool
jg_key_purpose_from_name(const char *name, enum jg_key_purpose *out)
{
	unsigned i;

	if (name == NULL)
		return false;
	for (i = 0; i < JG_KEY_PURPOSE_COUNT; i++)
		if (strcmp(name, purpose_names[i]) == 0) {
			*out = (enum jg_key_purpose)i;
			return true;
		}
	return false;
}

const char *
jg_key_state_name(enum jg_key_state state)
{
	if ((unsigned)state >= NSTATES)
		return NULL;
	return state_names[state];
}

static bool
state_from_name(const char *name, enum jg_key_state *out)
{
	unsigned i;

	for (i = 0; i < NSTATES; i++)
		if (strcmp(name, state_names[i]) == 0) {
			*out = (enum jg_key_state)i;
			return true;
		}
	return false;
}

bool
jg_keyring_alg_supported(enum jg_alg alg)
{
	return alg >= JG_ALG_RS256 && alg <= JG_ALG_EDDSA;
}

/* A kid names a file, so only the thumbprint alphabet is allowed: never a
 * "/" or a "..". */
static bool
kid_valid(const char *kid)
{
	size_t i;

	for (i = 0; kid[i] != '\0'; i++) {
		char c = kid[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
	}
	return i == KID_LEN;
}

static void
set_error(char **errmsg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
set_error(char **errmsg, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	int n;

	if (errmsg == NULL)
		return;
	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		msg = jg_xstrdup("keyring: out of memory");
	free(*errmsg);
	*errmsg = msg;
}

static char *
index_path(const char *dir)
{
	return jg_xasprintf("%s/%s", dir, JG_KEYRING_INDEX);
}

static char *
pem_path(const char *dir, const char *kid)
{
	return jg_xasprintf("%s/%s.pem", dir, kid);
}

/* Wipes the text of every string member of obj.  json-c gives no writable
 * access to a string's bytes, but they belong to obj, which the caller is
 * about to free, and they hold private key material. */
static void
wipe_json_strings(struct json_object *obj)
{
	json_object_object_foreach(obj, name, value) {
		(void)name;
		if (json_object_is_type(value, json_type_string))
			jg_wipe((void *)(uintptr_t)json_object_get_string(value),
				(size_t)json_object_get_string_len(value));
	}
}

/* Returns in *out a new copy of key (public part only, or with the private
 * part too) whose "alg" member is alg.  The jwk module sets alg only from a
 * JWK, so the copy goes through one. */
static enum jg_err
copy_with_alg(const struct jg_jwk *key, enum jg_alg alg, bool with_private,
	      struct jg_jwk **out)
{
	struct json_object *obj;
	enum jg_err err;
	const char *why;

	obj = jg_jwk_to_json(key, with_private);
	if (obj == NULL)
		return JG_ERR_SYSTEM;
	json_object_object_add(obj, "alg", json_object_new_string(jg_alg_name(alg)));
	err = jg_jwk_from_json(obj, out, &why);
	if (with_private)
		wipe_json_strings(obj);
	json_object_put(obj);
	return err;
}

static void
key_clear(struct jg_keyring_key *k)
{
	free(k->kid);
	jg_jwk_free(k->pub);
	jg_jwk_free(k->priv);
	memset(k, 0, sizeof(*k));
}

void
jg_keyring_free(struct jg_keyring *ring)
{
	size_t i;

	if (ring == NULL)
		return;
	for (i = 0; i < ring->count; i++)
		key_clear(&ring->keys[i]);
	free(ring->keys);
	jg_jwks_free(ring->public_set);
	free(ring->dir);
	free(ring);
}

struct jg_keyring *
jg_keyring_new(const char *key_dir)
{
	struct jg_keyring *ring = jg_xcalloc(1, sizeof(*ring));

	ring->dir = jg_xstrdup(key_dir);
	ring->public_set = jg_jwks_new();
	return ring;
}

/* Current first, then next, then previous. */
static int
state_rank(enum jg_key_state s)
{
	return s == JG_KEY_CURRENT ? 0 : s == JG_KEY_NEXT ? 1 : 2;
}

/* Among current keys (several ID keys of different algs): RS256, the
 * OpenID Connect default, first, then by enum jg_alg. */
static int
alg_rank(enum jg_alg alg)
{
	return alg == JG_ALG_RS256 ? -1 : (int)alg;
}

static int
key_order(const void *a, const void *b)
{
	const struct jg_keyring_key *x = a, *y = b;

	if (x->purpose != y->purpose)
		return x->purpose < y->purpose ? -1 : 1;
	if (state_rank(x->state) != state_rank(y->state))
		return state_rank(x->state) < state_rank(y->state) ? -1 : 1;
	if (x->state == JG_KEY_CURRENT && alg_rank(x->alg) != alg_rank(y->alg))
		return alg_rank(x->alg) < alg_rank(y->alg) ? -1 : 1;
	if (x->created != y->created)
		return x->created > y->created ? -1 : 1;
	return strcmp(x->kid, y->kid);
}

/* Sorts the keys and rebuilds the public set from them. */
static void
refresh(struct jg_keyring *ring)
{
	struct jg_jwks *set = jg_jwks_new();
	struct jg_jwk *copy;
	size_t i;

	if (ring->count > 1)
		qsort(ring->keys, ring->count, sizeof(ring->keys[0]), key_order);
	for (i = 0; i < ring->count; i++) {
		copy = jg_jwk_public(ring->keys[i].pub);
		if (copy != NULL)
			jg_jwks_add(set, copy);
	}
	jg_jwks_free(ring->public_set);
	ring->public_set = set;
}

static ssize_t
find_index(const struct jg_keyring *ring, const char *kid)
{
	size_t i;

	for (i = 0; i < ring->count; i++)
		if (strcmp(ring->keys[i].kid, kid) == 0)
			return (ssize_t)i;
	return -1;
}

const struct jg_keyring_key *
jg_keyring_find(const struct jg_keyring *ring, const char *kid)
{
	ssize_t i;

	if (ring == NULL || kid == NULL)
		return NULL;
	i = find_index(ring, kid);
	return i < 0 ? NULL : &ring->keys[i];
}

const struct jg_jwk *
jg_keyring_current(const struct jg_keyring *ring, enum jg_key_purpose purpose)
{
	size_t i;

	if (ring == NULL)
		return NULL;
	for (i = 0; i < ring->count; i++)
		if (ring->keys[i].purpose == purpose &&
		    ring->keys[i].state == JG_KEY_CURRENT)
			return ring->keys[i].priv;
	return NULL;
}

const struct jg_jwk *
jg_keyring_current_alg(const struct jg_keyring *ring, enum jg_key_purpose purpose,
		       enum jg_alg alg)
{
	size_t i;

	if (ring == NULL)
		return NULL;
	for (i = 0; i < ring->count; i++)
		if (ring->keys[i].purpose == purpose &&
		    ring->keys[i].state == JG_KEY_CURRENT && ring->keys[i].alg == alg)
			return ring->keys[i].priv;
	return NULL;
}

const struct jg_jwks *
jg_keyring_public_set(const struct jg_keyring *ring)
{
	return ring->public_set;
}

/* ---------------------------------------------------------------- loading */

struct file_id {
	bool exists;
	uint64_t dev, ino;
	int64_t mtime_sec, mtime_nsec;
};

static void
stat_id(const char *path, struct file_id *id)
{
	struct stat st;

	memset(id, 0, sizeof(*id));
	if (stat(path, &st) != 0)
		return;
	id->exists = true;
	id->dev = (uint64_t)st.st_dev;
	id->ino = (uint64_t)st.st_ino;
	id->mtime_sec = (int64_t)st.st_mtim.tv_sec;
	id->mtime_nsec = (int64_t)st.st_mtim.tv_nsec;
}

static bool
same_id(const struct file_id *a, const struct file_id *b)
{
	if (a->exists != b->exists)
		return false;
	return !a->exists || (a->dev == b->dev && a->ino == b->ino &&
			      a->mtime_sec == b->mtime_sec &&
			      a->mtime_nsec == b->mtime_nsec);
}

static void
remember_id(struct jg_keyring *ring, const struct file_id *id)
{
	ring->loaded_index = id->exists;
	ring->index_dev = id->dev;
	ring->index_ino = id->ino;
	ring->index_mtime_sec = id->mtime_sec;
	ring->index_mtime_nsec = id->mtime_nsec;
}

bool
jg_keyring_changed(const struct jg_keyring *ring)
{
	struct file_id now, then;
	char *path = index_path(ring->dir);

	stat_id(path, &now);
	free(path);
	then.exists = ring->loaded_index;
	then.dev = ring->index_dev;
	then.ino = ring->index_ino;
	then.mtime_sec = ring->index_mtime_sec;
	then.mtime_nsec = ring->index_mtime_nsec;
	return !same_id(&now, &then);
}

/* Reads KID.pem: the private key, checked against kid and alg.  Without
 * with_private, *out is its public part only, and the private part is not
 * checked against it (jg_jwk_public_from_pem): for the keys that do not
 * sign (next and previous), which spares every program's start an RSA
 * signature per such key. */
static enum jg_err
read_key(const char *dir, const char *kid, enum jg_alg alg, bool with_private,
	 struct jg_jwk **out, char **errmsg)
{
	char *path = pem_path(dir, kid), *text = NULL;
	struct jg_jwk *key = NULL;
	const char *why = NULL;
	enum jg_err err;
	size_t len = 0;

	err = jg_read_file(path, PEM_MAX, &text, &len);
	if (err == JG_ERR_NOT_FOUND || err == JG_ERR_SYSTEM) {
		set_error(errmsg, "%s: %s", path, strerror(errno));
		if (err == JG_ERR_NOT_FOUND)
			err = JG_ERR_MALFORMED;
		goto out;
	}
	if (err != JG_OK) {
		set_error(errmsg, "%s: larger than %d bytes", path, PEM_MAX);
		goto out;
	}
	if (with_private)
		err = jg_jwk_from_pem(text, len, &key, &why);
	else
		err = jg_jwk_public_from_pem(text, len, &key, &why);
	if (err != JG_OK) {
		set_error(errmsg, "%s: %s", path, why ? why : jg_strerror(err));
		goto out;
	}
	err = JG_ERR_MALFORMED;
	if (with_private && key->priv == NULL) {
		set_error(errmsg, "%s: not a private key", path);
		goto out;
	}
	if (key->kid == NULL || strcmp(key->kid, kid) != 0) {
		set_error(errmsg, "%s: holds another key (its thumbprint is not %s)",
			  path, kid);
		goto out;
	}
	if (!jg_jwk_usable(key, alg, with_private ? JG_KEYOP_SIGN : JG_KEYOP_VERIFY)) {
		set_error(errmsg, "%s: the key cannot sign %s", path, jg_alg_name(alg));
		goto out;
	}
	*out = key;
	key = NULL;
	err = JG_OK;
out:
	if (text) {
		jg_wipe(text, len);
		free(text);
	}
	jg_jwk_free(key);
	free(path);
	return err;
}

/* Fills k from one index entry (without its keys). */
static enum jg_err
parse_entry(const struct json_object *obj, struct jg_keyring_key *k, const char **why)
{
	const char *kid, *alg, *purpose, *state;
	int64_t created, rotated_at;

	if (!json_object_is_type(obj, json_type_object) ||
	    json_object_object_length(obj) != ENTRY_MEMBERS) {
		*why = "each key must be an object of exactly kid, alg, purpose,"
			" state, created and rotated_at";
		return JG_ERR_MALFORMED;
	}
	if (!jg_json_get_string(obj, "kid", &kid) || !kid_valid(kid)) {
		*why = "bad kid (want a 43-character RFC 7638 thumbprint)";
		return JG_ERR_MALFORMED;
	}
	if (!jg_json_get_string(obj, "alg", &alg)) {
		*why = "bad alg";
		return JG_ERR_MALFORMED;
	}
	k->alg = jg_alg_from_name(alg);
	if (!jg_keyring_alg_supported(k->alg)) {
		*why = "bad alg (want RS*, PS*, ES* or EdDSA)";
		return JG_ERR_MALFORMED;
	}
	if (!jg_json_get_string(obj, "purpose", &purpose) ||
	    !jg_key_purpose_from_name(purpose, &k->purpose)) {
		*why = "bad purpose (want access or id)";
		return JG_ERR_MALFORMED;
	}
	if (!jg_json_get_string(obj, "state", &state) ||
	    !state_from_name(state, &k->state)) {
		*why = "bad state (want next, current or previous)";
		return JG_ERR_MALFORMED;
	}
	if (!jg_json_get_int64(obj, "created", &created) || created < 0 ||
	    !jg_json_get_int64(obj, "rotated_at", &rotated_at) || rotated_at < 0) {
		*why = "created and rotated_at must be non-negative whole numbers";
		return JG_ERR_MALFORMED;
	}
	k->created = created;
	k->rotated_at = rotated_at;
	k->kid = jg_xstrdup(kid);
	return JG_OK;
}

/* One attempt at loading; *changed tells whether the index changed while
 * it was read (then the caller tries again). */
static enum jg_err
load_once(const char *dir, bool verify_only, struct jg_keyring **out, char **errmsg,
	  bool *changed)
{
	struct jg_keyring *ring = NULL;
	struct json_object *obj = NULL, *keys;
	struct file_id before, after;
	struct jg_jwk *key = NULL;
	char *path = index_path(dir), *text = NULL;
	/* Current keys seen: [purpose][alg]; one access key of any alg. */
	bool current[JG_KEY_PURPOSE_COUNT][JG_ALG_COUNT] = { { false } };
	const char *why = NULL;
	enum jg_err err;
	size_t len, i, n;

	*changed = false;
	stat_id(path, &before);
	err = jg_read_file(path, INDEX_MAX, &text, &len);
	if (err == JG_ERR_NOT_FOUND || err == JG_ERR_SYSTEM) {
		set_error(errmsg, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (err != JG_OK) {
		set_error(errmsg, "%s: larger than %d bytes", path, INDEX_MAX);
		goto out;
	}
	err = jg_json_parse_object(text, len, &obj, &why);
	if (err != JG_OK) {
		set_error(errmsg, "%s: %s", path, why ? why : "not a JSON object");
		goto out;
	}
	err = JG_ERR_MALFORMED;
	keys = jg_json_get(obj, "keys");
	if (json_object_object_length(obj) != 1 || keys == NULL ||
	    !json_object_is_type(keys, json_type_array)) {
		set_error(errmsg, "%s: want an object with only a \"keys\" array", path);
		goto out;
	}
	n = json_object_array_length(keys);
	if (n > JG_KEYRING_MAX_KEYS) {
		set_error(errmsg, "%s: more than %d keys", path, JG_KEYRING_MAX_KEYS);
		goto out;
	}
	ring = jg_keyring_new(dir);
	ring->keys = jg_xcalloc(n ? n : 1, sizeof(ring->keys[0]));
	for (i = 0; i < n; i++) {
		struct jg_keyring_key *k = &ring->keys[i];

		err = parse_entry(json_object_array_get_idx(keys, i), k, &why);
		if (err != JG_OK) {
			set_error(errmsg, "%s: key %zu: %s", path, i + 1, why);
			goto out;
		}
		ring->count = i + 1;
		err = JG_ERR_MALFORMED;
		if (find_index(ring, k->kid) != (ssize_t)i) {
			set_error(errmsg, "%s: key %s is listed twice", path, k->kid);
			goto out;
		}
		if (k->state == JG_KEY_CURRENT) {
			enum jg_alg slot = k->purpose == JG_KEY_ID ? k->alg : JG_ALG_UNKNOWN;

			if (current[k->purpose][slot]) {
				set_error(errmsg, "%s: more than one current %s key%s%s", path,
					  purpose_names[k->purpose],
					  k->purpose == JG_KEY_ID ? " of " : "",
					  k->purpose == JG_KEY_ID ? jg_alg_name(k->alg) : "");
				goto out;
			}
			current[k->purpose][slot] = true;
		}
		err = read_key(dir, k->kid, k->alg,
			       !verify_only && k->state == JG_KEY_CURRENT, &key, errmsg);
		if (err != JG_OK) {
			/* A retire between reading the index and the key. */
			stat_id(path, &after);
			*changed = !same_id(&before, &after);
			goto out;
		}
		/* The key read is used as it is (its private part checked
		 * once, by read_key), with alg set; the public copy is made
		 * from its public key. */
		err = jg_jwk_set_alg(key, k->alg);
		if (err == JG_OK && key->priv != NULL) {
			k->pub = jg_jwk_public(key);
			if (k->pub == NULL)
				err = JG_ERR_SYSTEM;
			else {
				k->priv = key;
				key = NULL;
			}
		} else if (err == JG_OK) {
			k->pub = key;
			key = NULL;
		}
		jg_jwk_free(key);
		key = NULL;
		if (err != JG_OK) {
			set_error(errmsg, "%s: cannot use key %s: %s", path, k->kid,
				  jg_strerror(err));
			goto out;
		}
	}
	stat_id(path, &after);
	if (!same_id(&before, &after)) {
		*changed = true;
		set_error(errmsg, "%s: changed while it was read", path);
		err = JG_ERR_SYSTEM;
		goto out;
	}
	remember_id(ring, &after);
	refresh(ring);
	*out = ring;
	ring = NULL;
	err = JG_OK;
out:
	jg_keyring_free(ring);
	json_object_put(obj);
	free(text);
	free(path);
	return err;
}

static enum jg_err
load(const char *key_dir, bool verify_only, struct jg_keyring **out, char **errmsg)
{
	enum jg_err err = JG_ERR_SYSTEM;
	bool changed = true;
	int attempt;

	if (errmsg)
		*errmsg = NULL;
	if (key_dir == NULL || out == NULL) {
		set_error(errmsg, "keyring: bad arguments");
		return JG_ERR_MALFORMED;
	}
	for (attempt = 0; attempt < LOAD_ATTEMPTS && changed; attempt++) {
		if (errmsg) {
			free(*errmsg);
			*errmsg = NULL;
		}
		err = load_once(key_dir, verify_only, out, errmsg, &changed);
	}
	return err;
}

enum jg_err
jg_keyring_load(const char *key_dir, struct jg_keyring **out, char **errmsg)
{
	return load(key_dir, false, out, errmsg);
}

enum jg_err
jg_keyring_load_public(const char *key_dir, struct jg_keyring **out, char **errmsg)
{
	return load(key_dir, true, out, errmsg);
}

/* ---------------------------------------------------------------- changing */

enum jg_err
jg_keyring_lock(const char *key_dir, unsigned timeout_ms, int *fd)
{
	char *path = jg_xasprintf("%s/.lock", key_dir);
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	unsigned waited = 0;
	int f, saved;

	f = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	saved = errno;
	free(path);
	if (f < 0) {
		errno = saved;
		return JG_ERR_SYSTEM;
	}
	while (flock(f, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK || waited >= timeout_ms) {
			saved = errno;
			close(f);
			errno = saved;
			return saved == EWOULDBLOCK ? JG_ERR_BUSY : JG_ERR_SYSTEM;
		}
		nanosleep(&pause, NULL);
		waited += 20;
	}
	*fd = f;
	return JG_OK;
}

void
jg_keyring_unlock(int fd)
{
	if (fd < 0)
		return;
	(void)flock(fd, LOCK_UN);
	close(fd);
}

/* Writes the index from ring (atomically) and remembers its identity. */
static enum jg_err
save_index(struct jg_keyring *ring, char **errmsg)
{
	struct json_object *obj = json_object_new_object(), *arr = json_object_new_array();
	struct file_id id;
	char *path = index_path(ring->dir), *text;
	enum jg_err err;
	size_t i;

	json_object_object_add(obj, "keys", arr);
	for (i = 0; i < ring->count; i++) {
		const struct jg_keyring_key *k = &ring->keys[i];
		struct json_object *e = json_object_new_object();

		json_object_object_add(e, "kid", json_object_new_string(k->kid));
		json_object_object_add(e, "alg", json_object_new_string(jg_alg_name(k->alg)));
		json_object_object_add(e, "purpose",
				       json_object_new_string(purpose_names[k->purpose]));
		json_object_object_add(e, "state",
				       json_object_new_string(state_names[k->state]));
		json_object_object_add(e, "created", json_object_new_int64(k->created));
		json_object_object_add(e, "rotated_at", json_object_new_int64(k->rotated_at));
		json_object_array_add(arr, e);
	}
	text = jg_xasprintf("%s\n", json_object_to_json_string_ext(obj,
		JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(obj);
	err = jg_write_file_atomic(path, text, strlen(text), 0600);
	if (err != JG_OK)
		set_error(errmsg, "cannot write %s: %s", path, strerror(errno));
	else {
		stat_id(path, &id);
		remember_id(ring, &id);
	}
	free(text);
	free(path);
	return err;
}

/* Generates a key and adds it as next; *index_out is its place after the
 * ring was sorted again. */
static enum jg_err
generate(struct jg_keyring *ring, enum jg_alg alg, enum jg_key_purpose purpose,
	 int64_t now, size_t *index_out, char **errmsg)
{
	struct jg_keyring_key *k;
	struct jg_jwk *key = NULL;
	char *pem = NULL, *path = NULL, *kid;
	enum jg_err err;
	ssize_t i;

	if (!jg_keyring_alg_supported(alg) || (unsigned)purpose >= JG_KEY_PURPOSE_COUNT) {
		set_error(errmsg, "keyring: a key of %s for %s is not supported",
			  jg_alg_name(alg) ? jg_alg_name(alg) : "an unknown algorithm",
			  jg_key_purpose_name(purpose) ? jg_key_purpose_name(purpose) :
			  "an unknown purpose");
		return JG_ERR_MALFORMED;
	}
	if (ring->count >= JG_KEYRING_MAX_KEYS) {
		set_error(errmsg, "%s: already %d keys; retire some first", ring->dir,
			  JG_KEYRING_MAX_KEYS);
		return JG_ERR_DENIED;
	}
	err = jg_jwk_generate(alg, 0, &key);
	if (err != JG_OK) {
		set_error(errmsg, "cannot generate a %s key: %s", jg_alg_name(alg),
			  jg_strerror(err));
		goto out;
	}
	err = JG_ERR_SYSTEM;
	if (key->kid == NULL || !kid_valid(key->kid) || find_index(ring, key->kid) >= 0) {
		set_error(errmsg, "cannot generate a %s key: bad or repeated kid",
			  jg_alg_name(alg));
		goto out;
	}
	err = jg_jwk_to_pem(key, true, &pem);
	if (err != JG_OK) {
		set_error(errmsg, "cannot export the %s key: %s", jg_alg_name(alg),
			  jg_strerror(err));
		goto out;
	}
	path = pem_path(ring->dir, key->kid);
	err = jg_write_file_atomic(path, pem, strlen(pem), 0600);
	if (err != JG_OK) {
		set_error(errmsg, "cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	ring->keys = jg_xrealloc(ring->keys, (ring->count + 1) * sizeof(ring->keys[0]));
	k = &ring->keys[ring->count];
	memset(k, 0, sizeof(*k));
	k->kid = jg_xstrdup(key->kid);
	k->alg = alg;
	k->purpose = purpose;
	k->state = JG_KEY_NEXT;
	k->created = now;
	k->rotated_at = 0;
	k->pub = jg_jwk_public(key);	/* jg_jwk_generate set its alg */
	if (k->pub == NULL) {
		key_clear(k);
		unlink(path);
		set_error(errmsg, "cannot use the new %s key", jg_alg_name(alg));
		err = JG_ERR_SYSTEM;
		goto out;
	}
	ring->count++;
	err = save_index(ring, errmsg);
	if (err != JG_OK) {
		ring->count--;
		key_clear(&ring->keys[ring->count]);
		unlink(path);
		goto out;
	}
	kid = jg_xstrdup(key->kid);
	refresh(ring);
	i = find_index(ring, kid);
	free(kid);
	*index_out = (size_t)i;
out:
	free(path);
	jg_free_secret(pem);
	jg_jwk_free(key);
	return err;
}

enum jg_err
jg_keyring_generate(struct jg_keyring *ring, enum jg_alg alg,
		    enum jg_key_purpose purpose, int64_t now,
		    const char **kid_out, char **errmsg)
{
	enum jg_err err;
	size_t i;

	if (errmsg)
		*errmsg = NULL;
	if (ring == NULL)
		return JG_ERR_MALFORMED;
	err = generate(ring, alg, purpose, now, &i, errmsg);
	if (err == JG_OK && kid_out)
		*kid_out = ring->keys[i].kid;
	return err;
}

enum jg_err
jg_keyring_rotate(struct jg_keyring *ring, enum jg_key_purpose purpose,
		  enum jg_alg alg, enum jg_alg default_alg, int64_t now,
		  const char **kid_out, char **errmsg)
{
	struct jg_keyring_key *next = NULL, *old = NULL;
	struct jg_keyring_key saved_next, saved_old;
	struct jg_jwk *key = NULL, *priv = NULL;
	enum jg_err err;
	char *kid = NULL;
	size_t i;

	if (errmsg)
		*errmsg = NULL;
	if (ring == NULL || (unsigned)purpose >= JG_KEY_PURPOSE_COUNT)
		return JG_ERR_MALFORMED;
	/* The keys are sorted newest first within a state. */
	for (i = 0; i < ring->count; i++) {
		struct jg_keyring_key *k = &ring->keys[i];

		if (k->purpose == purpose && k->state == JG_KEY_NEXT &&
		    (alg == JG_ALG_UNKNOWN || k->alg == alg)) {
			next = k;
			break;
		}
	}
	if (next == NULL) {
		err = generate(ring, alg != JG_ALG_UNKNOWN ? alg : default_alg, purpose,
			       now, &i, errmsg);
		if (err != JG_OK)
			return err;
		next = &ring->keys[i];
	}
	err = read_key(ring->dir, next->kid, next->alg, true, &key, errmsg);
	if (err == JG_OK)
		err = copy_with_alg(key, next->alg, true, &priv);
	jg_jwk_free(key);
	if (err != JG_OK) {
		if (errmsg && *errmsg == NULL)
			set_error(errmsg, "cannot use key %s: %s", next->kid, jg_strerror(err));
		return err;
	}
	/* The key it replaces: the current access key, or the current ID key
	 * of the same alg (ID keys of other algs keep signing). */
	for (i = 0; i < ring->count; i++)
		if (ring->keys[i].purpose == purpose &&
		    ring->keys[i].state == JG_KEY_CURRENT &&
		    (purpose != JG_KEY_ID || ring->keys[i].alg == next->alg))
			old = &ring->keys[i];
	saved_next = *next;
	next->state = JG_KEY_CURRENT;
	next->rotated_at = now;
	next->priv = priv;
	if (old) {
		saved_old = *old;
		old->state = JG_KEY_PREVIOUS;
		old->rotated_at = now;
	}
	err = save_index(ring, errmsg);
	if (err != JG_OK) {
		*next = saved_next;
		if (old)
			*old = saved_old;
		jg_jwk_free(priv);
		return err;
	}
	if (old) {
		jg_jwk_free(old->priv);
		old->priv = NULL;
	}
	kid = jg_xstrdup(next->kid);
	refresh(ring);
	if (kid_out)
		*kid_out = ring->keys[find_index(ring, kid)].kid;
	free(kid);
	return JG_OK;
}

enum jg_err
jg_keyring_retire(struct jg_keyring *ring, const char *kid, int64_t now,
		  int64_t max_token_age, bool force, int64_t *retire_after,
		  char **errmsg)
{
	struct jg_keyring_key gone;
	enum jg_err err;
	int64_t after;
	ssize_t i;
	char *path;

	if (errmsg)
		*errmsg = NULL;
	if (ring == NULL || kid == NULL || max_token_age < 0)
		return JG_ERR_MALFORMED;
	i = find_index(ring, kid);
	if (i < 0) {
		set_error(errmsg, "no key %s in %s", kid, ring->dir);
		return JG_ERR_NOT_FOUND;
	}
	switch (ring->keys[i].state) {
	case JG_KEY_CURRENT:
		set_error(errmsg, "key %s is the current %s key; rotate first", kid,
			  purpose_names[ring->keys[i].purpose]);
		return JG_ERR_DENIED;
	case JG_KEY_PREVIOUS:
		if (__builtin_add_overflow(ring->keys[i].rotated_at, max_token_age, &after))
			after = INT64_MAX;
		if (!force && now < after) {
			if (retire_after)
				*retire_after = after;
			set_error(errmsg, "tokens signed by key %s may be valid for %lld"
				  " more seconds", kid, (long long)(after - now));
			return JG_ERR_DENIED;
		}
		break;
	case JG_KEY_NEXT:
		break;
	}
	gone = ring->keys[i];
	memmove(&ring->keys[i], &ring->keys[i + 1],
		(ring->count - (size_t)i - 1) * sizeof(ring->keys[0]));
	ring->count--;
	err = save_index(ring, errmsg);
	if (err != JG_OK) {
		ring->keys[ring->count++] = gone;
		refresh(ring);
		return err;
	}
	/* The index no longer names the file; a leftover file would be
	 * harmless, so a failure to remove it is not an error. */
	path = pem_path(ring->dir, gone.kid);
	(void)unlink(path);
	free(path);
	key_clear(&gone);
	refresh(ring);
	return JG_OK;
}

/* ---------------------------------------------------------------- publishing */

struct json_object *
jg_keyring_jwks_json(const struct jg_keyring *ring)
{
	struct json_object *obj = json_object_new_object(), *arr = json_object_new_array();
	size_t i;

	json_object_object_add(obj, "keys", arr);
	for (i = 0; i < ring->count; i++) {
		struct json_object *k = jg_jwk_to_json(ring->keys[i].pub, false);

		if (k == NULL)
			continue;
		if (jg_json_get(k, "use") == NULL && jg_json_get(k, "key_ops") == NULL)
			json_object_object_add(k, "use", json_object_new_string("sig"));
		json_object_array_add(arr, k);
	}
	return obj;
}

static struct json_object *
string_array(const char *const *items, size_t n)
{
	struct json_object *arr = json_object_new_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_object_array_add(arr, json_object_new_string(items[i]));
	return arr;
}

#define ARRAY(...) string_array((const char *const[]){ __VA_ARGS__ }, \
	sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *))

struct json_object *
jg_keyring_discovery_json(const struct jg_config *config, const struct jg_keyring *ring)
{
	static const struct {
		const char *member, *path;
	} endpoints[] = {
		{ "authorization_endpoint", "/oauth/authorize" },
		{ "token_endpoint", "/oauth/token" },
		{ "userinfo_endpoint", "/oauth/userinfo" },
		{ "jwks_uri", "/.well-known/jwks.json" },
		{ "revocation_endpoint", "/oauth/revoke" },
		{ "introspection_endpoint", "/oauth/introspect" },
		{ "end_session_endpoint", "/oauth/logout" },
	};
	struct json_object *obj = json_object_new_object(), *algs;
	bool seen[JG_ALG_COUNT] = { false };
	size_t i, base_len;
	char *url;

	/* Endpoints go below the issuer's path; an issuer ending in "/" must
	 * not give "//". */
	base_len = strlen(config->issuer);
	if (base_len > 0 && config->issuer[base_len - 1] == '/')
		base_len--;
	json_object_object_add(obj, "issuer", json_object_new_string(config->issuer));
	for (i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]); i++) {
		url = jg_xasprintf("%.*s%s", (int)base_len, config->issuer, endpoints[i].path);
		json_object_object_add(obj, endpoints[i].member, json_object_new_string(url));
		free(url);
	}
	json_object_object_add(obj, "response_types_supported", ARRAY("code"));
	json_object_object_add(obj, "response_modes_supported", ARRAY("query"));
	json_object_object_add(obj, "grant_types_supported",
			       ARRAY("authorization_code", "refresh_token",
				     "client_credentials"));
	json_object_object_add(obj, "subject_types_supported", ARRAY("public"));

	/* Only current ID keys sign (one per alg, RS256 first in the ring's
	 * order): a next key's algorithm is not offered until it is rotated
	 * in, and a previous one no more. */
	algs = json_object_new_array();
	for (i = 0; ring != NULL && i < ring->count; i++) {
		enum jg_alg a = ring->keys[i].alg;

		if (ring->keys[i].purpose != JG_KEY_ID ||
		    ring->keys[i].state != JG_KEY_CURRENT || seen[a])
			continue;
		seen[a] = true;
		json_object_array_add(algs, json_object_new_string(jg_alg_name(a)));
	}
	if (json_object_array_length(algs) == 0)
		json_object_array_add(algs,
				      json_object_new_string(jg_alg_name(config->id_token_alg)));
	json_object_object_add(obj, "id_token_signing_alg_values_supported", algs);

	json_object_object_add(obj, "token_endpoint_auth_methods_supported",
			       ARRAY("client_secret_basic", "client_secret_post", "none"));
	/* RFC 7009 section 5: a public client revokes its own tokens. */
	json_object_object_add(obj, "revocation_endpoint_auth_methods_supported",
			       ARRAY("client_secret_basic", "client_secret_post", "none"));
	json_object_object_add(obj, "introspection_endpoint_auth_methods_supported",
			       ARRAY("client_secret_basic", "client_secret_post"));
	json_object_object_add(obj, "code_challenge_methods_supported", ARRAY("S256"));
	json_object_object_add(obj, "scopes_supported",
			       ARRAY("openid", "profile", "email", "address", "phone",
				     "offline_access"));
	json_object_object_add(obj, "claims_supported",
			       ARRAY("sub", "iss", "aud", "exp", "iat", "auth_time",
				     "nonce", "name", "given_name", "family_name",
				     "email", "email_verified", "phone_number",
				     "address"));
	json_object_object_add(obj, "authorization_response_iss_parameter_supported",
			       json_object_new_boolean(1));
	json_object_object_add(obj, "request_parameter_supported",
			       json_object_new_boolean(0));
	json_object_object_add(obj, "request_uri_parameter_supported",
			       json_object_new_boolean(0));
	return obj;
}

/* Makes path and its parents up to an existing folder, with mode.  Returns
 * 0, or -1 with errno set. */
static int
make_folders(const char *path, mode_t mode)
{
	char *copy = jg_xstrdup(path), *p, c;
	struct stat st;
	int rc = 0;

	for (p = copy + 1; rc == 0; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		c = *p;
		*p = '\0';
		if (mkdir(copy, mode) != 0 && errno != EEXIST)
			rc = -1;
		*p = c;
		if (c == '\0')
			break;
	}
	if (rc == 0) {
		if (stat(path, &st) != 0) {
			rc = -1;
		} else if (!S_ISDIR(st.st_mode)) {
			errno = ENOTDIR;
			rc = -1;
		}
	}
	free(copy);
	return rc;
}

static enum jg_err
write_json(const char *path, struct json_object *obj, char **errmsg)
{
	char *text = jg_xasprintf("%s\n", json_object_to_json_string_ext(obj,
		JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	enum jg_err err;

	err = jg_write_file_atomic(path, text, strlen(text), 0644);
	if (err != JG_OK)
		set_error(errmsg, "cannot write %s: %s", path, strerror(errno));
	free(text);
	return err;
}

enum jg_err
jg_keyring_publish(const struct jg_config *config, const struct jg_keyring *ring,
		   char **errmsg)
{
	struct json_object *obj;
	char *folder, *path;
	enum jg_err err;

	if (errmsg)
		*errmsg = NULL;
	folder = jg_xasprintf("%s/.well-known", config->htdocs);
	if (make_folders(folder, 0755) != 0) {
		set_error(errmsg, "cannot create %s: %s", folder, strerror(errno));
		free(folder);
		return JG_ERR_SYSTEM;
	}
	obj = jg_keyring_jwks_json(ring);
	path = jg_xasprintf("%s/jwks.json", folder);
	err = write_json(path, obj, errmsg);
	json_object_put(obj);
	free(path);
	if (err == JG_OK) {
		obj = jg_keyring_discovery_json(config, ring);
		path = jg_xasprintf("%s/openid-configuration", folder);
		err = write_json(path, obj, errmsg);
		json_object_put(obj);
		free(path);
	}
	free(folder);
	return err;
}
