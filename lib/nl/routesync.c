/* Route-set sync: make one table contain exactly a set of destinations (the node daemon's
 * export of its address blocks to table 119). */
#include "nl_internal.h"

#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <sys/socket.h>

static bool prefix_in(const struct nl_prefix *p, const struct nl_prefix *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (nl_prefix_equal(p, &set[i]))
			return true;
	return false;
}

/* Deletes every route of the table whose destination is not wanted. */
static int delete_unwanted(struct nl_sock *s, const struct nl_route *have, size_t nhave,
			   const struct nl_prefix *want, size_t nwant, char *err, size_t errlen)
{
	for (size_t i = 0; i < nhave; i++) {
		if (prefix_in(&have[i].dst, want, nwant))
			continue;
		int rc = nl_route_del(s, &have[i], err, errlen);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int add_missing(struct nl_sock *s, uint32_t table, int oif, unsigned char protocol,
		       const struct nl_route *have, size_t nhave, const struct nl_prefix *want,
		       size_t nwant, char *err, size_t errlen)
{
	for (size_t i = 0; i < nwant; i++) {
		bool present = false;
		for (size_t j = 0; j < nhave && !present; j++)
			present = nl_prefix_equal(&have[j].dst, &want[i]);
		if (present || prefix_in(&want[i], want, i)) /* also skip duplicates in want */
			continue;
		struct nl_route r = {.dst = want[i],
				     .table = table,
				     .oif = oif,
				     .protocol = protocol,
				     .scope = RT_SCOPE_UNIVERSE,
				     .type = RTN_UNICAST};
		int rc = nl_route_add(s, &r, err, errlen);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int nl_route_sync_table(struct nl_sock *s, uint32_t table, int oif, unsigned char protocol,
			const struct nl_prefix *want, size_t n, char *err, size_t errlen)
{
	struct nl_prefix *masked = calloc(n ? n : 1, sizeof(*masked));
	struct nl_route_filter f = {.family = AF_UNSPEC, .table = table};
	struct nl_route *have = NULL;
	size_t nhave = 0;
	if (!masked)
		return nl_fail(err, errlen, -ENOMEM, "sync routes", NULL);
	for (size_t i = 0; i < n; i++) {
		masked[i] = want[i];
		nl_prefix_mask(&masked[i]);
	}
	int rc = nl_route_list(s, &f, &have, &nhave, err, errlen);
	if (rc == 0)
		rc = add_missing(s, table, oif, protocol, have, nhave, masked, n, err, errlen);
	if (rc == 0)
		rc = delete_unwanted(s, have, nhave, masked, n, err, errlen);
	free(have);
	free(masked);
	return rc;
}
