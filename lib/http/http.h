/* A small HTTP server for metrics and health probes, on libmicrohttpd, which does the HTTP
 * parsing and connection handling for us (one internal thread). The webhooks' HTTPS server
 * (lib/webhook) uses only its listen-address parser. */
#ifndef COIL_HTTP_H
#define COIL_HTTP_H

#include <stddef.h>
#include <sys/socket.h>

struct http_reply {
	int status;		  /* HTTP status, e.g. 200 */
	char *body;		  /* malloc'd; the server frees it */
	const char *content_type; /* static string */
};

/* Called on the server's thread for every request. Must fill *reply. */
typedef void (*http_handler_fn)(void *ctx, const char *method, const char *path,
				struct http_reply *reply);

struct http_server;

/* Listens on `addr` ("host:port", ":port" for all addresses, "[v6]:port"). addr "0" means
 * "disabled" as upstream (returns 0 and *out = NULL). Returns 0 or -errno with err filled. */
int http_server_start(const char *addr, http_handler_fn handler, void *ctx,
		      struct http_server **out, char *err, size_t errlen);
void http_server_stop(struct http_server *server);

/* Parses a listen address in Go's net.Listen form: "host:port", ":port" (*any = 1: every
 * address), "[v6]:port", "localhost:port". Returns 0 or -EINVAL. */
int http_listen_addr_parse(const char *addr, struct sockaddr_storage *ss, int *any);

/* Convenience for handlers: a malloc'd copy of text. */
void http_reply_text(struct http_reply *reply, int status, const char *text);

#endif
