/* MTU auto-detection (docs/behaviour/daemon.md, 'MTU'), done once at startup in the host netns. */
#include "podnet_internal.h"

#include <linux/if.h> /* after net/if.h (via podnet.h): IF_OPER_UP */
#include <stdlib.h>
#include <sys/socket.h>

/* Step 1: the MTU of the link the route to 192.0.0.10 leaves through. */
static unsigned mtu_of_default_route(struct nl_sock *s)
{
	struct nl_ip probe;
	struct nl_route r;
	struct nl_link l;
	char ignored[256];
	nl_ip_parse("192.0.0.10", &probe);
	if (nl_route_get(s, &probe, &r, ignored, sizeof(ignored)) < 0 || r.oif == 0)
		return 0;
	if (nl_link_get_by_index(s, r.oif, &l, ignored, sizeof(ignored)) < 0)
		return 0;
	return l.mtu;
}

/* Step 2: the smallest MTU of plain devices (no link kind) that are operstate UP; loopback
 * is excluded by its operstate UNKNOWN. Upstream's IPv6 probe in between uses a malformed
 * address literal, so it never works, and is not reproduced. */
static int mtu_of_plain_links(struct nl_sock *s, unsigned *mtu, char *err, size_t errlen)
{
	struct nl_link *links;
	size_t n;
	int rc = nl_link_list(s, &links, &n, err, errlen);
	if (rc < 0)
		return rc;
	*mtu = 0;
	for (size_t i = 0; i < n; i++) {
		const struct nl_link *l = &links[i];
		if (l->operstate != IF_OPER_UP || l->kind[0] || l->mtu == 0)
			continue;
		if (*mtu == 0 || l->mtu < *mtu)
			*mtu = l->mtu;
	}
	free(links);
	return 0;
}

int podnet_detect_mtu(unsigned *mtu, char *err, size_t errlen)
{
	struct nl_sock s;
	int rc = nl_sock_open(&s, err, errlen);
	*mtu = 0;
	if (rc < 0)
		return rc;
	*mtu = mtu_of_default_route(&s);
	if (*mtu == 0)
		rc = mtu_of_plain_links(&s, mtu, err, errlen);
	nl_sock_close(&s);
	return rc;
}
