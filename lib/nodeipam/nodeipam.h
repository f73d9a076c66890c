/* The node daemon's IPAM (docs/behaviour/daemon.md, 'Address allocation'): hands
 * out pod addresses from the address blocks this node owns, getting and
 * giving back blocks through a struct block_source.
 *
 * Thread-safe: every function may be called from several threads at once.
 * Locking: one mutex per pool (held across source->acquire(), so a pool never
 * has two acquisitions in flight while other pools proceed) and leaf locks
 * for the allocation records and the owned-block list, never held while
 * waiting on a pool lock or on the source. node_ipam_sync()/node_ipam_gc()
 * briefly hold every pool lock to reconcile against one list() snapshot.
 *
 * Persistence: with a state directory, every allocation record is written to
 * <state_dir>/allocations/<key> (temp file + rename) before allocate() returns
 * and removed only after free() succeeded, so a daemon killed at any point
 * and restarted never hands an address out twice. Records from before a
 * reboot (<state_dir>/boot_id differs, which is written only when it
 * changed) and records of another node (their "node" field) are discarded at
 * load. Frees and queries write nothing, so they work on a full disk. */
#ifndef COIL_NODEIPAM_H
#define COIL_NODEIPAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipam/ipam.h"
#include "nodeipam/blocksource.h"

#define NODE_IPAM_ID_MAX     256 /* container ID: 1..255 bytes */
#define NODE_IPAM_IFNAME_MAX 16	 /* IFNAMSIZ */

struct node_ipam;

struct node_ipam_config {
	/* Borrowed; must outlive the node IPAM. */
	const struct block_source *source;
	/* NULL: memory only. Else created (0700) if missing. */
	const char *state_dir;
	/* NULL: /proc/sys/kernel/random/boot_id (tests point elsewhere). */
	const char *boot_id_path;
	/* This node's name, written into every record; a record naming another
	 * node is discarded at load. NULL: not written, not checked. */
	const char *node_name;
	/* Called with no node IPAM lock held after this node gained or gave
	 * back blocks (acquire, release on free, sync/gc), so the daemon can
	 * re-export its block routes. May be NULL. */
	void (*blocks_changed)(void *arg);
	void *blocks_changed_arg;
	/* How long a block that a free emptied stays owned before a GC may release it
	 * (monotonic ms), so that a node whose pods come and go keeps its block instead of
	 * giving it back and asking for one again at the next ADD. 0: the free that empties
	 * a block releases it at once (upstream's way). */
	long empty_grace_ms;
};

/* One pod interface's addresses; key "<container_id>:<ifname>". */
struct node_ipam_record {
	char container_id[NODE_IPAM_ID_MAX];
	char ifname[NODE_IPAM_IFNAME_MAX];
	char pool[NODE_NAME_MAX];
	char block[NODE_NAME_MAX];
	uint32_t offset;
	char ipv4[IP_ADDR_STRLEN]; /* "" when the block has no IPv4 */
	char ipv6[IP_ADDR_STRLEN]; /* "" when the block has no IPv6 */
};

/* Creates the node IPAM: loads the persisted records (if state_dir), then
 * syncs the owned blocks from source->list() and re-marks the records in
 * them (records whose block is unknown are kept and logged). Caller frees
 * with node_ipam_destroy(). Returns 0 or a negative errno. */
int node_ipam_new(const struct node_ipam_config *config, struct node_ipam **out, char *err,
		  size_t errlen);

/* Frees memory only: blocks stay owned, state files stay (like a crash). */
void node_ipam_destroy(struct node_ipam *ipam);

/* Addresses for container_id/ifname from `pool`; idempotent per key (an
 * existing record is returned whatever pool is given). Picks the non-full
 * block with the lowest index, else acquires a new block from the source.
 * ipv4/ipv6 get the address text or "". Returns 0 or a negative errno:
 * the source's (-ENOSPC, -ETIMEDOUT, -EAGAIN, -ENOENT...) or local ones
 * (-EINVAL bad arguments, -EIO writing the state dir, -EPROTO unusable
 * block from the source, -EAGAIN the acquired block is reserved). */
int node_ipam_allocate(struct node_ipam *ipam, const char *pool, const char *container_id,
		       const char *ifname, char ipv4[static IP_ADDR_STRLEN],
		       char ipv6[static IP_ADDR_STRLEN], char *err, size_t errlen);

/* Frees the key's address; an unknown key is success. A block that became
 * empty is kept for empty_grace_ms when that is set (a later GC releases
 * it); else it is released through the source at once; if that fails (API server away,
 * full disk) the address is freed all the same and the empty block stays
 * owned until a GC releases it. Fault points: del:block-released,
 * del:record-removed. Returns 0 or -EINVAL/-ENOMEM. */
int node_ipam_free(struct node_ipam *ipam, const char *container_id, const char *ifname, char *err,
		   size_t errlen);

/* Startup rebuild from the kernel: records that container_id/ifname holds
 * ipv4/ipv6 (either NULL or "") in the block of `pool` containing it. An
 * address in no known block is only logged (returns 0), like upstream.
 * An existing record of the key is kept. Returns 0 or -EINVAL/-EIO. */
int node_ipam_register(struct node_ipam *ipam, const char *pool, const char *container_id,
		       const char *ifname, const char *ipv4, const char *ipv6, char *err,
		       size_t errlen);

/* Reconciles the owned blocks with source->list(): adds new blocks (reserved
 * ones filled, records re-marked), forgets blocks that vanished (their
 * records are kept). Returns 0 or the source's negative errno. */
int node_ipam_sync(struct node_ipam *ipam, char *err, size_t errlen);

/* Decides whether a record survives a GC; called with no lock held. */
typedef bool (*node_ipam_keep_fn)(const struct node_ipam_record *record, void *arg);

/* GC: if keep is set, frees every record it rejects (CNI GC); then syncs and
 * releases every empty, non-reserved block (startup and periodic GC) but
 * those a free emptied less than empty_grace_ms ago.
 * Continues past errors and returns the first one. */
int node_ipam_gc(struct node_ipam *ipam, node_ipam_keep_fn keep, void *arg, char *err,
		 size_t errlen);

/* A valid attachment for node_ipam_gc_attachments(). */
struct node_ipam_key {
	const char *container_id;
	const char *ifname;
};

/* node_ipam_gc() keeping exactly the listed attachments (CNI GC's
 * cni.dev/valid-attachments). */
int node_ipam_gc_attachments(struct node_ipam *ipam, const struct node_ipam_key *valid,
			     size_t n_valid, char *err, size_t errlen);

/* Snapshot of all records, in no particular order; *out malloc'd (caller
 * frees, NULL when n is 0). Returns 0 or -ENOMEM. */
int node_ipam_list_records(struct node_ipam *ipam, struct node_ipam_record **out, size_t *n);

/* For CNI STATUS: 1 if `pool` can hand out an address now (a known block has
 * a free address, or source->ops->can_acquire says yes; a source without
 * can_acquire counts as yes), 0 if not, negative errno if unknown. Never
 * waits for an acquisition in flight. */
int node_ipam_pool_ready(struct node_ipam *ipam, const char *pool);

/* One CIDR text of an owned block. */
struct node_ipam_cidr {
	char text[NODE_CIDR_MAX];
};

/* The ipv4 and ipv6 CIDRs of every block this node owns (all pools,
 * reserved ones too), for the route export table. *out malloc'd (caller
 * frees, NULL when n is 0). Never waits for a pool lock. Returns 0 or
 * -ENOMEM. */
int node_ipam_owned_cidrs(struct node_ipam *ipam, struct node_ipam_cidr **out, size_t *n);

#endif
