/* The iptables backend: exec iptables/ip6tables with argv arrays. */
#include "natrules_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "err/err.h"
#include "spawn/spawn.h"

/* iptables -C exits 1 when the rule is missing; 2+ is a usage or kernel error. */
#define IPTABLES_RULE_MISSING 1

/* Runs one operation; *status = iptables' exit status. */
static int run_op(const struct natrules_iptables_rule *r, const char *op, int *status, char *err,
		  size_t errlen)
{
	const char *argv[NATRULES_ARGV_MAX + 8];
	natrules_iptables_argv(r, op, argv);
	struct spawn_result res;
	int rc = spawn_run(argv, &res, err, errlen);
	if (rc < 0)
		return rc;
	*status = res.status;
	if (res.status != 0 && (strcmp(op, "-C") != 0 || res.status != IPTABLES_RULE_MISSING) &&
	    (strcmp(op, "-D") != 0 || res.status != IPTABLES_RULE_MISSING))
		return errorf(err, errlen, -EIO, "%s -t %s %s %s: exit %d: %s", r->program,
			      r->table, op, r->chain, res.status, res.output);
	return 0;
}

static int append_unique(const struct natrules_iptables_rule *r, char *err, size_t errlen)
{
	int status = 0;
	int rc = run_op(r, "-C", &status, err, errlen);
	if (rc == 0 && status == IPTABLES_RULE_MISSING)
		rc = run_op(r, "-A", &status, err, errlen);
	return rc;
}

/* Deletes r while present (a rule appended twice by hand goes entirely). */
static int delete_all(const struct natrules_iptables_rule *r, char *err, size_t errlen)
{
	for (int i = 0; i < 16; i++) {
		int status = 0;
		int rc = run_op(r, "-D", &status, err, errlen);
		if (rc < 0 || status != 0)
			return rc;
	}
	return 0;
}

/* Runs op_fn on both rules of a plan; plan_rc is the plan's result. */
static int each_rule(int plan_rc, struct natrules_iptables_rule rules[2],
		     int (*op_fn)(const struct natrules_iptables_rule *, char *, size_t), char *err,
		     size_t errlen)
{
	for (size_t i = 0; plan_rc == 0 && i < 2; i++)
		plan_rc = op_fn(&rules[i], err, errlen);
	return plan_rc;
}

int natrules_iptables_masq_apply(const struct natrules_masq *m, char *err, size_t errlen)
{
	struct natrules_iptables_rule rules[2];
	int rc = natrules_iptables_masq_plan(m, rules, err, errlen);
	return each_rule(rc, rules, append_unique, err, errlen);
}

int natrules_iptables_connmark_apply(const struct natrules_connmark *c, char *err, size_t errlen)
{
	struct natrules_iptables_rule rules[2];
	int rc = natrules_iptables_connmark_plan(c, rules, err, errlen);
	return each_rule(rc, rules, append_unique, err, errlen);
}

int natrules_iptables_connmark_remove(const struct natrules_connmark *c, char *err, size_t errlen)
{
	struct natrules_iptables_rule rules[2];
	int rc = natrules_iptables_connmark_plan(c, rules, err, errlen);
	return each_rule(rc, rules, delete_all, err, errlen);
}
