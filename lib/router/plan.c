/* The desired routes of coil router: other nodes' blocks via their InternalIPs. */
#include "router/router.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "coilapi/coilapi.h"
#include "log/log.h"

static const unsigned char v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* ::ffff:a.b.c.d counts as IPv4, as Go's net.IP.To4 does. */
static void unmap_v4(struct nl_ip *ip)
{
	if (ip->family != AF_INET6 || memcmp(ip->bytes, v4_mapped_prefix, 12) != 0)
		return;
	unsigned char v4[4];
	memcpy(v4, ip->bytes + 12, 4);
	memset(ip->bytes, 0, sizeof(ip->bytes));
	memcpy(ip->bytes, v4, 4);
	ip->family = AF_INET;
}

void router_node_ips(const json_t *node, struct nl_ip *v4, struct nl_ip *v6)
{
	memset(v4, 0, sizeof(*v4));
	memset(v6, 0, sizeof(*v6));
	size_t i;
	json_t *addr;
	json_array_foreach(kube_json_path(node, "status.addresses"), i, addr)
	{
		const char *type = kube_json_string(addr, "type");
		const char *text = kube_json_string(addr, "address");
		struct nl_ip ip;
		if (!type || strcmp(type, "InternalIP") != 0 || !text || nl_ip_parse(text, &ip) < 0)
			continue;
		unmap_v4(&ip);
		*(ip.family == AF_INET ? v4 : v6) = ip;
	}
}

/* A node other than self with its addresses. */
struct peer {
	const char *name; /* borrowed from the Node object */
	struct nl_ip v4, v6;
};

/* A route while planning: the block name orders routes within a gateway. */
struct entry {
	struct router_route route;
	const char *block; /* borrowed from the AddressBlock object */
};

static const struct peer *find_peer(const struct peer *peers, size_t n, const char *name)
{
	for (size_t i = 0; name && i < n; i++)
		if (strcmp(peers[i].name, name) == 0)
			return &peers[i];
	return NULL;
}

static int compare_entries(const void *pa, const void *pb)
{
	const struct entry *a = pa, *b = pb;
	if (a->route.gateway.family != b->route.gateway.family)
		return a->route.gateway.family < b->route.gateway.family ? -1 : 1;
	int c = memcmp(a->route.gateway.bytes, b->route.gateway.bytes,
		       nl_family_addrlen(a->route.gateway.family));
	if (c != 0)
		return c;
	return strcmp(a->block, b->block);
}

/* Adds the route of one family of a block, if the block has it and the node can take it. */
static void plan_family(const struct coilapi_block *block, const struct peer *peer, int family,
			struct entry *entries, size_t *n)
{
	const char *field = family == AF_INET ? "ipv4" : "ipv6";
	const struct nl_ip *gw = family == AF_INET ? &peer->v4 : &peer->v6;
	const char *cidr = family == AF_INET ? block->ipv4 : block->ipv6;
	const char *name = block->name;
	struct nl_prefix dst;
	if (!cidr)
		return;
	if (!gw->family) {
		log_info(family == AF_INET ? "node has no IPv4 address"
					   : "node has no IPv6 address",
			 "node", peer->name);
		return;
	}
	if (nl_prefix_parse(cidr, &dst) < 0 || dst.ip.family != family) {
		log_warn("skipping an invalid block address", "block", name, field, cidr);
		return;
	}
	nl_prefix_mask(&dst);
	entries[(*n)++] = (struct entry){.route = {.gateway = *gw, .dst = dst}, .block = name};
}

static struct peer *collect_peers(const json_t *nodes, const char *self, size_t *n)
{
	struct peer *peers = calloc(json_array_size(nodes) + 1, sizeof(*peers));
	size_t i;
	json_t *node;
	*n = 0;
	if (!peers)
		return NULL;
	json_array_foreach(nodes, i, node)
	{
		const char *name = kube_obj_name(node);
		if (!name || strcmp(name, self) == 0)
			continue;
		peers[*n].name = name;
		router_node_ips(node, &peers[*n].v4, &peers[*n].v6);
		(*n)++;
	}
	return peers;
}

int router_plan_build(const json_t *nodes, const json_t *blocks, const char *self_node,
		      struct router_plan *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (!json_is_array(nodes) || !json_is_array(blocks)) {
		snprintf(err, errlen, "plan routes: nodes and blocks must be arrays");
		return -EINVAL;
	}
	size_t npeers, n = 0, i;
	struct peer *peers = collect_peers(nodes, self_node, &npeers);
	struct entry *entries = calloc(2 * json_array_size(blocks) + 1, sizeof(*entries));
	out->routes = calloc(2 * json_array_size(blocks) + 1, sizeof(*out->routes));
	if (!peers || !entries || !out->routes) {
		free(peers);
		free(entries);
		router_plan_free(out);
		snprintf(err, errlen, "plan routes: out of memory");
		return -ENOMEM;
	}
	json_t *obj;
	json_array_foreach(blocks, i, obj)
	{
		struct coilapi_block block;
		if (coilapi_block_decode(obj, &block, NULL, 0) < 0)
			continue; /* not an AddressBlock the API server would hold */
		const struct peer *peer = find_peer(peers, npeers, block.node);
		if (!peer) /* this node, or a node that is gone */
			continue;
		plan_family(&block, peer, AF_INET, entries, &n);
		plan_family(&block, peer, AF_INET6, entries, &n);
	}
	qsort(entries, n, sizeof(*entries), compare_entries);
	for (i = 0; i < n; i++)
		out->routes[i] = entries[i].route;
	out->n = n;
	free(entries);
	free(peers);
	return 0;
}

void router_plan_free(struct router_plan *plan)
{
	free(plan->routes);
	plan->routes = NULL;
	plan->n = 0;
}
