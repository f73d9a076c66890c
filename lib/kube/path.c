/* Request paths and query strings: /api/v1 for the core group, /apis/<group>/<version> for the
 * others, /namespaces/<ns> for namespaced resources, then plural, name and subresource. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct kube_resource KUBE_RES_NAMESPACES = {"", "v1", "namespaces", "Namespace", false};
const struct kube_resource KUBE_RES_NODES = {"", "v1", "nodes", "Node", false};
const struct kube_resource KUBE_RES_PODS = {"", "v1", "pods", "Pod", true};
const struct kube_resource KUBE_RES_SERVICES = {"", "v1", "services", "Service", true};
const struct kube_resource KUBE_RES_CONFIGMAPS = {"", "v1", "configmaps", "ConfigMap", true};
const struct kube_resource KUBE_RES_SECRETS = {"", "v1", "secrets", "Secret", true};
const struct kube_resource KUBE_RES_LEASES = {"coordination.k8s.io", "v1", "leases", "Lease", true};
const struct kube_resource KUBE_RES_EVENTS = {"events.k8s.io", "v1", "events", "Event", true};
const struct kube_resource KUBE_RES_DEPLOYMENTS = {"apps", "v1", "deployments", "Deployment", true};
const struct kube_resource KUBE_RES_DAEMONSETS = {"apps", "v1", "daemonsets", "DaemonSet", true};
const struct kube_resource KUBE_RES_SERVICEACCOUNTS = {"", "v1", "serviceaccounts",
						       "ServiceAccount", true};
const struct kube_resource KUBE_RES_CLUSTERROLES = {"rbac.authorization.k8s.io", "v1",
						    "clusterroles", "ClusterRole", false};
const struct kube_resource KUBE_RES_CLUSTERROLEBINDINGS = {
    "rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", false};

static bool is_unreserved(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '-' || ch == '.' || ch == '_' || ch == '~';
}

/* Appends escaped text at buf+*pos; false when it does not fit. */
static bool append_escaped(char *buf, size_t len, size_t *pos, const char *text)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		size_t need = is_unreserved(*p) ? 1 : 3;
		if (*pos + need >= len)
			return false;
		if (need == 1) {
			buf[(*pos)++] = (char)*p;
		} else {
			buf[(*pos)++] = '%';
			buf[(*pos)++] = hex[*p >> 4];
			buf[(*pos)++] = hex[*p & 15];
		}
	}
	buf[*pos] = '\0';
	return true;
}

static bool append_raw(char *buf, size_t len, size_t *pos, const char *text)
{
	size_t n = strlen(text);
	if (*pos + n >= len)
		return false;
	memcpy(buf + *pos, text, n + 1);
	*pos += n;
	return true;
}

/* A path segment must not be empty, "." or "..": the server would resolve it. */
static bool valid_segment(const char *s)
{
	return s && *s && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

static bool append_segment(char *buf, size_t len, size_t *pos, const char *seg)
{
	return append_raw(buf, len, pos, "/") && append_escaped(buf, len, pos, seg);
}

int kube_path(const struct kube_resource *res, const char *ns, const char *name,
	      const char *subresource, char *buf, size_t len)
{
	size_t pos = 0;
	bool ok;
	if (len == 0 || !res || !valid_segment(res->version) || !valid_segment(res->plural))
		return -EINVAL;
	if ((name && !valid_segment(name)) ||
	    (subresource && (!name || !valid_segment(subresource))))
		return -EINVAL;
	buf[0] = '\0';
	if (res->group && *res->group)
		ok = append_raw(buf, len, &pos, "/apis") &&
		     append_segment(buf, len, &pos, res->group);
	else
		ok = append_raw(buf, len, &pos, "/api");
	ok = ok && append_segment(buf, len, &pos, res->version);
	if (ok && res->namespaced && ns && *ns) {
		if (!valid_segment(ns))
			return -EINVAL;
		ok =
		    append_raw(buf, len, &pos, "/namespaces") && append_segment(buf, len, &pos, ns);
	}
	ok = ok && append_segment(buf, len, &pos, res->plural);
	if (ok && name)
		ok = append_segment(buf, len, &pos, name);
	if (ok && subresource)
		ok = append_segment(buf, len, &pos, subresource);
	return ok ? 0 : -ENAMETOOLONG;
}

char *kube_query_escape(const char *text)
{
	size_t len = strlen(text) * 3 + 1, pos = 0;
	char *out = malloc(len);
	if (out && !append_escaped(out, len, &pos, text)) {
		free(out);
		return NULL;
	}
	if (out)
		out[pos] = '\0';
	return out;
}

int kube_query_add(char **query, const char *key, const char *value)
{
	char *escaped = kube_query_escape(value);
	if (!escaped)
		return -ENOMEM;
	const char *old = *query ? *query : "";
	char *joined;
	int n = asprintf(&joined, "%s%s%s=%s", old, *old ? "&" : "", key, escaped);
	free(escaped);
	if (n < 0)
		return -ENOMEM;
	free(*query);
	*query = joined;
	return 0;
}

char *kube_list_query(const struct kube_list_opts *opts)
{
	char *query = strdup("");
	char limit[24];
	if (!query || !opts)
		return query;
	int ret = 0;
	if (opts->label_selector && *opts->label_selector)
		ret = kube_query_add(&query, "labelSelector", opts->label_selector);
	if (!ret && opts->field_selector && *opts->field_selector)
		ret = kube_query_add(&query, "fieldSelector", opts->field_selector);
	if (!ret && opts->limit > 0) {
		snprintf(limit, sizeof(limit), "%ld", opts->limit);
		ret = kube_query_add(&query, "limit", limit);
	}
	if (!ret && opts->continue_token && *opts->continue_token)
		ret = kube_query_add(&query, "continue", opts->continue_token);
	if (!ret && opts->resource_version && *opts->resource_version)
		ret = kube_query_add(&query, "resourceVersion", opts->resource_version);
	if (ret) {
		free(query);
		return NULL;
	}
	return query;
}
