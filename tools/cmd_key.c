/* cmd_key.c: "jwtgate key": signing keys (generate; the keyring commands
 * are in tools/cmd_keyring.c). */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin.h"
#include "cli.h"
#include "json.h"
#include "jwk.h"

static const char generate_usage[] =
"usage: jwtgate key generate --alg ALG --out FILE [--bits N] [--force]\n"
"\n"
"Generates a new signing key for ALG and writes it to FILE, atomically and\n"
"with mode 0600: a PKCS#8 PEM private key, or for HS256/HS384/HS512 a JWK\n"
"holding the secret (PEM cannot hold one).  Prints the public JWK on\n"
"standard output, with \"kid\" (its RFC 7638 thumbprint), \"alg\" and\n"
"\"use\":\"sig\"; for HS* only {\"kty\":\"oct\",\"kid\":...,\"alg\":...}, never the\n"
"secret.\n"
"\n"
"options:\n"
"  --alg ALG    HS256 HS384 HS512 RS256 RS384 RS512 PS256 PS384 PS512\n"
"               ES256 ES384 ES512 EdDSA\n"
"  --out FILE   where to write the key; an existing FILE is left alone\n"
"  --bits N     RSA modulus size for RS* and PS*: 2048 (default) to 16384\n"
"  --force      replace an existing FILE\n"
"  --help       print this help\n"
"\n"
"exit status: 0 written, 1 not written (FILE exists, I/O error),\n"
"2 usage error.\n";

#define KEY_MAX_RSA_BITS 16384

enum {
	OPT_ALG = 256,
	OPT_OUT,
	OPT_BITS,
	OPT_FORCE
};

static const struct option generate_options[] = {
	{ "alg", required_argument, NULL, OPT_ALG },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "bits", required_argument, NULL, OPT_BITS },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static bool
alg_is_rsa(enum jg_alg alg)
{
	return alg >= JG_ALG_RS256 && alg <= JG_ALG_PS512;
}

/* Returns the text written to the key file (caller frees with
 * jg_free_secret) and the object printed on stdout (caller puts). */
static enum jg_err
key_texts(const struct jg_jwk *key, char **file_text,
	  struct json_object **public_jwk)
{
	struct json_object *obj;
	enum jg_err err;
	char *text;

	if (key->kty == JG_KTY_OCT) {
		obj = jg_jwk_to_json(key, true);
		if (jg_json_get(obj, "use") == NULL)
			json_object_object_add(obj, "use", json_object_new_string("sig"));
		text = jg_json_dump(obj);
		json_object_put(obj);
		*file_text = jg_xasprintf("%s\n", text);
		jg_free_secret(text);
		/* Only what names the key: the secret stays in the file. */
		obj = json_object_new_object();
		json_object_object_add(obj, "kty", json_object_new_string("oct"));
		json_object_object_add(obj, "kid", json_object_new_string(key->kid));
		json_object_object_add(obj, "alg",
				       json_object_new_string(jg_alg_name(key->alg)));
		*public_jwk = obj;
		return JG_OK;
	}
	err = jg_jwk_to_pem(key, true, file_text);
	if (err != JG_OK)
		return err;
	obj = jg_jwk_to_json(key, false);
	if (jg_json_get(obj, "use") == NULL)
		json_object_object_add(obj, "use", json_object_new_string("sig"));
	*public_jwk = obj;
	return JG_OK;
}

