/* nf_tables over netlink: one batch per change, acknowledged message by message, and rule
 * dumps for read-back. */
#include "natrules_internal.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

#include "err/err.h"

#define BATCH_PAGE     (64 * 1024)
#define ACK_TIMEOUT_MS 5000

struct natrules_nft_batch {
	struct nftnl_batch *batch;
	uint32_t seq, first_seq;
	unsigned messages; /* each one is acknowledged */
};

struct natrules_nft_batch *natrules_nft_batch_new(void)
{
	struct natrules_nft_batch *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->batch = nftnl_batch_alloc(BATCH_PAGE, MNL_SOCKET_BUFFER_SIZE);
	if (!b->batch) {
		free(b);
		return NULL;
	}
	b->seq = (uint32_t)time(NULL);
	nftnl_batch_begin(nftnl_batch_buffer(b->batch), b->seq++);
	nftnl_batch_update(b->batch);
	b->first_seq = b->seq;
	return b;
}

void natrules_nft_batch_free(struct natrules_nft_batch *b)
{
	if (!b)
		return;
	nftnl_batch_free(b->batch);
	free(b);
}

static struct nlmsghdr *next_msg(struct natrules_nft_batch *b, uint16_t type, uint16_t family,
				 uint16_t flags)
{
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(nftnl_batch_buffer(b->batch), type, family,
						     flags | NLM_F_ACK, b->seq++);
	b->messages++;
	return nlh;
}

void natrules_nft_batch_table(struct natrules_nft_batch *b, const struct nftnl_table *t)
{
	uint16_t family = (uint16_t)nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY);
	nftnl_table_nlmsg_build_payload(next_msg(b, NFT_MSG_NEWTABLE, family, NLM_F_CREATE), t);
	nftnl_batch_update(b->batch);
}

void natrules_nft_batch_del_table(struct natrules_nft_batch *b, const struct nftnl_table *t)
{
	uint16_t family = (uint16_t)nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY);
	nftnl_table_nlmsg_build_payload(next_msg(b, NFT_MSG_DELTABLE, family, 0), t);
	nftnl_batch_update(b->batch);
}

void natrules_nft_batch_chain(struct natrules_nft_batch *b, const struct nftnl_chain *c)
{
	uint16_t family = (uint16_t)nftnl_chain_get_u32(c, NFTNL_CHAIN_FAMILY);
	nftnl_chain_nlmsg_build_payload(next_msg(b, NFT_MSG_NEWCHAIN, family, NLM_F_CREATE), c);
	nftnl_batch_update(b->batch);
}

void natrules_nft_batch_set(struct natrules_nft_batch *b, const struct nftnl_set *s)
{
	uint16_t family = (uint16_t)nftnl_set_get_u32(s, NFTNL_SET_FAMILY);
	/* libnftnl's builders take non-const objects but do not change them. */
	struct nftnl_set *ms = (struct nftnl_set *)(uintptr_t)s;
	nftnl_set_nlmsg_build_payload(next_msg(b, NFT_MSG_NEWSET, family, NLM_F_CREATE), ms);
	nftnl_batch_update(b->batch);
	nftnl_set_elems_nlmsg_build_payload(next_msg(b, NFT_MSG_NEWSETELEM, family, NLM_F_CREATE),
					    ms);
	nftnl_batch_update(b->batch);
}

void natrules_nft_batch_rule(struct natrules_nft_batch *b, const struct nftnl_rule *r)
{
	uint16_t family = (uint16_t)nftnl_rule_get_u32(r, NFTNL_RULE_FAMILY);
	struct nftnl_rule *mr = (struct nftnl_rule *)(uintptr_t)r;
	nftnl_rule_nlmsg_build_payload(
	    next_msg(b, NFT_MSG_NEWRULE, family, NLM_F_CREATE | NLM_F_APPEND), mr);
	nftnl_batch_update(b->batch);
}

static struct mnl_socket *open_nft(char *err, size_t errlen, const char *what)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int rc = -errno;
		if (nl)
			mnl_socket_close(nl);
		errorf(err, errlen, rc, "%s: open nf_tables socket: %s", what, strerror(-rc));
		return NULL;
	}
	return nl;
}

