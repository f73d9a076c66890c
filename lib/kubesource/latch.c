/* A small UID-keyed mailbox of BlockRequest results with a condition variable. */
#include "kubesource/latch.h"

#include <errno.h>
#include <string.h>

int latch_init(struct request_latch *l)
{
	memset(l, 0, sizeof(*l));
	return wake_init(&l->posted);
}

void latch_destroy(struct request_latch *l)
{
	wake_destroy(&l->posted);
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
	wake_lock(&l->posted);
	struct request_result *slot = find_slot(l, r->uid);
	if (!slot) {
		slot = &l->slots[l->next];
		l->next = (l->next + 1) % LATCH_SLOTS;
		if (l->used < LATCH_SLOTS)
			l->used++;
	}
	*slot = *r;
	wake_notify_locked(&l->posted);
	wake_unlock(&l->posted);
}

int latch_wait(struct request_latch *l, const char *uid, long until_ms, struct request_result *out)
{
	int ret = -ETIMEDOUT;
	wake_lock(&l->posted);
	for (;;) {
		const struct request_result *slot = find_slot(l, uid);
		if (slot && slot->state != REQUEST_IN_PROGRESS) {
			*out = *slot;
			ret = 0;
			break;
		}
		if (!wake_wait_until_locked(&l->posted, until_ms)) {
			slot = find_slot(l, uid); /* one last look after the timeout */
			if (slot && slot->state != REQUEST_IN_PROGRESS) {
				*out = *slot;
				ret = 0;
			}
			break;
		}
	}
	wake_unlock(&l->posted);
	return ret;
}
