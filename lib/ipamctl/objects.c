/* Reading AddressPools and building AddressBlocks and BlockRequest statuses. */
#include "objects.h"
#include "ipamctl.h"
#include "kube/kube.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The CRD default of spec.blockSizeBits. */
#define DEFAULT_BLOCK_BITS 5

/* An absent member and a JSON null read the same (Go's zero value). */
static const json_t *member(const json_t *obj, const char *key)
{
	const json_t *value = json_object_get(obj, key);
	return json_is_null(value) ? NULL : value;
}

static int parse_block_bits(const json_t *spec, const char *name, int *out, char *err,
			    size_t errlen)
{
	const json_t *bits = member(spec, "blockSizeBits");
	*out = DEFAULT_BLOCK_BITS;
	if (!bits)
		return 0;
	/* 128 is the largest block of any family; more can never carve anything. */
	if (!json_is_integer(bits) || json_integer_value(bits) < 0 ||
	    json_integer_value(bits) > 128) {
		snprintf(err, errlen, "AddressPool %s: invalid spec.blockSizeBits", name);
		return -EINVAL;
	}
	*out = (int)json_integer_value(bits);
	return 0;
}

static int parse_subnet(const json_t *item, size_t i, const char *name, struct subnet_set *out,
			char *err, size_t errlen)
{
	const json_t *v4 = member(item, "ipv4"), *v6 = member(item, "ipv6");
	if (!json_is_object(item) || (v4 && !json_is_string(v4)) || (v6 && !json_is_string(v6))) {
		snprintf(err, errlen, "AddressPool %s: invalid spec.subnets[%zu]", name, i);
		return -EINVAL;
	}
	out->ipv4 = v4 ? json_string_value(v4) : NULL;
	out->ipv6 = v6 ? json_string_value(v6) : NULL;
	return 0;
}

int ipamctl_pool_spec_parse(const json_t *pool, struct ipamctl_pool_spec *out, char *err,
			    size_t errlen)
{
	const char *name = kube_obj_name(pool) ? kube_obj_name(pool) : "(unnamed)";
	const json_t *spec = member(pool, "spec");
	const json_t *subnets = spec ? member(spec, "subnets") : NULL;
	*out = (struct ipamctl_pool_spec){0};
	if (spec && !json_is_object(spec)) {
		snprintf(err, errlen, "AddressPool %s: spec is not an object", name);
		return -EINVAL;
	}
	if (subnets && !json_is_array(subnets)) {
		snprintf(err, errlen, "AddressPool %s: spec.subnets is not an array", name);
		return -EINVAL;
	}
	int ret = parse_block_bits(spec, name, &out->pool.block_bits, err, errlen);
	size_t n = json_array_size(subnets);
	if (ret || n == 0)
		return ret;
	out->subnets = calloc(n, sizeof(*out->subnets));
	if (!out->subnets) {
		snprintf(err, errlen, "AddressPool %s: out of memory", name);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		ret = parse_subnet(json_array_get(subnets, i), i, name, &out->subnets[i], err,
				   errlen);
		if (ret) {
			ipamctl_pool_spec_free(out);
			return ret;
		}
	}
	out->pool.subnets = out->subnets;
	out->pool.n_subnets = n;
	return 0;
}

void ipamctl_pool_spec_free(struct ipamctl_pool_spec *spec)
{
	free(spec->subnets);
	*spec = (struct ipamctl_pool_spec){0};
}

bool ipamctl_being_deleted(const json_t *obj)
{
	const json_t *ts = kube_json_path(obj, "metadata.deletionTimestamp");
	return ts && !json_is_null(ts);
}

bool ipamctl_has_finalizer(const json_t *obj, const char *finalizer)
{
	const json_t *list = kube_json_path(obj, "metadata.finalizers");
	size_t i;
	const json_t *item;
	json_array_foreach(list, i, item)
	{
		if (json_is_string(item) && strcmp(json_string_value(item), finalizer) == 0)
			return true;
	}
	return false;
}

bool ipamctl_remove_finalizer(json_t *obj, const char *finalizer)
{
	json_t *list = kube_json_path(obj, "metadata.finalizers");
	bool removed = false;
	for (size_t i = 0; i < json_array_size(list);) {
		const char *item = json_string_value(json_array_get(list, i));
		if (item && strcmp(item, finalizer) == 0) {
			json_array_remove(list, i);
			removed = true;
		} else {
			i++;
		}
	}
	return removed;
}

