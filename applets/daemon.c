#include "applets.h"

static const char usage[] = "Usage: coil daemon [flags]   (alias: coild)\n"
			    "\n"
			    "The node daemon: allocates pod addresses and sets up pod networking.\n"
			    "Not implemented yet in this build.\n";

int daemon_main(int argc, char **argv)
{
	return applet_not_implemented("daemon", usage, argc, argv);
}
