#include "suites.h"

#include "kube/kube.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KC_HEAD                                                                                    \
	"apiVersion: v1\nkind: Config\ncurrent-context: dev\n"                                     \
	"contexts:\n- name: dev\n  context: {cluster: c1, user: u1, namespace: team}\n"            \
	"- name: other\n  context: {cluster: c2, user: u2}\n"

/* "aGVsbG8=" is "hello", "d29ybGQ=" "world", "a2V5" "key". */
static const struct {
	const char *name, *text, *context;
	int ret;
	const char *server, *ns, *ca_file, *ca_pem, *cert_file, *cert_pem, *key_file, *key_pem,
	    *token, *token_file;
	bool insecure;
} kubeconfig_cases[] = {
    {"files relative to the kubeconfig dir",
     KC_HEAD "clusters:\n- name: c1\n  cluster:\n    server: https://10.0.0.1:6443/\n"
	     "    certificate-authority: ca.crt\n"
	     "users:\n- name: u1\n  user:\n    client-certificate: /abs/cert.pem\n"
	     "    client-key: key.pem\n    token: abc\n",
     NULL, 0, "https://10.0.0.1:6443", "team", "/base/ca.crt", NULL, "/abs/cert.pem", NULL,
     "/base/key.pem", NULL, "abc", NULL, false},
    {"inline data",
     KC_HEAD "clusters:\n- name: c1\n  cluster:\n    server: https://k8s\n"
	     "    certificate-authority-data: aGVsbG8=\n"
	     "users:\n- name: u1\n  user:\n    client-certificate-data: |\n      d29y\n      bGQ=\n"
	     "    client-key-data: a2V5\n    tokenFile: tok\n",
     NULL, 0, "https://k8s", "team", NULL, "hello", NULL, "world", NULL, "key", NULL, "/base/tok",
     false},
    {"data wins over file",
     KC_HEAD "clusters:\n- name: c1\n  cluster:\n    server: https://k8s\n"
	     "    certificate-authority: ca.crt\n    certificate-authority-data: aGVsbG8=\n"
	     "users:\n- name: u1\n  user: {}\n",
     NULL, 0, "https://k8s", "team", NULL, "hello", NULL, NULL, NULL, NULL, NULL, NULL, false},
    {"explicit context, insecure, default namespace",
     KC_HEAD "clusters:\n- name: c2\n  cluster:\n    server: http://127.0.0.1:8080\n"
	     "    insecure-skip-tls-verify: true\n"
	     "users:\n- name: u2\n  user:\n    token: t2\n",
     "other", 0, "http://127.0.0.1:8080", "default", NULL, NULL, NULL, NULL, NULL, NULL, "t2", NULL,
     true},
    {"JSON kubeconfig",
     "{\"current-context\":\"x\",\"contexts\":[{\"name\":\"x\",\"context\":{\"cluster\":\"c\"}}],"
     "\"clusters\":[{\"name\":\"c\",\"cluster\":{\"server\":\"https://j:443\"}}]}",
     NULL, 0, "https://j:443", "default", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, false},
    {"no current context", "apiVersion: v1\nclusters: []\n", NULL, -ENOENT, .server = NULL},
    {"empty file", "", NULL, -ENOENT, .server = NULL},
    {"missing context", KC_HEAD "clusters: []\n", "nope", -ENOENT, .server = NULL},
    {"missing cluster", KC_HEAD "clusters: []\n", NULL, -ENOENT, .server = NULL},
    {"missing user",
     KC_HEAD "clusters:\n- name: c1\n  cluster:\n    server: https://k8s\nusers: []\n", NULL,
     -ENOENT, .server = NULL},
    {"no server", KC_HEAD "clusters:\n- name: c1\n  cluster: {}\n", NULL, -EINVAL, .server = NULL},
    {"not a URL", KC_HEAD "clusters:\n- name: c1\n  cluster: {server: k8s:6443}\n", NULL, -EINVAL,
     .server = NULL},
    {"URL without a host", KC_HEAD "clusters:\n- name: c1\n  cluster: {server: 'https://'}\n", NULL,
     -EINVAL, .server = NULL},
    {"URL with an empty host", KC_HEAD "clusters:\n- name: c1\n  cluster: {server: 'http:///x'}\n",
     NULL, -EINVAL, .server = NULL},
    {"bad base64",
     KC_HEAD "clusters:\n- name: c1\n  cluster:\n    server: https://k8s\n"
	     "    certificate-authority-data: '@@@'\n",
     NULL, -EINVAL, .server = NULL},
    {"YAML syntax error", "a: [b\n", NULL, -EINVAL, .server = NULL},
    {"aliases refused", "a: &x {b: c}\nd: *x\ncurrent-context: q\n", NULL, -EINVAL, .server = NULL},
    {"root not a mapping", "- a\n- b\n", NULL, -EINVAL, .server = NULL},
    {"clusters not a list", KC_HEAD "clusters: 7\n", NULL, -ENOENT, .server = NULL},
};

