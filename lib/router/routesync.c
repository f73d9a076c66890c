/* Main-table routes of one protocol made equal to a set of (gateway, destination) pairs. */
#include "router/router.h"

#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "err/err.h"
#include "log/log.h"

/* Logs each change as upstream's router does. */
static void log_change(void *arg, const char *what, const struct nl_route *r)
{
	char dst[NL_PREFIX_STRLEN], gw[NL_IP_STRLEN];
	(void)arg;
	log_info(what, "dst", nl_prefix_format(&r->dst, dst, sizeof(dst)), "gateway",
		 nl_ip_format(&r->gateway, gw, sizeof(gw)));
}

int router_sync_routes(struct nl_sock *s, unsigned char protocol, const struct router_route *want,
		       size_t n, char *err, size_t errlen)
{
	struct nl_route_set set = {.table = RT_TABLE_MAIN,
				   .protocol = protocol,
				   .own_protocol_only = true,
				   .changed = log_change};
	struct nl_route *routes = calloc(n ? n : 1, sizeof(*routes));
	if (!routes)
		return errorf(err, errlen, -ENOMEM, "sync routes of protocol %u: out of memory",
			      protocol);
	for (size_t i = 0; i < n; i++)
		routes[i] = (struct nl_route){.dst = want[i].dst, .gateway = want[i].gateway};
	int rc = nl_route_sync_set(s, &set, routes, n, err, errlen);
	free(routes);
	return rc;
}

int router_kernel_sync(void *arg, const struct router_route *routes, size_t n, char *err,
		       size_t errlen)
{
	const struct router_kernel_syncer *k = arg;
	struct nl_sock s = {0};
	char count[24];
	snprintf(count, sizeof(count), "%zu", n);
	log_info("synchronizing the main routing table", "routes", count);
	int rc = nl_sock_open(&s, err, errlen);
	if (rc == 0)
		rc = router_sync_routes(&s, k->protocol, routes, n, err, errlen);
	nl_sock_close(&s);
	return rc;
}
