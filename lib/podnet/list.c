/* Startup discovery (docs/behaviour/daemon.md): pods from host link aliases, their addresses
 * from the pod table's routes. */
#include "podnet_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Sets e's addresses from the pod-table routes via its link (the last route wins). */
static void addresses_from_routes(struct podnet_entry *e, const struct nl_route *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (r[i].oif != e->host_ifindex)
			continue;
		if (r[i].dst.ip.family == AF_INET)
			e->ipv4 = r[i].dst.ip;
		else if (r[i].dst.ip.family == AF_INET6)
			e->ipv6 = r[i].dst.ip;
	}
}

static int build_list(const struct nl_link *links, size_t nlinks, const struct nl_route *routes,
		      size_t nroutes, struct podnet_entry **out, size_t *count)
{
	struct podnet_entry *entries = calloc(nlinks ? nlinks : 1, sizeof(*entries));
	size_t n = 0;
	if (!entries)
		return -ENOMEM;
	for (size_t i = 0; i < nlinks; i++) {
		struct podnet_entry *e = &entries[n];
		if (podnet_alias_parse(links[i].alias, e) < 0)
			continue;
		memcpy(e->host_veth, links[i].name, sizeof(e->host_veth));
		e->host_ifindex = links[i].index;
		addresses_from_routes(e, routes, nroutes);
		n++;
	}
	*out = entries;
	*count = n;
	return 0;
}

int podnet_list(struct podnet *pn, struct podnet_entry **out, size_t *count, char *err,
		size_t errlen)
{
	struct nl_sock s;
	struct nl_link *links = NULL;
	struct nl_route *routes = NULL;
	size_t nlinks = 0, nroutes = 0;
	struct nl_route_filter f = {.family = AF_UNSPEC, .table = pn->cfg.table};
	int rc = nl_sock_open(&s, err, errlen);
	if (rc < 0)
		return rc;
	rc = nl_link_list(&s, &links, &nlinks, err, errlen);
	if (rc == 0)
		rc = nl_route_list(&s, &f, &routes, &nroutes, err, errlen);
	if (rc == 0)
		rc = build_list(links, nlinks, routes, nroutes, out, count);
	free(links);
	free(routes);
	nl_sock_close(&s);
	return rc;
}
