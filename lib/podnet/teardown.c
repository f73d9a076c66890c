/* Destroy (DEL), check (CHECK) and the lookups behind them: the host link of an attachment
 * is found by its name with one RTM_GETLINK, and only for pods named otherwise (calico
 * names, older versions) by a dump of every link, which churn on a busy node interrupts. */
#include "podnet_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault/fault.h"

static bool alias_names(const char *alias, const char *container_id, const char *ifname)
{
	struct podnet_entry e;
	return podnet_alias_parse(alias, &e) == 0 && !strcmp(e.container_id, container_id) &&
	       !strcmp(e.ifname, ifname);
}

static int find_by_alias(struct nl_sock *hs, const char *container_id, const char *ifname,
			 struct nl_link *out, char *err, size_t errlen)
{
	struct nl_link *links;
	size_t n;
	int rc = nl_link_list(hs, &links, &n, err, errlen);
	if (rc < 0)
		return rc;
	rc = -ENOENT;
	for (size_t i = 0; i < n && rc == -ENOENT; i++) {
		if (alias_names(links[i].alias, container_id, ifname)) {
			*out = links[i];
			rc = 0;
		}
	}
	free(links);
	return rc;
}

/* The link named after the attachment, if it is the attachment's: its alias, or (with
 * half_made) a veth without alias, which only a setup killed before the alias leaves. */
static int find_by_name(struct nl_sock *hs, const char *container_id, const char *ifname,
			bool half_made, struct nl_link *out, char *err, size_t errlen)
{
	char name[IF_NAMESIZE];
	podnet_attachment_veth_name(container_id, ifname, name);
	int rc = nl_link_get_by_name(hs, name, out, err, errlen);
	if (rc == -ENODEV)
		return -ENOENT;
	if (rc < 0)
		return rc;
	if (alias_names(out->alias, container_id, ifname) ||
	    (half_made && !out->alias[0] && !strcmp(out->kind, "veth")))
		return 0;
	return -ENOENT; /* the name is another link's (a hash clash): not ours */
}

int podnet_find_host(struct nl_sock *hs, const char *container_id, const char *ifname, unsigned how,
		     struct nl_link *out, char *err, size_t errlen)
{
	int rc = -ENOENT;
	if (how & PODNET_FIND_NAME)
		rc = find_by_name(hs, container_id, ifname, how & PODNET_FIND_HALF_MADE, out, err,
				  errlen);
	if (rc == -ENOENT && (how & PODNET_FIND_ALIAS))
		rc = find_by_alias(hs, container_id, ifname, out, err, errlen);
	if (rc == -ENOENT)
		snprintf(err, errlen, "not found");
	return rc;
}

/* Runs fn on a fresh host socket with the container lock held. */
static int with_host_socket(struct podnet *pn, const char *container_id,
			    int (*fn)(struct nl_sock *s, const char *cid, const char *ifname,
				      unsigned how, char *err, size_t errlen),
			    const char *ifname, unsigned how, char *err, size_t errlen)
{
	struct nl_sock s;
	pthread_mutex_t *lock = podnet_lock_for(pn->container_locks, container_id);
	pthread_mutex_lock(lock);
	int rc = nl_sock_open(&s, err, errlen);
	if (rc == 0)
		rc = fn(&s, container_id, ifname, how, err, errlen);
	nl_sock_close(&s);
	pthread_mutex_unlock(lock);
	return rc;
}

static int destroy_found(struct nl_sock *s, const char *container_id, const char *ifname,
			 unsigned how, char *err, size_t errlen)
{
	struct nl_link l;
	int rc = podnet_find_host(s, container_id, ifname, how, &l, err, errlen);
	if (rc == 0)
		rc = nl_link_delete(s, l.index, err, errlen);
	/* Gone already, or deleted concurrently by the pod netns going away. */
	if (rc == -ENOENT || rc == -ENODEV)
		rc = 0;
	return rc;
}

static int find_only(struct nl_sock *s, const char *container_id, const char *ifname, unsigned how,
		     char *err, size_t errlen)
{
	struct nl_link l;
	return podnet_find_host(s, container_id, ifname, how, &l, err, errlen);
}

