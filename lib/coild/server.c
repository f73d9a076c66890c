/* Bounds (docs/behaviour/daemon.md, 'The socket'): at most MAX_IN_FLIGHT requests are
 * served at once; beyond that up to MAX_REJECTING more connections are read and answered
 * "busy" (CNI code 11) at once, so a runtime retries instead of waiting. A client must send
 * its whole request within READ_TIMEOUT_MS of connecting, so idle connections give their
 * slot back quickly instead of holding it for the write timeout. */
#include "coild/server.h"
#include "cni/cni.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log/log.h"

#define MAX_IN_FLIGHT	 512
#define MAX_REJECTING	 64
#define READ_TIMEOUT_MS	 5000  /* the plugin writes its request right after connecting */
#define REJECT_READ_MS	 1000  /* a busy answer waits less for the request */
#define WRITE_TIMEOUT_MS 70000 /* the plugin gives up after 60 s */

struct socket_server {
	int listen_fd;
	int wake_pipe[2]; /* written by shutdown(), polled by run() */
	char *path;
	socket_request_fn fn;
	void *ctx;
	pthread_mutex_t lock;
	pthread_cond_t idle;
	int in_flight; /* connections served by fn */
	int rejecting; /* connections being answered "busy" */
};

struct connection {
	struct socket_server *server;
	int fd;
	bool reject; /* answer "busy" instead of serving */
};

int socket_server_open(const char *path, socket_request_fn fn, void *ctx,
		       struct socket_server **out, char *err, size_t errlen)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	strcpy(sun.sun_path, path);
	struct socket_server *s = calloc(1, sizeof(*s));
	if (!s || !(s->path = strdup(path))) {
		free(s);
		return -ENOMEM;
	}
	s->fn = fn;
	s->ctx = ctx;
	s->wake_pipe[0] = s->wake_pipe[1] = -1;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->idle, NULL);
	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int rc = 0;
	if (s->listen_fd < 0 || pipe2(s->wake_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		rc = -errno;
	if (rc == 0 && unlink(path) < 0 && errno != ENOENT)
		rc = -errno;
	mode_t old = umask(0177);
	if (rc == 0 && bind(s->listen_fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		rc = -errno;
	umask(old);
	if (rc == 0 && listen(s->listen_fd, 1024) < 0)
		rc = -errno;
	if (rc < 0) {
		snprintf(err, errlen, "listen on %s: %s", path, strerror(-rc));
		socket_server_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

/* An error answer in the daemon's response format (malloc'd; NULL when out of memory). */
static char *error_answer(const char *status, int code, const char *msg, const char *details)
{
	struct cni_rpc_response resp = {0};
	char *text = NULL, why[128];
	size_t len;
	cni_rpc_response_set_error(&resp, status, code, msg, details);
	if (cni_rpc_response_encode(&resp, &text, &len, why, sizeof(why)) < 0)
		text = NULL;
	cni_rpc_response_free(&resp);
	return text;
}

/* The answer to one connection's request (malloc'd, or NULL: close without answering). */
static char *answer(struct connection *c)
{
	struct socket_server *s = c->server;
	long wait = c->reject ? REJECT_READ_MS : READ_TIMEOUT_MS;
	char *request = NULL, *response = NULL, details[160];
	size_t len = 0;
	int rc =
	    cni_rpc_read_all(c->fd, CNI_RPC_MAX_REQUEST, cni_monotonic_ms() + wait, &request, &len);
	if (rc == -EMSGSIZE) {
		snprintf(details, sizeof(details),
			 "the request exceeds the daemon's limit of %u bytes", CNI_RPC_MAX_REQUEST);
		log_warn("refused an oversized request", "error", details);
		response = error_answer("ResourceExhausted", CNI_ERR_INTERNAL, "request too large",
					details);
	} else if (rc == 0 && c->reject) {
		snprintf(details, sizeof(details), "%d requests in flight; try again later",
			 MAX_IN_FLIGHT);
		response =
		    error_answer("Unavailable", CNI_ERR_TRY_AGAIN_LATER, "coild is busy", details);
	} else if (rc == 0) {
		response = s->fn(s->ctx, request, len);
	} /* else: a client that sent nothing in time or went away is told nothing */
	free(request);
	return response;
}

static void give_slot(struct socket_server *s, bool reject)
{
	pthread_mutex_lock(&s->lock);
	if (reject)
		s->rejecting--;
	else
		s->in_flight--;
	pthread_cond_broadcast(&s->idle);
	pthread_mutex_unlock(&s->lock);
}

static void *serve_connection(void *arg)
{
	struct connection *c = arg;
	struct socket_server *s = c->server;
	char *response = answer(c);
	if (response)
		(void)cni_rpc_write_all(c->fd, response, strlen(response),
					cni_monotonic_ms() + WRITE_TIMEOUT_MS);
	free(response);
	close(c->fd);
	give_slot(s, c->reject);
	free(c);
	return NULL;
}

/* Takes a slot: a serving one if free, else a rejecting one; waits only when both are
 * full (every slot then frees within READ_TIMEOUT_MS or the time a request takes). */
static bool take_slot(struct socket_server *s)
{
	pthread_mutex_lock(&s->lock);
	while (s->in_flight >= MAX_IN_FLIGHT && s->rejecting >= MAX_REJECTING)
		pthread_cond_wait(&s->idle, &s->lock);
	bool reject = s->in_flight >= MAX_IN_FLIGHT;
	if (reject)
		s->rejecting++;
	else
		s->in_flight++;
	pthread_mutex_unlock(&s->lock);
	return reject;
}

static void start_connection(struct socket_server *s, int fd)
{
	struct connection *c = malloc(sizeof(*c));
	pthread_attr_t attr;
	pthread_t tid;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	bool reject = take_slot(s);
	if (c)
		*c = (struct connection){.server = s, .fd = fd, .reject = reject};
	if (!c || pthread_create(&tid, &attr, serve_connection, c) != 0) {
		log_error("cannot start a thread for a request; dropping it");
		free(c);
		close(fd);
		give_slot(s, reject);
	}
	pthread_attr_destroy(&attr);
}

int socket_server_run(struct socket_server *s)
{
	struct pollfd fds[2] = {{.fd = s->listen_fd, .events = POLLIN},
				{.fd = s->wake_pipe[0], .events = POLLIN}};
	int rc = 0;
	for (;;) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		if (fds[1].revents) {
			/* Reading the byte orders this thread after the one that asked us to
			 * stop, which may still be returning from socket_server_shutdown(). */
			char byte;
			if (read(s->wake_pipe[0], &byte, 1) < 0 && errno != EAGAIN)
				rc = -errno;
			break;
		}
		int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd >= 0)
			start_connection(s, fd);
	}
	pthread_mutex_lock(&s->lock);
	while (s->in_flight > 0 || s->rejecting > 0)
		pthread_cond_wait(&s->idle, &s->lock);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

void socket_server_shutdown(struct socket_server *s)
{
	char byte = 1;
	if (write(s->wake_pipe[1], &byte, 1) < 0) {
		/* the pipe is full: a wake-up is already pending */
	}
}

void socket_server_close(struct socket_server *s)
{
	if (!s)
		return;
	if (s->listen_fd >= 0) {
		close(s->listen_fd);
		unlink(s->path);
	}
	for (int i = 0; i < 2; i++) {
		if (s->wake_pipe[i] >= 0)
			close(s->wake_pipe[i]);
	}
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->idle);
	free(s->path);
	free(s);
}