static void check_field(const char *what, const char *got, const char *want)
{
	if (!want)
		ck_assert_msg(got == NULL, "%s: got \"%s\", want NULL", what, got);
	else
		ck_assert_msg(got && strcmp(got, want) == 0, "%s: got \"%s\", want \"%s\"", what,
			      got ? got : "(null)", want);
}

START_TEST(test_kubeconfig_table)
{
	struct kube_config *cfg = NULL;
	char err[256] = "";
	const char *text = kubeconfig_cases[_i].text;
	int ret = kube_config_parse_kubeconfig(
	    text, strlen(text), "/base", kubeconfig_cases[_i].context, &cfg, err, sizeof(err));
	ck_assert_msg(ret == kubeconfig_cases[_i].ret, "%s: ret %d (%s)", kubeconfig_cases[_i].name,
		      ret, err);
	if (ret) {
		ck_assert_msg(err[0] != '\0', "%s: no message", kubeconfig_cases[_i].name);
		return;
	}
	check_field("server", cfg->server, kubeconfig_cases[_i].server);
	check_field("namespace", cfg->namespace, kubeconfig_cases[_i].ns);
	check_field("ca_file", cfg->ca_file, kubeconfig_cases[_i].ca_file);
	check_field("ca_pem", cfg->ca_pem, kubeconfig_cases[_i].ca_pem);
	check_field("cert_file", cfg->client_cert_file, kubeconfig_cases[_i].cert_file);
	check_field("cert_pem", cfg->client_cert_pem, kubeconfig_cases[_i].cert_pem);
	check_field("key_file", cfg->client_key_file, kubeconfig_cases[_i].key_file);
	check_field("key_pem", cfg->client_key_pem, kubeconfig_cases[_i].key_pem);
	check_field("token", cfg->token, kubeconfig_cases[_i].token);
	check_field("token_file", cfg->token_file, kubeconfig_cases[_i].token_file);
	ck_assert_int_eq(cfg->insecure_skip_tls_verify, kubeconfig_cases[_i].insecure);
	kube_config_free(cfg);
}
END_TEST

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void remove_dir(const char *dir, const char *const *names)
{
	char path[512];
	for (; *names; names++) {
		snprintf(path, sizeof(path), "%s/%s", dir, *names);
		unlink(path);
	}
	rmdir(dir);
}

