/* Checks of CNI configuration text: is it something a runtime would load, and is it ours. */
#include "install/install.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static bool is_nonempty_string(const json_t *value)
{
	return json_is_string(value) && json_string_length(value) > 0;
}

/* libcni's requirements for a config list: a name and at least one plugin with a type. */
static int check_conflist(const json_t *root, char *err, size_t errlen)
{
	if (!is_nonempty_string(json_object_get(root, "name"))) {
		snprintf(err, errlen,
			 "invalid CNI config list: \"name\" must be a non-empty string");
		return -EINVAL;
	}
	const json_t *plugins = json_object_get(root, "plugins");
	if (!json_is_array(plugins) || json_array_size(plugins) == 0) {
		snprintf(err, errlen,
			 "invalid CNI config list: \"plugins\" must be a non-empty array");
		return -EINVAL;
	}
	for (size_t i = 0; i < json_array_size(plugins); i++) {
		const json_t *plugin = json_array_get(plugins, i);
		if (!json_is_object(plugin) ||
		    !is_nonempty_string(json_object_get(plugin, "type"))) {
			snprintf(err, errlen,
				 "invalid CNI config list: plugins[%zu] must be an object with a "
				 "non-empty string \"type\"",
				 i);
			return -EINVAL;
		}
	}
	return 0;
}

int install_validate_netconf(const char *data, size_t len, const char *conf_name, char *err,
			     size_t errlen)
{
	json_error_t jerr;
	json_t *root = json_loadb(data, len, JSON_DECODE_ANY, &jerr);
	if (!root) {
		snprintf(err, errlen,
			 "CNI configuration is not valid JSON: %s (line %d, column %d)", jerr.text,
			 jerr.line, jerr.column);
		return -EINVAL;
	}
	int rc = 0;
	if (!json_is_object(root)) {
		snprintf(err, errlen, "CNI configuration must be a JSON object");
		rc = -EINVAL;
	} else if (has_suffix(conf_name, ".conflist")) {
		rc = check_conflist(root, err, errlen);
	} else if (has_suffix(conf_name, ".conf") &&
		   !is_nonempty_string(json_object_get(root, "type"))) {
		snprintf(err, errlen, "invalid CNI config: \"type\" must be a non-empty string");
		rc = -EINVAL;
	}
	json_decref(root);
	return rc;
}

bool install_is_coil_conflist(const char *data, size_t len)
{
	json_t *root = json_loadb(data, len, 0, NULL);
	const json_t *plugins = json_object_get(root, "plugins"); /* NULL-safe */
	bool ours = false;
	for (size_t i = 0; !ours && i < json_array_size(plugins); i++) {
		const json_t *type = json_object_get(json_array_get(plugins, i), "type");
		ours = json_is_string(type) && json_string_length(type) == 4 &&
		       memcmp(json_string_value(type), "coil", 4) == 0;
	}
	json_decref(root);
	return ours;
}
