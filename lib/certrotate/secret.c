/* One round on the Secret: read, assess, regenerate, write back only what changed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certrotate.h"
#include "base64/base64.h"
#include "log/log.h"

/* The Secret's data keys, in the order of struct certrotate_pems. */
static const char *const data_keys[4] = {"ca.crt", "ca.key", "tls.crt", "tls.key"};

static char **pem_slot(struct certrotate_pems *pems, int i)
{
	char **slots[4] = {&pems->ca_crt, &pems->ca_key, &pems->tls_crt, &pems->tls_key};
	return slots[i];
}

/* Decodes the data keys that are present and valid base64; others stay NULL (and are then
 * judged missing by certrotate_assess). */
static int read_pems(const json_t *secret, struct certrotate_pems *pems)
{
	json_t *data = json_object_get(secret, "data");
	for (int i = 0; i < 4; i++) {
		const char *b64 = json_string_value(json_object_get(data, data_keys[i]));
		size_t len;
		if (b64 && base64_decode(b64, pem_slot(pems, i), &len) == -ENOMEM)
			return -ENOMEM;
	}
	return 0;
}

static int write_pems(json_t *secret, struct certrotate_pems *pems)
{
	json_t *data = json_object_get(secret, "data");
	if (!json_is_object(data)) {
		data = json_object();
		if (!data || json_object_set_new(secret, "data", data) < 0)
			return -ENOMEM;
	}
	for (int i = 0; i < 4; i++) {
		const char *pem = *pem_slot(pems, i);
		char *b64 = base64_encode(pem, strlen(pem));
		if (!b64 || json_object_set_new(data, data_keys[i], json_string(b64)) < 0) {
			free(b64);
			return -ENOMEM;
		}
		free(b64);
	}
	return 0;
}

static int get_secret(struct kube_client *client, const char *name, json_t **secret, char *err,
		      size_t errlen)
{
	int ret =
	    kube_get(client, &KUBE_RES_SECRETS, CERTROTATE_NAMESPACE, name, secret, err, errlen);
	if (ret == -ENOENT)
		snprintf(err, errlen,
			 "secret " CERTROTATE_NAMESPACE "/%s"
			 " not found: it must exist (the rotator updates it, never creates it)",
			 name);
	return ret;
}

int certrotate_sync_secret(struct kube_client *client, const struct certrotate_names *names,
			   time_t now, struct certrotate_pems *pems, bool *written, char *err,
			   size_t errlen)
{
	json_t *secret = NULL;
	char why[256];
	*written = false;
	certrotate_pems_clear(pems);
	int ret = get_secret(client, names->secret, &secret, err, errlen);
	if (ret == 0)
		ret = read_pems(secret, pems);
	enum certrotate_need need =
	    ret == 0 ? certrotate_assess(names, pems, now, why, sizeof(why)) : CERTROTATE_KEEP;
	if (need != CERTROTATE_KEEP) {
		log_info("refreshing webhook certificates", "reason", why, "scope",
			 need == CERTROTATE_NEW_ALL ? "ca and server" : "server");
		ret = certrotate_regenerate(names, pems, need, now, err, errlen);
		if (ret == 0 && (ret = write_pems(secret, pems)) == -ENOMEM)
			snprintf(err, errlen, "secret data: out of memory");
		if (ret == 0)
			ret = kube_update(client, &KUBE_RES_SECRETS, secret, NULL, err, errlen);
		*written = ret == 0;
	}
	json_decref(secret);
	return ret;
}
