/* Loading fou/fou6: nothing in the kernel requests these modules on demand (no generic
 * netlink family autoload, no link kind), so Init loads them itself. */
#include "founat/founat.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

#include "err/err.h"
#include "spawn/spawn.h"

static bool module_present(const char *name)
{
	char path[128];
	struct stat st;
	snprintf(path, sizeof(path), "/sys/module/%s", name);
	return stat(path, &st) == 0;
}

int founat_load_module(const char *name, char *err, size_t errlen)
{
	if (module_present(name))
		return 0;
	const char *argv[] = {FOUNAT_MODPROBE, name, NULL};
	struct spawn_result res;
	char why[256];
	int rc = spawn_run(argv, &res, why, sizeof(why));
	if (rc < 0)
		return errorf(err, errlen, rc, "failed to load %s module: %s", name, why);
	if (res.status != 0)
		return errorf(err, errlen, -ENOENT,
			      "failed to load %s module: %s exited with %d: %s (the kernel needs "
			      "the %s module for FoU tunnels)",
			      name, FOUNAT_MODPROBE, res.status, res.output, name);
	return 0;
}
