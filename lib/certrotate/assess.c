/* Deciding what to regenerate: the CA first (missing, invalid or expiring within 90 days
 * renews everything), then the server certificate alone. */
#include <errno.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certrotate.h"
#include "gnutls_util.h"

void certrotate_pems_clear(struct certrotate_pems *pems)
{
	free(pems->ca_crt);
	free(pems->ca_key);
	free(pems->tls_crt);
	free(pems->tls_key);
	*pems = (struct certrotate_pems){0};
}

void certrotate_x509_free(struct certrotate_x509 *pair)
{
	if (pair->crt)
		gnutls_x509_crt_deinit(pair->crt);
	if (pair->key)
		gnutls_x509_privkey_deinit(pair->key);
	*pair = (struct certrotate_x509){0};
}

static int import_pem(const char *pem, gnutls_x509_crt_t *crt, gnutls_x509_privkey_t *key)
{
	gnutls_datum_t d = {.data = (unsigned char *)pem, .size = (unsigned)strlen(pem)};
	if (crt)
		return gnutls_x509_crt_init(crt) < 0
			   ? -1
			   : gnutls_x509_crt_import(*crt, &d, GNUTLS_X509_FMT_PEM);
	return gnutls_x509_privkey_init(key) < 0
		   ? -1
		   : gnutls_x509_privkey_import(*key, &d, GNUTLS_X509_FMT_PEM);
}

/* True when the key's id equals the certificate's public key id: they belong together. */
static bool key_matches(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key)
{
	unsigned char a[64], b[64];
	size_t alen = sizeof(a), blen = sizeof(b);
	return gnutls_x509_crt_get_key_id(crt, 0, a, &alen) >= 0 &&
	       gnutls_x509_privkey_get_key_id(key, 0, b, &blen) >= 0 && alen == blen &&
	       memcmp(a, b, alen) == 0;
}

int certrotate_x509_import(const char *crt_pem, const char *key_pem, struct certrotate_x509 *out,
			   const char *what, char *err, size_t errlen)
{
	*out = (struct certrotate_x509){0};
	const char *problem = NULL;
	if (!crt_pem || !*crt_pem || !key_pem || !*key_pem)
		problem = "certificate or key missing";
	else if (import_pem(crt_pem, &out->crt, NULL) < 0)
		problem = "certificate does not parse";
	else if (import_pem(key_pem, NULL, &out->key) < 0)
		problem = "key does not parse";
	else if (!key_matches(out->crt, out->key))
		problem = "key does not belong to the certificate";
	if (!problem)
		return 0;
	snprintf(err, errlen, "%s: %s", what, problem);
	certrotate_x509_free(out);
	return -EINVAL;
}

/* Both ends of the validity period around [now, now + lookahead]. */
static bool valid_through_lookahead(gnutls_x509_crt_t crt, time_t now)
{
	time_t from = gnutls_x509_crt_get_activation_time(crt);
	time_t until = gnutls_x509_crt_get_expiration_time(crt);
	return from != (time_t)-1 && until != (time_t)-1 && from <= now &&
	       until > now + CERTROTATE_LOOKAHEAD;
}

static bool ca_usable(const struct certrotate_pems *pems, time_t now, char *why, size_t whylen)
{
	struct certrotate_x509 ca;
	if (certrotate_x509_import(pems->ca_crt, pems->ca_key, &ca, "CA", why, whylen) < 0)
		return false;
	unsigned critical = 0;
	bool ok = gnutls_x509_crt_get_ca_status(ca.crt, &critical) > 0;
	if (!ok)
		snprintf(why, whylen, "CA: not a CA certificate");
	else if (!(ok = valid_through_lookahead(ca.crt, now)))
		snprintf(why, whylen, "CA: expires within the lookahead or not yet valid");
	certrotate_x509_free(&ca);
	return ok;
}

/* The server pair verifies against the CA (times checked separately) for the service name. */
static bool server_usable(const struct certrotate_names *names, const struct certrotate_pems *pems,
			  time_t now, char *why, size_t whylen)
{
	struct certrotate_x509 ca, srv = {0};
	if (certrotate_x509_import(pems->ca_crt, pems->ca_key, &ca, "CA", why, whylen) < 0)
		return false;
	bool ok =
	    certrotate_x509_import(pems->tls_crt, pems->tls_key, &srv, "server", why, whylen) == 0;
	unsigned status = 0;
	if (ok && (gnutls_x509_crt_verify(srv.crt, &ca.crt, 1, GNUTLS_VERIFY_DISABLE_TIME_CHECKS,
					  &status) < 0 ||
		   status != 0)) {
		snprintf(why, whylen, "server: not signed by the CA (status 0x%x)", status);
		ok = false;
	} else if (ok && !gnutls_x509_crt_check_hostname(srv.crt, names->service_dns)) {
		snprintf(why, whylen, "server: not valid for %s", names->service_dns);
		ok = false;
	} else if (ok && !valid_through_lookahead(srv.crt, now)) {
		snprintf(why, whylen, "server: expires within the lookahead or not yet valid");
		ok = false;
	}
	certrotate_x509_free(&srv);
	certrotate_x509_free(&ca);
	return ok;
}

enum certrotate_need certrotate_assess(const struct certrotate_names *names,
				       const struct certrotate_pems *pems, time_t now, char *why,
				       size_t whylen)
{
	snprintf(why, whylen, "certificates are valid");
	if (!ca_usable(pems, now, why, whylen))
		return CERTROTATE_NEW_ALL;
	if (!server_usable(names, pems, now, why, whylen))
		return CERTROTATE_NEW_SERVER;
	return CERTROTATE_KEEP;
}

int certrotate_regenerate(const struct certrotate_names *names, struct certrotate_pems *pems,
			  enum certrotate_need need, time_t now, char *err, size_t errlen)
{
	struct certrotate_pems fresh = {0};
	int ret = 0;
	if (need == CERTROTATE_KEEP)
		return 0;
	if (need == CERTROTATE_NEW_ALL)
		ret = certrotate_issue_ca(names, now, CERTROTATE_CA_VALIDITY, &fresh.ca_crt,
					  &fresh.ca_key, err, errlen);
	else if (!(fresh.ca_crt = strdup(pems->ca_crt)) || !(fresh.ca_key = strdup(pems->ca_key)))
		ret = -ENOMEM;
	if (ret == 0)
		ret = certrotate_issue_server(names, fresh.ca_crt, fresh.ca_key, now,
					      CERTROTATE_SERVER_VALIDITY, &fresh.tls_crt,
					      &fresh.tls_key, err, errlen);
	if (ret < 0) {
		if (ret == -ENOMEM)
			snprintf(err, errlen, "regenerate certificates: out of memory");
		certrotate_pems_clear(&fresh);
		return ret;
	}
	certrotate_pems_clear(pems);
	*pems = fresh;
	return 0;
}
