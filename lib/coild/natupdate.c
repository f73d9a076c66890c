/* The Egress watcher's update of one running NAT client pod. */
#include "coild/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err/err.h"

static bool same_ip(const struct nl_ip *a, const struct nl_ip *b)
{
	return a->family && b->family && nl_ip_equal(a, b);
}

/* The pod's host veth: by address (absent addresses never match); in egress-only mode by the
 * pod UID its alias holds. */
static int find_pod(struct coild *d, const char *uid, const struct nl_ip *v4,
		    const struct nl_ip *v6, struct podnet_entry *out, char *err, size_t errlen)
{
	struct podnet_entry *pods = NULL;
	size_t n = 0;
	int ret = podnet_list(d->podnet, &pods, &n, err, errlen);
	bool found = false;
	for (size_t i = 0; ret == 0 && !found && i < n; i++)
		if (d->cfg.egress_only ? uid && !strcmp(pods[i].container_id, uid)
				       : same_ip(&pods[i].ipv4, v4) || same_ip(&pods[i].ipv6, v6)) {
			*out = pods[i];
			found = true;
		}
	free(pods);
	if (ret == 0 && !found)
		ret = -ENOENT;
	return ret;
}

struct locked_update {
	struct coild *d;
	const struct podnet_entry *pod;
	const struct nl_ip *ipv4, *ipv6; /* the Pod's status.podIPs */
	const struct natclient_gateways *gws;
	char *err;
	size_t errlen;
};

/* Under the container lock: the netns is looked up and entered only while no DEL can take
 * the veth away. */
static int update_locked(void *arg)
{
	struct locked_update *u = arg;
	char path[512];
	struct natclient_pod pod = {.netns_path = path, .ipv4 = u->pod->ipv4, .ipv6 = u->pod->ipv6};
	int ret = podnet_netns_path(u->d->podnet, u->pod->host_ifindex, path, sizeof(path), u->err,
				    u->errlen);
	if (ret == -ENOENT)
		return ret;
	if (ret == 0)
		ret = natclient_update(&u->d->cfg.nat, &pod, u->gws, u->err, u->errlen);
	return ret;
}

int coild_nat_update(struct coild *d, const char *pod_uid, const struct nl_ip *ipv4,
		     const struct nl_ip *ipv6, const struct natclient_gateways *gws, char *err,
		     size_t errlen)
{
	struct podnet_entry pod;
	char why[512] = "";
	int ret = find_pod(d, pod_uid, ipv4, ipv6, &pod, why, sizeof(why));
	if (ret == 0) {
		struct locked_update u = {d, &pod, ipv4, ipv6, gws, why, sizeof(why)};
		ret = podnet_with_container_lock(d->podnet, pod.container_id, update_locked, &u);
	}
	if (ret == -ENOENT)
		return errorf(err, errlen, -EAGAIN, "pod network configuration not ready%s%s",
			      why[0] ? ": " : "", why);
	if (ret < 0)
		return errorf(err, errlen, ret, "%s", why);
	return 0;
}
