/* Pod network setup (docs/behaviour/daemon.md, 'Pod network setup'), with DAD skipped so
 * IPv6 works at once. */
#include "podnet_internal.h"
#include "err/err.h"
#include "fault/fault.h"

#include <errno.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define VETH_NAME_ATTEMPTS 10

/* State of one setup; sockets and fds are owned and released by podnet_setup. */
struct setup {
	struct podnet *pn;
	const struct podnet_pod *pod;
	struct podnet_result *res;
	int pod_ns;	     /* fd of the pod netns */
	struct nl_sock hs;   /* host netns */
	struct nl_sock ps;   /* pod netns */
	struct nl_link host; /* host veth, once created */
	struct nl_link cont; /* container end */
	bool created;
	char *err;
	size_t errlen;
};

static int validate(const struct podnet *pn, const struct podnet_pod *pod, char *err, size_t errlen)
{
	char alias[NL_ALIAS_MAX];
	if (!pod->netns_path || !*pod->netns_path || !pod->container_id || !*pod->container_id ||
	    !pod->ifname || !pod->pool) {
		snprintf(err, errlen,
			 "pod network setup: netns, container id, ifname and pool are "
			 "required");
		return -EINVAL;
	}
	if (!nl_ifname_valid(pod->ifname)) {
		snprintf(err, errlen, "pod network setup: invalid interface name \"%s\"",
			 pod->ifname);
		return -EINVAL;
	}
	if (podnet_alias_format(pod->pool, pod->container_id, pod->ifname, alias, sizeof(alias))) {
		snprintf(err, errlen, "pod network setup: alias for %s too long",
			 pod->container_id);
		return -ENAMETOOLONG;
	}
	if ((pod->ipv4.family && pod->ipv4.family != AF_INET) ||
	    (pod->ipv6.family && pod->ipv6.family != AF_INET6)) {
		snprintf(err, errlen, "pod network setup: pod address of the wrong family");
		return -EINVAL;
	}
	if (pod->ipv4.family && !pn->cfg.node_ipv4.family) {
		snprintf(err, errlen, "pod network setup: the node has no IPv4 address");
		return -EADDRNOTAVAIL;
	}
	if (pod->ipv6.family && !pn->cfg.node_ipv6.family) {
		snprintf(err, errlen, "pod network setup: the node has no IPv6 address");
		return -EADDRNOTAVAIL;
	}
	if (pn->cfg.compat_calico && (!pod->pod_namespace || !pod->pod_name)) {
		snprintf(err, errlen, "pod network setup: calico names need the pod name");
		return -EINVAL;
	}
	return 0;
}

/* Deletes a leftover link of this container and ifname (a retried ADD, or one the daemon
 * died in): the host link named after the attachment, then, if the pod netns still has the
 * ifname, a host link aliased to the attachment under another name. */
static int remove_garbage(struct setup *st)
{
	const struct podnet_pod *pod = st->pod;
	struct nl_link in_pod, host;
	int rc =
	    podnet_find_host(&st->hs, pod->container_id, pod->ifname,
			     PODNET_FIND_NAME | PODNET_FIND_HALF_MADE, &host, st->err, st->errlen);
	if (rc == 0)
		rc = nl_link_delete(&st->hs, host.index, st->err, st->errlen);
	if (rc == -ENOENT || rc == -ENODEV)
		rc = 0;
	if (rc == 0)
		rc = nl_link_get_by_name(&st->ps, pod->ifname, &in_pod, st->err, st->errlen);
	if (rc == 0) {
		rc = podnet_find_host(&st->hs, pod->container_id, pod->ifname, PODNET_FIND_ALIAS,
				      &host, st->err, st->errlen);
		if (rc == 0)
			rc = nl_link_delete(&st->hs, host.index, st->err, st->errlen);
		else if (rc == -ENOENT && strcmp(in_pod.kind, "veth") == 0 &&
			 in_pod.peer_in_other_netns)
			/* A pair to another netns whose host end never got its alias: an ADD
			 * of this container by an older version that died half-way. coil must
			 * be the first plugin, so the veth can only be ours; deleting it also
			 * removes its peer. */
			rc = nl_link_delete(&st->ps, in_pod.index, st->err, st->errlen);
		else if (rc == -ENOENT) /* the name is taken by a link that is not ours */
			rc = errorf(st->err, st->errlen, -EEXIST,
				    "interface %s already exists in the pod netns", pod->ifname);
	}
	if (rc == -ENODEV)
		rc = 0;
	if (rc == 0 && st->pn->cfg.compat_calico) {
		char name[IF_NAMESIZE];
		podnet_calico_veth_name(pod->pod_namespace, pod->pod_name, name);
		rc = nl_link_delete_by_name(&st->hs, name, st->err, st->errlen);
		if (rc == -ENODEV)
			rc = 0;
	}
	return rc;
}

