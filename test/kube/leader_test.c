#include "suites.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define LEASE_MS 2000
#define RENEW_MS 1500
#define RETRY_MS 300

static struct apiserver srv;
static struct kube_client *client;

static void start(void)
{
	apiserver_start(&srv, NULL, NULL);
	client = apiserver_client(&srv);
}

static void stop(void)
{
	kube_client_free(client);
	apiserver_stop(&srv);
}

static void reset(void)
{
	apiserver_reset(client, true);
}

static struct kube_leader_opts short_lease(const char *identity)
{
	return (struct kube_leader_opts){.ns = "kube-system",
					 .name = "coil-test-leader",
					 .identity = identity,
					 .lease_duration_ms = LEASE_MS,
					 .renew_deadline_ms = RENEW_MS,
					 .retry_period_ms = RETRY_MS};
}

/* ---- fail-over between two processes ---- */

static int report_fd;

static void child_started(void *arg, struct kube_stop *lost)
{
	char line[64];
	int n = snprintf(line, sizeof(line), "%s\n", (const char *)arg);
	if (write(report_fd, line, (size_t)n) != n)
		_exit(3);
}

static pid_t spawn_candidate(const char *identity, int fd)
{
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid > 0)
		return pid;
	report_fd = fd;
	struct kube_client *c = apiserver_client(&srv);
	struct kube_leader_opts opts = short_lease(identity);
	opts.on_started_leading = child_started;
	opts.arg = (void *)identity;
	char err[512];
	int ret = kube_leader_run(c, &opts, NULL, err, sizeof(err));
	kube_client_free(c);
	_exit(ret == -ENOLINK ? 0 : 2);
}

/* Reads one "identity\n" line within timeout_ms into buf; false on timeout. */
static bool read_report(int fd, char *buf, size_t len, long timeout_ms)
{
	size_t n = 0;
	long start = test_now_ms();
	while (n + 1 < len) {
		struct pollfd p = {fd, POLLIN, 0};
		long left = timeout_ms - (test_now_ms() - start);
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return false;
		if (read(fd, buf + n, 1) != 1)
			return false;
		if (buf[n] == '\n') {
			buf[n] = '\0';
			return true;
		}
		n++;
	}
	return false;
}

START_TEST(test_failover_between_processes)
{
	int fds[2];
	ck_assert_int_eq(pipe(fds), 0);
	pid_t a = spawn_candidate("cand-a", fds[1]);
	pid_t b = spawn_candidate("cand-b", fds[1]);
	char first[64], second[64], err[512];
	ck_assert(read_report(fds[0], first, sizeof(first), 10000));
	pid_t leader = strcmp(first, "cand-a") == 0 ? a : b;
	pid_t follower = leader == a ? b : a;

	/* Only one leads while the leader is alive. */
	ck_assert(!read_report(fds[0], second, sizeof(second), LEASE_MS + 500));
	kill(leader, SIGKILL);
	long killed = test_now_ms();
	waitpid(leader, NULL, 0);
	ck_assert(read_report(fds[0], second, sizeof(second), LEASE_MS + 3 * RETRY_MS + 1000));
	long takeover = test_now_ms() - killed;
	ck_assert_str_ne(first, second);
	ck_assert_int_le(takeover, LEASE_MS + 4 * RETRY_MS);

	json_t *lease = NULL;
	ck_assert_int_eq(kube_get(client, &KUBE_RES_LEASES, "kube-system", "coil-test-leader",
				  &lease, err, sizeof(err)),
			 0);
	ck_assert_str_eq(kube_json_string(lease, "spec.holderIdentity"), second);
	ck_assert_int_eq(json_integer_value(kube_json_path(lease, "spec.leaseTransitions")), 1);
	ck_assert_int_eq(json_integer_value(kube_json_path(lease, "spec.leaseDurationSeconds")), 2);
	struct timespec acquired, renewed;
	ck_assert_int_eq(kube_time_parse(kube_json_string(lease, "spec.acquireTime"), &acquired),
			 0);
	ck_assert_int_eq(kube_time_parse(kube_json_string(lease, "spec.renewTime"), &renewed), 0);
	json_decref(lease);
	kill(follower, SIGKILL);
	waitpid(follower, NULL, 0);
	close(fds[0]);
	close(fds[1]);
}
END_TEST

