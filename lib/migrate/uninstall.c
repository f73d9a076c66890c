/* Removing Coil v1's Kubernetes objects, in the order v1's own uninstall used: the workloads
 * first (so nothing allocates from etcd any more), then their configuration, RBAC and
 * accounts. Each delete runs in the foreground and is awaited, so that v1's pods are gone
 * before v2's are started. */
#include <errno.h>
#include <string.h>

#include "err/err.h"
#include "kube/kube.h"
#include "migrate/internal.h"
#include "migrate/migrate.h"

struct v1_object {
	const struct kube_resource *res;
	const char *ns, *name;
};

static const struct v1_object v1_objects[] = {
    {&KUBE_RES_DAEMONSETS, "kube-system", "coil-node"},
    {&KUBE_RES_DEPLOYMENTS, "kube-system", "coil-controllers"},
    {&KUBE_RES_CONFIGMAPS, "kube-system", "coil-config"},
    {&KUBE_RES_CLUSTERROLEBINDINGS, NULL, "coil-node"},
    {&KUBE_RES_CLUSTERROLEBINDINGS, NULL, "coil-controllers"},
    {&KUBE_RES_CLUSTERROLES, NULL, "coil-node"},
    {&KUBE_RES_CLUSTERROLES, NULL, "coil-controllers"},
    {&KUBE_RES_SERVICEACCOUNTS, "kube-system", "coil-node"},
    {&KUBE_RES_SERVICEACCOUNTS, "kube-system", "coil-controller"},
};

/* Whether a CNI configuration list holds v2's coil plugin, which talks to coild over a
 * socket (v1's plugin talked to coild over HTTP and had no "socket" member). */
static bool netconf_is_v2(const char *text)
{
	json_t *conf = text ? json_loads(text, 0, NULL) : NULL;
	const json_t *plugins = json_object_get(conf, "plugins");
	bool v2 = false;
	size_t i;
	const json_t *plugin;
	json_array_foreach(plugins, i, plugin)
	{
		const char *type = json_string_value(json_object_get(plugin, "type"));
		if (type && strcmp(type, "coil") == 0 && json_object_get(plugin, "socket"))
			v2 = true;
	}
	json_decref(conf);
	return v2;
}

/* v2's ConfigMap carries the label app.kubernetes.io/name=coil that all of v2's manifests
 * carry, and v2's CNI configuration; either is enough to keep it. */
bool migrate_configmap_is_v2(const json_t *configmap)
{
	const char *app = kube_obj_label(configmap, "app.kubernetes.io/name");
	if (app && strcmp(app, "coil") == 0)
		return true;
	return netconf_is_v2(kube_json_string(configmap, "data.cni_netconf"));
}

static void describe(const struct v1_object *o, char *buf, size_t len)
{
	if (o->ns)
		snprintf(buf, len, "%s %s/%s", o->res->kind, o->ns, o->name);
	else
		snprintf(buf, len, "%s %s", o->res->kind, o->name);
}

/* The first check after a delete comes this soon, the next ones twice as late each time
 * up to poll_ms: an object without dependents is gone a moment after its foreground delete
 * (the garbage collector only drops its finalizer), and nine of them awaited a second each
 * would keep the cluster without a pod network for nine seconds more. */
#define FIRST_POLL_MS 50

/* Polls until the object is gone (or replaced by one with another uid), for polls x
 * poll_ms in all. */
static int await_gone(const struct migrate_dump_opts *opts, const struct v1_object *o,
		      const char *uid, const char *what, char *err, size_t errlen)
{
	long polls = opts->polls > 0 ? opts->polls : 100;
	long poll_ms = opts->poll_ms > 0 ? opts->poll_ms : 1000;
	long step = poll_ms < FIRST_POLL_MS ? poll_ms : FIRST_POLL_MS;
	for (long waited = 0;; waited += step, step = step * 2 < poll_ms ? step * 2 : poll_ms) {
		json_t *obj = NULL;
		int ret = kube_get(opts->kube, o->res, o->ns, o->name, &obj, err, errlen);
		bool replaced = ret == 0 && strcmp(kube_obj_uid(obj) ? kube_obj_uid(obj) : "", uid);
		json_decref(obj);
		if (ret == -ENOENT || replaced)
			return 0;
		if (ret < 0)
			return ret;
		if (waited >= polls * poll_ms)
			return errorf(err, errlen, -ETIMEDOUT, "timed out to delete %s", what);
		migrate_sleep_ms(step);
	}
}

/* The uid precondition makes sure the object deleted is the one inspected. */
static int remove_object(const struct migrate_dump_opts *opts, const struct v1_object *o, char *err,
			 size_t errlen)
{
	char what[256];
	describe(o, what, sizeof(what));
	json_t *obj = NULL;
	int ret = kube_get(opts->kube, o->res, o->ns, o->name, &obj, err, errlen);
	if (ret == -ENOENT) {
		fprintf(opts->log, "  absent %s\n", what);
		return 0;
	}
	if (ret < 0)
		return ret;
	if (o->res == &KUBE_RES_CONFIGMAPS && migrate_configmap_is_v2(obj)) {
		fprintf(opts->log, "  kept %s: it belongs to Coil v2\n", what);
		json_decref(obj);
		return 0;
	}
	char uid[128];
	snprintf(uid, sizeof(uid), "%s", kube_obj_uid(obj) ? kube_obj_uid(obj) : "");
	json_decref(obj);
	if (opts->dry_run) {
		fprintf(opts->log, "  would delete %s\n", what);
		return 0;
	}
	struct kube_delete_opts del = {.precondition_uid = uid, .propagation_policy = "Foreground"};
	ret = kube_delete(opts->kube, o->res, o->ns, o->name, &del, err, errlen);
	if (ret < 0 && ret != -ENOENT)
		return ret;
	ret = await_gone(opts, o, uid, what, err, errlen);
	if (ret == 0)
		fprintf(opts->log, "  deleted %s\n", what);
	return ret;
}

int migrate_uninstall_v1(const struct migrate_dump_opts *opts, char *err, size_t errlen)
{
	fprintf(opts->log, "uninstalling Coil v1 ...\n");
	if (opts->skip_uninstall) {
		fprintf(opts->log, "  skip\n");
		return 0;
	}
	for (size_t i = 0; i < sizeof(v1_objects) / sizeof(v1_objects[0]); i++) {
		int ret = remove_object(opts, &v1_objects[i], err, errlen);
		if (ret < 0)
			return ret;
	}
	return 0;
}
