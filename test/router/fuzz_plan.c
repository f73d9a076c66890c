/* libFuzzer target: the router's route plan from untrusted API objects. The input is one JSON
 * document {"nodes": [...], "blocks": [...]} (anything else is treated as empty lists); the
 * plan must be built without crashing, and every route must be consistent. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"
#include "router/router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_plan(const struct router_plan *plan)
{
	for (size_t i = 0; i < plan->n; i++) {
		const struct router_route *r = &plan->routes[i];
		struct nl_prefix masked = r->dst;
		nl_prefix_mask(&masked);
		if (r->gateway.family != r->dst.ip.family || !nl_prefix_equal(&masked, &r->dst) ||
		    r->dst.len > nl_family_addrlen(r->dst.ip.family) * 8)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int quiet;
	if (!quiet++)
		log_set_level(LOG_ERROR); /* the plan logs skipped blocks at info/warn */
	json_t *doc = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	json_t *nodes = json_object_get(doc, "nodes"), *blocks = json_object_get(doc, "blocks");
	json_t *empty = json_array();
	struct router_plan plan;
	char err[256];
	if (router_plan_build(json_is_array(nodes) ? nodes : empty,
			      json_is_array(blocks) ? blocks : empty, "self", &plan, err,
			      sizeof(err)) == 0) {
		check_plan(&plan);
		router_plan_free(&plan);
	}
	json_decref(empty);
	json_decref(doc);
	return 0;
}
