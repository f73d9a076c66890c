/* Atomic replacement: a temporary file in the same directory renamed over the old one, with
 * the fsyncs that the caller's durability choice asks for. */
#include "fileio/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "err/err.h"

/* Creates "<prefix><name>.XXXXXX" (X: hex from the pid, a counter and the clock) with O_EXCL
 * in dirfd, retrying on a clash. Returns the fd or a negative errno; tmp holds the name. */
static int create_temp(int dirfd, const char *prefix, const char *name, char *tmp, size_t size)
{
	static unsigned counter;
	for (int attempt = 0; attempt < 100; attempt++) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		unsigned salt = (unsigned)getpid() * 2654435761u ^ (unsigned)ts.tv_nsec ^
				__atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED) * 40503u;
		int n = snprintf(tmp, size, "%s%s.%06x", prefix, name, salt & 0xffffff);
		if (n < 0 || (size_t)n >= size)
			return -ENAMETOOLONG;
		int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST)
			return fd >= 0 ? fd : -errno;
	}
	return -EEXIST;
}

static int fill(int fd, const void *data, size_t len, const struct fileio_replace *how,
		const char *tmp, char *err, size_t errlen)
{
	bool read_failed = false;
	int rc = how->from_fd ? fileio_copy_fd(how->src_fd, fd, &read_failed)
			      : fd_write_all(fd, data, len);
	if (rc < 0 && read_failed)
		return errorf(err, errlen, rc, "cannot read %s: %s",
			      how->src_name ? how->src_name : "the source", strerror(-rc));
	const char *step = "write";
	if (rc == 0 && fchmod(fd, how->mode) < 0) {
		rc = -errno;
		step = "chmod";
	}
	if (rc == 0 && how->durability == FILEIO_DURABLE && fsync(fd) < 0) {
		rc = -errno;
		step = "fsync";
	}
	if (rc < 0)
		return errorf(err, errlen, rc, "cannot %s %s: %s", step, tmp, strerror(-rc));
	return 0;
}

/* Makes the rename survive a power loss. Some filesystems cannot fsync a directory
 * (EINVAL): the rename is still atomic there, so that is not an error. */
static int sync_dir(int dirfd, const char *dir_label, char *err, size_t errlen)
{
	int fd = dirfd == AT_FDCWD ? open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : dirfd;
	int rc = fd < 0 ? -errno : 0;
	if (rc == 0 && fsync(fd) < 0 && errno != EINVAL)
		rc = -errno;
	if (fd >= 0 && fd != dirfd)
		close(fd);
	if (rc < 0)
		return errorf(err, errlen, rc, "cannot fsync directory %s: %s", dir_label,
			      strerror(-rc));
	return 0;
}

int fileio_replace_at(int dirfd, const char *dir_label, const char *name, const void *data,
		      size_t len, const struct fileio_replace *how, char *err, size_t errlen)
{
	char tmp[NAME_MAX + 1];
	int fd =
	    create_temp(dirfd, how->temp_prefix ? how->temp_prefix : ".", name, tmp, sizeof(tmp));
	if (fd < 0)
		return errorf(err, errlen, fd, "cannot create a temporary file for %s in %s: %s",
			      name, dir_label, strerror(-fd));
	int rc = fill(fd, data, len, how, tmp, err, errlen);
	if (close(fd) < 0 && rc == 0) {
		int e = errno;
		rc = errorf(err, errlen, -e, "cannot close %s/%s: %s", dir_label, tmp, strerror(e));
	}
	if (rc == 0 && renameat(dirfd, tmp, dirfd, name) < 0) {
		int e = errno;
		rc = errorf(err, errlen, -e, "cannot rename %s to %s in %s: %s", tmp, name,
			    dir_label, strerror(e));
	}
	if (rc < 0) {
		unlinkat(dirfd, tmp, 0);
		return rc;
	}
	return how->durability == FILEIO_DURABLE ? sync_dir(dirfd, dir_label, err, errlen) : 0;
}

int fileio_replace(const char *dir, const char *name, const void *data, size_t len,
		   const struct fileio_replace *how, char *err, size_t errlen)
{
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		int e = errno;
		return errorf(err, errlen, -e, "cannot create a temporary file in %s: %s", dir,
			      strerror(e));
	}
	int rc = fileio_replace_at(dirfd, dir, name, data, len, how, err, errlen);
	close(dirfd);
	return rc;
}
