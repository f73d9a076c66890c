#include "applets.h"

static const char usage[] =
    "Usage: coil install [flags]   (alias: coil-installer)\n"
    "\n"
    "Not implemented yet in this build; flags follow upstream coil-installer.\n";

int install_main(int argc, char **argv)
{
	return applet_not_implemented("install", usage, argc, argv);
}
