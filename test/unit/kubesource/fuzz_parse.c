/* libFuzzer target: every reader of lib/kubesource/parse.c on arbitrary JSON. */
#include <stddef.h>
#include <stdint.h>

#include "kubesource/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *obj = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	if (!obj)
		return 0;
	struct request_result r;
	struct node_block b;
	char err[256], v4[IP_ADDR_STRLEN], v6[IP_ADDR_STRLEN], pool[NODE_NAME_MAX];
	request_result_parse(obj, &r);
	block_parse(obj, &b, err, sizeof(err));
	node_internal_ips(obj, v4, v6);
	namespace_pool(obj, pool, sizeof(pool));
	pool_usable(obj);
	json_decref(obj);
	return 0;
}
