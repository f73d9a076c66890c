#include "suites.h"

#include "cni/cni.h"

#include <stdlib.h>
#include <string.h>

/* Upstream's chained case: a 0.4.0 prevResult from a bridge-like plugin. */
#define PREV_040                                                                                   \
	"{\"cniVersion\":\"0.4.0\",\"name\":\"k8s\",\"type\":\"coil\",\"prevResult\":{"            \
	"\"ips\":[{\"version\":\"4\",\"address\":\"10.0.0.5/32\",\"interface\":2}],"               \
	"\"interfaces\":[{\"name\":\"cni0\"},{\"name\":\"veth3243\"},"                             \
	"{\"name\":\"eth0\",\"sandbox\":\"/var/run/netns/blue\"}],"                                \
	"\"dns\":{\"nameservers\":[\"10.1.0.1\"]}}}"

START_TEST(test_case2_defaults)
{
	const char *text = "{\"cniVersion\":\"0.4.0\",\"name\":\"k8s\",\"type\":\"coil\"}";
	struct cni_netconf conf;
	struct cni_error err = {0};
	ck_assert_int_eq(cni_netconf_parse(text, strlen(text), &conf, &err), 0);
	ck_assert_str_eq(conf.cni_version, "0.4.0");
	ck_assert_str_eq(conf.name, "k8s");
	ck_assert_str_eq(conf.type, "coil");
	ck_assert_str_eq(conf.socket, "/run/coild.sock");
	ck_assert_ptr_null(conf.prev_result);
	ck_assert_ptr_null(conf.capabilities);
	ck_assert_ptr_null(conf.runtime_config);
	ck_assert_uint_eq(conf.n_valid_attachments, 0);
	cni_netconf_free(&conf);
}
END_TEST

START_TEST(test_case3_socket)
{
	const char *text =
	    "{\"cniVersion\":\"0.4.0\",\"name\":\"k8s\",\"type\":\"coil\","
	    "\"socket\":\"/tmp/coild.sock\",\"capabilities\":{\"portMappings\":true},"
	    "\"runtimeConfig\":{\"portMappings\":[]}}";
	struct cni_netconf conf;
	struct cni_error err = {0};
	ck_assert_int_eq(cni_netconf_parse(text, strlen(text), &conf, &err), 0);
	ck_assert_str_eq(conf.socket, "/tmp/coild.sock");
	ck_assert(json_is_true(json_object_get(conf.capabilities, "portMappings")));
	ck_assert_ptr_nonnull(conf.runtime_config);
	cni_netconf_free(&conf);
}
END_TEST

START_TEST(test_case4_prev_result_and_request)
{
	const char *text = PREV_040;
	struct cni_netconf conf;
	struct cni_error err = {0};
	ck_assert_int_eq(cni_netconf_parse(text, strlen(text), &conf, &err), 0);
	ck_assert_ptr_nonnull(conf.prev_result);
	ck_assert_uint_eq(conf.prev_result->n_ips, 1);
	ck_assert_uint_eq(conf.prev_result->n_interfaces, 3);
	ck_assert_uint_eq(conf.prev_result->dns.n_nameservers, 1);

	struct cni_env env = {.command = CNI_CMD_ADD,
			      .command_text = "ADD",
			      .container_id = "c1",
			      .netns = "/run/netns/x",
			      .ifname = "eth0",
			      .args = "",
			      .path = "/opt/cni/bin",
			      .netns_override = ""};
	struct cni_args args;
	ck_assert_int_eq(cni_args_parse("K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=foo", &args, &err), 0);
	struct cni_rpc_request req;
	ck_assert_int_eq(
	    cni_plugin_build_request(&env, &conf, &args, text, strlen(text), &req, &err), 0);
	char *json;
	size_t len;
	char why[256];
	ck_assert_int_eq(cni_rpc_request_encode(&req, &json, &len, why, sizeof(why)), 0);
	json_t *got = json_loads(json, 0, NULL);
	json_t *want = json_pack(
	    "{s:s, s:s, s:s, s:s, s:s, s:{s:s,s:s,s:s,s:s,s:s}, s:[s], s:{s:b,s:b,s:b}}", "command",
	    "ADD", "container_id", "c1", "netns", "/run/netns/x", "ifname", "eth0", "path",
	    "/opt/cni/bin", "args", "K8S_POD_NAMESPACE", "ns1", "K8S_POD_NAME", "foo",
	    "K8S_POD_INFRA_CONTAINER_ID", "", "K8S_POD_UID", "", "IS_CHAINED", "true", "ips",
	    "10.0.0.5", "interfaces", "cni0", 0, "veth3243", 0, "eth0", 1);
	ck_assert_ptr_nonnull(want);
	ck_assert_msg(json_equal(got, want), "request %s", json);
	json_decref(got);
	json_decref(want);
	free(json);
	cni_rpc_request_free(&req);
	cni_args_free(&args);
	cni_netconf_free(&conf);
}
END_TEST

