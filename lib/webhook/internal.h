/* Internals of lib/webhook shared between its files; not a public API. */
#ifndef COIL_WEBHOOK_INTERNAL_H
#define COIL_WEBHOOK_INTERNAL_H

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

/* ---- the AddressPool object as the webhooks decode it ------------------ */

struct pool_object {
	const char *name;	    /* metadata.name or ""; borrowed from the JSON */
	int block_bits;		    /* spec.blockSizeBits, 0 when absent */
	struct subnet_set *subnets; /* owned array; its strings borrowed from the JSON */
	size_t n_subnets;
};

/* Decodes obj like Go's json.Unmarshal into an AddressPool would: wrong types
 * or an out-of-int32 blockSizeBits are -EINVAL with the path in err. The
 * strings stay owned by obj, which must outlive *out. */
int pool_object_decode(const json_t *obj, struct pool_object *out, char *err, size_t errlen);
void pool_object_clear(struct pool_object *pool);

/* CREATE: every subnet set validates against blockSizeBits. UPDATE: blockSizeBits and the
 * existing subnets are unchangeable, the list unshrinkable, appended sets validate. Both
 * append to errs; return 0 or -ENOMEM. */
int pool_validate_create(const struct pool_object *pool, struct field_errors *errs);
int pool_validate_update(const struct pool_object *old_pool, const struct pool_object *new_pool,
			 struct field_errors *errs);

/* The JSONPatch (array) that adds WEBHOOK_POOL_FINALIZER to obj's
 * metadata.finalizers: *patch = NULL when already present. -EINVAL when
 * metadata or finalizers have the wrong type, -ENOMEM. Caller decrefs. */
int pool_finalizer_patch(const json_t *obj, json_t **patch, char *err, size_t errlen);

/* ---- helpers ------------------------------------------------------------ */

#endif
