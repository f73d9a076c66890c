#include "applets.h"

#include <stdio.h>
#include <string.h>

int applet_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	}
	return 0;
}

int applet_not_implemented(const char *name, const char *program, const char *usage, int argc,
			   char **argv)
{
	if (applet_wants_help(argc, argv)) {
		fputs(usage, stdout);
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-version") == 0) {
			printf("%s version %s\n", program, COIL_COMPAT_VERSION);
			return 0;
		}
	}
	fprintf(stderr, "coil %s: not implemented yet\n", name);
	return 1;
}
