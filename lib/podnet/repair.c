/* Putting back a node address that something else removed from a host veth (another agent
 * doing so was upstream #350: pods then lose their gateway). */
#include "podnet_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

/* Whether link ifindex carries address ip. */
static int has_address(struct nl_sock *s, int ifindex, const struct nl_ip *ip, char *err,
		       size_t errlen)
{
	struct nl_addr *addrs = NULL;
	size_t n = 0;
	int rc = nl_addr_list(s, ip->family, ifindex, &addrs, &n, err, errlen);
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (nl_ip_equal(&addrs[i].local.ip, ip))
			rc = 1;
	free(addrs);
	return rc;
}

int podnet_restore_node_address(struct podnet *pn, int ifindex, int family, char *err,
				size_t errlen)
{
	const struct nl_ip *ip = family == AF_INET ? &pn->cfg.node_ipv4 : &pn->cfg.node_ipv6;
	if (!ip->family)
		return 0;
	struct nl_sock s;
	struct nl_link link;
	struct podnet_entry owner;
	int rc = nl_sock_open(&s, err, errlen);
	if (rc < 0)
		return rc;
	rc = nl_link_get_by_index(&s, ifindex, &link, err, errlen);
	bool ours = rc == 0 && podnet_alias_parse(link.alias, &owner) == 0;
	if (rc == -ENODEV)
		rc = 0; /* gone with its pod: nothing to restore */
	if (ours)
		rc = has_address(&s, ifindex, ip, err, errlen);
	if (ours && rc == 0) {
		rc = podnet_add_host_addr(&s, ifindex, ip, err, errlen);
		rc = rc == 0 ? 1 : (rc == -EEXIST || rc == -ENODEV) ? 0 : rc;
	} else if (rc == 1) {
		rc = 0; /* still there */
	}
	nl_sock_close(&s);
	return rc;
}
