/* Throw-away network namespaces for root tests. A namespace lives as long as an fd to it is
 * open (no bind mount, so nothing is left behind if a test dies). */
#ifndef COIL_TESTNS_H
#define COIL_TESTNS_H

#include <stddef.h>

/* Returns an fd to a brand-new netns with lo up, or -1. */
int testns_new(void);
/* Moves the calling thread into netns fd; returns 0 or -1. */
int testns_enter(int fd);
/* Writes "/proc/<pid>/fd/<fd>", a path that opens netns fd. */
void testns_path(int fd, char *buf, size_t len);
/* Inode of the calling thread's netns (to compare namespaces). */
unsigned long testns_current_ino(void);
/* Runs argv (argv[0] an absolute path) in a child that first enters netns fd; returns the
 * exit status, or -1. Output goes to /dev/null unless COIL_TEST_VERBOSE is set. */
int testns_exec(int fd, char *const argv[]);
/* Moves the calling thread into a brand-new netns: *ns gets its fd and *orig the fd of the
 * netns the thread was in; returns 0 or -1. testns_leave moves back and closes both. */
int testns_switch_new(int *ns, int *orig);
void testns_leave(int *ns, int *orig);
/* 1 if running as root. */
int testns_is_root(void);

#endif
