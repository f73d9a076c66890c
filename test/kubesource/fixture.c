#include "coilapi/coilapi.h"
#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct apiserver fx_srv;
struct kube_client *fx_client;
struct kube_config fx_kube;
char fx_coild_token[128];

static void create(const struct kube_resource *res, const char *ns, json_t *obj)
{
	char err[512];
	ck_assert_ptr_nonnull(obj);
	int ret = kube_create(fx_client, res, ns, obj, NULL, err, sizeof(err));
	ck_assert_msg(ret == 0, "create %s: %s", res->kind, err);
	json_decref(obj);
}

/* Nodes keep no status on create: it is written through the status subresource. */
static void create_node(const char *name, const char *ip1, const char *ip2)
{
	char err[512];
	json_t *node = json_pack("{s:s,s:s,s:{s:s}}", "apiVersion", "v1", "kind", "Node",
				 "metadata", "name", name);
	json_t *created = NULL;
	ck_assert_int_eq(
	    kube_create(fx_client, &KUBE_RES_NODES, NULL, node, &created, err, sizeof(err)), 0);
	json_t *addrs = json_array();
	const char *ips[] = {ip1, ip2};
	for (int i = 0; i < 2; i++)
		if (ips[i])
			json_array_append_new(
			    addrs, json_pack("{s:s,s:s}", "type", "InternalIP", "address", ips[i]));
	json_object_set_new(created, "status", json_pack("{s:o}", "addresses", addrs));
	int ret =
	    kube_update_sub(fx_client, &KUBE_RES_NODES, created, "status", NULL, err, sizeof(err));
	ck_assert_msg(ret == 0, "node status: %s", err);
	json_decref(created);
	json_decref(node);
}

static void create_namespace(const char *name, const char *pool)
{
	json_t *ns = json_pack("{s:s,s:s,s:{s:s}}", "apiVersion", "v1", "kind", "Namespace",
			       "metadata", "name", name);
	if (pool)
		json_object_set_new(json_object_get(ns, "metadata"), "annotations",
				    json_pack("{s:s}", "coil.cybozu.com/pool", pool));
	create(&KUBE_RES_NAMESPACES, NULL, ns);
}

static void create_pool(const char *name, const char *ipv4, const char *ipv6)
{
	json_t *subnet = json_object();
	if (ipv4)
		json_object_set_new(subnet, "ipv4", json_string(ipv4));
	if (ipv6)
		json_object_set_new(subnet, "ipv6", json_string(ipv6));
	create(&COILAPI_RES_ADDRESSPOOLS, NULL,
	       json_pack("{s:s,s:s,s:{s:s},s:{s:i,s:[o]}}", "apiVersion", "coil.cybozu.com/v2",
			 "kind", "AddressPool", "metadata", "name", name, "spec", "blockSizeBits",
			 1, "subnets", subnet));
}

void fx_start(void)
{
	apiserver_start(&fx_srv, NULL, NULL);
	const char *const argv[] = {"/usr/bin/python3", KUBESOURCE_APPLY_CRDS, fx_srv.url, NULL};
	ck_assert_msg(run_command(argv) == 0, "applying deploy/crd failed");
	fx_client = apiserver_client(&fx_srv);
	/* The kubesources under test are coild: they carry its ServiceAccount's token. */
	apiserver_apply_rbac(&fx_srv);
	apiserver_sa_token(&fx_srv, "coild", fx_coild_token, sizeof(fx_coild_token));
	fx_kube = (struct kube_config){
	    .server = fx_srv.url, .namespace = "default", .token = fx_coild_token};
	create_node("node1", "10.20.30.41", "fd10::41");
	create_node("node2", "10.20.30.42", NULL);
	create_node("node3", "fd10::43", NULL);
	create_namespace("ns1", NULL);
	create_namespace("ns2", "global");
	create_namespace("ns3", "");
	create_pool("default", "10.2.0.0/29", "fd02::200/125");
	create_pool("v4", "10.4.0.0/30", NULL);
}

