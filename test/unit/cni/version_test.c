#include "suites.h"

#include "cni/cni.h"

#include <string.h>

static const struct {
	const char *a, *b;
	int cmp;
} compare_cases[] = {
    {"0.4.0", "0.3.1", 1}, {"0.3.1", "0.4.0", -1}, {"1.0.0", "1.0.0", 0},
    {"1.1.0", "1.0.0", 1}, {"1", "1.0.0", 0},	   {"0.10.0", "0.9.0", 1},
    {"", "0.1.0", 0},	   {"1.1", "1.1.0", 0},	   {"2.0.0", "1.99.99", 1},
};

START_TEST(test_compare)
{
	struct cni_error err = {0};
	int cmp = 42;
	ck_assert_int_eq(cni_version_compare(compare_cases[_i].a, compare_cases[_i].b, &cmp, &err),
			 0);
	ck_assert_int_eq(cmp, compare_cases[_i].cmp);
}
END_TEST

static const struct {
	const char *version, *msg;
} bad_cases[] = {
    {"x",
     "failed to convert major version part \"x\": strconv.Atoi: parsing \"x\": invalid syntax"},
    {"1.x",
     "failed to convert minor version part \"x\": strconv.Atoi: parsing \"x\": invalid syntax"},
    {"1.0.",
     "failed to convert micro version part \"\": strconv.Atoi: parsing \"\": invalid syntax"},
    {"1.0.0.0", "invalid version \"1.0.0.0\": too many parts"},
    {"x.y.z.w", "invalid version \"x.y.z.w\": too many parts"},
    {"99999999999", "failed to convert major version part \"99999999999\": strconv.Atoi: "
		    "parsing \"99999999999\": value out of range"},
};

START_TEST(test_bad_version)
{
	struct cni_error err = {0};
	int parts[3];
	ck_assert_int_lt(cni_version_parse(bad_cases[_i].version, parts, &err), 0);
	ck_assert_int_eq(err.code, CNI_ERR_DECODING);
	ck_assert_str_eq(err.msg, bad_cases[_i].msg);
	int cmp;
	ck_assert_int_lt(cni_version_compare("1.0.0", bad_cases[_i].version, &cmp, &err), 0);
}
END_TEST

START_TEST(test_supported)
{
	ck_assert(cni_version_is_supported("0.3.1"));
	ck_assert(cni_version_is_supported("0.4.0"));
	ck_assert(cni_version_is_supported("1.0.0"));
	ck_assert(cni_version_is_supported("1.1.0"));
	ck_assert(!cni_version_is_supported("0.3.0"));
	ck_assert(!cni_version_is_supported("0.1.0"));
	ck_assert(!cni_version_is_supported("1.1"));
	ck_assert(cni_version_is_0x("0.3.0") && !cni_version_is_0x("1.0.0"));
	ck_assert_str_eq(cni_version_info_json, "{\"cniVersion\":\"1.1.0\",\"supportedVersions\":"
						"[\"0.3.1\",\"0.4.0\",\"1.0.0\",\"1.1.0\"]}\n");
}
END_TEST

Suite *version_suite(void)
{
	Suite *s = suite_create("version");
	TCase *tc = tcase_create("version");
	tcase_add_loop_test(tc, test_compare, 0, N(compare_cases));
	tcase_add_loop_test(tc, test_bad_version, 0, N(bad_cases));
	tcase_add_test(tc, test_supported);
	suite_add_tcase(s, tc);
	return s;
}
