/* The HTTPS server: a real TLS listener on loopback, certificates rotated under concurrent
 * handshakes. */
#include "suites.h"

#include "certgen.h"
#include "webhook/webhook.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dir;
static struct webhook_server *server;

static void setup(void)
{
	dir = certgen_tempdir();
	ck_assert_ptr_nonnull(dir);
	char err[256];
	int rc = webhook_server_start("127.0.0.1:0", dir, WEBHOOK_POOL_KINDS, 2, &server, err,
				      sizeof(err));
	ck_assert_msg(rc == 0, "start: %s", err);
	ck_assert_uint_ne(webhook_server_port(server), 0);
}

static void teardown(void)
{
	webhook_server_stop(server);
	certgen_remove_tree(dir);
	free(dir);
}

static void probe_serial(char *serial, size_t len)
{
	char err[256];
	int rc = webhook_tls_probe("127.0.0.1", webhook_server_port(server), serial, len, err,
				   sizeof(err));
	ck_assert_msg(rc == 0, "probe: %s", err);
}

START_TEST(test_ready_after_files)
{
	char err[256];
	ck_assert_int_lt(webhook_server_check_ready(server, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, "handshake failed"));
	ck_assert_int_eq(certgen_write(dir, 1, false), 0);
	ck_assert_msg(webhook_server_check_ready(server, err, sizeof(err)) == 0, "%s", err);
	char serial[80];
	probe_serial(serial, sizeof(serial));
	ck_assert_str_eq(serial, "01");
}
END_TEST

struct prober {
	pthread_t thread;
	uint16_t port;
	int rc;
	char serial[80];
	char err[256];
};

static void *run_probe(void *arg)
{
	struct prober *p = arg;
	p->rc = webhook_tls_probe("127.0.0.1", p->port, p->serial, sizeof(p->serial), p->err,
				  sizeof(p->err));
	return NULL;
}

/* After rotating to serial 2, 10 concurrent new connections all see it. */
START_TEST(test_rotation_concurrent)
{
	ck_assert_int_eq(certgen_write(dir, 1, false), 0);
	char serial[80];
	probe_serial(serial, sizeof(serial));
	ck_assert_str_eq(serial, "01");
	ck_assert_int_eq(certgen_write(dir, 2, false), 0);
	char crt[512];
	snprintf(crt, sizeof(crt), "%s/tls.crt", dir);
	certgen_touch_later(crt, 5);
	struct prober probers[10];
	for (int i = 0; i < 10; i++) {
		probers[i] = (struct prober){.port = webhook_server_port(server)};
		ck_assert_int_eq(pthread_create(&probers[i].thread, NULL, run_probe, &probers[i]),
				 0);
	}
	for (int i = 0; i < 10; i++) {
		pthread_join(probers[i].thread, NULL);
		ck_assert_msg(probers[i].rc == 0, "probe %d: %s", i, probers[i].err);
		ck_assert_str_eq(probers[i].serial, "02");
	}
}
END_TEST

struct http_result {
	long status;
	char *body;
	size_t len;
};

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
	struct http_result *r = arg;
	char *body = realloc(r->body, r->len + size * n + 1);
	if (!body)
		return 0;
	memcpy(body + r->len, data, size * n);
	r->body = body;
	r->len += size * n;
	r->body[r->len] = '\0';
	return size * n;
}

/* One HTTPS request; body NULL means GET. */
static struct http_result request(const char *path, const char *ctype, const char *body, size_t len)
{
	struct http_result r = {0};
	char url[256];
	snprintf(url, sizeof(url), "https://127.0.0.1:%u%s", webhook_server_port(server), path);
	CURL *curl = curl_easy_init();
	ck_assert_ptr_nonnull(curl);
	struct curl_slist *headers = NULL;
	char header[128];
	snprintf(header, sizeof(header), "Content-Type: %s", ctype);
	headers = curl_slist_append(headers, header);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
	if (body) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
	CURLcode rc = curl_easy_perform(curl);
	ck_assert_msg(rc == CURLE_OK, "%s: %s", path, curl_easy_strerror(rc));
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	return r;
}

