#include "apiserver.h"

#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

long test_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

void test_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0)
		;
}

int run_command(const char *const *argv)
{
	pid_t pid;
	int status;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	int ret = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (ret != 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int read_port(const char *path)
{
	FILE *f = fopen(path, "r");
	int port = 0;
	if (!f)
		return 0;
	if (fscanf(f, "%d", &port) != 1)
		port = 0;
	fclose(f);
	return port;
}

static void spawn_server(struct apiserver *srv, const char *const *extra)
{
	char port_file[128], log_file[128];
	const char *argv[32] = {"/usr/bin/python3", COIL_APISERVER_RUN, "--port",      "0",
				"--address",	    "127.0.0.1",	"--port-file", port_file};
	int n = 8;
	snprintf(port_file, sizeof(port_file), "%s/port", srv->dir);
	snprintf(log_file, sizeof(log_file), "%s/log", srv->dir);
	for (; extra && *extra && n < 31; extra++)
		argv[n++] = *extra;
	argv[n] = NULL;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, log_file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	int ret = posix_spawn(&srv->pid, argv[0], &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	ck_assert_msg(ret == 0, "spawn apiserver: %s", strerror(ret));
	for (long start = test_now_ms(); !(srv->port = read_port(port_file));) {
		int status;
		ck_assert_msg(waitpid(srv->pid, &status, WNOHANG) == 0, "apiserver exited; see %s",
			      log_file);
		ck_assert_msg(test_now_ms() - start < 15000, "apiserver did not start; see %s",
			      log_file);
		test_sleep_ms(20);
	}
}

void apiserver_start(struct apiserver *srv, const char *const *extra,
		     const struct kube_config *cfg_template)
{
	memset(srv, 0, sizeof(*srv));
	snprintf(srv->dir, sizeof(srv->dir), "/tmp/kube-it-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(srv->dir));
	spawn_server(srv, extra);
	bool tls = cfg_template && (cfg_template->ca_file || cfg_template->ca_pem ||
				    cfg_template->insecure_skip_tls_verify);
	snprintf(srv->url, sizeof(srv->url), "%s://127.0.0.1:%d", tls ? "https" : "http",
		 srv->port);
	struct kube_config cfg = cfg_template ? *cfg_template : (struct kube_config){0};
	cfg.server = srv->url;
	struct kube_client *client = NULL;
	char err[512];
	ck_assert_int_eq(kube_client_new(&cfg, NULL, &client, err, sizeof(err)), 0);
	json_t *version = NULL;
	int ret = -1;
	for (long start = test_now_ms(); test_now_ms() - start < 10000; test_sleep_ms(50)) {
		if ((ret = kube_request(client, "GET", "/version", NULL, NULL, NULL, &version, err,
					sizeof(err))) == 0)
			break;
	}
	ck_assert_msg(ret == 0, "apiserver /version: %s", err);
	json_decref(version);
	kube_client_free(client);
}

void apiserver_stop(struct apiserver *srv)
{
	if (srv->pid <= 0)
		return;
	kill(srv->pid, SIGKILL);
	waitpid(srv->pid, NULL, 0);
	srv->pid = 0;
	const char *const rm[] = {"/bin/rm", "-rf", srv->dir, NULL};
	run_command(rm);
}

static struct kube_client *client_with_token(const struct apiserver *srv, char *token)
{
	struct kube_config cfg = {
	    .server = (char *)srv->url, .namespace = "default", .token = token};
	struct kube_client_options opts = {
	    .max_tries = 4, .backoff_base_ms = 20, .backoff_max_ms = 200, .timeout_ms = 10000};
	struct kube_client *client = NULL;
	char err[256];
	ck_assert_int_eq(kube_client_new(&cfg, &opts, &client, err, sizeof(err)), 0);
	return client;
}

struct kube_client *apiserver_client(const struct apiserver *srv)
{
	return client_with_token(srv, NULL);
}

void apiserver_apply_rbac(const struct apiserver *srv)
{
	/* deploy_rbac.py lives beside the server's `run`. */
	char script[512];
	const char *run = COIL_APISERVER_RUN;
	snprintf(script, sizeof(script), "%.*sdeploy_rbac.py", (int)(strlen(run) - strlen("run")),
		 run);
	const char *const argv[] = {"/usr/bin/python3", script, srv->url, srv->dir, NULL};
	ck_assert_msg(run_command(argv) == 0, "%s %s %s failed", script, srv->url, srv->dir);
}

const char *apiserver_sa_token(const struct apiserver *srv, const char *sa, char *buf, size_t len)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s.token", srv->dir, sa);
	FILE *f = fopen(path, "r");
	ck_assert_msg(f, "no token file %s (apiserver_apply_rbac first)", path);
	ck_assert_msg(fgets(buf, (int)len, f), "empty token file %s", path);
	fclose(f);
	buf[strcspn(buf, "\r\n")] = '\0';
	return buf;
}

struct kube_client *apiserver_sa_client(const struct apiserver *srv, const char *sa)
{
	char token[256];
	return client_with_token(srv, (char *)apiserver_sa_token(srv, sa, token, sizeof(token)));
}

static void post_test(struct kube_client *client, const char *path, const char *json_text)
{
	json_t *body = json_loads(json_text, 0, NULL);
	char err[512];
	ck_assert_ptr_nonnull(body);
	int ret = kube_request(client, "POST", path, NULL, body, NULL, NULL, err, sizeof(err));
	ck_assert_msg(ret == 0, "POST %s: %s", path, err);
	json_decref(body);
}

void apiserver_fault(struct kube_client *client, const char *rule_json)
{
	post_test(client, "/_test/faults", rule_json);
}

void apiserver_reset(struct kube_client *client, bool data)
{
	post_test(client, "/_test/reset", data ? "{\"data\":true}" : "{}");
}

void apiserver_assert_no_denials(const struct apiserver *srv, struct kube_client *admin)
{
	if (srv->pid <= 0)
		return;
	json_t *answer = NULL;
	char err[512];
	int ret = kube_request(admin, "GET", "/_test/denials", NULL, NULL, NULL, &answer, err,
			       sizeof(err));
	ck_assert_msg(ret == 0, "GET /_test/denials: %s", err);
	json_t *items = json_object_get(answer, "items");
	char *text = json_dumps(items, JSON_COMPACT);
	bool none = json_array_size(items) == 0;
	json_decref(answer);
	ck_assert_msg(none, "RBAC denied requests of the code under test: %s", text);
	free(text);
}
