#include "metrics/metrics.h"

#include <check.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

START_TEST(test_render)
{
	struct metrics *m = metrics_new();
	ck_assert_int_eq(metrics_declare(m, "coil_router_syncs_total", METRIC_COUNTER, "syncs"), 0);
	ck_assert_int_eq(metrics_declare(m, "g", METRIC_GAUGE, "a gauge"), 0);
	ck_assert_int_eq(metrics_declare(m, "unused", METRIC_GAUGE, "no series"), 0);
	ck_assert_int_eq(metrics_add(m, "coil_router_syncs_total", "node=\"n1\"", 1), 0);
	ck_assert_int_eq(metrics_add(m, "coil_router_syncs_total", "node=\"n1\"", 2), 0);
	ck_assert_int_eq(metrics_set(m, "g", "", 7), 0);
	ck_assert_int_eq(metrics_set(m, "g", "pool=\"x\"", 1), 0);
	ck_assert_int_eq(metrics_delete(m, "g", "pool=\"x\""), 0);
	ck_assert_int_eq(metrics_add(m, "undeclared", "", 1), -ENOENT);
	char *text = metrics_render(m);
	ck_assert_str_eq(text, "# HELP coil_router_syncs_total syncs\n"
			       "# TYPE coil_router_syncs_total counter\n"
			       "coil_router_syncs_total{node=\"n1\"} 3\n"
			       "# HELP g a gauge\n"
			       "# TYPE g gauge\n"
			       "g 7\n");
	free(text);
	metrics_free(m);
}
END_TEST

/* Table: each value and the label set metrics_labels must make of it. */
START_TEST(test_label_escaping)
{
	static const struct {
		const char *value, *want;
	} cases[] = {
	    {"plain", "pool=\"plain\""},
	    {"back\\slash", "pool=\"back\\\\slash\""},
	    {"say \"hi\"", "pool=\"say \\\"hi\\\"\""},
	    {"two\nlines", "pool=\"two\\nlines\""},
	    {"", "pool=\"\""},
	    {"tab\tstays", "pool=\"tab\tstays\""},
	};
	char buf[64];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_int_eq(metrics_labels(buf, sizeof(buf), "pool", cases[i].value, NULL), 0);
		ck_assert_str_eq(buf, cases[i].want);
	}
	ck_assert_int_eq(metrics_labels(buf, sizeof(buf), "a", "1", "b", "x\"y", NULL), 0);
	ck_assert_str_eq(buf, "a=\"1\",b=\"x\\\"y\"");
	ck_assert_int_eq(metrics_labels(buf, sizeof(buf), NULL), 0);
	ck_assert_str_eq(buf, "");
	ck_assert_int_eq(metrics_labels(buf, 8, "pool", "toolong", NULL), -ENAMETOOLONG);
	/* An escaped value renders as given, and names one series. */
	struct metrics *m = metrics_new();
	ck_assert_int_eq(metrics_declare(m, "g", METRIC_GAUGE, "a gauge"), 0);
	ck_assert_int_eq(metrics_labels(buf, sizeof(buf), "node", "a\"b\n", NULL), 0);
	ck_assert_int_eq(metrics_set(m, "g", buf, 2), 0);
	char *text = metrics_render(m);
	ck_assert_str_eq(text, "# HELP g a gauge\n# TYPE g gauge\ng{node=\"a\\\"b\\n\"} 2\n");
	free(text);
	metrics_free(m);
}
END_TEST

static double value_of(const char *text, const char *name)
{
	char key[128];
	snprintf(key, sizeof(key), "\n%s ", name);
	const char *p = strstr(text, key);
	ck_assert_msg(p != NULL, "no sample of %s", name);
	return strtod(p + strlen(key), NULL);
}

static void assert_type(const char *text, const char *name, const char *type)
{
	char line[160];
	snprintf(line, sizeof(line), "# TYPE %s %s\n", name, type);
	ck_assert_msg(strstr(text, line) != NULL, "missing %s", line);
}

START_TEST(test_process_metrics)
{
	struct metrics *m = metrics_new();
	char *text = metrics_render(m);
	ck_assert_ptr_null(strstr(text, "process_"));
	free(text);
	metrics_add_process(m);
	text = metrics_render(m);
	assert_type(text, "process_cpu_seconds_total", "counter");
	assert_type(text, "process_resident_memory_bytes", "gauge");
	assert_type(text, "process_virtual_memory_bytes", "gauge");
	assert_type(text, "process_virtual_memory_max_bytes", "gauge");
	assert_type(text, "process_open_fds", "gauge");
	assert_type(text, "process_max_fds", "gauge");
	assert_type(text, "process_start_time_seconds", "gauge");
	ck_assert(value_of(text, "process_cpu_seconds_total") >= 0);
	ck_assert(value_of(text, "process_resident_memory_bytes") > 100 * 1024);
	ck_assert(value_of(text, "process_virtual_memory_bytes") >=
		  value_of(text, "process_resident_memory_bytes"));
	ck_assert(value_of(text, "process_open_fds") >= 3);
	ck_assert(value_of(text, "process_max_fds") >= value_of(text, "process_open_fds"));
	double start = value_of(text, "process_start_time_seconds");
	double now = (double)time(NULL);
	ck_assert(start > now - 3600 && start <= now + 1);
	free(text);
	metrics_free(m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("metrics");
	tcase_add_test(tc, test_render);
	tcase_add_test(tc, test_label_escaping);
	tcase_add_test(tc, test_process_metrics);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
