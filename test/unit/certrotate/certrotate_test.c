/* lib/certrotate without an API server: base64, issuing, assessing, regenerating, cert files. */
#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "certrotate/certrotate.h"
#include "base64/base64.h"

#define DAY (24L * 3600)

static const struct {
	const char *text;
	int ret;
	const char *decoded;
} base64_cases[] = {
    {"", 0, ""},
    {"Zg==", 0, "f"},
    {"Zm8=", 0, "fo"},
    {"Zm9v", 0, "foo"},
    {"Zm9vYmFy", 0, "foobar"},
    {"Zm9vYg==", 0, "foob"},
    {"Zm9", -EINVAL, NULL},	 /* not a multiple of four */
    {"Zm9v!A==", -EINVAL, NULL}, /* outside the alphabet */
    {"Zg==Zg==", -EINVAL, NULL}, /* padding in the middle */
    {"Z===", -EINVAL, NULL},	 /* three padding characters */
    {"Zm=v", -EINVAL, NULL},	 /* data after padding */
    {"Zm9v\n", -EINVAL, NULL},	 /* no line breaks in JSON []byte */
};

START_TEST(test_base64_decode)
{
	char *out;
	size_t len;
	int ret = base64_decode(base64_cases[_i].text, &out, &len);
	ck_assert_msg(ret == base64_cases[_i].ret, "%s: %d", base64_cases[_i].text, ret);
	if (ret == 0) {
		ck_assert_str_eq(out, base64_cases[_i].decoded);
		ck_assert_uint_eq(len, strlen(base64_cases[_i].decoded));
		char *again = base64_encode(out, len);
		ck_assert_str_eq(again, base64_cases[_i].text);
		free(again);
	}
	free(out);
}
END_TEST

/* One CA + server pair issued once for all tests (RSA key generation is slow). */
static struct certrotate_pems good;

static void issue_good(void)
{
	char err[256];
	time_t now = time(NULL);
	ck_assert_int_eq(certrotate_regenerate(&CERTROTATE_IPAM, &good, CERTROTATE_NEW_ALL, now,
					       err, sizeof(err)),
			 0);
}

static struct certrotate_pems copy_of(const struct certrotate_pems *p)
{
	struct certrotate_pems c = {
	    .ca_crt = p->ca_crt ? strdup(p->ca_crt) : NULL,
	    .ca_key = p->ca_key ? strdup(p->ca_key) : NULL,
	    .tls_crt = p->tls_crt ? strdup(p->tls_crt) : NULL,
	    .tls_key = p->tls_key ? strdup(p->tls_key) : NULL,
	};
	return c;
}

static void replace(char **slot, const char *text)
{
	free(*slot);
	*slot = text ? strdup(text) : NULL;
}

START_TEST(test_fresh_pair_is_kept)
{
	char why[256];
	if (!good.ca_crt)
		issue_good();
	ck_assert_int_eq(certrotate_assess(&CERTROTATE_IPAM, &good, time(NULL), why, sizeof(why)),
			 CERTROTATE_KEEP);
	ck_assert(strstr(good.ca_key, "-----BEGIN RSA PRIVATE KEY-----") == good.ca_key);
	ck_assert(strstr(good.tls_key, "-----BEGIN RSA PRIVATE KEY-----") == good.tls_key);
	/* 91 days before the server certificate (1 year) expires it is still kept ... */
	ck_assert_int_eq(certrotate_assess(&CERTROTATE_IPAM, &good,
					   time(NULL) + 365 * DAY - 91 * DAY, why, sizeof(why)),
			 CERTROTATE_KEEP);
	/* ... 89 days before, it is renewed alone. */
	ck_assert_int_eq(certrotate_assess(&CERTROTATE_IPAM, &good,
					   time(NULL) + 365 * DAY - 89 * DAY, why, sizeof(why)),
			 CERTROTATE_NEW_SERVER);
	/* Near the CA's end (10 years) everything is renewed. */
	ck_assert_int_eq(certrotate_assess(&CERTROTATE_IPAM, &good,
					   time(NULL) + 3650 * DAY - 89 * DAY, why, sizeof(why)),
			 CERTROTATE_NEW_ALL);
}
END_TEST

