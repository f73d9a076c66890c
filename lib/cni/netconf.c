/* The network configuration on stdin, checked in libcni's order: JSON and name
 * (skel), cniVersion (version decoder), the command's version gate, then coil's
 * own fields and prevResult (the plugin's config parser). */
#include "cni/cni.h"
#include "cni/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "bool";
	default:
		return "null";
	}
}

int cni_netconf_load(const char *text, size_t len, struct cni_netconf *conf, struct cni_error *err)
{
	memset(conf, 0, sizeof(*conf));
	json_error_t jerr;
	conf->doc = json_loadb(text, len, JSON_DECODE_ANY, &jerr);
	if (!conf->doc)
		return cni_error_set(err, CNI_ERR_DECODING, NULL,
				     "error unmarshall network config: %s (line %d, column %d)",
				     jerr.text, jerr.line, jerr.column);
	/* Go decodes `null` into an empty struct: it then lacks a name. */
	if (json_is_null(conf->doc)) {
		json_decref(conf->doc);
		conf->doc = json_object();
		if (!conf->doc)
			return cni_error_set(err, CNI_ERR_IO, NULL, "out of memory");
	}
	if (!json_is_object(conf->doc))
		return cni_error_set(err, CNI_ERR_DECODING, NULL,
				     "error unmarshall network config: json: cannot unmarshal %s "
				     "into a network configuration",
				     json_type_name(conf->doc));
	const json_t *name = json_object_get(conf->doc, "name");
	if (name && !json_is_null(name) && !json_is_string(name))
		return cni_error_set(err, CNI_ERR_DECODING, NULL,
				     "error unmarshall network config: json: cannot unmarshal %s "
				     "into field name of type string",
				     json_type_name(name));
	conf->name = name && json_is_string(name) ? json_string_value(name) : "";
	conf->plugin = conf->doc;
	return cni_validate_network_name(conf->name, err);
}

/* The newest supported entry of a conflist's "cniVersions", or NULL. */
static int newest_listed_version(const json_t *list, const char **out, struct cni_error *err)
{
	*out = NULL;
	if (!list || json_is_null(list))
		return 0;
	if (!json_is_array(list))
		return cni_error_set(err, CNI_ERR_DECODING, NULL,
				     "decoding version from network config: cniVersions is not "
				     "a list");
	for (size_t i = 0; i < json_array_size(list); i++) {
		const json_t *item = json_array_get(list, i);
		if (!json_is_string(item))
			return cni_error_set(err, CNI_ERR_DECODING, NULL,
					     "decoding version from network config: "
					     "cniVersions[%zu] is not a string",
					     i);
		const char *v = json_string_value(item);
		int cmp = 1;
		if (!cni_version_is_supported(v))
			continue;
		if (*out && cni_version_compare(v, *out, &cmp, err) < 0)
			return -EINVAL;
		if (cmp > 0)
			*out = v;
	}
	return 0;
}

int cni_netconf_decode_version(struct cni_netconf *conf, struct cni_error *err)
{
	const char *listed;
	if (newest_listed_version(json_object_get(conf->doc, "cniVersions"), &listed, err) < 0)
		return -EINVAL;
	if (listed) {
		conf->cni_version = listed;
		return 0;
	}
	const json_t *v = json_object_get(conf->doc, "cniVersion");
	if (v && !json_is_null(v) && !json_is_string(v))
		return cni_error_set(err, CNI_ERR_DECODING, NULL,
				     "decoding version from network config: json: cannot "
				     "unmarshal %s into field cniVersion of type string",
				     json_type_name(v));
	conf->cni_version =
	    v && json_is_string(v) && json_string_length(v) > 0 ? json_string_value(v) : "0.1.0";
	return 0;
}

/* CHECK, GC and STATUS exist only from some spec version on; the plugin must
 * also know a version at least as new as the config's. */
