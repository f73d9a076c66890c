/* The Egress webhooks: every admission case of upstream's egress webhook test as a table row
 * (the object's spec, what the API server answers), plus the defaulting patch and the exact
 * messages and field paths of each rule. Reviews are built here and go through
 * webhook_handle_body(), as the server hands them over. */
#include "suites.h"

#include "base64/base64.h"
#include "webhook/webhook.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define N(a)	(sizeof(a) / sizeof((a)[0]))
#define INVALID "Egress.coil.cybozu.com \"test\" is invalid: "
#define BASE	"\"destinations\":[\"10.2.0.0/16\"],\"replicas\":1"

/* spec / old_spec: JSON text of the object's spec (old_spec set: an UPDATE). code 200 =
 * allowed; 400 = rejected as the CRD schema does (the decoder applies it); 422 = a denial
 * with message (exact) and causes field errors, the first at field. patch: the expected
 * JSONPatch (exact JSON text) or NULL for none. */
static const struct egress_case {
	const char *name;
	enum webhook_kind kind;
	const char *spec, *old_spec;
	int code;
	const char *message;
	size_t causes;
	const char *field;
	const char *patch;
} cases[] = {
    /* upstream's cases, in their order */
    {"dual stack destinations", WEBHOOK_EGRESS_VALIDATE,
     "{\"destinations\":[\"10.2.0.0/16\",\"fd02::/120\"],\"replicas\":1}", NULL, 200},
    {"no destinations", WEBHOOK_EGRESS_VALIDATE, "{\"replicas\":1}", NULL, 400},
    {"bare address", WEBHOOK_EGRESS_VALIDATE, "{\"destinations\":[\"127.0.0.1\"],\"replicas\":1}",
     NULL, 422,
     INVALID "spec.destinations[0]: Invalid value: \"127.0.0.1\": invalid CIDR address: "
	     "127.0.0.1",
     1, "spec.destinations[0]"},
    {"garbage destination", WEBHOOK_EGRESS_VALIDATE,
     "{\"destinations\":[\"10.2.0.0/16\",\"a.b.c.d/20\"],\"replicas\":1}", NULL, 422,
     INVALID "spec.destinations[1]: Invalid value: \"a.b.c.d/20\": invalid CIDR address: "
	     "a.b.c.d/20",
     1, "spec.destinations[1]"},
    {"negative replicas", WEBHOOK_EGRESS_VALIDATE,
     "{\"destinations\":[\"10.2.0.0/16\"],\"replicas\":-1}", NULL, 400},
    {"strategy hoge", WEBHOOK_EGRESS_VALIDATE, "{" BASE ",\"strategy\":{\"type\":\"hoge\"}}", NULL,
     422,
     INVALID "spec.strategy.type: Unsupported value: \"hoge\": supported values: "
	     "\"Recreate\", \"RollingUpdate\"",
     1, "spec.strategy.type"},
    {"strategy Recreate", WEBHOOK_EGRESS_VALIDATE,
     "{" BASE ",\"strategy\":{\"type\":\"Recreate\"}}", NULL, 200},
    {"bad annotation key", WEBHOOK_EGRESS_VALIDATE,
     "{" BASE ",\"template\":{\"metadata\":{\"annotations\":{\"bad bad\":\"x\"}}}}", NULL, 422,
     NULL, 1, "spec.template.metadata.annotations"},
    {"bad label value", WEBHOOK_EGRESS_VALIDATE,
     "{" BASE
     ",\"template\":{\"metadata\":{\"labels\":{\"good\":\"bad value\",\"name\":\"foo\"}}}}",
     NULL, 422, NULL, 1, "spec.template.metadata.labels"},
    {"template without containers", WEBHOOK_EGRESS_VALIDATE,
     "{" BASE ",\"template\":{\"metadata\":{\"annotations\":{\"good\":\"aaa bbb\"},\"labels\":"
     "{\"good\":\"good\"}},\"spec\":{\"tolerations\":[{\"operator\":\"Exists\"}]}}}",
     NULL, 200},
    {"template without containers, mutated", WEBHOOK_EGRESS_MUTATE,
     "{" BASE ",\"template\":{\"spec\":{\"tolerations\":[{\"operator\":\"Exists\"}]}}}", NULL, 200,
     NULL, 0, NULL,
     "[{\"op\":\"add\",\"path\":\"/spec/template/spec/containers\",\"value\":[{\"name\":"
     "\"egress\"}]}]"},
    {"session affinity hoge", WEBHOOK_EGRESS_VALIDATE, "{" BASE ",\"sessionAffinity\":\"hoge\"}",
     NULL, 400},
    {"session affinity None", WEBHOOK_EGRESS_VALIDATE, "{" BASE ",\"sessionAffinity\":\"None\"}",
     NULL, 200},
    {"update adds a destination", WEBHOOK_EGRESS_VALIDATE,
     "{\"destinations\":[\"10.2.0.0/16\",\"10.10.0.0/24\"],\"replicas\":1}", "{" BASE "}", 200},
    {"update to negative replicas", WEBHOOK_EGRESS_VALIDATE,
     "{\"destinations\":[\"10.2.0.0/16\"],\"replicas\":-1}", "{" BASE "}", 400},
    {"update replicas and affinity", WEBHOOK_EGRESS_VALIDATE,
     "{\"destinations\":[\"10.2.0.0/16\"],\"replicas\":10,\"sessionAffinity\":\"None\"}",
     "{" BASE "}", 200},
    {"pdb maxUnavailable", WEBHOOK_EGRESS_VALIDATE,
     "{" BASE ",\"podDisruptionBudget\":{\"maxUnavailable\":1}}", NULL, 200},
    {"pdb both set", WEBHOOK_EGRESS_VALIDATE,
     "{" BASE ",\"podDisruptionBudget\":{\"minAvailable\":1,\"maxUnavailable\":1}}", NULL, 422,
     INVALID "spec.podDisruptionBudget: Invalid value: {\"minAvailable\":1,\"maxUnavailable\":1}"
	     ": minAvailable and maxUnavailable cannot be both set",
     1, "spec.podDisruptionBudget"},
    {"pdb 120%", WEBHOOK_EGRESS_VALIDATE,
     "{" BASE ",\"podDisruptionBudget\":{\"maxUnavailable\":\"120%\"}}", NULL, 422,
     INVALID "spec.podDisruptionBudget.maxUnavailable: Invalid value: \"120%\": must not be "
	     "greater than 100%",
     1, "spec.podDisruptionBudget.maxUnavailable"},
    /* more of each rule */
    {"host bits set", WEBHOOK_EGRESS_VALIDATE,
     "{\"destinations\":[\"10.1.2.3/16\",\"::/0\",\"0.0.0.0/0\"],\"replicas\":1}", NULL, 200},
    {"prefix too long", WEBHOOK_EGRESS_VALIDATE,
     "{\"destinations\":[\"10.0.0.0/33\",\"fd00::/129\",\"10.0.0.0/\",\"10.0.0.0/-1\"]}", NULL, 422,
     NULL, 4, "spec.destinations[0]"},
    {"strategy without type", WEBHOOK_EGRESS_VALIDATE,
     "{" BASE ",\"strategy\":{\"rollingUpdate\":{\"maxSurge\":1}}}", NULL, 422,
     INVALID "spec.strategy.type: Unsupported value: \"\": supported values: \"Recreate\", "
	     "\"RollingUpdate\"",
     1, "spec.strategy.type"},
    {"label key with prefix", WEBHOOK_EGRESS_VALIDATE,
     "{" BASE ",\"template\":{\"metadata\":{\"labels\":{\"example.com/a\":\"b\",\"c\":\"\"},"
     "\"annotations\":{\"example.com/x\":\"any value at all\"}}}}",
     NULL, 200},
    {"label key with bad prefix", WEBHOOK_EGRESS_VALIDATE,
     "{" BASE ",\"template\":{\"metadata\":{\"labels\":{\"Example.com/a\":\"b\"}}}}", NULL, 422,
     INVALID "spec.template.metadata.labels: Invalid value: \"Example.com/a\": prefix part a "
	     "lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
	     "'-' or '.', and must start and end with an alphanumeric character (e.g. "
	     "'example.com', regex used for validation is "
	     "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
     1, "spec.template.metadata.labels"},
    {"label key with two slashes", WEBHOOK_EGRESS_VALIDATE,
     "{" BASE ",\"template\":{\"metadata\":{\"labels\":{\"a/b/c\":\"b\"}}}}", NULL, 422, NULL, 1,
     "spec.template.metadata.labels"},
    {"label value too long", WEBHOOK_EGRESS_VALIDATE,
     "{" BASE ",\"template\":{\"metadata\":{\"labels\":{\"a\":"
     "\"0123456789012345678901234567890123456789012345678901234567890123\"}}}}",
     NULL, 422, NULL, 1, "spec.template.metadata.labels"},
    {"pdb negative and not a percent", WEBHOOK_EGRESS_VALIDATE,
     "{" BASE ",\"podDisruptionBudget\":{\"minAvailable\":-1}}", NULL, 422,
     INVALID "spec.podDisruptionBudget.minAvailable: Invalid value: -1: must be greater than "
	     "or equal to 0",
     1, "spec.podDisruptionBudget.minAvailable"},
    {"pdb bad percent", WEBHOOK_EGRESS_VALIDATE,
     "{" BASE ",\"podDisruptionBudget\":{\"minAvailable\":\"5 %\"}}", NULL, 422, NULL, 1,
     "spec.podDisruptionBudget.minAvailable"},
    {"pdb 100%", WEBHOOK_EGRESS_VALIDATE,
     "{" BASE ",\"podDisruptionBudget\":{\"minAvailable\":\"100%\"}}", NULL, 200},
    {"all errors at once", WEBHOOK_EGRESS_VALIDATE,
     "{\"destinations\":[\"x\"],\"strategy\":{\"type\":\"y\"},\"podDisruptionBudget\":"
     "{\"minAvailable\":\"1%\",\"maxUnavailable\":-2}}",
     NULL, 422, NULL, 4, "spec.destinations[0]"},
    /* the mutating webhook */
    {"no template, no patch", WEBHOOK_EGRESS_MUTATE, "{" BASE "}", NULL, 200},
    {"template without spec", WEBHOOK_EGRESS_MUTATE,
     "{" BASE ",\"template\":{\"metadata\":{\"labels\":{\"a\":\"b\"}}}}", NULL, 200, NULL, 0, NULL,
     "[{\"op\":\"add\",\"path\":\"/spec/template/spec\",\"value\":{\"containers\":[{\"name\":"
     "\"egress\"}]}}]"},
    {"empty containers", WEBHOOK_EGRESS_MUTATE,
     "{" BASE ",\"template\":{\"spec\":{\"containers\":[]}}}", NULL, 200, NULL, 0, NULL,
     "[{\"op\":\"replace\",\"path\":\"/spec/template/spec/containers\",\"value\":[{\"name\":"
     "\"egress\"}]}]"},
    {"containers kept", WEBHOOK_EGRESS_MUTATE,
     "{" BASE ",\"template\":{\"spec\":{\"containers\":[{\"name\":\"sidecar\"}]}}}", NULL, 200},
    {"mutating a broken template", WEBHOOK_EGRESS_MUTATE, "{" BASE ",\"template\":[]}", NULL, 400},
};

