#include "suites.h"

#include "cni/cni.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What coild answers for a dual-stack pod (a CNI 1.1.0 result). */
static const char daemon_110[] =
    "{\"cniVersion\":\"1.1.0\",\"interfaces\":["
    "{\"name\":\"eth0\",\"mac\":\"5a:2c:00:00:00:01\",\"sandbox\":\"/var/run/netns/cni-1234\"},"
    "{\"name\":\"veth1a2b3c4d\",\"mac\":\"e6:01:00:00:00:02\"}],"
    "\"ips\":[{\"address\":\"10.1.2.3/32\",\"interface\":0},"
    "{\"address\":\"fd02::1/128\",\"interface\":0}]}";

/* A result with every field, 1.1 extras included. */
static const char full_110[] =
    "{\"cniVersion\":\"1.1.0\",\"interfaces\":[{\"name\":\"eth0\",\"mac\":\"aa:bb:cc:dd:ee:ff\","
    "\"mtu\":1450,\"sandbox\":\"/run/netns/p\",\"socketPath\":\"/s\",\"pciID\":\"0000:00:01.0\"}],"
    "\"ips\":[{\"address\":\"10.0.0.2/24\",\"gateway\":\"10.0.0.1\",\"interface\":0},"
    "{\"address\":\"FD00:0::2/64\"}],"
    "\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"10.0.0.1\",\"mtu\":1400,\"advmss\":1360,"
    "\"priority\":5,\"table\":100,\"scope\":0}],"
    "\"dns\":{\"nameservers\":[\"10.96.0.10\"],\"domain\":\"cluster.local\","
    "\"search\":[\"svc.cluster.local\"],\"options\":[\"ndots:5\"]}}";

/* A 0.4.0 result as a previous plugin (bridge, ptp) prints it. */
static const char prev_040[] =
    "{\"cniVersion\":\"0.4.0\",\"interfaces\":[{\"name\":\"cni0\",\"mac\":\"00:11:22:33:44:55\"},"
    "{\"name\":\"eth0\",\"sandbox\":\"/var/run/netns/blue\"}],"
    "\"ips\":[{\"version\":\"4\",\"address\":\"10.0.0.5/"
    "24\",\"gateway\":\"10.0.0.1\",\"interface\":1}],"
    "\"routes\":[{\"dst\":\"0.0.0.0/0\"}],\"dns\":{\"nameservers\":[\"10.1.0.1\"]}}";

