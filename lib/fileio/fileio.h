/* Whole-file reading, writing all of a buffer, and atomic file replacement: the one place
 * for the file handling that persisted state, configuration and certificates share.
 *
 * Durability rules (which replacement needs which, and why):
 *   FILEIO_DURABLE: the file is fsynced before the rename and the directory after it, so
 *     after a power loss the new content is there. For what cannot be rebuilt or whose loss
 *     breaks the node: the standalone mode's state file (which blocks the node owns), the
 *     installed CNI plugin binary and conflist, and certificates written into place.
 *   FILEIO_VOLATILE: no fsync; a crash of the process still leaves the old or the new file,
 *     never a mix, but a power loss may lose the last writes. For records that are thrown
 *     away after a reboot anyway, such as the node daemon's per-container allocation
 *     records (they are rebuilt from the kernel and the block source). */
#ifndef COIL_FILEIO_H
#define COIL_FILEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Writes all len bytes, retrying short writes and EINTR. Returns 0 or -errno. */
int fd_write_all(int fd, const void *data, size_t len);

/* Reads fd to end of file into *out: malloc'd, NUL-terminated (caller frees), *len bytes
 * without the NUL. More than max bytes is -EFBIG, so outside input cannot exhaust memory.
 * With deadline_ms >= 0 (CLOCK_MONOTONIC milliseconds), EAGAIN on a non-blocking fd waits
 * for input until then, and past it the result is -ETIMEDOUT. With deadline_ms < 0, EAGAIN
 * (a non-blocking fd with nothing to read, or a socket's SO_RCVTIMEO expiring) is returned
 * as -EAGAIN. Returns 0, -EFBIG, -ENOMEM, -ETIMEDOUT or -errno. */
int fileio_read_fd(int fd, size_t max, int64_t deadline_ms, char **out, size_t *len);

/* Waits for poll events on fd until deadline_ms (CLOCK_MONOTONIC milliseconds), retrying
 * EINTR: 0 when they came, -ETIMEDOUT, or -errno. */
int fileio_wait_fd(int fd, short events, int64_t deadline_ms);

/* Reads the whole file at path (relative to dirfd, or AT_FDCWD) like fileio_read_fd. */
int fileio_read_file_at(int dirfd, const char *path, size_t max, char **out, size_t *len);

/* Copies src_fd to dst_fd until end of file. A read error is reported as -errno with
 * *read_failed set (so the caller can name the right file), a write error with it clear. */
int fileio_copy_fd(int src_fd, int dst_fd, bool *read_failed);

enum fileio_durability {
	FILEIO_VOLATILE, /* no fsync: survives a crash of the process, not a power loss */
	FILEIO_DURABLE,	 /* fsync of the file and of its directory: survives a power loss */
};

/* How fileio_replace_at writes the new file. */
struct fileio_replace {
	mode_t mode; /* exactly this mode (not masked by the umask), e.g. 0755, 0644, 0600 */
	enum fileio_durability durability;
	/* The temporary file is "<temp_prefix><name>.XXXXXX" in the same directory (NULL: ".").
	 * A caller that scans the directory recognises leftovers of a crash by this prefix. */
	const char *temp_prefix;
	bool from_fd;	      /* the content is src_fd's, to end of file; data is unused */
	int src_fd;	      /* with from_fd */
	const char *src_name; /* src_fd's name for error messages */
};

/* Replaces name in the directory dirfd (AT_FDCWD: the working directory) so that readers
 * see the old file or the new one, never a partial one: writes a temporary file in the
 * same directory, sets its mode, fsyncs it when durable, renames it over name, then fsyncs
 * the directory when durable (filesystems that cannot sync a directory, EINVAL, are
 * accepted: the rename is still atomic there). A failure before the rename removes the
 * temporary file and leaves the old file as it was; a failed directory fsync is reported with
 * the new file already in place. dir_label names the directory in messages. Returns 0 or a
 * negative errno with the failed step and file in err. */
int fileio_replace_at(int dirfd, const char *dir_label, const char *name, const void *data,
		      size_t len, const struct fileio_replace *how, char *err, size_t errlen);

/* fileio_replace_at for a directory given by path. */
int fileio_replace(const char *dir, const char *name, const void *data, size_t len,
		   const struct fileio_replace *how, char *err, size_t errlen);

#endif
