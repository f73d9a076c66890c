/* Pure helpers of coil-ipam-controller over Kubernetes JSON objects (no I/O): reading an
 * AddressPool's spec, building the AddressBlock object and the BlockRequest
 * statuses (docs/behaviour/objects.md), and the small predicates the event filters need.
 *
 * `const json_t *` arguments are borrowed; returned `json_t *` are new references the caller
 * json_decref()s. */
#ifndef COIL_IPAMCTL_OBJECTS_H
#define COIL_IPAMCTL_OBJECTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "coilapi/coilapi.h"
#include "ipam/ipam.h"

/* coilapi_pool_decode() with the pool's name in front of the message. The caller ends *out
 * with coilapi_pool_clear(); coilapi_pool_ipam(out) is the pool lib/ipam carves. */
int ipamctl_pool_decode(const json_t *obj, struct coilapi_pool *out, char *err, size_t errlen);

/* True when metadata.deletionTimestamp is set (non-null). */
bool ipamctl_being_deleted(const json_t *obj);

/* Whether metadata.finalizers holds finalizer. */
bool ipamctl_has_finalizer(const json_t *obj, const char *finalizer);

/* Removes every occurrence of finalizer from obj's metadata.finalizers (obj is modified).
 * Returns true when something was removed. */
bool ipamctl_remove_finalizer(json_t *obj, const char *finalizer);

/* The name of the pool's block at index: `<pool>-<index>`, as upstream names it. False when
 * it does not fit in len bytes. */
bool ipamctl_block_name(char *buf, size_t len, const char *pool, uint32_t index);

/* The AddressBlock `<pool>-<index>` as upstream makes it: labels pool/node/request, finalizer,
 * controller owner reference to the pool (uid from the pool object), index and the present
 * families' CIDRs. NULL when the pool has no name or uid (or on ENOMEM). */
json_t *ipamctl_block_build(const json_t *pool, uint32_t index,
			    const struct ipam_block_cidrs *cidrs, const char *node,
			    const char *request_uid);

/* BlockRequest statuses (Complete, or Complete+Failed "out of blocks") with
 * lastProbeTime = lastTransitionTime = now (seconds). */
json_t *ipamctl_status_allocated(const char *block_name, const struct timespec *now);
json_t *ipamctl_status_out_of_blocks(const char *pool_name, const struct timespec *now);

/* Number of entries of status.conditions (0 when absent or not an array). */
size_t ipamctl_condition_count(const json_t *request);

/* The name of the AddressPool that is obj's controller owner (an ownerReference with
 * controller: true, kind AddressPool, apiVersion coil.cybozu.com/...), or NULL. Borrowed. */
const char *ipamctl_controller_pool(const json_t *obj);

/* The AddressBlock's index if it is an integer in 0..2147483647, else -1. */
int64_t ipamctl_block_index(const json_t *block);

#endif
