/* Reading and validating the two kinds the manifest keeps: AddressPool (decoded by
 * lib/coilapi as the CRD schema has it, then every subnet checked as the CREATE webhook
 * does) and Namespace (for the pool annotation); see docs/behaviour/standalone.md. */
#include "standalone/manifest_reader.h"
#include "coilapi/coilapi.h"
#include "ipam/ipam.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Block names are "<pool>-<index>" with index up to 2147483647 (10 digits) and
 * must stay Kubernetes names (253 characters). */
#define POOL_NAME_MAX_LEN      (253 - 11)
#define NAMESPACE_NAME_MAX_LEN 63

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* RFC 1123 subdomain (dots allowed) or label (no dots), as Kubernetes checks
 * object names. */
static bool is_rfc1123_name(const char *s, size_t max_len, bool dots)
{
	size_t len = strlen(s);
	if (len == 0 || len > max_len || !is_lower_alnum(s[0]) || !is_lower_alnum(s[len - 1]))
		return false;
	for (const char *p = s; *p; p++) {
		if (!is_lower_alnum(*p) && *p != '-' && !(dots && *p == '.'))
			return false;
	}
	return true;
}

/* metadata.name, required and a Kubernetes object name. */
static int read_name(struct manifest_reader *r, const json_t *obj, size_t max_len, bool dots,
		     const char **name)
{
	const json_t *metadata = json_object_get(obj, "metadata");
	if (!metadata || json_is_null(metadata))
		return reader_fail(r, "metadata: Required value");
	if (!json_is_object(metadata))
		return reader_fail(r, "metadata: must be an object");
	int ret = reader_string(r, metadata, "name", "metadata.name", true, name);
	if (ret < 0)
		return ret;
	if (!is_rfc1123_name(*name, max_len, dots))
		return reader_fail(r,
				   "metadata.name: Invalid value: \"%.300s\": must be a lowercase "
				   "RFC 1123 %s of at most %zu characters",
				   *name, dots ? "subdomain" : "label", max_len);
	return 0;
}

static void free_pool(struct standalone_pool *p)
{
	for (size_t i = 0; i < p->nsubnets; i++) {
		free(p->subnets[i].ipv4);
		free(p->subnets[i].ipv6);
	}
	free(p->subnets);
	free(p->name);
}

/* The array (of *cap elements of `size` bytes) grown to hold n + 1 elements:
 * the same or a moved array, or NULL when out of memory (array untouched). */
static void *grow(void *array, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return array;
	size_t want = *cap ? *cap * 2 : 4;
	void *grown = reallocarray(array, want, size);
	if (grown)
		*cap = want;
	return grown;
}

static int copy_text(const char *text, char **out)
{
	*out = NULL;
	if (!text)
		return 0;
	*out = strdup(text);
	return *out ? 0 : -ENOMEM;
}

/* The decoded pool copied into p, each subnet validated for the pool's block size. A pool
 * without spec is schema-valid, but could never give a block: surely a mistake in a
 * hand-written manifest. */
static int copy_pool(struct manifest_reader *r, const struct coilapi_pool *pool,
		     struct standalone_pool *p)
{
	if (!pool->has_spec)
		return reader_fail(r, "spec.subnets: Required value");
	p->blocksize_bits = pool->block_bits;
	p->subnets = calloc(pool->n_subnets, sizeof(*p->subnets));
	if (!p->subnets)
		return reader_oom(r);
	for (size_t i = 0; i < pool->n_subnets; i++) {
		char why[256];
		p->nsubnets = i + 1;
		if (subnet_set_validate(&pool->subnets[i], pool->block_bits, why, sizeof(why)) < 0)
			return reader_fail(r, "spec.subnets[%zu]: Invalid value: \"\": %s", i, why);
		if (copy_text(pool->subnets[i].ipv4, &p->subnets[i].ipv4) < 0 ||
		    copy_text(pool->subnets[i].ipv6, &p->subnets[i].ipv6) < 0)
			return reader_oom(r);
	}
	return 0;
}

static int read_pool_spec(struct manifest_reader *r, const json_t *obj, struct standalone_pool *p)
{
	struct coilapi_pool pool;
	char why[256];
	if (coilapi_pool_decode(obj, &pool, why, sizeof(why)) < 0)
		return reader_fail(r, "%s", why);
	int ret = copy_pool(r, &pool, p);
	coilapi_pool_clear(&pool);
	return ret;
}

int read_address_pool(struct manifest_reader *r, const json_t *obj)
{
	const char *name;
	int ret = read_name(r, obj, POOL_NAME_MAX_LEN, true, &name);
	if (ret < 0)
		return ret;
	if (standalone_manifest_pool(r->m, name))
		return reader_fail(r, "metadata.name: Duplicate value: AddressPool \"%s\"", name);

	struct standalone_pool p = {0};
	ret = read_pool_spec(r, obj, &p);
	if (ret == 0 && copy_text(name, &p.name) < 0)
		ret = reader_oom(r);
	struct standalone_pool *pools = NULL;
	if (ret == 0) {
		pools = grow(r->m->pools, &r->pools_cap, r->m->npools, sizeof(*pools));
		if (!pools)
			ret = reader_oom(r);
	}
	if (ret < 0) {
		free_pool(&p);
		return ret;
	}
	r->m->pools = pools;
	r->m->pools[r->m->npools++] = p;
	return 0;
}

static bool has_namespace(const struct standalone_manifest *m, const char *name)
{
	for (size_t i = 0; i < m->nnamespaces; i++) {
		if (strcmp(m->namespaces[i].name, name) == 0)
			return true;
	}
	return false;
}

/* The pool annotation, verbatim; a null value is the empty string like Go's
 * decoding of map[string]string gives. *out is NULL when the key is absent. */
static int read_pool_annotation(struct manifest_reader *r, const json_t *obj, const char **out)
{
	*out = NULL;
	const json_t *annotations =
	    json_object_get(json_object_get(obj, "metadata"), "annotations");
	if (!annotations || json_is_null(annotations))
		return 0;
	if (!json_is_object(annotations))
		return reader_fail(r, "metadata.annotations: must be an object");
	const char *path = "metadata.annotations[" COILAPI_ANNOTATION_POOL "]";
	const json_t *value = json_object_get(annotations, COILAPI_ANNOTATION_POOL);
	if (value && json_is_null(value)) {
		*out = "";
		return 0;
	}
	return reader_string(r, annotations, COILAPI_ANNOTATION_POOL, path, false, out);
}

int read_namespace(struct manifest_reader *r, const json_t *obj)
{
	const char *name, *pool;
	int ret = read_name(r, obj, NAMESPACE_NAME_MAX_LEN, false, &name);
	if (ret == 0)
		ret = read_pool_annotation(r, obj, &pool);
	if (ret < 0)
		return ret;
	if (has_namespace(r->m, name))
		return reader_fail(r, "metadata.name: Duplicate value: Namespace \"%s\"", name);

	struct standalone_namespace ns = {0};
	struct standalone_namespace *all = NULL;
	if (copy_text(name, &ns.name) == 0 && copy_text(pool, &ns.pool) == 0)
		all = grow(r->m->namespaces, &r->namespaces_cap, r->m->nnamespaces, sizeof(*all));
	if (!all) {
		free(ns.name);
		free(ns.pool);
		return reader_oom(r);
	}
	r->m->namespaces = all;
	r->m->namespaces[r->m->nnamespaces++] = ns;
	return 0;
}
