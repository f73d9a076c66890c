/* Informers: a thread that lists a collection into a cache, then watches it, relisting when
 * the watch reports 410 Gone or fails. Handlers run after each cache change; a second thread
 * (only with a resync period) replays every cached object to on_update. Handler calls from the
 * two threads are serialized by handler_lock so each handler sees events in order.
 *
 * Memory: the cache is a tsearch tree of entries (key, resourceVersion, item in one allocation
 * plus the item); each index is a tree of values, each holding a tree of the entries with that
 * value. The item is the object's JSON tree, or what a codec decoded it into. A relist decodes
 * page by page into a sorted array, so a full list is never held as JSON. */
#include "internal.h"
#include "log/log.h"
#include "wake/wake.h"

#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INFORMER_MAX_INDEXES 8
#define INFORMER_KEY_MAX     512

/* One cached object: its key and resourceVersion (one allocation with the entry) and the item
 * (the JSON object, or what the codec made of it). */
struct cache_entry {
	const char *key, *rv;
	void *item;
};

/* The entries of one index value: a tsearch tree of entries ordered by key. */
struct bucket {
	char *value; /* owned */
	void *entries;
	size_t n;
};

struct index_def {
	char *name; /* owned */
	kube_index_fn fn;
	kube_item_index_fn item_fn;
	void *arg;
	char *label_key; /* owned; the arg of label indexes */
	void *buckets;	 /* tsearch tree of struct bucket, ordered by value */
};

struct kube_informer {
	struct kube_client *client;		    /* borrowed */
	struct kube_resource res;		    /* its strings borrowed: resources are static */
	char *ns, *label_selector, *field_selector; /* owned */
	long resync_ms, page_size;
	struct kube_informer_handlers h;
	struct kube_informer_codec codec; /* decode NULL: JSON trees */
	struct kube_informer_item_handlers ih;
	struct index_def indexes[INFORMER_MAX_INDEXES];
	int nindexes;

	struct wake
	    sync;    /* its lock guards cache, the indexes' buckets, synced; notified once synced */
	void *cache; /* tsearch tree of struct cache_entry, ordered by key */
	bool synced;

	/* Held by every change of the cache and every handler call: while a thread holds it the
	 * cache does not change, so entries collected under the sync lock stay valid. */
	pthread_mutex_t handler_lock;
	struct kube_stop *stop;
	pthread_t thread, resync_thread;
	bool started, resync_started, stopped;
	char rv[128]; /* the version to watch from; informer thread only */
};

static int by_key(const void *a, const void *b)
{
	return strcmp(((const struct cache_entry *)a)->key, ((const struct cache_entry *)b)->key);
}

static int by_value(const void *a, const void *b)
{
	return strcmp(((const struct bucket *)a)->value, ((const struct bucket *)b)->value);
}

static void *json_keep(const json_t *obj, void *arg)
{
	return json_incref((json_t *)obj);
}

static void json_drop(void *item)
{
	json_decref(item);
}

static bool is_json(const struct kube_informer *inf)
{
	return inf->codec.decode == json_keep;
}

static int object_key(const struct kube_informer *inf, const json_t *obj, char *key)
{
	return kube_obj_key(inf->res.namespaced ? kube_obj_namespace(obj) : NULL,
			    kube_obj_name(obj), key, INFORMER_KEY_MAX);
}

/* A new entry for obj under key, or NULL (out of memory, logged). */
static struct cache_entry *entry_new(struct kube_informer *inf, const char *key, const json_t *obj)
{
	const char *rv = kube_obj_resource_version(obj);
	size_t klen = strlen(key) + 1, rvlen = strlen(rv ? rv : "") + 1;
	struct cache_entry *e = malloc(sizeof(*e) + klen + rvlen);
	if (e && (e->item = inf->codec.decode(obj, inf->codec.arg))) {
		char *text = (char *)(e + 1);
		e->key = memcpy(text, key, klen);
		e->rv = memcpy(text + klen, rv ? rv : "", rvlen);
		return e;
	}
	free(e);
	log_warn("informer: out of memory, object left out", "resource", inf->res.plural, "key",
		 key);
	return NULL;
}

static void entry_free(struct kube_informer *inf, struct cache_entry *e)
{
	if (!e)
		return;
	if (inf->codec.free)
		inf->codec.free(e->item);
	free(e);
}

