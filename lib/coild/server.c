#include "coild/server.h"
#include "fileio/fileio.h"

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
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "log/log.h"

#define MAX_REQUEST_BYTES (1 << 20) /* a netconf with a large prevResult fits easily */
#define MAX_IN_FLIGHT	  512	    /* beyond this, accept() waits for a thread to finish */
#define IO_TIMEOUT_SEC	  70	    /* the plugin gives up after 60 s */

struct socket_server {
	int listen_fd;
	int wake_pipe[2]; /* written by shutdown(), polled by run() */
	char *path;
	socket_request_fn fn;
	void *ctx;
	pthread_mutex_t lock;
	pthread_cond_t idle;
	int in_flight;
};

struct connection {
	struct socket_server *server;
	int fd;
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

static void *serve_connection(void *arg)
{
	struct connection *c = arg;
	struct socket_server *s = c->server;
	size_t len = 0;
	char *request = NULL;
	/* No deadline: the socket's SO_RCVTIMEO bounds each read (EAGAIN ends it). */
	if (fileio_read_fd(c->fd, MAX_REQUEST_BYTES, -1, &request, &len) == 0) {
		char *response = s->fn(s->ctx, request, len);
		if (response) /* a client that went away is told nothing */
			(void)fd_write_all(c->fd, response, strlen(response));
		free(response);
		free(request);
	}
	close(c->fd);
	free(c);
	pthread_mutex_lock(&s->lock);
	s->in_flight--;
	pthread_cond_broadcast(&s->idle);
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

static void start_connection(struct socket_server *s, int fd)
{
	struct timeval tv = {.tv_sec = IO_TIMEOUT_SEC};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	struct connection *c = malloc(sizeof(*c));
	pthread_attr_t attr;
	pthread_t tid;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	pthread_mutex_lock(&s->lock);
	while (s->in_flight >= MAX_IN_FLIGHT)
		pthread_cond_wait(&s->idle, &s->lock);
	s->in_flight++;
	pthread_mutex_unlock(&s->lock);
	if (c) {
		c->server = s;
		c->fd = fd;
	}
	if (!c || pthread_create(&tid, &attr, serve_connection, c) != 0) {
		log_error("cannot start a thread for a request; dropping it");
		free(c);
		close(fd);
		pthread_mutex_lock(&s->lock);
		s->in_flight--;
		pthread_mutex_unlock(&s->lock);
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
		int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			start_connection(s, fd);
	}
	pthread_mutex_lock(&s->lock);
	while (s->in_flight > 0)
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
