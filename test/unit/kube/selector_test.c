#include "suites.h"

#include "kube/kube.h"

static const char *const labels_json =
    "{\"metadata\":{\"labels\":{\"app\":\"coil\",\"tier\":\"node\",\"coil.cybozu.com/node\":\"n1\","
    "\"empty\":\"\"}}}";

static const struct {
	const char *selector;
	int want; /* 1 match, 0 no match, -EINVAL malformed */
} selector_cases[] = {
    {NULL, 1},
    {"", 1},
    {"  ", 1},
    {"app=coil", 1},
    {"app==coil", 1},
    {"app = coil", 1},
    {"app=other", 0},
    {"app!=other", 1},
    {"app!=coil", 0},
    {"missing!=x", 1},
    {"app", 1},
    {"missing", 0},
    {"!missing", 1},
    {"!app", 0},
    {"app=coil,tier=node", 1},
    {"app=coil,tier=edge", 0},
    {"tier in (node, edge)", 1},
    {"tier in (edge)", 0},
    {"tier notin (edge)", 1},
    {"missing notin (edge)", 1},
    {"tier notin (node,edge)", 0},
    {"coil.cybozu.com/node=n1", 1},
    {"empty=", 1},
    {"empty in ()", -EINVAL},
    {"empty in (x,)", 1},
    {"app=coil, tier in (node), !x", 1},
    {"=coil", -EINVAL},
    {"app=coil,", -EINVAL},
    {"app in (a", -EINVAL},
    {"app in a", -EINVAL},
    {"app >", -EINVAL},
    {"app=coil)", -EINVAL},
    {"!", -EINVAL},
};

START_TEST(test_selector_table)
{
	json_t *obj = json_loads(labels_json, 0, NULL);
	char err[256] = "";
	int got = kube_label_selector_match(selector_cases[_i].selector, obj, err, sizeof(err));
	ck_assert_msg(got == selector_cases[_i].want, "selector \"%s\": got %d want %d (%s)",
		      selector_cases[_i].selector ? selector_cases[_i].selector : "(null)", got,
		      selector_cases[_i].want, err);
	json_decref(obj);
}
END_TEST

START_TEST(test_selector_no_labels)
{
	json_t *obj = json_loads("{\"metadata\":{}}", 0, NULL);
	ck_assert_int_eq(kube_label_selector_match("a", obj, NULL, 0), 0);
	ck_assert_int_eq(kube_label_selector_match("!a", obj, NULL, 0), 1);
	ck_assert_int_eq(kube_label_selector_match("a!=b", obj, NULL, 0), 1);
	json_decref(obj);
}
END_TEST

Suite *selector_suite(void)
{
	Suite *s = suite_create("selector");
	TCase *tc = tcase_create("selector");
	tcase_add_loop_test(tc, test_selector_table, 0, N(selector_cases));
	tcase_add_test(tc, test_selector_no_labels);
	suite_add_tcase(s, tc);
	return s;
}
