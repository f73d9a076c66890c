/* Listen addresses in Go's net.Listen form, as --webhook-addr takes them. */
#include "http/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static int set_v4(struct sockaddr_storage *ss, const char *host, long port)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	v4->sin_family = AF_INET;
	v4->sin_port = htons((uint16_t)port);
	if (strcmp(host, "localhost") == 0) {
		v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return 0;
	}
	return inet_pton(AF_INET, host, &v4->sin_addr) == 1 ? 0 : -EINVAL;
}

int http_listen_addr_parse(const char *addr, struct sockaddr_storage *ss, int *any)
{
	const char *colon = strrchr(addr, ':');
	if (!colon)
		return -EINVAL;
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (end == colon + 1 || *end || port < 0 || port > 65535)
		return -EINVAL;
	char host[INET6_ADDRSTRLEN + 2];
	size_t hlen = (size_t)(colon - addr);
	if (hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, addr, hlen);
	host[hlen] = '\0';
	memset(ss, 0, sizeof(*ss));
	*any = hlen == 0;
	if (*any)
		return set_v4(ss, "0.0.0.0", port);
	if (hlen > 2 && host[0] == '[' && host[hlen - 1] == ']') {
		struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
		host[hlen - 1] = '\0';
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		return inet_pton(AF_INET6, host + 1, &v6->sin6_addr) == 1 ? 0 : -EINVAL;
	}
	return set_v4(ss, host, port);
}