static char *index_value(const struct index_def *def, const struct cache_entry *e)
{
	return def->item_fn ? def->item_fn(e->item, def->arg) : def->fn(e->item, def->arg);
}

/* Adds (add = true) or removes e in every index. Called with the sync lock held. */
static void index_update(struct kube_informer *inf, struct cache_entry *e, bool add)
{
	for (int i = 0; i < inf->nindexes; i++) {
		struct index_def *def = &inf->indexes[i];
		struct bucket probe = {.value = index_value(def, e)}, **found, *b;
		if (!probe.value)
			continue;
		found = tfind(&probe, &def->buckets, by_value);
		if (!found && add && (b = calloc(1, sizeof(*b)))) {
			b->value = probe.value;
			probe.value = NULL;
			if (!tsearch(b, &def->buckets, by_value)) {
				probe.value = b->value;
				free(b);
			} else {
				found = tfind(b, &def->buckets, by_value);
			}
		}
		b = found ? *found : NULL;
		if (b && add) {
			struct cache_entry **slot = tsearch(e, &b->entries, by_key);
			if (slot && *slot == e)
				b->n++;
			else if (slot)
				*slot = e; /* the same key: replace */
		} else if (b && tdelete(e, &b->entries, by_key) && --b->n == 0) {
			tdelete(b, &def->buckets, by_value);
			free(b->value);
			free(b);
		}
		free(probe.value);
	}
}

/* Puts e under its key; returns the entry it replaced (caller frees) or NULL. */
static struct cache_entry *cache_put(struct kube_informer *inf, struct cache_entry *e)
{
	wake_lock(&inf->sync);
	struct cache_entry *old = NULL, **slot = tsearch(e, &inf->cache, by_key);
	if (slot && *slot != e) {
		old = *slot;
		index_update(inf, old, false);
		*slot = e;
	}
	if (slot)
		index_update(inf, e, true);
	wake_unlock(&inf->sync);
	if (!slot) {
		log_warn("informer: out of memory, object left out", "resource", inf->res.plural,
			 "key", e->key);
		entry_free(inf, e);
	}
	return old;
}

/* Removes key; returns the removed entry (caller frees) or NULL. */
static struct cache_entry *cache_remove(struct kube_informer *inf, const char *key)
{
	struct cache_entry probe = {.key = key}, *old = NULL, **slot;
	wake_lock(&inf->sync);
	if ((slot = tfind(&probe, &inf->cache, by_key))) {
		old = *slot;
		index_update(inf, old, false);
		tdelete(&probe, &inf->cache, by_key);
	}
	wake_unlock(&inf->sync);
	return old;
}

/* A growing array of entry pointers, filled by a tree walk. */
struct entry_list {
	struct cache_entry **v;
	size_t n, cap;
	bool failed;
};

static void call_add(struct kube_informer *inf, const struct cache_entry *e)
{
	if (!is_json(inf)) {
		if (inf->ih.on_add)
			inf->ih.on_add(inf->ih.arg, e->key, e->item);
	} else if (inf->h.on_add) {
		inf->h.on_add(inf->h.arg, e->item);
	}
}

static void call_update(struct kube_informer *inf, const struct cache_entry *old,
			const struct cache_entry *e)
{
	if (!is_json(inf)) {
		if (inf->ih.on_update)
			inf->ih.on_update(inf->ih.arg, e->key, old->item, e->item);
	} else if (inf->h.on_update) {
		inf->h.on_update(inf->h.arg, old->item, e->item);
	}
}

static void call_delete(struct kube_informer *inf, const struct cache_entry *e)
{
	if (!is_json(inf)) {
		if (inf->ih.on_delete)
			inf->ih.on_delete(inf->ih.arg, e->key, e->item);
	} else if (inf->h.on_delete) {
		inf->h.on_delete(inf->h.arg, e->item);
	}
}

static void notify_put(struct kube_informer *inf, struct cache_entry *old, struct cache_entry *e)
{
	if (old)
		call_update(inf, old, e);
	else
		call_add(inf, e);
}

