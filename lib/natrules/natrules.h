/* The netfilter rules of Coil's egress NAT, with two interchangeable backends:
 *
 *   iptables   exec of iptables / ip6tables (argv arrays, never a shell) with -w, "append
 *              unless present" (-C, then -A); Debian's iptables is the nf_tables flavour;
 *   nftables   native nf_tables batches through libnftnl + libmnl.
 *
 * Gateway pods masquerade what their tunnels bring in and drop invalid forwarded packets:
 *
 *   table ip nat    { chain POSTROUTING { type nat hook postrouting priority srcnat;
 *                     ip saddr != <self> oifname "<oif>" counter masquerade } }
 *   table ip filter { chain FORWARD { type filter hook forward priority filter;
 *                     oifname "<oif>" ct state invalid counter drop } }
 *
 * (ip6 for IPv6). Table and chain names equal iptables-nft's, so both backends share chains
 * and the counters can always be read back through nf_tables (natrules_nft_first_counter).
 *
 * Client pods in originating-only mode mark connections that came in through a normal
 * interface so that their replies leave through it and not through a tunnel:
 *
 *   iptables -t mangle -A INPUT -i <if> -m conntrack --ctstate NEW,ESTABLISHED,RELATED
 *            -j CONNMARK --set-mark <mark>
 *   iptables -t mangle -A OUTPUT -m connmark --mark <mark> -j CONNMARK --restore-mark
 *   nftables: table mangle, set <if> { type ifname }, chain input (filter, -150) and chain
 *   output (route, -150), rules tagged with user data "coil-input-<if>"/"coil-output-<if>".
 *
 * Every applier acts on the calling thread's network namespace (iptables children inherit
 * it; the nf_tables socket is opened in it). Thread-safe as far as the kernel is: iptables
 * takes its own lock (-w), every nf_tables change is one batch. */
#ifndef COIL_NATRULES_H
#define COIL_NATRULES_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include "nl/nl.h"

enum natrules_backend { NATRULES_IPTABLES, NATRULES_NFTABLES };

/* "iptables" / "nftables"; -EINVAL with err "invalid backend: <v> (must be either iptables
 * or nftables)" otherwise. */
int natrules_backend_parse(const char *text, enum natrules_backend *out, char *err, size_t errlen);
const char *natrules_backend_name(enum natrules_backend b);

/* ---- gateway: masquerade + invalid drop ---- */

struct natrules_masq {
	struct nl_ip self;     /* the gateway's own address; its family picks ip or ip6 */
	char oif[IF_NAMESIZE]; /* the egress interface ("eth0") */
};

/* Makes both rules of m exist (idempotent). */
int natrules_masq_apply(enum natrules_backend b, const struct natrules_masq *m, char *err,
			size_t errlen);

/* ---- client: originating-only connmark ---- */

struct natrules_connmark {
	int family;		  /* AF_INET or AF_INET6 */
	char ifname[IF_NAMESIZE]; /* the interface connections come in through */
	uint32_t mark;		  /* the connmark (Coil uses the interface's ifindex) */
};

/* Makes both rules exist (idempotent). */
int natrules_connmark_apply(enum natrules_backend b, const struct natrules_connmark *c, char *err,
			    size_t errlen);
/* Removes them: iptables deletes the two rules if present; nftables deletes the family's
 * whole mangle table (Coil is its only user). 0 when nothing was there. */
int natrules_connmark_remove(enum natrules_backend b, const struct natrules_connmark *c, char *err,
			     size_t errlen);

/* ---- counters ---- */

struct natrules_counter {
	uint64_t packets, bytes;
};

/* The first counter expression of the rules of nf_tables table/chain of family (AF_INET:
 * ip, AF_INET6: ip6). -ENOENT when the chain has no rule with a counter (or no such
 * table/chain). Works for both backends' rules. */
int natrules_nft_first_counter(int family, const char *table, const char *chain,
			       struct natrules_counter *out, char *err, size_t errlen);

/* ---- iptables plans (iptables_plan.c; pure, for tests and the applier) ---- */

#define NATRULES_ARGV_MAX 24
#define NATRULES_ARG_LEN  64

/* One rule: program, table, chain and the rule specification after the chain. */
struct natrules_iptables_rule {
	const char *program; /* "iptables" / "ip6tables" */
	const char *table;
	const char *chain;
	char spec[NATRULES_ARGV_MAX][NATRULES_ARG_LEN];
	size_t nspec;
};

/* The masquerade and drop rules of m (out[0], out[1]). */
int natrules_iptables_masq_plan(const struct natrules_masq *m, struct natrules_iptables_rule out[2],
				char *err, size_t errlen);
/* The INPUT and OUTPUT connmark rules of c (out[0], out[1]). */
int natrules_iptables_connmark_plan(const struct natrules_connmark *c,
				    struct natrules_iptables_rule out[2], char *err, size_t errlen);
/* Writes argv for `<program> -w -t <table> <op> <chain> <spec...>` (op "-C", "-A", "-D")
 * into argv[NATRULES_ARGV_MAX + 8]; pointers into r. Returns argc. */
size_t natrules_iptables_argv(const struct natrules_iptables_rule *r, const char *op,
			      const char **argv);

#endif
