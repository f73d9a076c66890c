/* spawn_run: posix_spawnp with stdout+stderr into a pipe that is drained to EOF (a chatty
 * child must never block on a full pipe), then waitpid. */
#include "spawn/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err/err.h"

extern char **environ;

static int setup_actions(posix_spawn_file_actions_t *fa, int write_end, int read_end)
{
	int rc = posix_spawn_file_actions_init(fa);
	if (rc)
		return -rc;
	rc = posix_spawn_file_actions_addopen(fa, 0, "/dev/null", O_RDONLY, 0);
	if (!rc)
		rc = posix_spawn_file_actions_adddup2(fa, write_end, 1);
	if (!rc)
		rc = posix_spawn_file_actions_adddup2(fa, write_end, 2);
	if (!rc)
		rc = posix_spawn_file_actions_addclose(fa, read_end);
	if (rc)
		posix_spawn_file_actions_destroy(fa);
	return -rc;
}

/* Keeps the first bytes of the child's output, reads and drops the rest. */
static void drain(int fd, struct spawn_result *res)
{
	size_t used = 0;
	char scratch[1024];
	for (;;) {
		ssize_t n = read(fd, scratch, sizeof(scratch));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		size_t room = sizeof(res->output) - 1 - used;
		size_t take = (size_t)n < room ? (size_t)n : room;
		memcpy(res->output + used, scratch, take);
		used += take;
	}
	res->output[used] = '\0';
	while (used > 0 && (res->output[used - 1] == '\n' || res->output[used - 1] == '\r'))
		res->output[--used] = '\0';
}

static void wait_child(pid_t pid, struct spawn_result *res)
{
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	res->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int spawn_run(const char *const *argv, struct spawn_result *res, char *err, size_t errlen)
{
	memset(res, 0, sizeof(*res));
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return errorf(err, errlen, -errno, "run %s: pipe: %s", argv[0], strerror(errno));
	posix_spawn_file_actions_t fa;
	int rc = setup_actions(&fa, p[1], p[0]);
	if (rc < 0) {
		close(p[0]);
		close(p[1]);
		return errorf(err, errlen, rc, "run %s: %s", argv[0], strerror(-rc));
	}
	pid_t pid;
	/* posix_spawn's argv is char *const[] for historical reasons; it is not written. */
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)(uintptr_t)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (rc) {
		close(p[0]);
		return errorf(err, errlen, -rc, "run %s: %s", argv[0], strerror(rc));
	}
	drain(p[0], res);
	close(p[0]);
	wait_child(pid, res);
	return 0;
}