static json_t *review_of(const struct egress_case *c)
{
	json_error_t jerr;
	json_t *spec = json_loads(c->spec, 0, &jerr);
	ck_assert_msg(spec != NULL, "%s: spec: %s", c->name, jerr.text);
	json_t *old = c->old_spec ? json_loads(c->old_spec, 0, &jerr) : json_null();
	ck_assert_msg(old != NULL, "%s: old spec: %s", c->name, jerr.text);
	const char *obj_fmt = "{s:s, s:s, s:{s:s, s:s}, s:o}";
	json_t *obj = json_pack(obj_fmt, "apiVersion", "coil.cybozu.com/v2", "kind", "Egress",
				"metadata", "namespace", "default", "name", "test", "spec", spec);
	if (c->old_spec)
		old = json_pack(obj_fmt, "apiVersion", "coil.cybozu.com/v2", "kind", "Egress",
				"metadata", "namespace", "default", "name", "test", "spec", old);
	return json_pack("{s:s, s:s, s:{s:s, s:{s:s, s:s, s:s}, s:s, s:s, s:o, s:o}}", "apiVersion",
			 "admission.k8s.io/v1", "kind", "AdmissionReview", "request", "uid", "u1",
			 "kind", "group", "coil.cybozu.com", "version", "v2", "kind", "Egress",
			 "name", "test", "operation", c->old_spec ? "UPDATE" : "CREATE", "object",
			 obj, "oldObject", old);
}

