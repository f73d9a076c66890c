#include "base64/base64.h"
#include "suites.h"

#include "kube/internal.h"

#include <stdlib.h>
#include <string.h>

START_TEST(test_json_paths)
{
	json_t *obj =
	    json_loads("{\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"p\",\"namespace\":"
		       "\"ns\",\"resourceVersion\":\"42\",\"uid\":\"u-1\",\"labels\":{"
		       "\"a.b/c\":\"d\"}},\"spec\":{\"nodeName\":\"n1\",\"n\":3}}",
		       0, NULL);
	ck_assert_str_eq(kube_obj_name(obj), "p");
	ck_assert_str_eq(kube_obj_namespace(obj), "ns");
	ck_assert_str_eq(kube_obj_resource_version(obj), "42");
	ck_assert_str_eq(kube_obj_uid(obj), "u-1");
	ck_assert_str_eq(kube_obj_label(obj, "a.b/c"), "d");
	ck_assert_ptr_null(kube_obj_label(obj, "x"));
	ck_assert_str_eq(kube_json_string(obj, "spec.nodeName"), "n1");
	ck_assert_ptr_null(kube_json_string(obj, "spec.n"));
	ck_assert_int_eq(json_integer_value(kube_json_path(obj, "spec.n")), 3);
	ck_assert_ptr_null(kube_json_path(obj, "spec.n.x"));
	ck_assert_ptr_null(kube_json_path(obj, "nope.x"));
	ck_assert_ptr_null(kube_obj_name(NULL));
	json_decref(obj);

	char key[16];
	ck_assert_int_eq(kube_obj_key("ns", "p", key, sizeof(key)), 0);
	ck_assert_str_eq(key, "ns/p");
	ck_assert_int_eq(kube_obj_key(NULL, "node1", key, sizeof(key)), 0);
	ck_assert_str_eq(key, "node1");
	ck_assert_int_eq(kube_obj_key("", "node1", key, sizeof(key)), 0);
	ck_assert_str_eq(key, "node1");
	ck_assert_int_eq(kube_obj_key("namespace", "longname", key, sizeof(key)), -ENAMETOOLONG);
}
END_TEST

static const struct {
	const char *text;
	long long sec;
	long nsec; /* -1: rejected */
} time_cases[] = {
    {"1970-01-01T00:00:00Z", 0, 0},
    {"2024-05-01T10:00:00Z", 1714557600, 0},
    {"2024-05-01T10:00:00.123456Z", 1714557600, 123456000},
    {"2024-05-01T10:00:00.5Z", 1714557600, 500000000},
    {"2024-05-01T10:00:00.1234567891Z", 1714557600, 123456789},
    {"2024-05-01T12:00:00+02:00", 1714557600, 0},
    {"2024-05-01T05:30:00-04:30", 1714557600, 0},
    {"2024-05-01t10:00:00z", 1714557600, 0},
    {"2024-05-01 10:00:00Z", 0, -1},
    {"2024-05-01T10:00:00", 0, -1},
    {"2024-13-01T10:00:00Z", 0, -1},
    {"2024-05-01T10:00:00.Z", 0, -1},
    {"2024-05-01T10:00:00Zjunk", 0, -1},
    {"2024-05-01T10:00:00+2:00", 0, -1},
    {"", 0, -1},
};

START_TEST(test_time_parse_table)
{
	struct timespec ts;
	int ret = kube_time_parse(time_cases[_i].text, &ts);
	if (time_cases[_i].nsec < 0) {
		ck_assert_int_eq(ret, -EINVAL);
		return;
	}
	ck_assert_msg(ret == 0, "%s rejected", time_cases[_i].text);
	ck_assert_int_eq(ts.tv_sec, time_cases[_i].sec);
	ck_assert_int_eq(ts.tv_nsec, time_cases[_i].nsec);
}
END_TEST

