/* Drift repair: the kernel tells every route, rule and address change to the listeners of
 * its route, rule and ifaddr groups; a deletion in the export table, of one of our pod routes
 * in the pod table, of the pod-table rule, or of the node address on a host veth is repaired
 * shortly after (after 100 ms without further deletions, so a burst, e.g. our own export
 * sync, is handled once). Our own repairs cause no deletions, so this settles. Lost
 * notifications (ENOBUFS) make the export table re-synced and the rules re-checked; pod
 * routes and node addresses are only put back for deletions actually seen, which never races
 * with an ADD still setting them up. Only what was really missing is counted as drift. */
#include "coild/internal.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "log/log.h"

#define SETTLE_MS   100
#define MAX_PENDING 256
#define MAX_REPORTS 32 /* Events per batch; more repairs are still counted and logged */

struct pod_route {
	struct nl_ip dst;
	int oif;
};

struct node_address {
	int ifindex;
	int family;
};

/* A repair to report once every repair of the batch is done. */
struct report {
	const char *reason; /* static */
	char detail[256];
};

struct coild_route_monitor {
	struct coild *d;
	struct mnl_socket *nl;
	int stopfd; /* eventfd: written by stop */
	pthread_t thread;
	char *buf;
	bool export_dirty;
	bool rules_dirty;
	struct pod_route pending[MAX_PENDING];
	size_t n_pending;
	struct node_address addrs[MAX_PENDING];
	size_t n_addrs;
	struct report reports[MAX_REPORTS];
	size_t n_reports;
};

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void note_route(struct coild_route_monitor *m, const struct nlmsghdr *nlh)
{
	struct nl_route r;
	if (nl_parse_route(nlh, &r) < 0)
		return;
	const struct coild_config *cfg = &m->d->cfg;
	if (r.table == cfg->export_table) {
		m->export_dirty = true;
	} else if (r.table == cfg->podnet.table && r.protocol == cfg->podnet.protocol && r.oif &&
		   r.dst.len == nl_family_addrlen(r.dst.ip.family) * 8 &&
		   m->n_pending < MAX_PENDING) {
		m->pending[m->n_pending++] = (struct pod_route){.dst = r.dst.ip, .oif = r.oif};
	}
}

static void note_rule(struct coild_route_monitor *m, const struct nlmsghdr *nlh)
{
	struct nl_rule r;
	if (nl_parse_rule(nlh, &r) == 0 && r.has_priority &&
	    r.priority == m->d->cfg.podnet.rule_priority)
		m->rules_dirty = true;
}

/* A node address leaving a link: maybe a host veth's (checked at repair time). */
static void note_address(struct coild_route_monitor *m, const struct nlmsghdr *nlh)
{
	struct nl_addr a;
	const struct podnet_config *cfg = &m->d->cfg.podnet;
	if (nl_parse_addr(nlh, &a) < 0 || m->n_addrs >= MAX_PENDING)
		return;
	const struct nl_ip *node = a.local.ip.family == AF_INET ? &cfg->node_ipv4 : &cfg->node_ipv6;
	if (node->family && nl_ip_equal(&a.local.ip, node))
		m->addrs[m->n_addrs++] =
		    (struct node_address){.ifindex = a.ifindex, .family = a.local.ip.family};
}

/* Notes what one notification asks to repair. */
static void note_message(struct coild_route_monitor *m, const struct nlmsghdr *nlh)
{
	switch (nlh->nlmsg_type) {
	case RTM_DELROUTE:
		return note_route(m, nlh);
	case RTM_DELRULE:
		return note_rule(m, nlh);
	case RTM_DELADDR:
		return note_address(m, nlh);
	default:
		return;
	}
}

/* Reads one batch of queued notifications. */
static void read_notifications(struct coild_route_monitor *m)
{
	ssize_t len = recv(mnl_socket_get_fd(m->nl), m->buf, NL_RECV_BUF, MSG_DONTWAIT);
	if (len < 0) {
		if (errno == ENOBUFS) /* notifications were lost: resync what we can */
			m->export_dirty = m->rules_dirty = true;
		return;
	}
	size_t left = (size_t)len;
	for (const struct nlmsghdr *nlh = (const void *)m->buf; nl_msg_ok(nlh, left);
	     nlh = nl_msg_next(nlh, &left))
		note_message(m, nlh);
}

static void repaired(struct coild_route_monitor *m, const char *object, const char *reason,
		     const char *detail)
{
	coild_drift_repaired(m->d, object, reason, detail);
	if (m->n_reports < MAX_REPORTS) {
		struct report *r = &m->reports[m->n_reports++];
		r->reason = reason;
		snprintf(r->detail, sizeof(r->detail), "%s", detail);
	}
}

static void repair_pod_routes(struct coild_route_monitor *m)
{
	char err[512], what[256], ip[NL_IP_STRLEN];
	for (size_t i = 0; i < m->n_pending; i++) {
		int rc = coild_repair_pod_route(m->d, &m->pending[i].dst, m->pending[i].oif, err,
						sizeof(err));
		if (rc < 0)
			log_warn("failed to restore a pod route", "error", err);
		snprintf(what, sizeof(what), "restored the route of pod address %s in table %u",
			 nl_ip_format(&m->pending[i].dst, ip, sizeof(ip)), m->d->cfg.podnet.table);
		if (rc > 0)
			repaired(m, "pod_route", "PodRouteRestored", what);
	}
	m->n_pending = 0;
}

