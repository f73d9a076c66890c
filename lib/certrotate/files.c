/* tls.crt/tls.key in --cert-dir: written directly when the directory is writable, so the
 * webhook's reloader serves a new pair at once (in a cluster the kubelet syncs the Secret
 * volume instead, and the directory is read-only). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "certrotate.h"

/* True when path holds exactly text. */
static bool file_equals(const char *path, const char *text)
{
	size_t want = strlen(text);
	char *buf = malloc(want + 1);
	FILE *f = buf ? fopen(path, "rb") : NULL;
	bool same = false;
	if (f) {
		size_t got = fread(buf, 1, want + 1, f);
		same = got == want && memcmp(buf, text, want) == 0;
		fclose(f);
	}
	free(buf);
	return same;
}

/* Writes a temporary file next to path and renames it over path, so the reloader never reads
 * half a file. mode 0600 for keys: they are secrets. */
static int write_atomically(const char *path, const char *text, mode_t mode, char *err,
			    size_t errlen)
{
	char tmp[4096];
	size_t len = strlen(text);
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -ENAMETOOLONG;
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	int ret = fd < 0 ? -errno : 0;
	if (ret == 0 && write(fd, text, len) != (ssize_t)len)
		ret = errno ? -errno : -EIO;
	if (fd >= 0 && close(fd) < 0 && ret == 0)
		ret = -errno;
	if (ret == 0 && rename(tmp, path) < 0)
		ret = -errno;
	if (ret < 0) {
		snprintf(err, errlen, "write %s: %s", path, strerror(-ret));
		unlink(tmp);
	}
	return ret;
}

int certrotate_sync_files(const char *cert_dir, const struct certrotate_pems *pems, bool *written,
			  char *err, size_t errlen)
{
	char crt[4096], key[4096];
	*written = false;
	if (snprintf(crt, sizeof(crt), "%s/tls.crt", cert_dir) >= (int)sizeof(crt) ||
	    snprintf(key, sizeof(key), "%s/tls.key", cert_dir) >= (int)sizeof(key)) {
		snprintf(err, errlen, "cert dir %s: path too long", cert_dir);
		return -ENAMETOOLONG;
	}
	if (file_equals(crt, pems->tls_crt) && file_equals(key, pems->tls_key))
		return 0;
	if (access(cert_dir, W_OK) < 0) {
		int ret = -errno;
		snprintf(err, errlen, "cert dir %s does not hold the Secret's certificate yet: %s",
			 cert_dir, strerror(errno));
		return ret;
	}
	/* The key goes first: the reloader watches tls.crt, so by the time it sees the new
	 * certificate its key is already in place. */
	int ret = write_atomically(key, pems->tls_key, 0600, err, errlen);
	if (ret == 0)
		ret = write_atomically(crt, pems->tls_crt, 0644, err, errlen);
	*written = ret == 0;
	return ret;
}
