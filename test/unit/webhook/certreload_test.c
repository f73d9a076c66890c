/* The certificate reloader against files on disk. */
#include "suites.h"

#include "certgen.h"
#include "webhook/webhook.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *dir;
static struct cert_reloader *reloader;

static void setup(void)
{
	dir = certgen_tempdir();
	ck_assert_ptr_nonnull(dir);
	char err[256];
	ck_assert_int_eq(cert_reloader_new(dir, &reloader, err, sizeof(err)), 0);
}

static void teardown(void)
{
	cert_reloader_free(reloader);
	certgen_remove_tree(dir);
	free(dir);
}

static void path_in(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", dir, name);
}

/* Asserts that the reloader serves the given serial without error. */
static void expect_serial(const char *want)
{
	char serial[80], err[512] = "";
	int rc = cert_reloader_serial(reloader, serial, sizeof(serial), err, sizeof(err));
	ck_assert_msg(rc == 0, "serial: %d %s", rc, err);
	ck_assert_str_eq(serial, want);
}

static void write_cert(const char *where, unsigned serial, bool rsa)
{
	ck_assert_msg(certgen_write(where, serial, rsa) == 0, "openssl failed in %s", where);
}

/* 1. No files: error; then serial 1 appears. */
START_TEST(test_lazy_first_load)
{
	char serial[80], err[512];
	ck_assert_int_lt(cert_reloader_serial(reloader, serial, sizeof(serial), err, sizeof(err)),
			 0);
	ck_assert_ptr_nonnull(strstr(err, "webhook certificate is not ready: "));
	ck_assert_int_lt(cert_reloader_refresh(reloader, err, sizeof(err)), 0);
	write_cert(dir, 1, false);
	expect_serial("01");
	ck_assert_int_eq(cert_reloader_refresh(reloader, err, sizeof(err)), 0);
}
END_TEST

/* 2. Rewritten in place with serial 2 and a newer mtime. */
START_TEST(test_rewrite_newer_mtime)
{
	write_cert(dir, 1, false);
	expect_serial("01");
	write_cert(dir, 2, false);
	char crt[512];
	path_in(crt, sizeof(crt), "tls.crt");
	certgen_touch_later(crt, 5);
	expect_serial("02");
}
END_TEST

/* RSA with a PKCS#1 key (what the rotator writes) loads too. */
START_TEST(test_rsa_pkcs1)
{
	write_cert(dir, 7, true);
	expect_serial("07");
}
END_TEST

/* Lays out dir like a Kubernetes Secret volume: <dir>/..<name>/tls.*, the
 * ..data symlink pointing at it, tls.* symlinks through ..data. */
static void secret_generation(const char *name, unsigned serial)
{
	char gen[512], tmp[512], data[512];
	snprintf(gen, sizeof(gen), "%s/%s", dir, name);
	ck_assert_int_eq(mkdir(gen, 0700), 0);
	write_cert(gen, serial, false);
	snprintf(tmp, sizeof(tmp), "%s/..data_tmp", dir);
	path_in(data, sizeof(data), "..data");
	ck_assert_int_eq(symlink(name, tmp), 0);
	ck_assert_int_eq(rename(tmp, data), 0); /* the atomic swap */
}

/* 3. Swapping the ..data symlink to a new generation. */
START_TEST(test_data_symlink_swap)
{
	secret_generation("..2024_01_01", 1);
	char crt[512], key[512];
	path_in(crt, sizeof(crt), "tls.crt");
	path_in(key, sizeof(key), "tls.key");
	ck_assert_int_eq(symlink("..data/tls.crt", crt), 0);
	ck_assert_int_eq(symlink("..data/tls.key", key), 0);
	expect_serial("01");
	secret_generation("..2024_02_01", 2);
	char newcrt[512];
	path_in(newcrt, sizeof(newcrt), "..2024_02_01/tls.crt");
	certgen_touch_later(newcrt, 5);
	expect_serial("02");
}
END_TEST

/* 4. Garbage and deletion keep the cached certificate. */
START_TEST(test_garbage_then_delete)
{
	write_cert(dir, 1, false);
	expect_serial("01");
	char crt[512];
	path_in(crt, sizeof(crt), "tls.crt");
	FILE *f = fopen(crt, "w");
	ck_assert_ptr_nonnull(f);
	fputs("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n", f);
	fclose(f);
	certgen_touch_later(crt, 5);
	expect_serial("01");
	ck_assert_int_eq(unlink(crt), 0);
	expect_serial("01");
	/* new valid files replace it again */
	write_cert(dir, 3, false);
	expect_serial("03");
}
END_TEST

/* A certificate whose key belongs to another certificate is refused. */
START_TEST(test_key_mismatch)
{
	write_cert(dir, 1, false);
	expect_serial("01");
	char other[512], key[512];
	path_in(other, sizeof(other), "other");
	ck_assert_int_eq(mkdir(other, 0700), 0);
	write_cert(other, 2, false);
	char other_key[600];
	snprintf(other_key, sizeof(other_key), "%s/tls.key", other);
	path_in(key, sizeof(key), "tls.key");
	ck_assert_int_eq(rename(other_key, key), 0);
	expect_serial("01");
}
END_TEST

/* A key that is garbage from the start: never ready, with the reason. */
START_TEST(test_never_loaded_garbage)
{
	write_cert(dir, 1, false);
	char key[512];
	path_in(key, sizeof(key), "tls.key");
	FILE *f = fopen(key, "w");
	ck_assert_ptr_nonnull(f);
	fputs("garbage\n", f);
	fclose(f);
	char err[512];
	ck_assert_int_lt(cert_reloader_refresh(reloader, err, sizeof(err)), 0);
	ck_assert_msg(strstr(err, "not ready") && strstr(err, "private key"), "%s", err);
}
END_TEST

Suite *certreload_suite(void)
{
	Suite *s = suite_create("certreload");
	TCase *tc = tcase_create("files");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_lazy_first_load);
	tcase_add_test(tc, test_rewrite_newer_mtime);
	tcase_add_test(tc, test_rsa_pkcs1);
	tcase_add_test(tc, test_data_symlink_swap);
	tcase_add_test(tc, test_garbage_then_delete);
	tcase_add_test(tc, test_key_mismatch);
	tcase_add_test(tc, test_never_loaded_garbage);
	suite_add_tcase(s, tc);
	return s;
}
