/* Readers of BlockRequest, AddressBlock, Node, Namespace and AddressPool objects. */
#include "kubesource/parse.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kube.h"

/* Copies src into dst; false (dst emptied) when it does not fit or is not a string. */
static bool copy_string(char *dst, size_t len, const json_t *src)
{
	dst[0] = '\0';
	if (!json_is_string(src) || json_string_length(src) >= len)
		return false;
	memcpy(dst, json_string_value(src), json_string_length(src) + 1);
	return strlen(dst) == json_string_length(src); /* no embedded NUL */
}

static bool condition_is(const json_t *cond, const char *type)
{
	const char *t = json_string_value(json_object_get(cond, "type"));
	const char *s = json_string_value(json_object_get(cond, "status"));
	return t && s && strcmp(t, type) == 0 && strcmp(s, "True") == 0;
}

/* GetResult: the first Failed=True condition wins, else any Complete=True. */
static void evaluate_conditions(const json_t *conds, struct request_result *out)
{
	size_t i;
	json_t *c;
	bool complete = false;
	json_array_foreach(conds, i, c)
	{
		if (condition_is(c, "Failed")) {
			out->state = REQUEST_FAILED;
			copy_string(out->reason, sizeof(out->reason), json_object_get(c, "reason"));
			copy_string(out->message, sizeof(out->message),
				    json_object_get(c, "message"));
			return;
		}
		complete |= condition_is(c, "Complete");
	}
	out->state = complete ? REQUEST_COMPLETE : REQUEST_IN_PROGRESS;
}

int request_result_parse(const json_t *obj, struct request_result *out)
{
	memset(out, 0, sizeof(*out));
	if (!json_is_object(obj) ||
	    !copy_string(out->uid, sizeof(out->uid), kube_json_path(obj, "metadata.uid")) ||
	    !out->uid[0])
		return -EINVAL;
	copy_string(out->node, sizeof(out->node), kube_json_path(obj, "spec.nodeName"));
	copy_string(out->pool, sizeof(out->pool), kube_json_path(obj, "spec.poolName"));
	const json_t *conds = kube_json_path(obj, "status.conditions");
	out->n_conditions = json_is_array(conds) ? json_array_size(conds) : 0;
	evaluate_conditions(conds, out);
	copy_string(out->block, sizeof(out->block), kube_json_path(obj, "status.addressBlockName"));
	return 0;
}

/* "<pool>-<index>" → pool, when the name ends so. */
static bool pool_from_name(const char *name, uint32_t index, char *pool, size_t len)
{
	char suffix[16];
	snprintf(suffix, sizeof(suffix), "-%u", index);
	size_t n = strlen(name), s = strlen(suffix);
	if (n <= s || strcmp(name + n - s, suffix) != 0 || n - s >= len)
		return false;
	memcpy(pool, name, n - s);
	pool[n - s] = '\0';
	return true;
}

/* Canonical text of the CIDR at key, "" when absent. -EINVAL when present but bad. */
static int block_cidr(const json_t *obj, const char *key, enum ip_family family, char *out)
{
	const json_t *v = json_object_get(obj, key);
	struct ip_prefix p;
	out[0] = '\0';
	if (!v)
		return 0;
	const char *text = json_string_value(v);
	if (!text || ip_prefix_parse(text, true, &p) < 0 || p.addr.family != family)
		return -EINVAL;
	char buf[IP_CIDR_STRLEN];
	ip_prefix_format(&p, buf);
	snprintf(out, NODE_CIDR_MAX, "%s", buf);
	return 0;
}

int block_parse(const json_t *obj, struct node_block *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (!copy_string(out->name, sizeof(out->name), kube_json_path(obj, "metadata.name")) ||
	    !out->name[0]) {
		snprintf(err, errlen, "AddressBlock without a usable name");
		return -EINVAL;
	}
	const json_t *index = json_object_get(obj, "index");
	if (!json_is_integer(index) || json_integer_value(index) < 0 ||
	    json_integer_value(index) > INT32_MAX) {
		snprintf(err, errlen, "AddressBlock %s: bad index", out->name);
		return -EINVAL;
	}
	out->index = (uint32_t)json_integer_value(index);
	const char *pool = kube_obj_label(obj, KUBESOURCE_LABEL_POOL);
	bool named = pool && *pool && strlen(pool) < sizeof(out->pool);
	if (named)
		memcpy(out->pool, pool, strlen(pool) + 1);
	if (!named && !pool_from_name(out->name, out->index, out->pool, sizeof(out->pool))) {
		snprintf(err, errlen, "AddressBlock %s: no pool label", out->name);
		return -EINVAL;
	}
	if (block_cidr(obj, "ipv4", IP_FAMILY_V4, out->ipv4) < 0 ||
	    block_cidr(obj, "ipv6", IP_FAMILY_V6, out->ipv6) < 0) {
		snprintf(err, errlen, "AddressBlock %s: bad ipv4 or ipv6 CIDR", out->name);
		return -EINVAL;
	}
	if (!out->ipv4[0] && !out->ipv6[0]) {
		snprintf(err, errlen, "AddressBlock %s: neither ipv4 nor ipv6", out->name);
		return -EINVAL;
	}
	const char *reserved = kube_obj_label(obj, KUBESOURCE_LABEL_RESERVED);
	out->reserved = reserved && strcmp(reserved, "true") == 0;
	return 0;
}

/* Writes text canonically into v4 or v6 by its family (IPv4-mapped counts as IPv4). */
static void take_address(const char *text, char *v4, char *v6)
{
	struct in6_addr a6;
	struct in_addr a4;
	if (inet_pton(AF_INET, text, &a4) == 1) {
		inet_ntop(AF_INET, &a4, v4, IP_ADDR_STRLEN);
	} else if (inet_pton(AF_INET6, text, &a6) == 1) {
		if (IN6_IS_ADDR_V4MAPPED(&a6))
			inet_ntop(AF_INET, &a6.s6_addr[12], v4, IP_ADDR_STRLEN);
		else
			inet_ntop(AF_INET6, &a6, v6, IP_ADDR_STRLEN);
	}
}

void node_internal_ips(const json_t *node, char ipv4[static IP_ADDR_STRLEN],
		       char ipv6[static IP_ADDR_STRLEN])
{
	ipv4[0] = ipv6[0] = '\0';
	const json_t *addrs = kube_json_path(node, "status.addresses");
	size_t i;
	json_t *a;
	json_array_foreach(addrs, i, a)
	{
		const char *type = json_string_value(json_object_get(a, "type"));
		const char *text = json_string_value(json_object_get(a, "address"));
		if (type && text && strcmp(type, "InternalIP") == 0)
			take_address(text, ipv4, ipv6);
	}
}

int namespace_pool(const json_t *ns, char *pool, size_t poollen)
{
	const json_t *annotations = kube_json_path(ns, "metadata.annotations");
	const json_t *value = json_object_get(annotations, KUBESOURCE_POOL_ANNOTATION);
	const char *chosen =
	    json_is_string(value) ? json_string_value(value) : KUBESOURCE_DEFAULT_POOL;
	if ((size_t)snprintf(pool, poollen, "%s", chosen) >= poollen)
		return -ENAMETOOLONG;
	return 0;
}

bool pool_usable(const json_t *pool)
{
	const json_t *ts = kube_json_path(pool, "metadata.deletionTimestamp");
	return json_is_object(pool) && (!ts || json_is_null(ts));
}
