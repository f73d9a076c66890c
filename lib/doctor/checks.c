/* The comparisons: each inconsistency between the blocks, the records and the kernel becomes
 * one named problem. */
#include "doctor/internal.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static const struct doctor_veth *veth_of(const struct doctor_view *v, const char *container,
					 const char *ifname)
{
	for (size_t i = 0; i < v->n_veths; i++)
		if (!strcmp(v->veths[i].owner.container_id, container) &&
		    !strcmp(v->veths[i].owner.ifname, ifname))
			return &v->veths[i];
	return NULL;
}

static const char *link_name(const struct doctor_view *v, int index)
{
	for (size_t i = 0; i < v->n_veths; i++)
		if (v->veths[i].link.index == index)
			return v->veths[i].link.name;
	return "a link without COIL alias";
}

static bool is_host_route(const struct nl_route *r, const struct nl_ip *ip)
{
	return r->dst.len == nl_family_addrlen(ip->family) * 8 && nl_ip_equal(&r->dst.ip, ip);
}

static bool routed_via(const struct doctor_view *v, const struct nl_ip *ip, int oif)
{
	for (size_t i = 0; i < v->n_pod_routes; i++)
		if (v->pod_routes[i].oif == oif && is_host_route(&v->pod_routes[i], ip))
			return true;
	return false;
}

static bool in_cidr(const struct nl_ip *ip, const char *cidr)
{
	struct nl_prefix block, p = nl_prefix_host(ip);
	if (!cidr[0] || nl_prefix_parse(cidr, &block) < 0 || block.ip.family != ip->family)
		return false;
	p.len = block.len;
	nl_prefix_mask(&p);
	nl_prefix_mask(&block);
	return nl_prefix_equal(&p, &block);
}

static const struct node_block *block_of(const struct doctor_view *v, const struct nl_ip *ip)
{
	for (size_t i = 0; i < v->n_blocks; i++)
		if (in_cidr(ip, v->blocks[i].ipv4) || in_cidr(ip, v->blocks[i].ipv6))
			return &v->blocks[i];
	return NULL;
}

static void check_rules(struct doctor_view *v)
{
	static const int families[] = {AF_INET, AF_INET6};
	const struct doctor_config *c = v->cfg;
	for (size_t f = 0; f < 2; f++) {
		const struct nl_rule *found = NULL;
		for (size_t i = 0; i < v->n_rules && !found; i++)
			if (v->rules[i].family == families[f] && v->rules[i].has_priority &&
			    v->rules[i].priority == c->rule_priority)
				found = &v->rules[i];
		const char *fam = families[f] == AF_INET ? "IPv4" : "IPv6";
		if (!found)
			doctor_problem(
			    v, "rule-missing",
			    "no %s rule of priority %u (lookup %u): traffic to pods is not "
			    "routed through the pod table",
			    fam, c->rule_priority, c->pod_table);
		else if (found->table != c->pod_table)
			doctor_problem(v, "rule-wrong-table",
				       "the %s rule of priority %u looks up table %u, not %u", fam,
				       c->rule_priority, found->table, c->pod_table);
	}
}

/* One address of a record: its pod route, its block, the node address on the veth. */
static void check_record_ip(struct doctor_view *v, const struct node_ipam_record *r,
			    const char *text, const struct doctor_veth *veth)
{
	struct nl_ip ip;
	if (!text[0])
		return;
	if (nl_ip_parse(text, &ip) < 0)
		return doctor_problem(v, "record-unreadable", "record %s/%s holds a bad address %s",
				      r->container_id, r->ifname, text);
	if (!block_of(v, &ip))
		doctor_problem(v, "record-outside-blocks",
			       "record %s/%s holds %s, which is in none of the node's blocks (in "
			       "%s)",
			       r->container_id, r->ifname, text, v->blocks_origin);
	if (!veth)
		return;
	if (!routed_via(v, &ip, veth->link.index))
		doctor_problem(v, "pod-route-missing",
			       "table %u has no route to %s via %s (pod %s/%s)", v->cfg->pod_table,
			       text, veth->link.name, r->container_id, r->ifname);
	bool v4 = ip.family == AF_INET;
	if (!(v4 ? veth->has_node_v4 : veth->has_node_v6))
		doctor_problem(v, "node-address-missing",
			       "host veth %s (pod %s/%s) has no IPv%c node address: the pod has no "
			       "gateway",
			       veth->link.name, r->container_id, r->ifname, v4 ? '4' : '6');
}

