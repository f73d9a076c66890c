/* What every Coil object shares: metadata reading and the head of an encoded object. */
#include "internal.h"
#include "err/err.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int read_metadata(struct decode_err *e, const json_t *obj, const char **name,
		  const char **namespace)
{
	*name = "";
	if (namespace)
		*namespace = "";
	if (!json_is_object(obj))
		return errorf(e->buf, e->len, -EINVAL, "the object is not a JSON object");
	const json_t *meta = NULL;
	int ret = read_object(e, obj, "", "metadata", false, &meta);
	if (ret == 0)
		ret = read_string(e, meta, "metadata", "name", false, name);
	if (ret == 0 && namespace)
		ret = read_string(e, meta, "metadata", "namespace", false, namespace);
	return ret;
}

int read_uid(struct decode_err *e, const json_t *obj, const char **uid)
{
	*uid = "";
	return read_string(e, member(obj, "metadata"), "metadata", "uid", false, uid);
}

int read_label(struct decode_err *e, const json_t *obj, const char *key, const char **out)
{
	const json_t *labels = NULL;
	*out = NULL;
	int ret = read_string_map(e, member(obj, "metadata"), "metadata", "labels", &labels);
	if (ret == 0 && labels)
		*out = json_string_value(json_object_get(labels, key));
	if (*out && strlen(*out) != json_string_length(json_object_get(labels, key))) {
		char path[96];
		snprintf(path, sizeof(path), "metadata.labels[%s]", key);
		return field_fail(e, path, "must be a string");
	}
	return ret;
}

bool set_string(json_t *obj, const char *key, const char *text)
{
	return !text || json_object_set_new(obj, key, json_string(text)) == 0;
}

bool set_copy(json_t *obj, const char *key, const json_t *value)
{
	return !value || json_object_set_new(obj, key, json_deep_copy(value)) == 0;
}

json_t *encode_head(const char *kind, const char *name, const char *namespace)
{
	json_t *meta = json_object();
	json_t *obj = json_pack("{s:s,s:s,s:o}", "apiVersion", COILAPI_API_VERSION, "kind", kind,
				"metadata", meta);
	if (!obj)
		return NULL;
	if (!set_string(meta, "name", name && *name ? name : NULL) ||
	    !set_string(meta, "namespace", namespace && *namespace ? namespace : NULL)) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

json_t *coilapi_controller_refs(const char *kind, const json_t *owner)
{
	const json_t *meta = json_object_get(owner, "metadata");
	const char *name = json_string_value(json_object_get(meta, "name"));
	const char *uid = json_string_value(json_object_get(meta, "uid"));
	if (!name || !uid)
		return NULL;
	return json_pack("[{s:s,s:s,s:s,s:s,s:b,s:b}]", "apiVersion", COILAPI_API_VERSION, "kind",
			 kind, "name", name, "uid", uid, "controller", 1, "blockOwnerDeletion", 1);
}

static bool is_controller_ref(const json_t *ref, const char *want)
{
	const char *kind = json_string_value(json_object_get(ref, "kind"));
	const char *api = json_string_value(json_object_get(ref, "apiVersion"));
	return json_is_true(json_object_get(ref, "controller")) && kind &&
	       strcmp(kind, want) == 0 && api &&
	       strncmp(api, COILAPI_GROUP "/", strlen(COILAPI_GROUP "/")) == 0;
}

const char *coilapi_controller_owner(const json_t *obj, const char *kind)
{
	const json_t *refs = json_object_get(json_object_get(obj, "metadata"), "ownerReferences");
	size_t i;
	const json_t *ref;
	json_array_foreach(refs, i, ref)
	{
		if (is_controller_ref(ref, kind))
			return json_string_value(json_object_get(ref, "name"));
	}
	return NULL;
}
