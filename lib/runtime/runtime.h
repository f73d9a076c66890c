/* The runtime every long-running Coil program stands on (coild, coil-ipam-controller,
 * coil-router, and the egress programs to come), so that an applet is its flags and its
 * wiring:
 *
 *   runtime_parse()   its own flags plus the common ones (--version, --zap-*, klog's), with
 *                     upstream's exit statuses; sets the log level; blocks the stop signals
 *                     in every thread to come (call it before starting any thread);
 *                     bounds glibc's malloc arenas to 2 (unless MALLOC_ARENA_MAX is set);
 *   runtime_start()   the metrics server (with the process_* metrics) and the health server
 *                     (/healthz, /readyz), and the signal thread;
 *   runtime_lead()    leader election on a named Lease until stop or loss;
 *   runtime_stop()    joins the signal thread and stops the servers.
 *
 * SIGTERM and SIGINT are taken by the signal thread with sigwait: it logs, signals the stop
 * token (runtime_stop_token) and calls opts.on_stop once. SIGHUP goes to opts.on_hup when
 * given. */
#ifndef COIL_RUNTIME_H
#define COIL_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>

#include "flags/flags.h"
#include "kube/kube.h"
#include "metrics/metrics.h"

#define RUNTIME_CONTINUE (-1) /* runtime_parse: go on and run the program */

struct runtime_program {
	const char *name;  /* upstream's program name, e.g. "coild": in --version and errors */
	const char *usage; /* the text --help prints before the flags */
	const struct flag *flags;
	size_t nflags;
	/* The program's own log level flag (e.g. coild's --log-level); NULL if none. Used when
	 * --zap-log-level is not given. */
	const char *const *log_level;
};

/* Parses argv. Returns RUNTIME_CONTINUE, or the status to exit with: 0 after --help or
 * --version (printed to stdout), 1 after a flag error (printed with the usage to stderr, as
 * upstream's cobra programs do). */
int runtime_parse(const struct runtime_program *program, int argc, char **argv);

/* The common flags' values after runtime_parse. */
const struct flags_common *runtime_common_flags(void);

/* /readyz: 0 when ready, else a negative errno with the reason in err (logged, not sent). */
typedef int (*runtime_check_fn)(void *arg, char *err, size_t errlen);

struct runtime_opts {
	const char *metrics_addr, *health_addr; /* "0" disables one, as upstream */
	struct metrics *metrics;		/* borrowed; served on /metrics */
	/* /readyz: no check = always ready. With a check_name, a failure is answered like
	 * controller-runtime ("[-]<name> failed: reason withheld"); without, "not ready". */
	runtime_check_fn ready;
	const char *check_name;
	void *ready_arg;
	void (*on_stop)(void *arg); /* on the signal thread, once, on SIGTERM/SIGINT */
	void (*on_hup)(void *arg);  /* on the signal thread, on every SIGHUP; NULL: ignored */
	void *arg;
};

struct runtime;

/* Starts the servers and the signal thread. Returns 0 or -errno with err filled. */
int runtime_start(const struct runtime_opts *opts, struct runtime **out, char *err, size_t errlen);

/* Signalled on SIGTERM/SIGINT; the program may signal it too to stop everything. Owned by
 * the runtime. */
struct kube_stop *runtime_stop_token(struct runtime *rt);

/* Campaigns for the Lease ns/name (see kube_leader_campaign for identity and timings) with
 * the runtime's stop token; the callbacks as in struct kube_leader_opts. The lease is
 * released on stop. Returns 0 when stopped, -ENOLINK after losing the lease, or -errno. */
int runtime_lead(struct runtime *rt, const struct kube_config *config, const char *ns,
		 const char *name, void (*on_started_leading)(void *arg, struct kube_stop *lost),
		 void (*on_stopped_leading)(void *arg), void *arg, char *err, size_t errlen);

/* Joins the signal thread (on_stop/on_hup are not called after this returns), stops the
 * servers and frees. NULL ok. */
void runtime_stop(struct runtime *rt);

#endif
