/* RPC messages as coild and the plugin decode them; what decodes must encode
 * and decode again. */
#include "cni/cni.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void request_round_trip(const char *text, size_t size)
{
	struct cni_rpc_request req, again;
	char why[256], *out;
	size_t len;
	if (cni_rpc_request_decode(text, size, &req, why, sizeof(why)) == 0) {
		if (cni_rpc_request_encode(&req, &out, &len, why, sizeof(why)) != 0)
			abort();
		if (cni_rpc_request_decode(out, len, &again, why, sizeof(why)) != 0)
			abort();
		cni_rpc_request_free(&again);
		free(out);
	}
	cni_rpc_request_free(&req);
}

static void response_round_trip(const char *text, size_t size)
{
	struct cni_rpc_response resp, again;
	char why[256], *out;
	size_t len;
	if (cni_rpc_response_decode(text, size, &resp, why, sizeof(why)) == 0) {
		if (cni_rpc_response_encode(&resp, &out, &len, why, sizeof(why)) == 0) {
			if (cni_rpc_response_decode(out, len, &again, why, sizeof(why)) != 0)
				abort();
			cni_rpc_response_free(&again);
			free(out);
		}
	}
	cni_rpc_response_free(&resp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	request_round_trip((const char *)data, size);
	response_round_trip((const char *)data, size);
	return 0;
}
