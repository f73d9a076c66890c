/* lib/err: errorf returns the code and writes what fits, whatever buffer it is given. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "err/err.h"

START_TEST(returns_the_code_and_formats)
{
	char err[64];
	ck_assert_int_eq(errorf(err, sizeof(err), -EINVAL, "bad CIDR %s (%d)", "10.0.0.0/33", 33),
			 -EINVAL);
	ck_assert_str_eq(err, "bad CIDR 10.0.0.0/33 (33)");
	ck_assert_int_eq(errorf(err, sizeof(err), 0, "%s", "fine"), 0);
	ck_assert_str_eq(err, "fine");
}
END_TEST

START_TEST(tolerates_no_buffer)
{
	ck_assert_int_eq(errorf(NULL, 100, -ENOMEM, "out of memory"), -ENOMEM);
	char err[4] = "abc";
	ck_assert_int_eq(errorf(err, 0, -EIO, "not written"), -EIO);
	ck_assert_str_eq(err, "abc");
}
END_TEST

START_TEST(cuts_long_messages)
{
	char err[8];
	memset(err, 'z', sizeof(err));
	ck_assert_int_eq(errorf(err, sizeof(err), -E2BIG, "%s", "a message that does not fit"),
			 -E2BIG);
	ck_assert_str_eq(err, "a messa");
	char one[1] = {'z'};
	errorf(one, sizeof(one), -E2BIG, "x");
	ck_assert_int_eq(one[0], '\0');
}
END_TEST

int main(void)
{
	Suite *s = suite_create("err");
	TCase *tc = tcase_create("errorf");
	tcase_add_test(tc, returns_the_code_and_formats);
	tcase_add_test(tc, tolerates_no_buffer);
	tcase_add_test(tc, cuts_long_messages);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