static int on_watch_event(void *arg, enum kube_event_type type, json_t *obj)
{
	struct kube_informer *inf = arg;
	char key[INFORMER_KEY_MAX];
	if (type == KUBE_EVENT_BOOKMARK || object_key(inf, obj, key) < 0)
		return 0;
	pthread_mutex_lock(&inf->handler_lock);
	if (type == KUBE_EVENT_DELETED) {
		struct cache_entry *old = cache_remove(inf, key);
		if (!old)
			old = entry_new(inf, key, obj); /* never cached: tell what the event says */
		if (old)
			call_delete(inf, old);
		entry_free(inf, old);
	} else {
		struct cache_entry *e = entry_new(inf, key, obj),
				   *old = e ? cache_put(inf, e) : NULL;
		if (e)
			notify_put(inf, old, e);
		entry_free(inf, old);
	}
	pthread_mutex_unlock(&inf->handler_lock);
	return 0;
}

/* Adds e to list; false when out of memory. */
static bool list_append(struct entry_list *list, struct cache_entry *e)
{
	if (list->n == list->cap) {
		size_t cap = list->cap ? list->cap * 2 : 64;
		struct cache_entry **v = realloc(list->v, cap * sizeof(*v));
		if (!v)
			return false;
		list->v = v;
		list->cap = cap;
	}
	list->v[list->n++] = e;
	return true;
}

/* A fresh list on its way into the cache, filled page by page so that only one page of JSON
 * is held at a time. */
struct fresh {
	struct kube_informer *inf;
	struct entry_list list;
};

static void fresh_clear(struct fresh *fresh)
{
	for (size_t i = 0; i < fresh->list.n; i++)
		entry_free(fresh->inf, fresh->list.v[i]);
	fresh->list.n = 0;
}

static int add_page(void *arg, const json_t *items)
{
	struct fresh *fresh = arg;
	char key[INFORMER_KEY_MAX];
	size_t i;
	const json_t *obj;
	if (!items) { /* the listing restarts */
		fresh_clear(fresh);
		return 0;
	}
	json_array_foreach(items, i, obj)
	{
		struct cache_entry *e;
		if (object_key(fresh->inf, obj, key) < 0 || !(e = entry_new(fresh->inf, key, obj)))
			continue;
		if (!list_append(&fresh->list, e)) {
			entry_free(fresh->inf, e);
			return -ENOMEM;
		}
	}
	return 0;
}

static void collect(const void *node, VISIT which, void *arg)
{
	struct entry_list *list = arg;
	if ((which == postorder || which == leaf) &&
	    !list_append(list, *(struct cache_entry *const *)node))
		list->failed = true;
}

static int by_key_ref(const void *a, const void *b)
{
	return by_key(*(struct cache_entry *const *)a, *(struct cache_entry *const *)b);
}

/* Deletes cached entries missing from fresh (sorted by key), with on_delete. Called with
 * handler_lock held. */
static void drop_vanished(struct kube_informer *inf, const struct entry_list *fresh)
{
	struct entry_list all = {0};
	wake_lock(&inf->sync);
	twalk_r(inf->cache, collect, &all);
	wake_unlock(&inf->sync);
	if (all.failed)
		log_warn("informer: out of memory, vanished objects stay", "resource",
			 inf->res.plural);
	for (size_t i = 0; i < all.n; i++) {
		if (fresh->n &&
		    bsearch(&all.v[i], fresh->v, fresh->n, sizeof(*fresh->v), by_key_ref))
			continue;
		struct cache_entry *old = cache_remove(inf, all.v[i]->key);
		if (old)
			call_delete(inf, old);
		entry_free(inf, old);
	}
	free(all.v);
}

/* Moves a full list into the cache, calling handlers for the differences; takes the entries. */
static void replace_all(struct kube_informer *inf, struct entry_list *fresh)
{
	if (fresh->n) /* v is NULL for an empty list */
		qsort(fresh->v, fresh->n, sizeof(*fresh->v), by_key_ref);
	pthread_mutex_lock(&inf->handler_lock);
	drop_vanished(inf, fresh);
	for (size_t i = 0; i < fresh->n; i++) {
		struct cache_entry *e = fresh->v[i], *old = cache_put(inf, e);
		if (!old || strcmp(old->rv, e->rv) != 0 || !*e->rv)
			notify_put(inf, old, e);
		entry_free(inf, old);
	}
	pthread_mutex_unlock(&inf->handler_lock);
	fresh->n = 0;
}

