/* The standalone block source: carving sequences (as the controller carves), the
 * state file across restarts, corrupt states, manifest changes and threads. */
#include "standalone/standalone.h"
#include "log/log.h"

#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The pools of upstream's pool manager tests, plus a namespace choosing a pool. */
static const char *const fixture_manifest =
    "apiVersion: coil.cybozu.com/v2\nkind: AddressPool\nmetadata: {name: default}\n"
    "spec:\n  blockSizeBits: 1\n  subnets:\n"
    "  - {ipv4: 10.2.0.0/29, ipv6: \"fd02::0200/125\"}\n"
    "  - {ipv4: 10.3.0.0/30, ipv6: \"fd02::0300/126\"}\n"
    "---\napiVersion: coil.cybozu.com/v2\nkind: AddressPool\nmetadata: {name: v4}\n"
    "spec: {blockSizeBits: 2, subnets: [{ipv4: 10.4.0.0/29}]}\n"
    "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: dmz\n  annotations:\n"
    "    coil.cybozu.com/pool: v4\n"
    "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: blank\n  annotations:\n"
    "    coil.cybozu.com/pool: ''\n";

static char workdir[64];
static char manifest_path[128];
static char state_dir[128];
static char state_file[160];

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* The file's content (malloc'd, caller frees). */
static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	char *text = calloc(1, 1 << 16);
	fread(text, 1, (1 << 16) - 1, f);
	fclose(f);
	return text;
}

