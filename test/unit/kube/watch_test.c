#include "suites.h"

#include "fake_server.h"
#include "kube/kube.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static struct fake_server *fs;
static struct kube_client *client;

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static void setup(void)
{
	char url[64], err[256];
	fs = fake_server_start();
	fake_server_url(fs, url, sizeof(url));
	struct kube_config cfg = {.server = url};
	struct kube_client_options opts = {.backoff_base_ms = 10, .backoff_max_ms = 50};
	ck_assert_int_eq(kube_client_new(&cfg, &opts, &client, err, sizeof(err)), 0);
}

static void teardown(void)
{
	kube_client_free(client);
	fake_server_stop(fs);
}

#define EV(type, name, rv)                                                                         \
	"{\"type\":\"" type "\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"name\":\"" name       \
	"\",\"namespace\":\"ns\",\"resourceVersion\":\"" rv "\"}}}\n"

struct recorder {
	char log[1024];
	int stop_after; /* end the watch after this many events (0 = never) */
	int count;
};

static int record_event(void *arg, enum kube_event_type type, json_t *obj)
{
	static const char *const names[] = {"ADDED", "MODIFIED", "DELETED", "BOOKMARK"};
	struct recorder *r = arg;
	size_t n = strlen(r->log);
	snprintf(r->log + n, sizeof(r->log) - n, "%s%s:%s", n ? " " : "", names[type],
		 type == KUBE_EVENT_BOOKMARK ? kube_obj_resource_version(obj) : kube_obj_name(obj));
	r->count++;
	return r->stop_after && r->count >= r->stop_after ? 1 : 0;
}

START_TEST(test_split_chunks)
{
	/* Objects cut at arbitrary places, several per chunk, a blank keep-alive line. */
	static const char *const chunks[] = {
	    EV("ADDED", "a", "5") "{\"type\":\"MODI",
	    "FIED\",\"object\":{\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"6\"}}}",
	    "\n\n{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"9\"}}}\n",
	    NULL};
	fake_server_push(fs,
			 &(struct fake_reply){.status = 200, .chunks = chunks, .hold_ms = 5000});
	struct recorder r = {.stop_after = 3};
	struct kube_watch_opts opts = {
	    .label_selector = "app=x", .allow_bookmarks = true, .timeout_seconds = 30};
	char rv[64] = "4", err[256];
	ck_assert_int_eq(kube_watch(client, &KUBE_RES_PODS, "ns", &opts, rv, sizeof(rv),
				    record_event, &r, NULL, err, sizeof(err)),
			 0);
	ck_assert_str_eq(r.log, "ADDED:a MODIFIED:a BOOKMARK:9");
	ck_assert_str_eq(rv, "9");
	ck_assert_str_eq(fake_server_request(fs, 0).url,
			 "/api/v1/namespaces/ns/pods?watch=true&allowWatchBookmarks=true&"
			 "resourceVersion=4&timeoutSeconds=30&labelSelector=app=x");
}
END_TEST

START_TEST(test_resume_after_timeout_and_drop)
{
	static const char *const first[] = {EV("ADDED", "a", "5"), NULL};
	static const char *const second[] = {EV("MODIFIED", "a", "6"), NULL};
	static const char *const third[] = {EV("DELETED", "a", "7"), NULL};
	/* A clean end (server timeout), then a cut connection, then the last event. */
	fake_server_push(fs, &(struct fake_reply){.status = 200, .chunks = first, .hold_ms = 100});
	fake_server_push(fs, &(struct fake_reply){
				 .status = 200, .chunks = second, .hold_ms = 100, .drop = true});
	fake_server_push(fs, &(struct fake_reply){.status = 500, .body = "{}"});
	fake_server_push(fs, &(struct fake_reply){.status = 200, .chunks = third, .hold_ms = 5000});
	struct recorder r = {.stop_after = 3};
	struct kube_watch_opts opts = {.timeout_seconds = 60};
	char rv[64] = "", err[256];
	ck_assert_int_eq(kube_watch(client, &KUBE_RES_PODS, NULL, &opts, rv, sizeof(rv),
				    record_event, &r, NULL, err, sizeof(err)),
			 0);
	ck_assert_str_eq(r.log, "ADDED:a MODIFIED:a DELETED:a");
	ck_assert_str_eq(fake_server_request(fs, 0).url,
			 "/api/v1/pods?watch=true&timeoutSeconds=60");
	ck_assert_ptr_nonnull(strstr(fake_server_request(fs, 1).url, "resourceVersion=5"));
	ck_assert_ptr_nonnull(strstr(fake_server_request(fs, 2).url, "resourceVersion=6"));
	ck_assert_ptr_nonnull(strstr(fake_server_request(fs, 3).url, "resourceVersion=6"));
}
END_TEST