static int relist(struct kube_informer *inf, char *err, size_t errlen)
{
	struct kube_list_opts opts = {.label_selector = inf->label_selector,
				      .field_selector = inf->field_selector,
				      .limit = inf->page_size};
	struct fresh fresh = {.inf = inf};
	int ret = kube_list_each(inf->client, &inf->res, inf->ns, &opts, add_page, &fresh, inf->rv,
				 sizeof(inf->rv), err, errlen);
	if (ret == 0)
		replace_all(inf, &fresh.list);
	fresh_clear(&fresh);
	free(fresh.list.v);
	if (ret)
		return ret;
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

/* All cached entries, collected under the sync lock; valid while handler_lock is held. */
static struct entry_list all_entries(struct kube_informer *inf)
{
	struct entry_list all = {0};
	wake_lock(&inf->sync);
	twalk_r(inf->cache, collect, &all);
	wake_unlock(&inf->sync);
	return all;
}

/* Replays the cache to on_update every resync_ms, like client-go's resync. */
static void *resync_main(void *arg)
{
	struct kube_informer *inf = arg;
	while (!kube_stop_sleep(inf->stop, inf->resync_ms)) {
		if (!kube_informer_has_synced(inf))
			continue;
		pthread_mutex_lock(&inf->handler_lock);
		struct entry_list all = all_entries(inf);
		for (size_t i = 0; i < all.n; i++)
			call_update(inf, all.v[i], all.v[i]);
		pthread_mutex_unlock(&inf->handler_lock);
		free(all.v);
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
	if (opts->codec && !opts->codec->decode)
		return errorf(err, errlen, -EINVAL, "informer %s: a codec without decode",
			      opts->res->plural);
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
	inf->ih = opts->item_handlers;
	inf->codec = opts->codec
			 ? *opts->codec
			 : (struct kube_informer_codec){.decode = json_keep, .free = json_drop};
	inf->stop = kube_stop_new();
	pthread_mutex_init(&inf->handler_lock, NULL);
	int ret = dup_opt(&inf->ns, opts->ns) |
		  dup_opt(&inf->label_selector, opts->label_selector) |
		  dup_opt(&inf->field_selector, opts->field_selector);
	if (ret || !inf->stop) {
		kube_informer_free(inf);
		return errorf(err, errlen, -ENOMEM, "informer: out of memory");
	}
	*out = inf;
	return 0;
}

static int add_index(struct kube_informer *inf, const char *index, kube_index_fn fn,
		     kube_item_index_fn item_fn, void *arg)
{
	if (inf->started)
		return -EBUSY;
	if (is_json(inf) != (fn != NULL))
		return -EINVAL;
	for (int i = 0; i < inf->nindexes; i++) {
		if (strcmp(inf->indexes[i].name, index) == 0)
			return -EEXIST;
	}
	if (inf->nindexes == INFORMER_MAX_INDEXES)
		return -ENOSPC;
	struct index_def *def = &inf->indexes[inf->nindexes];
	if (!(def->name = strdup(index)))
		return -ENOMEM;
	def->fn = fn;
	def->item_fn = item_fn;
	def->arg = arg;
	inf->nindexes++;
	return 0;
}

int kube_informer_add_index(struct kube_informer *inf, const char *index, kube_index_fn fn,
			    void *arg)
{
	return add_index(inf, index, fn, NULL, arg);
}

int kube_informer_add_item_index(struct kube_informer *inf, const char *index,
				 kube_item_index_fn fn, void *arg)
{
	return add_index(inf, index, NULL, fn, arg);
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

/* The entry of ns/name or NULL. Called with the sync lock held. */
static struct cache_entry *find_locked(struct kube_informer *inf, const char *ns, const char *name)
{
	char key[INFORMER_KEY_MAX];
	struct cache_entry probe = {.key = key}, **slot;
	if (kube_obj_key(inf->res.namespaced ? ns : NULL, name, key, sizeof(key)) < 0)
		return NULL;
	slot = tfind(&probe, &inf->cache, by_key);
	return slot ? *slot : NULL;
}

/* Readers get deep copies: jansson's reference counts are not safe to share between threads
 * (json_decref reads the count without atomics), and callers may then modify what they got,
 * e.g. to send an update, without touching the cache. */
json_t *kube_informer_get(struct kube_informer *inf, const char *ns, const char *name)
{
	if (!is_json(inf))
		return NULL;
	wake_lock(&inf->sync);
	struct cache_entry *e = find_locked(inf, ns, name);
	json_t *obj = e ? json_deep_copy(e->item) : NULL;
	wake_unlock(&inf->sync);
	return obj;
}

bool kube_informer_contains(struct kube_informer *inf, const char *ns, const char *name)
{
	wake_lock(&inf->sync);
	bool found = find_locked(inf, ns, name) != NULL;
	wake_unlock(&inf->sync);
	return found;
}

struct visit {
	kube_visit_fn fn;
	void *arg;
	long n;
};

static void visit_node(const void *node, VISIT which, void *arg)
{
	struct visit *v = arg;
	const struct cache_entry *e = *(struct cache_entry *const *)node;
	if (which == postorder || which == leaf) {
		v->fn(v->arg, e->key, e->item);
		v->n++;
	}
}

/* The tree of entries to visit: the cache, or one index bucket's (NULL when empty); -ENOENT
 * for an unknown index. Called with the sync lock held. */
static int visit_root(struct kube_informer *inf, const char *index, const char *value, void **root)
{
	*root = inf->cache;
	if (!index)
		return 0;
	for (int i = 0; i < inf->nindexes; i++) {
		if (strcmp(inf->indexes[i].name, index) != 0)
			continue;
		struct bucket probe = {.value = (char *)value}, **b = NULL;
		if (value)
			b = tfind(&probe, &inf->indexes[i].buckets, by_value);
		*root = b ? (*b)->entries : NULL;
		return 0;
	}
	return -ENOENT;
}

long kube_informer_visit(struct kube_informer *inf, const char *index, const char *value,
			 kube_visit_fn fn, void *arg)
{
	struct visit v = {.fn = fn, .arg = arg};
	void *root;
	wake_lock(&inf->sync);
	int ret = visit_root(inf, index, value, &root);
	if (ret == 0)
		twalk_r(root, visit_node, &v);
	wake_unlock(&inf->sync);
	return ret ? ret : v.n;
}

static void append_copy(void *arg, const char *key, const void *item)
{
	json_array_append_new(arg, json_deep_copy(item));
}

json_t *kube_informer_list(struct kube_informer *inf)
{
	json_t *list = is_json(inf) ? json_array() : NULL;
	if (list)
		kube_informer_visit(inf, NULL, NULL, append_copy, list);
	return list;
}

json_t *kube_informer_by_index(struct kube_informer *inf, const char *index, const char *value)
{
	json_t *list = is_json(inf) ? json_array() : NULL;
	if (list && kube_informer_visit(inf, index, value, append_copy, list) < 0) {
		json_decref(list);
		return NULL;
	}
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

static void free_nothing(void *node)
{
}

static void free_bucket(void *node)
{
	struct bucket *b = node;
	tdestroy(b->entries, free_nothing);
	free(b->value);
	free(b);
}

void kube_informer_free(struct kube_informer *inf)
{
	if (!inf)
		return;
	kube_informer_stop(inf);
	for (int i = 0; i < inf->nindexes; i++) {
		tdestroy(inf->indexes[i].buckets, free_bucket);
		free(inf->indexes[i].name);
		free(inf->indexes[i].label_key);
	}
	struct entry_list all = all_entries(inf);
	tdestroy(inf->cache, free_nothing);
	for (size_t i = 0; i < all.n; i++)
		entry_free(inf, all.v[i]);
	free(all.v);
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

void kube_informers_stop_all(struct kube_informer **infs, size_t n)
{
	pthread_t threads[16];
	bool started[16] = {false};
	for (size_t i = 0; i < n && i < 16; i++) {
		if (infs[i])
			started[i] =
			    pthread_create(&threads[i], NULL, informer_stopper, infs[i]) == 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (i < 16 && started[i])
			pthread_join(threads[i], NULL);
		kube_informer_stop(infs[i]); /* here if no thread did */
	}
}

void kube_informers_free_all(struct kube_informer **infs, size_t n)
{
	kube_informers_stop_all(infs, n);
	for (size_t i = 0; i < n; i++) {
		kube_informer_free(infs[i]);
		infs[i] = NULL;
	}
}
