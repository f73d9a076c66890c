/* The client annotations: which Egresses a pod asks for. */
#include <errno.h>
#include <string.h>

#include "natclient/natclient.h"
#include "suites.h"

static const struct {
	const char *annotations; /* JSON */
	int ret;
	const char *refs; /* "ns/name;ns/name" in the object's key order */
} parse_cases[] = {
    {"null", 0, ""},
    {"{}", 0, ""},
    {"{\"other\":\"x\",\"coil.cybozu.com/pool\":\"a\"}", 0, ""},
    {"{\"egress.coil.cybozu.com/internet\":\"egress\"}", 0, "internet/egress"},
    {"{\"egress.coil.cybozu.com/ns2\":\"a,b\"}", 0, "ns2/a;ns2/b"},
    /* split on ',' only: no trimming, empty elements kept */
    {"{\"egress.coil.cybozu.com/ns2\":\"a, b\"}", 0, "ns2/a;ns2/ b"},
    {"{\"egress.coil.cybozu.com/ns2\":\"\"}", 0, "ns2/"},
    {"{\"egress.coil.cybozu.com/ns2\":\"a,,b,\"}", 0, "ns2/a;ns2/;ns2/b;ns2/"},
    {"{\"egress.coil.cybozu.com/a\":\"x\",\"egress.coil.cybozu.com/b\":\"y\"}", 0, "a/x;b/y"},
    {"{\"egress.coil.cybozu.com/\":\"x\"}", -EINVAL, ""},
    {"{\"egress.coil.cybozu.com/a\":1}", -EINVAL, ""},
    {"{\"egress.coil.cybozu.com/a\":\"x\\u0000y\"}", -EINVAL, ""},
    {"{\"egress.coil.cybozu.co/a\":\"x\"}", 0, ""},
};

START_TEST(test_parse)
{
	json_t *ann =
	    json_loads(parse_cases[_i].annotations, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	struct natclient_refs refs;
	char err[256] = "", got[512] = "";
	int ret = natclient_refs_parse(ann, &refs, err, sizeof(err));
	ck_assert_int_eq(ret, parse_cases[_i].ret);
	for (size_t i = 0; ret == 0 && i < refs.n; i++) {
		size_t len = strlen(got);
		snprintf(got + len, sizeof(got) - len, "%s%s/%s", i ? ";" : "", refs.items[i].ns,
			 refs.items[i].name);
	}
	if (ret == 0)
		ck_assert_str_eq(got, parse_cases[_i].refs);
	else
		ck_assert(strstr(err, "annotation egress.coil.cybozu.com/") != NULL);
	natclient_refs_free(&refs);
	natclient_refs_free(&refs); /* safe twice */
	json_decref(ann);
}
END_TEST

static const struct {
	const char *annotations, *ns, *name;
	bool match;
} match_cases[] = {
    {"{\"egress.coil.cybozu.com/default\":\"egress1\"}", "default", "egress1", true},
    {"{\"egress.coil.cybozu.com/default\":\"egress2\"}", "default", "egress1", false},
    {"{\"egress.coil.cybozu.com/internet\":\"egress1\"}", "default", "egress1", false},
    {"{\"egress.coil.cybozu.com/default\":\"a,egress1\"}", "default", "egress1", true},
    {"{\"egress.coil.cybozu.com/default\":\"a, egress1\"}", "default", "egress1", false},
    {"{\"egress.coil.cybozu.com/default\":\"egress10\"}", "default", "egress1", false},
    {"{\"egress.coil.cybozu.com/default\":\"egress\"}", "default", "egress1", false},
    {"{\"egress.coil.cybozu.com/default\":1}", "default", "egress1", false},
    {"null", "default", "egress1", false},
};

START_TEST(test_match)
{
	json_t *ann = json_loads(match_cases[_i].annotations, JSON_DECODE_ANY, NULL);
	ck_assert_int_eq(natclient_refs_match(ann, match_cases[_i].ns, match_cases[_i].name),
			 match_cases[_i].match);
	json_decref(ann);
}
END_TEST

Suite *annotation_suite(void)
{
	Suite *s = suite_create("annotations");
	TCase *tc = tcase_create("parse");
	tcase_add_loop_test(tc, test_parse, 0, sizeof(parse_cases) / sizeof(parse_cases[0]));
	tcase_add_loop_test(tc, test_match, 0, sizeof(match_cases) / sizeof(match_cases[0]));
	suite_add_tcase(s, tc);
	return s;
}
