/* Test helpers: certificates made by exec'ing openssl, and files in
 * temporary directories. */
#ifndef COIL_TEST_WEBHOOK_CERTGEN_H
#define COIL_TEST_WEBHOOK_CERTGEN_H

#include <stdbool.h>
#include <stddef.h>

/* Writes <dir>/tls.crt and <dir>/tls.key: a fresh self-signed certificate with
 * the given serial (EC P-256, or RSA 2048 with a PKCS#1 key when rsa). Files
 * that exist are rewritten in place. Returns 0 or -1. */
int certgen_write(const char *dir, unsigned serial, bool rsa);

/* mkdtemp under /tmp; the returned path is malloc'd. */
char *certgen_tempdir(void);

/* rm -rf dir (no shell: nftw). */
void certgen_remove_tree(const char *dir);

/* Sets the mtime of path to now + seconds (following symlinks). */
void certgen_touch_later(const char *path, int seconds);

/* Reads a whole file; malloc'd, *len set; NULL on error. */
char *certgen_read_file(const char *path, size_t *len);

#endif
