/* libFuzzer: any JSON as a pod's annotations through the client annotation parser. Every
 * reference parsed must be matched by natclient_refs_match (the watcher's test), and the
 * parse must never leak or crash. */
#include "natclient/natclient.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *ann = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	if (!ann)
		return 0;
	struct natclient_refs refs;
	char err[256];
	if (natclient_refs_parse(ann, &refs, err, sizeof(err)) == 0)
		for (size_t i = 0; i < refs.n; i++)
			if (!natclient_refs_match(ann, refs.items[i].ns, refs.items[i].name))
				abort();
	natclient_refs_free(&refs);
	json_decref(ann);
	return 0;
}
