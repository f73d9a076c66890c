/* `coil migrate`: moving a cluster from Coil v1 to Coil v2.
 *
 * Coil v1 kept its IPAM state in etcd; v2 keeps it in custom resources. `dump` reads v1's
 * pools and node blocks from etcd, removes v1's Kubernetes objects, annotates the namespaces
 * of v1's namespace pools and writes AddressPools plus one reserved AddressBlock per block
 * v1 had handed to a node (so that v2 never hands out those addresses while v1's pods live).
 * `replace` then recreates every pod node by node so that each gets a v2 address, deletes
 * the reserved blocks and restarts coild.
 *
 * Every step that changes the cluster has a dry-run twin that prints what it would do.
 * Progress goes to the `log` stream of the options; functions return 0 or a negative errno
 * with the message in err. */
#ifndef COIL_MIGRATE_H
#define COIL_MIGRATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct etcd_client;
struct kube_client;

/* ---- Coil v1's data in etcd ------------------------------------------------------------ */

/* Key layout under the prefix (default "/coil/"):
 *   pool/<name>                   {"subnets": ["<cidr>", ...], "block_size": <bits>}
 *   subnet/<network address>      ""  (subnets in use; not needed here)
 *   block/<pool>/<subnet address> {"free": [...], "nodes": {"<node>": ["<cidr>", ...]}}
 *   ip/<block address>/<offset>   the pod holding one address (not needed here) */
#define MIGRATE_V1_POOL_KEY  "pool/"
#define MIGRATE_V1_BLOCK_KEY "block/"

struct migrate_v1_pool {
	char *name;	/* owned */
	int block_size; /* a block holds 2^block_size addresses */
	char **subnets; /* owned CIDR texts, n_subnets >= 1, v1's order */
	size_t n_subnets;
};

/* One block v1 assigned to a node. */
struct migrate_v1_block {
	char *pool, *node, *cidr; /* owned */
};

struct migrate_v1_data {
	struct migrate_v1_pool *pools; /* owned, n_pools, etcd's key order */
	size_t n_pools;
	struct migrate_v1_block *blocks; /* owned, n_blocks, etcd's key order then v1's */
	size_t n_blocks;
};

/* The pool name of a key "pool/<name>" (name validated against v1's ^[a-z][a-z0-9_.-]*$).
 * *name points into key. -EINVAL when key is not a pool key or the name is not v1's. */
int migrate_v1_parse_pool_key(const char *key, const char **name, char *err, size_t errlen);
/* The pool of a key "block/<pool>/<subnet address>" (copied into pool, poollen bytes). */
int migrate_v1_parse_block_key(const char *key, char *pool, size_t poollen, char *err,
			       size_t errlen);
/* Parses a pool value into *out (caller clears with migrate_v1_pool_clear). Checks that the
 * subnets are IPv4 CIDRs with room for at least one block. */
int migrate_v1_parse_pool(const char *name, const char *value, size_t len,
			  struct migrate_v1_pool *out, char *err, size_t errlen);
void migrate_v1_pool_clear(struct migrate_v1_pool *pool);
/* Parses a block value of pool and appends its node assignments to data. */
int migrate_v1_parse_blocks(const char *pool, const char *value, size_t len,
			    struct migrate_v1_data *data, char *err, size_t errlen);

/* Reads every pool and every node assignment. */
int migrate_v1_read(struct etcd_client *etcd, struct migrate_v1_data *out, char *err,
		    size_t errlen);
void migrate_v1_data_clear(struct migrate_v1_data *data);
const struct migrate_v1_pool *migrate_v1_find_pool(const struct migrate_v1_data *data,
						   const char *name);

/* ---- conversion ------------------------------------------------------------------------- */

/* The pool-wide index of block cidr in pool: blocks of the subnets before the one holding it,
 * plus its offset in that subnet, in blocks. -EINVAL "block <cidr> cannot exist in pool <p>"
 * when no subnet of the pool holds it (or it is not a block of the pool's size). */
int migrate_block_index(const struct migrate_v1_pool *pool, const char *cidr, uint32_t *index,
			char *err, size_t errlen);

/* The AddressPool of a v1 pool and the reserved AddressBlock of a v1 block (new references),
 * with metadata.creationTimestamp null as upstream's migrator wrote them. */
json_t *migrate_pool_object(const struct migrate_v1_pool *pool);
int migrate_block_object(const struct migrate_v1_pool *pool, const struct migrate_v1_block *block,
			 json_t **out, char *err, size_t errlen);

/* The whole manifest: every AddressPool, then the reserved blocks of the nodes (names
 * borrowed, in the given order). Blocks of pools v1 no longer has are skipped with a line on
 * log; a block outside its pool is an error. *docs is a new array. */
int migrate_convert(const struct migrate_v1_data *v1, const char *const *nodes, size_t n_nodes,
		    FILE *log, json_t **docs, char *err, size_t errlen);

/* ---- the two procedures ------------------------------------------------------------------ */

/* GET Namespace "default": the API server is reachable and we may read. */
int migrate_kube_sanity(struct kube_client *kube, char *err, size_t errlen);

struct migrate_dump_opts {
	struct etcd_client *etcd;
	struct kube_client *kube;
	bool skip_uninstall; /* leave v1's objects alone */
	bool dry_run;	     /* change nothing; say what would change */
	FILE *out;	     /* the YAML stream */
	FILE *log;	     /* progress */
	long poll_ms;	     /* between checks that a deleted object is gone; 0 = 1000 */
	long polls;	     /* checks before giving up; 0 = 100 */
};

int migrate_dump(const struct migrate_dump_opts *opts, char *err, size_t errlen);

/* Uninstalls v1's objects in v1's dependency order (workloads, config, RBAC, accounts),
 * each deleted in the foreground and awaited. An object v2 owns by the same name (the
 * ConfigMap kube-system/coil-config) is kept. Part of migrate_dump. */
int migrate_uninstall_v1(const struct migrate_dump_opts *opts, char *err, size_t errlen);

/* Whether a ConfigMap kube-system/coil-config is Coil v2's, not v1's (borrowed). */
bool migrate_configmap_is_v2(const json_t *configmap);

struct migrate_replace_opts {
	struct kube_client *kube;
	double interval_s;	  /* pause after each node */
	bool dry_run;		  /* list what would be deleted, delete nothing */
	FILE *out;		  /* progress */
	const char *failure_file; /* pods that could not be deleted; NULL = upstream's path */
	long poll_ms;		  /* between checks that a pod is gone; 0 = 100 */
	long polls;		  /* checks before giving up on a pod; 0 = 6000 (10 min) */
	long block_poll_ms;	  /* between checks that the reserved blocks are gone; 0 = 1000 */
};

#define MIGRATE_FAILURE_FILE "/tmp/pod-delete-failure.txt"

int migrate_replace(const struct migrate_replace_opts *opts, char *err, size_t errlen);

/* Asks "DO YOU WANT TO PROCEED? [y/N] " on prompt and reads one line from in: true only for
 * y, Y, yes or YES. */
bool migrate_confirm(FILE *in, FILE *prompt);

#endif
