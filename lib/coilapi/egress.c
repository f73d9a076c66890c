/* Egress: the spec of an egress NAT gateway and its status. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static int decode_destinations(struct decode_err *e, const json_t *spec, struct coilapi_egress *out)
{
	const json_t *list = NULL;
	int ret = read_array(e, spec, "spec", "destinations", true, &list);
	if (ret)
		return ret;
	size_t n = json_array_size(list);
	if (n == 0)
		return field_fail(e, "spec.destinations", "must have at least 1 item");
	out->destinations = calloc(n, sizeof(*out->destinations));
	if (!out->destinations)
		return decode_oom(e);
	out->n_destinations = n;
	for (size_t i = 0; i < n; i++) {
		struct field_path path;
		path_index(&path, "spec.destinations", i);
		const json_t *item = json_array_get(list, i);
		const char *text = json_string_value(item);
		if (!text || strlen(text) != json_string_length(item))
			return field_fail(e, path.text, "must be a string");
		out->destinations[i] = text;
	}
	return 0;
}

/* apps/v1 DeploymentStrategy as far as the schema types it. */
static int decode_strategy(struct decode_err *e, const json_t *spec, const json_t **out)
{
	const json_t *strategy = NULL, *rolling = NULL, *ignored = NULL;
	const char *type = NULL;
	int ret = read_object(e, spec, "spec", "strategy", false, &strategy);
	if (ret == 0)
		ret = read_string(e, strategy, "spec.strategy", "type", false, &type);
	if (ret == 0)
		ret = read_object(e, strategy, "spec.strategy", "rollingUpdate", false, &rolling);
	if (ret == 0)
		ret = read_int_or_string(e, rolling, "spec.strategy.rollingUpdate", "maxSurge",
					 &ignored);
	if (ret == 0)
		ret = read_int_or_string(e, rolling, "spec.strategy.rollingUpdate",
					 "maxUnavailable", &ignored);
	if (ret == 0)
		*out = strategy;
	return ret;
}

static int decode_containers(struct decode_err *e, const json_t *pod)
{
	const json_t *list = NULL;
	int ret = read_array(e, pod, "spec.template.spec", "containers", true, &list);
	for (size_t i = 0; ret == 0 && i < json_array_size(list); i++) {
		struct field_path path;
		const char *name = NULL;
		const json_t *item = json_array_get(list, i);
		path_index(&path, "spec.template.spec.containers", i);
		if (!json_is_object(item))
			return field_fail(e, path.text, "must be an object");
		ret = read_string(e, item, path.text, "name", true, &name);
		if (ret == 0)
			ret = read_string(e, item, path.text, "image", false, &name);
	}
	return ret;
}

/* The pod template: only labels and annotations in its metadata, a PodSpec whose fields
 * beyond containers and nodeSelector are kept unchecked. */
static int decode_template(struct decode_err *e, const json_t *spec, const json_t **out)
{
	const json_t *tmpl = NULL, *meta = NULL, *pod = NULL, *map = NULL;
	int ret = read_object(e, spec, "spec", "template", false, &tmpl);
	if (ret == 0)
		ret = read_object(e, tmpl, "spec.template", "metadata", false, &meta);
	if (ret == 0)
		ret = read_string_map(e, meta, "spec.template.metadata", "labels", &map);
	if (ret == 0)
		ret = read_string_map(e, meta, "spec.template.metadata", "annotations", &map);
	if (ret == 0)
		ret = read_object(e, tmpl, "spec.template", "spec", false, &pod);
	if (ret == 0 && pod)
		ret = decode_containers(e, pod);
	if (ret == 0)
		ret = read_string_map(e, pod, "spec.template.spec", "nodeSelector", &map);
	if (ret == 0)
		*out = tmpl;
	return ret;
}

static int decode_session_affinity(struct decode_err *e, const json_t *spec,
				   struct coilapi_egress *out)
{
	const json_t *config = NULL, *client = NULL;
	int32_t timeout = 0;
	int ret = read_string(e, spec, "spec", "sessionAffinity", false, &out->session_affinity);
	if (ret)
		return ret;
	if (strcmp(out->session_affinity, COILAPI_SESSION_AFFINITY_CLIENTIP) != 0 &&
	    strcmp(out->session_affinity, COILAPI_SESSION_AFFINITY_NONE) != 0)
		return field_fail(e, "spec.sessionAffinity",
				  "Unsupported value: \"%.64s\": supported values: \"ClientIP\", "
				  "\"None\"",
				  out->session_affinity);
	ret = read_object(e, spec, "spec", "sessionAffinityConfig", false, &config);
	if (ret == 0)
		ret = read_object(e, config, "spec.sessionAffinityConfig", "clientIP", false,
				  &client);
	if (ret == 0)
		ret = read_int32(e, client, "spec.sessionAffinityConfig.clientIP", "timeoutSeconds",
				 INT32_MIN, &timeout);
	out->session_affinity_config = config;
	return ret;
}

