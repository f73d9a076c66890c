/* nf_tables objects of both NAT sides, built with libnftnl and never sent from here: the
 * expression layouts are fixed because the metrics read the counters back and because the
 * client's rules must look like upstream Coil's to tools that list them. */
#include "natrules_internal.h"

#include <errno.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define PRIO_SRCNAT	     100
#define PRIO_FILTER	     0
#define PRIO_MANGLE	     (-150)
#define IFNAME_TYPE	     41 /* nftables' datatype id of "ifname" */
#define CT_STATE_INVALID     1u
#define CT_STATE_NEW_EST_REL 0x0eu

const struct natrules_nft_chain natrules_nft_nat_postrouting = {.table = "nat",
								.chain = "POSTROUTING",
								.type = "nat",
								.hook = NF_INET_POST_ROUTING,
								.priority = PRIO_SRCNAT};
const struct natrules_nft_chain natrules_nft_filter_forward = {.table = "filter",
							       .chain = "FORWARD",
							       .type = "filter",
							       .hook = NF_INET_FORWARD,
							       .priority = PRIO_FILTER};
const struct natrules_nft_chain natrules_nft_mangle_input = {.table = "mangle",
							     .chain = "input",
							     .type = "filter",
							     .hook = NF_INET_LOCAL_IN,
							     .priority = PRIO_MANGLE,
							     .policy_accept = true};
const struct natrules_nft_chain natrules_nft_mangle_output = {.table = "mangle",
							      .chain = "output",
							      .type = "route",
							      .hook = NF_INET_LOCAL_OUT,
							      .priority = PRIO_MANGLE,
							      .policy_accept = true};

int natrules_nft_family(int family)
{
	return family == AF_INET6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
}

struct nftnl_table *natrules_nft_table(int family, const char *table)
{
	struct nftnl_table *t = nftnl_table_alloc();
	if (!t)
		return NULL;
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, (uint32_t)natrules_nft_family(family));
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, table);
	return t;
}

struct nftnl_chain *natrules_nft_chain_obj(int family, const struct natrules_nft_chain *c)
{
	struct nftnl_chain *ch = nftnl_chain_alloc();
	if (!ch)
		return NULL;
	nftnl_chain_set_u32(ch, NFTNL_CHAIN_FAMILY, (uint32_t)natrules_nft_family(family));
	nftnl_chain_set_str(ch, NFTNL_CHAIN_TABLE, c->table);
	nftnl_chain_set_str(ch, NFTNL_CHAIN_NAME, c->chain);
	nftnl_chain_set_str(ch, NFTNL_CHAIN_TYPE, c->type);
	nftnl_chain_set_u32(ch, NFTNL_CHAIN_HOOKNUM, c->hook);
	nftnl_chain_set_s32(ch, NFTNL_CHAIN_PRIO, c->priority);
	if (c->policy_accept)
		nftnl_chain_set_u32(ch, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	return ch;
}

void natrules_nft_tag(char *buf, size_t len, const char *what, const char *ifname)
{
	snprintf(buf, len, "coil-%s-%s", what, ifname);
}

/* ---- expression helpers: each adds one expression to r; false on ENOMEM ---- */

static bool add(struct nftnl_rule *r, struct nftnl_expr *e)
{
	if (!e)
		return false;
	nftnl_rule_add_expr(r, e);
	return true;
}

/* A meta or ct expression: load key into reg 1 (dreg_attr) or store reg 1 into it (sreg). */
static bool keyed(struct nftnl_rule *r, const char *name, uint16_t key_attr, uint16_t reg_attr,
		  uint32_t key)
{
	struct nftnl_expr *e = nftnl_expr_alloc(name);
	if (e) {
		nftnl_expr_set_u32(e, key_attr, key);
		nftnl_expr_set_u32(e, reg_attr, NFT_REG_1);
	}
	return add(r, e);
}

static bool meta_load(struct nftnl_rule *r, uint32_t key)
{
	return keyed(r, "meta", NFTNL_EXPR_META_KEY, NFTNL_EXPR_META_DREG, key);
}

static bool meta_store(struct nftnl_rule *r, uint32_t key)
{
	return keyed(r, "meta", NFTNL_EXPR_META_KEY, NFTNL_EXPR_META_SREG, key);
}

static bool ct_load(struct nftnl_rule *r, uint32_t key)
{
	return keyed(r, "ct", NFTNL_EXPR_CT_KEY, NFTNL_EXPR_CT_DREG, key);
}

static bool ct_store(struct nftnl_rule *r, uint32_t key)
{
	return keyed(r, "ct", NFTNL_EXPR_CT_KEY, NFTNL_EXPR_CT_SREG, key);
}

static bool cmp(struct nftnl_rule *r, uint32_t op, const void *data, size_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
		nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, (uint32_t)len);
	}
	return add(r, e);
}