/* The host name of the first attempt: the calico name, else the attachment's; later
 * attempts (the attachment's name is another link's) take random names. */
static int veth_name(struct setup *st, int attempt, char name[IF_NAMESIZE])
{
	if (st->pn->cfg.compat_calico)
		podnet_calico_veth_name(st->pod->pod_namespace, st->pod->pod_name, name);
	else if (attempt == 0)
		podnet_attachment_veth_name(st->pod->container_id, st->pod->ifname, name);
	else {
		int rc = podnet_random_veth_name(name);
		if (rc < 0)
			return errorf(st->err, st->errlen, rc,
				      "failed to get random bytes for a veth name");
	}
	return 0;
}

/* Creates the pair from the host side, the container end directly in the pod netns, and
 * gives the host end its alias at once, before anything can hold an address. */
static int create_veth(struct setup *st)
{
	char name[IF_NAMESIZE];
	struct nl_veth v = {name, st->pod->ifname, st->pod_ns, st->pn->mtu};
	struct nl_link other;
	for (int attempt = 0; attempt < VETH_NAME_ATTEMPTS; attempt++) {
		int rc = veth_name(st, attempt, name);
		if (rc == 0)
			rc = nl_veth_create(&st->hs, &v, st->err, st->errlen);
		if (rc == 0) {
			st->created = true;
			snprintf(st->host.name, sizeof(st->host.name), "%s", name);
			return 0;
		}
		/* Retry only if the clash is our host-side name. */
		if (rc != -EEXIST || st->pn->cfg.compat_calico ||
		    nl_link_get_by_name(&st->hs, name, &other, NULL, 0) != 0)
			return rc;
	}
	snprintf(st->err, st->errlen, "no free host veth name after %d attempts",
		 VETH_NAME_ATTEMPTS);
	return -EEXIST;
}

static int set_alias(struct setup *st)
{
	char alias[NL_ALIAS_MAX];
	podnet_alias_format(st->pod->pool, st->pod->container_id, st->pod->ifname, alias,
			    sizeof(alias));
	int rc = nl_link_get_by_name(&st->hs, st->host.name, &st->host, st->err, st->errlen);
	if (rc == 0)
		rc = nl_link_set_alias(&st->hs, st->host.index, alias, st->err, st->errlen);
	return rc;
}

static int disable_dad_here(void *arg)
{
	struct setup *st = arg;
	const char *p[] = {"net", "ipv6", "conf", st->pod->ifname, "accept_dad"};
	return nl_sysctl_write(p, 5, "0", st->err, st->errlen);
}

/* sysctls of both ends, written while the links are still down: accept_ra=0 on the host
 * veth (upstream; errors ignored) and, for IPv6, accept_dad=0 on both ends so that the
 * link-local addresses never go through DAD. */
static int host_and_pod_sysctls(struct setup *st)
{
	const char *ra[] = {"net", "ipv6", "conf", st->host.name, "accept_ra"};
	const char *dad[] = {"net", "ipv6", "conf", st->host.name, "accept_dad"};
	char ignored[256];
	nl_sysctl_write(ra, 5, "0", ignored, sizeof(ignored));
	if (!st->pod->ipv6.family)
		return 0;
	int rc = nl_sysctl_write(dad, 5, "0", st->err, st->errlen);
	if (rc == 0)
		rc = nl_netns_run(st->pod_ns, disable_dad_here, st, st->err, st->errlen);
	return rc;
}

static int bring_up(struct setup *st)
{
	int rc = nl_link_get_by_name(&st->ps, st->pod->ifname, &st->cont, st->err, st->errlen);
	if (rc == 0)
		rc = host_and_pod_sysctls(st);
	if (rc == 0)
		rc = nl_link_set_up(&st->hs, st->host.index, true, st->err, st->errlen);
	if (rc == 0)
		rc = nl_link_set_up(&st->ps, st->cont.index, true, st->err, st->errlen);
	return rc;
}

int podnet_add_host_addr(struct nl_sock *s, int ifindex, const struct nl_ip *ip, char *err,
			 size_t errlen)
{
	struct nl_addr a = {.ifindex = ifindex,
			    .local = nl_prefix_host(ip),
			    .scope = RT_SCOPE_UNIVERSE,
			    .flags = ip->family == AF_INET6 ? IFA_F_NODAD : 0};
	return nl_addr_add(s, &a, err, errlen);
}

