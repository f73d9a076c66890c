/* Netconf (with prevResult) through every stage, for each command's version gate,
 * and the request built from it. */
#include "cni/cni.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct cni_netconf conf;
	struct cni_error err;
	if (cni_netconf_parse(text, size, &conf, &err) == 0) {
		struct cni_env env = {.command = CNI_CMD_ADD,
				      .command_text = "ADD",
				      .container_id = "c",
				      .netns = "",
				      .ifname = "eth0",
				      .args = "",
				      .path = "",
				      .netns_override = ""};
		struct cni_args args = {"", "", "", "", false, NULL};
		struct cni_rpc_request req;
		if (cni_plugin_build_request(&env, &conf, &args, text, size, &req, &err) == 0) {
			char *out, why[128];
			size_t len;
			if (cni_rpc_request_encode(&req, &out, &len, why, sizeof(why)) == 0)
				free(out);
		}
		cni_rpc_request_free(&req);
		if (conf.prev_result) {
			struct cni_rpc_response resp = {0};
			json_t *res = NULL;
			if (cni_plugin_add_output(&conf, &resp, &res, &err) == 0)
				json_decref(res);
		}
	}
	const char *gate_version = conf.cni_version;
	for (int cmd = CNI_CMD_ADD; gate_version && cmd <= CNI_CMD_GC; cmd++)
		cni_check_version((enum cni_command)cmd, gate_version, &err);
	cni_netconf_free(&conf);
	return 0;
}
