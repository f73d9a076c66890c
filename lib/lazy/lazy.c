#include "lazy/lazy.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

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
