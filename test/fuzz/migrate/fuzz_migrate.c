/* libFuzzer: Coil v1's etcd data through lib/migrate's parsers. The input is a key, a NUL and
 * a value: the key goes through both key parsers, the value through the pool and the block
 * parsers; whatever parses is converted (which must either succeed or say why). */
#include "migrate/migrate.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void convert(struct migrate_v1_data *v1)
{
	const char *nodes[] = {"node1", "node2"};
	json_t *docs = NULL;
	char err[256];
	FILE *log = fopen("/dev/null", "w");
	if (!log)
		abort();
	int ret = migrate_convert(v1, nodes, 2, log, &docs, err, sizeof(err));
	fclose(log);
	if (ret == 0 && json_array_size(docs) < v1->n_pools)
		abort();
	if (ret < 0 && (docs || !err[0]))
		abort();
	json_decref(docs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	size_t klen = strlen(buf);
	const char *value = klen < size ? buf + klen + 1 : "";
	size_t vlen = klen < size ? size - klen - 1 : 0;
	char pool_name[64], err[256];
	const char *name = "default";
	migrate_v1_parse_pool_key(buf, &name, err, sizeof(err));
	if (migrate_v1_parse_block_key(buf, pool_name, sizeof(pool_name), err, sizeof(err)) < 0)
		strcpy(pool_name, "default");

	struct migrate_v1_data v1 = {0};
	struct migrate_v1_pool pool;
	if (migrate_v1_parse_pool("default", value, vlen, &pool, err, sizeof(err)) == 0) {
		v1.pools = malloc(sizeof(pool));
		if (!v1.pools)
			abort();
		v1.pools[0] = pool;
		v1.n_pools = 1;
	}
	/* The same bytes as a block value of pool "default" (known when the pool parsed). */
	migrate_v1_parse_blocks("default", value, vlen, &v1, err, sizeof(err));
	convert(&v1);
	migrate_v1_data_clear(&v1);
	free(buf);
	return 0;
}
