/* Upstream's node IPAM cases with a fake block source. */
#include "helpers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct fake_source fake;

static void setup(void)
{
	fake_source_init(&fake);
	add_spec_blocks(&fake);
}

static void teardown(void)
{
	fake_source_fini(&fake);
}

START_TEST(allocation_sequence)
{
	struct node_ipam *ipam = new_ipam(&fake, NULL, NULL);
	char v4[IP_ADDR_STRLEN], v6[IP_ADDR_STRLEN], err[512];

	expect_allocate(ipam, "default", "c0", "eth0", "10.2.0.0", "fd02::200");
	expect_owned(ipam, (const char *[]){"10.2.0.0/31", "fd02::200/127", NULL});
	expect_allocate(ipam, "default", "c1", "eth0", "10.2.0.1", "fd02::201");
	expect_allocate(ipam, "default", "c2", "eth0", "10.2.0.2", "fd02::202");
	expect_allocate(ipam, "default", "c3", "eth0", "10.2.0.3", "fd02::203");
	expect_owned(ipam, (const char *[]){"10.2.0.0/31", "10.2.0.2/31", "fd02::200/127",
					    "fd02::202/127", NULL});
	ck_assert_int_eq(fake.acquires, 2);

	ck_assert_int_eq(
	    node_ipam_allocate(ipam, "default", "cxx", "eth0", v4, v6, err, sizeof(err)), -ENOSPC);
	ck_assert_ptr_nonnull(strstr(err, "does not have free blocks"));
	ck_assert_str_eq(v4, "");

	ck_assert_int_eq(node_ipam_free(ipam, "c2", "eth0", err, sizeof(err)), 0);
	expect_allocate(ipam, "default", "c100", "eth0", "10.2.0.2", "fd02::202");

	expect_allocate(ipam, "v4", "d1", "eth0", "10.4.0.0", "");
	expect_allocate(ipam, "v4", "d2", "eth0", "10.4.0.1", "");
	ck_assert_int_eq(node_ipam_free(ipam, "d1", "eth0", err, sizeof(err)), 0);
	expect_allocate(ipam, "v4", "c101", "eth0", "10.4.0.2", ""); /* not 10.4.0.0 */

	ck_assert_int_eq(node_ipam_allocate(ipam, "nosuch", "e", "eth0", v4, v6, err, sizeof(err)),
			 -ENOENT);
	node_ipam_destroy(ipam);
}
END_TEST

START_TEST(source_errors_propagate)
{
	struct node_ipam *ipam = new_ipam(&fake, NULL, NULL);
	char v4[IP_ADDR_STRLEN], v6[IP_ADDR_STRLEN], err[512] = "";
	fake.acquire_error = -ETIMEDOUT;
	ck_assert_int_eq(
	    node_ipam_allocate(ipam, "default", "c0", "eth0", v4, v6, err, sizeof(err)),
	    -ETIMEDOUT);
	ck_assert_ptr_nonnull(strstr(err, "default"));
	fake.acquire_error = -EAGAIN;
	ck_assert_int_eq(
	    node_ipam_allocate(ipam, "default", "c0", "eth0", v4, v6, err, sizeof(err)), -EAGAIN);
	ck_assert_uint_eq(record_count(ipam), 0);
	fake.acquire_error = 0;
	expect_allocate(ipam, "default", "c0", "eth0", "10.2.0.0", "fd02::200");
	node_ipam_destroy(ipam);
}
END_TEST

START_TEST(idempotent_allocate)
{
	struct node_ipam *ipam = new_ipam(&fake, NULL, NULL);
	expect_allocate(ipam, "default", "c0", "eth0", "10.2.0.0", "fd02::200");
	expect_allocate(ipam, "default", "c0", "eth0", "10.2.0.0", "fd02::200");
	expect_allocate(ipam, "v4", "c0", "eth0", "10.2.0.0", "fd02::200"); /* pool ignored */
	expect_allocate(ipam, "default", "c0", "eth1", "10.2.0.1", "fd02::201");
	ck_assert_uint_eq(record_count(ipam), 2);
	node_ipam_destroy(ipam);
}
END_TEST

