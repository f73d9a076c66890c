#include "suites.h"

#include "fake_server.h"
#include "kube/kube.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static struct fake_server *fs;
static struct kube_client *client;

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static struct kube_client *client_for(const char *server, const char *token, const char *token_file,
				      int max_tries, long deadline_ms)
{
	struct kube_config cfg = {.server = (char *)server,
				  .token = (char *)token,
				  .token_file = (char *)token_file,
				  .namespace = "default"};
	struct kube_client_options opts = {.max_tries = max_tries,
					   .deadline_ms = deadline_ms,
					   .backoff_base_ms = 10,
					   .backoff_max_ms = 50,
					   .timeout_ms = 5000};
	struct kube_client *c = NULL;
	char err[256];
	ck_assert_int_eq(kube_client_new(&cfg, &opts, &c, err, sizeof(err)), 0);
	return c;
}

static void setup(void)
{
	char url[64];
	fs = fake_server_start();
	fake_server_url(fs, url, sizeof(url));
	client = client_for(url, "sekret", NULL, 4, 10000);
}

static void teardown(void)
{
	kube_client_free(client);
	fake_server_stop(fs);
}

static const char pod_x[] = "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"x\","
			    "\"namespace\":\"ns\",\"resourceVersion\":\"7\",\"uid\":\"u7\"}}";

START_TEST(test_get)
{
	fake_server_push(fs, &(struct fake_reply){.status = 200, .body = pod_x});
	json_t *obj = NULL;
	char err[256];
	ck_assert_int_eq(kube_get(client, &KUBE_RES_PODS, "ns", "x", &obj, err, sizeof(err)), 0);
	ck_assert_str_eq(kube_obj_uid(obj), "u7");
	json_decref(obj);
	struct fake_request r = fake_server_request(fs, 0);
	ck_assert_str_eq(r.method, "GET");
	ck_assert_str_eq(r.url, "/api/v1/namespaces/ns/pods/x");
	ck_assert_str_eq(r.auth, "Bearer sekret");
	ck_assert_str_eq(kube_client_namespace(client), "default");
}
END_TEST

START_TEST(test_retry_5xx)
{
	fake_server_push(fs, &(struct fake_reply){.status = 500, .body = "{}"});
	fake_server_push(fs, &(struct fake_reply){.status = 503, .body = "oops"});
	fake_server_push(fs, &(struct fake_reply){.status = 200, .body = pod_x});
	json_t *obj = NULL;
	char err[256];
	ck_assert_int_eq(kube_get(client, &KUBE_RES_PODS, "ns", "x", &obj, err, sizeof(err)), 0);
	json_decref(obj);
	ck_assert_int_eq(fake_server_nrequests(fs), 3);
}
END_TEST

START_TEST(test_retry_after_honoured)
{
	fake_server_push(fs, &(struct fake_reply){.status = 429, .body = "{}", .retry_after = "1"});
	fake_server_push(fs, &(struct fake_reply){.status = 200, .body = pod_x});
	char err[256];
	long start = now_ms();
	ck_assert_int_eq(kube_get(client, &KUBE_RES_PODS, "ns", "x", NULL, err, sizeof(err)), 0);
	ck_assert_int_ge(now_ms() - start, 1000);
	ck_assert_int_eq(fake_server_nrequests(fs), 2);
}
END_TEST

