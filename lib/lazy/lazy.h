/* Lazily loaded libraries. The CNI plugin is exec'd for every pod, and loading libcurl,
 * libmicrohttpd and GnuTLS (with their 30-odd dependencies) would cost it about 5 ms
 * before main() even though the plugin never uses them. So `coil` does not link them:
 * lib/lazy defines their functions that coil calls, each loading the real library with
 * dlopen(3) on first use and forwarding to it. Only the applets that talk HTTP pay for them.
 *
 * A library that cannot be loaded is an installation error: the process aborts with a
 * message naming the library (calling on would crash anyway). */
#ifndef COIL_LAZY_H
#define COIL_LAZY_H

#include <stddef.h>

/* The address of `symbol` in the library `soname` (a soname, or a path with a '/'), loading
 * it on first use. Never NULL. */
void *lazy_symbol(const char *soname, const char *symbol);

/* Writes to buf the path `relpath` names relative to the directory of the running program
 * (/proc/self/exe, so a symbolic link such as coild finds the libraries of the binary it
 * points to): how coil finds the private libraries installed with it. Returns 0, or
 * -ENAMETOOLONG or the negative errno of readlink(2). */
int lazy_beside_self(const char *relpath, char *buf, size_t len);

/* Defines `ret name params` forwarding to the real `name` in `soname`; `args` are the
 * parameter names in parentheses. The pointer is resolved once (atomically). */
#define LAZY_RESOLVE(soname, name)                                                                 \
	static __typeof__(&name) real;                                                             \
	__typeof__(&name) fn = __atomic_load_n(&real, __ATOMIC_ACQUIRE);                           \
	if (!fn) {                                                                                 \
		fn = (__typeof__(&name))lazy_symbol(soname, #name);                                \
		__atomic_store_n(&real, fn, __ATOMIC_RELEASE);                                     \
	}

#define LAZY_FORWARD(soname, ret, name, params, args)                                              \
	ret name params                                                                            \
	{                                                                                          \
		LAZY_RESOLVE(soname, name)                                                         \
		return fn args;                                                                    \
	}

#define LAZY_FORWARD_VOID(soname, name, params, args)                                              \
	void name params                                                                           \
	{                                                                                          \
		LAZY_RESOLVE(soname, name)                                                         \
		fn args;                                                                           \
	}

#endif