static int
key_generate(int argc, char **argv)
{
	const char *out = NULL;
	enum jg_alg alg = JG_ALG_UNKNOWN;
	struct json_object *public_jwk = NULL;
	struct jg_jwk *key = NULL;
	char *file_text = NULL, *printed = NULL;
	bool force = false, have_bits = false;
	int64_t bits = 0;
	struct stat st;
	enum jg_err err;
	int c, status;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", generate_options, NULL)) != -1) {
		switch (c) {
		case 'h':
			return jg_cli_help(generate_usage);
		case OPT_ALG:
			alg = jg_alg_from_name(optarg);
			if (alg == JG_ALG_UNKNOWN)
				return jg_cli_usage_error("key generate",
							  "unknown algorithm '%s'", optarg);
			break;
		case OPT_OUT:
			out = optarg;
			break;
		case OPT_BITS:
			if (!jg_cli_parse_int64(optarg, JG_RSA_MIN_BITS,
						KEY_MAX_RSA_BITS, &bits))
				return jg_cli_usage_error("key generate",
							  "--bits must be a number from %d to %d",
							  JG_RSA_MIN_BITS, KEY_MAX_RSA_BITS);
			have_bits = true;
			break;
		case OPT_FORCE:
			force = true;
			break;
		default:
			return jg_cli_option_error("key generate", c, argv);
		}
	}
	if (optind < argc)
		return jg_cli_usage_error("key generate", "unexpected argument '%s'",
					  argv[optind]);
	if (alg == JG_ALG_UNKNOWN)
		return jg_cli_usage_error("key generate", "--alg is required");
	if (out == NULL || out[0] == '\0')
		return jg_cli_usage_error("key generate", "--out is required");
	if (have_bits && !alg_is_rsa(alg))
		return jg_cli_usage_error("key generate",
					  "--bits applies to RS* and PS* keys only");

	/* Checked before the (slow) generation; the write itself replaces
	 * whatever is there by then. */
	if (!force) {
		if (lstat(out, &st) == 0) {
			jg_cli_error("%s exists; use --force to replace it", out);
			return JG_EXIT_REJECTED;
		}
		if (errno != ENOENT) {
			jg_cli_error("cannot write %s: %s", out, strerror(errno));
			return JG_EXIT_REJECTED;
		}
	}

	status = JG_EXIT_REJECTED;
	err = jg_jwk_generate(alg, (unsigned)bits, &key);
	if (err != JG_OK) {
		jg_cli_error("cannot generate a %s key: %s", jg_alg_name(alg),
			     jg_strerror(err));
		goto out;
	}
	err = key_texts(key, &file_text, &public_jwk);
	if (err != JG_OK) {
		jg_cli_error("cannot export the %s key: %s", jg_alg_name(alg),
			     jg_strerror(err));
		goto out;
	}
	if (jg_write_file_atomic(out, file_text, strlen(file_text), 0600) != JG_OK) {
		jg_cli_error("cannot write %s: %s", out, strerror(errno));
		goto out;
	}
	printed = jg_json_dump(public_jwk);
	printf("%s\n", printed);
	status = JG_EXIT_OK;
out:
	free(printed);
	json_object_put(public_jwk);
	jg_free_secret(file_text);
	jg_jwk_free(key);
	return status;
}

/* "key generate --out FILE" writes a key file.  Without --out, and with an
 * instance to work on (--config, $JWTGATE_CONF, or the default
 * configuration file exists), the key joins the instance's keyring
 * (tools/cmd_keyring.c, whose --help describes both forms); with no
 * instance, --out is simply missing. */
static int
key_generate_either(int argc, char **argv)
{
	if (jg_admin_has_option(argc, argv, "out"))
		return key_generate(argc, argv);
	if (jg_admin_has_option(argc, argv, "help") || jg_admin_instance_named(argc, argv))
		return jg_cmd_key_generate_instance(argc, argv);
	return key_generate(argc, argv);
}

/* The subcommands of "jwtgate key". */
static const struct jg_cli_command key_commands[] = {
	{ "generate", key_generate_either,
	  "generate a signing key (a file, or a next key of the keyring)" },
	{ "rotate", jg_cmd_key_rotate, "make a new signing key current" },
	{ "list", jg_cmd_key_list, "list the keys of the keyring" },
	{ "retire", jg_cmd_key_retire, "remove an old key once its tokens expired" },
	{ "publish", jg_cmd_key_publish, "rewrite jwks.json and openid-configuration" },
	{ NULL, NULL, NULL }
};

int
jg_cmd_key(int argc, char **argv)
{
	return jg_cli_dispatch("key", key_commands, argc, argv);
}
