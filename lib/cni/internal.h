/* Helpers shared by the files of lib/cni; not public. */
#ifndef COIL_CNI_INTERNAL_H
#define COIL_CNI_INTERNAL_H

#include "cni/cni.h"

/* inet_pton of either family; bytes gets 4 or 16 bytes. */
int cni_parse_ip(const char *text, unsigned char bytes[16], int *family);
/* Canonical text of an IP ("fd02:0::1" → "fd02::1"); family may be NULL. */
int cni_canonical_ip(const char *text, char out[INET6_ADDRSTRLEN], int *family);
/* Canonical "addr/prefix" (address bits kept, as Go's IPNet of a result). */
int cni_canonical_cidr(const char *text, char out[CNI_CIDR_MAX], int *family);
/* realloc to *count + 1 zeroed elements; NULL (array untouched) on failure. */
void *cni_grow_array(void *array, size_t *count, size_t elem_size);
/* A result version libcni can decode/encode: 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0. */
bool cni_result_version_known(const char *version);

/* json_string, or for text that is not UTF-8 a copy with '?' for every
 * non-ASCII byte (at most 2 KiB). New reference or NULL (no memory). */
json_t *cni_json_string_lossy(const char *text);

#endif
