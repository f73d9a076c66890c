/* v1 pools and node blocks to v2 AddressPools and reserved AddressBlocks. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "coilapi/coilapi.h"
#include "err/err.h"
#include "ipam/ipam.h"
#include "migrate/migrate.h"

int migrate_block_index(const struct migrate_v1_pool *pool, const char *cidr, uint32_t *index,
			char *err, size_t errlen)
{
	struct ip_prefix block, subnet;
	if (ip_prefix_parse(cidr, false, &block) < 0 || block.addr.family != IP_FAMILY_V4 ||
	    (int)(32 - block.len) != pool->block_size)
		return errorf(err, errlen, -EINVAL, "block %s cannot exist in pool %s", cidr,
			      pool->name);
	uint64_t total = 0;
	for (size_t i = 0; i < pool->n_subnets; i++) {
		if (ip_prefix_parse(pool->subnets[i], false, &subnet) < 0)
			break; /* checked when the pool was read */
		if (!ip_prefix_contains(&subnet, &block.addr)) {
			total += UINT64_C(1) << (32 - subnet.len - pool->block_size);
			continue;
		}
		uint64_t offset = 0;
		ip_addr_offset(&subnet.addr, &block.addr, &offset);
		total += offset >> pool->block_size;
		if (total >= IPAM_MAX_BLOCKS)
			break;
		*index = (uint32_t)total;
		return 0;
	}
	return errorf(err, errlen, -EINVAL, "block %s cannot exist in pool %s", cidr, pool->name);
}

/* Upstream's migrator serialised Go structs, which always carry a null creationTimestamp;
 * kept so the output reads like the manifests users already have. */
static json_t *with_null_timestamp(json_t *obj)
{
	json_t *meta = json_object_get(obj, "metadata");
	if (!meta || json_object_set_new(meta, "creationTimestamp", json_null()) < 0) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

json_t *migrate_pool_object(const struct migrate_v1_pool *pool)
{
	struct subnet_set *sets = calloc(pool->n_subnets, sizeof(*sets));
	if (!sets)
		return NULL;
	for (size_t i = 0; i < pool->n_subnets; i++)
		sets[i].ipv4 = pool->subnets[i];
	struct coilapi_pool p = {.name = pool->name,
				 .has_spec = true,
				 .block_bits = pool->block_size,
				 .subnets = sets,
				 .n_subnets = pool->n_subnets};
	json_t *obj = coilapi_pool_encode(&p);
	free(sets);
	return obj ? with_null_timestamp(obj) : NULL;
}

int migrate_block_object(const struct migrate_v1_pool *pool, const struct migrate_v1_block *block,
			 json_t **out, char *err, size_t errlen)
{
	uint32_t index = 0;
	int ret = migrate_block_index(pool, block->cidr, &index, err, errlen);
	if (ret < 0)
		return ret;
	char name[320];
	if (snprintf(name, sizeof(name), "%s-%u-v1", pool->name, index) >= (int)sizeof(name))
		return errorf(err, errlen, -ENAMETOOLONG, "pool name %s too long", pool->name);
	struct coilapi_block b = {.name = name,
				  .pool = pool->name,
				  .node = block->node,
				  .reserved = true,
				  .index = index,
				  .ipv4 = block->cidr};
	json_t *obj = coilapi_block_encode(&b);
	if (!obj || !(*out = with_null_timestamp(obj)))
		return errorf(err, errlen, -ENOMEM, "out of memory");
	return 0;
}

/* Whether an earlier block of the same node and missing pool was reported already. */
static bool skip_reported(const struct migrate_v1_data *v1, size_t upto, const char *node,
			  const char *pool)
{
	for (size_t i = 0; i < upto; i++)
		if (strcmp(v1->blocks[i].node, node) == 0 && strcmp(v1->blocks[i].pool, pool) == 0)
			return true;
	return false;
}

static int append_node_blocks(const struct migrate_v1_data *v1, const char *node, FILE *log,
			      json_t *docs, char *err, size_t errlen)
{
	for (size_t i = 0; i < v1->n_blocks; i++) {
		const struct migrate_v1_block *b = &v1->blocks[i];
		if (strcmp(b->node, node) != 0)
			continue;
		const struct migrate_v1_pool *pool = migrate_v1_find_pool(v1, b->pool);
		if (!pool) {
			if (!skip_reported(v1, i, node, b->pool))
				fprintf(log,
					"skipping a reserved block from non-existent pool %s for "
					"node %s\n",
					b->pool, node);
			continue;
		}
		json_t *obj;
		int ret = migrate_block_object(pool, b, &obj, err, errlen);
		if (ret < 0)
			return ret;
		if (json_array_append_new(docs, obj) < 0)
			return errorf(err, errlen, -ENOMEM, "out of memory");
	}
	return 0;
}

int migrate_convert(const struct migrate_v1_data *v1, const char *const *nodes, size_t n_nodes,
		    FILE *log, json_t **docs, char *err, size_t errlen)
{
	json_t *all = json_array();
	int ret = all ? 0 : errorf(err, errlen, -ENOMEM, "out of memory");
	for (size_t i = 0; ret == 0 && i < v1->n_pools; i++)
		if (json_array_append_new(all, migrate_pool_object(&v1->pools[i])) < 0)
			ret = errorf(err, errlen, -ENOMEM, "out of memory");
	for (size_t i = 0; ret == 0 && i < n_nodes; i++)
		ret = append_node_blocks(v1, nodes[i], log, all, err, errlen);
	if (ret < 0) {
		json_decref(all);
		return ret;
	}
	*docs = all;
	return 0;
}
