/* Interface addresses (RTM_NEWADDR / RTM_DELADDR / RTM_GETADDR). */
#include "nl_internal.h"

#include <errno.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static void addr_what(const char *verb, const struct nl_addr *a, char *what, size_t len)
{
	char p[NL_PREFIX_STRLEN];
	snprintf(what, len, "%s address %s on link #%d", verb,
		 nl_prefix_format(&a->local, p, sizeof(p)), a->ifindex);
}

static int addr_change(struct nl_sock *s, uint16_t type, uint16_t flags, const struct nl_addr *a,
		       const char *what, char *err, size_t errlen)
{
	char buf[NL_SEND_BUF];
	if (!nl_family_addrlen(a->local.ip.family))
		return nl_fail(err, errlen, -EAFNOSUPPORT, what, "no address family");
	struct nlmsghdr *req = nl_msg_start(buf, type, flags);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(req, sizeof(*ifa));
	ifa->ifa_family = (unsigned char)a->local.ip.family;
	ifa->ifa_prefixlen = a->local.len;
	ifa->ifa_scope = a->scope;
	ifa->ifa_index = (unsigned)a->ifindex;
	ifa->ifa_flags = (unsigned char)(a->flags & 0xff);
	/* Same attributes as iproute2: IFA_LOCAL and IFA_ADDRESS both carry the own address;
	 * no IFA_BROADCAST. */
	nl_put_ip(req, IFA_LOCAL, &a->local.ip);
	nl_put_ip(req, IFA_ADDRESS, &a->local.ip);
	if (a->flags > 0xff)
		mnl_attr_put_u32(req, IFA_FLAGS, a->flags);
	return nl_exec(s, req, what, err, errlen);
}

int nl_addr_add(struct nl_sock *s, const struct nl_addr *a, char *err, size_t errlen)
{
	char what[128];
	addr_what("add", a, what, sizeof(what));
	return addr_change(s, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, a, what, err, errlen);
}

int nl_addr_del(struct nl_sock *s, const struct nl_addr *a, char *err, size_t errlen)
{
	char what[128];
	addr_what("delete", a, what, sizeof(what));
	return addr_change(s, RTM_DELADDR, 0, a, what, err, errlen);
}

struct addr_filter {
	struct nl_vec v;
	int family;
	int ifindex;
};

static int collect_addr(const struct nlmsghdr *nlh, void *arg)
{
	struct addr_filter *f = arg;
	struct nl_addr a;
	if (nl_parse_addr(nlh, &a) < 0)
		return 0; /* an address family we do not model */
	if ((f->family && a.local.ip.family != f->family) ||
	    (f->ifindex && a.ifindex != f->ifindex))
		return 0;
	struct nl_addr *slot = nl_vec_push(&f->v);
	if (!slot)
		return -ENOMEM;
	*slot = a;
	return 0;
}

int nl_addr_list(struct nl_sock *s, int family, int ifindex, struct nl_addr **out, size_t *count,
		 char *err, size_t errlen)
{
	char buf[NL_SEND_BUF], what[64];
	struct addr_filter f = {.v = {.size = sizeof(struct nl_addr)}, family, ifindex};
	snprintf(what, sizeof(what), "list addresses of link #%d", ifindex);
	struct nlmsghdr *req = nl_msg_start(buf, RTM_GETADDR, 0);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(req, sizeof(*ifa));
	ifa->ifa_family = (unsigned char)family;
	/* With strict checking the kernel filters by index itself; we filter again anyway. */
	ifa->ifa_index = (unsigned)ifindex;
	int rc = nl_dump(s, req, collect_addr, &f, nl_vec_reset, what, err, errlen);
	if (rc < 0) {
		free(f.v.items);
		return rc;
	}
	*out = f.v.items;
	*count = f.v.count;
	return 0;
}
