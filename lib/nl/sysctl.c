/* sysctl files under /proc/sys, with paths built from checked parts (interface names come
 * from callers and must not escape the tree). */
#include "nl_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int build_path(const char *const *parts, size_t nparts, char *path, size_t len)
{
	size_t used = (size_t)snprintf(path, len, "/proc/sys");
	if (nparts == 0)
		return -EINVAL;
	for (size_t i = 0; i < nparts; i++) {
		const char *p = parts[i];
		if (!p || !*p || strchr(p, '/') || strstr(p, ".."))
			return -EINVAL;
		int n = snprintf(path + used, len - used, "/%s", p);
		if (n < 0 || (size_t)n >= len - used)
			return -ENAMETOOLONG;
		used += (size_t)n;
	}
	return 0;
}

int nl_sysctl_write(const char *const *parts, size_t nparts, const char *value, char *err,
		    size_t errlen)
{
	char path[256], what[320];
	int rc = build_path(parts, nparts, path, sizeof(path));
	snprintf(what, sizeof(what), "write %s to %s", value, path);
	if (rc < 0)
		return nl_fail(err, errlen, rc, what, "invalid sysctl name");
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return nl_fail(err, errlen, -errno, what, NULL);
	size_t len = strlen(value);
	ssize_t n = write(fd, value, len);
	rc = n < 0 ? -errno : (size_t)n != len ? -EIO : 0;
	close(fd);
	return rc ? nl_fail(err, errlen, rc, what, NULL) : 0;
}

int nl_sysctl_read(const char *const *parts, size_t nparts, char *buf, size_t buflen, char *err,
		   size_t errlen)
{
	char path[256], what[300];
	int rc = build_path(parts, nparts, path, sizeof(path));
	snprintf(what, sizeof(what), "read %s", path);
	if (rc < 0)
		return nl_fail(err, errlen, rc, what, "invalid sysctl name");
	if (buflen == 0)
		return nl_fail(err, errlen, -EINVAL, what, "no buffer");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return nl_fail(err, errlen, -errno, what, NULL);
	ssize_t n = read(fd, buf, buflen - 1);
	rc = n < 0 ? -errno : 0;
	close(fd);
	if (rc < 0)
		return nl_fail(err, errlen, rc, what, NULL);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}
