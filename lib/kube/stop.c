/* Stop tokens: a flag that other threads can poll cheaply, and a wake so that sleepers wake
 * up as soon as the flag is set. */
#include "internal.h"

#include <stdatomic.h>
#include <stdlib.h>

#include "wake/wake.h"

struct kube_stop {
	atomic_bool stopped; /* mirrors wake.stopped for lock-free polling */
	struct wake wake;
};

struct kube_stop *kube_stop_new(void)
{
	struct kube_stop *stop = calloc(1, sizeof(*stop));
	if (!stop)
		return NULL;
	atomic_init(&stop->stopped, false);
	if (wake_init(&stop->wake) < 0) {
		free(stop);
		return NULL;
	}
	return stop;
}

void kube_stop_free(struct kube_stop *stop)
{
	if (!stop)
		return;
	wake_destroy(&stop->wake);
	free(stop);
}

void kube_stop_signal(struct kube_stop *stop)
{
	atomic_store(&stop->stopped, true);
	wake_stop(&stop->wake);
}

bool kube_stop_requested(const struct kube_stop *stop)
{
	return stop && atomic_load(&((struct kube_stop *)stop)->stopped);
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
	return wake_sleep(&stop->wake, ms);
}
