/* One client pod: the whole client at CNI ADD, the per-gateway part on Egress updates. Both
 * run on the calling thread switched into the pod's netns (only that thread moves). */
#include "natclient/natclient.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "err/err.h"
#include "log/log.h"

struct run {
	const struct natclient_config *cfg;
	const struct natclient_pod *pod;
	const struct natclient_gateways *gws;
	bool init; /* ADD: init first; update: require that an ADD did */
	char *err;
	size_t errlen;
};

static const struct nl_ip *local_for(const struct natclient_pod *pod, const struct nl_ip *peer)
{
	const struct nl_ip *local = peer->family == AF_INET ? &pod->ipv4 : &pod->ipv6;
	return local->family ? local : NULL;
}

static int gateway(struct nl_sock *s, const struct run *r, const struct natclient_gateway *g)
{
	const struct natclient_config *cfg = r->cfg;
	const struct nl_ip *local = local_for(r->pod, &g->address);
	char text[NL_IP_STRLEN];
	int ifindex = 0;
	int ret = local ? cfg->tunnel->add_peer(cfg->tunnel->ctx, s, cfg->port, &r->pod->ipv4,
						&r->pod->ipv6, &g->address, g->sport_auto, &ifindex,
						r->err, r->errlen)
			: -EAFNOSUPPORT;
	if (ret == -EAFNOSUPPORT) { /* the pod has no address of this family */
		log_info("ignored unsupported gateway", "gw",
			 nl_ip_format(&g->address, text, sizeof(text)));
		return 0;
	}
	if (ret < 0)
		return ret;
	return natclient_routes_sync(s, ifindex, g->networks, g->n_networks, r->pod->ipv4.family,
				     r->pod->ipv6.family, g->originating_only, cfg->connmark,
				     r->err, r->errlen);
}

static int prepare(struct nl_sock *s, const struct run *r)
{
	const struct natclient_config *cfg = r->cfg;
	bool v4 = r->pod->ipv4.family, v6 = r->pod->ipv6.family;
	if (r->init) {
		int ret = cfg->tunnel->init(cfg->tunnel->ctx, s, cfg->port, &r->pod->ipv4,
					    &r->pod->ipv6, r->err, r->errlen);
		return ret < 0 ? ret : natclient_rules_init(s, v4, v6, r->err, r->errlen);
	}
	int ret = cfg->tunnel->initialized(cfg->tunnel->ctx, s, r->err, r->errlen);
	if (ret == 0)
		return errorf(r->err, r->errlen, -EAGAIN, "fouTunnel hasn't been initialized");
	if (ret > 0)
		ret = natclient_rules_check(s, v4, v6, r->err, r->errlen);
	if (ret == 0)
		return errorf(r->err, r->errlen, -EAGAIN, "natClient hasn't been initialized");
	return ret < 0 ? ret : 0;
}

static int in_netns(void *arg)
{
	const struct run *r = arg;
	struct nl_sock s = {0};
	int ret = nl_sock_open(&s, r->err, r->errlen);
	if (ret == 0)
		ret = prepare(&s, r);
	for (size_t i = 0; ret == 0 && i < r->gws->n; i++)
		ret = gateway(&s, r, &r->gws->items[i]);
	nl_sock_close(&s);
	return ret;
}

static int run_in_pod(struct run *r)
{
	int fd = -1;
	char why[256];
	int ret = nl_netns_open(r->pod->netns_path, &fd, r->err, r->errlen);
	if (ret < 0)
		return ret;
	ret = nl_netns_run(fd, in_netns, r, why, sizeof(why));
	close(fd);
	if (ret < 0 && !r->err[0])
		errorf(r->err, r->errlen, ret, "%s", why);
	return ret;
}

int natclient_setup(const struct natclient_config *cfg, const struct natclient_pod *pod,
		    const struct natclient_gateways *gws, char *err, size_t errlen)
{
	struct run r = {cfg, pod, gws, true, err, errlen};
	if (errlen)
		err[0] = '\0';
	return run_in_pod(&r);
}

int natclient_update(const struct natclient_config *cfg, const struct natclient_pod *pod,
		     const struct natclient_gateways *gws, char *err, size_t errlen)
{
	struct run r = {cfg, pod, gws, false, err, errlen};
	if (errlen)
		err[0] = '\0';
	return run_in_pod(&r);
}
