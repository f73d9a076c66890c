/* The plugin's flow between its environment and coild, in libcni skel's order,
 * kept here so that applets/cni.c only wires it together. */
#include "cni/cni.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool names_a_container(enum cni_command command)
{
	return command == CNI_CMD_ADD || command == CNI_CMD_CHECK || command == CNI_CMD_DEL;
}

int cni_plugin_prepare(const struct cni_env *env, const char *stdin_text, size_t stdin_len,
		       struct cni_netconf *conf, struct cni_args *args, struct cni_error *err)
{
	memset(args, 0, sizeof(*args));
	if (cni_netconf_load(stdin_text, stdin_len, conf, err) < 0)
		return -EINVAL;
	if (names_a_container(env->command) &&
	    (cni_validate_container_id(env->container_id, err) < 0 ||
	     cni_validate_ifname(env->ifname, err) < 0))
		return -EINVAL;
	if (env->command == CNI_CMD_UNKNOWN || env->command == CNI_CMD_NONE)
		return cni_error_set(err, CNI_ERR_INVALID_ENV, NULL, "unknown CNI_COMMAND: %s",
				     env->command_text);
	if (cni_netconf_decode_version(conf, err) < 0 ||
	    cni_check_version(env->command, conf->cni_version, err) < 0 ||
	    cni_netconf_parse_plugin(conf, err) < 0)
		return -EINVAL;
	return cni_args_parse(env->args, args, err);
}

/* With a prevResult (chained), coild learns its addresses (without prefix) and
 * which interfaces are inside the sandbox. */
static int add_chained_fields(const struct cni_result *prev, struct cni_rpc_request *req,
			      struct cni_error *err)
{
	if (prev->n_ips) {
		req->ips = calloc(prev->n_ips, sizeof(*req->ips));
		if (!req->ips)
			return cni_error_set(err, CNI_ERR_INTERNAL, NULL, "out of memory");
		for (size_t i = 0; i < prev->n_ips; i++) {
			if (cni_cidr_address(prev->ips[i].address, req->ips[i]) < 0)
				return cni_error_set(err, CNI_ERR_INTERNAL, prev->ips[i].address,
						     "error getting previous CNI result");
		}
		req->n_ips = prev->n_ips;
	}
	if (prev->n_interfaces) {
		req->interfaces = calloc(prev->n_interfaces, sizeof(*req->interfaces));
		if (!req->interfaces)
			return cni_error_set(err, CNI_ERR_INTERNAL, NULL, "out of memory");
		for (size_t i = 0; i < prev->n_interfaces; i++) {
			const struct cni_interface *intf = &prev->interfaces[i];
			req->interfaces[i].name = intf->name ? intf->name : "";
			req->interfaces[i].in_sandbox = intf->sandbox && intf->sandbox[0];
		}
		req->n_interfaces = prev->n_interfaces;
	}
	return 0;
}

int cni_plugin_build_request(const struct cni_env *env, const struct cni_netconf *conf,
			     const struct cni_args *args, const char *stdin_text, size_t stdin_len,
			     struct cni_rpc_request *req, struct cni_error *err)
{
	memset(req, 0, sizeof(*req));
	req->command = env->command;
	req->container_id = env->container_id;
	req->netns = env->netns;
	req->ifname = env->ifname;
	req->path = env->path;
	req->stdin_data = stdin_text;
	req->stdin_len = stdin_len;
	req->pod_namespace = args->pod_namespace;
	req->pod_name = args->pod_name;
	req->pod_infra_container_id = args->pod_infra_container_id;
	req->pod_uid = args->pod_uid;
	req->is_chained = conf->prev_result ? "true" : "false";
	if (conf->n_valid_attachments) {
		size_t size = conf->n_valid_attachments * sizeof(*req->valid_attachments);
		req->valid_attachments = malloc(size);
		if (!req->valid_attachments)
			return cni_error_set(err, CNI_ERR_INTERNAL, NULL, "out of memory");
		memcpy(req->valid_attachments, conf->valid_attachments, size);
		req->n_valid_attachments = conf->n_valid_attachments;
	}
	return conf->prev_result ? add_chained_fields(conf->prev_result, req, err) : 0;
}

static int render(const struct cni_result *res, const char *version, json_t **out,
		  struct cni_error *err)
{
	char why[256];
	*out = cni_result_to_json(res, version, why, sizeof(why));
	if (!*out)
		return cni_error_set(err, CNI_ERR_INTERNAL, why, "failed to convert result");
	return 0;
}

int cni_plugin_add_output(const struct cni_netconf *conf, const struct cni_rpc_response *resp,
			  json_t **out, struct cni_error *err)
{
	*out = NULL;
	if (conf->prev_result)
		return render(conf->prev_result, conf->cni_version, out, err);
	struct cni_result res;
	char why[512];
	if (!resp->result || cni_result_from_json(resp->result, NULL, &res, why, sizeof(why)) < 0)
		return cni_error_set(err, CNI_ERR_DECODING, resp->result ? why : "no result",
				     "failed to unmarshal result");
	int rc = render(&res, conf->cni_version, out, err);
	cni_result_free(&res);
	return rc;
}

const char *cni_plugin_error_version(const struct cni_netconf *conf)
{
	if (conf && conf->cni_version && cni_version_is_supported(conf->cni_version))
		return conf->cni_version;
	return CNI_VERSION_LATEST;
}
