/* coil install (coil-installer): the coild DaemonSet's init container. The work is in
 * lib/install; this file reads the environment and flags and reports the outcome. */
#include "applets.h"

#include <errno.h>
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
    "  CNI_ETC_DIR       config directory (default " INSTALL_DEFAULT_ETC_DIR ")\n"
    "  CNI_BIN_DIR       plugin directory (default " INSTALL_DEFAULT_BIN_DIR ")\n"
    "  COIL_PATH         binary to install (default " INSTALL_DEFAULT_COIL_PATH " if it\n"
    "                    exists, else this coil executable)\n"
    "Old config lists holding a coil plugin are removed; other files are left alone.\n";

static double sleep_seconds = 6;

static const struct flag install_flags[] = {
    {"sleep", FLAG_DURATION, &sleep_seconds,
     "time to wait after installing, so kubelet (rescans every 5s) sees the config"},
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
	install_config_from_env(&cfg);
	if (install_run(&cfg, err, sizeof(err)) < 0) {
		log_error("coil install failed", "error", err);
		return 1;
	}
	sleep_for(sleep_seconds);
	return 0;
}
