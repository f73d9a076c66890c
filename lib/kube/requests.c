/* The verbs: get, list (and list-all with paging), create, update, patch, delete, scale. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KUBE_PATH_MAX 1024

static int object_path(const struct kube_resource *res, const char *ns, const char *name,
		       const char *sub, char *path, char *err, size_t errlen)
{
	int ret = kube_path(res, ns, name, sub, path, KUBE_PATH_MAX);
	if (ret)
		return errorf(err, errlen, ret, "%s %s/%s%s%s: invalid path", res->plural,
			      ns ? ns : "", name ? name : "", sub ? "/" : "", sub ? sub : "");
	return 0;
}

int kube_get_sub(struct kube_client *client, const struct kube_resource *res, const char *ns,
		 const char *name, const char *sub, json_t **out, char *err, size_t errlen)
{
	char path[KUBE_PATH_MAX];
	int ret = object_path(res, ns, name, sub, path, err, errlen);
	return ret ? ret : kube_request(client, "GET", path, NULL, NULL, NULL, out, err, errlen);
}

int kube_get(struct kube_client *client, const struct kube_resource *res, const char *ns,
	     const char *name, json_t **out, char *err, size_t errlen)
{
	return kube_get_sub(client, res, ns, name, NULL, out, err, errlen);
}

int kube_list(struct kube_client *client, const struct kube_resource *res, const char *ns,
	      const struct kube_list_opts *opts, json_t **out, char *err, size_t errlen)
{
	char path[KUBE_PATH_MAX];
	int ret = object_path(res, ns, NULL, NULL, path, err, errlen);
	if (ret)
		return ret;
	char *query = kube_list_query(opts);
	if (!query)
		return errorf(err, errlen, -ENOMEM, "list %s: out of memory", res->plural);
	ret = kube_request(client, "GET", path, query, NULL, NULL, out, err, errlen);
	free(query);
	if (ret == 0 && !json_is_array(json_object_get(*out, "items"))) {
		json_decref(*out);
		return errorf(err, errlen, -EBADMSG, "list %s: response has no items", res->plural);
	}
	return ret;
}

static void copy_rv(const json_t *list, char *rv, size_t rvlen)
{
	const char *value = kube_json_string(list, "metadata.resourceVersion");
	if (rv && rvlen)
		snprintf(rv, rvlen, "%s", value ? value : "");
}

/* Hands every page's items to fn; returns KUBE_ERR_GONE if a continue token expired. */
static int list_pages(struct kube_client *client, const struct kube_resource *res, const char *ns,
		      struct kube_list_opts *page, kube_page_fn fn, void *arg, char *rv,
		      size_t rvlen, char *err, size_t errlen)
{
	char *token = NULL;
	int ret;
	for (;;) {
		json_t *list = NULL;
		page->continue_token = token;
		ret = kube_list(client, res, ns, page, &list, err, errlen);
		free(token);
		token = NULL;
		if (ret)
			break;
		ret = fn(arg, json_object_get(list, "items"));
		if (ret) {
			json_decref(list);
			return errorf(err, errlen, ret, "list %s: %s", res->plural, strerror(-ret));
		}
		copy_rv(list, rv, rvlen);
		const char *next = kube_json_string(list, "metadata.continue");
		bool more = next && *next;
		if (more)
			token = strdup(next);
		json_decref(list); /* next dies here */
		if (!more)
			break;
		if (!token) {
			ret = errorf(err, errlen, -ENOMEM, "list %s: out of memory", res->plural);
			break;
		}
	}
	return ret;
}

int kube_list_each(struct kube_client *client, const struct kube_resource *res, const char *ns,
		   const struct kube_list_opts *opts, kube_page_fn fn, void *arg,
		   char *resource_version, size_t rvlen, char *err, size_t errlen)
{
	struct kube_list_opts page = opts ? *opts : (struct kube_list_opts){0};
	for (int round = 0;; round++) {
		int ret = list_pages(client, res, ns, &page, fn, arg, resource_version, rvlen, err,
				     errlen);
		/* An expired continue token: the snapshot is gone, start a fresh one (once). */
		if (ret != KUBE_ERR_GONE || round > 0 || page.limit <= 0)
			return ret;
		page.resource_version = NULL;
		if ((ret = fn(arg, NULL)) < 0)
			return errorf(err, errlen, ret, "list %s: %s", res->plural, strerror(-ret));
	}
}

/* Collects the pages of kube_list_all; NULL items (a restart) empty the array again. */
static int append_page(void *arg, const json_t *items)
{
	json_t *all = arg;
	int ret = items ? json_array_extend(all, (json_t *)items) : json_array_clear(all);
	return ret ? -ENOMEM : 0;
}

int kube_list_all(struct kube_client *client, const struct kube_resource *res, const char *ns,
		  const struct kube_list_opts *opts, json_t **items, char *resource_version,
		  size_t rvlen, char *err, size_t errlen)
{
	json_t *all = json_array();
	if (!all)
		return errorf(err, errlen, -ENOMEM, "list %s: out of memory", res->plural);
	int ret = kube_list_each(client, res, ns, opts, append_page, all, resource_version, rvlen,
				 err, errlen);
	if (ret)
		json_decref(all);
	else
		*items = all;
	return ret;
}

