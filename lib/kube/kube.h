/* A Kubernetes API client on libcurl + jansson: configuration (in-cluster service account or
 * kubeconfig), typed requests with retries, watch streams, informer caches, Lease-based leader
 * election and events.k8s.io/v1 Events.
 *
 * Conventions: functions that can fail return 0 or a negative errno and write a message naming
 * the object into err (errlen bytes, may be 0). `json_t **out` results are new references the
 * caller json_decref()s; `const json_t *` arguments are borrowed. Every function is thread-safe
 * unless its comment says otherwise; one kube_client is meant to be shared by all threads. */
#ifndef COIL_KUBE_H
#define COIL_KUBE_H

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "kube/resource.h"

/* Errors beyond plain errnos, mapped from the API server's HTTP status and Status reason:
 *   404 NotFound → -ENOENT, 409 AlreadyExists → -EEXIST, 401 → -EACCES, 403 → -EPERM,
 *   400/422 → -EINVAL, 5xx after the last retry → -EIO, 429 after the last retry → -EBUSY,
 *   connection failures → -ECONNREFUSED / -ETIMEDOUT / -EHOSTUNREACH. */
#define KUBE_ERR_CONFLICT (-EALREADY) /* 409 Conflict: stale resourceVersion or precondition */
#define KUBE_ERR_GONE	  (-ESTALE)   /* 410 Gone: watch/list resourceVersion too old; relist */

/* ---------------------------------------------------------------------------------------
 * Configuration */

#define KUBE_SERVICEACCOUNT_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

/* Everything needed to reach and authenticate to one API server. All strings are owned by the
 * config and freed by kube_config_free(). PEM data fields hold the decoded bytes. */
struct kube_config {
	char *server; /* "https://host:port" (or http:// for tests), no trailing slash */
	char *ca_file;
	char *ca_pem; /* from certificate-authority-data */
	bool insecure_skip_tls_verify;
	char *client_cert_file, *client_key_file;
	char *client_cert_pem, *client_key_pem; /* from client-*-data */
	char *token;				/* a fixed bearer token */
	char *token_file;			/* bearer token re-read whenever the file changes */
	char *namespace; /* the default namespace; never NULL ("default" if unknown) */
};

/* In-cluster configuration: KUBERNETES_SERVICE_HOST/PORT plus token, ca.crt and namespace from
 * sa_dir (NULL means KUBE_SERVICEACCOUNT_DIR; tests pass their own). -ENOENT when not in a
 * cluster. *out is freed with kube_config_free(). */
int kube_config_in_cluster(const char *sa_dir, struct kube_config **out, char *err, size_t errlen);

/* Parses kubeconfig text (YAML or JSON). context NULL means current-context. Relative file
 * paths are resolved against base_dir (the kubeconfig's directory; NULL = as given). */
int kube_config_parse_kubeconfig(const char *text, size_t len, const char *base_dir,
				 const char *context, struct kube_config **out, char *err,
				 size_t errlen);

/* Reads and parses one kubeconfig file with its current context. */
int kube_config_from_file(const char *path, struct kube_config **out, char *err, size_t errlen);

/* The usual lookup order: the --kubeconfig path if given, else the first file of $KUBECONFIG,
 * else in-cluster (sa_dir as above), else ~/.kube/config. */
int kube_config_load(const char *kubeconfig_path, const char *sa_dir, struct kube_config **out,
		     char *err, size_t errlen);

void kube_config_free(struct kube_config *config);

/* ---------------------------------------------------------------------------------------
 * Stop tokens: a flag plus a wakeup, so sleeps and streams in other threads end promptly. */

struct kube_stop;
struct kube_stop *kube_stop_new(void); /* NULL on allocation failure */
void kube_stop_free(struct kube_stop *stop);
void kube_stop_signal(struct kube_stop *stop);		/* idempotent */
bool kube_stop_requested(const struct kube_stop *stop); /* false for a NULL stop */
/* Sleeps up to ms; returns true if stopped (at once or during the sleep). stop may be NULL. */
bool kube_stop_sleep(struct kube_stop *stop, long ms);

