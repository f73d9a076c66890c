#include "lazy/lazy.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void *lazy_symbol(const char *soname, const char *symbol)
{
	/* dlopen of a loaded library only bumps its reference count, so no cache is needed. */
	void *lib = dlopen(soname, RTLD_NOW | RTLD_GLOBAL);
	void *sym = lib ? dlsym(lib, symbol) : NULL;
	if (!sym) {
		fprintf(stderr, "coil: cannot load %s from %s: %s\n", symbol, soname, dlerror());
		abort();
	}
	return sym;
}

int lazy_beside_self(const char *relpath, char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len);
	if (n < 0)
		return -errno;
	if ((size_t)n >= len)
		return -ENAMETOOLONG;
	buf[n] = '\0';
	char *slash = strrchr(buf, '/');
	size_t dir = slash ? (size_t)(slash - buf) : 0;
	int w = snprintf(buf + dir, len - dir, "/%s", relpath);
	return w < 0 || (size_t)w >= len - dir ? -ENAMETOOLONG : 0;
}
