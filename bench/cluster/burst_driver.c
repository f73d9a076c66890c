/* burst-driver: N calls of a CNI plugin started at once (one per pod, each pod
 * its own netns made beforehand), as a container runtime starting N pods on one
 * node would make them. Used by bench/cluster/burst.sh; shares the timed call
 * (cni_call.c) and the percentiles (latency.c) with bench/cni_bench.c.
 *
 * Pod i uses the netns PREFIX<i>, the container ID <container-prefix><i> and
 * the Kubernetes pod <pod-namespace>/<pod-prefix><i> (CNI_ARGS, as containerd
 * passes them). Results go to stdout as key=value lines: wall_ms (from just
 * before the first spawn to the reaping of the last call), p50_ms, p99_ms,
 * max_ms, mean_ms, failures; failed calls (with the plugin's output) to stderr.
 * The exit status is 1 if any call failed, 2 for bad usage. */
#include "../cni_call.h"
#include "../latency.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#define MAX_PODS	   4096
#define MAX_SHOWN_FAILURES 3

struct burst_opts {
	const char *plugin;
	const char *command;
	const char *netconf_path;
	const char *cni_path;
	const char *netns_prefix;
	const char *container_prefix;
	const char *pod_namespace;
	const char *pod_prefix;
	const char *ifname;
	long pods;
};

struct burst {
	struct burst_opts opts;
	char *netconf; /* owned */
	size_t netconf_len;
	struct cni_call *calls; /* owned, opts.pods entries */
	double *samples;	/* owned, opts.pods entries */
	int failures;
};

static void usage(FILE *out)
{
	fprintf(out, "usage: burst-driver --plugin BIN --command ADD|DEL --netconf FILE\n"
		     "                    --netns-prefix PATH [--pods N] [--cni-path DIR]\n"
		     "                    [--container-prefix burst-] [--pod-namespace default]\n"
		     "                    [--pod-prefix pod-] [--ifname eth0]\n");
}

/* The field of opts that option name sets, or NULL for an unknown option. */
static const char **string_option(struct burst_opts *o, const char *name)
{
	const struct {
		const char *name;
		const char **field;
	} table[] = {
	    {"--plugin", &o->plugin},
	    {"--command", &o->command},
	    {"--netconf", &o->netconf_path},
	    {"--cni-path", &o->cni_path},
	    {"--netns-prefix", &o->netns_prefix},
	    {"--container-prefix", &o->container_prefix},
	    {"--pod-namespace", &o->pod_namespace},
	    {"--pod-prefix", &o->pod_prefix},
	    {"--ifname", &o->ifname},
	};
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (!strcmp(name, table[i].name))
			return table[i].field;
	return NULL;
}

static int parse_pods(const char *text, long *out, char *err, size_t errlen)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || end == text || *end || v < 1 || v > MAX_PODS) {
		snprintf(err, errlen, "--pods: '%s' is not a number from 1 to %d", text, MAX_PODS);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int parse_args(int argc, char **argv, struct burst_opts *o, char *err, size_t errlen)
{
	*o = (struct burst_opts){.cni_path = "/usr/lib/cni",
				 .container_prefix = "burst-",
				 .pod_namespace = "default",
				 .pod_prefix = "pod-",
				 .ifname = "eth0",
				 .pods = 100};
	for (int i = 1; i < argc; i += 2) {
		const char **field = string_option(o, argv[i]);
		if (i + 1 >= argc) {
			snprintf(err, errlen, "option '%s' needs a value", argv[i]);
			return -EINVAL;
		}
		if (field)
			*field = argv[i + 1];
		else if (!strcmp(argv[i], "--pods")) {
			if (parse_pods(argv[i + 1], &o->pods, err, errlen) < 0)
				return -EINVAL;
		} else {
			snprintf(err, errlen, "unknown option '%s'", argv[i]);
			return -EINVAL;
		}
	}
	if (!o->plugin || !o->command || !o->netconf_path || !o->netns_prefix) {
		snprintf(err, errlen,
			 "--plugin, --command, --netconf and --netns-prefix are required");
		return -EINVAL;
	}
	return 0;
}

/* Reads a whole file into a NUL-terminated buffer the caller frees. */
static int read_file(const char *path, char **buf, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	long size;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -EIO;
	}
	if (fseek(f, 0, SEEK_END) < 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0 ||
	    !(*buf = malloc((size_t)size + 1))) {
		snprintf(err, errlen, "%s: cannot read it", path);
		fclose(f);
		return -EIO;
	}
	*len = fread(*buf, 1, (size_t)size, f);
	(*buf)[*len] = '\0';
	fclose(f);
	return 0;
}

