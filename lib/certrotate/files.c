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
#include "fileio/fileio.h"

/* True when path holds exactly text. */
static bool file_equals(const char *path, const char *text)
{
	size_t want = strlen(text), len;
	char *buf;
	if (fileio_read_file_at(AT_FDCWD, path, want, &buf, &len) < 0)
		return false; /* missing, unreadable, or longer than text */
	bool same = len == want && memcmp(buf, text, want) == 0;
	free(buf);
	return same;
}

/* Replaces cert_dir/name atomically, so the reloader never reads half a file, and durably:
 * a certificate lost to a power cut would leave the webhook serving a stale or mismatched
 * pair. mode 0600 for keys: they are secrets. */
static int write_atomically(const char *cert_dir, const char *name, const char *text, mode_t mode,
			    char *err, size_t errlen)
{
	struct fileio_replace how = {.mode = mode, .durability = FILEIO_DURABLE};
	return fileio_replace(cert_dir, name, text, strlen(text), &how, err, errlen);
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
	int ret = write_atomically(cert_dir, "tls.key", pems->tls_key, 0600, err, errlen);
	if (ret == 0)
		ret = write_atomically(cert_dir, "tls.crt", pems->tls_crt, 0644, err, errlen);
	*written = ret == 0;
	return ret;
}