static json_t *owner_reference(const json_t *pool)
{
	return json_pack("[{s:s,s:s,s:s,s:s,s:b,s:b}]", "apiVersion", IPAMCTL_API_VERSION, "kind",
			 "AddressPool", "name", kube_obj_name(pool), "uid", kube_obj_uid(pool),
			 "controller", 1, "blockOwnerDeletion", 1);
}

json_t *ipamctl_block_build(const json_t *pool, uint32_t index,
			    const struct ipam_block_cidrs *cidrs, const char *node,
			    const char *request_uid)
{
	const char *pool_name = kube_obj_name(pool);
	char name[IPAMCTL_BLOCK_NAME_MAX];
	if (!pool_name || !kube_obj_uid(pool) || !node || !request_uid)
		return NULL;
	if (snprintf(name, sizeof(name), "%s-%u", pool_name, index) >= (int)sizeof(name))
		return NULL;
	json_t *block =
	    json_pack("{s:s,s:s,s:{s:s,s:{s:s,s:s,s:s},s:[s],s:o},s:I}", "apiVersion",
		      IPAMCTL_API_VERSION, "kind", "AddressBlock", "metadata", "name", name,
		      "labels", IPAMCTL_LABEL_POOL, pool_name, IPAMCTL_LABEL_NODE, node,
		      IPAMCTL_LABEL_REQUEST, request_uid, "finalizers", IPAMCTL_FINALIZER,
		      "ownerReferences", owner_reference(pool), "index", (json_int_t)index);
	if (block && cidrs->ipv4[0])
		json_object_set_new(block, "ipv4", json_string(cidrs->ipv4));
	if (block && cidrs->ipv6[0])
		json_object_set_new(block, "ipv6", json_string(cidrs->ipv6));
	return block;
}

static json_t *condition(const char *type, const char *reason, const char *message, const char *now)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "type", type, "status", "True", "reason",
			 reason, "message", message, "lastProbeTime", now, "lastTransitionTime",
			 now);
}

json_t *ipamctl_status_allocated(const char *block_name, const struct timespec *now)
{
	char when[KUBE_TIME_LEN], message[IPAMCTL_BLOCK_NAME_MAX + 32];
	kube_time_format(now, when);
	snprintf(message, sizeof(message), "allocated a block %s", block_name);
	return json_pack("{s:s,s:[o]}", "addressBlockName", block_name, "conditions",
			 condition("Complete", "allocated", message, when));
}

json_t *ipamctl_status_out_of_blocks(const char *pool_name, const struct timespec *now)
{
	char when[KUBE_TIME_LEN], message[512];
	kube_time_format(now, when);
	snprintf(message, sizeof(message), "pool %s does not have free blocks", pool_name);
	return json_pack(
	    "{s:[o,o]}", "conditions",
	    condition("Complete", "completed with failure", "completed with failure", when),
	    condition("Failed", "out of blocks", message, when));
}

size_t ipamctl_condition_count(const json_t *request)
{
	return json_array_size(kube_json_path(request, "status.conditions"));
}

static bool is_pool_controller(const json_t *ref)
{
	const char *kind = json_string_value(json_object_get(ref, "kind"));
	const char *api = json_string_value(json_object_get(ref, "apiVersion"));
	return json_is_true(json_object_get(ref, "controller")) && kind &&
	       strcmp(kind, "AddressPool") == 0 && api &&
	       strncmp(api, "coil.cybozu.com/", strlen("coil.cybozu.com/")) == 0;
}

const char *ipamctl_controller_pool(const json_t *obj)
{
	const json_t *refs = kube_json_path(obj, "metadata.ownerReferences");
	size_t i;
	const json_t *ref;
	json_array_foreach(refs, i, ref)
	{
		if (is_pool_controller(ref))
			return json_string_value(json_object_get(ref, "name"));
	}
	return NULL;
}

int64_t ipamctl_block_index(const json_t *block)
{
	const json_t *index = json_object_get(block, "index");
	if (!json_is_integer(index) || json_integer_value(index) < 0 ||
	    json_integer_value(index) > INT32_MAX)
		return -1;
	return json_integer_value(index);
}