START_TEST(test_gone_event)
{
	static const char *const chunks[] = {EV("ADDED", "a", "5"),
					     "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\","
					     "\"code\":410,\"reason\":\"Expired\","
					     "\"message\":\"too old resource version: 1 (5)\"}}\n",
					     NULL};
	fake_server_push(fs,
			 &(struct fake_reply){.status = 200, .chunks = chunks, .hold_ms = 5000});
	struct recorder r = {0};
	char rv[64] = "1", err[256];
	ck_assert_int_eq(kube_watch(client, &KUBE_RES_PODS, "ns", NULL, rv, sizeof(rv),
				    record_event, &r, NULL, err, sizeof(err)),
			 KUBE_ERR_GONE);
	ck_assert_str_eq(r.log, "ADDED:a");
}
END_TEST

START_TEST(test_gone_status_and_forbidden)
{
	fake_server_push(fs, &(struct fake_reply){.status = 410, .body = "{\"reason\":\"Gone\"}"});
	fake_server_push(fs,
			 &(struct fake_reply){
			     .status = 403,
			     .body = "{\"kind\":\"Status\",\"reason\":\"Forbidden\",\"message\":"
				     "\"pods is forbidden\"}"});
	struct recorder r = {0};
	char rv[64] = "1", err[256];
	ck_assert_int_eq(kube_watch(client, &KUBE_RES_PODS, "ns", NULL, rv, sizeof(rv),
				    record_event, &r, NULL, err, sizeof(err)),
			 KUBE_ERR_GONE);
	ck_assert_int_eq(kube_watch(client, &KUBE_RES_PODS, "ns", NULL, rv, sizeof(rv),
				    record_event, &r, NULL, err, sizeof(err)),
			 -EPERM);
	ck_assert_ptr_nonnull(strstr(err, "forbidden"));
	ck_assert_int_eq(fake_server_nrequests(fs), 2);
}
END_TEST

START_TEST(test_max_failures)
{
	fake_server_set_default(fs, &(struct fake_reply){.status = 503, .body = "{}"});
	struct recorder r = {0};
	struct kube_watch_opts opts = {.max_failures = 3};
	char rv[64] = "", err[256];
	ck_assert_int_eq(kube_watch(client, &KUBE_RES_PODS, "ns", &opts, rv, sizeof(rv),
				    record_event, &r, NULL, err, sizeof(err)),
			 -EIO);
	ck_assert_int_eq(fake_server_nrequests(fs), 3);
}
END_TEST

static void *stop_later(void *arg)
{
	sleep_ms(200);
	kube_stop_signal(arg);
	return NULL;
}

START_TEST(test_stop_interrupts_stream)
{
	static const char *const chunks[] = {EV("ADDED", "a", "5"), NULL};
	fake_server_set_default(
	    fs, &(struct fake_reply){.status = 200, .chunks = chunks, .hold_ms = 20000});
	struct kube_stop *stop = kube_stop_new();
	pthread_t t;
	pthread_create(&t, NULL, stop_later, stop);
	struct recorder r = {0};
	char rv[64] = "", err[256];
	long start = now_ms();
	ck_assert_int_eq(kube_watch(client, &KUBE_RES_PODS, "ns", NULL, rv, sizeof(rv),
				    record_event, &r, stop, err, sizeof(err)),
			 0);
	ck_assert_int_lt(now_ms() - start, 3000);
	pthread_join(t, NULL);
	ck_assert(kube_stop_requested(stop));
	ck_assert(kube_stop_sleep(stop, 10000));
	kube_stop_free(stop);
}
END_TEST

