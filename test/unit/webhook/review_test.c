/* AdmissionReview handling: every upstream admission case and more, as fixture files in
 * fixtures/ (also the fuzzer's seeds), through webhook_handle_body(). */
#include "suites.h"

#include "certgen.h"
#include "webhook/webhook.h"

#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Table rows leave their trailing fields zero on purpose. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define N(a) (sizeof(a) / sizeof((a)[0]))

#define V1BETA1 "admission.k8s.io/v1beta1"
#define UID	"705ab4f5-6393-11e8-b7cc-42010a800002"
#define INVALID "AddressPool.coil.cybozu.com \"test\" is invalid: "
#define PATCH_NEW_LIST                                                                             \
	"[{\"op\":\"add\",\"path\":\"/metadata/finalizers\",\"value\":[\"coil.cybozu.com\"]}]"

enum { M = WEBHOOK_POOL_MUTATE, V = WEBHOOK_POOL_VALIDATE };

/* http: expected HTTP status. For 200: allowed, result.code, result.message
 * (exact for 422, a substring otherwise, NULL: none), the number of Status
 * causes, the decoded patch (NULL: none), apiVersion and uid (NULL: v1 and
 * UID). For other statuses message is a substring of the text body. */
static const struct review_case {
	const char *fixture;
	int kind;
	int http, allowed, code;
	const char *message;
	size_t causes;
	const char *patch;
	const char *api, *uid;
} cases[] = {
    /* upstream's admission cases, validating */
    {"c01_create_default_bits", V, 200, 1, 200},
    {"c02_create_bits0", V, 200, 1, 200},
    {"c03_create_bits2", V, 200, 1, 200},
    /* 4, 5 and 6 break the CRD schema, which the API server checks before the validating
     * webhook; the shared decoder applies the schema too, so the webhook answers 400 */
    {"c04_create_bad_cidr", V, 200, 0, 400,
     "request.object: spec.blockSizeBits: Invalid value: -1: must be greater than or equal to 0"},
    {"c05_create_negative_bits", V, 200, 0, 400,
     "request.object: spec.blockSizeBits: Invalid value: -1: must be greater than or equal to 0"},
    {"c05_create_negative_bits", M, 200, 0, 400,
     "request.object: spec.blockSizeBits: Invalid value: -1: must be greater than or equal to 0"},
    {"c06_create_no_subnets", V, 200, 0, 400, "request.object: spec.subnets: Required value"},
    {"create_bad_cidr", V, 200, 0, 422,
     INVALID "spec.subnets[0]: Invalid value: \"\": invalid CIDR address: a.b.c.d/24", 1},
    {"c07_create_too_narrow", V, 200, 0, 422,
     INVALID "spec.subnets[0]: Invalid value: \"\": too narrow subnet: 10.2.0.0/30", 1},
    {"c08_update_append_ok", V, 200, 1, 200},
    {"c09_update_append_narrow", V, 200, 0, 422,
     INVALID "spec.subnets[1]: Invalid value: \"\": too narrow subnet: fd03::/124", 1},
    {"c10_update_bits", V, 200, 0, 422, INVALID "spec.blockSizeBits: Forbidden: unchangeable", 1},
    {"c11_update_shrink", V, 200, 0, 422, INVALID "spec.subnets: Forbidden: unshrinkable", 1},
    {"c12_update_replace", V, 200, 0, 422, INVALID "spec.subnets[1]: Forbidden: unchangeable", 1},
    {"e2e_invalid_pool", V, 200, 0, 422,
     "AddressPool.coil.cybozu.com \"invalid\" is invalid: spec.subnets[0]: Invalid value: \"\": "
     "too narrow subnet: 10.224.0.0/30",
     1},
    /* upstream's admission cases, mutating: the finalizer is added on creation */
    {"c01_create_default_bits", M, 200, 1, 200, NULL, 0, PATCH_NEW_LIST},
    {"c02_create_bits0", M, 200, 1, 200, NULL, 0, PATCH_NEW_LIST},
    /* more validation */
    {"create_multi_errors", V, 200, 0, 422,
     INVALID "[spec.subnets[0]: Invalid value: \"\": too narrow subnet: 10.2.0.0/30, "
	     "spec.subnets[1]: Invalid value: \"\": invalid subnet, "
	     "spec.subnets[2]: Invalid value: \"\": dual stack subnet must be the same size, "
	     "spec.subnets[3]: Invalid value: \"\": invalid IPv6 subnet: 10.0.0.0/24]",
     4},
    {"create_dual_ok", V, 200, 1, 200},
    {"create_no_spec", V, 200, 1, 200},
    {"create_null_subnet_fields", V, 200, 1, 200},
    {"update_metadata_only", V, 200, 1, 200},
    {"update_bits_and_shrink", V, 200, 0, 422,
     INVALID "[spec.blockSizeBits: Forbidden: unchangeable, spec.subnets: Forbidden: "
	     "unshrinkable]",
     2},
    {"update_text_change", V, 200, 0, 422, INVALID "spec.subnets[0]: Forbidden: unchangeable", 1},
    {"v1beta1_create_narrow", V, 200, 0, 422,
     INVALID "spec.subnets[0]: Invalid value: \"\": too narrow subnet: 10.2.0.0/30", 1, NULL,
     V1BETA1, "beta-uid-1"},
    {"create_name_quote", V, 200, 0, 422,
     "AddressPool.coil.cybozu.com \"we\\\"ird\" is invalid: spec.subnets[0]: Invalid value: "
     "\"\": too narrow subnet: 10.2.0.0/30",
     1},
    {"delete_validate", V, 200, 1, 200},
    {"delete_validate", M, 200, 1, 200},
    {"wrong_kind", V, 200, 0, 400, "handles coil.cybozu.com/v2 AddressPool, not /v1 Pod"},
    {"wrong_kind", M, 200, 0, 400, "handles coil.cybozu.com/v2 AddressPool, not /v1 Pod"},
    /* objects that do not decode as an AddressPool */
    {"decode_subnets_not_array", V, 200, 0, 400, "request.object: spec.subnets: must be an array"},
    {"decode_bits_string", V, 200, 0, 400,
     "request.object: spec.blockSizeBits: must be a 32-bit integer"},
    {"decode_bits_string", M, 200, 0, 400,
     "request.object: spec.blockSizeBits: must be a 32-bit integer"},
    {"decode_bits_real", V, 200, 0, 400, "spec.blockSizeBits: must be a 32-bit integer"},
    {"decode_bits_overflow", V, 200, 0, 400, "spec.blockSizeBits: must be a 32-bit integer"},
    {"decode_ipv4_number", V, 200, 0, 400, "spec.subnets[0].ipv4: must be a string"},
    {"decode_no_object", V, 200, 0, 400, "request.object: there is no content to decode"},
    {"decode_no_object", M, 200, 0, 400, "request.object: there is no content to decode"},
    {"decode_update_no_old", V, 200, 0, 400, "request.oldObject: there is no content to decode"},
    {"decode_metadata_string", V, 200, 0, 400, "request.object: metadata: must be an object"},
    {"decode_metadata_string", M, 200, 0, 400, "request.object: metadata: must be an object"},
    /* mutating */
    {"mutate_no_finalizers", M, 200, 1, 200, NULL, 0, PATCH_NEW_LIST},
    {"mutate_null_finalizers", M, 200, 1, 200, NULL, 0, PATCH_NEW_LIST},
    {"mutate_other_finalizers", M, 200, 1, 200, NULL, 0,
     "[{\"op\":\"add\",\"path\":\"/metadata/finalizers/2\",\"value\":\"coil.cybozu.com\"}]"},
    {"mutate_has_finalizer", M, 200, 1, 200},
    {"mutate_no_metadata", M, 200, 1, 200, NULL, 0,
     "[{\"op\":\"add\",\"path\":\"/metadata\",\"value\":{\"finalizers\":[\"coil.cybozu.com\"]}}]"},
    {"mutate_finalizers_bad", M, 200, 0, 400, "metadata.finalizers: expected an array"},
    {"mutate_v1beta1", M, 200, 1, 200, NULL, 0, PATCH_NEW_LIST, V1BETA1, "beta-uid-2"},
    /* malformed reviews: HTTP 400 with a message */
    {"bad_not_json", V, 400, 0, 0, "invalid JSON in request body"},
    {"bad_trailing", M, 400, 0, 0, "invalid JSON in request body"},
    {"bad_array", V, 400, 0, 0, "AdmissionReview: expected a JSON object"},
    {"bad_no_request", V, 400, 0, 0, "request is missing or not an object"},
    {"bad_request_string", M, 400, 0, 0, "request is missing or not an object"},
    {"bad_no_uid", V, 400, 0, 0, "request.uid is missing"},
    {"bad_empty_uid", M, 400, 0, 0, "request.uid is missing"},
    {"bad_no_operation", V, 400, 0, 0, "request.operation is missing"},
    {"bad_api_version", V, 400, 0, 0, "unsupported apiVersion \"admission.k8s.io/v2\""},
    {"bad_review_kind", M, 400, 0, 0, "kind must be \"AdmissionReview\""},
};

