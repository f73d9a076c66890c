/* The report: JSON (--json) and its rendering for humans. */
#include "doctor/internal.h"

#include <string.h>

static json_t *blocks_json(const struct doctor_view *v)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < v->n_blocks; i++) {
		const struct node_block *b = &v->blocks[i];
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s}", "name", b->name, "pool",
						   b->pool, "ipv4", b->ipv4, "ipv6", b->ipv6));
	}
	return a;
}

static json_t *records_json(const struct doctor_view *v)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < v->n_records; i++) {
		const struct node_ipam_record *r = &v->records[i];
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "container_id",
						   r->container_id, "ifname", r->ifname, "pool",
						   r->pool, "block", r->block, "ipv4", r->ipv4,
						   "ipv6", r->ipv6));
	}
	return a;
}

static json_t *veths_json(const struct doctor_view *v)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < v->n_veths; i++) {
		const struct doctor_veth *d = &v->veths[i];
		json_array_append_new(a,
				      json_pack("{s:s, s:s, s:s, s:s}", "name", d->link.name,
						"pool", d->owner.pool, "container_id",
						d->owner.container_id, "ifname", d->owner.ifname));
	}
	return a;
}

static json_t *problems_json(const struct doctor_view *v)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < v->n_problems; i++)
		json_array_append_new(a, json_pack("{s:s, s:s}", "kind", v->problems[i].kind,
						   "message", v->problems[i].message));
	return a;
}

json_t *doctor_report_json(const struct doctor_view *v)
{
	return json_pack("{s:s, s:s, s:O, s:o*, s:o*, s:o*, s:o*, s:b}", "node", v->cfg->node,
			 "blocks_from", v->blocks_from, "notes", v->notes, "blocks", blocks_json(v),
			 "records", records_json(v), "veths", veths_json(v), "problems",
			 problems_json(v), "healthy", v->n_problems == 0);
}

void doctor_print(const json_t *report, FILE *out)
{
	const json_t *problems = json_object_get(report, "problems");
	size_t i;
	json_t *item;
	fprintf(out, "node %s: %zu blocks (from %s), %zu records, %zu pod veths\n",
		json_string_value(json_object_get(report, "node")),
		json_array_size(json_object_get(report, "blocks")),
		strcmp(json_string_value(json_object_get(report, "blocks_from")), "api") == 0
		    ? "the API"
		    : "blocks.json",
		json_array_size(json_object_get(report, "records")),
		json_array_size(json_object_get(report, "veths")));
	json_array_foreach(json_object_get(report, "notes"), i, item)
	    fprintf(out, "note: %s\n", json_string_value(item));
	json_array_foreach(problems, i, item)
	    fprintf(out, "PROBLEM %s: %s\n", json_string_value(json_object_get(item, "kind")),
		    json_string_value(json_object_get(item, "message")));
	if (json_array_size(problems) == 0)
		fprintf(out, "healthy: blocks, records and kernel agree\n");
	else
		fprintf(out, "%zu problem(s) found\n", json_array_size(problems));
}
