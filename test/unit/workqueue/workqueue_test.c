/* The shared work queue: de-duplication, requeue after processing, backoff, delays, shutdown. */
#include "workqueue/workqueue.h"

#include <check.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static char *take(struct workqueue *q)
{
	char *key = NULL;
	ck_assert(workqueue_get(q, &key));
	return key;
}

START_TEST(dedupes_and_keeps_order)
{
	struct workqueue *q = workqueue_new(10, 100);
	workqueue_add(q, "a");
	workqueue_add(q, "b");
	workqueue_add(q, "a");
	ck_assert_int_eq(workqueue_len(q), 2);
	char *a = take(q), *b = take(q);
	ck_assert_str_eq(a, "a");
	ck_assert_str_eq(b, "b");
	workqueue_done(q, a);
	workqueue_done(q, b);
	ck_assert_int_eq(workqueue_len(q), 0);
	free(a);
	free(b);
	workqueue_free(q);
}
END_TEST

/* A key added while it is processed is handed out again only after done. */
START_TEST(requeues_after_processing)
{
	struct workqueue *q = workqueue_new(10, 100);
	workqueue_add(q, "a");
	char *a = take(q);
	workqueue_add(q, "a");
	workqueue_add(q, "a");
	ck_assert_int_eq(workqueue_len(q), 0);
	workqueue_done(q, a);
	ck_assert_int_eq(workqueue_len(q), 1);
	free(a);
	a = take(q);
	ck_assert_str_eq(a, "a");
	workqueue_done(q, a);
	ck_assert_int_eq(workqueue_len(q), 0);
	free(a);
	workqueue_free(q);
}
END_TEST

START_TEST(rate_limited_backoff)
{
	struct workqueue *q = workqueue_new(40, 100);
	long delays[4];
	for (int i = 0; i < 4; i++) {
		long start = now_ms();
		workqueue_add_rate_limited(q, "k");
		ck_assert_int_eq(workqueue_len(q), 0);
		char *k = take(q);
		delays[i] = now_ms() - start;
		workqueue_done(q, k);
		free(k);
	}
	ck_assert_int_eq(workqueue_failures(q, "k"), 4);
	ck_assert_int_ge(delays[0], 35);
	ck_assert_int_ge(delays[1], 75);
	ck_assert_int_ge(delays[2], 95); /* capped at 100 */
	ck_assert_int_lt(delays[3], 400);
	workqueue_forget(q, "k");
	ck_assert_int_eq(workqueue_failures(q, "k"), 0);
	workqueue_free(q);
}
END_TEST

/* add_after keeps the earlier of two due times; add wins over a pending delay. */
START_TEST(add_after)
{
	struct workqueue *q = workqueue_new(10, 100);
	long start = now_ms();
	workqueue_add_after(q, "k", 5000);
	workqueue_add_after(q, "k", 50);
	char *k = take(q);
	ck_assert_int_ge(now_ms() - start, 45);
	ck_assert_int_lt(now_ms() - start, 2000);
	workqueue_done(q, k);
	free(k);
	workqueue_add(q, "now");
	k = take(q);
	ck_assert_str_eq(k, "now");
	workqueue_done(q, k);
	free(k);
	workqueue_free(q);
}
END_TEST

struct consumer {
	struct workqueue *q;
	int taken;
	char *keys[8];
};

static void *consume(void *arg)
{
	struct consumer *c = arg;
	char *key;
	while (workqueue_get(c->q, &key)) {
		if (c->taken < 8)
			c->keys[c->taken] = strdup(key);
		c->taken++;
		workqueue_done(c->q, key);
		free(key);
	}
	return NULL;
}

START_TEST(shutdown_wakes_waiters)
{
	struct consumer c = {.q = workqueue_new(10, 100)};
	pthread_t t;
	pthread_create(&t, NULL, consume, &c);
	workqueue_add(c.q, "x");
	long start = now_ms();
	while (workqueue_len(c.q) > 0 && now_ms() - start < 2000)
		;
	struct timespec ts = {0, 50 * 1000000L};
	nanosleep(&ts, NULL);
	workqueue_shutdown(c.q);
	pthread_join(t, NULL);
	ck_assert_int_eq(c.taken, 1);
	ck_assert_str_eq(c.keys[0], "x");
	free(c.keys[0]);
	workqueue_add(c.q, "ignored");
	char *key;
	ck_assert(!workqueue_get(c.q, &key));
	workqueue_free(c.q);
}
END_TEST

static TCase *workqueue_tcase(void)
{
	TCase *tc = tcase_create("workqueue");
	tcase_add_test(tc, dedupes_and_keeps_order);
	tcase_add_test(tc, requeues_after_processing);
	tcase_add_test(tc, rate_limited_backoff);
	tcase_add_test(tc, add_after);
	tcase_add_test(tc, shutdown_wakes_waiters);
	return tc;
}

int main(void)
{
	Suite *s = suite_create("workqueue");
	suite_add_tcase(s, workqueue_tcase());
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
