#include "suites.h"

#include <stdio.h>
#include <string.h>

static struct apiserver srv;
static struct kube_client *client;

static void start(void)
{
	apiserver_start(&srv, (const char *const[]){"--history", "40", NULL}, NULL);
	client = apiserver_client(&srv);
}

static void stop(void)
{
	kube_client_free(client);
	apiserver_stop(&srv);
}

static void reset(void)
{
	apiserver_reset(client, true);
}

START_TEST(test_crud_and_conflicts)
{
	char err[512];
	json_t *cm = test_configmap("default", "cm1", "coil"), *created = NULL, *got = NULL;
	ck_assert_int_eq(
	    kube_create(client, &KUBE_RES_CONFIGMAPS, NULL, cm, &created, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(kube_obj_uid(created));
	ck_assert_int_eq(
	    kube_create(client, &KUBE_RES_CONFIGMAPS, NULL, cm, NULL, err, sizeof(err)), -EEXIST);
	ck_assert_int_eq(
	    kube_get(client, &KUBE_RES_CONFIGMAPS, "default", "cm1", &got, err, sizeof(err)), 0);
	ck_assert_str_eq(kube_json_string(got, "data.k"), "v");

	/* A conditional update wins once; the same stale version then conflicts. */
	json_object_set_new(json_object_get(got, "data"), "k", json_string("v2"));
	json_t *updated = NULL;
	ck_assert_int_eq(kube_update(client, &KUBE_RES_CONFIGMAPS, got, &updated, err, sizeof(err)),
			 0);
	ck_assert_str_ne(kube_obj_resource_version(updated), kube_obj_resource_version(got));
	ck_assert_int_eq(kube_update(client, &KUBE_RES_CONFIGMAPS, got, NULL, err, sizeof(err)),
			 KUBE_ERR_CONFLICT);
	ck_assert_msg(strstr(err, "Conflict"), "%s", err);

	json_t *merge = json_pack("{s:{s:{s:s}},s:{s:s}}", "metadata", "labels", "extra", "yes",
				  "data", "m", "1");
	json_t *patched = NULL;
	ck_assert_int_eq(kube_patch(client, &KUBE_RES_CONFIGMAPS, "default", "cm1", NULL,
				    KUBE_PATCH_MERGE, merge, &patched, err, sizeof(err)),
			 0);
	ck_assert_str_eq(kube_obj_label(patched, "extra"), "yes");
	ck_assert_str_eq(kube_json_string(patched, "data.k"), "v2");
	json_decref(patched);
	json_t *jp = json_pack("[{s:s,s:s,s:s}]", "op", "replace", "path", "/data/m", "value", "2");
	ck_assert_int_eq(kube_patch(client, &KUBE_RES_CONFIGMAPS, "default", "cm1", NULL,
				    KUBE_PATCH_JSON, jp, &patched, err, sizeof(err)),
			 0);
	ck_assert_str_eq(kube_json_string(patched, "data.m"), "2");

	/* Preconditions: the wrong uid or version conflicts, the right ones delete. */
	struct kube_delete_opts wrong_uid = {.precondition_uid = "not-the-uid"};
	ck_assert_int_eq(kube_delete(client, &KUBE_RES_CONFIGMAPS, "default", "cm1", &wrong_uid,
				     err, sizeof(err)),
			 KUBE_ERR_CONFLICT);
	struct kube_delete_opts stale = {.precondition_resource_version =
					     kube_obj_resource_version(updated)};
	ck_assert_int_eq(
	    kube_delete(client, &KUBE_RES_CONFIGMAPS, "default", "cm1", &stale, err, sizeof(err)),
	    KUBE_ERR_CONFLICT);
	struct kube_delete_opts right = {.precondition_uid = kube_obj_uid(patched),
					 .precondition_resource_version =
					     kube_obj_resource_version(patched),
					 .propagation_policy = "Background"};
	ck_assert_int_eq(
	    kube_delete(client, &KUBE_RES_CONFIGMAPS, "default", "cm1", &right, err, sizeof(err)),
	    0);
	ck_assert_int_eq(
	    kube_get(client, &KUBE_RES_CONFIGMAPS, "default", "cm1", NULL, err, sizeof(err)),
	    -ENOENT);
	ck_assert_int_eq(
	    kube_delete(client, &KUBE_RES_CONFIGMAPS, "default", "cm1", NULL, err, sizeof(err)),
	    -ENOENT);
	json_decref(patched);
	json_decref(jp);
	json_decref(merge);
	json_decref(updated);
	json_decref(got);
	json_decref(created);
	json_decref(cm);
}
END_TEST

START_TEST(test_status_and_scale)
{
	char err[512];
	json_t *dep = json_loads(
	    "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\","
	    "\"namespace\":\"default\"},\"spec\":{\"replicas\":1,\"selector\":{\"matchLabels\":{"
	    "\"app\":\"web\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{"
	    "\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}}}",
	    0, NULL);
	json_t *created = NULL, *got = NULL, *scale = NULL;
	ck_assert_int_eq(
	    kube_create(client, &KUBE_RES_DEPLOYMENTS, "default", dep, &created, err, sizeof(err)),
	    0);
	ck_assert_int_eq(
	    kube_set_scale(client, &KUBE_RES_DEPLOYMENTS, "default", "web", 3, err, sizeof(err)),
	    0);
	ck_assert_int_eq(kube_get_sub(client, &KUBE_RES_DEPLOYMENTS, "default", "web", "scale",
				      &scale, err, sizeof(err)),
			 0);
	ck_assert_int_eq(json_integer_value(kube_json_path(scale, "spec.replicas")), 3);

	/* Status goes through /status: spec changes there are ignored, status changes kept. */
	ck_assert_int_eq(
	    kube_get(client, &KUBE_RES_DEPLOYMENTS, "default", "web", &got, err, sizeof(err)), 0);
	json_object_set_new(got, "status", json_pack("{s:i}", "readyReplicas", 2));
	json_object_set_new(json_object_get(got, "spec"), "replicas", json_integer(9));
	json_t *after = NULL;
	ck_assert_int_eq(
	    kube_update_sub(client, &KUBE_RES_DEPLOYMENTS, got, "status", &after, err, sizeof(err)),
	    0);
	ck_assert_int_eq(json_integer_value(kube_json_path(after, "status.readyReplicas")), 2);
	ck_assert_int_eq(json_integer_value(kube_json_path(after, "spec.replicas")), 3);
	json_decref(after);
	json_t *status_patch = json_pack("{s:{s:i}}", "status", "readyReplicas", 3);
	ck_assert_int_eq(kube_patch(client, &KUBE_RES_DEPLOYMENTS, "default", "web", "status",
				    KUBE_PATCH_MERGE, status_patch, &after, err, sizeof(err)),
			 0);
	ck_assert_int_eq(json_integer_value(kube_json_path(after, "status.readyReplicas")), 3);
	json_decref(after);
	json_decref(status_patch);
	json_decref(got);
	json_decref(scale);
	json_decref(created);
	json_decref(dep);
}
END_TEST

START_TEST(test_paging_and_selectors)
{
	char err[512], name[32];
	test_namespace(client, "paging");
	for (int i = 0; i < 250; i++) {
		snprintf(name, sizeof(name), "cm-%03d", i);
		json_t *cm = test_configmap("paging", name, i % 5 == 0 ? "five" : "other");
		ck_assert_int_eq(
		    kube_create(client, &KUBE_RES_CONFIGMAPS, NULL, cm, NULL, err, sizeof(err)), 0);
		json_decref(cm);
	}
	json_t *page = NULL;
	struct kube_list_opts opts = {.limit = 100};
	ck_assert_int_eq(
	    kube_list(client, &KUBE_RES_CONFIGMAPS, "paging", &opts, &page, err, sizeof(err)), 0);
	ck_assert_uint_eq(json_array_size(json_object_get(page, "items")), 100);
	ck_assert_ptr_nonnull(kube_json_string(page, "metadata.continue"));
	json_decref(page);

	json_t *items = NULL;
	char rv[64];
	ck_assert_int_eq(kube_list_all(client, &KUBE_RES_CONFIGMAPS, "paging", &opts, &items, rv,
				       sizeof(rv), err, sizeof(err)),
			 0);
	ck_assert_uint_eq(json_array_size(items), 250);
	ck_assert(rv[0] != '\0');
	json_t *seen = json_object();
	size_t i;
	json_t *obj;
	json_array_foreach(items, i, obj) json_object_set(seen, kube_obj_name(obj), json_true());
	ck_assert_uint_eq(json_object_size(seen), 250); /* no duplicates across pages */
	json_decref(seen);
	json_decref(items);

	struct kube_list_opts five = {.label_selector = "app=five", .limit = 7};
	ck_assert_int_eq(kube_list_all(client, &KUBE_RES_CONFIGMAPS, "paging", &five, &items, NULL,
				       0, err, sizeof(err)),
			 0);
	ck_assert_uint_eq(json_array_size(items), 50);
	json_decref(items);
	struct kube_list_opts by_name = {.field_selector = "metadata.name=cm-007"};
	ck_assert_int_eq(kube_list_all(client, &KUBE_RES_CONFIGMAPS, NULL, &by_name, &items, NULL,
				       0, err, sizeof(err)),
			 0);
	ck_assert_uint_eq(json_array_size(items), 1);
	json_decref(items);
}
END_TEST

START_TEST(test_retries_against_faults)
{
	char err[512];
	json_t *cm = test_configmap("default", "r", "x");
	ck_assert_int_eq(
	    kube_create(client, &KUBE_RES_CONFIGMAPS, NULL, cm, NULL, err, sizeof(err)), 0);
	apiserver_fault(client, "{\"fail_next\":2,\"status\":500,\"path_regex\":\"configmaps/r\"}");
	ck_assert_int_eq(
	    kube_get(client, &KUBE_RES_CONFIGMAPS, "default", "r", NULL, err, sizeof(err)), 0);
	apiserver_fault(client, "{\"fail_next\":1,\"status\":429,\"retry_after\":1,"
				"\"path_regex\":\"configmaps/r\"}");
	long start = test_now_ms();
	ck_assert_int_eq(
	    kube_get(client, &KUBE_RES_CONFIGMAPS, "default", "r", NULL, err, sizeof(err)), 0);
	ck_assert_int_ge(test_now_ms() - start, 1000);
	apiserver_fault(client,
			"{\"fail_next\":10,\"status\":503,\"path_regex\":\"configmaps/r\"}");
	ck_assert_int_eq(
	    kube_get(client, &KUBE_RES_CONFIGMAPS, "default", "r", NULL, err, sizeof(err)), -EIO);
	apiserver_reset(client, false);
	json_decref(cm);
}
END_TEST

START_TEST(test_events)
{
	char err[512];
	json_t *cm = test_configmap("default", "ev-target", "x"), *created = NULL, *ev_out = NULL;
	ck_assert_int_eq(
	    kube_create(client, &KUBE_RES_CONFIGMAPS, NULL, cm, &created, err, sizeof(err)), 0);
	struct kube_event ev = {.type = "Warning",
				.reason = "Testing",
				.note = "something happened",
				.action = "Check",
				.reporting_controller = "coil.cybozu.com/test",
				.reporting_instance = "test-0"};
	kube_object_ref_from(created, &ev.regarding);
	ck_assert_int_eq(kube_event_create(client, &ev, &ev_out, err, sizeof(err)), 0);
	json_t *got = NULL;
	ck_assert_int_eq(kube_get(client, &KUBE_RES_EVENTS, "default", kube_obj_name(ev_out), &got,
				  err, sizeof(err)),
			 0);
	ck_assert_str_eq(kube_json_string(got, "regarding.uid"), kube_obj_uid(created));
	ck_assert_str_eq(kube_json_string(got, "regarding.kind"), "ConfigMap");
	ck_assert_str_eq(kube_json_string(got, "reason"), "Testing");
	ck_assert_str_eq(kube_json_string(got, "type"), "Warning");
	ck_assert_str_eq(kube_json_string(got, "reportingController"), "coil.cybozu.com/test");
	const char *when = kube_json_string(got, "eventTime");
	ck_assert_ptr_nonnull(when);
	ck_assert_uint_eq(strlen(when), 27); /* 2024-05-01T10:00:00.123456Z */
	json_decref(got);
	json_decref(ev_out);
	json_decref(created);
	json_decref(cm);
}
END_TEST

static int never_called(void *arg, enum kube_event_type type, json_t *obj)
{
	(void)arg, (void)type, (void)obj;
	ck_abort_msg("a forbidden watch delivered an event");
	return 0;
}

/* Under deploy/'s RBAC (coil-router may list nodes, nothing else on them), a missing verb is
 * -EPERM and the error names the call, the user, the verb and the resource. */
START_TEST(test_forbidden_is_clear)
{
	char err[512], rv[32] = "1";
	apiserver_apply_rbac(&srv);
	struct kube_client *router = apiserver_sa_client(&srv, "coil-router");
	json_t *list = NULL, *obj = NULL;
	ck_assert_int_eq(kube_list(router, &KUBE_RES_NODES, NULL, NULL, &list, err, sizeof(err)),
			 0);
	json_decref(list);
	ck_assert_int_eq(kube_get(router, &KUBE_RES_NODES, NULL, "n1", &obj, err, sizeof(err)),
			 -EPERM);
	ck_assert_str_eq(err,
			 "GET /api/v1/nodes/n1: HTTP 403 Forbidden: nodes \"n1\" is "
			 "forbidden: User \"system:serviceaccount:kube-system:coil-router\" "
			 "cannot get resource \"nodes\" in API group \"\" at the cluster scope");
	struct kube_watch_opts opts = {.timeout_seconds = 5};
	ck_assert_int_eq(kube_watch(router, &KUBE_RES_NODES, NULL, &opts, rv, sizeof(rv),
				    never_called, NULL, NULL, err, sizeof(err)),
			 -EPERM);
	ck_assert_msg(strstr(err, "HTTP 403 Forbidden") &&
			  strstr(err, "cannot watch resource \"nodes\" in API group \"\""),
		      "%s", err);
	kube_client_free(router);
}
END_TEST

Suite *crud_suite(void)
{
	Suite *s = suite_create("crud");
	TCase *tc = tcase_create("crud");
	tcase_add_unchecked_fixture(tc, start, stop);
	tcase_add_checked_fixture(tc, reset, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_crud_and_conflicts);
	tcase_add_test(tc, test_status_and_scale);
	tcase_add_test(tc, test_paging_and_selectors);
	tcase_add_test(tc, test_retries_against_faults);
	tcase_add_test(tc, test_events);
	tcase_add_test(tc, test_forbidden_is_clear);
	suite_add_tcase(s, tc);
	return s;
}
