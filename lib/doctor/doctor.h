/* coil doctor (docs/applets/doctor.md): a read-only audit of one node. It compares three
 * views: the blocks the node owns (AddressBlocks labelled with the node in the API, or, with
 * no API, the standalone daemon's <state_dir>/blocks.json), the daemon's allocation records
 * (<state_dir>/allocations/), and the kernel (host veths with a COIL alias and their
 * addresses, the pod table's routes, the pod-table rules, the export table). It takes no
 * lock and changes nothing, so it may run beside a working daemon; a change made while it
 * reads may show as a passing inconsistency (run it again). */
#ifndef COIL_DOCTOR_H
#define COIL_DOCTOR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kube/kube.h"

struct doctor_config {
	const char *node;		/* the node's name (the AddressBlocks' node label) */
	const char *state_dir;		/* the daemon's --state-dir */
	const struct kube_config *kube; /* NULL: no API; blocks come from blocks.json */
	uint32_t pod_table;		/* --pod-table-id (116) */
	uint32_t export_table;		/* --export-table-id (119) */
	uint32_t rule_priority;		/* --pod-rule-prio (2000) */
	unsigned char protocol;		/* --protocol-id (30) */
};

/* Runs the audit in the calling thread's netns. *report (caller frees with json_decref):
 * {"node", "blocks_from", "notes": [text], "blocks": [...], "records": [...],
 *  "veths": [...], "problems": [{"kind", "message"}], "healthy": bool}.
 * Returns 0 when the audit ran (problems or not), or -errno with err filled when a view
 * could not be read at all (the API unreachable, a state file unreadable, netlink). */
int doctor_run(const struct doctor_config *cfg, json_t **report, char *err, size_t errlen);

/* Prints the report for humans: what was read, then one line per problem. */
void doctor_print(const json_t *report, FILE *out);

#endif
