/* The webhook certificate reloader (docs/behaviour/ipam-controller.md, 'Webhook certificates'):
 * tls.crt / tls.key are read at handshake time, reloaded when they change,
 * and the last good pair keeps being served when they break or vanish. */
#include "tls_internal.h"

#include "log/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <gnutls/x509.h>

/* Longest chain accepted in tls.crt. */
#define MAX_CHAIN 16

struct cert_pair {
	atomic_int refs;
	gnutls_pcert_st pcerts[MAX_CHAIN];
	unsigned n_pcerts;
	gnutls_privkey_t key;
	char serial[80]; /* leaf serial, hex */
};

/* What stat() says of a file; a change of any field means "reload". */
struct file_id {
	bool present;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

struct cert_reloader {
	char *crt_path, *key_path; /* owned */
	pthread_mutex_t lock;	   /* guards everything below */
	struct cert_pair *current; /* one reference; NULL until a load succeeded */
	bool attempted;		   /* crt_seen / key_seen are valid */
	struct file_id crt_seen, key_seen;
	char last_error[384]; /* why the last attempt failed, "" if it did not */
};

int cert_reloader_new(const char *cert_dir, struct cert_reloader **out, char *err, size_t errlen)
{
	struct cert_reloader *r = calloc(1, sizeof(*r));
	if (!r || asprintf(&r->crt_path, "%s/tls.crt", cert_dir) < 0) {
		free(r);
		snprintf(err, errlen, "out of memory creating the reloader for %s", cert_dir);
		return -ENOMEM;
	}
	if (asprintf(&r->key_path, "%s/tls.key", cert_dir) < 0) {
		free(r->crt_path);
		free(r);
		snprintf(err, errlen, "out of memory creating the reloader for %s", cert_dir);
		return -ENOMEM;
	}
	pthread_mutex_init(&r->lock, NULL);
	*out = r;
	return 0;
}

void cert_reloader_free(struct cert_reloader *reloader)
{
	if (!reloader)
		return;
	if (reloader->current)
		cert_pair_release(reloader->current);
	pthread_mutex_destroy(&reloader->lock);
	free(reloader->crt_path);
	free(reloader->key_path);
	free(reloader);
}

void cert_pair_release(struct cert_pair *pair)
{
	if (atomic_fetch_sub(&pair->refs, 1) != 1)
		return;
	for (unsigned i = 0; i < pair->n_pcerts; i++)
		gnutls_pcert_deinit(&pair->pcerts[i]);
	if (pair->key)
		gnutls_privkey_deinit(pair->key);
	free(pair);
}

void cert_pair_credentials(struct cert_pair *pair, gnutls_pcert_st **pcerts, unsigned *n_pcerts,
			   gnutls_privkey_t *key)
{
	*pcerts = pair->pcerts;
	*n_pcerts = pair->n_pcerts;
	*key = pair->key;
}

int cert_serial_hex(const gnutls_datum_t *der, char *out, size_t outlen)
{
	gnutls_x509_crt_t crt;
	unsigned char serial[40];
	size_t len = sizeof(serial);
	if (gnutls_x509_crt_init(&crt) < 0)
		return -ENOMEM;
	int rc = gnutls_x509_crt_import(crt, der, GNUTLS_X509_FMT_DER);
	if (rc >= 0)
		rc = gnutls_x509_crt_get_serial(crt, serial, &len);
	gnutls_x509_crt_deinit(crt);
	if (rc < 0 || outlen < 2 * len + 1)
		return -EINVAL;
	for (size_t i = 0; i < len; i++)
		snprintf(out + 2 * i, 3, "%02x", serial[i]);
	out[2 * len] = '\0';
	return 0;
}

static struct file_id file_id_of(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0) /* stat follows the ..data symlinks */
		return (struct file_id){.present = false};
	return (struct file_id){true, st.st_dev, st.st_ino, st.st_size, st.st_mtim};
}

static bool file_id_equal(const struct file_id *a, const struct file_id *b)
{
	if (a->present != b->present)
		return false;
	return !a->present ||
	       (a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
		a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec);
}

/* Whether the private key belongs to the leaf certificate. */
static int check_key_matches(struct cert_pair *pair, char *err, size_t errlen)
{
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t a = {0}, b = {0};
	int rc = gnutls_pubkey_init(&pub);
	if (rc >= 0)
		rc = gnutls_pubkey_import_privkey(pub, pair->key, 0, 0);
	if (rc >= 0)
		rc = gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &a);
	if (rc >= 0)
		rc = gnutls_pubkey_export2(pair->pcerts[0].pubkey, GNUTLS_X509_FMT_DER, &b);
	bool same = rc >= 0 && a.size == b.size && memcmp(a.data, b.data, a.size) == 0;
	if (rc < 0)
		snprintf(err, errlen, "comparing the key with the certificate: %s",
			 gnutls_strerror(rc));
	else if (!same)
		snprintf(err, errlen, "the private key does not match the certificate");
	gnutls_free(a.data);
	gnutls_free(b.data);
	if (pub)
		gnutls_pubkey_deinit(pub);
	return same ? 0 : -EINVAL;
}