/* ---------------------------------------------------------------------------------------
 * Client and resources */

struct kube_client;

/* How long one connection attempt to the API server may take: client-go's dialer timeout. */
#define KUBE_CONNECT_TIMEOUT_MS 30000

struct kube_client_options {
	int max_tries;		/* attempts per request on 429/5xx/connection errors; 0 = 5 */
	long deadline_ms;	/* give up retrying after this long; 0 = 60000 */
	long backoff_base_ms;	/* first backoff (then doubled, with jitter); 0 = 200 */
	long backoff_max_ms;	/* cap of one backoff; 0 = 10000 */
	long timeout_ms;	/* one non-watch request; 0 = 30000 */
	const char *user_agent; /* NULL = "coil/<version>" */
};

/* Copies what it needs from config; opts may be NULL. Free with kube_client_free(). */
int kube_client_new(const struct kube_config *config, const struct kube_client_options *opts,
		    struct kube_client **out, char *err, size_t errlen);
void kube_client_free(struct kube_client *client);
const char *kube_client_namespace(const struct kube_client *client); /* config default */

/* The built-in kinds the tree uses; other API groups (custom resources) bring their own
 * struct kube_resource instances (kube/resource.h). */
extern const struct kube_resource KUBE_RES_NAMESPACES, KUBE_RES_NODES, KUBE_RES_PODS,
    KUBE_RES_SERVICES, KUBE_RES_CONFIGMAPS, KUBE_RES_SECRETS, KUBE_RES_LEASES, KUBE_RES_EVENTS,
    KUBE_RES_DEPLOYMENTS, KUBE_RES_DAEMONSETS, KUBE_RES_SERVICEACCOUNTS, KUBE_RES_CLUSTERROLES,
    KUBE_RES_CLUSTERROLEBINDINGS;

/* The request path of a resource collection or object: ns is ignored for cluster-scoped
 * resources (and NULL means all namespaces for namespaced collections), name NULL for the
 * collection, subresource NULL or e.g. "status", "scale". Segments are percent-escaped.
 * Returns 0 or -ENAMETOOLONG / -EINVAL. */
int kube_path(const struct kube_resource *res, const char *ns, const char *name,
	      const char *subresource, char *buf, size_t len);

/* Percent-escapes text for a URL query value (RFC 3986 unreserved characters kept). Returns
 * the malloc'd string (caller frees) or NULL. */
char *kube_query_escape(const char *text);

struct kube_list_opts {
	const char *label_selector; /* e.g. "app=coil,tier in (a,b)" */
	const char *field_selector; /* e.g. "spec.nodeName=node1" */
	long limit;		    /* page size; 0 = no paging */
	const char *continue_token;
	const char *resource_version;
};

/* GET one object, or one of its subresources (sub NULL for the object itself). */
int kube_get(struct kube_client *client, const struct kube_resource *res, const char *ns,
	     const char *name, json_t **out, char *err, size_t errlen);
int kube_get_sub(struct kube_client *client, const struct kube_resource *res, const char *ns,
		 const char *name, const char *sub, json_t **out, char *err, size_t errlen);

/* GET one page of a collection (the List object, with metadata.continue when more remain). */
int kube_list(struct kube_client *client, const struct kube_resource *res, const char *ns,
	      const struct kube_list_opts *opts, json_t **out, char *err, size_t errlen);

/* Follows continue tokens and collects every page: *items gets a new array of the objects and,
 * if resource_version is non-NULL, the list's resourceVersion is copied there (rvlen bytes).
 * A continue token that expired (410) restarts the listing from the beginning once. */
int kube_list_all(struct kube_client *client, const struct kube_resource *res, const char *ns,
		  const struct kube_list_opts *opts, json_t **items, char *resource_version,
		  size_t rvlen, char *err, size_t errlen);

/* kube_list_all without holding every page at once: fn gets each page's items array
 * (borrowed, gone after the call) and returns 0 or a negative errno that ends the listing. When
 * an expired continue token restarts the listing, fn gets NULL first: forget the pages so far. */
