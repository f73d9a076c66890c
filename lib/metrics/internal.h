/* Shared inside lib/metrics only. */
#ifndef COIL_METRICS_INTERNAL_H
#define COIL_METRICS_INTERNAL_H

#include <stdbool.h>
#include <stdio.h>

/* Writes the process_* families (read from /proc now) to out. */
void metrics_render_process(FILE *out);

#endif
