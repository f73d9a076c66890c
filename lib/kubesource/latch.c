/* A small UID-keyed mailbox of BlockRequest results with a condition variable. */
#include "kubesource/latch.h"

#include <errno.h>
#include <string.h>
#include <time.h>

long latch_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

void latch_init(struct request_latch *l)
{
	memset(l, 0, sizeof(*l));
	pthread_mutex_init(&l->lock, NULL);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&l->posted, &attr);
	pthread_condattr_destroy(&attr);
}

void latch_destroy(struct request_latch *l)
{
	pthread_cond_destroy(&l->posted);
	pthread_mutex_destroy(&l->lock);
}

/* With the lock held: the slot of uid or NULL. */
static struct request_result *find_slot(struct request_latch *l, const char *uid)
{
	for (size_t i = 0; i < l->used; i++)
		if (strcmp(l->slots[i].uid, uid) == 0)
			return &l->slots[i];
	return NULL;
}

void latch_post(struct request_latch *l, const struct request_result *r)
{
	pthread_mutex_lock(&l->lock);
	struct request_result *slot = find_slot(l, r->uid);
	if (!slot) {
		slot = &l->slots[l->next];
		l->next = (l->next + 1) % LATCH_SLOTS;
		if (l->used < LATCH_SLOTS)
			l->used++;
	}
	*slot = *r;
	pthread_cond_broadcast(&l->posted);
	pthread_mutex_unlock(&l->lock);
}

int latch_wait(struct request_latch *l, const char *uid, long until_ms, struct request_result *out)
{
	struct timespec until = {until_ms / 1000, (until_ms % 1000) * 1000000L};
	int ret = -ETIMEDOUT;
	pthread_mutex_lock(&l->lock);
	for (;;) {
		const struct request_result *slot = find_slot(l, uid);
		if (slot && slot->state != REQUEST_IN_PROGRESS) {
			*out = *slot;
			ret = 0;
			break;
		}
		if (latch_now_ms() >= until_ms ||
		    pthread_cond_timedwait(&l->posted, &l->lock, &until) == ETIMEDOUT) {
			slot = find_slot(l, uid); /* one last look after the timeout */
			if (slot && slot->state != REQUEST_IN_PROGRESS) {
				*out = *slot;
				ret = 0;
			}
			break;
		}
	}
	pthread_mutex_unlock(&l->lock);
	return ret;
}