typedef int (*kube_page_fn)(void *arg, const json_t *items);
int kube_list_each(struct kube_client *client, const struct kube_resource *res, const char *ns,
		   const struct kube_list_opts *opts, kube_page_fn fn, void *arg,
		   char *resource_version, size_t rvlen, char *err, size_t errlen);

/* POST. ns NULL takes metadata.namespace of obj (namespaced resources). out may be NULL. */
int kube_create(struct kube_client *client, const struct kube_resource *res, const char *ns,
		const json_t *obj, json_t **out, char *err, size_t errlen);

/* PUT the whole object (name and namespace from its metadata). A metadata.resourceVersion
 * makes it conditional: a concurrent change gives KUBE_ERR_CONFLICT. sub NULL, "status" or
 * "scale". out may be NULL. */
int kube_update(struct kube_client *client, const struct kube_resource *res, const json_t *obj,
		json_t **out, char *err, size_t errlen);
int kube_update_sub(struct kube_client *client, const struct kube_resource *res, const json_t *obj,
		    const char *sub, json_t **out, char *err, size_t errlen);

enum kube_patch_type {
	KUBE_PATCH_MERGE,	    /* application/merge-patch+json (RFC 7386) */
	KUBE_PATCH_JSON,	    /* application/json-patch+json (RFC 6902), patch is an array */
	KUBE_PATCH_STRATEGIC_MERGE, /* application/strategic-merge-patch+json (built-ins only) */
};

/* PATCH an object or subresource (sub NULL for the object). out may be NULL. */
int kube_patch(struct kube_client *client, const struct kube_resource *res, const char *ns,
	       const char *name, const char *sub, enum kube_patch_type type, const json_t *patch,
	       json_t **out, char *err, size_t errlen);

struct kube_delete_opts {
	const char *precondition_uid;		   /* delete only this incarnation */
	const char *precondition_resource_version; /* delete only this version */
	const char *propagation_policy;		   /* "Orphan", "Background", "Foreground" */
	const long *grace_period_seconds;	   /* NULL = server default */
};

/* DELETE; opts may be NULL. Failed preconditions give KUBE_ERR_CONFLICT. */
int kube_delete(struct kube_client *client, const struct kube_resource *res, const char *ns,
		const char *name, const struct kube_delete_opts *opts, char *err, size_t errlen);

/* Sets spec.replicas through the scale subresource (GET scale, then conditional PUT). */
int kube_set_scale(struct kube_client *client, const struct kube_resource *res, const char *ns,
		   const char *name, long replicas, char *err, size_t errlen);

/* Any request: method, path (from kube_path) and query ("a=b&c=d", already escaped, or NULL),
 * a JSON body or NULL with its content type (NULL = application/json). Retries like the
 * rest; on success *out (may be NULL) gets the decoded response body (json null if empty). */
int kube_request(struct kube_client *client, const char *method, const char *path,
		 const char *query, const json_t *body, const char *content_type, json_t **out,
		 char *err, size_t errlen);

/* ---------------------------------------------------------------------------------------
 * JSON and time helpers */

/* The value at a dotted path ("metadata.labels" — keys themselves may not contain dots) or
 * NULL. Borrowed. */
json_t *kube_json_path(const json_t *obj, const char *path);
/* The string at a dotted path or NULL. Borrowed from obj. */
const char *kube_json_string(const json_t *obj, const char *path);
const char *kube_obj_name(const json_t *obj);
const char *kube_obj_namespace(const json_t *obj);
const char *kube_obj_resource_version(const json_t *obj);
const char *kube_obj_uid(const json_t *obj);
const char *kube_obj_label(const json_t *obj, const char *key); /* any key, dots allowed */

/* Cache key "namespace/name" (or "name" when ns is NULL/empty) into buf; -ENAMETOOLONG. */
int kube_obj_key(const char *ns, const char *name, char *buf, size_t len);

/* Matches a label selector ("a=b", "a==b", "a!=b", "a", "!a", "a in (x,y)", "a notin (x)",
 * comma-separated = AND) against an object's metadata.labels. Returns 1 match, 0 no match,
 * -EINVAL for a malformed selector (message in err). NULL or "" matches everything. */
