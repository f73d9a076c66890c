/* The AdmissionReview envelope: checks the request, dispatches to the
 * AddressPool rules and wraps the answer (admission.k8s.io v1 and v1beta1
 * share the same JSON shape). */
#include "internal.h"
#include "base64/base64.h"
#include "webhook.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The parts of request the webhooks use; all borrowed from the review. */
struct review_request {
	const char *api_version;
	const char *uid;
	const char *operation;
	const json_t *request;
};

static int parse_review(const json_t *review, struct review_request *out, char *err, size_t errlen)
{
	if (!json_is_object(review)) {
		snprintf(err, errlen, "AdmissionReview: expected a JSON object");
		return -EINVAL;
	}
	const char *api_version = json_string_value(json_object_get(review, "apiVersion"));
	if (!api_version || (strcmp(api_version, "admission.k8s.io/v1") != 0 &&
			     strcmp(api_version, "admission.k8s.io/v1beta1") != 0)) {
		snprintf(err, errlen, "AdmissionReview: unsupported apiVersion %s%s%s",
			 api_version ? "\"" : "", api_version ? api_version : "(missing)",
			 api_version ? "\"" : "");
		return -EINVAL;
	}
	const char *kind = json_string_value(json_object_get(review, "kind"));
	if (!kind || strcmp(kind, "AdmissionReview") != 0) {
		snprintf(err, errlen, "AdmissionReview: kind must be \"AdmissionReview\"");
		return -EINVAL;
	}
	const json_t *request = json_object_get(review, "request");
	if (!json_is_object(request)) {
		snprintf(err, errlen, "AdmissionReview: request is missing or not an object");
		return -EINVAL;
	}
	const char *uid = json_string_value(json_object_get(request, "uid"));
	if (!uid || !uid[0]) {
		snprintf(err, errlen, "AdmissionReview: request.uid is missing");
		return -EINVAL;
	}
	const char *operation = json_string_value(json_object_get(request, "operation"));
	if (!operation || !operation[0]) {
		snprintf(err, errlen, "AdmissionReview: request.operation is missing");
		return -EINVAL;
	}
	*out = (struct review_request){api_version, uid, operation, request};
	return 0;
}

/* Whether request.kind names coil.cybozu.com/v2 AddressPool; else why not. */
static bool is_address_pool(const json_t *request, char *err, size_t errlen)
{
	const json_t *gvk = json_object_get(request, "kind");
	const char *group = json_string_value(json_object_get(gvk, "group"));
	const char *version = json_string_value(json_object_get(gvk, "version"));
	const char *kind = json_string_value(json_object_get(gvk, "kind"));
	if (group && version && kind && strcmp(group, COILAPI_GROUP) == 0 &&
	    strcmp(version, COILAPI_VERSION) == 0 && strcmp(kind, COILAPI_KIND_ADDRESSPOOL) == 0)
		return true;
	snprintf(err, errlen,
		 "this webhook handles " COILAPI_API_VERSION " AddressPool, not %s/%s %s",
		 group ? group : "?", version ? version : "?", kind ? kind : "?");
	return false;
}

static json_t *allowed(const char *uid)
{
	return json_pack("{s:s, s:b, s:{s:i}}", "uid", uid, "allowed", 1, "status", "code", 200);
}

/* Allowed with patch (a JSONPatch array) serialized and base64-encoded. */
static json_t *allowed_patch(const char *uid, const json_t *patch)
{
	char *text = json_dumps(patch, JSON_COMPACT);
	char *b64 = text ? base64_encode(text, strlen(text)) : NULL;
	json_t *resp =
	    b64 ? json_pack("{s:s, s:b, s:s, s:s, s:{s:i}}", "uid", uid, "allowed", 1, "patchType",
			    "JSONPatch", "patch", b64, "status", "code", 200)
		: NULL;
	free(text);
	free(b64);
	return resp;
}

static json_t *denied(const char *uid, json_t *status_stolen)
{
	return json_pack("{s:s, s:b, s:o}", "uid", uid, "allowed", 0, "status", status_stolen);
}

/* controller-runtime's Errored(code, err): a denial whose result carries the
 * HTTP-like code and the message. */
static json_t *errored(const char *uid, int code, const char *message)
{
	return json_pack("{s:s, s:b, s:{s:i, s:s}}", "uid", uid, "allowed", 0, "status", "code",
			 code, "message", message);
}

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
	*resp = errored(req->uid, 400, message);
	return -EINVAL;
}

static json_t *mutate(const struct review_request *req)
{
	if (strcmp(req->operation, "DELETE") == 0)
		return allowed(req->uid);
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
		return errored(req->uid, 400, message);
	}
	resp = patch ? allowed_patch(req->uid, patch) : allowed(req->uid);
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
		resp = allowed(req->uid);
	else
		resp = denied(req->uid, field_errors_status(&errs, new_pool->name));
	field_errors_free(&errs);
	return resp;
}

static json_t *validate(const struct review_request *req)
{
	bool create = strcmp(req->operation, "CREATE") == 0;
	bool update = strcmp(req->operation, "UPDATE") == 0;
	if (!create && !update)
		return allowed(req->uid);
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

json_t *webhook_review(enum webhook_kind kind, const json_t *review, char *err, size_t errlen)
{
	struct review_request req;
	if (parse_review(review, &req, err, errlen) < 0)
		return NULL;
	char why[256];
	json_t *resp;
	if (!is_address_pool(req.request, why, sizeof(why)))
		resp = errored(req.uid, 400, why);
	else
		resp = kind == WEBHOOK_MUTATE ? mutate(&req) : validate(&req);
	json_t *out = resp ? json_pack("{s:s, s:s, s:o}", "apiVersion", req.api_version, "kind",
				       "AdmissionReview", "response", resp)
			   : NULL;
	if (!out)
		snprintf(err, errlen, "out of memory answering AdmissionReview %s", req.uid);
	return out;
}
