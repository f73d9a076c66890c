/* Issuing the CA and the server certificate with GnuTLS (names, key sizes and lifetimes as
 * upstream's rotator: docs/applets/ipam-controller.md). */
#include <errno.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "certrotate.h"
#include "gnutls_util.h"

#define CA_ORG	 "coil"
#define KEY_BITS 2048
#define BACKDATE 3600 /* notBefore = now - 1 h: tolerate clock skew between nodes */

#define TRY(call, what)                                                                            \
	do {                                                                                       \
		int rc_ = (call);                                                                  \
		if (rc_ < 0) {                                                                     \
			snprintf(err, errlen, "%s: %s", what, gnutls_strerror(rc_));               \
			return -EINVAL;                                                            \
		}                                                                                  \
	} while (0)

/* A positive random 128-bit serial number. */
static int set_random_serial(gnutls_x509_crt_t crt, char *err, size_t errlen)
{
	unsigned char serial[16];
	if (getrandom(serial, sizeof(serial), 0) != (ssize_t)sizeof(serial)) {
		snprintf(err, errlen, "getrandom for a certificate serial: %s", strerror(errno));
		return -EIO;
	}
	serial[0] = (serial[0] & 0x7f) | 0x40; /* positive and without a leading zero octet */
	TRY(gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)), "set serial");
	return 0;
}

/* What both certificates share: version, serial, validity, subject, key and key id. */
static int set_common(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, const char *cn,
		      const char *org, time_t now, long validity, char *err, size_t errlen)
{
	unsigned char id[64];
	size_t idlen = sizeof(id);
	TRY(gnutls_x509_crt_set_version(crt, 3), "set version");
	if (set_random_serial(crt, err, errlen) < 0)
		return -EIO;
	TRY(gnutls_x509_crt_set_activation_time(crt, now - BACKDATE), "set notBefore");
	TRY(gnutls_x509_crt_set_expiration_time(crt, now + validity), "set notAfter");
	TRY(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
					  (unsigned)strlen(cn)),
	    "set CN");
	if (org)
		TRY(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, 0, org,
						  (unsigned)strlen(org)),
		    "set O");
	TRY(gnutls_x509_crt_set_key(crt, key), "set key");
	TRY(gnutls_x509_privkey_get_key_id(key, 0, id, &idlen), "key id");
	TRY(gnutls_x509_crt_set_subject_key_id(crt, id, idlen), "set subject key id");
	return 0;
}

static int add_dns_name(gnutls_x509_crt_t crt, const char *name, bool first, char *err,
			size_t errlen)
{
	TRY(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, name,
						 (unsigned)strlen(name),
						 first ? GNUTLS_FSAN_SET : GNUTLS_FSAN_APPEND),
	    "set DNS name");
	return 0;
}

static int new_rsa_key(gnutls_x509_privkey_t *key, char *err, size_t errlen)
{
	TRY(gnutls_x509_privkey_init(key), "allocate key");
	TRY(gnutls_x509_privkey_generate(*key, GNUTLS_PK_RSA, KEY_BITS, 0), "generate RSA key");
	return 0;
}

/* Exports certificate and key as PEM strings (the key as PKCS#1 "RSA PRIVATE KEY"). */
static int export_pair(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, char **crt_pem,
		       char **key_pem, char *err, size_t errlen)
{
	gnutls_datum_t c = {0}, k = {0};
	int ret = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &c);
	if (ret >= 0)
		ret = gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &k);
	if (ret < 0) {
		snprintf(err, errlen, "export PEM: %s", gnutls_strerror(ret));
		gnutls_free(c.data);
		return -EINVAL;
	}
	*crt_pem = strndup((const char *)c.data, c.size);
	*key_pem = strndup((const char *)k.data, k.size);
	gnutls_free(c.data);
	gnutls_free(k.data);
	if (!*crt_pem || !*key_pem) {
		free(*crt_pem);
		free(*key_pem);
		*crt_pem = *key_pem = NULL;
		snprintf(err, errlen, "export PEM: out of memory");
		return -ENOMEM;
	}
	return 0;
}

