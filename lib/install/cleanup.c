/* Removal of the old config lists from the CNI config dir: every other list by default,
 * as upstream; only coil's own with --keep-other-conflists. */
#include "install/install.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/log.h"

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* The extensions libcni loads from a config dir. */
static bool is_loadable_name(const char *name)
{
	return has_suffix(name, ".conf") || has_suffix(name, ".conflist") ||
	       has_suffix(name, ".json");
}

/* True when dirfd/name is a regular file (not followed through a symlink) of at most
 * INSTALL_MAX_CONFIG bytes holding a coil config list. Unreadable files are not ours. */
static bool holds_coil_conflist(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return false;
	struct stat st;
	bool ours = false;
	char *buf = NULL;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= INSTALL_MAX_CONFIG)
		buf = malloc((size_t)st.st_size + 1);
	if (buf) {
		ssize_t n = pread(fd, buf, (size_t)st.st_size + 1, 0);
		ours = n >= 0 && n <= st.st_size && install_is_coil_conflist(buf, (size_t)n);
	}
	free(buf);
	close(fd);
	return ours;
}

/* True when dirfd/name is a directory (not followed through a symlink). */
static bool is_directory(int dirfd, const char *name)
{
	struct stat st;
	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

/* Whether the policy removes dirfd/name (whose name contains "conflist", not keep_name). */
static bool should_remove(int dirfd, const char *name, bool keep_others)
{
	if (keep_others)
		return holds_coil_conflist(dirfd, name);
	return !is_directory(dirfd, name);
}

/* Handles one entry; returns 1 when it was removed, 0 when kept, -errno on failure. */
static int consider_entry(int dirfd, const char *dir, const char *name, const char *keep_name,
			  bool keep_others, char *err, size_t errlen)
{
	if (strcmp(name, keep_name) == 0 || !strstr(name, "conflist") ||
	    !should_remove(dirfd, name, keep_others))
		return 0;
	if (unlinkat(dirfd, name, 0) < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot remove old CNI config %s/%s: %s", dir, name,
			 strerror(e));
		return -e;
	}
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	log_info("removed an old CNI config list", "file", path);
	return 1;
}

/* A runtime loads the first config of the directory in name order; say so when another
 * CNI's file will win over ours. */
static void warn_if_shadowed(const char *dir, const char *name, const char *keep_name)
{
	if (strcmp(name, keep_name) >= 0 || !is_loadable_name(name))
		return;
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	log_warn("another CNI config sorts before coil's and will be used by the runtime", "file",
		 path, "coil_config", keep_name);
}

int install_remove_old_conflists(const char *dir, const char *keep_name, bool keep_others,
				 char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	if (!d) {
		int e = errno;
		snprintf(err, errlen, "cannot read directory %s: %s", dir, strerror(e));
		return -e;
	}
	int removed = 0, rc = 0;
	struct dirent *entry;
	while (rc >= 0 && (entry = readdir(d)) != NULL) {
		const char *name = entry->d_name;
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		rc = consider_entry(dirfd(d), dir, name, keep_name, keep_others, err, errlen);
		if (rc > 0)
			removed++;
		else if (rc == 0 && entry->d_type != DT_DIR)
			warn_if_shadowed(dir, name, keep_name);
	}
	closedir(d);
	return rc < 0 ? rc : removed;
}
