/* Generic netlink family lookup through the controller (GENL_ID_CTRL). */
#include "nl_internal.h"

#include <errno.h>
#include <linux/genetlink.h>
#include <stdio.h>

struct family_lookup {
	uint16_t id;
};

static int family_attr(const struct nlattr *a, void *data)
{
	struct family_lookup *f = data;
	if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID && mnl_attr_validate(a, MNL_TYPE_U16) == 0)
		f->id = mnl_attr_get_u16(a);
	return MNL_CB_OK;
}

static int family_reply(const struct nlmsghdr *nlh, void *arg)
{
	if (mnl_nlmsg_get_payload_len(nlh) < GENL_HDRLEN)
		return -EPROTO;
	mnl_attr_parse(nlh, GENL_HDRLEN, family_attr, arg);
	return 0;
}

int nl_genl_family_id(struct nl_sock *s, const char *name, uint16_t *id, char *err, size_t errlen)
{
	char buf[NL_SEND_BUF], what[80];
	snprintf(what, sizeof(what), "look up generic netlink family %s", name);
	struct nlmsghdr *req = nl_msg_start(buf, GENL_ID_CTRL, 0);
	struct genlmsghdr *g = mnl_nlmsg_put_extra_header(req, sizeof(*g));
	g->cmd = CTRL_CMD_GETFAMILY;
	g->version = 1;
	mnl_attr_put_strz(req, CTRL_ATTR_FAMILY_NAME, name);
	struct family_lookup f = {0};
	int rc = nl_query(s, req, family_reply, &f, what, err, errlen);
	if (rc == 0 && f.id == 0)
		rc = nl_fail(err, errlen, -ENOENT, what, NULL);
	if (rc == 0)
		*id = f.id;
	return rc;
}
