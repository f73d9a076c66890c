/* Ownership aliases and host veth names. */
#include "podnet_internal.h"
#include "sha1/sha1.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

int podnet_alias_format(const char *pool, const char *container_id, const char *ifname, char *buf,
			size_t buflen)
{
	int n = snprintf(buf, buflen, PODNET_ALIAS_PREFIX ":%s:%s:%s", pool, container_id, ifname);
	if (n < 0 || (size_t)n >= buflen || (size_t)n >= NL_ALIAS_MAX)
		return -ENAMETOOLONG;
	return 0;
}

/* Copies the field [start, end) into dst; -EINVAL if it does not fit. */
static int copy_field(const char *start, const char *end, char *dst, size_t dstlen)
{
	size_t n = (size_t)(end - start);
	if (n >= dstlen)
		return -EINVAL;
	memcpy(dst, start, n);
	dst[n] = '\0';
	return 0;
}

int podnet_alias_parse(const char *alias, struct podnet_entry *out)
{
	const char *f[4], *end = alias + strlen(alias);
	size_t nf = 0;
	memset(out, 0, sizeof(*out));
	/* Exactly four fields: three separators. */
	f[nf++] = alias;
	for (const char *c = alias; *c; c++) {
		if (*c != ':')
			continue;
		if (nf == 4)
			return -EINVAL;
		f[nf++] = c + 1;
	}
	if (nf != 4 || (size_t)(f[1] - f[0] - 1) != strlen(PODNET_ALIAS_PREFIX) ||
	    strncmp(f[0], PODNET_ALIAS_PREFIX, strlen(PODNET_ALIAS_PREFIX)) != 0)
		return -EINVAL;
	if (copy_field(f[1], f[2] - 1, out->pool, sizeof(out->pool)) < 0 ||
	    copy_field(f[2], f[3] - 1, out->container_id, sizeof(out->container_id)) < 0 ||
	    copy_field(f[3], end, out->ifname, sizeof(out->ifname)) < 0)
		return -EINVAL;
	return 0;
}

int podnet_random_veth_name(char name[IF_NAMESIZE])
{
	unsigned char r[4];
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return -errno;
	snprintf(name, IF_NAMESIZE, "veth%02x%02x%02x%02x", r[0], r[1], r[2], r[3]);
	return 0;
}

/* "veth" + the first `digits` hex digits of SHA-1(key). */
static void hashed_veth_name(const char *key, size_t len, int digits, char name[IF_NAMESIZE])
{
	char hex[41];
	unsigned char d[20];
	sha1_digest(key, len, d);
	for (int i = 0; i < 20; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	snprintf(name, IF_NAMESIZE, "veth%.*s", digits, hex);
}

void podnet_calico_veth_name(const char *pod_namespace, const char *pod_name,
			     char name[IF_NAMESIZE])
{
	char key[600];
	int n = snprintf(key, sizeof(key), "%s.%s", pod_namespace, pod_name);
	hashed_veth_name(key, n < (int)sizeof(key) ? (size_t)n : sizeof(key) - 1, 11, name);
}

void podnet_attachment_veth_name(const char *container_id, const char *ifname,
				 char name[IF_NAMESIZE])
{
	char key[NL_ALIAS_MAX + IF_NAMESIZE + 2];
	int n = snprintf(key, sizeof(key), "%s:%s", container_id, ifname);
	/* Eight digits: the shape of upstream's random names. */
	hashed_veth_name(key, n < (int)sizeof(key) ? (size_t)n : sizeof(key) - 1, 8, name);
}
