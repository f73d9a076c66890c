/* File descriptor helpers shared by the code that persists state. */
#ifndef COIL_FILEIO_H
#define COIL_FILEIO_H

#include <stddef.h>

/* Writes all len bytes, retrying short writes and EINTR. Returns 0 or -errno. */
int fd_write_all(int fd, const void *data, size_t len);

#endif
