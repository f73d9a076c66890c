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

/* How podnet_find_host looks for an attachment's host link. */
enum podnet_find {
	PODNET_FIND_NAME = 1,	   /* the link named after the attachment */
	PODNET_FIND_ALIAS = 2,	   /* else a dump of every link, by alias */
	PODNET_FIND_HALF_MADE = 4, /* by name, a veth without alias counts too */
};

/* Finds the attachment's host link as `how` (PODNET_FIND_* flags) says: 0 (out filled),
 * -ENOENT, or another negative errno if a request failed. */
int podnet_find_host(struct nl_sock *hs, const char *container_id, const char *ifname, unsigned how,
		     struct nl_link *out, char *err, size_t errlen);

/* Adds ip as a /32 or /128, scope global, without DAD, to link ifindex (setup.c). */
int podnet_add_host_addr(struct nl_sock *s, int ifindex, const struct nl_ip *ip, char *err,
			 size_t errlen);

#endif
