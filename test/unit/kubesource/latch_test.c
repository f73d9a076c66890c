/* The UID-keyed latch between the BlockRequest watcher and a waiting acquisition. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "kubesource/latch.h"

static struct request_result result(const char *uid, enum request_state state)
{
	struct request_result r;
	memset(&r, 0, sizeof(r));
	snprintf(r.uid, sizeof(r.uid), "%s", uid);
	r.state = state;
	r.n_conditions = 1;
	snprintf(r.block, sizeof(r.block), "block-of-%s", uid);
	return r;
}

/* A result posted before anybody waits is kept. */
START_TEST(test_early_post_not_lost)
{
	struct request_latch l;
	latch_init(&l);
	struct request_result r = result("a", REQUEST_COMPLETE), out;
	latch_post(&l, &r);
	ck_assert_int_eq(latch_wait(&l, "a", wake_now_ms() + 10, &out), 0);
	ck_assert_str_eq(out.block, "block-of-a");
	latch_destroy(&l);
}
END_TEST

/* Results of other requests (stale ones) and unfinished ones do not wake the waiter. */
START_TEST(test_stale_and_in_progress_ignored)
{
	struct request_latch l;
	latch_init(&l);
	struct request_result stale = result("old", REQUEST_COMPLETE);
	struct request_result busy = result("new", REQUEST_IN_PROGRESS), out;
	latch_post(&l, &stale);
	latch_post(&l, &busy);
	long start = wake_now_ms();
	ck_assert_int_eq(latch_wait(&l, "new", start + 100, &out), -ETIMEDOUT);
	ck_assert_int_ge(wake_now_ms() - start, 95);
	struct request_result done = result("new", REQUEST_FAILED);
	latch_post(&l, &done); /* replaces the in-progress state of the same uid */
	ck_assert_int_eq(latch_wait(&l, "new", wake_now_ms() + 100, &out), 0);
	ck_assert_int_eq(out.state, REQUEST_FAILED);
	latch_destroy(&l);
}
END_TEST

/* The oldest results are dropped when more than LATCH_SLOTS arrive. */
START_TEST(test_bounded)
{
	struct request_latch l;
	latch_init(&l);
	char uid[16];
	struct request_result out;
	for (int i = 0; i < LATCH_SLOTS + 3; i++) {
		snprintf(uid, sizeof(uid), "u%d", i);
		struct request_result r = result(uid, REQUEST_COMPLETE);
		latch_post(&l, &r);
	}
	ck_assert_int_eq(latch_wait(&l, "u0", wake_now_ms(), &out), -ETIMEDOUT);
	snprintf(uid, sizeof(uid), "u%d", LATCH_SLOTS + 2);
	ck_assert_int_eq(latch_wait(&l, uid, wake_now_ms(), &out), 0);
	latch_destroy(&l);
}
END_TEST

struct poster {
	struct request_latch *l;
	long delay_ms;
};

static void *post_later(void *arg)
{
	struct poster *p = arg;
	struct timespec ts = {0, p->delay_ms * 1000000L};
	nanosleep(&ts, NULL);
	struct request_result stale = result("x", REQUEST_COMPLETE);
	struct request_result mine = result("mine", REQUEST_COMPLETE);
	latch_post(p->l, &stale);
	nanosleep(&ts, NULL);
	latch_post(p->l, &mine);
	return NULL;
}

/* A waiter wakes for its own result posted by another thread, not for a stale one. */
START_TEST(test_cross_thread)
{
	struct request_latch l;
	latch_init(&l);
	struct poster p = {&l, 30};
	pthread_t t;
	pthread_create(&t, NULL, post_later, &p);
	struct request_result out;
	long start = wake_now_ms();
	ck_assert_int_eq(latch_wait(&l, "mine", start + 5000, &out), 0);
	ck_assert_str_eq(out.uid, "mine");
	ck_assert_int_ge(wake_now_ms() - start, 55);
	pthread_join(t, NULL);
	latch_destroy(&l);
}
END_TEST

Suite *latch_suite(void);
Suite *latch_suite(void)
{
	Suite *s = suite_create("latch");
	TCase *tc = tcase_create("latch");
	tcase_add_test(tc, test_early_post_not_lost);
	tcase_add_test(tc, test_stale_and_in_progress_ignored);
	tcase_add_test(tc, test_bounded);
	tcase_add_test(tc, test_cross_thread);
	suite_add_tcase(s, tc);
	return s;
}
