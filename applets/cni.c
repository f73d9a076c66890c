#include "applets.h"

static const char usage[] = "Usage: CNI_COMMAND=ADD|DEL|CHECK|VERSION|STATUS|GC coil < netconf.json\n"
			    "\n"
			    "The CNI plugin, run by the container runtime from its CNI bin dir.\n";

int cni_main(int argc, char **argv)
{
	return applet_not_implemented("cni", usage, argc, argv);
}
