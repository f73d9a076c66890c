/* coil doctor: flags and wiring of the node audit; the work is in lib/doctor. */
#include "applets.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "doctor/doctor.h"
#include "flags/flags.h"

static const char usage[] =
    "Usage: coil doctor [flags]\n"
    "\n"
    "Audits this node, read-only and without taking any lock: compares the node's\n"
    "address blocks (AddressBlocks labelled with the node in the Kubernetes API, or\n"
    "with --standalone or no API configured, <state-dir>/blocks.json), the daemon's\n"
    "allocation records in --state-dir, and the kernel (host veths with a COIL alias\n"
    "and their addresses, the pod table's routes, the pod-table rules, the export\n"
    "table). Prints a report (--json: as JSON). Exit status: 0 healthy, 1 when any\n"
    "inconsistency was found (each is named), 2 when the audit could not run.\n"
    "The node is --node, else COIL_NODE_NAME, else the host name.\n";

static struct {
	const char *node, *state_dir, *kubeconfig;
	int pod_table, export_table, pod_rule_prio, protocol;
	bool json, standalone;
} opts = {
    .state_dir = "/var/lib/coil",
    .pod_table = 116,
    .export_table = 119,
    .pod_rule_prio = 2000,
    .protocol = 30,
};

static const struct flag doctor_flags[] = {
    {"node", FLAG_STRING, &opts.node, "node name (default: COIL_NODE_NAME, else the host name)"},
    {"state-dir", FLAG_STRING, &opts.state_dir, "the daemon's --state-dir"},
    {"kubeconfig", FLAG_STRING, &opts.kubeconfig,
     "kubeconfig file (default: KUBECONFIG, else in-cluster configuration)"},
    {"standalone", FLAG_BOOL, &opts.standalone, "no Kubernetes API: blocks from blocks.json"},
    {"pod-table-id", FLAG_INT, &opts.pod_table, "routing table ID for pod routes"},
    {"export-table-id", FLAG_INT, &opts.export_table, "routing table ID to export routes"},
    {"pod-rule-prio", FLAG_INT, &opts.pod_rule_prio, "priority of the rule for the pod table"},
    {"protocol-id", FLAG_INT, &opts.protocol, "route author ID"},
    {"json", FLAG_BOOL, &opts.json, "print the report as JSON"},
};

#define N_FLAGS (sizeof(doctor_flags) / sizeof(doctor_flags[0]))

/* Whether any API is configured: a kubeconfig flag or variable, or in-cluster credentials. */
static bool api_configured(void)
{
	const char *env = getenv("KUBECONFIG");
	return !opts.standalone && ((opts.kubeconfig && *opts.kubeconfig) || (env && *env) ||
				    access(KUBE_SERVICEACCOUNT_DIR "/token", R_OK) == 0);
}

static const char *node_name(char *host, size_t len)
{
	const char *env = getenv("COIL_NODE_NAME");
	if (opts.node && *opts.node)
		return opts.node;
	if (env && *env)
		return env;
	return gethostname(host, len - 1) == 0 ? host : NULL;
}

static int audit(const struct doctor_config *cfg)
{
	char err[1024] = "";
	json_t *report = NULL;
	if (doctor_run(cfg, &report, err, sizeof(err)) < 0) {
		fprintf(stderr, "coil doctor: %s\n", err);
		return 2;
	}
	if (opts.json) {
		json_dumpf(report, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	} else {
		doctor_print(report, stdout);
	}
	int rc = json_is_true(json_object_get(report, "healthy")) ? 0 : 1;
	json_decref(report);
	return rc;
}

int doctor_main(int argc, char **argv)
{
	char err[1024] = "", host[256] = "";
	int rc = flags_parse(doctor_flags, N_FLAGS, argc, argv, usage, err, sizeof(err));
	if (rc == 1)
		return 0;
	if (rc < 0) {
		fprintf(stderr, "coil doctor: %s\n", err);
		return 2;
	}
	struct doctor_config cfg = {
	    .node = node_name(host, sizeof(host)),
	    .state_dir = opts.state_dir,
	    .pod_table = (uint32_t)opts.pod_table,
	    .export_table = (uint32_t)opts.export_table,
	    .rule_priority = (uint32_t)opts.pod_rule_prio,
	    .protocol = (unsigned char)opts.protocol,
	};
	if (!cfg.node) {
		fprintf(stderr, "coil doctor: no node name (--node, COIL_NODE_NAME)\n");
		return 2;
	}
	struct kube_config *kube = NULL;
	if (api_configured() && kube_config_load(opts.kubeconfig, KUBE_SERVICEACCOUNT_DIR, &kube,
						 err, sizeof(err)) < 0) {
		fprintf(stderr, "coil doctor: %s\n", err);
		return 2;
	}
	cfg.kube = kube;
	rc = audit(&cfg);
	kube_config_free(kube);
	return rc;
}
