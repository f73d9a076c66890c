/* Informers: a thread that lists a collection into a cache, then watches it, relisting when
 * the watch reports 410 Gone or fails. Handlers run after each cache change; a second thread
 * (only with a resync period) replays every cached object to on_update. Handler calls from the
 * two threads are serialized by handler_lock so each handler sees events in order. */
#include "internal.h"
#include "log/log.h"
#include "wake/wake.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INFORMER_MAX_INDEXES 8
#define INFORMER_KEY_MAX     512

struct index_def {
	char *name; /* owned */
	kube_index_fn fn;
	void *arg;
	char *label_key; /* owned; the arg of label indexes */
};

struct kube_informer {
	struct kube_client *client;		    /* borrowed */
	struct kube_resource res;		    /* its strings borrowed: resources are static */
	char *ns, *label_selector, *field_selector; /* owned */
	long resync_ms, page_size;
	struct kube_informer_handlers h;
	struct index_def indexes[INFORMER_MAX_INDEXES];
	int nindexes;

	struct wake sync;   /* its lock guards cache, index_data, synced; notified once synced */
	json_t *cache;	    /* key → object */
	json_t *index_data; /* index name → value → key → object */
	bool synced;

	pthread_mutex_t handler_lock;
	struct kube_stop *stop;
	pthread_t thread, resync_thread;
	bool started, resync_started, stopped;
	char rv[128]; /* the version to watch from; informer thread only */
};

static int object_key(const struct kube_informer *inf, const json_t *obj, char *key)
{
	return kube_obj_key(inf->res.namespaced ? kube_obj_namespace(obj) : NULL,
			    kube_obj_name(obj), key, INFORMER_KEY_MAX);
}

/* Adds (add = true) or removes obj under key in every index. Called with lock held. */
static void index_update(struct kube_informer *inf, const char *key, const json_t *obj, bool add)
{
	for (int i = 0; i < inf->nindexes; i++) {
		char *value = inf->indexes[i].fn(obj, inf->indexes[i].arg);
		if (!value)
			continue;
		json_t *values = json_object_get(inf->index_data, inf->indexes[i].name);
		json_t *keys = json_object_get(values, value);
		if (add) {
			if (!keys) {
				keys = json_object();
				json_object_set_new(values, value, keys);
			}
			json_object_set(keys, key, (json_t *)obj);
		} else if (keys) {
			json_object_del(keys, key);
			if (json_object_size(keys) == 0)
				json_object_del(values, value);
		}
		free(value);
	}
}

/* Puts obj (new reference taken) under key; returns the previous object (caller decrefs) or
 * NULL. */
static json_t *cache_put(struct kube_informer *inf, const char *key, json_t *obj)
{
	wake_lock(&inf->sync);
	json_t *old = json_incref(json_object_get(inf->cache, key));
	if (old)
		index_update(inf, key, old, false);
	json_object_set(inf->cache, key, obj);
	index_update(inf, key, obj, true);
	wake_unlock(&inf->sync);
	return old;
}

/* Removes key; returns the removed object (caller decrefs) or NULL. */
static json_t *cache_remove(struct kube_informer *inf, const char *key)
{
	wake_lock(&inf->sync);
	json_t *old = json_incref(json_object_get(inf->cache, key));
	if (old) {
		index_update(inf, key, old, false);
		json_object_del(inf->cache, key);
	}
	wake_unlock(&inf->sync);
	return old;
}

static void notify_put(struct kube_informer *inf, json_t *old, json_t *obj)
{
	if (old && inf->h.on_update)
		inf->h.on_update(inf->h.arg, old, obj);
	else if (!old && inf->h.on_add)
		inf->h.on_add(inf->h.arg, obj);
}

