/* Unit tests of lib/kubesource (no API server): object readers and the latch. */
#include <check.h>
#include <stdlib.h>

Suite *parse_suite(void);
Suite *latch_suite(void);

int main(void)
{
	SRunner *runner = srunner_create(parse_suite());
	srunner_add_suite(runner, latch_suite());
	srunner_run_all(runner, CK_NORMAL);
	int failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