static void check_patch(const json_t *resp, const char *want)
{
	const char *type = json_string_value(json_object_get(resp, "patchType"));
	const char *b64 = json_string_value(json_object_get(resp, "patch"));
	if (!want) {
		ck_assert_ptr_null(type);
		ck_assert_ptr_null(b64);
		return;
	}
	ck_assert_str_eq(type, "JSONPatch");
	ck_assert_ptr_nonnull(b64);
	gnutls_datum_t in = {(unsigned char *)b64, (unsigned)strlen(b64)}, out = {0};
	ck_assert_int_eq(gnutls_base64_decode2(&in, &out), 0);
	json_t *got = json_loadb((const char *)out.data, out.size, 0, NULL);
	json_t *expect = json_loads(want, 0, NULL);
	ck_assert_ptr_nonnull(expect);
	ck_assert_msg(got && json_equal(got, expect), "patch %.*s, want %s", (int)out.size,
		      out.data, want);
	json_decref(got);
	json_decref(expect);
	gnutls_free(out.data);
}

static void check_status(const json_t *result, const struct review_case *c)
{
	const char *message = json_string_value(json_object_get(result, "message"));
	if (c->code != 422) {
		if (c->message)
			ck_assert_msg(message && strstr(message, c->message), "message %s, want %s",
				      message, c->message);
		return;
	}
	ck_assert_str_eq(message, c->message);
	ck_assert_str_eq(json_string_value(json_object_get(result, "status")), "Failure");
	ck_assert_str_eq(json_string_value(json_object_get(result, "reason")), "Invalid");
	const json_t *details = json_object_get(result, "details");
	ck_assert_str_eq(json_string_value(json_object_get(details, "group")), "coil.cybozu.com");
	ck_assert_str_eq(json_string_value(json_object_get(details, "kind")), "AddressPool");
	ck_assert_uint_eq(json_array_size(json_object_get(details, "causes")), c->causes);
	const json_t *cause = json_array_get(json_object_get(details, "causes"), 0);
	const char *reason = json_string_value(json_object_get(cause, "reason"));
	ck_assert_msg(reason && strncmp(reason, "FieldValue", 10) == 0, "cause reason %s", reason);
	ck_assert_ptr_nonnull(
	    strstr(c->message, json_string_value(json_object_get(cause, "field"))));
}