static int on_watch_event(void *arg, enum kube_event_type type, json_t *obj)
{
	struct kube_informer *inf = arg;
	char key[INFORMER_KEY_MAX];
	if (type == KUBE_EVENT_BOOKMARK || object_key(inf, obj, key) < 0)
		return 0;
	pthread_mutex_lock(&inf->handler_lock);
	if (type == KUBE_EVENT_DELETED) {
		json_t *old = cache_remove(inf, key);
		if (inf->h.on_delete)
			inf->h.on_delete(inf->h.arg, old ? old : obj);
		json_decref(old);
	} else {
		json_t *old = cache_put(inf, key, obj);
		notify_put(inf, old, obj);
		json_decref(old);
	}
	pthread_mutex_unlock(&inf->handler_lock);
	return 0;
}

static bool same_version(const json_t *a, const json_t *b)
{
	const char *ra = kube_obj_resource_version(a), *rb = kube_obj_resource_version(b);
	return ra && rb && strcmp(ra, rb) == 0;
}

/* Deletes cached objects missing from fresh (key → object), with on_delete. */
static void drop_vanished(struct kube_informer *inf, json_t *fresh)
{
	wake_lock(&inf->sync);
	json_t *keys = json_array();
	const char *key;
	json_t *value;
	json_object_foreach(inf->cache, key, value)
	{
		if (!json_object_get(fresh, key))
			json_array_append_new(keys, json_string(key));
	}
	wake_unlock(&inf->sync);
	size_t i;
	json_array_foreach(keys, i, value)
	{
		json_t *old = cache_remove(inf, json_string_value(value));
		if (old && inf->h.on_delete)
			inf->h.on_delete(inf->h.arg, old);
		json_decref(old);
	}
	json_decref(keys);
}

/* Replaces the cache with a full list, calling handlers for the differences. */
static void replace_all(struct kube_informer *inf, json_t *items)
{
	json_t *fresh = json_object();
	char key[INFORMER_KEY_MAX];
	size_t i;
	json_t *obj;
	json_array_foreach(items, i, obj)
	{
		if (object_key(inf, obj, key) == 0)
			json_object_set(fresh, key, obj);
	}
	pthread_mutex_lock(&inf->handler_lock);
	drop_vanished(inf, fresh);
	const char *k;
	json_object_foreach(fresh, k, obj)
	{
		json_t *old = cache_put(inf, k, obj);
		if (!old || !same_version(old, obj))
			notify_put(inf, old, obj);
		json_decref(old);
	}
	pthread_mutex_unlock(&inf->handler_lock);
	json_decref(fresh);
}

static int relist(struct kube_informer *inf, char *err, size_t errlen)
{
	struct kube_list_opts opts = {.label_selector = inf->label_selector,
				      .field_selector = inf->field_selector,
				      .limit = inf->page_size};
	json_t *items = NULL;
	int ret = kube_list_all(inf->client, &inf->res, inf->ns, &opts, &items, inf->rv,
				sizeof(inf->rv), err, errlen);
	if (ret)
		return ret;
	replace_all(inf, items);
	json_decref(items);
	wake_lock(&inf->sync);
	if (!inf->synced) {
		inf->synced = true;
		wake_notify_locked(&inf->sync);
	}
	wake_unlock(&inf->sync);
	return 0;
}

static void *informer_main(void *arg)
{
	struct kube_informer *inf = arg;
	struct kube_watch_opts wopts = {.label_selector = inf->label_selector,
					.field_selector = inf->field_selector,
					.allow_bookmarks = true};
	char err[512];
	int failures = 0;
	while (!kube_stop_requested(inf->stop)) {
		int ret = relist(inf, err, sizeof(err));
		if (ret == 0)
			ret = kube_watch(inf->client, &inf->res, inf->ns, &wopts, inf->rv,
					 sizeof(inf->rv), on_watch_event, inf, inf->stop, err,
					 sizeof(err));
		if (kube_stop_requested(inf->stop))
			break;
		if (ret == KUBE_ERR_GONE) {
			log_info("informer: watch expired, relisting", "resource", inf->res.plural);
			failures = 0;
			continue;
		}
		log_warn("informer: list/watch failed", "resource", inf->res.plural, "error", err);
		kube_stop_sleep(inf->stop, kube_backoff_ms(failures++, 500, 30000));
	}
	return NULL;
}

