#include "fake_server.h"

#include <arpa/inet.h>
#include <check.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FAKE_MAX_QUEUE	  64
#define FAKE_MAX_REQUESTS 256

struct fake_server {
	struct MHD_Daemon *daemon;
	int port;
	pthread_mutex_t lock;
	struct fake_reply queue[FAKE_MAX_QUEUE];
	int head, tail;
	struct fake_reply fallback;
	struct fake_request *requests; /* FAKE_MAX_REQUESTS */
	int nrequests;
	atomic_bool stopping;
};

struct upload {
	char body[8192];
	size_t len;
};

struct stream_state {
	struct fake_server *fs;
	struct fake_reply reply;
	int next;
};

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static struct fake_reply next_reply(struct fake_server *fs)
{
	pthread_mutex_lock(&fs->lock);
	struct fake_reply reply = fs->head < fs->tail ? fs->queue[fs->head++] : fs->fallback;
	pthread_mutex_unlock(&fs->lock);
	return reply;
}

static ssize_t stream_chunk(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream_state *st = cls;
	const char *chunk = st->reply.chunks[st->next];
	if (chunk) {
		if (st->next > 0 && st->reply.chunk_delay_ms)
			sleep_ms(st->reply.chunk_delay_ms);
		size_t n = strlen(chunk);
		ck_assert_uint_le(n, max);
		memcpy(buf, chunk, n);
		st->next++;
		return (ssize_t)n;
	}
	for (long waited = 0; waited < st->reply.hold_ms && !atomic_load(&st->fs->stopping);
	     waited += 20)
		sleep_ms(20);
	return st->reply.drop ? MHD_CONTENT_READER_END_WITH_ERROR
			      : MHD_CONTENT_READER_END_OF_STREAM;
}

static struct MHD_Response *make_response(struct fake_server *fs, const struct fake_reply *reply)
{
	struct MHD_Response *resp;
	if (reply->chunks) {
		struct stream_state *st = calloc(1, sizeof(*st));
		st->fs = fs;
		st->reply = *reply;
		resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 65536, stream_chunk, st,
							 free);
	} else {
		const char *body = reply->body ? reply->body : "";
		resp = MHD_create_response_from_buffer(strlen(body), (void *)body,
						       MHD_RESPMEM_PERSISTENT);
	}
	MHD_add_response_header(resp, "Content-Type", "application/json");
	if (reply->retry_after)
		MHD_add_response_header(resp, "Retry-After", reply->retry_after);
	if (reply->warning)
		MHD_add_response_header(resp, "Warning", reply->warning);
	return resp;
}

static void record(struct fake_server *fs, struct MHD_Connection *conn, const char *method,
		   const char *url, const struct upload *up)
{
	pthread_mutex_lock(&fs->lock);
	if (fs->nrequests < FAKE_MAX_REQUESTS) {
		struct fake_request *r = &fs->requests[fs->nrequests++];
		const char *auth =
		    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
		const char *ctype =
		    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
		snprintf(r->method, sizeof(r->method), "%s", method);
		snprintf(r->url, sizeof(r->url), "%s", url);
		snprintf(r->auth, sizeof(r->auth), "%s", auth ? auth : "");
		snprintf(r->content_type, sizeof(r->content_type), "%s", ctype ? ctype : "");
		snprintf(r->body, sizeof(r->body), "%.*s", (int)up->len, up->body);
	}
	pthread_mutex_unlock(&fs->lock);
}

/* Rebuilds path?query from MHD's parsed arguments, in order. */
static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *key,
			       const char *value)
{
	char *url = cls;
	size_t n = strlen(url);
	snprintf(url + n, 2048 - n, "%s%s=%s", strchr(url, '?') ? "&" : "?", key,
		 value ? value : "");
	return MHD_YES;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_size, void **con_cls)
{
	struct fake_server *fs = cls;
	struct upload *up = *con_cls;
	if (!up) {
		*con_cls = calloc(1, sizeof(struct upload));
		return MHD_YES;
	}
	if (*upload_size) {
		size_t n = *upload_size;
		if (up->len + n >= sizeof(up->body))
			n = sizeof(up->body) - 1 - up->len;
		memcpy(up->body + up->len, upload_data, n);
		up->len += n;
		*upload_size = 0;
		return MHD_YES;
	}
	char full[2048];
	snprintf(full, sizeof(full), "%s", url);
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, add_arg, full);
	record(fs, conn, method, full, up);
	struct fake_reply reply = next_reply(fs);
	struct MHD_Response *resp = make_response(fs, &reply);
	enum MHD_Result ret = MHD_queue_response(conn, (unsigned)reply.status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		      enum MHD_RequestTerminationCode code)
{
	free(*con_cls);
	*con_cls = NULL;
}

struct fake_server *fake_server_start(void)
{
	struct fake_server *fs = calloc(1, sizeof(*fs));
	fs->requests = calloc(FAKE_MAX_REQUESTS, sizeof(*fs->requests));
	fs->fallback = (struct fake_reply){.status = 500,
					   .body = "{\"kind\":\"Status\",\"message\":"
						   "\"no scripted reply\"}"};
	pthread_mutex_init(&fs->lock, NULL);
	struct sockaddr_in addr = {.sin_family = AF_INET};
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fs->daemon =
	    MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0,
			     NULL, NULL, handle, fs, MHD_OPTION_SOCK_ADDR, &addr,
			     MHD_OPTION_NOTIFY_COMPLETED, completed, fs, MHD_OPTION_END);
	ck_assert_ptr_nonnull(fs->daemon);
	const union MHD_DaemonInfo *info =
	    MHD_get_daemon_info(fs->daemon, MHD_DAEMON_INFO_BIND_PORT);
	fs->port = info->port;
	return fs;
}

int fake_server_port(const struct fake_server *fs)
{
	return fs->port;
}

void fake_server_url(const struct fake_server *fs, char *buf, unsigned len)
{
	snprintf(buf, len, "http://127.0.0.1:%d", fs->port);
}

void fake_server_push(struct fake_server *fs, const struct fake_reply *reply)
{
	pthread_mutex_lock(&fs->lock);
	ck_assert_int_lt(fs->tail, FAKE_MAX_QUEUE);
	fs->queue[fs->tail++] = *reply;
	pthread_mutex_unlock(&fs->lock);
}

void fake_server_set_default(struct fake_server *fs, const struct fake_reply *reply)
{
	pthread_mutex_lock(&fs->lock);
	fs->fallback = *reply;
	pthread_mutex_unlock(&fs->lock);
}

int fake_server_nrequests(struct fake_server *fs)
{
	pthread_mutex_lock(&fs->lock);
	int n = fs->nrequests;
	pthread_mutex_unlock(&fs->lock);
	return n;
}

struct fake_request fake_server_request(struct fake_server *fs, int i)
{
	pthread_mutex_lock(&fs->lock);
	int n = fs->nrequests;
	struct fake_request r;
	memset(&r, 0, sizeof(r));
	if (i < n)
		r = fs->requests[i];
	pthread_mutex_unlock(&fs->lock);
	ck_assert_msg(i < n, "no request %d (only %d)", i, n);
	return r;
}

void fake_server_stop(struct fake_server *fs)
{
	atomic_store(&fs->stopping, true);
	MHD_stop_daemon(fs->daemon);
	pthread_mutex_destroy(&fs->lock);
	free(fs->requests);
	free(fs);
}
