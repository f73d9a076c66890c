/* The tunnel and connmark operations over lib/founat and lib/natrules: what the daemon uses. */
#include "natclient/natclient.h"

#include <errno.h>
#include <string.h>

#include "founat/founat.h"

static struct founat_config config(uint16_t port, const struct nl_ip *v4, const struct nl_ip *v6)
{
	struct founat_config c = {.port = port};
	if (v4)
		c.local4 = *v4;
	if (v6)
		c.local6 = *v6;
	return c;
}

static int init(void *ctx, struct nl_sock *s, uint16_t port, const struct nl_ip *v4,
		const struct nl_ip *v6, char *err, size_t errlen)
{
	struct founat_config c = config(port, v4, v6);
	return founat_init(s, &c, err, errlen);
}

static int initialized(void *ctx, struct nl_sock *s, char *err, size_t errlen)
{
	bool yes = false;
	int ret = founat_is_initialized(s, &yes, err, errlen);
	return ret < 0 ? ret : yes;
}

static int add_peer(void *ctx, struct nl_sock *s, uint16_t port, const struct nl_ip *v4,
		    const struct nl_ip *v6, const struct nl_ip *peer, bool sport_auto,
		    int *ifindex, char *err, size_t errlen)
{
	struct founat_config c = config(port, v4, v6);
	struct nl_link link;
	int ret = founat_add_peer(s, &c, peer, sport_auto, &link, err, errlen);
	if (ret == 0)
		*ifindex = link.index;
	return ret;
}

const struct natclient_tunnel_ops natclient_founat_tunnel = {init, initialized, add_peer, NULL};

static struct natrules_connmark connmark(int family, const char *ifname, int ifindex)
{
	struct natrules_connmark c = {.family = family, .mark = (uint32_t)ifindex};
	snprintf(c.ifname, sizeof(c.ifname), "%s", ifname);
	return c;
}

static int ensure(void *ctx, int family, const char *ifname, int ifindex, char *err,
		  size_t errlen)
{
	struct natrules_connmark c = connmark(family, ifname, ifindex);
	return natrules_connmark_apply(*(const enum natrules_backend *)ctx, &c, err, errlen);
}

static int remove_rules(void *ctx, int family, const char *ifname, int ifindex, char *err,
			size_t errlen)
{
	struct natrules_connmark c = connmark(family, ifname, ifindex);
	return natrules_connmark_remove(*(const enum natrules_backend *)ctx, &c, err, errlen);
}

static const enum natrules_backend iptables = NATRULES_IPTABLES, nftables = NATRULES_NFTABLES;
const struct natclient_connmark_ops natclient_connmark_iptables = {ensure, remove_rules,
								   (void *)&iptables};
const struct natclient_connmark_ops natclient_connmark_nftables = {ensure, remove_rules,
								   (void *)&nftables};

const struct natclient_connmark_ops *natclient_connmark_for(enum natrules_backend b)
{
	return b == NATRULES_NFTABLES ? &natclient_connmark_nftables : &natclient_connmark_iptables;
}
