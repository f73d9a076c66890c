/* The node's blocks as the API has them: AddressBlocks labelled coil.cybozu.com/node=<node>. */
#include "coilapi/coilapi.h"
#include "doctor/internal.h"
#include "err/err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void copy(char *out, size_t outlen, const char *s)
{
	snprintf(out, outlen, "%s", s ? s : "");
}

/* Decodes each item; an undecodable one is a problem of its own. */
static int keep_blocks(struct doctor_view *v, const json_t *items)
{
	size_t n = json_array_size(items);
	v->blocks = calloc(n ? n : 1, sizeof(*v->blocks));
	if (!v->blocks)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct coilapi_block b;
		char why[256];
		const json_t *obj = json_array_get(items, i);
		if (coilapi_block_decode(obj, &b, why, sizeof(why)) < 0) {
			doctor_problem(v, "block-undecodable", "AddressBlock %s: %s",
				       kube_obj_name(obj) ? kube_obj_name(obj) : "?", why);
			continue;
		}
		struct node_block *out = &v->blocks[v->n_blocks++];
		copy(out->name, sizeof(out->name), b.name);
		copy(out->pool, sizeof(out->pool), b.pool);
		copy(out->ipv4, sizeof(out->ipv4), b.ipv4);
		copy(out->ipv6, sizeof(out->ipv6), b.ipv6);
		out->index = b.index;
		out->reserved = b.reserved;
	}
	return 0;
}

int doctor_read_api_blocks(struct doctor_view *v, char *err, size_t errlen)
{
	struct kube_client_options opts = {.max_tries = 3, .deadline_ms = 30000};
	struct kube_client *client = NULL;
	char selector[NODE_NAME_MAX + 64];
	snprintf(selector, sizeof(selector), "%s=%s", COILAPI_LABEL_NODE, v->cfg->node);
	struct kube_list_opts list = {.label_selector = selector};
	json_t *items = NULL;
	int rc = kube_client_new(v->cfg->kube, &opts, &client, err, errlen);
	if (rc == 0)
		rc = kube_list_all(client, &COILAPI_RES_ADDRESSBLOCKS, NULL, &list, &items, NULL, 0,
				   err, errlen);
	if (rc == 0 && keep_blocks(v, items) < 0)
		rc = errorf(err, errlen, -ENOMEM, "AddressBlocks: out of memory");
	json_decref(items);
	kube_client_free(client);
	return rc;
}
