/* Tunnel link names: both ends of a tunnel and both Coil implementations compute them
 * independently and delete links by name, so the derivation is fixed. */
#include "founat/founat.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "sha1/sha1.h"

static const unsigned char v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

struct nl_ip founat_ip_normalize(const struct nl_ip *ip)
{
	struct nl_ip out = *ip;
	if (ip->family == AF_INET6 && memcmp(ip->bytes, v4_mapped_prefix, 12) == 0) {
		memset(&out, 0, sizeof(out));
		out.family = AF_INET;
		memcpy(out.bytes, ip->bytes + 12, 4);
	}
	return out;
}

int founat_link_name(const struct nl_ip *peer, char *name, size_t namelen)
{
	struct nl_ip ip = founat_ip_normalize(peer);
	const unsigned char *b = ip.bytes;
	unsigned char digest[20];
	const char *prefix = FOUNAT_PREFIX4;
	if (ip.family == AF_INET6) {
		/* 32 hex digits do not fit IFNAMSIZ; a hash prefix does. */
		sha1_digest(ip.bytes, 16, digest);
		b = digest;
		prefix = FOUNAT_PREFIX6;
	} else if (ip.family != AF_INET) {
		return -EINVAL;
	}
	int n = snprintf(name, namelen, "%s%02x%02x%02x%02x", prefix, b[0], b[1], b[2], b[3]);
	return n > 0 && (size_t)n < namelen ? 0 : -ENAMETOOLONG;
}
