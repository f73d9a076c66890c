/* Persisted allocation records: one small JSON file per key in
 * <state_dir>/allocations/, written to a temp file and rename(2)d so a crash
 * leaves either the old or the new file. No fsync: this protects against
 * daemon crashes, not power loss (after a reboot the records are discarded
 * anyway, see the boot_id check). */
#include "nodeipam/internal.h"
#include "err/err.h"
#include "fileio/fileio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/log.h"

#define TMP_PREFIX	 ".tmp-"
#define DEFAULT_BOOT_ID	 "/proc/sys/kernel/random/boot_id"
#define MAX_ENCODED_NAME 200 /* leaves room for the temporary name within NAME_MAX */

/* "<id>:<ifname>" with every byte outside [A-Za-z0-9_-] as %XX, so the name
 * is never ".", "..", hidden (temp files start with '.') or a path. */
static int record_filename(const struct node_ipam_record *r, char *out, size_t outlen)
{
	char key[NODE_IPAM_ID_MAX + NODE_IPAM_IFNAME_MAX + 1];
	snprintf(key, sizeof(key), "%s:%s", r->container_id, r->ifname);
	size_t len = 0;
	for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
		bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			     (*p >= '0' && *p <= '9') || *p == '_' || *p == '-';
		if (len + 4 > outlen || len + 3 > MAX_ENCODED_NAME)
			return -ENAMETOOLONG;
		if (plain)
			out[len++] = (char)*p;
		else
			len += (size_t)snprintf(out + len, outlen - len, "%%%02X", *p);
	}
	out[len] = '\0';
	return 0;
}

/* Replaces <dir>/<name> with content atomically, without fsync (see the top of the file). */
static int write_file_atomic(const char *dir, const char *name, const char *content, char *err,
			     size_t errlen)
{
	struct fileio_replace how = {
	    .mode = 0600, .durability = FILEIO_VOLATILE, .temp_prefix = TMP_PREFIX};
	return fileio_replace(dir, name, content, strlen(content), &how, err, errlen);
}

int store_save(struct node_ipam *ipam, const struct node_ipam_record *r, char *err, size_t errlen)
{
	if (!ipam->alloc_dir)
		return 0;
	char name[MAX_ENCODED_NAME + 8];
	if (record_filename(r, name, sizeof(name)) < 0)
		return errorf(err, errlen, -ENAMETOOLONG, "key %s:%s is too long to persist",
			      r->container_id, r->ifname);
	json_t *obj =
	    json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:s}", "container_id", r->container_id,
		      "ifname", r->ifname, "pool", r->pool, "block", r->block, "offset",
		      (json_int_t)r->offset, "ipv4", r->ipv4, "ipv6", r->ipv6);
	/* Whose record it is: a state directory carried over to another node is not applied. */
	if (obj && ipam->node_name &&
	    json_object_set_new(obj, "node", json_string(ipam->node_name)) < 0) {
		json_decref(obj);
		obj = NULL;
	}
	char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
	json_decref(obj);
	if (!text)
		return errorf(err, errlen, -ENOMEM, "cannot encode record %s:%s", r->container_id,
			      r->ifname);
	char why[512];
	int ret = write_file_atomic(ipam->alloc_dir, name, text, why, sizeof(why));
	free(text);
	/* -EIO, not the raw errno: a full disk's -ENOSPC must not read as an
	 * exhausted pool. The message has the detail. */
	if (ret < 0)
		return errorf(err, errlen, -EIO,
			      "cannot persist the allocation record of %s:%s: %s", r->container_id,
			      r->ifname, why);
	return 0;
}

void store_remove(struct node_ipam *ipam, const struct node_ipam_record *r)
{
	char name[MAX_ENCODED_NAME + 8], path[PATH_MAX];
	if (!ipam->alloc_dir || record_filename(r, name, sizeof(name)) < 0)
		return;
	snprintf(path, sizeof(path), "%s/%s", ipam->alloc_dir, name);
	if (unlink(path) < 0 && errno != ENOENT)
		log_warn("cannot remove allocation record", "path", path, "error", strerror(errno));
}

static bool copy_field(json_t *obj, const char *key, char *out, size_t outlen, bool may_be_empty)
{
	const char *value = json_string_value(json_object_get(obj, key));
	if (!value || strlen(value) >= outlen || (!may_be_empty && value[0] == '\0'))
		return false;
	memcpy(out, value, strlen(value) + 1);
	return true;
}

static bool parse_record(json_t *obj, struct node_ipam_record *r)
{
	memset(r, 0, sizeof(*r));
	json_t *offset = json_object_get(obj, "offset");
	if (!json_is_integer(offset) || json_integer_value(offset) < 0 ||
	    json_integer_value(offset) > UINT32_MAX)
		return false;
	r->offset = (uint32_t)json_integer_value(offset);
	return copy_field(obj, "container_id", r->container_id, sizeof(r->container_id), false) &&
	       copy_field(obj, "ifname", r->ifname, sizeof(r->ifname), false) &&
	       copy_field(obj, "pool", r->pool, sizeof(r->pool), true) &&
	       copy_field(obj, "block", r->block, sizeof(r->block), false) &&
	       copy_field(obj, "ipv4", r->ipv4, sizeof(r->ipv4), true) &&
	       copy_field(obj, "ipv6", r->ipv6, sizeof(r->ipv6), true) &&
	       (r->ipv4[0] || r->ipv6[0]);
}