START_TEST(test_conflist_and_attachments)
{
	const char *text =
	    "{\"cniVersion\":\"1.0.0\",\"cniVersions\":[\"1.0.0\",\"1.1.0\",\"2.0.0\"],"
	    "\"name\":\"k8s\",\"plugins\":[{\"type\":\"portmap\"},{\"type\":\"coil\","
	    "\"socket\":\"/s\",\"cni.dev/valid-attachments\":[{\"containerID\":\"a\","
	    "\"ifname\":\"eth0\"},{\"containerID\":\"b\",\"ifname\":\"eth1\"}]}]}";
	struct cni_netconf conf;
	struct cni_error err = {0};
	ck_assert_int_eq(cni_netconf_parse(text, strlen(text), &conf, &err), 0);
	ck_assert_str_eq(conf.cni_version, "1.1.0");
	ck_assert_str_eq(conf.type, "coil");
	ck_assert_str_eq(conf.socket, "/s");
	ck_assert_uint_eq(conf.n_valid_attachments, 2);
	ck_assert_str_eq(conf.valid_attachments[1].container_id, "b");
	ck_assert_str_eq(conf.valid_attachments[1].ifname, "eth1");
	cni_netconf_free(&conf);

	text = "{\"cniVersion\":\"1.1.0\",\"name\":\"k\",\"type\":\"coil\","
	       "\"cni.dev/attachments\":[{\"containerID\":\"x\",\"ifname\":\"eth0\"}]}";
	ck_assert_int_eq(cni_netconf_parse(text, strlen(text), &conf, &err), 0);
	ck_assert_uint_eq(conf.n_valid_attachments, 1);
	ck_assert_str_eq(conf.valid_attachments[0].container_id, "x");
	cni_netconf_free(&conf);

	/* no supported entry in cniVersions: cniVersion decides */
	text = "{\"cniVersion\":\"0.4.0\",\"cniVersions\":[\"9.0.0\"],\"name\":\"k\"}";
	ck_assert_int_eq(cni_netconf_parse(text, strlen(text), &conf, &err), 0);
	ck_assert_str_eq(conf.cni_version, "0.4.0");
	ck_assert_str_eq(conf.type, "");
	cni_netconf_free(&conf);
}
END_TEST

