/* Init: FoU listeners, sysctls and the marker link, once per netns. */
#include "founat/founat.h"

#include <errno.h>

#include "err/err.h"
#include "log/log.h"

int founat_is_initialized(struct nl_sock *s, bool *out, char *err, size_t errlen)
{
	struct nl_link link;
	int rc = nl_link_get_by_name(s, FOUNAT_MARKER, &link, err, errlen);
	*out = rc == 0;
	return rc == -ENODEV ? 0 : rc;
}

static int add_listener(const struct founat_listener *l, char *err, size_t errlen)
{
	int rc = founat_load_module(l->module, err, errlen);
	if (rc == 0)
		rc = founat_fou_add(l, err, errlen);
	return rc;
}

int founat_init(struct nl_sock *s, const struct founat_config *c, char *err, size_t errlen)
{
	bool done = false;
	int rc = founat_is_initialized(s, &done, err, errlen);
	if (rc < 0 || done)
		return rc;
	struct founat_init_plan plan;
	rc = founat_plan_init(c, &plan, err, errlen);
	for (size_t i = 0; rc == 0 && i < plan.nlisteners; i++)
		rc = add_listener(&plan.listeners[i], err, errlen);
	for (size_t i = 0; rc == 0 && i < plan.nsysctls; i++)
		rc = nl_sysctl_write(plan.sysctls[i].parts, plan.sysctls[i].nparts,
				     plan.sysctls[i].value, err, errlen);
	if (rc == 0)
		rc = nl_dummy_create(s, FOUNAT_MARKER, err, errlen);
	return rc;
}
