/* veth pairs whose peer is born directly in another netns (IFLA_NET_NS_FD). */
#include "nl_internal.h"

#include <errno.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

int nl_veth_create(struct nl_sock *s, const struct nl_veth *veth, char *err, size_t errlen)
{
	char buf[NL_SEND_BUF], what[96];
	snprintf(what, sizeof(what), "create veth %s peer %s", veth->name, veth->peer_name);
	if (!nl_ifname_valid(veth->name) || !nl_ifname_valid(veth->peer_name))
		return nl_fail(err, errlen, -EINVAL, what, "invalid interface name");

	struct nlmsghdr *req = nl_msg_start(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(req, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(req, IFLA_IFNAME, veth->name);
	if (veth->mtu)
		mnl_attr_put_u32(req, IFLA_MTU, veth->mtu);

	struct nlattr *linkinfo = mnl_attr_nest_start(req, IFLA_LINKINFO);
	mnl_attr_put_strz(req, IFLA_INFO_KIND, "veth");
	struct nlattr *data = mnl_attr_nest_start(req, IFLA_INFO_DATA);
	struct nlattr *peer = mnl_attr_nest_start(req, VETH_INFO_PEER);
	/* The peer's attributes follow its own ifinfomsg, as in a top-level RTM_NEWLINK. */
	struct ifinfomsg *peer_ifi = mnl_nlmsg_put_extra_header(req, sizeof(*peer_ifi));
	memset(peer_ifi, 0, sizeof(*peer_ifi));
	peer_ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(req, IFLA_IFNAME, veth->peer_name);
	if (veth->mtu)
		mnl_attr_put_u32(req, IFLA_MTU, veth->mtu);
	if (veth->peer_netns_fd >= 0)
		mnl_attr_put_u32(req, IFLA_NET_NS_FD, (uint32_t)veth->peer_netns_fd);
	mnl_attr_nest_end(req, peer);
	mnl_attr_nest_end(req, data);
	mnl_attr_nest_end(req, linkinfo);
	return nl_exec(s, req, what, err, errlen);
}
