/* AddPeer / DelPeer: one ipip or ip6tnl link per peer, plus the family's fallback device. */
#include "founat/founat.h"

#include <errno.h>
#include <string.h>

#include "err/err.h"
#include "log/log.h"

static int create_tunnel(struct nl_sock *s, const struct founat_tunnel *t, char *err, size_t errlen)
{
	struct nl_iptun link = {.name = t->name,
				.kind = t->kind,
				.local = t->local,
				.remote = t->remote,
				.ttl = t->ttl,
				.encap_type = FOUNAT_ENCAP_FOU,
				.encap_sport = t->sport,
				.encap_dport = t->dport};
	return nl_iptun_create(s, &link, err, errlen);
}

/* Only one collect-metadata device per kind may exist in a netns: look before creating. */
static int ensure_fallback(struct nl_sock *s, const struct founat_tunnel *t, char *err,
			   size_t errlen)
{
	struct nl_link link;
	int rc = nl_link_get_by_name(s, t->fallback, &link, err, errlen);
	if (rc == -ENODEV) {
		struct nl_iptun fb = {
		    .name = t->fallback, .kind = t->kind, .collect_metadata = true};
		rc = nl_iptun_create(s, &fb, err, errlen);
		if (rc == 0)
			rc = nl_link_get_by_name(s, t->fallback, &link, err, errlen);
	}
	if (rc == 0)
		rc = nl_link_set_up(s, link.index, true, err, errlen);
	if (rc < 0)
		return rc;
	/* Renaming the kernel's own device only marks the netns as Coil's; failing to is
	 * harmless, so lookup and rename errors are ignored. */
	if (nl_link_get_by_name(s, t->kernel_fallback, &link, NULL, 0) == 0)
		(void)nl_link_rename(s, link.index, t->renamed_fallback, NULL, 0);
	return 0;
}

static int apply_step(struct nl_sock *s, const struct founat_tunnel *t, enum founat_step step,
		      const struct nl_iptun_info *have, char *err, size_t errlen)
{
	switch (step) {
	case FOUNAT_STEP_KEEP:
		return 0;
	case FOUNAT_STEP_CONFLICT:
		return errorf(err, errlen, -EEXIST, "link %s exists but is of kind %s, not %s",
			      t->name, have->link.kind, t->kind);
	case FOUNAT_STEP_RECREATE: {
		int rc = nl_link_delete(s, have->link.index, err, errlen);
		if (rc < 0)
			return rc;
		log_info("recreating a FoU tunnel for a new source port", "link", t->name);
	}
		/* fall through */
	case FOUNAT_STEP_CREATE:
		return create_tunnel(s, t, err, errlen);
	}
	return -EINVAL;
}

int founat_add_peer(struct nl_sock *s, const struct founat_config *c, const struct nl_ip *peer,
		    bool sport_auto, struct nl_link *out, char *err, size_t errlen)
{
	struct founat_tunnel t;
	int rc = founat_plan_tunnel(c, peer, sport_auto, &t, err, errlen);
	if (rc < 0)
		return rc;
	struct nl_iptun_info have;
	rc = nl_iptun_get(s, t.name, &have, err, errlen);
	if (rc < 0 && rc != -ENODEV)
		return rc;
	enum founat_step step = founat_plan_peer_step(&t, rc == 0 ? &have : NULL);
	rc = apply_step(s, &t, step, &have, err, errlen);
	if (rc == 0)
		rc = ensure_fallback(s, &t, err, errlen);
	if (rc == 0 && out)
		rc = nl_link_get_by_name(s, t.name, out, err, errlen);
	return rc;
}

int founat_del_peer(struct nl_sock *s, const struct nl_ip *peer, char *err, size_t errlen)
{
	char name[FOUNAT_NAME_LEN];
	if (founat_link_name(peer, name, sizeof(name)) < 0)
		return errorf(err, errlen, -EINVAL,
			      "delete FoU tunnel: peer address has no family");
	int rc = nl_link_delete_by_name(s, name, err, errlen);
	return rc == -ENODEV ? 0 : rc;
}
