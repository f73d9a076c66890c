/* The client's policy routing and tunnel routes, applied on a socket in the pod's netns. */
#include "natclient/natclient.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "err/err.h"
#include "log/log.h"

static const uint32_t client_tables[] = {NATCLIENT_TABLE_NARROW, NATCLIENT_TABLE_WIDE};

/* Init is destructive on purpose: whatever a previous run left in the client's priority range
 * and tables goes, so a re-run converges to exactly the plan. */
static int clear_family(struct nl_sock *s, int family, char *err, size_t errlen)
{
	struct nl_rule *rules = NULL;
	size_t n = 0;
	int ret = nl_rule_list(s, family, &rules, &n, err, errlen);
	for (size_t i = 0; ret == 0 && i < n; i++)
		if (rules[i].has_priority && natclient_prio_owned(rules[i].priority))
			ret = nl_rule_del(s, &rules[i], err, errlen);
	free(rules);
	for (size_t t = 0; ret == 0 && t < 2; t++) {
		struct nl_route *routes = NULL;
		struct nl_route_filter f = {.family = family, .table = client_tables[t]};
		ret = nl_route_list(s, &f, &routes, &n, err, errlen);
		for (size_t i = 0; ret == 0 && i < n; i++)
			ret = nl_route_del(s, &routes[i], err, errlen);
		free(routes);
	}
	return ret;
}

static int init_family(struct nl_sock *s, int family, char *err, size_t errlen)
{
	struct nl_rule plan[NATCLIENT_MAX_RULES];
	size_t n = natclient_rules_plan(family, plan);
	int ret = clear_family(s, family, err, errlen);
	for (size_t i = 0; ret == 0 && i < n; i++) {
		ret = nl_rule_add(s, &plan[i], err, errlen);
		if (ret == -EEXIST)
			ret = 0;
	}
	return ret;
}

int natclient_rules_init(struct nl_sock *s, bool has_v4, bool has_v6, char *err, size_t errlen)
{
	int ret = has_v4 ? init_family(s, AF_INET, err, errlen) : 0;
	if (ret == 0 && has_v6)
		ret = init_family(s, AF_INET6, err, errlen);
	return ret;
}

static int check_family(struct nl_sock *s, int family, char *err, size_t errlen)
{
	struct nl_rule *rules = NULL;
	size_t n = 0;
	int ret = nl_rule_list(s, family, &rules, &n, err, errlen);
	if (ret == 0)
		ret = natclient_rules_initialized(family, rules, n) ? 1 : 0;
	free(rules);
	return ret;
}

int natclient_rules_check(struct nl_sock *s, bool has_v4, bool has_v6, char *err, size_t errlen)
{
	int ret = has_v4 ? check_family(s, AF_INET, err, errlen) : 1;
	if (ret == 1 && has_v6)
		ret = check_family(s, AF_INET6, err, errlen);
	return ret;
}

/* The routes of tables 117 and 118, both families, into one array (caller frees). */
static int list_client_routes(struct nl_sock *s, struct nl_route **out, size_t *count, char *err,
			      size_t errlen)
{
	*out = NULL;
	*count = 0;
	for (size_t t = 0; t < 2; t++) {
		struct nl_route *routes = NULL, *all;
		size_t n = 0;
		struct nl_route_filter f = {.family = AF_UNSPEC, .table = client_tables[t]};
		int ret = nl_route_list(s, &f, &routes, &n, err, errlen);
		all = ret == 0 ? realloc(*out, (*count + n + 1) * sizeof(**out)) : NULL;
		if (!all) {
			free(routes);
			free(*out);
			*out = NULL;
			return ret < 0 ? ret : errorf(err, errlen, -ENOMEM, "out of memory");
		}
		if (n) /* routes is NULL for an empty table */
			memcpy(all + *count, routes, n * sizeof(*routes));
		*out = all;
		*count += n;
		free(routes);
	}
	return 0;
}

static int apply_route_plan(struct nl_sock *s, int oif, const struct natclient_route_plan *plan,
			    char *err, size_t errlen)
{
	char text[NL_PREFIX_STRLEN];
	int ret = 0;
	for (size_t i = 0; ret == 0 && i < plan->n_del; i++) {
		log_info("removing a destination", "dst",
			 nl_prefix_format(&plan->del[i].dst, text, sizeof(text)));
		ret = nl_route_del(s, &plan->del[i], err, errlen);
	}
	/* The link comes up only now, right before its first route: until then nothing can
	 * use it anyway. */
	if (ret == 0 && plan->n_add > 0)
		ret = nl_link_set_up(s, oif, true, err, errlen);
	for (size_t i = 0; ret == 0 && i < plan->n_add; i++)
		ret = nl_route_add(s, &plan->add[i], err, errlen);
	return ret;
}

int natclient_routes_sync(struct nl_sock *s, int oif, const struct nl_prefix *networks, size_t n,
			  bool has_v4, bool has_v6, bool originating_only,
			  const struct natclient_connmark_ops *connmark, char *err, size_t errlen)
{
	struct nl_route *existing = NULL;
	size_t n_existing = 0;
	struct natclient_route_plan plan;
	int ret = list_client_routes(s, &existing, &n_existing, err, errlen);
	if (ret == 0 &&
	    natclient_route_plan(existing, n_existing, oif, networks, n, has_v4, has_v6, &plan) < 0)
		ret = errorf(err, errlen, -ENOMEM, "route plan: out of memory");
	free(existing);
	if (ret < 0)
		return ret;
	ret = apply_route_plan(s, oif, &plan, err, errlen);
	static const int families[2] = {AF_INET, AF_INET6};
	for (size_t f = 0; ret == 0 && f < 2; f++) {
		if (originating_only && plan.add_family[f])
			ret = natclient_origonly_configure(s, families[f], connmark, err, errlen);
		else if (!originating_only)
			ret = natclient_origonly_remove(s, families[f], connmark, err, errlen);
	}
	natclient_route_plan_free(&plan);
	return ret;
}
