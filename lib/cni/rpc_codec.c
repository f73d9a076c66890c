/* The JSON messages between the plugin and coild: one request object, one
 * response object (see cni.h for their shape). */
#include "cni/cni.h"
#include "err/err.h"
#include "cni/internal.h"
#include "jsonw/jsonw.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cni_rpc_request_free(struct cni_rpc_request *req)
{
	free(req->ips);
	free(req->interfaces);
	free(req->valid_attachments);
	json_decref(req->doc);
	memset(req, 0, sizeof(*req));
}

void cni_rpc_response_free(struct cni_rpc_response *resp)
{
	json_decref(resp->result);
	memset(resp, 0, sizeof(*resp));
}

void cni_rpc_response_set_error(struct cni_rpc_response *resp, const char *status, int code,
				const char *msg, const char *details)
{
	resp->failed = true;
	snprintf(resp->status, sizeof(resp->status), "%s", status ? status : "Internal");
	cni_error_set(&resp->error, code, details, "%s", msg ? msg : "");
}

/* ---- encoding ---- */

/* Sets key and drops the reference; a NULL value (failed allocation or invalid
 * UTF-8) turns *ok false. */
static void put(json_t *obj, const char *key, json_t *value, bool *ok)
{
	if (!value || json_object_set_new(obj, key, value) < 0)
		*ok = false;
}

static const char *or_empty(const char *text)
{
	return text ? text : "";
}

/* ,"key":"value" when value is set and not empty: the daemon reads an absent member as "" */
static void member_if_set(struct jsonw *w, const char *key, const char *value)
{
	if (value && *value)
		jsonw_member(w, key, value);
}

/* Every member, "" when unset: a daemon reads an absent one as NULL, which older daemons do
 * not expect of these. */
static void args_text(struct jsonw *w, const struct cni_rpc_request *req)
{
	jsonw_key(w, "args");
	jsonw_raw(w, "{", 1);
	jsonw_member(w, "K8S_POD_NAMESPACE", or_empty(req->pod_namespace));
	jsonw_member(w, "K8S_POD_NAME", or_empty(req->pod_name));
	jsonw_member(w, "K8S_POD_INFRA_CONTAINER_ID", or_empty(req->pod_infra_container_id));
	jsonw_member(w, "K8S_POD_UID", or_empty(req->pod_uid));
	jsonw_member(w, "IS_CHAINED", or_empty(req->is_chained));
	jsonw_raw(w, "}", 1);
}

/* The fields of a chained ADD and of GC, each only when it has something. */
static void lists_text(struct jsonw *w, const struct cni_rpc_request *req)
{
	if (req->n_ips) {
		jsonw_key(w, "ips");
		jsonw_raw(w, "[", 1);
		for (size_t i = 0; i < req->n_ips; i++) {
			jsonw_comma(w);
			jsonw_string(w, req->ips[i], strlen(req->ips[i]));
		}
		jsonw_raw(w, "]", 1);
	}
	if (req->n_interfaces) {
		jsonw_key(w, "interfaces");
		jsonw_raw(w, "{", 1);
		for (size_t i = 0; i < req->n_interfaces; i++) {
			jsonw_key(w, req->interfaces[i].name ? req->interfaces[i].name : "");
			jsonw_raw(w, req->interfaces[i].in_sandbox ? "true" : "false",
				  req->interfaces[i].in_sandbox ? 4 : 5);
		}
		jsonw_raw(w, "}", 1);
	}
	if (req->n_valid_attachments) {
		jsonw_key(w, "valid_attachments");
		jsonw_raw(w, "[", 1);
		for (size_t i = 0; i < req->n_valid_attachments; i++) {
			const struct cni_attachment *a = &req->valid_attachments[i];
			jsonw_comma(w);
			jsonw_raw(w, "{", 1);
			jsonw_member(w, "containerID", a->container_id ? a->container_id : "");
			jsonw_member(w, "ifname", a->ifname ? a->ifname : "");
			jsonw_raw(w, "}", 1);
		}
		jsonw_raw(w, "]", 1);
	}
}

