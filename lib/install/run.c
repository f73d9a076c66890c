/* The installer's procedure: validate everything first, then the config, then the binary. */
#include "install/install.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log/log.h"

/* --standalone takes an absolute file path (checked before anything is written). */
static int check_standalone_path(const char *path, char *err, size_t errlen)
{
	const char *slash = path ? strrchr(path, '/') : NULL;
	if (!path || path[0] != '/' || !slash[1] || strlen(path) >= PATH_MAX) {
		snprintf(err, errlen,
			 "the standalone path must be an absolute file path, got \"%s\"",
			 path ? path : "");
		return -EINVAL;
	}
	return 0;
}

/* Everything that can be checked before writing: the config text and the source binary.
 * On success *netconf (malloc'd) and *src_fd belong to the caller. */
static int prepare(const struct install_config *cfg, char **netconf, size_t *len, int *src_fd,
		   char *err, size_t errlen)
{
	int rc = install_check_conf_name(cfg->conf_name, err, errlen);
	if (rc == 0 && cfg->standalone_path)
		rc = check_standalone_path(cfg->standalone_path, err, errlen);
	if (rc == 0)
		rc = install_load_netconf(cfg, netconf, len, err, errlen);
	if (rc == 0)
		rc = install_validate_netconf(*netconf, *len, cfg->conf_name, err, errlen);
	if (rc == 0)
		rc = install_open_source(cfg->coil_path, src_fd, err, errlen);
	if (rc < 0) {
		free(*netconf);
		*netconf = NULL;
	}
	return rc;
}

/* Copies the binary once to standalone_path and makes bin_dir/coil a symlink to it, so
 * the host's daemon and its runtime run the same file. */
static int install_once_and_link(const struct install_config *cfg, int src_fd, char *err,
				 size_t errlen)
{
	const char *path = cfg->standalone_path;
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	int rc = install_mkdir_p(dir, 0755, err, errlen);
	if (rc == 0)
		rc = install_copy_atomic(src_fd, cfg->coil_path, dir, slash + 1, 0755, err, errlen);
	if (rc == 0)
		rc = install_link_atomic(cfg->bin_dir, INSTALL_PLUGIN_NAME, path, err, errlen);
	return rc;
}

static int install_binary(const struct install_config *cfg, int src_fd, char *err, size_t errlen)
{
	int rc = install_mkdir_p(cfg->bin_dir, 0755, err, errlen);
	if (rc < 0)
		return rc;
	if (cfg->standalone_path)
		return install_once_and_link(cfg, src_fd, err, errlen);
	return install_copy_atomic(src_fd, cfg->coil_path, cfg->bin_dir, INSTALL_PLUGIN_NAME, 0755,
				   err, errlen);
}

/* Config first, then the binary, as upstream. The old config lists are removed after the
 * new one is in place (upstream removes them before), so the directory never lacks a coil
 * config. */
static int install_files(const struct install_config *cfg, const char *netconf, size_t len,
			 int src_fd, char *err, size_t errlen)
{
	int rc = install_mkdir_p(cfg->etc_dir, 0755, err, errlen);
	if (rc == 0)
		rc = install_write_atomic(cfg->etc_dir, cfg->conf_name, netconf, len, 0644, err,
					  errlen);
	if (rc < 0)
		return rc;
	log_info("installed the CNI config", "dir", cfg->etc_dir, "file", cfg->conf_name);
	rc = install_remove_old_conflists(cfg->etc_dir, cfg->conf_name, cfg->keep_other_conflists,
					  err, errlen);
	if (rc >= 0)
		rc = install_binary(cfg, src_fd, err, errlen);
	/* Without a static build next to it (a build tree, or an image missing it) the host gets
	 * this executable, which needs the host's glibc and libmnl: say so. */
	if (rc == 0 && !cfg->standalone_path && strcmp(cfg->coil_path, INSTALL_SELF_EXE) == 0)
		log_warn("no " INSTALL_STATIC_NAME " next to this executable: installed this one, "
			 "which needs the host's shared libraries",
			 "dir", cfg->bin_dir);
	if (rc == 0)
		log_info("installed the coil plugin", "dir", cfg->bin_dir, "source", cfg->coil_path,
			 "standalone_path", cfg->standalone_path ? cfg->standalone_path : "");
	return rc;
}

int install_run(const struct install_config *cfg, char *err, size_t errlen)
{
	char *netconf = NULL;
	size_t len = 0;
	int src_fd = -1;
	int rc = prepare(cfg, &netconf, &len, &src_fd, err, errlen);
	if (rc < 0)
		return rc;
	rc = install_files(cfg, netconf, len, src_fd, err, errlen);
	close(src_fd);
	free(netconf);
	return rc;
}