START_TEST(bad_arguments)
{
	struct node_ipam *ipam = new_ipam(&fake, NULL, NULL);
	char v4[IP_ADDR_STRLEN], v6[IP_ADDR_STRLEN], err[512];
	char long_id[NODE_IPAM_ID_MAX + 1];
	memset(long_id, 'a', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	ck_assert_int_eq(node_ipam_allocate(ipam, "default", "", "eth0", v4, v6, err, sizeof(err)),
			 -EINVAL);
	ck_assert_int_eq(node_ipam_allocate(ipam, "default", "c", "", v4, v6, err, sizeof(err)),
			 -EINVAL);
	ck_assert_int_eq(
	    node_ipam_allocate(ipam, "default", long_id, "eth0", v4, v6, err, sizeof(err)),
	    -EINVAL);
	ck_assert_int_eq(node_ipam_allocate(ipam, "default", "c", "averyveryverylongifname", v4, v6,
					    err, sizeof(err)),
			 -EINVAL);
	ck_assert_int_eq(
	    node_ipam_register(ipam, "default", "c", "eth0", "a.b.c.d", NULL, err, sizeof(err)),
	    -EINVAL);
	node_ipam_destroy(ipam);
}
END_TEST

START_TEST(free_releases_empty_block)
{
	struct node_ipam *ipam = new_ipam(&fake, NULL, NULL);
	char err[512];
	ck_assert_int_eq(node_ipam_free(ipam, "unknown", "eth0", err, sizeof(err)), 0);
	expect_allocate(ipam, "default", "c0", "eth0", "10.2.0.0", "fd02::200");
	ck_assert_uint_eq(fake_source_owned_count(&fake), 1);

	/* A failed release frees the address anyway; the empty block stays owned. */
	fake.release_error = -EAGAIN;
	ck_assert_int_eq(node_ipam_free(ipam, "c0", "eth0", err, sizeof(err)), 0);
	ck_assert_uint_eq(record_count(ipam), 0);
	ck_assert_uint_eq(fake_source_owned_count(&fake), 1);
	expect_allocate(ipam, "default", "c1", "eth0", "10.2.0.1", "fd02::201");

	fake.release_error = 0;
	ck_assert_int_eq(node_ipam_free(ipam, "c1", "eth0", err, sizeof(err)), 0);
	ck_assert_int_eq(node_ipam_free(ipam, "c1", "eth0", err, sizeof(err)), 0);
	ck_assert_uint_eq(record_count(ipam), 0);
	ck_assert_uint_eq(fake_source_owned_count(&fake), 0);
	expect_owned(ipam, (const char *[]){NULL});
	node_ipam_destroy(ipam);
}
END_TEST

/* A fresh node IPAM rebuilt from the kernel's view. */
START_TEST(restore_with_register_and_gc)
{
	struct node_ipam *before = new_ipam(&fake, NULL, NULL);
	expect_allocate(before, "default", "c0", "eth0", "10.2.0.0", "fd02::200");
	expect_allocate(before, "default", "c0", "eth1", "10.2.0.1", "fd02::201");
	expect_allocate(before, "default", "c0", "eth2", "10.2.0.2", "fd02::202");
	expect_allocate(before, "v4", "d0", "eth0", "10.4.0.0", "");
	ck_assert_uint_eq(fake_source_owned_count(&fake), 3);
	node_ipam_destroy(before); /* crash: nothing freed */

	struct node_ipam *ipam = new_ipam(&fake, NULL, NULL);
	char err[512];
	ck_assert_int_eq(node_ipam_register(ipam, "default", "c0", "eth2", "10.2.0.2", "fd02::202",
					    err, sizeof(err)),
			 0);
	/* An address of no owned block is only logged. */
	ck_assert_int_eq(
	    node_ipam_register(ipam, "default", "c9", "eth0", "10.99.0.1", NULL, err, sizeof(err)),
	    0);
	ck_assert_uint_eq(record_count(ipam), 1);
	ck_assert_int_eq(node_ipam_gc(ipam, NULL, NULL, err, sizeof(err)), 0);
	expect_owned(ipam, (const char *[]){"10.2.0.2/31", "fd02::202/127", NULL});
	ck_assert_uint_eq(fake_source_owned_count(&fake), 1);
	expect_allocate(ipam, "default", "c0", "eth3", "10.2.0.3", "fd02::203");
	node_ipam_destroy(ipam);
}
END_TEST

/* A reserved block is never used nor released. */
START_TEST(reserved_block)
{
	fake_source_add(&fake, "default", "default-2", 2, "10.2.0.4/31", "fd02::204/127");
	fake_source_own(&fake, "default-2", true);
	struct node_ipam *ipam = new_ipam(&fake, NULL, NULL);
	char err[512];
	expect_allocate(ipam, "default", "c0", "eth0", "10.2.0.0", "fd02::200");
	ck_assert_uint_eq(fake_source_owned_count(&fake), 2);
	ck_assert_int_eq(node_ipam_free(ipam, "c0", "eth0", err, sizeof(err)), 0);
	ck_assert_int_eq(node_ipam_gc(ipam, NULL, NULL, err, sizeof(err)), 0);
	ck_assert_uint_eq(fake_source_owned_count(&fake), 1); /* only default-2 */
	expect_owned(ipam, (const char *[]){"10.2.0.4/31", "fd02::204/127", NULL});
	node_ipam_destroy(ipam);
}
END_TEST

static bool keep_c1(const struct node_ipam_record *record, void *arg)
{
	return strcmp(record->container_id, arg) == 0;
}

START_TEST(cni_gc)
{
	struct node_ipam *ipam = new_ipam(&fake, NULL, NULL);
	char err[512];
	expect_allocate(ipam, "default", "c0", "eth0", "10.2.0.0", "fd02::200");
	expect_allocate(ipam, "default", "c1", "eth0", "10.2.0.1", "fd02::201");
	expect_allocate(ipam, "default", "c2", "eth0", "10.2.0.2", "fd02::202");
	expect_allocate(ipam, "v4", "d0", "eth0", "10.4.0.0", "");
	ck_assert_int_eq(node_ipam_gc(ipam, keep_c1, "c1", err, sizeof(err)), 0);
	ck_assert_uint_eq(record_count(ipam), 1);
	expect_owned(ipam, (const char *[]){"10.2.0.0/31", "fd02::200/127", NULL});

	const struct node_ipam_key none[] = {{"x", "eth0"}};
	ck_assert_int_eq(node_ipam_gc_attachments(ipam, none, 1, err, sizeof(err)), 0);
	ck_assert_uint_eq(record_count(ipam), 0);
	ck_assert_uint_eq(fake_source_owned_count(&fake), 0);
	node_ipam_destroy(ipam);
}
END_TEST

START_TEST(sync_drops_vanished_blocks)
{
	struct node_ipam *ipam = new_ipam(&fake, NULL, NULL);
	char err[512];
	expect_allocate(ipam, "default", "c0", "eth0", "10.2.0.0", "fd02::200");
	expect_allocate(ipam, "v4", "d0", "eth0", "10.4.0.0", "");
	fake_source_disown(&fake, "v4-0");
	ck_assert_int_eq(node_ipam_sync(ipam, err, sizeof(err)), 0);
	expect_owned(ipam, (const char *[]){"10.2.0.0/31", "fd02::200/127", NULL});
	ck_assert_uint_eq(record_count(ipam), 2); /* records are kept */
	/* Freeing a record of a vanished block just forgets it. */
	ck_assert_int_eq(node_ipam_free(ipam, "d0", "eth0", err, sizeof(err)), 0);
	ck_assert_uint_eq(record_count(ipam), 1);

	fake.list_error = -EAGAIN;
	ck_assert_int_eq(node_ipam_sync(ipam, err, sizeof(err)), -EAGAIN);
	ck_assert_int_eq(node_ipam_gc(ipam, NULL, NULL, err, sizeof(err)), -EAGAIN);
	node_ipam_destroy(ipam);
}
END_TEST

START_TEST(pool_ready)
{
	struct node_ipam *ipam = new_ipam(&fake, NULL, NULL);
	ck_assert_int_eq(node_ipam_pool_ready(ipam, "v4"), 1); /* can acquire */
	ck_assert_int_eq(node_ipam_pool_ready(ipam, "nosuch"), 0);
	for (int i = 0; i < 4; i++) {
		char id[8], v4[IP_ADDR_STRLEN], v6[IP_ADDR_STRLEN], err[512];
		snprintf(id, sizeof(id), "d%d", i);
		ck_assert_int_eq(node_ipam_pool_ready(ipam, "v4"), 1);
		ck_assert_int_eq(
		    node_ipam_allocate(ipam, "v4", id, "eth0", v4, v6, err, sizeof(err)), 0);
	}
	ck_assert_int_eq(node_ipam_pool_ready(ipam, "v4"), 0); /* full, catalog empty */
	node_ipam_destroy(ipam);
}
END_TEST

static int changes;
static void count_change(void *arg)
{
	(void)arg;
	changes++;
}

START_TEST(blocks_changed_hook)
{
	struct node_ipam_config config = {.source = &fake.source, .blocks_changed = count_change};
	struct node_ipam *ipam;
	char err[512];
	changes = 0;
	ck_assert_int_eq(node_ipam_new(&config, &ipam, err, sizeof(err)), 0);
	expect_allocate(ipam, "default", "c0", "eth0", "10.2.0.0", "fd02::200");
	ck_assert_int_eq(changes, 1);
	expect_allocate(ipam, "default", "c1", "eth0", "10.2.0.1", "fd02::201");
	ck_assert_int_eq(changes, 1);
	ck_assert_int_eq(node_ipam_free(ipam, "c0", "eth0", err, sizeof(err)), 0);
	ck_assert_int_eq(changes, 1);
	ck_assert_int_eq(node_ipam_free(ipam, "c1", "eth0", err, sizeof(err)), 0);
	ck_assert_int_eq(changes, 2);
	node_ipam_destroy(ipam);
}
END_TEST

START_TEST(single_address_blocks)
{
	fake_source_add(&fake, "tiny", "tiny-0", 0, "10.9.0.0/32", "");
	fake_source_add(&fake, "tiny", "tiny-1", 1, "", "fd09::1/128");
	struct node_ipam *ipam = new_ipam(&fake, NULL, NULL);
	char v4[IP_ADDR_STRLEN], v6[IP_ADDR_STRLEN], err[512];
	expect_allocate(ipam, "tiny", "a", "eth0", "10.9.0.0", "");
	expect_allocate(ipam, "tiny", "b", "eth0", "", "fd09::1");
	ck_assert_int_eq(node_ipam_allocate(ipam, "tiny", "c", "eth0", v4, v6, err, sizeof(err)),
			 -ENOSPC);
	node_ipam_destroy(ipam);
}
END_TEST

Suite *sequence_suite(void)
{
	Suite *s = suite_create("sequence");
	TCase *tc = tcase_create("sequence");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, allocation_sequence);
	tcase_add_test(tc, source_errors_propagate);
	tcase_add_test(tc, idempotent_allocate);
	tcase_add_test(tc, bad_arguments);
	tcase_add_test(tc, free_releases_empty_block);
	tcase_add_test(tc, restore_with_register_and_gc);
	tcase_add_test(tc, reserved_block);
	tcase_add_test(tc, cni_gc);
	tcase_add_test(tc, sync_drops_vanished_blocks);
	tcase_add_test(tc, pool_ready);
	tcase_add_test(tc, blocks_changed_hook);
	tcase_add_test(tc, single_address_blocks);
	suite_add_tcase(s, tc);
	return s;
}
