/* Socket lifecycle and the request/reply loop shared by every rtnetlink call. */
#include "nl_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>

static void set_flag_option(struct nl_sock *s, int option)
{
	int one = 1;
	/* Best effort: older kernels lack extended acks or strict dump checking, and we also
	 * filter dumps in user space, so a failure here only loses detail. */
	(void)mnl_socket_setsockopt(s->mnl, option, &one, sizeof(one));
}

int nl_sock_open(struct nl_sock *s, char *err, size_t errlen)
{
	return nl_sock_open_proto(s, NETLINK_ROUTE, err, errlen);
}

int nl_sock_open_proto(struct nl_sock *s, int protocol, char *err, size_t errlen)
{
	memset(s, 0, sizeof(*s));
	s->buf = malloc(NL_RECV_BUF);
	if (!s->buf)
		return nl_fail(err, errlen, -ENOMEM, "open netlink socket", NULL);
	s->mnl = mnl_socket_open2(protocol, SOCK_CLOEXEC);
	if (!s->mnl || mnl_socket_bind(s->mnl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int rc = -errno;
		nl_sock_close(s);
		return nl_fail(err, errlen, rc, "open netlink socket", NULL);
	}
	s->portid = mnl_socket_get_portid(s->mnl);
	/* Sequence numbers only need to differ between requests on this socket. */
	s->seq = (uint32_t)time(NULL);
	set_flag_option(s, NETLINK_EXT_ACK);
	set_flag_option(s, NETLINK_CAP_ACK);
	set_flag_option(s, NETLINK_GET_STRICT_CHK);
	return 0;
}

struct open_in_args {
	struct nl_sock *s;
	char *err;
	size_t errlen;
};

static int open_here(void *arg)
{
	struct open_in_args *a = arg;
	return nl_sock_open(a->s, a->err, a->errlen);
}

int nl_sock_open_in(struct nl_sock *s, int netns_fd, char *err, size_t errlen)
{
	struct open_in_args a = {s, err, errlen};
	memset(s, 0, sizeof(*s));
	int rc = nl_netns_run(netns_fd, open_here, &a, err, errlen);
	if (rc < 0)
		nl_sock_close(s);
	return rc;
}

void nl_sock_close(struct nl_sock *s)
{
	if (s->mnl)
		mnl_socket_close(s->mnl);
	free(s->buf);
	s->mnl = NULL;
	s->buf = NULL;
}

int nl_fail(char *err, size_t errlen, int rc, const char *what, const char *kernel_msg)
{
	char buf[128];
	const char *text = strerror_r(-rc, buf, sizeof(buf));
	if (kernel_msg && *kernel_msg)
		return errorf(err, errlen, rc, "%s: %s (%s)", what, text, kernel_msg);
	return errorf(err, errlen, rc, "%s: %s", what, text);
}

struct nlmsghdr *nl_msg_start(void *buf, uint16_t type, uint16_t flags)
{
	memset(buf, 0, NL_SEND_BUF);
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	return nlh;
}

static int attr_find_msg(const struct nlattr *a, void *data)
{
	if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
		*(const char **)data = mnl_attr_get_str(a);
	return MNL_CB_OK;
}

/* Extracts the error code of an NLMSG_ERROR or NLMSG_DONE message and the kernel's
 * extended-ack text, if any. */
static int parse_status(const struct nlmsghdr *nlh, char *kmsg, size_t kmsglen)
{
	size_t plen = mnl_nlmsg_get_payload_len(nlh);
	const char *payload = mnl_nlmsg_get_payload(nlh);
	int code;
	if (plen < sizeof(int))
		return nlh->nlmsg_type == NLMSG_DONE ? 0 : -EPROTO;
	memcpy(&code, payload, sizeof(code));
	size_t off = sizeof(int);
	if (nlh->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = (const void *)payload;
		if (plen < sizeof(*e))
			return code;
		off = sizeof(*e);
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED) &&
		    e->msg.nlmsg_len > sizeof(struct nlmsghdr))
			off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	}
	if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) && off < plen) {
		const char *msg = NULL;
		const struct nlattr *a = (const void *)(payload + MNL_ALIGN(off));
		int left = (int)plen - (int)MNL_ALIGN(off);
		while (left > 0 && mnl_attr_ok(a, left)) {
			attr_find_msg(a, &msg);
			left -= MNL_ALIGN(a->nla_len);
			a = mnl_attr_next(a);
		}
		if (msg)
			snprintf(kmsg, kmsglen, "%s", msg);
	}
	return code > 0 ? -code : code;
}

