/* The node's own address of a family, used on the host side of pod veths. */
#include "podnet/podnet.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

int podnet_node_address(const char *text, int family, bool probe, struct nl_ip *out, char *err,
			size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (text && *text) {
		if (nl_ip_parse(text, out) < 0 || out->family != family) {
			memset(out, 0, sizeof(*out));
			snprintf(err, errlen, "invalid node address: %s", text);
			return -EINVAL;
		}
		return 0;
	}
	if (!probe)
		return 0;
	/* Asking the kernel for a route to a documentation address sends nothing; the route's
	 * preferred source is the address traffic leaving this node would carry. A node
	 * without such a route simply has no address of this family. */
	struct nl_sock s = {0};
	struct nl_ip target;
	struct nl_route route;
	char why[256];
	nl_ip_parse(family == AF_INET ? "192.0.0.10" : "2001:db8::10", &target);
	if (nl_sock_open(&s, why, sizeof(why)) == 0 &&
	    nl_route_get(&s, &target, &route, why, sizeof(why)) == 0)
		*out = route.prefsrc;
	nl_sock_close(&s);
	return 0;
}
