/* Route export (docs/behaviour/daemon.md): the export table (119 by default) holds exactly one
 * route per address block this node owns, via lo with the pod routes' protocol (30), so that a
 * routing daemon such as BIRD can advertise the blocks. coild owns the table wholesale: any
 * other route there is removed. */
#include "coild/internal.h"
#include "err/err.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"

static void count_added(void *arg, const char *what, const struct nl_route *r)
{
	(void)r;
	if (strcmp(what, "added") == 0)
		++*(int *)arg;
}

/* want's oif is filled in here (lo); *added (may be NULL) counts the routes added. */
static int sync_export_table(struct coild *d, struct nl_route *want, size_t n, int *added,
			     char *err, size_t errlen)
{
	int ignored = 0;
	struct nl_sock s = {0};
	int rc = nl_sock_open(&s, err, errlen);
	if (rc < 0)
		return rc;
	struct nl_link lo;
	rc = nl_link_get_by_name(&s, "lo", &lo, err, errlen);
	if (rc == 0) {
		struct nl_route_set set = {.table = d->cfg.export_table,
					   .protocol = d->cfg.podnet.protocol,
					   .own_protocol_only = false,
					   .changed = count_added,
					   .changed_arg = added ? added : &ignored};
		for (size_t i = 0; i < n; i++)
			want[i].oif = lo.index;
		pthread_mutex_lock(&d->export_lock);
		rc = nl_route_sync_set(&s, &set, want, n, err, errlen);
		pthread_mutex_unlock(&d->export_lock);
	}
	nl_sock_close(&s);
	return rc;
}

int coild_export_routes(struct coild *d, char *err, size_t errlen)
{
	return coild_export_routes_counted(d, NULL, err, errlen);
}

int coild_export_routes_counted(struct coild *d, int *added, char *err, size_t errlen)
{
	struct node_ipam_cidr *cidrs = NULL;
	size_t n = 0;
	if (node_ipam_owned_cidrs(d->ipam, &cidrs, &n) < 0)
		return errorf(err, errlen, -ENOMEM, "list owned blocks: out of memory");
	struct nl_route *want = calloc(n ? n : 1, sizeof(*want));
	int rc = want ? 0 : -ENOMEM;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (nl_prefix_parse(cidrs[i].text, &want[i].dst) < 0) {
			snprintf(err, errlen, "owned block has a bad CIDR: %s", cidrs[i].text);
			rc = -EINVAL;
		}
	}
	if (rc == 0)
		rc = sync_export_table(d, want, n, added, err, errlen);
	free(want);
	free(cidrs);
	return rc;
}

int coild_clear_routes(struct coild *d, char *err, size_t errlen)
{
	return sync_export_table(d, NULL, 0, NULL, err, errlen);
}

void coild_blocks_changed(void *arg)
{
	struct coild *d = arg;
	char err[256];
	if (!d->ipam) /* the first sync inside node_ipam_new(); coild_new exports after it */
		return;
	if (coild_export_routes(d, err, sizeof(err)) < 0)
		log_error("failed to export block routes", "error", err);
}
