/* Network namespace ids (RTM_GETNSID): how one netns names another, e.g. in a veth's
 * IFLA_LINK_NETNSID. */
#include "nl_internal.h"

#include <errno.h>
#include <linux/net_namespace.h>
#include <linux/rtnetlink.h>
#include <stdio.h>

static int nsid_attr(const struct nlattr *a, void *data)
{
	if (mnl_attr_get_type(a) == NETNSA_NSID && mnl_attr_get_payload_len(a) >= 4)
		*(int32_t *)data = (int32_t)mnl_attr_get_u32(a);
	return MNL_CB_OK;
}

static int read_nsid(const struct nlmsghdr *nlh, void *arg)
{
	if (nlh->nlmsg_type != RTM_NEWNSID)
		return 0;
	mnl_attr_parse(nlh, sizeof(struct rtgenmsg), nsid_attr, arg);
	return 0;
}

int nl_netns_id(struct nl_sock *s, int netns_fd, int32_t *nsid, char *err, size_t errlen)
{
	char buf[NL_SEND_BUF];
	struct nlmsghdr *req = nl_msg_start(buf, RTM_GETNSID, 0);
	struct rtgenmsg *g = mnl_nlmsg_put_extra_header(req, sizeof(*g));
	g->rtgen_family = AF_UNSPEC;
	mnl_attr_put_u32(req, NETNSA_FD, (uint32_t)netns_fd);
	*nsid = NETNSA_NSID_NOT_ASSIGNED;
	int rc = nl_query(s, req, read_nsid, nsid, "get netns id", err, errlen);
	if (rc == 0 && *nsid < 0)
		return nl_fail(err, errlen, -ENOENT, "get netns id", "no id assigned");
	return rc;
}