static int dump(json_t *doc, char **text, size_t *len, char *err, size_t errlen)
{
	*text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(doc);
	if (!*text) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	*len = strlen(*text);
	return 0;
}

/* The compact request (docs/architecture.md, 'The plugin's socket protocol'): written
 * without a jansson tree, top-level members that are empty left out, and no stdin_data (the daemon
 * never reads the netconf; a GC's list of attachments was in it twice). A daemon of any
 * version reads an absent member as empty. */
int cni_rpc_request_encode(const struct cni_rpc_request *req, char **text, size_t *len, char *err,
			   size_t errlen)
{
	const char *command = cni_command_name(req->command);
	if (!command[0] || req->command == CNI_CMD_VERSION) {
		snprintf(err, errlen, "no RPC for command %d", (int)req->command);
		return -EINVAL;
	}
	struct jsonw w;
	jsonw_init(&w, true);
	jsonw_raw(&w, "{", 1);
	jsonw_member(&w, "command", command);
	member_if_set(&w, "container_id", req->container_id);
	member_if_set(&w, "netns", req->netns);
	member_if_set(&w, "ifname", req->ifname);
	member_if_set(&w, "path", req->path);
	args_text(&w, req);
	lists_text(&w, req);
	jsonw_raw(&w, "}", 1);
	*text = jsonw_take(&w, len);
	if (!*text) {
		snprintf(err, errlen, "cannot encode request (out of memory or invalid UTF-8)");
		return -EINVAL;
	}
	return 0;
}

int cni_rpc_response_encode(const struct cni_rpc_response *resp, char **text, size_t *len,
			    char *err, size_t errlen)
{
	bool ok = true;
	json_t *doc = json_object();
	if (!doc)
		return dump(doc, text, len, err, errlen);
	if (resp->failed) {
		json_t *error = json_object();
		if (error) {
			put(error, "code", json_integer(resp->error.code), &ok);
			put(error, "msg", cni_json_string_lossy(resp->error.msg), &ok);
			if (resp->error.details[0])
				put(error, "details", cni_json_string_lossy(resp->error.details),
				    &ok);
		}
		put(doc, "error", error, &ok);
		put(doc, "status", json_string(resp->status[0] ? resp->status : "Internal"), &ok);
	} else if (resp->result) {
		put(doc, "result", json_incref(resp->result), &ok);
	}
	if (!ok) {
		json_decref(doc);
		snprintf(err, errlen, "cannot encode response (out of memory or invalid UTF-8)");
		return -EINVAL;
	}
	return dump(doc, text, len, err, errlen);
}

/* ---- decoding ---- */

static int load_object(const char *text, size_t len, json_t **doc, const char *what, char *err,
		       size_t errlen)
{
	json_error_t jerr;
	*doc = json_loadb(text, len, 0, &jerr);
	if (!*doc)
		return errorf(err, errlen, -EBADMSG, "%s is not JSON: %s", what, jerr.text);
	if (!json_is_object(*doc))
		return errorf(err, errlen, -EBADMSG, "%s is not a JSON object", what);
	return 0;
}

/* Optional string member; absent/null → fallback. */
static int member_string(const json_t *obj, const char *key, const char *fallback, const char **out,
			 char *err, size_t errlen)
{
	const json_t *v = json_object_get(obj, key);
	*out = fallback;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return errorf(err, errlen, -EBADMSG, "%s is not a string", key);
	*out = json_string_value(v);
	return 0;
}