void fx_stop(void)
{
	fake_controller_stop_running(); /* left running by a failed test */
	apiserver_assert_no_denials(&fx_srv, fx_client);
	kube_client_free(fx_client);
	fx_client = NULL;
	apiserver_stop(&fx_srv);
}

struct kubesource *fx_source(const char *node, long acquire_timeout_ms)
{
	struct kubesource_config cfg = {
	    .kube = &fx_kube,
	    .node_name = node,
	    .acquire_timeout_ms = acquire_timeout_ms ? acquire_timeout_ms : 3000,
	};
	struct kubesource *ks = NULL;
	char err[512];
	int ret = kubesource_open(&cfg, &ks, err, sizeof(err));
	ck_assert_msg(ret == 0, "kubesource_open(%s): %s", node, err);
	return ks;
}

struct node_ipam *fx_ipam(struct kubesource *ks, struct block_source *src_storage)
{
	*src_storage = kubesource_block_source(ks);
	struct node_ipam_config cfg = {.source = src_storage};
	struct node_ipam *ipam = NULL;
	char err[512];
	int ret = node_ipam_new(&cfg, &ipam, err, sizeof(err));
	ck_assert_msg(ret == 0, "node_ipam_new: %s", err);
	return ipam;
}

json_t *fx_block_json(const char *name, const char *pool, const char *node, int index,
		      const char *ipv4, const char *ipv6, bool reserved);
json_t *fx_block_json(const char *name, const char *pool, const char *node, int index,
		      const char *ipv4, const char *ipv6, bool reserved)
{
	json_t *b = json_pack("{s:s,s:s,s:{s:s,s:{s:s,s:s},s:[s]},s:i}", "apiVersion",
			      "coil.cybozu.com/v2", "kind", "AddressBlock", "metadata", "name",
			      name, "labels", "coil.cybozu.com/pool", pool, "coil.cybozu.com/node",
			      node, "finalizers", "coil.cybozu.com", "index", index);
	if (ipv4)
		json_object_set_new(b, "ipv4", json_string(ipv4));
	if (ipv6)
		json_object_set_new(b, "ipv6", json_string(ipv6));
	if (reserved)
		json_object_set_new(json_object_get(json_object_get(b, "metadata"), "labels"),
				    "coil.cybozu.com/reserved", json_string("true"));
	return b;
}

void fx_create_block(const char *name, const char *pool, const char *node, int index,
		     const char *ipv4, const char *ipv6, bool reserved)
{
	create(&COILAPI_RES_ADDRESSBLOCKS, NULL,
	       fx_block_json(name, pool, node, index, ipv4, ipv6, reserved));
}

size_t fx_count_blocks(void)
{
	json_t *items = NULL;
	char err[512];
	int ret = kube_list_all(fx_client, &COILAPI_RES_ADDRESSBLOCKS, NULL, NULL, &items, NULL, 0,
				err, sizeof(err));
	ck_assert_msg(ret == 0, "list blocks: %s", err);
	size_t n = json_array_size(items);
	json_decref(items);
	return n;
}

bool fx_block_exists(const char *name)
{
	json_t *obj = NULL;
	char err[512];
	int ret =
	    kube_get(fx_client, &COILAPI_RES_ADDRESSBLOCKS, NULL, name, &obj, err, sizeof(err));
	json_decref(obj);
	ck_assert_msg(ret == 0 || ret == -ENOENT, "get block %s: %s", name, err);
	return ret == 0;
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void fx_owned(struct node_ipam *ipam, char *buf, size_t len)
{
	struct node_ipam_cidr *cidrs = NULL;
	size_t n = 0;
	ck_assert_int_eq(node_ipam_owned_cidrs(ipam, &cidrs, &n), 0);
	char **texts = calloc(n + 1, sizeof(*texts));
	for (size_t i = 0; i < n; i++)
		texts[i] = cidrs[i].text;
	qsort(texts, n, sizeof(*texts), compare_strings);
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", i ? "," : "", texts[i]);
	free(texts);
	free(cidrs);
}
