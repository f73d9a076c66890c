/* The Egress watcher: when an Egress changes, every running client pod of it on this node is
 * brought up to date (its tunnel's source port mode, its destinations). Only Egress events
 * trigger it: a pod whose annotations change is not followed (as upstream). Pods come from a
 * cache of this node's pods, Services are read directly. */
#include "kubesource/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err/err.h"
#include "log/log.h"
#include "workqueue/workqueue.h"

struct kubesource_egress_watch {
	struct kubesource *ks;
	bool originating_only;
	kubesource_nat_update_fn update;
	void *arg;
	struct kube_informer *egresses, *pods;
	struct workqueue_worker worker;
};

static void enqueue(struct kubesource_egress_watch *w, const json_t *obj)
{
	char key[512];
	if (kube_obj_key(kube_obj_namespace(obj), kube_obj_name(obj), key, sizeof(key)) == 0)
		workqueue_add(w->worker.queue, key);
}

static void egress_added(void *arg, const json_t *obj)
{
	enqueue(arg, obj);
}

static void egress_updated(void *arg, const json_t *old_obj, const json_t *new_obj)
{
	enqueue(arg, new_obj);
}

static void egress_deleted(void *arg, const json_t *obj)
{
	enqueue(arg, obj);
}

/* Running, not host-network pods, with a pod IP. */
static bool candidate(const json_t *pod)
{
	const char *phase = kube_json_string(pod, "status.phase");
	return !json_is_true(kube_json_path(pod, "spec.hostNetwork")) && phase &&
	       strcmp(phase, "Running") == 0 && kube_json_string(pod, "status.podIP");
}

static bool ip_taken(const json_t *pods, size_t before, const char *ip)
{
	for (size_t j = 0; j < before; j++) {
		const json_t *other = json_array_get(pods, j);
		if (candidate(other) && strcmp(ip, kube_json_string(other, "status.podIP")) == 0)
			return true;
	}
	return false;
}

/* Two running pods with one address: the cache is between a pod's deletion and its
 * successor's start, and an update could reach the wrong pod; nothing is updated then. */
static int check_unique_ips(const json_t *pods, char *err, size_t errlen)
{
	size_t i;
	const json_t *pod;
	json_array_foreach(pods, i, pod)
	{
		const char *ip = kube_json_string(pod, "status.podIP");
		if (candidate(pod) && ip_taken(pods, i, ip))
			return errorf(err, errlen, -EEXIST,
				      "multiple pods have the same address: %s", ip);
	}
	return 0;
}

/* status.podIPs: the last of each family. */
static void pod_addresses(const json_t *pod, struct nl_ip *v4, struct nl_ip *v6)
{
	size_t i;
	const json_t *item;
	memset(v4, 0, sizeof(*v4));
	memset(v6, 0, sizeof(*v6));
	json_array_foreach(kube_json_path(pod, "status.podIPs"), i, item)
	{
		struct nl_ip ip;
		if (nl_ip_parse(kube_json_string(item, "ip") ? kube_json_string(item, "ip") : "",
				&ip) == 0)
			*(ip.family == AF_INET ? v4 : v6) = ip;
	}
}

static int gateways_of(struct kubesource_egress_watch *w, const json_t *egress, const char *ns,
		       const char *name, struct natclient_gateways *gws, char *err, size_t errlen)
{
	json_t *svc = NULL;
	char why[512];
	int ret = kube_get(w->ks->fast, &KUBE_RES_SERVICES, ns, name, &svc, why, sizeof(why));
	if (ret < 0)
		return errorf(err, errlen, api_errno(ret), "failed to get Service %s/%s: %s", ns,
			      name, why);
	ret = natclient_gateways_add(gws, ns, name, egress, svc, w->originating_only, err, errlen);
	json_decref(svc);
	return ret;
}

static int update_pod(struct kubesource_egress_watch *w, const json_t *pod,
		      const struct natclient_gateways *gws, char *err, size_t errlen)
{
	struct nl_ip v4, v6;
	pod_addresses(pod, &v4, &v6);
	int ret = w->update(w->arg, kube_obj_uid(pod), &v4, &v6, gws, err, errlen);
	if (ret == -EAGAIN)
		log_info("client pod not ready for its Egress update", "pod", kube_obj_name(pod),
			 "namespace", kube_obj_namespace(pod), "error", err);
	return ret;
}

