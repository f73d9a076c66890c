/* Backend names as the --backend flags spell them. */
#include "natrules/natrules.h"

#include <errno.h>
#include <string.h>

#include "err/err.h"

int natrules_backend_parse(const char *text, enum natrules_backend *out, char *err, size_t errlen)
{
	if (text && strcmp(text, "iptables") == 0)
		*out = NATRULES_IPTABLES;
	else if (text && strcmp(text, "nftables") == 0)
		*out = NATRULES_NFTABLES;
	else
		return errorf(err, errlen, -EINVAL,
			      "invalid backend: %s (must be either iptables or nftables)",
			      text ? text : "");
	return 0;
}

const char *natrules_backend_name(enum natrules_backend b)
{
	return b == NATRULES_NFTABLES ? "nftables" : "iptables";
}
