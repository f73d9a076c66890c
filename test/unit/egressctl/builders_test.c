/* The reconcile plans of coil-egress-controller: Egress JSON in, the Deployment, Service,
 * PodDisruptionBudget and binding subjects it should become out (lib/egressctl builders). */
#include "egressctl/egressctl.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static const struct egressctl_config cfg = {
    .image = "coil:dev", .egress_port = 5555, .backend = "iptables"};

/* The Egress named name in default with spec_json (a JSON object text), decoded into *eg
 * (borrowing from the returned object, which the caller decrefs after clearing *eg). */
static json_t *egress(const char *name, const char *spec_json, struct coilapi_egress *eg)
{
	json_t *spec = json_loads(spec_json, 0, NULL);
	ck_assert_ptr_nonnull(spec);
	json_t *obj = json_pack("{s:s, s:s, s:{s:s, s:s, s:s}, s:o}", "apiVersion",
				"coil.cybozu.com/v2", "kind", "Egress", "metadata", "name", name,
				"namespace", "default", "uid", "uid-1", "spec", spec);
	char err[256];
	ck_assert_msg(coilapi_egress_decode(obj, eg, err, sizeof(err)) == 0, "%s", err);
	return obj;
}

static const json_t *at(const json_t *obj, const char *path)
{
	const json_t *value = kube_json_path(obj, path);
	ck_assert_msg(value != NULL, "no %s", path);
	return value;
}

static const json_t *container(const json_t *dep, size_t i)
{
	return json_array_get(at(dep, "spec.template.spec.containers"), i);
}

static void assert_json(const json_t *value, const char *want_text)
{
	json_t *want = json_loads(want_text, JSON_DECODE_ANY, NULL);
	ck_assert_ptr_nonnull(want);
	char *got = json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	char *exp = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	ck_assert_msg(json_equal(value, want), "got %s\nwant %s", got, exp);
	free(got);
	free(exp);
	json_decref(want);
}

#define SELECTOR                                                                                   \
	"{\"app.kubernetes.io/name\":\"coil\",\"app.kubernetes.io/instance\":\"eg\","              \
	"\"app.kubernetes.io/component\":\"egress\"}"

START_TEST(new_deployment_is_upstreams_template)
{
	struct coilapi_egress eg;
	json_t *obj = egress("eg", "{\"destinations\":[\"0.0.0.0/0\"],\"replicas\":2}", &eg);
	json_t *dep = egressctl_build_deployment(&cfg, obj, &eg, NULL);
	assert_json(at(dep, "metadata.ownerReferences"),
		    "[{\"apiVersion\":\"coil.cybozu.com/v2\",\"kind\":\"Egress\",\"name\":\"eg\","
		    "\"uid\":\"uid-1\",\"controller\":true,\"blockOwnerDeletion\":true}]");
	assert_json(at(dep, "metadata.labels"), SELECTOR);
	assert_json(at(dep, "spec.selector"), "{\"matchLabels\":" SELECTOR "}");
	assert_json(at(dep, "spec.replicas"), "2");
	ck_assert_ptr_null(kube_json_path(dep, "spec.strategy"));
	assert_json(at(dep, "spec.template"),
		    "{\"metadata\":{\"labels\":" SELECTOR "},\"spec\":{"
		    "\"serviceAccountName\":\"coil-egress\","
		    "\"volumes\":[{\"name\":\"run\",\"emptyDir\":{}},{\"name\":\"modules\","
		    "\"hostPath\":{\"path\":\"/lib/modules\"}}],"
		    "\"containers\":[{\"name\":\"egress\",\"image\":\"coil:dev\","
		    "\"command\":[\"coil-egress\"],"
		    "\"args\":[\"--zap-stacktrace-level=panic\",\"--backend=iptables\"],"
		    "\"env\":[{\"name\":\"COIL_POD_NAMESPACE\",\"value\":\"default\"},"
		    "{\"name\":\"COIL_EGRESS_NAME\",\"value\":\"eg\"},"
		    "{\"name\":\"COIL_POD_ADDRESSES\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":"
		    "\"status.podIPs\"}}}],"
		    "\"volumeMounts\":[{\"name\":\"run\",\"mountPath\":\"/run\"},{\"name\":"
		    "\"modules\",\"mountPath\":\"/lib/modules\",\"readOnly\":true}],"
		    "\"securityContext\":{\"privileged\":true,\"readOnlyRootFilesystem\":true,"
		    "\"capabilities\":{\"add\":[\"NET_ADMIN\"]}},"
		    "\"resources\":{\"requests\":{\"cpu\":\"100m\",\"memory\":\"200Mi\"}},"
		    "\"ports\":[{\"name\":\"metrics\",\"containerPort\":8080,\"protocol\":\"TCP\"},"
		    "{\"name\":\"health\",\"containerPort\":8081,\"protocol\":\"TCP\"}],"
		    "\"livenessProbe\":{\"httpGet\":{\"path\":\"/healthz\",\"port\":\"health\","
		    "\"scheme\":\"HTTP\"}},"
		    "\"readinessProbe\":{\"httpGet\":{\"path\":\"/readyz\",\"port\":\"health\","
		    "\"scheme\":\"HTTP\"}}}]}}");
	json_decref(dep);
	coilapi_egress_clear(&eg);
	json_decref(obj);
}
END_TEST