static void check_review(const char *body, const struct review_case *c)
{
	json_t *review = json_loads(body, 0, NULL);
	ck_assert_ptr_nonnull(review);
	ck_assert_str_eq(json_string_value(json_object_get(review, "apiVersion")),
			 c->api ? c->api : "admission.k8s.io/v1");
	ck_assert_str_eq(json_string_value(json_object_get(review, "kind")), "AdmissionReview");
	const json_t *resp = json_object_get(review, "response");
	ck_assert_str_eq(json_string_value(json_object_get(resp, "uid")), c->uid ? c->uid : UID);
	ck_assert_int_eq(json_is_true(json_object_get(resp, "allowed")), c->allowed);
	const json_t *result = json_object_get(resp, "status");
	ck_assert_int_eq(json_integer_value(json_object_get(result, "code")), c->code);
	check_status(result, c);
	check_patch(resp, c->patch);
	json_decref(review);
}

START_TEST(test_fixture)
{
	const struct review_case *c = &cases[_i];
	char path[512];
	snprintf(path, sizeof(path), "%s/%s.json", WEBHOOK_FIXTURES, c->fixture);
	size_t len;
	char *body = certgen_read_file(path, &len);
	ck_assert_msg(body != NULL, "cannot read %s", path);
	struct webhook_reply reply;
	ck_assert_int_eq(webhook_handle_body(c->kind, body, len, &reply), 0);
	ck_assert_msg(reply.status == c->http, "%s: status %d, want %d: %s", c->fixture,
		      reply.status, c->http, reply.body);
	if (c->http == 200) {
		ck_assert_str_eq(reply.content_type, "application/json");
		check_review(reply.body, c);
	} else {
		ck_assert_msg(strstr(reply.body, c->message), "%s: body %s, want %s", c->fixture,
			      reply.body, c->message);
	}
	free(reply.body);
	free(body);
}
END_TEST

