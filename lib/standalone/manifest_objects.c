/* Reading and validating the two kinds the manifest keeps: AddressPool
 * (validated like the CRD schema plus the CREATE webhook) and Namespace (for the
 * pool annotation); see docs/behaviour/standalone.md. */
#include "standalone/manifest_reader.h"
#include "standalone/yaml_node.h"
#include "ipam/ipam.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_BLOCK_SIZE_BITS 5
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

static int read_name(struct manifest_reader *r, const yaml_node_t *obj, size_t max_len, bool dots,
		     const char **name)
{
	yaml_node_t *metadata;
	int ret = reader_mapping(r, obj, "metadata", "metadata", &metadata);
	if (ret < 0)
		return ret;
	if (!metadata)
		return reader_fail(r, "metadata: Required value");
	ret = reader_string(r, metadata, "name", "metadata.name", true, name);
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

/* spec.blockSizeBits: int32 >= 0, default 5 when absent or null. */
static int read_block_size_bits(struct manifest_reader *r, const yaml_node_t *spec, int *out)
{
	yaml_node_t *value;
	if (ymap_get(r->doc, spec, "blockSizeBits", &value) < 0)
		return reader_fail(r, "spec.blockSizeBits: duplicate key");
	*out = DEFAULT_BLOCK_SIZE_BITS;
	if (ynode_is_null(value))
		return 0;
	long long bits;
	if (yscalar_int(value, &bits) < 0 || bits > INT_MAX)
		return reader_fail(r, "spec.blockSizeBits: must be a 32-bit integer");
	if (bits < 0)
		return reader_fail(r,
				   "spec.blockSizeBits: Invalid value: %lld: must be greater than "
				   "or equal to 0",
				   bits);
	*out = (int)bits;
	return 0;
}

/* One element of spec.subnets, copied into *out and validated. A null element
 * is an empty subnet set, which validation rejects like upstream does. */
static int read_subnet(struct manifest_reader *r, const yaml_node_t *item, size_t i, int bits,
		       struct standalone_subnet *out)
{
	char path[64];
	const char *ipv4 = NULL, *ipv6 = NULL;
	if (!ynode_is_null(item)) {
		if (item->type != YAML_MAPPING_NODE)
			return reader_fail(r, "spec.subnets[%zu]: must be a mapping", i);
		snprintf(path, sizeof(path), "spec.subnets[%zu].ipv4", i);
		int ret = reader_string(r, item, "ipv4", path, false, &ipv4);
		snprintf(path, sizeof(path), "spec.subnets[%zu].ipv6", i);
		if (ret == 0)
			ret = reader_string(r, item, "ipv6", path, false, &ipv6);
		if (ret < 0)
			return ret;
	}
	struct subnet_set set = {.ipv4 = ipv4, .ipv6 = ipv6};
	char why[256];
	if (subnet_set_validate(&set, bits, why, sizeof(why)) < 0)
		return reader_fail(r, "spec.subnets[%zu]: Invalid value: \"\": %s", i, why);
	if (copy_text(ipv4, &out->ipv4) < 0 || copy_text(ipv6, &out->ipv6) < 0)
		return reader_oom(r);
	return 0;
}

/* spec.subnets into p (p->nsubnets counts the elements copied so far, so a
 * failure leaves p freeable). */
static int read_subnets(struct manifest_reader *r, const yaml_node_t *spec,
			struct standalone_pool *p)
{
	yaml_node_t *list;
	if (ymap_get(r->doc, spec, "subnets", &list) < 0)
		return reader_fail(r, "spec.subnets: duplicate key");
	if (ynode_is_null(list))
		return reader_fail(r, "spec.subnets: Required value");
	if (list->type != YAML_SEQUENCE_NODE)
		return reader_fail(r, "spec.subnets: must be a list");
	size_t n = (size_t)(list->data.sequence.items.top - list->data.sequence.items.start);
	if (n == 0)
		return reader_fail(r, "spec.subnets: must have at least 1 item");
	p->subnets = calloc(n, sizeof(*p->subnets));
	if (!p->subnets)
		return reader_oom(r);
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *item =
		    yaml_document_get_node(r->doc, list->data.sequence.items.start[i]);
		p->nsubnets = i + 1;
		int ret = read_subnet(r, item, i, p->blocksize_bits, &p->subnets[i]);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int read_pool_spec(struct manifest_reader *r, const yaml_node_t *obj,
			  struct standalone_pool *p)
{
	yaml_node_t *spec;
	int ret = reader_mapping(r, obj, "spec", "spec", &spec);
	if (ret < 0)
		return ret;
	/* The API server would accept a pool without spec, but it could never
	 * give a block: surely a mistake in a hand-written manifest. */
	if (!spec)
		return reader_fail(r, "spec.subnets: Required value");
	ret = read_block_size_bits(r, spec, &p->blocksize_bits);
	if (ret < 0)
		return ret;
	return read_subnets(r, spec, p);
}

int read_address_pool(struct manifest_reader *r, const yaml_node_t *obj)
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
static int read_pool_annotation(struct manifest_reader *r, const yaml_node_t *obj, const char **out)
{
	*out = NULL;
	yaml_node_t *metadata, *annotations, *value;
	int ret = reader_mapping(r, obj, "metadata", "metadata", &metadata);
	if (ret == 0)
		ret = reader_mapping(r, metadata, "annotations", "metadata.annotations",
				     &annotations);
	if (ret < 0 || !annotations)
		return ret;
	const char *path = "metadata.annotations[" STANDALONE_POOL_ANNOTATION "]";
	if (ymap_get(r->doc, annotations, STANDALONE_POOL_ANNOTATION, &value) < 0)
		return reader_fail(r, "%s: duplicate key", path);
	if (!value)
		return 0;
	if (ynode_is_null(value)) {
		*out = "";
		return 0;
	}
	if (yscalar_text(value, out) < 0)
		return reader_fail(r, "%s: must be a string", path);
	return 0;
}

int read_namespace(struct manifest_reader *r, const yaml_node_t *obj)
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
