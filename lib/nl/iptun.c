/* IP-in-IP tunnel links (ipip, ip6tnl) with UDP encapsulation options, their read-back, and
 * dummy links. Used by the FoU tunnels of the egress NAT. */
#include "nl_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_link.h>
#include <linux/if_tunnel.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static struct nlmsghdr *newlink_start(void *buf, const char *name, const char *kind,
				      struct nlattr **linkinfo)
{
	struct nlmsghdr *req = nl_msg_start(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(req, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(req, IFLA_IFNAME, name);
	*linkinfo = mnl_attr_nest_start(req, IFLA_LINKINFO);
	mnl_attr_put_str(req, IFLA_INFO_KIND, kind);
	return req;
}

/* The per-peer attributes, in the order and with the types upstream Coil sends them (ipip
 * takes PMTUDISC; ip6tnl takes FLAGS, FLOWINFO and ENCAP_LIMIT instead). */
static void put_peer_attrs(struct nlmsghdr *req, const struct nl_iptun *t)
{
	bool v6 = t->local.family == AF_INET6;
	nl_put_ip(req, IFLA_IPTUN_LOCAL, &t->local);
	nl_put_ip(req, IFLA_IPTUN_REMOTE, &t->remote);
	if (!v6)
		mnl_attr_put_u8(req, IFLA_IPTUN_PMTUDISC, 0);
	mnl_attr_put_u8(req, IFLA_IPTUN_TTL, t->ttl);
	mnl_attr_put_u8(req, IFLA_IPTUN_TOS, 0);
	if (v6) {
		mnl_attr_put_u32(req, IFLA_IPTUN_FLAGS, 0);
		mnl_attr_put_u8(req, IFLA_IPTUN_PROTO, 0);
		mnl_attr_put_u32(req, IFLA_IPTUN_FLOWINFO, 0);
		mnl_attr_put_u8(req, IFLA_IPTUN_ENCAP_LIMIT, 0);
	}
	mnl_attr_put_u16(req, IFLA_IPTUN_ENCAP_TYPE, t->encap_type);
	mnl_attr_put_u16(req, IFLA_IPTUN_ENCAP_FLAGS, 0);
	mnl_attr_put_u16(req, IFLA_IPTUN_ENCAP_SPORT, htons(t->encap_sport));
	mnl_attr_put_u16(req, IFLA_IPTUN_ENCAP_DPORT, htons(t->encap_dport));
	if (!v6)
		mnl_attr_put_u8(req, IFLA_IPTUN_PROTO, 0);
}

int nl_iptun_create(struct nl_sock *s, const struct nl_iptun *t, char *err, size_t errlen)
{
	char buf[NL_SEND_BUF], what[80];
	snprintf(what, sizeof(what), "create %s link %s", t->kind, t->name);
	if (!nl_ifname_valid(t->name))
		return nl_fail(err, errlen, -EINVAL, what, "invalid interface name");
	if (!t->collect_metadata && (t->local.family == 0 || t->local.family != t->remote.family))
		return nl_fail(err, errlen, -EINVAL, what,
			       "local and remote of different families");
	struct nlattr *linkinfo;
	struct nlmsghdr *req = newlink_start(buf, t->name, t->kind, &linkinfo);
	struct nlattr *data = mnl_attr_nest_start(req, IFLA_INFO_DATA);
	if (t->collect_metadata)
		mnl_attr_put(req, IFLA_IPTUN_COLLECT_METADATA, 0, NULL);
	else
		put_peer_attrs(req, t);
	mnl_attr_nest_end(req, data);
	mnl_attr_nest_end(req, linkinfo);
	return nl_exec(s, req, what, err, errlen);
}

int nl_dummy_create(struct nl_sock *s, const char *name, char *err, size_t errlen)
{
	char buf[NL_SEND_BUF], what[64];
	snprintf(what, sizeof(what), "create dummy link %s", name);
	if (!nl_ifname_valid(name))
		return nl_fail(err, errlen, -EINVAL, what, "invalid interface name");
	struct nlattr *linkinfo;
	struct nlmsghdr *req = newlink_start(buf, name, "dummy", &linkinfo);
	mnl_attr_nest_end(req, linkinfo);
	return nl_exec(s, req, what, err, errlen);
}

/* ---- read-back ---- */

struct iptun_parse {
	struct nl_iptun_info *out;
	int family;
};

static void iptun_data_attr(const struct nlattr *a, struct iptun_parse *p)
{
	struct nl_iptun_info *o = p->out;
	size_t len = mnl_attr_get_payload_len(a);
	switch (mnl_attr_get_type(a)) {
	case IFLA_IPTUN_LOCAL:
		nl_attr_ip(a, len == 16 ? AF_INET6 : AF_INET, &o->local);
		break;
	case IFLA_IPTUN_REMOTE:
		nl_attr_ip(a, len == 16 ? AF_INET6 : AF_INET, &o->remote);
		break;
	case IFLA_IPTUN_TTL:
		if (len >= 1)
			o->ttl = mnl_attr_get_u8(a);
		break;
	case IFLA_IPTUN_ENCAP_TYPE:
		if (len >= 2)
			o->encap_type = mnl_attr_get_u16(a);
		break;
	case IFLA_IPTUN_ENCAP_SPORT:
		if (len >= 2)
			o->encap_sport = ntohs(mnl_attr_get_u16(a));
		break;
	case IFLA_IPTUN_ENCAP_DPORT:
		if (len >= 2)
			o->encap_dport = ntohs(mnl_attr_get_u16(a));
		break;
	case IFLA_IPTUN_COLLECT_METADATA:
		o->collect_metadata = true;
		break;
	}
}

static int linkinfo_attr(const struct nlattr *a, void *data)
{
	struct iptun_parse *p = data;
	if (mnl_attr_get_type(a) != IFLA_INFO_DATA)
		return MNL_CB_OK;
	const struct nlattr *d;
	mnl_attr_for_each_nested(d, a)
	{
		iptun_data_attr(d, p);
	}
	return MNL_CB_OK;
}

static int top_attr(const struct nlattr *a, void *data)
{
	if (mnl_attr_get_type(a) == IFLA_LINKINFO)
		mnl_attr_parse_nested(a, linkinfo_attr, data);
	return MNL_CB_OK;
}

int nl_parse_iptun(const struct nlmsghdr *nlh, struct nl_iptun_info *out)
{
	memset(out, 0, sizeof(*out));
	int rc = nl_parse_link(nlh, &out->link);
	if (rc < 0)
		return rc;
	struct iptun_parse p = {.out = out};
	mnl_attr_parse(nlh, sizeof(struct ifinfomsg), top_attr, &p);
	return 0;
}

static int one_iptun(const struct nlmsghdr *nlh, void *arg)
{
	return nl_parse_iptun(nlh, arg);
}

int nl_iptun_get(struct nl_sock *s, const char *name, struct nl_iptun_info *out, char *err,
		 size_t errlen)
{
	char buf[NL_SEND_BUF], what[64];
	snprintf(what, sizeof(what), "get link %s", name);
	if (!nl_ifname_valid(name))
		return nl_fail(err, errlen, -EINVAL, what, "invalid interface name");
	struct nlmsghdr *req = nl_msg_start(buf, RTM_GETLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(req, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(req, IFLA_IFNAME, name);
	mnl_attr_put_u32(req, IFLA_EXT_MASK, 0);
	memset(out, 0, sizeof(*out));
	int rc = nl_query(s, req, one_iptun, out, what, err, errlen);
	if (rc == 0 && out->link.index == 0)
		rc = nl_fail(err, errlen, -ENODEV, what, NULL);
	return rc;
}
