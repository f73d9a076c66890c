/* Internals shared by the reloader and the HTTPS server (GnuTLS types). */
#ifndef COIL_WEBHOOK_TLS_INTERNAL_H
#define COIL_WEBHOOK_TLS_INTERNAL_H

#include "webhook.h"

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

/* A loaded certificate chain and its private key. Reference-counted: a TLS
 * connection keeps the pair it handshook with until it closes, even when a
 * rotation replaced it meanwhile. */
struct cert_pair;

/* Refreshes (see cert_reloader_refresh) and returns the current pair with a
 * reference the caller drops with cert_pair_release(). */
int cert_reloader_acquire(struct cert_reloader *reloader, struct cert_pair **out, char *err,
			  size_t errlen);
void cert_pair_release(struct cert_pair *pair);

/* The GnuTLS objects of pair, valid while the caller holds its reference. */
void cert_pair_credentials(struct cert_pair *pair, gnutls_pcert_st **pcerts, unsigned *n_pcerts,
			   gnutls_privkey_t *key);

/* Serial of a DER certificate as lower-case hex. Returns 0 or -EINVAL. */
int cert_serial_hex(const gnutls_datum_t *der, char *out, size_t outlen);

#endif