int kube_label_selector_match(const char *selector, const json_t *obj, char *err, size_t errlen);

#define KUBE_TIME_LEN 32
/* RFC 3339 UTC with microseconds ("2024-05-01T10:00:00.123456Z", Kubernetes MicroTime) or
 * whole seconds ("2024-05-01T10:00:00Z", metav1.Time). */
void kube_time_format_micro(const struct timespec *ts, char buf[KUBE_TIME_LEN]);
void kube_time_format(const struct timespec *ts, char buf[KUBE_TIME_LEN]);
/* Parses RFC 3339 with optional fraction and a Z or ±hh:mm offset. Returns 0 or -EINVAL. */
int kube_time_parse(const char *text, struct timespec *out);

/* ---------------------------------------------------------------------------------------
 * Watch */

enum kube_event_type {
	KUBE_EVENT_ADDED,
	KUBE_EVENT_MODIFIED,
	KUBE_EVENT_DELETED,
	KUBE_EVENT_BOOKMARK
};

/* Called for each event with the object (borrowed; json_incref to keep it on this thread,
 * json_deep_copy to hand it to another: jansson's refcounts are not thread-safe). Return 0 to go
 * on, a positive number to end the watch (kube_watch returns 0), or a negative errno to end it
 * with that error. BOOKMARK events only carry metadata.resourceVersion. */
typedef int (*kube_watch_fn)(void *arg, enum kube_event_type type, json_t *obj);

struct kube_watch_opts {
	const char *label_selector, *field_selector;
	bool allow_bookmarks;
	long timeout_seconds; /* server-side timeout of one stream; 0 = random 300..600 */
	int max_failures;     /* consecutive failed reconnects before giving up; 0 = unlimited */
};

/* Watches a collection from the resourceVersion in rv (in/out, rvlen bytes; "" = from now,
 * with synthetic ADDED events for existing objects), keeping rv at the last version seen.
 * Reconnects after server timeouts and dropped streams (with backoff), resuming from rv.
 * Returns 0 when stop is signalled or the callback asked to end, KUBE_ERR_GONE when rv is too
 * old (HTTP 410 or an ERROR event with code 410: relist, then watch again from the list's
 * version), or a negative errno for other failures (e.g. 403). Blocks the calling thread. */
int kube_watch(struct kube_client *client, const struct kube_resource *res, const char *ns,
	       const struct kube_watch_opts *opts, char *rv, size_t rvlen, kube_watch_fn fn,
	       void *arg, struct kube_stop *stop, char *err, size_t errlen);

/* ---------------------------------------------------------------------------------------
 * Informers: list + watch on a thread of their own into a cache keyed "namespace/name".
 *
 * By default the cache keeps each object's JSON tree. A codec makes it keep what the user needs
 * instead (a compact struct, often a tenth of the tree or less): the informer then works on
 * those items, with item handlers, item indexes and kube_informer_visit; the JSON readers
 * (get, list, by_index) answer NULL for it. */

struct kube_informer;

/* Handlers run after the cache was updated, one at a time, on the informer's threads; objects
 * are borrowed and must not be modified (json_deep_copy to keep or change one: the cache's
 * reference counts are not shared across threads). Resync calls on_update(obj, obj) for every
 * cached object. Any handler may be NULL. Handlers must not call kube_informer_stop/free. */
struct kube_informer_handlers {
	void (*on_add)(void *arg, const json_t *obj);
	void (*on_update)(void *arg, const json_t *old_obj, const json_t *new_obj);
	void (*on_delete)(void *arg, const json_t *obj);
	void *arg;
};

/* What a codec informer keeps of an object. decode returns the item (owned by the cache, freed
 * with free; free NULL: nothing to free, e.g. a static marker when presence is all that
 * matters) or NULL on allocation failure (the object is then left out, with a warning). It
 * runs on the informer thread and must not keep obj. */