/* Every error path of the netconf checks, in libcni's order. */
static const struct {
	const char *text;
	int code;
	const char *msg; /* prefix */
	const char *details;
} error_cases[] = {
    {"", 6, "error unmarshall network config: ", ""},
    {"{", 6, "error unmarshall network config: ", ""},
    {"[1]", 6, "error unmarshall network config: json: cannot unmarshal array", ""},
    {"\"x\"", 6, "error unmarshall network config: json: cannot unmarshal string", ""},
    {"{} x", 6, "error unmarshall network config: ", ""},
    {"{\"name\":5}", 6, "error unmarshall network config: json: cannot unmarshal number", ""},
    {"null", 7, "missing network name", ""},
    {"{\"cniVersion\":\"0.4.0\"}", 7, "missing network name", ""},
    {"{\"name\":\"\"}", 7, "missing network name", ""},
    {"{\"name\":null}", 7, "missing network name", ""},
    {"{\"name\":\"bad name\"}", 7, "invalid characters found in network name", "bad name"},
    {"{\"name\":\"-x\"}", 7, "invalid characters found in network name", "-x"},
    {"{\"name\":\"k\",\"cniVersion\":5}", 6, "decoding version from network config: ", ""},
    {"{\"name\":\"k\",\"cniVersions\":\"1.0.0\"}", 6, "decoding version from network config: ", ""},
    {"{\"name\":\"k\"}", 1, "incompatible CNI versions",
     "config is \"0.1.0\", plugin supports [\"0.3.1\" \"0.4.0\" \"1.0.0\" \"1.1.0\"]"},
    {"{\"name\":\"k\",\"cniVersion\":\"\"}", 1, "incompatible CNI versions",
     "config is \"0.1.0\", plugin supports [\"0.3.1\" \"0.4.0\" \"1.0.0\" \"1.1.0\"]"},
    {"{\"name\":\"k\",\"cniVersion\":\"0.3.0\"}", 1, "incompatible CNI versions",
     "config is \"0.3.0\", plugin supports [\"0.3.1\" \"0.4.0\" \"1.0.0\" \"1.1.0\"]"},
    {"{\"name\":\"k\",\"cniVersion\":\"x\"}", 1, "incompatible CNI versions",
     "config is \"x\", plugin supports [\"0.3.1\" \"0.4.0\" \"1.0.0\" \"1.1.0\"]"},
    {"{\"name\":\"k\",\"cniVersion\":\"0.4.0\",\"socket\":5}", 999,
     "failed to parse network configuration: socket", ""},
    {"{\"name\":\"k\",\"cniVersion\":\"0.4.0\",\"type\":[]}", 999,
     "failed to parse network configuration: type", ""},
    {"{\"name\":\"k\",\"cniVersion\":\"0.4.0\",\"capabilities\":\"x\"}", 999,
     "failed to parse network configuration: capabilities", ""},
    {"{\"name\":\"k\",\"cniVersion\":\"0.4.0\",\"capabilities\":{\"a\":1}}", 999,
     "failed to parse network configuration: capabilities", ""},
    {"{\"name\":\"k\",\"cniVersion\":\"0.4.0\",\"runtimeConfig\":[]}", 999,
     "failed to parse network configuration: runtimeConfig", ""},
    {"{\"name\":\"k\",\"cniVersion\":\"0.4.0\",\"ipam\":{\"type\":1}}", 999,
     "failed to parse network configuration: type", ""},
    {"{\"name\":\"k\",\"cniVersion\":\"1.1.0\",\"cni.dev/valid-attachments\":{}}", 999,
     "failed to parse network configuration: cni.dev/valid-attachments", ""},
    {"{\"name\":\"k\",\"cniVersion\":\"1.1.0\",\"cni.dev/valid-attachments\":[{\"ifname\":1}]}",
     999, "failed to parse network configuration: cni.dev/valid-attachments", ""},
    {"{\"name\":\"k\",\"cniVersion\":\"0.4.0\",\"plugins\":[]}", 999,
     "failed to parse network configuration: plugins", ""},
    {"{\"name\":\"k\",\"cniVersion\":\"0.4.0\",\"prevResult\":\"x\"}", 999,
     "failed to parse prev result: ", ""},
    {"{\"name\":\"k\",\"cniVersion\":\"0.4.0\",\"prevResult\":{\"ips\":[{\"address\":\"bogus\"}]}}",
     999, "failed to parse prev result: ips[0].address: invalid CIDR", ""},
    {"{\"name\":\"k\",\"cniVersion\":\"0.4.0\",\"prevResult\":{\"cniVersion\":\"1.0.0\"}}", 999,
     "failed to parse prev result: ", ""},
    {"{\"name\":\"k\",\"cniVersion\":\"1.0.0\",\"prevResult\":{\"cniVersion\":\"0.4.0\"}}", 999,
     "failed to parse prev result: ", ""},
};

START_TEST(test_errors)
{
	struct cni_netconf conf;
	struct cni_error err = {0};
	const char *text = error_cases[_i].text;
	ck_assert_int_lt(cni_netconf_parse(text, strlen(text), &conf, &err), 0);
	ck_assert_int_eq(err.code, error_cases[_i].code);
	ck_assert_msg(strncmp(err.msg, error_cases[_i].msg, strlen(error_cases[_i].msg)) == 0,
		      "%s: msg %s", text, err.msg);
	ck_assert_str_eq(err.details, error_cases[_i].details);
	cni_netconf_free(&conf);
}
END_TEST

START_TEST(test_empty_socket_taken_literally)
{
	const char *text = "{\"cniVersion\":\"1.0.0\",\"name\":\"k\",\"socket\":\"\","
			   "\"prevResult\":null}";
	struct cni_netconf conf;
	struct cni_error err = {0};
	ck_assert_int_eq(cni_netconf_parse(text, strlen(text), &conf, &err), 0);
	ck_assert_str_eq(conf.socket, "");
	ck_assert_ptr_null(conf.prev_result);
	cni_netconf_free(&conf);
}
END_TEST

