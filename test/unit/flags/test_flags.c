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
	struct flags_common common;
	flags_common_init(&common);
	ck_assert_int_eq(flags_parse(flags, 5, 11, argv, "", err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "unknown flag: --zap-stacktrace-level=panic");
	ck_assert_int_eq(flags_parse_program(flags, 5, &common, 11, argv, "", err, sizeof(err)), 0);
	ck_assert_str_eq(common.zap_stacktrace_level, "panic");
	ck_assert_int_eq(common.v, 2);
	ck_assert(common.zap_devel);
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

/* Every klog and zap flag in the forms Go's flag packages take, and what each one sets. */
static const struct {
	const char *args[3];
	int ok;
} common_cases[] = {
    {{"--version"}, 1},
    {{"-v=2"}, 1},
    {{"-v", "3"}, 1},
    {{"--v=4"}, 1},
    {{"--v", "x"}, 0},
    {{"--logtostderr"}, 1},
    {{"-logtostderr=false"}, 1},
    {{"--alsologtostderr"}, 1},
    {{"--log_dir", "/tmp"}, 1},
    {{"-log_dir=/tmp"}, 1},
    {{"--log_file=/tmp/x.log"}, 1},
    {{"--log_file_max_size=10"}, 1},
    {{"--log_file_max_size=-1"}, 0},
    {{"--skip_headers"}, 1},
    {{"--skip_log_headers=true"}, 1},
    {{"--stderrthreshold=ERROR"}, 1},
    {{"--stderrthreshold", "warning"}, 1},
    {{"--stderrthreshold=1"}, 1},
    {{"--stderrthreshold=LOUD"}, 0},
    {{"--vmodule=foo=2,bar*=1"}, 1},
    {{"--add_dir_header"}, 1},
    {{"--one_output=true"}, 1},
    {{"--log_backtrace_at=file.go:10"}, 1},
    {{"--zap-devel"}, 1},
    {{"--zap-devel=false"}, 1},
    {{"--zap-encoder=console"}, 1},
    {{"--zap-encoder", "json"}, 1},
    {{"--zap-encoder=xml"}, 0},
    {{"--zap-log-level=debug"}, 1},
    {{"--zap-log-level", "error"}, 1},
    {{"--zap-log-level=5"}, 1},
    {{"--zap-log-level=0"}, 0},
    {{"--zap-log-level=loud"}, 0},
    {{"--zap-stacktrace-level=panic"}, 1},
    {{"--zap-stacktrace-level=debug"}, 0},
    {{"--zap-time-encoding=rfc3339nano"}, 1},
    {{"--zap-time-encoding=iso8601"}, 1},
    {{"--zap-time-encoding=unix"}, 0},
    {{"--no-such-flag"}, 0},
    {{"-version=false", "--v=1"}, 1},
};

START_TEST(test_common_flags)
{
	bool own = false;
	const struct flag flags[] = {{"own", FLAG_BOOL, &own, ""}};
	char *argv[4] = {"prog"};
	int argc = 1;
	for (int i = 0; i < 3 && common_cases[_i].args[i]; i++)
		argv[argc++] = (char *)common_cases[_i].args[i];
	struct flags_common c;
	char err[160];
	flags_common_init(&c);
	int rc = flags_parse_program(flags, 1, &c, argc, argv, "", err, sizeof(err));
	ck_assert_msg(common_cases[_i].ok ? rc == 0 : rc == -EINVAL, "%s: %d", argv[1], rc);
}
END_TEST

START_TEST(test_common_values)
{
	const struct flag none[] = {{"own", FLAG_BOOL, &(bool){false}, ""}};
	char *argv[] = {"prog",
			"-v",
			"2",
			"--logtostderr=false",
			"--version",
			"--zap-log-level=debug",
			"--log_dir",
			"/var/log",
			"--vmodule=a=1",
			"--log_file_max_size=5"};
	struct flags_common c;
	char err[160];
	flags_common_init(&c);
	ck_assert(c.logtostderr);
	ck_assert_int_eq(c.log_file_max_size, 1800);
	ck_assert_str_eq(c.stderrthreshold, "2");
	ck_assert_int_eq(flags_parse_program(none, 1, &c, 10, argv, "", err, sizeof(err)), 0);
	ck_assert_int_eq(c.v, 2);
	ck_assert(!c.logtostderr);
	ck_assert(c.version);
	ck_assert_str_eq(c.zap_log_level, "debug");
	ck_assert_str_eq(c.log_dir, "/var/log");
	ck_assert_str_eq(c.vmodule, "a=1");
	ck_assert_int_eq(c.log_file_max_size, 5);
	char *bad[] = {"prog", "--zap-log-level=loud"};
	flags_common_init(&c);
	ck_assert_int_eq(flags_parse_program(none, 1, &c, 2, bad, "", err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "invalid argument \"loud\" for \"--zap-log-level\" flag");
	char *badv[] = {"prog", "-v=x"};
	ck_assert_int_eq(flags_parse_program(none, 1, &c, 2, badv, "", err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "invalid argument \"x\" for \"--v\" flag");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("flags");
	TCase *tc = tcase_create("flags");
	tcase_add_loop_test(tc, test_duration, 0, sizeof(durations) / sizeof(durations[0]));
	tcase_add_test(tc, test_parse_upstream_args);
	tcase_add_test(tc, test_parse_errors);
	tcase_add_loop_test(tc, test_common_flags, 0,
			    sizeof(common_cases) / sizeof(common_cases[0]));
	tcase_add_test(tc, test_common_values);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
