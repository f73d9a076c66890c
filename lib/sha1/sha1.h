/* SHA-1 of a small buffer: the one implementation behind interface names derived from a hash
 * (pod veth names, fou6_ tunnel names). */
#ifndef COIL_SHA1_H
#define COIL_SHA1_H

#include <stddef.h>

void sha1_digest(const void *data, size_t len, unsigned char digest[20]);

#endif
