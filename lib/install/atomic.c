/* Atomic replacement of files: a reader (kubelet, the runtime exec'ing the plugin) sees
 * the old file or the new one, never a partial one. */
#include "install/install.h"
#include "fileio/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int join_path(char *out, size_t size, const char *dir, const char *name, char *err,
		     size_t errlen)
{
	int n = snprintf(out, size, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= size) {
		snprintf(err, errlen, "path too long: %s/%s", dir, name);
		return -ENAMETOOLONG;
	}
	return 0;
}

int install_mkdir_p(const char *path, mode_t mode, char *err, size_t errlen)
{
	char buf[PATH_MAX];
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf) || !*buf) {
		snprintf(err, errlen, "invalid directory path \"%s\"", path);
		return -EINVAL;
	}
	/* Create each prefix that ends before a '/', then the whole path. */
	for (char *p = buf + 1;; p++) {
		bool last = *p == '\0';
		if (*p != '/' && !last)
			continue;
		*p = '\0';
		struct stat st;
		if (mkdir(buf, mode) < 0 && errno != EEXIST) {
			int e = errno;
			snprintf(err, errlen, "cannot create directory %s: %s", buf, strerror(e));
			return -e;
		}
		if (stat(buf, &st) < 0 || !S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "cannot create directory %s: not a directory", buf);
			return -ENOTDIR;
		}
		if (last)
			return 0;
		*p = '/';
	}
}

/* Copies src_fd to out_fd until end of file. */
static int copy_fd(int src_fd, int out_fd, bool *read_failed)
{
	char buf[64 * 1024];
	for (;;) {
		ssize_t n = read(src_fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*read_failed = true;
			return -errno;
		}
		if (n == 0)
			return 0;
		int rc = fd_write_all(out_fd, buf, (size_t)n);
		if (rc < 0)
			return rc;
	}
}

/* The content of a new file: either bytes in memory or a file to copy. */
struct content {
	const char *data;
	size_t len;
	int src_fd; /* >= 0: copy from here instead of data */
	const char *src_name;
};

static int fill_temp(int fd, const struct content *c, mode_t mode, const char *tmp, char *err,
		     size_t errlen)
{
	bool read_failed = false;
	int rc = c->src_fd >= 0 ? copy_fd(c->src_fd, fd, &read_failed)
				: fd_write_all(fd, c->data, c->len);
	if (rc < 0 && read_failed) {
		snprintf(err, errlen, "cannot read %s: %s", c->src_name, strerror(-rc));
		return rc;
	}
	const char *step = "write";
	if (rc == 0 && fchmod(fd, mode) < 0) {
		rc = -errno;
		step = "chmod";
	}
	if (rc == 0 && fsync(fd) < 0) {
		rc = -errno;
		step = "fsync";
	}
	if (rc < 0)
		snprintf(err, errlen, "cannot %s %s: %s", step, tmp, strerror(-rc));
	return rc;
}

/* Makes the rename durable. Some filesystems cannot fsync a directory (EINVAL): the
 * rename is still atomic there, so that is not an error. */
static int sync_dir(const char *dir, char *err, size_t errlen)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = fd < 0 ? -errno : 0;
	if (rc == 0 && fsync(fd) < 0 && errno != EINVAL)
		rc = -errno;
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		snprintf(err, errlen, "cannot fsync directory %s: %s", dir, strerror(-rc));
	return rc;
}

static int replace_atomic(const char *dir, const char *name, const struct content *c, mode_t mode,
			  char *err, size_t errlen)
{
	char target[PATH_MAX], tmp[PATH_MAX];
	int rc = join_path(target, sizeof(target), dir, name, err, errlen);
	if (rc == 0)
		rc = join_path(tmp, sizeof(tmp), dir, INSTALL_TEMP_PREFIX "XXXXXX", err, errlen);
	if (rc < 0)
		return rc;
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot create a temporary file in %s: %s", dir,
			 strerror(-rc));
		return rc;
	}
	rc = fill_temp(fd, c, mode, tmp, err, errlen);
	if (close(fd) < 0 && rc == 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot close %s: %s", tmp, strerror(-rc));
	}
	if (rc == 0 && rename(tmp, target) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, target, strerror(-rc));
	}
	if (rc < 0) {
		unlink(tmp);
		return rc;
	}
	return sync_dir(dir, err, errlen);
}

int install_write_atomic(const char *dir, const char *name, const void *data, size_t len,
			 mode_t mode, char *err, size_t errlen)
{
	struct content c = {.data = data, .len = len, .src_fd = -1};
	return replace_atomic(dir, name, &c, mode, err, errlen);
}

int install_copy_atomic(int src_fd, const char *src_name, const char *dir, const char *name,
			mode_t mode, char *err, size_t errlen)
{
	struct content c = {.src_fd = src_fd, .src_name = src_name};
	return replace_atomic(dir, name, &c, mode, err, errlen);
}

int install_open_source(const char *path, int *fd, char *err, size_t errlen)
{
	struct stat st;
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot open the coil binary %s: %s", path, strerror(e));
		return -e;
	}
	if (fstat(*fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(*fd);
		*fd = -1;
		snprintf(err, errlen, "the coil binary %s is not a regular file", path);
		return -EINVAL;
	}
	return 0;
}
