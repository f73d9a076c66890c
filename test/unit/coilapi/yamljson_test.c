/* Table tests of lib/yamljson: scalar typing, aliases, duplicate keys, streams and errors. */
#include "yamljson/yamljson.h"

#include "suites.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MANIFEST (YAMLJSON_TYPED | YAMLJSON_ALIASES | YAMLJSON_UNIQUE_KEYS)

/* The JSON text of the first document, or "!" and the error message. */
static void convert(const char *yaml, unsigned flags, char *out, size_t len)
{
	json_t *doc = NULL;
	char err[256] = "";
	if (yamljson_parse(yaml, strlen(yaml), flags, &doc, err, sizeof(err)) < 0) {
		ck_assert_ptr_null(doc);
		snprintf(out, len, "!%s", err);
		return;
	}
	char *text = json_dumps(doc, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(6));
	snprintf(out, len, "%s", text);
	free(text);
	json_decref(doc);
}

static const struct {
	const char *scalar, *json;
} scalar_cases[] = {
    {"~", "null"},
    {"", "null"},
    {"null", "null"},
    {"NULL", "null"},
    {"true", "true"},
    {"False", "false"},
    {"yes", "\"yes\""},
    {"no", "\"no\""},
    {"n", "\"n\""},
    {"5", "5"},
    {"-3", "-3"},
    {"+4", "4"},
    {"0x1f", "31"},
    {"0o17", "15"},
    {"017", "15"},
    {"0b101", "5"},
    {"1_000", "1000"},
    {"0", "0"},
    {"-9223372036854775808", "-9223372036854775808"},
    {"99999999999999999999", "1e20"},
    {"1.5", "1.5"},
    {"-2e3", "-2000.0"},
    {".inf", "\".inf\""},
    {"0x", "\"0x\""},
    {"9x", "\"9x\""},
    {"10.0.0.0/24", "\"10.0.0.0/24\""},
    {"10.0.0.0", "\"10.0.0.0\""},
    {"fd00::/64", "\"fd00::/64\""},
    {"'5'", "\"5\""},
    {"\"true\"", "\"true\""},
    {"'~'", "\"~\""},
    {"!!str 5", "\"5\""},
    {"!!int \"+7\"", "7"},
    {"!!bool 'true'", "true"},
    {"!!null x", "null"},
    {"!!float 2", "2.0"},
    {"!custom 5", "\"5\""},
    {"!!int abc", "!v: YAML scalar \"abc\": not an integer"},
    {"!!bool maybe", "!v: YAML scalar \"maybe\": not a boolean"},
};

START_TEST(test_scalars)
{
	char yaml[128], got[256], want[256];
	snprintf(yaml, sizeof(yaml), "v: %s\n", scalar_cases[_i].scalar);
	convert(yaml, YAMLJSON_TYPED, got, sizeof(got));
	if (scalar_cases[_i].json[0] == '!')
		snprintf(want, sizeof(want), "%s", scalar_cases[_i].json);
	else
		snprintf(want, sizeof(want), "{\"v\":%s}", scalar_cases[_i].json);
	ck_assert_msg(strcmp(got, want) == 0, "%s: got %s want %s", scalar_cases[_i].scalar, got,
		      want);
}
END_TEST

static const struct {
	const char *what, *yaml;
	unsigned flags;
	const char *want;
} doc_cases[] = {
    {"text mode keeps every scalar a string", "a: true\nb: 5\nc: ~\nd: [1, x]\n", 0,
     "{\"a\":\"true\",\"b\":\"5\",\"c\":\"~\",\"d\":[\"1\",\"x\"]}"},
    {"an empty stream is an empty object", "", 0, "{}"},
    {"only the first document", "a: 1\n---\nb: 2\n", MANIFEST, "{\"a\":1}"},
    {"text mode: the last of a repeated key wins", "a: 1\na: 2\n", 0, "{\"a\":\"2\"}"},
    {"duplicate keys refused with their path", "a:\n  b: [{c: 1, c: 2}]\n", MANIFEST,
     "!a.b[0].c: duplicate key"},
    {"aliases refused by default", "a: &x 1\nb: *x\n", YAMLJSON_TYPED,
     "!b: YAML aliases are not supported"},
    {"aliases share the anchored value", "a: &x [1, {k: v}]\nb: *x\n", MANIFEST,
     "{\"a\":[1,{\"k\":\"v\"}],\"b\":[1,{\"k\":\"v\"}]}"},
    {"an alias to an unknown anchor", "a: *nope\n", MANIFEST,
     "!a: YAML alias to an unknown anchor \"nope\""},
    {"an alias inside its own anchor is unknown", "a: &x [*x]\n", MANIFEST,
     "!a[0]: YAML alias to an unknown anchor \"x\""},
    {"keys must be scalars", "? [a]\n: b\n", MANIFEST, "!YAML mapping keys must be scalars"},
    {"a syntax error names the line", "a: [b\n", 0,
     "!invalid YAML at line 2 column 1: did not find expected ',' or ']'"},
    {"a NUL byte in a quoted scalar is kept", "a: \"x\\0y\"\n", MANIFEST, "{\"a\":\"x\\u0000y\"}"},
};

