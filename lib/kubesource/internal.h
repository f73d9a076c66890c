/* Private parts of the Kubernetes block source shared by its files. */
#ifndef COIL_KUBESOURCE_INTERNAL_H
#define COIL_KUBESOURCE_INTERNAL_H

#include "kubesource/kubesource.h"
#include "kubesource/latch.h"
#include "kubesource/parse.h"

struct kubesource {
	char node[NODE_NAME_MAX];
	char node_uid[KUBESOURCE_UID_MAX];
	char node_ipv4[IP_ADDR_STRLEN], node_ipv6[IP_ADDR_STRLEN];
	long acquire_timeout_ms;
	const struct kube_config *kube;	  /* borrowed (or kube_owned) */
	struct kube_config *kube_owned;	  /* set by kubesource_open_default */
	struct kube_client *client;	  /* informers and startup: patient */
	struct kube_client *fast;	  /* the ADD/DEL path: short timeouts, few retries */
	struct kube_informer *requests;	  /* BlockRequests → latch */
	struct kube_informer *namespaces; /* cache for pool_for_namespace */
	struct request_latch latch;
};

/* An API error that means "unreachable or overloaded right now" becomes -EAGAIN. */
int api_errno(int ret);

/* ops (source.c, acquire.c, release.c) */
int kubesource_acquire(void *ctx, const char *pool, struct node_block *out, char *err,
		       size_t errlen);
int kubesource_release(void *ctx, const struct node_block *block, char *err, size_t errlen);

/* watch.c: the BlockRequest and Namespace informers. */
int watchers_start(struct kubesource *ks, long sync_timeout_ms, char *err, size_t errlen);
void watchers_stop(struct kubesource *ks);

#endif
