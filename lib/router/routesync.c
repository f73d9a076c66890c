/* Main-table routes of one protocol made equal to a set of (gateway, destination) pairs. */
#include "router/router.h"

#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "log/log.h"

static bool same_key(const struct router_route *r, const struct nl_ip *gateway,
		     const struct nl_prefix *dst)
{
	return nl_ip_equal(&r->gateway, gateway) && nl_prefix_equal(&r->dst, dst);
}

static bool in_want(const struct router_route *want, size_t n, const struct nl_ip *gateway,
		    const struct nl_prefix *dst)
{
	for (size_t i = 0; i < n; i++)
		if (same_key(&want[i], gateway, dst))
			return true;
	return false;
}

static bool in_have(const struct nl_route *have, size_t nhave, const struct router_route *r)
{
	for (size_t i = 0; i < nhave; i++)
		if (have[i].dst.ip.family && same_key(r, &have[i].gateway, &have[i].dst))
			return true;
	return false;
}

/* Deletes our routes that are not wanted and marks them gone (family 0). Deleting before
 * adding lets a destination move to another gateway (IPv4 refuses a second route to it). */
static int delete_unwanted(struct nl_sock *s, struct nl_route *have, size_t nhave,
			   const struct router_route *want, size_t n, char *err, size_t errlen)
{
	for (size_t i = 0; i < nhave; i++) {
		if (in_want(want, n, &have[i].gateway, &have[i].dst))
			continue;
		int rc = nl_route_del(s, &have[i], err, errlen);
		if (rc < 0)
			return rc;
		char dst[NL_PREFIX_STRLEN], gw[NL_IP_STRLEN];
		log_info("deleted", "dst", nl_prefix_format(&have[i].dst, dst, sizeof(dst)),
			 "gateway", nl_ip_format(&have[i].gateway, gw, sizeof(gw)));
		have[i].dst.ip.family = 0;
	}
	return 0;
}

static int add_missing(struct nl_sock *s, unsigned char protocol, const struct nl_route *have,
		       size_t nhave, const struct router_route *want, size_t n, char *err,
		       size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		/* Skip routes already there and duplicates within want. */
		if (in_have(have, nhave, &want[i]) ||
		    in_want(want, i, &want[i].gateway, &want[i].dst))
			continue;
		struct nl_route r = {.dst = want[i].dst,
				     .gateway = want[i].gateway,
				     .table = RT_TABLE_MAIN,
				     .protocol = protocol,
				     .scope = RT_SCOPE_UNIVERSE,
				     .type = RTN_UNICAST};
		int rc = nl_route_add(s, &r, err, errlen);
		if (rc < 0)
			return rc;
		char dst[NL_PREFIX_STRLEN], gw[NL_IP_STRLEN];
		log_info("added", "dst", nl_prefix_format(&r.dst, dst, sizeof(dst)), "gateway",
			 nl_ip_format(&r.gateway, gw, sizeof(gw)));
	}
	return 0;
}

int router_sync_routes(struct nl_sock *s, unsigned char protocol, const struct router_route *want,
		       size_t n, char *err, size_t errlen)
{
	struct router_route *masked = calloc(n ? n : 1, sizeof(*masked));
	struct nl_route_filter f = {
	    .family = AF_UNSPEC, .table = RT_TABLE_MAIN, .protocol = protocol};
	struct nl_route *have = NULL;
	size_t nhave = 0;
	if (!masked) {
		snprintf(err, errlen, "sync routes of protocol %u: out of memory", protocol);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		masked[i] = want[i];
		nl_prefix_mask(&masked[i].dst);
	}
	int rc = nl_route_list(s, &f, &have, &nhave, err, errlen);
	if (rc == 0)
		rc = delete_unwanted(s, have, nhave, masked, n, err, errlen);
	if (rc == 0)
		rc = add_missing(s, protocol, have, nhave, masked, n, err, errlen);
	free(have);
	free(masked);
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
