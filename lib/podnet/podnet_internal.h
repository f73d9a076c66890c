/* Internals shared by the podnet source files. */
#ifndef COIL_PODNET_INTERNAL_H
#define COIL_PODNET_INTERNAL_H

#include <pthread.h>

#include "podnet/podnet.h"

/* Hashed per-key locks, like upstream's 128 mutexes per key space. */
#define PODNET_LOCKS 128

struct podnet {
	struct podnet_config cfg;
	unsigned mtu; /* cfg.mtu, or the detected MTU after podnet_init */
	pthread_mutex_t container_locks[PODNET_LOCKS];
	pthread_mutex_t pod_locks[PODNET_LOCKS];
};

/* The lock of key in one of the lock arrays. */
pthread_mutex_t *podnet_lock_for(pthread_mutex_t *locks, const char *key);

/* Finds the host link whose alias names container_id and ifname: 0 (out filled), -ENOENT,
 * or another negative errno if the dump failed. */
int podnet_find_by_alias(struct nl_sock *hs, const char *container_id, const char *ifname,
			 struct nl_link *out, char *err, size_t errlen);

/* Adds ip as a /32 or /128, scope global, without DAD, to link ifindex (setup.c). */
int podnet_add_host_addr(struct nl_sock *s, int ifindex, const struct nl_ip *ip, char *err,
			 size_t errlen);

/* SHA-1 of data (our own small implementation; no crypto library needed for names). */
void podnet_sha1(const void *data, size_t len, unsigned char digest[20]);

#endif
