/* Readers of BlockRequest, AddressBlock, Node, Namespace and AddressPool objects. */
#include "kubesource/parse.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coilapi/coilapi.h"
#include "err/err.h"
#include "kube/kube.h"

/* Copies text (NULL reads as "") into dst; false (dst emptied) when it does not fit. */
static bool copy_text(char *dst, size_t len, const char *text)
{
	dst[0] = '\0';
	if (!text)
		return true;
	if (strlen(text) >= len)
		return false;
	memcpy(dst, text, strlen(text) + 1);
	return true;
}

int request_result_parse(const json_t *obj, struct request_result *out)
{
	struct coilapi_request req;
	const struct coilapi_condition *failed;
	memset(out, 0, sizeof(*out));
	if (coilapi_request_decode(obj, &req, NULL, 0) < 0)
		return -EINVAL;
	bool ok = copy_text(out->uid, sizeof(out->uid), req.uid) && out->uid[0];
	copy_text(out->node, sizeof(out->node), req.node_name);
	copy_text(out->pool, sizeof(out->pool), req.pool_name);
	out->n_conditions = req.n_conditions;
	out->state = (enum request_state)coilapi_request_state(&req, &failed);
	if (failed) {
		copy_text(out->reason, sizeof(out->reason), failed->reason);
		copy_text(out->message, sizeof(out->message), failed->message);
	}
	copy_text(out->block, sizeof(out->block), req.block_name);
	coilapi_request_clear(&req);
	return ok ? 0 : -EINVAL;
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

/* Canonical text of a block CIDR, "" when absent. -EINVAL when present but bad. */
static int block_cidr(const char *text, enum ip_family family, char *out)
{
	struct ip_prefix p;
	out[0] = '\0';
	if (!text)
		return 0;
	if (ip_prefix_parse(text, true, &p) < 0 || p.addr.family != family)
		return -EINVAL;
	char buf[IP_CIDR_STRLEN];
	ip_prefix_format(&p, buf);
	snprintf(out, NODE_CIDR_MAX, "%s", buf);
	return 0;
}

int block_parse(const json_t *obj, struct node_block *out, char *err, size_t errlen)
{
	struct coilapi_block b;
	char why[256];
	memset(out, 0, sizeof(*out));
	if (coilapi_block_decode(obj, &b, why, sizeof(why)) < 0) {
		const char *name = json_string_value(kube_json_path(obj, "metadata.name"));
		return errorf(err, errlen, -EINVAL, "AddressBlock %s: %s",
			      name ? name : "(unnamed)", why);
	}
	if (!b.name[0] || !copy_text(out->name, sizeof(out->name), b.name))
		return errorf(err, errlen, -EINVAL, "AddressBlock without a usable name");
	out->index = b.index;
	bool named = b.pool && *b.pool && copy_text(out->pool, sizeof(out->pool), b.pool);
	if (!named && !pool_from_name(out->name, out->index, out->pool, sizeof(out->pool)))
		return errorf(err, errlen, -EINVAL, "AddressBlock %s: no pool label", out->name);
	if (block_cidr(b.ipv4, IP_FAMILY_V4, out->ipv4) < 0 ||
	    block_cidr(b.ipv6, IP_FAMILY_V6, out->ipv6) < 0)
		return errorf(err, errlen, -EINVAL, "AddressBlock %s: bad ipv4 or ipv6 CIDR",
			      out->name);
	if (!out->ipv4[0] && !out->ipv6[0])
		return errorf(err, errlen, -EINVAL, "AddressBlock %s: neither ipv4 nor ipv6",
			      out->name);
	out->reserved = b.reserved;
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
	const json_t *value = json_object_get(annotations, COILAPI_ANNOTATION_POOL);
	const char *chosen =
	    json_is_string(value) ? json_string_value(value) : COILAPI_DEFAULT_POOL;
	if ((size_t)snprintf(pool, poollen, "%s", chosen) >= poollen)
		return -ENAMETOOLONG;
	return 0;
}

bool pool_usable(const json_t *pool)
{
	const json_t *ts = kube_json_path(pool, "metadata.deletionTimestamp");
	return json_is_object(pool) && (!ts || json_is_null(ts));
}
