/* A work queue of object keys for the controllers, like client-go's rate-limited queue: a key
 * queued several times before a worker takes it is processed once; a key being processed is not
 * handed to a second worker but queued again when done; failed keys come back after an
 * exponential backoff.
 * Thread-safe. Keys are copied in; workqueue_get hands out malloc'd copies. */
#ifndef COIL_WORKQUEUE_H
#define COIL_WORKQUEUE_H

#include <stdbool.h>

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

#endif
