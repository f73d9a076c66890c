/* Policy routing rules (RTM_NEWRULE / RTM_DELRULE / RTM_GETRULE). */
#include "nl_internal.h"

#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static void rule_what(const char *verb, const struct nl_rule *r, char *what, size_t len)
{
	char to[NL_PREFIX_STRLEN] = "all";
	if (r->dst.ip.family)
		nl_prefix_format(&r->dst, to, sizeof(to));
	snprintf(what, len, "%s %s rule pref %u to %s lookup %u", verb,
		 r->family == AF_INET6 ? "IPv6" : "IPv4", r->has_priority ? r->priority : 0, to,
		 r->table);
}

static int put_rule(struct nlmsghdr *req, const struct nl_rule *r)
{
	struct fib_rule_hdr *h = mnl_nlmsg_put_extra_header(req, sizeof(*h));
	if ((r->src.ip.family && r->src.ip.family != r->family) ||
	    (r->dst.ip.family && r->dst.ip.family != r->family))
		return -EINVAL;
	h->family = (unsigned char)r->family;
	h->action = FR_ACT_TO_TBL;
	h->table = r->table < 256 ? (unsigned char)r->table : RT_TABLE_UNSPEC;
	mnl_attr_put_u32(req, FRA_TABLE, r->table);
	if (r->has_priority)
		mnl_attr_put_u32(req, FRA_PRIORITY, r->priority);
	if (r->src.ip.family) {
		h->src_len = r->src.len;
		nl_put_ip(req, FRA_SRC, &r->src.ip);
	}
	if (r->dst.ip.family) {
		h->dst_len = r->dst.len;
		nl_put_ip(req, FRA_DST, &r->dst.ip);
	}
	if (r->iif[0])
		mnl_attr_put_strz(req, FRA_IIFNAME, r->iif);
	if (r->has_fwmark) {
		mnl_attr_put_u32(req, FRA_FWMARK, r->fwmark);
		mnl_attr_put_u32(req, FRA_FWMASK, r->fwmask ? r->fwmask : 0xffffffffu);
	}
	return 0;
}

static int rule_change(struct nl_sock *s, uint16_t type, uint16_t flags, const struct nl_rule *r,
		       const char *verb, char *err, size_t errlen)
{
	char buf[NL_SEND_BUF], what[128];
	rule_what(verb, r, what, sizeof(what));
	if (r->family != AF_INET && r->family != AF_INET6)
		return nl_fail(err, errlen, -EAFNOSUPPORT, what, "no address family");
	struct nlmsghdr *req = nl_msg_start(buf, type, flags);
	if (put_rule(req, r) < 0)
		return nl_fail(err, errlen, -EINVAL, what, "selector of another family");
	return nl_exec(s, req, what, err, errlen);
}

int nl_rule_add(struct nl_sock *s, const struct nl_rule *r, char *err, size_t errlen)
{
	return rule_change(s, RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, r, "add", err, errlen);
}

int nl_rule_del(struct nl_sock *s, const struct nl_rule *r, char *err, size_t errlen)
{
	return rule_change(s, RTM_DELRULE, 0, r, "delete", err, errlen);
}

static int collect_rule(const struct nlmsghdr *nlh, void *arg)
{
	struct nl_rule r;
	if (nl_parse_rule(nlh, &r) < 0)
		return 0;
	struct nl_rule *slot = nl_vec_push(arg);
	if (!slot)
		return -ENOMEM;
	*slot = r;
	return 0;
}

int nl_rule_list(struct nl_sock *s, int family, struct nl_rule **out, size_t *count, char *err,
		 size_t errlen)
{
	char buf[NL_SEND_BUF], what[64];
	struct nl_vec v = {.size = sizeof(struct nl_rule)};
	snprintf(what, sizeof(what), "list %s rules", family == AF_INET6 ? "IPv6" : "IPv4");
	if (family != AF_INET && family != AF_INET6)
		return nl_fail(err, errlen, -EAFNOSUPPORT, what, NULL);
	struct nlmsghdr *req = nl_msg_start(buf, RTM_GETRULE, 0);
	struct fib_rule_hdr *h = mnl_nlmsg_put_extra_header(req, sizeof(*h));
	h->family = (unsigned char)family;
	int rc = nl_dump(s, req, collect_rule, &v, nl_vec_reset, what, err, errlen);
	if (rc < 0) {
		free(v.items);
		return rc;
	}
	*out = v.items;
	*count = v.count;
	return 0;
}
