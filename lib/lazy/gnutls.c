/* The GnuTLS functions lib/webhook uses, loaded on first use (see lazy.h). */
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "lazy/lazy.h"

#define SONAME "libgnutls.so.30"

LAZY_FORWARD(SONAME, int, gnutls_certificate_allocate_credentials,
	     (gnutls_certificate_credentials_t * res), (res))
LAZY_FORWARD_VOID(SONAME, gnutls_certificate_free_credentials,
		  (gnutls_certificate_credentials_t sc), (sc))
LAZY_FORWARD(SONAME, const gnutls_datum_t *, gnutls_certificate_get_peers,
	     (gnutls_session_t session, unsigned int *list_size), (session, list_size))
LAZY_FORWARD(SONAME, int, gnutls_credentials_set,
	     (gnutls_session_t session, gnutls_credentials_type_t type, void *cred),
	     (session, type, cred))
LAZY_FORWARD_VOID(SONAME, gnutls_deinit, (gnutls_session_t session), (session))
LAZY_FORWARD(SONAME, int, gnutls_error_is_fatal, (int error), (error))
LAZY_FORWARD(SONAME, const char *, gnutls_strerror, (int error), (error))
LAZY_FORWARD(SONAME, int, gnutls_handshake, (gnutls_session_t session), (session))
LAZY_FORWARD_VOID(SONAME, gnutls_handshake_set_timeout,
		  (gnutls_session_t session, unsigned int ms), (session, ms))
LAZY_FORWARD(SONAME, int, gnutls_init, (gnutls_session_t * session, unsigned int flags),
	     (session, flags))
LAZY_FORWARD(SONAME, int, gnutls_load_file, (const char *filename, gnutls_datum_t *data),
	     (filename, data))
LAZY_FORWARD_VOID(SONAME, gnutls_pcert_deinit, (gnutls_pcert_st * pcert), (pcert))
LAZY_FORWARD(SONAME, int, gnutls_pcert_import_x509,
	     (gnutls_pcert_st * pcert, gnutls_x509_crt_t crt, unsigned int flags),
	     (pcert, crt, flags))
LAZY_FORWARD_VOID(SONAME, gnutls_privkey_deinit, (gnutls_privkey_t key), (key))
LAZY_FORWARD(SONAME, int, gnutls_privkey_import_x509_raw,
	     (gnutls_privkey_t pkey, const gnutls_datum_t *data, gnutls_x509_crt_fmt_t format,
	      const char *password, unsigned int flags),
	     (pkey, data, format, password, flags))
LAZY_FORWARD(SONAME, int, gnutls_privkey_init, (gnutls_privkey_t * key), (key))
LAZY_FORWARD_VOID(SONAME, gnutls_pubkey_deinit, (gnutls_pubkey_t key), (key))
LAZY_FORWARD(SONAME, int, gnutls_pubkey_export2,
	     (gnutls_pubkey_t key, gnutls_x509_crt_fmt_t format, gnutls_datum_t *out),
	     (key, format, out))
LAZY_FORWARD(SONAME, int, gnutls_pubkey_import_privkey,
	     (gnutls_pubkey_t key, gnutls_privkey_t pkey, unsigned int usage, unsigned int flags),
	     (key, pkey, usage, flags))
LAZY_FORWARD(SONAME, int, gnutls_pubkey_init, (gnutls_pubkey_t * key), (key))
LAZY_FORWARD(SONAME, void *, gnutls_session_get_ptr, (gnutls_session_t session), (session))
LAZY_FORWARD(SONAME, int, gnutls_set_default_priority, (gnutls_session_t session), (session))
LAZY_FORWARD_VOID(SONAME, gnutls_transport_set_int2,
		  (gnutls_session_t session, int recv_fd, int send_fd),
		  (session, recv_fd, send_fd))
LAZY_FORWARD_VOID(SONAME, gnutls_x509_crt_deinit, (gnutls_x509_crt_t cert), (cert))
LAZY_FORWARD(SONAME, int, gnutls_x509_crt_get_serial,
	     (gnutls_x509_crt_t cert, void *result, size_t *result_size),
	     (cert, result, result_size))
LAZY_FORWARD(SONAME, int, gnutls_x509_crt_import,
	     (gnutls_x509_crt_t cert, const gnutls_datum_t *data, gnutls_x509_crt_fmt_t format),
	     (cert, data, format))
LAZY_FORWARD(SONAME, int, gnutls_x509_crt_init, (gnutls_x509_crt_t * cert), (cert))
LAZY_FORWARD(SONAME, int, gnutls_x509_crt_list_import2,
	     (gnutls_x509_crt_t * *certs, unsigned int *size, const gnutls_datum_t *data,
	      gnutls_x509_crt_fmt_t format, unsigned int flags),
	     (certs, size, data, format, flags))

/* gnutls_free is a variable holding a function pointer, not a function. */
static void lazy_gnutls_free(void *ptr)
{
	gnutls_free_function *real = lazy_symbol(SONAME, "gnutls_free");
	(*real)(ptr);
}

gnutls_free_function gnutls_free = lazy_gnutls_free;

/* What lib/certrotate uses to issue and check the webhook certificates. */
LAZY_FORWARD(SONAME, int, gnutls_x509_privkey_init, (gnutls_x509_privkey_t * key), (key))
LAZY_FORWARD_VOID(SONAME, gnutls_x509_privkey_deinit, (gnutls_x509_privkey_t key), (key))
LAZY_FORWARD(SONAME, int, gnutls_x509_privkey_generate,
	     (gnutls_x509_privkey_t key, gnutls_pk_algorithm_t algo, unsigned int bits,
	      unsigned int flags),
	     (key, algo, bits, flags))
