/* Node IPAM lifecycle and the CNI paths: allocate, free, register. */
#include "nodeipam/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault/fault.h"
#include "log/log.h"
#include "wake/wake.h"

void notify_blocks_changed(struct node_ipam *ipam)
{
	if (ipam->blocks_changed)
		ipam->blocks_changed(ipam->blocks_changed_arg);
}

static int init_state_paths(struct node_ipam *ipam, const char *state_dir, const char *node_name)
{
	if (node_name && !(ipam->node_name = strdup(node_name)))
		return -ENOMEM;
	if (!state_dir)
		return 0;
	ipam->state_dir = strdup(state_dir);
	if (!ipam->state_dir || asprintf(&ipam->alloc_dir, "%s/allocations", state_dir) < 0) {
		ipam->alloc_dir = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* Logs the loaded records that no owned block accounts for. */
static void log_orphan_records(struct node_ipam *ipam)
{
	struct node_ipam_record *records;
	size_t n;
	if (records_snapshot(ipam, &records, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		struct nipam_pool *pool = pools_get(ipam, records[i].pool, false, false);
		bool known = false;
		if (pool) {
			pthread_mutex_lock(&pool->lock);
			known = pool_find_block(pool, records[i].block) != NULL;
			pthread_mutex_unlock(&pool->lock);
		}
		if (!known)
			log_warn("keeping allocation record of an unknown block", "container_id",
				 records[i].container_id, "ifname", records[i].ifname, "pool",
				 records[i].pool, "block", records[i].block);
	}
	free(records);
}

/* Creates a pool entry for every record, so sync and GC consider them. */
static int pools_for_records(struct node_ipam *ipam)
{
	struct node_ipam_record *records;
	size_t n;
	int ret = records_snapshot(ipam, &records, &n);
	for (size_t i = 0; ret == 0 && i < n; i++) {
		if (!pools_get(ipam, records[i].pool, true, false))
			ret = -ENOMEM;
	}
	free(records);
	return ret;
}

int node_ipam_new(const struct node_ipam_config *config, struct node_ipam **out, char *err,
		  size_t errlen)
{
	*out = NULL;
	if (!config->source || !config->source->ops || !config->source->ops->list ||
	    !config->source->ops->acquire || !config->source->ops->release) {
		snprintf(err, errlen, "node IPAM needs a block source with list/acquire/release");
		return -EINVAL;
	}
	struct node_ipam *ipam = calloc(1, sizeof(*ipam));
	if (!ipam) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ipam->source = *config->source;
	ipam->blocks_changed = config->blocks_changed;
	ipam->blocks_changed_arg = config->blocks_changed_arg;
	ipam->empty_grace_ms = config->empty_grace_ms > 0 ? config->empty_grace_ms : 0;
	pthread_mutex_init(&ipam->pools_lock, NULL);
	pthread_mutex_init(&ipam->records_lock, NULL);
	pthread_mutex_init(&ipam->owned_lock, NULL);

	int ret = init_state_paths(ipam, config->state_dir, config->node_name);
	if (ret < 0)
		snprintf(err, errlen, "out of memory");
	if (ret == 0)
		ret = store_open(ipam, config->boot_id_path, err, errlen);
	if (ret == 0)
		ret = store_load(ipam, err, errlen);
	if (ret == 0 && (ret = pools_for_records(ipam)) < 0)
		snprintf(err, errlen, "out of memory");
	bool changed;
	if (ret == 0)
		ret = sync_blocks(ipam, &changed, err, errlen);
	if (ret < 0) {
		node_ipam_destroy(ipam);
		return ret;
	}
	log_orphan_records(ipam);
	*out = ipam;
	return 0;
}

void node_ipam_destroy(struct node_ipam *ipam)
{
	if (!ipam)
		return;
	pools_destroy(ipam);
	free(ipam->records);
	free(ipam->owned);
	free(ipam->state_dir);
	free(ipam->alloc_dir);
	free(ipam->node_name);
	pthread_mutex_destroy(&ipam->pools_lock);
	pthread_mutex_destroy(&ipam->records_lock);
	pthread_mutex_destroy(&ipam->owned_lock);
	free(ipam);
}

static int check_key(const char *container_id, const char *ifname, char *err, size_t errlen)
{
	if (!container_id || !ifname || !container_id[0] || !ifname[0] ||
	    strlen(container_id) >= NODE_IPAM_ID_MAX || strlen(ifname) >= NODE_IPAM_IFNAME_MAX) {
		snprintf(err, errlen, "invalid container ID %.64s or interface name %.32s",
			 container_id ? container_id : "(null)", ifname ? ifname : "(null)");
		return -EINVAL;
	}
	return 0;
}

static int check_pool_name(const char *pool, char *err, size_t errlen)
{
	if (!pool || strlen(pool) >= NODE_NAME_MAX) {
		snprintf(err, errlen, "invalid pool name %.64s", pool ? pool : "(null)");
		return -EINVAL;
	}
	return 0;
}

static void copy_addresses(const struct node_ipam_record *r, char *ipv4, char *ipv6)
{
	memcpy(ipv4, r->ipv4, IP_ADDR_STRLEN);
	memcpy(ipv6, r->ipv6, IP_ADDR_STRLEN);
}

/* Gets a new block from the source into the pool (pool->lock held, so a pool
 * never has two acquisitions in flight). Returns 0 or the source's errno. */
static int acquire_block(struct node_ipam *ipam, struct nipam_pool *pool, struct nipam_block **out,
			 char *err, size_t errlen)
{
	struct node_block info;
	memset(&info, 0, sizeof(info));
	int ret = ipam->source.ops->acquire(ipam->source.ctx, pool->name, &info, err, errlen);
	if (ret < 0)
		return ret;
	if (strcmp(info.pool, pool->name) != 0) {
		snprintf(err, errlen, "block source returned block %s of pool %s for pool %s",
			 info.name, info.pool, pool->name);
		return -EPROTO;
	}
	*out = pool_add_block(ipam, pool, &info, err, errlen);
	if (!*out)
		return -EPROTO;
	if (block_alloc_is_full((*out)->alloc)) {
		snprintf(err, errlen, "block %s acquired for pool %s is reserved", info.name,
			 pool->name);
		return -EAGAIN;
	}
	return 0;
}

/* Stores the record of a fresh allocation: the map decides which of two
 * racing calls for one key wins, and only the winner writes the key's file.
 * Returns 0, -EEXIST (*rec then holds the winner's record) or an error. */
static int store_new_record(struct node_ipam *ipam, struct node_ipam_record *rec, char *err,
			    size_t errlen)
{
	struct node_ipam_record existing;
	int ret = records_insert(ipam, rec, &existing);
	if (ret == -EEXIST) {
		*rec = existing;
		return ret;
	}
	if (ret < 0) {
		snprintf(err, errlen, "out of memory");
		return ret;
	}
	ret = store_save(ipam, rec, err, errlen);
	if (ret < 0)
		records_remove(ipam, rec->container_id, rec->ifname);
	return ret;
}

/* Allocates with pool->lock held. */
static int allocate_locked(struct node_ipam *ipam, struct nipam_pool *pool,
			   struct node_ipam_record *rec, char *err, size_t errlen)
{
	if (records_get(ipam, rec->container_id, rec->ifname, rec))
		return 0; /* a concurrent call for the same key won */
	struct nipam_block *block = pool_first_nonfull(pool);
	if (!block) {
		int ret = acquire_block(ipam, pool, &block, err, errlen);
		if (ret < 0)
			return ret;
	}
	struct ip_addr a4, a6;
	int offset = block_alloc_allocate(block->alloc, &a4, &a6);
	if (offset < 0) {
		snprintf(err, errlen, "block %s unexpectedly full", block->info.name);
		return offset;
	}
	block->emptied_ms = 0;
	snprintf(rec->pool, sizeof(rec->pool), "%s", pool->name);
	snprintf(rec->block, sizeof(rec->block), "%s", block->info.name);
	rec->offset = (uint32_t)offset;
	ip_addr_format(&a4, rec->ipv4);
	ip_addr_format(&a6, rec->ipv6);

	int ret = store_new_record(ipam, rec, err, errlen);
	if (ret < 0)
		block_alloc_free_offset(block->alloc, (uint32_t)offset);
	pool_update_nonfull(pool);
	return ret == -EEXIST ? 0 : ret;
}

static void init_record(struct node_ipam_record *rec, const char *container_id, const char *ifname)
{
	memset(rec, 0, sizeof(*rec));
	snprintf(rec->container_id, sizeof(rec->container_id), "%s", container_id);
	snprintf(rec->ifname, sizeof(rec->ifname), "%s", ifname);
}

int node_ipam_allocate(struct node_ipam *ipam, const char *pool_name, const char *container_id,
		       const char *ifname, char ipv4[static IP_ADDR_STRLEN],
		       char ipv6[static IP_ADDR_STRLEN], char *err, size_t errlen)
{
	ipv4[0] = ipv6[0] = '\0';
	int ret = check_key(container_id, ifname, err, errlen);
	if (ret == 0)
		ret = check_pool_name(pool_name, err, errlen);
	if (ret < 0)
		return ret;
	struct node_ipam_record rec;
	init_record(&rec, container_id, ifname);
	if (records_get(ipam, container_id, ifname, &rec)) {
		copy_addresses(&rec, ipv4, ipv6);
		return 0;
	}
	struct nipam_pool *pool = pools_get(ipam, pool_name, true, false);
	if (!pool) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_lock(&pool->lock);
	ret = allocate_locked(ipam, pool, &rec, err, errlen);
	bool changed = pool_take_changed(pool);
	pthread_mutex_unlock(&pool->lock);
	if (changed)
		notify_blocks_changed(ipam);
	if (ret < 0)
		return ret;
	copy_addresses(&rec, ipv4, ipv6);
	log_info("allocated address", "pool", rec.pool, "container_id", container_id, "ifname",
		 ifname, "block", rec.block, "ipv4", rec.ipv4, "ipv6", rec.ipv6);
	return 0;
}

bool block_in_grace(const struct node_ipam *ipam, const struct nipam_block *block)
{
	return block->emptied_ms && wake_now_ms() - block->emptied_ms < ipam->empty_grace_ms;
}

/* Frees the record's address with pool->lock held; *rec is the record as
 * re-read under the lock. Releases the block if it becomes empty. */
static int free_locked(struct node_ipam *ipam, struct nipam_pool *pool,
		       const struct node_ipam_record *rec, char *err, size_t errlen)
{
	struct nipam_block *block = pool_find_block(pool, rec->block);
	if (!block) {
		log_warn("freeing a record of an unknown block", "container_id", rec->container_id,
			 "ifname", rec->ifname, "pool", rec->pool, "block", rec->block);
	} else if (!block->info.reserved) { /* a reserved block stays full */
		struct block_alloc *alloc = block->alloc;
		bool empties =
		    block_alloc_is_used(alloc, rec->offset) && block_alloc_used(alloc) == 1;
		if (empties && ipam->empty_grace_ms > 0) {
			/* Kept for the next pods; a GC after the grace period releases it. */
			long now = wake_now_ms();
			block->emptied_ms = now ? now : 1;
			block_alloc_free_offset(alloc, rec->offset);
			pool_update_nonfull(pool);
		} else if (empties) {
			/* Release before clearing the bit. If that fails the address is
			 * freed anyway: the block stays owned (and routed), empty, and
			 * the next GC releases it; a DEL never fails for it. */
			char why[256] = "";
			int ret = ipam->source.ops->release(ipam->source.ctx, &block->info, why,
							    sizeof(why));
			if (ret == 0) {
				log_info("released address block", "pool", pool->name, "block",
					 block->info.name);
				pool_remove_block(ipam, pool, block);
				fault_point("del:block-released");
			} else {
				log_warn("failed to release an empty block; the GC retries", "pool",
					 pool->name, "block", block->info.name, "error", why);
				block_alloc_free_offset(alloc, rec->offset);
				pool_update_nonfull(pool);
			}
		} else {
			block_alloc_free_offset(alloc, rec->offset);
			pool_update_nonfull(pool);
		}
	}
	store_remove(ipam, rec);
	fault_point("del:record-removed");
	records_remove(ipam, rec->container_id, rec->ifname);
	return 0;
}

int node_ipam_free(struct node_ipam *ipam, const char *container_id, const char *ifname, char *err,
		   size_t errlen)
{
	int ret = check_key(container_id, ifname, err, errlen);
	if (ret < 0)
		return ret;
	for (;;) {
		struct node_ipam_record rec, now;
		if (!records_get(ipam, container_id, ifname, &rec))
			return 0;
		struct nipam_pool *pool = pools_get(ipam, rec.pool, true, false);
		if (!pool) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		pthread_mutex_lock(&pool->lock);
		/* Re-read under the pool lock: a concurrent free of the same key
		 * must not clear a bit that was handed out again meanwhile. */
		bool same = records_get(ipam, container_id, ifname, &now) &&
			    strcmp(now.pool, rec.pool) == 0;
		if (same)
			ret = free_locked(ipam, pool, &now, err, errlen);
		bool changed = pool_take_changed(pool);
		pthread_mutex_unlock(&pool->lock);
		if (changed)
			notify_blocks_changed(ipam);
		if (same) {
			if (ret == 0)
				log_info("freed address", "container_id", container_id, "ifname",
					 ifname, "ipv4", now.ipv4, "ipv6", now.ipv6);
			return ret;
		}
	}
}

static int parse_optional_addr(const char *text, struct ip_addr *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (!text || !text[0])
		return 0;
	if (ip_addr_parse(text, out) < 0) {
		snprintf(err, errlen, "invalid address %.64s", text);
		return -EINVAL;
	}
	return 0;
}

/* Marks the address in the pool's block containing it (pool->lock held) and
 * records it unless the key already has a record. */
static int register_locked(struct node_ipam *ipam, struct nipam_pool *pool,
			   struct node_ipam_record *rec, const struct ip_addr *a4,
			   const struct ip_addr *a6, char *err, size_t errlen)
{
	const struct ip_addr *p4 = a4->family ? a4 : NULL, *p6 = a6->family ? a6 : NULL;
	for (size_t i = 0; i < pool->n_blocks; i++) {
		struct nipam_block *block = &pool->blocks[i];
		int offset = block_alloc_register(block->alloc, p4, p6);
		if (offset < 0)
			continue;
		pool_update_nonfull(pool);
		snprintf(rec->pool, sizeof(rec->pool), "%s", pool->name);
		snprintf(rec->block, sizeof(rec->block), "%s", block->info.name);
		rec->offset = (uint32_t)offset;
		struct ip_addr b4, b6;
		block_alloc_addresses(block->alloc, rec->offset, &b4, &b6);
		ip_addr_format(&b4, rec->ipv4);
		ip_addr_format(&b6, rec->ipv6);
		int ret = store_new_record(ipam, rec, err, errlen);
		if (ret == -EIO) {
			/* A full disk must not stop the rebuild: the kernel holds the address,
			 * so it is kept in memory; a DEL frees it. */
			log_warn("keeping a restored address in memory only", "error", err);
			ret = records_insert(ipam, rec, NULL) == -ENOMEM ? -ENOMEM : 0;
		}
		if (ret == -EEXIST && strcmp(rec->block, block->info.name) != 0)
			log_warn("key already has a record in another block", "container_id",
				 rec->container_id, "ifname", rec->ifname, "block", rec->block);
		return ret == -EEXIST ? 0 : ret;
	}
	log_warn("no block contains the registered address", "pool", pool->name, "container_id",
		 rec->container_id, "ifname", rec->ifname);
	return 0;
}

int node_ipam_register(struct node_ipam *ipam, const char *pool_name, const char *container_id,
		       const char *ifname, const char *ipv4, const char *ipv6, char *err,
		       size_t errlen)
{
	struct ip_addr a4, a6;
	int ret = check_key(container_id, ifname, err, errlen);
	if (ret == 0)
		ret = check_pool_name(pool_name, err, errlen);
	if (ret == 0)
		ret = parse_optional_addr(ipv4, &a4, err, errlen);
	if (ret == 0)
		ret = parse_optional_addr(ipv6, &a6, err, errlen);
	if (ret < 0)
		return ret;
	struct nipam_pool *pool = pools_get(ipam, pool_name, true, false);
	if (!pool) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	struct node_ipam_record rec;
	init_record(&rec, container_id, ifname);
	pthread_mutex_lock(&pool->lock);
	ret = register_locked(ipam, pool, &rec, &a4, &a6, err, errlen);
	pthread_mutex_unlock(&pool->lock);
	return ret;
}
