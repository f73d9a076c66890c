/* Client configuration: the in-cluster service account, and kubeconfig files. */
#include "internal.h"
#include "base64/base64.h"
#include "fileio/fileio.h"
#include "yamljson/yamljson.h"

#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KUBE_CONFIG_FILE_MAX (4 << 20)

void kube_config_free(struct kube_config *config)
{
	if (!config)
		return;
	free(config->server);
	free(config->ca_file);
	free(config->ca_pem);
	free(config->client_cert_file);
	free(config->client_key_file);
	free(config->client_cert_pem);
	free(config->client_key_pem);
	free(config->token);
	free(config->token_file);
	free(config->namespace);
	free(config);
}

/* Reads a whole (small) file; *out is malloc'd and NUL-terminated. */
static int read_file(const char *path, char **out, size_t *outlen, char *err, size_t errlen)
{
	size_t len = 0;
	int rc = fileio_read_file_at(AT_FDCWD, path, KUBE_CONFIG_FILE_MAX, out, &len);
	if (outlen)
		*outlen = len; /* 0 on failure */
	if (rc == -EFBIG)
		return errorf(err, errlen, rc, "read %s: too large", path);
	if (rc < 0)
		return errorf(err, errlen, rc, "read %s: %s", path, strerror(-rc));
	return 0;
}

/* Cuts trailing whitespace and newlines (token and namespace files end with one). */
static void trim_right(char *s)
{
	size_t n = strlen(s);
	while (n > 0 &&
	       (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
}

static char *join_path(const char *dir, const char *name)
{
	char *out;
	if (!dir || name[0] == '/')
		return strdup(name);
	return asprintf(&out, "%s/%s", dir, name) < 0 ? NULL : out;
}

static struct kube_config *config_new(void)
{
	struct kube_config *config = calloc(1, sizeof(*config));
	if (config && !(config->namespace = strdup("default"))) {
		free(config);
		return NULL;
	}
	return config;
}

static int set_string(char **field, const char *value)
{
	free(*field);
	*field = value ? strdup(value) : NULL;
	return value && !*field ? -ENOMEM : 0;
}

static char *in_cluster_server(const char *host, const char *port)
{
	char *server;
	bool v6 = strchr(host, ':') != NULL;
	if (asprintf(&server, "https://%s%s%s:%s", v6 ? "[" : "", host, v6 ? "]" : "", port) < 0)
		return NULL;
	return server;
}

static int in_cluster_files(struct kube_config *config, const char *dir, char *err, size_t errlen)
{
	char *ns = NULL, *token = NULL;
	config->token_file = join_path(dir, "token");
	config->ca_file = join_path(dir, "ca.crt");
	char *ns_file = join_path(dir, "namespace");
	if (!config->token_file || !config->ca_file || !ns_file) {
		free(ns_file);
		return errorf(err, errlen, -ENOMEM, "in-cluster config: out of memory");
	}
	/* Fail early, like client-go, when the token is unreadable. */
	int ret = read_file(config->token_file, &token, NULL, err, errlen);
	free(token);
	if (ret == 0 && access(config->ca_file, R_OK) != 0) {
		free(config->ca_file);
		config->ca_file = NULL; /* then the system CAs apply */
	}
	if (ret == 0 && read_file(ns_file, &ns, NULL, NULL, 0) == 0) {
		trim_right(ns);
		if (*ns) {
			free(config->namespace);
			config->namespace = ns;
			ns = NULL;
		}
	}
	free(ns);
	free(ns_file);
	return ret;
}

int kube_config_in_cluster(const char *sa_dir, struct kube_config **out, char *err, size_t errlen)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	if (!host || !*host || !port || !*port)
		return errorf(err, errlen, -ENOENT,
			      "in-cluster config: KUBERNETES_SERVICE_HOST/PORT not set");
	struct kube_config *config = config_new();
	if (!config || !(config->server = in_cluster_server(host, port))) {
		kube_config_free(config);
		return errorf(err, errlen, -ENOMEM, "in-cluster config: out of memory");
	}
	int ret = in_cluster_files(config, sa_dir ? sa_dir : KUBE_SERVICEACCOUNT_DIR, err, errlen);
	if (ret) {
		kube_config_free(config);
		return ret;
	}
	*out = config;
	return 0;
}

/* The `field` member of the element of list whose "name" is name, e.g. clusters[].cluster. */
static json_t *find_named(const json_t *root, const char *list, const char *name, const char *field)
{
	size_t i;
	json_t *entry;
	json_array_foreach(json_object_get(root, list), i, entry)
	{
		const char *n = json_string_value(json_object_get(entry, "name"));
		if (n && strcmp(n, name) == 0) {
			json_t *value = json_object_get(entry, field);
			return json_is_object(value) ? value : NULL;
		}
	}
	return NULL;
}

static const char *str_field(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s && *s ? s : NULL;
}

/* A file field (resolved against base_dir) or a base64 *-data field, whichever is set. */
static int pem_field(const json_t *obj, const char *key, const char *base_dir, char **file,
		     char **pem, char *err, size_t errlen)
{
	char data_key[64];
	size_t len;
	snprintf(data_key, sizeof(data_key), "%s-data", key);
	const char *data = str_field(obj, data_key);
	const char *path = str_field(obj, key);
	if (data) {
		if (base64_decode_lenient(data, pem, &len) < 0)
			return errorf(err, errlen, -EINVAL, "kubeconfig: %s is not valid base64",
				      data_key);
		return 0;
	}
	if (path && !(*file = join_path(base_dir, path)))
		return errorf(err, errlen, -ENOMEM, "kubeconfig: out of memory");
	return 0;
}

static bool yaml_true(const json_t *value)
{
	const char *s = json_string_value(value);
	return s && (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "TRUE") == 0);
}

