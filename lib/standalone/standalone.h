/* The standalone block source of the node daemon: address pools come from a YAML
 * manifest file (AddressPool and Namespace objects, as one would kubectl-apply
 * them) instead of the Kubernetes API, and this node's blocks are carved locally
 * and persisted in <state_dir>/blocks.json.
 *
 * Crash safety: blocks.json is replaced atomically (temp file, fsync, rename,
 * fsync of the directory) before acquire() or release() returns, so a block that
 * was ever handed out is on disk and is never carved a second time. One process
 * at a time may use a state directory (flock on <state_dir>/lock). */
#ifndef COIL_STANDALONE_H
#define COIL_STANDALONE_H

#include <stdbool.h>
#include <stddef.h>

#include "nodeipam/blocksource.h"

/* One element of spec.subnets; a NULL field is an absent family. The texts are
 * kept as written (subnet sets compare by text, as upstream's webhook does). */
struct standalone_subnet {
	char *ipv4; /* owned by the manifest */
	char *ipv6; /* owned by the manifest */
};

struct standalone_pool {
	char *name;	    /* owned by the manifest */
	int blocksize_bits; /* spec.blockSizeBits, 5 when absent */
	size_t nsubnets;    /* >= 1 */
	struct standalone_subnet *subnets;
};

struct standalone_namespace {
	char *name; /* owned by the manifest */
	char *pool; /* the coil.cybozu.com/pool annotation verbatim, NULL when absent */
};

/* The validated content of a manifest stream, in document order. A namespace's pool
 * annotation is coil.cybozu.com/pool. */
struct standalone_manifest {
	struct standalone_pool *pools;
	size_t npools;
	struct standalone_namespace *namespaces;
	size_t nnamespaces;
};

/* Parses a YAML 1.1 stream of documents (separated by "---"; a document may also
 * be a `kind: List` with `items`). Keeps `coil.cybozu.com/v2` AddressPools and
 * `v1` Namespaces; other kinds are skipped with an info log. Pools are validated
 * like the API server's schema plus the validating admission webhook on CREATE
 * (lib/coilapi's decoder, then every subnet against the block size; see
 * docs/behaviour/standalone.md), and a pool needs a spec; pool and namespace
 * names must be unique. On error *out is
 * left empty and err names the document number (1-based) and the field.
 * On success the caller frees *out with standalone_manifest_free(). */
int standalone_manifest_parse(const char *text, size_t len, struct standalone_manifest *out,
			      char *err, size_t errlen);

/* standalone_manifest_parse() on the content of the file at `path`. */
int standalone_manifest_load(const char *path, struct standalone_manifest *out, char *err,
			     size_t errlen);

/* Frees what *m owns and empties it; safe on an empty or freed manifest. */
void standalone_manifest_free(struct standalone_manifest *m);

/* The pool called `name`, or NULL. */
const struct standalone_pool *standalone_manifest_pool(const struct standalone_manifest *m,
						       const char *name);

/* Opens the block source: loads the manifest at `manifest_path`, creates
 * `state_dir` if missing (mode 0700, its parent must exist), locks it and loads
 * blocks.json (absent = no blocks yet; unreadable, corrupt or belonging to another
 * node = error, never a silent reset). Blocks whose pool is gone or whose CIDRs no
 * longer match the manifest's carving are kept, with a warning log, until they
 * are released. Returns 0 and fills *out, or a negative errno with err set:
 * -EBUSY when another open source holds the state directory.
 * The caller ends it with standalone_close(). */
int standalone_open(const char *manifest_path, const char *state_dir, const char *node_name,
		    struct block_source *out, char *err, size_t errlen);

/* Releases what standalone_open() made; blocks.json stays. Safe on a zeroed or
 * already closed source. No op may be running or start during the call. */
void standalone_close(struct block_source *src);

/* Replaces the manifest of an open source with the one at `manifest_path` (for
 * SIGHUP). On error the old manifest stays in force. Blocks in the state are
 * kept; those that became stale are logged as at open. */
int standalone_reload(struct block_source *src, const char *manifest_path, char *err,
		      size_t errlen);

#endif
