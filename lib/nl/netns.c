/* Network namespaces: open and validate a netns file, and run code inside one on the
 * calling thread only (setns affects just this thread, so other threads keep working). */
#include "nl_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "log/log.h"

/* Checks that fd is a namespace file (nsfs, or procfs on old kernels) of type net. */
static int check_netns_fd(int fd)
{
	struct statfs st;
	if (fstatfs(fd, &st) < 0)
		return -errno;
	if (st.f_type != NSFS_MAGIC && st.f_type != PROC_SUPER_MAGIC)
		return -EINVAL;
	int type = ioctl(fd, NS_GET_NSTYPE);
	if (type >= 0)
		return type == CLONE_NEWNET ? 0 : -EINVAL;
	/* Kernels before 4.11 know no NS_GET_NSTYPE; their nsfs files are still namespaces.
	 * Any other procfs file (e.g. /proc/self/status) is not. */
	return st.f_type == NSFS_MAGIC && errno == ENOTTY ? 0 : -EINVAL;
}

int nl_netns_open(const char *path, int *fd, char *err, size_t errlen)
{
	char what[300];
	snprintf(what, sizeof(what), "open netns %s", path);
	int f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return nl_fail(err, errlen, -errno, what, NULL);
	int rc = check_netns_fd(f);
	if (rc < 0) {
		close(f);
		return nl_fail(err, errlen, rc, what,
			       rc == -EINVAL ? "not a network namespace" : NULL);
	}
	*fd = f;
	return 0;
}

int nl_netns_check(int fd, char *err, size_t errlen)
{
	int rc = check_netns_fd(fd);
	if (rc < 0)
		return nl_fail(err, errlen, rc, "check netns descriptor",
			       rc == -EINVAL ? "not a network namespace" : NULL);
	return 0;
}

int nl_netns_current(int *fd, char *err, size_t errlen)
{
	/* thread-self: each thread may sit in a different netns. */
	int f = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return nl_fail(err, errlen, -errno, "open current netns", NULL);
	*fd = f;
	return 0;
}

int nl_netns_run(int netns_fd, int (*fn)(void *arg), void *arg, char *err, size_t errlen)
{
	int orig = -1;
	int rc = nl_netns_current(&orig, err, errlen);
	if (rc < 0)
		return rc;
	if (setns(netns_fd, CLONE_NEWNET) < 0) {
		rc = nl_fail(err, errlen, -errno, "enter netns", NULL);
		close(orig);
		return rc;
	}
	rc = fn(arg);
	if (setns(orig, CLONE_NEWNET) < 0) {
		/* Cannot normally happen (we left it a moment ago with the same rights); the
		 * thread is now in the wrong netns, so make it loud. */
		rc = nl_fail(err, errlen, -errno, "return to original netns", NULL);
		log_error("failed to return to the original netns", "error", err);
	}
	close(orig);
	return rc;
}
