/* Parsers of Coil v1's etcd keys and values: outside input, so every field is checked. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "err/err.h"
#include "ipam/ipam.h"
#include "migrate/migrate.h"

#define V1_MAX_BLOCK_SIZE 32

/* v1's pool names: ^[a-z][a-z0-9_.-]*$ */
static bool v1_pool_name_ok(const char *name)
{
	if (!(name[0] >= 'a' && name[0] <= 'z'))
		return false;
	for (const char *p = name + 1; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr("_.-", *p)))
			return false;
	return true;
}

int migrate_v1_parse_pool_key(const char *key, const char **name, char *err, size_t errlen)
{
	size_t plen = strlen(MIGRATE_V1_POOL_KEY);
	if (strncmp(key, MIGRATE_V1_POOL_KEY, plen) != 0)
		return errorf(err, errlen, -EINVAL, "%s is not a pool key", key);
	if (!v1_pool_name_ok(key + plen))
		return errorf(err, errlen, -EINVAL, "key %s: invalid pool name", key);
	*name = key + plen;
	return 0;
}

int migrate_v1_parse_block_key(const char *key, char *pool, size_t poollen, char *err,
			       size_t errlen)
{
	size_t plen = strlen(MIGRATE_V1_BLOCK_KEY);
	if (strncmp(key, MIGRATE_V1_BLOCK_KEY, plen) != 0)
		return errorf(err, errlen, -EINVAL, "%s is not a block key", key);
	const char *name = key + plen, *slash = strchr(name, '/');
	size_t len = slash ? (size_t)(slash - name) : 0;
	if (!slash || len == 0 || !slash[1] || strchr(slash + 1, '/'))
		return errorf(err, errlen, -EINVAL, "key %s: not block/<pool>/<subnet>", key);
	if (len >= poollen)
		return errorf(err, errlen, -ENAMETOOLONG, "key %s: pool name too long", key);
	memcpy(pool, name, len);
	pool[len] = '\0';
	if (!v1_pool_name_ok(pool))
		return errorf(err, errlen, -EINVAL, "key %s: invalid pool name", key);
	return 0;
}

void migrate_v1_pool_clear(struct migrate_v1_pool *pool)
{
	for (size_t i = 0; i < pool->n_subnets; i++)
		free(pool->subnets[i]);
	free(pool->subnets);
	free(pool->name);
	memset(pool, 0, sizeof(*pool));
}

/* An IPv4 network in canonical form with room for one block of 2^block_size. */
static int check_subnet(const char *pool, const char *text, int block_size, char *err,
			size_t errlen)
{
	struct ip_prefix p;
	char canon[IP_CIDR_STRLEN];
	if (ip_prefix_parse(text, false, &p) < 0 || p.addr.family != IP_FAMILY_V4)
		return errorf(err, errlen, -EINVAL, "pool %s: invalid IPv4 subnet %s", pool, text);
	ip_prefix_format(&p, canon);
	if (strcmp(canon, text) != 0)
		return errorf(err, errlen, -EINVAL, "pool %s: subnet %s is not canonical (%s)",
			      pool, text, canon);
	if ((int)(32 - p.len) < block_size)
		return errorf(err, errlen, -EINVAL, "pool %s: subnet %s is smaller than a block",
			      pool, text);
	return 0;
}

static int parse_subnets(struct migrate_v1_pool *out, const json_t *subnets, char *err,
			 size_t errlen)
{
	size_t n = json_array_size(subnets), i;
	if (!json_is_array(subnets) || n == 0)
		return errorf(err, errlen, -EINVAL, "pool %s: subnets must be a non-empty array",
			      out->name);
	if (!(out->subnets = calloc(n, sizeof(*out->subnets))))
		return errorf(err, errlen, -ENOMEM, "out of memory");
	const json_t *item;
	json_array_foreach(subnets, i, item)
	{
		const char *text = json_string_value(item);
		if (!text)
			return errorf(err, errlen, -EINVAL, "pool %s: subnets[%zu] is not a string",
				      out->name, i);
		int ret = check_subnet(out->name, text, out->block_size, err, errlen);
		if (ret < 0)
			return ret;
		if (!(out->subnets[i] = strdup(text)))
			return errorf(err, errlen, -ENOMEM, "out of memory");
		out->n_subnets++;
	}
	return 0;
}