static int apply_cluster(struct kube_config *config, const json_t *cluster, const char *base_dir,
			 char *err, size_t errlen)
{
	const char *server = str_field(cluster, "server");
	if (!server)
		return errorf(err, errlen, -EINVAL, "kubeconfig: cluster has no server");
	size_t scheme = strncmp(server, "https://", 8) == 0  ? 8
			: strncmp(server, "http://", 7) == 0 ? 7
							     : 0;
	if (!scheme || server[scheme] == '\0' || server[scheme] == '/')
		return errorf(err, errlen, -EINVAL,
			      "kubeconfig: server \"%s\" is not an http(s) URL with a host",
			      server);
	if (set_string(&config->server, server) < 0)
		return errorf(err, errlen, -ENOMEM, "kubeconfig: out of memory");
	size_t n = strlen(config->server);
	while (n > scheme && config->server[n - 1] == '/')
		config->server[--n] = '\0';
	config->insecure_skip_tls_verify =
	    yaml_true(json_object_get(cluster, "insecure-skip-tls-verify"));
	return pem_field(cluster, "certificate-authority", base_dir, &config->ca_file,
			 &config->ca_pem, err, errlen);
}

static int apply_user(struct kube_config *config, const json_t *user, const char *base_dir,
		      char *err, size_t errlen)
{
	int ret = pem_field(user, "client-certificate", base_dir, &config->client_cert_file,
			    &config->client_cert_pem, err, errlen);
	if (ret == 0)
		ret = pem_field(user, "client-key", base_dir, &config->client_key_file,
				&config->client_key_pem, err, errlen);
	if (ret)
		return ret;
	const char *token_file = str_field(user, "tokenFile");
	if (set_string(&config->token, str_field(user, "token")) < 0 ||
	    (token_file && !(config->token_file = join_path(base_dir, token_file))))
		return errorf(err, errlen, -ENOMEM, "kubeconfig: out of memory");
	return 0;
}

