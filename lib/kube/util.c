/* Small shared helpers: clocks, backoff. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>

long kube_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A per-thread generator keeps the jitter free of locks and of rand()'s shared state. */
static uint64_t jitter_random(void)
{
	static _Thread_local uint64_t state;
	if (state == 0) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		state = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)(uintptr_t)&state ^
			((uint64_t)ts.tv_sec | 1);
	}
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return state;
}

long kube_backoff_ms(int attempt, long base_ms, long max_ms)
{
	long delay = base_ms;
	for (int i = 0; i < attempt && delay < max_ms; i++)
		delay *= 2;
	if (delay > max_ms)
		delay = max_ms;
	if (delay < 2)
		return delay;
	long half = delay / 2;
	return half + (long)(jitter_random() % (uint64_t)(delay - half + 1));
}