/* The logger's stderr, captured while fn runs: returns what was written (static buffer). */
static const char *stderr_of(void (*fn)(void))
{
	static char out[4096];
	FILE *tmp = tmpfile();
	ck_assert_ptr_nonnull(tmp);
	fflush(stderr);
	int saved = dup(2);
	ck_assert_int_ge(saved, 0);
	dup2(fileno(tmp), 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	size_t n = fread(out, 1, sizeof(out) - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
	return out;
}

static void create_with_warnings(void)
{
	json_t *obj = json_pack("{s:{s:s}}", "metadata", "name", "b");
	json_t *out = NULL;
	char err[256];
	ck_assert_int_eq(kube_create(client, &KUBE_RES_PODS, "ns", obj, &out, err, sizeof(err)), 0);
	ck_assert_str_eq(
	    json_string_value(json_object_get(json_object_get(out, "metadata"), "name")), "x");
	json_decref(obj);
	json_decref(out);
}

/* A write the API server answers with Warning headers succeeds; each warning is logged. */
START_TEST(test_warning_logged)
{
	fake_server_push(fs, &(struct fake_reply){
				 .status = 201,
				 .body = pod_x,
				 .warning = "299 - \"metadata.finalizers: \\\"coil.cybozu.com\\\": "
					    "prefer a domain-qualified finalizer name\""});
	const char *log = stderr_of(create_with_warnings);
	ck_assert_msg(strstr(log, "\"msg\":\"API server warning\""), "not logged: %s", log);
	ck_assert_msg(strstr(log, "\"warning\":\"metadata.finalizers: \\\"coil.cybozu.com\\\": "
				  "prefer a domain-qualified finalizer name\""),
		      "text not unquoted: %s", log);
	ck_assert_msg(strstr(log, "\"method\":\"POST\""), "no method: %s", log);
	ck_assert_int_eq(fake_server_nrequests(fs), 1);
}
END_TEST

START_TEST(test_retries_bounded)
{
	fake_server_set_default(
	    fs, &(struct fake_reply){.status = 500,
				     .body = "{\"kind\":\"Status\",\"reason\":\"InternalError\","
					     "\"message\":\"etcd down\"}"});
	char err[256];
	ck_assert_int_eq(kube_get(client, &KUBE_RES_PODS, "ns", "x", NULL, err, sizeof(err)), -EIO);
	ck_assert_int_eq(fake_server_nrequests(fs), 4);
	ck_assert_ptr_nonnull(strstr(err, "etcd down"));
}
END_TEST

START_TEST(test_deadline_bounds_retry_after)
{
	char url[64];
	fake_server_url(fs, url, sizeof(url));
	struct kube_client *c = client_for(url, NULL, NULL, 5, 500);
	fake_server_push(fs, &(struct fake_reply){.status = 429, .body = "{}", .retry_after = "5"});
	char err[256];
	long start = now_ms();
	ck_assert_int_eq(kube_get(c, &KUBE_RES_PODS, "ns", "x", NULL, err, sizeof(err)), -EBUSY);
	ck_assert_int_lt(now_ms() - start, 1000);
	ck_assert_str_eq(fake_server_request(fs, 0).auth, "");
	kube_client_free(c);
}
END_TEST

START_TEST(test_errors_not_retried)
{
	fake_server_push(fs, &(struct fake_reply){
				 .status = 404,
				 .body = "{\"kind\":\"Status\",\"reason\":\"NotFound\",\"message\":"
					 "\"pods \\\"x\\\" not found\",\"code\":404}"});
	fake_server_push(fs, &(struct fake_reply){
				 .status = 409,
				 .body = "{\"kind\":\"Status\",\"reason\":\"Conflict\",\"message\":"
					 "\"the object has been modified\"}"});
	fake_server_push(
	    fs, &(struct fake_reply){.status = 409,
				     .body = "{\"kind\":\"Status\",\"reason\":\"AlreadyExists\"}"});
	char err[256];
	json_t *obj = json_loads(pod_x, 0, NULL);
	ck_assert_int_eq(kube_get(client, &KUBE_RES_PODS, "ns", "x", NULL, err, sizeof(err)),
			 -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "NotFound: pods \"x\" not found"));
	ck_assert_int_eq(kube_update(client, &KUBE_RES_PODS, obj, NULL, err, sizeof(err)),
			 KUBE_ERR_CONFLICT);
	ck_assert_ptr_nonnull(strstr(err, "modified"));
	ck_assert_int_eq(kube_create(client, &KUBE_RES_PODS, NULL, obj, NULL, err, sizeof(err)),
			 -EEXIST);
	ck_assert_int_eq(fake_server_nrequests(fs), 3);
	json_decref(obj);
}
END_TEST

START_TEST(test_connection_refused)
{
	/* A port that was just free: bind-less, nobody listens. */
	char url[64];
	int port = fake_server_port(fs);
	fake_server_stop(fs);
	fs = fake_server_start();
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port == fake_server_port(fs) ? 1 : port);
	struct kube_client *c = client_for(url, NULL, NULL, 3, 5000);
	char err[256];
	ck_assert_int_eq(kube_get(c, &KUBE_RES_PODS, "ns", "x", NULL, err, sizeof(err)),
			 -ECONNREFUSED);
	kube_client_free(c);
}
END_TEST

