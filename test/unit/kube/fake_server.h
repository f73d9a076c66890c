/* A scripted HTTP server on 127.0.0.1 for unit tests of lib/kube: replies are queued in order
 * (then a default reply), streamed replies come as separate HTTP chunks, and every request is
 * recorded. */
#ifndef COIL_TEST_KUBE_FAKE_SERVER_H
#define COIL_TEST_KUBE_FAKE_SERVER_H

#include <stdbool.h>

struct fake_reply {
	int status;
	const char *body;	   /* borrowed; a whole body (NULL = empty) */
	const char *retry_after;   /* Retry-After header value or NULL */
	const char *warning;	   /* a Warning header value or NULL */
	const char *const *chunks; /* borrowed, NULL-terminated: a chunked stream instead of body */
	int chunk_delay_ms;	   /* before each chunk after the first */
	long hold_ms;		   /* keep a stream open this long after its chunks */
	bool drop;		   /* end a stream by cutting the connection */
};

struct fake_request {
	char method[16];
	char url[2048]; /* path?query */
	char auth[512];
	char content_type[128];
	char body[8192];
};

struct fake_server;

struct fake_server *fake_server_start(void); /* aborts the test on failure */
int fake_server_port(const struct fake_server *fs);
void fake_server_url(const struct fake_server *fs, char *buf, unsigned len); /* http://... */
void fake_server_push(struct fake_server *fs, const struct fake_reply *reply);
void fake_server_set_default(struct fake_server *fs, const struct fake_reply *reply);
int fake_server_nrequests(struct fake_server *fs);
/* A copy of request i (0-based); aborts the test if there is none. */
struct fake_request fake_server_request(struct fake_server *fs, int i);
void fake_server_stop(struct fake_server *fs);

#endif
