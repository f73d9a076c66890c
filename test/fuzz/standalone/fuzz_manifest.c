/* libFuzzer target: the standalone pool manifest parser (YAML streams of
 * AddressPool and Namespace objects). A successful parse must yield pools that
 * satisfy the validation it claims. */
#include "standalone/standalone.h"
#include "log/log.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_invariants(const struct standalone_manifest *m)
{
	for (size_t i = 0; i < m->npools; i++) {
		const struct standalone_pool *p = &m->pools[i];
		if (!p->name[0] || p->blocksize_bits < 0 || p->nsubnets == 0)
			abort();
		for (size_t j = 0; j < p->nsubnets; j++) {
			if (!p->subnets[j].ipv4 && !p->subnets[j].ipv6)
				abort();
		}
		if (standalone_manifest_pool(m, p->name) != p) /* names are unique */
			abort();
	}
	for (size_t i = 0; i < m->nnamespaces; i++) {
		if (!m->namespaces[i].name[0])
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	log_set_level(LOG_ERROR); /* ignored kinds are logged at info */
	struct standalone_manifest m;
	char err[512];
	if (standalone_manifest_parse((const char *)data, size, &m, err, sizeof(err)) == 0) {
		check_invariants(&m);
		standalone_manifest_free(&m);
	} else if (!err[0] || m.npools || m.nnamespaces) {
		abort(); /* an error always says why and leaves nothing behind */
	}
	return 0;
}
