/* The worker loop every controller runs per queue: take a key, handle it, back off on failure. */
#include "workqueue/workqueue.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"

static void *worker_main(void *arg)
{
	struct workqueue_worker *w = arg;
	char *key, err[1024];
	while (workqueue_get(w->queue, &key)) {
		err[0] = '\0';
		if (w->fn(w->arg, key, err, sizeof(err)) < 0) {
			log_error("reconcile failed; will retry", "controller", w->what, "name",
				  key, "error", err);
			workqueue_add_rate_limited(w->queue, key);
		} else {
			workqueue_forget(w->queue, key);
		}
		workqueue_done(w->queue, key);
		free(key);
	}
	return NULL;
}

int workqueue_worker_start(struct workqueue_worker *w, const char *what, workqueue_fn fn, void *arg,
			   long base_ms, long max_ms, char *err, size_t errlen)
{
	*w = (struct workqueue_worker){.fn = fn, .arg = arg, .what = what};
	w->queue = workqueue_new(base_ms, max_ms);
	if (!w->queue) {
		snprintf(err, errlen, "%s: out of memory", what);
		return -ENOMEM;
	}
	int ret = pthread_create(&w->thread, NULL, worker_main, w);
	if (ret) {
		snprintf(err, errlen, "%s: cannot start a thread: %s", what, strerror(ret));
		return -ret;
	}
	w->started = true;
	return 0;
}

void workqueue_worker_stop(struct workqueue_worker *w)
{
	if (w->queue)
		workqueue_shutdown(w->queue);
	if (w->started)
		pthread_join(w->thread, NULL);
	workqueue_free(w->queue);
	w->queue = NULL;
	w->started = false;
}
