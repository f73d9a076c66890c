#include "helpers.h"

#include <stdlib.h>

#include "log/log.h"

int main(void)
{
	log_set_level(LOG_ERROR);
	SRunner *runner = srunner_create(sequence_suite());
	srunner_add_suite(runner, concurrency_suite());
	srunner_add_suite(runner, persistence_suite());
	srunner_run_all(runner, CK_NORMAL);
	int failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
