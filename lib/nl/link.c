/* Link lookups, dumps and attribute changes (RTM_GETLINK / RTM_NEWLINK / RTM_DELLINK). */
#include "nl_internal.h"

#include <ctype.h>
#include <errno.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

bool nl_ifname_valid(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n >= IF_NAMESIZE || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (const char *c = name; *c; c++)
		if (*c == '/' || *c == ':' || isspace((unsigned char)*c))
			return false;
	return true;
}

const char *nl_mac_format(const unsigned char *mac, size_t len, char *buf, size_t buflen)
{
	size_t used = 0;
	if (buflen)
		buf[0] = '\0';
	for (size_t i = 0; i < len && used + 3 <= buflen; i++)
		used += (size_t)snprintf(buf + used, buflen - used, i ? ":%02x" : "%02x", mac[i]);
	return buf;
}

static struct ifinfomsg *link_msg(struct nlmsghdr *nlh, int index)
{
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = index;
	return ifi;
}

static int one_link(const struct nlmsghdr *nlh, void *arg)
{
	return nl_parse_link(nlh, arg);
}

static int get_link(struct nl_sock *s, struct nlmsghdr *req, struct nl_link *out, const char *what,
		    char *err, size_t errlen)
{
	/* Skip statistics and VF data we never read; the reply stays small. */
	mnl_attr_put_u32(req, IFLA_EXT_MASK, 0);
	out->index = 0;
	int rc = nl_query(s, req, one_link, out, what, err, errlen);
	if (rc == 0 && out->index == 0)
		rc = nl_fail(err, errlen, -ENODEV, what, NULL);
	return rc;
}

int nl_link_get_by_name(struct nl_sock *s, const char *name, struct nl_link *out, char *err,
			size_t errlen)
{
	char buf[NL_SEND_BUF], what[64];
	snprintf(what, sizeof(what), "get link %s", name);
	if (!nl_ifname_valid(name))
		return nl_fail(err, errlen, -EINVAL, what, "invalid interface name");
	struct nlmsghdr *req = nl_msg_start(buf, RTM_GETLINK, 0);
	link_msg(req, 0);
	mnl_attr_put_strz(req, IFLA_IFNAME, name);
	return get_link(s, req, out, what, err, errlen);
}

int nl_link_get_by_index(struct nl_sock *s, int index, struct nl_link *out, char *err,
			 size_t errlen)
{
	char buf[NL_SEND_BUF], what[64];
	snprintf(what, sizeof(what), "get link #%d", index);
	struct nlmsghdr *req = nl_msg_start(buf, RTM_GETLINK, 0);
	link_msg(req, index);
	return get_link(s, req, out, what, err, errlen);
}

static int collect_link(const struct nlmsghdr *nlh, void *arg)
{
	struct nl_link *slot = nl_vec_push(arg);
	if (!slot)
		return -ENOMEM;
	return nl_parse_link(nlh, slot) == 0 ? 0 : -EPROTO;
}

int nl_link_list(struct nl_sock *s, struct nl_link **out, size_t *count, char *err, size_t errlen)
{
	char buf[NL_SEND_BUF];
	struct nl_vec v = {.size = sizeof(struct nl_link)};
	struct nlmsghdr *req = nl_msg_start(buf, RTM_GETLINK, 0);
	link_msg(req, 0);
	mnl_attr_put_u32(req, IFLA_EXT_MASK, 0);
	int rc = nl_dump(s, req, collect_link, &v, nl_vec_reset, "list links", err, errlen);
	if (rc < 0) {
		free(v.items);
		return rc;
	}
	*out = v.items;
	*count = v.count;
	return 0;
}

int nl_link_set_up(struct nl_sock *s, int index, bool up, char *err, size_t errlen)
{
	char buf[NL_SEND_BUF], what[64];
	snprintf(what, sizeof(what), "set link #%d %s", index, up ? "up" : "down");
	struct nlmsghdr *req = nl_msg_start(buf, RTM_NEWLINK, 0);
	struct ifinfomsg *ifi = link_msg(req, index);
	ifi->ifi_change = IFF_UP;
	ifi->ifi_flags = up ? IFF_UP : 0;
	return nl_exec(s, req, what, err, errlen);
}

