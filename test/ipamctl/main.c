/* Integration tests of lib/ipamctl against the test API server (ctest label "ipamctl"). One
 * server serves every case; each case removes its objects. */
#include "fixture.h"
#include "suites.h"

#include <signal.h>
#include <stdlib.h>

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	Suite *s = suite_create("ipamctl_api");
	TCase *cases[] = {poolmgr_tcase(), reconcile_tcase(), gc_tcase()};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tcase_add_unchecked_fixture(cases[i], ipt_start, ipt_stop);
		suite_add_tcase(s, cases[i]);
	}
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
