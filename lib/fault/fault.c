/* The armed fault point, read once from COIL_FAULT_POINT. */
#include "fault/fault.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char armed[128]; /* "" = none; written once under `once` */

static void read_armed(void)
{
	const char *v = getenv("COIL_FAULT_POINT");
	if (v && strlen(v) < sizeof(armed))
		snprintf(armed, sizeof(armed), "%s", v);
}

const char *fault_point_armed(void)
{
	pthread_once(&once, read_armed);
	return armed[0] ? armed : NULL;
}

void fault_point(const char *name)
{
	const char *a = fault_point_armed();
	if (!a || strcmp(a, name) != 0)
		return;
	log_warn("fault point reached: killing the process", "point", name);
	raise(SIGKILL);
}
