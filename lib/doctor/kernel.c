/* The kernel's view of this node's pods: host links with a COIL alias (and whether each
 * carries a global address of each family: the node address), the pod table, the export
 * table and the rules. */
#include "doctor/internal.h"

#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Which families of global address each aliased link carries. */
static int read_addresses(struct nl_sock *s, struct doctor_view *v, char *err, size_t errlen)
{
	struct nl_addr *addrs = NULL;
	size_t n = 0;
	int rc = nl_addr_list(s, AF_UNSPEC, 0, &addrs, &n, err, errlen);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (addrs[i].scope != RT_SCOPE_UNIVERSE)
			continue;
		for (size_t j = 0; j < v->n_veths; j++) {
			if (v->veths[j].link.index != addrs[i].ifindex)
				continue;
			if (addrs[i].local.ip.family == AF_INET)
				v->veths[j].has_node_v4 = true;
			else
				v->veths[j].has_node_v6 = true;
		}
	}
	free(addrs);
	return rc;
}

static int read_veths(struct nl_sock *s, struct doctor_view *v, char *err, size_t errlen)
{
	struct nl_link *links = NULL;
	size_t n = 0;
	int rc = nl_link_list(s, &links, &n, err, errlen);
	if (rc == 0 && !(v->veths = calloc(n ? n : 1, sizeof(*v->veths))))
		rc = -ENOMEM;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct doctor_veth *dv = &v->veths[v->n_veths];
		if (podnet_alias_parse(links[i].alias, &dv->owner) < 0)
			continue;
		dv->link = links[i];
		v->n_veths++;
	}
	free(links);
	return rc == 0 ? read_addresses(s, v, err, errlen) : rc;
}

static int read_rules(struct nl_sock *s, struct doctor_view *v, char *err, size_t errlen)
{
	struct nl_rule *r4 = NULL, *r6 = NULL;
	size_t n4 = 0, n6 = 0;
	int rc = nl_rule_list(s, AF_INET, &r4, &n4, err, errlen);
	if (rc == 0)
		rc = nl_rule_list(s, AF_INET6, &r6, &n6, err, errlen);
	if (rc == 0 && !(v->rules = calloc(n4 + n6 + 1, sizeof(*v->rules))))
		rc = -ENOMEM;
	if (rc == 0) {
		memcpy(v->rules, r4, n4 * sizeof(*r4));
		memcpy(v->rules + n4, r6, n6 * sizeof(*r6));
		v->n_rules = n4 + n6;
	}
	free(r4);
	free(r6);
	return rc;
}

int doctor_read_kernel(struct doctor_view *v, char *err, size_t errlen)
{
	struct nl_sock s;
	struct nl_route_filter pod = {.family = AF_UNSPEC, .table = v->cfg->pod_table};
	struct nl_route_filter exp = {.family = AF_UNSPEC, .table = v->cfg->export_table};
	int rc = nl_sock_open(&s, err, errlen);
	if (rc < 0)
		return rc;
	rc = read_veths(&s, v, err, errlen);
	if (rc == 0)
		rc = nl_route_list(&s, &pod, &v->pod_routes, &v->n_pod_routes, err, errlen);
	if (rc == 0)
		rc = nl_route_list(&s, &exp, &v->exports, &v->n_exports, err, errlen);
	if (rc == 0)
		rc = read_rules(&s, v, err, errlen);
	nl_sock_close(&s);
	return rc;
}