START_TEST(test_verbs)
{
	char err[256];
	json_t *obj = json_loads(pod_x, 0, NULL), *out = NULL;
	for (int i = 0; i < 7; i++)
		fake_server_push(fs, &(struct fake_reply){.status = 200, .body = pod_x});

	ck_assert_int_eq(kube_create(client, &KUBE_RES_PODS, NULL, obj, &out, err, sizeof(err)), 0);
	json_decref(out);
	ck_assert_int_eq(
	    kube_update_sub(client, &KUBE_RES_PODS, obj, "status", NULL, err, sizeof(err)), 0);
	json_t *merge = json_pack("{s:{s:{s:s}}}", "metadata", "labels", "a", "b");
	ck_assert_int_eq(kube_patch(client, &KUBE_RES_PODS, "ns", "x", NULL, KUBE_PATCH_MERGE,
				    merge, NULL, err, sizeof(err)),
			 0);
	json_t *jp =
	    json_pack("[{s:s,s:s,s:i}]", "op", "replace", "path", "/spec/replicas", "value", 3);
	ck_assert_int_eq(kube_patch(client, &KUBE_RES_DEPLOYMENTS, "ns", "d", "scale",
				    KUBE_PATCH_JSON, jp, NULL, err, sizeof(err)),
			 0);
	ck_assert_int_eq(kube_patch(client, &KUBE_RES_PODS, "ns", "x", NULL, KUBE_PATCH_JSON, merge,
				    NULL, err, sizeof(err)),
			 -EINVAL);
	long grace = 0;
	struct kube_delete_opts del = {.precondition_uid = "u7",
				       .precondition_resource_version = "7",
				       .propagation_policy = "Foreground",
				       .grace_period_seconds = &grace};
	ck_assert_int_eq(kube_delete(client, &KUBE_RES_PODS, "ns", "x", &del, err, sizeof(err)), 0);
	ck_assert_int_eq(kube_delete(client, &KUBE_RES_NODES, NULL, "n1", NULL, err, sizeof(err)),
			 0);

	struct fake_request r = fake_server_request(fs, 0);
	ck_assert_str_eq(r.method, "POST");
	ck_assert_str_eq(r.url, "/api/v1/namespaces/ns/pods");
	ck_assert_str_eq(r.content_type, "application/json");
	json_t *sent = json_loads(r.body, 0, NULL);
	ck_assert(json_equal(sent, obj));
	json_decref(sent);
	r = fake_server_request(fs, 1);
	ck_assert_str_eq(r.method, "PUT");
	ck_assert_str_eq(r.url, "/api/v1/namespaces/ns/pods/x/status");
	ck_assert_ptr_nonnull(strstr(r.body, "\"resourceVersion\":\"7\""));
	r = fake_server_request(fs, 2);
	ck_assert_str_eq(r.method, "PATCH");
	ck_assert_str_eq(r.content_type, "application/merge-patch+json");
	ck_assert_str_eq(r.body, "{\"metadata\":{\"labels\":{\"a\":\"b\"}}}");
	r = fake_server_request(fs, 3);
	ck_assert_str_eq(r.url, "/apis/apps/v1/namespaces/ns/deployments/d/scale");
	ck_assert_str_eq(r.content_type, "application/json-patch+json");
	r = fake_server_request(fs, 4);
	ck_assert_str_eq(r.method, "DELETE");
	sent = json_loads(r.body, 0, NULL);
	ck_assert_str_eq(kube_json_string(sent, "preconditions.uid"), "u7");
	ck_assert_str_eq(kube_json_string(sent, "preconditions.resourceVersion"), "7");
	ck_assert_str_eq(kube_json_string(sent, "propagationPolicy"), "Foreground");
	ck_assert_int_eq(json_integer_value(kube_json_path(sent, "gracePeriodSeconds")), 0);
	json_decref(sent);
	r = fake_server_request(fs, 5);
	ck_assert_str_eq(r.url, "/api/v1/nodes/n1");
	ck_assert_str_eq(r.body, "");
	ck_assert_int_eq(fake_server_nrequests(fs), 6);
	json_decref(merge);
	json_decref(jp);
	json_decref(obj);
}
END_TEST