static int build_ca(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, const char *ca_cn, time_t now,
		    long validity, char *err, size_t errlen)
{
	int ret = set_common(crt, key, ca_cn, CA_ORG, now, validity, err, errlen);
	if (ret < 0)
		return ret;
	TRY(gnutls_x509_crt_set_basic_constraints(crt, 1, -1), "set CA constraints");
	TRY(gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE |
						   GNUTLS_KEY_KEY_ENCIPHERMENT |
						   GNUTLS_KEY_KEY_CERT_SIGN),
	    "set key usage");
	if (add_dns_name(crt, ca_cn, true, err, errlen) < 0)
		return -EINVAL;
	TRY(gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0), "self-sign the CA");
	return 0;
}

int certrotate_issue_ca(const struct certrotate_names *names, time_t now, long validity,
			char **crt_pem, char **key_pem, char *err, size_t errlen)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_x509_privkey_t key = NULL;
	int ret = new_rsa_key(&key, err, errlen);
	if (ret == 0 && gnutls_x509_crt_init(&crt) < 0) {
		snprintf(err, errlen, "allocate CA certificate: out of memory");
		ret = -ENOMEM;
	}
	if (ret == 0)
		ret = build_ca(crt, key, names->ca_cn, now, validity, err, errlen);
	if (ret == 0)
		ret = export_pair(crt, key, crt_pem, key_pem, err, errlen);
	if (crt)
		gnutls_x509_crt_deinit(crt);
	if (key)
		gnutls_x509_privkey_deinit(key);
	return ret;
}

static int build_server(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, gnutls_x509_crt_t ca,
			gnutls_x509_privkey_t ca_key, const char *dns, time_t now, long validity,
			char *err, size_t errlen)
{
	char cluster_dns[300];
	snprintf(cluster_dns, sizeof(cluster_dns), "%s.cluster.local", dns);
	unsigned char id[64];
	size_t idlen = sizeof(id);
	int ret = set_common(crt, key, dns, NULL, now, validity, err, errlen);
	if (ret == 0)
		ret = add_dns_name(crt, dns, true, err, errlen);
	if (ret == 0)
		ret = add_dns_name(crt, cluster_dns, false, err, errlen);
	if (ret < 0)
		return ret;
	TRY(gnutls_x509_crt_set_basic_constraints(crt, 0, -1), "set constraints");
	TRY(gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE |
						   GNUTLS_KEY_KEY_ENCIPHERMENT),
	    "set key usage");
	TRY(gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0),
	    "set serverAuth");
	TRY(gnutls_x509_privkey_get_key_id(ca_key, 0, id, &idlen), "CA key id");
	TRY(gnutls_x509_crt_set_authority_key_id(crt, id, idlen), "set authority key id");
	TRY(gnutls_x509_crt_sign2(crt, ca, ca_key, GNUTLS_DIG_SHA256, 0), "sign with the CA");
	return 0;
}

int certrotate_issue_server(const struct certrotate_names *names, const char *ca_pem,
			    const char *ca_key_pem, time_t now, long validity, char **crt_pem,
			    char **key_pem, char *err, size_t errlen)
{
	struct certrotate_x509 ca = {0};
	gnutls_x509_crt_t crt = NULL;
	gnutls_x509_privkey_t key = NULL;
	int ret = certrotate_x509_import(ca_pem, ca_key_pem, &ca, "CA", err, errlen);
	if (ret == 0)
		ret = new_rsa_key(&key, err, errlen);
	if (ret == 0 && gnutls_x509_crt_init(&crt) < 0) {
		snprintf(err, errlen, "allocate server certificate: out of memory");
		ret = -ENOMEM;
	}
	if (ret == 0)
		ret = build_server(crt, key, ca.crt, ca.key, names->service_dns, now, validity, err,
				   errlen);
	if (ret == 0)
		ret = export_pair(crt, key, crt_pem, key_pem, err, errlen);
	if (crt)
		gnutls_x509_crt_deinit(crt);
	if (key)
		gnutls_x509_privkey_deinit(key);
	certrotate_x509_free(&ca);
	return ret;
}
