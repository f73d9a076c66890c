#include <stdlib.h>

#include "suites.h"

int main(void)
{
	SRunner *sr = srunner_create(annotation_suite());
	srunner_add_suite(sr, gateway_suite());
	srunner_add_suite(sr, plan_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