/* Parses the PEM chain into pair->pcerts and records the leaf's serial. */
static int load_chain(struct cert_pair *pair, const gnutls_datum_t *pem, const char *path,
		      char *err, size_t errlen)
{
	gnutls_x509_crt_t *crts = NULL;
	unsigned n = 0;
	int rc = gnutls_x509_crt_list_import2(&crts, &n, pem, GNUTLS_X509_FMT_PEM, 0);
	if (rc >= 0 && (n == 0 || n > MAX_CHAIN))
		rc = GNUTLS_E_CERTIFICATE_LIST_UNSORTED;
	for (unsigned i = 0; rc >= 0 && i < n; i++) {
		rc = gnutls_pcert_import_x509(&pair->pcerts[i], crts[i], 0);
		if (rc >= 0)
			pair->n_pcerts++;
	}
	if (rc >= 0 &&
	    cert_serial_hex(&pair->pcerts[0].cert, pair->serial, sizeof(pair->serial)) < 0)
		rc = GNUTLS_E_PARSING_ERROR;
	for (unsigned i = 0; i < n; i++)
		gnutls_x509_crt_deinit(crts[i]);
	gnutls_free(crts);
	if (rc < 0)
		snprintf(err, errlen, "%s: no usable PEM certificate (chain of 1..%d): %s", path,
			 MAX_CHAIN, gnutls_strerror(rc));
	return rc < 0 ? -EINVAL : 0;
}

static int load_key(struct cert_pair *pair, const gnutls_datum_t *pem, const char *path, char *err,
		    size_t errlen)
{
	int rc = gnutls_privkey_init(&pair->key);
	if (rc >= 0)
		rc = gnutls_privkey_import_x509_raw(pair->key, pem, GNUTLS_X509_FMT_PEM, NULL, 0);
	if (rc < 0)
		snprintf(err, errlen, "%s: no usable PEM private key: %s", path,
			 gnutls_strerror(rc));
	return rc < 0 ? -EINVAL : 0;
}

static int load_pair(const struct cert_reloader *r, struct cert_pair **out, char *err,
		     size_t errlen)
{
	gnutls_datum_t crt = {0}, key = {0};
	struct cert_pair *pair = calloc(1, sizeof(*pair));
	if (!pair) {
		snprintf(err, errlen, "out of memory loading %s", r->crt_path);
		return -ENOMEM;
	}
	atomic_init(&pair->refs, 1);
	int rc = 0;
	if (gnutls_load_file(r->crt_path, &crt) < 0 || gnutls_load_file(r->key_path, &key) < 0) {
		snprintf(err, errlen, "cannot read %s or %s", r->crt_path, r->key_path);
		rc = -EIO;
	}
	if (rc == 0)
		rc = load_chain(pair, &crt, r->crt_path, err, errlen);
	if (rc == 0)
		rc = load_key(pair, &key, r->key_path, err, errlen);
	if (rc == 0)
		rc = check_key_matches(pair, err, errlen);
	gnutls_free(crt.data);
	gnutls_free(key.data);
	if (rc < 0) {
		cert_pair_release(pair);
		return rc;
	}
	*out = pair;
	return 0;
}

/* Called with the lock held: one reload attempt because the files changed. */
static void attempt_reload(struct cert_reloader *r)
{
	struct cert_pair *pair = NULL;
	char why[sizeof(r->last_error)];
	if (!r->crt_seen.present || !r->key_seen.present) {
		snprintf(why, sizeof(why), "%s or %s does not exist", r->crt_path, r->key_path);
	} else if (load_pair(r, &pair, why, sizeof(why)) == 0) {
		if (r->current)
			cert_pair_release(r->current);
		r->current = pair;
		r->last_error[0] = '\0';
		log_info("loaded the webhook certificate", "path", r->crt_path, "serial",
			 pair->serial);
		return;
	}
	snprintf(r->last_error, sizeof(r->last_error), "%s", why);
	if (r->current)
		log_error("cannot reload the webhook certificate; serving the cached one", "error",
			  why, "serial", r->current->serial);
	else
		log_warn("webhook certificate is not ready", "error", why);
}

/* Called with the lock held. */
static int refresh_locked(struct cert_reloader *r, char *err, size_t errlen)
{
	struct file_id crt = file_id_of(r->crt_path), key = file_id_of(r->key_path);
	if (!r->attempted || !file_id_equal(&crt, &r->crt_seen) ||
	    !file_id_equal(&key, &r->key_seen)) {
		r->attempted = true;
		r->crt_seen = crt;
		r->key_seen = key;
		attempt_reload(r);
	}
	if (r->current)
		return 0;
	snprintf(err, errlen, "webhook certificate is not ready: %s", r->last_error);
	return -ENOENT;
}

int cert_reloader_refresh(struct cert_reloader *reloader, char *err, size_t errlen)
{
	pthread_mutex_lock(&reloader->lock);
	int rc = refresh_locked(reloader, err, errlen);
	pthread_mutex_unlock(&reloader->lock);
	return rc;
}

int cert_reloader_acquire(struct cert_reloader *reloader, struct cert_pair **out, char *err,
			  size_t errlen)
{
	pthread_mutex_lock(&reloader->lock);
	int rc = refresh_locked(reloader, err, errlen);
	if (rc == 0) {
		atomic_fetch_add(&reloader->current->refs, 1);
		*out = reloader->current;
	}
	pthread_mutex_unlock(&reloader->lock);
	return rc;
}

int cert_reloader_serial(struct cert_reloader *reloader, char *out, size_t outlen, char *err,
			 size_t errlen)
{
	pthread_mutex_lock(&reloader->lock);
	int rc = refresh_locked(reloader, err, errlen);
	if (rc == 0 && (size_t)snprintf(out, outlen, "%s", reloader->current->serial) >= outlen) {
		snprintf(err, errlen, "serial %s does not fit %zu bytes", reloader->current->serial,
			 outlen);
		rc = -ENOSPC;
	}
	pthread_mutex_unlock(&reloader->lock);
	return rc;
}
