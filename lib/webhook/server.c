/* The HTTPS admission server: libmicrohttpd with GnuTLS, the certificate
 * chosen per handshake from the reloader. */
#include "tls_internal.h"

#include "http/http.h"

#include "log/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CONNECTION_TIMEOUT_S 30

struct webhook_server {
	struct MHD_Daemon *daemon;
	struct cert_reloader *reloader; /* owned */
	enum webhook_kind kinds[4];	/* the webhooks served, n_kinds of them */
	size_t n_kinds;
	uint16_t port;
	char probe_host[INET6_ADDRSTRLEN]; /* where the readiness probe connects */
};

/* Per TCP connection (MHD's socket context): the pair it handshook with. */
struct conn_state {
	struct webhook_server *server;
	struct cert_pair *pair; /* one reference, or NULL before the handshake */
};

/* Per HTTP request (MHD's request context). */
struct request_state {
	enum webhook_kind kind;
	int early_status; /* answer decided from the headers alone, or 0 */
	const char *early_text;
	char *body; /* owned, grows up to WEBHOOK_MAX_BODY */
	size_t len;
	bool too_big;
};

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct conn_state *cs = *socket_context;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		cs = calloc(1, sizeof(*cs));
		if (cs)
			cs->server = cls;
		*socket_context = cs; /* NULL makes the handshake fail: no certificate */
		return;
	}
	if (cs && cs->pair)
		cert_pair_release(cs->pair);
	free(cs);
	*socket_context = NULL;
}

/* GnuTLS asks for our certificate during each handshake. The callback has no
 * user pointer: libmicrohttpd stores its connection as the GnuTLS session
 * pointer (gnutls_session_set_ptr), and our conn_state is that connection's
 * socket context. Should a libmicrohttpd release stop doing so, every
 * handshake fails and the server tests catch it. */
static int retrieve_cert(gnutls_session_t session, const gnutls_datum_t *req_ca_rdn, int nreqs,
			 const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
			 gnutls_pcert_st **pcerts, unsigned *n_pcerts, gnutls_privkey_t *key)
{
	struct MHD_Connection *conn = gnutls_session_get_ptr(session);
	const union MHD_ConnectionInfo *info =
	    conn ? MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT) : NULL;
	struct conn_state *cs = info ? info->socket_context : NULL;
	if (!cs)
		return -1;
	struct cert_pair *pair;
	char err[512];
	if (cert_reloader_acquire(cs->server->reloader, &pair, err, sizeof(err)) < 0)
		return -1; /* the reloader logged why, once per change */
	if (cs->pair)
		cert_pair_release(cs->pair);
	cs->pair = pair;
	cert_pair_credentials(pair, pcerts, n_pcerts, key);
	return 0;
}

static bool is_json(const char *content_type)
{
	static const char want[] = "application/json";
	if (!content_type || strncasecmp(content_type, want, sizeof(want) - 1) != 0)
		return false;
	char next = content_type[sizeof(want) - 1];
	return next == '\0' || next == ';' || next == ' ';
}

/* Decides from method, path and headers what the request gets. */
static struct request_state *start_request(const struct webhook_server *server,
					   struct MHD_Connection *conn, const char *url,
					   const char *method)
{
	struct request_state *rs = calloc(1, sizeof(*rs));
	if (!rs)
		return NULL;
	size_t i = 0;
	while (i < server->n_kinds && strcmp(url, webhook_path(server->kinds[i])) != 0)
		i++;
	if (i < server->n_kinds)
		rs->kind = server->kinds[i];
	else
		rs->early_status = 404, rs->early_text = "404 page not found";
	if (!rs->early_status && strcmp(method, MHD_HTTP_METHOD_POST) != 0)
		rs->early_status = 405, rs->early_text = "method not allowed; use POST";
	const char *ctype =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	if (!rs->early_status && !is_json(ctype))
		rs->early_status = 400, rs->early_text = "contentType must be application/json";
	return rs;
}

static void append_body(struct request_state *rs, const char *data, size_t size)
{
	if (rs->early_status || rs->too_big)
		return;
	if (size > WEBHOOK_MAX_BODY - rs->len) {
		rs->too_big = true;
		free(rs->body);
		rs->body = NULL;
		return;
	}
	char *body = realloc(rs->body, rs->len + size + 1);
	if (!body) {
		rs->early_status = 500, rs->early_text = "out of memory";
		return;
	}
	memcpy(body + rs->len, data, size);
	rs->body = body;
	rs->len += size;
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, int status, const char *ctype,
				  const char *body)
{
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	if (status == 405)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, MHD_HTTP_METHOD_POST);
	enum MHD_Result rc = MHD_queue_response(conn, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return rc;
}