static const struct {
	const char *in, *as_version, *to, *golden;
} cases[] = {
    {daemon_110, NULL, "1.1.0", daemon_110},
    {daemon_110, NULL, "1.0.0",
     "{\"cniVersion\":\"1.0.0\",\"interfaces\":["
     "{\"mac\":\"5a:2c:00:00:00:01\",\"name\":\"eth0\",\"sandbox\":\"/var/run/netns/cni-1234\"},"
     "{\"mac\":\"e6:01:00:00:00:02\",\"name\":\"veth1a2b3c4d\"}],"
     "\"ips\":[{\"address\":\"10.1.2.3/32\",\"interface\":0},"
     "{\"address\":\"fd02::1/128\",\"interface\":0}]}"},
    {daemon_110, NULL, "0.4.0",
     "{\"cniVersion\":\"0.4.0\",\"interfaces\":["
     "{\"name\":\"eth0\",\"mac\":\"5a:2c:00:00:00:01\",\"sandbox\":\"/var/run/netns/cni-1234\"},"
     "{\"name\":\"veth1a2b3c4d\",\"mac\":\"e6:01:00:00:00:02\"}],"
     "\"ips\":[{\"version\":\"4\",\"interface\":0,\"address\":\"10.1.2.3/32\"},"
     "{\"version\":\"6\",\"interface\":0,\"address\":\"fd02::1/128\"}],\"dns\":{}}"},
    {daemon_110, NULL, "0.3.1",
     "{\"cniVersion\":\"0.3.1\",\"interfaces\":["
     "{\"name\":\"eth0\",\"mac\":\"5a:2c:00:00:00:01\",\"sandbox\":\"/var/run/netns/cni-1234\"},"
     "{\"name\":\"veth1a2b3c4d\",\"mac\":\"e6:01:00:00:00:02\"}],"
     "\"ips\":[{\"version\":\"4\",\"interface\":0,\"address\":\"10.1.2.3/32\"},"
     "{\"version\":\"6\",\"interface\":0,\"address\":\"fd02::1/128\"}],\"dns\":{}}"},
    {"{\"cniVersion\":\"1.1.0\"}", NULL, "1.0.0", "{\"cniVersion\":\"1.0.0\"}"},
    {"{\"cniVersion\":\"1.1.0\"}", NULL, "0.4.0", "{\"cniVersion\":\"0.4.0\",\"dns\":{}}"},
    {full_110, NULL, "1.1.0",
     "{\"cniVersion\":\"1.1.0\",\"interfaces\":[{\"name\":\"eth0\",\"mac\":\"aa:bb:cc:dd:ee:ff\","
     "\"mtu\":1450,\"sandbox\":\"/run/netns/p\",\"socketPath\":\"/s\",\"pciID\":\"0000:00:01.0\"}],"
     "\"ips\":[{\"address\":\"10.0.0.2/24\",\"gateway\":\"10.0.0.1\",\"interface\":0},"
     "{\"address\":\"fd00::2/64\"}],"
     "\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"10.0.0.1\",\"mtu\":1400,\"advmss\":1360,"
     "\"priority\":5,\"table\":100,\"scope\":0}],"
     "\"dns\":{\"nameservers\":[\"10.96.0.10\"],\"domain\":\"cluster.local\","
     "\"search\":[\"svc.cluster.local\"],\"options\":[\"ndots:5\"]}}"},
    {full_110, NULL, "0.4.0",
     "{\"cniVersion\":\"0.4.0\",\"interfaces\":[{\"name\":\"eth0\",\"mac\":\"aa:bb:cc:dd:ee:ff\","
     "\"sandbox\":\"/run/netns/p\"}],"
     "\"ips\":[{\"version\":\"4\",\"address\":\"10.0.0.2/"
     "24\",\"gateway\":\"10.0.0.1\",\"interface\":0},"
     "{\"version\":\"6\",\"address\":\"fd00::2/64\"}],"
     "\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"10.0.0.1\"}],"
     "\"dns\":{\"nameservers\":[\"10.96.0.10\"],\"domain\":\"cluster.local\","
     "\"search\":[\"svc.cluster.local\"],\"options\":[\"ndots:5\"]}}"},
    {prev_040, "0.4.0", "0.4.0", prev_040},
    {prev_040, NULL, "1.0.0",
     "{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"cni0\",\"mac\":\"00:11:22:33:44:55\"},"
     "{\"name\":\"eth0\",\"sandbox\":\"/var/run/netns/blue\"}],"
     "\"ips\":[{\"address\":\"10.0.0.5/24\",\"gateway\":\"10.0.0.1\",\"interface\":1}],"
     "\"routes\":[{\"dst\":\"0.0.0.0/0\"}],\"dns\":{\"nameservers\":[\"10.1.0.1\"]}}"},
    {prev_040, NULL, "1.1.0",
     "{\"cniVersion\":\"1.1.0\",\"interfaces\":[{\"name\":\"cni0\",\"mac\":\"00:11:22:33:44:55\"},"
     "{\"name\":\"eth0\",\"sandbox\":\"/var/run/netns/blue\"}],"
     "\"ips\":[{\"address\":\"10.0.0.5/24\",\"gateway\":\"10.0.0.1\",\"interface\":1}],"
     "\"routes\":[{\"dst\":\"0.0.0.0/0\"}],\"dns\":{\"nameservers\":[\"10.1.0.1\"]}}"},
    {prev_040, NULL, "0.3.1",
     "{\"cniVersion\":\"0.3.1\",\"interfaces\":[{\"name\":\"cni0\",\"mac\":\"00:11:22:33:44:55\"},"
     "{\"name\":\"eth0\",\"sandbox\":\"/var/run/netns/blue\"}],"
     "\"ips\":[{\"version\":\"4\",\"address\":\"10.0.0.5/"
     "24\",\"gateway\":\"10.0.0.1\",\"interface\":1}],"
     "\"routes\":[{\"dst\":\"0.0.0.0/0\"}],\"dns\":{\"nameservers\":[\"10.1.0.1\"]}}"},
    /* a 0.x prevResult without cniVersion takes the netconf's; 1.1 keys are not 0.x */
    {"{\"interfaces\":[{\"name\":\"eth0\",\"mtu\":9000}],\"ips\":[{\"address\":\"10.0.0.9/32\"}]}",
     "0.3.1", "1.1.0",
     "{\"cniVersion\":\"1.1.0\",\"interfaces\":[{\"name\":\"eth0\"}],"
     "\"ips\":[{\"address\":\"10.0.0.9/32\"}]}"},
};