START_TEST(test_time_format)
{
	struct timespec ts = {1714557600, 123456789}, back;
	char buf[KUBE_TIME_LEN];
	kube_time_format_micro(&ts, buf);
	ck_assert_str_eq(buf, "2024-05-01T10:00:00.123456Z");
	ck_assert_int_eq(kube_time_parse(buf, &back), 0);
	ck_assert_int_eq(back.tv_nsec, 123456000);
	kube_time_format(&ts, buf);
	ck_assert_str_eq(buf, "2024-05-01T10:00:00Z");
}
END_TEST

static const struct {
	const char *in, *out; /* out NULL: rejected */
} base64_cases[] = {
    {"", ""},	    {"aGVsbG8=", "hello"}, {"aGVsbG8", "hello"}, {"aGVs\nbG8=\n", "hello"},
    {"YQ==", "a"},  {"YWI=", "ab"},	   {"YWJj", "abc"},	 {"Y", NULL},
    {"YQ=", NULL},  {"YQ===", NULL},	   {"YQ==YQ==", NULL},	 {"a$b=", NULL},
    {"-_8=", NULL},
};

START_TEST(test_base64_table)
{
	char *out = NULL;
	size_t len;
	int ret = base64_decode_lenient(base64_cases[_i].in, &out, &len);
	if (!base64_cases[_i].out) {
		ck_assert_msg(ret == -EINVAL, "\"%s\" accepted", base64_cases[_i].in);
		return;
	}
	ck_assert_int_eq(ret, 0);
	ck_assert_uint_eq(len, strlen(base64_cases[_i].out));
	ck_assert_str_eq(out, base64_cases[_i].out);
	free(out);
}
END_TEST

START_TEST(test_retry_after)
{
	ck_assert_int_eq(kube_parse_retry_after(" 3\r\n", 4), 3);
	ck_assert_int_eq(kube_parse_retry_after("0", 1), 0);
	ck_assert_int_eq(kube_parse_retry_after("", 0), -1);
	ck_assert_int_eq(kube_parse_retry_after("soon", 4), -1);
	ck_assert_int_eq(kube_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 29), -1);
	ck_assert_int_eq(kube_parse_retry_after("99999999999999999999", 20), 86400);
}
END_TEST

/* Warning header values: what the text parses to, or NULL when it is no warn-value. */
static const struct {
	const char *in, *text;
} warning_cases[] = {
    {"299 - \"metadata.finalizers: \\\"coil.cybozu.com\\\": prefer a domain-qualified finalizer\"",
     "metadata.finalizers: \"coil.cybozu.com\": prefer a domain-qualified finalizer"},
    {" 299 - \"plain\"", "plain"},
    {"299 kube-apiserver \"with agent\" \"Wed, 21 Oct 2015 07:28:00 GMT\"", "with agent"},
    {"299 - \"back\\\\slash\"", "back\\slash"},
    {"299 - \"\"", ""},
    {"299 - \"unterminated", NULL},
    {"299 - \"dangling\\", NULL},
    {"29 - \"short code\"", NULL},
    {"2999 - \"long code\"", NULL},
    {"299 -", NULL},
    {"299", NULL},
    {"", NULL},
    {"text only", NULL},
};

START_TEST(test_warning_table)
{
	char text[128] = "";
	const char *in = warning_cases[_i].in;
	int ret = kube_parse_warning(in, strlen(in), text, sizeof(text));
	if (!warning_cases[_i].text) {
		ck_assert_msg(ret == -EINVAL, "'%s' accepted as '%s'", in, text);
		return;
	}
	ck_assert_msg(ret == 0, "'%s' refused", in);
	ck_assert_str_eq(text, warning_cases[_i].text);
}
END_TEST

START_TEST(test_warning_cut)
{
	char text[5];
	ck_assert_int_eq(kube_parse_warning("299 - \"abcdefgh\"", 16, text, sizeof(text)), 0);
	ck_assert_str_eq(text, "abcd");
}
END_TEST

