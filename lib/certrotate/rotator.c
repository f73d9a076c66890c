/* The rotator thread: one round at start, then on every watched change and every interval.
 * A round writes nothing when nothing changed, so the events of our own writes only cause one
 * more read-only round: no busy loop (upstream cybozu-go/coil#374). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certrotate.h"
#include "internal.h"
#include "log/log.h"
#include "wake/wake.h"

#define DEFAULT_INTERVAL_MS (12L * 3600 * 1000)
#define FILE_WAIT_STEPS	    10 /* 1 s × 2^k: about 17 min in all, as upstream */
#define RETRY_MAX_MS	    60000L

enum round_result { ROUND_DONE, ROUND_REFRESHED_STOP };

struct certrotate {
	struct certrotate_opts opts;
	struct wake wake; /* stopped on stop; its lock guards dirty */
	bool dirty;
	struct kube_informer *informers[3];
	pthread_t thread;
	bool thread_started;
};

static void wake(struct certrotate *r)
{
	wake_lock(&r->wake);
	r->dirty = true;
	wake_notify_locked(&r->wake);
	wake_unlock(&r->wake);
}

static void on_add(void *arg, const json_t *obj)
{
	wake(arg);
}
static void on_update(void *arg, const json_t *old_obj, const json_t *new_obj)
{
	wake(arg);
}

/* Sleeps up to ms, or until a change when woken_by_change; true if stopping. Consumes the
 * change flag when it ends the wait. */
static bool wait_for(struct certrotate *r, long ms, bool woken_by_change)
{
	long until = wake_deadline_after(ms);
	wake_lock(&r->wake);
	while (!r->wake.stopped && !(woken_by_change && r->dirty) &&
	       wake_wait_until_locked(&r->wake, until))
		;
	bool stopping = r->wake.stopped;
	wake_unlock(&r->wake);
	return stopping;
}

static void clear_dirty(struct certrotate *r)
{
	wake_lock(&r->wake);
	r->dirty = false;
	wake_unlock(&r->wake);
}

/* Makes --cert-dir hold the pair, waiting with backoff when it cannot be written (a Secret
 * volume the kubelet syncs). -ETIMEDOUT when it never does: the rotator then fails. */
static int ensure_files(struct certrotate *r, const struct certrotate_pems *pems, char *err,
			size_t errlen)
{
	long delay = 1000;
	for (int step = 0;; step++) {
		bool written;
		int ret = certrotate_sync_files(r->opts.cert_dir, pems, &written, err, errlen);
		if (written)
			log_info("wrote the webhook certificate", "dir", r->opts.cert_dir);
		if (ret != -EACCES && ret != -EROFS && ret != -EPERM)
			return ret;
		if (step == FILE_WAIT_STEPS) {
			snprintf(err + strlen(err), errlen - strlen(err),
				 " (gave up after %d tries)", FILE_WAIT_STEPS + 1);
			return -ETIMEDOUT;
		}
		if (wait_for(r, delay, false))
			return 0;
		delay *= 2;
	}
}

static int run_round(struct certrotate *r, enum round_result *result, char *err, size_t errlen)
{
	struct certrotate_pems pems = {0};
	bool written = false;
	int injected = 0;
	*result = ROUND_DONE;
	clear_dirty(r); /* changes from here on cause another round */
	int ret = certrotate_sync_secret(r->opts.client, r->opts.names, time(NULL), &pems, &written,
					 err, errlen);
	if (ret == 0 && written) {
		log_info("updated the webhook certificate secret", "namespace",
			 CERTROTATE_NAMESPACE, "secret", r->opts.names->secret);
		if (r->opts.stop_after_secret_write)
			*result = ROUND_REFRESHED_STOP;
	}
	if (ret == 0 && *result == ROUND_DONE)
		ret = certrotate_inject_ca(r->opts.client, r->opts.names, pems.ca_crt, &injected,
					   err, errlen);
	if (ret == 0 && *result == ROUND_DONE)
		ret = ensure_files(r, &pems, err, errlen);
	certrotate_pems_clear(&pems);
	return ret;
}

