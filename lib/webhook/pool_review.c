/* The AddressPool webhooks: decode the review's objects and answer with the rules of
 * addresspool.c (finalizer patch; create and update validation). */
#include "internal.h"
#include "webhook.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Decodes request.<key> as an AddressPool; on failure *resp is the 400 answer. */
static int decode_pool(const struct review_request *req, const char *key, struct coilapi_pool *pool,
		       json_t **resp)
{
	char why[256], message[320];
	const json_t *obj = json_object_get(req->request, key);
	if (!obj || json_is_null(obj)) {
		*pool = (struct coilapi_pool){.name = ""}; /* nothing to clear */
		snprintf(why, sizeof(why), "there is no content to decode");
	} else if (coilapi_pool_decode(obj, pool, why, sizeof(why)) == 0) {
		return 0;
	}
	snprintf(message, sizeof(message), "request.%s: %s", key, why);
	*resp = review_errored(req->uid, 400, message);
	return -EINVAL;
}

static json_t *mutate(const struct review_request *req)
{
	if (strcmp(req->operation, "DELETE") == 0)
		return review_allowed(req->uid);
	struct coilapi_pool pool;
	json_t *resp = NULL;
	if (decode_pool(req, "object", &pool, &resp) < 0)
		return resp;
	coilapi_pool_clear(&pool);
	json_t *patch;
	char why[256], message[320];
	if (pool_finalizer_patch(json_object_get(req->request, "object"), &patch, why,
				 sizeof(why)) < 0) {
		snprintf(message, sizeof(message), "request.object: %s", why);
		return review_errored(req->uid, 400, message);
	}
	resp = patch ? review_allowed_patch(req->uid, patch) : review_allowed(req->uid);
	json_decref(patch);
	return resp;
}

/* Runs the create or update rules; the answer is allowed or a 422 denial. */
static json_t *judge(const struct review_request *req, const struct coilapi_pool *new_pool,
		     const struct coilapi_pool *old_pool)
{
	struct field_errors errs = {0};
	int rc = old_pool ? pool_validate_update(old_pool, new_pool, &errs)
			  : pool_validate_create(new_pool, &errs);
	json_t *resp = NULL;
	if (rc < 0)
		resp = NULL;
	else if (errs.n == 0)
		resp = review_allowed(req->uid);
	else
		resp = review_denied(
		    req->uid, field_errors_status(&errs, COILAPI_KIND_ADDRESSPOOL, new_pool->name));
	field_errors_free(&errs);
	return resp;
}

static json_t *validate(const struct review_request *req)
{
	bool create = strcmp(req->operation, "CREATE") == 0;
	bool update = strcmp(req->operation, "UPDATE") == 0;
	if (!create && !update)
		return review_allowed(req->uid);
	struct coilapi_pool new_pool, old_pool;
	json_t *resp = NULL;
	if (decode_pool(req, "object", &new_pool, &resp) < 0)
		return resp;
	if (update && decode_pool(req, "oldObject", &old_pool, &resp) < 0) {
		coilapi_pool_clear(&new_pool);
		return resp;
	}
	resp = judge(req, &new_pool, update ? &old_pool : NULL);
	coilapi_pool_clear(&new_pool);
	if (update)
		coilapi_pool_clear(&old_pool);
	return resp;
}

json_t *pool_review(enum webhook_kind kind, const struct review_request *req)
{
	return kind == WEBHOOK_POOL_MUTATE ? mutate(req) : validate(req);
}
