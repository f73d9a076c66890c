/* Bounds (docs/behaviour/daemon.md, 'The socket'): at most MAX_IN_FLIGHT requests are
 * read, queued or served at once; beyond that up to MAX_REJECTING more connections are read
 * and answered "busy" (CNI code 11) at once, so a runtime retries instead of waiting. A
 * client must send its whole request within READ_TIMEOUT_MS of connecting, so idle
 * connections give their slot back quickly instead of holding it for the write timeout.
 *
 * Threads: the one running socket_server_run() accepts and reads every connection with
 * poll(2) (a slow or idle client costs a slot and a file descriptor, never a thread), and
 * hands each complete request to a fixed pool of WORKERS threads through a FIFO queue. A
 * worker runs the request function and writes the answer. Before, each connection had a
 * thread of its own: hundreds of short-lived threads in a burst of pod starts, whose stacks
 * glibc keeps cached afterwards (about 2.5 MiB of resident memory after 100 pods). */
#include "coild/server.h"
#include "cni/cni.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log/log.h"

#define MAX_IN_FLIGHT 512
#define MAX_REJECTING 64
#define MAX_READING   (MAX_IN_FLIGHT + MAX_REJECTING)
#define WORKERS	      16 /* requests served at once; the rest wait in the queue */
/* When every worker is busy and the oldest queued request has waited this long, the
 * workers are stuck in waits (a block acquisition waits for the API server up to 27 s, and
 * holds its pool's lock meanwhile), not busy computing: an extra worker is started for the
 * queue, which exits once the queue is empty. A DEL never waits behind such ADDs for long. */
#define EXTRA_AFTER_MS	 1000
#define MAX_EXTRA	 (MAX_IN_FLIGHT - WORKERS)
#define READ_TIMEOUT_MS	 5000  /* the plugin writes its request right after connecting */
#define REJECT_READ_MS	 1000  /* a busy answer waits less for the request */
#define WRITE_TIMEOUT_MS 70000 /* the plugin gives up after 60 s */
#define FULL_POLL_MS	 20    /* when every slot is taken: look again this often */
#define READ_CHUNK	 4096
#define TRIM_AFTER	 64 /* requests between two heap trims, at the end of a burst */

/* One connection, from accept to close. */
struct connection {
	int fd;
	int passed_fd; /* a descriptor sent with the request (SCM_RIGHTS), or -1 */
	bool reject;   /* answer "busy" instead of serving */
	int64_t deadline_ms;
	int64_t queued_ms; /* when it was handed to the workers */
	char *buf;	   /* the request so far, NUL-terminated when complete */
	size_t len, cap;
	struct connection *next; /* in the work queue */
};

struct socket_server {
	int listen_fd;
	int wake_pipe[2]; /* written by shutdown(), polled by run() */
	char *path;
	socket_request_fn fn;
	void *ctx;
	pthread_t workers[WORKERS];
	int nworkers;
	pthread_mutex_t lock;
	pthread_cond_t work;		/* the queue got a request, or stopping was set */
	pthread_cond_t drained;		/* an extra worker exited */
	struct connection *head, *tail; /* FIFO of complete requests */
	int queued_or_served;		/* requests handed to the workers, not yet closed */
	bool stopping;			/* workers exit once the queue is empty */
	int since_trim;			/* requests done since the last malloc_trim */
	int busy;			/* requests being served (by any worker) */
	int extra;			/* extra workers running (EXTRA_AFTER_MS) */
};

