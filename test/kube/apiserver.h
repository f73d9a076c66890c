/* Runs test/apiserver/run (the Python test API server) for integration tests of lib/kube. */
#ifndef COIL_TEST_KUBE_APISERVER_H
#define COIL_TEST_KUBE_APISERVER_H

#include "kube/kube.h"

#include <sys/types.h>

struct apiserver {
	pid_t pid;
	int port;
	char dir[64]; /* scratch directory: port file, log, certificates */
	char url[128];
};

/* Starts the server with extra arguments (NULL-terminated argv tail, may be NULL), waits for
 * its port file, then for GET /version to answer (through a client of cfg_template's TLS and
 * token settings, or plain HTTP if NULL). Aborts the test on failure. */
void apiserver_start(struct apiserver *srv, const char *const *extra,
		     const struct kube_config *cfg_template);
void apiserver_stop(struct apiserver *srv);

/* A client for the server: plain HTTP, fast retries. Caller frees. */
struct kube_client *apiserver_client(const struct apiserver *srv);

/* Puts deploy/rbac into the server (test/apiserver/deploy_rbac.py) and writes the token of each
 * of its ServiceAccounts (coil-ipam-controller, coild, coil-router) to srv->dir/NAME.token.
 * Aborts the test on failure. */
void apiserver_apply_rbac(const struct apiserver *srv);

/* The token of ServiceAccount sa (written by apiserver_apply_rbac) in buf. Read once: the
 * token stays usable after apiserver_stop removed srv->dir (tests of a server gone away). */
const char *apiserver_sa_token(const struct apiserver *srv, const char *sa, char *buf, size_t len);

/* A client like apiserver_client() that carries the token of ServiceAccount sa, so the code
 * under test runs with deploy/'s RBAC. Call apiserver_apply_rbac first. Caller frees. */
struct kube_client *apiserver_sa_client(const struct apiserver *srv, const char *sa);

/* Fails the test if RBAC denied any request since the server started (GET /_test/denials),
 * naming them; nothing to check once the server was stopped. admin: an apiserver_client(). */
void apiserver_assert_no_denials(const struct apiserver *srv, struct kube_client *admin);

/* POSTs a /_test/faults rule given as JSON text; /_test/reset (with data=true: all objects). */
void apiserver_fault(struct kube_client *client, const char *rule_json);
void apiserver_reset(struct kube_client *client, bool data);

/* Runs argv (argv[0] a path) to completion; returns its exit status or -1. */
int run_command(const char *const *argv);

long test_now_ms(void);
void test_sleep_ms(long ms);

#endif
