/* coil egress-controller (coil-egress-controller): flags and wiring. The process of
 * lib/ctlrun serving the Egress webhooks; the replica holding the Lease
 * kube-system/coil-egress-leader runs the controller of lib/egressctl. Gateway pods get the
 * controller's own image, read from its Pod at startup as upstream does. */
#include "applets.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctlrun/ctlrun.h"
#include "egressctl/egressctl.h"
#include "log/log.h"
#include "runtime/runtime.h"

static const char usage[] =
    "Usage: coil egress-controller [flags]   (alias: coil-egress-controller)\n"
    "\n"
    "Turns every Egress into the Deployment, Service, PodDisruptionBudget and\n"
    "ServiceAccount of its NAT gateway pods (leader only) and serves the Egress\n"
    "admission webhooks. Needs COIL_POD_NAMESPACE and COIL_POD_NAME: gateway pods run\n"
    "the image of this controller's own pod. Kubernetes access from --kubeconfig, else\n"
    "$KUBECONFIG, else the in-cluster service account. Leader-election timings can be\n"
    "changed with COIL_LEADER_LEASE_DURATION, COIL_LEADER_RENEW_DEADLINE and\n"
    "COIL_LEADER_RETRY_PERIOD (Go durations).\n";

#define LEASE_NAME "coil-egress-leader" /* in kube-system */

static struct ctlrun_spec spec = {
    .metrics_addr = ":9396",
    .health_addr = ":9397",
    .webhook_addr = ":9444",
    .cert_dir = "/certs",
    .webhooks = WEBHOOK_EGRESS_KINDS,
    .n_webhooks = 2,
    .cert_names = &CERTROTATE_EGRESS,
    .lease_name = LEASE_NAME,
};
static struct {
	const char *backend;
	int egress_port;
} opts = {.backend = "iptables", .egress_port = 5555};

static const struct flag controller_flags[] = {
    CTLRUN_FLAGS(spec),
    {"egress-port", FLAG_INT, &opts.egress_port, "UDP port number used by coil-egress"},
    {"backend", FLAG_STRING, &opts.backend, "backend for egress NAT rules: iptables or nftables"},
};

#define N_FLAGS (sizeof(controller_flags) / sizeof(controller_flags[0]))

static struct {
	struct egressctl_config cfg;
	char *image; /* owned */
	struct egressctl_controller *controller;
} state;

/* The image of the first container of this controller's own Pod (read uncached, once). */
static int read_own_image(void *arg, struct kube_client *client, char *err, size_t errlen)
{
	const char *ns = getenv("COIL_POD_NAMESPACE"), *name = getenv("COIL_POD_NAME");
	if (!ns || !ns[0] || !name || !name[0]) {
		snprintf(err, errlen, "COIL_POD_NAMESPACE and COIL_POD_NAME must be set");
		return -EINVAL;
	}
	json_t *pod = NULL;
	int ret = kube_get(client, &KUBE_RES_PODS, ns, name, &pod, err, errlen);
	const char *image =
	    ret == 0 ? kube_json_string(json_array_get(kube_json_path(pod, "spec.containers"), 0),
					"image")
		     : NULL;
	if (ret == 0 && !image) {
		snprintf(err, errlen, "pod %s/%s: its first container has no image", ns, name);
		ret = -EINVAL;
	}
	if (ret == 0 && !(state.image = strdup(image)))
		ret = -ENOMEM;
	json_decref(pod);
	state.cfg.image = state.image;
	return ret;
}

static int start_leading(void *arg, struct kube_client *client, char *err, size_t errlen)
{
	return egressctl_controller_start(client, &state.cfg, &state.controller, err, errlen);
}

static void stop_leading(void *arg)
{
	egressctl_controller_stop(state.controller);
	state.controller = NULL;
}

static int check_options(char *err, size_t errlen)
{
	if (strcmp(opts.backend, "iptables") != 0 && strcmp(opts.backend, "nftables") != 0) {
		snprintf(err, errlen, "invalid backend: %s (must be either iptables or nftables)",
			 opts.backend);
		return -EINVAL;
	}
	if (opts.egress_port < 1 || opts.egress_port > 65535) {
		snprintf(err, errlen, "--egress-port must be a port number (1..65535)");
		return -EINVAL;
	}
	return 0;
}

static const struct runtime_program program = {
    .name = "coil-egress-controller", .usage = usage, .flags = controller_flags, .nflags = N_FLAGS};

int egress_controller_main(int argc, char **argv)
{
	char err[1024];
	int rc = runtime_parse(&program, argc, argv);
	if (rc != RUNTIME_CONTINUE)
		return rc;
	if (check_options(err, sizeof(err)) < 0)
		return ctlrun_fail("invalid configuration", err);
	state.cfg = (struct egressctl_config){.egress_port = (int32_t)opts.egress_port,
					      .backend = opts.backend};
	struct metrics *metrics = metrics_new();
	spec.metrics = metrics;
	spec.prepare = read_own_image;
	spec.start_leading = start_leading;
	spec.stop_leading = stop_leading;
	rc = metrics ? ctlrun_main(&spec) : ctlrun_fail("failed to start", "out of memory");
	metrics_free(metrics);
	free(state.image);
	return rc;
}