static void fail(struct certrotate *r, const char *err)
{
	if (r->opts.on_failure)
		r->opts.on_failure(r->opts.arg, err);
}

static void *rotator_thread(void *arg)
{
	struct certrotate *r = arg;
	char err[1024];
	long retry_ms = 1000;
	bool first = true;
	for (;;) {
		enum round_result result;
		err[0] = '\0';
		int ret = run_round(r, &result, err, sizeof(err));
		if (result == ROUND_REFRESHED_STOP) {
			if (r->opts.on_secret_written)
				r->opts.on_secret_written(r->opts.arg);
			return NULL;
		}
		/* A 409 is a lost race, not a broken setup: every replica injects the CA
		 * into the same webhook configurations at start, so the loser retries
		 * with the winner's version instead of ending the process. */
		if (ret < 0 && ret != KUBE_ERR_CONFLICT && (first || ret == -ETIMEDOUT)) {
			fail(r, err);
			return NULL;
		}
		first = false;
		if (ret < 0) {
			log_error("webhook certificate round failed; retrying", "error", err);
			if (wait_for(r, retry_ms, false))
				return NULL;
			retry_ms = retry_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : retry_ms * 2;
			continue;
		}
		retry_ms = 1000;
		long interval = r->opts.interval_ms > 0 ? r->opts.interval_ms : DEFAULT_INTERVAL_MS;
		if (wait_for(r, interval, true))
			return NULL;
	}
}

/* Watches one object by name; every event (add, update, delete) wakes the rotator. */
static int watch_object(struct certrotate *r, int slot, const struct kube_resource *res,
			const char *ns, const char *name, char *err, size_t errlen)
{
	char selector[256];
	snprintf(selector, sizeof(selector), "metadata.name=%s", name);
	struct kube_informer_opts io = {
	    .res = res,
	    .ns = ns,
	    .field_selector = selector,
	    .handlers = {.on_add = on_add, .on_update = on_update, .on_delete = on_add, .arg = r},
	};
	int ret = kube_informer_new(r->opts.client, &io, &r->informers[slot], err, errlen);
	if (ret == 0)
		ret = kube_informer_start(r->informers[slot], err, errlen);
	return ret;
}

static int start_watches(struct certrotate *r, char *err, size_t errlen)
{
	const struct certrotate_names *names = r->opts.names;
	int ret =
	    watch_object(r, 0, &KUBE_RES_SECRETS, CERTROTATE_NAMESPACE, names->secret, err, errlen);
	if (ret == 0)
		ret = watch_object(r, 1, &certrotate_validating_res, NULL, names->validating, err,
				   errlen);
	if (ret == 0)
		ret = watch_object(r, 2, &certrotate_mutating_res, NULL, names->mutating, err,
				   errlen);
	return ret;
}

int certrotate_start(const struct certrotate_opts *opts, struct certrotate **out, char *err,
		     size_t errlen)
{
	*out = NULL;
	struct certrotate *r = calloc(1, sizeof(*r));
	if (!r || wake_init(&r->wake) < 0) {
		free(r);
		snprintf(err, errlen, "certificate rotator: out of memory");
		return -ENOMEM;
	}
	r->opts = *opts;
	int ret = start_watches(r, err, errlen);
	if (ret == 0 && (ret = -pthread_create(&r->thread, NULL, rotator_thread, r)) < 0)
		snprintf(err, errlen, "certificate rotator thread: %s", strerror(-ret));
	r->thread_started = ret == 0;
	if (ret < 0) {
		certrotate_stop(r);
		return ret;
	}
	*out = r;
	return 0;
}

void certrotate_stop(struct certrotate *r)
{
	if (!r)
		return;
	wake_stop(&r->wake);
	if (r->thread_started)
		pthread_join(r->thread, NULL);
	for (int i = 0; i < 3; i++)
		kube_informer_free(r->informers[i]);
	wake_destroy(&r->wake);
	free(r);
}
