/* Shared plumbing of lib/nl: request building, the reply loop, dumps, growable arrays. */
#ifndef COIL_NL_INTERNAL_H
#define COIL_NL_INTERNAL_H

#include "nl/nl.h"
#include "err/err.h"

#include <libmnl/libmnl.h>
#include <linux/netlink.h>

/* Writes "what: <strerror(-rc)>" (plus the kernel's extended-ack text) into err; returns rc. */
int nl_fail(char *err, size_t errlen, int rc, const char *what, const char *kernel_msg);

/* A growable array of fixed-size items; the owner frees .items with free(). */
struct nl_vec {
	void *items;
	size_t count, cap, size;
};
/* Returns a zeroed new slot, or NULL when out of memory. */
void *nl_vec_push(struct nl_vec *v);
/* nl_dump reset callback: forgets the items collected so far. */
void nl_vec_reset(void *vec);

/* Copies a string attribute's payload into dst (always NUL-terminated, truncated if long). */
void nl_attr_strcpy(const struct nlattr *a, char *dst, size_t dstlen);
/* Copies an address attribute of family into ip; -EINVAL if the length does not match. */
int nl_attr_ip(const struct nlattr *a, int family, struct nl_ip *ip);
/* Puts an address attribute. */
void nl_put_ip(struct nlmsghdr *nlh, uint16_t type, const struct nl_ip *ip);

#endif
