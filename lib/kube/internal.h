/* Shared between the files of lib/kube; not part of the public API. */
#ifndef COIL_KUBE_INTERNAL_H
#define COIL_KUBE_INTERNAL_H

#include "kube/kube.h"
#include "err/err.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>

#define KUBE_MAX_IDLE_HANDLES 8

long kube_now_ms(void); /* CLOCK_MONOTONIC in milliseconds */

/* Full-jitter exponential backoff: a random delay in [d/2, d] with d = base * 2^attempt capped
 * at max. attempt counts from 0. */
long kube_backoff_ms(int attempt, long base_ms, long max_ms);

/* The bearer token of a client: fixed, or read from a file when the file changed. */
struct kube_token {
	pthread_mutex_t lock;
	char *value; /* owned */
	char *file;  /* owned; NULL for a fixed token */
	struct timespec mtime;
	off_t size;
	ino_t ino;
	long checked_ms;
};

struct kube_client {
	struct kube_config *config; /* a private copy */
	struct kube_client_options opts;
	char user_agent[64];
	struct kube_token token;
	pthread_mutex_t pool_lock;
	CURL *idle[KUBE_MAX_IDLE_HANDLES]; /* kept-alive handles, reused by any thread */
	int nidle;
};

/* curl_global_init, once per process (thread-safe). */
void kube_curl_global_init(void);

/* Takes an idle handle (reset to the client's TLS settings) or makes a new one; NULL if out of
 * memory. Return it with kube_handle_put so its connection is kept alive. */
CURL *kube_handle_get(struct kube_client *client);
void kube_handle_put(struct kube_client *client, CURL *curl);

/* Copies the current bearer token into buf ("" when none). Returns 0 or a negative errno. */
int kube_token_current(struct kube_token *token, char *buf, size_t len, char *err, size_t errlen);

/* Builds "Authorization: Bearer …" and other headers every request carries; caller frees with
 * curl_slist_free_all. content_type may be NULL. */
int kube_request_headers(struct kube_client *client, const char *content_type,
			 struct curl_slist **out, char *err, size_t errlen);

/* The full URL of path?query; caller frees. */
char *kube_url(const struct kube_client *client, const char *path, const char *query);

/* Maps a curl failure to a negative errno. */
int kube_curl_errno(CURLcode code);

/* Maps an HTTP error status and its (maybe Status) body to an errno and a message
 * "METHOD PATH: HTTP 409 Conflict: <message>". */
int kube_status_error(long status, const char *body, size_t len, const char *method,
		      const char *path, char *err, size_t errlen);

/* Whether an HTTP status is worth retrying (429, 5xx). */
bool kube_status_retryable(long status);

/* Parses a Retry-After header value (delta-seconds only); -1 when absent or unparsable. */
long kube_parse_retry_after(const char *value, size_t len);

/* Parses one Warning header value as the API server writes it (RFC 7234 warn-value:
 * `299 - "text"`, maybe followed by a date) into text, unescaping the quoted string; a text
 * longer than textlen is cut. Returns 0, or -EINVAL when the value is not a warn-value. */
int kube_parse_warning(const char *value, size_t len, char *text, size_t textlen);

/* Appends "key=escaped(value)" to a query being built in a malloc'd string. */
int kube_query_add(char **query, const char *key, const char *value);

/* Query text for list options (malloc'd, maybe ""), or NULL on allocation failure. */
char *kube_list_query(const struct kube_list_opts *opts);

#endif
