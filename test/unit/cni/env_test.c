#include "suites.h"

#include "cni/cni.h"

#include <string.h>

/* Which variables each command requires, and the message naming the missing. */
static const struct {
	const char *command, *container_id, *netns, *ifname, *path;
	const char *msg; /* NULL = passes */
} required_cases[] = {
    {"ADD", "c1", "/run/netns/x", "eth0", "/opt/cni/bin", NULL},
    {"ADD", "", "", "", "",
     "required env variables [CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME,CNI_PATH] missing"},
    {"ADD", "c1", "", "eth0", "/p", "required env variables [CNI_NETNS] missing"},
    {"CHECK", "c1", "", "eth0", "/p", "required env variables [CNI_NETNS] missing"},
    {"DEL", "c1", "", "eth0", "/p", NULL}, /* CNI_NETNS optional for DEL */
    {"DEL", "", "", "", "/p", "required env variables [CNI_CONTAINERID,CNI_IFNAME] missing"},
    {"GC", "", "", "", "/p", NULL},
    {"GC", "", "", "", "", "required env variables [CNI_PATH] missing"},
    {"STATUS", "", "", "", "", "required env variables [CNI_PATH] missing"},
    {"STATUS", "", "", "", "/p", NULL},
    {"VERSION", "", "", "", "", NULL},
    {"BOGUS", "", "", "", "", NULL},
    {"", "c1", "n", "eth0", "/p", "required env variables [CNI_COMMAND] missing"},
};

START_TEST(test_required)
{
	struct cni_env env = {
	    .command_text = required_cases[_i].command,
	    .command = cni_command_parse(required_cases[_i].command),
	    .container_id = required_cases[_i].container_id,
	    .netns = required_cases[_i].netns,
	    .ifname = required_cases[_i].ifname,
	    .args = "",
	    .path = required_cases[_i].path,
	    .netns_override = "",
	};
	struct cni_error err = {0};
	int rc = cni_env_check_required(&env, &err);
	if (!required_cases[_i].msg) {
		ck_assert_int_eq(rc, 0);
		return;
	}
	ck_assert_int_lt(rc, 0);
	ck_assert_int_eq(err.code, CNI_ERR_INVALID_ENV);
	ck_assert_str_eq(err.msg, required_cases[_i].msg);
	ck_assert_str_eq(err.details, "");
}
END_TEST

static const struct {
	const char *id;
	int code;
	const char *msg;
} id_cases[] = {
    {"c8f4a9c50c85b36eff718aab2ac39209e541a4551420488c33d9216cf1795b3a", 0, NULL},
    {"a", 0, NULL},
    {"A_b.c-9", 0, NULL},
    {"", CNI_ERR_UNKNOWN_CONTAINER, "missing containerID"},
    {"_abc", CNI_ERR_INVALID_ENV, "invalid characters in containerID"},
    {"-abc", CNI_ERR_INVALID_ENV, "invalid characters in containerID"},
    {"ab c", CNI_ERR_INVALID_ENV, "invalid characters in containerID"},
    {"ab/c", CNI_ERR_INVALID_ENV, "invalid characters in containerID"},
    {"abc\n", CNI_ERR_INVALID_ENV, "invalid characters in containerID"},
};

START_TEST(test_container_id)
{
	struct cni_error err = {0};
	int rc = cni_validate_container_id(id_cases[_i].id, &err);
	ck_assert_int_eq(err.code, id_cases[_i].code);
	ck_assert_int_eq(rc < 0, id_cases[_i].code != 0);
	if (id_cases[_i].msg)
		ck_assert_str_eq(err.msg, id_cases[_i].msg);
	if (id_cases[_i].code == CNI_ERR_INVALID_ENV)
		ck_assert_str_eq(err.details, id_cases[_i].id);
}
END_TEST

static const char bad_chars[] = "interface name contains / or : or whitespace characters";

