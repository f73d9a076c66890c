/* Atomicity: a concurrent reader never sees the target missing or partially written while
 * it is replaced over and over by two different contents. */
#include "suites.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "install/install.h"

struct reader {
	char path[PATH_MAX + 64];
	const char *a, *b; /* the two legitimate contents */
	size_t a_len, b_len;
	atomic_bool stop;
	atomic_long reads, seen_a, seen_b, missing, torn;
};

static bool read_whole(const char *path, char *buf, size_t cap, size_t *len)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return false;
	size_t used = 0;
	ssize_t n;
	while (used < cap && (n = read(fd, buf + used, cap - used)) > 0)
		used += (size_t)n;
	close(fd);
	*len = used;
	return true;
}

static void *reader_loop(void *arg)
{
	struct reader *r = arg;
	size_t cap = (r->a_len > r->b_len ? r->a_len : r->b_len) + 1;
	char *buf = malloc(cap);
	while (!atomic_load(&r->stop)) {
		size_t len;
		if (!read_whole(r->path, buf, cap, &len))
			atomic_fetch_add(&r->missing, 1);
		else if (len == r->a_len && memcmp(buf, r->a, len) == 0)
			atomic_fetch_add(&r->seen_a, 1);
		else if (len == r->b_len && memcmp(buf, r->b, len) == 0)
			atomic_fetch_add(&r->seen_b, 1);
		else
			atomic_fetch_add(&r->torn, 1);
		atomic_fetch_add(&r->reads, 1);
	}
	free(buf);
	return NULL;
}

/* A JSON config list of about size bytes whose padding is made of fill. */
static char *big_conflist(size_t size, char fill)
{
	char *text = malloc(size + 1);
	const char *head = "{\"name\":\"n\",\"plugins\":[{\"type\":\"coil\"}],\"pad\":\"";
	size_t head_len = strlen(head);
	memcpy(text, head, head_len);
	memset(text + head_len, fill, size - head_len - 2);
	memcpy(text + size - 2, "\"}", 3);
	return text;
}

static void wait_reads(struct reader *r, long at_least)
{
	while (atomic_load(&r->reads) < at_least)
		sched_yield();
}

/* Starts the reader once the target holds content a, runs replace(i) rounds, checks. */
static void race(struct reader *r, int rounds, void (*replace)(struct reader *, int))
{
	pthread_t thread;
	ck_assert_int_eq(pthread_create(&thread, NULL, reader_loop, r), 0);
	wait_reads(r, 1);
	for (int i = 0; i < rounds; i++)
		replace(r, i);
	long reads = atomic_load(&r->reads);
	wait_reads(r, reads + 1);
	atomic_store(&r->stop, true);
	pthread_join(thread, NULL);
	ck_assert_msg(atomic_load(&r->missing) == 0 && atomic_load(&r->torn) == 0,
		      "%s: %ld reads, %ld missing, %ld torn", r->path, atomic_load(&r->reads),
		      atomic_load(&r->missing), atomic_load(&r->torn));
	ck_assert_int_gt(atomic_load(&r->seen_a) + atomic_load(&r->seen_b), rounds / 10);
}

static const char *race_dir;

static void replace_config(struct reader *r, int i)
{
	char err[512];
	const char *text = i % 2 ? r->a : r->b;
	size_t len = i % 2 ? r->a_len : r->b_len;
	ck_assert_msg(install_write_atomic(race_dir, "10-coil.conflist", text, len, 0644, err,
					   sizeof(err)) == 0,
		      "%s", err);
}

START_TEST(test_config_never_torn)
{
	char dir[PATH_MAX], err[512];
	tmpdir_make(dir);
	race_dir = dir;
	struct reader r = {.a = big_conflist(300000, 'a'), .b = big_conflist(200000, 'b')};
	r.a_len = strlen(r.a);
	r.b_len = strlen(r.b);
	snprintf(r.path, sizeof(r.path), "%s/10-coil.conflist", dir);
	ck_assert_int_eq(
	    install_write_atomic(dir, "10-coil.conflist", r.a, r.a_len, 0644, err, sizeof(err)), 0);
	race(&r, 200, replace_config);
	ck_assert_int_eq(dir_count(dir), 1); /* no temp file left */
	free((char *)r.a);
	free((char *)r.b);
	tmpdir_remove(dir);
}
END_TEST

static int sources[2];

static void replace_binary(struct reader *r, int i)
{
	char err[512];
	int fd = sources[i % 2 ? 0 : 1];
	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	ck_assert_msg(install_copy_atomic(fd, "source", race_dir, "coil", 0755, err, sizeof(err)) ==
			  0,
		      "%s", err);
}

START_TEST(test_binary_never_torn)
{
	char dir[PATH_MAX], src_a[PATH_MAX + 32], src_b[PATH_MAX + 32], err[512];
	tmpdir_make(dir);
	race_dir = dir;
	struct reader r = {.a = big_conflist(1500000, 'x'), .b = big_conflist(900000, 'y')};
	r.a_len = strlen(r.a);
	r.b_len = strlen(r.b);
	char src_dir[PATH_MAX + 16];
	snprintf(src_dir, sizeof(src_dir), "%s/src", dir);
	ck_assert_int_eq(mkdir(src_dir, 0755), 0);
	file_put(src_dir, "a", r.a, 0644);
	file_put(src_dir, "b", r.b, 0644);
	snprintf(src_a, sizeof(src_a), "%s/a", src_dir);
	snprintf(src_b, sizeof(src_b), "%s/b", src_dir);
	ck_assert_int_eq(install_open_source(src_a, &sources[0], err, sizeof(err)), 0);
	ck_assert_int_eq(install_open_source(src_b, &sources[1], err, sizeof(err)), 0);
	snprintf(r.path, sizeof(r.path), "%s/coil", dir);
	replace_binary(&r, 1); /* the target starts as a */
	race(&r, 60, replace_binary);
	close(sources[0]);
	close(sources[1]);
	ck_assert_int_eq(dir_count(dir), 2); /* src/ and coil */
	free((char *)r.a);
	free((char *)r.b);
	tmpdir_remove(dir);
}
END_TEST

Suite *atomic_suite(void)
{
	Suite *s = suite_create("atomic");
	TCase *tc = tcase_create("atomic");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_config_never_torn);
	tcase_add_test(tc, test_binary_never_torn);
	suite_add_tcase(s, tc);
	return s;
}
