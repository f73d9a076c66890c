/* Host init at startup (each step non-fatal): forwarding, the pod-table rule, MTU. */
#include "podnet_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log/log.h"

static int enable_forwarding(const char *const *parts, size_t n, char *err, size_t errlen)
{
	char val[16];
	if (nl_sysctl_read(parts, n, val, sizeof(val), err, errlen) == 0 && !strcmp(val, "1"))
		return 0;
	return nl_sysctl_write(parts, n, "1", err, errlen);
}

/* Table 0 is "no table" (egress-only installs pass --pod-table-id=0): nothing to consult.
 * The kernel refuses "lookup 0" for IPv6 ("Invalid table") and, for IPv4, makes the rule
 * point at a fresh empty table with the first free id, which another program may fill later
 * and then find consulted at this priority. So no rule is added (nor repaired) for it. */
static bool wants_rule(const struct podnet_config *cfg)
{
	return cfg->table != 0;
}

/* Adds "pref <prio> lookup <table>" unless a rule with that priority exists (any table);
 * *added (may be NULL) tells whether it did. */
static int ensure_rule(struct nl_sock *s, const struct podnet_config *cfg, int family, bool *added,
		       char *err, size_t errlen)
{
	struct nl_rule *rules;
	size_t n;
	if (added)
		*added = false;
	if (!wants_rule(cfg))
		return 0;
	int rc = nl_rule_list(s, family, &rules, &n, err, errlen);
	if (rc < 0)
		return rc;
	bool present = false;
	for (size_t i = 0; i < n && !present; i++)
		present = rules[i].has_priority && rules[i].priority == cfg->rule_priority;
	free(rules);
	if (present)
		return 0;
	struct nl_rule r = {.family = family,
			    .has_priority = true,
			    .priority = cfg->rule_priority,
			    .table = cfg->table};
	rc = nl_rule_add(s, &r, err, errlen);
	if (added)
		*added = rc == 0;
	return rc;
}

/* Logs a failed step and keeps the first error for the caller. */
static void note(int rc, const char *step, const char *msg, int *first, char *err, size_t errlen)
{
	if (rc == 0)
		return;
	log_warn("host network init step failed", "step", step, "error", msg);
	if (*first == 0) {
		*first = rc;
		snprintf(err, errlen, "%s", msg);
	}
}

static int init_rules(struct podnet *pn, int *first, char *err, size_t errlen)
{
	char msg[512];
	struct nl_sock s;
	if (!wants_rule(&pn->cfg)) {
		log_info("no pod-table rule: the pod table is 0");
		return 0;
	}
	int rc = nl_sock_open(&s, msg, sizeof(msg));
	note(rc, "rules", msg, first, err, errlen);
	if (rc < 0)
		return rc;
	note(ensure_rule(&s, &pn->cfg, AF_INET, NULL, msg, sizeof(msg)), "IPv4 rule", msg, first,
	     err, errlen);
	note(ensure_rule(&s, &pn->cfg, AF_INET6, NULL, msg, sizeof(msg)), "IPv6 rule", msg, first,
	     err, errlen);
	nl_sock_close(&s);
	return 0;
}

int podnet_init(struct podnet *pn, char *err, size_t errlen)
{
	static const char *const v4[] = {"net", "ipv4", "ip_forward"};
	static const char *const v6[] = {"net", "ipv6", "conf", "all", "forwarding"};
	char msg[512];
	int first = 0;
	note(enable_forwarding(v4, 3, msg, sizeof(msg)), "ipv4 forwarding", msg, &first, err,
	     errlen);
	note(enable_forwarding(v6, 5, msg, sizeof(msg)), "ipv6 forwarding", msg, &first, err,
	     errlen);
	init_rules(pn, &first, err, errlen);
	if (pn->cfg.mtu == 0) {
		unsigned mtu = 0;
		note(podnet_detect_mtu(&mtu, msg, sizeof(msg)), "mtu detection", msg, &first, err,
		     errlen);
		pn->mtu = mtu;
	}
	return first;
}

int podnet_ensure_rules(struct podnet *pn, int *added, char *err, size_t errlen)
{
	static const int families[] = {AF_INET, AF_INET6};
	struct nl_sock s;
	*added = 0;
	int rc = nl_sock_open(&s, err, errlen);
	for (size_t i = 0; rc == 0 && i < 2; i++) {
		bool one = false;
		rc = ensure_rule(&s, &pn->cfg, families[i], &one, err, errlen);
		*added += one;
	}
	nl_sock_close(&s);
	return rc;
}