/* Informer: handlers count into this, under a lock (they run on the informer threads). */
struct counts {
	pthread_mutex_t lock;
	int adds, updates, resyncs, deletes;
};

static void on_add(void *arg, const json_t *obj)
{
	struct counts *c = arg;
	pthread_mutex_lock(&c->lock);
	c->adds++;
	pthread_mutex_unlock(&c->lock);
}

static void on_update(void *arg, const json_t *old_obj, const json_t *new_obj)
{
	struct counts *c = arg;
	pthread_mutex_lock(&c->lock);
	if (old_obj == new_obj)
		c->resyncs++;
	else
		c->updates++;
	pthread_mutex_unlock(&c->lock);
}

static void on_delete(void *arg, const json_t *obj)
{
	struct counts *c = arg;
	pthread_mutex_lock(&c->lock);
	c->deletes++;
	pthread_mutex_unlock(&c->lock);
}

static int get_count(struct counts *c, const int *field)
{
	pthread_mutex_lock(&c->lock);
	int v = *field;
	pthread_mutex_unlock(&c->lock);
	return v;
}

static bool wait_count(struct counts *c, const int *field, int want)
{
	for (long start = now_ms(); now_ms() - start < 5000; sleep_ms(10)) {
		if (get_count(c, field) >= want)
			return true;
	}
	return false;
}

#define POD(name, node, app, rv)                                                                   \
	"{\"metadata\":{\"name\":\"" name "\",\"namespace\":\"ns\",\"resourceVersion\":\"" rv      \
	"\",\"labels\":{\"app\":\"" app "\"}},\"spec\":{\"nodeName\":\"" node "\"}}"

static char *first_letter(const json_t *obj, void *arg)
{
	const char *name = kube_obj_name(obj);
	return name ? strndup(name, 1) : NULL;
}

static size_t index_size(struct kube_informer *inf, const char *index, const char *value)
{
	json_t *list = kube_informer_by_index(inf, index, value);
	size_t n = json_array_size(list);
	json_decref(list);
	return n;
}

