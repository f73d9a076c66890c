/* BlockRequest: spec.nodeName/poolName, status.addressBlockName and status.conditions[]. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static int decode_condition(struct decode_err *e, const json_t *item, size_t i,
			    struct coilapi_condition *out)
{
	struct field_path path;
	path_index(&path, "status.conditions", i);
	if (!json_is_object(item))
		return field_fail(e, path.text, "must be an object");
	int ret = read_string(e, item, path.text, "type", true, &out->type);
	if (ret == 0)
		ret = read_string(e, item, path.text, "status", true, &out->status);
	if (ret == 0)
		ret = read_string(e, item, path.text, "reason", false, &out->reason);
	if (ret == 0)
		ret = read_string(e, item, path.text, "message", false, &out->message);
	if (ret == 0)
		ret =
		    read_string(e, item, path.text, "lastProbeTime", false, &out->last_probe_time);
	if (ret == 0)
		ret = read_string(e, item, path.text, "lastTransitionTime", false,
				  &out->last_transition_time);
	return ret;
}

static int decode_status(struct decode_err *e, const json_t *status, struct coilapi_request *out)
{
	const json_t *conds = NULL;
	int ret = read_string(e, status, "status", "addressBlockName", false, &out->block_name);
	if (ret == 0)
		ret = read_array(e, status, "status", "conditions", false, &conds);
	size_t n = json_array_size(conds);
	if (ret || n == 0)
		return ret;
	out->conditions = calloc(n, sizeof(*out->conditions));
	if (!out->conditions)
		return decode_oom(e);
	out->n_conditions = n;
	for (size_t i = 0; i < n && ret == 0; i++)
		ret = decode_condition(e, json_array_get(conds, i), i, &out->conditions[i]);
	return ret;
}

int coilapi_request_decode(const json_t *obj, struct coilapi_request *out, char *err, size_t errlen)
{
	struct decode_err e = {err, errlen};
	const json_t *spec = NULL, *status = NULL;
	*out = (struct coilapi_request){.name = "", .uid = ""};
	int ret = read_metadata(&e, obj, &out->name, NULL);
	if (ret == 0)
		ret = read_uid(&e, obj, &out->uid);
	if (ret == 0)
		ret = read_object(&e, obj, "", "spec", false, &spec);
	out->has_spec = spec != NULL;
	if (ret == 0 && spec)
		ret = read_string(&e, spec, "spec", "nodeName", true, &out->node_name);
	if (ret == 0 && spec)
		ret = read_string(&e, spec, "spec", "poolName", true, &out->pool_name);
	if (ret == 0)
		ret = read_object(&e, obj, "", "status", false, &status);
	if (ret == 0 && status)
		ret = decode_status(&e, status, out);
	if (ret)
		coilapi_request_clear(out);
	return ret;
}

void coilapi_request_clear(struct coilapi_request *req)
{
	free(req->conditions);
	*req = (struct coilapi_request){.name = "", .uid = ""};
}

static bool condition_is(const struct coilapi_condition *c, const char *type)
{
	return strcmp(c->type, type) == 0 && strcmp(c->status, "True") == 0;
}

enum coilapi_request_state coilapi_request_state(const struct coilapi_request *req,
						 const struct coilapi_condition **failed)
{
	bool complete = false;
	if (failed)
		*failed = NULL;
	for (size_t i = 0; i < req->n_conditions; i++) {
		if (condition_is(&req->conditions[i], "Failed")) {
			if (failed)
				*failed = &req->conditions[i];
			return COILAPI_REQUEST_FAILED;
		}
		complete |= condition_is(&req->conditions[i], "Complete");
	}
	return complete ? COILAPI_REQUEST_COMPLETE : COILAPI_REQUEST_IN_PROGRESS;
}

/* Members in the order the controller has always written them. */
static json_t *encode_condition(const struct coilapi_condition *c)
{
	json_t *obj = json_pack("{s:s,s:s}", "type", c->type, "status", c->status);
	if (obj && set_string(obj, "reason", c->reason) && set_string(obj, "message", c->message) &&
	    set_string(obj, "lastProbeTime", c->last_probe_time) &&
	    set_string(obj, "lastTransitionTime", c->last_transition_time))
		return obj;
	json_decref(obj);
	return NULL;
}

json_t *coilapi_request_status_encode(const struct coilapi_request *req)
{
	json_t *status = json_object();
	if (!status || !set_string(status, "addressBlockName", req->block_name))
		goto fail;
	if (req->n_conditions == 0)
		return status;
	json_t *conds = json_array();
	if (!conds || json_object_set_new(status, "conditions", conds) < 0)
		goto fail;
	for (size_t i = 0; i < req->n_conditions; i++) {
		if (json_array_append_new(conds, encode_condition(&req->conditions[i])) < 0)
			goto fail;
	}
	return status;
fail:
	json_decref(status);
	return NULL;
}

json_t *coilapi_request_encode(const struct coilapi_request *req)
{
	json_t *obj = encode_head(COILAPI_KIND_BLOCKREQUEST, req->name, NULL);
	if (!obj)
		return NULL;
	if (req->uid && *req->uid && !set_string(json_object_get(obj, "metadata"), "uid", req->uid))
		goto fail;
	if (req->has_spec && json_object_set_new(obj, "spec",
						 json_pack("{s:s,s:s}", "nodeName", req->node_name,
							   "poolName", req->pool_name)) < 0)
		goto fail;
	if (req->block_name || req->n_conditions) {
		if (json_object_set_new(obj, "status", coilapi_request_status_encode(req)) < 0)
			goto fail;
	}
	return obj;
fail:
	json_decref(obj);
	return NULL;
}
