/* Renderings of the decoded structs: every field, "-" for an absent text. */
#include "render.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T(s) ((s) ? (s) : "-")

/* Appends to out; the tests keep renderings far below the buffer size. */
__attribute__((format(printf, 3, 4))) static void add(char *out, size_t len, const char *fmt, ...)
{
	size_t used = strlen(out);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out + used, len - used, fmt, ap);
	va_end(ap);
}

static void add_json(char *out, size_t len, const char *label, const json_t *value)
{
	char *text = value ? json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	add(out, len, " %s=%s", label, text ? text : "-");
	free(text);
}

static int run_pool(const json_t *obj, char *out, size_t len, json_t **enc, char *err,
		    size_t errlen)
{
	struct coilapi_pool p;
	int ret = coilapi_pool_decode(obj, &p, err, errlen);
	if (ret)
		return ret;
	out[0] = '\0';
	add(out, len, "%s spec=%d bits=%d [", p.name, p.has_spec, p.block_bits);
	for (size_t i = 0; i < p.n_subnets; i++)
		add(out, len, "%s%s|%s", i ? "," : "", T(p.subnets[i].ipv4), T(p.subnets[i].ipv6));
	add(out, len, "]");
	if (enc)
		*enc = coilapi_pool_encode(&p);
	coilapi_pool_clear(&p);
	return 0;
}

static int run_block(const json_t *obj, char *out, size_t len, json_t **enc, char *err,
		     size_t errlen)
{
	struct coilapi_block b;
	int ret = coilapi_block_decode(obj, &b, err, errlen);
	if (ret)
		return ret;
	out[0] = '\0';
	add(out, len, "%s #%u %s|%s pool=%s node=%s request=%s reserved=%d", b.name, b.index,
	    T(b.ipv4), T(b.ipv6), T(b.pool), T(b.node), T(b.request), b.reserved);
	if (enc)
		*enc = coilapi_block_encode(&b);
	return 0;
}

static int run_request(const json_t *obj, char *out, size_t len, json_t **enc, char *err,
		       size_t errlen)
{
	struct coilapi_request r;
	const struct coilapi_condition *failed;
	int ret = coilapi_request_decode(obj, &r, err, errlen);
	if (ret)
		return ret;
	out[0] = '\0';
	add(out, len, "%s uid=%s spec=%d %s/%s block=%s [", r.name, r.uid, r.has_spec,
	    T(r.node_name), T(r.pool_name), T(r.block_name));
	for (size_t i = 0; i < r.n_conditions; i++) {
		const struct coilapi_condition *c = &r.conditions[i];
		add(out, len, "%s%s=%s %s/%s %s/%s", i ? "," : "", c->type, c->status, T(c->reason),
		    T(c->message), T(c->last_probe_time), T(c->last_transition_time));
	}
	static const char *const states[] = {"in progress", "complete", "failed"};
	enum coilapi_request_state state = coilapi_request_state(&r, &failed);
	add(out, len, "] %s", states[state]);
	if (failed)
		add(out, len, " (%s)", T(failed->reason));
	if (enc)
		*enc = coilapi_request_encode(&r);
	coilapi_request_clear(&r);
	return 0;
}

static int run_egress(const json_t *obj, char *out, size_t len, json_t **enc, char *err,
		      size_t errlen)
{
	struct coilapi_egress e;
	int ret = coilapi_egress_decode(obj, &e, err, errlen);
	if (ret)
		return ret;
	out[0] = '\0';
	add(out, len, "%s/%s spec=%d [", e.namespace, e.name, e.has_spec);
	for (size_t i = 0; i < e.n_destinations; i++)
		add(out, len, "%s%s", i ? "," : "", e.destinations[i]);
	add(out, len, "] replicas=%d affinity=%s fou=%d", (int)e.replicas, e.session_affinity,
	    e.fou_source_port_auto);
	add_json(out, len, "strategy", e.strategy);
	add_json(out, len, "template", e.template);
	add_json(out, len, "affinityConfig", e.session_affinity_config);
	add_json(out, len, "pdb", e.pod_disruption_budget);
	add(out, len, " status=%d/%s", (int)e.status_replicas, T(e.status_selector));
	if (enc)
		*enc = coilapi_egress_encode(&e);
	coilapi_egress_clear(&e);
	return 0;
}

static const struct codec codecs[] = {
    {"AddressPool", run_pool},
    {"AddressBlock", run_block},
    {"BlockRequest", run_request},
    {"Egress", run_egress},
};

const struct codec *codec_find(const char *kind)
{
	for (size_t i = 0; i < sizeof(codecs) / sizeof(codecs[0]); i++) {
		if (strcmp(codecs[i].kind, kind) == 0)
			return &codecs[i];
	}
	return NULL;
}
