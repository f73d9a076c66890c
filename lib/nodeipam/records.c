/* The allocation records, keyed "<container_id>:<ifname>". A node has at most
 * a few hundred pods, so a flat array searched linearly is plenty. */
#include "nodeipam/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"

/* With records_lock held. */
static struct node_ipam_record *find(struct node_ipam *ipam, const char *container_id,
				     const char *ifname)
{
	for (size_t i = 0; i < ipam->n_records; i++) {
		struct node_ipam_record *r = &ipam->records[i];
		if (strcmp(r->container_id, container_id) == 0 && strcmp(r->ifname, ifname) == 0)
			return r;
	}
	return NULL;
}

bool records_get(struct node_ipam *ipam, const char *container_id, const char *ifname,
		 struct node_ipam_record *out)
{
	pthread_mutex_lock(&ipam->records_lock);
	struct node_ipam_record *r = find(ipam, container_id, ifname);
	if (r && out)
		*out = *r;
	pthread_mutex_unlock(&ipam->records_lock);
	return r != NULL;
}

int records_insert(struct node_ipam *ipam, const struct node_ipam_record *record,
		   struct node_ipam_record *existing)
{
	int ret = 0;
	pthread_mutex_lock(&ipam->records_lock);
	struct node_ipam_record *r = find(ipam, record->container_id, record->ifname);
	if (r) {
		if (existing)
			*existing = *r;
		ret = -EEXIST;
	} else if (ipam->n_records == ipam->cap_records) {
		size_t cap = ipam->cap_records ? 2 * ipam->cap_records : 16;
		struct node_ipam_record *grown = realloc(ipam->records, cap * sizeof(*grown));
		if (grown) {
			ipam->records = grown;
			ipam->cap_records = cap;
		} else {
			ret = -ENOMEM;
		}
	}
	if (ret == 0)
		ipam->records[ipam->n_records++] = *record;
	pthread_mutex_unlock(&ipam->records_lock);
	return ret;
}

void records_remove(struct node_ipam *ipam, const char *container_id, const char *ifname)
{
	pthread_mutex_lock(&ipam->records_lock);
	struct node_ipam_record *r = find(ipam, container_id, ifname);
	if (r)
		*r = ipam->records[--ipam->n_records];
	pthread_mutex_unlock(&ipam->records_lock);
}

/* Whether the block still yields the record's addresses at its offset: a
 * block re-carved under the same name with other CIDRs must not be marked. */
static bool record_matches(const struct nipam_block *block, const struct node_ipam_record *r)
{
	struct ip_addr a4, a6;
	char t4[IP_ADDR_STRLEN], t6[IP_ADDR_STRLEN];
	if (block_alloc_addresses(block->alloc, r->offset, &a4, &a6) < 0)
		return false;
	ip_addr_format(&a4, t4);
	ip_addr_format(&a6, t6);
	return strcmp(t4, r->ipv4) == 0 && strcmp(t6, r->ipv6) == 0;
}

void records_mark_block(struct node_ipam *ipam, struct nipam_block *block)
{
	pthread_mutex_lock(&ipam->records_lock);
	for (size_t i = 0; i < ipam->n_records; i++) {
		struct node_ipam_record *r = &ipam->records[i];
		if (strcmp(r->pool, block->info.pool) != 0 ||
		    strcmp(r->block, block->info.name) != 0)
			continue;
		if (record_matches(block, r))
			block_alloc_mark(block->alloc, r->offset);
		else
			log_warn("allocation record does not match its block", "container_id",
				 r->container_id, "ifname", r->ifname, "block", r->block, "ipv4",
				 r->ipv4, "ipv6", r->ipv6);
	}
	pthread_mutex_unlock(&ipam->records_lock);
}

int records_snapshot(struct node_ipam *ipam, struct node_ipam_record **out, size_t *n)
{
	int ret = 0;
	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&ipam->records_lock);
	if (ipam->n_records > 0) {
		*out = malloc(ipam->n_records * sizeof(**out));
		if (*out) {
			memcpy(*out, ipam->records, ipam->n_records * sizeof(**out));
			*n = ipam->n_records;
		} else {
			ret = -ENOMEM;
		}
	}
	pthread_mutex_unlock(&ipam->records_lock);
	return ret;
}
