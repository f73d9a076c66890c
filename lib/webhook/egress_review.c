/* The Egress webhooks: the mutating one defaults the pod template's container, the validating
 * one applies egress.c's rules to CREATE and UPDATE. Objects are defaulted before they are
 * decoded, since the decoder (like the CRD schema) requires containers in a template. */
#include "internal.h"
#include "webhook.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* request.<key>, defaulted, into *defaulted (caller decrefs) and *egress (cleared by the
 * caller, borrowing from *defaulted); on failure *resp is the 400 answer. */
static int decode_egress(const struct review_request *req, const char *key, json_t **defaulted,
			 struct coilapi_egress *egress, json_t **resp)
{
	char why[256], message[320];
	const json_t *obj = json_object_get(req->request, key);
	json_t *patch = NULL;
	*defaulted = NULL;
	*egress = (struct coilapi_egress){.name = ""}; /* nothing to clear */
	if (!obj || json_is_null(obj))
		snprintf(why, sizeof(why), "there is no content to decode");
	else if (egress_default_patch(obj, &patch, defaulted, why, sizeof(why)) == 0 &&
		 coilapi_egress_decode(*defaulted, egress, why, sizeof(why)) == 0) {
		json_decref(patch);
		return 0;
	}
	json_decref(patch);
	json_decref(*defaulted);
	*defaulted = NULL;
	snprintf(message, sizeof(message), "request.%s: %s", key, why);
	*resp = review_errored(req->uid, 400, message);
	return -EINVAL;
}

static json_t *mutate(const struct review_request *req)
{
	if (strcmp(req->operation, "DELETE") == 0)
		return review_allowed(req->uid);
	struct coilapi_egress egress;
	json_t *defaulted, *resp = NULL, *patch = NULL;
	if (decode_egress(req, "object", &defaulted, &egress, &resp) < 0)
		return resp;
	coilapi_egress_clear(&egress);
	json_decref(defaulted);
	char why[256];
	egress_default_patch(json_object_get(req->request, "object"), &patch, NULL, why,
			     sizeof(why)); /* succeeded once in decode_egress */
	resp = patch ? review_allowed_patch(req->uid, patch) : review_allowed(req->uid);
	json_decref(patch);
	return resp;
}

static json_t *validate(const struct review_request *req)
{
	if (strcmp(req->operation, "CREATE") != 0 && strcmp(req->operation, "UPDATE") != 0)
		return review_allowed(req->uid);
	struct coilapi_egress egress;
	json_t *defaulted, *resp = NULL;
	if (decode_egress(req, "object", &defaulted, &egress, &resp) < 0)
		return resp;
	struct field_errors errs = {0};
	if (egress_validate(&egress, &errs) < 0)
		resp = NULL;
	else if (errs.n == 0)
		resp = review_allowed(req->uid);
	else
		resp = review_denied(req->uid,
				     field_errors_status(&errs, COILAPI_KIND_EGRESS, egress.name));
	field_errors_free(&errs);
	coilapi_egress_clear(&egress);
	json_decref(defaulted);
	return resp;
}

json_t *egress_review(enum webhook_kind kind, const struct review_request *req)
{
	return kind == WEBHOOK_EGRESS_MUTATE ? mutate(req) : validate(req);
}