START_TEST(test_set_scale)
{
	fake_server_push(fs, &(struct fake_reply){
				 .status = 200,
				 .body = "{\"kind\":\"Scale\",\"apiVersion\":\"autoscaling/v1\","
					 "\"metadata\":{\"name\":\"d\",\"namespace\":\"ns\","
					 "\"resourceVersion\":\"3\"},\"spec\":{\"replicas\":1}}"});
	fake_server_push(fs, &(struct fake_reply){.status = 200, .body = "{}"});
	char err[256];
	ck_assert_int_eq(
	    kube_set_scale(client, &KUBE_RES_DEPLOYMENTS, "ns", "d", 4, err, sizeof(err)), 0);
	struct fake_request r = fake_server_request(fs, 1);
	ck_assert_str_eq(r.method, "PUT");
	ck_assert_str_eq(r.url, "/apis/apps/v1/namespaces/ns/deployments/d/scale");
	ck_assert_ptr_nonnull(strstr(r.body, "\"replicas\":4"));
	ck_assert_ptr_nonnull(strstr(r.body, "\"resourceVersion\":\"3\""));
}
END_TEST

START_TEST(test_list_all_pages)
{
	fake_server_push(
	    fs, &(struct fake_reply){
		    .status = 200,
		    .body = "{\"metadata\":{\"continue\":\"c1\",\"resourceVersion\":\"10\"},"
			    "\"items\":[{\"metadata\":{\"name\":\"a\"}},{\"metadata\":{"
			    "\"name\":\"b\"}}]}"});
	fake_server_push(
	    fs, &(struct fake_reply){
		    .status = 200,
		    .body = "{\"metadata\":{\"continue\":\"c/2\",\"resourceVersion\":\"10\"},"
			    "\"items\":[{\"metadata\":{\"name\":\"c\"}}]}"});
	fake_server_push(fs, &(struct fake_reply){
				 .status = 200,
				 .body = "{\"metadata\":{\"resourceVersion\":\"10\"},\"items\":[{"
					 "\"metadata\":{\"name\":\"d\"}}]}"});
	struct kube_list_opts opts = {.label_selector = "app=coil", .limit = 2};
	json_t *items = NULL;
	char rv[32], err[256];
	ck_assert_int_eq(kube_list_all(client, &KUBE_RES_PODS, "ns", &opts, &items, rv, sizeof(rv),
				       err, sizeof(err)),
			 0);
	ck_assert_uint_eq(json_array_size(items), 4);
	ck_assert_str_eq(kube_obj_name(json_array_get(items, 3)), "d");
	ck_assert_str_eq(rv, "10");
	ck_assert_str_eq(fake_server_request(fs, 0).url,
			 "/api/v1/namespaces/ns/pods?labelSelector=app=coil&limit=2");
	ck_assert_str_eq(fake_server_request(fs, 2).url,
			 "/api/v1/namespaces/ns/pods?labelSelector=app=coil&limit=2&continue=c/2");
	json_decref(items);
}
END_TEST

