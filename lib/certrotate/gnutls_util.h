/* Parsed certificate + key pairs shared by issue.c and assess.c (internal). */
#ifndef COIL_CERTROTATE_GNUTLS_UTIL_H
#define COIL_CERTROTATE_GNUTLS_UTIL_H

#include <gnutls/x509.h>
#include <stddef.h>

struct certrotate_x509 {
	gnutls_x509_crt_t crt;
	gnutls_x509_privkey_t key;
};

/* Imports a PEM certificate and PEM private key (either may fail: NULL text, garbage, or a key
 * that does not belong to the certificate → -EINVAL with "<what> ..." in err). On failure
 * nothing needs freeing; on success free with certrotate_x509_free(). */
int certrotate_x509_import(const char *crt_pem, const char *key_pem, struct certrotate_x509 *out,
			   const char *what, char *err, size_t errlen);
void certrotate_x509_free(struct certrotate_x509 *pair);

#endif