static int update_clients(struct kubesource_egress_watch *w, const json_t *egress,
			  const json_t *pods, const char *ns, const char *name, char *err,
			  size_t errlen)
{
	struct natclient_gateways gws = {0};
	bool have_gateways = false;
	int first = 0;
	size_t i;
	const json_t *pod;
	json_array_foreach(pods, i, pod)
	{
		if (!candidate(pod) ||
		    !natclient_refs_match(kube_json_path(pod, "metadata.annotations"), ns, name))
			continue;
		int ret = have_gateways ? 0 : gateways_of(w, egress, ns, name, &gws, err, errlen);
		if (ret < 0) /* the same for every pod: stop here */
			return ret;
		have_gateways = true;
		char why[512];
		if (gws.n > 0 && (ret = update_pod(w, pod, &gws, why, sizeof(why))) < 0 && !first)
			first = errorf(err, errlen, ret, "pod %s/%s: %s", kube_obj_namespace(pod),
				       kube_obj_name(pod), why);
	}
	natclient_gateways_free(&gws);
	return first;
}

static int reconcile(void *arg, const char *key, char *err, size_t errlen)
{
	struct kubesource_egress_watch *w = arg;
	char ns[256], *name = strchr(key, '/');
	if (!name || (size_t)(name - key) >= sizeof(ns))
		return 0;
	memcpy(ns, key, (size_t)(name - key));
	ns[name - key] = '\0';
	name++;
	json_t *egress = kube_informer_get(w->egresses, ns, name);
	if (!egress) /* deleted: client pods keep what they have (as upstream) */
		return 0;
	json_t *pods = kube_informer_list(w->pods);
	int ret = pods ? check_unique_ips(pods, err, errlen)
		       : errorf(err, errlen, -ENOMEM, "pod cache: out of memory");
	if (ret == 0 && !kube_json_path(egress, "metadata.deletionTimestamp"))
		ret = update_clients(w, egress, pods, ns, name, err, errlen);
	json_decref(pods);
	json_decref(egress);
	return ret;
}

static int start_informer(struct kube_client *client, const struct kube_informer_opts *opts,
			  struct kube_informer **out, char *err, size_t errlen)
{
	int ret = kube_informer_new(client, opts, out, err, errlen);
	return ret < 0 ? ret : kube_informer_start(*out, err, errlen);
}

int kubesource_egress_watch_start(struct kubesource *ks, bool originating_only,
				  kubesource_nat_update_fn update, void *arg,
				  struct kubesource_egress_watch **out, char *err, size_t errlen)
{
	struct kubesource_egress_watch *w = calloc(1, sizeof(*w));
	char selector[NODE_NAME_MAX + 32];
	if (!w)
		return errorf(err, errlen, -ENOMEM, "egress watcher: out of memory");
	w->ks = ks;
	w->originating_only = originating_only;
	w->update = update;
	w->arg = arg;
	snprintf(selector, sizeof(selector), "spec.nodeName=%s", ks->node);
	struct kube_informer_opts pods = {.res = &KUBE_RES_PODS, .field_selector = selector};
	struct kube_informer_opts egresses = {
	    .res = &COILAPI_RES_EGRESSES,
	    .handlers = {egress_added, egress_updated, egress_deleted, w},
	};
	/* The queue exists before the Egress informer can call enqueue. */
	int ret = workqueue_worker_start(&w->worker, "egress watcher", reconcile, w, 500, 60000,
					 err, errlen);
	if (ret == 0)
		ret = start_informer(ks->client, &pods, &w->pods, err, errlen);
	if (ret == 0 && !kube_informer_wait_synced(w->pods, 10000))
		log_warn("egress watcher: the pod cache is not synced yet; continuing");
	if (ret == 0)
		ret = start_informer(ks->client, &egresses, &w->egresses, err, errlen);
	if (ret < 0) {
		kubesource_egress_watch_stop(w);
		return ret;
	}
	*out = w;
	return 0;
}

void kubesource_egress_watch_stop(struct kubesource_egress_watch *w)
{
	if (!w)
		return;
	kube_informer_free(w->egresses); /* no more enqueues */
	workqueue_worker_stop(&w->worker);
	kube_informer_free(w->pods);
	free(w);
}