static void repair_node_addresses(struct coild_route_monitor *m)
{
	char err[512], what[256];
	for (size_t i = 0; i < m->n_addrs; i++) {
		int rc = podnet_restore_node_address(m->d->podnet, m->addrs[i].ifindex,
						     m->addrs[i].family, err, sizeof(err));
		if (rc < 0)
			log_warn("failed to restore a node address on a host veth", "error", err);
		snprintf(what, sizeof(what), "restored the node IPv%c address on host link %d",
			 m->addrs[i].family == AF_INET ? '4' : '6', m->addrs[i].ifindex);
		if (rc <= 0)
			continue;
		repaired(m, "node_address", "NodeAddressRestored", what);
		rc = coild_repair_link_pod_route(m->d, m->addrs[i].ifindex, m->addrs[i].family, err,
						 sizeof(err));
		if (rc < 0)
			log_warn("failed to restore a pod route", "error", err);
		snprintf(what, sizeof(what),
			 "restored the IPv%c pod route via host link %d, flushed with its address",
			 m->addrs[i].family == AF_INET ? '4' : '6', m->addrs[i].ifindex);
		if (rc > 0)
			repaired(m, "pod_route", "PodRouteRestored", what);
	}
	m->n_addrs = 0;
}

static void repair_rules(struct coild_route_monitor *m)
{
	char err[512], what[128];
	int added = 0;
	m->rules_dirty = false;
	if (podnet_ensure_rules(m->d->podnet, &added, err, sizeof(err)) < 0)
		log_error("failed to restore the pod table rule", "error", err);
	snprintf(what, sizeof(what), "restored %d rule(s) of priority %u looking up table %u",
		 added, m->d->cfg.podnet.rule_priority, m->d->cfg.podnet.table);
	if (added > 0)
		repaired(m, "rule", "RuleRestored", what);
}

static void repair_export(struct coild_route_monitor *m)
{
	char err[512], what[128];
	int added = 0;
	m->export_dirty = false;
	if (coild_export_routes_counted(m->d, &added, err, sizeof(err)) < 0)
		log_error("failed to export block routes", "error", err);
	snprintf(what, sizeof(what), "restored %d route(s) of the export table %u", added,
		 m->d->cfg.export_table);
	if (added > 0)
		repaired(m, "export_route", "ExportRouteRestored", what);
}

static void repair(struct coild_route_monitor *m)
{
	repair_pod_routes(m);
	repair_node_addresses(m);
	if (m->rules_dirty)
		repair_rules(m);
	if (m->export_dirty)
		repair_export(m);
	/* Reports may wait for the API server: only after every repair of the batch. */
	for (size_t i = 0; i < m->n_reports; i++)
		coild_drift_report(m->d, m->reports[i].reason, m->reports[i].detail);
	m->n_reports = 0;
}

static void *monitor_main(void *arg)
{
	struct coild_route_monitor *m = arg;
	long due = -1; /* when the noted repairs run; -1 = nothing noted */
	for (;;) {
		struct pollfd fds[2] = {{.fd = m->stopfd, .events = POLLIN},
					{.fd = mnl_socket_get_fd(m->nl), .events = POLLIN}};
		long wait = due < 0 ? -1 : due - now_ms();
		int n = poll(fds, 2, due < 0 ? -1 : (wait > 0 ? (int)wait : 0));
		if (n < 0 && errno != EINTR)
			break;
		if (fds[0].revents)
			break;
		if (n > 0 && fds[1].revents) {
			read_notifications(m);
			if (due < 0 &&
			    (m->export_dirty || m->rules_dirty || m->n_pending || m->n_addrs))
				due = now_ms() + SETTLE_MS;
		}
		if (due >= 0 && now_ms() >= due) {
			repair(m);
			due = -1;
		}
	}
	return NULL;
}

static int open_socket(struct coild_route_monitor *m, char *err, size_t errlen)
{
	/* IPv6 rules have no RTMGRP_ bit: that group is joined by number. */
	int v6_rules = RTNLGRP_IPV6_RULE;
	m->nl = mnl_socket_open(NETLINK_ROUTE);
	if (!m->nl ||
	    mnl_socket_bind(m->nl,
			    RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE | RTMGRP_IPV4_RULE |
				RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR,
			    MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_setsockopt(m->nl, NETLINK_ADD_MEMBERSHIP, &v6_rules, sizeof(v6_rules)) < 0) {
		int e = errno;
		snprintf(err, errlen, "drift monitor: netlink socket: %s", strerror(e));
		return -e;
	}
	return 0;
}

int coild_route_monitor_start(struct coild *d, struct coild_route_monitor **out, char *err,
			      size_t errlen)
{
	struct coild_route_monitor *m = calloc(1, sizeof(*m));
	if (!m || !(m->buf = malloc(NL_RECV_BUF))) {
		free(m);
		snprintf(err, errlen, "route monitor: out of memory");
		return -ENOMEM;
	}
	m->d = d;
	m->stopfd = eventfd(0, EFD_CLOEXEC);
	int ret = m->stopfd < 0 ? -errno : open_socket(m, err, errlen);
	if (m->stopfd < 0)
		snprintf(err, errlen, "route monitor: eventfd: %s", strerror(-ret));
	if (ret == 0 && (ret = -pthread_create(&m->thread, NULL, monitor_main, m)) < 0)
		snprintf(err, errlen, "route monitor: thread: %s", strerror(-ret));
	if (ret < 0) {
		if (m->nl)
			mnl_socket_close(m->nl);
		if (m->stopfd >= 0)
			close(m->stopfd);
		free(m->buf);
		free(m);
		return ret;
	}
	*out = m;
	return 0;
}

void coild_route_monitor_stop(struct coild_route_monitor *m)
{
	if (!m)
		return;
	uint64_t one = 1;
	if (write(m->stopfd, &one, sizeof(one)) < 0)
		log_warn("route monitor: cannot signal the thread", "error", strerror(errno));
	pthread_join(m->thread, NULL);
	mnl_socket_close(m->nl);
	close(m->stopfd);
	free(m->buf);
	free(m);
}
