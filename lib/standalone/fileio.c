#include "standalone/fileio.h"
#include "fileio/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static int read_all(int fd, char *buf, size_t size, size_t *used)
{
	*used = 0;
	while (*used < size) {
		ssize_t n = read(fd, buf + *used, size - *used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break; /* the file shrank meanwhile */
		*used += (size_t)n;
	}
	return 0;
}

int read_file_at(int dirfd, const char *name, size_t max_bytes, char **out, size_t *len)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	int ret = 0;
	char *buf = NULL;
	if (fstat(fd, &st) < 0)
		ret = -errno;
	else if ((size_t)st.st_size > max_bytes)
		ret = -EFBIG;
	else if (!(buf = malloc((size_t)st.st_size + 1)))
		ret = -ENOMEM;
	else
		ret = read_all(fd, buf, (size_t)st.st_size, len);
	close(fd);
	if (ret < 0) {
		free(buf);
		return ret;
	}
	buf[*len] = '\0';
	*out = buf;
	return 0;
}

int replace_file_at(int dirfd, const char *name, const char *data, size_t len)
{
	char tmp[256];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", name) >= sizeof(tmp))
		return -ENAMETOOLONG;
	int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	int ret = fd_write_all(fd, data, len);
	if (ret == 0 && fsync(fd) < 0)
		ret = -errno;
	if (close(fd) < 0 && ret == 0)
		ret = -errno;
	if (ret == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		ret = -errno;
	if (ret < 0) {
		unlinkat(dirfd, tmp, 0);
		return ret;
	}
	/* The rename is durable only once the directory itself is synced. */
	if (fsync(dirfd) < 0)
		return -errno;
	return 0;
}
