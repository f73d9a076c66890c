#include "suites.h"

#include <stdlib.h>

int main(void)
{
	SRunner *runner = srunner_create(env_suite());
	srunner_add_suite(runner, netconf_suite());
	srunner_add_suite(runner, files_suite());
	srunner_add_suite(runner, cleanup_suite());
	srunner_add_suite(runner, run_suite());
	srunner_add_suite(runner, atomic_suite());
	srunner_run_all(runner, CK_NORMAL);
	int failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
