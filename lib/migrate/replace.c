/* `replace`: recreate every pod that still has a v1 address, node by node, then drop the
 * reserved blocks that kept those addresses and restart coild so that it forgets them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "coilapi/coilapi.h"
#include "err/err.h"
#include "kube/kube.h"
#include "migrate/internal.h"
#include "migrate/migrate.h"

#define RESERVED_SELECTOR COILAPI_LABEL_RESERVED "=true"
#define COILD_SELECTOR                                                                             \
	COILAPI_LABEL_APP_NAME "=" COILAPI_APP_NAME "," COILAPI_LABEL_APP_COMPONENT "=coild"

bool migrate_confirm(FILE *in, FILE *prompt)
{
	char line[64];
	fprintf(prompt, "DO YOU WANT TO PROCEED? [y/N] ");
	fflush(prompt);
	if (!fgets(line, sizeof(line), in))
		return false;
	line[strcspn(line, "\r\n")] = '\0';
	return strcmp(line, "y") == 0 || strcmp(line, "Y") == 0 || strcmp(line, "yes") == 0 ||
	       strcmp(line, "YES") == 0;
}

void migrate_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* A list of "<ns>/<name>" strings, owned. */
struct names {
	char **items;
	size_t n;
};

static int names_add(struct names *list, const char *ns, const char *name)
{
	char **grown = realloc(list->items, (list->n + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	list->items = grown;
	size_t len = strlen(ns) + strlen(name) + 2;
	if (!(grown[list->n] = malloc(len)))
		return -ENOMEM;
	snprintf(grown[list->n++], len, "%s/%s", ns, name);
	return 0;
}

static void names_clear(struct names *list)
{
	for (size_t i = 0; i < list->n; i++)
		free(list->items[i]);
	free(list->items);
}

/* Done when the pod is gone, or when a pod of that name has another uid: a StatefulSet
 * recreated it (with a v2 address). Other errors are passing troubles: keep polling. */
static bool await_pod(const struct migrate_replace_opts *opts, const char *ns, const char *name,
		      const char *uid)
{
	long polls = opts->polls > 0 ? opts->polls : 6000;
	long poll_ms = opts->poll_ms > 0 ? opts->poll_ms : 100;
	for (long i = 0; i < polls; i++) {
		json_t *pod = NULL;
		int ret = kube_get(opts->kube, &KUBE_RES_PODS, ns, name, &pod, NULL, 0);
		const char *now = ret == 0 ? kube_obj_uid(pod) : NULL;
		bool replaced = now && strcmp(now, uid) != 0;
		json_decref(pod);
		if (ret == -ENOENT || replaced)
			return true;
		migrate_sleep_ms(poll_ms);
	}
	return false;
}

static int replace_pod(const struct migrate_replace_opts *opts, const json_t *pod,
		       struct names *failed)
{
	const char *ns = kube_obj_namespace(pod), *name = kube_obj_name(pod);
	const char *uid = kube_obj_uid(pod) ? kube_obj_uid(pod) : "";
	if (opts->dry_run) {
		fprintf(opts->out, "  would delete %s/%s\n", ns, name);
		return 0;
	}
	struct kube_delete_opts del = {.precondition_uid = uid};
	int ret = kube_delete(opts->kube, &KUBE_RES_PODS, ns, name, &del, NULL, 0);
	if (ret == -ENOENT || ret == KUBE_ERR_CONFLICT)
		return 0; /* gone already, or already a new incarnation */
	if (ret < 0) {
		fprintf(opts->out, "  failed to delete %s/%s, continuing...\n", ns, name);
		return names_add(failed, ns, name);
	}
	fprintf(opts->out, "  deleting %s/%s\n", ns, name);
	fflush(opts->out);
	if (await_pod(opts, ns, name, uid))
		return 0;
	fprintf(opts->out, "  timed out to delete %s/%s, continuing...\n", ns, name);
	return names_add(failed, ns, name);
}

static bool pod_is_replaced(const json_t *pod)
{
	return !json_is_true(kube_json_path(pod, "spec.hostNetwork")) &&
	       kube_json_string(pod, "spec.nodeName") && *kube_json_string(pod, "spec.nodeName");
}

static int cmp_by_node(const void *a, const void *b)
{
	const json_t *pa = *(json_t *const *)a, *pb = *(json_t *const *)b;
	int c =
	    strcmp(kube_json_string(pa, "spec.nodeName"), kube_json_string(pb, "spec.nodeName"));
	if (c == 0)
		c = strcmp(kube_obj_namespace(pa), kube_obj_namespace(pb));
	return c ? c : strcmp(kube_obj_name(pa), kube_obj_name(pb));
}

/* The pods to replace, sorted by node (then namespace and name): borrowed from items. */
static int pods_by_node(const json_t *items, const json_t ***pods, size_t *n)
{
	*pods = calloc(json_array_size(items) + 1, sizeof(**pods));
	if (!*pods)
		return -ENOMEM;
	*n = 0;
	size_t i;
	const json_t *pod;
	json_array_foreach(items, i, pod) if (pod_is_replaced(pod))(*pods)[(*n)++] = pod;
	qsort(*pods, *n, sizeof(**pods), cmp_by_node);
	return 0;
}

static int replace_pods(const struct migrate_replace_opts *opts, struct names *failed, char *err,
			size_t errlen)
{
	json_t *items = NULL;
	const json_t **pods = NULL;
	size_t n = 0;
	int ret =
	    kube_list_all(opts->kube, &KUBE_RES_PODS, NULL, NULL, &items, NULL, 0, err, errlen);
	if (ret == 0 && pods_by_node(items, &pods, &n) < 0)
		ret = errorf(err, errlen, -ENOMEM, "out of memory");
	for (size_t i = 0; ret == 0 && i < n; i++) {
		const char *node = kube_json_string(pods[i], "spec.nodeName");
		bool first = i == 0 || strcmp(node, kube_json_string(pods[i - 1], "spec.nodeName"));
		bool last =
		    i + 1 == n || strcmp(node, kube_json_string(pods[i + 1], "spec.nodeName"));
		if (first)
			fprintf(opts->out, "Deleting pods on node %s...\n", node);
		if (replace_pod(opts, pods[i], failed) < 0)
			ret = errorf(err, errlen, -ENOMEM, "out of memory");
		if (last && !opts->dry_run && opts->interval_s > 0)
			migrate_sleep_ms((long)(opts->interval_s * 1000.0 + 0.5));
	}
	free(pods);
	json_decref(items);
	return ret;
}

static void save_failures(const struct migrate_replace_opts *opts, const struct names *failed)
{
	const char *path = opts->failure_file ? opts->failure_file : MIGRATE_FAILURE_FILE;
	fprintf(opts->out, "saving pod names that could not be deleted in %s\n", path);
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(opts->out, "failed to save\n");
		return;
	}
	for (size_t i = 0; i < failed->n; i++)
		fprintf(f, "%s\n", failed->items[i]);
	if (fclose(f) != 0)
		fprintf(opts->out, "failed to save\n");
}

/* Prints the names of the objects a selector matches, for the dry run. */
static int print_matches(const struct migrate_replace_opts *opts, const struct kube_resource *res,
			 const char *ns, const char *selector, const char *what, char *err,
			 size_t errlen)
{
	struct kube_list_opts lo = {.label_selector = selector};
	json_t *items = NULL;
	int ret = kube_list_all(opts->kube, res, ns, &lo, &items, NULL, 0, err, errlen);
	size_t i;
	const json_t *obj;
	json_array_foreach(items, i, obj)
	    fprintf(opts->out, "  would delete %s %s\n", what, kube_obj_name(obj));
	json_decref(items);
	return ret;
}

static int delete_collection(const struct migrate_replace_opts *opts,
			     const struct kube_resource *res, const char *ns, const char *selector,
			     char *err, size_t errlen)
{
	char path[512];
	char *escaped = kube_query_escape(selector);
	if (!escaped)
		return errorf(err, errlen, -ENOMEM, "out of memory");
	size_t qlen = strlen(escaped) + 16;
	char *query = malloc(qlen);
	int ret = query ? kube_path(res, ns, NULL, NULL, path, sizeof(path)) : -ENOMEM;
	if (ret == 0) {
		snprintf(query, qlen, "labelSelector=%s", escaped);
		ret =
		    kube_request(opts->kube, "DELETE", path, query, NULL, NULL, NULL, err, errlen);
	}
	free(query);
	free(escaped);
	return ret;
}

static int remove_reserved_blocks(const struct migrate_replace_opts *opts, char *err, size_t errlen)
{
	fprintf(opts->out, "deleting reserved address blocks\n");
	if (opts->dry_run)
		return print_matches(opts, &COILAPI_RES_ADDRESSBLOCKS, NULL, RESERVED_SELECTOR,
				     "AddressBlock", err, errlen);
	char why[512];
	int ret = delete_collection(opts, &COILAPI_RES_ADDRESSBLOCKS, NULL, RESERVED_SELECTOR, why,
				    sizeof(why));
	if (ret < 0)
		return errorf(err, errlen, ret, "failed to delete reserved blocks: %s", why);
	long poll_ms = opts->block_poll_ms > 0 ? opts->block_poll_ms : 1000;
	struct kube_list_opts lo = {.label_selector = RESERVED_SELECTOR};
	for (;;) {
		json_t *items = NULL;
		ret = kube_list_all(opts->kube, &COILAPI_RES_ADDRESSBLOCKS, NULL, &lo, &items, NULL,
				    0, NULL, 0);
		size_t left = json_array_size(items);
		json_decref(items);
		if (ret == 0 && left == 0)
			return 0;
		if (ret == 0)
			fprintf(opts->out,
				"waiting for all the reserved address blocks to be deleted...\n");
		fflush(opts->out);
		migrate_sleep_ms(poll_ms);
	}
}

static int restart_coild(const struct migrate_replace_opts *opts, char *err, size_t errlen)
{
	fprintf(opts->out, "restarting coild pods\n");
	if (opts->dry_run)
		return print_matches(opts, &KUBE_RES_PODS, "kube-system", COILD_SELECTOR, "pod",
				     err, errlen);
	char why[512];
	int ret = delete_collection(opts, &KUBE_RES_PODS, "kube-system", COILD_SELECTOR, why,
				    sizeof(why));
	if (ret < 0)
		return errorf(err, errlen, ret, "failed to restart coild pods: %s", why);
	return 0;
}

int migrate_replace(const struct migrate_replace_opts *opts, char *err, size_t errlen)
{
	struct names failed = {0};
	int ret = replace_pods(opts, &failed, err, errlen);
	if (ret == 0 && failed.n)
		save_failures(opts, &failed);
	names_clear(&failed);
	if (ret == 0)
		ret = remove_reserved_blocks(opts, err, errlen);
	if (ret == 0)
		ret = restart_coild(opts, err, errlen);
	fflush(opts->out);
	return ret;
}
