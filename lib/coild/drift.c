/* Drift: something other than coild removed a kernel object coild keeps (docs/applets/daemon.md,
 * 'Metrics'). Each repair is counted by object kind, logged, and reported (a Kubernetes Event
 * in Kubernetes mode). */
#include "coild/internal.h"

#include "log/log.h"

static const char *const objects[] = {"pod_route", "export_route", "rule", "node_address"};

void coild_drift_declare(struct metrics *m)
{
	metrics_declare(m, COILD_DRIFT_METRIC, METRIC_COUNTER,
			"Number of kernel objects coild put back after something else removed "
			"them.");
	char labels[128];
	for (size_t i = 0; i < sizeof(objects) / sizeof(objects[0]); i++) {
		metrics_labels(labels, sizeof(labels), "object", objects[i], NULL);
		metrics_add(m, COILD_DRIFT_METRIC, labels, 0);
	}
}

void coild_drift_repaired(struct coild *d, const char *object, const char *reason,
			  const char *detail)
{
	char labels[128];
	metrics_labels(labels, sizeof(labels), "object", object, NULL);
	metrics_add(d->metrics, COILD_DRIFT_METRIC, labels, 1);
	log_warn("repaired drift", "object", object, "reason", reason, "detail", detail);
}

void coild_drift_report(struct coild *d, const char *reason, const char *detail)
{
	if (d->cfg.report_drift)
		d->cfg.report_drift(d->cfg.report_drift_ctx, reason, detail);
}
