/* Egress-only mode: another CNI made the pod's veth; coil only records its ownership on the
 * host end, so that CHECK and the Egress watcher find the pod again. */
#include "podnet/podnet_internal.h"

#include <errno.h>

#include "err/err.h"

int podnet_set_owner_alias(struct podnet *pn, const char *host_ifname, const char *container_id,
			   const char *ifname, char *err, size_t errlen)
{
	char alias[NL_ALIAS_MAX];
	struct nl_sock s = {0};
	struct nl_link link;
	int ret = podnet_alias_format("", container_id, ifname, alias, sizeof(alias));
	if (ret < 0)
		return errorf(err, errlen, ret, "alias for %s is too long", container_id);
	ret = nl_sock_open(&s, err, errlen);
	if (ret == 0)
		ret = nl_link_get_by_name(&s, host_ifname, &link, err, errlen);
	if (ret == 0)
		ret = nl_link_set_alias(&s, link.index, alias, err, errlen);
	nl_sock_close(&s);
	return ret;
}
