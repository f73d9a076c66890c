/* The libmicrohttpd functions lib/http and lib/webhook use, loaded on first use. */
#include <microhttpd.h>
#include <stdarg.h>

#include "lazy/lazy.h"

#define SONAME "libmicrohttpd.so.12"

LAZY_FORWARD_VOID(SONAME, MHD_stop_daemon, (struct MHD_Daemon * daemon), (daemon))
LAZY_FORWARD(SONAME, const char *, MHD_lookup_connection_value,
	     (struct MHD_Connection * connection, enum MHD_ValueKind kind, const char *key),
	     (connection, kind, key))
LAZY_FORWARD(SONAME, enum MHD_Result, MHD_queue_response,
	     (struct MHD_Connection * connection, unsigned int status_code,
	      struct MHD_Response *response),
	     (connection, status_code, response))
LAZY_FORWARD(SONAME, struct MHD_Response *, MHD_create_response_from_buffer,
	     (size_t size, void *buffer, enum MHD_ResponseMemoryMode mode), (size, buffer, mode))
LAZY_FORWARD_VOID(SONAME, MHD_destroy_response, (struct MHD_Response * response), (response))
LAZY_FORWARD(SONAME, enum MHD_Result, MHD_add_response_header,
	     (struct MHD_Response * response, const char *header, const char *content),
	     (response, header, content))
LAZY_FORWARD(SONAME, enum MHD_Result, MHD_is_feature_supported, (enum MHD_FEATURE feature),
	     (feature))

/* The info queries coil makes take no extra arguments. */
const union MHD_ConnectionInfo *MHD_get_connection_info(struct MHD_Connection *connection,
							enum MHD_ConnectionInfoType info_type, ...)
{
	LAZY_RESOLVE(SONAME, MHD_get_connection_info)
	return fn(connection, info_type);
}

const union MHD_DaemonInfo *MHD_get_daemon_info(struct MHD_Daemon *daemon,
						enum MHD_DaemonInfoType info_type, ...)
{
	LAZY_RESOLVE(SONAME, MHD_get_daemon_info)
	return fn(daemon, info_type);
}

/* The option list goes through the library's own va_list entry point. */
struct MHD_Daemon *MHD_start_daemon(unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc,
				    void *apc_cls, MHD_AccessHandlerCallback dh, void *dh_cls, ...)
{
	LAZY_RESOLVE(SONAME, MHD_start_daemon_va)
	va_list ap;
	va_start(ap, dh_cls);
	struct MHD_Daemon *daemon = fn(flags, port, apc, apc_cls, dh, dh_cls, ap);
	va_end(ap);
	return daemon;
}