static void check_records(struct doctor_view *v)
{
	for (size_t i = 0; i < v->n_records; i++) {
		const struct node_ipam_record *r = &v->records[i];
		const struct doctor_veth *veth = veth_of(v, r->container_id, r->ifname);
		if (!veth)
			doctor_problem(v, "record-without-veth",
				       "record %s/%s (%s %s) has no host veth with alias "
				       "COIL:%s:%s:%s: its addresses are held for no pod",
				       r->container_id, r->ifname, r->ipv4, r->ipv6, r->pool,
				       r->container_id, r->ifname);
		check_record_ip(v, r, r->ipv4, veth);
		check_record_ip(v, r, r->ipv6, veth);
		for (size_t j = 0; j < i; j++) {
			const struct node_ipam_record *o = &v->records[j];
			if ((r->ipv4[0] && !strcmp(r->ipv4, o->ipv4)) ||
			    (r->ipv6[0] && !strcmp(r->ipv6, o->ipv6)))
				doctor_problem(v, "address-in-two-records",
					       "records %s/%s and %s/%s hold the same address",
					       o->container_id, o->ifname, r->container_id,
					       r->ifname);
		}
	}
}

static bool has_record(const struct doctor_view *v, const struct podnet_entry *owner)
{
	for (size_t i = 0; i < v->n_records; i++)
		if (!strcmp(v->records[i].container_id, owner->container_id) &&
		    !strcmp(v->records[i].ifname, owner->ifname))
			return true;
	return false;
}

static void check_veths(struct doctor_view *v)
{
	for (size_t i = 0; i < v->n_veths; i++)
		if (!has_record(v, &v->veths[i].owner))
			doctor_problem(v, "veth-without-record",
				       "host veth %s (alias %s) has no allocation record: its "
				       "addresses may be handed out again",
				       v->veths[i].link.name, v->veths[i].link.alias);
}

static bool record_holds(const struct doctor_view *v, const struct nl_ip *ip)
{
	char text[NL_IP_STRLEN];
	nl_ip_format(ip, text, sizeof(text));
	for (size_t i = 0; i < v->n_records; i++)
		if (!strcmp(v->records[i].ipv4, text) || !strcmp(v->records[i].ipv6, text))
			return true;
	return false;
}

static void check_pod_routes(struct doctor_view *v)
{
	char text[NL_IP_STRLEN];
	for (size_t i = 0; i < v->n_pod_routes; i++) {
		const struct nl_route *r = &v->pod_routes[i];
		if (r->protocol != v->cfg->protocol)
			continue;
		nl_ip_format(&r->dst.ip, text, sizeof(text));
		for (size_t j = 0; j < i; j++)
			if (v->pod_routes[j].oif != r->oif &&
			    is_host_route(&v->pod_routes[j], &r->dst.ip))
				doctor_problem(v, "address-on-two-veths",
					       "%s is routed to both %s and %s in table %u", text,
					       link_name(v, v->pod_routes[j].oif),
					       link_name(v, r->oif), v->cfg->pod_table);
		if (!record_holds(v, &r->dst.ip))
			doctor_problem(v, "pod-route-without-record",
				       "table %u routes %s to %s, but no record holds that address",
				       v->cfg->pod_table, text, link_name(v, r->oif));
	}
}

static bool exported(const struct doctor_view *v, const char *cidr)
{
	struct nl_prefix want;
	if (nl_prefix_parse(cidr, &want) < 0)
		return false;
	nl_prefix_mask(&want);
	for (size_t i = 0; i < v->n_exports; i++)
		if (nl_prefix_equal(&v->exports[i].dst, &want))
			return true;
	return false;
}

static bool is_block(const struct doctor_view *v, const struct nl_prefix *p)
{
	char text[NL_PREFIX_STRLEN];
	nl_prefix_format(p, text, sizeof(text));
	for (size_t i = 0; i < v->n_blocks; i++)
		if (!strcmp(v->blocks[i].ipv4, text) || !strcmp(v->blocks[i].ipv6, text))
			return true;
	return false;
}

static void check_exports(struct doctor_view *v)
{
	char text[NL_PREFIX_STRLEN];
	for (size_t i = 0; i < v->n_blocks; i++) {
		const struct node_block *b = &v->blocks[i];
		const char *cidrs[] = {b->ipv4, b->ipv6};
		for (size_t c = 0; c < 2; c++)
			if (cidrs[c][0] && !exported(v, cidrs[c]))
				doctor_problem(v, "export-missing",
					       "block %s (%s) is not exported to table %u", b->name,
					       cidrs[c], v->cfg->export_table);
	}
	for (size_t i = 0; i < v->n_exports; i++)
		if (!is_block(v, &v->exports[i].dst))
			doctor_problem(v, "export-without-block",
				       "table %u exports %s, which is no block of this node in %s",
				       v->cfg->export_table,
				       nl_prefix_format(&v->exports[i].dst, text, sizeof(text)),
				       v->blocks_origin);
}

void doctor_check(struct doctor_view *v)
{
	check_rules(v);
	check_records(v);
	check_veths(v);
	check_pod_routes(v);
	check_exports(v);
}
