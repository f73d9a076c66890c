/* Reading Coil v1's pools and node blocks out of etcd. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "err/err.h"
#include "etcd/etcd.h"
#include "migrate/migrate.h"

void migrate_v1_data_clear(struct migrate_v1_data *data)
{
	for (size_t i = 0; i < data->n_pools; i++)
		migrate_v1_pool_clear(&data->pools[i]);
	free(data->pools);
	for (size_t i = 0; i < data->n_blocks; i++) {
		free(data->blocks[i].pool);
		free(data->blocks[i].node);
		free(data->blocks[i].cidr);
	}
	free(data->blocks);
	memset(data, 0, sizeof(*data));
}

const struct migrate_v1_pool *migrate_v1_find_pool(const struct migrate_v1_data *data,
						   const char *name)
{
	for (size_t i = 0; i < data->n_pools; i++)
		if (strcmp(data->pools[i].name, name) == 0)
			return &data->pools[i];
	return NULL;
}

static int read_pools(struct etcd_client *etcd, struct migrate_v1_data *out, char *err,
		      size_t errlen)
{
	struct etcd_kv_list kvs = {0};
	int ret = etcd_range_prefix(etcd, MIGRATE_V1_POOL_KEY, &kvs, err, errlen);
	if (ret < 0)
		return ret;
	if (kvs.n && !(out->pools = calloc(kvs.n, sizeof(*out->pools))))
		ret = errorf(err, errlen, -ENOMEM, "out of memory");
	for (size_t i = 0; ret == 0 && i < kvs.n; i++) {
		const char *name;
		ret = migrate_v1_parse_pool_key(kvs.items[i].key, &name, err, errlen);
		if (ret == 0)
			ret =
			    migrate_v1_parse_pool(name, kvs.items[i].value, kvs.items[i].value_len,
						  &out->pools[out->n_pools], err, errlen);
		if (ret == 0)
			out->n_pools++;
	}
	etcd_kv_list_clear(&kvs);
	return ret;
}

static int read_blocks(struct etcd_client *etcd, struct migrate_v1_data *out, char *err,
		       size_t errlen)
{
	struct etcd_kv_list kvs = {0};
	int ret = etcd_range_prefix(etcd, MIGRATE_V1_BLOCK_KEY, &kvs, err, errlen);
	for (size_t i = 0; ret == 0 && i < kvs.n; i++) {
		char pool[256];
		ret = migrate_v1_parse_block_key(kvs.items[i].key, pool, sizeof(pool), err, errlen);
		if (ret == 0)
			ret = migrate_v1_parse_blocks(pool, kvs.items[i].value,
						      kvs.items[i].value_len, out, err, errlen);
	}
	etcd_kv_list_clear(&kvs);
	return ret;
}

int migrate_v1_read(struct etcd_client *etcd, struct migrate_v1_data *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	int ret = read_pools(etcd, out, err, errlen);
	if (ret == 0)
		ret = read_blocks(etcd, out, err, errlen);
	if (ret < 0)
		migrate_v1_data_clear(out);
	return ret;
}
