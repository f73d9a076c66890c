/* The netns of a running pod, found from its host veth: the veth's peer netns id, matched
 * against the id this netns gives each named netns under /run/netns or /var/run/netns (where
 * containerd, CRI-O and `ip netns` bind-mount them; the same directory where /var/run links
 * to /run, two where it does not). A pod whose netns has no name there cannot be found. */
#include "podnet/podnet_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "err/err.h"

static const char *const netns_dirs[] = {"/run/netns", "/var/run/netns"};

/* Whether the named netns path has id nsid here. */
static bool has_id(struct nl_sock *s, const char *path, int32_t nsid)
{
	int fd = -1;
	int32_t id;
	char err[256];
	if (nl_netns_open(path, &fd, err, sizeof(err)) < 0)
		return false;
	bool match = nl_netns_id(s, fd, &id, err, sizeof(err)) == 0 && id == nsid;
	close(fd);
	return match;
}

/* The named netns of dir whose id is nsid into path; false when none is. */
static bool find_in(struct nl_sock *s, const char *dir, int32_t nsid, char *path, size_t len)
{
	DIR *d = opendir(dir);
	bool found = false;
	for (struct dirent *e; d && !found && (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, len, "%s/%s", dir, e->d_name);
		found = has_id(s, path, nsid);
	}
	if (d)
		closedir(d);
	return found;
}

int podnet_netns_path(struct podnet *pn, int host_ifindex, char *path, size_t len, char *err,
		      size_t errlen)
{
	struct nl_sock s = {0};
	struct nl_link link;
	int ret = nl_sock_open(&s, err, errlen);
	if (ret == 0)
		ret = nl_link_get_by_index(&s, host_ifindex, &link, err, errlen);
	if (ret == 0 && !link.peer_in_other_netns)
		ret = errorf(err, errlen, -ENOENT, "host veth #%d has no peer netns", host_ifindex);
	bool found = false;
	for (size_t i = 0; ret == 0 && !found && i < 2; i++)
		found = find_in(&s, netns_dirs[i], link.peer_netnsid, path, len);
	nl_sock_close(&s);
	if (ret == 0 && !found)
		ret = errorf(
		    err, errlen, -ENOENT,
		    "no netns under /run/netns or /var/run/netns is the peer of %s (nsid %d)",
		    link.name, (int)link.peer_netnsid);
	return ret;
}