int migrate_v1_parse_pool(const char *name, const char *value, size_t len,
			  struct migrate_v1_pool *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	json_error_t jerr;
	json_t *doc = json_loadb(value, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(doc)) {
		json_decref(doc);
		return errorf(err, errlen, -EINVAL, "pool %s: invalid JSON: %s", name,
			      doc ? "not an object" : jerr.text);
	}
	const json_t *bits = json_object_get(doc, "block_size");
	int ret = 0;
	if (!(out->name = strdup(name)))
		ret = errorf(err, errlen, -ENOMEM, "out of memory");
	else if (!json_is_integer(bits) || json_integer_value(bits) < 0 ||
		 json_integer_value(bits) > V1_MAX_BLOCK_SIZE)
		ret = errorf(err, errlen, -EINVAL, "pool %s: block_size must be an integer 0..32",
			     name);
	if (ret == 0) {
		out->block_size = (int)json_integer_value(bits);
		ret = parse_subnets(out, json_object_get(doc, "subnets"), err, errlen);
	}
	json_decref(doc);
	if (ret < 0)
		migrate_v1_pool_clear(out);
	return ret;
}

static int append_block(struct migrate_v1_data *data, const char *pool, const char *node,
			const char *cidr)
{
	struct migrate_v1_block *grown =
	    realloc(data->blocks, (data->n_blocks + 1) * sizeof(*data->blocks));
	if (!grown)
		return -ENOMEM;
	data->blocks = grown;
	struct migrate_v1_block *b = &data->blocks[data->n_blocks];
	b->pool = strdup(pool);
	b->node = strdup(node);
	b->cidr = strdup(cidr);
	if (!b->pool || !b->node || !b->cidr) {
		free(b->pool);
		free(b->node);
		free(b->cidr);
		return -ENOMEM;
	}
	data->n_blocks++;
	return 0;
}

static int parse_node_blocks(const char *pool, const char *node, const json_t *list,
			     struct migrate_v1_data *data, char *err, size_t errlen)
{
	if (!json_is_array(list))
		return errorf(err, errlen, -EINVAL, "blocks of pool %s: nodes.%s is not an array",
			      pool, node);
	size_t i;
	const json_t *item;
	json_array_foreach(list, i, item)
	{
		const char *cidr = json_string_value(item);
		if (!cidr)
			return errorf(err, errlen, -EINVAL,
				      "blocks of pool %s: nodes.%s[%zu] is not a string", pool,
				      node, i);
		if (append_block(data, pool, node, cidr) < 0)
			return errorf(err, errlen, -ENOMEM, "out of memory");
	}
	return 0;
}

int migrate_v1_parse_blocks(const char *pool, const char *value, size_t len,
			    struct migrate_v1_data *data, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *doc = json_loadb(value, len, JSON_REJECT_DUPLICATES, &jerr);
	const json_t *nodes = json_object_get(doc, "nodes");
	int ret = 0;
	if (!json_is_object(doc))
		ret = errorf(err, errlen, -EINVAL, "blocks of pool %s: invalid JSON: %s", pool,
			     doc ? "not an object" : jerr.text);
	else if (nodes && !json_is_object(nodes) && !json_is_null(nodes))
		ret =
		    errorf(err, errlen, -EINVAL, "blocks of pool %s: nodes is not an object", pool);
	const char *node;
	const json_t *list;
	if (ret == 0 && json_is_object(nodes))
		json_object_foreach((json_t *)nodes, node, list)
		{
			ret = parse_node_blocks(pool, node, list, data, err, errlen);
			if (ret < 0)
				break;
		}
	json_decref(doc);
	return ret;
}
