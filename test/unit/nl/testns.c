/* See testns.h. */
#include "testns.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nl/nl.h"

static void *unshare_thread(void *arg)
{
	int *fd = arg;
	/* Only this helper thread moves; it dies right after, the fd keeps the netns. */
	if (unshare(CLONE_NEWNET) == 0)
		*fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	return NULL;
}

static int lo_up(int fd)
{
	struct nl_sock s;
	struct nl_link lo;
	char err[256];
	if (nl_sock_open_in(&s, fd, err, sizeof(err)) < 0)
		return -1;
	int rc = nl_link_get_by_name(&s, "lo", &lo, err, sizeof(err));
	if (rc == 0)
		rc = nl_link_set_up(&s, lo.index, true, err, sizeof(err));
	nl_sock_close(&s);
	return rc;
}

int testns_new(void)
{
	int fd = -1;
	pthread_t t;
	if (pthread_create(&t, NULL, unshare_thread, &fd) != 0)
		return -1;
	pthread_join(t, NULL);
	if (fd >= 0 && lo_up(fd) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

int testns_enter(int fd)
{
	return setns(fd, CLONE_NEWNET);
}

void testns_path(int fd, char *buf, size_t len)
{
	snprintf(buf, len, "/proc/%d/fd/%d", (int)getpid(), fd);
}

unsigned long testns_current_ino(void)
{
	struct stat st;
	if (stat("/proc/thread-self/ns/net", &st) < 0)
		return 0;
	return (unsigned long)st.st_ino;
}

int testns_exec(int fd, char *const argv[])
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (!getenv("COIL_TEST_VERBOSE")) {
			int null = open("/dev/null", O_WRONLY);
			dup2(null, 1);
			dup2(null, 2);
		}
		if (setns(fd, CLONE_NEWNET) < 0)
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	int status;
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int testns_is_root(void)
{
	return geteuid() == 0;
}

int testns_switch_new(int *ns, int *orig)
{
	*orig = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	*ns = *orig >= 0 ? testns_new() : -1;
	return *ns >= 0 && testns_enter(*ns) == 0 ? 0 : -1;
}

void testns_leave(int *ns, int *orig)
{
	if (*orig >= 0) {
		testns_enter(*orig);
		close(*orig);
	}
	if (*ns >= 0)
		close(*ns);
	*ns = *orig = -1;
}
