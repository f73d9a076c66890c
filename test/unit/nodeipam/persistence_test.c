/* A daemon killed without freeing anything, restarted over the same state
 * directory, must not hand out the same addresses again. */
#include "helpers.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct fake_source fake;
static char root[] = "/tmp/coil-nodeipam-XXXXXX";
static char state_dir[256], boot_id[256], alloc_dir[300];

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void setup(void)
{
	fake_source_init(&fake);
	add_spec_blocks(&fake);
	snprintf(root, sizeof(root), "/tmp/coil-nodeipam-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(root));
	snprintf(state_dir, sizeof(state_dir), "%s/state", root);
	snprintf(alloc_dir, sizeof(alloc_dir), "%s/allocations", state_dir);
	snprintf(boot_id, sizeof(boot_id), "%s/boot_id_source", root);
	write_text(boot_id, "boot-A\n");
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void teardown(void)
{
	nftw(root, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
	fake_source_fini(&fake);
}

static int count_files(const char *dir)
{
	DIR *d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	int n = 0;
	for (struct dirent *e = readdir(d); e; e = readdir(d))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

START_TEST(restart_keeps_allocations)
{
	struct node_ipam *first = new_ipam(&fake, state_dir, boot_id);
	expect_allocate(first, "default", "c0", "eth0", "10.2.0.0", "fd02::200");
	expect_allocate(first, "default", "c1", "eth0", "10.2.0.1", "fd02::201");
	expect_allocate(first, "default", "c2", "eth0", "10.2.0.2", "fd02::202");
	ck_assert_int_eq(count_files(alloc_dir), 3);
	node_ipam_destroy(first); /* SIGKILL: nothing freed */

	/* Leftovers a crash can leave, and junk, must not disturb loading. */
	char path[512];
	snprintf(path, sizeof(path), "%s/.tmp-c9%%3Aeth0", alloc_dir);
	write_text(path, "{\"container_id\":");
	snprintf(path, sizeof(path), "%s/garbage", alloc_dir);
	write_text(path, "not json");

	struct node_ipam *second = new_ipam(&fake, state_dir, boot_id);
	ck_assert_uint_eq(record_count(second), 3);
	ck_assert_int_eq(access(path, F_OK), 0); /* junk left alone */
	snprintf(path, sizeof(path), "%s/.tmp-c9%%3Aeth0", alloc_dir);
	ck_assert_int_ne(access(path, F_OK), 0); /* temp file removed */

	expect_allocate(second, "default", "c3", "eth0", "10.2.0.3", "fd02::203");
	expect_allocate(second, "default", "c0", "eth0", "10.2.0.0", "fd02::200");
	char v4[IP_ADDR_STRLEN], v6[IP_ADDR_STRLEN], err[512];
	ck_assert_int_eq(
	    node_ipam_allocate(second, "default", "c4", "eth0", v4, v6, err, sizeof(err)), -ENOSPC);
	ck_assert_int_eq(fake.acquires, 2 + 1); /* before the restart, and c4's failed try */

	ck_assert_int_eq(node_ipam_free(second, "c1", "eth0", err, sizeof(err)), 0);
	ck_assert_int_eq(count_files(alloc_dir), 1 + 3); /* c0 c2 c3 + garbage */
	node_ipam_destroy(second);

	struct node_ipam *third = new_ipam(&fake, state_dir, boot_id);
	ck_assert_uint_eq(record_count(third), 3);
	expect_allocate(third, "default", "c5", "eth0", "10.2.0.1", "fd02::201");
	node_ipam_destroy(third);
}
END_TEST

START_TEST(reboot_discards_records)
{
	struct node_ipam *first = new_ipam(&fake, state_dir, boot_id);
	expect_allocate(first, "default", "c0", "eth0", "10.2.0.0", "fd02::200");
	expect_allocate(first, "v4", "d0", "eth0", "10.4.0.0", "");
	node_ipam_destroy(first);

	write_text(boot_id, "boot-B\n");
	struct node_ipam *second = new_ipam(&fake, state_dir, boot_id);
	ck_assert_uint_eq(record_count(second), 0);
	ck_assert_int_eq(count_files(alloc_dir), 0);
	char err[512];
	ck_assert_int_eq(node_ipam_gc(second, NULL, NULL, err, sizeof(err)), 0);
	ck_assert_uint_eq(fake_source_owned_count(&fake), 0);
	expect_allocate(second, "default", "c0", "eth0", "10.2.0.0", "fd02::200");
	node_ipam_destroy(second);

	/* Same boot: kept. */
	struct node_ipam *third = new_ipam(&fake, state_dir, boot_id);
	ck_assert_uint_eq(record_count(third), 1);
	node_ipam_destroy(third);
}
END_TEST

START_TEST(record_of_unknown_block_is_kept)
{
	struct node_ipam *first = new_ipam(&fake, state_dir, boot_id);
	expect_allocate(first, "v4", "d0", "eth0", "10.4.0.0", "");
	node_ipam_destroy(first);

	fake_source_disown(&fake, "v4-0");
	struct node_ipam *second = new_ipam(&fake, state_dir, boot_id);
	ck_assert_uint_eq(record_count(second), 1);
	char err[512];
	ck_assert_int_eq(node_ipam_gc(second, NULL, NULL, err, sizeof(err)), 0);
	ck_assert_uint_eq(record_count(second), 1);

	/* The block comes back (e.g. the source was briefly incomplete): the
	 * record is re-marked, so its address is not handed out again. */
	fake_source_own(&fake, "v4-0", false);
	ck_assert_int_eq(node_ipam_sync(second, err, sizeof(err)), 0);
	expect_allocate(second, "v4", "d1", "eth0", "10.4.0.1", "");
	ck_assert_int_eq(node_ipam_free(second, "d0", "eth0", err, sizeof(err)), 0);
	ck_assert_int_eq(count_files(alloc_dir), 1);
	node_ipam_destroy(second);
}
END_TEST

START_TEST(unreadable_boot_id_keeps_records)
{
	struct node_ipam *first = new_ipam(&fake, state_dir, boot_id);
	expect_allocate(first, "default", "c0", "eth0", "10.2.0.0", "fd02::200");
	node_ipam_destroy(first);
	char missing[300];
	snprintf(missing, sizeof(missing), "%s/missing", root);
	struct node_ipam *second = new_ipam(&fake, state_dir, missing);
	ck_assert_uint_eq(record_count(second), 1);
	node_ipam_destroy(second);
}
END_TEST

START_TEST(odd_keys_get_safe_file_names)
{
	struct node_ipam *ipam = new_ipam(&fake, state_dir, boot_id);
	expect_allocate(ipam, "default", "../../etc/passwd", "eth0", "10.2.0.0", "fd02::200");
	expect_allocate(ipam, "default", ".", "..", "10.2.0.1", "fd02::201");
	ck_assert_int_eq(count_files(alloc_dir), 2);
	node_ipam_destroy(ipam);
	ipam = new_ipam(&fake, state_dir, boot_id);
	ck_assert_uint_eq(record_count(ipam), 2);
	char err[512];
	ck_assert_int_eq(node_ipam_free(ipam, "../../etc/passwd", "eth0", err, sizeof(err)), 0);
	ck_assert_int_eq(node_ipam_free(ipam, ".", "..", err, sizeof(err)), 0);
	ck_assert_int_eq(count_files(alloc_dir), 0);
	node_ipam_destroy(ipam);
}
END_TEST

static struct node_ipam *new_ipam_of_node(const char *node)
{
	struct node_ipam_config config = {
	    .source = &fake.source,
	    .state_dir = state_dir,
	    .boot_id_path = boot_id,
	    .node_name = node,
	};
	struct node_ipam *ipam = NULL;
	char err[512] = "";
	ck_assert_msg(node_ipam_new(&config, &ipam, err, sizeof(err)) == 0, "%s", err);
	return ipam;
}

/* A state directory carried over to another node: its records are discarded, not applied,
 * so the block's addresses are free; records without a node are applied. */
START_TEST(records_of_another_node_are_discarded)
{
	struct node_ipam *first = new_ipam_of_node("node-a");
	expect_allocate(first, "default", "c0", "eth0", "10.2.0.0", "fd02::200");
	node_ipam_destroy(first);
	struct node_ipam *other = new_ipam_of_node("node-b");
	ck_assert_uint_eq(record_count(other), 0);
	ck_assert_int_eq(count_files(alloc_dir), 0);
	expect_allocate(other, "default", "c1", "eth0", "10.2.0.0", "fd02::200");
	node_ipam_destroy(other);
	struct node_ipam *any = new_ipam(&fake, state_dir, boot_id);
	ck_assert_uint_eq(record_count(any), 1);
	node_ipam_destroy(any);
}
END_TEST

/* Nothing changed: the boot id file is left alone (a full disk must not stop a start). */
START_TEST(unchanged_boot_id_is_not_rewritten)
{
	char path[300];
	struct stat before, after;
	snprintf(path, sizeof(path), "%s/boot_id", state_dir);
	node_ipam_destroy(new_ipam(&fake, state_dir, boot_id));
	ck_assert_int_eq(stat(path, &before), 0);
	node_ipam_destroy(new_ipam(&fake, state_dir, boot_id));
	ck_assert_int_eq(stat(path, &after), 0);
	ck_assert_uint_eq(before.st_ino, after.st_ino);
	write_text(boot_id, "boot-C\n"); /* a reboot: written anew */
	node_ipam_destroy(new_ipam(&fake, state_dir, boot_id));
	ck_assert_int_eq(stat(path, &after), 0);
	ck_assert_uint_ne(before.st_ino, after.st_ino);
}
END_TEST

Suite *persistence_suite(void)
{
	Suite *s = suite_create("persistence");
	TCase *tc = tcase_create("persistence");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, restart_keeps_allocations);
	tcase_add_test(tc, reboot_discards_records);
	tcase_add_test(tc, record_of_unknown_block_is_kept);
	tcase_add_test(tc, unreadable_boot_id_keeps_records);
	tcase_add_test(tc, odd_keys_get_safe_file_names);
	tcase_add_test(tc, records_of_another_node_are_discarded);
	tcase_add_test(tc, unchanged_boot_id_is_not_rewritten);
	suite_add_tcase(s, tc);
	return s;
}
