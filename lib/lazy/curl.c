/* The libcurl functions lib/kube and lib/etcd use, loaded on first use (see lazy.h).
 *
 * The GnuTLS flavour of libcurl (Debian's libcurl3-gnutls), not the OpenSSL one: the
 * webhook and metrics servers (libmicrohttpd) and the certificate code already load GnuTLS,
 * and a second TLS stack (libssl + libcrypto) costs a daemon about 3.5 MiB of resident
 * memory for nothing. Both flavours have the same API and ABI, so the headers of any
 * libcurl development package fit. The GnuTLS flavour cannot take a CA bundle from memory
 * (CURLOPT_CAINFO_BLOB): lib/kube hands inline PEM data over as files (see pemfile.c). */
#define CURL_DISABLE_TYPECHECK /* the type-checking macros would rename our definitions */
#include <curl/curl.h>
#include <dlfcn.h>
#include <stdarg.h>

#include "lazy/lazy.h"

#ifdef COIL_CURL_DIR
/* COIL_CURL=minimal: the lean libcurl built for coil (third_party/curl: HTTP and HTTPS over
 * GnuTLS, none of the 20-odd libraries Debian's build pulls in, about 3 MiB less resident
 * memory per daemon), installed as COIL_CURL_DIR/COIL_CURL_NAME relative to the coil binary.
 * Programs without it beside them (the test programs of the build tree) load it by name,
 * through their run path. The name is coil's own, so that a miss can never load Debian's
 * libcurl (OpenSSL's flavour) instead. */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static char private_curl[PATH_MAX];
static pthread_once_t private_curl_once = PTHREAD_ONCE_INIT;

static void find_private_curl(void)
{
	const char *relpath = COIL_CURL_DIR "/" COIL_CURL_NAME;
	if (lazy_beside_self(relpath, private_curl, sizeof(private_curl)) < 0 ||
	    access(private_curl, F_OK) != 0)
		snprintf(private_curl, sizeof(private_curl), "%s", COIL_CURL_NAME);
}

static const char *curl_library(void)
{
	pthread_once(&private_curl_once, find_private_curl);
	return private_curl;
}
#define SONAME curl_library()
#else
#define SONAME "libcurl-gnutls.so.4"
#endif

/* libcurl initialises libssh2 in curl_global_init, and Debian's libssh2 initialises OpenSSL
 * (it links libcrypto even under the GnuTLS flavour): about 1.5 MiB of resident memory for
 * the scp/sftp support coil never enables (its handles allow http and https only). libssh2
 * initialises its crypto library only on its first libssh2_init() call, and only when that
 * call lacks LIBSSH2_INIT_NO_CRYPTO; so that call is made here, first. A libcurl without
 * libssh2 has no such symbol and nothing is done. */
#define LIBSSH2_INIT_NO_CRYPTO 0x0001

static void skip_libssh2_crypto(void)
{
	int (*ssh2_init)(int flags) = (int (*)(int))dlsym(RTLD_DEFAULT, "libssh2_init");
	if (ssh2_init)
		(void)ssh2_init(LIBSSH2_INIT_NO_CRYPTO);
}

CURLcode curl_global_init(long flags)
{
	LAZY_RESOLVE(SONAME, curl_global_init) /* loads libcurl and libssh2 with it */
	skip_libssh2_crypto();
	return fn(flags);
}
LAZY_FORWARD(SONAME, CURL *, curl_easy_init, (void), ())
LAZY_FORWARD_VOID(SONAME, curl_easy_cleanup, (CURL * curl), (curl))
LAZY_FORWARD_VOID(SONAME, curl_easy_reset, (CURL * curl), (curl))
LAZY_FORWARD(SONAME, CURLcode, curl_easy_perform, (CURL * curl), (curl))
LAZY_FORWARD(SONAME, const char *, curl_easy_strerror, (CURLcode code), (code))
LAZY_FORWARD(SONAME, struct curl_slist *, curl_slist_append,
	     (struct curl_slist * list, const char *string), (list, string))
LAZY_FORWARD_VOID(SONAME, curl_slist_free_all, (struct curl_slist * list), (list))

/* curl_easy_setopt and curl_easy_getinfo take exactly one argument after the option: a
 * long, a curl_off_t, or a pointer, all passed in one integer register on LP64 (which
 * curl's own documentation relies on too), so it is forwarded as a pointer-sized value. */
CURLcode curl_easy_setopt(CURL *curl, CURLoption option, ...)
{
	LAZY_RESOLVE(SONAME, curl_easy_setopt)
	va_list ap;
	va_start(ap, option);
	void *value = va_arg(ap, void *);
	va_end(ap);
	return fn(curl, option, value);
}

CURLcode curl_easy_getinfo(CURL *curl, CURLINFO info, ...)
{
	LAZY_RESOLVE(SONAME, curl_easy_getinfo)
	va_list ap;
	va_start(ap, info);
	void *out = va_arg(ap, void *);
	va_end(ap);
	return fn(curl, info, out);
}
