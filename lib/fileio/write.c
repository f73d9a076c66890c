/* Writing all of a buffer, and copying one file descriptor into another. */
#include "fileio/fileio.h"

#include <errno.h>
#include <unistd.h>

int fd_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int fileio_copy_fd(int src_fd, int dst_fd, bool *read_failed)
{
	char buf[64 * 1024];
	*read_failed = false;
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
		int rc = fd_write_all(dst_fd, buf, (size_t)n);
		if (rc < 0)
			return rc;
	}
}
