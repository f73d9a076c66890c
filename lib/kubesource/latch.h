/* The hand-off from the BlockRequest watcher to the acquisition waiting for its request
 * (lossless): results are kept keyed by the request's UID, so a result that arrives
 * before the waiter starts waiting is not lost, and results of other (stale) requests never
 * wake the wrong waiter. Thread-safe. */
#ifndef COIL_KUBESOURCE_LATCH_H
#define COIL_KUBESOURCE_LATCH_H

#include "wake/wake.h"

#include "kubesource/parse.h"

#define LATCH_SLOTS 16 /* recent results kept; the oldest is dropped */

struct request_latch {
	struct wake posted; /* notified on every post; its lock guards the fields below */
	struct request_result slots[LATCH_SLOTS];
	size_t used, next;
};

/* Returns 0 or a negative errno. */
int latch_init(struct request_latch *l);
void latch_destroy(struct request_latch *l);

/* Records the newest state of one request (replacing an older state of the same UID) and
 * wakes the waiters. */
void latch_post(struct request_latch *l, const struct request_result *r);

/* Waits until a finished (COMPLETE or FAILED) result for uid is posted or the monotonic
 * clock passes until_ms (see wake_now_ms). Returns 0 with *out filled, or -ETIMEDOUT. */
int latch_wait(struct request_latch *l, const char *uid, long until_ms, struct request_result *out);

#endif
