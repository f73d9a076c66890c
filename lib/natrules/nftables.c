/* The nftables backend: tables, chains and tagged rules in one batch per family. */
#include "natrules_internal.h"

#include <errno.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "err/err.h"

struct tag_search {
	const char *tag;
	bool found;
};

static int match_tag(struct nftnl_rule *r, void *arg)
{
	struct tag_search *s = arg;
	uint32_t len = 0;
	const void *ud = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len);
	if (ud && len == strlen(s->tag) && memcmp(ud, s->tag, len) == 0) {
		s->found = true;
		return 1;
	}
	return 0;
}

/* *found = the chain has a rule tagged like r. A missing table or chain counts as no. */
static int rule_present(const struct nftnl_rule *r, int family, bool *found, char *err,
			size_t errlen)
{
	uint32_t len = 0;
	const char *ud = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len);
	char tag[NATRULES_TAG_LEN] = "";
	snprintf(tag, sizeof(tag), "%.*s", (int)len, ud ? ud : "");
	struct tag_search s = {.tag = tag};
	int rc = natrules_nft_list_rules(family, nftnl_rule_get_str(r, NFTNL_RULE_TABLE),
					 nftnl_rule_get_str(r, NFTNL_RULE_CHAIN), match_tag, &s,
					 err, errlen);
	*found = s.found;
	return rc == -ENOENT ? 0 : rc;
}

/* Queues table + chain (create if missing) and, unless present, the rule. */
static int queue_rule(struct natrules_nft_batch *b, int family, const struct natrules_nft_chain *c,
		      const struct nftnl_rule *r, char *err, size_t errlen)
{
	struct nftnl_table *t = natrules_nft_table(family, c->table);
	struct nftnl_chain *ch = natrules_nft_chain_obj(family, c);
	int rc = t && ch ? 0 : errorf(err, errlen, -ENOMEM, "nftables: out of memory");
	if (rc == 0) {
		natrules_nft_batch_table(b, t);
		natrules_nft_batch_chain(b, ch);
	}
	bool found = false;
	if (rc == 0)
		rc = rule_present(r, family, &found, err, errlen);
	if (rc == 0 && !found)
		natrules_nft_batch_rule(b, r);
	nftnl_table_free(t);
	nftnl_chain_free(ch);
	return rc;
}

static int commit_rules(int family, const struct natrules_nft_chain *chains[2],
			struct nftnl_rule *rules[2], const struct nftnl_set *set, const char *what,
			char *err, size_t errlen)
{
	struct natrules_nft_batch *b = natrules_nft_batch_new();
	if (!b)
		return errorf(err, errlen, -ENOMEM, "%s: out of memory", what);
	int rc = 0;
	if (set) {
		/* The set lives in the table: create the table first. */
		struct nftnl_table *t = natrules_nft_table(family, chains[0]->table);
		if (!t)
			rc = errorf(err, errlen, -ENOMEM, "%s: out of memory", what);
		else
			natrules_nft_batch_table(b, t);
		nftnl_table_free(t);
		if (rc == 0)
			natrules_nft_batch_set(b, set);
	}
	for (size_t i = 0; rc == 0 && i < 2; i++)
		rc = queue_rule(b, family, chains[i], rules[i], err, errlen);
	if (rc == 0)
		rc = natrules_nft_batch_commit(b, what, err, errlen);
	natrules_nft_batch_free(b);
	return rc;
}

int natrules_nft_masq_apply(const struct natrules_masq *m, char *err, size_t errlen)
{
	struct nftnl_rule *rules[2];
	int rc = natrules_nft_masq_rules(m, rules);
	if (rc < 0)
		return errorf(err, errlen, rc, "nftables masquerade rules for %s: %s", m->oif,
			      strerror(-rc));
	const struct natrules_nft_chain *chains[2] = {&natrules_nft_nat_postrouting,
						      &natrules_nft_filter_forward};
	rc = commit_rules(m->self.family, chains, rules, NULL, "add nftables masquerade rules", err,
			  errlen);
	nftnl_rule_free(rules[0]);
	nftnl_rule_free(rules[1]);
	return rc;
}

int natrules_nft_connmark_apply(const struct natrules_connmark *c, char *err, size_t errlen)
{
	struct nftnl_rule *rules[2];
	int rc = natrules_nft_connmark_rules(c, rules);
	if (rc < 0)
		return errorf(err, errlen, rc, "nftables connmark rules for %s: %s", c->ifname,
			      strerror(-rc));
	struct nftnl_set *set = natrules_nft_connmark_set(c);
	const struct natrules_nft_chain *chains[2] = {&natrules_nft_mangle_input,
						      &natrules_nft_mangle_output};
	if (set)
		rc = commit_rules(c->family, chains, rules, set, "add nftables connmark rules", err,
				  errlen);
	else
		rc = errorf(err, errlen, -ENOMEM, "nftables connmark set: out of memory");
	nftnl_set_free(set);
	nftnl_rule_free(rules[0]);
	nftnl_rule_free(rules[1]);
	return rc;
}

int natrules_nft_connmark_remove(const struct natrules_connmark *c, char *err, size_t errlen)
{
	struct nftnl_table *t = natrules_nft_table(c->family, natrules_nft_mangle_input.table);
	struct natrules_nft_batch *b = natrules_nft_batch_new();
	int rc = t && b ? 0 : errorf(err, errlen, -ENOMEM, "nftables: out of memory");
	if (rc == 0) {
		natrules_nft_batch_del_table(b, t);
		rc = natrules_nft_batch_commit(b, "delete nftables table mangle", err, errlen);
	}
	natrules_nft_batch_free(b);
	nftnl_table_free(t);
	return rc == -ENOENT ? 0 : rc;
}

struct counter_search {
	struct natrules_counter *out;
	bool found;
};

static int find_counter(struct nftnl_rule *r, void *arg)
{
	struct counter_search *s = arg;
	struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
	if (!it)
		return -ENOMEM;
	for (struct nftnl_expr *e = nftnl_expr_iter_next(it); e; e = nftnl_expr_iter_next(it)) {
		if (strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "counter") == 0) {
			s->out->packets = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
			s->out->bytes = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
			s->found = true;
			break;
		}
	}
	nftnl_expr_iter_destroy(it);
	return s->found ? 1 : 0;
}

int natrules_nft_first_counter(int family, const char *table, const char *chain,
			       struct natrules_counter *out, char *err, size_t errlen)
{
	struct counter_search s = {.out = out};
	memset(out, 0, sizeof(*out));
	int rc = natrules_nft_list_rules(family, table, chain, find_counter, &s, err, errlen);
	if (rc == 0 && !s.found)
		rc = errorf(err, errlen, -ENOENT, "no rule with a counter in %s %s %s",
			    family == AF_INET6 ? "ip6" : "ip", table, chain);
	return rc;
}
