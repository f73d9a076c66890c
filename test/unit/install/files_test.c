/* mkdir -p, atomic write and copy, opening the source binary. */
#include "suites.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "install/install.h"

static char dir[PATH_MAX];

static void setup(void)
{
	tmpdir_make(dir);
}

static void teardown(void)
{
	tmpdir_remove(dir);
}

static char *path_in(const char *name)
{
	static char path[PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

START_TEST(test_mkdir_p)
{
	char err[512];
	ck_assert_int_eq(install_mkdir_p(path_in("a/b/c"), 0755, err, sizeof(err)), 0);
	ck_assert_int_eq(file_mode(dir, "a/b/c") & 0777, 0755);
	/* Existing directories, and a trailing slash, are fine. */
	ck_assert_int_eq(install_mkdir_p(path_in("a/b/c"), 0755, err, sizeof(err)), 0);
	ck_assert_int_eq(install_mkdir_p(path_in("a/b/"), 0755, err, sizeof(err)), 0);
	ck_assert_int_eq(install_mkdir_p("/", 0755, err, sizeof(err)), 0);
	ck_assert_int_eq(install_mkdir_p("", 0755, err, sizeof(err)), -EINVAL);
}
END_TEST

START_TEST(test_mkdir_p_through_a_file)
{
	char err[512];
	file_put(dir, "file", "x", 0644);
	ck_assert_int_eq(install_mkdir_p(path_in("file"), 0755, err, sizeof(err)), -ENOTDIR);
	ck_assert_ptr_nonnull(strstr(err, "/file"));
	ck_assert_int_lt(install_mkdir_p(path_in("file/sub"), 0755, err, sizeof(err)), 0);
}
END_TEST

START_TEST(test_write_atomic)
{
	char err[512];
	ck_assert_int_eq(install_write_atomic(dir, "x.conflist", "{}", 2, 0644, err, sizeof(err)),
			 0);
	char *got = file_get(dir, "x.conflist", NULL);
	ck_assert_str_eq(got, "{}");
	free(got);
	ck_assert_int_eq(file_mode(dir, "x.conflist"), 0644);
	/* Replacing an existing file resets its mode and leaves no temp file behind. */
	file_put(dir, "y.conflist", "old old old", 0600);
	ck_assert_int_eq(install_write_atomic(dir, "y.conflist", "new", 3, 0644, err, sizeof(err)),
			 0);
	got = file_get(dir, "y.conflist", NULL);
	ck_assert_str_eq(got, "new");
	free(got);
	ck_assert_int_eq(file_mode(dir, "y.conflist"), 0644);
	ck_assert_int_eq(dir_count(dir), 2);
}
END_TEST

START_TEST(test_write_atomic_failures)
{
	char err[512];
	/* The target is a directory: rename fails, the temp file is removed. */
	ck_assert_int_eq(mkdir(path_in("busy.conflist"), 0755), 0);
	file_put(dir, "busy.conflist/inside", "x", 0644);
	ck_assert_int_lt(
	    install_write_atomic(dir, "busy.conflist", "{}", 2, 0644, err, sizeof(err)), 0);
	ck_assert_msg(strstr(err, "busy.conflist"), "message: %s", err);
	ck_assert_int_eq(dir_count(dir), 1);
	/* The directory does not exist. */
	ck_assert_int_eq(
	    install_write_atomic(path_in("none"), "a", "{}", 2, 0644, err, sizeof(err)), -ENOENT);
	ck_assert_msg(strstr(err, "temporary file"), "message: %s", err);
}
END_TEST

START_TEST(test_copy_atomic)
{
	char err[512];
	char *content = malloc(300000);
	for (size_t i = 0; i < 299999; i++)
		content[i] = (char)('a' + i % 26);
	content[299999] = '\0';
	file_put(dir, "src", content, 0600);
	file_put(dir, "coil", "previous", 0700);
	int fd = -1;
	ck_assert_int_eq(install_open_source(path_in("src"), &fd, err, sizeof(err)), 0);
	ck_assert_int_eq(install_copy_atomic(fd, "src", dir, "coil", 0755, err, sizeof(err)), 0);
	close(fd);
	size_t len;
	char *got = file_get(dir, "coil", &len);
	ck_assert_uint_eq(len, 299999);
	ck_assert_int_eq(memcmp(got, content, len), 0);
	ck_assert_int_eq(file_mode(dir, "coil"), 0755);
	ck_assert_int_eq(dir_count(dir), 2);
	free(got);
	free(content);
}
END_TEST

START_TEST(test_copy_read_error_leaves_target)
{
	char err[512];
	file_put(dir, "coil", "previous", 0755);
	int fd = open(dir, O_RDONLY | O_DIRECTORY); /* read() fails with EISDIR */
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(install_copy_atomic(fd, "the-source", dir, "coil", 0755, err, sizeof(err)),
			 -EISDIR);
	close(fd);
	ck_assert_msg(strstr(err, "cannot read the-source"), "message: %s", err);
	char *got = file_get(dir, "coil", NULL);
	ck_assert_str_eq(got, "previous");
	free(got);
	ck_assert_int_eq(dir_count(dir), 1);
}
END_TEST

START_TEST(test_open_source)
{
	char err[512];
	int fd = 7;
	ck_assert_int_eq(install_open_source(path_in("missing"), &fd, err, sizeof(err)), -ENOENT);
	ck_assert_int_eq(fd, -1);
	ck_assert_msg(strstr(err, "missing"), "message: %s", err);
	ck_assert_int_eq(install_open_source(dir, &fd, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(fd, -1);
	ck_assert_msg(strstr(err, "not a regular file"), "message: %s", err);
	ck_assert_int_eq(install_open_source(INSTALL_SELF_EXE, &fd, err, sizeof(err)), 0);
	ck_assert_int_ge(fd, 0);
	close(fd);
}
END_TEST

Suite *files_suite(void)
{
	Suite *s = suite_create("files");
	TCase *tc = tcase_create("files");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_mkdir_p);
	tcase_add_test(tc, test_mkdir_p_through_a_file);
	tcase_add_test(tc, test_write_atomic);
	tcase_add_test(tc, test_write_atomic_failures);
	tcase_add_test(tc, test_copy_atomic);
	tcase_add_test(tc, test_copy_read_error_leaves_target);
	tcase_add_test(tc, test_open_source);
	suite_add_tcase(s, tc);
	return s;
}
