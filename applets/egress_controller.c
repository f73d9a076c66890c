#include "applets.h"

static const char usage[] =
    "Usage: coil egress-controller [flags]   (alias: coil-egress-controller)\n"
    "\n"
    "Not implemented yet in this build; flags follow upstream coil-egress-controller.\n";

int egress_controller_main(int argc, char **argv)
{
	return applet_not_implemented("egress-controller", "coil-egress-controller", usage, argc,
				      argv);
}
