/* Originating-only mode, planned: replies to connections that came in through a normal
 * interface (eth0) must leave through it, not through a tunnel. The connmark rules mark such
 * connections with the interface's index; the rule "fwmark <ifindex> lookup 1000+ifindex"
 * sends their packets to a copy of the interface's main-table routes. */
#include "natclient/natclient.h"

#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>

void natclient_origonly_plan_free(struct natclient_origonly_plan *plan)
{
	for (size_t i = 0; i < plan->n; i++)
		free(plan->links[i].routes);
	free(plan->links);
	memset(plan, 0, sizeof(*plan));
}

/* Links with a universe-scope address of family: the pod's own interfaces (lo, the marker
 * and the tunnels have none). */
static bool has_global_address(int family, const struct nl_addr *addrs, size_t n, int ifindex)
{
	for (size_t i = 0; i < n; i++)
		if (addrs[i].ifindex == ifindex && addrs[i].local.ip.family == family &&
		    addrs[i].scope == RT_SCOPE_UNIVERSE)
			return true;
	return false;
}

bool natclient_is_fwmark_rule(const struct nl_rule *r, int ifindex)
{
	return r->has_priority && r->priority == NATCLIENT_PRIO_FWMARK && r->has_fwmark &&
	       r->fwmark == (uint32_t)ifindex &&
	       r->table == NATCLIENT_ORIGONLY_TABLE_BASE + (uint32_t)ifindex;
}

static bool has_fwmark_rule(const struct nl_rule *rules, size_t n, int ifindex)
{
	for (size_t i = 0; i < n; i++)
		if (natclient_is_fwmark_rule(&rules[i], ifindex))
			return true;
	return false;
}

static bool seen(const struct natclient_origonly_plan *plan, int ifindex)
{
	for (size_t i = 0; i < plan->n; i++)
		if (plan->links[i].ifindex == ifindex)
			return true;
	return false;
}

/* The link's main routes moved into its own table; false when it has none. */
static int plan_link(int family, int ifindex, const struct nl_route *main, size_t n_main,
		     const struct nl_rule *rules, size_t n_rules, struct natclient_origonly_link *l)
{
	uint32_t table = NATCLIENT_ORIGONLY_TABLE_BASE + (uint32_t)ifindex;
	memset(l, 0, sizeof(*l));
	l->ifindex = ifindex;
	l->routes = calloc(n_main + 1, sizeof(*l->routes));
	if (!l->routes)
		return -ENOMEM;
	for (size_t i = 0; i < n_main; i++)
		if (main[i].oif == ifindex && main[i].dst.ip.family == family) {
			l->routes[l->n_routes] = main[i];
			l->routes[l->n_routes++].table = table;
		}
	l->add_rule = !has_fwmark_rule(rules, n_rules, ifindex);
	l->rule = (struct nl_rule){.family = family,
				   .has_priority = true,
				   .priority = NATCLIENT_PRIO_FWMARK,
				   .table = table,
				   .has_fwmark = true,
				   .fwmark = (uint32_t)ifindex};
	return 0;
}

int natclient_origonly_plan(int family, const struct nl_addr *addrs, size_t n_addrs,
			    const struct nl_route *main, size_t n_main, const struct nl_rule *rules,
			    size_t n_rules, struct natclient_origonly_plan *out)
{
	memset(out, 0, sizeof(*out));
	out->links = calloc(n_addrs + 1, sizeof(*out->links));
	if (!out->links)
		return -ENOMEM;
	for (size_t i = 0; i < n_addrs; i++) {
		int ifindex = addrs[i].ifindex;
		if (seen(out, ifindex) || !has_global_address(family, addrs, n_addrs, ifindex))
			continue;
		struct natclient_origonly_link *l = &out->links[out->n];
		if (plan_link(family, ifindex, main, n_main, rules, n_rules, l) < 0) {
			natclient_origonly_plan_free(out);
			return -ENOMEM;
		}
		if (l->n_routes == 0) { /* no routes of its own: nothing to answer through */
			free(l->routes);
			continue;
		}
		out->n++;
	}
	return 0;
}
