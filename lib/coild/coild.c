#include "coild/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"

/* Startup rebuild (docs/behaviour/daemon.md): every host veth with a COIL alias is a
 * running pod; its addresses come from the pod table. They are registered so that they
 * are never handed out again, and the pods are left untouched. */
static int restore_pods(struct coild *d, const struct podnet_entry *pods, size_t n, char *err,
			size_t errlen)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		char v4[NL_IP_STRLEN], v6[NL_IP_STRLEN];
		nl_ip_format(&pods[i].ipv4, v4, sizeof(v4));
		nl_ip_format(&pods[i].ipv6, v6, sizeof(v6));
		rc = node_ipam_register(d->ipam, pods[i].pool, pods[i].container_id, pods[i].ifname,
					v4, v6, err, errlen);
		if (rc == 0)
			log_info("restored pod address", "container_id", pods[i].container_id,
				 "ifname", pods[i].ifname, "pool", pods[i].pool, "ipv4", v4, "ipv6",
				 v6, "veth", pods[i].host_veth);
	}
	return rc;
}

/* Whether the kernel has an object of the record's attachment: an aliased host veth, or
 * one named after the attachment that a crash left without alias. A failed lookup counts
 * as yes: a record is only ever released when nothing can hold its address. */
static bool in_kernel(struct coild *d, const struct podnet_entry *pods, size_t n,
		      const struct node_ipam_record *r)
{
	char err[256];
	for (size_t i = 0; i < n; i++)
		if (!strcmp(pods[i].container_id, r->container_id) &&
		    !strcmp(pods[i].ifname, r->ifname))
			return true;
	return podnet_find_by_name(d->podnet, r->container_id, r->ifname, err, sizeof(err)) !=
	       -ENOENT;
}

/* The kernel is the truth: a record without a kernel object belongs to a pod deleted while
 * the daemon was down, or to an ADD that died before it created the veth; its address is
 * released (a failure is logged; the record then stays for DEL or CNI GC). */
static void release_stale_records(struct coild *d, const struct podnet_entry *pods, size_t n)
{
	struct node_ipam_record *records = NULL;
	size_t nrec = 0;
	if (node_ipam_list_records(d->ipam, &records, &nrec) < 0)
		log_warn("cannot list allocation records; keeping them all");
	for (size_t i = 0; i < nrec; i++) {
		const struct node_ipam_record *r = &records[i];
		char err[512];
		if (in_kernel(d, pods, n, r))
			continue;
		log_info("releasing the address of an attachment the kernel does not have",
			 "container_id", r->container_id, "ifname", r->ifname, "ipv4", r->ipv4,
			 "ipv6", r->ipv6);
		if (node_ipam_free(d->ipam, r->container_id, r->ifname, err, sizeof(err)) < 0)
			log_warn("failed to release a stale allocation record", "error", err);
	}
	free(records);
}

/* Rebuild and stale-record release over one view of the kernel's pods. Links retired by a
 * daemon that stopped before reaping them go first: their records are then released as
 * stale with the others, and never before their links are gone. */
static int reconcile_with_kernel(struct coild *d, char *err, size_t errlen)
{
	struct podnet_entry *pods = NULL;
	size_t n = 0;
	int rc = podnet_reap(d->podnet, err, errlen);
	if (rc == 0)
		rc = podnet_list(d->podnet, &pods, &n, err, errlen);
	if (rc == 0)
		rc = restore_pods(d, pods, n, err, errlen);
	if (rc == 0)
		release_stale_records(d, pods, n);
	free(pods);
	return rc;
}

/* The startup GC releases empty blocks; a failure (API server away, full disk) is logged
 * and left to the periodic GC, so that the daemon still serves its pods. */
static void startup_gc(struct coild *d)
{
	char err[512];
	if (node_ipam_gc(d->ipam, NULL, NULL, err, sizeof(err)) < 0)
		log_warn("startup block GC failed; the periodic GC retries", "error", err);
}

int coild_new(const struct coild_config *cfg, const struct block_source *source,
	      struct metrics *metrics, struct coild **out, char *err, size_t errlen)
{
	struct coild *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->cfg = *cfg;
	d->source = source;
	d->metrics = metrics;
	pthread_mutex_init(&d->export_lock, NULL);
	coild_metrics_declare(metrics);

	int rc = podnet_new(&cfg->podnet, &d->podnet, err, errlen);
	if (rc == 0 && podnet_init(d->podnet, err, errlen) < 0)
		log_warn("host network init incomplete", "error", err);
	if (rc == 0 && cfg->egress_only) { /* no addresses of its own to keep or export */
		d->ready = true;
		*out = d;
		return 0;
	}
	struct node_ipam_config icfg = {
	    .source = source,
	    .state_dir = cfg->state_dir,
	    .node_name = cfg->node_name,
	    .blocks_changed = coild_blocks_changed,
	    .blocks_changed_arg = d,
	    .empty_grace_ms = cfg->empty_block_grace_ms,
	};
	if (rc == 0)
		rc = node_ipam_new(&icfg, &d->ipam, err, errlen);
	if (rc == 0)
		rc = reconcile_with_kernel(d, err, errlen);
	if (rc == 0)
		rc = coild_reaper_start(d, &d->reaper, err, errlen);
	if (rc == 0) {
		startup_gc(d);
		rc = coild_export_routes(d, err, errlen);
	}
	if (rc < 0) {
		coild_free(d);
		return rc;
	}
	d->ready = true;
	*out = d;
	return 0;
}

void coild_free(struct coild *d)
{
	if (!d)
		return;
	coild_reaper_stop(d->reaper);
	node_ipam_destroy(d->ipam);
	podnet_free(d->podnet);
	pthread_mutex_destroy(&d->export_lock);
	free(d);
}

int coild_gc(struct coild *d, char *err, size_t errlen)
{
	if (!d->ipam) /* egress-only */
		return 0;
	int rc = node_ipam_gc(d->ipam, NULL, NULL, err, errlen);
	/* gc re-exports through blocks_changed; export again so that routes someone
	 * removed by hand come back even when no block changed. */
	char err2[256];
	int rc2 = coild_export_routes(d, err2, sizeof(err2));
	if (rc == 0 && rc2 < 0) {
		snprintf(err, errlen, "%s", err2);
		rc = rc2;
	}
	return rc;
}

bool coild_ready(const struct coild *d)
{
	return d && d->ready;
}
