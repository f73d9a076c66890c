/* coil migrate (coil-migrator): moves a cluster from Coil v1 to v2 with two subcommands,
 * dump and replace. The work is in lib/migrate; this file parses the command line, connects
 * to etcd and Kubernetes and reports the outcome (exit 1 on any error, as upstream). */
#include "applets.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "etcd/etcd.h"
#include "flags/flags.h"
#include "kube/kube.h"
#include "migrate/migrate.h"

static const char usage[] =
    "Usage: coil migrate [--kubeconfig FILE] dump|replace [flags]   (alias: coil-migrator)\n"
    "\n"
    "Migrates a cluster from Coil v1 to Coil v2:\n"
    "  dump     reads v1's data from etcd, uninstalls v1, annotates the namespaces of v1's\n"
    "           namespace pools and writes AddressPools and reserved AddressBlocks to stdout\n"
    "           as a YAML stream for `kubectl apply -f`\n"
    "  replace  asks for confirmation, recreates every pod node by node so that it takes a\n"
    "           v2 address, deletes the reserved blocks and restarts coild\n"
    "Run `coil migrate dump --help` or `coil migrate replace --help` for their flags.\n";

static const char dump_usage[] = "Usage: coil migrate dump [flags]\n";
static const char replace_usage[] = "Usage: coil migrate replace [flags]\n";

static const char *kubeconfig;
static bool dry_run;
static const char *etcd_endpoints = "http://127.0.0.1:2379";
static const char *etcd_prefix = "/coil/";
static double etcd_timeout = 2;
static const char *etcd_username = "", *etcd_password = "";
static const char *etcd_tls_ca = "", *etcd_tls_cert = "", *etcd_tls_key = "";
static bool skip_uninstall;
static double interval = 10;
static const char *failure_file = MIGRATE_FAILURE_FILE;

#define KUBECONFIG_FLAG                                                                            \
	{                                                                                          \
		"kubeconfig", FLAG_STRING, &kubeconfig,                                            \
		    "kubeconfig file (default: $KUBECONFIG, in-cluster, ~/.kube/config)"           \
	}
#define DRY_RUN_FLAG                                                                               \
	{                                                                                          \
		"dry-run", FLAG_BOOL, &dry_run,                                                    \
		    "print what would be deleted, annotated and created; "                         \
		    "change nothing"                                                               \
	}

static const struct flag dump_flags[] = {
    KUBECONFIG_FLAG,
    DRY_RUN_FLAG,
    {"etcd-endpoints", FLAG_STRING, &etcd_endpoints, "comma-separated URLs of v1's etcd"},
    {"etcd-prefix", FLAG_STRING, &etcd_prefix, "key prefix of v1's data"},
    {"etcd-timeout", FLAG_DURATION, &etcd_timeout, "dial timeout"},
    {"etcd-username", FLAG_STRING, &etcd_username, "username for etcd authentication"},
    {"etcd-password", FLAG_STRING, &etcd_password, "password for etcd authentication"},
    {"etcd-tls-ca", FLAG_STRING, &etcd_tls_ca, "CA certificate file of etcd's server"},
    {"etcd-tls-cert", FLAG_STRING, &etcd_tls_cert, "client certificate file"},
    {"etcd-tls-key", FLAG_STRING, &etcd_tls_key, "client key file"},
    {"skip-uninstall", FLAG_BOOL, &skip_uninstall, "DANGER: do not delete Coil v1's objects"},
};