static const struct {
	const char *ifname;
	const char *msg, *details;
} ifname_cases[] = {
    {"eth0", NULL, NULL},
    {"123456789012345", NULL, NULL},
    {"ab.c", NULL, NULL},
    {"...", NULL, NULL},
    {"", "interface name is empty", ""},
    {"1234567890123456", "interface name is too long",
     "interface name should be less than 16 characters"},
    {".", "interface name is . or ..", ""},
    {"..", "interface name is . or ..", ""},
    {"eth/0", bad_chars, ""},
    {"eth:0", bad_chars, ""},
    {"eth 0", bad_chars, ""},
    {"eth\t0", bad_chars, ""},
    {"eth\v0", bad_chars, ""},
    {"eth\xc2\xa0", bad_chars, ""},    /* U+00A0 no-break space */
    {"e\xe2\x80\x83x", bad_chars, ""}, /* U+2003 em space */
    {"\xc3\xa9th0", NULL, NULL},       /* é is fine */
};

START_TEST(test_ifname)
{
	struct cni_error err = {0};
	int rc = cni_validate_ifname(ifname_cases[_i].ifname, &err);
	if (!ifname_cases[_i].msg) {
		ck_assert_int_eq(rc, 0);
		return;
	}
	ck_assert_int_lt(rc, 0);
	ck_assert_int_eq(err.code, CNI_ERR_INVALID_ENV);
	ck_assert_str_eq(err.msg, ifname_cases[_i].msg);
	ck_assert_str_eq(err.details, ifname_cases[_i].details);
}
END_TEST

START_TEST(test_network_name)
{
	struct cni_error err = {0};
	ck_assert_int_eq(cni_validate_network_name("k8s-pod-network", &err), 0);
	ck_assert_int_lt(cni_validate_network_name("", &err), 0);
	ck_assert_int_eq(err.code, CNI_ERR_INVALID_NETCONF);
	ck_assert_str_eq(err.msg, "missing network name");
	ck_assert_int_lt(cni_validate_network_name("a b", &err), 0);
	ck_assert_str_eq(err.msg, "invalid characters found in network name");
	ck_assert_str_eq(err.details, "a b");
}
END_TEST

START_TEST(test_commands)
{
	ck_assert_int_eq(cni_command_parse(NULL), CNI_CMD_NONE);
	ck_assert_int_eq(cni_command_parse(""), CNI_CMD_NONE);
	ck_assert_int_eq(cni_command_parse("ADD"), CNI_CMD_ADD);
	ck_assert_int_eq(cni_command_parse("GC"), CNI_CMD_GC);
	ck_assert_int_eq(cni_command_parse("STATUS"), CNI_CMD_STATUS);
	ck_assert_int_eq(cni_command_parse("add"), CNI_CMD_UNKNOWN);
	ck_assert_str_eq(cni_command_name(CNI_CMD_CHECK), "CHECK");
	ck_assert_str_eq(cni_command_name(CNI_CMD_UNKNOWN), "");
}
END_TEST

START_TEST(test_netns_override_and_check)
{
	struct cni_env env = {.netns_override = "1"};
	ck_assert(cni_env_netns_override(&env));
	env.netns_override = "TrUe";
	ck_assert(cni_env_netns_override(&env));
	env.netns_override = "yes";
	ck_assert(!cni_env_netns_override(&env));
	env.netns_override = "";
	ck_assert(!cni_env_netns_override(&env));

	struct cni_error err = {0};
	ck_assert_int_eq(cni_netns_check("", &err), 0);
	ck_assert_int_eq(cni_netns_check("/nonexistent/netns", &err), 0);
	ck_assert_int_eq(cni_netns_check("/proc/1/ns/mnt", &err), 0);
	ck_assert_int_lt(cni_netns_check("/proc/self/ns/net", &err), 0);
	ck_assert_int_eq(err.code, CNI_ERR_INVALID_NETNS);
	ck_assert_str_eq(err.msg, "plugin's netns and netns from CNI_NETNS should not be the same");
}
END_TEST

Suite *env_suite(void)
{
	Suite *s = suite_create("env");
	TCase *tc = tcase_create("env");
	tcase_add_loop_test(tc, test_required, 0, N(required_cases));
	tcase_add_loop_test(tc, test_container_id, 0, N(id_cases));
	tcase_add_loop_test(tc, test_ifname, 0, N(ifname_cases));
	tcase_add_test(tc, test_network_name);
	tcase_add_test(tc, test_commands);
	tcase_add_test(tc, test_netns_override_and_check);
	suite_add_tcase(s, tc);
	return s;
}
