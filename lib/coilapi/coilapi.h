/* Coil's own Kubernetes API in one place: the API group and version, the descriptors of its
 * four custom resources, the label, annotation and finalizer keys, and one decoder and one
 * encoder per object kind.
 *
 * Decoders read a jansson object (borrowed; it must outlive the decoded struct, whose strings
 * point into it) and apply what the CustomResourceDefinitions in deploy/crd/ make the API
 * server apply: the field types, the required fields, the minimum values and enums, and the
 * defaults. An absent member and a JSON null read the same, as the API server treats them.
 * On error they return -EINVAL (or -ENOMEM) and write "<field path>: <problem>" to err, e.g.
 * "spec.blockSizeBits: Invalid value: -1: must be greater than or equal to 0"; the struct is
 * then empty and needs no clear. Unknown members are ignored.
 *
 * Encoders build the object (apiVersion, kind, metadata.name, a BlockRequest's uid when set,
 * and the fields the struct holds)
 * as a new json_t the caller json_decref()s; NULL only when out of memory. Decoding what an
 * encoder produced gives the same struct back.
 *
 * What the admission webhooks check on top of the schema (subnet sizes, unchangeable fields,
 * Egress label keys, ...) is not in here: see lib/ipam's subnet_set_validate() and
 * lib/webhook. */
#ifndef COIL_COILAPI_H
#define COIL_COILAPI_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipam/ipam.h"
#include "kube/resource.h"

/* ---- group, version, resources ------------------------------------------------------- */

#define COILAPI_GROUP	    "coil.cybozu.com"
#define COILAPI_VERSION	    "v2"
#define COILAPI_API_VERSION COILAPI_GROUP "/" COILAPI_VERSION

#define COILAPI_KIND_ADDRESSPOOL  "AddressPool"
#define COILAPI_KIND_ADDRESSBLOCK "AddressBlock"
#define COILAPI_KIND_BLOCKREQUEST "BlockRequest"
#define COILAPI_KIND_EGRESS	  "Egress"

/* AddressPool, AddressBlock and BlockRequest are cluster-scoped; Egress is namespaced. */
extern const struct kube_resource COILAPI_RES_ADDRESSPOOLS, COILAPI_RES_ADDRESSBLOCKS,
    COILAPI_RES_BLOCKREQUESTS, COILAPI_RES_EGRESSES;

/* ---- labels, annotations, finalizers --------------------------------------------------- */

/* On AddressBlocks: the pool it was carved from, the node that owns it, the uid of the
 * BlockRequest it answered, and "true" on a block whose addresses are never handed out (kept
 * by the v1 migration). */
#define COILAPI_LABEL_POOL     "coil.cybozu.com/pool"
#define COILAPI_LABEL_NODE     "coil.cybozu.com/node"
#define COILAPI_LABEL_REQUEST  "coil.cybozu.com/request"
#define COILAPI_LABEL_RESERVED "coil.cybozu.com/reserved"

/* The selector labels of what the egress controller generates for an Egress (Deployment,
 * its pod template, Service, PodDisruptionBudget): name is "coil", instance is the Egress's
 * name, component is "egress". */
#define COILAPI_LABEL_APP_NAME	    "app.kubernetes.io/name"
#define COILAPI_LABEL_APP_INSTANCE  "app.kubernetes.io/instance"
#define COILAPI_LABEL_APP_COMPONENT "app.kubernetes.io/component"
#define COILAPI_APP_NAME	    "coil"
#define COILAPI_EGRESS_COMPONENT    "egress"

/* On a Namespace: the pool its pods take addresses from (verbatim, even ""); without it the
 * pool named "default". */
#define COILAPI_ANNOTATION_POOL "coil.cybozu.com/pool"
#define COILAPI_DEFAULT_POOL	"default"

/* On a client pod: "egress.coil.cybozu.com/<egress namespace>" with a comma-separated list
 * of Egress names in that namespace as value. */
#define COILAPI_EGRESS_ANNOTATION_PREFIX "egress.coil.cybozu.com/"

/* On AddressPools and AddressBlocks: kept until coil released what the object holds. */
#define COILAPI_FINALIZER "coil.cybozu.com"

/* ---- controller owner references (to Coil objects, for garbage collection) -------------- */

/* [{apiVersion: coil.cybozu.com/v2, kind, name, uid, controller: true, blockOwnerDeletion:
 * true}] for the owner object; a new reference, NULL when owner lacks name or uid. */
json_t *coilapi_controller_refs(const char *kind, const json_t *owner);
/* The name of obj's controller owner of that kind in coil.cybozu.com (any version), or NULL.
 * Borrowed from obj. */
const char *coilapi_controller_owner(const json_t *obj, const char *kind);

/* ---- AddressPool ---------------------------------------------------------------------- */

/* The CRD default of spec.blockSizeBits. */
#define COILAPI_DEFAULT_BLOCK_SIZE_BITS 5

