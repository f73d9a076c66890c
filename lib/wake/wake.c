#include "wake/wake.h"

#include <errno.h>
#include <time.h>

int wake_init(struct wake *w)
{
	pthread_condattr_t attr;
	int rc = pthread_condattr_init(&attr);
	if (rc)
		return -rc;
	rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (rc == 0)
		rc = pthread_cond_init(&w->cond, &attr);
	pthread_condattr_destroy(&attr);
	if (rc)
		return -rc;
	rc = pthread_mutex_init(&w->lock, NULL);
	if (rc) {
		pthread_cond_destroy(&w->cond);
		return -rc;
	}
	w->stopped = false;
	return 0;
}

void wake_destroy(struct wake *w)
{
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
}

long wake_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

long wake_deadline_after(long ms)
{
	return ms < 0 ? WAKE_NEVER : wake_now_ms() + ms;
}

void wake_lock(struct wake *w)
{
	pthread_mutex_lock(&w->lock);
}

void wake_unlock(struct wake *w)
{
	pthread_mutex_unlock(&w->lock);
}

bool wake_wait_until_locked(struct wake *w, long deadline_ms)
{
	if (deadline_ms < 0) {
		pthread_cond_wait(&w->cond, &w->lock);
		return true;
	}
	if (wake_now_ms() >= deadline_ms)
		return false;
	struct timespec until = {deadline_ms / 1000, (deadline_ms % 1000) * 1000000L};
	/* A timeout is confirmed against the clock: the caller's deadline is the truth. */
	if (pthread_cond_timedwait(&w->cond, &w->lock, &until) == ETIMEDOUT)
		return wake_now_ms() < deadline_ms;
	return true;
}

void wake_notify_locked(struct wake *w)
{
	pthread_cond_broadcast(&w->cond);
}

void wake_notify_one_locked(struct wake *w)
{
	pthread_cond_signal(&w->cond);
}

void wake_notify(struct wake *w)
{
	pthread_mutex_lock(&w->lock);
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

void wake_stop(struct wake *w)
{
	pthread_mutex_lock(&w->lock);
	w->stopped = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

bool wake_stopped(struct wake *w)
{
	pthread_mutex_lock(&w->lock);
	bool stopped = w->stopped;
	pthread_mutex_unlock(&w->lock);
	return stopped;
}

bool wake_sleep(struct wake *w, long ms)
{
	long deadline = wake_now_ms() + (ms > 0 ? ms : 0);
	pthread_mutex_lock(&w->lock);
	while (!w->stopped && wake_wait_until_locked(w, deadline))
		;
	bool stopped = w->stopped;
	pthread_mutex_unlock(&w->lock);
	return stopped;
}
