#include "coilapi/coilapi.h"
#include "fixture.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct apiserver ipt_server;
struct kube_client *ipt_client;
struct kube_client *ipt_ctl_client;

void ipt_start(void)
{
	apiserver_start(&ipt_server, NULL, NULL);
	ipt_client = apiserver_client(&ipt_server);
	const char *const argv[] = {"/usr/bin/python3", IPAMCTL_APPLY_CRDS, ipt_server.url, NULL};
	ck_assert_msg(run_command(argv) == 0, "applying deploy/crd failed");
	apiserver_apply_rbac(&ipt_server);
	ipt_ctl_client = apiserver_sa_client(&ipt_server, "coil-ipam-controller");
}

void ipt_stop(void)
{
	apiserver_assert_no_denials(&ipt_server, ipt_client);
	kube_client_free(ipt_client);
	kube_client_free(ipt_ctl_client);
	ipt_client = ipt_ctl_client = NULL;
	apiserver_stop(&ipt_server);
}

json_t *ipt_create(const struct kube_resource *res, const char *fmt, ...)
{
	char text[4096], err[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	json_error_t jerr;
	json_t *obj = json_loads(text, 0, &jerr), *out = NULL;
	ck_assert_msg(obj != NULL, "bad JSON %s: %s", text, jerr.text);
	int ret = kube_create(ipt_client, res, NULL, obj, &out, err, sizeof(err));
	ck_assert_msg(ret == 0, "create %s: %s", text, err);
	json_decref(obj);
	return out;
}

json_t *ipt_create_pool(const char *name, int bits, const char *subnets, bool finalizer)
{
	return ipt_create(&COILAPI_RES_ADDRESSPOOLS,
			  "{\"apiVersion\":\"coil.cybozu.com/v2\",\"kind\":\"AddressPool\","
			  "\"metadata\":{\"name\":\"%s\"%s},"
			  "\"spec\":{\"blockSizeBits\":%d,\"subnets\":%s}}",
			  name, finalizer ? ",\"finalizers\":[\"coil.cybozu.com\"]" : "", bits,
			  subnets);
}

void ipt_create_node(const char *name)
{
	json_decref(ipt_create(
	    &KUBE_RES_NODES,
	    "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"%s\"}}", name));
}

json_t *ipt_create_request(const char *name, const char *node, const char *pool)
{
	return ipt_create(&COILAPI_RES_BLOCKREQUESTS,
			  "{\"apiVersion\":\"coil.cybozu.com/v2\",\"kind\":\"BlockRequest\","
			  "\"metadata\":{\"name\":\"%s\"},"
			  "\"spec\":{\"nodeName\":\"%s\",\"poolName\":\"%s\"}}",
			  name, node, pool);
}

json_t *ipt_get(const struct kube_resource *res, const char *name)
{
	json_t *obj = NULL;
	char err[512];
	int ret = kube_get(ipt_client, res, NULL, name, &obj, err, sizeof(err));
	ck_assert_msg(ret == 0 || ret == -ENOENT, "get %s: %s", name, err);
	return obj;
}

static void drop_finalizers(const struct kube_resource *res, const char *name)
{
	json_t *patch = json_pack("{s:{s:n}}", "metadata", "finalizers");
	char err[512];
	int ret = kube_patch(ipt_client, res, NULL, name, NULL, KUBE_PATCH_MERGE, patch, NULL, err,
			     sizeof(err));
	ck_assert_msg(ret == 0 || ret == -ENOENT, "patch %s: %s", name, err);
	json_decref(patch);
}

void ipt_remove(const struct kube_resource *res, const char *name)
{
	char err[512];
	drop_finalizers(res, name);
	int ret = kube_delete(ipt_client, res, NULL, name, NULL, err, sizeof(err));
	ck_assert_msg(ret == 0 || ret == -ENOENT, "delete %s: %s", name, err);
	json_t *obj = NULL;
	ck_assert_msg(
	    IPT_EVENTUALLY(!(obj = ipt_get(res, name)) || (json_decref(obj), false), 5000),
	    "%s was not deleted", name);
}

static json_t *list(const struct kube_resource *res, const char *selector)
{
	json_t *items = NULL;
	char err[512];
	struct kube_list_opts opts = {.label_selector = selector};
	int ret = kube_list_all(ipt_client, res, NULL, &opts, &items, NULL, 0, err, sizeof(err));
	ck_assert_msg(ret == 0, "list %s: %s", res->plural, err);
	return items;
}

int ipt_count(const struct kube_resource *res, const char *selector)
{
	json_t *items = list(res, selector);
	int n = (int)json_array_size(items);
	json_decref(items);
	return n;
}

static void remove_all(const struct kube_resource *res)
{
	json_t *items = list(res, NULL);
	size_t i;
	json_t *obj;
	json_array_foreach(items, i, obj) ipt_remove(res, kube_obj_name(obj));
	json_decref(items);
}

void ipt_cleanup(void)
{
	remove_all(&COILAPI_RES_BLOCKREQUESTS);
	remove_all(&COILAPI_RES_ADDRESSBLOCKS);
	remove_all(&COILAPI_RES_ADDRESSPOOLS);
	remove_all(&KUBE_RES_NODES);
}

double ipt_metric(const char *text, const char *name, const char *pool)
{
	char series[512];
	snprintf(series, sizeof(series), "\n%s{pool=\"%s\"} ", name, pool);
	const char *at = strstr(text, series);
	return at ? strtod(at + strlen(series), NULL) : -1;
}
