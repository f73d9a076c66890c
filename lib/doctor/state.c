/* The daemon's state directory, read only: the allocation records (one JSON file per
 * attachment under allocations/, written by lib/nodeipam) and, for a standalone node,
 * blocks.json (lib/standalone). Temp files of an interrupted write (".tmp-...") are
 * skipped, like the daemon does. */
#include "doctor/internal.h"
#include "err/err.h"
#include "fileio/fileio.h"
#include "standalone/state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RECORD_MAX_BYTES 65536

static bool copy_member(const json_t *obj, const char *key, char *out, size_t outlen)
{
	const char *s = json_string_value(json_object_get(obj, key));
	if (!s || strlen(s) >= outlen)
		return false;
	memcpy(out, s, strlen(s) + 1);
	return true;
}

int doctor_parse_record(const char *text, size_t len, struct node_ipam_record *out)
{
	json_error_t jerr;
	json_t *obj = json_loadb(text, len, 0, &jerr);
	memset(out, 0, sizeof(*out));
	bool ok = json_is_object(obj) &&
		  copy_member(obj, "container_id", out->container_id, sizeof(out->container_id)) &&
		  copy_member(obj, "ifname", out->ifname, sizeof(out->ifname)) &&
		  copy_member(obj, "block", out->block, sizeof(out->block)) &&
		  copy_member(obj, "ipv4", out->ipv4, sizeof(out->ipv4)) &&
		  copy_member(obj, "ipv6", out->ipv6, sizeof(out->ipv6));
	if (ok)
		copy_member(obj, "pool", out->pool, sizeof(out->pool)); /* optional */
	json_decref(obj);
	return ok ? 0 : -EINVAL;
}

/* One record file; an unreadable one is a problem, not a failure of the audit. */
static void read_record(struct doctor_view *v, int dirfd, const char *name)
{
	char *text = NULL;
	size_t len = 0;
	struct node_ipam_record r;
	int rc = fileio_read_file_at(dirfd, name, RECORD_MAX_BYTES, &text, &len);
	if (rc == 0)
		rc = doctor_parse_record(text, len, &r);
	free(text);
	if (rc < 0) {
		doctor_problem(v, "record-unreadable",
			       "allocation record %s/allocations/%s cannot be read or lacks fields "
			       "(the daemon ignores it)",
			       v->cfg->state_dir, name);
		return;
	}
	struct node_ipam_record *more =
	    realloc(v->records, (v->n_records + 1) * sizeof(*v->records));
	if (!more)
		return doctor_problem(v, "out-of-memory", "cannot keep record %s", name);
	v->records = more;
	v->records[v->n_records++] = r;
}

int doctor_read_records(struct doctor_view *v, char *err, size_t errlen)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/allocations", v->cfg->state_dir);
	int dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0 && errno == ENOENT) {
		json_array_append_new(v->notes,
				      json_sprintf("%s does not exist: no records", path));
		return 0;
	}
	DIR *dir = dirfd < 0 ? NULL : fdopendir(dirfd);
	if (!dir) {
		int e = errno;
		if (dirfd >= 0)
			close(dirfd);
		return errorf(err, errlen, -e, "cannot read %s: %s", path, strerror(e));
	}
	for (struct dirent *e; (e = readdir(dir));)
		if (e->d_name[0] != '.')
			read_record(v, dirfd, e->d_name);
	closedir(dir);
	return 0;
}

int doctor_read_state_blocks(struct doctor_view *v, char *err, size_t errlen)
{
	int dirfd = open(v->cfg->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return errorf(err, errlen, -errno, "cannot open the state directory %s: %s",
			      v->cfg->state_dir, strerror(errno));
	struct block_state s;
	int rc = state_load(dirfd, v->cfg->state_dir, v->cfg->node, &s, err, errlen);
	close(dirfd);
	if (rc < 0)
		return rc;
	v->blocks = s.blocks; /* the view takes the array over */
	v->n_blocks = s.n;
	return 0;
}
