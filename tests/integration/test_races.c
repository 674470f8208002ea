/* test_races.c: issue 9 point 5 through a real lighttpd running token.fcgi
 * in four processes: 200 simultaneous redemptions of one authorization
 * code: exactly one wins the store's atomic redemption and at most one
 * gets a 200 (RFC 6749 section 4.1.2: a code is used once; see
 * test_code_race for why the winner may lose its 200 to the replay rule),
 * and 100 simultaneous refreshes of one refresh token give exactly one
 * success, after which the family is revoked as the store's policy says
 * (RFC 9700 section 4.14.2: reuse of a rotated token revokes the family),
 * so every refresh token of it is refused. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>

#include "instance.h"
#include "testutil.h"
#include "conf.h"
#include "json.h"
#include "store.h"
#include "util.h"

#define WEB_CB_ENC "https%3A%2F%2Fapp.example%2Fcb"
#define CODE_BODY(code) "grant_type=authorization_code&code=" code \
	"&redirect_uri=" WEB_CB_ENC "&code_verifier=" JG_INST_VERIFIER

static struct jg_inst in;

static const char *
form_headers_slot(const char *auth, const char **h)
{
	h[0] = auth;
	h[1] = "Content-Type: application/x-www-form-urlencoded";
	h[2] = NULL;
	return h[0];
}

/* The string member key of a JSON body (new), or NULL. */
static char *
json_member(const char *body, const char *key)
{
	struct json_object *o = NULL;
	const char *v = NULL;
	char *out = NULL;

	if (body != NULL &&
	    jg_json_parse_object(body, strlen(body), &o, NULL) == JG_OK &&
	    jg_json_get_string(o, key, &v))
		out = jg_xstrdup(v);
	json_object_put(o);
	return out;
}

/* POSTs body to the token endpoint as client web once; returns the status
 * and the body (new) in *out. */
static long
token_once(const char *body, char **out)
{
	const char *h[3];
	long status;
	char *url = jg_inst_url(&in, "/oauth/token"), *b = NULL;

	form_headers_slot(in.b_web, h);
	jg_inst_parallel(url, h, body, 1, &status, &b, NULL);
	free(url);
	*out = b;
	return status;
}

static void
test_start(void)
{
	CU_ASSERT_FATAL(jg_inst_setup(&in, NULL));
	CU_ASSERT_FATAL(jg_inst_start(&in, 4));
}

static void
test_code_race(void)
{
	enum { N = 200 };
	long statuses[N];
	char *bodies[N], *rt = NULL, *url, *b = NULL, *body;
	const char *h[3];
	size_t i, ok = 0, refused = 0;
	long families = jg_inst_count(&in, "SELECT count(*) FROM families");

	CU_ASSERT_FATAL(jg_inst_put_code(&in, "race-code-0123456789abcdef", "web",
					 JG_INST_WEB_CB, "openid offline_access",
					 JG_INST_CHALLENGE));
	url = jg_inst_url(&in, "/oauth/token");
	form_headers_slot(in.b_web, h);
	jg_inst_parallel(url, h, CODE_BODY("race-code-0123456789abcdef"), N,
			 statuses, bodies, NULL);
	for (i = 0; i < N; i++) {
		char *err = json_member(bodies[i], "error");

		if (statuses[i] == 200) {
			ok++;
			rt = json_member(bodies[i], "refresh_token");
		} else if (statuses[i] == 400 && err && strcmp(err, "invalid_grant") == 0) {
			refused++;
		} else {
			fprintf(stderr, "code race: request %zu: %ld %s\n", i, statuses[i],
				bodies[i] ? bodies[i] : "");
		}
		free(err);
		free(bodies[i]);
	}
	/* Exactly one redemption won: it started exactly one refresh family.
	 * Its 200 can be lost only to the replay policy: a loser that reached
	 * the store before the winner recorded what it issued makes the winner
	 * revoke its tokens and answer invalid_grant (common/token.c, RFC 6749
	 * section 4.1.2), so there is at most one 200, never two, and no other
	 * status. */
	CU_ASSERT_EQUAL(jg_inst_count(&in, "SELECT count(*) FROM families") - families, 1);
	fprintf(stderr, "code race: %zu answered 200, %zu invalid_grant\n", ok, refused);
	CU_ASSERT(ok <= 1);
	CU_ASSERT_EQUAL(ok + refused, N);
	if (ok == 0) {
		fprintf(stderr, "code race: the winner lost its tokens to a replay\n");
		CU_ASSERT(jg_it_log_contains(in.lt, "authorization code presented again"));
		CU_ASSERT_EQUAL(jg_inst_count(&in, "SELECT count(*) FROM families "
					      "WHERE revoked_at IS NULL"), 0);
	}
	CU_ASSERT(ok == 0 || rt != NULL);
	/* One more replay, certainly after the winner's answer: what the code
	 * issued is revoked (RFC 6749 section 4.1.2). */
	CU_ASSERT_EQUAL(token_once(CODE_BODY("race-code-0123456789abcdef"), &b), 400);
	free(b);
	body = jg_xasprintf("grant_type=refresh_token&refresh_token=%s", rt ? rt : "x");
	CU_ASSERT_EQUAL(token_once(body, &b), 400);
	free(b);
	free(body);
	free(rt);
	free(url);
	CU_ASSERT(jg_inst_integrity_ok(in.config->database));
}

