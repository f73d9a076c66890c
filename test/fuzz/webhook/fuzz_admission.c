/* libFuzzer target: AdmissionReview bodies through every webhook. The first
 * byte picks it: 'M' the AddressPool mutating one, 'm' the Egress mutating one,
 * 'e' the Egress validating one, any other the AddressPool validating one; the
 * rest is the HTTP body.
 * Checks the reply's invariants, not just the absence of crashes. */
#include "webhook/webhook.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_reply(const struct webhook_reply *reply)
{
	if (reply->status != 200) {
		if (reply->status != 400 && reply->status != 413)
			abort();
		return;
	}
	json_t *review = json_loads(reply->body, 0, NULL);
	const json_t *resp = json_object_get(review, "response");
	const char *uid = json_string_value(json_object_get(resp, "uid"));
	if (!uid || !uid[0] || !json_is_boolean(json_object_get(resp, "allowed")))
		abort();
	json_decref(review);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	enum webhook_kind kind = data[0] == 'M'	  ? WEBHOOK_POOL_MUTATE
				 : data[0] == 'm' ? WEBHOOK_EGRESS_MUTATE
				 : data[0] == 'e' ? WEBHOOK_EGRESS_VALIDATE
						  : WEBHOOK_POOL_VALIDATE;
	struct webhook_reply reply;
	if (webhook_handle_body(kind, (const char *)data + 1, size - 1, &reply) == 0)
		check_reply(&reply);
	free(reply.body);
	return 0;
}
