/* Internal to lib/etcd: the client and its one request primitive. */
#ifndef COIL_ETCD_INTERNAL_H
#define COIL_ETCD_INTERNAL_H

#include <jansson.h>

#include "etcd/etcd.h"

struct etcd_client {
	char **endpoints; /* owned, n_endpoints, no trailing slash */
	size_t n_endpoints;
	char *prefix; /* owned, never NULL */
	long dial_timeout_ms, request_timeout_ms;
	char *username, *password, *ca_file, *cert_file, *key_file; /* owned or NULL */
	char *token; /* from /v3/auth/authenticate, owned; NULL without authentication */
};

/* POSTs body (borrowed) to path ("/v3/kv/range") on each endpoint in turn until one answers;
 * *out gets the decoded JSON answer (new reference). A gateway error (HTTP status >= 400)
 * is reported with etcd's message and not retried on the next endpoint. */
int etcd_post(struct etcd_client *client, const char *path, const json_t *body, json_t **out,
	      char *err, size_t errlen);

#endif
