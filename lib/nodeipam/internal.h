/* Private to lib/nodeipam: the node IPAM object and its parts.
 *
 * Lock order (outer to inner): pools_lock → pool->lock → records_lock or
 * owned_lock. Only sync holds pools_lock while taking pool locks; everyone
 * else takes pools_lock alone, briefly. records_lock and owned_lock are
 * leaves: nothing is waited on while holding them. */
#ifndef COIL_NODEIPAM_INTERNAL_H
#define COIL_NODEIPAM_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "nodeipam/nodeipam.h"

struct nipam_block {
	struct node_block info;
	struct block_alloc *alloc; /* owned */
	long emptied_ms;	   /* wake_now_ms() when a free emptied it; 0: not in grace */
};

struct nipam_pool {
	char name[NODE_NAME_MAX];
	pthread_mutex_t lock;	    /* guards blocks; held across source->acquire */
	struct nipam_block *blocks; /* ascending info.index */
	size_t n_blocks, cap_blocks;
	atomic_int nonfull_blocks; /* read without the lock by pool_ready */
	bool changed;		   /* blocks added or removed; see pool_take_changed */
	struct nipam_pool *next;
};

struct node_ipam {
	struct block_source source;
	char *state_dir; /* owned; NULL = memory only */
	char *alloc_dir; /* owned; <state_dir>/allocations */
	char *node_name; /* owned; NULL = records of any node are applied */
	void (*blocks_changed)(void *arg);
	void *blocks_changed_arg;
	long empty_grace_ms; /* node_ipam_config.empty_grace_ms */

	pthread_mutex_t pools_lock;
	struct nipam_pool *pools; /* only grows until destroy: pointers stay valid */

	pthread_mutex_t records_lock;
	struct node_ipam_record *records;
	size_t n_records, cap_records;

	pthread_mutex_t owned_lock;
	struct node_block *owned; /* copy of every pool's blocks, for route export */
	size_t n_owned, cap_owned;
};

/* ---- pools (pool.c) ---- */

/* The pool named `name`, created if missing and `create`; NULL if missing
 * (or out of memory). Takes pools_lock unless caller_holds_pools_lock. */
struct nipam_pool *pools_get(struct node_ipam *ipam, const char *name, bool create,
			     bool caller_holds_pools_lock);
void pools_destroy(struct node_ipam *ipam);

/* With pool->lock held: */
struct nipam_block *pool_find_block(struct nipam_pool *pool, const char *name);
struct nipam_block *pool_first_nonfull(struct nipam_pool *pool);
/* Adds a block (filled if reserved), re-marks the records that name it.
 * Returns the block or NULL with err set. */
struct nipam_block *pool_add_block(struct node_ipam *ipam, struct nipam_pool *pool,
				   const struct node_block *info, char *err, size_t errlen);
void pool_remove_block(struct node_ipam *ipam, struct nipam_pool *pool, struct nipam_block *block);
/* Recounts the blocks with a free address after a change. */
void pool_update_nonfull(struct nipam_pool *pool);
/* Whether blocks were added or removed since the last call; the caller
 * notifies blocks_changed after unlocking. */
bool pool_take_changed(struct nipam_pool *pool);

/* ---- records (records.c); each takes records_lock ---- */

bool records_get(struct node_ipam *ipam, const char *container_id, const char *ifname,
		 struct node_ipam_record *out);
/* 0, -EEXIST (then *existing holds the present record) or -ENOMEM. */
int records_insert(struct node_ipam *ipam, const struct node_ipam_record *record,
		   struct node_ipam_record *existing);
void records_remove(struct node_ipam *ipam, const char *container_id, const char *ifname);
/* Marks the records that name `block` in its allocator. */
void records_mark_block(struct node_ipam *ipam, struct nipam_block *block);
int records_snapshot(struct node_ipam *ipam, struct node_ipam_record **out, size_t *n);

/* ---- persistence (store.c); no-ops without a state dir ---- */

int store_open(struct node_ipam *ipam, const char *boot_id_path, char *err, size_t errlen);
int store_save(struct node_ipam *ipam, const struct node_ipam_record *record, char *err,
	       size_t errlen);
void store_remove(struct node_ipam *ipam, const struct node_ipam_record *record);
/* Inserts every persisted record into the record map. */
int store_load(struct node_ipam *ipam, char *err, size_t errlen);

/* Whether an empty block is still in its grace period (pool->lock held). */
bool block_in_grace(const struct node_ipam *ipam, const struct nipam_block *block);

/* ---- sync (sync.c) ---- */

/* Reconciles with source->list(); *changed tells whether blocks changed. */
int sync_blocks(struct node_ipam *ipam, bool *changed, char *err, size_t errlen);

void notify_blocks_changed(struct node_ipam *ipam);

#endif
