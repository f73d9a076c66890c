/* The Egress watcher against the test API server, with a recording update function instead of
 * the daemon: upstream's watcher test (which pods are updated when an Egress changes, and that
 * two running pods with one address stop every update). */
#include "coilapi/coilapi.h"
#include "fixture.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ERRLEN 512

static struct {
	pthread_mutex_t lock;
	char ips[32][NL_IP_STRLEN];
	size_t n;
	bool last_sport_auto;
	size_t last_gateways;
} rec = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void record(const struct nl_ip *ip)
{
	char text[NL_IP_STRLEN];
	if (!ip->family)
		return;
	nl_ip_format(ip, text, sizeof(text));
	for (size_t i = 0; i < rec.n; i++)
		if (!strcmp(rec.ips[i], text))
			return;
	if (rec.n < 32)
		snprintf(rec.ips[rec.n++], NL_IP_STRLEN, "%s", text);
}

static int record_update(void *arg, const char *uid, const struct nl_ip *v4, const struct nl_ip *v6,
			 const struct natclient_gateways *gws, char *err, size_t errlen)
{
	pthread_mutex_lock(&rec.lock);
	record(v4);
	record(v6);
	rec.last_gateways = gws->n;
	rec.last_sport_auto = gws->n && gws->items[0].sport_auto;
	pthread_mutex_unlock(&rec.lock);
	return 0;
}

static bool recorded(const char *ip)
{
	bool found = false;
	pthread_mutex_lock(&rec.lock);
	for (size_t i = 0; i < rec.n; i++)
		found |= !strcmp(rec.ips[i], ip);
	pthread_mutex_unlock(&rec.lock);
	return found;
}

static void forget_all(void)
{
	pthread_mutex_lock(&rec.lock);
	rec.n = 0;
	rec.last_sport_auto = false;
	pthread_mutex_unlock(&rec.lock);
}

static void create(const struct kube_resource *res, const char *ns, json_t *obj)
{
	char err[ERRLEN];
	int ret = kube_create(fx_client, res, ns, obj, NULL, err, sizeof(err));
	ck_assert_msg(ret == 0, "create: %s", err);
	json_decref(obj);
}

static void create_egress(const char *ns, const char *name, bool sport_auto)
{
	create(&COILAPI_RES_EGRESSES, ns,
	       json_pack("{s:s,s:s,s:{s:s,s:s},s:{s:[s,s],s:b}}", "apiVersion", COILAPI_API_VERSION,
			 "kind", "Egress", "metadata", "name", name, "namespace", ns, "spec",
			 "destinations", "0.0.0.0/0", "::/0", "fouSourcePortAuto", sport_auto));
	create(&KUBE_RES_SERVICES, ns,
	       json_pack("{s:s,s:s,s:{s:s,s:s},s:{s:[s,s],s:[{s:i,s:s}]}}", "apiVersion", "v1",
			 "kind", "Service", "metadata", "name", name, "namespace", ns, "spec",
			 "clusterIPs", "10.96.0.10", "fd03::10", "ports", "port", 5555, "protocol",
			 "UDP"));
}

static void set_sport_auto(const char *ns, const char *name, bool on)
{
	char err[ERRLEN];
	json_t *patch = json_pack("{s:{s:b}}", "spec", "fouSourcePortAuto", on);
	int ret = kube_patch(fx_client, &COILAPI_RES_EGRESSES, ns, name, NULL, KUBE_PATCH_MERGE,
			     patch, NULL, err, sizeof(err));
	json_decref(patch);
	ck_assert_msg(ret == 0, "patch: %s", err);
}

