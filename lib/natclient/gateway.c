/* The gateways of one Egress: its Service's ClusterIPs, each with the Egress destinations of
 * its family. */
#include "natclient/natclient.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "coilapi/coilapi.h"
#include "err/err.h"

void natclient_gateways_free(struct natclient_gateways *gws)
{
	for (size_t i = 0; i < gws->n; i++)
		free(gws->items[i].networks);
	free(gws->items);
	gws->items = NULL;
	gws->n = 0;
}

/* Destinations are kept as their network address; a network given twice (two spellings of
 * one, e.g. 10.1.2.3/24 and 10.1.2.0/24) counts once, so that its route is added once
 * (upstream adds it twice and fails the whole setup with EEXIST). */
static bool has_network(const struct nl_prefix *nets, size_t n, const struct nl_prefix *p)
{
	for (size_t i = 0; i < n; i++)
		if (nl_prefix_equal(&nets[i], p))
			return true;
	return false;
}

static int parse_destinations(const struct coilapi_egress *eg, struct nl_prefix *out, char *err,
			      size_t errlen)
{
	for (size_t i = 0; i < eg->n_destinations; i++) {
		const char *text = eg->destinations[i];
		if (!strchr(text, '/') || nl_prefix_parse(text, &out[i]) < 0)
			return errorf(err, errlen, -EINVAL, "invalid network in Egress %s/%s: %s",
				      eg->namespace, eg->name, text);
		nl_prefix_mask(&out[i]);
	}
	return 0;
}

static int add_gateway(struct natclient_gateways *gws, const struct nl_ip *address,
		       const struct nl_prefix *dests, size_t n_dests, bool sport_auto,
		       bool originating_only)
{
	struct natclient_gateway g = {
	    .address = *address, .sport_auto = sport_auto, .originating_only = originating_only};
	g.networks = calloc(n_dests, sizeof(*g.networks));
	if (!g.networks)
		return -ENOMEM;
	for (size_t i = 0; i < n_dests; i++)
		if (dests[i].ip.family == address->family &&
		    !has_network(g.networks, g.n_networks, &dests[i]))
			g.networks[g.n_networks++] = dests[i];
	if (g.n_networks == 0) { /* no destination of this family: no gateway */
		free(g.networks);
		return 0;
	}
	struct natclient_gateway *items = realloc(gws->items, (gws->n + 1) * sizeof(*items));
	if (!items) {
		free(g.networks);
		return -ENOMEM;
	}
	gws->items = items;
	items[gws->n++] = g;
	return 0;
}

static int add_cluster_ips(struct natclient_gateways *gws, const char *ns, const char *name,
			   const json_t *service, const struct nl_prefix *dests, size_t n_dests,
			   bool sport_auto, bool originating_only, char *err, size_t errlen)
{
	const json_t *ips = json_object_get(json_object_get(service, "spec"), "clusterIPs");
	size_t i;
	const json_t *item;
	json_array_foreach(ips, i, item)
	{
		const char *text = json_string_value(item);
		struct nl_ip address;
		if (!text || nl_ip_parse(text, &address) < 0)
			return errorf(err, errlen, -EINVAL,
				      "invalid ClusterIP in Service %s/%s: %s", ns, name,
				      text ? text : "(not a string)");
		if (add_gateway(gws, &address, dests, n_dests, sport_auto, originating_only) < 0)
			return errorf(err, errlen, -ENOMEM,
				      "gateways of Egress %s/%s: out of memory", ns, name);
	}
	return 0;
}

int natclient_gateways_add(struct natclient_gateways *gws, const char *ns, const char *name,
			   const json_t *egress, const json_t *service, bool originating_only,
			   char *err, size_t errlen)
{
	struct coilapi_egress eg;
	char why[256];
	if (coilapi_egress_decode(egress, &eg, why, sizeof(why)) < 0)
		return errorf(err, errlen, -EINVAL, "invalid network in Egress %s/%s: %s", ns, name,
			      why);
	eg.namespace = ns;
	eg.name = name;
	struct nl_prefix *dests = calloc(eg.n_destinations + 1, sizeof(*dests));
	int ret = dests ? parse_destinations(&eg, dests, err, errlen)
			: errorf(err, errlen, -ENOMEM, "Egress %s/%s: out of memory", ns, name);
	if (ret == 0)
		ret = add_cluster_ips(gws, ns, name, service, dests, eg.n_destinations,
				      eg.fou_source_port_auto, originating_only, err, errlen);
	free(dests);
	coilapi_egress_clear(&eg);
	return ret;
}
