/* Reading the manifest file. */
#include "standalone/standalone.h"
#include "fileio/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A pool manifest is a few kilobytes; refuse anything absurd. */
#define MANIFEST_MAX_BYTES (16 * 1024 * 1024)

int standalone_manifest_load(const char *path, struct standalone_manifest *out, char *err,
			     size_t errlen)
{
	memset(out, 0, sizeof(*out));
	char *text;
	size_t len;
	int ret = fileio_read_file_at(AT_FDCWD, path, MANIFEST_MAX_BYTES, &text, &len);
	if (ret < 0) {
		snprintf(err, errlen, "manifest %s: cannot read: %s", path, strerror(-ret));
		return ret;
	}
	char inner[512];
	ret = standalone_manifest_parse(text, len, out, inner, sizeof(inner));
	free(text);
	if (ret < 0)
		snprintf(err, errlen, "manifest %s: %s", path, inner);
	return ret;
}
