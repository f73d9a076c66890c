/* The fake coil-ipam-controller of the kubesource tests (see fixture.h). It runs on its own
 * thread, so it never uses Check assertions: failures just leave a request unanswered. */
#include "coilapi/coilapi.h"
#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *fx_block_json(const char *name, const char *pool, const char *node, int index,
		      const char *ipv4, const char *ipv6, bool reserved);

struct fake_block {
	const char *pool, *name;
	int index;
	const char *ipv4, *ipv6;
};

static const struct fake_block fake_blocks[] = {
    {"default", "default-0", 0, "10.2.0.0/31", "fd02::0200/127"},
    {"default", "default-1", 1, "10.2.0.2/31", "fd02::0202/127"},
    {"v4", "v4-0", 2, "10.4.0.0/30", NULL},
};

/* Creates the first block of pool that does not exist yet; its name, or NULL if none. */
static const char *carve(struct fake_controller *fc, const char *pool, const char *node,
			 const char *request_uid)
{
	char err[512];
	for (size_t i = 0; i < sizeof(fake_blocks) / sizeof(fake_blocks[0]); i++) {
		const struct fake_block *b = &fake_blocks[i];
		if (strcmp(b->pool, pool) != 0)
			continue;
		json_t *obj = fx_block_json(b->name, pool, node, b->index, b->ipv4, b->ipv6, false);
		json_object_set_new(json_object_get(json_object_get(obj, "metadata"), "labels"),
				    "coil.cybozu.com/request", json_string(request_uid));
		int ret = kube_create(fc->client, &COILAPI_RES_ADDRESSBLOCKS, NULL, obj, NULL, err,
				      sizeof(err));
		json_decref(obj);
		if (ret == 0)
			return b->name;
	}
	return NULL;
}

static json_t *condition(const char *type, const char *reason, const char *message)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "type", type, "status", "True", "reason",
			 reason, "message", message, "lastProbeTime", "2026-07-16T01:02:03Z",
			 "lastTransitionTime", "2026-07-16T01:02:03Z");
}

/* Writes the status of request (a copy it owns) naming block, or a failure if NULL. */
static void write_status(struct fake_controller *fc, json_t *request, const char *pool,
			 const char *block)
{
	json_t *status = json_object(), *conds = json_array();
	char msg[512];
	if (block) {
		snprintf(msg, sizeof(msg), "allocated a block %s", block);
		json_object_set_new(status, "addressBlockName", json_string(block));
		json_array_append_new(conds, condition("Complete", "allocated", msg));
	} else {
		snprintf(msg, sizeof(msg), "pool %s does not have free blocks", pool);
		json_array_append_new(conds, condition("Complete", "completed with failure",
						       "completed with failure"));
		json_array_append_new(conds, condition("Failed", "out of blocks", msg));
	}
	json_object_set_new(status, "conditions", conds);
	json_object_set_new(request, "status", status);
	char err[512];
	kube_update_sub(fc->client, &COILAPI_RES_BLOCKREQUESTS, request, "status", NULL, err,
			sizeof(err));
	json_decref(request);
}

/* A stale look-alike: another request of the same node and pool, answered at once with a
 * block that does not exist. A source that took it would fail to fetch that block. */
static void answer_decoy(struct fake_controller *fc, const char *node, const char *pool)
{
	static int serial;
	char name[128], err[512];
	snprintf(name, sizeof(name), "decoy-%d", ++serial);
	json_t *obj = json_pack("{s:s,s:s,s:{s:s},s:{s:s,s:s}}", "apiVersion", "coil.cybozu.com/v2",
				"kind", "BlockRequest", "metadata", "name", name, "spec",
				"nodeName", node, "poolName", pool);
	json_t *created = NULL;
	if (kube_create(fc->client, &COILAPI_RES_BLOCKREQUESTS, NULL, obj, &created, err,
			sizeof(err)) == 0)
		write_status(fc, created, pool, "bogus-99");
	json_decref(obj);
}

static void answer(struct fake_controller *fc, const json_t *request)
{
	const char *node = kube_json_string(request, "spec.nodeName");
	const char *pool = kube_json_string(request, "spec.poolName");
	const char *uid = kube_obj_uid(request);
	if (!node || !pool || !uid)
		return;
	if (fc->decoy) {
		answer_decoy(fc, node, pool);
		test_sleep_ms(50);
	}
	const char *block = carve(fc, pool, node, uid);
	write_status(fc, json_deep_copy(request), pool, block);
	fc->answered++;
}

static bool unanswered(const json_t *request)
{
	const char *name = kube_obj_name(request);
	return name && strncmp(name, "decoy-", 6) != 0 &&
	       json_array_size(kube_json_path(request, "status.conditions")) == 0;
}

static void *controller_main(void *arg)
{
	struct fake_controller *fc = arg;
	while (!fc->stop) {
		json_t *items = NULL;
		char err[512];
		if (kube_list_all(fc->client, &COILAPI_RES_BLOCKREQUESTS, NULL, NULL, &items, NULL,
				  0, err, sizeof(err)) == 0) {
			size_t i;
			json_t *item;
			json_array_foreach(items, i, item) if (unanswered(item)) answer(fc, item);
		}
		json_decref(items);
		test_sleep_ms(20);
	}
	return NULL;
}

static struct fake_controller *running;

struct fake_controller *fake_controller_start(bool decoy)
{
	struct fake_controller *fc = calloc(1, sizeof(*fc));
	ck_assert_ptr_nonnull(fc);
	fc->decoy = decoy;
	fc->client = apiserver_client(&fx_srv);
	ck_assert_int_eq(pthread_create(&fc->thread, NULL, controller_main, fc), 0);
	running = fc;
	return fc;
}

void fake_controller_stop(struct fake_controller *fc)
{
	if (!fc)
		return;
	fc->stop = true;
	pthread_join(fc->thread, NULL);
	kube_client_free(fc->client);
	free(fc);
	if (running == fc)
		running = NULL;
}

void fake_controller_stop_running(void)
{
	fake_controller_stop(running);
}