START_TEST(test_empty_and_oversize)
{
	struct webhook_reply reply;
	ck_assert_int_eq(webhook_handle_body(WEBHOOK_POOL_VALIDATE, "", 0, &reply), 0);
	ck_assert_int_eq(reply.status, 400);
	ck_assert_str_eq(reply.body, "request body is empty");
	free(reply.body);
	size_t big = WEBHOOK_MAX_BODY + 1;
	char *body = malloc(big);
	memset(body, ' ', big);
	ck_assert_int_eq(webhook_handle_body(WEBHOOK_POOL_MUTATE, body, big, &reply), 0);
	ck_assert_int_eq(reply.status, 413);
	free(reply.body);
	free(body);
}
END_TEST

/* The pure entry point: a NULL or non-object review is malformed, not a crash. */
START_TEST(test_review_null)
{
	char err[256] = "";
	ck_assert_ptr_null(webhook_review(WEBHOOK_POOL_VALIDATE, NULL, err, sizeof(err)));
	ck_assert_str_eq(err, "AdmissionReview: expected a JSON object");
	json_t *num = json_integer(3);
	ck_assert_ptr_null(webhook_review(WEBHOOK_POOL_MUTATE, num, err, sizeof(err)));
	json_decref(num);
}
END_TEST

/* Huge CIDR texts are cut in the message without breaking UTF-8 or JSON. */
START_TEST(test_long_cidr_text)
{
	char cidr[2000];
	size_t n = 0;
	while (n + 2 < sizeof(cidr) - 4) {
		memcpy(cidr + n, "\xc3\xa9", 2); /* é */
		n += 2;
	}
	memcpy(cidr + n, "/24", 4);
	json_t *review = json_pack(
	    "{s:s, s:s, s:{s:s, s:{s:s, s:s, s:s}, s:s, s:{s:{s:s}, s:{s:i, s:[{s:s}]}}}}",
	    "apiVersion", "admission.k8s.io/v1", "kind", "AdmissionReview", "request", "uid", "u",
	    "kind", "group", "coil.cybozu.com", "version", "v2", "kind", "AddressPool", "operation",
	    "CREATE", "object", "metadata", "name", "x", "spec", "blockSizeBits", 5, "subnets",
	    "ipv4", cidr);
	ck_assert_ptr_nonnull(review);
	char err[256];
	json_t *answer = webhook_review(WEBHOOK_POOL_VALIDATE, review, err, sizeof(err));
	ck_assert_ptr_nonnull(answer);
	const json_t *result = json_object_get(json_object_get(answer, "response"), "status");
	ck_assert_int_eq(json_integer_value(json_object_get(result, "code")), 422);
	const char *message = json_string_value(json_object_get(result, "message"));
	ck_assert_ptr_nonnull(strstr(message, "invalid CIDR address: \xc3\xa9"));
	json_decref(answer);
	json_decref(review);
}
END_TEST

Suite *review_suite(void)
{
	Suite *s = suite_create("review");
	TCase *tc = tcase_create("fixtures");
	tcase_add_loop_test(tc, test_fixture, 0, (int)N(cases));
	tcase_add_test(tc, test_empty_and_oversize);
	tcase_add_test(tc, test_review_null);
	tcase_add_test(tc, test_long_cidr_text);
	suite_add_tcase(s, tc);
	return s;
}
