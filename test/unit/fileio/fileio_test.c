/* lib/fileio: capped reads, write-all, and atomic replacement with its durability choice. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fileio/fileio.h"

/* ---- fsync counting (the test links with -Wl,--wrap=fsync) ---- */

int __real_fsync(int fd);
int __wrap_fsync(int fd);
static int fsync_files, fsync_dirs;

int __wrap_fsync(int fd)
{
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
		fsync_dirs++;
	else
		fsync_files++;
	return __real_fsync(fd);
}

/* ---- a scratch directory per test ---- */

static char dir[64];
static char err[512];

static void make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/coil-fileio-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	fsync_files = fsync_dirs = 0;
}

static void remove_dir(void)
{
	DIR *d = opendir(dir);
	for (struct dirent *e = d ? readdir(d) : NULL; e; e = readdir(d))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlinkat(dirfd(d), e->d_name, 0);
	if (d)
		closedir(d);
	rmdir(dir);
}

static void put_file(const char *name, const char *text)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* The file's content (malloc'd) or NULL when it cannot be read. */
static char *content_of(const char *name)
{
	char path[128], *text;
	size_t len;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return fileio_read_file_at(AT_FDCWD, path, 1 << 20, &text, &len) == 0 ? text : NULL;
}

/* Entries of the scratch directory other than . and .. */
static int entries(void)
{
	int n = 0;
	DIR *d = opendir(dir);
	for (struct dirent *e = d ? readdir(d) : NULL; e; e = readdir(d))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	if (d)
		closedir(d);
	return n;
}

/* ---- reading ---- */

START_TEST(read_respects_the_cap)
{
	put_file("f", "0123456789");
	char path[128], *text = NULL;
	size_t len = 99;
	snprintf(path, sizeof(path), "%s/f", dir);
	ck_assert_int_eq(fileio_read_file_at(AT_FDCWD, path, 10, &text, &len), 0);
	ck_assert_str_eq(text, "0123456789");
	ck_assert_uint_eq(len, 10);
	free(text);
	ck_assert_int_eq(fileio_read_file_at(AT_FDCWD, path, 9, &text, &len), -EFBIG);
	ck_assert_ptr_null(text);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(fileio_read_file_at(AT_FDCWD, path, 0, &text, &len), -EFBIG);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	ck_assert_int_eq(fileio_read_file_at(dfd, "missing", 10, &text, &len), -ENOENT);
	ck_assert_int_eq(fileio_read_file_at(dfd, "f", 10, &text, &len), 0);
	free(text);
	close(dfd);
}
END_TEST

START_TEST(read_empty_and_large)
{
	put_file("empty", "");
	char *text = content_of("empty");
	ck_assert_ptr_nonnull(text);
	ck_assert_str_eq(text, "");
	free(text);
	/* Larger than the first buffer: grows until the cap. */
	size_t big = 300000;
	char *data = malloc(big + 1);
	memset(data, 'x', big);
	data[big] = '\0';
	put_file("big", data);
	text = content_of("big");
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(strlen(text), big);
	free(text);
	free(data);
}
END_TEST

START_TEST(read_pipe_to_eof_and_deadline)
{
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(write(p[1], "abc", 3), 3);
	close(p[1]);
	char *text;
	size_t len;
	ck_assert_int_eq(fileio_read_fd(p[0], 100, -1, &text, &len), 0);
	ck_assert_str_eq(text, "abc");
	free(text);
	close(p[0]);

	/* A non-blocking pipe whose writer never closes: -EAGAIN without a deadline,
	 * -ETIMEDOUT with one. */
	ck_assert_int_eq(pipe2(p, O_NONBLOCK), 0);
	ck_assert_int_eq(fileio_read_fd(p[0], 100, -1, &text, &len), -EAGAIN);
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	int64_t now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	ck_assert_int_eq(fileio_read_fd(p[0], 100, now_ms + 50, &text, &len), -ETIMEDOUT);
	/* More than the cap from a pipe. */
	ck_assert_int_eq(write(p[1], "0123456789", 10), 10);
	close(p[1]);
	ck_assert_int_eq(fileio_read_fd(p[0], 5, now_ms + 5000, &text, &len), -EFBIG);
	close(p[0]);
}
END_TEST

/* ---- writing ---- */

START_TEST(write_all_reports_a_full_device)
{
	int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
	ck_assert_msg(fd >= 0, "/dev/full: %s", strerror(errno));
	ck_assert_int_eq(fd_write_all(fd, "x", 1), -ENOSPC);
	close(fd);
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(fd_write_all(p[1], "hello", 5), 0);
	char buf[8] = "";
	ck_assert_int_eq(read(p[0], buf, sizeof(buf)), 5);
	ck_assert_str_eq(buf, "hello");
	close(p[0]);
	close(p[1]);
}
END_TEST

/* ---- atomic replacement ---- */

START_TEST(replace_durable_syncs_file_and_directory)
{
	put_file("conf", "old");
	mode_t old_umask = umask(077);
	struct fileio_replace how = {.mode = 0755, .durability = FILEIO_DURABLE};
	ck_assert_msg(fileio_replace(dir, "conf", "new", 3, &how, err, sizeof(err)) == 0, "%s",
		      err);
	umask(old_umask);
	char *text = content_of("conf");
	ck_assert_str_eq(text, "new");
	free(text);
	char path[128];
	struct stat st;
	snprintf(path, sizeof(path), "%s/conf", dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0755); /* exactly, whatever the umask */
	ck_assert_int_eq(fsync_files, 1);
	ck_assert_int_eq(fsync_dirs, 1);
	ck_assert_int_eq(entries(), 1); /* no temporary file left */
}
END_TEST

