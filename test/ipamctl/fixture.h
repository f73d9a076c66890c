/* Shared fixture of the ipamctl integration tests: one test API server (test/apiserver) with
 * the CRDs of deploy/crd, a client for it, object helpers and polling. */
#ifndef COIL_TEST_IPAMCTL_FIXTURE_H
#define COIL_TEST_IPAMCTL_FIXTURE_H

#include <check.h>
#include <jansson.h>
#include <stdbool.h>

#include "apiserver.h"
#include "kube/kube.h"

/* The server and clients every case uses (started once per test binary): ipt_client is the
 * administrator that sets up and checks, ipt_ctl_client carries the coil-ipam-controller
 * ServiceAccount's token (deploy/'s RBAC applies to it) and is the one the code under test
 * gets. */
extern struct apiserver ipt_server;
extern struct kube_client *ipt_client;
extern struct kube_client *ipt_ctl_client;

void ipt_start(void);
void ipt_stop(void);
/* Deletes every BlockRequest, AddressBlock, AddressPool and Node (finalizers removed first). */
void ipt_cleanup(void);

/* Creates an object from JSON text (printf-style); returns the stored object (caller frees). */
json_t *ipt_create(const struct kube_resource *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Pool `name` with blockSizeBits and subnets (a JSON array text); finalizer optional. */
json_t *ipt_create_pool(const char *name, int bits, const char *subnets, bool finalizer);
void ipt_create_node(const char *name);
/* A BlockRequest as coild creates it (without the Node owner reference). */
json_t *ipt_create_request(const char *name, const char *node, const char *pool);
/* GET; NULL when absent. */
json_t *ipt_get(const struct kube_resource *res, const char *name);
/* Removes all finalizers of an object (if it exists) and deletes it; waits until gone. */
void ipt_remove(const struct kube_resource *res, const char *name);
/* Number of objects of a resource (optionally with a label selector). */
int ipt_count(const struct kube_resource *res, const char *selector);

/* Polls cond every 20 ms up to ms; true when it became true. */
#define IPT_EVENTUALLY(cond, ms)                                                                   \
	({                                                                                         \
		long ipt_start_ms_ = test_now_ms();                                                \
		bool ipt_ok_ = false;                                                              \
		while (!(ipt_ok_ = (cond)) && test_now_ms() - ipt_start_ms_ < (ms))                \
			test_sleep_ms(20);                                                         \
		ipt_ok_;                                                                           \
	})

/* True when cond holds at every poll for ms. */
#define IPT_CONSISTENTLY(cond, ms)                                                                 \
	({                                                                                         \
		long ipt_start_ms_ = test_now_ms();                                                \
		bool ipt_ok_ = true;                                                               \
		while ((ipt_ok_ = (cond)) && test_now_ms() - ipt_start_ms_ < (ms))                 \
			test_sleep_ms(50);                                                         \
		ipt_ok_;                                                                           \
	})

/* The value of a series in rendered metrics text, or -1 when absent. */
double ipt_metric(const char *text, const char *name, const char *pool);

#endif
