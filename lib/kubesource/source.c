/* Opening and closing the Kubernetes block source, and its read-only ops: list,
 * pool_for_namespace and can_acquire. */
#include "kubesource/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"

int api_errno(int ret)
{
	switch (ret) {
	case -ECONNREFUSED:
	case -ECONNRESET:
	case -ETIMEDOUT:
	case -EHOSTUNREACH:
	case -EIO:   /* 5xx after the last retry */
	case -EBUSY: /* 429 after the last retry */
		return -EAGAIN;
	default:
		return ret;
	}
}

static int op_list(void *ctx, struct node_block **out, size_t *n, char *err, size_t errlen)
{
	struct kubesource *ks = ctx;
	char selector[NODE_NAME_MAX + 64];
	snprintf(selector, sizeof(selector), COILAPI_LABEL_NODE "=%s", ks->node);
	struct kube_list_opts opts = {.label_selector = selector};
	json_t *items = NULL;
	*out = NULL;
	*n = 0;
	int ret = kube_list_all(ks->fast, &COILAPI_RES_ADDRESSBLOCKS, NULL, &opts, &items, NULL, 0,
				err, errlen);
	if (ret < 0)
		return api_errno(ret);
	*out = calloc(json_array_size(items) + 1, sizeof(**out));
	if (!*out) {
		json_decref(items);
		snprintf(err, errlen, "list AddressBlocks of node %s: out of memory", ks->node);
		return -ENOMEM;
	}
	size_t i;
	json_t *item;
	json_array_foreach(items, i, item)
	{
		char why[256];
		if (block_parse(item, &(*out)[*n], why, sizeof(why)) == 0)
			(*n)++;
		else
			log_warn("kubesource: ignoring an unusable AddressBlock", "error", why);
	}
	json_decref(items);
	return 0;
}

static int op_pool_for_namespace(void *ctx, const char *ns, char *pool, size_t poollen, char *err,
				 size_t errlen)
{
	struct kubesource *ks = ctx;
	json_t *obj = kube_informer_get(ks->namespaces, NULL, ns);
	int ret = 0;
	if (!obj) /* not (yet) in the cache: ask the API server */
		ret = kube_get(ks->fast, &KUBE_RES_NAMESPACES, NULL, ns, &obj, err, errlen);
	if (ret < 0)
		return api_errno(ret);
	ret = namespace_pool(obj, pool, poollen);
	json_decref(obj);
	if (ret < 0)
		snprintf(err, errlen, "namespace %s: pool annotation is too long", ns);
	return ret;
}

/* An approximation: the pool exists and is not being deleted. Whether it still has a free
 * block only the controller knows. */
static int op_can_acquire(void *ctx, const char *pool)
{
	struct kubesource *ks = ctx;
	json_t *obj = NULL;
	char err[256];
	int ret = kube_get(ks->fast, &COILAPI_RES_ADDRESSPOOLS, NULL, pool, &obj, err, sizeof(err));
	if (ret == -ENOENT)
		return 0;
	if (ret < 0)
		return api_errno(ret);
	ret = pool_usable(obj) ? 1 : 0;
	json_decref(obj);
	return ret;
}

static const struct block_source_ops kubesource_ops = {
    .list = op_list,
    .acquire = kubesource_acquire,
    .release = kubesource_release,
    .pool_for_namespace = op_pool_for_namespace,
    .can_acquire = op_can_acquire,
};

struct block_source kubesource_block_source(struct kubesource *ks)
{
	return (struct block_source){.ops = &kubesource_ops, .ctx = ks};
}

const char *kubesource_node_name(const struct kubesource *ks)
{
	return ks->node;
}

void kubesource_node_ips(const struct kubesource *ks, char ipv4[static IP_ADDR_STRLEN],
			 char ipv6[static IP_ADDR_STRLEN])
{
	memcpy(ipv4, ks->node_ipv4, IP_ADDR_STRLEN);
	memcpy(ipv6, ks->node_ipv6, IP_ADDR_STRLEN);
}

