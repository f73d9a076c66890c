/* cni-bench: latency of a CNI plugin's ADD and DEL, run as a container runtime
 * would (fork/exec, config on stdin), against pod netns made beforehand.
 *
 * Phases, each over the same N pod netns (PREFIX0 .. PREFIX<N-1>):
 *   warm-up  one untimed ADD + DEL, so page cache and lazy state do not count
 *   add      N sequential ADDs, one per pod          -> p50, p99, mean, max
 *   rss      VmRSS of --rss-pid (a daemon) after them
 *   del      N sequential DELs                        -> p50, p99, mean, max
 *   burst    N ADDs started at once                   -> wall time, p50, p99
 *   burst_del  N DELs started at once                 -> wall time, p50, p99
 *   gap      N ADDs, each followed by the pause below, the pods staying: a warm node
 *            whose ADDs come one at a time after idle moments -> ADD p50, p99
 *            (then N untimed DELs)
 *   empty    N times: ADD, DEL, then a pause (--empty-gap-ms, default 200) so the node
 *            has nothing left in between, as a node whose pods come and go one at a
 *            time                                      -> ADD and DEL p50, p99
 *   floor    N sequential calls of the same binary with CNI_COMMAND=VERSION, then N at
 *            once: what starting the plugin process costs by itself (exec, start-up,
 *            exit), the floor under every ADD and DEL -> p50, burst wall time
 * Results go to stdout as key=value lines; failures (with the plugin's output)
 * to stderr; the exit status is 1 if any call failed. */
#include "cni_call.h"
#include "latency.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_PODS	   4096
#define MAX_SHOWN_FAILURES 3

struct bench_opts {
	const char *plugin;
	const char *netconf_path;
	const char *cni_path;
	const char *netns_prefix;
	const char *ifname;
	const char *pod_namespace;
	int pods;
	long rss_pid;	   /* 0: none */
	long empty_gap_ms; /* pause after each DEL of the empty phase */
};

struct bench {
	struct bench_opts opts;
	char *netconf; /* owned */
	size_t netconf_len;
	struct cni_call *calls; /* owned, opts.pods entries */
	double *samples;	/* owned, opts.pods entries */
	atomic_int failures;	/* the burst's spawning threads count theirs too */
	/* The burst: the PID of each pod's call once its spawner has it (0 before). */
	_Atomic pid_t *spawned; /* owned, opts.pods entries */
};

static void usage(FILE *out)
{
	fprintf(out, "usage: cni-bench --plugin BIN --netconf FILE --netns-prefix PATH\n"
		     "                 [--pods N] [--cni-path DIR] [--ifname eth0]\n"
		     "                 [--pod-namespace NS] [--rss-pid PID] [--empty-gap-ms MS]\n"
		     "Pod i uses the netns PATH<i>, i = 0 .. N-1 (made beforehand).\n");
}