START_TEST(test_informer)
{
	static const char *const watch1[] = {
	    "{\"type\":\"ADDED\",\"object\":" POD("c", "n2", "web", "11") "}\n",
	    "{\"type\":\"MODIFIED\",\"object\":" POD("a", "n2", "db", "12") "}\n",
	    "{\"type\":\"DELETED\",\"object\":" POD("b", "n1", "web", "13") "}\n",
	    "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410}}\n", NULL};
	static const char *const quiet[] = {NULL};
	fake_server_push(fs,
			 &(struct fake_reply){
			     .status = 200,
			     .body = "{\"metadata\":{\"resourceVersion\":\"10\"},\"items\":[" POD(
				 "a", "n1", "web", "1") "," POD("b", "n1", "web", "2") "]}"});
	fake_server_push(
	    fs, &(struct fake_reply){
		    .status = 200, .chunks = watch1, .chunk_delay_ms = 50, .hold_ms = 5000});
	/* The relist after 410: c vanished, d appeared, a unchanged. */
	fake_server_push(fs,
			 &(struct fake_reply){
			     .status = 200,
			     .body = "{\"metadata\":{\"resourceVersion\":\"20\"},\"items\":[" POD(
				 "a", "n2", "db", "12") "," POD("d", "n3", "web", "19") "]}"});
	fake_server_set_default(
	    fs, &(struct fake_reply){.status = 200, .chunks = quiet, .hold_ms = 20000});

	struct counts c = {.lock = PTHREAD_MUTEX_INITIALIZER};
	struct kube_informer_opts opts = {
	    .res = &KUBE_RES_PODS,
	    .ns = "ns",
	    .resync_ms = 100,
	    .handlers = {on_add, on_update, on_delete, &c},
	};
	struct kube_informer *inf = NULL;
	char err[256];
	ck_assert_int_eq(kube_informer_new(client, &opts, &inf, err, sizeof(err)), 0);
	ck_assert_int_eq(kube_informer_add_label_index(inf, "app", "app"), 0);
	ck_assert_int_eq(kube_informer_add_node_name_index(inf, "node"), 0);
	ck_assert_int_eq(kube_informer_add_index(inf, "letter", first_letter, NULL), 0);
	ck_assert_int_eq(kube_informer_add_index(inf, "letter", first_letter, NULL), -EEXIST);
	ck_assert(!kube_informer_has_synced(inf));
	ck_assert_int_eq(kube_informer_start(inf, err, sizeof(err)), 0);
	ck_assert_int_eq(kube_informer_add_index(inf, "late", first_letter, NULL), -EBUSY);
	ck_assert(kube_informer_wait_synced(inf, 5000));

	ck_assert(wait_count(&c, &c.adds, 4));	  /* a, b, c, d */
	ck_assert(wait_count(&c, &c.deletes, 2)); /* b by event, c by relist */
	ck_assert(wait_count(&c, &c.resyncs, 2));
	ck_assert_int_eq(get_count(&c, &c.updates), 1); /* a; the relist saw a unchanged */
	ck_assert_int_eq(get_count(&c, &c.adds), 4);

	json_t *a = kube_informer_get(inf, "ns", "a");
	ck_assert_str_eq(kube_obj_resource_version(a), "12");
	json_decref(a);
	ck_assert_ptr_null(kube_informer_get(inf, "ns", "b"));
	json_t *all = kube_informer_list(inf);
	ck_assert_uint_eq(json_array_size(all), 2);
	json_decref(all);
	ck_assert_uint_eq(index_size(inf, "app", "web"), 1); /* d */
	ck_assert_uint_eq(index_size(inf, "app", "db"), 1);  /* a */
	ck_assert_uint_eq(index_size(inf, "node", "n1"), 0);
	ck_assert_uint_eq(index_size(inf, "node", "n2"), 1);
	ck_assert_uint_eq(index_size(inf, "letter", "d"), 1);
	ck_assert_ptr_null(kube_informer_by_index(inf, "nope", "x"));

	/* The second list came after the 410; the watch resumed from its version. The
	 * handlers above can run before that watch request reaches the server: wait for it. */
	int n = fake_server_nrequests(fs);
	for (long until = now_ms() + 3000; n < 4 && now_ms() < until; n = fake_server_nrequests(fs))
		usleep(10000);
	ck_assert_int_ge(n, 4);
	ck_assert_str_eq(fake_server_request(fs, 2).url, "/api/v1/namespaces/ns/pods?limit=500");
	ck_assert_ptr_nonnull(strstr(fake_server_request(fs, 3).url, "resourceVersion=20"));
	long start = now_ms();
	kube_informer_stop(inf);
	ck_assert_int_lt(now_ms() - start, 3000);
	kube_informer_free(inf);
}
END_TEST

/* A codec informer keeps the pod's node name only (a malloc'd string). */
static void *node_of(const json_t *obj, void *arg)
{
	const char *node = kube_json_string(obj, "spec.nodeName");
	return strdup(node ? node : "");
}

static char *item_value(const void *item, void *arg)
{
	return *(const char *)item ? strdup(item) : NULL;
}

static void item_add(void *arg, const char *key, const void *item)
{
	on_add(arg, NULL);
}

static void item_update(void *arg, const char *key, const void *old_item, const void *new_item)
{
	on_update(arg, old_item, new_item);
}

static void item_delete(void *arg, const char *key, const void *item)
{
	ck_assert_ptr_nonnull(item);
	on_delete(arg, NULL);
}

/* Joins "key=item" of every visited item into arg (a buffer of 256 bytes). */
static void join_items(void *arg, const char *key, const void *item)
{
	char *buf = arg;
	size_t len = strlen(buf);
	snprintf(buf + len, 256 - len, "%s%s=%s", len ? "," : "", key, (const char *)item);
}

