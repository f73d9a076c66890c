/* The Kubernetes block source's other duties: the Node (InternalIPs, clear routes), pods,
 * namespaces, pools, release, and failing fast when the API server is away. */
#include "coilapi/coilapi.h"
#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ERRLEN 512

static void ips_are(const char *node, const char *want4, const char *want6)
{
	struct kubesource *ks = fx_source(node, 0);
	char v4[IP_ADDR_STRLEN], v6[IP_ADDR_STRLEN];
	kubesource_node_ips(ks, v4, v6);
	ck_assert_str_eq(v4, want4);
	ck_assert_str_eq(v6, want6);
	ck_assert_str_eq(kubesource_node_name(ks), node);
	kubesource_close(ks);
}

/* 5. The Node's InternalIPs. */
START_TEST(test_node_internal_ips)
{
	ips_are("node1", "10.20.30.41", "fd10::41");
	ips_are("node2", "10.20.30.42", "");
	ips_are("node3", "", "fd10::43");
}
END_TEST

START_TEST(test_open_errors)
{
	struct kubesource_config cfg = {.kube = &fx_kube};
	struct kubesource *ks = NULL;
	char err[ERRLEN];
	ck_assert_int_eq(kubesource_open(&cfg, &ks, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "COIL_NODE_NAME environment variable should be set");
	unsetenv("COIL_NODE_NAME");
	ck_assert_int_eq(kubesource_open_default(NULL, false, &ks, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "COIL_NODE_NAME environment variable should be set");
	cfg.node_name = "no-such-node";
	ck_assert_int_eq(kubesource_open(&cfg, &ks, err, sizeof(err)), -ENOENT);
	ck_assert_msg(strstr(err, "failed to get Node resource no-such-node"), "%s", err);
}
END_TEST

/* kubesource_open_default reads the kubeconfig file and COIL_NODE_NAME. */
START_TEST(test_open_default)
{
	char path[] = "/tmp/kubesource-kubeconfig-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	FILE *f = fdopen(fd, "w");
	fprintf(f,
		"apiVersion: v1\nkind: Config\ncurrent-context: t\nclusters:\n- name: c\n"
		"  cluster:\n    server: %s\ncontexts:\n- name: t\n  context:\n    cluster: c\n"
		"    user: u\nusers:\n- name: u\n  user: {}\n",
		fx_srv.url);
	fclose(f);
	setenv("COIL_NODE_NAME", "node2", 1);
	struct kubesource *ks = NULL;
	char err[ERRLEN];
	int ret = kubesource_open_default(path, false, &ks, err, sizeof(err));
	unsetenv("COIL_NODE_NAME");
	unlink(path);
	ck_assert_msg(ret == 0, "open_default: %s", err);
	char v4[IP_ADDR_STRLEN], v6[IP_ADDR_STRLEN];
	kubesource_node_ips(ks, v4, v6);
	ck_assert_str_eq(v4, "10.20.30.42");
	kubesource_close(ks);
}
END_TEST

/* 6 (adapted). --clear-routes-on-shutdown asks whether the Node is gone. */
START_TEST(test_node_gone)
{
	struct kubesource *ks = fx_source("node1", 0);
	char err[ERRLEN];
	ck_assert_int_eq(kubesource_node_gone(ks, 10000, err, sizeof(err)), 0);
	ck_assert_int_eq(
	    kube_delete(fx_client, &KUBE_RES_NODES, NULL, "node1", NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(kubesource_node_gone(ks, 10000, err, sizeof(err)), 1);
	apiserver_stop(&fx_srv);
	long start = test_now_ms();
	ck_assert_int_lt(kubesource_node_gone(ks, 2000, err, sizeof(err)), 0);
	ck_assert_int_lt(test_now_ms() - start, 2500);
	kubesource_close(ks);
}
END_TEST

static void pool_is(struct block_source *src, const char *ns, int want_ret, const char *want)
{
	char pool[NODE_NAME_MAX] = "", err[ERRLEN] = "";
	int ret = src->ops->pool_for_namespace(src->ctx, ns, pool, sizeof(pool), err, sizeof(err));
	ck_assert_msg(ret == want_ret, "namespace %s: %d %s", ns, ret, err);
	if (want)
		ck_assert_str_eq(pool, want);
}

START_TEST(test_pool_for_namespace)
{
	struct kubesource *ks = fx_source("node1", 0);
	struct block_source src = kubesource_block_source(ks);
	pool_is(&src, "ns1", 0, "default");
	pool_is(&src, "ns2", 0, "global");
	pool_is(&src, "ns3", 0, "");
	pool_is(&src, "nope", -ENOENT, NULL);
	/* Just created: served from the cache or, before the watch saw it, by a direct GET. */
	json_t *ns =
	    json_pack("{s:s,s:s,s:{s:s,s:{s:s}}}", "apiVersion", "v1", "kind", "Namespace",
		      "metadata", "name", "fresh", "annotations", "coil.cybozu.com/pool", "v4");
	char err[ERRLEN];
	ck_assert_int_eq(
	    kube_create(fx_client, &KUBE_RES_NAMESPACES, NULL, ns, NULL, err, sizeof(err)), 0);
	json_decref(ns);
	pool_is(&src, "fresh", 0, "v4");
	kubesource_close(ks);
}
END_TEST

START_TEST(test_pod_lookup)
{
	struct kubesource *ks = fx_source("node1", 0);
	char err[ERRLEN];
	ck_assert_int_eq(kubesource_pod_lookup(ks, "", "p", NULL, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "missing pod name/namespace");
	ck_assert_int_eq(kubesource_pod_lookup(ks, "ns1", NULL, NULL, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(kubesource_pod_lookup(ks, "ns1", "p", NULL, err, sizeof(err)), -ENOENT);
	ck_assert_msg(strstr(err, "pod not found"), "%s", err);
	json_t *pod = json_pack("{s:s,s:s,s:{s:s,s:s},s:{s:[{s:s,s:s}]}}", "apiVersion", "v1",
				"kind", "Pod", "metadata", "name", "p", "namespace", "ns1", "spec",
				"containers", "name", "c", "image", "busybox");
	ck_assert_int_eq(kube_create(fx_client, &KUBE_RES_PODS, "ns1", pod, NULL, err, sizeof(err)),
			 0);
	json_decref(pod);
	ck_assert_int_eq(kubesource_pod_lookup(ks, "ns1", "p", NULL, err, sizeof(err)), 0);
	kubesource_close(ks);
}
END_TEST

START_TEST(test_release)
{
	struct kubesource *ks = fx_source("node1", 0);
	struct block_source src = kubesource_block_source(ks);
	fx_create_block("default-5", "default", "node1", 5, "10.2.0.10/31", NULL, false);
	struct node_block b = {.name = "default-5", .pool = "default", .index = 5};
	char err[ERRLEN];
	ck_assert_int_eq(src.ops->release(src.ctx, &b, err, sizeof(err)), 0);
	ck_assert(!fx_block_exists("default-5")); /* the finalizer was removed first */
	ck_assert_int_eq(src.ops->release(src.ctx, &b, err, sizeof(err)), 0); /* already gone */
	kubesource_close(ks);
}
END_TEST

START_TEST(test_list)
{
	fx_create_block("default-0", "default", "node1", 0, "10.2.0.0/31", "fd02::0200/127", false);
	fx_create_block("v4-0", "v4", "node2", 2, "10.4.0.0/30", NULL, false);
	fx_create_block("default-2", "default", "node1", 2, "10.2.0.4/31", NULL, true);
	struct kubesource *ks = fx_source("node1", 0);
	struct block_source src = kubesource_block_source(ks);
	struct node_block *blocks = NULL;
	size_t n = 0;
	char err[ERRLEN];
	ck_assert_int_eq(src.ops->list(src.ctx, &blocks, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 2);
	struct node_block *b0 = strcmp(blocks[0].name, "default-0") == 0 ? &blocks[0] : &blocks[1];
	struct node_block *b2 = b0 == &blocks[0] ? &blocks[1] : &blocks[0];
	ck_assert_str_eq(b0->ipv6, "fd02::200/127");
	ck_assert(!b0->reserved);
	ck_assert_str_eq(b2->name, "default-2");
	ck_assert(b2->reserved);
	free(blocks);
	kubesource_close(ks);
}
END_TEST

START_TEST(test_can_acquire)
{
	struct kubesource *ks = fx_source("node1", 0);
	struct block_source src = kubesource_block_source(ks);
	ck_assert_int_eq(src.ops->can_acquire(src.ctx, "default"), 1);
	ck_assert_int_eq(src.ops->can_acquire(src.ctx, "nope"), 0);
	/* A pool with a finalizer being deleted stays, with a deletionTimestamp. */
	char err[ERRLEN];
	json_t *patch = json_pack("{s:{s:[s]}}", "metadata", "finalizers", "coil.cybozu.com");
	ck_assert_int_eq(kube_patch(fx_client, &COILAPI_RES_ADDRESSPOOLS, NULL, "v4", NULL,
				    KUBE_PATCH_MERGE, patch, NULL, err, sizeof(err)),
			 0);
	json_decref(patch);
	ck_assert_int_eq(
	    kube_delete(fx_client, &COILAPI_RES_ADDRESSPOOLS, NULL, "v4", NULL, err, sizeof(err)),
	    0);
	ck_assert_int_eq(src.ops->can_acquire(src.ctx, "v4"), 0);
	kubesource_close(ks);
}
END_TEST

/* The API server is away: an ADD's calls fail with -EAGAIN within about two seconds. */
START_TEST(test_api_down)
{
	struct kubesource *ks = fx_source("node1", 0);
	struct block_source src = kubesource_block_source(ks);
	struct node_block b;
	char err[ERRLEN];
	apiserver_stop(&fx_srv);
	long start = test_now_ms();
	ck_assert_int_eq(src.ops->acquire(src.ctx, "default", &b, err, sizeof(err)), -EAGAIN);
	ck_assert_int_lt(test_now_ms() - start, 2000);
	start = test_now_ms();
	ck_assert_int_eq(kubesource_pod_lookup(ks, "ns1", "p", NULL, err, sizeof(err)), -EAGAIN);
	struct node_block gone = {.name = "default-0", .pool = "default"};
	ck_assert_int_eq(src.ops->release(src.ctx, &gone, err, sizeof(err)), -EAGAIN);
	ck_assert_int_lt(test_now_ms() - start, 4000);
	kubesource_close(ks);
}
END_TEST

/* The API server answers 503 to everything (fault injection): -EAGAIN too, quickly. */
START_TEST(test_api_unavailable)
{
	struct kubesource *ks = fx_source("node1", 0);
	struct block_source src = kubesource_block_source(ks);
	apiserver_fault(fx_client, "{\"fail_next\":1000,\"status\":503,"
				   "\"path_regex\":\"blockrequests|pods\",\"watch\":false}");
	struct node_block b;
	char err[ERRLEN];
	long start = test_now_ms();
	ck_assert_int_eq(src.ops->acquire(src.ctx, "default", &b, err, sizeof(err)), -EAGAIN);
	ck_assert_msg(strstr(err, "BlockRequest"), "%s", err);
	ck_assert_int_eq(kubesource_pod_lookup(ks, "ns1", "p", NULL, err, sizeof(err)), -EAGAIN);
	ck_assert_int_lt(test_now_ms() - start, 3000);
	kubesource_close(ks);
}
END_TEST

static void setup(void)
{
	fx_start();
}

static void teardown(void)
{
	fx_stop();
}

Suite *source_suite(void);
Suite *source_suite(void)
{
	Suite *s = suite_create("source");
	TCase *tc = tcase_create("source");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_node_internal_ips);
	tcase_add_test(tc, test_open_errors);
	tcase_add_test(tc, test_open_default);
	tcase_add_test(tc, test_node_gone);
	tcase_add_test(tc, test_pool_for_namespace);
	tcase_add_test(tc, test_pod_lookup);
	tcase_add_test(tc, test_release);
	tcase_add_test(tc, test_list);
	tcase_add_test(tc, test_can_acquire);
	tcase_add_test(tc, test_api_down);
	tcase_add_test(tc, test_api_unavailable);
	suite_add_tcase(s, tc);
	return s;
}