/* The reader's own state (only the thread in socket_server_run touches it). */
struct reader {
	struct connection *conns[MAX_READING];
	int n, reading_served; /* connections being read; of those, ones to be served */
	int rejecting;
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
	pthread_cond_init(&s->work, NULL);
	pthread_cond_init(&s->drained, NULL);
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

static void connection_free(struct connection *c)
{
	if (c->passed_fd >= 0)
		close(c->passed_fd);
	close(c->fd);
	free(c->buf);
	free(c);
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

/* Answers an oversized or "busy" request from the reader thread: the answer is small and
 * the socket's buffer empty, so a non-blocking send takes it whole (or the client is gone). */
static void answer_now(struct connection *c, bool oversized)
{
	char details[160], *text;
	if (oversized) {
		snprintf(details, sizeof(details),
			 "the request exceeds the daemon's limit of %u bytes", CNI_RPC_MAX_REQUEST);
		log_warn("refused an oversized request", "error", details);
		text = error_answer("ResourceExhausted", CNI_ERR_INTERNAL, "request too large",
				    details);
	} else {
		snprintf(details, sizeof(details), "%d requests in flight; try again later",
			 MAX_IN_FLIGHT);
		text =
		    error_answer("Unavailable", CNI_ERR_TRY_AGAIN_LATER, "coild is busy", details);
	}
	if (text)
		(void)cni_rpc_write_all(c->fd, text, strlen(text), cni_monotonic_ms());
	free(text);
}

/* ---- the workers ---------------------------------------------------------------------- */

/* The oldest queued request, now counted busy; NULL when stopping (or, for an extra
 * worker, when the queue is empty: it does not wait). */
static struct connection *next_request(struct socket_server *s, bool extra)
{
	pthread_mutex_lock(&s->lock);
	while (!s->head && !s->stopping && !extra)
		pthread_cond_wait(&s->work, &s->lock);
	struct connection *c = s->head;
	if (c) {
		s->head = c->next;
		if (!s->head)
			s->tail = NULL;
		s->busy++;
	}
	pthread_mutex_unlock(&s->lock);
	return c;
}

/* Counts a finished request. True at the end of a burst (nothing queued or served) once
 * TRIM_AFTER requests were done since the last trim: then the heap pages they freed go back
 * to the kernel (about 0.4 MiB after 100 ADDs). Not after every request: the next one would
 * fault the pages in again on its path. */
static bool request_done(struct socket_server *s)
{
	pthread_mutex_lock(&s->lock);
	s->busy--;
	s->since_trim++;
	bool trim = --s->queued_or_served == 0 && s->since_trim >= TRIM_AFTER;
	if (trim)
		s->since_trim = 0;
	pthread_mutex_unlock(&s->lock);
	return trim;
}

static void serve_queue(struct socket_server *s, bool extra)
{
	struct connection *c;
	while ((c = next_request(s, extra))) {
		char *response = s->fn(s->ctx, c->buf, c->len, c->passed_fd);
		if (response)
			(void)cni_rpc_write_all(c->fd, response, strlen(response),
						cni_monotonic_ms() + WRITE_TIMEOUT_MS);
		free(response);
		connection_free(c);
		if (request_done(s))
			malloc_trim(0);
	}
}

static void *worker_main(void *arg)
{
	serve_queue(arg, false);
	return NULL;
}

static void *extra_worker_main(void *arg)
{
	struct socket_server *s = arg;
	serve_queue(s, true);
	pthread_mutex_lock(&s->lock);
	s->extra--;
	pthread_cond_broadcast(&s->drained);
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

static void start_extra_worker(struct socket_server *s)
{
	pthread_attr_t attr;
	pthread_t tid;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	int rc = pthread_create(&tid, &attr, extra_worker_main, s);
	pthread_attr_destroy(&attr);
	if (rc == 0) {
		log_info("socket workers all busy for 1 s; started an extra one");
		return;
	}
	pthread_mutex_lock(&s->lock);
	s->extra--;
	pthread_mutex_unlock(&s->lock);
}

/* Starts an extra worker when every worker is busy and the oldest queued request waited
 * EXTRA_AFTER_MS. Returns the ms until it is worth looking again (-1: the queue is empty). */
static int maybe_start_extra(struct socket_server *s)
{
	int64_t now = cni_monotonic_ms();
	pthread_mutex_lock(&s->lock);
	int64_t waited = s->head ? now - s->head->queued_ms : -1;
	bool start = waited >= EXTRA_AFTER_MS && s->busy >= s->nworkers + s->extra &&
		     s->extra < MAX_EXTRA && !s->stopping;
	if (start)
		s->extra++;
	pthread_mutex_unlock(&s->lock);
	if (start)
		start_extra_worker(s);
	if (waited < 0)
		return -1;
	return waited >= EXTRA_AFTER_MS ? EXTRA_AFTER_MS / 4 : (int)(EXTRA_AFTER_MS - waited);
}

static void enqueue(struct socket_server *s, struct connection *c)
{
	pthread_mutex_lock(&s->lock);
	c->next = NULL;
	if (s->tail)
		s->tail->next = c;
	else
		s->head = c;
	s->tail = c;
	c->queued_ms = cni_monotonic_ms();
	s->queued_or_served++;
	pthread_cond_signal(&s->work);
	pthread_mutex_unlock(&s->lock);
}

static int served_count(struct socket_server *s)
{
	pthread_mutex_lock(&s->lock);
	int n = s->queued_or_served;
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* ---- the reader ----------------------------------------------------------------------- */

/* Keeps the first descriptor of an SCM_RIGHTS message and closes any other. */
static void take_passed_fds(struct connection *c, struct msghdr *msg)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR(msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(fd));
			if (c->passed_fd < 0)
				c->passed_fd = fd;
			else
				close(fd);
		}
	}
}

enum read_state { READ_MORE, READ_DONE, READ_TOO_LARGE, READ_FAILED };

/* One non-blocking read of a connection's request (and any descriptor sent with it). */
static enum read_state read_some(struct connection *c)
{
	if (c->cap - c->len < READ_CHUNK + 1) {
		size_t cap = c->cap ? c->cap * 2 : READ_CHUNK * 2;
		char *buf = realloc(c->buf, cap);
		if (!buf)
			return READ_FAILED;
		c->buf = buf;
		c->cap = cap;
	}
	union {
		char buf[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} control;
	struct iovec iov = {.iov_base = c->buf + c->len, .iov_len = c->cap - c->len - 1};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = control.buf,
			     .msg_controllen = sizeof(control.buf)};
	ssize_t n = recvmsg(c->fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? READ_MORE : READ_FAILED;
	take_passed_fds(c, &msg);
	if (n == 0) {
		c->buf[c->len] = '\0';
		return READ_DONE;
	}
	c->len += (size_t)n;
	return c->len > CNI_RPC_MAX_REQUEST ? READ_TOO_LARGE : READ_MORE;
}

static void reader_drop(struct reader *r, int i)
{
	struct connection *c = r->conns[i];
	if (c->reject)
		r->rejecting--;
	else
		r->reading_served--;
	r->conns[i] = r->conns[--r->n];
}

/* Reads what connection i has; a complete request goes to the workers (or is answered
 * "busy"), a failed or oversized one is answered or closed. */
static void reader_service(struct socket_server *s, struct reader *r, int i)
{
	struct connection *c = r->conns[i];
	enum read_state st = read_some(c);
	if (st == READ_MORE)
		return;
	reader_drop(r, i);
	if (st == READ_DONE && !c->reject)
		return enqueue(s, c);
	if (st == READ_DONE || st == READ_TOO_LARGE)
		answer_now(c, st == READ_TOO_LARGE);
	connection_free(c);
}

/* Whether a new connection can be taken now: a serving slot or a rejecting one is free. */
static bool has_room(struct socket_server *s, struct reader *r)
{
	return r->n < MAX_READING && (r->reading_served + served_count(s) < MAX_IN_FLIGHT ||
				      r->rejecting < MAX_REJECTING);
}

static void reader_accept(struct socket_server *s, struct reader *r)
{
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	struct connection *c = calloc(1, sizeof(*c));
	if (!c) {
		log_error("out of memory for a request; dropping it");
		close(fd);
		return;
	}
	c->fd = fd;
	c->passed_fd = -1;
	c->reject = r->reading_served + served_count(s) >= MAX_IN_FLIGHT;
	c->deadline_ms = cni_monotonic_ms() + (c->reject ? REJECT_READ_MS : READ_TIMEOUT_MS);
	if (c->reject)
		r->rejecting++;
	else
		r->reading_served++;
	r->conns[r->n++] = c;
}

/* Closes, unanswered, the connections whose client sent nothing complete in time; returns
 * the poll timeout until the next deadline (-1: none). */
static int expire(struct reader *r)
{
	int64_t now = cni_monotonic_ms(), next = -1;
	for (int i = r->n - 1; i >= 0; i--) {
		struct connection *c = r->conns[i];
		if (c->deadline_ms <= now) {
			reader_drop(r, i);
			connection_free(c);
		} else if (next < 0 || c->deadline_ms - now < next) {
			next = c->deadline_ms - now;
		}
	}
	return (int)next;
}

/* ---- running ---------------------------------------------------------------------------- */

static int start_workers(struct socket_server *s)
{
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	int rc = 0;
	while (s->nworkers < WORKERS && rc == 0) {
		rc = -pthread_create(&s->workers[s->nworkers], &attr, worker_main, s);
		if (rc == 0)
			s->nworkers++;
	}
	pthread_attr_destroy(&attr);
	if (rc < 0 && s->nworkers > 0) {
		log_warn("fewer socket workers than wanted", "error", strerror(-rc));
		rc = 0;
	}
	return rc;
}

static void stop_workers(struct socket_server *s)
{
	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	pthread_cond_broadcast(&s->work);
	pthread_mutex_unlock(&s->lock);
	for (int i = 0; i < s->nworkers; i++)
		pthread_join(s->workers[i], NULL);
	pthread_mutex_lock(&s->lock);
	while (s->extra > 0)
		pthread_cond_wait(&s->drained, &s->lock);
	pthread_mutex_unlock(&s->lock);
	s->nworkers = 0;
}

/* One round of the reader: wait for the listening socket, the wake-up pipe and the
 * connections being read; returns 1 to go on, 0 when asked to stop, -errno on failure. */
static int reader_round(struct socket_server *s, struct reader *r, struct pollfd *fds)
{
	int timeout = expire(r);
	int extra_check = maybe_start_extra(s);
	if (extra_check >= 0 && (timeout < 0 || extra_check < timeout))
		timeout = extra_check;
	bool room = has_room(s, r);
	fds[0] = (struct pollfd){.fd = room ? s->listen_fd : -1, .events = POLLIN};
	fds[1] = (struct pollfd){.fd = s->wake_pipe[0], .events = POLLIN};
	for (int i = 0; i < r->n; i++)
		fds[2 + i] = (struct pollfd){.fd = r->conns[i]->fd, .events = POLLIN};
	if (!room && (timeout < 0 || timeout > FULL_POLL_MS))
		timeout = FULL_POLL_MS; /* a worker may free a slot without telling us */
	int n = r->n;
	if (poll(fds, (nfds_t)(2 + n), timeout) < 0)
		return errno == EINTR ? 1 : -errno;
	if (fds[1].revents) {
		/* Reading the byte orders this thread after the one that asked us to stop,
		 * which may still be returning from socket_server_shutdown(). */
		char byte;
		return read(s->wake_pipe[0], &byte, 1) < 0 && errno != EAGAIN ? -errno : 0;
	}
	/* Backwards: serving a connection moves the last one into its place. */
	for (int i = n - 1; i >= 0; i--) {
		if (fds[2 + i].revents)
			reader_service(s, r, i);
	}
	if (fds[0].revents)
		reader_accept(s, r);
	return 1;
}

int socket_server_run(struct socket_server *s)
{
	struct reader *r = calloc(1, sizeof(*r));
	struct pollfd *fds = calloc(2 + MAX_READING, sizeof(*fds));
	int rc = r && fds ? start_workers(s) : -ENOMEM;
	if (rc == 0) {
		do
			rc = reader_round(s, r, fds);
		while (rc == 1);
	}
	for (int i = 0; r && i < r->n; i++)
		connection_free(r->conns[i]); /* not complete: nobody is waiting for an answer */
	stop_workers(s);		      /* after the queue is served */
	free(fds);
	free(r);
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
	pthread_cond_destroy(&s->work);
	pthread_cond_destroy(&s->drained);
	free(s->path);
	free(s);
}
