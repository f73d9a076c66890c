#include "suites.h"

#include "ipam/ipam.h"

#include <errno.h>
#include <string.h>

static struct ip_addr addr_of(const char *text)
{
	struct ip_addr addr;
	ck_assert_int_eq(ip_addr_parse(text, &addr), 0);
	return addr;
}

static struct block_alloc *new_block(const char *ipv4, const char *ipv6)
{
	struct block_alloc *alloc = NULL;
	char err[256];
	ck_assert_int_eq(block_alloc_new(ipv4, ipv6, &alloc, err, sizeof(err)), 0);
	return alloc;
}

/* Registers texts (NULL = no address of that family). */
static int reg(struct block_alloc *alloc, const char *ip4, const char *ip6)
{
	struct ip_addr a4, a6;
	if (ip4)
		a4 = addr_of(ip4);
	if (ip6)
		a6 = addr_of(ip6);
	return block_alloc_register(alloc, ip4 ? &a4 : NULL, ip6 ? &a6 : NULL);
}

/* Allocates and checks offset and texts ("" = family absent). */
static void expect_alloc(struct block_alloc *alloc, int offset, const char *ip4, const char *ip6)
{
	struct ip_addr a4, a6;
	char t4[IP_ADDR_STRLEN], t6[IP_ADDR_STRLEN];
	ck_assert_int_eq(block_alloc_allocate(alloc, &a4, &a6), offset);
	ip_addr_format(&a4, t4);
	ip_addr_format(&a6, t6);
	ck_assert_str_eq(t4, ip4);
	ck_assert_str_eq(t6, ip6);
}

/* Upstream's IPv4, IPv6 and dual-stack allocator cases share one sequence. */
static void register_allocate_sequence(const char *v4, const char *v6)
{
	struct block_alloc *alloc = new_block(v4, v6);
	const char *o4 = v4 ? "192.168.0.1" : NULL, *o6 = v6 ? "fe03::1" : NULL;
	ck_assert(block_alloc_is_empty(alloc));
	ck_assert_int_eq(reg(alloc, o4, o6), -ENOENT);
	ck_assert_int_eq(reg(alloc, v4 ? "10.2.3.0" : NULL, v6 ? "fd02::" : NULL), 0);
	ck_assert_int_eq(reg(alloc, v4 ? "10.2.3.2" : NULL, v6 ? "fd02::2" : NULL), 2);
	ck_assert(!block_alloc_is_empty(alloc));
	ck_assert(!block_alloc_is_full(alloc));
	expect_alloc(alloc, 3, v4 ? "10.2.3.3" : "", v6 ? "fd02::3" : "");
	expect_alloc(alloc, 1, v4 ? "10.2.3.1" : "", v6 ? "fd02::1" : "");
	ck_assert(block_alloc_is_full(alloc));
	ck_assert_int_eq(block_alloc_allocate(alloc, NULL, NULL), -ENOSPC);
	block_alloc_free_offset(alloc, 1);
	block_alloc_free_offset(alloc, 1);
	ck_assert(!block_alloc_is_full(alloc));
	expect_alloc(alloc, 1, v4 ? "10.2.3.1" : "", v6 ? "fd02::1" : "");
	ck_assert(block_alloc_is_full(alloc));
	block_alloc_destroy(alloc);
}

START_TEST(ipv4_block)
{
	register_allocate_sequence("10.2.3.0/30", NULL);
}
END_TEST

START_TEST(ipv6_block)
{
	register_allocate_sequence(NULL, "fd02::/126");
}
END_TEST

START_TEST(dual_block)
{
	register_allocate_sequence("10.2.3.0/30", "fd02::/126");
}
END_TEST

START_TEST(fill)
{
	struct block_alloc *alloc = new_block("10.2.3.0/30", "fd02::/126");
	block_alloc_fill(alloc);
	ck_assert(block_alloc_is_full(alloc));
	for (uint32_t i = 0; i < 4; i++)
		block_alloc_free_offset(alloc, i);
	ck_assert(block_alloc_is_empty(alloc));
	ck_assert_uint_eq(block_alloc_size(alloc), 4);
	block_alloc_destroy(alloc);
}
END_TEST

START_TEST(no_immediate_reuse)
{
	struct block_alloc *alloc = new_block("10.2.3.0/30", "fd02::/126");
	block_alloc_fill(alloc);
	ck_assert_int_eq(block_alloc_allocate(alloc, NULL, NULL), -ENOSPC);
	block_alloc_free_offset(alloc, 3);
	block_alloc_free_offset(alloc, 0);
	expect_alloc(alloc, 0, "10.2.3.0", "fd02::");
	expect_alloc(alloc, 3, "10.2.3.3", "fd02::3");
	block_alloc_destroy(alloc);
}
END_TEST

