/* Route repair: the kernel tells every route change to RTNLGRP_IPV4_ROUTE/IPV6_ROUTE
 * listeners; a deletion in the export table or of one of our pod routes in the pod table
 * is repaired shortly after (after 100 ms without further deletions, so a burst, e.g. our
 * own export sync, is handled once). Our own repairs cause no deletions, so this settles.
 * Lost notifications (ENOBUFS) make the export table re-synced; pod routes are only put
 * back for deletions actually seen, which never races with an ADD still adding its route. */
#include "coild/internal.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "log/log.h"

#define SETTLE_MS   100
#define MAX_PENDING 256

struct pod_route {
	struct nl_ip dst;
	int oif;
};

struct coild_route_monitor {
	struct coild *d;
	struct mnl_socket *nl;
	int stopfd; /* eventfd: written by stop */
	pthread_t thread;
	char *buf;
	bool export_dirty;
	struct pod_route pending[MAX_PENDING];
	size_t n_pending;
};

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Notes what one notification asks to repair. */
static void note_message(struct coild_route_monitor *m, const struct nlmsghdr *nlh)
{
	struct nl_route r;
	if (nlh->nlmsg_type != RTM_DELROUTE || nl_parse_route(nlh, &r) < 0)
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

/* Reads one batch of queued notifications. */
static void read_notifications(struct coild_route_monitor *m)
{
	ssize_t len = recv(mnl_socket_get_fd(m->nl), m->buf, NL_RECV_BUF, MSG_DONTWAIT);
	if (len < 0) {
		if (errno == ENOBUFS) /* notifications were lost: resync what we can */
			m->export_dirty = true;
		return;
	}
	size_t left = (size_t)len;
	for (const struct nlmsghdr *nlh = (const void *)m->buf; nl_msg_ok(nlh, left);
	     nlh = nl_msg_next(nlh, &left))
		note_message(m, nlh);
}

static void repair(struct coild_route_monitor *m)
{
	char err[512];
	for (size_t i = 0; i < m->n_pending; i++)
		if (coild_repair_pod_route(m->d, &m->pending[i].dst, m->pending[i].oif, err,
					   sizeof(err)) < 0)
			log_warn("failed to restore a pod route", "error", err);
	m->n_pending = 0;
	if (m->export_dirty) {
		m->export_dirty = false;
		log_info("routes left the export table; re-syncing it");
		if (coild_export_routes(m->d, err, sizeof(err)) < 0)
			log_error("failed to export block routes", "error", err);
	}
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
			if (due < 0 && (m->export_dirty || m->n_pending))
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
	m->nl = mnl_socket_open(NETLINK_ROUTE);
	if (!m->nl ||
	    mnl_socket_bind(m->nl, RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE, MNL_SOCKET_AUTOPID) < 0) {
		int e = errno;
		snprintf(err, errlen, "route monitor: netlink socket: %s", strerror(e));
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