static int parse_int(const char *text, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || end == text || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_option(struct bench_opts *o, const char *name, const char *value, char *err,
			size_t errlen)
{
	long n;

	if (!strcmp(name, "--plugin"))
		o->plugin = value;
	else if (!strcmp(name, "--netconf"))
		o->netconf_path = value;
	else if (!strcmp(name, "--cni-path"))
		o->cni_path = value;
	else if (!strcmp(name, "--netns-prefix"))
		o->netns_prefix = value;
	else if (!strcmp(name, "--ifname"))
		o->ifname = value;
	else if (!strcmp(name, "--pod-namespace"))
		o->pod_namespace = value;
	else if (!strcmp(name, "--empty-gap-ms")) {
		if (parse_int(value, 0, 60000, &n) < 0) {
			snprintf(err, errlen, "%s: bad number '%s'", name, value);
			return -EINVAL;
		}
		o->empty_gap_ms = n;
	} else if (!strcmp(name, "--pods") || !strcmp(name, "--rss-pid")) {
		if (parse_int(value, 1, !strcmp(name, "--pods") ? MAX_PODS : 1 << 30, &n) < 0) {
			snprintf(err, errlen, "%s: bad number '%s'", name, value);
			return -EINVAL;
		}
		if (!strcmp(name, "--pods"))
			o->pods = (int)n;
		else
			o->rss_pid = n;
	} else {
		snprintf(err, errlen, "unknown option '%s'", name);
		return -EINVAL;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct bench_opts *o, char *err, size_t errlen)
{
	*o = (struct bench_opts){
	    .ifname = "eth0", .pod_namespace = "bench", .pods = 100, .empty_gap_ms = 200};
	for (int i = 1; i < argc; i += 2) {
		if (i + 1 >= argc) {
			snprintf(err, errlen, "option '%s' needs a value", argv[i]);
			return -EINVAL;
		}
		int rc = parse_option(o, argv[i], argv[i + 1], err, errlen);
		if (rc < 0)
			return rc;
	}
	if (!o->plugin || !o->netconf_path || !o->netns_prefix) {
		snprintf(err, errlen, "--plugin, --netconf and --netns-prefix are required");
		return -EINVAL;
	}
	if (!o->cni_path)
		o->cni_path = "/usr/lib/cni";
	return 0;
}

/* Reads a whole file into a NUL-terminated buffer the caller frees. */
static int read_file(const char *path, char **buf, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *data = NULL;
	size_t cap = 0, used = 0, n;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	do {
		if (cap - used < 4096) {
			char *bigger = realloc(data, cap + 65536);
			if (!bigger) {
				free(data);
				fclose(f);
				snprintf(err, errlen, "%s: out of memory", path);
				return -ENOMEM;
			}
			data = bigger;
			cap += 65536;
		}
		n = fread(data + used, 1, cap - used - 1, f);
		used += n;
	} while (n > 0);
	fclose(f);
	data[used] = '\0';
	*buf = data;
	*len = used;
	return 0;
}

/* Per-call strings; they only need to live until cni_call_start() returns. */
struct pod_names {
	char container_id[128];
	char netns[512];
	char cni_args[512];
};

static void pod_request(const struct bench *b, int pod, const char *command, const char *phase,
			struct pod_names *names, struct cni_request *req)
{
	snprintf(names->container_id, sizeof(names->container_id), "bench-%s-%d", phase, pod);
	snprintf(names->netns, sizeof(names->netns), "%s%d", b->opts.netns_prefix, pod);
	/* What containerd passes for a kubelet-made pod. */
	snprintf(names->cni_args, sizeof(names->cni_args),
		 "IgnoreUnknown=1;K8S_POD_NAMESPACE=%s;K8S_POD_NAME=%s-pod-%d;"
		 "K8S_POD_INFRA_CONTAINER_ID=%s;K8S_POD_UID=00000000-0000-4000-8000-%012d",
		 b->opts.pod_namespace, phase, pod, names->container_id, pod);
	*req = (struct cni_request){
	    .plugin = b->opts.plugin,
	    .command = command,
	    .container_id = names->container_id,
	    .netns = names->netns,
	    .ifname = b->opts.ifname,
	    .cni_path = b->opts.cni_path,
	    .cni_args = names->cni_args,
	    .netconf = b->netconf,
	    .netconf_len = b->netconf_len,
	};
}

static void report_failure(struct bench *b, const struct cni_call *call, const char *command,
			   const char *phase, int pod)
{
	char output[2048];

	b->failures++;
	if (b->failures > MAX_SHOWN_FAILURES)
		return;
	cni_call_output(call, output, sizeof(output));
	fprintf(stderr, "cni-bench: %s %s pod %d failed (wait status 0x%x): %s\n", phase, command,
		pod, (unsigned)call->wait_status, output);
}

static int start_call(struct bench *b, int pod, const char *command, const char *phase)
{
	struct pod_names names;
	struct cni_request req;
	char err[512];

	pod_request(b, pod, command, phase, &names, &req);
	if (cni_call_start(&b->calls[pod], &req, err, sizeof(err)) < 0) {
		fprintf(stderr, "cni-bench: %s\n", err);
		b->failures++;
		return -1;
	}
	return 0;
}

static void finish_call(struct bench *b, int pod, const char *command, const char *phase)
{
	struct cni_call *call = &b->calls[pod];

	b->samples[pod] = call->elapsed_ms;
	if (!cni_call_succeeded(call))
		report_failure(b, call, command, phase, pod);
	cni_call_release(call);
}

static void print_figures(const char *label, double *samples, int n)
{
	double sum = 0.0;

	for (int i = 0; i < n; i++)
		sum += samples[i];
	printf("%s_mean_ms=%.2f\n", label, n ? sum / n : 0.0);
	printf("%s_p50_ms=%.2f\n", label, latency_percentile(samples, (size_t)n, 50));
	printf("%s_p99_ms=%.2f\n", label, latency_percentile(samples, (size_t)n, 99));
	printf("%s_max_ms=%.2f\n", label, n ? samples[n - 1] : 0.0);
}

/* Calls the plugin for every pod, one after the other. */
static void run_sequential(struct bench *b, const char *command, const char *phase,
			   const char *label)
{
	char err[256];

	for (int pod = 0; pod < b->opts.pods; pod++) {
		b->samples[pod] = 0.0;
		if (start_call(b, pod, command, phase) < 0)
			continue;
		if (cni_call_wait(&b->calls[pod], err, sizeof(err)) < 0)
			fprintf(stderr, "cni-bench: %s\n", err);
		finish_call(b, pod, command, phase);
	}
	print_figures(label, b->samples, b->opts.pods);
}

static double ms_since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) * 1e3 +
	       (double)(now.tv_nsec - start->tv_nsec) / 1e6;
}