static enum MHD_Result finish_request(struct MHD_Connection *conn, struct request_state *rs)
{
	static const char text[] = "text/plain; charset=utf-8";
	if (rs->early_status)
		return send_reply(conn, rs->early_status, text, rs->early_text);
	if (rs->too_big)
		return send_reply(conn, 413, text, "request body too large");
	struct webhook_reply reply;
	webhook_handle_body(rs->kind, rs->body ? rs->body : "", rs->len, &reply);
	enum MHD_Result rc =
	    send_reply(conn, reply.status, reply.content_type ? reply.content_type : text,
		       reply.body ? reply.body : "internal error");
	free(reply.body);
	return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **req_cls)
{
	struct request_state *rs = *req_cls;
	if (!rs) { /* first call: headers only */
		*req_cls = start_request(cls, conn, url, method);
		return *req_cls ? MHD_YES : MHD_NO;
	}
	if (*upload_size) {
		append_body(rs, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	return finish_request(conn, rs);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
			 enum MHD_RequestTerminationCode code)
{
	struct request_state *rs = *req_cls;
	if (rs)
		free(rs->body);
	free(rs);
	*req_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	size_t len = strlen(msg);
	if (len > 0 && msg[len - 1] == '\n')
		msg[len - 1] = '\0';
	log_debug("webhook server", "detail", msg);
}

static struct MHD_Daemon *start_daemon(struct webhook_server *server, unsigned flags,
				       const struct sockaddr_storage *ss, bool any)
{
	gnutls_certificate_retrieve_function2 *cb = retrieve_cert;
	return MHD_start_daemon(
	    flags, server->port, NULL, NULL, on_request, server, MHD_OPTION_HTTPS_CERT_CALLBACK, cb,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, server, MHD_OPTION_NOTIFY_COMPLETED,
	    on_completed, server, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT_S,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, server, MHD_OPTION_SOCK_ADDR,
	    any ? NULL : (const struct sockaddr *)ss, MHD_OPTION_END);
}

/* Binds like Go: ":port" is every address, IPv6 included when available. */
static int listen_on(struct webhook_server *server, const char *addr, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	int any;
	if (http_listen_addr_parse(addr, &ss, &any) < 0) {
		snprintf(err, errlen, "invalid webhook address: %s", addr);
		return -EINVAL;
	}
	bool v6 = ss.ss_family == AF_INET6;
	server->port = ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
				: ((struct sockaddr_in *)&ss)->sin_port);
	if (any)
		snprintf(server->probe_host, sizeof(server->probe_host), "127.0.0.1");
	else if (v6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, server->probe_host,
			  sizeof(server->probe_host));
	else
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, server->probe_host,
			  sizeof(server->probe_host));
	unsigned flags = MHD_USE_TLS | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
			 MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0);
	if (any)
		server->daemon = start_daemon(server, flags | MHD_USE_DUAL_STACK, &ss, true);
	if (!server->daemon) /* also: no IPv6 in this netns, so ":port" is IPv4 only */
		server->daemon = start_daemon(server, flags, &ss, any);
	if (!server->daemon) {
		snprintf(err, errlen, "cannot listen on webhook address %s", addr);
		return -EADDRINUSE;
	}
	const union MHD_DaemonInfo *info =
	    MHD_get_daemon_info(server->daemon, MHD_DAEMON_INFO_BIND_PORT);
	if (info && info->port)
		server->port = info->port;
	return 0;
}

int webhook_server_start(const char *addr, const char *cert_dir, const enum webhook_kind *kinds,
			 size_t n_kinds, struct webhook_server **out, char *err, size_t errlen)
{
	*out = NULL;
	struct webhook_server probe;
	if (n_kinds == 0 || n_kinds > sizeof(probe.kinds) / sizeof(probe.kinds[0])) {
		snprintf(err, errlen, "webhook server: %zu webhooks (1 to 4 are served)", n_kinds);
		return -EINVAL;
	}
	if (MHD_is_feature_supported(MHD_FEATURE_HTTPS_CERT_CALLBACK) != MHD_YES) {
		snprintf(err, errlen, "libmicrohttpd lacks TLS certificate callbacks");
		return -ENOTSUP;
	}
	struct webhook_server *server = calloc(1, sizeof(*server));
	if (!server) {
		snprintf(err, errlen, "out of memory starting the webhook server");
		return -ENOMEM;
	}
	memcpy(server->kinds, kinds, n_kinds * sizeof(*kinds));
	server->n_kinds = n_kinds;
	int rc = cert_reloader_new(cert_dir, &server->reloader, err, errlen);
	if (rc == 0)
		rc = listen_on(server, addr, err, errlen);
	if (rc < 0) {
		cert_reloader_free(server->reloader);
		free(server);
		return rc;
	}
	log_info("webhook server started", "addr", addr, "cert_dir", cert_dir);
	*out = server;
	return 0;
}

void webhook_server_stop(struct webhook_server *server)
{
	if (!server)
		return;
	MHD_stop_daemon(server->daemon);
	cert_reloader_free(server->reloader);
	free(server);
}

uint16_t webhook_server_port(const struct webhook_server *server)
{
	return server->port;
}

int webhook_server_check_ready(struct webhook_server *server, char *err, size_t errlen)
{
	return webhook_tls_probe(server->probe_host, server->port, NULL, 0, err, errlen);
}