static int check_command_gate(enum cni_command command, const char *version, struct cni_error *err)
{
	const char *min = command == CNI_CMD_CHECK			       ? "0.4.0"
			  : command == CNI_CMD_GC || command == CNI_CMD_STATUS ? "1.1.0"
									       : NULL;
	if (!min)
		return 0;
	const char *name = cni_command_name(command);
	int cmp;
	if (cni_version_compare(version, min, &cmp, err) < 0)
		return -EINVAL;
	if (cmp < 0)
		return cni_error_set(err, CNI_ERR_INCOMPATIBLE_VERSION, NULL,
				     "config version does not allow %s", name);
	for (size_t i = 0; i < CNI_N_SUPPORTED; i++) {
		if (cni_version_compare(cni_supported_versions[i], version, &cmp, err) < 0)
			return -EINVAL;
		if (cmp >= 0)
			return 0;
	}
	return cni_error_set(err, CNI_ERR_INCOMPATIBLE_VERSION, NULL,
			     "plugin version does not allow %s", name);
}

int cni_check_version(enum cni_command command, const char *version, struct cni_error *err)
{
	if (check_command_gate(command, version, err) < 0)
		return -EINVAL;
	if (cni_version_is_supported(version))
		return 0;
	char details[256];
	snprintf(details, sizeof(details),
		 "config is \"%.64s\", plugin supports [\"0.3.1\" \"0.4.0\" \"1.0.0\" \"1.1.0\"]",
		 version);
	return cni_error_set(err, CNI_ERR_INCOMPATIBLE_VERSION, details,
			     "incompatible CNI versions");
}

static int config_error(struct cni_error *err, const char *what)
{
	return cni_error_set(err, CNI_ERR_INTERNAL, NULL,
			     "failed to parse network configuration: %s", what);
}

/* For a whole conflist, the plugin entry of type "coil" (else the first). */
static int select_plugin(struct cni_netconf *conf, struct cni_error *err)
{
	const json_t *plugins = json_object_get(conf->doc, "plugins");
	conf->plugin = conf->doc;
	if (!plugins || json_object_get(conf->doc, "type"))
		return 0;
	if (!json_is_array(plugins))
		return config_error(err, "plugins is not a list");
	const json_t *first = NULL;
	for (size_t i = 0; i < json_array_size(plugins); i++) {
		const json_t *entry = json_array_get(plugins, i);
		if (!json_is_object(entry))
			return config_error(err, "plugins entry is not an object");
		const json_t *type = json_object_get(entry, "type");
		if (json_is_string(type) && strcmp(json_string_value(type), "coil") == 0) {
			conf->plugin = entry;
			return 0;
		}
		if (!first)
			first = entry;
	}
	if (!first)
		return config_error(err, "plugins is empty");
	conf->plugin = first;
	return 0;
}

/* A string member of the plugin config; absent/null leaves *out alone. */
static int plugin_string(const json_t *plugin, const char *key, const char **out,
			 struct cni_error *err)
{
	const json_t *v = json_object_get(plugin, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		char what[128];
		snprintf(what, sizeof(what), "%s is a %s, not a string", key, json_type_name(v));
		return config_error(err, what);
	}
	*out = json_string_value(v);
	return 0;
}

/* An object member; absent/null → NULL. */
static int plugin_object(const json_t *plugin, const char *key, const json_t **out,
			 struct cni_error *err)
{
	const json_t *v = json_object_get(plugin, key);
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v)) {
		char what[128];
		snprintf(what, sizeof(what), "%s is a %s, not an object", key, json_type_name(v));
		return config_error(err, what);
	}
	*out = v;
	return 0;
}

static int check_capabilities(const json_t *caps, struct cni_error *err)
{
	const char *key;
	const json_t *value;
	json_object_foreach((json_t *)caps, key, value)
	{
		if (!json_is_boolean(value))
			return config_error(err, "capabilities values must be booleans");
	}
	return 0;
}

static int check_ipam_and_dns(const json_t *plugin, struct cni_error *err)
{
	const json_t *ipam, *dns;
	const char *type = NULL;
	if (plugin_object(plugin, "ipam", &ipam, err) < 0 ||
	    plugin_object(plugin, "dns", &dns, err) < 0)
		return -EINVAL;
	return ipam ? plugin_string(ipam, "type", &type, err) : 0;
}

