/* The client set of a gateway: which pod holds which IP, and how many pods hold each IP.
 * A tunnel belongs to an IP, not to a pod: a finished Job pod and the new pod that got its
 * IP can both exist for a while, and whichever goes first must not take the tunnel of the
 * other. Linear arrays: a gateway has tens to a few thousand clients. */
#include "egress/egress.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err/err.h"
#include "log/log.h"

struct tracked_pod {
	char key[EGRESS_KEY_LEN];
	char ns[64], name[256];
	struct nl_ip ips[EGRESS_POD_MAX_IPS];
	char ifnames[EGRESS_POD_MAX_IPS][IF_NAMESIZE];
	size_t nips;
};

struct peer_ref {
	struct nl_ip ip;
	size_t holders; /* tracked pods holding ip */
};

struct egress_watch {
	struct egress_peer_ops ops;
	struct metrics *metrics;
	char egress_ns[64], egress_name[64];
	struct tracked_pod *pods;
	size_t npods, podcap;
	struct peer_ref *peers;
	size_t npeers, peercap;
};

struct egress_watch *egress_watch_new(const struct egress_peer_ops *ops, struct metrics *m,
				      const char *egress_ns, const char *egress_name)
{
	struct egress_watch *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->ops = *ops;
	w->metrics = m;
	snprintf(w->egress_ns, sizeof(w->egress_ns), "%s", egress_ns);
	snprintf(w->egress_name, sizeof(w->egress_name), "%s", egress_name);
	return w;
}

void egress_watch_free(struct egress_watch *w)
{
	if (!w)
		return;
	free(w->pods);
	free(w->peers);
	free(w);
}

size_t egress_watch_pod_count(const struct egress_watch *w)
{
	return w->npods;
}

static struct peer_ref *find_peer(const struct egress_watch *w, const struct nl_ip *ip)
{
	for (size_t i = 0; i < w->npeers; i++)
		if (nl_ip_equal(&w->peers[i].ip, ip))
			return &w->peers[i];
	return NULL;
}

bool egress_watch_has_peer(const struct egress_watch *w, const struct nl_ip *ip)
{
	return find_peer(w, ip) != NULL;
}

static struct tracked_pod *find_pod(const struct egress_watch *w, const char *key)
{
	for (size_t i = 0; i < w->npods; i++)
		if (strcmp(w->pods[i].key, key) == 0)
			return &w->pods[i];
	return NULL;
}

static bool grow(void **items, size_t *cap, size_t count, size_t size)
{
	if (count < *cap)
		return true;
	size_t ncap = *cap ? *cap * 2 : 16;
	void *p = realloc(*items, ncap * size);
	if (!p)
		return false;
	*items = p;
	*cap = ncap;
	return true;
}

/* ---- metrics ---- */

static void update_count(struct egress_watch *w)
{
	char labels[256];
	if (w->metrics && metrics_labels(labels, sizeof(labels), "egress", w->egress_name,
					 "namespace", w->egress_ns, NULL) == 0)
		metrics_set(w->metrics, "coil_egress_client_pod_count", labels, (double)w->npods);
}

/* Labels in name order, as the Prometheus client prints them. */
static int info_labels(const struct egress_watch *w, const struct tracked_pod *p, size_t i,
		       char *buf, size_t len)
{
	char ip[NL_IP_STRLEN];
	nl_ip_format(&p->ips[i], ip, sizeof(ip));
	return metrics_labels(buf, len, "egress", w->egress_name, "egress_namespace", w->egress_ns,
			      "interface", p->ifnames[i], "namespace", p->ns, "pod", p->name,
			      "pod_ip", ip, NULL);
}

static void set_info(struct egress_watch *w, const struct tracked_pod *p, size_t i, bool on)
{
	char labels[1024];
	if (!w->metrics || info_labels(w, p, i, labels, sizeof(labels)) < 0)
		return;
	if (on)
		metrics_set(w->metrics, "coil_egress_client_pod_info", labels, 1);
	else
		metrics_delete(w->metrics, "coil_egress_client_pod_info", labels);
}

/* ---- holding and releasing IPs ---- */

static int hold(struct egress_watch *w, const struct nl_ip *ip)
{
	struct peer_ref *r = find_peer(w, ip);
	if (r) {
		r->holders++;
		return 0;
	}
	if (!grow((void **)&w->peers, &w->peercap, w->npeers, sizeof(*w->peers)))
		return -ENOMEM;
	w->peers[w->npeers++] = (struct peer_ref){.ip = *ip, .holders = 1};
	return 0;
}

