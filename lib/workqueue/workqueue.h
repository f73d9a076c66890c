/* A work queue of object keys for the controllers, like client-go's rate-limited queue: a key
 * queued several times before a worker takes it is processed once; a key being processed is not
 * handed to a second worker but queued again when done; failed keys come back after an
 * exponential backoff.
 * Thread-safe. Keys are copied in; workqueue_get hands out malloc'd copies. */
#ifndef COIL_WORKQUEUE_H
#define COIL_WORKQUEUE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

struct workqueue;

/* Backoff of workqueue_add_rate_limited: base_ms * 2^failures, capped at max_ms. */
struct workqueue *workqueue_new(long base_ms, long max_ms); /* NULL on ENOMEM */
void workqueue_free(struct workqueue *q);

void workqueue_add(struct workqueue *q, const char *key);
/* Adds key after delay_ms (an earlier pending due time wins). */
void workqueue_add_after(struct workqueue *q, const char *key, long delay_ms);
/* Adds key after its backoff and counts one more failure for it. */
void workqueue_add_rate_limited(struct workqueue *q, const char *key);
/* Resets key's failure count (after a success). */
void workqueue_forget(struct workqueue *q, const char *key);
int workqueue_failures(struct workqueue *q, const char *key);

/* Blocks until a key is ready (*key gets a malloc'd copy the caller frees, and must be passed
 * to workqueue_done) or the queue is shut down (returns false). */
bool workqueue_get(struct workqueue *q, char **key);
void workqueue_done(struct workqueue *q, const char *key);

/* Number of keys ready to be taken (not counting delayed ones). */
int workqueue_len(struct workqueue *q);

/* Wakes every waiter; workqueue_get returns false from now on; adds are ignored. */
void workqueue_shutdown(struct workqueue *q);

/* ---- a worker thread draining a queue ---- */

/* Handles one key; < 0 means "retry with backoff" (err says why, logged with `what`). */
typedef int (*workqueue_fn)(void *arg, const char *key, char *err, size_t errlen);

struct workqueue_worker {
	struct workqueue *queue; /* owned: created by workqueue_worker_start */
	workqueue_fn fn;
	void *arg;
	const char *what; /* static name for the log */
	pthread_t thread;
	bool started;
};

/* Creates w->queue (backoff base_ms..max_ms) and a thread that takes keys and calls fn: a
 * failure is logged and the key re-added rate-limited, a success forgets its failures. On
 * error (message in err) w is left for workqueue_worker_stop. */
int workqueue_worker_start(struct workqueue_worker *w, const char *what, workqueue_fn fn, void *arg,
			   long base_ms, long max_ms, char *err, size_t errlen);
/* Shuts the queue down, joins the thread (the key in hand is finished first) and frees the
 * queue. Safe on a zeroed or half-started worker. */
void workqueue_worker_stop(struct workqueue_worker *w);

#endif