static int decode_args(const json_t *doc, struct cni_rpc_request *out, char *err, size_t errlen)
{
	const json_t *args = json_object_get(doc, "args");
	if (!args || json_is_null(args))
		return 0;
	if (!json_is_object(args))
		return errorf(err, errlen, -EBADMSG, "args is not an object");
	const char *key;
	const json_t *value;
	json_object_foreach((json_t *)args, key, value)
	{
		if (!json_is_string(value))
			return errorf(err, errlen, -EBADMSG, "args.%s is not a string", key);
	}
	int rc = member_string(args, "K8S_POD_NAMESPACE", NULL, &out->pod_namespace, err, errlen);
	if (rc == 0)
		rc = member_string(args, "K8S_POD_NAME", NULL, &out->pod_name, err, errlen);
	if (rc == 0)
		rc = member_string(args, "K8S_POD_INFRA_CONTAINER_ID", NULL,
				   &out->pod_infra_container_id, err, errlen);
	if (rc == 0)
		rc = member_string(args, "K8S_POD_UID", NULL, &out->pod_uid, err, errlen);
	if (rc == 0)
		rc = member_string(args, "IS_CHAINED", NULL, &out->is_chained, err, errlen);
	return rc;
}

static int decode_ips(const json_t *doc, struct cni_rpc_request *out, char *err, size_t errlen)
{
	const json_t *ips = json_object_get(doc, "ips");
	if (!ips || json_is_null(ips))
		return 0;
	if (!json_is_array(ips))
		return errorf(err, errlen, -EBADMSG, "ips is not a list");
	if (json_array_size(ips) == 0)
		return 0;
	out->ips = calloc(json_array_size(ips), sizeof(*out->ips));
	if (!out->ips)
		return errorf(err, errlen, -EBADMSG, "out of memory");
	for (size_t i = 0; i < json_array_size(ips); i++) {
		const json_t *ip = json_array_get(ips, i);
		if (!json_is_string(ip) ||
		    cni_canonical_ip(json_string_value(ip), out->ips[i], NULL) < 0)
			return errorf(err, errlen, -EBADMSG, "ips[%zu] is not an IP address", i);
		out->n_ips = i + 1;
	}
	return 0;
}

static int decode_interfaces(const json_t *doc, struct cni_rpc_request *out, char *err,
			     size_t errlen)
{
	const json_t *map = json_object_get(doc, "interfaces");
	if (!map || json_is_null(map))
		return 0;
	if (!json_is_object(map))
		return errorf(err, errlen, -EBADMSG, "interfaces is not an object");
	if (json_object_size(map) == 0)
		return 0;
	out->interfaces = calloc(json_object_size(map), sizeof(*out->interfaces));
	if (!out->interfaces)
		return errorf(err, errlen, -EBADMSG, "out of memory");
	const char *name;
	const json_t *value;
	json_object_foreach((json_t *)map, name, value)
	{
		if (!json_is_boolean(value))
			return errorf(err, errlen, -EBADMSG, "interfaces.%s is not a boolean",
				      name);
		out->interfaces[out->n_interfaces].name = name;
		out->interfaces[out->n_interfaces++].in_sandbox = json_is_true(value);
	}
	return 0;
}

static int decode_attachments(const json_t *doc, struct cni_rpc_request *out, char *err,
			      size_t errlen)
{
	const json_t *list = json_object_get(doc, "valid_attachments");
	if (!list || json_is_null(list))
		return 0;
	if (!json_is_array(list))
		return errorf(err, errlen, -EBADMSG, "valid_attachments is not a list");
	if (json_array_size(list) == 0)
		return 0;
	out->valid_attachments = calloc(json_array_size(list), sizeof(*out->valid_attachments));
	if (!out->valid_attachments)
		return errorf(err, errlen, -EBADMSG, "out of memory");
	for (size_t i = 0; i < json_array_size(list); i++) {
		const json_t *item = json_array_get(list, i);
		struct cni_attachment *a = &out->valid_attachments[i];
		if (!json_is_object(item) ||
		    member_string(item, "containerID", "", &a->container_id, err, errlen) < 0 ||
		    member_string(item, "ifname", "", &a->ifname, err, errlen) < 0)
			return errorf(err, errlen, -EBADMSG,
				      "valid_attachments[%zu] is not "
				      "{\"containerID\":string,\"ifname\":string}",
				      i);
		out->n_valid_attachments = i + 1;
	}
	return 0;
}

