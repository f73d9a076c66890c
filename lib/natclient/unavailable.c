/* Tunnel operations for a build without the FoU module: every client setup fails with a
 * clear message instead of leaving a pod without its NAT. */
#include "natclient/natclient.h"

#include <errno.h>

#include "err/err.h"

static int fail(char *err, size_t errlen)
{
	return errorf(err, errlen, -ENOSYS, "FoU tunnels are not available in this build");
}

static int init(void *ctx, struct nl_sock *s, uint16_t port, const struct nl_ip *v4,
		const struct nl_ip *v6, char *err, size_t errlen)
{
	return fail(err, errlen);
}

static int initialized(void *ctx, struct nl_sock *s, char *err, size_t errlen)
{
	return fail(err, errlen);
}

static int add_peer(void *ctx, struct nl_sock *s, uint16_t port, const struct nl_ip *v4,
		    const struct nl_ip *v6, const struct nl_ip *peer, bool sport_auto, int *ifindex,
		    char *err, size_t errlen)
{
	return fail(err, errlen);
}

const struct natclient_tunnel_ops natclient_tunnel_unavailable = {init, initialized, add_peer,
								  NULL};
