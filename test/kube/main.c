/* Integration tests of lib/kube against test/apiserver (ctest label "kube"). A suite name as
 * the only argument runs just that suite. */
#include "suites.h"

#include <stdlib.h>
#include <string.h>

json_t *test_configmap(const char *ns, const char *name, const char *app)
{
	return json_pack("{s:s,s:s,s:{s:s,s:s,s:{s:s}},s:{s:s}}", "apiVersion", "v1", "kind",
			 "ConfigMap", "metadata", "name", name, "namespace", ns, "labels", "app",
			 app, "data", "k", "v");
}

void test_namespace(struct kube_client *client, const char *name)
{
	char err[512];
	json_t *ns = json_pack("{s:s,s:s,s:{s:s}}", "apiVersion", "v1", "kind", "Namespace",
			       "metadata", "name", name);
	int ret = kube_create(client, &KUBE_RES_NAMESPACES, NULL, ns, NULL, err, sizeof(err));
	ck_assert_msg(ret == 0 || ret == -EEXIST, "namespace %s: %s", name, err);
	json_decref(ns);
}

int main(int argc, char **argv)
{
	SRunner *runner = srunner_create(crud_suite());
	srunner_add_suite(runner, stream_suite());
	srunner_add_suite(runner, leader_suite());
	srunner_add_suite(runner, tls_suite());
	srunner_run(runner, argc > 1 ? argv[1] : NULL, NULL, CK_NORMAL);
	int failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
