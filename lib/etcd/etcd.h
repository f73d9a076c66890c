/* A small etcd v3 client over etcd's JSON gateway (POST /v3/kv/range, /v3/auth/authenticate)
 * with libcurl and jansson: enough to read a key range, with TLS (CA, client certificate) and
 * password authentication. Used by `coil migrate` to read Coil v1's data.
 *
 * Keys and values travel base64-encoded in the gateway's JSON; this library hands out the
 * decoded bytes. Every key is read under the configured prefix, which is stripped again from
 * the keys returned. Functions return 0 or a negative errno with a message in err. A client
 * is used by one thread at a time. */
#ifndef COIL_ETCD_H
#define COIL_ETCD_H

#include <stddef.h>

struct etcd_config {
	const char *endpoints;		  /* comma-separated URLs; empty elements dropped */
	const char *prefix;		  /* prepended to every key, e.g. "/coil/"; NULL = "" */
	double dial_timeout_s;		  /* connection timeout per endpoint; <= 0 = 2 s */
	double request_timeout_s;	  /* whole request; <= 0 = 30 s */
	const char *username, *password;  /* authentication when username is non-empty */
	const char *ca_file;		  /* trust anchors for https endpoints; NULL = system */
	const char *cert_file, *key_file; /* client certificate: used only when both are set */
};

struct etcd_client;

/* Copies the configuration; authenticates (when a username is set) against the first endpoint
 * that answers, so a wrong password or an unreachable cluster fails here. -EINVAL "no
 * endpoints" when the list is empty. Free with etcd_client_free(). */
int etcd_client_new(const struct etcd_config *config, struct etcd_client **out, char *err,
		    size_t errlen);
void etcd_client_free(struct etcd_client *client);

/* One key-value pair; key without the client's prefix. Both owned by the list. */
struct etcd_kv {
	char *key;
	char *value; /* NUL-terminated for convenience; value_len bytes */
	size_t value_len;
};

struct etcd_kv_list {
	struct etcd_kv *items; /* owned array of n */
	size_t n;
};

/* Every key starting with prefix + key_prefix, sorted by key (etcd's order). Endpoints are
 * tried in order until one answers. On success *out holds the pairs (etcd_kv_list_clear). */
int etcd_range_prefix(struct etcd_client *client, const char *key_prefix, struct etcd_kv_list *out,
		      char *err, size_t errlen);
void etcd_kv_list_clear(struct etcd_kv_list *list);

/* The first key after every key that starts with prefix (etcd's "range_end" of a prefix):
 * the prefix with its last byte below 0xff incremented and what follows cut; "\0" (all keys)
 * when there is none. *out is malloc'd (caller frees), *out_len its length. */
int etcd_prefix_end(const char *prefix, size_t len, char **out, size_t *out_len);

#endif
