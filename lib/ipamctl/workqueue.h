/* A work queue of object keys like client-go's rate-limited queue: a key queued several times
 * before a worker takes it is processed once; a key being processed is not handed to a second
 * worker but queued again when done; failed keys come back after an exponential backoff.
 * Thread-safe. Keys are copied in; ipamctl_queue_get hands out malloc'd copies. */
#ifndef COIL_IPAMCTL_WORKQUEUE_H
#define COIL_IPAMCTL_WORKQUEUE_H

#include <stdbool.h>

struct ipamctl_queue;

/* Backoff of ipamctl_queue_add_rate_limited: base_ms * 2^failures, capped at max_ms. */
struct ipamctl_queue *ipamctl_queue_new(long base_ms, long max_ms); /* NULL on ENOMEM */
void ipamctl_queue_free(struct ipamctl_queue *q);

void ipamctl_queue_add(struct ipamctl_queue *q, const char *key);
/* Adds key after delay_ms (an earlier pending due time wins). */
void ipamctl_queue_add_after(struct ipamctl_queue *q, const char *key, long delay_ms);
/* Adds key after its backoff and counts one more failure for it. */
void ipamctl_queue_add_rate_limited(struct ipamctl_queue *q, const char *key);
/* Resets key's failure count (after a success). */
void ipamctl_queue_forget(struct ipamctl_queue *q, const char *key);
int ipamctl_queue_failures(struct ipamctl_queue *q, const char *key);

/* Blocks until a key is ready (*key gets a malloc'd copy the caller frees, and must be passed
 * to ipamctl_queue_done) or the queue is shut down (returns false). */
bool ipamctl_queue_get(struct ipamctl_queue *q, char **key);
void ipamctl_queue_done(struct ipamctl_queue *q, const char *key);

/* Number of keys ready to be taken (not counting delayed ones). */
int ipamctl_queue_len(struct ipamctl_queue *q);

/* Wakes every waiter; ipamctl_queue_get returns false from now on; adds are ignored. */
void ipamctl_queue_shutdown(struct ipamctl_queue *q);

#endif
