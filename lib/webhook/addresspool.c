/* The AddressPool rules of the webhooks: on CREATE every subnet must validate for the pool's
 * block size; on UPDATE blockSizeBits is unchangeable, subnets may only be appended (each
 * appended one validated) and existing ones must stay byte-identical. And the finalizer patch
 * of the mutating webhook (see docs/behaviour/ipam-controller.md, 'Admission webhooks'). */
#include "internal.h"
#include "webhook.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A member that is absent or JSON null reads as absent. */
static const json_t *member(const json_t *obj, const char *key)
{
	const json_t *value = json_object_get(obj, key);
	return json_is_null(value) ? NULL : value;
}

/* Drops a trailing partial UTF-8 sequence left by snprintf truncation, so the
 * text stays valid for JSON. */
static void utf8_trim(char *text)
{
	size_t len = strlen(text), start = len;
	while (start > 0 && ((unsigned char)text[start - 1] & 0xC0) == 0x80)
		start--;
	if (start == 0)
		return;
	unsigned char lead = (unsigned char)text[start - 1];
	size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
	if (len - (start - 1) < need)
		text[start - 1] = '\0';
}

/* Appends an Invalid error at spec.subnets[index] if the subnet does not
 * validate for block_bits. */
static int check_subnet(const struct subnet_set *set, size_t index, int block_bits,
			struct field_errors *errs)
{
	char detail[512] = "";
	if (subnet_set_validate(set, block_bits, detail, sizeof(detail)) == 0)
		return 0;
	utf8_trim(detail);
	char field[48];
	snprintf(field, sizeof(field), "spec.subnets[%zu]", index);
	return field_errors_add(errs, FIELD_INVALID, field, detail);
}

int pool_validate_create(const struct coilapi_pool *pool, struct field_errors *errs)
{
	for (size_t i = 0; i < pool->n_subnets; i++) {
		int rc = check_subnet(&pool->subnets[i], i, pool->block_bits, errs);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int pool_validate_update(const struct coilapi_pool *old_pool, const struct coilapi_pool *new_pool,
			 struct field_errors *errs)
{
	int rc = 0;
	if (old_pool->block_bits != new_pool->block_bits)
		rc = field_errors_add(errs, FIELD_FORBIDDEN, "spec.blockSizeBits", "unchangeable");
	if (rc < 0)
		return rc;
	if (old_pool->n_subnets > new_pool->n_subnets)
		return field_errors_add(errs, FIELD_FORBIDDEN, "spec.subnets", "unshrinkable");
	for (size_t i = 0; i < new_pool->n_subnets && rc == 0; i++) {
		if (i >= old_pool->n_subnets) {
			rc = check_subnet(&new_pool->subnets[i], i, new_pool->block_bits, errs);
		} else if (!subnet_set_equal(&new_pool->subnets[i], &old_pool->subnets[i])) {
			char field[48];
			snprintf(field, sizeof(field), "spec.subnets[%zu]", i);
			rc = field_errors_add(errs, FIELD_FORBIDDEN, field, "unchangeable");
		}
	}
	return rc;
}

static json_t *add_op(const char *path, json_t *value)
{
	return json_pack("[{s:s, s:s, s:o}]", "op", "add", "path", path, "value", value);
}

int pool_finalizer_patch(const json_t *obj, json_t **patch, char *err, size_t errlen)
{
	*patch = NULL;
	const json_t *meta = member(obj, "metadata");
	if (meta && !json_is_object(meta)) {
		snprintf(err, errlen, "metadata: expected an object");
		return -EINVAL;
	}
	const json_t *finalizers = meta ? member(meta, "finalizers") : NULL;
	if (finalizers && !json_is_array(finalizers)) {
		snprintf(err, errlen, "metadata.finalizers: expected an array");
		return -EINVAL;
	}
	size_t n = json_array_size(finalizers);
	for (size_t i = 0; i < n; i++) {
		const char *f = json_string_value(json_array_get(finalizers, i));
		if (!f) {
			snprintf(err, errlen, "metadata.finalizers[%zu]: expected a string", i);
			return -EINVAL;
		}
		if (strcmp(f, COILAPI_FINALIZER) == 0)
			return 0;
	}
	if (!meta)
		*patch = add_op("/metadata", json_pack("{s:[s]}", "finalizers", COILAPI_FINALIZER));
	else if (!finalizers)
		*patch = add_op("/metadata/finalizers", json_pack("[s]", COILAPI_FINALIZER));
	else {
		char path[48];
		snprintf(path, sizeof(path), "/metadata/finalizers/%zu", n);
		*patch = add_op(path, json_string(COILAPI_FINALIZER));
	}
	if (!*patch) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}
