/* The public entry points: dispatch to the chosen backend. */
#include "natrules_internal.h"

int natrules_masq_apply(enum natrules_backend b, const struct natrules_masq *m, char *err,
			size_t errlen)
{
	return b == NATRULES_NFTABLES ? natrules_nft_masq_apply(m, err, errlen)
				      : natrules_iptables_masq_apply(m, err, errlen);
}

int natrules_connmark_apply(enum natrules_backend b, const struct natrules_connmark *c, char *err,
			    size_t errlen)
{
	return b == NATRULES_NFTABLES ? natrules_nft_connmark_apply(c, err, errlen)
				      : natrules_iptables_connmark_apply(c, err, errlen);
}

int natrules_connmark_remove(enum natrules_backend b, const struct natrules_connmark *c, char *err,
			     size_t errlen)
{
	return b == NATRULES_NFTABLES ? natrules_nft_connmark_remove(c, err, errlen)
				      : natrules_iptables_connmark_remove(c, err, errlen);
}