struct kube_informer_codec {
	void *(*decode)(const json_t *obj, void *arg);
	void (*free)(void *item);
	void *arg;
};

/* The handlers of a codec informer: as above, with the cache key and the items. */
struct kube_informer_item_handlers {
	void (*on_add)(void *arg, const char *key, const void *item);
	void (*on_update)(void *arg, const char *key, const void *old_item, const void *new_item);
	void (*on_delete)(void *arg, const char *key, const void *item);
	void *arg;
};

struct kube_informer_opts {
	const struct kube_resource *res;
	const char *ns; /* NULL = all namespaces */
	const char *label_selector, *field_selector;
	long resync_ms;					  /* 0 = no periodic resync */
	long page_size;					  /* list paging; 0 = 500 */
	struct kube_informer_handlers handlers;		  /* JSON informers */
	const struct kube_informer_codec *codec;	  /* NULL = keep JSON trees; copied */
	struct kube_informer_item_handlers item_handlers; /* codec informers */
};

/* An index function returns the malloc'd index value of obj (caller frees), or NULL to leave
 * obj out of the index. Item index functions do the same for a codec informer's items. */
typedef char *(*kube_index_fn)(const json_t *obj, void *arg);
typedef char *(*kube_item_index_fn)(const void *item, void *arg);

int kube_informer_new(struct kube_client *client, const struct kube_informer_opts *opts,
		      struct kube_informer **out, char *err, size_t errlen);
/* Indexes must be added before kube_informer_start. Returns 0, -EEXIST, -EBUSY (started) or
 * -EINVAL (a JSON index on a codec informer, or the other way round). */
int kube_informer_add_index(struct kube_informer *inf, const char *index, kube_index_fn fn,
			    void *arg);
int kube_informer_add_item_index(struct kube_informer *inf, const char *index,
				 kube_item_index_fn fn, void *arg);
int kube_informer_add_label_index(struct kube_informer *inf, const char *index,
				  const char *label_key);
int kube_informer_add_node_name_index(struct kube_informer *inf, const char *index);

int kube_informer_start(struct kube_informer *inf, char *err, size_t errlen);
/* True once the first full list is in the cache. */
bool kube_informer_has_synced(struct kube_informer *inf);
/* Waits up to timeout_ms (<0 = forever) for the first sync; returns has_synced. */
bool kube_informer_wait_synced(struct kube_informer *inf, long timeout_ms);

/* Cache reads: deep copies the caller owns (json_decref), or NULL when absent. */
json_t *kube_informer_get(struct kube_informer *inf, const char *ns, const char *name);
json_t *kube_informer_list(struct kube_informer *inf); /* an array of every object */
json_t *kube_informer_by_index(struct kube_informer *inf, const char *index,
			       const char *value); /* an array; NULL for an unknown index */

/* Calls fn for every cached item (index NULL) or those whose index value is value, with the
 * cache locked: fn copies what it needs and returns quickly, without calling the informer.
 * Items are JSON objects for JSON informers. Returns the number of calls, or -ENOENT for an
 * unknown index. */
typedef void (*kube_visit_fn)(void *arg, const char *key, const void *item);
long kube_informer_visit(struct kube_informer *inf, const char *index, const char *value,
			 kube_visit_fn fn, void *arg);
/* Whether the cache holds ns/name (ns ignored for cluster-scoped resources). */
bool kube_informer_contains(struct kube_informer *inf, const char *ns, const char *name);

/* Stops the thread and joins it; idempotent, and NULL is accepted. Free afterwards with
 * kube_informer_free (which also stops). */
void kube_informer_stop(struct kube_informer *inf);
void kube_informer_free(struct kube_informer *inf);
/* Stops the n informers of a controller (NULL entries skipped) in parallel, keeping their
 * caches readable until they are freed. */
void kube_informers_stop_all(struct kube_informer **infs, size_t n);
/* Stops and frees the n informers of a controller (NULL entries skipped) in parallel: an idle
 * watch notices a stop only about once a second, so stopping one after the other adds up. */
void kube_informers_free_all(struct kube_informer **infs, size_t n);

