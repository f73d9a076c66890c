/* The installer's environment and the source of the config text. */
#include "install/install.h"
#include "err/err.h"
#include "fileio/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* An unset variable and an empty one mean the same (Kubernetes env entries can be ""). */
static const char *env_or(const char *name, const char *fallback)
{
	const char *value = getenv(name);
	return value && *value ? value : fallback;
}

const char *install_pick_source(const char *coil_path, const char *default_path)
{
	if (coil_path && *coil_path)
		return coil_path;
	if (default_path && access(default_path, F_OK) == 0)
		return default_path;
	return INSTALL_SELF_EXE;
}

const char *install_static_twin(char *buf, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink(INSTALL_SELF_EXE, self, sizeof(self) - 1);
	if (n <= 0)
		return NULL;
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	int w = snprintf(buf, len, "%s/%s", self, INSTALL_STATIC_NAME);
	return w > 0 && (size_t)w < len ? buf : NULL;
}

void install_config_from_env(struct install_config *cfg, bool standalone)
{
	const char *default_source =
	    standalone ? NULL : install_static_twin(cfg->twin_path, sizeof(cfg->twin_path));
	cfg->netconf = env_or("CNI_NETCONF", NULL);
	cfg->netconf_file = env_or("CNI_NETCONF_FILE", NULL);
	cfg->conf_name = env_or("CNI_CONF_NAME", INSTALL_DEFAULT_CONF_NAME);
	cfg->etc_dir = env_or("CNI_ETC_DIR",
			      standalone ? INSTALL_STANDALONE_ETC_DIR : INSTALL_DEFAULT_ETC_DIR);
	cfg->bin_dir = env_or("CNI_BIN_DIR",
			      standalone ? INSTALL_STANDALONE_BIN_DIR : INSTALL_DEFAULT_BIN_DIR);
	cfg->coil_path = install_pick_source(env_or("COIL_PATH", NULL), default_source);
	cfg->keep_other_conflists = false;
	cfg->standalone_path = NULL;
}

int install_check_conf_name(const char *name, char *err, size_t errlen)
{
	if (!name || !*name || strchr(name, '/') || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0) {
		snprintf(err, errlen, "CNI_CONF_NAME must be a plain file name, got \"%s\"",
			 name ? name : "");
		return -EINVAL;
	}
	return 0;
}

/* Reads a whole file of at most INSTALL_MAX_CONFIG bytes into a malloc'd, NUL-terminated
 * buffer that the caller frees. */
static int read_small_file(const char *path, char **out, size_t *len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot open CNI_NETCONF_FILE %s: %s", path, strerror(e));
		return -e;
	}
	int rc = fileio_read_fd(fd, INSTALL_MAX_CONFIG, -1, out, len);
	close(fd);
	if (rc < 0)
		return errorf(err, errlen, rc, "cannot read CNI_NETCONF_FILE %s: %s", path,
			      strerror(-rc));
	return 0;
}

int install_load_netconf(const struct install_config *cfg, char **out, size_t *len, char *err,
			 size_t errlen)
{
	*out = NULL;
	*len = 0;
	if (cfg->netconf && *cfg->netconf) {
		*out = strdup(cfg->netconf);
		if (!*out)
			return errorf(err, errlen, -ENOMEM, "out of memory copying CNI_NETCONF");
		*len = strlen(*out);
		return 0;
	}
	if (!cfg->netconf_file || !*cfg->netconf_file)
		return errorf(err, errlen, -EINVAL,
			      "no CNI configuration: set CNI_NETCONF or CNI_NETCONF_FILE");
	return read_small_file(cfg->netconf_file, out, len, err, errlen);
}
