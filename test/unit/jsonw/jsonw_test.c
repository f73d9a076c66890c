/* lib/jsonw: what it writes is JSON that jansson reads back to the same strings, escapes as
 * JSON requires, and treats bytes that are not UTF-8 as the writer asked. */
#include "jsonw/jsonw.h"

#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static char *object_of(const char *key, const char *value, bool strict)
{
	struct jsonw w;
	jsonw_init(&w, strict);
	jsonw_raw(&w, "{", 1);
	jsonw_member(&w, key, value);
	jsonw_raw(&w, "}", 1);
	return jsonw_take(&w, NULL);
}

static const struct {
	const char *in, *want; /* want: the text between the quotes */
} cases[] = {
    {"plain", "plain"},
    {"quote \" and \\ back", "quote \\\" and \\\\ back"},
    {"\n\r\t\b\f", "\\n\\r\\t\\b\\f"},
    {"\x01\x1f", "\\u0001\\u001f"},
    {"/slash", "/slash"},
    {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"},
    {"bad \xff end", "bad \xef\xbf\xbd end"},
    {"overlong \xc0\xaf", "overlong \xef\xbf\xbd\xef\xbf\xbd"},
    {"surrogate \xed\xa0\x80", "surrogate \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
    {"cut \xe2\x82", "cut \xef\xbf\xbd\xef\xbf\xbd"},
    {"", ""},
};

START_TEST(test_escapes)
{
	char *text = object_of("k", cases[_i].in, false);
	ck_assert_ptr_nonnull(text);
	char want[256];
	snprintf(want, sizeof(want), "{\"k\":\"%s\"}", cases[_i].want);
	ck_assert_str_eq(text, want);
	json_error_t jerr;
	json_t *doc = json_loads(text, 0, &jerr);
	ck_assert_msg(doc != NULL, "%s: %s", text, jerr.text);
	json_decref(doc);
	free(text);
}
END_TEST

START_TEST(test_round_trip_through_jansson)
{
	const char *value = "a\"b\\c\nd\x7f\xc3\xa9";
	char *text = object_of("key \"q\"", value, true);
	json_t *doc = json_loads(text, 0, NULL);
	ck_assert_ptr_nonnull(doc);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "key \"q\"")), value);
	json_decref(doc);
	free(text);
}
END_TEST

START_TEST(test_strict_refuses_bad_utf8)
{
	ck_assert_ptr_null(object_of("k", "bad \xff", true));
	char *text = object_of("k", "good", true);
	ck_assert_str_eq(text, "{\"k\":\"good\"}");
	free(text);
}
END_TEST

START_TEST(test_commas_null_and_growth)
{
	struct jsonw w;
	jsonw_init(&w, false);
	jsonw_raw(&w, "{", 1);
	jsonw_member(&w, "a", NULL);
	jsonw_key(&w, "list");
	jsonw_raw(&w, "[", 1);
	char big[3000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (int i = 0; i < 3; i++) {
		jsonw_comma(&w);
		jsonw_string(&w, big, strlen(big));
	}
	jsonw_raw(&w, "]", 1);
	jsonw_member(&w, "b", "c:");
	jsonw_member(&w, "d", "e");
	jsonw_raw(&w, "}", 1);
	size_t len = 0;
	char *text = jsonw_take(&w, &len);
	ck_assert_uint_eq(len, strlen(text));
	json_t *doc = json_loads(text, 0, NULL);
	ck_assert_ptr_nonnull(doc);
	ck_assert(json_is_null(json_object_get(doc, "a")));
	ck_assert_uint_eq(json_array_size(json_object_get(doc, "list")), 3);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "b")), "c:");
	ck_assert_str_eq(json_string_value(json_object_get(doc, "d")), "e");
	json_decref(doc);
	free(text);
	jsonw_free(&w); /* empty after take: harmless */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("jsonw");
	TCase *tc = tcase_create("jsonw");
	tcase_add_loop_test(tc, test_escapes, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_round_trip_through_jansson);
	tcase_add_test(tc, test_strict_refuses_bad_utf8);
	tcase_add_test(tc, test_commas_null_and_growth);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