static int apply_context(struct kube_config *config, const json_t *root, const char *name,
			 const char *base_dir, char *err, size_t errlen)
{
	const json_t *ctx = find_named(root, "contexts", name, "context");
	if (!ctx)
		return errorf(err, errlen, -ENOENT, "kubeconfig: context \"%s\" not found", name);
	const char *cluster_name = str_field(ctx, "cluster");
	const json_t *cluster =
	    cluster_name ? find_named(root, "clusters", cluster_name, "cluster") : NULL;
	if (!cluster)
		return errorf(err, errlen, -ENOENT,
			      "kubeconfig: cluster \"%s\" of context \"%s\" "
			      "not found",
			      cluster_name ? cluster_name : "", name);
	int ret = apply_cluster(config, cluster, base_dir, err, errlen);
	const char *user_name = str_field(ctx, "user");
	if (ret == 0 && user_name) {
		const json_t *user = find_named(root, "users", user_name, "user");
		if (!user)
			return errorf(err, errlen, -ENOENT,
				      "kubeconfig: user \"%s\" of context \"%s\" not found",
				      user_name, name);
		ret = apply_user(config, user, base_dir, err, errlen);
	}
	const char *ns = str_field(ctx, "namespace");
	if (ret == 0 && ns && set_string(&config->namespace, ns) < 0)
		ret = errorf(err, errlen, -ENOMEM, "kubeconfig: out of memory");
	return ret;
}

int kube_config_parse_kubeconfig(const char *text, size_t len, const char *base_dir,
				 const char *context, struct kube_config **out, char *err,
				 size_t errlen)
{
	json_t *root = NULL;
	int ret = yamljson_parse(text, len, 0, &root, err, errlen); /* scalars as text */
	if (ret)
		return ret;
	if (!context)
		context = str_field(root, "current-context");
	struct kube_config *config = config_new();
	if (!config)
		ret = errorf(err, errlen, -ENOMEM, "kubeconfig: out of memory");
	else if (!json_is_object(root))
		ret = errorf(err, errlen, -EINVAL, "kubeconfig: not a mapping");
	else if (!context)
		ret = errorf(err, errlen, -ENOENT, "kubeconfig: no current-context");
	else
		ret = apply_context(config, root, context, base_dir, err, errlen);
	json_decref(root);
	if (ret) {
		kube_config_free(config);
		return ret;
	}
	*out = config;
	return 0;
}

int kube_config_from_file(const char *path, struct kube_config **out, char *err, size_t errlen)
{
	char *text, *copy = strdup(path);
	size_t len;
	if (!copy)
		return -ENOMEM;
	int ret = read_file(path, &text, &len, err, errlen);
	if (ret == 0) {
		ret =
		    kube_config_parse_kubeconfig(text, len, dirname(copy), NULL, out, err, errlen);
		if (ret) {
			/* Prefix the file name without losing the parser's message. */
			char inner[256];
			snprintf(inner, sizeof(inner), "%s", err && errlen ? err : "");
			errorf(err, errlen, ret, "%s: %s", path, inner);
		}
		free(text);
	}
	free(copy);
	return ret;
}

/* The first entry of a colon-separated $KUBECONFIG list (malloc'd) or NULL. */
static char *first_kubeconfig_env(void)
{
	const char *env = getenv("KUBECONFIG");
	if (!env || !*env)
		return NULL;
	size_t n = strcspn(env, ":");
	return n ? strndup(env, n) : NULL;
}

int kube_config_load(const char *kubeconfig_path, const char *sa_dir, struct kube_config **out,
		     char *err, size_t errlen)
{
	if (kubeconfig_path && *kubeconfig_path)
		return kube_config_from_file(kubeconfig_path, out, err, errlen);
	char *env_path = first_kubeconfig_env();
	if (env_path) {
		int ret = kube_config_from_file(env_path, out, err, errlen);
		free(env_path);
		return ret;
	}
	int ret = kube_config_in_cluster(sa_dir, out, err, errlen);
	if (ret != -ENOENT)
		return ret;
	const char *home = getenv("HOME");
	char *home_config;
	if (!home || asprintf(&home_config, "%s/.kube/config", home) < 0)
		return errorf(err, errlen, -ENOENT,
			      "no kubeconfig: not in a cluster and no $HOME/.kube/config");
	if (access(home_config, F_OK) != 0) {
		free(home_config);
		return errorf(err, errlen, -ENOENT,
			      "no kubeconfig: not in a cluster and no $HOME/.kube/config");
	}
	ret = kube_config_from_file(home_config, out, err, errlen);
	free(home_config);
	return ret;
}
