/* Reading the facts the watcher needs from a Pod object (outside input: fuzzed). */
#include "egress/egress.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "coilapi/coilapi.h"
#include "err/err.h"

static const char *str_at(const json_t *obj, const char *a, const char *b)
{
	const json_t *v = json_object_get(json_object_get(obj, a), b);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The annotation value is a comma-separated list of names, compared exactly (no trimming:
 * "a, b" names "a" and " b"). */
static bool list_has(const char *list, const char *name)
{
	size_t want = strlen(name);
	for (const char *p = list;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		if (n == want && memcmp(p, name, n) == 0)
			return true;
		if (!comma)
			return false;
		p = comma + 1;
	}
}

static bool wants_egress(const json_t *pod, const char *egress_ns, const char *egress_name)
{
	char key[256];
	snprintf(key, sizeof(key), "%s%s", COILAPI_EGRESS_ANNOTATION_PREFIX, egress_ns);
	const char *v = str_at(json_object_get(pod, "metadata"), "annotations", key);
	return v && list_has(v, egress_name);
}

static void read_ips(const json_t *pod, struct egress_pod *out)
{
	const json_t *ips = json_object_get(json_object_get(pod, "status"), "podIPs");
	size_t i;
	const json_t *item;
	json_array_foreach(ips, i, item)
	{
		const json_t *ip = json_object_get(item, "ip");
		struct nl_ip parsed;
		if (out->nips == EGRESS_POD_MAX_IPS || !json_is_string(ip) ||
		    nl_ip_parse(json_string_value(ip), &parsed) < 0)
			continue;
		out->ips[out->nips++] = founat_ip_normalize(&parsed);
	}
}

int egress_pod_decode(const json_t *pod, const char *egress_ns, const char *egress_name,
		      struct egress_pod *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	const char *ns = str_at(pod, "metadata", "namespace");
	const char *name = str_at(pod, "metadata", "name");
	if (!name || !*name)
		return errorf(err, errlen, -EINVAL, "not a Pod: no metadata.name");
	if (!ns)
		ns = "";
	if (strlen(ns) >= sizeof(out->ns) || strlen(name) >= sizeof(out->name))
		return errorf(err, errlen, -EINVAL, "Pod name too long");
	snprintf(out->ns, sizeof(out->ns), "%s", ns);
	snprintf(out->name, sizeof(out->name), "%s", name);
	snprintf(out->key, sizeof(out->key), "%s/%s", ns, name);
	out->host_network =
	    json_is_true(json_object_get(json_object_get(pod, "spec"), "hostNetwork"));
	const char *phase = str_at(pod, "status", "phase");
	out->terminated = phase && (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed"));
	out->wants = wants_egress(pod, egress_ns, egress_name);
	read_ips(pod, out);
	return 0;
}

bool egress_pod_is_client(const struct egress_pod *pod)
{
	return pod->wants && !pod->host_network && !pod->terminated;
}
