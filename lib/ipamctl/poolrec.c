/* The AddressPool reconciler: keeps the pool manager in step with the pool and lets a
 * pool being deleted go (finalizer removal) once no AddressBlock uses it. */
#include "ipamctl.h"
#include "log/log.h"
#include "objects.h"

#include <stdio.h>

/* Removes our finalizer with a conditional update of the object as read (spec unchanged). */
static int release_pool(struct kube_client *client, json_t *pool, char *err, size_t errlen)
{
	ipamctl_remove_finalizer(pool, COILAPI_FINALIZER);
	int ret = kube_update(client, &COILAPI_RES_ADDRESSPOOLS, pool, NULL, err, errlen);
	if (ret == 0)
		log_info("removed the finalizer of an unused pool", "pool", kube_obj_name(pool));
	return ret;
}

int ipamctl_reconcile_pool(struct kube_client *client, const struct ipamctl_pools *pools,
			   const char *name, char *err, size_t errlen)
{
	json_t *pool = NULL;
	int ret = kube_get(client, &COILAPI_RES_ADDRESSPOOLS, NULL, name, &pool, err, errlen);
	if (ret == -ENOENT) {
		pools->drop_pool(pools->arg, name);
		return 0;
	}
	if (ret)
		return ret;
	ret = pools->sync_pool(pools->arg, name, err, errlen);
	if (ret == 0 && ipamctl_being_deleted(pool) &&
	    ipamctl_has_finalizer(pool, COILAPI_FINALIZER)) {
		bool used = true;
		ret = pools->is_used(pools->arg, name, &used, err, errlen);
		if (ret == 0 && !used)
			ret = release_pool(client, pool, err, errlen);
	}
	json_decref(pool);
	return ret;
}
