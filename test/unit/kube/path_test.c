#include "suites.h"

#include "kube/internal.h"

#include <stdlib.h>
#include <string.h>

static const struct kube_resource WIDGETS = {"example.com", "v1beta1", "widgets", "Widget", true};
static const struct kube_resource GADGETS = {"example.com", "v2", "gadgets", "Gadget", false};

static const struct {
	const struct kube_resource *res;
	const char *ns, *name, *sub, *want; /* want NULL: rejected */
} path_cases[] = {
    {&KUBE_RES_PODS, "default", NULL, NULL, "/api/v1/namespaces/default/pods"},
    {&KUBE_RES_PODS, NULL, NULL, NULL, "/api/v1/pods"},
    {&KUBE_RES_PODS, "kube-system", "coild-x", NULL, "/api/v1/namespaces/kube-system/pods/coild-x"},
    {&KUBE_RES_PODS, "ns", "p", "status", "/api/v1/namespaces/ns/pods/p/status"},
    {&KUBE_RES_NODES, "ignored", "node1", NULL, "/api/v1/nodes/node1"},
    {&KUBE_RES_LEASES, "kube-system", "coil-ipam-leader", NULL,
     "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/coil-ipam-leader"},
    {&GADGETS, "ignored", "g-0", NULL, "/apis/example.com/v2/gadgets/g-0"},
    {&GADGETS, NULL, "br", "status", "/apis/example.com/v2/gadgets/br/status"},
    {&KUBE_RES_DEPLOYMENTS, "d", "web", "scale",
     "/apis/apps/v1/namespaces/d/deployments/web/scale"},
    {&WIDGETS, "a b", "x/y", NULL, "/apis/example.com/v1beta1/namespaces/a%20b/widgets/x%2Fy"},
    {&KUBE_RES_PODS, "ns", "..", NULL, NULL},
    {&KUBE_RES_PODS, "ns", "", NULL, NULL},
    {&KUBE_RES_PODS, "..", "p", NULL, NULL},
    {&KUBE_RES_PODS, "ns", NULL, "status", NULL}, /* subresource needs a name */
};

START_TEST(test_path_table)
{
	char buf[256];
	int ret = kube_path(path_cases[_i].res, path_cases[_i].ns, path_cases[_i].name,
			    path_cases[_i].sub, buf, sizeof(buf));
	if (path_cases[_i].want) {
		ck_assert_int_eq(ret, 0);
		ck_assert_str_eq(buf, path_cases[_i].want);
	} else {
		ck_assert_int_eq(ret, -EINVAL);
	}
}
END_TEST

START_TEST(test_path_too_long)
{
	char buf[16];
	ck_assert_int_eq(kube_path(&KUBE_RES_PODS, "default", NULL, NULL, buf, sizeof(buf)),
			 -ENAMETOOLONG);
}
END_TEST

START_TEST(test_query_escape)
{
	char *s = kube_query_escape("app=coil,tier in (a,b)&x~_.-");
	ck_assert_str_eq(s, "app%3Dcoil%2Ctier%20in%20%28a%2Cb%29%26x~_.-");
	free(s);
}
END_TEST

START_TEST(test_list_query)
{
	struct kube_list_opts opts = {.label_selector = "a=b",
				      .field_selector = "spec.nodeName=n1",
				      .limit = 100,
				      .continue_token = "tok/en=="};
	char *q = kube_list_query(&opts);
	ck_assert_str_eq(q, "labelSelector=a%3Db&fieldSelector=spec.nodeName%3Dn1&limit=100&"
			    "continue=tok%2Fen%3D%3D");
	free(q);
	q = kube_list_query(NULL);
	ck_assert_str_eq(q, "");
	free(q);
}
END_TEST

Suite *path_suite(void)
{
	Suite *s = suite_create("path");
	TCase *tc = tcase_create("path");
	tcase_add_loop_test(tc, test_path_table, 0, N(path_cases));
	tcase_add_test(tc, test_path_too_long);
	tcase_add_test(tc, test_query_escape);
	tcase_add_test(tc, test_list_query);
	suite_add_tcase(s, tc);
	return s;
}