struct coilapi_pool {
	const char *name; /* metadata.name, "" when absent; borrowed */
	bool has_spec;	  /* spec is present (the schema makes it optional) */
	/* spec.blockSizeBits. The one rule: an int32 >= 0 (the schema's format and minimum),
	 * 5 when absent or null in a present spec (the schema's default, which the API server
	 * applies before any webhook sees the object), 0 when there is no spec at all (the API
	 * server does not default inside an absent object, so upstream sees Go's zero value).
	 * No upper bound here: upstream only bounds it by the host bits of every subnet, which
	 * subnet_set_validate() checks. */
	int block_bits;
	struct subnet_set *subnets; /* owned array of n_subnets; the texts borrowed */
	size_t n_subnets;	    /* >= 1 when has_spec (required, minItems 1) */
};

int coilapi_pool_decode(const json_t *obj, struct coilapi_pool *out, char *err, size_t errlen);
void coilapi_pool_clear(struct coilapi_pool *pool); /* frees subnets; safe twice */
json_t *coilapi_pool_encode(const struct coilapi_pool *pool);

/* The pool as lib/ipam carves it (borrows pool's arrays). */
struct ipam_pool coilapi_pool_ipam(const struct coilapi_pool *pool);

/* ---- AddressBlock --------------------------------------------------------------------- */

/* The payload sits at the top level of the object (no spec, no status). */
struct coilapi_block {
	const char *name;		   /* metadata.name, "" when absent; borrowed */
	const char *pool, *node, *request; /* the labels, NULL when absent; borrowed */
	bool reserved;			   /* the reserved label is "true" */
	uint32_t index;			   /* required, int32 >= 0 */
	const char *ipv4, *ipv6;	   /* the block's CIDRs, NULL when absent */
};

int coilapi_block_decode(const json_t *obj, struct coilapi_block *out, char *err, size_t errlen);
json_t *coilapi_block_encode(const struct coilapi_block *block);

/* ---- BlockRequest --------------------------------------------------------------------- */

struct coilapi_condition {
	const char *type, *status; /* required; "Complete"/"Failed", "True"/"False"/"Unknown" */
	const char *reason, *message, *last_probe_time, *last_transition_time; /* or NULL */
};

struct coilapi_request {
	const char *name, *uid;		      /* metadata, "" when absent; borrowed */
	bool has_spec;			      /* the schema makes spec optional */
	const char *node_name, *pool_name;    /* required within spec; NULL without spec */
	const char *block_name;		      /* status.addressBlockName or NULL */
	struct coilapi_condition *conditions; /* owned array of n_conditions */
	size_t n_conditions;
};

enum coilapi_request_state {
	COILAPI_REQUEST_IN_PROGRESS, /* neither Failed=True nor Complete=True */
	COILAPI_REQUEST_COMPLETE,    /* some Complete=True: block_name names the block */
	COILAPI_REQUEST_FAILED,	     /* the first Failed=True wins, even after Complete=True */
};

int coilapi_request_decode(const json_t *obj, struct coilapi_request *out, char *err,
			   size_t errlen);
void coilapi_request_clear(struct coilapi_request *req);
json_t *coilapi_request_encode(const struct coilapi_request *req);
/* Just the status member ({} when there is nothing to say). */
json_t *coilapi_request_status_encode(const struct coilapi_request *req);

/* The request's result; *failed (may be NULL) gets the deciding Failed condition. */
enum coilapi_request_state coilapi_request_state(const struct coilapi_request *req,
						 const struct coilapi_condition **failed);

/* ---- Egress --------------------------------------------------------------------------- */

#define COILAPI_DEFAULT_EGRESS_REPLICAS	  1
#define COILAPI_SESSION_AFFINITY_CLIENTIP "ClientIP"
#define COILAPI_SESSION_AFFINITY_NONE	  "None"

/* The structured parts of an Egress are type-checked by the decoder and kept as borrowed
 * JSON, since the controller copies them into the objects it generates as they are. */
struct coilapi_egress {
	const char *name, *namespace; /* metadata, "" when absent; borrowed */
	bool has_spec;
	const char **destinations; /* owned array of n_destinations (>= 1 with a spec) */
	size_t n_destinations;
	int32_t replicas;		       /* >= 1, default 1 */
	const json_t *strategy;		       /* apps/v1 DeploymentStrategy or NULL */
	const json_t *template;		       /* {metadata{labels,annotations}, spec} or NULL */
	const char *session_affinity;	       /* "ClientIP" (default) or "None" */
	const json_t *session_affinity_config; /* core/v1 SessionAffinityConfig or NULL */
	const json_t *pod_disruption_budget;   /* {minAvailable, maxUnavailable} or NULL */
	bool fou_source_port_auto;	       /* default false */
	int32_t status_replicas;	       /* status.replicas, 0 when absent */
	const char *status_selector;	       /* status.selector or NULL */
};

int coilapi_egress_decode(const json_t *obj, struct coilapi_egress *out, char *err, size_t errlen);
void coilapi_egress_clear(struct coilapi_egress *egress);
json_t *coilapi_egress_encode(const struct coilapi_egress *egress);

#endif