static int parse_attachment_list(struct cni_netconf *conf, const json_t *list,
				 struct cni_error *err)
{
	if (!json_is_array(list))
		return config_error(err, "cni.dev/valid-attachments is not a list");
	size_t n = json_array_size(list);
	if (n == 0)
		return 0;
	conf->valid_attachments = calloc(n, sizeof(*conf->valid_attachments));
	if (!conf->valid_attachments)
		return cni_error_set(err, CNI_ERR_INTERNAL, NULL, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const json_t *item = json_array_get(list, i);
		const json_t *id = json_object_get(item, "containerID");
		const json_t *ifname = json_object_get(item, "ifname");
		if (!json_is_object(item) || (id && !json_is_string(id)) ||
		    (ifname && !json_is_string(ifname)))
			return config_error(err, "cni.dev/valid-attachments entries must be "
						 "{\"containerID\":string,\"ifname\":string}");
		conf->valid_attachments[i].container_id = id ? json_string_value(id) : "";
		conf->valid_attachments[i].ifname = ifname ? json_string_value(ifname) : "";
	}
	conf->n_valid_attachments = n;
	return 0;
}

/* The runtime puts them into the plugin's config; `cni.dev/attachments` is the
 * spec draft's name for the same key. */
static int parse_attachments(struct cni_netconf *conf, struct cni_error *err)
{
	static const char *const keys[] = {"cni.dev/valid-attachments", "cni.dev/attachments"};
	const json_t *holders[] = {conf->plugin, conf->doc};
	for (size_t h = 0; h < 2; h++) {
		for (size_t k = 0; k < 2; k++) {
			const json_t *list = json_object_get(holders[h], keys[k]);
			if (list && !json_is_null(list))
				return parse_attachment_list(conf, list, err);
		}
	}
	return 0;
}

static int parse_prev_result(struct cni_netconf *conf, struct cni_error *err)
{
	const json_t *prev = json_object_get(conf->plugin, "prevResult");
	if (!prev || json_is_null(prev))
		return 0;
	conf->prev_result = calloc(1, sizeof(*conf->prev_result));
	if (!conf->prev_result)
		return cni_error_set(err, CNI_ERR_INTERNAL, NULL, "out of memory");
	char why[512];
	if (cni_result_from_json(prev, conf->cni_version, conf->prev_result, why, sizeof(why)) <
	    0) {
		free(conf->prev_result);
		conf->prev_result = NULL;
		return cni_error_set(err, CNI_ERR_INTERNAL, NULL, "failed to parse prev result: %s",
				     why);
	}
	return 0;
}

int cni_netconf_parse_plugin(struct cni_netconf *conf, struct cni_error *err)
{
	conf->type = "";
	conf->socket = CNI_DEFAULT_SOCKET;
	if (select_plugin(conf, err) < 0 ||
	    plugin_string(conf->plugin, "type", &conf->type, err) < 0 ||
	    plugin_string(conf->plugin, "socket", &conf->socket, err) < 0 ||
	    plugin_object(conf->plugin, "capabilities", &conf->capabilities, err) < 0 ||
	    plugin_object(conf->plugin, "runtimeConfig", &conf->runtime_config, err) < 0 ||
	    check_ipam_and_dns(conf->plugin, err) < 0)
		return -EINVAL;
	if (conf->capabilities && check_capabilities(conf->capabilities, err) < 0)
		return -EINVAL;
	if (parse_attachments(conf, err) < 0)
		return -EINVAL;
	return parse_prev_result(conf, err);
}

int cni_netconf_parse(const char *text, size_t len, struct cni_netconf *conf, struct cni_error *err)
{
	if (cni_netconf_load(text, len, conf, err) < 0 ||
	    cni_netconf_decode_version(conf, err) < 0 ||
	    cni_check_version(CNI_CMD_ADD, conf->cni_version, err) < 0)
		return -EINVAL;
	return cni_netconf_parse_plugin(conf, err);
}

void cni_netconf_free(struct cni_netconf *conf)
{
	if (conf->prev_result) {
		cni_result_free(conf->prev_result);
		free(conf->prev_result);
	}
	free(conf->valid_attachments);
	json_decref(conf->doc);
	memset(conf, 0, sizeof(*conf));
}
