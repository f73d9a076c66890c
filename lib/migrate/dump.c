/* `dump`: read v1's data, uninstall v1, annotate namespaces, write the v2 manifest.
 *
 * The data is read and converted twice: once before anything is deleted, so that an
 * unreachable etcd or data that cannot be converted stops the run while v1 still works, and
 * once after v1's workloads are gone, because until then v1's nodes could still take blocks
 * and the manifest has to hold every one of them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "coilapi/coilapi.h"
#include "err/err.h"
#include "kube/kube.h"
#include "migrate/migrate.h"
#include "yamljson/yamljson.h"

int migrate_kube_sanity(struct kube_client *kube, char *err, size_t errlen)
{
	char why[512];
	json_t *ns = NULL;
	int ret = kube_get(kube, &KUBE_RES_NAMESPACES, NULL, "default", &ns, why, sizeof(why));
	json_decref(ns);
	if (ret < 0)
		return errorf(err, errlen, ret, "sanity: failed to retrieve default namespace: %s",
			      why);
	return 0;
}

/* The names of the cluster's nodes, borrowed from *items (which the caller frees). */
static int node_names(struct kube_client *kube, json_t **items, const char ***names, size_t *n,
		      char *err, size_t errlen)
{
	int ret = kube_list_all(kube, &KUBE_RES_NODES, NULL, NULL, items, NULL, 0, err, errlen);
	if (ret < 0)
		return ret;
	*n = json_array_size(*items);
	*names = calloc(*n ? *n : 1, sizeof(**names));
	if (!*names)
		return errorf(err, errlen, -ENOMEM, "out of memory");
	for (size_t i = 0; i < *n; i++)
		(*names)[i] = kube_obj_name(json_array_get(*items, i));
	return 0;
}

/* Reads v1's data and converts it for the current nodes into *docs. */
static int read_and_convert(const struct migrate_dump_opts *opts, FILE *log, json_t **docs,
			    char *err, size_t errlen)
{
	struct migrate_v1_data v1;
	int ret = migrate_v1_read(opts->etcd, &v1, err, errlen);
	if (ret < 0)
		return ret;
	json_t *nodes = NULL;
	const char **names = NULL;
	size_t n = 0;
	ret = node_names(opts->kube, &nodes, &names, &n, err, errlen);
	if (ret == 0)
		ret = migrate_convert(&v1, names, n, log, docs, err, errlen);
	free(names);
	json_decref(nodes);
	migrate_v1_data_clear(&v1);
	return ret;
}

static int annotate_namespace(const struct migrate_dump_opts *opts, const char *pool, char *err,
			      size_t errlen)
{
	for (int attempt = 0; attempt < 5; attempt++) {
		json_t *ns = NULL;
		int ret = kube_get(opts->kube, &KUBE_RES_NAMESPACES, NULL, pool, &ns, err, errlen);
		if (ret == -ENOENT)
			return 0; /* no namespace of that name: nothing uses the pool */
		if (ret < 0)
			return ret;
		if (opts->dry_run) {
			json_decref(ns);
			fprintf(opts->log, "would annotate namespace %s\n", pool);
			return 0;
		}
		json_t *meta = json_object_get(ns, "metadata");
		json_t *ann = json_object_get(meta, "annotations");
		if (!json_is_object(ann)) {
			ann = json_object();
			json_object_set_new(meta, "annotations", ann);
		}
		json_object_set_new(ann, COILAPI_ANNOTATION_POOL, json_string(pool));
		ret = kube_update(opts->kube, &KUBE_RES_NAMESPACES, ns, NULL, err, errlen);
		json_decref(ns);
		if (ret == 0)
			fprintf(opts->log, "annotated namespace %s\n", pool);
		if (ret != KUBE_ERR_CONFLICT)
			return ret;
	}
	return errorf(err, errlen, KUBE_ERR_CONFLICT, "namespace %s keeps changing", pool);
}

/* Pool "default" serves every namespace without the annotation; each other v1 pool served
 * the namespace of its name. */
static int annotate_namespaces(const struct migrate_dump_opts *opts, const json_t *docs, char *err,
			       size_t errlen)
{
	size_t i;
	const json_t *doc;
	json_array_foreach(docs, i, doc)
	{
		const char *kind = json_string_value(json_object_get(doc, "kind"));
		const char *name = kube_obj_name(doc);
		if (!kind || strcmp(kind, COILAPI_KIND_ADDRESSPOOL) != 0 || !name ||
		    strcmp(name, COILAPI_DEFAULT_POOL) == 0)
			continue;
		int ret = annotate_namespace(opts, name, err, errlen);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* Adds hint to the message in err, as far as it fits. */
static void append_hint(char *err, size_t errlen, const char *hint)
{
	size_t len = strnlen(err, errlen);
	if (len < errlen)
		snprintf(err + len, errlen - len, "%s", hint);
}

int migrate_dump(const struct migrate_dump_opts *opts, char *err, size_t errlen)
{
	json_t *docs = NULL;
	/* The first conversion stays quiet: the second one reports what it skips. */
	FILE *quiet = opts->dry_run ? opts->log : fopen("/dev/null", "w");
	if (!quiet)
		return errorf(err, errlen, -errno, "/dev/null: %s", strerror(errno));
	int ret = read_and_convert(opts, quiet, &docs, err, errlen);
	if (quiet != opts->log)
		fclose(quiet);
	if (ret == 0)
		ret = migrate_uninstall_v1(opts, err, errlen);
	if (ret == 0 && !opts->dry_run) {
		json_decref(docs);
		docs = NULL;
		ret = read_and_convert(opts, opts->log, &docs, err, errlen);
		if (ret < 0 && !opts->skip_uninstall)
			append_hint(err, errlen,
				    " (Coil v1 is uninstalled already; run dump again)");
	}
	if (ret == 0)
		ret = annotate_namespaces(opts, docs, err, errlen);
	if (ret == 0)
		ret = yamljson_emit_stream(opts->out, docs, err, errlen);
	if (ret == 0 && fflush(opts->out) != 0)
		ret = errorf(err, errlen, -errno, "writing the manifest: %s", strerror(errno));
	json_decref(docs);
	return ret;
}
