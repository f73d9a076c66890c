/* Pure plans: what Init and AddPeer must make the kernel hold. */
#include "founat/founat.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "err/err.h"

/* Sysctl paths of Init, NULL-terminated. */
static const char *const rp_filter_default[] = {"net",	   "ipv4",	"conf",
						"default", "rp_filter", NULL};
static const char *const rp_filter_all[] = {"net", "ipv4", "conf", "all", "rp_filter", NULL};
static const char *const ip_forward[] = {"net", "ipv4", "ip_forward", NULL};
static const char *const ip6_forwarding[] = {"net", "ipv6", "conf", "all", "forwarding", NULL};

static void add_sysctl(struct founat_init_plan *p, const char *const *parts, const char *value)
{
	struct founat_sysctl *s = &p->sysctls[p->nsysctls++];
	for (s->nparts = 0; parts[s->nparts]; s->nparts++)
		s->parts[s->nparts] = parts[s->nparts];
	s->value = value;
}

int founat_plan_init(const struct founat_config *c, struct founat_init_plan *out, char *err,
		     size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (c->port == 0)
		return errorf(err, errlen, -EINVAL, "FoU port must be 1..65535");
	if (c->local4.family != AF_INET && c->local6.family != AF_INET6)
		return errorf(err, errlen, -EINVAL, "FoU needs a local IPv4 or IPv6 address");
	if (c->local4.family == AF_INET) {
		out->listeners[out->nlisteners++] =
		    (struct founat_listener){.family = AF_INET,
					     .ipproto = FOUNAT_IPPROTO_IPIP,
					     .port = c->port,
					     .module = "fou"};
		/* Return packets reach the client on the collect-metadata device, not on the
		 * interface the reverse route names: strict rp_filter would drop them. */
		add_sysctl(out, rp_filter_default, "0");
		add_sysctl(out, rp_filter_all, "0");
		add_sysctl(out, ip_forward, "1");
	}
	if (c->local6.family == AF_INET6) {
		out->listeners[out->nlisteners++] =
		    (struct founat_listener){.family = AF_INET6,
					     .ipproto = FOUNAT_IPPROTO_IPV6,
					     .port = c->port,
					     .module = "fou6"};
		add_sysctl(out, ip6_forwarding, "1");
	}
	return 0;
}

int founat_plan_tunnel(const struct founat_config *c, const struct nl_ip *peer, bool sport_auto,
		       struct founat_tunnel *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	struct nl_ip ip = founat_ip_normalize(peer);
	const struct nl_ip *local = ip.family == AF_INET ? &c->local4 : &c->local6;
	if (ip.family != AF_INET && ip.family != AF_INET6)
		return errorf(err, errlen, -EINVAL, "peer address has no family");
	if (local->family != ip.family)
		return errorf(err, errlen, FOUNAT_EFAMILY, "no matching IP family");
	founat_link_name(&ip, out->name, sizeof(out->name));
	bool v4 = ip.family == AF_INET;
	out->family = ip.family;
	out->kind = v4 ? "ipip" : "ip6tnl";
	out->local = *local;
	out->remote = ip;
	out->ttl = FOUNAT_TTL;
	out->sport = sport_auto ? 0 : c->port;
	out->dport = c->port;
	out->fallback = v4 ? FOUNAT_FALLBACK4 : FOUNAT_FALLBACK6;
	out->kernel_fallback = v4 ? FOUNAT_KERNEL_FB4 : FOUNAT_KERNEL_FB6;
	out->renamed_fallback = v4 ? FOUNAT_RENAMED_FB4 : FOUNAT_RENAMED_FB6;
	return 0;
}

enum founat_step founat_plan_peer_step(const struct founat_tunnel *want,
				       const struct nl_iptun_info *have)
{
	if (!have)
		return FOUNAT_STEP_CREATE;
	if (strcmp(have->link.kind, want->kind) != 0)
		return FOUNAT_STEP_CONFLICT;
	return have->encap_sport == want->sport ? FOUNAT_STEP_KEEP : FOUNAT_STEP_RECREATE;
}
