/* release(): gives an empty block back (upstream's deleteBlock): remove our finalizer
 * (retrying on conflicts), then delete the block; a block that is already gone is fine. */
#include "kubesource/internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log/log.h"

#define CONFLICT_TRIES 5

/* Drops COILAPI_FINALIZER from obj's finalizers; true if it was there. */
static bool drop_finalizer(json_t *obj)
{
	json_t *list = json_object_get(json_object_get(obj, "metadata"), "finalizers");
	size_t i;
	json_t *f;
	json_array_foreach(list, i, f)
	{
		if (json_is_string(f) && strcmp(json_string_value(f), COILAPI_FINALIZER) == 0) {
			json_array_remove(list, i);
			return true;
		}
	}
	return false;
}

/* One try: GET, drop the finalizer, conditional PUT. 0, -ENOENT (gone) or an error
 * (KUBE_ERR_CONFLICT when someone changed it meanwhile). */
static int remove_finalizer_once(struct kubesource *ks, const char *name, char *err, size_t errlen)
{
	json_t *obj = NULL;
	int ret = kube_get(ks->fast, &COILAPI_RES_ADDRESSBLOCKS, NULL, name, &obj, err, errlen);
	if (ret < 0)
		return ret;
	if (drop_finalizer(obj))
		ret = kube_update(ks->fast, &COILAPI_RES_ADDRESSBLOCKS, obj, NULL, err, errlen);
	json_decref(obj);
	return ret;
}

static int remove_finalizer(struct kubesource *ks, const char *name, char *err, size_t errlen)
{
	int ret = KUBE_ERR_CONFLICT;
	for (int i = 0; i < CONFLICT_TRIES && ret == KUBE_ERR_CONFLICT; i++)
		ret = remove_finalizer_once(ks, name, err, errlen);
	return ret == -ENOENT ? 0 : ret;
}

int kubesource_release(void *ctx, const struct node_block *block, char *err, size_t errlen)
{
	struct kubesource *ks = ctx;
	char why[512];
	int ret = remove_finalizer(ks, block->name, why, sizeof(why));
	if (ret == 0) {
		ret = kube_delete(ks->fast, &COILAPI_RES_ADDRESSBLOCKS, NULL, block->name, NULL,
				  why, sizeof(why));
		if (ret == -ENOENT)
			ret = 0;
	}
	if (ret < 0) {
		snprintf(err, errlen, "release AddressBlock %s: %s", block->name, why);
		return api_errno(ret);
	}
	log_info("kubesource: released a block", "block", block->name);
	return 0;
}
