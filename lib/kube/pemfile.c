/* Inline PEM data of a kubeconfig (certificate-authority-data, client-*-data) as files.
 *
 * libcurl's GnuTLS flavour, which coil loads, takes a CA bundle only from a file
 * (CURLOPT_CAINFO_BLOB answers "not built in") and ignores a client certificate given as a
 * blob. So each inline PEM goes into an anonymous memory file (memfd: nothing on disk, gone
 * when the client is freed) that curl opens by its /proc/self/fd path like any other file. */
#include "internal.h"
#include "err/err.h"
#include "fileio/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* One PEM into a memfd: *fd owned by the caller, *path malloc'd. */
static int pem_to_file(const char *pem, const char *what, int *fd, char **path, char *err,
		       size_t errlen)
{
	char name[64];
	int mfd = memfd_create(what, MFD_CLOEXEC);
	if (mfd < 0)
		return errorf(err, errlen, -errno, "kube client: memfd for %s: %s", what,
			      strerror(errno));
	int rc = fd_write_all(mfd, pem, strlen(pem));
	snprintf(name, sizeof(name), "/proc/self/fd/%d", mfd);
	/* Opening the path once now makes a missing /proc an error here, not a TLS failure on
	 * every request. */
	int probe = rc == 0 ? open(name, O_RDONLY | O_CLOEXEC) : -1;
	if (rc == 0 && probe < 0)
		rc = -errno;
	if (probe >= 0)
		close(probe);
	if (rc == 0 && !(*path = strdup(name)))
		rc = -ENOMEM;
	if (rc < 0) {
		close(mfd);
		return errorf(err, errlen, rc, "kube client: %s as a file (%s): %s", what, name,
			      strerror(-rc));
	}
	*fd = mfd;
	return 0;
}

int kube_pem_files(struct kube_config *config, int fds[KUBE_PEM_FILES], char *err, size_t errlen)
{
	struct {
		char **pem, **file;
		const char *what;
	} fields[KUBE_PEM_FILES] = {
	    {&config->ca_pem, &config->ca_file, "certificate-authority-data"},
	    {&config->client_cert_pem, &config->client_cert_file, "client-certificate-data"},
	    {&config->client_key_pem, &config->client_key_file, "client-key-data"},
	};
	for (int i = 0; i < KUBE_PEM_FILES; i++) {
		if (!*fields[i].pem)
			continue;
		char *path = NULL;
		int rc = pem_to_file(*fields[i].pem, fields[i].what, &fds[i], &path, err, errlen);
		if (rc < 0)
			return rc;
		free(*fields[i].file);
		*fields[i].file = path;
		explicit_bzero(*fields[i].pem, strlen(*fields[i].pem));
		free(*fields[i].pem);
		*fields[i].pem = NULL;
	}
	return 0;
}