START_TEST(replace_volatile_does_not_sync)
{
	struct fileio_replace how = {
	    .mode = 0600, .durability = FILEIO_VOLATILE, .temp_prefix = ".tmp-"};
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	ck_assert_msg(fileio_replace_at(dfd, dir, "rec", "{}", 2, &how, err, sizeof(err)) == 0,
		      "%s", err);
	close(dfd);
	char *text = content_of("rec");
	ck_assert_str_eq(text, "{}");
	free(text);
	ck_assert_int_eq(fsync_files, 0);
	ck_assert_int_eq(fsync_dirs, 0);
	ck_assert_int_eq(entries(), 1);
}
END_TEST

START_TEST(replace_copies_from_fd)
{
	put_file("src", "binary");
	char path[128];
	snprintf(path, sizeof(path), "%s/src", dir);
	int src = open(path, O_RDONLY);
	struct fileio_replace how = {.mode = 0755,
				     .durability = FILEIO_DURABLE,
				     .from_fd = true,
				     .src_fd = src,
				     .src_name = "src"};
	ck_assert_msg(fileio_replace(dir, "coil", NULL, 0, &how, err, sizeof(err)) == 0, "%s", err);
	close(src);
	char *text = content_of("coil");
	ck_assert_str_eq(text, "binary");
	free(text);
	/* A source that cannot be read: named in the error, the target stays as it was. */
	int bad = open(dir, O_RDONLY | O_DIRECTORY);
	how.src_fd = bad;
	how.src_name = "the-dir";
	ck_assert_int_eq(fileio_replace(dir, "coil", NULL, 0, &how, err, sizeof(err)), -EISDIR);
	ck_assert_msg(strstr(err, "cannot read the-dir"), "%s", err);
	close(bad);
	text = content_of("coil");
	ck_assert_str_eq(text, "binary");
	free(text);
	ck_assert_int_eq(entries(), 2);
}
END_TEST

/* A write that does not fit (here: over RLIMIT_FSIZE, as a full filesystem would refuse it)
 * fails, names the step, and leaves the old file and no temporary file. */
START_TEST(replace_that_does_not_fit_keeps_the_old_file)
{
	put_file("state", "old content");
	struct rlimit saved, small = {.rlim_cur = 4096};
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &saved), 0);
	small.rlim_max = saved.rlim_max;
	signal(SIGXFSZ, SIG_IGN); /* report EFBIG instead of killing the process */
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
	static char big[8192];
	memset(big, 'y', sizeof(big));
	struct fileio_replace how = {.mode = 0600, .durability = FILEIO_DURABLE};
	int rc = fileio_replace(dir, "state", big, sizeof(big), &how, err, sizeof(err));
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &saved), 0);
	signal(SIGXFSZ, SIG_DFL);
	ck_assert_int_eq(rc, -EFBIG);
	ck_assert_msg(strstr(err, "cannot write"), "%s", err);
	char *text = content_of("state");
	ck_assert_str_eq(text, "old content");
	free(text);
	ck_assert_int_eq(entries(), 1);
	ck_assert_int_eq(fsync_dirs, 0); /* nothing renamed, nothing to make durable */
}
END_TEST

START_TEST(replace_in_a_location_that_cannot_take_it)
{
	struct fileio_replace how = {.mode = 0644, .durability = FILEIO_DURABLE};
	char missing[128];
	snprintf(missing, sizeof(missing), "%s/none", dir);
	ck_assert_int_eq(fileio_replace(missing, "a", "x", 1, &how, err, sizeof(err)), -ENOENT);
	ck_assert_msg(strstr(err, "temporary file"), "%s", err);
	/* /proc/self takes no new files, even from root. */
	int rc = fileio_replace("/proc/self", "coil-test", "x", 1, &how, err, sizeof(err));
	ck_assert_int_lt(rc, 0);
	ck_assert_msg(strstr(err, "/proc/self"), "%s", err);
	/* A name too long for a temporary file next to it. */
	char name[300];
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	ck_assert_int_eq(fileio_replace(dir, name, "x", 1, &how, err, sizeof(err)), -ENAMETOOLONG);
	ck_assert_int_eq(entries(), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fileio");
	TCase *tc = tcase_create("files");
	tcase_add_checked_fixture(tc, make_dir, remove_dir);
	tcase_add_test(tc, read_respects_the_cap);
	tcase_add_test(tc, read_empty_and_large);
	tcase_add_test(tc, read_pipe_to_eof_and_deadline);
	tcase_add_test(tc, write_all_reports_a_full_device);
	tcase_add_test(tc, replace_durable_syncs_file_and_directory);
	tcase_add_test(tc, replace_volatile_does_not_sync);
	tcase_add_test(tc, replace_copies_from_fd);
	tcase_add_test(tc, replace_that_does_not_fit_keeps_the_old_file);
	tcase_add_test(tc, replace_in_a_location_that_cannot_take_it);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
