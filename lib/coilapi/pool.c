/* AddressPool: spec.blockSizeBits and spec.subnets[]. */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>

static int decode_subnet(struct decode_err *e, const json_t *item, size_t i, struct subnet_set *out)
{
	struct field_path path;
	path_index(&path, "spec.subnets", i);
	if (!item || json_is_null(item))
		return 0; /* an empty set; subnet_set_validate() rejects it like upstream */
	if (!json_is_object(item))
		return field_fail(e, path.text, "must be an object");
	int ret = read_string(e, item, path.text, "ipv4", false, &out->ipv4);
	if (ret == 0)
		ret = read_string(e, item, path.text, "ipv6", false, &out->ipv6);
	return ret;
}

static int decode_spec(struct decode_err *e, const json_t *spec, struct coilapi_pool *out)
{
	const json_t *subnets = NULL;
	int32_t bits = COILAPI_DEFAULT_BLOCK_SIZE_BITS;
	int ret = read_int32(e, spec, "spec", "blockSizeBits", 0, &bits);
	if (ret == 0)
		ret = read_array(e, spec, "spec", "subnets", true, &subnets);
	if (ret)
		return ret;
	out->block_bits = bits;
	size_t n = json_array_size(subnets);
	if (n == 0)
		return field_fail(e, "spec.subnets", "must have at least 1 item");
	out->subnets = calloc(n, sizeof(*out->subnets));
	if (!out->subnets)
		return decode_oom(e);
	out->n_subnets = n;
	for (size_t i = 0; i < n && ret == 0; i++)
		ret = decode_subnet(e, json_array_get(subnets, i), i, &out->subnets[i]);
	return ret;
}

int coilapi_pool_decode(const json_t *obj, struct coilapi_pool *out, char *err, size_t errlen)
{
	struct decode_err e = {err, errlen};
	const json_t *spec = NULL;
	*out = (struct coilapi_pool){.name = ""};
	int ret = read_metadata(&e, obj, &out->name, NULL);
	if (ret == 0)
		ret = read_object(&e, obj, "", "spec", false, &spec);
	out->has_spec = spec != NULL;
	if (ret == 0 && spec)
		ret = decode_spec(&e, spec, out);
	if (ret)
		coilapi_pool_clear(out);
	return ret;
}

void coilapi_pool_clear(struct coilapi_pool *pool)
{
	free(pool->subnets);
	*pool = (struct coilapi_pool){.name = ""};
}

struct ipam_pool coilapi_pool_ipam(const struct coilapi_pool *pool)
{
	return (struct ipam_pool){
	    .subnets = pool->subnets, .n_subnets = pool->n_subnets, .block_bits = pool->block_bits};
}

static json_t *encode_subnets(const struct coilapi_pool *pool)
{
	json_t *list = json_array();
	for (size_t i = 0; list && i < pool->n_subnets; i++) {
		json_t *set = json_object();
		if (!set || !set_string(set, "ipv4", pool->subnets[i].ipv4) ||
		    !set_string(set, "ipv6", pool->subnets[i].ipv6) ||
		    json_array_append_new(list, set) < 0) {
			json_decref(list);
			return NULL;
		}
	}
	return list;
}

json_t *coilapi_pool_encode(const struct coilapi_pool *pool)
{
	json_t *obj = encode_head(COILAPI_KIND_ADDRESSPOOL, pool->name, NULL);
	if (!obj || !pool->has_spec)
		return obj;
	/* blockSizeBits is always written, as upstream does (no omitempty). */
	json_t *spec = json_pack("{s:i,s:o*}", "blockSizeBits", pool->block_bits, "subnets",
				 encode_subnets(pool));
	if (!spec || json_object_set_new(obj, "spec", spec) < 0) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}
