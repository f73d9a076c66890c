/* The podnet handle: configuration, hashed locks, and error helpers. */
#include "podnet_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <string.h>

void podnet_config_default(struct podnet_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->table = 116;
	cfg->protocol = 30;
	cfg->rule_priority = 2000;
}

int podnet_new(const struct podnet_config *cfg, struct podnet **out, char *err, size_t errlen)
{
	if ((cfg->node_ipv4.family && cfg->node_ipv4.family != AF_INET) ||
	    (cfg->node_ipv6.family && cfg->node_ipv6.family != AF_INET6)) {
		snprintf(err, errlen, "podnet: node addresses of the wrong family");
		return -EINVAL;
	}
	struct podnet *pn = calloc(1, sizeof(*pn));
	if (!pn) {
		snprintf(err, errlen, "podnet: out of memory");
		return -ENOMEM;
	}
	pn->cfg = *cfg;
	pn->mtu = cfg->mtu;
	for (int i = 0; i < PODNET_LOCKS; i++) {
		pthread_mutex_init(&pn->container_locks[i], NULL);
		pthread_mutex_init(&pn->pod_locks[i], NULL);
	}
	*out = pn;
	return 0;
}

void podnet_free(struct podnet *pn)
{
	if (!pn)
		return;
	for (int i = 0; i < PODNET_LOCKS; i++) {
		pthread_mutex_destroy(&pn->container_locks[i]);
		pthread_mutex_destroy(&pn->pod_locks[i]);
	}
	free(pn);
}

unsigned podnet_mtu(const struct podnet *pn)
{
	return pn->mtu;
}

pthread_mutex_t *podnet_lock_for(pthread_mutex_t *locks, const char *key)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (const unsigned char *c = (const unsigned char *)key; *c; c++)
		h = (h ^ *c) * 16777619u;
	return &locks[h % PODNET_LOCKS];
}

int podnet_with_container_lock(struct podnet *pn, const char *container_id, int (*fn)(void *arg),
			       void *arg)
{
	pthread_mutex_t *lock = podnet_lock_for(pn->container_locks, container_id);
	pthread_mutex_lock(lock);
	int ret = fn(arg);
	pthread_mutex_unlock(lock);
	return ret;
}
