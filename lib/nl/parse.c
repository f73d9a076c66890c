/* Decoding of RTM_NEWLINK / NEWADDR / NEWROUTE / NEWRULE messages into plain structs.
 * Input is untrusted in the sense that every length is checked (fuzzed in test/fuzz/nl). */
#include "nl_internal.h"

#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>

bool nl_msg_ok(const struct nlmsghdr *nlh, size_t left)
{
	return left >= sizeof(*nlh) && nlh->nlmsg_len >= sizeof(*nlh) && nlh->nlmsg_len <= left;
}

const struct nlmsghdr *nl_msg_next(const struct nlmsghdr *nlh, size_t *left)
{
	size_t step = MNL_ALIGN((size_t)nlh->nlmsg_len);
	if (step >= *left) {
		*left = 0; /* nl_msg_ok now fails; never point past the buffer */
		return nlh;
	}
	*left -= step;
	return (const struct nlmsghdr *)((const char *)nlh + step);
}

void nl_attr_strcpy(const struct nlattr *a, char *dst, size_t dstlen)
{
	size_t n = mnl_attr_get_payload_len(a);
	const char *src = mnl_attr_get_payload(a);
	const char *nul = memchr(src, '\0', n);
	if (nul)
		n = (size_t)(nul - src);
	if (n >= dstlen)
		n = dstlen - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

int nl_attr_ip(const struct nlattr *a, int family, struct nl_ip *ip)
{
	size_t n = nl_family_addrlen(family);
	if (n == 0 || mnl_attr_get_payload_len(a) != n)
		return -EINVAL;
	memset(ip, 0, sizeof(*ip));
	ip->family = family;
	memcpy(ip->bytes, mnl_attr_get_payload(a), n);
	return 0;
}

void nl_put_ip(struct nlmsghdr *nlh, uint16_t type, const struct nl_ip *ip)
{
	mnl_attr_put(nlh, type, nl_family_addrlen(ip->family), ip->bytes);
}

static bool is_u32(const struct nlattr *a)
{
	return mnl_attr_get_payload_len(a) >= sizeof(uint32_t);
}

static bool is_u8(const struct nlattr *a)
{
	return mnl_attr_get_payload_len(a) >= sizeof(uint8_t);
}

/* ---- links ---- */

static int linkinfo_attr(const struct nlattr *a, void *data)
{
	struct nl_link *l = data;
	if (mnl_attr_get_type(a) == IFLA_INFO_KIND)
		nl_attr_strcpy(a, l->kind, sizeof(l->kind));
	return MNL_CB_OK;
}

static int link_attr(const struct nlattr *a, void *data)
{
	struct nl_link *l = data;
	size_t n = mnl_attr_get_payload_len(a);
	switch (mnl_attr_get_type(a)) {
	case IFLA_IFNAME:
		nl_attr_strcpy(a, l->name, sizeof(l->name));
		break;
	case IFLA_IFALIAS:
		nl_attr_strcpy(a, l->alias, sizeof(l->alias));
		break;
	case IFLA_MTU:
		if (is_u32(a))
			l->mtu = mnl_attr_get_u32(a);
		break;
	case IFLA_OPERSTATE:
		if (is_u8(a))
			l->operstate = mnl_attr_get_u8(a);
		break;
	case IFLA_ADDRESS:
		l->mac_len = n < NL_MAC_MAX ? n : NL_MAC_MAX;
		memcpy(l->mac, mnl_attr_get_payload(a), l->mac_len);
		break;
	case IFLA_LINKINFO:
		if (mnl_attr_validate(a, MNL_TYPE_NESTED) == 0)
			mnl_attr_parse_nested(a, linkinfo_attr, l);
		break;
	case IFLA_LINK_NETNSID:
		l->peer_in_other_netns = true;
		if (is_u32(a))
			l->peer_netnsid = (int32_t)mnl_attr_get_u32(a);
		break;
	}
	return MNL_CB_OK;
}

int nl_parse_link(const struct nlmsghdr *nlh, struct nl_link *out)
{
	memset(out, 0, sizeof(*out));
	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(struct ifinfomsg))
		return -EINVAL;
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	out->index = ifi->ifi_index;
	out->flags = ifi->ifi_flags;
	mnl_attr_parse(nlh, sizeof(*ifi), link_attr, out);
	return 0;
}

/* ---- addresses ---- */

struct addr_parse {
	struct nl_addr *a;
	int family;
	bool have_local;
};

static int addr_attr(const struct nlattr *a, void *data)
{
	struct addr_parse *p = data;
	switch (mnl_attr_get_type(a)) {
	case IFA_LOCAL:
		/* IFA_LOCAL is the own address; IFA_ADDRESS is the peer on point-to-point links. */
		if (nl_attr_ip(a, p->family, &p->a->local.ip) == 0)
			p->have_local = true;
		break;
	case IFA_ADDRESS:
		if (!p->have_local)
			nl_attr_ip(a, p->family, &p->a->local.ip);
		break;
	case IFA_FLAGS:
		if (is_u32(a))
			p->a->flags = mnl_attr_get_u32(a);
		break;
	}
	return MNL_CB_OK;
}

