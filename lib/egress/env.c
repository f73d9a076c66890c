/* The gateway pod's environment, set by the Deployment the egress controller generates. */
#include "egress/egress.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "err/err.h"

static int copy_required(const char *value, const char *var, char *dst, size_t len, char *err,
			 size_t errlen)
{
	if (!value || !*value)
		return errorf(err, errlen, -EINVAL, "%s environment variable must be set", var);
	if (strlen(value) >= len)
		return errorf(err, errlen, -EINVAL, "%s is too long", var);
	memcpy(dst, value, strlen(value) + 1);
	return 0;
}

/* Splits on ','; every element must be an address (so "" fails on its empty element). */
static int parse_addresses(const char *list, struct egress_env *out, char *err, size_t errlen)
{
	const char *p = list ? list : "";
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		char text[NL_IP_STRLEN] = "";
		struct nl_ip ip;
		if (n >= sizeof(text) || (memcpy(text, p, n), nl_ip_parse(text, &ip) < 0))
			return errorf(err, errlen, -EINVAL,
				      "COIL_POD_ADDRESSES contains invalid address: %.*s",
				      (int)(n > 64 ? 64 : n), p);
		ip = founat_ip_normalize(&ip); /* ::ffff:a.b.c.d is IPv4, as in Go */
		if (ip.family == AF_INET)
			out->local4 = ip;
		else
			out->local6 = ip;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

int egress_env_parse(const char *ns, const char *name, const char *addresses, const char *hostname,
		     struct egress_env *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	int rc = copy_required(ns, "COIL_POD_NAMESPACE", out->ns, sizeof(out->ns), err, errlen);
	if (rc == 0)
		rc = copy_required(name, "COIL_EGRESS_NAME", out->name, sizeof(out->name), err,
				   errlen);
	if (rc == 0)
		rc = parse_addresses(addresses, out, err, errlen);
	if (rc == 0)
		snprintf(out->pod, sizeof(out->pod), "%s", hostname ? hostname : "");
	return rc;
}
