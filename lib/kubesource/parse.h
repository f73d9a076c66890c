/* Pure readers of the Kubernetes objects the block source consumes (no I/O): a BlockRequest's
 * result (docs/behaviour/objects.md, 'BlockRequest'), an AddressBlock as a node_block, a Node's
 * InternalIPs, a Namespace's pool annotation and an AddressPool's usability. The Coil objects
 * go through lib/coilapi's decoders; every object is outside input: anything may be missing or
 * of the wrong type. Exposed for the unit tests and the fuzzer. */
#ifndef COIL_KUBESOURCE_PARSE_H
#define COIL_KUBESOURCE_PARSE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "coilapi/coilapi.h"
#include "ipam/ipam.h"
#include "nodeipam/blocksource.h"

#define KUBESOURCE_UID_MAX    64
#define KUBESOURCE_REASON_MAX 256

enum request_state {
	REQUEST_IN_PROGRESS = COILAPI_REQUEST_IN_PROGRESS, /* neither Complete nor Failed True */
	REQUEST_COMPLETE = COILAPI_REQUEST_COMPLETE, /* Complete=True: block names the block */
	REQUEST_FAILED = COILAPI_REQUEST_FAILED,     /* Failed=True (wins over Complete): reason */
};

/* What a BlockRequest says, copied out of the object so it can cross threads. */
struct request_result {
	char uid[KUBESOURCE_UID_MAX];
	char node[NODE_NAME_MAX]; /* spec.nodeName */
	char pool[NODE_NAME_MAX]; /* spec.poolName */
	size_t n_conditions;	  /* the watcher only reports requests with >= 1 */
	enum request_state state;
	char block[NODE_NAME_MAX];	     /* status.addressBlockName (COMPLETE) */
	char reason[KUBESOURCE_REASON_MAX];  /* the Failed condition's reason (FAILED) */
	char message[KUBESOURCE_REASON_MAX]; /* and its message */
};

/* Reads a BlockRequest. Returns 0, or -EINVAL when it is not a valid BlockRequest (as the
 * CRD schema has it) with a uid. */
int request_result_parse(const json_t *obj, struct request_result *out);

/* Reads an AddressBlock. A missing pool label is taken from the name "<pool>-<index>".
 * The CIDRs are checked and written canonically; at least one family must be present.
 * Returns 0, or -EINVAL with err naming the block and the bad field. */
int block_parse(const json_t *obj, struct node_block *out, char *err, size_t errlen);

/* A Node's InternalIPs in status.addresses order, later ones overriding earlier ones; an
 * IPv4-mapped IPv6 address counts as IPv4. "" when absent. */
void node_internal_ips(const json_t *node, char ipv4[static IP_ADDR_STRLEN],
		       char ipv6[static IP_ADDR_STRLEN]);

/* The pool a Namespace chooses: its annotation verbatim (even ""), else "default".
 * Returns 0 or -ENAMETOOLONG. */
int namespace_pool(const json_t *ns, char *pool, size_t poollen);

/* Whether an AddressPool may give out new blocks: it has no deletionTimestamp. */
bool pool_usable(const json_t *pool);

#endif