static char *fixture(const char *name, size_t *len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s.json", WEBHOOK_FIXTURES, name);
	char *body = certgen_read_file(path, len);
	ck_assert_msg(body != NULL, "cannot read %s", path);
	return body;
}

START_TEST(test_http_routes)
{
	ck_assert_int_eq(certgen_write(dir, 1, false), 0);
	size_t len;
	char *narrow = fixture("c07_create_too_narrow", &len);

	struct http_result r = request(WEBHOOK_POOL_VALIDATE_PATH, "application/json", narrow, len);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "too narrow subnet: 10.2.0.0/30"));
	ck_assert_ptr_nonnull(strstr(r.body, "\"code\":422"));
	free(r.body);

	r = request(WEBHOOK_POOL_MUTATE_PATH, "application/json", narrow, len);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "\"patchType\":\"JSONPatch\""));
	free(r.body);

	r = request("/other", "application/json", narrow, len);
	ck_assert_int_eq(r.status, 404);
	free(r.body);

	r = request(WEBHOOK_POOL_VALIDATE_PATH, "application/json", NULL, 0);
	ck_assert_int_eq(r.status, 405);
	free(r.body);

	r = request(WEBHOOK_POOL_VALIDATE_PATH, "text/plain", narrow, len);
	ck_assert_int_eq(r.status, 400);
	ck_assert_ptr_nonnull(strstr(r.body, "application/json"));
	free(r.body);

	r = request(WEBHOOK_POOL_VALIDATE_PATH, "application/json", "{not json", 9);
	ck_assert_int_eq(r.status, 400);
	ck_assert_ptr_nonnull(strstr(r.body, "invalid JSON"));
	free(r.body);
	free(narrow);
}
END_TEST

START_TEST(test_http_body_limit)
{
	ck_assert_int_eq(certgen_write(dir, 1, false), 0);
	size_t big = WEBHOOK_MAX_BODY + 10;
	char *body = malloc(big);
	memset(body, ' ', big);
	struct http_result r = request(WEBHOOK_POOL_MUTATE_PATH, "application/json", body, big);
	ck_assert_int_eq(r.status, 413);
	free(r.body);
	free(body);
}
END_TEST

START_TEST(test_bad_address)
{
	struct webhook_server *other;
	char err[256];
	ck_assert_int_eq(
	    webhook_server_start("nonsense", dir, WEBHOOK_POOL_KINDS, 2, &other, err, sizeof(err)),
	    -EINVAL);
	ck_assert_str_eq(err, "invalid webhook address: nonsense");
	ck_assert_int_eq(webhook_server_start("1.2.3.4:99999", dir, WEBHOOK_POOL_KINDS, 2, &other,
					      err, sizeof(err)),
			 -EINVAL);
}
END_TEST

/* ":port" listens on every address; readiness probes via loopback. */
START_TEST(test_any_address_ready)
{
	ck_assert_int_eq(certgen_write(dir, 1, false), 0);
	struct webhook_server *any;
	char err[256];
	ck_assert_msg(
	    webhook_server_start(":0", dir, WEBHOOK_POOL_KINDS, 2, &any, err, sizeof(err)) == 0,
	    "%s", err);
	ck_assert_msg(webhook_server_check_ready(any, err, sizeof(err)) == 0, "%s", err);
	webhook_server_stop(any);
}
END_TEST

Suite *server_suite(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	Suite *s = suite_create("server");
	TCase *tc = tcase_create("https");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_ready_after_files);
	tcase_add_test(tc, test_rotation_concurrent);
	tcase_add_test(tc, test_http_routes);
	tcase_add_test(tc, test_http_body_limit);
	tcase_add_test(tc, test_bad_address);
	tcase_add_test(tc, test_any_address_ready);
	suite_add_tcase(s, tc);
	return s;
}