START_TEST(test_list_restarts_on_expired_continue)
{
	fake_server_push(
	    fs, &(struct fake_reply){
		    .status = 200,
		    .body = "{\"metadata\":{\"continue\":\"c1\"},\"items\":[{\"metadata\":{"
			    "\"name\":\"a\"}}]}"});
	fake_server_push(
	    fs, &(struct fake_reply){.status = 410,
				     .body = "{\"kind\":\"Status\",\"reason\":\"Expired\"}"});
	fake_server_push(fs,
			 &(struct fake_reply){
			     .status = 200,
			     .body = "{\"metadata\":{},\"items\":[{\"metadata\":{\"name\":\"a\"}},{"
				     "\"metadata\":{\"name\":\"b\"}}]}"});
	struct kube_list_opts opts = {.limit = 1};
	json_t *items = NULL;
	char err[256];
	ck_assert_int_eq(
	    kube_list_all(client, &KUBE_RES_PODS, "ns", &opts, &items, NULL, 0, err, sizeof(err)),
	    0);
	ck_assert_uint_eq(json_array_size(items), 2);
	json_decref(items);
}
END_TEST

static void write_token(const char *path, const char *token)
{
	char tmp[300];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	fprintf(f, "%s\n", token);
	fclose(f);
	rename(tmp, path); /* atomically, like kubelet's projected volumes */
}

START_TEST(test_token_file_rotation)
{
	char path[] = "/tmp/kube-token-XXXXXX", url[64], err[256];
	int fd = mkstemp(path);
	close(fd);
	write_token(path, "first");
	fake_server_url(fs, url, sizeof(url));
	struct kube_client *c = client_for(url, "ignored", path, 1, 1000);
	fake_server_set_default(fs, &(struct fake_reply){.status = 200, .body = "{}"});
	ck_assert_int_eq(kube_get(c, &KUBE_RES_NODES, NULL, "n", NULL, err, sizeof(err)), 0);
	write_token(path, "second");
	ck_assert_int_eq(kube_get(c, &KUBE_RES_NODES, NULL, "n", NULL, err, sizeof(err)), 0);
	unlink(path); /* a vanished file keeps the last token */
	ck_assert_int_eq(kube_get(c, &KUBE_RES_NODES, NULL, "n", NULL, err, sizeof(err)), 0);
	ck_assert_str_eq(fake_server_request(fs, 0).auth, "Bearer first");
	ck_assert_str_eq(fake_server_request(fs, 1).auth, "Bearer second");
	ck_assert_str_eq(fake_server_request(fs, 2).auth, "Bearer second");
	kube_client_free(c);
}
END_TEST

struct thread_arg {
	struct kube_client *client;
	int failures;
};

static void *hammer(void *p)
{
	struct thread_arg *a = p;
	char err[256];
	for (int i = 0; i < 25; i++) {
		json_t *obj = NULL;
		if (kube_get(a->client, &KUBE_RES_PODS, "ns", "x", &obj, err, sizeof(err)) != 0 ||
		    !kube_obj_uid(obj))
			a->failures++;
		json_decref(obj);
	}
	return NULL;
}

START_TEST(test_threads_share_client)
{
	fake_server_set_default(fs, &(struct fake_reply){.status = 200, .body = pod_x});
	pthread_t threads[4];
	struct thread_arg args[4];
	for (int i = 0; i < 4; i++) {
		args[i] = (struct thread_arg){client, 0};
		pthread_create(&threads[i], NULL, hammer, &args[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(threads[i], NULL);
		ck_assert_int_eq(args[i].failures, 0);
	}
	ck_assert_int_eq(fake_server_nrequests(fs), 100);
}
END_TEST

Suite *client_suite(void)
{
	Suite *s = suite_create("client");
	TCase *tc = tcase_create("client");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_get);
	tcase_add_test(tc, test_retry_5xx);
	tcase_add_test(tc, test_retry_after_honoured);
	tcase_add_test(tc, test_warning_logged);
	tcase_add_test(tc, test_retries_bounded);
	tcase_add_test(tc, test_deadline_bounds_retry_after);
	tcase_add_test(tc, test_errors_not_retried);
	tcase_add_test(tc, test_connection_refused);
	tcase_add_test(tc, test_verbs);
	tcase_add_test(tc, test_set_scale);
	tcase_add_test(tc, test_list_all_pages);
	tcase_add_test(tc, test_list_restarts_on_expired_continue);
	tcase_add_test(tc, test_token_file_rotation);
	tcase_add_test(tc, test_threads_share_client);
	suite_add_tcase(s, tc);
	return s;
}