START_TEST(test_convert)
{
	json_error_t jerr;
	json_t *in = json_loads(cases[_i].in, 0, &jerr);
	ck_assert_ptr_nonnull(in);
	struct cni_result res;
	char why[256] = "";
	ck_assert_msg(cni_result_from_json(in, cases[_i].as_version, &res, why, sizeof(why)) == 0,
		      "%s", why);
	json_t *out = cni_result_to_json(&res, cases[_i].to, why, sizeof(why));
	ck_assert_ptr_nonnull(out);
	json_t *golden = json_loads(cases[_i].golden, 0, &jerr);
	ck_assert_ptr_nonnull(golden);
	char *text = json_dumps(out, JSON_COMPACT);
	ck_assert_msg(json_equal(out, golden), "got %s", text);
	free(text);
	json_decref(golden);
	json_decref(out);
	json_decref(in);
	cni_result_free(&res);
}
END_TEST

/* The 0.4.0 output is compact and in the documented field order. */
START_TEST(test_exact_040_text)
{
	json_t *in = json_loads(daemon_110, 0, NULL);
	struct cni_result res;
	char why[256];
	ck_assert_int_eq(cni_result_from_json(in, NULL, &res, why, sizeof(why)), 0);
	json_t *out = cni_result_to_json(&res, "0.4.0", why, sizeof(why));
	char *text = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER);
	ck_assert_str_eq(text,
			 "{\"cniVersion\":\"0.4.0\",\"interfaces\":[{\"name\":\"eth0\",\"mac\":"
			 "\"5a:2c:00:00:00:01\",\"sandbox\":\"/var/run/netns/cni-1234\"},{\"name\":"
			 "\"veth1a2b3c4d\",\"mac\":\"e6:01:00:00:00:02\"}],\"ips\":[{\"version\":"
			 "\"4\",\"interface\":0,\"address\":\"10.1.2.3/32\"},{\"version\":\"6\","
			 "\"interface\":0,\"address\":\"fd02::1/128\"}],\"dns\":{}}");
	free(text);
	json_decref(out);
	json_decref(in);
	cni_result_free(&res);
}
END_TEST

static const struct {
	const char *in, *as_version, *why; /* why: prefix */
} bad_cases[] = {
    {"[]", NULL, "result is not a JSON object"},
    {"{}", NULL, "unsupported result version \"\""},
    {"{\"cniVersion\":\"0.2.0\"}", NULL, "unsupported result version"},
    {"{\"cniVersion\":5}", NULL, "result.cniVersion: not a string"},
    {"{\"cniVersion\":\"1.0.0\"}", "0.4.0", "result type of version 0.4.0"},
    {"{}", "0.1.0", "unsupported result version \"0.1.0\""},
    {"{\"interfaces\":{}}", "1.0.0", "result.interfaces: not an array"},
    {"{\"interfaces\":[1]}", "1.0.0", "interfaces[0]: not an object"},
    {"{\"interfaces\":[{\"name\":1}]}", "1.0.0", "interfaces[0].name: not a string"},
    {"{\"interfaces\":[{\"mtu\":\"x\"}]}", "1.1.0", "interfaces[0].mtu: not an integer"},
    {"{\"ips\":[{}]}", "1.0.0", "ips[0].address: missing"},
    {"{\"ips\":[{\"address\":\"10.0.0.1\"}]}", "1.0.0", "ips[0].address: invalid CIDR"},
    {"{\"ips\":[{\"address\":\"10.0.0.1/33\"}]}", "1.0.0", "ips[0].address: invalid CIDR"},
    {"{\"ips\":[{\"address\":\"fd00::1/129\"}]}", "1.0.0", "ips[0].address: invalid CIDR"},
    {"{\"ips\":[{\"address\":\"10.0.0.1/+1\"}]}", "1.0.0", "ips[0].address: invalid CIDR"},
    {"{\"ips\":[{\"address\":\"10.0.0.1/24\",\"gateway\":\"x\"}]}", "1.0.0",
     "ips[0].gateway: invalid IP"},
    {"{\"ips\":[{\"address\":\"10.0.0.1/24\",\"interface\":1.5}]}", "1.0.0",
     "ips[0].interface: not an integer"},
    {"{\"ips\":[{\"address\":\"10.0.0.1/24\",\"interface\":99999999999}]}", "1.0.0",
     "ips[0].interface: not an integer"},
    {"{\"ips\":[{\"address\":\"10.0.0.1/24\",\"version\":4}]}", "0.4.0",
     "ips[0].version: not a string"},
    {"{\"routes\":[{}]}", "1.0.0", "routes[0].dst: missing"},
    {"{\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"::x\"}]}", "1.0.0", "routes[0].gw: invalid IP"},
    {"{\"routes\":[{\"dst\":\"0.0.0.0/0\",\"table\":\"main\"}]}", "1.1.0",
     "routes[0].table: not an integer"},
    {"{\"dns\":[]}", "1.0.0", "dns: not an object"},
    {"{\"dns\":{\"nameservers\":[1]}}", "1.0.0", "dns.nameservers[0]: not a string"},
    {"{\"dns\":{\"domain\":[]}}", "1.0.0", "dns.domain: not a string"},
};

