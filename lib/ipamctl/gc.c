/* The orphan-block garbage collector: blocks whose node label names no Node (a missing label
 * counts as "", so such a block is orphaned too). */
#include "ipamctl.h"
#include "log/log.h"
#include "objects.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* client-go's DefaultRetry for conflicts: 4 attempts, 10 ms, x5. */
#define CONFLICT_TRIES 4

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0)
		;
}

/* Reads the block afresh and drops our finalizer, retrying on conflicts. */
static int remove_block_finalizer(struct kube_client *client, const char *name, char *err,
				  size_t errlen)
{
	int ret = 0;
	for (int attempt = 0, delay = 10; attempt < CONFLICT_TRIES; attempt++, delay *= 5) {
		json_t *block = NULL;
		if (attempt)
			sleep_ms(delay / 5);
		ret = kube_get(client, &COILAPI_RES_ADDRESSBLOCKS, NULL, name, &block, err, errlen);
		if (ret == 0 && ipamctl_remove_finalizer(block, COILAPI_FINALIZER))
			ret = kube_update(client, &COILAPI_RES_ADDRESSBLOCKS, block, NULL, err,
					  errlen);
		json_decref(block);
		if (ret != KUBE_ERR_CONFLICT)
			break;
	}
	return ret == -ENOENT ? 0 : ret;
}

static int remove_block(struct kube_client *client, const char *name, const char *node, char *err,
			size_t errlen)
{
	int ret = remove_block_finalizer(client, name, err, errlen);
	if (ret == 0)
		ret =
		    kube_delete(client, &COILAPI_RES_ADDRESSBLOCKS, NULL, name, NULL, err, errlen);
	if (ret == -ENOENT)
		ret = 0;
	if (ret == 0)
		log_info("removed an orphaned block", "block", name, "node", node);
	return ret;
}

/* Node names as a set (object name → true). */
static int list_node_names(struct kube_client *client, json_t **names, char *err, size_t errlen)
{
	json_t *nodes = NULL;
	int ret = kube_list_all(client, &KUBE_RES_NODES, NULL, NULL, &nodes, NULL, 0, err, errlen);
	if (ret)
		return ret;
	*names = json_object();
	size_t i;
	json_t *node;
	json_array_foreach(nodes, i, node)
	{
		if (kube_obj_name(node))
			json_object_set_new(*names, kube_obj_name(node), json_true());
	}
	json_decref(nodes);
	return 0;
}

int ipamctl_gc_orphan_blocks(struct kube_client *client, int *removed, char *err, size_t errlen)
{
	json_t *nodes = NULL, *blocks = NULL;
	int count = 0;
	int ret = list_node_names(client, &nodes, err, errlen);
	if (ret == 0)
		ret = kube_list_all(client, &COILAPI_RES_ADDRESSBLOCKS, NULL, NULL, &blocks, NULL,
				    0, err, errlen);
	size_t i;
	json_t *block;
	json_array_foreach(blocks, i, block)
	{
		const char *node = kube_obj_label(block, COILAPI_LABEL_NODE);
		const char *name = kube_obj_name(block);
		if (ret || !name || json_object_get(nodes, node ? node : ""))
			continue;
		ret = remove_block(client, name, node ? node : "", err, errlen);
		count += ret == 0;
	}
	json_decref(nodes);
	json_decref(blocks);
	if (removed)
		*removed = count;
	return ret;
}
