/* The background reap of retired host veths (docs/behaviour/daemon.md, 'DEL'). A DEL retires
 * the pod's host veth (podnet_retire: down, routes gone, out of every lookup) and answers; this
 * thread deletes the retired links in batches, one request per batch (podnet_reap), and only
 * then frees their addresses, so an address is never handed out while a link that had it
 * exists. Retirements that arrive while a batch is in the kernel form the next batch.
 *
 * Locking: the entry list is guarded by the struct wake's lock, which is never held across a
 * netlink request or a node IPAM call. */
#include "coild/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault/fault.h"
#include "log/log.h"
#include "wake/wake.h"

/* A batch starts once no retirement came for REAP_QUIET_MS, or REAP_GATHER_MAX_MS after its
 * first: a burst of DELs then shares one kernel delete instead of competing with it for the
 * kernel's netlink lock (the delete holds it while it takes the links down). */
#define REAP_QUIET_MS	   50
#define REAP_GATHER_MAX_MS 1000
/* After a failed reap the entries stay; the next try waits this long. */
#define REAP_RETRY_MS 1000
/* The longest an ADD waits for pending reaps to give their addresses back. */
#define REAP_FLUSH_WAIT_MS 5000

struct reap_entry {
	char container_id[NODE_IPAM_ID_MAX];
	char ifname[NODE_IPAM_IFNAME_MAX];
	int ifindex;
	bool in_flight; /* in the batch the thread is reaping now */
};

struct coild_reaper {
	struct coild *d;	    /* borrowed */
	struct wake wake;	    /* its lock guards everything below */
	struct reap_entry *entries; /* owned; pending and in-flight retirements */
	size_t n, cap;
	bool hurry;	     /* coild_reaper_flush waits: skip the gather window */
	unsigned long added; /* retirements ever handed over, to see a burst go on */
	pthread_t thread;
};

/* With the lock held. */
static struct reap_entry *find(struct coild_reaper *r, const char *container_id, const char *ifname)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->entries[i].container_id, container_id) &&
		    !strcmp(r->entries[i].ifname, ifname))
			return &r->entries[i];
	return NULL;
}

/* With the lock held. */
static void remove_at(struct coild_reaper *r, size_t i)
{
	r->entries[i] = r->entries[--r->n];
}

static void free_address(struct coild *d, const char *container_id, const char *ifname)
{
	char err[512];
	if (node_ipam_free(d->ipam, container_id, ifname, err, sizeof(err)) < 0)
		log_warn("reap: failed to free the address of a reaped pod", "container_id",
			 container_id, "ifname", ifname, "error", err);
}

/* The kernel part of a batch: one group delete; if that fails (a foreign link in the group,
 * say), each link on its own. Returns 0 when every link of the batch is gone. */
static int reap_links(struct coild_reaper *r, const struct reap_entry *batch, size_t n)
{
	char err[512];
	int rc = podnet_reap(r->d->podnet, err, sizeof(err));
	if (rc == 0)
		return 0;
	log_warn("reap: group delete failed; deleting one by one", "error", err);
	rc = 0;
	for (size_t i = 0; i < n; i++) {
		int one = podnet_reap_one(r->d->podnet, batch[i].container_id, batch[i].ifname,
					  batch[i].ifindex, err, sizeof(err));
		if (one < 0) {
			log_error("reap: cannot delete a retired veth", "container_id",
				  batch[i].container_id, "ifname", batch[i].ifname, "error", err);
			rc = one;
		}
	}
	return rc;
}

/* With the lock held on entry and return: marks every pending entry in flight, reaps them
 * without the lock, frees their addresses and drops them. Returns the reap's result. */
static int reap_batch_locked(struct coild_reaper *r)
{
	size_t n = 0;
	struct reap_entry *batch = malloc((r->n ? r->n : 1) * sizeof(*batch));
	if (!batch)
		return -ENOMEM;
	for (size_t i = 0; i < r->n; i++)
		if (!r->entries[i].in_flight) {
			r->entries[i].in_flight = true;
			batch[n++] = r->entries[i];
		}
	wake_unlock(&r->wake);
	fault_point("reap:deleting");
	int rc = reap_links(r, batch, n);
	if (rc == 0) {
		fault_point("reap:links-deleted");
		for (size_t i = 0; i < n; i++)
			free_address(r->d, batch[i].container_id, batch[i].ifname);
		char count[24];
		snprintf(count, sizeof(count), "%zu", n);
		log_debug("reap: deleted retired veths", "count", count);
	}
	wake_lock(&r->wake);
	for (size_t i = r->n; i-- > 0;) {
		if (!r->entries[i].in_flight)
			continue;
		if (rc == 0)
			remove_at(r, i);
		else
			r->entries[i].in_flight = false;
	}
	wake_notify_locked(&r->wake);
	free(batch);
	return rc;
}

