/* Internals of lib/webhook shared between its files; not a public API. */
#ifndef COIL_WEBHOOK_INTERNAL_H
#define COIL_WEBHOOK_INTERNAL_H

#include "coilapi/coilapi.h"
#include "ipam/ipam.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* ---- field errors (k8s.io/apimachinery field.ErrorList) ---------------- */

enum field_error_type { FIELD_INVALID, FIELD_FORBIDDEN };

struct field_error {
	enum field_error_type type;
	char *field;  /* e.g. "spec.subnets[0]"; owned */
	char *detail; /* owned */
};

struct field_errors {
	struct field_error *items; /* owned array */
	size_t n, cap;
};

/* Appends a copy of field and detail. Returns 0 or -ENOMEM. */
int field_errors_add(struct field_errors *errs, enum field_error_type type, const char *field,
		     const char *detail);
void field_errors_free(struct field_errors *errs);

/* The API Status of apierrors.NewInvalid(AddressPool.coil.cybozu.com, name,
 * errs): code 422, reason Invalid, details with one cause per error, and the
 * message `AddressPool.coil.cybozu.com "<name>" is invalid: <errors>`.
 * Returns a new reference or NULL on allocation failure. */
json_t *field_errors_status(const struct field_errors *errs, const char *name);

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

/* ---- helpers ------------------------------------------------------------ */

#endif
