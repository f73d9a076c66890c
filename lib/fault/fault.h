/* Fault-injection points for the crash tests (docs/behaviour/daemon.md, 'Crash consistency').
 *
 * fault_point("add:veth-created") marks a named step of a request. In a build with the CMake
 * option COIL_FAULT_POINTS (on for every build type but Release) the process kills itself
 * with SIGKILL at the step named by the environment variable COIL_FAULT_POINT, read once at
 * the first call; without that variable every point does nothing. A Release build compiles
 * the points out entirely: the variable is ignored and no code is left behind. */
#ifndef COIL_FAULT_H
#define COIL_FAULT_H

#ifdef COIL_FAULT_POINTS
/* Dies with SIGKILL if name is the armed point; logs the point first. Thread-safe. */
void fault_point(const char *name);
/* The armed point (for the startup log), or NULL. */
const char *fault_point_armed(void);
#else
static inline void fault_point(const char *name)
{
	(void)name;
}
static inline const char *fault_point_armed(void)
{
	return 0;
}
#endif

#endif
