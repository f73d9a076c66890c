/* A small Prometheus registry: counters and gauges with labels, rendered in the text
 * exposition format (version 0.0.4). Thread-safe; meant for tens of series, not thousands. */
#ifndef COIL_METRICS_H
#define COIL_METRICS_H

enum metric_type { METRIC_COUNTER, METRIC_GAUGE };

struct metrics;

struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);

/* Declares a family; series of undeclared families are refused. Returns 0 or -errno. */
int metrics_declare(struct metrics *m, const char *name, enum metric_type type, const char *help);

/* `labels` is the label set without braces, already escaped, in a fixed order:
 *   grpc_method="Add",grpc_code="OK"       ("" for none). The series is created at 0. */
int metrics_add(struct metrics *m, const char *name, const char *labels, double delta);
int metrics_set(struct metrics *m, const char *name, const char *labels, double value);
int metrics_delete(struct metrics *m, const char *name, const char *labels);

/* The whole registry as exposition text; malloc'd, caller frees. NULL on ENOMEM. */
char *metrics_render(struct metrics *m);

#endif