static const struct flag replace_flags[] = {
    KUBECONFIG_FLAG,
    DRY_RUN_FLAG,
    {"interval", FLAG_DURATION, &interval, "pause after the pods of each node"},
    {"failed-pods-file", FLAG_STRING, &failure_file,
     "where the pods that could not be deleted are listed"},
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static int connect_kube(struct kube_client **out)
{
	char err[1024];
	struct kube_config *cfg = NULL;
	int ret = kube_config_load(kubeconfig, NULL, &cfg, err, sizeof(err));
	if (ret == 0)
		ret = kube_client_new(cfg, NULL, out, err, sizeof(err));
	kube_config_free(cfg);
	if (ret == 0 && (ret = migrate_kube_sanity(*out, err, sizeof(err))) < 0) {
		kube_client_free(*out);
		*out = NULL;
	}
	if (ret < 0)
		fprintf(stderr, "Error: %s\n", err);
	return ret;
}

static int run_dump(void)
{
	char err[1024];
	struct etcd_config ec = {.endpoints = etcd_endpoints,
				 .prefix = etcd_prefix,
				 .dial_timeout_s = etcd_timeout,
				 .username = etcd_username,
				 .password = etcd_password,
				 .ca_file = etcd_tls_ca,
				 .cert_file = etcd_tls_cert,
				 .key_file = etcd_tls_key};
	struct etcd_client *etcd = NULL;
	if (etcd_client_new(&ec, &etcd, err, sizeof(err)) < 0) {
		fprintf(stderr, "Error: %s\n", err);
		return 1;
	}
	struct kube_client *kube = NULL;
	int ret = connect_kube(&kube);
	if (ret == 0) {
		struct migrate_dump_opts opts = {.etcd = etcd,
						 .kube = kube,
						 .skip_uninstall = skip_uninstall,
						 .dry_run = dry_run,
						 .out = stdout,
						 .log = stderr};
		if ((ret = migrate_dump(&opts, err, sizeof(err))) < 0)
			fprintf(stderr, "Error: %s\n", err);
	}
	kube_client_free(kube);
	etcd_client_free(etcd);
	return ret < 0 ? 1 : 0;
}

static int run_replace(void)
{
	char err[1024];
	if (!dry_run && !migrate_confirm(stdin, stderr)) {
		fprintf(stderr, "Aborted.\n");
		return 0;
	}
	struct kube_client *kube = NULL;
	int ret = connect_kube(&kube);
	if (ret == 0) {
		struct migrate_replace_opts opts = {.kube = kube,
						    .interval_s = interval,
						    .dry_run = dry_run,
						    .out = stdout,
						    .failure_file = failure_file};
		if ((ret = migrate_replace(&opts, err, sizeof(err))) < 0)
			fprintf(stderr, "Error: %s\n", err);
	}
	kube_client_free(kube);
	return ret < 0 ? 1 : 0;
}

/* The index of the subcommand word: the first argument that is not a flag or the value of
 * `--kubeconfig VALUE` (the one flag that may come before it, as with upstream's cobra). */
static int find_subcommand(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] != '-')
			return i;
		if ((strcmp(a, "--kubeconfig") == 0 || strcmp(a, "-kubeconfig") == 0) &&
		    i + 1 < argc)
			i++;
	}
	return -1;
}

static bool wants_version(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-version") == 0)
			return true;
	return false;
}

int migrate_main(int argc, char **argv)
{
	if (wants_version(argc, argv)) {
		printf("coil-migrator version %s\n", COIL_COMPAT_VERSION);
		return 0;
	}
	int sub = find_subcommand(argc, argv);
	if (sub < 0) {
		fputs(usage, applet_wants_help(argc, argv) ? stdout : stderr);
		return applet_wants_help(argc, argv) ? 0 : 1;
	}
	bool is_dump = strcmp(argv[sub], "dump") == 0;
	if (!is_dump && strcmp(argv[sub], "replace") != 0) {
		fprintf(stderr, "Error: unknown command \"%s\"\n%s", argv[sub], usage);
		return 1;
	}
	/* The flags around the subcommand word, parsed as one list. */
	char *args[argc];
	int n = 0;
	for (int i = 0; i < argc; i++)
		if (i != sub)
			args[n++] = argv[i];
	char err[1024];
	int rc = is_dump
		     ? flags_parse(dump_flags, N(dump_flags), n, args, dump_usage, err, sizeof(err))
		     : flags_parse(replace_flags, N(replace_flags), n, args, replace_usage, err,
				   sizeof(err));
	if (rc != 0) {
		if (rc < 0)
			fprintf(stderr, "Error: %s\n", err);
		return rc < 0 ? 1 : 0;
	}
	return is_dump ? run_dump() : run_replace();
}
