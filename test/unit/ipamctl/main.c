#include "suites.h"

#include <stdlib.h>

int main(void)
{
	Suite *s = suite_create("ipamctl");
	suite_add_tcase(s, objects_tcase());
	suite_add_tcase(s, indexset_tcase());
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
