/* The periodic block GC of the daemon on a thread of its own. The interval is measured on
 * the monotonic clock, so setting the wall clock neither delays nor hurries a GC run. */
#include "coild/coild.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"
#include "wake/wake.h"

struct coild_gc_timer {
	struct coild *coild; /* borrowed */
	long interval_ms;
	struct wake wake; /* stopped by coild_gc_timer_stop */
	pthread_t thread;
};

static void *gc_timer_thread(void *arg)
{
	struct coild_gc_timer *t = arg;
	while (!wake_sleep(&t->wake, t->interval_ms)) {
		char err[512];
		if (coild_gc(t->coild, err, sizeof(err)) < 0)
			log_error("periodic block GC failed", "error", err);
	}
	return NULL;
}

int coild_gc_timer_start(struct coild *d, long interval_ms, struct coild_gc_timer **out, char *err,
			 size_t errlen)
{
	struct coild_gc_timer *t = calloc(1, sizeof(*t));
	if (!t || wake_init(&t->wake) < 0) {
		free(t);
		snprintf(err, errlen, "block GC timer: out of memory");
		return -ENOMEM;
	}
	t->coild = d;
	/* Sub-second intervals too (tests use them), never a busy loop. */
	t->interval_ms = interval_ms > 10 ? interval_ms : 10;
	int rc = pthread_create(&t->thread, NULL, gc_timer_thread, t);
	if (rc) {
		wake_destroy(&t->wake);
		free(t);
		snprintf(err, errlen, "block GC timer: cannot start a thread: %s", strerror(rc));
		return -rc;
	}
	*out = t;
	return 0;
}

void coild_gc_timer_stop(struct coild_gc_timer *t)
{
	if (!t)
		return;
	wake_stop(&t->wake);
	pthread_join(t->thread, NULL);
	wake_destroy(&t->wake);
	free(t);
}
