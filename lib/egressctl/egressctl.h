/* coil-egress-controller (docs/behaviour/egress-controller.md): what an Egress becomes (the
 * ServiceAccount coil-egress of its namespace, the subjects of the coil-egress
 * ClusterRoleBindings, a Deployment of NAT gateway pods, a Service in front of them, an
 * optional PodDisruptionBudget, and the Egress status the scale subresource reads), the
 * reconciler that makes it so, and the controller that runs it while this replica leads.
 *
 * Builders are pure: they take the decoded Egress and the object as it is now (NULL when it
 * does not exist) and return the object as it should be (a new reference the caller
 * json_decref()s). Functions that can fail return 0 or a negative errno and write a message
 * naming the object into err (errlen bytes). */
#ifndef COIL_EGRESSCTL_H
#define COIL_EGRESSCTL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coilapi/coilapi.h"
#include "kube/kube.h"

/* The ServiceAccount of gateway pods, in every namespace that has an Egress. */
#define EGRESSCTL_SERVICE_ACCOUNT "coil-egress"
/* The ClusterRoleBindings whose subjects list those ServiceAccounts: the first must exist,
 * the second (a PodSecurityPolicy binding of old clusters) is kept up to date when present. */
#define EGRESSCTL_CRB	    "coil-egress"
#define EGRESSCTL_PSP_CRB   "psp-coil-egress"
#define EGRESSCTL_CONTAINER "egress"

extern const struct kube_resource EGRESSCTL_RES_SERVICEACCOUNTS, EGRESSCTL_RES_PDBS,
    EGRESSCTL_RES_CRBS;

/* What the gateway pods get from the controller's flags and its own pod. */
struct egressctl_config {
	const char *image;   /* default image of the egress container (the controller's own) */
	int32_t egress_port; /* --egress-port: the UDP port of the Services */
	const char *backend; /* --backend: "iptables" or "nftables", passed to coil-egress */
};

/* ---- builders (pure) -------------------------------------------------------------------- */

/* The selector labels of everything generated for the Egress named name: name=coil,
 * instance=<name>, component=egress. */
json_t *egressctl_selector_labels(const char *name);
/* The same as a label-selector string, keys sorted: what status.selector holds. Caller frees. */
char *egressctl_selector_string(const json_t *match_labels);

/* The pod template of the gateway Deployment: the Egress's template spec with the egress
 * container completed, labels rebuilt, annotations merged into current_annotations (the
 * Deployment's template annotations now, may be NULL). */
json_t *egressctl_build_pod_template(const struct egressctl_config *cfg,
				     const struct coilapi_egress *egress,
				     const json_t *current_annotations);

/* egress_obj is the Egress as read (for its uid in owner references). */
json_t *egressctl_build_deployment(const struct egressctl_config *cfg, const json_t *egress_obj,
				   const struct coilapi_egress *egress, const json_t *current);
json_t *egressctl_build_service(const struct egressctl_config *cfg, const json_t *egress_obj,
				const struct coilapi_egress *egress, const json_t *current);
/* NULL with -EINVAL... never: only call it when egress->pod_disruption_budget is set. */
json_t *egressctl_build_pdb(const json_t *egress_obj, const struct coilapi_egress *egress,
			    const json_t *current);

/* The subjects for the sorted, de-duplicated namespaces of the Egresses in egresses (an
 * array of Egress objects): one ServiceAccount coil-egress per namespace. */
json_t *egressctl_crb_subjects(const json_t *egresses);

/* Whether obj has a controller owner reference to an Egress; *owner gets its name
 * (borrowed). */
bool egressctl_owner_egress(const json_t *obj, const char **owner);

/* ---- reconcilers: one call handles one object; < 0 means "retry with backoff" ------------- */

/* Egress ns/name: SA, CRB subjects, Deployment, Service, PDB (created, updated, or deleted
 * when the spec no longer asks for one) and status. A missing or deleting Egress only
 * recomputes the CRB subjects (its objects go by garbage collection). */
int egressctl_reconcile(struct kube_client *client, const struct egressctl_config *cfg,
			const char *ns, const char *name, char *err, size_t errlen);

/* Sets the subjects of ClusterRoleBinding crb to egressctl_crb_subjects() of every Egress.
 * A missing CRB is an error when required, else nothing to do. */
int egressctl_sync_crb(struct kube_client *client, const char *crb, bool required, char *err,
		       size_t errlen);

/* ---- the leader's controller ------------------------------------------------------------ */

struct egressctl_controller;

/* Informers on Egresses, on the Deployments, Services and PDBs carrying the selector labels
 * (an event re-queues the owning Egress), and on ClusterRoleBindings (events for the two
 * names re-sync them); one worker for Egresses, one for the bindings. client and cfg (and
 * its strings) are borrowed and must outlive the controller. */
int egressctl_controller_start(struct kube_client *client, const struct egressctl_config *cfg,
			       struct egressctl_controller **out, char *err, size_t errlen);
/* True once every informer has listed its collection. */
bool egressctl_controller_wait_synced(struct egressctl_controller *ctl, long timeout_ms);
/* Stops informers, joins every thread and frees. NULL is a no-op. */
void egressctl_controller_stop(struct egressctl_controller *ctl);

#endif
