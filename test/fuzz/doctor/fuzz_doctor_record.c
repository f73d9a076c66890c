/* Fuzzes coil doctor's reader of allocation records (files of the state directory): any
 * input parses or is refused, and what parses has NUL-terminated fields of bounded length. */
#include "doctor/internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct node_ipam_record r;
	if (doctor_parse_record((const char *)data, size, &r) < 0)
		return 0;
	if (strnlen(r.container_id, sizeof(r.container_id)) == sizeof(r.container_id) ||
	    strnlen(r.ifname, sizeof(r.ifname)) == sizeof(r.ifname) ||
	    strnlen(r.ipv4, sizeof(r.ipv4)) == sizeof(r.ipv4) ||
	    strnlen(r.ipv6, sizeof(r.ipv6)) == sizeof(r.ipv6))
		abort();
	return 0;
}