START_TEST(test_bad_results)
{
	json_t *in = json_loads(bad_cases[_i].in, JSON_DECODE_ANY, NULL);
	ck_assert_ptr_nonnull(in);
	struct cni_result res;
	char why[256] = "";
	ck_assert_int_lt(cni_result_from_json(in, bad_cases[_i].as_version, &res, why, sizeof(why)),
			 0);
	ck_assert_msg(strncmp(why, bad_cases[_i].why, strlen(bad_cases[_i].why)) == 0, "%s: %s",
		      bad_cases[_i].in, why);
	ck_assert_ptr_null(res.ips);
	json_decref(in);
}
END_TEST

START_TEST(test_builders)
{
	struct cni_result res = {0};
	snprintf(res.cni_version, sizeof(res.cni_version), "1.1.0");
	ck_assert_int_eq(
	    cni_result_add_interface(&res, "eth0", "5a:2c:00:00:00:01", "/var/run/netns/cni-1234"),
	    0);
	ck_assert_int_eq(cni_result_add_interface(&res, "veth1a2b3c4d", "e6:01:00:00:00:02", NULL),
			 1);
	ck_assert_int_eq(cni_result_add_ip(&res, "10.1.2.3/32", NULL, 0), 0);
	ck_assert_int_eq(cni_result_add_ip(&res, "fd02:0::1/128", "", 0), 1);
	ck_assert_int_eq(cni_result_add_ip(&res, "10.1.2.3", NULL, 0), -EINVAL);
	ck_assert_int_eq(cni_result_add_ip(&res, "10.1.2.3/32", "bogus", 0), -EINVAL);
	char why[128];
	json_t *out = cni_result_to_json(&res, "1.1.0", why, sizeof(why));
	json_t *golden = json_loads(daemon_110, 0, NULL);
	ck_assert(json_equal(out, golden));
	ck_assert_ptr_null(cni_result_to_json(&res, "0.2.0", why, sizeof(why)));
	json_decref(out);
	json_decref(golden);
	cni_result_free(&res);

	char addr[INET6_ADDRSTRLEN];
	ck_assert_int_eq(cni_cidr_address("fd02:0:0::5/64", addr), 0);
	ck_assert_str_eq(addr, "fd02::5");
	ck_assert_int_eq(cni_cidr_address("10.0.0.5/32", addr), 0);
	ck_assert_str_eq(addr, "10.0.0.5");
	ck_assert_int_lt(cni_cidr_address("10.0.0.5", addr), 0);
}
END_TEST

Suite *result_suite(void)
{
	Suite *s = suite_create("result");
	TCase *tc = tcase_create("result");
	tcase_add_loop_test(tc, test_convert, 0, N(cases));
	tcase_add_test(tc, test_exact_040_text);
	tcase_add_loop_test(tc, test_bad_results, 0, N(bad_cases));
	tcase_add_test(tc, test_builders);
	suite_add_tcase(s, tc);
	return s;
}
