/* The orphan-block garbage collector: blocks whose node label names no Node (a missing label
 * counts as "", so such a block is orphaned too). The leader's controller reads both from its
 * caches and confirms the orphans it finds against a direct list of Nodes; without caches both
 * are listed directly. */
#include "ipamctl.h"
#include "log/log.h"
#include "blockcache.h"
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

/* Node names as a set (object name → true), from a direct list. */
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

/* Collects orphan candidates: [name, node] pairs of blocks whose node is not known. */
struct orphans {
	struct kube_informer *nodes; /* the cache, or NULL with names */
	json_t *names;		     /* a direct list's node names */
	json_t *found;
};

static void check_block(void *arg, const char *name, const void *item)
{
	struct orphans *o = arg;
	const struct ipamctl_block_item *block = item;
	const char *node = block->node ? block->node : "";
	bool known = o->nodes ? *node && kube_informer_contains(o->nodes, NULL, node)
			      : json_object_get(o->names, node) != NULL;
	if (!known && *name)
		json_array_append_new(o->found, json_pack("[ss]", name, node));
}

/* The candidates the cache found, confirmed against a direct list of Nodes (taken only when
 * there are candidates): a Node the cache has not seen yet keeps its blocks. */
static int confirm(struct kube_client *client, struct orphans *o, char *err, size_t errlen)
{
	json_t *names = NULL, *kept = json_array();
	int ret = kept ? list_node_names(client, &names, err, errlen) : -ENOMEM;
	size_t i;
	json_t *pair;
	json_array_foreach(o->found, i, pair)
	{
		if (ret == 0 && !json_object_get(names, json_string_value(json_array_get(pair, 1))))
			json_array_append(kept, pair);
	}
	json_decref(names);
	json_decref(o->found);
	o->found = kept;
	return ret;
}

int ipamctl_gc_orphan_blocks(struct kube_client *client, const struct ipamctl_caches *caches,
			     int *removed, char *err, size_t errlen)
{
	struct kube_informer *blocks = caches ? caches->blocks : NULL;
	struct kube_informer *nodes = caches ? caches->nodes : NULL;
	struct orphans o = {.nodes = nodes, .found = json_array()};
	int count = 0, ret = o.found ? 0 : -ENOMEM;
	if (ret == 0 && !nodes)
		ret = list_node_names(client, &o.names, err, errlen);
	if (ret == 0)
		ret = ipamctl_blocks_visit(client, blocks, NULL, NULL, check_block, &o, NULL, err,
					   errlen);
	if (ret == 0 && nodes && json_array_size(o.found) > 0)
		ret = confirm(client, &o, err, errlen);
	size_t i;
	json_t *pair;
	json_array_foreach(o.found, i, pair)
	{
		if (ret)
			break;
		const char *name = json_string_value(json_array_get(pair, 0));
		const char *node = json_string_value(json_array_get(pair, 1));
		ret = remove_block(client, name, node, err, errlen);
		count += ret == 0;
	}
	json_decref(o.names);
	json_decref(o.found);
	if (removed)
		*removed = count;
	return ret;
}
