#include "suites.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct apiserver srv;
static struct kube_client *client;

static void start(void)
{
	apiserver_start(&srv, (const char *const[]){"--history", "40", NULL}, NULL);
	client = apiserver_client(&srv);
}

static void stop(void)
{
	kube_client_free(client);
	apiserver_stop(&srv);
}

static void reset(void)
{
	apiserver_reset(client, true);
	test_namespace(client, "w");
	test_namespace(client, "gone");
	test_namespace(client, "inf");
	test_namespace(client, "elsewhere");
}

static void create_cm(const char *ns, const char *name, const char *app)
{
	char err[512];
	json_t *cm = test_configmap(ns, name, app);
	int ret = kube_create(client, &KUBE_RES_CONFIGMAPS, NULL, cm, NULL, err, sizeof(err));
	ck_assert_msg(ret == 0, "create %s: %s", name, err);
	json_decref(cm);
}

static void list_rv(const char *ns, char *rv, size_t len)
{
	char err[512];
	json_t *items = NULL;
	ck_assert_int_eq(kube_list_all(client, &KUBE_RES_CONFIGMAPS, ns, NULL, &items, rv, len, err,
				       sizeof(err)),
			 0);
	json_decref(items);
}

/* A watch on its own thread, logging "TYPE:name" events. */
struct watcher {
	pthread_t thread;
	struct kube_stop *stop;
	pthread_mutex_t lock;
	char log[4096];
	char rv[64];
	const char *ns;
	int result;
};

static int log_event(void *arg, enum kube_event_type type, json_t *obj)
{
	static const char *const names[] = {"ADDED", "MODIFIED", "DELETED", "BOOKMARK"};
	struct watcher *w = arg;
	if (type == KUBE_EVENT_BOOKMARK)
		return 0;
	pthread_mutex_lock(&w->lock);
	size_t n = strlen(w->log);
	snprintf(w->log + n, sizeof(w->log) - n, "%s:%s ", names[type], kube_obj_name(obj));
	pthread_mutex_unlock(&w->lock);
	return 0;
}

static void *watch_main(void *arg)
{
	struct watcher *w = arg;
	struct kube_watch_opts opts = {.allow_bookmarks = true, .timeout_seconds = 30};
	char err[512];
	w->result = kube_watch(client, &KUBE_RES_CONFIGMAPS, w->ns, &opts, w->rv, sizeof(w->rv),
			       log_event, w, w->stop, err, sizeof(err));
	return NULL;
}

static bool wait_log(struct watcher *w, const char *want)
{
	for (long start = test_now_ms(); test_now_ms() - start < 10000; test_sleep_ms(20)) {
		pthread_mutex_lock(&w->lock);
		bool ok = strcmp(w->log, want) == 0;
		pthread_mutex_unlock(&w->lock);
		if (ok)
			return true;
	}
	pthread_mutex_lock(&w->lock);
	fprintf(stderr, "watch log \"%s\", want \"%s\"\n", w->log, want);
	pthread_mutex_unlock(&w->lock);
	return false;
}

START_TEST(test_watch_resume_after_drop)
{
	char err[512];
	struct watcher w = {.lock = PTHREAD_MUTEX_INITIALIZER, .stop = kube_stop_new(), .ns = "w"};
	create_cm("w", "a", "x");
	list_rv("w", w.rv, sizeof(w.rv));
	pthread_create(&w.thread, NULL, watch_main, &w);
	create_cm("w", "b", "x");
	create_cm("w", "c", "x");
	ck_assert(wait_log(&w, "ADDED:b ADDED:c "));

	apiserver_fault(client, "{\"drop_watches\":true}");
	create_cm("w", "d", "x");
	json_t *patch = json_pack("{s:{s:s}}", "data", "k", "changed");
	ck_assert_int_eq(kube_patch(client, &KUBE_RES_CONFIGMAPS, "w", "b", NULL, KUBE_PATCH_MERGE,
				    patch, NULL, err, sizeof(err)),
			 0);
	json_decref(patch);
	ck_assert_int_eq(
	    kube_delete(client, &KUBE_RES_CONFIGMAPS, "w", "c", NULL, err, sizeof(err)), 0);
	/* Exactly once each, in order: resumed from the last version, not replayed. */
	ck_assert(wait_log(&w, "ADDED:b ADDED:c ADDED:d MODIFIED:b DELETED:c "));
	kube_stop_signal(w.stop);
	pthread_join(w.thread, NULL);
	ck_assert_int_eq(w.result, 0);
	kube_stop_free(w.stop);
}
END_TEST

static int stop_at_first(void *arg, enum kube_event_type type, json_t *obj)
{
	return type == KUBE_EVENT_BOOKMARK ? 0 : 1;
}

START_TEST(test_watch_gone_then_relist)
{
	char rv[64], name[32], err[512];
	list_rv(NULL, rv, sizeof(rv));
	for (int i = 0; i < 60; i++) {
		snprintf(name, sizeof(name), "g-%d", i);
		create_cm("gone", name, "x");
	}
	struct kube_watch_opts opts = {.timeout_seconds = 10};
	ck_assert_int_eq(kube_watch(client, &KUBE_RES_CONFIGMAPS, NULL, &opts, rv, sizeof(rv),
				    stop_at_first, NULL, NULL, err, sizeof(err)),
			 KUBE_ERR_GONE);
	/* The relist gives a current version from which watching works again. */
	list_rv(NULL, rv, sizeof(rv));
	create_cm("gone", "after", "x");
	ck_assert_int_eq(kube_watch(client, &KUBE_RES_CONFIGMAPS, NULL, &opts, rv, sizeof(rv),
				    stop_at_first, NULL, NULL, err, sizeof(err)),
			 0);
}
END_TEST