static const struct {
	enum cni_command command;
	const char *version;
	int code;
	const char *msg;
} gate_cases[] = {
    {CNI_CMD_ADD, "1.1.0", 0, ""},
    {CNI_CMD_DEL, "0.3.1", 0, ""},
    {CNI_CMD_ADD, "0.3.0", 1, "incompatible CNI versions"},
    {CNI_CMD_CHECK, "0.3.1", 1, "config version does not allow CHECK"},
    {CNI_CMD_CHECK, "0.4.0", 0, ""},
    {CNI_CMD_CHECK, "1.1.0", 0, ""},
    {CNI_CMD_CHECK, "1.2.0", 1, "plugin version does not allow CHECK"},
    {CNI_CMD_CHECK, "0.9.0", 1, "incompatible CNI versions"},
    {CNI_CMD_CHECK, "x", 6,
     "failed to convert major version part \"x\": strconv.Atoi: parsing \"x\": invalid syntax"},
    {CNI_CMD_GC, "1.0.0", 1, "config version does not allow GC"},
    {CNI_CMD_GC, "1.1.0", 0, ""},
    {CNI_CMD_GC, "2.0.0", 1, "plugin version does not allow GC"},
    {CNI_CMD_STATUS, "0.4.0", 1, "config version does not allow STATUS"},
    {CNI_CMD_STATUS, "1.1.0", 0, ""},
    {CNI_CMD_STATUS, "1.x", 6,
     "failed to convert minor version part \"x\": strconv.Atoi: parsing \"x\": invalid syntax"},
};

START_TEST(test_version_gate)
{
	struct cni_error err = {0};
	int rc = cni_check_version(gate_cases[_i].command, gate_cases[_i].version, &err);
	ck_assert_int_eq(err.code, gate_cases[_i].code);
	ck_assert_int_eq(rc < 0, gate_cases[_i].code != 0);
	ck_assert_str_eq(err.msg, gate_cases[_i].msg);
}
END_TEST

/* libcni's order between the netconf checks, the env identifiers and CNI_ARGS. */
static const struct {
	const char *command, *container_id, *ifname, *args, *stdin_text;
	int code;
	const char *msg;
} order_cases[] = {
    {"BOGUS", "", "", "", "", 6, "error unmarshall network config: "},
    {"BOGUS", "", "", "", "{\"name\":\"k\"}", 4, "unknown CNI_COMMAND: BOGUS"},
    {"ADD", "_bad", "eth0", "", "{\"name\":\"bad name\"}", 7, "invalid characters found"},
    {"ADD", "_bad", "eth0", "", "{\"name\":\"k\"}", 4, "invalid characters in containerID"},
    {"ADD", "c1", "", "", "{\"name\":\"k\"}", 4, "interface name is empty"},
    {"ADD", "c1", "eth0", "", "{\"name\":\"k\"}", 1, "incompatible CNI versions"},
    {"ADD", "c1", "eth0", "x", "{\"name\":\"k\",\"cniVersion\":\"1.0.0\",\"socket\":1}", 999,
     "failed to parse network configuration"},
    {"ADD", "c1", "eth0", "x", "{\"name\":\"k\",\"cniVersion\":\"1.0.0\"}", 4,
     "failed to load CNI_ARGS"},
    {"GC", "", "", "", "{\"name\":\"k\",\"cniVersion\":\"1.1.0\"}", 0, ""},
    {"CHECK", "c1", "eth0", "", "{\"name\":\"k\",\"cniVersion\":\"0.3.1\"}", 1,
     "config version does not allow CHECK"},
};

START_TEST(test_prepare_order)
{
	struct cni_env env = {.command_text = order_cases[_i].command,
			      .command = cni_command_parse(order_cases[_i].command),
			      .container_id = order_cases[_i].container_id,
			      .netns = "/run/netns/x",
			      .ifname = order_cases[_i].ifname,
			      .args = order_cases[_i].args,
			      .path = "/p",
			      .netns_override = ""};
	struct cni_netconf conf = {0};
	struct cni_args args = {0};
	struct cni_error err = {0};
	const char *text = order_cases[_i].stdin_text;
	int rc = cni_plugin_prepare(&env, text, strlen(text), &conf, &args, &err);
	ck_assert_int_eq(err.code, order_cases[_i].code);
	ck_assert_int_eq(rc < 0, order_cases[_i].code != 0);
	ck_assert_msg(strncmp(err.msg, order_cases[_i].msg, strlen(order_cases[_i].msg)) == 0,
		      "msg %s", err.msg);
	cni_args_free(&args);
	cni_netconf_free(&conf);
}
END_TEST

Suite *netconf_suite(void)
{
	Suite *s = suite_create("netconf");
	TCase *tc = tcase_create("netconf");
	tcase_add_test(tc, test_case2_defaults);
	tcase_add_test(tc, test_case3_socket);
	tcase_add_test(tc, test_case4_prev_result_and_request);
	tcase_add_test(tc, test_conflist_and_attachments);
	tcase_add_loop_test(tc, test_errors, 0, N(error_cases));
	tcase_add_test(tc, test_empty_socket_taken_literally);
	tcase_add_loop_test(tc, test_version_gate, 0, N(gate_cases));
	tcase_add_loop_test(tc, test_prepare_order, 0, N(order_cases));
	suite_add_tcase(s, tc);
	return s;
}