static int pod_addresses(struct setup *st)
{
	int rc = 0;
	if (st->pod->ipv4.family)
		rc = podnet_add_host_addr(&st->ps, st->cont.index, &st->pod->ipv4, st->err,
					  st->errlen);
	if (rc == 0 && st->pod->ipv6.family)
		rc = podnet_add_host_addr(&st->ps, st->cont.index, &st->pod->ipv6, st->err,
					  st->errlen);
	return rc;
}

/* `<pod ip>/32|128 dev <hostveth> scope link proto <protocol> table <table>` */
static int add_pod_table_route(struct setup *st, const struct nl_ip *ip)
{
	struct nl_route r = {.dst = nl_prefix_host(ip),
			     .table = st->pn->cfg.table,
			     .protocol = st->pn->cfg.protocol,
			     .scope = RT_SCOPE_LINK,
			     .oif = st->host.index};
	return nl_route_add(&st->hs, &r, st->err, st->errlen);
}

static int host_side(struct setup *st)
{
	const struct podnet_config *cfg = &st->pn->cfg;
	int rc = 0;
	if (st->pod->ipv6.family)
		rc = podnet_add_host_addr(&st->hs, st->host.index, &cfg->node_ipv6, st->err,
					  st->errlen);
	if (rc == 0 && st->pod->ipv6.family)
		rc = add_pod_table_route(st, &st->pod->ipv6);
	if (rc == 0 && st->pod->ipv4.family)
		rc = podnet_add_host_addr(&st->hs, st->host.index, &cfg->node_ipv4, st->err,
					  st->errlen);
	if (rc == 0 && st->pod->ipv4.family)
		rc = add_pod_table_route(st, &st->pod->ipv4);
	return rc;
}

/* The host veth's link-local address, the pods' IPv6 gateway: fe80::/64 with the EUI-64
 * interface id of its MAC, which is the address the kernel itself generates (default
 * addr_gen_mode) once the pair has carrier. coil adds it at once (without DAD) instead of
 * waiting for the kernel: its link watcher, which turns carrier on, lags by seconds when
 * hundreds of veths come and go. The kernel's own attempt then finds it present. */
static int add_link_local(struct setup *st, struct nl_ip *ll)
{
	const unsigned char *mac = st->host.mac;
	if (st->host.mac_len != 6)
		return errorf(st->err, st->errlen, -EADDRNOTAVAIL,
			      "host veth %s has no Ethernet address for its link-local address",
			      st->host.name);
	memset(ll, 0, sizeof(*ll));
	ll->family = AF_INET6;
	ll->bytes[0] = 0xfe;
	ll->bytes[1] = 0x80;
	unsigned char id[8] = {mac[0] ^ 0x02, mac[1], mac[2], 0xff, 0xfe, mac[3], mac[4], mac[5]};
	memcpy(ll->bytes + 8, id, sizeof(id));
	struct nl_addr a = {.ifindex = st->host.index,
			    .local = {.ip = *ll, .len = 64},
			    .scope = RT_SCOPE_LINK,
			    .flags = IFA_F_NODAD};
	int rc = nl_addr_add(&st->hs, &a, st->err, st->errlen);
	return rc == -EEXIST ? 0 : rc;
}

static int pod_routes(struct setup *st)
{
	const struct podnet_config *cfg = &st->pn->cfg;
	int rc = 0;
	if (st->pod->ipv4.family) {
		struct nl_route link = {.dst = nl_prefix_host(&cfg->node_ipv4),
					.protocol = RTPROT_BOOT,
					.scope = RT_SCOPE_LINK,
					.oif = st->cont.index};
		struct nl_route def = {.dst = {.ip = {.family = AF_INET}},
				       .gateway = cfg->node_ipv4,
				       .protocol = RTPROT_BOOT};
		rc = nl_route_add(&st->ps, &link, st->err, st->errlen);
		if (rc == 0)
			rc = nl_route_add(&st->ps, &def, st->err, st->errlen);
	}
	if (rc == 0 && st->pod->ipv6.family) {
		struct nl_route def6 = {.dst = {.ip = {.family = AF_INET6}},
					.gateway = st->res->ipv6_gateway,
					.protocol = RTPROT_BOOT,
					.oif = st->cont.index};
		rc = add_link_local(st, &def6.gateway);
		st->res->ipv6_gateway = def6.gateway;
		if (rc == 0)
			rc = nl_route_add(&st->ps, &def6, st->err, st->errlen);
	}
	return rc;
}

