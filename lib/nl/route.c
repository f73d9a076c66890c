/* Routes: add/replace/delete, filtered dumps, and single-destination lookups. */
#include "nl_internal.h"

#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static void route_what(const char *verb, const struct nl_route *r, char *what, size_t len)
{
	char p[NL_PREFIX_STRLEN];
	nl_prefix_format(&r->dst, p, sizeof(p));
	if (r->table)
		snprintf(what, len, "%s route %s table %u", verb, p, r->table);
	else
		snprintf(what, len, "%s route %s", verb, p);
}

/* Fills an RTM_NEWROUTE/RTM_DELROUTE request from r. */
static void put_route(struct nlmsghdr *req, const struct nl_route *r)
{
	uint32_t table = r->table ? r->table : RT_TABLE_MAIN;
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(req, sizeof(*rtm));
	rtm->rtm_family = (unsigned char)r->dst.ip.family;
	rtm->rtm_dst_len = r->dst.len;
	/* rtm_table is 8 bits wide; RTA_TABLE carries the full id (needed above 255). */
	rtm->rtm_table = table < 256 ? (unsigned char)table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = r->protocol;
	rtm->rtm_scope = r->scope;
	rtm->rtm_type = r->type ? r->type : RTN_UNICAST;
	mnl_attr_put_u32(req, RTA_TABLE, table);
	if (r->dst.len)
		nl_put_ip(req, RTA_DST, &r->dst.ip);
	if (r->gateway.family)
		nl_put_ip(req, RTA_GATEWAY, &r->gateway);
	if (r->prefsrc.family)
		nl_put_ip(req, RTA_PREFSRC, &r->prefsrc);
	if (r->oif)
		mnl_attr_put_u32(req, RTA_OIF, (uint32_t)r->oif);
	if (r->priority)
		mnl_attr_put_u32(req, RTA_PRIORITY, r->priority);
}

static int route_change(struct nl_sock *s, uint16_t type, uint16_t flags, const struct nl_route *r,
			const char *verb, char *err, size_t errlen)
{
	char buf[NL_SEND_BUF], what[128];
	route_what(verb, r, what, sizeof(what));
	if (!nl_family_addrlen(r->dst.ip.family))
		return nl_fail(err, errlen, -EAFNOSUPPORT, what, "no address family");
	if (r->gateway.family && r->gateway.family != r->dst.ip.family)
		return nl_fail(err, errlen, -EINVAL, what, "gateway of another family");
	struct nlmsghdr *req = nl_msg_start(buf, type, flags);
	put_route(req, r);
	return nl_exec(s, req, what, err, errlen);
}

int nl_route_add(struct nl_sock *s, const struct nl_route *r, char *err, size_t errlen)
{
	return route_change(s, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, r, "add", err, errlen);
}

int nl_route_replace(struct nl_sock *s, const struct nl_route *r, char *err, size_t errlen)
{
	return route_change(s, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, r, "replace", err,
			    errlen);
}

int nl_route_del(struct nl_sock *s, const struct nl_route *r, char *err, size_t errlen)
{
	return route_change(s, RTM_DELROUTE, 0, r, "delete", err, errlen);
}

struct route_collect {
	struct nl_vec v;
	const struct nl_route_filter *f;
	size_t mark; /* items collected before the current family's dump */
};

/* A restarted dump drops only what the current family's attempt collected. */
static void reset_to_mark(void *arg)
{
	struct route_collect *c = arg;
	c->v.count = c->mark;
}

static bool route_matches(const struct nl_route *r, const struct nl_route_filter *f)
{
	return (!f->table || r->table == f->table) &&
	       (!f->protocol || r->protocol == f->protocol) && (!f->oif || r->oif == f->oif);
}

static int collect_route(const struct nlmsghdr *nlh, void *arg)
{
	struct route_collect *c = arg;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct nl_route r;
	if (nl_parse_route(nlh, &r) < 0 || (rtm->rtm_flags & RTM_F_CLONED))
		return 0;
	if (!route_matches(&r, c->f))
		return 0;
	struct nl_route *slot = nl_vec_push(&c->v);
	if (!slot)
		return -ENOMEM;
	*slot = r;
	return 0;
}

static int dump_family(struct nl_sock *s, int family, struct route_collect *c, char *err,
		       size_t errlen)
{
	char buf[NL_SEND_BUF], what[64];
	snprintf(what, sizeof(what), "list %s routes", family == AF_INET ? "IPv4" : "IPv6");
	if (c->f->table)
		snprintf(what, sizeof(what), "list %s routes of table %u",
			 family == AF_INET ? "IPv4" : "IPv6", c->f->table);
	struct nlmsghdr *req = nl_msg_start(buf, RTM_GETROUTE, 0);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(req, sizeof(*rtm));
	rtm->rtm_family = (unsigned char)family;
	/* Kernel-side filters (honoured with strict checking); we filter again in any case. */
	if (c->f->table)
		mnl_attr_put_u32(req, RTA_TABLE, c->f->table);
	if (c->f->oif)
		mnl_attr_put_u32(req, RTA_OIF, (uint32_t)c->f->oif);
	c->mark = c->v.count;
	int rc = nl_dump(s, req, collect_route, c, reset_to_mark, what, err, errlen);
	/* A table the kernel never created holds no routes; strict dumps answer ENOENT. */
	if (rc == -ENOENT && c->f->table) {
		c->v.count = c->mark;
		rc = 0;
	}
	return rc;
}

int nl_route_list(struct nl_sock *s, const struct nl_route_filter *f, struct nl_route **out,
		  size_t *count, char *err, size_t errlen)
{
	struct route_collect c = {.v = {.size = sizeof(struct nl_route)}, .f = f};
	int rc = 0;
	if (f->family == AF_UNSPEC || f->family == AF_INET)
		rc = dump_family(s, AF_INET, &c, err, errlen);
	if (rc == 0 && (f->family == AF_UNSPEC || f->family == AF_INET6))
		rc = dump_family(s, AF_INET6, &c, err, errlen);
	if (rc < 0) {
		free(c.v.items);
		return rc;
	}
	*out = c.v.items;
	*count = c.v.count;
	return 0;
}

static int one_route(const struct nlmsghdr *nlh, void *arg)
{
	return nl_parse_route(nlh, arg) == 0 ? 0 : -EPROTO;
}

int nl_route_get(struct nl_sock *s, const struct nl_ip *dst, struct nl_route *out, char *err,
		 size_t errlen)
{
	char buf[NL_SEND_BUF], what[80], a[NL_IP_STRLEN];
	snprintf(what, sizeof(what), "get route to %s", nl_ip_format(dst, a, sizeof(a)));
	if (!nl_family_addrlen(dst->family))
		return nl_fail(err, errlen, -EAFNOSUPPORT, what, "no address family");
	struct nlmsghdr *req = nl_msg_start(buf, RTM_GETROUTE, 0);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(req, sizeof(*rtm));
	rtm->rtm_family = (unsigned char)dst->family;
	rtm->rtm_dst_len = (unsigned char)(nl_family_addrlen(dst->family) * 8);
	nl_put_ip(req, RTA_DST, dst);
	memset(out, 0, sizeof(*out));
	return nl_query(s, req, one_route, out, what, err, errlen);
}
