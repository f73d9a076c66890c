#include "suites.h"

#include "log/log.h"

#include <stdlib.h>

int main(void)
{
	log_set_level(LOG_ERROR); /* keep the reloader's info lines out of the test output */
	SRunner *runner = srunner_create(review_suite());
	srunner_add_suite(runner, egress_review_suite());
	srunner_add_suite(runner, certreload_suite());
	srunner_add_suite(runner, server_suite());
	srunner_run_all(runner, CK_NORMAL);
	int failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
