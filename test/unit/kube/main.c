#include "suites.h"

#include <stdlib.h>

int main(void)
{
	SRunner *runner = srunner_create(config_suite());
	srunner_add_suite(runner, path_suite());
	srunner_add_suite(runner, selector_suite());
	srunner_add_suite(runner, json_suite());
	srunner_add_suite(runner, client_suite());
	srunner_add_suite(runner, watch_suite());
	srunner_run_all(runner, CK_NORMAL);
	int failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
