/* The node daemon's UNIX socket server. One JSON request per connection (the client writes
 * it and shuts down its writing side), one JSON response back, then close. The client may
 * send one file descriptor with its request (SCM_RIGHTS: the plugin sends the pod's netns).
 * One thread reads every connection (poll), a fixed pool of 16 workers serves the complete
 * requests in arrival order, so a slow request (a new block being acquired) holds up only
 * its worker; when all of them are stuck for 1 s, extra workers drain the queue. The number of requests at once is bounded: when every slot is taken, a new
 * connection is answered at once with CNI code 11 ("coild is busy"); a request larger than
 * CNI_RPC_MAX_REQUEST is answered "request too large"; a connection that sends no complete
 * request within 5 s is closed unanswered. */
#ifndef COIL_COILD_SERVER_H
#define COIL_COILD_SERVER_H

#include <stddef.h>

/* Serves one request: `request` is NUL-terminated; passed_fd is the descriptor the client
 * sent with it, or -1 (borrowed: the server closes it afterwards). Returns the malloc'd
 * response text (the server frees it); NULL means "close without answering" (out of
 * memory). Called from the worker threads, several at once. */
typedef char *(*socket_request_fn)(void *ctx, const char *request, size_t len, int passed_fd);

struct socket_server;

/* Removes a stale socket file, binds and listens (mode 0600: only root talks to coild).
 * Returns 0 or -errno with err filled. */
int socket_server_open(const char *path, socket_request_fn fn, void *ctx,
		       struct socket_server **out, char *err, size_t errlen);

/* Starts the workers, accepts and serves until socket_server_shutdown() is called (from a
 * signal handler or another thread), then serves the requests already read (connections
 * still sending theirs are closed), joins the workers and returns 0 or -errno. */
int socket_server_run(struct socket_server *server);

/* Async-signal-safe: makes socket_server_run() return. */
void socket_server_shutdown(struct socket_server *server);

/* Closes the socket, removes its file, frees the server. */
void socket_server_close(struct socket_server *server);

#endif
