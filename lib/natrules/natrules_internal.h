/* Shared between the files of lib/natrules and its unit tests: the per-backend appliers and
 * the nf_tables plans (libnftnl objects built without touching the kernel). */
#ifndef COIL_NATRULES_INTERNAL_H
#define COIL_NATRULES_INTERNAL_H

#include "natrules/natrules.h"

#include <stdbool.h>

struct nftnl_table;
struct nftnl_chain;
struct nftnl_rule;
struct nftnl_set;

/* ---- iptables backend (iptables.c) ---- */

int natrules_iptables_masq_apply(const struct natrules_masq *m, char *err, size_t errlen);
int natrules_iptables_connmark_apply(const struct natrules_connmark *c, char *err, size_t errlen);
int natrules_iptables_connmark_remove(const struct natrules_connmark *c, char *err, size_t errlen);

/* ---- nf_tables plans (nft_plan.c; every object is owned by the caller: nftnl_*_free) ---- */

/* A table/chain pair as our rules need it. */
struct natrules_nft_chain {
	const char *table, *chain, *type;
	unsigned hook; /* NF_INET_* */
	int priority;
	bool policy_accept; /* set the accept policy explicitly (the mangle chains do) */
};

extern const struct natrules_nft_chain natrules_nft_nat_postrouting;
extern const struct natrules_nft_chain natrules_nft_filter_forward;
extern const struct natrules_nft_chain natrules_nft_mangle_input;
extern const struct natrules_nft_chain natrules_nft_mangle_output;

/* nf_tables family of an address family: NFPROTO_IPV4 / NFPROTO_IPV6. */
int natrules_nft_family(int family);
struct nftnl_table *natrules_nft_table(int family, const char *table);
struct nftnl_chain *natrules_nft_chain_obj(int family, const struct natrules_nft_chain *c);

/* User data (raw ASCII, no TLV) that tags each of our rules, so a rule is added only once:
 * "coil-masquerade-<oif>", "coil-invalid-<oif>", "coil-input-<if>", "coil-output-<if>". */
#define NATRULES_TAG_LEN 48
void natrules_nft_tag(char *buf, size_t len, const char *what, const char *ifname);

/* The masquerade rule (out[0], nat/POSTROUTING) and the invalid-drop rule (out[1],
 * filter/FORWARD) of m; NULL on ENOMEM or bad input. */
int natrules_nft_masq_rules(const struct natrules_masq *m, struct nftnl_rule *out[2]);
/* The connmark set (named after the interface, holding it) and rules (input, output). */
struct nftnl_set *natrules_nft_connmark_set(const struct natrules_connmark *c);
int natrules_nft_connmark_rules(const struct natrules_connmark *c, struct nftnl_rule *out[2]);

/* ---- nf_tables kernel side (nft_sock.c) ---- */

struct natrules_nft_batch;

/* Starts a batch; NULL on ENOMEM. */
struct natrules_nft_batch *natrules_nft_batch_new(void);
void natrules_nft_batch_free(struct natrules_nft_batch *b);
/* Queue objects (not kept: the message is built now). */
void natrules_nft_batch_table(struct natrules_nft_batch *b, const struct nftnl_table *t);
void natrules_nft_batch_del_table(struct natrules_nft_batch *b, const struct nftnl_table *t);
void natrules_nft_batch_chain(struct natrules_nft_batch *b, const struct nftnl_chain *c);
void natrules_nft_batch_set(struct natrules_nft_batch *b, const struct nftnl_set *s);
void natrules_nft_batch_rule(struct natrules_nft_batch *b, const struct nftnl_rule *r);
/* Sends the batch in the calling thread's netns and waits for every acknowledgement. */
int natrules_nft_batch_commit(struct natrules_nft_batch *b, const char *what, char *err,
			      size_t errlen);

/* Calls fn for every rule of family/table/chain; -ENOENT when the table or chain does not
 * exist. fn returns 0 to go on, 1 to stop, or a negative errno. */
int natrules_nft_list_rules(int family, const char *table, const char *chain,
			    int (*fn)(struct nftnl_rule *r, void *arg), void *arg, char *err,
			    size_t errlen);

/* ---- nftables backend (nftables.c) ---- */

int natrules_nft_masq_apply(const struct natrules_masq *m, char *err, size_t errlen);
int natrules_nft_connmark_apply(const struct natrules_connmark *c, char *err, size_t errlen);
int natrules_nft_connmark_remove(const struct natrules_connmark *c, char *err, size_t errlen);

#endif
