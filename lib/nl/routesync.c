/* Route-set sync: the one engine that makes the routes we own in a kernel table equal to a
 * desired set. The node daemon uses it for its export table (one route per owned block via
 * lo, every route of the table is ours) and the router for the main table (one route per
 * other node's block via that node, only routes of its protocol are ours). */
#include "nl_internal.h"

#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <sys/socket.h>

/* The index of the first of want[0..n) with destination dst, or n. */
static size_t find_dst(const struct nl_route *want, size_t n, const struct nl_prefix *dst)
{
	size_t i = 0;
	while (i < n && !nl_prefix_equal(&want[i].dst, dst))
		i++;
	return i;
}

/* True when the kernel's route is what we would write for want. */
static bool same_route(const struct nl_route *have, const struct nl_route *want)
{
	return nl_ip_equal(&have->gateway, &want->gateway) &&
	       (!want->oif || have->oif == want->oif) && have->protocol == want->protocol;
}

/* The wanted routes as written: host bits cleared, table, protocol, scope and type set. */
static struct nl_route *normalize(const struct nl_route_set *set, const struct nl_route *want,
				  size_t n)
{
	struct nl_route *out = calloc(n ? n : 1, sizeof(*out));
	for (size_t i = 0; out && i < n; i++) {
		out[i] = want[i];
		nl_prefix_mask(&out[i].dst);
		out[i].table = set->table;
		out[i].protocol = set->protocol;
		out[i].scope = RT_SCOPE_UNIVERSE;
		out[i].type = RTN_UNICAST;
	}
	return out;
}

/* For each wanted destination (the first of duplicates), which kernel route stands for it:
 * one that is already right, else the first with that destination (to be replaced), else
 * none (SIZE_MAX: to be added). */
static void match(const struct nl_route *have, size_t nhave, const struct nl_route *want, size_t n,
		  size_t *chosen)
{
	for (size_t w = 0; w < n; w++) {
		chosen[w] = SIZE_MAX;
		if (find_dst(want, w, &want[w].dst) < w)
			continue; /* a duplicate destination: the first one counts */
		for (size_t h = 0; h < nhave; h++) {
			if (!nl_prefix_equal(&have[h].dst, &want[w].dst))
				continue;
			if (same_route(&have[h], &want[w])) {
				chosen[w] = h;
				break;
			}
			if (chosen[w] == SIZE_MAX)
				chosen[w] = h;
		}
	}
}

static void tell(const struct nl_route_set *set, const char *what, const struct nl_route *r)
{
	if (set->changed)
		set->changed(set->changed_arg, what, r);
}

/* Deletes every kernel route that stands for no wanted destination: unwanted destinations,
 * and second routes to a wanted one (IPv6 keeps several). Done before adding, so that a
 * destination can move to another gateway. */
static int delete_extra(struct nl_sock *s, const struct nl_route_set *set,
			const struct nl_route *have, size_t nhave, const size_t *chosen, size_t n,
			char *err, size_t errlen)
{
	for (size_t h = 0; h < nhave; h++) {
		bool kept = false;
		for (size_t w = 0; w < n && !kept; w++)
			kept = chosen[w] == h;
		if (kept)
			continue;
		int rc = nl_route_del(s, &have[h], err, errlen);
		if (rc < 0)
			return rc;
		tell(set, "deleted", &have[h]);
	}
	return 0;
}

static int add_or_replace(struct nl_sock *s, const struct nl_route_set *set,
			  const struct nl_route *have, const struct nl_route *want,
			  const size_t *chosen, size_t n, char *err, size_t errlen)
{
	for (size_t w = 0; w < n; w++) {
		if (find_dst(want, w, &want[w].dst) < w)
			continue;
		if (chosen[w] != SIZE_MAX && same_route(&have[chosen[w]], &want[w]))
			continue;
		bool present = chosen[w] != SIZE_MAX;
		int rc = present ? nl_route_replace(s, &want[w], err, errlen)
				 : nl_route_add(s, &want[w], err, errlen);
		if (rc < 0)
			return rc;
		tell(set, present ? "replaced" : "added", &want[w]);
	}
	return 0;
}

int nl_route_sync_set(struct nl_sock *s, const struct nl_route_set *set,
		      const struct nl_route *want, size_t n, char *err, size_t errlen)
{
	struct nl_route_filter f = {.family = AF_UNSPEC,
				    .table = set->table,
				    .protocol = set->own_protocol_only ? set->protocol : 0};
	struct nl_route *wanted = normalize(set, want, n), *have = NULL;
	size_t *chosen = calloc(n ? n : 1, sizeof(*chosen)), nhave = 0;
	int rc = wanted && chosen ? nl_route_list(s, &f, &have, &nhave, err, errlen)
				  : nl_fail(err, errlen, -ENOMEM, "sync routes", NULL);
	if (rc == 0) {
		match(have, nhave, wanted, n, chosen);
		rc = delete_extra(s, set, have, nhave, chosen, n, err, errlen);
	}
	if (rc == 0)
		rc = add_or_replace(s, set, have, wanted, chosen, n, err, errlen);
	free(have);
	free(chosen);
	free(wanted);
	return rc;
}
