/* coil: one executable for every Coil program. It dispatches on the basename of
 * argv[0] (the upstream program names, installed as symlinks), then on the first
 * argument; `coil` with CNI_COMMAND in its environment is the CNI plugin.
 *
 * This file is compiled twice: into `coil` (every applet, dynamically linked) and, with
 * COIL_STATIC_LINK defined, into `coil-static`, the fully static host plugin that
 * `coil install` copies to every node. The applets that need shared libraries (netlink,
 * HTTP, TLS) are left out of the static link, so it cannot load any library; they
 * answer with a message pointing at the full build instead. */
#include "applets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct applet {
	const char *name;		    /* `coil NAME` */
	const char *alias;		    /* upstream program name, usable as argv[0] */
	int (*main)(int argc, char **argv); /* NULL: not in this (static) build */
	const char *summary;
};

/* An applet that loads shared libraries: absent from the static link (see above). */
#ifdef COIL_STATIC_LINK
#define WITH_LIBRARIES(main) NULL
#else
#define WITH_LIBRARIES(main) main
#endif

static int version_main(int argc, char **argv);
static int help_main(int argc, char **argv);

static const struct applet applets[] = {
    {"daemon", "coild", WITH_LIBRARIES(daemon_main),
     "node daemon: pod addresses and pod networking"},
    {"ipam-controller", "coil-ipam-controller", WITH_LIBRARIES(ipam_controller_main),
     "carves address blocks for nodes (leader-elected)"},
    {"egress-controller", "coil-egress-controller", WITH_LIBRARIES(egress_controller_main),
     "manages Egress NAT gateway workloads (leader-elected)"},
    {"egress", "coil-egress", WITH_LIBRARIES(egress_main), "runs in an egress NAT gateway pod"},
    {"router", "coil-router", WITH_LIBRARIES(router_main),
     "routes other nodes' blocks on a flat L2 network"},
    {"install", "coil-installer", install_main, "installs the plugin and the CNI config"},
    {"migrate", "coil-migrator", WITH_LIBRARIES(migrate_main),
     "migrates a cluster from Coil v1 to v2"},
    {"doctor", NULL, WITH_LIBRARIES(doctor_main),
     "audits this node: API blocks, daemon state and kernel agree"},
    {"version", NULL, version_main, "prints the version"},
    {"help", NULL, help_main, "lists the applets"},
};

#define N_APPLETS (sizeof(applets) / sizeof(applets[0]))

static const struct applet *find_by_name(const char *name)
{
	for (size_t i = 0; i < N_APPLETS; i++) {
		if (strcmp(applets[i].name, name) == 0)
			return &applets[i];
	}
	return NULL;
}

static const struct applet *find_by_alias(const char *alias)
{
	for (size_t i = 0; i < N_APPLETS; i++) {
		if (applets[i].alias && strcmp(applets[i].alias, alias) == 0)
			return &applets[i];
	}
	return NULL;
}

static void print_usage(FILE *out)
{
	fprintf(out, "Usage: coil APPLET [flags]\n"
		     "       CNI_COMMAND=... coil < netconf.json   (the CNI plugin)\n\n"
		     "Applets:\n");
	for (size_t i = 0; i < N_APPLETS; i++)
		fprintf(out, "  %-18s %-24s %s%s\n", applets[i].name,
			applets[i].alias ? applets[i].alias : "", applets[i].summary,
			applets[i].main ? "" : " (not in this static build)");
	fprintf(out, "\n`coil APPLET --help` shows an applet's flags. Each applet also runs\n"
		     "when coil is invoked through a symlink with its upstream name.\n");
}

static int version_main(int argc, char **argv)
{
	printf("coil %s (coil-c %s)\n", COIL_COMPAT_VERSION, COIL_BUILD_VERSION);
	return 0;
}

static int help_main(int argc, char **argv)
{
	print_usage(stdout);
	return 0;
}

static const char *basename_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* Runs applet, or says why this build lacks it. */
static int run_applet(const struct applet *applet, int argc, char **argv)
{
	if (applet->main)
		return applet->main(argc, argv);
	fprintf(stderr,
		"coil: `coil %s` is not in this static build of coil (the host plugin, which\n"
		"loads no shared library); run it from the full coil build, /usr/local/coil/coil\n"
		"in coil's image\n",
		applet->name);
	return 2;
}

int main(int argc, char **argv)
{
	const char *self = argc > 0 ? basename_of(argv[0]) : "coil";
	const struct applet *applet = find_by_alias(self);
	if (applet)
		return run_applet(applet, argc, argv);

	/* The runtime execs the plugin with CNI_COMMAND set and no arguments. */
	if (getenv("CNI_COMMAND") || argc < 2)
		return cni_main(argc, argv);

	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return help_main(argc, argv);
	if (strcmp(argv[1], "--version") == 0)
		return version_main(argc, argv);
	applet = find_by_name(argv[1]);
	if (!applet) {
		fprintf(stderr, "coil: unknown applet '%s'\n\n", argv[1]);
		print_usage(stderr);
		return 2;
	}
	return run_applet(applet, argc - 1, argv + 1);
}
