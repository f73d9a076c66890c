/* libFuzzer target: random bytes as a buffer of netlink messages, handed to the link (and
 * tunnel link), addr, route and rule parsers as the dump callbacks would. The message type is
 * forced to each parser's type so that every parser sees every input. */
#include <linux/rtnetlink.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>

#include "nl/nl.h"
#include "podnet/podnet.h"

static void parse_all(struct nlmsghdr *nlh)
{
	static const uint16_t types[] = {RTM_NEWLINK, RTM_NEWADDR, RTM_NEWROUTE, RTM_NEWRULE};
	struct nl_link l;
	struct nl_addr a;
	struct nl_route r;
	struct nl_rule u;
	struct nl_iptun_info t;
	struct podnet_entry e;
	char text[NL_PREFIX_STRLEN];
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		nlh->nlmsg_type = types[i];
		if (nl_parse_link(nlh, &l) == 0)
			podnet_alias_parse(l.alias, &e);
		if (nl_parse_iptun(nlh, &t) == 0)
			nl_ip_format(&t.remote, text, sizeof(text));
		if (nl_parse_addr(nlh, &a) == 0)
			nl_prefix_format(&a.local, text, sizeof(text));
		if (nl_parse_route(nlh, &r) == 0)
			nl_prefix_format(&r.dst, text, sizeof(text));
		nl_parse_rule(nlh, &u);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Like the receive buffer: 4-byte aligned, with the alignment tail inside the buffer. */
	size_t cap = MNL_ALIGN(size) + 4;
	uint32_t *buf = calloc(1, cap);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	size_t left = size;
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	while (nl_msg_ok(nlh, left)) {
		parse_all(nlh);
		nlh = (struct nlmsghdr *)nl_msg_next(nlh, &left);
	}
	free(buf);
	return 0;
}