static int make_clients(struct kubesource *ks, const struct kubesource_config *cfg, char *err,
			size_t errlen)
{
	long timeout =
	    cfg->request_timeout_ms > 0 ? cfg->request_timeout_ms : KUBE_CONNECT_TIMEOUT_MS;
	struct kube_client_options fast = {
	    .max_tries = 3,
	    .deadline_ms = timeout,
	    .backoff_base_ms = 100,
	    .backoff_max_ms = 400,
	    .timeout_ms = timeout,
	};
	int ret = kube_client_new(cfg->kube, NULL, &ks->client, err, errlen);
	if (ret == 0)
		ret = kube_client_new(cfg->kube, &fast, &ks->fast, err, errlen);
	return ret;
}

/* At startup, before any pod is registered: the Node once; its UID owns our BlockRequests. */
static int read_node(struct kubesource *ks, char *err, size_t errlen)
{
	json_t *node = NULL;
	char why[512];
	int ret = kube_get(ks->client, &KUBE_RES_NODES, NULL, ks->node, &node, why, sizeof(why));
	if (ret < 0) {
		snprintf(err, errlen, "failed to get Node resource %s: %s", ks->node, why);
		return ret;
	}
	const char *uid = kube_obj_uid(node);
	if (!uid || strlen(uid) >= sizeof(ks->node_uid)) {
		json_decref(node);
		snprintf(err, errlen, "Node %s has no usable uid", ks->node);
		return -EINVAL;
	}
	memcpy(ks->node_uid, uid, strlen(uid) + 1);
	node_internal_ips(node, ks->node_ipv4, ks->node_ipv6);
	json_decref(node);
	log_info("kubesource: read the Node", "node", ks->node, "ipv4", ks->node_ipv4, "ipv6",
		 ks->node_ipv6);
	return 0;
}

int kubesource_open(const struct kubesource_config *cfg, struct kubesource **out, char *err,
		    size_t errlen)
{
	if (!cfg->node_name || !*cfg->node_name || strlen(cfg->node_name) >= NODE_NAME_MAX) {
		snprintf(err, errlen, KUBESOURCE_NODE_ENV " environment variable should be set");
		return -EINVAL;
	}
	struct kubesource *ks = calloc(1, sizeof(*ks));
	if (!ks) {
		snprintf(err, errlen, "kubesource: out of memory");
		return -ENOMEM;
	}
	memcpy(ks->node, cfg->node_name, strlen(cfg->node_name) + 1);
	ks->kube = cfg->kube;
	ks->acquire_timeout_ms =
	    cfg->acquire_timeout_ms > 0 ? cfg->acquire_timeout_ms : KUBESOURCE_ACQUIRE_WAIT_MS;
	if (latch_init(&ks->latch) < 0) {
		free(ks);
		snprintf(err, errlen, "kubesource: cannot set up the request latch");
		return -ENOMEM;
	}
	int ret = make_clients(ks, cfg, err, errlen);
	if (ret == 0)
		ret = read_node(ks, err, errlen);
	if (ret == 0 && !cfg->no_ipam)
		ret = watchers_start(ks, cfg->sync_timeout_ms > 0 ? cfg->sync_timeout_ms : 10000,
				     err, errlen);
	if (ret < 0) {
		kubesource_close(ks);
		return ret;
	}
	*out = ks;
	return 0;
}

int kubesource_open_default(const char *kubeconfig_path, bool no_ipam, struct kubesource **out,
			    char *err, size_t errlen)
{
	const char *node = getenv(KUBESOURCE_NODE_ENV);
	if (!node || !*node) { /* checked before anything else, like upstream */
		snprintf(err, errlen, KUBESOURCE_NODE_ENV " environment variable should be set");
		return -EINVAL;
	}
	struct kube_config *kube = NULL;
	int ret = kube_config_load(kubeconfig_path && *kubeconfig_path ? kubeconfig_path : NULL,
				   NULL, &kube, err, errlen);
	if (ret < 0)
		return ret;
	struct kubesource_config cfg = {.kube = kube, .node_name = node, .no_ipam = no_ipam};
	ret = kubesource_open(&cfg, out, err, errlen);
	if (ret < 0) {
		kube_config_free(kube);
		return ret;
	}
	(*out)->kube_owned = kube;
	return 0;
}

void kubesource_close(struct kubesource *ks)
{
	if (!ks)
		return;
	watchers_stop(ks);
	kube_client_free(ks->fast);
	kube_client_free(ks->client);
	kube_config_free(ks->kube_owned);
	latch_destroy(&ks->latch);
	free(ks);
}
