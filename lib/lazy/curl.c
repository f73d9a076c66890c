/* The libcurl functions lib/kube uses, loaded on first use (see lazy.h). */
#define CURL_DISABLE_TYPECHECK /* the type-checking macros would rename our definitions */
#include <curl/curl.h>
#include <stdarg.h>

#include "lazy/lazy.h"

#define SONAME "libcurl.so.4"

LAZY_FORWARD(SONAME, CURLcode, curl_global_init, (long flags), (flags))
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