START_TEST(test_in_cluster)
{
	char dir[] = "/tmp/kube-sa-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	write_file(dir, "token", "tok123\n");
	write_file(dir, "ca.crt", "PEM");
	write_file(dir, "namespace", "kube-system\n");
	struct kube_config *cfg = NULL;
	char err[256] = "";

	unsetenv("KUBERNETES_SERVICE_HOST");
	ck_assert_int_eq(kube_config_in_cluster(dir, &cfg, err, sizeof(err)), -ENOENT);

	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	ck_assert_int_eq(kube_config_in_cluster(dir, &cfg, err, sizeof(err)), 0);
	ck_assert_str_eq(cfg->server, "https://10.96.0.1:443");
	ck_assert_str_eq(cfg->namespace, "kube-system");
	ck_assert_ptr_nonnull(strstr(cfg->token_file, "/token"));
	ck_assert_ptr_nonnull(strstr(cfg->ca_file, "/ca.crt"));
	kube_config_free(cfg);

	setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
	unlink(strcat(strcpy(err, dir), "/namespace"));
	ck_assert_int_eq(kube_config_in_cluster(dir, &cfg, err, sizeof(err)), 0);
	ck_assert_str_eq(cfg->server, "https://[fd00::1]:443");
	ck_assert_str_eq(cfg->namespace, "default");
	kube_config_free(cfg);

	/* kube_config_load: in-cluster when no kubeconfig is named. */
	unsetenv("KUBECONFIG");
	ck_assert_int_eq(kube_config_load(NULL, dir, &cfg, err, sizeof(err)), 0);
	ck_assert_str_eq(cfg->server, "https://[fd00::1]:443");
	kube_config_free(cfg);

	/* No token: an error, not a silent anonymous client. */
	unlink(strcat(strcpy(err, dir), "/token"));
	ck_assert_int_eq(kube_config_in_cluster(dir, &cfg, err, sizeof(err)), -ENOENT);
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	remove_dir(dir, (const char *const[]){"token", "ca.crt", "namespace", NULL});
}
END_TEST

START_TEST(test_load_order)
{
	char dir[] = "/tmp/kube-kc-XXXXXX", path[512], list[1100], err[256] = "";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	write_file(
	    dir, "a",
	    "current-context: a\ncontexts: [{name: a, context: {cluster: a}}]\n"
	    "clusters: [{name: a, cluster: {server: 'https://a', certificate-authority: ca}}]\n");
	write_file(dir, "b",
		   "current-context: b\ncontexts: [{name: b, context: {cluster: b}}]\n"
		   "clusters: [{name: b, cluster: {server: 'https://b'}}]\n");
	struct kube_config *cfg = NULL;
	snprintf(path, sizeof(path), "%s/a", dir);
	snprintf(list, sizeof(list), "%s/b:%s/a", dir, dir);
	setenv("KUBECONFIG", list, 1);
	ck_assert_int_eq(kube_config_load(NULL, "/nonexistent", &cfg, err, sizeof(err)), 0);
	ck_assert_str_eq(cfg->server, "https://b"); /* first file of $KUBECONFIG */
	kube_config_free(cfg);
	ck_assert_int_eq(kube_config_load(path, "/nonexistent", &cfg, err, sizeof(err)), 0);
	ck_assert_str_eq(cfg->server, "https://a"); /* the flag wins */
	snprintf(path, sizeof(path), "%s/ca", dir);
	ck_assert_str_eq(cfg->ca_file, path);
	kube_config_free(cfg);

	setenv("HOME", dir, 1); /* no .kube/config there */
	unsetenv("KUBECONFIG");
	unsetenv("KUBERNETES_SERVICE_HOST");
	ck_assert_int_eq(kube_config_load(NULL, "/nonexistent", &cfg, err, sizeof(err)), -ENOENT);
	snprintf(path, sizeof(path), "%s/missing", dir);
	ck_assert_int_eq(kube_config_from_file(path, &cfg, err, sizeof(err)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "missing"));
	remove_dir(dir, (const char *const[]){"a", "b", NULL});
}
END_TEST

Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");
	tcase_add_loop_test(tc, test_kubeconfig_table, 0, N(kubeconfig_cases));
	tcase_add_test(tc, test_in_cluster);
	tcase_add_test(tc, test_load_order);
	suite_add_tcase(s, tc);
	return s;
}