LAZY_FORWARD(SONAME, int, gnutls_x509_privkey_export2,
	     (gnutls_x509_privkey_t key, gnutls_x509_crt_fmt_t format, gnutls_datum_t *out),
	     (key, format, out))
LAZY_FORWARD(SONAME, int, gnutls_x509_privkey_import,
	     (gnutls_x509_privkey_t key, const gnutls_datum_t *data, gnutls_x509_crt_fmt_t format),
	     (key, data, format))
LAZY_FORWARD(SONAME, int, gnutls_x509_privkey_get_key_id,
	     (gnutls_x509_privkey_t key, unsigned int flags, unsigned char *output_data,
	      size_t *output_data_size),
	     (key, flags, output_data, output_data_size))
LAZY_FORWARD(SONAME, int, gnutls_x509_crt_set_version,
	     (gnutls_x509_crt_t crt, unsigned int version), (crt, version))
LAZY_FORWARD(SONAME, int, gnutls_x509_crt_set_serial,
	     (gnutls_x509_crt_t cert, const void *serial, size_t serial_size),
	     (cert, serial, serial_size))
LAZY_FORWARD(SONAME, int, gnutls_x509_crt_set_activation_time,
	     (gnutls_x509_crt_t cert, time_t act_time), (cert, act_time))
LAZY_FORWARD(SONAME, int, gnutls_x509_crt_set_expiration_time,
	     (gnutls_x509_crt_t cert, time_t exp_time), (cert, exp_time))
LAZY_FORWARD(SONAME, int, gnutls_x509_crt_set_dn_by_oid,
	     (gnutls_x509_crt_t crt, const char *oid, unsigned int raw_flag, const void *name,
	      unsigned int sizeof_name),
	     (crt, oid, raw_flag, name, sizeof_name))
LAZY_FORWARD(SONAME, int, gnutls_x509_crt_set_key,
	     (gnutls_x509_crt_t crt, gnutls_x509_privkey_t key), (crt, key))
LAZY_FORWARD(SONAME, int, gnutls_x509_crt_set_basic_constraints,
	     (gnutls_x509_crt_t crt, unsigned int ca, int pathLenConstraint),
	     (crt, ca, pathLenConstraint))
LAZY_FORWARD(SONAME, int, gnutls_x509_crt_set_key_usage,
	     (gnutls_x509_crt_t crt, unsigned int usage), (crt, usage))
LAZY_FORWARD(SONAME, int, gnutls_x509_crt_set_subject_alt_name,
	     (gnutls_x509_crt_t crt, gnutls_x509_subject_alt_name_t type, const void *data,
	      unsigned int data_size, unsigned int flags),
	     (crt, type, data, data_size, flags))
LAZY_FORWARD(SONAME, int, gnutls_x509_crt_set_key_purpose_oid,
	     (gnutls_x509_crt_t cert, const void *oid, unsigned int critical),
	     (cert, oid, critical))
LAZY_FORWARD(SONAME, int, gnutls_x509_crt_set_subject_key_id,
	     (gnutls_x509_crt_t cert, const void *id, size_t id_size), (cert, id, id_size))
LAZY_FORWARD(SONAME, int, gnutls_x509_crt_set_authority_key_id,
	     (gnutls_x509_crt_t cert, const void *id, size_t id_size), (cert, id, id_size))
LAZY_FORWARD(SONAME, int, gnutls_x509_crt_sign2,
	     (gnutls_x509_crt_t crt, gnutls_x509_crt_t issuer, gnutls_x509_privkey_t issuer_key,
	      gnutls_digest_algorithm_t dig, unsigned int flags),
	     (crt, issuer, issuer_key, dig, flags))
LAZY_FORWARD(SONAME, int, gnutls_x509_crt_export2,
	     (gnutls_x509_crt_t cert, gnutls_x509_crt_fmt_t format, gnutls_datum_t *out),
	     (cert, format, out))
LAZY_FORWARD(SONAME, time_t, gnutls_x509_crt_get_activation_time, (gnutls_x509_crt_t cert), (cert))
LAZY_FORWARD(SONAME, time_t, gnutls_x509_crt_get_expiration_time, (gnutls_x509_crt_t cert), (cert))
LAZY_FORWARD(SONAME, int, gnutls_x509_crt_get_ca_status,
	     (gnutls_x509_crt_t cert, unsigned int *critical), (cert, critical))
LAZY_FORWARD(SONAME, int, gnutls_x509_crt_get_key_id,
	     (gnutls_x509_crt_t crt, unsigned int flags, unsigned char *output_data,
	      size_t *output_data_size),
	     (crt, flags, output_data, output_data_size))
LAZY_FORWARD(SONAME, int, gnutls_x509_crt_verify,
	     (gnutls_x509_crt_t cert, const gnutls_x509_crt_t *CA_list, unsigned CA_list_length,
	      unsigned int flags, unsigned int *verify),
	     (cert, CA_list, CA_list_length, flags, verify))
LAZY_FORWARD(SONAME, unsigned, gnutls_x509_crt_check_hostname,
	     (gnutls_x509_crt_t cert, const char *hostname), (cert, hostname))