static void fill_result(struct setup *st)
{
	struct podnet_result *res = st->res;
	struct podnet_iface *c = &res->ifaces[0], *h = &res->ifaces[1];
	snprintf(c->name, sizeof(c->name), "%s", st->pod->ifname);
	nl_mac_format(st->cont.mac, st->cont.mac_len, c->mac, sizeof(c->mac));
	snprintf(c->sandbox, sizeof(c->sandbox), "%s", st->pod->netns_path);
	snprintf(h->name, sizeof(h->name), "%s", st->host.name);
	nl_mac_format(st->host.mac, st->host.mac_len, h->mac, sizeof(h->mac));
	h->sandbox[0] = '\0';
	res->n_ips = 0;
	if (st->pod->ipv4.family)
		res->ips[res->n_ips++] = nl_prefix_host(&st->pod->ipv4);
	if (st->pod->ipv6.family)
		res->ips[res->n_ips++] = nl_prefix_host(&st->pod->ipv6);
	res->host_ifindex = st->host.index;
}

/* Everything after locking and opening the pod netns. */
static int run_setup(struct setup *st)
{
	int rc = nl_sock_open(&st->hs, st->err, st->errlen);
	if (rc == 0)
		rc = nl_sock_open_in(&st->ps, st->pod_ns, st->err, st->errlen);
	if (rc == 0)
		rc = remove_garbage(st);
	if (rc == 0)
		rc = create_veth(st);
	if (rc == 0) {
		fault_point("add:veth-created");
		rc = set_alias(st);
	}
	if (rc == 0) {
		fault_point("add:aliased");
		rc = bring_up(st);
	}
	if (rc == 0)
		rc = pod_addresses(st);
	if (rc == 0) {
		fault_point("add:pod-addresses");
		rc = host_side(st);
	}
	if (rc == 0) {
		fault_point("add:host-routes");
		rc = pod_routes(st);
	}
	if (rc == 0)
		fill_result(st);
	return rc;
}

/* Deletes the pair (and so every route via it) after a failed setup. */
static void roll_back(struct setup *st)
{
	char ignored[256];
	int rc = st->host.index
		     ? nl_link_delete(&st->hs, st->host.index, ignored, sizeof(ignored))
		     : nl_link_delete_by_name(&st->hs, st->host.name, ignored, sizeof(ignored));
	(void)rc; /* the setup error is what the caller needs to see */
}

/* Opens the pod netns, runs the setup and rolls back on failure; locks are held. */
static int setup_locked(struct setup *st)
{
	char inner[512];
	int rc = st->pod->has_netns_fd
		     ? nl_netns_check(st->pod->netns_fd, inner, sizeof(inner))
		     : nl_netns_open(st->pod->netns_path, &st->pod_ns, inner, sizeof(inner));
	if (rc < 0 && st->pod->has_netns_fd) {
		snprintf(st->err, st->errlen, "the descriptor sent for netns %s: %s",
			 st->pod->netns_path, inner);
		return rc;
	}
	if (rc < 0) {
		/* inner is "open netns <path>: <reason>"; keep only the reason. */
		const char *reason = strstr(inner, ": ");
		snprintf(st->err, st->errlen, "failed to open netns path %s: %s",
			 st->pod->netns_path, reason ? reason + 2 : inner);
		return rc;
	}
	if (st->pod->has_netns_fd)
		st->pod_ns = st->pod->netns_fd;
	rc = run_setup(st);
	if (rc < 0 && st->created)
		roll_back(st);
	if (!st->pod->has_netns_fd)
		close(st->pod_ns);
	nl_sock_close(&st->ps);
	nl_sock_close(&st->hs);
	return rc;
}

int podnet_setup(struct podnet *pn, const struct podnet_pod *pod, struct podnet_result *res,
		 char *err, size_t errlen)
{
	struct setup st = {
	    .pn = pn, .pod = pod, .res = res, .pod_ns = -1, .err = err, .errlen = errlen};
	memset(res, 0, sizeof(*res));
	int rc = validate(pn, pod, err, errlen);
	if (rc < 0)
		return rc;
	/* Lock order: pod (calico names are per pod), then container. */
	char podkey[600];
	pthread_mutex_t *pod_lock = NULL;
	if (pn->cfg.compat_calico) {
		snprintf(podkey, sizeof(podkey), "%s/%s", pod->pod_namespace, pod->pod_name);
		pod_lock = podnet_lock_for(pn->pod_locks, podkey);
		pthread_mutex_lock(pod_lock);
	}
	pthread_mutex_t *lock = podnet_lock_for(pn->container_locks, pod->container_id);
	pthread_mutex_lock(lock);
	rc = setup_locked(&st);
	pthread_mutex_unlock(lock);
	if (pod_lock)
		pthread_mutex_unlock(pod_lock);
	return rc;
}
