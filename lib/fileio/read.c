/* Reading to end of file with a size cap. */
#include "fileio/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static int64_t monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int fileio_wait_fd(int fd, short events, int64_t deadline_ms)
{
	for (;;) {
		int64_t left = deadline_ms - monotonic_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		struct pollfd pfd = {.fd = fd, .events = events};
		int n = poll(&pfd, 1, left > 0x7fffffff ? 0x7fffffff : (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

/* Makes room for at least one more byte and the NUL, never beyond max + 1 bytes of data
 * (one more than allowed, which is how an oversized input is noticed). */
static int grow(char **buf, size_t *cap, size_t used, size_t max)
{
	if (used + 1 < *cap)
		return 0;
	size_t limit = max + 2; /* max + 1 data bytes and the NUL */
	if (*cap >= limit)
		return -EFBIG;
	size_t next = *cap ? *cap * 2 : 4096;
	if (next > limit || next < *cap)
		next = limit;
	char *bigger = realloc(*buf, next);
	if (!bigger)
		return -ENOMEM;
	*buf = bigger;
	*cap = next;
	return 0;
}

int fileio_read_fd(int fd, size_t max, int64_t deadline_ms, char **out, size_t *len)
{
	char *buf = NULL;
	size_t cap = 0, used = 0;
	int rc = 0;
	*out = NULL;
	*len = 0;
	while (rc == 0) {
		rc = grow(&buf, &cap, used, max);
		if (rc < 0)
			break;
		ssize_t n = read(fd, buf + used, cap - used - 1);
		if (n == 0)
			break;
		if (n > 0)
			used += (size_t)n;
		else if (errno == EAGAIN || errno == EWOULDBLOCK)
			rc = deadline_ms < 0 ? -EAGAIN : fileio_wait_fd(fd, POLLIN, deadline_ms);
		else if (errno != EINTR)
			rc = -errno;
	}
	if (rc == 0 && used > max)
		rc = -EFBIG;
	if (rc < 0) {
		free(buf);
		return rc;
	}
	buf[used] = '\0';
	*out = buf;
	*len = used;
	return 0;
}

int fileio_read_file_at(int dirfd, const char *path, size_t max, char **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = fileio_read_fd(fd, max, -1, out, len);
	close(fd);
	return rc;
}
