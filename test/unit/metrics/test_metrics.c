#include "metrics/metrics.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>

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

int main(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("metrics");
	tcase_add_test(tc, test_render);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
