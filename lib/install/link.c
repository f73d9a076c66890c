/* The CNI bin dir's symlink to the one installed copy of coil (--standalone). */
#include "install/install.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* A fresh temp name in dir: the rename below must never replace someone else's file. */
static int make_temp_link(const char *dir, const char *target, char *tmp, size_t len, char *err,
			  size_t errlen)
{
	for (unsigned attempt = 0; attempt < 100; attempt++) {
		int n = snprintf(tmp, len, "%s/" INSTALL_TEMP_PREFIX "%ld-%u", dir, (long)getpid(),
				 attempt);
		if (n < 0 || (size_t)n >= len) {
			snprintf(err, errlen, "path too long: %s", dir);
			return -ENAMETOOLONG;
		}
		if (symlink(target, tmp) == 0)
			return 0;
		if (errno != EEXIST)
			break;
	}
	int e = errno;
	snprintf(err, errlen, "cannot create a symlink in %s: %s", dir, strerror(e));
	return -e;
}

int install_link_atomic(const char *dir, const char *name, const char *target, char *err,
			size_t errlen)
{
	char tmp[PATH_MAX], path[PATH_MAX];
	int n = snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		snprintf(err, errlen, "path too long: %s/%s", dir, name);
		return -ENAMETOOLONG;
	}
	int rc = make_temp_link(dir, target, tmp, sizeof(tmp), err, errlen);
	if (rc < 0)
		return rc;
	if (rename(tmp, path) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, path, strerror(-rc));
		unlink(tmp);
		return rc;
	}
	/* Durable like the files: a directory that cannot be fsync'd (EINVAL) still renamed
	 * atomically. */
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		if (fsync(fd) < 0 && errno != EINVAL)
			rc = -errno;
		close(fd);
	}
	if (rc < 0)
		snprintf(err, errlen, "cannot fsync directory %s: %s", dir, strerror(-rc));
	return rc;
}
