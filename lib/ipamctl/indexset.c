/* Sorted-array index set with lowest-free lookup (blocks are carved lowest index first). */
#include "indexset.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void ipamctl_index_set_free(struct ipamctl_index_set *set)
{
	free(set->items);
	*set = (struct ipamctl_index_set){0};
}

void ipamctl_index_set_clear(struct ipamctl_index_set *set)
{
	set->len = 0;
}

/* The position of the first item >= index. */
static size_t lower_bound(const struct ipamctl_index_set *set, uint32_t index)
{
	size_t lo = 0, hi = set->len;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (set->items[mid] < index)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool ipamctl_index_set_contains(const struct ipamctl_index_set *set, uint32_t index)
{
	size_t pos = lower_bound(set, index);
	return pos < set->len && set->items[pos] == index;
}

int ipamctl_index_set_add(struct ipamctl_index_set *set, uint32_t index)
{
	size_t pos = lower_bound(set, index);
	if (pos < set->len && set->items[pos] == index)
		return 0;
	if (set->len == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 16;
		uint32_t *items = realloc(set->items, cap * sizeof(*items));
		if (!items)
			return -ENOMEM;
		set->items = items;
		set->cap = cap;
	}
	memmove(&set->items[pos + 1], &set->items[pos], (set->len - pos) * sizeof(*set->items));
	set->items[pos] = index;
	set->len++;
	return 0;
}

/* Items are distinct and ascending, so items[i] == i holds exactly for the prefix 0..k-1 of
 * used indices; the first position where it fails is the lowest free index. */
uint64_t ipamctl_index_set_lowest_free(const struct ipamctl_index_set *set)
{
	size_t lo = 0, hi = set->len;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (set->items[mid] == mid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}
