#include "suites.h"

#include "ipam/ipam.h"

#include <errno.h>
#include <string.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct subnet_set default_subnets[] = {
    {"10.2.0.0/29", "fd02::200/125"},
    {"10.3.0.0/30", "fd02::300/126"},
};
static const struct ipam_pool default_pool = {default_subnets, 2, 1};

static const struct {
	uint64_t index;
	const char *ipv4, *ipv6;
} default_blocks[] = {
    {0, "10.2.0.0/31", "fd02::200/127"}, {1, "10.2.0.2/31", "fd02::202/127"},
    {2, "10.2.0.4/31", "fd02::204/127"}, {3, "10.2.0.6/31", "fd02::206/127"},
    {4, "10.3.0.0/31", "fd02::300/127"}, {5, "10.3.0.2/31", "fd02::302/127"},
};

START_TEST(default_pool_blocks)
{
	struct ipam_block_cidrs out;
	char err[256];
	ck_assert_int_eq(
	    ipam_pool_get_block(&default_pool, default_blocks[_i].index, &out, err, sizeof(err)),
	    0);
	ck_assert_str_eq(out.ipv4, default_blocks[_i].ipv4);
	ck_assert_str_eq(out.ipv6, default_blocks[_i].ipv6);
}
END_TEST

START_TEST(default_pool_exhaustion)
{
	struct ipam_block_cidrs out;
	char err[256];
	ck_assert_uint_eq(ipam_pool_max_blocks(&default_pool), 6);
	ck_assert_int_eq(ipam_pool_get_block(&default_pool, 6, &out, err, sizeof(err)), -ENOSPC);
	ck_assert_ptr_nonnull(strstr(err, "out of blocks"));
}
END_TEST

START_TEST(big_pool)
{
	static const struct subnet_set subnets[] = {{"10.2.0.0/16", "fd01:0203:0405:0607::/112"}};
	struct ipam_pool pool = {subnets, 1, 5};
	struct ipam_block_cidrs out;
	char err[256];
	ck_assert_uint_eq(ipam_pool_max_blocks(&pool), 2048);
	ck_assert_int_eq(ipam_pool_get_block(&pool, 16, &out, err, sizeof(err)), 0);
	ck_assert_str_eq(out.ipv4, "10.2.2.0/27");
	ck_assert_str_eq(out.ipv6, "fd01:203:405:607::200/123");
}
END_TEST

START_TEST(v4_pool)
{
	static const struct subnet_set subnets[] = {{"10.4.0.0/29", NULL}};
	struct ipam_pool pool = {subnets, 1, 2};
	struct ipam_block_cidrs out;
	char err[256];
	ck_assert_uint_eq(ipam_pool_max_blocks(&pool), 2);
	ck_assert_int_eq(ipam_pool_get_block(&pool, 0, &out, err, sizeof(err)), 0);
	ck_assert_str_eq(out.ipv4, "10.4.0.0/30");
	ck_assert_str_eq(out.ipv6, "");
	ck_assert_int_eq(ipam_pool_get_block(&pool, 1, &out, err, sizeof(err)), 0);
	ck_assert_str_eq(out.ipv4, "10.4.0.4/30");
	ck_assert_int_eq(ipam_pool_get_block(&pool, 2, &out, err, sizeof(err)), -ENOSPC);
}
END_TEST

START_TEST(mixed_families_and_saturation)
{
	/* Families may differ across items; huge IPv6 subnets saturate. */
	static const struct subnet_set subnets[] = {
	    {"10.0.0.0/30", NULL},
	    {NULL, "fd00::/8"},
	    {"10.9.0.0/24", NULL},
	};
	struct ipam_pool pool = {subnets, 3, 0};
	struct ipam_block_cidrs out;
	char err[256];
	ck_assert_uint_eq(ipam_pool_max_blocks(&pool), IPAM_MAX_BLOCKS);
	ck_assert_int_eq(ipam_pool_get_block(&pool, 3, &out, err, sizeof(err)), 0);
	ck_assert_str_eq(out.ipv4, "10.0.0.3/32");
	ck_assert_int_eq(ipam_pool_get_block(&pool, 4, &out, err, sizeof(err)), 0);
	ck_assert_str_eq(out.ipv4, "");
	ck_assert_str_eq(out.ipv6, "fd00::/128");
	ck_assert_int_eq(ipam_pool_get_block(&pool, 2147483647, &out, err, sizeof(err)), 0);
	ck_assert_str_eq(out.ipv6, "fd00::7fff:fffb/128");
	ck_assert_int_eq(ipam_pool_get_block(&pool, 2147483648u, &out, err, sizeof(err)), -ENOSPC);
	ck_assert_int_eq(ipam_pool_get_block(&pool, UINT64_MAX, &out, err, sizeof(err)), -ENOSPC);
}
END_TEST

START_TEST(whole_v4_space)
{
	static const struct subnet_set subnets[] = {{"0.0.0.0/0", NULL}};
	struct ipam_pool pool = {subnets, 1, 0};
	struct ipam_block_cidrs out;
	char err[256];
	ck_assert_uint_eq(ipam_pool_max_blocks(&pool), IPAM_MAX_BLOCKS);
	ck_assert_int_eq(ipam_pool_get_block(&pool, 2147483647, &out, err, sizeof(err)), 0);
	ck_assert_str_eq(out.ipv4, "127.255.255.255/32");
}
END_TEST

START_TEST(invalid_subnet_in_walk)
{
	static const struct subnet_set subnets[] = {{"10.0.0.0/30", NULL}, {"a.b.c.d/16", NULL}};
	struct ipam_pool pool = {subnets, 2, 0};
	struct ipam_block_cidrs out;
	char err[256];
	ck_assert_uint_eq(ipam_pool_max_blocks(&pool), 4);
	ck_assert_int_eq(ipam_pool_get_block(&pool, 3, &out, err, sizeof(err)), 0);
	ck_assert_int_eq(ipam_pool_get_block(&pool, 4, &out, err, sizeof(err)), -EINVAL);
	struct ipam_pool empty = {NULL, 0, 0};
	ck_assert_uint_eq(ipam_pool_max_blocks(&empty), 0);
	ck_assert_int_eq(ipam_pool_get_block(&empty, 0, &out, err, sizeof(err)), -ENOSPC);
}
END_TEST

Suite *pool_suite(void)
{
	Suite *s = suite_create("pool");
	TCase *tc = tcase_create("pool");
	tcase_add_loop_test(tc, default_pool_blocks, 0, N(default_blocks));
	tcase_add_test(tc, default_pool_exhaustion);
	tcase_add_test(tc, big_pool);
	tcase_add_test(tc, v4_pool);
	tcase_add_test(tc, mixed_families_and_saturation);
	tcase_add_test(tc, whole_v4_space);
	tcase_add_test(tc, invalid_subnet_in_walk);
	suite_add_tcase(s, tc);
	return s;
}
