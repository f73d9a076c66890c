/* coil install (upstream coil-installer): puts the coil plugin binary into the host's CNI
 * bin dir and the CNI network configuration list into the host's CNI config dir
 * (docs/applets/install.md). Both files are replaced atomically (temp file in the same
 * directory, fsync, chmod, rename), so a runtime never sees a half-written one.
 * Unlike upstream, which deletes every file whose name contains "conflist", only coil's own
 * old config lists are removed. */
#ifndef COIL_INSTALL_H
#define COIL_INSTALL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define INSTALL_DEFAULT_CONF_NAME "10-coil.conflist"
#define INSTALL_DEFAULT_ETC_DIR	  "/host/etc/cni/net.d"
#define INSTALL_DEFAULT_BIN_DIR	  "/host/opt/cni/bin"
#define INSTALL_DEFAULT_COIL_PATH "/usr/local/coil/coil"
/* Used when COIL_PATH is unset and the default path does not exist: this multi-call
 * binary is the plugin. */
#define INSTALL_SELF_EXE    "/proc/self/exe"
#define INSTALL_PLUGIN_NAME "coil"
/* Name prefix of our temp files: hidden, and without a .conf/.conflist/.json suffix, so
 * kubelet/libcni never load one. */
#define INSTALL_TEMP_PREFIX ".coil-install-"
/* Largest config (CNI_NETCONF_FILE, or a file inspected for removal) we read. */
#define INSTALL_MAX_CONFIG (1024 * 1024)

/* The environment of the installer. Strings are borrowed (from getenv or the caller). */
struct install_config {
	const char *netconf;	  /* CNI_NETCONF: the config text; wins when non-empty */
	const char *netconf_file; /* CNI_NETCONF_FILE: read when netconf is empty */
	const char *conf_name;	  /* CNI_CONF_NAME: file name in etc_dir */
	const char *etc_dir;	  /* CNI_ETC_DIR */
	const char *bin_dir;	  /* CNI_BIN_DIR */
	const char *coil_path;	  /* source binary, see install_pick_source() */
};

/* Fills cfg from the environment; unset or empty variables get the defaults above
 * (netconf/netconf_file: NULL). coil_path is resolved with install_pick_source(). */
void install_config_from_env(struct install_config *cfg);

/* COIL_PATH when non-empty; else default_path when it exists; else INSTALL_SELF_EXE. */
const char *install_pick_source(const char *coil_path, const char *default_path);

/* The config bytes: cfg->netconf when non-empty, else the content of cfg->netconf_file.
 * *out is malloc'd and NUL-terminated; the caller frees it. Returns 0 or -errno. */
int install_load_netconf(const struct install_config *cfg, char **out, size_t *len, char *err,
			 size_t errlen);

/* Checks that data is a JSON object a CNI runtime would load under conf_name: for a
 * ".conflist" a non-empty "name" and a non-empty "plugins" array of objects with a
 * non-empty string "type"; for a ".conf" a string "type". Returns 0 or -EINVAL. */
int install_validate_netconf(const char *data, size_t len, const char *conf_name, char *err,
			     size_t errlen);

/* True when data is a JSON object whose "plugins" array holds a plugin of type "coil":
 * a config list this installer (or upstream's) wrote. */
bool install_is_coil_conflist(const char *data, size_t len);

/* Checks CNI_CONF_NAME: a plain file name (no '/', not "." or ".."). Returns 0 or -EINVAL. */
int install_check_conf_name(const char *name, char *err, size_t errlen);

/* mkdir -p with mode for each created directory. Returns 0 or -errno. */
int install_mkdir_p(const char *path, mode_t mode, char *err, size_t errlen);

/* Atomically replaces dir/name with data and mode: temp file in dir, write, fchmod, fsync,
 * rename, fsync dir. The temp file is removed on failure. Returns 0 or -errno. */
int install_write_atomic(const char *dir, const char *name, const void *data, size_t len,
			 mode_t mode, char *err, size_t errlen);

/* Opens the source binary: must be a regular file. *fd is the caller's to close. */
int install_open_source(const char *path, int *fd, char *err, size_t errlen);

/* Like install_write_atomic with the content read from src_fd (from its current offset);
 * src_name only names the source in messages. Returns 0 or -errno. */
int install_copy_atomic(int src_fd, const char *src_name, const char *dir, const char *name,
			mode_t mode, char *err, size_t errlen);

/* Upstream quirk, fixed: upstream deletes every non-directory entry of dir whose name contains
 * "conflist". We delete such an entry only when it is a regular file (not a symlink), is
 * not keep_name, and holds a coil config list (install_is_coil_conflist). Other CNIs'
 * files stay; those a runtime would pick before keep_name are logged as a warning.
 * Returns the number of files removed, or -errno. */
int install_remove_old_conflists(const char *dir, const char *keep_name, char *err, size_t errlen);

/* The whole installer minus the final sleep: load and validate the config, open the
 * source binary, write etc_dir/conf_name (0644), remove coil's old config lists, copy the
 * binary to bin_dir/coil (0755). Nothing is written when the config is invalid or the
 * source cannot be opened. Returns 0 or -errno with a message in err. */
int install_run(const struct install_config *cfg, char *err, size_t errlen);

#endif