static void
test_refresh_race(void)
{
	enum { N = 100 };
	long statuses[N];
	char *bodies[N], *rt, *fresh = NULL, *url, *b = NULL, *body;
	const char *h[3];
	struct jg_refresh *row = NULL;
	size_t i, ok = 0, refused = 0;

	CU_ASSERT_FATAL(jg_inst_put_code(&in, "race-code-2-0123456789abcd", "web",
					 JG_INST_WEB_CB, "openid offline_access",
					 JG_INST_CHALLENGE));
	CU_ASSERT_EQUAL_FATAL(token_once(CODE_BODY("race-code-2-0123456789abcd"), &b), 200);
	rt = json_member(b, "refresh_token");
	free(b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rt);

	url = jg_inst_url(&in, "/oauth/token");
	form_headers_slot(in.b_web, h);
	body = jg_xasprintf("grant_type=refresh_token&refresh_token=%s", rt);
	jg_inst_parallel(url, h, body, N, statuses, bodies, NULL);
	for (i = 0; i < N; i++) {
		char *err = json_member(bodies[i], "error");

		if (statuses[i] == 200) {
			ok++;
			free(fresh);
			fresh = json_member(bodies[i], "refresh_token");
		} else if (statuses[i] == 400 && err && strcmp(err, "invalid_grant") == 0) {
			refused++;
		} else {
			fprintf(stderr, "refresh race: request %zu: %ld %s\n", i, statuses[i],
				bodies[i] ? bodies[i] : "");
		}
		free(err);
		free(bodies[i]);
	}
	CU_ASSERT_EQUAL(ok, 1);
	CU_ASSERT_EQUAL(refused, N - 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fresh);
	CU_ASSERT(strcmp(fresh, rt) != 0);

	/* The 99 losers presented a rotated token: the family is revoked, so
	 * the winner's new token and the old one are both refused. */
	CU_ASSERT_EQUAL(jg_store_refresh_lookup(in.store, rt, time(NULL), &row), JG_OK);
	CU_ASSERT(row != NULL && row->revoked_at != 0 && !row->active);
	jg_refresh_free(row);
	row = NULL;
	CU_ASSERT_EQUAL(jg_store_refresh_lookup(in.store, fresh, time(NULL), &row), JG_OK);
	CU_ASSERT(row != NULL && row->revoked_at != 0 && !row->active);
	jg_refresh_free(row);
	free(body);
	body = jg_xasprintf("grant_type=refresh_token&refresh_token=%s", fresh);
	CU_ASSERT_EQUAL(token_once(body, &b), 400);
	free(b);
	free(body);
	body = jg_xasprintf("grant_type=refresh_token&refresh_token=%s", rt);
	CU_ASSERT_EQUAL(token_once(body, &b), 400);
	free(b);
	free(body);
	CU_ASSERT_EQUAL(jg_inst_count(&in, "SELECT count(*) FROM families "
				      "WHERE revoked_at IS NULL"), 0);
	free(fresh);
	free(rt);
	free(url);
	CU_ASSERT(jg_inst_integrity_ok(in.config->database));
}

static void
test_stop(void)
{
	CU_ASSERT_TRUE(jg_inst_free(&in));
}

int
main(void)
{
	static const struct jg_test tests[] = {
		{ "start lighttpd with the three programs", test_start },
		{ "200 parallel redemptions of one code: one 200", test_code_race },
		{ "100 parallel refreshes of one token: one success, family revoked",
		  test_refresh_race },
		{ "stop lighttpd", test_stop },
		{ NULL, NULL }
	};

	return jg_test_main("races", tests);
}
