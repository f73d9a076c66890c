/* Small file helpers shared by the manifest loader and the state file. */
#ifndef COIL_STANDALONE_FILEIO_H
#define COIL_STANDALONE_FILEIO_H

#include <stddef.h>

/* Reads the whole file `name` (relative to dirfd, or AT_FDCWD) into *out,
 * malloc'd and NUL-terminated (caller frees); *len is its size. Returns 0, the
 * negated errno of open/read, or -EFBIG when it is larger than max_bytes. */
int read_file_at(int dirfd, const char *name, size_t max_bytes, char **out, size_t *len);

/* Replaces `name` in the directory dirfd with `len` bytes of `data` so that a
 * crash leaves either the old or the new content, never a mix: writes
 * "<name>.tmp", fsyncs it, renames it over `name` and fsyncs the directory.
 * Returns 0 or a negative errno. */
int replace_file_at(int dirfd, const char *name, const char *data, size_t len);

#endif
