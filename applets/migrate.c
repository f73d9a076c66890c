#include "applets.h"

static const char usage[] =
    "Usage: coil migrate [flags]   (alias: coil-migrator)\n"
    "\n"
    "Not implemented yet in this build; flags follow upstream coil-migrator.\n";

int migrate_main(int argc, char **argv)
{
	return applet_not_implemented("migrate", "coil-migrator", usage, argc, argv);
}