/* Reads the replies to seq up to the final ACK/error/DONE, calling cb for data messages.
 * Keeps reading after a callback error so that no reply is left in the socket. */
static int receive(struct nl_sock *s, uint32_t seq, nl_msg_cb cb, void *arg, bool *intr, char *kmsg,
		   size_t kmsglen)
{
	int cb_rc = 0;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(s->mnl, s->buf, NL_RECV_BUF);
		if (n < 0)
			return -errno;
		size_t left = (size_t)n;
		const struct nlmsghdr *nlh = (const void *)s->buf;
		for (; nl_msg_ok(nlh, left); nlh = nl_msg_next(nlh, &left)) {
			if (nlh->nlmsg_seq != seq || nlh->nlmsg_pid != s->portid)
				return -EPROTO;
			if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
				*intr = true;
			if (nlh->nlmsg_type == NLMSG_ERROR || nlh->nlmsg_type == NLMSG_DONE) {
				int rc = parse_status(nlh, kmsg, kmsglen);
				return rc ? rc : cb_rc;
			}
			if (nlh->nlmsg_type >= NLMSG_MIN_TYPE && cb && !cb_rc)
				cb_rc = cb(nlh, arg);
		}
	}
}

static int transact(struct nl_sock *s, struct nlmsghdr *req, nl_msg_cb cb, void *arg, bool *intr,
		    char *kmsg, size_t kmsglen)
{
	if (!s->mnl)
		return -EBADF;
	req->nlmsg_seq = ++s->seq;
	req->nlmsg_pid = 0;
	if (mnl_socket_sendto(s->mnl, req, req->nlmsg_len) < 0)
		return -errno;
	return receive(s, req->nlmsg_seq, cb, arg, intr, kmsg, kmsglen);
}

int nl_query(struct nl_sock *s, struct nlmsghdr *req, nl_msg_cb cb, void *arg, const char *what,
	     char *err, size_t errlen)
{
	char kmsg[256] = "";
	bool intr = false;
	req->nlmsg_flags |= NLM_F_ACK;
	int rc = transact(s, req, cb, arg, &intr, kmsg, sizeof(kmsg));
	return rc ? nl_fail(err, errlen, rc, what, kmsg) : 0;
}

int nl_exec(struct nl_sock *s, struct nlmsghdr *req, const char *what, char *err, size_t errlen)
{
	return nl_query(s, req, NULL, NULL, what, err, errlen);
}

static long elapsed_ms(const struct timespec *since)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

/* Sleeps backoff_us plus up to half of it again, at random, and returns the next back-off. */
static long back_off(long backoff_us)
{
	unsigned r = 0;
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = 0;
	long us = backoff_us + (long)(r % (unsigned)(backoff_us / 2 + 1));
	struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
	nanosleep(&ts, NULL);
	return backoff_us * 2 < NL_DUMP_BACKOFF_MAX_US ? backoff_us * 2 : NL_DUMP_BACKOFF_MAX_US;
}

int nl_dump(struct nl_sock *s, struct nlmsghdr *req, nl_msg_cb cb, void *arg,
	    void (*reset)(void *arg), const char *what, char *err, size_t errlen)
{
	long backoff_us = NL_DUMP_BACKOFF_US;
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	req->nlmsg_flags |= NLM_F_DUMP;
	for (unsigned restarts = 0;; restarts++) {
		char kmsg[256] = "";
		bool intr = false;
		if (reset)
			reset(arg);
		int rc = transact(s, req, cb, arg, &intr, kmsg, sizeof(kmsg));
		if (rc)
			return nl_fail(err, errlen, rc, what, kmsg);
		if (!intr)
			return 0;
		if (elapsed_ms(&start) >= NL_DUMP_RETRY_MS) {
			snprintf(kmsg, sizeof(kmsg),
				 "dump interrupted repeatedly (%u restarts in %ld ms)", restarts,
				 elapsed_ms(&start));
			return nl_fail(err, errlen, -EINTR, what, kmsg);
		}
		s->dump_restarts++;
		backoff_us = back_off(backoff_us);
	}
}

void *nl_vec_push(struct nl_vec *v)
{
	if (v->count == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 16;
		void *items = realloc(v->items, cap * v->size);
		if (!items)
			return NULL;
		v->items = items;
		v->cap = cap;
	}
	void *slot = (char *)v->items + v->count++ * v->size;
	memset(slot, 0, v->size);
	return slot;
}

void nl_vec_reset(void *vec)
{
	((struct nl_vec *)vec)->count = 0;
}