static const char *namespace_for(const struct kube_resource *res, const char *ns, const json_t *obj)
{
	if (!res->namespaced)
		return NULL;
	return ns ? ns : kube_obj_namespace(obj);
}

int kube_create(struct kube_client *client, const struct kube_resource *res, const char *ns,
		const json_t *obj, json_t **out, char *err, size_t errlen)
{
	char path[KUBE_PATH_MAX];
	ns = namespace_for(res, ns, obj);
	if (res->namespaced && (!ns || !*ns))
		return errorf(err, errlen, -EINVAL, "create %s: no namespace", res->plural);
	int ret = object_path(res, ns, NULL, NULL, path, err, errlen);
	return ret ? ret : kube_request(client, "POST", path, NULL, obj, NULL, out, err, errlen);
}

int kube_update_sub(struct kube_client *client, const struct kube_resource *res, const json_t *obj,
		    const char *sub, json_t **out, char *err, size_t errlen)
{
	char path[KUBE_PATH_MAX];
	const char *name = kube_obj_name(obj);
	const char *ns = namespace_for(res, NULL, obj);
	if (!name || (res->namespaced && !ns))
		return errorf(err, errlen, -EINVAL, "update %s: object has no name or namespace",
			      res->plural);
	int ret = object_path(res, ns, name, sub, path, err, errlen);
	return ret ? ret : kube_request(client, "PUT", path, NULL, obj, NULL, out, err, errlen);
}

int kube_update(struct kube_client *client, const struct kube_resource *res, const json_t *obj,
		json_t **out, char *err, size_t errlen)
{
	return kube_update_sub(client, res, obj, NULL, out, err, errlen);
}

static const char *patch_content_type(enum kube_patch_type type)
{
	switch (type) {
	case KUBE_PATCH_JSON:
		return "application/json-patch+json";
	case KUBE_PATCH_STRATEGIC_MERGE:
		return "application/strategic-merge-patch+json";
	case KUBE_PATCH_MERGE:
	default:
		return "application/merge-patch+json";
	}
}

int kube_patch(struct kube_client *client, const struct kube_resource *res, const char *ns,
	       const char *name, const char *sub, enum kube_patch_type type, const json_t *patch,
	       json_t **out, char *err, size_t errlen)
{
	char path[KUBE_PATH_MAX];
	if (!patch || (type == KUBE_PATCH_JSON ? !json_is_array(patch) : !json_is_object(patch)))
		return errorf(err, errlen, -EINVAL, "patch %s %s: patch has the wrong JSON type",
			      res->plural, name ? name : "");
	int ret = object_path(res, ns, name, sub, path, err, errlen);
	return ret ? ret
		   : kube_request(client, "PATCH", path, NULL, patch, patch_content_type(type), out,
				  err, errlen);
}

/* A meta/v1 DeleteOptions body; NULL when no option is set. */
static json_t *delete_options(const struct kube_delete_opts *opts)
{
	if (!opts)
		return NULL;
	json_t *body = json_pack("{s:s,s:s}", "kind", "DeleteOptions", "apiVersion", "v1");
	json_t *pre = json_object();
	if (opts->precondition_uid)
		json_object_set_new(pre, "uid", json_string(opts->precondition_uid));
	if (opts->precondition_resource_version)
		json_object_set_new(pre, "resourceVersion",
				    json_string(opts->precondition_resource_version));
	if (json_object_size(pre) > 0)
		json_object_set(body, "preconditions", pre);
	json_decref(pre);
	if (opts->propagation_policy)
		json_object_set_new(body, "propagationPolicy",
				    json_string(opts->propagation_policy));
	if (opts->grace_period_seconds)
		json_object_set_new(body, "gracePeriodSeconds",
				    json_integer(*opts->grace_period_seconds));
	return body;
}

int kube_delete(struct kube_client *client, const struct kube_resource *res, const char *ns,
		const char *name, const struct kube_delete_opts *opts, char *err, size_t errlen)
{
	char path[KUBE_PATH_MAX];
	int ret = object_path(res, ns, name, NULL, path, err, errlen);
	if (ret)
		return ret;
	json_t *body = delete_options(opts);
	if (opts && !body)
		return errorf(err, errlen, -ENOMEM, "delete %s %s: out of memory", res->plural,
			      name);
	ret = kube_request(client, "DELETE", path, NULL, body, NULL, NULL, err, errlen);
	json_decref(body);
	return ret;
}

int kube_set_scale(struct kube_client *client, const struct kube_resource *res, const char *ns,
		   const char *name, long replicas, char *err, size_t errlen)
{
	json_t *scale = NULL;
	int ret = kube_get_sub(client, res, ns, name, "scale", &scale, err, errlen);
	if (ret)
		return ret;
	json_t *spec = json_object_get(scale, "spec");
	if (!json_is_object(spec)) {
		spec = json_object();
		json_object_set_new(scale, "spec", spec);
	}
	json_object_set_new(spec, "replicas", json_integer(replicas));
	/* The Scale object's metadata carries the name, namespace and resourceVersion. */
	ret = kube_update_sub(client, res, scale, "scale", NULL, err, errlen);
	json_decref(scale);
	return ret;
}
