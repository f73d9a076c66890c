/* Fuzzes the address/CIDR parser: whatever parses must print canonically and
 * reparse to the same value and the same text; the subnet-set and block
 * code built on the parser must not crash on the same input. */
#include "ipam/ipam.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_addr(const char *text)
{
	struct ip_addr addr, again;
	char printed[IP_ADDR_STRLEN], reprinted[IP_ADDR_STRLEN];
	if (ip_addr_parse(text, &addr) < 0)
		return;
	ip_addr_format(&addr, printed);
	if (ip_addr_parse(printed, &again) < 0 || !ip_addr_equal(&addr, &again))
		abort();
	ip_addr_format(&again, reprinted);
	if (strcmp(printed, reprinted) != 0)
		abort();
}

static void check_prefix(const char *text)
{
	struct ip_prefix prefix, again;
	char printed[IP_CIDR_STRLEN], reprinted[IP_CIDR_STRLEN];
	if (ip_prefix_parse(text, true, &prefix) < 0)
		return;
	ip_prefix_format(&prefix, printed);
	/* The canonical text has no host bits, so the strict parse accepts it. */
	if (ip_prefix_parse(printed, false, &again) < 0 || again.len != prefix.len ||
	    !ip_addr_equal(&again.addr, &prefix.addr))
		abort();
	ip_prefix_format(&again, reprinted);
	if (strcmp(printed, reprinted) != 0)
		abort();
}

static void exercise_subnet(const char *text, int block_bits)
{
	char err[128];
	struct subnet_set sets[2] = {{text, NULL}, {NULL, text}};
	for (int i = 0; i < 2; i++) {
		uint64_t capacity = 1;
		struct ipam_block_cidrs cidrs;
		subnet_set_validate(&sets[i], block_bits, err, sizeof(err));
		if (subnet_set_capacity(&sets[i], block_bits, &capacity) == 0 &&
		    (capacity == 0 || capacity > IPAM_MAX_BLOCKS))
			abort();
		subnet_set_get_block(&sets[i], capacity - 1, block_bits, &cidrs);
	}
	struct block_alloc *alloc;
	if (block_alloc_new(text, NULL, &alloc, err, sizeof(err)) == 0) {
		block_alloc_allocate(alloc, NULL, NULL);
		block_alloc_destroy(alloc);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0 || size > 256)
		return 0;
	/* First byte picks the block size bits, the rest is the text. */
	int block_bits = data[0] % 130;
	char *text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	check_addr(text);
	check_prefix(text);
	exercise_subnet(text, block_bits);
	free(text);
	return 0;
}