static int decode_command(const json_t *doc, struct cni_rpc_request *out, char *err, size_t errlen)
{
	const char *command;
	if (member_string(doc, "command", "", &command, err, errlen) < 0)
		return -EBADMSG;
	out->command = cni_command_parse(command);
	if (out->command == CNI_CMD_NONE || out->command == CNI_CMD_UNKNOWN ||
	    out->command == CNI_CMD_VERSION)
		return errorf(err, errlen, -EBADMSG, "unknown command \"%.32s\"", command);
	return 0;
}

int cni_rpc_request_decode(const char *text, size_t len, struct cni_rpc_request *out, char *err,
			   size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (load_object(text, len, &out->doc, "request", err, errlen) < 0)
		return -EBADMSG;
	const json_t *doc = out->doc;
	int rc = decode_command(doc, out, err, errlen);
	if (rc == 0)
		rc = member_string(doc, "container_id", "", &out->container_id, err, errlen);
	if (rc == 0)
		rc = member_string(doc, "netns", "", &out->netns, err, errlen);
	if (rc == 0)
		rc = member_string(doc, "ifname", "", &out->ifname, err, errlen);
	if (rc == 0)
		rc = member_string(doc, "path", "", &out->path, err, errlen);
	if (rc == 0)
		rc = member_string(doc, "stdin_data", "", &out->stdin_data, err, errlen);
	if (rc == 0) {
		const json_t *data = json_object_get(doc, "stdin_data");
		out->stdin_len = json_is_string(data) ? json_string_length(data) : 0;
		rc = decode_args(doc, out, err, errlen);
	}
	if (rc == 0)
		rc = decode_ips(doc, out, err, errlen);
	if (rc == 0)
		rc = decode_interfaces(doc, out, err, errlen);
	if (rc == 0)
		rc = decode_attachments(doc, out, err, errlen);
	return rc;
}

static int decode_error(const json_t *error, struct cni_rpc_response *out, char *err, size_t errlen)
{
	if (!json_is_object(error))
		return errorf(err, errlen, -EBADMSG, "error is not an object");
	const json_t *code = json_object_get(error, "code");
	const char *msg, *details;
	if (code && !json_is_integer(code))
		return errorf(err, errlen, -EBADMSG, "error.code is not an integer");
	if (member_string(error, "msg", "", &msg, err, errlen) < 0 ||
	    member_string(error, "details", "", &details, err, errlen) < 0)
		return -EBADMSG;
	json_int_t value = code ? json_integer_value(code) : CNI_ERR_INTERNAL;
	if (value <= 0 || value > 0x7fffffff)
		value = CNI_ERR_INTERNAL;
	out->failed = true;
	cni_error_set(&out->error, (int)value, details, "%s", msg);
	return 0;
}

int cni_rpc_response_decode(const char *text, size_t len, struct cni_rpc_response *out, char *err,
			    size_t errlen)
{
	memset(out, 0, sizeof(*out));
	json_t *doc;
	int rc = load_object(text, len, &doc, "response", err, errlen);
	const char *status = "OK";
	if (rc == 0)
		rc = member_string(doc, "status", "", &status, err, errlen);
	if (rc == 0) {
		snprintf(out->status, sizeof(out->status), "%s", status);
		const json_t *error = json_object_get(doc, "error");
		if (error && !json_is_null(error))
			rc = decode_error(error, out, err, errlen);
		else if (status[0] && strcmp(status, "OK") != 0)
			cni_rpc_response_set_error(out, status, CNI_ERR_INTERNAL,
						   "coild answered without an error object",
						   status);
	}
	if (rc == 0 && !out->status[0])
		snprintf(out->status, sizeof(out->status), "%s", out->failed ? "Internal" : "OK");
	json_t *result = rc == 0 ? json_object_get(doc, "result") : NULL;
	if (result && !json_is_null(result) && !out->failed)
		out->result = json_incref(result);
	json_decref(doc);
	return rc;
}
