/* The three views doctor compares, and the list of problems it finds. */
#ifndef COIL_DOCTOR_INTERNAL_H
#define COIL_DOCTOR_INTERNAL_H

#include "doctor/doctor.h"
#include "nl/nl.h"
#include "nodeipam/blocksource.h"
#include "nodeipam/nodeipam.h"
#include "podnet/podnet.h"

/* A host link whose alias is COIL:<pool>:<container>:<ifname>. */
struct doctor_veth {
	struct nl_link link;
	struct podnet_entry owner;     /* pool, container_id, ifname (addresses unused) */
	bool has_node_v4, has_node_v6; /* a global address of that family on the link */
};

struct doctor_problem {
	char kind[40];	   /* e.g. "record-without-veth" */
	char message[600]; /* a sentence naming the objects */
};

/* Every array is malloc'd and owned by the view (doctor_view_free). */
struct doctor_view {
	const struct doctor_config *cfg;
	const char *blocks_from;   /* "api" or "state" (the report's blocks_from) */
	const char *blocks_origin; /* the same for sentences */
	struct node_block *blocks;
	size_t n_blocks;
	struct node_ipam_record *records;
	size_t n_records;
	struct doctor_veth *veths;
	size_t n_veths;
	struct nl_route *pod_routes; /* table cfg->pod_table, both families */
	size_t n_pod_routes;
	struct nl_route *exports; /* table cfg->export_table, both families */
	size_t n_exports;
	struct nl_rule *rules; /* IPv4 then IPv6 */
	size_t n_rules;
	json_t *notes; /* array of strings */
	struct doctor_problem *problems;
	size_t n_problems, cap_problems;
};

void doctor_view_free(struct doctor_view *v);

/* Adds a problem (printf-style message); out of memory drops it with a note on stderr. */
void doctor_problem(struct doctor_view *v, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* state.c: the records, and (no API) blocks.json. doctor_parse_record reads one record's
 * JSON (lib/nodeipam's format): 0, or -EINVAL when it is not an object with string
 * container_id, ifname, block, ipv4 and ipv6 members that fit (pool is optional). */
int doctor_parse_record(const char *text, size_t len, struct node_ipam_record *out);
int doctor_read_records(struct doctor_view *v, char *err, size_t errlen);
int doctor_read_state_blocks(struct doctor_view *v, char *err, size_t errlen);

/* api.c: the AddressBlocks labelled with the node. */
int doctor_read_api_blocks(struct doctor_view *v, char *err, size_t errlen);

/* kernel.c: links, routes, rules, addresses. */
int doctor_read_kernel(struct doctor_view *v, char *err, size_t errlen);

/* checks.c: compares the views, filling v->problems. */
void doctor_check(struct doctor_view *v);

/* report.c: the JSON report of a checked view (new reference, NULL when out of memory). */
json_t *doctor_report_json(const struct doctor_view *v);

#endif
