/* Many threads at once: distinct addresses, one acquisition per pool at a
 * time, other pools not blocked by a slow acquisition. */
#include "helpers.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREADS	       8
#define PER_THREAD     5
#define BLOCK_SIZE     4
#define CATALOG_BLOCKS 16

static struct fake_source fake;
static struct node_ipam *ipam;

struct worker {
	int id;
	const char *pool;
	char v4[PER_THREAD][IP_ADDR_STRLEN];
	int failures;
};

static void add_pool(const char *pool, int second_octet)
{
	for (int i = 0; i < CATALOG_BLOCKS; i++) {
		char name[32], v4[32], v6[64];
		snprintf(name, sizeof(name), "%s-%d", pool, i);
		snprintf(v4, sizeof(v4), "10.%d.0.%d/30", second_octet, i * BLOCK_SIZE);
		char raw[64];
		struct ip_prefix prefix;
		snprintf(raw, sizeof(raw), "fd%02x::%x/126", second_octet, i * BLOCK_SIZE);
		ck_assert_int_eq(ip_prefix_parse(raw, false, &prefix), 0);
		ip_prefix_format(&prefix, v6); /* canonical, as a real source writes */
		fake_source_add(&fake, pool, name, (unsigned)i, v4, v6);
	}
}

static void setup(void)
{
	fake_source_init(&fake);
	add_pool("big", 8);
	add_pool("other", 9);
	fake.acquire_delay_us = 2000;
	ipam = new_ipam(&fake, NULL, NULL);
}

static void teardown(void)
{
	node_ipam_destroy(ipam);
	fake_source_fini(&fake);
}

static void *allocate_some(void *arg)
{
	struct worker *w = arg;
	for (int i = 0; i < PER_THREAD; i++) {
		char id[32], v6[IP_ADDR_STRLEN], err[512];
		snprintf(id, sizeof(id), "t%d-%d", w->id, i);
		if (node_ipam_allocate(ipam, w->pool, id, "eth0", w->v4[i], v6, err, sizeof(err)))
			w->failures++;
	}
	return NULL;
}

START_TEST(parallel_allocations)
{
	static struct worker workers[THREADS];
	pthread_t threads[THREADS];
	for (int t = 0; t < THREADS; t++) {
		workers[t] = (struct worker){.id = t, .pool = t < 6 ? "big" : "other"};
		ck_assert_int_eq(pthread_create(&threads[t], NULL, allocate_some, &workers[t]), 0);
	}
	for (int t = 0; t < THREADS; t++)
		pthread_join(threads[t], NULL);

	for (int t = 0; t < THREADS; t++) {
		ck_assert_int_eq(workers[t].failures, 0);
		for (int i = 0; i < PER_THREAD; i++) {
			for (int u = 0; u < THREADS; u++) {
				for (int j = 0; j < PER_THREAD; j++) {
					if (u == t && j == i)
						continue;
					ck_assert_str_ne(workers[t].v4[i], workers[u].v4[j]);
				}
			}
		}
	}
	/* 30 addresses in "big" need 8 blocks of 4, 10 in "other" need 3. */
	ck_assert_int_eq(fake.acquires, 8 + 3);
	ck_assert_int_eq(fake.max_in_flight_same_pool, 1);
	ck_assert_uint_eq(record_count(ipam), THREADS * PER_THREAD);
}
END_TEST

static void *churn(void *arg)
{
	struct worker *w = arg;
	for (int i = 0; i < 40; i++) {
		char id[32], v4[IP_ADDR_STRLEN], v6[IP_ADDR_STRLEN], err[512];
		snprintf(id, sizeof(id), "t%d-%d", w->id, i);
		if (node_ipam_allocate(ipam, w->pool, id, "eth0", v4, v6, err, sizeof(err)) ||
		    node_ipam_free(ipam, id, "eth0", err, sizeof(err)))
			w->failures++;
		if (i % 10 == 0 && node_ipam_gc(ipam, NULL, NULL, err, sizeof(err)))
			w->failures++;
	}
	return NULL;
}

START_TEST(allocate_free_gc_churn)
{
	static struct worker workers[THREADS];
	pthread_t threads[THREADS];
	fake.acquire_delay_us = 0;
	for (int t = 0; t < THREADS; t++) {
		workers[t] = (struct worker){.id = t, .pool = t % 2 ? "big" : "other"};
		ck_assert_int_eq(pthread_create(&threads[t], NULL, churn, &workers[t]), 0);
	}
	for (int t = 0; t < THREADS; t++)
		pthread_join(threads[t], NULL);
	for (int t = 0; t < THREADS; t++)
		ck_assert_int_eq(workers[t].failures, 0);
	ck_assert_uint_eq(record_count(ipam), 0);
	ck_assert_uint_eq(fake_source_owned_count(&fake), 0);
	expect_owned(ipam, (const char *[]){NULL});
	ck_assert_int_eq(fake.max_in_flight_same_pool, 1);
}
END_TEST

static void *allocate_gated(void *arg)
{
	struct worker *w = arg;
	char v6[IP_ADDR_STRLEN], err[512];
	w->failures =
	    node_ipam_allocate(ipam, "other", "slow", "eth0", w->v4[0], v6, err, sizeof(err));
	return NULL;
}

START_TEST(slow_acquisition_blocks_only_its_pool)
{
	struct worker slow = {.id = 0};
	pthread_t thread;
	snprintf(fake.gate_pool, sizeof(fake.gate_pool), "other");
	fake.acquire_delay_us = 0;
	ck_assert_int_eq(pthread_create(&thread, NULL, allocate_gated, &slow), 0);
	fake_source_wait_in_flight(&fake, "other");

	/* While "other" waits for its block: */
	expect_allocate(ipam, "big", "fast", "eth0", "10.8.0.0", "fd08::");
	expect_allocate(ipam, "big", "fast", "eth0", "10.8.0.0", "fd08::");
	ck_assert_int_eq(node_ipam_pool_ready(ipam, "big"), 1);
	ck_assert_int_eq(node_ipam_pool_ready(ipam, "other"), 1);
	expect_owned(ipam, (const char *[]){"10.8.0.0/30", "fd08::/126", NULL});
	ck_assert_uint_eq(record_count(ipam), 1);
	char err[512];
	ck_assert_int_eq(node_ipam_free(ipam, "fast", "eth0", err, sizeof(err)), 0);

	fake_source_open_gate(&fake);
	pthread_join(thread, NULL);
	ck_assert_int_eq(slow.failures, 0);
	ck_assert_str_eq(slow.v4[0], "10.9.0.0");
}
END_TEST

Suite *concurrency_suite(void)
{
	Suite *s = suite_create("concurrency");
	TCase *tc = tcase_create("concurrency");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, parallel_allocations);
	tcase_add_test(tc, allocate_free_gc_churn);
	tcase_add_test(tc, slow_acquisition_blocks_only_its_pool);
	suite_add_tcase(s, tc);
	return s;
}
