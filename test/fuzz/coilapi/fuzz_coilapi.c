/* libFuzzer: any JSON through the four lib/coilapi decoders. What decodes must encode, the
 * encoding must decode again, and encoding that gives the same JSON: the codecs agree. */
#include "coilapi/coilapi.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ROUND_TRIP(type, decode, encode, clear, obj)                                               \
	do {                                                                                       \
		type a, b;                                                                         \
		if (decode(obj, &a, NULL, 0) != 0)                                                 \
			break;                                                                     \
		json_t *first = encode(&a);                                                        \
		if (!first || decode(first, &b, NULL, 0) != 0)                                     \
			abort();                                                                   \
		json_t *second = encode(&b);                                                       \
		if (!json_equal(first, second))                                                    \
			abort();                                                                   \
		json_decref(first);                                                                \
		json_decref(second);                                                               \
		clear(&a);                                                                         \
		clear(&b);                                                                         \
	} while (0)

static void block_clear(struct coilapi_block *b)
{
	(void)b; /* owns nothing */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *obj = json_loadb((const char *)data, size, JSON_ALLOW_NUL, NULL);
	if (!obj)
		return 0;
	ROUND_TRIP(struct coilapi_pool, coilapi_pool_decode, coilapi_pool_encode,
		   coilapi_pool_clear, obj);
	ROUND_TRIP(struct coilapi_block, coilapi_block_decode, coilapi_block_encode, block_clear,
		   obj);
	ROUND_TRIP(struct coilapi_request, coilapi_request_decode, coilapi_request_encode,
		   coilapi_request_clear, obj);
	ROUND_TRIP(struct coilapi_egress, coilapi_egress_decode, coilapi_egress_encode,
		   coilapi_egress_clear, obj);
	json_decref(obj);
	return 0;
}