START_TEST(user_template_is_merged_as_upstream)
{
	struct coilapi_egress eg;
	json_t *obj = egress(
	    "eg",
	    "{\"destinations\":[\"0.0.0.0/0\"],\"fouSourcePortAuto\":true,"
	    "\"strategy\":{\"type\":\"Recreate\"},"
	    "\"template\":{\"metadata\":{\"labels\":{\"foo\":\"bar\",\"app.kubernetes.io/name\":"
	    "\"hoge\"},\"annotations\":{\"ann1\":\"qqq\"}},"
	    "\"spec\":{\"schedulerName\":\"hoge\",\"volumes\":[{\"name\":\"run\",\"emptyDir\":{}}],"
	    "\"containers\":[{\"name\":\"sidecar\",\"image\":\"nginx\"},{\"name\":\"egress\","
	    "\"image\":\"mine\",\"resources\":{\"requests\":{\"cpu\":\"2\"}},"
	    "\"volumeMounts\":[{\"name\":\"run\",\"mountPath\":\"/var/run\"}],"
	    "\"env\":[{\"name\":\"A\",\"value\":\"b\"}]}]}}}",
	    &eg);
	json_t *current =
	    json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s}}, s:{s:{s:{s:s}}, s:{s:{s:{s:s, s:s}}}}}",
		      "apiVersion", "apps/v1", "kind", "Deployment", "metadata", "name", "eg",
		      "resourceVersion", "7", "labels", "other", "x", "spec", "selector",
		      "matchLabels", "keep", "me", "template", "metadata", "annotations",
		      "kubectl.kubernetes.io/restartedAt", "now", "ann1", "old");
	json_t *dep = egressctl_build_deployment(&cfg, obj, &eg, current);
	assert_json(at(dep, "metadata.labels"),
		    "{\"other\":\"x\",\"app.kubernetes.io/name\":\"coil\",\"app.kubernetes.io/"
		    "instance\":\"eg\",\"app.kubernetes.io/component\":\"egress\"}");
	ck_assert_ptr_null(kube_json_path(dep, "metadata.ownerReferences")); /* only on create */
	assert_json(at(dep, "spec.selector"), "{\"matchLabels\":{\"keep\":\"me\"}}");
	assert_json(at(dep, "spec.strategy"), "{\"type\":\"Recreate\"}");
	assert_json(at(dep, "spec.template.metadata.labels"),
		    "{\"foo\":\"bar\",\"app.kubernetes.io/name\":\"coil\",\"app.kubernetes.io/"
		    "instance\":\"eg\",\"app.kubernetes.io/component\":\"egress\"}");
	assert_json(at(dep, "spec.template.metadata.annotations"),
		    "{\"kubectl.kubernetes.io/restartedAt\":\"now\",\"ann1\":\"qqq\"}");
	assert_json(at(dep, "spec.template.spec.schedulerName"), "\"hoge\"");
	assert_json(at(dep, "spec.template.spec.volumes"),
		    "[{\"name\":\"run\",\"emptyDir\":{}},{\"name\":\"modules\",\"hostPath\":"
		    "{\"path\":\"/lib/modules\"}}]");
	assert_json(kube_json_path(container(dep, 0), "image"), "\"nginx\"");
	const json_t *c = container(dep, 1);
	assert_json(json_object_get(c, "image"), "\"mine\"");
	assert_json(json_object_get(c, "args"),
		    "[\"--zap-stacktrace-level=panic\","
		    "\"--enable-sport-auto=true\",\"--backend=iptables\"]");
	ck_assert_int_eq(json_array_size(json_object_get(c, "env")), 4);
	assert_json(json_object_get(c, "volumeMounts"),
		    "[{\"name\":\"run\",\"mountPath\":\"/var/run\"},{\"name\":\"modules\","
		    "\"mountPath\":\"/lib/modules\",\"readOnly\":true}]");
	assert_json(at(c, "resources.requests"), "{\"cpu\":\"2\",\"memory\":\"200Mi\"}");
	json_decref(dep);
	json_decref(current);
	coilapi_egress_clear(&eg);
	json_decref(obj);
}
END_TEST

