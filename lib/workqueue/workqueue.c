/* The work queue: a FIFO of keys plus sets (jansson objects used as string-keyed hash tables,
 * touched only under the queue's lock). */
#include "workqueue/workqueue.h"

#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wake/wake.h"

struct workqueue {
	struct wake wake;   /* its lock guards every field below */
	json_t *fifo;	    /* array of keys ready to be taken, in order */
	json_t *dirty;	    /* keys queued (in fifo, or waiting for their processing to end) */
	json_t *processing; /* keys a worker holds */
	json_t *delayed;    /* key → due time (monotonic ms) */
	json_t *failures;   /* key → consecutive failures */
	long base_ms, max_ms;
	bool shut_down;
};

struct workqueue *workqueue_new(long base_ms, long max_ms)
{
	struct workqueue *q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	if (wake_init(&q->wake) < 0) {
		free(q);
		return NULL;
	}
	q->fifo = json_array();
	q->dirty = json_object();
	q->processing = json_object();
	q->delayed = json_object();
	q->failures = json_object();
	q->base_ms = base_ms > 0 ? base_ms : 1;
	q->max_ms = max_ms > q->base_ms ? max_ms : q->base_ms;
	if (!q->fifo || !q->dirty || !q->processing || !q->delayed || !q->failures) {
		workqueue_free(q);
		return NULL;
	}
	return q;
}

void workqueue_free(struct workqueue *q)
{
	if (!q)
		return;
	json_decref(q->fifo);
	json_decref(q->dirty);
	json_decref(q->processing);
	json_decref(q->delayed);
	json_decref(q->failures);
	wake_destroy(&q->wake);
	free(q);
}

/* Called with the lock held. */
static void add_locked(struct workqueue *q, const char *key)
{
	if (q->shut_down || json_object_get(q->dirty, key))
		return;
	json_object_set_new(q->dirty, key, json_true());
	if (json_object_get(q->processing, key))
		return; /* workqueue_done puts it back */
	json_array_append_new(q->fifo, json_string(key));
	wake_notify_one_locked(&q->wake);
}

void workqueue_add(struct workqueue *q, const char *key)
{
	wake_lock(&q->wake);
	add_locked(q, key);
	wake_unlock(&q->wake);
}

static void add_after_locked(struct workqueue *q, const char *key, long delay_ms)
{
	if (q->shut_down)
		return;
	if (delay_ms <= 0) {
		add_locked(q, key);
		return;
	}
	long due = wake_now_ms() + delay_ms;
	json_t *pending = json_object_get(q->delayed, key);
	if (pending && json_integer_value(pending) <= due)
		return;
	json_object_set_new(q->delayed, key, json_integer(due));
	wake_notify_locked(&q->wake); /* a waiter may need an earlier deadline */
}

void workqueue_add_after(struct workqueue *q, const char *key, long delay_ms)
{
	wake_lock(&q->wake);
	add_after_locked(q, key, delay_ms);
	wake_unlock(&q->wake);
}

void workqueue_add_rate_limited(struct workqueue *q, const char *key)
{
	wake_lock(&q->wake);
	json_int_t n = json_integer_value(json_object_get(q->failures, key));
	long delay = q->base_ms;
	for (json_int_t i = 0; i < n && delay < q->max_ms; i++)
		delay *= 2;
	if (delay > q->max_ms)
		delay = q->max_ms;
	json_object_set_new(q->failures, key, json_integer(n + 1));
	add_after_locked(q, key, delay);
	wake_unlock(&q->wake);
}

void workqueue_forget(struct workqueue *q, const char *key)
{
	wake_lock(&q->wake);
	json_object_del(q->failures, key);
	wake_unlock(&q->wake);
}

int workqueue_failures(struct workqueue *q, const char *key)
{
	wake_lock(&q->wake);
	int n = (int)json_integer_value(json_object_get(q->failures, key));
	wake_unlock(&q->wake);
	return n;
}

/* Moves due delayed keys to the fifo; returns the earliest remaining due time or -1. */
static long promote_due_locked(struct workqueue *q)
{
	long now = wake_now_ms(), next = -1;
	const char *key;
	json_t *due;
	void *tmp;
	json_object_foreach_safe(q->delayed, tmp, key, due)
	{
		long when = (long)json_integer_value(due);
		if (when <= now) {
			char *copy = strdup(key);
			json_object_del(q->delayed, key);
			if (copy)
				add_locked(q, copy);
			free(copy);
		} else if (next < 0 || when < next) {
			next = when;
		}
	}
	return next;
}

bool workqueue_get(struct workqueue *q, char **key)
{
	wake_lock(&q->wake);
	for (;;) {
		if (q->shut_down) {
			wake_unlock(&q->wake);
			return false;
		}
		long next = promote_due_locked(q);
		if (json_array_size(q->fifo) > 0)
			break;
		wake_wait_until_locked(&q->wake, next < 0 ? WAKE_NEVER : next);
	}
	char *copy = strdup(json_string_value(json_array_get(q->fifo, 0)));
	if (copy) {
		json_object_set_new(q->processing, copy, json_true());
		json_object_del(q->dirty, copy);
	}
	json_array_remove(q->fifo, 0);
	wake_unlock(&q->wake);
	*key = copy;
	return copy != NULL || workqueue_get(q, key);
}

void workqueue_done(struct workqueue *q, const char *key)
{
	wake_lock(&q->wake);
	json_object_del(q->processing, key);
	if (json_object_get(q->dirty, key) && !q->shut_down) {
		json_array_append_new(q->fifo, json_string(key));
		wake_notify_one_locked(&q->wake);
	}
	wake_unlock(&q->wake);
}

int workqueue_len(struct workqueue *q)
{
	wake_lock(&q->wake);
	promote_due_locked(q);
	int n = (int)json_array_size(q->fifo);
	wake_unlock(&q->wake);
	return n;
}

void workqueue_shutdown(struct workqueue *q)
{
	wake_lock(&q->wake);
	q->shut_down = true;
	wake_notify_locked(&q->wake);
	wake_unlock(&q->wake);
}
