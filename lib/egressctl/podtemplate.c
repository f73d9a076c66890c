/* The pod template of gateway Deployments: the Egress's pod spec with what coil-egress needs
 * added (service account, volumes, the egress container's image, command, args, env, mounts,
 * security context, requests, ports and probes), the labels rebuilt so that the selector
 * labels always win, and the annotations merged so that `kubectl rollout restart` keeps
 * working. */
#include "egressctl.h"
#include "internal.h"

#include <stdio.h>
#include <string.h>

#define RUN_VOLUME     "run"
#define MODULES_VOLUME "modules"

json_t *egressctl_child(json_t *obj, const char *key)
{
	json_t *child = json_object_get(obj, key);
	if (json_is_object(child))
		return child;
	child = json_object();
	return json_object_set_new(obj, key, child) == 0 ? child : NULL;
}

json_t *egressctl_child_array(json_t *obj, const char *key)
{
	json_t *child = json_object_get(obj, key);
	if (json_is_array(child))
		return child;
	child = json_array();
	return json_object_set_new(obj, key, child) == 0 ? child : NULL;
}

int egressctl_has_named(const json_t *array, const char *name)
{
	size_t i;
	const json_t *item;
	json_array_foreach(array, i, item)
	{
		const char *n = json_string_value(json_object_get(item, "name"));
		if (n && strcmp(n, name) == 0)
			return 1;
	}
	return 0;
}

/* A string member that is absent or "" / an array member that is absent or empty. */
static int is_unset(const json_t *value)
{
	return !value || json_is_null(value) ||
	       (json_is_string(value) && !json_string_length(value)) ||
	       (json_is_array(value) && json_array_size(value) == 0);
}

static json_t *default_args(const struct egressctl_config *cfg, const struct coilapi_egress *eg)
{
	char backend[64];
	snprintf(backend, sizeof(backend), "--backend=%s", cfg->backend);
	json_t *args = json_pack("[s]", "--zap-stacktrace-level=panic");
	if (eg->fou_source_port_auto)
		json_array_append_new(args, json_string("--enable-sport-auto=true"));
	json_array_append_new(args, json_string(backend));
	return args;
}

static void add_env(json_t *c, const struct coilapi_egress *eg)
{
	json_t *env = egressctl_child_array(c, "env");
	json_array_append_new(
	    env, json_pack("{s:s, s:s}", "name", "COIL_POD_NAMESPACE", "value", eg->namespace));
	json_array_append_new(
	    env, json_pack("{s:s, s:s}", "name", "COIL_EGRESS_NAME", "value", eg->name));
	json_array_append_new(env,
			      json_pack("{s:s, s:{s:{s:s}}}", "name", "COIL_POD_ADDRESSES",
					"valueFrom", "fieldRef", "fieldPath", "status.podIPs"));
}

static void add_mounts(json_t *c)
{
	json_t *mounts = egressctl_child_array(c, "volumeMounts");
	if (!egressctl_has_named(mounts, RUN_VOLUME))
		json_array_append_new(
		    mounts, json_pack("{s:s, s:s}", "name", RUN_VOLUME, "mountPath", "/run"));
	json_array_append_new(mounts, json_pack("{s:s, s:s, s:b}", "name", MODULES_VOLUME,
						"mountPath", "/lib/modules", "readOnly", 1));
}

static void add_requests(json_t *c)
{
	json_t *requests = egressctl_child(egressctl_child(c, "resources"), "requests");
	if (!json_object_get(requests, "cpu"))
		json_object_set_new(requests, "cpu", json_string("100m"));
	if (!json_object_get(requests, "memory"))
		json_object_set_new(requests, "memory", json_string("200Mi"));
}

static json_t *probe(const char *path)
{
	return json_pack("{s:{s:s, s:s, s:s}}", "httpGet", "path", path, "port", "health", "scheme",
			 "HTTP");
}