START_TEST(user_args_are_kept_and_egress_goes_first)
{
	struct coilapi_egress eg;
	json_t *obj = egress("eg",
			     "{\"destinations\":[\"0.0.0.0/0\"],\"template\":{\"spec\":{"
			     "\"containers\":[{\"name\":\"side\"}]}}}",
			     &eg);
	struct egressctl_config nft = cfg;
	nft.backend = "nftables";
	json_t *dep = egressctl_build_deployment(&nft, obj, &eg, NULL);
	assert_json(kube_json_path(container(dep, 0), "args"),
		    "[\"--zap-stacktrace-level=panic\",\"--backend=nftables\"]");
	assert_json(kube_json_path(container(dep, 1), "name"), "\"side\"");
	json_decref(dep);
	coilapi_egress_clear(&eg);
	json_decref(obj);
	obj = egress("eg",
		     "{\"destinations\":[\"0.0.0.0/0\"],\"template\":{\"spec\":{"
		     "\"containers\":[{\"name\":\"egress\",\"args\":[\"--mine\"]}]}}}",
		     &eg);
	dep = egressctl_build_deployment(&cfg, obj, &eg, NULL);
	assert_json(kube_json_path(container(dep, 0), "args"), "[\"--mine\"]");
	json_decref(dep);
	coilapi_egress_clear(&eg);
	json_decref(obj);
}
END_TEST

START_TEST(service_follows_affinity)
{
	struct coilapi_egress eg;
	json_t *obj = egress("eg",
			     "{\"destinations\":[\"0.0.0.0/0\"],\"sessionAffinity\":\"None\","
			     "\"sessionAffinityConfig\":{\"clientIP\":{\"timeoutSeconds\":100}}}",
			     &eg);
	json_t *svc = egressctl_build_service(&cfg, obj, &eg, NULL);
	assert_json(at(svc, "spec"),
		    "{\"type\":\"ClusterIP\",\"selector\":" SELECTOR ",\"ports\":[{\"port\":5555,"
		    "\"targetPort\":5555,\"protocol\":\"UDP\"}],\"sessionAffinity\":\"None\","
		    "\"sessionAffinityConfig\":{\"clientIP\":{\"timeoutSeconds\":100}},"
		    "\"ipFamilyPolicy\":\"PreferDualStack\"}");
	assert_json(at(svc, "metadata.labels"), SELECTOR);
	ck_assert_int_eq(json_array_size(at(svc, "metadata.ownerReferences")), 1);
	json_decref(svc);
	coilapi_egress_clear(&eg);
	json_decref(obj);
	/* Without a config in the Egress, the Service keeps its own (as upstream). */
	obj = egress("eg", "{\"destinations\":[\"0.0.0.0/0\"]}", &eg);
	json_t *current =
	    json_pack("{s:{s:s}, s:{s:s, s:s, s:{s:{s:i}}}}", "metadata", "name", "eg", "spec",
		      "clusterIP", "10.0.0.9", "sessionAffinity", "None", "sessionAffinityConfig",
		      "clientIP", "timeoutSeconds", 10800);
	svc = egressctl_build_service(&cfg, obj, &eg, current);
	assert_json(at(svc, "spec.sessionAffinity"), "\"ClientIP\"");
	assert_json(at(svc, "spec.clusterIP"), "\"10.0.0.9\"");
	assert_json(at(svc, "spec.sessionAffinityConfig"),
		    "{\"clientIP\":{\"timeoutSeconds\":10800}}");
	json_decref(svc);
	json_decref(current);
	coilapi_egress_clear(&eg);
	json_decref(obj);
}
END_TEST

