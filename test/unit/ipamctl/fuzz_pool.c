/* libFuzzer: an AddressPool object (JSON from the API server) through the spec parser, the
 * capacity walk and the block builder, as the pool manager uses them. */
#include "ipamctl/objects.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	json_t *pool = json_loadb((const char *)data, size, JSON_DISABLE_EOF_CHECK, NULL);
	struct coilapi_pool spec;
	if (!pool)
		return 0;
	if (ipamctl_pool_decode(pool, &spec, err, sizeof(err)) == 0) {
		struct ipam_pool carving = coilapi_pool_ipam(&spec);
		uint64_t max = ipam_pool_max_blocks(&carving);
		uint64_t probes[] = {0, 1, max ? max - 1 : 0, max};
		for (size_t i = 0; i < 4; i++) {
			struct ipam_block_cidrs cidrs;
			if (ipam_pool_get_block(&carving, probes[i], &cidrs, err, sizeof(err)) == 0)
				json_decref(ipamctl_block_build(pool, (uint32_t)probes[i], &cidrs,
								"node", "uid"));
		}
		coilapi_pool_clear(&spec);
	}
	ipamctl_being_deleted(pool);
	ipamctl_condition_count(pool);
	ipamctl_controller_pool(pool);
	ipamctl_block_index(pool);
	json_decref(pool);
	return 0;
}