/* Which field to break, how, and the expected decision. */
static const struct {
	int field; /* 0 ca.crt, 1 ca.key, 2 tls.crt, 3 tls.key */
	const char *value;
	enum certrotate_need need;
} broken_cases[] = {
    {0, NULL, CERTROTATE_NEW_ALL},
    {1, NULL, CERTROTATE_NEW_ALL},
    {0, "garbage", CERTROTATE_NEW_ALL},
    {1, "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n",
     CERTROTATE_NEW_ALL},
    {2, NULL, CERTROTATE_NEW_SERVER},
    {3, NULL, CERTROTATE_NEW_SERVER},
    {2, "", CERTROTATE_NEW_SERVER},
    {2, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", CERTROTATE_NEW_SERVER},
};

static char **field(struct certrotate_pems *p, int i)
{
	return i == 0 ? &p->ca_crt : i == 1 ? &p->ca_key : i == 2 ? &p->tls_crt : &p->tls_key;
}

START_TEST(test_broken_fields)
{
	char why[256];
	if (!good.ca_crt)
		issue_good();
	struct certrotate_pems p = copy_of(&good);
	replace(field(&p, broken_cases[_i].field), broken_cases[_i].value);
	ck_assert_int_eq(certrotate_assess(&CERTROTATE_IPAM, &p, time(NULL), why, sizeof(why)),
			 broken_cases[_i].need);
	certrotate_pems_clear(&p);
}
END_TEST

START_TEST(test_mismatched_keys_and_foreign_ca)
{
	char why[256], err[256];
	if (!good.ca_crt)
		issue_good();
	struct certrotate_pems other = {0}, p = copy_of(&good);
	time_t now = time(NULL);
	ck_assert_int_eq(certrotate_regenerate(&CERTROTATE_IPAM, &other, CERTROTATE_NEW_ALL, now,
					       err, sizeof(err)),
			 0);
	/* The server key of another pair. */
	replace(&p.tls_key, other.tls_key);
	ck_assert_int_eq(certrotate_assess(&CERTROTATE_IPAM, &p, now, why, sizeof(why)),
			 CERTROTATE_NEW_SERVER);
	ck_assert_msg(strstr(why, "does not belong") != NULL, "%s", why);
	/* A server pair signed by another CA. */
	replace(&p.tls_crt, other.tls_crt);
	ck_assert_int_eq(certrotate_assess(&CERTROTATE_IPAM, &p, now, why, sizeof(why)),
			 CERTROTATE_NEW_SERVER);
	ck_assert_msg(strstr(why, "not signed by the CA") != NULL, "%s", why);
	/* The CA key of another CA. */
	replace(&p.ca_key, other.ca_key);
	ck_assert_int_eq(certrotate_assess(&CERTROTATE_IPAM, &p, now, why, sizeof(why)),
			 CERTROTATE_NEW_ALL);
	/* A server certificate used as the CA is no CA. */
	struct certrotate_pems q = copy_of(&good);
	replace(&q.ca_crt, good.tls_crt);
	replace(&q.ca_key, good.tls_key);
	ck_assert_int_eq(certrotate_assess(&CERTROTATE_IPAM, &q, now, why, sizeof(why)),
			 CERTROTATE_NEW_ALL);
	certrotate_pems_clear(&q);
	certrotate_pems_clear(&p);
	certrotate_pems_clear(&other);
}
END_TEST

START_TEST(test_regenerate_server_keeps_the_ca)
{
	char why[256], err[256];
	if (!good.ca_crt)
		issue_good();
	struct certrotate_pems p = copy_of(&good);
	replace(&p.tls_crt, NULL);
	ck_assert_int_eq(certrotate_regenerate(&CERTROTATE_IPAM, &p, CERTROTATE_NEW_SERVER,
					       time(NULL), err, sizeof(err)),
			 0);
	ck_assert_str_eq(p.ca_crt, good.ca_crt);
	ck_assert_str_eq(p.ca_key, good.ca_key);
	ck_assert_str_ne(p.tls_key, good.tls_key);
	ck_assert_int_eq(certrotate_assess(&CERTROTATE_IPAM, &p, time(NULL), why, sizeof(why)),
			 CERTROTATE_KEEP);
	certrotate_pems_clear(&p);
}
END_TEST

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

START_TEST(test_sync_files)
{
	char dir[] = "/tmp/certrotate-test-XXXXXX", path[128], err[256];
	struct certrotate_pems p = {.tls_crt = strdup("CERT\n"), .tls_key = strdup("KEY\n")};
	bool written;
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(certrotate_sync_files(dir, &p, &written, err, sizeof(err)), 0);
	ck_assert(written);
	snprintf(path, sizeof(path), "%s/tls.key", dir);
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	/* Same content: nothing written, even into a read-only directory. */
	chmod(dir, 0500);
	ck_assert_int_eq(certrotate_sync_files(dir, &p, &written, err, sizeof(err)), 0);
	ck_assert(!written);
	/* Different content and a read-only directory: the caller must wait (root ignores the
	 * mode, so only check the answer for others). */
	replace(&p.tls_crt, "NEW\n");
	int ret = certrotate_sync_files(dir, &p, &written, err, sizeof(err));
	if (geteuid() != 0)
		ck_assert_int_eq(ret, -EACCES);
	chmod(dir, 0700);
	nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
	certrotate_pems_clear(&p);
}
END_TEST

static void free_good(void)
{
	certrotate_pems_clear(&good);
}

int main(void)
{
	Suite *s = suite_create("certrotate");
	TCase *tc = tcase_create("certrotate");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_base64_decode, 0,
			    sizeof(base64_cases) / sizeof(base64_cases[0]));
	tcase_add_test(tc, test_fresh_pair_is_kept);
	tcase_add_loop_test(tc, test_broken_fields, 0,
			    sizeof(broken_cases) / sizeof(broken_cases[0]));
	tcase_add_test(tc, test_mismatched_keys_and_foreign_ca);
	tcase_add_test(tc, test_regenerate_server_keeps_the_ca);
	tcase_add_test(tc, test_sync_files);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	free_good();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