static const struct {
	long status;
	const char *body;
	int want;
	const char *in_message;
} status_cases[] = {
    {404,
     "{\"kind\":\"Status\",\"reason\":\"NotFound\",\"message\":\"pods \\\"x\\\" not found\","
     "\"code\":404}",
     -ENOENT, "NotFound: pods \"x\" not found"},
    {409, "{\"kind\":\"Status\",\"reason\":\"AlreadyExists\",\"message\":\"exists\"}", -EEXIST,
     "AlreadyExists"},
    {409, "{\"kind\":\"Status\",\"reason\":\"Conflict\",\"message\":\"modified\"}",
     KUBE_ERR_CONFLICT, "Conflict: modified"},
    {410, "{\"reason\":\"Expired\"}", KUBE_ERR_GONE, "410"},
    {422, "{\"reason\":\"Invalid\",\"message\":\"bad spec\"}", -EINVAL, "bad spec"},
    {401, "", -EACCES, "(no message)"},
    {403, "<html>", -EPERM, "(not a Status)"},
    {429, "{}", -EBUSY, "429"},
    {503, "{}", -EIO, "503"},
    {418, "{}", -EPROTO, "418"},
};

START_TEST(test_status_table)
{
	char err[256];
	const char *body = status_cases[_i].body;
	int got = kube_status_error(status_cases[_i].status, body, strlen(body), "GET", "/x", err,
				    sizeof(err));
	ck_assert_int_eq(got, status_cases[_i].want);
	ck_assert_msg(strstr(err, status_cases[_i].in_message), "message \"%s\"", err);
	ck_assert_ptr_nonnull(strstr(err, "GET /x"));
}
END_TEST

START_TEST(test_backoff_bounds)
{
	for (int attempt = 0; attempt < 40; attempt++) {
		long d = kube_backoff_ms(attempt, 100, 5000);
		long cap = 100L << (attempt < 6 ? attempt : 6);
		if (cap > 5000)
			cap = 5000;
		ck_assert_int_ge(d, cap / 2);
		ck_assert_int_le(d, cap);
	}
}
END_TEST

START_TEST(test_event_build)
{
	struct timespec now = {1714557600, 1000};
	struct kube_event ev = {
	    .regarding = {.api_version = "coil.cybozu.com/v2",
			  .kind = "BlockRequest",
			  .name = "br-1",
			  .uid = "u1"},
	    .type = "Normal",
	    .reason = "Allocated",
	    .note = "allocated block default-0",
	    .reporting_controller = "coil.cybozu.com/coil-ipam-controller",
	    .reporting_instance = "ctl-0",
	};
	json_t *e = kube_event_build(&ev, &now);
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(kube_json_string(e, "apiVersion"), "events.k8s.io/v1");
	ck_assert_str_eq(kube_obj_name(e), "br-1.17cb550d96f243e8");
	ck_assert_str_eq(kube_obj_namespace(e), "default");
	ck_assert_str_eq(kube_json_string(e, "eventTime"), "2024-05-01T10:00:00.000001Z");
	ck_assert_str_eq(kube_json_string(e, "regarding.kind"), "BlockRequest");
	ck_assert_ptr_null(kube_json_path(e, "regarding.namespace"));
	ck_assert_str_eq(kube_json_string(e, "action"), "Allocated");
	ck_assert_str_eq(kube_json_string(e, "reportingInstance"), "ctl-0");
	json_decref(e);
	ev.type = "Info";
	ck_assert_ptr_null(kube_event_build(&ev, &now));
}
END_TEST

Suite *json_suite(void)
{
	Suite *s = suite_create("json");
	TCase *tc = tcase_create("json");
	tcase_add_test(tc, test_json_paths);
	tcase_add_loop_test(tc, test_time_parse_table, 0, N(time_cases));
	tcase_add_test(tc, test_time_format);
	tcase_add_loop_test(tc, test_base64_table, 0, N(base64_cases));
	tcase_add_test(tc, test_retry_after);
	tcase_add_loop_test(tc, test_warning_table, 0, N(warning_cases));
	tcase_add_test(tc, test_warning_cut);
	tcase_add_loop_test(tc, test_status_table, 0, N(status_cases));
	tcase_add_test(tc, test_backoff_bounds);
	tcase_add_test(tc, test_event_build);
	suite_add_tcase(s, tc);
	return s;
}
