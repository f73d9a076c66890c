#include "suites.h"

#include "ipam/ipam.h"

#include <errno.h>
#include <string.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Upstream's Validate vectors plus message and order checks; err "" means ok. */
static const struct {
	const char *name;
	int min_size;
	const char *ipv4, *ipv6;
	const char *err;
} validate_cases[] = {
    {"empty", 2, NULL, NULL, "invalid subnet"},
    {"valid-ipv4", 2, "10.0.0.0/24", NULL, ""},
    {"invalid-ipv4", 2, "a.b.c.d/16", NULL, "invalid CIDR address: a.b.c.d/16"},
    {"valid-ipv6", 2, NULL, "fd02::/112", ""},
    {"invalid-ipv6", 2, NULL, "q293::/112", "invalid CIDR address: q293::/112"},
    {"valid-dual", 2, "10.0.0.0/24", "fd02::/120", ""},
    {"invalid-dual-1", 2, "10.0.0.0/24", "q293::/120", "invalid CIDR address: q293::/120"},
    {"invalid-dual-2", 2, "a.b.c.d/16", "fd02::/120", "invalid CIDR address: a.b.c.d/16"},
    {"dual-different-size", 2, "10.0.0.0/24", "fd02::/112",
     "dual stack subnet must be the same size"},
    {"size-bits-0", 0, "10.0.0.1/32", NULL, ""},
    {"too-small-ipv4", 5, "10.0.0.0/30", NULL, "too narrow subnet: 10.0.0.0/30"},
    {"too-small-ipv6", 5, NULL, "fd02::/124", "too narrow subnet: fd02::/124"},
    {"host-bits-allowed", 2, "10.2.0.5/16", NULL, ""},
    {"v6-in-v4-field", 2, "fd02::/120", NULL, "invalid IPv4 subnet: fd02::/120"},
    {"v4-in-v6-field", 2, NULL, "10.0.0.0/24", "invalid IPv6 subnet: 10.0.0.0/24"},
    {"missing-prefix", 2, "10.0.0.0", NULL, "invalid CIDR address: 10.0.0.0"},
    {"prefix-out-of-range", 2, "10.0.0.0/33", NULL, "invalid CIDR address: 10.0.0.0/33"},
    {"trailing-junk", 2, "10.0.0.0/24x", NULL, "invalid CIDR address: 10.0.0.0/24x"},
    {"v4-checked-before-v6", 5, "10.0.0.0/30", "q293::/126", "too narrow subnet: 10.0.0.0/30"},
    {"narrow-before-size-mismatch", 9, "10.0.0.0/24", "fd02::/112",
     "too narrow subnet: 10.0.0.0/24"},
    {"leading-zero-prefix", 2, "10.2.0.0/024", NULL, ""},
    {"whole-v6-space", 0, NULL, "::/0", ""},
    {"huge-block-bits", 200, NULL, "::/0", "too narrow subnet: ::/0"},
};

START_TEST(validate)
{
	char err[256] = "";
	struct subnet_set set = {validate_cases[_i].ipv4, validate_cases[_i].ipv6};
	int ret = subnet_set_validate(&set, validate_cases[_i].min_size, err, sizeof(err));
	if (validate_cases[_i].err[0] == '\0') {
		ck_assert_msg(ret == 0, "%s: %s", validate_cases[_i].name, err);
	} else {
		ck_assert_msg(ret == -EINVAL, "%s accepted", validate_cases[_i].name);
		ck_assert_str_eq(err, validate_cases[_i].err);
	}
}
END_TEST

START_TEST(kind)
{
	struct subnet_set v4 = {"10.0.0.0/24", NULL}, v6 = {NULL, "fd02::/120"},
			  dual = {"10.2.0.0/24", "fd02::/120"}, none = {NULL, NULL};
	ck_assert_int_eq(subnet_set_kind(&v4), SUBNET_IPV4);
	ck_assert_int_eq(subnet_set_kind(&v6), SUBNET_IPV6);
	ck_assert_int_eq(subnet_set_kind(&dual), SUBNET_DUAL);
	ck_assert_int_eq(subnet_set_kind(&none), SUBNET_INVALID);
}
END_TEST

static const struct {
	struct subnet_set a, b;
	bool equal;
} equal_cases[] = {
    {{"10.0.0.0/24", NULL}, {"10.0.0.0/24", NULL}, true},
    {{"10.0.0.0/24", "fd00::/120"}, {"10.0.0.0/24", "fd00::/120"}, true},
    {{NULL, "fd00::/120"}, {NULL, "fd00::/120"}, true},
    {{"10.0.0.0/24", NULL}, {"10.0.0.0/24", "fd00::/120"}, false},
    {{"10.0.0.0/24", "fd00::/120"}, {NULL, "fd00::/120"}, false},
    {{"10.0.0.0/24", NULL}, {"10.2.0.0/24", NULL}, false},
    {{NULL, "fd00::/120"}, {NULL, "fd00::/112"}, false},
    {{"10.0.0.0/24", "fd02::/120"}, {"10.0.0.0/24", "fd02::/122"}, false},
    {{"10.2.0.0/24", NULL}, {"10.2.0.0/024", NULL}, false}, /* raw text */
    {{NULL, NULL}, {NULL, NULL}, true},
};

