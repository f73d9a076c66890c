/* Integration tests of lib/kubesource against test/apiserver (ctest label "kube"). A suite
 * name as the only argument runs just that suite. */
#include <check.h>
#include <stdlib.h>

Suite *ipam_suite(void);
Suite *source_suite(void);
Suite *egresswatch_suite(void);

int main(int argc, char **argv)
{
	SRunner *runner = srunner_create(ipam_suite());
	srunner_add_suite(runner, source_suite());
	srunner_add_suite(runner, egresswatch_suite());
	srunner_run(runner, argc > 1 ? argv[1] : NULL, NULL, CK_NORMAL);
	int failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
