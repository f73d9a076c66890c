/* The BlockRequest watcher and the Namespace cache (the pool annotation). The watcher passes a
 * request on only when it is for this node and has at least one condition; deletions are
 * ignored. Results go into the latch keyed by UID, never dropped for want of a waiter. */
#include "kubesource/internal.h"

#include <string.h>

#include "log/log.h"

static void request_seen(void *arg, const json_t *obj)
{
	struct kubesource *ks = arg;
	struct request_result r;
	if (request_result_parse(obj, &r) < 0 || strcmp(r.node, ks->node) != 0 ||
	    r.n_conditions == 0)
		return;
	latch_post(&ks->latch, &r);
}

static void request_added(void *arg, const json_t *obj)
{
	request_seen(arg, obj);
}

static void request_updated(void *arg, const json_t *old_obj, const json_t *new_obj)
{
	request_seen(arg, new_obj);
}

static int start_one(struct kubesource *ks, const struct kube_informer_opts *opts,
		     struct kube_informer **out, char *err, size_t errlen)
{
	int ret = kube_informer_new(ks->client, opts, out, err, errlen);
	if (ret == 0)
		ret = kube_informer_start(*out, err, errlen);
	return ret;
}

int watchers_start(struct kubesource *ks, long sync_timeout_ms, char *err, size_t errlen)
{
	struct kube_informer_opts requests = {
	    .res = &COILAPI_RES_BLOCKREQUESTS,
	    .handlers = {.on_add = request_added, .on_update = request_updated, .arg = ks},
	};
	struct kube_informer_opts namespaces = {.res = &KUBE_RES_NAMESPACES};
	int ret = start_one(ks, &requests, &ks->requests, err, errlen);
	if (ret == 0)
		ret = start_one(ks, &namespaces, &ks->namespaces, err, errlen);
	if (ret < 0)
		return ret;
	/* Not fatal: a late watch only delays the first answer; acquire() also polls. */
	if (!kube_informer_wait_synced(ks->requests, sync_timeout_ms) ||
	    !kube_informer_wait_synced(ks->namespaces, sync_timeout_ms))
		log_warn("kubesource: informers not synced yet; continuing", "node", ks->node);
	return 0;
}

void watchers_stop(struct kubesource *ks)
{
	kube_informer_free(ks->requests);
	kube_informer_free(ks->namespaces);
	ks->requests = ks->namespaces = NULL;
}