START_TEST(test_informer_codec)
{
	static const char *const watch1[] = {
	    "{\"type\":\"MODIFIED\",\"object\":" POD("a", "n2", "db", "12") "}\n",
	    "{\"type\":\"DELETED\",\"object\":" POD("c", "n1", "web", "13") "}\n",
	    "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410}}\n", NULL};
	static const char *const quiet[] = {NULL};
	/* The first list comes in two pages. */
	fake_server_push(fs, &(struct fake_reply){
				 .status = 200,
				 .body = "{\"metadata\":{\"resourceVersion\":\"10\",\"continue\":"
					 "\"p2\"},\"items\":[" POD("a", "n1", "web", "1") "]}"});
	fake_server_push(fs,
			 &(struct fake_reply){
			     .status = 200,
			     .body = "{\"metadata\":{\"resourceVersion\":\"10\"},\"items\":[" POD(
				 "b", "n1", "web", "2") "," POD("c", "n3", "web", "3") "]}"});
	fake_server_push(
	    fs, &(struct fake_reply){
		    .status = 200, .chunks = watch1, .chunk_delay_ms = 50, .hold_ms = 5000});
	/* The relist after 410: b vanished, d appeared, a unchanged. */
	fake_server_push(fs,
			 &(struct fake_reply){
			     .status = 200,
			     .body = "{\"metadata\":{\"resourceVersion\":\"20\"},\"items\":[" POD(
				 "a", "n2", "db", "12") "," POD("d", "n3", "web", "19") "]}"});
	fake_server_set_default(
	    fs, &(struct fake_reply){.status = 200, .chunks = quiet, .hold_ms = 20000});

	struct counts c = {.lock = PTHREAD_MUTEX_INITIALIZER};
	struct kube_informer_codec codec = {.decode = node_of, .free = free};
	struct kube_informer_opts opts = {
	    .res = &KUBE_RES_PODS,
	    .ns = "ns",
	    .page_size = 2,
	    .codec = &codec,
	    .item_handlers = {item_add, item_update, item_delete, &c},
	};
	struct kube_informer *inf = NULL;
	char err[256], buf[256] = "";
	ck_assert_int_eq(kube_informer_new(client, &opts, &inf, err, sizeof(err)), 0);
	ck_assert_int_eq(kube_informer_add_label_index(inf, "app", "app"), -EINVAL);
	ck_assert_int_eq(kube_informer_add_item_index(inf, "node", item_value, NULL), 0);
	ck_assert_int_eq(kube_informer_add_item_index(inf, "node", item_value, NULL), -EEXIST);
	ck_assert_int_eq(kube_informer_start(inf, err, sizeof(err)), 0);
	ck_assert(kube_informer_wait_synced(inf, 5000));

	ck_assert(wait_count(&c, &c.adds, 4));		/* a, b, c, d */
	ck_assert(wait_count(&c, &c.deletes, 2));	/* c by event, b by relist */
	ck_assert_int_eq(get_count(&c, &c.updates), 1); /* a; the relist saw a unchanged */

	ck_assert(kube_informer_contains(inf, "ns", "a"));
	ck_assert(!kube_informer_contains(inf, "ns", "b"));
	ck_assert_ptr_null(kube_informer_get(inf, "ns", "a")); /* no JSON kept */
	ck_assert_ptr_null(kube_informer_list(inf));
	ck_assert_int_eq(kube_informer_visit(inf, NULL, NULL, join_items, buf), 2);
	ck_assert_str_eq(buf, "ns/a=n2,ns/d=n3");
	buf[0] = '\0';
	ck_assert_int_eq(kube_informer_visit(inf, "node", "n3", join_items, buf), 1);
	ck_assert_str_eq(buf, "ns/d=n3");
	ck_assert_int_eq(kube_informer_visit(inf, "node", "n1", join_items, buf), 0);
	ck_assert_int_eq(kube_informer_visit(inf, "nope", "x", join_items, buf), -ENOENT);
	ck_assert_ptr_nonnull(strstr(fake_server_request(fs, 1).url, "continue=p2"));
	kube_informer_free(inf);
}
END_TEST

Suite *watch_suite(void)
{
	Suite *s = suite_create("watch");
	TCase *tc = tcase_create("watch");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_split_chunks);
	tcase_add_test(tc, test_resume_after_timeout_and_drop);
	tcase_add_test(tc, test_gone_event);
	tcase_add_test(tc, test_gone_status_and_forbidden);
	tcase_add_test(tc, test_max_failures);
	tcase_add_test(tc, test_stop_interrupts_stream);
	tcase_add_test(tc, test_informer);
	tcase_add_test(tc, test_informer_codec);
	suite_add_tcase(s, tc);
	return s;
}
