/* Internals of lib/webhook shared between its files; not a public API. */
#ifndef COIL_WEBHOOK_INTERNAL_H
#define COIL_WEBHOOK_INTERNAL_H

#include "coilapi/coilapi.h"
#include "ipam/ipam.h"
#include "webhook.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* ---- field errors (k8s.io/apimachinery field.ErrorList) ---------------- */

enum field_error_type { FIELD_INVALID, FIELD_FORBIDDEN, FIELD_NOT_SUPPORTED };

struct field_error {
	enum field_error_type type;
	char *field;  /* e.g. "spec.subnets[0]"; owned */
	char *value;  /* the offending value as Go prints it (quoted string, number); owned */
	char *detail; /* owned */
};

struct field_errors {
	struct field_error *items; /* owned array */
	size_t n, cap;
};

/* Appends a copy of field and detail, reporting the value as "" (what the AddressPool rules
 * always report). Returns 0 or -ENOMEM. */
int field_errors_add(struct field_errors *errs, enum field_error_type type, const char *field,
		     const char *detail);
/* The same with the offending value: a string is quoted as Go's %q does, a number or any other
 * JSON value is written as compact JSON. value is borrowed. */
int field_errors_add_value(struct field_errors *errs, enum field_error_type type, const char *field,
			   const json_t *value, const char *detail);
void field_errors_free(struct field_errors *errs);

/* The API Status of apierrors.NewInvalid(<kind>.coil.cybozu.com, name, errs): code 422,
 * reason Invalid, details with one cause per error, and the message
 * `<kind>.coil.cybozu.com "<name>" is invalid: <errors>`. Returns a new reference or NULL on
 * allocation failure. */
json_t *field_errors_status(const struct field_errors *errs, const char *kind, const char *name);

/* ---- the AddressPool rules (objects decoded by lib/coilapi) ------------- */

/* CREATE: an Invalid error at spec.subnets[i] for each subnet that does not validate for the
 * pool's blockSizeBits. UPDATE: Forbidden "unchangeable" at spec.blockSizeBits when it
 * differs, Forbidden "unshrinkable" at spec.subnets when subnets were removed, else
 * Forbidden "unchangeable" at spec.subnets[i] for each changed one and Invalid for each
 * appended one that does not validate. Both append to errs; return 0 or -ENOMEM. */
int pool_validate_create(const struct coilapi_pool *pool, struct field_errors *errs);
int pool_validate_update(const struct coilapi_pool *old_pool, const struct coilapi_pool *new_pool,
			 struct field_errors *errs);

/* The JSONPatch (array) that adds COILAPI_FINALIZER to obj's
 * metadata.finalizers: *patch = NULL when already present. -EINVAL when
 * metadata or finalizers have the wrong type, -ENOMEM. Caller decrefs. */
int pool_finalizer_patch(const json_t *obj, json_t **patch, char *err, size_t errlen);

/* ---- the Egress rules ------------------------------------------------------ */

/* The validation of CREATE and UPDATE alike (an Egress has no unchangeable field): Invalid at
 * spec.destinations[i] for what is not a CIDR, NotSupported at spec.strategy.type, Invalid at
 * spec.template.metadata.labels / .annotations for bad keys and label values, and the PDB
 * rules at spec.podDisruptionBudget[.minAvailable|.maxUnavailable]. Appends to errs; returns
 * 0 or -ENOMEM. */
int egress_validate(const struct coilapi_egress *egress, struct field_errors *errs);

/* The defaulting of the mutating webhook on raw JSON (before decoding, since the decoder
 * requires what it adds): a template without containers gets [{name: "egress"}]. *patch is the
 * JSONPatch (array) or NULL when nothing is to change; *defaulted (may be NULL) gets a new
 * reference to the object with the patch applied. -EINVAL for wrongly typed template parts. */
int egress_default_patch(const json_t *obj, json_t **patch, json_t **defaulted, char *err,
			 size_t errlen);

/* ---- the AdmissionReview envelope ------------------------------------------ */

/* The parts of request the rules use; all borrowed from the review. */
struct review_request {
	const char *api_version;
	const char *uid;
	const char *operation;
	const json_t *request;
};

/* Responses (new references, NULL on allocation failure). */
json_t *review_allowed(const char *uid);
json_t *review_allowed_patch(const char *uid, const json_t *patch); /* JSONPatch array */
json_t *review_denied(const char *uid, json_t *status_stolen);
/* controller-runtime's Errored(code, err): a denial carrying the code and the message. */
json_t *review_errored(const char *uid, int code, const char *message);

/* One resource's rules: the answers of its mutating and validating webhooks. */
json_t *pool_review(enum webhook_kind kind, const struct review_request *req);
json_t *egress_review(enum webhook_kind kind, const struct review_request *req);

#endif
