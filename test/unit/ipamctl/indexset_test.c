#include "ipamctl/indexset.h"
#include "suites.h"

START_TEST(lowest_free)
{
	struct ipamctl_index_set set = {0};
	ck_assert_uint_eq(ipamctl_index_set_lowest_free(&set), 0);
	static const struct {
		uint32_t add;
		uint64_t lowest;
	} steps[] = {{1, 0}, {0, 2}, {2, 3}, {5, 3}, {3, 4}, {4, 6}, {4, 6}, {2147483647u, 6}};
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		ck_assert_int_eq(ipamctl_index_set_add(&set, steps[i].add), 0);
		ck_assert_msg(ipamctl_index_set_lowest_free(&set) == steps[i].lowest,
			      "step %zu: lowest %llu", i,
			      (unsigned long long)ipamctl_index_set_lowest_free(&set));
	}
	ck_assert_uint_eq(set.len, 7);
	ck_assert(ipamctl_index_set_contains(&set, 2147483647u));
	ck_assert(!ipamctl_index_set_contains(&set, 6));
	ipamctl_index_set_clear(&set);
	ck_assert_uint_eq(ipamctl_index_set_lowest_free(&set), 0);
	ck_assert(!ipamctl_index_set_contains(&set, 0));
	ipamctl_index_set_free(&set);
}
END_TEST

START_TEST(many_in_reverse)
{
	struct ipamctl_index_set set = {0};
	for (uint32_t i = 1000; i-- > 0;) {
		if (i != 517)
			ck_assert_int_eq(ipamctl_index_set_add(&set, i), 0);
	}
	ck_assert_uint_eq(ipamctl_index_set_lowest_free(&set), 517);
	ipamctl_index_set_add(&set, 517);
	ck_assert_uint_eq(ipamctl_index_set_lowest_free(&set), 1000);
	for (uint32_t i = 1; i < set.len; i++)
		ck_assert_uint_lt(set.items[i - 1], set.items[i]);
	ipamctl_index_set_free(&set);
}
END_TEST

TCase *indexset_tcase(void)
{
	TCase *tc = tcase_create("indexset");
	tcase_add_test(tc, lowest_free);
	tcase_add_test(tc, many_in_reverse);
	return tc;
}