/* Replays the cache to on_update every resync_ms, like client-go's resync. */
static void *resync_main(void *arg)
{
	struct kube_informer *inf = arg;
	while (!kube_stop_sleep(inf->stop, inf->resync_ms)) {
		if (!kube_informer_has_synced(inf))
			continue;
		pthread_mutex_lock(&inf->handler_lock);
		json_t *all = kube_informer_list(inf);
		size_t i;
		json_t *obj;
		json_array_foreach(all, i, obj)
		{
			if (inf->h.on_update)
				inf->h.on_update(inf->h.arg, obj, obj);
		}
		json_decref(all);
		pthread_mutex_unlock(&inf->handler_lock);
	}
	return NULL;
}

static int dup_opt(char **dst, const char *src)
{
	*dst = src ? strdup(src) : NULL;
	return src && !*dst ? -ENOMEM : 0;
}

int kube_informer_new(struct kube_client *client, const struct kube_informer_opts *opts,
		      struct kube_informer **out, char *err, size_t errlen)
{
	if (!opts || !opts->res)
		return errorf(err, errlen, -EINVAL, "informer: no resource");
	struct kube_informer *inf = calloc(1, sizeof(*inf));
	if (!inf || wake_init(&inf->sync) < 0) {
		free(inf);
		return errorf(err, errlen, -ENOMEM, "informer: out of memory");
	}
	inf->client = client;
	inf->res = *opts->res;
	inf->resync_ms = opts->resync_ms;
	inf->page_size = opts->page_size > 0 ? opts->page_size : 500;
	inf->h = opts->handlers;
	inf->cache = json_object();
	inf->index_data = json_object();
	inf->stop = kube_stop_new();
	pthread_mutex_init(&inf->handler_lock, NULL);
	int ret = dup_opt(&inf->ns, opts->ns) |
		  dup_opt(&inf->label_selector, opts->label_selector) |
		  dup_opt(&inf->field_selector, opts->field_selector);
	if (ret || !inf->cache || !inf->index_data || !inf->stop) {
		kube_informer_free(inf);
		return errorf(err, errlen, -ENOMEM, "informer: out of memory");
	}
	*out = inf;
	return 0;
}

int kube_informer_add_index(struct kube_informer *inf, const char *index, kube_index_fn fn,
			    void *arg)
{
	if (inf->started)
		return -EBUSY;
	if (json_object_get(inf->index_data, index))
		return -EEXIST;
	if (inf->nindexes == INFORMER_MAX_INDEXES)
		return -ENOSPC;
	struct index_def *def = &inf->indexes[inf->nindexes];
	if (!(def->name = strdup(index)))
		return -ENOMEM;
	def->fn = fn;
	def->arg = arg;
	json_object_set_new(inf->index_data, index, json_object());
	inf->nindexes++;
	return 0;
}

static char *label_value(const json_t *obj, void *arg)
{
	const char *value = kube_obj_label(obj, arg);
	return value ? strdup(value) : NULL;
}

static char *node_name_value(const json_t *obj, void *arg)
{
	const char *value = kube_json_string(obj, "spec.nodeName");
	return value && *value ? strdup(value) : NULL;
}

int kube_informer_add_label_index(struct kube_informer *inf, const char *index,
				  const char *label_key)
{
	char *key = strdup(label_key);
	if (!key)
		return -ENOMEM;
	int ret = kube_informer_add_index(inf, index, label_value, key);
	if (ret) {
		free(key);
		return ret;
	}
	inf->indexes[inf->nindexes - 1].label_key = key;
	return 0;
}

int kube_informer_add_node_name_index(struct kube_informer *inf, const char *index)
{
	return kube_informer_add_index(inf, index, node_name_value, NULL);
}

