#include "http/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct http_server {
	struct MHD_Daemon *daemon;
	http_handler_fn handler;
	void *ctx;
};

void http_reply_text(struct http_reply *reply, int status, const char *text)
{
	reply->status = status;
	reply->body = strdup(text);
	reply->content_type = "text/plain; charset=utf-8";
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **state)
{
	struct http_server *server = cls;
	/* libmicrohttpd calls twice per request: first with headers only. */
	if (*state == NULL) {
		*state = server;
		return MHD_YES;
	}
	if (*upload_size) {
		*upload_size = 0; /* bodies are not used by these endpoints */
		return MHD_YES;
	}
	struct http_reply reply = {.status = 500};
	server->handler(server->ctx, method, url, &reply);
	const char *body = reply.body ? reply.body : "";
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	free(reply.body);
	if (!resp)
		return MHD_NO;
	if (reply.content_type)
		MHD_add_response_header(resp, "Content-Type", reply.content_type);
	enum MHD_Result rc = MHD_queue_response(conn, (unsigned)reply.status, resp);
	MHD_destroy_response(resp);
	return rc;
}

int http_server_start(const char *addr, http_handler_fn handler, void *ctx,
		      struct http_server **out, char *err, size_t errlen)
{
	*out = NULL;
	if (strcmp(addr, "0") == 0)
		return 0;
	struct sockaddr_storage ss;
	int any;
	if (http_listen_addr_parse(addr, &ss, &any) < 0) {
		snprintf(err, errlen, "invalid listen address: %s", addr);
		return -EINVAL;
	}
	struct http_server *server = calloc(1, sizeof(*server));
	if (!server)
		return -ENOMEM;
	server->handler = handler;
	server->ctx = ctx;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	uint16_t port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (any)
		flags |= MHD_USE_DUAL_STACK; /* ":port" listens on IPv4 and IPv6 */
	server->daemon =
	    any ? MHD_start_daemon(flags, port, NULL, NULL, on_request, server, MHD_OPTION_END)
		: MHD_start_daemon(flags, port, NULL, NULL, on_request, server,
				   MHD_OPTION_SOCK_ADDR, &ss, MHD_OPTION_END);
	if (!server->daemon && any) /* no IPv6 in this netns: IPv4 only */
		server->daemon = MHD_start_daemon(flags & ~(unsigned)MHD_USE_DUAL_STACK, port, NULL,
						  NULL, on_request, server, MHD_OPTION_END);
	if (!server->daemon) {
		snprintf(err, errlen, "cannot listen on %s", addr);
		free(server);
		return -EADDRINUSE;
	}
	*out = server;
	return 0;
}

void http_server_stop(struct http_server *server)
{
	if (!server)
		return;
	MHD_stop_daemon(server->daemon);
	free(server);
}
