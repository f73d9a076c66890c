/* The leader's controller: informers turn events into keys on two work queues, one worker
 * thread each: "namespace/name" of Egresses (from Egress events and from events of the
 * Deployments, Services and PDBs an Egress controls), and the names of the two bindings
 * (from their own events).
 *
 * Threads: 5 informer threads (lib/kube), 2 workers. Handlers only copy names into the queues;
 * every decision reads the API server directly. */
#include "egressctl.h"
#include "log/log.h"
#include "workqueue/workqueue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RETRY_BASE_MS 100
#define RETRY_MAX_MS  30000

/* What generated objects carry; the informers cache only those. */
#define GENERATED_SELECTOR                                                                         \
	COILAPI_LABEL_APP_NAME "=" COILAPI_APP_NAME "," COILAPI_LABEL_APP_COMPONENT                \
			       "=" COILAPI_EGRESS_COMPONENT

enum { INF_EGRESSES, INF_DEPLOYMENTS, INF_SERVICES, INF_PDBS, INF_CRBS, N_INFORMERS };

struct egressctl_controller {
	struct kube_client *client;
	const struct egressctl_config *cfg;
	struct kube_informer *informers[N_INFORMERS];
	struct workqueue_worker egress_worker, crb_worker;
};

/* ---- event handlers (informer threads) ---- */

static void enqueue_egress(struct egressctl_controller *ctl, const char *ns, const char *name)
{
	char key[512];
	if (ns && name && kube_obj_key(ns, name, key, sizeof(key)) == 0)
		workqueue_add(ctl->egress_worker.queue, key);
}

static void egress_event(void *arg, const json_t *obj)
{
	enqueue_egress(arg, kube_obj_namespace(obj), kube_obj_name(obj));
}

static void egress_updated(void *arg, const json_t *old_obj, const json_t *new_obj)
{
	egress_event(arg, new_obj);
}

static void owned_event(void *arg, const json_t *obj)
{
	const char *owner;
	if (egressctl_owner_egress(obj, &owner))
		enqueue_egress(arg, kube_obj_namespace(obj), owner);
}

static void owned_updated(void *arg, const json_t *old_obj, const json_t *new_obj)
{
	owned_event(arg, new_obj);
}

static void crb_event(void *arg, const json_t *obj)
{
	struct egressctl_controller *ctl = arg;
	const char *name = kube_obj_name(obj);
	if (name && (strcmp(name, EGRESSCTL_CRB) == 0 || strcmp(name, EGRESSCTL_PSP_CRB) == 0))
		workqueue_add(ctl->crb_worker.queue, name);
}

static void crb_updated(void *arg, const json_t *old_obj, const json_t *new_obj)
{
	crb_event(arg, new_obj);
}

/* ---- workers ---- */

static int reconcile_egress(void *arg, const char *key, char *err, size_t errlen)
{
	struct egressctl_controller *ctl = arg;
	char ns[256];
	const char *slash = strchr(key, '/');
	if (!slash || (size_t)(slash - key) >= sizeof(ns))
		return 0; /* not a key we queue */
	memcpy(ns, key, (size_t)(slash - key));
	ns[slash - key] = '\0';
	return egressctl_reconcile(ctl->client, ctl->cfg, ns, slash + 1, err, errlen);
}

static int reconcile_crb(void *arg, const char *key, char *err, size_t errlen)
{
	struct egressctl_controller *ctl = arg;
	return egressctl_sync_crb(ctl->client, key, strcmp(key, EGRESSCTL_CRB) == 0, err, errlen);
}

/* ---- start and stop ---- */

static int start_informer(struct egressctl_controller *ctl, int which,
			  const struct kube_resource *res, const char *selector,
			  struct kube_informer_handlers handlers, char *err, size_t errlen)
{
	handlers.arg = ctl;
	struct kube_informer_opts opts = {
	    .res = res, .label_selector = selector, .handlers = handlers};
	int ret = kube_informer_new(ctl->client, &opts, &ctl->informers[which], err, errlen);
	if (ret == 0)
		ret = kube_informer_start(ctl->informers[which], err, errlen);
	return ret;
}

static int start_informers(struct egressctl_controller *ctl, char *err, size_t errlen)
{
	struct kube_informer_handlers egresses = {
	    .on_add = egress_event, .on_update = egress_updated, .on_delete = egress_event};
	struct kube_informer_handlers owned = {
	    .on_add = owned_event, .on_update = owned_updated, .on_delete = owned_event};
	struct kube_informer_handlers crbs = {
	    .on_add = crb_event, .on_update = crb_updated, .on_delete = crb_event};
	int ret =
	    start_informer(ctl, INF_EGRESSES, &COILAPI_RES_EGRESSES, NULL, egresses, err, errlen);
	if (ret == 0)
		ret = start_informer(ctl, INF_DEPLOYMENTS, &KUBE_RES_DEPLOYMENTS,
				     GENERATED_SELECTOR, owned, err, errlen);
	if (ret == 0)
		ret = start_informer(ctl, INF_SERVICES, &KUBE_RES_SERVICES, GENERATED_SELECTOR,
				     owned, err, errlen);
	if (ret == 0)
		ret = start_informer(ctl, INF_PDBS, &EGRESSCTL_RES_PDBS, GENERATED_SELECTOR, owned,
				     err, errlen);
	if (ret == 0)
		ret = start_informer(ctl, INF_CRBS, &EGRESSCTL_RES_CRBS, NULL, crbs, err, errlen);
	return ret;
}

int egressctl_controller_start(struct kube_client *client, const struct egressctl_config *cfg,
			       struct egressctl_controller **out, char *err, size_t errlen)
{
	struct egressctl_controller *ctl = calloc(1, sizeof(*ctl));
	if (!ctl) {
		snprintf(err, errlen, "controller: out of memory");
		return -ENOMEM;
	}
	ctl->client = client;
	ctl->cfg = cfg;
	int ret = workqueue_worker_start(&ctl->egress_worker, "egress", reconcile_egress, ctl,
					 RETRY_BASE_MS, RETRY_MAX_MS, err, errlen);
	if (ret == 0)
		ret = workqueue_worker_start(&ctl->crb_worker, "clusterrolebinding", reconcile_crb,
					     ctl, RETRY_BASE_MS, RETRY_MAX_MS, err, errlen);
	if (ret == 0)
		ret = start_informers(ctl, err, errlen);
	if (ret) {
		egressctl_controller_stop(ctl);
		return ret;
	}
	log_info("egress controller started");
	*out = ctl;
	return 0;
}

bool egressctl_controller_wait_synced(struct egressctl_controller *ctl, long timeout_ms)
{
	for (int i = 0; i < N_INFORMERS; i++) {
		if (ctl->informers[i] && !kube_informer_wait_synced(ctl->informers[i], timeout_ms))
			return false;
	}
	return true;
}

void egressctl_controller_stop(struct egressctl_controller *ctl)
{
	if (!ctl)
		return;
	/* Informers first, so no handler touches a queue being freed. */
	kube_informers_free_all(ctl->informers, N_INFORMERS);
	workqueue_worker_stop(&ctl->egress_worker);
	workqueue_worker_stop(&ctl->crb_worker);
	free(ctl);
	log_info("egress controller stopped");
}
