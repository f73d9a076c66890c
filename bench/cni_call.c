#include "cni_call.h"

#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

/* The environment of one call: the CNI variables plus PATH (plugins such as
 * ptp with ipMasq run iptables). Strings live in the struct, so the caller owns
 * everything through one stack object. */
struct call_env {
	char command[32];
	char container_id[256];
	char netns[512];
	char ifname[64];
	char cni_path[1024];
	char cni_args[1024];
	char path[1024];
	char *envp[8];
};

static int build_env(struct call_env *env, const struct cni_request *req, char *err, size_t errlen)
{
	const char *path = getenv("PATH");
	int n[7];

	n[0] = snprintf(env->command, sizeof(env->command), "CNI_COMMAND=%s", req->command);
	n[1] = snprintf(env->container_id, sizeof(env->container_id), "CNI_CONTAINERID=%s",
			req->container_id);
	n[2] = snprintf(env->netns, sizeof(env->netns), "CNI_NETNS=%s", req->netns);
	n[3] = snprintf(env->ifname, sizeof(env->ifname), "CNI_IFNAME=%s", req->ifname);
	n[4] = snprintf(env->cni_path, sizeof(env->cni_path), "CNI_PATH=%s", req->cni_path);
	n[5] = snprintf(env->cni_args, sizeof(env->cni_args), "CNI_ARGS=%s", req->cni_args);
	n[6] = snprintf(env->path, sizeof(env->path), "PATH=%s",
			path ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
	if (n[0] >= (int)sizeof(env->command) || n[1] >= (int)sizeof(env->container_id) ||
	    n[2] >= (int)sizeof(env->netns) || n[3] >= (int)sizeof(env->ifname) ||
	    n[4] >= (int)sizeof(env->cni_path) || n[5] >= (int)sizeof(env->cni_args) ||
	    n[6] >= (int)sizeof(env->path)) {
		snprintf(err, errlen, "%s: a CNI variable is too long (netns %s)", req->plugin,
			 req->netns);
		return -ENAMETOOLONG;
	}
	env->envp[0] = env->command;
	env->envp[1] = env->container_id;
	env->envp[2] = env->netns;
	env->envp[3] = env->ifname;
	env->envp[4] = env->cni_path;
	env->envp[5] = env->cni_args;
	env->envp[6] = env->path;
	env->envp[7] = NULL;
	return 0;
}

/* A memfd holding the network config, positioned at its start; caller closes. */
static int stdin_memfd(const struct cni_request *req, char *err, size_t errlen)
{
	int fd = memfd_create("cni-stdin", MFD_CLOEXEC);
	size_t done = 0;

	if (fd < 0) {
		snprintf(err, errlen, "memfd_create: %s", strerror(errno));
		return -errno;
	}
	while (done < req->netconf_len) {
		ssize_t n = write(fd, req->netconf + done, req->netconf_len - done);
		if (n < 0) {
			int e = errno;
			snprintf(err, errlen, "writing netconf to memfd: %s", strerror(e));
			close(fd);
			return -e;
		}
		done += (size_t)n;
	}
	lseek(fd, 0, SEEK_SET);
	return fd;
}

static int spawn(struct cni_call *call, const struct cni_request *req, int in_fd,
		 char *const envp[], char *err, size_t errlen)
{
	posix_spawn_file_actions_t actions;
	char *argv[] = {(char *)req->plugin, NULL};
	int rc;

	posix_spawn_file_actions_init(&actions);
	/* dup2 clears close-on-exec on the copies; the memfds of other calls in
	 * flight stay close-on-exec and do not leak into this child. */
	posix_spawn_file_actions_adddup2(&actions, in_fd, 0);
	posix_spawn_file_actions_adddup2(&actions, call->out_fd, 1);
	posix_spawn_file_actions_adddup2(&actions, call->out_fd, 2);
	clock_gettime(CLOCK_MONOTONIC, &call->start);
	rc = posix_spawn(&call->pid, req->plugin, &actions, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&actions);
	if (rc != 0) {
		snprintf(err, errlen, "spawning %s: %s", req->plugin, strerror(rc));
		return -rc;
	}
	return 0;
}

int cni_call_start(struct cni_call *call, const struct cni_request *req, char *err, size_t errlen)
{
	struct call_env env;
	int in_fd, rc;

	memset(call, 0, sizeof(*call));
	call->out_fd = -1;
	rc = build_env(&env, req, err, errlen);
	if (rc < 0)
		return rc;
	in_fd = stdin_memfd(req, err, errlen);
	if (in_fd < 0)
		return in_fd;
	call->out_fd = memfd_create("cni-out", MFD_CLOEXEC);
	if (call->out_fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "memfd_create: %s", strerror(errno));
		close(in_fd);
		return rc;
	}
	rc = spawn(call, req, in_fd, env.envp, err, errlen);
	close(in_fd);
	if (rc < 0)
		cni_call_release(call);
	return rc;
}

void cni_call_reaped(struct cni_call *call, int wait_status)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	call->wait_status = wait_status;
	call->elapsed_ms = (double)(now.tv_sec - call->start.tv_sec) * 1e3 +
			   (double)(now.tv_nsec - call->start.tv_nsec) / 1e6;
}

int cni_call_wait(struct cni_call *call, char *err, size_t errlen)
{
	int status;

	while (waitpid(call->pid, &status, 0) < 0) {
		if (errno != EINTR) {
			snprintf(err, errlen, "waitpid %d: %s", (int)call->pid, strerror(errno));
			return -errno;
		}
	}
	cni_call_reaped(call, status);
	return 0;
}

int cni_call_succeeded(const struct cni_call *call)
{
	return WIFEXITED(call->wait_status) && WEXITSTATUS(call->wait_status) == 0;
}

void cni_call_output(const struct cni_call *call, char *buf, size_t len)
{
	ssize_t n = -1;

	if (len == 0)
		return;
	if (call->out_fd >= 0)
		n = pread(call->out_fd, buf, len - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
}

void cni_call_release(struct cni_call *call)
{
	if (call->out_fd >= 0)
		close(call->out_fd);
	call->out_fd = -1;
}