START_TEST(pdb_switches_fields)
{
	struct coilapi_egress eg;
	json_t *obj = egress("eg",
			     "{\"destinations\":[\"0.0.0.0/0\"],\"podDisruptionBudget\":"
			     "{\"maxUnavailable\":\"50%\"}}",
			     &eg);
	json_t *current =
	    json_pack("{s:{s:s}, s:{s:i}}", "metadata", "name", "eg", "spec", "minAvailable", 1);
	json_t *pdb = egressctl_build_pdb(obj, &eg, current);
	assert_json(at(pdb, "spec"),
		    "{\"maxUnavailable\":\"50%\",\"selector\":{\"matchLabels\":" SELECTOR "}}");
	json_decref(pdb);
	pdb = egressctl_build_pdb(obj, &eg, NULL);
	assert_json(at(pdb, "apiVersion"), "\"policy/v1\"");
	ck_assert_int_eq(json_array_size(at(pdb, "metadata.ownerReferences")), 1);
	json_decref(pdb);
	json_decref(current);
	coilapi_egress_clear(&eg);
	json_decref(obj);
}
END_TEST

START_TEST(selector_string_and_subjects)
{
	json_t *labels = egressctl_selector_labels("egress");
	char *text = egressctl_selector_string(labels);
	ck_assert_str_eq(text, "app.kubernetes.io/component=egress,app.kubernetes.io/"
			       "instance=egress,app.kubernetes.io/name=coil");
	free(text);
	json_decref(labels);
	json_t *list = json_loads("[{\"metadata\":{\"namespace\":\"zeta\",\"name\":\"a\"}},"
				  "{\"metadata\":{\"namespace\":\"alpha\",\"name\":\"b\"}},"
				  "{\"metadata\":{\"namespace\":\"zeta\",\"name\":\"c\"}}]",
				  0, NULL);
	json_t *subjects = egressctl_crb_subjects(list);
	assert_json(
	    subjects,
	    "[{\"kind\":\"ServiceAccount\",\"name\":\"coil-egress\",\"namespace\":\"alpha\"},"
	    "{\"kind\":\"ServiceAccount\",\"name\":\"coil-egress\",\"namespace\":\"zeta\"}]");
	json_decref(subjects);
	json_decref(list);
	json_t *empty = json_array();
	subjects = egressctl_crb_subjects(empty);
	ck_assert_int_eq(json_array_size(subjects), 0);
	json_decref(subjects);
	json_decref(empty);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("egressctl");
	TCase *tc = tcase_create("builders");
	tcase_add_test(tc, new_deployment_is_upstreams_template);
	tcase_add_test(tc, user_template_is_merged_as_upstream);
	tcase_add_test(tc, user_args_are_kept_and_egress_goes_first);
	tcase_add_test(tc, service_follows_affinity);
	tcase_add_test(tc, pdb_switches_fields);
	tcase_add_test(tc, selector_string_and_subjects);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