/* The pod whose burst call has this PID, -1 if its spawner has not published it yet. */
static int find_spawned(struct bench *b, pid_t pid)
{
	for (int pod = 0; pod < b->opts.pods; pod++)
		if (atomic_load(&b->spawned[pod]) == pid)
			return pod;
	return -1;
}

struct spawner {
	struct bench *b;
	const char *command, *phase;
	int first, step; /* the pods first, first + step, ... */
	atomic_int *started, *spawners_left;
};

static void *spawn_share(void *arg)
{
	struct spawner *s = arg;

	for (int pod = s->first; pod < s->b->opts.pods; pod += s->step) {
		if (start_call(s->b, pod, s->command, s->phase) < 0)
			continue;
		atomic_fetch_add(s->started, 1);
		atomic_store(&s->b->spawned[pod], s->b->calls[pod].pid);
	}
	atomic_fetch_sub(s->spawners_left, 1);
	return NULL;
}

/* Reaps the burst's calls while the spawners may still be starting some. A child can be
 * reaped before its spawner has published its PID: it waits in `early` for that. */
static void reap_burst(struct bench *b, const char *command, const char *phase, atomic_int *started,
		       atomic_int *spawners_left)
{
	pid_t early_pid[MAX_PODS];
	int early_status[MAX_PODS], nearly = 0, reaped = 0, status;

	while (atomic_load(spawners_left) > 0 || reaped < atomic_load(started)) {
		pid_t pid = waitpid(-1, &status, 0);
		if (pid < 0 && errno == ECHILD) { /* nothing started yet, or all reaped */
			struct timespec pause = {0, 50000};
			nanosleep(&pause, NULL);
		} else if (pid > 0 && nearly < MAX_PODS) {
			early_pid[nearly] = pid;
			early_status[nearly++] = status;
		}
		for (int i = 0; i < nearly;) {
			int pod = find_spawned(b, early_pid[i]);
			if (pod < 0) {
				i++;
				continue;
			}
			cni_call_reaped(&b->calls[pod], early_status[i]);
			finish_call(b, pod, command, phase);
			reaped++;
			early_pid[i] = early_pid[--nearly];
			early_status[i] = early_status[nearly];
		}
	}
}

/* Starts the plugin for every pod at once, as a runtime does: from one thread per CPU, since
 * one thread would start them one after the other (posix_spawn returns only once the child
 * has exec'd) while containerd's goroutines spawn on every CPU at the same time. The calls
 * are reaped as they finish. */
