#include "applets.h"

static const char usage[] =
    "Usage: coil ipam-controller [flags]   (alias: coil-ipam-controller)\n"
    "\n"
    "Not implemented yet in this build; flags follow upstream coil-ipam-controller.\n";

int ipam_controller_main(int argc, char **argv)
{
	return applet_not_implemented("ipam-controller", usage, argc, argv);
}