int nl_parse_addr(const struct nlmsghdr *nlh, struct nl_addr *out)
{
	memset(out, 0, sizeof(*out));
	if ((nlh->nlmsg_type != RTM_NEWADDR && nlh->nlmsg_type != RTM_DELADDR) ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(struct ifaddrmsg))
		return -EINVAL;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct addr_parse p = {.a = out, .family = ifa->ifa_family};
	if (nl_family_addrlen(ifa->ifa_family) == 0 ||
	    ifa->ifa_prefixlen > nl_family_addrlen(ifa->ifa_family) * 8)
		return -EINVAL;
	out->ifindex = (int)ifa->ifa_index;
	out->local.len = ifa->ifa_prefixlen;
	out->scope = ifa->ifa_scope;
	out->flags = ifa->ifa_flags; /* IFA_FLAGS, if present, carries all 32 bits */
	mnl_attr_parse(nlh, sizeof(*ifa), addr_attr, &p);
	return out->local.ip.family ? 0 : -EINVAL;
}

/* ---- routes ---- */

struct route_parse {
	struct nl_route *r;
	int family;
};

static int route_attr(const struct nlattr *a, void *data)
{
	struct route_parse *p = data;
	struct nl_route *r = p->r;
	switch (mnl_attr_get_type(a)) {
	case RTA_DST:
		nl_attr_ip(a, p->family, &r->dst.ip);
		break;
	case RTA_GATEWAY:
		nl_attr_ip(a, p->family, &r->gateway);
		break;
	case RTA_PREFSRC:
		nl_attr_ip(a, p->family, &r->prefsrc);
		break;
	case RTA_OIF:
		if (is_u32(a))
			r->oif = (int)mnl_attr_get_u32(a);
		break;
	case RTA_TABLE:
		if (is_u32(a))
			r->table = mnl_attr_get_u32(a);
		break;
	case RTA_PRIORITY:
		if (is_u32(a))
			r->priority = mnl_attr_get_u32(a);
		break;
	}
	return MNL_CB_OK;
}

int nl_parse_route(const struct nlmsghdr *nlh, struct nl_route *out)
{
	memset(out, 0, sizeof(*out));
	/* RTM_DELROUTE too: route notifications of deletions carry the same body. */
	if ((nlh->nlmsg_type != RTM_NEWROUTE && nlh->nlmsg_type != RTM_DELROUTE) ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(struct rtmsg))
		return -EINVAL;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	size_t alen = nl_family_addrlen(rtm->rtm_family);
	if (alen == 0 || rtm->rtm_dst_len > alen * 8)
		return -EINVAL;
	struct route_parse p = {.r = out, .family = rtm->rtm_family};
	out->table = rtm->rtm_table;
	out->protocol = rtm->rtm_protocol;
	out->scope = rtm->rtm_scope;
	out->type = rtm->rtm_type;
	mnl_attr_parse(nlh, sizeof(*rtm), route_attr, &p);
	/* A route without RTA_DST is a default route: give it its family's zero address. */
	out->dst.ip.family = rtm->rtm_family;
	out->dst.len = rtm->rtm_dst_len;
	return 0;
}

/* ---- rules ---- */

struct rule_parse {
	struct nl_rule *r;
	const struct fib_rule_hdr *h;
};

static int rule_attr(const struct nlattr *a, void *data)
{
	struct rule_parse *p = data;
	struct nl_rule *r = p->r;
	switch (mnl_attr_get_type(a)) {
	case FRA_PRIORITY:
		if (is_u32(a)) {
			r->has_priority = true;
			r->priority = mnl_attr_get_u32(a);
		}
		break;
	case FRA_TABLE:
		if (is_u32(a))
			r->table = mnl_attr_get_u32(a);
		break;
	case FRA_DST:
		if (nl_attr_ip(a, r->family, &r->dst.ip) == 0)
			r->dst.len = p->h->dst_len;
		break;
	case FRA_SRC:
		if (nl_attr_ip(a, r->family, &r->src.ip) == 0)
			r->src.len = p->h->src_len;
		break;
	case FRA_IIFNAME:
		nl_attr_strcpy(a, r->iif, sizeof(r->iif));
		break;
	case FRA_FWMARK:
		if (is_u32(a)) {
			r->has_fwmark = true;
			r->fwmark = mnl_attr_get_u32(a);
		}
		break;
	case FRA_FWMASK:
		if (is_u32(a))
			r->fwmask = mnl_attr_get_u32(a);
		break;
	}
	return MNL_CB_OK;
}

int nl_parse_rule(const struct nlmsghdr *nlh, struct nl_rule *out)
{
	memset(out, 0, sizeof(*out));
	if ((nlh->nlmsg_type != RTM_NEWRULE && nlh->nlmsg_type != RTM_DELRULE) ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(struct fib_rule_hdr))
		return -EINVAL;
	const struct fib_rule_hdr *h = mnl_nlmsg_get_payload(nlh);
	size_t alen = nl_family_addrlen(h->family);
	if (alen == 0 || h->dst_len > alen * 8 || h->src_len > alen * 8)
		return -EINVAL;
	struct rule_parse p = {.r = out, .h = h};
	out->family = h->family;
	out->table = h->table;
	mnl_attr_parse(nlh, sizeof(*h), rule_attr, &p);
	return 0;
}
