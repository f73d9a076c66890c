/* FoU listeners through the "fou" generic netlink family. */
#include "founat/founat.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/fou.h>
#include <linux/genetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "err/err.h"

/* Opens a generic netlink socket in the thread's netns and resolves the fou family. */
static int open_fou(struct nl_sock *s, uint16_t *family, char *err, size_t errlen)
{
	int rc = nl_sock_open_proto(s, NETLINK_GENERIC, err, errlen);
	if (rc < 0)
		return rc;
	rc = nl_genl_family_id(s, FOU_GENL_NAME, family, err, errlen);
	if (rc == -ENOENT)
		rc = errorf(err, errlen, rc,
			    "the fou kernel module is not loaded (generic netlink "
			    "family fou is missing)");
	if (rc < 0)
		nl_sock_close(s);
	return rc;
}

static struct nlmsghdr *fou_msg(void *buf, uint16_t family, uint8_t cmd, uint16_t flags)
{
	struct nlmsghdr *req = nl_msg_start(buf, family, flags);
	struct genlmsghdr *g = mnl_nlmsg_put_extra_header(req, sizeof(*g));
	g->cmd = cmd;
	g->version = FOU_GENL_VERSION;
	return req;
}

int founat_fou_add(const struct founat_listener *l, char *err, size_t errlen)
{
	struct nl_sock s;
	uint16_t family;
	int rc = open_fou(&s, &family, err, errlen);
	if (rc < 0)
		return rc;
	char buf[NL_SEND_BUF], what[64];
	snprintf(what, sizeof(what), "add FoU port %u ipproto %u", l->port, l->ipproto);
	struct nlmsghdr *req = fou_msg(buf, family, FOU_CMD_ADD, 0);
	mnl_attr_put_u16(req, FOU_ATTR_PORT, htons(l->port));
	mnl_attr_put_u8(req, FOU_ATTR_TYPE, FOUNAT_ENCAP_DIRECT);
	mnl_attr_put_u8(req, FOU_ATTR_AF, (uint8_t)l->family);
	mnl_attr_put_u8(req, FOU_ATTR_IPPROTO, l->ipproto);
	rc = nl_exec(&s, req, what, err, errlen);
	/* The kernel binds the listener's socket before checking its own list, so an existing
	 * listener shows as EADDRINUSE (EALREADY in the other order). It is what we want. */
	if (rc == -EADDRINUSE || rc == -EALREADY || rc == -EEXIST) {
		struct founat_listener *have = NULL;
		size_t n = 0;
		bool found = false;
		if (founat_fou_list(&have, &n, NULL, 0) == 0)
			for (size_t i = 0; i < n; i++)
				found |= have[i].port == l->port && have[i].family == l->family;
		free(have);
		if (found)
			rc = 0;
	}
	nl_sock_close(&s);
	return rc;
}

struct fou_collect {
	struct founat_listener *items;
	size_t count, cap;
	int rc;
};

static int fou_attr(const struct nlattr *a, void *data)
{
	struct founat_listener *l = data;
	switch (mnl_attr_get_type(a)) {
	case FOU_ATTR_PORT:
		if (mnl_attr_validate(a, MNL_TYPE_U16) == 0)
			l->port = ntohs(mnl_attr_get_u16(a));
		break;
	case FOU_ATTR_AF:
		if (mnl_attr_validate(a, MNL_TYPE_U8) == 0)
			l->family = mnl_attr_get_u8(a);
		break;
	case FOU_ATTR_IPPROTO:
		if (mnl_attr_validate(a, MNL_TYPE_U8) == 0)
			l->ipproto = mnl_attr_get_u8(a);
		break;
	}
	return MNL_CB_OK;
}

static int collect_fou(const struct nlmsghdr *nlh, void *arg)
{
	struct fou_collect *c = arg;
	if (mnl_nlmsg_get_payload_len(nlh) < GENL_HDRLEN)
		return -EPROTO;
	if (c->count == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 4;
		void *p = realloc(c->items, cap * sizeof(*c->items));
		if (!p)
			return -ENOMEM;
		c->items = p;
		c->cap = cap;
	}
	struct founat_listener *l = &c->items[c->count++];
	memset(l, 0, sizeof(*l));
	mnl_attr_parse(nlh, GENL_HDRLEN, fou_attr, l);
	l->module = l->family == AF_INET6 ? "fou6" : "fou";
	return 0;
}

static void reset_fou(void *arg)
{
	((struct fou_collect *)arg)->count = 0;
}

int founat_fou_list(struct founat_listener **out, size_t *count, char *err, size_t errlen)
{
	*out = NULL;
	*count = 0;
	struct nl_sock s;
	uint16_t family;
	int rc = open_fou(&s, &family, err, errlen);
	if (rc < 0)
		return rc;
	char buf[NL_SEND_BUF];
	struct nlmsghdr *req = fou_msg(buf, family, FOU_CMD_GET, 0);
	struct fou_collect c = {0};
	rc = nl_dump(&s, req, collect_fou, &c, reset_fou, "list FoU ports", err, errlen);
	nl_sock_close(&s);
	if (rc < 0) {
		free(c.items);
		return rc;
	}
	*out = c.items;
	*count = c.count;
	return 0;
}