/* What the egress container must have; user settings are kept where upstream keeps them. */
static void complete_container(json_t *c, const struct egressctl_config *cfg,
			       const struct coilapi_egress *eg)
{
	json_object_set_new(c, "name", json_string(EGRESSCTL_CONTAINER));
	if (is_unset(json_object_get(c, "image")))
		json_object_set_new(c, "image", json_string(cfg->image));
	if (is_unset(json_object_get(c, "command")))
		json_object_set_new(c, "command", json_pack("[s]", "coil-egress"));
	if (is_unset(json_object_get(c, "args")))
		json_object_set_new(c, "args", default_args(cfg, eg));
	add_env(c, eg);
	add_mounts(c);
	json_object_set_new(c, "securityContext",
			    json_pack("{s:b, s:b, s:{s:[s]}}", "privileged", 1,
				      "readOnlyRootFilesystem", 1, "capabilities", "add",
				      "NET_ADMIN"));
	add_requests(c);
	json_object_set_new(c, "ports",
			    json_pack("[{s:s, s:i, s:s}, {s:s, s:i, s:s}]", "name", "metrics",
				      "containerPort", 8080, "protocol", "TCP", "name", "health",
				      "containerPort", 8081, "protocol", "TCP"));
	json_object_set_new(c, "livenessProbe", probe("/healthz"));
	json_object_set_new(c, "readinessProbe", probe("/readyz"));
}

/* The container named egress (the last one when several are), else a new one at index 0. */
static json_t *egress_container(json_t *pod)
{
	json_t *containers = egressctl_child_array(pod, "containers");
	json_t *found = NULL, *item;
	size_t i;
	json_array_foreach(containers, i, item)
	{
		const char *name = json_string_value(json_object_get(item, "name"));
		if (json_is_object(item) && name && strcmp(name, EGRESSCTL_CONTAINER) == 0)
			found = item;
	}
	if (!found && json_array_insert_new(containers, 0, found = json_object()) != 0)
		return NULL;
	return found;
}

static json_t *build_pod_spec(const struct egressctl_config *cfg, const struct coilapi_egress *eg)
{
	const json_t *given = json_object_get(eg->template, "spec");
	json_t *pod = json_is_object(given) ? json_deep_copy(given) : json_object();
	if (!pod)
		return NULL;
	json_object_set_new(pod, "serviceAccountName", json_string(EGRESSCTL_SERVICE_ACCOUNT));
	json_t *volumes = egressctl_child_array(pod, "volumes");
	if (!egressctl_has_named(volumes, RUN_VOLUME))
		json_array_append_new(volumes,
				      json_pack("{s:s, s:{}}", "name", RUN_VOLUME, "emptyDir"));
	json_array_append_new(volumes, json_pack("{s:s, s:{s:s}}", "name", MODULES_VOLUME,
						 "hostPath", "path", "/lib/modules"));
	json_t *c = egress_container(pod);
	if (!c) {
		json_decref(pod);
		return NULL;
	}
	complete_container(c, cfg, eg);
	return pod;
}

json_t *egressctl_build_pod_template(const struct egressctl_config *cfg,
				     const struct coilapi_egress *egress,
				     const json_t *current_annotations)
{
	const json_t *meta = json_object_get(egress->template, "metadata");
	const json_t *labels_in = json_object_get(meta, "labels");
	const json_t *annotations_in = json_object_get(meta, "annotations");
	json_t *labels = json_is_object(labels_in) ? json_deep_copy(labels_in) : json_object();
	json_t *annotations = json_is_object(current_annotations)
				  ? json_deep_copy(current_annotations)
				  : json_object();
	json_t *selector = egressctl_selector_labels(egress->name);
	json_t *spec = build_pod_spec(cfg, egress);
	json_t *tmpl = NULL;
	if (labels && annotations && selector && spec) {
		json_object_update(labels, selector);
		if (json_is_object(annotations_in))
			json_object_update(annotations, (json_t *)annotations_in);
		tmpl = json_pack("{s:{s:O}, s:O}", "metadata", "labels", labels, "spec", spec);
	}
	if (tmpl && json_object_size(annotations))
		json_object_set(json_object_get(tmpl, "metadata"), "annotations", annotations);
	json_decref(labels);
	json_decref(annotations);
	json_decref(selector);
	json_decref(spec);
	return tmpl;
}