START_TEST(equal)
{
	ck_assert(subnet_set_equal(&equal_cases[_i].a, &equal_cases[_i].b) ==
		  equal_cases[_i].equal);
	ck_assert(subnet_set_equal(&equal_cases[_i].b, &equal_cases[_i].a) ==
		  equal_cases[_i].equal);
}
END_TEST

/* Upstream's GetBlock vectors; "" means the family is absent. */
static const struct {
	const char *ipv4, *ipv6;
	uint64_t n;
	int bits;
	const char *want4, *want6;
} block_cases[] = {
    {"10.2.0.0/24", NULL, 0, 0, "10.2.0.0/32", ""},
    {"10.2.0.0/24", NULL, 3, 0, "10.2.0.3/32", ""},
    {"10.2.0.0/24", NULL, 3, 2, "10.2.0.12/30", ""},
    {NULL, "fd02::0900:0000/116", 0, 0, "", "fd02::900:0/128"},
    {NULL, "fd02::0900:0000/116", 257, 0, "", "fd02::900:101/128"},
    {NULL, "fd02::0900:0000/116", 10, 5, "", "fd02::900:140/123"},
    {"10.2.0.0/24", "fd02::0900:0000/120", 10, 5, "10.2.1.64/27", "fd02::900:140/123"},
    /* edge cases */
    {"10.2.0.5/24", NULL, 0, 8, "10.2.0.0/24", ""},
    {"10.2.0.0/24", NULL, 64, 2, "10.2.1.0/30", ""}, /* past the subnet, as upstream */
    {"10.0.0.1/32", NULL, 0, 0, "10.0.0.1/32", ""},
    {"0.0.0.0/0", NULL, 4294967295u, 0, "255.255.255.255/32", ""},
    {NULL, "::/0", 0, 128, "", "::/0"},
    {NULL, "fd00::/8", 5, 100, "", "fd00:50::/28"},
    {NULL, "::ffff:ffff:ffff:ffff/64", 1, 0, "", "::1/128"},
};

START_TEST(get_block)
{
	struct subnet_set set = {block_cases[_i].ipv4, block_cases[_i].ipv6};
	struct ipam_block_cidrs out;
	ck_assert_int_eq(subnet_set_get_block(&set, block_cases[_i].n, block_cases[_i].bits, &out),
			 0);
	ck_assert_str_eq(out.ipv4, block_cases[_i].want4);
	ck_assert_str_eq(out.ipv6, block_cases[_i].want6);
}
END_TEST

START_TEST(get_block_errors)
{
	struct ipam_block_cidrs out;
	struct subnet_set v4 = {"10.2.0.0/24", NULL}, bad = {"a.b.c.d/16", NULL};
	struct subnet_set top = {"255.255.255.0/24", NULL};
	ck_assert_int_eq(subnet_set_get_block(&top, 64, 2, &out), -ERANGE);
	ck_assert_int_eq(subnet_set_get_block(&v4, 63, 2, &out), 0);
	ck_assert_str_eq(out.ipv4, "10.2.0.252/30");
	ck_assert_int_eq(subnet_set_get_block(&v4, 0, 9, &out), -EINVAL);
	ck_assert_int_eq(subnet_set_get_block(&v4, 0, -1, &out), -EINVAL);
	ck_assert_int_eq(subnet_set_get_block(&bad, 0, 0, &out), -EINVAL);
}
END_TEST

static const struct {
	const char *ipv4, *ipv6;
	int bits;
	uint64_t want;
} capacity_cases[] = {
    {"10.2.0.0/29", "fd02::200/125", 1, 4},
    {"10.3.0.0/30", "fd02::300/126", 1, 2},
    {"10.2.0.0/16", NULL, 5, 2048},
    {"10.0.0.1/32", NULL, 0, 1},
    {"0.0.0.0/0", NULL, 0, IPAM_MAX_BLOCKS},
    {"0.0.0.0/0", NULL, 1, IPAM_MAX_BLOCKS},
    {"0.0.0.0/0", NULL, 2, UINT64_C(1) << 30},
    {NULL, "fd00::/8", 0, IPAM_MAX_BLOCKS}, /* 2^120 saturates */
    {NULL, "::/0", 0, IPAM_MAX_BLOCKS},	    /* 2^128 saturates */
    {NULL, "::/0", 64, IPAM_MAX_BLOCKS},    /* exponent exactly 64 */
    {NULL, "::/0", 128, 1},
    {NULL, "fd02::/112", 0, 65536},
};

START_TEST(capacity)
{
	struct subnet_set set = {capacity_cases[_i].ipv4, capacity_cases[_i].ipv6};
	uint64_t got = 0;
	ck_assert_int_eq(subnet_set_capacity(&set, capacity_cases[_i].bits, &got), 0);
	ck_assert_uint_eq(got, capacity_cases[_i].want);
}
END_TEST

Suite *subnet_suite(void)
{
	Suite *s = suite_create("subnet");
	TCase *tc = tcase_create("subnet");
	tcase_add_loop_test(tc, validate, 0, N(validate_cases));
	tcase_add_test(tc, kind);
	tcase_add_loop_test(tc, equal, 0, N(equal_cases));
	tcase_add_loop_test(tc, get_block, 0, N(block_cases));
	tcase_add_test(tc, get_block_errors);
	tcase_add_loop_test(tc, capacity, 0, N(capacity_cases));
	suite_add_tcase(s, tc);
	return s;
}