static void check_patch(const struct egress_case *c, const json_t *resp)
{
	const char *b64 = json_string_value(json_object_get(resp, "patch"));
	if (!c->patch) {
		ck_assert_msg(b64 == NULL, "%s: unexpected patch", c->name);
		return;
	}
	ck_assert_msg(b64 != NULL, "%s: no patch", c->name);
	char *patch_text = NULL;
	size_t len;
	ck_assert_int_eq(base64_decode(b64, &patch_text, &len), 0);
	ck_assert_str_eq(json_string_value(json_object_get(resp, "patchType")), "JSONPatch");
	ck_assert_msg(strcmp(patch_text, c->patch) == 0, "%s: patch %s, want %s", c->name,
		      patch_text, c->patch);
	free(patch_text);
}
static void check_denial(const struct egress_case *c, const json_t *result)
{
	const char *message = json_string_value(json_object_get(result, "message"));
	if (c->code == 422) {
		ck_assert_str_eq(json_string_value(json_object_get(result, "reason")), "Invalid");
		const json_t *details = json_object_get(result, "details");
		ck_assert_str_eq(json_string_value(json_object_get(details, "kind")), "Egress");
		ck_assert_str_eq(json_string_value(json_object_get(details, "group")),
				 "coil.cybozu.com");
		ck_assert_str_eq(json_string_value(json_object_get(details, "name")), "test");
		const json_t *causes = json_object_get(details, "causes");
		ck_assert_msg(json_array_size(causes) == c->causes, "%s: %zu causes: %s", c->name,
			      json_array_size(causes), message);
		ck_assert_str_eq(
		    json_string_value(json_object_get(json_array_get(causes, 0), "field")),
		    c->field);
	}
	if (c->message)
		ck_assert_msg(strcmp(message, c->message) == 0, "%s:\n got %s\nwant %s", c->name,
			      message, c->message);
}

