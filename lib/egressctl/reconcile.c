/* One Egress: its ServiceAccount, the binding subjects, Deployment, Service, optional PDB and
 * status, in that order; any failure ends the pass so that it is retried with backoff. Every
 * read goes to the API server. An object is updated only when the built one differs from what
 * was read, and objects being deleted are left alone. */
#include "egressctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err/err.h"
#include "log/log.h"

struct pass {
	struct kube_client *client;
	const struct egressctl_config *cfg;
	const json_t *obj; /* the Egress as read */
	struct coilapi_egress egress;
};

typedef json_t *(*build_fn)(const struct pass *p, const json_t *current);

static bool deleting(const json_t *obj)
{
	return kube_json_path(obj, "metadata.deletionTimestamp") != NULL;
}

/* Create-or-update of the object named like the Egress. */
static int apply(const struct pass *p, const struct kube_resource *res, build_fn build, char *err,
		 size_t errlen)
{
	json_t *current = NULL, *desired = NULL;
	int ret =
	    kube_get(p->client, res, p->egress.namespace, p->egress.name, &current, err, errlen);
	if (ret < 0 && ret != -ENOENT)
		return ret;
	if (current && deleting(current)) {
		json_decref(current);
		return 0;
	}
	desired = build(p, current);
	json_t *written = NULL;
	if (!desired)
		ret = errorf(err, errlen, -ENOMEM, "%s %s/%s: out of memory", res->kind,
			     p->egress.namespace, p->egress.name);
	else if (!current)
		ret = kube_create(p->client, res, p->egress.namespace, desired, &written, err,
				  errlen);
	else if (!json_equal(current, desired))
		ret = kube_update(p->client, res, desired, &written, err, errlen);
	/* The rebuilt pod template lacks the API server's defaults, so most updates are no-ops
	 * the server answers with the same resourceVersion: only real changes are logged. */
	const char *rv = written ? kube_obj_resource_version(written) : NULL;
	const char *old_rv = current ? kube_obj_resource_version(current) : NULL;
	if (ret == 0 && written && (!rv || !old_rv || strcmp(rv, old_rv) != 0))
		log_info(current ? "updated" : "created", "kind", res->kind, "namespace",
			 p->egress.namespace, "name", p->egress.name);
	json_decref(written);
	json_decref(current);
	json_decref(desired);
	return ret;
}

static json_t *build_deployment(const struct pass *p, const json_t *current)
{
	return egressctl_build_deployment(p->cfg, p->obj, &p->egress, current);
}

static json_t *build_service(const struct pass *p, const json_t *current)
{
	return egressctl_build_service(p->cfg, p->obj, &p->egress, current);
}

static json_t *build_pdb(const struct pass *p, const json_t *current)
{
	return egressctl_build_pdb(p->obj, &p->egress, current);
}

static int ensure_service_account(const struct pass *p, char *err, size_t errlen)
{
	const char *ns = p->egress.namespace;
	json_t *sa = NULL;
	int ret = kube_get(p->client, &EGRESSCTL_RES_SERVICEACCOUNTS, ns, EGRESSCTL_SERVICE_ACCOUNT,
			   &sa, err, errlen);
	json_decref(sa);
	if (ret != -ENOENT)
		return ret;
	sa = json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "v1", "kind", "ServiceAccount",
		       "metadata", "name", EGRESSCTL_SERVICE_ACCOUNT, "namespace", ns);
	ret = kube_create(p->client, &EGRESSCTL_RES_SERVICEACCOUNTS, ns, sa, NULL, err, errlen);
	json_decref(sa);
	if (ret == -EEXIST)
		ret = 0;
	return ret;
}

/* Upstream never deletes the PDB of an Egress that dropped podDisruptionBudget; we delete the
 * one this Egress controls (and only that incarnation). */
