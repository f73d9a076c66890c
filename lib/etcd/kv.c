/* Range reads through the gateway: keys and values are base64 in both directions. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base64/base64.h"
#include "err/err.h"
#include "internal.h"

int etcd_prefix_end(const char *prefix, size_t len, char **out, size_t *out_len)
{
	for (size_t i = len; i > 0; i--) {
		if ((unsigned char)prefix[i - 1] != 0xff) {
			char *end = malloc(i + 1);
			if (!end)
				return -ENOMEM;
			memcpy(end, prefix, i);
			end[i - 1] = (char)((unsigned char)end[i - 1] + 1);
			end[i] = '\0';
			*out = end;
			*out_len = i;
			return 0;
		}
	}
	/* Every byte is 0xff (or no prefix at all): the range runs to the end of the key space,
	 * which etcd spells as a range_end of one zero byte. */
	if (!(*out = calloc(1, 2)))
		return -ENOMEM;
	*out_len = 1;
	return 0;
}

void etcd_kv_list_clear(struct etcd_kv_list *list)
{
	for (size_t i = 0; i < list->n; i++) {
		free(list->items[i].key);
		free(list->items[i].value);
	}
	free(list->items);
	list->items = NULL;
	list->n = 0;
}

/* Decodes one {"key": b64, "value": b64} (value absent for an empty value) into kv, with the
 * client's prefix cut off the key. */
static int decode_kv(const struct etcd_client *c, const json_t *item, struct etcd_kv *kv, char *err,
		     size_t errlen)
{
	const char *key64 = json_string_value(json_object_get(item, "key"));
	const char *value64 = json_string_value(json_object_get(item, "value"));
	char *key = NULL;
	size_t key_len = 0, plen = strlen(c->prefix);
	if (!key64 || base64_decode(key64, &key, &key_len) < 0)
		return errorf(err, errlen, -EPROTO, "etcd answer: a key is not base64");
	if (key_len < plen || memcmp(key, c->prefix, plen) != 0 || strlen(key) != key_len) {
		free(key);
		return errorf(err, errlen, -EPROTO, "etcd answer: a key outside the prefix %s",
			      c->prefix);
	}
	memmove(key, key + plen, key_len - plen + 1);
	kv->key = key;
	if (base64_decode(value64 ? value64 : "", &kv->value, &kv->value_len) < 0) {
		free(kv->key);
		return errorf(err, errlen, -EPROTO, "etcd answer: the value of %s is not base64",
			      key64);
	}
	return 0;
}

static int decode_kvs(const struct etcd_client *c, const json_t *resp, struct etcd_kv_list *out,
		      char *err, size_t errlen)
{
	const json_t *kvs = json_object_get(resp, "kvs"); /* absent when nothing matched */
	size_t n = json_array_size(kvs);
	out->items = n ? calloc(n, sizeof(*out->items)) : NULL;
	out->n = 0;
	if (n && !out->items)
		return errorf(err, errlen, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		int ret = decode_kv(c, json_array_get(kvs, i), &out->items[i], err, errlen);
		if (ret < 0) {
			etcd_kv_list_clear(out);
			return ret;
		}
		out->n++;
	}
	return 0;
}

/* The range request {key, range_end} of prefix + key_prefix, base64-encoded. */
static json_t *range_request(const struct etcd_client *c, const char *key_prefix)
{
	size_t plen = strlen(c->prefix), klen = strlen(key_prefix), end_len;
	char *full = malloc(plen + klen + 1), *end = NULL;
	json_t *req = NULL;
	if (!full)
		return NULL;
	memcpy(full, c->prefix, plen);
	memcpy(full + plen, key_prefix, klen + 1);
	char *key64 = base64_encode(full, plen + klen);
	if (etcd_prefix_end(full, plen + klen, &end, &end_len) == 0) {
		char *end64 = base64_encode(end, end_len);
		if (key64 && end64)
			req = json_pack("{s:s, s:s}", "key", key64, "range_end", end64);
		free(end64);
	}
	free(key64);
	free(end);
	free(full);
	return req;
}

int etcd_range_prefix(struct etcd_client *client, const char *key_prefix, struct etcd_kv_list *out,
		      char *err, size_t errlen)
{
	json_t *req = range_request(client, key_prefix);
	if (!req)
		return errorf(err, errlen, -ENOMEM, "out of memory");
	json_t *resp = NULL;
	int ret = etcd_post(client, "/v3/kv/range", req, &resp, err, errlen);
	json_decref(req);
	if (ret == 0)
		ret = decode_kvs(client, resp, out, err, errlen);
	json_decref(resp);
	return ret;
}
