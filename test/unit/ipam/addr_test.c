#include "suites.h"

#include "ipam/ipam.h"

#include <errno.h>
#include <string.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Address text → canonical text ("" means rejected). */
static const struct {
	const char *in, *out;
} addr_cases[] = {
    {"10.2.0.1", "10.2.0.1"},
    {"0.0.0.0", "0.0.0.0"},
    {"255.255.255.255", "255.255.255.255"},
    {"::", "::"},
    {"::1", "::1"},
    {"1::", "1::"},
    {"FD02::0200", "fd02::200"},
    {"fd02:0:0:0:0:0:900:140", "fd02::900:140"},
    {"fd01:0203:0405:0607::0200", "fd01:203:405:607::200"},
    {"1:0:0:2:0:0:0:3", "1:0:0:2::3"},	    /* longest run wins */
    {"1:0:0:2:0:0:3:4", "1::2:0:0:3:4"},    /* first run on ties */
    {"1:0:2:3:4:5:6:7", "1:0:2:3:4:5:6:7"}, /* single zero group stays */
    {"0:1:2:3:4:5:6:0", "0:1:2:3:4:5:6:0"},
    {"0:0:1:2:3:4:5:6", "::1:2:3:4:5:6"},
    {"1:2:3:4:5:6:0:0", "1:2:3:4:5:6::"},
    {"::ffff:10.1.2.3", "::ffff:a01:203"},
    {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
    {"a.b.c.d", ""},
    {"q293::", ""},
    {"10.2.0", ""},
    {"10.2.0.1.5", ""},
    {"010.2.0.1", ""},
    {"256.0.0.1", ""},
    {" 10.0.0.1", ""},
    {"10.0.0.1 ", ""},
    {"fe80::1%eth0", ""},
    {"1::2::3", ""},
    {"12345::", ""},
    {"", ""},
};

START_TEST(addr_parse_and_format)
{
	struct ip_addr addr;
	char text[IP_ADDR_STRLEN];
	int ret = ip_addr_parse(addr_cases[_i].in, &addr);
	if (addr_cases[_i].out[0] == '\0') {
		ck_assert_msg(ret == -EINVAL, "%s accepted", addr_cases[_i].in);
		return;
	}
	ck_assert_msg(ret == 0, "%s rejected", addr_cases[_i].in);
	ip_addr_format(&addr, text);
	ck_assert_str_eq(text, addr_cases[_i].out);
}
END_TEST

/* CIDR text, mask flag → canonical text ("" means rejected). */
static const struct {
	const char *in;
	bool mask;
	const char *out;
} cidr_cases[] = {
    {"10.2.0.0/16", false, "10.2.0.0/16"},
    {"10.2.0.5/16", false, ""},
    {"10.2.0.5/16", true, "10.2.0.0/16"},
    {"10.2.0.0/024", false, "10.2.0.0/24"},
    {"10.0.0.1/32", false, "10.0.0.1/32"},
    {"10.0.0.1/31", true, "10.0.0.0/31"},
    {"10.0.0.1/0", true, "0.0.0.0/0"},
    {"10.0.0.0/33", true, ""},
    {"10.0.0.0/", true, ""},
    {"10.0.0.0", true, ""},
    {"10.0.0.0/-1", true, ""},
    {"10.0.0.0/+8", true, ""},
    {"10.0.0.0/8x", true, ""},
    {"10.0.0.0/8 ", true, ""},
    {"10.0.0.0/8/8", true, ""},
    {"10.0.0.0/99999999999999999999", true, ""},
    {"a.b.c.d/16", true, ""},
    {"q293::/112", true, ""},
    {"/16", true, ""},
    {"fd02::0200/125", false, "fd02::200/125"},
    {"fd02::0900:0000/116", false, "fd02::900:0/116"},
    {"fd02::1/112", true, "fd02::/112"},
    {"fd02::1/112", false, ""},
    {"fd00::/8", false, "fd00::/8"},
    {"::/0", false, "::/0"},
    {"::1/128", false, "::1/128"},
    {"::/129", true, ""},
    {"ffff::1/1", true, "8000::/1"},
};

START_TEST(cidr_parse_and_format)
{
	struct ip_prefix prefix;
	char text[IP_CIDR_STRLEN];
	int ret = ip_prefix_parse(cidr_cases[_i].in, cidr_cases[_i].mask, &prefix);
	if (cidr_cases[_i].out[0] == '\0') {
		ck_assert_msg(ret == -EINVAL, "%s accepted", cidr_cases[_i].in);
		return;
	}
	ck_assert_msg(ret == 0, "%s rejected", cidr_cases[_i].in);
	ip_prefix_format(&prefix, text);
	ck_assert_str_eq(text, cidr_cases[_i].out);
}
END_TEST

static struct ip_addr addr_of(const char *text)
{
	struct ip_addr addr;
	ck_assert_int_eq(ip_addr_parse(text, &addr), 0);
	return addr;
}

static struct ip_prefix prefix_of(const char *text)
{
	struct ip_prefix prefix;
	ck_assert_int_eq(ip_prefix_parse(text, true, &prefix), 0);
	return prefix;
}

START_TEST(contains)
{
	struct ip_prefix p4 = prefix_of("10.2.3.0/30"), p6 = prefix_of("fd02::/126");
	struct ip_addr a = addr_of("10.2.3.3"), b = addr_of("10.2.3.4"), c = addr_of("fd02::3");
	ck_assert(ip_prefix_contains(&p4, &a));
	ck_assert(!ip_prefix_contains(&p4, &b));
	ck_assert(!ip_prefix_contains(&p4, &c));
	ck_assert(ip_prefix_contains(&p6, &c));
	struct ip_prefix all = prefix_of("::/0");
	ck_assert(ip_prefix_contains(&all, &c));
	ck_assert(!ip_prefix_contains(&all, &a));
	struct ip_prefix host = prefix_of("10.2.3.3/32");
	ck_assert(ip_prefix_contains(&host, &a));
}
END_TEST

START_TEST(offset_and_add)
{
	struct ip_addr base = addr_of("fd02::"), out;
	uint64_t offset;
	struct ip_addr a = addr_of("fd02::1:0");
	ck_assert_int_eq(ip_addr_offset(&base, &a, &offset), 0);
	ck_assert_uint_eq(offset, 65536);
	ck_assert_int_eq(ip_addr_offset(&a, &base, &offset), -ERANGE);
	struct ip_addr far = addr_of("fd02:0:0:1::");
	ck_assert_int_eq(ip_addr_offset(&base, &far, &offset), -ERANGE);
	struct ip_addr v4 = addr_of("10.0.0.1");
	ck_assert_int_eq(ip_addr_offset(&base, &v4, &offset), -EAFNOSUPPORT);

	char text[IP_ADDR_STRLEN];
	struct ip_addr low = addr_of("::ffff:ffff:ffff:ffff");
	ck_assert_int_eq(ip_addr_add(&low, 1, 0, &out), 0);
	ip_addr_format(&out, text);
	ck_assert_str_eq(text, "0:0:0:1::"); /* carry into the upper 64 bits */

	struct ip_addr top = addr_of("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	ck_assert_int_eq(ip_addr_add(&top, 1, 0, &out), -EOVERFLOW);
	ck_assert_int_eq(ip_addr_add(&top, 0, 200, &out), 0);
	struct ip_addr zero = addr_of("::");
	ck_assert_int_eq(ip_addr_add(&zero, 1, 127, &out), 0);
	ip_addr_format(&out, text);
	ck_assert_str_eq(text, "8000::");
	ck_assert_int_eq(ip_addr_add(&zero, 2, 127, &out), -EOVERFLOW);
	ck_assert_int_eq(ip_addr_add(&zero, 1, 128, &out), -EOVERFLOW);
	ck_assert_int_eq(ip_addr_add(&zero, 3, 64, &out), 0);
	ip_addr_format(&out, text);
	ck_assert_str_eq(text, "0:0:0:3::");
	ck_assert_int_eq(ip_addr_add(&zero, UINT64_MAX, 65, &out), -EOVERFLOW);

	struct ip_addr v4top = addr_of("255.255.255.254");
	ck_assert_int_eq(ip_addr_add(&v4top, 1, 0, &out), 0);
	ip_addr_format(&out, text);
	ck_assert_str_eq(text, "255.255.255.255");
	ck_assert_int_eq(ip_addr_add(&v4top, 2, 0, &out), -EOVERFLOW);
	ck_assert_int_eq(ip_addr_add(&v4, 1, 32, &out), -EOVERFLOW);
	struct ip_addr v4b = addr_of("10.0.255.255");
	ck_assert_int_eq(ip_addr_add(&v4b, 1, 0, &out), 0);
	ip_addr_format(&out, text);
	ck_assert_str_eq(text, "10.1.0.0");
}
END_TEST

Suite *addr_suite(void)
{
	Suite *s = suite_create("addr");
	TCase *tc = tcase_create("addr");
	tcase_add_loop_test(tc, addr_parse_and_format, 0, N(addr_cases));
	tcase_add_loop_test(tc, cidr_parse_and_format, 0, N(cidr_cases));
	tcase_add_test(tc, contains);
	tcase_add_test(tc, offset_and_add);
	suite_add_tcase(s, tc);
	return s;
}
