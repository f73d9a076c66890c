/* A result document, decoded by its own version and by every schema, then
 * rendered in every version and decoded again. */
#include "cni/cni.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const versions[] = {NULL, "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"};

static void render_all(const struct cni_result *res)
{
	for (size_t v = 1; v < sizeof(versions) / sizeof(versions[0]); v++) {
		char why[256];
		json_t *out = cni_result_to_json(res, versions[v], why, sizeof(why));
		if (!out)
			abort(); /* every known version must render */
		struct cni_result again;
		if (cni_result_from_json(out, NULL, &again, why, sizeof(why)) != 0)
			abort(); /* our own output must decode */
		cni_result_free(&again);
		json_decref(out);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *doc = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	if (!doc)
		return 0;
	for (size_t v = 0; v < sizeof(versions) / sizeof(versions[0]); v++) {
		struct cni_result res;
		char why[256];
		if (cni_result_from_json(doc, versions[v], &res, why, sizeof(why)) == 0)
			render_all(&res);
		cni_result_free(&res);
	}
	json_decref(doc);
	return 0;
}
