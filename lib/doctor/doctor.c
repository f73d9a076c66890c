/* The audit: read the three views, compare them, report. */
#include "doctor/internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void doctor_problem(struct doctor_view *v, const char *kind, const char *fmt, ...)
{
	if (v->n_problems == v->cap_problems) {
		size_t cap = v->cap_problems ? 2 * v->cap_problems : 16;
		struct doctor_problem *more = realloc(v->problems, cap * sizeof(*more));
		if (!more) {
			fprintf(stderr, "coil doctor: out of memory; a %s problem is not listed\n",
				kind);
			return;
		}
		v->problems = more;
		v->cap_problems = cap;
	}
	struct doctor_problem *p = &v->problems[v->n_problems++];
	snprintf(p->kind, sizeof(p->kind), "%s", kind);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->message, sizeof(p->message), fmt, ap);
	va_end(ap);
}

void doctor_view_free(struct doctor_view *v)
{
	free(v->blocks);
	free(v->records);
	free(v->veths);
	free(v->pod_routes);
	free(v->exports);
	free(v->rules);
	free(v->problems);
	json_decref(v->notes);
	memset(v, 0, sizeof(*v));
}

static int read_blocks(struct doctor_view *v, char *err, size_t errlen)
{
	if (v->cfg->kube) {
		v->blocks_from = "api";
		v->blocks_origin = "the API's AddressBlocks";
		return doctor_read_api_blocks(v, err, errlen);
	}
	v->blocks_from = "state";
	v->blocks_origin = "blocks.json";
	json_array_append_new(
	    v->notes, json_sprintf("no Kubernetes API configured: blocks are read from "
				   "%s/blocks.json (standalone) and the API check is skipped",
				   v->cfg->state_dir));
	return doctor_read_state_blocks(v, err, errlen);
}

int doctor_run(const struct doctor_config *cfg, json_t **report, char *err, size_t errlen)
{
	struct doctor_view v = {.cfg = cfg, .notes = json_array()};
	if (!v.notes) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	int rc = read_blocks(&v, err, errlen);
	if (rc == 0)
		rc = doctor_read_records(&v, err, errlen);
	if (rc == 0)
		rc = doctor_read_kernel(&v, err, errlen);
	if (rc == 0) {
		doctor_check(&v);
		*report = doctor_report_json(&v);
		if (!*report) {
			snprintf(err, errlen, "out of memory");
			rc = -ENOMEM;
		}
	}
	doctor_view_free(&v);
	return rc;
}
