#include "latency.h"

#include <math.h>
#include <stdlib.h>

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double latency_percentile(double *samples, size_t n, double pct)
{
	size_t rank;

	if (n == 0)
		return 0.0;
	qsort(samples, n, sizeof(*samples), compare_doubles);
	/* Nearest rank: the smallest sample with at least pct% of samples <= it. */
	rank = (size_t)ceil(pct / 100.0 * (double)n);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return samples[rank - 1];
}
