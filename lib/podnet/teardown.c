/* Destroy (DEL) and check (CHECK): both find the host link by its alias. */
#include "podnet_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int podnet_find_by_alias(struct nl_sock *hs, const char *container_id, const char *ifname,
			 struct nl_link *out, char *err, size_t errlen)
{
	struct nl_link *links;
	size_t n;
	int rc = nl_link_list(hs, &links, &n, err, errlen);
	if (rc < 0)
		return rc;
	rc = -ENOENT;
	for (size_t i = 0; i < n && rc == -ENOENT; i++) {
		struct podnet_entry e;
		if (podnet_alias_parse(links[i].alias, &e) == 0 &&
		    !strcmp(e.container_id, container_id) && !strcmp(e.ifname, ifname)) {
			*out = links[i];
			rc = 0;
		}
	}
	free(links);
	if (rc == -ENOENT)
		snprintf(err, errlen, "not found");
	return rc;
}

/* Runs with the container lock held and a fresh host socket. */
static int destroy_locked(const char *container_id, const char *ifname, char *err, size_t errlen)
{
	struct nl_sock s;
	struct nl_link l;
	int rc = nl_sock_open(&s, err, errlen);
	if (rc < 0)
		return rc;
	rc = podnet_find_by_alias(&s, container_id, ifname, &l, err, errlen);
	if (rc == 0)
		rc = nl_link_delete(&s, l.index, err, errlen);
	/* Gone already, or deleted concurrently by the pod netns going away. */
	if (rc == -ENOENT || rc == -ENODEV)
		rc = 0;
	nl_sock_close(&s);
	return rc;
}

int podnet_destroy(struct podnet *pn, const char *container_id, const char *ifname, char *err,
		   size_t errlen)
{
	pthread_mutex_t *lock = podnet_lock_for(pn->container_locks, container_id);
	pthread_mutex_lock(lock);
	int rc = destroy_locked(container_id, ifname, err, errlen);
	pthread_mutex_unlock(lock);
	return rc;
}

int podnet_check(struct podnet *pn, const char *container_id, const char *ifname, char *err,
		 size_t errlen)
{
	struct nl_sock s;
	struct nl_link l;
	pthread_mutex_t *lock = podnet_lock_for(pn->container_locks, container_id);
	pthread_mutex_lock(lock);
	int rc = nl_sock_open(&s, err, errlen);
	if (rc == 0)
		rc = podnet_find_by_alias(&s, container_id, ifname, &l, err, errlen);
	nl_sock_close(&s);
	pthread_mutex_unlock(lock);
	return rc;
}
