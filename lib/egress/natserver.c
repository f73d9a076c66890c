/* The NAT server: return routing and masquerading in the gateway pod's netns. */
#include "egress/egress.h"

#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "err/err.h"
#include "log/log.h"

size_t egress_natserver_plan_rules(const struct egress_natserver *n, struct nl_rule out[2])
{
	size_t count = 0;
	const struct nl_ip *locals[2] = {&n->local4, &n->local6};
	for (size_t i = 0; i < 2; i++) {
		if (!locals[i]->family)
			continue;
		struct nl_rule *r = &out[count++];
		memset(r, 0, sizeof(*r));
		r->family = locals[i]->family;
		r->has_priority = true;
		r->priority = EGRESS_RULE_PRIORITY;
		r->table = EGRESS_TABLE;
		memcpy(r->iif, n->oif, sizeof(r->iif));
	}
	return count;
}

struct nl_route egress_natserver_plan_route(const struct nl_ip *client, int ifindex)
{
	struct nl_route r = {.dst = nl_prefix_host(client),
			     .table = EGRESS_TABLE,
			     .oif = ifindex,
			     .protocol = EGRESS_ROUTE_PROTOCOL,
			     .scope = RT_SCOPE_UNIVERSE,
			     .type = RTN_UNICAST};
	return r;
}

static int apply_family(struct nl_sock *s, const struct egress_natserver *n,
			const struct nl_ip *self, const struct nl_rule *rule, char *err,
			size_t errlen)
{
	struct natrules_masq m = {.self = *self};
	memcpy(m.oif, n->oif, sizeof(m.oif));
	int rc = natrules_masq_apply(n->backend, &m, err, errlen);
	if (rc == 0)
		rc = nl_rule_add(s, rule, err, errlen);
	/* Only reachable after a crash between the rule and the marker: the rule is ours. */
	return rc == -EEXIST ? 0 : rc;
}

int egress_natserver_apply(struct nl_sock *s, const struct egress_natserver *n, char *err,
			   size_t errlen)
{
	struct nl_rule rules[2];
	size_t nrules = egress_natserver_plan_rules(n, rules);
	if (nrules == 0)
		return errorf(err, errlen, -EINVAL,
			      "the NAT server needs an own IPv4 or IPv6 address");
	const struct nl_ip *locals[2] = {&n->local4, &n->local6};
	int rc = 0;
	for (size_t i = 0, r = 0; rc == 0 && i < 2; i++)
		if (locals[i]->family)
			rc = apply_family(s, n, locals[i], &rules[r++], err, errlen);
	return rc;
}

int egress_natserver_init(struct nl_sock *s, const struct egress_natserver *n, char *err,
			  size_t errlen)
{
	struct nl_link marker;
	int rc = nl_link_get_by_name(s, EGRESS_MARKER, &marker, err, errlen);
	if (rc != -ENODEV)
		return rc; /* 0: initialised before this process (re)started */
	rc = egress_natserver_apply(s, n, err, errlen);
	if (rc == 0)
		rc = nl_dummy_create(s, EGRESS_MARKER, err, errlen);
	return rc;
}

/* True if table 118 already routes client: it is then fully set up (decided from the kernel,
 * not from memory, so a restarted process keeps what it made before). */
static int client_routed(struct nl_sock *s, const struct nl_ip *client, bool *yes, char *err,
			 size_t errlen)
{
	struct nl_route_filter f = {.family = client->family, .table = EGRESS_TABLE};
	struct nl_route *routes = NULL;
	size_t n = 0;
	int rc = nl_route_list(s, &f, &routes, &n, err, errlen);
	*yes = false;
	for (size_t i = 0; rc == 0 && i < n; i++)
		*yes |= nl_ip_equal(&routes[i].dst.ip, client);
	free(routes);
	return rc;
}

int egress_natserver_add_client(struct nl_sock *s, const struct egress_natserver *n,
				const struct nl_ip *client, const struct nl_link *link, char *err,
				size_t errlen)
{
	const struct nl_ip *self = client->family == AF_INET ? &n->local4 : &n->local6;
	if (self->family != client->family)
		return errorf(err, errlen, FOUNAT_EFAMILY, "no matching IP family");
	bool routed = false;
	int rc = client_routed(s, client, &routed, err, errlen);
	if (rc < 0 || routed)
		return rc;
	rc = nl_link_set_up(s, link->index, true, err, errlen);
	if (rc == 0) {
		struct nl_route r = egress_natserver_plan_route(client, link->index);
		rc = nl_route_add(s, &r, err, errlen);
	}
	return rc;
}
