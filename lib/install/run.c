/* The installer's procedure (docs/applets/install.md): validate, write the config, remove
 * coil's old config lists only, install the binary. */
#include "install/install.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "log/log.h"

/* Everything that can be checked before writing: the config text and the source binary.
 * On success *netconf (malloc'd) and *src_fd belong to the caller. */
static int prepare(const struct install_config *cfg, char **netconf, size_t *len, int *src_fd,
		   char *err, size_t errlen)
{
	int rc = install_check_conf_name(cfg->conf_name, err, errlen);
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

/* Config first, then the binary, as upstream. Our own old config lists are removed after
 * the new one is in place, so the directory never lacks a coil config. */
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
	rc = install_remove_old_conflists(cfg->etc_dir, cfg->conf_name, err, errlen);
	if (rc >= 0)
		rc = install_mkdir_p(cfg->bin_dir, 0755, err, errlen);
	if (rc == 0)
		rc = install_copy_atomic(src_fd, cfg->coil_path, cfg->bin_dir, INSTALL_PLUGIN_NAME,
					 0755, err, errlen);
	if (rc == 0)
		log_info("installed the coil plugin", "dir", cfg->bin_dir, "source",
			 cfg->coil_path);
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