static int remove_pdb(const struct pass *p, char *err, size_t errlen)
{
	json_t *pdb = NULL;
	const char *owner = NULL;
	int ret = kube_get(p->client, &EGRESSCTL_RES_PDBS, p->egress.namespace, p->egress.name,
			   &pdb, err, errlen);
	if (ret == -ENOENT)
		return 0;
	if (ret == 0 && egressctl_owner_egress(pdb, &owner) && strcmp(owner, p->egress.name) == 0 &&
	    !deleting(pdb)) {
		struct kube_delete_opts opts = {.precondition_uid = kube_obj_uid(pdb)};
		ret = kube_delete(p->client, &EGRESSCTL_RES_PDBS, p->egress.namespace,
				  p->egress.name, &opts, err, errlen);
		if (ret == 0)
			log_info("deleted", "kind", "PodDisruptionBudget", "namespace",
				 p->egress.namespace, "name", p->egress.name);
		if (ret == -ENOENT)
			ret = 0;
	}
	json_decref(pdb);
	return ret;
}

/* status.selector and status.replicas (the Deployment's available replicas), written only
 * when one differs: the scale subresource reads them for an HPA. */
static int update_status(const struct pass *p, char *err, size_t errlen)
{
	json_t *dep = NULL;
	int ret = kube_get(p->client, &KUBE_RES_DEPLOYMENTS, p->egress.namespace, p->egress.name,
			   &dep, err, errlen);
	if (ret < 0)
		return ret;
	char *selector =
	    egressctl_selector_string(kube_json_path(dep, "spec.selector.matchLabels"));
	json_int_t available = json_integer_value(kube_json_path(dep, "status.availableReplicas"));
	const char *old = p->egress.status_selector;
	if (selector &&
	    (!old || strcmp(old, selector) != 0 || available != p->egress.status_replicas)) {
		json_t *obj = json_deep_copy(p->obj);
		json_t *status = json_object();
		if (selector[0])
			json_object_set_new(status, "selector", json_string(selector));
		if (available)
			json_object_set_new(status, "replicas", json_integer(available));
		json_object_set_new(obj, "status", status);
		ret = kube_update_sub(p->client, &COILAPI_RES_EGRESSES, obj, "status", NULL, err,
				      errlen);
		json_decref(obj);
	} else if (!selector) {
		ret = errorf(err, errlen, -ENOMEM, "status: out of memory");
	}
	free(selector);
	json_decref(dep);
	return ret;
}

static int sync_crbs(struct kube_client *client, char *err, size_t errlen)
{
	int ret = egressctl_sync_crb(client, EGRESSCTL_CRB, true, err, errlen);
	if (ret == 0)
		ret = egressctl_sync_crb(client, EGRESSCTL_PSP_CRB, false, err, errlen);
	return ret;
}

static int run_pass(struct pass *p, char *err, size_t errlen)
{
	int ret = ensure_service_account(p, err, errlen);
	if (ret == 0)
		ret = sync_crbs(p->client, err, errlen);
	if (ret == 0)
		ret = apply(p, &KUBE_RES_DEPLOYMENTS, build_deployment, err, errlen);
	if (ret == 0)
		ret = apply(p, &KUBE_RES_SERVICES, build_service, err, errlen);
	if (ret == 0)
		ret = p->egress.pod_disruption_budget
			  ? apply(p, &EGRESSCTL_RES_PDBS, build_pdb, err, errlen)
			  : remove_pdb(p, err, errlen);
	if (ret == 0)
		ret = update_status(p, err, errlen);
	return ret;
}

int egressctl_reconcile(struct kube_client *client, const struct egressctl_config *cfg,
			const char *ns, const char *name, char *err, size_t errlen)
{
	json_t *obj = NULL;
	int ret = kube_get(client, &COILAPI_RES_EGRESSES, ns, name, &obj, err, errlen);
	if (ret == -ENOENT || (ret == 0 && deleting(obj))) {
		json_decref(obj);
		return sync_crbs(client, err, errlen); /* its namespace may have no Egress left */
	}
	if (ret < 0)
		return ret;
	struct pass p = {.client = client, .cfg = cfg, .obj = obj};
	char why[512];
	if (coilapi_egress_decode(obj, &p.egress, why, sizeof(why)) < 0) {
		/* Retrying cannot fix the object; its next change brings it back. */
		log_error("cannot decode the Egress; skipped", "namespace", ns, "name", name,
			  "error", why);
		ret = 0;
	} else {
		ret = run_pass(&p, err, errlen);
	}
	coilapi_egress_clear(&p.egress);
	json_decref(obj);
	return ret;
}
