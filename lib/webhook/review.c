/* The AdmissionReview envelope: checks the request, dispatches to the rules of
 * the resource the webhook is for and wraps the answer (admission.k8s.io v1 and v1beta1
 * share the same JSON shape). */
#include "internal.h"
#include "base64/base64.h"
#include "webhook.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* The coil.cybozu.com/v2 kind each webhook answers for. */
static const char *kind_of(enum webhook_kind kind)
{
	return kind == WEBHOOK_EGRESS_MUTATE || kind == WEBHOOK_EGRESS_VALIDATE
		   ? COILAPI_KIND_EGRESS
		   : COILAPI_KIND_ADDRESSPOOL;
}

/* Whether request.kind names coil.cybozu.com/v2 <want>; else why not. */
static bool is_kind(const json_t *request, const char *want, char *err, size_t errlen)
{
	const json_t *gvk = json_object_get(request, "kind");
	const char *group = json_string_value(json_object_get(gvk, "group"));
	const char *version = json_string_value(json_object_get(gvk, "version"));
	const char *kind = json_string_value(json_object_get(gvk, "kind"));
	if (group && version && kind && strcmp(group, COILAPI_GROUP) == 0 &&
	    strcmp(version, COILAPI_VERSION) == 0 && strcmp(kind, want) == 0)
		return true;
	snprintf(err, errlen, "this webhook handles " COILAPI_API_VERSION " %s, not %s/%s %s", want,
		 group ? group : "?", version ? version : "?", kind ? kind : "?");
	return false;
}

const char *webhook_path(enum webhook_kind kind)
{
	switch (kind) {
	case WEBHOOK_POOL_MUTATE:
		return WEBHOOK_POOL_MUTATE_PATH;
	case WEBHOOK_POOL_VALIDATE:
		return WEBHOOK_POOL_VALIDATE_PATH;
	case WEBHOOK_EGRESS_MUTATE:
		return WEBHOOK_EGRESS_MUTATE_PATH;
	case WEBHOOK_EGRESS_VALIDATE:
		return WEBHOOK_EGRESS_VALIDATE_PATH;
	}
	return "";
}

json_t *review_allowed(const char *uid)
{
	return json_pack("{s:s, s:b, s:{s:i}}", "uid", uid, "allowed", 1, "status", "code", 200);
}

/* Allowed with patch (a JSONPatch array) serialized and base64-encoded. */
json_t *review_allowed_patch(const char *uid, const json_t *patch)
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

json_t *review_denied(const char *uid, json_t *status_stolen)
{
	return json_pack("{s:s, s:b, s:o}", "uid", uid, "allowed", 0, "status", status_stolen);
}

json_t *review_errored(const char *uid, int code, const char *message)
{
	return json_pack("{s:s, s:b, s:{s:i, s:s}}", "uid", uid, "allowed", 0, "status", "code",
			 code, "message", message);
}

json_t *webhook_review(enum webhook_kind kind, const json_t *review, char *err, size_t errlen)
{
	struct review_request req;
	if (parse_review(review, &req, err, errlen) < 0)
		return NULL;
	char why[256];
	json_t *resp;
	if (!is_kind(req.request, kind_of(kind), why, sizeof(why)))
		resp = review_errored(req.uid, 400, why);
	else if (kind == WEBHOOK_EGRESS_MUTATE || kind == WEBHOOK_EGRESS_VALIDATE)
		resp = egress_review(kind, &req);
	else
		resp = pool_review(kind, &req);
	json_t *out = resp ? json_pack("{s:s, s:s, s:o}", "apiVersion", req.api_version, "kind",
				       "AdmissionReview", "response", resp)
			   : NULL;
	if (!out)
		snprintf(err, errlen, "out of memory answering AdmissionReview %s", req.uid);
	return out;
}