START_TEST(single_address_blocks)
{
	struct block_alloc *v4 = new_block("10.0.0.7/32", "");
	ck_assert_uint_eq(block_alloc_size(v4), 1);
	expect_alloc(v4, 0, "10.0.0.7", "");
	ck_assert(block_alloc_is_full(v4));
	ck_assert_int_eq(block_alloc_allocate(v4, NULL, NULL), -ENOSPC);
	block_alloc_free_offset(v4, 0);
	expect_alloc(v4, 0, "10.0.0.7", "");
	block_alloc_destroy(v4);

	struct block_alloc *v6 = new_block(NULL, "fd02::900:101/128");
	ck_assert_int_eq(reg(v6, NULL, "fd02::900:100"), -ENOENT);
	ck_assert_int_eq(reg(v6, NULL, "fd02::900:101"), 0);
	ck_assert(block_alloc_is_full(v6));
	block_alloc_destroy(v6);

	struct block_alloc *pair = new_block("10.0.0.0/31", "fd02::/127");
	expect_alloc(pair, 0, "10.0.0.0", "fd02::");
	expect_alloc(pair, 1, "10.0.0.1", "fd02::1"); /* no network/broadcast exclusion */
	block_alloc_destroy(pair);
}
END_TEST

START_TEST(register_prefers_ipv4)
{
	struct block_alloc *alloc = new_block("10.2.3.0/30", "fd02::/126");
	/* IPv4 not in the block: fall back to the IPv6 address. */
	ck_assert_int_eq(reg(alloc, "192.168.0.1", "fd02::1"), 1);
	ck_assert_int_eq(reg(alloc, "10.2.3.2", "fd02::3"), 2);
	ck_assert_int_eq(reg(alloc, NULL, NULL), -ENOENT);
	/* Allocation continues after the last registered offset. */
	expect_alloc(alloc, 3, "10.2.3.3", "fd02::3");
	block_alloc_destroy(alloc);
}
END_TEST

START_TEST(big_and_invalid_blocks)
{
	struct block_alloc *alloc = NULL;
	char err[256];
	ck_assert_int_eq(block_alloc_new("10.0.0.0/12", NULL, &alloc, err, sizeof(err)), 0);
	ck_assert_uint_eq(block_alloc_size(alloc), 1u << 20);
	/* Walk across a bitmap word boundary and wrap at the very end. */
	for (int i = 0; i < 70; i++)
		ck_assert_int_eq(block_alloc_allocate(alloc, NULL, NULL), i);
	struct ip_addr last = addr_of("10.15.255.255");
	ck_assert_int_eq(block_alloc_register(alloc, &last, NULL), (1 << 20) - 1);
	ck_assert_int_eq(block_alloc_allocate(alloc, NULL, NULL), 70);
	block_alloc_destroy(alloc);

	ck_assert_int_eq(block_alloc_new("10.0.0.0/11", NULL, &alloc, err, sizeof(err)), -E2BIG);
	ck_assert_int_eq(block_alloc_new(NULL, "fd00::/8", &alloc, err, sizeof(err)), -E2BIG);
	ck_assert_int_eq(block_alloc_new(NULL, NULL, &alloc, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(block_alloc_new("", "", &alloc, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(block_alloc_new("fd02::/126", NULL, &alloc, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(block_alloc_new("10.0.0.0/30", "fd02::/127", &alloc, err, sizeof(err)),
			 -EINVAL);
	ck_assert_int_eq(block_alloc_new("10.0.0.0", NULL, &alloc, err, sizeof(err)), -EINVAL);
}
END_TEST

START_TEST(addresses_at_offset)
{
	struct block_alloc *alloc = new_block("10.2.0.254/30", "fd02::fffc/126");
	struct ip_addr a4, a6;
	char t4[IP_ADDR_STRLEN], t6[IP_ADDR_STRLEN];
	ck_assert_int_eq(block_alloc_addresses(alloc, 3, &a4, &a6), 0);
	ip_addr_format(&a4, t4);
	ip_addr_format(&a6, t6);
	ck_assert_str_eq(t4, "10.2.0.255");
	ck_assert_str_eq(t6, "fd02::ffff");
	ck_assert_int_eq(block_alloc_addresses(alloc, 4, &a4, &a6), -ERANGE);
	ck_assert(!block_alloc_is_used(alloc, 3));
	block_alloc_destroy(alloc);
}
END_TEST

Suite *alloc_suite(void)
{
	Suite *s = suite_create("alloc");
	TCase *tc = tcase_create("alloc");
	tcase_add_test(tc, ipv4_block);
	tcase_add_test(tc, ipv6_block);
	tcase_add_test(tc, dual_block);
	tcase_add_test(tc, fill);
	tcase_add_test(tc, no_immediate_reuse);
	tcase_add_test(tc, single_address_blocks);
	tcase_add_test(tc, register_prefers_ipv4);
	tcase_add_test(tc, big_and_invalid_blocks);
	tcase_add_test(tc, addresses_at_offset);
	suite_add_tcase(s, tc);
	return s;
}