/* Per-call strings; they only need to live until cni_call_start() returns. */
struct pod_names {
	char container_id[128];
	char netns[512];
	char cni_args[512];
};

static int start_call(struct burst *b, long pod)
{
	const struct burst_opts *o = &b->opts;
	struct pod_names n;
	struct cni_request req;
	char err[512];

	snprintf(n.container_id, sizeof(n.container_id), "%s%ld", o->container_prefix, pod);
	snprintf(n.netns, sizeof(n.netns), "%s%ld", o->netns_prefix, pod);
	snprintf(n.cni_args, sizeof(n.cni_args),
		 "IgnoreUnknown=1;K8S_POD_NAMESPACE=%s;K8S_POD_NAME=%s%ld;"
		 "K8S_POD_INFRA_CONTAINER_ID=%s",
		 o->pod_namespace, o->pod_prefix, pod, n.container_id);
	req = (struct cni_request){.plugin = o->plugin,
				   .command = o->command,
				   .container_id = n.container_id,
				   .netns = n.netns,
				   .ifname = o->ifname,
				   .cni_path = o->cni_path,
				   .cni_args = n.cni_args,
				   .netconf = b->netconf,
				   .netconf_len = b->netconf_len};
	if (cni_call_start(&b->calls[pod], &req, err, sizeof(err)) < 0) {
		fprintf(stderr, "burst-driver: pod %ld: %s\n", pod, err);
		b->failures++;
		return -1;
	}
	return 0;
}

static void finish_call(struct burst *b, long pod, int status)
{
	struct cni_call *call = &b->calls[pod];
	char output[2048];

	cni_call_reaped(call, status);
	b->samples[pod] = call->elapsed_ms;
	if (!cni_call_succeeded(call) && ++b->failures <= MAX_SHOWN_FAILURES) {
		cni_call_output(call, output, sizeof(output));
		fprintf(stderr, "burst-driver: %s of pod %ld failed (wait status 0x%x): %s\n",
			b->opts.command, pod, (unsigned)status, output);
	}
	cni_call_release(call);
}

static long find_call(const struct burst *b, pid_t pid)
{
	for (long pod = 0; pod < b->opts.pods; pod++)
		if (b->calls[pod].pid == pid && b->calls[pod].out_fd >= 0)
			return pod;
	return -1;
}

static double ms_since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) * 1e3 +
	       (double)(now.tv_nsec - start->tv_nsec) / 1e6;
}

/* Starts the plugin for every pod, then reaps the calls as they end; returns
 * the wall time in ms. */
static double run_burst(struct burst *b)
{
	struct timespec start;
	long running = 0, pod;
	int status;
	pid_t pid;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (pod = 0; pod < b->opts.pods; pod++) {
		b->calls[pod].out_fd = -1;
		if (start_call(b, pod) == 0)
			running++;
	}
	while (running > 0 && (pid = waitpid(-1, &status, 0)) > 0) {
		pod = find_call(b, pid);
		if (pod < 0)
			continue;
		finish_call(b, pod, status);
		running--;
	}
	return ms_since(&start);
}

static void print_figures(struct burst *b, double wall_ms)
{
	size_t n = (size_t)b->opts.pods;
	double sum = 0.0;

	for (size_t i = 0; i < n; i++)
		sum += b->samples[i];
	printf("wall_ms=%.1f\n", wall_ms);
	printf("mean_ms=%.1f\n", sum / (double)n);
	printf("p50_ms=%.1f\n", latency_percentile(b->samples, n, 50));
	printf("p99_ms=%.1f\n", latency_percentile(b->samples, n, 99));
	printf("max_ms=%.1f\n", b->samples[n - 1]); /* sorted by latency_percentile */
	printf("failures=%d\n", b->failures);
}

int main(int argc, char **argv)
{
	struct burst b = {0};
	char err[512];

	if (argc == 2 && !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	if (parse_args(argc, argv, &b.opts, err, sizeof(err)) < 0 ||
	    read_file(b.opts.netconf_path, &b.netconf, &b.netconf_len, err, sizeof(err)) < 0) {
		fprintf(stderr, "burst-driver: %s\n", err);
		usage(stderr);
		return 2;
	}
	b.calls = calloc((size_t)b.opts.pods, sizeof(*b.calls));
	b.samples = calloc((size_t)b.opts.pods, sizeof(*b.samples));
	if (!b.calls || !b.samples) {
		fprintf(stderr, "burst-driver: out of memory\n");
		return 2;
	}
	print_figures(&b, run_burst(&b));
	free(b.calls);
	free(b.samples);
	free(b.netconf);
	return b.failures ? 1 : 0;
}
