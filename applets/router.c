#include "applets.h"

static const char usage[] =
    "Usage: coil router [flags]   (alias: coil-router)\n"
    "\n"
    "Not implemented yet in this build; flags follow upstream coil-router.\n";

int router_main(int argc, char **argv)
{
	return applet_not_implemented("router", usage, argc, argv);
}
