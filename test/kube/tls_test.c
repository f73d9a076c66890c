#include "suites.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct apiserver srv;
static char tls_dir[] = "/tmp/kube-tls-XXXXXX";
static char cert[128], key[128];

static void make_cert(const char *dir)
{
	snprintf(cert, sizeof(cert), "%s/tls.crt", dir);
	snprintf(key, sizeof(key), "%s/tls.key", dir);
	const char *const argv[] = {"/usr/bin/openssl",
				    "req",
				    "-x509",
				    "-newkey",
				    "rsa:2048",
				    "-nodes",
				    "-keyout",
				    key,
				    "-out",
				    cert,
				    "-days",
				    "1",
				    "-subj",
				    "/CN=127.0.0.1",
				    "-addext",
				    "subjectAltName=IP:127.0.0.1,DNS:localhost",
				    NULL};
	ck_assert_int_eq(run_command(argv), 0);
}

static void start(void)
{
	ck_assert_ptr_nonnull(mkdtemp(tls_dir));
	make_cert(tls_dir);
	struct kube_config probe = {.ca_file = cert, .token = "sekret"};
	apiserver_start(&srv,
			(const char *const[]){"--tls-cert", cert, "--tls-key", key, "--token",
					      "sekret", "--token", "rotated", NULL},
			&probe);
}

static void stop(void)
{
	apiserver_stop(&srv);
	unlink(cert);
	unlink(key);
	rmdir(tls_dir);
}

static int get_namespace(const struct kube_config *cfg, char *err, size_t errlen)
{
	struct kube_client *c = NULL;
	struct kube_client_options opts = {.max_tries = 1};
	int ret = kube_client_new(cfg, &opts, &c, err, errlen);
	if (ret == 0)
		ret = kube_get(c, &KUBE_RES_NAMESPACES, NULL, "default", NULL, err, errlen);
	kube_client_free(c);
	return ret;
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	char *buf = calloc(1, 65536);
	size_t n = fread(buf, 1, 65535, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static char *base64(const char *in)
{
	static const char abc[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t len = strlen(in), o = 0;
	char *out = malloc(len / 3 * 4 + 5);
	const unsigned char *p = (const unsigned char *)in;
	for (size_t i = 0; i < len; i += 3) {
		unsigned v =
		    p[i] << 16 | (i + 1 < len ? p[i + 1] << 8 : 0) | (i + 2 < len ? p[i + 2] : 0);
		out[o++] = abc[v >> 18 & 63];
		out[o++] = abc[v >> 12 & 63];
		out[o++] = i + 1 < len ? abc[v >> 6 & 63] : '=';
		out[o++] = i + 2 < len ? abc[v & 63] : '=';
	}
	out[o] = '\0';
	return out;
}

START_TEST(test_tls_and_tokens)
{
	char err[512];
	struct kube_config cfg = {.server = srv.url, .ca_file = cert, .token = "sekret"};
	ck_assert_msg(get_namespace(&cfg, err, sizeof(err)) == 0, "%s", err);

	cfg.token = "wrong";
	ck_assert_int_eq(get_namespace(&cfg, err, sizeof(err)), -EACCES);
	cfg.token = NULL;
	ck_assert_int_eq(get_namespace(&cfg, err, sizeof(err)), -EACCES);

	/* Verification is on: without our CA the server's certificate is refused. */
	struct kube_config no_ca = {.server = srv.url, .token = "sekret"};
	ck_assert_int_eq(get_namespace(&no_ca, err, sizeof(err)), -EPROTO);
	no_ca.insecure_skip_tls_verify = true;
	ck_assert_int_eq(get_namespace(&no_ca, err, sizeof(err)), 0);

	char *pem = read_all(cert);
	struct kube_config inline_ca = {.server = srv.url, .ca_pem = pem, .token = "sekret"};
	ck_assert_int_eq(get_namespace(&inline_ca, err, sizeof(err)), 0);
	free(pem);
}
END_TEST

START_TEST(test_kubeconfig_against_tls)
{
	char path[256], err[512];
	char *pem = read_all(cert), *b64 = base64(pem);
	snprintf(path, sizeof(path), "%s/kubeconfig", srv.dir);
	FILE *f = fopen(path, "w");
	fprintf(f,
		"apiVersion: v1\nkind: Config\ncurrent-context: t\n"
		"contexts:\n- name: t\n  context: {cluster: c, user: u, namespace: kube-system}\n"
		"clusters:\n- name: c\n  cluster:\n    server: %s\n"
		"    certificate-authority-data: %s\n"
		"users:\n- name: u\n  user:\n    token: sekret\n",
		srv.url, b64);
	fclose(f);
	struct kube_config *cfg = NULL;
	ck_assert_msg(kube_config_load(path, "/nonexistent", &cfg, err, sizeof(err)) == 0, "%s",
		      err);
	ck_assert_str_eq(cfg->namespace, "kube-system");
	ck_assert_msg(get_namespace(cfg, err, sizeof(err)) == 0, "%s", err);
	kube_config_free(cfg);
	unlink(path);
	free(b64);
	free(pem);
}
END_TEST

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[256], tmp[300];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	fputs(text, f);
	fclose(f);
	ck_assert_int_eq(rename(tmp, path), 0);
}

START_TEST(test_in_cluster_token_rotation)
{
	char sa[256], port[16], err[512];
	snprintf(sa, sizeof(sa), "%s/sa", srv.dir);
	ck_assert_int_eq(mkdir(sa, 0700), 0);
	char *pem = read_all(cert);
	write_file(sa, "ca.crt", pem);
	free(pem);
	write_file(sa, "token", "sekret\n");
	write_file(sa, "namespace", "coil-ns\n");
	snprintf(port, sizeof(port), "%d", srv.port);
	setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", port, 1);
	struct kube_config *cfg = NULL;
	ck_assert_msg(kube_config_in_cluster(sa, &cfg, err, sizeof(err)) == 0, "%s", err);
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	struct kube_client *c = NULL;
	struct kube_client_options opts = {.max_tries = 1};
	ck_assert_int_eq(kube_client_new(cfg, &opts, &c, err, sizeof(err)), 0);
	ck_assert_str_eq(kube_client_namespace(c), "coil-ns");
	ck_assert_msg(kube_get(c, &KUBE_RES_NAMESPACES, NULL, "default", NULL, err, sizeof(err)) ==
			  0,
		      "%s", err);
	write_file(sa, "token", "rotated\n");
	ck_assert_int_eq(kube_get(c, &KUBE_RES_NAMESPACES, NULL, "default", NULL, err, sizeof(err)),
			 0);
	write_file(sa, "token", "revoked\n");
	ck_assert_int_eq(kube_get(c, &KUBE_RES_NAMESPACES, NULL, "default", NULL, err, sizeof(err)),
			 -EACCES);
	kube_client_free(c);
	kube_config_free(cfg);
	const char *const rm[] = {"/bin/rm", "-rf", sa, NULL};
	run_command(rm);
}
END_TEST

Suite *tls_suite(void)
{
	Suite *s = suite_create("tls");
	TCase *tc = tcase_create("tls");
	tcase_add_unchecked_fixture(tc, start, stop);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_tls_and_tokens);
	tcase_add_test(tc, test_kubeconfig_against_tls);
	tcase_add_test(tc, test_in_cluster_token_rotation);
	suite_add_tcase(s, tc);
	return s;
}
