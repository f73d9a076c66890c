#include "flags/flags.h"

#include <check.h>
#include <errno.h>
#include <math.h>

static const struct {
	const char *text;
	double seconds; /* < 0: invalid */
} durations[] = {
    {"1h0m0s", 3600}, {"5m0s", 300}, {"10s", 10}, {"250ms", 0.25}, {"1.5h", 5400}, {"0", 0},
    {"1us", 1e-6},    {"", -1},	     {"10", -1},  {"5x", -1},	   {"-1s", -1},	   {"1h-", -1},
};

START_TEST(test_duration)
{
	double s = 0;
	int rc = flags_parse_duration(durations[_i].text, &s);
	if (durations[_i].seconds < 0) {
		ck_assert_int_eq(rc, -EINVAL);
	} else {
		ck_assert_int_eq(rc, 0);
		ck_assert(fabs(s - durations[_i].seconds) < 1e-12);
	}
}
END_TEST

START_TEST(test_parse_upstream_args)
{
	const char *socket = "/run/coild.sock";
	int table = 119;
	bool ipam = true, calico = false;
	double gc = 300;
	const struct flag flags[] = {
	    {"socket", FLAG_STRING, &socket, ""},
	    {"export-table-id", FLAG_INT, &table, ""},
	    {"enable-ipam", FLAG_BOOL, &ipam, ""},
	    {"compat-calico", FLAG_BOOL, &calico, ""},
	    {"addressblock-gc-interval", FLAG_DURATION, &gc, ""},
	};
	char *argv[] = {"coild",
			"--socket",
			"/tmp/s",
			"--export-table-id=200",
			"--enable-ipam=false",
			"--compat-calico",
			"--zap-stacktrace-level=panic",
			"-v",
			"2",
			"--zap-devel",
			"--addressblock-gc-interval=1m0s"};
	char err[128];
	ck_assert_int_eq(flags_parse(flags, 5, 11, argv, "", err, sizeof(err)), 0);
	ck_assert_str_eq(socket, "/tmp/s");
	ck_assert_int_eq(table, 200);
	ck_assert(!ipam);
	ck_assert(calico);
	ck_assert(fabs(gc - 60) < 1e-9);
}
END_TEST

START_TEST(test_parse_errors)
{
	int n = 0;
	const struct flag flags[] = {{"n", FLAG_INT, &n, ""}};
	char err[128];
	char *unknown[] = {"x", "--nope"};
	ck_assert_int_eq(flags_parse(flags, 1, 2, unknown, "", err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "unknown flag: --nope");
	char *missing[] = {"x", "--n"};
	ck_assert_int_eq(flags_parse(flags, 1, 2, missing, "", err, sizeof(err)), -EINVAL);
	char *bad[] = {"x", "--n=abc"};
	ck_assert_int_eq(flags_parse(flags, 1, 2, bad, "", err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "invalid argument \"abc\" for \"--n\" flag");
	char *positional[] = {"x", "extra"};
	ck_assert_int_eq(flags_parse(flags, 1, 2, positional, "", err, sizeof(err)), -EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("flags");
	TCase *tc = tcase_create("flags");
	tcase_add_loop_test(tc, test_duration, 0, sizeof(durations) / sizeof(durations[0]));
	tcase_add_test(tc, test_parse_upstream_args);
	tcase_add_test(tc, test_parse_errors);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