static void run_burst(struct bench *b, const char *command, const char *phase, const char *label)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int nthreads = cpus < 1 ? 1 : cpus > 64 ? 64 : (int)cpus;
	atomic_int started = 0, spawners_left = nthreads;
	struct spawner spawners[64];
	pthread_t threads[64];
	bool threaded[64];
	struct timespec start;

	for (int pod = 0; pod < b->opts.pods; pod++) {
		b->samples[pod] = 0.0;
		b->calls[pod].out_fd = -1;
		atomic_store(&b->spawned[pod], 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (int t = 0; t < nthreads; t++) {
		spawners[t] =
		    (struct spawner){b, command, phase, t, nthreads, &started, &spawners_left};
		threaded[t] = pthread_create(&threads[t], NULL, spawn_share, &spawners[t]) == 0;
		if (!threaded[t])
			spawn_share(&spawners[t]); /* no thread: this share from here */
	}
	reap_burst(b, command, phase, &started, &spawners_left);
	printf("%s_wall_ms=%.2f\n", label, ms_since(&start));
	for (int t = 0; t < nthreads; t++)
		if (threaded[t])
			pthread_join(threads[t], NULL);
	print_figures(label, b->samples, b->opts.pods);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* The same pauses on a node that keeps its pods: what an ADD after an idle moment costs
 * anyway (cold caches, a sleeping daemon), the fair comparison for the empty phase. */
static void run_gapped(struct bench *b)
{
	char err[256];

	for (int pod = 0; pod < b->opts.pods; pod++) {
		b->samples[pod] = 0.0;
		if (start_call(b, pod, "ADD", "gap") < 0)
			continue;
		if (cni_call_wait(&b->calls[pod], err, sizeof(err)) < 0)
			fprintf(stderr, "cni-bench: %s\n", err);
		finish_call(b, pod, "ADD", "gap");
		sleep_ms(b->opts.empty_gap_ms);
	}
	print_figures("gap_add", b->samples, b->opts.pods);
	run_sequential(b, "DEL", "gap", "gap_del");
}

/* A node that empties between pods: each pod is added and deleted alone, with a pause
 * after the DEL for whatever the plugin finishes in the background. */
static void run_empty(struct bench *b)
{
	double *dels = calloc((size_t)b->opts.pods, sizeof(*dels));
	char err[256];

	if (!dels) {
		fprintf(stderr, "cni-bench: out of memory\n");
		b->failures++;
		return;
	}
	for (int pod = 0; pod < b->opts.pods; pod++) {
		const char *commands[] = {"ADD", "DEL"};
		double took[2] = {0, 0};
		for (int i = 0; i < 2; i++) {
			b->samples[pod] = 0.0;
			if (start_call(b, pod, commands[i], "empty") < 0)
				continue;
			if (cni_call_wait(&b->calls[pod], err, sizeof(err)) < 0)
				fprintf(stderr, "cni-bench: %s\n", err);
			finish_call(b, pod, commands[i], "empty");
			took[i] = b->samples[pod];
		}
		b->samples[pod] = took[0];
		dels[pod] = took[1];
		sleep_ms(b->opts.empty_gap_ms);
	}
	print_figures("empty_add", b->samples, b->opts.pods);
	print_figures("empty_del", dels, b->opts.pods);
	free(dels);
}

/* VmRSS of a process in KiB, or -1. */
static long vmrss_kib(long pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static void print_rss(const struct bench *b, const char *label)
{
	long kib;

	if (!b->opts.rss_pid)
		return;
	kib = vmrss_kib(b->opts.rss_pid);
	if (kib < 0)
		fprintf(stderr, "cni-bench: no VmRSS for pid %ld (gone?)\n", b->opts.rss_pid);
	else
		printf("%s_mib=%.1f\n", label, (double)kib / 1024.0);
}

/* One untimed ADD + DEL in pod 0's netns. Returns 0 if both succeeded. */
static int warm_up(struct bench *b)
{
	const char *commands[] = {"ADD", "DEL"};
	char err[256];
	int before = b->failures;

	for (int i = 0; i < 2; i++) {
		if (start_call(b, 0, commands[i], "warmup") < 0)
			continue;
		if (cni_call_wait(&b->calls[0], err, sizeof(err)) < 0)
			fprintf(stderr, "cni-bench: %s\n", err);
		finish_call(b, 0, commands[i], "warmup");
	}
	return b->failures == before ? 0 : -1;
}

static void run_phases(struct bench *b)
{
	if (warm_up(b) < 0) {
		fprintf(stderr, "cni-bench: warm-up failed, not measuring\n");
		return;
	}
	run_sequential(b, "ADD", "seq", "add");
	print_rss(b, "rss_after_adds");
	run_sequential(b, "DEL", "seq", "del");
	run_burst(b, "ADD", "burst", "burst_add");
	print_rss(b, "rss_after_burst");
	run_burst(b, "DEL", "burst", "burst_del");
	sleep_ms(b->opts.empty_gap_ms);
	run_gapped(b);
	sleep_ms(b->opts.empty_gap_ms);
	run_empty(b);
	run_sequential(b, "VERSION", "floor", "floor_exec");
	run_burst(b, "VERSION", "floor", "floor_burst");
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct bench b = {0};
	char err[512];

	if (argc == 2 && !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	if (parse_args(argc, argv, &b.opts, err, sizeof(err)) < 0 ||
	    read_file(b.opts.netconf_path, &b.netconf, &b.netconf_len, err, sizeof(err)) < 0) {
		fprintf(stderr, "cni-bench: %s\n", err);
		usage(stderr);
		return 2;
	}
	b.calls = calloc((size_t)b.opts.pods, sizeof(*b.calls));
	b.samples = calloc((size_t)b.opts.pods, sizeof(*b.samples));
	b.spawned = calloc((size_t)b.opts.pods, sizeof(*b.spawned));
	if (!b.calls || !b.samples || !b.spawned) {
		fprintf(stderr, "cni-bench: out of memory\n");
		return 2;
	}
	run_phases(&b);
	printf("failures=%d\n", b.failures);
	free(b.calls);
	free(b.samples);
	free((void *)b.spawned);
	free(b.netconf);
	return b.failures ? 1 : 0;
}
