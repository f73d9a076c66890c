/* AddressBlock: index, ipv4 and ipv6 at the top level, and its labels. */
#include "internal.h"

#include <string.h>

int coilapi_block_decode(const json_t *obj, struct coilapi_block *out, char *err, size_t errlen)
{
	struct decode_err e = {err, errlen};
	const char *reserved = NULL;
	int32_t index = -1;
	*out = (struct coilapi_block){.name = ""};
	int ret = read_metadata(&e, obj, &out->name, NULL);
	if (ret == 0)
		ret = read_int32(&e, obj, "", "index", 0, &index);
	if (ret == 0 && index < 0)
		ret = field_fail(&e, "index", "Required value");
	if (ret == 0)
		ret = read_string(&e, obj, "", "ipv4", false, &out->ipv4);
	if (ret == 0)
		ret = read_string(&e, obj, "", "ipv6", false, &out->ipv6);
	if (ret == 0)
		ret = read_label(&e, obj, COILAPI_LABEL_POOL, &out->pool);
	if (ret == 0)
		ret = read_label(&e, obj, COILAPI_LABEL_NODE, &out->node);
	if (ret == 0)
		ret = read_label(&e, obj, COILAPI_LABEL_REQUEST, &out->request);
	if (ret == 0)
		ret = read_label(&e, obj, COILAPI_LABEL_RESERVED, &reserved);
	if (ret) {
		*out = (struct coilapi_block){.name = ""};
		return ret;
	}
	out->index = (uint32_t)index;
	out->reserved = reserved && strcmp(reserved, "true") == 0;
	return 0;
}

static json_t *encode_labels(const struct coilapi_block *block)
{
	json_t *labels = json_object();
	if (labels && set_string(labels, COILAPI_LABEL_POOL, block->pool) &&
	    set_string(labels, COILAPI_LABEL_NODE, block->node) &&
	    set_string(labels, COILAPI_LABEL_REQUEST, block->request) &&
	    set_string(labels, COILAPI_LABEL_RESERVED, block->reserved ? "true" : NULL))
		return labels;
	json_decref(labels);
	return NULL;
}

json_t *coilapi_block_encode(const struct coilapi_block *block)
{
	json_t *obj = encode_head(COILAPI_KIND_ADDRESSBLOCK, block->name, NULL);
	json_t *labels = obj ? encode_labels(block) : NULL;
	if (!labels)
		goto fail;
	if (json_object_size(labels) == 0)
		json_decref(labels);
	else if (json_object_set_new(json_object_get(obj, "metadata"), "labels", labels) < 0)
		goto fail;
	if (json_object_set_new(obj, "index", json_integer(block->index)) < 0 ||
	    !set_string(obj, "ipv4", block->ipv4) || !set_string(obj, "ipv6", block->ipv6))
		goto fail;
	return obj;
fail:
	json_decref(obj);
	return NULL;
}
