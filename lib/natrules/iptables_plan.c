/* The iptables rules of both NAT sides as argument lists (pure). */
#include "natrules/natrules.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "err/err.h"

/* Appends the NULL-terminated arguments to r->spec. */
static void spec(struct natrules_iptables_rule *r, ...)
{
	va_list ap;
	va_start(ap, r);
	for (const char *a; (a = va_arg(ap, const char *)) && r->nspec < NATRULES_ARGV_MAX;)
		snprintf(r->spec[r->nspec++], NATRULES_ARG_LEN, "%s", a);
	va_end(ap);
}

static const char *program_of(int family)
{
	return family == AF_INET6 ? "ip6tables" : "iptables";
}

int natrules_iptables_masq_plan(const struct natrules_masq *m, struct natrules_iptables_rule out[2],
				char *err, size_t errlen)
{
	memset(out, 0, 2 * sizeof(*out));
	if (m->self.family != AF_INET && m->self.family != AF_INET6)
		return errorf(err, errlen, -EINVAL, "masquerade rule: no own address");
	if (!nl_ifname_valid(m->oif))
		return errorf(err, errlen, -EINVAL, "masquerade rule: invalid interface %s",
			      m->oif);
	char self[NL_PREFIX_STRLEN];
	struct nl_prefix host = nl_prefix_host(&m->self);
	nl_prefix_format(&host, self, sizeof(self));
	out[0] = (struct natrules_iptables_rule){
	    .program = program_of(m->self.family), .table = "nat", .chain = "POSTROUTING"};
	spec(&out[0], "!", "-s", self, "-o", m->oif, "-j", "MASQUERADE", NULL);
	out[1] = (struct natrules_iptables_rule){
	    .program = program_of(m->self.family), .table = "filter", .chain = "FORWARD"};
	spec(&out[1], "-o", m->oif, "-m", "state", "--state", "INVALID", "-j", "DROP", NULL);
	return 0;
}

int natrules_iptables_connmark_plan(const struct natrules_connmark *c,
				    struct natrules_iptables_rule out[2], char *err, size_t errlen)
{
	memset(out, 0, 2 * sizeof(*out));
	if (c->family != AF_INET && c->family != AF_INET6)
		return errorf(err, errlen, -EINVAL, "connmark rule: no family");
	if (!nl_ifname_valid(c->ifname))
		return errorf(err, errlen, -EINVAL, "connmark rule: invalid interface %s",
			      c->ifname);
	char mark[16];
	snprintf(mark, sizeof(mark), "%u", c->mark);
	out[0] = (struct natrules_iptables_rule){
	    .program = program_of(c->family), .table = "mangle", .chain = "INPUT"};
	spec(&out[0], "-i", c->ifname, "-m", "conntrack", "--ctstate", "NEW,ESTABLISHED,RELATED",
	     "-j", "CONNMARK", "--set-mark", mark, NULL);
	out[1] = (struct natrules_iptables_rule){
	    .program = program_of(c->family), .table = "mangle", .chain = "OUTPUT"};
	spec(&out[1], "-m", "connmark", "--mark", mark, "-j", "CONNMARK", "--restore-mark", NULL);
	return 0;
}

size_t natrules_iptables_argv(const struct natrules_iptables_rule *r, const char *op,
			      const char **argv)
{
	size_t n = 0;
	argv[n++] = r->program;
	argv[n++] = "-w"; /* wait for the xtables lock instead of failing */
	argv[n++] = "-t";
	argv[n++] = r->table;
	argv[n++] = op;
	argv[n++] = r->chain;
	for (size_t i = 0; i < r->nspec; i++)
		argv[n++] = r->spec[i];
	argv[n] = NULL;
	return n;
}
