/* Shared plumbing of lib/nl: request building, the reply loop, dumps, growable arrays. */
#ifndef COIL_NL_INTERNAL_H
#define COIL_NL_INTERNAL_H

#include "nl/nl.h"
#include "err/err.h"

#include <libmnl/libmnl.h>
#include <linux/netlink.h>

/* Size of request buffers; every request we build is far smaller. */
#define NL_SEND_BUF 4096

typedef int (*nl_msg_cb)(const struct nlmsghdr *nlh, void *arg);

/* Starts a request of type in buf (NL_SEND_BUF bytes, zeroed here) with NLM_F_REQUEST|flags.
 * The sequence number is assigned when the request is sent. */
struct nlmsghdr *nl_msg_start(void *buf, uint16_t type, uint16_t flags);

/* Sends a request that expects only an acknowledgement (NLM_F_ACK is added). */
int nl_exec(struct nl_sock *s, struct nlmsghdr *req, const char *what, char *err, size_t errlen);

/* Sends a non-dump request and calls cb for each reply before the acknowledgement. */
int nl_query(struct nl_sock *s, struct nlmsghdr *req, nl_msg_cb cb, void *arg, const char *what,
	     char *err, size_t errlen);

/* Sends a dump request (NLM_F_DUMP is added) and calls cb for each message. If the kernel
 * flags the dump as interrupted (NLM_F_DUMP_INTR), reset(arg) is called and the dump is
 * restarted with a growing, jittered back-off until NL_DUMP_RETRY_MS have passed; then
 * -EINTR (nl.h). */
int nl_dump(struct nl_sock *s, struct nlmsghdr *req, nl_msg_cb cb, void *arg,
	    void (*reset)(void *arg), const char *what, char *err, size_t errlen);

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