/* ---------------------------------------------------------------------------------------
 * Leader election on a coordination.k8s.io/v1 Lease, with client-go's algorithm and timings. */

/* client-go's default timings; others may depend on them (e.g. how long a failover takes:
 * at most the lease duration plus one retry period). */
#define KUBE_LEADER_LEASE_DURATION_MS 15000
#define KUBE_LEADER_RENEW_DEADLINE_MS 10000
#define KUBE_LEADER_RETRY_PERIOD_MS   2000

struct kube_leader_opts {
	const char *ns, *name;	/* the Lease */
	const char *identity;	/* unique per candidate, e.g. the pod name */
	long lease_duration_ms; /* 0 = 15000: how long others wait after the last renewal */
	long renew_deadline_ms; /* 0 = 10000: the leader gives up if it cannot renew this long */
	long retry_period_ms;	/* 0 = 2000: between tries to acquire or renew */
	bool release_on_cancel; /* on stop, clear holderIdentity so others take over at once */
	/* Runs on the election thread once the lease is ours. `lost` is signalled when leadership
	 * ends; leader work must stop when it is. Return promptly (start threads if needed).
	 * `lost` stays valid until kube_leader_run returns: join leader threads before that,
	 * e.g. in on_stopped_leading. */
	void (*on_started_leading)(void *arg, struct kube_stop *lost);
	/* Runs when leadership ends (lost or stopped), after `lost` was signalled. */
	void (*on_stopped_leading)(void *arg);
	/* Runs when a different holder is observed (identity borrowed). */
	void (*on_new_leader)(void *arg, const char *identity);
	void *arg;
};

/* Campaigns until leader, leads until the lease is lost or stop is signalled, then returns:
 * -ENOLINK after losing the lease (the program should stop its leader work, usually exit),
 * 0 when stopped. Blocks the calling thread. */
int kube_leader_run(struct kube_client *client, const struct kube_leader_opts *opts,
		    struct kube_stop *stop, char *err, size_t errlen);

/* kube_leader_run as a Coil program campaigns: opts names the Lease and the callbacks; the
 * identity is $COIL_POD_NAME, else the host name and a random suffix; the timings come from
 * COIL_LEADER_LEASE_DURATION, COIL_LEADER_RENEW_DEADLINE and COIL_LEADER_RETRY_PERIOD (Go
 * durations; unset: client-go's 15s, 10s, 2s); the election has a client of its own whose
 * requests fail within half the renew deadline. Same returns as kube_leader_run. */
int kube_leader_campaign(const struct kube_config *config, const struct kube_leader_opts *opts,
			 struct kube_stop *stop, char *err, size_t errlen);

/* ---------------------------------------------------------------------------------------
 * events.k8s.io/v1 Events */

/* The object an event is about. Strings are borrowed. */
struct kube_object_ref {
	const char *api_version, *kind, *ns, *name, *uid, *resource_version;
};

/* Fills ref from an object's apiVersion, kind and metadata (borrowing from obj). */
void kube_object_ref_from(const json_t *obj, struct kube_object_ref *ref);

struct kube_event {
	struct kube_object_ref regarding;
	const char *type;		  /* "Normal" or "Warning" */
	const char *reason;		  /* UpperCamelCase, e.g. "BlockAllocated" */
	const char *note;		  /* human-readable, up to 1 kB */
	const char *action;		  /* what was done, e.g. "Allocate"; NULL = reason */
	const char *reporting_controller; /* e.g. "example.com/my-controller" */
	const char *reporting_instance;	  /* e.g. the pod name */
	const char *ns; /* the Event's namespace; NULL = regarding.ns, else "default" */
};

/* Builds the Event object (new reference) with eventTime = now in microseconds; NULL on
 * invalid input (missing regarding name, reason or a type other than Normal/Warning). */
json_t *kube_event_build(const struct kube_event *ev, const struct timespec *now);
/* Builds and POSTs the event. out may be NULL. */
int kube_event_create(struct kube_client *client, const struct kube_event *ev, json_t **out,
		      char *err, size_t errlen);

#endif
