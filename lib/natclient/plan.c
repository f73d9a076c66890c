/* What the client's policy routing and routes should be, as pure functions. */
#include "natclient/natclient.h"

#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define P4(a, b, c, d, l)                                                                          \
	{                                                                                          \
		.ip = {.family = AF_INET, .bytes = {a, b, c, d}}, .len = l                         \
	}
#define P6(a, b, l)                                                                                \
	{                                                                                          \
		.ip = {.family = AF_INET6, .bytes = {a, b}}, .len = l                              \
	}

/* Private and unique-local ranges: traffic to them stays on the pod network, whatever an
 * Egress says, unless a narrower destination inside them is in table 117. */
static const struct nl_prefix ranges4[] = {P4(10, 0, 0, 0, 8), P4(172, 16, 0, 0, 12),
					   P4(192, 168, 0, 0, 16)};
static const struct nl_prefix ranges6[] = {P6(0xfc, 0, 7)};
static const struct nl_prefix linklocal4 = P4(169, 254, 0, 0, 16);
static const struct nl_prefix linklocal6 = P6(0xfe, 0x80, 10);

size_t natclient_cluster_ranges(int family, const struct nl_prefix **out)
{
	*out = family == AF_INET ? ranges4 : ranges6;
	return family == AF_INET ? sizeof(ranges4) / sizeof(ranges4[0])
				 : sizeof(ranges6) / sizeof(ranges6[0]);
}

static bool prefix_contains(const struct nl_prefix *range, const struct nl_ip *ip)
{
	if (range->ip.family != ip->family)
		return false;
	size_t full = range->len / 8, rest = range->len % 8;
	if (memcmp(range->ip.bytes, ip->bytes, full) != 0)
		return false;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return rest == 0 || (range->ip.bytes[full] & mask) == (ip->bytes[full] & mask);
}

uint32_t natclient_table_for(const struct nl_prefix *net)
{
	const struct nl_prefix *ranges;
	size_t n = natclient_cluster_ranges(net->ip.family, &ranges);
	for (size_t i = 0; i < n; i++)
		if (prefix_contains(&ranges[i], &net->ip))
			return NATCLIENT_TABLE_NARROW;
	return NATCLIENT_TABLE_WIDE;
}

static struct nl_rule rule(int family, uint32_t prio, uint32_t table, const struct nl_prefix *to)
{
	struct nl_rule r = {
	    .family = family, .has_priority = true, .priority = prio, .table = table};
	if (to)
		r.dst = *to;
	return r;
}

size_t natclient_rules_plan(int family, struct nl_rule out[NATCLIENT_MAX_RULES])
{
	const struct nl_prefix *ranges;
	size_t n = natclient_cluster_ranges(family, &ranges), k = 0;
	out[k++] = rule(family, NATCLIENT_PRIO_LINKLOCAL, RT_TABLE_MAIN,
			family == AF_INET ? &linklocal4 : &linklocal6);
	out[k++] = rule(family, NATCLIENT_PRIO_NARROW, NATCLIENT_TABLE_NARROW, NULL);
	out[k++] = rule(family, NATCLIENT_PRIO_WIDE, NATCLIENT_TABLE_WIDE, NULL);
	for (size_t i = 0; i < n; i++)
		out[k++] =
		    rule(family, NATCLIENT_PRIO_CLUSTER + (uint32_t)i, RT_TABLE_MAIN, &ranges[i]);
	return k;
}

bool natclient_rules_initialized(int family, const struct nl_rule *rules, size_t n)
{
	const struct nl_prefix *ranges;
	size_t n_ranges = natclient_cluster_ranges(family, &ranges);
	size_t main = 0, narrow = 0, wide = 0;
	for (size_t i = 0; i < n; i++) {
		if (rules[i].family != family)
			continue;
		main += rules[i].table == RT_TABLE_MAIN;
		narrow += rules[i].table == NATCLIENT_TABLE_NARROW;
		wide += rules[i].table == NATCLIENT_TABLE_WIDE;
	}
	return main >= n_ranges + 1 && narrow == 1 && wide == 1;
}

bool natclient_prio_owned(uint32_t p)
{
	return p >= NATCLIENT_PRIO_LINKLOCAL && p <= NATCLIENT_PRIO_WIDE;
}

void natclient_route_plan_free(struct natclient_route_plan *plan)
{
	free(plan->del);
	free(plan->add);
	memset(plan, 0, sizeof(*plan));
}

static bool wanted(const struct nl_prefix *want, size_t n, const struct nl_prefix *dst)
{
	for (size_t i = 0; i < n; i++)
		if (nl_prefix_equal(&want[i], dst))
			return true;
	return false;
}

static bool present(const struct nl_route *existing, size_t n, int oif, const struct nl_prefix *net)
{
	for (size_t i = 0; i < n; i++)
		if (existing[i].oif == oif && nl_prefix_equal(&existing[i].dst, net))
			return true;
	return false;
}

int natclient_route_plan(const struct nl_route *existing, size_t n_existing, int oif,
			 const struct nl_prefix *want, size_t n_want, bool has_v4, bool has_v6,
			 struct natclient_route_plan *out)
{
	memset(out, 0, sizeof(*out));
	out->del = calloc(n_existing + 1, sizeof(*out->del));
	out->add = calloc(n_want + 1, sizeof(*out->add));
	if (!out->del || !out->add) {
		natclient_route_plan_free(out);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n_existing; i++)
		if (existing[i].oif == oif && !wanted(want, n_want, &existing[i].dst))
			out->del[out->n_del++] = existing[i];
	for (size_t i = 0; i < n_want; i++) {
		const struct nl_prefix *net = &want[i];
		bool v4 = net->ip.family == AF_INET;
		if (present(existing, n_existing, oif, net) ||
		    wanted(want, i, net)) /* a duplicate in want: planned already */
			continue;
		out->add_family[v4 ? 0 : 1] = true;
		if (!(v4 ? has_v4 : has_v6))
			continue;
		out->add[out->n_add++] = (struct nl_route){.dst = *net,
							   .table = natclient_table_for(net),
							   .oif = oif,
							   .protocol = NATCLIENT_ROUTE_PROTOCOL,
							   .scope = RT_SCOPE_UNIVERSE,
							   .type = RTN_UNICAST};
	}
	return 0;
}
