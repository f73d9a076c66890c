/* One timed call of a CNI plugin binary: fork/exec (posix_spawn) with the CNI
 * environment and the network config on stdin, reaped by the caller, so the
 * clock covers exactly what a container runtime waits for. */
#ifndef COIL_BENCH_CNI_CALL_H
#define COIL_BENCH_CNI_CALL_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

/* What to run; all strings are borrowed for the duration of cni_call_start(). */
struct cni_request {
	const char *plugin;	  /* path of the plugin binary */
	const char *command;	  /* "ADD", "DEL", "CHECK" */
	const char *container_id; /* CNI_CONTAINERID */
	const char *netns;	  /* CNI_NETNS */
	const char *ifname;	  /* CNI_IFNAME */
	const char *cni_path;	  /* CNI_PATH */
	const char *cni_args;	  /* CNI_ARGS */
	const char *netconf;	  /* network config, written to the plugin's stdin */
	size_t netconf_len;
};

/* A started call. out_fd is a memfd holding the plugin's stdout and stderr;
 * owned by the call, closed by cni_call_release(). */
struct cni_call {
	pid_t pid;
	int out_fd;
	struct timespec start;
	double elapsed_ms; /* set by cni_call_reaped() */
	int wait_status;   /* waitpid() status, set by cni_call_reaped() */
};

/* Starts the plugin; the clock starts just before the spawn. Returns 0 or a
 * negative errno with a message naming the plugin in err. */
int cni_call_start(struct cni_call *call, const struct cni_request *req, char *err, size_t errlen);

/* Records the exit of call->pid (status from waitpid) and stops its clock. */
void cni_call_reaped(struct cni_call *call, int wait_status);

/* Waits for this call alone (sequential use). Returns 0 or a negative errno. */
int cni_call_wait(struct cni_call *call, char *err, size_t errlen);

/* 1 when the plugin exited with status 0. */
int cni_call_succeeded(const struct cni_call *call);

/* Copies up to len-1 bytes of the plugin's output into buf, NUL-terminated. */
void cni_call_output(const struct cni_call *call, char *buf, size_t len);

/* Closes the output memfd. */
void cni_call_release(struct cni_call *call);

#endif