struct seen {
	pthread_mutex_t lock;
	int adds, updates, deletes;
};

static void on_add(void *arg, const json_t *obj)
{
	struct seen *s = arg;
	pthread_mutex_lock(&s->lock);
	s->adds++;
	pthread_mutex_unlock(&s->lock);
}

static void on_update(void *arg, const json_t *old_obj, const json_t *new_obj)
{
	struct seen *s = arg;
	pthread_mutex_lock(&s->lock);
	s->updates++;
	pthread_mutex_unlock(&s->lock);
}

static void on_delete(void *arg, const json_t *obj)
{
	struct seen *s = arg;
	pthread_mutex_lock(&s->lock);
	s->deletes++;
	pthread_mutex_unlock(&s->lock);
}

/* Waits until the informer holds exactly `count` objects and has (or lacks) name. */
static bool wait_cache(struct kube_informer *inf, size_t count, const char *name, bool present)
{
	for (long start = test_now_ms(); test_now_ms() - start < 15000; test_sleep_ms(20)) {
		json_t *all = kube_informer_list(inf), *obj = kube_informer_get(inf, "inf", name);
		bool ok = json_array_size(all) == count && (obj != NULL) == present;
		json_decref(all);
		json_decref(obj);
		if (ok)
			return true;
	}
	return false;
}

static size_t index_count(struct kube_informer *inf, const char *value)
{
	json_t *list = kube_informer_by_index(inf, "app", value);
	size_t n = json_array_size(list);
	json_decref(list);
	return n;
}

START_TEST(test_informer_live)
{
	char err[512], name[32];
	create_cm("inf", "one", "red");
	create_cm("inf", "two", "red");
	create_cm("inf", "three", "blue");
	struct seen seen = {.lock = PTHREAD_MUTEX_INITIALIZER};
	struct kube_informer_opts opts = {.res = &KUBE_RES_CONFIGMAPS,
					  .ns = "inf",
					  .page_size = 2,
					  .handlers = {on_add, on_update, on_delete, &seen}};
	struct kube_informer *inf = NULL;
	ck_assert_int_eq(kube_informer_new(client, &opts, &inf, err, sizeof(err)), 0);
	ck_assert_int_eq(kube_informer_add_label_index(inf, "app", "app"), 0);
	ck_assert_int_eq(kube_informer_start(inf, err, sizeof(err)), 0);
	ck_assert(kube_informer_wait_synced(inf, 10000));
	ck_assert(wait_cache(inf, 3, "three", true));
	ck_assert_uint_eq(index_count(inf, "red"), 2);

	create_cm("inf", "four", "blue");
	json_t *patch = json_pack("{s:{s:{s:s}}}", "metadata", "labels", "app", "blue");
	ck_assert_int_eq(kube_patch(client, &KUBE_RES_CONFIGMAPS, "inf", "one", NULL,
				    KUBE_PATCH_MERGE, patch, NULL, err, sizeof(err)),
			 0);
	json_decref(patch);
	ck_assert_int_eq(
	    kube_delete(client, &KUBE_RES_CONFIGMAPS, "inf", "two", NULL, err, sizeof(err)), 0);
	ck_assert(wait_cache(inf, 3, "two", false));
	ck_assert_uint_eq(index_count(inf, "red"), 0);
	ck_assert_uint_eq(index_count(inf, "blue"), 3);

	/* A dropped stream: the informer resumes and keeps up. */
	apiserver_fault(client, "{\"drop_watches\":true}");
	create_cm("inf", "five", "red");
	ck_assert(wait_cache(inf, 4, "five", true));

	/* Watches fail while the history moves past the informer's version: 410, relist. */
	apiserver_fault(client, "{\"fail_next\":100000,\"status\":500,\"watch\":true}");
	apiserver_fault(client, "{\"drop_watches\":true}");
	ck_assert_int_eq(
	    kube_delete(client, &KUBE_RES_CONFIGMAPS, "inf", "three", NULL, err, sizeof(err)), 0);
	for (int i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "churn-%d", i);
		create_cm("elsewhere", name, "x");
	}
	apiserver_reset(client, false); /* watches work again, from a version now gone */
	ck_assert(wait_cache(inf, 3, "three", false));
	pthread_mutex_lock(&seen.lock);
	ck_assert_int_eq(seen.adds, 5);
	ck_assert_int_eq(seen.updates, 1);
	ck_assert_int_eq(seen.deletes, 2);
	pthread_mutex_unlock(&seen.lock);
	kube_informer_free(inf);
}
END_TEST

Suite *stream_suite(void)
{
	Suite *s = suite_create("stream");
	TCase *tc = tcase_create("stream");
	tcase_add_unchecked_fixture(tc, start, stop);
	tcase_add_checked_fixture(tc, reset, NULL);
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, test_watch_resume_after_drop);
	tcase_add_test(tc, test_watch_gone_then_relist);
	tcase_add_test(tc, test_informer_live);
	suite_add_tcase(s, tc);
	return s;
}
