/* Originating-only mode applied (the plan is in plan_origonly.c). */
#include "natclient/natclient.h"

#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>

#include "err/err.h"

/* The netns's view for one family: addresses, main routes, rules. */
struct view {
	struct nl_addr *addrs;
	struct nl_route *main;
	struct nl_rule *rules;
	size_t n_addrs, n_main, n_rules;
};

static void view_free(struct view *v)
{
	free(v->addrs);
	free(v->main);
	free(v->rules);
}

static int view_read(struct nl_sock *s, int family, struct view *v, char *err, size_t errlen)
{
	struct nl_route_filter f = {.family = family, .table = RT_TABLE_MAIN};
	memset(v, 0, sizeof(*v));
	int ret = nl_addr_list(s, family, 0, &v->addrs, &v->n_addrs, err, errlen);
	if (ret == 0)
		ret = nl_route_list(s, &f, &v->main, &v->n_main, err, errlen);
	if (ret == 0)
		ret = nl_rule_list(s, family, &v->rules, &v->n_rules, err, errlen);
	return ret;
}

static int connmark_call(struct nl_sock *s, bool ensure, const struct natclient_connmark_ops *cm,
			 int family, int ifindex, char *err, size_t errlen)
{
	struct nl_link link;
	if (!cm)
		return 0;
	int ret = nl_link_get_by_index(s, ifindex, &link, err, errlen);
	if (ret == 0)
		ret = ensure ? cm->ensure(cm->ctx, family, link.name, ifindex, err, errlen)
			     : cm->remove(cm->ctx, family, link.name, ifindex, err, errlen);
	return ret;
}

static int configure_link(struct nl_sock *s, int family, const struct natclient_origonly_link *l,
			  const struct natclient_connmark_ops *cm, char *err, size_t errlen)
{
	int ret = 0;
	for (size_t i = 0; ret == 0 && i < l->n_routes; i++) {
		ret = nl_route_add(s, &l->routes[i], err, errlen);
		if (ret == -EEXIST)
			ret = 0;
	}
	if (ret == 0 && l->add_rule)
		ret = nl_rule_add(s, &l->rule, err, errlen);
	if (ret == 0)
		ret = connmark_call(s, true, cm, family, l->ifindex, err, errlen);
	return ret;
}

int natclient_origonly_configure(struct nl_sock *s, int family,
				 const struct natclient_connmark_ops *connmark, char *err,
				 size_t errlen)
{
	struct view v;
	struct natclient_origonly_plan plan = {0};
	int ret = view_read(s, family, &v, err, errlen);
	if (ret == 0 && natclient_origonly_plan(family, v.addrs, v.n_addrs, v.main, v.n_main,
						v.rules, v.n_rules, &plan) < 0)
		ret = errorf(err, errlen, -ENOMEM, "originating-only plan: out of memory");
	for (size_t i = 0; ret == 0 && i < plan.n; i++)
		ret = configure_link(s, family, &plan.links[i], connmark, err, errlen);
	natclient_origonly_plan_free(&plan);
	view_free(&v);
	return ret;
}

/* Undoes one link when its table has routes (else it was never configured: nothing to do). */
static int remove_link(struct nl_sock *s, int family, int ifindex,
		       const struct natclient_connmark_ops *cm, const struct view *v, char *err,
		       size_t errlen)
{
	uint32_t table = NATCLIENT_ORIGONLY_TABLE_BASE + (uint32_t)ifindex;
	struct nl_route_filter f = {.family = family, .table = table};
	struct nl_route *routes = NULL;
	size_t n = 0;
	int ret = nl_route_list(s, &f, &routes, &n, err, errlen);
	for (size_t i = 0; ret == 0 && i < n; i++)
		ret = nl_route_del(s, &routes[i], err, errlen);
	free(routes);
	if (ret < 0 || n == 0)
		return ret;
	for (size_t i = 0; ret == 0 && i < v->n_rules; i++)
		if (natclient_is_fwmark_rule(&v->rules[i], ifindex))
			ret = nl_rule_del(s, &v->rules[i], err, errlen);
	if (ret == 0)
		ret = connmark_call(s, false, cm, family, ifindex, err, errlen);
	return ret;
}

int natclient_origonly_remove(struct nl_sock *s, int family,
			      const struct natclient_connmark_ops *connmark, char *err,
			      size_t errlen)
{
	struct view v;
	int ret = view_read(s, family, &v, err, errlen);
	int last = 0;
	for (size_t i = 0; ret == 0 && i < v.n_addrs; i++) {
		const struct nl_addr *a = &v.addrs[i];
		if (a->scope != RT_SCOPE_UNIVERSE || a->ifindex == last)
			continue;
		last = a->ifindex;
		ret = remove_link(s, family, a->ifindex, connmark, &v, err, errlen);
	}
	view_free(&v);
	return ret;
}
