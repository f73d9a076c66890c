/* Stop tokens: a flag that other threads can poll cheaply, and a condition variable so that
 * sleepers wake up as soon as the flag is set. */
#include "internal.h"

#include <stdatomic.h>
#include <stdlib.h>

struct kube_stop {
	atomic_bool stopped;
	pthread_mutex_t lock;
	pthread_cond_t wake;
};

struct kube_stop *kube_stop_new(void)
{
	struct kube_stop *stop = calloc(1, sizeof(*stop));
	if (!stop)
		return NULL;
	atomic_init(&stop->stopped, false);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&stop->wake, &attr);
	pthread_condattr_destroy(&attr);
	pthread_mutex_init(&stop->lock, NULL);
	return stop;
}

void kube_stop_free(struct kube_stop *stop)
{
	if (!stop)
		return;
	pthread_cond_destroy(&stop->wake);
	pthread_mutex_destroy(&stop->lock);
	free(stop);
}

void kube_stop_signal(struct kube_stop *stop)
{
	pthread_mutex_lock(&stop->lock);
	atomic_store(&stop->stopped, true);
	pthread_cond_broadcast(&stop->wake);
	pthread_mutex_unlock(&stop->lock);
}

bool kube_stop_requested(const struct kube_stop *stop)
{
	return stop && atomic_load(&((struct kube_stop *)stop)->stopped);
}

static struct timespec deadline_after(long ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

bool kube_stop_sleep(struct kube_stop *stop, long ms)
{
	if (ms < 0)
		ms = 0;
	if (!stop) {
		struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
		while (nanosleep(&ts, &ts) != 0)
			;
		return false;
	}
	struct timespec until = deadline_after(ms);
	pthread_mutex_lock(&stop->lock);
	while (!atomic_load(&stop->stopped)) {
		if (pthread_cond_timedwait(&stop->wake, &stop->lock, &until) != 0)
			break; /* timed out */
	}
	bool stopped = atomic_load(&stop->stopped);
	pthread_mutex_unlock(&stop->lock);
	return stopped;
}