int nl_link_set_mtu(struct nl_sock *s, int index, unsigned mtu, char *err, size_t errlen)
{
	char buf[NL_SEND_BUF], what[64];
	snprintf(what, sizeof(what), "set mtu %u on link #%d", mtu, index);
	struct nlmsghdr *req = nl_msg_start(buf, RTM_NEWLINK, 0);
	link_msg(req, index);
	mnl_attr_put_u32(req, IFLA_MTU, mtu);
	return nl_exec(s, req, what, err, errlen);
}

int nl_link_set_alias(struct nl_sock *s, int index, const char *alias, char *err, size_t errlen)
{
	char buf[NL_SEND_BUF], what[NL_ALIAS_MAX + 64];
	snprintf(what, sizeof(what), "set alias \"%s\" on link #%d", alias, index);
	if (strlen(alias) >= NL_ALIAS_MAX)
		return nl_fail(err, errlen, -EINVAL, what, "alias too long");
	struct nlmsghdr *req = nl_msg_start(buf, RTM_NEWLINK, 0);
	link_msg(req, index);
	/* The kernel stores the payload length as given; no trailing NUL, like iproute2. */
	mnl_attr_put(req, IFLA_IFALIAS, strlen(alias), alias);
	return nl_exec(s, req, what, err, errlen);
}

int nl_link_rename(struct nl_sock *s, int index, const char *name, char *err, size_t errlen)
{
	char buf[NL_SEND_BUF], what[64];
	snprintf(what, sizeof(what), "rename link #%d to %s", index, name);
	if (!nl_ifname_valid(name))
		return nl_fail(err, errlen, -EINVAL, what, "invalid interface name");
	struct nlmsghdr *req = nl_msg_start(buf, RTM_NEWLINK, 0);
	link_msg(req, index);
	mnl_attr_put_strz(req, IFLA_IFNAME, name);
	return nl_exec(s, req, what, err, errlen);
}

int nl_link_delete(struct nl_sock *s, int index, char *err, size_t errlen)
{
	char buf[NL_SEND_BUF], what[64];
	snprintf(what, sizeof(what), "delete link #%d", index);
	struct nlmsghdr *req = nl_msg_start(buf, RTM_DELLINK, 0);
	link_msg(req, index);
	return nl_exec(s, req, what, err, errlen);
}

int nl_link_delete_by_name(struct nl_sock *s, const char *name, char *err, size_t errlen)
{
	char buf[NL_SEND_BUF], what[64];
	snprintf(what, sizeof(what), "delete link %s", name);
	if (!nl_ifname_valid(name))
		return nl_fail(err, errlen, -EINVAL, what, "invalid interface name");
	struct nlmsghdr *req = nl_msg_start(buf, RTM_DELLINK, 0);
	link_msg(req, 0);
	mnl_attr_put_strz(req, IFLA_IFNAME, name);
	return nl_exec(s, req, what, err, errlen);
}

int nl_link_retire(struct nl_sock *s, int index, uint32_t group, const char *alias, char *err,
		   size_t errlen)
{
	char buf[NL_SEND_BUF], what[64];
	snprintf(what, sizeof(what), "retire link #%d", index);
	if (strlen(alias) >= NL_ALIAS_MAX)
		return nl_fail(err, errlen, -EINVAL, what, "alias too long");
	struct nlmsghdr *req = nl_msg_start(buf, RTM_NEWLINK, 0);
	struct ifinfomsg *ifi = link_msg(req, index);
	ifi->ifi_change = IFF_UP;
	ifi->ifi_flags = 0;
	mnl_attr_put_u32(req, IFLA_GROUP, group);
	mnl_attr_put(req, IFLA_IFALIAS, strlen(alias), alias);
	return nl_exec(s, req, what, err, errlen);
}

int nl_link_delete_group(struct nl_sock *s, uint32_t group, char *err, size_t errlen)
{
	char buf[NL_SEND_BUF], what[64];
	snprintf(what, sizeof(what), "delete link group %u", group);
	if (group == 0)
		return nl_fail(err, errlen, -EINVAL, what, "group 0 is every link's");
	struct nlmsghdr *req = nl_msg_start(buf, RTM_DELLINK, 0);
	link_msg(req, 0);
	mnl_attr_put_u32(req, IFLA_GROUP, group);
	return nl_exec(s, req, what, err, errlen);
}
