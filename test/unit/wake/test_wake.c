#include "wake/wake.h"

#include <check.h>
#include <pthread.h>
#include <time.h>

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

START_TEST(test_deadline_passes)
{
	struct wake w;
	ck_assert_int_eq(wake_init(&w), 0);
	long start = wake_now_ms();
	long until = wake_deadline_after(80);
	ck_assert_int_ge(until, start + 80);
	wake_lock(&w);
	while (wake_wait_until_locked(&w, until))
		;
	wake_unlock(&w);
	long took = wake_now_ms() - start;
	ck_assert_int_ge(took, 80);
	ck_assert_int_lt(took, 2000);
	ck_assert_int_eq(wake_deadline_after(-1), WAKE_NEVER);
	wake_destroy(&w);
}
END_TEST

START_TEST(test_past_deadline_returns_at_once)
{
	struct wake w;
	ck_assert_int_eq(wake_init(&w), 0);
	wake_lock(&w);
	ck_assert(!wake_wait_until_locked(&w, wake_now_ms() - 1));
	wake_unlock(&w);
	wake_destroy(&w);
}
END_TEST

struct flagged {
	struct wake w;
	bool flag;
};

static void *set_flag_later(void *arg)
{
	struct flagged *f = arg;
	sleep_ms(50);
	wake_lock(&f->w);
	f->flag = true;
	wake_notify_locked(&f->w);
	wake_unlock(&f->w);
	return NULL;
}

START_TEST(test_notify_ends_wait_early)
{
	struct flagged f = {.flag = false};
	ck_assert_int_eq(wake_init(&f.w), 0);
	pthread_t t;
	long start = wake_now_ms();
	ck_assert_int_eq(pthread_create(&t, NULL, set_flag_later, &f), 0);
	long until = wake_deadline_after(10000);
	wake_lock(&f.w);
	while (!f.flag && wake_wait_until_locked(&f.w, until))
		;
	bool seen = f.flag;
	wake_unlock(&f.w);
	pthread_join(t, NULL);
	ck_assert(seen);
	ck_assert_int_lt(wake_now_ms() - start, 5000);
	wake_destroy(&f.w);
}
END_TEST

static void *stop_later(void *arg)
{
	sleep_ms(50);
	wake_stop(arg);
	return NULL;
}

START_TEST(test_stop_ends_sleep)
{
	struct wake w;
	ck_assert_int_eq(wake_init(&w), 0);
	ck_assert(!wake_stopped(&w));
	ck_assert(!wake_sleep(&w, 20)); /* runs out: not stopped */
	pthread_t t;
	long start = wake_now_ms();
	ck_assert_int_eq(pthread_create(&t, NULL, stop_later, &w), 0);
	ck_assert(wake_sleep(&w, 10000));
	pthread_join(t, NULL);
	ck_assert_int_lt(wake_now_ms() - start, 5000);
	ck_assert(wake_stopped(&w));
	ck_assert(wake_sleep(&w, 10000)); /* stays stopped: no wait at all */
	wake_destroy(&w);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("wake");
	TCase *tc = tcase_create("wake");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_deadline_passes);
	tcase_add_test(tc, test_past_deadline_returns_at_once);
	tcase_add_test(tc, test_notify_ends_wait_early);
	tcase_add_test(tc, test_stop_ends_sleep);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
