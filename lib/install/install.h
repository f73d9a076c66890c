/* coil install (upstream coil-installer): puts the coil plugin binary into the host's CNI
 * bin dir and the CNI network configuration list into the host's CNI config dir. Both
 * files are replaced atomically (temp file in the same directory, fsync, chmod, rename), so
 * a runtime never sees a half-written one. Like upstream it removes the other config lists
 * of the directory (the runtime would pick the first one in name order); --keep-other-conflists
 * keeps other CNIs' lists. On a host without Kubernetes (--standalone) the binary is
 * installed once and the CNI bin dir gets a symlink to it. */
#ifndef COIL_INSTALL_H
#define COIL_INSTALL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define INSTALL_DEFAULT_CONF_NAME "10-coil.conflist"
#define INSTALL_DEFAULT_ETC_DIR	  "/host/etc/cni/net.d"
#define INSTALL_DEFAULT_BIN_DIR	  "/host/opt/cni/bin"
/* --standalone: the host's own CNI dirs, and where the one copy of coil goes. */
#define INSTALL_STANDALONE_ETC_DIR "/etc/cni/net.d"
#define INSTALL_STANDALONE_BIN_DIR "/opt/cni/bin"
#define INSTALL_STANDALONE_PATH	   "/usr/local/bin/coil"
/* The fully static build of coil (cmd/CMakeLists.txt), installed next to the full one
 * (/usr/local/coil/ in the image): what a node's runtime should exec, since it needs no
 * shared library on the host. */
#define INSTALL_STATIC_NAME "coil-static"
/* This multi-call binary, when there is no static build next to it. */
#define INSTALL_SELF_EXE    "/proc/self/exe"
#define INSTALL_PLUGIN_NAME "coil"
/* Name prefix of our temp files: hidden, and without a .conf/.conflist/.json suffix, so
 * kubelet/libcni never load one. */
#define INSTALL_TEMP_PREFIX ".coil-install-"
/* Largest config (CNI_NETCONF_FILE, or a file inspected for removal) we read. */
#define INSTALL_MAX_CONFIG (1024 * 1024)

/* The environment of the installer. Strings are borrowed (from getenv or the caller). */
struct install_config {
	const char *netconf;	   /* CNI_NETCONF: the config text; wins when non-empty */
	const char *netconf_file;  /* CNI_NETCONF_FILE: read when netconf is empty */
	const char *conf_name;	   /* CNI_CONF_NAME: file name in etc_dir */
	const char *etc_dir;	   /* CNI_ETC_DIR */
	const char *bin_dir;	   /* CNI_BIN_DIR */
	const char *coil_path;	   /* source binary, see install_pick_source() */
	bool keep_other_conflists; /* remove only coil's own old lists (see below) */
	/* Non-NULL (--standalone): copy the binary to this absolute path and make
	 * bin_dir/coil a symlink to it, instead of copying it into bin_dir. */
	const char *standalone_path;
	char twin_path[PATH_MAX]; /* storage coil_path may point into (the static build) */
};

/* Fills cfg from the environment; unset or empty variables get the defaults above
 * (netconf/netconf_file: NULL; the standalone dirs when standalone). coil_path is resolved
 * with install_pick_source(): on a Kubernetes node the static build next to this
 * executable; standalone this executable itself, as the host runs the daemon from the
 * same copy. The flags (keep_other_conflists, standalone_path) are left false/NULL. */
void install_config_from_env(struct install_config *cfg, bool standalone);

/* COIL_PATH when non-empty; else default_path when it is non-NULL and exists; else
 * INSTALL_SELF_EXE. */
const char *install_pick_source(const char *coil_path, const char *default_path);

/* The path of INSTALL_STATIC_NAME in the directory of this executable, in buf (of size
 * len); NULL when /proc/self/exe cannot be read or the path does not fit. */
const char *install_static_twin(char *buf, size_t len);

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

/* Removes the entries of dir other than keep_name whose name contains "conflist". By
 * default, as upstream, every such non-directory entry (a symlink itself, not its target):
 * a runtime uses the first config of the directory in name order, so a leftover list that
 * sorts first would put pods on another network. With keep_others only regular files that
 * hold a coil config list (install_is_coil_conflist) go, and the configs that a runtime
 * would pick before keep_name are logged as a warning. Returns the number removed, or
 * -errno. */
int install_remove_old_conflists(const char *dir, const char *keep_name, bool keep_others,
				 char *err, size_t errlen);

/* Atomically makes dir/name a symlink to target: a symlink under a temp name, renamed
 * over dir/name, then fsync of dir. Returns 0 or -errno. */
int install_link_atomic(const char *dir, const char *name, const char *target, char *err,
			size_t errlen);

/* The whole installer minus the final sleep: load and validate the config, open the
 * source binary, write etc_dir/conf_name (0644), remove the old config lists, copy the
 * binary to bin_dir/coil (0755), or standalone to standalone_path with bin_dir/coil a
 * symlink to it. Nothing is written when the config is invalid or the source cannot be
 * opened. Returns 0 or -errno with a message in err. */
int install_run(const struct install_config *cfg, char *err, size_t errlen);

#endif