/* Drops one holder of ip; the last one takes the tunnel down first (on failure nothing
 * changes, so the retry does it again). */
static int release(struct egress_watch *w, const struct nl_ip *ip, char *err, size_t errlen)
{
	struct peer_ref *r = find_peer(w, ip);
	if (!r)
		return 0;
	if (r->holders == 1) {
		int rc = w->ops.del_peer(w->ops.arg, ip, err, errlen);
		if (rc < 0)
			return rc;
		*r = w->peers[--w->npeers];
		return 0;
	}
	r->holders--;
	return 0;
}

static void remove_ip_at(struct tracked_pod *p, size_t i)
{
	p->ips[i] = p->ips[p->nips - 1];
	memcpy(p->ifnames[i], p->ifnames[p->nips - 1], IF_NAMESIZE);
	p->nips--;
}

static int release_ip_at(struct egress_watch *w, struct tracked_pod *p, size_t i, char *err,
			 size_t errlen)
{
	int rc = release(w, &p->ips[i], err, errlen);
	if (rc == 0) {
		set_info(w, p, i, false);
		remove_ip_at(p, i);
	}
	return rc;
}

static bool has_ip(const struct nl_ip *ips, size_t n, const struct nl_ip *ip)
{
	for (size_t i = 0; i < n; i++)
		if (nl_ip_equal(&ips[i], ip))
			return true;
	return false;
}

static int forget_pod(struct egress_watch *w, struct tracked_pod *p, char *err, size_t errlen)
{
	while (p->nips > 0) {
		int rc = release_ip_at(w, p, p->nips - 1, err, errlen);
		if (rc < 0)
			return rc;
	}
	log_info("client pod is gone", "pod", p->key);
	*p = w->pods[--w->npods];
	return 0;
}

static struct tracked_pod *track(struct egress_watch *w, const struct egress_pod *pod)
{
	struct tracked_pod *p = find_pod(w, pod->key);
	if (p)
		return p;
	if (!grow((void **)&w->pods, &w->podcap, w->npods, sizeof(*w->pods)))
		return NULL;
	p = &w->pods[w->npods++];
	memset(p, 0, sizeof(*p));
	snprintf(p->key, sizeof(p->key), "%s", pod->key);
	snprintf(p->ns, sizeof(p->ns), "%s", pod->ns);
	snprintf(p->name, sizeof(p->name), "%s", pod->name);
	return p;
}

static int add_ip(struct egress_watch *w, struct tracked_pod *p, const struct nl_ip *ip, char *err,
		  size_t errlen)
{
	char ifname[IF_NAMESIZE] = "";
	int rc = w->ops.add_peer(w->ops.arg, ip, ifname, err, errlen);
	if (rc == FOUNAT_EFAMILY) {
		char text[NL_IP_STRLEN];
		log_info("skipping a client IP of a family this gateway lacks", "pod", p->key, "ip",
			 nl_ip_format(ip, text, sizeof(text)));
		return 0;
	}
	if (rc == 0)
		rc = hold(w, ip);
	if (rc < 0)
		return rc;
	p->ips[p->nips] = *ip;
	memcpy(p->ifnames[p->nips], ifname, IF_NAMESIZE);
	set_info(w, p, p->nips++, true);
	return 0;
}

static int sync_client(struct egress_watch *w, const struct egress_pod *pod, char *err,
		       size_t errlen)
{
	struct tracked_pod *p = track(w, pod);
	if (!p)
		return errorf(err, errlen, -ENOMEM, "track pod %s: out of memory", pod->key);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < p->nips;)
		if (!has_ip(pod->ips, pod->nips, &p->ips[i]))
			rc = release_ip_at(w, p, i, err, errlen);
		else
			i++;
	for (size_t i = 0; rc == 0 && i < pod->nips; i++)
		if (!has_ip(p->ips, p->nips, &pod->ips[i]))
			rc = add_ip(w, p, &pod->ips[i], err, errlen);
	return rc;
}

int egress_watch_sync(struct egress_watch *w, const char *key, const struct egress_pod *pod,
		      char *err, size_t errlen)
{
	int rc = 0;
	if (pod && egress_pod_is_client(pod)) {
		rc = sync_client(w, pod, err, errlen);
	} else {
		struct tracked_pod *p = find_pod(w, key);
		if (p)
			rc = forget_pod(w, p, err, errlen);
	}
	update_count(w);
	return rc;
}
