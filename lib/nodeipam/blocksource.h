/* Where the node daemon gets its address blocks from. Two implementations:
 * the standalone one (lib/standalone: pools from a manifest file, blocks carved
 * locally and persisted in a state directory) and the Kubernetes one (lib/kubesource:
 * BlockRequest and AddressBlock objects). The node IPAM (lib/nodeipam) only
 * talks to this interface, so it is unit-tested with a fake source.
 *
 * Thread safety: every op may be called from several threads at once; the node
 * IPAM serializes acquire() per pool, nothing more. */
#ifndef COIL_NODEIPAM_BLOCKSOURCE_H
#define COIL_NODEIPAM_BLOCKSOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NODE_NAME_MAX 254 /* pool and block names are Kubernetes object names */
#define NODE_CIDR_MAX 50  /* "ffff:...:ffff/128" plus NUL */

/* A block of addresses owned by this node, as an AddressBlock describes it. */
struct node_block {
	char name[NODE_NAME_MAX]; /* "<pool>-<index>" */
	char pool[NODE_NAME_MAX];
	uint32_t index;		  /* pool-wide block index */
	char ipv4[NODE_CIDR_MAX]; /* canonical CIDR, "" when the pool has no IPv4 */
	char ipv6[NODE_CIDR_MAX]; /* canonical CIDR, "" when the pool has no IPv6 */
	bool reserved;		  /* coil.cybozu.com/reserved=true: never hand out */
};

struct block_source_ops {
	/* Every block this node owns, of every pool. *out is malloc'd (caller frees),
	 * *n its length. Returns 0 or a negative errno. */
	int (*list)(void *ctx, struct node_block **out, size_t *n, char *err, size_t errlen);

	/* A new block of `pool` for this node. Returns 0 and fills *out, or:
	 * -ENOSPC the pool has no free block ("out of blocks"),
	 * -ENOENT no such pool, -ETIMEDOUT no answer in time,
	 * -EAGAIN the source is unreachable right now (the plugin answers CNI code 11),
	 * another negative errno otherwise. err gets a message naming the pool. */
	int (*acquire)(void *ctx, const char *pool, struct node_block *out, char *err,
		       size_t errlen);

	/* Gives back an empty block. Releasing a block that is already gone is success. */
	int (*release)(void *ctx, const struct node_block *block, char *err, size_t errlen);

	/* The pool a pod in `ns` gets: the namespace's coil.cybozu.com/pool
	 * annotation (verbatim, even empty), else "default". Returns 0 or -errno. */
	int (*pool_for_namespace)(void *ctx, const char *ns, char *pool, size_t poollen, char *err,
				  size_t errlen);

	/* Whether acquire(pool) could succeed now: 1 yes, 0 no (exhausted or no
	 * such pool), negative errno when it cannot tell. Used by CNI STATUS. */
	int (*can_acquire)(void *ctx, const char *pool);
};

struct block_source {
	const struct block_source_ops *ops;
	void *ctx;
};

#endif
