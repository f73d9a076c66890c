/* The eight coil_egress_* gauges (upstream declares them all as gauges, even *_total). */
#include "egress/egress.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "err/err.h"

static const struct {
	const char *name, *help;
} gauges[] = {
    {"coil_egress_client_pod_count", "the number of client pods which use this egress"},
    {"coil_egress_client_pod_info", "information of a client pod which uses this egress"},
    {"coil_egress_nf_conntrack_entries_count", "the number of entries in the nf_conntrack table"},
    {"coil_egress_nf_conntrack_entries_limit", "the limit of the nf_conntrack table"},
    {"coil_egress_nftables_masqueraded_packets_total",
     "the number of packets that are masqueraded by nftables"},
    {"coil_egress_nftables_masqueraded_bytes_total",
     "the number of bytes that are masqueraded by nftables"},
    {"coil_egress_nftables_invalid_packets_total",
     "the number of packets that are dropped as invalid packets by nftables"},
    {"coil_egress_nftables_invalid_bytes_total",
     "the number of bytes that are dropped as invalid packets by nftables"},
};

int egress_metrics_declare(struct metrics *m)
{
	for (size_t i = 0; i < sizeof(gauges) / sizeof(gauges[0]); i++) {
		int rc = metrics_declare(m, gauges[i].name, METRIC_GAUGE, gauges[i].help);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ---- conntrack statistics over ctnetlink ---- */

static int stats_attr(const struct nlattr *a, void *data)
{
	struct egress_conntrack *out = data;
	if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
		return MNL_CB_OK;
	if (mnl_attr_get_type(a) == CTA_STATS_GLOBAL_ENTRIES)
		out->count = ntohl(mnl_attr_get_u32(a));
	else if (mnl_attr_get_type(a) == CTA_STATS_GLOBAL_MAX_ENTRIES)
		out->max = ntohl(mnl_attr_get_u32(a));
	return MNL_CB_OK;
}

static int stats_reply(const struct nlmsghdr *nlh, void *arg)
{
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(struct nfgenmsg))
		return -EPROTO;
	mnl_attr_parse(nlh, sizeof(struct nfgenmsg), stats_attr, arg);
	return 0;
}

int egress_conntrack_stats(struct egress_conntrack *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	struct nl_sock s;
	int rc = nl_sock_open_proto(&s, NETLINK_NETFILTER, err, errlen);
	if (rc < 0)
		return rc;
	char buf[NL_SEND_BUF];
	struct nlmsghdr *req =
	    nl_msg_start(buf, (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET_STATS, 0);
	struct nfgenmsg *g = mnl_nlmsg_put_extra_header(req, sizeof(*g));
	g->nfgen_family = AF_UNSPEC;
	g->version = NFNETLINK_V0;
	rc = nl_query(&s, req, stats_reply, out, "read conntrack statistics", err, errlen);
	nl_sock_close(&s);
	return rc;
}

/* ---- one round ---- */

static int set_gauge(struct metrics *m, const char *name, const char *labels, uint64_t value)
{
	return metrics_set(m, name, labels, (double)value);
}

static int collect_family(struct metrics *m, const struct egress_env *env, int family, char *err,
			  size_t errlen)
{
	char labels[512];
	const char *protocol = family == AF_INET6 ? "ipv6" : "ipv4";
	int rc = metrics_labels(labels, sizeof(labels), "egress", env->name, "namespace", env->ns,
				"pod", env->pod, "protocol", protocol, NULL);
	struct natrules_counter c;
	if (rc == 0) {
		rc = natrules_nft_first_counter(family, "nat", "POSTROUTING", &c, err, errlen);
		if (rc == -ENOENT)
			errorf(err, errlen, rc, "a masquerade rule is not found");
	}
	if (rc == 0) {
		set_gauge(m, "coil_egress_nftables_masqueraded_packets_total", labels, c.packets);
		set_gauge(m, "coil_egress_nftables_masqueraded_bytes_total", labels, c.bytes);
		rc = natrules_nft_first_counter(family, "filter", "FORWARD", &c, err, errlen);
		if (rc == -ENOENT)
			errorf(err, errlen, rc, "a rule for invalid packets is not found");
	}
	if (rc == 0) {
		set_gauge(m, "coil_egress_nftables_invalid_packets_total", labels, c.packets);
		set_gauge(m, "coil_egress_nftables_invalid_bytes_total", labels, c.bytes);
	}
	return rc;
}

int egress_collect(struct metrics *m, const struct egress_env *env, char *err, size_t errlen)
{
	char labels[512];
	int rc = metrics_labels(labels, sizeof(labels), "egress", env->name, "namespace", env->ns,
				"pod", env->pod, NULL);
	struct egress_conntrack ct;
	if (rc == 0)
		rc = egress_conntrack_stats(&ct, err, errlen);
	if (rc == 0) {
		set_gauge(m, "coil_egress_nf_conntrack_entries_count", labels, ct.count);
		set_gauge(m, "coil_egress_nf_conntrack_entries_limit", labels, ct.max);
	}
	if (rc == 0 && env->local4.family)
		rc = collect_family(m, env, AF_INET, err, errlen);
	if (rc == 0 && env->local6.family)
		rc = collect_family(m, env, AF_INET6, err, errlen);
	return rc;
}
