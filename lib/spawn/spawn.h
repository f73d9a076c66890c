/* Running a helper program (modprobe, iptables) with an argv array: never through a shell,
 * so no argument is ever parsed as shell syntax. The child inherits the calling thread's
 * namespaces (fork copies the caller's), which is how iptables acts on a pod's netns. */
#ifndef COIL_SPAWN_H
#define COIL_SPAWN_H

#include <stddef.h>

struct spawn_result {
	int status;	  /* exit status (0..255), or 128 + signal when killed */
	char output[512]; /* the start of stdout+stderr, NUL-terminated, trailing newline cut */
};

/* Runs argv[0] (an absolute path, or a name looked up in PATH) with argv, stdin from
 * /dev/null, and waits for it. Returns 0 when it ran (whatever its exit status, which is in
 * *res), or -errno (err filled) when it could not be started, e.g. -ENOENT. */
int spawn_run(const char *const *argv, struct spawn_result *res, char *err, size_t errlen);

#endif
