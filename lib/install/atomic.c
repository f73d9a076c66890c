/* Atomic replacement of files: a reader (kubelet, the runtime exec'ing the plugin) sees
 * the old file or the new one, never a partial one. */
#include "install/install.h"
#include "err/err.h"
#include "fileio/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int install_mkdir_p(const char *path, mode_t mode, char *err, size_t errlen)
{
	char buf[PATH_MAX];
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf) || !*buf)
		return errorf(err, errlen, -EINVAL, "invalid directory path \"%s\"", path);
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
		if (stat(buf, &st) < 0 || !S_ISDIR(st.st_mode))
			return errorf(err, errlen, -ENOTDIR,
				      "cannot create directory %s: not a directory", buf);
		if (last)
			return 0;
		*p = '/';
	}
}

/* The plugin binary and the conflist are what every pod's network setup needs after a
 * reboot, so they are written durably. */
static int replace_durably(const char *dir, const char *name, const void *data, size_t len,
			   struct fileio_replace *how, char *err, size_t errlen)
{
	how->durability = FILEIO_DURABLE;
	how->temp_prefix = INSTALL_TEMP_PREFIX;
	return fileio_replace(dir, name, data, len, how, err, errlen);
}

int install_write_atomic(const char *dir, const char *name, const void *data, size_t len,
			 mode_t mode, char *err, size_t errlen)
{
	struct fileio_replace how = {.mode = mode};
	return replace_durably(dir, name, data, len, &how, err, errlen);
}

int install_copy_atomic(int src_fd, const char *src_name, const char *dir, const char *name,
			mode_t mode, char *err, size_t errlen)
{
	struct fileio_replace how = {
	    .mode = mode, .from_fd = true, .src_fd = src_fd, .src_name = src_name};
	return replace_durably(dir, name, NULL, 0, &how, err, errlen);
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