static void setup(void)
{
	snprintf(workdir, sizeof(workdir), "/tmp/coil-standalone-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(workdir));
	snprintf(manifest_path, sizeof(manifest_path), "%s/pools.yaml", workdir);
	snprintf(state_dir, sizeof(state_dir), "%s/state", workdir);
	snprintf(state_file, sizeof(state_file), "%s/blocks.json", state_dir);
	write_file(manifest_path, fixture_manifest);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void teardown(void)
{
	nftw(workdir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static struct block_source open_source(void)
{
	struct block_source src;
	char err[512] = "";
	int ret = standalone_open(manifest_path, state_dir, "node1", &src, err, sizeof(err));
	ck_assert_msg(ret == 0, "open: %d %s", ret, err);
	return src;
}

static struct node_block acquire_ok(struct block_source *src, const char *pool)
{
	struct node_block b;
	char err[512] = "";
	int ret = src->ops->acquire(src->ctx, pool, &b, err, sizeof(err));
	ck_assert_msg(ret == 0, "acquire %s: %d %s", pool, ret, err);
	return b;
}

static void release_ok(struct block_source *src, const struct node_block *b)
{
	char err[512] = "";
	int ret = src->ops->release(src->ctx, b, err, sizeof(err));
	ck_assert_msg(ret == 0, "release %s: %d %s", b->name, ret, err);
}

static void assert_block(const struct node_block *b, const char *name, unsigned index,
			 const char *ipv4, const char *ipv6)
{
	ck_assert_str_eq(b->name, name);
	ck_assert_uint_eq(b->index, index);
	ck_assert_str_eq(b->ipv4, ipv4);
	ck_assert_str_eq(b->ipv6, ipv6);
	ck_assert(!b->reserved);
}

static void assert_exhausted(struct block_source *src, const char *pool)
{
	struct node_block b;
	char err[512] = "", want[128];
	ck_assert_int_eq(src->ops->acquire(src->ctx, pool, &b, err, sizeof(err)), -ENOSPC);
	snprintf(want, sizeof(want), "pool %s does not have free blocks", pool);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(src->ops->can_acquire(src->ctx, pool), 0);
}

static size_t count_blocks(struct block_source *src)
{
	struct node_block *blocks;
	size_t n;
	char err[256];
	ck_assert_int_eq(src->ops->list(src->ctx, &blocks, &n, err, sizeof(err)), 0);
	free(blocks);
	return n;
}

static const struct {
	const char *ipv4, *ipv6;
} default_blocks[] = {
    {"10.2.0.0/31", "fd02::200/127"}, {"10.2.0.2/31", "fd02::202/127"},
    {"10.2.0.4/31", "fd02::204/127"}, {"10.2.0.6/31", "fd02::206/127"},
    {"10.3.0.0/31", "fd02::300/127"}, {"10.3.0.2/31", "fd02::302/127"},
};

START_TEST(test_default_pool_sequence)
{
	struct block_source src = open_source();
	ck_assert_int_eq(src.ops->can_acquire(src.ctx, "default"), 1);
	for (unsigned i = 0; i < 6; i++) {
		struct node_block b = acquire_ok(&src, "default");
		char name[32];
		snprintf(name, sizeof(name), "default-%u", i);
		assert_block(&b, name, i, default_blocks[i].ipv4, default_blocks[i].ipv6);
		ck_assert_str_eq(b.pool, "default");
	}
	assert_exhausted(&src, "default");
	ck_assert_uint_eq(count_blocks(&src), 6);

	struct node_block four = {.name = "default-4", .pool = "default", .index = 4};
	release_ok(&src, &four);
	release_ok(&src, &four); /* already gone: still success */
	ck_assert_int_eq(src.ops->can_acquire(src.ctx, "default"), 1);
	struct node_block again = acquire_ok(&src, "default");
	assert_block(&again, "default-4", 4, "10.3.0.0/31", "fd02::300/127");
	assert_exhausted(&src, "default");
	standalone_close(&src);
	standalone_close(&src); /* twice is harmless */
}
END_TEST

START_TEST(test_v4_pool_sequence)
{
	struct block_source src = open_source();
	struct node_block b0 = acquire_ok(&src, "v4");
	assert_block(&b0, "v4-0", 0, "10.4.0.0/30", "");
	struct node_block b1 = acquire_ok(&src, "v4");
	assert_block(&b1, "v4-1", 1, "10.4.0.4/30", "");
	assert_exhausted(&src, "v4");
	release_ok(&src, &b1);
	b1 = acquire_ok(&src, "v4");
	assert_block(&b1, "v4-1", 1, "10.4.0.4/30", "");
	/* pools are independent */
	struct node_block d = acquire_ok(&src, "default");
	assert_block(&d, "default-0", 0, "10.2.0.0/31", "fd02::200/127");
	standalone_close(&src);
}
END_TEST

START_TEST(test_unknown_pool)
{
	struct block_source src = open_source();
	struct node_block b;
	char err[256] = "";
	ck_assert_int_eq(src.ops->acquire(src.ctx, "nope", &b, err, sizeof(err)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "pool nope"));
	ck_assert_int_eq(src.ops->can_acquire(src.ctx, "nope"), 0);
	standalone_close(&src);
}
END_TEST

START_TEST(test_pool_for_namespace)
{
	struct block_source src = open_source();
	char pool[NODE_NAME_MAX], err[256];
	ck_assert_int_eq(
	    src.ops->pool_for_namespace(src.ctx, "dmz", pool, sizeof(pool), err, sizeof(err)), 0);
	ck_assert_str_eq(pool, "v4");
	ck_assert_int_eq(src.ops->pool_for_namespace(src.ctx, "kube-system", pool, sizeof(pool),
						     err, sizeof(err)),
			 0);
	ck_assert_str_eq(pool, "default");
	ck_assert_int_eq(
	    src.ops->pool_for_namespace(src.ctx, "blank", pool, sizeof(pool), err, sizeof(err)), 0);
	ck_assert_str_eq(pool, "");
	char tiny[2];
	ck_assert_int_eq(src.ops->pool_for_namespace(src.ctx, "kube-system", tiny, sizeof(tiny),
						     err, sizeof(err)),
			 -ENAMETOOLONG);
	standalone_close(&src);
}
END_TEST

/* The state is on disk when acquire/release return, not only at close. */
START_TEST(test_persisted_before_return)
{
	struct block_source src = open_source();
	struct node_block b = acquire_ok(&src, "default");
	char *text = read_file(state_file);
	ck_assert_ptr_nonnull(strstr(text, "\"default-0\""));
	ck_assert_ptr_nonnull(strstr(text, "\"node1\""));
	free(text);
	release_ok(&src, &b);
	text = read_file(state_file);
	ck_assert_ptr_null(strstr(text, "default-0"));
	free(text);
	standalone_close(&src);
}
END_TEST

START_TEST(test_persistence_across_restarts)
{
	struct block_source src = open_source();
	acquire_ok(&src, "default");
	struct node_block one = acquire_ok(&src, "default");
	acquire_ok(&src, "default");
	acquire_ok(&src, "v4");
	standalone_close(&src);

	src = open_source();
	ck_assert_uint_eq(count_blocks(&src), 4);
	struct node_block three = acquire_ok(&src, "default");
	assert_block(&three, "default-3", 3, "10.2.0.6/31", "fd02::206/127");
	release_ok(&src, &one);
	standalone_close(&src);

	src = open_source();
	struct node_block *blocks;
	size_t n;
	char err[256];
	ck_assert_int_eq(src.ops->list(src.ctx, &blocks, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 4);
	for (size_t i = 0; i < n; i++)
		ck_assert_str_ne(blocks[i].name, "default-1");
	free(blocks);
	struct node_block again = acquire_ok(&src, "default");
	assert_block(&again, "default-1", 1, "10.2.0.2/31", "fd02::202/127");
	struct node_block v4 = acquire_ok(&src, "v4");
	assert_block(&v4, "v4-1", 1, "10.4.0.4/30", "");
	standalone_close(&src);
}
END_TEST

START_TEST(test_second_instance_is_refused)
{
	struct block_source src = open_source();
	struct block_source other;
	char err[512] = "";
	ck_assert_int_eq(
	    standalone_open(manifest_path, state_dir, "node1", &other, err, sizeof(err)), -EBUSY);
	ck_assert_ptr_nonnull(strstr(err, "in use"));
	standalone_close(&src);
	other = open_source(); /* free again after close */
	standalone_close(&other);
}
END_TEST

static const struct corrupt_case {
	const char *what;
	const char *content;
	const char *want;
} corrupt_cases[] = {
    {"not JSON", "{\"version\": 1, \"node\": ", "is corrupt (line"},
    {"empty file", "", "is corrupt"},
    {"not an object", "[]", "is corrupt (not a JSON object)"},
    {"wrong version", "{\"version\": 2, \"node\": \"node1\", \"blocks\": []}", "version: not 1"},
    {"no blocks", "{\"version\": 1, \"node\": \"node1\"}", "blocks: not an array"},
    {"another node", "{\"version\": 1, \"node\": \"node2\", \"blocks\": []}",
     "belongs to node \"node2\", not to \"node1\""},
    {"bad index",
     "{\"version\": 1, \"node\": \"node1\", \"blocks\": [{\"name\": \"default--1\", "
     "\"pool\": \"default\", \"index\": -1, \"ipv4\": \"10.2.0.0/31\"}]}",
     "blocks[0].index"},
    {"name mismatch",
     "{\"version\": 1, \"node\": \"node1\", \"blocks\": [{\"name\": \"default-1\", "
     "\"pool\": \"default\", \"index\": 0, \"ipv4\": \"10.2.0.0/31\"}]}",
     "blocks[0].name: \"default-1\" is not \"default-0\""},
    {"bad CIDR",
     "{\"version\": 1, \"node\": \"node1\", \"blocks\": [{\"name\": \"default-0\", "
     "\"pool\": \"default\", \"index\": 0, \"ipv4\": \"10.2.0.1/31\"}]}",
     "blocks[0].ipv4: \"10.2.0.1/31\" is not a canonical IPv4 CIDR"},
    {"no addresses",
     "{\"version\": 1, \"node\": \"node1\", \"blocks\": [{\"name\": \"default-0\", "
     "\"pool\": \"default\", \"index\": 0}]}",
     "blocks[0]: neither ipv4 nor ipv6"},
    {"listed twice",
     "{\"version\": 1, \"node\": \"node1\", \"blocks\": [{\"name\": \"default-0\", "
     "\"pool\": \"default\", \"index\": 0, \"ipv4\": \"10.2.0.0/31\"}, {\"name\": "
     "\"default-0\", \"pool\": \"default\", \"index\": 0, \"ipv4\": \"10.2.0.0/31\"}]}",
     "blocks[1]: block default-0 is listed twice"},
    {"duplicate key", "{\"version\": 1, \"version\": 1, \"node\": \"node1\", \"blocks\": []}",
     "is corrupt"},
};

START_TEST(test_corrupt_state)
{
	const struct corrupt_case *c = &corrupt_cases[_i];
	ck_assert_int_eq(mkdir(state_dir, 0700), 0);
	write_file(state_file, c->content);
	struct block_source src;
	char err[512] = "";
	int ret = standalone_open(manifest_path, state_dir, "node1", &src, err, sizeof(err));
	ck_assert_msg(ret == -EINVAL, "%s: got %d", c->what, ret);
	ck_assert_msg(strstr(err, c->want), "%s: got \"%s\" want \"%s\"", c->what, err, c->want);
	ck_assert_ptr_nonnull(strstr(err, state_file));
	char *text = read_file(state_file); /* never reset */
	ck_assert_str_eq(text, c->content);
	free(text);
}
END_TEST

START_TEST(test_bad_manifest_or_node)
{
	struct block_source src;
	char err[512] = "";
	write_file(manifest_path, "apiVersion: v1\nkind: [\n");
	ck_assert_int_eq(standalone_open(manifest_path, state_dir, "node1", &src, err, sizeof(err)),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, manifest_path));
	ck_assert_ptr_null(src.ops);
	write_file(manifest_path, fixture_manifest);
	ck_assert_int_eq(standalone_open(manifest_path, state_dir, "", &src, err, sizeof(err)),
			 -EINVAL);
	char missing[200];
	snprintf(missing, sizeof(missing), "%s/no/such/dir", workdir);
	ck_assert_int_eq(standalone_open(manifest_path, missing, "node1", &src, err, sizeof(err)),
			 -ENOENT);
}
END_TEST

/* Blocks whose pool vanished or changed are kept, can be released, and their
 * addresses are never handed out again while they exist. */
START_TEST(test_manifest_changes)
{
	struct block_source src = open_source();
	acquire_ok(&src, "default");			    /* default-0 10.2.0.0/31 */
	struct node_block d1 = acquire_ok(&src, "default"); /* default-1 10.2.0.2/31 */
	struct node_block v4 = acquire_ok(&src, "v4");
	char err[512];
	struct node_block zero = {.name = "default-0", .pool = "default", .index = 0};
	release_ok(&src, &zero);
	standalone_close(&src);

	/* v4 is gone; default now has blocks of 4 addresses. */
	write_file(manifest_path,
		   "apiVersion: coil.cybozu.com/v2\nkind: AddressPool\nmetadata: {name: default}\n"
		   "spec: {blockSizeBits: 2, subnets: [{ipv4: 10.2.0.0/29}]}\n");
	src = open_source();
	ck_assert_uint_eq(count_blocks(&src), 2);
	/* index 0 (10.2.0.0/30) would overlap the kept default-1 (10.2.0.2/31),
	 * index 1 is taken by it: nothing is free. */
	assert_exhausted(&src, "default");
	release_ok(&src, &d1);
	struct node_block b = acquire_ok(&src, "default");
	assert_block(&b, "default-0", 0, "10.2.0.0/30", "");
	ck_assert_int_eq(src.ops->acquire(src.ctx, "v4", &b, err, sizeof(err)), -ENOENT);
	release_ok(&src, &v4);
	ck_assert_uint_eq(count_blocks(&src), 1);
	standalone_close(&src);
}
END_TEST

START_TEST(test_reload)
{
	struct block_source src = open_source();
	char err[512] = "";
	struct node_block b;
	ck_assert_int_eq(src.ops->acquire(src.ctx, "extra", &b, err, sizeof(err)), -ENOENT);
	write_file(manifest_path,
		   "apiVersion: coil.cybozu.com/v2\nkind: AddressPool\nmetadata: {name: extra}\n"
		   "spec: {blockSizeBits: 0, subnets: [{ipv6: 'fd03::/127'}]}\n");
	ck_assert_int_eq(standalone_reload(&src, manifest_path, err, sizeof(err)), 0);
	b = acquire_ok(&src, "extra");
	assert_block(&b, "extra-0", 0, "", "fd03::/128");
	b = acquire_ok(&src, "extra");
	assert_block(&b, "extra-1", 1, "", "fd03::1/128");
	assert_exhausted(&src, "extra");
	write_file(manifest_path, "kind: [\n");
	ck_assert_int_eq(standalone_reload(&src, manifest_path, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(src.ops->can_acquire(src.ctx, "extra"), 0); /* old manifest stays */
	ck_assert_int_eq(src.ops->can_acquire(src.ctx, "default"), 0);
	standalone_close(&src);
}
END_TEST

#define THREADS	   4
#define PER_THREAD 16

struct worker {
	struct block_source *src;
	struct node_block got[PER_THREAD];
	int failures;
};

static void *acquire_many(void *arg)
{
	struct worker *w = arg;
	char err[256], pool[NODE_NAME_MAX];
	for (int i = 0; i < PER_THREAD; i++) {
		if (w->src->ops->acquire(w->src->ctx, "big", &w->got[i], err, sizeof(err)) < 0)
			w->failures++;
		if (w->src->ops->pool_for_namespace(w->src->ctx, "x", pool, sizeof(pool), err,
						    sizeof(err)) < 0)
			w->failures++;
		w->src->ops->can_acquire(w->src->ctx, "big");
	}
	return NULL;
}

START_TEST(test_threads_get_distinct_blocks)
{
	write_file(manifest_path,
		   "apiVersion: coil.cybozu.com/v2\nkind: AddressPool\nmetadata: {name: big}\n"
		   "spec: {blockSizeBits: 0, subnets: [{ipv4: 10.9.0.0/24}]}\n");
	struct block_source src = open_source();
	struct worker workers[THREADS];
	pthread_t threads[THREADS];
	for (int t = 0; t < THREADS; t++) {
		workers[t] = (struct worker){.src = &src};
		ck_assert_int_eq(pthread_create(&threads[t], NULL, acquire_many, &workers[t]), 0);
	}
	bool seen[THREADS * PER_THREAD] = {false};
	for (int t = 0; t < THREADS; t++) {
		pthread_join(threads[t], NULL);
		ck_assert_int_eq(workers[t].failures, 0);
		for (int i = 0; i < PER_THREAD; i++) {
			uint32_t index = workers[t].got[i].index;
			ck_assert_uint_lt(index, THREADS * PER_THREAD);
			ck_assert(!seen[index]);
			seen[index] = true;
		}
	}
	standalone_close(&src);
	src = open_source();
	ck_assert_uint_eq(count_blocks(&src), THREADS * PER_THREAD);
	standalone_close(&src);
}
END_TEST

static Suite *source_suite(void)
{
	Suite *s = suite_create("standalone block source");
	TCase *tc = tcase_create("source");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_default_pool_sequence);
	tcase_add_test(tc, test_v4_pool_sequence);
	tcase_add_test(tc, test_unknown_pool);
	tcase_add_test(tc, test_pool_for_namespace);
	tcase_add_test(tc, test_persisted_before_return);
	tcase_add_test(tc, test_persistence_across_restarts);
	tcase_add_test(tc, test_second_instance_is_refused);
	tcase_add_loop_test(tc, test_corrupt_state, 0,
			    sizeof(corrupt_cases) / sizeof(corrupt_cases[0]));
	tcase_add_test(tc, test_bad_manifest_or_node);
	tcase_add_test(tc, test_manifest_changes);
	tcase_add_test(tc, test_reload);
	tcase_add_test(tc, test_threads_get_distinct_blocks);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	log_set_level(LOG_ERROR);
	SRunner *sr = srunner_create(source_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