int kube_informer_start(struct kube_informer *inf, char *err, size_t errlen)
{
	if (inf->started)
		return errorf(err, errlen, -EBUSY, "informer %s: already started", inf->res.plural);
	int ret = pthread_create(&inf->thread, NULL, informer_main, inf);
	if (ret)
		return errorf(err, errlen, -ret, "informer %s: thread: %s", inf->res.plural,
			      strerror(ret));
	inf->started = true;
	if (inf->resync_ms > 0) {
		ret = pthread_create(&inf->resync_thread, NULL, resync_main, inf);
		if (ret) {
			kube_informer_stop(inf);
			return errorf(err, errlen, -ret, "informer %s: resync thread: %s",
				      inf->res.plural, strerror(ret));
		}
		inf->resync_started = true;
	}
	return 0;
}

bool kube_informer_has_synced(struct kube_informer *inf)
{
	wake_lock(&inf->sync);
	bool synced = inf->synced;
	wake_unlock(&inf->sync);
	return synced;
}

bool kube_informer_wait_synced(struct kube_informer *inf, long timeout_ms)
{
	long until = wake_deadline_after(timeout_ms);
	wake_lock(&inf->sync);
	while (!inf->synced && wake_wait_until_locked(&inf->sync, until))
		;
	bool synced = inf->synced;
	wake_unlock(&inf->sync);
	return synced;
}

/* Readers get deep copies: jansson's reference counts are not safe to share between threads
 * (json_decref reads the count without atomics), and callers may then modify what they got,
 * e.g. to send an update, without touching the cache. */
json_t *kube_informer_get(struct kube_informer *inf, const char *ns, const char *name)
{
	char key[INFORMER_KEY_MAX];
	if (kube_obj_key(inf->res.namespaced ? ns : NULL, name, key, sizeof(key)) < 0)
		return NULL;
	wake_lock(&inf->sync);
	json_t *obj = json_deep_copy(json_object_get(inf->cache, key));
	wake_unlock(&inf->sync);
	return obj;
}

static json_t *values_of(const json_t *map)
{
	json_t *list = json_array();
	const char *key;
	json_t *value;
	json_object_foreach((json_t *)map, key, value)
	{
		json_array_append_new(list, json_deep_copy(value));
	}
	return list;
}

json_t *kube_informer_list(struct kube_informer *inf)
{
	wake_lock(&inf->sync);
	json_t *list = values_of(inf->cache);
	wake_unlock(&inf->sync);
	return list;
}

json_t *kube_informer_by_index(struct kube_informer *inf, const char *index, const char *value)
{
	wake_lock(&inf->sync);
	json_t *values = json_object_get(inf->index_data, index);
	json_t *list = values ? values_of(json_object_get(values, value)) : NULL;
	wake_unlock(&inf->sync);
	return list;
}

void kube_informer_stop(struct kube_informer *inf)
{
	if (!inf || !inf->started || inf->stopped)
		return;
	kube_stop_signal(inf->stop);
	pthread_join(inf->thread, NULL);
	if (inf->resync_started)
		pthread_join(inf->resync_thread, NULL);
	inf->stopped = true;
}

void kube_informer_free(struct kube_informer *inf)
{
	if (!inf)
		return;
	kube_informer_stop(inf);
	for (int i = 0; i < inf->nindexes; i++) {
		free(inf->indexes[i].name);
		free(inf->indexes[i].label_key);
	}
	json_decref(inf->cache);
	json_decref(inf->index_data);
	kube_stop_free(inf->stop);
	wake_destroy(&inf->sync);
	pthread_mutex_destroy(&inf->handler_lock);
	free(inf->ns);
	free(inf->label_selector);
	free(inf->field_selector);
	free(inf);
}

static void *informer_stopper(void *arg)
{
	kube_informer_stop(arg);
	return NULL;
}

void kube_informers_free_all(struct kube_informer **infs, size_t n)
{
	pthread_t threads[16];
	bool joined[16] = {false};
	for (size_t i = 0; i < n && i < 16; i++) {
		if (infs[i])
			joined[i] =
			    pthread_create(&threads[i], NULL, informer_stopper, infs[i]) == 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (i < 16 && joined[i])
			pthread_join(threads[i], NULL);
		kube_informer_free(infs[i]); /* stops it here if no thread did */
		infs[i] = NULL;
	}
}