/* reg1 = (reg1 & mask) ^ 0 over len bytes. */
static bool bitwise(struct nftnl_rule *r, const void *mask, size_t len)
{
	static const unsigned char zero[16];
	struct nftnl_expr *e = nftnl_expr_alloc("bitwise");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, (uint32_t)len);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, (uint32_t)len);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, (uint32_t)len);
	}
	return add(r, e);
}

static bool payload_saddr(struct nftnl_rule *r, int family)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, family == AF_INET6 ? 8 : 12);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, family == AF_INET6 ? 16 : 4);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	}
	return add(r, e);
}

static bool simple(struct nftnl_rule *r, const char *name)
{
	return add(r, nftnl_expr_alloc(name));
}

static bool verdict(struct nftnl_rule *r, int code)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)code);
	}
	return add(r, e);
}

static bool immediate_u32(struct nftnl_rule *r, uint32_t value)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
		nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, &value, sizeof(value));
	}
	return add(r, e);
}

static bool lookup(struct nftnl_rule *r, const char *set)
{
	struct nftnl_expr *e = nftnl_expr_alloc("lookup");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
		nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, 1);
	}
	return add(r, e);
}

static struct nftnl_rule *new_rule(int family, const struct natrules_nft_chain *c, const char *tag)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	if (!r)
		return NULL;
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, (uint32_t)natrules_nft_family(family));
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, c->table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, c->chain);
	nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, tag, (uint32_t)strlen(tag));
	return r;
}

/* An interface name as the kernel compares it: the name and its NUL. */
static bool oifname_is(struct nftnl_rule *r, const char *ifname)
{
	return meta_load(r, NFT_META_OIFNAME) && cmp(r, NFT_CMP_EQ, ifname, strlen(ifname) + 1);
}

/* nftnl_rule_free does not take NULL. */
static void rule_free(struct nftnl_rule *r)
{
	if (r)
		nftnl_rule_free(r);
}