static int decode_pdb(struct decode_err *e, const json_t *spec, const json_t **out)
{
	const json_t *pdb = NULL, *ignored = NULL;
	int ret = read_object(e, spec, "spec", "podDisruptionBudget", false, &pdb);
	if (ret == 0)
		ret = read_int_or_string(e, pdb, "spec.podDisruptionBudget", "minAvailable",
					 &ignored);
	if (ret == 0)
		ret = read_int_or_string(e, pdb, "spec.podDisruptionBudget", "maxUnavailable",
					 &ignored);
	if (ret == 0)
		*out = pdb;
	return ret;
}

static int decode_spec(struct decode_err *e, const json_t *spec, struct coilapi_egress *out)
{
	int ret = decode_destinations(e, spec, out);
	if (ret == 0)
		ret = read_int32(e, spec, "spec", "replicas", 1, &out->replicas);
	if (ret == 0)
		ret = decode_strategy(e, spec, &out->strategy);
	if (ret == 0)
		ret = decode_template(e, spec, &out->template);
	if (ret == 0)
		ret = decode_session_affinity(e, spec, out);
	if (ret == 0)
		ret = read_bool(e, spec, "spec", "fouSourcePortAuto", &out->fou_source_port_auto);
	if (ret == 0)
		ret = decode_pdb(e, spec, &out->pod_disruption_budget);
	return ret;
}

static int decode_status(struct decode_err *e, const json_t *obj, struct coilapi_egress *out)
{
	const json_t *status = NULL;
	int ret = read_object(e, obj, "", "status", false, &status);
	if (ret == 0)
		ret = read_int32(e, status, "status", "replicas", INT32_MIN, &out->status_replicas);
	if (ret == 0)
		ret = read_string(e, status, "status", "selector", false, &out->status_selector);
	return ret;
}

int coilapi_egress_decode(const json_t *obj, struct coilapi_egress *out, char *err, size_t errlen)
{
	struct decode_err e = {err, errlen};
	const json_t *spec = NULL;
	*out = (struct coilapi_egress){.name = "",
				       .namespace = "",
				       .replicas = COILAPI_DEFAULT_EGRESS_REPLICAS,
				       .session_affinity = COILAPI_SESSION_AFFINITY_CLIENTIP};
	int ret = read_metadata(&e, obj, &out->name, &out->namespace);
	if (ret == 0)
		ret = read_object(&e, obj, "", "spec", false, &spec);
	out->has_spec = spec != NULL;
	if (ret == 0 && spec)
		ret = decode_spec(&e, spec, out);
	if (ret == 0)
		ret = decode_status(&e, obj, out);
	if (ret)
		coilapi_egress_clear(out);
	return ret;
}

void coilapi_egress_clear(struct coilapi_egress *egress)
{
	free(egress->destinations);
	egress->destinations = NULL;
	egress->n_destinations = 0;
}

static json_t *encode_spec(const struct coilapi_egress *eg)
{
	json_t *dests = json_array();
	for (size_t i = 0; dests && i < eg->n_destinations; i++) {
		if (json_array_append_new(dests, json_string(eg->destinations[i])) < 0) {
			json_decref(dests);
			return NULL;
		}
	}
	/* replicas is always written, as upstream's client does (no omitempty). */
	json_t *spec = json_pack("{s:o*,s:i}", "destinations", dests, "replicas", eg->replicas);
	if (spec && set_copy(spec, "strategy", eg->strategy) &&
	    set_copy(spec, "template", eg->template) &&
	    set_string(spec, "sessionAffinity", eg->session_affinity) &&
	    set_copy(spec, "sessionAffinityConfig", eg->session_affinity_config) &&
	    (!eg->fou_source_port_auto ||
	     json_object_set_new(spec, "fouSourcePortAuto", json_true()) == 0) &&
	    set_copy(spec, "podDisruptionBudget", eg->pod_disruption_budget))
		return spec;
	json_decref(spec);
	return NULL;
}

/* Both status members are omitted when zero, as upstream serializes them. */
static json_t *encode_status(const struct coilapi_egress *eg)
{
	json_t *status = json_object();
	if (status &&
	    (eg->status_replicas == 0 ||
	     json_object_set_new(status, "replicas", json_integer(eg->status_replicas)) == 0) &&
	    set_string(status, "selector",
		       eg->status_selector && *eg->status_selector ? eg->status_selector : NULL))
		return status;
	json_decref(status);
	return NULL;
}

json_t *coilapi_egress_encode(const struct coilapi_egress *eg)
{
	json_t *obj = encode_head(COILAPI_KIND_EGRESS, eg->name, eg->namespace);
	if (!obj)
		return NULL;
	if (eg->has_spec && json_object_set_new(obj, "spec", encode_spec(eg)) < 0)
		goto fail;
	if (eg->status_replicas || (eg->status_selector && *eg->status_selector)) {
		if (json_object_set_new(obj, "status", encode_status(eg)) < 0)
			goto fail;
	}
	return obj;
fail:
	json_decref(obj);
	return NULL;
}
