/* The process of a coil controller (coil-ipam-controller, coil-egress-controller): every
 * replica serves its admission webhooks over TLS, /metrics, /healthz and /readyz (ready once
 * the webhook can hand out a certificate), optionally rotates the webhook certificate, and
 * campaigns for a Lease in kube-system; the leader runs the controller's work. Losing the
 * lease ends the process with status 1 (the orchestrator restarts it), as upstream.
 *
 * An applet fills struct ctlrun_spec from its flags and calls ctlrun_main(). */
#ifndef COIL_CTLRUN_H
#define COIL_CTLRUN_H

#include <stdbool.h>
#include <stddef.h>

#include "certrotate/certrotate.h"
#include "flags/flags.h"
#include "kube/kube.h"
#include "metrics/metrics.h"
#include "webhook/webhook.h"

struct ctlrun_spec {
	const char *metrics_addr, *health_addr, *webhook_addr, *cert_dir, *kubeconfig;
	bool cert_rotation, restart_on_refresh;
	const enum webhook_kind *webhooks; /* what the webhook server serves */
	size_t n_webhooks;
	const struct certrotate_names *cert_names; /* what rotation maintains */
	const char *lease_name;			   /* in kube-system */
	struct metrics *metrics;		   /* borrowed */
	/* Called once the client exists, before any server starts (e.g. to read the
	 * controller's own Pod); a failure aborts startup. May be NULL. */
	int (*prepare)(void *arg, struct kube_client *client, char *err, size_t errlen);
	/* The leader's work: started on gaining the lease, stopped on losing it or on stop. */
	int (*start_leading)(void *arg, struct kube_client *client, char *err, size_t errlen);
	void (*stop_leading)(void *arg);
	void *arg;
};

/* The flags both controllers share (upstream's names and texts), bound to the fields of
 * struct ctlrun_spec `spec`, for an applet's flag table. */
#define CTLRUN_FLAGS(spec)                                                                         \
	{"metrics-addr", FLAG_STRING, &(spec).metrics_addr, "bind address of metrics endpoint"},   \
	    {"health-addr", FLAG_STRING, &(spec).health_addr,                                      \
	     "bind address of health/readiness probes"},                                           \
	    {"webhook-addr", FLAG_STRING, &(spec).webhook_addr,                                    \
	     "bind address of admission webhook"},                                                 \
	    {"cert-dir", FLAG_STRING, &(spec).cert_dir,                                            \
	     "directory to locate TLS certs for webhook"},                                         \
	    {"enable-cert-rotation", FLAG_BOOL, &(spec).cert_rotation,                             \
	     "enables webhook's certificate generation"},                                          \
	    {"enable-restart-on-cert-refresh", FLAG_BOOL, &(spec).restart_on_refresh,              \
	     "enables pod's restart on webhook certificate refresh"},                              \
	{                                                                                          \
		"kubeconfig", FLAG_STRING, &(spec).kubeconfig, "path to a kubeconfig file"         \
	}

/* Logs what failed (error: err) and returns exit status 1: the applets' startup failures. */
int ctlrun_fail(const char *what, const char *err);

/* Runs the controller until SIGTERM/SIGINT (0), a lost lease, or a failure (1; the failure is
 * logged). */
int ctlrun_main(const struct ctlrun_spec *spec);

#endif