/* ---- losing the lease in-process ---- */

struct leading {
	atomic_int started, stopped;
	struct kube_stop *lost; /* as handed to on_started_leading */
	struct kube_stop *stop;
	struct kube_leader_opts opts;
	int result;
	pthread_t thread;
};

static void on_started(void *arg, struct kube_stop *lost)
{
	struct leading *l = arg;
	l->lost = lost;
	atomic_store(&l->started, 1);
}

static void on_stopped(void *arg)
{
	struct leading *l = arg;
	/* Leader work sees `lost` before this callback runs. */
	atomic_store(&l->stopped, kube_stop_requested(l->lost) ? 1 : -1);
}

static void *leader_main(void *arg)
{
	struct leading *l = arg;
	char err[512];
	l->result = kube_leader_run(client, &l->opts, l->stop, err, sizeof(err));
	return NULL;
}

static void start_leading(struct leading *l, const char *identity, bool release)
{
	l->stop = kube_stop_new();
	l->opts = short_lease(identity);
	l->opts.release_on_cancel = release;
	l->opts.on_started_leading = on_started;
	l->opts.on_stopped_leading = on_stopped;
	l->opts.arg = l;
	pthread_create(&l->thread, NULL, leader_main, l);
	for (long start = test_now_ms(); !atomic_load(&l->started); test_sleep_ms(10))
		ck_assert_int_lt(test_now_ms() - start, 10000);
}

START_TEST(test_losing_the_lease)
{
	struct leading l = {0};
	start_leading(&l, "solo", false);
	apiserver_fault(client, "{\"fail_next\":100000,\"status\":500,\"path_regex\":\"leases\","
				"\"method\":\"PUT\"}");
	long broke = test_now_ms();
	for (; !atomic_load(&l.stopped); test_sleep_ms(10))
		ck_assert_int_lt(test_now_ms() - broke, 10000);
	long lost_after = test_now_ms() - broke;
	pthread_join(l.thread, NULL);
	ck_assert_int_eq(l.result, -ENOLINK);
	ck_assert_int_eq(atomic_load(&l.stopped), 1);
	ck_assert_int_le(lost_after, RENEW_MS + 3 * RETRY_MS + 1500);
	kube_stop_free(l.stop);
	apiserver_reset(client, false);
}
END_TEST

START_TEST(test_release_on_cancel)
{
	struct leading l = {0};
	char err[512];
	start_leading(&l, "polite", true);
	kube_stop_signal(l.stop);
	pthread_join(l.thread, NULL);
	ck_assert_int_eq(l.result, 0);
	ck_assert_int_eq(atomic_load(&l.stopped), 1);
	json_t *lease = NULL;
	ck_assert_int_eq(kube_get(client, &KUBE_RES_LEASES, "kube-system", "coil-test-leader",
				  &lease, err, sizeof(err)),
			 0);
	ck_assert_str_eq(kube_json_string(lease, "spec.holderIdentity"), "");
	json_decref(lease);
	kube_stop_free(l.stop);

	/* The next candidate need not wait for the lease to expire. */
	struct leading next = {0};
	long start = test_now_ms();
	start_leading(&next, "next", false);
	ck_assert_int_lt(test_now_ms() - start, LEASE_MS);
	kube_stop_signal(next.stop);
	pthread_join(next.thread, NULL);
	kube_stop_free(next.stop);
}
END_TEST

Suite *leader_suite(void)
{
	Suite *s = suite_create("leader");
	TCase *tc = tcase_create("leader");
	tcase_add_unchecked_fixture(tc, start, stop);
	tcase_add_checked_fixture(tc, reset, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_failover_between_processes);
	tcase_add_test(tc, test_losing_the_lease);
	tcase_add_test(tc, test_release_on_cancel);
	suite_add_tcase(s, tc);
	return s;
}