START_TEST(test_egress_case)
{
	const struct egress_case *c = &cases[_i];
	json_t *review = review_of(c);
	char *body = json_dumps(review, JSON_COMPACT);
	struct webhook_reply reply;
	ck_assert_int_eq(webhook_handle_body(c->kind, body, strlen(body), &reply), 0);
	ck_assert_int_eq(reply.status, 200);
	json_t *answer = json_loads(reply.body, 0, NULL);
	const json_t *resp = json_object_get(answer, "response");
	const json_t *result = json_object_get(resp, "status");
	int code = (int)json_integer_value(json_object_get(result, "code"));
	ck_assert_msg(code == c->code, "%s: code %d, want %d: %s", c->name, code, c->code,
		      reply.body);
	ck_assert_int_eq(json_is_true(json_object_get(resp, "allowed")), c->code == 200);
	ck_assert_str_eq(json_string_value(json_object_get(resp, "uid")), "u1");
	if (c->code == 200)
		check_patch(c, resp);
	else
		check_denial(c, result);
	json_decref(answer);
	free(reply.body);
	free(body);
	json_decref(review);
}
END_TEST

/* A review about another kind is refused by the Egress webhooks, and the Egress paths are
 * distinct from the AddressPool ones. */
START_TEST(test_egress_wrong_kind)
{
	json_t *review =
	    json_pack("{s:s, s:s, s:{s:s, s:{s:s, s:s, s:s}, s:s, s:{}}}", "apiVersion",
		      "admission.k8s.io/v1", "kind", "AdmissionReview", "request", "uid", "u",
		      "kind", "group", "coil.cybozu.com", "version", "v2", "kind", "AddressPool",
		      "operation", "CREATE", "object");
	char err[256];
	json_t *answer = webhook_review(WEBHOOK_EGRESS_VALIDATE, review, err, sizeof(err));
	const json_t *result = json_object_get(json_object_get(answer, "response"), "status");
	ck_assert_int_eq(json_integer_value(json_object_get(result, "code")), 400);
	json_decref(answer);
	json_decref(review);
	ck_assert_str_eq(webhook_path(WEBHOOK_EGRESS_MUTATE), "/mutate-coil-cybozu-com-v2-egress");
	ck_assert_str_eq(webhook_path(WEBHOOK_EGRESS_VALIDATE),
			 "/validate-coil-cybozu-com-v2-egress");
}
END_TEST

Suite *egress_review_suite(void)
{
	Suite *s = suite_create("egress_review");
	TCase *tc = tcase_create("egress");
	tcase_add_loop_test(tc, test_egress_case, 0, (int)N(cases));
	tcase_add_test(tc, test_egress_wrong_kind);
	suite_add_tcase(s, tc);
	return s;
}
