/* coil install (coil-installer): the coild DaemonSet's init container. The work is in
 * lib/install; this file reads the environment and flags and reports the outcome. */
#include "applets.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "flags/flags.h"
#include "install/install.h"
#include "log/log.h"

static const char usage[] =
    "Usage: coil install [flags]   (alias: coil-installer)\n"
    "\n"
    "Installs the coil CNI plugin binary and the CNI network configuration list on the\n"
    "host, each replaced atomically. Configured by the environment:\n"
    "  CNI_NETCONF       the configuration list (JSON); wins when non-empty\n"
    "  CNI_NETCONF_FILE  file holding it, used when CNI_NETCONF is empty\n"
    "  CNI_CONF_NAME     config file name (default " INSTALL_DEFAULT_CONF_NAME ")\n"
    "  CNI_ETC_DIR       config directory (default " INSTALL_DEFAULT_ETC_DIR ",\n"
    "                    with --standalone " INSTALL_STANDALONE_ETC_DIR ")\n"
    "  CNI_BIN_DIR       plugin directory (default " INSTALL_DEFAULT_BIN_DIR ",\n"
    "                    with --standalone " INSTALL_STANDALONE_BIN_DIR ")\n"
    "  COIL_PATH         binary to install (default: the static build " INSTALL_STATIC_NAME "\n"
    "                    next to this executable if it exists, else this executable;\n"
    "                    with --standalone this executable)\n"
    "Every other file of the config directory whose name contains \"conflist\" is\n"
    "removed, as upstream does, unless --keep-other-conflists is given.\n";

static double sleep_seconds = 6;
static bool keep_other_conflists;
static bool standalone;
static const char *standalone_path = INSTALL_STANDALONE_PATH;

static const struct flag install_flags[] = {
    {"sleep", FLAG_DURATION, &sleep_seconds,
     "time to wait after installing, so kubelet (rescans every 5s) sees the config"},
    {"keep-other-conflists", FLAG_BOOL, &keep_other_conflists,
     "remove only coil's own old config lists, keep other CNIs' ones"},
    {"standalone", FLAG_BOOL, &standalone,
     "host without Kubernetes: coil once at --standalone-path, CNI_BIN_DIR/coil links to it"},
    {"standalone-path", FLAG_STRING, &standalone_path,
     "with --standalone: where the one copy of coil goes"},
};

/* Waits the whole interval even when a signal interrupts nanosleep. */
static void sleep_for(double seconds)
{
	struct timespec left = {.tv_sec = (time_t)seconds};
	left.tv_nsec = (long)((seconds - (double)left.tv_sec) * 1e9);
	while (nanosleep(&left, &left) < 0 && errno == EINTR)
		;
}

int install_main(int argc, char **argv)
{
	char err[1024];
	/* The common flags too (--version, the logging flags, accepted without effect). */
	struct flags_common common;
	flags_common_init(&common);
	int rc =
	    flags_parse_program(install_flags, sizeof(install_flags) / sizeof(install_flags[0]),
				&common, argc, argv, usage, err, sizeof(err));
	if (rc != 0) {
		if (rc < 0)
			fprintf(stderr, "coil install: %s\n", err);
		return rc < 0 ? 2 : 0;
	}
	if (common.version) {
		printf("coil-installer version %s\n", COIL_COMPAT_VERSION);
		return 0;
	}
	if (sleep_seconds < 0) {
		fprintf(stderr, "coil install: --sleep must not be negative\n");
		return 2;
	}
	struct install_config cfg;
	install_config_from_env(&cfg, standalone);
	cfg.keep_other_conflists = keep_other_conflists;
	cfg.standalone_path = standalone ? standalone_path : NULL;
	if (install_run(&cfg, err, sizeof(err)) < 0) {
		log_error("coil install failed", "error", err);
		return 1;
	}
	sleep_for(sleep_seconds);
	return 0;
}