/* Reads acknowledgements until every message of the batch has one; the first error wins. */
static int read_acks(struct mnl_socket *nl, unsigned expected)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int first_err = 0;
	uint32_t portid = mnl_socket_get_portid(nl);
	for (unsigned got = 0; got < expected;) {
		struct pollfd p = {.fd = mnl_socket_get_fd(nl), .events = POLLIN};
		int n = poll(&p, 1, ACK_TIMEOUT_MS);
		if (n == 0)
			return first_err ? first_err : -ETIMEDOUT;
		if (n < 0 && errno == EINTR)
			continue;
		ssize_t len = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (len < 0)
			return -errno;
		const struct nlmsghdr *nlh = (const void *)buf;
		for (size_t left = (size_t)len; mnl_nlmsg_ok(nlh, (int)left);
		     nlh = mnl_nlmsg_next(nlh, (int *)&left)) {
			if (nlh->nlmsg_pid != portid || nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			got++;
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
			if (e->error && !first_err)
				first_err = e->error;
		}
		/* After an error the kernel aborts the batch; the rest may not be answered. */
		if (first_err)
			return first_err;
	}
	return first_err;
}

/* A batch spans pages; send them in one message so the kernel sees one transaction. */
static int send_batch(struct mnl_socket *nl, struct nftnl_batch *batch)
{
	int n = nftnl_batch_iovec_len(batch);
	struct iovec *iov = calloc((size_t)n, sizeof(*iov));
	if (!iov)
		return -ENOMEM;
	nftnl_batch_iovec(batch, iov, (uint32_t)n);
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	struct msghdr msg = {.msg_name = &kernel,
			     .msg_namelen = sizeof(kernel),
			     .msg_iov = iov,
			     .msg_iovlen = (size_t)n};
	ssize_t sent = sendmsg(mnl_socket_get_fd(nl), &msg, 0);
	free(iov);
	return sent < 0 ? -errno : 0;
}

int natrules_nft_batch_commit(struct natrules_nft_batch *b, const char *what, char *err,
			      size_t errlen)
{
	nftnl_batch_end(nftnl_batch_buffer(b->batch), b->seq++);
	nftnl_batch_update(b->batch);
	struct mnl_socket *nl = open_nft(err, errlen, what);
	if (!nl)
		return -EIO;
	int rc = send_batch(nl, b->batch);
	if (rc == 0)
		rc = read_acks(nl, b->messages);
	mnl_socket_close(nl);
	if (rc < 0)
		return errorf(err, errlen, rc, "%s: %s", what, strerror(-rc));
	return 0;
}

struct list_ctx {
	int (*fn)(struct nftnl_rule *r, void *arg);
	void *arg;
	int rc;
};

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct list_ctx *c = data;
	if (c->rc)
		return MNL_CB_OK;
	struct nftnl_rule *r = nftnl_rule_alloc();
	if (!r) {
		c->rc = -ENOMEM;
		return MNL_CB_OK;
	}
	if (nftnl_rule_nlmsg_parse(nlh, r) == 0)
		c->rc = c->fn(r, c->arg);
	nftnl_rule_free(r);
	return MNL_CB_OK;
}

int natrules_nft_list_rules(int family, const char *table, const char *chain,
			    int (*fn)(struct nftnl_rule *r, void *arg), void *arg, char *err,
			    size_t errlen)
{
	char what[128];
	snprintf(what, sizeof(what), "list nf_tables rules of %s %s %s",
		 family == AF_INET6 ? "ip6" : "ip", table, chain);
	struct mnl_socket *nl = open_nft(err, errlen, what);
	if (!nl)
		return -EIO;
	char buf[MNL_SOCKET_BUFFER_SIZE];
	uint32_t seq = (uint32_t)time(NULL);
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(
	    buf, NFT_MSG_GETRULE, (uint16_t)natrules_nft_family(family), NLM_F_DUMP, seq);
	struct nftnl_rule *filter = nftnl_rule_alloc();
	if (!filter) {
		mnl_socket_close(nl);
		return errorf(err, errlen, -ENOMEM, "%s: out of memory", what);
	}
	nftnl_rule_set_str(filter, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(filter, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_nlmsg_build_payload(nlh, filter);
	nftnl_rule_free(filter);
	struct list_ctx ctx = {.fn = fn, .arg = arg};
	int rc = 0;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		rc = -errno;
	uint32_t portid = mnl_socket_get_portid(nl);
	while (rc == 0) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0) {
			rc = -errno;
			break;
		}
		int r = mnl_cb_run(buf, (size_t)n, seq, portid, rule_cb, &ctx);
		if (r < 0)
			rc = -errno;
		if (r <= MNL_CB_STOP)
			break;
	}
	mnl_socket_close(nl);
	if (rc == 0)
		rc = ctx.rc < 0 ? ctx.rc : 0;
	if (rc < 0)
		return errorf(err, errlen, rc, "%s: %s", what, strerror(-rc));
	return 0;
}
