/* The AddressPool object as the webhooks see it: decoding, the create
 * and update rules, and the finalizer patch of the mutating webhook (see
 * docs/behaviour/ipam-controller.md, 'Admission webhooks'). */
#include "internal.h"
#include "webhook.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A member that is absent or JSON null decodes to Go's zero value. */
static const json_t *member(const json_t *obj, const char *key)
{
	const json_t *value = json_object_get(obj, key);
	return json_is_null(value) ? NULL : value;
}

static int decode_subnet(const json_t *item, size_t index, struct subnet_set *out, char *err,
			 size_t errlen)
{
	*out = (struct subnet_set){0};
	if (!item || json_is_null(item))
		return 0;
	if (!json_is_object(item)) {
		snprintf(err, errlen, "spec.subnets[%zu]: expected an object", index);
		return -EINVAL;
	}
	const json_t *v4 = member(item, "ipv4"), *v6 = member(item, "ipv6");
	if ((v4 && !json_is_string(v4)) || (v6 && !json_is_string(v6))) {
		snprintf(err, errlen, "spec.subnets[%zu]: ipv4 and ipv6 must be strings", index);
		return -EINVAL;
	}
	out->ipv4 = v4 ? json_string_value(v4) : NULL;
	out->ipv6 = v6 ? json_string_value(v6) : NULL;
	return 0;
}

static int decode_spec(const json_t *spec, struct pool_object *out, char *err, size_t errlen)
{
	if (!json_is_object(spec)) {
		snprintf(err, errlen, "spec: expected an object");
		return -EINVAL;
	}
	const json_t *bits = member(spec, "blockSizeBits");
	if (bits) {
		json_int_t v = json_is_integer(bits) ? json_integer_value(bits) : INT64_MAX;
		if (v < INT32_MIN || v > INT32_MAX) {
			snprintf(err, errlen, "spec.blockSizeBits: expected an int32");
			return -EINVAL;
		}
		out->block_bits = (int)v;
	}
	const json_t *subnets = member(spec, "subnets");
	if (!subnets)
		return 0;
	if (!json_is_array(subnets)) {
		snprintf(err, errlen, "spec.subnets: expected an array");
		return -EINVAL;
	}
	size_t n = json_array_size(subnets);
	out->subnets = calloc(n ? n : 1, sizeof(*out->subnets));
	if (!out->subnets) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	out->n_subnets = n;
	for (size_t i = 0; i < n; i++) {
		int rc =
		    decode_subnet(json_array_get(subnets, i), i, &out->subnets[i], err, errlen);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int pool_object_decode(const json_t *obj, struct pool_object *out, char *err, size_t errlen)
{
	*out = (struct pool_object){.name = ""};
	if (!json_is_object(obj)) {
		snprintf(err, errlen, "the object is not a JSON object");
		return -EINVAL;
	}
	const json_t *meta = member(obj, "metadata");
	if (meta && !json_is_object(meta)) {
		snprintf(err, errlen, "metadata: expected an object");
		return -EINVAL;
	}
	const json_t *name = meta ? member(meta, "name") : NULL;
	if (name && !json_is_string(name)) {
		snprintf(err, errlen, "metadata.name: expected a string");
		return -EINVAL;
	}
	if (name)
		out->name = json_string_value(name);
	const json_t *spec = member(obj, "spec");
	int rc = spec ? decode_spec(spec, out, err, errlen) : 0;
	if (rc < 0)
		pool_object_clear(out);
	return rc;
}

void pool_object_clear(struct pool_object *pool)
{
	free(pool->subnets);
	pool->subnets = NULL;
	pool->n_subnets = 0;
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

int pool_validate_create(const struct pool_object *pool, struct field_errors *errs)
{
	for (size_t i = 0; i < pool->n_subnets; i++) {
		int rc = check_subnet(&pool->subnets[i], i, pool->block_bits, errs);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int pool_validate_update(const struct pool_object *old_pool, const struct pool_object *new_pool,
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
		if (strcmp(f, WEBHOOK_POOL_FINALIZER) == 0)
			return 0;
	}
	if (!meta)
		*patch =
		    add_op("/metadata", json_pack("{s:[s]}", "finalizers", WEBHOOK_POOL_FINALIZER));
	else if (!finalizers)
		*patch = add_op("/metadata/finalizers", json_pack("[s]", WEBHOOK_POOL_FINALIZER));
	else {
		char path[48];
		snprintf(path, sizeof(path), "/metadata/finalizers/%zu", n);
		*patch = add_op(path, json_string(WEBHOOK_POOL_FINALIZER));
	}
	if (!*patch) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}
