/* The admission webhooks of coil's controllers: AddressPool (coil-ipam-controller,
 * docs/behaviour/ipam-controller.md) and Egress (coil-egress-controller,
 * docs/behaviour/egress-controller.md):
 * - pure AdmissionReview handling (jansson in, jansson out), one kind per webhook path,
 * - the certificate reloader that reads <cert-dir>/tls.crt and tls.key at TLS
 *   handshake time and follows rotations,
 * - the HTTPS server (libmicrohttpd + GnuTLS) serving the paths of the webhooks it is given,
 * - a TLS probe used by the /readyz "webhook" check and by tests.
 *
 * Functions that can fail return 0 or a negative errno and write a message
 * naming the object and input into err (errlen bytes). */
#ifndef COIL_WEBHOOK_H
#define COIL_WEBHOOK_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* ---- AdmissionReview handling (pure) ---------------------------------- */

#define WEBHOOK_POOL_MUTATE_PATH     "/mutate-coil-cybozu-com-v2-addresspool"
#define WEBHOOK_POOL_VALIDATE_PATH   "/validate-coil-cybozu-com-v2-addresspool"
#define WEBHOOK_EGRESS_MUTATE_PATH   "/mutate-coil-cybozu-com-v2-egress"
#define WEBHOOK_EGRESS_VALIDATE_PATH "/validate-coil-cybozu-com-v2-egress"

/* Largest request body the server accepts (HTTP 413 above it). AddressPools and Egresses
 * are small; this is far above any real one and bounds memory per request. */
#define WEBHOOK_MAX_BODY (3u << 20)

enum webhook_kind {
	WEBHOOK_POOL_MUTATE,
	WEBHOOK_POOL_VALIDATE,
	WEBHOOK_EGRESS_MUTATE,
	WEBHOOK_EGRESS_VALIDATE,
};

/* The URL path a webhook is served at (the WEBHOOK_*_PATH above). */
const char *webhook_path(enum webhook_kind kind);

/* The webhooks of each controller, for webhook_server_start(). */
#define WEBHOOK_POOL_KINDS ((const enum webhook_kind[]){WEBHOOK_POOL_MUTATE, WEBHOOK_POOL_VALIDATE})
#define WEBHOOK_EGRESS_KINDS                                                                       \
	((const enum webhook_kind[]){WEBHOOK_EGRESS_MUTATE, WEBHOOK_EGRESS_VALIDATE})

/* Answers one decoded AdmissionReview (admission.k8s.io/v1 or v1beta1) for the webhook
 * `kind`. Returns the response AdmissionReview (a new reference, caller json_decref()s it)
 * with the request's apiVersion and uid:
 * - AddressPool mutating: allowed, with a base64 JSONPatch adding the finalizer
 *   (coil.cybozu.com) unless present (DELETE: allowed, no patch);
 * - Egress mutating: allowed, with a JSONPatch giving a pod template without containers the
 *   container {name: egress} (DELETE: allowed, no patch);
 * - validating CREATE/UPDATE: allowed, or denied with a Kubernetes Status
 *   (code 422, reason Invalid, "<Kind>.coil.cybozu.com \"<name>\" is
 *   invalid: ..." with one cause per field error); other operations are allowed;
 * - an object that does not decode as the webhook's kind, or a request about
 *   another resource: denied with result code 400.
 * Returns NULL when the review itself is malformed (not an AdmissionReview, no
 * request, no uid, unknown apiVersion); err then says why and the caller
 * answers HTTP 400. */
json_t *webhook_review(enum webhook_kind kind, const json_t *review, char *err, size_t errlen);

struct webhook_reply {
	int status;		  /* HTTP status */
	char *body;		  /* malloc'd; caller frees */
	const char *content_type; /* static string */
};

/* Bytes in, bytes out around webhook_review(): 200 with the response review as
 * JSON, or 400 (unparsable JSON, malformed review) / 413 (body over
 * WEBHOOK_MAX_BODY) with a plain-text message. Always fills *reply; returns 0
 * or -ENOMEM (then reply->body is NULL and status 500). */
int webhook_handle_body(enum webhook_kind kind, const char *body, size_t len,
			struct webhook_reply *reply);

/* ---- certificate reloader ---------------------------------------------- */

struct cert_reloader;

/* Creates a reloader for <cert_dir>/tls.crt and <cert_dir>/tls.key. Loads
 * nothing yet (the files may appear later). Caller frees with
 * cert_reloader_free(), after every server using it has stopped. */
int cert_reloader_new(const char *cert_dir, struct cert_reloader **out, char *err, size_t errlen);
void cert_reloader_free(struct cert_reloader *reloader);

/* What a TLS handshake does: stats both files (following symlinks) and
 * reloads the key pair when a file's identity (mtime, inode, size) changed
 * since the last attempt. A failed reload or vanished files keep the cached
 * pair (logged once per change). Returns 0 when a pair is available, or a
 * negative errno with "webhook certificate is not ready: ..." when nothing was
 * ever loaded. Thread-safe. */
int cert_reloader_refresh(struct cert_reloader *reloader, char *err, size_t errlen);

/* Refreshes like cert_reloader_refresh(), then writes the serial number of the
 * served (leaf) certificate as lower-case hex without separators, e.g. "01". */
int cert_reloader_serial(struct cert_reloader *reloader, char *out, size_t outlen, char *err,
			 size_t errlen);

/* ---- HTTPS server ------------------------------------------------------ */

struct webhook_server;

/* Listens on addr ("host:port", ":port" for all addresses, "[v6]:port"; port 0
 * picks a free one) with TLS, certificates from cert_dir via a reloader, and
 * serves POST webhook_path(kinds[i]) for each of the n_kinds webhooks (Content-Type
 * application/json) with webhook_handle_body(); 404 for other paths, 405 for
 * other methods, 400 for other content types. Starts even when the
 * certificate files do not exist yet (handshakes fail until they do). An
 * unparsable addr is -EINVAL "invalid webhook address: <addr>". Caller stops
 * the server with webhook_server_stop(). */
int webhook_server_start(const char *addr, const char *cert_dir, const enum webhook_kind *kinds,
			 size_t n_kinds, struct webhook_server **out, char *err, size_t errlen);

/* Stops serving, closes connections and frees the server. NULL is a no-op. */
void webhook_server_stop(struct webhook_server *server);

/* The bound TCP port (useful with port 0). */
uint16_t webhook_server_port(const struct webhook_server *server);

/* Readiness (/readyz check "webhook"): 0 when a TLS handshake with the local
 * server succeeds (loopback, or the bound address), else a negative errno and
 * the reason. Times out after about 2 s. Thread-safe. */
int webhook_server_check_ready(struct webhook_server *server, char *err, size_t errlen);

/* Connects to host:port (numeric IPv4/IPv6 address), completes a TLS
 * handshake without verifying the peer, and writes the peer leaf
 * certificate's serial (hex as in cert_reloader_serial()) to serial unless
 * serial is NULL. Timeout about 2 s. */
int webhook_tls_probe(const char *host, uint16_t port, char *serial, size_t seriallen, char *err,
		      size_t errlen);

#endif
