#include "applets.h"

static const char usage[] =
    "Usage: coil egress [flags]   (alias: coil-egress)\n"
    "\n"
    "Not implemented yet in this build; flags follow upstream coil-egress.\n";

int egress_main(int argc, char **argv)
{
	return applet_not_implemented("egress", "coil-egress", usage, argc, argv);
}
