/* The plugin's side of the coild RPC: one connection per call carrying one
 * request and one response, each ended by the writer's shutdown/close. The I/O
 * is optimistic (try the syscall, poll only on EAGAIN) because the plugin sits
 * on the pod start path. */
#include "cni/cni.h"
#include "fileio/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int64_t cni_monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One sendmsg, retried on EINTR and waited for on EAGAIN: the bytes sent, or -errno. */
static ssize_t send_waiting(int fd, const struct msghdr *msg, int64_t deadline_ms)
{
	for (;;) {
		ssize_t n = sendmsg(fd, msg, MSG_NOSIGNAL);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		int rc = fileio_wait_fd(fd, POLLOUT, deadline_ms);
		if (rc < 0)
			return rc;
	}
}

int cni_rpc_write_all(int fd, const char *buf, size_t len, int64_t deadline_ms)
{
	while (len > 0) {
		struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
		struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
		ssize_t n = send_waiting(fd, &msg, deadline_ms);
		if (n < 0)
			return (int)n;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int cni_rpc_read_all(int fd, size_t max, int64_t deadline_ms, char **buf, size_t *len)
{
	int rc = fileio_read_fd(fd, max, deadline_ms, buf, len);
	return rc == -EFBIG ? -EMSGSIZE : rc; /* a message, not a file, is too long */
}

/* A UNIX stream connection that is non-blocking once established. A full
 * listen backlog (EAGAIN) is retried until the deadline; other failures are
 * "cannot connect". */
static int connect_unix(const char *path, int64_t deadline_ms, int *fd_out)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	size_t len = strlen(path);
	if (len == 0) /* would name an abstract socket */
		return -ENOENT;
	if (len >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	memcpy(addr.sun_path, path, len + 1);
	socklen_t addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	while (connect(fd, (struct sockaddr *)&addr, addrlen) < 0) {
		int rc = -errno;
		if (rc == -EAGAIN && cni_monotonic_ms() < deadline_ms) {
			nanosleep(&(struct timespec){.tv_nsec = 2000000}, NULL);
			continue;
		}
		close(fd);
		return rc == -EAGAIN ? -ETIMEDOUT : rc;
	}
	*fd_out = fd;
	return 0;
}

static int transport_error(struct cni_error *err, int rc, const char *socket_path, int timeout_ms,
			   const char *stage)
{
	if (rc == -ETIMEDOUT) {
		char details[512];
		snprintf(details, sizeof(details), "no answer from %s within %d ms (%s)",
			 socket_path, timeout_ms, stage);
		cni_error_set(
		    err, CNI_ERR_INTERNAL, details,
		    "rpc error: code = DeadlineExceeded desc = context deadline exceeded");
	} else {
		cni_error_set(err, CNI_ERR_INTERNAL, strerror(-rc), "rpc error: %s %s failed",
			      stage, socket_path);
	}
	return rc;
}

/* The pod netns to send with an ADD (O_CLOEXEC, owned by the caller), or -1: none to send,
 * or it cannot be opened here (the daemon then tries the path and reports why not). */
static int open_netns_to_pass(const struct cni_rpc_request *req)
{
	if (req->command != CNI_CMD_ADD || !req->netns || !*req->netns)
		return -1;
	return open(req->netns, O_RDONLY | O_CLOEXEC);
}

/* Writes the request; with pass_fd >= 0 its first bytes carry that descriptor (SCM_RIGHTS). */
static int write_request(int fd, const char *text, size_t len, int pass_fd, int64_t deadline_ms)
{
	if (pass_fd < 0 || len == 0)
		return cni_rpc_write_all(fd, text, len, deadline_ms);
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control = {0};
	struct iovec iov = {.iov_base = (void *)text, .iov_len = len};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = control.buf,
			     .msg_controllen = sizeof(control.buf)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &pass_fd, sizeof(int));
	ssize_t n = send_waiting(fd, &msg, deadline_ms);
	if (n < 0)
		return (int)n;
	return cni_rpc_write_all(fd, text + n, len - (size_t)n, deadline_ms);
}

/* Sends the request and reads the whole answer on a connected socket. */
static int exchange(int fd, const struct cni_rpc_request *req, int64_t deadline_ms, char **answer,
		    size_t *answer_len, const char **stage, char *why, size_t whylen)
{
	char *text;
	size_t len;
	*stage = "encoding the request for";
	int rc = cni_rpc_request_encode(req, &text, &len, why, whylen);
	if (rc < 0)
		return rc;
	if (len > CNI_RPC_MAX_REQUEST) { /* the daemon would refuse it: say why at once */
		snprintf(why, whylen,
			 "the request of %zu bytes exceeds the daemon's limit of %u bytes", len,
			 CNI_RPC_MAX_REQUEST);
		free(text);
		return -EMSGSIZE;
	}
	*stage = "writing to";
	int netns_fd = open_netns_to_pass(req);
	rc = write_request(fd, text, len, netns_fd, deadline_ms);
	if (netns_fd >= 0)
		close(netns_fd);
	free(text);
	if (rc == 0 && shutdown(fd, SHUT_WR) < 0)
		rc = -errno;
	if (rc < 0)
		return rc;
	*stage = "reading from";
	return cni_rpc_read_all(fd, CNI_RPC_MAX_MESSAGE, deadline_ms, answer, answer_len);
}

int cni_rpc_call(const char *socket_path, const struct cni_rpc_request *req, int timeout_ms,
		 struct cni_rpc_response *resp, struct cni_error *err)
{
	memset(resp, 0, sizeof(*resp));
	int64_t deadline_ms = cni_monotonic_ms() + timeout_ms;
	int fd = -1;
	int rc = connect_unix(socket_path, deadline_ms, &fd);
	if (rc == -ETIMEDOUT)
		return transport_error(err, rc, socket_path, timeout_ms, "connecting to");
	if (rc < 0) {
		cni_error_set(err, CNI_ERR_TRY_AGAIN_LATER, strerror(-rc),
			      "failed to connect to %s", socket_path);
		return rc;
	}
	char *answer = NULL, why[512] = "";
	size_t answer_len = 0;
	const char *stage = "";
	rc = exchange(fd, req, deadline_ms, &answer, &answer_len, &stage, why, sizeof(why));
	close(fd);
	if (rc == -EMSGSIZE && why[0])
		return cni_error_set(err, CNI_ERR_INTERNAL, why, "request too large");
	if (rc < 0 && why[0])
		return cni_error_set(err, CNI_ERR_INTERNAL, why, "rpc error: %s %s failed", stage,
				     socket_path);
	if (rc < 0)
		return transport_error(err, rc, socket_path, timeout_ms, stage);
	rc = cni_rpc_response_decode(answer, answer_len, resp, why, sizeof(why));
	free(answer);
	if (rc < 0) {
		cni_rpc_response_free(resp);
		cni_error_set(err, CNI_ERR_INTERNAL, why, "rpc error: invalid response from %s",
			      socket_path);
	}
	return rc;
}