START_TEST(test_documents)
{
	char got[512];
	convert(doc_cases[_i].yaml, doc_cases[_i].flags, got, sizeof(got));
	ck_assert_msg(strcmp(got, doc_cases[_i].want) == 0, "%s: got %s want %s",
		      doc_cases[_i].what, got, doc_cases[_i].want);
}
END_TEST

/* Ten levels of ten aliases would be 10^10 nodes once expanded. */
START_TEST(test_alias_bomb)
{
	char yaml[4096] = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
	for (int i = 1; i < 10; i++) {
		char line[256];
		snprintf(line, sizeof(line),
			 "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n",
			 i, i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1,
			 i - 1);
		strcat(yaml, line);
	}
	char got[256];
	convert(yaml, MANIFEST, got, sizeof(got));
	ck_assert_str_eq(got, "!a5[8]: YAML: more than 1048576 nodes (alias expansion)");
}
END_TEST

START_TEST(test_depth_limit)
{
	char yaml[256];
	memset(yaml, '[', 100);
	yaml[100] = '\0';
	char got[256];
	convert(yaml, 0, got, sizeof(got));
	ck_assert_str_eq(got, "!YAML: nested deeper than 64");
}
END_TEST

struct collected {
	char text[512];
	int stop_at; /* the callback fails at this document number (0 = never) */
};

static int collect(const json_t *doc, size_t number, void *ctx, char *err, size_t errlen)
{
	struct collected *c = ctx;
	if ((int)number == c->stop_at) {
		snprintf(err, errlen, "stopped at %zu", number);
		return -ECANCELED;
	}
	char *text = json_dumps(doc, JSON_COMPACT | JSON_ENCODE_ANY);
	size_t used = strlen(c->text);
	snprintf(c->text + used, sizeof(c->text) - used, "%zu:%s ", number, text);
	free(text);
	return 0;
}

START_TEST(test_stream)
{
	const char *yaml = "# lead\n---\na: 1\n---\n---\n- b\n...\n---\n";
	struct collected c = {"", 0};
	char err[256] = "";
	ck_assert_int_eq(
	    yamljson_parse_stream(yaml, strlen(yaml), MANIFEST, collect, &c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.text, "1:{\"a\":1} 2:null 3:[\"b\"] 4:null ");

	c = (struct collected){"", 2};
	ck_assert_int_eq(
	    yamljson_parse_stream(yaml, strlen(yaml), MANIFEST, collect, &c, err, sizeof(err)),
	    -ECANCELED);
	ck_assert_str_eq(err, "stopped at 2");

	const char *bad = "a: 1\n---\nb: 'x\n";
	c = (struct collected){"", 0};
	ck_assert_int_eq(
	    yamljson_parse_stream(bad, strlen(bad), MANIFEST, collect, &c, err, sizeof(err)),
	    -EINVAL);
	ck_assert_str_eq(c.text, "1:{\"a\":1} ");
	ck_assert_msg(strncmp(err, "document 2: invalid YAML at line", 32) == 0, "%s", err);

	/* anchors are scoped to their document */
	const char *scoped = "a: &x 1\n---\nb: *x\n";
	c = (struct collected){"", 0};
	ck_assert_int_eq(
	    yamljson_parse_stream(scoped, strlen(scoped), MANIFEST, collect, &c, err, sizeof(err)),
	    -EINVAL);
	ck_assert_str_eq(err, "document 2: b: YAML alias to an unknown anchor \"x\"");

	c = (struct collected){"", 0};
	ck_assert_int_eq(yamljson_parse_stream("", 0, MANIFEST, collect, &c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.text, "");
}
END_TEST

#define N(a) (int)(sizeof(a) / sizeof((a)[0]))

Suite *yamljson_suite(void)
{
	Suite *s = suite_create("yamljson");
	TCase *tc = tcase_create("convert");
	tcase_add_loop_test(tc, test_scalars, 0, N(scalar_cases));
	tcase_add_loop_test(tc, test_documents, 0, N(doc_cases));
	tcase_add_test(tc, test_alias_bomb);
	tcase_add_test(tc, test_depth_limit);
	tcase_add_test(tc, test_stream);
	suite_add_tcase(s, tc);
	return s;
}