/* With the lock held: waits until the retirements stop coming (see REAP_QUIET_MS). */
static void gather_locked(struct coild_reaper *r)
{
	long cap = wake_deadline_after(REAP_GATHER_MAX_MS);
	unsigned long seen = r->added;
	for (;;) {
		long quiet = wake_deadline_after(REAP_QUIET_MS);
		long until = quiet < cap ? quiet : cap;
		while (!r->wake.stopped && !r->hurry && wake_wait_until_locked(&r->wake, until))
			;
		if (r->wake.stopped || r->hurry || r->added == seen || wake_now_ms() >= cap)
			return;
		seen = r->added;
	}
}

static void *reaper_thread(void *arg)
{
	struct coild_reaper *r = arg;
	wake_lock(&r->wake);
	while (!r->wake.stopped) {
		if (r->n == 0) {
			wake_wait_until_locked(&r->wake, WAKE_NEVER);
			continue;
		}
		gather_locked(r);
		r->hurry = false;
		if (reap_batch_locked(r) < 0 && !r->wake.stopped) {
			long retry = wake_deadline_after(REAP_RETRY_MS);
			while (!r->wake.stopped && wake_wait_until_locked(&r->wake, retry))
				;
		}
	}
	wake_unlock(&r->wake);
	return NULL;
}

int coild_reaper_start(struct coild *d, struct coild_reaper **out, char *err, size_t errlen)
{
	struct coild_reaper *r = calloc(1, sizeof(*r));
	if (!r || wake_init(&r->wake) < 0) {
		free(r);
		snprintf(err, errlen, "veth reaper: out of memory");
		return -ENOMEM;
	}
	r->d = d;
	int rc = pthread_create(&r->thread, NULL, reaper_thread, r);
	if (rc) {
		wake_destroy(&r->wake);
		free(r);
		snprintf(err, errlen, "veth reaper: cannot start a thread: %s", strerror(rc));
		return -rc;
	}
	*out = r;
	return 0;
}

void coild_reaper_stop(struct coild_reaper *r)
{
	if (!r)
		return;
	wake_stop(&r->wake);
	pthread_join(r->thread, NULL);
	/* What is still pending is reaped now; what a failure leaves, the next start reaps. */
	wake_lock(&r->wake);
	if (r->n)
		reap_batch_locked(r);
	wake_unlock(&r->wake);
	wake_destroy(&r->wake);
	free(r->entries);
	free(r);
}

/* Reaps one retired link at once, without the thread (the list is full, or an ADD of the
 * same attachment needs it gone). */
static int reap_now(struct coild *d, const char *container_id, const char *ifname, int ifindex,
		    char *err, size_t errlen)
{
	int rc = podnet_reap_one(d->podnet, container_id, ifname, ifindex, err, errlen);
	if (rc == 0 && node_ipam_free(d->ipam, container_id, ifname, err, errlen) < 0)
		log_warn("reap: failed to free the address of a reaped pod", "container_id",
			 container_id, "ifname", ifname, "error", err);
	return rc;
}

int coild_reaper_add(struct coild_reaper *r, const char *container_id, const char *ifname,
		     int ifindex, char *err, size_t errlen)
{
	wake_lock(&r->wake);
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 64;
		struct reap_entry *e = realloc(r->entries, cap * sizeof(*e));
		if (!e) {
			wake_unlock(&r->wake);
			return reap_now(r->d, container_id, ifname, ifindex, err, errlen);
		}
		r->entries = e;
		r->cap = cap;
	}
	struct reap_entry *e = &r->entries[r->n++];
	memset(e, 0, sizeof(*e));
	snprintf(e->container_id, sizeof(e->container_id), "%s", container_id);
	snprintf(e->ifname, sizeof(e->ifname), "%s", ifname);
	e->ifindex = ifindex;
	r->added++;
	wake_notify_locked(&r->wake);
	wake_unlock(&r->wake);
	return 0;
}

bool coild_reaper_owns(struct coild_reaper *r, const char *container_id, const char *ifname)
{
	wake_lock(&r->wake);
	bool owns = find(r, container_id, ifname) != NULL;
	wake_unlock(&r->wake);
	return owns;
}

int coild_reaper_settle(struct coild_reaper *r, const char *container_id, const char *ifname,
			char *err, size_t errlen)
{
	wake_lock(&r->wake);
	for (;;) {
		struct reap_entry *e = find(r, container_id, ifname);
		if (!e) {
			wake_unlock(&r->wake);
			return 0;
		}
		if (!e->in_flight) {
			int ifindex = e->ifindex;
			remove_at(r, (size_t)(e - r->entries));
			wake_unlock(&r->wake);
			return reap_now(r->d, container_id, ifname, ifindex, err, errlen);
		}
		wake_wait_until_locked(&r->wake, WAKE_NEVER); /* its batch is in the kernel */
	}
}

bool coild_reaper_flush(struct coild_reaper *r)
{
	wake_lock(&r->wake);
	bool had = r->n > 0;
	long deadline = wake_deadline_after(REAP_FLUSH_WAIT_MS);
	r->hurry = true;
	wake_notify_locked(&r->wake);
	while (r->n > 0 && !r->wake.stopped && wake_wait_until_locked(&r->wake, deadline))
		;
	wake_unlock(&r->wake);
	return had;
}
