/* Latency figures of a set of timed calls. */
#ifndef COIL_BENCH_LATENCY_H
#define COIL_BENCH_LATENCY_H

#include <stddef.h>

/* Nearest-rank percentile (0 < pct <= 100) of n samples; sorts samples in
 * place. Returns 0.0 when n is 0. */
double latency_percentile(double *samples, size_t n, double pct);

#endif