int podnet_destroy(struct podnet *pn, const char *container_id, const char *ifname, char *err,
		   size_t errlen)
{
	unsigned how = PODNET_FIND_NAME | PODNET_FIND_HALF_MADE | PODNET_FIND_ALIAS;
	return with_host_socket(pn, container_id, destroy_found, ifname, how, err, errlen);
}

int podnet_destroy_by_name(struct podnet *pn, const char *container_id, const char *ifname,
			   char *err, size_t errlen)
{
	unsigned how = PODNET_FIND_NAME | PODNET_FIND_HALF_MADE;
	return with_host_socket(pn, container_id, destroy_found, ifname, how, err, errlen);
}

int podnet_check(struct podnet *pn, const char *container_id, const char *ifname, char *err,
		 size_t errlen)
{
	unsigned how = PODNET_FIND_NAME | PODNET_FIND_ALIAS;
	return with_host_socket(pn, container_id, find_only, ifname, how, err, errlen);
}

int podnet_find_by_name(struct podnet *pn, const char *container_id, const char *ifname, char *err,
			size_t errlen)
{
	unsigned how = PODNET_FIND_NAME | PODNET_FIND_HALF_MADE;
	return with_host_socket(pn, container_id, find_only, ifname, how, err, errlen);
}

static void retired_alias(const char *container_id, const char *ifname, char alias[NL_ALIAS_MAX])
{
	snprintf(alias, NL_ALIAS_MAX, PODNET_RETIRED_PREFIX ":%s:%s", container_id, ifname);
}

int podnet_retire(struct podnet *pn, const char *container_id, const char *ifname, int *ifindex,
		  char *err, size_t errlen)
{
	unsigned how = PODNET_FIND_NAME | PODNET_FIND_HALF_MADE | PODNET_FIND_ALIAS;
	char alias[NL_ALIAS_MAX];
	struct nl_sock s;
	struct nl_link l;
	*ifindex = 0;
	retired_alias(container_id, ifname, alias);
	pthread_mutex_t *lock = podnet_lock_for(pn->container_locks, container_id);
	pthread_mutex_lock(lock);
	int rc = nl_sock_open(&s, err, errlen);
	if (rc == 0)
		rc = podnet_find_host(&s, container_id, ifname, how, &l, err, errlen);
	if (rc == 0)
		rc = nl_link_retire(&s, l.index, PODNET_REAP_GROUP, alias, err, errlen);
	if (rc == 0) {
		*ifindex = l.index;
		fault_point("del:retired");
	}
	nl_sock_close(&s);
	pthread_mutex_unlock(lock);
	/* Gone already, or deleted concurrently by the pod netns going away. */
	return rc == -ENOENT || rc == -ENODEV ? 0 : rc;
}

int podnet_reap(struct podnet *pn, char *err, size_t errlen)
{
	struct nl_sock s;
	(void)pn;
	int rc = nl_sock_open(&s, err, errlen);
	if (rc == 0)
		rc = nl_link_delete_group(&s, PODNET_REAP_GROUP, err, errlen);
	nl_sock_close(&s);
	return rc == -ENODEV ? 0 : rc;
}

int podnet_reap_one(struct podnet *pn, const char *container_id, const char *ifname, int ifindex,
		    char *err, size_t errlen)
{
	char alias[NL_ALIAS_MAX];
	struct nl_sock s;
	struct nl_link l;
	(void)pn;
	retired_alias(container_id, ifname, alias);
	int rc = nl_sock_open(&s, err, errlen);
	if (rc == 0)
		rc = nl_link_get_by_index(&s, ifindex, &l, err, errlen);
	/* An index is reused only after the kernel's counter wraps; the alias makes sure. */
	if (rc == 0 && strcmp(l.alias, alias) == 0)
		rc = nl_link_delete(&s, ifindex, err, errlen);
	nl_sock_close(&s);
	return rc == -ENODEV ? 0 : rc;
}
