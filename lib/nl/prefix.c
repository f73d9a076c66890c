/* IP addresses and prefixes as plain values: parse, format, compare, mask. */
#include "nl/nl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

size_t nl_family_addrlen(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

int nl_ip_parse(const char *text, struct nl_ip *out)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, text, out->bytes) == 1)
		out->family = AF_INET;
	else if (inet_pton(AF_INET6, text, out->bytes) == 1)
		out->family = AF_INET6;
	else
		return -EINVAL;
	return 0;
}

int nl_prefix_parse(const char *text, struct nl_prefix *out)
{
	char addr[NL_IP_STRLEN];
	const char *slash = strchr(text, '/');
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	memset(out, 0, sizeof(*out));
	if (alen == 0 || alen >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, text, alen);
	addr[alen] = '\0';
	if (nl_ip_parse(addr, &out->ip) < 0)
		return -EINVAL;
	unsigned max = (unsigned)nl_family_addrlen(out->ip.family) * 8;
	out->len = (unsigned char)max;
	if (!slash)
		return 0;
	const char *digits = slash + 1;
	char *end;
	if (*digits < '0' || *digits > '9' || strlen(digits) > 3)
		return -EINVAL;
	unsigned long len = strtoul(digits, &end, 10);
	if (*end || len > max)
		return -EINVAL;
	out->len = (unsigned char)len;
	return 0;
}

const char *nl_ip_format(const struct nl_ip *ip, char *buf, size_t buflen)
{
	if (buflen == 0)
		return buf;
	buf[0] = '\0';
	if (ip->family == AF_INET || ip->family == AF_INET6)
		inet_ntop(ip->family, ip->bytes, buf, (socklen_t)buflen);
	return buf;
}

const char *nl_prefix_format(const struct nl_prefix *p, char *buf, size_t buflen)
{
	char addr[NL_IP_STRLEN];
	snprintf(buf, buflen, "%s/%u", nl_ip_format(&p->ip, addr, sizeof(addr)), p->len);
	return buf;
}

void nl_prefix_mask(struct nl_prefix *p)
{
	size_t n = nl_family_addrlen(p->ip.family);
	for (size_t i = 0; i < n; i++) {
		unsigned bit = (unsigned)i * 8;
		if (bit >= p->len)
			p->ip.bytes[i] = 0;
		else if (bit + 8 > p->len)
			p->ip.bytes[i] &= (unsigned char)(0xff << (8 - (p->len - bit)));
	}
}

bool nl_ip_equal(const struct nl_ip *a, const struct nl_ip *b)
{
	return a->family == b->family &&
	       memcmp(a->bytes, b->bytes, nl_family_addrlen(a->family)) == 0;
}

bool nl_prefix_equal(const struct nl_prefix *a, const struct nl_prefix *b)
{
	return a->len == b->len && nl_ip_equal(&a->ip, &b->ip);
}

struct nl_prefix nl_prefix_host(const struct nl_ip *ip)
{
	struct nl_prefix p = {.ip = *ip};
	p.len = (unsigned char)(nl_family_addrlen(ip->family) * 8);
	return p;
}