static struct nftnl_rule *masq_rule(const struct natrules_masq *m)
{
	static const unsigned char ones[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					       0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	char tag[NATRULES_TAG_LEN];
	natrules_nft_tag(tag, sizeof(tag), "masquerade", m->oif);
	struct nftnl_rule *r = new_rule(m->self.family, &natrules_nft_nat_postrouting, tag);
	size_t alen = nl_family_addrlen(m->self.family);
	if (r && payload_saddr(r, m->self.family) && bitwise(r, ones, alen) &&
	    cmp(r, NFT_CMP_NEQ, m->self.bytes, alen) && oifname_is(r, m->oif) &&
	    simple(r, "counter") && simple(r, "masq"))
		return r;
	rule_free(r); /* r is NULL when new_rule ran out of memory */
	return NULL;
}

static struct nftnl_rule *invalid_rule(const struct natrules_masq *m)
{
	uint32_t mask = CT_STATE_INVALID, zero = 0;
	char tag[NATRULES_TAG_LEN];
	natrules_nft_tag(tag, sizeof(tag), "invalid", m->oif);
	struct nftnl_rule *r = new_rule(m->self.family, &natrules_nft_filter_forward, tag);
	if (r && oifname_is(r, m->oif) && ct_load(r, NFT_CT_STATE) &&
	    bitwise(r, &mask, sizeof(mask)) && cmp(r, NFT_CMP_NEQ, &zero, sizeof(zero)) &&
	    simple(r, "counter") && verdict(r, NF_DROP))
		return r;
	rule_free(r); /* r is NULL when new_rule ran out of memory */
	return NULL;
}

/* Both rules into out, or neither (-ENOMEM when either could not be built). */
static int rule_pair(struct nftnl_rule *first, struct nftnl_rule *second, struct nftnl_rule *out[2])
{
	if (first && second) {
		out[0] = first;
		out[1] = second;
		return 0;
	}
	rule_free(first);
	rule_free(second);
	return -ENOMEM;
}

int natrules_nft_masq_rules(const struct natrules_masq *m, struct nftnl_rule *out[2])
{
	out[0] = out[1] = NULL;
	if ((m->self.family != AF_INET && m->self.family != AF_INET6) || !nl_ifname_valid(m->oif))
		return -EINVAL;
	return rule_pair(masq_rule(m), invalid_rule(m), out);
}

struct nftnl_set *natrules_nft_connmark_set(const struct natrules_connmark *c)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elem *el = nftnl_set_elem_alloc();
	if (!s || !el) {
		nftnl_set_free(s);
		nftnl_set_elem_free(el);
		return NULL;
	}
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, (uint32_t)natrules_nft_family(c->family));
	nftnl_set_set_str(s, NFTNL_SET_TABLE, natrules_nft_mangle_input.table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, c->ifname);
	nftnl_set_set_u32(s, NFTNL_SET_ID, 1);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, IFNAME_TYPE);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, IFNAMSIZ);
	char key[IFNAMSIZ] = {0};
	memcpy(key, c->ifname, strnlen(c->ifname, IFNAMSIZ - 1));
	nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, key, sizeof(key));
	nftnl_set_elem_add(s, el);
	return s;
}

static struct nftnl_rule *input_rule(const struct natrules_connmark *c)
{
	uint32_t mask = CT_STATE_NEW_EST_REL, zero = 0;
	char tag[NATRULES_TAG_LEN];
	natrules_nft_tag(tag, sizeof(tag), "input", c->ifname);
	struct nftnl_rule *r = new_rule(c->family, &natrules_nft_mangle_input, tag);
	if (r && meta_load(r, NFT_META_IIFNAME) && lookup(r, c->ifname) &&
	    ct_load(r, NFT_CT_STATE) && bitwise(r, &mask, sizeof(mask)) &&
	    cmp(r, NFT_CMP_NEQ, &zero, sizeof(zero)) && simple(r, "counter") &&
	    immediate_u32(r, c->mark) && ct_store(r, NFT_CT_MARK))
		return r;
	rule_free(r); /* r is NULL when new_rule ran out of memory */
	return NULL;
}

static struct nftnl_rule *output_rule(const struct natrules_connmark *c)
{
	char tag[NATRULES_TAG_LEN];
	natrules_nft_tag(tag, sizeof(tag), "output", c->ifname);
	struct nftnl_rule *r = new_rule(c->family, &natrules_nft_mangle_output, tag);
	if (r && ct_load(r, NFT_CT_MARK) && cmp(r, NFT_CMP_EQ, &c->mark, sizeof(c->mark)) &&
	    simple(r, "counter") && ct_load(r, NFT_CT_MARK) && meta_store(r, NFT_META_MARK))
		return r;
	rule_free(r); /* r is NULL when new_rule ran out of memory */
	return NULL;
}

int natrules_nft_connmark_rules(const struct natrules_connmark *c, struct nftnl_rule *out[2])
{
	out[0] = out[1] = NULL;
	if ((c->family != AF_INET && c->family != AF_INET6) || !nl_ifname_valid(c->ifname))
		return -EINVAL;
	return rule_pair(input_rule(c), output_rule(c), out);
}