/* A pod on node with two addresses and one egress annotation, in phase. */
static void create_pod(const char *name, const char *node, const char *v4, const char *v6,
		       const char *ann_ns, const char *egress, const char *phase)
{
	char err[ERRLEN], key[128];
	snprintf(key, sizeof(key), "egress.coil.cybozu.com/%s", ann_ns);
	json_t *pod = json_pack("{s:s,s:s,s:{s:s,s:s,s:{s:s}},s:{s:s,s:[{s:s,s:s}]}}", "apiVersion",
				"v1", "kind", "Pod", "metadata", "name", name, "namespace", "ns1",
				"annotations", key, egress, "spec", "nodeName", node, "containers",
				"name", "c", "image", "busybox");
	json_t *created = NULL;
	ck_assert_int_eq(
	    kube_create(fx_client, &KUBE_RES_PODS, "ns1", pod, &created, err, sizeof(err)), 0);
	json_object_set_new(created, "status",
			    json_pack("{s:s,s:s,s:[{s:s},{s:s}]}", "phase", phase, "podIP", v4,
				      "podIPs", "ip", v4, "ip", v6));
	int ret =
	    kube_update_sub(fx_client, &KUBE_RES_PODS, created, "status", NULL, err, sizeof(err));
	ck_assert_msg(ret == 0, "pod status: %s", err);
	json_decref(created);
	json_decref(pod);
}

static bool wait_recorded(const char *ip, long ms)
{
	for (long start = test_now_ms(); test_now_ms() - start < ms; test_sleep_ms(20))
		if (recorded(ip))
			return true;
	return false;
}

START_TEST(test_egress_watcher)
{
	char err[ERRLEN];
	create_egress("ns1", "egress1", false);
	create_pod("pod1", "node1", "10.1.1.2", "fd01::2", "ns1", "egress1", "Running");
	create_pod("pod2", "node1", "10.1.1.3", "fd01::3", "ns1", "egress2", "Running");
	create_pod("pod3", "node1", "10.1.1.4", "fd01::4", "ns2", "egress1", "Running");
	create_pod("pod4", "node1", "10.1.1.5", "fd01::5", "ns1", "egress1", "Succeeded");
	create_pod("other", "node2", "10.1.1.6", "fd01::6", "ns1", "egress1", "Running");
	struct kubesource *ks = fx_source("node1", 0);
	struct kubesource_egress_watch *w = NULL;
	ck_assert_int_eq(
	    kubesource_egress_watch_start(ks, false, record_update, NULL, &w, err, sizeof(err)), 0);

	/* the Egress as it is (its first event) and then changed: pod1 only, both addresses */
	ck_assert(wait_recorded("10.1.1.2", 5000));
	forget_all();
	set_sport_auto("ns1", "egress1", true);
	ck_assert(wait_recorded("10.1.1.2", 5000) && wait_recorded("fd01::2", 1000));
	pthread_mutex_lock(&rec.lock);
	ck_assert(rec.last_sport_auto);
	ck_assert_uint_eq(rec.last_gateways, 2); /* one per ClusterIP family */
	pthread_mutex_unlock(&rec.lock);
	test_sleep_ms(500);
	const char *never[] = {"10.1.1.3", "10.1.1.4", "10.1.1.5", "10.1.1.6", "fd01::6"};
	for (size_t i = 0; i < 5; i++)
		ck_assert_msg(!recorded(never[i]), "%s was updated", never[i]);

	/* a second running pod with pod2's address: egress2's clients are never updated */
	create_pod("pod5", "node1", "10.1.1.3", "fd01::3", "ns1", "egress2", "Running");
	test_sleep_ms(300); /* the pod cache has pod5 */
	create_egress("ns1", "egress2", false);
	test_sleep_ms(2000);
	ck_assert(!recorded("10.1.1.3") && !recorded("fd01::3"));

	/* a deleted Egress changes nothing and breaks nothing */
	ck_assert_int_eq(
	    kube_delete(fx_client, &COILAPI_RES_EGRESSES, "ns1", "egress1", NULL, err, sizeof(err)),
	    0);
	kubesource_egress_watch_stop(w);
	kubesource_close(ks);
}
END_TEST

Suite *egresswatch_suite(void);
Suite *egresswatch_suite(void)
{
	Suite *s = suite_create("egresswatch");
	TCase *tc = tcase_create("watch");
	tcase_add_checked_fixture(tc, fx_start, fx_stop);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_egress_watcher);
	suite_add_tcase(s, tc);
	return s;
}
