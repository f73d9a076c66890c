/* Putting back pod routes that something else deleted from the pod table. */
#include "coild/internal.h"

#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"

/* Whether a record holds dst; *rec gets it. */
static bool find_record(struct coild *d, const struct nl_ip *dst, struct node_ipam_record *rec)
{
	struct node_ipam_record *records = NULL;
	size_t n = 0;
	bool found = false;
	if (node_ipam_list_records(d->ipam, &records, &n) < 0)
		return false;
	for (size_t i = 0; i < n && !found; i++) {
		struct nl_ip ip;
		const char *text = dst->family == AF_INET ? records[i].ipv4 : records[i].ipv6;
		if (text[0] && nl_ip_parse(text, &ip) == 0 && nl_ip_equal(&ip, dst)) {
			*rec = records[i];
			found = true;
		}
	}
	free(records);
	return found;
}

/* Whether link oif is the host veth of rec (its alias names rec's container and ifname). */
static bool is_host_veth(struct nl_sock *s, int oif, const struct node_ipam_record *rec)
{
	struct nl_link link;
	struct podnet_entry owner;
	char err[256];
	return nl_link_get_by_index(s, oif, &link, err, sizeof(err)) == 0 &&
	       podnet_alias_parse(link.alias, &owner) == 0 &&
	       strcmp(owner.container_id, rec->container_id) == 0 &&
	       strcmp(owner.ifname, rec->ifname) == 0;
}

int coild_repair_pod_route(struct coild *d, const struct nl_ip *dst, int oif, char *err,
			   size_t errlen)
{
	struct node_ipam_record rec;
	if (!find_record(d, dst, &rec))
		return 0;
	struct nl_sock s = {0};
	int rc = nl_sock_open(&s, err, errlen);
	if (rc == 0 && is_host_veth(&s, oif, &rec)) {
		/* The same route podnet_setup adds. */
		struct nl_route r = {.dst = nl_prefix_host(dst),
				     .table = d->cfg.podnet.table,
				     .protocol = d->cfg.podnet.protocol,
				     .scope = RT_SCOPE_LINK,
				     .oif = oif};
		rc = nl_route_add(&s, &r, err, errlen);
		if (rc == -EEXIST)
			rc = 0;
		else if (rc == 0 && (rc = 1))
			log_info("restored a pod route removed by someone else", "container_id",
				 rec.container_id, "ifname", rec.ifname, "ipv4", rec.ipv4, "ipv6",
				 rec.ipv6);
	}
	nl_sock_close(&s);
	return rc;
}

/* The record of the pod whose host veth is link ifindex (by its alias). */
static bool record_of_link(struct coild *d, int ifindex, struct node_ipam_record *rec)
{
	struct nl_sock s = {0};
	struct nl_link link;
	struct podnet_entry owner;
	char err[256];
	bool found = false;
	if (nl_sock_open(&s, err, sizeof(err)) == 0 &&
	    nl_link_get_by_index(&s, ifindex, &link, err, sizeof(err)) == 0 &&
	    podnet_alias_parse(link.alias, &owner) == 0) {
		struct node_ipam_record *records = NULL;
		size_t n = 0;
		if (node_ipam_list_records(d->ipam, &records, &n) == 0)
			for (size_t i = 0; i < n && !found; i++)
				if (strcmp(records[i].container_id, owner.container_id) == 0 &&
				    strcmp(records[i].ifname, owner.ifname) == 0) {
					*rec = records[i];
					found = true;
				}
		free(records);
	}
	nl_sock_close(&s);
	return found;
}

int coild_repair_link_pod_route(struct coild *d, int ifindex, int family, char *err, size_t errlen)
{
	struct node_ipam_record rec;
	struct nl_ip ip;
	if (!record_of_link(d, ifindex, &rec))
		return 0;
	const char *text = family == AF_INET ? rec.ipv4 : rec.ipv6;
	if (!text[0] || nl_ip_parse(text, &ip) < 0)
		return 0;
	return coild_repair_pod_route(d, &ip, ifindex, err, errlen);
}
