/* The netns of a running pod, found from its host veth: the veth's peer netns id, matched
 * against the id this netns gives each named netns under /var/run/netns (where containerd
 * and CRI-O bind-mount pod netns). A pod whose netns has no name there cannot be found. */
#include "podnet/podnet_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "err/err.h"

#define NETNS_DIR "/var/run/netns"

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
	DIR *dir = ret == 0 ? opendir(NETNS_DIR) : NULL;
	if (ret == 0 && !dir)
		ret = errorf(err, errlen, -errno, "open %s: %s", NETNS_DIR, strerror(errno));
	bool found = false;
	for (struct dirent *e; dir && !found && (e = readdir(dir));) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, len, "%s/%s", NETNS_DIR, e->d_name);
		found = has_id(&s, path, link.peer_netnsid);
	}
	if (dir)
		closedir(dir);
	nl_sock_close(&s);
	if (ret == 0 && !found)
		ret = errorf(err, errlen, -ENOENT, "no netns under %s is the peer of %s", NETNS_DIR,
			     link.name);
	return ret;
}
