/* Self-managed webhook certificates of coil's controllers (--enable-cert-rotation, see
 * docs/applets/ipam-controller.md and egress-controller.md): a CA and a server certificate kept
 * in a Secret in kube-system (updated, never created), the CA injected as caBundle into the
 * controller's two webhook configurations, and tls.crt/tls.key written into its --cert-dir.
 * Which Secret, service name and configurations: struct certrotate_names.
 * Checked at start, every 12 h and whenever the Secret or a configuration changes; nothing is
 * written when nothing changed, so our own writes do not feed a loop (upstream cybozu-go/coil#374).
 *
 * Functions that can fail return 0 or a negative errno and write a message naming the object
 * into err (errlen bytes). */
#ifndef COIL_CERTROTATE_H
#define COIL_CERTROTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "kube/kube.h"

#define CERTROTATE_NAMESPACE "kube-system"

/* The objects one controller's rotation maintains. */
struct certrotate_names {
	const char *secret;		   /* the Secret in CERTROTATE_NAMESPACE */
	const char *service_dns;	   /* "<webhook service>.kube-system.svc" (CN and SAN) */
	const char *validating, *mutating; /* the webhook configurations */
	const char *ca_cn;		   /* common name of the self-signed CA */
};

/* coil-ipam-controller's (coilv2-ipam-webhook-*, CA coil-ipam-ca) and
 * coil-egress-controller's (coilv2-egress-webhook-*, CA coil-egress-ca). */
extern const struct certrotate_names CERTROTATE_IPAM, CERTROTATE_EGRESS;

#define CERTROTATE_CA_VALIDITY	   (10L * 365 * 24 * 3600)
#define CERTROTATE_SERVER_VALIDITY (365L * 24 * 3600)
#define CERTROTATE_LOOKAHEAD	   (90L * 24 * 3600) /* renew when expiring within this */

/* ---- certificates (pure, GnuTLS) ----------------------------------------- */

/* The four PEM texts of the Secret. Each is a malloc'd NUL-terminated string or NULL;
 * certrotate_pems_clear() frees them. */
struct certrotate_pems {
	char *ca_crt, *ca_key, *tls_crt, *tls_key;
};
void certrotate_pems_clear(struct certrotate_pems *pems);

enum certrotate_need {
	CERTROTATE_KEEP,       /* both certificates are good beyond the lookahead */
	CERTROTATE_NEW_SERVER, /* the CA is good; the server certificate/key is not */
	CERTROTATE_NEW_ALL,    /* the CA (or its key) is missing, invalid or expiring */
};

/* Decides what must be regenerated at time now (the server certificate must be valid for
 * names->service_dns); why (whylen bytes) says what was wrong. */
enum certrotate_need certrotate_assess(const struct certrotate_names *names,
				       const struct certrotate_pems *pems, time_t now, char *why,
				       size_t whylen);

/* Issues a self-signed CA (RSA 2048, CN names->ca_cn, O coil, notBefore now-1h, notAfter
 * now+validity). *crt and *key get malloc'd PEM strings (key as PKCS#1) the caller frees. */
int certrotate_issue_ca(const struct certrotate_names *names, time_t now, long validity, char **crt,
			char **key, char *err, size_t errlen);

/* Issues the server certificate (RSA 2048, CN and SANs names->service_dns and
 * ....svc.cluster.local, serverAuth) signed by the given CA PEMs. Outputs as above. */
int certrotate_issue_server(const struct certrotate_names *names, const char *ca_crt,
			    const char *ca_key, time_t now, long validity, char **crt, char **key,
			    char *err, size_t errlen);

/* Replaces what `need` says with fresh material (NEW_ALL: all four, NEW_SERVER: tls.*). */
int certrotate_regenerate(const struct certrotate_names *names, struct certrotate_pems *pems,
			  enum certrotate_need need, time_t now, char *err, size_t errlen);

/* ---- one round against the API server ------------------------------------ */

/* Reads the Secret, regenerates what certrotate_assess() asks for and updates the Secret when
 * (and only when) something was regenerated; *written tells. *pems gets the Secret's current
 * PEMs (caller clears). A missing Secret is -ENOENT ("must exist; it is never created"). */
int certrotate_sync_secret(struct kube_client *client, const struct certrotate_names *names,
			   time_t now, struct certrotate_pems *pems, bool *written, char *err,
			   size_t errlen);

/* Sets webhooks[*].clientConfig.caBundle = base64(ca_pem) in both configurations, updating a
 * configuration only when one of its bundles differs. A missing configuration is skipped (it
 * is handled once it appears). *written counts the updated configurations. */
int certrotate_inject_ca(struct kube_client *client, const struct certrotate_names *names,
			 const char *ca_pem, int *written, char *err, size_t errlen);

/* Makes <cert_dir>/tls.crt and tls.key hold the given PEMs. Writes them (atomically, key first)
 * when they differ and the directory is writable; *written tells. When it is not writable
 * (a Secret volume synced by the kubelet), returns -EROFS/-EACCES so the caller waits. */
int certrotate_sync_files(const char *cert_dir, const struct certrotate_pems *pems, bool *written,
			  char *err, size_t errlen);

/* ---- the rotator thread ------------------------------------------------------ */

struct certrotate_opts {
	struct kube_client *client;	      /* borrowed; must outlive the rotator */
	const struct certrotate_names *names; /* borrowed; CERTROTATE_IPAM or CERTROTATE_EGRESS */
	const char *cert_dir;		      /* borrowed */
	long interval_ms;		      /* periodic check; 0 = 12 h */
	/* With stop_after_secret_write (--enable-restart-on-cert-refresh), on_secret_written is
	 * called on the rotator thread right after it rewrote the Secret, and the rotator ends
	 * (the CA is injected by the restarted process). May be NULL. */
	bool stop_after_secret_write;
	void (*on_secret_written)(void *arg);
	/* Called once on the rotator thread when it gives up (cert files never appeared); it then
	 * ends. May be NULL. */
	void (*on_failure)(void *arg, const char *err);
	void *arg;
};

struct certrotate;

/* Starts watching the Secret and both configurations (errors returned here) and the rotator
 * thread, which runs a round at once, then on every change and every interval_ms. A failed first
 * round (missing Secret, API errors) or cert files that never appear end the thread through
 * on_failure; later failures are retried with backoff. Stop and free with certrotate_stop(). */
int certrotate_start(const struct certrotate_opts *opts, struct certrotate **out, char *err,
		     size_t errlen);
void certrotate_stop(struct certrotate *rotator); /* NULL is a no-op; joins the thread */

#endif