static void load_one(struct node_ipam *ipam, const char *path)
{
	json_error_t jerr;
	json_t *obj = json_load_file(path, 0, &jerr);
	struct node_ipam_record r;
	if (!obj || !parse_record(obj, &r)) {
		log_warn("ignoring unreadable allocation record", "path", path, "error",
			 obj ? "bad fields" : jerr.text);
		json_decref(obj);
		return;
	}
	const char *node = json_string_value(json_object_get(obj, "node"));
	if (node && ipam->node_name && strcmp(node, ipam->node_name) != 0) {
		log_warn("discarding the allocation record of another node", "path", path, "node",
			 node, "this_node", ipam->node_name);
		json_decref(obj);
		if (unlink(path) < 0)
			log_warn("cannot remove allocation record", "path", path, "error",
				 strerror(errno));
		return;
	}
	json_decref(obj);
	if (records_insert(ipam, &r, NULL) < 0)
		log_warn("ignoring duplicate allocation record", "path", path);
	else
		log_debug("loaded allocation record", "container_id", r.container_id, "ifname",
			  r.ifname, "block", r.block);
}

/* Calls fn for every regular entry of dir except temp files, which are
 * leftovers of a crash mid-write and removed. */
static int for_each_file(const char *dir, void (*fn)(struct node_ipam *, const char *),
			 struct node_ipam *ipam, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	if (!d) {
		snprintf(err, errlen, "cannot open %s: %s", dir, strerror(errno));
		return -errno;
	}
	for (struct dirent *e = readdir(d); e; e = readdir(d)) {
		char path[PATH_MAX];
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (strncmp(e->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0)
			unlink(path);
		else
			fn(ipam, path);
	}
	closedir(d);
	return 0;
}

int store_load(struct node_ipam *ipam, char *err, size_t errlen)
{
	if (!ipam->alloc_dir)
		return 0;
	return for_each_file(ipam->alloc_dir, load_one, ipam, err, errlen);
}

static void discard_one(struct node_ipam *ipam, const char *path)
{
	if (unlink(path) < 0)
		log_warn("cannot remove allocation record", "path", path, "error", strerror(errno));
}

/* Reads a one-line file of less than len bytes into buf without the trailing newline. */
static int read_line_file(const char *path, char *buf, size_t len)
{
	char *text;
	size_t n;
	int rc = fileio_read_file_at(AT_FDCWD, path, len - 1, &text, &n);
	if (rc < 0)
		return rc;
	bool empty = n == 0; /* no line at all */
	n = strcspn(text, "\r\n");
	memcpy(buf, text, n);
	buf[n] = '\0';
	free(text);
	return empty ? -EIO : 0;
}

/* Records from before a reboot belong to pods that no longer exist. The boot id is written
 * only when it changed, so that a daemon with a full state directory still starts; failing
 * to write it only means the next start compares with an older id (and discards records of
 * pods that the kernel no longer has either). */
static int check_boot_id(struct node_ipam *ipam, const char *boot_id_path, char *err, size_t errlen)
{
	char current[128], stored[128], path[PATH_MAX];
	const char *source = boot_id_path ? boot_id_path : DEFAULT_BOOT_ID;
	if (read_line_file(source, current, sizeof(current)) < 0 || current[0] == '\0') {
		log_warn("cannot read the boot id; keeping allocation records", "path", source);
		return 0;
	}
	snprintf(path, sizeof(path), "%s/boot_id", ipam->state_dir);
	bool known = read_line_file(path, stored, sizeof(stored)) == 0;
	if (known && strcmp(stored, current) == 0)
		return 0;
	if (known) {
		log_info("node rebooted; discarding allocation records", "previous_boot_id", stored,
			 "boot_id", current);
		int ret = for_each_file(ipam->alloc_dir, discard_one, ipam, err, errlen);
		if (ret < 0)
			return ret;
	}
	char line[sizeof(current) + 1], why[512];
	snprintf(line, sizeof(line), "%s\n", current);
	if (write_file_atomic(ipam->state_dir, "boot_id", line, why, sizeof(why)) < 0)
		log_warn("cannot record the boot id", "error", why);
	return 0;
}

static int make_dir(const char *path, char *err, size_t errlen)
{
	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		int ret = -errno;
		snprintf(err, errlen, "cannot create state directory %s: %s", path,
			 strerror(errno));
		return ret;
	}
	return 0;
}

int store_open(struct node_ipam *ipam, const char *boot_id_path, char *err, size_t errlen)
{
	if (!ipam->state_dir)
		return 0;
	int ret = make_dir(ipam->state_dir, err, errlen);
	if (ret == 0)
		ret = make_dir(ipam->alloc_dir, err, errlen);
	if (ret == 0)
		ret = check_boot_id(ipam, boot_id_path, err, errlen);
	return ret;
}
